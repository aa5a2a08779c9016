/*
 * store_billing: the SQL of recurring billing (API.md §2.5-2.7, KAKAOPAY.md §3): claiming
 * due cycles and due retries as PENDING attempts, applying outcomes in batched transactions
 * (the renewal order, sales, the schedule, the retry policy, the outbox), and the
 * reconciler's queries (orphaned PENDING attempts, SID status probes of UNKNOWN attempts,
 * admin verdicts).
 *
 * The database's unique keys are the last word: at most one APPROVED attempt per
 * (subscription, cycle), at most one open (PENDING or UNKNOWN) attempt per (subscription,
 * cycle) and per SID. A claim that would break one is skipped, never retried blindly.
 *
 * Not thread-safe: a struct db belongs to one thread.
 */
#ifndef PV_CORE_STORE_BILLING_H
#define PV_CORE_STORE_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/billing.h"
#include "core/retry.h"

struct db;

struct billing_claim {
	int64_t now;
	int32_t cutoff;         /* latest cycle date due now (sched_due_cutoff) */
	const char *claimed_by; /* host:pid */
};

/*
 * One transaction: up to max due subscriptions (due retries first, then due cycles; not held,
 * no open attempt on their SID), FOR UPDATE SKIP LOCKED so two claimers never take the same
 * row, each given a PENDING attempt with the current price snapshot. out[] gets them, *n
 * their count (0 when nothing is due).
 */
int store_billing_claim(struct db *db, const struct billing_claim *c, struct billing_attempt *out,
                        size_t max, size_t *n);

/*
 * Charge-now's claim (API.md §7.7), one transaction: locks the subscription and checks it
 * (-E_SUBSCRIPTION_NOT_FOUND; -E_SUBSCRIPTION_STATE_CONFLICT when PAUSED, cancelled, UNKNOWN
 * or with an attempt in flight), picks the current cycle (the open one, else
 * next_payment_date) and claims it with initiated_by ADMIN. Returns 0 with *out, or 1 when
 * that cycle is already paid, with *paid_json the stored approval JSON (caller frees).
 */
int store_billing_claim_now(struct db *db, int64_t subscription_id, const char *claimed_by,
                            int64_t now, struct billing_attempt *out, char **paid_json);

/* One finished attempt. */
struct billing_outcome {
	const struct billing_attempt *att;
	const struct billing_answer *ans;
};

struct billing_apply_stats {
	size_t approved;
	size_t declined;   /* counted declines (DECLINED, SID_DEAD, LIMIT) */
	size_t exhausted;  /* of which exhausted the retries */
	size_t failed;     /* not counted: NOT_SENT, RETRY_LATER, INVALID, CONFIG */
	size_t unknown;
	size_t skipped;    /* the attempt was no longer PENDING (settled elsewhere) */
	size_t amount_mismatch;
	int64_t sales_items; /* quantity added to items.sales */
};

/*
 * Applies n outcomes of PENDING attempts in one transaction (db_tx: retried on deadlock).
 * OK: attempt APPROVED, a COMPLETE renewal order with one line and its APPROVED payments row
 * (so refunds work as for any order), its sales (item_sales_delta, folded into items.sales by
 * store_billing_fold_sales), the cycle PAID, the schedule moved (§2.6), retry
 * reset. Counted declines: the retry policy p (status SUBSCRIBE_PAYMENT_FAIL, SCHEDULED or
 * EXHAUSTED, customer notices in the outbox), except for a cycle after today (charge-now:
 * only the last failure is recorded). UNKNOWN: the attempt and the cycle UNKNOWN, nothing
 * automatic until resolved. Other failures: attempt FAILED and a hold on the subscription.
 * stats may be NULL (it is added to, not reset).
 */
int store_billing_apply(struct db *db, const struct retry_policy *p, const struct billing_outcome *o,
                        size_t n, int64_t now, struct billing_apply_stats *stats);

/*
 * Adds the sales of recurring charges (item_sales_delta, written with each renewal order) to
 * items.sales and deletes what it added, in one transaction. *items (may be NULL) gets the
 * number of items changed.
 */
int store_billing_fold_sales(struct db *db, size_t *items);

/* The stored approval JSON of attempt id (caller frees), or -E_DB_NO_ROW. */
int store_billing_approval_json(struct db *db, int64_t attempt_id, char **out);

/* ---- reconciler ------------------------------------------------------------------------- */

/*
 * PENDING attempts claimed before now - min_age_s whose caller is gone (not among the
 * in_flight ids, n_in_flight of them) become UNKNOWN (error ORPHANED), up to max. *n gets the
 * count.
 */
int store_billing_orphans(struct db *db, int64_t now, int64_t min_age_s, const int64_t *in_flight,
                          size_t n_in_flight, size_t max, size_t *n);

/* An UNKNOWN attempt due for a SID status probe. */
struct billing_probe_due {
	int64_t id;
	int64_t claimed_at;
	int probe_count;
	char cid[PAY_ID_MAX];
	char sid[PAY_ID_MAX];
};

/* UNKNOWN attempts without an admin task or verdict, due for their first probe (claimed at
 * least first_s ago) or their second (at least second_s ago and after the first), up to max.
 */
int store_billing_probes_due(struct db *db, int64_t now, int64_t first_s, int64_t second_s,
                             struct billing_probe_due *out, size_t max, size_t *n);

/*
 * Records one probe of attempt id: NOT_CHARGED counts; the second NOT_CHARGED resolves the
 * attempt FAILED (not charged: the cycle is charged again at the next run).
 * MAYBE_CHARGED leaves it UNKNOWN with an admin task (needs_admin). ERROR only notes it.
 * *resolved (may be NULL) is set when the attempt was settled.
 */
int store_billing_probe_record(struct db *db, int64_t id, enum billing_probe verdict,
                               const char *note, int64_t now, bool *resolved);

/* UNKNOWN attempts open for more than max_open_s get an admin task. *n gets the count. */
int store_billing_flag_stale_unknown(struct db *db, int64_t now, int64_t max_open_s, size_t *n);

/* An UNKNOWN attempt with an operator's verdict (KAKAOPAY.md §3, last row). */
struct billing_verdict {
	struct billing_attempt att;
	bool charged;          /* CHARGED (with tid) or NOT_CHARGED */
	char tid[PAY_ID_MAX];  /* admin_tid */
};

int store_billing_verdicts(struct db *db, struct billing_verdict *out, size_t max, size_t *n);

/* Settles an UNKNOWN attempt as not charged (FAILED, not counted; the retry state before it
 * comes back). resolved_by: "RECONCILER" or "ADMIN". */
int store_billing_resolve_failed(struct db *db, int64_t id, const char *resolved_by,
                                 const char *note, int64_t now);
/* Settles an UNKNOWN attempt as charged with ans (verified by the caller): the effects of an
 * approval, resolved_by ADMIN. */
int store_billing_resolve_charged(struct db *db, const struct retry_policy *p,
                                  const struct billing_attempt *att,
                                  const struct billing_answer *ans, int64_t now);
/* Notes why a verdict could not be applied (the verdict is cleared so it is not retried). */
int store_billing_verdict_rejected(struct db *db, int64_t id, const char *note, int64_t now);

/* Figures for metrics: due backlog at cutoff/now, UNKNOWN open, admin tasks. */
struct billing_backlog {
	int64_t due;
	int64_t unknown_open;
	int64_t needs_admin;
	int64_t pending;
	int64_t outbox_pending; /* api_event not DONE */
};
int store_billing_backlog(struct db *db, int64_t now, int32_t cutoff, struct billing_backlog *out);

/* One due subscription, for --dry-run. */
struct billing_due {
	int64_t subscription_id;
	int32_t cycle_date;
	int64_t amount; /* quantity x current realPrice */
	bool retry;     /* a scheduled retry (else a due cycle) */
};

/* Up to max due subscriptions at now/cutoff, without claiming or locking anything. */
int store_billing_due_list(struct db *db, int64_t now, int32_t cutoff, struct billing_due *out,
                           size_t max, size_t *n);

#endif
