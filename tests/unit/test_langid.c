/* test_langid.c: the language detector on lines whose language is known. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "langid.h"
#include "repo_languages.h"

static int setup(void **state)
{
	const struct language *ours[] = {repo_language("en"), repo_language("pt"),
					 repo_language("pl")};
	char err[300];
	*state = langid_open(ours, 3, LANGID_DIR, err, sizeof(err));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	langid_close(*state);
	return 0;
}

/* sure -1: either way */
static void expect(const langid *li, const char *text, const char *lang, int sure)
{
	struct langid_guess g;
	langid_guess(li, text, strlen(text), &g);
	if (strcmp(g.lang, lang) || (sure >= 0 && g.sure != sure))
		fail_msg("\"%s\": got %s (sure %d, margin %.3f), expected %s (sure %d)", text, g.lang,
			 g.sure, g.margin, lang, sure);
}

static void test_clear_lines(void **state)
{
	const langid *li = *state;
	expect(li, "I still haven't received my order and it has been two weeks", "en", 1);
	expect(li, "Ainda não recebi a minha encomenda e já passaram duas semanas", "pt", 1);
	expect(li, "Nadal nie otrzymałem zamówienia, a minęły już dwa tygodnie", "pl", 1);
}

/* Folding is the brain's business: a line typed without diacritics is
 * still told apart (Portuguese without its accents is close to Galician
 * and Spanish, so not surely). */
static void test_without_diacritics(void **state)
{
	const langid *li = *state;
	expect(li, "nie moge sie zalogowac do mojego konta", "pl", 1);
	expect(li, "nao consigo entrar na minha conta de cliente", "pt", -1);
}

/* A neighbour of ours is not taken for one of ours. */
static void test_neighbours_are_not_ours(void **state)
{
	const langid *li = *state;
	struct langid_guess g;
	const char *es = "Todavía no he recibido mi pedido y ya han pasado dos semanas";
	langid_guess(li, es, strlen(es), &g);
	assert_int_equal(g.sure, 0);
}

static void test_nothing_to_go_on(void **state)
{
	const langid *li = *state;
	struct langid_guess g;
	langid_guess(li, "", 0, &g);
	assert_string_equal(g.lang, "");
	assert_int_equal(g.sure, 0);
	langid_guess(NULL, "hello there", 11, &g);
	assert_string_equal(g.lang, "");
	langid_guess(li, "\xff\xfe 12345 !!!", 13, &g);
	assert_int_equal(g.sure, 0);
}

static void test_unknown_language_is_refused(void **state)
{
	struct language qq = {.code = "qq", .fingerprint = "qq", .file = "rules/qq/language.yaml"};
	const struct language *bad[] = {repo_language("en"), &qq};
	char err[300];
	(void)state;
	assert_null(langid_open(bad, 2, LANGID_DIR, err, sizeof(err)));
	assert_non_null(strstr(err, "qq.lm"));
	assert_non_null(strstr(err, "rules/qq/language.yaml")); /* the editor's file */
}

/* A line reads as a language by its function words only when they plainly
 * say so; anything else is left to the fingerprints. */
static void test_reads_as(void **state)
{
	const langid *li = *state;
	static const struct {
		const char *text, *lang;
		int reads;
	} cases[] = {
		{"I forgot my password and I cannot log in to my account", "en", 1},
		{"the quick brown fox jumps over the lazy dog", "en", 0}, /* "the" twice */
		{"the quick brown fox jumps over the lazy dog and the cat", "en", 1},
		{"I forgot my password and I cannot log in to my account", "pt", 0},
		{"eu esqueci a minha senha e não consigo entrar na minha conta", "pt", 1},
		{"eu esqueci a minha senha e não consigo entrar na minha conta", "en", 0},
		{"zapomniałem hasła i nie mogę się zalogować do mojego konta",
		 "pl", 1},
		{"zapomniałem hasła i nie mogę się zalogować do mojego konta",
		 "en", 0},
		{"password reset please", "en", 0},   /* too few to tell */
		{"", "en", 0},
		{"the and of", "xx", 0},              /* not one of ours */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = langid_reads_as(li, cases[i].text, strlen(cases[i].text), cases[i].lang);
		if (got != cases[i].reads)
			fail_msg("\"%s\" as %s: %d", cases[i].text, cases[i].lang, got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clear_lines),
		cmocka_unit_test(test_reads_as),
		cmocka_unit_test(test_without_diacritics),
		cmocka_unit_test(test_neighbours_are_not_ours),
		cmocka_unit_test(test_nothing_to_go_on),
		cmocka_unit_test(test_unknown_language_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
