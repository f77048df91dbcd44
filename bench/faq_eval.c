/* faq_eval.c: bench/faq-eval, the FAQ retriever's yardstick.
 *
 *   bench/faq-eval --entries FILE --queries FILE [--lang en] [options]
 *   bench/faq-eval --synthetic N [--lang en] [options]
 *
 * Entries are `id<TAB>text`: each line is one question of the FAQ entry
 * `id`; repeated ids add more questions to the same entry. Titles stay
 * empty: the ids of evaluation sets are labels (`card_arrival`), not text an
 * editor wrote for customers, and using them would flatter the score; pass
 * --title-from-id to index them as titles anyway (`_` and `-` read as
 * spaces). Queries are `text<TAB>id`; a query whose id names no entry is
 * out of scope: it is not counted in recall, and the right outcome for it
 * is a low confidence. Both files start with a header line. A malformed
 * line (no tab, two tabs, empty field, invalid UTF-8) stops the run with
 * file:line.
 *
 * Prints one figure per line, `key value`, keys stable: recall@1, recall@5
 * and mrr over the in-scope queries; conf_mean_in_scope, conf_mean_oos,
 * conf_p90_oos (the first hit's confidence, 0 without a hit);
 * search_p50_us / search_p99_us / search_max_us (faqindex_search alone),
 * query_p50_us / query_p99_us (analysis + search); analyze_ms (analysing
 * the entries), build_ms (faqindex_add + faqindex_build); peak_rss_kib
 * (getrusage, the whole process). --k N asks for N hits (default 5: the
 * search cost grows with k); --per-query adds one line per query with its
 * first hit and the confidence's inputs.
 *
 * --synthetic N builds N entries from a fixed pseudo-random generator (a
 * title, five questions and a ~60-word answer each, Zipf-distributed
 * pseudo-words) and runs --queries-n generated queries (default 10,000; one
 * in ten out of scope) against them: the scale test.
 * --calibration prints a reliability table of the first hit's confidence
 * and its expected calibration error.
 * --fit fits the confidence's logistic coefficients on this data (only
 * ever give it training data) and prints them; the figures after it use
 * the fitted coefficients. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "diag.h"
#include "faqindex.h"
#include "language.h"
#include "text.h"
#include "tsv.h"
#include "xalloc.h"

#define TOPK_MAX 32 /* --k at most */




static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ------------------------------------------------------------------------
 * Data
 * --------------------------------------------------------------------- */

struct entry_line {
	int doc;
	char *text;
};

struct query {
	char *text;
	int gold;             /* doc, or -1: out of scope */
};

struct data {
	char **ids;           /* doc -> id */
	size_t n_docs;
	char **titles;        /* doc -> title text or NULL */
	char **answers;       /* doc -> answer text or NULL (synthetic only) */
	struct entry_line *lines;
	size_t n_lines;
	struct query *queries;
	size_t n_queries;
};

static void data_free(struct data *d)
{
	for (size_t i = 0; i < d->n_docs; i++) {
		free(d->ids[i]);
		if (d->titles)
			free(d->titles[i]);
		if (d->answers)
			free(d->answers[i]);
	}
	free(d->ids);
	free(d->titles);
	free(d->answers);
	for (size_t i = 0; i < d->n_lines; i++)
		free(d->lines[i].text);
	free(d->lines);
	for (size_t i = 0; i < d->n_queries; i++)
		free(d->queries[i].text);
	free(d->queries);
	memset(d, 0, sizeof(*d));
}

/* The doc of id, or -1. A linear scan: eval sets have few entries, and the
 * synthetic path does not use ids. */
static int doc_of(const struct data *d, const char *id)
{
	for (size_t i = d->n_docs; i-- > 0;)
		if (!strcmp(d->ids[i], id))
			return (int)i;
	return -1;
}

static int on_entry(const char *id, const char *text, void *ud)
{
	struct data *d = ud;
	int doc = doc_of(d, id);

	if (doc < 0) {
		d->ids = xrealloc(d->ids, (d->n_docs + 1) * sizeof(*d->ids));
		d->ids[d->n_docs] = xstrdup(id);
		doc = (int)d->n_docs++;
	}
	d->lines = xrealloc(d->lines, (d->n_lines + 1) * sizeof(*d->lines));
	d->lines[d->n_lines++] = (struct entry_line){doc, xstrdup(text)};
	return 0;
}

static int on_query(const char *text, const char *id, void *ud)
{
	struct data *d = ud;
	d->queries = xrealloc(d->queries, (d->n_queries + 1) * sizeof(*d->queries));
	d->queries[d->n_queries++] = (struct query){xstrdup(text), doc_of(d, id)};
	return 0;
}

static void titles_from_ids(struct data *d)
{
	d->titles = xmalloc(d->n_docs * sizeof(*d->titles));
	for (size_t i = 0; i < d->n_docs; i++) {
		d->titles[i] = xstrdup(d->ids[i]);
		for (char *c = d->titles[i]; *c; c++)
			if (*c == '_' || *c == '-')
				*c = ' ';
	}
}

/* ------------------------------------------------------------------------
 * Synthetic FAQ
 * --------------------------------------------------------------------- */

/* splitmix64: deterministic, the same on every machine */
static uint64_t rnd_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static double rnd_unit(uint64_t *s)
{
	return (double)(rnd_next(s) >> 11) / 9007199254740992.0;
}

#define SYN_VOCAB 20000

struct synth {
	uint64_t rng;
	char *words[SYN_VOCAB];
	double cdf[SYN_VOCAB];
};

static const char *const syn_stop[] = {"how", "do", "i", "my", "the", "a", "can", "is", "to",
				       "what", "where", "please", "for", "of", "it"};

/* Writes a pseudo-word of 2-4 syllables to w (at least 40 bytes). Its
 * letters are less varied than a real language's (trigram lists about
 * twice as long as English ones at the same vocabulary size), which makes
 * fuzzy lookups slower than on real text. */
static void synth_pseudo_word(struct synth *sy, char *w, size_t cap)
{
	static const char *const on[] = {"b", "c", "d", "f", "g", "k", "l", "m", "n", "p",
					 "r", "s", "t", "v", "z", "br", "st", "tr", "pl", "gr"};
	static const char *const nu[] = {"a", "e", "i", "o", "u", "ai", "ou", "ea"};
	int syl = 2 + (int)(rnd_next(&sy->rng) % 3);
	size_t len = 0;

	w[0] = 0;
	for (int j = 0; j < syl; j++)
		len += (size_t)snprintf(w + len, cap - len, "%s%s", on[rnd_next(&sy->rng) % 20],
					nu[rnd_next(&sy->rng) % 8]);
	if (rnd_next(&sy->rng) % 3 == 0)
		snprintf(w + len, cap - len, "n");
}

/* A vocabulary of pseudo-words; Zipf(1) over ranks shifted by 10, like
 * content words once stop words are gone. */
static void synth_init(struct synth *sy)
{
	double sum = 0;

	sy->rng = 0x5EED5EEDULL;
	for (size_t i = 0; i < SYN_VOCAB; i++) {
		char w[40];
		synth_pseudo_word(sy, w, sizeof(w));
		sy->words[i] = xstrdup(w);
		sum += 1.0 / ((double)i + 10);
		sy->cdf[i] = sum;
	}
	for (size_t i = 0; i < SYN_VOCAB; i++)
		sy->cdf[i] /= sum;
}

static void synth_free(struct synth *sy)
{
	for (size_t i = 0; i < SYN_VOCAB; i++)
		free(sy->words[i]);
}

static const char *synth_word(struct synth *sy)
{
	double u = rnd_unit(&sy->rng);
	size_t lo = 0, hi = SYN_VOCAB - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sy->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return sy->words[lo];
}

/* Appends a word to buf (cap bytes), with a typo (a letter dropped or two
 * swapped) at the given probability. */
static void put_word(char *buf, size_t cap, const char *w, struct synth *sy, double typo)
{
	char t[40];
	size_t n = strlen(w), len = strlen(buf);

	snprintf(t, sizeof(t), "%s", w);
	if (n >= 5 && rnd_unit(&sy->rng) < typo) {
		size_t at = 1 + rnd_next(&sy->rng) % (n - 2);
		if (rnd_next(&sy->rng) & 1) {
			memmove(t + at, t + at + 1, n - at);
		} else {
			char c = t[at];
			t[at] = t[at + 1];
			t[at + 1] = c;
		}
	}
	snprintf(buf + len, cap - len, "%s%s", len ? " " : "", t);
}

#define SYN_TOPIC 6

/* One question (or query) about an entry with the given topic words. */
static void synth_question(struct synth *sy, const char *const *topic, char *buf, size_t cap,
			   double typo)
{
	int n_topic = 2 + (int)(rnd_next(&sy->rng) % 3);
	int n_other = 1 + (int)(rnd_next(&sy->rng) % 3);

	buf[0] = 0;
	put_word(buf, cap, syn_stop[rnd_next(&sy->rng) % 3], sy, 0);
	put_word(buf, cap, syn_stop[2 + rnd_next(&sy->rng) % 13], sy, 0);
	for (int i = 0; i < n_topic + n_other; i++) {
		if (i == n_topic / 2)
			put_word(buf, cap, syn_stop[rnd_next(&sy->rng) % 15], sy, 0);
		const char *w = i < n_topic ? topic[rnd_next(&sy->rng) % SYN_TOPIC] : synth_word(sy);
		put_word(buf, cap, w, sy, typo);
	}
}

/* Fills d with n synthetic entries (title, 5 questions, answer) and
 * n_queries queries: nine in ten about a random entry, with 15% of their
 * longer words mistyped; one in ten out of scope, made of pseudo-words no
 * entry has (the slowest case for fuzzy matching: every long word is looked
 * up at distance 2 and found nowhere). */
static void synth_data(struct data *d, size_t n, size_t n_queries)
{
	struct synth *sy = xmalloc(sizeof(*sy));
	const char *(*topics)[SYN_TOPIC] = xmalloc(n * sizeof(*topics));
	char buf[1024];

	synth_init(sy);
	memset(d, 0, sizeof(*d));
	d->n_docs = n;
	d->ids = xmalloc(n * sizeof(*d->ids));
	d->titles = xmalloc(n * sizeof(*d->titles));
	d->answers = xmalloc(n * sizeof(*d->answers));
	d->lines = xmalloc(n * 5 * sizeof(*d->lines));
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "faq%zu", i);
		d->ids[i] = xstrdup(buf);
		for (int j = 0; j < SYN_TOPIC; j++) /* topic words: from the rarer part */
			topics[i][j] = sy->words[200 + rnd_next(&sy->rng) % (SYN_VOCAB - 200)];
		buf[0] = 0;
		for (int j = 0; j < 3; j++)
			put_word(buf, sizeof(buf), topics[i][j], sy, 0);
		d->titles[i] = xstrdup(buf);
		for (int q = 0; q < 5; q++) {
			synth_question(sy, topics[i], buf, sizeof(buf), 0);
			d->lines[d->n_lines++] = (struct entry_line){(int)i, xstrdup(buf)};
		}
		buf[0] = 0;
		int words = 50 + (int)(rnd_next(&sy->rng) % 21);
		for (int j = 0; j < words; j++) {
			const char *w = rnd_next(&sy->rng) % 8 == 0 ? topics[i][rnd_next(&sy->rng) % SYN_TOPIC]
				      : rnd_next(&sy->rng) % 3 == 0 ? syn_stop[rnd_next(&sy->rng) % 15]
								     : synth_word(sy);
			put_word(buf, sizeof(buf), w, sy, 0);
		}
		d->answers[i] = xstrdup(buf);
	}
	d->queries = xmalloc(n_queries * sizeof(*d->queries));
	for (size_t i = 0; i < n_queries; i++) {
		if (i % 10 == 9) { /* out of scope: words of the same make, none in the FAQ */
			const char *foreign[SYN_TOPIC];
			char fw[SYN_TOPIC][40];
			for (int j = 0; j < SYN_TOPIC; j++) {
				synth_pseudo_word(sy, fw[j], sizeof(fw[j]));
				fw[j][0] = 'x'; /* no vocabulary word starts with x */
				foreign[j] = fw[j];
			}
			synth_question(sy, foreign, buf, sizeof(buf), 0);
			d->queries[d->n_queries++] = (struct query){xstrdup(buf), -1};
			continue;
		}
		size_t doc = rnd_next(&sy->rng) % n;
		synth_question(sy, topics[doc], buf, sizeof(buf), 0.15);
		d->queries[d->n_queries++] = (struct query){xstrdup(buf), (int)doc};
	}
	free(topics);
	synth_free(sy);
	free(sy);
}

/* ------------------------------------------------------------------------
 * Running
 * --------------------------------------------------------------------- */

struct result {
	struct faqindex_hit *hits; /* run->k of them, in run->hits */
	size_t n;
};

struct run {
	size_t k;             /* hits asked for per query */
	faqindex *ix;
	double analyze_ms, build_ms;
	struct result *res;
	struct faqindex_hit *hits;
	double *search_us, *query_us;
};

static void add_text(faqindex *ix, analyzer *a, int doc, enum faqindex_field f, const char *s,
		     double *add_us)
{
	struct tokens t;
	if (analyzer_run(a, s, strlen(s), &t) == 0) {
		double t0 = now_us();
		faqindex_add(ix, doc, f, &t);
		*add_us += now_us() - t0;
	}
	tokens_clear(&t);
}

/* Builds the index of d with parameters p and runs every query. */
static void run_all(struct run *r, const struct data *d, analyzer *a,
		    const struct faqindex_params *p)
{
	double add_us = 0, t0 = now_us();

	r->ix = faqindex_new_with(p);
	for (size_t i = 0; i < d->n_docs; i++) {
		if (d->titles && d->titles[i])
			add_text(r->ix, a, (int)i, FAQINDEX_TITLE, d->titles[i], &add_us);
		if (d->answers && d->answers[i])
			add_text(r->ix, a, (int)i, FAQINDEX_ANSWER, d->answers[i], &add_us);
	}
	for (size_t i = 0; i < d->n_lines; i++)
		add_text(r->ix, a, d->lines[i].doc, FAQINDEX_QUESTION, d->lines[i].text, &add_us);
	double t1 = now_us();
	faqindex_build(r->ix);
	double t2 = now_us();
	r->build_ms = (add_us + (t2 - t1)) / 1e3;
	r->analyze_ms = (t1 - t0 - add_us) / 1e3;

	size_t nq = d->n_queries ? d->n_queries : 1;
	r->res = xmalloc(nq * sizeof(*r->res));
	r->hits = xmalloc(nq * r->k * sizeof(*r->hits));
	/* touched now, so that page faults on the hits are not timed as search */
	memset(r->hits, 0, nq * r->k * sizeof(*r->hits));
	for (size_t i = 0; i < nq; i++)
		r->res[i] = (struct result){r->hits + i * r->k, 0};
	r->search_us = xmalloc((d->n_queries ? d->n_queries : 1) * sizeof(double));
	r->query_us = xmalloc((d->n_queries ? d->n_queries : 1) * sizeof(double));
	for (size_t i = 0; i < d->n_queries; i++) {
		struct tokens t;
		const char *s = d->queries[i].text;
		double q0 = now_us();
		int rc = analyzer_run(a, s, strlen(s), &t);
		double q1 = now_us();
		r->res[i].n = rc ? 0 : faqindex_search(r->ix, &t, r->res[i].hits, r->k);
		double q2 = now_us();
		r->search_us[i] = q2 - q1;
		r->query_us[i] = q2 - q0;
		/* the hits' terms point into t, which goes now */
		for (size_t j = 0; j < r->res[i].n; j++)
			memset(r->res[i].hits[j].terms, 0, sizeof(r->res[i].hits[j].terms));
		tokens_clear(&t);
	}
}

static void run_free(struct run *r)
{
	faqindex_free(r->ix);
	free(r->res);
	free(r->hits);
	free(r->search_us);
	free(r->query_us);
	r->ix = NULL;
	r->res = NULL;
	r->hits = NULL;
	r->search_us = r->query_us = NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double q)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	size_t i = (size_t)ceil(q * (double)n);
	return v[i ? i - 1 : 0];
}

static void report(const struct run *r, const struct data *d, int calibration)
{
	size_t in = 0, oos = 0, r1 = 0, r5 = 0, nq = 0;
	double mrr = 0;
	struct rusage ru;

	nq = d->n_lines;
	for (size_t i = 0; i < d->n_queries; i++) {
		const struct result *res = &r->res[i];
		if (d->queries[i].gold < 0) {
			oos++;
			continue;
		}
		in++;
		for (size_t j = 0; j < res->n; j++)
			if (res->hits[j].doc == d->queries[i].gold) {
				r1 += j == 0;
				r5 += j < 5;
				mrr += 1.0 / (double)(j + 1);
				break;
			}
	}
	printf("entries %zu\n", d->n_docs);
	printf("questions %zu\n", nq);
	printf("terms %zu\n", faqindex_terms(r->ix));
	printf("queries %zu\n", in);
	printf("oos_queries %zu\n", oos);
	printf("recall@1 %.4f\n", in ? (double)r1 / (double)in : 0);
	printf("recall@5 %.4f\n", in ? (double)r5 / (double)in : 0);
	printf("mrr %.4f\n", in ? mrr / (double)in : 0);

	/* confidence of the first hit: in scope vs out of scope */
	double *c_in = xmalloc((in + 1) * sizeof(double)), *c_oos = xmalloc((oos + 1) * sizeof(double));
	size_t ni = 0, no = 0;
	for (size_t i = 0; i < d->n_queries; i++) {
		double c = r->res[i].n ? r->res[i].hits[0].confidence : 0;
		if (d->queries[i].gold < 0)
			c_oos[no++] = c;
		else
			c_in[ni++] = c;
	}
	if (ni) {
		double m = 0;
		for (size_t i = 0; i < ni; i++)
			m += c_in[i];
		printf("conf_mean_in_scope %.4f\n", m / (double)ni);
	}
	if (no) {
		double m = 0;
		for (size_t i = 0; i < no; i++)
			m += c_oos[i];
		printf("conf_mean_oos %.4f\n", m / (double)no);
		printf("conf_p90_oos %.4f\n", percentile(c_oos, no, 0.90));
	}
	free(c_in);
	free(c_oos);

	if (calibration) {
		enum { BINS = 10 };
		size_t cnt[BINS] = {0}, hit[BINS] = {0};
		double conf[BINS] = {0}, ece = 0;
		size_t all = d->n_queries;
		for (size_t i = 0; i < all; i++) {
			const struct result *res = &r->res[i];
			double c = res->n ? res->hits[0].confidence : 0;
			int ok = res->n && res->hits[0].doc == d->queries[i].gold;
			int b = (int)(c * BINS);
			if (b >= BINS)
				b = BINS - 1;
			cnt[b]++;
			hit[b] += (size_t)ok;
			conf[b] += c;
		}
		printf("calibration bin n mean_confidence hit@1_rate\n");
		for (int b = 0; b < BINS; b++) {
			double mc = cnt[b] ? conf[b] / (double)cnt[b] : 0;
			double hr = cnt[b] ? (double)hit[b] / (double)cnt[b] : 0;
			printf("calibration %.1f-%.1f %zu %.4f %.4f\n", (double)b / BINS,
			       (double)(b + 1) / BINS, cnt[b], mc, hr);
			if (all)
				ece += (double)cnt[b] / (double)all * fabs(hr - mc);
		}
		printf("ece %.4f\n", ece);
	}

	size_t n = d->n_queries;
	double *s = xmalloc((n ? n : 1) * sizeof(double));
	memcpy(s, r->search_us, n * sizeof(double));
	printf("search_p50_us %.1f\n", percentile(s, n, 0.50));
	printf("search_p99_us %.1f\n", percentile(s, n, 0.99));
	printf("search_max_us %.1f\n", percentile(s, n, 1.0));
	memcpy(s, r->query_us, n * sizeof(double));
	printf("query_p50_us %.1f\n", percentile(s, n, 0.50));
	printf("query_p99_us %.1f\n", percentile(s, n, 0.99));
	free(s);
	printf("analyze_ms %.1f\n", r->analyze_ms);
	printf("build_ms %.1f\n", r->build_ms);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak_rss_kib %ld\n", ru.ru_maxrss);
}

/* ------------------------------------------------------------------------
 * Fitting the confidence
 * --------------------------------------------------------------------- */

#define NFEAT FAQINDEX_CALIB

/* The confidence's inputs, as faqindex.c combines them (the fuzzy share
 * counts at most FAQINDEX_HIT_TERMS matched terms, as the hit does). */
static void features(const struct faqindex_hit *h, double fuzzy_discount, double *x)
{
	x[0] = 1;
	x[1] = h->norm;
	x[2] = h->coverage;
	x[3] = h->margin;
	x[4] = h->n_terms ? (double)h->fuzzy / (double)h->n_terms : 0;
	/* evidence: matched terms, fuzzy ones discounted (the hit's coverage
	 * times the query's term count, which the eval does not see: recomputed
	 * from n_terms as the library does) */
	double cover = (double)(h->n_terms - (size_t)h->fuzzy) + h->fuzzy * fuzzy_discount;
	x[5] = cover / (1 + cover);
}

/* Solves the NFEAT x NFEAT system A x = b in place (Gaussian elimination
 * with partial pivoting). Returns -1 when singular. */
static int solve(double A[NFEAT][NFEAT], double *b)
{
	for (int c = 0; c < NFEAT; c++) {
		int piv = c;
		for (int r = c + 1; r < NFEAT; r++)
			if (fabs(A[r][c]) > fabs(A[piv][c]))
				piv = r;
		if (fabs(A[piv][c]) < 1e-12)
			return -1;
		for (int k = 0; k < NFEAT; k++) {
			double t = A[c][k];
			A[c][k] = A[piv][k];
			A[piv][k] = t;
		}
		double t = b[c];
		b[c] = b[piv];
		b[piv] = t;
		for (int r = 0; r < NFEAT; r++) {
			if (r == c)
				continue;
			double f = A[r][c] / A[c][c];
			for (int k = c; k < NFEAT; k++)
				A[r][k] -= f * A[c][k];
			b[r] -= f * b[c];
		}
	}
	for (int c = 0; c < NFEAT; c++)
		b[c] /= A[c][c];
	return 0;
}

/* Logistic regression by Newton's method with a small ridge; x is n rows of
 * NFEAT, y is 0/1. Writes the coefficients to w. */
static void fit_logistic(const double *x, const int *y, size_t n, double *w)
{
	const double ridge = 1e-3;

	memset(w, 0, NFEAT * sizeof(*w));
	for (int it = 0; it < 50; it++) {
		double H[NFEAT][NFEAT] = {{0}}, g[NFEAT] = {0};
		for (size_t i = 0; i < n; i++) {
			const double *xi = x + i * NFEAT;
			double z = 0;
			for (int k = 0; k < NFEAT; k++)
				z += w[k] * xi[k];
			double p = 1 / (1 + exp(-z)), s = p * (1 - p);
			for (int k = 0; k < NFEAT; k++) {
				g[k] += (p - y[i]) * xi[k];
				for (int l = 0; l < NFEAT; l++)
					H[k][l] += s * xi[k] * xi[l];
			}
		}
		for (int k = 0; k < NFEAT; k++) {
			g[k] += ridge * w[k];
			H[k][k] += ridge;
		}
		if (solve(H, g) < 0)
			break;
		double step = 0;
		for (int k = 0; k < NFEAT; k++) {
			w[k] -= g[k];
			step += fabs(g[k]);
		}
		if (step < 1e-9)
			break;
	}
}

/* ------------------------------------------------------------------------
 * Command line
 * --------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: faq-eval --entries FILE --queries FILE [--lang en|pt|pl] [options]\n"
	      "       faq-eval --synthetic N [--queries-n N] [options]\n"
	      "options:\n"
	      "  --title-from-id       index each entry's id as its title\n"
	      "  --calibration         print a reliability table and the ECE\n"
	      "  --fit                 fit the confidence coefficients on this (training!) data\n"
	      "  --fit-top N           hits per query used by --fit (default 1: the first)\n"
	      "  --k N                 hits asked for per query (default 5, at most 32)\n"
	      "  --per-query           also print, per query,\n"
	      "                        `query <line> <gold id> <top id> <confidence> <features>`\n"
	      "  --k1 X --w-title X --w-question X --w-answer X --b-title X --b-question X\n"
	      "  --b-answer X --qmode best|concat|mean --no-fuzzy --fuzzy-discount X\n"
	      "  --fuzzy-rare-df N --calib c0,c1,c2,c3,c4,c5\n",
	      f);
}

static int parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *entries = NULL, *queries = NULL, *lang = "en";
	size_t synthetic = 0, synthetic_queries = 10000;
	int calibration = 0, fit = 0, title_from_id = 0, fit_top = 1, per_query = 0, rc = 1;
	struct faqindex_params p;
	struct data d;
	struct run r;
	analyzer *a = NULL;
	struct language_set langs = {0};
	struct diag dg;

	faqindex_params_default(&p);
	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	r.k = 5;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		double x = 0;
		int takes = strcmp(o, "--calibration") && strcmp(o, "--fit") &&
			    strcmp(o, "--title-from-id") && strcmp(o, "--no-fuzzy") &&
			    strcmp(o, "--per-query") &&
			    strcmp(o, "--help");
		if (takes && !v) {
			fprintf(stderr, "faq-eval: %s needs a value\n", o);
			return 2;
		}
		if (takes && strcmp(o, "--entries") && strcmp(o, "--queries") && strcmp(o, "--lang") &&
		    strcmp(o, "--qmode") && strcmp(o, "--calib") && parse_double(v, &x) < 0) {
			fprintf(stderr, "faq-eval: %s: not a number: %s\n", o, v);
			return 2;
		}
		if (!strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "--entries")) {
			entries = v;
		} else if (!strcmp(o, "--queries")) {
			queries = v;
		} else if (!strcmp(o, "--lang")) {
			lang = v;
		} else if (!strcmp(o, "--synthetic")) {
			synthetic = (size_t)x;
		} else if (!strcmp(o, "--queries-n")) {
			synthetic_queries = (size_t)x;
		} else if (!strcmp(o, "--calibration")) {
			calibration = 1;
		} else if (!strcmp(o, "--fit")) {
			fit = 1;
		} else if (!strcmp(o, "--per-query")) {
			per_query = 1;
		} else if (!strcmp(o, "--k")) {
			if (x < 5 || x > TOPK_MAX) {
				fprintf(stderr, "faq-eval: --k: 5 to %d\n", TOPK_MAX);
				return 2;
			}
			r.k = (size_t)x;
		} else if (!strcmp(o, "--fit-top")) {
			fit_top = (int)x;
		} else if (!strcmp(o, "--title-from-id")) {
			title_from_id = 1;
		} else if (!strcmp(o, "--k1")) {
			p.k1 = x;
		} else if (!strcmp(o, "--w-title")) {
			p.weight[FAQINDEX_TITLE] = x;
		} else if (!strcmp(o, "--w-question")) {
			p.weight[FAQINDEX_QUESTION] = x;
		} else if (!strcmp(o, "--w-answer")) {
			p.weight[FAQINDEX_ANSWER] = x;
		} else if (!strcmp(o, "--b-title")) {
			p.b[FAQINDEX_TITLE] = x;
		} else if (!strcmp(o, "--b-question")) {
			p.b[FAQINDEX_QUESTION] = x;
		} else if (!strcmp(o, "--b-answer")) {
			p.b[FAQINDEX_ANSWER] = x;
		} else if (!strcmp(o, "--qmode")) {
			if (!strcmp(v, "best"))
				p.qmode = FAQINDEX_QBEST;
			else if (!strcmp(v, "concat"))
				p.qmode = FAQINDEX_QCONCAT;
			else if (!strcmp(v, "mean"))
				p.qmode = FAQINDEX_QMEAN;
			else {
				fprintf(stderr, "faq-eval: --qmode: best, concat or mean\n");
				return 2;
			}
		} else if (!strcmp(o, "--no-fuzzy")) {
			p.fuzzy = 0;
		} else if (!strcmp(o, "--fuzzy-discount")) {
			p.fuzzy_discount = x;
		} else if (!strcmp(o, "--fuzzy-rare-df")) {
			p.fuzzy_rare_df = (int)x;
		} else if (!strcmp(o, "--calib")) {
			const char *c = v;
			for (int j = 0; j < FAQINDEX_CALIB; j++) {
				char *end;
				p.calib[j] = strtod(c, &end);
				if (end == c || (j + 1 < FAQINDEX_CALIB ? *end != ',' : *end != 0)) {
					fprintf(stderr, "faq-eval: --calib needs %d numbers, comma-separated\n",
						FAQINDEX_CALIB);
					return 2;
				}
				c = end + 1;
			}
		} else {
			fprintf(stderr, "faq-eval: unknown option %s\n", o);
			usage(stderr);
			return 2;
		}
		if (takes)
			i++;
	}
	if (!synthetic && (!entries || !queries)) {
		usage(stderr);
		return 2;
	}
	diag_init(&dg);
	language_set_load("rules", &langs, &dg); /* the repository's languages */
	diag_clear(&dg);
	if (!language_find(&langs, lang)) {
		fprintf(stderr, "faq-eval: --lang %s: no rules/%s/language.yaml (run from the "
				"repository)\n", lang, lang);
		language_set_clear(&langs);
		return 2;
	}

	if (synthetic) {
		synth_data(&d, synthetic, synthetic_queries);
	} else {
		if (tsv_read(entries, on_entry, &d) < 0 || tsv_read(queries, on_query, &d) < 0)
			goto out;
		if (title_from_id)
			titles_from_ids(&d);
	}
	a = analyzer_new(language_find(&langs, lang));
	language_set_clear(&langs);
	run_all(&r, &d, a, &p);

	if (fit) {
		size_t n = 0;
		double *x = xmalloc((d.n_queries * (size_t)fit_top + 1) * NFEAT * sizeof(double));
		int *y = xmalloc((d.n_queries * (size_t)fit_top + 1) * sizeof(int));
		for (size_t i = 0; i < d.n_queries; i++)
			for (size_t j = 0; j < r.res[i].n && j < (size_t)fit_top; j++) {
				const struct faqindex_hit *h = &r.res[i].hits[j];
				features(h, p.fuzzy_discount, x + n * NFEAT);
				y[n++] = h->doc == d.queries[i].gold;
			}
		fit_logistic(x, y, n, p.calib);
		printf("fit_examples %zu\n", n);
		printf("calib");
		for (int c = 0; c < NFEAT; c++)
			printf("%c%.4f", c ? ',' : ' ', p.calib[c]);
		printf("\n");
		free(x);
		free(y);
		run_free(&r);
		run_all(&r, &d, a, &p);
	}
	report(&r, &d, calibration);
	for (size_t i = 0; per_query && i < d.n_queries; i++) {
		const struct result *res = &r.res[i];
		int g = d.queries[i].gold;
		const struct faqindex_hit *h = res->n ? &res->hits[0] : NULL;
		printf("query %zu %s %s %.4f norm=%.3f coverage=%.3f margin=%.3f matched=%zu fuzzy=%d\n",
		       i + 2, g >= 0 ? d.ids[g] : "-", h ? d.ids[h->doc] : "-", h ? h->confidence : 0.0,
		       h ? h->norm : 0.0, h ? h->coverage : 0.0, h ? h->margin : 0.0, h ? h->n_terms : 0,
		       h ? h->fuzzy : 0);
	}
	rc = 0;
out:
	run_free(&r);
	analyzer_free(a);
	data_free(&d);
	return rc;
}
