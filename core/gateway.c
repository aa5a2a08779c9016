/* gateway: the result record and the dispatch over struct pay_gateway. */
#include "core/gateway.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/banned.h"

void pay_result_init(struct pay_result *res, enum pay_op op)
{
	memset(res, 0, sizeof(*res));
	res->op = op;
	res->cls = PAY_UNKNOWN;
	res->sent = true;
	res->quantity = -1;
	res->available = -1;
	res->created_at = -1;
	res->approved_at = -1;
	res->canceled_at = -1;
	res->last_approved_at = -1;
	res->inactivated_at = -1;
}

int pay_gateway_call(const struct pay_gateway *gw, enum pay_op op, const struct pay_request *req,
                     struct pay_result *res)
{
	pay_gateway_fn fn = NULL;

	if (gw == NULL || req == NULL || res == NULL)
		return -E_CONFIG;
	switch (op) {
	case PAY_OP_READY:
		fn = gw->ready;
		break;
	case PAY_OP_APPROVE:
		fn = gw->approve;
		break;
	case PAY_OP_SUBSCRIPTION:
		fn = gw->subscription;
		break;
	case PAY_OP_INACTIVE:
		fn = gw->inactive;
		break;
	case PAY_OP_STATUS:
		fn = gw->status;
		break;
	case PAY_OP_ORDER:
		fn = gw->order;
		break;
	case PAY_OP_CANCEL:
		fn = gw->cancel;
		break;
	default:
		break;
	}
	if (fn == NULL)
		return -E_CONFIG;
	return fn(gw->ctx, req, res);
}

void pay_mask_id(const char *id, char *out, size_t outlen)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (outlen == 0)
		return;
	if (n < 12) {
		snprintf(out, outlen, "…");
		return;
	}
	snprintf(out, outlen, "%.4s…%s", id, id + n - 4);
}
