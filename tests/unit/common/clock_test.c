/* clock_test: fake time, zones and offsets, timestamp formats, calendar day arithmetic. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/banned.h"

#define T_2026_01_05_044510Z 1767588310LL /* 2026-01-05T04:45:10Z = 13:45:10 in Seoul */

static void clock_teardown(void)
{
	clock_set_fixed(0);
	clock_set_offset(0);
}

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_fixed_time)
{
	clock_set_fixed(T_2026_01_05_044510Z * 1000 + 123);
	ck_assert_int_eq(clock_now_ms(), T_2026_01_05_044510Z * 1000 + 123);
	ck_assert_int_eq(clock_now(), T_2026_01_05_044510Z);
	clock_set_offset(5000); /* a fixed time ignores the offset */
	ck_assert_int_eq(clock_now_ms(), T_2026_01_05_044510Z * 1000 + 123);
	clock_set_fixed(-1500); /* before 1970: seconds round down */
	ck_assert_int_eq(clock_now(), -2);
	clock_set_fixed(0);
	clock_set_offset(0);
	ck_assert_int_le(llabs(clock_now_ms() - real_ms()), 2000);
}
END_TEST

START_TEST(test_offset_time)
{
	int64_t day = 86400000;

	clock_set_offset(day);
	ck_assert_int_le(llabs(clock_now_ms() - (real_ms() + day)), 2000);
	clock_set_offset(-3 * day);
	ck_assert_int_le(llabs(clock_now_ms() - (real_ms() - 3 * day)), 2000);
	ck_assert_int_le(llabs((int64_t)clock_now() * 1000 - (real_ms() - 3 * day)), 3000);
}
END_TEST

START_TEST(test_mono_is_not_faked)
{
	int64_t a, b;

	clock_set_fixed(1000);
	a = clock_mono_ms();
	clock_set_offset(-1000000000);
	b = clock_mono_ms();
	ck_assert_int_ge(b, a);
	ck_assert_int_lt(b - a, 2000);
}
END_TEST

START_TEST(test_zone_seoul)
{
	char ts[CLOCK_TS_LEN];

	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
	ck_assert_str_eq(clock_zone(), "Asia/Seoul");
	ck_assert_int_eq(clock_format_ts(T_2026_01_05_044510Z, ts), 0);
	ck_assert_str_eq(ts, "2026-01-05T13:45:10+09:00");
	ck_assert_int_eq(clock_format_ts(0, ts), 0);
	ck_assert_str_eq(ts, "1970-01-01T09:00:00+09:00");
}
END_TEST

START_TEST(test_zone_utc)
{
	char ts[CLOCK_TS_LEN];

	ck_assert_int_eq(clock_set_zone("UTC"), 0);
	ck_assert_str_eq(clock_zone(), "UTC");
	ck_assert_int_eq(clock_format_ts(T_2026_01_05_044510Z, ts), 0);
	ck_assert_str_eq(ts, "2026-01-05T04:45:10+00:00");
}
END_TEST

START_TEST(test_zone_negative_and_half_hour_offsets)
{
	char ts[CLOCK_TS_LEN];

	ck_assert_int_eq(clock_set_zone("America/New_York"), 0);
	ck_assert_int_eq(clock_format_ts(T_2026_01_05_044510Z, ts), 0);
	ck_assert_str_eq(ts, "2026-01-04T23:45:10-05:00");
	ck_assert_int_eq(clock_format_ts(T_2026_01_05_044510Z + 181 * 86400LL, ts), 0);
	ck_assert_str_eq(ts, "2026-07-05T00:45:10-04:00"); /* daylight saving time */
	ck_assert_int_eq(clock_set_zone("Asia/Kolkata"), 0);
	ck_assert_int_eq(clock_format_ts(T_2026_01_05_044510Z, ts), 0);
	ck_assert_str_eq(ts, "2026-01-05T10:15:10+05:30");
}
END_TEST

START_TEST(test_zone_unknown_is_refused)
{
	static const char *const bad[] = {"Mars/Olympus_Mons",
	                                  "",
	                                  "Asia/",
	                                  "../../etc/passwd",
	                                  "/usr/share/zoneinfo/UTC",
	                                  "zone.tab",
	                                  "leapseconds",
	                                  "Asia/Seoul ",
	                                  "asia/seoul"};
	char ts[CLOCK_TS_LEN];

	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(clock_set_zone(bad[i]) == -E_CONFIG, "zone \"%s\" accepted", bad[i]);
	ck_assert_int_eq(clock_set_zone(NULL), -E_CONFIG);
	/* the zone in force is unchanged */
	ck_assert_str_eq(clock_zone(), "Asia/Seoul");
	ck_assert_int_eq(clock_format_ts(T_2026_01_05_044510Z, ts), 0);
	ck_assert_str_eq(ts, "2026-01-05T13:45:10+09:00");
}
END_TEST

START_TEST(test_format_utc_ms)
{
	char ts[CLOCK_TS_LEN];

	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0); /* the zone does not matter */
	ck_assert_int_eq(clock_format_utc_ms(T_2026_01_05_044510Z * 1000 + 123, ts), 0);
	ck_assert_str_eq(ts, "2026-01-05T04:45:10.123Z");
	ck_assert_int_eq(clock_format_utc_ms(0, ts), 0);
	ck_assert_str_eq(ts, "1970-01-01T00:00:00.000Z");
	ck_assert_int_eq(clock_format_utc_ms(-1, ts), 0);
	ck_assert_str_eq(ts, "1969-12-31T23:59:59.999Z");
	ck_assert_int_eq(clock_format_utc_ms(951782400000LL + 5, ts), 0);
	ck_assert_str_eq(ts, "2000-02-29T00:00:00.005Z");
}
END_TEST

START_TEST(test_local_day_follows_zone)
{
	/* 2026-01-05T14:59:59Z is 23:59:59 in Seoul; one second later it is the 6th there. */
	time_t t = 1767625199;
	int32_t d0105 = clock_days_from_civil(2026, 1, 5);

	ck_assert_int_eq(d0105, 20458);
	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
	ck_assert_int_eq(clock_local_day(t), d0105);
	ck_assert_int_eq(clock_local_day(t + 1), d0105 + 1);
	ck_assert_int_eq(clock_set_zone("UTC"), 0);
	ck_assert_int_eq(clock_local_day(t + 1), d0105);
	ck_assert_int_eq(clock_local_day(t + 9 * 3600 + 1), d0105 + 1);
	ck_assert_int_eq(clock_local_day(-1), -1);
}
END_TEST

START_TEST(test_today_uses_fake_time)
{
	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
	clock_set_fixed(1767625199LL * 1000 + 999); /* 2026-01-05 23:59:59.999 in Seoul */
	ck_assert_int_eq(clock_today(), clock_days_from_civil(2026, 1, 5));
	clock_set_fixed(1767625200LL * 1000);
	ck_assert_int_eq(clock_today(), clock_days_from_civil(2026, 1, 6));
}
END_TEST

START_TEST(test_days_from_civil_known_values)
{
	ck_assert_int_eq(clock_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(clock_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(clock_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(clock_days_from_civil(2024, 2, 29), 19782);
	ck_assert_int_eq(clock_days_from_civil(1, 1, 1), -719162);
	ck_assert_int_eq(clock_days_from_civil(9999, 12, 31), 2932896);
}
END_TEST

/* Day math around leap years and month ends: d + 1 is the expected next date. */
START_TEST(test_next_day_across_month_and_year_ends)
{
	static const struct {
		int y;
		unsigned m, d;
		int ny;
		unsigned nm, nd;
	} cases[] = {
	    {2024, 2, 28, 2024, 2, 29}, {2024, 2, 29, 2024, 3, 1}, {2025, 2, 28, 2025, 3, 1},
	    {2000, 2, 28, 2000, 2, 29}, {1900, 2, 28, 1900, 3, 1}, {2100, 2, 28, 2100, 3, 1},
	    {2026, 1, 31, 2026, 2, 1},  {2026, 4, 30, 2026, 5, 1}, {2025, 12, 31, 2026, 1, 1},
	    {1969, 12, 31, 1970, 1, 1}, {2026, 8, 31, 2026, 9, 1}, {2026, 11, 30, 2026, 12, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int32_t day = clock_days_from_civil(cases[i].y, cases[i].m, cases[i].d);
		unsigned m, d;
		int y;

		clock_civil_from_days(day + 1, &y, &m, &d);
		ck_assert_msg(y == cases[i].ny && m == cases[i].nm && d == cases[i].nd,
		              "%d-%u-%u + 1 gave %d-%u-%u", cases[i].y, cases[i].m, cases[i].d, y,
		              m, d);
	}
	/* a 30-day period from Jan 31 of a leap year */
	ck_assert_int_eq(clock_days_from_civil(2024, 1, 31) + 30,
	                 clock_days_from_civil(2024, 3, 1));
	ck_assert_int_eq(clock_days_from_civil(2025, 1, 31) + 30,
	                 clock_days_from_civil(2025, 3, 2));
	ck_assert_int_eq(clock_days_from_civil(2025, 1, 1) - clock_days_from_civil(2024, 1, 1),
	                 366);
	ck_assert_int_eq(clock_days_from_civil(2026, 1, 1) - clock_days_from_civil(2025, 1, 1),
	                 365);
}
END_TEST

START_TEST(test_civil_round_trip)
{
	for (int32_t day = -800000; day <= 3000000; day += 97) {
		unsigned m, d;
		int y;

		clock_civil_from_days(day, &y, &m, &d);
		ck_assert_uint_ge(m, 1);
		ck_assert_uint_le(m, 12);
		ck_assert_uint_ge(d, 1);
		ck_assert_uint_le(d, 31);
		ck_assert_int_eq(clock_days_from_civil(y, m, d), day);
	}
}
END_TEST

START_TEST(test_format_day)
{
	char s[CLOCK_DATE_LEN];

	ck_assert_int_eq(clock_format_day(0, s), 0);
	ck_assert_str_eq(s, "1970-01-01");
	ck_assert_int_eq(clock_format_day(-1, s), 0);
	ck_assert_str_eq(s, "1969-12-31");
	ck_assert_int_eq(clock_format_day(20458, s), 0);
	ck_assert_str_eq(s, "2026-01-05");
	ck_assert_int_eq(clock_format_day(19782, s), 0);
	ck_assert_str_eq(s, "2024-02-29");
	ck_assert_int_eq(clock_format_day(clock_days_from_civil(1, 1, 1), s), 0);
	ck_assert_str_eq(s, "0001-01-01");
	ck_assert_int_eq(clock_format_day(2932896, s), 0);
	ck_assert_str_eq(s, "9999-12-31");
	ck_assert_int_eq(clock_format_day(2932897, s), -E_TOO_LONG); /* year 10000 */
}
END_TEST

START_TEST(test_parse_day)
{
	int32_t d = 0;

	ck_assert_int_eq(clock_parse_day("2026-01-05", &d), 0);
	ck_assert_int_eq(d, 20458);
	ck_assert_int_eq(clock_parse_day("2024-02-29", &d), 0);
	ck_assert_int_eq(d, 19782);
	ck_assert_int_eq(clock_parse_day("2000-02-29", &d), 0);
	ck_assert_int_eq(clock_parse_day("1969-12-31", &d), 0);
	ck_assert_int_eq(d, -1);
	ck_assert_int_eq(clock_parse_day("2026-12-31", &d), 0);
}
END_TEST

START_TEST(test_parse_day_is_strict)
{
	static const char *const bad[] = {
	    "2026-02-30", "2026-02-29",          "2023-02-29",  "1900-02-29",
	    "2026-04-31", "2026-13-01",          "2026-00-10",  "2026-01-00",
	    "2026-01-32", "2026-1-05",           "2026-01-5",   "26-01-05",
	    "2026/01/05", "2026-01-05T00:00:00", " 2026-01-05", "2026-01-05 ",
	    "+026-01-05", "-026-01-05",          "2026-0a-05",  "20260105",
	    "",           "2026-01-05\n",
	};
	int32_t d = 12345;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(clock_parse_day(bad[i], &d) == -E_INVALID_PARAMETER_TYPE,
		              "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(clock_parse_day(NULL, &d), -E_INVALID_PARAMETER_TYPE);
	ck_assert_int_eq(d, 12345); /* untouched on failure */
}
END_TEST

Suite *clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");

	tcase_add_checked_fixture(tc, NULL, clock_teardown);
	tcase_add_test(tc, test_fixed_time);
	tcase_add_test(tc, test_offset_time);
	tcase_add_test(tc, test_mono_is_not_faked);
	tcase_add_test(tc, test_zone_seoul);
	tcase_add_test(tc, test_zone_utc);
	tcase_add_test(tc, test_zone_negative_and_half_hour_offsets);
	tcase_add_test(tc, test_zone_unknown_is_refused);
	tcase_add_test(tc, test_format_utc_ms);
	tcase_add_test(tc, test_local_day_follows_zone);
	tcase_add_test(tc, test_today_uses_fake_time);
	tcase_add_test(tc, test_days_from_civil_known_values);
	tcase_add_test(tc, test_next_day_across_month_and_year_ends);
	tcase_add_test(tc, test_civil_round_trip);
	tcase_add_test(tc, test_format_day);
	tcase_add_test(tc, test_parse_day);
	tcase_add_test(tc, test_parse_day_is_strict);
	suite_add_tcase(s, tc);
	return s;
}
