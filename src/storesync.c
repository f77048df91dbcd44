/* storesync.c: the store for command-line tools. See storesync.h. */
#include "storesync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

struct storesync {
	store *st;
	logger lg;
	struct metrics m;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int woken;
	struct store_job *done;
};

/* The store thread says jobs are done; the waiting thread dispatches. */
static void wake(void *ud)
{
	storesync *s = ud;
	pthread_mutex_lock(&s->mu);
	s->woken = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void on_done(struct store_job *job, void *ud)
{
	storesync *s = ud;
	s->done = job;
}

storesync *storesync_open(const char *data_dir, char *err, size_t errlen)
{
	storesync *s = xcalloc(1, sizeof(*s));
	char path[CONFIG_PATH_MAX + 32];

	s->lg.level = LOG_WARN;
	metrics_init(&s->m);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	mkdir(data_dir, 0750);
	snprintf(path, sizeof(path), "%s/supportd.db", data_dir);
	struct store_options so = {path, 1, 16};
	s->st = store_open(&so, &s->lg, &s->m, wake, s, err, errlen);
	if (!s->st) {
		storesync_close(s);
		return NULL;
	}
	return s;
}

struct store_job *storesync_run(storesync *s, struct store_job *job)
{
	s->done = NULL;
	store_submit(s->st, job, on_done, s);
	while (!s->done) {
		pthread_mutex_lock(&s->mu);
		while (!s->woken)
			pthread_cond_wait(&s->cv, &s->mu);
		s->woken = 0;
		pthread_mutex_unlock(&s->mu);
		store_dispatch(s->st);
	}
	return s->done;
}

void storesync_close(storesync *s)
{
	if (!s)
		return;
	store_close(s->st);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
