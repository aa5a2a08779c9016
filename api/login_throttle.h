/*
 * login_throttle: the login throttle of API.md §3.3, shared by the password login and the
 * OAuth link (§3.7): failures (401 BAD_CREDENTIALS) counted per account (lower-cased email)
 * and per client IP over a sliding window (PV_LOGIN_WINDOW_S); PV_LOGIN_MAX_FAILURES in the
 * window for either gives 429 TOO_MANY_LOGIN_ATTEMPTS with Retry-After.
 * Uses the request's worker Redis handle: one request, one thread.
 */
#ifndef PV_API_LOGIN_THROTTLE_H
#define PV_API_LOGIN_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

struct req;

/* The account and client counter names (without the Redis prefix). */
void login_throttle_keys(const struct req *r, const char *email, char *acct, size_t acct_len,
                         char *ip, size_t ip_len);
/* Counts a failed attempt for the account and the client. 0 or the Redis error. */
int login_throttle_count_failure(struct req *r, const char *acct, const char *ip, int64_t now_ms);
/* 0 when allowed; answers 429 (or the Redis error) and returns non-zero otherwise. */
int login_throttle_check(struct req *r, const char *acct, const char *ip, int64_t now_ms);

#endif
