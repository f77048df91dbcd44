/* reload.h: hot reload of the content (faq/, rules/, lua/).
 *
 * A change under the content root (inotify, debounced) or SIGHUP builds a
 * whole new pipeline (brain, script VM, flows, mood, canned responses) on
 * a worker thread, off the event loop. If it loads without a problem, the
 * loop swaps it in between two messages and closes the old one; if not,
 * every problem is logged (event=content_reload_failed) and shown on
 * /healthz and /metrics, and the old content keeps serving. A flow run in
 * progress keeps the content version it started on (bot.c holds it with
 * pipeline_hold) until it ends; new messages and new runs get the new one.
 * One build at a time. Loop thread only, but for the worker it starts. */
#ifndef SUPPORTD_RELOAD_H
#define SUPPORTD_RELOAD_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct reload;

#define RELOAD_PROTOCOL "supportd-reload"
#define RELOAD_ERROR_MAX 512

/* What /healthz and /metrics say about the content. */
struct reload_status {
	int ok;                    /* the last reload (or the start) loaded cleanly */
	unsigned long reloads;     /* reloads swapped in */
	unsigned long failures;    /* reloads refused */
	double last_build_ms;      /* how long the last build took */
	char last_error[RELOAD_ERROR_MAX]; /* the first problem of the last failure */
};

/* Watches d's content root (best effort: without inotify only SIGHUP
 * reloads). Borrows d. */
struct reload *reload_new(struct daemon *d);

/* The inotify descriptor for the loop to watch, or -1. */
int reload_fd(const struct reload *r);

/* Asks for a reload (after a short quiet time, so that an editor saving
 * several files gets one). why (a static string) goes to the log. */
void reload_request(struct reload *r, const char *why);

/* The loop thread's part: swaps in a finished build. Cheap when none. */
void reload_poll(struct reload *r);

const struct reload_status *reload_get_status(const struct reload *r);

/* Stops: cancels a pending reload, waits for a build in flight and drops
 * it. Call before the lws context goes. NULL is fine. */
void reload_free(struct reload *r);

/* The lws protocol callback for the adopted inotify descriptor. */
int reload_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);

#endif
