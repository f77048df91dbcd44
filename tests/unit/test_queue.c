/* test_queue.c: unit tests for src/queue.c: order, positions, estimated
 * waits, and who gets the next offer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "queue.h"

static struct queue_agent *agent(struct queue *q, int64_t id, const char *team, int capacity,
				 int online)
{
	struct queue_agent *a = queue_agent(q, id);
	snprintf(a->name, sizeof(a->name), "agent%lld", (long long)id);
	snprintf(a->teams[0], sizeof(a->teams[0]), "%s", team);
	a->n_teams = 1;
	a->capacity = capacity;
	a->online = online;
	return a;
}

static struct queue_entry *chat(struct queue *q, int64_t conv, const char *team, int upset,
				int64_t at)
{
	char id[40];
	snprintf(id, sizeof(id), "c_%024lld", (long long)conv);
	return queue_add(q, conv, id, team, "why", upset, at);
}

static void test_order_and_positions(void **state)
{
	struct queue q;
	(void)state;
	queue_init(&q);
	chat(&q, 1, "general", 0, 1000);
	chat(&q, 2, "general", 0, 2000);
	chat(&q, 3, "general", 1, 3000); /* upset: first, though it came last */
	chat(&q, 4, "orders", 0, 500);   /* another team: its own line */
	queue_sort(&q);
	/* upset first across teams, then by time: 3, 4, 1, 2 */
	assert_int_equal(q.v[0]->conv, 3);
	assert_int_equal(q.v[1]->conv, 4);
	assert_int_equal(q.v[2]->conv, 1);
	assert_int_equal(q.v[3]->conv, 2);
	assert_int_equal(queue_position(&q, queue_find(&q, 3)), 1);
	assert_int_equal(queue_position(&q, queue_find(&q, 1)), 2);
	assert_int_equal(queue_position(&q, queue_find(&q, 2)), 3);
	assert_int_equal(queue_position(&q, queue_find(&q, 4)), 1);
	/* an assigned chat has no place; those behind move up */
	queue_find(&q, 3)->agent = 9;
	assert_int_equal(queue_position(&q, queue_find(&q, 3)), 0);
	assert_int_equal(queue_position(&q, queue_find(&q, 1)), 1);
	/* handed off again while waiting: upset sticks, the place is kept */
	chat(&q, 2, "general", 1, 9999);
	queue_sort(&q);
	assert_int_equal(queue_find(&q, 2)->enqueued_at, 2000);
	assert_int_equal(queue_position(&q, queue_find(&q, 2)), 1);
	queue_remove(&q, 2);
	assert_null(queue_find(&q, 2));
	assert_int_equal(queue_position(&q, queue_find(&q, 1)), 1);
	queue_clear(&q);
}

static void test_eta(void **state)
{
	struct queue q;
	(void)state;
	queue_init(&q);
	chat(&q, 1, "general", 0, 1);
	chat(&q, 2, "general", 0, 2);
	queue_sort(&q);
	q.wait_ms = 60000;
	/* nobody online: a position is a whole average wait */
	assert_int_equal(queue_eta_sec(&q, queue_find(&q, 2)), 120);
	agent(&q, 1, "general", 2, 1);
	agent(&q, 2, "general", 2, 1);
	assert_int_equal(queue_eta_sec(&q, queue_find(&q, 2)), 60);
	queue_record_wait(&q, 10000);
	assert_true(q.wait_ms < 60000 && q.wait_ms > 10000);
	queue_clear(&q);
}

static void test_least_busy_with_room(void **state)
{
	struct queue q;
	struct queue_entry *e;
	struct queue_agent *a, *busy, *idle, *away;
	(void)state;
	queue_init(&q);
	busy = agent(&q, 1, "general", 3, 1);
	busy->assigned = 2;
	idle = agent(&q, 2, "general", 3, 1);
	idle->assigned = 1;
	idle->idle_since = 50;
	away = agent(&q, 3, "general", 3, 0);
	agent(&q, 4, "orders", 3, 1);
	chat(&q, 10, "general", 0, 1);
	queue_sort(&q);
	assert_int_equal(queue_next_offer(&q, &e, &a), 0);
	assert_int_equal(e->conv, 10);
	assert_ptr_equal(a, idle);
	(void)away;
	/* a tie goes to whoever has been idle longer */
	busy->assigned = 1;
	busy->idle_since = 10;
	assert_int_equal(queue_next_offer(&q, &e, &a), 0);
	assert_ptr_equal(a, busy);
	/* full agents get nothing; an offer out counts against room */
	busy->assigned = 3;
	idle->assigned = 2;
	idle->offered = 1;
	assert_int_equal(queue_next_offer(&q, &e, &a), -1);
	/* a chat with an offer out is not offered twice */
	idle->offered = 0;
	e->offered_to = 2;
	assert_int_equal(queue_next_offer(&q, &e, &a), -1);
	queue_clear(&q);
}

static void test_skipped_and_target(void **state)
{
	struct queue q;
	struct queue_entry *e, *x;
	struct queue_agent *a, *one, *two;
	(void)state;
	queue_init(&q);
	one = agent(&q, 1, "general", 1, 1);
	two = agent(&q, 2, "general", 1, 1);
	x = chat(&q, 10, "general", 0, 1);
	queue_sort(&q);
	/* one let its offer time out: two gets it, though one is less busy */
	x->skipped[x->n_skipped++] = 1;
	two->idle_since = 100;
	assert_int_equal(queue_next_offer(&q, &e, &a), 0);
	assert_ptr_equal(a, two);
	/* with two gone, one gets it again rather than nobody */
	two->online = 0;
	assert_int_equal(queue_next_offer(&q, &e, &a), 0);
	assert_ptr_equal(a, one);
	/* transferred to a named agent: only that one */
	two->online = 1;
	x->n_skipped = 0;
	x->target = 2;
	assert_int_equal(queue_next_offer(&q, &e, &a), 0);
	assert_ptr_equal(a, two);
	two->assigned = 1;
	assert_int_equal(queue_next_offer(&q, &e, &a), -1);
	queue_clear(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_positions),
		cmocka_unit_test(test_eta),
		cmocka_unit_test(test_least_busy_with_room),
		cmocka_unit_test(test_skipped_and_target),
	};
	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
