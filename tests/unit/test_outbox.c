/* test_outbox.c: unit tests for src/outbox.c (queued, framed websocket
 * text frames). Frames are decoded here by RFC 6455 rules, independently
 * of the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"

#define HEADROOM 16 /* LWS_PRE on x86-64 */

/* Decodes the frame at p (n bytes available): checks it is a final,
 * unmasked text frame and returns its payload and lengths. */
static const unsigned char *decode(const unsigned char *p, size_t n, size_t *payload_len,
				   size_t *frame_len)
{
	size_t hdr = 2, len;

	assert_true(n >= 2);
	assert_int_equal(p[0], 0x81);      /* FIN and opcode 1 (text), no RSV bits */
	assert_int_equal(p[1] & 0x80, 0);  /* a server never masks */
	len = p[1] & 0x7f;
	if (len == 126) {
		assert_true(n >= 4);
		len = (size_t)p[2] << 8 | p[3];
		assert_true(len >= 126); /* the shortest form is required */
		hdr = 4;
	} else if (len == 127) {
		assert_true(n >= 10);
		assert_int_equal(p[2] & 0x80, 0);
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		assert_true(len > 0xffff);
		hdr = 10;
	}
	assert_true(hdr + len <= n);
	*payload_len = len;
	*frame_len = hdr + len;
	return p + hdr;
}

/* Peeks one frame at most (max 1 byte), checks its payload is `want` and pops it. */
static void expect_pop(struct outbox *ob, const char *want, size_t want_len)
{
	size_t len = 12345, frames = 99, plen, flen;
	unsigned char *p = outbox_peek(ob, 1, &len, &frames);
	const unsigned char *payload;

	assert_non_null(p);
	assert_int_equal(frames, 1);
	payload = decode(p, len, &plen, &flen);
	assert_int_equal(flen, len);
	assert_int_equal(plen, want_len);
	assert_memory_equal(payload, want, want_len);
	outbox_pop(ob, len, frames);
}

static void test_empty(void **state)
{
	struct outbox ob;
	size_t len = 7, frames = 7;
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_null(outbox_peek(&ob, OUTBOX_WRITE_MAX, &len, &frames));
	assert_int_equal(ob.bytes, 0);
	assert_int_equal(ob.frames, 0);
	assert_int_equal(ob.headroom, HEADROOM);
	assert_null(ob.buf);
	outbox_clear(&ob);
	assert_int_equal(ob.frames, 0);
}

/* Each length takes the header form RFC 6455 prescribes. */
static void test_header_forms(void **state)
{
	const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 200000};
	const size_t hdrs[] = {2, 2, 2, 4, 4, 4, 10, 10};
	struct outbox ob;
	(void)state;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *text = malloc(lens[i] + 1);
		size_t len, frames, plen, flen;
		unsigned char *p;

		assert_non_null(text);
		for (size_t k = 0; k < lens[i]; k++)
			text[k] = (char)('a' + k % 26);
		outbox_init(&ob, HEADROOM);
		assert_int_equal(outbox_push(&ob, text, lens[i], 1u << 20), 0);
		assert_int_equal(ob.bytes, hdrs[i] + lens[i]);
		p = outbox_peek(&ob, OUTBOX_WRITE_MAX, &len, &frames);
		assert_non_null(p);
		assert_int_equal(frames, 1); /* one frame is taken however long */
		assert_int_equal(len, hdrs[i] + lens[i]);
		assert_memory_equal(decode(p, len, &plen, &flen), text, lens[i]);
		assert_int_equal(plen, lens[i]);
		outbox_pop(&ob, len, frames);
		assert_int_equal(ob.frames, 0);
		assert_int_equal(ob.bytes, 0);
		assert_null(ob.buf); /* an empty queue holds no memory */
		free(text);
	}
}

static void test_fifo_order_and_bytes(void **state)
{
	struct outbox ob;
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, "a", 1, 1000), 0);
	assert_int_equal(outbox_push(&ob, "bb", 2, 1000), 0);
	assert_int_equal(outbox_push(&ob, "ccc", 3, 1000), 0);
	assert_int_equal(ob.frames, 3);
	assert_int_equal(ob.bytes, 3 * 2 + 6);

	expect_pop(&ob, "a", 1);
	assert_int_equal(ob.frames, 2);
	assert_int_equal(ob.bytes, 2 * 2 + 5);
	/* pushing while non-empty appends at the tail */
	assert_int_equal(outbox_push(&ob, "dddd", 4, 1000), 0);
	expect_pop(&ob, "bb", 2);
	expect_pop(&ob, "ccc", 3);
	expect_pop(&ob, "dddd", 4);
	assert_int_equal(ob.frames, 0);
	assert_int_equal(ob.bytes, 0);

	/* usable again after draining */
	assert_int_equal(outbox_push(&ob, "e", 1, 1000), 0);
	expect_pop(&ob, "e", 1);
	outbox_clear(&ob);
}

/* A peek takes as many whole frames as fit in max, never part of one. */
static void test_peek_takes_whole_frames(void **state)
{
	struct outbox ob;
	size_t len, frames, plen, flen, at = 0;
	unsigned char *p;
	(void)state;

	outbox_init(&ob, HEADROOM);
	for (int i = 0; i < 5; i++)
		assert_int_equal(outbox_push(&ob, "0123456789", 10, 1000), 0); /* 12 bytes each */

	p = outbox_peek(&ob, 12 * 3 + 11, &len, &frames);
	assert_int_equal(frames, 3);
	assert_int_equal(len, 36);
	for (int i = 0; i < 3; i++) {
		assert_memory_equal(decode(p + at, len - at, &plen, &flen), "0123456789", 10);
		at += flen;
	}
	assert_int_equal(at, len);
	outbox_pop(&ob, len, frames);
	assert_int_equal(ob.frames, 2);

	p = outbox_peek(&ob, OUTBOX_WRITE_MAX, &len, &frames);
	assert_int_equal(frames, 2);
	assert_int_equal(len, 24);
	outbox_pop(&ob, len, frames);
	assert_null(outbox_peek(&ob, OUTBOX_WRITE_MAX, &len, &frames));
}

static void test_copies_data(void **state)
{
	struct outbox ob;
	char src[] = "hello";
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, src, 5, 100), 0);
	memset(src, 'X', 5);
	expect_pop(&ob, "hello", 5);
	outbox_clear(&ob);
}

static void test_binary_payload(void **state)
{
	struct outbox ob;
	const char data[] = {'a', '\0', 'b', '\xff', '\0'};
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, data, sizeof(data), 100), 0);
	expect_pop(&ob, data, sizeof(data));
}

static void test_headroom_writable(void **state)
{
	struct outbox ob;
	unsigned char *p;
	size_t len, frames;
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, "xyz", 3, 100), 0);
	assert_int_equal(outbox_push(&ob, "next", 4, 100), 0);
	p = outbox_peek(&ob, 1, &len, &frames);
	/* ASan reports it if these bytes are not part of the allocation */
	memset(p - HEADROOM, 0xee, HEADROOM);
	assert_int_equal(p[-1], 0xee);
	expect_pop(&ob, "xyz", 3); /* the frames are intact */
	p = outbox_peek(&ob, 1, &len, &frames);
	memset(p - HEADROOM, 0, HEADROOM);
	expect_pop(&ob, "next", 4);

	/* zero headroom works too */
	outbox_init(&ob, 0);
	assert_int_equal(outbox_push(&ob, "q", 1, 100), 0);
	expect_pop(&ob, "q", 1);
}

static void test_max_bytes(void **state)
{
	struct outbox ob;
	(void)state;

	/* limits count frame headers too: "12345" is 7 bytes, "678" 5 */
	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, "12345", 5, 16), 0);
	assert_int_equal(outbox_push(&ob, "678", 3, 16), 0);
	/* 12 + 5 > 16: refused, nothing changes */
	assert_int_equal(outbox_push(&ob, "abc", 3, 16), -1);
	assert_int_equal(ob.frames, 2);
	assert_int_equal(ob.bytes, 12);
	/* exactly filling the limit is allowed */
	assert_int_equal(outbox_push(&ob, "ab", 2, 16), 0);
	assert_int_equal(ob.bytes, 16);
	/* a full queue refuses even an empty frame */
	assert_int_equal(outbox_push(&ob, "", 0, 16), -1);
	assert_int_equal(ob.frames, 3);
	/* the order is what was accepted; popping makes room again */
	expect_pop(&ob, "12345", 5);
	assert_int_equal(outbox_push(&ob, "zzzzz", 5, 16), 0);
	expect_pop(&ob, "678", 3);
	expect_pop(&ob, "ab", 2);
	expect_pop(&ob, "zzzzz", 5);
	assert_int_equal(ob.bytes, 0);

	/* a single frame bigger than the limit is refused on an empty queue */
	assert_int_equal(outbox_push(&ob, "0123456789A", 11, 12), -1);
	assert_int_equal(ob.frames, 0);
	assert_null(ob.buf);
}

static void test_clear(void **state)
{
	struct outbox ob;
	size_t len, frames;
	(void)state;

	outbox_init(&ob, HEADROOM);
	for (int i = 0; i < 100; i++)
		assert_int_equal(outbox_push(&ob, "frame", 5, 100000), 0);
	outbox_clear(&ob);
	assert_int_equal(ob.frames, 0);
	assert_int_equal(ob.bytes, 0);
	assert_null(ob.buf);
	assert_null(outbox_peek(&ob, OUTBOX_WRITE_MAX, &len, &frames));
	/* still usable */
	assert_int_equal(outbox_push(&ob, "again", 5, 100), 0);
	expect_pop(&ob, "again", 5);
}

/* Pushes and pops of random sizes in random order, against a model queue:
 * the buffer moves and grows under the frames without changing them. */
static void test_against_a_model(void **state)
{
	enum { N = 4000 };
	static size_t model_len[N];
	static unsigned char model_seed[N];
	size_t head = 0, tail = 0;
	struct outbox ob;
	unsigned rnd = 12345;
	char *buf = malloc(70000);
	(void)state;

	assert_non_null(buf);
	outbox_init(&ob, HEADROOM);
	for (int step = 0; step < 20000; step++) {
		rnd = rnd * 1103515245u + 12345u;
		if (((rnd >> 16) % 3) && tail < N) {
			size_t len = (rnd >> 8) % 7 == 0 ? 60000 + rnd % 9000 : (rnd >> 4) % 300;
			unsigned char seed = (unsigned char)(rnd >> 24);
			for (size_t k = 0; k < len; k++)
				buf[k] = (char)(seed + k);
			assert_int_equal(outbox_push(&ob, buf, len, 64u << 20), 0);
			model_len[tail] = len;
			model_seed[tail++] = seed;
		} else if (head < tail) {
			size_t max = (rnd >> 10) % 3 ? 1 : OUTBOX_WRITE_MAX, len, frames, at = 0;
			unsigned char *p = outbox_peek(&ob, max, &len, &frames);
			assert_non_null(p);
			assert_true(frames >= 1);
			assert_true(frames == 1 || len <= max);
			for (size_t f = 0; f < frames; f++, head++) {
				size_t plen, flen;
				const unsigned char *pl = decode(p + at, len - at, &plen, &flen);
				assert_int_equal(plen, model_len[head]);
				for (size_t k = 0; k < plen; k++)
					assert_int_equal(pl[k], (unsigned char)(model_seed[head] + k));
				at += flen;
			}
			assert_int_equal(at, len);
			outbox_pop(&ob, len, frames);
		}
		assert_int_equal(ob.frames, tail - head);
	}
	outbox_clear(&ob);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_header_forms),
		cmocka_unit_test(test_fifo_order_and_bytes),
		cmocka_unit_test(test_peek_takes_whole_frames),
		cmocka_unit_test(test_copies_data),
		cmocka_unit_test(test_binary_payload),
		cmocka_unit_test(test_headroom_writable),
		cmocka_unit_test(test_max_bytes),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_against_a_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
