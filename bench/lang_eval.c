/* lang_eval.c: how often the language detector names the right language.
 *
 *   bench/lang-eval --expect L [--langs en,pt,pl] FILE...
 *
 * Each FILE is `text<TAB>...` lines after a header (bench/tsv.h; the other
 * columns are ignored). Every line goes through langid_guess() (src/langid.h)
 * with the content languages --langs, as the daemon does for a customer's
 * message. Prints, overall and by length (up to 20 characters, 21 to 40,
 * over 40):
 *   lines      how many
 *   best=L     the share whose best language of ours is L
 *   sure=L     the share the daemon would switch to L on (sure, and L)
 *   sure=other the share it would switch to another language on
 *   unsure     the share it would leave in the language it had
 * and the mean time per guess. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "langid.h"
#include "language.h"
#include "tsv.h"

#define BUCKETS 4

struct tally {
	long lines, best, sure, sure_other, unsure;
};

struct run {
	const langid *li;
	const char *expect;
	struct tally t[BUCKETS]; /* 0: all, then by length */
	double ns;
};

static size_t code_points(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void count(struct tally *t, const struct langid_guess *g, const char *expect)
{
	int is = !strcmp(g->lang, expect);
	t->lines++;
	t->best += is;
	t->sure += g->sure && is;
	t->sure_other += g->sure && !is;
	t->unsure += !g->sure;
}

static int row(const char *text, const char *label, void *ud)
{
	struct run *r = ud;
	struct langid_guess g;
	struct timespec t0, t1;
	size_t cp = code_points(text);
	int b = cp <= 20 ? 1 : cp <= 40 ? 2 : 3;
	(void)label;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	langid_guess(r->li, text, strlen(text), &g);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->ns += (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	count(&r->t[0], &g, r->expect);
	count(&r->t[b], &g, r->expect);
	return 0;
}

static void show(const char *name, const struct tally *t, const char *expect)
{
	double n = t->lines ? (double)t->lines : 1;
	printf("%-10s lines %6ld  best=%s %.3f  sure=%s %.3f  sure=other %.3f  unsure %.3f\n", name,
	       t->lines, expect, (double)t->best / n, expect, (double)t->sure / n,
	       (double)t->sure_other / n, (double)t->unsure / n);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"expect", required_argument, NULL, 'e'},
					     {"langs", required_argument, NULL, 'l'},
					     {NULL, 0, NULL, 0}};
	char langs_buf[64] = "en,pt,pl", err[300];
	const struct language *langs[9];
	struct language_set defs = {0};
	struct diag dg;
	size_t nl = 0;
	struct run r = {0};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'e')
			r.expect = optarg;
		else if (c == 'l')
			snprintf(langs_buf, sizeof(langs_buf), "%s", optarg);
		else
			goto usage;
	}
	if (!r.expect || optind >= argc)
		goto usage;
	diag_init(&dg);
	language_set_load("rules", &defs, &dg); /* the repository's languages */
	diag_clear(&dg);
	for (char *tok = strtok(langs_buf, ","); tok && nl < 8; tok = strtok(NULL, ",")) {
		if (!(langs[nl++] = language_find(&defs, tok))) {
			fprintf(stderr, "lang-eval: no rules/%s/language.yaml (run from the "
					"repository)\n", tok);
			return 1;
		}
	}
	r.li = langid_open(langs, nl, LANGID_DIR, err, sizeof(err));
	if (!r.li) {
		fprintf(stderr, "lang-eval: %s\n", err);
		return 1;
	}
	for (int i = optind; i < argc; i++)
		if (tsv_read(argv[i], row, &r)) {
			langid_close((langid *)r.li);
			return 1;
		}
	show("all", &r.t[0], r.expect);
	show("<=20 chars", &r.t[1], r.expect);
	show("21-40", &r.t[2], r.expect);
	show(">40", &r.t[3], r.expect);
	printf("mean %.1f us per guess\n", r.t[0].lines ? r.ns / 1e3 / (double)r.t[0].lines : 0);
	langid_close((langid *)r.li);
	language_set_clear(&defs);
	return 0;
usage:
	fprintf(stderr, "usage: %s --expect L [--langs en,pt,pl] FILE...\n", argv[0]);
	return 2;
}
