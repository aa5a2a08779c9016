/* h_subscriptions: subscriptions (API.md §8): the subscription JSON (§8.1, §8.2), the
 * customer's changes (period §8.3, pause §8.4, resume §8.5, skip §8.6) and the cancellation,
 * reachable by DELETE /api/subscriptions?itemOrderId= (§8.7) and POST
 * /api/payments/subscriptions/cancel/{subscriptionOrderId} (§7.8, with Idempotency-Key). */
#include "api/handlers.h"

#include <stdint.h>

#include "api/auth.h"
#include "api/config.h"
#include "api/http.h"
#include "api/idempotency.h"
#include "api/shapes.h"
#include "api/worker.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "core/order.h"
#include "core/retry.h"
#include "core/rules.h"
#include "core/store_subscription.h"
#include "common/banned.h"

/* ---- the subscription JSON (§8.1) ----------------------------------------------------------- */

static int add_obj(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return -E_NOMEM;
	cJSON_AddItemToObject(obj, key, item);
	return 0;
}

static cJSON *retry_json(const struct sub_detail *d, int max_attempts)
{
	cJSON *o = cJSON_CreateObject();
	int bad = 0;

	if (!o)
		return NULL;
	bad |= !cJSON_AddStringToObject(o, "state", retry_state_name(d->retry));
	bad |= json_add_day(o, "failedCycleDate", d->failed_cycle_day, d->has_failed_cycle);
	bad |= json_add_int(o, "attempts", d->retry_attempts);
	bad |= json_add_int(o, "maxAttempts", max_attempts);
	/* the schema keeps next_retry_at set exactly while SCHEDULED */
	bad |= json_add_ts(o, "nextRetryAt", d->retry == RETRY_SCHEDULED ? d->next_retry_at : -1);
	bad |= json_add_ts(o, "lastFailureAt", d->last_failure_at);
	bad |= json_add_string_or_null(o, "lastFailureCode", d->last_failure_code);
	bad |= json_add_string_or_null(o, "lastFailureMessage", d->last_failure_message);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *cycle_json(const struct sub_cycle *c)
{
	cJSON *o = cJSON_CreateObject();
	int bad = 0;

	if (!o)
		return NULL;
	bad |= json_add_day(o, "cycleDate", c->day, true);
	bad |= !cJSON_AddStringToObject(o, "status", c->status);
	bad |= json_add_int(o, "attempts", c->attempts);
	if (c->paid) {
		bad |= json_add_int(o, "amount", c->amount);
		bad |= json_add_int(o, "orderId", c->order_id);
	} else {
		bad |= !cJSON_AddNullToObject(o, "amount");
		bad |= !cJSON_AddNullToObject(o, "orderId");
	}
	bad |= json_add_ts(o, "paidAt", c->paid ? c->paid_at : -1);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *subscription_json(const struct sub_detail *d, int max_attempts)
{
	struct item_brief item = {.item_id = d->item_id,
	                          .enterprise = d->enterprise,
	                          .thumbnail = d->thumbnail,
	                          .product = d->product,
	                          .price = d->price};
	const char *status = sub_status_name((enum sub_status)d->status);
	cJSON *o = cJSON_CreateObject(), *cycles;
	int bad = 0;

	if (!o)
		return NULL;
	bad |= json_add_int(o, "subscriptionOrderId", d->subscription_id);
	bad |= json_add_int(o, "orderId", d->order_id);
	bad |= json_add_int(o, "orderItemId", d->order_item_id);
	bad |= json_add_int(o, "userId", d->user_id);
	bad |= !cJSON_AddStringToObject(o, "orderStatus", status ? status : "");
	bad |= json_add_int(o, "period", d->period);
	bad |= json_add_int(o, "quantity", d->quantity);
	bad |= add_obj(o, "item", shape_item_brief(&item));
	bad |= json_add_int(o, "nextChargeAmount", d->price.real * d->quantity);
	bad |= json_add_day(o, "firstPaymentDate", d->first_day, true);
	bad |= json_add_day(o, "lastPaymentDate", d->last_paid_day, true);
	bad |= json_add_day(o, "nextPaymentDate", d->next_day, d->has_next);
	bad |= add_obj(o, "retry", retry_json(d, max_attempts));
	bad |= add_obj(o, "receiver",
	               shape_receiver(d->real_name, d->phone, d->city, d->detail_address));
	cycles = cJSON_AddArrayToObject(o, "cycles");
	bad |= !cycles;
	for (size_t i = 0; !bad && i < d->ncycles; i++) {
		cJSON *c = cycle_json(&d->cycles[i]);

		if (!c || !cJSON_AddItemToArray(cycles, c)) {
			cJSON_Delete(c);
			bad = 1;
		}
	}
	bad |= json_add_ts(o, "pausedAt", d->paused_at);
	bad |= json_add_ts(o, "canceledAt", d->canceled_at);
	bad |= json_add_ts(o, "createdAt", d->created_at);
	bad |= json_add_ts(o, "updatedAt", d->updated_at);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Answers 200 with the subscription JSON of id, after the owner check of a read (ADMIN may
 * read any subscription). */
static int send_subscription(struct req *r, int64_t id)
{
	struct sub_detail d;
	cJSON *data;
	int rc = store_subscription_get(r->w->db, id, &d);

	if (rc)
		return http_send_error(r, rc, NULL);
	if (!auth_owns(r, d.user_id, true)) {
		sub_detail_release(&d);
		return http_send_error(r, -E_ACCESS_DENIED_USER, NULL);
	}
	data = subscription_json(&d, retry_max_attempts(&r->cfg->retry));
	sub_detail_release(&d);
	if (!data)
		return http_send_error(r, -E_NOMEM, NULL);
	return http_send_data(r, 200, data);
}

/* ---- GET /api/subscriptions/{subscriptionOrderId} ------------------------------------------- */

int h_subscription_get(struct req *r)
{
	struct field_errors fe = {0};
	int64_t id = 0;
	int rc = req_path_id(r, 0, "subscriptionOrderId", &fe, &id);

	if (rc < 0)
		return http_send_field_errors(r, &fe);
	if (rc == 1)
		return http_send_error(r, -E_SUBSCRIPTION_NOT_FOUND, NULL);
	return send_subscription(r, id);
}

/* ---- PATCH /api/subscriptions?period=&itemOrderId= ------------------------------------------ */

int h_subscription_period(struct req *r)
{
	struct field_errors fe = {0};
	time_t now = clock_now();
	int64_t id = 0;
	int32_t period = 0;
	const char *reason;
	int rc;

	/* the parameter table of §8.3, in order */
	req_query_int64(r, "itemOrderId", true, &fe, &id);
	rc = req_query_int(r, "period", true, &fe, &period);
	if (rc == JSON_PRESENT && (reason = rule_period(period)))
		field_errors_add(&fe, E_VALIDATION_FAILED, "period", req_query(r, "period"),
		                 reason);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	rc = id <= 0 ? -E_SUBSCRIPTION_NOT_FOUND
	             : store_subscription_set_period(r->w->db, id, r->auth.uid, period,
	                                             (int64_t)now, clock_local_day(now));
	if (rc)
		return http_send_error(r, rc, NULL);
	log_info("subscription period changed", "subscription:i", (long long)id, "period:i",
	         (long long)period);
	return http_send_empty(r, 204);
}

/* ---- POST /api/subscriptions/{subscriptionOrderId}/pause, /resume, /skip -------------------- */

/* One of pause, resume and skip on the path's subscription, then the subscription JSON. */
static int change(struct req *r, enum sub_op op)
{
	static const char *const done[SUB_OP_COUNT] = {
	    [SUB_OP_PAUSE] = "subscription paused",
	    [SUB_OP_RESUME] = "subscription resumed",
	    [SUB_OP_SKIP] = "subscription cycle skipped",
	};
	struct field_errors fe = {0};
	time_t now = clock_now();
	int32_t today = clock_local_day(now);
	int64_t id = 0;
	int rc = req_path_id(r, 0, "subscriptionOrderId", &fe, &id);

	if (rc < 0)
		return http_send_field_errors(r, &fe);
	if (rc == 1)
		return http_send_error(r, -E_SUBSCRIPTION_NOT_FOUND, NULL);
	switch (op) {
	case SUB_OP_PAUSE:
		rc = store_subscription_pause(r->w->db, id, r->auth.uid, (int64_t)now);
		break;
	case SUB_OP_RESUME:
		rc = store_subscription_resume(r->w->db, id, r->auth.uid, (int64_t)now, today);
		break;
	case SUB_OP_SKIP:
		rc = store_subscription_skip(r->w->db, id, r->auth.uid, (int64_t)now, today);
		break;
	default:
		rc = -E_INTERNAL_ERROR;
		break;
	}
	if (rc)
		return http_send_error(r, rc, NULL);
	log_info(done[op], "subscription:i", (long long)id, "by:i", (long long)r->auth.uid);
	return send_subscription(r, id);
}

int h_subscription_pause(struct req *r)
{
	return change(r, SUB_OP_PAUSE);
}

int h_subscription_resume(struct req *r)
{
	return change(r, SUB_OP_RESUME);
}

int h_subscription_skip(struct req *r)
{
	return change(r, SUB_OP_SKIP);
}

/* ---- cancellation (§8.7, §7.8) -------------------------------------------------------------- */

/* 0 or -E_<X>: the whole cancellation, checks included (404, 403, 409). */
static int cancel(struct req *r, int64_t id)
{
	int rc = store_subscription_cancel_by(r->w->db, id, r->auth.uid, r->auth.admin,
	                                      (int64_t)clock_now());
	if (rc == 0)
		log_info("subscription cancelled", "subscription:i", (long long)id, "by:i",
		         (long long)r->auth.uid);
	return rc;
}

int h_payment_subscription_cancel(struct req *r)
{
	struct idem idem = IDEM_INIT;
	struct field_errors fe = {0};
	int64_t id = 0;
	int rc;

	if (idem_begin(r, &idem))
		return 0;
	rc = req_path_id(r, 0, "subscriptionOrderId", &fe, &id);
	if (rc < 0) {
		idem_send_field_errors(r, &idem, &fe);
		goto out;
	}
	rc = rc == 1 ? -E_SUBSCRIPTION_NOT_FOUND : cancel(r, id);
	if (rc)
		idem_send_error(r, &idem, rc, NULL);
	else
		idem_send_data(r, &idem, 201, cJSON_CreateString("complete"));
out:
	idem_abort(r, &idem);
	return 0;
}

int h_subscription_cancel(struct req *r)
{
	struct field_errors fe = {0};
	int64_t id = 0;
	int rc;

	if (req_query_int64(r, "itemOrderId", true, &fe, &id) < 0)
		return http_send_field_errors(r, &fe);
	rc = id <= 0 ? -E_SUBSCRIPTION_NOT_FOUND : cancel(r, id);
	if (rc)
		return http_send_error(r, rc, NULL);
	return http_send_data(r, 200, cJSON_CreateNull());
}
