/* daemon.h: the daemon struct, its start-up and shutdown order.
 *
 * struct daemon is the one object that holds everything; it is handed to
 * libwebsockets as the context user pointer, so every callback reaches it
 * with lws_context_user(). There are no other globals. */
#ifndef SUPPORTD_DAEMON_H
#define SUPPORTD_DAEMON_H

#include <libwebsockets.h>
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "store.h"

struct chat;

#define SUPPORTD_VERSION "0.1.0"

struct daemon {
	struct config cfg;
	logger log;
	struct metrics metrics;
	store *store;                /* owned */
	pipeline *pipeline;          /* owned */
	lemmatizer *lemmas;          /* owned: dictionaries every pipeline shares */
	backend *backend;            /* owned: flows' calls to the company backend */
	struct chat *chat;           /* owned */
	struct agents *agents;       /* owned: agents' connections */
	struct desk *desk;           /* owned: the queue and assignments */
	struct reload *reload;       /* owned: hot reload of the content */
	struct lws_context *lws;     /* owned */
	struct lws_vhost *vhost;     /* borrowed from lws */
	struct server_state *server_state; /* owned by server.c */
	int signal_fd;               /* signalfd for TERM, INT, HUP */
	int signal_fd_adopted;       /* lws owns (and closes) signal_fd */
	int64_t started_ms;          /* monotonic */
	int draining;                /* SIGTERM seen: refuse new work */
	int stop;                    /* leave the event loop */
	int64_t drain_deadline_ms;   /* monotonic */
	lws_sorted_usec_list_t drain_sul; /* drain progress timer */
};

/* Runs the daemon with cfg until SIGTERM or SIGINT. Returns the process
 * exit status: 0 after a clean shutdown, 1 if start-up failed. */
int daemon_run(const struct config *cfg);

/* Starts the graceful shutdown: stop accepting, finish in-flight store
 * work, close clients with 1001, then leave the loop. Idempotent. */
void daemon_begin_drain(struct daemon *d);

/* The lws protocol callback for the adopted signalfd. */
int daemon_signal_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			   void *in, size_t len);

#endif
