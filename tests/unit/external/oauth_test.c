/* oauth_test: the pure parts of the OAuth2 client: PKCE S256 (RFC 7636 appendix B), URL
 * encoding, the authorize URL and the kakao / google profile parsers. */
#include <check.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "external/oauth.h"
#include "common/banned.h"

START_TEST(test_pkce_rfc7636_vector)
{
	char out[OAUTH_CHALLENGE_LEN];

	/* the verifier of RFC 7636 appendix B (not "...-mJ92IjDZ2Yyn8VHqqsHMIe5TkQUVCc", whose
	 * challenge is BMsuDc0vU6PsYgICkmwTXphZvlSAwTPiAr4fz4ifLGw) */
	ck_assert_int_eq(oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out),
	                 0);
	ck_assert_str_eq(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	ck_assert_int_eq(oauth_pkce_challenge("dBjftJeZ4CVP-mJ92IjDZ2Yyn8VHqqsHMIe5TkQUVCc", out),
	                 0);
	ck_assert_str_eq(out, "BMsuDc0vU6PsYgICkmwTXphZvlSAwTPiAr4fz4ifLGw");
}
END_TEST

START_TEST(test_urlencode)
{
	struct buf b = BUF_INIT(0);

	ck_assert_int_eq(oauth_urlencode(&b, "a-Z_0.9~ b/c?d=e&f+\xea\xb0\x80"), 0);
	ck_assert_str_eq(b.data, "a-Z_0.9~%20b%2Fc%3Fd%3De%26f%2B%EA%B0%80");
	buf_release(&b);
}
END_TEST

START_TEST(test_authorize_url)
{
	struct oauth_provider p = {.name = "kakao",
	                           .kind = OAUTH_KAKAO,
	                           .client_id = "cid",
	                           .authorize_url = "http://127.0.0.1:1/kakao/authorize",
	                           .scope = "profile_nickname account_email"};
	struct buf b = BUF_INIT(0);

	ck_assert_int_eq(
	    oauth_authorize_url(&p, "http://api/login/oauth2/code/kakao", "st", NULL, &b), 0);
	ck_assert_str_eq(b.data,
	                 "http://127.0.0.1:1/kakao/authorize?response_type=code&client_id=cid"
	                 "&redirect_uri=http%3A%2F%2Fapi%2Flogin%2Foauth2%2Fcode%2Fkakao"
	                 "&scope=profile_nickname%20account_email&state=st");
	buf_reset(&b);
	p.authorize_url = "http://x/auth?prompt=login";
	ck_assert_int_eq(oauth_authorize_url(&p, "r", "s", "ch", &b), 0);
	ck_assert_str_eq(b.data, "http://x/auth?prompt=login&response_type=code&client_id=cid"
	                         "&redirect_uri=r&scope=profile_nickname%20account_email&state=s"
	                         "&code_challenge=ch&code_challenge_method=S256");
	buf_release(&b);
}
END_TEST

START_TEST(test_parse_kakao)
{
	struct oauth_profile p = {0};

	ck_assert_int_eq(
	    oauth_parse_profile(OAUTH_KAKAO,
	                        "{\"id\":4123456789,\"kakao_account\":{\"email\":"
	                        "\"a@kakao.com\",\"profile\":{\"nickname\":\"홍 길동\"}}}",
	                        &p),
	    0);
	ck_assert_str_eq(p.id, "4123456789");
	ck_assert_str_eq(p.email, "a@kakao.com");
	ck_assert_str_eq(p.name, "홍 길동");
	oauth_profile_release(&p);
	/* no email, no profile: not an error here */
	ck_assert_int_eq(oauth_parse_profile(OAUTH_KAKAO, "{\"id\":7}", &p), 0);
	ck_assert_str_eq(p.id, "7");
	ck_assert_ptr_null(p.email);
	ck_assert_ptr_null(p.name);
	oauth_profile_release(&p);
	ck_assert_int_eq(oauth_parse_profile(OAUTH_KAKAO, "{\"kakao_account\":{}}", &p),
	                 -E_OAUTH_PROVIDER_ERROR);
	ck_assert_int_eq(oauth_parse_profile(OAUTH_KAKAO, "not json", &p), -E_OAUTH_PROVIDER_ERROR);
	ck_assert_int_eq(oauth_parse_profile(OAUTH_KAKAO, "[1]", &p), -E_OAUTH_PROVIDER_ERROR);
}
END_TEST

START_TEST(test_parse_google)
{
	struct oauth_profile p = {0};

	ck_assert_int_eq(oauth_parse_profile(OAUTH_GOOGLE,
	                                     "{\"sub\":\"1098\",\"email\":\"b@gmail.com\","
	                                     "\"email_verified\":true,\"name\":\"Kim Lee\"}",
	                                     &p),
	                 0);
	ck_assert_str_eq(p.id, "1098");
	ck_assert_str_eq(p.email, "b@gmail.com");
	ck_assert_str_eq(p.name, "Kim Lee");
	oauth_profile_release(&p);
	/* an unverified email counts as none */
	ck_assert_int_eq(oauth_parse_profile(OAUTH_GOOGLE,
	                                     "{\"sub\":\"1\",\"email\":\"b@gmail.com\","
	                                     "\"email_verified\":false}",
	                                     &p),
	                 0);
	ck_assert_ptr_null(p.email);
	oauth_profile_release(&p);
	ck_assert_int_eq(oauth_parse_profile(OAUTH_GOOGLE, "{\"sub\":\"\"}", &p),
	                 -E_OAUTH_PROVIDER_ERROR);
	ck_assert_int_eq(oauth_parse_profile(OAUTH_GOOGLE, "{\"sub\":12}", &p),
	                 -E_OAUTH_PROVIDER_ERROR);
}
END_TEST

START_TEST(test_login_unreachable_is_provider_error)
{
	struct oauth_provider p = {.name = "google",
	                           .kind = OAUTH_GOOGLE,
	                           .client_id = "c",
	                           .client_secret = "s",
	                           .token_url = "http://127.0.0.1:1/token",
	                           .profile_url = "http://127.0.0.1:1/userinfo",
	                           .connect_timeout_ms = 500,
	                           .timeout_ms = 1000};
	struct oauth_profile out = {0};

	ck_assert_int_eq(oauth_login(&p, "code", "http://r", "v", &out), -E_OAUTH_PROVIDER_ERROR);
	ck_assert_ptr_null(out.id);
}
END_TEST

Suite *oauth_suite(void)
{
	Suite *s = suite_create("oauth");
	TCase *tc = tcase_create("oauth");

	tcase_add_test(tc, test_pkce_rfc7636_vector);
	tcase_add_test(tc, test_urlencode);
	tcase_add_test(tc, test_authorize_url);
	tcase_add_test(tc, test_parse_kakao);
	tcase_add_test(tc, test_parse_google);
	tcase_add_test(tc, test_login_unreachable_is_provider_error);
	suite_add_tcase(s, tc);
	return s;
}
