/* billing: the recurring charge shared by the daemon and charge-now (see billing.h). */
#include "core/billing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "core/payment.h"
#include "core/store_billing.h"
#include "common/banned.h"

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

void billing_charge_request(const struct billing_attempt *a, struct pay_request *req)
{
	memset(req, 0, sizeof(*req));
	req->cid = a->cid;
	req->sid = a->sid;
	req->partner_order_id = a->partner_order_id;
	req->partner_user_id = a->partner_user_id;
	req->item_name = a->item_name;
	req->quantity = a->quantity;
	req->total_amount = a->amount;
	req->tax_free_amount = 0;
	req->payload = a->payload;
}

void billing_status_request(const struct billing_attempt *a, struct pay_request *req)
{
	memset(req, 0, sizeof(*req));
	req->cid = a->cid;
	req->sid = a->sid;
}

/* The error code text of API.md §8.1 (retry.lastFailureCode): the gateway's code, or what
 * happened on the wire. */
static void error_code_of(const struct pay_result *res, char *out, size_t n)
{
	if (res->code != 0)
		snprintf(out, n, "%d", res->code);
	else if (!res->sent)
		copy_str(out, n, "NETWORK");
	else if (res->http_status >= 500)
		copy_str(out, n, "HTTP_5XX");
	else if (res->http_status == 0)
		copy_str(out, n, "TIMEOUT");
	else
		snprintf(out, n, "HTTP_%d", res->http_status);
}

void billing_answer_from_result(const struct pay_result *res, enum pay_class cls,
                                struct billing_answer *out)
{
	memset(out, 0, sizeof(*out));
	out->cls = cls;
	out->created_at = res->created_at;
	out->approved_at = res->approved_at;
	if (cls == PAY_OK) {
		copy_str(out->tid, sizeof(out->tid), res->tid);
		copy_str(out->aid, sizeof(out->aid), res->aid);
		copy_str(out->payment_method_type, sizeof(out->payment_method_type),
		         res->payment_method_type);
		out->amount = res->amount;
		return;
	}
	error_code_of(res, out->error_code, sizeof(out->error_code));
	copy_str(out->message, sizeof(out->message),
	         res->method_result_message[0] ? res->method_result_message : res->message);
	copy_str(out->method_result_code, sizeof(out->method_result_code), res->method_result_code);
}

void billing_answer_error(enum pay_class cls, const char *code, const char *message,
                          struct billing_answer *out)
{
	memset(out, 0, sizeof(*out));
	out->cls = cls;
	out->created_at = -1;
	out->approved_at = -1;
	copy_str(out->error_code, sizeof(out->error_code), code);
	copy_str(out->message, sizeof(out->message), message);
}

int billing_decline_needs_probe(const struct pay_result *charge)
{
	return charge->cls == PAY_DECLINED && charge->code == -782;
}

enum billing_probe billing_probe_verdict(const struct pay_result *probe, int64_t claimed_at)
{
	if (probe->cls != PAY_OK)
		return BILLING_PROBE_ERROR;
	if (probe->last_approved_at < 0 || probe->last_approved_at < claimed_at - BILLING_SKEW_S)
		return BILLING_PROBE_NOT_CHARGED;
	return BILLING_PROBE_MAYBE_CHARGED;
}

enum pay_class billing_confirm_decline(const struct pay_result *probe, int64_t claimed_at)
{
	return billing_probe_verdict(probe, claimed_at) == BILLING_PROBE_NOT_CHARGED ? PAY_DECLINED
	                                                                            : PAY_UNKNOWN;
}

int billing_partner_order_id(int64_t subscription_id, int32_t cycle_date, int attempt_no,
                             char *out, size_t outlen)
{
	int y, n;
	unsigned m, d;

	clock_civil_from_days(cycle_date, &y, &m, &d);
	n = snprintf(out, outlen, "S%lld-C%04d%02u%02u-A%d", (long long)subscription_id, y, m, d,
	             attempt_no);
	return n < 0 || (size_t)n >= outlen ? -E_TOO_LONG : 0;
}

char *billing_approval_json(const struct billing_attempt *a, const struct billing_answer *ans,
                            int64_t now)
{
	struct pay_amount amount = ans->amount;

	if (!amount.present)
		amount.total = a->amount;
	return payment_approval_json(a->item_name, a->payload,
	                             ans->created_at >= 0 ? ans->created_at : a->claimed_at,
	                             ans->approved_at >= 0 ? ans->approved_at : now, &amount,
	                             a->quantity);
}

int billing_charge_now(struct db *db, const struct pay_gateway *gw, const struct retry_policy *p,
                       int64_t subscription_id, const char *claimed_by, int64_t now,
                       struct billing_now_result *out)
{
	struct billing_attempt a;
	struct pay_request req;
	struct pay_result *res = NULL, *probe = NULL;
	struct billing_answer ans;
	char *paid = NULL;
	enum pay_class cls;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_billing_claim_now(db, subscription_id, claimed_by, now, &a, &paid);
	if (rc == 1) {
		out->cls = PAY_OK;
		out->approval_json = paid;
		return 0;
	}
	if (rc)
		return rc;
	res = malloc(sizeof(*res));
	probe = malloc(sizeof(*probe));
	if (!res || !probe) {
		/* the attempt stays PENDING and the reconciler settles it (never sent: FAILED) */
		rc = -E_NOMEM;
		goto out;
	}
	billing_charge_request(&a, &req);
	pay_gateway_call(gw, PAY_OP_SUBSCRIPTION, &req, res);
	cls = res->cls;
	if (billing_decline_needs_probe(res)) {
		billing_status_request(&a, &req);
		pay_gateway_call(gw, PAY_OP_STATUS, &req, probe);
		cls = billing_confirm_decline(probe, a.claimed_at);
	}
	billing_answer_from_result(res, cls, &ans);
	struct billing_outcome o = {&a, &ans};
	rc = store_billing_apply(db, p, &o, 1, (int64_t)clock_now(), NULL);
	if (rc)
		goto out;
	out->cls = cls;
	if (cls == PAY_OK) {
		/* the sales at once (the daemon would fold them within a pass otherwise) */
		(void)store_billing_fold_sales(db, NULL);
		rc = store_billing_approval_json(db, a.id, &out->approval_json);
	}
out:
	free(res);
	free(probe);
	return rc;
}
