/*
 * outbox: the forwarding function of the transactional outbox (API.md §7.9), run on a
 * schedule by the billing daemon. It claims due events (api_event) with a lease and delivers
 * each:
 *
 *   REFUND {"refundId":N}       a queued refund (§7.5): the payment is looked up first; when
 *                               the gateway already shows the cancel (a CANCEL action with
 *                               payload ref:N) the refund is just confirmed, else the cancel
 *                               is sent with cancel_available_amount = our ledger's value and
 *                               confirmed on success (refund CONFIRMED, order refunded_amount
 *                               and status in one transaction). Never refunded twice.
 *   SID_INACTIVATE {"cid","sid"} the SID inactivation; -750 / -751 count as done.
 *   NOTIFY_*                    marked done without any call: there is no notifier yet.
 *   any other kind              a failure (kept, retried, then moved to outbox_failed).
 *
 * A failed delivery goes back to PENDING after outbox_backoff_s(tries); an event still
 * failing max_age_s after its creation moves to outbox_failed in one transaction (an admin
 * requeues it in SQL). Not thread-safe: db and gw belong to the calling thread.
 */
#ifndef PV_CORE_OUTBOX_H
#define PV_CORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "core/gateway.h"

struct db;

#define OUTBOX_BACKOFF_MIN_S 60          /* first retry after 1 min */
#define OUTBOX_BACKOFF_MAX_S 3600        /* never more than 1 h */
#define OUTBOX_MAX_AGE_S     (3 * 86400) /* default: give up after 3 days */
#define OUTBOX_LEASE_S       300         /* a claimed event is re-claimable after 5 min */
#define OUTBOX_BATCH_MAX     64

#define OUTBOX_KIND_REFUND         "REFUND"
#define OUTBOX_KIND_SID_INACTIVATE "SID_INACTIVATE"
#define OUTBOX_KIND_NOTIFY_PREFIX  "NOTIFY_"

struct outbox_stats {
	size_t claimed;
	size_t done;
	size_t retried;
	size_t failed; /* moved to outbox_failed */
};

/*
 * Pure: seconds to wait after the tries-th failed attempt (tries >= 1): 60 s doubled each
 * attempt (60, 120, 240, ...), capped at 3600 s. tries < 1 reads as 1.
 */
int64_t outbox_backoff_s(int64_t tries);

/* Pure: 1 when an event created at created_at that failed at now must move to
 * outbox_failed (now - created_at >= max_age_s), else 0. */
int outbox_expired(int64_t created_at, int64_t now, int64_t max_age_s);

/*
 * One pass: claims at most max_events (<= OUTBOX_BATCH_MAX) due events at now, delivers
 * them and records each outcome. max_age_s <= 0 means OUTBOX_MAX_AGE_S. stats may be NULL.
 * 0, or the database error that stopped the pass (events already claimed stay SENDING and are
 * claimed again after their lease).
 */
int outbox_forward(struct db *db, const struct pay_gateway *gw, int64_t now, size_t max_events,
                   int64_t max_age_s, struct outbox_stats *stats);

#endif
