/*
 * billing_test: the pure parts of the recurring charge (core/billing.c; API.md §2.7, §7.3,
 * §7.9, KAKAOPAY.md §1.11 and §3): the partner_order_id of an attempt, the charge and SID
 * status requests built from it, the condensed gateway answer and its error codes, which
 * declines need the immediate SID status probe, the probe verdicts with the 5 s clock skew,
 * and the approve-shaped JSON of an approved attempt.
 *
 * billing_charge_now needs a database (it claims and applies through core/store_billing.c):
 * store_billing_test runs it with a scripted gateway, tests/it/94_charge_now_test.c against
 * the fake Kakao Pay.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "common/clock.h"
#include "common/err.h"
#include "core/billing.h"
#include "core/gateway.h"
#include "common/banned.h"

#define T_2026_01_05_044510Z 1767588310LL /* 13:45:10 in Seoul */

static int32_t D(int y, unsigned m, unsigned d)
{
	return clock_days_from_civil(y, m, d);
}

static void seoul(void)
{
	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
}

/* An attempt as store_billing_claim makes it: subscription 7, cycle 2026-03-06, attempt 2. */
static struct billing_attempt attempt(void)
{
	struct billing_attempt a;

	memset(&a, 0, sizeof(a));
	a.id = 41;
	a.subscription_id = 7;
	a.item_id = 3;
	a.cycle_date = D(2026, 3, 6);
	a.attempt_no = 2;
	a.by = BILLING_BY_RETRY;
	a.quantity = 3;
	a.amount = 29700;
	a.claimed_at = T_2026_01_05_044510Z;
	snprintf(a.cid, sizeof(a.cid), "TCSUBSCRIP");
	snprintf(a.sid, sizeof(a.sid), "S1234567890123456789");
	snprintf(a.partner_order_id, sizeof(a.partner_order_id), "S7-C20260306-A2");
	snprintf(a.partner_user_id, sizeof(a.partner_user_id), "U15");
	snprintf(a.item_name, sizeof(a.item_name), "16종혼합유산균 디에스");
	snprintf(a.payload, sizeof(a.payload), "att:41");
	return a;
}

/* A pay_result as the gateway fills it (pay_result_init), heap-allocated: ~20 KiB. */
static struct pay_result *result(enum pay_op op, enum pay_class cls)
{
	struct pay_result *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	pay_result_init(r, op);
	r->cls = cls;
	return r;
}

/* ---- partner_order_id -------------------------------------------------------------------- */

START_TEST(test_partner_order_id)
{
	char out[PAY_PARTNER_MAX];

	/* the example of API.md §7.9 */
	ck_assert_int_eq(billing_partner_order_id(7, D(2026, 3, 6), 2, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "S7-C20260306-A2");
	/* month and day are zero-padded, the ids are not */
	ck_assert_int_eq(billing_partner_order_id(12345, D(2020, 1, 5), 11, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "S12345-C20200105-A11");
	ck_assert_int_eq(billing_partner_order_id(1, D(2027, 12, 31), 1, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "S1-C20271231-A1");
	/* a leap day */
	ck_assert_int_eq(billing_partner_order_id(99, D(2028, 2, 29), 5, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "S99-C20280229-A5");
	/* the largest ids still fit the 100 characters Kakao Pay accepts */
	ck_assert_int_eq(
	    billing_partner_order_id(INT64_MAX, D(2026, 3, 6), 2147483647, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "S9223372036854775807-C20260306-A2147483647");
}
END_TEST

START_TEST(test_partner_order_id_small_buffer)
{
	char out[32];
	size_t need = strlen("S7-C20260306-A2") + 1;

	/* exactly enough room */
	ck_assert_int_eq(billing_partner_order_id(7, D(2026, 3, 6), 2, out, need), 0);
	ck_assert_str_eq(out, "S7-C20260306-A2");
	/* one byte short: refused, never a silently cut id (it would be sent to Kakao Pay) */
	ck_assert_int_eq(billing_partner_order_id(7, D(2026, 3, 6), 2, out, need - 1), -E_TOO_LONG);
	ck_assert_int_eq(billing_partner_order_id(7, D(2026, 3, 6), 2, out, 1), -E_TOO_LONG);
	ck_assert_int_eq(billing_partner_order_id(7, D(2026, 3, 6), 12, out, need), -E_TOO_LONG);
}
END_TEST

/* ---- requests ------------------------------------------------------------------------------ */

START_TEST(test_charge_request)
{
	struct billing_attempt a = attempt();
	struct pay_request req;

	memset(&req, 0x5a, sizeof(req)); /* garbage: every field must be set or cleared */
	billing_charge_request(&a, &req);
	/* the fields of the recurring charge (API.md §7.9), borrowed from the attempt */
	ck_assert_ptr_eq(req.cid, a.cid);
	ck_assert_ptr_eq(req.sid, a.sid);
	ck_assert_ptr_eq(req.partner_order_id, a.partner_order_id);
	ck_assert_ptr_eq(req.partner_user_id, a.partner_user_id);
	ck_assert_ptr_eq(req.item_name, a.item_name);
	ck_assert_ptr_eq(req.payload, a.payload);
	ck_assert_str_eq(req.cid, "TCSUBSCRIP");
	ck_assert_str_eq(req.sid, "S1234567890123456789");
	ck_assert_str_eq(req.partner_order_id, "S7-C20260306-A2");
	ck_assert_str_eq(req.partner_user_id, "U15");
	ck_assert_str_eq(req.item_name, "16종혼합유산균 디에스");
	ck_assert_str_eq(req.payload, "att:41");
	ck_assert_int_eq(req.quantity, 3);
	ck_assert_int_eq(req.total_amount, 29700);
	ck_assert_int_eq(req.tax_free_amount, 0);
	/* nothing of the other operations */
	ck_assert_ptr_null(req.tid);
	ck_assert_ptr_null(req.item_code);
	ck_assert_ptr_null(req.pg_token);
	ck_assert_ptr_null(req.approval_url);
	ck_assert_ptr_null(req.cancel_url);
	ck_assert_ptr_null(req.fail_url);
	ck_assert_int_eq(req.cancel_amount, 0);
	ck_assert_int_eq(req.cancel_tax_free_amount, 0);
	ck_assert_int_eq(req.cancel_available_amount, 0);
}
END_TEST

START_TEST(test_status_request)
{
	struct billing_attempt a = attempt();
	struct pay_request req;

	memset(&req, 0x5a, sizeof(req));
	billing_status_request(&a, &req);
	/* SID status: cid and sid only (KAKAOPAY.md §1.8) */
	ck_assert_str_eq(req.cid, "TCSUBSCRIP");
	ck_assert_str_eq(req.sid, "S1234567890123456789");
	ck_assert_ptr_null(req.tid);
	ck_assert_ptr_null(req.partner_order_id);
	ck_assert_ptr_null(req.partner_user_id);
	ck_assert_ptr_null(req.item_name);
	ck_assert_ptr_null(req.item_code);
	ck_assert_ptr_null(req.pg_token);
	ck_assert_ptr_null(req.payload);
	ck_assert_ptr_null(req.approval_url);
	ck_assert_int_eq(req.quantity, 0);
	ck_assert_int_eq(req.total_amount, 0);
	ck_assert_int_eq(req.tax_free_amount, 0);
	ck_assert_int_eq(req.cancel_amount, 0);
}
END_TEST

/* ---- answers ------------------------------------------------------------------------------- */

START_TEST(test_answer_ok)
{
	struct pay_result *r = result(PAY_OP_SUBSCRIPTION, PAY_OK);
	struct billing_answer ans;

	r->http_status = 200;
	snprintf(r->tid, sizeof(r->tid), "T1234567890123456789");
	snprintf(r->aid, sizeof(r->aid), "A1234567890123456789");
	snprintf(r->payment_method_type, sizeof(r->payment_method_type), "CARD");
	r->amount = (struct pay_amount){.present = true,
	                                .total = 29700,
	                                .tax_free = 0,
	                                .vat = 2700,
	                                .point = 100,
	                                .discount = 50};
	r->created_at = T_2026_01_05_044510Z;
	r->approved_at = T_2026_01_05_044510Z + 2;
	memset(&ans, 0x5a, sizeof(ans));
	billing_answer_from_result(r, PAY_OK, &ans);
	ck_assert_int_eq(ans.cls, PAY_OK);
	ck_assert_str_eq(ans.tid, "T1234567890123456789");
	ck_assert_str_eq(ans.aid, "A1234567890123456789");
	ck_assert_str_eq(ans.payment_method_type, "CARD");
	ck_assert(ans.amount.present);
	ck_assert_int_eq(ans.amount.total, 29700);
	ck_assert_int_eq(ans.amount.vat, 2700);
	ck_assert_int_eq(ans.amount.point, 100);
	ck_assert_int_eq(ans.amount.discount, 50);
	ck_assert_int_eq(ans.created_at, T_2026_01_05_044510Z);
	ck_assert_int_eq(ans.approved_at, T_2026_01_05_044510Z + 2);
	/* no error on OK */
	ck_assert_str_eq(ans.error_code, "");
	ck_assert_str_eq(ans.message, "");
	ck_assert_str_eq(ans.method_result_code, "");
	free(r);
}
END_TEST

/* One failed charge and what the answer must keep of it. */
struct fail_case {
	enum pay_class cls;
	bool sent;
	int http_status;
	int code;
	const char *message;
	const char *mr_code;
	const char *mr_message;
	const char *want_code;
	const char *want_message;
};

START_TEST(test_answer_failures)
{
	static const struct fail_case cases[] = {
	    /* Kakao's code wins, whatever the HTTP status (KAKAOPAY.md §1.11.1) */
	    {PAY_DECLINED, true, 400, -782, "결제 실패", "CARD_DECLINED", "잔액이 부족합니다.",
	     "-782", "잔액이 부족합니다."},
	    {PAY_DECLINED, true, 500, -782, "결제 실패", "", "", "-782", "결제 실패"},
	    {PAY_SID_DEAD, true, 400, -750, "SID does not exist", "", "", "-750",
	     "SID does not exist"},
	    {PAY_RETRY_LATER, true, 429, -429, "quota", "", "", "-429", "quota"},
	    {PAY_UNKNOWN, true, 400, -782, "결제 실패", "USER_LOCKED", "", "-782", "결제 실패"},
	    /* no code: what happened on the wire */
	    {PAY_NOT_SENT, false, 0, 0, "", "", "", "NETWORK", ""},
	    {PAY_NOT_SENT, false, 0, 0, "connect refused", "", "", "NETWORK", "connect refused"},
	    {PAY_UNKNOWN, true, 502, 0, "", "", "", "HTTP_5XX", ""},
	    {PAY_UNKNOWN, true, 500, 0, "bad gateway", "", "", "HTTP_5XX", "bad gateway"},
	    {PAY_UNKNOWN, true, 0, 0, "", "", "", "TIMEOUT", ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fail_case *c = &cases[i];
		struct pay_result *r = result(PAY_OP_SUBSCRIPTION, c->cls);
		struct billing_answer ans;

		r->sent = c->sent;
		r->http_status = c->http_status;
		r->code = c->code;
		snprintf(r->message, sizeof(r->message), "%s", c->message);
		snprintf(r->method_result_code, sizeof(r->method_result_code), "%s", c->mr_code);
		snprintf(r->method_result_message, sizeof(r->method_result_message), "%s",
		         c->mr_message);
		memset(&ans, 0x5a, sizeof(ans));
		billing_answer_from_result(r, c->cls, &ans);
		ck_assert_msg(ans.cls == c->cls, "case %zu: class %d", i, (int)ans.cls);
		ck_assert_msg(strcmp(ans.error_code, c->want_code) == 0,
		              "case %zu: error_code \"%s\", expected \"%s\"", i, ans.error_code,
		              c->want_code);
		ck_assert_msg(strcmp(ans.message, c->want_message) == 0,
		              "case %zu: message \"%s\", expected \"%s\"", i, ans.message,
		              c->want_message);
		ck_assert_msg(strcmp(ans.method_result_code, c->mr_code) == 0,
		              "case %zu: method_result_code \"%s\"", i, ans.method_result_code);
		/* a failed charge has no ids and no amount */
		ck_assert_msg(ans.tid[0] == '\0' && ans.aid[0] == '\0' && !ans.amount.present,
		              "case %zu: ids or amount kept on a failure", i);
		ck_assert_int_eq(ans.created_at, -1);
		ck_assert_int_eq(ans.approved_at, -1);
		free(r);
	}
}
END_TEST

START_TEST(test_answer_class_is_the_callers)
{
	/* a -782 DECLINED whose probe showed a charge is recorded UNKNOWN, with the code kept */
	struct pay_result *r = result(PAY_OP_SUBSCRIPTION, PAY_DECLINED);
	struct billing_answer ans;

	r->http_status = 400;
	r->code = -782;
	snprintf(r->message, sizeof(r->message), "결제 실패");
	billing_answer_from_result(r, PAY_UNKNOWN, &ans);
	ck_assert_int_eq(ans.cls, PAY_UNKNOWN);
	ck_assert_str_eq(ans.error_code, "-782");
	ck_assert_str_eq(ans.message, "결제 실패");
	free(r);
}
END_TEST

START_TEST(test_answer_error)
{
	struct billing_answer ans;

	memset(&ans, 0x5a, sizeof(ans));
	billing_answer_error(PAY_UNKNOWN, "ORPHANED", "the daemon stopped", &ans);
	ck_assert_int_eq(ans.cls, PAY_UNKNOWN);
	ck_assert_str_eq(ans.error_code, "ORPHANED");
	ck_assert_str_eq(ans.message, "the daemon stopped");
	ck_assert_str_eq(ans.tid, "");
	ck_assert_str_eq(ans.aid, "");
	ck_assert_str_eq(ans.method_result_code, "");
	ck_assert(!ans.amount.present);
	ck_assert_int_eq(ans.created_at, -1);
	ck_assert_int_eq(ans.approved_at, -1);
	billing_answer_error(PAY_NOT_SENT, NULL, NULL, &ans);
	ck_assert_str_eq(ans.error_code, "");
	ck_assert_str_eq(ans.message, "");
}
END_TEST

/* ---- the decline probe (KAKAOPAY.md §1.11.4, §3) ------------------------------------------- */

START_TEST(test_decline_needs_probe)
{
	struct pay_result *r = result(PAY_OP_SUBSCRIPTION, PAY_DECLINED);

	/* -782 DECLINED (no known method_result_code): probe before it counts */
	r->code = -782;
	ck_assert_int_eq(billing_decline_needs_probe(r), 1);
	snprintf(r->method_result_code, sizeof(r->method_result_code), "CARD_DECLINED");
	ck_assert_int_eq(billing_decline_needs_probe(r), 1);
	/* -782 with USER_LOCKED / BANK_FIRM_UNKNOWN is classified UNKNOWN already: no probe */
	snprintf(r->method_result_code, sizeof(r->method_result_code), "USER_LOCKED");
	r->cls = PAY_UNKNOWN;
	ck_assert_int_eq(billing_decline_needs_probe(r), 0);
	/* other declines count at once */
	r->method_result_code[0] = '\0';
	r->cls = PAY_DECLINED;
	r->code = -705;
	ck_assert_int_eq(billing_decline_needs_probe(r), 0);
	r->cls = PAY_SID_DEAD;
	r->code = -750;
	ck_assert_int_eq(billing_decline_needs_probe(r), 0);
	r->cls = PAY_LIMIT;
	r->code = -752;
	ck_assert_int_eq(billing_decline_needs_probe(r), 0);
	r->cls = PAY_OK;
	r->code = 0;
	ck_assert_int_eq(billing_decline_needs_probe(r), 0);
	r->cls = PAY_UNKNOWN;
	ck_assert_int_eq(billing_decline_needs_probe(r), 0);
	free(r);
}
END_TEST

START_TEST(test_probe_verdict)
{
	const int64_t claimed = T_2026_01_05_044510Z;
	struct pay_result *p = result(PAY_OP_STATUS, PAY_OK);

	p->available = 1;
	/* never charged on this SID */
	p->last_approved_at = -1;
	ck_assert_int_eq(billing_probe_verdict(p, claimed), BILLING_PROBE_NOT_CHARGED);
	ck_assert_int_eq(billing_confirm_decline(p, claimed), PAY_DECLINED);
	/* the last charge is older than claimed_at - 5 s */
	p->last_approved_at = claimed - 86400;
	ck_assert_int_eq(billing_probe_verdict(p, claimed), BILLING_PROBE_NOT_CHARGED);
	ck_assert_int_eq(billing_confirm_decline(p, claimed), PAY_DECLINED);
	p->last_approved_at = claimed - BILLING_SKEW_S - 1;
	ck_assert_int_eq(billing_probe_verdict(p, claimed), BILLING_PROBE_NOT_CHARGED);
	ck_assert_int_eq(billing_confirm_decline(p, claimed), PAY_DECLINED);
	/* at claimed_at - 5 s or later: maybe this attempt's charge (the 5 s skew) */
	p->last_approved_at = claimed - BILLING_SKEW_S;
	ck_assert_int_eq(billing_probe_verdict(p, claimed), BILLING_PROBE_MAYBE_CHARGED);
	ck_assert_int_eq(billing_confirm_decline(p, claimed), PAY_UNKNOWN);
	p->last_approved_at = claimed - 2;
	ck_assert_int_eq(billing_probe_verdict(p, claimed), BILLING_PROBE_MAYBE_CHARGED);
	ck_assert_int_eq(billing_confirm_decline(p, claimed), PAY_UNKNOWN);
	p->last_approved_at = claimed;
	ck_assert_int_eq(billing_probe_verdict(p, claimed), BILLING_PROBE_MAYBE_CHARGED);
	p->last_approved_at = claimed + 11;
	ck_assert_int_eq(billing_probe_verdict(p, claimed), BILLING_PROBE_MAYBE_CHARGED);
	ck_assert_int_eq(billing_confirm_decline(p, claimed), PAY_UNKNOWN);
	/* the probe itself failed: proves nothing, so the decline is UNKNOWN */
	static const enum pay_class failed[] = {PAY_UNKNOWN, PAY_RETRY_LATER, PAY_NOT_SENT,
	                                        PAY_INVALID, PAY_CONFIG,      PAY_SID_DEAD};
	for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++) {
		p->cls = failed[i];
		p->last_approved_at = -1;
		ck_assert_int_eq(billing_probe_verdict(p, claimed), BILLING_PROBE_ERROR);
		ck_assert_int_eq(billing_confirm_decline(p, claimed), PAY_UNKNOWN);
		p->last_approved_at = claimed - 86400;
		ck_assert_int_eq(billing_probe_verdict(p, claimed), BILLING_PROBE_ERROR);
		ck_assert_int_eq(billing_confirm_decline(p, claimed), PAY_UNKNOWN);
	}
	free(p);
}
END_TEST

/* ---- approve-shaped JSON (API.md §7.3, §7.7) ----------------------------------------------- */

/* Asserts that the object o has exactly the keys want, in that order. */
static void assert_keys(const cJSON *o, const char *const *want, size_t n)
{
	const cJSON *c;
	size_t i = 0;

	ck_assert(cJSON_IsObject(o));
	cJSON_ArrayForEach(c, o)
	{
		ck_assert_msg(i < n, "unexpected key \"%s\"", c->string);
		ck_assert_str_eq(c->string, want[i]);
		i++;
	}
	ck_assert_uint_eq(i, n);
}

START_TEST(test_approval_json)
{
	static const char *const top[] = {"item_name", "item_code", "created_at", "approved_at",
	                                  "payload",   "amount",    "quantity"};
	static const char *const amount_keys[] = {"total", "tax_free", "vat", "discount"};
	struct billing_attempt a = attempt();
	struct billing_answer ans;
	cJSON *j;
	char *text;

	seoul();
	memset(&ans, 0, sizeof(ans));
	ans.cls = PAY_OK;
	snprintf(ans.tid, sizeof(ans.tid), "T1");
	ans.amount = (struct pay_amount){.present = true, .total = 29800, .vat = 2709, .point = 7};
	ans.created_at = T_2026_01_05_044510Z;
	ans.approved_at = T_2026_01_05_044510Z + 52;
	a.quantity = 3;
	snprintf(a.payload, sizeof(a.payload), "att:5");
	text = billing_approval_json(&a, &ans, T_2026_01_05_044510Z + 600);
	ck_assert_ptr_nonnull(text);
	/* the example of §7.3, with the attempt's payload */
	ck_assert_str_eq(text, "{\"item_name\":\"16종혼합유산균 디에스\",\"item_code\":null,"
	                       "\"created_at\":\"2026-01-05T13:45:10+09:00\","
	                       "\"approved_at\":\"2026-01-05T13:46:02+09:00\","
	                       "\"payload\":\"att:5\",\"amount\":{\"total\":29800,"
	                       "\"tax_free\":0,\"vat\":2709,\"discount\":0},\"quantity\":3}");
	j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	assert_keys(j, top, sizeof(top) / sizeof(top[0]));
	assert_keys(cJSON_GetObjectItemCaseSensitive(j, "amount"), amount_keys,
	            sizeof(amount_keys) / sizeof(amount_keys[0]));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "item_code")));
	cJSON_Delete(j);
	free(text);
}
END_TEST

START_TEST(test_approval_json_fallbacks)
{
	struct billing_attempt a = attempt();
	struct billing_answer ans;
	cJSON *j, *amount;
	char *text;

	seoul();
	/* an answer without times or amount (e.g. settled by an admin's verdict) */
	memset(&ans, 0, sizeof(ans));
	ans.cls = PAY_OK;
	ans.created_at = -1;
	ans.approved_at = -1;
	text = billing_approval_json(&a, &ans, T_2026_01_05_044510Z + 3600);
	ck_assert_ptr_nonnull(text);
	j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	/* created_at falls back to the claim, approved_at to now, the total to the amount sent */
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "created_at")->valuestring,
	                 "2026-01-05T13:45:10+09:00");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "approved_at")->valuestring,
	                 "2026-01-05T14:45:10+09:00");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "payload")->valuestring, "att:41");
	amount = cJSON_GetObjectItemCaseSensitive(j, "amount");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(amount, "total")->valuedouble, 29700);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(amount, "tax_free")->valuedouble, 0);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(amount, "vat")->valuedouble, 0);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(amount, "discount")->valuedouble, 0);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "quantity")->valuedouble, 3);
	cJSON_Delete(j);
	free(text);

	/* the zone decides the offset: the same instant in UTC */
	ck_assert_int_eq(clock_set_zone("UTC"), 0);
	ans.created_at = T_2026_01_05_044510Z;
	ans.approved_at = T_2026_01_05_044510Z;
	text = billing_approval_json(&a, &ans, 0);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "\"created_at\":\"2026-01-05T04:45:10+00:00\""));
	free(text);
	seoul();
}
END_TEST

Suite *billing_suite(void)
{
	Suite *s = suite_create("billing");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_partner_order_id);
	tcase_add_test(tc, test_partner_order_id_small_buffer);
	tcase_add_test(tc, test_charge_request);
	tcase_add_test(tc, test_status_request);
	tcase_add_test(tc, test_answer_ok);
	tcase_add_test(tc, test_answer_failures);
	tcase_add_test(tc, test_answer_class_is_the_callers);
	tcase_add_test(tc, test_answer_error);
	tcase_add_test(tc, test_decline_needs_probe);
	tcase_add_test(tc, test_probe_verdict);
	tcase_add_test(tc, test_approval_json);
	tcase_add_test(tc, test_approval_json_fallbacks);
	suite_add_tcase(s, tc);
	return s;
}
