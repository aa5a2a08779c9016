/*
 * sched: the subscription schedule of API.md §2.6 and the due times of §2.7, as pure
 * functions over local dates (days since 1970-01-01 in the shop's zone, common/clock.h).
 *
 *   next = F + k·P for the smallest k >= 1 with next > max(L, C, today)
 *
 * A cycle is due at the charge hour (minutes after local midnight, default 10:00) of its date.
 * sched_due_cutoff gives the latest cycle date that is due at a given instant, so the due
 * test of a cycle is a date comparison (next_payment_date <= cutoff) that SQL can index.
 *
 * Thread-safe. sched_day_start uses the zone set by clock_set_zone (mktime); the others are
 * arithmetic only.
 */
#ifndef PV_CORE_SCHED_H
#define PV_CORE_SCHED_H

#include <stdint.h>

#define SCHED_CHARGE_MINUTE_DEFAULT (10 * 60) /* 10:00 local */

/* The anchored rule: the smallest first + k*period (k >= 1) strictly after floor.
 * period must be >= 1 (the callers pass 30..365). */
int32_t sched_next_after(int32_t first, int32_t period, int32_t floor);

/* next by the rule with floor = max(last_paid, last_settled, today). */
int32_t sched_next(int32_t first, int32_t period, int32_t last_paid, int32_t last_settled,
                   int32_t today);

/* Unix time of local midnight starting day (in the configured zone). */
int64_t sched_day_start(int32_t day);

/* Unix time at which the cycle of day becomes due: local midnight + charge_minute. */
int64_t sched_due_at(int32_t day, int charge_minute);

/* The latest cycle date due at now: today when now has reached today's charge minute,
 * else yesterday. local_day and local_minute are now's local date and minute of the day. */
int32_t sched_due_cutoff(int32_t local_day, int local_minute, int charge_minute);

/* The local minute of the day (0..1439) of t in the configured zone. */
int sched_local_minute(int64_t t);

#endif
