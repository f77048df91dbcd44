/*
 * echo_server.c - the benchmark ceiling: a minimal libwebsockets echo server.
 *
 * It does the least a websocket server on libwebsockets can do per message
 * (receive a frame, queue it, write it back when the socket is writable), so
 * that bench/loadgen can measure the same workload against it and against
 * supportd and report how far supportd is from what the library allows.
 *
 * Usage: echo-server [--port N] [--listen ADDR]
 *   --port N       TCP port; 0 (the default) lets the kernel pick a free one.
 *   --listen ADDR  address to bind; default 127.0.0.1 (loopback only).
 *
 * Contract:
 *   - Once listening it prints exactly one line "listening port=NNNN" on
 *     stdout and flushes it; nothing else is printed on stdout.
 *   - It accepts websocket upgrades with subprotocol "supportd.chat.v1" or
 *     with no subprotocol; any other subprotocol is refused by the handshake.
 *   - Every complete message (text or binary, reassembled from its
 *     fragments) is sent back once, unchanged, with the same opcode, in the
 *     order received. Writes happen only in the writable callback.
 *   - Per connection it keeps a small fixed state plus the messages not yet
 *     written back. When a connection has ECHO_QUEUE_MAX messages or
 *     ECHO_QUEUE_MAX_BYTES bytes queued, reading from it is paused until the
 *     queue drains, so memory stays bounded whatever the peer does.
 *   - SIGTERM or SIGINT make it close everything and exit 0; it exits 1 when
 *     it cannot start.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <libwebsockets.h>

#define ECHO_SUBPROTOCOL "supportd.chat.v1"
#define ECHO_RX_BUFFER 1024		/* lws rx buffer per connection */
#define ECHO_TX_PACKET (64 * 1024)	/* largest single send() */
#define ECHO_QUEUE_MAX 64		/* messages queued before rx pauses */
#define ECHO_QUEUE_MAX_BYTES (1024 * 1024)	/* bytes queued before rx pauses */
#define ECHO_MESSAGE_MAX (16 * 1024 * 1024)	/* larger messages close the link */
#define ECHO_TICK_US (100 * 1000)	/* how often the loop checks the stop flag */

/* Set by the signal handler; the only mutable global. */
static volatile sig_atomic_t stop_requested;

/*
 * One message waiting to be echoed. The payload starts LWS_PRE bytes into
 * buf so that lws_write() can put the frame header in front of it.
 */
struct echo_msg {
	struct echo_msg *next;
	size_t len;		/* payload bytes */
	size_t cap;		/* payload capacity */
	int binary;		/* 1: send as binary, 0: as text */
	unsigned char buf[];	/* LWS_PRE + cap bytes */
};

/*
 * Per-connection state, allocated and zeroed by lws (per_session_data_size).
 * partial is the message being reassembled from fragments (NULL between
 * messages); head..tail is the queue of complete messages to write back.
 */
struct echo_conn {
	struct echo_msg *partial;
	struct echo_msg *head;
	struct echo_msg *tail;
	size_t queued_msgs;
	size_t queued_bytes;
	int rx_paused;
};

/* Process-wide state, owned by main() and reachable through the context. */
struct echo_server {
	struct lws_context *context;
	lws_sorted_usec_list_t tick;
};

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * Appends len bytes at data to the connection's partial message, creating
 * or growing it. Returns 0, or -1 when out of memory or over the limit.
 */
static int partial_append(struct echo_conn *c, const void *data, size_t len,
			  int binary)
{
	struct echo_msg *m = c->partial;
	size_t need = (m ? m->len : 0) + len;

	if (need > ECHO_MESSAGE_MAX)
		return -1;
	if (!m || need > m->cap) {
		size_t cap = m ? m->cap * 2 : len;
		struct echo_msg *grown;

		if (cap < need)
			cap = need;
		if (cap == 0)
			cap = 1;
		grown = realloc(m, sizeof(*m) + LWS_PRE + cap);
		if (!grown)
			return -1;
		if (!m) {
			grown->next = NULL;
			grown->len = 0;
			grown->binary = binary;
		}
		grown->cap = cap;
		m = grown;
		c->partial = m;
	}
	if (len)
		memcpy(m->buf + LWS_PRE + m->len, data, len);
	m->len += len;
	return 0;
}

/* Moves the finished partial message to the tail of the queue. */
static void partial_commit(struct echo_conn *c)
{
	struct echo_msg *m = c->partial;

	c->partial = NULL;
	if (c->tail)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	c->queued_msgs++;
	c->queued_bytes += m->len;
}

/* Frees everything the connection holds; leaves it empty. */
static void conn_release(struct echo_conn *c)
{
	struct echo_msg *m = c->head;

	while (m) {
		struct echo_msg *next = m->next;

		free(m);
		m = next;
	}
	free(c->partial);
	memset(c, 0, sizeof(*c));
}

/* True when the queue is at its limit and rx should stay paused. */
static int queue_full(const struct echo_conn *c)
{
	return c->queued_msgs >= ECHO_QUEUE_MAX ||
	       c->queued_bytes >= ECHO_QUEUE_MAX_BYTES;
}

/*
 * Handles one received chunk. Returns 0 to keep the connection, -1 to
 * close it.
 */
static int on_receive(struct lws *wsi, struct echo_conn *c, const void *in,
		      size_t len)
{
	if (partial_append(c, in, len, lws_frame_is_binary(wsi)))
		return -1;
	if (!lws_is_final_fragment(wsi))
		return 0;
	partial_commit(c);
	lws_callback_on_writable(wsi);
	if (!c->rx_paused && queue_full(c)) {
		c->rx_paused = 1;
		lws_rx_flow_control(wsi, 0);
	}
	return 0;
}

/*
 * Writes the head of the queue. Returns 0 to keep the connection, -1 to
 * close it.
 */
static int on_writable(struct lws *wsi, struct echo_conn *c)
{
	struct echo_msg *m = c->head;
	int n;

	if (!m)
		return 0;
	n = lws_write(wsi, m->buf + LWS_PRE, m->len,
		      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	if (n < 0 || (size_t)n < m->len)
		return -1;
	c->head = m->next;
	if (!c->head)
		c->tail = NULL;
	c->queued_msgs--;
	c->queued_bytes -= m->len;
	free(m);
	if (c->head)
		lws_callback_on_writable(wsi);
	if (c->rx_paused && !queue_full(c)) {
		c->rx_paused = 0;
		lws_rx_flow_control(wsi, 1);
	}
	return 0;
}

static int echo_callback(struct lws *wsi, enum lws_callback_reasons reason,
			 void *user, void *in, size_t len)
{
	struct echo_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof(*c));
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return on_receive(wsi, c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writable(wsi, c);
	case LWS_CALLBACK_CLOSED:
		conn_release(c);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/*
 * protocols[0] is also what lws binds when the client asks for no
 * subprotocol, so one entry covers both accepted cases.
 */
static const struct lws_protocols echo_protocols[] = {
	{
		.name = ECHO_SUBPROTOCOL,
		.callback = echo_callback,
		.per_session_data_size = sizeof(struct echo_conn),
		.rx_buffer_size = ECHO_RX_BUFFER,
		/*
		 * Without tx_packet_size lws caps each send() at
		 * rx_buffer_size and drains the rest one chunk per writable
		 * event; this costs no memory per connection.
		 */
		.tx_packet_size = ECHO_TX_PACKET,
	},
	{ .name = NULL, .callback = NULL }
};

/* Periodic timer: wakes the event loop so it notices stop_requested. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct echo_server *srv = lws_container_of(sul, struct echo_server,
						   tick);

	lws_sul_schedule(srv->context, 0, &srv->tick, on_tick, ECHO_TICK_US);
}

/* Raises the soft open-files limit to the hard one. Returns 0 or -1. */
static int raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (1u << 20))
		rl.rlim_max = 1u << 20;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Parses a port number 0..65535 from s. Returns 0 or -1. */
static int parse_port(const char *s, int *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: echo-server [--port N] [--listen ADDR]\n", f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lws_context_creation_info info;
	struct echo_server srv;
	struct lws_vhost *vhost;
	struct sigaction sa;
	const char *listen_addr = "127.0.0.1";
	int port = 0, opt, ret = 1;

	memset(&srv, 0, sizeof(srv));
	while ((opt = getopt_long(argc, argv, "p:l:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (parse_port(optarg, &port)) {
				fprintf(stderr, "echo-server: bad --port %s\n",
					optarg);
				return 2;
			}
			break;
		case 'l':
			listen_addr = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		goto err;
	signal(SIGPIPE, SIG_IGN);
	if (raise_fd_limit())
		fprintf(stderr, "echo-server: cannot raise RLIMIT_NOFILE: %s\n",
			strerror(errno));

	lws_set_log_level(LLL_ERR, NULL);

	/*
	 * fd_limit_per_thread stays 0: lws then sizes its fd table to the
	 * (raised) process limit and uses direct lookup. A smaller nonzero
	 * value would make lws fall back to a linear search per event.
	 */
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       LWS_SERVER_OPTION_DISABLE_IPV6;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.user = &srv;
	srv.context = lws_create_context(&info);
	if (!srv.context) {
		fprintf(stderr, "echo-server: lws_create_context failed\n");
		goto err;
	}

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	info.port = port;
	info.iface = listen_addr;
	info.protocols = echo_protocols;
	info.vhost_name = "default";
	vhost = lws_create_vhost(srv.context, &info);
	if (!vhost) {
		fprintf(stderr, "echo-server: cannot listen on %s:%d\n",
			listen_addr, port);
		goto err;
	}
	port = lws_get_vhost_listen_port(vhost);
	if (port <= 0) {
		fprintf(stderr, "echo-server: no listen port\n");
		goto err;
	}
	if (printf("listening port=%d\n", port) < 0 || fflush(stdout))
		goto err;

	lws_sul_schedule(srv.context, 0, &srv.tick, on_tick, ECHO_TICK_US);
	while (!stop_requested)
		if (lws_service(srv.context, 0) < 0)
			break;
	ret = stop_requested ? 0 : 1;
	if (ret)
		fprintf(stderr, "echo-server: event loop failed\n");

err:
	if (srv.context) {
		lws_sul_cancel(&srv.tick);
		lws_context_destroy(srv.context);
	}
	return ret;
}
