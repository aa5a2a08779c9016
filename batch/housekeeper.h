/*
 * housekeeper: the billing daemon's second thread, for the slow, blocking jobs that must not
 * stall the charging loop. While this instance leads, every poll interval it:
 *   - forwards the outbox (core/outbox.c: queued refunds, SID inactivations, notices);
 *   - probes the SID status of UNKNOWN charges (KAKAOPAY.md §3: at >= 60 s and >= 5 min after
 *     the claim; two probes that show no charge settle the attempt FAILED, a probe that shows
 *     a charge since the claim leaves it UNKNOWN with an admin task);
 *   - applies operators' verdicts on UNKNOWN charges (a claimed TID is verified by an order
 *     lookup of amount, partner_order_id and payload first);
 *   - gives an admin task to UNKNOWN charges open too long.
 * It owns its own MariaDB connection and blocking Kakao Pay client. housekeeper_round is also
 * called directly by --once.
 */
#ifndef PV_BATCH_HOUSEKEEPER_H
#define PV_BATCH_HOUSEKEEPER_H

#include <stdbool.h>
#include <stddef.h>

struct billing_config;
struct db;
struct pay_gateway;
struct housekeeper;

struct housekeeper_stats {
	size_t outbox_done, outbox_retried, outbox_failed;
	size_t probes, probe_errors, resolved_failed, admin_tasks;
	size_t verdicts_applied, verdicts_rejected;
};

/* One round with the caller's handles. 0, or the first database error. */
int housekeeper_round(const struct billing_config *cfg, struct db *db, const struct pay_gateway *gw,
                      struct housekeeper_stats *st);

/* Starts the thread (idle until housekeeper_set_leader(true)). NULL on failure. */
struct housekeeper *housekeeper_start(const struct billing_config *cfg);
void housekeeper_set_leader(struct housekeeper *h, bool leader);
/* Stops after the current round and joins. Accepts NULL. */
void housekeeper_stop(struct housekeeper *h);

#endif
