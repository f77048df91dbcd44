/* store.c: SQLite implementation of store.h.
 *
 * One connection, owned by main() until store_open() returns and by the
 * store thread from then on. The thread takes every queued job (up to
 * batch_max), runs them all in one IMMEDIATE transaction, commits once,
 * and hands the finished batch back to the loop. Jobs are not isolated
 * from each other: if the database fails one, the whole batch is rolled
 * back and every job in it reports STORE_FAILED (the clients send again).
 * The thread caches each conversation's last seq and turn count, so an
 * append writes without reading first; the cache is dropped with any
 * rolled-back batch. */
#include "store.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

/* ===== schema ===== */

/* Migrations, applied in order; PRAGMA user_version counts those applied.
 * Never edit one that has shipped: append a new one. */
static const char *const migrations[] = {
	/* 1: conversations and their content frames */
	"CREATE TABLE conversations ("
	"  id INTEGER PRIMARY KEY,"
	"  public_id TEXT NOT NULL UNIQUE,"
	"  token_hash BLOB NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  last_active_at INTEGER NOT NULL,"
	"  last_seq INTEGER NOT NULL DEFAULT 0,"
	"  client_seq INTEGER NOT NULL DEFAULT 0,"
	"  turns INTEGER NOT NULL DEFAULT 0,"
	"  lang TEXT, name TEXT, email TEXT);"
	/* one row per content frame, appended in commit order (rowid), so a
	 * commit writes few table pages however many conversations it
	 * touches; the index finds a conversation's frames. Message ids are
	 * unique per conversation: the store thread enforces that (struct
	 * idset) instead of a second index, which would add a page write per
	 * conversation to every commit. */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
	"  seq INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  client_id TEXT,"
	"  body TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX events_seq ON events(conversation_id, seq);",
	/* 2: flows (docs/flows.md) and handoffs. A conversation has at most
	 * one flow run; its log is what rebuilds it after a restart. */
	"ALTER TABLE conversations ADD COLUMN slots TEXT;"
	"CREATE TABLE flow_runs ("
	"  conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),"
	"  flow TEXT NOT NULL,"
	"  log TEXT NOT NULL,"
	"  waiting TEXT NOT NULL CHECK (waiting IN ('answer', 'http')),"
	"  deadline_ms INTEGER,"
	"  started_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX flow_runs_deadline ON flow_runs(deadline_ms);"
	"CREATE TABLE handoffs ("
	"  id INTEGER PRIMARY KEY,"
	"  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
	"  team TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX handoffs_conversation ON handoffs(conversation_id);",
	/* 3: the support desk (docs/desk.md): agents, the queue of handed-off
	 * chats (agent_id NULL while waiting), offline tickets, notes, and
	 * each conversation's status, mood trend, resolution and rating. */
	"ALTER TABLE conversations ADD COLUMN status TEXT NOT NULL DEFAULT 'bot';"
	"ALTER TABLE conversations ADD COLUMN mood TEXT;"
	"ALTER TABLE conversations ADD COLUMN resolution TEXT;"
	"ALTER TABLE conversations ADD COLUMN closed_at INTEGER;"
	"ALTER TABLE conversations ADD COLUMN csat INTEGER;"
	"ALTER TABLE conversations ADD COLUMN csat_comment TEXT;"
	"CREATE TABLE agents ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  teams TEXT NOT NULL,"
	"  capacity INTEGER NOT NULL,"
	"  token_hash TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE queue ("
	"  conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),"
	"  team TEXT NOT NULL,"
	"  upset INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  enqueued_at INTEGER NOT NULL,"
	"  agent_id INTEGER REFERENCES agents(id),"
	"  assigned_at INTEGER);"
	"CREATE TABLE tickets ("
	"  id INTEGER PRIMARY KEY,"
	"  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
	"  team TEXT NOT NULL,"
	"  email TEXT NOT NULL,"
	"  message TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  closed_at INTEGER);"
	"CREATE INDEX tickets_open ON tickets(team) WHERE closed_at IS NULL;"
	"CREATE TABLE notes ("
	"  id INTEGER PRIMARY KEY,"
	"  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
	"  agent_id INTEGER NOT NULL REFERENCES agents(id),"
	"  text TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX notes_conversation ON notes(conversation_id);",
	/* 4: every assignment, for the console's statistics (waits) */
	"CREATE TABLE assignments ("
	"  id INTEGER PRIMARY KEY,"
	"  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
	"  agent_id INTEGER NOT NULL,"
	"  team TEXT NOT NULL,"
	"  upset INTEGER NOT NULL,"
	"  enqueued_at INTEGER NOT NULL,"
	"  assigned_at INTEGER NOT NULL);"
	"CREATE INDEX assignments_at ON assignments(assigned_at);"
	"CREATE INDEX handoffs_at ON handoffs(created_at);"
	"CREATE INDEX conversations_created ON conversations(created_at);",
	/* 5: what the bot could not answer, and customers' thumbs on answers */
	"CREATE TABLE unanswered ("
	"  id INTEGER PRIMARY KEY,"
	"  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
	"  kind TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  lang TEXT,"
	"  candidates TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX unanswered_at ON unanswered(created_at);"
	"CREATE TABLE answer_ratings ("
	"  id INTEGER PRIMARY KEY,"
	"  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
	"  seq INTEGER NOT NULL,"
	"  source TEXT,"
	"  rating INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (conversation_id, seq));",
	/* 6: the statistics read events of a time range: without this index
	 * each one scanned every event ever stored, on the store thread,
	 * holding up every commit. created_at grows with the rowid, so its
	 * inserts land on the index's last page. */
	"CREATE INDEX events_created ON events(created_at);",
	/* 7: agents who left: kept for the history that names them, but never
	 * signed in again (supportd agent remove) */
	"ALTER TABLE agents ADD COLUMN removed_at INTEGER;",
	/* 8: a conversation's events are a chain, newest first: the
	 * conversation's last_event_id, then each event's prev_id. The index
	 * on (conversation_id, seq) it replaces put a scattered page into
	 * every commit for every conversation in it (about 4 KiB of WAL per
	 * message at 1,000 conversations, written again by each checkpoint);
	 * the chain adds nothing to an append but the row itself. Reads walk
	 * it back by rowid (CHAIN below). First responses still find an
	 * agent's events by conversation, through a partial index that only
	 * agents' events enter. */
	"ALTER TABLE events ADD COLUMN prev_id INTEGER;"
	"ALTER TABLE conversations ADD COLUMN last_event_id INTEGER;"
	"UPDATE events SET prev_id = w.prev FROM (SELECT id, lag(id) OVER"
	"  (PARTITION BY conversation_id ORDER BY seq) AS prev FROM events) AS w"
	"  WHERE w.id = events.id;"
	"UPDATE conversations SET last_event_id = (SELECT e.id FROM events e"
	"  WHERE e.conversation_id = conversations.id ORDER BY e.seq DESC LIMIT 1);"
	"CREATE INDEX events_agent ON events(conversation_id, created_at) WHERE kind = 'agent';"
	"DROP INDEX events_seq;",
	/* 9: who marked an offline message done */
	"ALTER TABLE tickets ADD COLUMN closed_by INTEGER REFERENCES agents(id);",
};

int store_schema_version(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_CREATE, S_FIND_TOKEN, S_TOUCH, S_REPLAY, S_RECENT,
	S_FIND_CLIENT_ID, S_CONV_STATE, S_CONV_IDS, S_SAVE_CONV_STATE, S_INSERT_EVENT, S_CLIENT_ACK,
	S_FLOW_SAVE, S_FLOW_END, S_FLOW_GET, S_SLOTS, S_HANDOFF, S_DUE,
	S_STATUS, S_Q_ENQUEUE, S_Q_ASSIGN, S_Q_REQUEUE, S_Q_DELETE, S_CLOSE, S_NOTE, S_CSAT,
	S_TICKET, S_SET_LANG, S_DESK_LOAD, S_AGENT_GET, S_AGENT_ADD, S_AGENT_REMOVE, S_AGENT_LIST, S_TICKETS,
	S_AGENT_HASH, S_TICKET_CLOSE,
	S_CTX_CONV, S_CTX_EVENTS, S_CTX_HANDOFF, S_CTX_NOTES, S_ASSIGNMENT,
	S_ST_CONVS, S_ST_REASONS, S_ST_CSAT, S_ST_CSAT_DAYS, S_ST_WAITS, S_ST_SOURCES,
	S_ST_KINDS, S_ST_CSAT_DIST, S_ST_FIRST_RESPONSE, S_ST_PER_HOUR,
	S_UNANSWERED, S_REPLY_AT, S_RATE, S_UNANSWERED_LIST,
	S__COUNT
};

/* The ids of conversation ?1's events, newest first, for as long as the
 * event just read satisfies `cond` (SQL over its columns as e.*; "" for
 * all): each step is one lookup by rowid. Used as "CHAIN(cond) SELECT ...
 * FROM chain c JOIN events e ON e.id = c.id". */
#define CHAIN(cond)                                                                       \
	"WITH RECURSIVE chain(id) AS (SELECT last_event_id FROM conversations WHERE id = ?1" \
	" UNION ALL SELECT e.prev_id FROM chain c JOIN events e ON e.id = c.id"             \
	" WHERE e.prev_id IS NOT NULL" cond ") "

static const char *const stmt_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_CREATE] = "INSERT INTO conversations(public_id, token_hash, created_at,"
		     " last_active_at, lang, name, email) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)",
	[S_FIND_TOKEN] = "SELECT id, public_id, last_active_at, last_seq, lang, name, email,"
			 " token_hash, turns, status, mood FROM conversations WHERE token_hash = ?1",
	[S_TOUCH] = "UPDATE conversations SET last_active_at = ?2, lang = coalesce(?3, lang),"
		    " name = coalesce(?4, name), email = coalesce(?5, email) WHERE id = ?1"
		    " RETURNING lang, name, email",
	[S_REPLAY] = CHAIN(" AND e.seq > ?2") "SELECT e.seq, e.body FROM chain c"
		     " JOIN events e ON e.id = c.id WHERE e.seq > ?2 ORDER BY e.seq",
	/* the walk stops at the ?2-th customer message */
	[S_RECENT] = "WITH RECURSIVE chain(id, n) AS (SELECT last_event_id, 0 FROM conversations"
		     " WHERE id = ?1 UNION ALL SELECT e.prev_id, c.n + (e.client_id IS NOT NULL)"
		     " FROM chain c JOIN events e ON e.id = c.id WHERE e.prev_id IS NOT NULL"
		     " AND c.n + (e.client_id IS NOT NULL) < ?2) SELECT e.client_id, e.seq"
		     " FROM chain c JOIN events e ON e.id = c.id WHERE e.client_id IS NOT NULL"
		     " ORDER BY e.seq DESC LIMIT ?2",
	/* the walk stops at the message */
	[S_FIND_CLIENT_ID] = CHAIN(" AND e.client_id IS NOT ?2") "SELECT e.seq,"
			     " json_extract(e.body, '$.text') FROM chain c JOIN events e"
			     " ON e.id = c.id WHERE e.client_id = ?2",
	[S_CONV_STATE] = "SELECT last_seq, turns, last_event_id FROM conversations WHERE id = ?1",
	[S_CONV_IDS] = CHAIN("") "SELECT e.client_id FROM chain c JOIN events e ON e.id = c.id"
		       " WHERE e.client_id IS NOT NULL",
	[S_SAVE_CONV_STATE] = "UPDATE conversations SET last_seq = ?2, turns = ?3,"
			      " last_active_at = ?4, mood = coalesce(?5, mood), last_event_id = ?6"
			      " WHERE id = ?1",
	[S_INSERT_EVENT] = "INSERT INTO events(conversation_id, seq, kind, client_id, body,"
			   " created_at, prev_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_CLIENT_ACK] = "UPDATE conversations SET client_seq = max(client_seq, ?2)"
			 " WHERE id = ?1 AND ?2 <= last_seq",
	[S_FLOW_SAVE] = "INSERT INTO flow_runs(conversation_id, flow, log, waiting, deadline_ms,"
			" started_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"
			" ON CONFLICT(conversation_id) DO UPDATE SET flow = ?2, log = ?3,"
			" waiting = ?4, deadline_ms = ?5, updated_at = ?6",
	[S_FLOW_END] = "DELETE FROM flow_runs WHERE conversation_id = ?1",
	[S_FLOW_GET] = "SELECT log, waiting, deadline_ms FROM flow_runs WHERE conversation_id = ?1",
	/* merged (RFC 7396): a flow started later keeps what earlier ones learned */
	[S_SLOTS] = "UPDATE conversations SET slots = json_patch(coalesce(slots, '{}'), ?2)"
		    " WHERE id = ?1",
	[S_HANDOFF] = "INSERT INTO handoffs(conversation_id, team, reason, source, created_at)"
		      " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_DUE] = "SELECT c.id, c.public_id, c.lang, c.name, f.log, f.waiting, f.deadline_ms"
		  " FROM flow_runs f JOIN conversations c ON c.id = f.conversation_id"
		  " WHERE (f.waiting = 'answer' AND f.deadline_ms <= ?1)"
		  " OR (f.waiting = 'http' AND f.updated_at < ?2)"
		  " ORDER BY f.deadline_ms LIMIT ?3",
	[S_STATUS] = "UPDATE conversations SET status = ?2 WHERE id = ?1",
	[S_Q_ENQUEUE] = "INSERT INTO queue(conversation_id, team, upset, reason, enqueued_at)"
			" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(conversation_id) DO UPDATE SET"
			" team = ?2, upset = max(upset, ?3), reason = ?4, agent_id = NULL,"
			" assigned_at = NULL",
	[S_Q_ASSIGN] = "UPDATE queue SET agent_id = ?2, assigned_at = ?3 WHERE conversation_id = ?1",
	[S_Q_REQUEUE] = "UPDATE queue SET agent_id = NULL, assigned_at = NULL,"
			" team = coalesce(?2, team) WHERE conversation_id = ?1",
	[S_Q_DELETE] = "DELETE FROM queue WHERE conversation_id = ?1",
	[S_CLOSE] = "UPDATE conversations SET status = 'closed', resolution = ?2, closed_at = ?3"
		    " WHERE id = ?1",
	[S_NOTE] = "INSERT INTO notes(conversation_id, agent_id, text, created_at)"
		   " VALUES (?1, ?2, ?3, ?4)",
	[S_CSAT] = "UPDATE conversations SET csat = ?2, csat_comment = ?3 WHERE id = ?1",
	[S_TICKET] = "INSERT INTO tickets(conversation_id, team, email, message, created_at)"
		     " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_SET_LANG] = "UPDATE conversations SET lang = ?2 WHERE id = ?1",
	[S_DESK_LOAD] = "SELECT q.conversation_id, c.public_id, c.name, c.lang, q.team, q.reason,"
			" q.upset, q.enqueued_at, q.agent_id FROM queue q"
			" JOIN conversations c ON c.id = q.conversation_id"
			" ORDER BY q.upset DESC, q.enqueued_at",
	[S_AGENT_GET] = "SELECT id, name, teams, capacity, token_hash FROM agents WHERE name = ?1"
			" AND removed_at IS NULL",
	[S_AGENT_ADD] = "INSERT INTO agents(name, teams, capacity, token_hash, created_at)"
			" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO UPDATE SET teams = ?2,"
			" capacity = ?3, token_hash = ?4, removed_at = NULL RETURNING id",
	/* the hash goes too: a removed agent's token matches nothing */
	[S_AGENT_REMOVE] = "UPDATE agents SET removed_at = ?2, token_hash = '' WHERE name = ?1"
			   " AND removed_at IS NULL",
	[S_AGENT_HASH] = "SELECT token_hash FROM agents WHERE id = ?1 AND removed_at IS NULL",
	[S_TICKET_CLOSE] = "UPDATE tickets SET closed_at = ?3, closed_by = ?4 WHERE id = ?1"
			   " AND closed_at IS NULL AND instr(',' || ?2 || ',', ',' || team || ',') > 0"
			   " RETURNING team",
	[S_AGENT_LIST] = "SELECT id, name, teams, capacity FROM agents WHERE removed_at IS NULL"
			 " ORDER BY name",
	[S_TICKETS] = "SELECT t.id, t.conversation_id, c.public_id, t.team, t.email, t.message,"
		      " t.created_at FROM tickets t JOIN conversations c ON c.id = t.conversation_id"
		      " WHERE t.closed_at IS NULL AND instr(',' || ?1 || ',', ',' || t.team || ',') > 0"
		      " ORDER BY t.id LIMIT 200",
	[S_CTX_CONV] = "SELECT public_id, name, email, lang, slots, mood, status FROM conversations"
		       " WHERE id = ?1",
	[S_CTX_EVENTS] = CHAIN("") "SELECT e.seq, e.body FROM chain c JOIN events e"
			 " ON e.id = c.id ORDER BY e.seq",
	[S_CTX_HANDOFF] = "SELECT team, reason, source, created_at FROM handoffs"
			  " WHERE conversation_id = ?1 ORDER BY id DESC LIMIT 1",
	[S_CTX_NOTES] = "SELECT a.name, n.text, n.created_at FROM notes n"
			" LEFT JOIN agents a ON a.id = n.agent_id WHERE n.conversation_id = ?1"
			" ORDER BY n.id",
	[S_ASSIGNMENT] = "INSERT INTO assignments(conversation_id, agent_id, team, upset, enqueued_at,"
			 " assigned_at) SELECT conversation_id, ?2, team, upset, enqueued_at, ?3"
			 " FROM queue WHERE conversation_id = ?1",
	[S_ST_CONVS] = "SELECT count(*), sum(NOT EXISTS (SELECT 1 FROM handoffs h"
		       " WHERE h.conversation_id = c.id)) FROM conversations c"
		       " WHERE c.created_at >= ?1 AND c.turns > 0",
	/* a reason's kind: what comes before its details "(...)" or ": ..." */
	[S_ST_REASONS] = "SELECT kind, count(*) FROM (SELECT rtrim(CASE WHEN instr(r, ':') > 0"
			 " THEN substr(r, 1, instr(r, ':') - 1) ELSE r END) AS kind FROM"
			 " (SELECT CASE WHEN instr(reason, '(') > 0 THEN substr(reason, 1,"
			 " instr(reason, '(') - 1) ELSE reason END AS r FROM handoffs"
			 " WHERE created_at >= ?1)) GROUP BY kind ORDER BY 2 DESC LIMIT 12",
	[S_ST_CSAT] = "SELECT avg(csat), count(csat) FROM conversations WHERE closed_at >= ?1"
		      " AND csat IS NOT NULL",
	[S_ST_CSAT_DAYS] = "SELECT date(closed_at / 1000, 'unixepoch'), avg(csat), count(*)"
			   " FROM conversations WHERE closed_at >= ?1 AND csat IS NOT NULL"
			   " GROUP BY 1 ORDER BY 1",
	[S_ST_WAITS] = "SELECT assigned_at - enqueued_at FROM assignments WHERE assigned_at >= ?1"
		       " ORDER BY 1 LIMIT 100000",
	[S_ST_KINDS] = "SELECT CASE WHEN instr(src, ':') > 0 THEN substr(src, 1, instr(src, ':') - 1)"
		       " ELSE src END AS kind, count(*) FROM (SELECT json_extract(body, '$.source')"
		       " AS src FROM events WHERE created_at >= ?1 AND kind <> 'message')"
		       " GROUP BY kind ORDER BY 2 DESC, kind",
	[S_ST_CSAT_DIST] = "SELECT csat, count(*) FROM conversations WHERE closed_at >= ?1"
			   " AND csat BETWEEN 1 AND 5 GROUP BY csat",
	[S_ST_FIRST_RESPONSE] = "SELECT r FROM (SELECT (SELECT min(e.created_at) FROM events e"
				" WHERE e.conversation_id = a.conversation_id AND e.kind = 'agent'"
				" AND e.created_at >= a.assigned_at) - a.assigned_at AS r"
				" FROM assignments a WHERE a.assigned_at >= ?1) WHERE r IS NOT NULL"
				" ORDER BY r LIMIT 100000",
	[S_UNANSWERED] = "INSERT INTO unanswered(conversation_id, kind, text, lang, candidates,"
			 " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* a thumb on a bot reply: the reply's source, and (thumbs down) its
	 * question goes to the unanswered list with the reply's source */
	[S_REPLY_AT] = CHAIN(" AND e.seq > ?2") "SELECT json_extract(e.body, '$.source'),"
		       " json_extract(e.body, '$.in_reply_to') FROM chain c JOIN events e"
		       " ON e.id = c.id WHERE e.seq = ?2 AND e.kind = 'reply'",
	[S_RATE] = "INSERT INTO answer_ratings(conversation_id, seq, source, rating, created_at)"
		   " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(conversation_id, seq)"
		   " DO UPDATE SET source = ?3, rating = ?4, created_at = ?5",
	[S_UNANSWERED_LIST] = "SELECT kind, text, lang, candidates FROM unanswered"
			      " WHERE created_at >= ?1 ORDER BY id LIMIT 20000",
	[S_ST_PER_HOUR] = "SELECT strftime('%Y-%m-%dT%H:00Z', created_at / 1000, 'unixepoch'),"
			  " count(*) FROM conversations WHERE created_at >= ?1 AND turns > 0"
			  " GROUP BY 1 ORDER BY 1",
	[S_ST_SOURCES] = "SELECT src, count(*) FROM (SELECT json_extract(body, '$.source') AS src"
			 " FROM events WHERE created_at >= ?1 AND kind = 'reply') WHERE src LIKE ?2"
			 " GROUP BY src ORDER BY 2 DESC, src LIMIT 10",
};

/* The message ids of one conversation, as SipHash values in an open
 * addressing table (0 marks a free slot). A hit is confirmed against the
 * database, so a hash collision can never drop a message. */
struct idset {
	uint64_t *slots;
	size_t cap, n;            /* cap is a power of two, or 0 */
};

/* What the store thread knows of a conversation it wrote to lately: its
 * last seq, turn count and every message id, so an append needs no read
 * and no unique index. Thread-owned; dropped whole when a batch fails or
 * the cache holds more than CACHE_IDS_MAX ids. */
struct conv_state {
	int64_t conv;
	int64_t last_seq;
	int64_t turns;
	int64_t last_event;       /* rowid of its newest event, 0 if none */
	struct idset ids;
	UT_hash_handle hh;
};
#define CACHE_IDS_MAX (1 << 21)

/* WAL pages after which the checkpointer copies the WAL into the database.
 * Checkpoints run on their own thread and connection, PASSIVE, so that a
 * commit never waits for one (SQLite's automatic checkpoint would run
 * inside the commit that crosses the threshold). */
#define CHECKPOINT_PAGES 16384
/* A writer that never pauses keeps the WAL from ever starting over: the
 * checkpointer is always a few commits behind. Past this size the store
 * thread, between two batches, runs a PASSIVE checkpoint itself; the
 * checkpointer has copied nearly everything already, so it is short, and
 * the next transaction then starts the WAL from its beginning. */
#define CHECKPOINT_RESTART_PAGES 65536

struct store {
	sqlite3 *db;
	struct conv_state *states;    /* uthash by conv; store thread only */
	size_t cached_ids;            /* ids held by all of states */
	unsigned char id_key[crypto_shorthash_KEYBYTES]; /* random per process */
	int wal_pages;                /* WAL size after the last commit */                  /* owned by the thread once started */
	sqlite3_stmt *stmt[S__COUNT];
	const logger *lg;             /* borrowed */
	struct metrics *metrics;      /* borrowed */
	int batch_max;
	void (*wake)(void *ud);
	void *wake_ud;

	pthread_t thread;
	sqlite3 *ckpt_db;             /* the checkpointer's own connection */
	pthread_t ckpt_thread;
	pthread_mutex_t ckpt_lock;    /* guards ckpt_wanted and ckpt_stopping */
	pthread_cond_t ckpt_cond;
	int ckpt_wanted, ckpt_stopping;
	pthread_mutex_t lock;         /* guards the two lists and stopping */
	pthread_cond_t cond;
	struct store_job *queue_head, *queue_tail; /* submitted, not yet run */
	struct store_job *done_head, *done_tail;   /* run, callbacks pending */
	int stopping;
	int idle;                     /* the thread is waiting for work */
	atomic_long pending;
	atomic_int healthy;

	/* the reader: reports, off the store thread (run_report) */
	sqlite3 *reader_db;           /* read-only; the reader thread's once started */
	sqlite3_stmt *reader_stmt[S__COUNT]; /* the reports' statements only */
	pthread_t reader_thread;
	int reader_started;
	pthread_cond_t reader_cond;   /* with lock */
	struct store_job *reports_head, *reports_tail; /* under lock */
};

/* ===== jobs ===== */

struct store_job *store_job_new(enum store_op op)
{
	struct store_job *j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	j->op = op;
	j->after_seq = -1;
	return j;
}

static void free_results(struct store_job *j)
{
	for (size_t i = 0; i < j->n_extra; i++)
		j->extra[i].seq = 0;
	for (size_t i = 0; i < j->n_events; i++)
		free(j->events[i].body);
	free(j->events);
	j->events = NULL;
	j->n_events = 0;
	for (size_t i = 0; i < j->n_recent; i++)
		free(j->recent[i].client_id);
	free(j->recent);
	j->recent = NULL;
	j->n_recent = 0;
	free(j->run_log);
	j->run_log = NULL;
	for (size_t i = 0; i < j->n_due; i++) {
		free(j->due[i].lang);
		free(j->due[i].name);
		free(j->due[i].flow_log);
	}
	free(j->due);
	j->due = NULL;
	j->n_due = 0;
	for (size_t i = 0; i < j->n_queued; i++) {
		free(j->queued[i].name);
		free(j->queued[i].lang);
		free(j->queued[i].team);
		free(j->queued[i].reason);
	}
	free(j->queued);
	j->queued = NULL;
	j->n_queued = 0;
	for (size_t i = 0; i < j->n_agents; i++)
		store_agent_clear(&j->agents[i]);
	free(j->agents);
	j->agents = NULL;
	j->n_agents = 0;
	for (size_t i = 0; i < j->n_tickets; i++) {
		free(j->tickets[i].team);
		free(j->tickets[i].email);
		free(j->tickets[i].message);
	}
	free(j->tickets);
	j->tickets = NULL;
	j->n_tickets = 0;
	free(j->context);
	j->context = NULL;
	if (j->op == STORE_AGENT_GET) { /* its agent is an output */
		char *name = j->agent.name;
		j->agent.name = NULL;
		store_agent_clear(&j->agent);
		j->agent.name = name;
	}
	if (j->op == STORE_AGENT_CHECK) { /* its hash is an output */
		free(j->agent.token_hash);
		j->agent.token_hash = NULL;
	}
}

void store_agent_clear(struct store_agent *a)
{
	free(a->name);
	free(a->teams);
	free(a->token_hash);
	memset(a, 0, sizeof(*a));
}

void store_job_free(struct store_job *j)
{
	if (!j)
		return;
	free_results(j);
	free(j->lang);
	free(j->name);
	free(j->email);
	free(j->client_id);
	free(j->body);
	for (size_t i = 0; i < j->n_extra; i++)
		free(j->extra[i].body);
	free(j->extra);
	free(j->flow_name);
	free(j->flow_log);
	free(j->slots);
	free(j->handoff_team);
	free(j->handoff_reason);
	free(j->desk.team);
	free(j->desk.reason);
	free(j->desk.text);
	free(j->desk.email);
	free(j->mood);
	free(j->set_lang);
	free(j->unanswered_text);
	free(j->unanswered_lang);
	free(j->unanswered_candidates);
	store_agent_clear(&j->agent);
	if (j->user_free)
		j->user_free(j->user);
	free(j);
}

static char *dup_column(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	char *r;
	if (!t)
		return NULL;
	r = strdup((const char *)t);
	if (!r)
		abort();
	return r;
}

static void bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Steps a statement that returns no rows, then resets it. 0 or -1. */
static int exec_stmt(store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		log_error(st->lg, "store_error", "stmt=%d rc=%d err=\"%s\"", (int)id, rc,
			  sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static void finish(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static int run_create(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_CREATE];
	sqlite3_bind_text(s, 1, j->public_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, j->token_hash, TOKEN_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, j->now_ms);
	bind_opt_text(s, 4, j->lang);
	bind_opt_text(s, 5, j->name);
	bind_opt_text(s, 6, j->email);
	if (exec_stmt(st, S_CREATE))
		return -1;
	j->conv = sqlite3_last_insert_rowid(st->db);
	j->seq = 0;
	return 0;
}

static struct conv_state *conv_state(store *st, int64_t conv);

/* The frames of j->conv after j->after_seq, up to j->seq (the last), in
 * order: a page that stops once it holds j->page_bytes (at least one
 * frame), with j->replay_more set when frames remain. */
static int load_page(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_REPLAY];
	size_t cap = (size_t)(j->seq - j->after_seq), bytes = 0;
	int rc;

	j->events = calloc(cap, sizeof(*j->events));
	if (!j->events)
		abort();
	sqlite3_bind_int64(s, 1, j->conv);
	sqlite3_bind_int64(s, 2, j->after_seq);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && j->n_events < cap) {
		struct store_event *e;
		if (j->page_bytes && j->n_events && bytes >= j->page_bytes) {
			j->replay_more = 1;
			break;
		}
		e = &j->events[j->n_events++];
		e->seq = sqlite3_column_int64(s, 0);
		e->body = dup_column(s, 1);
		e->body_len = (size_t)sqlite3_column_bytes(s, 1);
		bytes += e->body_len;
	}
	finish(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* The next page after j->after_seq of j->conv, whose last seq is read here. */
static int run_replay(store *st, struct store_job *j)
{
	struct conv_state *c = conv_state(st, j->conv);

	if (!c) {
		j->status = STORE_NOT_FOUND;
		return 0;
	}
	j->seq = c->last_seq;
	if (j->after_seq < 0 || j->after_seq >= j->seq)
		return 0;
	return load_page(st, j);
}

static int run_resume(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_FIND_TOKEN];
	int64_t last_active;
	int rc;

	sqlite3_bind_blob(s, 1, j->token_hash, TOKEN_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		finish(s);
		j->status = STORE_NOT_FOUND;
		return 0;
	}
	if (rc != SQLITE_ROW || sqlite3_column_bytes(s, 7) != TOKEN_HASH_BYTES ||
	    !token_hash_equal(sqlite3_column_blob(s, 7), j->token_hash)) {
		finish(s);
		if (rc == SQLITE_ROW) {
			j->status = STORE_NOT_FOUND;
			return 0;
		}
		return -1;
	}
	j->conv = sqlite3_column_int64(s, 0);
	snprintf(j->public_id, sizeof(j->public_id), "%s", (const char *)sqlite3_column_text(s, 1));
	last_active = sqlite3_column_int64(s, 2);
	j->seq = sqlite3_column_int64(s, 3);
	j->turns = sqlite3_column_int64(s, 8);
	{
		const char *status = (const char *)sqlite3_column_text(s, 9);
		j->conv_status = !status ? STORE_CONV_BOT
			       : !strcmp(status, "queued") ? STORE_CONV_QUEUED
			       : !strcmp(status, "agent") ? STORE_CONV_AGENT
			       : !strcmp(status, "closed") ? STORE_CONV_CLOSED
							   : STORE_CONV_BOT;
	}
	free(j->mood);
	j->mood = dup_column(s, 10);
	finish(s);
	if (j->now_ms - last_active > j->ttl_ms) {
		j->status = STORE_EXPIRED;
		return 0;
	}

	/* refresh activity and the customer's details, read them back */
	s = st->stmt[S_TOUCH];
	sqlite3_bind_int64(s, 1, j->conv);
	sqlite3_bind_int64(s, 2, j->now_ms);
	bind_opt_text(s, 3, j->lang);
	bind_opt_text(s, 4, j->name);
	bind_opt_text(s, 5, j->email);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		finish(s);
		return -1;
	}
	free(j->lang);
	free(j->name);
	free(j->email);
	j->lang = dup_column(s, 0);
	j->name = dup_column(s, 1);
	j->email = dup_column(s, 2);
	finish(s);

	if (j->after_seq >= 0 && j->after_seq < j->seq && load_page(st, j) < 0)
		return -1;

	s = st->stmt[S_FLOW_GET];
	sqlite3_bind_int64(s, 1, j->conv);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		j->run_log = dup_column(s, 0);
		j->run_waiting_http = !strcmp((const char *)sqlite3_column_text(s, 1), "http");
		j->run_deadline_ms = sqlite3_column_int64(s, 2);
	}
	finish(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;

	s = st->stmt[S_RECENT];
	j->recent = calloc(STORE_RECENT_MAX, sizeof(*j->recent));
	if (!j->recent)
		abort();
	sqlite3_bind_int64(s, 1, j->conv);
	sqlite3_bind_int(s, 2, STORE_RECENT_MAX);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && j->n_recent < STORE_RECENT_MAX) {
		j->recent[j->n_recent].client_id = dup_column(s, 0);
		j->recent[j->n_recent].seq = sqlite3_column_int64(s, 1);
		j->n_recent++;
	}
	finish(s);
	return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : -1;
}

static uint64_t id_hash(const store *st, const char *id)
{
	uint64_t h;
	crypto_shorthash((unsigned char *)&h, (const unsigned char *)id, strlen(id), st->id_key);
	return h ? h : 1;
}

/* 1 if h is in the set. */
static int idset_has(const struct idset *s, uint64_t h)
{
	if (!s->cap)
		return 0;
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == h)
			return 1;
		if (!s->slots[i])
			return 0;
	}
}

static void idset_add(struct idset *s, uint64_t h)
{
	if ((s->n + 1) * 2 > s->cap) { /* keep it at most half full */
		struct idset bigger = {NULL, s->cap ? s->cap * 2 : 16, 0};
		bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
		if (!bigger.slots)
			abort();
		for (size_t i = 0; i < s->cap; i++)
			if (s->slots[i])
				idset_add(&bigger, s->slots[i]);
		free(s->slots);
		*s = bigger;
	}
	size_t i = h & (s->cap - 1);
	while (s->slots[i] && s->slots[i] != h)
		i = (i + 1) & (s->cap - 1);
	if (!s->slots[i]) {
		s->slots[i] = h;
		s->n++;
	}
}

static void forget_states(store *st)
{
	struct conv_state *c, *tmp;
	HASH_ITER(hh, st->states, c, tmp) {
		HASH_DEL(st->states, c);
		free(c->ids.slots);
		free(c);
	}
	st->cached_ids = 0;
}

/* The conversation's seq, turns and ids, from the cache or the database.
 * NULL if it does not exist or a read failed. */
static struct conv_state *conv_state(store *st, int64_t conv)
{
	struct conv_state *c = NULL;
	sqlite3_stmt *s;
	int rc;

	HASH_FIND(hh, st->states, &conv, sizeof(conv), c);
	if (c)
		return c;
	if (st->cached_ids > CACHE_IDS_MAX)
		forget_states(st);
	s = st->stmt[S_CONV_STATE];
	sqlite3_bind_int64(s, 1, conv);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c = calloc(1, sizeof(*c));
		if (!c)
			abort();
		c->conv = conv;
		c->last_seq = sqlite3_column_int64(s, 0);
		c->turns = sqlite3_column_int64(s, 1);
		c->last_event = sqlite3_column_int64(s, 2);
	}
	finish(s);
	if (!c)
		return NULL;
	s = st->stmt[S_CONV_IDS];
	sqlite3_bind_int64(s, 1, conv);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		idset_add(&c->ids, id_hash(st, (const char *)sqlite3_column_text(s, 0)));
	finish(s);
	if (rc != SQLITE_DONE) {
		free(c->ids.slots);
		free(c);
		return NULL;
	}
	st->cached_ids += c->ids.n;
	HASH_ADD(hh, st->states, conv, sizeof(c->conv), c);
	return c;
}

/* Inserts one frame of c's conversation at `seq`, as the newest link of
 * its chain. Returns 0 or -1 on a database error. */
static int insert_event(store *st, const struct store_job *j, struct conv_state *c, int64_t seq,
			const char *kind, const char *client_id, const char *body, size_t body_len)
{
	sqlite3_stmt *s = st->stmt[S_INSERT_EVENT];

	sqlite3_bind_int64(s, 1, j->conv);
	sqlite3_bind_int64(s, 2, seq);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	bind_opt_text(s, 4, client_id);
	sqlite3_bind_text(s, 5, body, (int)body_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, j->now_ms);
	if (c->last_event)
		sqlite3_bind_int64(s, 7, c->last_event);
	else
		sqlite3_bind_null(s, 7);
	if (exec_stmt(st, S_INSERT_EVENT))
		return -1;
	c->last_event = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* Looks a customer message id up. Returns 1 with *seq (and *text, when
 * asked: the message's text, owned by the caller) set, 0 if absent, -1 on
 * a database error. */
static int find_client_id(store *st, int64_t conv, const char *client_id, int64_t *seq,
			  char **text)
{
	sqlite3_stmt *s = st->stmt[S_FIND_CLIENT_ID];
	int rc;

	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_text(s, 2, client_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		if (text)
			*text = dup_column(s, 1);
	}
	finish(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int run_bot_state(store *st, struct store_job *j);
static json_t *text_column(sqlite3_stmt *s, int col);

static int insert_unanswered(store *st, int64_t conv, const char *kind, const char *text,
			     const char *lang, const char *candidates, int64_t now)
{
	sqlite3_stmt *s = st->stmt[S_UNANSWERED];
	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, text ? text : "", -1, SQLITE_STATIC);
	bind_opt_text(s, 4, lang);
	sqlite3_bind_text(s, 5, candidates ? candidates : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	return exec_stmt(st, S_UNANSWERED);
}

/* A thumb on a bot reply; a thumbs down puts its question on the list. */
static int run_rate(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_REPLY_AT];
	char *source = NULL, *in_reply_to = NULL, *question = NULL, cands[300];
	int64_t question_seq;
	int rc;

	sqlite3_bind_int64(s, 1, j->conv);
	sqlite3_bind_int64(s, 2, j->client_seq);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		source = dup_column(s, 0);
		in_reply_to = dup_column(s, 1);
	}
	finish(s);
	if (rc == SQLITE_DONE) {
		j->status = STORE_NOT_FOUND; /* no bot reply with that seq */
		return 0;
	}
	if (rc != SQLITE_ROW)
		return -1;
	s = st->stmt[S_RATE];
	sqlite3_bind_int64(s, 1, j->conv);
	sqlite3_bind_int64(s, 2, j->client_seq);
	bind_opt_text(s, 3, source);
	sqlite3_bind_int(s, 4, j->desk.rating);
	sqlite3_bind_int64(s, 5, j->now_ms);
	rc = exec_stmt(st, S_RATE);
	if (!rc && j->desk.rating < 0 && in_reply_to &&
	    find_client_id(st, j->conv, in_reply_to, &question_seq, &question) < 0)
		rc = -1;
	free(in_reply_to);
	if (!rc && j->desk.rating < 0 && question) {
		json_t *c = json_pack("[{s:s?, s:n}]", "source", source, "confidence");
		char *cj = c ? json_dumps(c, JSON_COMPACT) : NULL;
		snprintf(cands, sizeof(cands), "%s", cj ? cj : "[]");
		free(cj);
		json_decref(c);
		rc = insert_unanswered(st, j->conv, "thumbs_down", question, NULL, cands, j->now_ms);
	}
	free(source);
	free(question);
	return rc;
}

/* The unanswered questions since started_ms, as a JSON array in context. */
static int run_unanswered(sqlite3_stmt *const *stmt, struct store_job *j)
{
	sqlite3_stmt *s = stmt[S_UNANSWERED_LIST];
	json_t *list = json_array();
	int rc;

	sqlite3_bind_int64(s, 1, j->started_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(s, 3);
		json_t *cands = c ? json_loads(c, 0, NULL) : NULL;
		json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o}", "kind", text_column(s, 0),
						      "text", text_column(s, 1), "lang",
						      text_column(s, 2), "candidates",
						      cands ? cands : json_array()));
	}
	finish(s);
	j->context = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	if (!j->context)
		abort();
	return rc == SQLITE_DONE ? 0 : -1;
}
static int run_desk(store *st, struct store_job *j);

/* The customer message (or a lone frame) and its extras take the next
 * seqs. A message id already stored consumes none: the job reports the
 * original seq instead, even when the conversation is full. */
static int run_append(store *st, struct store_job *j)
{
	struct conv_state *c = conv_state(st, j->conv);
	uint64_t h = 0;
	int64_t seq;
	int rc;

	if (!c) {
		j->status = STORE_NOT_FOUND;
		return 0;
	}
	if (j->client_id) {
		h = id_hash(st, j->client_id);
		if (idset_has(&c->ids, h)) {
			rc = find_client_id(st, j->conv, j->client_id, &j->seq, NULL);
			if (rc < 0)
				return -1;
			if (rc > 0) {
				j->status = STORE_DUPLICATE;
				return 0;
			}
		}
	}
	seq = c->last_seq + (j->body ? 1 : 0);
	if ((j->body || j->n_extra) && seq + (j->body ? 0 : 1) > j->max_events) {
		j->status = STORE_FULL;
		return 0;
	}
	if (j->body) {
		rc = insert_event(st, j, c, seq, j->kind, j->client_id, j->body, j->body_len);
		if (rc < 0)
			return -1;
	}
	j->seq = seq;
	for (size_t i = 0; i < j->n_extra; i++) {
		struct store_extra *e = &j->extra[i];
		if (seq + 1 > j->max_events)
			break; /* full: the customer's message is in, the rest is not */
		if (insert_event(st, j, c, seq + 1, e->kind, NULL, e->body, e->body_len))
			return -1;
		e->seq = ++seq;
	}
	c->last_seq = seq;
	if (j->client_id) {
		c->turns++;
		idset_add(&c->ids, h);
		st->cached_ids++;
	}
	sqlite3_stmt *s = st->stmt[S_SAVE_CONV_STATE];
	sqlite3_bind_int64(s, 1, j->conv);
	sqlite3_bind_int64(s, 2, c->last_seq);
	sqlite3_bind_int64(s, 3, c->turns);
	sqlite3_bind_int64(s, 4, j->now_ms);
	bind_opt_text(s, 5, j->mood); /* the mood trend rides along: one update of the row */
	sqlite3_bind_int64(s, 6, c->last_event);
	if (exec_stmt(st, S_SAVE_CONV_STATE))
		return -1;
	return run_bot_state(st, j);
}

/* What an APPEND changes besides frames: the flow run, slots, a handoff. */
static int run_bot_state(store *st, struct store_job *j)
{
	sqlite3_stmt *s;

	if (j->flow_op == STORE_FLOW_SAVE) {
		s = st->stmt[S_FLOW_SAVE];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_text(s, 2, j->flow_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, j->flow_log, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, j->flow_waiting, -1, SQLITE_STATIC);
		if (!strcmp(j->flow_waiting, "answer"))
			sqlite3_bind_int64(s, 5, j->flow_deadline_ms);
		else
			sqlite3_bind_null(s, 5);
		sqlite3_bind_int64(s, 6, j->now_ms);
		if (exec_stmt(st, S_FLOW_SAVE))
			return -1;
	} else if (j->flow_op == STORE_FLOW_END) {
		s = st->stmt[S_FLOW_END];
		sqlite3_bind_int64(s, 1, j->conv);
		if (exec_stmt(st, S_FLOW_END))
			return -1;
	}
	if (j->slots) {
		s = st->stmt[S_SLOTS];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_text(s, 2, j->slots, -1, SQLITE_STATIC);
		if (exec_stmt(st, S_SLOTS))
			return -1;
	}
	if (j->set_lang) {
		s = st->stmt[S_SET_LANG];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_text(s, 2, j->set_lang, -1, SQLITE_STATIC);
		if (exec_stmt(st, S_SET_LANG))
			return -1;
	}
	if (j->desk.op != STORE_DESK_NONE && run_desk(st, j))
		return -1;
	if (j->unanswered_kind && insert_unanswered(st, j->conv, j->unanswered_kind, j->unanswered_text,
						    j->unanswered_lang, j->unanswered_candidates,
						    j->now_ms))
		return -1;
	if (j->handoff_team) {
		s = st->stmt[S_HANDOFF];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_text(s, 2, j->handoff_team, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, j->handoff_reason ? j->handoff_reason : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, j->handoff_source ? j->handoff_source : "pipeline", -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, j->now_ms);
		if (exec_stmt(st, S_HANDOFF))
			return -1;
	}
	return 0;
}

static int set_status(store *st, int64_t conv, const char *status)
{
	sqlite3_stmt *s = st->stmt[S_STATUS];
	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	return exec_stmt(st, S_STATUS);
}

/* An APPEND's desk change (store_desk_op). */
static int run_desk(store *st, struct store_job *j)
{
	struct store_desk *k = &j->desk;
	sqlite3_stmt *s;

	switch (k->op) {
	case STORE_DESK_ENQUEUE:
		s = st->stmt[S_Q_ENQUEUE];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_text(s, 2, k->team, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, k->upset);
		sqlite3_bind_text(s, 4, k->reason ? k->reason : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, j->now_ms);
		return exec_stmt(st, S_Q_ENQUEUE) || set_status(st, j->conv, "queued");
	case STORE_DESK_ASSIGN:
		s = st->stmt[S_ASSIGNMENT];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_int64(s, 2, k->agent_id);
		sqlite3_bind_int64(s, 3, j->now_ms);
		if (exec_stmt(st, S_ASSIGNMENT))
			return -1;
		s = st->stmt[S_Q_ASSIGN];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_int64(s, 2, k->agent_id);
		sqlite3_bind_int64(s, 3, j->now_ms);
		return exec_stmt(st, S_Q_ASSIGN) || set_status(st, j->conv, "agent");
	case STORE_DESK_REQUEUE:
		s = st->stmt[S_Q_REQUEUE];
		sqlite3_bind_int64(s, 1, j->conv);
		bind_opt_text(s, 2, k->team);
		return exec_stmt(st, S_Q_REQUEUE) || set_status(st, j->conv, "queued");
	case STORE_DESK_CLOSE:
		s = st->stmt[S_Q_DELETE];
		sqlite3_bind_int64(s, 1, j->conv);
		if (exec_stmt(st, S_Q_DELETE))
			return -1;
		s = st->stmt[S_CLOSE];
		sqlite3_bind_int64(s, 1, j->conv);
		bind_opt_text(s, 2, k->text);
		sqlite3_bind_int64(s, 3, j->now_ms);
		return exec_stmt(st, S_CLOSE);
	case STORE_DESK_REOPEN:
		return set_status(st, j->conv, "bot");
	case STORE_DESK_NOTE:
		s = st->stmt[S_NOTE];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_int64(s, 2, k->agent_id);
		sqlite3_bind_text(s, 3, k->text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, j->now_ms);
		return exec_stmt(st, S_NOTE);
	case STORE_DESK_CSAT:
		s = st->stmt[S_CSAT];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_int(s, 2, k->rating);
		bind_opt_text(s, 3, k->text);
		return exec_stmt(st, S_CSAT);
	case STORE_DESK_TICKET:
		s = st->stmt[S_TICKET];
		sqlite3_bind_int64(s, 1, j->conv);
		sqlite3_bind_text(s, 2, k->team, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, k->email, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, k->text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, j->now_ms);
		if (exec_stmt(st, S_TICKET))
			return -1;
		k->ticket_id = sqlite3_last_insert_rowid(st->db);
		return set_status(st, j->conv, "ticket");
	default:
		return 0;
	}
}

/* Grows an output array by one zeroed element. */
static void *grow(void *v, size_t *n, size_t size)
{
	char *p = realloc(v, (*n + 1) * size);
	if (!p)
		abort();
	memset(p + *n * size, 0, size);
	(*n)++;
	return p;
}

static int run_desk_load(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_DESK_LOAD];
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		j->queued = grow(j->queued, &j->n_queued, sizeof(*j->queued));
		struct store_queued *q = &j->queued[j->n_queued - 1];
		q->conv = sqlite3_column_int64(s, 0);
		snprintf(q->public_id, sizeof(q->public_id), "%s",
			 (const char *)sqlite3_column_text(s, 1));
		q->name = dup_column(s, 2);
		q->lang = dup_column(s, 3);
		q->team = dup_column(s, 4);
		q->reason = dup_column(s, 5);
		q->upset = sqlite3_column_int(s, 6);
		q->enqueued_at = sqlite3_column_int64(s, 7);
		q->agent_id = sqlite3_column_int64(s, 8);
	}
	finish(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* An offline message done, by an agent of its team. */
static int run_ticket_close(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_TICKET_CLOSE];
	int rc;

	sqlite3_bind_int64(s, 1, j->desk.ticket_id);
	sqlite3_bind_text(s, 2, j->desk.team ? j->desk.team : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, j->now_ms);
	sqlite3_bind_int64(s, 4, j->desk.agent_id);
	rc = sqlite3_step(s); /* the update is done by the first step; one row at most */
	if (rc == SQLITE_ROW) {
		free(j->desk.team);
		j->desk.team = dup_column(s, 0);
	} else if (rc == SQLITE_DONE) {
		j->status = STORE_NOT_FOUND; /* closed already, or another team's */
	}
	finish(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The agent's token hash as it is now, for a session that began with
 * another one (desk.c ends it). */
static int run_agent_check(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_AGENT_HASH];
	int rc;

	sqlite3_bind_int64(s, 1, j->agent.id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		j->agent.token_hash = dup_column(s, 0);
	finish(s);
	if (rc == SQLITE_DONE)
		j->status = STORE_NOT_FOUND;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int run_agent_get(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_AGENT_GET];
	int rc;

	sqlite3_bind_text(s, 1, j->agent.name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		j->agent.id = sqlite3_column_int64(s, 0);
		j->agent.teams = dup_column(s, 2);
		j->agent.capacity = sqlite3_column_int(s, 3);
		j->agent.token_hash = dup_column(s, 4);
	}
	finish(s);
	if (rc == SQLITE_DONE) {
		j->status = STORE_NOT_FOUND;
		return 0;
	}
	if (rc != SQLITE_ROW)
		return -1;
	s = st->stmt[S_TICKETS];
	sqlite3_bind_text(s, 1, j->agent.teams, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		j->tickets = grow(j->tickets, &j->n_tickets, sizeof(*j->tickets));
		struct store_ticket *t = &j->tickets[j->n_tickets - 1];
		t->id = sqlite3_column_int64(s, 0);
		t->conv = sqlite3_column_int64(s, 1);
		snprintf(t->public_id, sizeof(t->public_id), "%s",
			 (const char *)sqlite3_column_text(s, 2));
		t->team = dup_column(s, 3);
		t->email = dup_column(s, 4);
		t->message = dup_column(s, 5);
		t->created_at = sqlite3_column_int64(s, 6);
	}
	finish(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int run_agent_add(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_AGENT_ADD];
	int rc;

	sqlite3_bind_text(s, 1, j->agent.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, j->agent.teams, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, j->agent.capacity);
	sqlite3_bind_text(s, 4, j->agent.token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, j->now_ms);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		j->agent.id = sqlite3_column_int64(s, 0);
	finish(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Marks the agent removed: NOT_FOUND when there is no such agent (or it
 * was removed already). */
static int run_agent_remove(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_AGENT_REMOVE];

	sqlite3_bind_text(s, 1, j->agent.name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, j->now_ms);
	if (exec_stmt(st, S_AGENT_REMOVE))
		return -1;
	if (sqlite3_changes(st->db) == 0)
		j->status = STORE_NOT_FOUND;
	return 0;
}

static int run_agent_list(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_AGENT_LIST];
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		j->agents = grow(j->agents, &j->n_agents, sizeof(*j->agents));
		struct store_agent *a = &j->agents[j->n_agents - 1];
		a->id = sqlite3_column_int64(s, 0);
		a->name = dup_column(s, 1);
		a->teams = dup_column(s, 2);
		a->capacity = sqlite3_column_int(s, 3);
	}
	finish(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A text column parsed as JSON, or null. */
static json_t *json_column(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	json_t *v = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : json_null();
}

static json_t *text_column(sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	json_t *v = t ? json_string(t) : NULL;
	return v ? v : json_null();
}

/* What an agent sees of a conversation, as one JSON object. */
static int run_context(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_CTX_CONV];
	json_t *ctx = json_object(), *list;
	int rc;

	sqlite3_bind_int64(s, 1, j->conv);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		finish(s);
		json_decref(ctx);
		if (rc == SQLITE_DONE) {
			j->status = STORE_NOT_FOUND;
			return 0;
		}
		return -1;
	}
	json_object_set_new(ctx, "conversation", text_column(s, 0));
	json_object_set_new(ctx, "customer", json_pack("{s:o, s:o, s:o}", "name", text_column(s, 1),
						       "email", text_column(s, 2), "lang",
						       text_column(s, 3)));
	json_object_set_new(ctx, "slots", json_column(s, 4));
	json_object_set_new(ctx, "mood", json_column(s, 5));
	json_object_set_new(ctx, "status", text_column(s, 6));
	finish(s);

	s = st->stmt[S_CTX_HANDOFF];
	sqlite3_bind_int64(s, 1, j->conv);
	if (sqlite3_step(s) == SQLITE_ROW)
		json_object_set_new(ctx, "handoff",
				    json_pack("{s:o, s:o, s:o, s:I}", "team", text_column(s, 0),
					      "reason", text_column(s, 1), "source", text_column(s, 2),
					      "at", (json_int_t)sqlite3_column_int64(s, 3)));
	else
		json_object_set_new(ctx, "handoff", json_null());
	finish(s);

	list = json_array();
	s = st->stmt[S_CTX_EVENTS];
	sqlite3_bind_int64(s, 1, j->conv);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *e = json_column(s, 1);
		if (json_is_object(e))
			json_object_set_new(e, "seq", json_integer(sqlite3_column_int64(s, 0)));
		json_array_append_new(list, e);
	}
	finish(s);
	json_object_set_new(ctx, "transcript", list);

	list = json_array();
	s = st->stmt[S_CTX_NOTES];
	sqlite3_bind_int64(s, 1, j->conv);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:o, s:o, s:I}", "agent", text_column(s, 0),
						      "text", text_column(s, 1), "at",
						      (json_int_t)sqlite3_column_int64(s, 2)));
	finish(s);
	json_object_set_new(ctx, "notes", list);
	j->context = json_dumps(ctx, JSON_COMPACT);
	json_decref(ctx);
	if (!j->context)
		abort();
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Figures for the console's stats page since started_ms (docs/desk.md). */
static int run_stats(sqlite3_stmt *const *stmt, struct store_job *j)
{
	json_t *o = json_object(), *list;
	sqlite3_stmt *s;
	int64_t *waits = NULL;
	size_t n = 0, cap = 0;
	static const int64_t bucket_ms[] = {10000, 30000, 60000, 120000, 300000, 600000, -1};
	int rc;

	s = stmt[S_ST_CONVS];
	sqlite3_bind_int64(s, 1, j->started_ms);
	if (sqlite3_step(s) == SQLITE_ROW) {
		int64_t all = sqlite3_column_int64(s, 0), kept = sqlite3_column_int64(s, 1);
		json_object_set_new(o, "conversations", json_integer(all));
		json_object_set_new(o, "deflected", json_integer(kept));
		json_object_set_new(o, "deflection_rate", json_real(all ? (double)kept / (double)all : 0));
	}
	finish(s);

	list = json_array();
	s = stmt[S_ST_REASONS];
	sqlite3_bind_int64(s, 1, j->started_ms);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:o, s:I}", "reason", text_column(s, 0), "count",
						      (json_int_t)sqlite3_column_int64(s, 1)));
	finish(s);
	json_object_set_new(o, "handoffs_by_reason", list);

	json_t *csat = json_object();
	s = stmt[S_ST_CSAT];
	sqlite3_bind_int64(s, 1, j->started_ms);
	if (sqlite3_step(s) == SQLITE_ROW) {
		json_object_set_new(csat, "average", sqlite3_column_type(s, 0) == SQLITE_NULL
							   ? json_null()
							   : json_real(sqlite3_column_double(s, 0)));
		json_object_set_new(csat, "count", json_integer(sqlite3_column_int64(s, 1)));
	}
	finish(s);
	list = json_array();
	s = stmt[S_ST_CSAT_DAYS];
	sqlite3_bind_int64(s, 1, j->started_ms);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:o, s:f, s:I}", "day", text_column(s, 0),
						      "average", sqlite3_column_double(s, 1), "count",
						      (json_int_t)sqlite3_column_int64(s, 2)));
	finish(s);
	json_object_set_new(csat, "by_day", list);
	json_object_set_new(o, "csat", csat);

	s = stmt[S_ST_WAITS];
	sqlite3_bind_int64(s, 1, j->started_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			waits = realloc(waits, cap * sizeof(*waits));
			if (!waits)
				abort();
		}
		waits[n++] = sqlite3_column_int64(s, 0);
	}
	finish(s);
	list = json_array();
	for (size_t b = 0, i = 0; b < sizeof(bucket_ms) / sizeof(bucket_ms[0]); b++) {
		size_t count = 0;
		while (i < n && (bucket_ms[b] < 0 || waits[i] <= bucket_ms[b])) {
			count++;
			i++;
		}
		json_array_append_new(list, json_pack("{s:o, s:I}", "le_ms",
						      bucket_ms[b] < 0 ? json_null()
								       : json_integer(bucket_ms[b]),
						      "count", (json_int_t)count));
	}
	json_object_set_new(o, "waits",
			    json_pack("{s:I, s:o, s:o, s:o}", "count", (json_int_t)n, "p50_ms",
				      n ? json_integer(waits[n / 2]) : json_null(), "p90_ms",
				      n ? json_integer(waits[n * 9 / 10]) : json_null(), "buckets",
				      list));
	free(waits);

	for (int k = 0; k < 2; k++) {
		list = json_array();
		s = stmt[S_ST_SOURCES];
		sqlite3_bind_int64(s, 1, j->started_ms);
		sqlite3_bind_text(s, 2, k ? "faq:%" : "intent:%", -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW)
			json_array_append_new(list,
					      json_pack("{s:o, s:I}", "source", text_column(s, 0), "count",
							(json_int_t)sqlite3_column_int64(s, 1)));
		finish(s);
		json_object_set_new(o, k ? "top_faq" : "top_intents", list);
	}
	list = json_array();
	s = stmt[S_ST_KINDS];
	sqlite3_bind_int64(s, 1, j->started_ms);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:o, s:I}", "source", text_column(s, 0), "count",
						      (json_int_t)sqlite3_column_int64(s, 1)));
	finish(s);
	json_object_set_new(o, "answers_by_source", list);

	json_t *dist = json_pack("[iiiii]", 0, 0, 0, 0, 0);
	s = stmt[S_ST_CSAT_DIST];
	sqlite3_bind_int64(s, 1, j->started_ms);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_set_new(dist, (size_t)sqlite3_column_int(s, 0) - 1,
				   json_integer(sqlite3_column_int64(s, 1)));
	finish(s);
	json_object_set_new(json_object_get(o, "csat"), "distribution", dist);

	n = 0;
	s = stmt[S_ST_FIRST_RESPONSE];
	sqlite3_bind_int64(s, 1, j->started_ms);
	int64_t *firsts = NULL;
	cap = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			firsts = realloc(firsts, cap * sizeof(*firsts));
			if (!firsts)
				abort();
		}
		firsts[n++] = sqlite3_column_int64(s, 0);
	}
	finish(s);
	json_object_set_new(o, "first_response",
			    json_pack("{s:I, s:o, s:o}", "count", (json_int_t)n, "p50_ms",
				      n ? json_integer(firsts[n / 2]) : json_null(), "p90_ms",
				      n ? json_integer(firsts[n * 9 / 10]) : json_null()));
	free(firsts);

	list = json_array();
	s = stmt[S_ST_PER_HOUR];
	sqlite3_bind_int64(s, 1, j->started_ms);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:o, s:I}", "hour", text_column(s, 0), "count",
						      (json_int_t)sqlite3_column_int64(s, 1)));
	finish(s);
	json_object_set_new(o, "per_hour", list);

	json_object_set_new(o, "from", json_integer(j->started_ms));
	json_object_set_new(o, "to", json_integer(j->now_ms));
	j->context = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!j->context)
		abort();
	return 0;
}

static int run_flows_due(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_DUE];
	int rc;

	j->due = calloc(STORE_DUE_MAX, sizeof(*j->due));
	if (!j->due)
		abort();
	sqlite3_bind_int64(s, 1, j->now_ms);
	sqlite3_bind_int64(s, 2, j->started_ms);
	sqlite3_bind_int(s, 3, STORE_DUE_MAX);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && j->n_due < STORE_DUE_MAX) {
		struct store_due *d = &j->due[j->n_due++];
		d->conv = sqlite3_column_int64(s, 0);
		snprintf(d->public_id, sizeof(d->public_id), "%s",
			 (const char *)sqlite3_column_text(s, 1));
		d->lang = dup_column(s, 2);
		d->name = dup_column(s, 3);
		d->flow_log = dup_column(s, 4);
		d->waiting_http = !strcmp((const char *)sqlite3_column_text(s, 5), "http");
		d->deadline_ms = sqlite3_column_int64(s, 6);
	}
	finish(s);
	return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : -1;
}

static int run_client_ack(store *st, struct store_job *j)
{
	sqlite3_stmt *s = st->stmt[S_CLIENT_ACK];
	sqlite3_bind_int64(s, 1, j->conv);
	sqlite3_bind_int64(s, 2, j->client_seq);
	return exec_stmt(st, S_CLIENT_ACK);
}

/* Runs one job. Returns -1 if the database failed, which fails the whole
 * batch: jobs are not isolated from each other, so nothing of a failed
 * batch may be committed. */
static int run_job(store *st, struct store_job *j)
{
	int rc;

	j->status = STORE_OK;
	switch (j->op) {
	case STORE_CREATE: rc = run_create(st, j); break;
	case STORE_RESUME: rc = run_resume(st, j); break;
	case STORE_REPLAY: rc = run_replay(st, j); break;
	case STORE_APPEND: rc = run_append(st, j); break;
	case STORE_CLIENT_ACK: rc = run_client_ack(st, j); break;
	case STORE_FLOWS_DUE: rc = run_flows_due(st, j); break;
	case STORE_DESK_LOAD: rc = run_desk_load(st, j); break;
	case STORE_AGENT_GET: rc = run_agent_get(st, j); break;
	case STORE_AGENT_ADD: rc = run_agent_add(st, j); break;
	case STORE_AGENT_LIST: rc = run_agent_list(st, j); break;
	case STORE_AGENT_REMOVE: rc = run_agent_remove(st, j); break;
	case STORE_AGENT_CHECK: rc = run_agent_check(st, j); break;
	case STORE_TICKET_CLOSE: rc = run_ticket_close(st, j); break;
	case STORE_CONTEXT: rc = run_context(st, j); break;
	case STORE_STATS: rc = run_stats(st->stmt, j); break;
	case STORE_RATE: rc = run_rate(st, j); break;
	case STORE_UNANSWERED: rc = run_unanswered(st->stmt, j); break;
	default: rc = -1; break;
	}
	if (rc)
		log_error(st->lg, "store_job_failed", "op=%d err=\"%s\"", (int)j->op,
			  sqlite3_errmsg(st->db));
	return rc;
}

/* ===== the thread ===== */

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void run_batch(store *st, struct store_job *batch, size_t n)
{
	uint64_t t0 = now_usec();
	int failed = 0;

	if (exec_stmt(st, S_BEGIN)) {
		failed = 1;
	} else {
		for (struct store_job *j = batch; j && !failed; j = j->next)
			failed = run_job(st, j) != 0;
		if (failed || exec_stmt(st, S_COMMIT)) {
			exec_stmt(st, S_ROLLBACK);
			failed = 1;
		}
	}
	if (failed) {
		forget_states(st); /* the cache may hold seqs that were rolled back */
		for (struct store_job *j = batch; j; j = j->next) {
			free_results(j);
			j->status = STORE_FAILED;
		}
	}
	atomic_store(&st->healthy, !failed);
	metrics_observe_commit(st->metrics, now_usec() - t0, n, failed);
}

/* Hands the jobs first..last (linked) to store_dispatch() and wakes the
 * loop. Any of the store's threads. */
static void complete(store *st, struct store_job *first, struct store_job *last)
{
	pthread_mutex_lock(&st->lock);
	if (st->done_tail)
		st->done_tail->next = first;
	else
		st->done_head = first;
	st->done_tail = last;
	pthread_mutex_unlock(&st->lock);
	st->wake(st->wake_ud);
}

static void *store_thread(void *arg)
{
	store *st = arg;

	for (;;) {
		struct store_job *batch, *last;
		size_t n = 1;

		pthread_mutex_lock(&st->lock);
		while (!st->queue_head && !st->stopping) {
			st->idle = 1;
			pthread_cond_wait(&st->cond, &st->lock);
			st->idle = 0;
		}
		if (!st->queue_head) {
			pthread_mutex_unlock(&st->lock);
			break;
		}
		batch = last = st->queue_head;
		while (last->next && n < (size_t)st->batch_max) {
			last = last->next;
			n++;
		}
		st->queue_head = last->next;
		if (!st->queue_head)
			st->queue_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&st->lock);

		run_batch(st, batch, n);
		if (st->wal_pages >= CHECKPOINT_RESTART_PAGES) {
			sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
			st->wal_pages = 0;
		}

		complete(st, batch, last);
	}
	return NULL;
}

/* ===== the reader ===== */

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* The statistics and the unanswered list read every row of a time range;
 * on the store thread they held up every commit, so every customer's ack,
 * for as long as they ran. They run on a thread and a read-only connection
 * of their own, each in one read transaction: a snapshot of what was
 * committed when it began (WAL lets it read while the writer commits). */
static int is_report(enum store_op op)
{
	return op == STORE_STATS || op == STORE_UNANSWERED;
}

static const enum stmt_id report_stmts[] = {
	S_ST_CONVS, S_ST_REASONS, S_ST_CSAT, S_ST_CSAT_DAYS, S_ST_WAITS, S_ST_SOURCES,
	S_ST_KINDS, S_ST_CSAT_DIST, S_ST_FIRST_RESPONSE, S_ST_PER_HOUR, S_UNANSWERED_LIST,
};

static void run_report(store *st, struct store_job *j)
{
	char err[256];
	int rc;

	j->status = STORE_OK;
	rc = exec_sql(st->reader_db, "BEGIN", err, sizeof(err));
	if (!rc)
		rc = j->op == STORE_STATS ? run_stats(st->reader_stmt, j)
					  : run_unanswered(st->reader_stmt, j);
	if (exec_sql(st->reader_db, "COMMIT", err, sizeof(err)))
		rc = -1;
	if (rc) {
		log_error(st->lg, "store_job_failed", "op=%d err=\"%s\"", (int)j->op,
			  sqlite3_errmsg(st->reader_db));
		free_results(j);
		j->status = STORE_FAILED;
	}
}

static void *reader_thread(void *arg)
{
	store *st = arg;

	for (;;) {
		struct store_job *j;

		pthread_mutex_lock(&st->lock);
		while (!st->reports_head && !st->stopping)
			pthread_cond_wait(&st->reader_cond, &st->lock);
		j = st->reports_head;
		if (!j) {
			pthread_mutex_unlock(&st->lock);
			break;
		}
		st->reports_head = j->next;
		if (!st->reports_head)
			st->reports_tail = NULL;
		j->next = NULL;
		pthread_mutex_unlock(&st->lock);

		run_report(st, j);
		complete(st, j, j);
	}
	return NULL;
}

/* Opens the reader's connection and starts its thread; without one,
 * reports run on the store thread as before. */
static void start_reader(store *st, const char *path)
{
	char err[256];

	if (sqlite3_open_v2(path, &st->reader_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    exec_sql(st->reader_db, "PRAGMA cache_size=-8192; PRAGMA mmap_size=268435456;", err,
		     sizeof(err)))
		goto fail;
	sqlite3_busy_timeout(st->reader_db, 5000);
	for (size_t i = 0; i < sizeof(report_stmts) / sizeof(report_stmts[0]); i++)
		if (sqlite3_prepare_v3(st->reader_db, stmt_sql[report_stmts[i]], -1,
				       SQLITE_PREPARE_PERSISTENT, &st->reader_stmt[report_stmts[i]],
				       NULL) != SQLITE_OK)
			goto fail;
	pthread_cond_init(&st->reader_cond, NULL);
	if (pthread_create(&st->reader_thread, NULL, reader_thread, st)) {
		pthread_cond_destroy(&st->reader_cond);
		goto fail;
	}
	st->reader_started = 1;
	return;
fail:
	log_warn(st->lg, "store_reader", "reason=\"%s\" reports=store_thread",
		 st->reader_db ? sqlite3_errmsg(st->reader_db) : "cannot open");
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->reader_stmt[i]);
	sqlite3_close(st->reader_db);
	st->reader_db = NULL;
}

/* ===== checkpoints ===== */


static int wal_hook(void *ud, sqlite3 *db, const char *name, int pages)
{
	store *st = ud;
	(void)db;
	(void)name;
	st->wal_pages = pages; /* the hook runs on the store thread */
	if (pages >= CHECKPOINT_PAGES) {
		pthread_mutex_lock(&st->ckpt_lock);
		st->ckpt_wanted = 1;
		pthread_cond_signal(&st->ckpt_cond);
		pthread_mutex_unlock(&st->ckpt_lock);
	}
	return SQLITE_OK;
}

static void *checkpoint_thread(void *arg)
{
	store *st = arg;

	for (;;) {
		int wal = 0, copied = 0, rc;

		pthread_mutex_lock(&st->ckpt_lock);
		while (!st->ckpt_wanted && !st->ckpt_stopping)
			pthread_cond_wait(&st->ckpt_cond, &st->ckpt_lock);
		st->ckpt_wanted = 0;
		if (st->ckpt_stopping) {
			pthread_mutex_unlock(&st->ckpt_lock);
			break;
		}
		pthread_mutex_unlock(&st->ckpt_lock);
		rc = sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &wal, &copied);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn(st->lg, "store_checkpoint", "rc=%d err=\"%s\"", rc,
				 sqlite3_errmsg(st->ckpt_db));
		else
			log_debug(st->lg, "store_checkpoint", "wal_pages=%d copied=%d", wal, copied);
	}
	return NULL;
}

/* ===== open, submit, dispatch, close ===== */

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int migrate(sqlite3 *db, const logger *lg, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int version = 0;
	int latest = (int)(sizeof(migrations) / sizeof(migrations[0]));

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		goto sqlerr;
	if (sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > latest) {
		snprintf(err, errlen, "the database has schema version %d; this supportd knows up to %d",
			 version, latest);
		return -1;
	}
	for (int v = version; v < latest; v++) {
		char sql[64];
		if (exec_sql(db, "BEGIN IMMEDIATE", err, errlen))
			return -1;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec_sql(db, migrations[v], err, errlen) || exec_sql(db, sql, err, errlen)) {
			char ignored[8];
			exec_sql(db, "ROLLBACK", ignored, sizeof(ignored));
			return -1;
		}
		if (exec_sql(db, "COMMIT", err, errlen))
			return -1;
		log_info(lg, "store_migrated", "version=%d", v + 1);
	}
	return 0;
sqlerr:
	snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	return -1;
}

static void stop_checkpointer(store *st)
{
	pthread_mutex_lock(&st->ckpt_lock);
	st->ckpt_stopping = 1;
	pthread_cond_signal(&st->ckpt_cond);
	pthread_mutex_unlock(&st->ckpt_lock);
	pthread_join(st->ckpt_thread, NULL);
}

store *store_open(const struct store_options *opt, const logger *lg, struct metrics *m,
		  void (*wake)(void *ud), void *wake_ud, char *err, size_t errlen)
{
	store *st = calloc(1, sizeof(*st));
	char pragmas[320];
	int rc;

	if (!st)
		abort();
	st->lg = lg;
	st->metrics = m;
	st->batch_max = opt->batch_max > 0 ? opt->batch_max : 1024;
	st->wake = wake;
	st->wake_ud = wake_ud;
	atomic_init(&st->pending, 0);
	atomic_init(&st->healthy, 1);
	randombytes_buf(st->id_key, sizeof(st->id_key));

	rc = sqlite3_open_v2(opt->path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", opt->path,
			 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto err;
	}
	sqlite3_busy_timeout(st->db, 5000);
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
		 " PRAGMA cache_size=-32768; PRAGMA mmap_size=268435456;",
		 opt->synchronous_full ? "FULL" : "NORMAL");
	if (exec_sql(st->db, pragmas, err, errlen) || migrate(st->db, lg, err, errlen))
		goto err;
	for (int i = 0; i < S__COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: preparing statement %d: %s", opt->path, i,
				 sqlite3_errmsg(st->db));
			goto err;
		}
	}
	rc = sqlite3_open_v2(opt->path, &st->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: checkpoint connection: %s", opt->path,
			 st->ckpt_db ? sqlite3_errmsg(st->ckpt_db) : sqlite3_errstr(rc));
		goto err;
	}
	sqlite3_busy_timeout(st->ckpt_db, 5000);
	/* a connection learns the file is in WAL mode only when it reads it */
	if (exec_sql(st->ckpt_db, "PRAGMA journal_mode=WAL; SELECT count(*) FROM sqlite_schema;", err,
		     errlen))
		goto err;
	sqlite3_wal_hook(st->db, wal_hook, st); /* replaces automatic checkpoints */
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	pthread_mutex_init(&st->ckpt_lock, NULL);
	pthread_cond_init(&st->ckpt_cond, NULL);
	if (pthread_create(&st->ckpt_thread, NULL, checkpoint_thread, st)) {
		snprintf(err, errlen, "cannot start the checkpoint thread");
		goto err_sync;
	}
	if (pthread_create(&st->thread, NULL, store_thread, st)) {
		snprintf(err, errlen, "cannot start the store thread");
		stop_checkpointer(st);
		goto err_sync;
	}
	start_reader(st, opt->path);
	return st;
err_sync:
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->ckpt_lock);
	pthread_cond_destroy(&st->ckpt_cond);
err:
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->ckpt_db);
	sqlite3_close(st->db);
	free(st);
	return NULL;
}

void store_submit(store *st, struct store_job *job,
		  void (*done)(struct store_job *job, void *ud), void *ud)
{
	job->done = done;
	job->ud = ud;
	job->next = NULL;
	atomic_fetch_add(&st->pending, 1);
	pthread_mutex_lock(&st->lock);
	if (st->reader_started && is_report(job->op)) {
		if (st->reports_tail)
			st->reports_tail->next = job;
		else
			st->reports_head = job;
		st->reports_tail = job;
		pthread_cond_signal(&st->reader_cond);
		pthread_mutex_unlock(&st->lock);
		return;
	}
	if (st->queue_tail)
		st->queue_tail->next = job;
	else
		st->queue_head = job;
	st->queue_tail = job;
	if (st->idle) /* a busy thread takes the whole queue when it is done */
		pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

void store_dispatch(store *st)
{
	struct store_job *j, *next;

	pthread_mutex_lock(&st->lock);
	j = st->done_head;
	st->done_head = st->done_tail = NULL;
	pthread_mutex_unlock(&st->lock);
	for (; j; j = next) {
		next = j->next;
		j->next = NULL;
		atomic_fetch_sub(&st->pending, 1);
		j->done(j, j->ud);
	}
}

long store_pending(const store *st)
{
	return atomic_load(&((store *)st)->pending);
}

int store_healthy(const store *st)
{
	return atomic_load(&((store *)st)->healthy);
}

void store_close(store *st)
{
	struct store_job *j, *next;

	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	st->stopping = 1;
	pthread_cond_signal(&st->cond);
	if (st->reader_started)
		pthread_cond_signal(&st->reader_cond);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->thread, NULL);
	if (st->reader_started) {
		pthread_join(st->reader_thread, NULL);
		pthread_cond_destroy(&st->reader_cond);
	}
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->reader_stmt[i]);
	sqlite3_close(st->reader_db);
	stop_checkpointer(st);
	for (j = st->done_head; j; j = next) {
		next = j->next;
		store_job_free(j);
	}
	forget_states(st);
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->ckpt_db);
	sqlite3_close(st->db); /* the last connection checkpoints the WAL */
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->ckpt_lock);
	pthread_cond_destroy(&st->ckpt_cond);
	free(st);
}
