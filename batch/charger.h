/*
 * charger: one billing pass on the event loop (DESIGN.md §3 "Recurring charge", KAKAOPAY.md
 * §3). A pass sweeps orphaned PENDING attempts into UNKNOWN, then streams: claim due cycles
 * and due retries in batches (one transaction each), charge them through the curl-multi
 * Kakao Pay client with at most `concurrency` calls in flight (a -782 decline gets its SID
 * status probe before it may count), and write the outcomes in batches of `apply_batch` (one
 * transaction each). The pass ends when nothing more is due and nothing is in flight.
 *
 * An outcome that cannot be written (database down) stays in memory and is written again
 * after a second; meanwhile nothing new is claimed. Stopping (leadership lost, SIGTERM) only
 * stops claiming: in-flight charges finish and are written. charger_free completes whatever is
 * still in flight as UNKNOWN (the reconciler settles it) and writes it when it can.
 *
 * Owns its jobs and its curl multi; borrows the event base, the database handle, the Redis
 * handle (main page cache generation) and the configuration. Event-loop thread only.
 */
#ifndef PV_BATCH_CHARGER_H
#define PV_BATCH_CHARGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct db;
struct redis;
struct billing_config;
struct charger;

struct charger_stats {
	int64_t due;      /* due at the start of the pass */
	size_t orphans;   /* PENDING attempts of dead callers made UNKNOWN */
	size_t claimed;
	size_t approved;
	size_t declined;  /* counted declines */
	size_t exhausted; /* of which exhausted their retries */
	size_t failed;    /* not counted: not sent, retry later, invalid, config */
	size_t unknown;
	size_t skipped;   /* settled elsewhere meanwhile */
	size_t transactions;
	int64_t claim_ms; /* time spent in claim transactions */
	int64_t apply_ms; /* time spent writing outcomes */
	int64_t duration_ms;
};

typedef void (*charger_done_fn)(void *arg, const struct charger_stats *st);

struct charger *charger_new(struct event_base *base, struct db *db, struct redis *redis,
                            const struct billing_config *cfg, charger_done_fn done, void *arg);
/* Completes and writes what is in flight (see above), then frees. Accepts NULL. */
void charger_free(struct charger *c);

/* Starts a pass. 0 started, 1 one is running, 2 charging is stopped after a CONFIG answer
 * (until PV_BILLING_HOLD_INVALID_S has passed), or a database error (not started). */
int charger_start_pass(struct charger *c);
bool charger_running(const struct charger *c);
/* No more claims in the current pass; in-flight charges still finish. */
void charger_stop_claiming(struct charger *c);
size_t charger_in_flight(const struct charger *c);

#endif
