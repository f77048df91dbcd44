/* brain_scale.c: the brain at scale. Generates N synthetic FAQ entries and
 * M intents as the Markdown and YAML files editors would write, parses
 * them with the daemon's loaders, builds the brain, and times
 * brain_understand() on queries made from the content with a typo in one
 * word in every other query.
 *
 *   bench/brain-scale [--faq N] [--intents M] [--queries Q] [--seed S]
 *
 * Prints one figure per line: build_ms (of which index_build_ms for the
 * FAQ index and model_build_ms for the intent model), p50_us, p99_us, max_us,
 * top1_rate (the query's own entry or intent ranked first), peak_rss_kib. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "brain.h"
#include "diag.h"
#include "faq.h"
#include "rules.h"

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic for a seed, good enough for test data */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

#define VOCAB 6000
static char vocab[VOCAB][12];

static void make_vocab(void)
{
	static const char *cons = "bcdfghjklmnprstvwz", *vow = "aeiou";
	for (int i = 0; i < VOCAB; i++) {
		int syl = 2 + (int)(rnd() % 3), k = 0;
		for (int s = 0; s < syl; s++) {
			vocab[i][k++] = cons[rnd() % 18];
			vocab[i][k++] = vow[rnd() % 5];
		}
		vocab[i][k] = 0;
	}
}

/* A word: mostly from the item's own topic words, sometimes common ones. */
static const char *word(const int *topic, int ntopic)
{
	if (rnd() % 3)
		return vocab[topic[rnd() % (unsigned)ntopic]];
	return vocab[rnd() % 200]; /* the 200 "common" words */
}

static void phrase(char *out, size_t cap, const int *topic, int ntopic, int nwords)
{
	size_t used = 0;
	out[0] = 0;
	for (int i = 0; i < nwords && used + 14 < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? " " : "",
					 word(topic, ntopic));
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Puts a typo (two letters swapped) into the longest word of s. */
static void typo(char *s)
{
	char *best = NULL;
	size_t best_len = 0;
	for (char *p = s; *p;) {
		size_t n = strcspn(p, " ");
		if (n > best_len) {
			best = p;
			best_len = n;
		}
		p += n;
		p += strspn(p, " ");
	}
	if (best && best_len >= 5) {
		char t = best[2];
		best[2] = best[3];
		best[3] = t;
	}
}

int main(int argc, char **argv)
{
	int n_faq = 10000, n_intents = 1000, n_queries = 5000;
	unsigned long long seed = 42;
	static const struct option opts[] = {
		{"faq", required_argument, NULL, 'f'},
		{"intents", required_argument, NULL, 'i'},
		{"queries", required_argument, NULL, 'q'},
		{"seed", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': n_faq = atoi(optarg); break;
		case 'i': n_intents = atoi(optarg); break;
		case 'q': n_queries = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: %s [--faq N] [--intents M] [--queries Q] [--seed S]\n",
				argv[0]);
			return 2;
		}
	}
	if (n_faq < 1 || n_intents < 2 || n_queries < 1) {
		fprintf(stderr, "brain-scale: --faq >= 1, --intents >= 2, --queries >= 1\n");
		return 2;
	}
	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
	make_vocab();

	struct faq_set faqs = {0};
	struct rule_set rules = {0};
	struct diag d;
	char *buf = malloc(1 << 20), line[512];
	int topic[12];
	diag_init(&d);
	if (!buf)
		abort();
	rules.thresholds = (struct rule_thresholds){0.55, 0.25, 0.15};

	faqs.v = calloc((size_t)n_faq, sizeof(*faqs.v));
	faqs.cap = (size_t)n_faq;
	if (!faqs.v)
		abort();
	for (int e = 0; e < n_faq; e++) {
		size_t used = 0;
		for (int k = 0; k < 12; k++)
			topic[k] = 200 + (int)(rnd() % (VOCAB - 200));
		phrase(line, sizeof(line), topic, 12, 4);
		used += (size_t)snprintf(buf + used, 1 << 20, "---\nid: e%d\ntitle: %s\nquestions:\n", e,
					 line);
		for (int q = 0; q < 5; q++) {
			phrase(line, sizeof(line), topic, 12, 6 + (int)(rnd() % 5));
			used += (size_t)snprintf(buf + used, (1 << 20) - used, "  - %s\n", line);
		}
		phrase(line, sizeof(line), topic, 12, 60);
		used += (size_t)snprintf(buf + used, (1 << 20) - used, "---\n%s.\n", line);
		char file[64];
		snprintf(file, sizeof(file), "faq/en/e%d.md", e);
		if (faq_parse(file, "en", buf, used, &faqs.v[faqs.n], &d)) {
			fprintf(stderr, "brain-scale: generated FAQ does not parse: %s\n", d.v[0]);
			return 1;
		}
		faqs.n++;
	}

	size_t used = (size_t)snprintf(buf, 1 << 20, "intents:\n");
	for (int i = 0; i < n_intents; i++) {
		for (int k = 0; k < 12; k++)
			topic[k] = 200 + (int)(rnd() % (VOCAB - 200));
		used += (size_t)snprintf(buf + used, (1 << 20) - used,
					 "  - name: i%d\n    label: Intent %d\n    reply: answer %d\n", i,
					 i, i);
		if (i % 10 == 0) /* one intent in ten has a pattern */
			used += (size_t)snprintf(buf + used, (1 << 20) - used,
						 "    patterns:\n      - '\\b%s\\b.{0,30}\\b%s\\b'\n",
						 vocab[topic[0]], vocab[topic[1]]);
		used += (size_t)snprintf(buf + used, (1 << 20) - used, "    examples:\n");
		for (int q = 0; q < 10; q++) {
			phrase(line, sizeof(line), topic, 12, 5 + (int)(rnd() % 4));
			used += (size_t)snprintf(buf + used, (1 << 20) - used, "      - %s\n", line);
		}
		if (used > 200 * 1024) { /* rules files are at most 256 KiB */
			if (rules_parse("rules/en/gen.yaml", "en", buf, used, &rules, &d)) {
				fprintf(stderr, "brain-scale: generated rules do not parse: %s\n", d.v[0]);
				return 1;
			}
			used = (size_t)snprintf(buf, 1 << 20, "intents:\n");
		}
	}
	if (used > 9 && rules_parse("rules/en/gen.yaml", "en", buf, used, &rules, &d)) {
		fprintf(stderr, "brain-scale: generated rules do not parse: %s\n", d.v[0]);
		return 1;
	}

	/* queries: a question of an entry or an example of an intent, reworded
	 * by dropping its first word, and every other one with a typo */
	char **queries = calloc((size_t)n_queries, sizeof(*queries));
	char **expect = calloc((size_t)n_queries, sizeof(*expect));
	if (!queries || !expect)
		abort();
	for (int q = 0; q < n_queries; q++) {
		char src[96];
		const char *text;
		if (q % 2) {
			const struct faq_entry *e = &faqs.v[rnd() % faqs.n];
			text = e->questions[rnd() % e->n_questions];
			snprintf(src, sizeof(src), "faq:%s", e->id);
		} else {
			const struct rule_intent *r = &rules.v[rnd() % rules.n];
			text = r->examples[rnd() % r->n_examples];
			snprintf(src, sizeof(src), "intent:%s", r->name);
		}
		const char *sp = strchr(text, ' ');
		queries[q] = strdup(sp ? sp + 1 : text);
		expect[q] = strdup(src);
		if (!queries[q] || !expect[q])
			abort();
		if (q % 4 < 2)
			typo(queries[q]);
	}

	struct brain_limits lim;
	brain_limits_default(&lim);
	logger lg = {LOG_WARN};
	language_set_load("rules", &rules.languages, &d); /* the repository's */
	double t0 = now_us();
	brain *b = brain_build(&faqs, &rules, &lim, &lg, &d);
	double build_ms = (now_us() - t0) / 1000;
	if (!b) {
		fprintf(stderr, "brain-scale: build failed: %s\n", d.n ? d.v[0] : "?");
		return 1;
	}
	struct brain_stats st;
	brain_get_stats(b, &st);

	double *lat = calloc((size_t)n_queries, sizeof(double));
	int top1 = 0;
	if (!lat)
		abort();
	for (int q = 0; q < n_queries; q++) {
		struct brain_result r;
		double a = now_us();
		brain_understand(b, "en", queries[q], strlen(queries[q]), NULL, &r);
		lat[q] = now_us() - a;
		top1 += r.n && !strcmp(r.top[0].source, expect[q]);
		brain_result_clear(&r);
	}
	qsort(lat, (size_t)n_queries, sizeof(double), cmp_double);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);

	printf("faq_entries %zu\nintents %zu\npatterns %zu\nmodel_classes %zu\nqueries %d\n",
	       st.faq_entries, st.intents, st.patterns, st.model_classes, n_queries);
	printf("build_ms %.0f\nindex_build_ms %.0f\nmodel_build_ms %.0f\n", build_ms, st.index_ms,
	       st.model_ms);
	printf("p50_us %.1f\np99_us %.1f\nmax_us %.1f\n", lat[n_queries / 2],
	       lat[(size_t)((double)n_queries * 0.99)], lat[n_queries - 1]);
	printf("top1_rate %.4f\n", (double)top1 / n_queries);
	printf("peak_rss_kib %ld\n", ru.ru_maxrss);

	for (int q = 0; q < n_queries; q++) {
		free(queries[q]);
		free(expect[q]);
	}
	free(queries);
	free(expect);
	free(lat);
	free(buf);
	brain_free(b);
	diag_clear(&d);
	return 0;
}
