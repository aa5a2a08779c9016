/*
 * store_refund: all SQL of refunds (API.md §7.5) and of their outbox delivery (§7.9): the
 * per-order refund lock, the PENDING row written before the gateway call (the amount reserved
 * under the locked order row), and its end: CONFIRMED with the order's refunded_amount and
 * status in one transaction, FAILED, or QUEUED with a REFUND event in api_event.
 *
 * Reserved amount = refunds in PENDING, CONFIRMED, QUEUED or FLAGGED. Not thread-safe: a
 * struct db belongs to one thread.
 */
#ifndef PV_CORE_STORE_REFUND_H
#define PV_CORE_STORE_REFUND_H

#include <stdbool.h>
#include <stdint.h>

#include "core/gateway.h"

struct db;

struct refund_rec {
	int64_t refund_id;
	int64_t order_id;
	int64_t payment_id;
	int64_t amount;
	int64_t tax_free_amount;
	int64_t cancel_available; /* expect_price - every other reserved refund of the order */
	int64_t expect_price;
	int64_t total_after; /* expect_price - cancel_available + amount */
	char status[16];
	char cid[PAY_ID_MAX];
	char tid[PAY_ID_MAX];
};

/*
 * Serializes the refunds of one order across API instances and the outbox forwarder (a
 * MariaDB named lock held by this connection across the gateway call). *got = false when
 * it was still held by another after wait_s seconds. store_refund_unlock releases it.
 */
int store_refund_lock(struct db *db, int64_t order_id, int wait_s, bool *got);
int store_refund_unlock(struct db *db, int64_t order_id);

/*
 * One transaction: the order (locked) must be COMPLETE or PARTIAL_REFUND with an APPROVED
 * payment (-E_ORDER_NOT_REFUNDABLE), amount <= remaining (-E_REFUND_AMOUNT_EXCEEDED); then a
 * PENDING refund row with the next request_no and cancel_available_amount = remaining.
 * -E_ORDER_NOT_FOUND when unknown.
 */
int store_refund_begin(struct db *db, int64_t order_id, int64_t amount, int64_t tax_free,
                       int64_t user_id, int64_t now, struct refund_rec *out);

/* A refund with its payment's cid and tid and its current cancel_available (see above).
 * -E_NOT_FOUND when unknown. */
int store_refund_get(struct db *db, int64_t refund_id, struct refund_rec *out);

/*
 * One transaction: the refund (PENDING or QUEUED) becomes CONFIRMED with aid and the
 * gateway's canceled total (-1 = NULL), the order's refunded_amount += amount and its status
 * REFUND or PARTIAL_REFUND (§2.4). *changed = false when the refund was no longer PENDING
 * or QUEUED (nothing written: confirmed before).
 */
int store_refund_confirm(struct db *db, int64_t refund_id, const char *aid,
                         int64_t gateway_canceled_total, int64_t now, bool *changed);

/* PENDING → FAILED with the error. */
int store_refund_fail(struct db *db, int64_t refund_id, const char *code, const char *msg,
                      int64_t now);

/* One transaction: PENDING → QUEUED with the error and a REFUND event {"refundId":N}
 * (dedup_key refund:N) due at now + first_delay_s. */
int store_refund_queue(struct db *db, int64_t refund_id, const char *code, const char *msg,
                       int64_t now, int64_t first_delay_s);

/* Records the last error of a QUEUED refund (outbox delivery failed). */
int store_refund_note(struct db *db, int64_t refund_id, const char *code, const char *msg,
                      int64_t now);

#endif
