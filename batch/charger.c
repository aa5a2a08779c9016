/* charger: one streaming billing pass on the event loop (see charger.h). */
#include "batch/charger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "batch/config.h"
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
	struct billing_outcome *outcomes;

	size_t in_flight;
	bool running;
	bool claiming;
	bool nothing_due;
	bool db_backoff;
	bool freeing;
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
	finish(j);
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

/* Writes the finished outcomes. 0, or the database error (they stay for the next try). */
static int flush(struct charger *c)
{
	struct billing_apply_stats a = {0};
	int64_t now = (int64_t)clock_now();
	int rc;

	if (c->nfinished == 0)
		return 0;
	for (size_t i = 0; i < c->nfinished; i++) {
		c->outcomes[i].att = &c->finished[i]->att;
		c->outcomes[i].ans = &c->finished[i]->ans;
	}
	rc = store_billing_apply(c->db, &c->cfg->retry, c->outcomes, c->nfinished, now, &a);
	c->st.transactions++;
	metrics_inc("billing_db_transactions_total", "kind=\"apply\"", 1);
	if (rc) {
		log_error("cannot record charge outcomes; keeping them and trying again", "count:i",
		          (long long)c->nfinished, "error:s", db_last_error(c->db), (const char *)0);
		return rc;
	}
	for (size_t i = 0; i < c->nfinished; i++)
		job_put(c, c->finished[i]);
	c->nfinished = 0;
	c->st.approved += a.approved;
	c->st.declined += a.declined;
	c->st.exhausted += a.exhausted;
	c->st.failed += a.failed;
	c->st.unknown += a.unknown;
	c->st.skipped += a.skipped;
	count_outcomes(&a);
	if (a.exhausted)
		log_warn("retries exhausted: subscriptions stay SUBSCRIBE_PAYMENT_FAIL, customers "
		         "notified through the outbox",
		         "count:i", (long long)a.exhausted, (const char *)0);
	if (a.unknown)
		log_warn("charges with an unknown outcome: held for the reconciler", "count:i",
		         (long long)a.unknown, (const char *)0);
	if (a.approved && c->redis) /* sales changed: the main page cache is stale */
		redis_cmd(c->redis, NULL, "INCR %scache:main:gen", redis_prefix(c->redis));
	c->nothing_due = false; /* a decline may have made an immediate retry due */
	return 0;
}

static void claim_more(struct charger *c)
{
	struct billing_claim cl;
	size_t want = c->nfree, n = 0;
	int64_t now = (int64_t)clock_now();
	int rc;

	if (want > (size_t)c->cfg->claim_batch)
		want = (size_t)c->cfg->claim_batch;
	if (want == 0)
		return;
	cl.now = now;
	cl.cutoff = cutoff_at(c, now);
	cl.claimed_by = c->cfg->instance;
	rc = store_billing_claim(c->db, &cl, c->claim_buf, want, &n);
	c->st.transactions++;
	metrics_inc("billing_db_transactions_total", "kind=\"claim\"", 1);
	if (rc) {
		log_error("cannot claim due cycles", "error:s", db_last_error(c->db),
		          (const char *)0);
		c->db_backoff = true;
		return;
	}
	if (n == 0) {
		c->nothing_due = true;
		return;
	}
	c->st.claimed += n;
	for (size_t i = 0; i < n; i++) {
		struct job *j = job_take(c);
		struct pay_request req;

		j->c = c;
		j->att = c->claim_buf[i];
		j->t_start_mono = clock_mono_ms();
		billing_charge_request(&j->att, &req);
		c->in_flight++;
		if (kakaopay_multi_add(c->multi, PAY_OP_SUBSCRIPTION, &req, on_charge_done, j)) {
			/* never sent: recorded as such, the cycle is tried again later */
			billing_answer_error(PAY_NOT_SENT, "NETWORK", "the request could not be started",
			                     &j->ans);
			finish(j);
		}
	}
	metrics_set("billing_in_flight", "", (double)c->in_flight);
}

static void end_pass(struct charger *c)
{
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
		         (long long)c->st.transactions, "duration_ms:i",
		         (long long)c->st.duration_ms, (const char *)0);
	if (c->done)
		c->done(c->done_arg, &c->st);
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	struct charger *c = arg;

	if (!c->running || c->db_backoff)
		return;
	if (c->nfinished > 0 &&
	    (c->nfinished >= c->flush_at || c->in_flight == 0 || !c->claiming || c->nothing_due ||
	     c->nfree == 0)) {
		if (flush(c)) {
			struct timeval tv = {1, 0};
			c->db_backoff = true;
			evtimer_add(c->retry_timer, &tv);
			return;
		}
	}
	if (c->claiming && !c->nothing_due && c->nfree > 0) {
		claim_more(c);
		if (c->db_backoff) {
			struct timeval tv = {1, 0};
			evtimer_add(c->retry_timer, &tv);
			return;
		}
		if (c->nfinished > 0) /* claims that could not be sent */
			kick(c);
	}
	if ((!c->claiming || c->nothing_due) && c->in_flight == 0 && c->nfinished == 0)
		end_pass(c);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct charger *c = arg;

	c->db_backoff = false;
	kick(c);
}

int charger_start_pass(struct charger *c)
{
	struct billing_backlog b = {0};
	int64_t now = (int64_t)clock_now();
	size_t n = 0;
	int rc;

	if (c->running)
		return 1;
	memset(&c->st, 0, sizeof(c->st));
	c->pass_start_mono = clock_mono_ms();
	/* nothing of ours is in flight between passes: an old PENDING attempt is an orphan */
	rc = store_billing_orphans(c->db, now, c->cfg->orphan_after_s, NULL, 0, 1000, &n);
	if (rc) {
		log_error("cannot sweep orphaned attempts", "error:s", db_last_error(c->db),
		          (const char *)0);
		return rc;
	}
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
	c->jobs = calloc(c->njobs, sizeof(*c->jobs));
	c->finished = calloc(c->njobs, sizeof(*c->finished));
	c->outcomes = calloc(c->njobs, sizeof(*c->outcomes));
	c->claim_buf = calloc((size_t)cfg->claim_batch, sizeof(*c->claim_buf));
	c->curl_timer = evtimer_new(base, on_curl_timer, c);
	c->pump = event_new(base, -1, 0, on_pump, c);
	c->retry_timer = evtimer_new(base, on_retry_timer, c);
	if (!c->jobs || !c->finished || !c->outcomes || !c->claim_buf || !c->curl_timer ||
	    !c->pump || !c->retry_timer)
		goto fail;
	for (size_t i = 0; i < c->njobs; i++)
		job_put(c, &c->jobs[i]);
	hooks = (struct kakaopay_multi_hooks){c, hook_socket, hook_timer};
	/* room for a status probe per charge */
	if (kakaopay_multi_new(&cfg->kakaopay, &hooks, c->njobs * 2, &c->multi))
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
	if (c->multi) {
		kakaopay_multi_free(c->multi); /* completes what is left as UNKNOWN */
		c->multi = NULL;
	}
	if (c->nfinished && flush(c))
		log_error("stopping with charge outcomes that could not be written: their attempts "
		          "stay PENDING and the reconciler settles them",
		          "count:i", (long long)c->nfinished, (const char *)0);
	if (c->curl_timer)
		event_free(c->curl_timer);
	if (c->pump)
		event_free(c->pump);
	if (c->retry_timer)
		event_free(c->retry_timer);
	free(c->jobs);
	free(c->finished);
	free(c->outcomes);
	free(c->claim_buf);
	free(c);
}
