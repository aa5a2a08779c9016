/*
 * 90_payments: the Kakao Pay routes of API.md §7.1-7.4 and §7.6 end to end over HTTP against
 * the fake gateway (KAKAOPAY.md §4): ready (201 shape, records, supersede, Idempotency-Key),
 * approve through the fake's /__control/click in JSON and redirect mode (order COMPLETE,
 * sales, subscriptions with their dates, first cycle, cart lines), replays and concurrent
 * approves (one gateway approve in the fake's ledger), cancel and fail redirects, lookup, and
 * every error row with the fake's fault injection.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/it/lib/carts.h"
#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

#define STOREFRONT  "http://localhost:3000"
#define ACCEPT_JSON "Accept: application/json"
#define LOCAL_TODAY "DATE(UTC_TIMESTAMP() + INTERVAL 9 HOUR)"

static const char *const json_hdr[] = {ACCEPT_JSON, NULL};

/* Two fresh items; a is a subscription line (x2 every 30 days) when sub, b one-time x1. */
struct fixture {
	struct it_user u;
	struct it_ord_item a, b;
	int64_t order_id;
};

static void fixture_at(struct it_loc at, struct fixture *f, bool sub, bool at_cart)
{
	struct it_ord_line lines[2];
	struct it_resp r = IT_RESP_INIT;
	cJSON *body;
	char *text;

	it_new_user_at(at, &f->u);
	it_ord_item_new_at(at, &f->a, 11000, 100, 0);
	it_ord_item_new_at(at, &f->b, 10000, 0, 0);
	lines[0] = (struct it_ord_line){f->a.id, 2, sub, sub ? 30 : 0};
	lines[1] = (struct it_ord_line){f->b.id, 1, false, 0};
	body = it_ord_body(lines, 2);
	cJSON_AddBoolToObject(body, "orderedAtCart", at_cart);
	text = cJSON_PrintUnformatted(body);
	it_ord_post(&f->u, text, NULL, &r);
	it_check_at(at, &r, r.status == 201 && r.json, "POST /api/orders: expected 201");
	f->order_id = it_json_int_at(at, cJSON_GetObjectItem(r.json, "data"), "orderId");
	free(text);
	cJSON_Delete(body);
	it_resp_free(&r);
}
#define fixture(f, sub, cart) fixture_at(IT_HERE, f, sub, cart)

static void ready(const struct it_user *u, int64_t order_id, const char *const *extra,
                  struct it_resp *r)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/payments/%" PRId64, order_id);
	it_req("POST", path, u ? u->access : NULL, NULL, extra, r);
}

static void ready_ok_at(struct it_loc at, const struct fixture *f)
{
	struct it_resp r = IT_RESP_INIT;

	ready(&f->u, f->order_id, NULL, &r);
	it_check_at(at, &r, r.status == 201, "ready: expected 201");
	it_resp_free(&r);
}
#define ready_ok(f) ready_ok_at(IT_HERE, f)

/* A column of the order's newest payment record (caller frees). */
static char *newest(int64_t order_id, const char *col)
{
	char sql[256];
	struct db_param p[] = {DB_I64(order_id)};
	static char sqls[8][256];
	static int n;

	/* SQL text must outlive the statement cache: keep a few static copies */
	snprintf(sql, sizeof(sql),
	         "SELECT CAST(%s AS CHAR) FROM payments WHERE order_id = ? ORDER BY ready_no DESC "
	         "LIMIT 1",
	         col);
	for (int i = 0; i < n; i++)
		if (!strcmp(sqls[i], sql))
			return it_sql_str(sqls[i], p, 1);
	ck_assert_int_lt(n, 8);
	memcpy(sqls[n], sql, sizeof(sql));
	return it_sql_str(sqls[n++], p, 1);
}

/* Presses a button of the fake's payment page; the pg_token for approve. */
static void click(int64_t order_id, const char *action, char *token, size_t n)
{
	struct it_fp_pay p;
	char *tid = newest(order_id, "tid");

	memset(&p, 0, sizeof(p));
	snprintf(p.tid, sizeof(p.tid), "%s", tid);
	it_fp_click(&p, action, NULL, 0);
	if (token)
		snprintf(token, n, "%s", p.token);
	free(tid);
}

static void approve(int64_t order_id, const char *token, bool json, struct it_resp *r)
{
	char path[256];

	if (token)
		snprintf(path, sizeof(path), "/api/payments/approve/%" PRId64 "?pg_token=%s",
		         order_id, token);
	else
		snprintf(path, sizeof(path), "/api/payments/approve/%" PRId64, order_id);
	it_req("GET", path, NULL, NULL, json ? json_hdr : NULL, r);
}

static void redirect_route(const char *route, int64_t order_id, const char *key, bool json,
                           struct it_resp *r)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/payments/%s/%" PRId64 "/%s", route, order_id, key);
	it_req("GET", path, NULL, NULL, json ? json_hdr : NULL, r);
}

static void assert_location_at(struct it_loc at, const struct it_resp *r, const char *page,
                               int64_t order_id, const char *error)
{
	char want[256];

	snprintf(want, sizeof(want), STOREFRONT "/payment/%s?orderId=%" PRId64 "%s%s", page,
	         order_id, error ? "&error=" : "", error ? error : "");
	it_check_at(at, r, r->status == 302, "expected 302");
	it_assert_header_at(at, r, "Location", want);
}
#define assert_location(r, page, id, err) assert_location_at(IT_HERE, r, page, id, err)

static int64_t sql_i64_1(const char *sql, int64_t v)
{
	struct db_param p[] = {DB_I64(v)};
	return it_sql_i64(sql, p, 1);
}

static char *order_status(int64_t order_id)
{
	struct db_param p[] = {DB_I64(order_id)};
	return it_sql_str("SELECT status FROM orders WHERE order_id = ?", p, 1);
}

static void assert_order_status_at(struct it_loc at, int64_t order_id, const char *want)
{
	char *s = order_status(order_id);
	it_check_at(at, NULL, s && !strcmp(s, want), "order %" PRId64 ": status %s, expected %s",
	            order_id, s ? s : "(null)", want);
	free(s);
}
#define assert_order_status(id, want) assert_order_status_at(IT_HERE, id, want)

static int ledger_payments(int64_t order_id)
{
	char *tid = newest(order_id, "tid");
	int n = it_fp_ledger_count(tid, NULL);
	free(tid);
	return n;
}

/* ---- ready ----------------------------------------------------------------------------------- */

START_TEST(ready_answers_201_and_writes_a_ready_record)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	const cJSON *d;
	char *s, want[256];

	fixture(&f, false, false);
	ready(&f.u, f.order_id, NULL, &r);
	ck_assert_int_eq(r.status, 201);
	d = it_assert_wrapper(&r);
	it_assert_keys(d, "tid", "next_redirect_pc_url", "next_redirect_mobile_url", "createdAt",
	               NULL);
	it_assert_ts_recent("createdAt", cJSON_GetObjectItem(d, "createdAt"), 300);
	ck_assert(strstr(it_json_str(d, "next_redirect_pc_url"), "/info") != NULL);
	ck_assert(strstr(it_json_str(d, "next_redirect_mobile_url"), "/mInfo") != NULL);
	s = newest(f.order_id, "tid");
	ck_assert_str_eq(s, it_json_str(d, "tid"));
	free(s);
	s = newest(f.order_id, "status");
	ck_assert_str_eq(s, "READY");
	free(s);
	s = newest(f.order_id, "partner_order_id");
	snprintf(want, sizeof(want), "O%" PRId64 "-R1", f.order_id);
	ck_assert_str_eq(s, want);
	free(s);
	s = newest(f.order_id, "partner_user_id");
	snprintf(want, sizeof(want), "U%" PRId64, f.u.id);
	ck_assert_str_eq(s, want);
	free(s);
	s = newest(f.order_id, "cid");
	ck_assert_str_eq(s, IT_FP_ONETIME);
	free(s);
	s = newest(f.order_id, "payment_key");
	ck_assert_uint_eq(strlen(s), 32);
	ck_assert_uint_eq(
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 32);
	free(s);
	/* item name rule of §7.9 and the amount */
	s = newest(f.order_id, "item_name");
	snprintf(want, sizeof(want), "%s 그 외 1개", f.a.product);
	ck_assert_str_eq(s, want);
	free(s);
	s = newest(f.order_id, "amount");
	ck_assert_str_eq(s, "29800");
	free(s);
	it_resp_free(&r);
}
END_TEST

START_TEST(ready_again_supersedes_and_uses_the_subscription_cid)
{
	struct fixture f;
	char *s, want[256];

	fixture(&f, true, false);
	ready_ok(&f);
	ready_ok(&f);
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM payments WHERE order_id = ? AND status = "
	                           "'SUPERSEDED' AND ready_no = 1 AND closed_at IS NOT NULL",
	                           f.order_id),
	                 1);
	s = newest(f.order_id, "partner_order_id");
	snprintf(want, sizeof(want), "O%" PRId64 "-R2", f.order_id);
	ck_assert_str_eq(s, want);
	free(s);
	s = newest(f.order_id, "cid");
	ck_assert_str_eq(s, IT_FP_SUB);
	free(s);
}
END_TEST

START_TEST(ready_errors_404_403_409)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user other;
	struct fixture f;

	fixture(&f, false, false);
	ready(&f.u, 999999999999, NULL, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	it_resp_free(&r);
	ready(&f.u, 0, NULL, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	it_resp_free(&r);
	it_new_user(&other);
	ready(&other, f.order_id, NULL, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	it_resp_free(&r);
	ready(NULL, f.order_id, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	it_resp_free(&r);
	it_ord_set_status(f.order_id, "COMPLETE");
	ready(&f.u, f.order_id, NULL, &r);
	it_assert_error(&r, 409, "ORDER_NOT_PAYABLE");
	it_resp_free(&r);
	it_ord_set_status(f.order_id, "CANCELED");
	ready(&f.u, f.order_id, NULL, &r);
	it_assert_error(&r, 409, "ORDER_NOT_PAYABLE");
	it_resp_free(&r);
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM payments WHERE order_id = ?", f.order_id),
	                 0);
}
END_TEST

START_TEST(ready_idempotency_key_replays)
{
	struct it_resp r1 = IT_RESP_INIT, r2 = IT_RESP_INIT;
	char key[64];
	const char *hdr[2] = {key, NULL};
	struct fixture f;

	fixture(&f, false, false);
	snprintf(key, sizeof(key), "Idempotency-Key: pay-%" PRIu64, it_seq());
	ready(&f.u, f.order_id, hdr, &r1);
	ck_assert_int_eq(r1.status, 201);
	ready(&f.u, f.order_id, hdr, &r2);
	ck_assert_int_eq(r2.status, 201);
	ck_assert_str_eq(r1.body, r2.body);
	it_assert_header(&r2, "Idempotent-Replayed", "true");
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM payments WHERE order_id = ?", f.order_id),
	                 1);
	it_resp_free(&r1);
	it_resp_free(&r2);
}
END_TEST

START_TEST(ready_gateway_error_502_and_failed_record)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	char rule[256], *s;

	fixture(&f, false, false);
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"ready\",\"partner_order_id\":\"O%" PRId64
	         "-R1\"},\"action\":\"http500\",\"times\":1}",
	         f.order_id);
	it_fp_fault(rule);
	ready(&f.u, f.order_id, NULL, &r);
	it_assert_error(&r, 502, "PAYMENT_GATEWAY_ERROR");
	it_resp_free(&r);
	s = newest(f.order_id, "status");
	ck_assert_str_eq(s, "FAILED");
	free(s);
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"ready\",\"partner_order_id\":\"O%" PRId64
	         "-R2\"},\"action\":\"decline\",\"code\":-401,\"times\":1}",
	         f.order_id);
	it_fp_fault(rule);
	ready(&f.u, f.order_id, NULL, &r);
	it_assert_error(&r, 502, "PAYMENT_GATEWAY_ERROR");
	it_resp_free(&r);
	/* the order stays payable */
	ready_ok(&f);
	assert_order_status(f.order_id, "REQUEST");
}
END_TEST

START_TEST(gateway_calls_are_counted_in_metrics)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;

	fixture(&f, false, false);
	ready_ok(&f);
	it_get("/metrics", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(
	    strstr(r.body, "payment_gateway_requests_total{operation=\"ready\",outcome=\"OK\"}"));
	ck_assert_ptr_nonnull(
	    strstr(r.body, "payment_gateway_request_duration_seconds_count{operation=\"ready\"}"));
	it_resp_free(&r);
}
END_TEST

/* ---- approve --------------------------------------------------------------------------------- */

START_TEST(approve_json_mode_completes_a_subscription_order)
{
	struct it_resp r = IT_RESP_INIT, r2 = IT_RESP_INIT;
	struct fixture f;
	char token[64], want[128], *pid;
	const cJSON *d, *amount;
	int64_t sales_a, sales_b;

	fixture(&f, true, false);
	sales_a = sql_i64_1("SELECT sales FROM items WHERE item_id = ?", f.a.id);
	sales_b = sql_i64_1("SELECT sales FROM items WHERE item_id = ?", f.b.id);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	approve(f.order_id, token, true, &r);
	ck_assert_int_eq(r.status, 200);
	d = it_assert_wrapper(&r);
	it_assert_keys(d, "item_name", "item_code", "created_at", "approved_at", "payload",
	               "amount", "quantity", NULL);
	snprintf(want, sizeof(want), "%s 그 외 1개", f.a.product);
	ck_assert_str_eq(it_json_str(d, "item_name"), want);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "item_code")));
	it_assert_ts_recent("created_at", cJSON_GetObjectItem(d, "created_at"), 300);
	it_assert_ts_recent("approved_at", cJSON_GetObjectItem(d, "approved_at"), 300);
	pid = newest(f.order_id, "payment_id");
	snprintf(want, sizeof(want), "pay:%s", pid);
	free(pid);
	ck_assert_str_eq(it_json_str(d, "payload"), want);
	ck_assert_int_eq(it_json_int(d, "quantity"), 3);
	amount = cJSON_GetObjectItem(d, "amount");
	it_assert_keys(amount, "total", "tax_free", "vat", "discount", NULL);
	ck_assert_int_eq(it_json_int(amount, "total"), 29800);
	ck_assert_int_eq(it_json_int(amount, "tax_free"), 0);
	ck_assert_int_eq(it_json_int(amount, "vat"), 2709);

	/* one transaction's effects */
	assert_order_status(f.order_id, "COMPLETE");
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM orders WHERE order_id = ? AND paid_at IS "
	                           "NOT NULL",
	                           f.order_id),
	                 1);
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM payments WHERE order_id = ? AND status = "
	                           "'APPROVED' AND aid IS NOT NULL AND sid IS NOT NULL AND "
	                           "approved_total = 29800 AND approved_at IS NOT NULL AND "
	                           "approval_result IS NOT NULL",
	                           f.order_id),
	                 1);
	ck_assert_int_eq(sql_i64_1("SELECT sales FROM items WHERE item_id = ?", f.a.id),
	                 sales_a + 2);
	ck_assert_int_eq(sql_i64_1("SELECT sales FROM items WHERE item_id = ?", f.b.id),
	                 sales_b + 1);
	/* one subscription, for the subscription line only, with the §2.6 dates */
	ck_assert_int_eq(
	    sql_i64_1("SELECT COUNT(*) FROM subscriptions WHERE order_id = ?", f.order_id), 1);
	{
		struct db_param p[] = {DB_I64(f.order_id), DB_I64(f.a.id), DB_I64(f.u.id)};
		ck_assert_int_eq(
		    it_sql_i64(
		        "SELECT COUNT(*) FROM subscriptions s JOIN payments p ON "
		        "p.payment_id = s.payment_id WHERE s.order_id = ? AND s.item_id = ? "
		        "AND s.user_id = ? AND s.status = 'SUBSCRIPTION' AND s.quantity = 2 AND "
		        "s.period = 30 AND s.first_payment_date = " LOCAL_TODAY
		        " AND s.last_payment_date = s.first_payment_date AND "
		        "s.last_settled_cycle_date = s.first_payment_date AND "
		        "s.next_payment_date = s.first_payment_date + INTERVAL 30 DAY AND "
		        "s.cid = 'TCSUBSCRIP' AND s.sid = p.sid AND s.partner_user_id = "
		        "p.partner_user_id AND s.receiver_real_name = '" IT_ORD_NAME
		        "' AND s.receiver_city = '" IT_ORD_CITY "' AND s.retry_state = 'NONE'",
		        p, 3),
		    1);
		ck_assert_int_eq(
		    it_sql_i64(
		        "SELECT COUNT(*) FROM order_items oi JOIN subscriptions s ON "
		        "s.subscription_id = oi.subscription_id AND s.order_item_id = "
		        "oi.order_item_id WHERE oi.order_id = ? AND oi.item_id = ? AND ? > 0",
		        p, 3),
		    1);
		ck_assert_int_eq(
		    it_sql_i64(
		        "SELECT COUNT(*) FROM subscription_cycles c JOIN subscriptions s ON "
		        "s.subscription_id = c.subscription_id WHERE s.order_id = ? AND "
		        "s.item_id = ? AND ? > 0 AND c.status = 'PAID' AND c.cycle_date = "
		        "s.first_payment_date AND c.order_id = s.order_id AND c.amount = 19800 "
		        "AND c.paid_at IS NOT NULL",
		        p, 3),
		    1);
	}

	/* a replayed redirect answers the stored result, no second approve */
	approve(f.order_id, token, true, &r2);
	ck_assert_int_eq(r2.status, 200);
	{
		char *a = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.json, "data"));
		char *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(r2.json, "data"));
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	it_resp_free(&r2);
	approve(f.order_id, "forged", false, &r2);
	assert_location(&r2, "success", f.order_id, NULL);
	it_resp_free(&r2);
	ck_assert_int_eq(ledger_payments(f.order_id), 1);
	ck_assert_int_eq(
	    sql_i64_1("SELECT COUNT(*) FROM subscriptions WHERE order_id = ?", f.order_id), 1);
	it_resp_free(&r);
}
END_TEST

START_TEST(approve_redirect_mode_and_cart_lines_removed)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	struct it_ord_item other;
	char token[64];

	fixture(&f, true, true);
	it_ord_item_new(&other, 5000, 0, 0);
	/* the ordered items are in the carts, plus one item that stays */
	it_cart_add_sub(&f.u, f.u.subscription_cart_id, f.a.id, 1, 30);
	it_cart_add_normal(&f.u, f.u.normal_cart_id, f.b.id, 1);
	it_cart_add_normal(&f.u, f.u.normal_cart_id, other.id, 1);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	approve(f.order_id, token, false, &r);
	assert_location(&r, "success", f.order_id, NULL);
	it_resp_free(&r);
	assert_order_status(f.order_id, "COMPLETE");
	{
		struct db_param p[] = {DB_I64(f.u.id)};
		ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM cart_items ci JOIN carts c ON "
		                            "c.cart_id = ci.cart_id WHERE c.user_id = ?",
		                            p, 1),
		                 1);
	}
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM cart_items WHERE item_id = ?", other.id),
	                 1);
}
END_TEST

START_TEST(approve_errors)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;

	fixture(&f, false, false);
	/* unknown order first, even without pg_token */
	approve(999999999999, NULL, true, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	it_resp_free(&r);
	approve(999999999999, "x", false, &r);
	assert_location(&r, "fail", 999999999999, "ORDER_NOT_FOUND");
	it_resp_free(&r);
	approve(f.order_id, NULL, true, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "pg_token", NULL, "필수 값입니다");
	it_resp_free(&r);
	/* never readied */
	approve(f.order_id, "x", true, &r);
	it_assert_error(&r, 404, "PAYMENT_NOT_FOUND");
	it_resp_free(&r);
	approve(f.order_id, "x", false, &r);
	assert_location(&r, "fail", f.order_id, "PAYMENT_NOT_FOUND");
	it_resp_free(&r);
	it_ord_set_status(f.order_id, "CANCELED");
	approve(f.order_id, "x", true, &r);
	it_assert_error(&r, 409, "ORDER_NOT_PAYABLE");
	it_resp_free(&r);
}
END_TEST

START_TEST(approve_forged_token_is_504_and_the_payment_stays_payable)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	char token[64], *s;

	fixture(&f, false, false);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	/* -708: the lookup shows AUTH_PASSWORD (in progress) */
	approve(f.order_id, "forged-token", true, &r);
	it_assert_error(&r, 504, "PAYMENT_GATEWAY_TIMEOUT");
	it_resp_free(&r);
	s = newest(f.order_id, "status");
	ck_assert_str_eq(s, "READY");
	free(s);
	assert_order_status(f.order_id, "REQUEST");
	approve(f.order_id, token, true, &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
	assert_order_status(f.order_id, "COMPLETE");
	ck_assert_int_eq(ledger_payments(f.order_id), 1);
}
END_TEST

START_TEST(approve_declined_is_502_and_the_order_can_be_paid_again)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	char token[64], rule[256], *tid, *s;

	fixture(&f, false, false);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	tid = newest(f.order_id, "tid");
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"approve\",\"tid\":\"%s\"},\"action\":\"decline\","
	         "\"code\":-780,\"times\":1}",
	         tid);
	it_fp_fault(rule);
	approve(f.order_id, token, true, &r);
	it_assert_error(&r, 502, "PAYMENT_GATEWAY_ERROR");
	it_resp_free(&r);
	s = newest(f.order_id, "status");
	ck_assert_str_eq(s, "FAILED");
	free(s);
	assert_order_status(f.order_id, "REQUEST");
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 0);
	free(tid);
	/* a new ready and approve succeed */
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	approve(f.order_id, token, false, &r);
	assert_location(&r, "success", f.order_id, NULL);
	it_resp_free(&r);
	assert_order_status(f.order_id, "COMPLETE");
}
END_TEST

START_TEST(approve_applied_with_an_error_answer_completes_after_lookup)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	char token[64], rule[256], *tid;

	fixture(&f, false, false);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	tid = newest(f.order_id, "tid");
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"approve\",\"tid\":\"%s\"},\"action\":"
	         "\"http500_applied\",\"times\":1}",
	         tid);
	it_fp_fault(rule);
	approve(f.order_id, token, true, &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
	assert_order_status(f.order_id, "COMPLETE");
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 1);
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM payments WHERE order_id = ? AND status = "
	                           "'APPROVED' AND aid IS NOT NULL",
	                           f.order_id),
	                 1);
	free(tid);
}
END_TEST

START_TEST(approve_lookup_failing_is_504_and_a_repeat_finishes)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	char token[64], rule[256], *tid, *s;

	fixture(&f, false, false);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	tid = newest(f.order_id, "tid");
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"approve\",\"tid\":\"%s\"},\"action\":"
	         "\"http500_applied\",\"times\":1}",
	         tid);
	it_fp_fault(rule);
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"order\",\"tid\":\"%s\"},\"action\":\"http500\","
	         "\"times\":1}",
	         tid);
	it_fp_fault(rule);
	approve(f.order_id, token, true, &r);
	it_assert_error(&r, 504, "PAYMENT_GATEWAY_TIMEOUT");
	it_resp_free(&r);
	assert_order_status(f.order_id, "REQUEST");
	s = newest(f.order_id, "status");
	ck_assert_str_eq(s, "READY");
	free(s);
	/* the repeated redirect: -702 (already paid) -> lookup SUCCESS_PAYMENT -> complete */
	approve(f.order_id, token, true, &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
	assert_order_status(f.order_id, "COMPLETE");
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 1);
	free(tid);
}
END_TEST

struct conc {
	int64_t order_id;
	char token[64];
	long status;
	char body[2048];
};

static void *conc_approve(void *arg)
{
	struct conc *c = arg;
	struct it_resp r = IT_RESP_INIT;
	char path[256];

	snprintf(path, sizeof(path), "/api/payments/approve/%" PRId64 "?pg_token=%s", c->order_id,
	         c->token);
	if (it_http("GET", path, json_hdr, NULL, 0, &r) == 0) {
		c->status = r.status;
		char *text =
		    r.json ? cJSON_PrintUnformatted(cJSON_GetObjectItem(r.json, "data")) : NULL;
		if (text)
			snprintf(c->body, sizeof(c->body), "%s", text);
		free(text);
	}
	it_resp_free(&r);
	return NULL;
}

START_TEST(concurrent_approves_make_one_gateway_approve)
{
	struct conc c[6];
	pthread_t th[6];
	struct fixture f;
	char token[64], rule[256], *tid;

	fixture(&f, true, false);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	tid = newest(f.order_id, "tid");
	/* slow the approve so that the duplicates overlap it */
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"approve\",\"tid\":\"%s\"},\"action\":\"latency\","
	         "\"latency_ms\":500}",
	         tid);
	it_fp_fault(rule);
	for (int i = 0; i < 6; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].order_id = f.order_id;
		snprintf(c[i].token, sizeof(c[i].token), "%s", token);
		ck_assert_int_eq(pthread_create(&th[i], NULL, conc_approve, &c[i]), 0);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(c[i].status, 200);
		ck_assert_str_eq(c[i].body, c[0].body);
	}
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 1);
	ck_assert_int_eq(
	    sql_i64_1("SELECT COUNT(*) FROM subscriptions WHERE order_id = ?", f.order_id), 1);
	{
		char counters_q[128];
		struct it_resp r = IT_RESP_INIT;
		snprintf(counters_q, sizeof(counters_q), "/tid/%s", tid);
		it_fp_ctl("GET", counters_q, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		it_resp_free(&r);
	}
	free(tid);
}
END_TEST

struct conc_ready {
	const struct fixture *f;
	long status;
};

static void *conc_ready(void *arg)
{
	struct conc_ready *c = arg;
	struct it_resp r = IT_RESP_INIT;

	ready(&c->f->u, c->f->order_id, NULL, &r);
	c->status = r.status;
	it_resp_free(&r);
	return NULL;
}

/*
 * Readies of different orders at the same moment all succeed: superseding a previous record
 * must not lock the index gap where other orders' payments are inserted (it deadlocked).
 */
START_TEST(concurrent_readies_of_different_orders_all_succeed)
{
	enum { N = 24 };
	static struct fixture f[N];
	struct conc_ready c[N];
	pthread_t th[N];

	for (int i = 0; i < N; i++)
		fixture(&f[i], i % 2 == 0, false);
	for (int i = 0; i < N; i++) {
		c[i] = (struct conc_ready){&f[i], 0};
		ck_assert_int_eq(pthread_create(&th[i], NULL, conc_ready, &c[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++)
		ck_assert_msg(c[i].status == 201, "ready %d of %d answered %ld", i + 1, N,
			      c[i].status);
}
END_TEST

/* ---- cancel and fail ------------------------------------------------------------------------- */

START_TEST(cancel_redirect_cancels_the_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f, g;
	const cJSON *d;
	char *key, *s;

	fixture(&f, false, false);
	ready_ok(&f);
	click(f.order_id, "cancel", NULL, 0);
	key = newest(f.order_id, "payment_key");
	redirect_route("cancel", f.order_id, key, true, &r);
	ck_assert_int_eq(r.status, 200);
	d = it_assert_wrapper(&r);
	it_assert_keys(d, "orderId", "orderStatus", NULL);
	ck_assert_int_eq(it_json_int(d, "orderId"), f.order_id);
	ck_assert_str_eq(it_json_str(d, "orderStatus"), "CANCELED");
	it_resp_free(&r);
	s = newest(f.order_id, "status");
	ck_assert_str_eq(s, "CANCELED");
	free(s);
	assert_order_status(f.order_id, "CANCELED");
	/* a repeat changes nothing */
	redirect_route("cancel", f.order_id, key, false, &r);
	assert_location(&r, "cancel", f.order_id, NULL);
	it_resp_free(&r);
	free(key);

	/* redirect mode */
	fixture(&g, false, false);
	ready_ok(&g);
	click(g.order_id, "cancel", NULL, 0);
	key = newest(g.order_id, "payment_key");
	redirect_route("cancel", g.order_id, key, false, &r);
	assert_location(&r, "cancel", g.order_id, NULL);
	it_resp_free(&r);
	assert_order_status(g.order_id, "CANCELED");
	free(key);
}
END_TEST

START_TEST(fail_redirect_keeps_the_order_payable)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	const cJSON *d;
	char *key, *s;

	fixture(&f, false, false);
	ready_ok(&f);
	click(f.order_id, "fail", NULL, 0);
	key = newest(f.order_id, "payment_key");
	redirect_route("fail", f.order_id, key, true, &r);
	ck_assert_int_eq(r.status, 200);
	d = it_assert_wrapper(&r);
	it_assert_keys(d, "orderId", "orderStatus", NULL);
	ck_assert_str_eq(it_json_str(d, "orderStatus"), "REQUEST");
	it_resp_free(&r);
	s = newest(f.order_id, "status");
	ck_assert_str_eq(s, "FAILED");
	free(s);
	redirect_route("fail", f.order_id, key, false, &r);
	assert_location(&r, "fail", f.order_id, NULL);
	it_resp_free(&r);
	free(key);
	assert_order_status(f.order_id, "REQUEST");
	ready_ok(&f);
}
END_TEST

START_TEST(cancel_after_payment_never_overwrites_it)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	char token[64], *key;
	const cJSON *d;

	fixture(&f, false, false);
	ready_ok(&f);
	key = newest(f.order_id, "payment_key");
	click(f.order_id, "approve", token, sizeof(token));
	approve(f.order_id, token, true, &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
	redirect_route("cancel", f.order_id, key, true, &r);
	ck_assert_int_eq(r.status, 200);
	d = it_assert_wrapper(&r);
	ck_assert_str_eq(it_json_str(d, "orderStatus"), "COMPLETE");
	it_resp_free(&r);
	redirect_route("fail", f.order_id, key, false, &r);
	assert_location(&r, "success", f.order_id, NULL);
	it_resp_free(&r);
	assert_order_status(f.order_id, "COMPLETE");
	free(key);
}
END_TEST

START_TEST(cancel_and_fail_errors)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f, g;
	char *key;

	fixture(&f, false, false);
	fixture(&g, false, false);
	ready_ok(&f);
	ready_ok(&g);
	key = newest(g.order_id, "payment_key");
	redirect_route("cancel", 999999999999, key, true, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	it_resp_free(&r);
	/* g's key does not belong to f */
	redirect_route("cancel", f.order_id, key, true, &r);
	it_assert_error(&r, 404, "PAYMENT_NOT_FOUND");
	it_resp_free(&r);
	redirect_route("fail", f.order_id, key, false, &r);
	assert_location(&r, "fail", f.order_id, "PAYMENT_NOT_FOUND");
	it_resp_free(&r);
	redirect_route("fail", f.order_id, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true, &r);
	it_assert_error(&r, 404, "PAYMENT_NOT_FOUND");
	it_resp_free(&r);
	assert_order_status(f.order_id, "REQUEST");
	free(key);
}
END_TEST

/* ---- lookup ---------------------------------------------------------------------------------- */

START_TEST(lookup_answers_the_gateway_view)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	struct it_user other;
	char path[128], token[64], want[64], *tid;
	const cJSON *d, *list, *e;

	fixture(&f, false, false);
	snprintf(path, sizeof(path), "/api/payments/lookup/%" PRId64, f.order_id);
	it_get(path, f.u.access, &r);
	it_assert_error(&r, 404, "PAYMENT_NOT_FOUND");
	it_resp_free(&r);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	approve(f.order_id, token, true, &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
	it_get(path, f.u.access, &r);
	ck_assert_int_eq(r.status, 200);
	d = it_assert_wrapper(&r);
	it_assert_keys(d, "tid", "cid", "status", "partner_order_id", "partner_user_id",
	               "payment_method_type", "item_name", "quantity", "approvedCancelAmount",
	               "canceledAmount", "cancelAvailableAmount", "created_at", "approved_at",
	               "payment_action_details", NULL);
	tid = newest(f.order_id, "tid");
	ck_assert_str_eq(it_json_str(d, "tid"), tid);
	free(tid);
	ck_assert_str_eq(it_json_str(d, "cid"), IT_FP_ONETIME);
	ck_assert_str_eq(it_json_str(d, "status"), "SUCCESS_PAYMENT");
	snprintf(want, sizeof(want), "O%" PRId64 "-R1", f.order_id);
	ck_assert_str_eq(it_json_str(d, "partner_order_id"), want);
	snprintf(want, sizeof(want), "U%" PRId64, f.u.id);
	ck_assert_str_eq(it_json_str(d, "partner_user_id"), want);
	ck_assert_int_eq(it_json_int(d, "quantity"), 3);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "approvedCancelAmount")));
	it_assert_keys(cJSON_GetObjectItem(d, "canceledAmount"), "total", "taxFree", "vat", "point",
	               "discount", "green_deposit", NULL);
	it_assert_keys(cJSON_GetObjectItem(d, "cancelAvailableAmount"), "total", "taxFree", "vat",
	               "point", "discount", "green_deposit", NULL);
	ck_assert_int_eq(it_json_int(cJSON_GetObjectItem(d, "cancelAvailableAmount"), "total"),
	                 29800);
	it_assert_ts_recent("approved_at", cJSON_GetObjectItem(d, "approved_at"), 300);
	list = cJSON_GetObjectItem(d, "payment_action_details");
	ck_assert(cJSON_IsArray(list));
	ck_assert_int_eq(cJSON_GetArraySize(list), 1);
	e = cJSON_GetArrayItem(list, 0);
	it_assert_keys(e, "aid", "payment_action_type", "payment_method_type", "amount",
	               "point_amount", "discount_amount", "approved_at", "green_deposit", NULL);
	ck_assert_str_eq(it_json_str(e, "payment_action_type"), "PAYMENT");
	ck_assert_int_eq(it_json_int(e, "amount"), 29800);
	it_resp_free(&r);

	it_new_user(&other);
	it_get(path, other.access, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	it_resp_free(&r);
	it_get("/api/payments/lookup/999999999999", f.u.access, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(lookup_gateway_error_is_502)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	char path[128], rule[256], *tid;

	fixture(&f, false, false);
	ready_ok(&f);
	tid = newest(f.order_id, "tid");
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"order\",\"tid\":\"%s\"},\"action\":\"decline\","
	         "\"code\":-401,\"times\":1}",
	         tid);
	it_fp_fault(rule);
	snprintf(path, sizeof(path), "/api/payments/lookup/%" PRId64, f.order_id);
	it_get(path, f.u.access, &r);
	it_assert_error(&r, 502, "PAYMENT_GATEWAY_ERROR");
	it_resp_free(&r);
	/* the newest record is READY: the gateway says READY or OPEN_PAYMENT */
	it_get(path, f.u.access, &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
	free(tid);
}
END_TEST

/* ---- timeouts (a second instance with a 1 s gateway timeout) -------------------------------- */

static void second_req(int port, const char *method, const char *path, const struct it_user *u,
                       bool json, struct it_resp *r)
{
	char auth[2100];
	const char *hdr[3] = {NULL, NULL, NULL};
	size_t n = 0;

	if (u) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", u->access);
		hdr[n++] = auth;
	}
	if (json)
		hdr[n++] = ACCEPT_JSON;
	ck_assert_int_eq(it_http_to(port, 15000, method, path, hdr, NULL, 0, r), 0);
}

START_TEST(gateway_timeouts_are_504)
{
	struct it_resp r = IT_RESP_INIT;
	char kv_port[64], path[128], rule[256], token[64], *tid, *s;
	const char *env[] = {kv_port, "PV_KAKAOPAY_TIMEOUT_MS=1000", NULL};
	int port = it_api_port() + 3, st;
	struct fixture f;
	pid_t pid;

	snprintf(kv_port, sizeof(kv_port), "PV_API_PORT=%d", port);
	pid = it_api_spawn(NULL, env, port);
	ck_assert_int_gt(pid, 0);
	fixture(&f, false, false);

	/* ready: no answer in time -> 504, record FAILED, the order still payable */
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"ready\",\"partner_order_id\":\"O%" PRId64
	         "-R1\"},\"action\":\"hang\",\"times\":1}",
	         f.order_id);
	it_fp_fault(rule);
	snprintf(path, sizeof(path), "/api/payments/%" PRId64, f.order_id);
	second_req(port, "POST", path, &f.u, false, &r);
	it_assert_error(&r, 504, "PAYMENT_GATEWAY_TIMEOUT");
	it_resp_free(&r);
	s = newest(f.order_id, "status");
	ck_assert_str_eq(s, "FAILED");
	free(s);
	assert_order_status(f.order_id, "REQUEST");

	/* approve applied, then no answer: the lookup proves it paid -> 200 */
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	tid = newest(f.order_id, "tid");
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"approve\",\"tid\":\"%s\"},\"action\":"
	         "\"hang_applied\",\"times\":1}",
	         tid);
	it_fp_fault(rule);
	snprintf(path, sizeof(path), "/api/payments/approve/%" PRId64 "?pg_token=%s", f.order_id,
	         token);
	second_req(port, "GET", path, NULL, true, &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
	assert_order_status(f.order_id, "COMPLETE");
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 1);

	/* lookup: no answer in time -> 504 */
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"order\",\"tid\":\"%s\"},\"action\":\"hang\","
	         "\"times\":1}",
	         tid);
	it_fp_fault(rule);
	snprintf(path, sizeof(path), "/api/payments/lookup/%" PRId64, f.order_id);
	second_req(port, "GET", path, &f.u, false, &r);
	it_assert_error(&r, 504, "PAYMENT_GATEWAY_TIMEOUT");
	it_resp_free(&r);
	free(tid);
	ck_assert_int_eq(it_proc_stop(pid, 10000, &st), 0);
}
END_TEST

START_TEST(approve_hang_not_applied_is_504_and_nothing_is_charged)
{
	struct it_resp r = IT_RESP_INIT;
	char kv_port[64], path[128], rule[256], token[64], *tid, *s;
	const char *env[] = {kv_port, "PV_KAKAOPAY_TIMEOUT_MS=1000", NULL};
	int port = it_api_port() + 3, st;
	struct fixture f;
	pid_t pid;

	snprintf(kv_port, sizeof(kv_port), "PV_API_PORT=%d", port);
	pid = it_api_spawn(NULL, env, port);
	ck_assert_int_gt(pid, 0);
	fixture(&f, false, false);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	tid = newest(f.order_id, "tid");
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"approve\",\"tid\":\"%s\"},\"action\":"
	         "\"hang\",\"times\":1}",
	         tid);
	it_fp_fault(rule);
	snprintf(path, sizeof(path), "/api/payments/approve/%" PRId64 "?pg_token=%s", f.order_id,
	         token);
	second_req(port, "GET", path, NULL, false, &r);
	assert_location(&r, "fail", f.order_id, "PAYMENT_GATEWAY_TIMEOUT");
	it_resp_free(&r);
	/* still pending at the gateway (AUTH_PASSWORD): the record is READY again, nothing paid */
	s = newest(f.order_id, "status");
	ck_assert_str_eq(s, "READY");
	free(s);
	assert_order_status(f.order_id, "REQUEST");
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 0);
	free(tid);
	ck_assert_int_eq(it_proc_stop(pid, 10000, &st), 0);
}
END_TEST

Suite *payments_suite(void)
{
	Suite *s = suite_create("payments");
	TCase *tc = tcase_create("payments");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ready_answers_201_and_writes_a_ready_record);
	tcase_add_test(tc, ready_again_supersedes_and_uses_the_subscription_cid);
	tcase_add_test(tc, ready_errors_404_403_409);
	tcase_add_test(tc, ready_idempotency_key_replays);
	tcase_add_test(tc, ready_gateway_error_502_and_failed_record);
	tcase_add_test(tc, gateway_calls_are_counted_in_metrics);
	tcase_add_test(tc, approve_json_mode_completes_a_subscription_order);
	tcase_add_test(tc, approve_redirect_mode_and_cart_lines_removed);
	tcase_add_test(tc, approve_errors);
	tcase_add_test(tc, approve_forged_token_is_504_and_the_payment_stays_payable);
	tcase_add_test(tc, approve_declined_is_502_and_the_order_can_be_paid_again);
	tcase_add_test(tc, approve_applied_with_an_error_answer_completes_after_lookup);
	tcase_add_test(tc, approve_lookup_failing_is_504_and_a_repeat_finishes);
	tcase_add_test(tc, concurrent_approves_make_one_gateway_approve);
	tcase_add_test(tc, concurrent_readies_of_different_orders_all_succeed);
	tcase_add_test(tc, cancel_redirect_cancels_the_order);
	tcase_add_test(tc, fail_redirect_keeps_the_order_payable);
	tcase_add_test(tc, cancel_after_payment_never_overwrites_it);
	tcase_add_test(tc, cancel_and_fail_errors);
	tcase_add_test(tc, lookup_answers_the_gateway_view);
	tcase_add_test(tc, lookup_gateway_error_is_502);
	tcase_add_test(tc, gateway_timeouts_are_504);
	tcase_add_test(tc, approve_hang_not_applied_is_504_and_nothing_is_charged);
	suite_add_tcase(s, tc);
	return s;
}
