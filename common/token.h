/*
 * token: JWT access and refresh tokens (HS256 through libjwt), API.md §1.6.
 *
 * token_issue signs a token from claims; token_verify accepts only HS256 (the header is
 * checked before libjwt sees the token, so "none" or any other alg is refused), a valid
 * signature, the configured issuer, the expected typ and every required claim, and only then
 * compares exp with now (so a forged token is INVALID, never EXPIRED). Revocation lives in
 * tokstore (Redis), not here.
 *
 * Claims: sub (email), uid, roles (["USER"] or ["ADMIN"]), jti, iat, exp, iss, typ
 * ("access"/"refresh") and fam (the token family; refresh tokens by contract, access tokens
 * too so that revoking a family revokes its access tokens).
 *
 * Thread-safe.
 */
#ifndef PV_COMMON_TOKEN_H
#define PV_COMMON_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum token_type { TOKEN_ACCESS, TOKEN_REFRESH };

struct token_keys {
	const unsigned char *secret; /* >= 32 bytes, borrowed */
	size_t secret_len;
	const char *issuer; /* "pillivery", borrowed */
};

struct token_claims {
	int64_t uid;
	char sub[101];
	bool admin;
	char jti[40];
	char fam[40];
	int64_t iat;
	int64_t exp;
	enum token_type typ;
};

/* *out is malloc'd text (caller frees). */
int token_issue(const struct token_keys *keys, const struct token_claims *c, char **out);
/* 0, -E_INVALID_TOKEN or -E_EXPIRED_TOKEN (-E_CONFIG when keys are unusable: a secret
 * shorter than 32 bytes or no issuer; token_issue too). out is written only on success. */
int token_verify(const struct token_keys *keys, const char *jwt, enum token_type expect,
                 int64_t now, struct token_claims *out);

#endif
