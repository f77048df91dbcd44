/* backend.h: outgoing HTTP to the company's backend, for flows.
 *
 * Requests run on the event loop as libwebsockets client connections, so
 * nothing ever blocks. Only URLs under one of the configured base URLs
 * (config flows.backends) may be called: the allow-list is checked before
 * anything is sent, and redirects are never followed. Every request has a
 * connect timeout, a whole-request timeout and a cap on the reply size.
 * https verifies the server's certificate (flows.ca_file, or the system's
 * trust store). Loop thread only. */
#ifndef SUPPORTD_BACKEND_H
#define SUPPORTD_BACKEND_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

typedef struct backend backend;

#define BACKEND_PROTOCOL "supportd.backend"
#define BACKEND_URL_MAX 1024

/* How a request ended. Either status > 0 (a reply, any status) with its
 * body, or status 0 and an error ("timeout", "connection failed: ...",
 * "reply larger than N bytes", ...). */
struct backend_result {
	int status;
	char *body;          /* owned, NUL-terminated, may be NULL */
	size_t body_len;
	char *error;         /* owned, NULL when there is a reply */
};

/* A URL split into the parts the allow-list compares. */
struct backend_url {
	int tls;             /* https */
	char host[256];
	int port;
	char path[BACKEND_URL_MAX]; /* from the first '/', query included */
};

/* Parses an http(s) URL strictly: no user info, no fragment, no spaces or
 * control bytes, no "." or ".." path segments (encoded or not). 0 or -1
 * with the reason in err. */
int backend_parse_url(const char *url, struct backend_url *out, char *err, size_t errlen);

/* 0 if url parses and lies under one of the n base URLs (same scheme, host
 * and port; its path starts with the base's path at a segment boundary).
 * Otherwise -1 and the reason in err. */
int backend_url_allowed(const struct config_named *bases, size_t n, const char *url,
			struct backend_url *parsed, char *err, size_t errlen);

/* Called once per request, from the event loop, never from inside
 * backend_request(). Takes ownership of r's strings. */
typedef void (*backend_done_fn)(void *ud, uint64_t tag, struct backend_result *r);

/* Creates the client side on ctx: a non-listening vhost for backend
 * connections, with the CA file from cfg for https. Borrows everything. */
backend *backend_new(struct lws_context *ctx, const struct config *cfg, const logger *lg,
		     struct metrics *m, char *err, size_t errlen);

/* Frees the client side; requests still in flight end without a call of
 * their done function. NULL is fine. */
void backend_free(backend *b);

/* Sends method ("GET" or "POST") to url, with body as JSON when not NULL.
 * Returns 0 and later calls done(ud, tag, result) exactly once, or -1 at
 * once with the reason in err when the URL is not allowed. */
int backend_request(backend *b, const char *method, const char *url, const char *body,
		    uint64_t tag, backend_done_fn done, void *ud, char *err, size_t errlen);

/* Requests in flight. */
long backend_in_flight(const backend *b);

/* The lws protocol callback for BACKEND_PROTOCOL. */
int backend_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		     size_t len);

/* Frees r's strings. */
void backend_result_clear(struct backend_result *r);

#endif
