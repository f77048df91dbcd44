/* mood_eval.c: bench/mood-eval, the mood check's yardstick.
 *
 *   bench/mood-eval [--lang L] [--rules DIR] [--split all|dev|test] [--sweep] FILE
 *
 * FILE is `text<TAB>label` with a header line; label 1 means the line is
 * upset, 0 that it is not. Every line is scored with mood_score() in
 * language L (default en) using the lexicons under DIR (default rules),
 * and counted as upset when its score is at least MOOD_UPSET_THRESHOLD,
 * the shipped threshold.
 *
 * --split picks the lines: `dev` is every fifth data line (the 1st, 6th,
 * 11th...), `test` the other four in five, `all` (default) every line. The
 * threshold is chosen on dev splits only (docs/benchmarks.md); test is
 * only ever scored. --sweep adds precision, recall and F1 at thresholds
 * 0.10 to 0.90 in steps of 0.05, for information.
 *
 * Prints one figure per line, `key value`, keys stable: lines, upset_lines,
 * threshold, tp, fp, fn, tn, precision, recall, f1, flagged (share of lines
 * called upset), threat_lines (and threat_<kind>_lines for each kind),
 * profanity_lines, shouting_lines; then
 * score_mean_us, score_p50_us, score_p99_us, score_max_us (mood_score
 * alone, one call per line, on one core) and load_ms (mood_load).
 * Nothing is printed per line: the tool measures, it does not show which
 * lines were missed, so nobody tunes a lexicon to the evaluation data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mood.h"
#include "tsv.h"
#include "xalloc.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

enum split { SPLIT_ALL, SPLIT_DEV, SPLIT_TEST };

/* One scored line. */
struct row {
	double score;
	int gold;
};

struct run {
	const mood_lexicons *m;
	const char *lang;
	enum split split;
	size_t seen;            /* data lines read, in or out of the split */
	struct row *rows;
	size_t n, cap;
	double *us;             /* time of each mood_score call */
	size_t threats, profanity, shouting;
	size_t kinds[5];        /* lines with each threat kind, by bit */
};

static int on_row(const char *text, const char *label, void *ud)
{
	struct run *r = ud;
	struct mood_score s;
	int gold;

	if (!strcmp(label, "1"))
		gold = 1;
	else if (!strcmp(label, "0"))
		gold = 0;
	else {
		fprintf(stderr, "label '%s' is not 0 or 1\n", label);
		return -1;
	}
	int dev = r->seen++ % 5 == 0;
	if ((r->split == SPLIT_DEV && !dev) || (r->split == SPLIT_TEST && dev))
		return 0;
	size_t len = strlen(text);
	double t0 = now_us();
	mood_score(r->m, r->lang, text, len, &s);
	double t1 = now_us();
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 1024;
		r->rows = xrealloc(r->rows, r->cap * sizeof(*r->rows));
		r->us = xrealloc(r->us, r->cap * sizeof(*r->us));
	}
	r->rows[r->n].score = s.score;
	r->rows[r->n].gold = gold;
	r->us[r->n++] = t1 - t0;
	r->threats += s.threat != 0;
	r->profanity += s.profanity != 0;
	r->shouting += s.shouting != 0;
	for (int k = 0; k < 5; k++)
		r->kinds[k] += (s.threat_kinds & (1 << k)) != 0;
	return 0;
}

struct counts {
	size_t tp, fp, fn, tn;
	double precision, recall, f1;
};

static void count_at(const struct run *r, double threshold, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < r->n; i++) {
		int said = r->rows[i].score >= threshold;
		if (said && r->rows[i].gold)
			c->tp++;
		else if (said)
			c->fp++;
		else if (r->rows[i].gold)
			c->fn++;
		else
			c->tn++;
	}
	c->precision = c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : 0;
	c->recall = c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : 0;
	c->f1 = c->precision + c->recall > 0
			? 2 * c->precision * c->recall / (c->precision + c->recall)
			: 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench/mood-eval [--lang L] [--rules DIR] [--split all|dev|test] [--sweep] FILE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *rules = "rules", *file = NULL;
	struct run r = {.lang = "en", .split = SPLIT_ALL};
	int sweep = 0;
	struct diag d;
	struct counts c;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--lang") && i + 1 < argc)
			r.lang = argv[++i];
		else if (!strcmp(argv[i], "--rules") && i + 1 < argc)
			rules = argv[++i];
		else if (!strcmp(argv[i], "--split") && i + 1 < argc) {
			const char *s = argv[++i];
			if (!strcmp(s, "all"))
				r.split = SPLIT_ALL;
			else if (!strcmp(s, "dev"))
				r.split = SPLIT_DEV;
			else if (!strcmp(s, "test"))
				r.split = SPLIT_TEST;
			else
				usage();
		} else if (!strcmp(argv[i], "--sweep"))
			sweep = 1;
		else if (argv[i][0] == '-' || file)
			usage();
		else
			file = argv[i];
	}
	if (!file)
		usage();

	diag_init(&d);
	struct language_set langs = {0};
	double t0 = now_us();
	language_set_load(rules, &langs, &d);
	mood_lexicons *m = mood_load(rules, &langs, &d);
	language_set_clear(&langs);
	double load_ms = (now_us() - t0) / 1e3;
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.v[i]);
	diag_clear(&d);
	if (!m)
		return 1;
	if (!mood_has_lang(m, r.lang))
		fprintf(stderr, "warning: no mood lexicon for '%s' under %s: scoring with English\n",
			r.lang, rules);
	r.m = m;
	if (tsv_read(file, on_row, &r) < 0) {
		mood_free(m);
		free(r.rows);
		free(r.us);
		return 1;
	}
	if (!r.n) {
		fprintf(stderr, "%s: no lines in the %s split\n", file,
			r.split == SPLIT_DEV ? "dev" : "test");
		mood_free(m);
		return 1;
	}

	size_t upset = 0;
	for (size_t i = 0; i < r.n; i++)
		upset += r.rows[i].gold;
	count_at(&r, MOOD_UPSET_THRESHOLD, &c);
	printf("lines %zu\n", r.n);
	printf("upset_lines %zu\n", upset);
	printf("threshold %.2f\n", MOOD_UPSET_THRESHOLD);
	printf("tp %zu\nfp %zu\nfn %zu\ntn %zu\n", c.tp, c.fp, c.fn, c.tn);
	printf("precision %.4f\nrecall %.4f\nf1 %.4f\n", c.precision, c.recall, c.f1);
	printf("flagged %.4f\n", (double)(c.tp + c.fp) / (double)r.n);
	printf("threat_lines %zu\n", r.threats);
	for (int k = 0; k < 5; k++)
		printf("threat_%s_lines %zu\n", mood_threat_name(1 << k), r.kinds[k]);
	printf("profanity_lines %zu\nshouting_lines %zu\n", r.profanity, r.shouting);
	if (sweep)
		for (int k = 2; k <= 18; k++) {
			struct counts s;
			double t = k / 20.0;
			count_at(&r, t, &s);
			printf("at %.2f precision %.4f recall %.4f f1 %.4f flagged %.4f\n", t,
			       s.precision, s.recall, s.f1, (double)(s.tp + s.fp) / (double)r.n);
		}

	double sum = 0;
	for (size_t i = 0; i < r.n; i++)
		sum += r.us[i];
	qsort(r.us, r.n, sizeof(*r.us), cmp_double);
	printf("score_mean_us %.2f\n", sum / (double)r.n);
	printf("score_p50_us %.2f\n", r.us[r.n / 2]);
	printf("score_p99_us %.2f\n", r.us[(size_t)((double)(r.n - 1) * 0.99)]);
	printf("score_max_us %.2f\n", r.us[r.n - 1]);
	printf("load_ms %.2f\n", load_ms);

	mood_free(m);
	free(r.rows);
	free(r.us);
	return 0;
}
