/* token: see token.h. */
#include "common/token.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <jwt.h>

#include "common/err.h"
#include "common/banned.h"

#define TOKEN_MAX        8192 /* longest token text we look at */
#define TOKEN_HEADER_MAX 512  /* longest decoded header */
#define TOKEN_SECRET_MIN 32
#define TOKEN_INT_MAX    9007199254740991.0 /* 2^53 - 1: exact in a JSON number */

static const char *typ_name(enum token_type t)
{
	return t == TOKEN_REFRESH ? "refresh" : "access";
}

static bool is_b64url(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

static int b64url_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return -1;
}

/* Decodes unpadded base64url; returns the length or -1. */
static int b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value(in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (int)o;
}

/* The header must be a JSON object with "alg":"HS256" (and "typ":"JWT" if typ is present). */
static int check_header(const char *part, size_t n)
{
	unsigned char raw[TOKEN_HEADER_MAX];
	const cJSON *alg, *typ;
	cJSON *h;
	int len, rc = -E_INVALID_TOKEN;

	if (n > (TOKEN_HEADER_MAX / 3) * 4)
		return -E_INVALID_TOKEN;
	len = b64url_decode(part, n, raw, sizeof(raw));
	if (len <= 0)
		return -E_INVALID_TOKEN;
	h = cJSON_ParseWithLength((const char *)raw, (size_t)len);
	if (!cJSON_IsObject(h))
		goto out;
	alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
	typ = cJSON_GetObjectItemCaseSensitive(h, "typ");
	if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0)
		goto out;
	if (typ && (!cJSON_IsString(typ) || strcmp(typ->valuestring, "JWT") != 0))
		goto out;
	if (cJSON_GetObjectItemCaseSensitive(h, "crit"))
		goto out; /* we understand no extensions */
	rc = 0;
out:
	cJSON_Delete(h);
	return rc;
}

/* Three non-empty base64url parts separated by exactly two dots. */
static int check_shape(const char *jwt, size_t *hdr_len)
{
	size_t dots[2], ndots = 0, i;

	for (i = 0; jwt[i]; i++) {
		if (i >= TOKEN_MAX)
			return -E_INVALID_TOKEN;
		if (jwt[i] == '.') {
			if (ndots == 2)
				return -E_INVALID_TOKEN;
			dots[ndots++] = i;
		} else if (!is_b64url(jwt[i])) {
			return -E_INVALID_TOKEN;
		}
	}
	if (ndots != 2 || dots[0] == 0 || dots[1] == dots[0] + 1 || dots[1] + 1 == i)
		return -E_INVALID_TOKEN;
	*hdr_len = dots[0];
	return 0;
}

/*
 * An integer claim. cJSON keeps every number as a double, so libjwt (jansson) is asked too:
 * its jwt_get_grant_int answers 0 for a real such as 1.5e9, which then differs.
 */
static bool get_int(const cJSON *obj, jwt_t *j, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d > TOKEN_INT_MAX || d < -TOKEN_INT_MAX)
		return false;
	if ((int64_t)jwt_get_grant_int(j, key) != (int64_t)d)
		return false;
	*out = (int64_t)d;
	return true;
}

/* Copies a non-empty string claim that fits out[cap]. */
static bool get_str(const cJSON *obj, const char *key, char *out, size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	size_t len;

	if (!cJSON_IsString(v))
		return false;
	len = strlen(v->valuestring);
	if (len == 0 || len >= cap)
		return false;
	memcpy(out, v->valuestring, len + 1);
	return true;
}

static bool get_roles(const cJSON *obj, bool *admin)
{
	const cJSON *roles = cJSON_GetObjectItemCaseSensitive(obj, "roles");
	const cJSON *it;
	bool user = false, adm = false;

	if (!cJSON_IsArray(roles))
		return false;
	cJSON_ArrayForEach(it, roles)
	{
		if (!cJSON_IsString(it))
			return false;
		if (strcmp(it->valuestring, "ADMIN") == 0)
			adm = true;
		else if (strcmp(it->valuestring, "USER") == 0)
			user = true;
	}
	if (!user && !adm)
		return false;
	*admin = adm;
	return true;
}

/* Every required claim with its type; iss and typ as expected. */
static int check_claims(const struct token_keys *keys, const cJSON *p, jwt_t *j,
                        enum token_type expect, struct token_claims *c)
{
	const cJSON *iss = cJSON_GetObjectItemCaseSensitive(p, "iss");
	const cJSON *typ = cJSON_GetObjectItemCaseSensitive(p, "typ");

	if (!cJSON_IsObject(p))
		return -E_INVALID_TOKEN;
	if (!cJSON_IsString(iss) || strcmp(iss->valuestring, keys->issuer) != 0)
		return -E_INVALID_TOKEN;
	if (!cJSON_IsString(typ) || strcmp(typ->valuestring, typ_name(expect)) != 0)
		return -E_INVALID_TOKEN;
	c->typ = expect;
	if (!get_str(p, "sub", c->sub, sizeof(c->sub)) || !get_int(p, j, "uid", &c->uid) ||
	    c->uid <= 0 || !get_roles(p, &c->admin) || !get_str(p, "jti", c->jti, sizeof(c->jti)) ||
	    !get_str(p, "fam", c->fam, sizeof(c->fam)) || !get_int(p, j, "iat", &c->iat) ||
	    !get_int(p, j, "exp", &c->exp))
		return -E_INVALID_TOKEN;
	return 0;
}

int token_verify(const struct token_keys *keys, const char *jwt, enum token_type expect,
                 int64_t now, struct token_claims *out)
{
	struct token_claims c;
	jwt_t *j = NULL;
	char *grants = NULL;
	cJSON *payload = NULL;
	size_t hdr_len;
	int rc;

	if (!keys || !keys->secret || keys->secret_len < TOKEN_SECRET_MIN || !keys->issuer)
		return -E_CONFIG;
	if (!jwt)
		return -E_INVALID_TOKEN;
	rc = check_shape(jwt, &hdr_len);
	if (rc)
		return rc;
	rc = check_header(jwt, hdr_len);
	if (rc)
		return rc;
	rc = -E_INVALID_TOKEN;
	if (jwt_decode(&j, jwt, keys->secret, (int)keys->secret_len) != 0 || !j)
		goto out;
	if (jwt_get_alg(j) != JWT_ALG_HS256)
		goto out;
	grants = jwt_get_grants_json(j, NULL);
	if (!grants)
		goto out;
	payload = cJSON_Parse(grants);
	memset(&c, 0, sizeof(c));
	rc = check_claims(keys, payload, j, expect, &c);
	if (rc)
		goto out;
	if (c.exp <= now) {
		rc = -E_EXPIRED_TOKEN;
		goto out;
	}
	*out = c;
	rc = 0;
out:
	cJSON_Delete(payload);
	free(grants);
	jwt_free(j);
	return rc;
}

/* {"roles":["USER"]} or ["ADMIN"]: libjwt takes arrays only as JSON text. */
static const char *roles_json(bool admin)
{
	return admin ? "{\"roles\":[\"ADMIN\"]}" : "{\"roles\":[\"USER\"]}";
}

int token_issue(const struct token_keys *keys, const struct token_claims *c, char **out)
{
	jwt_t *j = NULL;
	char *text;
	int rc = -E_INTERNAL_ERROR;

	if (!keys || !keys->secret || keys->secret_len < TOKEN_SECRET_MIN || !keys->issuer)
		return -E_CONFIG;
	if (c->uid <= 0 || !c->sub[0] || !c->jti[0] || !c->fam[0] ||
	    memchr(c->sub, '\0', sizeof(c->sub)) == NULL ||
	    memchr(c->jti, '\0', sizeof(c->jti)) == NULL ||
	    memchr(c->fam, '\0', sizeof(c->fam)) == NULL)
		return -E_INTERNAL_ERROR;
	if (jwt_new(&j) != 0)
		return -E_NOMEM;
	if (jwt_set_alg(j, JWT_ALG_HS256, keys->secret, (int)keys->secret_len) != 0 ||
	    jwt_add_header(j, "typ", "JWT") != 0 || jwt_add_grant(j, "sub", c->sub) != 0 ||
	    jwt_add_grant_int(j, "uid", (long)c->uid) != 0 ||
	    jwt_add_grants_json(j, roles_json(c->admin)) != 0 ||
	    jwt_add_grant(j, "jti", c->jti) != 0 || jwt_add_grant(j, "fam", c->fam) != 0 ||
	    jwt_add_grant_int(j, "iat", (long)c->iat) != 0 ||
	    jwt_add_grant_int(j, "exp", (long)c->exp) != 0 ||
	    jwt_add_grant(j, "iss", keys->issuer) != 0 ||
	    jwt_add_grant(j, "typ", typ_name(c->typ)) != 0)
		goto out;
	text = jwt_encode_str(j);
	if (!text) {
		rc = errno == ENOMEM ? -E_NOMEM : -E_INTERNAL_ERROR;
		goto out;
	}
	*out = text;
	rc = 0;
out:
	jwt_free(j);
	return rc;
}
