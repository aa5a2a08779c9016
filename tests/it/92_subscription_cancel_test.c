/*
 * 92_subscription_cancel: cancelling a subscription (API.md §2.5, §7.8, §8.7) through
 * DELETE /api/subscriptions?itemOrderId= and POST /api/payments/subscriptions/cancel/{id} on
 * subscriptions paid end to end through the fake gateway: the row (status, canceledAt,
 * nextPaymentDate, cancel reason, retry fields), the list of §6.4, the SID inactivation queued
 * only for the last live subscription on the SID and then forwarded by core's outbox to the
 * fake, an open RETRYING cycle FAILED, Idempotency-Key replay, and the error rows.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outbox.h"
#include "external/kakaopay.h"
#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

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

static void assert_sql_str_at(struct it_loc at, const char *sql, int64_t v, const char *want)
{
	char *s = sql_str_1(sql, v);
	it_check_at(at, NULL, (s && want && !strcmp(s, want)) || (!s && !want),
	            "%s [%" PRId64 "]: got %s, expected %s", sql, v, s ? s : "(null)",
	            want ? want : "(null)");
	free(s);
}
#define assert_sql_str(sql, v, want) assert_sql_str_at(IT_HERE, sql, v, want)

static const char sql_status[] = "SELECT status FROM subscriptions WHERE subscription_id = ?";
static const char sql_reason[] =
    "SELECT cancel_reason FROM subscriptions WHERE subscription_id = ?";
static const char sql_next[] =
    "SELECT CAST(next_payment_date AS CHAR) FROM subscriptions WHERE subscription_id = ?";
static const char sql_canceled_recent[] =
    "SELECT COUNT(*) FROM subscriptions WHERE subscription_id = ? AND canceled_at IS NOT NULL"
    " AND canceled_at > UTC_TIMESTAMP() - INTERVAL 5 MINUTE AND paused_at IS NULL"
    " AND next_retry_at IS NULL";
static const char sql_sid[] = "SELECT sid FROM subscriptions WHERE subscription_id = ?";
static const char sql_events[] =
    "SELECT COUNT(*) FROM api_event e JOIN subscriptions s ON e.dedup_key ="
    " CONCAT('sid-inactivate:', s.sid) WHERE s.subscription_id = ?"
    " AND e.kind = 'SID_INACTIVATE'";
static const char sql_event_ok[] =
    "SELECT COUNT(*) FROM api_event e JOIN subscriptions s ON e.dedup_key ="
    " CONCAT('sid-inactivate:', s.sid) WHERE s.subscription_id = ?"
    " AND JSON_VALUE(e.payload, '$.sid') = s.sid AND JSON_VALUE(e.payload, '$.cid') = s.cid";
static const char sql_event_status[] =
    "SELECT e.status FROM api_event e JOIN subscriptions s ON e.dedup_key ="
    " CONCAT('sid-inactivate:', s.sid) WHERE s.subscription_id = ?";

/*
 * A user's order with nsubs subscription lines (fresh items, every 30 days), paid through the
 * fake: ready, click approve, approve. ids[] gets the subscription ids in line order.
 */
static int64_t paid_subs_at(struct it_loc at, struct it_user *u, int nsubs, int64_t ids[2])
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item items[2];
	struct it_ord_line lines[2];
	int64_t order_id;

	for (int i = 0; i < nsubs; i++) {
		it_ord_item_new_at(at, &items[i], 12000 + 1000 * i, 0, 0);
		lines[i] = (struct it_ord_line){items[i].id, 1 + i, true, 30};
	}
	order_id = it_ord_place_at(at, u, lines, (size_t)nsubs, &r);
	it_resp_free(&r);
	it_fp_pay_order_at(at, u, order_id);
	for (int i = 0; i < nsubs; i++) {
		struct db_param q[] = {DB_I64(order_id), DB_I64(i)};
		ids[i] =
		    it_sql_i64_at(at,
		                  "SELECT subscription_id FROM subscriptions WHERE order_id = ?"
		                  " ORDER BY order_item_id LIMIT 1 OFFSET ?",
		                  q, 2);
	}
	return order_id;
}
#define paid_subs(u, n, ids) paid_subs_at(IT_HERE, u, n, ids)

static void del(const struct it_user *u, const char *query, struct it_resp *r)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/subscriptions%s", query);
	it_req("DELETE", path, u->access, NULL, NULL, r);
}

static void del_id(const struct it_user *u, int64_t id, struct it_resp *r)
{
	char q[64];

	snprintf(q, sizeof(q), "?itemOrderId=%" PRId64, id);
	del(u, q, r);
}

static void post_cancel(const struct it_user *u, const char *id, const char *key, struct it_resp *r)
{
	char path[128], hdr[128];
	const char *extra[] = {hdr, NULL};

	snprintf(path, sizeof(path), "/api/payments/subscriptions/cancel/%s", id);
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key ? key : "");
	it_req("POST", path, u->access, NULL, key ? extra : NULL, r);
}

static void post_cancel_id(const struct it_user *u, int64_t id, const char *key, struct it_resp *r)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRId64, id);
	post_cancel(u, s, key, r);
}

static void assert_deleted_at(struct it_loc at, const struct it_resp *r)
{
	cJSON *data;

	it_check_at(at, r, r->status == 200, "DELETE: expected 200");
	data = it_assert_wrapper_at(at, r);
	it_check_at(at, r, cJSON_IsNull(data), "DELETE: data must be null");
}
#define assert_deleted(r) assert_deleted_at(IT_HERE, r)

static void assert_complete_at(struct it_loc at, const struct it_resp *r)
{
	cJSON *data;

	it_check_at(at, r, r->status == 201, "POST cancel: expected 201");
	data = it_assert_wrapper_at(at, r);
	it_check_at(at, r, cJSON_IsString(data) && !strcmp(data->valuestring, "complete"),
	            "POST cancel: data must be \"complete\"");
}
#define assert_complete(r) assert_complete_at(IT_HERE, r)

static void assert_cancelled_at(struct it_loc at, int64_t id, const char *reason)
{
	assert_sql_str_at(at, sql_status, id, "SUBSCRIBE_CANCEL");
	assert_sql_str_at(at, sql_reason, id, reason);
	assert_sql_str_at(at, sql_next, id, NULL);
	it_check_at(at, NULL, sql_i64_1(sql_canceled_recent, id) == 1,
	            "subscription %" PRId64 ": canceled_at, paused_at, next_retry_at", id);
}
#define assert_cancelled(id, reason) assert_cancelled_at(IT_HERE, id, reason)

/* The row of subscription id in GET /api/orders/subscriptions<query>, NULL when absent. */
static const cJSON *list_row(const cJSON *page, int64_t id)
{
	const cJSON *row;

	cJSON_ArrayForEach(row, cJSON_GetObjectItem(page, "data"))
	{
		const cJSON *v = cJSON_GetObjectItem(row, "subscriptionOrderId");
		if (cJSON_IsNumber(v) && (int64_t)v->valuedouble == id)
			return row;
	}
	return NULL;
}

static void forward(int64_t now)
{
	struct kakaopay_config c = {0};
	struct kakaopay_client *cl = NULL;
	struct pay_gateway gw;
	struct outbox_stats st;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", it_fp_port());
	c.base_url = url;
	c.secret_key = IT_FP_KEY;
	c.timeout_ms = IT_FP_TIMEOUT_MS;
	ck_assert_int_eq(kakaopay_client_new(&c, &cl), 0);
	kakaopay_gateway_init(&gw, cl);
	ck_assert_int_eq(outbox_forward(it_db(), &gw, now, OUTBOX_BATCH_MAX, 0, &st), 0);
	kakaopay_client_free(cl);
}

static void assert_fake_sid_at(struct it_loc at, int64_t sub_id, const char *want)
{
	struct it_resp r = IT_RESP_INIT;
	char path[128], *sid = sql_str_1(sql_sid, sub_id);

	snprintf(path, sizeof(path), "/sid/%s", sid ? sid : "");
	free(sid);
	it_fp_ctl_at(at, "GET", path, NULL, &r);
	it_check_at(at, &r, r.status == 200, "fake /sid: expected 200");
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "status"));
	it_check_at(at, &r, st && !strcmp(st, want), "fake SID status %s, expected %s",
	            st ? st : "(null)", want);
	it_resp_free(&r);
}
#define assert_fake_sid(id, want) assert_fake_sid_at(IT_HERE, id, want)

/* ---- both routes, one SID shared by two subscriptions -----------------------------------------
 */

START_TEST(cancel_both_routes_last_on_sid_queues_inactivation)
{
	struct it_resp r = IT_RESP_INIT, r2 = IT_RESP_INIT;
	struct it_user u;
	int64_t s[2];
	char key[64];
	const cJSON *row;

	it_new_user(&u);
	paid_subs(&u, 2, s);
	assert_sql_str("SELECT status FROM subscriptions WHERE subscription_id = ?", s[0],
	               "SUBSCRIPTION");
	assert_fake_sid(s[0], "ACTIVE");

	/* DELETE the first: cancelled, but the SID is still used by the second */
	del_id(&u, s[0], &r);
	assert_deleted(&r);
	assert_cancelled(s[0], "CUSTOMER");
	ck_assert_int_eq(sql_i64_1(sql_events, s[0]), 0);
	assert_sql_str(sql_status, s[1], "SUBSCRIPTION");

	/* the list: gone from the default view, present with status=SUBSCRIBE_CANCEL */
	it_get("/api/orders/subscriptions?size=100", u.access, &r);
	it_assert_status(&r, 200);
	ck_assert_ptr_null(list_row(r.json, s[0]));
	ck_assert_ptr_nonnull(list_row(r.json, s[1]));
	it_get("/api/orders/subscriptions?status=SUBSCRIBE_CANCEL&size=100", u.access, &r);
	it_assert_status(&r, 200);
	row = list_row(r.json, s[0]);
	ck_assert_ptr_nonnull(row);
	ck_assert_str_eq(it_json_str(row, "orderStatus"), "SUBSCRIBE_CANCEL");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(row, "nextPaymentDate")));
	ck_assert_ptr_null(list_row(r.json, s[1]));

	/* a second cancel, by either route: 409 */
	del_id(&u, s[0], &r);
	it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");
	post_cancel_id(&u, s[0], NULL, &r);
	it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");

	/* POST the second, with an Idempotency-Key: the last on the SID queues one event */
	snprintf(key, sizeof(key), "subcancel-%" PRIu64 "-%" PRId64, it_seq(), it_now());
	post_cancel_id(&u, s[1], key, &r);
	assert_complete(&r);
	assert_cancelled(s[1], "CUSTOMER");
	ck_assert_int_eq(sql_i64_1(sql_events, s[1]), 1);
	ck_assert_int_eq(sql_i64_1(sql_event_ok, s[1]), 1);
	assert_sql_str(sql_event_status, s[1], "PENDING");

	/* replay: same answer, nothing done again */
	post_cancel_id(&u, s[1], key, &r2);
	ck_assert_int_eq(r2.status, 201);
	it_assert_header(&r2, "Idempotent-Replayed", "true");
	ck_assert_str_eq(r2.body, r.body);
	ck_assert_int_eq(sql_i64_1(sql_events, s[1]), 1);
	/* without the key: 409 */
	post_cancel_id(&u, s[1], NULL, &r);
	it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");

	/* the outbox delivers the inactivation to the fake */
	forward(it_now());
	assert_sql_str(sql_event_status, s[1], "DONE");
	assert_fake_sid(s[1], "INACTIVE");
	it_resp_free(&r);
	it_resp_free(&r2);
}
END_TEST

/* ---- admin, open retry ------------------------------------------------------------------------
 */

START_TEST(admin_cancels_a_retrying_subscription)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, a;
	int64_t s[2];

	it_new_user(&u);
	it_new_admin(&a);
	paid_subs(&u, 1, s);
	/* a declined charge on the next cycle, retry scheduled */
	it_sql_exec(
	    "INSERT INTO subscription_cycles (subscription_id, cycle_date, status, attempts,"
	    " created_at, updated_at) SELECT subscription_id, next_payment_date, 'RETRYING',"
	    " 1, UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM subscriptions WHERE subscription_id = ?",
	    (struct db_param[]){DB_I64(s[0])}, 1);
	it_sql_exec("UPDATE subscriptions SET status = 'SUBSCRIBE_PAYMENT_FAIL', retry_state ="
	            " 'SCHEDULED', failed_cycle_date = next_payment_date, retry_attempts = 1,"
	            " next_retry_at = UTC_TIMESTAMP() + INTERVAL 1 DAY WHERE subscription_id = ?",
	            (struct db_param[]){DB_I64(s[0])}, 1);

	post_cancel_id(&a, s[0], NULL, &r);
	assert_complete(&r);
	assert_cancelled(s[0], "ADMIN");
	assert_sql_str("SELECT retry_state FROM subscriptions WHERE subscription_id = ?", s[0],
	               "EXHAUSTED");
	assert_sql_str("SELECT status FROM subscription_cycles WHERE subscription_id = ?"
	               " ORDER BY cycle_date DESC LIMIT 1",
	               s[0], "FAILED");
	ck_assert_int_eq(sql_i64_1(sql_events, s[0]), 1);
	it_resp_free(&r);
}
END_TEST

START_TEST(admin_deletes_a_paused_subscription)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, a;
	int64_t s[2];

	it_new_user(&u);
	it_new_admin(&a);
	paid_subs(&u, 1, s);
	it_sql_exec("UPDATE subscriptions SET status = 'PAUSED', paused_at = UTC_TIMESTAMP(),"
	            " next_payment_date = NULL WHERE subscription_id = ?",
	            (struct db_param[]){DB_I64(s[0])}, 1);
	del_id(&a, s[0], &r);
	assert_deleted(&r);
	assert_cancelled(s[0], "ADMIN");
	ck_assert_int_eq(sql_i64_1(sql_events, s[0]), 1);
	it_resp_free(&r);
}
END_TEST

/* ---- withdrawal: the same cancellation for every live subscription of the user ----------------
 */

START_TEST(withdrawal_cancels_every_live_subscription)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	int64_t s[2];
	char path[64];

	it_new_user(&u);
	paid_subs(&u, 2, s);
	del_id(&u, s[0], &r);
	assert_deleted(&r);
	snprintf(path, sizeof(path), "/api/users/%" PRId64, u.id);
	it_req("DELETE", path, u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);
	assert_cancelled(s[0], "CUSTOMER");
	assert_cancelled(s[1], "WITHDRAWAL");
	ck_assert_int_eq(sql_i64_1(sql_events, s[1]), 1);
	ck_assert_int_eq(sql_i64_1(sql_event_ok, s[1]), 1);
	it_resp_free(&r);
}
END_TEST

/* ---- errors -----------------------------------------------------------------------------------
 */

START_TEST(errors)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, other;
	int64_t s[2];

	it_new_user(&u);
	it_new_user(&other);
	paid_subs(&u, 1, s);

	/* another user: 403, nothing changed */
	del_id(&other, s[0], &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	post_cancel_id(&other, s[0], NULL, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	assert_sql_str(sql_status, s[0], "SUBSCRIPTION");

	/* unknown: 404 */
	del_id(&u, INT64_C(9000000000000000000), &r);
	it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
	del(&u, "?itemOrderId=0", &r);
	it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
	post_cancel(&u, "9000000000000000000", NULL, &r);
	it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
	post_cancel(&u, "0", NULL, &r);
	it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");

	/* itemOrderId missing or not an integer: 400 */
	del(&u, "", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "itemOrderId", "", IT_R_REQUIRED);
	del(&u, "?itemOrderId=", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "itemOrderId", "", IT_R_REQUIRED);
	del(&u, "?itemOrderId=abc", &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "itemOrderId", "abc", IT_R_TYPE);
	post_cancel(&u, "abc", NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "subscriptionOrderId", "abc", IT_R_TYPE);

	/* no token: 401 */
	it_req("DELETE", "/api/subscriptions?itemOrderId=1", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 401);
	assert_sql_str(sql_status, s[0], "SUBSCRIPTION");
	it_resp_free(&r);
}
END_TEST

Suite *subscription_cancel_suite(void)
{
	Suite *s = suite_create("subscription_cancel");
	TCase *tc = tcase_create("subscription_cancel");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cancel_both_routes_last_on_sid_queues_inactivation);
	tcase_add_test(tc, admin_cancels_a_retrying_subscription);
	tcase_add_test(tc, admin_deletes_a_paused_subscription);
	tcase_add_test(tc, withdrawal_cancels_every_live_subscription);
	tcase_add_test(tc, errors);
	suite_add_tcase(s, tc);
	return s;
}
