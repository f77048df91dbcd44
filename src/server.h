/* server.h: the libwebsockets context: listening socket, HTTP mounts
 * (/healthz, /metrics, static files) and the protocol table
 * (supportd.chat.v1, supportd.agent.v1, and the signalfd). */
#ifndef SUPPORTD_SERVER_H
#define SUPPORTD_SERVER_H

#include <stddef.h>

struct daemon;

/* Creates the context and vhost on d->cfg's address, sets d->lws and
 * d->vhost, and adopts d->signal_fd. Returns 0, or -1 with err filled. */
int server_start(struct daemon *d, char *err, size_t errlen);

/* The port the vhost listens on (useful with port 0). */
int server_port(struct daemon *d);

/* Destroys the context: every connection is closed. */
void server_stop(struct daemon *d);

/* Wakes the event loop from another thread (the store's). */
void server_wake(void *daemon);

#endif
