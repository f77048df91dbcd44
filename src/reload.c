/* reload.c: hot reload of the content. See reload.h. */
#include "reload.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "diag.h"
#include "pipeline.h"
#include "xalloc.h"

#define QUIET_MS 250   /* changes this close together make one reload */
#define BUILD_NICE 10  /* the build thread's nice value */

struct reload {
	struct daemon *d;          /* borrowed */
	int fd;                    /* inotify, or -1 */
	lws_sorted_usec_list_t sul;/* the quiet time */
	pthread_t worker;
	pthread_t closer;          /* frees a retired pipeline, off the loop */
	int closing;               /* closer was started and not joined */
	int building;              /* a worker runs (loop thread's view) */
	int again;                 /* a change came in during the build */
	atomic_int done;           /* the worker finished: result is set */
	pipeline *result;          /* the worker's pipeline, or NULL */
	struct diag problems;      /* the worker's problems */
	double build_ms;
	const char *why;           /* static: what asked for the next build */
	const char *build_why;     /* static: what asked for the build in flight */
	struct reload_status status;
};

/* ===== watches ===== */

/* Watches dir and the directories under it, depth first, up to depth. */
static void watch_tree(int fd, const char *dir, int depth)
{
	DIR *dp;
	struct dirent *e;

	if (inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
					       IN_MOVED_TO | IN_DELETE_SELF) < 0 ||
	    depth == 0 || !(dp = opendir(dir)))
		return;
	while ((e = readdir(dp))) {
		char sub[CONFIG_PATH_MAX + 512];
		struct stat st;
		/* d_type spares a stat per file: faq/ may hold thousands */
		if (e->d_name[0] == '.' || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR || (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)))
			watch_tree(fd, sub, depth - 1);
	}
	closedir(dp);
}

/* Watches every directory under faq/, rules/ and lua/ (new ones are added
 * at each reload). */
static void watch_all(struct reload *r)
{
	static const char *const dirs[] = {"faq", "rules", "lua", NULL};
	char path[CONFIG_PATH_MAX + 16];

	if (r->fd < 0)
		return;
	for (const char *const *d = dirs; *d; d++) {
		snprintf(path, sizeof(path), "%s/%s", r->d->cfg.content_dir, *d);
		watch_tree(r->fd, path, 8);
	}
}

/* ===== the build ===== */

static void *build(void *arg)
{
	struct reload *r = arg;
	struct timespec t0, t1;

	/* below the event loop: on a small machine the loop gets the CPU first
	 * (Linux nice values are per thread; the model's trainers inherit it) */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), BUILD_NICE))
		log_debug(&r->d->log, "content_reload", "nice=\"%s\"", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->result = pipeline_open(&r->d->cfg, &r->d->log, &r->d->metrics, r->d->lemmas,
				  &r->problems);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->build_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	atomic_store(&r->done, 1);
	lws_cancel_service(r->d->lws); /* the loop runs reload_poll */
	return NULL;
}

static void start(struct reload *r)
{
	if (r->building) {
		r->again = 1;
		return;
	}
	diag_init(&r->problems);
	r->result = NULL;
	atomic_store(&r->done, 0);
	if (pthread_create(&r->worker, NULL, build, r)) {
		log_error(&r->d->log, "content_reload_failed", "reason=\"cannot start a thread\"");
		return;
	}
	r->building = 1;
	r->build_why = r->why ? r->why : "change";
	log_info(&r->d->log, "content_reload", "why=%s dir=%s", r->build_why,
		 r->d->cfg.content_dir);
}

static void on_quiet(lws_sorted_usec_list_t *sul)
{
	struct reload *r = lws_container_of(sul, struct reload, sul);
	if (!r->d->draining)
		start(r);
}

void reload_request(struct reload *r, const char *why)
{
	log_debug(&r->d->log, "content_changed", "why=%s", why);
	r->why = why;
	lws_sul_schedule(r->d->lws, 0, &r->sul, on_quiet, QUIET_MS * LWS_US_PER_MS);
}

/* ===== retiring the old content ===== */

static void *close_old(void *arg)
{
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), BUILD_NICE); /* as the build */
	pipeline_close(arg);
	return NULL;
}

/* Drops the loop's reference to old. A flow run may still hold it (it is
 * freed when the last run ends); if not, it is freed on a thread, since
 * freeing a large brain takes milliseconds the loop should not wait. */
static void retire(struct reload *r, pipeline *old)
{
	if (r->closing) {
		pthread_join(r->closer, NULL); /* long done: one reload back */
		r->closing = 0;
	}
	if (pipeline_shared(old) || pthread_create(&r->closer, NULL, close_old, old)) {
		pipeline_close(old);
		return;
	}
	r->closing = 1;
}

void reload_poll(struct reload *r)
{
	char q[RELOAD_ERROR_MAX + 64];
	int64_t close_us = 0;

	if (!r || !r->building || !atomic_load(&r->done))
		return;
	pthread_join(r->worker, NULL);
	r->building = 0;
	r->status.last_build_ms = r->build_ms;
	if (r->result) {
		pipeline *old = r->d->pipeline;
		int64_t t0 = clock_mono_us();
		r->d->pipeline = r->result; /* between two messages: the loop is here */
		r->result = NULL;
		retire(r, old);
		close_us = clock_mono_us() - t0;
		r->status.ok = 1;
		r->status.reloads++;
		r->status.last_error[0] = '\0';
		struct brain_stats bst;
		brain_get_stats(pipeline_brain(r->d->pipeline), &bst);
		log_info(&r->d->log, "content_reloaded",
			 "why=%s dir=%s faq_entries=%zu intents=%zu build_ms=%.0f close_ms=%.1f",
			 r->build_why, r->d->cfg.content_dir,
			 bst.faq_entries, bst.intents, r->build_ms, (double)close_us / 1000.0);
	} else {
		r->status.ok = 0;
		r->status.failures++;
		snprintf(r->status.last_error, sizeof(r->status.last_error), "%s",
			 r->problems.n ? r->problems.v[0] : "the content could not be loaded");
		for (size_t i = 0; i < r->problems.n; i++)
			log_error(&r->d->log, "content_reload_failed", "problem=%s",
				  log_quote(r->problems.v[i], q, sizeof(q)));
		log_error(&r->d->log, "content_reload_failed",
			  "why=%s problems=%zu action=\"the content loaded before keeps serving\"",
			  r->build_why, r->problems.n);
	}
	diag_clear(&r->problems);
	watch_all(r);
	if (r->again) {
		r->again = 0;
		start(r);
	}
}

/* ===== setup ===== */

struct reload *reload_new(struct daemon *d)
{
	struct reload *r = xcalloc(1, sizeof(*r));

	r->d = d;
	r->status.ok = 1;
	atomic_init(&r->done, 0);
	r->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->fd < 0)
		log_warn(&d->log, "no_inotify", "reason=\"%s\" action=\"reload with SIGHUP\"",
			 strerror(errno));
	watch_all(r);
	return r;
}

int reload_fd(const struct reload *r)
{
	return r ? r->fd : -1;
}

const struct reload_status *reload_get_status(const struct reload *r)
{
	return &r->status;
}

void reload_free(struct reload *r)
{
	if (!r)
		return;
	if (r->d->lws)
		lws_sul_cancel(&r->sul);
	if (r->building) {
		pthread_join(r->worker, NULL);
		pipeline_close(r->result);
		diag_clear(&r->problems);
	}
	if (r->closing)
		pthread_join(r->closer, NULL);
	/* the fd is adopted by lws, which closes it with the context */
	free(r);
}

/* An editor's scratch file (.x.swp, x~, .#x, a temp file before its
 * rename): not content, and no reason to reload. */
static int editor_scratch(const char *name)
{
	size_t n = strlen(name);
	return name[0] == '.' || (n && name[n - 1] == '~') || (n > 4 && !strcmp(name + n - 4, ".swp"));
}

int reload_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct daemon *d = lws_context_user(lws_get_context(wsi));
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	int changed = 0;
	(void)user;
	(void)in;
	(void)len;

	if (reason != LWS_CALLBACK_RAW_RX_FILE || !d->reload)
		return 0;
	while ((n = read(d->reload->fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (!ev->len || !editor_scratch(ev->name))
				changed = 1;
			p += sizeof(*ev) + ev->len;
		}
	if (changed)
		reload_request(d->reload, "inotify");
	return 0;
}
