/*
 * store_subscription: SQL for subscriptions that other use cases share: the cancellation of
 * one subscription (API.md §7.8, §8.7) and of every live subscription of a user
 * (withdrawal), with the SID inactivation queued in the outbox (api_event SID_INACTIVATE)
 * when no live subscription still uses the SID (API.md §2.5).
 */
#ifndef PV_CORE_STORE_SUBSCRIPTION_H
#define PV_CORE_STORE_SUBSCRIPTION_H

#include <stdbool.h>
#include <stdint.h>

struct db;

enum sub_cancel_reason { SUB_CANCEL_CUSTOMER, SUB_CANCEL_ADMIN, SUB_CANCEL_WITHDRAWAL };

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
