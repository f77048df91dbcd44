/* conversation.h: conversations held in memory while someone is on them.
 *
 * A conversation is loaded when a connection says hello and freed when no
 * connection is attached and no store job for it is in flight; the store
 * has everything, so a later resume loads it again. The registry is keyed
 * by the store's conversation id. Loop thread only. */
#ifndef SUPPORTD_CONVERSATION_H
#define SUPPORTD_CONVERSATION_H

#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "flowlog.h"
#include "mood.h"
#include "token.h"
#include "wire.h"

#define CONVERSATION_RECENT 16

/* A customer message id seen lately, to answer a resent id at once. */
struct conversation_recent {
	char id[WIRE_ID_MAX + 1]; /* "" when the slot is free */
	int64_t seq;              /* 0 while its store job is in flight */
	int extra_acks;           /* resends seen while in flight */
};

struct conversation {
	int64_t id;               /* the store's id */
	char public_id[CONVERSATION_ID_LEN + 1];
	char *lang, *name, *email;/* owned, may be NULL */
	int lang_sure;            /* lang was given (hello, the store) or detected surely */
	char *lang_sample;        /* owned: its first messages, while the language is unsure */
	int64_t last_seq;         /* highest seq committed, as the loop knows it */
	int64_t client_seq;       /* highest seq the client acknowledged */
	int64_t turn;             /* customer messages handed to the pipeline */
	uint64_t conn_id;         /* attached connection, 0 if none */
	int pending;              /* store jobs in flight for it */
	struct conversation_recent *recent; /* owned ring, allocated on first use */
	size_t recent_next;
	/* its flow run, if any (bot.c): `flow` is the run as the bot has it,
	 * ahead of the store while jobs are in flight; `flow_stored` as last
	 * committed, to fall back on when a job fails */
	struct flowlog *flow;     /* owned, or NULL */
	int flow_http;            /* flow waits for a backend call */
	int64_t flow_deadline_ms; /* flow waits for an answer until then */
	struct flowlog *flow_stored; /* owned, or NULL */
	struct pipeline *flow_version; /* a reference (pipeline_hold): the content
				  * its live run started on; NULL when none */
	int flow_stored_http;
	int call_in_flight;       /* a backend call of this process is out */
	uint16_t call_gen;        /* tells a current call's reply from a stale one */
	char flow_msg_id[WIRE_ID_MAX + 1]; /* the last customer message: what later replies answer */
	int status;               /* enum store_conv_status: bot, queued, with an agent, closed */
	int unsure;               /* the bot's fallbacks in a row */
	struct mood_trend mood;   /* how upset the customer has been */
	char topic_team[65];      /* the team of the last thing the bot answered about */
	char *clarified;          /* owned: the question the bot last answered with "did you mean", or NULL */
	char *clarified_candidates; /* owned JSON: its candidates */
	UT_hash_handle hh;
};

struct conversations {
	struct conversation *by_id; /* uthash head */
	long count;
};

/* Returns the conversation or NULL. Borrowed. */
struct conversation *conversation_find(struct conversations *cs, int64_t id);

/* Adds a new, unattached conversation. The registry owns it. */
struct conversation *conversation_add(struct conversations *cs, int64_t id,
				      const char *public_id);

/* Replaces lang, name and email with copies of the non-NULL arguments. */
void conversation_set_details(struct conversation *c, const char *lang, const char *name,
			      const char *email);

/* Frees c if it has no connection and no job in flight. Returns 1 if freed. */
int conversation_release_if_idle(struct conversations *cs, struct conversation *c);

/* Recent message ids: find one, or record one (evicting the oldest). */
struct conversation_recent *conversation_recent_find(struct conversation *c, const char *id);
struct conversation_recent *conversation_recent_add(struct conversation *c, const char *id,
						    int64_t seq);

/* Frees the log in *slot (if any) and stores log (owned; may be NULL). */
void conversation_set_flow(struct flowlog **slot, struct flowlog *log);

/* Frees every conversation. */
void conversations_clear(struct conversations *cs);

#endif
