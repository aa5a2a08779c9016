/*
 * refund: the pure rules of refunds (API.md §7.5, §2.4; KAKAOPAY.md §1.10, §1.11): the cancel
 * payload, what an order lookup says about one refund, the route's verdict from the cancel's
 * class and that lookup, and the order status after a confirmed refund. No I/O; thread-safe.
 */
#ifndef PV_CORE_REFUND_H
#define PV_CORE_REFUND_H

#include <stddef.h>
#include <stdint.h>

#include "core/gateway.h"
#include "core/order.h"

/* What is known about one refund at the gateway. */
enum refund_verdict {
	REFUND_APPLIED = 0, /* the cancel went through: confirm it */
	REFUND_NOT_APPLIED, /* refused and provably not applied: 502, nothing changes */
	REFUND_UNDECIDED,   /* unknown: reserve the amount and queue it in the outbox */
};

/* "ref:{refundId}". 0, or -1 when out is too small. */
int refund_payload(int64_t refund_id, char *out, size_t outlen);

/*
 * What an order lookup (class OK, else pass NULL) says about the refund with this payload:
 * APPLIED when a CANCEL action carries the payload, or canceled_amount.total equals
 * total_after (the gateway total once this refund is applied); NOT_APPLIED when the lookup
 * answered, lists all its actions and shows neither; UNDECIDED otherwise.
 */
enum refund_verdict refund_lookup_verdict(const struct pay_result *lookup, const char *payload,
                                          int64_t total_after);

/*
 * §7.5 table: a cancel of class OK is APPLIED; otherwise the lookup decides when it shows the
 * refund applied; a refusal (any class but UNKNOWN: an error answer, or never sent) that the
 * lookup shows not applied is NOT_APPLIED (NOT_SENT is NOT_APPLIED whatever the lookup); a
 * timeout, dropped connection or 5xx (UNKNOWN) is UNDECIDED unless the lookup shows it applied.
 */
enum refund_verdict refund_decide(enum pay_class cancel_cls, enum refund_verdict lookup);

/* §2.4: REFUND when refunded_after == expect_price, else PARTIAL_REFUND. ORDER_NONE when
 * from cannot move there (order_can_transition) or the amounts are out of range. */
enum order_status refund_status_after(enum order_status from, int64_t expect_price,
                                      int64_t refunded_after);

#endif
