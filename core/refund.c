/* refund: pure refund rules (see refund.h). */
#include "core/refund.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/banned.h"

int refund_payload(int64_t refund_id, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "ref:%" PRId64, refund_id);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

enum refund_verdict refund_lookup_verdict(const struct pay_result *lookup, const char *payload,
                                          int64_t total_after)
{
	if (!lookup || lookup->cls != PAY_OK)
		return REFUND_UNDECIDED;
	for (int i = 0; i < lookup->n_actions && i < PAY_ACTIONS_MAX; i++) {
		const struct pay_action *a = &lookup->actions[i];
		if (!strcmp(a->type, "CANCEL") && payload && !strcmp(a->payload, payload))
			return REFUND_APPLIED;
	}
	if (lookup->canceled_amount.present && lookup->canceled_amount.total == total_after)
		return REFUND_APPLIED;
	if (lookup->actions_truncated || !lookup->canceled_amount.present)
		return REFUND_UNDECIDED;
	return REFUND_NOT_APPLIED;
}

enum refund_verdict refund_decide(enum pay_class cancel_cls, enum refund_verdict lookup)
{
	if (cancel_cls == PAY_OK || lookup == REFUND_APPLIED)
		return REFUND_APPLIED;
	if (cancel_cls == PAY_NOT_SENT)
		return REFUND_NOT_APPLIED;
	if (cancel_cls == PAY_UNKNOWN)
		return REFUND_UNDECIDED;
	return lookup == REFUND_NOT_APPLIED ? REFUND_NOT_APPLIED : REFUND_UNDECIDED;
}

enum order_status refund_status_after(enum order_status from, int64_t expect_price,
                                      int64_t refunded_after)
{
	enum order_status to;

	if (refunded_after < 1 || refunded_after > expect_price)
		return ORDER_NONE;
	to = refunded_after == expect_price ? ORDER_REFUND : ORDER_PARTIAL_REFUND;
	return order_can_transition(from, to) ? to : ORDER_NONE;
}
