/* convtest.c: `supportd test`. See convtest.h. */
#include "convtest.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bot.h"
#include "clock.h"
#include "config.h"
#include "content.h"
#include "diag.h"
#include "pipeline.h"
#include "xalloc.h"
#include "yamldoc.h"

#define STUB_BASE "http://backend.test"
#define TURN_REPLIES_MAX 32
#define TEST_FILE_MAX (256 * 1024)
#define TEST_STEPS_MAX 20  /* backend calls one turn may make */

static const char usage[] =
	"usage: supportd test [FILE...] [--content DIR] [-c FILE] [-v]\n"
	"\n"
	"Runs conversation tests: each FILE (default: every .yaml in\n"
	"tests/conversations/ under the content root) is a conversation with\n"
	"what the bot must do at each turn (docs/content.md). Flows run against\n"
	"the backend replies the test gives. Prints each failure with what the\n"
	"bot did instead and its top candidates; exit status 1 if any failed.\n"
	"\n"
	"options:\n"
	"      --content DIR   content root (default .)\n"
	"  -c, --config FILE   JSON config file\n"
	"  -v, --verbose       print every turn\n"
	"  -h, --help          this help\n";

/* What the bot did in one turn. */
struct said {
	char *source, *text, *choices; /* choices: ids separated by ' ' */
};

struct turn_result {
	struct said v[TURN_REPLIES_MAX];
	size_t n;
	char *handoff_team, *handoff_reason;
	char *flow;                     /* the flow running after the turn, or NULL */
};

static void result_clear(struct turn_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].source);
		free(r->v[i].text);
		free(r->v[i].choices);
	}
	free(r->handoff_team);
	free(r->handoff_reason);
	free(r->flow);
	memset(r, 0, sizeof(*r));
}

/* A mapping's scalar value for key, or NULL (absent, not a scalar). */
static const char *field(const yamldoc_node *map, const char *key)
{
	const yamldoc_node *v = map ? yamldoc_get(map, key) : NULL;
	return v ? yamldoc_text(v) : NULL;
}

static void take_step(struct turn_result *r, const struct bot_step *s)
{
	for (size_t i = 0; i < s->n && r->n < TURN_REPLIES_MAX; i++) {
		struct said *x = &r->v[r->n++];
		char ids[512] = "";
		x->source = xstrdup(s->replies[i].source ? s->replies[i].source : "");
		x->text = xstrdup(s->replies[i].text ? s->replies[i].text : "");
		for (size_t c = 0; c < s->replies[i].n_choices; c++) {
			strncat(ids, s->replies[i].choices[c].id, sizeof(ids) - strlen(ids) - 2);
			strcat(ids, " ");
		}
		x->choices = xstrdup(ids);
	}
	if (s->handoff_team) {
		free(r->handoff_team);
		free(r->handoff_reason);
		r->handoff_team = xstrdup(s->handoff_team);
		r->handoff_reason = xstrdup(s->handoff_reason ? s->handoff_reason : "");
	}
}

/* The stubbed backend reply for a call: the test's "METHOD /path" entry,
 * or a 404. An entry may be {status, json} or {error: "timeout"}. */
static void stub_reply(const yamldoc_node *stubs, const struct flow_call *call,
		       struct backend_result *res)
{
	char key[600];
	const char *path = call->url + (strncmp(call->url, STUB_BASE, strlen(STUB_BASE)) ? 0
										: strlen(STUB_BASE));
	const yamldoc_node *e;

	memset(res, 0, sizeof(*res));
	snprintf(key, sizeof(key), "%s %s", call->method, path);
	e = stubs ? yamldoc_get(stubs, key) : NULL;
	if (!e) {
		res->status = 404;
		res->body = xstrdup("{\"error\":\"not_found\"}");
		res->body_len = strlen(res->body);
		return;
	}
	if (yamldoc_get(e, "error")) {
		res->error = xstrdup(field(e, "error") ? field(e, "error")
									 : "error");
		return;
	}
	res->status = field(e, "status") ? atoi(field(e, "status")) : 200;
	res->body = xstrdup(yamldoc_get(e, "body") && field(e, "body")
				    ? field(e, "body")
				    : "{}");
	res->body_len = strlen(res->body);
}

/* Stores a step as the daemon would (in memory) and follows its backend
 * calls through the stubs, collecting what the bot says. */
static void settle(pipeline *p, const struct config *cfg, struct conversation *conv,
		   const yamldoc_node *stubs, struct bot_step *step, struct turn_result *r)
{
	for (int i = 0; i < TEST_STEPS_MAX; i++) {
		struct store_job *job = store_job_new(STORE_APPEND);
		struct flow_call call;
		struct backend_result res;

		take_step(r, step);
		job->now_ms = clock_wall_ms();
		bot_to_job(step, job, NULL, job->now_ms);
		bot_step_clear(step);
		job->status = STORE_OK;
		bot_stored(p, conv, job, &call);
		if (job->desk.op == STORE_DESK_ENQUEUE)
			conv->status = STORE_CONV_QUEUED;
		store_job_free(job);
		if (!call.method[0])
			return;
		stub_reply(stubs, &call, &res);
		free(call.url);
		free(call.body);
		bot_on_reply(p, NULL, cfg, conv, &res, clock_wall_ms(), step);
		backend_result_clear(&res);
	}
}

static int contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *h = hay; *h; h++)
		if (!strncasecmp(h, needle, n))
			return 1;
	return !n;
}

/* Checks one expectation; writes what failed into why. 0 if it holds. */
static int check_expect(const yamldoc *doc, const yamldoc_node *ex, const struct turn_result *r,
			char *why, size_t len)
{
	const yamldoc_node *v;
	const char *s;

	if ((v = yamldoc_get(ex, "source")) && (s = yamldoc_text(v))) {
		int ok = 0;
		for (size_t i = 0; i < r->n; i++)
			ok |= !strcmp(r->v[i].source, s);
		if (!ok)
			return snprintf(why, len, "expected a reply from %s", s), -1;
	}
	if ((v = yamldoc_get(ex, "says")) && (s = yamldoc_text(v))) {
		int ok = 0;
		for (size_t i = 0; i < r->n; i++)
			ok |= contains(r->v[i].text, s);
		if (!ok)
			return snprintf(why, len, "expected a reply saying \"%s\"", s), -1;
	}
	if ((v = yamldoc_get(ex, "not_says")) && (s = yamldoc_text(v))) {
		for (size_t i = 0; i < r->n; i++)
			if (contains(r->v[i].text, s))
				return snprintf(why, len, "expected no reply saying \"%s\"", s), -1;
	}
	if ((v = yamldoc_get(ex, "choice")) && (s = yamldoc_text(v))) {
		char want[140];
		int ok = 0;
		snprintf(want, sizeof(want), "%s ", s);
		for (size_t i = 0; i < r->n; i++)
			ok |= strstr(r->v[i].choices, want) == r->v[i].choices ||
			      strstr(r->v[i].choices, want) != NULL;
		if (!ok)
			return snprintf(why, len, "expected a button %s", s), -1;
	}
	if ((v = yamldoc_get(ex, "flow")) && (s = yamldoc_text(v))) {
		if (!strcmp(s, "none") ? r->flow != NULL : (!r->flow || strcmp(r->flow, s)))
			return snprintf(why, len, "expected flow %s to be waiting, but %s is", s,
					r->flow ? r->flow : "none"), -1;
	}
	if ((v = yamldoc_get(ex, "handoff"))) {
		const char *team = field(v, "team");
		const char *reason = field(v, "reason");
		if (yamldoc_is_null(v) || (yamldoc_text(v) && !strcmp(yamldoc_text(v), "none"))) {
			if (r->handoff_team)
				return snprintf(why, len, "expected no handoff, got one to %s (%s)",
						r->handoff_team, r->handoff_reason), -1;
		} else if (!r->handoff_team) {
			return snprintf(why, len, "expected a handoff"), -1;
		} else if (team && strcmp(team, r->handoff_team)) {
			return snprintf(why, len, "expected a handoff to %s, got %s", team, r->handoff_team), -1;
		} else if (reason && !contains(r->handoff_reason, reason)) {
			return snprintf(why, len, "expected a handoff because \"%s\", got \"%s\"", reason,
					r->handoff_reason), -1;
		}
	}
	(void)doc;
	return 0;
}

static void show_turn(const struct turn_result *r)
{
	if (!r->n)
		printf("      (no reply)\n");
	for (size_t i = 0; i < r->n; i++) {
		char first[120];
		snprintf(first, sizeof(first), "%s", r->v[i].text);
		first[strcspn(first, "\n")] = '\0';
		printf("      %-28s %s%s%s\n", r->v[i].source, first,
		       r->v[i].choices[0] ? "  [" : "", r->v[i].choices[0] ? r->v[i].choices : "");
	}
	if (r->handoff_team)
		printf("      handoff to %s: %s\n", r->handoff_team, r->handoff_reason);
	if (r->flow)
		printf("      flow %s is waiting\n", r->flow);
}

static void show_candidates(pipeline *p, const char *lang, const char *text)
{
	struct pipeline_input in = {"test", lang, NULL, 1, text, strlen(text), NULL, NULL, 0, NULL,
				    NULL, 0};
	struct pipeline_decision dec;
	pipeline_run(p, &in, &dec);
	printf("    the brain's best candidates for it:\n");
	for (size_t i = 0; i < dec.understood.n && i < 5; i++)
		printf("      %zu. %-32s %.2f\n", i + 1, dec.understood.top[i].source,
		       dec.understood.top[i].confidence);
	pipeline_decision_clear(&dec);
}

/* Runs one test file. Returns the number of failed tests, or -1 when the
 * file itself has problems (in d). */
static int run_file(pipeline *p, const struct config *cfg, const char *path, int verbose,
		    int *tests, struct diag *d)
{
	static const char *const top_keys[] = {"tests", NULL};
	static const char *const test_keys[] = {"name", "lang", "customer", "backend", "turns", NULL};
	static const char *const turn_keys[] = {"customer", "choice", "expect", NULL};
	char *buf;
	size_t len;
	yamldoc *doc;
	const yamldoc_node *list;
	int failed = 0;

	if (content_read_file(path, TEST_FILE_MAX, &buf, &len, d))
		return -1;
	doc = yamldoc_parse(path, 1, buf, len, d);
	free(buf);
	if (!doc)
		return -1;
	if (!yamldoc_root(doc) || yamldoc_check_keys(doc, yamldoc_root(doc), "a test file", top_keys, d) ||
	    !(list = yamldoc_get(yamldoc_root(doc), "tests")) || yamldoc_kind(list) != YAMLDOC_SEQ) {
		diag_add(d, path, 1, "a test file holds 'tests:', a list of conversations");
		yamldoc_free(doc);
		return -1;
	}
	for (size_t t = 0; t < yamldoc_len(list); t++) {
		const yamldoc_node *test = yamldoc_item(list, t), *turns;
		const char *name = field(test, "name");
		const char *lang = field(test, "lang");
		const yamldoc_node *stubs = yamldoc_get(test, "backend");
		struct conversation *conv = xcalloc(1, sizeof(*conv));
		int ok = 1;

		if (yamldoc_check_keys(doc, test, "a test", test_keys, d) || !name ||
		    !(turns = yamldoc_get(test, "turns")) || yamldoc_kind(turns) != YAMLDOC_SEQ) {
			diag_add(d, path, yamldoc_line(test), "a test needs a 'name' and 'turns'");
			free(conv);
			continue;
		}
		(*tests)++;
		snprintf(conv->public_id, sizeof(conv->public_id), "c_test%020zu", t);
		conv->id = (int64_t)t + 1;
		if (lang)
			conv->lang = xstrdup(lang);
		if (verbose)
			printf("  %s\n", name);
		for (size_t i = 0; i < yamldoc_len(turns) && ok; i++) {
			const yamldoc_node *turn = yamldoc_item(turns, i), *ex;
			const char *text = field(turn, "customer");
			const char *choice = field(turn, "choice");
			struct turn_result r = {0};
			struct bot_step step;
			char why[300];

			if (yamldoc_check_keys(doc, turn, "a turn", turn_keys, d) || !text) {
				diag_add(d, path, yamldoc_line(turn), "a turn needs what the 'customer' says");
				ok = 0;
				break;
			}
			bot_on_message(p, NULL, cfg, conv, text, strlen(text), choice, clock_wall_ms(), &step);
			conv->turn++;
			settle(p, cfg, conv, stubs, &step, &r);
			r.flow = conv->flow ? xstrdup(conv->flow->flow) : NULL;
			ex = yamldoc_get(turn, "expect");
			if (ex && check_expect(doc, ex, &r, why, sizeof(why))) {
				printf("FAIL %s:%d: %s\n    turn %zu, the customer says \"%s\": %s\n    the bot did:\n",
				       path, yamldoc_line(turn), name, i + 1, text, why);
				show_turn(&r);
				show_candidates(p, lang, text);
				ok = 0;
			} else if (verbose) {
				printf("    > %s\n", text);
				show_turn(&r);
			}
			result_clear(&r);
		}
		if (ok && !verbose)
			printf("ok   %s: %s\n", path, name);
		failed += !ok;
		bot_forget_run(p, conv);
		conversation_set_flow(&conv->flow, NULL);
		conversation_set_flow(&conv->flow_stored, NULL);
		free(conv->lang);
		free(conv->lang_sample);
		free(conv->clarified);
		free(conv->clarified_candidates);
		free(conv);
	}
	yamldoc_free(doc);
	return failed;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int convtest_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"content", required_argument, NULL, 'C'}, {"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},       {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct config cfg;
	logger lg = {LOG_ERROR};
	struct metrics m;
	struct diag d;
	char err[512], **files = NULL;
	size_t n_files = 0;
	int c, verbose = 0, failed = 0, tests = 0, problems = 0;
	struct timespec t0, t1;

	config_defaults(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'C': snprintf(cfg.content_dir, sizeof(cfg.content_dir), "%s", optarg); break;
		case 'c':
			if (config_load_file(&cfg, optarg, err, sizeof(err))) {
				fprintf(stderr, "supportd test: %s\n", err);
				return 2;
			}
			break;
		case 'v': verbose = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	/* the flows' calls go to the stubs */
	cfg.flows.n_backends = 1;
	snprintf(cfg.flows.backends[0].name, CONFIG_NAME_MAX, "api");
	snprintf(cfg.flows.backends[0].value, CONFIG_VALUE_MAX, STUB_BASE);
	for (int i = optind; i < argc; i++) {
		files = xrealloc(files, (n_files + 1) * sizeof(*files));
		files[n_files++] = xstrdup(argv[i]);
	}
	if (!n_files) {
		char dir[CONFIG_PATH_MAX + 32];
		DIR *dp;
		struct dirent *e;
		snprintf(dir, sizeof(dir), "%s/tests/conversations", cfg.content_dir);
		if (!(dp = opendir(dir))) {
			fprintf(stderr, "supportd test: %s: no such directory (give test files)\n", dir);
			return 2;
		}
		while ((e = readdir(dp)))
			if (e->d_name[0] != '.' && content_ends_with(e->d_name, ".yaml")) {
				files = xrealloc(files, (n_files + 1) * sizeof(*files));
				files[n_files++] = content_path_join(dir, e->d_name);
			}
		closedir(dp);
		qsort(files, n_files, sizeof(*files), cmp_str);
	}
	metrics_init(&m);
	diag_init(&d);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pipeline *p = pipeline_open(&cfg, &lg, &m, NULL, &d);
	for (size_t i = 0; p && i < n_files; i++) {
		int f = run_file(p, &cfg, files[i], verbose, &tests, &d);
		if (f < 0)
			problems++;
		else
			failed += f;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i]);
	problems += !p;
	printf("\n%d tests, %d failed, %zu problems, %.2f s\n", tests, failed, d.n,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	pipeline_close(p);
	diag_clear(&d);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	return failed || problems || d.n ? 1 : 0;
}
