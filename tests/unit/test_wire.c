/* test_wire.c: unit tests for src/wire.c (docs/protocol.md is the contract). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define MAX_TEXT 4096

/* ===== helpers ===== */

/* Parses a NUL-terminated frame. */
static int parse(const char *s, size_t max_text, struct wire_in *in, struct wire_fault *f)
{
	return wire_parse(s, strlen(s), max_text, in, f);
}

/* Expects the frame to be refused with `code`; returns nothing, checks
 * that the fault message is filled and that nothing is left to free. */
static void expect_fault_n(const char *buf, size_t len, size_t max_text, enum wire_error code,
			   const char *in_reply_to)
{
	struct wire_in in;
	struct wire_fault f;

	memset(&in, 0xa5, sizeof(in));
	memset(&f, 0xa5, sizeof(f));
	assert_int_equal(wire_parse(buf, len, max_text, &in, &f), -1);
	assert_string_equal(wire_error_code(f.code), wire_error_code(code));
	assert_int_equal(f.code, code);
	assert_true(strlen(f.message) > 0);
	assert_true(strlen(f.message) < sizeof(f.message));
	assert_string_equal(f.in_reply_to, in_reply_to ? in_reply_to : "");
	/* a refused frame leaves nothing owned behind */
	assert_null(in.json);
	wire_in_free(&in);
}

static void expect_fault(const char *s, enum wire_error code, const char *in_reply_to)
{
	expect_fault_n(s, strlen(s), MAX_TEXT, code, in_reply_to);
}

/* A frame with a \u0000 escape inside a string is valid JSON, refused as
 * bad_field with a message that says why: never cut short at the NUL. */
static void expect_nul_refused(const char *s)
{
	struct wire_in in;
	struct wire_fault f;

	assert_int_equal(parse(s, MAX_TEXT, &in, &f), -1);
	assert_int_equal(f.code, WIRE_ERR_BAD_FIELD);
	assert_non_null(strstr(f.message, "contains a NUL character"));
	assert_null(in.json);
}

/* A message frame whose text is `n` copies of `c`. */
static char *message_with_text_of(size_t n, char c)
{
	const char *head = "{\"type\":\"message\",\"id\":\"m-1\",\"text\":\"";
	const char *tail = "\"}";
	size_t hl = strlen(head), tl = strlen(tail);
	char *s = malloc(hl + n + tl + 1);

	assert_non_null(s);
	memcpy(s, head, hl);
	memset(s + hl, c, n);
	memcpy(s + hl + n, tail, tl + 1);
	return s;
}

static json_t *load(const char *s)
{
	json_error_t e;
	json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, &e);
	if (!o)
		fail_msg("not JSON (%s): %s", e.text, s);
	assert_true(json_is_object(o));
	return o;
}

static const char *get_str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		fail_msg("field %s is not a string", k);
	return json_string_value(v);
}

static json_int_t get_int(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v))
		fail_msg("field %s is not an integer", k);
	return json_integer_value(v);
}

/* ===== parsing: accepted frames ===== */

static void test_hello_minimal(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	(void)state;

	assert_int_equal(parse("{\"type\":\"hello\"}", MAX_TEXT, &in, &f), 0);
	assert_int_equal(in.type, WIRE_IN_HELLO);
	assert_non_null(in.json);
	assert_null(in.resume);
	assert_null(in.lang);
	assert_null(in.name);
	assert_null(in.email);
	assert_int_equal(in.has_last_seq, 0);
	wire_in_free(&in);
	assert_null(in.json);
}

static void test_hello_all_fields(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	const char *frame =
		"{\"type\": \"hello\", \"resume\": \"kq3Vb2vQ0m6Vh3Wm8j1b6yU5cB2Qn8pZ4xT7rA9dE0s\","
		" \"last_seq\": 12, \"lang\": \"pt-BR\", \"name\": \"Ana Silva \\u00e9\","
		" \"email\": \"ana@example.com\", \"future_field\": [1, 2]}";
	(void)state;

	assert_int_equal(parse(frame, MAX_TEXT, &in, &f), 0);
	assert_int_equal(in.type, WIRE_IN_HELLO);
	assert_string_equal(in.resume, "kq3Vb2vQ0m6Vh3Wm8j1b6yU5cB2Qn8pZ4xT7rA9dE0s");
	assert_int_equal(in.has_last_seq, 1);
	assert_int_equal(in.last_seq, 12);
	assert_string_equal(in.lang, "pt-BR");
	assert_string_equal(in.name, "Ana Silva \xc3\xa9");
	assert_string_equal(in.email, "ana@example.com");
	wire_in_free(&in);
}

static void test_hello_edge_values(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	(void)state;

	/* last_seq 0 is allowed and distinct from absent */
	assert_int_equal(parse("{\"type\":\"hello\",\"last_seq\":0}", MAX_TEXT, &in, &f), 0);
	assert_int_equal(in.has_last_seq, 1);
	assert_int_equal(in.last_seq, 0);
	wire_in_free(&in);

	/* null optional fields count as absent */
	assert_int_equal(parse("{\"type\":\"hello\",\"last_seq\":null,\"lang\":null,"
			       "\"resume\":null,\"name\":null,\"email\":null}",
			       MAX_TEXT, &in, &f),
			 0);
	assert_int_equal(in.has_last_seq, 0);
	assert_null(in.lang);
	assert_null(in.resume);
	wire_in_free(&in);

	/* lang at exactly 16 bytes; name at exactly 128 */
	{
		char frame[512];
		char name[WIRE_NAME_MAX + 1];
		memset(name, 'n', WIRE_NAME_MAX);
		name[WIRE_NAME_MAX] = '\0';
		snprintf(frame, sizeof(frame),
			 "{\"type\":\"hello\",\"lang\":\"abcdefgh-ijklmno\",\"name\":\"%s\"}", name);
		assert_int_equal(parse(frame, MAX_TEXT, &in, &f), 0);
		assert_int_equal(strlen(in.lang), WIRE_LANG_MAX);
		assert_int_equal(strlen(in.name), WIRE_NAME_MAX);
		wire_in_free(&in);
	}
}

static void test_message_ok(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	(void)state;

	assert_int_equal(parse("{\"type\":\"message\",\"id\":\"m-1732329600-1\","
			       "\"text\":\"I forgot my password\"}",
			       MAX_TEXT, &in, &f),
			 0);
	assert_int_equal(in.type, WIRE_IN_MESSAGE);
	assert_string_equal(in.id, "m-1732329600-1");
	assert_string_equal(in.text, "I forgot my password");
	assert_int_equal(in.text_len, strlen("I forgot my password"));
	wire_in_free(&in);

	/* escapes are decoded; multi-byte text; text with surrounding blanks kept */
	assert_int_equal(parse("{\"text\":\"  ol\\u00e1 \\\"x\\\"\\n\",\"id\":\"~!\",\"type\":\"message\"}",
			       MAX_TEXT, &in, &f),
			 0);
	assert_string_equal(in.id, "~!");
	assert_string_equal(in.text, "  ol\xc3\xa1 \"x\"\n");
	assert_int_equal(in.text_len, 11);
	wire_in_free(&in);
}

static void test_message_id_limits_ok(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	char frame[256];
	char id[WIRE_ID_MAX + 1];
	(void)state;

	memset(id, 'i', WIRE_ID_MAX);
	id[WIRE_ID_MAX] = '\0';
	snprintf(frame, sizeof(frame), "{\"type\":\"message\",\"id\":\"%s\",\"text\":\"hi\"}", id);
	assert_int_equal(parse(frame, MAX_TEXT, &in, &f), 0);
	assert_string_equal(in.id, id);
	wire_in_free(&in);

	assert_int_equal(parse("{\"type\":\"message\",\"id\":\"x\",\"text\":\"hi\"}", MAX_TEXT, &in, &f), 0);
	assert_string_equal(in.id, "x");
	wire_in_free(&in);
}

static void test_typing_ok(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	(void)state;

	assert_int_equal(parse("{\"type\":\"typing\",\"state\":true}", MAX_TEXT, &in, &f), 0);
	assert_int_equal(in.type, WIRE_IN_TYPING);
	assert_int_equal(in.state, 1);
	wire_in_free(&in);

	assert_int_equal(parse("{\"type\":\"typing\",\"state\":false}", MAX_TEXT, &in, &f), 0);
	assert_int_equal(in.type, WIRE_IN_TYPING);
	assert_int_equal(in.state, 0);
	wire_in_free(&in);
}

static void test_ack_ok(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	(void)state;

	assert_int_equal(parse("{\"type\":\"ack\",\"seq\":14}", MAX_TEXT, &in, &f), 0);
	assert_int_equal(in.type, WIRE_IN_ACK);
	assert_int_equal(in.seq, 14);
	wire_in_free(&in);

	assert_int_equal(parse("{\"type\":\"ack\",\"seq\":0}", MAX_TEXT, &in, &f), 0);
	assert_int_equal(in.seq, 0);
	wire_in_free(&in);
}

static void test_text_exactly_max_is_ok(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	char *s = message_with_text_of(100, 'a');
	(void)state;

	assert_int_equal(parse(s, 100, &in, &f), 0);
	assert_int_equal(in.text_len, 100);
	wire_in_free(&in);
	free(s);

	/* limit is in bytes of UTF-8, not code points: 50 x "é" = 100 bytes */
	{
		char frame[256];
		size_t o = (size_t)snprintf(frame, sizeof(frame), "{\"type\":\"message\",\"id\":\"u\",\"text\":\"");
		for (int i = 0; i < 50; i++) {
			frame[o++] = (char)0xc3;
			frame[o++] = (char)0xa9;
		}
		snprintf(frame + o, sizeof(frame) - o, "\"}");
		assert_int_equal(parse(frame, 100, &in, &f), 0);
		assert_int_equal(in.text_len, 100);
		wire_in_free(&in);
		expect_fault_n(frame, strlen(frame), 99, WIRE_ERR_TEXT_TOO_LONG, "u");
	}
}

/* ===== parsing: faults ===== */

static void test_bad_json(void **state)
{
	(void)state;
	expect_fault("", WIRE_ERR_BAD_JSON, NULL);
	expect_fault("{", WIRE_ERR_BAD_JSON, NULL);
	expect_fault("nope", WIRE_ERR_BAD_JSON, NULL);
	expect_fault("{\"type\":\"hello\"", WIRE_ERR_BAD_JSON, NULL);
	expect_fault("{\"type\":\"hello\"} trailing", WIRE_ERR_BAD_JSON, NULL);
	expect_fault("{'type':'hello'}", WIRE_ERR_BAD_JSON, NULL);
	/* duplicate keys are refused rather than silently picking one */
	expect_fault("{\"type\":\"hello\",\"type\":\"message\"}", WIRE_ERR_BAD_JSON, NULL);
	/* a lone surrogate escape is not text */
	expect_fault("{\"type\":\"message\",\"id\":\"a\",\"text\":\"\\ud800\"}", WIRE_ERR_BAD_JSON, NULL);
}

static void test_not_object(void **state)
{
	(void)state;
	expect_fault("[]", WIRE_ERR_NOT_OBJECT, NULL);
	expect_fault("[{\"type\":\"hello\"}]", WIRE_ERR_NOT_OBJECT, NULL);
	expect_fault("42", WIRE_ERR_NOT_OBJECT, NULL);
	expect_fault("\"hello\"", WIRE_ERR_NOT_OBJECT, NULL);
	expect_fault("null", WIRE_ERR_NOT_OBJECT, NULL);
	expect_fault("true", WIRE_ERR_NOT_OBJECT, NULL);
}

static void test_unknown_type(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	(void)state;

	expect_fault("{}", WIRE_ERR_UNKNOWN_TYPE, NULL);
	expect_fault("{\"id\":\"m\",\"text\":\"hi\"}", WIRE_ERR_UNKNOWN_TYPE, NULL);
	expect_fault("{\"type\":5}", WIRE_ERR_UNKNOWN_TYPE, NULL);
	expect_fault("{\"type\":null}", WIRE_ERR_UNKNOWN_TYPE, NULL);
	expect_fault("{\"type\":[\"hello\"]}", WIRE_ERR_UNKNOWN_TYPE, NULL);
	expect_fault("{\"type\":\"bogus\"}", WIRE_ERR_UNKNOWN_TYPE, NULL);
	expect_fault("{\"type\":\"Hello\"}", WIRE_ERR_UNKNOWN_TYPE, NULL);
	expect_fault("{\"type\":\"\"}", WIRE_ERR_UNKNOWN_TYPE, NULL);
	/* server-only types are not client frames */
	expect_fault("{\"type\":\"welcome\"}", WIRE_ERR_UNKNOWN_TYPE, NULL);
	expect_fault("{\"type\":\"reply\"}", WIRE_ERR_UNKNOWN_TYPE, NULL);

	/* the message names the type, with control characters neutralised */
	assert_int_equal(parse("{\"type\":\"bo\\u0001gus\"}", MAX_TEXT, &in, &f), -1);
	assert_int_equal(f.code, WIRE_ERR_UNKNOWN_TYPE);
	assert_non_null(strstr(f.message, "bo?gus"));
	assert_null(strchr(f.message, '\x01'));
}

static void test_bad_field_message_id(void **state)
{
	char frame[256];
	char id[WIRE_ID_MAX + 2];
	(void)state;

	/* missing, wrong type, empty */
	expect_fault("{\"type\":\"message\",\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"message\",\"id\":7,\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"message\",\"id\":null,\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"message\",\"id\":\"\",\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
	/* 65 characters */
	memset(id, 'i', WIRE_ID_MAX + 1);
	id[WIRE_ID_MAX + 1] = '\0';
	snprintf(frame, sizeof(frame), "{\"type\":\"message\",\"id\":\"%s\",\"text\":\"hi\"}", id);
	expect_fault(frame, WIRE_ERR_BAD_FIELD, NULL);
	/* not printable ASCII: space, tab, control, DEL, NUL, non-ASCII */
	expect_fault("{\"type\":\"message\",\"id\":\"m 1\",\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"message\",\"id\":\"m\\t1\",\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"message\",\"id\":\"m\\u00011\",\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"message\",\"id\":\"m\\u007f\",\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"message\",\"id\":\"m\\u0000x\",\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"message\",\"id\":\"m\\u00e9\",\"text\":\"hi\"}", WIRE_ERR_BAD_FIELD, NULL);
}

static void test_bad_field_message_text(void **state)
{
	(void)state;
	/* the id was valid, so the fault names it */
	expect_fault("{\"type\":\"message\",\"id\":\"m-2\"}", WIRE_ERR_BAD_FIELD, "m-2");
	expect_fault("{\"type\":\"message\",\"id\":\"m-2\",\"text\":42}", WIRE_ERR_BAD_FIELD, "m-2");
	expect_fault("{\"type\":\"message\",\"id\":\"m-2\",\"text\":null}", WIRE_ERR_BAD_FIELD, "m-2");
	expect_fault("{\"type\":\"message\",\"id\":\"m-2\",\"text\":[\"hi\"]}", WIRE_ERR_BAD_FIELD, "m-2");
	/* an embedded NUL would truncate the text downstream */
	expect_nul_refused("{\"type\":\"message\",\"id\":\"m-2\",\"text\":\"a\\u0000b\"}");
}

static void test_bad_field_hello(void **state)
{
	char frame[512];
	char buf[300];
	(void)state;

	/* last_seq */
	expect_fault("{\"type\":\"hello\",\"last_seq\":-1}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"last_seq\":\"12\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"last_seq\":1.5}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"last_seq\":true}", WIRE_ERR_BAD_FIELD, NULL);
	/* lang */
	expect_fault("{\"type\":\"hello\",\"lang\":\"en US\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"lang\":\"\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"lang\":\"en;rm\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"lang\":\"\\u00e9n\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"lang\":\"abcdefgh-ijklmnop\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"lang\":5}", WIRE_ERR_BAD_FIELD, NULL);
	/* email */
	expect_fault("{\"type\":\"hello\",\"email\":\"ana\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"email\":\"@example.com\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"email\":\"ana@\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"email\":\"a@b@c\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"email\":\"a na@example.com\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"email\":\"ana@exa\\nmple.com\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"hello\",\"email\":\"\"}", WIRE_ERR_BAD_FIELD, NULL);
	/* name: wrong type, too long, embedded NUL */
	expect_fault("{\"type\":\"hello\",\"name\":{}}", WIRE_ERR_BAD_FIELD, NULL);
	memset(buf, 'n', WIRE_NAME_MAX + 1);
	buf[WIRE_NAME_MAX + 1] = '\0';
	snprintf(frame, sizeof(frame), "{\"type\":\"hello\",\"name\":\"%s\"}", buf);
	expect_fault(frame, WIRE_ERR_BAD_FIELD, NULL);
	expect_nul_refused("{\"type\":\"hello\",\"name\":\"a\\u0000b\"}");
	/* what a NUL would cut to is no excuse: "hello" and "up" are not these */
	expect_nul_refused("{\"type\":\"hello\\u0000x\"}");
	expect_nul_refused("{\"type\":\"message\",\"id\":\"m-3\",\"text\":\"hi\",\"choice\":\"a\\u0000\"}");
	{
		struct wire_in in;
		struct wire_fault f;
		assert_int_equal(parse("{\"type\":\"rate\",\"seq\":2,\"value\":\"up\\u0000x\"}", MAX_TEXT,
				       &in, &f),
				 -1);
		assert_int_equal(f.code, WIRE_ERR_BAD_FIELD);
	}
	/* resume: wrong type, over 128 */
	expect_fault("{\"type\":\"hello\",\"resume\":123}", WIRE_ERR_BAD_FIELD, NULL);
	memset(buf, 'r', WIRE_RESUME_MAX + 1);
	buf[WIRE_RESUME_MAX + 1] = '\0';
	snprintf(frame, sizeof(frame), "{\"type\":\"hello\",\"resume\":\"%s\"}", buf);
	expect_fault(frame, WIRE_ERR_BAD_FIELD, NULL);
}

static void test_bad_field_typing_ack(void **state)
{
	(void)state;
	expect_fault("{\"type\":\"typing\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"typing\",\"state\":1}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"typing\",\"state\":\"true\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"ack\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"ack\",\"seq\":-1}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"ack\",\"seq\":\"3\"}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"ack\",\"seq\":2.5}", WIRE_ERR_BAD_FIELD, NULL);
	expect_fault("{\"type\":\"ack\",\"seq\":null}", WIRE_ERR_BAD_FIELD, NULL);
}

static void test_text_too_long(void **state)
{
	char *s = message_with_text_of(MAX_TEXT + 1, 'a');
	struct wire_in in;
	struct wire_fault f;
	(void)state;

	expect_fault_n(s, strlen(s), MAX_TEXT, WIRE_ERR_TEXT_TOO_LONG, "m-1");
	assert_int_equal(parse(s, MAX_TEXT, &in, &f), -1);
	/* the message names the size and the limit */
	assert_non_null(strstr(f.message, "4097"));
	assert_non_null(strstr(f.message, "4096"));
	free(s);

	/* over the limit wins over blank: a long run of spaces is too long */
	s = message_with_text_of(11, ' ');
	expect_fault_n(s, strlen(s), 10, WIRE_ERR_TEXT_TOO_LONG, "m-1");
	free(s);
}

static void test_empty_text(void **state)
{
	(void)state;
	expect_fault("{\"type\":\"message\",\"id\":\"m-3\",\"text\":\"\"}", WIRE_ERR_EMPTY_TEXT, "m-3");
	expect_fault("{\"type\":\"message\",\"id\":\"m-3\",\"text\":\"   \"}", WIRE_ERR_EMPTY_TEXT, "m-3");
	expect_fault("{\"type\":\"message\",\"id\":\"m-3\",\"text\":\"\\u00a0\\t\"}", WIRE_ERR_EMPTY_TEXT, "m-3");
	expect_fault("{\"type\":\"message\",\"id\":\"m-3\",\"text\":\"\\n\\r\\n\"}", WIRE_ERR_EMPTY_TEXT, "m-3");
	/* ideographic space, line separator, zero-width space (a format char) */
	expect_fault("{\"type\":\"message\",\"id\":\"m-3\",\"text\":\"\\u3000\\u2028\\u200b\"}",
		     WIRE_ERR_EMPTY_TEXT, "m-3");
	/* raw (unescaped) NBSP in the frame */
	expect_fault("{\"type\":\"message\",\"id\":\"m-3\",\"text\":\"\xc2\xa0 \"}", WIRE_ERR_EMPTY_TEXT, "m-3");
}

static void test_not_empty_text(void **state)
{
	struct wire_in in;
	struct wire_fault f;
	(void)state;

	/* one visible character among blanks is text */
	assert_int_equal(parse("{\"type\":\"message\",\"id\":\"m\",\"text\":\" \\u00a0.\\t\"}",
			       MAX_TEXT, &in, &f),
			 0);
	wire_in_free(&in);
	assert_int_equal(parse("{\"type\":\"message\",\"id\":\"m\",\"text\":\"\\ud83d\\ude00\"}",
			       MAX_TEXT, &in, &f),
			 0);
	assert_string_equal(in.text, "\xf0\x9f\x98\x80");
	wire_in_free(&in);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	/* raw 0xff inside the text */
	expect_fault("{\"type\":\"message\",\"id\":\"m\",\"text\":\"a\xff\"}", WIRE_ERR_INVALID_UTF8, NULL);
	/* overlong "/" */
	expect_fault("{\"type\":\"message\",\"id\":\"m\",\"text\":\"\xc0\xaf\"}", WIRE_ERR_INVALID_UTF8, NULL);
	/* truncated 3-byte sequence, then the closing quote */
	expect_fault("{\"type\":\"message\",\"id\":\"m\",\"text\":\"\xe2\x82\"}", WIRE_ERR_INVALID_UTF8, NULL);
	/* encoded surrogate */
	expect_fault("{\"type\":\"message\",\"id\":\"m\",\"text\":\"\xed\xa0\x80\"}", WIRE_ERR_INVALID_UTF8, NULL);
	/* a bad byte outside any string, and in a key */
	expect_fault("{\"type\":\"hello\"}\xff", WIRE_ERR_INVALID_UTF8, NULL);
	expect_fault("{\"\xfe\":1,\"type\":\"hello\"}", WIRE_ERR_INVALID_UTF8, NULL);
	/* truncated at the very end of the frame */
	{
		const char frame[] = "{\"type\":\"hello\",\"name\":\"x\"}\xf0\x9f\x98";
		expect_fault_n(frame, sizeof(frame) - 1, MAX_TEXT, WIRE_ERR_INVALID_UTF8, NULL);
	}
	/* the length is honoured: a valid frame cut inside a sequence */
	{
		const char frame[] = "{\"type\":\"message\",\"id\":\"m\",\"text\":\"\xc3\xa9\"}";
		const char *cut = strstr(frame, "\xc3");
		expect_fault_n(frame, (size_t)(cut - frame) + 1, MAX_TEXT, WIRE_ERR_INVALID_UTF8, NULL);
	}
}

static void test_parse_does_not_read_past_len(void **state)
{
	/* a frame that is not NUL-terminated, in an exactly sized heap block
	 * (ASan flags any read past it) */
	const char *frame = "{\"type\":\"ack\",\"seq\":3}";
	size_t len = strlen(frame);
	char *buf = malloc(len);
	struct wire_in in;
	struct wire_fault f;
	(void)state;

	assert_non_null(buf);
	memcpy(buf, frame, len);
	assert_int_equal(wire_parse(buf, len, MAX_TEXT, &in, &f), 0);
	assert_int_equal(in.seq, 3);
	wire_in_free(&in);
	/* and only `len` bytes count: the same bytes minus the closing brace */
	expect_fault_n(buf, len - 1, MAX_TEXT, WIRE_ERR_BAD_JSON, NULL);
	free(buf);
}

static void test_in_free_zeroed(void **state)
{
	struct wire_in in;
	(void)state;
	memset(&in, 0, sizeof(in));
	wire_in_free(&in);
	wire_in_free(&in);
	assert_null(in.json);
}

/* ===== wire_utf8_valid ===== */

static void test_utf8_valid(void **state)
{
	(void)state;
#define V(s) wire_utf8_valid((s), sizeof(s) - 1)
	assert_int_equal(wire_utf8_valid("", 0), 1);
	assert_int_equal(wire_utf8_valid(NULL, 0), 1);
	assert_int_equal(V("plain ascii ~"), 1);
	assert_int_equal(V("a\0b"), 1);                   /* NUL is valid UTF-8 */
	assert_int_equal(V("\xc2\x80"), 1);               /* U+0080, smallest 2-byte */
	assert_int_equal(V("\xc3\xa9"), 1);               /* é */
	assert_int_equal(V("\xdf\xbf"), 1);               /* U+07FF */
	assert_int_equal(V("\xe0\xa0\x80"), 1);           /* U+0800, smallest 3-byte */
	assert_int_equal(V("\xe2\x82\xac"), 1);           /* € */
	assert_int_equal(V("\xed\x9f\xbf"), 1);           /* U+D7FF, below surrogates */
	assert_int_equal(V("\xee\x80\x80"), 1);           /* U+E000, above surrogates */
	assert_int_equal(V("\xef\xbf\xbd"), 1);           /* U+FFFD */
	assert_int_equal(V("\xf0\x90\x80\x80"), 1);       /* U+10000, smallest 4-byte */
	assert_int_equal(V("\xf0\x9f\x98\x80"), 1);       /* emoji */
	assert_int_equal(V("\xf4\x8f\xbf\xbf"), 1);       /* U+10FFFF, the last */

	assert_int_equal(V("\x80"), 0);                   /* lone continuation */
	assert_int_equal(V("a\xbf"), 0);
	assert_int_equal(V("\xff"), 0);
	assert_int_equal(V("\xfe"), 0);
	assert_int_equal(V("\xf8\x88\x80\x80\x80"), 0);   /* 5-byte form */
	assert_int_equal(V("\xc0\xaf"), 0);               /* overlong '/' */
	assert_int_equal(V("\xc0\x80"), 0);               /* overlong NUL */
	assert_int_equal(V("\xc1\xbf"), 0);               /* overlong U+007F */
	assert_int_equal(V("\xe0\x80\xaf"), 0);           /* overlong 3-byte */
	assert_int_equal(V("\xe0\x9f\xbf"), 0);           /* overlong U+07FF */
	assert_int_equal(V("\xf0\x80\x80\xaf"), 0);       /* overlong 4-byte */
	assert_int_equal(V("\xf0\x8f\xbf\xbf"), 0);       /* overlong U+FFFF */
	assert_int_equal(V("\xed\xa0\x80"), 0);           /* U+D800 */
	assert_int_equal(V("\xed\xbf\xbf"), 0);           /* U+DFFF */
	assert_int_equal(V("\xf4\x90\x80\x80"), 0);       /* U+110000 */
	assert_int_equal(V("\xf5\x80\x80\x80"), 0);
	assert_int_equal(V("\xc3"), 0);                   /* truncated */
	assert_int_equal(V("\xe2\x82"), 0);
	assert_int_equal(V("\xf0\x9f\x98"), 0);
	assert_int_equal(V("\xc3\x41"), 0);               /* continuation missing */
	assert_int_equal(V("\xe2\x28\xa1"), 0);
#undef V
	/* the length bounds the scan: a valid sequence cut short */
	assert_int_equal(wire_utf8_valid("\xc3\xa9", 1), 0);
	assert_int_equal(wire_utf8_valid("\xf0\x9f\x98\x80", 3), 0);
	assert_int_equal(wire_utf8_valid("ab\xff", 2), 1);
}

/* ===== builders ===== */

static void test_welcome(void **state)
{
	struct wire_limits lim = {.max_text = 4096, .max_frame = 65536, .rate = 5, .burst = 10.5};
	char *s;
	json_t *o, *l;
	(void)state;

	s = wire_welcome("c_5f0c2b9a7d3e41a8b6c4d2e0", "kq3Vb2vQ0m6Vh3Wm8j1b6yU5cB2Qn8pZ4xT7rA9dE0s", 1,
			 14, &lim);
	assert_non_null(s);
	o = load(s);
	assert_string_equal(get_str(o, "type"), "welcome");
	assert_string_equal(get_str(o, "conversation"), "c_5f0c2b9a7d3e41a8b6c4d2e0");
	assert_string_equal(get_str(o, "resume"), "kq3Vb2vQ0m6Vh3Wm8j1b6yU5cB2Qn8pZ4xT7rA9dE0s");
	assert_true(json_is_true(json_object_get(o, "resumed")));
	assert_int_equal(get_int(o, "last_seq"), 14);
	assert_null(json_object_get(o, "seq")); /* transient frames have no seq */
	l = json_object_get(o, "limits");
	assert_true(json_is_object(l));
	assert_int_equal(get_int(l, "max_text"), 4096);
	assert_int_equal(get_int(l, "max_frame"), 65536);
	assert_true(json_is_number(json_object_get(l, "rate")));
	assert_true(json_number_value(json_object_get(l, "rate")) == 5.0);
	assert_true(json_number_value(json_object_get(l, "burst")) == 10.5);
	json_decref(o);
	free(s);

	s = wire_welcome("c_000000000000000000000000", "tok", 0, 0, &lim);
	o = load(s);
	assert_true(json_is_false(json_object_get(o, "resumed")));
	assert_int_equal(get_int(o, "last_seq"), 0);
	json_decref(o);
	free(s);
}

static void test_ack(void **state)
{
	char *s;
	json_t *o;
	(void)state;

	s = wire_ack("m-1732329600-1", 15, 0);
	o = load(s);
	assert_string_equal(get_str(o, "type"), "ack");
	assert_string_equal(get_str(o, "id"), "m-1732329600-1");
	assert_int_equal(get_int(o, "seq"), 15);
	assert_null(json_object_get(o, "duplicate"));
	json_decref(o);
	free(s);

	/* an id with characters JSON must escape */
	s = wire_ack("q\"\\x", 9007199254740993LL, 1);
	o = load(s);
	assert_string_equal(get_str(o, "id"), "q\"\\x");
	assert_int_equal(get_int(o, "seq"), 9007199254740993LL);
	assert_true(json_is_true(json_object_get(o, "duplicate")));
	json_decref(o);
	free(s);
}

static void test_error_frame(void **state)
{
	char *s;
	json_t *o;
	(void)state;

	s = wire_error(WIRE_ERR_TEXT_TOO_LONG, "text is 5120 bytes; the limit is 4096", "m-7");
	o = load(s);
	assert_string_equal(get_str(o, "type"), "error");
	assert_string_equal(get_str(o, "code"), "text_too_long");
	assert_string_equal(get_str(o, "message"), "text is 5120 bytes; the limit is 4096");
	assert_string_equal(get_str(o, "in_reply_to"), "m-7");
	json_decref(o);
	free(s);

	/* no in_reply_to when NULL or empty */
	s = wire_error(WIRE_ERR_BAD_JSON, "not \"JSON\"\n", NULL);
	o = load(s);
	assert_string_equal(get_str(o, "code"), "bad_json");
	assert_string_equal(get_str(o, "message"), "not \"JSON\"\n");
	assert_null(json_object_get(o, "in_reply_to"));
	json_decref(o);
	free(s);
	s = wire_error(WIRE_ERR_RATE_LIMITED, "slow down", "");
	o = load(s);
	assert_string_equal(get_str(o, "code"), "rate_limited");
	assert_null(json_object_get(o, "in_reply_to"));
	json_decref(o);
	free(s);

	/* a message that is not UTF-8 is never sent as such */
	s = wire_error(WIRE_ERR_BAD_FIELD, "bad \xff" " byte", "m-1");
	o = load(s);
	assert_string_equal(get_str(o, "code"), "bad_field");
	assert_true(wire_utf8_valid(get_str(o, "message"), strlen(get_str(o, "message"))));
	assert_null(strstr(s, "\xff"));
	assert_string_equal(get_str(o, "in_reply_to"), "m-1");
	json_decref(o);
	free(s);

	/* agent protocol placeholder */
	s = wire_error(WIRE_ERR_NOT_AVAILABLE, "the agent protocol is not available in this version", NULL);
	o = load(s);
	assert_string_equal(get_str(o, "code"), "not_available");
	json_decref(o);
	free(s);
}

static void test_typing_frame(void **state)
{
	char *s;
	json_t *o;
	(void)state;

	s = wire_typing("bot", 1);
	o = load(s);
	assert_string_equal(get_str(o, "type"), "typing");
	assert_string_equal(get_str(o, "from"), "bot");
	assert_true(json_is_true(json_object_get(o, "state")));
	assert_null(json_object_get(o, "seq"));
	json_decref(o);
	free(s);

	s = wire_typing("agent", 0);
	o = load(s);
	assert_string_equal(get_str(o, "from"), "agent");
	assert_true(json_is_false(json_object_get(o, "state")));
	json_decref(o);
	free(s);
}

static void test_message_body(void **state)
{
	char *s;
	json_t *o;
	(void)state;

	s = wire_message_body("m-1732329600-1", "I forgot my password", 20, 1732329600123LL);
	o = load(s);
	assert_string_equal(get_str(o, "type"), "message");
	assert_string_equal(get_str(o, "id"), "m-1732329600-1");
	assert_string_equal(get_str(o, "from"), "customer");
	assert_string_equal(get_str(o, "text"), "I forgot my password");
	assert_int_equal(get_int(o, "ts"), 1732329600123LL);
	assert_null(json_object_get(o, "seq"));
	json_decref(o);
	free(s);

	/* text_len is honoured (the text need not be NUL-terminated there),
	 * and quotes, newlines and non-ASCII round-trip */
	s = wire_message_body("m", "ol\xc3\xa1 \"a\"\n\\ and more", 9, 1);
	o = load(s);
	assert_string_equal(get_str(o, "text"), "ol\xc3\xa1 \"a\"\n");
	json_decref(o);
	free(s);
}

/* Every string is written as jansson writes it, whether it needed escapes
 * (done by jansson) or not (copied): byte for byte the same frame. */
static void test_strings_as_jansson_writes_them(void **state)
{
	static const char *const texts[] = {
		"plain words, digits 123 and / slashes",
		"ol\xc3\xa1 \xe2\x82\xac \xf0\x9f\x98\x80 UTF-8 as is",
		"a \"quote\"",
		"a back\\slash",
		"tab\there, newline\nthere, bell\x07, escape\x1b",
		"DEL \x7f and the last ASCII ~",
		"",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *s = wire_message_body("m-1", texts[i], strlen(texts[i]), 7);
		json_t *want = json_pack("{s:s, s:s, s:s, s:s, s:i}", "type", "message", "id", "m-1",
					 "from", "customer", "text", texts[i], "ts", 7);
		char *w = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);
		assert_string_equal(s, w);
		free(w);
		json_decref(want);
		free(s);
	}
}

static void test_reply_body(void **state)
{
	struct wire_choice choices[2] = {
		{.id = "faq:returns", .label = "Returning an item"},
		{.id = "faq:refunds", .label = "When will I get my refund?"},
	};
	struct wire_reply r = {
		.text = "Did you mean one of these?",
		.source = "clarify",
		.has_confidence = 1,
		.confidence = 0.41,
		.choices = choices,
		.n_choices = 2,
	};
	char *s;
	json_t *o, *c;
	(void)state;

	s = wire_reply_body(&r, "m-2", 1732329600140LL);
	o = load(s);
	assert_string_equal(get_str(o, "type"), "reply");
	assert_string_equal(get_str(o, "from"), "bot");
	assert_string_equal(get_str(o, "in_reply_to"), "m-2");
	assert_string_equal(get_str(o, "text"), "Did you mean one of these?");
	assert_string_equal(get_str(o, "source"), "clarify");
	assert_true(json_is_real(json_object_get(o, "confidence")));
	assert_true(json_real_value(json_object_get(o, "confidence")) == 0.41);
	assert_int_equal(get_int(o, "ts"), 1732329600140LL);
	assert_null(json_object_get(o, "seq"));
	c = json_object_get(o, "choices");
	assert_true(json_is_array(c));
	assert_int_equal(json_array_size(c), 2);
	assert_string_equal(get_str(json_array_get(c, 0), "id"), "faq:returns");
	assert_string_equal(get_str(json_array_get(c, 0), "label"), "Returning an item");
	assert_string_equal(get_str(json_array_get(c, 1), "id"), "faq:refunds");
	assert_string_equal(get_str(json_array_get(c, 1), "label"), "When will I get my refund?");
	json_decref(o);
	free(s);

	/* no confidence -> null; no source -> "pipeline"; no choices -> [];
	 * no in_reply_to -> absent */
	{
		struct wire_reply plain = {.text = "Hello \xe2\x82\xac \"quoted\""};
		s = wire_reply_body(&plain, NULL, 5);
		o = load(s);
		assert_string_equal(get_str(o, "text"), "Hello \xe2\x82\xac \"quoted\"");
		assert_string_equal(get_str(o, "source"), "pipeline");
		assert_non_null(json_object_get(o, "confidence"));
		assert_true(json_is_null(json_object_get(o, "confidence")));
		assert_true(json_is_array(json_object_get(o, "choices")));
		assert_int_equal(json_array_size(json_object_get(o, "choices")), 0);
		assert_null(json_object_get(o, "in_reply_to"));
		json_decref(o);
		free(s);

		s = wire_reply_body(&plain, "", 5);
		o = load(s);
		assert_null(json_object_get(o, "in_reply_to"));
		json_decref(o);
		free(s);
	}

	/* confidence 0 is a value, not "absent" */
	{
		struct wire_reply zero = {.text = "x", .source = "fallback", .has_confidence = 1};
		s = wire_reply_body(&zero, "m", 5);
		o = load(s);
		assert_true(json_is_number(json_object_get(o, "confidence")));
		assert_true(json_number_value(json_object_get(o, "confidence")) == 0.0);
		assert_string_equal(get_str(o, "source"), "fallback");
		json_decref(o);
		free(s);
	}
}

static void test_reply_clear(void **state)
{
	struct wire_reply r;
	(void)state;

	memset(&r, 0, sizeof(r));
	r.text = strdup("t");
	r.source = strdup("s");
	r.choices = calloc(2, sizeof(*r.choices));
	assert_non_null(r.choices);
	r.n_choices = 2;
	r.choices[0].id = strdup("a");
	r.choices[0].label = strdup("A");
	r.choices[1].id = strdup("b");
	r.choices[1].label = strdup("B");
	wire_reply_clear(&r); /* ASan's leak check verifies everything went */
	assert_null(r.text);
	assert_null(r.choices);
	assert_int_equal(r.n_choices, 0);
	wire_reply_clear(&r); /* and a cleared reply can be cleared again */
}

static void test_with_seq(void **state)
{
	char *body, *s;
	size_t len = 0;
	json_t *o;
	const char *first;
	(void)state;

	body = wire_message_body("m-1", "hi", 2, 77);
	s = wire_with_seq(body, strlen(body), 15, &len);
	assert_int_equal(len, strlen(s));
	assert_int_equal(strncmp(s, "{\"seq\":15,", 10), 0);
	o = load(s);
	assert_int_equal(get_int(o, "seq"), 15);
	assert_string_equal(get_str(o, "type"), "message");
	assert_string_equal(get_str(o, "id"), "m-1");
	assert_string_equal(get_str(o, "text"), "hi");
	assert_int_equal(get_int(o, "ts"), 77);
	assert_int_equal(json_object_size(o), 6);
	/* seq is the first member (jansson keeps insertion order) */
	first = json_object_iter_key(json_object_iter(o));
	assert_string_equal(first, "seq");
	json_decref(o);
	free(s);
	free(body);

	/* a reply body, a big seq, and out_len may be NULL */
	{
		struct wire_reply r = {.text = "ok", .source = "pipeline"};
		body = wire_reply_body(&r, "m-9", 1);
		s = wire_with_seq(body, strlen(body), INT64_MAX, NULL);
		o = load(s);
		assert_int_equal(get_int(o, "seq"), INT64_MAX);
		assert_string_equal(get_str(o, "in_reply_to"), "m-9");
		json_decref(o);
		free(s);
		free(body);
	}

	/* body_len is honoured: a body inside a larger buffer, not terminated */
	{
		const char buf[] = "{\"a\":1}GARBAGE";
		s = wire_with_seq(buf, 7, 1, &len);
		assert_string_equal(s, "{\"seq\":1,\"a\":1}");
		assert_int_equal(len, 15);
		free(s);
	}
}

static void test_error_codes(void **state)
{
	/* the codes of docs/protocol.md, in enum order */
	static const char *const expected[WIRE_ERR__COUNT] = {
		"bad_json", "not_object", "unknown_type", "bad_field", "hello_required",
		"already_greeted", "empty_text", "text_too_long", "invalid_utf8",
		"binary_unsupported", "rate_limited", "conversation_full", "resume_unknown",
		"resume_expired", "store_unavailable", "too_many_connections", "server_busy",
		"frame_too_large", "not_available", "login_required", "login_failed", "not_found",
		"forbidden", "not_assigned", "at_capacity", "not_closed", "login_replaced",
		"session_ended",
	};
	(void)state;

	for (int i = 0; i < WIRE_ERR__COUNT; i++) {
		const char *c = wire_error_code((enum wire_error)i);
		assert_non_null(c);
		assert_true(strlen(c) > 0);
		assert_string_equal(c, expected[i]);
		for (const char *p = c; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(c, wire_error_code((enum wire_error)j));
	}
	/* out of range does not read past the table */
	assert_string_equal(wire_error_code(WIRE_ERR__COUNT), "internal");
	assert_string_equal(wire_error_code((enum wire_error)-1), "internal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_minimal),
		cmocka_unit_test(test_hello_all_fields),
		cmocka_unit_test(test_hello_edge_values),
		cmocka_unit_test(test_message_ok),
		cmocka_unit_test(test_message_id_limits_ok),
		cmocka_unit_test(test_typing_ok),
		cmocka_unit_test(test_ack_ok),
		cmocka_unit_test(test_text_exactly_max_is_ok),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_bad_field_message_id),
		cmocka_unit_test(test_bad_field_message_text),
		cmocka_unit_test(test_bad_field_hello),
		cmocka_unit_test(test_bad_field_typing_ack),
		cmocka_unit_test(test_text_too_long),
		cmocka_unit_test(test_empty_text),
		cmocka_unit_test(test_not_empty_text),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_parse_does_not_read_past_len),
		cmocka_unit_test(test_in_free_zeroed),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_welcome),
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_error_frame),
		cmocka_unit_test(test_typing_frame),
		cmocka_unit_test(test_message_body),
		cmocka_unit_test(test_strings_as_jansson_writes_them),
		cmocka_unit_test(test_reply_body),
		cmocka_unit_test(test_reply_clear),
		cmocka_unit_test(test_with_seq),
		cmocka_unit_test(test_error_codes),
	};
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
