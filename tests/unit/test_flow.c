/* test_flow.c: unit tests for src/flow.c, flows as coroutines in the
 * script VM.
 *
 * Each test makes its own content directory (lua/flows/NAME.lua and
 * lua/locale/LANG.lua) and a script VM on a one-line pipeline.lua, then opens
 * a flow host on it and drives runs with flow_start / flow_answer /
 * flow_reply / flow_recover, checking every outcome. The only backend is
 * "api" = http://127.0.0.1:9/base; nothing is ever sent (flow.c only says
 * which call it wants), so backend replies are made up by the tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "diag.h"
#include "flow.h"
#include "flowlog.h"
#include "log.h"
#include "script.h"
#include "wire.h"

#define BASE "http://127.0.0.1:9/base"

/* The script VM is much larger than a flow's allowance per step, so the
 * memory test hits the flow's limit, not the VM's. */
static const struct script_limits LIMITS = {.instructions = 1000000,
					    .memory_bytes = 64u << 20};

struct harness {
	char dir[64];
	script *sc;
	struct config cfg;
	logger lg;
	struct diag d;
	flowhost *fh;
};

/* ------------------------------------------------------------ files */

static const char en_catalog[] =
	"-- the English texts of the test flows\n"
	"return {\n"
	"  [\"flow.timeout\"] = \"You took too long.\",\n"
	"  [\"flow.error\"] = \"Something went wrong.\",\n"
	"  [\"flow.handoff\"] = \"A person will take over.\",\n"
	"  [\"flow.busy\"] = \"Still working on it.\",\n"
	"  [\"flow.invalid\"] = \"Sorry, I did not get that.\",\n"
	"  [\"ask.email\"] = \"What is your e-mail address?\",\n"
	"  [\"bad.email\"] = \"That does not look like an e-mail address.\",\n"
	"  [\"done.sent\"] = \"Sent to %s, ticket #%d.\",\n"
	"  [\"greet\"] = \"Hello %s, you have %d new messages.\",\n"
	"  [\"only.en\"] = \"English only\",\n"
	"}\n";

static const char pt_catalog[] =
	"return {\n"
	"  [\"flow.timeout\"] = \"Demorou demasiado.\",\n"
	"  [\"greet\"] = \"Ol\xc3\xa1 %s, tem %d mensagens novas.\",\n"
	"}\n";

/* Writes text to dir/rel, making the directories on the way. */
static void put(struct harness *h, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", h->dir, rel);
	for (char *p = path + strlen(h->dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* The path of dir/rel, for comparing with messages. */
static const char *path_of(struct harness *h, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", h->dir, rel);
	return buf;
}

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	char err[1024], path[128];
	FILE *f;

	if (!h)
		return -1;
	snprintf(h->dir, sizeof(h->dir), "/tmp/sd-flow-XXXXXX");
	if (!mkdtemp(h->dir)) {
		free(h);
		return -1;
	}
	/* flow errors are logged at error level: keep the test output quiet */
	h->lg.level = (enum log_level)(LOG_ERROR + 1);
	diag_init(&h->d);
	snprintf(path, sizeof(path), "%s/pipeline.lua", h->dir);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	fputs("function on_message() end\n", f);
	fclose(f);
	h->sc = script_open(path, &LIMITS, &h->lg, err, sizeof(err));
	if (!h->sc) {
		fprintf(stderr, "script_open: %s\n", err);
		return -1;
	}
	config_defaults(&h->cfg);
	snprintf(h->cfg.flows.backends[0].name, CONFIG_NAME_MAX, "api");
	snprintf(h->cfg.flows.backends[0].value, CONFIG_VALUE_MAX, BASE);
	h->cfg.flows.n_backends = 1;
	*state = h;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct harness *h = *state;
	flowhost_close(h->fh);
	script_close(h->sc);
	diag_clear(&h->d);
	nftw(h->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(h);
	return 0;
}

static void print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  diag: %s\n", d->v[i]);
}

/* Opens the host on the content written so far; it must have no problem. */
static flowhost *open_host(struct harness *h)
{
	diag_clear(&h->d);
	h->fh = flowhost_open(h->sc, h->dir, &h->cfg, &h->lg, &h->d);
	if (!h->fh || h->d.n) {
		print_diag(&h->d);
		fail_msg("flowhost_open failed with %zu problems", h->d.n);
	}
	return h->fh;
}

/* Writes the English catalog and the given flows ("name", "source", ...,
 * NULL) and opens the host. */
static flowhost *host_with(struct harness *h, ...)
{
	va_list ap;
	const char *name;
	char rel[128];

	put(h, "lua/locale/en.lua", en_catalog);
	va_start(ap, h);
	while ((name = va_arg(ap, const char *))) {
		const char *src = va_arg(ap, const char *);
		snprintf(rel, sizeof(rel), "lua/flows/%s.lua", name);
		put(h, rel, src);
	}
	va_end(ap);
	return open_host(h);
}

/* Expects flowhost_open to refuse the content; leaves the problems in h->d. */
static void open_refused(struct harness *h)
{
	diag_clear(&h->d);
	flowhost *fh = flowhost_open(h->sc, h->dir, &h->cfg, &h->lg, &h->d);
	if (fh) {
		flowhost_close(fh);
		fail_msg("flowhost_open accepted the content");
	}
	assert_true(h->d.n > 0);
}

/* Fails unless one problem line starts with prefix and contains needle. */
static void expect_diag(const struct diag *d, const char *prefix, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strncmp(d->v[i], prefix, strlen(prefix)) && strstr(d->v[i], needle))
			return;
	print_diag(d);
	fail_msg("no problem starting \"%s\" and containing \"%s\"", prefix, needle);
}

/* ------------------------------------------------------------ outcomes */

static const char *status_name(enum flow_status s)
{
	switch (s) {
	case FLOW_WAIT_ANSWER: return "WAIT_ANSWER";
	case FLOW_WAIT_HTTP: return "WAIT_HTTP";
	case FLOW_DONE: return "DONE";
	case FLOW_HANDOFF: return "HANDOFF";
	case FLOW_FAILED: return "FAILED";
	}
	return "?";
}

static void print_outcome(const struct flow_outcome *o)
{
	print_message("  status %s, %zu replies\n", status_name(o->status), o->n);
	for (size_t i = 0; i < o->n; i++)
		print_message("  reply %zu: %s\n", i, o->replies[i].text);
	if (o->reason)
		print_message("  reason: %s\n", o->reason);
}

static void expect_status(const struct flow_outcome *o, enum flow_status want)
{
	if (o->status != want) {
		print_outcome(o);
		fail_msg("status %s, want %s", status_name(o->status), status_name(want));
	}
}

/* Expects exactly these reply texts (n of them, then the texts). */
static void expect_replies(const struct flow_outcome *o, size_t n, ...)
{
	va_list ap;

	if (o->n != n) {
		print_outcome(o);
		fail_msg("%zu replies, want %zu", o->n, n);
	}
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);
		if (strcmp(o->replies[i].text, want)) {
			print_outcome(o);
			va_end(ap);
			fail_msg("reply %zu is \"%s\", want \"%s\"", i, o->replies[i].text, want);
		}
	}
	va_end(ap);
}

/* Expects FLOW_FAILED with needle in the reason, and nothing said. */
static void expect_failed(const struct flow_outcome *o, const char *needle)
{
	expect_status(o, FLOW_FAILED);
	assert_non_null(o->reason);
	if (!strstr(o->reason, needle)) {
		print_outcome(o);
		fail_msg("reason \"%s\" does not mention \"%s\"", o->reason, needle);
	}
	assert_int_equal(o->n, 0);
	assert_non_null(o->team);
}

/* Expects o->slots to be a JSON object whose member key is the string want
 * (want NULL: the member is absent). */
static void expect_slot(const struct flow_outcome *o, const char *key, const char *want)
{
	json_error_t e;
	json_t *j;

	assert_non_null(o->slots);
	j = json_loads(o->slots, 0, &e);
	if (!j)
		fail_msg("slots are not JSON: %s (%s)", o->slots, e.text);
	assert_true(json_is_object(j));
	json_t *v = json_object_get(j, key);
	if (!want)
		assert_null(v);
	else {
		if (!json_is_string(v))
			fail_msg("slots %s: %s is not a string", o->slots, key);
		assert_string_equal(json_string_value(v), want);
	}
	json_decref(j);
}

static const struct flow_conv CONV = {"c_0123456789abcdef01234567", "Ana"};

static struct backend_result reply_of(int status, const char *body)
{
	struct backend_result r = {.status = status};
	r.body = (char *)body;
	r.body_len = body ? strlen(body) : 0;
	return r;
}

/* ------------------------------------------------------------ flows */

static const char happy_flow[] =
	"-- asks for an e-mail address, posts it, says what the backend answered\n"
	"return function()\n"
	"  local email = ask(t(\"ask.email\"), {\n"
	"    validate = \"email\", invalid = t(\"bad.email\"), retries = 2 })\n"
	"  if not email then\n"
	"    return handoff { team = \"accounts\", reason = \"no e-mail\" }\n"
	"  end\n"
	"  slots.email = email\n"
	"  local res = http.post(backend.api .. \"/reset\", { email = email, lang = lang })\n"
	"  if not res.ok then\n"
	"    say(\"failed: \" .. tostring(res.error))\n"
	"    return handoff { reason = res.error }\n"
	"  end\n"
	"  slots.ticket = tostring(res.json.ticket)\n"
	"  say(t(\"done.sent\", res.json.to, res.json.ticket))\n"
	"end\n";

static const char replay_flow[] =
	"return function()\n"
	"  local name = ask(\"Your name?\")\n"
	"  say(\"Hi \" .. name .. \".\")\n"
	"  local res = http.get(backend.api .. \"/users/\" .. name)\n"
	"  say(\"Plan: \" .. tostring(res.json and res.json.plan) .. \" (\" .. res.status .. \")\")\n"
	"  local more = ask(\"Anything else?\")\n"
	"  slots.more = more\n"
	"  say(\"Bye \" .. name .. \", noted: \" .. more)\n"
	"end\n";

static const char status_flow[] =
	"return function()\n"
	"  local res = http.get(backend.api .. \"/status\")\n"
	"  if not res.ok then\n"
	"    say(\"Error \" .. res.status .. \": \" .. tostring(res.error))\n"
	"    return handoff { team = \"ops\", reason = res.error }\n"
	"  end\n"
	"  say(\"OK \" .. res.body)\n"
	"end\n";

static const char waiter_flow[] =
	"return function()\n"
	"  local a = ask(\"Question?\")\n"
	"  say(\"got \" .. a)\n"
	"end\n";

static const char fetch_flow[] =
	"-- calls the URL it is given; a leading P makes it a POST\n"
	"return function()\n"
	"  local url = ask(\"URL?\")\n"
	"  local res\n"
	"  if url:sub(1, 1) == \"P\" then\n"
	"    res = http.post(url:sub(2), { a = 1 })\n"
	"  else\n"
	"    res = http.get(url)\n"
	"  end\n"
	"  say(\"got \" .. res.status)\n"
	"end\n";

/* ------------------------------------------------------------ 1. happy path */

static void test_happy_path(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(h, "happy", happy_flow, NULL);
	struct flowlog log;
	struct flow_outcome o;
	json_t *body;
	struct backend_result res;

	flowlog_init(&log, "happy", "en", "support");
	flow_start(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	expect_replies(&o, 1, "What is your e-mail address?");
	assert_string_equal(o.replies[0].source, "flow:happy");
	assert_int_equal(o.replies[0].n_choices, 0);
	assert_string_equal(o.slots, "{}");
	assert_null(o.call.url);
	assert_int_equal(log.n, 0);
	assert_int_equal(flow_live(fh), 1);
	flow_outcome_clear(&o);

	/* an invalid answer: asked again with the flow's `invalid` text */
	flow_answer(fh, &CONV, &log, "ana at example dot com", NULL, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	expect_replies(&o, 1, "That does not look like an e-mail address.");
	assert_int_equal(log.n, 1);
	assert_int_equal(log.v[0].kind, FLOWLOG_ANSWER);
	assert_string_equal(log.v[0].text, "ana at example dot com");
	flow_outcome_clear(&o);

	/* a valid one (the validator trims it): the flow calls the backend */
	flow_answer(fh, &CONV, &log, "  ana@example.com \n", NULL, &o);
	expect_status(&o, FLOW_WAIT_HTTP);
	expect_replies(&o, 0);
	assert_string_equal(o.call.method, "POST");
	assert_string_equal(o.call.url, BASE "/reset");
	assert_non_null(o.call.body);
	body = json_loads(o.call.body, 0, NULL);
	assert_non_null(body);
	assert_int_equal(json_object_size(body), 2);
	assert_string_equal(json_string_value(json_object_get(body, "email")), "ana@example.com");
	assert_string_equal(json_string_value(json_object_get(body, "lang")), "en");
	json_decref(body);
	expect_slot(&o, "email", "ana@example.com");
	assert_int_equal(log.n, 3);
	assert_int_equal(flowlog_pending(&log), 1);
	assert_int_equal(flow_live(fh), 1);
	flow_outcome_clear(&o);

	/* the reply: its JSON is res.json */
	res = reply_of(200, "{\"to\":\"ana@example.com\",\"ticket\":42}");
	flow_reply(fh, &CONV, &log, &res, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "Sent to ana@example.com, ticket #42.");
	assert_string_equal(o.replies[0].source, "flow:happy");
	expect_slot(&o, "email", "ana@example.com");
	expect_slot(&o, "ticket", "42");
	assert_null(o.call.url);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.v[2].kind, FLOWLOG_HTTP);
	assert_int_equal(log.v[2].status, 200);
	assert_string_equal(log.v[2].body, "{\"to\":\"ana@example.com\",\"ticket\":42}");
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

static void test_ask_retries_and_errors(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(h, "happy", happy_flow, NULL);
	struct flowlog log;
	struct flow_outcome o;
	struct backend_result res;

	/* three bad answers with retries = 2: ask returns nil, the flow hands off */
	flowlog_init(&log, "happy", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	for (int i = 0; i < 2; i++) {
		flow_answer(fh, &CONV, &log, "nope", NULL, &o);
		expect_status(&o, FLOW_WAIT_ANSWER);
		expect_replies(&o, 1, "That does not look like an e-mail address.");
		flow_outcome_clear(&o);
	}
	flow_answer(fh, &CONV, &log, "still@nope", NULL, &o);
	expect_status(&o, FLOW_HANDOFF);
	expect_replies(&o, 0);
	assert_string_equal(o.team, "accounts");
	assert_string_equal(o.reason, "no e-mail");
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* a backend error status: res.ok is false and res.error says the status;
	 * handoff without a team takes the log's */
	flowlog_init(&log, "happy", "en", "billing");
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "bo@example.org", NULL, &o);
	expect_status(&o, FLOW_WAIT_HTTP);
	flow_outcome_clear(&o);
	res = reply_of(503, "down");
	flow_reply(fh, &CONV, &log, &res, &o);
	expect_status(&o, FLOW_HANDOFF);
	expect_replies(&o, 1, "failed: HTTP 503");
	assert_string_equal(o.team, "billing");
	assert_string_equal(o.reason, "HTTP 503");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* a reply when none is pending is refused */
	flowlog_init(&log, "happy", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	res = reply_of(200, "{}");
	flow_reply(fh, &CONV, &log, &res, &o);
	expect_failed(&o, "nobody waited");
	assert_int_equal(log.n, 0);
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

static void test_ask_choices_and_validators(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(
		h, "pick",
		"return function()\n"
		"  local c = ask(\"Pick one\", { choices = {\n"
		"    { id = \"a\", label = \"Apple\" }, { id = \"b\", label = \"Banana\" } } })\n"
		"  say(\"picked \" .. tostring(c))\n"
		"end\n",
		"even",
		"return function()\n"
		"  local n = ask(\"Even number?\", { retries = 5, validate = function(s)\n"
		"    local v = tonumber(s)\n"
		"    if v and v % 2 == 0 then return v end\n"
		"    return nil, \"Not even: \" .. s\n"
		"  end })\n"
		"  say(\"got \" .. n)\n"
		"end\n",
		"order",
		"return function()\n"
		"  local n = ask(\"Order?\", { validate = \"order_number\", retries = 0 })\n"
		"  say(\"order \" .. tostring(n))\n"
		"end\n",
		"novalidator",
		"return function() ask(\"x\", { validate = \"zip_code\" }) end\n", NULL);
	struct flowlog log;
	struct flow_outcome o;

	/* choices: sent with the prompt, matched by label or by id */
	flowlog_init(&log, "pick", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_replies(&o, 1, "Pick one");
	assert_int_equal(o.replies[0].n_choices, 2);
	assert_string_equal(o.replies[0].choices[0].id, "a");
	assert_string_equal(o.replies[0].choices[0].label, "Apple");
	assert_string_equal(o.replies[0].choices[1].id, "b");
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "cherry", NULL, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	expect_replies(&o, 1, "Sorry, I did not get that."); /* t("flow.invalid") */
	assert_int_equal(o.replies[0].n_choices, 2);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "  BANANA ", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "picked b");
	flow_outcome_clear(&o);
	flowlog_clear(&log);
	flowlog_init(&log, "pick", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "Apple please", "a", &o);
	expect_replies(&o, 1, "picked a");
	assert_string_equal(log.v[0].choice, "a");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* a validator function's second result is the re-ask text */
	flowlog_init(&log, "even", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "3", NULL, &o);
	expect_replies(&o, 1, "Not even: 3");
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "4", NULL, &o);
	expect_replies(&o, 1, "got 4");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* the config's pattern, its first group is the value */
	flowlog_init(&log, "order", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, " # 1002345 ", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "order 1002345");
	flow_outcome_clear(&o);
	flowlog_clear(&log);
	flowlog_init(&log, "order", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "12", NULL, &o); /* retries = 0: nil at once */
	expect_replies(&o, 1, "order nil");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	flowlog_init(&log, "novalidator", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "12345", NULL, &o);
	/* at the flow's own line, not one of the flow API's */
	expect_failed(&o, "novalidator.lua:1: no validator named \"zip_code\"");
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

/* ------------------------------------------------------------ 2. replay */

static void test_replay_after_restart(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(h, "replay", replay_flow, NULL);
	struct flowlog log, back;
	struct flow_outcome o;
	struct backend_result res;
	char err[256];
	char *json;

	flowlog_init(&log, "replay", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	expect_replies(&o, 1, "Your name?");
	flow_outcome_clear(&o);

	/* restart while it waits for the answer: rebuilt, the prompt is not
	 * said again */
	flow_drop(fh, CONV.id);
	assert_int_equal(flow_live(fh), 0);
	flow_answer(fh, &CONV, &log, "ana", NULL, &o);
	expect_status(&o, FLOW_WAIT_HTTP);
	expect_replies(&o, 1, "Hi ana.");
	assert_string_equal(o.call.method, "GET");
	assert_string_equal(o.call.url, BASE "/users/ana");
	assert_null(o.call.body);
	assert_int_equal(log.n, 2);
	assert_int_equal(flow_live(fh), 1);
	flow_outcome_clear(&o);

	/* restart while the call is out: the reply rebuilds it, and only what
	 * follows the reply is said */
	flow_drop(fh, CONV.id);
	res = reply_of(200, "{\"plan\":\"gold\"}");
	flow_reply(fh, &CONV, &log, &res, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	expect_replies(&o, 2, "Plan: gold (200)", "Anything else?");
	assert_int_equal(log.n, 2);
	assert_int_equal(log.v[1].kind, FLOWLOG_HTTP);
	flow_outcome_clear(&o);

	/* restart after the call: the logged reply is handed back, the call is
	 * not made again, nothing said before is said again */
	flow_drop(fh, CONV.id);
	flow_answer(fh, &CONV, &log, "no thanks", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "Bye ana, noted: no thanks");
	assert_null(o.call.url);
	expect_slot(&o, "more", "no thanks");
	assert_int_equal(log.n, 3);
	assert_int_equal(flowlog_pending(&log), 0);
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* the same through the stored form, on a new host (a real restart) */
	flowlog_init(&log, "replay", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "bo", NULL, &o);
	expect_status(&o, FLOW_WAIT_HTTP);
	flow_outcome_clear(&o);
	res = reply_of(200, "{\"plan\":\"free\"}");
	flow_reply(fh, &CONV, &log, &res, &o);
	expect_replies(&o, 2, "Plan: free (200)", "Anything else?");
	flow_outcome_clear(&o);
	json = flowlog_encode(&log);
	flowlog_clear(&log);
	flowhost_close(fh);
	fh = h->fh = open_host(h);
	assert_int_equal(flow_live(fh), 0);
	assert_int_equal(flowlog_decode(json, &back, err, sizeof(err)), 0);
	free(json);
	flow_answer(fh, &CONV, &back, "a refund", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "Bye bo, noted: a refund");
	expect_slot(&o, "more", "a refund");
	assert_int_equal(back.n, 3);
	flow_outcome_clear(&o);
	flowlog_clear(&back);
}

static void test_replay_keeps_other_runs(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(h, "replay", replay_flow, NULL);
	const struct flow_conv a = {"c_a", NULL}, b = {"c_b", "Bo"};
	struct flowlog la, lb;
	struct flow_outcome o;

	flowlog_init(&la, "replay", "en", NULL);
	flowlog_init(&lb, "replay", "en", NULL);
	flow_start(fh, &a, &la, &o);
	flow_outcome_clear(&o);
	flow_start(fh, &b, &lb, &o);
	flow_outcome_clear(&o);
	assert_int_equal(flow_live(fh), 2);
	flow_drop(fh, "c_a");
	flow_drop(fh, "c_nobody"); /* no such run: nothing happens */
	assert_int_equal(flow_live(fh), 1);
	flow_answer(fh, &b, &lb, "bo", NULL, &o);
	expect_status(&o, FLOW_WAIT_HTTP);
	expect_replies(&o, 1, "Hi bo.");
	flow_outcome_clear(&o);
	flow_answer(fh, &a, &la, "al", NULL, &o); /* rebuilt */
	expect_status(&o, FLOW_WAIT_HTTP);
	expect_replies(&o, 1, "Hi al.");
	assert_string_equal(o.call.url, BASE "/users/al");
	assert_int_equal(flow_live(fh), 2);
	flow_outcome_clear(&o);
	/* an answer while a call is out is refused, and ends the run */
	flow_answer(fh, &a, &la, "hello?", NULL, &o);
	expect_failed(&o, "pending");
	assert_int_equal(flow_live(fh), 1);
	flow_outcome_clear(&o);
	flowlog_clear(&la);
	flowlog_clear(&lb);
}

/* ------------------------------------------------------------ 3. recover */

static void test_recover_interrupted_call(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(h, "status", status_flow, NULL);
	struct flowlog log;
	struct flow_outcome o;
	char *json, err[256];

	flowlog_init(&log, "status", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_WAIT_HTTP);
	assert_string_equal(o.call.url, BASE "/status");
	assert_int_equal(flowlog_pending(&log), 1);
	flow_outcome_clear(&o);

	/* the daemon stopped with the call in flight */
	json = flowlog_encode(&log);
	flowlog_clear(&log);
	flow_drop(fh, CONV.id);
	assert_int_equal(flowlog_decode(json, &log, err, sizeof(err)), 0);
	free(json);
	flow_recover(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_HANDOFF);
	assert_int_equal(o.n, 1);
	if (strncmp(o.replies[0].text, "Error 0: interrupted", 20))
		fail_msg("reply: %s", o.replies[0].text);
	assert_string_equal(o.team, "ops");
	assert_non_null(strstr(o.reason, "interrupted"));
	assert_int_equal(log.n, 1);
	assert_int_equal(log.v[0].kind, FLOWLOG_HTTP);
	assert_int_equal(log.v[0].status, 0);
	assert_non_null(strstr(log.v[0].error, "interrupted"));
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);

	/* nothing pending: nothing to recover */
	flow_recover(fh, &CONV, &log, &o);
	expect_failed(&o, "nothing to recover");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* the live run is recovered the same way */
	flowlog_init(&log, "status", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	assert_int_equal(flow_live(fh), 1);
	flow_recover(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_HANDOFF);
	assert_non_null(strstr(o.reason, "interrupted"));
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

static void test_reply_errors_and_success(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(h, "status", status_flow, NULL);
	struct flowlog log;
	struct flow_outcome o;
	struct backend_result res = {.status = 0, .error = "timeout"};

	flowlog_init(&log, "status", "en", "it");
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_reply(fh, &CONV, &log, &res, &o);
	expect_status(&o, FLOW_HANDOFF);
	expect_replies(&o, 1, "Error 0: timeout");
	assert_string_equal(o.reason, "timeout");
	assert_string_equal(log.v[0].error, "timeout");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	flowlog_init(&log, "status", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	res = reply_of(204, "");
	flow_reply(fh, &CONV, &log, &res, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "OK ");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* a body that is not JSON still arrives as res.body */
	flowlog_init(&log, "status", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	res = reply_of(200, "all good <b>really</b>");
	flow_reply(fh, &CONV, &log, &res, &o);
	expect_replies(&o, 1, "OK all good <b>really</b>");
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

/* ------------------------------------------------------------ 4. handoff */

static void test_handoff(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(
		h, "to_accounts",
		"return function()\n"
		"  say(\"Passing you on.\")\n"
		"  handoff { team = \"accounts\", reason = \"x\" }\n"
		"  say(\"never said\")\n"
		"end\n",
		"plain", "return function() handoff() end\n",
		"bad_team", "return function() handoff { team = \"Not A Team!\" } end\n",
		"bad_arg", "return function() handoff(\"accounts\") end\n", NULL);
	struct flowlog log;
	struct flow_outcome o;

	flowlog_init(&log, "to_accounts", "en", "general");
	flow_start(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_HANDOFF);
	expect_replies(&o, 1, "Passing you on.");
	assert_string_equal(o.team, "accounts");
	assert_string_equal(o.reason, "x");
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* no team: the log's */
	flowlog_init(&log, "plain", "en", "billing");
	flow_start(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_HANDOFF);
	expect_replies(&o, 0);
	assert_string_equal(o.team, "billing");
	assert_non_null(o.reason);
	assert_true(strlen(o.reason) > 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* no team anywhere: general */
	flowlog_init(&log, "plain", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_HANDOFF);
	assert_string_equal(o.team, "general");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	flowlog_init(&log, "bad_team", "en", "billing");
	flow_start(fh, &CONV, &log, &o);
	expect_failed(&o, "handoff: team");
	assert_string_equal(o.team, "billing"); /* failures go to the log's team */
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	flowlog_init(&log, "bad_arg", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_failed(&o, "handoff: pass a table");
	assert_string_equal(o.team, "general");
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

/* ------------------------------------------------------------ 5. limits */

/* Starts `name` on its own conversation and expects it to fail with needle. */
static void run_fails(flowhost *fh, const char *name, const char *needle)
{
	const struct flow_conv c = {"c_doomed", NULL};
	struct flowlog log;
	struct flow_outcome o;

	flowlog_init(&log, name, "en", NULL);
	flow_start(fh, &c, &log, &o);
	expect_failed(&o, needle);
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

static void test_limits(void **state)
{
	struct harness *h = *state;
	flowhost *fh;
	const struct flow_conv w1 = {"c_w1", NULL}, w2 = {"c_w2", NULL};
	struct flowlog l1, l2;
	struct flow_outcome o;

	h->cfg.flows.memory_limit_kb = 1024;
	h->cfg.flows.instruction_limit = 200000;
	fh = host_with(h, "waiter", waiter_flow,
		       "spin", "return function() while true do end end\n",
		       "hog", "return function() local s = \"x\" while true do s = s .. s end end\n",
		       "sneaky",
		       "return function()\n"
		       "  for i = 1, 3 do pcall(function() while true do end end) end\n"
		       "  say(\"escaped\")\n"
		       "end\n",
		       "hog_table",
		       "return function()\n"
		       "  local t = {}\n"
		       "  for i = 1, 1e7 do t[i] = { i } end\n"
		       "end\n",
		       "chatty",
		       "return function() for i = 1, 17 do say(\"line \" .. i) end end\n",
		       "sixteen",
		       "return function() for i = 1, 16 do say(\"line \" .. i) end end\n",
		       "bad_slots",
		       "return function() slots.f = function() end end\n",
		       "raises",
		       "return function()\n"
		       "  say(\"before\")\n"
		       "  error(\"boom for ana@example.com\")\n"
		       "end\n",
		       "counted",
		       "return function()\n"
		       "  local x = 0\n"
		       "  for i = 1, 300000 do x = x + i end\n"
		       "  say(\"sum \" .. x)\n"
		       "end\n",
		       "steps",
		       "return function()\n"
		       "  for round = 1, 4 do\n"
		       "    local x = 0\n"
		       "    for i = 1, 60000 do x = x + i end\n"
		       "    ask(\"round \" .. round)\n"
		       "  end\n"
		       "  say(\"done\")\n"
		       "end\n",
		       "grow",
		       "return function()\n"
		       "  local keep = {}\n"
		       "  for round = 1, 4 do\n"
		       "    keep[round] = string.rep(\"y\", 400 * 1024)\n"
		       "    ask(\"round \" .. round)\n"
		       "  end\n"
		       "  if #keep == 4 then say(\"done\") end\n"
		       "end\n",
		       NULL);

	/* two conversations waiting for an answer */
	flowlog_init(&l1, "waiter", "en", NULL);
	flowlog_init(&l2, "waiter", "en", NULL);
	flow_start(fh, &w1, &l1, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	flow_outcome_clear(&o);
	flow_start(fh, &w2, &l2, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	flow_outcome_clear(&o);
	assert_int_equal(flow_live(fh), 2);

	run_fails(fh, "spin", "instruction budget");
	assert_int_equal(flow_live(fh), 2);
	run_fails(fh, "sneaky", "instruction budget"); /* pcall does not catch it */
	run_fails(fh, "hog", "memory");
	run_fails(fh, "hog_table", "memory");
	assert_int_equal(flow_live(fh), 2);
	run_fails(fh, "chatty", "at most 16");
	run_fails(fh, "bad_slots", "slots");
	run_fails(fh, "raises", "boom");
	assert_int_equal(flow_live(fh), 2);

	/* the VM is fine: the waiting runs go on */
	flow_answer(fh, &w1, &l1, "one", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "got one");
	flow_outcome_clear(&o);
	assert_int_equal(flow_live(fh), 1);

	run_fails(fh, "spin", "instruction budget");
	flow_answer(fh, &w2, &l2, "two", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "got two");
	flow_outcome_clear(&o);
	assert_int_equal(flow_live(fh), 0);

	/* the budget is the flows' (200000), not the script VM's (1000000) */
	run_fails(fh, "counted", "instruction budget");
	/* ... and it is per step, rebuilds included; so is the heap allowance */
	for (int rebuild = 0; rebuild < 2; rebuild++) {
		static const char *const flows[] = {"steps", "grow"};
		for (size_t f = 0; f < 2; f++) {
			flowlog_clear(&l1);
			flowlog_init(&l1, flows[f], "en", NULL);
			flow_start(fh, &w1, &l1, &o);
			for (int round = 1; round <= 4; round++) {
				char want[32];
				snprintf(want, sizeof(want), "round %d", round);
				expect_status(&o, FLOW_WAIT_ANSWER);
				expect_replies(&o, 1, want);
				flow_outcome_clear(&o);
				if (rebuild)
					flow_drop(fh, w1.id);
				flow_answer(fh, &w1, &l1, "go", NULL, &o);
			}
			expect_status(&o, FLOW_DONE);
			expect_replies(&o, 1, "done");
			flow_outcome_clear(&o);
		}
	}

	/* the limit on what one step says is exact */
	flowlog_clear(&l1);
	flowlog_init(&l1, "sixteen", "en", NULL);
	flow_start(fh, &w1, &l1, &o);
	expect_status(&o, FLOW_DONE);
	assert_int_equal(o.n, 16);
	assert_string_equal(o.replies[15].text, "line 16");
	flow_outcome_clear(&o);
	flowlog_clear(&l1);
	flowlog_clear(&l2);
}

static void test_error_reason_masks_email(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(h, "raises",
				 "return function()\n"
				 "  error(\"boom for ana@example.com\")\n"
				 "end\n",
				 NULL);
	struct flowlog log;
	struct flow_outcome o;

	flowlog_init(&log, "raises", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_failed(&o, "boom for");
	/* the first line only, with the file and line, e-mail masked */
	assert_non_null(strstr(o.reason, "raises.lua:2:"));
	assert_null(strchr(o.reason, '\n'));
	assert_null(strstr(o.reason, "ana@example.com"));
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

/* ------------------------------------------------------------ 6. allow-list */

static void test_url_allow_list(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(h, "fetch", fetch_flow, NULL);
	static const char *const refused[] = {
		"http://example.com/base/x",        /* other host */
		"http://127.0.0.2:9/base/x",        /* other address */
		"http://127.0.0.1:8080/base/x",     /* other port */
		"http://127.0.0.1/base/x",          /* the default port is another port */
		"https://127.0.0.1:9/base/x",       /* other scheme */
		"ftp://127.0.0.1:9/base/x",
		"http://127.0.0.1:9/base/../admin", /* climbs out */
		"http://127.0.0.1:9/base/x/../../admin",
		"http://127.0.0.1:9/base/%2e%2e/admin",
		"http://127.0.0.1:9/base/%2E%2e/admin",
		"http://127.0.0.1:9/base/a%2fb",
		"http://127.0.0.1:9/base/./x",
		"http://user@127.0.0.1:9/base/x",   /* user info */
		"http://user:pw@127.0.0.1:9/base/x",
		"http://127.0.0.1:9@evil.example/base/x",
		"http://127.0.0.1:9/basement",      /* prefix, not a segment */
		"http://127.0.0.1:9/base2/x",
		"http://127.0.0.1:9/bas",
		"http://127.0.0.1:9/",
		"http://127.0.0.1:9/other/base/x",
		"http://127.0.0.1:9/base/x#frag",
		"http://127.0.0.1:9/base/a b",
		"/base/x",
		"",
		"HTTP://127.0.0.1:9/base/x",        /* schemes are taken in lower case only */
	};
	static const char *const allowed[] = {
		BASE,
		BASE "/",
		BASE "/orders/1002345",
		BASE "?q=1",
		BASE "/a/b?x=../y",
		"http://127.0.0.1:9/base/..x",
	};
	struct flowlog log;
	struct flow_outcome o;
	char post[128];

	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		flowlog_init(&log, "fetch", "en", NULL);
		flow_start(fh, &CONV, &log, &o);
		flow_outcome_clear(&o);
		flow_answer(fh, &CONV, &log, refused[i], NULL, &o);
		if (o.status != FLOW_FAILED || !o.reason || !strstr(o.reason, "not allowed")) {
			print_outcome(&o);
			fail_msg("http.get(\"%s\") was not refused", refused[i]);
		}
		assert_int_equal(o.n, 0);
		assert_null(o.call.url);
		assert_int_equal(flowlog_pending(&log), 0); /* nothing was to be sent */
		assert_int_equal(flow_live(fh), 0);
		flow_outcome_clear(&o);
		flowlog_clear(&log);
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(*allowed); i++) {
		flowlog_init(&log, "fetch", "en", NULL);
		flow_start(fh, &CONV, &log, &o);
		flow_outcome_clear(&o);
		flow_answer(fh, &CONV, &log, allowed[i], NULL, &o);
		expect_status(&o, FLOW_WAIT_HTTP);
		assert_string_equal(o.call.method, "GET");
		assert_string_equal(o.call.url, allowed[i]);
		assert_int_equal(flowlog_pending(&log), 1);
		flow_outcome_clear(&o);
		flowlog_clear(&log);
	}
	/* http.post is checked the same way, before its body */
	snprintf(post, sizeof(post), "P%s", "http://127.0.0.1:9/basement");
	flowlog_init(&log, "fetch", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, post, NULL, &o);
	expect_failed(&o, "http.post");
	assert_non_null(strstr(o.reason, "not allowed"));
	flow_outcome_clear(&o);
	flowlog_clear(&log);
	snprintf(post, sizeof(post), "P%s", BASE "/x");
	flowlog_init(&log, "fetch", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, post, NULL, &o);
	expect_status(&o, FLOW_WAIT_HTTP);
	assert_string_equal(o.call.method, "POST");
	assert_string_equal(o.call.url, BASE "/x");
	assert_string_equal(o.call.body, "{\"a\":1}");
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

static void test_backend_url_allowed(void **state)
{
	struct config_named bases[2];
	struct backend_url u;
	char err[BACKEND_URL_MAX + 300];
	(void)state;

	memset(bases, 0, sizeof(bases));
	snprintf(bases[0].name, CONFIG_NAME_MAX, "api");
	snprintf(bases[0].value, CONFIG_VALUE_MAX, BASE);
	snprintf(bases[1].name, CONFIG_NAME_MAX, "shop");
	snprintf(bases[1].value, CONFIG_VALUE_MAX, "https://Shop.Example.com/v1/");

	static const char *const no[] = {
		"http://example.com/base/x",
		"http://127.0.0.1:8080/base/x",
		"http://127.0.0.1/base/x",
		"https://127.0.0.1:9/base/x",
		"http://127.0.0.1:9/base/../admin",
		"http://127.0.0.1:9/base/%2e%2e/admin",
		"http://127.0.0.1:9/base/%2F",
		"http://user@127.0.0.1:9/base/x",
		"http://user:pw@127.0.0.1:9/base/x",
		"http://127.0.0.1:9/basement",
		"http://127.0.0.1:9/base%2fx",
		"http://shop.example.com/v1/x",      /* the shop base is https */
		"https://shop.example.com/v10",
		"https://shop.example.com/v1/../v2",
		"https://shop.example.com:444/v1/x",
		"https://shop.example.com.evil.org/v1/x",
		"https://shop.example.com/V1/x",     /* paths are case-sensitive */
		"https://shop_example.com/v1/x",
		"https://shop.example.com:0/v1/x",
		"https://shop.example.com:99999/v1/x",
		"https://shop.example.com:/v1/x",
		"https://shop.example.com:443x/v1/x",
		"http://127.0.0.1:9/base/\x7f",
		"http://127.0.0.1:9/base/caf\xc3\xa9",
		"http://127.0.0.1:9/base\\x",
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
		err[0] = '\0';
		if (backend_url_allowed(bases, 2, no[i], &u, err, sizeof(err)) != -1)
			fail_msg("%s was allowed", no[i]);
		if (!strstr(err, "not allowed"))
			fail_msg("%s: reason \"%s\"", no[i], err);
	}
	/* nothing is allowed without bases */
	assert_int_equal(backend_url_allowed(bases, 0, BASE "/x", &u, err, sizeof(err)), -1);

	static const char *const yes[] = {
		BASE,
		BASE "/",
		BASE "/x",
		BASE "?a=b",
		BASE "/a/b/c?d=../e",
		"https://shop.example.com/v1",
		"https://shop.example.com/v1/",
		"https://SHOP.example.com:443/v1/orders",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (backend_url_allowed(bases, 2, yes[i], &u, err, sizeof(err)) != 0)
			fail_msg("%s was refused: %s", yes[i], err);

	/* what the parse says */
	assert_int_equal(backend_url_allowed(bases, 2, BASE "/orders/7?full=1", &u, err,
					     sizeof(err)),
			 0);
	assert_int_equal(u.tls, 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 9);
	assert_string_equal(u.path, "/base/orders/7?full=1");
	assert_int_equal(backend_url_allowed(bases, 2, "https://SHOP.example.com/v1?x", &u, err,
					     sizeof(err)),
			 0);
	assert_int_equal(u.tls, 1);
	assert_string_equal(u.host, "shop.example.com");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/v1?x");

	/* a base at the root allows the whole origin, nothing else */
	snprintf(bases[0].value, CONFIG_VALUE_MAX, "http://127.0.0.1:9");
	assert_int_equal(backend_url_allowed(bases, 1, "http://127.0.0.1:9/anything/at/all", &u,
					     err, sizeof(err)),
			 0);
	assert_int_equal(backend_url_allowed(bases, 1, "http://127.0.0.1:10/x", &u, err,
					     sizeof(err)),
			 -1);
}

/* ------------------------------------------------------------ 7. divergence */

static void test_divergence(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(h, "waiter", waiter_flow,
				 "calls_first",
				 "return function()\n"
				 "  local r = http.get(backend.api .. \"/a\")\n"
				 "  local x = ask(\"q?\")\n"
				 "  say(x .. r.status)\n"
				 "end\n",
				 NULL);
	struct flowlog log;
	struct flow_outcome o;
	struct backend_result res;

	/* the log has an answer where the flow calls the backend */
	flowlog_init(&log, "calls_first", "en", "billing");
	assert_int_equal(flowlog_add_answer(&log, "hello", NULL), 0);
	flow_answer(fh, &CONV, &log, "again", NULL, &o);
	expect_failed(&o, "other inputs");
	assert_string_equal(o.team, "billing");
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* ... and a backend reply where the flow asks */
	flowlog_init(&log, "waiter", "en", NULL);
	assert_int_equal(flowlog_add_pending(&log), 0);
	assert_int_equal(flowlog_resolve(&log, 200, "{}", 2, NULL), 0);
	flow_answer(fh, &CONV, &log, "x", NULL, &o);
	expect_failed(&o, "other inputs");
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* the same found through a reply */
	flowlog_init(&log, "waiter", "en", NULL);
	assert_int_equal(flowlog_add_pending(&log), 0);
	res = reply_of(200, "{}");
	flow_reply(fh, &CONV, &log, &res, &o);
	expect_failed(&o, "other inputs");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* a consistent log of the same flow goes through */
	flowlog_init(&log, "calls_first", "en", NULL);
	assert_int_equal(flowlog_add_pending(&log), 0);
	assert_int_equal(flowlog_resolve(&log, 201, "{}", 2, NULL), 0);
	flow_answer(fh, &CONV, &log, "fine", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "fine201");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* a log of a flow that is gone */
	flowlog_init(&log, "vanished", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_failed(&o, "vanished");
	flow_outcome_clear(&o);
	assert_int_equal(flowlog_add_answer(&log, "x", NULL), 0);
	flow_answer(fh, &CONV, &log, "y", NULL, &o);
	expect_failed(&o, "vanished");
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

/* ------------------------------------------------------------ 8. yields */

static void test_foreign_yields(void **state)
{
	struct harness *h = *state;
	flowhost *fh = host_with(
		h, "waiter", waiter_flow,
		"yields", "return function() coroutine.yield(1) say(\"after\") end\n",
		"yields_late",
		"return function()\n"
		"  local a = ask(\"first?\")\n"
		"  coroutine.yield(a)\n"
		"end\n",
		"inner_ask",
		"return function()\n"
		"  local f = coroutine.wrap(function() return ask(\"inner?\") end)\n"
		"  say(\"got \" .. tostring(f()))\n"
		"end\n",
		"inner_http",
		"return function()\n"
		"  local co = coroutine.create(function() return http.get(backend.api .. \"/x\") end)\n"
		"  local ok, err = coroutine.resume(co)\n"
		"  if not ok then error(err, 0) end\n"
		"end\n",
		"inner_handoff",
		"return function()\n"
		"  coroutine.wrap(function() handoff { team = \"x\" } end)()\n"
		"end\n",
		"own_coroutines",
		"return function()\n"
		"  local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)\n"
		"  local n = gen() + gen() + gen()\n"
		"  local a = ask(\"sum \" .. n .. \"?\")\n"
		"  say(\"ok \" .. a)\n"
		"end\n",
		NULL);
	const struct flow_conv w = {"c_waiting", NULL};
	struct flowlog lw, log;
	struct flow_outcome o;

	flowlog_init(&lw, "waiter", "en", NULL);
	flow_start(fh, &w, &lw, &o);
	flow_outcome_clear(&o);

	run_fails(fh, "yields", "coroutine.yield");
	run_fails(fh, "inner_ask", "coroutine of its own");
	run_fails(fh, "inner_http", "coroutine of its own");
	run_fails(fh, "inner_handoff", "coroutine of its own");
	assert_int_equal(flow_live(fh), 1);

	flowlog_init(&log, "yields_late", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "a", NULL, &o);
	expect_failed(&o, "coroutine.yield");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* coroutines of its own that only yield among themselves are fine */
	flowlog_init(&log, "own_coroutines", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	expect_replies(&o, 1, "sum 6?");
	flow_outcome_clear(&o);
	flow_answer(fh, &CONV, &log, "yes", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "ok yes");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	flow_answer(fh, &w, &lw, "still here", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "got still here");
	flow_outcome_clear(&o);
	flowlog_clear(&lw);
	assert_int_equal(flow_live(fh), 0);
}

/* ------------------------------------------------------------ 9. content */

static void test_open_good_set(void **state)
{
	struct harness *h = *state;
	flowhost *fh;

	put(h, "lua/flows/README.md", "not a flow\n"); /* other files are ignored */
	put(h, "lua/flows/.hidden.lua", "this is not Lua");
	fh = host_with(h, "happy", happy_flow, "waiter", waiter_flow, "order_2", waiter_flow, NULL);
	assert_int_equal(flowhost_count(fh), 3);
	assert_true(flowhost_has(fh, "happy"));
	assert_true(flowhost_has(fh, "waiter"));
	assert_true(flowhost_has(fh, "order_2"));
	assert_false(flowhost_has(fh, "README"));
	assert_false(flowhost_has(fh, "hidden"));
	assert_false(flowhost_has(fh, ".hidden"));
	assert_false(flowhost_has(fh, "happy.lua"));
	assert_false(flowhost_has(fh, ""));
	assert_int_equal(flow_live(fh), 0);
}

static void test_open_empty(void **state)
{
	struct harness *h = *state;
	/* no lua/ at all: a host without flows */
	flowhost *fh = open_host(h);
	assert_int_equal(flowhost_count(fh), 0);
	assert_false(flowhost_has(fh, "happy"));
	assert_string_equal(flowhost_text(fh, "en", "flow.error"), "flow.error");
}

static void test_open_syntax_error(void **state)
{
	struct harness *h = *state;
	char p[256];

	put(h, "lua/locale/en.lua", en_catalog);
	put(h, "lua/flows/waiter.lua", waiter_flow);
	put(h, "lua/flows/broken.lua",
	    "return function()\n"
	    "  say(\"x\"\n"
	    "end\n");
	open_refused(h);
	path_of(h, "lua/flows/broken.lua", p, sizeof(p));
	strcat(p, ":3:");
	expect_diag(&h->d, p, "expected");
	assert_int_equal(h->d.n, 1);
}

static void test_open_not_a_function(void **state)
{
	struct harness *h = *state;
	char p[256];

	put(h, "lua/locale/en.lua", en_catalog);
	put(h, "lua/flows/number.lua", "-- oops\nreturn 42\n");
	open_refused(h);
	path_of(h, "lua/flows/number.lua", p, sizeof(p));
	expect_diag(&h->d, p, "number");
	expect_diag(&h->d, p, "must return");
	assert_int_equal(h->d.n, 1);
}

static void test_open_main_chunk_error(void **state)
{
	struct harness *h = *state;
	char p[256];

	put(h, "lua/locale/en.lua", en_catalog);
	put(h, "lua/flows/raises.lua", "local x = 1\nerror(\"at load\")\nreturn function() end\n");
	open_refused(h);
	path_of(h, "lua/flows/raises.lua", p, sizeof(p));
	strcat(p, ":2:");
	expect_diag(&h->d, p, "at load");
}

static void test_open_bad_name(void **state)
{
	struct harness *h = *state;
	char p[256];

	put(h, "lua/locale/en.lua", en_catalog);
	put(h, "lua/flows/waiter.lua", waiter_flow);
	put(h, "lua/flows/Bad-Name.lua", waiter_flow);
	open_refused(h);
	path_of(h, "lua/flows/Bad-Name.lua", p, sizeof(p));
	expect_diag(&h->d, p, "file name");
	assert_int_equal(h->d.n, 1);
}

static void test_open_missing_key(void **state)
{
	struct harness *h = *state;
	char p[256];

	put(h, "lua/locale/en.lua", en_catalog);
	put(h, "lua/locale/pt.lua", "return { [\"only.pt\"] = \"s\xc3\xb3 pt\" }\n");
	put(h, "lua/flows/keys.lua",
	    "return function()\n"
	    "  say(t(\"only.en\"))\n"
	    "  say(t( 'missing.key' ))\n"
	    "  say(t(\"only.pt\"))\n"
	    "  local k = \"dynamic.key\"\n"
	    "  say(t(k))\n"
	    "end\n");
	open_refused(h);
	path_of(h, "lua/flows/keys.lua", p, sizeof(p));
	strcat(p, ":3:");
	expect_diag(&h->d, p, "missing.key");
	path_of(h, "lua/flows/keys.lua", p, sizeof(p));
	strcat(p, ":4:");
	expect_diag(&h->d, p, "only.pt"); /* English is the one every key needs */
	assert_int_equal(h->d.n, 2);
}

static void test_open_bad_catalog(void **state)
{
	struct harness *h = *state;
	char p[256];

	put(h, "lua/locale/en.lua", en_catalog);
	put(h, "lua/locale/de.lua", "return \"nein\"\n");
	put(h, "lua/locale/fr.lua", "return { greet = 5 }\n");
	put(h, "lua/locale/x.lua", "return {}\n");
	open_refused(h);
	expect_diag(&h->d, path_of(h, "lua/locale/de.lua", p, sizeof(p)), "table");
	expect_diag(&h->d, path_of(h, "lua/locale/fr.lua", p, sizeof(p)), "string");
	expect_diag(&h->d, path_of(h, "lua/locale/x.lua", p, sizeof(p)), "language");
	assert_int_equal(h->d.n, 3);
}

static void test_open_reports_every_problem(void **state)
{
	struct harness *h = *state;
	char p[256];

	put(h, "lua/locale/en.lua", en_catalog);
	put(h, "lua/flows/broken.lua", "return function(\n");
	put(h, "lua/flows/number.lua", "return 1\n");
	put(h, "lua/flows/Bad-Name.lua", waiter_flow);
	put(h, "lua/flows/keys.lua", "return function()\n  say(t(\"nope\"))\nend\n");
	put(h, "lua/flows/good.lua", waiter_flow);
	open_refused(h);
	expect_diag(&h->d, path_of(h, "lua/flows/broken.lua", p, sizeof(p)), "");
	expect_diag(&h->d, path_of(h, "lua/flows/number.lua", p, sizeof(p)), "must return");
	expect_diag(&h->d, path_of(h, "lua/flows/Bad-Name.lua", p, sizeof(p)), "file name");
	expect_diag(&h->d, path_of(h, "lua/flows/keys.lua", p, sizeof(p)), "nope");
	assert_int_equal(h->d.n, 4);

	/* fixed, the same VM opens it */
	unlink(path_of(h, "lua/flows/broken.lua", p, sizeof(p)));
	unlink(path_of(h, "lua/flows/number.lua", p, sizeof(p)));
	unlink(path_of(h, "lua/flows/Bad-Name.lua", p, sizeof(p)));
	put(h, "lua/flows/keys.lua", "return function()\n  say(t(\"only.en\"))\nend\n");
	flowhost *fh = open_host(h);
	assert_int_equal(flowhost_count(fh), 2);
	assert_true(flowhost_has(fh, "keys"));
	assert_true(flowhost_has(fh, "good"));
}

static void test_open_bad_pattern(void **state)
{
	struct harness *h = *state;

	put(h, "lua/locale/en.lua", en_catalog);
	snprintf(h->cfg.flows.patterns[1].name, CONFIG_NAME_MAX, "broken");
	snprintf(h->cfg.flows.patterns[1].value, CONFIG_VALUE_MAX, "([0-9]+");
	h->cfg.flows.n_patterns = 2;
	open_refused(h);
	expect_diag(&h->d, "config: flows.patterns.broken", "");
	assert_int_equal(h->d.n, 1);
}

/* ------------------------------------------------------------ 10. texts */

static void test_flowhost_text(void **state)
{
	struct harness *h = *state;
	flowhost *fh;

	put(h, "lua/locale/pt.lua", pt_catalog);
	fh = host_with(h, NULL);
	assert_string_equal(flowhost_text(fh, "en", "flow.timeout"), "You took too long.");
	assert_string_equal(flowhost_text(fh, "en", "flow.error"), "Something went wrong.");
	assert_string_equal(flowhost_text(fh, "en", "flow.handoff"), "A person will take over.");
	assert_string_equal(flowhost_text(fh, "en", "flow.busy"), "Still working on it.");
	assert_string_equal(flowhost_text(fh, "pt", "flow.timeout"), "Demorou demasiado.");
	/* pt has no flow.busy: English */
	assert_string_equal(flowhost_text(fh, "pt", "flow.busy"), "Still working on it.");
	/* no catalog at all for de, or no language: English */
	assert_string_equal(flowhost_text(fh, "de", "flow.timeout"), "You took too long.");
	assert_string_equal(flowhost_text(fh, NULL, "flow.error"), "Something went wrong.");
	/* keys that are not the daemon's own: the key itself */
	assert_string_equal(flowhost_text(fh, "en", "greet"), "greet");
	assert_string_equal(flowhost_text(fh, "pt", "no.such.key"), "no.such.key");
}

static void test_flowhost_text_without_english(void **state)
{
	struct harness *h = *state;
	flowhost *fh;

	put(h, "lua/locale/pt.lua", pt_catalog);
	fh = open_host(h);
	assert_string_equal(flowhost_text(fh, "pt", "flow.timeout"), "Demorou demasiado.");
	assert_string_equal(flowhost_text(fh, "pt", "flow.busy"), "flow.busy");
	assert_string_equal(flowhost_text(fh, "en", "flow.timeout"), "flow.timeout");
}

static void test_email_valid(void **state)
{
	static const char *const good[] = {
		"ana@example.com",
		"a@b.co",
		"first.last+tag@sub.example.org",
		"o'brien@example.ie",
		"x_y-z@my-host.example.com",
		"UPPER@EXAMPLE.COM",
		"1234@123.example.io",
	};
	static const char *const bad[] = {
		"",
		"ana",
		"@example.com",
		"ana@",
		"ana@example",
		"ana@example.c",
		"ana@example.c0m",
		"ana@@example.com",
		"a@b@example.com",
		".ana@example.com",
		"ana.@example.com",
		"an..a@example.com",
		"ana smith@example.com",
		"ana@exa mple.com",
		"ana@-example.com",
		"ana@example-.com",
		"ana@exa_mple.com",
		"ana@example..com",
		"ana@.example.com",
		"ana@example.com.",
		"ana(at)example.com",
		"ana\"@example.com",
		"caf\xc3\xa9@example.com",
		"ana@example.com\n",
	};
	char longer[300];
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (!flow_email_valid(good[i], strlen(good[i])))
			fail_msg("refused %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (flow_email_valid(bad[i], strlen(bad[i])))
			fail_msg("accepted \"%s\"", bad[i]);
	/* only len bytes count */
	assert_true(flow_email_valid("ana@example.com and more", 15));
	assert_false(flow_email_valid("ana@example.com", 13));
	/* 64 bytes of local part at most */
	memset(longer, 'a', 64);
	strcpy(longer + 64, "@example.com");
	assert_true(flow_email_valid(longer, strlen(longer)));
	memset(longer, 'a', 65);
	strcpy(longer + 65, "@example.com");
	assert_false(flow_email_valid(longer, strlen(longer)));
	/* 254 bytes in all at most: 64 + 1 + 61 + 1 + 61 + 1 + n + 4 */
	for (size_t n = 61; n <= 62; n++) {
		size_t o = 0;
		memset(longer, 'a', 64);
		o = 64;
		longer[o++] = '@';
		memset(longer + o, 'b', 61);
		o += 61;
		longer[o++] = '.';
		memset(longer + o, 'c', 61);
		o += 61;
		longer[o++] = '.';
		memset(longer + o, 'd', n);
		o += n;
		strcpy(longer + o, ".com");
		assert_int_equal(strlen(longer), 193 + n);
		assert_int_equal(flow_email_valid(longer, strlen(longer)), n == 61);
	}
}

/* ------------------------------------------------------------ 11. t() */

static const char greet_flow[] =
	"return function()\n"
	"  say(t(\"greet\", conversation.name or \"friend\", 3))\n"
	"  say(t(\"only.en\"))\n"
	"  local k = \"no.such.key\"\n"
	"  say(t(k))\n"
	"  say(t(\"greet\", \"%d\", 2.0))\n"
	"  say(t(\"done.sent\", \"x\", 7, \"ignored\"))\n"
	"  say(lang .. \"|\" .. conversation.id)\n"
	"end\n";

static void test_t_and_lang(void **state)
{
	struct harness *h = *state;
	flowhost *fh;
	const struct flow_conv anon = {"c_anon", NULL};
	struct flowlog log;
	struct flow_outcome o;

	put(h, "lua/locale/pt.lua", pt_catalog);
	fh = host_with(h, "greet", greet_flow,
		       "bad_format", "return function() say(t(\"greet\", \"x\", \"many\")) end\n",
		       "too_few", "return function() say(t(\"greet\", \"x\")) end\n",
		       NULL);

	flowlog_init(&log, "greet", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 6, "Hello Ana, you have 3 new messages.", "English only", "no.such.key",
		       "Hello %d, you have 2 new messages.", "Sent to x, ticket #7.",
		       "en|c_0123456789abcdef01234567");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* the log's language picks the catalog; missing keys come from English */
	flowlog_init(&log, "greet", "pt", NULL);
	flow_start(fh, &anon, &log, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 6, "Ol\xc3\xa1 friend, tem 3 mensagens novas.", "English only",
		       "no.such.key", "Ol\xc3\xa1 %d, tem 2 mensagens novas.",
		       "Sent to x, ticket #7.", "pt|c_anon");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* a language without a catalog: English */
	flowlog_init(&log, "greet", "de", NULL);
	flow_start(fh, &anon, &log, &o);
	expect_status(&o, FLOW_DONE);
	assert_int_equal(o.n, 6);
	assert_string_equal(o.replies[0].text, "Hello friend, you have 3 new messages.");
	assert_string_equal(o.replies[5].text, "de|c_anon");
	flow_outcome_clear(&o);
	flowlog_clear(&log);

	/* string.format's own checks apply */
	flowlog_init(&log, "bad_format", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_failed(&o, "bad argument");
	flow_outcome_clear(&o);
	flowlog_clear(&log);
	flowlog_init(&log, "too_few", "en", NULL);
	flow_start(fh, &CONV, &log, &o);
	expect_failed(&o, "bad argument");
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

static void test_api_outside_a_run(void **state)
{
	struct harness *h = *state;
	char p[256];

	/* calling the API while the file loads (no run) is an error the loader
	 * reports */
	put(h, "lua/locale/en.lua", en_catalog);
	put(h, "lua/flows/eager.lua",
	    "local greeting = t(\"only.en\")\n"
	    "return function() say(greeting) end\n");
	open_refused(h);
	path_of(h, "lua/flows/eager.lua", p, sizeof(p));
	expect_diag(&h->d, p, "only be used while a flow runs");
}

/* A flow that fills the whole VM, then waits for the backend: handing it
 * the reply needs memory there is none of. The run fails; nothing aborts,
 * and once it is gone the VM serves runs again. Regression: inputs used to
 * be pushed outside any protected call, and a full VM panicked. */
static void test_full_vm_fails_the_run_only(void **state)
{
	struct harness *h = *state;
	const struct script_limits small = {.instructions = 100000000, .memory_bytes = 3u << 20};
	const struct flow_conv c1 = {"c_full", NULL}, c2 = {"c_after", NULL};
	struct flowlog l1, l2;
	struct flow_outcome o;
	struct backend_result r = reply_of(200, "{\"a\": [1, 2, 3], \"b\": \"some text\"}");
	char path[128], err[1024];
	script *sc;
	flowhost *fh;

	put(h, "lua/locale/en.lua", en_catalog);
	put(h, "lua/flows/waiter.lua", waiter_flow);
	put(h, "lua/flows/filler.lua",
	    "return function()\n"
	    "  local keep = {}\n"
	    "  pcall(function() while true do keep[#keep + 1] = string.rep('x', 64) .. #keep end end)\n"
	    "  local res = http.get(backend.api .. '/x')\n"
	    "  say(#keep .. ' ' .. tostring(res.ok))\n"
	    "end\n");
	h->cfg.flows.memory_limit_kb = 64 * 1024; /* the VM's cap is what stops it */
	snprintf(path, sizeof(path), "%s/pipeline.lua", h->dir);
	sc = script_open(path, &small, &h->lg, err, sizeof(err));
	assert_non_null(sc);
	fh = flowhost_open(sc, h->dir, &h->cfg, &h->lg, &h->d);
	assert_non_null(fh);

	flowlog_init(&l1, "filler", "en", "qa");
	flow_start(fh, &c1, &l1, &o);
	if (o.status == FLOW_WAIT_HTTP) {
		/* the call went out with the VM full: the reply cannot be handed over */
		flow_outcome_clear(&o);
		flow_reply(fh, &c1, &l1, &r, &o);
	}
	expect_failed(&o, "memory");
	assert_string_equal(o.team, "qa");
	assert_int_equal(flow_live(fh), 0);
	flow_outcome_clear(&o);
	assert_true(script_memory(sc) < small.memory_bytes / 2);

	flowlog_init(&l2, "waiter", "en", NULL);
	flow_start(fh, &c2, &l2, &o);
	expect_status(&o, FLOW_WAIT_ANSWER);
	flow_outcome_clear(&o);
	flow_answer(fh, &c2, &l2, "yes", NULL, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "got yes");
	flow_outcome_clear(&o);

	flowlog_clear(&l1);
	flowlog_clear(&l2);
	flowhost_close(fh);
	script_close(sc);
}

/* say() reads its choices raw: a table whose metamethods raise is just an
 * empty list (regression: the error escaped half way and leaked). */
static void test_say_ignores_metamethods(void **state)
{
	struct harness *h = *state;
	const struct flow_conv c = {"c_meta", NULL};
	struct flowlog log;
	struct flow_outcome o;
	flowhost *fh = host_with(h, "meta",
				 "return function()\n"
				 "  say('hi', setmetatable({}, {__index = function() error('boom') end,\n"
				 "                              __len = function() error('boom') end}))\n"
				 "end\n",
				 NULL);

	flowlog_init(&log, "meta", "en", NULL);
	flow_start(fh, &c, &log, &o);
	expect_status(&o, FLOW_DONE);
	expect_replies(&o, 1, "hi");
	assert_int_equal(o.replies[0].n_choices, 0);
	flow_outcome_clear(&o);
	flowlog_clear(&log);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_happy_path),
		T(test_ask_retries_and_errors),
		T(test_ask_choices_and_validators),
		T(test_replay_after_restart),
		T(test_replay_keeps_other_runs),
		T(test_recover_interrupted_call),
		T(test_reply_errors_and_success),
		T(test_handoff),
		T(test_limits),
		T(test_error_reason_masks_email),
		T(test_url_allow_list),
		T(test_backend_url_allowed),
		T(test_divergence),
		T(test_foreign_yields),
		T(test_open_good_set),
		T(test_open_empty),
		T(test_open_syntax_error),
		T(test_open_not_a_function),
		T(test_open_main_chunk_error),
		T(test_open_bad_name),
		T(test_open_missing_key),
		T(test_open_bad_catalog),
		T(test_open_reports_every_problem),
		T(test_open_bad_pattern),
		T(test_flowhost_text),
		T(test_flowhost_text_without_english),
		T(test_email_valid),
		T(test_t_and_lang),
		T(test_api_outside_a_run),
		T(test_full_vm_fails_the_run_only),
		T(test_say_ignores_metamethods),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
