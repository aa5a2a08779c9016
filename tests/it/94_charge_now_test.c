/*
 * 94_charge_now: POST /api/payments/approve/subscriptions/{subscriptionOrderId} (API.md §7.7),
 * the admin "charge now", on subscriptions paid end to end through the fake gateway: the
 * approve JSON, the renewal order and the moved schedule, the replay through Idempotency-Key,
 * the status and in-flight conflicts, a decline of a future cycle (last failure only) and of
 * a due cycle (the retry policy, then recovery by a second charge-now), RETRY_LATER (502, not
 * counted), and a timeout that charged (504, UNKNOWN, held). Every money movement is checked
 * against the fake's ledger.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

struct sub_fixture {
	struct it_user u;
	struct it_user admin;
	int64_t order_id;
	int64_t sub_id;
	int64_t item_id;
	char sid[64];
};

static int64_t q_i64(const char *sql, int64_t v)
{
	struct db_param p[] = {DB_I64(v)};
	return it_sql_i64(sql, p, 1);
}

static char *q_str(const char *sql, int64_t v)
{
	struct db_param p[] = {DB_I64(v)};
	return it_sql_str(sql, p, 1);
}

static void assert_str_at(struct it_loc at, const char *sql, int64_t v, const char *want)
{
	char *s = q_str(sql, v);
	it_check_at(at, NULL, (s && want && !strcmp(s, want)) || (!s && !want),
	            "%s [%" PRId64 "]: got %s, expected %s", sql, v, s ? s : "(null)",
	            want ? want : "(null)");
	free(s);
}
#define assert_str(sql, v, want) assert_str_at(IT_HERE, sql, v, want)

static const char sql_status[] = "SELECT status FROM subscriptions WHERE subscription_id = ?";
static const char sql_retry[] = "SELECT retry_state FROM subscriptions WHERE subscription_id = ?";
static const char sql_next[] =
    "SELECT CAST(next_payment_date AS CHAR) FROM subscriptions WHERE subscription_id = ?";
static const char sql_renewals[] =
    "SELECT COUNT(*) FROM orders WHERE subscription_id = ? AND is_renewal = 1"
    " AND status = 'COMPLETE'";

/* A user with one subscription (quantity 2, every 30 days) paid through the fake, and an
 * admin. */
static void fixture(struct sub_fixture *f)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item item;
	struct it_ord_line line;
	char *sid;

	memset(f, 0, sizeof(*f));
	it_new_user(&f->u);
	it_new_admin(&f->admin);
	it_ord_item_new(&item, 11000, 100, 0); /* realPrice 9900 */
	line = (struct it_ord_line){item.id, 2, true, 30};
	f->item_id = item.id;
	f->order_id = it_ord_place(&f->u, &line, 1, &r);
	it_resp_free(&r);
	it_fp_pay_order_at(IT_HERE, &f->u, f->order_id);
	f->sub_id = q_i64("SELECT subscription_id FROM subscriptions WHERE order_id = ?", f->order_id);
	sid = q_str("SELECT sid FROM subscriptions WHERE subscription_id = ?", f->sub_id);
	snprintf(f->sid, sizeof(f->sid), "%s", sid ? sid : "");
	free(sid);
}

static void charge_now_on(int port, const struct it_user *by, int64_t id, const char *key,
                          struct it_resp *r)
{
	char path[128], auth[2200], idem[128];
	const char *hdr[] = {auth, key ? idem : NULL, NULL};

	snprintf(path, sizeof(path), "/api/payments/approve/subscriptions/%" PRId64, id);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", by->access);
	snprintf(idem, sizeof(idem), "Idempotency-Key: %s", key ? key : "");
	if (port == 0) {
		it_req("POST", path, by->access, NULL, key ? hdr + 1 : NULL, r);
		return;
	}
	ck_assert_int_eq(it_http_to(port, 15000, "POST", path, hdr, NULL, 0, r), 0);
}

static void charge_now(const struct it_user *by, int64_t id, const char *key, struct it_resp *r)
{
	charge_now_on(0, by, id, key, r);
}

/* Makes the subscription's next cycle due: F = today - 31, next = today - 1. */
static void make_due(int64_t sub_id)
{
	struct db_param p[] = {DB_I64(sub_id)};
	it_sql_exec("UPDATE subscriptions SET first_payment_date = CURDATE() - INTERVAL 31 DAY,"
	            " last_payment_date = CURDATE() - INTERVAL 31 DAY,"
	            " last_settled_cycle_date = CURDATE() - INTERVAL 31 DAY,"
	            " next_payment_date = CURDATE() - INTERVAL 1 DAY WHERE subscription_id = ?",
	            p, 1);
}

/*
 * Moves the subscription onto a fresh SID (same CID and partner_user_id) that has never been
 * charged. The decline probe of KAKAOPAY.md §1.11.4 reads a SID approved within 5 s of the
 * claim as "maybe charged" (UNKNOWN), so a decline right after the first payment would not
 * count; a real subscription is charged a period after its approval.
 */
static void fresh_sid(struct sub_fixture *f)
{
	struct it_resp r = IT_RESP_INIT;
	char body[160];
	const cJSON *sids;

	snprintf(body, sizeof(body),
	         "{\"cid\":\"TCSUBSCRIP\",\"partner_user_id\":\"U%" PRId64 "\",\"count\":1}",
	         f->u.id);
	it_fp_ctl("POST", "/sid", body, &r);
	ck_assert_int_eq(r.status, 201);
	sids = cJSON_GetObjectItemCaseSensitive(r.json, "sids");
	ck_assert(cJSON_IsString(cJSON_GetArrayItem(sids, 0)));
	snprintf(f->sid, sizeof(f->sid), "%s", cJSON_GetArrayItem(sids, 0)->valuestring);
	struct db_param p[] = {DB_STR(f->sid), DB_I64(f->sub_id)};
	it_sql_exec("UPDATE subscriptions SET sid = ? WHERE subscription_id = ?", p, 2);
	it_resp_free(&r);
}

static void add_fault(const char *sid, const char *action, int code, int times)
{
	char rule[256];

	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"subscription\",\"sid\":\"%s\"},\"action\":\"%s\","
	         "\"code\":%d,\"times\":%d}",
	         sid, action, code, times);
	it_fp_fault(rule);
}

START_TEST(admin_charges_the_next_cycle_now)
{
	struct it_resp r = IT_RESP_INIT, again = IT_RESP_INIT;
	struct sub_fixture f;
	char *next_before, *cycle, want_payload[64];
	int64_t sales, att;
	cJSON *d, *amount;

	fixture(&f);
	next_before = q_str(sql_next, f.sub_id);
	sales = q_i64("SELECT sales FROM items WHERE item_id = ?", f.item_id);
	charge_now(&f.admin, f.sub_id, "cn-1", &r);
	it_assert_status(&r, 200);
	d = it_assert_wrapper(&r);
	it_assert_keys(d, "item_name", "item_code", "created_at", "approved_at", "payload",
	               "amount", "quantity", NULL);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "item_code")));
	it_assert_ts("created_at", cJSON_GetObjectItemCaseSensitive(d, "created_at"));
	it_assert_ts("approved_at", cJSON_GetObjectItemCaseSensitive(d, "approved_at"));
	ck_assert_int_eq(it_json_int(d, "quantity"), 2);
	amount = cJSON_GetObjectItemCaseSensitive(d, "amount");
	it_assert_keys(amount, "total", "tax_free", "vat", "discount", NULL);
	ck_assert_int_eq(it_json_int(amount, "total"), 19800);
	att = q_i64("SELECT billing_attempt_id FROM billing_attempt WHERE subscription_id = ?"
	            " AND status = 'APPROVED'",
	            f.sub_id);
	snprintf(want_payload, sizeof(want_payload), "att:%" PRId64, att);
	ck_assert_str_eq(it_json_str(d, "payload"), want_payload);

	/* the cycle charged was the one at nextPaymentDate: a renewal order for it */
	cycle = q_str("SELECT CAST(cycle_date AS CHAR) FROM orders WHERE subscription_id = ?"
	              " AND is_renewal = 1",
	              f.sub_id);
	ck_assert_str_eq(cycle, next_before);
	ck_assert_int_eq(q_i64(sql_renewals, f.sub_id), 1);
	ck_assert_int_eq(q_i64("SELECT expect_price FROM orders WHERE subscription_id = ?"
	                       " AND is_renewal = 1",
	                       f.sub_id),
	                 19800);
	ck_assert_int_eq(q_i64("SELECT sales FROM items WHERE item_id = ?", f.item_id), sales + 2);
	/* F + 2P: the schedule moved one period */
	ck_assert_int_eq(q_i64("SELECT DATEDIFF(next_payment_date, first_payment_date)"
	                       " FROM subscriptions WHERE subscription_id = ?",
	                       f.sub_id),
	                 60);
	assert_str(sql_status, f.sub_id, "SUBSCRIPTION");
	assert_str(sql_retry, f.sub_id, "NONE");
	/* exactly one money movement for the attempt (plus the first payment) */
	ck_assert_int_eq(it_fp_ledger_count(NULL, f.sid), 2);

	/* a replay answers the same body without charging */
	charge_now(&f.admin, f.sub_id, "cn-1", &again);
	it_assert_status(&again, 200);
	it_assert_header(&again, "Idempotent-Replayed", "true");
	ck_assert_str_eq(again.body, r.body);
	ck_assert_int_eq(it_fp_ledger_count(NULL, f.sid), 2);
	ck_assert_int_eq(q_i64(sql_renewals, f.sub_id), 1);
	free(cycle);
	free(next_before);
	it_resp_free(&r);
	it_resp_free(&again);
}
END_TEST

START_TEST(the_renewal_order_is_refundable_and_shows_in_order_detail)
{
	struct it_resp r = IT_RESP_INIT;
	struct sub_fixture f;
	char path[128];
	int64_t renewal;
	cJSON *d, *lines;

	fixture(&f);
	charge_now(&f.admin, f.sub_id, NULL, &r);
	it_assert_status(&r, 200);
	renewal = q_i64("SELECT order_id FROM orders WHERE subscription_id = ? AND is_renewal = 1",
	                f.sub_id);
	snprintf(path, sizeof(path), "/api/orders/%" PRId64, renewal);
	it_get(path, f.u.access, &r);
	it_assert_status(&r, 200);
	d = it_assert_wrapper(&r);
	ck_assert_str_eq(it_json_str(d, "orderStatus"), "COMPLETE");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "renewal")));
	ck_assert_int_eq(it_json_int(d, "expectPrice"), 19800);
	lines = cJSON_GetObjectItemCaseSensitive(d, "orderItems");
	ck_assert_int_eq(cJSON_GetArraySize(lines), 1);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(lines, 0), "subscriptionOrderId"), f.sub_id);

	/* a partial refund of the renewal order goes to the charge's own tid */
	snprintf(path, sizeof(path), "/api/payments/refund/%" PRId64, renewal);
	it_req("POST", path, f.u.access, "{\"cancelAmount\":1000}", NULL, &r);
	it_assert_status(&r, 201);
	it_get("/api/orders/0", f.u.access, &r); /* frees the previous body */
	snprintf(path, sizeof(path), "/api/orders/%" PRId64, renewal);
	it_get(path, f.u.access, &r);
	d = it_assert_wrapper(&r);
	ck_assert_str_eq(it_json_str(d, "orderStatus"), "PARTIAL_REFUND");
	ck_assert_int_eq(it_json_int(d, "refundedAmount"), 1000);
	it_resp_free(&r);
}
END_TEST

START_TEST(only_admins_and_known_subscriptions)
{
	struct it_resp r = IT_RESP_INIT;
	struct sub_fixture f;

	fixture(&f);
	charge_now(&f.u, f.sub_id, NULL, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	charge_now(&f.admin, 987654321, NULL, &r);
	it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
	it_req("POST", "/api/payments/approve/subscriptions/abc", f.admin.access, NULL, NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_req("POST", "/api/payments/approve/subscriptions/1", NULL, NULL, NULL, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	ck_assert_int_eq(q_i64(sql_renewals, f.sub_id), 0);
	ck_assert_int_eq(it_fp_ledger_count(NULL, f.sid), 1);
	it_resp_free(&r);
}
END_TEST

START_TEST(conflicts_change_nothing)
{
	struct it_resp r = IT_RESP_INIT;
	struct sub_fixture f;
	struct db_param p[1];

	fixture(&f);
	p[0] = DB_I64(f.sub_id);
	/* paused */
	it_sql_exec("UPDATE subscriptions SET status = 'PAUSED', paused_at = UTC_TIMESTAMP(),"
	            " next_payment_date = NULL WHERE subscription_id = ?",
	            p, 1);
	charge_now(&f.admin, f.sub_id, NULL, &r);
	it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");
	it_sql_exec("UPDATE subscriptions SET status = 'SUBSCRIPTION', paused_at = NULL,"
	            " next_payment_date = first_payment_date + INTERVAL 30 DAY"
	            " WHERE subscription_id = ?",
	            p, 1);
	/* a charge in flight (a PENDING attempt) */
	it_sql_exec("INSERT INTO billing_attempt (subscription_id, cycle_date, attempt_no, status,"
	            " initiated_by, partner_order_id, partner_user_id, cid, sid, item_id, item_name,"
	            " quantity, origin_price, discount_p10, discount_price, real_price, amount,"
	            " claimed_at, created_at, updated_at) SELECT subscription_id, next_payment_date,"
	            " 1, 'PENDING', 'SCHEDULE', CONCAT('it-pending-', subscription_id),"
	            " partner_user_id, cid, sid, item_id, 'x', 1, 0, 0, 0, 0, 0, UTC_TIMESTAMP(),"
	            " UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM subscriptions WHERE subscription_id = ?",
	            p, 1);
	charge_now(&f.admin, f.sub_id, NULL, &r);
	it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");
	it_sql_exec("DELETE FROM billing_attempt WHERE subscription_id = ?", p, 1);
	/* UNKNOWN */
	it_sql_exec("UPDATE subscriptions SET retry_state = 'UNKNOWN' WHERE subscription_id = ?", p,
	            1);
	charge_now(&f.admin, f.sub_id, NULL, &r);
	it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");
	it_sql_exec("UPDATE subscriptions SET retry_state = 'NONE' WHERE subscription_id = ?", p, 1);
	/* cancelled */
	it_sql_exec("UPDATE subscriptions SET status = 'SUBSCRIBE_CANCEL', canceled_at ="
	            " UTC_TIMESTAMP(), next_payment_date = NULL WHERE subscription_id = ?",
	            p, 1);
	charge_now(&f.admin, f.sub_id, NULL, &r);
	it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");
	ck_assert_int_eq(q_i64("SELECT COUNT(*) FROM billing_attempt WHERE subscription_id = ?",
	                       f.sub_id),
	                 0);
	ck_assert_int_eq(it_fp_ledger_count(NULL, f.sid), 1);
	it_resp_free(&r);
}
END_TEST

START_TEST(a_declined_future_cycle_records_the_failure_only)
{
	struct it_resp r = IT_RESP_INIT;
	struct sub_fixture f;
	char *next;

	fixture(&f);
	fresh_sid(&f);
	next = q_str(sql_next, f.sub_id);
	add_fault(f.sid, "decline", -782, 1);
	charge_now(&f.admin, f.sub_id, NULL, &r);
	it_assert_error(&r, 502, "SUBSCRIPTION_PAYMENT_FAILED");
	assert_str(sql_status, f.sub_id, "SUBSCRIPTION");
	assert_str(sql_retry, f.sub_id, "NONE");
	assert_str(sql_next, f.sub_id, next);
	assert_str("SELECT last_failure_code FROM subscriptions WHERE subscription_id = ?", f.sub_id,
	           "-782");
	assert_str("SELECT status FROM billing_attempt WHERE subscription_id = ?", f.sub_id,
	           "DECLINED");
	ck_assert_int_eq(it_fp_ledger_count(NULL, f.sid), 0);
	free(next);
	it_resp_free(&r);
}
END_TEST

START_TEST(a_declined_due_cycle_follows_the_retry_policy_and_recovers)
{
	struct it_resp r = IT_RESP_INIT;
	struct sub_fixture f;
	char *cycle;

	fixture(&f);
	fresh_sid(&f);
	make_due(f.sub_id);
	cycle = q_str(sql_next, f.sub_id);
	add_fault(f.sid, "decline", -782, 1);
	charge_now(&f.admin, f.sub_id, NULL, &r);
	it_assert_error(&r, 502, "SUBSCRIPTION_PAYMENT_FAILED");
	assert_str(sql_status, f.sub_id, "SUBSCRIBE_PAYMENT_FAIL");
	assert_str(sql_retry, f.sub_id, "SCHEDULED");
	ck_assert_int_eq(q_i64("SELECT retry_attempts FROM subscriptions WHERE subscription_id = ?",
	                       f.sub_id),
	                 1);
	/* the first decline is retried at once (delay 0) */
	ck_assert_int_eq(q_i64("SELECT ABS(TIMESTAMPDIFF(SECOND, next_retry_at, UTC_TIMESTAMP()))"
	                       " <= 5 FROM subscriptions WHERE subscription_id = ?",
	                       f.sub_id),
	                 1);
	assert_str("SELECT CAST(failed_cycle_date AS CHAR) FROM subscriptions"
	           " WHERE subscription_id = ?",
	           f.sub_id, cycle);
	assert_str("SELECT c.status FROM subscription_cycles c JOIN subscriptions s ON"
	           " s.subscription_id = c.subscription_id AND s.failed_cycle_date = c.cycle_date"
	           " WHERE c.subscription_id = ?",
	           f.sub_id, "RETRYING");
	/* the customer is told once */
	ck_assert_int_eq(q_i64("SELECT COUNT(*) FROM api_event WHERE kind = 'NOTIFY_PAYMENT_FAILED'"
	                       " AND JSON_VALUE(payload, '$.subscriptionId') = ?",
	                       f.sub_id),
	                 1);

	/* charge now recovers the open cycle */
	charge_now(&f.admin, f.sub_id, NULL, &r);
	it_assert_status(&r, 200);
	assert_str(sql_status, f.sub_id, "SUBSCRIPTION");
	assert_str(sql_retry, f.sub_id, "NONE");
	ck_assert_int_eq(q_i64("SELECT retry_attempts FROM subscriptions WHERE subscription_id = ?",
	                       f.sub_id),
	                 0);
	assert_str("SELECT CAST(cycle_date AS CHAR) FROM orders WHERE subscription_id = ?"
	           " AND is_renewal = 1",
	           f.sub_id, cycle);
	/* anchored: next = F + 2P (F = today - 31, P = 30) */
	ck_assert_int_eq(q_i64("SELECT DATEDIFF(next_payment_date, first_payment_date)"
	                       " FROM subscriptions WHERE subscription_id = ?",
	                       f.sub_id),
	                 60);
	ck_assert_int_eq(it_fp_ledger_count(NULL, f.sid), 1);
	free(cycle);
	it_resp_free(&r);
}
END_TEST

START_TEST(retry_later_is_a_gateway_error_and_not_counted)
{
	struct it_resp r = IT_RESP_INIT;
	struct sub_fixture f;

	fixture(&f);
	make_due(f.sub_id);
	add_fault(f.sid, "decline", -429, 1);
	charge_now(&f.admin, f.sub_id, NULL, &r);
	it_assert_error(&r, 502, "PAYMENT_GATEWAY_ERROR");
	assert_str(sql_status, f.sub_id, "SUBSCRIPTION");
	assert_str(sql_retry, f.sub_id, "NONE");
	assert_str("SELECT CONCAT(status, ':', counted, ':', outcome) FROM billing_attempt"
	           " WHERE subscription_id = ?",
	           f.sub_id, "FAILED:0:RETRY_LATER");
	ck_assert_int_eq(it_fp_ledger_count(NULL, f.sid), 1);
	it_resp_free(&r);
}
END_TEST

START_TEST(a_timeout_that_charged_is_504_and_held_unknown)
{
	struct it_resp r = IT_RESP_INIT;
	char kv_port[64];
	const char *env[] = {kv_port, "PV_KAKAOPAY_TIMEOUT_MS=1000", NULL};
	int port = it_api_port() + 4, st;
	struct sub_fixture f;
	pid_t pid;

	snprintf(kv_port, sizeof(kv_port), "PV_API_PORT=%d", port);
	pid = it_api_spawn(NULL, env, port);
	ck_assert_int_gt(pid, 0);
	fixture(&f);
	add_fault(f.sid, "hang_applied", 0, 1);
	charge_now_on(port, &f.admin, f.sub_id, NULL, &r);
	it_assert_error(&r, 504, "PAYMENT_GATEWAY_TIMEOUT");
	assert_str(sql_retry, f.sub_id, "UNKNOWN");
	assert_str("SELECT status FROM billing_attempt WHERE subscription_id = ?", f.sub_id,
	           "UNKNOWN");
	ck_assert_int_eq(q_i64(sql_renewals, f.sub_id), 0);
	ck_assert_int_eq(it_fp_ledger_count(NULL, f.sid), 2); /* it did charge */
	/* never charged again blindly */
	charge_now_on(port, &f.admin, f.sub_id, NULL, &r);
	it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");
	ck_assert_int_eq(it_fp_ledger_count(NULL, f.sid), 2);
	it_resp_free(&r);
	ck_assert_int_eq(it_proc_stop(pid, 10000, &st), 0);
}
END_TEST

Suite *charge_now_suite(void)
{
	Suite *s = suite_create("charge_now");
	TCase *tc = tcase_create("charge_now");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, admin_charges_the_next_cycle_now);
	tcase_add_test(tc, the_renewal_order_is_refundable_and_shows_in_order_detail);
	tcase_add_test(tc, only_admins_and_known_subscriptions);
	tcase_add_test(tc, conflicts_change_nothing);
	tcase_add_test(tc, a_declined_future_cycle_records_the_failure_only);
	tcase_add_test(tc, a_declined_due_cycle_follows_the_retry_policy_and_recovers);
	tcase_add_test(tc, retry_later_is_a_gateway_error_and_not_counted);
	tcase_add_test(tc, a_timeout_that_charged_is_504_and_held_unknown);
	suite_add_tcase(s, tc);
	return s;
}
