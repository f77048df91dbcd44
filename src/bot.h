/* bot.h: what the bot does next in a conversation, as one step to store.
 *
 * Three things make the bot act: a customer message, a backend reply to a
 * flow's call, and a flow that is due (no answer in time, or a call cut off
 * by a restart). Each runs the pipeline or the conversation's flow
 * (flow.h) and comes back as a bot_step: the replies, what happens to the
 * flow run, the slots, a handoff, and a backend call to send once the step
 * is stored. chat.c stores a step as one APPEND job (with the customer's
 * message when there is one), so a step is all or nothing, and sends the
 * call only after the commit: a call is never sent for a step the store
 * did not keep.
 *
 * The conversation's in-memory flow state (conversation.h) moves ahead
 * with each step; bot_stored() settles it when the step's job returns.
 * Loop thread only. */
#ifndef SUPPORTD_BOT_H
#define SUPPORTD_BOT_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "conversation.h"
#include "desk.h"
#include "flow.h"
#include "pipeline.h"
#include "store.h"
#include "wire.h"

struct bot_step {
	struct wire_reply *replies;  /* owned, in order */
	size_t n;
	enum store_flow_op flow_op;
	struct flowlog *log;         /* owned. SAVE: the run to store */
	int waiting_http;            /* SAVE: waits for `call` rather than an answer */
	int64_t deadline_ms;         /* SAVE, waiting for an answer */
	char *slots;                 /* owned JSON, or NULL */
	char *handoff_team, *handoff_reason; /* owned; team set: a handoff */
	const char *handoff_source;  /* static: "flow" or "pipeline" */
	struct store_desk desk;      /* the desk change: into the queue, a ticket, reopening */
	char *mood;                  /* owned: the conversation's mood trend as JSON, or NULL */
	const char *unanswered;      /* static: why this message goes on the unanswered list, or NULL */
	char *unanswered_text;       /* owned: the question */
	char *unanswered_candidates; /* owned JSON: the brain's best candidates for it */
	char lang[8];                /* the content language the brain used */
	char detected_lang[8];       /* a language now sure for the conversation, to store; or "" */
	struct flow_call call;       /* method[0] set: send after the step is stored */
};

/* Runs one customer message (text, choice) through the pipeline and the
 * conversation's flow; in a chat that waits for or has an agent, the
 * message is only stored. A handoff goes into the desk's queue when the
 * team can take it, else to an offline ticket (lua/flows/leave_message).
 * k may be NULL (no desk: a handoff always finds someone). */
void bot_on_message(pipeline *p, desk *k, const struct config *cfg, struct conversation *conv,
		    const char *text, size_t len, const char *choice, int64_t now_ms,
		    struct bot_step *out);

/* The reply to the conversation's backend call. */
void bot_on_reply(pipeline *p, desk *k, const struct config *cfg, struct conversation *conv,
		  const struct backend_result *r, int64_t now_ms, struct bot_step *out);

/* The conversation's flow is due: it waited for an answer past its
 * deadline (it ends, politely), or waits for a call no process will
 * answer (the call counts as failed and the flow goes on). */
void bot_on_due(pipeline *p, desk *k, const struct config *cfg, struct conversation *conv,
		int64_t now_ms, struct bot_step *out);

/* 1 if the step has anything to store. */
int bot_step_empty(const struct bot_step *s);

/* Moves the step into an APPEND job (replies become extras answering
 * in_reply_to, which may be NULL), its backend call included. */
void bot_to_job(struct bot_step *s, struct store_job *job, const char *in_reply_to,
		int64_t now_ms);

/* Settles the conversation's flow state once job (made by bot_to_job)
 * has returned: its run becomes the stored one, or, if the job failed,
 * the bot falls back to the stored run and forgets the live coroutine.
 * When the job was stored and its backend call is still wanted, moves the
 * call into *call (else call->method[0] is 0): the caller sends it now. */
void bot_stored(pipeline *p, struct conversation *conv, struct store_job *job,
		struct flow_call *call);

void bot_step_clear(struct bot_step *s);

/* Forgets conv's live flow run (the log stays with conv, and rebuilds the
 * run on p's content if it goes on) and drops its hold on the content
 * version the run started on. For a conversation leaving memory. */
void bot_forget_run(pipeline *p, struct conversation *conv);

#endif
