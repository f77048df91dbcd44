/* token.c: resume tokens and ids. See token.h. */
#include "token.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/random.h>

int token_random(void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = getrandom((char *)buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static void hash_raw(const unsigned char *raw, unsigned char hash[TOKEN_HASH_BYTES])
{
	crypto_generichash(hash, TOKEN_HASH_BYTES, raw, TOKEN_BYTES, NULL, 0);
}

int token_new(char text[TOKEN_TEXT_LEN + 1], unsigned char hash[TOKEN_HASH_BYTES])
{
	unsigned char raw[TOKEN_BYTES];

	if (token_random(raw, sizeof(raw)))
		return -1;
	sodium_bin2base64(text, TOKEN_TEXT_LEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	hash_raw(raw, hash);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int token_hash_text(const char *text, unsigned char hash[TOKEN_HASH_BYTES])
{
	unsigned char raw[TOKEN_BYTES];
	size_t raw_len = 0;
	const char *end = NULL;

	if (strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != TOKEN_TEXT_LEN || text[TOKEN_TEXT_LEN])
		return -1;
	if (sodium_base642bin(raw, sizeof(raw), text, TOKEN_TEXT_LEN, NULL, &raw_len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    raw_len != TOKEN_BYTES || end != text + TOKEN_TEXT_LEN)
		return -1;
	hash_raw(raw, hash);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int token_hash_equal(const unsigned char a[TOKEN_HASH_BYTES],
		     const unsigned char b[TOKEN_HASH_BYTES])
{
	return sodium_memcmp(a, b, TOKEN_HASH_BYTES) == 0;
}

int token_conversation_id(char out[CONVERSATION_ID_LEN + 1])
{
	unsigned char raw[12];

	if (token_random(raw, sizeof(raw)))
		return -1;
	out[0] = 'c';
	out[1] = '_';
	sodium_bin2hex(out + 2, CONVERSATION_ID_LEN - 1, raw, sizeof(raw));
	return 0;
}
