/*
 * retry: the recurring-billing retry policy of API.md §2.7 as a pure function of the attempt
 * history and the clock.
 *
 * The policy is a list of delays (default "0,24h,24h,24h", the original system's): after
 * the n-th declined attempt of a cycle (n counted from 1) the next attempt waits delays[n-1];
 * after 1 + len(delays) declined attempts the retries are exhausted. A delay that follows a
 * scheduled (non-zero) delay is anchored on the previous scheduled time, not on the moment
 * the daemon got to it, so the default retries fall 24 h, 48 h and 72 h after the second
 * decline whatever the poll interval.
 *
 * Classes (core/pay_outcome.h): DECLINED counts and follows the delays; SID_DEAD and LIMIT
 * count and exhaust at once; UNKNOWN parks the cycle (state UNKNOWN, nothing automatic);
 * NOT_SENT, RETRY_LATER, INVALID and CONFIG are not counted and leave the state alone, but
 * hold the subscription's next automatic attempt: RETRY_LATER until the next local midnight
 * (-429 resets at 00:00 KST), NOT_SENT for hold_not_sent_s, INVALID and CONFIG for
 * hold_invalid_s (operators are alerted meanwhile).
 *
 * Thread-safe; no I/O except retry_decide's use of the zone for the next midnight.
 */
#ifndef PV_CORE_RETRY_H
#define PV_CORE_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pay_outcome.h"

#define RETRY_DELAYS_MAX        16
#define RETRY_DEFAULT_DELAYS    "0,24h,24h,24h"
#define RETRY_HOLD_NOT_SENT_S   60
#define RETRY_HOLD_INVALID_S    3600

enum retry_state { RETRY_NONE = 0, RETRY_SCHEDULED, RETRY_UNKNOWN, RETRY_EXHAUSTED };

struct retry_policy {
	int n_delays;
	int64_t delays_s[RETRY_DELAYS_MAX];
	int64_t hold_not_sent_s;
	int64_t hold_invalid_s;
};

/* Parses a comma-separated list of delays: integers with an optional unit s, m, h or d
 * (seconds when none), each 0..30d, 0..16 of them ("" = no retries). Sets the holds to their
 * defaults. 0, or -E_CONFIG. */
int retry_policy_parse(const char *text, struct retry_policy *out);

/* 1 + number of delays: retry.maxAttempts. */
int retry_max_attempts(const struct retry_policy *p);

/* What one finished attempt does to the retry state of its cycle. */
struct retry_decision {
	bool counted;          /* a declined attempt counted by the policy (retry.attempts + 1) */
	bool state_changes;    /* false: keep the current state (not counted, or a hold only) */
	enum retry_state state; /* the new state when state_changes */
	int attempts;          /* counted attempts on the cycle after this one */
	int64_t next_retry_at; /* SCHEDULED: when; else 0 */
	int64_t hold_until;    /* > 0: no automatic attempt before this time */
	bool exhausted_now;    /* this attempt exhausted the retries (notify, cycle FAILED) */
	bool first_failure;    /* the first counted decline of the cycle (notify) */
};

/*
 * cls: the attempt's class (not OK); prev_attempts: counted attempts on the cycle before
 * this one; prev_retry_at: the scheduled time this attempt ran for (0 when it was not a
 * scheduled retry); now: the attempt's end. Fills out.
 */
void retry_decide(const struct retry_policy *p, enum pay_class cls, int prev_attempts,
                  int64_t prev_retry_at, int64_t now, struct retry_decision *out);

const char *retry_state_name(enum retry_state s); /* "NONE", "SCHEDULED", ... */
/* 0 with *out, or -E_VALIDATION_FAILED for an unknown name. */
int retry_state_parse(const char *name, enum retry_state *out);

#endif
