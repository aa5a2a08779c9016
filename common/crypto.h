/*
 * crypto: password hashing (glibc libcrypt, yescrypt), random bytes (getrandom), tokens,
 * UUIDs, base64url and constant-time comparison.
 *
 * Nothing here logs a secret. Thread-safe (crypt_rn with a per-call buffer).
 */
#ifndef PV_COMMON_CRYPTO_H
#define PV_COMMON_CRYPTO_H

#include <stddef.h>

#define CRYPTO_HASH_MAX  128 /* room for a yescrypt or bcrypt hash + NUL */
#define CRYPTO_UUID_LEN  37
#define CRYPTO_TOKEN_LEN 44 /* 32 random bytes base64url (43) + NUL */

int crypto_random(void *buf, size_t n);
/* 32 random bytes, base64url without padding, 43 chars. */
int crypto_token(char out[CRYPTO_TOKEN_LEN]);
int crypto_uuid4(char out[CRYPTO_UUID_LEN]);
/* Encodes n bytes; out must hold 4*ceil(n/3)+1 bytes. Returns the length written, or <0. */
int crypto_b64url_encode(const void *in, size_t n, char *out, size_t outlen);
/* Decodes base64url (padding optional); returns the decoded length, or <0. */
int crypto_b64url_decode(const char *in, size_t n, void *out, size_t outlen);

/* Bounds how many slow hashes (hash or verify) run at once; call once before threads start.
 * 0 or never called: unbounded. */
int crypto_set_hash_concurrency(unsigned n);

/* Salted slow hash ($y$ yescrypt). out must hold CRYPTO_HASH_MAX. */
int crypto_password_hash(const char *password, char out[CRYPTO_HASH_MAX]);
/* 0 when password matches hash, -E_BAD_CREDENTIALS otherwise (also for a NULL/empty hash). */
int crypto_password_verify(const char *password, const char *hash);

int crypto_equal(const void *a, const void *b, size_t n); /* constant time, 1 when equal */
void crypto_wipe(void *p, size_t n);

#endif
