/* h_payments: Kakao Pay payments (API.md §7.1-7.4, §7.6): ready (with Idempotency-Key, §1.7),
 * the approve, cancel and fail redirects (JSON mode or 302 to the storefront) and the lookup.
 * Every gateway call goes through gw_call: one log line and the payment_gateway_* metrics. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/auth.h"
#include "api/cache.h"
#include "api/config.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/idempotency.h"
#include "api/worker.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "core/billing.h"
#include "core/gateway.h"
#include "core/payment.h"
#include "core/refund.h"
#include "core/rules.h"
#include "core/store_payment.h"
#include "core/store_refund.h"
#include "common/banned.h"

/* How long a duplicate approve waits for the one in flight: the gateway timeout twice (the
 * approve and its lookup) plus a margin. */
#define WAIT_STEP_MS 50

/* ---- gateway calls -------------------------------------------------------------------------- */

/* One call: the result record, one log line (never the key or pg_token; a SID masked), the
 * metrics. Returns pay_gateway_call's result. */
static int gw_call(struct req *r, enum pay_op op, const struct pay_request *q,
                   struct pay_result *res)
{
	int64_t t0 = clock_mono_ms(), ms;
	char labels[128], masked[PAY_ID_MAX];
	int rc;

	pay_result_init(res, op);
	rc = pay_gateway_call(&r->w->gw, op, q, res);
	ms = clock_mono_ms() - t0;
	snprintf(labels, sizeof(labels), "operation=\"%s\",outcome=\"%s\"", pay_op_name(op),
	         rc ? "ERROR" : pay_class_name(res->cls));
	metrics_inc("payment_gateway_requests_total", labels, 1);
	snprintf(labels, sizeof(labels), "operation=\"%s\"", pay_op_name(op));
	metrics_observe("payment_gateway_request_duration_seconds", labels, (double)ms / 1000.0);
	pay_mask_id(q->sid ? q->sid : "", masked, sizeof(masked));
	log_info("kakaopay call", "endpoint:s", pay_op_path(op), "cid:s", q->cid, "tid:s",
	         q->tid ? q->tid : (res->tid[0] ? res->tid : NULL), "sid:s", q->sid ? masked : NULL,
	         "http_status:i", (long long)res->http_status, "code:i", (long long)res->code,
	         "class:s", rc ? "ERROR" : pay_class_name(res->cls), "ms:i", (long long)ms);
	return rc;
}

static int gw_lookup(struct req *r, const struct payment_rec *rec, struct pay_result *res)
{
	struct pay_request q = {.cid = rec->cid, .tid = rec->tid};
	return gw_call(r, PAY_OP_ORDER, &q, res);
}

/* ---- answers -------------------------------------------------------------------------------- */

/* §7.1: JSON mode when Accept contains application/json. */
static bool json_mode(const struct req *r)
{
	const char *a = req_header(r, "Accept");
	return a && strstr(a, "application/json");
}

static bool order_paid(enum order_status s)
{
	return s == ORDER_COMPLETE || s == ORDER_PARTIAL_REFUND || s == ORDER_REFUND;
}

/* 302 to {storefrontUrl}/payment/{page}?orderId={id}[&error={code}]. */
static int redirect(struct req *r, const char *page, int64_t order_id, const char *code)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s/payment/%s?orderId=%" PRId64 "%s%s", r->cfg->storefront_url,
	         page, order_id, code ? "&error=" : "", code ? code : "");
	http_add_header(r, "Location", url);
	return http_send_empty(r, 302);
}

/* An error of a redirect route: the error body in JSON mode, else 302 to the fail page. */
static int redirect_error(struct req *r, bool json, int64_t order_id, const struct field_errors *fe,
                          int rc)
{
	if (json)
		return fe ? http_send_field_errors(r, fe) : http_send_error(r, rc, NULL);
	redirect(r, "fail", order_id, err_code(fe ? -field_errors_code(fe) : rc));
	return rc;
}

/* The approve route's stored answer (replay), or the success redirect. */
static int answer_approved(struct req *r, bool json, int64_t order_id)
{
	char *text = NULL;
	cJSON *data;
	int rc;

	if (!json)
		return redirect(r, "success", order_id, NULL);
	rc = store_payment_approval_result(r->w->db, order_id, &text);
	if (rc)
		return http_send_error(r, rc, NULL);
	data = cJSON_Parse(text);
	free(text);
	if (!data)
		return http_send_error(r, -E_INTERNAL_ERROR, NULL);
	return http_send_data(r, 200, data);
}

/* ---- the approval --------------------------------------------------------------------------- */

/* The data of the JSON-mode approve answer (§7.3), as stored JSON text (caller frees). */
static char *approval_json(const struct payment_rec *rec, const struct pay_result *res,
                           int64_t created_at, int64_t approved_at)
{
	char payload[PAY_PAYLOAD_MAX];

	payment_payload(rec->payment_id, payload, sizeof(payload));
	return payment_approval_json(res->item_name[0] ? res->item_name : rec->item_name,
	                             res->payload[0] ? res->payload : payload, created_at,
	                             approved_at, &res->amount,
	                             res->quantity >= 0 ? res->quantity : rec->quantity);
}

/*
 * §7.3 step 5 from an approve answer (from_lookup false) or an order lookup showing
 * SUCCESS_PAYMENT. 0 when the order is now paid (by this call or meanwhile), or the error.
 */
static int finish(struct req *r, const struct payment_rec *rec, const struct pay_result *res,
                  bool from_lookup)
{
	int64_t now = (int64_t)clock_now();
	int64_t approved_at = res->approved_at >= 0 ? res->approved_at : now;
	int64_t created_at = res->created_at;
	struct payment_approval a = {0};
	struct pay_order o;
	char *json;
	int rc;

	json = approval_json(rec, res, created_at, approved_at);
	if (!json)
		return -E_NOMEM;
	a.rec = rec;
	a.aid = from_lookup ? payment_action_aid(res) : res->aid;
	a.sid = res->sid;
	a.payment_method_type = res->payment_method_type;
	a.amount = res->amount;
	a.approved_at = approved_at;
	a.result_json = json;
	rc = store_payment_complete(r->w->db, &a, now, clock_local_day((time_t)now));
	free(json);
	if (rc == 0) {
		cache_main_invalidate(r->w->redis);
		log_info("payment approved", "order:i", (long long)rec->order_id, "payment:i",
		         (long long)rec->payment_id, "tid:s", rec->tid, "amount:i",
		         (long long)res->amount.total);
		return 0;
	}
	if (rc == -E_ORDER_NOT_PAYABLE && store_payment_order(r->w->db, rec->order_id, &o) == 0 &&
	    order_paid(o.status))
		return 0;
	if (rc == -E_PAYMENT_GATEWAY_TIMEOUT)
		log_warn("payment paid without a SID: left APPROVING for the reconciler", "order:i",
		         (long long)rec->order_id, "payment:i", (long long)rec->payment_id);
	return rc;
}

/* The error code text of a call for last_error_code. */
static void error_code_text(const struct pay_result *res, char *out, size_t n)
{
	if (res->code)
		snprintf(out, n, "%d", res->code);
	else if (res->http_status == 0)
		snprintf(out, n, "TIMEOUT");
	else if (res->http_status >= 500)
		snprintf(out, n, "HTTP_5XX");
	else
		snprintf(out, n, "HTTP_%d", res->http_status);
}

/*
 * §7.3 steps 4-6 on a record this request claimed (APPROVING): approve, then on anything but
 * OK a lookup by tid. 0 when the order is paid, or the error to answer. The record ends
 * APPROVED, FAILED/EXPIRED (proved unpaid: 502), or back to READY (still open: 504).
 */
static int approve_claimed(struct req *r, const struct payment_rec *rec, const char *pg_token)
{
	char payload[PAY_PAYLOAD_MAX], code[32] = "";
	struct pay_result *res = NULL, *look = NULL;
	struct pay_request q = {0};
	bool changed = false;
	int rc;

	res = malloc(sizeof(*res));
	look = malloc(sizeof(*look));
	if (!res || !look) {
		rc = -E_NOMEM;
		goto release;
	}
	payment_payload(rec->payment_id, payload, sizeof(payload));
	q.cid = rec->cid;
	q.tid = rec->tid;
	q.partner_order_id = rec->partner_order_id;
	q.partner_user_id = rec->partner_user_id;
	q.pg_token = pg_token;
	q.total_amount = rec->amount;
	q.payload = payload;
	rc = gw_call(r, PAY_OP_APPROVE, &q, res);
	if (rc)
		goto release;
	if (res->cls == PAY_OK && res->amount.total == rec->amount) {
		rc = finish(r, rec, res, false);
		goto out;
	}
	error_code_text(res, code, sizeof(code));
	/* step 6: look the payment up */
	rc = gw_lookup(r, rec, look);
	if (rc || look->cls != PAY_OK) {
		rc = -E_PAYMENT_GATEWAY_TIMEOUT;
		goto release;
	}
	switch (payment_lookup_read(look->status)) {
	case PAYMENT_LOOKUP_PAID:
		if (look->amount.total != rec->amount) {
			rc = -E_PAYMENT_GATEWAY_ERROR;
			goto release;
		}
		if (res->sid[0] && !look->sid[0])
			memcpy(look->sid, res->sid, sizeof(look->sid));
		rc = finish(r, rec, look, true);
		goto out;
	case PAYMENT_LOOKUP_NOT_PAID:
	case PAYMENT_LOOKUP_REFUNDED:
		rc = store_payment_move(r->w->db, rec->payment_id, PAYMENT_APPROVING,
		                        res->code == -723 ? PAYMENT_EXPIRED : PAYMENT_FAILED, code,
		                        res->message, (int64_t)clock_now(), &changed);
		rc = rc ? rc : -E_PAYMENT_GATEWAY_ERROR;
		goto out;
	default:
		rc = -E_PAYMENT_GATEWAY_TIMEOUT;
		goto release;
	}
release:
	/* the outcome is still open: a repeated redirect (or the reconciler) finishes it */
	if (store_payment_move(r->w->db, rec->payment_id, PAYMENT_APPROVING, PAYMENT_READY,
	                       code[0] ? code : NULL, NULL, (int64_t)clock_now(), &changed))
		log_warn("payment left APPROVING", "payment:i", (long long)rec->payment_id);
out:
	free(res);
	free(look);
	return rc;
}

/*
 * Another request holds the record (APPROVING): wait for its outcome, so duplicates get the
 * same answer without a second gateway call. 0 when the order got paid, else the error.
 */
static int wait_outcome(struct req *r, int64_t order_id, int64_t payment_id)
{
	int64_t deadline = clock_mono_ms() + 2 * r->cfg->kakaopay.timeout_ms + 2000;
	struct timespec ts = {0, WAIT_STEP_MS * 1000000L};
	struct payment_rec rec;
	struct pay_order o;
	int rc;

	for (;;) {
		rc = store_payment_order(r->w->db, order_id, &o);
		if (rc)
			return rc;
		if (order_paid(o.status))
			return 0;
		rc = store_payment_get(r->w->db, payment_id, &rec);
		if (rc)
			return rc;
		if (rec.state == PAYMENT_FAILED || rec.state == PAYMENT_EXPIRED)
			return -E_PAYMENT_GATEWAY_ERROR;
		if (rec.state == PAYMENT_CANCELED || o.status == ORDER_CANCELED)
			return -E_ORDER_NOT_PAYABLE;
		if (rec.state != PAYMENT_APPROVING || clock_mono_ms() > deadline)
			return -E_PAYMENT_GATEWAY_TIMEOUT;
		nanosleep(&ts, NULL);
	}
}

/* ---- POST /api/payments/{orderId} ----------------------------------------------------------- */

static cJSON *ready_json(const struct pay_result *res, int64_t now)
{
	cJSON *d = cJSON_CreateObject();
	int bad = 0;

	if (!d)
		return NULL;
	bad |= !cJSON_AddStringToObject(d, "tid", res->tid);
	bad |= !cJSON_AddStringToObject(d, "next_redirect_pc_url", res->next_redirect_pc_url);
	bad |=
	    !cJSON_AddStringToObject(d, "next_redirect_mobile_url", res->next_redirect_mobile_url);
	bad |= json_add_ts(d, "createdAt", res->created_at >= 0 ? res->created_at : now);
	if (bad) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

int h_payment_ready(struct req *r)
{
	char item_name[PAY_TEXT_MAX], approval[512], cancel[512], fail[512], code[32];
	struct idem idem = IDEM_INIT;
	struct field_errors fe = {0};
	struct pay_result *res = NULL;
	struct payment_rec rec;
	struct pay_order o;
	int64_t order_id = 0, now;
	bool changed = false;
	cJSON *data;
	int rc;

	if (idem_begin(r, &idem))
		return 0;
	rc = req_path_id(r, 0, "orderId", &fe, &order_id);
	if (rc < 0) {
		idem_send_field_errors(r, &idem, &fe);
		goto out;
	}
	rc = rc == 1 ? -E_ORDER_NOT_FOUND : store_payment_order(r->w->db, order_id, &o);
	if (rc == 0 && !auth_owns(r, o.user_id, false))
		rc = -E_ACCESS_DENIED_USER;
	if (rc == 0 && o.status != ORDER_REQUEST)
		rc = -E_ORDER_NOT_PAYABLE;
	if (rc == 0 &&
	    payment_item_name(o.first_product, (size_t)o.nlines, item_name, sizeof(item_name)))
		rc = -E_INTERNAL_ERROR;
	now = (int64_t)clock_now();
	if (rc == 0)
		rc = store_payment_create(
		    r->w->db, &o, o.subscription ? r->cfg->cid_subscription : r->cfg->cid_onetime,
		    item_name, now, &rec);
	if (rc == 0 && !(res = malloc(sizeof(*res))))
		rc = -E_NOMEM;
	if (rc) {
		idem_send_error(r, &idem, rc, NULL);
		goto out;
	}
	snprintf(approval, sizeof(approval), "%s/api/payments/approve/%" PRId64,
	         r->cfg->public_base_url, order_id);
	snprintf(cancel, sizeof(cancel), "%s/api/payments/cancel/%" PRId64 "/%s",
	         r->cfg->public_base_url, order_id, rec.payment_key);
	snprintf(fail, sizeof(fail), "%s/api/payments/fail/%" PRId64 "/%s", r->cfg->public_base_url,
	         order_id, rec.payment_key);
	struct pay_request q = {.cid = rec.cid,
	                        .partner_order_id = rec.partner_order_id,
	                        .partner_user_id = rec.partner_user_id,
	                        .item_name = rec.item_name,
	                        .quantity = rec.quantity,
	                        .total_amount = rec.amount,
	                        .tax_free_amount = 0,
	                        .approval_url = approval,
	                        .cancel_url = cancel,
	                        .fail_url = fail};
	rc = gw_call(r, PAY_OP_READY, &q, res);
	if (rc == 0 && res->cls != PAY_OK)
		rc = payment_gateway_error(res->cls, res->http_status);
	now = (int64_t)clock_now();
	if (rc) {
		error_code_text(res, code, sizeof(code));
		if (store_payment_move(r->w->db, rec.payment_id, PAYMENT_CREATED, PAYMENT_FAILED,
		                       code, res->message, now, &changed))
			log_warn("payment record left CREATED", "payment:i",
			         (long long)rec.payment_id);
		idem_send_error(r, &idem, rc, NULL);
		goto out;
	}
	rc = store_payment_ready(r->w->db, rec.payment_id, res, now, &changed);
	if (rc) {
		idem_send_error(r, &idem, rc, NULL);
		goto out;
	}
	if (!changed)
		log_warn("payment superseded during its ready", "payment:i",
		         (long long)rec.payment_id);
	data = ready_json(res, now);
	if (!data) {
		rc = -E_NOMEM;
		idem_send_error(r, &idem, rc, NULL);
		goto out;
	}
	rc = idem_send_data(r, &idem, 201, data);
out:
	idem_abort(r, &idem);
	free(res);
	return rc;
}

/* ---- GET /api/payments/approve/{orderId}?pg_token= ------------------------------------------ */

int h_payment_approve(struct req *r)
{
	struct field_errors fe = {0};
	bool json = json_mode(r), claimed = false;
	struct payment_rec rec;
	struct pay_order o;
	int64_t order_id = 0;
	const char *token;
	int rc;

	rc = req_path_id(r, 0, "orderId", &fe, &order_id);
	if (rc < 0)
		return redirect_error(r, json, order_id, &fe, rc);
	rc = rc == 1 ? -E_ORDER_NOT_FOUND : store_payment_order(r->w->db, order_id, &o);
	if (rc)
		return redirect_error(r, json, order_id, NULL, rc);
	token = req_query(r, "pg_token");
	if (!token || !*token) {
		field_errors_add(&fe, E_VALIDATION_FAILED, "pg_token", token, REASON_REQUIRED);
		return redirect_error(r, json, order_id, &fe, -E_VALIDATION_FAILED);
	}
	if (order_paid(o.status))
		return answer_approved(r, json, order_id);
	if (o.status == ORDER_CANCELED)
		return redirect_error(r, json, order_id, NULL, -E_ORDER_NOT_PAYABLE);
	rc = store_payment_current(r->w->db, order_id, &rec);
	if (rc)
		return redirect_error(r, json, order_id, NULL, rc);
	if (rec.state == PAYMENT_READY) {
		rc = store_payment_move(r->w->db, rec.payment_id, PAYMENT_READY, PAYMENT_APPROVING,
		                        NULL, NULL, (int64_t)clock_now(), &claimed);
		if (rc)
			return redirect_error(r, json, order_id, NULL, rc);
	}
	rc = claimed ? approve_claimed(r, &rec, token) : wait_outcome(r, order_id, rec.payment_id);
	if (rc)
		return redirect_error(r, json, order_id, NULL, rc);
	return answer_approved(r, json, order_id);
}

/* ---- GET /api/payments/cancel|fail/{orderId}/{paymentKey} ----------------------------------- */

/* §7.4 on the newest READY record of a REQUEST order: look the tid up and act on it. */
static void settle_redirect(struct req *r, const struct payment_rec *rec, bool cancel)
{
	struct pay_result *look = malloc(sizeof(*look));
	int64_t now = (int64_t)clock_now();
	bool changed = false;
	int rc;

	if (!look)
		return;
	if (gw_lookup(r, rec, look) || look->cls != PAY_OK)
		goto out;
	switch (payment_lookup_read(look->status)) {
	case PAYMENT_LOOKUP_PAID:
		if (look->amount.total != rec->amount)
			break;
		rc = store_payment_move(r->w->db, rec->payment_id, PAYMENT_READY, PAYMENT_APPROVING,
		                        NULL, NULL, now, &changed);
		if (rc || !changed)
			break;
		if (finish(r, rec, look, true) &&
		    store_payment_move(r->w->db, rec->payment_id, PAYMENT_APPROVING, PAYMENT_READY,
		                       NULL, NULL, now, &changed))
			log_warn("payment left APPROVING", "payment:i", (long long)rec->payment_id);
		break;
	case PAYMENT_LOOKUP_NOT_PAID:
	case PAYMENT_LOOKUP_IN_PROGRESS:
		if (cancel)
			rc = store_payment_cancel_order(r->w->db, rec->payment_id, rec->order_id,
			                                now, &changed);
		else
			rc = store_payment_move(r->w->db, rec->payment_id, PAYMENT_READY,
			                        PAYMENT_FAILED, look->status, NULL, now, &changed);
		if (rc)
			log_warn("payment redirect not recorded", "payment:i",
			         (long long)rec->payment_id, "error:s", err_code(rc));
		break;
	default:
		break;
	}
out:
	free(look);
}

static int cancel_or_fail(struct req *r, bool cancel)
{
	struct field_errors fe = {0};
	bool json = json_mode(r), newest = false;
	struct payment_rec rec;
	struct pay_order o;
	int64_t order_id = 0;
	cJSON *d;
	int rc;

	rc = req_path_id(r, 0, "orderId", &fe, &order_id);
	if (rc < 0)
		return redirect_error(r, json, order_id, &fe, rc);
	rc = rc == 1 ? -E_ORDER_NOT_FOUND : store_payment_order(r->w->db, order_id, &o);
	if (rc == 0)
		rc = store_payment_by_key(r->w->db, order_id, r->params[1], &rec, &newest);
	if (rc)
		return redirect_error(r, json, order_id, NULL, rc);
	if (o.status == ORDER_REQUEST && rec.state == PAYMENT_READY && newest) {
		settle_redirect(r, &rec, cancel);
		rc = store_payment_order(r->w->db, order_id, &o);
		if (rc)
			return redirect_error(r, json, order_id, NULL, rc);
	}
	if (!json) {
		if (order_paid(o.status))
			return redirect(r, "success", order_id, NULL);
		return redirect(r, cancel ? "cancel" : "fail", order_id, NULL);
	}
	d = cJSON_CreateObject();
	if (!d || json_add_int(d, "orderId", order_id) ||
	    !cJSON_AddStringToObject(d, "orderStatus", order_status_name(o.status))) {
		cJSON_Delete(d);
		return http_send_error(r, -E_NOMEM, NULL);
	}
	return http_send_data(r, 200, d);
}

int h_payment_cancel(struct req *r)
{
	return cancel_or_fail(r, true);
}

int h_payment_fail(struct req *r)
{
	return cancel_or_fail(r, false);
}

/* ---- GET /api/payments/lookup/{orderId} ----------------------------------------------------- */

/* {total, taxFree, vat, point, discount, green_deposit}, or null when absent. */
static int add_amount(cJSON *d, const char *key, const struct pay_amount *a)
{
	cJSON *o;
	int bad = 0;

	if (!a->present)
		return !cJSON_AddNullToObject(d, key);
	o = cJSON_AddObjectToObject(d, key);
	if (!o)
		return 1;
	bad |= json_add_int(o, "total", a->total);
	bad |= json_add_int(o, "taxFree", a->tax_free);
	bad |= json_add_int(o, "vat", a->vat);
	bad |= json_add_int(o, "point", a->point);
	bad |= json_add_int(o, "discount", a->discount);
	bad |= json_add_int(o, "green_deposit", a->green_deposit);
	return bad;
}

static cJSON *lookup_json(const struct pay_result *res)
{
	cJSON *d = cJSON_CreateObject(), *list;
	int bad = 0;

	if (!d)
		return NULL;
	bad |= !cJSON_AddStringToObject(d, "tid", res->tid);
	bad |= !cJSON_AddStringToObject(d, "cid", res->cid);
	bad |= !cJSON_AddStringToObject(d, "status", res->status);
	bad |= !cJSON_AddStringToObject(d, "partner_order_id", res->partner_order_id);
	bad |= !cJSON_AddStringToObject(d, "partner_user_id", res->partner_user_id);
	bad |=
	    json_add_string_or_null(d, "payment_method_type",
	                            res->payment_method_type[0] ? res->payment_method_type : NULL);
	bad |= !cJSON_AddStringToObject(d, "item_name", res->item_name);
	bad |= json_add_int(d, "quantity", res->quantity >= 0 ? res->quantity : 0);
	bad |= add_amount(d, "approvedCancelAmount", &res->approved_cancel_amount);
	bad |= add_amount(d, "canceledAmount", &res->canceled_amount);
	bad |= add_amount(d, "cancelAvailableAmount", &res->cancel_available_amount);
	bad |= json_add_ts(d, "created_at", res->created_at);
	bad |= json_add_ts(d, "approved_at", res->approved_at);
	list = cJSON_AddArrayToObject(d, "payment_action_details");
	bad |= !list;
	for (int i = 0; list && i < res->n_actions; i++) {
		const struct pay_action *a = &res->actions[i];
		cJSON *e = cJSON_CreateObject();

		if (!e || !cJSON_AddItemToArray(list, e)) {
			cJSON_Delete(e);
			bad = 1;
			break;
		}
		bad |= !cJSON_AddStringToObject(e, "aid", a->aid);
		bad |= !cJSON_AddStringToObject(e, "payment_action_type", a->type);
		bad |= json_add_string_or_null(
		    e, "payment_method_type",
		    res->payment_method_type[0] ? res->payment_method_type : NULL);
		bad |= json_add_int(e, "amount", a->amount);
		bad |= json_add_int(e, "point_amount", 0);
		bad |= json_add_int(e, "discount_amount", 0);
		bad |= json_add_ts(e, "approved_at", a->approved_at);
		bad |= json_add_int(e, "green_deposit", 0);
	}
	if (bad) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

int h_payment_lookup(struct req *r)
{
	struct field_errors fe = {0};
	struct pay_result *res = NULL;
	struct payment_rec rec;
	struct pay_order o;
	int64_t order_id = 0;
	cJSON *data;
	int rc;

	rc = req_path_id(r, 0, "orderId", &fe, &order_id);
	if (rc < 0)
		return http_send_field_errors(r, &fe);
	rc = rc == 1 ? -E_ORDER_NOT_FOUND : store_payment_order(r->w->db, order_id, &o);
	if (rc == 0 && !auth_owns(r, o.user_id, false))
		rc = -E_ACCESS_DENIED_USER;
	if (rc == 0)
		rc = store_payment_for_lookup(r->w->db, order_id, &rec);
	if (rc == 0 && !(res = malloc(sizeof(*res))))
		rc = -E_NOMEM;
	if (rc == 0)
		rc = gw_lookup(r, &rec, res);
	if (rc == 0 && res->cls != PAY_OK)
		rc = payment_gateway_error(res->cls, res->http_status);
	if (rc == 0 && !(data = lookup_json(res)))
		rc = -E_NOMEM;
	free(res);
	if (rc)
		return http_send_error(r, rc, NULL);
	return http_send_data(r, 200, data);
}

/* ---- POST /api/payments/refund/{orderId} ---------------------------------------------------- */

#define REFUND_REASON_TAX_FREE "환불 금액 이하여야 합니다"
/* A queued refund's first outbox attempt (the back-off's first step). */
#define REFUND_QUEUE_DELAY_S 60

/* §7.5 field table, in order; cancelAvailableAmount is accepted and ignored (type-checked
 * only when present). */
static void refund_fields(struct req *r, struct field_errors *fe, int64_t *amount,
                          int64_t *tax_free)
{
	char text[32];
	int64_t ignored;
	int rc;

	rc = json_get_int64(r->json, "cancelAmount", fe, amount);
	if (rc == JSON_ABSENT) {
		field_errors_add(fe, E_VALIDATION_FAILED, "cancelAmount", "", REASON_REQUIRED);
	} else if (rc == JSON_PRESENT && *amount < 1) {
		snprintf(text, sizeof(text), "%" PRId64, *amount);
		field_errors_add(fe, E_VALIDATION_FAILED, "cancelAmount", text, rule_min_reason(1));
	}
	*tax_free = 0;
	rc = json_get_int64(r->json, "cancelTaxFreeAmount", fe, tax_free);
	if (rc == JSON_PRESENT) {
		snprintf(text, sizeof(text), "%" PRId64, *tax_free);
		if (*tax_free < 0)
			field_errors_add(fe, E_VALIDATION_FAILED, "cancelTaxFreeAmount", text,
			                 rule_min_reason(0));
		else if (*amount >= 1 && *tax_free > *amount)
			field_errors_add(fe, E_VALIDATION_FAILED, "cancelTaxFreeAmount", text,
			                 REFUND_REASON_TAX_FREE);
	} else {
		*tax_free = 0;
	}
	json_get_int64(r->json, "cancelAvailableAmount", fe, &ignored);
}

/* The cancel of a PENDING refund, then on anything but OK a lookup by tid (§7.5). */
static enum refund_verdict refund_call(struct req *r, const struct refund_rec *ref,
                                       struct pay_result *res, struct pay_result *look, char *code,
                                       size_t code_len)
{
	char payload[PAY_PAYLOAD_MAX];
	enum refund_verdict lv = REFUND_UNDECIDED;
	struct pay_request q = {.cid = ref->cid,
	                        .tid = ref->tid,
	                        .cancel_amount = ref->amount,
	                        .cancel_tax_free_amount = ref->tax_free_amount,
	                        .cancel_available_amount = ref->cancel_available,
	                        .payload = payload};
	struct pay_request lq = {.cid = ref->cid, .tid = ref->tid};

	refund_payload(ref->refund_id, payload, sizeof(payload));
	if (gw_call(r, PAY_OP_CANCEL, &q, res))
		res->cls = PAY_NOT_SENT;
	if (res->cls == PAY_OK)
		return REFUND_APPLIED;
	error_code_text(res, code, code_len);
	if (res->cls != PAY_NOT_SENT && gw_call(r, PAY_OP_ORDER, &lq, look) == 0)
		lv = refund_lookup_verdict(look, payload, ref->total_after);
	return refund_decide(res->cls, lv);
}

int h_payment_refund(struct req *r)
{
	struct idem idem = IDEM_INIT;
	struct field_errors fe = {0};
	struct pay_result *res = NULL, *look = NULL;
	struct refund_rec ref;
	struct pay_order o;
	int64_t order_id = 0, amount = 0, tax_free = 0, now, total;
	enum refund_verdict v;
	bool locked = false, changed = false;
	char code[32] = "";
	const char *aid;
	int rc, idrc;

	if (idem_begin(r, &idem))
		return 0;
	idrc = req_path_id(r, 0, "orderId", &fe, &order_id);
	refund_fields(r, &fe, &amount, &tax_free);
	if (idrc < 0 || fe.n) {
		rc = -field_errors_code(&fe);
		idem_send_field_errors(r, &idem, &fe);
		goto out;
	}
	rc = idrc == 1 ? -E_ORDER_NOT_FOUND : store_payment_order(r->w->db, order_id, &o);
	if (rc == 0 && !auth_owns(r, o.user_id, true))
		rc = -E_ACCESS_DENIED_USER;
	if (rc == 0 && o.status != ORDER_COMPLETE && o.status != ORDER_PARTIAL_REFUND)
		rc = -E_ORDER_NOT_REFUNDABLE;
	/* refunds of one order run one at a time: the gateway sees them in ledger order */
	if (rc == 0)
		rc = store_refund_lock(r->w->db, order_id, 60, &locked);
	if (rc == 0 && !locked)
		rc = -E_SERVICE_UNAVAILABLE;
	now = (int64_t)clock_now();
	if (rc == 0)
		rc = store_refund_begin(r->w->db, order_id, amount, tax_free, r->auth.uid, now,
		                        &ref);
	if (rc == 0 && (!(res = malloc(sizeof(*res))) || !(look = malloc(sizeof(*look)))))
		rc = -E_NOMEM;
	if (rc) {
		idem_send_error(r, &idem, rc, NULL);
		goto out;
	}
	pay_result_init(look, PAY_OP_ORDER);
	v = refund_call(r, &ref, res, look, code, sizeof(code));
	now = (int64_t)clock_now();
	if (v == REFUND_APPLIED) {
		aid = res->cls == PAY_OK ? res->aid : "";
		total = res->cls == PAY_OK
		            ? (res->canceled_amount.present ? res->canceled_amount.total : -1)
		            : (look->canceled_amount.present ? look->canceled_amount.total : -1);
		rc = store_refund_confirm(r->w->db, ref.refund_id, aid, total, now, &changed);
		if (rc == 0) {
			log_info("refund confirmed", "order:i", (long long)order_id, "refund:i",
			         (long long)ref.refund_id, "amount:i", (long long)amount);
			rc = idem_send_data(r, &idem, 201, cJSON_CreateString("complete"));
		} else {
			/* applied at the gateway but not recorded: queue it, the outbox confirms */
			log_error("refund applied but not confirmed", "refund:i",
			          (long long)ref.refund_id);
			v = REFUND_UNDECIDED;
		}
	}
	if (v == REFUND_NOT_APPLIED) {
		if (store_refund_fail(r->w->db, ref.refund_id, code, res->message, now))
			log_warn("refund left PENDING", "refund:i", (long long)ref.refund_id);
		rc = -E_REFUND_FAILED;
		idem_send_error(r, &idem, rc, NULL);
	} else if (v == REFUND_UNDECIDED) {
		rc = store_refund_queue(r->w->db, ref.refund_id, code[0] ? code : "UNCONFIRMED",
		                        res->message, now, REFUND_QUEUE_DELAY_S);
		if (rc) {
			log_error("refund left PENDING: not queued", "refund:i",
			          (long long)ref.refund_id);
			idem_send_error(r, &idem, -E_PAYMENT_GATEWAY_TIMEOUT, NULL);
		} else {
			log_warn("refund queued", "order:i", (long long)order_id, "refund:i",
			         (long long)ref.refund_id, "code:s", code);
			rc = idem_send_data(r, &idem, 202, cJSON_CreateString("queued"));
		}
	}
out:
	if (locked && store_refund_unlock(r->w->db, order_id))
		log_warn("refund lock not released", "order:i", (long long)order_id);
	idem_abort(r, &idem);
	free(res);
	free(look);
	return rc;
}

/* ---- POST /api/payments/approve/subscriptions/{subscriptionOrderId} (charge now, §7.7) ------ */

/* The worker's gateway seen through gw_call, so charge-now's calls are logged and counted like
 * every other Kakao Pay call of the API. ctx is the request. */
static int logged_subscription(void *ctx, const struct pay_request *q, struct pay_result *res)
{
	return gw_call(ctx, PAY_OP_SUBSCRIPTION, q, res);
}

static int logged_status(void *ctx, const struct pay_request *q, struct pay_result *res)
{
	return gw_call(ctx, PAY_OP_STATUS, q, res);
}

/* The §7.7 error of a charge that did not succeed. */
static int charge_now_error(enum pay_class cls)
{
	switch (cls) {
	case PAY_DECLINED:
	case PAY_SID_DEAD:
	case PAY_LIMIT:
		return -E_SUBSCRIPTION_PAYMENT_FAILED;
	case PAY_UNKNOWN:
	case PAY_VERIFY:
		return -E_PAYMENT_GATEWAY_TIMEOUT;
	default:
		return -E_PAYMENT_GATEWAY_ERROR;
	}
}

int h_payment_charge_now(struct req *r)
{
	struct idem idem = IDEM_INIT;
	struct field_errors fe = {0};
	struct billing_now_result out = {0};
	struct pay_gateway gw = {.ctx = r,
	                         .subscription = logged_subscription,
	                         .status = logged_status};
	char by[96];
	int64_t id = 0;
	cJSON *data = NULL;
	int rc;

	if (idem_begin(r, &idem))
		return 0;
	rc = req_path_id(r, 0, "subscriptionOrderId", &fe, &id);
	if (rc < 0) {
		idem_send_field_errors(r, &idem, &fe);
		goto out;
	}
	snprintf(by, sizeof(by), "api:%d:admin:%" PRId64, (int)getpid(), r->auth.uid);
	rc = rc == 1 ? -E_SUBSCRIPTION_NOT_FOUND
	             : billing_charge_now(r->w->db, &gw, &r->cfg->retry, id, by,
	                                  (int64_t)clock_now(), &out);
	if (rc == 0 && out.cls != PAY_OK)
		rc = charge_now_error(out.cls);
	if (rc == 0 && !(data = cJSON_Parse(out.approval_json ? out.approval_json : "")))
		rc = -E_INTERNAL_ERROR;
	log_info("charge now", "subscription:i", (long long)id, "by:i", (long long)r->auth.uid,
	         "class:s", rc && rc != charge_now_error(out.cls) ? "ERROR" : pay_class_name(out.cls));
	if (rc)
		idem_send_error(r, &idem, rc, NULL);
	else
		rc = idem_send_data(r, &idem, 200, data);
out:
	idem_abort(r, &idem);
	free(out.approval_json);
	return rc;
}
