/* err_test: the error table answers the contract's codes, statuses and messages (§11). */
#include <check.h>
#include <string.h>

#include "common/err.h"
#include "common/banned.h"

START_TEST(test_public_entries)
{
	ck_assert_str_eq(err_code(-E_VALIDATION_FAILED), "VALIDATION_FAILED");
	ck_assert_int_eq(err_http_status(-E_VALIDATION_FAILED), 400);
	ck_assert_str_eq(err_message(-E_VALIDATION_FAILED), "입력값이 올바르지 않습니다.");
	ck_assert_int_eq(err_http_status(-E_TOO_MANY_LOGIN_ATTEMPTS), 429);
	ck_assert_int_eq(err_http_status(-E_METHOD_NOT_ALLOWED), 405);
	ck_assert_str_eq(err_message(-E_REFRESH_TOKEN_REUSED),
			 "이미 사용된 리프레시 토큰입니다. 다시 로그인해 주세요.");
	ck_assert_int_eq(err_http_status(-E_PAYMENT_GATEWAY_TIMEOUT), 504);
}
END_TEST

START_TEST(test_internal_entries_leak_only_public_codes)
{
	ck_assert_str_eq(err_code(-E_DB_DUPLICATE), "INTERNAL_ERROR");
	ck_assert_int_eq(err_http_status(-E_DB_DUPLICATE), 500);
	ck_assert_str_eq(err_name(-E_DB_DUPLICATE), "DB_DUPLICATE");
	ck_assert_str_eq(err_code(-E_DB_RETRY), "SERVICE_UNAVAILABLE");
	ck_assert_int_eq(err_http_status(-E_SCHEMA_OUTDATED), 503);
}
END_TEST

START_TEST(test_out_of_range_is_internal)
{
	ck_assert_str_eq(err_code(-9999), "INTERNAL_ERROR");
	ck_assert_str_eq(err_code(0), "INTERNAL_ERROR");
	ck_assert_int_eq(err_http_status(E__COUNT), 500);
}
END_TEST

START_TEST(test_sign_does_not_matter)
{
	ck_assert_str_eq(err_code(E_USER_NOT_FOUND), err_code(-E_USER_NOT_FOUND));
}
END_TEST

Suite *err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, test_public_entries);
	tcase_add_test(tc, test_internal_entries_leak_only_public_codes);
	tcase_add_test(tc, test_out_of_range_is_internal);
	tcase_add_test(tc, test_sign_does_not_matter);
	suite_add_tcase(s, tc);
	return s;
}
