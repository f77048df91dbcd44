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
#include "storesync.h"

static const char usage[] =
	"usage: supportd report [--since DURATION] [--json] [-d DIR]\n"
	"\n"
	"What the bot and the desk did since DURATION ago (default 7d; 90m, 24h,\n"
	"30d...): deflection rate, handoffs by reason, answers by source, top FAQ\n"
	"entries and intents, CSAT, first-response time and queue waits,\n"
	"conversations per hour. Reads the store under --data-dir (default var),\n"
	"also while the daemon runs.\n"
	"\n"
	"options:\n"
	"      --since D       how far back (default 7d)\n"
	"      --json          one JSON object (the fields of GET /api/stats)\n"
	"  -d, --data-dir DIR  where supportd.db lives (default var)\n"
	"  -c, --config FILE   JSON config file (its data_dir is used)\n"
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

int report_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"since", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"data-dir", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct config cfg;
	const char *since = "7d", *data_dir = NULL;
	int json = 0, c, status = 1;
	long long span;
	char err[512];

	config_defaults(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': since = optarg; break;
		case 'j': json = 1; break;
		case 'd': data_dir = optarg; break;
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
	if (optind != argc || (span = report_parse_since(since)) < 0) {
		fprintf(stderr, "supportd report: --since takes a duration like 90m, 24h or 7d\n");
		return 2;
	}
	storesync *st = storesync_open(data_dir ? data_dir : cfg.data_dir, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "supportd report: %s\n", err);
		return 1;
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
