/*
 * 96_billing: the life of one subscription under the real pillivery-billing (`--once` runs
 * with the injectable clock PV_CLOCK_OFFSET_S), each test bought end to end through the API
 * and the fake Kakao Pay, and each ending with the fake's ledger compared to the database
 * (tests/it/lib/billing.h):
 *
 *   charged on its cycle date at 10:00 KST (not the day before, not at 09:59, never twice),
 *   the renewal order (§2.7) and the anchored schedule (§2.6); six cycles in a row; a
 *   decline retried at once, then every 24 h, recovering (§2.7) or exhausted after five
 *   attempts with the outbox notice; hard declines -751 (SID ended at Kakao) and -750 (SID
 *   unknown) exhausted at once; -429 not counted and charged after the next local midnight;
 *   nothing charged while paused, for a skipped cycle or after a cancel (§2.5, §8); an
 *   UNKNOWN outcome (the charge applied, the answer lost) held for an admin after the SID
 *   probe, a dropped request (not applied) settled FAILED by two probes and charged at the
 *   next run (KAKAOPAY.md §3, §5 rows 12 and 13), and a -782 answer to a charge that went
 *   through taken as UNKNOWN, not as a decline (§1.11.4); and an orphaned attempt on a
 *   subscription paused by hand that must not stop the billing of the others.
 *
 * Dates are computed here (F + k·P, in Asia/Seoul), never with core/sched.c. The SID probe
 * compares the fake's last_approved_at (real time) with the attempt's claimed_at (the
 * daemon's clock), so the runs whose charge is applied by a fault use no clock offset: the
 * subscription is made due today in SQL and PV_BILLING_CHARGE_TIME is 00:00.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/it/lib/billing.h"
#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

#define QTY    2
#define PERIOD 30
#define DAY    86400

/* ---- fixture --------------------------------------------------------------------------------- */

struct fx {
	struct it_user u;
	struct it_bill_buy b;
	int64_t seq0; /* the fake's ledger before any recurring charge of the test */
	int32_t c1;   /* F + P: the first recurring cycle */
	struct it_ord_price price;
};

static void fx_init_at(struct it_loc at, struct fx *f)
{
	memset(f, 0, sizeof(*f));
	it_new_user_at(at, &f->u);
	it_bill_buy_at(at, &f->u, QTY, PERIOD, &f->b);
	f->seq0 = it_bill_ledger_seq_at(at);
	f->c1 = f->b.first + PERIOD;
	it_ord_price(f->b.item.origin, f->b.item.p10, &f->price);
}
#define fx_init(f) fx_init_at(IT_HERE, f)

/* Later runs of other tests (with their own clocks) leave the subscription alone. */
static void fx_done(struct fx *f)
{
	it_bill_retire(f->b.id, f->b.id);
}

/* One --once run whose clock reads local day at hh:mm:ss, with base overrides (may be NULL). */
static void run_at_at(struct it_loc at, const struct it_bill_env *base, int32_t day, int hh, int mm,
                      int ss)
{
	struct it_bill_env e;

	if (base)
		e = *base;
	else
		it_bill_env_init(&e);
	it_bill_env_at(&e, day, hh, mm, ss);
	free(it_bill_once_ok_at(at, &e));
}
#define run_at(base, day, hh, mm, ss) run_at_at(IT_HERE, base, day, hh, mm, ss)

/* One --once run whose clock reads the Unix time t. */
static void run_unix_at(struct it_loc at, const struct it_bill_env *base, int64_t t)
{
	struct it_bill_env e;

	if (base)
		e = *base;
	else
		it_bill_env_init(&e);
	it_bill_env_set(&e, "PV_CLOCK_OFFSET_S", "%" PRId64, t - (int64_t)time(NULL));
	free(it_bill_once_ok_at(at, &e));
}
#define run_unix(base, t) run_unix_at(IT_HERE, base, t)

static size_t natt(int64_t id)
{
	struct it_bill_att a[1];
	return it_bill_attempts(id, a, 0);
}

static void day_str(int32_t d, char out[11])
{
	it_bill_day_str(d, out);
}

/* status, retry_state and the next date (< 0: NULL) of the subscription. */
static void assert_sub_at(struct it_loc at, int64_t id, const char *status, const char *retry,
                          int32_t next)
{
	struct it_bill_sub s;
	char want[11] = "";

	it_bill_sub_at(at, id, &s);
	if (next >= 0)
		day_str(next, want);
	it_check_at(at, NULL,
	            !strcmp(s.status, status) && !strcmp(s.retry_state, retry) &&
	                !strcmp(s.next, want),
	            "subscription %" PRId64 ": %s / %s / next '%s', expected %s / %s / '%s'", id,
	            s.status, s.retry_state, s.next, status, retry, want);
}
#define assert_sub(id, status, retry, next) assert_sub_at(IT_HERE, id, status, retry, next)

static int64_t events(int64_t sub, const char *kind)
{
	struct db_param p[] = {DB_STR(kind), DB_I64(sub)};
	return it_sql_i64("SELECT COUNT(*) FROM api_event WHERE kind = ?"
	                  " AND JSON_VALUE(payload, '$.subscriptionId') = ?",
	                  p, 2);
}

static int64_t item_sales(int64_t item)
{
	struct db_param p[] = {DB_I64(item)};
	return it_sql_i64("SELECT sales FROM items WHERE item_id = ?", p, 1);
}

/* The partner_order_id of API.md §7.9 for (subscription, cycle, attempt). */
static void poid(int64_t sub, int32_t cycle, int n, char *out, size_t len)
{
	char d[11];

	day_str(cycle, d);
	snprintf(out, len, "S%" PRId64 "-C%.4s%.2s%.2s-A%d", sub, d, d + 5, d + 8, n);
}

static void ledger_ok_at(struct it_loc at, const struct fx *f, struct it_bill_report *rep)
{
	it_bill_ledger_check_at(at, &f->b.id, 1, f->seq0, true, rep);
}
#define ledger_ok(f, rep) ledger_ok_at(IT_HERE, f, rep)

/* GET /api/subscriptions/{id} as the owner; returns data (owned by r). */
static cJSON *get_sub_at(struct it_loc at, const struct fx *f, struct it_resp *r)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/subscriptions/%" PRId64, f->b.id);
	it_req_at(at, "GET", path, f->u.access, NULL, NULL, r);
	it_check_at(at, r, r->status == 200, "GET %s: expected 200", path);
	return it_assert_wrapper_at(at, r);
}
#define get_sub(f, r) get_sub_at(IT_HERE, f, r)

static void post_sub_at(struct it_loc at, const struct fx *f, const char *op)
{
	struct it_resp r = IT_RESP_INIT;
	char path[96];

	snprintf(path, sizeof(path), "/api/subscriptions/%" PRId64 "/%s", f->b.id, op);
	it_req_at(at, "POST", path, f->u.access, NULL, NULL, &r);
	it_check_at(at, &r, r.status == 200, "POST %s: expected 200", path);
	it_resp_free(&r);
}
#define post_sub(f, op) post_sub_at(IT_HERE, f, op)

static void assert_json_day_at(struct it_loc at, const cJSON *o, const char *key, int32_t day)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char want[11];

	if (day < 0) {
		it_check_at(at, NULL, cJSON_IsNull(v), "%s: expected null", key);
		return;
	}
	day_str(day, want);
	it_check_at(at, NULL, cJSON_IsString(v) && !strcmp(v->valuestring, want),
	            "%s: %s, expected %s", key,
	            cJSON_IsString(v) ? v->valuestring : "(not a string)", want);
}
#define assert_json_day(o, key, day) assert_json_day_at(IT_HERE, o, key, day)

static void sid_fault_del(int64_t id)
{
	if (id > 0)
		it_bill_fault_del(id);
}

/* ---- the cycle date, once -------------------------------------------------------------------- */

START_TEST(charged_on_its_cycle_date_at_the_charge_hour_once)
{
	struct fx f;
	struct it_bill_att a[4];
	struct it_bill_cycle c[4];
	struct it_bill_sub s;
	struct it_bill_report rep;
	struct it_resp r = IT_RESP_INIT;
	const cJSON *d, *lines, *line, *cyc;
	char path[96], want_poid[64], c1s[11];
	int64_t sales0, amount, renewal;

	fx_init(&f);
	/* the charge uses the current price (API.md §2.7), not the snapshot of the first order */
	it_ord_item_price(&f.b.item, 15000, 200);
	it_ord_price(15000, 200, &f.price);
	amount = QTY * f.price.real;
	sales0 = item_sales(f.b.item.id);

	/* the day before, and 09:59:30 on the day: not due */
	run_at(NULL, f.c1 - 1, 10, 0, 30);
	run_at(NULL, f.c1, 9, 59, 30);
	ck_assert_uint_eq(natt(f.b.id), 0);
	ck_assert_int_eq(it_bill_charges(f.b.sid, f.seq0), 0);
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.c1);

	/* 10:00:30 on the day: charged */
	run_at(NULL, f.c1, 10, 0, 30);
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "APPROVED");
	ck_assert_str_eq(a[0].initiated_by, "SCHEDULE");
	ck_assert_int_eq(a[0].attempt_no, 1);
	day_str(f.c1, c1s);
	ck_assert_str_eq(a[0].cycle, c1s);
	poid(f.b.id, f.c1, 1, want_poid, sizeof(want_poid));
	ck_assert_str_eq(a[0].partner_order_id, want_poid);
	ck_assert_int_eq(a[0].amount, amount);
	ck_assert_int_gt(a[0].order_id, 0);
	renewal = a[0].order_id;

	/* a second run the same day, and the next day: nothing more */
	run_at(NULL, f.c1, 10, 5, 0);
	run_at(NULL, f.c1 + 1, 10, 0, 30);
	ck_assert_uint_eq(natt(f.b.id), 1);
	ck_assert_int_eq(it_bill_charges(f.b.sid, f.seq0), 1);

	/* the schedule: L = C = c1, next = F + 2P */
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.b.first + 2 * PERIOD);
	it_bill_sub(f.b.id, &s);
	ck_assert_str_eq(s.last, c1s);
	ck_assert_str_eq(s.settled, c1s);
	ck_assert_int_eq(item_sales(f.b.item.id), sales0 + QTY);
	ck_assert_uint_eq(it_bill_cycles(f.b.id, c, 4), 2);
	ck_assert_str_eq(c[0].status, "PAID");
	ck_assert_int_eq(c[0].order_id, f.b.order_id);
	ck_assert_str_eq(c[1].date, c1s);
	ck_assert_str_eq(c[1].status, "PAID");
	ck_assert_int_eq(c[1].amount, amount);
	ck_assert_int_eq(c[1].order_id, renewal);

	/* the renewal order, through the API (§6.2) */
	snprintf(path, sizeof(path), "/api/orders/%" PRId64, renewal);
	it_get(path, f.u.access, &r);
	it_assert_status(&r, 200);
	d = it_assert_wrapper(&r);
	ck_assert_str_eq(it_json_str(d, "orderStatus"), "COMPLETE");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "renewal")));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "subscription")));
	ck_assert_int_eq(it_json_int(d, "totalItems"), 1);
	ck_assert_int_eq(it_json_int(d, "totalQuantity"), QTY);
	ck_assert_int_eq(it_json_int(d, "expectPrice"), amount);
	ck_assert_int_eq(it_json_int(d, "totalPrice"), QTY * f.price.origin);
	it_ord_assert_receiver(cJSON_GetObjectItem(d, "receiver"));
	lines = cJSON_GetObjectItem(d, "orderItems");
	ck_assert_int_eq(cJSON_GetArraySize(lines), 1);
	line = cJSON_GetArrayItem(lines, 0);
	ck_assert_int_eq(it_json_int(line, "itemId"), f.b.item.id);
	ck_assert_int_eq(it_json_int(line, "quantity"), QTY);
	ck_assert_int_eq(it_json_int(line, "realPrice"), f.price.real);
	ck_assert_int_eq(it_json_int(line, "period"), PERIOD);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(line, "subscription")));
	ck_assert_int_eq(it_json_int(line, "subscriptionOrderId"), f.b.id);

	/* the subscription, through the API (§8.1): next date and the cycles, newest first */
	d = get_sub(&f, &r);
	ck_assert_str_eq(it_json_str(d, "orderStatus"), "SUBSCRIPTION");
	assert_json_day(d, "firstPaymentDate", f.b.first);
	assert_json_day(d, "lastPaymentDate", f.c1);
	assert_json_day(d, "nextPaymentDate", f.b.first + 2 * PERIOD);
	ck_assert_str_eq(it_json_str(cJSON_GetObjectItem(d, "retry"), "state"), "NONE");
	cyc = cJSON_GetObjectItem(d, "cycles");
	ck_assert_int_eq(cJSON_GetArraySize(cyc), 2);
	assert_json_day(cJSON_GetArrayItem(cyc, 0), "cycleDate", f.c1);
	ck_assert_str_eq(it_json_str(cJSON_GetArrayItem(cyc, 0), "status"), "PAID");
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(cyc, 0), "amount"), amount);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(cyc, 0), "orderId"), renewal);
	it_assert_ts("paidAt", cJSON_GetObjectItem(cJSON_GetArrayItem(cyc, 0), "paidAt"));
	assert_json_day(cJSON_GetArrayItem(cyc, 1), "cycleDate", f.b.first);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(cyc, 1), "orderId"), f.b.order_id);

	/* the ledger: one charge, this attempt's */
	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	ck_assert_uint_eq(rep.approved, 1);
	it_resp_free(&r);
	fx_done(&f);
}
END_TEST

START_TEST(six_cycles_in_a_row)
{
	struct fx f;
	struct it_bill_att a[8];
	struct it_bill_cycle c[8];
	struct it_bill_report rep;
	struct it_resp r = IT_RESP_INIT;
	char path[160];
	int64_t sales0;

	fx_init(&f);
	sales0 = item_sales(f.b.item.id);
	for (int k = 1; k <= 6; k++) {
		int32_t cycle = f.b.first + k * PERIOD;
		int qty = k <= 3 ? QTY : QTY + 1;
		char want[64];

		if (k == 4) { /* a new quantity (§6.5) counts from the next charge */
			snprintf(path, sizeof(path),
			         "/api/orders/subscriptions/%" PRId64 "?orderItemId=%" PRId64
			         "&quantity=%d",
			         f.b.order_id, it_ord_line_id(f.b.order_id, 0), QTY + 1);
			it_req("PATCH", path, f.u.access, NULL, NULL, &r);
			it_assert_status(&r, 204);
		}
		run_at(NULL, cycle, 10, 0, 30);
		run_at(NULL, cycle, 23, 59, 0); /* the same day again: nothing */
		ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 8), (size_t)k);
		ck_assert_str_eq(a[k - 1].status, "APPROVED");
		poid(f.b.id, cycle, 1, want, sizeof(want));
		ck_assert_str_eq(a[k - 1].partner_order_id, want);
		ck_assert_int_eq(a[k - 1].amount, qty * f.price.real);
		assert_sub(f.b.id, "SUBSCRIPTION", "NONE", cycle + PERIOD);
		ck_assert_int_eq(it_bill_charges(f.b.sid, f.seq0), k);
	}
	ck_assert_uint_eq(it_bill_cycles(f.b.id, c, 8), 7);
	for (int k = 0; k < 7; k++) {
		char want[11];
		day_str(f.b.first + k * PERIOD, want);
		ck_assert_str_eq(c[k].date, want);
		ck_assert_str_eq(c[k].status, "PAID");
	}
	ck_assert_int_eq(item_sales(f.b.item.id), sales0 + 3 * QTY + 3 * (QTY + 1));
	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 6);
	ck_assert_uint_eq(rep.approved, 6);
	it_resp_free(&r);
	fx_done(&f);
}
END_TEST

START_TEST(two_subscriptions_on_one_sid_are_charged_one_after_the_other)
{
	struct it_user u;
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item items[2];
	struct it_ord_line lines[2];
	struct it_bill_att a[4];
	struct it_bill_report rep;
	int64_t order, ids[2], seq0, overlap;
	int32_t first, c1;
	char *sid, *first_s;

	/* one order, two subscription lines: one SID for both (KAKAOPAY.md §1.8) */
	it_new_user(&u);
	for (int i = 0; i < 2; i++) {
		it_ord_item_new(&items[i], 9000 + 1000 * i, 0, 0);
		lines[i] = (struct it_ord_line){items[i].id, 1, true, PERIOD};
	}
	order = it_ord_place(&u, lines, 2, &r);
	it_fp_pay_order(&u, order);
	for (int i = 0; i < 2; i++) {
		struct db_param q[] = {DB_I64(order), DB_I64(i)};
		ids[i] = it_sql_i64("SELECT subscription_id FROM subscriptions WHERE order_id = ?"
		                    " ORDER BY subscription_id LIMIT 1 OFFSET ?",
		                    q, 2);
	}
	struct db_param q[] = {DB_I64(order)};
	ck_assert_int_eq(
	    it_sql_i64("SELECT COUNT(DISTINCT sid) FROM subscriptions WHERE order_id = ?", q, 1),
	    1);
	sid = it_sql_str("SELECT MIN(sid) FROM subscriptions WHERE order_id = ?", q, 1);
	first_s = it_sql_str("SELECT DATE_FORMAT(MIN(first_payment_date), '%Y-%m-%d')"
	                     " FROM subscriptions WHERE order_id = ?",
	                     q, 1);
	first = it_bill_day(first_s);
	c1 = first + PERIOD;
	seq0 = it_bill_ledger_seq();

	/* both due at once: one run charges both, never both on the SID at the same time */
	run_at(NULL, c1, 10, 0, 30);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(it_bill_attempts(ids[i], a, 4), 1);
		ck_assert_str_eq(a[0].status, "APPROVED");
		assert_sub(ids[i], "SUBSCRIPTION", "NONE", first + 2 * PERIOD);
	}
	struct db_param both[] = {DB_I64(ids[0]), DB_I64(ids[1])};
	overlap = it_sql_i64("SELECT COUNT(*) FROM billing_attempt x JOIN billing_attempt y"
	                     " ON y.sid = x.sid AND y.billing_attempt_id > x.billing_attempt_id"
	                     " WHERE x.subscription_id IN (?, ?) AND y.claimed_at < x.finished_at",
	                     both, 2);
	ck_assert_int_eq(overlap, 0);
	ck_assert_int_eq(it_bill_charges(sid, seq0), 2);
	it_bill_ledger_check(ids, 2, seq0, true, &rep);
	ck_assert_uint_eq(rep.approved, 2);
	free(sid);
	free(first_s);
	it_resp_free(&r);
	it_bill_retire(ids[0] < ids[1] ? ids[0] : ids[1], ids[0] < ids[1] ? ids[1] : ids[0]);
}
END_TEST

/* ---- declines and the retry policy ----------------------------------------------------------- */

static int64_t decline_rule(const struct fx *f, int code)
{
	return it_bill_fault("{\"match\":{\"sid\":\"%s\",\"endpoint\":\"subscription\"},"
	                     "\"action\":\"decline\",\"code\":%d,"
	                     "\"method_result_code\":\"CARD_DECLINED\","
	                     "\"method_result_message\":\"잔액이 부족합니다.\"}",
	                     f->b.sid, code);
}

START_TEST(declined_retried_at_once_then_after_24_hours_and_recovers)
{
	struct fx f;
	struct it_bill_att a[8];
	struct it_bill_cycle c[4];
	struct it_bill_sub s;
	struct it_bill_report rep;
	struct it_resp r = IT_RESP_INIT;
	const cJSON *d, *retry, *cyc;
	char want[64], c1s[11];
	int64_t rule, retry_at;

	fx_init(&f);
	day_str(f.c1, c1s);
	rule = decline_rule(&f, -782);

	/* the cycle date: declined, retried in the same run, declined again */
	run_at(NULL, f.c1, 10, 0, 30);
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 8), 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_str_eq(a[i].status, "DECLINED");
		ck_assert(a[i].counted);
		ck_assert_str_eq(a[i].cycle, c1s);
		ck_assert_int_eq(a[i].attempt_no, i + 1);
		ck_assert_str_eq(a[i].error_code, "-782");
		poid(f.b.id, f.c1, i + 1, want, sizeof(want));
		ck_assert_str_eq(a[i].partner_order_id, want);
	}
	ck_assert_str_eq(a[0].initiated_by, "SCHEDULE");
	ck_assert_str_eq(a[1].initiated_by, "RETRY");
	assert_sub(f.b.id, "SUBSCRIBE_PAYMENT_FAIL", "SCHEDULED", f.c1);
	it_bill_sub(f.b.id, &s);
	ck_assert_int_eq(s.retry_attempts, 2);
	ck_assert_str_eq(s.failed_cycle, c1s);
	ck_assert_str_eq(s.last_failure_code, "-782");
	/* the next retry 24 h after the second decline */
	ck_assert_msg(s.next_retry_at >= a[1].claimed_at + DAY &&
	                  s.next_retry_at <= a[1].claimed_at + DAY + 60,
	              "nextRetryAt %" PRId64 " is not 24 h after the second attempt (%" PRId64 ")",
	              s.next_retry_at, a[1].claimed_at);
	retry_at = s.next_retry_at;
	ck_assert_uint_eq(it_bill_cycles(f.b.id, c, 4), 2);
	ck_assert_str_eq(c[1].status, "RETRYING");
	ck_assert_int_eq(c[1].attempts, 2);
	ck_assert_int_eq(events(f.b.id, "NOTIFY_PAYMENT_FAILED"), 1);
	ck_assert_int_eq(events(f.b.id, "NOTIFY_RETRY_EXHAUSTED"), 0);

	d = get_sub(&f, &r);
	ck_assert_str_eq(it_json_str(d, "orderStatus"), "SUBSCRIBE_PAYMENT_FAIL");
	assert_json_day(d, "nextPaymentDate", f.c1);
	retry = cJSON_GetObjectItem(d, "retry");
	ck_assert_str_eq(it_json_str(retry, "state"), "SCHEDULED");
	ck_assert_int_eq(it_json_int(retry, "attempts"), 2);
	ck_assert_int_eq(it_json_int(retry, "maxAttempts"), 5);
	assert_json_day(retry, "failedCycleDate", f.c1);
	it_assert_ts("nextRetryAt", cJSON_GetObjectItem(retry, "nextRetryAt"));
	ck_assert_str_eq(it_json_str(retry, "lastFailureCode"), "-782");
	ck_assert_str_eq(it_json_str(retry, "lastFailureMessage"), "잔액이 부족합니다.");
	cyc = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "cycles"), 0);
	assert_json_day(cyc, "cycleDate", f.c1);
	ck_assert_str_eq(it_json_str(cyc, "status"), "RETRYING");
	ck_assert_int_eq(it_json_int(cyc, "attempts"), 2);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cyc, "amount")));

	/* later the same day and a minute before the retry time: nothing */
	run_at(NULL, f.c1, 18, 0, 0);
	run_unix(NULL, retry_at - 60);
	ck_assert_uint_eq(natt(f.b.id), 2);

	/* the card works again: the retry at its time succeeds */
	it_bill_fault_del(rule);
	run_unix(NULL, retry_at + 30);
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 8), 3);
	ck_assert_str_eq(a[2].status, "APPROVED");
	ck_assert_str_eq(a[2].initiated_by, "RETRY");
	ck_assert_str_eq(a[2].cycle, c1s);
	ck_assert_int_eq(a[2].attempt_no, 3);
	/* anchored: a retry paid on c1 + 1 keeps the grid, next = F + 2P */
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.b.first + 2 * PERIOD);
	it_bill_sub(f.b.id, &s);
	ck_assert_int_eq(s.retry_attempts, 0);
	ck_assert_str_eq(s.failed_cycle, "");
	ck_assert_int_eq(s.next_retry_at, 0);
	ck_assert_str_eq(s.last_failure_code, "");
	ck_assert_str_eq(s.settled, c1s);
	ck_assert_uint_eq(it_bill_cycles(f.b.id, c, 4), 2);
	ck_assert_str_eq(c[1].status, "PAID");
	ck_assert_int_eq(c[1].attempts, 3);

	d = get_sub(&f, &r);
	retry = cJSON_GetObjectItem(d, "retry");
	ck_assert_str_eq(it_json_str(retry, "state"), "NONE");
	ck_assert_int_eq(it_json_int(retry, "attempts"), 0);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(retry, "lastFailureCode")));

	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	ck_assert_uint_eq(rep.approved, 1);
	ck_assert_uint_eq(rep.declined, 2);
	it_resp_free(&r);
	fx_done(&f);
}
END_TEST

START_TEST(a_decline_whose_probe_fails_is_unknown_not_retried_blindly)
{
	struct fx f;
	struct it_bill_att a[4];
	struct it_bill_env e;
	struct it_bill_report rep;
	int64_t decline, probe;

	fx_init(&f);
	it_bill_env_init(&e);
	it_bill_env_set(&e, "PV_BILLING_UNKNOWN_FIRST_PROBE_S", "0");
	it_bill_env_set(&e, "PV_BILLING_UNKNOWN_SECOND_PROBE_S", "0");
	/* -782 counts as a decline only once a SID probe proves nothing moved (§1.11.4); here
	 * that probe fails, so the charge is UNKNOWN: no retry, no status change */
	decline = it_bill_fault("{\"match\":{\"sid\":\"%s\",\"endpoint\":\"subscription\"},"
	                        "\"action\":\"decline\",\"code\":-782,\"times\":1}",
	                        f.b.sid);
	probe = it_bill_fault("{\"match\":{\"sid\":\"%s\",\"endpoint\":\"status\"},"
	                      "\"action\":\"http500\",\"times\":1}",
	                      f.b.sid);
	run_at(&e, f.c1, 10, 0, 30);
	ck_assert_int_eq(it_bill_fault_fired(decline), 1);
	ck_assert_int_eq(it_bill_fault_fired(probe), 1);
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "UNKNOWN");
	ck_assert(!a[0].counted);
	assert_sub(f.b.id, "SUBSCRIPTION", "UNKNOWN", f.c1);
	ck_assert_int_eq(events(f.b.id, "NOTIFY_PAYMENT_FAILED"), 0);

	/* the reconciler's probes (the same run, then 40 s later) find no charge: FAILED, and
	 * the cycle is charged at the next run */
	run_at(&e, f.c1, 10, 1, 10);
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "FAILED");
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.c1);
	run_at(&e, f.c1, 10, 1, 50);
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 2);
	ck_assert_str_eq(a[1].status, "APPROVED");
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.b.first + 2 * PERIOD);
	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	sid_fault_del(decline);
	sid_fault_del(probe);
	fx_done(&f);
}
END_TEST

START_TEST(five_declines_exhaust_the_retries)
{
	struct fx f;
	struct it_bill_att a[8];
	struct it_bill_cycle c[4];
	struct it_bill_sub s;
	struct it_bill_report rep;
	struct it_resp r = IT_RESP_INIT;
	const cJSON *d;
	char path[128];
	int64_t rule, prev;

	fx_init(&f);
	rule = decline_rule(&f, -782);
	run_at(NULL, f.c1, 10, 0, 30);
	ck_assert_uint_eq(natt(f.b.id), 2);
	it_bill_sub(f.b.id, &s);
	for (int k = 3; k <= 5; k++) {
		prev = s.next_retry_at;
		run_unix(NULL, prev + 20);
		ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 8), (size_t)k);
		ck_assert_str_eq(a[k - 1].status, "DECLINED");
		ck_assert_str_eq(a[k - 1].initiated_by, "RETRY");
		it_bill_sub(f.b.id, &s);
		ck_assert_int_eq(s.retry_attempts, k);
		if (k < 5) {
			/* every 24 h, anchored on the scheduled time, not on when the run came */
			ck_assert_str_eq(s.retry_state, "SCHEDULED");
			ck_assert_int_eq(s.next_retry_at, prev + DAY);
		}
	}
	/* the fifth decline: exhausted, nothing more automatically */
	assert_sub(f.b.id, "SUBSCRIBE_PAYMENT_FAIL", "EXHAUSTED", -1);
	ck_assert_int_eq(s.next_retry_at, 0);
	ck_assert_uint_eq(it_bill_cycles(f.b.id, c, 4), 2);
	ck_assert_str_eq(c[1].status, "FAILED");
	ck_assert_int_eq(c[1].attempts, 5);
	ck_assert_int_eq(events(f.b.id, "NOTIFY_RETRY_EXHAUSTED"), 1);
	ck_assert_int_eq(events(f.b.id, "NOTIFY_PAYMENT_FAILED"), 1);

	it_bill_fault_del(rule);
	run_unix(NULL, prev + DAY + 60);
	run_at(NULL, f.b.first + 2 * PERIOD, 10, 0, 30);
	run_at(NULL, f.b.first + 3 * PERIOD, 10, 0, 30);
	ck_assert_uint_eq(natt(f.b.id), 5);
	assert_sub(f.b.id, "SUBSCRIBE_PAYMENT_FAIL", "EXHAUSTED", -1);

	d = get_sub(&f, &r);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "nextPaymentDate")));
	ck_assert_str_eq(it_json_str(cJSON_GetObjectItem(d, "retry"), "state"), "EXHAUSTED");
	ck_assert_int_eq(it_json_int(cJSON_GetObjectItem(d, "retry"), "attempts"), 5);
	ck_assert_str_eq(
	    it_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "cycles"), 0), "status"),
	    "FAILED");

	/* exhaustion does not end the SID (an admin may still charge the cycle) */
	snprintf(path, sizeof(path), "/sid/%s", f.b.sid);
	it_fp_ctl("GET", path, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(it_json_str(r.json, "status"), "ACTIVE");

	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 0);
	ck_assert_uint_eq(rep.declined, 5);
	it_resp_free(&r);
	fx_done(&f);
}
END_TEST

/* A hard decline (SID_DEAD) on the cycle date: one attempt, exhausted at once. */
static void assert_hard_decline_at(struct it_loc at, struct fx *f, const char *outcome,
                                   const char *code)
{
	struct it_bill_att a[4];
	struct it_bill_sub s;
	struct it_bill_report rep;

	run_at_at(at, NULL, f->c1, 10, 0, 30);
	it_check_at(at, NULL, it_bill_attempts_at(at, f->b.id, a, 4) == 1, "one attempt expected");
	it_check_at(at, NULL,
	            !strcmp(a[0].status, "DECLINED") && !strcmp(a[0].outcome, outcome) &&
	                !strcmp(a[0].error_code, code) && a[0].counted,
	            "attempt %s %s %s, expected DECLINED %s %s", a[0].status, a[0].outcome,
	            a[0].error_code, outcome, code);
	assert_sub_at(at, f->b.id, "SUBSCRIBE_PAYMENT_FAIL", "EXHAUSTED", -1);
	it_bill_sub_at(at, f->b.id, &s);
	it_check_at(at, NULL, s.retry_attempts == 1 && s.next_retry_at == 0,
	            "retry attempts %d, nextRetryAt %" PRId64, s.retry_attempts, s.next_retry_at);
	it_check_at(at, NULL, events(f->b.id, "NOTIFY_RETRY_EXHAUSTED") == 1,
	            "one NOTIFY_RETRY_EXHAUSTED expected");
	/* the next days and the next cycle: nothing */
	run_at_at(at, NULL, f->c1 + 1, 10, 0, 30);
	run_at_at(at, NULL, f->c1 + PERIOD, 10, 0, 30);
	it_check_at(at, NULL, natt(f->b.id) == 1, "no attempt after a hard decline");
	it_bill_ledger_check_at(at, &f->b.id, 1, f->seq0, true, &rep);
	it_check_at(at, NULL, rep.entries == 0, "nothing charged");
}

START_TEST(sid_ended_at_kakao_751_exhausts_at_once)
{
	struct fx f;
	struct it_resp r = IT_RESP_INIT;
	char path[128];

	fx_init(&f);
	snprintf(path, sizeof(path), "/sid/%s/inactivate", f.b.sid);
	it_fp_ctl("POST", path, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	assert_hard_decline_at(IT_HERE, &f, "SID_DEAD", "-751");
	it_resp_free(&r);
	fx_done(&f);
}
END_TEST

START_TEST(sid_unknown_at_kakao_750_exhausts_at_once)
{
	struct fx f;
	char sid[40], digits[9];

	fx_init(&f);
	it_unique_digits(digits);
	snprintf(sid, sizeof(sid), "S99999999999%s", digits);
	struct db_param p[] = {DB_STR(sid), DB_I64(f.b.id)};
	it_sql_exec("UPDATE subscriptions SET sid = ? WHERE subscription_id = ?", p, 2);
	snprintf(f.b.sid, sizeof(f.b.sid), "%s", sid);
	assert_hard_decline_at(IT_HERE, &f, "SID_DEAD", "-750");
	fx_done(&f);
}
END_TEST

START_TEST(sid_monthly_limit_752_exhausts_at_once)
{
	struct fx f;
	int64_t rule;

	fx_init(&f);
	rule = decline_rule(&f, -752);
	assert_hard_decline_at(IT_HERE, &f, "LIMIT", "-752");
	ck_assert_int_eq(it_bill_fault_fired(rule), 1);
	sid_fault_del(rule);
	fx_done(&f);
}
END_TEST

START_TEST(quota_429_not_counted_and_charged_after_local_midnight)
{
	struct fx f;
	struct it_bill_att a[4];
	struct it_bill_sub s;
	struct it_bill_report rep;
	char want[64];
	int64_t rule;

	fx_init(&f);
	rule =
	    it_bill_fault("{\"match\":{\"sid\":\"%s\",\"endpoint\":\"subscription\"},"
	                  "\"action\":\"decline\",\"code\":-429,\"http_status\":429,\"times\":1}",
	                  f.b.sid);
	run_at(NULL, f.c1, 10, 0, 30);
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "FAILED");
	ck_assert_str_eq(a[0].outcome, "RETRY_LATER");
	ck_assert(!a[0].counted);
	/* no status change, no retry counted; held until 00:00 KST */
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.c1);
	it_bill_sub(f.b.id, &s);
	ck_assert_int_eq(s.retry_attempts, 0);
	ck_assert_str_eq(s.last_failure_code, "-429");
	ck_assert_int_eq(s.hold_until, (int64_t)(f.c1 + 1) * DAY - 9 * 3600);

	run_at(NULL, f.c1, 15, 0, 0);
	run_at(NULL, f.c1, 23, 59, 30);
	ck_assert_uint_eq(natt(f.b.id), 1);

	run_at(NULL, f.c1 + 1, 0, 0, 30);
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 2);
	ck_assert_str_eq(a[1].status, "APPROVED");
	poid(f.b.id, f.c1, 2, want, sizeof(want));
	ck_assert_str_eq(a[1].partner_order_id, want);
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.b.first + 2 * PERIOD);
	ck_assert_int_eq(it_bill_fault_fired(rule), 1);
	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	ck_assert_uint_eq(rep.failed, 1);
	sid_fault_del(rule);
	fx_done(&f);
}
END_TEST

/* ---- pause, skip, cancel --------------------------------------------------------------------- */

START_TEST(nothing_charged_while_paused)
{
	struct fx f;
	struct it_bill_report rep;

	fx_init(&f);
	post_sub(&f, "pause");
	assert_sub(f.b.id, "PAUSED", "NONE", -1);
	run_at(NULL, f.c1, 10, 0, 30);
	run_at(NULL, f.b.first + 2 * PERIOD, 10, 0, 30);
	ck_assert_uint_eq(natt(f.b.id), 0);
	ck_assert_int_eq(it_bill_charges(f.b.sid, f.seq0), 0);

	/* resumed today: next by the rule (strictly after today), charged on that date */
	post_sub(&f, "resume");
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.c1);
	run_at(NULL, f.c1, 10, 0, 30);
	ck_assert_uint_eq(natt(f.b.id), 1);
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.b.first + 2 * PERIOD);
	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	fx_done(&f);
}
END_TEST

START_TEST(a_skipped_cycle_is_not_charged)
{
	struct fx f;
	struct it_bill_att a[4];
	struct it_bill_cycle c[4];
	struct it_bill_report rep;
	char want[11];
	int32_t c2;

	fx_init(&f);
	c2 = f.b.first + 2 * PERIOD;
	post_sub(&f, "skip");
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", c2);
	run_at(NULL, f.c1, 10, 0, 30);
	run_at(NULL, f.c1 + 1, 10, 0, 30);
	ck_assert_uint_eq(natt(f.b.id), 0);

	run_at(NULL, c2, 10, 0, 30);
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	day_str(c2, want);
	ck_assert_str_eq(a[0].cycle, want);
	ck_assert_str_eq(a[0].status, "APPROVED");
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", c2 + PERIOD);
	ck_assert_uint_eq(it_bill_cycles(f.b.id, c, 4), 3);
	ck_assert_str_eq(c[1].status, "SKIPPED");
	ck_assert_str_eq(c[2].status, "PAID");
	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	fx_done(&f);
}
END_TEST

START_TEST(nothing_charged_after_a_cancel)
{
	struct fx f;
	struct it_resp r = IT_RESP_INIT;
	struct it_bill_report rep;
	char path[96];

	fx_init(&f);
	snprintf(path, sizeof(path), "/api/subscriptions?itemOrderId=%" PRId64, f.b.id);
	it_req("DELETE", path, f.u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);
	assert_sub(f.b.id, "SUBSCRIBE_CANCEL", "NONE", -1);
	run_at(NULL, f.c1, 10, 0, 30);
	run_at(NULL, f.b.first + 2 * PERIOD, 10, 0, 30);
	ck_assert_uint_eq(natt(f.b.id), 0);
	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 0);
	it_resp_free(&r);
}
END_TEST

/* ---- outcomes the client cannot know: KAKAOPAY.md §3 ----------------------------------------- */

/* Due today at once (F = today - P in SQL), charge time 00:00, quick probes. */
static void due_today(struct fx *f, struct it_bill_env *e)
{
	int32_t today = it_bill_today();

	it_bill_set_dates(f->b.id, today - PERIOD, today);
	f->b.first = today - PERIOD;
	f->c1 = today;
	it_bill_env_init(e);
	it_bill_env_set(e, "PV_BILLING_CHARGE_TIME", "00:00");
	it_bill_env_set(e, "PV_KAKAOPAY_TIMEOUT_MS", "1000");
	it_bill_env_set(e, "PV_BILLING_ORPHAN_AFTER_S", "20");
	it_bill_env_set(e, "PV_BILLING_UNKNOWN_FIRST_PROBE_S", "0");
	it_bill_env_set(e, "PV_BILLING_UNKNOWN_SECOND_PROBE_S", "0");
}

START_TEST(charged_but_answer_lost_is_held_for_an_admin)
{
	struct fx f;
	struct it_bill_env e;
	struct it_bill_att a[4];
	struct it_bill_cycle c[4];
	struct it_bill_report rep;
	struct it_resp r = IT_RESP_INIT;
	const cJSON *d;
	int64_t rule;

	fx_init(&f);
	due_today(&f, &e);
	rule = it_bill_fault("{\"match\":{\"sid\":\"%s\",\"endpoint\":\"subscription\"},"
	                     "\"action\":\"hang_applied\",\"times\":1}",
	                     f.b.sid);
	/* no clock offset: the probe compares the fake's real clock with claimed_at */
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "UNKNOWN");
	ck_assert_str_eq(a[0].tid, "");
	/* the SID probe of the same run saw last_approved_at at the claim: probably charged */
	ck_assert_int_ge(a[0].probe_count, 1);
	ck_assert(a[0].needs_admin);
	assert_sub(f.b.id, "SUBSCRIPTION", "UNKNOWN", f.c1);
	ck_assert_uint_eq(it_bill_cycles(f.b.id, c, 4), 2);
	ck_assert_str_eq(c[1].status, "UNKNOWN");
	ck_assert_int_eq(it_bill_fault_fired(rule), 1);

	/* never charged again automatically: later runs, later days */
	{
		struct it_bill_env later = e;
		it_bill_env_set(&later, "PV_CLOCK_OFFSET_S", "90");
		free(it_bill_once_ok_at(IT_HERE, &later));
		it_bill_env_set(&later, "PV_CLOCK_OFFSET_S", "%d", 2 * DAY);
		free(it_bill_once_ok_at(IT_HERE, &later));
	}
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "UNKNOWN");

	d = get_sub(&f, &r);
	ck_assert_str_eq(it_json_str(cJSON_GetObjectItem(d, "retry"), "state"), "UNKNOWN");
	ck_assert_str_eq(
	    it_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "cycles"), 0), "status"),
	    "UNKNOWN");

	/* exactly one charge at the gateway, this attempt's, held for an admin */
	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	ck_assert_uint_eq(rep.unknown_admin, 1);
	ck_assert_uint_eq(rep.unknown_charged, 1);
	sid_fault_del(rule);
	it_resp_free(&r);
	fx_done(&f);
}
END_TEST

START_TEST(dropped_request_probed_twice_failed_then_charged)
{
	struct fx f;
	struct it_bill_env e;
	struct it_bill_att a[4];
	struct it_bill_report rep;
	int64_t rule;

	fx_init(&f);
	due_today(&f, &e);
	rule = it_bill_fault("{\"match\":{\"sid\":\"%s\",\"endpoint\":\"subscription\"},"
	                     "\"action\":\"drop\",\"times\":1}",
	                     f.b.sid);
	/* A small forward offset keeps the purchase's last_approved_at more than 5 s before the
	 * claim (the drop applies nothing, so the probe compares with the purchase). */
	it_bill_env_set(&e, "PV_CLOCK_OFFSET_S", "60");
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "UNKNOWN");
	ck_assert_int_eq(a[0].probe_count, 1);
	ck_assert(!a[0].needs_admin);
	assert_sub(f.b.id, "SUBSCRIPTION", "UNKNOWN", f.c1);
	ck_assert_int_eq(it_bill_charges(f.b.sid, f.seq0), 0);

	/* the second probe, 30 s later or more: not charged, FAILED; the cycle is open again */
	it_bill_env_set(&e, "PV_CLOCK_OFFSET_S", "100");
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "FAILED");
	ck_assert(!a[0].counted);
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.c1);

	/* the next run charges it, once */
	it_bill_env_set(&e, "PV_CLOCK_OFFSET_S", "140");
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 2);
	ck_assert_str_eq(a[1].status, "APPROVED");
	ck_assert_int_eq(a[1].attempt_no, 2);
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.c1 + PERIOD);
	ck_assert_int_eq(it_bill_fault_fired(rule), 1);

	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	ck_assert_uint_eq(rep.approved, 1);
	ck_assert_uint_eq(rep.failed, 1);
	sid_fault_del(rule);
	fx_done(&f);
}
END_TEST

START_TEST(declined_but_charged_782_is_unknown_and_never_retried)
{
	struct fx f;
	struct it_bill_env e;
	struct it_bill_att a[4];
	struct it_bill_report rep;
	int64_t rule;

	fx_init(&f);
	due_today(&f, &e);
	/* a -782 answer although the charge went through (KAKAOPAY.md §1.11.4): the immediate SID
	 * probe sees last_approved_at at the claim, so it is not a decline */
	rule = it_bill_fault("{\"match\":{\"sid\":\"%s\",\"endpoint\":\"subscription\"},"
	                     "\"action\":\"decline_applied\",\"code\":-782,"
	                     "\"method_result_code\":\"CARD_DECLINED\",\"times\":1}",
	                     f.b.sid);
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "UNKNOWN");
	ck_assert(!a[0].counted);
	ck_assert(a[0].needs_admin);
	assert_sub(f.b.id, "SUBSCRIPTION", "UNKNOWN", f.c1);
	ck_assert_int_eq(events(f.b.id, "NOTIFY_PAYMENT_FAILED"), 0);

	it_bill_env_set(&e, "PV_CLOCK_OFFSET_S", "%d", DAY + 60);
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(natt(f.b.id), 1);
	ck_assert_int_eq(it_bill_fault_fired(rule), 1);
	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	ck_assert_uint_eq(rep.unknown_charged, 1);
	sid_fault_del(rule);
	fx_done(&f);
}
END_TEST

/* The tid of the ledger's charge with payload att:<id> after seq0 (caller frees), NULL if none. */
static char *ledger_tid(const struct fx *f, int64_t att)
{
	char q[160], payload[40];
	cJSON *all, *e;
	char *tid = NULL;

	snprintf(q, sizeof(q), "since=%" PRId64 "&kind=PAYMENT&sid=%s", f->seq0, f->b.sid);
	snprintf(payload, sizeof(payload), "att:%" PRId64, att);
	all = it_fp_ledger(q);
	cJSON_ArrayForEach(e, all)
	{
		const char *pl = cJSON_GetStringValue(cJSON_GetObjectItem(e, "payload"));
		const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(e, "tid"));
		if (pl && t && !strcmp(pl, payload) && !tid)
			tid = strdup(t);
	}
	cJSON_Delete(all);
	return tid;
}

static void verdict(int64_t att, const char *v, const char *tid)
{
	struct db_param p[] = {DB_STR(v), DB_STR(tid), DB_I64(att)};
	it_sql_exec("UPDATE billing_attempt SET admin_verdict = ?, admin_tid = ?,"
	            " admin_verdict_by = 'it-admin', admin_verdict_at = UTC_TIMESTAMP()"
	            " WHERE billing_attempt_id = ?",
	            p, 3);
}

static char *att_str(int64_t att, const char *col_sql)
{
	struct db_param p[] = {DB_I64(att)};
	return it_sql_str(col_sql, p, 1);
}

START_TEST(an_admin_settles_unknown_charges_by_verdict)
{
	struct fx f, g;
	struct it_bill_env e;
	struct it_bill_att a[4];
	struct it_bill_report rep;
	char *tid, *wrong, *s;
	int64_t rule_f, rule_g;

	/* f: charged, answer lost; g: not charged, answer lost; both UNKNOWN */
	fx_init(&f);
	fx_init(&g);
	due_today(&f, &e);
	due_today(&g, &e);
	/* no probe: only the admin settles them */
	it_bill_env_set(&e, "PV_BILLING_UNKNOWN_FIRST_PROBE_S", "3600");
	it_bill_env_set(&e, "PV_BILLING_UNKNOWN_SECOND_PROBE_S", "3600");
	rule_f = it_bill_fault("{\"match\":{\"sid\":\"%s\",\"endpoint\":\"subscription\"},"
	                       "\"action\":\"hang_applied\",\"times\":1}",
	                       f.b.sid);
	rule_g = it_bill_fault("{\"match\":{\"sid\":\"%s\",\"endpoint\":\"subscription\"},"
	                       "\"action\":\"hang\",\"times\":1}",
	                       g.b.sid);
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "UNKNOWN");
	int64_t fa = a[0].id;
	ck_assert_uint_eq(it_bill_attempts(g.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "UNKNOWN");
	int64_t ga = a[0].id;
	tid = ledger_tid(&f, fa);
	ck_assert_ptr_nonnull(tid);

	/* a CHARGED verdict with a TID that is not this charge (the first order's): rejected */
	wrong = it_sql_str("SELECT tid FROM payments WHERE order_id = ? AND status = 'APPROVED'",
	                   (struct db_param[]){DB_I64(f.b.order_id)}, 1);
	verdict(fa, "CHARGED", wrong);
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "UNKNOWN");
	ck_assert(a[0].needs_admin);
	s = att_str(fa, "SELECT admin_verdict FROM billing_attempt WHERE billing_attempt_id = ?");
	ck_assert_ptr_null(s);
	s = att_str(fa, "SELECT resolution_note FROM billing_attempt WHERE billing_attempt_id = ?");
	ck_assert_ptr_nonnull(s);
	free(s);

	/* the right TID: verified by an order lookup, APPROVED with the effects of a charge */
	verdict(fa, "CHARGED", tid);
	/* g: NOT_CHARGED, FAILED; its cycle is charged at the next run */
	verdict(ga, "NOT_CHARGED", NULL);
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(it_bill_attempts(f.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "APPROVED");
	ck_assert_str_eq(a[0].tid, tid);
	ck_assert_int_gt(a[0].order_id, 0);
	s = att_str(fa, "SELECT resolved_by FROM billing_attempt WHERE billing_attempt_id = ?");
	ck_assert_str_eq(s, "ADMIN");
	free(s);
	assert_sub(f.b.id, "SUBSCRIPTION", "NONE", f.c1 + PERIOD);
	ck_assert_uint_eq(it_bill_attempts(g.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "FAILED");
	free(it_bill_once_ok_at(IT_HERE, &e));
	ck_assert_uint_eq(it_bill_attempts(g.b.id, a, 4), 2);
	ck_assert_str_eq(a[1].status, "APPROVED");
	assert_sub(g.b.id, "SUBSCRIPTION", "NONE", g.c1 + PERIOD);

	ledger_ok(&f, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	ck_assert_uint_eq(rep.approved, 1);
	ledger_ok(&g, &rep);
	ck_assert_uint_eq(rep.entries, 1);
	ck_assert_uint_eq(rep.approved, 1);
	free(tid);
	free(wrong);
	sid_fault_del(rule_f);
	sid_fault_del(rule_g);
	fx_done(&f);
	fx_done(&g);
}
END_TEST

/* ---- robustness: one inconsistent row stops nothing else ------------------------------------- */

#define POISON "it-poison"

START_TEST(an_orphan_on_a_paused_subscription_blocks_no_other_charge)
{
	struct fx victim, paused;
	struct it_bill_env e;
	struct it_bill_run run;
	struct it_bill_att a[4];
	char c1s[11], poid_s[64];

	fx_init(&victim);
	fx_init(&paused);
	/* a PAUSED subscription with a PENDING attempt whose daemon is gone: only reachable by
	 * hand (administrators work in SQL), but it must not stop the billing of anyone else */
	post_sub(&paused, "pause");
	day_str(paused.c1, c1s);
	poid(paused.b.id, paused.c1, 1, poid_s, sizeof(poid_s));
	struct db_param p[] = {DB_I64(paused.b.id),
	                       DB_STR(c1s),
	                       DB_STR(poid_s),
	                       DB_STR(paused.b.puid),
	                       DB_STR(paused.b.sid),
	                       DB_I64(paused.b.item.id),
	                       DB_I64(QTY),
	                       DB_I64(paused.price.origin),
	                       DB_I64(paused.price.p10),
	                       DB_I64(paused.price.discount),
	                       DB_I64(paused.price.real),
	                       DB_I64(QTY * paused.price.real)};
	it_sql_exec(
	    "INSERT INTO billing_attempt (subscription_id, cycle_date, attempt_no, status,"
	    " initiated_by, partner_order_id, partner_user_id, cid, sid, item_id, item_name,"
	    " quantity, origin_price, discount_p10, discount_price, real_price, amount,"
	    " claimed_at, claimed_by, created_at, updated_at) VALUES (?, ?, 1, 'PENDING',"
	    " 'SCHEDULE', ?, ?, 'TCSUBSCRIP', ?, ?, 'item', ?, ?, ?, ?, ?, ?,"
	    " UTC_TIMESTAMP() - INTERVAL 10 MINUTE, '" POISON "', UTC_TIMESTAMP(),"
	    " UTC_TIMESTAMP())",
	    p, 12);

	it_bill_env_init(&e);
	it_bill_env_at(&e, victim.c1, 10, 0, 30);
	ck_assert_int_eq(it_bill_once(&e, 60000, &run), 0);
	if (run.exit_code != 0)
		fprintf(stderr, "--once output:\n%s\n", run.output);
	ck_assert_msg(run.exit_code == 0,
	              "--once exited %d with an orphan on a PAUSED subscription", run.exit_code);
	it_bill_run_free(&run);
	/* the other subscription is charged; the orphan is no longer PENDING */
	ck_assert_uint_eq(it_bill_attempts(victim.b.id, a, 4), 1);
	ck_assert_str_eq(a[0].status, "APPROVED");
	ck_assert_uint_eq(it_bill_attempts(paused.b.id, a, 4), 1);
	ck_assert_str_ne(a[0].status, "PENDING");
	fx_done(&victim);
	fx_done(&paused);
}
END_TEST

/* The orphan above stays PENDING when the test fails: settle it so later runs are not blocked. */
static void poison_cleanup(void)
{
	struct db *db = it_db();

	if (db)
		db_exec(db,
		        "UPDATE billing_attempt SET status = 'FAILED', updated_at = UTC_TIMESTAMP()"
		        " WHERE claimed_by = '" POISON "' AND status IN ('PENDING', 'UNKNOWN')",
		        NULL, 0, NULL, NULL);
	it_db_close(); /* runs in the runner: the tests it forks next must not inherit it */
}

Suite *billing_suite(void)
{
	Suite *s = suite_create("billing");
	TCase *tc = tcase_create("lifecycle");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, charged_on_its_cycle_date_at_the_charge_hour_once);
	tcase_add_test(tc, six_cycles_in_a_row);
	tcase_add_test(tc, two_subscriptions_on_one_sid_are_charged_one_after_the_other);
	tcase_add_test(tc, declined_retried_at_once_then_after_24_hours_and_recovers);
	tcase_add_test(tc, a_decline_whose_probe_fails_is_unknown_not_retried_blindly);
	tcase_add_test(tc, five_declines_exhaust_the_retries);
	tcase_add_test(tc, sid_ended_at_kakao_751_exhausts_at_once);
	tcase_add_test(tc, sid_unknown_at_kakao_750_exhausts_at_once);
	tcase_add_test(tc, sid_monthly_limit_752_exhausts_at_once);
	tcase_add_test(tc, quota_429_not_counted_and_charged_after_local_midnight);
	tcase_add_test(tc, nothing_charged_while_paused);
	tcase_add_test(tc, a_skipped_cycle_is_not_charged);
	tcase_add_test(tc, nothing_charged_after_a_cancel);
	suite_add_tcase(s, tc);

	tc = tcase_create("unknown");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, charged_but_answer_lost_is_held_for_an_admin);
	tcase_add_test(tc, dropped_request_probed_twice_failed_then_charged);
	tcase_add_test(tc, declined_but_charged_782_is_unknown_and_never_retried);
	tcase_add_test(tc, an_admin_settles_unknown_charges_by_verdict);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, NULL, poison_cleanup);
	tcase_add_test(tc, an_orphan_on_a_paused_subscription_blocks_no_other_charge);
	suite_add_tcase(s, tc);
	return s;
}
