/* server.c: the libwebsockets context and the HTTP side. See server.h. */
#include "server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/stat.h>
#include <uthash.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "chat.h"
#include "clock.h"
#include "content.h"
#include "daemon.h"
#include "desk.h"
#include "flow.h"
#include "pipeline.h"
#include "reload.h"
#include "xalloc.h"

#define SIGNAL_PROTOCOL "supportd-signal"

/* What the HTTP side keeps: the mounts and the directories they serve. */
/* The last /widget.js built (widget_js), and what it was built from. */
struct widget_cache {
	char *js;                     /* owned; NULL before the first request */
	unsigned char key[16];        /* BLAKE2b of the file's identity and the strings */
	char etag[2 + 32 + 1];        /* "\"<key in hex>\"" */
};

/* One address's TCP connections, of any kind (max_sockets_per_ip). */
struct peer {
	char ip[INET6_ADDRSTRLEN];
	int n;
	int refused;                  /* connections refused since it was last under */
	UT_hash_handle hh;
};

/* An accepted connection, counted for its address until its wsi goes. */
struct counted {
	struct lws *wsi;              /* the key */
	struct peer *peer;
	UT_hash_handle hh;
};

struct server_state {
	struct lws_http_mount root, widget, console;
	char static_dir[PATH_MAX], widget_dir[PATH_MAX], console_dir[PATH_MAX];
	struct widget_cache widget_cache;
	struct peer *peers;           /* uthash by ip */
	struct counted *counted;      /* uthash by wsi */
	/* counted when accepted, until libwebsockets makes its wsi (in the same
	 * call: accept, filter, adopt) */
	struct {
		lws_sockfd_type fd;
		struct peer *peer;    /* NULL: nothing pending */
	} accepting;
};

/* An HTTP request waiting for the store (GET /api/stats). Shared by the
 * request and its store job; whichever ends last frees it. */
struct http_wait {
	struct lws *wsi;              /* NULL once the request's connection closed */
	int refs;
};

/* An HTTP response being written: LWS_PRE spare bytes, then the body. */
struct http_pss {
	unsigned char *buf;
	size_t len;
	struct http_wait *wait;       /* a store job is computing the body */
	char *body;                   /* the body it computed, headers not sent yet */
	unsigned status;
};

/* Security headers on every HTTP response: the pages load nothing but
 * their own scripts and styles, talk only to this server, and are not
 * framed by other sites. */
static const struct lws_protocol_vhost_options header_nosniff = {
	NULL, NULL, "x-content-type-options:", "nosniff"};
static const struct lws_protocol_vhost_options header_frames = {
	&header_nosniff, NULL, "x-frame-options:", "DENY"};
static const struct lws_protocol_vhost_options header_referrer = {
	&header_frames, NULL, "referrer-policy:", "no-referrer"};
static const struct lws_protocol_vhost_options header_csp = {
	&header_referrer, NULL, "content-security-policy:",
	"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
	"connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"};

/* 1 if a websocket from this Origin may connect: our own origin (the Host
 * it asked for, over http or https), or one in allowed_origins. Clients
 * that send no Origin (not browsers) are not held to it. */
static int origin_allowed(struct daemon *d, struct lws *wsi, const char *origin)
{
	char host[256];
	const char *rest = !strncmp(origin, "http://", 7)    ? origin + 7
			   : !strncmp(origin, "https://", 8) ? origin + 8
							     : NULL;

	for (size_t i = 0; i < d->cfg.n_allowed_origins; i++)
		if (!strcmp(origin, d->cfg.allowed_origins[i]))
			return 1;
	return rest && lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) > 0 &&
	       !strcmp(rest, host);
}

/* 1 if the comma-separated header value `list` names `want`. */
static int list_has(const char *list, const char *want)
{
	size_t wl = strlen(want);
	const char *p = list;

	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		if ((size_t)(e - p) == wl && !strncmp(p, want, wl))
			return 1;
		p = e;
	}
	return 0;
}

static int refuse(struct lws *wsi, unsigned code, const char *why)
{
	lws_return_http_status(wsi, code, why);
	return 1;
}

/* Decides whether an upgrade request may go on: the path picks the
 * subprotocol it must ask for. */
static int confirm_upgrade(struct daemon *d, struct lws *wsi)
{
	char uri[128], proto[256] = "";
	const char *want;

	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
		return refuse(wsi, HTTP_STATUS_BAD_REQUEST, "bad request");
	if (!strcmp(uri, "/chat"))
		want = CHAT_PROTOCOL;
	else if (!strcmp(uri, "/agent"))
		want = AGENT_PROTOCOL;
	else
		return refuse(wsi, HTTP_STATUS_NOT_FOUND, "no websocket endpoint at this path");
	if (d->draining)
		return refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "shutting down");
	{
		char origin[256];
		if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) > 0 &&
		    !origin_allowed(d, wsi, origin)) {
			char q[300];
			atomic_fetch_add(&d->metrics.conn_refused_total, 1);
			log_info(&d->log, "upgrade_refused", "path=%s reason=origin origin=%s", uri,
				 log_quote(origin, q, sizeof(q)));
			return refuse(wsi, HTTP_STATUS_FORBIDDEN,
				      "origin_not_allowed: add this site to allowed_origins");
		}
	}
	if (lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) < 0 || !list_has(proto, want)) {
		atomic_fetch_add(&d->metrics.conn_refused_total, 1);
		log_info(&d->log, "upgrade_refused", "path=%s reason=wrong_subprotocol", uri);
		return refuse(wsi, HTTP_STATUS_BAD_REQUEST,
			      !strcmp(want, CHAT_PROTOCOL)
				      ? "wrong_subprotocol: /chat requires Sec-WebSocket-Protocol supportd.chat.v1"
				      : "wrong_subprotocol: /agent requires Sec-WebSocket-Protocol supportd.agent.v1");
	}
	return 0;
}

static char *healthz_body(struct daemon *d, unsigned *status)
{
	int ok = store_healthy(d->store);
	const struct reload_status *rs = d->reload ? reload_get_status(d->reload) : NULL;
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:{s:b, s:I}}", "status",
			      ok ? "ok" : "degraded", "version", SUPPORTD_VERSION, "uptime_s",
			      (json_int_t)((clock_mono_ms() - d->started_ms) / 1000), "connections",
			      (json_int_t)chat_connections(d->chat), "conversations_open",
			      (json_int_t)chat_conversations(d->chat), "store", "ok", ok, "pending",
			      (json_int_t)store_pending(d->store));
	if (rs)
		json_object_set_new(o, "content",
				    json_pack("{s:b, s:I, s:I, s:f, s:s?}", "ok", rs->ok, "reloads",
					      (json_int_t)rs->reloads, "reload_failures",
					      (json_int_t)rs->failures, "last_build_ms",
					      rs->last_build_ms, "last_error",
					      rs->last_error[0] ? rs->last_error : NULL));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		abort();
	*status = ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE;
	return s;
}

/* Starts a dynamic response: headers now, a copy of len bytes of body
 * when writable. cache is the Cache-Control value; etag, when not NULL,
 * goes out as ETag. */
static int respond_copy(struct lws *wsi, struct http_pss *pss, unsigned status, const char *ctype,
			const char *body, size_t len, const char *cache, const char *etag)
{
	unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
					   *end = hdr + sizeof(hdr) - 1;

	pss->buf = malloc(LWS_PRE + len);
	if (!pss->buf)
		abort();
	memcpy(pss->buf + LWS_PRE, body, len);
	pss->len = len;
	if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
					 (const unsigned char *)cache, (int)strlen(cache), &p, end) ||
	    (etag && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ETAG,
						  (const unsigned char *)etag, (int)strlen(etag), &p,
						  end)) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	lws_callback_on_writable(wsi);
	return 0;
}

/* respond_copy, never cached; takes ownership of body. */
static int respond(struct lws *wsi, struct http_pss *pss, unsigned status, const char *ctype,
		   char *body)
{
	int rc = respond_copy(wsi, pss, status, ctype, body, strlen(body), "no-store", NULL);
	free(body);
	return rc;
}

static void wait_release(struct http_wait *w)
{
	if (--w->refs == 0)
		free(w);
}

static void on_stats(struct store_job *job, void *ud)
{
	struct http_wait *w = ud;

	if (w->wsi) {
		struct http_pss *pss = lws_wsi_user(w->wsi);
		json_t *o = job->status == STORE_OK && job->context ? json_loads(job->context, 0, NULL)
								    : NULL;
		if (o) {
			json_object_set_new(o, "range", json_string(job->user));
			pss->body = json_dumps(o, JSON_COMPACT);
			json_decref(o);
			if (!pss->body)
				abort();
			pss->status = HTTP_STATUS_OK;
		} else {
			pss->body = strdup("{\"error\":\"store_unavailable\"}");
			pss->status = HTTP_STATUS_SERVICE_UNAVAILABLE;
			if (!pss->body)
				abort();
		}
		lws_callback_on_writable(w->wsi);
	}
	wait_release(w);
	store_job_free(job);
}

/* GET /api/stats?range=24h|7d|30d, for agents: Authorization: Bearer
 * <session> (the key the console got in its welcome). */
static int api_stats(struct daemon *d, struct lws *wsi, struct http_pss *pss)
{
	char auth[128] = "", arg[32];
	const char *range;
	int64_t span;
	struct store_job *job;

	if (pss->wait) { /* an earlier request on this connection still waits: forget it */
		pss->wait->wsi = NULL;
		wait_release(pss->wait);
		pss->wait = NULL;
	}
	if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) <= 0 ||
	    strncmp(auth, "Bearer ", 7) || !desk_session_agent(d->desk, auth + 7))
		return respond(wsi, pss, HTTP_STATUS_UNAUTHORIZED, "application/json",
			       strdup("{\"error\":\"login_required\"}"));
	range = lws_get_urlarg_by_name(wsi, "range=", arg, sizeof(arg)); /* points past "range=" */
	if (!range)
		range = "24h";
	span = !strcmp(range, "24h") ? 86400000LL
	       : !strcmp(range, "7d") ? 7 * 86400000LL
	       : !strcmp(range, "30d") ? 30 * 86400000LL
				       : 0;
	if (!span)
		return respond(wsi, pss, HTTP_STATUS_BAD_REQUEST, "application/json",
			       strdup("{\"error\":\"bad_field\",\"message\":\"range must be 24h, 7d "
				      "or 30d\"}"));
	pss->wait = calloc(1, sizeof(*pss->wait));
	if (!pss->wait)
		abort();
	pss->wait->wsi = wsi;
	pss->wait->refs = 2;
	job = store_job_new(STORE_STATS);
	job->now_ms = clock_wall_ms();
	job->started_ms = job->now_ms - span;
	job->user = strdup(range);
	job->user_free = free;
	if (!job->user)
		abort();
	store_submit(d->store, job, on_stats, pss->wait);
	return 0;
}

/* The content's reload figures, after the rest of /metrics. Takes text. */
static char *with_content_metrics(struct daemon *d, char *text)
{
	const struct reload_status *rs = d->reload ? reload_get_status(d->reload) : NULL;
	char extra[700];
	char *out;

	if (!rs)
		return text;
	snprintf(extra, sizeof(extra),
		 "# HELP supportd_content_reloads_total Content reloads, by result.\n"
		 "# TYPE supportd_content_reloads_total counter\n"
		 "supportd_content_reloads_total{result=\"ok\"} %lu\n"
		 "supportd_content_reloads_total{result=\"failed\"} %lu\n"
		 "# HELP supportd_content_ok 1 if the last content reload loaded cleanly.\n"
		 "# TYPE supportd_content_ok gauge\nsupportd_content_ok %d\n"
		 "# HELP supportd_content_build_seconds How long the last content build took.\n"
		 "# TYPE supportd_content_build_seconds gauge\nsupportd_content_build_seconds %.3f\n",
		 rs->reloads, rs->failures, rs->ok, rs->last_build_ms / 1000.0);
	out = malloc(strlen(text) + strlen(extra) + 1);
	if (!out)
		abort();
	strcpy(out, text);
	strcat(out, extra);
	free(text);
	return out;
}

#define WIDGET_PLACEHOLDER "\"__SUPPORTD_STRINGS__\""
#define WIDGET_FILE_MAX (4 << 20)

/* Reads path (at most WIDGET_FILE_MAX bytes) and writes strings in place
 * of the placeholder. A new string, or NULL when it cannot be read. */
static char *widget_build(const char *path, const char *strings)
{
	char *buf, *at, *out;
	struct diag d;
	size_t n;
	int rc;

	diag_init(&d);
	rc = content_read_file(path, WIDGET_FILE_MAX, &buf, &n, &d);
	diag_clear(&d);
	if (rc < 0)
		return NULL;
	if (!(at = strstr(buf, WIDGET_PLACEHOLDER)))
		return buf;
	out = malloc(n - strlen(WIDGET_PLACEHOLDER) + strlen(strings) + 1);
	if (!out)
		abort();
	memcpy(out, buf, (size_t)(at - buf));
	strcpy(out + (at - buf), strings);
	strcat(out, at + strlen(WIDGET_PLACEHOLDER));
	free(buf);
	return out;
}

/* /widget.js: the built widget (make widget) with the catalogs' widget
 * strings (flowhost_widget_strings) in place of its placeholder, so that
 * the widget speaks every language of lua/locale/ and the page makes no
 * second request (a host page's CSP need only allow the script and the
 * websocket). Built again only when the file or the strings change (a
 * reload): the cache's key, a BLAKE2b of the file's identity and the
 * strings, is also the response's ETag. NULL when the file cannot be
 * read; else the cache, borrowed. */
static const struct widget_cache *widget_js(struct daemon *d)
{
	struct widget_cache *wc = &d->server_state->widget_cache;
	const char *strings = d->pipeline ? flowhost_widget_strings(pipeline_flows(d->pipeline)) : "{}";
	char path[PATH_MAX + 16];
	unsigned char key[sizeof(wc->key)];
	crypto_generichash_state h;
	struct stat st;
	char *js;

	snprintf(path, sizeof(path), "%s/widget.js", d->server_state->widget_dir);
	if (stat(path, &st) < 0)
		return NULL;
	crypto_generichash_init(&h, NULL, 0, sizeof(key));
	crypto_generichash_update(&h, (const unsigned char *)&st.st_ino, sizeof(st.st_ino));
	crypto_generichash_update(&h, (const unsigned char *)&st.st_size, sizeof(st.st_size));
	crypto_generichash_update(&h, (const unsigned char *)&st.st_mtim, sizeof(st.st_mtim));
	crypto_generichash_update(&h, (const unsigned char *)strings, strlen(strings));
	crypto_generichash_final(&h, key, sizeof(key));
	if (wc->js && !memcmp(key, wc->key, sizeof(key)))
		return wc;
	if (!(js = widget_build(path, strings)))
		return NULL;
	free(wc->js);
	wc->js = js;
	memcpy(wc->key, key, sizeof(key));
	wc->etag[0] = '"';
	sodium_bin2hex(wc->etag + 1, sizeof(wc->etag) - 2, key, sizeof(key));
	strcat(wc->etag, "\"");
	return wc;
}

/* 304 Not Modified for a client that has this etag: no body. */
static int respond_not_modified(struct lws *wsi, const char *etag)
{
	unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
					   *end = hdr + sizeof(hdr) - 1;

	if (lws_add_http_header_status(wsi, HTTP_STATUS_NOT_MODIFIED, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ETAG, (const unsigned char *)etag,
					 (int)strlen(etag), &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
					 (const unsigned char *)"no-cache", 8, &p, end) ||
	    lws_add_http_header_content_length(wsi, 0, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* GET /widget.js: revalidated on every use (no-cache), answered 304 when
 * the client's copy is current. */
static int serve_widget(struct daemon *d, struct lws *wsi, struct http_pss *pss)
{
	const struct widget_cache *wc = widget_js(d);
	char inm[80];

	if (!wc)
		return 1; /* not there: 404 */
	if (lws_hdr_copy(wsi, inm, sizeof(inm), WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0 &&
	    !strcmp(inm, wc->etag))
		return respond_not_modified(wsi, wc->etag) ? -1 : 0;
	return respond_copy(wsi, pss, HTTP_STATUS_OK, "application/javascript; charset=utf-8", wc->js,
			    strlen(wc->js), "no-cache", wc->etag)
		       ? -1
		       : 0;
}

/* ===== connections per address ===== */

static void peer_release(struct server_state *ss, struct peer *p)
{
	if (--p->n > 0)
		return;
	HASH_DEL(ss->peers, p);
	free(p);
}

/* A connection was accepted (LWS_CALLBACK_FILTER_NETWORK_CONNECTION):
 * counts it for its address. Returns nonzero to refuse it, when the
 * address holds max_sockets_per_ip connections already: websockets,
 * plain HTTP and connections that never send a byte alike, so that one
 * address cannot take every descriptor. chat.c's own, lower limit on
 * websockets answers with an error frame before this one is reached. */
static int peer_admit(struct daemon *d, const struct lws_filter_network_conn_args *a)
{
	struct server_state *ss = d->server_state;
	char ip[INET6_ADDRSTRLEN] = "?";
	struct peer *p;

	if (ss->accepting.peer) { /* the last one never became a connection */
		peer_release(ss, ss->accepting.peer);
		ss->accepting.peer = NULL;
	}
	if (!a)
		return 0;
	if (a->cli_addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->cli_addr)->sin_addr, ip,
			  sizeof(ip));
	else if (a->cli_addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->cli_addr)->sin6_addr, ip,
			  sizeof(ip));
	HASH_FIND_STR(ss->peers, ip, p);
	if (p && p->n >= d->cfg.max_sockets_per_ip) {
		atomic_fetch_add(&d->metrics.conn_refused_total, 1);
		if (p->refused++ == 0) /* once per episode, not once per connection */
			log_warn(&d->log, "connections_refused", "ip=%s open=%d reason=max_sockets_per_ip",
				 ip, p->n);
		return 1;
	}
	if (!p) {
		p = xcalloc(1, sizeof(*p));
		snprintf(p->ip, sizeof(p->ip), "%s", ip);
		HASH_ADD_STR(ss->peers, ip, p);
	}
	p->n++;
	p->refused = 0;
	ss->accepting.fd = a->accept_fd;
	ss->accepting.peer = p;
	return 0;
}

/* Its wsi exists (LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED). */
static void peer_attach(struct server_state *ss, struct lws *wsi)
{
	struct counted *c;

	if (!ss->accepting.peer || lws_get_socket_fd(wsi) != ss->accepting.fd)
		return;
	c = xcalloc(1, sizeof(*c));
	c->wsi = wsi;
	c->peer = ss->accepting.peer;
	HASH_ADD_PTR(ss->counted, wsi, c);
	ss->accepting.peer = NULL;
}

/* Any wsi is going (LWS_CALLBACK_WSI_DESTROY, sent to protocols[0]): an
 * accepted one no longer counts. */
static void peer_detach(struct server_state *ss, struct lws *wsi)
{
	struct counted *c;

	HASH_FIND_PTR(ss->counted, &wsi, c);
	if (!c)
		return;
	HASH_DEL(ss->counted, c);
	peer_release(ss, c->peer);
	free(c);
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len)
{
	struct http_pss *pss = user;
	struct daemon *d = lws_context_user(lws_get_context(wsi));
	char uri[64];

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return d->draining ? 1 : peer_admit(d, user);
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		if (d->server_state)
			peer_attach(d->server_state, wsi);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (d->server_state)
			peer_detach(d->server_state, wsi);
		break;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(d, wsi);
	case LWS_CALLBACK_HTTP: {
		unsigned status;
		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
			return refuse(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "only GET is served here") ? -1 : 0;
		if (!strcmp(uri, "/healthz")) {
			char *body = healthz_body(d, &status);
			return respond(wsi, pss, status, "application/json", body);
		}
		if (!strcmp(uri, "/metrics"))
			return respond(wsi, pss, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8",
				       with_content_metrics(d, metrics_render(&d->metrics,
									      chat_conversations(d->chat),
									      store_pending(d->store))));
		if (!strcmp(uri, "/api/stats"))
			return api_stats(d, wsi, pss);
		if (!strcmp(uri, "/widget.js")) {
			int rc = serve_widget(d, wsi, pss);
			if (rc <= 0)
				return rc;
		}
		lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (pss && pss->body) { /* the store's answer: headers now, body next */
			char *body = pss->body;
			pss->body = NULL;
			if (pss->wait) { /* its job is done: the request's share goes too */
				pss->wait->wsi = NULL;
				wait_release(pss->wait);
				pss->wait = NULL;
			}
			return respond(wsi, pss, pss->status, "application/json", body) ? -1 : 0;
		}
		if (!pss || !pss->buf)
			break;
		{
			int n = lws_write(wsi, pss->buf + LWS_PRE, pss->len, LWS_WRITE_HTTP_FINAL);
			free(pss->buf);
			pss->buf = NULL;
			if (n < (int)pss->len)
				return -1;
		}
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss) {
			free(pss->buf);
			pss->buf = NULL;
			free(pss->body);
			pss->body = NULL;
			if (pss->wait) {
				pss->wait->wsi = NULL;
				wait_release(pss->wait);
				pss->wait = NULL;
			}
		}
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* chat.c keeps only a pointer in lws's per-session storage */
static const struct lws_protocols protocols[] = {
	{"http", http_callback, sizeof(struct http_pss), 0, 0, NULL, 0},
	/* rx_buffer_size is allocated per connection: keep it small, chat.c
	 * reassembles. tx_packet_size costs nothing per connection and lets a
	 * large frame go out in one send instead of rx_buffer_size pieces. */
	{CHAT_PROTOCOL, chat_callback, sizeof(void *), 1024, 0, NULL, 65536},
	{AGENT_PROTOCOL, agent_callback, AGENT_PSS_SIZE, 1024, 0, NULL, 0},
	{SIGNAL_PROTOCOL, daemon_signal_callback, 0, 0, 0, NULL, 0},
	{RELOAD_PROTOCOL, reload_callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

static const struct lws_http_mount mount_api = {
	.mountpoint = "/api", .protocol = "http", .origin_protocol = LWSMPRO_CALLBACK,
	.mountpoint_len = 4};
static const struct lws_http_mount mount_metrics = {
	.mount_next = &mount_api, .mountpoint = "/metrics", .protocol = "http",
	.origin_protocol = LWSMPRO_CALLBACK, .mountpoint_len = 8};
static const struct lws_http_mount mount_healthz = {
	.mount_next = &mount_metrics, .mountpoint = "/healthz", .protocol = "http",
	.origin_protocol = LWSMPRO_CALLBACK, .mountpoint_len = 8};

/* Routes lws's own warnings and errors into our log format. */
static void lws_log_emit(int level, const char *line)
{
	char q[600];
	char copy[512];
	size_t n;

	snprintf(copy, sizeof(copy), "%s", line);
	n = strlen(copy);
	while (n && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
		copy[--n] = '\0';
	log_line(NULL, level == LLL_ERR ? LOG_ERROR : LOG_WARN, "lws", "msg=%s",
		 log_quote(copy, q, sizeof(q)));
}



int server_start(struct daemon *d, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	static const int lws_levels = LLL_ERR | LLL_WARN;
	struct server_state *ss = calloc(1, sizeof(*ss));
	lws_sock_file_fd_type fd;

	if (!ss)
		abort();
	d->server_state = ss;
	if (!realpath(d->cfg.static_dir, ss->static_dir)) {
		snprintf(err, errlen, "static directory %s: not found", d->cfg.static_dir);
		return -1;
	}
	/* /widget.js and /console come first; a directory that is not there
	 * (the console not built) only loses its mount */
	const struct lws_http_mount *next = &mount_healthz;
	if (realpath(d->cfg.console_dir, ss->console_dir)) {
		ss->console.mount_next = next;
		ss->console.mountpoint = "/console";
		ss->console.mountpoint_len = 8;
		ss->console.origin = ss->console_dir;
		ss->console.def = "index.html";
		ss->console.origin_protocol = LWSMPRO_FILE;
		next = &ss->console;
	} else {
		log_warn(&d->log, "no_console", "dir=%s reason=\"not built: make console\"",
			 d->cfg.console_dir);
	}
	/* /widget.js is one file: a callback mount serves it (a file mount
	 * would redirect to /widget.js/) */
	if (realpath(d->cfg.widget_dir, ss->widget_dir)) {
		ss->widget.mount_next = next;
		ss->widget.mountpoint = "/widget.js";
		ss->widget.mountpoint_len = 10;
		ss->widget.protocol = "http";
		ss->widget.origin_protocol = LWSMPRO_CALLBACK;
		next = &ss->widget;
	}
	ss->root.mount_next = next;
	ss->root.mountpoint = "/";
	ss->root.mountpoint_len = 1;
	ss->root.origin = ss->static_dir;
	ss->root.def = "index.html";
	ss->root.origin_protocol = LWSMPRO_FILE;

	lws_set_log_level(lws_levels, lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.port = d->cfg.port; /* 0: the kernel picks a free port */
	info.iface = d->cfg.listen;
	info.protocols = protocols;
	info.mounts = &ss->root;
	info.headers = &header_csp;
	info.user = d;
	info.vhost_name = "supportd";
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (!strchr(d->cfg.listen, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.fd_limit_per_thread = (unsigned)d->cfg.chat.max_connections + 256;
	info.timeout_secs = 10;
	d->lws = lws_create_context(&info);
	if (!d->lws) {
		snprintf(err, errlen, "cannot create the libwebsockets context");
		return -1;
	}
	d->vhost = lws_create_vhost(d->lws, &info);
	if (!d->vhost) {
		snprintf(err, errlen, "cannot listen on %s port %d", d->cfg.listen, d->cfg.port);
		return -1;
	}
	fd.filefd = d->signal_fd;
	if (!lws_adopt_descriptor_vhost(d->vhost, LWS_ADOPT_RAW_FILE_DESC, fd, SIGNAL_PROTOCOL, NULL)) {
		snprintf(err, errlen, "cannot watch signals");
		return -1;
	}
	d->signal_fd_adopted = 1;
	return 0;
}

int server_port(struct daemon *d)
{
	return lws_get_vhost_listen_port(d->vhost);
}

void server_stop(struct daemon *d)
{
	if (d->lws)
		lws_context_destroy(d->lws);
	d->lws = NULL;
	if (d->server_state) {
		struct server_state *ss = d->server_state;
		struct counted *c, *ct;
		struct peer *p, *pt;
		free(ss->widget_cache.js);
		HASH_ITER(hh, ss->counted, c, ct) {
			HASH_DEL(ss->counted, c);
			free(c);
		}
		HASH_ITER(hh, ss->peers, p, pt) {
			HASH_DEL(ss->peers, p);
			free(p);
		}
	}
	free(d->server_state);
	d->server_state = NULL;
}

void server_wake(void *daemon)
{
	struct daemon *d = daemon;
	lws_cancel_service(d->lws);
}
