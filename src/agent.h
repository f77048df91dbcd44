/* agent.h: the agent socket protocol, supportd.agent.v1.
 *
 * Reserved for the agent console. For now a connection is told, with an
 * error frame of code not_available, that the protocol is not offered by
 * this version, and closed with 1008. */
#ifndef SUPPORTD_AGENT_H
#define SUPPORTD_AGENT_H

#include <libwebsockets.h>

#define AGENT_PROTOCOL "supportd.agent.v1"

/* Per-session storage size lws must reserve for this protocol. */
#define AGENT_PSS_SIZE sizeof(int)

int agent_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len);

#endif
