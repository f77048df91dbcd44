/* test_brain.c: candidates, merging, patterns, buttons and languages on a
 * small hand-made content set; then the table of sample questions in
 * tests/brain_cases.tsv against the shipped faq/ and rules/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "brain.h"
#include "diag.h"
#include "faq.h"
#include "rules.h"
#include "repo_languages.h"

static const logger quiet = {LOG_ERROR};

static const char *const faq_files[][2] = {
	{"password-reset",
	 "---\nid: password-reset\ntitle: Resetting your password\nteam: accounts\nquestions:\n"
	 "  - how do I reset my password\n  - I can't log in to my account\n"
	 "  - change my password\n---\nChoose **Forgot password?** on the sign-in page.\n"},
	{"opening-hours",
	 "---\nid: opening-hours\ntitle: Opening hours\nquestions:\n  - when are you open\n"
	 "  - what time does the shop open\n  - are you open on sundays\n---\n"
	 "We are open from 9:00 to 17:00, Monday to Friday.\n"},
	{"refunds",
	 "---\nid: refunds\ntitle: When will I get my refund?\nteam: billing\nquestions:\n"
	 "  - when will I get my money back\n  - how long does a refund take\n"
	 "  - refund status\n---\nRefunds reach your card within 5 working days.\n"},
};

static const char rules_yaml[] =
	"intents:\n"
	"  - name: reset_password\n"
	"    label: Reset my password\n"
	"    team: accounts\n"
	"    faq: password-reset\n"
	"    patterns:\n"
	"      - '\\b(forgot|forgotten|lost)\\b.{0,30}\\bpassword'\n"
	"    examples:\n"
	"      - I forgot my password\n"
	"      - lost my password\n"
	"  - name: human_agent\n"
	"    label: Talk to a person\n"
	"    priority: 5\n"
	"    reply: I will find a person for you.\n"
	"    patterns:\n"
	"      - '\\b(human|person|agent)\\b'\n"
	"    examples:\n"
	"      - let me talk to someone\n"
	"      - can I speak with a real person\n"
	"  - name: thanks\n"
	"    label: Thanks\n"
	"    reply: You're welcome!\n"
	"    examples:\n"
	"      - thank you\n"
	"      - thanks a lot\n"
	"      - cheers, that helped\n";

static brain *small_brain(void)
{
	struct faq_set faqs = {0};
	struct rule_set rules = {0};
	struct diag d;
	diag_init(&d);
	rules_thresholds_default(&rules.thresholds);
	language_set_copy(&rules.languages, repo_languages()); /* as rules_load gives them */
	faqs.cap = sizeof(faq_files) / sizeof(faq_files[0]);
	faqs.v = calloc(faqs.cap, sizeof(*faqs.v));
	assert_non_null(faqs.v);
	for (size_t i = 0; i < faqs.cap; i++) {
		char file[64];
		snprintf(file, sizeof(file), "faq/en/%s.md", faq_files[i][0]);
		assert_int_equal(faq_parse(file, "en", faq_files[i][1], strlen(faq_files[i][1]),
					   &faqs.v[faqs.n], &d), 0);
		faqs.n++;
	}
	assert_int_equal(rules_parse("rules/en/test.yaml", "en", rules_yaml, strlen(rules_yaml),
				     &rules, &d), 0);
	assert_int_equal(d.n, 0);
	brain *b = brain_build(&faqs, &rules, NULL, &quiet, &d);
	assert_non_null(b);
	assert_int_equal(d.n, 0);
	diag_clear(&d);
	return b;
}

static void understand(brain *b, const char *lang, const char *text, const char *choice,
		       struct brain_result *r)
{
	brain_understand(b, lang, text, strlen(text), choice, r);
	for (size_t i = 0; i < r->n; i++) {
		assert_true(r->top[i].confidence >= 0 && r->top[i].confidence <= 1);
		/* best first; equal confidences (within 1e-9) go by priority */
		if (i)
			assert_true(r->top[i].confidence <= r->top[i - 1].confidence + 1e-9);
	}
}

static void test_pattern_and_merge(void **state)
{
	brain *b = *state;
	struct brain_result r;

	understand(b, "en", "Help, I FORGOT my password again", NULL, &r);
	assert_true(r.n >= 1);
	assert_string_equal(r.top[0].source, "intent:reset_password");
	assert_non_null(r.top[0].pattern);
	assert_true(r.top[0].confidence >= BRAIN_PATTERN_CONFIDENCE);
	/* the intent answers with its FAQ entry, and the entry is not listed
	 * again as a competitor */
	assert_string_equal(r.top[0].faq, "password-reset");
	assert_string_equal(r.top[0].answer, "Choose **Forgot password?** on the sign-in page.");
	assert_string_equal(r.top[0].team, "accounts");
	for (size_t i = 1; i < r.n; i++)
		assert_string_not_equal(r.top[i].source, "faq:password-reset");
	int saw_password = 0;
	for (size_t i = 0; i < r.top[0].n_terms; i++)
		saw_password |= !strcmp(r.top[0].terms[i], "password");
	assert_true(saw_password);
	assert_true(r.margin > 0);
	brain_result_clear(&r);
}

static void test_faq_answer(void **state)
{
	brain *b = *state;
	struct brain_result r;

	understand(b, "en", "are you open on saturday?", NULL, &r);
	assert_true(r.n >= 1);
	assert_string_equal(r.top[0].source, "faq:opening-hours");
	assert_int_equal(r.top[0].kind, BRAIN_FAQ);
	assert_string_equal(r.top[0].label, "Opening hours");
	assert_null(r.top[0].pattern);
	brain_result_clear(&r);

	/* a typo still finds the refund entry */
	understand(b, "en", "how long does a refnud take", NULL, &r);
	assert_true(r.n >= 1);
	assert_string_equal(r.top[0].source, "faq:refunds");
	brain_result_clear(&r);
}

static void test_choice(void **state)
{
	brain *b = *state;
	struct brain_result r;

	understand(b, "en", "When will I get my refund?", "faq:refunds", &r);
	assert_string_equal(r.top[0].source, "faq:refunds");
	assert_true(r.top[0].confidence == 1.0);
	brain_result_clear(&r);

	understand(b, "en", "Talk to a person", "intent:human_agent", &r);
	assert_string_equal(r.top[0].source, "intent:human_agent");
	assert_string_equal(r.top[0].answer, "I will find a person for you.");
	brain_result_clear(&r);

	/* unknown ids change nothing */
	understand(b, "en", "thank you so much", "faq:nope", &r);
	assert_string_equal(r.top[0].source, "intent:thanks");
	brain_result_clear(&r);
}

static void test_nothing_to_understand(void **state)
{
	brain *b = *state;
	struct brain_result r;
	static const char *const texts[] = {"", "   ", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", "?!"};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		understand(b, "en", texts[i], NULL, &r);
		assert_int_equal(r.n, 0);
		assert_int_equal(r.n_words, 0);
		brain_result_clear(&r);
	}
	/* invalid UTF-8 never reaches the brain through the protocol, but the
	 * brain copes anyway */
	brain_understand(b, "en", "\xff\xfe", 2, NULL, &r);
	assert_int_equal(r.n, 0);
	brain_result_clear(&r);

	/* an unrelated question: low confidence everywhere */
	understand(b, "en", "what is the capital of France", NULL, &r);
	if (r.n)
		assert_true(r.top[0].confidence < 0.5);
	brain_result_clear(&r);
}

static void test_languages(void **state)
{
	brain *b = *state;
	const char *const *langs = brain_languages(b);
	assert_string_equal(langs[0], "en");
	assert_null(langs[1]);
	assert_string_equal(brain_language_for(b, "EN-gb"), "en");
	assert_string_equal(brain_language_for(b, "pt-BR"), "en"); /* no pt content: default */
	assert_string_equal(brain_language_for(b, NULL), "en");
	assert_string_equal(brain_language_for(b, "x"), "en");

	struct brain_result r;
	understand(b, "pt", "I forgot my password", NULL, &r);
	assert_string_equal(r.lang, "en");
	assert_string_equal(r.top[0].source, "intent:reset_password");
	struct rule_thresholds th;
	rules_thresholds_default(&th);
	assert_true(r.thresholds.answer == th.answer);
	brain_result_clear(&r);

	struct brain_stats st;
	brain_get_stats(b, &st);
	assert_int_equal(st.languages, 1);
	assert_int_equal(st.faq_entries, 3);
	assert_int_equal(st.intents, 3);
	assert_int_equal(st.patterns, 2);
	/* reset_password shares its class with password-reset: 3 intents + 2 entries */
	assert_int_equal(st.model_classes, 5);
}

static void test_empty_content_refused(void **state)
{
	struct faq_set faqs = {0};
	struct rule_set rules = {0};
	struct diag d;
	(void)state;
	diag_init(&d);
	assert_null(brain_build(&faqs, &rules, NULL, &quiet, &d));
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0], "the bot would know nothing"));
	diag_clear(&d);
}

/* tests/brain_cases.tsv: lang<TAB>question<TAB>expected, where expected
 * lists alternatives separated by '|': a source (the best candidate, at
 * least `clarify` confident), "fallback" (nothing reaches `clarify`) or
 * "clarify:SOURCE" (the best, between `clarify` and `answer`). */
static void test_shipped_content_cases(void **state)
{
	struct diag d;
	struct brain_limits lim;
	(void)state;
	diag_init(&d);
	brain_limits_default(&lim);
	brain *b = brain_load(".", &lim, &quiet, &d);
	for (size_t i = 0; i < d.n; i++)
		print_error("%s\n", d.v[i]);
	assert_non_null(b);

	FILE *f = fopen("tests/brain_cases.tsv", "r");
	assert_non_null(f);
	char line[1024];
	int lineno = 0, cases = 0, failed = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (lineno == 1 || !line[0] || line[0] == '#')
			continue;
		char *lang = line, *q = strchr(lang, '\t'), *want;
		assert_non_null(q);
		*q++ = 0;
		want = strchr(q, '\t');
		assert_non_null(want);
		*want++ = 0;

		struct brain_result r;
		brain_understand(b, lang, q, strlen(q), NULL, &r);
		const char *got = r.n ? r.top[0].source : "none";
		double conf = r.n ? r.top[0].confidence : 0;
		int ok = 0;
		char alts[256];
		snprintf(alts, sizeof(alts), "%s", want);
		for (char *save = NULL, *alt = strtok_r(alts, "|", &save); alt;
		     alt = strtok_r(NULL, "|", &save)) {
			if (!strcmp(alt, "fallback"))
				ok |= conf < r.thresholds.clarify;
			else if (!strncmp(alt, "clarify:", 8))
				ok |= !strcmp(alt + 8, got) && conf >= r.thresholds.clarify &&
				      conf < r.thresholds.answer;
			else
				ok |= !strcmp(alt, got) && conf >= r.thresholds.clarify;
		}
		if (!ok) {
			print_error("tests/brain_cases.tsv:%d: \"%s\" -> %s (%.2f), want %s\n", lineno,
				    q, got, conf, want);
			failed++;
		}
		cases++;
		brain_result_clear(&r);
	}
	fclose(f);
	brain_free(b);
	diag_clear(&d);
	assert_true(cases >= 40);
	assert_int_equal(failed, 0);
}

static int setup(void **state)
{
	*state = small_brain();
	return 0;
}

static int teardown(void **state)
{
	brain_free(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_and_merge),
		cmocka_unit_test(test_faq_answer),
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_nothing_to_understand),
		cmocka_unit_test(test_languages),
		cmocka_unit_test(test_empty_content_refused),
		cmocka_unit_test(test_shipped_content_cases),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
