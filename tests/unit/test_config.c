/* test_config.c: unit tests for src/config.c: defaults, the JSON file
 * overriding them, and every way a file is refused, with the reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

struct harness {
	char dir[64];
	char path[128];
	char err[512];
	struct config cfg;
};

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	if (!h)
		return -1;
	snprintf(h->dir, sizeof(h->dir), "/tmp/supportd-config-XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(h->path, sizeof(h->path), "%s/supportd.json", h->dir);
	config_defaults(&h->cfg);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct harness *h = *state;
	unlink(h->path);
	rmdir(h->dir);
	free(h);
	return 0;
}

/* Writes text to the harness's file and loads it; returns config_load_file's result. */
static int load(struct harness *h, const char *text)
{
	FILE *f = fopen(h->path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	h->err[0] = '\0';
	return config_load_file(&h->cfg, h->path, h->err, sizeof(h->err));
}

static void expect_refused(struct harness *h, const char *text, const char *needle)
{
	assert_int_equal(load(h, text), -1);
	if (!strstr(h->err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", h->err, needle);
	if (!strstr(h->err, h->path))
		fail_msg("error \"%s\" does not name the file", h->err);
}

static void test_defaults(void **state)
{
	struct harness *h = *state;
	assert_string_equal(h->cfg.listen, "127.0.0.1");
	assert_int_equal(h->cfg.port, 8080);
	assert_string_equal(h->cfg.data_dir, "var");
	assert_int_equal(h->cfg.chat.max_text_bytes, 4096);
	assert_int_equal(h->cfg.chat.max_frame_bytes, 65536);
	assert_true(h->cfg.chat.rate_per_sec > 0 && h->cfg.chat.rate_burst >= 1);
	assert_int_equal(h->cfg.store.synchronous_full, 1);
	assert_int_equal(h->cfg.chat.bot_typing, 0);
}

static void test_file_overrides_only_what_it_names(void **state)
{
	struct harness *h = *state;
	assert_int_equal(load(h, "{\"port\": 9090, \"listen\": \"0.0.0.0\","
				 " \"chat\": {\"rate_per_sec\": 2.5, \"max_events\": 100, \"bot_typing\": true},"
				 " \"script\": {\"instruction_limit\": 5000},"
				 " \"store\": {\"synchronous\": \"normal\", \"batch_max\": 7}}"),
			 0);
	assert_int_equal(h->cfg.port, 9090);
	assert_string_equal(h->cfg.listen, "0.0.0.0");
	assert_true(h->cfg.chat.rate_per_sec == 2.5);
	assert_int_equal(h->cfg.chat.max_events, 100);
	assert_int_equal(h->cfg.chat.bot_typing, 1);
	assert_int_equal(h->cfg.script.instruction_limit, 5000);
	assert_int_equal(h->cfg.store.synchronous_full, 0);
	assert_int_equal(h->cfg.store.batch_max, 7);
	/* untouched */
	assert_string_equal(h->cfg.data_dir, "var");
	assert_int_equal(h->cfg.chat.max_text_bytes, 4096);
	assert_true(h->cfg.chat.rate_burst == 10);
}

static void test_empty_object_changes_nothing(void **state)
{
	struct harness *h = *state;
	struct config d;
	config_defaults(&d);
	assert_int_equal(load(h, "{}"), 0);
	assert_memory_equal(&d, &h->cfg, sizeof(d));
}

static void test_bad_json_has_line_and_column(void **state)
{
	struct harness *h = *state;
	char where[160];
	expect_refused(h, "{\n  \"port\": 1,\n  \"listen\": \n}\n", ":4:");
	snprintf(where, sizeof(where), "%s:4:", h->path);
	assert_non_null(strstr(h->err, where));
	expect_refused(h, "{\"port\": 1, \"port\": 2}", "duplicate");
	expect_refused(h, "[1, 2]", "must be a JSON object");
}

static void test_unknown_keys(void **state)
{
	struct harness *h = *state;
	expect_refused(h, "{\"prot\": 1}", "unknown key \"prot\"");
	expect_refused(h, "{\"chat\": {\"max_text\": 1}}", "unknown key \"chat.max_text\"");
	expect_refused(h, "{\"store\": {\"port\": 1}}", "unknown key \"store.port\"");
	expect_refused(h, "{\"chat\": 5}", "\"chat\" must be an object");
}

static void test_wrong_types(void **state)
{
	struct harness *h = *state;
	expect_refused(h, "{\"port\": \"8080\"}", "port must be an integer");
	expect_refused(h, "{\"port\": 80.5}", "port must be an integer");
	expect_refused(h, "{\"listen\": 1}", "listen must be a non-empty string");
	expect_refused(h, "{\"listen\": \"\"}", "listen must be a non-empty string");
	expect_refused(h, "{\"chat\": {\"bot_typing\": 1}}", "chat.bot_typing must be true or false");
	expect_refused(h, "{\"chat\": {\"rate_per_sec\": \"5\"}}", "chat.rate_per_sec must be a number");
	expect_refused(h, "{\"store\": {\"synchronous\": \"off\"}}", "store.synchronous must be");
}

static void test_ranges(void **state)
{
	struct harness *h = *state;
	char big[256];
	expect_refused(h, "{\"port\": 70000}", "port is 70000; it must be between 0 and 65535");
	expect_refused(h, "{\"port\": -1}", "port is -1");
	expect_refused(h, "{\"chat\": {\"rate_burst\": 0}}", "chat.rate_burst is 0");
	expect_refused(h, "{\"chat\": {\"max_frame_bytes\": 10}}", "chat.max_frame_bytes is 10");
	expect_refused(h, "{\"script\": {\"memory_limit_kb\": 1}}", "script.memory_limit_kb is 1");
	/* a string too long for its buffer */
	memset(big, 'a', 100);
	big[100] = '\0';
	char text[300];
	snprintf(text, sizeof(text), "{\"listen\": \"%s\"}", big);
	expect_refused(h, text, "listen must be a non-empty string shorter than");
}

static void test_missing_file(void **state)
{
	struct harness *h = *state;
	char path[200];
	snprintf(path, sizeof(path), "%s/nope.json", h->dir);
	assert_int_equal(config_load_file(&h->cfg, path, h->err, sizeof(h->err)), -1);
	assert_non_null(strstr(h->err, path));
}

static void test_flows_named_maps(void **state)
{
	struct harness *h = *state;

	/* the default validator is there without a file */
	assert_int_equal(h->cfg.flows.n_patterns, 1);
	assert_string_equal(h->cfg.flows.patterns[0].name, "order_number");
	assert_int_equal(h->cfg.flows.n_backends, 0);

	assert_int_equal(load(h, "{\"flows\": {\"backends\": {\"api\": \"https://b.example/v1\","
				 " \"crm\": \"http://10.0.0.2:8080\"},"
				 " \"patterns\": {\"order_number\": \"^[0-9]{6}$\", \"zip\": \"^[0-9]{5}$\"},"
				 " \"timeout_ms\": 300, \"ca_file\": \"ca.pem\"}}"),
			 0);
	assert_int_equal(h->cfg.flows.n_backends, 2);
	assert_string_equal(h->cfg.flows.backends[0].name, "api");
	assert_string_equal(h->cfg.flows.backends[0].value, "https://b.example/v1");
	assert_string_equal(h->cfg.flows.backends[1].value, "http://10.0.0.2:8080");
	/* a name given replaces the default of that name; new names are added */
	assert_int_equal(h->cfg.flows.n_patterns, 2);
	assert_string_equal(h->cfg.flows.patterns[0].value, "^[0-9]{6}$");
	assert_string_equal(h->cfg.flows.patterns[1].name, "zip");
	assert_int_equal(h->cfg.flows.timeout_ms, 300);
	assert_string_equal(h->cfg.flows.ca_file, "ca.pem");

	expect_refused(h, "{\"flows\": {\"backends\": [\"http://x\"]}}", "flows.backends must be an object");
	expect_refused(h, "{\"flows\": {\"backends\": {\"Api\": \"http://x\"}}}", "is not a name");
	expect_refused(h, "{\"flows\": {\"backends\": {\"api\": 5}}}", "flows.backends.api must be");
	expect_refused(h, "{\"flows\": {\"backends\": {\"api\": \"\"}}}", "flows.backends.api must be");
	expect_refused(h, "{\"flows\": {\"answer_timeout_ms\": 10}}", "answer_timeout_ms");
	expect_refused(h, "{\"flows\": {\"retries\": 1}}", "unknown key \"flows.retries\"");
}

static void test_desk_teams(void **state)
{
	struct harness *h = *state;

	assert_string_equal(h->cfg.desk.default_team, "general");
	assert_int_equal(load(h, "{\"desk\": {\"accept_timeout_ms\": 500, \"default_team\": \"support\","
				 " \"teams\": {\"accounts\": {\"timezone\": \"Europe/Lisbon\","
				 " \"hours\": {\"mon-fri\": \"09:00-18:00\", \"sat\": \"10:00-14:00\"}}}}}"),
			 0);
	assert_int_equal(h->cfg.desk.accept_timeout_ms, 500);
	assert_string_equal(h->cfg.desk.default_team, "support");
	assert_int_equal(h->cfg.desk.n_teams, 1);
	assert_string_equal(h->cfg.desk.teams[0].name, "accounts");
	assert_string_equal(h->cfg.desk.teams[0].hours.tz, "Europe/Lisbon");
	assert_true(h->cfg.desk.teams[0].hours.set);
	assert_int_equal(h->cfg.desk.teams[0].hours.day[0].open_min, 9 * 60);  /* Monday */
	assert_int_equal(h->cfg.desk.teams[0].hours.day[5].close_min, 14 * 60); /* Saturday */
	assert_int_equal(h->cfg.desk.teams[0].hours.day[6].close_min, 0);       /* Sunday: closed */

	expect_refused(h, "{\"desk\": {\"teams\": {\"a\": {\"timezone\": \"Mars/Olympus\", \"hours\": {}}}}}",
		       "desk.teams.a.timezone");
	expect_refused(h, "{\"desk\": {\"teams\": {\"a\": {\"timezone\": \"UTC\"}}}}", "desk.teams.a.hours");
	expect_refused(h, "{\"desk\": {\"teams\": {\"a\": {\"timezone\": \"UTC\","
			  " \"hours\": {\"mon\": \"18:00-09:00\"}}}}}", "desk.teams.a.hours.mon");
	expect_refused(h, "{\"desk\": {\"teams\": {\"a\": {\"timezone\": \"UTC\","
			  " \"hours\": {\"funday\": \"09:00-10:00\"}}}}}", "desk.teams.a.hours.funday");
	expect_refused(h, "{\"desk\": {\"teams\": {\"a\": {\"tz\": \"UTC\"}}}}", "unknown key");
	expect_refused(h, "{\"desk\": {\"accept_timeout_ms\": 5}}", "accept_timeout_ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_overrides_only_what_it_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_object_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_json_has_line_and_column, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flows_named_maps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_desk_teams, setup, teardown),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
