/* buf_test: growth, the hard cap, NUL termination, escaping, detach. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/banned.h"

START_TEST(test_append_and_terminator)
{
	struct buf b = BUF_INIT(0);

	ck_assert_int_eq(buf_append(&b, "abc", 3), 0);
	ck_assert_int_eq(buf_putc(&b, '-'), 0);
	ck_assert_int_eq(buf_puts(&b, "xyz"), 0);
	ck_assert_uint_eq(b.len, 7);
	ck_assert_str_eq(b.data, "abc-xyz");
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_uint_ge(b.cap, b.len + 1);
	/* binary bytes are kept, len counts them */
	ck_assert_int_eq(buf_append(&b, "\0z", 2), 0);
	ck_assert_uint_eq(b.len, 9);
	ck_assert_int_eq(memcmp(b.data + 7, "\0z\0", 3), 0);
	buf_release(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(test_empty_append_gives_empty_string)
{
	struct buf b = BUF_INIT(0);

	ck_assert_int_eq(buf_puts(&b, ""), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	ck_assert_int_eq(buf_puts(&b, NULL), 0);
	ck_assert_uint_eq(b.len, 0);
	buf_release(&b);
}
END_TEST

START_TEST(test_growth_keeps_contents)
{
	struct buf b = BUF_INIT(0);
	char expect[10001];

	for (int i = 0; i < 10000; i++) {
		expect[i] = (char)('a' + i % 26);
		ck_assert_int_eq(buf_putc(&b, expect[i]), 0);
	}
	expect[10000] = '\0';
	ck_assert_uint_eq(b.len, 10000);
	ck_assert_str_eq(b.data, expect);
	buf_release(&b);
}
END_TEST

START_TEST(test_cap_is_exact_and_failure_leaves_buffer)
{
	struct buf b = BUF_INIT(8);

	ck_assert_int_eq(buf_puts(&b, "12345678"), 0); /* exactly max */
	ck_assert_int_eq(buf_putc(&b, '9'), -E_TOO_LONG);
	ck_assert_int_eq(buf_append(&b, "9", 1), -E_TOO_LONG);
	ck_assert_int_eq(buf_printf(&b, "%d", 9), -E_TOO_LONG);
	ck_assert_int_eq(buf_json_escape(&b, "x"), -E_TOO_LONG);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_str_eq(b.data, "12345678");
	ck_assert_uint_le(b.cap, 9);
	ck_assert_int_eq(buf_append(&b, "", 0), 0); /* nothing more is still fine */
	buf_release(&b);
}
END_TEST

START_TEST(test_cap_on_one_large_append)
{
	struct buf b = BUF_INIT(16);
	char big[17];

	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(buf_puts(&b, "ab"), 0);
	ck_assert_int_eq(buf_append(&b, big, 15), -E_TOO_LONG);
	ck_assert_int_eq(buf_append(&b, big, (size_t)-1), -E_TOO_LONG); /* no overflow */
	ck_assert_str_eq(b.data, "ab");
	ck_assert_int_eq(buf_append(&b, big, 14), 0);
	ck_assert_uint_eq(b.len, 16);
	buf_release(&b);
}
END_TEST

START_TEST(test_default_cap_is_16_mib)
{
	struct buf b = BUF_INIT(0);
	size_t max = (size_t)16 * 1024 * 1024;
	char *big = malloc(max);

	ck_assert_ptr_nonnull(big);
	memset(big, 'y', max);
	ck_assert_int_eq(buf_append(&b, big, max), 0);
	ck_assert_uint_eq(b.len, max);
	ck_assert_int_eq(buf_putc(&b, 'z'), -E_TOO_LONG);
	ck_assert_int_eq(b.data[max], '\0');
	free(big);
	buf_release(&b);
}
END_TEST

START_TEST(test_printf)
{
	struct buf b = BUF_INIT(0);
	char expect[3001];

	ck_assert_int_eq(buf_printf(&b, "%s=%d;", "a", 42), 0);
	ck_assert_int_eq(buf_printf(&b, "%lld", -9223372036854775807LL - 1), 0);
	ck_assert_str_eq(b.data, "a=42;-9223372036854775808");
	/* a long result that needs the buffer to grow during formatting */
	buf_reset(&b);
	memset(expect, 'q', 3000);
	expect[3000] = '\0';
	ck_assert_int_eq(buf_printf(&b, "%s", expect), 0);
	ck_assert_uint_eq(b.len, 3000);
	ck_assert_str_eq(b.data, expect);
	buf_release(&b);
}
END_TEST

START_TEST(test_printf_over_cap_leaves_buffer)
{
	struct buf b = BUF_INIT(10);

	ck_assert_int_eq(buf_puts(&b, "abc"), 0);
	ck_assert_int_eq(buf_printf(&b, "%s", "12345678"), -E_TOO_LONG);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_str_eq(b.data, "abc");
	ck_assert_int_eq(buf_printf(&b, "%s", "1234567"), 0);
	ck_assert_str_eq(b.data, "abc1234567");
	buf_release(&b);
}
END_TEST

START_TEST(test_json_escape)
{
	struct buf b = BUF_INIT(0);

	ck_assert_int_eq(buf_json_escape(&b, "plain"), 0);
	ck_assert_str_eq(b.data, "plain");
	buf_reset(&b);
	ck_assert_int_eq(buf_json_escape(&b, "q\"b\\s/n\nr\rt\tb\bf\f"), 0);
	ck_assert_str_eq(b.data, "q\\\"b\\\\s/n\\nr\\rt\\tb\\bf\\f");
	buf_reset(&b);
	ck_assert_int_eq(buf_json_escape(&b, "\x01\x1f\x7f"), 0);
	ck_assert_str_eq(b.data, "\\u0001\\u001f\x7f");
	buf_reset(&b);
	ck_assert_int_eq(buf_json_escape(&b, "한글 ✓"), 0); /* UTF-8 passes through */
	ck_assert_str_eq(b.data, "한글 ✓");
	buf_reset(&b);
	ck_assert_int_eq(buf_json_escape(&b, NULL), 0);
	ck_assert_str_eq(b.data, "");
	buf_release(&b);
}
END_TEST

START_TEST(test_json_escape_is_all_or_nothing)
{
	struct buf b = BUF_INIT(10);

	ck_assert_int_eq(buf_puts(&b, "ab"), 0);
	/* 7 raw characters fit, their escaped form (9) does not */
	ck_assert_int_eq(buf_json_escape(&b, "x\"y\"zzz"), -E_TOO_LONG);
	ck_assert_uint_eq(b.len, 2);
	ck_assert_str_eq(b.data, "ab");
	ck_assert_int_eq(buf_json_escape(&b, "x\"y\"z"), 0);
	ck_assert_str_eq(b.data, "abx\\\"y\\\"z");
	buf_release(&b);
}
END_TEST

START_TEST(test_reset_keeps_storage)
{
	struct buf b = BUF_INIT(0);
	char *data;
	size_t cap;

	ck_assert_int_eq(buf_puts(&b, "hello world"), 0);
	data = b.data;
	cap = b.cap;
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_eq(b.data, data);
	ck_assert_uint_eq(b.cap, cap);
	ck_assert_str_eq(b.data, "");
	buf_release(&b);
}
END_TEST

START_TEST(test_detach)
{
	struct buf b = BUF_INIT(100);
	char *out = NULL;
	size_t len = 99;

	ck_assert_int_eq(buf_puts(&b, "owned"), 0);
	ck_assert_int_eq(buf_detach(&b, &out, &len), 0);
	ck_assert_str_eq(out, "owned");
	ck_assert_uint_eq(len, 5);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.max, 100);
	free(out);
	/* the buffer is usable again */
	ck_assert_int_eq(buf_puts(&b, "again"), 0);
	ck_assert_str_eq(b.data, "again");
	buf_release(&b);
}
END_TEST

START_TEST(test_detach_empty_is_not_null)
{
	struct buf b = BUF_INIT(0);
	char *out = NULL;
	size_t len = 99;

	ck_assert_int_eq(buf_detach(&b, &out, &len), 0);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(len, 0);
	free(out);
}
END_TEST

Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("buf");

	tcase_add_test(tc, test_append_and_terminator);
	tcase_add_test(tc, test_empty_append_gives_empty_string);
	tcase_add_test(tc, test_growth_keeps_contents);
	tcase_add_test(tc, test_cap_is_exact_and_failure_leaves_buffer);
	tcase_add_test(tc, test_cap_on_one_large_append);
	tcase_add_test(tc, test_default_cap_is_16_mib);
	tcase_add_test(tc, test_printf);
	tcase_add_test(tc, test_printf_over_cap_leaves_buffer);
	tcase_add_test(tc, test_json_escape);
	tcase_add_test(tc, test_json_escape_is_all_or_nothing);
	tcase_add_test(tc, test_reset_keeps_storage);
	tcase_add_test(tc, test_detach);
	tcase_add_test(tc, test_detach_empty_is_not_null);
	suite_add_tcase(s, tc);
	return s;
}
