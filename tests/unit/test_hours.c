/* test_hours.c: unit tests for src/hours.c.
 *
 * Every instant is a fixed Unix time, worked out with GNU date while the
 * test was written, e.g. date -u -d 'TZ="Europe/Lisbon" 2025-06-02 09:00' +%s,
 * and written with the local time it stands for. They are inputs; the
 * answers come from ICU through hours.c. Dates are in 2025, whose DST
 * rules ICU's bundled tzdata (2022e and later) already has:
 *   Europe/Lisbon     WET +0 / WEST +1: 2025-03-30 01:00 -> 02:00,
 *                     2025-10-26 02:00 -> 01:00
 *   America/New_York  EST -5 / EDT -4: 2025-03-09 02:00 -> 03:00,
 *                     2025-11-02 02:00 -> 01:00
 *   Pacific/Auckland  NZST +12 / NZDT +13: 2025-04-06 03:00 -> 02:00,
 *                     2025-09-28 02:00 -> 03:00
 *   Asia/Kolkata      IST +5:30, no DST */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hours.h"

#define S(x) ((int64_t)(x) * 1000) /* Unix seconds to ms */
#define NEVER_SET ((int64_t)-42)

/* Builds a schedule from NULL-terminated key, spec pairs; fails the test
 * if any is refused. */
static struct hours sched(const char *tz, ...)
{
	struct hours h;
	char err[256];
	unsigned seen = 0;
	va_list ap;
	const char *key;

	memset(&h, 0, sizeof(h));
	if (hours_set_tz(&h, tz, err, sizeof(err)))
		fail_msg("timezone %s: %s", tz, err);
	va_start(ap, tz);
	while ((key = va_arg(ap, const char *))) {
		const char *spec = va_arg(ap, const char *);
		if (hours_set_days(&h, key, spec, &seen, err, sizeof(err)))
			fail_msg("%s: %s: %s", key, spec, err);
	}
	va_end(ap);
	return h;
}

/* Asserts closed at t with the next opening at want (-1: none). Failures
 * name the caller's line and show instants in Unix seconds. */
static void check_closed_until(const struct hours *h, int64_t t, int64_t want, int line)
{
	int64_t next = NEVER_SET;
	int rc = hours_open(h, t, &next);
	if (rc != 0 || next != want)
		fail_msg("line %d: at %lld.%03lld: open %d, next %lld.%03lld; want closed, next %lld.%03lld",
			 line, (long long)(t / 1000), (long long)(t % 1000), rc, (long long)(next / 1000),
			 (long long)(next % 1000), (long long)(want / 1000), (long long)(want % 1000));
}
#define assert_closed_until(h, t, want) check_closed_until((h), (t), (want), __LINE__)

/* Asserts open at t, leaving the next-opening output alone. */
static void check_open(const struct hours *h, int64_t t, int line)
{
	int64_t next = NEVER_SET;
	int rc = hours_open(h, t, &next);
	if (rc != 1 || next != NEVER_SET)
		fail_msg("line %d: at %lld.%03lld: open %d, next %lld; want open, next untouched",
			 line, (long long)(t / 1000), (long long)(t % 1000), rc, (long long)next);
}
#define assert_open(h, t) check_open((h), (t), __LINE__)

/* ---------------------------------------------------------------- parsing */

static void test_parse_day_valid(void **state)
{
	static const struct { const char *spec; int o, c; } ok[] = {
		{"09:00-18:00", 540, 1080},
		{"closed", 0, 0},
		{"00:00-24:00", 0, 1440},
		{"22:00-24:00", 1320, 1440},
		{"00:00-00:01", 0, 1},
		{"08:15-12:45", 495, 765},
		{"23:59-24:00", 1439, 1440},
	};
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int o = -7, c = -7;
		if (hours_parse_day(ok[i].spec, &o, &c, err, sizeof(err)))
			fail_msg("\"%s\" refused: %s", ok[i].spec, err);
		assert_int_equal(o, ok[i].o);
		assert_int_equal(c, ok[i].c);
	}
}

static void test_parse_day_invalid(void **state)
{
	static const char *const bad[] = {
		"", "Closed", "open", "9:00-18:00", "09:00-18:0", "09:00 - 18:00",
		"09:00-18:00 ", " 09:00-18:00", "09.00-18.00", "09:00/18:00", "09:00-18:00x",
		"09:60-10:00", "25:00-26:00", "09:00-24:01", "24:00-24:00", "09:00-09:00",
		"00:00-00:00", "18:00-09:00", "22:00-02:00", "-9:00-18:00", "+9:00-18:00",
		"0a:00-18:00", "09:00-18:00\n",
	};
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int o = -7, c = -7;
		err[0] = '\0';
		if (!hours_parse_day(bad[i], &o, &c, err, sizeof(err)))
			fail_msg("\"%s\" accepted as %d-%d", bad[i], o, c);
		assert_true(err[0] != '\0');
		assert_int_equal(o, -7); /* untouched on error */
		assert_int_equal(c, -7);
	}
	int o = -7, c = -7;
	assert_int_equal(hours_parse_day(NULL, &o, &c, err, sizeof(err)), -1);
	/* the reasons say what is wrong */
	hours_parse_day("18:00-09:00", &o, &c, err, sizeof(err));
	assert_non_null(strstr(err, "24:00"));
	hours_parse_day("09:00-09:00", &o, &c, err, sizeof(err));
	assert_non_null(strstr(err, "closed"));
	hours_parse_day("nine to five", &o, &c, err, sizeof(err));
	assert_non_null(strstr(err, "HH:MM-HH:MM"));
}

static void test_day_index(void **state)
{
	static const char *const names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	(void)state;

	for (int i = 0; i < 7; i++)
		assert_int_equal(hours_day_index(names[i]), i);
	assert_int_equal(hours_day_index("Mon"), -1);
	assert_int_equal(hours_day_index("monday"), -1);
	assert_int_equal(hours_day_index("mo"), -1);
	assert_int_equal(hours_day_index(""), -1);
	assert_int_equal(hours_day_index("mon-fri"), -1);
	assert_int_equal(hours_day_index(NULL), -1);
}

static void test_set_days(void **state)
{
	struct hours h, before;
	unsigned seen = 0;
	char err[256];
	(void)state;

	memset(&h, 0, sizeof(h));
	assert_int_equal(hours_set_days(&h, "mon-fri", "09:00-18:00", &seen, err, sizeof(err)), 0);
	assert_int_equal(hours_set_days(&h, "sat", "10:00-13:00", &seen, err, sizeof(err)), 0);
	assert_int_equal(h.set, 1);
	assert_int_equal(seen, 0x3fu);
	for (int d = 0; d < 5; d++) {
		assert_int_equal(h.day[d].open_min, 540);
		assert_int_equal(h.day[d].close_min, 1080);
	}
	assert_int_equal(h.day[5].open_min, 600);
	assert_int_equal(h.day[5].close_min, 780);
	assert_int_equal(h.day[6].open_min, 0); /* not given: closed */
	assert_int_equal(h.day[6].close_min, 0);

	/* a day twice, a bad key or a bad spec leaves h and seen as they were */
	before = h;
	assert_int_equal(hours_set_days(&h, "wed", "closed", &seen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "wed is given twice"));
	assert_int_equal(hours_set_days(&h, "sun-tue", "closed", &seen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mon is given twice"));
	static const char *const bad_keys[] = {"Mon", "sunday", "mon-mon", "mon-", "-fri", "mon_fri",
					       "mon-fri-sat", "", "mon fri"};
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		unsigned s = 0;
		if (!hours_set_days(&h, bad_keys[i], "closed", &s, err, sizeof(err)))
			fail_msg("key \"%s\" accepted", bad_keys[i]);
		assert_non_null(strstr(err, "mon-fri"));
		assert_int_equal(s, 0);
	}
	unsigned s = 0;
	assert_int_equal(hours_set_days(&h, "sun", "25:00-26:00", &s, err, sizeof(err)), -1);
	assert_int_equal(s, 0);
	assert_int_equal(seen, 0x3fu);
	assert_memory_equal(&h, &before, sizeof(h));

	/* a range may wrap the week: fri, sat, sun, mon */
	memset(&h, 0, sizeof(h));
	seen = 0;
	assert_int_equal(hours_set_days(&h, "fri-mon", "00:00-24:00", &seen, err, sizeof(err)), 0);
	assert_int_equal(seen, (1u << 4) | (1u << 5) | (1u << 6) | (1u << 0));
	assert_int_equal(h.day[0].close_min, 1440);
	assert_int_equal(h.day[1].close_min, 0);
	assert_int_equal(h.day[3].close_min, 0);
	assert_int_equal(h.day[6].close_min, 1440);

	/* "closed" alone still makes a schedule: never open */
	memset(&h, 0, sizeof(h));
	seen = 0;
	assert_int_equal(hours_set_days(&h, "mon", "closed", &seen, err, sizeof(err)), 0);
	assert_int_equal(h.set, 1);
}

/* ------------------------------------------------------------- time zones */

static void test_check_tz(void **state)
{
	static const char *const good[] = {
		"Europe/Lisbon", "America/New_York", "Pacific/Auckland", "Asia/Kolkata",
		"Asia/Calcutta", "UTC", "Etc/UTC", "US/Eastern", "America/Port-au-Prince",
		"Etc/GMT+5", "America/Argentina/Buenos_Aires",
	};
	static const char *const bad[] = {
		"Foo/Bar", "Europe/Lisboa", "europe/lisbon", "EUROPE/LISBON", "Etc/Unknown",
		"GMT+05:00", "GMT+5", "+01:00", "", "Europe/Lisbon ", " Europe/Lisbon",
		"Europe/Lisbon\n", "Europe/Lisb\xc3\xb6n", "Europe\\Lisbon", "Europe/Lisbon%s",
		"Europe/Lisbon_______________________________________________________________",
	};
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (hours_check_tz(good[i], err, sizeof(err)))
			fail_msg("\"%s\" refused: %s", good[i], err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (!hours_check_tz(bad[i], err, sizeof(err)))
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, "Europe/Lisbon")); /* every reason gives an example */
	}
	assert_int_equal(hours_check_tz(NULL, err, sizeof(err)), -1);
	hours_check_tz("Foo/Bar", err, sizeof(err));
	assert_non_null(strstr(err, "\"Foo/Bar\" is not a time zone"));

	/* hours_set_tz copies only what it accepts */
	struct hours h;
	memset(&h, 0, sizeof(h));
	assert_int_equal(hours_set_tz(&h, "Foo/Bar", err, sizeof(err)), -1);
	assert_string_equal(h.tz, "");
	assert_int_equal(hours_set_tz(&h, "Asia/Kolkata", err, sizeof(err)), 0);
	assert_string_equal(h.tz, "Asia/Kolkata");
}

/* A zone that did not pass hours_check_tz is an error, not GMT. */
static void test_open_unknown_zone(void **state)
{
	struct hours h;
	int64_t next = NEVER_SET;
	(void)state;

	memset(&h, 0, sizeof(h));
	h.set = 1;
	h.day[0].open_min = 0;
	h.day[0].close_min = 1440;
	snprintf(h.tz, sizeof(h.tz), "Foo/Bar");
	/* Mon 2025-06-02 12:00 UTC: open on Mondays in GMT */
	assert_int_equal(hours_open(&h, S(1748865600), &next), -1);
	snprintf(h.tz, sizeof(h.tz), "Etc/Unknown");
	assert_int_equal(hours_open(&h, S(1748865600), &next), -1);
	h.tz[0] = '\0';
	assert_int_equal(hours_open(&h, S(1748865600), &next), -1);
	assert_int_equal(next, NEVER_SET);
}

/* ------------------------------------------------------------ open or not */

static void test_no_hours_always_open(void **state)
{
	struct hours h;
	(void)state;

	memset(&h, 0, sizeof(h));
	assert_open(&h, 0);
	assert_open(&h, S(1748883600));
	assert_int_equal(hours_open(&h, S(1748883600), NULL), 1);
	/* a zone without hours is still always open */
	h = sched("Europe/Lisbon", NULL);
	assert_open(&h, S(1737158400));
}

static void test_all_days_closed(void **state)
{
	struct hours h = sched("Europe/Lisbon", "mon-sun", "closed", NULL);
	(void)state;

	assert_closed_until(&h, S(1748853000), -1); /* Mon 2025-06-02 09:30 WEST */
	assert_int_equal(hours_open(&h, S(1748853000), NULL), 0);
}

/* Lisbon in summer is UTC+1: a schedule read as UTC would be an hour off. */
static void test_lisbon_weekday_edges(void **state)
{
	struct hours h = sched("Europe/Lisbon", "mon-fri", "09:00-18:00", NULL);
	(void)state;

	assert_open(&h, S(1748853000));          /* Mon 2025-06-02 09:30 WEST (08:30 UTC) */
	assert_open(&h, S(1748851200));          /* Mon 09:00:00.000 */
	assert_closed_until(&h, S(1748851200) - 1, S(1748851200)); /* Mon 08:59:59.999 */
	assert_open(&h, S(1748883600) - 1);      /* Mon 17:59:59.999 */
	assert_closed_until(&h, S(1748883600),   /* Mon 18:00 WEST (17:00 UTC) */
			    S(1748937600));          /* -> Tue 2025-06-03 09:00 WEST */
	assert_int_equal(hours_open(&h, S(1748883600), NULL), 0);
}

static void test_next_opening_over_weekend(void **state)
{
	struct hours h = sched("Europe/Lisbon", "mon-fri", "09:00-18:00", "sat", "closed", NULL);
	(void)state;

	assert_closed_until(&h, S(1749231000),   /* Fri 2025-06-06 18:30 WEST */
			    S(1749456000));          /* -> Mon 2025-06-09 09:00 WEST */
}

/* The only opening of the week is the one just past: nearly 7 days on. */
static void test_next_opening_a_week_on(void **state)
{
	struct hours h = sched("Europe/Lisbon", "mon", "08:00-09:00", NULL);
	(void)state;

	assert_closed_until(&h, S(1748851200),   /* Mon 2025-06-02 09:00 WEST */
			    S(1749452400));          /* -> Mon 2025-06-09 08:00 WEST */
}

/* Closed over the weekend of a DST change: Monday's 09:00 is in the new
 * offset (a "now + 2 days 21 h" computation is an hour off). */
static void test_next_opening_across_dst_lisbon(void **state)
{
	struct hours h = sched("Europe/Lisbon", "mon-fri", "09:00-18:00", NULL);
	(void)state;

	assert_closed_until(&h, S(1743249600),   /* Sat 2025-03-29 12:00 WET (12:00 UTC) */
			    S(1743408000));          /* -> Mon 2025-03-31 09:00 WEST (08:00 UTC) */
	assert_closed_until(&h, S(1761390000),   /* Sat 2025-10-25 12:00 WEST (11:00 UTC) */
			    S(1761555600));          /* -> Mon 2025-10-27 09:00 WET (09:00 UTC) */
	assert_open(&h, S(1743408000));
	assert_open(&h, S(1761555600));
}

/* "22:00-24:00" closes at midnight; with "00:00-02:00" the next day it
 * runs on without a gap. */
static void test_late_night(void **state)
{
	struct hours h = sched("Europe/Lisbon", "fri", "22:00-24:00", NULL);
	(void)state;

	assert_open(&h, S(1737151200));          /* Fri 2025-01-17 22:00 WET */
	assert_open(&h, S(1737158400) - 1);      /* Fri 23:59:59.999 */
	assert_closed_until(&h, S(1737158400),   /* Sat 2025-01-18 00:00 WET */
			    S(1737756000));          /* -> Fri 2025-01-24 22:00 WET */
	assert_closed_until(&h, S(1737151200) - 1, S(1737151200)); /* Fri 21:59:59.999 */

	h = sched("Europe/Lisbon", "fri", "22:00-24:00", "sat", "00:00-02:00", NULL);
	assert_open(&h, S(1737158400));          /* Sat 00:00 */
	assert_open(&h, S(1737165600) - 1);      /* Sat 01:59:59.999 */
	assert_closed_until(&h, S(1737165600),   /* Sat 2025-01-18 02:00 WET */
			    S(1737756000));          /* -> Fri 2025-01-24 22:00 WET */
}

/* Lisbon skips 01:00-02:00 on 2025-03-30: a day opening at 01:30 opens at
 * the jump, 02:00 WEST (01:00 UTC), not at 01:30 UTC (02:30 WEST). */
static void test_opening_in_skipped_hour(void **state)
{
	struct hours h = sched("Europe/Lisbon", "sun", "01:30-04:00", NULL);
	(void)state;

	assert_closed_until(&h, S(1743294600),   /* Sun 2025-03-30 00:30 WET */
			    S(1743296400));          /* -> Sun 02:00 WEST, the jump */
	assert_open(&h, S(1743296400));
	assert_open(&h, S(1743296400) - 1 + 60000); /* 02:00:59.999 WEST */
}

/* New York skips 02:00-03:00 on 2025-03-09: "02:00-02:30" never happens
 * that Sunday, so the next opening is the Sunday after. */
static void test_interval_inside_skipped_hour(void **state)
{
	struct hours h = sched("America/New_York", "sun", "02:00-02:30", NULL);
	(void)state;

	assert_closed_until(&h, S(1741500000),   /* Sun 2025-03-09 01:00 EST */
			    S(1742104800));          /* -> Sun 2025-03-16 02:00 EDT */
	assert_closed_until(&h, S(1741503600),   /* Sun 2025-03-09 03:00 EDT, the jump */
			    S(1742104800));
}

/* New York repeats 01:00-02:00 on 2025-11-02. Wall time 01:00-01:30 comes
 * twice, so "00:00-01:30" closes at 01:30 EDT and opens again at the
 * change (01:00 EST) until 01:30 EST. */
static void test_reopening_in_repeated_hour(void **state)
{
	struct hours h = sched("America/New_York", "sun", "00:00-01:30", NULL);
	(void)state;

	assert_open(&h, S(1762056000));          /* Sun 2025-11-02 00:00 EDT */
	assert_closed_until(&h, S(1762062300),   /* Sun 01:45 EDT */
			    S(1762063200));          /* -> Sun 01:00 EST, the change */
	assert_open(&h, S(1762064100));          /* Sun 01:15 EST */
	assert_closed_until(&h, S(1762065000),   /* Sun 01:30 EST */
			    S(1762664400));          /* -> Sun 2025-11-09 00:00 EST */
}

/* An interval inside the repeated hour opens twice: at its first 01:30
 * (EDT) and, once closed, at its second (EST). */
static void test_opening_in_repeated_hour(void **state)
{
	struct hours h = sched("America/New_York", "sun", "01:30-01:45", NULL);
	(void)state;

	assert_closed_until(&h, S(1762056000),   /* Sun 2025-11-02 00:00 EDT */
			    S(1762061400));          /* -> Sun 01:30 EDT */
	assert_closed_until(&h, S(1762062600),   /* Sun 01:50 EDT */
			    S(1762065000));          /* -> Sun 01:30 EST */
	assert_open(&h, S(1762065000));
}

/* Auckland is UTC+13 in January: its Monday morning is Sunday in UTC. */
static void test_auckland(void **state)
{
	struct hours h = sched("Pacific/Auckland", "mon-fri", "09:00-17:00", NULL);
	(void)state;

	assert_open(&h, S(1736712000));          /* Mon 2025-01-13 09:00 NZDT (Sun 20:00 UTC) */
	assert_closed_until(&h, S(1736711940),   /* Mon 2025-01-13 08:59 NZDT */
			    S(1736712000));
	/* over the weekends of both changes of 2025 */
	assert_closed_until(&h, S(1743807600),   /* Sat 2025-04-05 12:00 NZDT */
			    S(1743973200));          /* -> Mon 2025-04-07 09:00 NZST */
	assert_closed_until(&h, S(1758864600),   /* Fri 2025-09-26 17:30 NZST */
			    S(1759089600));          /* -> Mon 2025-09-29 09:00 NZDT */
}

/* Kolkata's half-hour offset: 09:30 IST is 04:00 UTC. */
static void test_kolkata(void **state)
{
	struct hours h = sched("Asia/Kolkata", "mon", "09:30-18:00", NULL);
	(void)state;

	assert_open(&h, S(1748836800));          /* Mon 2025-06-02 09:30 IST */
	assert_closed_until(&h, S(1748836800) - 1, S(1748836800)); /* Mon 09:29:59.999 IST */
	assert_closed_until(&h, S(1748831400),   /* Mon 08:00 IST */
			    S(1748836800));
	assert_open(&h, S(1748867400) - 1);      /* Mon 17:59:59.999 IST */
	assert_closed_until(&h, S(1748867400),   /* Mon 18:00 IST */
			    S(1748836800) + 7 * S(86400)); /* -> Mon 2025-06-09 09:30 IST */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_day_valid),
		cmocka_unit_test(test_parse_day_invalid),
		cmocka_unit_test(test_day_index),
		cmocka_unit_test(test_set_days),
		cmocka_unit_test(test_check_tz),
		cmocka_unit_test(test_open_unknown_zone),
		cmocka_unit_test(test_no_hours_always_open),
		cmocka_unit_test(test_all_days_closed),
		cmocka_unit_test(test_lisbon_weekday_edges),
		cmocka_unit_test(test_next_opening_over_weekend),
		cmocka_unit_test(test_next_opening_a_week_on),
		cmocka_unit_test(test_next_opening_across_dst_lisbon),
		cmocka_unit_test(test_late_night),
		cmocka_unit_test(test_opening_in_skipped_hour),
		cmocka_unit_test(test_interval_inside_skipped_hour),
		cmocka_unit_test(test_reopening_in_repeated_hour),
		cmocka_unit_test(test_opening_in_repeated_hour),
		cmocka_unit_test(test_auckland),
		cmocka_unit_test(test_kolkata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
