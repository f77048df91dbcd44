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

#include "config.h"
#include "diag.h"
#include "flow.h"
#include "script.h"

static const logger quiet = {LOG_ERROR};

/* The script, and the flow host that gives it the catalogs (text(),
 * own_text(), languages()) as in the daemon. */
static struct config cfg;
static flowhost *catalogs;

static int setup(void **state)
{
	struct script_limits lim = {1000000, 8u << 20};
	char err[1024];
	struct diag d;
	script *sc = script_open("lua/pipeline.lua", &lim, &quiet, err, sizeof(err));
	if (!sc)
		fail_msg("%s", err);
	config_defaults(&cfg);
	diag_init(&d);
	catalogs = flowhost_open(sc, ".", &cfg, &quiet, &d);
	if (!catalogs)
		fail_msg("%s", d.n ? d.v[0] : "no flows");
	diag_clear(&d);
	*state = sc;
	return 0;
}

static int teardown(void **state)
{
	flowhost_close(catalogs);
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
	struct script_action action;
};

/* Runs on_message; flow names a flow waiting for the answer, choice a
 * button pressed (both may be NULL). */
static void decide_in(script *sc, const char *lang, const char *text, const char *flow,
		      const char *choice, struct brain_result *u, struct outcome *o)
{
	const struct script_conversation conv = {"c_test", lang, NULL, 1, flow, choice, 0, NULL};
	char err[1024];

	memset(o, 0, sizeof(*o));
	snprintf(u->lang, sizeof(u->lang), "%s", lang ? lang : "en");
	u->thresholds = (struct rule_thresholds){0.55, 0.35, 0.15};
	if (script_on_message(sc, &conv, text, strlen(text), u, NULL, &o->r, &o->n, &o->action, err,
			      sizeof(err)))
		fail_msg("on_message failed: %s", err);
}

static void decide(script *sc, const char *lang, const char *text, struct brain_result *u,
		   struct outcome *o)
{
	const struct script_conversation conv = {"c_test", lang, NULL, 1, NULL, NULL, 0, NULL};
	char err[1024];

	snprintf(u->lang, sizeof(u->lang), "%s", lang ? lang : "en");
	u->thresholds = (struct rule_thresholds){0.55, 0.35, 0.15};
	u->margin = u->n > 1 ? u->top[0].confidence - u->top[1].confidence
			     : (u->n ? u->top[0].confidence : 0);
	if (script_on_message(sc, &conv, text, strlen(text), u, NULL, &o->r, &o->n, &o->action, err,
			      sizeof(err)))
		fail_msg("on_message failed: %s", err);
	assert_int_equal(o->n, 1);
	assert_true(o->r[0].has_confidence);
}

static void clear(struct outcome *o)
{
	for (size_t i = 0; i < o->n; i++)
		wire_reply_clear(&o->r[i]);
	free(o->r);
	script_action_clear(&o->action);
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

static void test_flow_intent_starts_its_flow(void **state)
{
	struct brain_result u = {0};
	struct outcome o;
	u.top[0] = cand("intent:track_order", "Track my order", NULL, "order_status", 0.95);
	u.top[0].team = "orders";
	u.n = 1;
	decide_in(*state, "pt-PT", "onde está a minha encomenda", NULL, NULL, &u, &o);
	assert_int_equal(o.n, 0);
	assert_string_equal(o.action.start_flow, "order_status");
	assert_string_equal(o.action.lang, "pt");
	assert_string_equal(o.action.team, "orders");
	clear(&o);

	/* unsure: it asks first, and starts nothing */
	u.top[0].confidence = 0.4;
	decide_in(*state, "en", "parcel", NULL, NULL, &u, &o);
	assert_null(o.action.start_flow);
	assert_string_equal(o.r[0].source, "clarify");
	clear(&o);
}

static void test_waiting_flow_takes_the_answer(void **state)
{
	struct brain_result u = {0};
	struct outcome o;
	/* even text the brain is sure about goes to the flow */
	u.top[0] = cand("faq:returns", "Returns", "Send it back.", NULL, 0.97);
	u.n = 1;
	decide_in(*state, "en", "jane@example.com", "password_reset", NULL, &u, &o);
	assert_int_equal(o.n, 0);
	assert_true(o.action.to_flow);
	assert_false(o.action.cancel_flow);
	clear(&o);
}

static void test_waiting_flow_can_be_left(void **state)
{
	static const char *const exits[] = {"cancel", "Never mind!", "stop please", "esquece",
					    "anuluj", NULL};
	struct brain_result u = {0};
	struct outcome o;

	for (const char *const *e = exits; *e; e++) {
		decide_in(*state, "en", *e, "order_status", NULL, &u, &o);
		assert_true(o.action.cancel_flow);
		assert_int_equal(o.n, 1);
		assert_string_equal(o.r[0].source, "flow:order_status");
		clear(&o);
	}
	/* the cancel button */
	decide_in(*state, "en", "x", "order_status", "cancel", &u, &o);
	assert_true(o.action.cancel_flow);
	clear(&o);
	/* a sentence that merely contains "stop" is an answer */
	decide_in(*state, "en", "the parcel did not stop at my house at all", "order_status", NULL,
		  &u, &o);
	assert_false(o.action.cancel_flow);
	assert_true(o.action.to_flow);
	clear(&o);
}

/* on_message with a mood: whether it hands off, and says the customer is upset. */
static int hands_off_upset(script *sc, const struct mood_score *m, const struct mood_trend *t)
{
	const struct script_conversation conv = {"c_test", "en", NULL, 1, NULL, NULL, 0, NULL};
	const struct script_mood sm = {m, t};
	struct brain_result u = {0};
	struct outcome o = {0};
	char err[1024];
	int r;

	u.top[0] = cand("faq:returns", "Returns", "Send it back.", NULL, 0.97);
	u.n = 1;
	snprintf(u.lang, sizeof(u.lang), "en");
	u.thresholds = (struct rule_thresholds){0.55, 0.35, 0.15};
	if (script_on_message(sc, &conv, "x", 1, &u, &sm, &o.r, &o.n, &o.action, err, sizeof(err)))
		fail_msg("on_message failed: %s", err);
	r = o.action.handoff && o.action.upset;
	if (r)
		assert_non_null(o.action.handoff_reason);
	clear(&o);
	return r;
}

static void test_person_asked_in_portuguese_and_polish(void **state)
{
	static const char *const asks[] = {"Quero falar com um atendente", "preciso falar com uma pessoa",
					   "chcę rozmawiać z konsultantem", "Proszę połącz mnie z człowiekiem",
					   NULL};
	static const char *const not_asks[] = {"o atendente foi simpático", "konsultant był miły",
					       "falar", NULL};
	struct brain_result u = {0};
	struct outcome o;

	for (const char *const *q = asks; *q; q++) {
		decide_in(*state, "pt", *q, NULL, NULL, &u, &o);
		if (!o.action.handoff)
			fail_msg("\"%s\" did not hand off", *q);
		clear(&o);
	}
	for (const char *const *q = not_asks; *q; q++) {
		decide_in(*state, "pt", *q, NULL, NULL, &u, &o);
		if (o.action.handoff)
			fail_msg("\"%s\" handed off", *q);
		clear(&o);
	}
}

/* Asking for a person goes to the team of what the conversation was about. */
static void test_person_goes_to_the_topic_team(void **state)
{
	const struct script_conversation conv = {"c_test", "en", NULL, 2, NULL, NULL, 0, "billing"};
	struct brain_result u = {0};
	struct outcome o = {0};
	char err[1024];

	u.top[0] = cand("intent:human_agent", "Talk to a person", "Connecting you.", NULL, 0.95);
	u.n = 1;
	snprintf(u.lang, sizeof(u.lang), "en");
	u.thresholds = (struct rule_thresholds){0.55, 0.35, 0.15};
	if (script_on_message(*state, &conv, "talk to a person", 16, &u, NULL, &o.r, &o.n, &o.action,
			      err, sizeof(err)))
		fail_msg("on_message failed: %s", err);
	assert_true(o.action.handoff);
	assert_string_equal(o.action.handoff_team, "billing");
	clear(&o);
}

static void test_upset_customers_are_handed_off(void **state)
{
	struct mood_score m;
	struct mood_trend t;

	/* calm: answered */
	memset(&m, 0, sizeof(m));
	mood_trend_init(&t);
	assert_false(hands_off_upset(*state, &m, &t));
	/* "cancel my account" alone is a request, not anger */
	m.threat = 1;
	m.threat_kinds = MOOD_THREAT_CANCEL;
	m.score = 0.3;
	assert_false(hands_off_upset(*state, &m, &t));
	/* a lawyer is always a person's job */
	m.threat_kinds = MOOD_THREAT_CANCEL | MOOD_THREAT_LEGAL;
	assert_true(hands_off_upset(*state, &m, &t));
	/* one mildly upset message: the bot may still help */
	memset(&m, 0, sizeof(m));
	m.score = 0.6;
	m.upset = 1;
	t.messages = 1;
	t.streak = 1;
	t.level = 0.6;
	t.upset = 1;
	assert_false(hands_off_upset(*state, &m, &t));
	/* the second in a row, or with swearing, or very upset: a person */
	t.messages = 2;
	t.streak = 2;
	assert_true(hands_off_upset(*state, &m, &t));
	t.streak = 1;
	t.messages = 1;
	m.profanity = 1;
	assert_true(hands_off_upset(*state, &m, &t));
	m.profanity = 0;
	m.score = 0.85;
	assert_true(hands_off_upset(*state, &m, &t));
}

static void test_asking_for_a_person_hands_off(void **state)
{
	struct brain_result u = {0};
	struct outcome o;

	u.top[0] = cand("intent:human_agent", "Talk to a person", "Connecting you.", NULL, 0.95);
	u.top[0].team = "support";
	u.n = 1;
	/* during a flow */
	decide_in(*state, "en", "talk to a person", "password_reset", NULL, &u, &o);
	assert_true(o.action.handoff);
	assert_false(o.action.to_flow);
	assert_non_null(strstr(o.action.handoff_reason, "password_reset"));
	clear(&o);
	/* outside one: the intent's team and its reply text */
	decide_in(*state, "en", "talk to a person", NULL, NULL, &u, &o);
	assert_true(o.action.handoff);
	assert_string_equal(o.action.handoff_team, "support");
	assert_string_equal(o.action.handoff_text, "Connecting you.");
	clear(&o);
	/* the button offered with a fallback */
	memset(&u, 0, sizeof(u));
	decide_in(*state, "en", "Talk to a person", NULL, "handoff", &u, &o);
	assert_true(o.action.handoff);
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
		cmocka_unit_test(test_flow_intent_starts_its_flow),
		cmocka_unit_test(test_waiting_flow_takes_the_answer),
		cmocka_unit_test(test_waiting_flow_can_be_left),
		cmocka_unit_test(test_asking_for_a_person_hands_off),
		cmocka_unit_test(test_upset_customers_are_handed_off),
		cmocka_unit_test(test_person_asked_in_portuguese_and_polish),
		cmocka_unit_test(test_person_goes_to_the_topic_team),
		cmocka_unit_test(test_languages_and_greetings),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
