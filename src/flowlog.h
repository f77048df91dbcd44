/* flowlog.h: the replay log of one flow run.
 *
 * A flow's only inputs are the customer's answers and the backend's
 * replies; the log records each of them in order, so a run can be rebuilt
 * after a restart by running the flow again and feeding it the logged
 * inputs instead of waiting for new ones (flow.h). A PENDING entry marks a
 * backend call that was sent and had no reply yet; replaying one never
 * sends the call again. The log is stored as JSON (flowlog_encode) and
 * checked whole when read back (flowlog_decode). Plain data: no Lua. */
#ifndef SUPPORTD_FLOWLOG_H
#define SUPPORTD_FLOWLOG_H

#include <stddef.h>

#define FLOWLOG_MAX_ENTRIES 256
#define FLOWLOG_MAX_BODY (1 << 20)

enum flowlog_kind {
	FLOWLOG_ANSWER,   /* text (and choice) the customer gave */
	FLOWLOG_HTTP,     /* a backend call's outcome */
	FLOWLOG_PENDING,  /* a backend call in flight; only ever the last entry */
};

struct flowlog_entry {
	enum flowlog_kind kind;
	char *text;       /* owned. ANSWER: the message text */
	char *choice;     /* owned. ANSWER: the button pressed, or NULL */
	int status;       /* HTTP: the reply's status, 0 when there was none */
	char *body;       /* owned. HTTP: the reply body (UTF-8), or NULL */
	char *error;      /* owned. HTTP: why there was no usable reply, or NULL */
};

/* One run: which flow, in which language, for which team, and its inputs. */
struct flowlog {
	char *flow;       /* owned */
	char *lang;       /* owned */
	char *team;       /* owned, may be NULL */
	struct flowlog_entry *v; /* owned */
	size_t n, cap;
};

/* Starts an empty log. Copies the strings; team may be NULL. */
void flowlog_init(struct flowlog *l, const char *flow, const char *lang, const char *team);

/* Frees what l holds and zeroes it. Safe on a zeroed log. */
void flowlog_clear(struct flowlog *l);

/* Makes dst a deep copy of src (dst is overwritten, not cleared). */
void flowlog_copy(struct flowlog *dst, const struct flowlog *src);

/* Appends an input. Return -1 when the log is full (FLOWLOG_MAX_ENTRIES),
 * or when a PENDING entry is last (it must be resolved first). */
int flowlog_add_answer(struct flowlog *l, const char *text, const char *choice);
int flowlog_add_pending(struct flowlog *l);

/* Replaces the last entry, which must be PENDING, with the call's outcome.
 * body may be NULL; error NULL means the call got a reply. -1 if the last
 * entry is not PENDING. */
int flowlog_resolve(struct flowlog *l, int status, const char *body, size_t body_len,
		    const char *error);

/* 1 if the last entry is PENDING. */
int flowlog_pending(const struct flowlog *l);

/* The log as a new JSON string (malloc'd). */
char *flowlog_encode(const struct flowlog *l);

/* Reads a log written by flowlog_encode. Refuses anything else (wrong
 * types, unknown kinds, PENDING not last, too many entries) with a reason
 * in err; *l is then left zeroed. */
int flowlog_decode(const char *json, struct flowlog *l, char *err, size_t errlen);

#endif
