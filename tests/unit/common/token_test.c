/*
 * token_test: JWTs as API.md §1.6 wants them: HS256 only, checked header, signature, issuer,
 * typ and every claim, and EXPIRED only for an otherwise valid token. Forged tokens are
 * built here with libjwt or by hand.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <jwt.h>

#include "common/err.h"
#include "common/token.h"
#include "common/banned.h"

#define NOW 1767590000 /* 2026-01-05 */

static const unsigned char secret[] = "0123456789abcdef0123456789abcdef-test-secret";
static const struct token_keys keys = {secret, sizeof(secret) - 1, "pillivery"};

static struct token_claims sample(enum token_type typ, bool admin)
{
	struct token_claims c = {.uid = 42, .admin = admin, .iat = NOW, .exp = NOW + 1800};

	snprintf(c.sub, sizeof(c.sub), "%s", "user@example.com");
	snprintf(c.jti, sizeof(c.jti), "%s", "jti-0001");
	snprintf(c.fam, sizeof(c.fam), "%s", "fam-0001");
	c.typ = typ;
	return c;
}

static char *issue(const struct token_keys *k, const struct token_claims *c)
{
	char *t = NULL;

	ck_assert_int_eq(token_issue(k, c, &t), 0);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* ---- forging helpers ------------------------------------------------------------------ */

static void b64url(const void *in, size_t n, char *out, size_t outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = in;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			ck_assert_uint_lt(o, outlen - 1);
			out[o++] = tab[(acc >> bits) & 63];
		}
	}
	if (bits > 0) {
		ck_assert_uint_lt(o, outlen - 1);
		out[o++] = tab[(acc << (6 - bits)) & 63];
	}
	out[o] = '\0';
}

/* header.payload.sig from raw JSON texts and a given signature part. */
static char *forge_raw(const char *header, const char *payload, const char *sig)
{
	char h[1024], p[2048];
	size_t len;
	char *t;

	b64url(header, strlen(header), h, sizeof(h));
	b64url(payload, strlen(payload), p, sizeof(p));
	len = strlen(h) + strlen(p) + strlen(sig) + 3;
	t = malloc(len);
	ck_assert_ptr_nonnull(t);
	snprintf(t, len, "%s.%s.%s", h, p, sig);
	return t;
}

/* The valid claims as JSON, with one key dropped or replaced by raw JSON. */
static char *claims_json(const char *typ, const char *key, const char *raw)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "sub", "user@example.com");
	cJSON_AddNumberToObject(o, "uid", 42);
	cJSON_AddItemToObject(o, "roles", cJSON_Parse("[\"USER\"]"));
	cJSON_AddStringToObject(o, "jti", "jti-0001");
	cJSON_AddStringToObject(o, "fam", "fam-0001");
	cJSON_AddNumberToObject(o, "iat", NOW);
	cJSON_AddNumberToObject(o, "exp", NOW + 1800);
	cJSON_AddStringToObject(o, "iss", "pillivery");
	cJSON_AddStringToObject(o, "typ", typ);
	if (key && !raw)
		cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	else if (key) {
		cJSON *v = cJSON_Parse(raw);

		ck_assert_ptr_nonnull(v);
		if (cJSON_GetObjectItemCaseSensitive(o, key))
			cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
		else
			cJSON_AddItemToObject(o, key, v);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Signed by libjwt with any alg and key. */
static char *forge_jwt(jwt_alg_t alg, const unsigned char *key, size_t keylen, const char *grants)
{
	jwt_t *j = NULL;
	char *t;

	ck_assert_int_eq(jwt_new(&j), 0);
	ck_assert_int_eq(jwt_add_grants_json(j, grants), 0);
	ck_assert_int_eq(jwt_set_alg(j, alg, key, (int)keylen), 0);
	t = jwt_encode_str(j);
	ck_assert_ptr_nonnull(t);
	jwt_free(j);
	return t;
}

/* HS256 with the right secret but the given claims. */
static char *forge_claims(const char *typ, const char *key, const char *raw)
{
	char *g = claims_json(typ, key, raw);
	char *t = forge_jwt(JWT_ALG_HS256, secret, sizeof(secret) - 1, g);

	free(g);
	return t;
}

static void assert_rejected(const char *t, enum token_type expect, int want)
{
	struct token_claims out;

	memset(&out, 0x5a, sizeof(out));
	ck_assert_int_eq(token_verify(&keys, t, expect, NOW, &out), want);
	/* out is written only on success */
	ck_assert_int_eq(((unsigned char *)&out)[0], 0x5a);
	ck_assert_int_eq(out.uid, (int64_t)0x5a5a5a5a5a5a5a5aull);
}

/* ---- tests ---------------------------------------------------------------------------- */

START_TEST(test_issue_and_verify_round_trip)
{
	struct token_claims in = sample(TOKEN_ACCESS, false), out;
	char *t = issue(&keys, &in);

	ck_assert_int_eq(token_verify(&keys, t, TOKEN_ACCESS, NOW + 10, &out), 0);
	ck_assert_int_eq(out.uid, 42);
	ck_assert_str_eq(out.sub, "user@example.com");
	ck_assert_str_eq(out.jti, "jti-0001");
	ck_assert_str_eq(out.fam, "fam-0001");
	ck_assert_int_eq(out.iat, NOW);
	ck_assert_int_eq(out.exp, NOW + 1800);
	ck_assert(!out.admin);
	ck_assert_int_eq(out.typ, TOKEN_ACCESS);
	free(t);

	in = sample(TOKEN_REFRESH, true);
	t = issue(&keys, &in);
	ck_assert_int_eq(token_verify(&keys, t, TOKEN_REFRESH, NOW, &out), 0);
	ck_assert(out.admin);
	ck_assert_int_eq(out.typ, TOKEN_REFRESH);
	free(t);
}
END_TEST

START_TEST(test_issued_header_and_claims)
{
	struct token_claims in = sample(TOKEN_REFRESH, true);
	char *t = issue(&keys, &in);
	jwt_t *j = NULL;
	char *roles;

	/* Three parts; libjwt itself reads them back with the same secret. */
	ck_assert_ptr_nonnull(strchr(t, '.'));
	ck_assert_int_eq(jwt_decode(&j, t, secret, (int)sizeof(secret) - 1), 0);
	ck_assert_int_eq(jwt_get_alg(j), JWT_ALG_HS256);
	ck_assert_str_eq(jwt_get_header(j, "typ"), "JWT");
	ck_assert_str_eq(jwt_get_grant(j, "iss"), "pillivery");
	ck_assert_str_eq(jwt_get_grant(j, "typ"), "refresh");
	ck_assert_str_eq(jwt_get_grant(j, "sub"), "user@example.com");
	ck_assert_int_eq(jwt_get_grant_int(j, "uid"), 42);
	ck_assert_int_eq(jwt_get_grant_int(j, "exp"), NOW + 1800);
	roles = jwt_get_grants_json(j, "roles");
	ck_assert_str_eq(roles, "[\"ADMIN\"]");
	free(roles);
	jwt_free(j);
	free(t);
}
END_TEST

START_TEST(test_wrong_typ_is_invalid)
{
	struct token_claims a = sample(TOKEN_ACCESS, false), r = sample(TOKEN_REFRESH, false);
	char *ta = issue(&keys, &a), *tr = issue(&keys, &r);

	assert_rejected(ta, TOKEN_REFRESH, -E_INVALID_TOKEN);
	assert_rejected(tr, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(ta);
	free(tr);

	ta = forge_claims("bearer", NULL, NULL);
	assert_rejected(ta, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(ta);
}
END_TEST

START_TEST(test_expired_only_when_valid)
{
	struct token_claims c = sample(TOKEN_ACCESS, false), out;
	struct token_keys evil = {secret, sizeof(secret) - 1, "evil"};
	static const unsigned char other[] = "another-secret-another-secret-another";
	struct token_keys other_keys = {other, sizeof(other) - 1, "pillivery"};
	char *t;

	/* exp == now is expired; a second before is fine. */
	c.exp = NOW;
	c.iat = NOW - 1800;
	t = issue(&keys, &c);
	ck_assert_int_eq(token_verify(&keys, t, TOKEN_ACCESS, NOW - 1, &out), 0);
	assert_rejected(t, TOKEN_ACCESS, -E_EXPIRED_TOKEN);
	/* Expired and of the wrong typ: invalid, not expired. */
	assert_rejected(t, TOKEN_REFRESH, -E_INVALID_TOKEN);
	free(t);

	/* Expired with a wrong issuer or a foreign secret: invalid, not expired. */
	t = issue(&evil, &c);
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = issue(&other_keys, &c);
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
}
END_TEST

START_TEST(test_wrong_issuer_or_secret)
{
	struct token_claims c = sample(TOKEN_ACCESS, false);
	struct token_keys evil = {secret, sizeof(secret) - 1, "pillivery2"};
	static const unsigned char other[] = "another-secret-another-secret-another";
	struct token_keys other_keys = {other, sizeof(other) - 1, "pillivery"};
	char *t = issue(&evil, &c);

	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = issue(&other_keys, &c);
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
}
END_TEST

START_TEST(test_other_algorithms_are_refused)
{
	char *g = claims_json("access", NULL, NULL);
	char *t;

	/* alg none, as libjwt writes it (empty signature) and with a signature part. */
	t = forge_jwt(JWT_ALG_NONE, NULL, 0, g);
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = forge_raw("{\"alg\":\"none\",\"typ\":\"JWT\"}", g, "AAAA");
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = forge_raw("{\"alg\":\"None\"}", g, "AAAA");
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	/* HS512 and HS384 with the very same secret. */
	t = forge_jwt(JWT_ALG_HS512, secret, sizeof(secret) - 1, g);
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = forge_jwt(JWT_ALG_HS384, secret, sizeof(secret) - 1, g);
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	/* RS256, missing alg, lower case, wrong type, duplicated alg, unknown crit. */
	t = forge_raw("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", g, "c2lnbmF0dXJl");
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = forge_raw("{\"typ\":\"JWT\"}", g, "c2lnbmF0dXJl");
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = forge_raw("{\"alg\":\"hs256\"}", g, "c2lnbmF0dXJl");
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = forge_raw("{\"alg\":256}", g, "c2lnbmF0dXJl");
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = forge_raw("{\"alg\":\"HS256\",\"alg\":\"none\"}", g, "c2lnbmF0dXJl");
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = forge_raw("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", g, "c2lnbmF0dXJl");
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	t = forge_raw("[\"alg\",\"HS256\"]", g, "c2lnbmF0dXJl");
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	free(g);
}
END_TEST

START_TEST(test_tampering_is_detected)
{
	struct token_claims c = sample(TOKEN_ACCESS, false);
	char *t = issue(&keys, &c), *t2, *dot1, *dot2, *g;
	char payload[2048];
	size_t len;

	/* Another payload (uid 1, ADMIN) under the original header and signature. */
	dot1 = strchr(t, '.');
	dot2 = strchr(dot1 + 1, '.');
	g = claims_json("access", "roles", "[\"ADMIN\"]");
	b64url(g, strlen(g), payload, sizeof(payload));
	len = (size_t)(dot1 - t) + strlen(payload) + strlen(dot2) + 2;
	t2 = malloc(len);
	ck_assert_ptr_nonnull(t2);
	snprintf(t2, len, "%.*s.%s%s", (int)(dot1 - t), t, payload, dot2);
	assert_rejected(t2, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t2);
	free(g);

	/* One character of the signature changed (mid-string: every bit counts). */
	len = strlen(t);
	t2 = strdup(t);
	ck_assert_ptr_nonnull(t2);
	t2[len - 10] = t2[len - 10] == 'A' ? 'B' : 'A';
	assert_rejected(t2, TOKEN_ACCESS, -E_INVALID_TOKEN);
	/* Signature dropped or cut. */
	t2[len - 10] = t[len - 10];
	t2[len - 1] = '\0';
	assert_rejected(t2, TOKEN_ACCESS, -E_INVALID_TOKEN);
	t2[(size_t)(dot2 - t) + 1] = '\0';
	assert_rejected(t2, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t2);
	free(t);
}
END_TEST

START_TEST(test_every_claim_is_required_and_typed)
{
	static const char *const required[] = {"sub", "uid", "roles", "jti", "fam",
	                                       "iat", "exp", "iss",   "typ"};
	static const struct {
		const char *key, *raw;
	} bad[] = {
	    {"sub", "17"},
	    {"sub", "\"\""},
	    {"uid", "\"42\""},
	    {"uid", "0"},
	    {"uid", "-5"},
	    {"uid", "1.5"},
	    {"uid", "1e300"},
	    {"roles", "\"USER\""},
	    {"roles", "[]"},
	    {"roles", "[\"GUEST\"]"},
	    {"roles", "[\"USER\", 1]"},
	    {"roles", "{\"USER\":true}"},
	    {"jti", "12"},
	    {"jti", "\"0123456789012345678901234567890123456789\""},
	    {"fam", "null"},
	    {"iat", "\"now\""},
	    {"exp", "\"2099\""},
	    {"exp", "true"},
	    {"iss", "null"},
	    {"iss", "\"Pillivery\""},
	    {"typ", "\"ACCESS\""},
	};
	char *t;

	/* The unmodified forge passes, so the failures below are the claim's. */
	t = forge_claims("access", NULL, NULL);
	struct token_claims out;
	ck_assert_int_eq(token_verify(&keys, t, TOKEN_ACCESS, NOW, &out), 0);
	free(t);

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		t = forge_claims("access", required[i], NULL);
		assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
		free(t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = forge_claims("access", bad[i].key, bad[i].raw);
		ck_assert_msg(token_verify(&keys, t, TOKEN_ACCESS, NOW, &out) == -E_INVALID_TOKEN,
		              "%s = %s accepted", bad[i].key, bad[i].raw);
		free(t);
	}
	/* An integral real ("exp": 1767591800.0): cJSON cannot tell, jansson can. */
	{
		char *g = claims_json("access", NULL, NULL);
		char *at = strstr(g, "\"exp\":1767591800");
		char real[1024];

		ck_assert_ptr_nonnull(at);
		snprintf(real, sizeof(real), "%.*s\"exp\":1767591800.0%s", (int)(at - g), g,
		         at + strlen("\"exp\":1767591800"));
		t = forge_jwt(JWT_ALG_HS256, secret, sizeof(secret) - 1, real);
		assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
		free(t);
		free(g);
	}
	/* 100-character sub fits; 101 does not. */
	char sub[110];
	char raw[120];
	memset(sub, 'a', sizeof(sub));
	sub[100] = '\0';
	snprintf(raw, sizeof(raw), "\"%s\"", sub);
	t = forge_claims("access", "sub", raw);
	ck_assert_int_eq(token_verify(&keys, t, TOKEN_ACCESS, NOW, &out), 0);
	ck_assert_uint_eq(strlen(out.sub), 100);
	free(t);
	snprintf(raw, sizeof(raw), "\"%sb\"", sub);
	t = forge_claims("access", "sub", raw);
	assert_rejected(t, TOKEN_ACCESS, -E_INVALID_TOKEN);
	free(t);
	/* Extra claims and both roles are fine; ADMIN wins. */
	t = forge_claims("access", "roles", "[\"USER\",\"ADMIN\"]");
	ck_assert_int_eq(token_verify(&keys, t, TOKEN_ACCESS, NOW, &out), 0);
	ck_assert(out.admin);
	free(t);
	t = forge_claims("access", "extra", "{\"x\":[1,2]}");
	ck_assert_int_eq(token_verify(&keys, t, TOKEN_ACCESS, NOW, &out), 0);
	free(t);
}
END_TEST

/* xorshift: deterministic garbage. */
static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

START_TEST(test_garbage_never_crashes)
{
	static const char *const junk[] = {"",
	                                   ".",
	                                   "..",
	                                   "...",
	                                   "a.b.c",
	                                   "a.b",
	                                   "a.b.c.d",
	                                   "a..c",
	                                   ".b.c",
	                                   "a.b.",
	                                   " a.b.c",
	                                   "a.b.c ",
	                                   "Bearer a.b.c",
	                                   "e30.e30.e30",
	                                   "e30=.e30.AAAA",
	                                   "eyJhbGciOiJIUzI1NiJ9.e30.AAAA",
	                                   "\xff\xfe.\x01.\x02"};
	struct token_claims c = sample(TOKEN_REFRESH, false);
	char *t = issue(&keys, &c), *buf;
	size_t len = strlen(t);
	uint32_t seed = 12345;

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_rejected(junk[i], TOKEN_REFRESH, -E_INVALID_TOKEN);
	assert_rejected(NULL, TOKEN_REFRESH, -E_INVALID_TOKEN);

	/* Every proper prefix of a valid token. */
	buf = malloc(len + 1);
	ck_assert_ptr_nonnull(buf);
	for (size_t n = 0; n < len; n++) {
		memcpy(buf, t, n);
		buf[n] = '\0';
		assert_rejected(buf, TOKEN_REFRESH, -E_INVALID_TOKEN);
	}
	/* Random bytes in random places of a valid token. */
	for (int round = 0; round < 2000; round++) {
		memcpy(buf, t, len + 1);
		for (int k = 0; k < 3; k++) {
			size_t pos = next_rand(&seed) % len;
			char ch = (char)(next_rand(&seed) % 255 + 1);

			buf[pos] = ch;
		}
		if (strcmp(buf, t) != 0)
			ck_assert_int_ne(token_verify(&keys, buf, TOKEN_REFRESH, NOW, &c), 0);
	}
	free(buf);
	free(t);

	/* Huge inputs: 1 MB of base64 characters with dots, and a huge header. */
	buf = malloc(1 << 20);
	ck_assert_ptr_nonnull(buf);
	memset(buf, 'A', (1 << 20) - 1);
	buf[(1 << 20) - 1] = '\0';
	buf[1000] = '.';
	buf[2000] = '.';
	assert_rejected(buf, TOKEN_REFRESH, -E_INVALID_TOKEN);
	buf[1000] = 'A';
	buf[2000] = 'A';
	buf[(1 << 20) - 100] = '.';
	buf[(1 << 20) - 50] = '.';
	assert_rejected(buf, TOKEN_REFRESH, -E_INVALID_TOKEN);
	free(buf);
}
END_TEST

START_TEST(test_bad_keys_and_claims_refused_at_issue)
{
	static const unsigned char short_secret[] = "too-short";
	struct token_keys weak = {short_secret, sizeof(short_secret) - 1, "pillivery"};
	struct token_claims c = sample(TOKEN_ACCESS, false), out;
	char *t = NULL;

	ck_assert_int_eq(token_issue(&weak, &c, &t), -E_CONFIG);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(token_verify(&weak, "a.b.c", TOKEN_ACCESS, NOW, &out), -E_CONFIG);
	c.uid = 0;
	ck_assert_int_ne(token_issue(&keys, &c, &t), 0);
	c = sample(TOKEN_ACCESS, false);
	c.fam[0] = '\0';
	ck_assert_int_ne(token_issue(&keys, &c, &t), 0);
	ck_assert_ptr_null(t);
}
END_TEST

Suite *token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("token");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_issue_and_verify_round_trip);
	tcase_add_test(tc, test_issued_header_and_claims);
	tcase_add_test(tc, test_wrong_typ_is_invalid);
	tcase_add_test(tc, test_expired_only_when_valid);
	tcase_add_test(tc, test_wrong_issuer_or_secret);
	tcase_add_test(tc, test_other_algorithms_are_refused);
	tcase_add_test(tc, test_tampering_is_detected);
	tcase_add_test(tc, test_every_claim_is_required_and_typed);
	tcase_add_test(tc, test_garbage_never_crashes);
	tcase_add_test(tc, test_bad_keys_and_claims_refused_at_issue);
	suite_add_tcase(s, tc);
	return s;
}
