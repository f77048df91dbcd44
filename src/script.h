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
 * docs/content.md. On success returns 0 and sets
 * *replies to a new array of *n replies (caller releases each with
 * wire_reply_clear() and frees the array). On a script error, a spent
 * budget, memory exhaustion or a malformed return value, returns -1 and
 * writes the reason (with traceback) into err. */
int script_on_message(script *sc, const struct script_conversation *conv, const char *text,
		      size_t text_len, const struct brain_result *understanding,
		      struct wire_reply **replies, size_t *n, char *err, size_t errlen);

/* Bytes the VM currently holds. */
size_t script_memory(const script *sc);

#endif
