/*
 * retry_test: the retry policy of API.md §2.7: parsing the delay list, maxAttempts, and what
 * each outcome class does to the retry state (the default schedule with a late daemon, hard
 * declines, UNKNOWN, and the holds of RETRY_LATER, NOT_SENT, INVALID and CONFIG).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "core/retry.h"
#include "common/banned.h"

#define H                    3600
#define T_2026_01_05_044510Z 1767588310LL /* 13:45:10 in Seoul */
#define T_2026_01_05_150000Z 1767625200LL /* 2026-01-06 00:00:00 in Seoul */

static struct retry_policy policy(const char *text)
{
	struct retry_policy p;

	ck_assert_int_eq(retry_policy_parse(text, &p), 0);
	return p;
}

START_TEST(test_parse_good_lists)
{
	struct retry_policy p = policy(RETRY_DEFAULT_DELAYS);

	ck_assert_int_eq(p.n_delays, 4);
	ck_assert_int_eq(p.delays_s[0], 0);
	ck_assert_int_eq(p.delays_s[1], 24 * H);
	ck_assert_int_eq(p.delays_s[2], 24 * H);
	ck_assert_int_eq(p.delays_s[3], 24 * H);
	ck_assert_int_eq(p.hold_not_sent_s, RETRY_HOLD_NOT_SENT_S);
	ck_assert_int_eq(p.hold_invalid_s, RETRY_HOLD_INVALID_S);
	ck_assert_int_eq(retry_max_attempts(&p), 5); /* §2.7: maxAttempts = 5 */

	/* units s, m, h, d, none (seconds); spaces around items */
	p = policy(" 30s , 5m,1h,2d ,7");
	ck_assert_int_eq(p.n_delays, 5);
	ck_assert_int_eq(p.delays_s[0], 30);
	ck_assert_int_eq(p.delays_s[1], 300);
	ck_assert_int_eq(p.delays_s[2], H);
	ck_assert_int_eq(p.delays_s[3], 2 * 86400);
	ck_assert_int_eq(p.delays_s[4], 7);
	ck_assert_int_eq(retry_max_attempts(&p), 6);

	/* no retries at all */
	p = policy("");
	ck_assert_int_eq(p.n_delays, 0);
	ck_assert_int_eq(retry_max_attempts(&p), 1);
	p = policy("   ");
	ck_assert_int_eq(p.n_delays, 0);
	p = policy(NULL);
	ck_assert_int_eq(p.n_delays, 0);

	/* the bounds: 30 days per delay, 16 delays */
	p = policy("30d,720h,43200m,2592000");
	ck_assert_int_eq(p.n_delays, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(p.delays_s[i], 30 * 86400);
	p = policy("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16");
	ck_assert_int_eq(p.n_delays, RETRY_DELAYS_MAX);
	ck_assert_int_eq(p.delays_s[15], 16);
}
END_TEST

START_TEST(test_parse_bad_lists)
{
	static const char *const bad[] = {
	    "31d",
	    "2592001",
	    "721h",
	    "-1",
	    "+1",
	    "1x",
	    "1hh",
	    "h",
	    "1 h",
	    "0,,24h",
	    ",0",
	    "0,",
	    "0, ",
	    "0x10",
	    "1.5h",
	    "24H",
	    "abc",
	    "1e3",
	    "99999999999999999999",
	    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
	};
	struct retry_policy p = {.n_delays = 42};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(retry_policy_parse(bad[i], &p) == -E_CONFIG, "\"%s\" was accepted",
		              bad[i]);
		ck_assert_int_eq(p.n_delays, 42); /* out untouched on failure */
	}
}
END_TEST

/* Asserts one decision: counted, new state (or no change), attempts, next retry, hold. */
static void expect(const struct retry_decision *d, bool counted, bool changes,
                   enum retry_state state, int attempts, int64_t next_retry_at, int64_t hold)
{
	ck_assert_int_eq(d->counted, counted);
	ck_assert_int_eq(d->state_changes, changes);
	if (changes)
		ck_assert_int_eq(d->state, state);
	ck_assert_int_eq(d->attempts, attempts);
	ck_assert_int_eq(d->next_retry_at, next_retry_at);
	ck_assert_int_eq(d->hold_until, hold);
}

START_TEST(test_default_schedule_with_a_late_daemon)
{
	struct retry_policy p = policy(RETRY_DEFAULT_DELAYS);
	struct retry_decision d;
	int64_t t1 = T_2026_01_05_044510Z, t2 = t1 + 7;

	/* 1st decline: retried immediately (same run) */
	retry_decide(&p, PAY_DECLINED, 0, 0, t1, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 1, t1, 0);
	ck_assert(d.first_failure);
	ck_assert(!d.exhausted_now);
	/* 2nd decline (the immediate retry): 24 h after it */
	retry_decide(&p, PAY_DECLINED, 1, t1, t2, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 2, t2 + 24 * H, 0);
	ck_assert(!d.first_failure);
	/* 3rd, the daemon 30 min late: still 48 h after the 2nd decline */
	retry_decide(&p, PAY_DECLINED, 2, t2 + 24 * H, t2 + 24 * H + 1800, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 3, t2 + 48 * H, 0);
	/* 4th, 2 h late: 72 h after the 2nd decline */
	retry_decide(&p, PAY_DECLINED, 3, t2 + 48 * H, t2 + 50 * H, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 4, t2 + 72 * H, 0);
	/* 5th: exhausted */
	retry_decide(&p, PAY_DECLINED, 4, t2 + 72 * H, t2 + 72 * H + 60, &d);
	expect(&d, true, true, RETRY_EXHAUSTED, 5, 0, 0);
	ck_assert(d.exhausted_now);
}
END_TEST

START_TEST(test_very_late_daemon_and_unscheduled_attempts)
{
	struct retry_policy p = policy(RETRY_DEFAULT_DELAYS);
	struct retry_decision d;
	int64_t t2 = T_2026_01_05_044510Z;

	/* so late that the anchored time has passed: retry at once, never in the past */
	retry_decide(&p, PAY_DECLINED, 2, t2 + 24 * H, t2 + 60 * H, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 3, t2 + 60 * H, 0);
	/* a decline that was not a scheduled retry (charge now): counted from its own end */
	retry_decide(&p, PAY_DECLINED, 2, 0, t2 + 5 * H, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 3, t2 + 29 * H, 0);
	/* a negative count reads as none */
	retry_decide(&p, PAY_DECLINED, -3, 0, t2, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 1, t2, 0);
}
END_TEST

START_TEST(test_other_policies)
{
	struct retry_policy none = policy(""), quick = policy("0,0"), spaced = policy("1h,2h");
	struct retry_decision d;
	int64_t t = T_2026_01_05_044510Z;

	/* no delays: the first decline exhausts */
	retry_decide(&none, PAY_DECLINED, 0, 0, t, &d);
	expect(&d, true, true, RETRY_EXHAUSTED, 1, 0, 0);
	ck_assert(d.exhausted_now && d.first_failure);
	/* immediate retries only */
	retry_decide(&quick, PAY_DECLINED, 1, t, t + 3, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 2, t + 3, 0);
	retry_decide(&quick, PAY_DECLINED, 2, t + 3, t + 6, &d);
	expect(&d, true, true, RETRY_EXHAUSTED, 3, 0, 0);
	/* a delay after a scheduled delay is anchored on the scheduled time */
	retry_decide(&spaced, PAY_DECLINED, 0, 0, t, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 1, t + H, 0);
	retry_decide(&spaced, PAY_DECLINED, 1, t + H, t + H + 600, &d);
	expect(&d, true, true, RETRY_SCHEDULED, 2, t + 3 * H, 0);
}
END_TEST

START_TEST(test_hard_declines_exhaust_at_once)
{
	struct retry_policy p = policy(RETRY_DEFAULT_DELAYS);
	struct retry_decision d;
	int64_t t = T_2026_01_05_044510Z;
	const enum pay_class hard[] = {PAY_SID_DEAD, PAY_LIMIT};

	for (size_t i = 0; i < 2; i++) {
		retry_decide(&p, hard[i], 0, 0, t, &d);
		expect(&d, true, true, RETRY_EXHAUSTED, 1, 0, 0);
		ck_assert(d.exhausted_now && d.first_failure);
		/* also in the middle of the retries */
		retry_decide(&p, hard[i], 2, t, t + 24 * H, &d);
		expect(&d, true, true, RETRY_EXHAUSTED, 3, 0, 0);
		ck_assert(d.exhausted_now && !d.first_failure);
	}
}
END_TEST

START_TEST(test_unknown_parks_the_cycle)
{
	struct retry_policy p = policy(RETRY_DEFAULT_DELAYS);
	struct retry_decision d;
	int64_t t = T_2026_01_05_044510Z;

	retry_decide(&p, PAY_UNKNOWN, 2, t, t + 10, &d);
	expect(&d, false, true, RETRY_UNKNOWN, 2, 0, 0);
	ck_assert(!d.exhausted_now && !d.first_failure);
	retry_decide(&p, PAY_VERIFY, 0, 0, t, &d);
	expect(&d, false, true, RETRY_UNKNOWN, 0, 0, 0);
}
END_TEST

START_TEST(test_retry_later_holds_until_midnight_in_seoul)
{
	struct retry_policy p = policy(RETRY_DEFAULT_DELAYS);
	struct retry_decision d;

	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
	/* 13:45 KST -> 00:00 KST of the next day, whatever the attempts */
	retry_decide(&p, PAY_RETRY_LATER, 3, 0, T_2026_01_05_044510Z, &d);
	expect(&d, false, false, RETRY_NONE, 3, 0, T_2026_01_05_150000Z);
	/* 23:59:59 KST -> one second later */
	retry_decide(&p, PAY_RETRY_LATER, 0, 0, T_2026_01_05_150000Z - 1, &d);
	expect(&d, false, false, RETRY_NONE, 0, 0, T_2026_01_05_150000Z);
	/* exactly 00:00 KST -> the following midnight */
	retry_decide(&p, PAY_RETRY_LATER, 0, 0, T_2026_01_05_150000Z, &d);
	expect(&d, false, false, RETRY_NONE, 0, 0, T_2026_01_05_150000Z + 86400);
	/* 08:59 KST is still the previous UTC day: the midnight is the local one */
	retry_decide(&p, PAY_RETRY_LATER, 0, 0, T_2026_01_05_150000Z + 8 * H + 59 * 60, &d);
	expect(&d, false, false, RETRY_NONE, 0, 0, T_2026_01_05_150000Z + 86400);
}
END_TEST

START_TEST(test_not_sent_and_invalid_hold)
{
	struct retry_policy p = policy(RETRY_DEFAULT_DELAYS);
	struct retry_decision d;
	int64_t t = T_2026_01_05_044510Z;

	retry_decide(&p, PAY_NOT_SENT, 1, t - 5, t, &d);
	expect(&d, false, false, RETRY_NONE, 1, 0, t + RETRY_HOLD_NOT_SENT_S);
	retry_decide(&p, PAY_INVALID, 1, 0, t, &d);
	expect(&d, false, false, RETRY_NONE, 1, 0, t + RETRY_HOLD_INVALID_S);
	retry_decide(&p, PAY_CONFIG, 0, 0, t, &d);
	expect(&d, false, false, RETRY_NONE, 0, 0, t + RETRY_HOLD_INVALID_S);
	ck_assert(!d.exhausted_now && !d.first_failure);
	/* OK is not a failure: nothing changes */
	retry_decide(&p, PAY_OK, 2, 0, t, &d);
	expect(&d, false, false, RETRY_NONE, 2, 0, 0);
}
END_TEST

START_TEST(test_state_names)
{
	static const char *const names[] = {"NONE", "SCHEDULED", "UNKNOWN", "EXHAUSTED"};
	enum retry_state s = RETRY_SCHEDULED;

	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(retry_state_name((enum retry_state)i), names[i]);
		ck_assert_int_eq(retry_state_parse(names[i], &s), 0);
		ck_assert_int_eq(s, i);
	}
	s = RETRY_UNKNOWN;
	ck_assert_int_eq(retry_state_parse("scheduled", &s), -E_VALIDATION_FAILED);
	ck_assert_int_eq(retry_state_parse(NULL, &s), -E_VALIDATION_FAILED);
	ck_assert_int_eq(s, RETRY_UNKNOWN);
	ck_assert_str_eq(retry_state_name((enum retry_state)9), "NONE");
}
END_TEST

Suite *retry_suite(void)
{
	Suite *s = suite_create("retry");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_good_lists);
	tcase_add_test(tc, test_parse_bad_lists);
	tcase_add_test(tc, test_default_schedule_with_a_late_daemon);
	tcase_add_test(tc, test_very_late_daemon_and_unscheduled_attempts);
	tcase_add_test(tc, test_other_policies);
	tcase_add_test(tc, test_hard_declines_exhaust_at_once);
	tcase_add_test(tc, test_unknown_parks_the_cycle);
	tcase_add_test(tc, test_retry_later_holds_until_midnight_in_seoul);
	tcase_add_test(tc, test_not_sent_and_invalid_hold);
	tcase_add_test(tc, test_state_names);
	suite_add_tcase(s, tc);
	return s;
}
