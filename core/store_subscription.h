/*
 * store_subscription: SQL for subscriptions (API.md §2.5, §2.6, §8): reading one
 * subscription with its latest cycles (§8.1), the customer's changes of §8.3-§8.6 (period,
 * pause, resume, skip), the row lock and state read that every change of a subscription
 * starts with, and the cancellation of one subscription (§7.8, §8.7) and of every live
 * subscription of a user (withdrawal), with the SID inactivation queued in the outbox
 * (api_event SID_INACTIVATE) when no live subscription still uses the SID (§2.5).
 *
 * Dates are local days (common/clock.h) stored as DATE; timestamps are Unix seconds stored
 * as UTC DATETIME (the session runs with time_zone '+00:00'). Results are written to the
 * out-parameters only on success. Not thread-safe: a struct db belongs to one thread.
 */
#ifndef PV_CORE_STORE_SUBSCRIPTION_H
#define PV_CORE_STORE_SUBSCRIPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/order.h"
#include "core/price.h"
#include "core/retry.h"

struct db;

enum sub_cancel_reason { SUB_CANCEL_CUSTOMER, SUB_CANCEL_ADMIN, SUB_CANCEL_WITHDRAWAL };

/* The cycles list of §8.1 shows at most this many (the latest). */
#define SUB_CYCLES_MAX 24

/* What a change of a subscription reads under the row lock. */
struct sub_state {
	int64_t user_id;
	int status; /* enum sub_status (core/order.h), -1 when unknown */
	bool retry_unknown;
	int32_t period;
	int32_t first_day;        /* F */
	int32_t last_paid_day;    /* L */
	int32_t last_settled_day; /* C */
	bool has_next;
	int32_t next_day; /* next_payment_date when has_next */
	char cid[33];
	char sid[65];
};

/*
 * Locks the subscription row (FOR UPDATE: the billing daemon claims a cycle under the same
 * lock) and reads its state into *out. -E_SUBSCRIPTION_NOT_FOUND. Must run inside a
 * transaction (db_tx).
 */
int store_subscription_lock(struct db *db, int64_t subscription_id, struct sub_state *out);

/*
 * The start of every change of a subscription (§2.5, §1.5's order): store_subscription_lock
 * (-E_SUBSCRIPTION_NOT_FOUND), then -E_ACCESS_DENIED_USER when actor_uid is not the owner,
 * then -E_SUBSCRIPTION_STATE_CONFLICT unless sub_op_allowed (core/order.h) allows op, given
 * retry.state and whether a billing attempt of the subscription is PENDING (a charge in
 * flight) or UNKNOWN (read with a shared lock, so the latest committed state). *out gets the
 * locked state. Must run inside a transaction (db_tx).
 */
int store_subscription_lock_for(struct db *db, int64_t subscription_id, enum sub_op op,
                                int64_t actor_uid, struct sub_state *out);

/* One row of the cycles list (§8.1). */
struct sub_cycle {
	int32_t day;
	char status[12]; /* PAID, SKIPPED, RETRYING, UNKNOWN, FAILED */
	int32_t attempts;
	bool paid; /* amount, order_id and paid_at are set only for PAID */
	int64_t amount;
	int64_t order_id;
	int64_t paid_at;
};

/* The subscription JSON of §8.1 as stored; timestamps are -1 for SQL NULL. */
struct sub_detail {
	int64_t subscription_id;
	int64_t order_id;
	int64_t order_item_id;
	int64_t user_id;
	int status; /* enum sub_status */
	int32_t period;
	int32_t quantity;
	int64_t item_id; /* the item with its current catalogue texts and price */
	char *enterprise;
	char *thumbnail;
	char *product;
	struct price price;
	int32_t first_day;
	int32_t last_paid_day;
	bool has_next; /* false when PAUSED, cancelled or retries exhausted (§2.6) */
	int32_t next_day;
	enum retry_state retry;
	bool has_failed_cycle;
	int32_t failed_cycle_day;
	int32_t retry_attempts;
	int64_t next_retry_at;
	int64_t last_failure_at;
	char *last_failure_code; /* NULL when none */
	char *last_failure_message;
	char *real_name;
	char *phone;
	char *city;
	char *detail_address;
	int64_t paused_at;
	int64_t canceled_at;
	int64_t created_at;
	int64_t updated_at;
	struct sub_cycle cycles[SUB_CYCLES_MAX]; /* newest first */
	size_t ncycles;
};

/* Frees the strings of d and zeroes it (d itself is the caller's). */
void sub_detail_release(struct sub_detail *d);

/* The subscription with its item and its latest SUB_CYCLES_MAX cycles (two statements);
 * -E_SUBSCRIPTION_NOT_FOUND. Release *out with sub_detail_release. */
int store_subscription_get(struct db *db, int64_t subscription_id, struct sub_detail *out);

/*
 * The customer's changes (§8.3-§8.6). Each is one transaction: store_subscription_lock_for
 * (-E_SUBSCRIPTION_NOT_FOUND, -E_ACCESS_DENIED_USER: actor_uid is not the owner, an admin may
 * only read; -E_SUBSCRIPTION_STATE_CONFLICT), then the write. today is the local day of now;
 * the next date follows sched_next (core/sched.h).
 */
/* SUBSCRIPTION/PAUSED: period = new value (30..365, else -E_VALIDATION_FAILED); an active
 * subscription's next date by the rule, a paused one keeps none. */
int store_subscription_set_period(struct db *db, int64_t subscription_id, int64_t actor_uid,
                                  int32_t period, int64_t now, int32_t today);
/* SUBSCRIPTION -> PAUSED: paused_at = now, next date NULL. */
int store_subscription_pause(struct db *db, int64_t subscription_id, int64_t actor_uid,
                             int64_t now);
/* PAUSED -> SUBSCRIPTION: paused_at NULL, next date by the rule (strictly after today). */
int store_subscription_resume(struct db *db, int64_t subscription_id, int64_t actor_uid,
                              int64_t now, int32_t today);
/* SUBSCRIPTION: the cycle at the next date becomes SKIPPED (a subscription_cycles row),
 * last_settled_cycle_date = that date, next date by the rule. */
int store_subscription_skip(struct db *db, int64_t subscription_id, int64_t actor_uid, int64_t now,
                            int32_t today);

/*
 * Cancels one live subscription whose row the caller has locked (FOR UPDATE): status
 * SUBSCRIBE_CANCEL, canceled_at and cancel_reason set, next_payment_date, paused_at and
 * next_retry_at NULL, a SCHEDULED retry EXHAUSTED, a RETRYING cycle FAILED (an UNKNOWN one is
 * left to the reconciler), and the SID inactivation queued when it was the last live
 * subscription on its SID. -E_SUBSCRIPTION_STATE_CONFLICT when already cancelled.
 * Must run inside a transaction (db_tx).
 */
int store_subscription_cancel(struct db *db, int64_t subscription_id, enum sub_cancel_reason reason,
                              int64_t now);

/* Every live subscription of a user, through store_subscription_cancel. Must run inside a
 * transaction (db_tx). */
int store_subscription_cancel_all_of_user(struct db *db, int64_t user_id,
                                          enum sub_cancel_reason reason, int64_t now);

/*
 * One transaction: locks the subscription, then -E_SUBSCRIPTION_NOT_FOUND,
 * -E_ACCESS_DENIED_USER (actor neither the owner nor admin), -E_SUBSCRIPTION_STATE_CONFLICT
 * (already cancelled), or cancels it with reason ADMIN when the actor is an admin, CUSTOMER
 * otherwise.
 */
int store_subscription_cancel_by(struct db *db, int64_t subscription_id, int64_t actor_uid,
                                 bool actor_admin, int64_t now);

#endif
