/*
 * tokstore: token state in Redis: refresh-token families with rotation and reuse detection,
 * revoked access tokens, and per-user revocation (withdrawal). API.md §3.3-3.6.
 *
 * Keys (prefix from redis_prefix): fam:<fam> hash {uid, cur} with the refresh TTL;
 * famrev:<fam> (revoked family, kept for the refresh TTL); jtirev:<jti> (revoked access
 * token, kept until its exp); uwd:<uid> (user withdrawn). Rotation is one Lua script, so
 * two concurrent rotations of one token cannot both succeed.
 *
 * Not thread-safe beyond the redis handle's rules (one handle per thread).
 */
#ifndef PV_COMMON_TOKSTORE_H
#define PV_COMMON_TOKSTORE_H

#include <stdint.h>

struct redis;
struct token_claims;

int tokstore_family_create(struct redis *r, const char *fam, int64_t uid, const char *jti,
                           int ttl_s);
/*
 * Spends the refresh token jti of family fam and makes new_jti current.
 * 0 on success; -E_INVALID_TOKEN when the family is unknown, expired or revoked;
 * -E_REFRESH_TOKEN_REUSED when jti is not the current one (the family is then revoked).
 */
int tokstore_family_rotate(struct redis *r, const char *fam, const char *jti, const char *new_jti,
                           int ttl_s);
int tokstore_family_revoke(struct redis *r, const char *fam, int ttl_s);
int tokstore_access_revoke(struct redis *r, const char *jti, int64_t ttl_s);
int tokstore_user_withdraw(struct redis *r, int64_t uid);
/*
 * One round trip for a presented access or refresh token: -E_USER_WITHDRAWN when the user
 * withdrew, -E_ALREADY_LOGOUT when the jti was revoked by logout, -E_INVALID_TOKEN when the
 * family was revoked, 0 otherwise.
 */
int tokstore_check(struct redis *r, const struct token_claims *c);

#endif
