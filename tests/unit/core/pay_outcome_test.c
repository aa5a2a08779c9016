/* pay_outcome_test: every row of KAKAOPAY.md §1.11.3 / §1.11.4 and of API.md §2.7's table. */
#include <check.h>
#include <stddef.h>

#include "core/gateway.h"
#include "core/pay_outcome.h"
#include "common/err.h"
#include "common/banned.h"

#define A PAY_OP_APPROVE
#define S PAY_OP_SUBSCRIPTION
#define C PAY_OP_CANCEL
#define R PAY_OP_READY
#define I PAY_OP_INACTIVE
#define T PAY_OP_STATUS
#define O PAY_OP_ORDER

struct row {
	enum pay_op op;
	int code;
	const char *mrc;
	enum pay_class want;
};

/* §1.11.4, code by code, on a money call with a tid (approve or cancel), on the recurring charge
 * (no tid) and on a read call (order lookup). */
static const struct row code_rows[] = {
    {A, -2, NULL, PAY_INVALID},
    {S, -2, NULL, PAY_INVALID},
    {O, -2, NULL, PAY_INVALID},
    {A, -400, NULL, PAY_CONFIG},
    {S, -401, NULL, PAY_CONFIG},
    {O, -403, NULL, PAY_CONFIG},
    {C, -404, NULL, PAY_CONFIG},
    {S, -429, NULL, PAY_RETRY_LATER},
    {O, -429, NULL, PAY_RETRY_LATER},
    {S, -500, NULL, PAY_UNKNOWN},
    {A, -503, NULL, PAY_UNKNOWN},
    {C, -9798, NULL, PAY_UNKNOWN},
    {O, -500, NULL, PAY_RETRY_LATER},
    {T, -503, NULL, PAY_RETRY_LATER},
    {R, -9798, NULL, PAY_RETRY_LATER},
    {I, -500, NULL, PAY_RETRY_LATER},
    {S, -1, NULL, PAY_UNKNOWN}, /* legacy internal error, read as -500 */
    {O, -1, NULL, PAY_RETRY_LATER},
    {A, -701, NULL, PAY_VERIFY},
    {A, -702, NULL, PAY_VERIFY},
    {A, -703, NULL, PAY_INVALID},
    {A, -704, NULL, PAY_INVALID},
    {S, -705, NULL, PAY_DECLINED},
    {A, -706, NULL, PAY_INVALID},
    {A, -707, NULL, PAY_INVALID},
    {A, -708, NULL, PAY_VERIFY},
    {C, -710, NULL, PAY_VERIFY},
    {C, -711, NULL, PAY_VERIFY},
    {O, -721, NULL, PAY_INVALID},
    {A, -721, NULL, PAY_INVALID},
    {R, -722, NULL, PAY_INVALID},
    {S, -722, NULL, PAY_INVALID},
    {A, -723, NULL, PAY_DECLINED}, /* expired: nothing was charged */
    {A, -724, NULL, PAY_INVALID},
    {A, -725, NULL, PAY_INVALID},
    {A, -726, NULL, PAY_INVALID},
    {R, -730, NULL, PAY_CONFIG},
    {S, -731, NULL, PAY_CONFIG},
    {O, -732, NULL, PAY_CONFIG},
    {A, -733, NULL, PAY_CONFIG},
    {S, -750, NULL, PAY_SID_DEAD},
    {S, -751, NULL, PAY_SID_DEAD},
    {T, -750, NULL, PAY_SID_DEAD},
    {I, -750, NULL, PAY_OK}, /* on inactive: done */
    {I, -751, NULL, PAY_OK},
    {S, -752, NULL, PAY_LIMIT},
    {S, -753, NULL, PAY_INVALID},
    {S, -761, NULL, PAY_UNKNOWN}, /* "not used": any other code */
    {O, -761, NULL, PAY_INVALID},
    {A, -780, NULL, PAY_VERIFY},
    {A, -780, "USER_LOCKED", PAY_VERIFY},
    {C, -781, "FAKE_AVAILABLE_MISMATCH", PAY_VERIFY},
    {S, -782, NULL, PAY_DECLINED},
    {S, -782, "", PAY_DECLINED},
    {S, -782, "CARD_DECLINED", PAY_DECLINED},
    {S, -782, "USER_LOCKED", PAY_UNKNOWN},
    {S, -782, "BANK_FIRM_UNKNOWN", PAY_UNKNOWN},
    {S, -782, "user_locked", PAY_DECLINED}, /* exact match only */
    {A, -783, NULL, PAY_VERIFY},
    {C, -784, NULL, PAY_VERIFY},
    {A, -785, NULL, PAY_VERIFY}, /* tid known */
    {C, -785, NULL, PAY_VERIFY},
    {S, -785, NULL, PAY_UNKNOWN}, /* no tid */
    {S, -797, NULL, PAY_LIMIT},
    {R, -797, NULL, PAY_LIMIT},
    {R, -798, NULL, PAY_CONFIG},
    {R, -799, NULL, PAY_CONFIG},
    {S, -798, NULL, PAY_CONFIG},
    {S, -12345, NULL, PAY_UNKNOWN}, /* any other code */
    {A, -999, NULL, PAY_UNKNOWN},
    {C, 17, NULL, PAY_UNKNOWN},
    {O, -12345, NULL, PAY_INVALID},
    {R, -999, NULL, PAY_INVALID},
    {T, -999, NULL, PAY_INVALID},
    /* VERIFY codes without a tid to look up */
    {S, -780, NULL, PAY_UNKNOWN},
    {S, -702, NULL, PAY_UNKNOWN},
    {O, -702, NULL, PAY_INVALID},
    {R, -780, NULL, PAY_INVALID},
};

START_TEST(test_code_table)
{
	const struct row *r = &code_rows[_i];
	struct pay_facts f = {r->op, true, true, 400, false, true, r->code, r->mrc};

	ck_assert_msg(
	    pay_classify_code(r->op, r->code, r->mrc) == r->want, "%s %d %s: got %s want %s",
	    pay_op_name(r->op), r->code, r->mrc ? r->mrc : "-",
	    pay_class_name(pay_classify_code(r->op, r->code, r->mrc)), pay_class_name(r->want));
	/* through pay_classify, with a 400 and with a 500 (the body wins over the status) */
	ck_assert_int_eq(pay_classify(&f), r->want);
	f.http_status = 500;
	ck_assert_int_eq(pay_classify(&f), r->want);
	f.http_status = 200; /* an error body with 200 is still read by its code */
	ck_assert_int_eq(pay_classify(&f), r->want);
}
END_TEST

struct trow {
	const char *name;
	struct pay_facts f;
	enum pay_class want;
};

/* Transport facts (§1.2, §1.11.1-1.11.2) on a money call (subscription) and a read (order). */
static const struct trow transport_rows[] = {
    {"not sent, money", {S, false, false, 0, false, false, 0, NULL}, PAY_NOT_SENT},
    {"not sent, read", {O, false, false, 0, false, false, 0, NULL}, PAY_NOT_SENT},
    {"timeout after send, money", {S, true, false, 0, false, false, 0, NULL}, PAY_UNKNOWN},
    {"timeout after send, approve", {A, true, false, 0, false, false, 0, NULL}, PAY_UNKNOWN},
    {"timeout after send, cancel", {C, true, false, 0, false, false, 0, NULL}, PAY_UNKNOWN},
    {"timeout after send, read", {O, true, false, 0, false, false, 0, NULL}, PAY_RETRY_LATER},
    {"timeout after send, ready", {R, true, false, 0, false, false, 0, NULL}, PAY_RETRY_LATER},
    {"partial response, money", {S, true, false, 200, false, false, 0, NULL}, PAY_UNKNOWN},
    {"oversize with code, money", {S, true, false, 400, false, true, -782, NULL}, PAY_UNKNOWN},
    {"200 success, money", {S, true, true, 200, true, false, 0, NULL}, PAY_OK},
    {"200 success, read", {O, true, true, 200, true, false, 0, NULL}, PAY_OK},
    {"201 success", {R, true, true, 201, true, false, 0, NULL}, PAY_OK},
    {"200 garbage, money", {S, true, true, 200, false, false, 0, NULL}, PAY_UNKNOWN},
    {"200 garbage, read", {T, true, true, 200, false, false, 0, NULL}, PAY_RETRY_LATER},
    {"500 no body, money", {S, true, true, 500, false, false, 0, NULL}, PAY_UNKNOWN},
    {"502 html, approve", {A, true, true, 502, false, false, 0, NULL}, PAY_UNKNOWN},
    {"502 html, read", {O, true, true, 502, false, false, 0, NULL}, PAY_RETRY_LATER},
    {"400 no code, money", {C, true, true, 400, false, false, 0, NULL}, PAY_UNKNOWN},
    {"400 no code, read", {I, true, true, 400, false, false, 0, NULL}, PAY_RETRY_LATER},
    {"302, money", {S, true, true, 302, false, false, 0, NULL}, PAY_UNKNOWN},
    {"302 with a code, money", {S, true, true, 302, false, true, -2, NULL}, PAY_UNKNOWN},
    {"301, read", {O, true, true, 301, false, false, 0, NULL}, PAY_RETRY_LATER},
    {"status 0 though complete", {S, true, true, 0, false, false, 0, NULL}, PAY_UNKNOWN},
    {"500 with -782 body", {S, true, true, 500, false, true, -782, NULL}, PAY_DECLINED},
    {"500 with -500 body, money", {S, true, true, 500, false, true, -500, NULL}, PAY_UNKNOWN},
    {"500 with -500 body, read", {O, true, true, 500, false, true, -500, NULL}, PAY_RETRY_LATER},
    {"401 with -401", {R, true, true, 401, false, true, -401, NULL}, PAY_CONFIG},
    {"success body with 4xx", {S, true, true, 400, true, false, 0, NULL}, PAY_UNKNOWN},
};

START_TEST(test_transport_rows)
{
	const struct trow *r = &transport_rows[_i];
	enum pay_class got = pay_classify(&r->f);

	ck_assert_msg(got == r->want, "%s: got %s want %s", r->name, pay_class_name(got),
	              pay_class_name(r->want));
}
END_TEST

/* API.md §2.7: gateway outcome class → effect; the typical answers of each row. */
START_TEST(test_api_27_table)
{
	struct pay_facts f = {S, true, true, 400, false, true, 0, NULL};

	/* DECLINED: -782 (other than below), -705 → counted by the retry policy */
	ck_assert_int_eq(pay_classify_code(S, -782, "X"), PAY_DECLINED);
	ck_assert_int_eq(pay_classify_code(S, -705, NULL), PAY_DECLINED);
	ck_assert_int_eq(pay_class_counts_retry(PAY_DECLINED), 1);
	ck_assert_int_eq(pay_class_outcome(PAY_DECLINED), PAY_OUTCOME_FAILED);
	/* SID_DEAD, LIMIT: -750 -751 -752 -797 → hard declines, no retries */
	ck_assert_int_eq(pay_classify_code(S, -750, NULL), PAY_SID_DEAD);
	ck_assert_int_eq(pay_classify_code(S, -751, NULL), PAY_SID_DEAD);
	ck_assert_int_eq(pay_classify_code(S, -752, NULL), PAY_LIMIT);
	ck_assert_int_eq(pay_classify_code(S, -797, NULL), PAY_LIMIT);
	ck_assert_int_eq(pay_class_outcome(PAY_SID_DEAD), PAY_OUTCOME_DECLINED);
	ck_assert_int_eq(pay_class_outcome(PAY_LIMIT), PAY_OUTCOME_DECLINED);
	ck_assert_int_eq(pay_class_counts_retry(PAY_SID_DEAD), 0);
	ck_assert_int_eq(pay_class_counts_retry(PAY_LIMIT), 0);
	/* UNKNOWN: timeout after sending, 5xx without a usable body, unparsable, -785,
	 * -782 USER_LOCKED / BANK_FIRM_UNKNOWN */
	f.complete = false;
	f.has_code = false;
	ck_assert_int_eq(pay_classify(&f), PAY_UNKNOWN);
	f.complete = true;
	f.http_status = 503;
	ck_assert_int_eq(pay_classify(&f), PAY_UNKNOWN);
	f.http_status = 200;
	ck_assert_int_eq(pay_classify(&f), PAY_UNKNOWN);
	ck_assert_int_eq(pay_classify_code(S, -785, NULL), PAY_UNKNOWN);
	ck_assert_int_eq(pay_classify_code(S, -782, "USER_LOCKED"), PAY_UNKNOWN);
	ck_assert_int_eq(pay_classify_code(S, -782, "BANK_FIRM_UNKNOWN"), PAY_UNKNOWN);
	ck_assert_int_eq(pay_class_outcome(PAY_UNKNOWN), PAY_OUTCOME_UNKNOWN);
	ck_assert_int_eq(pay_class_counts_retry(PAY_UNKNOWN), 0);
	/* NOT_SENT, RETRY_LATER, INVALID, CONFIG: never left; -429; -753; -401 -403 -730..-733
	 * -798 → attempt FAILED, not counted */
	f.sent = false;
	ck_assert_int_eq(pay_classify(&f), PAY_NOT_SENT);
	ck_assert_int_eq(pay_classify_code(S, -429, NULL), PAY_RETRY_LATER);
	ck_assert_int_eq(pay_classify_code(S, -753, NULL), PAY_INVALID);
	ck_assert_int_eq(pay_classify_code(S, -401, NULL), PAY_CONFIG);
	ck_assert_int_eq(pay_classify_code(S, -403, NULL), PAY_CONFIG);
	for (int c = -733; c <= -730; c++)
		ck_assert_int_eq(pay_classify_code(S, c, NULL), PAY_CONFIG);
	ck_assert_int_eq(pay_classify_code(S, -798, NULL), PAY_CONFIG);
	for (enum pay_class c = PAY_NOT_SENT; c <= PAY_CONFIG; c++) {
		if (c == PAY_DECLINED || c == PAY_SID_DEAD || c == PAY_LIMIT)
			continue;
		ck_assert_int_eq(pay_class_outcome(c), PAY_OUTCOME_FAILED);
		ck_assert_int_eq(pay_class_counts_retry(c), 0);
	}
}
END_TEST

START_TEST(test_outcome_groups_and_names)
{
	static const enum pay_outcome want[PAY_CLASS__COUNT] = {
	    PAY_OUTCOME_APPROVED, PAY_OUTCOME_FAILED,   PAY_OUTCOME_FAILED, PAY_OUTCOME_FAILED,
	    PAY_OUTCOME_DECLINED, PAY_OUTCOME_DECLINED, PAY_OUTCOME_FAILED, PAY_OUTCOME_FAILED,
	    PAY_OUTCOME_UNKNOWN,  PAY_OUTCOME_UNKNOWN,
	};
	for (int c = 0; c < PAY_CLASS__COUNT; c++) {
		ck_assert_int_eq(pay_class_outcome((enum pay_class)c), want[c]);
		ck_assert_int_eq(pay_class_counts_retry((enum pay_class)c), c == PAY_DECLINED);
	}
	ck_assert_str_eq(pay_class_name(PAY_OK), "OK");
	ck_assert_str_eq(pay_class_name(PAY_NOT_SENT), "NOT_SENT");
	ck_assert_str_eq(pay_class_name(PAY_RETRY_LATER), "RETRY_LATER");
	ck_assert_str_eq(pay_class_name(PAY_SID_DEAD), "SID_DEAD");
	ck_assert_str_eq(pay_class_name(PAY_VERIFY), "VERIFY");
	ck_assert_str_eq(pay_class_name(PAY_UNKNOWN), "UNKNOWN");
	ck_assert_str_eq(pay_class_name((enum pay_class)99), "UNKNOWN");
	ck_assert_str_eq(pay_outcome_name(PAY_OUTCOME_APPROVED), "APPROVED");
	ck_assert_str_eq(pay_outcome_name(PAY_OUTCOME_DECLINED), "DECLINED");
	ck_assert_str_eq(pay_outcome_name(PAY_OUTCOME_FAILED), "FAILED");
	ck_assert_str_eq(pay_outcome_name(PAY_OUTCOME_UNKNOWN), "UNKNOWN");
}
END_TEST

START_TEST(test_ops)
{
	ck_assert_int_eq(pay_op_moves_money(A), 1);
	ck_assert_int_eq(pay_op_moves_money(S), 1);
	ck_assert_int_eq(pay_op_moves_money(C), 1);
	ck_assert_int_eq(pay_op_moves_money(R), 0);
	ck_assert_int_eq(pay_op_moves_money(I), 0);
	ck_assert_int_eq(pay_op_moves_money(T), 0);
	ck_assert_int_eq(pay_op_moves_money(O), 0);
	ck_assert_str_eq(pay_op_path(R), "/online/v1/payment/ready");
	ck_assert_str_eq(pay_op_path(A), "/online/v1/payment/approve");
	ck_assert_str_eq(pay_op_path(S), "/online/v1/payment/subscription");
	ck_assert_str_eq(pay_op_path(I), "/online/v1/payment/manage/subscription/inactive");
	ck_assert_str_eq(pay_op_path(T), "/online/v1/payment/manage/subscription/status");
	ck_assert_str_eq(pay_op_path(O), "/online/v1/payment/order");
	ck_assert_str_eq(pay_op_path(C), "/online/v1/payment/cancel");
	ck_assert_ptr_null(pay_op_path(PAY_OP__COUNT));
	ck_assert_str_eq(pay_op_name(S), "subscription");
}
END_TEST

static int fake_calls;
static enum pay_op fake_last;

static int fake_op(void *ctx, const struct pay_request *q, struct pay_result *r)
{
	fake_calls++;
	pay_result_init(r, *(enum pay_op *)ctx);
	r->cls = PAY_OK;
	return 0;
}

START_TEST(test_gateway_dispatch_and_mask)
{
	struct pay_gateway gw = {&fake_last, fake_op, fake_op, fake_op,
	                         fake_op,    fake_op, fake_op, NULL};
	struct pay_request q = {0};
	struct pay_result r;
	char m[32];

	fake_last = S;
	ck_assert_int_eq(pay_gateway_call(&gw, S, &q, &r), 0);
	ck_assert_int_eq(fake_calls, 1);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_int_eq(r.op, S);
	ck_assert_int_eq(r.approved_at, -1);
	ck_assert_int_eq(pay_gateway_call(&gw, C, &q, &r), -E_CONFIG);
	pay_mask_id("S1234567890123456789", m, sizeof(m));
	ck_assert_str_eq(m, "S123…6789");
	pay_mask_id("short", m, sizeof(m));
	ck_assert_str_eq(m, "…");
}
END_TEST

Suite *pay_outcome_suite(void)
{
	Suite *s = suite_create("pay_outcome");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_code_table, 0,
	                    (int)(sizeof(code_rows) / sizeof(code_rows[0])));
	tcase_add_loop_test(tc, test_transport_rows, 0,
	                    (int)(sizeof(transport_rows) / sizeof(transport_rows[0])));
	tcase_add_test(tc, test_api_27_table);
	tcase_add_test(tc, test_outcome_groups_and_names);
	tcase_add_test(tc, test_ops);
	tcase_add_test(tc, test_gateway_dispatch_and_mask);
	suite_add_tcase(s, tc);
	return s;
}
