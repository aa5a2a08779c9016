/* sweep: the payment sweepers (see sweep.h). */
#include "core/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "core/order.h"
#include "core/store_payment.h"
#include "common/banned.h"

static const char *const action_names[] = {"LEAVE", "COMPLETE", "FLAG",
                                           "FAIL",  "EXPIRE",   "RELEASE"};

const char *sweep_action_name(enum sweep_action a)
{
	if ((int)a < 0 || (size_t)a >= sizeof(action_names) / sizeof(action_names[0]))
		return NULL;
	return action_names[a];
}

/* ---- the decision --------------------------------------------------------------------------- */

static struct sweep_decision decision(enum sweep_action a, const char *reason)
{
	return (struct sweep_decision){a, reason};
}

/* Whether a PAYMENT action of the lookup carries payload. */
static bool paid_with_payload(const struct pay_result *look, const char *payload)
{
	for (int i = 0; i < look->n_actions; i++)
		if (!strcmp(look->actions[i].type, "PAYMENT") &&
		    !strcmp(look->actions[i].payload, payload))
			return true;
	return false;
}

struct sweep_decision sweep_decide(const struct sweep_case *c, const struct pay_result *look)
{
	bool expired = c->age_s >= c->expire_s;

	if (c->state != PAYMENT_READY && c->state != PAYMENT_APPROVING)
		return decision(SWEEP_LEAVE, "not an open record");
	if (look->cls != PAY_OK)
		return decision(SWEEP_LEAVE, "the order lookup failed");
	switch (payment_lookup_read(look->status)) {
	case PAYMENT_LOOKUP_PAID:
		if (!look->amount.present || look->amount.total != c->amount)
			return decision(SWEEP_FLAG, "paid at the gateway, but with another amount "
			                            "than the record's");
		if (c->payload && !paid_with_payload(look, c->payload))
			return decision(SWEEP_FLAG, "paid at the gateway, but no PAYMENT action "
			                            "carries this record's payload");
		if (c->needs_sid && !look->sid[0])
			return decision(
			    SWEEP_FLAG,
			    "paid at the gateway with the subscription CID, but an order "
			    "lookup carries no SID, so no subscription can be created: "
			    "complete it by hand");
		return decision(SWEEP_COMPLETE, "paid at the gateway");
	case PAYMENT_LOOKUP_REFUNDED:
		return decision(SWEEP_FLAG, "paid and refunded at the gateway, but never approved "
		                            "here");
	case PAYMENT_LOOKUP_NOT_PAID:
		return expired
		           ? decision(SWEEP_EXPIRE, "not paid by the expiry after ready (swept)")
		           : decision(SWEEP_FAIL, "not paid (swept)");
	case PAYMENT_LOOKUP_IN_PROGRESS:
		if (expired)
			return decision(SWEEP_EXPIRE,
			                "still in progress at the expiry after ready (swept)");
		if (c->state == PAYMENT_APPROVING)
			return decision(SWEEP_RELEASE, "still in progress: open again for the "
			                               "customer's approve");
		return decision(SWEEP_LEAVE, "still in progress");
	default:
		return decision(SWEEP_FLAG, "an order lookup status the sweeper does not know");
	}
}

/* ---- acting on a record --------------------------------------------------------------------- */

/* The approve route's JSON-mode answer (API.md §7.3) from a lookup, as stored text (caller
 * frees), so a replayed redirect answers the same keys as for a browser-approved payment. */
static char *approval_json(const struct payment_rec *rec, const struct pay_result *look,
                           int64_t approved_at)
{
	char payload[PAY_PAYLOAD_MAX];

	payment_payload(rec->payment_id, payload, sizeof(payload));
	return payment_approval_json(look->item_name[0] ? look->item_name : rec->item_name,
	                             look->payload[0] ? look->payload : payload, look->created_at,
	                             approved_at, &look->amount,
	                             look->quantity >= 0 ? look->quantity : rec->quantity);
}

static int flag(struct db *db, const struct payment_due *d, const char *reason,
                const struct pay_result *look, int64_t now, struct sweep_stats *st)
{
	const struct payment_rec *rec = &d->rec;
	bool changed = false;
	int rc = store_payment_flag(db, rec->payment_id, rec->state, reason, now, &changed);

	if (rc == 0 && changed) {
		st->flagged++;
		log_warn("payment flagged for review and left as it is", "order:i",
		         (long long)rec->order_id, "payment:i", (long long)rec->payment_id, "tid:s",
		         rec->tid, "state:s", payment_state_name(rec->state), "gateway_status:s",
		         look->status, "amount:i", (long long)look->amount.total, "expected:i",
		         (long long)rec->amount, "reason:s", reason);
	}
	return rc;
}

/* §7.3 step 5 from the lookup. A READY record is claimed (APPROVING) first, as the cancel
 * and fail redirects do, and released again when it cannot be completed. */
static int complete(struct db *db, const struct payment_due *d, const struct pay_result *look,
                    int64_t now, struct sweep_stats *st)
{
	const struct payment_rec *rec = &d->rec;
	int64_t approved_at = look->approved_at >= 0 ? look->approved_at : now;
	struct payment_approval a = {0};
	const char *reason = NULL;
	struct payment_rec cur;
	struct pay_order o;
	bool claimed = false, changed = false;
	char *json = NULL;
	int rc, why;

	if (rec->state == PAYMENT_READY) {
		rc = store_payment_move(db, rec->payment_id, PAYMENT_READY, PAYMENT_APPROVING, NULL,
		                        NULL, now, &claimed);
		if (rc || !claimed) /* not claimed: an approve took it meanwhile */
			return rc;
	}
	json = approval_json(rec, look, approved_at);
	if (!json) {
		rc = -E_NOMEM;
		goto release;
	}
	a.rec = rec;
	a.aid = payment_action_aid(look);
	a.sid = look->sid;
	a.payment_method_type = look->payment_method_type;
	a.amount = look->amount;
	a.approved_at = approved_at;
	a.result_json = json;
	rc = store_payment_complete(db, &a, now, clock_local_day((time_t)now));
	if (rc == 0) {
		st->completed++;
		log_info("abandoned payment completed from an order lookup: order COMPLETE",
		         "order:i", (long long)rec->order_id, "payment:i",
		         (long long)rec->payment_id, "tid:s", rec->tid, "state:s",
		         payment_state_name(rec->state), "amount:i", (long long)look->amount.total);
		goto out;
	}
	if (rc != -E_ORDER_NOT_PAYABLE && rc != -E_PAYMENT_GATEWAY_TIMEOUT)
		goto release;
	why = rc;
	rc = store_payment_get(db, rec->payment_id, &cur);
	if (rc == 0)
		rc = store_payment_order(db, rec->order_id, &o);
	if (rc)
		goto release;
	if (cur.state == PAYMENT_APPROVED) /* the approve route completed it meanwhile */
		goto out;
	if (o.status != ORDER_REQUEST)
		reason = "paid at the gateway, but the order is no longer payable (paid by another "
		         "record, or cancelled): refund it by hand";
	else if (why == -E_PAYMENT_GATEWAY_TIMEOUT)
		reason =
		    "paid at the gateway, but without the SID its subscriptions need: complete "
		    "it by hand";
	/* else the record moved meanwhile: leave it to whoever moved it */
release:
	if (claimed && store_payment_move(db, rec->payment_id, PAYMENT_APPROVING, PAYMENT_READY,
	                                  NULL, NULL, now, &changed))
		log_warn("payment left APPROVING: the sweeper looks it up again", "payment:i",
		         (long long)rec->payment_id);
	if (rc == 0 && reason)
		rc = flag(db, d, reason, look, now, st);
out:
	free(json);
	return rc;
}

/* Looks one READY or APPROVING record up and acts on the answer. *lookup_failed tells
 * whether the lookup failed. 0, or a database error. */
static int settle(struct db *db, const struct pay_gateway *gw, const struct sweep_config *cfg,
                  const struct payment_due *d, int64_t now, struct pay_result *look,
                  struct sweep_stats *st, bool *lookup_failed)
{
	const struct payment_rec *rec = &d->rec;
	struct pay_request q = {.cid = rec->cid, .tid = rec->tid};
	char payload[PAY_PAYLOAD_MAX];
	struct sweep_decision dec;
	enum payment_state to;
	bool changed = false;
	int rc;

	*lookup_failed = false;
	payment_payload(rec->payment_id, payload, sizeof(payload));
	pay_result_init(look, PAY_OP_ORDER);
	pay_gateway_call(gw, PAY_OP_ORDER, &q, look); /* an error leaves the class UNKNOWN */
	st->lookups++;
	struct sweep_case c = {rec->state,  now - d->ready_at, cfg->payment_expire_s,
	                       rec->amount, payload,           d->subscription};
	dec = sweep_decide(&c, look);
	switch (dec.action) {
	case SWEEP_COMPLETE:
		return complete(db, d, look, now, st);
	case SWEEP_FLAG:
		return flag(db, d, dec.reason, look, now, st);
	case SWEEP_FAIL:
	case SWEEP_EXPIRE:
		to = dec.action == SWEEP_FAIL ? PAYMENT_FAILED : PAYMENT_EXPIRED;
		rc = store_payment_move(db, rec->payment_id, rec->state, to, look->status,
		                        dec.reason, now, &changed);
		if (rc == 0 && changed) {
			if (to == PAYMENT_FAILED)
				st->failed++;
			else
				st->expired++;
			log_info("open payment closed after an order lookup: the order can be paid "
			         "again",
			         "order:i", (long long)rec->order_id, "payment:i",
			         (long long)rec->payment_id, "tid:s", rec->tid, "from:s",
			         payment_state_name(rec->state), "to:s", payment_state_name(to),
			         "gateway_status:s", look->status);
		}
		return rc;
	case SWEEP_RELEASE:
		rc = store_payment_move(db, rec->payment_id, PAYMENT_APPROVING, PAYMENT_READY, NULL,
		                        NULL, now, &changed);
		if (rc == 0 && changed) {
			st->released++;
			log_info("stuck approve released: the payment is READY again", "order:i",
			         (long long)rec->order_id, "payment:i", (long long)rec->payment_id,
			         "tid:s", rec->tid, "gateway_status:s", look->status);
		}
		return rc;
	default:
		if (look->cls != PAY_OK) {
			*lookup_failed = true;
			st->lookup_failures++;
			log_warn("payment sweep: order lookup failed; tried again next round",
			         "order:i", (long long)rec->order_id, "payment:i",
			         (long long)rec->payment_id, "tid:s", rec->tid, "class:s",
			         pay_class_name(look->cls), "http_status:i",
			         (long long)look->http_status, "code:i", (long long)look->code);
		}
		return 0;
	}
}

/* Steps 1 and 2: every unflagged record in state due at or before `before`. The lookup
 * budget (*budget) and the run of failed lookups (*failures) span both steps. */
static int sweep_open(struct db *db, const struct pay_gateway *gw, const struct sweep_config *cfg,
                      enum payment_state state, int64_t before, int64_t now,
                      struct payment_due *due, struct pay_result *look, struct sweep_stats *st,
                      size_t *budget, int *failures)
{
	int64_t after = 0;
	size_t n;
	int rc;

	do {
		rc = store_payment_due(db, state, before, after, due, SWEEP_BATCH, &n);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			bool failed = false;

			if (*budget == 0 || *failures >= SWEEP_LOOKUP_FAILURES)
				return 0;
			after = due[i].rec.payment_id;
			if (!due[i].rec.tid[0])
				continue;
			(*budget)--;
			rc = settle(db, gw, cfg, &due[i], now, look, st, &failed);
			if (rc)
				return rc;
			*failures = failed ? *failures + 1 : 0;
		}
	} while (n == SWEEP_BATCH);
	return 0;
}

/* Step 3: CREATED records past the expiry → FAILED. */
static int sweep_created(struct db *db, int64_t before, int64_t now, struct payment_due *due,
                         struct sweep_stats *st)
{
	int64_t after = 0;
	size_t n, done = 0;
	int rc;

	do {
		rc = store_payment_due(db, PAYMENT_CREATED, before, after, due, SWEEP_BATCH, &n);
		for (size_t i = 0; rc == 0 && i < n && done < SWEEP_CLOSE_MAX; i++, done++) {
			const struct payment_rec *rec = &due[i].rec;
			bool changed = false;

			after = rec->payment_id;
			rc = store_payment_move(db, rec->payment_id, PAYMENT_CREATED,
			                        PAYMENT_FAILED, "NO_READY",
			                        "the ready call never recorded an answer, so no "
			                        "payment page was shown (swept)",
			                        now, &changed);
			if (rc == 0 && changed) {
				st->failed++;
				log_info("payment record without a ready answer closed as FAILED",
				         "order:i", (long long)rec->order_id, "payment:i",
				         (long long)rec->payment_id);
			}
		}
	} while (rc == 0 && n == SWEEP_BATCH && done < SWEEP_CLOSE_MAX);
	return rc;
}

/* Step 4: stale REQUEST orders → CANCELED. */
static int sweep_orders(struct db *db, int64_t before, int64_t now, struct sweep_stats *st)
{
	int64_t ids[SWEEP_BATCH], after = 0;
	size_t n, done = 0;
	int rc;

	do {
		rc = store_payment_stale_orders(db, before, after, ids, SWEEP_BATCH, &n);
		for (size_t i = 0; rc == 0 && i < n && done < SWEEP_CLOSE_MAX; i++, done++) {
			bool changed = false;

			after = ids[i];
			rc = store_payment_expire_order(db, ids[i], now, &changed);
			if (rc == 0 && changed) {
				st->orders_canceled++;
				log_info("unpaid order expired: CANCELED", "order:i",
				         (long long)ids[i]);
			}
		}
	} while (rc == 0 && n == SWEEP_BATCH && done < SWEEP_CLOSE_MAX);
	return rc;
}

int sweep_round(struct db *db, const struct pay_gateway *gw, const struct sweep_config *cfg,
                int64_t now, struct sweep_stats *stats)
{
	struct sweep_config c = cfg ? *cfg : (struct sweep_config){0};
	struct sweep_stats local;
	struct payment_due *due = NULL;
	struct pay_result *look = NULL;
	size_t budget = SWEEP_LOOKUPS_MAX;
	int failures = 0, rc = -E_NOMEM;

	if (!db || !gw)
		return -E_CONFIG;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (c.payment_expire_s <= 0)
		c.payment_expire_s = SWEEP_PAYMENT_EXPIRE_S;
	if (c.approving_after_s <= 0)
		c.approving_after_s = SWEEP_APPROVING_AFTER_S;
	if (c.order_expire_s <= 0)
		c.order_expire_s = SWEEP_ORDER_EXPIRE_S;
	due = calloc(SWEEP_BATCH, sizeof(*due));
	look = malloc(sizeof(*look));
	if (!due || !look)
		goto out;
	rc = sweep_open(db, gw, &c, PAYMENT_APPROVING, now - c.approving_after_s, now, due, look,
	                stats, &budget, &failures);
	if (rc == 0)
		rc = sweep_open(db, gw, &c, PAYMENT_READY, now - c.payment_expire_s, now, due, look,
		                stats, &budget, &failures);
	if (rc == 0)
		rc = sweep_created(db, now - c.payment_expire_s, now, due, stats);
	if (rc == 0)
		rc = sweep_orders(db, now - c.order_expire_s, now, stats);
out:
	free(due);
	free(look);
	return rc;
}
