/* order_test: the pure order rules of core/order.c: every pair of the order status machine
 * of API.md §2.4 (allowed and refused, with the refusing 409 code), the status names, the
 * §6.1 line and receiver rules, the §2.5 "change quantity" rule and the totals of §2.3. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "core/order.h"
#include "core/price.h"
#include "common/banned.h"

#define N_FROM 6
#define N_TO   6

static const enum order_status all_states[N_FROM] = {
    ORDER_NONE, ORDER_REQUEST, ORDER_COMPLETE, ORDER_PARTIAL_REFUND, ORDER_REFUND, ORDER_CANCELED,
};

/*
 * allowed[from][to] over all_states (ORDER_NONE = "—"), written out from the table of §2.4:
 *   — → REQUEST (POST /api/orders), — → COMPLETE (renewal order)
 *   REQUEST → COMPLETE (approved), REQUEST → REQUEST (payment failed), REQUEST → CANCELED
 *   COMPLETE, PARTIAL_REFUND → PARTIAL_REFUND (refund, remaining > 0) or REFUND (remaining 0)
 */
static const int allowed[N_FROM][N_TO] = {
    /* to:      NONE REQ COMP PART REF CANC */
    /* NONE */ {0, 1, 1, 0, 0, 0},
    /* REQ  */ {0, 1, 1, 0, 0, 1},
    /* COMP */ {0, 0, 0, 1, 1, 0},
    /* PART */ {0, 0, 0, 1, 1, 0},
    /* REF  */ {0, 0, 0, 0, 0, 0},
    /* CANC */ {0, 0, 0, 0, 0, 0},
};

START_TEST(test_every_transition_pair)
{
	int n_allowed = 0, n_refused = 0;

	for (int f = 0; f < N_FROM; f++) {
		for (int t = 0; t < N_TO; t++) {
			bool got = order_can_transition(all_states[f], all_states[t]);
			ck_assert_msg(got == (allowed[f][t] != 0), "%d -> %d: expected %s",
			              (int)all_states[f], (int)all_states[t],
			              allowed[f][t] ? "allowed" : "refused");
			if (got)
				n_allowed++;
			else
				n_refused++;
		}
	}
	ck_assert_int_eq(n_allowed, 9);
	ck_assert_int_eq(n_refused, 27);
}
END_TEST

START_TEST(test_refusal_codes)
{
	for (int f = 0; f < N_FROM; f++) {
		for (int t = 0; t < N_TO; t++) {
			enum order_status from = all_states[f], to = all_states[t];
			int rc = order_transition_error(from, to);
			if (allowed[f][t])
				ck_assert_int_eq(rc, 0);
			else if (to == ORDER_PARTIAL_REFUND || to == ORDER_REFUND)
				ck_assert_int_eq(rc, -E_ORDER_NOT_REFUNDABLE);
			else
				ck_assert_int_eq(rc, -E_ORDER_NOT_PAYABLE);
		}
	}
	/* the contract's 409 cases, spelled out */
	ck_assert_int_eq(order_transition_error(ORDER_COMPLETE, ORDER_COMPLETE),
	                 -E_ORDER_NOT_PAYABLE); /* already paid */
	ck_assert_int_eq(order_transition_error(ORDER_CANCELED, ORDER_COMPLETE),
	                 -E_ORDER_NOT_PAYABLE);
	ck_assert_int_eq(order_transition_error(ORDER_REQUEST, ORDER_REFUND),
	                 -E_ORDER_NOT_REFUNDABLE); /* never paid */
	ck_assert_int_eq(order_transition_error(ORDER_REFUND, ORDER_PARTIAL_REFUND),
	                 -E_ORDER_NOT_REFUNDABLE); /* nothing left */
	ck_assert_int_eq(order_transition_error(ORDER_CANCELED, ORDER_REFUND),
	                 -E_ORDER_NOT_REFUNDABLE);
}
END_TEST

START_TEST(test_out_of_range_states_are_refused)
{
	ck_assert(!order_can_transition((enum order_status)7, ORDER_REQUEST));
	ck_assert(!order_can_transition(ORDER_REQUEST, (enum order_status)9));
	ck_assert(!order_can_transition(ORDER_REQUEST, (enum order_status) - 5));
}
END_TEST

START_TEST(test_status_names)
{
	static const char *const names[] = {"REQUEST", "COMPLETE", "PARTIAL_REFUND", "REFUND",
	                                    "CANCELED"};
	static const char *const subs[] = {"SUBSCRIPTION", "PAUSED", "SUBSCRIBE_PAYMENT_FAIL",
	                                   "SUBSCRIBE_CANCEL"};

	for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
		ck_assert_str_eq(order_status_name((enum order_status)i), names[i]);
		ck_assert_int_eq(order_status_parse(names[i]), i);
	}
	for (int i = 0; i < SUB_STATUS_COUNT; i++) {
		ck_assert_str_eq(sub_status_name((enum sub_status)i), subs[i]);
		ck_assert_int_eq(sub_status_parse(subs[i]), i);
	}
	ck_assert_ptr_null(order_status_name(ORDER_NONE));
	ck_assert_ptr_null(order_status_name((enum order_status)5));
	ck_assert_ptr_null(sub_status_name((enum sub_status)4));
	/* case-sensitive, exact */
	ck_assert_int_eq(order_status_parse("complete"), ORDER_NONE);
	ck_assert_int_eq(order_status_parse("COMPLETE "), ORDER_NONE);
	ck_assert_int_eq(order_status_parse(""), ORDER_NONE);
	ck_assert_int_eq(order_status_parse(NULL), ORDER_NONE);
	ck_assert_int_eq(order_status_parse("SUBSCRIPTION"), ORDER_NONE);
	ck_assert_int_eq(sub_status_parse("paused"), -1);
	ck_assert_int_eq(sub_status_parse("COMPLETE"), -1);
	ck_assert_int_eq(sub_status_parse(NULL), -1);
}
END_TEST

START_TEST(test_line_rules)
{
	ck_assert_ptr_null(order_rule_lines(1));
	ck_assert_ptr_null(order_rule_lines(100));
	ck_assert_str_eq(order_rule_lines(0), "1개 이상 100개 이하여야 합니다");
	ck_assert_str_eq(order_rule_lines(101), "1개 이상 100개 이하여야 합니다");

	ck_assert_str_eq(order_rule_quantity(false, 0), "필수 값입니다");
	ck_assert_str_eq(order_rule_quantity(true, 0), "1 이상이어야 합니다");
	ck_assert_str_eq(order_rule_quantity(true, -3), "1 이상이어야 합니다");
	ck_assert_str_eq(order_rule_quantity(true, 1000), "999 이하여야 합니다");
	ck_assert_ptr_null(order_rule_quantity(true, 1));
	ck_assert_ptr_null(order_rule_quantity(true, 999));

	ck_assert_str_eq(order_rule_period(false, 0), "필수 값입니다");
	ck_assert_str_eq(order_rule_period(true, 29), "30 이상이어야 합니다");
	ck_assert_str_eq(order_rule_period(true, 0), "30 이상이어야 합니다");
	ck_assert_str_eq(order_rule_period(true, 366), "365 이하여야 합니다");
	ck_assert_ptr_null(order_rule_period(true, 30));
	ck_assert_ptr_null(order_rule_period(true, 365));
}
END_TEST

START_TEST(test_receiver_rules)
{
	char s[260];

	ck_assert_str_eq(order_rule_city(NULL), "공백일 수 없습니다");
	ck_assert_str_eq(order_rule_city(" \t"), "공백일 수 없습니다");
	memset(s, 'a', 101);
	s[101] = '\0';
	ck_assert_str_eq(order_rule_city(s), "100자 이하여야 합니다");
	s[100] = '\0';
	ck_assert_ptr_null(order_rule_city(s));

	memset(s, 'b', 201);
	s[201] = '\0';
	ck_assert_str_eq(order_rule_detail_address(s), "200자 이하여야 합니다");
	s[200] = '\0';
	ck_assert_ptr_null(order_rule_detail_address(s));
	ck_assert_str_eq(order_rule_detail_address(""), "공백일 수 없습니다");

	/* the receiver name may hold spaces (unlike the profile's realName), ≤ 30 characters */
	ck_assert_ptr_null(order_rule_real_name("홍 길동"));
	ck_assert_str_eq(order_rule_real_name("   "), "공백일 수 없습니다");
	ck_assert_str_eq(order_rule_real_name(NULL), "공백일 수 없습니다");
	ck_assert_ptr_null(
	    order_rule_real_name("가나다라마바사아자차카타파하가나다라마바사아자차카타파하가나"));
	ck_assert_str_eq(
	    order_rule_real_name("가나다라마바사아자차카타파하가나다라마바사아자차카타파하가나다"),
	    "30자 이하여야 합니다");

	ck_assert_str_eq(order_rule_phone(NULL), "공백일 수 없습니다");
	ck_assert_str_eq(order_rule_phone(" "), "공백일 수 없습니다");
	ck_assert_str_eq(order_rule_phone("02-123-4567"), "올바른 연락처 형식이 아닙니다.");
	ck_assert_str_eq(order_rule_phone("010-11111-1111"), "올바른 연락처 형식이 아닙니다.");
	ck_assert_ptr_null(order_rule_phone("010-1234-5678"));
	ck_assert_ptr_null(order_rule_phone("01012345678"));
	ck_assert_ptr_null(order_rule_phone("011-123-4567"));
}
END_TEST

START_TEST(test_subscription_quantity_change)
{
	/* §2.5: change quantity only in SUBSCRIPTION and PAUSED ... */
	ck_assert(sub_op_allowed(SUB_OP_CHANGE, SUB_SUBSCRIPTION, false, false));
	ck_assert(sub_op_allowed(SUB_OP_CHANGE, SUB_PAUSED, false, false));
	ck_assert(!sub_op_allowed(SUB_OP_CHANGE, SUB_PAYMENT_FAIL, false, false));
	ck_assert(!sub_op_allowed(SUB_OP_CHANGE, SUB_CANCEL, false, false));
	ck_assert(!sub_op_allowed(SUB_OP_CHANGE, -1, false, false));
	/* ... and never while a charge is in flight or UNKNOWN */
	ck_assert(!sub_op_allowed(SUB_OP_CHANGE, SUB_SUBSCRIPTION, true, false));
	ck_assert(!sub_op_allowed(SUB_OP_CHANGE, SUB_SUBSCRIPTION, false, true));
	ck_assert(!sub_op_allowed(SUB_OP_CHANGE, SUB_PAUSED, false, true));
	ck_assert(!sub_op_allowed(SUB_OP_CHANGE, SUB_PAUSED, true, true));
}
END_TEST

START_TEST(test_subscription_operation_table)
{
	/* §2.5 "allowed operations per status", row by row (S, P, F, C) */
	static const struct {
		enum sub_op op;
		bool allowed[SUB_STATUS_COUNT];
	} rows[] = {
	    {SUB_OP_CHANGE, {true, true, false, false}},
	    {SUB_OP_PAUSE, {true, false, false, false}},
	    {SUB_OP_RESUME, {false, true, false, false}},
	    {SUB_OP_SKIP, {true, false, false, false}},
	    {SUB_OP_CANCEL, {true, true, true, false}},
	    {SUB_OP_CHARGE_NOW, {true, false, true, false}},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (int st = 0; st < SUB_STATUS_COUNT; st++) {
			bool cancel = rows[i].op == SUB_OP_CANCEL;

			ck_assert_msg(sub_op_allowed(rows[i].op, st, false, false) ==
			                  rows[i].allowed[st],
			              "op %d status %d", (int)rows[i].op, st);
			/* in flight or UNKNOWN: everything refused but cancel */
			ck_assert(sub_op_allowed(rows[i].op, st, true, false) ==
			          (cancel && rows[i].allowed[st]));
			ck_assert(sub_op_allowed(rows[i].op, st, false, true) ==
			          (cancel && rows[i].allowed[st]));
		}
		ck_assert(!sub_op_allowed(rows[i].op, SUB_STATUS_COUNT, false, false));
	}
	ck_assert(!sub_op_allowed((enum sub_op)SUB_OP_COUNT, SUB_SUBSCRIPTION, false, false));
}
END_TEST

START_TEST(test_subscription_next_date_shown)
{
	ck_assert(sub_next_date_shown(SUB_SUBSCRIPTION, false));
	ck_assert(sub_next_date_shown(SUB_PAYMENT_FAIL, false)); /* the open cycle while retrying */
	ck_assert(!sub_next_date_shown(SUB_PAYMENT_FAIL, true));
	ck_assert(!sub_next_date_shown(SUB_PAUSED, false));
	ck_assert(!sub_next_date_shown(SUB_CANCEL, false));
}
END_TEST

START_TEST(test_totals_example)
{
	/* §2.2 / §6.1 example: A (11000, 10 %) x 2 and B (10000, 0 %) x 1 */
	struct order_line lines[2] = {0};
	struct price_totals t;

	ck_assert_int_eq(price_derive(11000, 100, &lines[0].price), 0);
	lines[0].quantity = 2;
	ck_assert_int_eq(price_derive(10000, 0, &lines[1].price), 0);
	lines[1].quantity = 1;
	order_totals(lines, 2, &t);
	ck_assert_int_eq(t.lines, 2);
	ck_assert_int_eq(t.item_count, 3);
	ck_assert_int_eq(t.total_price, 32000);
	ck_assert_int_eq(t.total_discount, 2200);
	ck_assert_int_eq(t.expect_price, 29800);

	order_totals(lines, 0, &t);
	ck_assert_int_eq(t.lines, 0);
	ck_assert_int_eq(t.expect_price, 0);
}
END_TEST

START_TEST(test_totals_at_the_bounds)
{
	/* 100 lines of 999 units at the largest unit price accepted: no overflow */
	static struct order_line lines[ORDER_LINES_MAX];
	struct price_totals t;

	for (int i = 0; i < ORDER_LINES_MAX; i++) {
		memset(&lines[i], 0, sizeof(lines[i]));
		ck_assert_int_eq(price_derive(ORDER_UNIT_PRICE_MAX, 1000, &lines[i].price), 0);
		lines[i].quantity = RULE_QUANTITY_MAX;
	}
	order_totals(lines, ORDER_LINES_MAX, &t);
	ck_assert_int_eq(t.item_count, (int64_t)ORDER_LINES_MAX * RULE_QUANTITY_MAX);
	ck_assert(t.total_price > 0);
	ck_assert_int_eq(t.total_price, t.total_discount); /* 100 % off */
	ck_assert_int_eq(t.expect_price, 0);
}
END_TEST

START_TEST(test_release_is_idempotent)
{
	struct order o = {0};

	order_release(&o);
	ck_assert_int_eq(o.status, ORDER_NONE);
	order_release(&o);
	ck_assert_ptr_null(o.lines);
}
END_TEST

Suite *order_suite(void)
{
	Suite *s = suite_create("order");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, test_every_transition_pair);
	tcase_add_test(tc, test_refusal_codes);
	tcase_add_test(tc, test_out_of_range_states_are_refused);
	tcase_add_test(tc, test_status_names);
	tcase_add_test(tc, test_line_rules);
	tcase_add_test(tc, test_receiver_rules);
	tcase_add_test(tc, test_subscription_quantity_change);
	tcase_add_test(tc, test_subscription_operation_table);
	tcase_add_test(tc, test_subscription_next_date_shown);
	tcase_add_test(tc, test_totals_example);
	tcase_add_test(tc, test_totals_at_the_bounds);
	tcase_add_test(tc, test_release_is_idempotent);
	suite_add_tcase(s, tc);
	return s;
}
