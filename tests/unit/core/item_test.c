/* item_test: the catalogue list rules of API.md §2.9: LIKE patterns that match %, _ and \
 * literally, the low/high price filter, and the UTF-8 checks of the text parameters. */
#include <check.h>
#include <string.h>

#include "common/err.h"
#include "core/item.h"
#include "common/banned.h"

static void pattern_is(const char *text, const char *want)
{
	char out[256];

	ck_assert_int_eq(item_like_pattern(text, out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
}

START_TEST(test_like_pattern_plain)
{
	pattern_is("", "%%");
	pattern_is("abc", "%abc%");
	pattern_is("디에스", "%디에스%");
	pattern_is("Omega 3", "%Omega 3%");
}
END_TEST

START_TEST(test_like_pattern_escapes_specials)
{
	pattern_is("%", "%\\%%");
	pattern_is("_", "%\\_%");
	pattern_is("\\", "%\\\\%");
	pattern_is("a%b_c\\d", "%a\\%b\\_c\\\\d%");
	pattern_is("%%__", "%\\%\\%\\_\\_%");
	/* other LIKE-looking characters are ordinary */
	pattern_is("[a]*?^$'\"", "%[a]*?^$'\"%");
}
END_TEST

START_TEST(test_like_pattern_capacity)
{
	char out[8];

	/* "a_b" needs % a \ _ b % NUL = 7 bytes */
	ck_assert_int_eq(item_like_pattern("a_b", out, 7), 0);
	ck_assert_str_eq(out, "%a\\_b%");
	memcpy(out, "keep", 5);
	ck_assert_int_eq(item_like_pattern("a_b", out, 6), -E_TOO_LONG);
	ck_assert_str_eq(out, "keep");
	ck_assert_int_eq(item_like_pattern("", out, 3), 0);
	ck_assert_int_eq(item_like_pattern("", out, 2), -E_TOO_LONG);
}
END_TEST

START_TEST(test_price_range_none)
{
	struct item_price_range r = item_price_range(0, 0);
	ck_assert(!r.active);
}
END_TEST

START_TEST(test_price_range_ordered_and_swapped)
{
	struct item_price_range r = item_price_range(10000, 14999);
	ck_assert(r.active);
	ck_assert_int_eq(r.low, 10000);
	ck_assert_int_eq(r.high, 14999);

	r = item_price_range(14999, 10000); /* low > high: swapped */
	ck_assert(r.active);
	ck_assert_int_eq(r.low, 10000);
	ck_assert_int_eq(r.high, 14999);

	r = item_price_range(9000, 9000); /* equality */
	ck_assert(r.active);
	ck_assert_int_eq(r.low, 9000);
	ck_assert_int_eq(r.high, 9000);
}
END_TEST

START_TEST(test_price_range_one_side)
{
	/* only low: high is 0, so low > high and the pair is swapped to 0..low */
	struct item_price_range r = item_price_range(5000, 0);
	ck_assert(r.active);
	ck_assert_int_eq(r.low, 0);
	ck_assert_int_eq(r.high, 5000);

	r = item_price_range(0, 7000);
	ck_assert(r.active);
	ck_assert_int_eq(r.low, 0);
	ck_assert_int_eq(r.high, 7000);

	r = item_price_range(INT64_MAX, 1);
	ck_assert_int_eq(r.low, 1);
	ck_assert_int_eq(r.high, INT64_MAX);
}
END_TEST

START_TEST(test_utf8_valid)
{
	ck_assert(item_utf8_valid(""));
	ck_assert(item_utf8_valid("abc"));
	ck_assert(item_utf8_valid("디에스 é 😀"));
	ck_assert(!item_utf8_valid("\xff"));
	ck_assert(!item_utf8_valid("a\x80"));
	ck_assert(!item_utf8_valid("\xc0\xaf"));         /* overlong '/' */
	ck_assert(!item_utf8_valid("\xe0\x80\xaf"));     /* overlong */
	ck_assert(!item_utf8_valid("\xed\xa0\x80"));     /* surrogate D800 */
	ck_assert(!item_utf8_valid("\xf4\x90\x80\x80")); /* above U+10FFFF */
	ck_assert(!item_utf8_valid("\xea\xb0"));         /* truncated */
	ck_assert(item_utf8_valid("\xf4\x8f\xbf\xbf"));  /* U+10FFFF */
}
END_TEST

START_TEST(test_utf8_sanitize)
{
	char out[32];

	item_utf8_sanitize("a\xff"
	                   "b",
	                   out, sizeof(out));
	ck_assert_str_eq(out, "a\xef\xbf\xbd"
	                      "b");
	item_utf8_sanitize("디에스", out, sizeof(out));
	ck_assert_str_eq(out, "디에스");
	/* cut on a character boundary: 7 bytes hold two 3-byte characters and the NUL */
	item_utf8_sanitize("디에스", out, 8);
	ck_assert_str_eq(out, "디에");
	item_utf8_sanitize("\xea\xb0", out, sizeof(out));
	ck_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd");
}
END_TEST

Suite *item_suite(void)
{
	Suite *s = suite_create("item");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, test_like_pattern_plain);
	tcase_add_test(tc, test_like_pattern_escapes_specials);
	tcase_add_test(tc, test_like_pattern_capacity);
	tcase_add_test(tc, test_price_range_none);
	tcase_add_test(tc, test_price_range_ordered_and_swapped);
	tcase_add_test(tc, test_price_range_one_side);
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_utf8_sanitize);
	suite_add_tcase(s, tc);
	return s;
}
