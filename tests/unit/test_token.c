/* test_token.c: unit tests for src/token.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "token.h"

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_new_format(void **state)
{
	(void)state;
	for (int round = 0; round < 64; round++) {
		char text[TOKEN_TEXT_LEN + 1];
		unsigned char hash[TOKEN_HASH_BYTES];

		memset(text, '!', sizeof(text));
		assert_int_equal(token_new(text, hash), 0);
		assert_int_equal(strlen(text), TOKEN_TEXT_LEN);
		assert_int_equal(strlen(text), 43);
		for (size_t i = 0; i < TOKEN_TEXT_LEN; i++)
			assert_true(is_b64url(text[i]));
		assert_null(strchr(text, '='));
		assert_false(all_zero(hash, sizeof(hash)));
	}
}

static void test_hash_text_matches_new(void **state)
{
	char text[TOKEN_TEXT_LEN + 1];
	unsigned char h_new[TOKEN_HASH_BYTES], h_text[TOKEN_HASH_BYTES], h_again[TOKEN_HASH_BYTES];
	(void)state;

	assert_int_equal(token_new(text, h_new), 0);
	memset(h_text, 0, sizeof(h_text));
	assert_int_equal(token_hash_text(text, h_text), 0);
	assert_memory_equal(h_new, h_text, TOKEN_HASH_BYTES);
	assert_true(token_hash_equal(h_new, h_text));
	/* deterministic */
	assert_int_equal(token_hash_text(text, h_again), 0);
	assert_memory_equal(h_text, h_again, TOKEN_HASH_BYTES);
}

static void test_tokens_differ(void **state)
{
	char a[TOKEN_TEXT_LEN + 1], b[TOKEN_TEXT_LEN + 1];
	unsigned char ha[TOKEN_HASH_BYTES], hb[TOKEN_HASH_BYTES];
	(void)state;

	assert_int_equal(token_new(a, ha), 0);
	assert_int_equal(token_new(b, hb), 0);
	assert_string_not_equal(a, b);
	assert_memory_not_equal(ha, hb, TOKEN_HASH_BYTES);
	assert_false(token_hash_equal(ha, hb));
}

static void test_hash_equal(void **state)
{
	unsigned char a[TOKEN_HASH_BYTES], b[TOKEN_HASH_BYTES];
	(void)state;

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(token_hash_equal(a, b), 1);
	assert_int_equal(token_hash_equal(a, a), 1);
	/* a difference in the first, a middle and the last byte is seen */
	b[0] ^= 1;
	assert_int_equal(token_hash_equal(a, b), 0);
	b[0] ^= 1;
	b[TOKEN_HASH_BYTES / 2] ^= 0x80;
	assert_int_equal(token_hash_equal(a, b), 0);
	b[TOKEN_HASH_BYTES / 2] ^= 0x80;
	b[TOKEN_HASH_BYTES - 1] ^= 0x01;
	assert_int_equal(token_hash_equal(a, b), 0);
}

static void test_one_char_changes_hash(void **state)
{
	char text[TOKEN_TEXT_LEN + 1];
	unsigned char h1[TOKEN_HASH_BYTES], h2[TOKEN_HASH_BYTES];
	(void)state;

	assert_int_equal(token_new(text, h1), 0);
	/* change the first character to another valid one */
	text[0] = text[0] == 'A' ? 'B' : 'A';
	assert_int_equal(token_hash_text(text, h2), 0);
	assert_false(token_hash_equal(h1, h2));
}

static void test_malformed(void **state)
{
	char text[TOKEN_TEXT_LEN + 1];
	char buf[TOKEN_TEXT_LEN + 8];
	unsigned char hash[TOKEN_HASH_BYTES];
	(void)state;

	assert_int_equal(token_new(text, hash), 0);

	assert_int_equal(token_hash_text("", hash), -1);
	assert_int_equal(token_hash_text("abc", hash), -1);
	/* 42 chars: one short */
	memcpy(buf, text, TOKEN_TEXT_LEN - 1);
	buf[TOKEN_TEXT_LEN - 1] = '\0';
	assert_int_equal(token_hash_text(buf, hash), -1);
	/* 44 chars: one extra valid character */
	memcpy(buf, text, TOKEN_TEXT_LEN);
	buf[TOKEN_TEXT_LEN] = 'A';
	buf[TOKEN_TEXT_LEN + 1] = '\0';
	assert_int_equal(token_hash_text(buf, hash), -1);
	/* 44 chars: standard base64 padding */
	buf[TOKEN_TEXT_LEN] = '=';
	assert_int_equal(token_hash_text(buf, hash), -1);
	/* every byte outside the base64url alphabet (ASCII or not), at the
	 * start, the middle and the end, 43 chars each. libsodium 1.0.18's
	 * decoder maps bytes >= 0x80 to digits, so this needs token.c's own
	 * alphabet check. */
	for (int c = 1; c < 256; c++) {
		size_t pos[3] = {0, TOKEN_TEXT_LEN / 2, TOKEN_TEXT_LEN - 1};
		if (is_b64url((char)c))
			continue;
		for (int p = 0; p < 3; p++) {
			memcpy(buf, text, TOKEN_TEXT_LEN + 1);
			buf[pos[p]] = (char)c;
			if (token_hash_text(buf, hash) != -1)
				fail_msg("byte 0x%02x at %zu accepted", c, pos[p]);
		}
	}
	/* a resume sent as a conversation id is not a token */
	assert_int_equal(token_hash_text("c_5f0c2b9a7d3e41a8b6c4d2e0", hash), -1);
}

static void test_non_canonical_tail(void **state)
{
	/* 43 base64 characters carry 258 bits; the last 2 must be zero. A
	 * token whose last character sets them is not one token_new could
	 * make, and must not hash to the same value as its canonical twin. */
	char text[TOKEN_TEXT_LEN + 1];
	unsigned char h1[TOKEN_HASH_BYTES], h2[TOKEN_HASH_BYTES];
	(void)state;

	memset(text, 'A', TOKEN_TEXT_LEN);
	text[TOKEN_TEXT_LEN] = '\0';
	assert_int_equal(token_hash_text(text, h1), 0);
	text[TOKEN_TEXT_LEN - 1] = 'B'; /* value 1: a low bit set */
	memset(h2, 0, sizeof(h2));
	assert_int_equal(token_hash_text(text, h2), -1);
}

static void test_no_alias_for_high_bytes(void **state)
{
	/* '_' is digit 63; a byte >= 0x80 in its place must not decode to the
	 * same token (and so the same hash) */
	char text[TOKEN_TEXT_LEN + 1];
	unsigned char hash[TOKEN_HASH_BYTES];
	(void)state;

	memset(text, '_', TOKEN_TEXT_LEN - 1);
	text[TOKEN_TEXT_LEN - 1] = 'w'; /* 110000: low bits clear, canonical */
	text[TOKEN_TEXT_LEN] = '\0';
	assert_int_equal(token_hash_text(text, hash), 0);
	text[5] = (char)0x80;
	assert_int_equal(token_hash_text(text, hash), -1);
	text[5] = (char)0xff;
	assert_int_equal(token_hash_text(text, hash), -1);
}

static void test_conversation_id(void **state)
{
	char a[CONVERSATION_ID_LEN + 1], b[CONVERSATION_ID_LEN + 1];
	(void)state;

	for (int round = 0; round < 64; round++) {
		memset(a, '!', sizeof(a));
		assert_int_equal(token_conversation_id(a), 0);
		assert_int_equal(strlen(a), CONVERSATION_ID_LEN);
		assert_int_equal(strlen(a), 26);
		assert_int_equal(a[0], 'c');
		assert_int_equal(a[1], '_');
		for (int i = 2; i < CONVERSATION_ID_LEN; i++)
			assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
	}
	assert_int_equal(token_conversation_id(b), 0);
	assert_string_not_equal(a, b);
}

static void test_random(void **state)
{
	unsigned char a[64], b[64];
	(void)state;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(token_random(a, sizeof(a)), 0);
	assert_int_equal(token_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(token_random(a, 0), 0);
	/* a large request (getrandom may return short reads past 256 bytes) */
	{
		static unsigned char big[1 << 16];
		size_t zeros = 0;
		assert_int_equal(token_random(big, sizeof(big)), 0);
		for (size_t i = 0; i < sizeof(big); i++)
			zeros += big[i] == 0;
		/* expect ~256 zero bytes; a short fill would leave far more */
		assert_true(zeros < 1024);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_format),
		cmocka_unit_test(test_hash_text_matches_new),
		cmocka_unit_test(test_tokens_differ),
		cmocka_unit_test(test_hash_equal),
		cmocka_unit_test(test_one_char_changes_hash),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_non_canonical_tail),
		cmocka_unit_test(test_no_alias_for_high_bytes),
		cmocka_unit_test(test_conversation_id),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
