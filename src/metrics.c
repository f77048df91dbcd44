/* metrics.c: Prometheus text exposition, format 0.0.4. See metrics.h. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds of the commit latency buckets, in microseconds. */
static const uint64_t commit_le_usec[METRICS_COMMIT_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000};

static const char *frame_names[MF__COUNT] = {
	"welcome", "ack", "message", "reply", "typing", "error"};

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

void metrics_observe_commit(struct metrics *m, uint64_t usec, size_t jobs, int failed)
{
	size_t b = 0;
	while (b < METRICS_COMMIT_BUCKETS && usec > commit_le_usec[b])
		b++;
	atomic_fetch_add_explicit(&m->commit_bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->commit_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->commit_usec_sum, usec, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->commit_jobs_total, jobs, memory_order_relaxed);
	if (failed)
		atomic_fetch_add_explicit(&m->commit_failures_total, 1, memory_order_relaxed);
}

/* A growable string for the rendering. Aborts on allocation failure. */
struct buf {
	char *p;
	size_t len, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0);
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void counter(struct buf *b, const char *name, const char *help, unsigned long v)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s counter\n%s %lu\n", name, help, name, name, v);
}

static const char *const answer_names[MA__COUNT] = {
	"faq", "intent", "clarify", "fallback", "flow", "handoff", "greeting", "other"};

/* Upper bounds of the wait buckets, in seconds. */
static const double wait_le_sec[METRICS_WAIT_BUCKETS] = {5, 15, 30, 60, 120, 300, 600, 1800};

void metrics_count_answer(struct metrics *m, const char *source)
{
	size_t n = strcspn(source, ":");
	int k = MA_OTHER;
	for (int i = 0; i < MA__COUNT - 1; i++)
		if (strlen(answer_names[i]) == n && !strncmp(source, answer_names[i], n))
			k = i;
	atomic_fetch_add_explicit(&m->answers_total[k], 1, memory_order_relaxed);
}

void metrics_observe_ms(struct metrics_seconds *h, int64_t ms)
{
	int b = 0;
	if (ms < 0)
		ms = 0;
	while (b < METRICS_WAIT_BUCKETS && (double)ms / 1000.0 > wait_le_sec[b])
		b++;
	atomic_fetch_add_explicit(&h->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->msec_sum, (unsigned long)ms, memory_order_relaxed);
}

struct buf;
static void seconds(struct buf *b, const char *name, const char *help,
		    const struct metrics_seconds *h);

char *metrics_render(const struct metrics *m, long open_conversations, long store_pending)
{
	struct buf b = {malloc(4096), 0, 4096};
	unsigned long cum = 0;

	if (!b.p)
		abort();
	bprintf(&b, "# HELP supportd_connections Open websocket connections.\n"
		    "# TYPE supportd_connections gauge\n"
		    "supportd_connections{protocol=\"chat\"} %ld\n", (long)LOAD(m->conn_chat));
	counter(&b, "supportd_connections_total", "Customer connections accepted.", LOAD(m->conn_chat_total));
	counter(&b, "supportd_connections_refused_total", "Connections refused by a limit or during shutdown.",
		LOAD(m->conn_refused_total));
	bprintf(&b, "# HELP supportd_conversations_open Conversations held in memory.\n"
		    "# TYPE supportd_conversations_open gauge\nsupportd_conversations_open %ld\n",
		open_conversations);
	counter(&b, "supportd_messages_in_total", "Customer messages accepted and stored.",
		LOAD(m->messages_in_total));
	counter(&b, "supportd_duplicates_total", "Customer messages whose id was already stored.",
		LOAD(m->duplicates_total));
	counter(&b, "supportd_resumes_total", "Conversations resumed with a token.", LOAD(m->resumes_total));
	counter(&b, "supportd_backend_calls_total", "Flow calls to the backend that ended.",
		LOAD(m->backend_calls_total));
	counter(&b, "supportd_backend_errors_total",
		"Flow calls to the backend that got no reply (timeout, connection, size).",
		LOAD(m->backend_errors_total));
	counter(&b, "supportd_flows_started_total", "Self-service flows started.",
		LOAD(m->flows_started_total));
	counter(&b, "supportd_flows_failed_total",
		"Flows ended by a script error or a sandbox limit.", LOAD(m->flows_failed_total));
	counter(&b, "supportd_handoffs_total", "Conversations handed to a person.",
		LOAD(m->handoffs_total));
	counter(&b, "supportd_script_errors_total", "Pipeline script calls that failed.",
		LOAD(m->script_errors_total));
	bprintf(&b, "# HELP supportd_frames_out_total Frames sent to clients.\n"
		    "# TYPE supportd_frames_out_total counter\n");
	for (int i = 0; i < MF__COUNT; i++)
		bprintf(&b, "supportd_frames_out_total{type=\"%s\"} %lu\n", frame_names[i],
			LOAD(m->frames_out[i]));
	bprintf(&b, "# HELP supportd_errors_total Error frames sent, by code.\n"
		    "# TYPE supportd_errors_total counter\n");
	for (int i = 0; i < WIRE_ERR__COUNT; i++)
		bprintf(&b, "supportd_errors_total{code=\"%s\"} %lu\n",
			wire_error_code((enum wire_error)i), LOAD(m->errors[i]));
	bprintf(&b, "# HELP supportd_store_pending Store jobs queued or running.\n"
		    "# TYPE supportd_store_pending gauge\nsupportd_store_pending %ld\n", store_pending);
	counter(&b, "supportd_store_jobs_total", "Store jobs committed.", LOAD(m->commit_jobs_total));
	counter(&b, "supportd_store_commit_failures_total", "Group commits that failed.",
		LOAD(m->commit_failures_total));
	bprintf(&b, "# HELP supportd_store_commit_seconds Time to run and commit one batch.\n"
		    "# TYPE supportd_store_commit_seconds histogram\n");
	for (int i = 0; i < METRICS_COMMIT_BUCKETS; i++) {
		cum += LOAD(m->commit_bucket[i]);
		bprintf(&b, "supportd_store_commit_seconds_bucket{le=\"%g\"} %lu\n",
			(double)commit_le_usec[i] / 1e6, cum);
	}
	cum += LOAD(m->commit_bucket[METRICS_COMMIT_BUCKETS]);
	bprintf(&b, "supportd_store_commit_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
	bprintf(&b, "supportd_store_commit_seconds_sum %.6f\n", (double)LOAD(m->commit_usec_sum) / 1e6);
	bprintf(&b, "supportd_store_commit_seconds_count %lu\n", LOAD(m->commit_count));
	counter(&b, "supportd_conversations_total", "Conversations started.",
		LOAD(m->conversations_total));
	bprintf(&b, "# HELP supportd_answers_total Bot replies by kind of source.\n"
		    "# TYPE supportd_answers_total counter\n");
	for (int i = 0; i < MA__COUNT; i++)
		bprintf(&b, "supportd_answers_total{source=\"%s\"} %lu\n", answer_names[i],
			LOAD(m->answers_total[i]));
	bprintf(&b, "# HELP supportd_csat_total Customer ratings of closed chats.\n"
		    "# TYPE supportd_csat_total counter\n");
	for (int i = 0; i < 5; i++)
		bprintf(&b, "supportd_csat_total{rating=\"%d\"} %lu\n", i + 1, LOAD(m->csat_total[i]));
	bprintf(&b, "# HELP supportd_answer_ratings_total Thumbs on bot answers.\n"
		    "# TYPE supportd_answer_ratings_total counter\n"
		    "supportd_answer_ratings_total{value=\"down\"} %lu\n"
		    "supportd_answer_ratings_total{value=\"up\"} %lu\n",
		LOAD(m->ratings_total[0]), LOAD(m->ratings_total[1]));
	seconds(&b, "supportd_queue_wait_seconds", "From a handoff to an agent taking the chat.",
		&m->queue_wait);
	seconds(&b, "supportd_first_response_seconds",
		"From an agent taking a chat to its first reply.", &m->first_response);
	return b.p;
}

static void seconds(struct buf *b, const char *name, const char *help,
		    const struct metrics_seconds *h)
{
	unsigned long cum = 0;
	bprintf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (int i = 0; i < METRICS_WAIT_BUCKETS; i++) {
		cum += LOAD(h->bucket[i]);
		bprintf(b, "%s_bucket{le=\"%g\"} %lu\n", name, wait_le_sec[i], cum);
	}
	cum += LOAD(h->bucket[METRICS_WAIT_BUCKETS]);
	bprintf(b, "%s_bucket{le=\"+Inf\"} %lu\n", name, cum);
	bprintf(b, "%s_sum %.3f\n%s_count %lu\n", name, (double)LOAD(h->msec_sum) / 1000.0, name,
		LOAD(h->count));
}
