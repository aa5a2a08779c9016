/* crypto: passwords, random bytes, tokens, UUIDs, base64url (see crypto.h). */
#include "common/crypto.h"

#include <crypt.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <semaphore.h>
#include <string.h>
#include <sys/random.h>

#include "common/err.h"
#include "common/banned.h"

#define CRYPTO_TOKEN_BYTES 32

static const char crypto_b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -E_IO;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int crypto_token(char out[CRYPTO_TOKEN_LEN])
{
	unsigned char raw[CRYPTO_TOKEN_BYTES];
	int rc;

	rc = crypto_random(raw, sizeof(raw));
	if (rc == 0)
		rc = crypto_b64url_encode(raw, sizeof(raw), out, CRYPTO_TOKEN_LEN);
	crypto_wipe(raw, sizeof(raw));
	return rc < 0 ? rc : 0;
}

int crypto_uuid4(char out[CRYPTO_UUID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t o = 0;
	int rc;

	rc = crypto_random(b, sizeof(b));
	if (rc)
		return rc;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0xf];
	}
	out[o] = '\0';
	return 0;
}

int crypto_b64url_encode(const void *in, size_t n, char *out, size_t outlen)
{
	const unsigned char *p = in;
	size_t need, o = 0, i = 0;

	if (n > (size_t)INT_MAX / 4 * 3 - 3)
		return -E_TOO_LONG;
	need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	if (!out || outlen < need + 1)
		return -E_TOO_LONG;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = crypto_b64url_chars[v >> 18 & 63];
		out[o++] = crypto_b64url_chars[v >> 12 & 63];
		out[o++] = crypto_b64url_chars[v >> 6 & 63];
		out[o++] = crypto_b64url_chars[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		out[o++] = crypto_b64url_chars[v >> 18 & 63];
		out[o++] = crypto_b64url_chars[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		out[o++] = crypto_b64url_chars[v >> 18 & 63];
		out[o++] = crypto_b64url_chars[v >> 12 & 63];
		out[o++] = crypto_b64url_chars[v >> 6 & 63];
	}
	out[o] = '\0';
	return (int)o;
}

static int crypto_b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Strict: only the URL alphabet, '=' padding only to a multiple of 4, and the unused low bits
 * of the last character must be zero (so every byte string has exactly one encoding).
 */
int crypto_b64url_decode(const char *in, size_t n, void *out, size_t outlen)
{
	unsigned char *o = out;
	size_t len = n, pad = 0, need, k = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (!in)
		return -E_MALFORMED_REQUEST;
	while (len > 0 && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (pad && n % 4 != 0)
		return -E_MALFORMED_REQUEST;
	if (len % 4 == 1 || len > (size_t)INT_MAX)
		return -E_MALFORMED_REQUEST;
	if (pad && pad != (4 - len % 4) % 4)
		return -E_MALFORMED_REQUEST;
	need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	for (size_t i = 0; i < len; i++) {
		if (crypto_b64url_value(in[i]) < 0)
			return -E_MALFORMED_REQUEST;
	}
	/* the low bits the last character carries beyond the data must be zero */
	if ((len % 4 == 2 && (crypto_b64url_value(in[len - 1]) & 0x0f)) ||
	    (len % 4 == 3 && (crypto_b64url_value(in[len - 1]) & 0x03)))
		return -E_MALFORMED_REQUEST;
	if (outlen < need)
		return -E_TOO_LONG;
	for (size_t i = 0; i < len; i++) {
		acc = acc << 6 | (uint32_t)crypto_b64url_value(in[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (int)k;
}

/*
 * A slow hash costs tens of milliseconds of CPU and, for yescrypt, 16 MiB of memory, so the
 * number of hashes computed at once is bounded (crypto_set_hash_concurrency); 0 = unbounded.
 */
static sem_t hash_slots;
static int hash_slots_on;

int crypto_set_hash_concurrency(unsigned n)
{
	if (hash_slots_on || n == 0)
		return 0;
	if (sem_init(&hash_slots, 0, n) != 0)
		return -E_INTERNAL_ERROR;
	hash_slots_on = 1;
	return 0;
}

static const char *slow_crypt(const char *password, const char *setting, struct crypt_data *cd)
{
	const char *h;

	if (hash_slots_on)
		while (sem_wait(&hash_slots) != 0 && errno == EINTR)
			;
	h = crypt_rn(password, setting, cd, (int)sizeof(*cd));
	if (hash_slots_on)
		sem_post(&hash_slots);
	return h;
}

int crypto_password_hash(const char *password, char out[CRYPTO_HASH_MAX])
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	const char *h;
	size_t n;
	int rc = 0;

	if (!password)
		return -E_INTERNAL_ERROR;
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof(salt)))
		return -E_INTERNAL_ERROR;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -E_NOMEM;
	h = slow_crypt(password, salt, cd);
	if (!h || h[0] == '*') {
		rc = -E_INTERNAL_ERROR;
		goto out;
	}
	n = strlen(h);
	if (n >= CRYPTO_HASH_MAX) {
		rc = -E_TOO_LONG;
		goto out;
	}
	memcpy(out, h, n + 1);
out:
	crypto_wipe(cd, sizeof(*cd));
	free(cd);
	return rc;
}

int crypto_password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd = NULL;
	const char *h;
	size_t n;
	int rc = -E_BAD_CREDENTIALS;

	if (!password || !hash || !hash[0] || hash[0] == '*')
		return -E_BAD_CREDENTIALS;
	n = strlen(hash);
	if (n >= CRYPTO_HASH_MAX)
		return -E_BAD_CREDENTIALS;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -E_NOMEM;
	h = slow_crypt(password, hash, cd);
	if (h && h[0] != '*' && strlen(h) == n && crypto_equal(h, hash, n))
		rc = 0;
	crypto_wipe(cd, sizeof(*cd));
	free(cd);
	return rc;
}

int crypto_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a;
	const volatile unsigned char *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

void crypto_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}
