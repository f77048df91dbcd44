/* metrics.h: counters and histograms for /metrics.
 *
 * Updated from the event loop and the store thread, so every field is a
 * C11 atomic; reads for rendering are relaxed snapshots. Error counters are
 * indexed by enum wire_error, frame counters by enum metrics_frame. */
#ifndef SUPPORTD_METRICS_H
#define SUPPORTD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum metrics_frame {
	MF_WELCOME, MF_ACK, MF_MESSAGE, MF_REPLY, MF_TYPING, MF_ERROR, MF__COUNT
};

#define METRICS_COMMIT_BUCKETS 12
#define METRICS_WAIT_BUCKETS 8     /* queue waits and first responses, in seconds */

/* What the bot's replies were (the part of their source before ':'). */
enum metrics_answer {
	MA_FAQ, MA_INTENT, MA_CLARIFY, MA_FALLBACK, MA_FLOW, MA_HANDOFF, MA_GREETING, MA_OTHER,
	MA__COUNT
};

/* A histogram of seconds with the buckets of METRICS_WAIT_BUCKETS. */
struct metrics_seconds {
	atomic_ulong bucket[METRICS_WAIT_BUCKETS + 1]; /* last is +Inf */
	atomic_ulong count;
	atomic_ulong msec_sum;
};

struct metrics {
	atomic_long conn_chat;                 /* open customer connections */
	atomic_ulong conn_chat_total;          /* accepted since start */
	atomic_ulong conn_refused_total;       /* refused: limits, draining */
	atomic_ulong messages_in_total;        /* customer messages stored */
	atomic_ulong duplicates_total;         /* duplicate message ids */
	atomic_ulong frames_out[MF__COUNT];
	atomic_ulong errors[WIRE_ERR__COUNT];
	atomic_ulong script_errors_total;
	atomic_ulong resumes_total;
	atomic_ulong backend_calls_total;      /* flow calls to the backend, ended */
	atomic_ulong backend_errors_total;     /* ... of which got no usable reply */
	atomic_ulong flows_started_total;
	atomic_ulong flows_failed_total;       /* ended by a script error or limit */
	atomic_ulong handoffs_total;
	atomic_ulong conversations_total;      /* conversations started */
	atomic_ulong answers_total[MA__COUNT]; /* bot replies by kind */
	atomic_ulong csat_total[5];            /* ratings 1..5 */
	atomic_ulong ratings_total[2];         /* thumbs on bot answers: down, up */
	struct metrics_seconds queue_wait;     /* handoff to an agent taking the chat */
	struct metrics_seconds first_response; /* an agent taking a chat to its first reply */
	atomic_ulong commit_bucket[METRICS_COMMIT_BUCKETS + 1]; /* last is +Inf */
	atomic_ulong commit_count;
	atomic_ulong commit_usec_sum;
	atomic_ulong commit_jobs_total;
	atomic_ulong commit_failures_total;
};

void metrics_init(struct metrics *m);

/* Records one group commit of `jobs` jobs that took `usec`. Thread-safe. */
void metrics_observe_commit(struct metrics *m, uint64_t usec, size_t jobs, int failed);

/* Counts one bot reply by its source ("faq:x", "fallback", ...). */
void metrics_count_answer(struct metrics *m, const char *source);

/* Records one duration in a seconds histogram. */
void metrics_observe_ms(struct metrics_seconds *h, int64_t ms);

/* Renders the Prometheus text exposition. Returns a new malloc'd string
 * (caller frees); `open_conversations` and `store_pending` are sampled by
 * the caller. */
char *metrics_render(const struct metrics *m, long open_conversations, long store_pending);

#endif
