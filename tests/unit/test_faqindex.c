/* test_faqindex.c: unit tests for src/faqindex.c, on a small hand-written
 * FAQ of six entries analysed by src/text.c (English). */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "faqindex.h"
#include "text.h"
#include "repo_languages.h"

enum { PASSWORD, ORDER, REFUND, SHIPPING, HOURS, DELETE, N_DOCS };

struct entry {
	int doc;
	const char *title;
	const char *questions[4];
	const char *answer;
};

/* Listed out of doc order on purpose: docs may be added in any order. */
static const struct entry faq[] = {
	{DELETE, "Delete your account",
	 {"How do I delete my account?", "Close my account", "Remove my personal data", NULL},
	 "Go to Settings, then Privacy, and choose Delete account. This cannot be undone."},
	{PASSWORD, "Reset your password",
	 {"How do I reset my password?", "I forgot my password", "Can't log in, password not working",
	  NULL},
	 "Go to Settings, choose Security and follow the link we email you."},
	{ORDER, "Where is my order",
	 {"Where is my order?", "Track my package", "When will my order arrive?", NULL},
	 "Open Orders in your account to see the tracking number and the delivery estimate."},
	{REFUND, "Refunds",
	 {"How do I get a refund?", "I want my money back", "When will I get my refund?", NULL},
	 "Refunds go to the original payment method within 5 business days of the return reaching "
	 "us."},
	{SHIPPING, "Shipping costs and times",
	 {"How much is shipping?", "Do you ship internationally?", "How long does delivery take?",
	  NULL},
	 "Standard shipping is free over 50 euros and takes 3 to 5 working days."},
	{HOURS, "Opening hours",
	 {"What are your opening hours?", "When are you open?", "Are you open on Sunday?", NULL},
	 "Our support team is available Monday to Friday, 9:00 to 18:00."},
};

struct fixture {
	analyzer *a;
	faqindex *ix;
};

static void add(faqindex *ix, analyzer *a, int doc, enum faqindex_field f, const char *s)
{
	struct tokens t;
	assert_int_equal(analyzer_run(a, s, strlen(s), &t), 0);
	faqindex_add(ix, doc, f, &t);
	tokens_clear(&t); /* the index copies what it keeps */
}

static faqindex *build_faq(analyzer *a, const struct faqindex_params *p)
{
	faqindex *ix = faqindex_new_with(p);
	for (size_t i = 0; i < sizeof(faq) / sizeof(faq[0]); i++) {
		const struct entry *e = &faq[i];
		add(ix, a, e->doc, FAQINDEX_TITLE, e->title);
		for (size_t q = 0; e->questions[q]; q++)
			add(ix, a, e->doc, FAQINDEX_QUESTION, e->questions[q]);
		add(ix, a, e->doc, FAQINDEX_ANSWER, e->answer);
	}
	faqindex_build(ix);
	return ix;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->a = analyzer_new(repo_language("en"));
	f->ix = build_faq(f->a, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	faqindex_free(f->ix);
	analyzer_free(f->a);
	free(f);
	return 0;
}

/* Runs query s (the tokens stay alive in *t for the hits' terms; the caller
 * clears them). Returns the number of hits. */
static size_t ask(const struct fixture *f, const char *s, struct tokens *t,
		  struct faqindex_hit *hits, size_t k)
{
	if (analyzer_run(f->a, s, strlen(s), t) < 0)
		memset(t, 0, sizeof(*t));
	return faqindex_search(f->ix, t, hits, k);
}

/* The invariants every result must keep. */
static void check_hits(const struct faqindex_hit *hits, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_true(hits[i].doc >= 0 && hits[i].doc < N_DOCS);
		assert_true(hits[i].score > 0);
		assert_true(hits[i].confidence >= 0 && hits[i].confidence <= 1);
		assert_true(hits[i].norm >= 0 && hits[i].norm <= 1);
		assert_true(hits[i].coverage >= 0 && hits[i].coverage <= 1);
		assert_true(hits[i].margin >= -1 && hits[i].margin <= 1);
		assert_true(hits[i].n_terms >= 1 && hits[i].n_terms <= FAQINDEX_HIT_TERMS);
		assert_true(hits[i].fuzzy >= 0 && (size_t)hits[i].fuzzy <= hits[i].n_terms);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(hits[i].doc, hits[j].doc);
		if (i > 0) {
			assert_true(hits[i].score <= hits[i - 1].score);
			assert_true(hits[i].confidence <= hits[i - 1].confidence);
		}
	}
}

static const struct {
	const char *q;
	int doc;
} table[] = {
	{"forgot password", PASSWORD},
	{"how can I reset my password", PASSWORD},
	{"where is my package", ORDER},
	{"track order", ORDER},
	{"I want a refund", REFUND},
	{"money back please", REFUND},
	{"do you ship to Canada", SHIPPING},
	{"how much does delivery cost", SHIPPING},
	{"are you open on sundays", HOURS},
	{"opening hours", HOURS},
	{"delete my account", DELETE},
	{"remove my data", DELETE},
	{"refund refund refund", REFUND},             /* a repeated word counts once */
	{"WHERE IS MY ORDER???", ORDER},             /* folded like the content */
};

static void test_table(void **state)
{
	const struct fixture *f = *state;

	assert_int_equal(faqindex_docs(f->ix), N_DOCS);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct tokens t;
		struct faqindex_hit hits[5];
		size_t n = ask(f, table[i].q, &t, hits, 5);
		if (n == 0 || hits[0].doc != table[i].doc)
			fail_msg("\"%s\": expected doc %d, got %d", table[i].q, table[i].doc,
				 n ? hits[0].doc : -1);
		check_hits(hits, n);
		tokens_clear(&t);
	}
}

static int has_term(const struct faqindex_hit *h, const char *w)
{
	for (size_t i = 0; i < h->n_terms; i++)
		if (!strcmp(h->terms[i], w))
			return 1;
	return 0;
}

static void test_matched_terms(void **state)
{
	const struct fixture *f = *state;
	struct tokens t;
	struct faqindex_hit hits[3];

	size_t n = ask(f, "How do I reset the password?", &t, hits, 3);
	assert_true(n >= 1);
	assert_int_equal(hits[0].doc, PASSWORD);
	/* stop words ("how", "do", "i", "the") are not terms */
	assert_int_equal(hits[0].n_terms, 2);
	assert_true(has_term(&hits[0], "reset"));
	assert_true(has_term(&hits[0], "password"));
	assert_int_equal(hits[0].fuzzy, 0);
	assert_true(hits[0].coverage == 1.0);
	/* the terms point into the query's tokens */
	assert_true(hits[0].terms[0] >= t.arena);
	tokens_clear(&t);
}

static void test_typos(void **state)
{
	const struct fixture *f = *state;
	static const struct {
		const char *q;
		int doc;
		int fuzzy;
	} typos[] = {
		{"pasword resett", PASSWORD, 2}, /* deletion, insertion */
		{"refnd", REFUND, 1},            /* deletion */
		{"delte my acount", DELETE, 2},
		{"oppening huors", HOURS, 2},    /* insertion, transposition */
		{"wehre is my oredr", ORDER, 1}, /* "wehre": no stem that near; "oredr": transposition */
	};

	for (size_t i = 0; i < sizeof(typos) / sizeof(typos[0]); i++) {
		struct tokens t;
		struct faqindex_hit hits[5];
		size_t n = ask(f, typos[i].q, &t, hits, 5);
		if (n == 0 || hits[0].doc != typos[i].doc)
			fail_msg("\"%s\": expected doc %d, got %d", typos[i].q, typos[i].doc,
				 n ? hits[0].doc : -1);
		assert_int_equal(hits[0].fuzzy, typos[i].fuzzy);
		check_hits(hits, n);
		tokens_clear(&t);
	}

	/* the typed words are reported, fuzzy ones included */
	struct tokens t;
	struct faqindex_hit hits[1];
	assert_int_equal(ask(f, "pasword resett", &t, hits, 1), 1);
	assert_true(has_term(&hits[0], "pasword"));
	assert_true(has_term(&hits[0], "resett"));
	/* a fuzzy match is worth less than the exact word */
	struct tokens t2;
	struct faqindex_hit exact[1];
	assert_int_equal(ask(f, "password reset", &t2, exact, 1), 1);
	assert_true(hits[0].score < exact[0].score);
	assert_true(hits[0].confidence < exact[0].confidence);
	tokens_clear(&t);
	tokens_clear(&t2);

	/* short words are never matched fuzzily: "shp" is not "ship" */
	assert_int_equal(ask(f, "shp", &t, hits, 1), 0);
	tokens_clear(&t);
}

static void test_fuzzy_off(void **state)
{
	const struct fixture *f = *state;
	struct faqindex_params p;
	struct tokens t;
	struct faqindex_hit hits[1];

	faqindex_params_default(&p);
	p.fuzzy = 0;
	faqindex *ix = build_faq(f->a, &p);
	assert_int_equal(analyzer_run(f->a, "refnd", 5, &t), 0);
	assert_int_equal(faqindex_search(ix, &t, hits, 1), 0);
	tokens_clear(&t);
	faqindex_free(ix);
}

/* The confidence must separate a clear question from one the FAQ does not
 * cover. On Banking77 train, where the coefficients were fitted, the first
 * hit is right about 90% of the time above 0.8 and about 5% of the time
 * below 0.1. So: a clear, fully matched question must be above 0.5, and an
 * out-of-scope question that shares one word with the FAQ ("sunday") must
 * stay below it: a threshold of 0.5 answers the first and not the second. */
static void test_confidence(void **state)
{
	const struct fixture *f = *state;
	static const char *const clear[] = {"how do I reset my password",
					    "how do I get a refund", "what are your opening hours"};
	static const char *const out_of_scope[] = {"what is the weather like on sunday",
						   "tell me a joke about money",
						   "is the football match on sunday"};
	struct tokens t;
	struct faqindex_hit hits[5];

	for (size_t i = 0; i < sizeof(clear) / sizeof(clear[0]); i++) {
		size_t n = ask(f, clear[i], &t, hits, 5);
		assert_true(n >= 1);
		check_hits(hits, n);
		if (hits[0].confidence <= 0.5)
			fail_msg("\"%s\": confidence %.3f", clear[i], hits[0].confidence);
		if (n > 1)
			assert_true(hits[1].confidence < hits[0].confidence);
		tokens_clear(&t);
	}
	for (size_t i = 0; i < sizeof(out_of_scope) / sizeof(out_of_scope[0]); i++) {
		size_t n = ask(f, out_of_scope[i], &t, hits, 5);
		check_hits(hits, n);
		if (n && hits[0].confidence >= 0.5)
			fail_msg("\"%s\": confidence %.3f", out_of_scope[i], hits[0].confidence);
		tokens_clear(&t);
	}
	/* nothing in common at all: no hit */
	assert_int_equal(ask(f, "what is the capital of France", &t, hits, 5), 0);
	tokens_clear(&t);
	assert_int_equal(ask(f, "can you sing", &t, hits, 5), 0);
	tokens_clear(&t);
}

static void test_odd_queries(void **state)
{
	const struct fixture *f = *state;
	struct faqindex_hit hits[5];
	struct tokens t;
	char *big = malloc(4097);
	assert_non_null(big);

	static const char *const none[] = {
		"", "   ", "?!", "how do I", "what is it", "the a an of", /* stop words only */
		"\xF0\x9F\x98\x80\xF0\x9F\x91\x8D",                     /* emoji only */
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_int_equal(ask(f, none[i], &t, hits, 5), 0);
		tokens_clear(&t);
	}
	/* invalid UTF-8: the analyser refuses it, the index sees no tokens */
	assert_int_equal(ask(f, "pass\xFFword", &t, hits, 5), 0);
	tokens_clear(&t);
	/* a NULL or empty query, or k = 0 */
	memset(&t, 0, sizeof(t));
	assert_int_equal(faqindex_search(f->ix, &t, hits, 5), 0);
	assert_int_equal(faqindex_search(f->ix, NULL, hits, 5), 0);
	assert_int_equal(ask(f, "refund", &t, hits, 0), 0);
	tokens_clear(&t);
	/* 4 KiB of one letter: one 64-byte token, fuzzy-matched against nothing */
	memset(big, 'a', 4096);
	big[4096] = 0;
	size_t n = ask(f, big, &t, hits, 5);
	check_hits(hits, n);
	tokens_clear(&t);
	/* 4 KiB of "password ": many tokens, one term */
	for (size_t i = 0; i + 9 <= 4096; i += 9)
		memcpy(big + i, "password ", 9);
	big[4096 - 4096 % 9] = 0;
	n = ask(f, big, &t, hits, 5);
	assert_true(n >= 1);
	assert_int_equal(hits[0].doc, PASSWORD);
	check_hits(hits, n);
	tokens_clear(&t);
	/* more distinct words than the index uses (32) and the analyser keeps (512) */
	size_t len = 0;
	for (int i = 0; i < 600 && len + 16 < 4096; i++)
		len += (size_t)snprintf(big + len, 4096 - len, "w%dx ", i);
	memcpy(big + len, "refund", 7);
	n = ask(f, big, &t, hits, 5);
	check_hits(hits, n);
	tokens_clear(&t);
	/* mixed scripts and accents fold like the content */
	n = ask(f, "Pässwörd rëset", &t, hits, 5);
	assert_true(n >= 1);
	assert_int_equal(hits[0].doc, PASSWORD);
	tokens_clear(&t);
	/* k larger than the FAQ */
	struct faqindex_hit many[20];
	n = ask(f, "my account order password refund shipping opening", &t, many, 20);
	assert_true(n <= N_DOCS);
	check_hits(many, n);
	tokens_clear(&t);
	free(big);
}

/* A word in one entry's title outranks the same word in another entry's
 * answer, and that is the field weights' doing: swapped, the order swaps. */
static void test_field_weights(void **state)
{
	const struct fixture *f = *state;
	struct faqindex_params p;
	struct faqindex_hit hits[2];
	struct tokens t;

	faqindex_params_default(&p);
	for (int swap = 0; swap < 2; swap++) {
		if (swap) {
			p.weight[FAQINDEX_TITLE] = 0.5;
			p.weight[FAQINDEX_ANSWER] = 2.0;
		}
		faqindex *ix = faqindex_new_with(&p);
		add(ix, f->a, 0, FAQINDEX_TITLE, "Warranty claims");
		add(ix, f->a, 0, FAQINDEX_QUESTION, "My item broke");
		add(ix, f->a, 0, FAQINDEX_ANSWER, "Send us a photo of the damage and the receipt.");
		add(ix, f->a, 1, FAQINDEX_TITLE, "Damaged parcels");
		add(ix, f->a, 1, FAQINDEX_QUESTION, "My parcel arrived damaged");
		add(ix, f->a, 1, FAQINDEX_ANSWER, "The warranty does not cover transport claims.");
		add(ix, f->a, 2, FAQINDEX_TITLE, "Gift cards");
		add(ix, f->a, 2, FAQINDEX_QUESTION, "How do gift cards work");
		add(ix, f->a, 2, FAQINDEX_ANSWER, "Gift cards never expire.");
		faqindex_build(ix);
		assert_int_equal(analyzer_run(f->a, "warranty claim", 14, &t), 0);
		assert_int_equal(faqindex_search(ix, &t, hits, 2), 2);
		assert_int_equal(hits[0].doc, swap ? 1 : 0);
		assert_int_equal(hits[1].doc, swap ? 0 : 1);
		tokens_clear(&t);
		faqindex_free(ix);
	}
}

/* Questions: an entry is not rewarded for the number of its questions. */
static void test_many_questions(void **state)
{
	const struct fixture *f = *state;
	struct faqindex_hit hits[2];
	struct tokens t;

	faqindex *ix = faqindex_new();
	add(ix, f->a, 0, FAQINDEX_QUESTION, "How do I change my address?");
	add(ix, f->a, 1, FAQINDEX_QUESTION, "Can I change the delivery address of an order?");
	static const char *const more[] = {"Update delivery details", "Wrong delivery address",
					   "Change delivery address", "Send my parcel elsewhere",
					   "Address is wrong on my order", "Moved house, new address",
					   "Delivery to a different address"};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		add(ix, f->a, 1, FAQINDEX_QUESTION, more[i]);
	faqindex_build(ix);
	/* "address" is in every question of both; doc 0 is the closer match */
	assert_int_equal(analyzer_run(f->a, "change my address", 17, &t), 0);
	assert_int_equal(faqindex_search(ix, &t, hits, 2), 2);
	assert_int_equal(hits[0].doc, 0);
	tokens_clear(&t);
	faqindex_free(ix);
}

static void test_modes(void **state)
{
	const struct fixture *f = *state;
	static const enum faqindex_qmode modes[] = {FAQINDEX_QBEST, FAQINDEX_QCONCAT,
						    FAQINDEX_QMEAN};
	struct faqindex_params p;

	faqindex_params_default(&p);
	for (size_t m = 0; m < 3; m++) {
		p.qmode = modes[m];
		faqindex *ix = build_faq(f->a, &p);
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
			struct tokens t;
			struct faqindex_hit hits[5];
			assert_int_equal(analyzer_run(f->a, table[i].q, strlen(table[i].q), &t), 0);
			size_t n = faqindex_search(ix, &t, hits, 5);
			assert_true(n >= 1);
			check_hits(hits, n);
			tokens_clear(&t);
		}
		faqindex_free(ix);
	}
	/* silly parameters are clamped, not trusted */
	p.k1 = -1;
	p.b[FAQINDEX_QUESTION] = 7;
	p.weight[FAQINDEX_TITLE] = -3;
	p.fuzzy_discount = 2;
	p.qmode = (enum faqindex_qmode)42;
	faqindex *ix = build_faq(f->a, &p);
	struct tokens t;
	struct faqindex_hit hits[5];
	assert_int_equal(analyzer_run(f->a, "refund", 6, &t), 0);
	size_t n = faqindex_search(ix, &t, hits, 5);
	assert_true(n >= 1);
	assert_int_equal(hits[0].doc, REFUND);
	check_hits(hits, n);
	tokens_clear(&t);
	faqindex_free(ix);
}

static void test_empty_index(void **state)
{
	const struct fixture *f = *state;
	struct faqindex_hit hits[3];
	struct tokens t;

	faqindex *ix = faqindex_new();
	faqindex_build(ix);
	assert_int_equal(faqindex_docs(ix), 0);
	assert_int_equal(analyzer_run(f->a, "refund", 6, &t), 0);
	assert_int_equal(faqindex_search(ix, &t, hits, 3), 0);
	faqindex_free(ix);

	/* an entry with only stop words, and a gap in the doc numbers */
	ix = faqindex_new();
	add(ix, f->a, 0, FAQINDEX_QUESTION, "how do I");
	add(ix, f->a, 2, FAQINDEX_QUESTION, "refund please");
	faqindex_build(ix);
	assert_int_equal(faqindex_docs(ix), 3);
	assert_int_equal(faqindex_search(ix, &t, hits, 3), 1);
	assert_int_equal(hits[0].doc, 2);
	tokens_clear(&t);
	faqindex_free(ix);
}

/* A built index is read from many threads at once; each gets what one
 * thread alone gets. */
struct worker {
	const struct fixture *f;
	int ok;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	analyzer *a = analyzer_new(repo_language("en")); /* analysers are per thread */
	w->ok = 1;
	for (int round = 0; round < 50; round++)
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
			struct tokens t;
			struct faqindex_hit hits[3];
			if (analyzer_run(a, table[i].q, strlen(table[i].q), &t) < 0 ||
			    faqindex_search(w->f->ix, &t, hits, 3) < 1 || hits[0].doc != table[i].doc)
				w->ok = 0;
			tokens_clear(&t);
		}
	analyzer_free(a);
	return NULL;
}

static void test_threads(void **state)
{
	struct worker w[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		w[i].f = *state;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(w[i].ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_matched_terms),
		cmocka_unit_test(test_typos),
		cmocka_unit_test(test_fuzzy_off),
		cmocka_unit_test(test_confidence),
		cmocka_unit_test(test_odd_queries),
		cmocka_unit_test(test_field_weights),
		cmocka_unit_test(test_many_questions),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_empty_index),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
