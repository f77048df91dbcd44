/* queue.c: the waiting line and who takes the next chat. See queue.h. */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define DEFAULT_WAIT_MS 60000.0  /* until there is a measured wait */
#define WAIT_ALPHA 0.2           /* weight of the newest wait in the average */

void queue_init(struct queue *q)
{
	memset(q, 0, sizeof(*q));
	q->wait_ms = DEFAULT_WAIT_MS;
}

static void entry_free(struct queue_entry *e)
{
	free(e->name);
	free(e->lang);
	free(e->team);
	free(e->reason);
	free(e);
}

void queue_clear(struct queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		entry_free(q->v[i]);
	free(q->v);
	for (size_t i = 0; i < q->n_agents; i++)
		free(q->agents[i]);
	free(q->agents);
	queue_init(q);
}

struct queue_entry *queue_add(struct queue *q, int64_t conv, const char *public_id,
			      const char *team, const char *reason, int upset, int64_t enqueued_at)
{
	struct queue_entry *e = queue_find(q, conv);

	if (e) { /* handed off again while queued: the newer reason, upset sticks */
		free(e->team);
		free(e->reason);
		e->team = xstrdup(team);
		e->reason = xstrdup(reason ? reason : "");
		e->upset |= upset;
		return e;
	}
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	e = xcalloc(1, sizeof(*e));
	e->conv = conv;
	strncpy(e->public_id, public_id, CONVERSATION_ID_LEN);
	e->team = xstrdup(team);
	e->reason = xstrdup(reason ? reason : "");
	e->upset = upset;
	e->enqueued_at = enqueued_at;
	q->v[q->n++] = e;
	return e;
}

struct queue_entry *queue_find(const struct queue *q, int64_t conv)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->v[i]->conv == conv)
			return q->v[i];
	return NULL;
}

void queue_remove(struct queue *q, int64_t conv)
{
	for (size_t i = 0; i < q->n; i++) {
		if (q->v[i]->conv != conv)
			continue;
		entry_free(q->v[i]);
		memmove(q->v + i, q->v + i + 1, (q->n - i - 1) * sizeof(*q->v));
		q->n--;
		return;
	}
}

static int before(const struct queue_entry *a, const struct queue_entry *b)
{
	if (a->upset != b->upset)
		return a->upset > b->upset;
	if (a->enqueued_at != b->enqueued_at)
		return a->enqueued_at < b->enqueued_at;
	return a->conv < b->conv;
}

static int cmp_entries(const void *x, const void *y)
{
	const struct queue_entry *a = *(struct queue_entry *const *)x;
	const struct queue_entry *b = *(struct queue_entry *const *)y;
	return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

void queue_sort(struct queue *q)
{
	if (q->n > 1)
		qsort(q->v, q->n, sizeof(*q->v), cmp_entries);
}

struct queue_agent *queue_agent_find(const struct queue *q, int64_t id)
{
	for (size_t i = 0; i < q->n_agents; i++)
		if (q->agents[i]->id == id)
			return q->agents[i];
	return NULL;
}

struct queue_agent *queue_agent_by_name(const struct queue *q, const char *name)
{
	for (size_t i = 0; i < q->n_agents; i++)
		if (!strcmp(q->agents[i]->name, name))
			return q->agents[i];
	return NULL;
}

struct queue_agent *queue_agent(struct queue *q, int64_t id)
{
	struct queue_agent *a = queue_agent_find(q, id);
	if (a)
		return a;
	if (q->n_agents == q->agents_cap) {
		q->agents_cap = q->agents_cap ? q->agents_cap * 2 : 8;
		q->agents = xrealloc(q->agents, q->agents_cap * sizeof(*q->agents));
	}
	a = xcalloc(1, sizeof(*a));
	a->id = id;
	a->capacity = 1;
	q->agents[q->n_agents++] = a;
	return a;
}

int queue_agent_in_team(const struct queue_agent *a, const char *team)
{
	for (size_t i = 0; i < a->n_teams; i++)
		if (!strcmp(a->teams[i], team))
			return 1;
	return 0;
}

size_t queue_agents_online(const struct queue *q, const char *team)
{
	size_t n = 0;
	for (size_t i = 0; i < q->n_agents; i++)
		n += q->agents[i]->online && queue_agent_in_team(q->agents[i], team);
	return n;
}

int queue_position(const struct queue *q, const struct queue_entry *e)
{
	int pos = 0;
	if (e->agent)
		return 0;
	for (size_t i = 0; i < q->n; i++) {
		const struct queue_entry *o = q->v[i];
		if (o->agent || strcmp(o->team, e->team))
			continue;
		pos++;
		if (o == e)
			return pos;
	}
	return 0;
}

int64_t queue_eta_sec(const struct queue *q, const struct queue_entry *e)
{
	size_t agents = queue_agents_online(q, e->team);
	int pos = queue_position(q, e);
	double ms = (double)pos * q->wait_ms / (double)(agents ? agents : 1);
	return (int64_t)(ms / 1000.0 + 0.5);
}

void queue_record_wait(struct queue *q, int64_t wait_ms)
{
	if (wait_ms < 0)
		wait_ms = 0;
	q->wait_ms = (1.0 - WAIT_ALPHA) * q->wait_ms + WAIT_ALPHA * (double)wait_ms;
}

static int skipped(const struct queue_entry *e, int64_t agent)
{
	for (size_t i = 0; i < e->n_skipped; i++)
		if (e->skipped[i] == agent)
			return 1;
	return 0;
}

static int has_room(const struct queue_agent *a)
{
	return a->online && a->assigned + a->offered < a->capacity;
}

/* a is a better pick than b (b may be NULL). */
static int better(const struct queue_agent *a, const struct queue_agent *b)
{
	if (!b)
		return 1;
	if (a->assigned != b->assigned)
		return a->assigned < b->assigned;
	if (a->idle_since != b->idle_since)
		return a->idle_since < b->idle_since;
	return a->id < b->id;
}

/* The agent for e: least busy with room in its team, not skipped; the
 * skipped ones only if nobody else could ever take it. */
static struct queue_agent *pick(const struct queue *q, const struct queue_entry *e)
{
	struct queue_agent *best = NULL, *fallback = NULL;
	int others = 0;

	for (size_t i = 0; i < q->n_agents; i++) {
		struct queue_agent *a = q->agents[i];
		if (!queue_agent_in_team(a, e->team) || (e->target && a->id != e->target))
			continue;
		if (!skipped(e, a->id)) {
			others += a->online;
			if (has_room(a) && better(a, best))
				best = a;
		} else if (has_room(a) && better(a, fallback)) {
			fallback = a;
		}
	}
	if (best)
		return best;
	return others ? NULL : fallback;
}

int queue_next_offer(const struct queue *q, struct queue_entry **e, struct queue_agent **a)
{
	for (size_t i = 0; i < q->n; i++) {
		struct queue_entry *x = q->v[i];
		struct queue_agent *who;
		if (x->agent || x->offered_to)
			continue;
		if ((who = pick(q, x))) {
			*e = x;
			*a = who;
			return 0;
		}
	}
	return -1;
}
