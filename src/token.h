/* token.h: resume tokens and conversation ids.
 *
 * A resume token is 256 bits from getrandom(2), shown to the client as
 * unpadded base64url (43 characters). The store keeps only its BLAKE2b
 * hash, so a copy of the database does not let anyone resume a chat.
 * Hashes are compared in constant time. */
#ifndef SUPPORTD_TOKEN_H
#define SUPPORTD_TOKEN_H

#include <stddef.h>

#define TOKEN_BYTES 32
#define TOKEN_TEXT_LEN 43        /* base64url, no padding */
#define TOKEN_HASH_BYTES 32
#define CONVERSATION_ID_LEN 26   /* "c_" + 24 hex digits */

/* Makes a new token: text (NUL-terminated, TOKEN_TEXT_LEN + 1 bytes) and
 * its hash. Returns 0, or -1 if the kernel gave no randomness. */
int token_new(char text[TOKEN_TEXT_LEN + 1], unsigned char hash[TOKEN_HASH_BYTES]);

/* Hashes a token the client sent. Returns 0, or -1 if `text` is not a
 * well-formed token (wrong length or alphabet). */
int token_hash_text(const char *text, unsigned char hash[TOKEN_HASH_BYTES]);

/* 1 if the two hashes are equal; constant time. */
int token_hash_equal(const unsigned char a[TOKEN_HASH_BYTES],
		     const unsigned char b[TOKEN_HASH_BYTES]);

/* Makes a new conversation id, "c_" and 96 random bits in hex.
 * Returns 0 or -1. */
int token_conversation_id(char out[CONVERSATION_ID_LEN + 1]);

/* Fills buf with len random bytes from getrandom(2). Returns 0 or -1. */
int token_random(void *buf, size_t len);

#endif
