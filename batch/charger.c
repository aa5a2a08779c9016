/* charger: one streaming billing pass on the event loop (see charger.h). */
#include "batch/charger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "batch/config.h"
#include "batch/dbpool.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/err.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "core/billing.h"
#include "core/sched.h"
#include "core/store_billing.h"
#include "external/kakaopay.h"
#include "common/banned.h"

struct job {
	struct charger *c;
	struct billing_attempt att;
	struct billing_answer ans;
	int64_t t_start_mono;
	struct job *next_free;
};

struct claim_task {
	struct dbpool_task t;
	struct billing_claim cl;
	struct billing_attempt *buf;
	size_t want, n;
	int rc;
	int64_t ms;
	char err[256];
};

struct apply_task {
	struct dbpool_task t;
	const struct retry_policy *pol;
	struct job **jobs;
	struct billing_outcome *outcomes;
	size_t n;
	int rc;
	int64_t ms;
	struct billing_apply_stats st;
	char err[256];
	struct apply_task *next_free;
};

struct charger {
	struct event_base *base;
	struct db *db;
	struct redis *redis;
	const struct billing_config *cfg;
	charger_done_fn done;
	void *done_arg;

	struct kakaopay_multi *multi;
	struct event *curl_timer;
	struct event *pump;
	struct event *retry_timer;

	struct job *jobs;
	size_t njobs;
	struct job *free_list;
	size_t nfree;
	struct job **finished;
	size_t nfinished;
	size_t flush_at;
	struct billing_attempt *claim_buf;
	struct billing_outcome *outcomes; /* flush_sync's */

	struct dbpool *pool;
	struct claim_task claim;
	bool claim_outstanding;
	size_t claim_min; /* claim when at least this many jobs are free (or none in flight) */
	struct apply_task *tasks;
	size_t ntasks;
	struct apply_task *free_tasks;
	size_t applies_outstanding;

	size_t in_flight;
	bool running;
	bool claiming;
	bool nothing_due;
	bool db_backoff;
	bool freeing;
	bool sales_pending; /* approved charges whose sales are not folded yet */
	int64_t blocked_until_mono; /* after a CONFIG answer no charge is sent before this */
	int64_t pass_start_mono;
	struct charger_stats st;
};

/* ---- curl multi on libevent (the hiperfifo pattern) ----------------------------------------- */

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct charger *c = arg;
	int ev = 0;

	if (what & EV_READ)
		ev |= KAKAOPAY_WANT_IN;
	if (what & EV_WRITE)
		ev |= KAKAOPAY_WANT_OUT;
	kakaopay_multi_socket_action(c->multi, (int)fd, ev);
}

static void hook_socket(void *arg, int fd, int want, void *sockp)
{
	struct charger *c = arg;
	struct event *ev = sockp;
	short kind = EV_PERSIST;

	if (ev) {
		event_free(ev);
		ev = NULL;
	}
	if (want & KAKAOPAY_WANT_REMOVE) {
		kakaopay_multi_assign(c->multi, fd, NULL);
		return;
	}
	if (want & KAKAOPAY_WANT_IN)
		kind |= EV_READ;
	if (want & KAKAOPAY_WANT_OUT)
		kind |= EV_WRITE;
	ev = event_new(c->base, fd, kind, on_socket_event, c);
	if (ev)
		event_add(ev, NULL);
	kakaopay_multi_assign(c->multi, fd, ev);
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
	struct charger *c = arg;
	kakaopay_multi_timeout(c->multi);
}

static void hook_timer(void *arg, long timeout_ms)
{
	struct charger *c = arg;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(c->curl_timer);
		return;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(c->curl_timer, &tv);
}

/* ---- jobs ------------------------------------------------------------------------------------ */

static struct job *job_take(struct charger *c)
{
	struct job *j = c->free_list;

	if (j) {
		c->free_list = j->next_free;
		c->nfree--;
	}
	return j;
}

static void job_put(struct charger *c, struct job *j)
{
	j->next_free = c->free_list;
	c->free_list = j;
	c->nfree++;
}

static void kick(struct charger *c)
{
	if (!c->freeing)
		event_active(c->pump, EV_TIMEOUT, 0);
}

static void observe_call(const struct pay_result *res, const char *op)
{
	char labels[96];

	snprintf(labels, sizeof(labels), "operation=\"%s\",outcome=\"%s\"", op,
	         pay_class_name(res->cls));
	metrics_inc("payment_gateway_requests_total", labels, 1);
	snprintf(labels, sizeof(labels), "operation=\"%s\"", op);
	metrics_observe("payment_gateway_request_duration_seconds", labels,
	                (double)res->t_total_ms / 1000.0);
}

static void finish(struct job *j)
{
	struct charger *c = j->c;

	c->in_flight--;
	c->finished[c->nfinished++] = j;
	kick(c);
}

static void log_call(const struct job *j, const struct pay_result *res, enum pay_class cls)
{
	char sid[PAY_ID_MAX];

	if (cls == PAY_OK && !log_enabled(LOG_DEBUG))
		return;
	pay_mask_id(j->att.sid, sid, sizeof(sid));
	log_write(cls == PAY_OK ? LOG_DEBUG : LOG_INFO, "recurring charge", "attempt:i",
	          (long long)j->att.id, "subscription:i", (long long)j->att.subscription_id,
	          "partner_order_id:s", j->att.partner_order_id, "sid:s", sid, "http_status:i",
	          (long long)res->http_status, "code:i", (long long)res->code, "class:s",
	          pay_class_name(cls), "ms:i", (long long)res->t_total_ms, (const char *)0);
}

/*
 * A CONFIG answer (keys, CID, IP or domain refused: KAKAOPAY.md §1.11.3) means every charge
 * would fail the same way: stop all gateway traffic, alert, and send nothing more until the
 * hold (PV_BILLING_HOLD_INVALID_S) has passed or the daemon restarts with fixed settings.
 */
static void gateway_refused_us(struct charger *c, const struct pay_result *res)
{
	if (c->blocked_until_mono > clock_mono_ms())
		return;
	c->blocked_until_mono = clock_mono_ms() + c->cfg->retry.hold_invalid_s * 1000;
	metrics_set("billing_gateway_blocked", "", 1);
	log_error("the gateway refused our credentials or merchant settings (CONFIG): all charges "
	          "stopped; fix PV_KAKAOPAY_* and restart, or charging resumes after the hold",
	          "code:i", (long long)res->code, "http_status:i", (long long)res->http_status,
	          "hold_s:i", (long long)c->cfg->retry.hold_invalid_s, (const char *)0);
	if (c->running && c->claiming) {
		c->claiming = false;
		kick(c);
	}
}

static void on_probe_done(void *arg, const struct pay_result *res)
{
	struct job *j = arg;

	observe_call(res, "status");
	j->ans.cls = billing_confirm_decline(res, j->att.claimed_at);
	log_call(j, res, j->ans.cls);
	finish(j);
}

static void on_charge_done(void *arg, const struct pay_result *res)
{
	struct job *j = arg;
	struct charger *c = j->c;

	observe_call(res, "subscription");
	if (billing_decline_needs_probe(res) && !c->freeing) {
		struct pay_request req;

		billing_answer_from_result(res, PAY_DECLINED, &j->ans);
		billing_status_request(&j->att, &req);
		if (kakaopay_multi_add(c->multi, PAY_OP_STATUS, &req, on_probe_done, j) == 0)
			return;
		j->ans.cls = PAY_UNKNOWN; /* the decline could not be confirmed */
		finish(j);
		return;
	}
	billing_answer_from_result(res, res->cls, &j->ans);
	log_call(j, res, res->cls);
	if (res->cls == PAY_CONFIG)
		gateway_refused_us(c, res);
	finish(j);
}

/* ---- database tasks (run on the pool's threads) --------------------------------------------- */

static void run_claim(struct db *db, struct dbpool_task *t)
{
	struct claim_task *ct = (struct claim_task *)t;
	int64_t t0 = clock_mono_ms();

	ct->n = 0;
	ct->rc = db ? store_billing_claim(db, &ct->cl, ct->buf, ct->want, &ct->n) : -E_NOMEM;
	ct->ms = clock_mono_ms() - t0;
	snprintf(ct->err, sizeof(ct->err), "%s", ct->rc && db ? db_last_error(db) : "");
}

static void run_apply(struct db *db, struct dbpool_task *t)
{
	struct apply_task *at = (struct apply_task *)t;
	int64_t t0 = clock_mono_ms();

	memset(&at->st, 0, sizeof(at->st));
	for (size_t i = 0; i < at->n; i++) {
		at->outcomes[i].att = &at->jobs[i]->att;
		at->outcomes[i].ans = &at->jobs[i]->ans;
	}
	at->rc = db ? store_billing_apply(db, at->pol, at->outcomes, at->n, (int64_t)clock_now(),
	                                  &at->st)
	            : -E_NOMEM;
	at->ms = clock_mono_ms() - t0;
	snprintf(at->err, sizeof(at->err), "%s", at->rc && db ? db_last_error(db) : "");
}

/* ---- the pass -------------------------------------------------------------------------------- */

static int32_t cutoff_at(const struct charger *c, int64_t now)
{
	return sched_due_cutoff(clock_local_day((time_t)now), sched_local_minute(now),
	                        c->cfg->charge_minute);
}

static void count_outcomes(const struct billing_apply_stats *a)
{
	metrics_inc("billing_charges_total", "outcome=\"APPROVED\"", (double)a->approved);
	metrics_inc("billing_charges_total", "outcome=\"DECLINED\"", (double)a->declined);
	metrics_inc("billing_charges_total", "outcome=\"FAILED\"", (double)a->failed);
	metrics_inc("billing_charges_total", "outcome=\"UNKNOWN\"", (double)a->unknown);
	metrics_inc("billing_retries_scheduled_total", "", (double)(a->declined - a->exhausted));
	metrics_inc("billing_retries_exhausted_total", "", (double)a->exhausted);
	if (a->amount_mismatch)
		metrics_inc("billing_amount_mismatch_total", "", (double)a->amount_mismatch);
}

static void backoff(struct charger *c)
{
	struct timeval tv = {1, 0};

	if (!c->db_backoff) {
		c->db_backoff = true;
		evtimer_add(c->retry_timer, &tv);
	}
}

/* Books a written batch: its jobs are free again. */
static void applied(struct charger *c, const struct billing_apply_stats *a)
{
	c->st.approved += a->approved;
	c->st.declined += a->declined;
	c->st.exhausted += a->exhausted;
	c->st.failed += a->failed;
	c->st.unknown += a->unknown;
	c->st.skipped += a->skipped;
	count_outcomes(a);
	if (a->exhausted)
		log_warn("retries exhausted: subscriptions stay SUBSCRIBE_PAYMENT_FAIL, customers "
		         "notified through the outbox",
		         "count:i", (long long)a->exhausted, (const char *)0);
	if (a->unknown)
		log_warn("charges with an unknown outcome: held for the reconciler", "count:i",
		         (long long)a->unknown, (const char *)0);
	c->sales_pending |= a->approved > 0;
	c->nothing_due = false; /* a decline may have made an immediate retry due */
}

static void on_task_done(void *arg, struct dbpool_task *t)
{
	struct charger *c = arg;

	c->st.transactions++;
	if (t == &c->claim.t) {
		struct claim_task *ct = &c->claim;

		c->claim_outstanding = false;
		c->st.claim_ms += ct->ms;
		metrics_inc("billing_db_transactions_total", "kind=\"claim\"", 1);
		if (ct->rc) {
			log_error("cannot claim due cycles", "error:s", ct->err, (const char *)0);
			backoff(c);
			return;
		}
		if (ct->n == 0) {
			c->nothing_due = true;
			kick(c);
			return;
		}
		c->st.claimed += ct->n;
		for (size_t i = 0; i < ct->n; i++) {
			struct job *j = job_take(c); /* want <= free jobs at submit, and none left since */
			struct pay_request req;

			j->c = c;
			j->att = ct->buf[i];
			j->t_start_mono = clock_mono_ms();
			billing_charge_request(&j->att, &req);
			c->in_flight++;
			if (kakaopay_multi_add(c->multi, PAY_OP_SUBSCRIPTION, &req, on_charge_done, j)) {
				/* never sent: recorded as such, the cycle is tried again later */
				billing_answer_error(PAY_NOT_SENT, "NETWORK",
				                     "the request could not be started", &j->ans);
				finish(j);
			}
		}
		metrics_set("billing_in_flight", "", (double)c->in_flight);
		kick(c);
		return;
	}
	struct apply_task *at = (struct apply_task *)t;

	c->applies_outstanding--;
	c->st.apply_ms += at->ms;
	metrics_inc("billing_db_transactions_total", "kind=\"apply\"", 1);
	if (at->rc) {
		log_error("cannot record charge outcomes; keeping them and trying again", "count:i",
		          (long long)at->n, "error:s", at->err, (const char *)0);
		for (size_t i = 0; i < at->n; i++) /* back in line, written again after a pause */
			c->finished[c->nfinished++] = at->jobs[i];
		backoff(c);
	} else {
		for (size_t i = 0; i < at->n; i++)
			job_put(c, at->jobs[i]);
		applied(c, &at->st);
	}
	at->next_free = c->free_tasks;
	c->free_tasks = at;
	kick(c);
}

/* Hands up to flush_at finished outcomes to a pool thread. false when no task is free. */
static bool submit_apply(struct charger *c)
{
	struct apply_task *at = c->free_tasks;
	size_t n = c->nfinished < c->flush_at ? c->nfinished : c->flush_at;

	if (!at || n == 0)
		return false;
	c->free_tasks = at->next_free;
	at->n = n;
	memcpy(at->jobs, c->finished + (c->nfinished - n), n * sizeof(*at->jobs));
	c->nfinished -= n;
	c->applies_outstanding++;
	dbpool_submit(c->pool, &at->t);
	return true;
}

static void submit_claim(struct charger *c)
{
	size_t want = c->nfree;
	int64_t now = (int64_t)clock_now();

	if (want > (size_t)c->cfg->claim_batch)
		want = (size_t)c->cfg->claim_batch;
	c->claim.cl.now = now;
	c->claim.cl.cutoff = cutoff_at(c, now);
	c->claim.cl.claimed_by = c->cfg->instance;
	c->claim.want = want;
	c->claim_outstanding = true;
	dbpool_submit(c->pool, &c->claim.t);
}

/* Adds the pass's sales to items.sales and tells the API's main page cache. */
static void fold_sales(struct charger *c)
{
	size_t items = 0;

	if (!c->sales_pending)
		return;
	if (store_billing_fold_sales(c->db, &items)) {
		log_warn("cannot fold sales into items.sales yet (the housekeeper retries)", "error:s",
		         db_last_error(c->db), (const char *)0);
		return;
	}
	c->sales_pending = false;
	if (items && c->redis) /* sales changed: the main page cache is stale */
		redis_cmd(c->redis, NULL, "INCR %scache:main:gen", redis_prefix(c->redis));
}

static void end_pass(struct charger *c)
{
	fold_sales(c);
	c->running = false;
	c->st.duration_ms = clock_mono_ms() - c->pass_start_mono;
	metrics_observe("billing_pass_duration_seconds", "", (double)c->st.duration_ms / 1000.0);
	metrics_set("billing_in_flight", "", 0);
	if (c->st.claimed || c->st.orphans || c->st.due)
		log_info("billing pass", "due:i", (long long)c->st.due, "claimed:i",
		         (long long)c->st.claimed, "charged:i", (long long)c->st.approved,
		         "declined:i", (long long)c->st.declined, "exhausted:i",
		         (long long)c->st.exhausted, "failed:i", (long long)c->st.failed, "unknown:i",
		         (long long)c->st.unknown, "skipped:i", (long long)c->st.skipped,
		         "orphans:i", (long long)c->st.orphans, "transactions:i",
		         (long long)c->st.transactions, "claim_ms:i", (long long)c->st.claim_ms,
		         "apply_ms:i", (long long)c->st.apply_ms, "duration_ms:i",
		         (long long)c->st.duration_ms, (const char *)0);
	if (c->done)
		c->done(c->done_arg, &c->st);
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	struct charger *c = arg;
	bool draining;

	if (!c->running || c->db_backoff)
		return;
	draining = !c->claiming || c->nothing_due;
	/* write outcomes: full batches, or whatever is there once nothing more can come soon */
	while (c->nfinished > 0 &&
	       (c->nfinished >= c->flush_at || c->in_flight == 0 || draining || c->nfree == 0))
		if (!submit_apply(c))
			break;
	/* claim more while there is room for a worthwhile batch */
	if (c->claiming && !c->nothing_due && !c->claim_outstanding && c->nfree > 0 &&
	    (c->nfree >= c->claim_min || c->in_flight == 0))
		submit_claim(c);
	if (draining && c->in_flight == 0 && c->nfinished == 0 && !c->claim_outstanding &&
	    c->applies_outstanding == 0)
		end_pass(c);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct charger *c = arg;

	c->db_backoff = false;
	kick(c);
}

/* Writes every finished outcome on the loop's own connection (at shutdown). */
static void flush_sync(struct charger *c)
{
	struct billing_apply_stats a = {0};
	int rc;

	if (c->nfinished == 0)
		return;
	for (size_t i = 0; i < c->nfinished; i++) {
		c->outcomes[i].att = &c->finished[i]->att;
		c->outcomes[i].ans = &c->finished[i]->ans;
	}
	rc = store_billing_apply(c->db, &c->cfg->retry, c->outcomes, c->nfinished,
	                         (int64_t)clock_now(), &a);
	if (rc) {
		log_error("stopping with charge outcomes that could not be written: their attempts "
		          "stay PENDING and the reconciler settles them",
		          "count:i", (long long)c->nfinished, "error:s", db_last_error(c->db),
		          (const char *)0);
		return;
	}
	for (size_t i = 0; i < c->nfinished; i++)
		job_put(c, c->finished[i]);
	c->nfinished = 0;
	applied(c, &a);
}

int charger_start_pass(struct charger *c)
{
	struct billing_backlog b = {0};
	int64_t now = (int64_t)clock_now();
	size_t n = 0;
	int rc;

	if (c->running)
		return 1;
	if (c->blocked_until_mono) {
		if (clock_mono_ms() < c->blocked_until_mono)
			return 2; /* CONFIG: no gateway traffic yet */
		c->blocked_until_mono = 0;
		metrics_set("billing_gateway_blocked", "", 0);
		log_warn("CONFIG hold over: charging resumes", (const char *)0);
	}
	memset(&c->st, 0, sizeof(c->st));
	c->pass_start_mono = clock_mono_ms();
	/* nothing of ours is in flight between passes: an old PENDING attempt is an orphan */
	rc = store_billing_orphans(c->db, now, c->cfg->orphan_after_s, NULL, 0, 1000, &n);
	if (rc) /* they stay PENDING, hold their cycles and SIDs, and are swept next pass */
		log_error("cannot sweep orphaned attempts", "error:s", db_last_error(c->db),
		          (const char *)0);
	c->st.orphans = n;
	if (n) {
		log_warn("orphaned PENDING attempts (their daemon stopped mid-call) are now UNKNOWN",
		         "count:i", (long long)n, (const char *)0);
		metrics_inc("billing_charges_total", "outcome=\"UNKNOWN\"", (double)n);
	}
	rc = store_billing_backlog(c->db, now, cutoff_at(c, now), &b);
	if (rc) {
		log_error("cannot read the billing backlog", "error:s", db_last_error(c->db),
		          (const char *)0);
		return rc;
	}
	c->st.due = b.due;
	metrics_set("billing_due_backlog", "", (double)b.due);
	metrics_set("billing_unknown_open", "", (double)b.unknown_open);
	metrics_set("billing_needs_admin", "", (double)b.needs_admin);
	metrics_set("outbox_pending", "", (double)b.outbox_pending);
	c->running = true;
	c->claiming = true;
	c->nothing_due = false;
	c->db_backoff = false;
	kick(c);
	return 0;
}

bool charger_running(const struct charger *c)
{
	return c->running;
}

void charger_stop_claiming(struct charger *c)
{
	if (c->running && c->claiming) {
		c->claiming = false;
		kick(c);
	}
}

size_t charger_in_flight(const struct charger *c)
{
	return c->in_flight;
}

struct charger *charger_new(struct event_base *base, struct db *db, struct redis *redis,
                            const struct billing_config *cfg, charger_done_fn done, void *arg)
{
	struct charger *c = calloc(1, sizeof(*c));
	struct kakaopay_multi_hooks hooks;

	if (!c)
		return NULL;
	c->base = base;
	c->db = db;
	c->redis = redis;
	c->cfg = cfg;
	c->done = done;
	c->done_arg = arg;
	c->njobs = (size_t)cfg->concurrency;
	c->flush_at = (size_t)cfg->apply_batch;
	if (c->flush_at > c->njobs / 2)
		c->flush_at = c->njobs / 2 ? c->njobs / 2 : 1;
	c->claim_min = (size_t)cfg->claim_batch;
	if (c->claim_min > c->njobs / 4)
		c->claim_min = c->njobs / 4 ? c->njobs / 4 : 1;
	c->ntasks = (size_t)cfg->db_workers + 1;
	c->jobs = calloc(c->njobs, sizeof(*c->jobs));
	c->finished = calloc(c->njobs, sizeof(*c->finished));
	c->outcomes = calloc(c->njobs, sizeof(*c->outcomes));
	c->claim_buf = calloc((size_t)cfg->claim_batch, sizeof(*c->claim_buf));
	c->tasks = calloc(c->ntasks, sizeof(*c->tasks));
	c->curl_timer = evtimer_new(base, on_curl_timer, c);
	c->pump = event_new(base, -1, 0, on_pump, c);
	c->retry_timer = evtimer_new(base, on_retry_timer, c);
	if (!c->jobs || !c->finished || !c->outcomes || !c->claim_buf || !c->tasks ||
	    !c->curl_timer || !c->pump || !c->retry_timer)
		goto fail;
	for (size_t i = 0; i < c->njobs; i++)
		job_put(c, &c->jobs[i]);
	c->claim.t.run = run_claim;
	c->claim.buf = c->claim_buf;
	for (size_t i = 0; i < c->ntasks; i++) {
		struct apply_task *at = &c->tasks[i];

		at->t.run = run_apply;
		at->pol = &cfg->retry;
		at->jobs = calloc(c->flush_at, sizeof(*at->jobs));
		at->outcomes = calloc(c->flush_at, sizeof(*at->outcomes));
		if (!at->jobs || !at->outcomes)
			goto fail;
		at->next_free = c->free_tasks;
		c->free_tasks = at;
	}
	hooks = (struct kakaopay_multi_hooks){c, hook_socket, hook_timer};
	/* room for a status probe per charge */
	if (kakaopay_multi_new(&cfg->kakaopay, &hooks, c->njobs * 2, &c->multi))
		goto fail;
	c->pool = dbpool_new(base, &cfg->db, cfg->db_workers, on_task_done, c);
	if (!c->pool)
		goto fail;
	return c;
fail:
	charger_free(c);
	return NULL;
}

void charger_free(struct charger *c)
{
	if (!c)
		return;
	c->freeing = true;
	/* the pool runs what is queued and delivers it (failed batches go back to finished) */
	dbpool_free(c->pool);
	c->pool = NULL;
	if (c->multi) {
		kakaopay_multi_free(c->multi); /* completes what is left as UNKNOWN */
		c->multi = NULL;
	}
	flush_sync(c);
	fold_sales(c);
	if (c->curl_timer)
		event_free(c->curl_timer);
	if (c->pump)
		event_free(c->pump);
	if (c->retry_timer)
		event_free(c->retry_timer);
	for (size_t i = 0; c->tasks && i < c->ntasks; i++) {
		free(c->tasks[i].jobs);
		free(c->tasks[i].outcomes);
	}
	free(c->tasks);
	free(c->jobs);
	free(c->finished);
	free(c->outcomes);
	free(c->claim_buf);
	free(c);
}
