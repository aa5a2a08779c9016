/*
 * kakaopay_test: the Kakao Pay client, "C" conformance tests of KAKAOPAY.md §5 (canned bodies,
 * no network) and real-HTTP tests against a tiny server run in a thread on 127.0.0.1:0 that
 * answers canned responses, drops, hangs, sends half a response or too much, and counts the
 * connections it accepts (money calls on fresh connections, reads reusing one).
 */
#include <arpa/inet.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "core/gateway.h"
#include "external/kakaopay.h"
#include "common/banned.h"

#define SID "S1234567890123456789"

/* ---- canned bodies ------------------------------------------------------------------- */

static struct pay_result parse(enum pay_op op, int status, const char *body)
{
	struct pay_result r;

	pay_result_init(&r, op);
	r.http_status = status;
	kakaopay_parse_response(&r, 1, body, body ? strlen(body) : 0);
	return r;
}

START_TEST(test_error_new_shape)
{
	struct pay_result r =
	    parse(PAY_OP_SUBSCRIPTION, 400,
	          "{\"error_code\":-782,\"error_message\":\"failed\",\"extras\":"
	          "{\"method_result_code\":\"CARD_LIMIT\",\"method_result_message\":"
	          "\"한도 초과\"}}");

	ck_assert_int_eq(r.cls, PAY_DECLINED);
	ck_assert_int_eq(r.code, -782);
	ck_assert_str_eq(r.message, "failed");
	ck_assert_str_eq(r.method_result_code, "CARD_LIMIT");
	ck_assert_str_eq(r.method_result_message, "한도 초과");
	ck_assert_int_eq(r.http_status, 400);
	ck_assert(r.sent);
	r = parse(PAY_OP_SUBSCRIPTION, 400,
	          "{\"error_code\":-782,\"error_message\":\"x\",\"extras\":{\"method_result_code\":"
	          "\"USER_LOCKED\"}}");
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert_str_eq(r.method_result_code, "USER_LOCKED");
}
END_TEST

START_TEST(test_error_legacy_shape)
{
	struct pay_result r =
	    parse(PAY_OP_APPROVE, 400,
	          "{\"code\":-780,\"msg\":\"approve failed\",\"extras\":{\"method_result_code\":"
	          "\"BANK_FIRM_UNKNOWN\",\"method_result_message\":\"m\"}}");

	ck_assert_int_eq(r.cls, PAY_VERIFY);
	ck_assert_int_eq(r.code, -780);
	ck_assert_str_eq(r.message, "approve failed");
	ck_assert_str_eq(r.method_result_code, "BANK_FIRM_UNKNOWN");
	ck_assert_str_eq(r.method_result_message, "m");
	/* both keys: error_code wins */
	r = parse(PAY_OP_SUBSCRIPTION, 400,
	          "{\"error_code\":-750,\"error_message\":\"new\",\"code\":-2,\"msg\":\"old\"}");
	ck_assert_int_eq(r.code, -750);
	ck_assert_str_eq(r.message, "new");
	ck_assert_int_eq(r.cls, PAY_SID_DEAD);
}
END_TEST

START_TEST(test_error_without_extras_and_string_code)
{
	struct pay_result r = parse(PAY_OP_SUBSCRIPTION, 400, "{\"error_code\":-752}");

	ck_assert_int_eq(r.cls, PAY_LIMIT);
	ck_assert_str_eq(r.method_result_code, "");
	ck_assert_str_eq(r.message, "");
	r = parse(PAY_OP_SUBSCRIPTION, 400, "{\"error_code\":\"-751\",\"error_message\":\"i\"}");
	ck_assert_int_eq(r.code, -751);
	ck_assert_int_eq(r.cls, PAY_SID_DEAD);
	r = parse(PAY_OP_ORDER, 400, "{\"code\":\"-429\",\"msg\":\"quota\"}");
	ck_assert_int_eq(r.code, -429);
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	/* a code that is not an integer is no code */
	r = parse(PAY_OP_SUBSCRIPTION, 400, "{\"error_code\":\"-7x\"}");
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert_int_eq(r.code, 0);
	r = parse(PAY_OP_SUBSCRIPTION, 400, "{\"error_code\":-782.5}");
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	/* extras of another type are ignored */
	r = parse(PAY_OP_SUBSCRIPTION, 400, "{\"error_code\":-782,\"extras\":[1]}");
	ck_assert_int_eq(r.cls, PAY_DECLINED);
	/* the body wins over the status: -782 with 500 */
	r = parse(PAY_OP_SUBSCRIPTION, 500, "{\"error_code\":-782,\"error_message\":\"d\"}");
	ck_assert_int_eq(r.cls, PAY_DECLINED);
	r = parse(PAY_OP_SUBSCRIPTION, 500, "{\"error_code\":-500,\"error_message\":\"e\"}");
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	r = parse(PAY_OP_ORDER, 503, "{\"error_code\":-503}");
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	r = parse(PAY_OP_READY, 401, "{\"error_code\":-401,\"error_message\":\"bad key\"}");
	ck_assert_int_eq(r.cls, PAY_CONFIG);
	r = parse(PAY_OP_INACTIVE, 400, "{\"error_code\":-751}");
	ck_assert_int_eq(r.cls, PAY_OK);
}
END_TEST

/* Unparsable bodies: UNKNOWN on money calls, RETRY_LATER on read calls (§1.11.2 rule 4). */
START_TEST(test_unparsable_bodies)
{
	static const char *const bodies[] = {
	    "<html><body><h1>502 Bad Gateway</h1></body></html>",
	    "",
	    "{\"error_code\":-782,\"error_mes",
	    "[1,2,3]",
	    "null",
	    "{\"foo\":1}",
	    "\"just a string\"",
	};
	static const int statuses[] = {502, 500, 400, 400, 400, 400, 200};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct pay_result r = parse(PAY_OP_SUBSCRIPTION, statuses[i], bodies[i]);

		ck_assert_msg(r.cls == PAY_UNKNOWN, "money body %zu: %s", i, pay_class_name(r.cls));
		ck_assert_int_eq(r.code, 0);
		ck_assert_str_ne(r.message, "");
		r = parse(PAY_OP_APPROVE, statuses[i], bodies[i]);
		ck_assert_int_eq(r.cls, PAY_UNKNOWN);
		r = parse(PAY_OP_CANCEL, statuses[i], bodies[i]);
		ck_assert_int_eq(r.cls, PAY_UNKNOWN);
		r = parse(PAY_OP_ORDER, statuses[i], bodies[i]);
		ck_assert_msg(r.cls == PAY_RETRY_LATER, "read body %zu", i);
		r = parse(PAY_OP_STATUS, statuses[i], bodies[i]);
		ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	}
}
END_TEST

/* garbage_applied: 200 with a truncated JSON body; an incomplete response. */
START_TEST(test_truncated_success_and_incomplete)
{
	struct pay_result r = parse(PAY_OP_SUBSCRIPTION, 200, "{\"aid\":\"A1\",\"tid\":\"T1");

	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	/* a whole success body that did not arrive completely is not trusted */
	pay_result_init(&r, PAY_OP_SUBSCRIPTION);
	r.http_status = 200;
	kakaopay_parse_response(&r, 0, "{\"aid\":\"A1\",\"tid\":\"T1\"}", 24);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	pay_result_init(&r, PAY_OP_ORDER);
	r.http_status = 200;
	kakaopay_parse_response(&r, 0, "{\"tid\":\"T1\",\"status\":\"SUCCESS_PAYMENT\"}", 38);
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	/* 200 without the required fields */
	r = parse(PAY_OP_SUBSCRIPTION, 200, "{\"tid\":\"T1\"}");
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	r = parse(PAY_OP_READY, 200, "{\"tid\":\"T1\"}");
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	/* a malformed time or amount makes the body unusable */
	r = parse(PAY_OP_SUBSCRIPTION, 200,
	          "{\"aid\":\"A1\",\"tid\":\"T1\",\"approved_at\":\"2026-03-06 10:00:00\"}");
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	r = parse(PAY_OP_SUBSCRIPTION, 200,
	          "{\"aid\":\"A1\",\"tid\":\"T1\",\"amount\":{\"total\":\"x\"}}");
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	r = parse(PAY_OP_SUBSCRIPTION, 200, "{\"aid\":1,\"tid\":\"T1\"}");
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	/* an id too long for the record */
	r = parse(
	    PAY_OP_SUBSCRIPTION, 200,
	    "{\"aid\":\"A1\",\"tid\":\"T12345678901234567890123456789012345678901234567890\"}");
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
}
END_TEST

START_TEST(test_success_ready)
{
	struct pay_result r =
	    parse(PAY_OP_READY, 200,
	          "{\"tid\":\"T1234567890123456789\",\"next_redirect_app_url\":\"a\","
	          "\"next_redirect_mobile_url\":\"http://x/pg/T1/mInfo\",\"next_redirect_pc_url\":"
	          "\"http://x/pg/T1/info\",\"android_app_scheme\":\"k\",\"ios_app_scheme\":\"k\","
	          "\"created_at\":\"2026-01-01T09:00:00\",\"unknown_field\":{\"x\":[1]}}");

	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.tid, "T1234567890123456789");
	ck_assert_str_eq(r.next_redirect_pc_url, "http://x/pg/T1/info");
	ck_assert_str_eq(r.next_redirect_mobile_url, "http://x/pg/T1/mInfo");
	ck_assert_int_eq(r.created_at, 1767225600); /* read as +09:00 */
	ck_assert_int_eq(r.approved_at, -1);
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.message, "");
}
END_TEST

START_TEST(test_success_approve)
{
	struct pay_result r = parse(
	    PAY_OP_APPROVE, 200,
	    "{\"aid\":\"A1234567890123456789\",\"tid\":\"T1234567890123456789\",\"cid\":"
	    "\"TCSUBSCRIP\",\"sid\":\"" SID "\",\"partner_order_id\":\"O7-R1\","
	    "\"partner_user_id\":\"U3\",\"payment_method_type\":\"CARD\",\"item_name\":\"비타민\","
	    "\"quantity\":2,\"amount\":{\"total\":2200,\"tax_free\":0,\"vat\":200,\"point\":0,"
	    "\"discount\":0,\"green_deposit\":0},\"card_info\":{\"install_month\":\"00\"},"
	    "\"created_at\":\"2026-03-06T09:59:00\",\"approved_at\":\"2026-03-06T10:00:00\","
	    "\"payload\":\"pay:9\"}");

	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.aid, "A1234567890123456789");
	ck_assert_str_eq(r.sid, SID);
	ck_assert_str_eq(r.cid, "TCSUBSCRIP");
	ck_assert_str_eq(r.partner_order_id, "O7-R1");
	ck_assert_str_eq(r.partner_user_id, "U3");
	ck_assert_str_eq(r.payment_method_type, "CARD");
	ck_assert_str_eq(r.item_name, "비타민");
	ck_assert_int_eq(r.quantity, 2);
	ck_assert(r.amount.present);
	ck_assert_int_eq(r.amount.total, 2200);
	ck_assert_int_eq(r.amount.vat, 200);
	ck_assert_int_eq(r.approved_at, 1772758800);
	ck_assert_int_eq(r.created_at, 1772758800 - 60);
	ck_assert_str_eq(r.payload, "pay:9");
	/* raw: bounded, the SID masked */
	ck_assert_ptr_null(strstr(r.raw, SID));
	ck_assert_ptr_nonnull(strstr(r.raw, "\"sid\":\"S123…6789\""));
	ck_assert_ptr_nonnull(strstr(r.raw, "\"payload\":\"pay:9\""));
}
END_TEST

START_TEST(test_success_subscription)
{
	struct pay_result r =
	    parse(PAY_OP_SUBSCRIPTION, 200,
	          "{\"aid\":\"A2\",\"tid\":\"T2\",\"cid\":\"TCSUBSCRIP\",\"sid\":\"" SID "\","
	          "\"partner_order_id\":\"S7-C20260306-A1\",\"partner_user_id\":\"U3\","
	          "\"amount\":{\"total\":\"3300\",\"tax_free\":0},\"approved_at\":\"2026-03-06T10:"
	          "00:00\","
	          "\"payload\":\"att:5\",\"extra\":null}");

	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.tid, "T2");
	ck_assert_int_eq(r.amount.total, 3300); /* a numeric string is accepted when reading */
	ck_assert_int_eq(r.amount.vat, 0);
	ck_assert_str_eq(r.payload, "att:5");
	ck_assert_int_eq(r.quantity, -1);
}
END_TEST

START_TEST(test_success_inactive_and_status)
{
	struct pay_result r =
	    parse(PAY_OP_INACTIVE, 200,
	          "{\"cid\":\"TCSUBSCRIP\",\"sid\":\"" SID "\",\"status\":\"INACTIVE\","
	          "\"created_at\":\"2026-01-01T09:00:00\",\"last_approved_at\":null,"
	          "\"inactivated_at\":\"2026-01-02T09:00:00\"}");

	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.status, "INACTIVE");
	ck_assert_int_eq(r.last_approved_at, -1);
	ck_assert_int_eq(r.inactivated_at, 1767225600 + 86400);
	r = parse(PAY_OP_STATUS, 200,
	          "{\"available\":true,\"cid\":\"TCSUBSCRIP\",\"sid\":\"" SID "\",\"status\":"
	          "\"ACTIVE\",\"payment_method_type\":\"MONEY\",\"item_name\":\"x\",\"created_at\":"
	          "\"2026-01-01T09:00:00\",\"last_approved_at\":\"2026-03-06T10:00:00\","
	          "\"inactivated_at\":null,\"use_point_status\":\"AVAILABLE\"}");
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_int_eq(r.available, 1);
	ck_assert_str_eq(r.status, "ACTIVE");
	ck_assert_int_eq(r.last_approved_at, 1772758800);
	ck_assert_int_eq(r.inactivated_at, -1);
	r = parse(PAY_OP_STATUS, 200, "{\"available\":false,\"status\":\"INACTIVE\"}");
	ck_assert_int_eq(r.available, 0);
	r = parse(PAY_OP_STATUS, 200, "{\"available\":\"yes\",\"status\":\"INACTIVE\"}");
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
}
END_TEST

START_TEST(test_success_order)
{
	struct pay_result r = parse(
	    PAY_OP_ORDER, 200,
	    "{\"tid\":\"T1\",\"cid\":\"TC0ONETIME\",\"status\":\"PART_CANCEL_PAYMENT\","
	    "\"partner_order_id\":\"O1-R1\",\"partner_user_id\":\"U1\",\"payment_method_type\":"
	    "\"MONEY\",\"amount\":{\"total\":10000,\"tax_free\":0,\"vat\":909},\"canceled_amount\":"
	    "{\"total\":3000},\"cancel_available_amount\":{\"total\":7000},\"item_name\":\"n\","
	    "\"quantity\":1,\"created_at\":\"2026-01-01T09:00:00\",\"approved_at\":"
	    "\"2026-01-01T09:01:00\",\"canceled_at\":\"2026-01-01T09:02:00\","
	    "\"selected_card_info\":null,\"payment_action_details\":[{\"aid\":\"A1\","
	    "\"approved_at\":\"2026-01-01T09:01:00\",\"amount\":10000,\"point_amount\":0,"
	    "\"payment_action_type\":\"PAYMENT\",\"payload\":\"pay:1\"},{\"aid\":\"A2\","
	    "\"approved_at\":\"2026-01-01T09:02:00\",\"amount\":-3000,\"payment_action_type\":"
	    "\"CANCEL\",\"payload\":\"ref:4\"}]}");

	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.status, "PART_CANCEL_PAYMENT");
	ck_assert_int_eq(r.amount.total, 10000);
	ck_assert_int_eq(r.canceled_amount.total, 3000);
	ck_assert_int_eq(r.cancel_available_amount.total, 7000);
	ck_assert_int_eq(r.canceled_at, 1767225600 + 120);
	ck_assert_int_eq(r.n_actions, 2);
	ck_assert_str_eq(r.actions[0].aid, "A1");
	ck_assert_str_eq(r.actions[0].type, "PAYMENT");
	ck_assert_str_eq(r.actions[0].payload, "pay:1");
	ck_assert_int_eq(r.actions[0].amount, 10000);
	ck_assert_int_eq(r.actions[1].amount, -3000);
	ck_assert_str_eq(r.actions[1].payload, "ref:4");
	ck_assert_int_eq(r.actions[1].approved_at, 1767225600 + 120);
	ck_assert(!r.actions_truncated);
}
END_TEST

START_TEST(test_success_order_many_actions)
{
	struct buf b = BUF_INIT(0);
	struct pay_result r;

	buf_puts(&b, "{\"tid\":\"T1\",\"status\":\"SUCCESS_PAYMENT\",\"payment_action_details\":[");
	for (int i = 0; i < 40; i++)
		buf_printf(&b,
		           "%s{\"aid\":\"A%d\",\"payment_action_type\":\"CANCEL\",\"amount\":-1}",
		           i ? "," : "", i);
	buf_puts(&b, "]}");
	r = parse(PAY_OP_ORDER, 200, b.data);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_int_eq(r.n_actions, PAY_ACTIONS_MAX);
	ck_assert(r.actions_truncated);
	ck_assert(r.raw_truncated);
	ck_assert_uint_lt(strlen(r.raw), PAY_RAW_MAX);
	buf_release(&b);
}
END_TEST

START_TEST(test_success_cancel)
{
	struct pay_result r = parse(
	    PAY_OP_CANCEL, 200,
	    "{\"aid\":\"A3\",\"tid\":\"T1\",\"cid\":\"TC0ONETIME\",\"status\":\"CANCEL_PAYMENT\","
	    "\"approved_cancel_amount\":{\"total\":7000,\"tax_free\":0,\"vat\":636},"
	    "\"canceled_amount\":{\"total\":10000},\"cancel_available_amount\":{\"total\":0},"
	    "\"canceled_at\":\"2026-01-01T09:05:00\",\"payload\":\"ref:5\"}");

	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_str_eq(r.status, "CANCEL_PAYMENT");
	ck_assert_int_eq(r.approved_cancel_amount.total, 7000);
	ck_assert_int_eq(r.approved_cancel_amount.vat, 636);
	ck_assert_int_eq(r.canceled_amount.total, 10000);
	ck_assert(r.cancel_available_amount.present);
	ck_assert_int_eq(r.cancel_available_amount.total, 0);
	/* approved_cancel_amount as a plain number is read as its total */
	r = parse(PAY_OP_CANCEL, 200,
	          "{\"aid\":\"A3\",\"tid\":\"T1\",\"approved_cancel_amount\":7000}");
	ck_assert_int_eq(r.approved_cancel_amount.total, 7000);
}
END_TEST

/* §5 test 21: every time field matches the format and is read as +09:00. */
START_TEST(test_parse_time)
{
	int64_t t = 0;
	static const char *const bad[] = {
	    "2026-01-01 09:00:00",
	    "2026-01-01T09:00:00Z",
	    "2026-01-01T09:00:00+09:00",
	    "2026-01-01T09:00",
	    "2026-13-01T09:00:00",
	    "2026-02-30T09:00:00",
	    "2026-01-01T24:00:00",
	    "2026-01-01T09:60:00",
	    "26-01-01T09:00:00",
	    "2026-01-01T09:00:00.123",
	    "",
	    "2026-1-01T09:00:00",
	};

	ck_assert_int_eq(kakaopay_parse_time("2026-01-01T09:00:00", &t), 0);
	ck_assert_int_eq(t, 1767225600);
	ck_assert_int_eq(kakaopay_parse_time("2026-03-06T10:00:00", &t), 0);
	ck_assert_int_eq(t, 1772758800);
	ck_assert_int_eq(kakaopay_parse_time("2024-02-29T00:00:00", &t), 0);
	ck_assert_int_eq(t, 1709132400); /* 2024-02-28T15:00:00Z */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(kakaopay_parse_time(bad[i], &t) == -E_VALIDATION_FAILED, "%s",
		              bad[i]);
	ck_assert_int_eq(kakaopay_parse_time(NULL, &t), -E_VALIDATION_FAILED);
}
END_TEST

/* ---- request bodies ------------------------------------------------------------------ */

static cJSON *body_of(enum pay_op op, const struct pay_request *q, const char *cid_secret)
{
	char *s = NULL, why[128];
	cJSON *o;

	ck_assert_int_eq(kakaopay_build_body(op, q, cid_secret, &s, why, sizeof(why)), 0);
	o = cJSON_Parse(s);
	free(s);
	ck_assert_ptr_nonnull(o);
	return o;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", k);
	return v->valuedouble;
}

static struct pay_request ready_req(void)
{
	struct pay_request q = {0};

	q.cid = "TC0ONETIME";
	q.partner_order_id = "O7-R1";
	q.partner_user_id = "U3";
	q.item_name = "비타민C 그 외 1개";
	q.quantity = 3;
	q.total_amount = 2200;
	q.tax_free_amount = 0;
	q.approval_url = "https://shop.example/api/payments/approve/7";
	q.cancel_url = "https://shop.example/api/payments/cancel/7";
	q.fail_url = "https://shop.example/api/payments/fail/7";
	return q;
}

START_TEST(test_body_every_op)
{
	struct pay_request q = ready_req();
	cJSON *o = body_of(PAY_OP_READY, &q, NULL);

	ck_assert_str_eq(jstr(o, "cid"), "TC0ONETIME");
	ck_assert_str_eq(jstr(o, "partner_order_id"), "O7-R1");
	ck_assert_str_eq(jstr(o, "partner_user_id"), "U3");
	ck_assert_str_eq(jstr(o, "item_name"), "비타민C 그 외 1개");
	ck_assert(jnum(o, "quantity") == 3);
	ck_assert(jnum(o, "total_amount") == 2200);
	ck_assert(jnum(o, "tax_free_amount") == 0);
	ck_assert_str_eq(jstr(o, "approval_url"), q.approval_url);
	ck_assert_str_eq(jstr(o, "fail_url"), q.fail_url);
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "item_code"));
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "cid_secret"));
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "payload"));
	cJSON_Delete(o);

	q = (struct pay_request){0};
	q.cid = "TC0ONETIME";
	q.tid = "T1";
	q.partner_order_id = "O7-R1";
	q.partner_user_id = "U3";
	q.pg_token = "abcdef0123456789abcd";
	q.total_amount = 2200;
	q.payload = "pay:9";
	o = body_of(PAY_OP_APPROVE, &q, "0123456789abcdef01234567");
	ck_assert_str_eq(jstr(o, "tid"), "T1");
	ck_assert_str_eq(jstr(o, "pg_token"), "abcdef0123456789abcd");
	ck_assert(jnum(o, "total_amount") == 2200);
	ck_assert_str_eq(jstr(o, "payload"), "pay:9");
	ck_assert_str_eq(jstr(o, "cid_secret"), "0123456789abcdef01234567");
	cJSON_Delete(o);

	q = (struct pay_request){0};
	q.cid = "TCSUBSCRIP";
	q.sid = SID;
	q.partner_order_id = "S7-C20260306-A2";
	q.partner_user_id = "U3";
	q.item_name = "오메가3";
	q.quantity = 2;
	q.total_amount = 30000;
	q.payload = "att:11";
	q.approval_url = "https://ignored";
	o = body_of(PAY_OP_SUBSCRIPTION, &q, NULL);
	ck_assert_str_eq(jstr(o, "sid"), SID);
	ck_assert_str_eq(jstr(o, "partner_order_id"), "S7-C20260306-A2");
	ck_assert(jnum(o, "total_amount") == 30000);
	ck_assert(jnum(o, "tax_free_amount") == 0);
	ck_assert_str_eq(jstr(o, "payload"), "att:11");
	ck_assert_ptr_null(cJSON_GetObjectItem(o, "approval_url")); /* not sent */
	cJSON_Delete(o);

	q = (struct pay_request){0};
	q.cid = "TCSUBSCRIP";
	q.sid = SID;
	for (enum pay_op op = PAY_OP_INACTIVE; op <= PAY_OP_STATUS; op++) {
		o = body_of(op, &q, NULL);
		ck_assert_int_eq(cJSON_GetArraySize(o), 2);
		ck_assert_str_eq(jstr(o, "sid"), SID);
		cJSON_Delete(o);
	}
	q = (struct pay_request){0};
	q.cid = "TC0ONETIME";
	q.tid = "T1";
	o = body_of(PAY_OP_ORDER, &q, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(o), 2);
	cJSON_Delete(o);

	q.cancel_amount = 3000;
	q.cancel_tax_free_amount = 0;
	q.cancel_available_amount = 10000;
	q.payload = "ref:4";
	o = body_of(PAY_OP_CANCEL, &q, NULL);
	ck_assert(jnum(o, "cancel_amount") == 3000);
	ck_assert(jnum(o, "cancel_tax_free_amount") == 0);
	ck_assert(jnum(o, "cancel_available_amount") == 10000);
	ck_assert_str_eq(jstr(o, "payload"), "ref:4");
	cJSON_Delete(o);
}
END_TEST

static int build_rc(enum pay_op op, const struct pay_request *q, char *why, size_t wl)
{
	char *s = NULL;
	int rc = kakaopay_build_body(op, q, NULL, &s, why, wl);

	free(s);
	return rc;
}

/* §5 test 22: item_name cut at 100 characters; every other limit rejects before sending. */
START_TEST(test_body_limits)
{
	struct pay_request q = ready_req();
	char name[1024], long_id[128], long_url[300], long_payload[210], why[128];
	size_t n = 0;
	cJSON *o;

	for (int i = 0; i < 101; i++) {
		memcpy(name + n, "가", 3); /* 3 bytes, 1 character */
		n += 3;
	}
	name[n] = '\0';
	q.item_name = name;
	o = body_of(PAY_OP_READY, &q, NULL);
	ck_assert_uint_eq(json_utf8_len(jstr(o, "item_name")), 100);
	ck_assert_uint_eq(strlen(jstr(o, "item_name")), 300);
	cJSON_Delete(o);

	memset(long_id, 'x', 101);
	long_id[101] = '\0';
	q = ready_req();
	q.partner_order_id = long_id;
	ck_assert_int_eq(build_rc(PAY_OP_READY, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	ck_assert_str_eq(why, "partner_order_id: too long");
	long_id[100] = '\0'; /* 100 is fine */
	ck_assert_int_eq(build_rc(PAY_OP_READY, &q, why, sizeof(why)), 0);

	q = ready_req();
	memset(long_url, 'u', 256);
	long_url[256] = '\0';
	q.cancel_url = long_url;
	ck_assert_int_eq(build_rc(PAY_OP_READY, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	ck_assert_str_eq(why, "cancel_url: too long");

	q = ready_req();
	q.fail_url = NULL;
	ck_assert_int_eq(build_rc(PAY_OP_READY, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	ck_assert_str_eq(why, "fail_url: required");
	q = ready_req();
	q.total_amount = 0;
	ck_assert_int_eq(build_rc(PAY_OP_READY, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	q = ready_req();
	q.tax_free_amount = 2201;
	ck_assert_int_eq(build_rc(PAY_OP_READY, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	q = ready_req();
	q.quantity = 0;
	ck_assert_int_eq(build_rc(PAY_OP_READY, &q, why, sizeof(why)), -E_VALIDATION_FAILED);

	q = (struct pay_request){0};
	q.cid = "TC0ONETIME";
	q.tid = "T1";
	q.partner_order_id = "O1";
	q.partner_user_id = "U1";
	q.pg_token = "tok";
	q.total_amount = 100;
	memset(long_payload, 'p', 201);
	long_payload[201] = '\0';
	q.payload = long_payload;
	ck_assert_int_eq(build_rc(PAY_OP_APPROVE, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	ck_assert_str_eq(why, "payload: too long");
	q.payload = NULL;
	q.pg_token = "";
	ck_assert_int_eq(build_rc(PAY_OP_APPROVE, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	ck_assert_str_eq(why, "pg_token: required");

	q = (struct pay_request){0};
	q.cid = "TC0ONETIME";
	q.tid = "T1";
	q.cancel_amount = 3000;
	q.cancel_available_amount = 2999;
	ck_assert_int_eq(build_rc(PAY_OP_CANCEL, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	q.cancel_available_amount = 3000;
	q.cancel_tax_free_amount = 3001;
	ck_assert_int_eq(build_rc(PAY_OP_CANCEL, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	q.cancel_tax_free_amount = 0;
	q.cancel_amount = 0;
	ck_assert_int_eq(build_rc(PAY_OP_CANCEL, &q, why, sizeof(why)), -E_VALIDATION_FAILED);

	q = (struct pay_request){0};
	q.cid = "TCSUBSCRIP";
	ck_assert_int_eq(build_rc(PAY_OP_STATUS, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
	ck_assert_str_eq(why, "sid: required");
	ck_assert_int_eq(build_rc(PAY_OP__COUNT, &q, why, sizeof(why)), -E_VALIDATION_FAILED);
}
END_TEST

START_TEST(test_config_check)
{
	struct kakaopay_config c = {0};

	ck_assert_int_eq(kakaopay_config_check(&c), -E_CONFIG); /* no key */
	c.secret_key = "k";
	ck_assert_int_eq(kakaopay_config_check(&c), 0); /* the default https base */
	c.base_url = "https://open-api.kakaopay.com";
	ck_assert_int_eq(kakaopay_config_check(&c), 0);
	c.base_url = "http://127.0.0.1:18090";
	ck_assert_int_eq(kakaopay_config_check(&c), 0);
	c.base_url = "http://localhost:18090/";
	ck_assert_int_eq(kakaopay_config_check(&c), 0);
	c.base_url = "http://[::1]:18090";
	ck_assert_int_eq(kakaopay_config_check(&c), 0);
	c.base_url = "http://open-api.kakaopay.com";
	ck_assert_int_eq(kakaopay_config_check(&c), -E_CONFIG);
	c.base_url = "http://127.0.0.1.example.com";
	ck_assert_int_eq(kakaopay_config_check(&c), -E_CONFIG);
	c.base_url = "ftp://127.0.0.1";
	ck_assert_int_eq(kakaopay_config_check(&c), -E_CONFIG);
	c.base_url = "not a url";
	ck_assert_int_eq(kakaopay_config_check(&c), -E_CONFIG);
	c.base_url = NULL;
	c.secret_key = "k\r\nX-Evil: 1";
	ck_assert_int_eq(kakaopay_config_check(&c), -E_CONFIG);
	c.secret_key = "k";
	c.timeout_ms = -1;
	ck_assert_int_eq(kakaopay_config_check(&c), -E_CONFIG);
}
END_TEST

/* ---- a tiny HTTP server on 127.0.0.1:0 ---------------------------------------------- */

enum srv_mode {
	SRV_RESPOND,       /* status + body, keep-alive */
	SRV_DROP,          /* close right after reading the request */
	SRV_HANG,          /* never answer */
	SRV_PARTIAL,       /* half the headers, then close */
	SRV_OVERSIZE,      /* 2 MiB with Content-Length */
	SRV_OVERSIZE_NOLEN /* 2 MiB without Content-Length, then close */
};

#define SRV_MAXCONN 64

struct srv {
	int lfd;
	int port;
	pthread_t acceptor;
	pthread_mutex_t mu;
	enum srv_mode mode;
	int status;
	char extra_headers[256];
	char body[4096];
	int accepted;
	int requests;
	char last[16384];
	int nconn;
	int fds[SRV_MAXCONN];
	pthread_t threads[SRV_MAXCONN];
	volatile int stop;
};

static struct srv S;

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one request (headers + Content-Length body) into buf; its length, or -1. */
static ssize_t read_request(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	char *eoh = NULL;
	long clen = 0;

	for (;;) {
		ssize_t r;

		if (eoh != NULL && n >= (size_t)(eoh + 4 - buf) + (size_t)clen)
			return (ssize_t)n;
		if (n + 1 >= cap)
			return -1;
		r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (eoh == NULL && (eoh = strstr(buf, "\r\n\r\n")) != NULL) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");

			if (cl != NULL && cl < eoh)
				clen = strtol(cl + 17, NULL, 10);
		}
	}
}

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char req[16384];

	while (!S.stop) {
		ssize_t n = read_request(fd, req, sizeof(req));
		enum srv_mode mode;
		char head[512], body[4096];
		int status;

		if (n < 0)
			break;
		pthread_mutex_lock(&S.mu);
		S.requests++;
		memcpy(S.last, req, (size_t)n + 1);
		mode = S.mode;
		status = S.status;
		memcpy(body, S.body, sizeof(body));
		snprintf(head, sizeof(head),
		         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sContent-Length: "
		         "%zu\r\n\r\n",
		         status, S.extra_headers, strlen(body));
		pthread_mutex_unlock(&S.mu);
		if (mode == SRV_RESPOND) {
			if (send_all(fd, head, strlen(head)) || send_all(fd, body, strlen(body)))
				break;
			continue;
		}
		if (mode == SRV_DROP)
			break;
		if (mode == SRV_HANG) {
			while (!S.stop && recv(fd, req, sizeof(req), 0) > 0)
				;
			break;
		}
		if (mode == SRV_PARTIAL) {
			send_all(fd, head, strlen(head) / 2);
			break;
		}
		{
			static char chunk[65536];
			const char *h = mode == SRV_OVERSIZE
			                    ? "HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n\r\n"
			                    : "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";

			memset(chunk, ' ', sizeof(chunk));
			if (send_all(fd, h, strlen(h)) == 0) {
				for (int i = 0; i < 32; i++) {
					if (send_all(fd, chunk, sizeof(chunk)))
						break;
				}
			}
			break;
		}
	}
	shutdown(fd, SHUT_RDWR);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(S.lfd, NULL, NULL);

		if (fd < 0)
			break;
		pthread_mutex_lock(&S.mu);
		if (S.stop || S.nconn == SRV_MAXCONN) {
			pthread_mutex_unlock(&S.mu);
			close(fd);
			continue;
		}
		S.accepted++;
		S.fds[S.nconn] = fd;
		pthread_create(&S.threads[S.nconn], NULL, conn_main, (void *)(intptr_t)fd);
		S.nconn++;
		pthread_mutex_unlock(&S.mu);
	}
	return NULL;
}

static void srv_start(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1;

	memset(&S, 0, sizeof(S));
	pthread_mutex_init(&S.mu, NULL);
	S.lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(S.lfd, 0);
	setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	ck_assert_int_eq(bind(S.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(S.lfd, 64), 0);
	ck_assert_int_eq(getsockname(S.lfd, (struct sockaddr *)&a, &al), 0);
	S.port = ntohs(a.sin_port);
	S.status = 200;
	pthread_create(&S.acceptor, NULL, accept_main, NULL);
}

static void srv_stop(void)
{
	S.stop = 1;
	shutdown(S.lfd, SHUT_RDWR);
	pthread_join(S.acceptor, NULL);
	close(S.lfd);
	pthread_mutex_lock(&S.mu);
	for (int i = 0; i < S.nconn; i++)
		shutdown(S.fds[i], SHUT_RDWR);
	pthread_mutex_unlock(&S.mu);
	for (int i = 0; i < S.nconn; i++) {
		pthread_join(S.threads[i], NULL);
		close(S.fds[i]);
	}
	pthread_mutex_destroy(&S.mu);
}

static void srv_set(enum srv_mode mode, int status, const char *body)
{
	pthread_mutex_lock(&S.mu);
	S.mode = mode;
	S.status = status;
	snprintf(S.body, sizeof(S.body), "%s", body ? body : "");
	S.extra_headers[0] = '\0';
	pthread_mutex_unlock(&S.mu);
}

static int srv_get(const int *field)
{
	int v;

	pthread_mutex_lock(&S.mu);
	v = *field;
	pthread_mutex_unlock(&S.mu);
	return v;
}

static char base_url[64];

static struct kakaopay_client *client_new(long timeout_ms, const char *cid_secret)
{
	struct kakaopay_config c = {0};
	struct kakaopay_client *cl = NULL;

	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d/", S.port);
	c.base_url = base_url;
	c.secret_key = "test-secret-key";
	c.cid_secret = cid_secret;
	c.connect_timeout_ms = 1000;
	c.timeout_ms = timeout_ms;
	ck_assert_int_eq(kakaopay_client_new(&c, &cl), 0);
	return cl;
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	srv_start();
}

static void teardown(void)
{
	srv_stop();
	curl_global_cleanup();
}

#define OK_SUB   "{\"aid\":\"A1\",\"tid\":\"T1\",\"sid\":\"" SID "\",\"amount\":{\"total\":3300}}"
#define OK_ORDER "{\"tid\":\"T1\",\"status\":\"SUCCESS_PAYMENT\"}"

static struct pay_request sub_req(void)
{
	struct pay_request q = {0};

	q.cid = "TCSUBSCRIP";
	q.sid = SID;
	q.partner_order_id = "S7-C20260306-A1";
	q.partner_user_id = "U3";
	q.item_name = "오메가3";
	q.quantity = 1;
	q.total_amount = 3300;
	q.payload = "att:1";
	return q;
}

static struct pay_request order_req(void)
{
	struct pay_request q = {0};

	q.cid = "TC0ONETIME";
	q.tid = "T1";
	return q;
}

START_TEST(test_http_request_shape)
{
	struct kakaopay_client *c = client_new(2000, "0123456789abcdef01234567");
	struct pay_request q = ready_req();
	struct pay_result r;
	const char *body;
	cJSON *o;

	srv_set(
	    SRV_RESPOND, 200,
	    "{\"tid\":\"T9\",\"next_redirect_pc_url\":\"http://x/pc\","
	    "\"next_redirect_mobile_url\":\"http://x/m\",\"created_at\":\"2026-01-01T09:00:00\"}");
	ck_assert_int_eq(kakaopay_call(c, PAY_OP_READY, &q, &r), 0);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert(r.sent);
	ck_assert_int_eq(r.http_status, 200);
	ck_assert_str_eq(r.tid, "T9");
	ck_assert_str_eq(r.next_redirect_pc_url, "http://x/pc");
	ck_assert_int_ge(r.t_total_ms, 0);
	pthread_mutex_lock(&S.mu);
	ck_assert_ptr_nonnull(strstr(S.last, "POST /online/v1/payment/ready HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(S.last, "\r\nAuthorization: SECRET_KEY test-secret-key\r\n"));
	ck_assert_ptr_nonnull(strstr(S.last, "\r\nContent-Type: application/json\r\n"));
	ck_assert_ptr_nonnull(strstr(S.last, "\r\nAccept: application/json\r\n"));
	ck_assert_ptr_null(strcasestr(S.last, "\r\nExpect:"));
	body = strstr(S.last, "\r\n\r\n") + 4;
	o = cJSON_Parse(body);
	pthread_mutex_unlock(&S.mu);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(jstr(o, "partner_order_id"), "O7-R1");
	ck_assert(jnum(o, "total_amount") == 2200);
	ck_assert_str_eq(jstr(o, "cid_secret"), "0123456789abcdef01234567");
	cJSON_Delete(o);
	/* no secret in the record */
	ck_assert_ptr_null(strstr(r.raw, "test-secret-key"));
	ck_assert_ptr_null(strstr(r.message, "test-secret-key"));
	kakaopay_client_free(c);
}
END_TEST

START_TEST(test_http_error_bodies)
{
	struct kakaopay_client *c = client_new(2000, NULL);
	struct pay_request q = sub_req();
	struct pay_result r;

	srv_set(SRV_RESPOND, 400,
	        "{\"error_code\":-750,\"error_message\":\"no sid\",\"extras\":{}}");
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_SID_DEAD);
	ck_assert_int_eq(r.code, -750);
	ck_assert_int_eq(r.http_status, 400);
	srv_set(SRV_RESPOND, 500, "{\"code\":-782,\"msg\":\"declined\"}");
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_DECLINED);
	ck_assert_str_eq(r.message, "declined");
	srv_set(SRV_RESPOND, 500, "{\"error_code\":-500,\"error_message\":\"internal\"}");
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	q = order_req();
	kakaopay_call(c, PAY_OP_ORDER, &q, &r);
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	srv_set(SRV_RESPOND, 502, "<html>bad gateway</html>");
	kakaopay_call(c, PAY_OP_ORDER, &q, &r);
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	ck_assert_int_eq(r.http_status, 502);
	ck_assert_str_eq(r.raw, "<html>bad gateway</html>");
	q = sub_req();
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	/* garbage_applied: 200 with a truncated body */
	srv_set(SRV_RESPOND, 200, "{\"aid\":\"A1\",\"tid\":");
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert_int_eq(srv_get(&S.requests), 7);
	kakaopay_client_free(c);
}
END_TEST

/* A 3xx is never followed: UNKNOWN for a money call. */
START_TEST(test_http_redirect_not_followed)
{
	struct kakaopay_client *c = client_new(2000, NULL);
	struct pay_request q = sub_req();
	struct pay_result r;

	srv_set(SRV_RESPOND, 302, "");
	pthread_mutex_lock(&S.mu);
	snprintf(S.extra_headers, sizeof(S.extra_headers), "Location: http://127.0.0.1:%d/x\r\n",
	         S.port);
	pthread_mutex_unlock(&S.mu);
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert_int_eq(r.http_status, 302);
	q = order_req();
	kakaopay_call(c, PAY_OP_ORDER, &q, &r);
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	ck_assert_int_eq(srv_get(&S.requests), 2); /* the Location was not requested */
	kakaopay_client_free(c);
}
END_TEST

/* hang: our timeout after the request left is UNKNOWN, never "failed" (§1.2). */
START_TEST(test_http_timeout)
{
	struct kakaopay_client *c = client_new(300, NULL);
	struct pay_request q = sub_req();
	struct pay_result r;

	srv_set(SRV_HANG, 200, "");
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert(r.sent);
	ck_assert_int_eq(r.http_status, 0);
	ck_assert_int_ge(r.t_total_ms, 250);
	ck_assert_int_lt(r.t_total_ms, 3000);
	q = order_req();
	kakaopay_call(c, PAY_OP_ORDER, &q, &r);
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	ck_assert(r.sent);
	ck_assert_int_eq(srv_get(&S.requests), 2);
	kakaopay_client_free(c);
}
END_TEST

/* drop, and drop after a read call left a keep-alive connection open (§5 test 14): the charge
 * goes out on a new connection and is never re-sent. */
START_TEST(test_http_drop_never_resent)
{
	struct kakaopay_client *c = client_new(2000, NULL);
	struct pay_request q = order_req();
	struct pay_result r;

	srv_set(SRV_RESPOND, 200, OK_ORDER);
	kakaopay_call(c, PAY_OP_ORDER, &q, &r);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_int_eq(srv_get(&S.accepted), 1);
	srv_set(SRV_DROP, 200, "");
	q = sub_req();
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert(r.sent);
	ck_assert_int_eq(r.http_status, 0);
	ck_assert_int_eq(srv_get(&S.accepted), 2);
	ck_assert_int_eq(srv_get(&S.requests), 2); /* exactly once */
	q = order_req();
	q.tid = "T2";
	srv_set(SRV_DROP, 200, "");
	kakaopay_call(c, PAY_OP_APPROVE,
	              &(struct pay_request){.cid = "C",
	                                    .tid = "T",
	                                    .partner_order_id = "O",
	                                    .partner_user_id = "U",
	                                    .pg_token = "t",
	                                    .total_amount = 1},
	              &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert_int_eq(srv_get(&S.requests), 3);
	kakaopay_client_free(c);
}
END_TEST

START_TEST(test_http_partial_and_oversize)
{
	struct kakaopay_client *c = client_new(5000, NULL);
	struct pay_request q = sub_req(), o = order_req();
	struct pay_result r;

	srv_set(SRV_PARTIAL, 200, OK_SUB);
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert(r.sent);
	srv_set(SRV_OVERSIZE, 200, "");
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert_str_eq(r.message, "response too large");
	kakaopay_call(c, PAY_OP_ORDER, &o, &r);
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	srv_set(SRV_OVERSIZE_NOLEN, 200, "");
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert_str_eq(r.message, "response too large");
	ck_assert_uint_lt(strlen(r.raw), PAY_RAW_MAX);
	kakaopay_call(c, PAY_OP_ORDER, &o, &r);
	ck_assert_int_eq(r.cls, PAY_RETRY_LATER);
	kakaopay_client_free(c);
}
END_TEST

/* Money calls on a fresh connection each, closed afterwards; read calls reuse one. */
START_TEST(test_http_connection_reuse)
{
	struct kakaopay_client *c = client_new(2000, NULL);
	struct pay_request q = order_req(), s = sub_req();
	struct pay_result r;

	srv_set(SRV_RESPOND, 200, OK_ORDER);
	for (int i = 0; i < 3; i++) {
		kakaopay_call(c, PAY_OP_ORDER, &q, &r);
		ck_assert_int_eq(r.cls, PAY_OK);
	}
	ck_assert_int_eq(srv_get(&S.accepted), 1);
	srv_set(SRV_RESPOND, 200, OK_SUB);
	for (int i = 0; i < 3; i++) {
		kakaopay_call(c, PAY_OP_SUBSCRIPTION, &s, &r);
		ck_assert_int_eq(r.cls, PAY_OK);
		ck_assert_int_eq(srv_get(&S.accepted), 2 + i);
	}
	srv_set(SRV_RESPOND, 200, OK_ORDER);
	kakaopay_call(c, PAY_OP_ORDER, &q, &r);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_int_eq(srv_get(&S.accepted), 4); /* the read connection was kept */
	ck_assert_int_eq(srv_get(&S.requests), 7);
	kakaopay_client_free(c);
}
END_TEST

/* Fake not running: NOT_SENT, sent = false, fast (§5 test 15). */
START_TEST(test_http_not_sent)
{
	struct kakaopay_client *c;
	struct kakaopay_config cfg = {0};
	struct pay_request q = sub_req();
	struct pay_result r;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char url[64];

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	close(fd); /* nobody listens there now */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	cfg.base_url = url;
	cfg.secret_key = "k";
	ck_assert_int_eq(kakaopay_client_new(&cfg, &c), 0);
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_int_eq(r.cls, PAY_NOT_SENT);
	ck_assert(!r.sent);
	ck_assert_int_eq(r.http_status, 0);
	ck_assert_int_lt(r.t_total_ms, 3000);
	kakaopay_client_free(c);
}
END_TEST

/* A connect timeout (a listener whose accept queue is full drops the SYN): zero pre-transfer
 * time, so the request provably never left: NOT_SENT. */
START_TEST(test_http_connect_timeout_not_sent)
{
	struct kakaopay_client *c;
	struct kakaopay_config cfg = {0};
	struct pay_request q = sub_req();
	struct pay_result r;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), cl[8];
	char url[64];

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(lfd, 0), 0);
	getsockname(lfd, (struct sockaddr *)&a, &al);
	for (int i = 0; i < 8; i++) { /* fill the accept queue, never accept */
		cl[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(cl[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(100 * 1000);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	cfg.base_url = url;
	cfg.secret_key = "k";
	cfg.connect_timeout_ms = 300;
	cfg.timeout_ms = 2000;
	ck_assert_int_eq(kakaopay_client_new(&cfg, &c), 0);
	kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r);
	ck_assert_msg(r.cls == PAY_NOT_SENT, "%s: %s", pay_class_name(r.cls), r.message);
	ck_assert(!r.sent);
	ck_assert_int_ge(r.t_total_ms, 250);
	ck_assert_int_lt(r.t_total_ms, 1500);
	kakaopay_client_free(c);
	for (int i = 0; i < 8; i++)
		close(cl[i]);
	close(lfd);
}
END_TEST

/* Rejected before sending: INVALID, sent = false, nothing reaches the server. */
START_TEST(test_http_rejected_before_send)
{
	struct kakaopay_client *c = client_new(2000, NULL);
	struct pay_request q = sub_req();
	struct pay_result r;

	q.partner_user_id = NULL;
	ck_assert_int_eq(kakaopay_call(c, PAY_OP_SUBSCRIPTION, &q, &r), 0);
	ck_assert_int_eq(r.cls, PAY_INVALID);
	ck_assert(!r.sent);
	ck_assert_str_eq(r.message, "request rejected: partner_user_id: required");
	ck_assert_int_eq(srv_get(&S.requests), 0);
	ck_assert_int_eq(kakaopay_call(c, PAY_OP__COUNT, &q, &r), -E_CONFIG);
	ck_assert_int_eq(kakaopay_call(NULL, PAY_OP_ORDER, &q, &r), -E_CONFIG);
	kakaopay_client_free(c);
	kakaopay_client_free(NULL);
}
END_TEST

START_TEST(test_gateway_table)
{
	struct kakaopay_client *c = client_new(2000, NULL);
	struct pay_gateway gw;
	struct pay_request q = order_req();
	struct pay_result r;

	kakaopay_gateway_init(&gw, c);
	srv_set(SRV_RESPOND, 200, OK_ORDER);
	ck_assert_int_eq(pay_gateway_call(&gw, PAY_OP_ORDER, &q, &r), 0);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_int_eq(r.op, PAY_OP_ORDER);
	pthread_mutex_lock(&S.mu);
	ck_assert_ptr_nonnull(strstr(S.last, "POST /online/v1/payment/order "));
	pthread_mutex_unlock(&S.mu);
	q = sub_req();
	q.cid = "TCSUBSCRIP";
	srv_set(SRV_RESPOND, 200, "{\"status\":\"INACTIVE\",\"sid\":\"" SID "\"}");
	ck_assert_int_eq(gw.inactive(gw.ctx, &q, &r), 0);
	ck_assert_int_eq(r.cls, PAY_OK);
	pthread_mutex_lock(&S.mu);
	ck_assert_ptr_nonnull(
	    strstr(S.last, "POST /online/v1/payment/manage/subscription/inactive "));
	pthread_mutex_unlock(&S.mu);
	srv_set(SRV_RESPOND, 200, "{\"status\":\"ACTIVE\",\"available\":true}");
	ck_assert_int_eq(gw.status(gw.ctx, &q, &r), 0);
	ck_assert_int_eq(r.available, 1);
	kakaopay_client_free(c);
}
END_TEST

/* ---- the multi driver, run by a poll() loop in the hiperfifo style ------------------- */

struct loop {
	struct pollfd fds[64];
	int n;
	bool timer_on;
	struct timespec deadline;
	int timer_calls;
};

static struct loop L;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t L_deadline;

static void hook_socket(void *arg, int fd, int want, void *sockp)
{
	int i;

	(void)arg;
	(void)sockp;
	for (i = 0; i < L.n && L.fds[i].fd != fd; i++)
		;
	if (want & KAKAOPAY_WANT_REMOVE) {
		if (i < L.n)
			L.fds[i] = L.fds[--L.n];
		return;
	}
	if (i == L.n) {
		ck_assert_int_lt(L.n, 64);
		L.n++;
	}
	L.fds[i].fd = fd;
	L.fds[i].events = (short)(((want & KAKAOPAY_WANT_IN) ? POLLIN : 0) |
	                          ((want & KAKAOPAY_WANT_OUT) ? POLLOUT : 0));
}

static void hook_timer(void *arg, long ms)
{
	(void)arg;
	L.timer_calls++;
	L.timer_on = ms >= 0;
	L_deadline = now_ms() + (ms > 0 ? ms : 0);
}

static int done_count;
static struct pay_result done_res[16];

static void on_done(void *arg, const struct pay_result *res)
{
	int slot = (int)(intptr_t)arg;

	done_res[slot] = *res;
	done_count++;
}

static void loop_run(struct kakaopay_multi *m, int want_done, int64_t max_ms)
{
	int64_t end = now_ms() + max_ms;

	while (done_count < want_done && now_ms() < end) {
		struct pollfd ready[64];
		int n = L.n, timeout = 50;

		if (L.timer_on) {
			int64_t left = L_deadline - now_ms();

			timeout = left < 0 ? 0 : (left > 50 ? 50 : (int)left);
		}
		memcpy(ready, L.fds, sizeof(ready[0]) * (size_t)n);
		if (poll(ready, (nfds_t)n, timeout) > 0) {
			for (int i = 0; i < n; i++) {
				int ev = 0;

				if (ready[i].revents & (POLLIN | POLLHUP | POLLERR))
					ev |= KAKAOPAY_WANT_IN;
				if (ready[i].revents & (POLLOUT | POLLERR))
					ev |= KAKAOPAY_WANT_OUT;
				if (ev)
					kakaopay_multi_socket_action(m, ready[i].fd, ev);
			}
		}
		if (L.timer_on && now_ms() >= L_deadline) {
			L.timer_on = false;
			kakaopay_multi_timeout(m);
		}
	}
}

static struct kakaopay_multi *multi_new(long timeout_ms, size_t max)
{
	struct kakaopay_config c = {0};
	struct kakaopay_multi_hooks h = {NULL, hook_socket, hook_timer};
	struct kakaopay_multi *m = NULL;

	memset(&L, 0, sizeof(L));
	done_count = 0;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", S.port);
	c.base_url = base_url;
	c.secret_key = "test-secret-key";
	c.timeout_ms = timeout_ms;
	ck_assert_int_eq(kakaopay_multi_new(&c, &h, max, &m), 0);
	return m;
}

START_TEST(test_multi_concurrent)
{
	struct kakaopay_multi *m = multi_new(2000, 0);
	struct pay_request s = sub_req(), o = order_req();

	srv_set(SRV_RESPOND, 200, "{\"aid\":\"A1\",\"tid\":\"T1\",\"status\":\"SUCCESS_PAYMENT\"}");
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(kakaopay_multi_add(m, i % 2 ? PAY_OP_SUBSCRIPTION : PAY_OP_ORDER,
		                                    i % 2 ? &s : &o, on_done, (void *)(intptr_t)i),
		                 0);
	}
	ck_assert_int_eq(done_count, 0); /* never from inside add */
	ck_assert_uint_eq(kakaopay_multi_in_flight(m), 8);
	loop_run(m, 8, 5000);
	ck_assert_int_eq(done_count, 8);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(done_res[i].cls, PAY_OK);
		ck_assert_int_eq(done_res[i].op, i % 2 ? PAY_OP_SUBSCRIPTION : PAY_OP_ORDER);
	}
	ck_assert_uint_eq(kakaopay_multi_in_flight(m), 0);
	ck_assert_int_eq(srv_get(&S.requests), 8);
	/* each of the 4 charges had its own connection */
	ck_assert_int_ge(srv_get(&S.accepted), 5);
	kakaopay_multi_free(m);
	ck_assert_int_gt(L.timer_calls, 0);
}
END_TEST

START_TEST(test_multi_outcomes)
{
	struct kakaopay_multi *m = multi_new(300, 0);
	struct pay_request s = sub_req(), bad = sub_req();

	bad.sid = NULL;
	srv_set(SRV_HANG, 200, "");
	ck_assert_int_eq(kakaopay_multi_add(m, PAY_OP_SUBSCRIPTION, &s, on_done, (void *)0), 0);
	ck_assert_int_eq(kakaopay_multi_add(m, PAY_OP_SUBSCRIPTION, &bad, on_done, (void *)1), 0);
	ck_assert_int_eq(done_count, 0);
	loop_run(m, 2, 5000);
	ck_assert_int_eq(done_count, 2);
	ck_assert_int_eq(done_res[1].cls, PAY_INVALID);
	ck_assert(!done_res[1].sent);
	ck_assert_int_eq(done_res[0].cls, PAY_UNKNOWN);
	ck_assert(done_res[0].sent);
	srv_set(SRV_RESPOND, 400, "{\"error_code\":-782,\"error_message\":\"d\"}");
	ck_assert_int_eq(kakaopay_multi_add(m, PAY_OP_SUBSCRIPTION, &s, on_done, (void *)2), 0);
	loop_run(m, 3, 5000);
	ck_assert_int_eq(done_res[2].cls, PAY_DECLINED);
	ck_assert_int_eq(done_res[2].code, -782);
	kakaopay_multi_free(m);
}
END_TEST

START_TEST(test_multi_limit_and_free)
{
	struct kakaopay_multi *m = multi_new(10000, 2);
	struct pay_request s = sub_req();

	srv_set(SRV_HANG, 200, "");
	ck_assert_int_eq(kakaopay_multi_add(m, PAY_OP_SUBSCRIPTION, &s, on_done, (void *)0), 0);
	ck_assert_int_eq(kakaopay_multi_add(m, PAY_OP_SUBSCRIPTION, &s, on_done, (void *)1), 0);
	ck_assert_int_eq(kakaopay_multi_add(m, PAY_OP_SUBSCRIPTION, &s, on_done, (void *)2),
	                 -E_SERVICE_UNAVAILABLE);
	ck_assert_int_eq(kakaopay_multi_add(m, PAY_OP_SUBSCRIPTION, &s, NULL, NULL), -E_CONFIG);
	/* let both requests reach the server, then free with them in flight */
	{
		int64_t end = now_ms() + 3000;

		while (srv_get(&S.requests) < 2 && now_ms() < end)
			loop_run(m, 1, 20);
	}
	ck_assert_int_eq(srv_get(&S.requests), 2);
	ck_assert_int_eq(done_count, 0);
	kakaopay_multi_free(m);
	ck_assert_int_eq(done_count, 2);
	ck_assert_int_eq(done_res[0].cls, PAY_UNKNOWN);
	ck_assert_int_eq(done_res[1].cls, PAY_UNKNOWN);
	ck_assert(done_res[0].sent);
	kakaopay_multi_free(NULL);
}
END_TEST

/* The multi driver keeps the same connection rules: reads reuse, charges never do. */
START_TEST(test_multi_connection_reuse)
{
	struct kakaopay_multi *m = multi_new(2000, 0);
	struct pay_request s = sub_req(), o = order_req();

	srv_set(SRV_RESPOND, 200, "{\"aid\":\"A1\",\"tid\":\"T1\",\"status\":\"SUCCESS_PAYMENT\"}");
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(
		    kakaopay_multi_add(m, PAY_OP_ORDER, &o, on_done, (void *)(intptr_t)i), 0);
		loop_run(m, i + 1, 5000);
		ck_assert_int_eq(done_res[i].cls, PAY_OK);
	}
	ck_assert_int_eq(srv_get(&S.accepted), 1);
	for (int i = 3; i < 6; i++) {
		ck_assert_int_eq(
		    kakaopay_multi_add(m, PAY_OP_SUBSCRIPTION, &s, on_done, (void *)(intptr_t)i),
		    0);
		loop_run(m, i + 1, 5000);
		ck_assert_int_eq(done_res[i].cls, PAY_OK);
		ck_assert_int_eq(srv_get(&S.accepted), i - 1);
	}
	/* a dropped charge is not re-sent */
	srv_set(SRV_DROP, 200, "");
	ck_assert_int_eq(kakaopay_multi_add(m, PAY_OP_SUBSCRIPTION, &s, on_done, (void *)6), 0);
	loop_run(m, 7, 5000);
	ck_assert_int_eq(done_res[6].cls, PAY_UNKNOWN);
	ck_assert_int_eq(srv_get(&S.requests), 7);
	kakaopay_multi_free(m);
}
END_TEST

/* raw is bounded and never ends inside a UTF-8 sequence. */
START_TEST(test_raw_bounded_utf8)
{
	struct buf b = BUF_INIT(0);
	struct pay_result r;
	size_t n;

	buf_puts(&b, "{\"error_code\":-782,\"error_message\":\"");
	for (int i = 0; i < 600; i++)
		buf_puts(&b, "가");
	buf_puts(&b, "\"}");
	r = parse(PAY_OP_SUBSCRIPTION, 400, b.data);
	ck_assert_int_eq(r.cls, PAY_DECLINED);
	ck_assert(r.raw_truncated);
	n = strlen(r.raw);
	ck_assert_uint_lt(n, PAY_RAW_MAX);
	ck_assert_uint_eq((n - strlen("{\"error_code\":-782,\"error_message\":\"")) % 3, 0);
	/* the message is cut at a character boundary too */
	ck_assert_uint_eq(strlen(r.message) % 3, 0);
	ck_assert_uint_lt(strlen(r.message), PAY_TEXT_MAX);
	buf_release(&b);
}
END_TEST

Suite *kakaopay_suite(void)
{
	Suite *s = suite_create("kakaopay");
	TCase *parse_tc = tcase_create("parse");
	TCase *http_tc = tcase_create("http");
	TCase *multi_tc = tcase_create("multi");

	tcase_add_test(parse_tc, test_error_new_shape);
	tcase_add_test(parse_tc, test_error_legacy_shape);
	tcase_add_test(parse_tc, test_error_without_extras_and_string_code);
	tcase_add_test(parse_tc, test_unparsable_bodies);
	tcase_add_test(parse_tc, test_truncated_success_and_incomplete);
	tcase_add_test(parse_tc, test_success_ready);
	tcase_add_test(parse_tc, test_success_approve);
	tcase_add_test(parse_tc, test_success_subscription);
	tcase_add_test(parse_tc, test_success_inactive_and_status);
	tcase_add_test(parse_tc, test_success_order);
	tcase_add_test(parse_tc, test_success_order_many_actions);
	tcase_add_test(parse_tc, test_success_cancel);
	tcase_add_test(parse_tc, test_parse_time);
	tcase_add_test(parse_tc, test_body_every_op);
	tcase_add_test(parse_tc, test_body_limits);
	tcase_add_test(parse_tc, test_config_check);
	tcase_add_test(parse_tc, test_raw_bounded_utf8);
	suite_add_tcase(s, parse_tc);

	tcase_add_checked_fixture(http_tc, setup, teardown);
	tcase_set_timeout(http_tc, 30);
	tcase_add_test(http_tc, test_http_request_shape);
	tcase_add_test(http_tc, test_http_error_bodies);
	tcase_add_test(http_tc, test_http_redirect_not_followed);
	tcase_add_test(http_tc, test_http_timeout);
	tcase_add_test(http_tc, test_http_drop_never_resent);
	tcase_add_test(http_tc, test_http_partial_and_oversize);
	tcase_add_test(http_tc, test_http_connection_reuse);
	tcase_add_test(http_tc, test_http_not_sent);
	tcase_add_test(http_tc, test_http_connect_timeout_not_sent);
	tcase_add_test(http_tc, test_http_rejected_before_send);
	tcase_add_test(http_tc, test_gateway_table);
	suite_add_tcase(s, http_tc);

	tcase_add_checked_fixture(multi_tc, setup, teardown);
	tcase_set_timeout(multi_tc, 30);
	tcase_add_test(multi_tc, test_multi_concurrent);
	tcase_add_test(multi_tc, test_multi_outcomes);
	tcase_add_test(multi_tc, test_multi_limit_and_free);
	tcase_add_test(multi_tc, test_multi_connection_reuse);
	suite_add_tcase(s, multi_tc);
	return s;
}
