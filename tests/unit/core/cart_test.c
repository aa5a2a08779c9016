/* cart_test: the pure cart rules of API.md §2.2 and §5: the quantity and period ranges with
 * their reasons, the kind names stored in SQL, and the totals over lines (the §2.2 example,
 * an empty cart, half-up discounts) computed through price.h. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/cart.h"
#include "common/banned.h"

START_TEST(test_quantity_range)
{
	ck_assert_ptr_null(cart_rule_quantity(1));
	ck_assert_ptr_null(cart_rule_quantity(500));
	ck_assert_ptr_null(cart_rule_quantity(999));
	ck_assert_str_eq(cart_rule_quantity(0), "1 이상이어야 합니다");
	ck_assert_str_eq(cart_rule_quantity(-1), "1 이상이어야 합니다");
	ck_assert_str_eq(cart_rule_quantity(INT64_MIN), "1 이상이어야 합니다");
	ck_assert_str_eq(cart_rule_quantity(1000), "999 이하여야 합니다");
	ck_assert_str_eq(cart_rule_quantity(INT64_MAX), "999 이하여야 합니다");
}
END_TEST

START_TEST(test_period_range)
{
	ck_assert_ptr_null(cart_rule_period(30));
	ck_assert_ptr_null(cart_rule_period(60));
	ck_assert_ptr_null(cart_rule_period(365));
	ck_assert_str_eq(cart_rule_period(29), "30 이상이어야 합니다");
	ck_assert_str_eq(cart_rule_period(0), "30 이상이어야 합니다");
	ck_assert_str_eq(cart_rule_period(-30), "30 이상이어야 합니다");
	ck_assert_str_eq(cart_rule_period(366), "365 이하여야 합니다");
	ck_assert_str_eq(cart_rule_period(100000), "365 이하여야 합니다");
}
END_TEST

START_TEST(test_kind_names)
{
	ck_assert_str_eq(cart_kind_name(CART_NORMAL), "NORMAL");
	ck_assert_str_eq(cart_kind_name(CART_SUBSCRIPTION), "SUBSCRIPTION");
}
END_TEST

static struct cart_line line(int64_t origin, int p10, int quantity)
{
	struct cart_line l = {0};
	ck_assert_int_eq(price_derive(origin, p10, &l.price), 0);
	l.quantity = quantity;
	return l;
}

START_TEST(test_totals_spec_example)
{
	/* §2.2: A (11000, 10 %) x 2 and B (10000, 0 %) x 1 */
	struct cart_line lines[2] = {line(11000, 100, 2), line(10000, 0, 1)};
	struct cart c = {.lines = lines, .nlines = 2};
	struct price_totals t;

	cart_totals(&c, &t);
	ck_assert_int_eq(t.item_count, 3);
	ck_assert_int_eq(t.total_price, 32000);
	ck_assert_int_eq(t.total_discount, 2200);
	ck_assert_int_eq(t.expect_price, 29800);
	ck_assert_int_eq(t.lines, 2);
}
END_TEST

START_TEST(test_totals_empty_cart_are_zero)
{
	struct cart c = {0};
	struct price_totals t;

	memset(&t, 0x5a, sizeof(t)); /* every field must be written */
	cart_totals(&c, &t);
	ck_assert_int_eq(t.item_count, 0);
	ck_assert_int_eq(t.total_price, 0);
	ck_assert_int_eq(t.total_discount, 0);
	ck_assert_int_eq(t.expect_price, 0);
	ck_assert_int_eq(t.lines, 0);
}
END_TEST

START_TEST(test_totals_round_per_unit_before_multiplying)
{
	/* 12345 at 12.5 %: discount 1543.125 -> 1543 per unit, so x 3 = 4629 (not 4629.375
	 * rounded from the line); 1 at 50 %: 0.5 -> 1 (half up); 999 x 999 at 100 %. */
	struct cart_line lines[3] = {line(12345, 125, 3), line(1, 500, 999), line(999, 1000, 999)};
	struct cart c = {.lines = lines, .nlines = 3};
	struct price_totals t;

	cart_totals(&c, &t);
	ck_assert_int_eq(t.item_count, 3 + 999 + 999);
	ck_assert_int_eq(t.total_price, 12345 * 3 + 999 + 999 * 999);
	ck_assert_int_eq(t.total_discount, 1543 * 3 + 999 + 999 * 999);
	ck_assert_int_eq(t.expect_price, 10802 * 3 + 0 + 0);
	ck_assert_int_eq(t.expect_price, t.total_price - t.total_discount);
}
END_TEST

START_TEST(test_release_frees_and_clears)
{
	struct cart c = {.cart_id = 7, .user_id = 3, .nlines = 2};

	c.lines = calloc(2, sizeof(*c.lines));
	ck_assert_ptr_nonnull(c.lines);
	c.lines[0].product = strdup("a");
	c.lines[0].enterprise = strdup("b");
	c.lines[1].thumbnail = strdup("c"); /* NULL strings are fine too */
	cart_release(&c);
	ck_assert_ptr_null(c.lines);
	ck_assert_uint_eq(c.nlines, 0);
	ck_assert_int_eq(c.cart_id, 0);
	cart_release(&c); /* a released cart may be released again */
}
END_TEST

Suite *cart_suite(void)
{
	Suite *s = suite_create("cart");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, test_quantity_range);
	tcase_add_test(tc, test_period_range);
	tcase_add_test(tc, test_kind_names);
	tcase_add_test(tc, test_totals_spec_example);
	tcase_add_test(tc, test_totals_empty_cart_are_zero);
	tcase_add_test(tc, test_totals_round_per_unit_before_multiplying);
	tcase_add_test(tc, test_release_frees_and_clears);
	suite_add_tcase(s, tc);
	return s;
}
