/* review_test: the review field rules (API.md §9) and the star average of §2.8: the mean of
 * the ACTIVE stars rounded half up to 2 decimals, in hundredths, with integer arithmetic. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "core/review.h"
#include "common/banned.h"

START_TEST(test_star_avg_none_is_zero)
{
	ck_assert_int_eq(review_star_avg_x100(0, 0), 0);
	ck_assert_int_eq(review_star_avg_x100(5, 0), 0);
	ck_assert_int_eq(review_star_avg_x100(0, -1), 0);
}
END_TEST

START_TEST(test_star_avg_exact_means)
{
	ck_assert_int_eq(review_star_avg_x100(5, 1), 500);
	ck_assert_int_eq(review_star_avg_x100(1, 1), 100);
	ck_assert_int_eq(review_star_avg_x100(9, 2), 450);  /* 4.5 */
	ck_assert_int_eq(review_star_avg_x100(15, 4), 375); /* 3.75 */
	ck_assert_int_eq(review_star_avg_x100(6, 4), 150);  /* 1.5 */
	ck_assert_int_eq(review_star_avg_x100(500, 100), 500);
	ck_assert_int_eq(review_star_avg_x100(100, 100), 100);
}
END_TEST

START_TEST(test_star_avg_rounds_half_up)
{
	/* exactly half a hundredth: always up */
	ck_assert_int_eq(review_star_avg_x100(29, 8), 363); /* 3.625 */
	ck_assert_int_eq(review_star_avg_x100(33, 8), 413); /* 4.125 */
	ck_assert_int_eq(review_star_avg_x100(35, 8), 438); /* 4.375 */
	ck_assert_int_eq(review_star_avg_x100(39, 8), 488); /* 4.875 */
	ck_assert_int_eq(review_star_avg_x100(9, 8), 113);  /* 1.125 */
	ck_assert_int_eq(review_star_avg_x100(73, 40),
	                 183); /* 1.825: binary floating point gives 1.82 */
	ck_assert_int_eq(review_star_avg_x100(163, 40), 408); /* 4.075 */
	/* below half: down */
	ck_assert_int_eq(review_star_avg_x100(13, 3), 433); /* 4.333... */
	ck_assert_int_eq(review_star_avg_x100(10, 3), 333); /* 3.333... */
	ck_assert_int_eq(review_star_avg_x100(4, 3), 133);  /* 1.333... */
	ck_assert_int_eq(review_star_avg_x100(31, 7), 443); /* 4.428... */
	/* above half: up */
	ck_assert_int_eq(review_star_avg_x100(14, 3), 467); /* 4.666... */
	ck_assert_int_eq(review_star_avg_x100(5, 3), 167);  /* 1.666... */
	ck_assert_int_eq(review_star_avg_x100(32, 7), 457); /* 4.5714... */
	ck_assert_int_eq(review_star_avg_x100(20, 6), 333); /* 3.333... */
	ck_assert_int_eq(review_star_avg_x100(25, 6), 417); /* 4.1666... */
}
END_TEST

/* Against a brute-force reference: every (count, sum) of stars 1..5 with up to 200 reviews. */
START_TEST(test_star_avg_matches_reference)
{
	for (int64_t count = 1; count <= 200; count++) {
		for (int64_t sum = count; sum <= 5 * count; sum++) {
			/* the largest x with x * count <= 100 * sum + count / 2 (half up) */
			int64_t q = (100 * sum) / count, rem = (100 * sum) % count;
			int64_t want = 2 * rem >= count ? q + 1 : q;
			int got = review_star_avg_x100(sum, count);
			ck_assert_msg(got == want, "sum %lld count %lld: got %d want %lld",
			              (long long)sum, (long long)count, got, (long long)want);
			ck_assert_msg(got >= 100 && got <= 500, "out of 100..500: %d", got);
		}
	}
}
END_TEST

START_TEST(test_star_avg_large_counts)
{
	/* 10^9 reviews all 5 stars, and one 4 among them: no overflow */
	ck_assert_int_eq(review_star_avg_x100(5000000000LL, 1000000000LL), 500);
	ck_assert_int_eq(review_star_avg_x100(4999999999LL, 1000000000LL), 500);
	ck_assert_int_eq(review_star_avg_x100(3000000001LL, 2000000000LL), 150);
}
END_TEST

START_TEST(test_star_rule)
{
	ck_assert_ptr_null(review_rule_star(1));
	ck_assert_ptr_null(review_rule_star(3));
	ck_assert_ptr_null(review_rule_star(5));
	ck_assert_str_eq(review_rule_star(0), "1 이상이어야 합니다");
	ck_assert_str_eq(review_rule_star(-7), "1 이상이어야 합니다");
	ck_assert_str_eq(review_rule_star(6), "5 이하여야 합니다");
	ck_assert_str_eq(review_rule_star(2147483647), "5 이하여야 합니다");
}
END_TEST

START_TEST(test_content_rule)
{
	static char text[4 * 2001 + 1];

	ck_assert_str_eq(review_rule_content(NULL), "공백일 수 없습니다");
	ck_assert_str_eq(review_rule_content(""), "공백일 수 없습니다");
	ck_assert_str_eq(review_rule_content(" \t\n"), "공백일 수 없습니다");
	ck_assert_str_eq(review_rule_content("\xe3\x80\x80"), "공백일 수 없습니다"); /* U+3000 */
	ck_assert_ptr_null(review_rule_content("좋아요"));
	ck_assert_ptr_null(review_rule_content(" a "));

	/* 2000 characters pass, 2001 fail, counted in characters not bytes */
	memset(text, 'a', 2000);
	text[2000] = '\0';
	ck_assert_ptr_null(review_rule_content(text));
	text[2000] = 'a';
	text[2001] = '\0';
	ck_assert_str_eq(review_rule_content(text), "2000자 이하여야 합니다");
	text[0] = '\0';
	for (int i = 0; i < 2000; i++)
		memcpy(text + 3 * i, "가", 3);
	text[3 * 2000] = '\0';
	ck_assert_ptr_null(review_rule_content(text)); /* 6000 bytes, 2000 characters */
	memcpy(text + 3 * 2000, "가", 4);
	ck_assert_str_eq(review_rule_content(text), "2000자 이하여야 합니다");
	/* blank wins over length: 2001 spaces are blank */
	memset(text, ' ', 2001);
	text[2001] = '\0';
	ck_assert_str_eq(review_rule_content(text), "공백일 수 없습니다");
}
END_TEST

Suite *review_suite(void)
{
	Suite *s = suite_create("review");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_star_avg_none_is_zero);
	tcase_add_test(tc, test_star_avg_exact_means);
	tcase_add_test(tc, test_star_avg_rounds_half_up);
	tcase_add_test(tc, test_star_avg_matches_reference);
	tcase_add_test(tc, test_star_avg_large_counts);
	tcase_add_test(tc, test_star_rule);
	tcase_add_test(tc, test_content_rule);
	suite_add_tcase(s, tc);
	return s;
}
