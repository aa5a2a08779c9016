/* sweep_test: the pure decision of core/sweep.c: what the payment sweepers do with an open
 * record given its order lookup (KAKAOPAY.md §1.9 and §2 rows 4d and 5): a failed lookup
 * leaves it, a payment with the expected amount and payload completes (unless a subscription
 * needs the SID a lookup never carries: flagged), refunds and unknown statuses are flagged,
 * not-paid fails before the expiry and expires after it, in-progress is released (APPROVING)
 * or left (READY) before the expiry and expires after it. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/gateway.h"
#include "core/sweep.h"
#include "common/banned.h"

#define AMOUNT  29800
#define PAYLOAD "pay:42"
#define EXPIRE  900

static struct pay_result look;

/* An OK lookup with status, the expected amount and one PAYMENT action carrying PAYLOAD. */
static void lookup(const char *status)
{
	pay_result_init(&look, PAY_OP_ORDER);
	look.cls = PAY_OK;
	look.http_status = 200;
	snprintf(look.status, sizeof(look.status), "%s", status);
	look.amount.present = true;
	look.amount.total = AMOUNT;
	look.n_actions = 1;
	snprintf(look.actions[0].aid, sizeof(look.actions[0].aid), "A0000000000000000001");
	snprintf(look.actions[0].type, sizeof(look.actions[0].type), "PAYMENT");
	snprintf(look.actions[0].payload, sizeof(look.actions[0].payload), PAYLOAD);
	look.actions[0].amount = AMOUNT;
}

static struct sweep_case open_case(enum payment_state st, int64_t age_s, bool needs_sid)
{
	return (struct sweep_case){st, age_s, EXPIRE, AMOUNT, PAYLOAD, needs_sid};
}

static enum sweep_action decide(enum payment_state st, int64_t age_s, bool needs_sid)
{
	struct sweep_case c = open_case(st, age_s, needs_sid);
	struct sweep_decision d = sweep_decide(&c, &look);

	ck_assert_ptr_nonnull(d.reason);
	ck_assert_uint_gt(strlen(d.reason), 0);
	return d.action;
}

START_TEST(action_names)
{
	ck_assert_str_eq(sweep_action_name(SWEEP_LEAVE), "LEAVE");
	ck_assert_str_eq(sweep_action_name(SWEEP_COMPLETE), "COMPLETE");
	ck_assert_str_eq(sweep_action_name(SWEEP_FLAG), "FLAG");
	ck_assert_str_eq(sweep_action_name(SWEEP_FAIL), "FAIL");
	ck_assert_str_eq(sweep_action_name(SWEEP_EXPIRE), "EXPIRE");
	ck_assert_str_eq(sweep_action_name(SWEEP_RELEASE), "RELEASE");
	ck_assert_ptr_null(sweep_action_name((enum sweep_action)6));
	ck_assert_ptr_null(sweep_action_name((enum sweep_action) - 1));
}
END_TEST

START_TEST(a_failed_lookup_leaves_the_record)
{
	static const enum pay_class fails[] = {PAY_NOT_SENT, PAY_RETRY_LATER, PAY_INVALID,
	                                       PAY_CONFIG,   PAY_VERIFY,      PAY_UNKNOWN};

	for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
		lookup("SUCCESS_PAYMENT");
		look.cls = fails[i];
		ck_assert_int_eq(decide(PAYMENT_READY, 3 * EXPIRE, false), SWEEP_LEAVE);
		ck_assert_int_eq(decide(PAYMENT_APPROVING, 3 * EXPIRE, false), SWEEP_LEAVE);
		lookup("FAIL_PAYMENT");
		look.cls = fails[i];
		ck_assert_int_eq(decide(PAYMENT_READY, 3 * EXPIRE, false), SWEEP_LEAVE);
		ck_assert_int_eq(decide(PAYMENT_APPROVING, 70, false), SWEEP_LEAVE);
	}
	/* an answer from the gateway that is an error body is not a lookup either */
	lookup("SUCCESS_PAYMENT");
	look.cls = PAY_INVALID;
	look.code = -721;
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_LEAVE);
}
END_TEST

START_TEST(only_open_records_are_decided)
{
	static const enum payment_state closed[] = {PAYMENT_CREATED,  PAYMENT_APPROVED,
	                                            PAYMENT_CANCELED, PAYMENT_FAILED,
	                                            PAYMENT_EXPIRED,  PAYMENT_SUPERSEDED};

	for (size_t i = 0; i < sizeof(closed) / sizeof(closed[0]); i++) {
		lookup("SUCCESS_PAYMENT");
		ck_assert_int_eq(decide(closed[i], EXPIRE, false), SWEEP_LEAVE);
		lookup("FAIL_PAYMENT");
		ck_assert_int_eq(decide(closed[i], EXPIRE, false), SWEEP_LEAVE);
	}
}
END_TEST

START_TEST(paid_as_expected_completes)
{
	lookup("SUCCESS_PAYMENT");
	/* whatever the age: a paid payment is never expired */
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_COMPLETE);
	ck_assert_int_eq(decide(PAYMENT_READY, 100 * EXPIRE, false), SWEEP_COMPLETE);
	ck_assert_int_eq(decide(PAYMENT_APPROVING, 61, false), SWEEP_COMPLETE);
	ck_assert_int_eq(decide(PAYMENT_APPROVING, 100 * EXPIRE, false), SWEEP_COMPLETE);
	/* the PAYMENT action may come after others */
	look.n_actions = 2;
	look.actions[1] = look.actions[0];
	snprintf(look.actions[0].type, sizeof(look.actions[0].type), "ISSUED_SID");
	snprintf(look.actions[0].payload, sizeof(look.actions[0].payload), "other");
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_COMPLETE);
	/* with a SID (a lookup that carried one) a subscription order completes too */
	snprintf(look.sid, sizeof(look.sid), "S1234567890123456789");
	ck_assert_int_eq(decide(PAYMENT_APPROVING, 61, true), SWEEP_COMPLETE);
}
END_TEST

START_TEST(paid_with_the_subscription_cid_and_no_sid_is_flagged)
{
	struct sweep_case c = open_case(PAYMENT_APPROVING, 61, true);
	struct sweep_decision d;

	lookup("SUCCESS_PAYMENT");
	d = sweep_decide(&c, &look);
	ck_assert_int_eq(d.action, SWEEP_FLAG);
	ck_assert_ptr_nonnull(strstr(d.reason, "SID"));
	ck_assert_uint_le(strlen(d.reason), 255);
	ck_assert_int_eq(decide(PAYMENT_READY, 10 * EXPIRE, true), SWEEP_FLAG);
}
END_TEST

START_TEST(paid_with_another_amount_or_payload_is_flagged)
{
	lookup("SUCCESS_PAYMENT");
	look.amount.total = AMOUNT - 1;
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_FLAG);
	look.amount.total = AMOUNT + 1;
	ck_assert_int_eq(decide(PAYMENT_APPROVING, 61, false), SWEEP_FLAG);
	/* no amount in the answer proves nothing */
	lookup("SUCCESS_PAYMENT");
	look.amount.present = false;
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_FLAG);
	/* another payload, no action at all, or the payload only on a CANCEL action */
	lookup("SUCCESS_PAYMENT");
	snprintf(look.actions[0].payload, sizeof(look.actions[0].payload), "pay:43");
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_FLAG);
	lookup("SUCCESS_PAYMENT");
	look.n_actions = 0;
	ck_assert_int_eq(decide(PAYMENT_APPROVING, 61, false), SWEEP_FLAG);
	lookup("SUCCESS_PAYMENT");
	snprintf(look.actions[0].type, sizeof(look.actions[0].type), "CANCEL");
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_FLAG);
}
END_TEST

START_TEST(refunded_at_the_gateway_is_flagged)
{
	lookup("PART_CANCEL_PAYMENT");
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_FLAG);
	ck_assert_int_eq(decide(PAYMENT_APPROVING, 61, false), SWEEP_FLAG);
	lookup("CANCEL_PAYMENT");
	ck_assert_int_eq(decide(PAYMENT_READY, 10 * EXPIRE, false), SWEEP_FLAG);
	ck_assert_int_eq(decide(PAYMENT_APPROVING, 61, true), SWEEP_FLAG);
}
END_TEST

START_TEST(not_paid_fails_before_the_expiry_and_expires_after)
{
	static const char *const not_paid[] = {"FAIL_AUTH_PASSWORD", "QUIT_PAYMENT",
	                                       "FAIL_PAYMENT"};

	for (size_t i = 0; i < sizeof(not_paid) / sizeof(not_paid[0]); i++) {
		lookup(not_paid[i]);
		ck_assert_int_eq(decide(PAYMENT_APPROVING, 61, false), SWEEP_FAIL);
		ck_assert_int_eq(decide(PAYMENT_APPROVING, EXPIRE - 1, true), SWEEP_FAIL);
		ck_assert_int_eq(decide(PAYMENT_APPROVING, EXPIRE, false), SWEEP_EXPIRE);
		ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_EXPIRE);
		ck_assert_int_eq(decide(PAYMENT_READY, 10 * EXPIRE, true), SWEEP_EXPIRE);
	}
}
END_TEST

START_TEST(in_progress_is_released_or_left_before_the_expiry_and_expires_after)
{
	static const char *const open[] = {"READY",         "SEND_TMS",    "OPEN_PAYMENT",
	                                   "SELECT_METHOD", "ARS_WAITING", "AUTH_PASSWORD",
	                                   "ISSUED_SID"};

	for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++) {
		lookup(open[i]);
		ck_assert_int_eq(decide(PAYMENT_APPROVING, 61, false), SWEEP_RELEASE);
		ck_assert_int_eq(decide(PAYMENT_APPROVING, EXPIRE - 1, true), SWEEP_RELEASE);
		ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE - 1, false), SWEEP_LEAVE);
		/* KAKAOPAY.md §1.9: in progress 15 min after ready is expired */
		ck_assert_int_eq(decide(PAYMENT_APPROVING, EXPIRE, false), SWEEP_EXPIRE);
		ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_EXPIRE);
		ck_assert_int_eq(decide(PAYMENT_READY, 10 * EXPIRE, true), SWEEP_EXPIRE);
	}
}
END_TEST

START_TEST(an_unknown_status_is_flagged)
{
	lookup("SOMETHING_NEW");
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_FLAG);
	ck_assert_int_eq(decide(PAYMENT_APPROVING, 61, false), SWEEP_FLAG);
	lookup("");
	ck_assert_int_eq(decide(PAYMENT_READY, 10 * EXPIRE, false), SWEEP_FLAG);
	lookup("success_payment"); /* exact names only */
	ck_assert_int_eq(decide(PAYMENT_READY, EXPIRE, false), SWEEP_FLAG);
}
END_TEST

Suite *sweep_suite(void)
{
	Suite *s = suite_create("sweep");
	TCase *tc = tcase_create("decide");

	tcase_add_test(tc, action_names);
	tcase_add_test(tc, a_failed_lookup_leaves_the_record);
	tcase_add_test(tc, only_open_records_are_decided);
	tcase_add_test(tc, paid_as_expected_completes);
	tcase_add_test(tc, paid_with_the_subscription_cid_and_no_sid_is_flagged);
	tcase_add_test(tc, paid_with_another_amount_or_payload_is_flagged);
	tcase_add_test(tc, refunded_at_the_gateway_is_flagged);
	tcase_add_test(tc, not_paid_fails_before_the_expiry_and_expires_after);
	tcase_add_test(tc, in_progress_is_released_or_left_before_the_expiry_and_expires_after);
	tcase_add_test(tc, an_unknown_status_is_flagged);
	suite_add_tcase(s, tc);
	return s;
}
