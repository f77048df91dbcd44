/* test_language.c: unit tests for src/language.c (language.yaml) and the
 * analyzers built from it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "language.h"
#include "text.h"
#include "repo_languages.h"

#define FILE_DE "rules/de/language.yaml"

/* Fails unless d holds exactly the problems of want (NULL-terminated), in order. */
static void expect_problems(const struct diag *d, const char *const *want)
{
	size_t n = 0;
	for (; want[n]; n++) {
		if (n >= d->n)
			fail_msg("missing problem: %s", want[n]);
		if (strcmp(d->v[n], want[n]))
			fail_msg("problem %zu:\n  got:  %s\n  want: %s", n, d->v[n], want[n]);
	}
	if (d->n != n)
		fail_msg("unexpected problem: %s", d->v[n]);
}

static int parse(const char *code, const char *yaml, struct language *out, struct diag *d)
{
	return language_parse(FILE_DE, code, yaml, strlen(yaml), out, d);
}

/* A fourth language is a file: German through libstemmer's Snowball. */
static void test_a_new_language_from_a_file(void **state)
{
	static const char yaml[] =
		"# German\n"
		"name: Deutsch\n"
		"stemmer:\n"
		"  snowball: german\n"
		"stop_words: [der, die, das, ich, mein, Über, über, und]\n"
		"detection:\n"
		"  fingerprint: de\n"
		"  rivals: [nl, da]\n";
	struct language l;
	struct diag d;
	struct tokens t;
	analyzer *a;
	(void)state;

	diag_init(&d);
	assert_int_equal(parse("de", yaml, &l, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(l.code, "de");
	assert_string_equal(l.name, "Deutsch");
	assert_string_equal(l.snowball, "german");
	assert_null(l.hunspell);
	assert_int_equal(l.prefix, 0);
	/* folded, sorted, without repeats: "Über" and "über" are one word */
	assert_int_equal(l.n_stop, 7);
	assert_string_equal(l.stop[0], "das");
	assert_string_equal(l.stop[5], "uber");
	assert_string_equal(l.stop[6], "und");
	assert_string_equal(l.fingerprint, "de");
	assert_int_equal(l.n_rivals, 2);
	assert_string_equal(l.rivals[1], "da");

	a = analyzer_new(&l);
	assert_string_equal(analyzer_lang(a), "de");
	assert_string_equal(analyzer_stemmer(a), "snowball");
	assert_int_equal(analyzer_run(a, "Ich habe mein Passwort vergessen, die Passwörter", 52, &t),
			 0);
	assert_int_equal(t.n, 7);
	assert_true(t.v[0].stop);                 /* ich */
	assert_false(t.v[1].stop);                /* habe */
	assert_true(t.v[2].stop);                 /* mein */
	/* Snowball's German stemmer gives both forms one stem */
	assert_int_equal(t.v[3].stem_len, t.v[6].stem_len);
	assert_memory_equal(t.v[3].stem, t.v[6].stem, t.v[3].stem_len);
	tokens_clear(&t);
	analyzer_free(a);
	language_clear(&l);
	diag_clear(&d);
}

static void test_defaults_and_prefix(void **state)
{
	struct language l;
	struct diag d;
	struct tokens t;
	analyzer *a;
	(void)state;

	diag_init(&d);
	/* no Snowball, no dictionary: the prefix, 6 letters unless told */
	assert_int_equal(parse("xy", "name: X\nstemmer: {prefix: 4}\n", &l, &d), 0);
	assert_int_equal(l.prefix, 4);
	assert_int_equal(l.n_stop, 0);
	assert_string_equal(l.fingerprint, "xy"); /* the code, by default */
	a = analyzer_new(&l);
	assert_string_equal(analyzer_stemmer(a), "prefix");
	assert_int_equal(analyzer_run(a, "Zażółcić", strlen("Zażółcić"), &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.v[0].stem_len, 4);
	assert_memory_equal(t.v[0].stem, "zazo", 4);
	tokens_clear(&t);
	analyzer_free(a);
	language_clear(&l);

	/* a dictionary keeps the default prefix for when it is not used */
	assert_int_equal(parse("xy", "name: X\nstemmer: {hunspell: xx_XX}\n", &l, &d), 0);
	assert_string_equal(l.hunspell, "xx_XX");
	assert_int_equal(l.prefix, LANGUAGE_PREFIX_DEFAULT);
	a = analyzer_new(&l); /* no such dictionary here: the prefix stands in */
	assert_string_equal(analyzer_stemmer(a), "prefix");
	analyzer_free(a);
	language_clear(&l);
	assert_int_equal(d.n, 0);
	diag_clear(&d);
}

/* Every problem, with file and line, and nothing half-loaded. */
static void test_bad_files(void **state)
{
	static const struct {
		const char *code, *yaml;
		const char *problems[4]; /* exact, in order; NULL-terminated */
	} cases[] = {
		{"de", "name: Deutsch\nstemer:\n  snowball: german\nstop_words: [der, 'zwei worte']\n",
		 {FILE_DE ":2: unknown key 'stemer' in a language file (did you mean 'stemmer'?)",
		  FILE_DE ":1: missing 'stemmer:' ('snowball: NAME', 'hunspell: DICTIONARY' or "
			  "'prefix: LETTERS')",
		  FILE_DE ":4: stop word 'zwei worte' must be one word", NULL}},
		/* a dictionary is a name, never a path */
		{"de", "name: D\nstemmer:\n  hunspell: ../../etc/passwd\n",
		 {FILE_DE ":3: 'hunspell' must name a dictionary, such as pl_PL (letters, digits, _ "
			  "and -)",
		  NULL}},
		{"de", "name: D\nstemmer: {snowball: german, hunspell: de_DE}\n",
		 {FILE_DE ":2: choose one of 'snowball' and 'hunspell'", NULL}},
		{"de", "name: D\nstemmer: {snowball: german, prefix: 3}\n",
		 {FILE_DE ":2: 'prefix' has no use with 'snowball', which stems every word", NULL}},
		{"de", "name: D\nstemmer: german\n",
		 {FILE_DE ":2: 'stemmer' must be a mapping: 'snowball: NAME', 'hunspell: "
			  "DICTIONARY' or 'prefix: LETTERS'",
		  NULL}},
		{"de", "name: D\nstemmer: {prefix: 5}\ndetection:\n  fingerprint: a/b\n  rivals: [nl, 'x y']\n",
		 {FILE_DE ":4: 'fingerprint' must name a libexttextcat fingerprint, such as pt",
		  FILE_DE ":5: rival 'x y' must name a libexttextcat fingerprint, such as es", NULL}},
		{"de", "- a list\n",
		 {FILE_DE ":1: a language file is a mapping with 'name:', 'stemmer:' and "
			  "'stop_words:'",
		  NULL}},
		{"deu", "name: D\nstemmer: {prefix: 5}\n",
		 {FILE_DE ": 'deu' is not a language code (2 lower-case letters, ISO 639-1)", NULL}},
	};
	struct language l;
	struct diag d;
	(void)state;

	diag_init(&d);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].code, cases[i].yaml, &l, &d), -1);
		expect_problems(&d, cases[i].problems);
		assert_null(l.name); /* zeroed on failure */
		diag_clear(&d);
	}

	/* the message lists what libstemmer has */
	assert_int_equal(parse("de", "name: Deutsch\nstemmer:\n  snowball: klingon\n", &l, &d), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0], FILE_DE ":3: no Snowball stemmer 'klingon'; libstemmer has: "));
	assert_non_null(strstr(d.v[0], "german"));
	diag_clear(&d);

	/* out of range, YAML that is not YAML, a missing file: one problem each */
	assert_int_equal(parse("de", "name: D\nstemmer: {prefix: 99}\n", &l, &d), -1);
	assert_non_null(strstr(d.v[0], FILE_DE ":2: 'prefix'"));
	assert_int_equal(parse("de", "name: [unclosed\n", &l, &d), -1);
	assert_non_null(strstr(d.v[1], FILE_DE ":"));
	assert_int_equal(language_load("/nonexistent/de/language.yaml", "de", &l, &d), -1);
	assert_int_equal(d.n, 3);
	diag_clear(&d);
}

static void test_find_and_copy(void **state)
{
	const struct language_set *repo = repo_languages();
	struct language_set copy;
	(void)state;

	assert_int_equal(repo->n, 3); /* en, pl, pt, in directory order */
	assert_string_equal(repo->v[0].code, "en");
	assert_string_equal(repo->v[1].code, "pl");
	assert_string_equal(repo->v[2].code, "pt");
	assert_ptr_equal(language_find(repo, "pt-BR"), &repo->v[2]);
	assert_ptr_equal(language_find(repo, "PL"), &repo->v[1]);
	assert_ptr_equal(language_find(repo, "en_GB"), &repo->v[0]);
	assert_null(language_find(repo, "de"));
	assert_null(language_find(repo, "p"));
	assert_null(language_find(repo, "plx"));
	assert_null(language_find(repo, NULL));
	assert_null(language_find(NULL, "en"));
	assert_true(language_valid_code("pt"));
	assert_false(language_valid_code("PT"));
	assert_false(language_valid_code("por"));
	assert_false(language_valid_code(".."));

	language_set_copy(&copy, repo);
	assert_int_equal(copy.n, 3);
	assert_true(copy.v[1].stop != repo->v[1].stop); /* deep */
	assert_string_equal(copy.v[1].hunspell, "pl_PL");
	assert_int_equal(copy.v[1].n_stop, repo->v[1].n_stop);
	assert_string_equal(copy.v[1].stop[0], repo->v[1].stop[0]);
	language_set_clear(&copy);
	assert_int_equal(copy.n, 0);
}

/* The shipped files say what the code used to: each language's stemmer. */
static void test_shipped_languages(void **state)
{
	analyzer *en = analyzer_new(repo_language("en")), *pt = analyzer_new(repo_language("pt"));
	(void)state;

	assert_string_equal(repo_language("pt")->name, "Português");
	assert_string_equal(repo_language("pl")->name, "Polski");
	assert_string_equal(analyzer_stemmer(en), "snowball");
	assert_string_equal(analyzer_stemmer(pt), "snowball");
	assert_true(analyzer_is_stop(pt, "nao", 3) == 0); /* "não" matters: not a stop word */
	assert_true(analyzer_is_stop(pt, "voce", 4));
	assert_true(analyzer_is_stop(en, "the", 3));
	assert_true(language_find(repo_languages(), "pl")->n_rivals >= 1);
	analyzer_free(en);
	analyzer_free(pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_new_language_from_a_file),
		cmocka_unit_test(test_defaults_and_prefix),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_find_and_copy),
		cmocka_unit_test(test_shipped_languages),
	};
	return cmocka_run_group_tests_name("language", tests, NULL, NULL);
}
