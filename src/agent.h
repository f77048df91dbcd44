/* agent.h: the agent socket protocol, supportd.agent.v1 (docs/desk.md).
 *
 * Owns the agents' connections: reads frames, checks them, and hands each
 * to the support desk (desk.h), which owns the queue and decides. The
 * first frame must be a login; failed logins are rate limited per address.
 * Frames to an agent go through agent_send(). Loop thread only. */
#ifndef SUPPORTD_AGENT_H
#define SUPPORTD_AGENT_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdint.h>

#include "wire.h"

#define AGENT_PROTOCOL "supportd.agent.v1"
#define AGENT_CLOSE_REPLACED 4001  /* the agent logged in on another connection */
#define AGENT_CLOSE_SESSION_ENDED 4002 /* the agent was removed, or given a new token */

struct daemon;
struct agent_conn;
struct agents;

/* Per-session storage size lws must reserve for this protocol. */
#define AGENT_PSS_SIZE sizeof(void *)

/* The connections' registry for d. Borrows d. */
struct agents *agents_new(struct daemon *d);
void agents_free(struct agents *as);

int agent_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len);

/* Queues a frame for the agent; takes frame (a JSON object). */
void agent_send(struct agent_conn *c, json_t *frame);

/* Queues an error frame. in_reply_to may be NULL. */
void agent_error(struct agent_conn *c, enum wire_error code, const char *message,
		 const char *in_reply_to);

/* Login outcome, from the desk: the connection becomes the agent's (id),
 * or is told the login failed and closed. */
void agent_logged_in(struct agent_conn *c, int64_t agent_id);
void agent_login_refused(struct agent_conn *c);

/* The agent logged in on another connection: this one is told and closed. */
void agent_replaced(struct agent_conn *c);

/* The agent's login no longer holds (why: removed, or a new token): the
 * connection is told and closed. */
void agent_session_ended(struct agent_conn *c, const char *why);

/* The agent id a connection is logged in as, 0 before login. */
int64_t agent_id_of(const struct agent_conn *c);

/* A connection's id, and the connection with an id (NULL once closed):
 * callbacks that run later find connections by id, never by pointer. */
uint64_t agent_conn_id(const struct agent_conn *c);
struct agent_conn *agents_find(struct agents *as, uint64_t id);

/* Closes every agent connection with code (shutdown). */
void agents_close_all(struct agents *as, int code, const char *reason);

long agents_connections(const struct agents *as);

#endif
