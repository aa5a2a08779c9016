/* dbpool: database worker threads for the billing pass (see dbpool.h). */
#include "batch/dbpool.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <event2/event.h>

#include "common/db.h"
#include "common/log.h"
#include "common/banned.h"

#define DBPOOL_MAX_THREADS 16

struct dbpool {
	struct event_base *base;
	const struct db_config *cfg;
	dbpool_done_fn done;
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dbpool_task *queue, *queue_tail; /* to run */
	struct dbpool_task *finished;           /* ran, done callback pending */
	size_t outstanding;
	bool stop;
	int nthreads;
	pthread_t threads[DBPOOL_MAX_THREADS];
	int pipe_fd[2];
	struct event *wake;
};

static void *worker(void *arg)
{
	struct dbpool *p = arg;
	struct db *db = db_new(p->cfg);

	log_set_request_id("billing-db");
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct dbpool_task *t;

		while (!p->queue && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->queue)
			break; /* stopping and nothing left to run */
		t = p->queue;
		p->queue = t->next;
		if (!p->queue)
			p->queue_tail = NULL;
		pthread_mutex_unlock(&p->mu);
		t->run(db, t); /* a NULL db (out of memory) is reported by run as an error */
		pthread_mutex_lock(&p->mu);
		t->next = p->finished;
		p->finished = t;
		pthread_mutex_unlock(&p->mu);
		if (write(p->pipe_fd[1], "x", 1) < 0) {
			/* the pipe is full: the loop is already woken */
		}
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	db_free(db);
	return NULL;
}

/* Delivers the done callbacks of finished tasks, oldest first. */
static void deliver(struct dbpool *p)
{
	struct dbpool_task *list, *rev = NULL;

	pthread_mutex_lock(&p->mu);
	list = p->finished;
	p->finished = NULL;
	pthread_mutex_unlock(&p->mu);
	while (list) {
		struct dbpool_task *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct dbpool_task *next = rev->next;
		p->outstanding--;
		p->done(p->arg, rev);
		rev = next;
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct dbpool *p = arg;
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0) {
	}
	deliver(p);
}

struct dbpool *dbpool_new(struct event_base *base, const struct db_config *cfg, int nthreads,
                          dbpool_done_fn done, void *arg)
{
	struct dbpool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > DBPOOL_MAX_THREADS)
		nthreads = DBPOOL_MAX_THREADS;
	p->base = base;
	p->cfg = cfg;
	p->done = done;
	p->arg = arg;
	p->pipe_fd[0] = p->pipe_fd[1] = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pipe2(p->pipe_fd, O_NONBLOCK | O_CLOEXEC))
		goto fail;
	p->wake = event_new(base, p->pipe_fd[0], EV_READ | EV_PERSIST, on_wake, p);
	if (!p->wake || event_add(p->wake, NULL))
		goto fail;
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p))
			goto fail;
		p->nthreads++;
	}
	return p;
fail:
	dbpool_free(p);
	return NULL;
}

void dbpool_submit(struct dbpool *p, struct dbpool_task *t)
{
	t->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->queue_tail)
		p->queue_tail->next = t;
	else
		p->queue = t;
	p->queue_tail = t;
	p->outstanding++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

size_t dbpool_outstanding(const struct dbpool *p)
{
	return p->outstanding;
}

void dbpool_free(struct dbpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	deliver(p); /* workers ran every queued task before they stopped */
	if (p->wake)
		event_free(p->wake);
	if (p->pipe_fd[0] >= 0)
		close(p->pipe_fd[0]);
	if (p->pipe_fd[1] >= 0)
		close(p->pipe_fd[1]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
