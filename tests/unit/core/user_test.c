/* user_test: the field rules of API.md §3.1, each rule's accept and reject sides and the
 * order in which a field's rules are checked. */
#include <check.h>
#include <stddef.h>

#include "core/user.h"
#include "common/banned.h"

START_TEST(test_email_format)
{
	static const char *ok[] = {"test@test.com", "a.b+c@x-y.co.kr", "A!#$%&'*+/=?^_`{|}~-@a",
				   "x@a1", "x@a-b.c"};
	static const char *bad[] = {"testgmail.com", "@x.com", "a@", "a@-x.com", "a@x-.com",
				    "a@x..com", "a@x.", "a b@x.com", "a@b@c", "한글@x.com", "a@x_y.com"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(user_email_valid(ok[i]), "%s should be valid", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!user_email_valid(bad[i]), "%s should be invalid", bad[i]);
}
END_TEST

START_TEST(test_email_rule_order)
{
	ck_assert_str_eq(user_rule_email(NULL), "공백일 수 없습니다");
	ck_assert_str_eq(user_rule_email("   "), "공백일 수 없습니다");
	char longmail[120];
	for (int i = 0; i < 101; i++)
		longmail[i] = 'a';
	longmail[101] = '\0';
	ck_assert_str_eq(user_rule_email(longmail), "100자 이하여야 합니다");
	ck_assert_str_eq(user_rule_email("testgmail.com"), "올바른 이메일 형식이 아닙니다.");
	ck_assert_ptr_null(user_rule_email("test@gmail.com"));
}
END_TEST

START_TEST(test_password)
{
	ck_assert(user_password_valid("Passw0rd!"));
	ck_assert(user_password_valid("a1-aaaaa"));          /* 8 chars */
	ck_assert(user_password_valid("한글비밀번호a1!"));    /* non-ASCII counts as a char */
	ck_assert(!user_password_valid("a1-aaaa"));          /* 7 */
	ck_assert(!user_password_valid("a1-aaaaaaaaaaaaaaaaaaaaaaa")); /* 26 */
	ck_assert(user_password_valid("a1-aaaaaaaaaaaaaaaaaaaaaa"));  /* 25 */
	ck_assert(!user_password_valid("password1"));        /* no special */
	ck_assert(!user_password_valid("password!"));        /* no digit */
	ck_assert(!user_password_valid("12345678!"));        /* no letter */
	ck_assert(!user_password_valid("pass word1&"));      /* & is not a listed special */
	ck_assert(!user_password_valid("Passw0rd!\n"));      /* '.' excludes line terminators */
	ck_assert(!user_password_valid(NULL));
	ck_assert_str_eq(user_rule_password("x", false),
			 "비밀번호는 숫자+영문자+특수문자 조합으로 8자리 이상이어야 합니다.");
	ck_assert_str_eq(user_rule_password("x", true),
			 "비밀번호는 숫자+영문자+특수문자 조합으로 8자리 이상 입력해 주세요!");
}
END_TEST

START_TEST(test_phone)
{
	static const char *ok[] = {"010-1234-5678", "01012345678", "011-123-4567", "0161234567",
				   "019-1234-5678", "0101234-5678", "010-12345678"};
	static const char *bad[] = {"010-11111-1111", "02-123-4567", "", "012-1234-5678",
				    "010-12-5678", "010-1234-567", "010--1234-5678", "010-1234-56789",
				    "0101234567890", "010 1234 5678"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(user_phone_valid(ok[i]), "%s should be valid", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!user_phone_valid(bad[i]), "%s should be invalid", bad[i]);
	ck_assert_str_eq(user_rule_phone(""), "올바른 연락처 형식이 아닙니다.");
}
END_TEST

START_TEST(test_text_fields)
{
	ck_assert_str_eq(user_rule_display_name(" "), "닉네임은 공백일 수 없습니다.");
	ck_assert_ptr_null(user_rule_display_name("가나다라마바사아자차카타파하가나다라마바사아자차카타파하가나")); /* 30 */
	ck_assert_str_eq(user_rule_display_name("가나다라마바사아자차카타파하가나다라마바사아자차카타파하가나다"),
			 "30자 이하여야 합니다");
	ck_assert_str_eq(user_rule_city(""), "공백일 수 없습니다");
	ck_assert_ptr_null(user_rule_city("서울"));
	ck_assert_str_eq(user_rule_detail_address("\t"), "공백일 수 없습니다");
	ck_assert_str_eq(user_rule_real_name(""), "공백일 수 없습니다");
	ck_assert_str_eq(user_rule_real_name(" "), "공백이 있어서는 안됩니다.");
	ck_assert_str_eq(user_rule_real_name("홍 길동"), "공백이 있어서는 안됩니다.");
	ck_assert_str_eq(user_rule_real_name("홍\u3000길동"), "공백이 있어서는 안됩니다.");
	ck_assert_ptr_null(user_rule_real_name("홍길동"));
}
END_TEST

Suite *user_suite(void)
{
	Suite *s = suite_create("user");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, test_email_format);
	tcase_add_test(tc, test_email_rule_order);
	tcase_add_test(tc, test_password);
	tcase_add_test(tc, test_phone);
	tcase_add_test(tc, test_text_fields);
	suite_add_tcase(s, tc);
	return s;
}
