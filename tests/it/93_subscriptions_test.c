/*
 * 93_subscriptions: the subscription routes of API.md §8 on subscriptions bought end to end
 * through the fake gateway: the subscription JSON of §8.1 (every key, the values after the
 * first payment, the current catalogue price, the retry object and the cycles list), who may
 * read and write it, pause and resume, skip, and the period change on the schedule anchored
 * on the first payment date (§2.6; dates are moved in SQL to make the anchoring visible),
 * every 409 of the table of §2.5 (a PENDING or UNKNOWN billing attempt and retry.state
 * UNKNOWN included), the 400s and 404s in the order of §1.5, and that a refused request
 * changes nothing in the database.
 *
 * Expected dates are computed here (F + k·P), never with core/sched.c, and are chosen so
 * that no grid date falls on today + 1: a test that crosses midnight expects the same dates.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/clock.h"
#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

#define QTY    2
#define PERIOD 30

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void seoul(void)
{
	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
}

static int32_t today(void)
{
	return clock_today();
}

/* ---- data ------------------------------------------------------------------------------------ */

struct sub {
	int64_t id;
	int64_t order_id;
	int64_t line_id;
	struct it_ord_item item;
	char sid[48];
};

/* A user's order of one subscription line (QTY units of a new item every PERIOD days), paid
 * through pillivery-api and the fake gateway. */
static void buy_at(struct it_loc at, const struct it_user *u, struct sub *s)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_line line;
	char *sid;

	memset(s, 0, sizeof(*s));
	it_ord_item_new_at(at, &s->item, 11000, 100, 0);
	line = (struct it_ord_line){s->item.id, QTY, true, PERIOD};
	s->order_id = it_ord_place_at(at, u, &line, 1, &r);
	it_resp_free(&r);
	it_fp_pay_order_at(at, u, s->order_id);
	s->line_id = it_ord_line_id_at(at, s->order_id, 0);
	struct db_param q[] = {DB_I64(s->order_id)};
	s->id =
	    it_sql_i64_at(at, "SELECT subscription_id FROM subscriptions WHERE order_id = ?", q, 1);
	sid = it_sql_str_at(at, "SELECT sid FROM subscriptions WHERE order_id = ?", q, 1);
	snprintf(s->sid, sizeof(s->sid), "%s", sid ? sid : "");
	free(sid);
}
#define buy(u, s) buy_at(IT_HERE, u, s)

static void day_text(int32_t day, char out[CLOCK_DATE_LEN])
{
	ck_assert_int_eq(clock_format_day(day, out), 0);
}

/*
 * F, L, C and the next date (< 0: NULL) of subscription id; the initial PAID cycle moves to F
 * with them (call it before any other cycle exists).
 */
static void set_dates_at(struct it_loc at, int64_t id, int32_t f, int32_t l, int32_t c,
                         int32_t next)
{
	char tf[CLOCK_DATE_LEN], tl[CLOCK_DATE_LEN], tc[CLOCK_DATE_LEN], tn[CLOCK_DATE_LEN];

	day_text(f, tf);
	day_text(l, tl);
	day_text(c, tc);
	if (next >= 0)
		day_text(next, tn);
	struct db_param p[] = {DB_STR(tf), DB_STR(tl), DB_STR(tc), DB_STR(next >= 0 ? tn : NULL),
	                       DB_I64(id)};
	it_sql_exec_at(
	    at,
	    "UPDATE subscriptions SET first_payment_date = ?, last_payment_date = ?,"
	    " last_settled_cycle_date = ?, next_payment_date = ? WHERE subscription_id = ?",
	    p, 5);
	struct db_param cp[] = {DB_STR(tf), DB_I64(id)};
	it_sql_exec_at(at,
	               "UPDATE subscription_cycles SET cycle_date = ? WHERE subscription_id = ?"
	               " AND status = 'PAID'",
	               cp, 2);
}
#define set_dates(id, f, l, c, next) set_dates_at(IT_HERE, id, f, l, c, next)

static void sql_exec_id_at(struct it_loc at, const char *sql, int64_t id)
{
	struct db_param p[] = {DB_I64(id)};
	it_sql_exec_at(at, sql, p, 1);
}
#define sql_exec_id(sql, id) sql_exec_id_at(IT_HERE, sql, id)

static char *sql_str_id(const char *sql, int64_t id)
{
	struct db_param p[] = {DB_I64(id)};
	return it_sql_str(sql, p, 1);
}

static int64_t sql_i64_id(const char *sql, int64_t id)
{
	struct db_param p[] = {DB_I64(id)};
	return it_sql_i64(sql, p, 1);
}

/* A column of the subscription equals want (NULL: SQL NULL). */
static void assert_col_at(struct it_loc at, const char *sql, int64_t id, const char *want)
{
	char *s = sql_str_id(sql, id);

	it_check_at(at, NULL, (s && want && !strcmp(s, want)) || (!s && !want),
	            "%s [%" PRId64 "]: got %s, expected %s", sql, id, s ? s : "(null)",
	            want ? want : "(null)");
	free(s);
}
#define assert_col(sql, id, want) assert_col_at(IT_HERE, sql, id, want)

static const char sql_status[] = "SELECT status FROM subscriptions WHERE subscription_id = ?";
static const char sql_period[] = "SELECT period FROM subscriptions WHERE subscription_id = ?";
static const char sql_next[] =
    "SELECT CAST(next_payment_date AS CHAR) FROM subscriptions WHERE subscription_id = ?";
static const char sql_settled[] =
    "SELECT CAST(last_settled_cycle_date AS CHAR) FROM subscriptions WHERE subscription_id = ?";
static const char sql_paused[] =
    "SELECT paused_at IS NOT NULL FROM subscriptions WHERE subscription_id = ?";

/* The next date column equals day (< 0: NULL). */
static void assert_next_at(struct it_loc at, int64_t id, int32_t day)
{
	char t[CLOCK_DATE_LEN];

	if (day >= 0)
		day_text(day, t);
	assert_col_at(at, sql_next, id, day >= 0 ? t : NULL);
}
#define assert_next(id, day) assert_next_at(IT_HERE, id, day)

/* Everything a change could touch, as one text. */
static char *snapshot(int64_t id)
{
	return sql_str_id(
	    "SELECT CONCAT_WS('|', status, period, quantity, IFNULL(next_payment_date, '-'),"
	    " IFNULL(paused_at, '-'), first_payment_date, last_payment_date,"
	    " last_settled_cycle_date, retry_state, retry_attempts, updated_at,"
	    " (SELECT COUNT(*) FROM subscription_cycles c WHERE c.subscription_id = "
	    "s.subscription_id),"
	    " (SELECT IFNULL(GROUP_CONCAT(c.status ORDER BY c.cycle_date), '-')"
	    " FROM subscription_cycles c WHERE c.subscription_id = s.subscription_id))"
	    " FROM subscriptions s WHERE subscription_id = ?",
	    id);
}

static void assert_unchanged_at(struct it_loc at, int64_t id, char *before)
{
	char *after = snapshot(id);

	it_check_at(at, NULL, before && after && !strcmp(before, after),
	            "subscription %" PRId64 " changed: %s -> %s", id, before ? before : "(null)",
	            after ? after : "(null)");
	free(after);
	free(before);
}
#define assert_unchanged(id, before) assert_unchanged_at(IT_HERE, id, before)

/* ---- requests -------------------------------------------------------------------------------- */

static void path_of(char *out, size_t n, const char *id, const char *op)
{
	snprintf(out, n, "/api/subscriptions/%s%s%s", id, op ? "/" : "", op ? op : "");
}

/* GET (op NULL) or POST /api/subscriptions/{id}[/op] with u's token (u NULL: none). */
static void call_raw(const struct it_user *u, const char *id, const char *op, struct it_resp *r)
{
	char path[160];

	path_of(path, sizeof(path), id, op);
	it_req(op ? "POST" : "GET", path, u ? u->access : NULL, NULL, NULL, r);
}

static void call(const struct it_user *u, int64_t id, const char *op, struct it_resp *r)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRId64, id);
	call_raw(u, s, op, r);
}

static void patch_raw(const struct it_user *u, const char *query, struct it_resp *r)
{
	char path[160];

	snprintf(path, sizeof(path), "/api/subscriptions%s", query);
	it_req("PATCH", path, u->access, NULL, NULL, r);
}

static void patch_period(const struct it_user *u, int64_t id, int period, struct it_resp *r)
{
	char q[96];

	snprintf(q, sizeof(q), "?period=%d&itemOrderId=%" PRId64, period, id);
	patch_raw(u, q, r);
}

/* A 200 with the subscription JSON of §8.1 (exactly its keys); returns data. */
static const cJSON *sub_data_at(struct it_loc at, const struct it_resp *r)
{
	const cJSON *d;

	it_check_at(at, r, r->status == 200, "expected 200");
	d = it_assert_wrapper_at(at, r);
	it_assert_keys_at(at, d, "subscriptionOrderId", "orderId", "orderItemId", "userId",
	                  "orderStatus", "period", "quantity", "item", "nextChargeAmount",
	                  "firstPaymentDate", "lastPaymentDate", "nextPaymentDate", "retry",
	                  "receiver", "cycles", "pausedAt", "canceledAt", "createdAt", "updatedAt",
	                  NULL);
	it_assert_keys_at(at, get(d, "retry"), "state", "failedCycleDate", "attempts",
	                  "maxAttempts", "nextRetryAt", "lastFailureAt", "lastFailureCode",
	                  "lastFailureMessage", NULL);
	it_check_at(at, r, cJSON_IsArray(get(d, "cycles")), "cycles is not an array");
	for (const cJSON *c = get(d, "cycles")->child; c; c = c->next)
		it_assert_keys_at(at, c, "cycleDate", "status", "attempts", "amount", "orderId",
		                  "paidAt", NULL);
	return d;
}
#define sub_data(r) sub_data_at(IT_HERE, r)

/* obj[key] is the date day, or null when day < 0. */
static void assert_day_at(struct it_loc at, const cJSON *obj, const char *key, int32_t day)
{
	char t[CLOCK_DATE_LEN];

	if (day < 0) {
		it_check_at(at, NULL, cJSON_IsNull(get(obj, key)), "%s must be null", key);
		return;
	}
	day_text(day, t);
	it_check_at(at, NULL,
	            cJSON_IsString(get(obj, key)) && !strcmp(get(obj, key)->valuestring, t),
	            "%s: expected %s, got %s", key, t,
	            cJSON_IsString(get(obj, key)) ? get(obj, key)->valuestring : "(not a string)");
}
#define assert_day(obj, key, day) assert_day_at(IT_HERE, obj, key, day)

static void assert_null_at(struct it_loc at, const cJSON *obj, const char *key)
{
	it_check_at(at, NULL, cJSON_IsNull(get(obj, key)), "%s must be null", key);
}
#define assert_null(obj, key) assert_null_at(IT_HERE, obj, key)

static void assert_str_at(struct it_loc at, const cJSON *obj, const char *key, const char *want)
{
	const char *v = it_json_str_at(at, obj, key);
	it_check_at(at, NULL, !strcmp(v, want), "%s: expected %s, got %s", key, want, v);
}
#define assert_str(obj, key, want) assert_str_at(IT_HERE, obj, key, want)

/* The date text of obj[key] as a day. */
static int32_t day_of(const cJSON *obj, const char *key)
{
	int32_t d = 0;

	ck_assert_int_eq(clock_parse_day(it_json_str(obj, key), &d), 0);
	return d;
}

static const cJSON *cycle(const cJSON *data, int i)
{
	const cJSON *c = cJSON_GetArrayItem(get(data, "cycles"), i);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* cycles[i] is an unpaid cycle: date, status, attempts, and no amount, order or time. */
static void assert_unpaid_cycle_at(struct it_loc at, const cJSON *data, int i, int32_t day,
                                   const char *status, int attempts)
{
	const cJSON *c = cycle(data, i);

	assert_day_at(at, c, "cycleDate", day);
	assert_str_at(at, c, "status", status);
	it_check_at(at, NULL, it_json_int_at(at, c, "attempts") == attempts, "attempts");
	assert_null_at(at, c, "amount");
	assert_null_at(at, c, "orderId");
	assert_null_at(at, c, "paidAt");
}
#define assert_unpaid_cycle(d, i, day, st, n) assert_unpaid_cycle_at(IT_HERE, d, i, day, st, n)

/* ---- the subscription JSON ------------------------------------------------------------------- */

START_TEST(detail_after_the_first_payment)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_price p;
	struct it_user u;
	struct sub s;
	const cJSON *d, *retry, *c;
	char raw[4][32];
	int32_t t0, t1, first;

	it_new_user(&u);
	t0 = today();
	buy(&u, &s);
	t1 = today();
	call(&u, s.id, NULL, &r);
	d = sub_data(&r);

	ck_assert_int_eq(it_json_int(d, "subscriptionOrderId"), s.id);
	ck_assert_int_eq(it_json_int(d, "orderId"), s.order_id);
	ck_assert_int_eq(it_json_int(d, "orderItemId"), s.line_id);
	ck_assert_int_eq(it_json_int(d, "userId"), u.id);
	assert_str(d, "orderStatus", "SUBSCRIPTION");
	ck_assert_int_eq(it_json_int(d, "period"), PERIOD);
	ck_assert_int_eq(it_json_int(d, "quantity"), QTY);
	it_ord_price(11000, 100, &p);
	it_ord_assert_brief(get(d, "item"), &s.item, &p);
	ck_assert_int_eq(it_json_int(d, "nextChargeAmount"), QTY * 9900);
	/* discountRate is the fraction, printed exactly */
	ck_assert_uint_eq(it_ord_raw_values(r.body, "discountRate", raw, 4), 1);
	ck_assert_str_eq(raw[0], "0.1");

	/* F = L = the approval day, next = F + P */
	first = day_of(d, "firstPaymentDate");
	ck_assert(first == t0 || first == t1);
	assert_day(d, "lastPaymentDate", first);
	assert_day(d, "nextPaymentDate", first + PERIOD);

	retry = get(d, "retry");
	assert_str(retry, "state", "NONE");
	assert_null(retry, "failedCycleDate");
	ck_assert_int_eq(it_json_int(retry, "attempts"), 0);
	ck_assert_int_eq(it_json_int(retry, "maxAttempts"), 5);
	assert_null(retry, "nextRetryAt");
	assert_null(retry, "lastFailureAt");
	assert_null(retry, "lastFailureCode");
	assert_null(retry, "lastFailureMessage");
	it_ord_assert_receiver(get(d, "receiver"));

	/* the first cycle: PAID by the initial order */
	ck_assert_int_eq(cJSON_GetArraySize(get(d, "cycles")), 1);
	c = cycle(d, 0);
	assert_day(c, "cycleDate", first);
	assert_str(c, "status", "PAID");
	ck_assert_int_eq(it_json_int(c, "attempts"), 1);
	ck_assert_int_eq(it_json_int(c, "amount"), QTY * 9900);
	ck_assert_int_eq(it_json_int(c, "orderId"), s.order_id);
	it_assert_ts_recent("paidAt", get(c, "paidAt"), 300);

	assert_null(d, "pausedAt");
	assert_null(d, "canceledAt");
	it_assert_ts_recent("createdAt", get(d, "createdAt"), 300);
	it_assert_ts_recent("updatedAt", get(d, "updatedAt"), 300);

	/* item and nextChargeAmount follow the catalogue; the paid cycle keeps its amount */
	it_ord_item_price(&s.item, 20000, 250);
	call(&u, s.id, NULL, &r);
	d = sub_data(&r);
	it_ord_price(20000, 250, &p);
	it_ord_assert_brief(get(d, "item"), &s.item, &p);
	ck_assert_int_eq(it_json_int(d, "nextChargeAmount"), QTY * 15000);
	ck_assert_int_eq(it_json_int(cycle(d, 0), "amount"), QTY * 9900);
	it_resp_free(&r);
}
END_TEST

START_TEST(retry_object_and_open_cycle)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	struct sub s;
	const cJSON *d, *retry;
	char path[96];
	int32_t first, open;

	it_new_user(&u);
	buy(&u, &s);
	first = today() - 40;
	open = first + PERIOD; /* due ten days ago, declined twice, retry scheduled */
	set_dates(s.id, first, first, first, open);
	sql_exec_id(
	    "INSERT INTO subscription_cycles (subscription_id, cycle_date, status, attempts,"
	    " created_at, updated_at) SELECT subscription_id, next_payment_date, 'RETRYING',"
	    " 2, UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM subscriptions"
	    " WHERE subscription_id = ?",
	    s.id);
	sql_exec_id("UPDATE subscriptions SET status = 'SUBSCRIBE_PAYMENT_FAIL',"
	            " retry_state = 'SCHEDULED', failed_cycle_date = next_payment_date,"
	            " retry_attempts = 2, next_retry_at = '2030-03-07 01:00:05',"
	            " last_failure_at = '2030-03-06 01:00:05', last_failure_code = '-782',"
	            " last_failure_message = '잔액이 부족합니다.' WHERE subscription_id = ?",
	            s.id);

	call(&u, s.id, NULL, &r);
	d = sub_data(&r);
	assert_str(d, "orderStatus", "SUBSCRIBE_PAYMENT_FAIL");
	assert_day(d, "nextPaymentDate", open); /* the open cycle while a retry is pending */
	retry = get(d, "retry");
	assert_str(retry, "state", "SCHEDULED");
	assert_day(retry, "failedCycleDate", open);
	ck_assert_int_eq(it_json_int(retry, "attempts"), 2);
	ck_assert_int_eq(it_json_int(retry, "maxAttempts"), 5);
	assert_str(retry, "nextRetryAt", "2030-03-07T10:00:05+09:00");
	assert_str(retry, "lastFailureAt", "2030-03-06T10:00:05+09:00");
	assert_str(retry, "lastFailureCode", "-782");
	assert_str(retry, "lastFailureMessage", "잔액이 부족합니다.");
	ck_assert_int_eq(cJSON_GetArraySize(get(d, "cycles")), 2);
	assert_unpaid_cycle(d, 0, open, "RETRYING", 2);
	assert_day(cycle(d, 1), "cycleDate", first);
	assert_str(cycle(d, 1), "status", "PAID");

	/* exhausted: no next date (even if the column still had one), no next retry */
	sql_exec_id("UPDATE subscription_cycles SET status = 'FAILED' WHERE subscription_id = ?"
	            " AND status = 'RETRYING'",
	            s.id);
	sql_exec_id("UPDATE subscriptions SET retry_state = 'EXHAUSTED', next_retry_at = NULL,"
	            " retry_attempts = 5 WHERE subscription_id = ?",
	            s.id);
	call(&u, s.id, NULL, &r);
	d = sub_data(&r);
	assert_null(d, "nextPaymentDate");
	retry = get(d, "retry");
	assert_str(retry, "state", "EXHAUSTED");
	assert_null(retry, "nextRetryAt");
	ck_assert_int_eq(it_json_int(retry, "attempts"), 5);
	assert_unpaid_cycle(d, 0, open, "FAILED", 2);

	/* cancelled: canceledAt set */
	sql_exec_id("UPDATE subscriptions SET next_payment_date = NULL WHERE subscription_id = ?",
	            s.id);
	snprintf(path, sizeof(path), "/api/subscriptions?itemOrderId=%" PRId64, s.id);
	it_req("DELETE", path, u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);
	call(&u, s.id, NULL, &r);
	d = sub_data(&r);
	assert_str(d, "orderStatus", "SUBSCRIBE_CANCEL");
	it_assert_ts_recent("canceledAt", get(d, "canceledAt"), 300);
	assert_null(d, "nextPaymentDate");
	assert_null(d, "pausedAt");
	it_resp_free(&r);
}
END_TEST

START_TEST(at_most_24_cycles_newest_first)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	struct sub s;
	const cJSON *d;
	int32_t first;

	it_new_user(&u);
	buy(&u, &s);
	first = today() - 1000;
	set_dates(s.id, first, first, first + 30 * PERIOD, first + 31 * PERIOD);
	for (int k = 1; k <= 30; k++) {
		char t[CLOCK_DATE_LEN];

		day_text(first + k * PERIOD, t);
		struct db_param p[] = {DB_I64(s.id), DB_STR(t)};
		it_sql_exec("INSERT INTO subscription_cycles (subscription_id, cycle_date, status,"
		            " attempts, created_at, updated_at)"
		            " VALUES (?, ?, 'SKIPPED', 0, UTC_TIMESTAMP(), UTC_TIMESTAMP())",
		            p, 2);
	}
	call(&u, s.id, NULL, &r);
	d = sub_data(&r);
	ck_assert_int_eq(cJSON_GetArraySize(get(d, "cycles")), 24);
	for (int i = 0; i < 24; i++)
		assert_unpaid_cycle(d, i, first + (30 - i) * PERIOD, "SKIPPED", 0);
	it_resp_free(&r);
}
END_TEST

/* ---- who may read and write ------------------------------------------------------------------ */

START_TEST(owner_reads_and_writes_admin_only_reads)
{
	static const char *const ops[] = {"pause", "resume", "skip"};
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, other, admin;
	struct sub s;
	char *before;

	it_new_user(&u);
	it_new_user(&other);
	it_new_admin(&admin);
	buy(&u, &s);

	call(&other, s.id, NULL, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	call(&admin, s.id, NULL, &r);
	ck_assert_int_eq(it_json_int(sub_data(&r), "userId"), u.id);

	/* writes are the owner's: another user and an admin get 403, nothing changes */
	before = snapshot(s.id);
	for (size_t i = 0; i < 3; i++) {
		call(&other, s.id, ops[i], &r);
		it_assert_error(&r, 403, "ACCESS_DENIED_USER");
		call(&admin, s.id, ops[i], &r);
		it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	}
	patch_period(&other, s.id, 60, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	patch_period(&admin, s.id, 60, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	assert_unchanged(s.id, before);

	/* no token */
	call(NULL, s.id, NULL, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	call(NULL, s.id, "pause", &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");

	/* the owner may */
	call(&u, s.id, "pause", &r);
	assert_str(sub_data(&r), "orderStatus", "PAUSED");
	it_resp_free(&r);
}
END_TEST

/* ---- pause, resume, skip, period ------------------------------------------------------------- */

START_TEST(pause_then_resume_anchored_on_the_first_date)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	struct sub s, s2;
	const cJSON *d;
	int32_t t = today(), f = t - 100;

	it_new_user(&u);
	buy(&u, &s);
	/* P = 30 from F = today - 100: paid on F + 90 = today - 10, next F + 120 = today + 20 */
	set_dates(s.id, f, f + 90, f + 90, f + 120);

	call(&u, s.id, "pause", &r);
	d = sub_data(&r);
	assert_str(d, "orderStatus", "PAUSED");
	assert_null(d, "nextPaymentDate");
	it_assert_ts_recent("pausedAt", get(d, "pausedAt"), 300);
	assert_str(get(d, "retry"), "state", "NONE");
	assert_col(sql_status, s.id, "PAUSED");
	assert_next(s.id, -1);
	ck_assert_int_eq(sql_i64_id(sql_paused, s.id), 1);

	/* a long pause: the last charge was on F + 30, so F + 60 and F + 90 fell inside it */
	set_dates(s.id, f, f + 30, f + 30, -1);
	call(&u, s.id, "resume", &r);
	d = sub_data(&r);
	assert_str(d, "orderStatus", "SUBSCRIPTION");
	assert_null(d, "pausedAt");
	/* the next grid date strictly after today: F + 120 = today + 20, not today + 30 */
	assert_day(d, "nextPaymentDate", f + 120);
	assert_next(s.id, f + 120);
	ck_assert_int_eq(sql_i64_id(sql_paused, s.id), 0);
	assert_day(d, "lastPaymentDate", f + 30);

	/* a grid date that is today is not charged: the one after it is next */
	buy(&u, &s2);
	call(&u, s2.id, "pause", &r);
	it_assert_status(&r, 200);
	set_dates(s2.id, t - 90, t - 90, t - 90, -1);
	call(&u, s2.id, "resume", &r);
	assert_day(sub_data(&r), "nextPaymentDate", t + 30);
	it_resp_free(&r);
}
END_TEST

START_TEST(skip_twice_then_a_cycle_due_today)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	struct sub s, s2;
	const cJSON *d;
	char t_text[CLOCK_DATE_LEN];
	int32_t t = today(), f = t - 100;

	it_new_user(&u);
	buy(&u, &s);
	set_dates(s.id, f, f + 90, f + 90, f + 120);

	call(&u, s.id, "skip", &r);
	d = sub_data(&r);
	assert_str(d, "orderStatus", "SUBSCRIPTION");
	assert_day(d, "nextPaymentDate", f + 150);
	assert_day(d, "lastPaymentDate", f + 90); /* nothing was paid */
	ck_assert_int_eq(cJSON_GetArraySize(get(d, "cycles")), 2);
	assert_unpaid_cycle(d, 0, f + 120, "SKIPPED", 0);
	assert_str(cycle(d, 1), "status", "PAID");
	assert_next(s.id, f + 150);
	day_text(f + 120, t_text);
	assert_col(sql_settled, s.id, t_text);

	/* again: the following cycle */
	call(&u, s.id, "skip", &r);
	d = sub_data(&r);
	assert_day(d, "nextPaymentDate", f + 180);
	ck_assert_int_eq(cJSON_GetArraySize(get(d, "cycles")), 3);
	assert_unpaid_cycle(d, 0, f + 150, "SKIPPED", 0);
	assert_unpaid_cycle(d, 1, f + 120, "SKIPPED", 0);
	assert_day(cycle(d, 2), "cycleDate", f);
	assert_str(cycle(d, 2), "status", "PAID");
	day_text(f + 150, t_text);
	assert_col(sql_settled, s.id, t_text);

	/* the cycle due today, not charged yet, may be skipped too */
	buy(&u, &s2);
	set_dates(s2.id, t - 90, t - 60, t - 60, t);
	call(&u, s2.id, "skip", &r);
	d = sub_data(&r);
	assert_day(d, "nextPaymentDate", t + 30);
	assert_unpaid_cycle(d, 0, t, "SKIPPED", 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(period_change_anchored_on_the_first_date)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	struct sub s;
	const cJSON *d;
	int32_t t = today(), f = t - 9;

	it_new_user(&u);
	buy(&u, &s);
	/* §2.6: F = 01-01, on 01-10 the period becomes 60 -> next = F + 60 */
	set_dates(s.id, f, f, f, f + 30);
	patch_period(&u, s.id, 60, &r);
	it_assert_status(&r, 204);
	ck_assert_uint_eq(r.body_len, 0);
	assert_col(sql_period, s.id, "60");
	assert_next(s.id, f + 60);
	call(&u, s.id, NULL, &r);
	d = sub_data(&r);
	ck_assert_int_eq(it_json_int(d, "period"), 60);
	assert_day(d, "nextPaymentDate", f + 60);
	/* back to 30: back on the first grid */
	patch_period(&u, s.id, 30, &r);
	it_assert_status(&r, 204);
	assert_next(s.id, f + 30);

	/* after charges: F = today - 100, paid F + 90; 45 days -> F + 45, F + 90, F + 135 */
	f = t - 100;
	set_dates(s.id, f, f + 90, f + 90, f + 120);
	patch_period(&u, s.id, 45, &r);
	it_assert_status(&r, 204);
	assert_next(s.id, f + 135);

	/* paused: the period changes, the next date stays null until resume */
	call(&u, s.id, "pause", &r);
	it_assert_status(&r, 200);
	patch_period(&u, s.id, 90, &r);
	it_assert_status(&r, 204);
	assert_col(sql_period, s.id, "90");
	assert_col(sql_status, s.id, "PAUSED");
	assert_next(s.id, -1);
	call(&u, s.id, NULL, &r);
	d = sub_data(&r);
	ck_assert_int_eq(it_json_int(d, "period"), 90);
	assert_null(d, "nextPaymentDate");
	/* resume on the 90-day grid: F + 90 = today - 10 is past, F + 180 = today + 80 */
	call(&u, s.id, "resume", &r);
	assert_day(sub_data(&r), "nextPaymentDate", f + 180);
	/* the bounds */
	patch_period(&u, s.id, 365, &r);
	it_assert_status(&r, 204);
	assert_next(s.id, f + 365);
	patch_period(&u, s.id, 30, &r);
	it_assert_status(&r, 204);
	assert_next(s.id, f + 120);
	it_resp_free(&r);
}
END_TEST

/* ---- §2.5: every refusal, and nothing changes --------------------------------------------------
 */

/* Each of ops (NULL-terminated; "period" = the PATCH) on s answers 409 and changes nothing. */
static void assert_refused_at(struct it_loc at, const struct it_user *u, const struct sub *s,
                              const char *const *ops)
{
	struct it_resp r = IT_RESP_INIT;

	for (size_t i = 0; ops[i]; i++) {
		char *before = snapshot(s->id);

		if (!strcmp(ops[i], "period"))
			patch_period(u, s->id, 60, &r);
		else
			call(u, s->id, ops[i], &r);
		it_check_at(at, &r, r.status == 409, "%s: expected 409", ops[i]);
		it_assert_error_at(at, &r, 409, "SUBSCRIPTION_STATE_CONFLICT");
		assert_unchanged_at(at, s->id, before);
	}
	it_resp_free(&r);
}
#define assert_refused(u, s, ...)                                                                  \
	assert_refused_at(IT_HERE, u, s, (const char *const[]){__VA_ARGS__, NULL})

/* A billing attempt of s in status (PENDING, UNKNOWN, DECLINED, ...). */
static void attempt(const struct sub *s, const char *status)
{
	struct it_ord_sub os = {.id = s->id, .item_id = s->item.id};

	snprintf(os.sid, sizeof(os.sid), "%s", s->sid);
	it_ord_attempt(&os, status);
}

/* SUBSCRIBE_PAYMENT_FAIL with retry state SCHEDULED or EXHAUSTED, as the daemon leaves it. */
static void payment_failed(const struct sub *s, bool exhausted)
{
	sql_exec_id("UPDATE subscriptions SET status = 'SUBSCRIBE_PAYMENT_FAIL',"
	            " failed_cycle_date = next_payment_date, retry_attempts = 1,"
	            " retry_state = 'SCHEDULED', next_retry_at = UTC_TIMESTAMP() + INTERVAL 1 DAY"
	            " WHERE subscription_id = ?",
	            s->id);
	if (exhausted)
		sql_exec_id(
		    "UPDATE subscriptions SET retry_state = 'EXHAUSTED', retry_attempts = 5,"
		    " next_retry_at = NULL, next_payment_date = NULL WHERE subscription_id = ?",
		    s->id);
}

START_TEST(state_conflicts_of_the_table)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	struct sub active, paused, failing, exhausted, cancelled, unknown, pending, paused_pending,
	    open_unknown, declined;
	char path[96];

	it_new_user(&u);
	buy(&u, &active);
	buy(&u, &paused);
	buy(&u, &failing);
	buy(&u, &exhausted);
	buy(&u, &cancelled);
	buy(&u, &unknown);
	buy(&u, &pending);
	buy(&u, &paused_pending);
	buy(&u, &open_unknown);
	buy(&u, &declined);

	/* SUBSCRIPTION: only resume is refused */
	assert_refused(&u, &active, "resume");
	/* PAUSED: pause and skip */
	call(&u, paused.id, "pause", &r);
	it_assert_status(&r, 200);
	assert_refused(&u, &paused, "pause", "skip");
	/* SUBSCRIBE_PAYMENT_FAIL, retrying or exhausted: everything here */
	payment_failed(&failing, false);
	assert_refused(&u, &failing, "period", "pause", "resume", "skip");
	payment_failed(&exhausted, true);
	assert_refused(&u, &exhausted, "period", "pause", "resume", "skip");
	/* SUBSCRIBE_CANCEL: everything */
	snprintf(path, sizeof(path), "/api/subscriptions?itemOrderId=%" PRId64, cancelled.id);
	it_req("DELETE", path, u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);
	assert_refused(&u, &cancelled, "period", "pause", "resume", "skip");

	/* an active subscription whose retry.state is UNKNOWN */
	sql_exec_id("UPDATE subscriptions SET retry_state = 'UNKNOWN' WHERE subscription_id = ?",
	            unknown.id);
	assert_refused(&u, &unknown, "period", "pause", "skip");
	/* a charge in flight (a PENDING billing attempt) */
	attempt(&pending, "PENDING");
	assert_refused(&u, &pending, "period", "pause", "skip");
	call(&u, paused_pending.id, "pause", &r);
	it_assert_status(&r, 200);
	attempt(&paused_pending, "PENDING");
	assert_refused(&u, &paused_pending, "period", "resume");
	/* an attempt whose outcome is UNKNOWN */
	attempt(&open_unknown, "UNKNOWN");
	assert_refused(&u, &open_unknown, "period", "pause", "skip");
	/* a finished attempt does not block */
	attempt(&declined, "DECLINED");
	call(&u, declined.id, "pause", &r);
	assert_str(sub_data(&r), "orderStatus", "PAUSED");

	/* the active one still takes every change it may */
	patch_period(&u, active.id, 60, &r);
	it_assert_status(&r, 204);
	call(&u, active.id, "skip", &r);
	it_assert_status(&r, 200);
	call(&u, active.id, "pause", &r);
	it_assert_status(&r, 200);
	call(&u, active.id, "resume", &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

/* ---- parameters, 404s and the check order -----------------------------------------------------
 */

START_TEST(parameters_not_found_and_check_order)
{
	static const char *const ops[] = {NULL, "pause", "resume", "skip"};
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, other;
	struct sub s;
	char q[128], *before;

	it_new_user(&u);
	it_new_user(&other);
	buy(&u, &s);
	before = snapshot(s.id);

	for (size_t i = 0; i < 4; i++) {
		/* a path id that is not a decimal integer: 400 */
		call_raw(&u, "abc", ops[i], &r);
		it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
		it_assert_field_count(&r, 1);
		it_assert_field_error(&r, 0, "subscriptionOrderId", "abc", IT_R_TYPE);
		call_raw(&u, "1.5", ops[i], &r);
		it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
		/* well-formed, matches nothing: 404 */
		call_raw(&u, "0", ops[i], &r);
		it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
		call_raw(&u, "9000000000000000000", ops[i], &r);
		it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
	}

	/* PATCH: both parameters required, in the table's order */
	patch_raw(&u, "", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "itemOrderId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "period", "", IT_R_REQUIRED);
	snprintf(q, sizeof(q), "?itemOrderId=%" PRId64, s.id);
	patch_raw(&u, q, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "period", "", IT_R_REQUIRED);
	patch_raw(&u, "?period=60&itemOrderId=", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "itemOrderId", "", IT_R_REQUIRED);
	/* the period bounds */
	patch_period(&u, s.id, 29, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "period", "29", "30 이상이어야 합니다");
	patch_period(&u, s.id, 366, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "period", "366", "365 이하여야 합니다");
	patch_period(&u, s.id, -5, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "period", "-5", "30 이상이어야 합니다");
	/* not integers */
	snprintf(q, sizeof(q), "?period=abc&itemOrderId=%" PRId64, s.id);
	patch_raw(&u, q, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "period", "abc", IT_R_TYPE);
	patch_raw(&u, "?period=60&itemOrderId=x1", &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "itemOrderId", "x1", IT_R_TYPE);
	patch_raw(&u, "?period=99999999999&itemOrderId=1", &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "period", "99999999999", IT_R_TYPE);
	/* 404 */
	patch_raw(&u, "?period=60&itemOrderId=9000000000000000000", &r);
	it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
	patch_raw(&u, "?period=60&itemOrderId=0", &r);
	it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
	/* validation before existence: an unknown id with a bad period is a 400 */
	patch_raw(&u, "?period=29&itemOrderId=9000000000000000000", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	assert_unchanged(s.id, before);

	/* ownership before state: another user's cancelled subscription is a 403, not a 409 */
	snprintf(q, sizeof(q), "/api/subscriptions?itemOrderId=%" PRId64, s.id);
	it_req("DELETE", q, u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);
	call(&other, s.id, "resume", &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	patch_period(&other, s.id, 60, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	call(&u, s.id, "resume", &r);
	it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");

	/* other methods */
	call_raw(&u, "1/pause", NULL, &r);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	it_req("POST", "/api/subscriptions/1", u.access, NULL, NULL, &r);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	it_req("GET", "/api/subscriptions", u.access, NULL, NULL, &r);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	it_resp_free(&r);
}
END_TEST

/* ---- retry.maxAttempts follows PV_BILLING_RETRY_DELAYS ----------------------------------------
 */

START_TEST(max_attempts_follows_the_retry_option)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	struct sub s;
	char port[48], auth[2200], path[96];
	const char *env[] = {port, "PV_BILLING_RETRY_DELAYS=0, 1h", NULL};
	const char *hdrs[] = {auth, NULL};
	int other = it_api_port() + 1, st;
	pid_t pid;

	it_new_user(&u);
	buy(&u, &s);
	snprintf(port, sizeof(port), "PV_API_PORT=%d", other);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", u.access);
	snprintf(path, sizeof(path), "/api/subscriptions/%" PRId64, s.id);
	pid = it_api_spawn(NULL, env, other);
	ck_assert_msg(pid > 0, "a second pillivery-api did not start on port %d", other);
	ck_assert_msg(it_http_to(other, 5000, "GET", path, hdrs, NULL, 0, &r) == 0, "%s", r.error);
	ck_assert_int_eq(it_proc_stop(pid, 10000, &st), 0);
	ck_assert_int_eq(it_json_int(get(sub_data(&r), "retry"), "maxAttempts"), 3);
	it_resp_free(&r);
}
END_TEST

Suite *subscriptions_suite(void)
{
	Suite *s = suite_create("subscriptions");
	TCase *tc = tcase_create("json");

	tcase_add_checked_fixture(tc, seoul, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, detail_after_the_first_payment);
	tcase_add_test(tc, retry_object_and_open_cycle);
	tcase_add_test(tc, at_most_24_cycles_newest_first);
	tcase_add_test(tc, owner_reads_and_writes_admin_only_reads);
	tcase_add_test(tc, max_attempts_follows_the_retry_option);
	suite_add_tcase(s, tc);

	tc = tcase_create("changes");
	tcase_add_checked_fixture(tc, seoul, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pause_then_resume_anchored_on_the_first_date);
	tcase_add_test(tc, skip_twice_then_a_cycle_due_today);
	tcase_add_test(tc, period_change_anchored_on_the_first_date);
	tcase_add_test(tc, state_conflicts_of_the_table);
	tcase_add_test(tc, parameters_not_found_and_check_order);
	suite_add_tcase(s, tc);
	return s;
}
