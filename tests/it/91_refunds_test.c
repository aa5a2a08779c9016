/*
 * 91_refunds: POST /api/payments/refund/{orderId} (API.md §7.5) end to end against the fake
 * gateway (KAKAOPAY.md §4): full and partial refunds (order status, refundedAmount, the
 * fake's CANCEL ledger), every error row, a declined cancel (502, nothing changed), an
 * applied cancel answered with an error (201 after the lookup), undecidable cancels (202,
 * queued in api_event) that this process then forwards with core's outbox_forward over its
 * own database handle and a kakaopay client pointed at the fake (refund confirmed once), and
 * the SID_INACTIVATE / NOTIFY_* events, back-off and the move to outbox_failed.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outbox.h"
#include "core/store_outbox.h"
#include "external/kakaopay.h"
#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

#define ACCEPT_JSON "Accept: application/json"

static const char *const json_hdr[] = {ACCEPT_JSON, NULL};

/* ---- helpers -------------------------------------------------------------------------------- */

static int64_t sql_i64_1(const char *sql, int64_t v)
{
	struct db_param p[] = {DB_I64(v)};
	return it_sql_i64(sql, p, 1);
}

static char *sql_str_1(const char *sql, int64_t v)
{
	struct db_param p[] = {DB_I64(v)};
	return it_sql_str(sql, p, 1);
}

static void assert_str_sql_at(struct it_loc at, const char *sql, int64_t v, const char *want)
{
	char *s = sql_str_1(sql, v);
	it_check_at(at, NULL, s && !strcmp(s, want), "%s [%" PRId64 "]: %s, expected %s", sql, v,
	            s ? s : "(null)", want);
	free(s);
}
#define assert_order_status(id, want)                                                              \
	assert_str_sql_at(IT_HERE, "SELECT status FROM orders WHERE order_id = ?", id, want)

static char *order_tid(int64_t order_id)
{
	return sql_str_1("SELECT tid FROM payments WHERE order_id = ? AND status = 'APPROVED'",
	                 order_id);
}

/* An order of one fresh item at price x1, placed by u (created here) and left REQUEST. */
static int64_t new_order_at(struct it_loc at, struct it_user *u, int64_t price)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item item;
	struct it_ord_line line;
	int64_t id;

	it_new_user_at(at, u);
	it_ord_item_new_at(at, &item, price, 0, 0);
	line = (struct it_ord_line){item.id, 1, false, 0};
	id = it_ord_place_at(at, u, &line, 1, &r);
	it_resp_free(&r);
	return id;
}

/* A new user's order of price, paid end to end: ready, the fake's approve button, approve. */
static int64_t paid_order_at(struct it_loc at, struct it_user *u, int64_t price)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	char path[256], *tid;
	int64_t order_id = new_order_at(at, u, price);

	snprintf(path, sizeof(path), "/api/payments/%" PRId64, order_id);
	it_req_at(at, "POST", path, u->access, NULL, NULL, &r);
	it_check_at(at, &r, r.status == 201, "ready: expected 201");
	tid = sql_str_1(
	    "SELECT tid FROM payments WHERE order_id = ? ORDER BY ready_no DESC LIMIT 1", order_id);
	memset(&p, 0, sizeof(p));
	snprintf(p.tid, sizeof(p.tid), "%s", tid);
	free(tid);
	it_fp_click_at(at, &p, "approve", NULL, 0);
	snprintf(path, sizeof(path), "/api/payments/approve/%" PRId64 "?pg_token=%s", order_id,
	         p.token);
	it_req_at(at, "GET", path, NULL, NULL, json_hdr, &r);
	it_check_at(at, &r, r.status == 200, "approve: expected 200");
	it_resp_free(&r);
	return order_id;
}
#define paid_order(u, price) paid_order_at(IT_HERE, u, price)

static void refund_body(const struct it_user *u, int64_t order_id, const char *body,
                        struct it_resp *r)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/payments/refund/%" PRId64, order_id);
	it_req("POST", path, u ? u->access : NULL, body, NULL, r);
}

static void refund(const struct it_user *u, int64_t order_id, int64_t amount, struct it_resp *r)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"cancelAmount\":%" PRId64 "}", amount);
	refund_body(u, order_id, body, r);
}

/* 201/202 with {"data":want,"createTime":...}. */
static void assert_data_at(struct it_loc at, const struct it_resp *r, long status, const char *want)
{
	const cJSON *d;

	it_check_at(at, r, r->status == status, "expected %ld", status);
	d = it_assert_wrapper_at(at, r);
	it_check_at(at, r, cJSON_IsString(d) && !strcmp(d->valuestring, want), "data: expected %s",
	            want);
}
#define assert_data(r, st, want) assert_data_at(IT_HERE, r, st, want)

static void refund_ok_at(struct it_loc at, const struct it_user *u, int64_t order_id,
                         int64_t amount)
{
	struct it_resp r = IT_RESP_INIT;

	refund(u, order_id, amount, &r);
	assert_data_at(at, &r, 201, "complete");
	it_resp_free(&r);
}
#define refund_ok(u, id, amount) refund_ok_at(IT_HERE, u, id, amount)

/* GET /api/orders/{id}: orderStatus and refundedAmount. */
static void assert_order_view_at(struct it_loc at, const struct it_user *u, int64_t order_id,
                                 const char *status, int64_t refunded)
{
	struct it_resp r = IT_RESP_INIT;
	char path[128];
	const cJSON *d;

	it_ord_path(path, sizeof(path), order_id);
	it_req_at(at, "GET", path, u->access, NULL, NULL, &r);
	it_check_at(at, &r, r.status == 200, "GET order: expected 200");
	d = it_assert_wrapper_at(at, &r);
	it_check_at(at, &r, !strcmp(it_json_str_at(at, d, "orderStatus"), status),
	            "orderStatus: expected %s", status);
	it_check_at(at, &r, it_json_int_at(at, d, "refundedAmount") == refunded,
	            "refundedAmount: expected %" PRId64, refunded);
	it_resp_free(&r);
}
#define assert_order_view(u, id, st, amt) assert_order_view_at(IT_HERE, u, id, st, amt)

/* The fake's CANCEL ledger entries of tid: their count and the sum of their amounts. */
static int ledger_cancels(const char *tid, int64_t *sum)
{
	cJSON *all = it_fp_ledger(NULL), *e;
	int n = 0;

	*sum = 0;
	cJSON_ArrayForEach(e, all)
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "tid");
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "kind");
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "amount");
		if (cJSON_IsString(t) && !strcmp(t->valuestring, tid) && cJSON_IsString(k) &&
		    !strcmp(k->valuestring, "CANCEL")) {
			n++;
			*sum += (int64_t)(a->valuedouble < 0 ? -a->valuedouble : a->valuedouble);
		}
	}
	cJSON_Delete(all);
	return n;
}

static void fault_tid(const char *endpoint, const char *tid, const char *action, const char *extra)
{
	char rule[512];

	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"%s\",\"tid\":\"%s\"},\"action\":\"%s\",\"times\":1%s}",
	         endpoint, tid, action, extra ? extra : "");
	it_fp_fault(rule);
}

/* A blocking kakaopay client on the fake, as core's gateway. */
struct gw {
	struct kakaopay_client *cl;
	struct pay_gateway gw;
};

static void gw_open(struct gw *g)
{
	struct kakaopay_config c = {0};
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", it_fp_port());
	c.base_url = url;
	c.secret_key = IT_FP_KEY;
	c.timeout_ms = IT_FP_TIMEOUT_MS;
	ck_assert_int_eq(kakaopay_client_new(&c, &g->cl), 0);
	kakaopay_gateway_init(&g->gw, g->cl);
}

static void forward(int64_t now, struct outbox_stats *st)
{
	struct gw g;

	gw_open(&g);
	ck_assert_int_eq(outbox_forward(it_db(), &g.gw, now, OUTBOX_BATCH_MAX, 0, st), 0);
	kakaopay_client_free(g.cl);
}

/* ---- refunds -------------------------------------------------------------------------------- */

START_TEST(partial_then_full_refund)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	int64_t id = paid_order(&u, 10000), sum;
	char *tid = order_tid(id);

	refund_ok(&u, id, 3000);
	assert_order_status(id, "PARTIAL_REFUND");
	assert_order_view(&u, id, "PARTIAL_REFUND", 3000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);
	ck_assert_int_eq(sum, 3000);
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM refunds WHERE order_id = ? AND status = "
	                           "'CONFIRMED' AND confirmed_at IS NOT NULL AND aid IS NOT NULL",
	                           id),
	                 1);

	/* with cancelTaxFreeAmount and cancelAvailableAmount (ignored) */
	refund_body(&u, id,
	            "{\"cancelAmount\":7000,\"cancelTaxFreeAmount\":0,\"cancelAvailableAmount\":1}",
	            &r);
	assert_data(&r, 201, "complete");
	assert_order_status(id, "REFUND");
	assert_order_view(&u, id, "REFUND", 10000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 2);
	ck_assert_int_eq(sum, 10000);

	/* nothing left: the order is no longer refundable */
	refund(&u, id, 1, &r);
	it_assert_error(&r, 409, "ORDER_NOT_REFUNDABLE");
	ck_assert_int_eq(ledger_cancels(tid, &sum), 2);
	it_resp_free(&r);
	free(tid);
}
END_TEST

START_TEST(full_refund_at_once)
{
	struct it_user u;
	int64_t id = paid_order(&u, 8000), sum;
	char *tid = order_tid(id);

	refund_ok(&u, id, 8000);
	assert_order_view(&u, id, "REFUND", 8000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);
	ck_assert_int_eq(sum, 8000);
	free(tid);
}
END_TEST

START_TEST(amount_above_remaining_is_409)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	int64_t id = paid_order(&u, 10000), sum;
	char *tid = order_tid(id);

	refund(&u, id, 10001, &r);
	it_assert_error(&r, 409, "REFUND_AMOUNT_EXCEEDED");
	refund_ok(&u, id, 4000);
	refund(&u, id, 6001, &r);
	it_assert_error(&r, 409, "REFUND_AMOUNT_EXCEEDED");
	assert_order_view(&u, id, "PARTIAL_REFUND", 4000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);
	it_resp_free(&r);
	free(tid);
}
END_TEST

START_TEST(not_refundable_states_are_409)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	int64_t id = new_order_at(IT_HERE, &u, 5000);

	refund(&u, id, 100, &r); /* REQUEST: never paid */
	it_assert_error(&r, 409, "ORDER_NOT_REFUNDABLE");
	{
		struct db_param p[] = {DB_I64(id)};
		it_sql_exec("UPDATE orders SET status = 'CANCELED', canceled_at = UTC_TIMESTAMP() "
		            "WHERE order_id = ?",
		            p, 1);
	}
	refund(&u, id, 100, &r);
	it_assert_error(&r, 409, "ORDER_NOT_REFUNDABLE");
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM refunds WHERE order_id = ?", id), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(not_found_forbidden_and_admin)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, other, admin;
	int64_t id = paid_order(&u, 6000);

	it_new_user(&other);
	refund(&other, 999999999, 100, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	refund(&other, 0, 100, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	refund(&other, id, 100, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	refund(NULL, id, 100, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM refunds WHERE order_id = ?", id), 0);

	it_new_admin(&admin);
	refund_ok(&admin, id, 1000);
	assert_order_view(&u, id, "PARTIAL_REFUND", 1000);
	ck_assert_int_eq(
	    sql_i64_1("SELECT requested_by_user_id FROM refunds WHERE order_id = ?", id), admin.id);
	it_resp_free(&r);
}
END_TEST

START_TEST(validation_errors_are_400)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	int64_t id = paid_order(&u, 6000);

	refund_body(&u, id, "{}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "cancelAmount", "", "필수 값입니다");

	refund_body(&u, id, "{\"cancelAmount\":0,\"cancelTaxFreeAmount\":-1}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "cancelAmount", "0", "1 이상이어야 합니다");
	it_assert_field_error(&r, 1, "cancelTaxFreeAmount", "-1", "0 이상이어야 합니다");

	refund_body(&u, id, "{\"cancelAmount\":100,\"cancelTaxFreeAmount\":101}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "cancelTaxFreeAmount", "101", "환불 금액 이하여야 합니다");

	/* validation comes before existence */
	refund_body(&u, 999999999, "{\"cancelAmount\":-5}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "cancelAmount", "-5", "1 이상이어야 합니다");

	refund_body(&u, id, "{\"cancelAmount\":\"x\"}", &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");

	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM refunds WHERE order_id = ?", id), 0);
	assert_order_status(id, "COMPLETE");
	it_resp_free(&r);
}
END_TEST

START_TEST(declined_cancel_is_502_and_nothing_changes)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	int64_t id = paid_order(&u, 7000), sum;
	char *tid = order_tid(id);

	fault_tid("cancel", tid, "decline", ",\"code\":-781");
	refund(&u, id, 2000, &r);
	it_assert_error(&r, 502, "REFUND_FAILED");
	assert_order_view(&u, id, "COMPLETE", 0);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 0);
	assert_str_sql_at(IT_HERE, "SELECT status FROM refunds WHERE order_id = ?", id, "FAILED");
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM api_event WHERE kind = 'REFUND' AND "
	                           "JSON_VALUE(payload, '$.refundId') IN (SELECT refund_id FROM "
	                           "refunds WHERE order_id = ?)",
	                           id),
	                 0);
	/* the amount is free again */
	refund_ok(&u, id, 7000);
	assert_order_view(&u, id, "REFUND", 7000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);
	it_resp_free(&r);
	free(tid);
}
END_TEST

START_TEST(applied_cancel_with_an_error_answer_is_201_after_lookup)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	int64_t id = paid_order(&u, 9000), sum;
	char *tid = order_tid(id);

	fault_tid("cancel", tid, "http500_applied", NULL);
	refund(&u, id, 2500, &r);
	assert_data(&r, 201, "complete");
	assert_order_view(&u, id, "PARTIAL_REFUND", 2500);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);

	fault_tid("cancel", tid, "decline_applied", ",\"code\":-781");
	refund(&u, id, 6500, &r);
	assert_data(&r, 201, "complete");
	assert_order_view(&u, id, "REFUND", 9000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 2);
	ck_assert_int_eq(sum, 9000);
	it_resp_free(&r);
	free(tid);
}
END_TEST

/* An undecidable cancel (applied or not), queued; then the outbox confirms it exactly once. */
static void queued_then_forwarded(const char *cancel_action)
{
	struct it_resp r = IT_RESP_INIT;
	struct outbox_stats st;
	struct it_user u;
	int64_t id = paid_order(&u, 10000), sum, rid, ev;
	char *tid = order_tid(id);

	fault_tid("cancel", tid, cancel_action, NULL);
	fault_tid("order", tid, "http500", NULL); /* the route's lookup fails too */
	refund(&u, id, 4000, &r);
	assert_data(&r, 202, "queued");
	assert_order_view(&u, id, "COMPLETE", 0);
	rid = sql_i64_1("SELECT refund_id FROM refunds WHERE order_id = ?", id);
	assert_str_sql_at(IT_HERE, "SELECT status FROM refunds WHERE refund_id = ?", rid, "QUEUED");
	ev = sql_i64_1("SELECT api_event_id FROM api_event WHERE kind = 'REFUND' AND "
	               "JSON_VALUE(payload, '$.refundId') = ?",
	               rid);
	assert_str_sql_at(IT_HERE, "SELECT status FROM api_event WHERE api_event_id = ?", ev,
	                  "PENDING");
	/* the amount is reserved */
	refund(&u, id, 6001, &r);
	it_assert_error(&r, 409, "REFUND_AMOUNT_EXCEEDED");

	/* not due yet: nothing happens */
	forward(it_now(), &st);
	assert_str_sql_at(IT_HERE, "SELECT status FROM api_event WHERE api_event_id = ?", ev,
	                  "PENDING");
	/* due: delivered and confirmed */
	forward(it_now() + 61, &st);
	ck_assert_uint_ge(st.done, 1);
	assert_str_sql_at(IT_HERE, "SELECT status FROM api_event WHERE api_event_id = ?", ev,
	                  "DONE");
	assert_str_sql_at(IT_HERE, "SELECT status FROM refunds WHERE refund_id = ?", rid,
	                  "CONFIRMED");
	assert_order_view(&u, id, "PARTIAL_REFUND", 4000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);
	ck_assert_int_eq(sum, 4000);

	/* again: never refunded twice; the rest is refundable */
	forward(it_now() + 4000, &st);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);
	refund_ok(&u, id, 6000);
	assert_order_view(&u, id, "REFUND", 10000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 2);
	ck_assert_int_eq(sum, 10000);
	it_resp_free(&r);
	free(tid);
}

START_TEST(applied_undecided_cancel_is_202_then_confirmed_by_the_outbox)
{
	queued_then_forwarded("http500_applied");
}
END_TEST

START_TEST(unapplied_undecided_cancel_is_202_then_sent_by_the_outbox)
{
	queued_then_forwarded("http500");
}
END_TEST

START_TEST(cancel_timeout_is_decided_by_the_lookup)
{
	struct it_resp r = IT_RESP_INIT;
	char kv_port[64], path[128], auth[2100], *tid;
	const char *env[] = {kv_port, "PV_KAKAOPAY_TIMEOUT_MS=1000", NULL};
	const char *hdr[] = {auth, "Content-Type: application/json", NULL};
	const char body[] = "{\"cancelAmount\":1500}";
	int port = it_api_port() + 4, st;
	struct it_user u;
	int64_t id, sum;
	pid_t pid;

	snprintf(kv_port, sizeof(kv_port), "PV_API_PORT=%d", port);
	pid = it_api_spawn(NULL, env, port);
	ck_assert_int_gt(pid, 0);
	id = paid_order(&u, 5000);
	tid = order_tid(id);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", u.access);
	snprintf(path, sizeof(path), "/api/payments/refund/%" PRId64, id);
	fault_tid("cancel", tid, "hang_applied", NULL);
	ck_assert_int_eq(it_http_to(port, 15000, "POST", path, hdr, body, strlen(body), &r), 0);
	assert_data(&r, 201, "complete");
	assert_order_view(&u, id, "PARTIAL_REFUND", 1500);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);

	/* no answer and not applied: a timeout is never a refusal -> 202, queued */
	fault_tid("cancel", tid, "hang", NULL);
	ck_assert_int_eq(it_http_to(port, 15000, "POST", path, hdr, body, strlen(body), &r), 0);
	assert_data(&r, 202, "queued");
	assert_order_view(&u, id, "PARTIAL_REFUND", 1500);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM refunds WHERE order_id = ? AND status = "
	                           "'QUEUED' AND amount = 1500",
	                           id),
	                 1);
	it_resp_free(&r);
	free(tid);
	ck_assert_int_eq(it_proc_stop(pid, 10000, &st), 0);
}
END_TEST

START_TEST(idempotency_key_replays_the_refund)
{
	struct it_resp r = IT_RESP_INIT, r2 = IT_RESP_INIT;
	const char *hdr[] = {"Idempotency-Key: refund-replay-key", NULL};
	struct it_user u;
	int64_t id = paid_order(&u, 5000), sum;
	char path[128], *tid = order_tid(id);

	snprintf(path, sizeof(path), "/api/payments/refund/%" PRId64, id);
	it_req("POST", path, u.access, "{\"cancelAmount\":1000}", hdr, &r);
	assert_data(&r, 201, "complete");
	it_req("POST", path, u.access, "{\"cancelAmount\":1000}", hdr, &r2);
	ck_assert_int_eq(r2.status, 201);
	it_assert_header(&r2, "Idempotent-Replayed", "true");
	assert_order_view(&u, id, "PARTIAL_REFUND", 1000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);
	it_resp_free(&r);
	it_resp_free(&r2);
	free(tid);
}
END_TEST

struct conc {
	const char *auth;
	const char *path;
	long status;
	char code[64];
};

static void *conc_refund(void *arg)
{
	struct conc *c = arg;
	struct it_resp r = IT_RESP_INIT;
	const char *hdr[] = {c->auth, "Content-Type: application/json", NULL};
	const char body[] = "{\"cancelAmount\":6000}";

	if (it_http("POST", c->path, hdr, body, strlen(body), &r) == 0) {
		c->status = r.status;
		if (r.json && cJSON_IsString(cJSON_GetObjectItem(r.json, "code")))
			snprintf(c->code, sizeof(c->code), "%s",
			         cJSON_GetObjectItem(r.json, "code")->valuestring);
	}
	it_resp_free(&r);
	return NULL;
}

START_TEST(concurrent_refunds_serialize)
{
	struct conc c[4];
	pthread_t th[4];
	struct it_user u;
	int64_t id = paid_order(&u, 10000), sum;
	char auth[2100], path[128], *tid = order_tid(id);
	int ok = 0, exceeded = 0;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", u.access);
	snprintf(path, sizeof(path), "/api/payments/refund/%" PRId64, id);
	/* the fake answers slowly, so that the requests overlap */
	{
		char rule[256];
		snprintf(
		    rule, sizeof(rule),
		    "{\"match\":{\"endpoint\":\"cancel\",\"tid\":\"%s\"},\"action\":\"latency\","
		    "\"latency_ms\":300}",
		    tid);
		it_fp_fault(rule);
	}
	for (int i = 0; i < 4; i++) {
		c[i] = (struct conc){auth, path, 0, ""};
		ck_assert_int_eq(pthread_create(&th[i], NULL, conc_refund, &c[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++) {
		ok += c[i].status == 201;
		exceeded += c[i].status == 409 && !strcmp(c[i].code, "REFUND_AMOUNT_EXCEEDED");
	}
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(exceeded, 3);
	assert_order_view(&u, id, "PARTIAL_REFUND", 6000);
	ck_assert_int_eq(ledger_cancels(tid, &sum), 1);
	ck_assert_int_eq(sum, 6000);
	free(tid);
}
END_TEST

/* ---- outbox --------------------------------------------------------------------------------- */

static int64_t enqueue(const char *kind, const char *payload, int64_t now)
{
	int64_t id = 0;

	ck_assert_int_eq(store_outbox_enqueue(it_db(), kind, payload, NULL, now, now, &id), 0);
	return id;
}

START_TEST(sid_inactivation_and_notifications_are_delivered)
{
	struct it_resp r = IT_RESP_INIT;
	struct outbox_stats st;
	char payload[256], puid[64], body[256], path[128];
	const cJSON *first, *sid;
	int64_t now = it_now(), e1, e2, e3;

	snprintf(puid, sizeof(puid), "U-outbox-%" PRIu64 "-%" PRId64, it_seq(), now);
	snprintf(body, sizeof(body), "{\"cid\":\"%s\",\"partner_user_id\":\"%s\",\"count\":1}",
	         IT_FP_SUB, puid);
	it_fp_ctl("POST", "/sid", body, &r);
	ck_assert_int_lt(r.status, 300);
	first = cJSON_IsArray(r.json) ? cJSON_GetArrayItem(r.json, 0)
	                              : cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "sids"), 0);
	sid = cJSON_IsString(first) ? first : cJSON_GetObjectItem(first, "sid");
	ck_assert_msg(cJSON_IsString(sid), "no sid in %s", r.body ? r.body : "");
	snprintf(payload, sizeof(payload), "{\"cid\":\"%s\",\"sid\":\"%s\"}", IT_FP_SUB,
	         sid->valuestring);
	snprintf(path, sizeof(path), "/sid/%s", sid->valuestring);
	e1 = enqueue("SID_INACTIVATE", payload, now);
	/* an unknown SID (-750) counts as done */
	e2 = enqueue("SID_INACTIVATE", "{\"cid\":\"TCSUBSCRIP\",\"sid\":\"S0000nosuchsid\"}", now);
	e3 = enqueue("NOTIFY_RETRY_EXHAUSTED", "{\"subscriptionId\":1}", now);
	forward(now, &st);
	ck_assert_uint_ge(st.done, 3);
	assert_str_sql_at(IT_HERE, "SELECT status FROM api_event WHERE api_event_id = ?", e1,
	                  "DONE");
	assert_str_sql_at(IT_HERE, "SELECT status FROM api_event WHERE api_event_id = ?", e2,
	                  "DONE");
	assert_str_sql_at(IT_HERE, "SELECT status FROM api_event WHERE api_event_id = ?", e3,
	                  "DONE");
	it_fp_ctl("GET", path, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "status")), "INACTIVE");
	it_resp_free(&r);
}
END_TEST

START_TEST(failures_back_off_then_move_to_outbox_failed)
{
	struct outbox_stats st;
	int64_t now = it_now(), e;

	e = enqueue("SID_INACTIVATE", "{\"cid\":\"TCSUBSCRIP\"}", now); /* no sid: always fails */
	forward(now, &st);
	assert_str_sql_at(IT_HERE, "SELECT status FROM api_event WHERE api_event_id = ?", e,
	                  "PENDING");
	ck_assert_int_eq(sql_i64_1("SELECT tries FROM api_event WHERE api_event_id = ?", e), 1);
	ck_assert_int_eq(sql_i64_1("SELECT UNIX_TIMESTAMP(next_attempt_at) FROM api_event WHERE "
	                           "api_event_id = ?",
	                           e),
	                 now + 60);
	forward(now + 60, &st);
	ck_assert_int_eq(sql_i64_1("SELECT tries FROM api_event WHERE api_event_id = ?", e), 2);
	ck_assert_int_eq(sql_i64_1("SELECT UNIX_TIMESTAMP(next_attempt_at) FROM api_event WHERE "
	                           "api_event_id = ?",
	                           e),
	                 now + 60 + 120);
	/* three days after its creation it moves to outbox_failed */
	forward(now + OUTBOX_MAX_AGE_S, &st);
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM api_event WHERE api_event_id = ?", e), 0);
	ck_assert_int_eq(sql_i64_1("SELECT COUNT(*) FROM outbox_failed WHERE api_event_id = ? AND "
	                           "tries = 3 AND kind = 'SID_INACTIVATE' AND requeued_at IS NULL "
	                           "AND last_error IS NOT NULL",
	                           e),
	                 1);
}
END_TEST

Suite *refunds_suite(void)
{
	Suite *s = suite_create("refunds");
	TCase *tc = tcase_create("refunds");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, partial_then_full_refund);
	tcase_add_test(tc, full_refund_at_once);
	tcase_add_test(tc, amount_above_remaining_is_409);
	tcase_add_test(tc, not_refundable_states_are_409);
	tcase_add_test(tc, not_found_forbidden_and_admin);
	tcase_add_test(tc, validation_errors_are_400);
	tcase_add_test(tc, declined_cancel_is_502_and_nothing_changes);
	tcase_add_test(tc, applied_cancel_with_an_error_answer_is_201_after_lookup);
	tcase_add_test(tc, applied_undecided_cancel_is_202_then_confirmed_by_the_outbox);
	tcase_add_test(tc, unapplied_undecided_cancel_is_202_then_sent_by_the_outbox);
	tcase_add_test(tc, cancel_timeout_is_decided_by_the_lookup);
	tcase_add_test(tc, idempotency_key_replays_the_refund);
	tcase_add_test(tc, concurrent_refunds_serialize);
	tcase_add_test(tc, sid_inactivation_and_notifications_are_delivered);
	tcase_add_test(tc, failures_back_off_then_move_to_outbox_failed);
	suite_add_tcase(s, tc);
	return s;
}
