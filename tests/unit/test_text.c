/* test_text.c: folding, tokenising, stop words and stemming. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <utf8proc.h>

#include "text.h"
#include "repo_languages.h"

static char *fold(const char *s)
{
	size_t n;
	char *f = text_fold(s, strlen(s), &n);
	assert_non_null(f);
	assert_int_equal(n, strlen(f));
	return f;
}

static void test_fold(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"Hello World", "hello world"},
		{"NÃO consigo", "nao consigo"},
		{"Zażółć gęślą jaźń", "zazolc gesla jazn"},
		{"ŁÓDŹ", "lodz"},
		{"Straße", "strasse"},
		{"ﬁle", "file"},                 /* NFKC ligature */
		{"Ｆｕｌｌ", "full"},             /* NFKC full width */
		{"don\xe2\x80\x99t", "don't"},   /* right single quote lumped */
		{"soft\xc2\xadhyphen", "softhyphen"}, /* default-ignorable dropped */
		{"café", "cafe"},
		{"cafe\xcc\x81", "cafe"},        /* combining acute, decomposed input */
		{"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *f = fold(cases[i].in);
		assert_string_equal(f, cases[i].out);
		free(f);
	}
}

/* The ASCII shortcut gives what utf8proc gives, byte for byte. */
static void test_fold_ascii_matches_utf8proc(void **state)
{
	char s[128];
	size_t n = 0;
	(void)state;

	for (int c = 1; c < 128; c++)
		s[n++] = (char)c;
	for (size_t i = 0; i < n; i++) {
		size_t a_len, b_len;
		char *a = text_fold(s + i, n - i, &a_len);
		utf8proc_uint8_t *b = NULL;
		utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &b,
						  UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
							  UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
							  UTF8PROC_IGNORE | UTF8PROC_LUMP | UTF8PROC_NLF2LS);
		assert_true(r >= 0);
		b_len = (size_t)r;
		assert_non_null(a);
		assert_int_equal(a_len, b_len);
		assert_memory_equal(a, b, a_len);
		free(a);
		free(b);
	}
	/* and with the letters alone, which take the shortcut */
	size_t len;
	char *f = text_fold("Where IS my Order? #42", 22, &len);
	assert_string_equal(f, "where is my order? #42");
	assert_int_equal(len, 22);
	free(f);
}

static void test_fold_rejects_invalid_utf8(void **state)
{
	(void)state;
	assert_null(text_fold("a\xff" "b", 3, NULL));
	assert_null(text_fold("\xc3", 1, NULL));       /* truncated sequence */
	assert_null(text_fold("\xed\xa0\x80", 3, NULL)); /* surrogate */
}

/* Words and stems of a text, "word/stem" joined by spaces; stop words get
 * a trailing '*'. */
static void render(analyzer *a, const char *s, char *out, size_t cap)
{
	struct tokens t;
	size_t used = 0;

	assert_int_equal(analyzer_run(a, s, strlen(s), &t), 0);
	out[0] = 0;
	for (size_t i = 0; i < t.n; i++) {
		int n = snprintf(out + used, cap - used, "%s%s/%s%s", i ? " " : "", t.v[i].word,
				 t.v[i].stem, t.v[i].stop ? "*" : "");
		assert_true(n > 0 && (size_t)n < cap - used);
		used += (size_t)n;
	}
	tokens_clear(&t);
}

static void test_tokens_en(void **state)
{
	char out[512];
	analyzer *a = analyzer_new(repo_language("en"));
	(void)state;
	render(a, "I can't log in: my passwords were RESET!", out, sizeof(out));
	assert_string_equal(out, "i/i* cant/cant log/log in/in* my/my* passwords/password were/were* "
				 "reset/reset");
	render(a, "Shipping  costs,shipped... refunds-refunded 2024", out, sizeof(out));
	assert_string_equal(out, "shipping/ship costs/cost shipped/ship refunds/refund "
				 "refunded/refund 2024/2024");
	assert_string_equal(analyzer_lang(a), "en");
	analyzer_free(a);
}

static void test_tokens_pt(void **state)
{
	char out[512];
	analyzer *a = analyzer_new(repo_language("pt"));
	(void)state;
	/* accents or not, the same stems */
	render(a, "Não recebi a encomenda", out, sizeof(out));
	assert_string_equal(out, "nao/nao recebi/receb a/a* encomenda/encomend");
	render(a, "nao recebi as encomendas", out, sizeof(out));
	assert_string_equal(out, "nao/nao recebi/receb as/as* encomendas/encomend");
	analyzer_free(a);
}

static void test_tokens_pl(void **state)
{
	char out[512];
	analyzer *a = analyzer_new(repo_language("pl"));
	(void)state;
	/* no Snowball stemmer for Polish: Hunspell's dictionary lemmatises the
	 * words as typed, and the lemma is folded like the rest */
	assert_string_equal(analyzer_stemmer(a), "hunspell");
	render(a, "Gdzie jest moje zamówienie? Zamówienia, zamówieniem", out, sizeof(out));
	assert_string_equal(out, "gdzie/gdzie* jest/jest* moje/moje* zamowienie/zamowienie "
				 "zamowienia/zamowienie zamowieniem/zamowienie");
	/* a word it does not know (typed without its accents) is its own stem */
	render(a, "zamowienia", out, sizeof(out));
	assert_string_equal(out, "zamowienia/zamowienia");
	/* remembered: the same again */
	render(a, "Zamówienia", out, sizeof(out));
	assert_string_equal(out, "zamowienia/zamowienie");
	analyzer_free(a);

	/* without lemmas, a six-letter prefix stands in */
	a = analyzer_new_with(repo_language("pl"), 0);
	assert_string_equal(analyzer_stemmer(a), "prefix");
	render(a, "Gdzie jest moje zamówienie? Zamówienia", out, sizeof(out));
	assert_string_equal(out, "gdzie/gdzie* jest/jest* moje/moje* zamowienie/zamowi "
				 "zamowienia/zamowi");
	analyzer_free(a);
}

/* One dictionary for every analyzer of a daemon, from any thread. */
static void *stem_on_a_thread(void *arg)
{
	char out[512];
	analyzer *a = analyzer_new_shared(repo_language("pl"), arg);
	render(a, "zamówieniem", out, sizeof(out));
	analyzer_free(a);
	return strcmp(out, "zamowieniem/zamowienie") ? (void *)1 : NULL;
}

static void test_shared_dictionary(void **state)
{
	char out[512];
	lemmatizer *lz = lemmatizer_open();
	analyzer *a = analyzer_new_shared(repo_language("pl"), lz), *en = analyzer_new_shared(repo_language("en"), lz);
	pthread_t th[2];
	void *rc;
	(void)state;

	assert_string_equal(analyzer_stemmer(a), "hunspell");
	assert_string_equal(analyzer_stemmer(en), "snowball");
	render(a, "Zamówienia", out, sizeof(out));
	assert_string_equal(out, "zamowienia/zamowienie");
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, stem_on_a_thread, lz), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], &rc);
		assert_null(rc);
	}
	analyzer_free(a);
	analyzer_free(en);
	lemmatizer_close(lz);
	/* without one, each analyzer loads its own */
	a = analyzer_new_shared(repo_language("pl"), NULL);
	assert_string_equal(analyzer_stemmer(a), "hunspell");
	analyzer_free(a);
}

static void test_unknown_language(void **state)
{
	char out[256];
	analyzer *a = analyzer_new(NULL);
	(void)state;
	assert_null(language_find(repo_languages(), "xx"));
	assert_non_null(language_find(repo_languages(), "pl"));
	assert_string_equal(analyzer_lang(a), "");
	assert_string_equal(analyzer_stemmer(a), "none");
	render(a, "The Cats", out, sizeof(out));
	assert_string_equal(out, "the/the cats/cats"); /* no stems, no stop words */
	analyzer_free(a);
}

static void test_hostile_text(void **state)
{
	analyzer *a = analyzer_new(repo_language("en"));
	struct tokens t;
	(void)state;

	/* empty, blank, emoji only: no tokens, no failure */
	assert_int_equal(analyzer_run(a, "", 0, &t), 0);
	assert_int_equal(t.n, 0);
	tokens_clear(&t);
	assert_int_equal(analyzer_run(a, " \t\n ", 4, &t), 0);
	assert_int_equal(t.n, 0);
	tokens_clear(&t);
	const char *emoji = "\xf0\x9f\x98\x80\xf0\x9f\x98\xa1!!";
	assert_int_equal(analyzer_run(a, emoji, strlen(emoji), &t), 0);
	assert_int_equal(t.n, 0);
	tokens_clear(&t);

	/* 4 KiB of one letter: one token, cut to TEXT_TOKEN_MAX */
	char *big = malloc(4096);
	assert_non_null(big);
	memset(big, 'a', 4096);
	assert_int_equal(analyzer_run(a, big, 4096, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.v[0].word_len, TEXT_TOKEN_MAX);
	tokens_clear(&t);

	/* 4 KiB of "a " : capped at TEXT_TOKENS_MAX tokens */
	for (size_t i = 0; i < 4096; i += 2)
		big[i + 1] = ' ';
	assert_int_equal(analyzer_run(a, big, 4096, &t), 0);
	assert_int_equal(t.n, TEXT_TOKENS_MAX);
	tokens_clear(&t);
	free(big);

	/* a multi-byte letter is never split when a long word is cut */
	char ce[200];
	size_t n = 0;
	while (n + 2 <= sizeof(ce)) {
		ce[n++] = '\xc5';
		ce[n++] = '\x82'; /* ł */
	}
	assert_int_equal(analyzer_run(a, ce, n, &t), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.v[0].word, "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll");
	tokens_clear(&t);

	/* mixed scripts: each run of letters is a word */
	const char *mixed = "order Заказ 注文 طلب";
	assert_int_equal(analyzer_run(a, mixed, strlen(mixed), &t), 0);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.v[1].word, "заказ");
	tokens_clear(&t);

	/* invalid UTF-8 is refused and leaves nothing to free */
	assert_int_equal(analyzer_run(a, "ab\xc0\xaf", 4, &t), -1);
	assert_int_equal(t.n, 0);
	tokens_clear(&t);
	analyzer_free(a);
}

static void test_stop_words(void **state)
{
	analyzer *en = analyzer_new(repo_language("en")), *pt = analyzer_new(repo_language("pt"));
	(void)state;
	assert_true(analyzer_is_stop(en, "the", 3));
	assert_false(analyzer_is_stop(en, "password", 8));
	assert_false(analyzer_is_stop(en, "not", 3)); /* negation matters to intents */
	assert_true(analyzer_is_stop(pt, "voce", 4));
	assert_false(analyzer_is_stop(pt, "the", 3));
	analyzer_free(en);
	analyzer_free(pt);
}

/* The ASCII shortcut of text_is_word_cp says what the Unicode categories
 * say: letters and digits are word characters, nothing else is. */
static void test_word_cp_ascii_matches_categories(void **state)
{
	(void)state;
	for (int32_t c = 0; c < 0x80; c++) {
		utf8proc_category_t cat = utf8proc_category(c);
		int want = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
			   cat == UTF8PROC_CATEGORY_ND;
		if (text_is_word_cp(c) != want)
			fail_msg("U+%04X: %d", (unsigned)c, text_is_word_cp(c));
	}
	assert_true(text_is_word_cp(0xe9));   /* é */
	assert_true(text_is_word_cp(0x0661)); /* Arabic-Indic one */
	assert_false(text_is_word_cp(0x2014)); /* em dash */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_fold_ascii_matches_utf8proc),
		cmocka_unit_test(test_word_cp_ascii_matches_categories),
		cmocka_unit_test(test_fold_rejects_invalid_utf8),
		cmocka_unit_test(test_tokens_en),
		cmocka_unit_test(test_tokens_pt),
		cmocka_unit_test(test_tokens_pl),
		cmocka_unit_test(test_shared_dictionary),
		cmocka_unit_test(test_unknown_language),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_stop_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
