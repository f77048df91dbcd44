/* flow.h: self-service flows, lua/flows/<name>.lua, as coroutines.
 *
 * A flow is a Lua function run as a coroutine per conversation, in the
 * script VM, with the API of docs/flows.md: say, ask, handoff, http.get /
 * http.post, slots, t. It stops whenever it needs an input it does not
 * have: the customer's next answer (ask) or the backend's reply (http).
 * The caller stores the run's replay log (flowlog.h) with what the flow
 * said, and feeds the input when it comes.
 *
 * Runs are kept live in memory while their conversation is. A run that is
 * not live (after a restart, or once its conversation left memory) is
 * rebuilt from its log: the flow runs again from the start, each logged
 * input is handed back where the flow asks for it, and everything it says
 * on the way is dropped, because the customer has it already. So a flow
 * must not keep state outside the API: the rule for authors is in
 * docs/flows.md. A rebuilt run that asks for a different input than the
 * log holds (the flow was changed meanwhile) fails.
 *
 * Every resume runs under an instruction budget and a heap allowance. A
 * flow that raises an error, exceeds a limit or calls a URL outside the
 * allow-list fails: the outcome is FLOW_FAILED with the reason, and the
 * traceback goes to the log. Loop thread only. */
#ifndef SUPPORTD_FLOW_H
#define SUPPORTD_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "diag.h"
#include "flowlog.h"
#include "script.h"
#include "wire.h"

typedef struct flowhost flowhost;

#define FLOW_FILE_MAX (256 * 1024)
#define FLOW_SLOTS_MAX 16384       /* bytes of a run's slots as JSON */
#define FLOW_SAYS_MAX 16           /* replies one step may say */

/* The conversation a run belongs to. Borrowed for a call. */
struct flow_conv {
	const char *id;            /* public conversation id: the run's key */
	const char *name;          /* customer's name, may be NULL */
};

enum flow_status {
	FLOW_WAIT_ANSWER,          /* waiting for the customer's next message */
	FLOW_WAIT_HTTP,            /* waiting for `call`: send it once this step is stored */
	FLOW_DONE,                 /* the flow returned */
	FLOW_HANDOFF,              /* the flow handed the conversation to a person */
	FLOW_FAILED,               /* error or limit: apologise and hand off */
};

/* A backend call the flow is waiting for. */
struct flow_call {
	char method[8];
	char *url;                 /* owned */
	char *body;                /* owned JSON, or NULL */
};

/* What one step of a run did. */
struct flow_outcome {
	enum flow_status status;
	struct wire_reply *replies; /* owned: what it said, in order */
	size_t n;
	struct flow_call call;     /* FLOW_WAIT_HTTP */
	char *team;                /* owned. HANDOFF, FAILED: who takes over */
	char *reason;              /* owned. HANDOFF, FAILED: why (for agents and the log) */
	char *slots;               /* owned JSON of the run's slots, or NULL if unknown */
	char *ticket_email;        /* owned: ticket{} asked for an offline ticket, else NULL */
	char *ticket_message;      /* owned */
};

/* Loads lua/flows/<name>.lua and the string catalogs lua/locale/<lang>.lua
 * under content_dir into sc's VM, and compiles cfg's flows.patterns. Each
 * problem goes to d as "file:line: reason". Borrows sc, cfg and lg (they
 * must outlive the host). Returns NULL if there was any problem. */
flowhost *flowhost_open(script *sc, const char *content_dir, const struct config *cfg,
			const logger *lg, struct diag *d);

void flowhost_close(flowhost *fh);

/* 1 if a flow of that name was loaded. */
int flowhost_has(const flowhost *fh, const char *name);

/* Number of flows loaded. */
size_t flowhost_count(const flowhost *fh);

/* The catalog text for key in lang (falling back to English), for what the
 * daemon itself says about flows and the desk ("flow.timeout", "flow.error",
 * "flow.handoff", "flow.busy", "desk.joined", "desk.closed",
 * "desk.csat_thanks", "desk.offline", "desk.closed_hours",
 * "answer.other_language", "bot.apology"). Borrowed; never
 * NULL (the key itself). */
const char *flowhost_text(const flowhost *fh, const char *lang, const char *key);

/* Calls fn for every key the English catalog has and lang's lacks, for
 * every other language of lua/locale/ (customers get the English text). */
void flowhost_missing_texts(flowhost *fh, void (*fn)(void *ud, const char *lang, const char *key),
			    void *ud);

/* The customer widget's texts, every catalog's widget.* keys as one JSON
 * object per language ({"en": {"title": ..., "err": {...}}, "pt": ...}),
 * a language's missing keys filled in from English. Built when the
 * catalogs load; borrowed from fh. /widget.js carries it (server.c). */
const char *flowhost_widget_strings(const flowhost *fh);

/* flowhost_text with "{name}" replaced by value (once). A new string. */
char *flowhost_fill(const flowhost *fh, const char *lang, const char *key, const char *name,
		    const char *value);

/* Starts a run of log->flow (log fresh from flowlog_init). */
void flow_start(flowhost *fh, const struct flow_conv *conv, struct flowlog *log,
		struct flow_outcome *out);

/* Hands the customer's answer to the run waiting for it (rebuilding it
 * from log if it is not live) and goes on. Appends the answer to log. */
void flow_answer(flowhost *fh, const struct flow_conv *conv, struct flowlog *log,
		 const char *text, const char *choice, struct flow_outcome *out);

/* Hands a backend reply to the run waiting for it and goes on. Resolves
 * the log's PENDING entry. */
void flow_reply(flowhost *fh, const struct flow_conv *conv, struct flowlog *log,
		const struct backend_result *r, struct flow_outcome *out);

/* A run whose log ends with a call that will never be answered (the daemon
 * stopped while it was in flight): the call counts as failed with
 * "interrupted", and the run goes on from there. */
void flow_recover(flowhost *fh, const struct flow_conv *conv, struct flowlog *log,
		  struct flow_outcome *out);

/* Forgets the live run of conversation id, if any. */
void flow_drop(flowhost *fh, const char *conv_id);

/* Live runs. */
size_t flow_live(const flowhost *fh);

/* Frees what an outcome holds and zeroes it. */
void flow_outcome_clear(struct flow_outcome *o);

/* Checks an e-mail address's shape (what ask's "email" validator does). */
int flow_email_valid(const char *s, size_t len);

#endif
