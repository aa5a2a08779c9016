/*
 * sweep: the payment sweepers (API.md §2.4, §7.1; KAKAOPAY.md §1.9 and §2 rows 4d and 5), run
 * by the billing daemon's housekeeper. There are no webhooks: a browser that never comes back
 * leaves a record open, and only an order lookup by tid can say what happened to it. One round
 * (sweep_round) does, in this order:
 *
 *   1. APPROVING records claimed more than approving_after_s ago (an approve that crashed or
 *      timed out) are looked up and the §1.9 mapping applied (sweep_decide);
 *   2. READY records more than payment_expire_s after ready_at (the window was closed) are
 *      looked up: paid → completed as the approve route does, anything else → EXPIRED;
 *   3. CREATED records more than payment_expire_s old become FAILED: their ready never
 *      recorded an answer, so no customer ever saw the payment page and nothing can have been
 *      paid on them (no lookup: a CREATED record has no tid);
 *   4. REQUEST orders more than order_expire_s old with no CREATED, READY, APPROVING or
 *      APPROVED record become CANCELED.
 *
 * "Completed" is store_payment_complete (§7.3 step 5: record APPROVED, order COMPLETE, sales,
 * subscriptions, cart lines) with the approve route's stored answer. A payment the sweeper
 * cannot complete although the gateway shows money moved (a subscription-CID payment, whose
 * lookup carries no SID, so no subscription could be created; another amount; a refund; an
 * order no longer payable) is flagged for review (payments.flagged_at, flag_reason) and left
 * in its state; flagged records are never swept again. A lookup that fails leaves the record
 * for the next round.
 *
 * Every change is a compare-and-set, so the sweeper and the API's routes can race on one
 * record safely. Like core/outbox.c, the round writes one log line per record it acts on
 * (the operator's trail for a flagged payment). Not thread-safe: db and gw belong to the
 * calling thread.
 */
#ifndef PV_CORE_SWEEP_H
#define PV_CORE_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gateway.h"
#include "core/payment.h"

struct db;

#define SWEEP_PAYMENT_EXPIRE_S  PAYMENT_EXPIRY_S /* KAKAOPAY.md §1.9: 15 min after ready */
#define SWEEP_APPROVING_AFTER_S 60               /* KAKAOPAY.md §2 row 5: 1 min */
#define SWEEP_ORDER_EXPIRE_S    86400            /* API.md §2.4: 24 h */
#define SWEEP_BATCH             100              /* records read per query */
#define SWEEP_LOOKUPS_MAX       200              /* order lookups per round */
#define SWEEP_LOOKUP_FAILURES   3    /* consecutive failed lookups that end the round's lookups */
#define SWEEP_CLOSE_MAX         1000 /* CREATED records closed, orders cancelled: per round */

/* What to do with a record after its order lookup. */
enum sweep_action {
	SWEEP_LEAVE = 0, /* nothing now: the lookup failed, or the outcome is still open */
	SWEEP_COMPLETE,  /* paid as expected: §7.3 step 5 */
	SWEEP_FLAG,      /* money moved in a way the sweeper cannot settle: flag for review */
	SWEEP_FAIL,      /* proved not paid: FAILED (the order can be paid again) */
	SWEEP_EXPIRE,    /* not paid, or still in progress, past the expiry: EXPIRED */
	SWEEP_RELEASE,   /* APPROVING still in progress before the expiry: back to READY */
};

/* "LEAVE", "COMPLETE", ...; NULL out of range. */
const char *sweep_action_name(enum sweep_action a);

/* The facts of one record that the decision needs. */
struct sweep_case {
	enum payment_state state; /* READY or APPROVING (anything else: LEAVE) */
	int64_t age_s;            /* now - ready_at */
	int64_t expire_s;         /* payment_expire_s */
	int64_t amount;           /* the record's total_amount */
	const char *payload;      /* "pay:{paymentId}" sent with the approve */
	bool needs_sid;           /* the order has subscription lines */
};

struct sweep_decision {
	enum sweep_action action;
	const char *reason; /* static text, for the log, flag_reason or last_error_message */
};

/*
 * Pure: KAKAOPAY.md §1.9 applied to one record and its order lookup (look, borrowed):
 *   lookup not OK                         → LEAVE
 *   SUCCESS_PAYMENT, amount.total = amount, a PAYMENT action with payload, and a SID when
 *   needs_sid                             → COMPLETE
 *   SUCCESS_PAYMENT otherwise             → FLAG (another amount or payload; no SID)
 *   PART_CANCEL_PAYMENT, CANCEL_PAYMENT   → FLAG (paid and refunded, never approved here)
 *   FAIL_AUTH_PASSWORD, QUIT_PAYMENT, FAIL_PAYMENT
 *                                         → EXPIRE when age_s >= expire_s, else FAIL
 *   READY .. AUTH_PASSWORD, ISSUED_SID    → EXPIRE when age_s >= expire_s, else RELEASE
 *                                           (APPROVING) or LEAVE (READY)
 *   any other status                      → FLAG
 */
struct sweep_decision sweep_decide(const struct sweep_case *c, const struct pay_result *look);

struct sweep_config {
	int64_t payment_expire_s;  /* <= 0: SWEEP_PAYMENT_EXPIRE_S */
	int64_t approving_after_s; /* <= 0: SWEEP_APPROVING_AFTER_S */
	int64_t order_expire_s;    /* <= 0: SWEEP_ORDER_EXPIRE_S */
};

struct sweep_stats {
	size_t lookups;         /* order lookups made */
	size_t lookup_failures; /* of which failed (the record was left) */
	size_t completed;       /* orders COMPLETE from a lookup */
	size_t flagged;         /* records flagged for review */
	size_t failed;          /* records FAILED (APPROVING, and stale CREATED) */
	size_t expired;         /* records EXPIRED */
	size_t released;        /* APPROVING records back to READY */
	size_t orders_canceled; /* REQUEST orders CANCELED by age */
};

/*
 * One round at now (see above). stats may be NULL (else reset first). 0, or the database
 * error that stopped the round (what was done before it stays done; a READY record claimed
 * for completion is released, or else swept again as APPROVING a minute later).
 */
int sweep_round(struct db *db, const struct pay_gateway *gw, const struct sweep_config *cfg,
                int64_t now, struct sweep_stats *stats);

#endif
