/* test_decision.c: the shipped lua/pipeline.lua's decisions, table-driven:
 * the brain's signals are made by hand, so each rule of the policy
 * (answer, "did you mean A or B", "did you mean A", fallback, a flow that
 * cannot run, languages) is tested on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "script.h"

static const logger quiet = {LOG_ERROR};

static int setup(void **state)
{
	struct script_limits lim = {1000000, 8u << 20};
	char err[1024];
	script *sc = script_open("lua/pipeline.lua", &lim, &quiet, err, sizeof(err));
	if (!sc)
		fail_msg("%s", err);
	*state = sc;
	return 0;
}

static int teardown(void **state)
{
	script_close(*state);
	return 0;
}

/* A candidate: source, label, answer (NULL for a flow), confidence. */
static struct brain_candidate cand(const char *source, const char *label, const char *answer,
				   const char *flow, double confidence)
{
	struct brain_candidate c;
	memset(&c, 0, sizeof(c));
	snprintf(c.source, sizeof(c.source), "%s", source);
	c.kind = !strncmp(source, "faq:", 4) ? BRAIN_FAQ : BRAIN_INTENT;
	c.name = strchr(source, ':') + 1;
	c.label = label;
	c.answer = answer;
	c.flow = flow;
	c.team = "general";
	c.confidence = confidence;
	c.model = confidence;
	return c;
}

struct outcome {
	struct wire_reply *r;
	size_t n;
};

static void decide(script *sc, const char *lang, const char *text, struct brain_result *u,
		   struct outcome *o)
{
	const struct script_conversation conv = {"c_test", lang, NULL, 1};
	char err[1024];

	snprintf(u->lang, sizeof(u->lang), "%s", lang ? lang : "en");
	u->thresholds = (struct rule_thresholds){0.55, 0.35, 0.15};
	u->margin = u->n > 1 ? u->top[0].confidence - u->top[1].confidence
			     : (u->n ? u->top[0].confidence : 0);
	if (script_on_message(sc, &conv, text, strlen(text), u, &o->r, &o->n, err, sizeof(err)))
		fail_msg("on_message failed: %s", err);
	assert_int_equal(o->n, 1);
	assert_true(o->r[0].has_confidence);
}

static void clear(struct outcome *o)
{
	for (size_t i = 0; i < o->n; i++)
		wire_reply_clear(&o->r[i]);
	free(o->r);
}

static void test_confident_answer(void **state)
{
	struct brain_result u = {0};
	struct outcome o;
	u.top[0] = cand("faq:returns", "Returns", "Send it back within 30 days.", NULL, 0.92);
	u.top[1] = cand("faq:refunds", "Refunds", "Refunds take 5 days.", NULL, 0.30);
	u.n = 2;
	decide(*state, "en", "how do I return this", &u, &o);
	assert_string_equal(o.r[0].source, "faq:returns");
	assert_string_equal(o.r[0].text, "Send it back within 30 days.");
	assert_true(o.r[0].confidence == 0.92);
	assert_int_equal(o.r[0].n_choices, 0);
	clear(&o);
}

static void test_two_close_candidates_ask(void **state)
{
	struct brain_result u = {0};
	struct outcome o;
	/* both above answer, but within clarify_margin: a near tie is a guess */
	u.top[0] = cand("intent:cancel_order", "Cancel my order", "a", NULL, 0.70);
	u.top[1] = cand("faq:newsletter-unsubscribe", "Unsubscribe", "b", NULL, 0.62);
	u.top[2] = cand("faq:delete-account", "Delete my account", "c", NULL, 0.10);
	u.n = 3;
	decide(*state, "en", "cancel", &u, &o);
	assert_string_equal(o.r[0].source, "clarify");
	assert_int_equal(o.r[0].n_choices, 3);
	assert_string_equal(o.r[0].choices[0].id, "intent:cancel_order");
	assert_string_equal(o.r[0].choices[0].label, "Cancel my order");
	assert_string_equal(o.r[0].choices[1].id, "faq:newsletter-unsubscribe");
	assert_string_equal(o.r[0].choices[2].id, "handoff");
	assert_true(o.r[0].confidence == 0.70);
	clear(&o);
}

static void test_one_likely_candidate_asks_to_confirm(void **state)
{
	struct brain_result u = {0};
	struct outcome o;
	u.top[0] = cand("faq:warranty", "Guarantee and warranty", "x", NULL, 0.45);
	u.top[1] = cand("faq:returns", "Returns", "y", NULL, 0.10);
	u.n = 2;
	decide(*state, "en", "it broke", &u, &o);
	assert_string_equal(o.r[0].source, "clarify");
	assert_non_null(strstr(o.r[0].text, "Guarantee and warranty"));
	assert_int_equal(o.r[0].n_choices, 2);
	assert_string_equal(o.r[0].choices[0].id, "faq:warranty");
	assert_string_equal(o.r[0].choices[1].id, "other");
	clear(&o);
}

static void test_low_confidence_falls_back_and_offers_a_person(void **state)
{
	struct brain_result u = {0};
	struct outcome o;
	u.top[0] = cand("faq:international-shipping", "Shipping abroad", "x", NULL, 0.22);
	u.n = 1;
	decide(*state, "en", "what is the capital of France", &u, &o);
	assert_string_equal(o.r[0].source, "fallback");
	assert_true(o.r[0].confidence == 0.22);
	assert_int_equal(o.r[0].n_choices, 1);
	assert_string_equal(o.r[0].choices[0].id, "handoff");
	clear(&o);

	/* nothing at all: the same, at confidence 0 */
	struct brain_result none = {0};
	decide(*state, "en", "\xf0\x9f\x98\x80", &none, &o);
	assert_string_equal(o.r[0].source, "fallback");
	assert_true(o.r[0].confidence == 0.0);
	clear(&o);
}

static void test_flow_without_answer_offers_a_person(void **state)
{
	struct brain_result u = {0};
	struct outcome o;
	u.top[0] = cand("intent:track_order", "Track my order", NULL, "order_status", 0.95);
	u.n = 1;
	decide(*state, "en", "where is my parcel", &u, &o);
	assert_string_equal(o.r[0].source, "intent:track_order");
	assert_non_null(strstr(o.r[0].text, "Track my order"));
	assert_int_equal(o.r[0].n_choices, 1);
	assert_string_equal(o.r[0].choices[0].id, "handoff");
	clear(&o);
}

static void test_languages_and_greetings(void **state)
{
	struct brain_result u = {0};
	struct outcome o;
	decide(*state, "pt-BR", "quero falar sobre dinossauros", &u, &o);
	assert_string_equal(o.r[0].source, "fallback");
	assert_non_null(strstr(o.r[0].text, "Desculpe"));
	assert_string_equal(o.r[0].choices[0].label, "Falar com uma pessoa");
	clear(&o);

	decide(*state, "pl", "xyz", &u, &o);
	assert_non_null(strstr(o.r[0].text, "Przepraszam"));
	clear(&o);

	/* a greeting wins even with no candidates, in its own language */
	decide(*state, NULL, "Olá!", &u, &o);
	assert_string_equal(o.r[0].source, "greeting");
	assert_non_null(strstr(o.r[0].text, "Olá"));
	assert_true(o.r[0].confidence == 1.0);
	clear(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confident_answer),
		cmocka_unit_test(test_two_close_candidates_ask),
		cmocka_unit_test(test_one_likely_candidate_asks_to_confirm),
		cmocka_unit_test(test_low_confidence_falls_back_and_offers_a_person),
		cmocka_unit_test(test_flow_without_answer_offers_a_person),
		cmocka_unit_test(test_languages_and_greetings),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
