/* chat.c: supportd.chat.v1 connections. See chat.h and docs/protocol.md. */
#include "chat.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <uthash.h>

#include "bot.h"
#include "clock.h"
#include "conversation.h"
#include "daemon.h"
#include "desk.h"
#include "reload.h"
#include "outbox.h"
#include "ratelimit.h"
#include "token.h"
#include "wire.h"

#define PAUSE_HELLO  1u   /* waiting for the store to open the conversation */
#define PAUSE_OUTBOX 2u   /* too much queued output */
#define PAUSE_DRAIN  4u   /* shutting down */
#define OUTBOX_HIGH (256u * 1024u)
#define OUTBOX_LOW  (64u * 1024u)
#define REPLAY_PAGE_MAX (256u * 1024u) /* bytes of stored frames one replay page reads */
#define HELD_MAX 8        /* frames held while a hello is in flight */
#define FRAME_RATE_FACTOR 10 /* frames of any kind per message allowed */
#define CLOSE_RESUMED_ELSEWHERE 4001
#define CLOSE_DRAIN_SECS 2      /* longest wait for a closing peer to go quiet */
#define CLOSE_QUIET_MS 50       /* a closing peer that sent nothing for this long is done */
#define CLOSE_TRY_AGAIN_LATER 1013 /* RFC 6455 registry; lws 4.1 has no name for it */

enum conn_state {
	CS_NEW,       /* no hello yet */
	CS_GREETING,  /* hello sent to the store */
	CS_READY,     /* welcome sent; conv is set */
	CS_CLOSING,   /* a close is queued; read nothing more */
};

struct held_frame {
	char *data;
	size_t len;
};

/* One customer connection. Store callbacks find it by id, never by
 * pointer, because it may be gone by the time they run. */
struct chat_conn {
	uint64_t id;
	struct lws *wsi;                 /* borrowed from lws */
	char ip[48];
	int counted;                     /* counted in the per-address table */
	enum conn_state state;
	struct conversation *conv;       /* borrowed from the registry when READY */
	int64_t delivered_seq;           /* content frames up to here were sent */
	int replaying;                   /* a resume's replay goes on in pages: live
					  * frames wait for it (they are stored) */
	int replay_in_flight;            /* a STORE_REPLAY job is out for it */
	char token[TOKEN_TEXT_LEN + 1];  /* the resume token until welcome */
	struct ratelimit rl;             /* customer messages */
	struct ratelimit frames_rl;      /* every frame, of any kind */
	int strikes;                     /* rate-limited frames in a row */
	struct outbox ob;
	unsigned pause;                  /* PAUSE_* bits; reading stops while any */
	char *rx;                        /* a message being reassembled */
	size_t rx_len, rx_cap;
	int rx_binary, rx_skip;
	struct held_frame held[HELD_MAX];
	size_t n_held;
	int close_code;                  /* nonzero: close after the outbox drains */
	int close_ready;                 /* the peer has gone quiet: close now */
	int64_t last_rx_ms;              /* monotonic time of the last bytes read */
	char close_reason[64];
	UT_hash_handle hh;
};

struct ip_count {
	char ip[48];
	int n;
	UT_hash_handle hh;
};

struct chat {
	struct daemon *d;                /* borrowed */
	lws_sorted_usec_list_t due_sul;  /* looks for flows that are due */
	int due_in_flight;               /* a FLOWS_DUE job is out */
	int64_t started_wall_ms;         /* calls older than this were cut off */
	struct chat_conn *conns;         /* uthash by id */
	struct ip_count *ips;            /* uthash by address */
	struct conversations convs;
	uint64_t next_id;
	long n_conns;
};

/* lws per-session storage: just the pointer, so that lws's part stays small. */
struct chat_pss {
	struct chat_conn *c;
};

static struct chat *chat_of(struct lws *wsi)
{
	struct daemon *d = lws_context_user(lws_get_context(wsi));
	return d->chat;
}

struct chat *chat_new(struct daemon *d)
{
	struct chat *ch = calloc(1, sizeof(*ch));
	if (!ch)
		abort();
	ch->d = d;
	return ch;
}

long chat_connections(const struct chat *ch)
{
	return ch->n_conns;
}

long chat_conversations(const struct chat *ch)
{
	return ch->convs.count;
}

static struct chat_conn *conn_find(struct chat *ch, uint64_t id)
{
	struct chat_conn *c = NULL;
	if (id)
		HASH_FIND(hh, ch->conns, &id, sizeof(id), c);
	return c;
}

/* ===== output ===== */

static void set_pause(struct chat_conn *c, unsigned bit, int on)
{
	unsigned before = c->pause;
	c->pause = on ? (c->pause | bit) : (c->pause & ~bit);
	if (c->wsi && !before != !c->pause)
		lws_rx_flow_control(c->wsi, c->pause ? 0 : 1);
}

/* Queues a close with `code` after the frames already queued. lws 4.1
 * closes the socket right after its close frame, without waiting for the
 * peer's; a socket closed with unread input sends a reset, which makes the
 * peer drop what it has not read yet, our last frames among them. So
 * reading goes on (discarded) until the peer has been quiet for
 * CLOSE_QUIET_MS, and a peer that keeps sending is cut off after
 * CLOSE_DRAIN_SECS. */
static void conn_close(struct chat_conn *c, int code, const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	c->state = CS_CLOSING;
	c->last_rx_ms = clock_mono_ms();
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	if (c->wsi) {
		set_pause(c, c->pause, 0);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_DRAIN_SECS);
		lws_set_timer_usecs(c->wsi, CLOSE_QUIET_MS * LWS_US_PER_MS);
		lws_callback_on_writable(c->wsi);
	}
}

/* 1 if the kernel holds bytes from the peer that lws has not read yet. */
static int peer_sending(struct lws *wsi)
{
	int fd = (int)lws_get_socket_fd(wsi), n = 0;
	return fd >= 0 && ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

/* Queues a frame; takes ownership of `text`. */
static void conn_send_len(struct chat *ch, struct chat_conn *c, char *text, size_t len,
			  enum metrics_frame kind)
{
	if (!c->wsi || c->close_code) {
		free(text);
		return;
	}
	if (outbox_push(&c->ob, text, len, ch->d->cfg.chat.outbox_max_bytes) < 0) {
		free(text);
		log_warn(&ch->d->log, "client_too_slow", "conn=%llu queued=%zu",
			 (unsigned long long)c->id, c->ob.bytes);
		outbox_clear(&c->ob);
		conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow to read");
		return;
	}
	free(text);
	atomic_fetch_add(&ch->d->metrics.frames_out[kind], 1);
	if (c->ob.bytes > OUTBOX_HIGH)
		set_pause(c, PAUSE_OUTBOX, 1);
	lws_callback_on_writable(c->wsi);
}

static void conn_send(struct chat *ch, struct chat_conn *c, char *text, enum metrics_frame kind)
{
	conn_send_len(ch, c, text, strlen(text), kind);
}

static void conn_error(struct chat *ch, struct chat_conn *c, enum wire_error code,
		       const char *message, const char *in_reply_to)
{
	atomic_fetch_add(&ch->d->metrics.errors[code], 1);
	log_info(&ch->d->log, "client_error", "conn=%llu conv=%s code=%s",
		 (unsigned long long)c->id, c->conv ? c->conv->public_id : "-",
		 wire_error_code(code));
	conn_send(ch, c, wire_error(code, message, in_reply_to), MF_ERROR);
}

/* Sends one committed content frame to c unless it already has it. */
static void send_frame(struct chat *ch, struct chat_conn *c, const char *body, size_t len,
		       int64_t seq, enum metrics_frame kind)
{
	size_t out_len;
	char *frame;

	if (seq <= c->delivered_seq)
		return;
	frame = wire_with_seq(body, len, seq, &out_len);
	conn_send_len(ch, c, frame, out_len, kind);
	c->delivered_seq = seq;
}

/* Sends one committed content frame to c unless it already has it, or a
 * replay is going on (the frame comes with a page of it, in order). */
static void deliver(struct chat *ch, struct chat_conn *c, const char *body, size_t len,
		    int64_t seq, enum metrics_frame kind)
{
	if (c && !c->replaying)
		send_frame(ch, c, body, len, seq, kind);
}

/* Closing: close once the peer has been quiet long enough (conn_close). */
static void on_close_timer(struct chat_conn *c)
{
	int64_t quiet = clock_mono_ms() - c->last_rx_ms;

	if (!c->close_code)
		return;
	if (quiet >= CLOSE_QUIET_MS && !peer_sending(c->wsi)) {
		c->close_ready = 1;
		lws_callback_on_writable(c->wsi);
		return;
	}
	lws_set_timer_usecs(c->wsi, (CLOSE_QUIET_MS - (quiet < CLOSE_QUIET_MS ? quiet : 0) + 1) *
					    LWS_US_PER_MS);
}

/* How many bytes of stored frames one page of a replay reads: a quarter of
 * the outbox, so that a long transcript never fills it. */
static size_t replay_page_bytes(const struct chat *ch)
{
	size_t quarter = ch->d->cfg.chat.outbox_max_bytes / 4;
	return quarter < REPLAY_PAGE_MAX ? quarter : REPLAY_PAGE_MAX;
}

static void release(struct chat *ch, struct conversation *conv);

/* The next page of c's replay came back: send it, and go on (from the
 * writable callback, once the socket has taken it) until c has every
 * frame its conversation has. A store that fails closes c: the client
 * resumes again and loses nothing. */
static void on_replay_done(struct store_job *job, void *ud)
{
	struct chat *ch = ud;
	struct conversation *conv = conversation_find(&ch->convs, job->conv);
	struct chat_conn *c = conn_find(ch, job->conn_id);

	if (conv)
		conv->pending--;
	if (c && conv && c->conv == conv) {
		c->replay_in_flight = 0;
		if (job->status != STORE_OK) {
			conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				   "the transcript could not be read; please resume");
		} else {
			for (size_t i = 0; i < job->n_events; i++)
				send_frame(ch, c, job->events[i].body, job->events[i].body_len,
					   job->events[i].seq, MF_MESSAGE);
			if (!job->n_events && c->delivered_seq < job->seq)
				c->delivered_seq = job->seq; /* nothing to read: cannot happen */
			c->replaying = c->delivered_seq < conv->last_seq;
		}
		if (c->wsi)
			lws_callback_on_writable(c->wsi);
	}
	if (conv)
		release(ch, conv);
	store_job_free(job);
}

static void request_page(struct chat *ch, struct chat_conn *c)
{
	struct store_job *job = store_job_new(STORE_REPLAY);

	job->conn_id = c->id;
	job->conv = c->conv->id;
	job->now_ms = clock_wall_ms();
	job->after_seq = c->delivered_seq;
	job->page_bytes = replay_page_bytes(ch);
	c->replay_in_flight = 1;
	c->conv->pending++;
	store_submit(ch->d->store, job, on_replay_done, ch);
}

/* Sends queued frames (outbox_send: many frames per write, such as an ack
 * and its reply). Closes once the queue is empty, a close is pending and
 * the peer has gone quiet. */
static int conn_writable(struct chat_conn *c)
{
	if (outbox_send(&c->ob, c->wsi) < 0)
		return -1;
	if (c->replaying && !c->replay_in_flight && !c->ob.frames && c->conv)
		request_page(chat_of(c->wsi), c);
	if ((c->pause & PAUSE_OUTBOX) && c->ob.bytes < OUTBOX_LOW)
		set_pause(c, PAUSE_OUTBOX, 0);
	if (c->ob.frames) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->close_code) {
		if (!c->close_ready)
			return 0; /* on_close_timer calls again */
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	return 0;
}

/* ===== conversations ===== */

static void release(struct chat *ch, struct conversation *conv)
{
	if (!conv->conn_id && !conv->pending)
		bot_forget_run(ch->d->pipeline, conv);
	conversation_release_if_idle(&ch->convs, conv);
}

/* Loads a stored flow run into conv. A log that does not read back is
 * logged and dropped (the sweep then ends it in the store). */
static void load_flow(struct chat *ch, struct conversation *conv, const char *text, int http,
		      int64_t deadline_ms)
{
	struct flowlog *log = calloc(1, sizeof(*log)), *copy;
	char err[200];

	if (!log)
		abort();
	if (flowlog_decode(text, log, err, sizeof(err))) {
		log_error(&ch->d->log, "flow_unreadable", "conv=%s reason=\"%s\"", conv->public_id, err);
		free(log);
		return;
	}
	copy = calloc(1, sizeof(*copy));
	if (!copy)
		abort();
	flowlog_copy(copy, log);
	conversation_set_flow(&conv->flow, log);
	conversation_set_flow(&conv->flow_stored, copy);
	conv->flow_http = conv->flow_stored_http = http;
	conv->flow_deadline_ms = deadline_ms;
}

static void handle_frame(struct chat *ch, struct chat_conn *c, const char *buf, size_t len);

/* Attaches c to conv, sends welcome and the replay, and starts reading. */
static void attach(struct chat *ch, struct chat_conn *c, struct conversation *conv, int resumed,
		   const struct store_job *replay)
{
	const struct config *cfg = &ch->d->cfg;
	struct wire_limits lim = {cfg->chat.max_text_bytes, cfg->chat.max_frame_bytes,
				  cfg->chat.rate_per_sec, cfg->chat.rate_burst};

	if (conv->conn_id && conv->conn_id != c->id) {
		struct chat_conn *old = conn_find(ch, conv->conn_id);
		if (old) {
			old->conv = NULL;
			conn_close(old, CLOSE_RESUMED_ELSEWHERE, "resumed elsewhere");
		}
	}
	conv->conn_id = c->id;
	c->conv = conv;
	c->state = CS_READY;
	conn_send(ch, c, wire_welcome(conv->public_id, c->token, resumed, conv->last_seq, &lim),
		  MF_WELCOME);
	sodium_memzero(c->token, sizeof(c->token));
	/* the frames after the client's last_seq (none without one), the first
	 * page of them; the writable callback asks for the rest */
	c->delivered_seq = replay && replay->after_seq >= 0 && replay->after_seq < conv->last_seq
				   ? replay->after_seq
				   : conv->last_seq;
	for (size_t i = 0; replay && i < replay->n_events; i++)
		send_frame(ch, c, replay->events[i].body, replay->events[i].body_len,
			   replay->events[i].seq, MF_MESSAGE);
	c->replaying = c->delivered_seq < conv->last_seq;
	log_info(&ch->d->log, "conversation_attached", "conn=%llu conv=%s resumed=%d last_seq=%lld",
		 (unsigned long long)c->id, conv->public_id, resumed, (long long)conv->last_seq);
	desk_on_attached(ch->d->desk, conv);

	/* frames that arrived while the hello was in flight, in order */
	for (size_t i = 0; i < c->n_held; i++) {
		if (c->state == CS_READY)
			handle_frame(ch, c, c->held[i].data, c->held[i].len);
		free(c->held[i].data);
	}
	c->n_held = 0;
	set_pause(c, PAUSE_HELLO, 0);
}

static void on_create_done(struct store_job *job, void *ud);

/* The connection a hello job was for, if it is still waiting for it. */
static struct chat_conn *greeting_conn(struct chat *ch, const struct store_job *job)
{
	struct chat_conn *c = conn_find(ch, job->conn_id);
	return (c && c->state == CS_GREETING) ? c : NULL;
}

/* A hello that cannot be served: say so and close, so the client retries. */
static void fail_greeting(struct chat *ch, struct chat_conn *c, const char *message)
{
	conn_error(ch, c, WIRE_ERR_STORE_UNAVAILABLE, message, NULL);
	conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "store unavailable");
}

/* Starts a new conversation for c; takes ownership of lang, name, email. */
static void start_new(struct chat *ch, struct chat_conn *c, char *lang, char *name, char *email)
{
	struct store_job *job = store_job_new(STORE_CREATE);

	job->lang = lang;
	job->name = name;
	job->email = email;
	if (token_conversation_id(job->public_id) || token_new(c->token, job->token_hash)) {
		log_error(&ch->d->log, "no_randomness", "conn=%llu", (unsigned long long)c->id);
		store_job_free(job);
		fail_greeting(ch, c, "cannot start a conversation now; please reconnect");
		return;
	}
	job->conn_id = c->id;
	job->now_ms = clock_wall_ms();
	store_submit(ch->d->store, job, on_create_done, ch);
}

static void on_create_done(struct store_job *job, void *ud)
{
	struct chat *ch = ud;
	struct chat_conn *c = greeting_conn(ch, job);
	struct conversation *conv;

	if (c && job->status != STORE_OK)
		fail_greeting(ch, c, "could not start a conversation; please reconnect");
	if (!c || job->status != STORE_OK) {
		store_job_free(job);
		return;
	}
	conv = conversation_add(&ch->convs, job->conv, job->public_id);
	conversation_set_details(conv, job->lang, job->name, job->email);
	atomic_fetch_add(&ch->d->metrics.conversations_total, 1);
	attach(ch, c, conv, 0, NULL);
	store_job_free(job);
}

/* A resume that cannot be honoured: say why, and start a new conversation
 * with the customer details the hello gave. Takes ownership of job. */
static void resume_refused(struct chat *ch, struct chat_conn *c, struct store_job *job,
			   int expired)
{
	conn_error(ch, c, expired ? WIRE_ERR_RESUME_EXPIRED : WIRE_ERR_RESUME_UNKNOWN,
		   expired ? "the conversation expired; a new one is starting"
			   : "the resume token is not known; a new conversation is starting",
		   NULL);
	start_new(ch, c, job->lang, job->name, job->email);
	job->lang = job->name = job->email = NULL;
	store_job_free(job);
}

static void on_resume_done(struct store_job *job, void *ud)
{
	struct chat *ch = ud;
	struct chat_conn *c = greeting_conn(ch, job);
	struct conversation *conv;

	if (!c) {
		store_job_free(job);
		return;
	}
	switch (job->status) {
	case STORE_OK:
		break;
	case STORE_NOT_FOUND:
	case STORE_EXPIRED:
		resume_refused(ch, c, job, job->status == STORE_EXPIRED);
		return;
	default:
		fail_greeting(ch, c, "could not resume the conversation; please reconnect");
		store_job_free(job);
		return;
	}
	conv = conversation_find(&ch->convs, job->conv);
	if (!conv) {
		conv = conversation_add(&ch->convs, job->conv, job->public_id);
		for (size_t i = job->n_recent; i-- > 0;)
			conversation_recent_add(conv, job->recent[i].client_id, job->recent[i].seq);
	}
	if (job->seq > conv->last_seq)
		conv->last_seq = job->seq;
	if (job->turns > conv->turn)
		conv->turn = job->turns;
	if (job->run_log && !conv->flow && !conv->pending)
		load_flow(ch, conv, job->run_log, job->run_waiting_http, job->run_deadline_ms);
	if (!conv->pending) {
		conv->status = job->conv_status;
		if (!conv->mood.messages && job->mood)
			mood_trend_from_json(&conv->mood, job->mood);
	}
	conversation_set_details(conv, job->lang, job->name, job->email);
	atomic_fetch_add(&ch->d->metrics.resumes_total, 1);
	attach(ch, c, conv, 1, job);
	store_job_free(job);
}

/* ===== frames ===== */

static char *dup_or_null(const char *s)
{
	char *r;
	if (!s)
		return NULL;
	r = strdup(s);
	if (!r)
		abort();
	return r;
}

static void on_hello(struct chat *ch, struct chat_conn *c, const struct wire_in *in)
{
	struct store_job *job;

	if (c->state != CS_NEW) {
		conn_error(ch, c, WIRE_ERR_ALREADY_GREETED, "hello was already received", NULL);
		return;
	}
	c->state = CS_GREETING;
	set_pause(c, PAUSE_HELLO, 1);
	if (!in->resume) {
		start_new(ch, c, dup_or_null(in->lang), dup_or_null(in->name), dup_or_null(in->email));
		return;
	}
	job = store_job_new(STORE_RESUME);
	job->lang = dup_or_null(in->lang);
	job->name = dup_or_null(in->name);
	job->email = dup_or_null(in->email);
	if (token_hash_text(in->resume, job->token_hash)) {
		resume_refused(ch, c, job, 0); /* malformed: as unknown */
		return;
	}
	snprintf(c->token, sizeof(c->token), "%s", in->resume);
	job->conn_id = c->id;
	job->now_ms = clock_wall_ms();
	job->ttl_ms = ch->d->cfg.chat.resume_idle_ttl_sec * 1000;
	job->after_seq = in->has_last_seq ? in->last_seq : -1;
	job->page_bytes = replay_page_bytes(ch);
	store_submit(ch->d->store, job, on_resume_done, ch);
}

static void start_call(struct chat *ch, struct conversation *conv, struct flow_call *call);

static void on_append_done(struct store_job *job, void *ud)
{
	struct chat *ch = ud;
	struct conversation *conv = conversation_find(&ch->convs, job->conv);
	struct conversation_recent *r;
	struct flow_call call;
	struct chat_conn *c;
	int64_t top;

	if (!conv) { /* cannot happen: pending > 0 keeps it */
		store_job_free(job);
		return;
	}
	conv->pending--;
	c = conn_find(ch, conv->conn_id);
	r = job->client_id ? conversation_recent_find(conv, job->client_id) : NULL;
	bot_stored(ch->d->pipeline, conv, job, &call);
	switch (job->status) {
	case STORE_OK:
		top = job->seq;
		for (size_t i = 0; i < job->n_extra; i++)
			if (job->extra[i].seq > top)
				top = job->extra[i].seq;
		if (top > conv->last_seq)
			conv->last_seq = top;
		if (job->client_id) {
			atomic_fetch_add(&ch->d->metrics.messages_in_total, 1);
			if (c && c->id == job->conn_id) {
				conn_send(ch, c, wire_ack(job->client_id, job->seq, 0), MF_ACK);
				for (int i = 0; r && i < r->extra_acks; i++)
					conn_send(ch, c, wire_ack(job->client_id, job->seq, 1), MF_ACK);
				if (c->delivered_seq == job->seq - 1)
					c->delivered_seq = job->seq; /* its sender has it */
			}
			if (r) {
				r->seq = job->seq;
				r->extra_acks = 0;
			}
		}
		if (c) {
			if (job->body)
				deliver(ch, c, job->body, job->body_len, job->seq, MF_MESSAGE);
			for (size_t i = 0; i < job->n_extra; i++)
				if (job->extra[i].seq)
					deliver(ch, c, job->extra[i].body, job->extra[i].body_len,
						job->extra[i].seq, MF_REPLY);
		}
		if (call.method[0])
			start_call(ch, conv, &call);
		switch (job->desk.op) {
		case STORE_DESK_ENQUEUE:
		case STORE_DESK_REQUEUE: conv->status = STORE_CONV_QUEUED; break;
		case STORE_DESK_ASSIGN: conv->status = STORE_CONV_AGENT; break;
		case STORE_DESK_CLOSE: conv->status = STORE_CONV_CLOSED; break;
		case STORE_DESK_REOPEN:
		case STORE_DESK_TICKET: conv->status = STORE_CONV_BOT; break;
		default: break;
		}
		desk_on_stored(ch->d->desk, conv, job);
		break;
	case STORE_DUPLICATE:
		atomic_fetch_add(&ch->d->metrics.duplicates_total, 1);
		if (r)
			r->seq = job->seq;
		if (c && c->id == job->conn_id)
			conn_send(ch, c, wire_ack(job->client_id, job->seq, 1), MF_ACK);
		break;
	default:
		if (r)
			r->id[0] = '\0'; /* let the client send it again */
		if (!job->client_id) {
			log_error(&ch->d->log, "bot_step_lost", "conv=%s status=%d", conv->public_id,
				  (int)job->status);
		} else if (c && c->id == job->conn_id) {
			conn_error(ch, c,
				   job->status == STORE_FULL ? WIRE_ERR_CONVERSATION_FULL
							     : WIRE_ERR_STORE_UNAVAILABLE,
				   job->status == STORE_FULL
					   ? "this conversation is full; please start a new one"
					   : "the message could not be stored; please send it again",
				   job->client_id);
		}
		break;
	}
	free(call.url);
	free(call.body);
	if (job->after)
		job->after(job, job->after_ud);
	release(ch, conv);
	store_job_free(job);
}

void chat_notify(struct chat *ch, int64_t conv_id, char *frame)
{
	struct conversation *conv = conversation_find(&ch->convs, conv_id);
	struct chat_conn *c = conv ? conn_find(ch, conv->conn_id) : NULL;

	if (c && c->state == CS_READY)
		conn_send(ch, c, frame, strstr(frame, "\"typing\"") ? MF_TYPING : MF_REPLY);
	else
		free(frame);
}

void chat_desk_append(struct chat *ch, int64_t conv_id, const char *public_id,
		      struct store_job *job, void (*after)(struct store_job *job, void *ud),
		      void *ud)
{
	struct conversation *conv = conversation_find(&ch->convs, conv_id);

	if (!conv)
		conv = conversation_add(&ch->convs, conv_id, public_id);
	job->conv = conv_id;
	job->conn_id = 0;
	job->after = after;
	job->after_ud = ud;
	conv->pending++;
	store_submit(ch->d->store, job, on_append_done, ch);
}

/* Stores what the bot does on its own (after a backend reply, when a flow
 * is due), as replies to in_reply_to (may be NULL). Takes the step. */
static void submit_step(struct chat *ch, struct conversation *conv, struct bot_step *step,
			const char *in_reply_to)
{
	struct store_job *job;
	int64_t now = clock_wall_ms();

	if (bot_step_empty(step)) {
		bot_step_clear(step);
		return;
	}
	job = store_job_new(STORE_APPEND);
	job->conv = conv->id;
	job->now_ms = now;
	job->max_events = ch->d->cfg.chat.max_events;
	for (size_t i = 0; i < step->n; i++)
		metrics_count_answer(&ch->d->metrics, step->replies[i].source ? step->replies[i].source : "");
	bot_to_job(step, job, in_reply_to, now);
	bot_step_clear(step);
	conv->pending++;
	store_submit(ch->d->store, job, on_append_done, ch);
}

/* ===== backend calls of flows ===== */

#define CALL_GEN_BITS 16

static void on_call_done(void *ud, uint64_t tag, struct backend_result *res)
{
	struct chat *ch = ud;
	struct conversation *conv = conversation_find(&ch->convs, (int64_t)(tag >> CALL_GEN_BITS));
	struct bot_step step;

	if (!conv) { /* cannot happen: pending > 0 keeps it */
		backend_result_clear(res);
		return;
	}
	conv->pending--;
	if ((uint16_t)(tag & 0xffffu) == conv->call_gen && conv->call_in_flight) {
		conv->call_in_flight = 0;
		bot_on_reply(ch->d->pipeline, ch->d->desk, &ch->d->cfg, conv, res, clock_wall_ms(),
			     &step);
		submit_step(ch, conv, &step, conv->flow_msg_id[0] ? conv->flow_msg_id : NULL);
	}
	backend_result_clear(res);
	release(ch, conv);
}

/* Sends a flow's backend call; takes call's strings. */
static void start_call(struct chat *ch, struct conversation *conv, struct flow_call *call)
{
	char err[BACKEND_URL_MAX + 200];
	uint64_t tag;

	conv->call_gen++;
	conv->call_in_flight = 1;
	conv->pending++;
	tag = ((uint64_t)conv->id << CALL_GEN_BITS) | conv->call_gen;
	if (backend_request(ch->d->backend, call->method, call->url, call->body, tag, on_call_done,
			    ch, err, sizeof(err))) {
		/* the flow checked the URL against the same list: only a changed
		 * config gets here; the flow sees the call fail */
		struct backend_result res = {0};
		res.error = strdup(err);
		if (!res.error)
			abort();
		on_call_done(ch, tag, &res);
	}
	free(call->url);
	free(call->body);
	memset(call, 0, sizeof(*call));
}

/* ===== flows that are due ===== */

static void schedule_due(struct chat *ch);

static void on_due_done(struct store_job *job, void *ud)
{
	struct chat *ch = ud;
	int64_t now = clock_wall_ms();

	ch->due_in_flight = 0;
	for (size_t i = 0; job->status == STORE_OK && i < job->n_due; i++) {
		const struct store_due *due = &job->due[i];
		struct conversation *conv = conversation_find(&ch->convs, due->conv);
		struct bot_step step;

		if (conv && (conv->pending || !conv->flow))
			continue; /* busy, or settled in memory: the next sweep sees the store */
		if (!conv) {
			conv = conversation_add(&ch->convs, due->conv, due->public_id);
			conversation_set_details(conv, due->lang, due->name, NULL);
			load_flow(ch, conv, due->flow_log, due->waiting_http, due->deadline_ms);
		}
		if (!conv->flow) { /* unreadable: end it */
			memset(&step, 0, sizeof(step));
			step.flow_op = STORE_FLOW_END;
		} else {
			bot_on_due(ch->d->pipeline, ch->d->desk, &ch->d->cfg, conv, now, &step);
		}
		submit_step(ch, conv, &step, NULL);
		release(ch, conv);
	}
	store_job_free(job);
	schedule_due(ch);
}

static void on_due_tick(lws_sorted_usec_list_t *sul)
{
	struct chat *ch = lws_container_of(sul, struct chat, due_sul);
	struct store_job *job;

	if (ch->d->draining || ch->due_in_flight)
		return;
	job = store_job_new(STORE_FLOWS_DUE);
	job->now_ms = clock_wall_ms();
	job->started_ms = ch->started_wall_ms;
	ch->due_in_flight = 1;
	store_submit(ch->d->store, job, on_due_done, ch);
}

/* The sweep runs a few times per answer timeout, at most once a second. */
static void schedule_due(struct chat *ch)
{
	int64_t ms = ch->d->cfg.flows.answer_timeout_ms / 4;
	if (ms < 50)
		ms = 50;
	if (ms > 1000)
		ms = 1000;
	if (!ch->d->draining)
		lws_sul_schedule(ch->d->lws, 0, &ch->due_sul, on_due_tick,
				 (lws_usec_t)ms * LWS_US_PER_MS);
}

void chat_start(struct chat *ch)
{
	ch->started_wall_ms = clock_wall_ms();
	lws_sul_schedule(ch->d->lws, 0, &ch->due_sul, on_due_tick, 1);
}

void chat_stop(struct chat *ch)
{
	if (ch->d->lws)
		lws_sul_cancel(&ch->due_sul);
}

static void on_plain_done(struct store_job *job, void *ud)
{
	struct chat *ch = ud;
	struct conversation *conv = conversation_find(&ch->convs, job->conv);
	if (conv) {
		conv->pending--;
		release(ch, conv);
	}
	store_job_free(job);
}

/* A frame refused by a rate limit; enough of them in a row close the
 * connection as abusive. */
static void strike(struct chat *ch, struct chat_conn *c, const char *message,
		   const char *in_reply_to)
{
	conn_error(ch, c, WIRE_ERR_RATE_LIMITED, message, in_reply_to);
	if (++c->strikes >= ch->d->cfg.chat.abuse_strikes) {
		log_warn(&ch->d->log, "client_abusive", "conn=%llu ip=%s", (unsigned long long)c->id,
			 c->ip);
		conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "rate limit abuse");
	}
}

static void on_message(struct chat *ch, struct chat_conn *c, const struct wire_in *in)
{
	struct daemon *d = ch->d;
	struct conversation *conv = c->conv;
	struct conversation_recent *r;
	struct bot_step step;
	struct store_job *job;
	int64_t now = clock_wall_ms();

	if (!ratelimit_take(&c->rl, clock_mono_ms())) {
		char msg[96];
		snprintf(msg, sizeof(msg), "more than %g messages a second; this one was not stored",
			 d->cfg.chat.rate_per_sec);
		strike(ch, c, msg, in->id);
		return;
	}
	c->strikes = 0;

	r = conversation_recent_find(conv, in->id);
	if (r) {
		atomic_fetch_add(&d->metrics.duplicates_total, r->seq ? 1 : 0);
		if (r->seq)
			conn_send(ch, c, wire_ack(in->id, r->seq, 1), MF_ACK);
		else
			r->extra_acks++;
		return;
	}
	conversation_recent_add(conv, in->id, 0);

	bot_on_message(d->pipeline, d->desk, &d->cfg, conv, in->text, in->text_len, in->choice, now,
		       &step);
	snprintf(conv->flow_msg_id, sizeof(conv->flow_msg_id), "%s", in->id);
	conv->turn++;

	job = store_job_new(STORE_APPEND);
	job->conn_id = c->id;
	job->conv = conv->id;
	job->now_ms = now;
	job->max_events = d->cfg.chat.max_events;
	job->kind = "message";
	job->client_id = dup_or_null(in->id);
	job->body = wire_message_body(in->id, in->text, in->text_len, now);
	job->body_len = strlen(job->body);
	for (size_t i = 0; i < step.n; i++)
		metrics_count_answer(&d->metrics, step.replies[i].source ? step.replies[i].source : "");
	bot_to_job(&step, job, in->id, now);
	bot_step_clear(&step);
	if (d->cfg.chat.bot_typing)
		conn_send(ch, c, wire_typing("bot", 1), MF_TYPING);
	conv->pending++;
	store_submit(d->store, job, on_append_done, ch);
}

static void on_client_ack(struct chat *ch, struct chat_conn *c, const struct wire_in *in)
{
	struct conversation *conv = c->conv;
	struct store_job *job;

	if (in->seq > conv->last_seq) {
		char msg[96];
		snprintf(msg, sizeof(msg), "field \"seq\" is %lld but the conversation is at %lld",
			 (long long)in->seq, (long long)conv->last_seq);
		conn_error(ch, c, WIRE_ERR_BAD_FIELD, msg, NULL);
		return;
	}
	if (in->seq <= conv->client_seq)
		return;
	conv->client_seq = in->seq;
	job = store_job_new(STORE_CLIENT_ACK);
	job->conv = conv->id;
	job->client_seq = in->seq;
	job->now_ms = clock_wall_ms();
	conv->pending++;
	store_submit(ch->d->store, job, on_plain_done, ch);
}

static void on_rated(struct store_job *job, void *ud)
{
	struct chat *ch = ud;
	struct conversation *conv = conversation_find(&ch->convs, job->conv);
	struct chat_conn *c = conn_find(ch, job->conn_id);

	if (c && c->state == CS_READY) {
		if (job->status == STORE_OK) {
			atomic_fetch_add(&ch->d->metrics.ratings_total[job->desk.rating > 0], 1);
			conn_send(ch, c, wire_rated(job->client_seq, job->desk.rating), MF_ACK);
		}
		else if (job->status == STORE_NOT_FOUND)
			conn_error(ch, c, WIRE_ERR_BAD_FIELD, "there is no bot reply with that seq", NULL);
		else
			conn_error(ch, c, WIRE_ERR_STORE_UNAVAILABLE, "the rating could not be stored", NULL);
	}
	if (conv) {
		conv->pending--;
		release(ch, conv);
	}
	store_job_free(job);
}

/* The customer's thumb on a bot answer. */
static void on_rate(struct chat *ch, struct chat_conn *c, const struct wire_in *in)
{
	struct store_job *job = store_job_new(STORE_RATE);

	job->conv = c->conv->id;
	job->conn_id = c->id;
	job->client_seq = in->seq;
	job->desk.rating = in->rating;
	job->now_ms = clock_wall_ms();
	c->conv->pending++;
	store_submit(ch->d->store, job, on_rated, ch);
}

/* The customer rates a chat an agent closed. */
static void on_csat(struct chat *ch, struct chat_conn *c, const struct wire_in *in)
{
	struct conversation *conv = c->conv;
	struct store_job *job;
	struct wire_reply r = {0};
	char lang[3];

	if (conv->status != STORE_CONV_CLOSED) {
		conn_error(ch, c, WIRE_ERR_NOT_CLOSED, "there is no closed chat to rate", NULL);
		return;
	}
	snprintf(lang, sizeof(lang), "%s", conv->lang ? conv->lang : "en");
	job = store_job_new(STORE_APPEND);
	job->now_ms = clock_wall_ms();
	job->max_events = ch->d->cfg.chat.max_events;
	job->desk.op = STORE_DESK_CSAT;
	job->desk.rating = in->rating;
	job->desk.text = dup_or_null(in->comment);
	r.text = (char *)flowhost_text(pipeline_flows(ch->d->pipeline), lang, "desk.csat_thanks");
	r.source = "csat";
	r.from = "system";
	job->extra = calloc(1, sizeof(*job->extra));
	if (!job->extra)
		abort();
	job->extra[0].kind = "system";
	job->extra[0].body = wire_reply_body(&r, NULL, job->now_ms);
	job->extra[0].body_len = strlen(job->extra[0].body);
	job->n_extra = 1;
	log_info(&ch->d->log, "csat", "conv=%s rating=%d", conv->public_id, in->rating);
	atomic_fetch_add(&ch->d->metrics.csat_total[in->rating - 1], 1);
	chat_desk_append(ch, conv->id, conv->public_id, job, NULL, NULL);
}

static void handle_frame(struct chat *ch, struct chat_conn *c, const char *buf, size_t len)
{
	struct wire_in in;
	struct wire_fault f;

	if (c->state == CS_CLOSING)
		return;
	/* frames of any kind (typing, acks, garbage) are bounded too, at
	 * FRAME_RATE_FACTOR times the message rate */
	if (!ratelimit_take(&c->frames_rl, clock_mono_ms())) {
		strike(ch, c, "too many frames a second; this one was dropped", NULL);
		return;
	}
	if (c->state == CS_GREETING) {
		/* reading is paused, but lws may hand over what it had buffered */
		if (c->n_held == HELD_MAX) {
			conn_error(ch, c, WIRE_ERR_HELLO_REQUIRED, "wait for welcome before sending more", NULL);
			return;
		}
		c->held[c->n_held].data = malloc(len ? len : 1);
		if (!c->held[c->n_held].data)
			abort();
		memcpy(c->held[c->n_held].data, buf, len);
		c->held[c->n_held++].len = len;
		return;
	}
	if (wire_parse(buf, len, ch->d->cfg.chat.max_text_bytes, &in, &f)) {
		conn_error(ch, c, f.code, f.message, f.in_reply_to);
		return;
	}
	if (in.type == WIRE_IN_HELLO) {
		on_hello(ch, c, &in);
	} else if (c->state != CS_READY) {
		conn_error(ch, c, WIRE_ERR_HELLO_REQUIRED, "send hello first", in.id);
	} else if (in.type == WIRE_IN_MESSAGE) {
		on_message(ch, c, &in);
	} else if (in.type == WIRE_IN_ACK) {
		on_client_ack(ch, c, &in);
	} else if (in.type == WIRE_IN_TYPING) {
		desk_on_customer_typing(ch->d->desk, c->conv, in.state); /* nothing to store */
	} else if (in.type == WIRE_IN_CSAT) {
		on_csat(ch, c, &in);
	} else if (in.type == WIRE_IN_RATE) {
		on_rate(ch, c, &in);
	}
	wire_in_free(&in);
}

/* ===== lws ===== */

static void on_established(struct chat *ch, struct lws *wsi, struct chat_pss *pss)
{
	const struct config *cfg = &ch->d->cfg;
	struct chat_conn *c = calloc(1, sizeof(*c));
	struct ip_count *ipc = NULL;

	if (!c)
		abort();
	c->id = ++ch->next_id;
	c->wsi = wsi;
	outbox_init(&c->ob, LWS_PRE);
	ratelimit_init(&c->rl, cfg->chat.rate_per_sec, cfg->chat.rate_burst, clock_mono_ms());
	ratelimit_init(&c->frames_rl, cfg->chat.rate_per_sec * FRAME_RATE_FACTOR,
		       cfg->chat.rate_burst * FRAME_RATE_FACTOR, clock_mono_ms());
	lws_get_peer_simple(wsi, c->ip, sizeof(c->ip));
	HASH_ADD(hh, ch->conns, id, sizeof(c->id), c);
	pss->c = c;
	ch->n_conns++;
	atomic_fetch_add(&ch->d->metrics.conn_chat, 1);

	if (ch->n_conns > cfg->chat.max_connections || ch->d->draining) {
		atomic_fetch_add(&ch->d->metrics.conn_refused_total, 1);
		conn_error(ch, c, WIRE_ERR_SERVER_BUSY, "the server is full; try again later", NULL);
		conn_close(c, CLOSE_TRY_AGAIN_LATER, "server busy");
		return;
	}
	HASH_FIND_STR(ch->ips, c->ip, ipc);
	if (ipc && ipc->n >= cfg->chat.max_conn_per_ip) {
		char msg[96];
		atomic_fetch_add(&ch->d->metrics.conn_refused_total, 1);
		snprintf(msg, sizeof(msg), "your address already has %d connections open", ipc->n);
		conn_error(ch, c, WIRE_ERR_TOO_MANY_CONNECTIONS, msg, NULL);
		conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many connections");
		return;
	}
	if (!ipc) {
		ipc = calloc(1, sizeof(*ipc));
		if (!ipc)
			abort();
		snprintf(ipc->ip, sizeof(ipc->ip), "%s", c->ip);
		HASH_ADD_STR(ch->ips, ip, ipc);
	}
	ipc->n++;
	c->counted = 1;
	atomic_fetch_add(&ch->d->metrics.conn_chat_total, 1);
	log_debug(&ch->d->log, "conn_open", "conn=%llu ip=%s", (unsigned long long)c->id, c->ip);
}

static void conn_free(struct chat *ch, struct chat_conn *c)
{
	HASH_DEL(ch->conns, c);
	ch->n_conns--;
	outbox_clear(&c->ob);
	free(c->rx);
	for (size_t i = 0; i < c->n_held; i++)
		free(c->held[i].data);
	sodium_memzero(c->token, sizeof(c->token));
	free(c);
}

static void on_closed(struct chat *ch, struct chat_conn *c)
{
	if (c->counted) {
		struct ip_count *ipc = NULL;
		HASH_FIND_STR(ch->ips, c->ip, ipc);
		if (ipc && --ipc->n == 0) {
			HASH_DEL(ch->ips, ipc);
			free(ipc);
		}
	}
	if (c->conv) {
		if (c->conv->conn_id == c->id)
			c->conv->conn_id = 0;
		release(ch, c->conv);
	}
	atomic_fetch_sub(&ch->d->metrics.conn_chat, 1);
	log_debug(&ch->d->log, "conn_closed", "conn=%llu", (unsigned long long)c->id);
	c->wsi = NULL;
	conn_free(ch, c);
}

static void on_receive(struct chat *ch, struct lws *wsi, struct chat_conn *c, const char *in,
		       size_t len)
{
	size_t max = ch->d->cfg.chat.max_frame_bytes;
	int first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);

	if (first) {
		c->rx_len = 0;
		c->rx_skip = 0;
		c->rx_binary = lws_frame_is_binary(wsi);
	}
	if (c->close_code) {
		c->last_rx_ms = clock_mono_ms(); /* see conn_close */
		return;
	}
	if (c->rx_skip)
		return;
	if (c->rx_len + len + lws_remaining_packet_payload(wsi) > max) {
		char msg[96];
		snprintf(msg, sizeof(msg), "a frame may be at most %zu bytes", max);
		c->rx_skip = 1;
		conn_error(ch, c, WIRE_ERR_FRAME_TOO_LARGE, msg, NULL);
		conn_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "frame too large");
		return;
	}
	if (c->rx_binary) {
		if (final)
			conn_error(ch, c, WIRE_ERR_BINARY_UNSUPPORTED,
				   "binary frames are not supported; send JSON text frames", NULL);
		return;
	}
	if (first && final) {
		handle_frame(ch, c, in, len);
		return;
	}
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 1024;
		while (cap < c->rx_len + len)
			cap *= 2;
		c->rx = realloc(c->rx, cap);
		if (!c->rx)
			abort();
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (final) {
		handle_frame(ch, c, c->rx, c->rx_len);
		free(c->rx); /* idle connections hold no buffer */
		c->rx = NULL;
		c->rx_cap = c->rx_len = 0;
	}
}

int chat_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	struct chat_pss *pss = user;
	struct chat *ch;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		ch = chat_of(wsi);
		if (ch && ch->d->store)
			store_dispatch(ch->d->store);
		if (ch)
			reload_poll(ch->d->reload);
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		on_established(chat_of(wsi), wsi, pss);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (pss && pss->c)
			on_receive(chat_of(wsi), wsi, pss->c, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (pss && pss->c)
			return conn_writable(pss->c);
		return 0;
	case LWS_CALLBACK_TIMER:
		if (pss && pss->c)
			on_close_timer(pss->c);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (pss && pss->c) {
			on_closed(chat_of(wsi), pss->c);
			pss->c = NULL;
		}
		return 0;
	default:
		return 0;
	}
}

void chat_pause_all(struct chat *ch)
{
	struct chat_conn *c, *tmp;
	HASH_ITER(hh, ch->conns, c, tmp)
		set_pause(c, PAUSE_DRAIN, 1);
}

void chat_close_all(struct chat *ch, int code, const char *reason)
{
	struct chat_conn *c, *tmp;
	HASH_ITER(hh, ch->conns, c, tmp)
		conn_close(c, code, reason);
}

void chat_free(struct chat *ch)
{
	struct chat_conn *c, *tmp;
	struct ip_count *ipc, *itmp;
	struct conversation *conv, *ctmp;

	if (!ch)
		return;
	HASH_ITER(hh, ch->conns, c, tmp)
		conn_free(ch, c);
	HASH_ITER(hh, ch->ips, ipc, itmp) {
		HASH_DEL(ch->ips, ipc);
		free(ipc);
	}
	HASH_ITER(hh, ch->convs.by_id, conv, ctmp)
		bot_forget_run(ch->d->pipeline, conv); /* their holds on content versions */
	conversations_clear(&ch->convs);
	free(ch);
}
