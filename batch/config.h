/*
 * config: the configuration table of pillivery-billing (every PV_* option with its default)
 * and the settings derived from it at start (the retry policy, the charge time, the Kakao Pay
 * client settings). Built once by config_load in main; read-only afterwards, so both of the
 * daemon's threads (the event loop and the housekeeper) read it freely.
 */
#ifndef PV_BATCH_CONFIG_H
#define PV_BATCH_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "common/db.h"
#include "common/redis.h"
#include "core/retry.h"
#include "external/kakaopay.h"

struct cfg;

struct billing_config {
	struct cfg *cfg;
	struct db_config db;
	struct redis_config redis;
	struct kakaopay_config kakaopay;
	struct retry_policy retry;
	const char *bind;
	int port;             /* /health and /metrics; 0 = no listener */
	int poll_ms;          /* how often a pass starts (and the lock is renewed) */
	int claim_batch;      /* attempts claimed per transaction */
	int concurrency;      /* charges in flight at most */
	int apply_batch;      /* outcomes written per transaction */
	int db_workers;       /* threads (connections) writing claims and outcomes */
	int charge_minute;    /* local minute of the day at which a cycle becomes due */
	int lock_ttl_ms;      /* leader lease */
	const char *lock_key; /* without the Redis prefix */
	int64_t orphan_after_s;
	int64_t first_probe_s;
	int64_t second_probe_s;
	int64_t admin_after_s;
	int64_t outbox_max_age_s;
	int64_t payment_expire_s; /* READY this long after ready: swept (KAKAOPAY.md §2 4d) */
	int64_t order_expire_s;   /* REQUEST this long after creation: CANCELED (API.md §2.4) */
	int drain_ms;
	int64_t clock_offset_s;
	char instance[96]; /* host:pid, claimed_by of the attempts */
	const char *profile;
};

/* Loads and validates; on failure returns -E_CONFIG with a one-line message in err. */
int config_load(struct billing_config *c, const char *file, char *err, size_t errlen);
void config_release(struct billing_config *c);
void config_help(FILE *f);

#endif
