/*
 * auth: authentication of requests (API.md §1.6): the Bearer access token is verified
 * (signature, alg, iss, typ, exp) and checked against the token store in Redis (logout,
 * revoked family, withdrawn user), then the principal is stored in req->auth.
 * Also token issuance for login, refresh and profile completion, and the client address
 * (X-Forwarded-For from trusted proxies, §2.9).
 */
#ifndef PV_API_AUTH_H
#define PV_API_AUTH_H

#include <stdbool.h>
#include <stdint.h>

struct req;

/* 0, or -E_UNAUTHORIZED / -E_INVALID_TOKEN / -E_EXPIRED_TOKEN / -E_ALREADY_LOGOUT /
 * -E_USER_WITHDRAWN / -E_SERVICE_UNAVAILABLE. */
int auth_authenticate(struct req *r);
/* Issues an access + refresh pair in family fam (new family when fam is NULL), records the
 * family in Redis and adds the Authorization, Refresh and userId headers. */
int auth_issue_tokens(struct req *r, int64_t uid, const char *email, bool admin, const char *fam,
                      const char *refresh_jti_to_rotate);
/* Sets r->client_ip from the peer or, behind a trusted proxy, X-Forwarded-For. */
void auth_client_ip(struct req *r);
/* 1 when the principal may act on user uid's resources (itself, or ADMIN when admin_ok). */
bool auth_owns(const struct req *r, int64_t uid, bool admin_ok);

#endif
