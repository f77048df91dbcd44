/* pl_stem_eval.c: which Polish stemming serves the bot best.
 *
 *   bench/pl-stem-eval [--faq DIR]
 *
 * Polish has no Snowball stemmer. Three ways to make a word's stem are
 * compared on the shipped Polish FAQ entries (faq/pl/), through the whole
 * brain (model and retriever) as the daemon builds it:
 *   prefix6   the folded word's first six letters (what text.c does);
 *   hunspell  Hunspell's stem with the Polish dictionary (a lemmatiser:
 *             "zamówienia" -> "zamówienie"), folded; the folded word when
 *             Hunspell does not know the word;
 *   hunspell+6  Hunspell's stem when it knows the word, else prefix6;
 *   word      the folded word itself (no stemming: character n-grams only).
 * Each entry's questions are held out one position at a time (fold j holds
 * out every entry's j-th question and builds the brain on the rest); a
 * held-out question counts when its own entry comes first. Each question
 * is asked as written and again with its diacritics stripped, the way
 * many customers type. Prints top-1 per way and per spelling, and the time
 * to stem a word. */
#include <getopt.h>
#include <hunspell.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#include "brain.h"
#include "diag.h"
#include "faq.h"
#include "rules.h"
#include "text.h"

#define DICT "/usr/share/hunspell/pl_PL"

enum mode { PREFIX6, HUNSPELL, HYBRID, WORD, MODES };
static const char *const mode_names[] = {"prefix6", "hunspell", "hunspell+6", "word"};

struct stemmer {
	Hunhandle *h;
	iconv_t to, from;     /* UTF-8 <-> the dictionary's ISO-8859-2 */
	double ns;
	long words;
};

static char *lower(const char *s)
{
	utf8proc_uint8_t *d = NULL;
	if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &d,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) < 0)
		return strdup(s);
	return (char *)d;
}

static char *folded(const char *w)
{
	size_t n;
	char *f = text_fold(w, strlen(w), &n);
	return f ? f : strdup(w);
}

/* Hunspell's first stem of the lower-case word w, folded; NULL if none. */
static char *hunspell_stem(struct stemmer *st, const char *w)
{
	char in[256], out[512], **list = NULL;
	char *ip = (char *)w, *op = in;
	size_t il = strlen(w), ol = sizeof(in) - 1;
	char *res = NULL;
	int n;

	iconv(st->to, NULL, NULL, NULL, NULL);
	if (iconv(st->to, &ip, &il, &op, &ol) == (size_t)-1)
		return NULL;
	*op = '\0';
	n = Hunspell_stem(st->h, &list, in);
	if (n > 0) {
		ip = list[0];
		il = strlen(list[0]);
		op = out;
		ol = sizeof(out) - 1;
		iconv(st->from, NULL, NULL, NULL, NULL);
		if (iconv(st->from, &ip, &il, &op, &ol) != (size_t)-1) {
			*op = '\0';
			res = folded(out);
		}
	}
	Hunspell_free_list(st->h, &list, n);
	return res;
}

/* The text as stems, space separated: a new string. */
static char *transform(struct stemmer *st, enum mode m, const char *text)
{
	char *low = lower(text), *out = calloc(1, strlen(text) * 4 + 16), *p = low;
	size_t o = 0;

	while (*p) {
		while (*p && !((unsigned char)*p >= 0x80 || (*p >= 'a' && *p <= 'z') ||
			       (*p >= '0' && *p <= '9')))
			p++;
		char *w = p;
		while (*p && ((unsigned char)*p >= 0x80 || (*p >= 'a' && *p <= 'z') ||
			      (*p >= '0' && *p <= '9')))
			p++;
		if (p == w)
			break;
		char save = *p;
		*p = '\0';
		char *stem = NULL;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int known = 0;
		if (m == HUNSPELL || m == HYBRID)
			known = (stem = hunspell_stem(st, w)) != NULL;
		if (!stem)
			stem = folded(w);
		if (m == PREFIX6 || (m == HYBRID && !known)) {
			size_t i = 0, k = 0;
			while (stem[i] && k < 6) {
				i++;
				while (((unsigned char)stem[i] & 0xC0) == 0x80)
					i++;
				k++;
			}
			stem[i] = '\0';
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		st->ns += (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
		st->words++;
		o += (size_t)sprintf(out + o, "%s%s", o ? " " : "", stem);
		free(stem);
		*p = save;
	}
	free(low);
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
	if (faq_load(faq_dir, &all, &d)) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.v[i]);
		return 1;
	}
	st.h = Hunspell_create(DICT ".aff", DICT ".dic");
	st.to = iconv_open("ISO-8859-2", "UTF-8");
	st.from = iconv_open("UTF-8", "ISO-8859-2");
	if (!st.h || st.to == (iconv_t)-1 || st.from == (iconv_t)-1) {
		fprintf(stderr, "pl-stem-eval: no Polish Hunspell dictionary at %s\n", DICT);
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
			struct brain_limits lim = {100000, 1000, 2000};
			struct diag bd;
			rules_thresholds_default(&rules.thresholds);
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
	Hunspell_destroy(st.h);
	iconv_close(st.to);
	iconv_close(st.from);
	faq_set_clear(&all);
	diag_clear(&d);
	return 0;
}
