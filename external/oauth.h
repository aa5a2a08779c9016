/*
 * oauth: the OAuth2 client of the social login (API.md §3.7) over libcurl: the authorize URL,
 * the PKCE challenge (RFC 7636 S256), the code exchange and the profile fetch of the kakao and
 * google providers.
 *
 * Every provider call has a connect timeout of 3 s and a total of 10 s (API.md §1.9) and a
 * capped response. Any failure (transport, timeout, non-2xx status, unusable answer, missing
 * id or email, google email not verified) is -E_OAUTH_PROVIDER_ERROR. The library never logs
 * and never keeps a token or secret beyond the call. Thread-safe (a fresh easy handle per
 * call; curl_global_init must have run, or libcurl >= 7.84 does it lazily).
 */
#ifndef PV_EXTERNAL_OAUTH_H
#define PV_EXTERNAL_OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

#define OAUTH_CONNECT_TIMEOUT_MS 3000
#define OAUTH_TIMEOUT_MS         10000
#define OAUTH_MAX_RESPONSE       (256 * 1024)
#define OAUTH_CHALLENGE_LEN      44 /* 43 base64url chars + NUL */

enum oauth_kind { OAUTH_KAKAO, OAUTH_GOOGLE };

/* A provider's configuration; strings are borrowed (from the daemon's configuration). */
struct oauth_provider {
	const char *name; /* "kakao" or "google" (the {provider} path segment) */
	enum oauth_kind kind;
	const char *client_id; /* "" = unconfigured */
	const char *client_secret;
	const char *authorize_url;
	const char *token_url;
	const char *profile_url;
	const char *scope;
	bool pkce;
	long connect_timeout_ms; /* 0 = OAUTH_CONNECT_TIMEOUT_MS */
	long timeout_ms;         /* 0 = OAUTH_TIMEOUT_MS */
};

/* What the login needs from a profile; owned strings, released with oauth_profile_release. */
struct oauth_profile {
	char *id;    /* kakao id (decimal) / google sub */
	char *email; /* NULL when the provider gave none (or google: not verified) */
	char *name;  /* kakao nickname / google name; NULL when absent */
};

void oauth_profile_release(struct oauth_profile *p);

/* S256 challenge of verifier: base64url(SHA-256(verifier)) without padding. 0 or <0. */
int oauth_pkce_challenge(const char *verifier, char out[OAUTH_CHALLENGE_LEN]);

/* Appends s percent-encoded (RFC 3986 unreserved characters kept) to b. */
int oauth_urlencode(struct buf *b, const char *s);

/*
 * The authorize URL with response_type=code, client_id, redirect_uri, scope, state and,
 * when challenge is not NULL, code_challenge + code_challenge_method=S256. Appended to out.
 */
int oauth_authorize_url(const struct oauth_provider *p, const char *redirect_uri, const char *state,
                        const char *challenge, struct buf *out);

/*
 * Parses a provider's profile answer (kakao: id, kakao_account.email,
 * kakao_account.profile.nickname; google: sub, email when email_verified is true, name).
 * 0 with *out filled, or -E_OAUTH_PROVIDER_ERROR when the JSON or the id is unusable.
 * A missing email is not an error here (out->email NULL): the caller decides.
 */
int oauth_parse_profile(enum oauth_kind kind, const char *json, struct oauth_profile *out);

/*
 * The whole server-side step: exchanges code (with verifier when not NULL) at the token URL,
 * then fetches and parses the profile. 0 with *out filled, or -E_OAUTH_PROVIDER_ERROR.
 */
int oauth_login(const struct oauth_provider *p, const char *code, const char *redirect_uri,
                const char *verifier, struct oauth_profile *out);

#endif
