/*
 * sched_test: the anchored schedule of API.md §2.6 (every example of the section, month ends,
 * leap years, a floor before the first date, period changes, skips, a brute-force comparison)
 * and the due times of §2.7 in Asia/Seoul.
 */
#include <check.h>
#include <stdint.h>

#include "common/clock.h"
#include "core/sched.h"
#include "common/banned.h"

#define T_2026_01_05_044510Z 1767588310LL /* 2026-01-05T04:45:10Z = 13:45:10 in Seoul */
#define T_2026_01_05_000000Z 1767571200LL

static int32_t D(int y, unsigned m, unsigned d)
{
	return clock_days_from_civil(y, m, d);
}

/* Asserts that day is the date text want. */
#define ck_assert_day(day, want)                                                                   \
	do {                                                                                       \
		char text_[CLOCK_DATE_LEN];                                                        \
		ck_assert_int_eq(clock_format_day((day), text_), 0);                               \
		ck_assert_str_eq(text_, (want));                                                   \
	} while (0)

static void seoul(void)
{
	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
}

START_TEST(test_examples_of_the_contract)
{
	/* P = 30, F = 2026-01-01: the grid is 01-31, 03-02, 04-01, ... */
	int32_t f = D(2026, 1, 1);

	ck_assert_day(sched_next_after(f, 30, f), "2026-01-31");
	ck_assert_day(sched_next_after(f, 30, D(2026, 1, 31)), "2026-03-02");
	ck_assert_day(sched_next_after(f, 30, D(2026, 3, 2)), "2026-04-01");
	/* approval on day D: F = L = C = D, next = D + P */
	ck_assert_day(sched_next(f, 30, f, f, f), "2026-01-31");
	/* charged 01-31 -> next 03-02 */
	ck_assert_day(sched_next(f, 30, D(2026, 1, 31), D(2026, 1, 31), D(2026, 1, 31)),
	              "2026-03-02");
	/* a retry succeeding on 03-05 for cycle 03-02 -> next 04-01 */
	ck_assert_day(sched_next(f, 30, D(2026, 3, 5), D(2026, 3, 2), D(2026, 3, 5)), "2026-04-01");
	/* on 01-10 the period becomes 60 -> next = 03-02 (F + 60) */
	ck_assert_day(sched_next(f, 60, f, f, D(2026, 1, 10)), "2026-03-02");
	/* on 01-10 skip -> 01-31 SKIPPED (C = 01-31), next 03-02 */
	ck_assert_day(sched_next(f, 30, f, D(2026, 1, 31), D(2026, 1, 10)), "2026-03-02");
	/* paused on 01-10, resumed on 03-20 -> next 04-01 (01-31 and 03-02 not charged) */
	ck_assert_day(sched_next(f, 30, f, f, D(2026, 3, 20)), "2026-04-01");
}
END_TEST

START_TEST(test_strictly_after_the_floor)
{
	int32_t f = D(2026, 1, 1);

	/* a grid date that is today is not "after today" */
	ck_assert_day(sched_next(f, 30, f, f, D(2026, 1, 31)), "2026-03-02");
	ck_assert_day(sched_next(f, 30, f, f, D(2026, 1, 30)), "2026-01-31");
	/* the floor is the largest of L, C and today, whichever it is */
	ck_assert_day(sched_next(f, 30, D(2026, 3, 2), f, f), "2026-04-01");
	ck_assert_day(sched_next(f, 30, f, D(2026, 3, 2), f), "2026-04-01");
	ck_assert_day(sched_next(f, 30, f, f, D(2026, 3, 2)), "2026-04-01");
	ck_assert_day(sched_next(f, 30, D(2026, 1, 31), D(2026, 3, 2), D(2026, 2, 10)),
	              "2026-04-01");
}
END_TEST

START_TEST(test_floor_before_first)
{
	int32_t f = D(2026, 5, 10);

	/* k >= 1: never the first date itself, even when everything is before it */
	ck_assert_int_eq(sched_next_after(f, 45, f - 100), f + 45);
	ck_assert_int_eq(sched_next_after(f, 45, f - 1), f + 45);
	ck_assert_int_eq(sched_next_after(f, 45, f), f + 45);
	ck_assert_int_eq(sched_next_after(f, 45, f + 44), f + 45);
	ck_assert_int_eq(sched_next_after(f, 45, f + 45), f + 90);
	ck_assert_int_eq(sched_next(f, 45, f, f, f - 3), f + 45);
	/* a period below 1 is read as 1 rather than looping or dividing by zero */
	ck_assert_int_eq(sched_next_after(f, 0, f + 3), f + 4);
}
END_TEST

START_TEST(test_month_ends)
{
	/* day arithmetic, not months: 30 days from a month end lands wherever it lands */
	ck_assert_day(sched_next_after(D(2026, 1, 31), 30, D(2026, 1, 31)), "2026-03-02");
	ck_assert_day(sched_next_after(D(2026, 1, 31), 31, D(2026, 1, 31)), "2026-03-03");
	ck_assert_day(sched_next_after(D(2026, 1, 31), 28, D(2026, 1, 31)), "2026-02-28");
	ck_assert_day(sched_next_after(D(2026, 8, 31), 30, D(2026, 8, 31)), "2026-09-30");
	ck_assert_day(sched_next_after(D(2026, 12, 31), 30, D(2026, 12, 31)), "2027-01-30");
	ck_assert_day(sched_next_after(D(2026, 12, 1), 31, D(2026, 12, 1)), "2027-01-01");
	/* the grid stays anchored on F, it does not drift to month ends */
	ck_assert_day(sched_next_after(D(2026, 1, 31), 30, D(2026, 3, 2)), "2026-04-01");
}
END_TEST

START_TEST(test_leap_years)
{
	/* 2028 is a leap year: 2028-02-29 is on the grid */
	ck_assert_day(sched_next_after(D(2028, 1, 30), 30, D(2028, 1, 30)), "2028-02-29");
	ck_assert_day(sched_next_after(D(2028, 1, 30), 30, D(2028, 2, 29)), "2028-03-30");
	ck_assert_day(sched_next_after(D(2027, 1, 30), 30, D(2027, 1, 30)), "2027-03-01");
	/* a yearly period from 02-29 */
	ck_assert_day(sched_next_after(D(2028, 2, 29), 365, D(2028, 2, 29)), "2029-02-28");
	ck_assert_day(sched_next_after(D(2027, 2, 28), 365, D(2027, 2, 28)), "2028-02-28");
	ck_assert_day(sched_next_after(D(2027, 3, 1), 365, D(2027, 3, 1)), "2028-02-29");
	/* 2100 is not a leap year, 2000 was */
	ck_assert_day(sched_next_after(D(2100, 2, 28), 30, D(2100, 2, 28)), "2100-03-30");
	ck_assert_day(sched_next_after(D(2000, 2, 28), 30, D(2000, 2, 28)), "2000-03-29");
}
END_TEST

START_TEST(test_period_change)
{
	int32_t f = D(2026, 1, 1), l = D(2026, 1, 31);

	/* charged 01-31, on 02-10 the period becomes 45: F + 45 = 02-15 is after both */
	ck_assert_day(sched_next(f, 45, l, l, D(2026, 2, 10)), "2026-02-15");
	/* ... 90: F + 90 = 04-01 */
	ck_assert_day(sched_next(f, 90, l, l, D(2026, 2, 10)), "2026-04-01");
	/* ... 30 again: back on the original grid */
	ck_assert_day(sched_next(f, 30, l, l, D(2026, 2, 10)), "2026-03-02");
	/* a shorter period whose grid date is already behind the last charge moves past it */
	ck_assert_day(sched_next(f, 35, D(2026, 2, 20), D(2026, 2, 20), D(2026, 2, 20)),
	              "2026-03-12");
	/* the longest period, anchored on F */
	ck_assert_day(sched_next(f, 365, l, l, D(2026, 6, 1)), "2027-01-01");
}
END_TEST

START_TEST(test_skips)
{
	int32_t f = D(2026, 1, 1), today = D(2026, 1, 10);
	int32_t next = sched_next(f, 30, f, f, today);

	ck_assert_day(next, "2026-01-31");
	/* skip: C = the skipped date, next by the rule = old next + P */
	next = sched_next(f, 30, f, next, today);
	ck_assert_day(next, "2026-03-02");
	next = sched_next(f, 30, f, next, today);
	ck_assert_day(next, "2026-04-01");
	/* a cycle due today and not yet charged may be skipped too */
	ck_assert_day(sched_next(f, 30, f, D(2026, 1, 31), D(2026, 1, 31)), "2026-03-02");
}
END_TEST

/* A small deterministic generator for the brute-force comparison. */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

START_TEST(test_against_brute_force)
{
	uint32_t seed = 12345;

	for (int i = 0; i < 20000; i++) {
		int32_t f = D(2026, 1, 1) + (int32_t)(lcg(&seed) % 3000) - 1500;
		int32_t p = 30 + (int32_t)(lcg(&seed) % 336);
		int32_t l = f + (int32_t)(lcg(&seed) % 2000);
		int32_t c = f + (int32_t)(lcg(&seed) % 2000);
		int32_t today = f + (int32_t)(lcg(&seed) % 4000) - 500;
		int32_t floor = l > c ? l : c, want = f + p;

		if (today > floor)
			floor = today;
		while (want <= floor)
			want += p;
		ck_assert_int_eq(sched_next(f, p, l, c, today), want);
	}
}
END_TEST

START_TEST(test_due_times_in_seoul)
{
	int32_t day = D(2026, 1, 5);

	seoul();
	/* local midnight of 2026-01-05 in Seoul is 2026-01-04T15:00:00Z */
	ck_assert_int_eq(sched_day_start(day), T_2026_01_05_000000Z - 9 * 3600);
	ck_assert_int_eq(sched_due_at(day, SCHED_CHARGE_MINUTE_DEFAULT),
	                 T_2026_01_05_000000Z + 3600);
	ck_assert_int_eq(sched_local_minute(T_2026_01_05_044510Z), 13 * 60 + 45);
	ck_assert_int_eq(sched_local_minute(T_2026_01_05_000000Z - 9 * 3600), 0);
	/* before the charge hour only yesterday's cycles are due; from it, today's */
	ck_assert_int_eq(sched_due_cutoff(day, 599, 600), day - 1);
	ck_assert_int_eq(sched_due_cutoff(day, 600, 600), day);
	ck_assert_int_eq(sched_due_cutoff(day, 1439, 600), day);
	ck_assert_int_eq(sched_due_cutoff(day, 0, 0), day);
}
END_TEST

Suite *sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_examples_of_the_contract);
	tcase_add_test(tc, test_strictly_after_the_floor);
	tcase_add_test(tc, test_floor_before_first);
	tcase_add_test(tc, test_month_ends);
	tcase_add_test(tc, test_leap_years);
	tcase_add_test(tc, test_period_change);
	tcase_add_test(tc, test_skips);
	tcase_add_test(tc, test_against_brute_force);
	tcase_add_test(tc, test_due_times_in_seoul);
	suite_add_tcase(s, tc);
	return s;
}
