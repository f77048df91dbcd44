/*
 * loadgen.c - closed-loop websocket load generator for supportd benchmarks.
 *
 * One process, one libwebsockets event loop, many client connections. It
 * opens --conns connections (ramping at --ramp-per-sec), greets them, and
 * then, for --duration seconds, keeps exactly one message in flight on every
 * connection: send, wait for the answer, send the next. It prints its
 * figures on stdout as key=value lines, one per line; diagnostics go to
 * stderr.
 *
 * Modes:
 *   supportd  the supportd.chat.v1 protocol (docs/protocol.md): "hello",
 *             wait for "welcome"; then each "message" is answered by the
 *             first "reply" whose in_reply_to is its id. "ack", "typing" and
 *             other frames are ignored. An "error" frame is counted (the
 *             first 5 are printed on stderr); when it concerns the message
 *             in flight (same in_reply_to, or none) that message is given up
 *             and the next one is sent.
 *   echo      no greeting; a text frame of --msg-bytes is answered by any
 *             complete frame (bench/echo-server sends it back).
 *
 * Measurement contract:
 *   - Nothing is measured until every connection is open and greeted
 *     (warm-up). Connections that fail or close during warm-up are counted
 *     and reported; the run goes on with the rest.
 *   - A round trip runs from the lws_write() of a message to the receipt of
 *     the last fragment of its answer, on CLOCK_MONOTONIC; only round trips
 *     that complete inside the window are counted.
 *   - Latencies go into a log-linear histogram (values below 256 ns exact,
 *     above that buckets 1/128 of their value wide: under 0.8% error), so
 *     memory is fixed whatever the number of samples.
 *   - The run always ends by itself: after the window, when no connection
 *     is left alive, when warm-up exceeds its deadline, or on SIGINT/SIGTERM.
 *   - Exit status 0 when every connection was greeted and stayed open and
 *     (without --idle) at least one round trip completed; 1 otherwise (the
 *     figures are printed either way); 2 for bad usage.
 *
 * With --server-pid the server's VmRSS (from /proc/PID/status) is read
 * before connecting, once the connections are idle and the reading has
 * settled, and at the end.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>
#include <libwebsockets.h>

#define LG_SUBPROTOCOL "supportd.chat.v1"
#define LG_RX_BUFFER 4096		/* lws rx buffer per connection */
#define LG_TX_PACKET (64 * 1024)	/* largest single send() */
#define LG_FRAME_MAX (1024 * 1024)	/* larger answers close the link */
#define LG_TICK_US (10 * 1000)		/* scheduler period */
#define LG_MAX_INFLIGHT_CONNECTS 1024	/* handshakes under way at once */
#define LG_WARMUP_SLACK_S 30.0		/* warm-up deadline beyond the ramp */
#define LG_SETTLE_SAMPLE_NS 500000000LL	/* RSS sampling period */
#define LG_SETTLE_MAX_EXTRA_S 10.0	/* settle gives up this long after --settle */
#define LG_SETTLE_TOLERANCE_KIB 64	/* readings this close count as settled */
#define LG_PRINT_ERRORS 5		/* error frames printed verbatim */
#define LG_CLOSE_CODES 16		/* distinct close codes tracked */
#define LG_ID_MAX 48			/* "<conn>-<n>" fits easily */

#define HIST_SUB_BITS 7
#define HIST_HALF (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((65u - HIST_SUB_BITS) << HIST_SUB_BITS)

/* Set by the signal handler; the only mutable global. */
static volatile sig_atomic_t stop_requested;

enum lg_mode { MODE_SUPPORTD, MODE_ECHO };

/* Life of one connection; CS_DEAD is final. */
enum conn_state {
	CS_NEW,		/* not started yet */
	CS_CONNECTING,	/* lws_client_connect_via_info() called */
	CS_GREETING,	/* open, hello sent or to send, no welcome yet */
	CS_READY,	/* greeted, nothing in flight */
	CS_WAITING,	/* a message is in flight or about to be written */
	CS_DEAD		/* failed to connect, or closed */
};

/* Run phases, in order; a run may jump to PH_DONE from any of them. */
enum lg_phase { PH_RAMP, PH_SETTLE, PH_MEASURE, PH_DONE };

enum tx_kind { TX_NONE, TX_HELLO, TX_MESSAGE };

/* Per-connection state: an array of these is allocated once by main(). */
struct conn {
	struct lws *wsi;
	uint64_t msg_no;	/* number of the message in flight (1-based) */
	int64_t sent_ns;	/* when it was written, 0 while not written */
	char *rx;		/* reassembly buffer, NULL when unused */
	size_t rx_len;
	size_t rx_cap;
	uint32_t index;
	uint16_t close_code;	/* from the peer's close frame, 0 if none */
	uint8_t state;		/* enum conn_state */
	uint8_t tx;		/* enum tx_kind: frame to write when writable */
};

/* Log-linear latency histogram in nanoseconds. */
struct histogram {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t buckets[HIST_BUCKETS];
};

struct close_tally {
	uint16_t code;
	uint32_t count;
};

struct options {
	const char *host;
	const char *path;
	int port;
	int conns;
	double duration_s;
	enum lg_mode mode;
	int msg_bytes;
	double ramp_per_sec;
	long server_pid;	/* 0: none */
	int idle;
	double settle_s;
	double warmup_timeout_s; /* 0: ramp time + LG_WARMUP_SLACK_S */
};

/* Whole-run state, owned by main(); reachable via lws_context_user(). */
struct loadgen {
	struct options opt;
	struct lws_context *context;
	lws_sorted_usec_list_t tick;
	struct conn *conns;
	unsigned char *txbuf;	/* LWS_PRE + tx_cap bytes, shared */
	size_t tx_cap;
	char *text;		/* msg_bytes of ASCII text, NUL-terminated */
	struct histogram *hist;

	enum lg_phase phase;
	int shutting_down;	/* callbacks from context teardown are ignored */
	int started;		/* connections started so far */
	int connecting;		/* in CS_CONNECTING */
	int greeted;		/* reached CS_READY at least once */
	int dead;		/* in CS_DEAD */
	int failed;		/* died before being greeted */
	int closed;		/* died after being greeted */
	int connect_errors;	/* CLIENT_CONNECTION_ERROR or refused */
	struct close_tally closes[LG_CLOSE_CODES];
	int closes_other;	/* close codes beyond LG_CLOSE_CODES */

	int64_t ramp_start_ns;
	int64_t warm_ns;	/* when warm-up completed */
	int64_t warmup_deadline_ns;
	int64_t settle_start_ns;
	int64_t settle_next_ns;
	long settle_prev_kib;
	int64_t measure_start_ns;
	int64_t measure_end_ns;
	int stopped_early;	/* window cut short */
	int warmup_timed_out;

	uint64_t round_trips;
	uint64_t errors;	/* "error" frames */
	uint64_t acks;
	uint64_t stray;		/* replies to other messages, bad frames */
	uint64_t given_up;	/* messages abandoned after an error */

	long rss_base_kib;
	long rss_idle_kib;
	long rss_end_kib;
};

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- histogram ---------------------------------------------------------- */

/* Bucket of v: exact below 2*HIST_HALF, log-linear above. */
static unsigned hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * HIST_HALF)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return shift * HIST_HALF + (unsigned)(v >> shift);
}

/* Midpoint of bucket idx, the value reported for samples in it. */
static uint64_t hist_value(unsigned idx)
{
	unsigned shift;
	uint64_t lower;

	if (idx < 2 * HIST_HALF)
		return idx;
	shift = idx / HIST_HALF - 1;
	lower = (uint64_t)(idx % HIST_HALF + HIST_HALF) << shift;
	return lower + ((((uint64_t)1) << shift) - 1) / 2;
}

static void hist_record(struct histogram *h, uint64_t v)
{
	h->buckets[hist_index(v)]++;
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
}

/* Value at quantile q (0..1); 0 when empty. Never above the true max. */
static uint64_t hist_quantile(const struct histogram *h, double q)
{
	uint64_t rank, seen = 0;
	unsigned i;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;		/* ceil without libm */
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t v = hist_value(i);

			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

/* ---- server memory -------------------------------------------------------- */

/* VmRSS of pid in KiB, or -1 when it cannot be read. */
static long read_rss_kib(long pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* ---- connection bookkeeping ----------------------------------------------- */

static void tally_close(struct loadgen *lg, uint16_t code)
{
	int i;

	for (i = 0; i < LG_CLOSE_CODES; i++) {
		if (lg->closes[i].count && lg->closes[i].code == code) {
			lg->closes[i].count++;
			return;
		}
		if (!lg->closes[i].count) {
			lg->closes[i].code = code;
			lg->closes[i].count = 1;
			return;
		}
	}
	lg->closes_other++;
}

/* Moves c to CS_DEAD once, updating the counters; frees its rx buffer. */
static void conn_dead(struct loadgen *lg, struct conn *c, int connect_error)
{
	if (c->state == CS_DEAD || c->state == CS_NEW)
		return;
	if (c->state == CS_CONNECTING)
		lg->connecting--;
	if (c->state == CS_CONNECTING || c->state == CS_GREETING)
		lg->failed++;
	else
		lg->closed++;
	if (connect_error)
		lg->connect_errors++;
	else
		tally_close(lg, c->close_code);
	c->state = CS_DEAD;
	c->wsi = NULL;
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
	lg->dead++;
}

/* Queues the next message on c if the measurement window is open. */
static void conn_next_message(struct loadgen *lg, struct conn *c)
{
	if (lg->phase != PH_MEASURE) {
		c->state = CS_READY;
		return;
	}
	c->state = CS_WAITING;
	c->msg_no++;
	c->sent_ns = 0;
	c->tx = TX_MESSAGE;
	lws_callback_on_writable(c->wsi);
}

/* The round trip in flight on c got its answer at t. */
static void conn_answered(struct loadgen *lg, struct conn *c, int64_t t)
{
	if (c->sent_ns && lg->phase == PH_MEASURE && t < lg->measure_end_ns) {
		hist_record(lg->hist, (uint64_t)(t - c->sent_ns));
		lg->round_trips++;
	}
	conn_next_message(lg, c);
}

static int id_matches(const char *s, const struct conn *c)
{
	char id[LG_ID_MAX];

	snprintf(id, sizeof(id), "%" PRIu32 "-%" PRIu64, c->index, c->msg_no);
	return s && !strcmp(s, id);
}

/* Whether buf starts with the literal prefix. */
static int starts_with(const char *buf, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && !memcmp(buf, prefix, n);
}

/*
 * The two frames of every round trip, told apart without parsing them:
 * supportd writes "type" first (src/wire.c), and a reply's
 * ,"in_reply_to":"ID" cannot occur inside a JSON string, where every quote
 * follows a backslash. The generator shares the machine with the server,
 * so what it spends is taken from the server. Returns 1 when the frame was
 * handled, 0 when it must be parsed.
 */
static int supportd_round_trip_frame(struct loadgen *lg, struct conn *c,
				     const char *buf, size_t len, int64_t t)
{
	char pat[LG_ID_MAX + 24];
	int n;

	if (starts_with(buf, len, "{\"type\":\"ack\",")) {
		lg->acks++;
		return 1;
	}
	if (!starts_with(buf, len, "{\"type\":\"reply\","))
		return 0;
	n = snprintf(pat, sizeof(pat), ",\"in_reply_to\":\"%" PRIu32 "-%" PRIu64
		     "\"", c->index, c->msg_no);
	if (n > 0 && (size_t)n < sizeof(pat) && c->state == CS_WAITING &&
	    c->sent_ns && memmem(buf, len, pat, (size_t)n))
		conn_answered(lg, c, t);
	else
		lg->stray++;
	return 1;
}

/*
 * Handles one complete supportd frame on c. Returns 0, or -1 to close the
 * connection.
 */
static int supportd_frame(struct loadgen *lg, struct conn *c, const char *buf,
			  size_t len, int64_t t)
{
	json_error_t jerr;
	json_t *root;
	const char *type, *irt;

	if (supportd_round_trip_frame(lg, c, buf, len, t))
		return 0;
	root = json_loadb(buf, len, 0, &jerr);
	if (!root || !json_is_object(root)) {
		lg->stray++;
		json_decref(root);
		return 0;
	}
	type = json_string_value(json_object_get(root, "type"));
	irt = json_string_value(json_object_get(root, "in_reply_to"));
	if (!type) {
		lg->stray++;
	} else if (!strcmp(type, "error")) {
		lg->errors++;
		if (lg->errors <= LG_PRINT_ERRORS)
			fprintf(stderr, "loadgen: conn %" PRIu32
				" error frame: %.*s\n", c->index, (int)len, buf);
		if (c->state == CS_WAITING && c->sent_ns &&
		    (!irt || id_matches(irt, c))) {
			lg->given_up++;
			conn_next_message(lg, c);
		}
	} else if (!strcmp(type, "welcome")) {
		if (c->state == CS_GREETING) {
			c->state = CS_READY;
			lg->greeted++;
		}
	} else if (!strcmp(type, "reply")) {
		if (c->state == CS_WAITING && c->sent_ns &&
		    id_matches(irt, c))
			conn_answered(lg, c, t);
		else
			lg->stray++;
	} else if (!strcmp(type, "ack")) {
		lg->acks++;
	}
	json_decref(root);
	return 0;
}

/* Handles one complete frame on c. Returns 0, or -1 to close. */
static int on_frame(struct loadgen *lg, struct conn *c, const char *buf,
		    size_t len)
{
	int64_t t = now_ns();

	if (lg->opt.mode == MODE_SUPPORTD)
		return supportd_frame(lg, c, buf, len, t);
	if (c->state == CS_WAITING && c->sent_ns)
		conn_answered(lg, c, t);
	else
		lg->stray++;
	return 0;
}

/*
 * Handles one received chunk: passes whole frames to on_frame(), assembling
 * fragmented ones in c->rx (echo mode only needs to see the last piece).
 * Returns 0, or -1 to close.
 */
static int on_receive(struct loadgen *lg, struct lws *wsi, struct conn *c,
		      const char *in, size_t len)
{
	int final = lws_is_final_fragment(wsi);
	int ret;

	if (lg->opt.mode == MODE_ECHO)
		return final ? on_frame(lg, c, in, len) : 0;
	if (final && !c->rx_len)
		return on_frame(lg, c, in, len);
	if (c->rx_len + len > LG_FRAME_MAX)
		return -1;
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap * 2 : LG_RX_BUFFER;
		char *grown;

		while (cap < c->rx_len + len)
			cap *= 2;
		grown = realloc(c->rx, cap);
		if (!grown)
			return -1;
		c->rx = grown;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!final)
		return 0;
	ret = on_frame(lg, c, c->rx, c->rx_len);
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
	return ret;
}

/* Writes the frame c->tx asks for. Returns 0, or -1 to close. */
static int on_writable(struct loadgen *lg, struct lws *wsi, struct conn *c)
{
	unsigned char *p = lg->txbuf + LWS_PRE;
	size_t len = 0;
	int n;

	switch (c->tx) {
	case TX_HELLO:
		len = (size_t)snprintf((char *)p, lg->tx_cap,
				       "{\"type\":\"hello\"}");
		break;
	case TX_MESSAGE:
		if (lg->opt.mode == MODE_ECHO) {
			len = (size_t)lg->opt.msg_bytes;
			memcpy(p, lg->text, len);
		} else {
			n = snprintf((char *)p, lg->tx_cap,
				     "{\"type\":\"message\",\"id\":\"%" PRIu32
				     "-%" PRIu64 "\",\"text\":\"%s\"}",
				     c->index, c->msg_no, lg->text);
			if (n < 0 || (size_t)n >= lg->tx_cap)
				return -1;
			len = (size_t)n;
		}
		break;
	default:
		return 0;
	}
	c->tx = TX_NONE;
	if (c->state == CS_WAITING)
		c->sent_ns = now_ns();
	n = lws_write(wsi, p, len, LWS_WRITE_TEXT);
	if (n < 0 || (size_t)n < len)
		return -1;
	return 0;
}

static int lg_callback(struct lws *wsi, enum lws_callback_reasons reason,
		       void *user, void *in, size_t len)
{
	struct loadgen *lg = lws_context_user(lws_get_context(wsi));
	struct conn *c = user;

	if (!c)
		c = lws_get_opaque_user_data(wsi);
	if (!c || !lg || lg->shutting_down)
		return 0;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (c->state != CS_CONNECTING)
			return -1;
		lg->connecting--;
		c->wsi = wsi;
		if (lg->opt.mode == MODE_SUPPORTD) {
			c->state = CS_GREETING;
			c->tx = TX_HELLO;
			lws_callback_on_writable(wsi);
		} else {
			c->state = CS_READY;
			lg->greeted++;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c->state == CS_DEAD)
			return -1;
		return on_receive(lg, wsi, c, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->state == CS_DEAD)
			return -1;
		return on_writable(lg, wsi, c);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (in && len >= 2)
			c->close_code = (uint16_t)(((const unsigned char *)in)[0]
						   << 8 |
						   ((const unsigned char *)in)[1]);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (lg->connect_errors < LG_PRINT_ERRORS)
			fprintf(stderr, "loadgen: conn %" PRIu32
				" connect error: %.*s\n", c->index,
				in ? (int)len : 4, in ? (const char *)in :
				"none");
		conn_dead(lg, c, 1);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		conn_dead(lg, c, 0);
		return 0;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols lg_protocols[] = {
	{
		.name = LG_SUBPROTOCOL,
		.callback = lg_callback,
		.per_session_data_size = 0,	/* conns[] is passed as userdata */
		.rx_buffer_size = LG_RX_BUFFER,
		.tx_packet_size = LG_TX_PACKET,	/* else capped at rx size */
	},
	{ .name = NULL, .callback = NULL }
};

/* ---- scheduling ------------------------------------------------------------ */

/* Starts connection c. Returns 0, or -1 when lws refused it at once. */
static int conn_start(struct loadgen *lg, struct conn *c)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.context = lg->context;
	ci.address = lg->opt.host;
	ci.port = lg->opt.port;
	ci.path = lg->opt.path;
	ci.host = lg->opt.host;
	ci.origin = lg->opt.host;
	ci.protocol = LG_SUBPROTOCOL;
	ci.userdata = c;
	ci.opaque_user_data = c;
	ci.pwsi = &c->wsi;

	c->state = CS_CONNECTING;
	lg->connecting++;
	lg->started++;
	if (!lws_client_connect_via_info(&ci)) {
		/* the error callback may already have marked it dead */
		conn_dead(lg, c, 1);
		return -1;
	}
	return 0;
}

/* Opens as many connections as the ramp allows by now. */
static void ramp(struct loadgen *lg, int64_t t)
{
	double elapsed = (double)(t - lg->ramp_start_ns) / 1e9;
	double allowed = 1.0 + elapsed * lg->opt.ramp_per_sec;

	while (lg->started < lg->opt.conns && lg->started < allowed &&
	       lg->connecting < LG_MAX_INFLIGHT_CONNECTS)
		conn_start(lg, &lg->conns[lg->started]);
}

static void begin_measure(struct loadgen *lg, int64_t t)
{
	int i;

	lg->phase = PH_MEASURE;
	lg->measure_start_ns = t;
	lg->measure_end_ns = t + (int64_t)(lg->opt.duration_s * 1e9);
	for (i = 0; i < lg->opt.conns; i++)
		if (lg->conns[i].state == CS_READY)
			conn_next_message(lg, &lg->conns[i]);
}

/*
 * One settle step: samples the server's RSS every LG_SETTLE_SAMPLE_NS and
 * declares it settled once --settle seconds have passed and two samples
 * in a row differ by at most LG_SETTLE_TOLERANCE_KIB (or after
 * LG_SETTLE_MAX_EXTRA_S more seconds). Returns 1 when settled.
 */
static int settle_step(struct loadgen *lg, int64_t t)
{
	double elapsed = (double)(t - lg->settle_start_ns) / 1e9;
	long kib;

	if (t < lg->settle_next_ns)
		return 0;
	lg->settle_next_ns = t + LG_SETTLE_SAMPLE_NS;
	if (!lg->opt.server_pid)
		return elapsed >= (lg->opt.idle ? lg->opt.settle_s : 0);
	kib = read_rss_kib(lg->opt.server_pid);
	if (kib < 0) {
		lg->rss_idle_kib = -1;
		return 1;
	}
	if (elapsed >= lg->opt.settle_s &&
	    labs(kib - lg->settle_prev_kib) <= LG_SETTLE_TOLERANCE_KIB) {
		lg->rss_idle_kib = kib;
		return 1;
	}
	if (elapsed >= lg->opt.settle_s + LG_SETTLE_MAX_EXTRA_S) {
		lg->rss_idle_kib = kib;
		return 1;
	}
	lg->settle_prev_kib = kib;
	return 0;
}

/* Periodic driver of the run: ramp, warm-up, settle, window, stop. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct loadgen *lg = lws_container_of(sul, struct loadgen, tick);
	int64_t t = now_ns();
	int alive = lg->opt.conns - lg->dead;

	/*
	 * Always re-armed, even once done: lws computes its poll timeout
	 * after running timers, and without a pending timer the loop would
	 * sleep until lws's own housekeeping (up to 30 s) before main()
	 * sees PH_DONE.
	 */
	lws_sul_schedule(lg->context, 0, &lg->tick, on_tick, LG_TICK_US);

	if (stop_requested) {
		if (lg->phase == PH_MEASURE) {
			lg->stopped_early = 1;
			lg->measure_end_ns = t;
		}
		lg->phase = PH_DONE;
		return;
	}

	switch (lg->phase) {
	case PH_RAMP:
		ramp(lg, t);
		if (lg->greeted + lg->failed == lg->opt.conns) {
			lg->warm_ns = t;
			lg->phase = PH_SETTLE;
			lg->settle_start_ns = t;
			lg->settle_next_ns = t;
			lg->settle_prev_kib = -1;
			if (!alive)
				lg->phase = PH_DONE;
		} else if (t > lg->warmup_deadline_ns) {
			lg->warmup_timed_out = 1;
			lg->phase = PH_DONE;
		}
		break;
	case PH_SETTLE:
		if (!alive) {
			lg->phase = PH_DONE;
		} else if (settle_step(lg, t)) {
			if (lg->opt.idle)
				lg->phase = PH_DONE;
			else
				begin_measure(lg, t);
		}
		break;
	case PH_MEASURE:
		if (t >= lg->measure_end_ns) {
			lg->phase = PH_DONE;
		} else if (!alive) {
			lg->stopped_early = 1;
			lg->measure_end_ns = t;
			lg->phase = PH_DONE;
		}
		break;
	case PH_DONE:
		break;
	}
}

/* ---- report ---------------------------------------------------------------- */

static void print_ms(const char *key, uint64_t ns)
{
	printf("%s=%.3f\n", key, (double)ns / 1e6);
}

static void print_kib(const char *key, long kib)
{
	printf("%s=%ld\n", key, kib);
}

/* Per-connection KiB between two readings, or -1 when unknown. */
static double per_conn_kib(long from, long to, int conns)
{
	if (from < 0 || to < 0 || conns <= 0)
		return -1;
	return (double)(to - from) / conns;
}

static void report(const struct loadgen *lg)
{
	const struct histogram *h = lg->hist;
	int open = lg->opt.conns - lg->dead;
	double window = 0;
	int i;

	if (lg->measure_start_ns && lg->measure_end_ns > lg->measure_start_ns)
		window = (double)(lg->measure_end_ns - lg->measure_start_ns) /
			 1e9;

	printf("mode=%s\n", lg->opt.mode == MODE_ECHO ? "echo" : "supportd");
	printf("conns=%d\n", lg->opt.conns);
	printf("conns_greeted=%d\n", lg->greeted);
	printf("conns_open_at_end=%d\n", open);
	printf("conns_failed=%d\n", lg->failed);
	printf("conns_closed=%d\n", lg->closed);
	printf("connect_errors=%d\n", lg->connect_errors);
	for (i = 0; i < LG_CLOSE_CODES && lg->closes[i].count; i++) {
		if (lg->closes[i].code)
			printf("close_code_%u=%" PRIu32 "\n",
			       lg->closes[i].code, lg->closes[i].count);
		else
			printf("close_code_none=%" PRIu32 "\n",
			       lg->closes[i].count);
	}
	if (lg->closes_other)
		printf("close_code_other=%d\n", lg->closes_other);
	if (lg->warm_ns)
		printf("warmup_s=%.3f\n",
		       (double)(lg->warm_ns - lg->ramp_start_ns) / 1e9);
	printf("warmup_timed_out=%d\n", lg->warmup_timed_out);

	if (!lg->opt.idle) {
		printf("msg_bytes=%d\n", lg->opt.msg_bytes);
		printf("duration_s=%.3f\n", window);
		printf("stopped_early=%d\n", lg->stopped_early);
		printf("round_trips=%" PRIu64 "\n", lg->round_trips);
		printf("msgs_per_s=%.1f\n",
		       window > 0 ? (double)lg->round_trips / window : 0.0);
		print_ms("min_ms", h->min);
		print_ms("mean_ms", h->count ? h->sum / h->count : 0);
		print_ms("p50_ms", hist_quantile(h, 0.50));
		print_ms("p90_ms", hist_quantile(h, 0.90));
		print_ms("p99_ms", hist_quantile(h, 0.99));
		print_ms("p999_ms", hist_quantile(h, 0.999));
		print_ms("max_ms", h->max);
		printf("errors=%" PRIu64 "\n", lg->errors);
		printf("given_up=%" PRIu64 "\n", lg->given_up);
		printf("acks=%" PRIu64 "\n", lg->acks);
		printf("stray_frames=%" PRIu64 "\n", lg->stray);
	} else {
		printf("errors=%" PRIu64 "\n", lg->errors);
	}

	if (lg->opt.server_pid) {
		print_kib("server_rss_base_kib", lg->rss_base_kib);
		print_kib("server_rss_idle_kib", lg->rss_idle_kib);
		printf("server_idle_kib_per_conn=%.2f\n",
		       per_conn_kib(lg->rss_base_kib, lg->rss_idle_kib,
				    lg->greeted));
		print_kib("server_rss_end_kib", lg->rss_end_kib);
		print_kib("server_rss_kib", lg->rss_end_kib);
		printf("server_rss_per_conn_kib=%.2f\n",
		       per_conn_kib(lg->rss_base_kib, lg->rss_end_kib,
				    lg->greeted));
	}
	print_kib("loadgen_rss_kib", read_rss_kib(0));
	fflush(stdout);
}

/* ---- setup ----------------------------------------------------------------- */

/*
 * Raises the soft open-files limit to the hard one (capped at 2^20) and
 * checks that it covers need descriptors. Returns the new limit, or -1.
 */
static long raise_fd_limit(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (1u << 20))
		rl.rlim_max = 1u << 20;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if ((long)rl.rlim_cur < need) {
		fprintf(stderr, "loadgen: open-files limit %ld is below the "
			"%ld needed; raise ulimit -Hn\n", (long)rl.rlim_cur,
			need);
		return -1;
	}
	return (long)rl.rlim_cur;
}

/* Fills lg->text with n bytes of readable ASCII that needs no escaping. */
static int make_text(struct loadgen *lg, int n)
{
	static const char words[] = "the quick brown fox jumps over "
				    "the lazy dog ";
	int i;

	lg->text = malloc((size_t)n + 1);
	if (!lg->text)
		return -1;
	for (i = 0; i < n; i++)
		lg->text[i] = words[i % (int)(sizeof(words) - 1)];
	if (lg->text[n - 1] == ' ')
		lg->text[n - 1] = '.';
	lg->text[n] = '\0';
	return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: loadgen [--host 127.0.0.1] --port N [--path /chat]\n"
	      "               [--conns 100] [--duration 10] "
	      "[--mode supportd|echo]\n"
	      "               [--msg-bytes 100] [--ramp-per-sec 2000] "
	      "[--server-pid PID]\n"
	      "               [--idle] [--settle 2] [--warmup-timeout S]\n",
	      f);
}

/* Parses argv into o. Returns 0, or -1 after printing why. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "path", required_argument, NULL, 'P' },
		{ "conns", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "msg-bytes", required_argument, NULL, 'b' },
		{ "ramp-per-sec", required_argument, NULL, 'r' },
		{ "server-pid", required_argument, NULL, 's' },
		{ "idle", no_argument, NULL, 'i' },
		{ "settle", required_argument, NULL, 'S' },
		{ "warmup-timeout", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long v;
	int opt;

	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->path = "/chat";
	o->port = -1;
	o->conns = 100;
	o->duration_s = 10;
	o->mode = MODE_SUPPORTD;
	o->msg_bytes = 100;
	o->ramp_per_sec = 2000;
	o->settle_s = 2;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			o->host = optarg;
			break;
		case 'p':
			if (parse_long(optarg, 1, 65535, &v))
				goto bad;
			o->port = (int)v;
			break;
		case 'P':
			o->path = optarg;
			break;
		case 'c':
			if (parse_long(optarg, 1, 1000000, &v))
				goto bad;
			o->conns = (int)v;
			break;
		case 'd':
			if (parse_double(optarg, 0.001, 86400, &o->duration_s))
				goto bad;
			break;
		case 'm':
			if (!strcmp(optarg, "supportd"))
				o->mode = MODE_SUPPORTD;
			else if (!strcmp(optarg, "echo"))
				o->mode = MODE_ECHO;
			else
				goto bad;
			break;
		case 'b':
			if (parse_long(optarg, 1, LG_FRAME_MAX / 2, &v))
				goto bad;
			o->msg_bytes = (int)v;
			break;
		case 'r':
			if (parse_double(optarg, 0.001, 1e9, &o->ramp_per_sec))
				goto bad;
			break;
		case 's':
			if (parse_long(optarg, 1, LONG_MAX, &o->server_pid))
				goto bad;
			break;
		case 'i':
			o->idle = 1;
			break;
		case 'S':
			if (parse_double(optarg, 0, 3600, &o->settle_s))
				goto bad;
			break;
		case 'w':
			if (parse_double(optarg, 0.001, 86400,
					 &o->warmup_timeout_s))
				goto bad;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || o->port < 0) {
		usage(stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "loadgen: bad value for option: %s\n", optarg);
	return -1;
}

/*
 * Allocates everything the run needs and creates the lws context.
 * Returns 0 or -1; on -1 what was made is released by loadgen_free().
 */
static int loadgen_init(struct loadgen *lg, long fd_limit)
{
	struct lws_context_creation_info info;
	int i;

	lg->conns = calloc((size_t)lg->opt.conns, sizeof(*lg->conns));
	lg->hist = calloc(1, sizeof(*lg->hist));
	lg->tx_cap = (size_t)lg->opt.msg_bytes + 256;
	lg->txbuf = malloc(LWS_PRE + lg->tx_cap);
	if (!lg->conns || !lg->hist || !lg->txbuf ||
	    make_text(lg, lg->opt.msg_bytes))
		return -1;
	for (i = 0; i < lg->opt.conns; i++)
		lg->conns[i].index = (uint32_t)i;

	/*
	 * fd_limit_per_thread equal to the process limit: lws sizes its fd
	 * table to it and keeps direct fd lookup (a smaller value switches
	 * lws to a linear search per event). No TCP keepalive.
	 */
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = lg_protocols;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	info.fd_limit_per_thread = (unsigned int)fd_limit;
	info.ka_time = 0;
	info.ka_probes = 0;
	info.ka_interval = 0;
	info.user = lg;
	lg->context = lws_create_context(&info);
	if (!lg->context) {
		fprintf(stderr, "loadgen: lws_create_context failed\n");
		return -1;
	}
	return 0;
}

static void loadgen_free(struct loadgen *lg)
{
	int i;

	if (lg->context) {
		lg->shutting_down = 1;
		lws_sul_cancel(&lg->tick);
		lws_context_destroy(lg->context);
	}
	if (lg->conns)
		for (i = 0; i < lg->opt.conns; i++)
			free(lg->conns[i].rx);
	free(lg->conns);
	free(lg->hist);
	free(lg->txbuf);
	free(lg->text);
}

/* True when the run met its contract (see the header comment). */
static int run_ok(const struct loadgen *lg)
{
	if (lg->dead || lg->warmup_timed_out || stop_requested ||
	    lg->greeted != lg->opt.conns)
		return 0;
	return lg->opt.idle || lg->round_trips > 0;
}

int main(int argc, char **argv)
{
	struct loadgen lg;
	struct sigaction sa;
	double warmup_s;
	long fd_limit;
	int ret = 1;

	memset(&lg, 0, sizeof(lg));
	if (parse_args(argc, argv, &lg.opt))
		return 2;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		goto err;
	signal(SIGPIPE, SIG_IGN);
	fd_limit = raise_fd_limit(lg.opt.conns + 64L);
	if (fd_limit < 0)
		goto err;

	lws_set_log_level(LLL_ERR, NULL);
	if (loadgen_init(&lg, fd_limit))
		goto err;

	if (lg.opt.server_pid) {
		lg.rss_base_kib = read_rss_kib(lg.opt.server_pid);
		if (lg.rss_base_kib < 0) {
			fprintf(stderr, "loadgen: cannot read VmRSS of pid "
				"%ld\n", lg.opt.server_pid);
			goto err;
		}
	}
	lg.rss_idle_kib = lg.rss_end_kib = -1;

	warmup_s = lg.opt.warmup_timeout_s;
	if (warmup_s <= 0)
		warmup_s = lg.opt.conns / lg.opt.ramp_per_sec +
			   LG_WARMUP_SLACK_S;
	lg.phase = PH_RAMP;
	lg.ramp_start_ns = now_ns();
	lg.warmup_deadline_ns = lg.ramp_start_ns + (int64_t)(warmup_s * 1e9);
	lws_sul_schedule(lg.context, 0, &lg.tick, on_tick, 1);

	while (lg.phase != PH_DONE)
		if (lws_service(lg.context, 0) < 0) {
			fprintf(stderr, "loadgen: event loop failed\n");
			break;
		}

	if (lg.opt.server_pid)
		lg.rss_end_kib = read_rss_kib(lg.opt.server_pid);
	if (lg.warmup_timed_out)
		fprintf(stderr, "loadgen: warm-up not done after %.1f s: "
			"%d of %d greeted, %d failed\n", warmup_s, lg.greeted,
			lg.opt.conns, lg.failed);
	if (lg.dead)
		fprintf(stderr, "loadgen: %d connections failed before the "
			"greeting, %d closed after it\n", lg.failed,
			lg.closed);
	report(&lg);
	ret = run_ok(&lg) ? 0 : 1;

err:
	loadgen_free(&lg);
	return ret;
}
