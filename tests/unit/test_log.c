/* test_log.c: unit tests for src/log.c: logfmt quoting and e-mail masking. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "log.h"

static void expect_masked(const char *in, const char *want)
{
	char buf[256];
	const char *got = log_mask_emails(in, buf, sizeof(buf));
	if (strcmp(got, want))
		fail_msg("masking \"%s\" gave \"%s\", want \"%s\"", in, got, want);
}

static void test_masks_addresses(void **state)
{
	(void)state;
	expect_masked("jane.doe@example.com", "j***@example.com");
	expect_masked("reset for jane.doe+x@mail.example.co.uk failed",
		      "reset for j***@mail.example.co.uk failed");
	expect_masked("a@b.pl and zofia.nowak@example.pl", "a***@b.pl and z***@example.pl");
	expect_masked("http://h/find?email=ana@example.com&x=1", "http://h/find?email=a***@example.com&x=1");
	/* not addresses: left alone */
	expect_masked("user@localhost", "user@localhost");
	expect_masked("@example.com", "@example.com");
	expect_masked("no at sign here.", "no at sign here.");
	expect_masked("", "");
}

static void test_masking_truncates_safely(void **state)
{
	char small[8];
	(void)state;
	log_mask_emails("jane.doe@example.com", small, sizeof(small));
	assert_int_equal(strlen(small), 7);
	assert_int_equal(strncmp(small, "j***@ex", 7), 0);
	/* the clear local part never leaks, however small the buffer */
	for (size_t n = 1; n < 12; n++) {
		char buf[12];
		log_mask_emails("jane.doe@example.com", buf, n);
		assert_null(strstr(buf, "ane"));
	}
}

static void test_quote(void **state)
{
	char buf[64];
	(void)state;
	assert_string_equal(log_quote("plain", buf, sizeof(buf)), "plain");
	assert_string_equal(log_quote("two words", buf, sizeof(buf)), "\"two words\"");
	assert_string_equal(log_quote("a\"b\nc", buf, sizeof(buf)), "\"a\\\"b\\nc\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masks_addresses),
		cmocka_unit_test(test_masking_truncates_safely),
		cmocka_unit_test(test_quote),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
