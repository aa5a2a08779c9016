/* housekeeper: outbox forwarding and the UNKNOWN reconciler on their own thread (see
 * housekeeper.h). */
#include "batch/housekeeper.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch/config.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/log.h"
#include "common/metrics.h"
#include "core/billing.h"
#include "core/outbox.h"
#include "core/store_billing.h"
#include "core/sweep.h"
#include "external/kakaopay.h"
#include "common/banned.h"

#define PROBES_PER_ROUND   200
#define VERDICTS_PER_ROUND 50
#define OUTBOX_ROUNDS      16

static int forward_outbox(const struct billing_config *cfg, struct db *db,
                          const struct pay_gateway *gw, struct housekeeper_stats *st)
{
	for (int i = 0; i < OUTBOX_ROUNDS; i++) {
		struct outbox_stats os = {0};
		int rc = outbox_forward(db, gw, (int64_t)clock_now(), OUTBOX_BATCH_MAX,
		                        cfg->outbox_max_age_s, &os);
		if (rc)
			return rc;
		st->outbox_done += os.done;
		st->outbox_retried += os.retried;
		st->outbox_failed += os.failed;
		metrics_inc("outbox_delivered_total", "", (double)os.done);
		metrics_inc("outbox_retries_total", "", (double)os.retried);
		if (os.failed) {
			metrics_inc("outbox_failed_total", "", (double)os.failed);
			log_error("outbox events gave up after their retry window: moved to "
			          "outbox_failed (requeue them in SQL, see core/sql/README.md)",
			          "count:i", (long long)os.failed, (const char *)0);
		}
		if (os.claimed < OUTBOX_BATCH_MAX)
			break;
	}
	return 0;
}

static int probe_unknown(const struct billing_config *cfg, struct db *db,
                         const struct pay_gateway *gw, struct housekeeper_stats *st)
{
	struct billing_probe_due *due = calloc(PROBES_PER_ROUND, sizeof(*due));
	struct pay_result *res = malloc(sizeof(*res));
	size_t n = 0;
	int rc = -1;

	if (!due || !res)
		goto out;
	rc = store_billing_probes_due(db, (int64_t)clock_now(), cfg->first_probe_s,
	                              cfg->second_probe_s, due, PROBES_PER_ROUND, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct pay_request req = {.cid = due[i].cid, .sid = due[i].sid};
		enum billing_probe v;
		char note[160], sid[PAY_ID_MAX];
		bool resolved = false;

		pay_gateway_call(gw, PAY_OP_STATUS, &req, res);
		v = billing_probe_verdict(res, due[i].claimed_at);
		st->probes++;
		if (v == BILLING_PROBE_ERROR) {
			st->probe_errors++;
			snprintf(note, sizeof(note), "probe failed: %s code %d http %d",
			         pay_class_name(res->cls), res->code, res->http_status);
		} else {
			snprintf(note, sizeof(note), "SID %s, last_approved_at %lld, claimed_at %lld",
			         res->status, (long long)res->last_approved_at,
			         (long long)due[i].claimed_at);
		}
		rc = store_billing_probe_record(db, due[i].id, v, note, (int64_t)clock_now(),
		                                &resolved);
		pay_mask_id(due[i].sid, sid, sizeof(sid));
		if (rc == 0 && resolved) {
			st->resolved_failed++;
			log_info("UNKNOWN charge settled: not charged (two SID probes); the cycle will "
			         "be charged again",
			         "attempt:i", (long long)due[i].id, "sid:s", sid, (const char *)0);
		} else if (rc == 0 && v == BILLING_PROBE_MAYBE_CHARGED) {
			st->admin_tasks++;
			log_warn("UNKNOWN charge probably charged: held for an admin, never charged "
			         "again automatically",
			         "attempt:i", (long long)due[i].id, "sid:s", sid, "note:s", note,
			         (const char *)0);
		}
	}
out:
	free(due);
	free(res);
	return rc;
}

/* An admin's CHARGED verdict holds when an order lookup of its TID shows this attempt paid. */
static int verify_charged(const struct billing_attempt *a, const struct pay_result *r,
                          char *why, size_t n)
{
	bool payload = false;

	if (r->cls != PAY_OK) {
		snprintf(why, n, "order lookup of the TID failed: %s code %d", pay_class_name(r->cls),
		         r->code);
		return -1;
	}
	if (strcmp(r->status, "SUCCESS_PAYMENT") != 0 &&
	    strcmp(r->status, "PART_CANCEL_PAYMENT") != 0 && strcmp(r->status, "CANCEL_PAYMENT") != 0) {
		snprintf(why, n, "the TID is not paid (status %s)", r->status);
		return -1;
	}
	if (!r->amount.present || r->amount.total != a->amount) {
		snprintf(why, n, "amount %lld differs from the attempt's %lld",
		         (long long)r->amount.total, (long long)a->amount);
		return -1;
	}
	if (r->partner_order_id[0] && strcmp(r->partner_order_id, a->partner_order_id) != 0) {
		snprintf(why, n, "partner_order_id %s is not the attempt's %s", r->partner_order_id,
		         a->partner_order_id);
		return -1;
	}
	for (int i = 0; i < r->n_actions; i++)
		payload |= strcmp(r->actions[i].type, "PAYMENT") == 0 &&
		           strcmp(r->actions[i].payload, a->payload) == 0;
	if (!payload) {
		snprintf(why, n, "no PAYMENT action with payload %s", a->payload);
		return -1;
	}
	return 0;
}

static int apply_verdicts(const struct billing_config *cfg, struct db *db,
                          const struct pay_gateway *gw, struct housekeeper_stats *st)
{
	struct billing_verdict *v = calloc(VERDICTS_PER_ROUND, sizeof(*v));
	struct pay_result *res = malloc(sizeof(*res));
	size_t n = 0;
	int rc = -1;

	if (!v || !res)
		goto out;
	rc = store_billing_verdicts(db, v, VERDICTS_PER_ROUND, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct billing_attempt *a = &v[i].att;
		int64_t now = (int64_t)clock_now();
		char why[256];

		if (!v[i].charged) {
			rc = store_billing_resolve_failed(db, a->id, "ADMIN",
			                                  "operator verdict: not charged", now);
			st->verdicts_applied += rc == 0;
			log_info("UNKNOWN charge settled by an operator: not charged", "attempt:i",
			         (long long)a->id, (const char *)0);
			continue;
		}
		struct pay_request req = {.cid = a->cid, .tid = v[i].tid};
		pay_gateway_call(gw, PAY_OP_ORDER, &req, res);
		if (verify_charged(a, res, why, sizeof(why))) {
			rc = store_billing_verdict_rejected(db, a->id, why, now);
			st->verdicts_rejected++;
			log_warn("operator verdict CHARGED rejected", "attempt:i", (long long)a->id,
			         "why:s", why, (const char *)0);
			continue;
		}
		struct billing_answer ans;
		billing_answer_from_result(res, PAY_OK, &ans);
		snprintf(ans.tid, sizeof(ans.tid), "%s", v[i].tid);
		if (!ans.aid[0] && res->n_actions > 0)
			snprintf(ans.aid, sizeof(ans.aid), "%s", res->actions[0].aid);
		rc = store_billing_resolve_charged(db, &cfg->retry, a, &ans, now);
		st->verdicts_applied += rc == 0;
		if (rc == 0)
			log_info("UNKNOWN charge settled by an operator: charged (TID verified)",
			         "attempt:i", (long long)a->id, (const char *)0);
	}
out:
	free(v);
	free(res);
	return rc;
}

/* The payment sweepers (core/sweep.c): abandoned and stuck payments, expired orders. */
static int sweep_payments(const struct billing_config *cfg, struct db *db,
                          const struct pay_gateway *gw)
{
	struct sweep_config sc = {cfg->payment_expire_s, SWEEP_APPROVING_AFTER_S,
	                          cfg->order_expire_s};
	struct sweep_stats ss = {0};
	int rc = sweep_round(db, gw, &sc, (int64_t)clock_now(), &ss);

	if (ss.lookups || ss.failed || ss.orders_canceled)
		log_info("payment sweep", "lookups:i", (long long)ss.lookups, "lookup_failures:i",
		         (long long)ss.lookup_failures, "completed:i", (long long)ss.completed,
		         "flagged:i", (long long)ss.flagged, "failed:i", (long long)ss.failed,
		         "expired:i", (long long)ss.expired, "released:i", (long long)ss.released,
		         "orders_canceled:i", (long long)ss.orders_canceled, (const char *)0);
	return rc;
}

int housekeeper_round(const struct billing_config *cfg, struct db *db, const struct pay_gateway *gw,
                      struct housekeeper_stats *st)
{
	size_t stale = 0, items = 0;
	int rc = store_billing_fold_sales(db, &items); /* what a pass could not fold */

	if (rc == 0)
		rc = forward_outbox(cfg, db, gw, st);

	if (rc == 0)
		rc = probe_unknown(cfg, db, gw, st);
	if (rc == 0)
		rc = apply_verdicts(cfg, db, gw, st);
	if (rc == 0)
		rc = store_billing_flag_stale_unknown(db, (int64_t)clock_now(), cfg->admin_after_s,
		                                      &stale);
	if (rc == 0 && stale) {
		st->admin_tasks += stale;
		log_warn("UNKNOWN charges open too long: admin tasks created", "count:i",
		         (long long)stale, (const char *)0);
	}
	if (rc == 0)
		rc = sweep_payments(cfg, db, gw);
	return rc;
}

struct housekeeper {
	const struct billing_config *cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	bool leader;
};

static void *run(void *arg)
{
	struct housekeeper *h = arg;
	struct db *db = db_new(&h->cfg->db);
	struct kakaopay_client *client = NULL;
	struct pay_gateway gw;

	log_set_request_id("housekeeper");
	if (!db || kakaopay_client_new(&h->cfg->kakaopay, &client)) {
		log_error("housekeeper cannot start: out of memory", (const char *)0);
		goto out;
	}
	kakaopay_gateway_init(&gw, client);
	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		struct timespec ts;
		bool leader = h->leader;

		pthread_mutex_unlock(&h->mu);
		if (leader) {
			struct housekeeper_stats st = {0};
			if (housekeeper_round(h->cfg, db, &gw, &st))
				log_error("housekeeping round failed; trying again next interval",
				          "error:s", db_last_error(db), (const char *)0);
		}
		pthread_mutex_lock(&h->mu);
		if (h->stop)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += h->cfg->poll_ms / 1000;
		ts.tv_nsec += (long)(h->cfg->poll_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->cv, &h->mu, &ts);
	}
	pthread_mutex_unlock(&h->mu);
out:
	kakaopay_client_free(client);
	db_free(db);
	return NULL;
}

struct housekeeper *housekeeper_start(const struct billing_config *cfg)
{
	struct housekeeper *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->cfg = cfg;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (pthread_create(&h->thread, NULL, run, h)) {
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cv);
		free(h);
		return NULL;
	}
	return h;
}

void housekeeper_set_leader(struct housekeeper *h, bool leader)
{
	pthread_mutex_lock(&h->mu);
	if (leader && !h->leader)
		pthread_cond_signal(&h->cv);
	h->leader = leader;
	pthread_mutex_unlock(&h->mu);
}

void housekeeper_stop(struct housekeeper *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}
