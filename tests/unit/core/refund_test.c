/* refund_test: the pure refund rules of core/refund.c (API.md §7.5, §2.4) and the outbox
 * back-off of core/outbox.c (§7.9): payload, lookup verdicts, the route's verdict for every
 * class, the order status after a refund, back-off steps and the give-up age. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/outbox.h"
#include "core/refund.h"
#include "common/banned.h"

START_TEST(payload_text)
{
	char buf[32], small[5];

	ck_assert_int_eq(refund_payload(5, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "ref:5");
	ck_assert_int_eq(refund_payload(12345, small, sizeof(small)), -1);
}
END_TEST

static void lookup_init(struct pay_result *r, int64_t canceled)
{
	memset(r, 0, sizeof(*r));
	r->cls = PAY_OK;
	r->canceled_amount.present = true;
	r->canceled_amount.total = canceled;
}

START_TEST(lookup_verdicts)
{
	static struct pay_result r;

	ck_assert_int_eq(refund_lookup_verdict(NULL, "ref:1", 100), REFUND_UNDECIDED);
	lookup_init(&r, 0);
	r.cls = PAY_UNKNOWN;
	ck_assert_int_eq(refund_lookup_verdict(&r, "ref:1", 100), REFUND_UNDECIDED);
	/* nothing cancelled */
	lookup_init(&r, 0);
	ck_assert_int_eq(refund_lookup_verdict(&r, "ref:1", 100), REFUND_NOT_APPLIED);
	/* the running total reached previous + amount */
	lookup_init(&r, 100);
	ck_assert_int_eq(refund_lookup_verdict(&r, "ref:1", 100), REFUND_APPLIED);
	/* a CANCEL action with our payload, whatever the total */
	lookup_init(&r, 300);
	r.n_actions = 2;
	snprintf(r.actions[0].type, sizeof(r.actions[0].type), "PAYMENT");
	/* a PAYMENT action with the text does not count */
	snprintf(r.actions[0].payload, sizeof(r.actions[0].payload), "ref:1");
	snprintf(r.actions[1].type, sizeof(r.actions[1].type), "CANCEL");
	snprintf(r.actions[1].payload, sizeof(r.actions[1].payload), "ref:2");
	ck_assert_int_eq(refund_lookup_verdict(&r, "ref:1", 100), REFUND_NOT_APPLIED);
	ck_assert_int_eq(refund_lookup_verdict(&r, "ref:2", 100), REFUND_APPLIED);
	/* truncated action list or no canceled_amount: cannot decide */
	r.actions_truncated = true;
	ck_assert_int_eq(refund_lookup_verdict(&r, "ref:1", 100), REFUND_UNDECIDED);
	lookup_init(&r, 0);
	r.canceled_amount.present = false;
	ck_assert_int_eq(refund_lookup_verdict(&r, "ref:1", 100), REFUND_UNDECIDED);
}
END_TEST

START_TEST(route_verdicts)
{
	static const enum pay_class refusals[] = {PAY_RETRY_LATER, PAY_DECLINED, PAY_SID_DEAD,
	                                          PAY_LIMIT,       PAY_INVALID,  PAY_CONFIG,
	                                          PAY_VERIFY};
	for (int lv = REFUND_APPLIED; lv <= REFUND_UNDECIDED; lv++)
		ck_assert_int_eq(refund_decide(PAY_OK, (enum refund_verdict)lv), REFUND_APPLIED);
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		ck_assert_int_eq(refund_decide(refusals[i], REFUND_APPLIED), REFUND_APPLIED);
		ck_assert_int_eq(refund_decide(refusals[i], REFUND_NOT_APPLIED),
		                 REFUND_NOT_APPLIED);
		ck_assert_int_eq(refund_decide(refusals[i], REFUND_UNDECIDED), REFUND_UNDECIDED);
	}
	ck_assert_int_eq(refund_decide(PAY_UNKNOWN, REFUND_APPLIED), REFUND_APPLIED);
	ck_assert_int_eq(refund_decide(PAY_UNKNOWN, REFUND_NOT_APPLIED), REFUND_UNDECIDED);
	ck_assert_int_eq(refund_decide(PAY_UNKNOWN, REFUND_UNDECIDED), REFUND_UNDECIDED);
	ck_assert_int_eq(refund_decide(PAY_NOT_SENT, REFUND_UNDECIDED), REFUND_NOT_APPLIED);
}
END_TEST

START_TEST(status_after)
{
	ck_assert_int_eq(refund_status_after(ORDER_COMPLETE, 1000, 1000), ORDER_REFUND);
	ck_assert_int_eq(refund_status_after(ORDER_COMPLETE, 1000, 1), ORDER_PARTIAL_REFUND);
	ck_assert_int_eq(refund_status_after(ORDER_PARTIAL_REFUND, 1000, 999),
	                 ORDER_PARTIAL_REFUND);
	ck_assert_int_eq(refund_status_after(ORDER_PARTIAL_REFUND, 1000, 1000), ORDER_REFUND);
	ck_assert_int_eq(refund_status_after(ORDER_COMPLETE, 1000, 1001), ORDER_NONE);
	ck_assert_int_eq(refund_status_after(ORDER_COMPLETE, 1000, 0), ORDER_NONE);
	ck_assert_int_eq(refund_status_after(ORDER_REQUEST, 1000, 10), ORDER_NONE);
	ck_assert_int_eq(refund_status_after(ORDER_REFUND, 1000, 1000), ORDER_NONE);
	ck_assert_int_eq(refund_status_after(ORDER_CANCELED, 1000, 10), ORDER_NONE);
}
END_TEST

START_TEST(backoff_steps)
{
	ck_assert_int_eq(outbox_backoff_s(0), 60);
	ck_assert_int_eq(outbox_backoff_s(1), 60);
	ck_assert_int_eq(outbox_backoff_s(2), 120);
	ck_assert_int_eq(outbox_backoff_s(3), 240);
	ck_assert_int_eq(outbox_backoff_s(6), 1920);
	ck_assert_int_eq(outbox_backoff_s(7), 3600);
	ck_assert_int_eq(outbox_backoff_s(100), 3600);
	ck_assert_int_eq(outbox_backoff_s(INT64_MAX), 3600);
}
END_TEST

START_TEST(give_up_age)
{
	ck_assert_int_eq(outbox_expired(1000, 1000 + OUTBOX_MAX_AGE_S - 1, OUTBOX_MAX_AGE_S), 0);
	ck_assert_int_eq(outbox_expired(1000, 1000 + OUTBOX_MAX_AGE_S, OUTBOX_MAX_AGE_S), 1);
	ck_assert_int_eq(outbox_expired(1000, 1010, 10), 1);
	ck_assert_int_eq(outbox_expired(1000, 1009, 10), 0);
}
END_TEST

Suite *refund_suite(void)
{
	Suite *s = suite_create("refund");
	TCase *tc = tcase_create("refund");

	tcase_add_test(tc, payload_text);
	tcase_add_test(tc, lookup_verdicts);
	tcase_add_test(tc, route_verdicts);
	tcase_add_test(tc, status_after);
	tcase_add_test(tc, backoff_steps);
	tcase_add_test(tc, give_up_age);
	suite_add_tcase(s, tc);
	return s;
}
