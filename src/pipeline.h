/* pipeline.h: runs one customer message through the brain and the Lua
 * pipeline and returns the bot's decision.
 *
 * The brain (brain.h: faq/ and rules/ under the content directory) turns
 * the text into ranked candidates; lua/pipeline.lua, run by script.c,
 * decides from them. Whatever the script does, pipeline_run() returns something the
 * customer can be shown: a failing script becomes a logged error and a
 * polite apology in the conversation's language. */
#ifndef SUPPORTD_PIPELINE_H
#define SUPPORTD_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "brain.h"
#include "config.h"
#include "diag.h"
#include "flow.h"
#include "langid.h"
#include "mood.h"
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
	const char *choice;        /* id of a button the customer pressed, may be NULL */
	const char *flow;          /* the flow waiting for an answer, or NULL */
	int unsure;                /* the bot's fallbacks in a row before this message */
	struct mood_trend *trend;  /* the conversation's mood; this message is added. May be NULL */
	const char *topic_team;    /* the team of what it was last about, or NULL */
	int lang_unsure;           /* lang is a guess: the content that understands the
				    * text best decides (brain_understand_unsure) */
};

/* The bot's decision: zero or more replies. */
struct pipeline_decision {
	struct wire_reply *replies; /* owned array */
	size_t n;
	int failed;                 /* the script failed; replies hold the apology */
	struct script_action action; /* what the script asked for (start a flow, ...) */
	struct mood_score mood;     /* how upset this message reads */
	struct brain_result understood; /* what the brain made of the text */
};

/* Loads the content under cfg->content_dir (faq/, rules/) into a brain,
 * its lua/pipeline.lua into the script host and lua/flows/ into the flow
 * host, with the limits cfg sets; checks that every flow an intent names
 * exists. cfg is borrowed for the pipeline's life, and lemmas (shared
 * dictionaries, text.h; may be NULL) too.
 * Borrows lg and m. Returns NULL when anything is wrong: every content
 * problem is added to d as "file:line: reason", a script problem too. */
pipeline *pipeline_open(const struct config *cfg, const logger *lg, struct metrics *m,
			lemmatizer *lemmas, struct diag *d);

/* The pipeline's brain, for tools that report on it. Borrowed. */
const brain *pipeline_brain(const pipeline *p);

/* The agents' canned responses (rules/canned/) as a JSON array. Borrowed. */
const char *pipeline_canned(const pipeline *p);

/* The flows, which run in the pipeline's script VM. Borrowed. */
flowhost *pipeline_flows(pipeline *p);

/* The logger and metrics the pipeline was opened with. Borrowed. */
const logger *pipeline_logger(const pipeline *p);
struct metrics *pipeline_metrics(pipeline *p);

/* Another reference to p: a flow run in progress holds the content version
 * it started on, so that a reload does not change the flow under the
 * customer (reload.h). Loop thread only. Returns p. */
pipeline *pipeline_hold(pipeline *p);

/* Which of the content's languages text is in (langid.h). With a single
 * language there is nothing to tell apart: lang "" and not sure. */
void pipeline_guess_language(const pipeline *p, const char *text, size_t len,
			     struct langid_guess *out);

/* Whether the text plainly reads as language lang by its function words
 * (langid_reads_as): then it is not a switch to another language, and
 * pipeline_guess_language need not be asked. */
int pipeline_reads_as(const pipeline *p, const char *text, size_t len, const char *lang);

/* 1 if p has more than one reference. */
int pipeline_shared(const pipeline *p);

/* Drops a reference (pipeline_open gives the first); the last frees p.
 * NULL is fine. The last reference may be dropped on any thread. */
void pipeline_close(pipeline *p);

/* Decides on one message. Never fails. A failing script's action is empty. */
void pipeline_run(pipeline *p, const struct pipeline_input *in, struct pipeline_decision *out);

/* Frees what a decision holds. */
void pipeline_decision_clear(struct pipeline_decision *d);

#endif
