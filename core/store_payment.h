/*
 * store_payment: all SQL of the payment routes (API.md §7.1-7.4, §7.6): the order facts a
 * payment needs, payment records (CREATED before the ready call, READY, the APPROVING claim,
 * the closed states) and the approval transaction (payment APPROVED, order COMPLETE, sales,
 * subscriptions with their first cycle, cart lines).
 *
 * Every state change is a compare-and-set on the record's status, so two API instances can
 * never both move one record. Not thread-safe: a struct db belongs to one thread.
 */
#ifndef PV_CORE_STORE_PAYMENT_H
#define PV_CORE_STORE_PAYMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gateway.h"
#include "core/order.h"
#include "core/payment.h"

struct db;

/* What the payment routes read of an order. */
struct pay_order {
	int64_t order_id;
	int64_t user_id;
	enum order_status status;
	bool subscription; /* any subscription line: the subscription CID */
	bool ordered_at_cart;
	int64_t expect_price;
	int64_t total_quantity;
	int64_t nlines;
	char first_product[PAY_TEXT_MAX]; /* product name of the first line */
};

/* -E_ORDER_NOT_FOUND when unknown. */
int store_payment_order(struct db *db, int64_t order_id, struct pay_order *out);

/* One payment record. */
struct payment_rec {
	int64_t payment_id;
	int64_t order_id;
	int64_t ready_no;
	enum payment_state state;
	char payment_key[PAYMENT_KEY_LEN + 1];
	char cid[PAY_ID_MAX];
	char partner_order_id[PAY_PARTNER_MAX];
	char partner_user_id[PAY_PARTNER_MAX];
	char item_name[PAY_TEXT_MAX];
	char tid[PAY_ID_MAX]; /* "" while CREATED */
	int64_t quantity;
	int64_t amount;
};

/*
 * The first half of a ready (KAKAOPAY.md §2 step 1), in one transaction: the order (locked)
 * must still be REQUEST (-E_ORDER_NOT_PAYABLE), every READY or CREATED record of it becomes
 * SUPERSEDED, and a new CREATED record is inserted with the next ready_no, a fresh paymentKey,
 * partner_order_id "O{orderId}-R{n}" and partner_user_id "U{userId}". *out gets the record.
 */
int store_payment_create(struct db *db, const struct pay_order *o, const char *cid,
                         const char *item_name, int64_t now, struct payment_rec *out);

/* CREATED → READY with the ready answer. *changed = false when the record was no longer
 * CREATED (a newer ready superseded it meanwhile). */
int store_payment_ready(struct db *db, int64_t payment_id, const struct pay_result *res,
                        int64_t now, bool *changed);

/*
 * Compare-and-set from → to. Closed states (CANCELED, FAILED, EXPIRED, SUPERSEDED) set
 * closed_at; err_code / err_msg (NULL = keep) go to last_error_*. APPROVING sets approving_at.
 * *changed tells whether the record was in `from`.
 */
int store_payment_move(struct db *db, int64_t payment_id, enum payment_state from,
                       enum payment_state to, const char *err_code, const char *err_msg,
                       int64_t now, bool *changed);

/* The order's newest record if it is READY or APPROVING; -E_PAYMENT_NOT_FOUND otherwise. */
int store_payment_current(struct db *db, int64_t order_id, struct payment_rec *out);
/* The order's record with this paymentKey; -E_PAYMENT_NOT_FOUND. *newest tells whether no
 * later record of the order exists. */
int store_payment_by_key(struct db *db, int64_t order_id, const char *key, struct payment_rec *out,
                         bool *newest);
/* The order's APPROVED record, else its newest record with a tid; -E_PAYMENT_NOT_FOUND. */
int store_payment_for_lookup(struct db *db, int64_t order_id, struct payment_rec *out);
/* One record by id; -E_PAYMENT_NOT_FOUND. */
int store_payment_get(struct db *db, int64_t payment_id, struct payment_rec *out);
/* The stored approve answer of the order's APPROVED record (malloc'd JSON text, caller
 * frees); -E_PAYMENT_NOT_FOUND. */
int store_payment_approval_result(struct db *db, int64_t order_id, char **out);

/* The facts of one approval (from the approve answer or an order lookup). */
struct payment_approval {
	const struct payment_rec *rec;
	const char *aid;
	const char *sid; /* subscription CID: the SID; NULL or "" otherwise */
	const char *payment_method_type;
	struct pay_amount amount;
	int64_t approved_at;     /* gateway time, Unix seconds; -1 = now */
	const char *result_json; /* the data answered by the approve route */
};

/*
 * §7.3 step 5, one transaction: the record (READY or APPROVING) becomes APPROVED, the order
 * (REQUEST, locked) COMPLETE with paid_at = now, items.sales += line quantity, one
 * subscription per subscription line (F = L = C = today, next = F + period, the SID, CID,
 * partner_user_id and the order's receiver) with its first cycle PAID, order_items
 * .subscription_id set, and the ordered items removed from both carts when orderedAtCart.
 * -E_ORDER_NOT_PAYABLE when the order is no longer REQUEST or the record was moved
 * meanwhile (nothing written); -E_PAYMENT_GATEWAY_TIMEOUT when a subscription line needs a
 * SID the approval did not give.
 */
int store_payment_complete(struct db *db, const struct payment_approval *a, int64_t now,
                           int32_t today);

/* §7.4 cancel: record READY → CANCELED and order REQUEST → CANCELED in one transaction.
 * *changed = false when either was no longer in that state (nothing written). */
int store_payment_cancel_order(struct db *db, int64_t payment_id, int64_t order_id, int64_t now,
                               bool *changed);

/* ---- the sweepers (core/sweep.c) ------------------------------------------------------------ */

/* A record the sweeper looks at, with what it needs of its order. */
struct payment_due {
	struct payment_rec rec;
	int64_t ready_at;  /* Unix seconds; created_at for a CREATED record */
	bool subscription; /* the order has subscription lines (paid with the subscription CID) */
};

/*
 * Unflagged records in state (CREATED, READY or APPROVING only; -E_INTERNAL_ERROR otherwise)
 * whose created_at (CREATED), ready_at (READY) or approving_at (APPROVING) is at or before
 * `before`, with payment_id > after_id, in payment_id order: at most max into out[], *n their
 * count. Plain reads: every later change is a compare-and-set.
 */
int store_payment_due(struct db *db, enum payment_state state, int64_t before, int64_t after_id,
                      struct payment_due *out, size_t max, size_t *n);

/* Sets flagged_at = now and flag_reason (cut to 255 characters) on a record still in state
 * and not yet flagged; the state is left as it is. *changed tells whether it was. */
int store_payment_flag(struct db *db, int64_t payment_id, enum payment_state state,
                       const char *reason, int64_t now, bool *changed);

/*
 * Ids of REQUEST orders created at or before `before` that have no CREATED, READY, APPROVING
 * or APPROVED payment record, with order_id > after_id, ascending: at most max into ids[].
 */
int store_payment_stale_orders(struct db *db, int64_t before, int64_t after_id, int64_t *ids,
                               size_t max, size_t *n);

/*
 * API.md §2.4 expiry, one transaction: the order (locked) REQUEST → CANCELED with
 * canceled_at = now, unless a payment record of it is CREATED, READY, APPROVING or APPROVED
 * (a ready takes the same order lock, so none can appear meanwhile). *changed tells whether
 * it was cancelled.
 */
int store_payment_expire_order(struct db *db, int64_t order_id, int64_t now, bool *changed);

#endif
