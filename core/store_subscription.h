/*
 * store_subscription: SQL for subscriptions that other use cases share. For now: the
 * cancellation of every live subscription of a user (withdrawal), with the SID
 * inactivation queued in the outbox (api_event SID_INACTIVATE) when no live subscription
 * still uses the SID (API.md §2.5, §8.7). Runs inside the caller's transaction.
 */
#ifndef PV_CORE_STORE_SUBSCRIPTION_H
#define PV_CORE_STORE_SUBSCRIPTION_H

#include <stdint.h>

struct db;

enum sub_cancel_reason { SUB_CANCEL_CUSTOMER, SUB_CANCEL_ADMIN, SUB_CANCEL_WITHDRAWAL };

/* Must run inside a transaction (db_tx). */
int store_subscription_cancel_all_of_user(struct db *db, int64_t user_id,
					  enum sub_cancel_reason reason, int64_t now);

#endif
