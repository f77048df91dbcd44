/* script.h: the Lua VM host. The only module that touches Lua.
 *
 * One VM per daemon, used from the event loop thread only. Scripts are
 * loaded as text (never bytecode) into an allow-listed environment with no
 * io, os, debug, package, require, load, dofile or string.dump. Every call
 * runs under an instruction budget (a count hook that keeps failing once
 * spent, so a script's own pcall cannot swallow it) and the VM's heap has a
 * hard cap enforced by its allocator. Errors come back with a traceback. */
#ifndef SUPPORTD_SCRIPT_H
#define SUPPORTD_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "brain.h"
#include "mood.h"
#include "log.h"
#include "wire.h"

typedef struct script script;

struct script_limits {
	uint64_t instructions;    /* VM instructions per call */
	size_t memory_bytes;      /* heap cap of the whole VM */
};

/* What a script sees of a conversation: a read-only snapshot. */
struct script_conversation {
	const char *id;           /* public conversation id */
	const char *lang;         /* may be NULL */
	const char *name;         /* may be NULL */
	int64_t turn;             /* customer messages so far, this one included */
	const char *flow;         /* the flow waiting for this message's answer, or NULL */
	const char *choice;       /* the button pressed, or NULL */
	int unsure;               /* the bot's fallbacks in a row before this message */
	const char *topic_team;   /* the team of what it was last about, or NULL */
};

struct script_action;

/* The mood of a message and of its conversation, for on_message. */
struct script_mood {
	const struct mood_score *score;  /* may be NULL */
	const struct mood_trend *trend;  /* may be NULL */
};

#define SCRIPT_MAX_REPLIES 8
#define SCRIPT_MAX_CHOICES 10
#define SCRIPT_MAX_TEXT 16384

/* Loads the script at `path` (at most 1 MiB of Lua text) and runs its main
 * chunk, which must define a global function `on_message`. Borrows lg.
 * Returns NULL and writes "file:line: reason" into err on failure. */
script *script_open(const char *path, const struct script_limits *lim, const logger *lg,
		    char *err, size_t errlen);

/* Closes the VM. NULL is fine. */
void script_close(script *sc);

/* Calls on_message(conversation, text, understanding), where
 * `understanding` is the brain's view of the message (NULL gives the script
 * nil): a table with lang, words, content_words, margin, limited,
 * thresholds {answer, clarify, clarify_margin} and candidates, a list
 * (best first) of {source, kind, name, label, answer, flow, team, faq,
 * priority, confidence, model, retriever, pattern, terms, fuzzy}; see
 * docs/content.md; with mood (may be NULL) it also has `mood` = {score,
 * upset, threat, threats (names), profanity, shouting, why, trend = {level,
 * messages, upset_messages, streak, rising, upset}}. conversation.flow
 * names a flow waiting for an answer.
 * The optional second result is an action table (docs/flows.md), read into
 * *action. On success returns 0 and sets
 * *replies to a new array of *n replies (caller releases each with
 * wire_reply_clear() and frees the array). On a script error, a spent
 * budget, memory exhaustion or a malformed return value, returns -1 and
 * writes the reason (with traceback) into err. */
int script_on_message(script *sc, const struct script_conversation *conv, const char *text,
		      size_t text_len, const struct brain_result *understanding,
		      const struct script_mood *mood, struct wire_reply **replies, size_t *n,
		      struct script_action *action, char *err, size_t errlen);

/* Whether on_message can see its third argument (it declares a third
 * parameter, or takes ...): when not, nothing needs to work it out. */
int script_takes_understanding(const script *sc);

/* Bytes the VM currently holds. */
size_t script_memory(const script *sc);

/* ===== for flow.c, the other module that runs Lua in this VM ===== */

struct lua_State;

/* The VM's main state. Loop thread only. */
struct lua_State *script_vm(script *sc);

/* The logger the VM reports to. */
const logger *script_logger(const script *sc);

/* Pushes the sandbox environment: the table scripts see as _ENV. */
void script_push_sandbox(script *sc);

/* Arms the instruction budget on thread co (a coroutine of this VM, or the
 * main state) and lets the heap grow by at most `memory` bytes from now
 * (0: only the VM's own cap) until script_disarm(). */
void script_arm(script *sc, struct lua_State *co, uint64_t instructions, size_t memory);
void script_disarm(script *sc, struct lua_State *co);

/* Calls the function below nargs arguments on the main state's stack under
 * the budget, with a traceback handler. 0 with nres results left, or -1
 * with the reason in err. */
int script_pcall(script *sc, int nargs, int nres, char *err, size_t errlen);

/* Reads a reply (a string, or a table {text, source, confidence, choices})
 * at idx into *r, checked as on_message's replies are. 0, or -1 with the
 * reason in err (r may then hold part of the reply: wire_reply_clear it). */
int script_read_reply(struct lua_State *L, int idx, struct wire_reply *r, char *err,
		      size_t errlen);

/* What a script asked for besides its replies (on_message's second result). */
struct script_action {
	char *start_flow;         /* start this flow after the replies */
	char *lang;               /* ... in this language */
	char *team;               /* ... handing off to this team if it fails */
	int to_flow;              /* the message answers the waiting flow */
	int cancel_flow;          /* end the waiting flow */
	int handoff;              /* hand the conversation to a person */
	int upset;                /* ... who is upset: first in the queue */
	char *handoff_team, *handoff_reason, *handoff_text; /* may be NULL */
};

/* Frees what an action holds and zeroes it. */
void script_action_clear(struct script_action *a);

#endif
