/* storesync.h: the store for command-line tools, one job at a time.
 *
 * `supportd agent` and `supportd report` open the same store the daemon
 * uses (also while it runs: SQLite in WAL mode allows it) and run a job,
 * waiting for its result. Not for the daemon, whose loop never waits. */
#ifndef SUPPORTD_STORESYNC_H
#define SUPPORTD_STORESYNC_H

#include <stddef.h>

#include "store.h"

typedef struct storesync storesync;

/* Opens data_dir/supportd.db (creating data_dir and the schema if needed).
 * NULL with the reason in err. */
storesync *storesync_open(const char *data_dir, char *err, size_t errlen);

/* Runs job and returns it when done (the caller frees it). */
struct store_job *storesync_run(storesync *s, struct store_job *job);

void storesync_close(storesync *s);

#endif
