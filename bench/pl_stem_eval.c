/* pl_stem_eval.c: which Polish stemming serves the bot best.
 *
 *   bench/pl-stem-eval [--faq DIR]
 *
 * Polish has no Snowball stemmer. Three ways to make a word's stem are
 * compared on the shipped Polish FAQ entries (faq/pl/), through the whole
 * brain (model and retriever) as the daemon builds it:
 *   prefix6   the folded word's first six letters (text.c without
 *             Hunspell: analyzer_new_with("pl", 0));
 *   hunspell  Hunspell's stem with the Polish dictionary (a lemmatiser:
 *             "zamówienia" -> "zamówienie"), folded; the folded word when
 *             Hunspell does not know it (text.c's Polish analyzer);
 *   hunspell+6  Hunspell's stem when it knows the word, else prefix6;
 *   word      the folded word itself (no stemming: character n-grams only).
 * Each entry's questions are held out one position at a time (fold j holds
 * out every entry's j-th question and builds the brain on the rest); a
 * held-out question counts when its own entry comes first. Each question
 * is asked as written and again with its diacritics stripped, the way
 * many customers type. Prints top-1 per way and per spelling, and the time
 * the analyzer takes per word (with its memo of lemmas). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brain.h"
#include "diag.h"
#include "faq.h"
#include "rules.h"
#include "text.h"

enum mode { PREFIX6, HUNSPELL, HYBRID, WORD, MODES };
static const char *const mode_names[] = {"prefix6", "hunspell", "hunspell+6", "word"};

/* The product's two Polish analyzers: with Hunspell's lemmas, and with the
 * six-letter prefix (text.h). */
struct stemmer {
	analyzer *hun, *prefix;
	double ns;
	long words;
};

/* s without case or diacritics: how many customers type. A new string. */
static char *folded(const char *s)
{
	char *f = text_fold(s, strlen(s), NULL);
	return f ? f : strdup(s);
}

/* The text as stems, space separated: a new string. */
static char *transform(struct stemmer *st, enum mode m, const char *text)
{
	struct tokens th, tp;
	struct timespec t0, t1;
	char *out;
	size_t o = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (analyzer_run(st->hun, text, strlen(text), &th))
		memset(&th, 0, sizeof(th));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (m == HUNSPELL || m == HYBRID) {
		st->ns += (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
		st->words += (long)th.n;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (analyzer_run(st->prefix, text, strlen(text), &tp))
		memset(&tp, 0, sizeof(tp));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (m == PREFIX6 || m == WORD) {
		st->ns += (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
		st->words += (long)tp.n;
	}
	out = calloc(1, (th.n + tp.n + 1) * (TEXT_TOKEN_MAX + 1));
	for (size_t i = 0; out && i < tp.n; i++) {
		const struct token *p = &tp.v[i], *h = i < th.n ? &th.v[i] : p;
		/* a lemma differs from its word: Hunspell knew the word */
		int known = h->stem_len != h->word_len || memcmp(h->stem, h->word, h->word_len);
		const char *stem = m == PREFIX6 ? p->stem
				 : m == WORD    ? p->word
				 : m == HUNSPELL || known ? h->stem
							  : p->stem;
		o += (size_t)sprintf(out + o, "%s%s", o ? " " : "", stem);
	}
	tokens_clear(&th);
	tokens_clear(&tp);
	return out;
}

static void entry_copy(struct stemmer *st, enum mode m, const struct faq_entry *e, size_t skip,
		       struct faq_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->id = strdup(e->id);
	out->lang = strdup("xx"); /* an analyzer without stemming: the text is stems already */
	out->title = transform(st, m, e->title);
	out->team = strdup(e->team);
	out->answer = strdup("-");
	out->file = strdup(e->file);
	out->questions = calloc(e->n_questions, sizeof(char *));
	for (size_t q = 0; q < e->n_questions; q++)
		if (q != skip)
			out->questions[out->n_questions++] = transform(st, m, e->questions[q]);
}

#define MAX_ASKED 4096
static char hit[MODES][MAX_ASKED]; /* per mode, per question: its entry first */
static long n_asked;

/* Two-sided sign test: P(at least this uneven a split of win + loss fair
 * coin flips). */
static double sign_test(long win, long loss)
{
	long n = win + loss, k = win < loss ? win : loss;
	double p = 0, c = 1; /* C(n, i) / 2^n, built up */
	if (!n)
		return 1;
	for (long i = 0; i < n; i++)
		c /= 2;
	for (long i = 0; i <= k; i++) {
		p += c;
		c = c * (double)(n - i) / (double)(i + 1);
	}
	p *= 2;
	return p > 1 ? 1 : p;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"faq", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	const char *faq_dir = "faq";
	struct faq_set all = {0};
	struct language_set langs = {0};
	const struct language *pl = NULL;
	struct diag d;
	struct stemmer st = {0};
	size_t maxq = 0, npl = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'f') {
			fprintf(stderr, "usage: %s [--faq DIR]\n", argv[0]);
			return 2;
		}
		faq_dir = optarg;
	}
	diag_init(&d);
	if (language_set_load("rules", &langs, &d) < 0 || !(pl = language_find(&langs, "pl")) ||
	    faq_load(faq_dir, &langs, &all, &d)) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.v[i]);
		return 1;
	}
	st.hun = analyzer_new(pl);
	st.prefix = analyzer_new_with(pl, 0);
	if (strcmp(analyzer_stemmer(st.hun), "hunspell")) {
		fprintf(stderr, "pl-stem-eval: no Polish Hunspell dictionary (hunspell-pl)\n");
		return 1;
	}
	for (size_t i = 0; i < all.n; i++)
		if (!strcmp(all.v[i].lang, "pl")) {
			npl++;
			if (all.v[i].n_questions > maxq)
				maxq = all.v[i].n_questions;
		}
	printf("%zu Polish entries, folds of held-out questions: %zu\n", npl, maxq);
	for (int m = 0; m < MODES; m++) {
		long asked[2] = {0}, right[2] = {0}, answered[2] = {0}, wrong[2] = {0};
		long k = 0; /* question number, the same order in every mode */
		st.ns = 0;
		st.words = 0;
		for (size_t j = 0; j < maxq; j++) {
			struct faq_set set = {0};
			struct rule_set rules = {0};
			struct brain_limits lim = {100000, 1000, 2000, NULL};
			struct diag bd;
			rules_thresholds_default(&rules.thresholds);
			language_set_copy(&rules.languages, &langs);
			diag_init(&bd);
			set.v = calloc(npl, sizeof(*set.v));
			set.cap = npl;
			for (size_t i = 0; i < all.n; i++)
				if (!strcmp(all.v[i].lang, "pl"))
					entry_copy(&st, (enum mode)m, &all.v[i], j, &set.v[set.n++]);
			brain *b = brain_build(&set, &rules, &lim, NULL, &bd);
			if (!b) {
				fprintf(stderr, "pl-stem-eval: %s\n", bd.n ? bd.v[0] : "no brain");
				return 1;
			}
			for (size_t i = 0; i < all.n; i++) {
				const struct faq_entry *e = &all.v[i];
				if (strcmp(e->lang, "pl") || j >= e->n_questions)
					continue;
				for (int spelling = 0; spelling < 2; spelling++) {
					char *q = spelling ? folded(e->questions[j]) : strdup(e->questions[j]);
					char *t = transform(&st, (enum mode)m, q);
					struct brain_result r;
					brain_understand(b, "xx", t, strlen(t), NULL, &r);
					asked[spelling]++;
					int ok = r.n && r.top[0].faq && !strcmp(r.top[0].faq, e->id);
					right[spelling] += ok;
					/* what the customer sees: answered straight away */
					if (r.n && r.top[0].confidence >= r.thresholds.answer) {
						answered[spelling] += ok;
						wrong[spelling] += !ok;
					}
					if (k < MAX_ASKED)
						hit[m][k] = (char)ok;
					k++;
					brain_result_clear(&r);
					free(t);
					free(q);
				}
			}
			brain_free(b);
			faq_set_clear(&set);
			rule_set_clear(&rules);
			diag_clear(&bd);
		}
		n_asked = k < MAX_ASKED ? k : MAX_ASKED;
		printf("%-10s top-1 as written %.3f (%ld/%ld)  without diacritics %.3f (%ld/%ld)  "
		       "%.2f us per word\n",
		       mode_names[m], (double)right[0] / (double)asked[0], right[0], asked[0],
		       (double)right[1] / (double)asked[1], right[1], asked[1],
		       st.words ? st.ns / 1e3 / (double)st.words : 0);
		printf("%-10s answered right at once: as written %.3f, without diacritics %.3f; "
		       "answered wrong: %.3f, %.3f\n",
		       "", (double)answered[0] / (double)asked[0], (double)answered[1] / (double)asked[1],
		       (double)wrong[0] / (double)asked[0], (double)wrong[1] / (double)asked[1]);
	}
	/* paired against prefix6, both spellings together: questions one way
	 * gets right and the other wrong, and the two-sided sign test's p */
	for (int m = 1; m < MODES; m++) {
		long win = 0, loss = 0;
		for (long q = 0; q < n_asked; q++) {
			win += hit[m][q] && !hit[PREFIX6][q];
			loss += !hit[m][q] && hit[PREFIX6][q];
		}
		printf("%-10s vs prefix6: right where it is wrong %ld, wrong where it is right %ld, "
		       "sign test p = %.3f\n",
		       mode_names[m], win, loss, sign_test(win, loss));
	}
	analyzer_free(st.hun);
	analyzer_free(st.prefix);
	faq_set_clear(&all);
	diag_clear(&d);
	return 0;
}
