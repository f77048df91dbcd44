/* test_metrics.c: unit tests for src/metrics.c: the Prometheus text
 * exposition is well formed and the numbers it shows are the ones counted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* The value of the sample line that starts with `series` followed by a
 * space, or -1 if there is none. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	}
	return -1;
}

static void test_counters_show_what_was_counted(void **state)
{
	struct metrics m;
	char *text;
	(void)state;

	metrics_init(&m);
	atomic_store(&m.conn_chat, 3);
	atomic_store(&m.messages_in_total, 42);
	atomic_store(&m.frames_out[MF_REPLY], 40);
	atomic_store(&m.errors[WIRE_ERR_RATE_LIMITED], 2);
	text = metrics_render(&m, 5, 7);
	assert_true(sample(text, "supportd_connections{protocol=\"chat\"}") == 3);
	assert_true(sample(text, "supportd_messages_in_total") == 42);
	assert_true(sample(text, "supportd_frames_out_total{type=\"reply\"}") == 40);
	assert_true(sample(text, "supportd_frames_out_total{type=\"ack\"}") == 0);
	assert_true(sample(text, "supportd_errors_total{code=\"rate_limited\"}") == 2);
	assert_true(sample(text, "supportd_errors_total{code=\"bad_json\"}") == 0);
	assert_true(sample(text, "supportd_conversations_open") == 5);
	assert_true(sample(text, "supportd_store_pending") == 7);
	free(text);
}

static void test_histogram_is_cumulative(void **state)
{
	struct metrics m;
	char *text;
	(void)state;

	metrics_init(&m);
	metrics_observe_commit(&m, 50, 3, 0);      /* <= 0.0001 s */
	metrics_observe_commit(&m, 2000, 10, 0);   /* <= 0.0025 s */
	metrics_observe_commit(&m, 5000000, 1, 1); /* past every bucket */
	text = metrics_render(&m, 0, 0);
	assert_true(sample(text, "supportd_store_commit_seconds_bucket{le=\"0.0001\"}") == 1);
	assert_true(sample(text, "supportd_store_commit_seconds_bucket{le=\"0.001\"}") == 1);
	assert_true(sample(text, "supportd_store_commit_seconds_bucket{le=\"0.0025\"}") == 2);
	assert_true(sample(text, "supportd_store_commit_seconds_bucket{le=\"1\"}") == 2);
	assert_true(sample(text, "supportd_store_commit_seconds_bucket{le=\"+Inf\"}") == 3);
	assert_true(sample(text, "supportd_store_commit_seconds_count") == 3);
	assert_true(sample(text, "supportd_store_commit_seconds_sum") > 5.0);
	assert_true(sample(text, "supportd_store_jobs_total") == 14);
	assert_true(sample(text, "supportd_store_commit_failures_total") == 1);
	free(text);
}

/* Every sample line belongs to a family announced by # HELP and # TYPE. */
static void test_every_family_is_typed(void **state)
{
	struct metrics m;
	char *text, *line, *save = NULL;
	char family[128] = "";
	int samples = 0;
	(void)state;

	metrics_init(&m);
	text = metrics_render(&m, 0, 0);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# TYPE ", 7)) {
			sscanf(line + 7, "%127s", family);
			continue;
		}
		if (line[0] == '#')
			continue;
		samples++;
		assert_true(family[0] != '\0');
		if (strncmp(line, family, strlen(family)))
			fail_msg("sample \"%s\" outside its family \"%s\"", line, family);
	}
	assert_true(samples > WIRE_ERR__COUNT);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_show_what_was_counted),
		cmocka_unit_test(test_histogram_is_cumulative),
		cmocka_unit_test(test_every_family_is_typed),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
