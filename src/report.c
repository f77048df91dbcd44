/* report.c: `supportd report`. See report.h.
 *
 * The figures are the console's statistics (STORE_STATS, docs/desk.md),
 * so the stats page, `/api/stats` and this command never disagree. */
#include "report.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "language.h"
#include "pipeline.h"
#include "storesync.h"
#include "text.h"
#include "xalloc.h"

#define GROUP_SIMILAR 0.5   /* share of the shorter question's terms to join a group */
#define GROUP_EXAMPLES 3

static const char usage[] =
	"usage: supportd report [--since DURATION] [--json] [-d DIR]\n"
	"       supportd report unanswered [--since DURATION] [--json] [-d DIR] [--content DIR]\n"
	"\n"
	"What the bot and the desk did since DURATION ago (default 7d; 90m, 24h,\n"
	"30d...): deflection rate, handoffs by reason, answers by source, top FAQ\n"
	"entries and intents, CSAT, first-response time and queue waits,\n"
	"conversations per hour. Reads the store under --data-dir (default var),\n"
	"also while the daemon runs.\n"
	"\n"
	"unanswered: what customers asked that the bot could not answer (fallbacks,\n"
	"unsure handoffs, low-confidence answers, \"did you mean\" turned down,\n"
	"thumbs down), grouped by shared stemmed terms, most frequent first, with\n"
	"examples and the nearest FAQ entry in the content (--content, default .).\n"
	"\n"
	"options:\n"
	"      --since D       how far back (default 7d)\n"
	"      --json          one JSON object (the fields of GET /api/stats)\n"
	"  -d, --data-dir DIR  where supportd.db lives (default var)\n"
	"  -c, --config FILE   JSON config file (its data_dir and content_dir are used)\n"
	"      --content DIR   content root for the nearest FAQ entries (unanswered)\n"
	"  -h, --help          this help\n";

long long report_parse_since(const char *s)
{
	char *end;
	long long n = strtoll(s, &end, 10);
	long long unit = !strcmp(end, "m") ? 60000LL : !strcmp(end, "h") ? 3600000LL
		       : !strcmp(end, "d") ? 86400000LL : 0;
	if (end == s || n <= 0 || n > 3650 || !unit)
		return -1;
	return n * unit;
}

static double num(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void print_ms(const char *what, json_t *o)
{
	json_t *p50 = json_object_get(o, "p50_ms"), *p90 = json_object_get(o, "p90_ms");
	printf("%-22s %lld", what, (long long)num(o, "count"));
	if (json_is_integer(p50))
		printf("   p50 %.1f s   p90 %.1f s", (double)json_integer_value(p50) / 1000.0,
		       (double)json_integer_value(p90) / 1000.0);
	putchar('\n');
}

static void print_counts(const char *title, json_t *list, const char *key, double of)
{
	size_t i;
	json_t *x;
	printf("\n%s\n", title);
	if (!json_array_size(list))
		puts("  (none)");
	json_array_foreach(list, i, x) {
		double c = num(x, "count");
		printf("  %6lld", (long long)c);
		if (of > 0)
			printf("  %5.1f%%", 100.0 * c / of);
		printf("  %s\n", json_string_value(json_object_get(x, key)));
	}
}

static void print_text(json_t *o, const char *since)
{
	json_t *csat = json_object_get(o, "csat"), *dist = json_object_get(csat, "distribution"), *x;
	double convs = num(o, "conversations");
	size_t i;

	printf("supportd report: the last %s\n\n", since);
	printf("%-22s %lld\n", "conversations", (long long)convs);
	printf("%-22s %lld (%.1f%%): answered without a person\n", "deflected",
	       (long long)num(o, "deflected"), 100.0 * num(o, "deflection_rate"));
	printf("%-22s ", "CSAT");
	if (json_is_number(json_object_get(csat, "average")))
		printf("%.2f from %lld ratings;", num(csat, "average"), (long long)num(csat, "count"));
	else
		printf("no ratings;");
	json_array_foreach(dist, i, x)
		printf(" %zu:%lld", i + 1, (long long)json_integer_value(x));
	putchar('\n');
	print_ms("first agent response", json_object_get(o, "first_response"));
	print_ms("queue waits", json_object_get(o, "waits"));
	print_counts("handoffs by reason (share of conversations)", json_object_get(o, "handoffs_by_reason"),
		     "reason", convs);
	print_counts("answers by source", json_object_get(o, "answers_by_source"), "source", 0);
	print_counts("top FAQ entries", json_object_get(o, "top_faq"), "source", 0);
	print_counts("top intents", json_object_get(o, "top_intents"), "source", 0);
	print_counts("conversations per hour (UTC)", json_object_get(o, "per_hour"), "hour", 0);
}

/* A question's terms: its content words' stems, sorted, unique. */
struct terms {
	char **v;
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void terms_of(analyzer *an, const char *text, struct terms *t)
{
	struct tokens tk;
	t->v = NULL;
	t->n = 0;
	if (analyzer_run(an, text, strlen(text), &tk))
		return;
	t->v = xcalloc(tk.n ? tk.n : 1, sizeof(*t->v));
	for (size_t i = 0; i < tk.n; i++)
		if (!tk.v[i].stop)
			t->v[t->n++] = xstrdup(tk.v[i].stem);
	qsort(t->v, t->n, sizeof(*t->v), cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (u && !strcmp(t->v[u - 1], t->v[i]))
			free(t->v[i]);
		else
			t->v[u++] = t->v[i];
	}
	t->n = u;
	tokens_clear(&tk);
}

static void terms_clear(struct terms *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
}

/* |a ∩ b| / min(|a|, |b|) of two sorted term lists (the overlap
 * coefficient: short questions that share their key word group together). */
static double overlap(const struct terms *a, const struct terms *b)
{
	size_t i = 0, j = 0, both = 0;
	while (i < a->n && j < b->n) {
		int c = strcmp(a->v[i], b->v[j]);
		both += c == 0;
		i += c <= 0;
		j += c >= 0;
	}
	size_t fewer = a->n < b->n ? a->n : b->n;
	return fewer ? (double)both / (double)fewer : 0.0;
}

struct group {
	struct terms key;        /* the first question's terms */
	json_t *examples;        /* texts */
	json_t *kinds;           /* kind -> count */
	size_t count;
};

static int by_count(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

static int unanswered(storesync *st, const struct config *cfg, int64_t span, const char *since,
		      int json)
{
	struct store_job *job = store_job_new(STORE_UNANSWERED);
	struct group *g = NULL;
	size_t ng = 0, i;
	json_t *rows, *row, *out = json_array();
	logger lg = {LOG_ERROR};
	struct metrics m;
	struct diag d;
	pipeline *p;
	const struct language_set *langs;
	analyzer *an[LANGUAGES_MAX + 1] = {0}; /* per language, then one without */

	job->now_ms = clock_wall_ms();
	job->started_ms = job->now_ms - span;
	job = storesync_run(st, job);
	rows = job->status == STORE_OK ? json_loads(job->context, 0, NULL) : NULL;
	store_job_free(job);
	if (!rows) {
		fprintf(stderr, "supportd report: the store could not answer\n");
		return 1;
	}

	/* the bot as it is today: each question's words as its language reads
	 * them, and the nearest FAQ entry */
	metrics_init(&m);
	diag_init(&d);
	p = pipeline_open(cfg, &lg, &m, NULL, &d);
	if (!p)
		fprintf(stderr, "supportd report: the content in %s has problems; no nearest entries "
				"(run supportd check)\n", cfg->content_dir);
	diag_clear(&d);
	langs = p ? brain_language_set(pipeline_brain(p)) : NULL;

	json_array_foreach(rows, i, row) {
		const char *text = json_string_value(json_object_get(row, "text"));
		const char *kind = json_string_value(json_object_get(row, "kind"));
		const struct language *lang =
			language_find(langs, json_string_value(json_object_get(row, "lang")));
		size_t li = lang ? (size_t)(lang - langs->v) : LANGUAGES_MAX;
		struct terms t;
		size_t k;
		if (!text || !kind)
			continue;
		if (!an[li])
			an[li] = analyzer_new(lang);
		terms_of(an[li], text, &t);
		for (k = 0; k < ng && overlap(&g[k].key, &t) < GROUP_SIMILAR; k++)
			;
		if (k == ng) {
			g = xrealloc(g, (ng + 1) * sizeof(*g));
			g[ng].key = t;
			g[ng].examples = json_array();
			g[ng].kinds = json_object();
			g[ng].count = 0;
			ng++;
		} else {
			terms_clear(&t);
		}
		g[k].count++;
		if (json_array_size(g[k].examples) < GROUP_EXAMPLES)
			json_array_append_new(g[k].examples, json_string(text));
		json_object_set_new(g[k].kinds, kind,
				    json_integer(json_integer_value(json_object_get(g[k].kinds, kind)) + 1));
	}
	qsort(g, ng, sizeof(*g), by_count);
	for (i = 0; i < ng; i++) {
		json_t *o = json_pack("{s:I, s:o, s:o}", "count", (json_int_t)g[i].count, "examples",
				      g[i].examples, "kinds", g[i].kinds);
		json_t *terms = json_array();
		for (size_t t = 0; t < g[i].key.n; t++)
			json_array_append_new(terms, json_string(g[i].key.v[t]));
		json_object_set_new(o, "terms", terms);
		if (p) {
			const char *q = json_string_value(json_array_get(g[i].examples, 0));
			struct pipeline_input in = {"report", NULL, NULL, 1, q, strlen(q), NULL, NULL, 0,
						    NULL, NULL, 0};
			struct pipeline_decision dec;
			pipeline_run(p, &in, &dec);
			for (size_t c = 0; c < dec.understood.n; c++)
				if (dec.understood.top[c].kind == BRAIN_FAQ ||
				    dec.understood.top[c].faq) {
					json_object_set_new(o, "nearest",
							    json_pack("{s:s, s:s?, s:f}", "source",
								      dec.understood.top[c].source, "label",
								      dec.understood.top[c].label,
								      "confidence",
								      dec.understood.top[c].confidence));
					break;
				}
			pipeline_decision_clear(&dec);
		}
		json_array_append_new(out, o);
		terms_clear(&g[i].key);
	}
	free(g);
	for (i = 0; i <= LANGUAGES_MAX; i++)
		analyzer_free(an[i]);
	pipeline_close(p);
	if (json) {
		json_t *top = json_pack("{s:s, s:I, s:o}", "since", since, "questions",
					(json_int_t)json_array_size(rows), "groups", out);
		char *s = json_dumps(top, JSON_COMPACT);
		puts(s ? s : "{}");
		free(s);
		json_decref(top);
	} else {
		printf("supportd report unanswered: the last %s, %zu questions in %zu groups\n", since,
		       json_array_size(rows), json_array_size(out));
		json_array_foreach(out, i, row) {
			json_t *ex, *nearest = json_object_get(row, "nearest");
			const char *kind;
			json_t *n;
			size_t e;
			printf("\n%zu. %lld times (", i + 1, (long long)num(row, "count"));
			int first = 1;
			json_object_foreach(json_object_get(row, "kinds"), kind, n) {
				printf("%s%s %lld", first ? "" : ", ", kind, (long long)json_integer_value(n));
				first = 0;
			}
			puts(")");
			json_array_foreach(json_object_get(row, "examples"), e, ex)
				printf("   \"%s\"\n", json_string_value(ex));
			if (nearest)
				printf("   nearest: %s (%s, %.2f)\n",
				       json_string_value(json_object_get(nearest, "source")),
				       json_string_value(json_object_get(nearest, "label"))
					       ? json_string_value(json_object_get(nearest, "label"))
					       : "",
				       num(nearest, "confidence"));
		}
		json_decref(out);
	}
	json_decref(rows);
	return 0;
}

int report_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"since", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"content", required_argument, NULL, 'C'},
		{"data-dir", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct config cfg;
	const char *since = "7d", *data_dir = NULL, *content = NULL;
	int json = 0, c, status = 1, unans = 0;
	long long span;
	char err[512];

	config_defaults(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': since = optarg; break;
		case 'j': json = 1; break;
		case 'd': data_dir = optarg; break;
		case 'C': content = optarg; break;
		case 'c':
			if (config_load_file(&cfg, optarg, err, sizeof(err))) {
				fprintf(stderr, "supportd report: %s\n", err);
				return 2;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind == argc - 1 && !strcmp(argv[optind], "unanswered")) {
		unans = 1;
		optind++;
	}
	if (optind != argc || (span = report_parse_since(since)) < 0) {
		fprintf(stderr, "supportd report: --since takes a duration like 90m, 24h or 7d\n");
		return 2;
	}
	storesync *st = storesync_open(data_dir ? data_dir : cfg.data_dir, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "supportd report: %s\n", err);
		return 1;
	}
	if (content)
		snprintf(cfg.content_dir, sizeof(cfg.content_dir), "%s", content);
	if (unans) {
		status = unanswered(st, &cfg, span, since, json);
		storesync_close(st);
		return status;
	}
	struct store_job *job = store_job_new(STORE_STATS);
	job->now_ms = clock_wall_ms();
	job->started_ms = job->now_ms - span;
	job = storesync_run(st, job);
	json_t *o = job->status == STORE_OK && job->context ? json_loads(job->context, 0, NULL) : NULL;
	if (o) {
		json_object_set_new(o, "since", json_string(since));
		if (json) {
			char *s = json_dumps(o, JSON_COMPACT);
			puts(s ? s : "{}");
			free(s);
		} else {
			print_text(o, since);
		}
		status = 0;
	} else {
		fprintf(stderr, "supportd report: the store could not answer\n");
	}
	json_decref(o);
	store_job_free(job);
	storesync_close(st);
	return status;
}
