/* crypto_test: random bytes, tokens, UUIDs, base64url (RFC 4648 vectors), passwords. */
#include <check.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/banned.h"

/* Made once with libcrypt for "correct horse": a stored hash must keep verifying. */
#define KNOWN_HASH "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79"

static int is_b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

START_TEST(test_random_fills_and_differs)
{
	unsigned char a[64], b[64], zero[64];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(zero, 0, sizeof(zero));
	ck_assert_int_eq(crypto_random(a, sizeof(a)), 0);
	ck_assert_int_eq(crypto_random(b, sizeof(b)), 0);
	ck_assert_int_ne(memcmp(a, zero, sizeof(a)), 0);
	ck_assert_int_ne(memcmp(a, b, sizeof(a)), 0);
	ck_assert_int_eq(crypto_random(a, 0), 0);
}
END_TEST

START_TEST(test_random_large_request)
{
	static unsigned char big[1 << 20]; /* more than one getrandom call may return */
	size_t zeros = 0;

	ck_assert_int_eq(crypto_random(big, sizeof(big)), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		zeros += big[i] == 0;
	/* about 4096 expected; a short read would leave a zero tail */
	ck_assert_uint_lt(zeros, 8192);
	ck_assert_int_ne(big[sizeof(big) - 1] | big[sizeof(big) - 2] | big[sizeof(big) - 3] |
	                     big[sizeof(big) - 4],
	                 0);
}
END_TEST

START_TEST(test_token)
{
	char a[CRYPTO_TOKEN_LEN], b[CRYPTO_TOKEN_LEN];

	ck_assert_int_eq(crypto_token(a), 0);
	ck_assert_int_eq(crypto_token(b), 0);
	ck_assert_uint_eq(strlen(a), 43);
	for (size_t i = 0; i < 43; i++)
		ck_assert_msg(is_b64url_char(a[i]), "bad char %c", a[i]);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_uuid4_format)
{
	char u[CRYPTO_UUID_LEN], v[CRYPTO_UUID_LEN];

	for (int round = 0; round < 100; round++) {
		ck_assert_int_eq(crypto_uuid4(u), 0);
		ck_assert_uint_eq(strlen(u), 36);
		for (size_t i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				ck_assert_int_eq(u[i], '-');
			else
				ck_assert_msg((u[i] >= '0' && u[i] <= '9') ||
				                  (u[i] >= 'a' && u[i] <= 'f'),
				              "bad char %c in %s", u[i], u);
		}
		ck_assert_int_eq(u[14], '4');
		ck_assert_ptr_nonnull(strchr("89ab", u[19]));
	}
	ck_assert_int_eq(crypto_uuid4(v), 0);
	ck_assert_str_ne(u, v);
}
END_TEST

START_TEST(test_b64url_encode_vectors)
{
	static const struct {
		const char *in, *out;
	} v[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
	         {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
	const unsigned char url[] = {0xfb, 0xff, 0xbf};
	char out[16];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(crypto_b64url_encode(v[i].in, strlen(v[i].in), out, sizeof(out)),
		                 (int)strlen(v[i].out));
		ck_assert_str_eq(out, v[i].out);
	}
	/* the URL alphabet: '-' and '_' instead of '+' and '/' */
	ck_assert_int_eq(crypto_b64url_encode(url, 3, out, sizeof(out)), 4);
	ck_assert_str_eq(out, "-_-_");
	ck_assert_int_eq(crypto_b64url_encode(url, 2, out, sizeof(out)), 3);
	ck_assert_str_eq(out, "-_8");
}
END_TEST

START_TEST(test_b64url_encode_capacity)
{
	char out[16];

	ck_assert_int_eq(crypto_b64url_encode("foobar", 6, out, 8), -E_TOO_LONG);
	ck_assert_int_eq(crypto_b64url_encode("foobar", 6, out, 9), 8);
	ck_assert_str_eq(out, "Zm9vYmFy");
	ck_assert_int_eq(crypto_b64url_encode("fooba", 5, out, 7), -E_TOO_LONG);
	ck_assert_int_eq(crypto_b64url_encode("fooba", 5, out, 8), 7);
	ck_assert_str_eq(out, "Zm9vYmE");
	ck_assert_int_eq(crypto_b64url_encode("", 0, out, 0), -E_TOO_LONG);
}
END_TEST

START_TEST(test_b64url_decode)
{
	unsigned char out[16];

	ck_assert_int_eq(crypto_b64url_decode("Zm9vYmFy", 8, out, sizeof(out)), 6);
	ck_assert_int_eq(memcmp(out, "foobar", 6), 0);
	ck_assert_int_eq(crypto_b64url_decode("Zm9vYmE", 7, out, sizeof(out)), 5);
	ck_assert_int_eq(memcmp(out, "fooba", 5), 0);
	ck_assert_int_eq(crypto_b64url_decode("Zm9vYmE=", 8, out, sizeof(out)), 5);
	ck_assert_int_eq(crypto_b64url_decode("Zg", 2, out, sizeof(out)), 1);
	ck_assert_int_eq(out[0], 'f');
	ck_assert_int_eq(crypto_b64url_decode("Zg==", 4, out, sizeof(out)), 1);
	ck_assert_int_eq(crypto_b64url_decode("", 0, out, sizeof(out)), 0);
	ck_assert_int_eq(crypto_b64url_decode("-_-_", 4, out, sizeof(out)), 3);
	ck_assert_int_eq(out[0], 0xfb);
	ck_assert_int_eq(out[1], 0xff);
	ck_assert_int_eq(out[2], 0xbf);
	/* only n bytes are read */
	ck_assert_int_eq(crypto_b64url_decode("Zm9vgarbage", 4, out, sizeof(out)), 3);
	ck_assert_int_eq(memcmp(out, "foo", 3), 0);
}
END_TEST

START_TEST(test_b64url_decode_rejects)
{
	static const char *const bad[] = {
	    "Z",        /* a lone character cannot encode a byte */
	    "Zg=",      /* padding not to a multiple of 4 */
	    "Zg===",    /* too much padding */
	    "Zm9v====", /* padding where none belongs */
	    "Zh",       /* non-zero unused bits: not the canonical encoding of "f" */
	    "Zm9=",     /* ditto for two bytes */
	    "+/8",      /* standard alphabet */
	    "Zm 9v",    /* whitespace */
	    "Zg=a",     /* data after padding */
	    "=Zg",
	};
	unsigned char out[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(crypto_b64url_decode(bad[i], strlen(bad[i]), out, sizeof(out)) ==
		                  -E_MALFORMED_REQUEST,
		              "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(crypto_b64url_decode("Zm9vYmFy", 8, out, 5), -E_TOO_LONG);
	ck_assert_int_eq(crypto_b64url_decode("Zm9vYmFy", 8, out, 6), 6);
}
END_TEST

START_TEST(test_b64url_round_trip)
{
	unsigned char in[64], back[64];
	char enc[90];

	for (size_t n = 0; n <= sizeof(in); n++) {
		int len;

		ck_assert_int_eq(crypto_random(in, n), 0);
		len = crypto_b64url_encode(in, n, enc, sizeof(enc));
		ck_assert_int_eq(len, (int)((n * 4 + 2) / 3));
		ck_assert_int_eq(crypto_b64url_decode(enc, (size_t)len, back, sizeof(back)),
		                 (int)n);
		ck_assert_int_eq(memcmp(in, back, n), 0);
	}
}
END_TEST

START_TEST(test_password_hash_and_verify)
{
	char h1[CRYPTO_HASH_MAX], h2[CRYPTO_HASH_MAX];

	ck_assert_int_eq(crypto_password_hash("s3cret-Pass!", h1), 0);
	ck_assert_int_eq(strncmp(h1, "$y$", 3), 0);
	ck_assert_ptr_null(strstr(h1, "s3cret"));
	ck_assert_int_eq(crypto_password_verify("s3cret-Pass!", h1), 0);
	ck_assert_int_eq(crypto_password_verify("s3cret-Pass", h1), -E_BAD_CREDENTIALS);
	ck_assert_int_eq(crypto_password_verify("S3cret-Pass!", h1), -E_BAD_CREDENTIALS);
	ck_assert_int_eq(crypto_password_verify("", h1), -E_BAD_CREDENTIALS);
	/* a fresh salt every time */
	ck_assert_int_eq(crypto_password_hash("s3cret-Pass!", h2), 0);
	ck_assert_str_ne(h1, h2);
	ck_assert_int_eq(crypto_password_verify("s3cret-Pass!", h2), 0);
}
END_TEST

START_TEST(test_password_utf8)
{
	char h[CRYPTO_HASH_MAX];

	ck_assert_int_eq(crypto_password_hash("비밀번호123!", h), 0);
	ck_assert_int_eq(crypto_password_verify("비밀번호123!", h), 0);
	ck_assert_int_eq(crypto_password_verify("비밀번호123", h), -E_BAD_CREDENTIALS);
}
END_TEST

START_TEST(test_password_known_hash)
{
	ck_assert_int_eq(crypto_password_verify("correct horse", KNOWN_HASH), 0);
	ck_assert_int_eq(crypto_password_verify("correct horse ", KNOWN_HASH), -E_BAD_CREDENTIALS);
	ck_assert_int_eq(crypto_password_verify("Correct horse", KNOWN_HASH), -E_BAD_CREDENTIALS);
}
END_TEST

START_TEST(test_password_verify_bad_hashes)
{
	char tampered[] = KNOWN_HASH;

	tampered[sizeof(tampered) - 2] = tampered[sizeof(tampered) - 2] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(crypto_password_verify("correct horse", tampered), -E_BAD_CREDENTIALS);
	ck_assert_int_eq(crypto_password_verify("correct horse", ""), -E_BAD_CREDENTIALS);
	ck_assert_int_eq(crypto_password_verify("correct horse", NULL), -E_BAD_CREDENTIALS);
	ck_assert_int_eq(crypto_password_verify(NULL, KNOWN_HASH), -E_BAD_CREDENTIALS);
	ck_assert_int_eq(crypto_password_verify("x", "*0"), -E_BAD_CREDENTIALS);
	ck_assert_int_eq(crypto_password_verify("x", "!locked"), -E_BAD_CREDENTIALS);
	ck_assert_int_eq(crypto_password_verify("x", "$y$"), -E_BAD_CREDENTIALS);
	/* a DES "hash" whose setting is the password's own prefix must not match by accident */
	ck_assert_int_eq(crypto_password_verify("ab", "ab"), -E_BAD_CREDENTIALS);
}
END_TEST

START_TEST(test_equal_and_wipe)
{
	unsigned char a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	unsigned char b[8] = {1, 2, 3, 4, 5, 6, 7, 8};

	ck_assert_int_eq(crypto_equal(a, b, sizeof(a)), 1);
	b[7] ^= 0x80;
	ck_assert_int_eq(crypto_equal(a, b, sizeof(a)), 0);
	b[7] ^= 0x80;
	b[0] ^= 1;
	ck_assert_int_eq(crypto_equal(a, b, sizeof(a)), 0);
	ck_assert_int_eq(crypto_equal(a, b, 0), 1);
	crypto_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		ck_assert_int_eq(a[i], 0);
	crypto_wipe(NULL, 0);
}
END_TEST

Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("crypto");

	tcase_set_timeout(tc, 30); /* password hashing is slow by design */
	tcase_add_test(tc, test_random_fills_and_differs);
	tcase_add_test(tc, test_random_large_request);
	tcase_add_test(tc, test_token);
	tcase_add_test(tc, test_uuid4_format);
	tcase_add_test(tc, test_b64url_encode_vectors);
	tcase_add_test(tc, test_b64url_encode_capacity);
	tcase_add_test(tc, test_b64url_decode);
	tcase_add_test(tc, test_b64url_decode_rejects);
	tcase_add_test(tc, test_b64url_round_trip);
	tcase_add_test(tc, test_password_hash_and_verify);
	tcase_add_test(tc, test_password_utf8);
	tcase_add_test(tc, test_password_known_hash);
	tcase_add_test(tc, test_password_verify_bad_hashes);
	tcase_add_test(tc, test_equal_and_wipe);
	suite_add_tcase(s, tc);
	return s;
}
