/*
 * dbpool: a few threads, each with its own MariaDB connection, that run the billing pass's
 * database transactions (claims, outcome batches) off the event loop, so the loop keeps the
 * gateway calls moving while MariaDB works, and several batches are written at once.
 *
 * A task embeds struct dbpool_task as its first member. dbpool_submit queues it; a worker
 * runs task->run(db, task) on its own connection; the loop thread then gets done(arg, task)
 * (a pipe wakes the loop). Tasks never touch loop-thread state in run. The pool does not own
 * tasks. dbpool_free runs every task still queued, joins the threads and delivers the last
 * done callbacks before it returns.
 *
 * Thread-safe: submit and free from the loop thread; run on the workers.
 */
#ifndef PV_BATCH_DBPOOL_H
#define PV_BATCH_DBPOOL_H

#include <stddef.h>

struct db;
struct db_config;
struct event_base;
struct dbpool;
struct dbpool_task;

typedef void (*dbpool_run_fn)(struct db *db, struct dbpool_task *task);
typedef void (*dbpool_done_fn)(void *arg, struct dbpool_task *task);

struct dbpool_task {
	dbpool_run_fn run;
	struct dbpool_task *next; /* the pool's */
};

/* NULL on failure. cfg is borrowed and must outlive the pool. */
struct dbpool *dbpool_new(struct event_base *base, const struct db_config *cfg, int nthreads,
                          dbpool_done_fn done, void *arg);
void dbpool_submit(struct dbpool *p, struct dbpool_task *task);
/* Tasks submitted whose done callback has not run yet. */
size_t dbpool_outstanding(const struct dbpool *p);
void dbpool_free(struct dbpool *p); /* accepts NULL */

#endif
