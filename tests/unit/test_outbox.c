/* test_outbox.c: unit tests for src/outbox.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "outbox.h"

#define HEADROOM 16 /* LWS_PRE on x86-64 */

/* Pops the head, checking it is `want`. */
static void expect_head(struct outbox *ob, const char *want)
{
	size_t len = 12345;
	unsigned char *p = outbox_peek(ob, &len);

	assert_non_null(p);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

static void test_empty(void **state)
{
	struct outbox ob;
	size_t len = 7;
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_null(outbox_peek(&ob, &len));
	assert_int_equal(ob.bytes, 0);
	assert_int_equal(ob.frames, 0);
	assert_int_equal(ob.headroom, HEADROOM);
	outbox_pop(&ob); /* harmless on empty */
	outbox_clear(&ob);
	assert_int_equal(ob.frames, 0);
	assert_null(ob.head);
	assert_null(ob.tail);
}

static void test_fifo_order_and_bytes(void **state)
{
	struct outbox ob;
	size_t len;
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, "a", 1, 1000), 0);
	assert_int_equal(outbox_push(&ob, "bb", 2, 1000), 0);
	assert_int_equal(outbox_push(&ob, "ccc", 3, 1000), 0);
	assert_int_equal(ob.frames, 3);
	assert_int_equal(ob.bytes, 6);

	/* peek does not consume */
	expect_head(&ob, "a");
	expect_head(&ob, "a");
	assert_int_equal(ob.frames, 3);

	outbox_pop(&ob);
	assert_int_equal(ob.frames, 2);
	assert_int_equal(ob.bytes, 5);
	expect_head(&ob, "bb");

	/* pushing while non-empty appends at the tail */
	assert_int_equal(outbox_push(&ob, "dddd", 4, 1000), 0);
	assert_int_equal(ob.bytes, 9);
	outbox_pop(&ob);
	expect_head(&ob, "ccc");
	outbox_pop(&ob);
	expect_head(&ob, "dddd");
	outbox_pop(&ob);
	assert_null(outbox_peek(&ob, &len));
	assert_int_equal(ob.frames, 0);
	assert_int_equal(ob.bytes, 0);
	assert_null(ob.tail);

	/* usable again after draining */
	assert_int_equal(outbox_push(&ob, "e", 1, 1000), 0);
	expect_head(&ob, "e");
	outbox_clear(&ob);
}

static void test_copies_data(void **state)
{
	struct outbox ob;
	char src[] = "hello";
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, src, 5, 100), 0);
	memset(src, 'X', 5);
	expect_head(&ob, "hello");
	outbox_clear(&ob);
}

static void test_binary_payload(void **state)
{
	struct outbox ob;
	const char data[] = {'a', '\0', 'b', '\xff', '\0'};
	size_t len;
	unsigned char *p;
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, data, sizeof(data), 100), 0);
	p = outbox_peek(&ob, &len);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(p, data, sizeof(data));
	outbox_clear(&ob);
}

static void test_headroom_writable(void **state)
{
	struct outbox ob;
	unsigned char *p;
	size_t len;
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, "xyz", 3, 100), 0);
	assert_int_equal(outbox_push(&ob, "next", 4, 100), 0);
	p = outbox_peek(&ob, &len);
	/* libwebsockets writes the frame header into these bytes; ASan
	 * reports it if they are not part of the allocation */
	memset(p - HEADROOM, 0xee, HEADROOM);
	for (size_t i = 0; i < HEADROOM; i++)
		assert_int_equal(p[-(ptrdiff_t)HEADROOM + (ptrdiff_t)i], 0xee);
	/* and writing them leaves the payload and the next frame intact */
	assert_memory_equal(p, "xyz", 3);
	outbox_pop(&ob);
	p = outbox_peek(&ob, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "next", 4);
	memset(p - HEADROOM, 0, HEADROOM);
	outbox_clear(&ob);

	/* zero headroom works too: peek is the start of the payload */
	outbox_init(&ob, 0);
	assert_int_equal(outbox_push(&ob, "q", 1, 100), 0);
	expect_head(&ob, "q");
	outbox_clear(&ob);
}

static void test_max_bytes(void **state)
{
	struct outbox ob;
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, "12345", 5, 10), 0);
	assert_int_equal(outbox_push(&ob, "678", 3, 10), 0);
	/* 8 + 3 > 10: refused, nothing changes */
	assert_int_equal(outbox_push(&ob, "abc", 3, 10), -1);
	assert_int_equal(ob.frames, 2);
	assert_int_equal(ob.bytes, 8);
	expect_head(&ob, "12345");
	/* exactly filling the limit is allowed */
	assert_int_equal(outbox_push(&ob, "ab", 2, 10), 0);
	assert_int_equal(ob.bytes, 10);
	assert_int_equal(ob.frames, 3);
	/* a full queue refuses even one byte */
	assert_int_equal(outbox_push(&ob, "z", 1, 10), -1);
	assert_int_equal(ob.frames, 3);
	/* the order is what was accepted */
	outbox_pop(&ob);
	expect_head(&ob, "678");
	/* popping makes room again */
	assert_int_equal(outbox_push(&ob, "zzzzz", 5, 10), 0);
	assert_int_equal(ob.bytes, 10);
	outbox_pop(&ob);
	expect_head(&ob, "ab");
	outbox_pop(&ob);
	expect_head(&ob, "zzzzz");
	outbox_clear(&ob);

	/* a single frame bigger than the limit is refused on an empty queue */
	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, "0123456789A", 11, 10), -1);
	assert_int_equal(ob.frames, 0);
	assert_int_equal(ob.bytes, 0);
	assert_null(ob.head);
}

static void test_empty_frame(void **state)
{
	struct outbox ob;
	size_t len = 99;
	(void)state;

	outbox_init(&ob, HEADROOM);
	assert_int_equal(outbox_push(&ob, "", 0, 0), 0);
	assert_int_equal(ob.frames, 1);
	assert_int_equal(ob.bytes, 0);
	assert_non_null(outbox_peek(&ob, &len));
	assert_int_equal(len, 0);
	outbox_pop(&ob);
	assert_int_equal(ob.frames, 0);
}

static void test_clear(void **state)
{
	struct outbox ob;
	size_t len;
	char buf[64];
	(void)state;

	outbox_init(&ob, HEADROOM);
	for (int i = 0; i < 100; i++) {
		int n = snprintf(buf, sizeof(buf), "frame %d", i);
		assert_int_equal(outbox_push(&ob, buf, (size_t)n, 1 << 20), 0);
	}
	assert_int_equal(ob.frames, 100);
	outbox_clear(&ob);
	assert_int_equal(ob.frames, 0);
	assert_int_equal(ob.bytes, 0);
	assert_null(ob.head);
	assert_null(ob.tail);
	assert_null(outbox_peek(&ob, &len));
	/* usable after clear; the leak checker proves clear freed the rest */
	assert_int_equal(outbox_push(&ob, "after", 5, 10), 0);
	expect_head(&ob, "after");
	outbox_clear(&ob);
	outbox_clear(&ob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_fifo_order_and_bytes),
		cmocka_unit_test(test_copies_data),
		cmocka_unit_test(test_binary_payload),
		cmocka_unit_test(test_headroom_writable),
		cmocka_unit_test(test_max_bytes),
		cmocka_unit_test(test_empty_frame),
		cmocka_unit_test(test_clear),
	};
	return cmocka_run_group_tests_name("outbox", tests, NULL, NULL);
}
