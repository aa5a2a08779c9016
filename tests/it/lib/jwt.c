/*
 * jwt: forging JWTs for the tests (HS256, HS512 or unsigned), with SHA-256/SHA-512 and HMAC
 * written here (FIPS 180-4, RFC 2104) so that the tests never share the daemon's crypto.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

/* ---- SHA-256 --------------------------------------------------------------------------------- */

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define ROR64(x, n) (((x) >> (n)) | ((x) << (64 - (n))))

struct sha256 {
	uint32_t h[8];
	unsigned char buf[64];
	size_t nbuf;
	uint64_t total;
};

static void sha256_block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t S1 = ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = h + S1 + ch + K256[i] + w[i];
		uint32_t S0 = ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = S0 + maj;
		h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, iv, sizeof(iv));
	s->nbuf = 0;
	s->total = 0;
}

static void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	s->total += n;
	while (n) {
		size_t take = 64 - s->nbuf < n ? 64 - s->nbuf : n;
		memcpy(s->buf + s->nbuf, p, take);
		s->nbuf += take, p += take, n -= take;
		if (s->nbuf == 64) {
			sha256_block(s, s->buf);
			s->nbuf = 0;
		}
	}
}

static void sha256_final(struct sha256 *s, unsigned char out[32])
{
	uint64_t bits = s->total * 8;
	unsigned char pad = 0x80, zero = 0, len[8];

	sha256_update(s, &pad, 1);
	while (s->nbuf != 56)
		sha256_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, len, 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}

/* ---- SHA-512 --------------------------------------------------------------------------------- */

static const uint64_t K512[80] = {
	0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
	0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
	0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
	0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
	0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
	0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
	0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
	0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
	0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
	0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
	0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
	0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
	0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
	0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
	0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
	0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
	0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
	0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
	0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
	0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL};

struct sha512 {
	uint64_t h[8];
	unsigned char buf[128];
	size_t nbuf;
	uint64_t total;
};

static void sha512_block(struct sha512 *s, const unsigned char *p)
{
	uint64_t w[80], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++) {
		w[i] = 0;
		for (int j = 0; j < 8; j++)
			w[i] = w[i] << 8 | p[8 * i + j];
	}
	for (int i = 16; i < 80; i++) {
		uint64_t s0 = ROR64(w[i - 15], 1) ^ ROR64(w[i - 15], 8) ^ (w[i - 15] >> 7);
		uint64_t s1 = ROR64(w[i - 2], 19) ^ ROR64(w[i - 2], 61) ^ (w[i - 2] >> 6);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 80; i++) {
		uint64_t S1 = ROR64(e, 14) ^ ROR64(e, 18) ^ ROR64(e, 41);
		uint64_t ch = (e & f) ^ (~e & g);
		uint64_t t1 = h + S1 + ch + K512[i] + w[i];
		uint64_t S0 = ROR64(a, 28) ^ ROR64(a, 34) ^ ROR64(a, 39);
		uint64_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint64_t t2 = S0 + maj;
		h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha512_init(struct sha512 *s)
{
	static const uint64_t iv[8] = {0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL,
				       0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
				       0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
				       0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
	memcpy(s->h, iv, sizeof(iv));
	s->nbuf = 0;
	s->total = 0;
}

static void sha512_update(struct sha512 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	s->total += n;
	while (n) {
		size_t take = 128 - s->nbuf < n ? 128 - s->nbuf : n;
		memcpy(s->buf + s->nbuf, p, take);
		s->nbuf += take, p += take, n -= take;
		if (s->nbuf == 128) {
			sha512_block(s, s->buf);
			s->nbuf = 0;
		}
	}
}

static void sha512_final(struct sha512 *s, unsigned char out[64])
{
	uint64_t bits = s->total * 8;
	unsigned char pad = 0x80, zero = 0, len[16] = {0};

	sha512_update(s, &pad, 1);
	while (s->nbuf != 112)
		sha512_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[8 + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha512_update(s, len, 16);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			out[8 * i + j] = (unsigned char)(s->h[i] >> (56 - 8 * j));
}

/* ---- HMAC ------------------------------------------------------------------------------------ */

void it_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		    unsigned char out[32])
{
	unsigned char k[64] = {0}, pad[64], inner[32];
	struct sha256 s;

	if (klen > 64) {
		sha256_init(&s);
		sha256_update(&s, key, klen);
		sha256_final(&s, k);
	} else {
		memcpy(k, key, klen);
	}
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&s);
	sha256_update(&s, pad, 64);
	sha256_update(&s, msg, mlen);
	sha256_final(&s, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&s);
	sha256_update(&s, pad, 64);
	sha256_update(&s, inner, 32);
	sha256_final(&s, out);
}

void it_hmac_sha512(const void *key, size_t klen, const void *msg, size_t mlen,
		    unsigned char out[64])
{
	unsigned char k[128] = {0}, pad[128], inner[64];
	struct sha512 s;

	if (klen > 128) {
		sha512_init(&s);
		sha512_update(&s, key, klen);
		sha512_final(&s, k);
	} else {
		memcpy(k, key, klen);
	}
	for (int i = 0; i < 128; i++)
		pad[i] = k[i] ^ 0x36;
	sha512_init(&s);
	sha512_update(&s, pad, 128);
	sha512_update(&s, msg, mlen);
	sha512_final(&s, inner);
	for (int i = 0; i < 128; i++)
		pad[i] = k[i] ^ 0x5c;
	sha512_init(&s);
	sha512_update(&s, pad, 128);
	sha512_update(&s, inner, 64);
	sha512_final(&s, out);
}

/* ---- base64url ------------------------------------------------------------------------------- */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *it_b64url(const void *data, size_t n)
{
	const unsigned char *p = data;
	char *out = malloc(n / 3 * 4 + 5), *o = out;
	size_t i = 0;

	if (!out)
		return NULL;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = B64URL[v >> 18 & 63];
		*o++ = B64URL[v >> 12 & 63];
		*o++ = B64URL[v >> 6 & 63];
		*o++ = B64URL[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		*o++ = B64URL[v >> 18 & 63];
		*o++ = B64URL[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = B64URL[v >> 18 & 63];
		*o++ = B64URL[v >> 12 & 63];
		*o++ = B64URL[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

/* Decodes base64url (or standard base64, padding optional) into a NUL-terminated buffer. */
static char *b64url_decode(const char *in, size_t n, size_t *outlen)
{
	char *out = malloc(n * 3 / 4 + 4);
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int v;
		char c = in[i];
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '-' || c == '+')
			v = 62;
		else if (c == '_' || c == '/')
			v = 63;
		else if (c == '=')
			break;
		else {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

/* ---- JWTs ------------------------------------------------------------------------------------ */

char *it_forge_token_key(const char *alg, const char *header_json, const char *claims_json,
			 const void *key, size_t key_len)
{
	char *h = it_b64url(header_json, strlen(header_json));
	char *c = it_b64url(claims_json, strlen(claims_json));
	char *sig = NULL, *signing = NULL, *out = NULL;
	unsigned char mac[64];
	size_t slen;

	if (!h || !c)
		goto out;
	slen = strlen(h) + 1 + strlen(c);
	signing = malloc(slen + 1);
	if (!signing)
		goto out;
	snprintf(signing, slen + 1, "%s.%s", h, c);
	if (strcmp(alg, "HS256") == 0) {
		it_hmac_sha256(key, key_len, signing, slen, mac);
		sig = it_b64url(mac, 32);
	} else if (strcmp(alg, "HS512") == 0) {
		it_hmac_sha512(key, key_len, signing, slen, mac);
		sig = it_b64url(mac, 64);
	} else {
		sig = strdup("");
	}
	if (!sig)
		goto out;
	out = malloc(slen + 1 + strlen(sig) + 1);
	if (out)
		snprintf(out, slen + 1 + strlen(sig) + 1, "%s.%s", signing, sig);
out:
	free(h);
	free(c);
	free(signing);
	free(sig);
	return out;
}

char *it_forge_token(const char *alg, const char *header_json, const char *claims_json)
{
	return it_forge_token_key(alg, header_json, claims_json, IT_JWT_SECRET,
				  strlen(IT_JWT_SECRET));
}

char *it_sign_claims(const cJSON *claims)
{
	char *text = cJSON_PrintUnformatted(claims);
	char *jwt;

	if (!text)
		return NULL;
	jwt = it_forge_token("HS256", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", text);
	free(text);
	return jwt;
}

static cJSON *jwt_part(const char *jwt, int part)
{
	const char *p = jwt, *end;
	char *text;
	cJSON *j;

	if (!jwt)
		return NULL;
	for (int i = 0; i < part; i++) {
		p = strchr(p, '.');
		if (!p)
			return NULL;
		p++;
	}
	end = strchr(p, '.');
	if (!end)
		end = p + strlen(p);
	text = b64url_decode(p, (size_t)(end - p), NULL);
	if (!text)
		return NULL;
	j = cJSON_Parse(text);
	free(text);
	return j;
}

cJSON *it_jwt_header(const char *jwt)
{
	return jwt_part(jwt, 0);
}

cJSON *it_jwt_claims(const char *jwt)
{
	return jwt_part(jwt, 1);
}

int64_t it_now(void)
{
	return (int64_t)time(NULL);
}
