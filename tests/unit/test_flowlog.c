/* test_flowlog.c: unit tests for src/flowlog.c, the replay log of a flow
 * run: appending inputs, resolving a pending backend call, the entry cap,
 * the JSON form (round trip and every refusal) and deep copies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowlog.h"

/* ------------------------------------------------------------ helpers */

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

/* Fails unless a and b hold the same header and entries. */
static void assert_logs_equal(const struct flowlog *a, const struct flowlog *b)
{
	assert_str_or_null(a->flow, b->flow);
	assert_str_or_null(a->lang, b->lang);
	assert_str_or_null(a->team, b->team);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct flowlog_entry *x = &a->v[i], *y = &b->v[i];
		assert_int_equal(x->kind, y->kind);
		assert_str_or_null(x->text, y->text);
		assert_str_or_null(x->choice, y->choice);
		assert_int_equal(x->status, y->status);
		assert_str_or_null(x->body, y->body);
		assert_str_or_null(x->error, y->error);
	}
}

/* Fails unless every field of l is zero, as decode leaves it on refusal. */
static void assert_zeroed(const struct flowlog *l)
{
	assert_null(l->flow);
	assert_null(l->lang);
	assert_null(l->team);
	assert_null(l->v);
	assert_int_equal(l->n, 0);
	assert_int_equal(l->cap, 0);
}

/* A log with one entry of every shape, ending with a pending call. */
static void build_full(struct flowlog *l, const char *team)
{
	static const char body[] = "{\"id\":\"A-1\",\"items\":[1,2,3],\"note\":\"caf\xc3\xa9\"}";

	flowlog_init(l, "order_status", "pt", team);
	assert_int_equal(flowlog_add_answer(l, "my order is \"#12345\"\nthanks", NULL), 0);
	assert_int_equal(flowlog_add_answer(l, "Yes", "yes"), 0);
	assert_int_equal(flowlog_add_pending(l), 0);
	assert_int_equal(flowlog_resolve(l, 200, body, strlen(body), NULL), 0);
	assert_int_equal(flowlog_add_pending(l), 0);
	assert_int_equal(flowlog_resolve(l, 0, NULL, 0, "timeout"), 0);
	assert_int_equal(flowlog_add_pending(l), 0);
	assert_int_equal(flowlog_resolve(l, 404, "", 0, NULL), 0);
	assert_int_equal(flowlog_add_pending(l), 0);
	assert_int_equal(flowlog_resolve(l, 502, "bad gateway", 11, "HTTP 502"), 0);
	assert_int_equal(flowlog_add_answer(l, "\xc3\xa1gua \xe2\x82\xac", NULL), 0);
	assert_int_equal(flowlog_add_pending(l), 0);
	assert_int_equal(l->n, 8);
}

/* Expects decode to refuse json; the log must come back zeroed (it is
 * filled with garbage first) and err must say something. */
static void refused(const char *json, const char *why)
{
	struct flowlog l;
	char err[256];

	memset(&l, 0x5a, sizeof(l));
	strcpy(err, "(unset)");
	if (flowlog_decode(json, &l, err, sizeof(err)) != -1) {
		flowlog_clear(&l);
		fail_msg("decode accepted %s: %s", why, json);
	}
	assert_zeroed(&l);
	assert_string_not_equal(err, "(unset)");
	assert_true(strlen(err) > 0);
	flowlog_clear(&l); /* safe on the zeroed log */
	assert_zeroed(&l);
}

/* Expects decode to accept json; returns the log through *l. */
static void accepted(const char *json, struct flowlog *l)
{
	char err[256] = "";
	if (flowlog_decode(json, l, err, sizeof(err)) != 0)
		fail_msg("decode refused %s: %s", json, err);
}

/* A log document with `n` answer entries (caller frees). */
static char *many_answers(size_t n)
{
	size_t cap = 64 + n * 48, o = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	o += (size_t)snprintf(s + o, cap - o, "{\"v\":1,\"flow\":\"f\",\"lang\":\"en\",\"entries\":[");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, cap - o, "%s{\"t\":\"answer\",\"text\":\"a%zu\"}",
				      i ? "," : "", i);
	snprintf(s + o, cap - o, "]}");
	return s;
}

/* ------------------------------------------------------------ building */

static void test_init_and_clear(void **state)
{
	struct flowlog l;
	(void)state;

	flowlog_init(&l, "password_reset", NULL, NULL);
	assert_string_equal(l.flow, "password_reset");
	assert_string_equal(l.lang, "en"); /* NULL lang means English */
	assert_null(l.team);
	assert_int_equal(l.n, 0);
	assert_int_equal(flowlog_pending(&l), 0);
	flowlog_clear(&l);
	assert_zeroed(&l);
	flowlog_clear(&l); /* twice is fine */

	/* the strings are copies */
	char flow[] = "abc", lang[] = "pt", team[] = "accounts";
	flowlog_init(&l, flow, lang, team);
	flow[0] = lang[0] = team[0] = 'X';
	assert_string_equal(l.flow, "abc");
	assert_string_equal(l.lang, "pt");
	assert_string_equal(l.team, "accounts");
	flowlog_clear(&l);
}

static void test_add_answers(void **state)
{
	struct flowlog l;
	char text[] = "hello";
	(void)state;

	flowlog_init(&l, "f", "en", NULL);
	assert_int_equal(flowlog_add_answer(&l, text, NULL), 0);
	assert_int_equal(flowlog_add_answer(&l, "Talk to a person", "handoff"), 0);
	text[0] = 'J'; /* copied, not borrowed */
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].kind, FLOWLOG_ANSWER);
	assert_string_equal(l.v[0].text, "hello");
	assert_null(l.v[0].choice);
	assert_null(l.v[0].body);
	assert_null(l.v[0].error);
	assert_int_equal(l.v[1].kind, FLOWLOG_ANSWER);
	assert_string_equal(l.v[1].text, "Talk to a person");
	assert_string_equal(l.v[1].choice, "handoff");
	assert_int_equal(flowlog_pending(&l), 0);
	flowlog_clear(&l);
}

static void test_pending_and_resolve(void **state)
{
	struct flowlog l;
	(void)state;

	flowlog_init(&l, "f", "en", "team");
	/* nothing to resolve yet */
	assert_int_equal(flowlog_resolve(&l, 200, "x", 1, NULL), -1);
	assert_int_equal(l.n, 0);
	assert_int_equal(flowlog_add_answer(&l, "a", NULL), 0);
	assert_int_equal(flowlog_resolve(&l, 200, "x", 1, NULL), -1); /* last is an answer */
	assert_int_equal(l.v[0].kind, FLOWLOG_ANSWER);

	assert_int_equal(flowlog_add_pending(&l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].kind, FLOWLOG_PENDING);
	assert_int_equal(flowlog_pending(&l), 1);
	/* nothing may follow a pending call */
	assert_int_equal(flowlog_add_answer(&l, "too soon", NULL), -1);
	assert_int_equal(flowlog_add_pending(&l), -1);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].kind, FLOWLOG_PENDING);

	/* resolving replaces it; body_len counts, not strlen */
	assert_int_equal(flowlog_resolve(&l, 201, "{\"ok\":true}trailing", 11, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].kind, FLOWLOG_HTTP);
	assert_int_equal(l.v[1].status, 201);
	assert_string_equal(l.v[1].body, "{\"ok\":true}");
	assert_null(l.v[1].error);
	assert_null(l.v[1].text);
	assert_int_equal(flowlog_pending(&l), 0);
	assert_int_equal(flowlog_resolve(&l, 200, NULL, 0, NULL), -1); /* once only */
	assert_int_equal(l.v[1].status, 201);

	/* a failed call: no body, an error */
	assert_int_equal(flowlog_add_pending(&l), 0);
	assert_int_equal(flowlog_resolve(&l, 0, NULL, 0, "connection failed: refused"), 0);
	assert_int_equal(l.v[2].kind, FLOWLOG_HTTP);
	assert_int_equal(l.v[2].status, 0);
	assert_null(l.v[2].body);
	assert_string_equal(l.v[2].error, "connection failed: refused");

	/* and answers may follow again */
	assert_int_equal(flowlog_add_answer(&l, "after", NULL), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[3].text, "after");
	flowlog_clear(&l);
}

static void test_entry_cap(void **state)
{
	struct flowlog l;
	char t[16];
	(void)state;

	flowlog_init(&l, "f", "en", NULL);
	for (int i = 0; i < FLOWLOG_MAX_ENTRIES - 1; i++) {
		snprintf(t, sizeof(t), "a%d", i);
		assert_int_equal(flowlog_add_answer(&l, t, NULL), 0);
	}
	/* the last free slot can hold a pending call, and resolving it does not
	 * need another */
	assert_int_equal(flowlog_add_pending(&l), 0);
	assert_int_equal(flowlog_resolve(&l, 200, "{}", 2, NULL), 0);
	assert_int_equal(l.n, FLOWLOG_MAX_ENTRIES);
	assert_int_equal(flowlog_add_answer(&l, "one too many", NULL), -1);
	assert_int_equal(flowlog_add_pending(&l), -1);
	assert_int_equal(l.n, FLOWLOG_MAX_ENTRIES);
	/* what is there is intact */
	assert_string_equal(l.v[0].text, "a0");
	assert_string_equal(l.v[FLOWLOG_MAX_ENTRIES - 2].text, "a254");
	assert_int_equal(l.v[FLOWLOG_MAX_ENTRIES - 1].status, 200);
	flowlog_clear(&l);

	/* the cap counts answers too */
	flowlog_init(&l, "f", "en", NULL);
	for (int i = 0; i < FLOWLOG_MAX_ENTRIES; i++)
		assert_int_equal(flowlog_add_answer(&l, "x", NULL), 0);
	assert_int_equal(flowlog_add_answer(&l, "x", NULL), -1);
	assert_int_equal(l.n, FLOWLOG_MAX_ENTRIES);
	flowlog_clear(&l);
}

/* ------------------------------------------------------------ JSON */

static void test_round_trip(void **state)
{
	struct flowlog l, back;
	char err[256] = "";
	char *json, *again;
	(void)state;

	build_full(&l, "billing");
	json = flowlog_encode(&l);
	assert_non_null(json);
	assert_int_equal(flowlog_decode(json, &back, err, sizeof(err)), 0);
	assert_logs_equal(&l, &back);
	/* spot checks, in case both sides lost the same thing */
	assert_string_equal(back.flow, "order_status");
	assert_string_equal(back.lang, "pt");
	assert_string_equal(back.team, "billing");
	assert_string_equal(back.v[0].text, "my order is \"#12345\"\nthanks");
	assert_null(back.v[0].choice);
	assert_string_equal(back.v[1].choice, "yes");
	assert_int_equal(back.v[2].kind, FLOWLOG_HTTP);
	assert_int_equal(back.v[2].status, 200);
	assert_string_equal(back.v[2].body,
			    "{\"id\":\"A-1\",\"items\":[1,2,3],\"note\":\"caf\xc3\xa9\"}");
	assert_null(back.v[2].error);
	assert_int_equal(back.v[3].status, 0);
	assert_null(back.v[3].body);
	assert_string_equal(back.v[3].error, "timeout");
	assert_non_null(back.v[4].body); /* an empty body is not a missing one */
	assert_string_equal(back.v[4].body, "");
	assert_int_equal(back.v[4].status, 404);
	assert_string_equal(back.v[5].body, "bad gateway");
	assert_string_equal(back.v[5].error, "HTTP 502");
	assert_string_equal(back.v[6].text, "\xc3\xa1gua \xe2\x82\xac");
	assert_int_equal(back.v[7].kind, FLOWLOG_PENDING);
	assert_int_equal(flowlog_pending(&back), 1);
	/* the decoded log is a working log: the pending call resolves */
	assert_int_equal(flowlog_resolve(&back, 200, "{}", 2, NULL), 0);
	assert_int_equal(flowlog_add_answer(&back, "more", NULL), 0);
	assert_int_equal(back.n, 9);
	flowlog_clear(&back);

	/* encoding is stable */
	assert_int_equal(flowlog_decode(json, &back, err, sizeof(err)), 0);
	again = flowlog_encode(&back);
	assert_string_equal(again, json);
	free(again);
	flowlog_clear(&back);
	free(json);
	flowlog_clear(&l);

	/* no team, no entries */
	flowlog_init(&l, "password_reset", "en", NULL);
	json = flowlog_encode(&l);
	assert_int_equal(flowlog_decode(json, &back, err, sizeof(err)), 0);
	assert_logs_equal(&l, &back);
	assert_null(back.team);
	assert_int_equal(back.n, 0);
	assert_int_equal(flowlog_pending(&back), 0);
	flowlog_clear(&back);
	free(json);

	/* no team with entries */
	assert_int_equal(flowlog_add_answer(&l, "ana@example.com", NULL), 0);
	assert_int_equal(flowlog_add_pending(&l), 0);
	json = flowlog_encode(&l);
	assert_int_equal(flowlog_decode(json, &back, err, sizeof(err)), 0);
	assert_logs_equal(&l, &back);
	assert_null(back.team);
	flowlog_clear(&back);
	free(json);
	flowlog_clear(&l);
}

static void test_decode_accepts(void **state)
{
	struct flowlog l;
	char *s;
	(void)state;

	/* a hand-written document, keys in any order, whitespace */
	accepted("{ \"entries\": [ {\"text\": \"hi\", \"t\": \"answer\"},"
		 " {\"t\": \"http\", \"status\": 999},"
		 " {\"t\": \"http\", \"status\": 0, \"error\": \"timeout\"},"
		 " {\"t\": \"pending\"} ], \"lang\": \"pl\", \"flow\": \"x\", \"v\": 1 }",
		 &l);
	assert_string_equal(l.flow, "x");
	assert_string_equal(l.lang, "pl");
	assert_null(l.team);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[0].kind, FLOWLOG_ANSWER);
	assert_string_equal(l.v[0].text, "hi");
	assert_int_equal(l.v[1].kind, FLOWLOG_HTTP);
	assert_int_equal(l.v[1].status, 999);
	assert_null(l.v[1].body);
	assert_null(l.v[1].error);
	assert_int_equal(l.v[2].status, 0);
	assert_string_equal(l.v[2].error, "timeout");
	assert_int_equal(l.v[3].kind, FLOWLOG_PENDING);
	flowlog_clear(&l);

	/* exactly the cap */
	s = many_answers(FLOWLOG_MAX_ENTRIES);
	accepted(s, &l);
	assert_int_equal(l.n, FLOWLOG_MAX_ENTRIES);
	assert_string_equal(l.v[FLOWLOG_MAX_ENTRIES - 1].text, "a255");
	flowlog_clear(&l);
	free(s);
}

static void test_decode_refuses(void **state)
{
	char *s;
	char flow65[200];
	(void)state;

#define HDR "\"v\":1,\"flow\":\"f\",\"lang\":\"en\""
	refused("", "an empty string");
	refused("not json", "not JSON");
	refused("{\"v\":1,\"flow\":\"f\",\"lang\":\"en\",\"entries\":[]", "truncated JSON");
	refused("[1,2]", "an array");
	refused("\"log\"", "a string");
	/* the header */
	refused("{\"v\":2,\"flow\":\"f\",\"lang\":\"en\",\"entries\":[]}", "version 2");
	refused("{\"v\":0,\"flow\":\"f\",\"lang\":\"en\",\"entries\":[]}", "version 0");
	refused("{\"v\":\"1\",\"flow\":\"f\",\"lang\":\"en\",\"entries\":[]}", "version as text");
	refused("{\"flow\":\"f\",\"lang\":\"en\",\"entries\":[]}", "no version");
	refused("{\"v\":1,\"lang\":\"en\",\"entries\":[]}", "no flow");
	refused("{\"v\":1,\"flow\":null,\"lang\":\"en\",\"entries\":[]}", "a null flow");
	refused("{\"v\":1,\"flow\":5,\"lang\":\"en\",\"entries\":[]}", "a numeric flow");
	refused("{\"v\":1,\"flow\":\"f\",\"entries\":[]}", "no lang");
	refused("{\"v\":1,\"flow\":\"f\",\"lang\":[\"en\"],\"entries\":[]}", "lang as a list");
	refused("{" HDR ",\"team\":7,\"entries\":[]}", "a numeric team");
	refused("{" HDR "}", "no entries");
	refused("{" HDR ",\"entries\":{}}", "entries as an object");
	refused("{" HDR ",\"entries\":\"[]\"}", "entries as text");
	refused("{" HDR ",\"v\":1,\"entries\":[]}", "a duplicate key");
	refused("{\"v\":1,\"flow\":\"f\\u0000g\",\"lang\":\"en\",\"entries\":[]}",
		"a NUL in the flow name");
	snprintf(flow65, sizeof(flow65), "{\"v\":1,\"flow\":\"%065d\",\"lang\":\"en\",\"entries\":[]}", 0);
	refused(flow65, "a 65-byte flow name");
	/* entries */
	refused("{" HDR ",\"entries\":[5]}", "an entry that is not an object");
	refused("{" HDR ",\"entries\":[{\"text\":\"x\"}]}", "an entry without a kind");
	refused("{" HDR ",\"entries\":[{\"t\":5}]}", "a numeric kind");
	refused("{" HDR ",\"entries\":[{\"t\":\"bogus\"}]}", "an unknown kind");
	refused("{" HDR ",\"entries\":[{\"t\":\"ANSWER\",\"text\":\"x\"}]}", "a kind in capitals");
	refused("{" HDR ",\"entries\":[{\"t\":\"answer\"}]}", "an answer without text");
	refused("{" HDR ",\"entries\":[{\"t\":\"answer\",\"text\":5}]}", "a numeric answer");
	refused("{" HDR ",\"entries\":[{\"t\":\"answer\",\"text\":\"x\",\"choice\":1}]}",
		"a numeric choice");
	refused("{" HDR ",\"entries\":[{\"t\":\"answer\",\"text\":\"a\\u0000b\"}]}",
		"a NUL in an answer");
	refused("{" HDR ",\"entries\":[{\"t\":\"pending\"},{\"t\":\"answer\",\"text\":\"x\"}]}",
		"an answer after a pending call");
	refused("{" HDR ",\"entries\":[{\"t\":\"pending\"},{\"t\":\"pending\"}]}",
		"two pending calls");
	refused("{" HDR ",\"entries\":[{\"t\":\"pending\"},{\"t\":\"http\",\"status\":200}]}",
		"a reply after a pending call");
	refused("{" HDR ",\"entries\":[{\"t\":\"http\"}]}", "a reply without status");
	refused("{" HDR ",\"entries\":[{\"t\":\"http\",\"status\":\"200\"}]}", "status as text");
	refused("{" HDR ",\"entries\":[{\"t\":\"http\",\"status\":200.0}]}", "status as a real");
	refused("{" HDR ",\"entries\":[{\"t\":\"http\",\"status\":-1}]}", "a negative status");
	refused("{" HDR ",\"entries\":[{\"t\":\"http\",\"status\":1000}]}", "status 1000");
	refused("{" HDR ",\"entries\":[{\"t\":\"http\",\"status\":99999999999}]}", "a huge status");
	refused("{" HDR ",\"entries\":[{\"t\":\"http\",\"status\":200,\"body\":{}}]}",
		"a body that is not text");
	refused("{" HDR ",\"entries\":[{\"t\":\"http\",\"status\":0,\"error\":false}]}",
		"an error that is not text");
	/* a good entry before the bad one is not kept either */
	refused("{" HDR ",\"entries\":[{\"t\":\"answer\",\"text\":\"ok\"},{\"t\":\"nope\"}]}",
		"a bad second entry");
#undef HDR
	s = many_answers(FLOWLOG_MAX_ENTRIES + 1);
	refused(s, "too many entries");
	free(s);
}

static void test_decode_reasons(void **state)
{
	struct flowlog l;
	char err[256];
	(void)state;

	assert_int_equal(flowlog_decode("{oops", &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not JSON"));
	assert_int_equal(flowlog_decode("{\"v\":1,\"flow\":\"f\",\"lang\":\"en\",\"entries\":"
					"[{\"t\":\"answer\",\"text\":\"a\"},{\"t\":\"x\"}]}",
					&l, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "entry 2"));
	assert_zeroed(&l);
	/* a short buffer is still terminated */
	memset(err, 'x', sizeof(err));
	assert_int_equal(flowlog_decode("nope", &l, err, 8), -1);
	assert_int_equal(strlen(err), 7);
}

/* ------------------------------------------------------------ copies */

static void test_copy_is_deep(void **state)
{
	struct flowlog src, dst, empty, ecopy;
	char *before, *after;
	(void)state;

	build_full(&src, "billing");
	before = flowlog_encode(&src);
	flowlog_copy(&dst, &src);
	assert_logs_equal(&src, &dst);
	/* no string is shared */
	assert_ptr_not_equal(dst.flow, src.flow);
	assert_ptr_not_equal(dst.v, src.v);
	assert_ptr_not_equal(dst.v[0].text, src.v[0].text);
	assert_ptr_not_equal(dst.v[2].body, src.v[2].body);
	flowlog_clear(&src);
	/* the copy survives its source, and still works as a log */
	after = flowlog_encode(&dst);
	assert_string_equal(after, before);
	assert_int_equal(flowlog_pending(&dst), 1);
	assert_int_equal(flowlog_resolve(&dst, 200, "{}", 2, NULL), 0);
	assert_int_equal(flowlog_add_answer(&dst, "next", NULL), 0);
	assert_int_equal(dst.n, 9);
	assert_string_equal(dst.v[8].text, "next");
	free(before);
	free(after);
	flowlog_clear(&dst);

	/* an empty log without a team copies and grows */
	flowlog_init(&empty, "f", "en", NULL);
	flowlog_copy(&ecopy, &empty);
	flowlog_clear(&empty);
	assert_string_equal(ecopy.flow, "f");
	assert_null(ecopy.team);
	assert_int_equal(ecopy.n, 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(flowlog_add_answer(&ecopy, "x", NULL), 0);
	assert_int_equal(ecopy.n, 20);
	flowlog_clear(&ecopy);

	/* a copy of a copy, the source changed afterwards */
	build_full(&src, NULL);
	flowlog_copy(&dst, &src);
	assert_int_equal(flowlog_resolve(&src, 500, "x", 1, NULL), 0);
	assert_int_equal(dst.v[7].kind, FLOWLOG_PENDING);
	assert_int_equal(src.v[7].kind, FLOWLOG_HTTP);
	flowlog_clear(&src);
	flowlog_clear(&dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_and_clear),
		cmocka_unit_test(test_add_answers),
		cmocka_unit_test(test_pending_and_resolve),
		cmocka_unit_test(test_entry_cap),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_decode_accepts),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_decode_reasons),
		cmocka_unit_test(test_copy_is_deep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
