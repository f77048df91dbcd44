/* chat.h: the customer socket protocol, supportd.chat.v1.
 *
 * Owns the customer connections and the in-memory conversations. Turns
 * frames into store jobs and pipeline runs, and store results into frames:
 * an ack only after the message's transaction committed, replies only
 * after theirs. Every content frame committed for a conversation reaches
 * the connection attached to it, once, in seq order. */
#ifndef SUPPORTD_CHAT_H
#define SUPPORTD_CHAT_H

#include <libwebsockets.h>

struct daemon;
struct chat;

#define CHAT_PROTOCOL "supportd.chat.v1"

/* A new, empty chat module for d. Borrows d. */
struct chat *chat_new(struct daemon *d);

/* Frees every connection record and conversation. Call after the lws
 * context is destroyed. NULL is fine. */
void chat_free(struct chat *ch);

/* Starts the sweep for flows that are due (answer timeouts, backend calls
 * cut off by a restart: the first sweep runs at once). Call once the
 * store and the lws context exist. */
void chat_start(struct chat *ch);

/* Sends a frame that is not stored (queue position, typing) to the
 * customer of conversation conv_id if connected. Takes frame. */
void chat_notify(struct chat *ch, int64_t conv_id, char *frame);

/* Stores an APPEND job of the support desk for conversation conv_id
 * (loading it into memory if needed), delivers its frames once stored,
 * then calls after(job, ud) (also when it failed; NULL is fine). Takes
 * job. */
struct store_job;
void chat_desk_append(struct chat *ch, int64_t conv_id, const char *public_id,
		      struct store_job *job, void (*after)(struct store_job *job, void *ud),
		      void *ud);

/* Stops the sweep (shutdown). */
void chat_stop(struct chat *ch);

/* The libwebsockets protocol callback for supportd.chat.v1. */
int chat_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len);

/* Shutdown, step 1: read nothing more from any customer. */
void chat_pause_all(struct chat *ch);

/* Shutdown, step 2: close every connection with `code` once its queued
 * frames are sent. */
void chat_close_all(struct chat *ch, int code, const char *reason);

long chat_connections(const struct chat *ch);
long chat_conversations(const struct chat *ch);

#endif
