/* outbox: forwarding of the outbox events (see outbox.h). */
#include "core/outbox.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/log.h"
#include "core/refund.h"
#include "core/store_outbox.h"
#include "core/store_refund.h"
#include "common/banned.h"

#define ERR_MAX 512

int64_t outbox_backoff_s(int64_t tries)
{
	int64_t s = OUTBOX_BACKOFF_MIN_S;

	for (int64_t i = 1; i < tries && s < OUTBOX_BACKOFF_MAX_S; i++)
		s *= 2;
	return s < OUTBOX_BACKOFF_MAX_S ? s : OUTBOX_BACKOFF_MAX_S;
}

int outbox_expired(int64_t created_at, int64_t now, int64_t max_age_s)
{
	return now - created_at >= max_age_s;
}

/* The error text of a gateway answer: "<what>: <class> <code> <message>". */
static void gw_error(char *err, const char *what, const struct pay_result *res)
{
	snprintf(err, ERR_MAX, "%s: %s http=%d code=%d %s", what, pay_class_name(res->cls),
	         res->http_status, res->code, res->message);
}

/* ---- REFUND --------------------------------------------------------------------------------- */

/* 0 when the event is done, 1 to retry (err set). */
static int refund_confirm(struct db *db, const struct refund_rec *ref, const char *aid,
                          const struct pay_amount *canceled, int64_t now, char *err)
{
	bool changed = false;
	int rc = store_refund_confirm(db, ref->refund_id, aid,
	                              canceled->present ? canceled->total : -1, now, &changed);

	if (rc) {
		snprintf(err, ERR_MAX, "confirm: %s", err_name(rc));
		return 1;
	}
	log_info("queued refund confirmed", "refund:i", (long long)ref->refund_id, "order:i",
	         (long long)ref->order_id, "amount:i", (long long)ref->amount, "changed:i",
	         (long long)changed);
	return 0;
}

static int refund_locked(struct db *db, const struct pay_gateway *gw, const struct refund_rec *ref,
                         struct pay_result *res, int64_t now, char *err)
{
	char payload[PAY_PAYLOAD_MAX];
	struct pay_request lq = {.cid = ref->cid, .tid = ref->tid};
	struct pay_request q = {.cid = ref->cid,
	                        .tid = ref->tid,
	                        .cancel_amount = ref->amount,
	                        .cancel_tax_free_amount = ref->tax_free_amount,
	                        .cancel_available_amount = ref->cancel_available,
	                        .payload = payload};
	enum refund_verdict v;

	refund_payload(ref->refund_id, payload, sizeof(payload));
	/* look the payment up before any resend (§7.5) */
	pay_result_init(res, PAY_OP_ORDER);
	if (pay_gateway_call(gw, PAY_OP_ORDER, &lq, res) || res->cls != PAY_OK) {
		gw_error(err, "lookup", res);
		return 1;
	}
	v = refund_lookup_verdict(res, payload, ref->total_after);
	if (v == REFUND_APPLIED) {
		struct pay_amount c = res->canceled_amount;
		const char *aid = "";
		for (int i = 0; i < res->n_actions; i++)
			if (!strcmp(res->actions[i].type, "CANCEL") &&
			    !strcmp(res->actions[i].payload, payload))
				aid = res->actions[i].aid;
		return refund_confirm(db, ref, aid, &c, now, err);
	}
	if (v != REFUND_NOT_APPLIED) {
		snprintf(err, ERR_MAX, "lookup: cannot decide");
		return 1;
	}
	pay_result_init(res, PAY_OP_CANCEL);
	if (pay_gateway_call(gw, PAY_OP_CANCEL, &q, res) || res->cls != PAY_OK) {
		gw_error(err, "cancel", res);
		return 1;
	}
	return refund_confirm(db, ref, res->aid, &res->canceled_amount, now, err);
}

static int deliver_refund(struct db *db, const struct pay_gateway *gw, const cJSON *payload,
                          int64_t now, char *err)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(payload, "refundId");
	struct pay_result *res = NULL;
	struct refund_rec ref;
	bool locked = false;
	int rc, out = 1;

	if (!cJSON_IsNumber(id) || id->valuedouble < 1) {
		snprintf(err, ERR_MAX, "payload: no refundId");
		return 1;
	}
	rc = store_refund_get(db, (int64_t)id->valuedouble, &ref);
	if (rc) {
		snprintf(err, ERR_MAX, "refund %" PRId64 ": %s", (int64_t)id->valuedouble,
		         err_name(rc));
		return 1;
	}
	if (strcmp(ref.status, "QUEUED") && strcmp(ref.status, "PENDING")) {
		log_info("queued refund already closed", "refund:i", (long long)ref.refund_id,
		         "status:s", ref.status);
		return 0;
	}
	rc = store_refund_lock(db, ref.order_id, 1, &locked);
	if (rc || !locked) {
		snprintf(err, ERR_MAX, "order %" PRId64 " busy (a refund in flight)", ref.order_id);
		return 1;
	}
	/* read again under the lock: the route may have confirmed it meanwhile */
	rc = store_refund_get(db, ref.refund_id, &ref);
	if (rc) {
		snprintf(err, ERR_MAX, "refund: %s", err_name(rc));
	} else if (strcmp(ref.status, "QUEUED") && strcmp(ref.status, "PENDING")) {
		out = 0;
	} else if (!(res = malloc(sizeof(*res)))) {
		snprintf(err, ERR_MAX, "out of memory");
	} else {
		out = refund_locked(db, gw, &ref, res, now, err);
		if (out)
			store_refund_note(db, ref.refund_id, "OUTBOX", err, now);
	}
	if (store_refund_unlock(db, ref.order_id))
		log_warn("refund lock not released", "order:i", (long long)ref.order_id);
	free(res);
	return out;
}

/* ---- SID_INACTIVATE ------------------------------------------------------------------------- */

static int deliver_inactivate(const struct pay_gateway *gw, const cJSON *payload, char *err)
{
	const char *cid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "cid"));
	const char *sid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(payload, "sid"));
	struct pay_request q = {.cid = cid, .sid = sid};
	struct pay_result *res;
	int out = 1;

	if (!cid || !sid) {
		snprintf(err, ERR_MAX, "payload: cid and sid required");
		return 1;
	}
	if (!(res = malloc(sizeof(*res)))) {
		snprintf(err, ERR_MAX, "out of memory");
		return 1;
	}
	pay_result_init(res, PAY_OP_INACTIVE);
	if (pay_gateway_call(gw, PAY_OP_INACTIVE, &q, res) == 0 &&
	    (res->cls == PAY_OK || res->code == -750 || res->code == -751))
		out = 0;
	else
		gw_error(err, "inactive", res);
	free(res);
	return out;
}

/* ---- the pass ------------------------------------------------------------------------------- */

/* 0 done, 1 retry (err set). */
static int deliver(struct db *db, const struct pay_gateway *gw, const struct outbox_event *e,
                   int64_t now, char *err)
{
	cJSON *payload;
	int out;

	if (!strncmp(e->kind, OUTBOX_KIND_NOTIFY_PREFIX, strlen(OUTBOX_KIND_NOTIFY_PREFIX))) {
		/* no notifier exists yet: the event is acknowledged without any call */
		log_info("outbox notification dropped: no notifier", "event:i", (long long)e->id,
		         "kind:s", e->kind);
		return 0;
	}
	payload = cJSON_Parse(e->payload);
	if (!cJSON_IsObject(payload)) {
		cJSON_Delete(payload);
		snprintf(err, ERR_MAX, "payload: not a JSON object");
		return 1;
	}
	if (!strcmp(e->kind, OUTBOX_KIND_REFUND)) {
		out = deliver_refund(db, gw, payload, now, err);
	} else if (!strcmp(e->kind, OUTBOX_KIND_SID_INACTIVATE)) {
		out = deliver_inactivate(gw, payload, err);
	} else {
		snprintf(err, ERR_MAX, "unknown kind");
		out = 1;
	}
	cJSON_Delete(payload);
	return out;
}

int outbox_forward(struct db *db, const struct pay_gateway *gw, int64_t now, size_t max_events,
                   int64_t max_age_s, struct outbox_stats *stats)
{
	struct outbox_stats local = {0};
	struct outbox_event *ev = NULL;
	char err[ERR_MAX];
	size_t n = 0;
	int rc;

	if (!db || !gw)
		return -E_CONFIG;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (max_events > OUTBOX_BATCH_MAX)
		max_events = OUTBOX_BATCH_MAX;
	if (max_age_s <= 0)
		max_age_s = OUTBOX_MAX_AGE_S;
	if (max_events == 0)
		return 0;
	ev = calloc(max_events, sizeof(*ev));
	if (!ev)
		return -E_NOMEM;
	rc = store_outbox_claim(db, now, OUTBOX_LEASE_S, ev, max_events, &n);
	stats->claimed = n;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		err[0] = '\0';
		if (deliver(db, gw, &ev[i], now, err) == 0) {
			rc = store_outbox_done(db, ev[i].id, now);
			stats->done += rc == 0;
		} else if (outbox_expired(ev[i].created_at, now, max_age_s)) {
			log_error("outbox event given up", "event:i", (long long)ev[i].id, "kind:s",
			          ev[i].kind, "tries:i", (long long)ev[i].tries, "error:s", err);
			rc = store_outbox_give_up(db, ev[i].id, err, now);
			stats->failed += rc == 0;
		} else {
			log_warn("outbox delivery failed", "event:i", (long long)ev[i].id, "kind:s",
			         ev[i].kind, "tries:i", (long long)ev[i].tries, "error:s", err);
			rc = store_outbox_retry(db, ev[i].id, now + outbox_backoff_s(ev[i].tries),
			                        err, now);
			stats->retried += rc == 0;
		}
	}
	free(ev);
	return rc;
}
