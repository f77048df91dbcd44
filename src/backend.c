/* backend.c: outgoing HTTP for flows on libwebsockets. See backend.h.
 *
 * A request is owned by the backend from backend_request() until its done
 * function has run. Its wsi points at it through lws's opaque user data;
 * when the request ends first (timeout, size cap), that pointer is cleared
 * and the wsi is told to close, so later callbacks of the dying wsi find
 * nothing. The result is handed over from a zero-delay timer, never from
 * inside an lws callback of the request's own wsi. */
#include "backend.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "xalloc.h"

struct request {
	backend *b;                  /* borrowed */
	struct lws *wsi;             /* borrowed from lws; NULL once detached */
	uint64_t tag;
	backend_done_fn done;
	void *ud;
	char method[8];
	char *body;                  /* owned: the JSON to send, or NULL */
	size_t body_len, sent;
	int connected;               /* the backend answered with headers */
	int finished;                /* the result is set; reporting is scheduled */
	struct backend_result res;
	char *rx;                    /* owned: the reply so far */
	size_t rx_len, rx_cap;
	char url[BACKEND_URL_MAX];   /* for the logs (never holds the body) */
	int64_t started_ms;
	lws_sorted_usec_list_t timer;  /* connect, then whole-request deadline */
	lws_sorted_usec_list_t report; /* hands the result to done */
	struct request *prev, *next;
};

struct backend {
	struct lws_context *ctx;     /* borrowed */
	struct lws_vhost *vhost;     /* owned by lws */
	const struct config *cfg;    /* borrowed */
	const logger *lg;            /* borrowed */
	struct metrics *m;           /* borrowed */
	struct request *reqs;        /* in flight, doubly linked */
	long n;
};

void backend_result_clear(struct backend_result *r)
{
	free(r->body);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

/* ===== URLs ===== */

/* 1 if the path has a "." or ".." segment, literal or percent-encoded, or
 * an encoded slash: any of them could step outside the base path on the
 * server's side. */
static int path_escapes(const char *p)
{
	for (const char *s = p; *s && *s != '?'; s++)
		if (*s == '%' && s[1] && (s[1] == '2') && (tolower((unsigned char)s[2]) == 'e' ||
							   tolower((unsigned char)s[2]) == 'f'))
			return 1;
	for (const char *s = p; *s && *s != '?';) {
		const char *seg = s + 1, *end = seg;
		while (*end && *end != '/' && *end != '?')
			end++;
		size_t len = (size_t)(end - seg);
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return 1;
		if (*end != '/')
			break;
		s = end;
	}
	return 0;
}

int backend_parse_url(const char *url, struct backend_url *out, char *err, size_t errlen)
{
	const char *p = url, *host, *host_end, *path;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (strlen(url) >= BACKEND_URL_MAX) {
		snprintf(err, errlen, "URL longer than %d bytes", BACKEND_URL_MAX - 1);
		return -1;
	}
	for (const char *s = url; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '#' || *s == '\\') {
			snprintf(err, errlen, "URL has a space, control, non-ASCII, '#' or '\\' byte");
			return -1;
		}
	if (!strncmp(p, "https://", 8)) {
		out->tls = 1;
		p += 8;
	} else if (!strncmp(p, "http://", 7)) {
		p += 7;
	} else {
		snprintf(err, errlen, "URL is not http:// or https://");
		return -1;
	}
	host = p;
	host_end = host + strcspn(host, ":/?");
	if (memchr(host, '@', strcspn(host, "/?"))) {
		snprintf(err, errlen, "URL has user info");
		return -1;
	}
	hl = (size_t)(host_end - host);
	if (hl == 0 || hl >= sizeof(out->host)) {
		snprintf(err, errlen, "URL has no usable host");
		return -1;
	}
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '.' && host[i] != '-') {
			snprintf(err, errlen, "URL host has a character other than letters, digits, '.' and '-'");
			return -1;
		}
	for (size_t i = 0; i < hl; i++)
		out->host[i] = (char)tolower((unsigned char)host[i]);
	out->port = out->tls ? 443 : 80;
	p = host_end;
	if (*p == ':') {
		char *end;
		long port = strtol(p + 1, &end, 10);
		if (end == p + 1 || port < 1 || port > 65535 || (*end && *end != '/' && *end != '?')) {
			snprintf(err, errlen, "URL has a bad port");
			return -1;
		}
		out->port = (int)port;
		p = end;
	}
	path = p;
	if (*path == '?')
		snprintf(out->path, sizeof(out->path), "/%s", path);
	else
		snprintf(out->path, sizeof(out->path), "%s", *path ? path : "/");
	if (path_escapes(out->path)) {
		snprintf(err, errlen, "URL path has a '.' or '..' segment or an encoded '.' or '/'");
		return -1;
	}
	return 0;
}

int backend_url_allowed(const struct config_named *bases, size_t n, const char *url,
			struct backend_url *parsed, char *err, size_t errlen)
{
	char why[160];

	if (backend_parse_url(url, parsed, why, sizeof(why))) {
		snprintf(err, errlen, "%s is not allowed: %s", url, why);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct backend_url base;
		if (backend_parse_url(bases[i].value, &base, why, sizeof(why)))
			continue;
		/* a base without a trailing slash still ends at a segment */
		size_t bl = strlen(base.path);
		while (bl > 1 && base.path[bl - 1] == '/')
			bl--;
		if (base.tls != parsed->tls || base.port != parsed->port ||
		    strcmp(base.host, parsed->host))
			continue;
		if (bl == 1 || (!strncmp(parsed->path, base.path, bl) &&
				(parsed->path[bl] == '\0' || parsed->path[bl] == '/' ||
				 parsed->path[bl] == '?')))
			return 0;
	}
	snprintf(err, errlen, "%s is not allowed: it is not under any backend base URL in the config"
		 " (flows.backends)", url);
	return -1;
}

/* ===== requests ===== */

static void unlink_req(backend *b, struct request *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		b->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	b->n--;
}

static void free_req(struct request *r)
{
	free(r->body);
	free(r->rx);
	backend_result_clear(&r->res);
	free(r);
}

static void on_report(lws_sorted_usec_list_t *sul)
{
	struct request *r = lws_container_of(sul, struct request, report);
	backend *b = r->b;
	char q[BACKEND_URL_MAX + 16], eq[300], masked[BACKEND_URL_MAX];

	unlink_req(b, r);
	log_info(b->lg, "backend_call", "method=%s url=%s status=%d ms=%lld error=%s", r->method,
		 log_quote(log_mask_emails(r->url, masked, sizeof(masked)), q, sizeof(q)),
		 r->res.status,
		 (long long)(lws_now_usecs() / 1000 - r->started_ms),
		 log_quote(r->res.error ? r->res.error : "-", eq, sizeof(eq)));
	atomic_fetch_add(&b->m->backend_calls_total, 1);
	if (r->res.error)
		atomic_fetch_add(&b->m->backend_errors_total, 1);
	r->done(r->ud, r->tag, &r->res);
	memset(&r->res, 0, sizeof(r->res)); /* done owns the strings now */
	free_req(r);
}

/* Ends the request with its reply (error NULL) or an error, detaches it
 * from its wsi (closing the wsi unless lws is closing it already), and
 * schedules the report. Idempotent. */
static void finish(struct request *r, const char *error, int wsi_closing)
{
	char why[64];

	if (r->finished)
		return;
	r->finished = 1;
	lws_sul_cancel(&r->timer);
	if (r->wsi) {
		lws_set_opaque_user_data(r->wsi, NULL);
		if (!wsi_closing)
			lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		r->wsi = NULL;
	}
	if (!error && r->rx && (!wire_utf8_valid(r->rx, r->rx_len) || memchr(r->rx, 0, r->rx_len))) {
		/* flows see text, and their logs store it as JSON strings */
		snprintf(why, sizeof(why), "the reply (HTTP %d) is not UTF-8 text", r->res.status);
		error = why;
	}
	if (error) {
		r->res.status = 0;
		r->res.error = xstrdup(error);
	} else {
		r->res.body = r->rx ? r->rx : xstrdup("");
		r->res.body_len = r->rx_len;
		r->rx = NULL;
	}
	lws_sul_schedule(r->b->ctx, 0, &r->report, on_report, 1);
}

static void on_timer(lws_sorted_usec_list_t *sul)
{
	struct request *r = lws_container_of(sul, struct request, timer);
	const struct config *cfg = r->b->cfg;
	char msg[64];

	if (!r->connected)
		snprintf(msg, sizeof(msg), "timeout: no connection within %d ms",
			 cfg->flows.connect_timeout_ms);
	else
		snprintf(msg, sizeof(msg), "timeout: no complete reply within %d ms",
			 cfg->flows.timeout_ms);
	finish(r, msg, 0);
}

int backend_request(backend *b, const char *method, const char *url, const char *body,
		    uint64_t tag, backend_done_fn done, void *ud, char *err, size_t errlen)
{
	struct backend_url u;
	struct lws_client_connect_info i;
	struct request *r;
	const struct config *cfg = b->cfg;

	if (strcmp(method, "GET") && strcmp(method, "POST")) {
		snprintf(err, errlen, "method %s is not supported (GET or POST)", method);
		return -1;
	}
	if (backend_url_allowed(cfg->flows.backends, cfg->flows.n_backends, url, &u, err, errlen))
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->b = b;
	r->tag = tag;
	r->done = done;
	r->ud = ud;
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->url, sizeof(r->url), "%s", url);
	if (body) {
		r->body = xstrdup(body);
		r->body_len = strlen(body);
	}
	r->started_ms = lws_now_usecs() / 1000;
	r->next = b->reqs;
	if (b->reqs)
		b->reqs->prev = r;
	b->reqs = r;
	b->n++;

	memset(&i, 0, sizeof(i));
	i.context = b->ctx;
	i.vhost = b->vhost;
	i.address = u.host;
	i.port = u.port;
	i.path = u.path;
	i.host = u.host;
	i.origin = u.host;
	i.method = r->method;
	i.alpn = "http/1.1";
	i.protocol = BACKEND_PROTOCOL;
	i.local_protocol_name = BACKEND_PROTOCOL;
	i.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT | (u.tls ? LCCSCF_USE_SSL : 0);
	i.opaque_user_data = r;
	i.pwsi = &r->wsi;
	lws_sul_schedule(b->ctx, 0, &r->timer, on_timer,
			 (lws_usec_t)cfg->flows.connect_timeout_ms * LWS_US_PER_MS);
	if (!lws_client_connect_via_info(&i)) {
		r->wsi = NULL; /* lws has closed it, or never made one */
		finish(r, "connection failed: cannot start the connection", 1);
	}
	return 0;
}

long backend_in_flight(const backend *b)
{
	return b ? b->n : 0;
}

/* ===== lws ===== */

static int add_headers(struct request *r, struct lws *wsi, void *in, size_t len)
{
	unsigned char **p = (unsigned char **)in, *end = (*p) + len;
	char cl[24];

	if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ACCEPT,
					 (const unsigned char *)"application/json", 16, p, end))
		return -1;
	if (!r->body)
		return 0;
	snprintf(cl, sizeof(cl), "%zu", r->body_len);
	if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)"application/json", 16, p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
					 (const unsigned char *)cl, (int)strlen(cl), p, end))
		return -1;
	lws_client_http_body_pending(wsi, 1);
	lws_callback_on_writable(wsi);
	return 0;
}

/* Sends the body in pieces of at most 4 KiB. */
static int write_body(struct request *r, struct lws *wsi)
{
	unsigned char buf[LWS_PRE + 4096];
	size_t n = r->body_len - r->sent;
	int last;

	if (n > 4096)
		n = 4096;
	last = r->sent + n == r->body_len;
	memcpy(buf + LWS_PRE, r->body + r->sent, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
	    (int)n)
		return -1;
	r->sent += n;
	if (last)
		lws_client_http_body_pending(wsi, 0);
	else
		lws_callback_on_writable(wsi);
	return 0;
}

static void take_bytes(struct request *r, const char *in, size_t len)
{
	size_t max = r->b->cfg->flows.max_response_bytes;
	char msg[64];

	if (r->finished)
		return;
	if (r->rx_len + len > max) {
		snprintf(msg, sizeof(msg), "reply larger than %zu bytes", max);
		finish(r, msg, 0);
		return;
	}
	if (r->rx_len + len + 1 > r->rx_cap) {
		r->rx_cap = (r->rx_len + len + 1) * 2;
		if (r->rx_cap > max + 1)
			r->rx_cap = max + 1;
		r->rx = xrealloc(r->rx, r->rx_cap);
	}
	memcpy(r->rx + r->rx_len, in, len);
	r->rx_len += len;
	r->rx[r->rx_len] = '\0';
}

int backend_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		     size_t len)
{
	struct request *r = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	char msg[200];
	(void)user;

	if (!r) /* not a request, or one that has already ended */
		return reason == LWS_CALLBACK_RECEIVE_CLIENT_HTTP ||
		       reason == LWS_CALLBACK_CLIENT_HTTP_WRITEABLE ? -1 : 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(msg, sizeof(msg), "connection failed: %s",
			 in ? (const char *)in : "unknown reason");
		r->wsi = NULL; /* no more callbacks for it */
		finish(r, msg, 1);
		return 0;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return add_headers(r, wsi, in, len);
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		if (r->body && r->sent < r->body_len)
			return write_body(r, wsi);
		return 0;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		r->connected = 1;
		r->res.status = (int)lws_http_client_http_response(wsi);
		lws_sul_schedule(r->b->ctx, 0, &r->timer, on_timer,
				 (lws_usec_t)(r->b->cfg->flows.timeout_ms -
					      (lws_now_usecs() / 1000 - r->started_ms)) *
					 LWS_US_PER_MS);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		take_bytes(r, in, len);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[LWS_PRE + 4096], *px = buf + LWS_PRE;
		int n = (int)sizeof(buf) - LWS_PRE;
		return lws_http_client_read(wsi, &px, &n) < 0 ? -1 : 0;
	}
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		finish(r, NULL, 0);
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		r->wsi = NULL;
		finish(r, r->connected ? "connection closed before the reply was complete"
				       : "connection failed: closed by the peer", 1);
		return 0;
	default:
		return 0;
	}
}

/* ===== setup ===== */

static const struct lws_protocols client_protocols[] = {
	{BACKEND_PROTOCOL, backend_callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

backend *backend_new(struct lws_context *ctx, const struct config *cfg, const logger *lg,
		     struct metrics *m, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	backend *b = xcalloc(1, sizeof(*b));

	b->ctx = ctx;
	b->cfg = cfg;
	b->lg = lg;
	b->m = m;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = client_protocols;
	info.vhost_name = "backend";
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (cfg->flows.ca_file[0])
		info.client_ssl_ca_filepath = cfg->flows.ca_file;
	b->vhost = lws_create_vhost(ctx, &info);
	if (!b->vhost) {
		snprintf(err, errlen, "cannot create the backend client%s%s",
			 cfg->flows.ca_file[0] ? " with CA file " : "", cfg->flows.ca_file);
		free(b);
		return NULL;
	}
	return b;
}

void backend_free(backend *b)
{
	struct request *r, *next;

	if (!b)
		return;
	for (r = b->reqs; r; r = next) {
		next = r->next;
		lws_sul_cancel(&r->timer);
		lws_sul_cancel(&r->report);
		if (r->wsi)
			lws_set_opaque_user_data(r->wsi, NULL);
		free_req(r);
	}
	free(b);
}
