/* test_store.c: unit tests for src/store.c against a real SQLite file.
 *
 * The store runs its own thread and calls wake() when jobs finish. The
 * harness counts wakes under a mutex and waits on a condition variable with
 * a deadline, then calls store_dispatch(), which runs the done callbacks on
 * this thread. No sleeps: every wait ends as soon as the store reports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "store.h"
#include "token.h"
#include "wire.h"

#define WAIT_SECONDS 20
#define MAX_DONE 128
#define TTL_MS (60 * 1000)
#define NO_LIMIT 100000

struct harness {
	char dir[64];
	char path[128];
	logger lg;
	struct metrics m;
	store *st;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long wakes;
	struct store_job *done[MAX_DONE]; /* finished jobs, in callback order */
	size_t n_done;
	int normal;                       /* open with synchronous "normal" */
};

/* ===== harness ===== */

static void wake_cb(void *ud)
{
	struct harness *h = ud;
	pthread_mutex_lock(&h->mu);
	h->wakes++;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static void done_cb(struct store_job *job, void *ud)
{
	struct harness *h = ud;
	assert_true(h->n_done < MAX_DONE);
	h->done[h->n_done++] = job;
}

/* Dispatches until `n` callbacks in all have run, or fails after the
 * deadline. */
static void wait_done(struct harness *h, size_t n)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += WAIT_SECONDS;
	for (;;) {
		unsigned long seen;

		pthread_mutex_lock(&h->mu);
		seen = h->wakes;
		pthread_mutex_unlock(&h->mu);
		store_dispatch(h->st);
		if (h->n_done >= n)
			return;
		pthread_mutex_lock(&h->mu);
		while (h->wakes == seen) {
			int rc = pthread_cond_timedwait(&h->cv, &h->mu, &deadline);
			if (rc == ETIMEDOUT) {
				pthread_mutex_unlock(&h->mu);
				fail_msg("store did not finish %zu job(s) within %d s (have %zu)", n,
					 WAIT_SECONDS, h->n_done);
			}
		}
		pthread_mutex_unlock(&h->mu);
	}
}

static void free_done(struct harness *h)
{
	for (size_t i = 0; i < h->n_done; i++)
		store_job_free(h->done[i]);
	h->n_done = 0;
}

/* Submits one job and returns it finished. The caller frees it. */
static struct store_job *run(struct harness *h, struct store_job *j)
{
	struct store_job *r;

	assert_int_equal(h->n_done, 0);
	store_submit(h->st, j, done_cb, h);
	wait_done(h, 1);
	assert_int_equal(h->n_done, 1);
	r = h->done[0];
	h->n_done = 0;
	assert_ptr_equal(r, j);
	return r;
}

static store *open_store(struct harness *h)
{
	struct store_options opt = {.path = h->path, .synchronous_full = !h->normal, .batch_max = 0};
	char err[256] = "";
	store *st = store_open(&opt, &h->lg, &h->m, wake_cb, h, err, sizeof(err));
	if (!st)
		fail_msg("store_open: %s", err);
	return st;
}

static void reopen(struct harness *h)
{
	store_close(h->st);
	h->st = open_store(h);
}

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	pthread_condattr_t ca;

	if (!h)
		return -1;
	snprintf(h->dir, sizeof(h->dir), "/tmp/supportd-test-store-XXXXXX");
	if (!mkdtemp(h->dir)) {
		free(h);
		return -1;
	}
	snprintf(h->path, sizeof(h->path), "%s/supportd.db", h->dir);
	h->lg.level = LOG_WARN;
	metrics_init(&h->m);
	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cv, &ca);
	pthread_condattr_destroy(&ca);
	*state = h;
	return 0;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct harness *h = *state;

	store_close(h->st);
	free_done(h);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	remove_dir(h->dir);
	free(h);
	return 0;
}

/* Setup that also opens the store. */
static int setup_open(void **state)
{
	struct harness *h;
	if (setup(state))
		return -1;
	h = *state;
	h->st = open_store(h);
	return 0;
}

/* The same store with synchronous "normal" (no fdatasync per commit): the
 * job semantics must not depend on it. */
static int setup_open_normal(void **state)
{
	struct harness *h;
	if (setup(state))
		return -1;
	h = *state;
	h->normal = 1;
	h->st = open_store(h);
	return 0;
}

static char *xstrdup(const char *s)
{
	char *r = strdup(s);
	assert_non_null(r);
	return r;
}

/* ===== job builders ===== */

struct conv {
	int64_t id;
	char public_id[CONVERSATION_ID_LEN + 1];
	char token[TOKEN_TEXT_LEN + 1];
	unsigned char hash[TOKEN_HASH_BYTES];
};

static struct store_job *create_job(struct conv *c, int64_t now, const char *lang,
				    const char *name, const char *email)
{
	struct store_job *j = store_job_new(STORE_CREATE);

	assert_int_equal(token_conversation_id(c->public_id), 0);
	assert_int_equal(token_new(c->token, c->hash), 0);
	memcpy(j->public_id, c->public_id, sizeof(j->public_id));
	memcpy(j->token_hash, c->hash, TOKEN_HASH_BYTES);
	j->now_ms = now;
	j->lang = lang ? xstrdup(lang) : NULL;
	j->name = name ? xstrdup(name) : NULL;
	j->email = email ? xstrdup(email) : NULL;
	return j;
}

static void create(struct harness *h, struct conv *c, int64_t now)
{
	struct store_job *j = run(h, create_job(c, now, "en", "Ana", "ana@example.com"));
	assert_int_equal(j->status, STORE_OK);
	assert_true(j->conv > 0);
	c->id = j->conv;
	store_job_free(j);
}

/* A customer message body as chat.c stores it. */
static char *msg_body(const char *id, const char *text, int64_t ts)
{
	return wire_message_body(id, text, strlen(text), ts);
}

static char *reply_body(const char *text, const char *in_reply_to, int64_t ts)
{
	struct wire_reply r = {.text = (char *)text, .source = "pipeline"};
	return wire_reply_body(&r, in_reply_to, ts);
}

static struct store_job *append_job(int64_t conv, const char *client_id, const char *text,
				    int64_t now, int64_t max_events)
{
	struct store_job *j = store_job_new(STORE_APPEND);

	j->conv = conv;
	j->now_ms = now;
	j->max_events = max_events;
	j->kind = client_id ? "message" : "reply";
	j->client_id = client_id ? xstrdup(client_id) : NULL;
	j->body = client_id ? msg_body(client_id, text, now) : reply_body(text, NULL, now);
	j->body_len = strlen(j->body);
	return j;
}

/* Adds `n` bot replies to an APPEND job. */
static void add_replies(struct store_job *j, size_t n, const char *in_reply_to)
{
	j->extra = calloc(n, sizeof(*j->extra));
	assert_non_null(j->extra);
	j->n_extra = n;
	for (size_t i = 0; i < n; i++) {
		char text[64];
		snprintf(text, sizeof(text), "reply %zu to %s", i + 1, in_reply_to);
		j->extra[i].kind = "reply";
		j->extra[i].body = reply_body(text, in_reply_to, j->now_ms);
		j->extra[i].body_len = strlen(j->extra[i].body);
	}
}

/* Appends a customer message; returns its status and sets *seq. */
static enum store_status append(struct harness *h, int64_t conv, const char *client_id,
				const char *text, int64_t now, int64_t max_events, int64_t *seq)
{
	struct store_job *j = run(h, append_job(conv, client_id, text, now, max_events));
	enum store_status s = j->status;
	if (seq)
		*seq = j->seq;
	store_job_free(j);
	return s;
}

static struct store_job *resume_job(const unsigned char hash[TOKEN_HASH_BYTES], int64_t now,
				    int64_t after_seq)
{
	struct store_job *j = store_job_new(STORE_RESUME);
	memcpy(j->token_hash, hash, TOKEN_HASH_BYTES);
	j->now_ms = now;
	j->ttl_ms = TTL_MS;
	j->after_seq = after_seq;
	return j;
}

/* The body of an event, parsed: checks type and returns the text. */
static void expect_event(const struct store_event *e, int64_t seq, const char *type,
			 const char *text)
{
	json_error_t err;
	json_t *o;

	assert_int_equal(e->seq, seq);
	assert_non_null(e->body);
	assert_int_equal(e->body_len, strlen(e->body));
	o = json_loads(e->body, 0, &err);
	if (!o)
		fail_msg("event %lld is not JSON: %s", (long long)seq, e->body);
	assert_string_equal(json_string_value(json_object_get(o, "type")), type);
	assert_string_equal(json_string_value(json_object_get(o, "text")), text);
	assert_null(json_object_get(o, "seq")); /* stored without seq */
	json_decref(o);
}

/* Reads one integer with a fresh read-only connection. */
static int64_t sql_int(const char *path, const char *sql, int64_t arg)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, arg);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* ===== tests ===== */

static void test_create(void **state)
{
	struct harness *h = *state;
	struct conv a, b;

	create(h, &a, 1000);
	create(h, &b, 1000);
	assert_true(a.id != b.id);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM conversations", 0), 2);
	/* a new conversation has no frames yet */
	assert_int_equal(sql_int(h->path, "SELECT last_seq FROM conversations WHERE id = ?1", a.id), 0);
	/* the commit was recorded */
	assert_true(atomic_load(&h->m.commit_count) >= 1);
	assert_true(atomic_load(&h->m.commit_jobs_total) >= 2);
	assert_int_equal(store_healthy(h->st), 1);
	assert_int_equal(store_pending(h->st), 0);
}

static void test_append_assigns_seq(void **state)
{
	struct harness *h = *state;
	struct conv a, b;
	int64_t seq;
	struct store_job *j;

	create(h, &a, 1000);
	create(h, &b, 1000);
	assert_int_equal(append(h, a.id, "m1", "one", 1001, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(append(h, a.id, "m2", "two", 1002, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 2);
	assert_int_equal(append(h, a.id, "m3", "three", 1003, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 3);
	/* seqs are per conversation */
	assert_int_equal(append(h, b.id, "m1", "other", 1004, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 1);

	/* a message with two replies: n, n+1, n+2 */
	j = append_job(a.id, "m4", "four", 1005, NO_LIMIT);
	add_replies(j, 2, "m4");
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 4);
	assert_int_equal(j->extra[0].seq, 5);
	assert_int_equal(j->extra[1].seq, 6);
	store_job_free(j);

	/* an unprompted reply (no client id) takes the next seq */
	j = run(h, append_job(a.id, NULL, "hello from the bot", 1006, NO_LIMIT));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 7);
	store_job_free(j);

	assert_int_equal(sql_int(h->path, "SELECT last_seq FROM conversations WHERE id = ?1", a.id), 7);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM events WHERE conversation_id = ?1", a.id), 7);
}

static void test_duplicate_client_id(void **state)
{
	struct harness *h = *state;
	struct conv a, b;
	int64_t seq;
	struct store_job *j;

	create(h, &a, 1000);
	create(h, &b, 1000);
	assert_int_equal(append(h, a.id, "m1", "one", 1001, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(append(h, a.id, "m2", "two", 1002, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 2);

	/* m1 again, with replies: DUPLICATE, the original seq, nothing stored */
	j = append_job(a.id, "m1", "one (again)", 1003, NO_LIMIT);
	add_replies(j, 2, "m1");
	j = run(h, j);
	assert_int_equal(j->status, STORE_DUPLICATE);
	assert_int_equal(j->seq, 1);
	assert_int_equal(j->extra[0].seq, 0);
	assert_int_equal(j->extra[1].seq, 0);
	store_job_free(j);

	/* no seq was consumed */
	assert_int_equal(append(h, a.id, "m3", "three", 1004, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 3);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM events WHERE conversation_id = ?1", a.id), 3);

	/* the same id in another conversation is not a duplicate */
	assert_int_equal(append(h, b.id, "m1", "one", 1005, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 1);

	/* a duplicate is not a turn: m1, m2, m3 */
	j = run(h, resume_job(a.hash, 1006, -1));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 3);
	assert_int_equal(j->turns, 3);
	store_job_free(j);
}

static void test_duplicate_in_one_batch(void **state)
{
	struct harness *h = *state;
	struct conv a;
	struct store_job *j1, *j2, *j3;

	create(h, &a, 1000);
	/* submitted back to back, likely in one transaction: the second sees
	 * the first's row */
	j1 = append_job(a.id, "same", "first", 1001, NO_LIMIT);
	j2 = append_job(a.id, "same", "second", 1002, NO_LIMIT);
	j3 = append_job(a.id, "other", "third", 1003, NO_LIMIT);
	store_submit(h->st, j1, done_cb, h);
	store_submit(h->st, j2, done_cb, h);
	store_submit(h->st, j3, done_cb, h);
	wait_done(h, 3);
	assert_int_equal(h->n_done, 3);
	assert_ptr_equal(h->done[0], j1);
	assert_ptr_equal(h->done[1], j2);
	assert_ptr_equal(h->done[2], j3);
	assert_int_equal(j1->status, STORE_OK);
	assert_int_equal(j1->seq, 1);
	assert_int_equal(j2->status, STORE_DUPLICATE);
	assert_int_equal(j2->seq, 1);
	assert_int_equal(j3->status, STORE_OK);
	assert_int_equal(j3->seq, 2);
	free_done(h);
}

static void test_full(void **state)
{
	struct harness *h = *state;
	struct conv a;
	int64_t seq;
	struct store_job *j;

	create(h, &a, 1000);
	assert_int_equal(append(h, a.id, "m1", "one", 1001, 3, &seq), STORE_OK);
	assert_int_equal(seq, 1);

	/* room for the message and one of its two replies */
	j = append_job(a.id, "m2", "two", 1002, 3);
	add_replies(j, 2, "m2");
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 2);
	assert_int_equal(j->extra[0].seq, 3);
	assert_int_equal(j->extra[1].seq, 0);
	store_job_free(j);

	/* no room at all */
	j = append_job(a.id, "m3", "three", 1003, 3);
	add_replies(j, 1, "m3");
	j = run(h, j);
	assert_int_equal(j->status, STORE_FULL);
	assert_int_equal(j->extra[0].seq, 0);
	store_job_free(j);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM events WHERE conversation_id = ?1", a.id), 3);
	assert_int_equal(sql_int(h->path, "SELECT last_seq FROM conversations WHERE id = ?1", a.id), 3);

	/* the refused message was not stored: with a higher limit, the same id
	 * is a new message and gets the next seq (none was consumed) */
	assert_int_equal(append(h, a.id, "m3", "three", 1004, 4, &seq), STORE_OK);
	assert_int_equal(seq, 4);
	assert_int_equal(append(h, a.id, "m4", "four", 1005, 4, &seq), STORE_FULL);
}

static void append_conversation(struct harness *h, struct conv *a)
{
	struct store_job *j;
	int64_t seq;

	create(h, a, 1000);
	/* 1: m1; 2-3: m1's replies; 4: m2 (quotes, unicode, newline); 5: m3 */
	j = append_job(a->id, "m1", "I forgot my password", 1001, NO_LIMIT);
	add_replies(j, 2, "m1");
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->extra[1].seq, 3);
	store_job_free(j);
	assert_int_equal(append(h, a->id, "m2", "ol\xc3\xa1 \"quoted\" \\ \n\xf0\x9f\x98\x80", 1002,
				NO_LIMIT, &seq),
			 STORE_OK);
	assert_int_equal(seq, 4);
	assert_int_equal(append(h, a->id, "m3", "three", 1003, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 5);
}

static void test_resume(void **state)
{
	struct harness *h = *state;
	struct conv a;
	struct store_job *j;

	append_conversation(h, &a);

	j = run(h, resume_job(a.hash, 2000, 1));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->conv, a.id);
	assert_string_equal(j->public_id, a.public_id);
	assert_int_equal(j->seq, 5); /* last seq */
	assert_int_equal(j->turns, 3); /* customer messages; replies are not turns */
	/* replay after 1, in order, bodies intact */
	assert_int_equal(j->n_events, 4);
	expect_event(&j->events[0], 2, "reply", "reply 1 to m1");
	expect_event(&j->events[1], 3, "reply", "reply 2 to m1");
	expect_event(&j->events[2], 4, "message", "ol\xc3\xa1 \"quoted\" \\ \n\xf0\x9f\x98\x80");
	expect_event(&j->events[3], 5, "message", "three");
	/* the stored body is exactly what was appended */
	{
		char *want = msg_body("m3", "three", 1003);
		assert_string_equal(j->events[3].body, want);
		free(want);
	}
	/* recent customer ids, newest first; replies have none */
	assert_int_equal(j->n_recent, 3);
	assert_string_equal(j->recent[0].client_id, "m3");
	assert_int_equal(j->recent[0].seq, 5);
	assert_string_equal(j->recent[1].client_id, "m2");
	assert_int_equal(j->recent[1].seq, 4);
	assert_string_equal(j->recent[2].client_id, "m1");
	assert_int_equal(j->recent[2].seq, 1);
	/* the stored details come back */
	assert_string_equal(j->lang, "en");
	assert_string_equal(j->name, "Ana");
	assert_string_equal(j->email, "ana@example.com");
	store_job_free(j);

	/* after_seq 0: everything */
	j = run(h, resume_job(a.hash, 2001, 0));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->n_events, 5);
	for (size_t i = 0; i < j->n_events; i++)
		assert_int_equal(j->events[i].seq, (int64_t)i + 1);
	expect_event(&j->events[0], 1, "message", "I forgot my password");
	store_job_free(j);

	/* after the last seq: nothing; beyond it: nothing */
	j = run(h, resume_job(a.hash, 2002, 5));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->n_events, 0);
	assert_int_equal(j->n_recent, 3);
	store_job_free(j);
	j = run(h, resume_job(a.hash, 2003, 99));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->n_events, 0);
	store_job_free(j);

	/* no last_seq (after_seq < 0): no replay, but the last seq */
	j = run(h, resume_job(a.hash, 2004, -1));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 5);
	assert_int_equal(j->n_events, 0);
	store_job_free(j);
}

/* A page stops once it holds page_bytes (at least one frame), says more
 * remain, and STORE_REPLAY reads the next pages to the end. */
static void test_replay_in_pages(void **state)
{
	struct harness *h = *state;
	struct conv a;
	struct store_job *j;
	int64_t next = 0, seen = 0;
	size_t pages = 0;

	append_conversation(h, &a); /* 5 frames, each over 40 bytes */
	j = resume_job(a.hash, 2000, 0);
	j->page_bytes = 1; /* one frame a page */
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 5);
	assert_int_equal(j->n_events, 1);
	assert_int_equal(j->events[0].seq, 1);
	assert_true(j->replay_more);
	next = 1;
	store_job_free(j);

	do {
		j = store_job_new(STORE_REPLAY);
		j->conv = a.id;
		j->after_seq = next;
		j->page_bytes = 100; /* two frames, the second past the budget */
		j = run(h, j);
		assert_int_equal(j->status, STORE_OK);
		assert_int_equal(j->seq, 5);
		assert_true(j->n_events >= 1);
		for (size_t i = 0; i < j->n_events; i++)
			assert_int_equal(j->events[i].seq, next + 1 + (int64_t)i);
		next += (int64_t)j->n_events;
		seen += (int64_t)j->n_events;
		pages++;
		int more = j->replay_more;
		store_job_free(j);
		assert_int_equal(more, next < 5);
		if (!more)
			break;
	} while (pages < 10);
	assert_int_equal(next, 5);
	assert_int_equal(seen, 4);
	assert_true(pages >= 2);

	/* after the last: nothing, no more; an unknown conversation: not found */
	j = store_job_new(STORE_REPLAY);
	j->conv = a.id;
	j->after_seq = 5;
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->n_events, 0);
	assert_false(j->replay_more);
	store_job_free(j);
	j = store_job_new(STORE_REPLAY);
	j->conv = a.id + 1000;
	j->after_seq = 0;
	j = run(h, j);
	assert_int_equal(j->status, STORE_NOT_FOUND);
	store_job_free(j);
}

static void test_resume_updates_details(void **state)
{
	struct harness *h = *state;
	struct conv a;
	struct store_job *j;

	create(h, &a, 1000);
	/* lang given: updated; name and email NULL: kept */
	j = resume_job(a.hash, 2000, -1);
	j->lang = xstrdup("pt-BR");
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_string_equal(j->lang, "pt-BR");
	assert_string_equal(j->name, "Ana");
	assert_string_equal(j->email, "ana@example.com");
	store_job_free(j);

	j = run(h, resume_job(a.hash, 2001, -1));
	assert_string_equal(j->lang, "pt-BR");
	assert_string_equal(j->name, "Ana");
	store_job_free(j);

	/* a conversation created without details returns NULLs */
	{
		struct conv b;
		j = run(h, create_job(&b, 1000, NULL, NULL, NULL));
		assert_int_equal(j->status, STORE_OK);
		store_job_free(j);
		j = run(h, resume_job(b.hash, 1001, -1));
		assert_int_equal(j->status, STORE_OK);
		assert_null(j->lang);
		assert_null(j->name);
		assert_null(j->email);
		store_job_free(j);
	}
}

static void test_recent_is_bounded(void **state)
{
	struct harness *h = *state;
	struct conv a;
	struct store_job *jobs[40];
	struct store_job *j;

	create(h, &a, 1000);
	/* 40 messages submitted together (group commit), callbacks in order */
	for (int i = 0; i < 40; i++) {
		char id[16];
		snprintf(id, sizeof(id), "b%d", i);
		jobs[i] = append_job(a.id, id, "batched", 1001 + i, NO_LIMIT);
		store_submit(h->st, jobs[i], done_cb, h);
	}
	assert_int_equal(store_pending(h->st), 40);
	wait_done(h, 40);
	assert_int_equal(store_pending(h->st), 0);
	for (int i = 0; i < 40; i++) {
		assert_ptr_equal(h->done[i], jobs[i]);
		assert_int_equal(jobs[i]->status, STORE_OK);
		assert_int_equal(jobs[i]->seq, i + 1);
	}
	free_done(h);

	j = run(h, resume_job(a.hash, 2000, 38));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->n_events, 2);
	assert_int_equal(j->n_recent, STORE_RECENT_MAX);
	assert_string_equal(j->recent[0].client_id, "b39");
	assert_int_equal(j->recent[0].seq, 40);
	{
		char oldest[16];
		snprintf(oldest, sizeof(oldest), "b%d", 40 - STORE_RECENT_MAX);
		assert_string_equal(j->recent[STORE_RECENT_MAX - 1].client_id, oldest);
	}
	for (size_t i = 1; i < j->n_recent; i++)
		assert_true(j->recent[i].seq < j->recent[i - 1].seq);
	store_job_free(j);
}

static void test_resume_unknown(void **state)
{
	struct harness *h = *state;
	struct conv a;
	unsigned char other[TOKEN_HASH_BYTES];
	char text[TOKEN_TEXT_LEN + 1];
	struct store_job *j;

	create(h, &a, 1000);
	assert_int_equal(token_new(text, other), 0);
	j = run(h, resume_job(other, 1001, 0));
	assert_int_equal(j->status, STORE_NOT_FOUND);
	assert_int_equal(j->n_events, 0);
	assert_int_equal(j->n_recent, 0);
	store_job_free(j);

	/* off by one bit */
	memcpy(other, a.hash, sizeof(other));
	other[TOKEN_HASH_BYTES - 1] ^= 1;
	j = run(h, resume_job(other, 1001, 0));
	assert_int_equal(j->status, STORE_NOT_FOUND);
	store_job_free(j);
}

static void test_resume_expired(void **state)
{
	struct harness *h = *state;
	struct conv a, b, c;
	struct store_job *j;
	int64_t seq;

	/* far in the future */
	create(h, &a, 1000);
	j = run(h, resume_job(a.hash, 1000 + 365LL * 86400 * 1000, 0));
	assert_int_equal(j->status, STORE_EXPIRED);
	assert_int_equal(j->n_events, 0);
	store_job_free(j);

	/* the boundary: exactly ttl idle is still fine, one ms more is not;
	 * a refused resume does not refresh activity */
	create(h, &b, 1000);
	j = run(h, resume_job(b.hash, 1000 + TTL_MS + 1, -1));
	assert_int_equal(j->status, STORE_EXPIRED);
	store_job_free(j);
	j = run(h, resume_job(b.hash, 1000 + TTL_MS, -1));
	assert_int_equal(j->status, STORE_OK);
	store_job_free(j);
	/* ... while a successful resume does: measured from 1000 + TTL now */
	j = run(h, resume_job(b.hash, 1000 + 2 * TTL_MS, -1));
	assert_int_equal(j->status, STORE_OK);
	store_job_free(j);

	/* an append counts as activity too */
	create(h, &c, 1000);
	assert_int_equal(append(h, c.id, "m1", "hi", 1000 + TTL_MS / 2, NO_LIMIT, &seq), STORE_OK);
	j = run(h, resume_job(c.hash, 1000 + TTL_MS / 2 + TTL_MS, 0));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->n_events, 1);
	store_job_free(j);
}

static void test_client_ack(void **state)
{
	struct harness *h = *state;
	struct conv a;
	struct store_job *j;
	const char *q = "SELECT client_seq FROM conversations WHERE id = ?1";

	append_conversation(h, &a); /* last_seq 5 */
	assert_int_equal(sql_int(h->path, q, a.id), 0);

	j = store_job_new(STORE_CLIENT_ACK);
	j->conv = a.id;
	j->client_seq = 3;
	j->now_ms = 3000;
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	store_job_free(j);
	assert_int_equal(sql_int(h->path, q, a.id), 3);

	/* never goes backwards */
	j = store_job_new(STORE_CLIENT_ACK);
	j->conv = a.id;
	j->client_seq = 2;
	j->now_ms = 3001;
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	store_job_free(j);
	assert_int_equal(sql_int(h->path, q, a.id), 3);

	/* never past what exists */
	j = store_job_new(STORE_CLIENT_ACK);
	j->conv = a.id;
	j->client_seq = 99;
	j->now_ms = 3002;
	j = run(h, j);
	store_job_free(j);
	assert_int_equal(sql_int(h->path, q, a.id), 3);

	j = store_job_new(STORE_CLIENT_ACK);
	j->conv = a.id;
	j->client_seq = 5;
	j->now_ms = 3003;
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	store_job_free(j);
	assert_int_equal(sql_int(h->path, q, a.id), 5);
}

static void test_durable_across_reopen(void **state)
{
	struct harness *h = *state;
	struct conv a;
	struct store_job *j;
	int64_t seq;
	const char *q = "SELECT client_seq FROM conversations WHERE id = ?1";

	append_conversation(h, &a);
	j = store_job_new(STORE_CLIENT_ACK);
	j->conv = a.id;
	j->client_seq = 4;
	j = run(h, j);
	store_job_free(j);

	reopen(h);

	j = run(h, resume_job(a.hash, 2000, 0));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->conv, a.id);
	assert_string_equal(j->public_id, a.public_id);
	assert_int_equal(j->seq, 5);
	assert_int_equal(j->n_events, 5);
	expect_event(&j->events[0], 1, "message", "I forgot my password");
	expect_event(&j->events[3], 4, "message", "ol\xc3\xa1 \"quoted\" \\ \n\xf0\x9f\x98\x80");
	assert_int_equal(j->n_recent, 3);
	assert_string_equal(j->name, "Ana");
	store_job_free(j);
	assert_int_equal(sql_int(h->path, q, a.id), 4);

	/* dedup and seq assignment carry on where they were */
	assert_int_equal(append(h, a.id, "m2", "again", 2001, NO_LIMIT, &seq), STORE_DUPLICATE);
	assert_int_equal(seq, 4);
	assert_int_equal(append(h, a.id, "m9", "after reopen", 2002, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 6);

	/* and the migration did not run twice */
	reopen(h);
	assert_int_equal(sql_int(h->path, "PRAGMA user_version", 0), store_schema_version());
	j = run(h, resume_job(a.hash, 2003, 5));
	assert_int_equal(j->n_events, 1);
	expect_event(&j->events[0], 6, "message", "after reopen");
	store_job_free(j);
}

/* A flow step: the customer's message and the bot's replies with the run's
 * new log, slots and a handoff, all in one transaction; then a body-less
 * step (the bot after a backend reply); the run comes back with resume,
 * and FLOWS_DUE finds runs past their deadline or with a call cut off. */
static void test_flow_steps(void **state)
{
	struct harness *h = *state;
	struct conv a, b;
	struct store_job *j;

	create(h, &a, 1000);
	create(h, &b, 1000);

	j = append_job(a.id, "m1", "I forgot my password", 1100, NO_LIMIT);
	add_replies(j, 1, "m1");
	j->flow_op = STORE_FLOW_SAVE;
	j->flow_name = xstrdup("password_reset");
	j->flow_log = xstrdup("{\"v\":1}");
	j->flow_waiting = "answer";
	j->flow_deadline_ms = 5000;
	j->slots = xstrdup("{}");
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 1);
	assert_int_equal(j->extra[0].seq, 2);
	store_job_free(j);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM flow_runs WHERE conversation_id = ?", a.id), 1);

	/* the answer: the call is now in flight */
	j = append_job(a.id, "m2", "ana@example.com", 1200, NO_LIMIT);
	j->flow_op = STORE_FLOW_SAVE;
	j->flow_name = xstrdup("password_reset");
	j->flow_log = xstrdup("{\"v\":2}");
	j->flow_waiting = "http";
	j->slots = xstrdup("{\"email\":\"ana@example.com\"}");
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 3);
	store_job_free(j);

	/* resume hands the run back */
	j = run(h, resume_job(a.hash, 1300, -1));
	assert_int_equal(j->status, STORE_OK);
	assert_string_equal(j->run_log, "{\"v\":2}");
	assert_true(j->run_waiting_http);
	store_job_free(j);

	/* a call that started before this process did is due at once; a run
	 * waiting for an answer only after its deadline */
	j = store_job_new(STORE_FLOWS_DUE);
	j->now_ms = 1400;
	j->started_ms = 1250;
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->n_due, 1);
	assert_int_equal(j->due[0].conv, a.id);
	assert_string_equal(j->due[0].public_id, a.public_id);
	assert_string_equal(j->due[0].flow_log, "{\"v\":2}");
	assert_true(j->due[0].waiting_http);
	assert_string_equal(j->due[0].lang, "en");
	store_job_free(j);
	j = store_job_new(STORE_FLOWS_DUE);
	j->now_ms = 1400;
	j->started_ms = 1000;
	j = run(h, j);
	assert_int_equal(j->n_due, 0);
	store_job_free(j);

	/* the backend's reply: bot frames only, the run ends, a handoff */
	j = store_job_new(STORE_APPEND);
	j->conv = a.id;
	j->now_ms = 1500;
	j->max_events = NO_LIMIT;
	add_replies(j, 2, "m2");
	j->flow_op = STORE_FLOW_END;
	j->handoff_team = xstrdup("accounts");
	j->handoff_reason = xstrdup("password reset request failed: HTTP 500");
	j->handoff_source = "flow";
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->extra[0].seq, 4);
	assert_int_equal(j->extra[1].seq, 5);
	store_job_free(j);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM flow_runs WHERE conversation_id = ?", a.id), 0);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM handoffs WHERE conversation_id = ?"
					  " AND team = 'accounts' AND reason LIKE '%500%' AND source = 'flow'",
				 a.id),
			 1);
	assert_int_equal(sql_int(h->path, "SELECT last_seq FROM conversations WHERE id = ?", a.id), 5);
	/* body-less frames are not turns; slots stay after the run */
	assert_int_equal(sql_int(h->path, "SELECT turns FROM conversations WHERE id = ?", a.id), 2);
	assert_int_equal(sql_int(h->path, "SELECT instr(slots, 'ana@example.com') > 0 FROM conversations"
					  " WHERE id = ?", a.id),
			 1);
	j = run(h, resume_job(a.hash, 1600, 3));
	assert_null(j->run_log);
	assert_int_equal(j->n_events, 2);
	expect_event(&j->events[0], 4, "reply", "reply 1 to m2");
	store_job_free(j);

	/* b waits for an answer until 2000 */
	j = append_job(b.id, "n1", "where is my order", 1100, NO_LIMIT);
	j->flow_op = STORE_FLOW_SAVE;
	j->flow_name = xstrdup("order_status");
	j->flow_log = xstrdup("{}");
	j->flow_waiting = "answer";
	j->flow_deadline_ms = 2000;
	store_job_free(run(h, j));
	j = store_job_new(STORE_FLOWS_DUE);
	j->now_ms = 1999;
	j = run(h, j);
	assert_int_equal(j->n_due, 0);
	store_job_free(j);
	j = store_job_new(STORE_FLOWS_DUE);
	j->now_ms = 2000;
	j = run(h, j);
	assert_int_equal(j->n_due, 1);
	assert_int_equal(j->due[0].conv, b.id);
	assert_false(j->due[0].waiting_http);
	assert_int_equal(j->due[0].deadline_ms, 2000);
	store_job_free(j);
}

/* A body-less step on a full conversation stores nothing. */
static void test_flow_step_on_full_conversation(void **state)
{
	struct harness *h = *state;
	struct conv a;
	struct store_job *j;

	create(h, &a, 1000);
	assert_int_equal(append(h, a.id, "m1", "hi", 1001, 2, NULL), STORE_OK);
	assert_int_equal(append(h, a.id, "m2", "hi", 1002, 2, NULL), STORE_OK);
	j = store_job_new(STORE_APPEND);
	j->conv = a.id;
	j->now_ms = 1003;
	j->max_events = 2;
	add_replies(j, 1, "m2");
	j->handoff_team = xstrdup("x");
	j = run(h, j);
	assert_int_equal(j->status, STORE_FULL);
	store_job_free(j);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM handoffs WHERE conversation_id = ?", a.id), 0);
}

static int callbacks_run;

static void counting_done(struct store_job *job, void *ud)
{
	(void)ud;
	callbacks_run++;
	store_job_free(job);
}

static void test_close_finishes_queued_jobs(void **state)
{
	struct harness *h = *state;
	struct conv a;
	struct store_job *j;

	create(h, &a, 1000);
	/* submitted and closed at once: they are committed, their callbacks
	 * never run, and the jobs are freed (the leak checker sees to that) */
	callbacks_run = 0;
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof(id), "q%d", i);
		store_submit(h->st, append_job(a.id, id, "queued", 1001 + i, NO_LIMIT), counting_done, h);
	}
	store_close(h->st);
	h->st = NULL;
	assert_int_equal(callbacks_run, 0);

	h->st = open_store(h);
	j = run(h, resume_job(a.hash, 2000, 0));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 5);
	assert_int_equal(j->n_events, 5);
	assert_string_equal(j->recent[0].client_id, "q4");
	store_job_free(j);
	assert_int_equal(callbacks_run, 0);
}

/* 1 if a conversation with this public id is in the database. */
static int conv_exists(const char *path, const char *public_id)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int found;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1 FROM conversations WHERE public_id = ?1",
					    -1, &s, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(s, 1, public_id, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	sqlite3_close(db);
	return found;
}

static void test_failed_job(void **state)
{
	struct harness *h = *state;
	struct conv a, b, clash, d;
	struct store_job *j1, *j2, *j3;
	char a_id[CONVERSATION_ID_LEN + 1], b_id[CONVERSATION_ID_LEN + 1];

	/* a CREATE that breaks a UNIQUE constraint (the public id of another
	 * CREATE in the same submission) is reported as FAILED. Whether its
	 * neighbours commit depends on batching; either way what the callback
	 * reports must be the truth: OK means stored, FAILED means not. */
	j1 = create_job(&a, 1000, NULL, NULL, NULL);
	j2 = create_job(&clash, 1000, NULL, NULL, NULL);
	memcpy(j2->public_id, a.public_id, sizeof(j2->public_id));
	j3 = create_job(&b, 1000, "pl", NULL, NULL);
	memcpy(a_id, a.public_id, sizeof(a_id));
	memcpy(b_id, b.public_id, sizeof(b_id));

	h->lg.level = (enum log_level)(LOG_ERROR + 1); /* the failure is expected: no log */
	store_submit(h->st, j1, done_cb, h);
	store_submit(h->st, j2, done_cb, h);
	store_submit(h->st, j3, done_cb, h);
	wait_done(h, 3);
	h->lg.level = LOG_WARN;
	assert_ptr_equal(h->done[0], j1);
	assert_ptr_equal(h->done[1], j2);
	assert_ptr_equal(h->done[2], j3);
	assert_int_equal(j2->status, STORE_FAILED);
	assert_true(j1->status == STORE_OK || j1->status == STORE_FAILED);
	assert_true(j3->status == STORE_OK || j3->status == STORE_FAILED);
	assert_int_equal(conv_exists(h->path, a_id), j1->status == STORE_OK);
	assert_int_equal(conv_exists(h->path, b_id), j3->status == STORE_OK);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM conversations", 0),
			 (j1->status == STORE_OK) + (j3->status == STORE_OK));
	{
		int a_ok = j1->status == STORE_OK, b_ok = j3->status == STORE_OK;
		struct store_job *r;

		free_done(h);
		/* what was reported stored can be resumed; what failed cannot */
		r = run(h, resume_job(a.hash, 1001, -1));
		assert_int_equal(r->status, a_ok ? STORE_OK : STORE_NOT_FOUND);
		store_job_free(r);
		r = run(h, resume_job(b.hash, 1001, -1));
		assert_int_equal(r->status, b_ok ? STORE_OK : STORE_NOT_FOUND);
		if (b_ok)
			assert_string_equal(r->lang, "pl");
		store_job_free(r);
	}

	/* the store carries on, and reports itself healthy after a good commit */
	j1 = run(h, create_job(&d, 2000, NULL, NULL, NULL));
	assert_int_equal(j1->status, STORE_OK);
	store_job_free(j1);
	assert_int_equal(store_healthy(h->st), 1);
	j1 = run(h, resume_job(d.hash, 2001, -1));
	assert_int_equal(j1->status, STORE_OK);
	store_job_free(j1);
}

static void test_append_unknown_conversation(void **state)
{
	struct harness *h = *state;
	struct conv a;
	int64_t seq = -7;

	create(h, &a, 1000);
	assert_int_equal(append(h, a.id + 1000, "m1", "hi", 1001, NO_LIMIT, &seq), STORE_NOT_FOUND);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM events", 0), 0);
	/* and the real one still starts at 1 */
	assert_int_equal(append(h, a.id, "m1", "hi", 1002, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 1);
}

static void test_duplicate_when_full(void **state)
{
	/* protocol.md: "Sending the same id again is safe: the message is
	 * stored once and acknowledged again." A client that re-sends the
	 * message that filled the conversation (its ack was lost in a
	 * disconnect) must get its ack, not conversation_full. */
	struct harness *h = *state;
	struct conv a;
	int64_t seq;

	create(h, &a, 1000);
	assert_int_equal(append(h, a.id, "m1", "one", 1001, 2, &seq), STORE_OK);
	assert_int_equal(append(h, a.id, "m2", "two", 1002, 2, &seq), STORE_OK);
	assert_int_equal(seq, 2);
	assert_int_equal(append(h, a.id, "m3", "three", 1003, 2, &seq), STORE_FULL);
	seq = 0;
	assert_int_equal(append(h, a.id, "m2", "two", 1004, 2, &seq), STORE_DUPLICATE);
	assert_int_equal(seq, 2);
	seq = 0;
	assert_int_equal(append(h, a.id, "m1", "one", 1005, 2, &seq), STORE_DUPLICATE);
	assert_int_equal(seq, 1);
}

/* The store enforces id uniqueness itself (no unique index): it must hold
 * for old ids and across a restart, when the store thread's cache is cold,
 * and a resent id must not take a seq. */
static void test_duplicate_after_reopen(void **state)
{
	struct harness *h = *state;
	struct conv a, b;
	char id[16];
	int64_t seq;

	create(h, &a, 1000);
	create(h, &b, 1000);
	for (int i = 1; i <= 50; i++) {
		snprintf(id, sizeof(id), "m%d", i);
		assert_int_equal(append(h, a.id, id, "text", 1000 + i, 1000, &seq), STORE_OK);
		assert_int_equal(seq, i);
	}
	assert_int_equal(append(h, b.id, "m1", "same id, other conversation", 1100, 1000, &seq), STORE_OK);
	assert_int_equal(seq, 1);
	reopen(h);
	assert_int_equal(append(h, a.id, "m3", "text", 1200, 1000, &seq), STORE_DUPLICATE);
	assert_int_equal(seq, 3);
	assert_int_equal(append(h, a.id, "m50", "text", 1201, 1000, &seq), STORE_DUPLICATE);
	assert_int_equal(seq, 50);
	assert_int_equal(append(h, a.id, "m51", "text", 1202, 1000, &seq), STORE_OK);
	assert_int_equal(seq, 51);
	assert_int_equal(append(h, a.id, "m51", "text", 1203, 1000, &seq), STORE_DUPLICATE);
	assert_int_equal(seq, 51);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM events WHERE conversation_id = ?1",
				 a.id), 51);
}

/* The statistics and the unanswered list run on the reader: while another
 * connection holds the write lock, and a message waits for it on the store
 * thread, both come back; the message is stored once the lock is gone. */
static void test_reports_do_not_wait_for_the_writer(void **state)
{
	struct harness *h = *state;
	struct store_job *app, *stats, *unanswered;
	struct conv a;
	sqlite3 *db = NULL;
	json_t *o;

	append_conversation(h, &a);
	assert_int_equal(sqlite3_open(h->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	app = append_job(a.id, "m9", "held up", 3000, NO_LIMIT);
	store_submit(h->st, app, done_cb, h);
	stats = store_job_new(STORE_STATS);
	stats->started_ms = 0;
	stats->now_ms = 4000;
	store_submit(h->st, stats, done_cb, h);
	unanswered = store_job_new(STORE_UNANSWERED);
	unanswered->started_ms = 0;
	store_submit(h->st, unanswered, done_cb, h);

	wait_done(h, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_true(h->done[i] == stats || h->done[i] == unanswered);
		assert_int_equal(h->done[i]->status, STORE_OK);
	}
	o = json_loads(stats->context, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "to")), 4000);
	json_decref(o);
	assert_string_equal(unanswered->context, "[]");

	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	wait_done(h, 3);
	assert_ptr_equal(h->done[2], app);
	assert_int_equal(app->status, STORE_OK);
	assert_int_equal(app->seq, 6);
	free_done(h);
}

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* A database written before events were chained (schema 7: an index on
 * conversation and seq) is chained by the upgrade: replays, recent ids,
 * duplicates and ratings read two interleaved conversations right after
 * it, and appends carry on from their last links. */
static void test_upgrade_chains_events(void **state)
{
	struct harness *h = *state;
	struct conv a, b;
	struct store_job *j;
	int64_t seq;

	append_conversation(h, &a);
	create(h, &b, 1000);
	assert_int_equal(append(h, b.id, "b1", "other", 1004, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(append(h, a.id, "m4", "four", 1005, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 6);
	assert_int_equal(append(h, b.id, "b2", "other again", 1006, NO_LIMIT, &seq), STORE_OK);
	store_close(h->st);
	h->st = NULL;
	/* back to schema 7: undo 8 (the chain) and every migration after it */
	sql_exec(h->path, "ALTER TABLE tickets DROP COLUMN closed_by;"
			  " ALTER TABLE events DROP COLUMN prev_id;"
			  " ALTER TABLE conversations DROP COLUMN last_event_id;"
			  " DROP INDEX events_agent;"
			  " CREATE UNIQUE INDEX events_seq ON events(conversation_id, seq);"
			  " PRAGMA user_version = 7;");
	h->st = open_store(h);

	j = run(h, resume_job(a.hash, 2000, 0));
	assert_int_equal(j->status, STORE_OK);
	assert_int_equal(j->seq, 6);
	assert_int_equal(j->n_events, 6);
	for (size_t i = 0; i < j->n_events; i++)
		assert_int_equal(j->events[i].seq, (int64_t)i + 1);
	expect_event(&j->events[5], 6, "message", "four");
	assert_int_equal(j->n_recent, 4);
	assert_string_equal(j->recent[0].client_id, "m4");
	assert_string_equal(j->recent[3].client_id, "m1");
	store_job_free(j);

	assert_int_equal(append(h, a.id, "m2", "again", 2001, NO_LIMIT, &seq), STORE_DUPLICATE);
	assert_int_equal(seq, 4);
	assert_int_equal(append(h, a.id, "m5", "five", 2002, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 7);
	assert_int_equal(append(h, b.id, "b3", "third", 2003, NO_LIMIT, &seq), STORE_OK);
	assert_int_equal(seq, 3);

	j = run(h, resume_job(b.hash, 2004, 1));
	assert_int_equal(j->n_events, 2);
	expect_event(&j->events[0], 2, "message", "other again");
	expect_event(&j->events[1], 3, "message", "third");
	store_job_free(j);
	j = run(h, resume_job(a.hash, 2005, 5));
	assert_int_equal(j->n_events, 2);
	expect_event(&j->events[0], 6, "message", "four");
	expect_event(&j->events[1], 7, "message", "five");
	store_job_free(j);

	/* a thumbs down on a reply from before the upgrade finds its question */
	j = store_job_new(STORE_RATE);
	j->conv = a.id;
	j->client_seq = 3;
	j->desk.rating = -1;
	j->now_ms = 2006;
	j = run(h, j);
	assert_int_equal(j->status, STORE_OK);
	store_job_free(j);
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM unanswered WHERE kind = 'thumbs_down'"
					  " AND text = 'I forgot my password' AND conversation_id = ?1",
				 a.id),
			 1);
	/* every event has its link but each conversation's first */
	assert_int_equal(sql_int(h->path, "SELECT count(*) FROM events WHERE prev_id IS NULL", 0), 2);
}

static void test_schema_version(void **state)
{
	struct harness *h = *state;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	assert_int_equal(sqlite3_open_v2(h->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), store_schema_version());
	assert_true(store_schema_version() >= 5);
	sqlite3_finalize(s);
	/* a time range of events (the statistics) is read through an index,
	 * not by scanning every event ever stored */
	assert_int_equal(sqlite3_prepare_v2(db,
					    "EXPLAIN QUERY PLAN SELECT count(*) FROM events"
					    " WHERE created_at >= 5 AND kind <> 'message'",
					    -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_non_null(strstr((const char *)sqlite3_column_text(s, 3), "events_created"));
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
					    " AND name IN ('conversations', 'events', 'flow_runs', 'handoffs',"
					    " 'agents', 'queue', 'tickets', 'notes', 'assignments',"
					    " 'unanswered', 'answer_ratings')",
					    -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 11);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
	struct harness *h = *state;
	struct store_options opt = {.path = h->path};
	sqlite3 *db = NULL;
	char err[256] = "";

	assert_int_equal(sqlite3_open(h->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(&opt, &h->lg, &h->m, wake_cb, h, err, sizeof(err)));
	assert_non_null(strstr(err, "99"));
	assert_int_equal(sql_int(h->path, "PRAGMA user_version", 0), 99);
}

static void test_not_a_database(void **state)
{
	struct harness *h = *state;
	struct store_options opt = {.path = h->path};
	char err[256] = "";
	char junk[4096], back[sizeof(junk)];
	FILE *f;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = "this is not a database\n"[i % 23];
	f = fopen(h->path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);

	assert_null(store_open(&opt, &h->lg, &h->m, wake_cb, h, err, sizeof(err)));
	assert_true(strlen(err) > 0);
	assert_non_null(strstr(err, "not a database"));

	/* and the file was left as it was */
	f = fopen(h->path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, sizeof(back), f), sizeof(back));
	assert_int_equal(fgetc(f), EOF);
	fclose(f);
	assert_memory_equal(junk, back, sizeof(junk));
}

static void test_unopenable_path(void **state)
{
	struct harness *h = *state;
	char path[256];
	struct store_options opt = {.path = path};
	char err[512] = "";

	snprintf(path, sizeof(path), "%s/no/such/dir/supportd.db", h->dir);
	assert_null(store_open(&opt, &h->lg, &h->m, wake_cb, h, err, sizeof(err)));
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_append_assigns_seq, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_client_id, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_in_one_batch, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_replay_in_pages, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_resume, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_flow_steps, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_flow_step_on_full_conversation, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_resume_updates_details, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_recent_is_bounded, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_resume_unknown, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_resume_expired, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_client_ack, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_durable_across_reopen, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_close_finishes_queued_jobs, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_failed_job, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_append_unknown_conversation, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_when_full, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_after_reopen, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_append_assigns_seq, setup_open_normal, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_client_id, setup_open_normal, teardown),
		cmocka_unit_test_setup_teardown(test_resume, setup_open_normal, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_after_reopen, setup_open_normal, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_chains_events, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_reports_do_not_wait_for_the_writer, setup_open,
						teardown),
		cmocka_unit_test_setup_teardown(test_schema_version, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unopenable_path, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
