/*
 * 81_kakaopay_client: "CF" conformance tests of KAKAOPAY.md §5, the client library
 * (external/kakaopay) against the fake Kakao Pay server that tests/it/main.c starts. Each test
 * makes its own payments and SIDs (unique partner ids) and its fault rules match only its own
 * partner_order_id, tid or sid, and fire once.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "core/gateway.h"
#include "external/kakaopay.h"
#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "common/banned.h"

static struct kakaopay_client *cf_client(const char *key, long timeout_ms)
{
	struct kakaopay_config c = {0};
	struct kakaopay_client *cl = NULL;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", it_fp_port());
	c.base_url = url;
	c.secret_key = key;
	c.timeout_ms = timeout_ms;
	ck_assert_int_eq(kakaopay_client_new(&c, &cl), 0);
	return cl;
}

/* Adds a fault rule (one firing) on the fake. */
static void cf_fault(const char *json)
{
	struct it_resp r = IT_RESP_INIT;

	it_fp_ctl("POST", "/faults", json, &r);
	ck_assert_msg(r.status == 201, "fault rule refused: %ld %s", r.status,
	              r.body ? r.body : "");
	it_resp_free(&r);
}

/* Ledger entries whose field equals value. */
static int cf_ledger_count(const char *field, const char *value)
{
	cJSON *all = it_fp_ledger(NULL), *e;
	int n = 0;

	cJSON_ArrayForEach(e, all)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, field);

		if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
			n++;
	}
	cJSON_Delete(all);
	return n;
}

static struct pay_request cf_ready_req(const struct it_fp_pay *p)
{
	struct pay_request q = {0};

	q.cid = p->cid;
	q.partner_order_id = p->poid;
	q.partner_user_id = p->puid;
	q.item_name = "루테인 그 외 1개";
	q.quantity = 2;
	q.total_amount = p->amount;
	q.approval_url = "http://shop.example/api/payments/approve/1";
	q.cancel_url = "http://shop.example/api/payments/cancel/1";
	q.fail_url = "http://shop.example/api/payments/fail/1";
	return q;
}

static struct pay_request cf_charge_req(const struct it_fp_pay *p, char *poid, size_t n, int k)
{
	struct pay_request q = {0};

	snprintf(poid, n, "%s-C%d", p->poid, k);
	q.cid = IT_FP_SUB;
	q.sid = p->sid;
	q.partner_order_id = poid;
	q.partner_user_id = p->puid;
	q.item_name = "오메가3";
	q.quantity = 1;
	q.total_amount = p->amount;
	q.payload = "att:1";
	return q;
}

/* §5 test 1: a wrong key is CONFIG. */
START_TEST(test_cf_wrong_key)
{
	struct kakaopay_client *c = cf_client("not-the-key", 5000);
	struct it_fp_pay p;
	struct pay_request q;
	struct pay_result r;

	it_fp_pay_init(&p, IT_FP_ONETIME, 1000);
	q = cf_ready_req(&p);
	pay_result_init(&r, PAY_OP_READY);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert_int_eq(kakaopay_call(c, PAY_OP_READY, &q, &r), 0);
	ck_assert_int_eq(r.http_status, 401);
	ck_assert_int_eq(r.code, -401);
	ck_assert_int_eq(r.cls, PAY_CONFIG);
	ck_assert_ptr_null(strstr(r.raw, "not-the-key"));
	kakaopay_client_free(c);
}
END_TEST

/* §5 tests 3 and 4: ready → click → approve → order; approve again, a wrong token. */
START_TEST(test_cf_onetime_happy_path)
{
	struct kakaopay_client *c = cf_client(IT_FP_KEY, 5000);
	struct it_fp_pay p;
	struct pay_request q;
	struct pay_result r;

	it_fp_pay_init(&p, IT_FP_ONETIME, 12300);
	q = cf_ready_req(&p);
	kakaopay_call(c, PAY_OP_READY, &q, &r);
	ck_assert_msg(r.cls == PAY_OK, "ready: %s %d %s", pay_class_name(r.cls), r.code, r.message);
	ck_assert_uint_eq(strlen(r.tid), 20);
	ck_assert_ptr_nonnull(strstr(r.next_redirect_pc_url, "/info"));
	ck_assert_int_gt(r.created_at, 0);
	snprintf(p.tid, sizeof(p.tid), "%.31s", r.tid);

	/* approve before the click: -701 (VERIFY) */
	q = (struct pay_request){0};
	q.cid = p.cid;
	q.tid = p.tid;
	q.partner_order_id = p.poid;
	q.partner_user_id = p.puid;
	q.pg_token = "00000000000000000000";
	q.total_amount = p.amount;
	q.payload = "pay:1";
	kakaopay_call(c, PAY_OP_APPROVE, &q, &r);
	ck_assert_int_eq(r.code, -701);
	ck_assert_int_eq(r.cls, PAY_VERIFY);

	it_fp_click(&p, "approve", NULL, 0);
	q.pg_token = "ffffffffffffffffffff"; /* wrong token: -708 */
	kakaopay_call(c, PAY_OP_APPROVE, &q, &r);
	ck_assert_int_eq(r.code, -708);
	ck_assert_int_eq(r.cls, PAY_VERIFY);
	q.pg_token = p.token;
	kakaopay_call(c, PAY_OP_APPROVE, &q, &r);
	ck_assert_msg(r.cls == PAY_OK, "approve: %s %d %s", pay_class_name(r.cls), r.code,
	              r.message);
	ck_assert_str_eq(r.tid, p.tid);
	ck_assert_uint_eq(strlen(r.aid), 20);
	ck_assert_int_eq(r.amount.total, 12300);
	ck_assert_str_eq(r.payload, "pay:1");
	ck_assert_str_eq(r.partner_order_id, p.poid);
	ck_assert_int_gt(r.approved_at, 0);
	ck_assert_ptr_null(strstr(r.raw, p.token));

	/* the same approve again: -702 (VERIFY) */
	kakaopay_call(c, PAY_OP_APPROVE, &q, &r);
	ck_assert_int_eq(r.code, -702);
	ck_assert_int_eq(r.cls, PAY_VERIFY);

	q = (struct pay_request){0};
	q.cid = p.cid;
	q.tid = p.tid;
	kakaopay_call(c, PAY_OP_ORDER, &q, &r);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.status, "SUCCESS_PAYMENT");
	ck_assert_int_eq(r.amount.total, 12300);
	ck_assert_int_ge(r.n_actions, 1);
	ck_assert_str_eq(r.actions[0].type, "PAYMENT");
	ck_assert_str_eq(r.actions[0].payload, "pay:1");
	ck_assert_int_eq(cf_ledger_count("tid", p.tid), 1);
	kakaopay_client_free(c);
}
END_TEST

/* §5 tests 7, 8 and 9: recurring charges, SID status, errors, inactivation. */
START_TEST(test_cf_subscription)
{
	struct kakaopay_client *c = cf_client(IT_FP_KEY, 5000);
	struct it_fp_pay p;
	struct pay_request q;
	struct pay_result r;
	char poid[96], tids[3][PAY_ID_MAX], masked[32];

	it_fp_pay_init(&p, IT_FP_SUB, 3300);
	it_fp_paid(&p);
	ck_assert_uint_eq(strlen(p.sid), 20);
	for (int k = 0; k < 3; k++) {
		q = cf_charge_req(&p, poid, sizeof(poid), k + 1);
		kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
		ck_assert_msg(r.cls == PAY_OK, "charge %d: %s %d %s", k, pay_class_name(r.cls),
		              r.code, r.message);
		ck_assert_str_eq(r.sid, p.sid);
		ck_assert_int_eq(r.amount.total, 3300);
		snprintf(tids[k], sizeof(tids[k]), "%s", r.tid);
		ck_assert_ptr_null(strstr(r.raw, p.sid)); /* masked */
		pay_mask_id(p.sid, masked, sizeof(masked));
		ck_assert_ptr_nonnull(strstr(r.raw, masked));
	}
	ck_assert_str_ne(tids[0], tids[1]);
	ck_assert_str_ne(tids[1], tids[2]);
	q = (struct pay_request){0};
	q.cid = IT_FP_SUB;
	q.tid = tids[2];
	kakaopay_call(c, PAY_OP_ORDER, &q, &r);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.status, "SUCCESS_PAYMENT");

	q = (struct pay_request){0};
	q.cid = IT_FP_SUB;
	q.sid = p.sid;
	kakaopay_call(c, PAY_OP_STATUS, &q, &r);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_int_eq(r.available, 1);
	ck_assert_str_eq(r.status, "ACTIVE");
	ck_assert_int_gt(r.last_approved_at, 0);

	/* wrong partner_user_id: -753 INVALID; unknown SID: -750 SID_DEAD */
	q = cf_charge_req(&p, poid, sizeof(poid), 4);
	q.partner_user_id = "U-someone-else";
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.code, -753);
	ck_assert_int_eq(r.cls, PAY_INVALID);
	q = cf_charge_req(&p, poid, sizeof(poid), 5);
	q.sid = "S0000000000000000000";
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.code, -750);
	ck_assert_int_eq(r.cls, PAY_SID_DEAD);

	/* inactive twice: OK both times; a charge after it: -751 SID_DEAD */
	q = (struct pay_request){0};
	q.cid = IT_FP_SUB;
	q.sid = p.sid;
	kakaopay_call(c, PAY_OP_INACTIVE, &q, &r);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.status, "INACTIVE");
	kakaopay_call(c, PAY_OP_INACTIVE, &q, &r);
	ck_assert_int_eq(r.cls, PAY_OK);
	q = cf_charge_req(&p, poid, sizeof(poid), 6);
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.code, -751);
	ck_assert_int_eq(r.cls, PAY_SID_DEAD);
	ck_assert_int_eq(cf_ledger_count("sid", p.sid), 4); /* first payment + 3 charges */
	kakaopay_client_free(c);
}
END_TEST

/* §5 tests 10 and 11: partial cancels with cancel_available_amount, replay, over-cancel. */
START_TEST(test_cf_cancel)
{
	struct kakaopay_client *c = cf_client(IT_FP_KEY, 5000);
	struct it_fp_pay p;
	struct pay_request q = {0};
	struct pay_result r;

	it_fp_pay_init(&p, IT_FP_ONETIME, 10000);
	it_fp_paid(&p);
	q.cid = p.cid;
	q.tid = p.tid;
	q.cancel_amount = 3000;
	q.cancel_available_amount = 10000;
	q.payload = "ref:1";
	kakaopay_call(c, PAY_OP_CANCEL, &q, &r);
	ck_assert_msg(r.cls == PAY_OK, "cancel: %s %d %s", pay_class_name(r.cls), r.code,
	              r.message);
	ck_assert_str_eq(r.status, "PART_CANCEL_PAYMENT");
	ck_assert_int_eq(r.cancel_available_amount.total, 7000);
	/* the replay is rejected: the remaining amount differs */
	kakaopay_call(c, PAY_OP_CANCEL, &q, &r);
	ck_assert_int_ne(r.cls, PAY_OK);
	ck_assert_int_eq(r.cls, PAY_VERIFY);
	/* above what remains, with a stale remaining amount: the fake's guard answers -781 */
	q.cancel_amount = 8000;
	q.cancel_available_amount = 8000;
	kakaopay_call(c, PAY_OP_CANCEL, &q, &r);
	ck_assert_int_eq(r.code, -781);
	ck_assert_int_eq(r.cls, PAY_VERIFY);
	/* above what remains with the right remaining amount: rejected before sending */
	q.cancel_available_amount = 7000;
	kakaopay_call(c, PAY_OP_CANCEL, &q, &r);
	ck_assert_int_eq(r.cls, PAY_INVALID);
	ck_assert(!r.sent);
	q.cancel_amount = 7000;
	q.cancel_available_amount = 7000;
	q.payload = "ref:2";
	kakaopay_call(c, PAY_OP_CANCEL, &q, &r);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.status, "CANCEL_PAYMENT");
	kakaopay_call(c, PAY_OP_CANCEL, &q, &r);
	ck_assert_int_eq(r.code, -784);
	ck_assert_int_eq(r.cls, PAY_VERIFY);
	ck_assert_int_eq(cf_ledger_count("tid", p.tid), 3); /* payment + 2 cancels */
	kakaopay_client_free(c);
}
END_TEST

/* §5 tests 13, 14, 17: drop, drop_applied after a keep-alive read, http500, garbage_applied:
 * UNKNOWN, and never a second ledger entry. */
START_TEST(test_cf_lost_responses)
{
	static const char *const actions[] = {"drop",    "drop_applied",    "drop_partial_applied",
	                                      "http500", "http500_applied", "garbage_applied"};
	static const int applied[] = {0, 1, 1, 0, 1, 1};
	struct kakaopay_client *c = cf_client(IT_FP_KEY, 5000);
	struct it_fp_pay p;
	struct pay_request q;
	struct pay_result r;
	char poid[96], rule[512];

	it_fp_pay_init(&p, IT_FP_SUB, 2000);
	it_fp_paid(&p);
	for (int i = 0; i < 6; i++) {
		/* a read call first, leaving a keep-alive connection in the cache */
		q = (struct pay_request){0};
		q.cid = IT_FP_SUB;
		q.sid = p.sid;
		kakaopay_call(c, PAY_OP_STATUS, &q, &r);
		ck_assert_int_eq(r.cls, PAY_OK);
		q = cf_charge_req(&p, poid, sizeof(poid), 10 + i);
		snprintf(rule, sizeof(rule),
		         "{\"match\":{\"partner_order_id\":\"%s\"},\"action\":\"%s\",\"times\":1}",
		         poid, actions[i]);
		cf_fault(rule);
		kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
		ck_assert_msg(r.cls == PAY_UNKNOWN, "%s: %s", actions[i], pay_class_name(r.cls));
		ck_assert(r.sent);
		ck_assert_msg(cf_ledger_count("partner_order_id", poid) == applied[i], "%s: ledger",
		              actions[i]);
	}
	kakaopay_client_free(c);
}
END_TEST

/* §5 tests 16 and 17: declines and their classes. */
START_TEST(test_cf_declines)
{
	static const struct {
		const char *rule;
		enum pay_op op;
		enum pay_class want;
	} rows[] = {
	    {"\"action\":\"decline\",\"code\":-782,\"method_result_code\":\"CARD_DECLINED\"",
	     PAY_OP_SUBSCRIPTION, PAY_DECLINED},
	    {"\"action\":\"decline\",\"code\":-782,\"method_result_code\":\"USER_LOCKED\"",
	     PAY_OP_SUBSCRIPTION, PAY_UNKNOWN},
	    {"\"action\":\"decline\",\"code\":-752", PAY_OP_SUBSCRIPTION, PAY_LIMIT},
	    {"\"action\":\"decline\",\"code\":-429", PAY_OP_SUBSCRIPTION, PAY_RETRY_LATER},
	    {"\"action\":\"decline\",\"code\":-503", PAY_OP_SUBSCRIPTION, PAY_UNKNOWN},
	    {"\"action\":\"decline\",\"code\":-503", PAY_OP_STATUS, PAY_RETRY_LATER},
	    {"\"action\":\"decline\",\"code\":-782,\"http_status\":500", PAY_OP_SUBSCRIPTION,
	     PAY_DECLINED},
	    {"\"action\":\"decline\",\"code\":-782,\"shape\":\"legacy\"", PAY_OP_SUBSCRIPTION,
	     PAY_DECLINED},
	};
	struct kakaopay_client *c = cf_client(IT_FP_KEY, 5000);
	struct it_fp_pay p;
	struct pay_request q;
	struct pay_result r;
	char poid[96], rule[512];

	it_fp_pay_init(&p, IT_FP_SUB, 2000);
	it_fp_paid(&p);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		q = cf_charge_req(&p, poid, sizeof(poid), 20 + (int)i);
		if (rows[i].op == PAY_OP_SUBSCRIPTION)
			snprintf(rule, sizeof(rule),
			         "{\"match\":{\"partner_order_id\":\"%s\"},%s,\"times\":1}", poid,
			         rows[i].rule);
		else
			snprintf(
			    rule, sizeof(rule),
			    "{\"match\":{\"sid\":\"%s\",\"endpoint\":\"status\"},%s,\"times\":1}",
			    p.sid, rows[i].rule);
		cf_fault(rule);
		kakaopay_call(c, rows[i].op, &q, &r);
		ck_assert_msg(r.cls == rows[i].want, "row %zu: %s (code %d)", i,
		              pay_class_name(r.cls), r.code);
		ck_assert_int_ne(r.code, 0);
		if (rows[i].op == PAY_OP_SUBSCRIPTION)
			ck_assert_int_eq(cf_ledger_count("partner_order_id", poid), 0);
	}
	kakaopay_client_free(c);
}
END_TEST

/* §5 test 12 (short form): hang_applied ends as UNKNOWN at our timeout; one ledger entry. */
START_TEST(test_cf_hang_applied)
{
	struct kakaopay_client *c = cf_client(IT_FP_KEY, 1000);
	struct it_fp_pay p;
	struct pay_request q;
	struct pay_result r;
	char poid[96], rule[512];

	it_fp_pay_init(&p, IT_FP_SUB, 2000);
	it_fp_paid(&p);
	q = cf_charge_req(&p, poid, sizeof(poid), 40);
	snprintf(
	    rule, sizeof(rule),
	    "{\"match\":{\"partner_order_id\":\"%s\"},\"action\":\"hang_applied\",\"times\":1}",
	    poid);
	cf_fault(rule);
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert(r.sent);
	ck_assert_int_eq(r.http_status, 0);
	ck_assert_int_ge(r.t_total_ms, 900);
	ck_assert_int_lt(r.t_total_ms, 3000);
	ck_assert_int_eq(cf_ledger_count("partner_order_id", poid), 1);
	kakaopay_client_free(c);
}
END_TEST

Suite *kakaopay_client_suite(void)
{
	Suite *s = suite_create("kakaopay_client");
	TCase *tc = tcase_create("cf");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cf_wrong_key);
	tcase_add_test(tc, test_cf_onetime_happy_path);
	tcase_add_test(tc, test_cf_subscription);
	tcase_add_test(tc, test_cf_cancel);
	tcase_add_test(tc, test_cf_lost_responses);
	tcase_add_test(tc, test_cf_declines);
	tcase_add_test(tc, test_cf_hang_applied);
	suite_add_tcase(s, tc);
	return s;
}
