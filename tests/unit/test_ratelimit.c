/* test_ratelimit.c: unit tests for src/ratelimit.c. Time is passed in, so
 * every test is exact and instant. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ratelimit.h"

/* Takes until refused at time t; returns how many were allowed. */
static int drain(struct ratelimit *rl, int64_t t)
{
	int n = 0;
	while (ratelimit_take(rl, t)) {
		n++;
		if (n > 1000000)
			fail_msg("bucket never empties");
	}
	return n;
}

static void test_full_bucket_allows_burst(void **state)
{
	struct ratelimit rl;
	(void)state;

	ratelimit_init(&rl, 5, 10, 1000);
	for (int i = 0; i < 10; i++)
		assert_int_equal(ratelimit_take(&rl, 1000), 1);
	assert_int_equal(ratelimit_take(&rl, 1000), 0);
	assert_int_equal(ratelimit_take(&rl, 1000), 0);
}

static void test_burst_of_one(void **state)
{
	struct ratelimit rl;
	(void)state;

	ratelimit_init(&rl, 1, 1, 0);
	assert_int_equal(ratelimit_take(&rl, 0), 1);
	assert_int_equal(ratelimit_take(&rl, 0), 0);
	assert_int_equal(ratelimit_take(&rl, 999), 0);
	assert_int_equal(ratelimit_take(&rl, 1000), 1);
	assert_int_equal(ratelimit_take(&rl, 1000), 0);
}

static void test_refill_rate(void **state)
{
	struct ratelimit rl;
	(void)state;

	/* rate 2/s: one token every 500 ms */
	ratelimit_init(&rl, 2, 3, 0);
	assert_int_equal(drain(&rl, 0), 3);
	assert_int_equal(ratelimit_take(&rl, 499), 0);
	assert_int_equal(ratelimit_take(&rl, 500), 1);
	assert_int_equal(ratelimit_take(&rl, 500), 0);
	/* another 500 ms: exactly one more */
	assert_int_equal(drain(&rl, 1000), 1);
	/* 1.5 s later: three (the bucket holds exactly three) */
	assert_int_equal(drain(&rl, 2500), 3);
}

static void test_partial_refills_accumulate(void **state)
{
	struct ratelimit rl;
	(void)state;

	/* refused takes must not throw away the fraction earned so far */
	ratelimit_init(&rl, 2, 1, 0);
	assert_int_equal(drain(&rl, 0), 1);
	assert_int_equal(ratelimit_take(&rl, 100), 0);
	assert_int_equal(ratelimit_take(&rl, 200), 0);
	assert_int_equal(ratelimit_take(&rl, 300), 0);
	assert_int_equal(ratelimit_take(&rl, 400), 0);
	assert_int_equal(ratelimit_take(&rl, 500), 1);
	/* and 1 ms steps add up too */
	for (int64_t t = 501; t < 1000; t++)
		assert_int_equal(ratelimit_take(&rl, t), 0);
	assert_int_equal(ratelimit_take(&rl, 1000), 1);
}

static void test_never_exceeds_burst(void **state)
{
	struct ratelimit rl;
	(void)state;

	ratelimit_init(&rl, 5, 10, 0);
	assert_int_equal(drain(&rl, 0), 10);
	/* a day idle: still only `burst` */
	assert_int_equal(drain(&rl, 86400000), 10);
	/* idle from the start: a fresh bucket is full, not more */
	ratelimit_init(&rl, 5, 10, 0);
	assert_int_equal(drain(&rl, INT64_C(1) << 40), 10);
	/* partial use, then idle: tops up to burst, not burst + leftover */
	ratelimit_init(&rl, 5, 10, 0);
	assert_int_equal(ratelimit_take(&rl, 0), 1);
	assert_int_equal(drain(&rl, 60000), 10);
}

static void test_time_backwards(void **state)
{
	struct ratelimit rl;
	(void)state;

	ratelimit_init(&rl, 2, 2, 10000);
	assert_int_equal(drain(&rl, 10000), 2);
	/* the clock steps back: nothing is added */
	assert_int_equal(ratelimit_take(&rl, 0), 0);
	assert_int_equal(ratelimit_take(&rl, 9000), 0);
	assert_int_equal(ratelimit_take(&rl, INT64_MIN), 0);
	/* and coming back to where it was adds nothing either: the earlier
	 * reading did not move the refill point back */
	assert_int_equal(ratelimit_take(&rl, 10000), 0);
	assert_int_equal(ratelimit_take(&rl, 10499), 0);
	assert_int_equal(ratelimit_take(&rl, 10500), 1);
	assert_int_equal(ratelimit_take(&rl, 10500), 0);
}

static void test_backwards_does_not_take_twice(void **state)
{
	struct ratelimit rl;
	(void)state;

	/* a backwards reading still spends tokens that are there */
	ratelimit_init(&rl, 1, 3, 5000);
	assert_int_equal(ratelimit_take(&rl, 4000), 1);
	assert_int_equal(ratelimit_take(&rl, 4000), 1);
	assert_int_equal(ratelimit_take(&rl, 4000), 1);
	assert_int_equal(ratelimit_take(&rl, 4000), 0);
	assert_int_equal(ratelimit_take(&rl, 5999), 0);
	assert_int_equal(ratelimit_take(&rl, 6000), 1);
}

static void test_fractional_rate(void **state)
{
	struct ratelimit rl;
	(void)state;

	/* 0.5/s: one token every two seconds */
	ratelimit_init(&rl, 0.5, 2, 0);
	assert_int_equal(drain(&rl, 0), 2);
	assert_int_equal(ratelimit_take(&rl, 1999), 0);
	assert_int_equal(ratelimit_take(&rl, 2000), 1);
	assert_int_equal(drain(&rl, 5999), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_bucket_allows_burst),
		cmocka_unit_test(test_burst_of_one),
		cmocka_unit_test(test_refill_rate),
		cmocka_unit_test(test_partial_refills_accumulate),
		cmocka_unit_test(test_never_exceeds_burst),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_backwards_does_not_take_twice),
		cmocka_unit_test(test_fractional_rate),
	};
	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
