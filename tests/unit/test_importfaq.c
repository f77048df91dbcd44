/* test_importfaq.c: the pieces of `supportd import-faq` that decide names
 * and phrasings: the id a question suggests, making it unique, and the
 * splitting of an alternates cell. (Whole imports are tested end to end in
 * tests/e2e/import.test.js.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "content.h"
#include "importfaq.h"

static void test_slug(void **state)
{
	(void)state;
	static const struct {
		const char *question, *slug;
	} cases[] = {
		{"How do I reset my password?", "how-do-i-reset-my-password"},
		{"  Where is my order?!  ", "where-is-my-order"},
		{"Onde está a minha encomenda?", "onde-esta-a-minha-encomenda"},
		{"Não consigo pagar com cartão", "nao-consigo-pagar-com-cartao"},
		{"Gdzie jest moja przesyłka?", "gdzie-jest-moja-przesylka"},
		{"ZAŻÓŁĆ GĘŚLĄ JAŹŃ", "zazolc-gesla-jazn"},
		{"Can't log in", "cant-log-in"},              /* apostrophes go */
		{"Can\xe2\x80\x99t log in", "cant-log-in"},   /* and their look-alikes */
		{"Straße & Café", "strasse-cafe"},
		{"24h delivery: how much?", "24h-delivery-how-much"},
		{"--- a -- b ---", "a-b"},
		{"(returns) / refunds", "returns-refunds"},
		{"null", "null"},
		{"???", "entry"},                               /* nothing left */
		{"", "entry"},
		{"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "entry"}, /* Привет */
		{"Ｆｕｌｌ ｗｉｄｔｈ", "full-width"},         /* NFKC */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = importfaq_slug(cases[i].question);
		assert_non_null(s);
		if (strcmp(s, cases[i].slug) != 0)
			fail_msg("slug of '%s': got '%s', want '%s'", cases[i].question, s,
				 cases[i].slug);
		assert_true(content_valid_id(s));
		free(s);
	}
	assert_null(importfaq_slug("caf\xe9")); /* Latin-1, not UTF-8 */
}

static void test_slug_length(void **state)
{
	(void)state;
	/* Cut at the last word boundary within 60 bytes. */
	char *s = importfaq_slug("How long does it take for a refund to reach my account after I "
				 "return an item by post?");
	assert_string_equal(s, "how-long-does-it-take-for-a-refund-to-reach-my-account-after");
	assert_true(strlen(s) <= IMPORTFAQ_SLUG_MAX);
	free(s);
	/* One long word: cut at 60, no boundary to find. */
	char word[200];
	memset(word, 'a', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	s = importfaq_slug(word);
	assert_int_equal(strlen(s), IMPORTFAQ_SLUG_MAX);
	free(s);
	/* A boundary too early is not worth it: cut mid-word. */
	s = importfaq_slug("short "
			   "wordwordwordwordwordwordwordwordwordwordwordwordwordwordwordword");
	assert_int_equal(strlen(s), IMPORTFAQ_SLUG_MAX);
	assert_memory_equal(s, "short-wordword", 14);
	free(s);
	/* A last word that does not fit goes whole, with its '-'. */
	s = importfaq_slug("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbb");
	assert_string_equal(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	free(s);
}

/* A taken-ids set for importfaq_unique_id(): a NULL-terminated list. */
static int taken_in(void *ud, const char *id)
{
	for (const char *const *p = ud; *p; p++)
		if (strcmp(*p, id) == 0)
			return 1;
	return 0;
}

static void test_unique_id(void **state)
{
	(void)state;
	const char *none[] = {NULL};
	const char *some[] = {"reset-password", "reset-password-2", "other", NULL};
	char *id = importfaq_unique_id("reset-password", taken_in, none);
	assert_string_equal(id, "reset-password");
	free(id);
	id = importfaq_unique_id("reset-password", taken_in, some);
	assert_string_equal(id, "reset-password-3");
	free(id);
	id = importfaq_unique_id("other", taken_in, some);
	assert_string_equal(id, "other-2");
	free(id);

	/* A suffix on a 60-byte slug cuts the slug, not the limit. */
	char slug[IMPORTFAQ_SLUG_MAX + 1];
	memset(slug, 'a', IMPORTFAQ_SLUG_MAX);
	slug[IMPORTFAQ_SLUG_MAX] = '\0';
	slug[57] = '-'; /* the cut leaves "...a-": that '-' goes too */
	const char *full[] = {slug, NULL};
	id = importfaq_unique_id(slug, taken_in, full);
	assert_int_equal(strlen(id), 59);
	assert_memory_equal(id, slug, 57);
	assert_string_equal(id + 57, "-2");
	free(id);
}

/* Splits s and checks the pieces against want (NULL-terminated). */
static void expect_split(const char *s, const char *const *want)
{
	size_t n, k = 0;
	char **v = importfaq_split_alternates(s, &n);
	while (want[k])
		k++;
	if (n != k) {
		for (size_t i = 0; i < n; i++)
			print_message("  got: '%s'\n", v[i]);
		fail_msg("'%s': %zu pieces, want %zu", s, n, k);
	}
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i], want[i]);
		free(v[i]);
	}
	free(v);
}

static void test_split_alternates(void **state)
{
	(void)state;
	expect_split("", (const char *const[]){NULL});
	expect_split("  \n ; | ", (const char *const[]){NULL});
	expect_split("forgot password", (const char *const[]){"forgot password", NULL});
	expect_split("forgot password\ncan't log in\r\nlocked out",
		     (const char *const[]){"forgot password", "can't log in", "locked out", NULL});
	expect_split("a | b | c", (const char *const[]){"a", "b", "c", NULL});
	expect_split("a;b; c ;", (const char *const[]){"a", "b", "c", NULL});
	expect_split("a|b\n\nc; d | a",
		     (const char *const[]){"a", "b", "c", "d", NULL}); /* mixed; repeat dropped */
	expect_split("onde está?\nrastrear encomenda",
		     (const char *const[]){"onde está?", "rastrear encomenda", NULL});
	expect_split("Where? | where?", (const char *const[]){"Where?", "where?", NULL});
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slug),
		cmocka_unit_test(test_slug_length),
		cmocka_unit_test(test_unique_id),
		cmocka_unit_test(test_split_alternates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
