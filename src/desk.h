/* desk.h: the support desk: handed-off chats, the queue, agents, offers,
 * assignments, transfers, closing, offline tickets (docs/desk.md).
 *
 * The desk keeps the queue (queue.h) in step with the store: every change
 * is one store job (an APPEND with a store_desk change, through chat.c so
 * that the customer's frames are delivered), and the in-memory queue moves
 * only once the store has it. Offers are not stored: after a restart every
 * chat that was offered is waiting again. Loop thread only. */
#ifndef SUPPORTD_DESK_H
#define SUPPORTD_DESK_H

#include <stdint.h>

#include "conversation.h"
#include "store.h"

struct daemon;
struct agent_conn;
typedef struct desk desk;

desk *desk_new(struct daemon *d);
void desk_free(desk *k);

/* Loads the queue from the store, then starts offering. Call once the
 * store and the lws context exist. */
void desk_start(desk *k);

/* Whether team can take a chat now. */
enum desk_open {
	DESK_OPEN,       /* an agent of the team is online within its hours */
	DESK_NOBODY,     /* within hours, but no agent of the team is online */
	DESK_CLOSED,     /* outside the team's hours */
};
enum desk_open desk_available(const desk *k, const char *team, int64_t now_ms);

/* The team a handoff of a customer writing lang goes to: the language's
 * own team (desk.language_teams) when it can take the chat now, else team
 * (the topic's). Borrowed from the config or team. */
const char *desk_language_team(const desk *k, const char *lang, const char *team,
			       int64_t now_ms);

/* The team to use for a handoff: team if it is a name, else the default. */
const char *desk_team(const desk *k, const char *team);

/* chat.c, after a job of conv was stored (status OK): the desk change it
 * carried, and a customer message in a chat an agent has. */
void desk_on_stored(desk *k, struct conversation *conv, const struct store_job *job);

/* chat.c: the customer is typing; a connection attached to conv. */
void desk_on_customer_typing(desk *k, const struct conversation *conv, int state);
void desk_on_attached(desk *k, const struct conversation *conv);

/* agent.c: a frame from a connection (logged in unless it is the login). */
void desk_login(desk *k, struct agent_conn *c, const char *name, const char *token);
void desk_agent_gone(desk *k, struct agent_conn *c);
void desk_presence(desk *k, struct agent_conn *c, int online);
void desk_queue_view(desk *k, struct agent_conn *c);
void desk_accept(desk *k, struct agent_conn *c, const char *conv);
void desk_message(desk *k, struct agent_conn *c, const char *conv, const char *id,
		  const char *text);
void desk_typing(desk *k, struct agent_conn *c, const char *conv, int state);
void desk_note(desk *k, struct agent_conn *c, const char *conv, const char *text);
void desk_transfer(desk *k, struct agent_conn *c, const char *conv, const char *team,
		   const char *agent);
void desk_close(desk *k, struct agent_conn *c, const char *conv, const char *resolution);
/* An offline message (ticket) of one of the agent's teams is done: every
 * agent of its team is told (ticket_closed). id: the frame's, or NULL. */
void desk_close_ticket(desk *k, struct agent_conn *c, int64_t ticket, const char *id);

/* The agent logged in with this console session key, or 0. */
int64_t desk_session_agent(const desk *k, const char *session);

/* Chats waiting and assigned. */
long desk_waiting(const desk *k);

#endif
