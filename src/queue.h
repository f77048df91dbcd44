/* queue.h: the waiting line of handed-off chats and the agents who take
 * them: order, positions, estimated waits, and who gets the next offer.
 *
 * Plain data and decisions, no I/O: desk.c keeps it in step with the
 * store and the sockets. Order: upset customers first, then by time
 * waiting. A chat is offered to the least busy online agent of its team
 * with room (fewest chats, then idle longest, then lowest id); an agent
 * whose offer timed out is skipped for that chat while anyone else can
 * take it. Loop thread only. */
#ifndef SUPPORTD_QUEUE_H
#define SUPPORTD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "token.h"

#define QUEUE_TEAMS_MAX 8
#define QUEUE_NAME_MAX 64
#define QUEUE_SKIPPED_MAX 8

struct queue_agent {
	int64_t id;
	char name[QUEUE_NAME_MAX + 1];
	char teams[QUEUE_TEAMS_MAX][QUEUE_NAME_MAX + 1];
	size_t n_teams;
	int capacity;
	int online;                  /* logged in and present */
	int assigned;                /* chats it has */
	int offered;                 /* offers it has not answered */
	int64_t idle_since;          /* when its last chat ended or it logged in */
	char session[48];            /* the console's key for HTTP while logged in, "" if none */
};

struct queue_entry {
	int64_t conv;                /* the store's conversation id */
	char public_id[CONVERSATION_ID_LEN + 1];
	char *name, *lang;           /* owned, may be NULL */
	char *team, *reason;         /* owned */
	int upset;
	int64_t enqueued_at;         /* wall ms */
	int64_t agent;               /* assigned to, 0 while waiting */
	int64_t offered_to;          /* an offer is out to this agent, else 0 */
	int64_t offer_deadline;      /* wall ms */
	int64_t skipped[QUEUE_SKIPPED_MAX]; /* agents whose offer timed out */
	size_t n_skipped;
	int64_t target;              /* transferred to this agent only, else 0 */
	int64_t assigned_at;         /* wall ms an agent took it (this process), 0 unknown */
	int responded;               /* the agent has replied since */
	int last_position;           /* last told to the customer, 0 never */
	int64_t last_eta_sec;
	int requeueing;              /* its move back to the queue is being stored */
};

struct queue {
	struct queue_entry **v;      /* owned; waiting ones in order after queue_sort */
	size_t n, cap;
	struct queue_agent **agents; /* owned */
	size_t n_agents, agents_cap;
	double wait_ms;              /* moving average of waits until an agent took the chat */
};

void queue_init(struct queue *q);
void queue_clear(struct queue *q);

/* Adds a chat (strings copied). Returns it, owned by the queue. */
struct queue_entry *queue_add(struct queue *q, int64_t conv, const char *public_id,
			      const char *team, const char *reason, int upset, int64_t enqueued_at);
struct queue_entry *queue_find(const struct queue *q, int64_t conv);
void queue_remove(struct queue *q, int64_t conv);

/* Sorts the chats: upset first, then by enqueued_at, then conv. */
void queue_sort(struct queue *q);

/* The agent with id, or a new one with id (capacity 1, offline). */
struct queue_agent *queue_agent(struct queue *q, int64_t id);
struct queue_agent *queue_agent_find(const struct queue *q, int64_t id);
struct queue_agent *queue_agent_by_name(const struct queue *q, const char *name);
int queue_agent_in_team(const struct queue_agent *a, const char *team);

/* Online agents of team with room for another chat, and online at all. */
size_t queue_agents_online(const struct queue *q, const char *team);

/* 1-based place of a waiting chat among the waiting chats of its team
 * (after queue_sort), 0 if it is assigned. */
int queue_position(const struct queue *q, const struct queue_entry *e);

/* Estimated wait of a waiting chat, in seconds: its position times the
 * average wait, shared among the team's online agents. */
int64_t queue_eta_sec(const struct queue *q, const struct queue_entry *e);

/* Records how long a chat waited before an agent took it. */
void queue_record_wait(struct queue *q, int64_t wait_ms);

/* The next offer to make: the first waiting chat without an offer out
 * (after queue_sort) for which an agent is eligible, and that agent.
 * Returns 0 with *e and *a set, or -1 if no offer can be made. */
int queue_next_offer(const struct queue *q, struct queue_entry **e, struct queue_agent **a);

#endif
