/* store.h: the durable store, behind a small job interface.
 *
 * Every read and write is a job. store_submit() hands a job to the store's
 * own thread, which runs whatever jobs are queued in one transaction and
 * commits them together (group commit). When the commit is done the job's
 * callback runs on the event loop thread, from store_dispatch(), in
 * submission order. So the loop never waits on the disk, and a callback
 * that sees STORE_OK knows its write is durable.
 *
 * This header is the whole interface: store.c implements it on SQLite in
 * WAL mode; another backend (a networked database) would implement the same
 * functions and job semantics without touching the protocol code.
 *
 * Sequence numbers are assigned here, inside the transaction, so that a
 * duplicate message id never consumes one. */
#ifndef SUPPORTD_STORE_H
#define SUPPORTD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "metrics.h"
#include "token.h"

typedef struct store store;

enum store_op {
	STORE_CREATE,     /* new conversation: public_id, token_hash, lang/name/email */
	STORE_RESUME,     /* find by token_hash, check ttl, update lang/name/email, replay */
	STORE_APPEND,     /* append a content frame: assigns seq, dedups client_id */
	STORE_CLIENT_ACK, /* remember the highest seq the client has shown */
	STORE_FLOWS_DUE,  /* flows to end (no answer in time) or recover (call cut off) */
	STORE_DESK_LOAD,  /* the queue as stored: every waiting and assigned chat */
	STORE_AGENT_GET,  /* an agent by name, and the open tickets of its teams */
	STORE_AGENT_ADD,  /* a new agent (supportd agent add) */
	STORE_AGENT_LIST, /* every agent not removed (supportd agent list) */
	STORE_AGENT_REMOVE, /* an agent leaves: never signs in again (supportd agent remove) */
	STORE_CONTEXT,    /* what an agent sees of a conversation */
	STORE_STATS,      /* the console's statistics since started_ms, as JSON in context */
	STORE_RATE,       /* a customer's thumb (desk.rating +1/-1) on the bot reply client_seq */
	STORE_UNANSWERED, /* the unanswered questions since started_ms, as JSON in context */
	STORE_REPLAY,     /* the next page of a conversation's frames after after_seq */
	STORE_AGENT_CHECK, /* agent.id's token hash now; NOT_FOUND once it was removed */
	STORE_TICKET_CLOSE, /* desk.ticket_id done by desk.agent_id, if in one of desk.team
			     * (team names separated by ','); out: desk.team, the ticket's */
};

/* A conversation's status (conversations.status). */
enum store_conv_status { STORE_CONV_BOT, STORE_CONV_QUEUED, STORE_CONV_AGENT, STORE_CONV_CLOSED };

/* What an APPEND changes at the support desk, with its frames. */
enum store_desk_op {
	STORE_DESK_NONE,
	STORE_DESK_ENQUEUE, /* into the queue: team, upset, reason; status "queued" */
	STORE_DESK_ASSIGN,  /* to agent_id; status "agent" */
	STORE_DESK_REQUEUE, /* back to waiting, for team; status "queued" */
	STORE_DESK_CLOSE,   /* out of the queue; resolution in text; status "closed" */
	STORE_DESK_REOPEN,  /* a closed chat goes back to the bot: status "bot" */
	STORE_DESK_NOTE,    /* an agent's note: agent_id, text */
	STORE_DESK_CSAT,    /* rating, comment in text */
	STORE_DESK_TICKET,  /* an offline ticket: team, email, text */
};

struct store_desk {
	enum store_desk_op op;
	char *team, *reason;        /* owned */
	int upset;
	int64_t agent_id;
	int64_t ticket_id;          /* TICKET_CLOSE; out of an APPEND's TICKET */
	char *text;                 /* owned: note, resolution, comment, ticket message */
	char *email;                /* owned: ticket */
	int rating;                 /* CSAT 1..5 */
};

/* A chat in the stored queue (STORE_DESK_LOAD). */
struct store_queued {
	int64_t conv;
	char public_id[CONVERSATION_ID_LEN + 1];
	char *name, *lang, *team, *reason; /* owned; name, lang may be NULL */
	int upset;
	int64_t enqueued_at;
	int64_t agent_id;           /* 0: waiting */
};

/* An offline ticket. */
struct store_ticket {
	int64_t id, conv, created_at;
	char public_id[CONVERSATION_ID_LEN + 1];
	char *team, *email, *message; /* owned */
};

/* An agent (STORE_AGENT_GET, _ADD, _LIST). */
struct store_agent {
	int64_t id;
	char *name;                 /* owned */
	char *teams;                /* owned: team names separated by ',' */
	int capacity;
	char *token_hash;           /* owned: Argon2id string (GET, CHECK, ADD in) */
};

/* What an APPEND does to the conversation's flow run. */
enum store_flow_op {
	STORE_FLOW_KEEP,  /* nothing */
	STORE_FLOW_SAVE,  /* insert or replace the run: flow_name, flow_log, flow_waiting */
	STORE_FLOW_END,   /* delete the run */
};

enum store_status {
	STORE_OK,
	STORE_DUPLICATE,  /* APPEND: client_id already stored; seq is the original */
	STORE_NOT_FOUND,  /* RESUME: unknown token; APPEND: unknown conversation */
	STORE_EXPIRED,    /* RESUME: idle longer than ttl_ms */
	STORE_FULL,       /* APPEND: the conversation has max_events frames */
	STORE_FAILED,     /* the database refused or the commit failed */
};

/* One stored content frame, as replayed. */
struct store_event {
	int64_t seq;
	char *body;       /* owned: the frame without its seq (wire_with_seq) */
	size_t body_len;
};

/* A frame appended right after an APPEND's own, and only if that one was
 * stored: the bot's replies to a customer message. */
struct store_extra {
	const char *kind;           /* static */
	char *body;                 /* owned */
	size_t body_len;
	int64_t seq;                /* out: its seq, 0 if not stored (full) */
};

/* A flow run found by STORE_FLOWS_DUE, with its conversation. */
struct store_due {
	int64_t conv;
	char public_id[CONVERSATION_ID_LEN + 1];
	char *lang, *name;          /* owned, may be NULL */
	char *flow_log;             /* owned */
	int waiting_http;           /* a call was in flight when the daemon stopped */
	int64_t deadline_ms;
};

#define STORE_DUE_MAX 64

/* A recent customer message id and its seq. */
struct store_recent {
	char *client_id;  /* owned */
	int64_t seq;
};

#define STORE_RECENT_MAX 16 /* as many as chat.c keeps (CONVERSATION_RECENT) */

struct store_job {
	enum store_op op;
	uint64_t conn_id;           /* caller's tag: the connection that asked */
	int64_t conv;               /* in: APPEND, CLIENT_ACK. out: CREATE, RESUME */
	char public_id[CONVERSATION_ID_LEN + 1]; /* in: CREATE. out: RESUME */
	unsigned char token_hash[TOKEN_HASH_BYTES]; /* in: CREATE, RESUME */
	char *lang, *name, *email;  /* owned. in: CREATE, RESUME (NULL keeps the
				       stored value). out: RESUME, the stored values */
	int64_t now_ms;             /* in: all */
	int64_t ttl_ms;             /* in: RESUME */
	int64_t after_seq;          /* in: RESUME, REPLAY: replay frames after it; < 0 none */
	size_t page_bytes;          /* in: RESUME, REPLAY: a page of frames stops past this
				       many bytes (at least one frame); 0: no limit */
	int64_t max_events;         /* in: APPEND */
	const char *kind;           /* in: APPEND: "message" or "reply" (static) */
	char *client_id;            /* owned. in: APPEND of a customer message */
	char *body;                 /* owned. in: APPEND */
	size_t body_len;
	struct store_extra *extra;  /* owned. in/out: APPEND */
	size_t n_extra;
	int64_t client_seq;         /* in: CLIENT_ACK */
	/* in: APPEND, applied with its frames (a body-less APPEND stores only
	 * the extras: the bot speaking on its own) */
	enum store_flow_op flow_op;
	char *flow_name, *flow_log; /* owned. SAVE */
	const char *flow_waiting;   /* static. SAVE: "answer" or "http" */
	int64_t flow_deadline_ms;   /* SAVE: waiting for an answer until then */
	char *slots;                /* owned JSON, or NULL to leave them */
	char *handoff_team;         /* owned. non-NULL records a handoff */
	char *handoff_reason;       /* owned */
	const char *handoff_source; /* static: who asked ("flow", "pipeline") */
	/* out: RESUME: the conversation's flow run, if any */
	char *run_log;              /* owned; NULL when there is none */
	int run_waiting_http;
	int64_t run_deadline_ms;
	int64_t started_ms;         /* in: FLOWS_DUE: calls older than this are cut off */
	struct store_due *due;      /* out: FLOWS_DUE, owned */
	size_t n_due;
	struct store_desk desk;     /* in: APPEND */
	const char *unanswered_kind;/* static. in: APPEND: the bot could not answer this message:
				       "fallback", "unsure", "clarify_rejected"; or NULL */
	char *unanswered_text, *unanswered_lang, *unanswered_candidates; /* owned; candidates JSON */
	char *set_lang;             /* owned. in: APPEND: the conversation's language, now
				       detected (bot.c), or NULL to leave it */
	char *mood;                 /* owned. in: APPEND: the mood trend as JSON, or NULL.
				       out: RESUME: the stored trend, or NULL */
	struct store_queued *queued;/* out: DESK_LOAD, owned */
	size_t n_queued;
	struct store_agent agent;   /* in: AGENT_ADD (and name for GET, REMOVE). out: GET */
	struct store_agent *agents; /* out: AGENT_LIST, owned */
	size_t n_agents;
	struct store_ticket *tickets;/* out: AGENT_GET (open tickets of its teams), owned */
	size_t n_tickets;
	char *context;              /* out: CONTEXT, STATS: a JSON object (docs/desk.md), owned */
	int conv_status;            /* out: RESUME: enum store_conv_status */
	void *user;                 /* the submitter's own data, freed with user_free */
	void (*user_free)(void *user);
	void (*after)(struct store_job *job, void *ud); /* the submitter's: run after done */
	void *after_ud;

	enum store_status status;   /* out */
	int64_t seq;                /* out: APPEND's seq; RESUME's last_seq */
	int64_t turns;              /* out: RESUME: customer messages stored */
	struct store_event *events; /* out: RESUME, REPLAY: the page of frames, owned */
	size_t n_events;
	int replay_more;            /* out: RESUME, REPLAY: frames after the page remain */
	struct store_recent *recent;/* out: RESUME, newest first, owned */
	size_t n_recent;

	/* private to the store */
	void (*done)(struct store_job *job, void *ud);
	void *ud;
	struct store_job *next;
};

struct store_options {
	const char *path;           /* database file */
	int synchronous_full;       /* fsync the WAL at every commit */
	int batch_max;              /* most jobs in one transaction */
};

/* Returns a new zeroed job. Aborts on allocation failure. */
struct store_job *store_job_new(enum store_op op);

/* The schema version this build migrates databases to. */
int store_schema_version(void);

/* Frees what an agent record holds and zeroes it. */
void store_agent_clear(struct store_agent *a);

/* Frees a job and everything it owns. NULL is fine. */
void store_job_free(struct store_job *job);

/* Opens the database, applies pending migrations and starts the store
 * thread. `wake(wake_ud)` is called from the store thread whenever jobs
 * finish; it must make the loop call store_dispatch() soon (it must be
 * thread-safe). Borrows lg and m for the store's lifetime. Returns NULL and
 * fills err on failure. */
store *store_open(const struct store_options *opt, const logger *lg, struct metrics *m,
		  void (*wake)(void *ud), void *wake_ud, char *err, size_t errlen);

/* Queues a job; takes ownership of it. done(job, ud) later runs on the
 * loop thread and takes ownership back (it frees the job, usually). */
void store_submit(store *st, struct store_job *job,
		  void (*done)(struct store_job *job, void *ud), void *ud);

/* Runs the callbacks of finished jobs. Loop thread only. */
void store_dispatch(store *st);

/* Jobs submitted whose callbacks have not run yet. */
long store_pending(const store *st);

/* 1 if the last commit succeeded (or none was tried), else 0. */
int store_healthy(const store *st);

/* Finishes every queued job, stops the thread and closes the database.
 * Callbacks of jobs not yet dispatched are not run; their jobs are freed. */
void store_close(store *st);

#endif
