/*
 * throttle: sliding-window failure counters in Redis (login throttling, API.md §3.3).
 *
 * key is the caller's name for a counter (e.g. "login:ip:10.0.0.1"); it is stored as
 * <redis_prefix>thr:<key>. A key holds a sorted set of failure times (ms). throttle_check
 * counts the failures inside [now - window, now]; when the count has reached limit it reports
 * the seconds until the oldest counted failure leaves the window (with more failures than
 * limit, until enough have left for the count to drop below limit). All operations are
 * single Lua scripts.
 *
 * Not thread-safe beyond the redis handle's rules.
 */
#ifndef PV_COMMON_THROTTLE_H
#define PV_COMMON_THROTTLE_H

#include <stdint.h>

struct redis;

/* 0 allowed; 1 limited with *retry_after_s >= 1; <0 error (-E_SERVICE_UNAVAILABLE ...). */
int throttle_check(struct redis *r, const char *key, int limit, int window_s, int64_t now_ms,
                   int *retry_after_s);
int throttle_hit(struct redis *r, const char *key, int window_s, int64_t now_ms);
int throttle_clear(struct redis *r, const char *key);

#endif
