/* daemon.c: start-up and shutdown order. See daemon.h.
 *
 * Start: config → log → signals (blocked, read through a signalfd) →
 * pipeline (refuse to start on a broken script) → chat → lws context
 * (listening) → store (migrations, then its thread) → event loop.
 * Stop (SIGTERM/SIGINT): refuse new connections, stop reading, wait for
 * the store to commit and dispatch what was accepted, close every client
 * with 1001, leave the loop, close the store (committing anything still
 * queued), destroy the context. A second signal stops at once; the store
 * still commits what it has queued. */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "chat.h"
#include "desk.h"
#include "reload.h"
#include "clock.h"
#include "server.h"

#define DRAIN_TICK_US (10 * LWS_US_PER_MS)

/* mkdir -p */
static int make_dirs(const char *path)
{
	char buf[CONFIG_PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return (mkdir(buf, 0750) && errno != EEXIST) ? -1 : 0;
}

/* Lets the daemon hold as many sockets as the hard limit allows. */
static void raise_fd_limit(const logger *lg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			log_warn(lg, "fd_limit", "reason=%s", strerror(errno));
	}
}

static void drain_tick(lws_sorted_usec_list_t *sul)
{
	struct daemon *d = lws_container_of(sul, struct daemon, drain_sul);
	int64_t now = clock_mono_ms();
	int late = now >= d->drain_deadline_ms;

	if ((store_pending(d->store) > 0 || backend_in_flight(d->backend) > 0) && !late) {
		lws_sul_schedule(d->lws, 0, &d->drain_sul, drain_tick, DRAIN_TICK_US);
		return;
	}
	chat_close_all(d->chat, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	agents_close_all(d->agents, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	if ((chat_connections(d->chat) > 0 || agents_connections(d->agents) > 0) && !late) {
		lws_sul_schedule(d->lws, 0, &d->drain_sul, drain_tick, DRAIN_TICK_US);
		return;
	}
	if (late)
		log_warn(&d->log, "drain_timeout", "connections=%ld store_pending=%ld",
			 chat_connections(d->chat), store_pending(d->store));
	d->stop = 1;
	lws_cancel_service(d->lws);
}

void daemon_begin_drain(struct daemon *d)
{
	if (d->draining)
		return;
	d->draining = 1;
	d->drain_deadline_ms = clock_mono_ms() + d->cfg.chat.shutdown_grace_ms;
	log_info(&d->log, "draining", "connections=%ld store_pending=%ld",
		 chat_connections(d->chat), store_pending(d->store));
	chat_pause_all(d->chat);
	chat_stop(d->chat);
	lws_sul_schedule(d->lws, 0, &d->drain_sul, drain_tick, 1);
}

int daemon_signal_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			   void *in, size_t len)
{
	struct daemon *d = lws_context_user(lws_get_context(wsi));
	struct signalfd_siginfo si;
	(void)user;
	(void)in;
	(void)len;

	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	while (read(d->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info(&d->log, "sighup", "action=reload");
			if (d->reload)
				reload_request(d->reload, "SIGHUP");
			continue;
		}
		log_info(&d->log, "signal", "signo=%u", si.ssi_signo);
		if (d->draining) {
			d->stop = 1; /* a second signal: stop now */
			lws_cancel_service(d->lws);
		} else {
			daemon_begin_drain(d);
		}
	}
	return 0;
}

int daemon_run(const struct config *cfg)
{
	struct daemon *d = calloc(1, sizeof(*d));
	char err[1024], q[1100], dbpath[CONFIG_PATH_MAX + 32];
	enum log_level lvl = LOG_INFO;
	sigset_t mask;
	int status = 1;

	if (!d)
		abort();
	d->cfg = *cfg;
	d->signal_fd = -1;
	if (log_parse_level(cfg->log_level, &lvl))
		log_warn(NULL, "config", "reason=\"unknown log level %s, using info\"", cfg->log_level);
	d->log.level = lvl;
	metrics_init(&d->metrics);
	d->started_ms = clock_mono_ms();
	raise_fd_limit(&d->log);

	/* signals arrive through a descriptor the event loop watches; block
	 * them before any thread exists so that every thread inherits it */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) ||
	    (d->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_error(&d->log, "startup_failed", "reason=\"signalfd: %s\"", strerror(errno));
		goto out;
	}

	struct diag dg;
	diag_init(&dg);
	d->lemmas = lemmatizer_open(); /* once: reloads share it */
	d->pipeline = pipeline_open(&d->cfg, &d->log, &d->metrics, d->lemmas, &dg);
	for (size_t i = 0; i < dg.n; i++)
		log_error(&d->log, "content_error", "problem=%s", log_quote(dg.v[i], q, sizeof(q)));
	diag_clear(&dg);
	if (!d->pipeline) {
		log_error(&d->log, "startup_failed", "reason=\"invalid content in %s\"",
			  cfg->content_dir);
		goto out;
	}
	struct brain_stats bst;
	brain_get_stats(pipeline_brain(d->pipeline), &bst);
	log_info(&d->log, "content_loaded",
		 "dir=%s languages=%zu faq_entries=%zu intents=%zu patterns=%zu examples=%zu "
		 "model_classes=%zu build_ms=%.0f",
		 cfg->content_dir, bst.languages, bst.faq_entries, bst.intents, bst.patterns,
		 bst.examples, bst.model_classes, bst.build_ms);
	d->chat = chat_new(d);
	d->agents = agents_new(d);
	d->desk = desk_new(d);
	if (server_start(d, err, sizeof(err))) {
		log_error(&d->log, "startup_failed", "reason=%s", log_quote(err, q, sizeof(q)));
		goto out;
	}
	d->backend = backend_new(d->lws, &d->cfg, &d->log, &d->metrics, err, sizeof(err));
	if (!d->backend) {
		log_error(&d->log, "startup_failed", "reason=%s", log_quote(err, q, sizeof(q)));
		goto out;
	}
	if (make_dirs(cfg->data_dir)) {
		log_error(&d->log, "startup_failed", "reason=\"cannot create %s: %s\"", cfg->data_dir,
			  strerror(errno));
		goto out;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/supportd.db", cfg->data_dir);
	struct store_options so = {dbpath, cfg->store.synchronous_full, cfg->store.batch_max};
	d->store = store_open(&so, &d->log, &d->metrics, server_wake, d, err, sizeof(err));
	if (!d->store) {
		log_error(&d->log, "startup_failed", "reason=%s", log_quote(err, q, sizeof(q)));
		goto out;
	}

	chat_start(d->chat);
	desk_start(d->desk);
	d->reload = reload_new(d);
	if (reload_fd(d->reload) >= 0) {
		lws_sock_file_fd_type rfd;
		rfd.filefd = reload_fd(d->reload);
		if (!lws_adopt_descriptor_vhost(d->vhost, LWS_ADOPT_RAW_FILE_DESC, rfd, RELOAD_PROTOCOL,
						NULL))
			log_warn(&d->log, "no_inotify", "reason=\"cannot watch the descriptor\"");
	}
	log_info(&d->log, "listening", "addr=%s port=%d version=%s store=%s", cfg->listen,
		 server_port(d), SUPPORTD_VERSION, log_quote(dbpath, q, sizeof(q)));
	while (!d->stop)
		if (lws_service(d->lws, 0) < 0)
			break;
	status = 0;
	log_info(&d->log, "stopping", "connections=%ld", chat_connections(d->chat));
out:
	if (d->lws) {
		lws_sul_cancel(&d->drain_sul);
		if (d->chat)
			chat_stop(d->chat);
	}
	/* the store first: it commits whatever is queued, and its thread wakes
	 * the loop through the context, which must still exist */
	store_close(d->store);
	d->store = NULL;
	backend_free(d->backend); /* requests in flight end unanswered */
	d->backend = NULL;
	desk_free(d->desk);      /* before the context: it cancels its timer there */
	d->desk = NULL;
	reload_free(d->reload);  /* waits for a build in flight; cancels its timer */
	d->reload = NULL;
	server_stop(d);          /* closes every connection */
	agents_free(d->agents);
	chat_free(d->chat);
	pipeline_close(d->pipeline);
	lemmatizer_close(d->lemmas); /* after every pipeline */
	if (d->signal_fd >= 0 && !d->signal_fd_adopted)
		close(d->signal_fd);
	if (status == 0)
		log_info(&d->log, "stopped", NULL);
	free(d);
	return status;
}
