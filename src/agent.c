/* agent.c: supportd.agent.v1 connections. See agent.h and docs/desk.md.
 *
 * This file knows the field names of the frames agents send; desk.c
 * builds the frames they receive. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "clock.h"
#include "daemon.h"
#include "desk.h"
#include "outbox.h"
#include "ratelimit.h"
#include "xalloc.h"

#define AGENT_FRAME_MAX 65536        /* bytes of one frame from an agent */
#define AGENT_OUTBOX_MAX (8u << 20)  /* queued output before a slow console is cut */
#define LOGIN_FAILURES_PER_MIN 5.0
#define IPS_MAX 10000                /* addresses remembered for the login limit */
#define AGENT_TEXT_MAX 4096

enum state { A_NEW, A_LOGGING_IN, A_READY, A_CLOSING };

struct agent_conn {
	uint64_t id;
	struct agents *as;               /* borrowed */
	struct lws *wsi;                 /* borrowed from lws */
	char ip[48];
	enum state state;
	int64_t agent;                   /* logged in as, else 0 */
	struct outbox ob;
	char *rx;
	size_t rx_len, rx_cap;
	int rx_skip;
	struct ratelimit frames_rl;
	int close_code;
	char close_reason[64];
	UT_hash_handle hh;
};

struct login_limit {
	char ip[48];
	struct ratelimit failures;
	UT_hash_handle hh;
};

struct agents {
	struct daemon *d;                /* borrowed */
	struct agent_conn *conns;        /* uthash by id */
	struct login_limit *limits;      /* uthash by address */
	uint64_t next_id;
	long n;
};

struct agent_pss {
	struct agent_conn *c;
};

struct agents *agents_new(struct daemon *d)
{
	struct agents *as = xcalloc(1, sizeof(*as));
	as->d = d;
	return as;
}

long agents_connections(const struct agents *as)
{
	return as ? as->n : 0;
}

int64_t agent_id_of(const struct agent_conn *c)
{
	return c->agent;
}

uint64_t agent_conn_id(const struct agent_conn *c)
{
	return c->id;
}

struct agent_conn *agents_find(struct agents *as, uint64_t id)
{
	struct agent_conn *c = NULL;
	if (id)
		HASH_FIND(hh, as->conns, &id, sizeof(id), c);
	return c;
}

/* ===== output ===== */

static void conn_close(struct agent_conn *c, int code, const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	c->state = A_CLOSING;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

static void send_text(struct agent_conn *c, char *text)
{
	if (!text)
		abort();
	if (!c->wsi || c->close_code) {
		free(text);
		return;
	}
	if (outbox_push(&c->ob, text, strlen(text), AGENT_OUTBOX_MAX) < 0) {
		outbox_clear(&c->ob);
		conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow to read");
	} else {
		lws_callback_on_writable(c->wsi);
	}
	free(text);
}

void agent_send(struct agent_conn *c, json_t *frame)
{
	char *text = json_dumps(frame, JSON_COMPACT);
	json_decref(frame);
	send_text(c, text);
}

void agent_error(struct agent_conn *c, enum wire_error code, const char *message,
		 const char *in_reply_to)
{
	atomic_fetch_add(&c->as->d->metrics.errors[code], 1);
	send_text(c, wire_error(code, message, in_reply_to));
}

static int conn_writable(struct agent_conn *c)
{
	if (outbox_send(&c->ob, c->wsi) < 0)
		return -1;
	if (c->ob.frames) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->close_code) {
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	return 0;
}

/* ===== login ===== */

static struct login_limit *limit_of(struct agents *as, const char *ip)
{
	struct login_limit *l = NULL;
	HASH_FIND_STR(as->limits, ip, l);
	if (l)
		return l;
	if (HASH_COUNT(as->limits) >= IPS_MAX) { /* forget them all rather than grow */
		struct login_limit *x, *tmp;
		HASH_ITER(hh, as->limits, x, tmp) {
			HASH_DEL(as->limits, x);
			free(x);
		}
	}
	l = xcalloc(1, sizeof(*l));
	snprintf(l->ip, sizeof(l->ip), "%s", ip);
	ratelimit_init(&l->failures, LOGIN_FAILURES_PER_MIN / 60.0, LOGIN_FAILURES_PER_MIN,
		       clock_mono_ms());
	HASH_ADD_STR(as->limits, ip, l);
	return l;
}

void agent_logged_in(struct agent_conn *c, int64_t agent_id)
{
	c->agent = agent_id;
	c->state = A_READY;
	log_info(&c->as->d->log, "agent_login", "conn=%llu agent=%lld ip=%s",
		 (unsigned long long)c->id, (long long)agent_id, c->ip);
}

void agent_replaced(struct agent_conn *c)
{
	agent_error(c, WIRE_ERR_LOGIN_REPLACED, "this agent logged in on another connection", NULL);
	conn_close(c, AGENT_CLOSE_REPLACED, "logged in elsewhere");
}

void agent_session_ended(struct agent_conn *c, const char *why)
{
	agent_error(c, WIRE_ERR_SESSION_ENDED, why, NULL);
	conn_close(c, AGENT_CLOSE_SESSION_ENDED, "session ended");
}

void agent_login_refused(struct agent_conn *c)
{
	struct login_limit *l = limit_of(c->as, c->ip);
	ratelimit_take(&l->failures, clock_mono_ms());
	log_warn(&c->as->d->log, "agent_login_failed", "conn=%llu ip=%s", (unsigned long long)c->id,
		 c->ip);
	agent_error(c, WIRE_ERR_LOGIN_FAILED, "unknown agent or wrong token", NULL);
	conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "login failed");
}

/* ===== frames ===== */

/* The string member key of o, checked: NULL (and an error sent) if it is
 * missing, not a string, empty, longer than max or holding a NUL. */
static const char *need_str(struct agent_conn *c, json_t *o, const char *key, size_t max,
			    const char *id)
{
	json_t *v = json_object_get(o, key);
	char msg[120];

	if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max &&
	    strlen(json_string_value(v)) == json_string_length(v))
		return json_string_value(v);
	snprintf(msg, sizeof(msg), "field \"%s\" must be a string of 1 to %zu bytes", key, max);
	agent_error(c, WIRE_ERR_BAD_FIELD, msg, id);
	return NULL;
}

static void handle_frame(struct agent_conn *c, const char *buf, size_t len)
{
	struct agents *as = c->as;
	desk *k = as->d->desk;
	json_error_t jerr;
	json_t *o;
	const char *type, *conv, *id;
	char msg[200];

	if (c->state == A_CLOSING)
		return;
	if (!ratelimit_take(&c->frames_rl, clock_mono_ms())) {
		agent_error(c, WIRE_ERR_RATE_LIMITED, "too many frames a second", NULL);
		return;
	}
	if (!wire_utf8_valid(buf, len)) {
		agent_error(c, WIRE_ERR_INVALID_UTF8, "the frame is not valid UTF-8", NULL);
		return;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		snprintf(msg, sizeof(msg), "not valid JSON at byte %d: %s", jerr.position, jerr.text);
		agent_error(c, WIRE_ERR_BAD_JSON, msg, NULL);
		return;
	}
	type = json_string_value(json_object_get(o, "type"));
	id = json_string_value(json_object_get(o, "id"));
	if (id && strlen(id) > WIRE_ID_MAX)
		id = NULL;
	if (!type) {
		agent_error(c, WIRE_ERR_UNKNOWN_TYPE, "field \"type\" is missing or not a string", id);
		goto out;
	}
	if (c->state != A_READY) {
		const char *name, *token;
		if (strcmp(type, "login") || c->state != A_NEW) {
			agent_error(c, WIRE_ERR_LOGIN_REQUIRED,
				    c->state == A_NEW ? "send login first" : "wait for the login to finish",
				    id);
			goto out;
		}
		if (!ratelimit_allows(&limit_of(as, c->ip)->failures, clock_mono_ms())) {
			agent_error(c, WIRE_ERR_RATE_LIMITED,
				    "too many failed logins from this address; try again later", NULL);
			conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "login rate limited");
			goto out;
		}
		if (!(name = need_str(c, o, "agent", 64, id)) || !(token = need_str(c, o, "token", 200, id)))
			goto out;
		c->state = A_LOGGING_IN;
		desk_login(k, c, name, token);
		goto out;
	}
	static const char *const known[] = {"login", "presence", "queue", "accept", "message",
					    "typing", "note", "transfer", "close", "close_ticket",
					    NULL};
	int is_known = 0;
	for (const char *const *t = known; *t; t++)
		is_known |= !strcmp(*t, type);
	if (!is_known) {
		char shown[40];
		snprintf(shown, sizeof(shown), "%s", type);
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		snprintf(msg, sizeof(msg), "unknown frame type \"%s\"", shown);
		agent_error(c, WIRE_ERR_UNKNOWN_TYPE, msg, id);
	} else if (!strcmp(type, "login")) {
		agent_error(c, WIRE_ERR_ALREADY_GREETED, "already logged in", id);
	} else if (!strcmp(type, "presence")) {
		const char *st = need_str(c, o, "state", 16, id);
		if (st && strcmp(st, "online") && strcmp(st, "away"))
			agent_error(c, WIRE_ERR_BAD_FIELD, "field \"state\" must be \"online\" or \"away\"", id);
		else if (st)
			desk_presence(k, c, !strcmp(st, "online"));
	} else if (!strcmp(type, "queue")) {
		desk_queue_view(k, c);
	} else if (!strcmp(type, "close_ticket")) {
		json_t *t = json_object_get(o, "ticket");
		if (!json_is_integer(t) || json_integer_value(t) < 1)
			agent_error(c, WIRE_ERR_BAD_FIELD,
				    "field \"ticket\" must be the id of an offline message", id);
		else
			desk_close_ticket(k, c, json_integer_value(t), id);
	} else if (!(conv = need_str(c, o, "conversation", CONVERSATION_ID_LEN, id))) {
		/* every other frame concerns one conversation */
	} else if (!strcmp(type, "accept")) {
		desk_accept(k, c, conv);
	} else if (!strcmp(type, "message")) {
		const char *mid = need_str(c, o, "id", WIRE_ID_MAX, NULL);
		const char *text = mid ? need_str(c, o, "text", AGENT_TEXT_MAX, mid) : NULL;
		if (text)
			desk_message(k, c, conv, mid, text);
	} else if (!strcmp(type, "typing")) {
		json_t *st = json_object_get(o, "state");
		if (!json_is_boolean(st))
			agent_error(c, WIRE_ERR_BAD_FIELD, "field \"state\" must be true or false", id);
		else
			desk_typing(k, c, conv, json_is_true(st));
	} else if (!strcmp(type, "note")) {
		const char *text = need_str(c, o, "text", AGENT_TEXT_MAX, id);
		if (text)
			desk_note(k, c, conv, text);
	} else if (!strcmp(type, "transfer")) {
		const char *team = json_string_value(json_object_get(o, "team"));
		const char *to = json_string_value(json_object_get(o, "agent"));
		if (!team == !to || (team && strlen(team) > 64) || (to && strlen(to) > 64))
			agent_error(c, WIRE_ERR_BAD_FIELD, "give one of \"team\" or \"agent\"", id);
		else
			desk_transfer(k, c, conv, team, to);
	} else if (!strcmp(type, "close")) {
		static const char *const codes[] = {"resolved", "unresolved", "duplicate", "spam",
						    "no_response", NULL};
		const char *res = need_str(c, o, "resolution", 32, id);
		int ok = 0;
		for (size_t i = 0; res && codes[i]; i++)
			ok |= !strcmp(res, codes[i]);
		if (res && !ok)
			agent_error(c, WIRE_ERR_BAD_FIELD,
				    "field \"resolution\" must be resolved, unresolved, duplicate, spam or "
				    "no_response", id);
		else if (res)
			desk_close(k, c, conv, res);
	}
out:
	json_decref(o);
}

static void on_receive(struct agent_conn *c, struct lws *wsi, const char *in, size_t len)
{
	int first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);

	if (first) {
		c->rx_len = 0;
		c->rx_skip = lws_frame_is_binary(wsi);
	}
	if (c->rx_skip || c->close_code)
		return;
	if (c->rx_len + len + lws_remaining_packet_payload(wsi) > AGENT_FRAME_MAX) {
		c->rx_skip = 1;
		agent_error(c, WIRE_ERR_FRAME_TOO_LARGE, "a frame may be at most 65536 bytes", NULL);
		conn_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "frame too large");
		return;
	}
	if (c->rx_len + len > c->rx_cap) {
		c->rx_cap = (c->rx_len + len) * 2;
		c->rx = xrealloc(c->rx, c->rx_cap);
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (final) {
		handle_frame(c, c->rx, c->rx_len);
		c->rx_len = 0;
	}
}

/* ===== lws ===== */

static struct agents *agents_of(struct lws *wsi)
{
	struct daemon *d = lws_context_user(lws_get_context(wsi));
	return d->agents;
}

static void conn_free(struct agents *as, struct agent_conn *c)
{
	HASH_DEL(as->conns, c);
	as->n--;
	outbox_clear(&c->ob);
	free(c->rx);
	free(c);
}

int agent_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct agent_pss *pss = user;
	struct agents *as;
	struct agent_conn *c;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		as = agents_of(wsi);
		c = xcalloc(1, sizeof(*c));
		c->id = ++as->next_id;
		c->as = as;
		c->wsi = wsi;
		outbox_init(&c->ob, LWS_PRE);
		ratelimit_init(&c->frames_rl, 50, 200, clock_mono_ms());
		lws_get_peer_simple(wsi, c->ip, sizeof(c->ip));
		HASH_ADD(hh, as->conns, id, sizeof(c->id), c);
		as->n++;
		pss->c = c;
		if (as->d->draining)
			conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (pss && pss->c)
			on_receive(pss->c, wsi, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (pss && pss->c)
			return conn_writable(pss->c);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (pss && pss->c) {
			c = pss->c;
			as = c->as;
			c->wsi = NULL;
			if (as->d->desk)
				desk_agent_gone(as->d->desk, c);
			conn_free(as, c);
			pss->c = NULL;
		}
		return 0;
	default:
		return 0;
	}
}

void agents_close_all(struct agents *as, int code, const char *reason)
{
	struct agent_conn *c, *tmp;
	HASH_ITER(hh, as->conns, c, tmp)
		conn_close(c, code, reason);
}

void agents_free(struct agents *as)
{
	struct agent_conn *c, *tmp;
	struct login_limit *l, *ltmp;

	if (!as)
		return;
	HASH_ITER(hh, as->conns, c, tmp)
		conn_free(as, c);
	HASH_ITER(hh, as->limits, l, ltmp) {
		HASH_DEL(as->limits, l);
		free(l);
	}
	free(as);
}
