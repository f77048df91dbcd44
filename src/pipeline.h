/* pipeline.h: runs one customer message through the Lua pipeline and
 * returns the bot's decision.
 *
 * The pipeline is lua/pipeline.lua under the content directory; script.c
 * runs it. Whatever the script does, pipeline_run() returns something the
 * customer can be shown: a failing script becomes a logged error and a
 * polite apology in the conversation's language. */
#ifndef SUPPORTD_PIPELINE_H
#define SUPPORTD_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "metrics.h"
#include "script.h"
#include "wire.h"

typedef struct pipeline pipeline;

/* One message to decide on. Everything is borrowed for the call. */
struct pipeline_input {
	const char *conversation;  /* public id, for the script and the logs */
	const char *lang;          /* may be NULL */
	const char *name;          /* may be NULL */
	int64_t turn;
	const char *text;
	size_t text_len;
};

/* The bot's decision: zero or more replies. */
struct pipeline_decision {
	struct wire_reply *replies; /* owned array */
	size_t n;
	int failed;                 /* the script failed; replies hold the apology */
};

/* Loads CONTENT_DIR/lua/pipeline.lua. Borrows lg and m. Returns NULL and
 * writes the reason into err when the script cannot be loaded. */
pipeline *pipeline_open(const char *content_dir, const struct script_limits *lim,
			const logger *lg, struct metrics *m, char *err, size_t errlen);

void pipeline_close(pipeline *p);

/* Decides on one message. Never fails. */
void pipeline_run(pipeline *p, const struct pipeline_input *in, struct pipeline_decision *out);

/* Frees what a decision holds. */
void pipeline_decision_clear(struct pipeline_decision *d);

#endif
