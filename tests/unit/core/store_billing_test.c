/*
 * store_billing_test: the SQL of recurring billing (core/store_billing.c; API.md §2.5-2.7,
 * §7.7, KAKAOPAY.md §3) against the real MariaDB of the unit run (PV_DB_HOST, PV_DB_PORT,
 * PV_DB_USER, PV_DB_PASSWORD, PV_DB_NAME), with the schema applied by migrate_apply. No
 * gateway: each test claims attempts and applies outcomes it writes itself (one test drives
 * billing_charge_now through a scripted struct pay_gateway).
 *
 * Covered: what a claim picks (due cycles and due retries only, not held, not on a SID with an
 * open attempt, never twice), attempt numbers and partner_order_id; applying OK (renewal
 * order, line, payment, sales delta and its fold, cycle, the anchored schedule, the retry
 * reset), alone and in batches (the batched path must have the same effects), after a cancel,
 * the retry policy up to exhaustion, hard declines, UNKNOWN, the not-counted failures and
 * their holds, replays;
 * the reconciler (orphaned PENDING attempts, SID probes and their resolution); charge-now's
 * claim (conflicts, the current cycle, "already paid"), admin declines of a future cycle, and
 * charge-now's decline probe.
 *
 * Every test makes its own user, item, order, payment and subscription (make_sub) with dates
 * in 2020 and passes its own "now", so nothing depends on the day the suite runs. Claims and
 * the reconciler's queries see the whole database: each test starts by deleting what earlier
 * tests of this suite left (rows of the users ubill.*@unit.example and the items "UBILL *"),
 * and the suite deletes them again at the end so the integration tests never see them.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/db.h"
#include "common/err.h"
#include "core/billing.h"
#include "core/gateway.h"
#include "core/migrate.h"
#include "core/retry.h"
#include "core/sched.h"
#include "core/store_billing.h"
#include "common/banned.h"

static struct db *db;
static struct retry_policy pol;
static unsigned long seq;

/* ---- database ------------------------------------------------------------------------------ */

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v && *v ? (int)strtol(v, NULL, 10) : def;
}

static const char *env_str(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static struct db *db_open(void)
{
	struct db_config cfg = {
	    .host = env_str("PV_DB_HOST", "127.0.0.1"),
	    .port = env_int("PV_DB_PORT", 3306),
	    .socket = env_str("PV_DB_SOCKET", NULL),
	    .user = env_str("PV_DB_USER", "pillivery"),
	    .password = env_str("PV_DB_PASSWORD", "pillivery"),
	    .database = env_str("PV_DB_NAME", "pillivery"),
	    .connect_timeout_ms = 5000,
	    .query_timeout_ms = 20000,
	};
	struct db *h = db_new(&cfg);

	if (h && db_ping(h) != 0) {
		fprintf(stderr, "store_billing_test: MariaDB at %s:%d unreachable: %s\n", cfg.host,
		        cfg.port, db_last_error(h));
		db_free(h);
		h = NULL;
	}
	return h;
}

/* Everything this suite ever made (foreign keys off: renewal orders and subscriptions point
 * at each other). */
static const char purge_sql[] =
    "SET SESSION foreign_key_checks = 0;"
    "DELETE e FROM api_event e JOIN subscriptions s"
    " ON JSON_VALUE(e.payload, '$.subscriptionId') = s.subscription_id"
    " JOIN users u ON u.user_id = s.user_id WHERE u.email LIKE 'ubill.%@unit.example';"
    "DELETE c FROM subscription_cycles c JOIN subscriptions s"
    " ON s.subscription_id = c.subscription_id JOIN users u ON u.user_id = s.user_id"
    " WHERE u.email LIKE 'ubill.%@unit.example';"
    "DELETE b FROM billing_attempt b JOIN subscriptions s ON s.subscription_id = b.subscription_id"
    " JOIN users u ON u.user_id = s.user_id WHERE u.email LIKE 'ubill.%@unit.example';"
    "DELETE p FROM payments p JOIN orders o ON o.order_id = p.order_id"
    " JOIN users u ON u.user_id = o.user_id WHERE u.email LIKE 'ubill.%@unit.example';"
    "DELETE i FROM order_items i JOIN orders o ON o.order_id = i.order_id"
    " JOIN users u ON u.user_id = o.user_id WHERE u.email LIKE 'ubill.%@unit.example';"
    "DELETE s FROM subscriptions s JOIN users u ON u.user_id = s.user_id"
    " WHERE u.email LIKE 'ubill.%@unit.example';"
    "DELETE o FROM orders o JOIN users u ON u.user_id = o.user_id"
    " WHERE u.email LIKE 'ubill.%@unit.example';"
    "DELETE FROM users WHERE email LIKE 'ubill.%@unit.example';"
    "DELETE d FROM item_sales_delta d JOIN items i ON i.item_id = d.item_id"
    " WHERE i.product_name LIKE 'UBILL %';"
    "DELETE FROM items WHERE product_name LIKE 'UBILL %';"
    "SET SESSION foreign_key_checks = 1;";

/* On its own connection, so the session setting never outlives it. */
static int purge(void)
{
	struct db *h = db_open();
	int rc = h ? db_exec_script(h, purge_sql) : -E_SERVICE_UNAVAILABLE;

	if (h && rc)
		fprintf(stderr, "store_billing_test: cleanup failed: %s\n", db_last_error(h));
	db_free(h);
	return rc;
}

/* Once per run, in the runner's process (no connection is left open across the forks). */
static void suite_setup(void)
{
	db_library_init();
}

static void suite_teardown(void)
{
	purge();
}

static void setup(void)
{
	int applied = 0;

	ck_assert_int_eq(db_library_init(), 0);
	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
	ck_assert_int_eq(retry_policy_parse(RETRY_DEFAULT_DELAYS, &pol), 0);
	db = db_open();
	ck_assert_msg(db != NULL, "MariaDB unreachable (PV_DB_HOST, PV_DB_PORT)");
	ck_assert_msg(migrate_apply(db, &applied) == 0, "migrate_apply: %s", db_last_error(db));
	ck_assert_int_eq(purge(), 0);
}

static void teardown(void)
{
	clock_set_fixed(0);
	if (db) {
		db_free(db);
		db = NULL;
	}
}

static void exec_p(const char *sql, const struct db_param *p, size_t n, uint64_t *id)
{
	int rc = db_exec(db, sql, p, n, NULL, id);

	ck_assert_msg(rc == 0, "%s: %s", sql, db_last_error(db));
}

static struct db_rows *query_p(const char *sql, const struct db_param *p, size_t n)
{
	struct db_rows *r = NULL;
	int rc = db_query(db, sql, p, n, &r);

	ck_assert_msg(rc == 0, "%s: %s", sql, db_last_error(db));
	return r;
}

/* The one value of a query with one id parameter (0 for NULL or no row). */
static int64_t q_i64(const char *sql, int64_t id)
{
	struct db_param p = DB_I64(id);
	struct db_rows *r = query_p(sql, &p, 1);
	int64_t v = db_rows_count(r) ? db_rows_i64(r, 0, 0) : 0;

	db_rows_free(r);
	return v;
}

/* The one text value of a query with one id parameter ("(null)" for NULL or no row). */
static void q_str(const char *sql, int64_t id, char *out, size_t n)
{
	struct db_param p = DB_I64(id);
	struct db_rows *r = query_p(sql, &p, 1);
	const char *v = db_rows_count(r) ? db_rows_str(r, 0, 0) : NULL;

	snprintf(out, n, "%s", v ? v : "(null)");
	db_rows_free(r);
}

/* ---- time ---------------------------------------------------------------------------------- */

static int32_t D(int y, unsigned m, unsigned d)
{
	return clock_days_from_civil(y, m, d);
}

/* Unix time of a wall-clock time in Seoul (UTC+9, no DST since 1988). */
static int64_t kst(int y, unsigned m, unsigned d, int hh, int mm, int ss)
{
	return (int64_t)D(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss - 9 * 3600;
}

#define H (3600LL)

static const char *day_text(int32_t day, char buf[CLOCK_DATE_LEN])
{
	ck_assert_int_eq(clock_format_day(day, buf), 0);
	return buf;
}

/* ---- fixtures ------------------------------------------------------------------------------ */

/* One subscription and the rows it stands on. */
struct fx {
	int64_t user_id, item_id, order_id, order_item_id, payment_id, sub_id;
	char sid[64];
	char partner_user_id[32];
	char product[64];
};

struct sub_spec {
	int32_t first;   /* F = L = C */
	int32_t next;    /* next_payment_date; 0 = NULL */
	int period;      /* 0: 30 */
	int quantity;    /* 0: 2 */
	int64_t item_id; /* 0: a new item at 10,000 won, 10 % off (real price 9,000) */
	const char *sid; /* NULL: a new SID */
};

static const char sql_item_ins[] =
    "INSERT INTO items (product_name, enterprise, origin_price, discount_p10, created_at,"
    " updated_at) VALUES (?, 'UBILL', ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
static const char sql_item_get[] =
    "SELECT origin_price, discount_p10, discount_price, real_price, product_name FROM items"
    " WHERE item_id = ?";
static const char sql_user_ins[] =
    "INSERT INTO users (email, real_name, created_at, updated_at) VALUES (?, '김구독',"
    " FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
static const char sql_order_ins[] =
    "INSERT INTO orders (user_id, status, is_subscription, receiver_real_name, receiver_phone,"
    " receiver_city, receiver_detail_address, total_items, total_quantity, total_price,"
    " total_discount_price, expect_price, created_at, updated_at, paid_at) VALUES (?, 'COMPLETE',"
    " 1, '김구독', '010-2222-3333', '서울', '강남구 테헤란로 1', 1, ?, ?, ?, ?, FROM_UNIXTIME(?),"
    " FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
static const char sql_line_ins[] =
    "INSERT INTO order_items (order_id, item_id, quantity, is_subscription, period, origin_price,"
    " discount_p10, discount_price, real_price, created_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?,"
    " FROM_UNIXTIME(?))";
static const char sql_payment_ins[] =
    "INSERT INTO payments (order_id, ready_no, status, payment_key, cid, partner_order_id,"
    " partner_user_id, item_name, quantity, amount, tid, aid, sid, payment_method_type,"
    " approved_total, approved_at, created_at, updated_at) VALUES (?, 1, 'APPROVED', ?,"
    " 'TCSUBSCRIP', ?, ?, ?, ?, ?, ?, ?, ?, 'CARD', ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?),"
    " FROM_UNIXTIME(?))";
static const char sql_sub_ins[] =
    "INSERT INTO subscriptions (user_id, order_id, order_item_id, item_id, payment_id, quantity,"
    " period, status, first_payment_date, last_payment_date, last_settled_cycle_date,"
    " next_payment_date, cid, sid, partner_user_id, receiver_real_name, receiver_phone,"
    " receiver_city, receiver_detail_address, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?,"
    " ?, 'SUBSCRIPTION', ?, ?, ?, ?, 'TCSUBSCRIP', ?, ?, '김구독', '010-2222-3333', '서울',"
    " '강남구 테헤란로 1', FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
static const char sql_line_sub[] =
    "UPDATE order_items SET subscription_id = ? WHERE order_item_id = ?";

static int64_t make_item(int64_t origin, int p10)
{
	char name[64];
	int64_t t = kst(2019, 12, 1, 9, 0, 0);
	uint64_t id = 0;

	snprintf(name, sizeof(name), "UBILL 루테인 %ld-%lu", (long)getpid(), ++seq);
	struct db_param p[] = {DB_STR(name), DB_I64(origin), DB_I64(p10), DB_I64(t), DB_I64(t)};
	exec_p(sql_item_ins, p, 5, &id);
	return (int64_t)id;
}

static void make_sub(const struct sub_spec *sp, struct fx *f)
{
	char email[96], key[64], tid[64], aid[64], poid[32], fday[CLOCK_DATE_LEN],
	    nday[CLOCK_DATE_LEN];
	int period = sp->period ? sp->period : 30, qty = sp->quantity ? sp->quantity : 2;
	int64_t t = sched_day_start(sp->first) + 11 * H;
	int64_t origin, p10, disc, real;
	uint64_t id = 0;
	struct db_rows *r;

	memset(f, 0, sizeof(*f));
	f->item_id = sp->item_id ? sp->item_id : make_item(10000, 100);
	{
		struct db_param p = DB_I64(f->item_id);
		r = query_p(sql_item_get, &p, 1);
		ck_assert_uint_eq(db_rows_count(r), 1);
		origin = db_rows_i64(r, 0, 0);
		p10 = db_rows_i64(r, 0, 1);
		disc = db_rows_i64(r, 0, 2);
		real = db_rows_i64(r, 0, 3);
		snprintf(f->product, sizeof(f->product), "%s", db_rows_str(r, 0, 4));
		db_rows_free(r);
	}

	snprintf(email, sizeof(email), "ubill.%ld.%lu@unit.example", (long)getpid(), ++seq);
	{
		struct db_param p[] = {DB_STR(email), DB_I64(t), DB_I64(t)};
		exec_p(sql_user_ins, p, 3, &id);
		f->user_id = (int64_t)id;
	}
	snprintf(f->partner_user_id, sizeof(f->partner_user_id), "U%lld", (long long)f->user_id);
	{
		struct db_param p[] = {DB_I64(f->user_id), DB_I64(qty),        DB_I64(origin * qty),
		                       DB_I64(disc * qty), DB_I64(real * qty), DB_I64(t),
		                       DB_I64(t),          DB_I64(t)};
		exec_p(sql_order_ins, p, 8, &id);
		f->order_id = (int64_t)id;
	}
	{
		struct db_param p[] = {DB_I64(f->order_id), DB_I64(f->item_id), DB_I64(qty),
		                       DB_I64(period),      DB_I64(origin),     DB_I64(p10),
		                       DB_I64(disc),        DB_I64(real),       DB_I64(t)};
		exec_p(sql_line_ins, p, 9, &id);
		f->order_item_id = (int64_t)id;
	}
	if (sp->sid)
		snprintf(f->sid, sizeof(f->sid), "%s", sp->sid);
	else
		snprintf(f->sid, sizeof(f->sid), "SID-ub-%ld-%lu", (long)getpid(), ++seq);
	snprintf(key, sizeof(key), "ubkey-%ld-%lu", (long)getpid(), ++seq);
	snprintf(tid, sizeof(tid), "T-ub-first-%lld", (long long)f->order_id);
	snprintf(aid, sizeof(aid), "A-ub-first-%lld", (long long)f->order_id);
	snprintf(poid, sizeof(poid), "O%lld-R1", (long long)f->order_id);
	{
		struct db_param p[] = {DB_I64(f->order_id), DB_STR(key),
		                       DB_STR(poid),        DB_STR(f->partner_user_id),
		                       DB_STR(f->product),  DB_I64(qty),
		                       DB_I64(real * qty),  DB_STR(tid),
		                       DB_STR(aid),         DB_STR(f->sid),
		                       DB_I64(real * qty),  DB_I64(t),
		                       DB_I64(t),           DB_I64(t)};
		exec_p(sql_payment_ins, p, 14, &id);
		f->payment_id = (int64_t)id;
	}
	{
		struct db_param p[] = {DB_I64(f->user_id),
		                       DB_I64(f->order_id),
		                       DB_I64(f->order_item_id),
		                       DB_I64(f->item_id),
		                       DB_I64(f->payment_id),
		                       DB_I64(qty),
		                       DB_I64(period),
		                       DB_STR(day_text(sp->first, fday)),
		                       DB_STR(fday),
		                       DB_STR(fday),
		                       sp->next ? DB_STR(day_text(sp->next, nday)) : DB_NULL(),
		                       DB_STR(f->sid),
		                       DB_STR(f->partner_user_id),
		                       DB_I64(t),
		                       DB_I64(t)};
		exec_p(sql_sub_ins, p, 15, &id);
		f->sub_id = (int64_t)id;
	}
	{
		struct db_param p[] = {DB_I64(f->sub_id), DB_I64(f->order_item_id)};
		exec_p(sql_line_sub, p, 2, NULL);
	}
}

/* F = 2020-01-01, P = 30: the grid is 01-31, 03-01, 03-31, 04-30, ... (2020 is a leap year) */
static void make_default(struct fx *f)
{
	struct sub_spec sp = {.first = D(2020, 1, 1), .next = D(2020, 1, 31)};
	make_sub(&sp, f);
}

/* States reached by other routes (pause, cancel, a retry in progress), set in SQL. */
static void set_paused(int64_t sub, int64_t t)
{
	struct db_param p[] = {DB_I64(t), DB_I64(sub)};
	exec_p("UPDATE subscriptions SET status = 'PAUSED', paused_at = FROM_UNIXTIME(?),"
	       " next_payment_date = NULL WHERE subscription_id = ?",
	       p, 2, NULL);
}

static void set_cancelled(int64_t sub, int64_t t)
{
	struct db_param p[] = {DB_I64(t), DB_I64(sub)};
	exec_p(
	    "UPDATE subscriptions SET status = 'SUBSCRIBE_CANCEL', canceled_at = FROM_UNIXTIME(?),"
	    " cancel_reason = 'CUSTOMER', next_payment_date = NULL WHERE subscription_id = ?",
	    p, 2, NULL);
}

static void set_retry_unknown(int64_t sub)
{
	struct db_param p = DB_I64(sub);
	exec_p(
	    "UPDATE subscriptions SET retry_state = 'UNKNOWN', retry_state_before_unknown = 'NONE'"
	    " WHERE subscription_id = ?",
	    &p, 1, NULL);
}

static void set_scheduled(int64_t sub, int32_t cycle, int attempts, int64_t at)
{
	char day[CLOCK_DATE_LEN];
	struct db_param p[] = {DB_STR(day_text(cycle, day)), DB_I64(attempts), DB_I64(at),
	                       DB_I64(sub)};
	exec_p(
	    "UPDATE subscriptions SET status = 'SUBSCRIBE_PAYMENT_FAIL', retry_state = 'SCHEDULED',"
	    " failed_cycle_date = ?, retry_attempts = ?, next_retry_at = FROM_UNIXTIME(?)"
	    " WHERE subscription_id = ?",
	    p, 4, NULL);
}

static void set_exhausted(int64_t sub, int32_t cycle, int attempts)
{
	char day[CLOCK_DATE_LEN];
	struct db_param p[] = {DB_STR(day_text(cycle, day)), DB_I64(attempts), DB_I64(sub)};
	exec_p(
	    "UPDATE subscriptions SET status = 'SUBSCRIBE_PAYMENT_FAIL', retry_state = 'EXHAUSTED',"
	    " failed_cycle_date = ?, retry_attempts = ?, next_payment_date = NULL"
	    " WHERE subscription_id = ?",
	    p, 3, NULL);
}

static void set_hold(int64_t sub, int64_t until)
{
	struct db_param p[] = {DB_I64(until), DB_I64(sub)};
	exec_p("UPDATE subscriptions SET charge_hold_until = FROM_UNIXTIME(?),"
	       " charge_hold_reason = 'RETRY_LATER' WHERE subscription_id = ?",
	       p, 2, NULL);
}

/* ---- reading the rows back ----------------------------------------------------------------- */

static void cell(const struct db_rows *r, size_t col, char *out, size_t n)
{
	const char *v = db_rows_str(r, 0, col);
	snprintf(out, n, "%s", v ? v : "(null)");
}

static int64_t cell_i64(const struct db_rows *r, size_t col)
{
	return db_rows_is_null(r, 0, col) ? -1 : db_rows_i64(r, 0, col);
}

struct sub_st {
	char status[32], retry[16], before[16], failed[16], next[16], last[16], settled[16];
	char fcode[40], fmsg[200], hold_reason[40];
	int64_t attempts, next_retry_at, hold_until; /* -1 for NULL */
};

static const char sql_sub_st[] =
    "SELECT status, retry_state, retry_state_before_unknown, CAST(failed_cycle_date AS CHAR),"
    " CAST(next_payment_date AS CHAR), CAST(last_payment_date AS CHAR),"
    " CAST(last_settled_cycle_date AS CHAR), last_failure_code, last_failure_message,"
    " charge_hold_reason, retry_attempts, UNIX_TIMESTAMP(next_retry_at),"
    " UNIX_TIMESTAMP(charge_hold_until) FROM subscriptions WHERE subscription_id = ?";

static struct sub_st sub_st(int64_t sub)
{
	struct sub_st s;
	struct db_param p = DB_I64(sub);
	struct db_rows *r = query_p(sql_sub_st, &p, 1);

	ck_assert_uint_eq(db_rows_count(r), 1);
	cell(r, 0, s.status, sizeof(s.status));
	cell(r, 1, s.retry, sizeof(s.retry));
	cell(r, 2, s.before, sizeof(s.before));
	cell(r, 3, s.failed, sizeof(s.failed));
	cell(r, 4, s.next, sizeof(s.next));
	cell(r, 5, s.last, sizeof(s.last));
	cell(r, 6, s.settled, sizeof(s.settled));
	cell(r, 7, s.fcode, sizeof(s.fcode));
	cell(r, 8, s.fmsg, sizeof(s.fmsg));
	cell(r, 9, s.hold_reason, sizeof(s.hold_reason));
	s.attempts = cell_i64(r, 10);
	s.next_retry_at = cell_i64(r, 11);
	s.hold_until = cell_i64(r, 12);
	db_rows_free(r);
	return s;
}

struct att_st {
	char status[16], by[16], outcome[16], poid[101], tid[64], aid[64], ecode[40], emsg[200];
	char mrc[64], resolved_by[16], cycle[16], claimed_by[64], probe_result[256], sid[64];
	char json[1024];
	int64_t attempt_no, counted, approved_amount, order_id, needs_admin, probe_count, amount;
	int64_t mismatch, origin, p10, disc, real, claimed_at;
};

static const char sql_att_st[] =
    "SELECT status, initiated_by, outcome, partner_order_id, tid, aid, error_code, error_message,"
    " method_result_code, resolved_by, CAST(cycle_date AS CHAR), claimed_by, last_probe_result,"
    " sid, approval_result, attempt_no, counted, approved_amount, order_id, needs_admin,"
    " probe_count, amount, amount_mismatch, origin_price, discount_p10, discount_price,"
    " real_price, UNIX_TIMESTAMP(claimed_at) FROM billing_attempt WHERE billing_attempt_id = ?";

static struct att_st att_st(int64_t id)
{
	struct att_st a;
	struct db_param p = DB_I64(id);
	struct db_rows *r = query_p(sql_att_st, &p, 1);

	ck_assert_uint_eq(db_rows_count(r), 1);
	cell(r, 0, a.status, sizeof(a.status));
	cell(r, 1, a.by, sizeof(a.by));
	cell(r, 2, a.outcome, sizeof(a.outcome));
	cell(r, 3, a.poid, sizeof(a.poid));
	cell(r, 4, a.tid, sizeof(a.tid));
	cell(r, 5, a.aid, sizeof(a.aid));
	cell(r, 6, a.ecode, sizeof(a.ecode));
	cell(r, 7, a.emsg, sizeof(a.emsg));
	cell(r, 8, a.mrc, sizeof(a.mrc));
	cell(r, 9, a.resolved_by, sizeof(a.resolved_by));
	cell(r, 10, a.cycle, sizeof(a.cycle));
	cell(r, 11, a.claimed_by, sizeof(a.claimed_by));
	cell(r, 12, a.probe_result, sizeof(a.probe_result));
	cell(r, 13, a.sid, sizeof(a.sid));
	cell(r, 14, a.json, sizeof(a.json));
	a.attempt_no = cell_i64(r, 15);
	a.counted = cell_i64(r, 16);
	a.approved_amount = cell_i64(r, 17);
	a.order_id = cell_i64(r, 18);
	a.needs_admin = cell_i64(r, 19);
	a.probe_count = cell_i64(r, 20);
	a.amount = cell_i64(r, 21);
	a.mismatch = cell_i64(r, 22);
	a.origin = cell_i64(r, 23);
	a.p10 = cell_i64(r, 24);
	a.disc = cell_i64(r, 25);
	a.real = cell_i64(r, 26);
	a.claimed_at = cell_i64(r, 27);
	db_rows_free(r);
	return a;
}

struct cyc_st {
	bool found;
	char status[16];
	int64_t attempts, amount, order_id;
};

static const char sql_cyc_st[] =
    "SELECT status, attempts, amount, order_id FROM"
    " subscription_cycles WHERE subscription_id = ? AND cycle_date = ?";

static struct cyc_st cyc_st(int64_t sub, int32_t cycle)
{
	struct cyc_st c;
	char day[CLOCK_DATE_LEN];
	struct db_param p[] = {DB_I64(sub), DB_STR(day_text(cycle, day))};
	struct db_rows *r = query_p(sql_cyc_st, p, 2);

	memset(&c, 0, sizeof(c));
	c.found = db_rows_count(r) == 1;
	if (c.found) {
		cell(r, 0, c.status, sizeof(c.status));
		c.attempts = cell_i64(r, 1);
		c.amount = cell_i64(r, 2);
		c.order_id = cell_i64(r, 3);
	}
	db_rows_free(r);
	return c;
}

static const char sql_events[] = "SELECT COUNT(*) FROM api_event WHERE kind = ?"
                                 " AND JSON_VALUE(payload, '$.subscriptionId') = ?";

static int64_t events(const char *kind, int64_t sub)
{
	struct db_param p[] = {DB_STR(kind), DB_I64(sub)};
	struct db_rows *r = query_p(sql_events, p, 2);
	int64_t n = db_rows_i64(r, 0, 0);

	db_rows_free(r);
	return n;
}

static const char sql_attempts_of[] =
    "SELECT COUNT(*) FROM billing_attempt WHERE subscription_id = ?";
static const char sql_renewals_of[] =
    "SELECT COUNT(*) FROM orders WHERE subscription_id = ? AND is_renewal = 1";
static const char sql_sales[] = "SELECT sales FROM items WHERE item_id = ?";
static const char sql_delta_of_item[] =
    "SELECT COALESCE(SUM(quantity), 0) FROM item_sales_delta WHERE item_id = ?";
static const char sql_delta_of_order[] =
    "SELECT CONCAT_WS('|', item_id, quantity) FROM item_sales_delta WHERE order_id = ?";

/* Folds the pending sales deltas (of every item: only this suite's exist in the unit run). */
static void fold_sales(void)
{
	size_t items = 0;
	int rc = store_billing_fold_sales(db, &items);

	ck_assert_msg(rc == 0, "store_billing_fold_sales: %d %s", rc, db_last_error(db));
}

/* ---- claims and outcomes ------------------------------------------------------------------- */

static int32_t cutoff_at(int64_t now)
{
	return sched_due_cutoff(clock_local_day((time_t)now), sched_local_minute(now),
	                        SCHED_CHARGE_MINUTE_DEFAULT);
}

static size_t claim(int64_t now, struct billing_attempt *out, size_t max)
{
	struct billing_claim c = {.now = now, .cutoff = cutoff_at(now), .claimed_by = "unit:1"};
	size_t n = 999;
	int rc = store_billing_claim(db, &c, out, max, &n);

	ck_assert_msg(rc == 0, "store_billing_claim: %d %s", rc, db_last_error(db));
	return n;
}

/* Claims at now and expects exactly one attempt, of subscription sub. */
static struct billing_attempt claim_one(int64_t now, int64_t sub)
{
	struct billing_attempt out[4];
	size_t n = claim(now, out, 4);

	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0].subscription_id, sub);
	return out[0];
}

static struct billing_apply_stats apply(const struct billing_attempt *a,
                                        const struct billing_answer *ans, int64_t now)
{
	struct billing_outcome o = {a, ans};
	struct billing_apply_stats st = {0};
	int rc = store_billing_apply(db, &pol, &o, 1, now, &st);

	ck_assert_msg(rc == 0, "store_billing_apply: %d %s", rc, db_last_error(db));
	return st;
}

/* Kakao Pay's OK for a: the amount asked, approved at `at`. */
static struct billing_answer ok_answer(const struct billing_attempt *a, int64_t at)
{
	struct billing_answer ans;

	memset(&ans, 0, sizeof(ans));
	ans.cls = PAY_OK;
	snprintf(ans.tid, sizeof(ans.tid), "T-ub-%lld-%ld", (long long)a->id, (long)getpid());
	snprintf(ans.aid, sizeof(ans.aid), "A-ub-%lld-%ld", (long long)a->id, (long)getpid());
	snprintf(ans.payment_method_type, sizeof(ans.payment_method_type), "CARD");
	ans.amount =
	    (struct pay_amount){.present = true, .total = a->amount, .vat = a->amount / 11};
	ans.created_at = at - 1;
	ans.approved_at = at;
	return ans;
}

static struct billing_answer fail_answer(enum pay_class cls, const char *code, const char *msg)
{
	struct billing_answer ans;

	billing_answer_error(cls, code, msg, &ans);
	return ans;
}

static struct billing_answer declined(void)
{
	struct billing_answer ans = fail_answer(PAY_DECLINED, "-782", "잔액이 부족합니다.");

	snprintf(ans.method_result_code, sizeof(ans.method_result_code), "CARD_DECLINED");
	return ans;
}

/* ---- claim --------------------------------------------------------------------------------- */

START_TEST(test_claim_due_cycles_only)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	const int32_t f = D(2020, 1, 1);
	struct fx due, overdue, later, paused, cancelled, unknown, retry_later, exhausted;
	struct billing_attempt out[16];
	char poid[64];
	size_t n;

	make_sub(&(struct sub_spec){.first = f, .next = D(2020, 1, 31), .quantity = 3}, &due);
	make_sub(&(struct sub_spec){.first = f, .next = D(2020, 1, 20)}, &overdue);
	make_sub(&(struct sub_spec){.first = f, .next = D(2020, 2, 1)}, &later);
	make_sub(&(struct sub_spec){.first = f, .next = D(2020, 1, 31)}, &paused);
	set_paused(paused.sub_id, now - 86400);
	make_sub(&(struct sub_spec){.first = f, .next = D(2020, 1, 31)}, &cancelled);
	set_cancelled(cancelled.sub_id, now - 86400);
	make_sub(&(struct sub_spec){.first = f, .next = D(2020, 1, 31)}, &unknown);
	set_retry_unknown(unknown.sub_id);
	make_sub(&(struct sub_spec){.first = f, .next = D(2020, 1, 20)}, &retry_later);
	set_scheduled(retry_later.sub_id, D(2020, 1, 20), 2, now + H);
	make_sub(&(struct sub_spec){.first = f, .next = D(2020, 1, 20)}, &exhausted);
	set_exhausted(exhausted.sub_id, D(2020, 1, 20), 5);
	/* the amount is quantity x the item's current price (§2.7): the price rose since */
	exec_p("UPDATE items SET origin_price = 12000 WHERE item_id = ?",
	       (struct db_param[]){DB_I64(due.item_id)}, 1, NULL);

	/* before 10:00 only yesterday's cycles are due */
	n = claim(kst(2020, 1, 31, 9, 59, 59), out, 16);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0].subscription_id, overdue.sub_id);

	n = claim(now, out, 16);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0].subscription_id, due.sub_id);
	struct billing_attempt a = out[0];
	ck_assert_int_gt(a.id, 0);
	ck_assert_int_eq(a.item_id, due.item_id);
	ck_assert_int_eq(a.cycle_date, D(2020, 1, 31));
	ck_assert_int_eq(a.attempt_no, 1);
	ck_assert_int_eq(a.by, BILLING_BY_SCHEDULE);
	ck_assert_int_eq(a.quantity, 3);
	ck_assert_int_eq(a.amount, 3 * 10800);
	ck_assert_int_eq(a.claimed_at, now);
	ck_assert_str_eq(a.cid, "TCSUBSCRIP");
	ck_assert_str_eq(a.sid, due.sid);
	ck_assert_str_eq(a.partner_user_id, due.partner_user_id);
	ck_assert_str_eq(a.item_name, due.product);
	snprintf(poid, sizeof(poid), "S%lld-C20200131-A1", (long long)due.sub_id);
	ck_assert_str_eq(a.partner_order_id, poid);
	snprintf(poid, sizeof(poid), "att:%lld", (long long)a.id);
	ck_assert_str_eq(a.payload, poid);

	/* the PENDING row committed before the call, with the price snapshot */
	struct att_st s = att_st(a.id);
	ck_assert_str_eq(s.status, "PENDING");
	ck_assert_str_eq(s.by, "SCHEDULE");
	ck_assert_str_eq(s.cycle, "2020-01-31");
	ck_assert_str_eq(s.poid, a.partner_order_id);
	ck_assert_str_eq(s.sid, due.sid);
	ck_assert_str_eq(s.claimed_by, "unit:1");
	ck_assert_int_eq(s.claimed_at, now);
	ck_assert_int_eq(s.attempt_no, 1);
	ck_assert_int_eq(s.origin, 12000);
	ck_assert_int_eq(s.p10, 100);
	ck_assert_int_eq(s.disc, 1200);
	ck_assert_int_eq(s.real, 10800);
	ck_assert_int_eq(s.amount, 3 * 10800);
	ck_assert_str_eq(s.tid, "(null)");

	/* nothing else: not due yet, paused, cancelled, UNKNOWN, a retry not due, exhausted */
	ck_assert_int_eq(q_i64(sql_attempts_of, later.sub_id), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, paused.sub_id), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, cancelled.sub_id), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, unknown.sub_id), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, retry_later.sub_id), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, exhausted.sub_id), 0);
	/* the claim changes no subscription */
	ck_assert_str_eq(sub_st(due.sub_id).status, "SUBSCRIPTION");
	ck_assert_str_eq(sub_st(due.sub_id).next, "2020-01-31");

	/* the retry becomes due at its time, and is claimed as a RETRY of its failed cycle */
	n = claim(now + H, out, 16);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0].subscription_id, retry_later.sub_id);
	ck_assert_int_eq(out[0].by, BILLING_BY_RETRY);
	ck_assert_int_eq(out[0].cycle_date, D(2020, 1, 20));
	ck_assert_str_eq(att_st(out[0].id).by, "RETRY");
	/* the next day, the cycle of 02-01 */
	n = claim(kst(2020, 2, 1, 10, 0, 0), out, 16);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0].subscription_id, later.sub_id);
	ck_assert_int_eq(q_i64(sql_attempts_of, exhausted.sub_id), 0);
}
END_TEST

START_TEST(test_claim_skips_held_and_open_sid)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	struct fx held, released, first, same_sid;
	struct billing_attempt out[8];
	size_t n;

	make_default(&held);
	set_hold(held.sub_id, now + 60);
	make_default(&released);
	set_hold(released.sub_id, now - 1);
	make_default(&first);
	/* a second subscription of the same order: the same SID */
	make_sub(
	    &(struct sub_spec){.first = D(2020, 1, 1), .next = D(2020, 1, 31), .sid = first.sid},
	    &same_sid);

	n = claim(now, out, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(out[0].subscription_id, released.sub_id);
	ck_assert_int_eq(out[1].subscription_id, first.sub_id);
	/* one open attempt per SID: the other subscription on it waits */
	ck_assert_int_eq(q_i64(sql_attempts_of, same_sid.sub_id), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, held.sub_id), 0);

	/* a second claim takes nothing: PENDING attempts are open */
	ck_assert_uint_eq(claim(now + 1, out, 8), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, released.sub_id), 1);
	ck_assert_int_eq(q_i64(sql_attempts_of, first.sub_id), 1);

	/* the hold ends */
	struct billing_attempt a = claim_one(now + 60, held.sub_id);
	ck_assert_int_eq(a.attempt_no, 1);

	/* once the SID's attempt is settled, the other subscription on it is claimed */
	struct billing_answer ans = ok_answer(&out[1], now + 2);
	ck_assert_uint_eq(apply(&out[1], &ans, now + 2).approved, 1);
	claim_one(now + 61, same_sid.sub_id);
}
END_TEST

START_TEST(test_claim_batch_limit)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	struct fx a, b;
	struct billing_attempt out[2];

	make_sub(&(struct sub_spec){.first = D(2020, 1, 1), .next = D(2020, 1, 30)}, &a);
	make_default(&b);
	ck_assert_uint_eq(claim(now, out, 0), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, a.sub_id), 0);
	/* oldest cycle first */
	ck_assert_uint_eq(claim(now, out, 1), 1);
	ck_assert_int_eq(out[0].subscription_id, a.sub_id);
	ck_assert_uint_eq(claim(now, out, 1), 1);
	ck_assert_int_eq(out[0].subscription_id, b.sub_id);
	ck_assert_uint_eq(claim(now, out, 2), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, a.sub_id), 1);
	ck_assert_int_eq(q_i64(sql_attempts_of, b.sub_id), 1);
}
END_TEST

/* ---- apply: approved ----------------------------------------------------------------------- */

/*
 * Asserts every effect of the approved outcome ans of attempt a, applied at now (§2.7, §7.3):
 * the attempt and its approve JSON, the renewal order (COMPLETE, one line, the receiver of the
 * subscription, the prices of the claim), its APPROVED payment with the charge's tid, the sales
 * delta (until folded), the cycle PAID, the subscription (retry reset, L = last, C = the
 * cycle, next). Returns the renewal order's id.
 */
static int64_t assert_approved(const struct fx *f, const struct billing_attempt *a,
                               const struct billing_answer *ans, int64_t now, const char *last,
                               const char *next, int64_t cycle_attempts, bool folded)
{
	char buf[1024], want[1024], *json = NULL;
	struct att_st s = att_st(a->id);
	int64_t q = a->quantity, at = ans->approved_at >= 0 ? ans->approved_at : now;
	int64_t total = ans->amount.present ? ans->amount.total : a->amount;
	char *res = billing_approval_json(a, ans, now);

	ck_assert_ptr_nonnull(res);
	ck_assert_str_eq(s.status, "APPROVED");
	ck_assert_str_eq(s.outcome, "OK");
	ck_assert_str_eq(s.tid, ans->tid);
	ck_assert_str_eq(s.aid, ans->aid);
	ck_assert_str_eq(s.resolved_by, "GATEWAY");
	ck_assert_str_eq(s.ecode, "(null)");
	ck_assert_int_eq(s.approved_amount, total);
	ck_assert_int_eq(s.mismatch, total != a->amount);
	ck_assert_int_eq(s.counted, 0);
	ck_assert_int_gt(s.order_id, 0);
	/* the approve JSON, stored for charge-now's replays */
	ck_assert_str_eq(s.json, res);
	ck_assert_int_eq(store_billing_approval_json(db, a->id, &json), 0);
	ck_assert_str_eq(json, res);
	free(json);

	/* the renewal order and its one line */
	q_str("SELECT CONCAT_WS('|', user_id, status, is_subscription, ordered_at_cart, is_renewal,"
	      " subscription_id, cycle_date, receiver_real_name, receiver_phone, receiver_city,"
	      " receiver_detail_address, total_items, total_quantity, total_price,"
	      " total_discount_price, expect_price, refunded_amount, UNIX_TIMESTAMP(paid_at))"
	      " FROM orders WHERE order_id = ?",
	      s.order_id, buf, sizeof(buf));
	snprintf(want, sizeof(want),
	         "%lld|COMPLETE|1|0|1|%lld|%s|김구독|010-2222-3333|서울|강남구 테헤란로 1|1|%lld|"
	         "%lld|%lld|%lld|0|%lld",
	         (long long)f->user_id, (long long)f->sub_id, s.cycle, (long long)q,
	         (long long)(s.origin * q), (long long)(s.disc * q), (long long)(s.real * q),
	         (long long)at);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(q_i64("SELECT COUNT(*) FROM order_items WHERE order_id = ?", s.order_id),
	                 1);
	q_str("SELECT CONCAT_WS('|', item_id, quantity, is_subscription, period, origin_price,"
	      " discount_p10, discount_price, real_price, subscription_id) FROM order_items"
	      " WHERE order_id = ?",
	      s.order_id, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%lld|%lld|1|30|%lld|%lld|%lld|%lld|%lld",
	         (long long)a->item_id, (long long)q, (long long)s.origin, (long long)s.p10,
	         (long long)s.disc, (long long)s.real, (long long)f->sub_id);
	ck_assert_str_eq(buf, want);

	/* its payment, APPROVED with the charge's tid, so refunds work as for any order */
	ck_assert_int_eq(q_i64("SELECT COUNT(*) FROM payments WHERE order_id = ?", s.order_id), 1);
	q_str("SELECT CONCAT_WS('|', status, ready_no, tid, aid, sid, cid, partner_order_id,"
	      " partner_user_id, item_name, quantity, amount, tax_free_amount, approved_total,"
	      " approved_vat, payment_method_type, UNIX_TIMESTAMP(approved_at)) FROM payments"
	      " WHERE order_id = ?",
	      s.order_id, buf, sizeof(buf));
	snprintf(want, sizeof(want),
	         "APPROVED|1|%s|%s|%s|TCSUBSCRIP|%s|%s|%s|%lld|%lld|0|%lld|%lld|CARD|%lld",
	         ans->tid, ans->aid, f->sid, a->partner_order_id, f->partner_user_id, f->product,
	         (long long)q, (long long)a->amount, (long long)total, (long long)ans->amount.vat,
	         (long long)at);
	ck_assert_str_eq(buf, want);
	q_str("SELECT approval_result FROM payments WHERE order_id = ?", s.order_id, buf,
	      sizeof(buf));
	ck_assert_str_eq(buf, res);
	free(res);

	/* its sales, folded into items.sales later */
	q_str(sql_delta_of_order, s.order_id, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%lld|%lld", (long long)a->item_id, (long long)q);
	ck_assert_str_eq(buf, folded ? "(null)" : want);

	/* the cycle and the schedule */
	struct cyc_st c = cyc_st(f->sub_id, a->cycle_date);
	ck_assert(c.found);
	ck_assert_str_eq(c.status, "PAID");
	ck_assert_int_eq(c.attempts, cycle_attempts);
	ck_assert_int_eq(c.amount, a->amount);
	ck_assert_int_eq(c.order_id, s.order_id);
	struct sub_st ss = sub_st(f->sub_id);
	ck_assert_str_eq(ss.status, strcmp(next, "(null)") ? "SUBSCRIPTION" : "SUBSCRIBE_CANCEL");
	ck_assert_str_eq(ss.retry, "NONE");
	ck_assert_str_eq(ss.before, "(null)");
	ck_assert_str_eq(ss.failed, "(null)");
	ck_assert_int_eq(ss.attempts, 0);
	ck_assert_int_eq(ss.next_retry_at, -1);
	ck_assert_int_eq(ss.hold_until, -1);
	ck_assert_str_eq(ss.fcode, "(null)");
	ck_assert_str_eq(ss.fmsg, "(null)");
	ck_assert_str_eq(ss.last, last);
	ck_assert_str_eq(ss.settled, s.cycle);
	ck_assert_str_eq(ss.next, next);
	return s.order_id;
}

START_TEST(test_apply_approved)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	struct fx f;
	char buf[64];

	make_default(&f); /* quantity 2 at 9,000 won */
	struct billing_attempt a = claim_one(now, f.sub_id);
	ck_assert_int_eq(a.amount, 18000);
	struct billing_answer ans = ok_answer(&a, now + 2);
	struct billing_apply_stats st = apply(&a, &ans, now + 3);
	ck_assert_uint_eq(st.approved, 1);
	ck_assert_uint_eq(st.declined + st.failed + st.unknown + st.skipped, 0);
	ck_assert_uint_eq(st.amount_mismatch, 0);
	ck_assert_int_eq(st.sales_items, 2);
	ck_assert_int_eq(q_i64(sql_renewals_of, f.sub_id), 1);
	/* L = the charge's day, C = the cycle, next = F + 2P */
	assert_approved(&f, &a, &ans, now + 3, "2020-01-31", "2020-03-01", 1, false);

	/* sales: +2 once folded */
	ck_assert_int_eq(q_i64(sql_sales, f.item_id), 0);
	ck_assert_int_eq(q_i64(sql_delta_of_item, f.item_id), 2);
	fold_sales();
	ck_assert_int_eq(q_i64(sql_sales, f.item_id), 2);
	ck_assert_int_eq(q_i64(sql_delta_of_item, f.item_id), 0);
	fold_sales();
	ck_assert_int_eq(q_i64(sql_sales, f.item_id), 2);

	/* the same outcome again (a replayed batch): skipped, nothing doubles */
	st = apply(&a, &ans, now + 10);
	ck_assert_uint_eq(st.skipped, 1);
	ck_assert_uint_eq(st.approved, 0);
	ck_assert_int_eq(st.sales_items, 0);
	struct billing_answer no = declined();
	st = apply(&a, &no, now + 11);
	ck_assert_uint_eq(st.skipped, 1);
	ck_assert_uint_eq(st.declined, 0);
	ck_assert_int_eq(q_i64(sql_renewals_of, f.sub_id), 1);
	ck_assert_int_eq(q_i64(sql_delta_of_item, f.item_id), 0);
	assert_approved(&f, &a, &ans, now + 3, "2020-01-31", "2020-03-01", 1, true);

	/* nothing is due before the next cycle; then its attempts start at 1 again */
	ck_assert_uint_eq(claim(kst(2020, 2, 29, 23, 0, 0), (struct billing_attempt[1]){{0}}, 1),
	                  0);
	struct billing_attempt b = claim_one(kst(2020, 3, 1, 10, 0, 0), f.sub_id);
	ck_assert_int_eq(b.cycle_date, D(2020, 3, 1));
	ck_assert_int_eq(b.attempt_no, 1);
	snprintf(buf, sizeof(buf), "S%lld-C20200301-A1", (long long)f.sub_id);
	ck_assert_str_eq(b.partner_order_id, buf);
}
END_TEST

/* The attempt of subscription sub among the n claimed in out. */
static struct billing_attempt pick(const struct billing_attempt *out, size_t n, int64_t sub)
{
	for (size_t i = 0; i < n; i++)
		if (out[i].subscription_id == sub)
			return out[i];
	ck_abort_msg("subscription %lld was not claimed", (long long)sub);
	return out[0];
}

START_TEST(test_apply_mixed_batch)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	struct fx f1, f2, f3;

	make_default(&f1);
	make_sub(&(struct sub_spec){.first = D(2020, 1, 1),
	                            .next = D(2020, 1, 31),
	                            .item_id = f1.item_id,
	                            .quantity = 5},
	         &f2);
	make_default(&f3);
	struct billing_attempt out[16];
	size_t n = claim(now, out, 16);
	ck_assert_uint_eq(n, 3);
	struct billing_attempt a1 = pick(out, n, f1.sub_id);
	struct billing_attempt a2 = pick(out, n, f2.sub_id);
	struct billing_attempt a3 = pick(out, n, f3.sub_id);
	struct billing_answer r1 = ok_answer(&a1, now + 1);
	struct billing_answer r2 = ok_answer(&a2, now + 1);
	struct billing_answer r3 = declined();
	r2.amount.total -= 1000; /* Kakao Pay approved another amount: still APPROVED, flagged */
	r2.approved_at = -1;     /* and without a time: the apply's */
	struct billing_outcome o[3] = {{&a1, &r1}, {&a3, &r3}, {&a2, &r2}};
	struct billing_apply_stats st = {0};
	ck_assert_int_eq(store_billing_apply(db, &pol, o, 3, now + 2, &st), 0);
	ck_assert_uint_eq(st.approved, 2);
	ck_assert_uint_eq(st.declined, 1);
	ck_assert_uint_eq(st.skipped, 0);
	ck_assert_uint_eq(st.amount_mismatch, 1);
	ck_assert_int_eq(st.sales_items, 2 + 5);
	/* the approvals of a batch have exactly the effects of a single one */
	assert_approved(&f1, &a1, &r1, now + 2, "2020-01-31", "2020-03-01", 1, false);
	assert_approved(&f2, &a2, &r2, now + 2, "2020-01-31", "2020-03-01", 1, false);
	ck_assert_int_eq(att_st(a2.id).approved_amount, a2.amount - 1000);
	ck_assert_str_eq(sub_st(f3.sub_id).retry, "SCHEDULED");
	ck_assert_int_eq(q_i64(sql_delta_of_item, f1.item_id), 7);
	fold_sales();
	ck_assert_int_eq(q_i64(sql_sales, f1.item_id), 7);

	/* the whole batch replayed: every outcome skipped, nothing doubles */
	st = (struct billing_apply_stats){0};
	ck_assert_int_eq(store_billing_apply(db, &pol, o, 3, now + 20, &st), 0);
	ck_assert_uint_eq(st.skipped, 3);
	ck_assert_uint_eq(st.approved + st.declined, 0);
	ck_assert_int_eq(st.sales_items, 0);
	ck_assert_int_eq(q_i64(sql_renewals_of, f1.sub_id), 1);
	ck_assert_int_eq(q_i64(sql_renewals_of, f2.sub_id), 1);
	ck_assert_int_eq(q_i64(sql_delta_of_item, f1.item_id), 0);
	ck_assert_int_eq(sub_st(f3.sub_id).attempts, 1);
	ck_assert_int_eq(q_i64(sql_attempts_of, f3.sub_id), 1);

	/* a batch with a retry that succeeds: the cycle counts both attempts, retry reset */
	struct fx f4;
	make_default(&f4);
	n = claim(now + 30, out, 16);
	ck_assert_uint_eq(n, 2);
	struct billing_attempt a4 = pick(out, n, f4.sub_id);
	struct billing_attempt r = pick(out, n, f3.sub_id);
	ck_assert_int_eq(r.attempt_no, 2);
	ck_assert_int_eq(r.by, BILLING_BY_RETRY);
	struct billing_answer r4 = ok_answer(&a4, now + 31), rr = ok_answer(&r, now + 31);
	struct billing_outcome o2[2] = {{&r, &rr}, {&a4, &r4}};
	st = (struct billing_apply_stats){0};
	ck_assert_int_eq(store_billing_apply(db, &pol, o2, 2, now + 32, &st), 0);
	ck_assert_uint_eq(st.approved, 2);
	assert_approved(&f3, &r, &rr, now + 32, "2020-01-31", "2020-03-01", 2, false);
	assert_approved(&f4, &a4, &r4, now + 32, "2020-01-31", "2020-03-01", 1, false);
}
END_TEST

START_TEST(test_apply_batch_repeats_an_outcome)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	struct fx f1, f2;

	make_default(&f1);
	make_default(&f2);
	struct billing_attempt out[16];
	size_t n = claim(now, out, 16);
	ck_assert_uint_eq(n, 2);
	struct billing_attempt a1 = pick(out, n, f1.sub_id);
	struct billing_attempt a2 = pick(out, n, f2.sub_id);
	struct billing_answer r1 = ok_answer(&a1, now + 1);
	struct billing_answer r2 = ok_answer(&a2, now + 1);
	/* the same attempt twice in one batch: the second finds it settled, as in two batches */
	struct billing_outcome o[3] = {{&a1, &r1}, {&a2, &r2}, {&a1, &r1}};
	struct billing_apply_stats st = {0};
	int rc = store_billing_apply(db, &pol, o, 3, now + 2, &st);
	ck_assert_msg(rc == 0, "store_billing_apply: %d (%s) %s", rc, err_name(rc),
	              db_last_error(db));
	ck_assert_uint_eq(st.approved, 2);
	ck_assert_uint_eq(st.skipped, 1);
	ck_assert_int_eq(st.sales_items, 4);
	assert_approved(&f1, &a1, &r1, now + 2, "2020-01-31", "2020-03-01", 1, false);
	assert_approved(&f2, &a2, &r2, now + 2, "2020-01-31", "2020-03-01", 1, false);
}
END_TEST

START_TEST(test_approved_after_cancel)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	struct fx c1, c2, live;

	/* cancel is allowed while a charge is in flight (§2.5); its approval still lands */
	make_default(&c1);
	make_default(&c2);
	make_default(&live);
	struct billing_attempt out[16];
	size_t n = claim(now, out, 16);
	ck_assert_uint_eq(n, 3);
	struct billing_attempt a1 = pick(out, n, c1.sub_id);
	struct billing_attempt a2 = pick(out, n, c2.sub_id);
	struct billing_attempt a3 = pick(out, n, live.sub_id);
	set_cancelled(c1.sub_id, now + 1);
	set_cancelled(c2.sub_id, now + 1);
	struct billing_answer r1 = ok_answer(&a1, now + 2);
	struct billing_answer r2 = ok_answer(&a2, now + 2);
	struct billing_answer r3 = ok_answer(&a3, now + 2);
	/* alone (the single-outcome path) and in a batch */
	ck_assert_uint_eq(apply(&a1, &r1, now + 3).approved, 1);
	struct billing_outcome o[2] = {{&a2, &r2}, {&a3, &r3}};
	struct billing_apply_stats st = {0};
	ck_assert_int_eq(store_billing_apply(db, &pol, o, 2, now + 3, &st), 0);
	ck_assert_uint_eq(st.approved, 2);
	/* the paid cycle is recorded; a cancelled subscription stays cancelled, without next */
	assert_approved(&c1, &a1, &r1, now + 3, "2020-01-31", "(null)", 1, false);
	assert_approved(&c2, &a2, &r2, now + 3, "2020-01-31", "(null)", 1, false);
	assert_approved(&live, &a3, &r3, now + 3, "2020-01-31", "2020-03-01", 1, false);
}
END_TEST

START_TEST(test_schedule_anchored_on_first_date)
{
	struct fx late;

	/* the daemon was down: cycle 01-31 charged on 02-03 → L = 02-03, C = 01-31, next 03-01 */
	make_default(&late);
	int64_t t = kst(2020, 2, 3, 15, 0, 0);
	struct billing_attempt a = claim_one(t, late.sub_id);
	ck_assert_int_eq(a.cycle_date, D(2020, 1, 31));
	struct billing_answer ans = ok_answer(&a, t + 1);
	apply(&a, &ans, t + 1);
	struct sub_st s = sub_st(late.sub_id);
	ck_assert_str_eq(s.last, "2020-02-03");
	ck_assert_str_eq(s.settled, "2020-01-31");
	ck_assert_str_eq(s.next, "2020-03-01");

	/* charged on 04-15 for cycle 01-31: the grid dates before 04-15 are not charged, next is
	 * F + 4P = 04-30, not 04-15 + P; the same in a batch with the first one's cycle 03-01 */
	struct fx very_late, very_late2;
	struct billing_attempt out[16];
	make_default(&very_late);
	make_default(&very_late2);
	t = kst(2020, 4, 15, 10, 30, 0);
	size_t n = claim(t, out, 16);
	ck_assert_uint_eq(n, 3);
	struct billing_attempt b1 = pick(out, n, very_late.sub_id);
	struct billing_attempt b2 = pick(out, n, very_late2.sub_id);
	struct billing_attempt b3 = pick(out, n, late.sub_id);
	ck_assert_int_eq(b1.cycle_date, D(2020, 1, 31));
	ck_assert_int_eq(b3.cycle_date, D(2020, 3, 1));
	struct billing_answer r1 = ok_answer(&b1, t + 1), r2 = ok_answer(&b2, t + 1),
	                      r3 = ok_answer(&b3, t + 1);
	ck_assert_uint_eq(apply(&b1, &r1, t + 1).approved, 1);
	struct billing_outcome o[2] = {{&b2, &r2}, {&b3, &r3}};
	struct billing_apply_stats st = {0};
	ck_assert_int_eq(store_billing_apply(db, &pol, o, 2, t + 1, &st), 0);
	ck_assert_uint_eq(st.approved, 2);
	assert_approved(&very_late, &b1, &r1, t + 1, "2020-04-15", "2020-04-30", 1, false);
	assert_approved(&very_late2, &b2, &r2, t + 1, "2020-04-15", "2020-04-30", 1, false);
	assert_approved(&late, &b3, &r3, t + 1, "2020-04-15", "2020-04-30", 1, false);
}
END_TEST

/* ---- apply: declines and the retry policy -------------------------------------------------- */

START_TEST(test_declined_then_retry_approved)
{
	const int64_t t1 = kst(2020, 1, 31, 10, 0, 5);
	struct fx f;
	char poid[64];

	make_default(&f);
	struct billing_attempt a1 = claim_one(t1, f.sub_id);
	ck_assert_int_eq(a1.attempt_no, 1);
	struct billing_answer no = declined();
	struct billing_apply_stats st = apply(&a1, &no, t1 + 1);
	ck_assert_uint_eq(st.declined, 1);
	ck_assert_uint_eq(st.exhausted, 0);

	struct att_st s = att_st(a1.id);
	ck_assert_str_eq(s.status, "DECLINED");
	ck_assert_str_eq(s.outcome, "DECLINED");
	ck_assert_int_eq(s.counted, 1);
	ck_assert_str_eq(s.ecode, "-782");
	ck_assert_str_eq(s.emsg, "잔액이 부족합니다.");
	ck_assert_str_eq(s.mrc, "CARD_DECLINED");
	/* the first decline is retried at once (delay 0) */
	struct sub_st ss = sub_st(f.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIBE_PAYMENT_FAIL");
	ck_assert_str_eq(ss.retry, "SCHEDULED");
	ck_assert_str_eq(ss.failed, "2020-01-31");
	ck_assert_str_eq(ss.next, "2020-01-31");
	ck_assert_int_eq(ss.attempts, 1);
	ck_assert_int_eq(ss.next_retry_at, t1 + 1);
	ck_assert_str_eq(ss.fcode, "-782");
	ck_assert_str_eq(ss.fmsg, "잔액이 부족합니다.");
	struct cyc_st c = cyc_st(f.sub_id, D(2020, 1, 31));
	ck_assert(c.found);
	ck_assert_str_eq(c.status, "RETRYING");
	ck_assert_int_eq(c.attempts, 1);
	ck_assert_int_eq(events("NOTIFY_PAYMENT_FAILED", f.sub_id), 1);
	ck_assert_int_eq(events("NOTIFY_RETRY_EXHAUSTED", f.sub_id), 0);

	/* the retry: attempt 2 of the same cycle, its own partner_order_id */
	struct billing_attempt a2 = claim_one(t1 + 2, f.sub_id);
	ck_assert_int_eq(a2.attempt_no, 2);
	ck_assert_int_eq(a2.by, BILLING_BY_RETRY);
	ck_assert_int_eq(a2.cycle_date, D(2020, 1, 31));
	snprintf(poid, sizeof(poid), "S%lld-C20200131-A2", (long long)f.sub_id);
	ck_assert_str_eq(a2.partner_order_id, poid);
	ck_assert_str_eq(att_st(a2.id).by, "RETRY");

	/* it succeeds two days later (a late retry): retry reset, schedule anchored on F */
	int64_t t2 = kst(2020, 2, 2, 11, 0, 0);
	struct billing_answer ok = ok_answer(&a2, t2);
	st = apply(&a2, &ok, t2);
	ck_assert_uint_eq(st.approved, 1);
	ss = sub_st(f.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIPTION");
	ck_assert_str_eq(ss.retry, "NONE");
	ck_assert_str_eq(ss.failed, "(null)");
	ck_assert_int_eq(ss.attempts, 0);
	ck_assert_int_eq(ss.next_retry_at, -1);
	ck_assert_str_eq(ss.fcode, "(null)");
	ck_assert_str_eq(ss.fmsg, "(null)");
	ck_assert_int_eq(ss.hold_until, -1);
	ck_assert_str_eq(ss.last, "2020-02-02");
	ck_assert_str_eq(ss.settled, "2020-01-31");
	ck_assert_str_eq(ss.next, "2020-03-01");
	c = cyc_st(f.sub_id, D(2020, 1, 31));
	ck_assert_str_eq(c.status, "PAID");
	ck_assert_int_eq(c.attempts, 2);
	ck_assert_int_eq(c.amount, 18000);
	ck_assert_int_eq(events("NOTIFY_PAYMENT_FAILED", f.sub_id), 1);
}
END_TEST

START_TEST(test_declined_until_exhausted)
{
	const int64_t t1 = kst(2020, 1, 31, 10, 0, 5);
	struct fx f;
	struct billing_attempt a, none[1];
	struct billing_answer no = declined();
	struct sub_st s;

	make_default(&f);
	/* 1: retried at once */
	a = claim_one(t1, f.sub_id);
	apply(&a, &no, t1);
	s = sub_st(f.sub_id);
	ck_assert_int_eq(s.attempts, 1);
	ck_assert_int_eq(s.next_retry_at, t1);
	/* 2: then 24 h after the second decline */
	int64_t t2 = t1 + 30;
	a = claim_one(t2, f.sub_id);
	ck_assert_int_eq(a.attempt_no, 2);
	apply(&a, &no, t2);
	s = sub_st(f.sub_id);
	ck_assert_str_eq(s.retry, "SCHEDULED");
	ck_assert_int_eq(s.attempts, 2);
	ck_assert_int_eq(s.next_retry_at, t2 + 24 * H);
	ck_assert_uint_eq(claim(t2 + 24 * H - 1, none, 1), 0);
	/* 3: claimed 40 s late; the next retry stays on the 24 h grid of the second decline */
	int64_t t3 = t2 + 24 * H + 40;
	a = claim_one(t3, f.sub_id);
	ck_assert_int_eq(a.attempt_no, 3);
	apply(&a, &no, t3 + 1);
	s = sub_st(f.sub_id);
	ck_assert_int_eq(s.attempts, 3);
	ck_assert_int_eq(s.next_retry_at, t2 + 48 * H);
	/* 4 */
	int64_t t4 = t2 + 48 * H + 5;
	a = claim_one(t4, f.sub_id);
	ck_assert_int_eq(a.attempt_no, 4);
	apply(&a, &no, t4 + 1);
	s = sub_st(f.sub_id);
	ck_assert_int_eq(s.attempts, 4);
	ck_assert_int_eq(s.next_retry_at, t2 + 72 * H);
	ck_assert_str_eq(cyc_st(f.sub_id, D(2020, 1, 31)).status, "RETRYING");
	ck_assert_int_eq(events("NOTIFY_RETRY_EXHAUSTED", f.sub_id), 0);
	/* 5 = maxAttempts: exhausted */
	int64_t t5 = t2 + 72 * H + 5;
	a = claim_one(t5, f.sub_id);
	ck_assert_int_eq(a.attempt_no, 5);
	struct billing_apply_stats st = apply(&a, &no, t5 + 1);
	ck_assert_uint_eq(st.declined, 1);
	ck_assert_uint_eq(st.exhausted, 1);
	s = sub_st(f.sub_id);
	ck_assert_str_eq(s.status, "SUBSCRIBE_PAYMENT_FAIL");
	ck_assert_str_eq(s.retry, "EXHAUSTED");
	ck_assert_int_eq(s.attempts, 5);
	ck_assert_int_eq(s.next_retry_at, -1);
	ck_assert_str_eq(s.next, "(null)");
	ck_assert_str_eq(s.failed, "2020-01-31");
	struct cyc_st c = cyc_st(f.sub_id, D(2020, 1, 31));
	ck_assert_str_eq(c.status, "FAILED");
	ck_assert_int_eq(c.attempts, 5);
	ck_assert_int_eq(q_i64("SELECT COUNT(*) FROM billing_attempt WHERE subscription_id = ?"
	                       " AND status = 'DECLINED' AND counted = 1",
	                       f.sub_id),
	                 5);
	/* the customer is told once at the first failure and once at exhaustion */
	ck_assert_int_eq(events("NOTIFY_PAYMENT_FAILED", f.sub_id), 1);
	ck_assert_int_eq(events("NOTIFY_RETRY_EXHAUSTED", f.sub_id), 1);
	/* nothing more is charged automatically */
	ck_assert_uint_eq(claim(kst(2020, 6, 1, 10, 0, 0), none, 1), 0);
}
END_TEST

START_TEST(test_hard_declines_exhaust_at_once)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	static const struct {
		enum pay_class cls;
		const char *code;
	} hard[] = {{PAY_SID_DEAD, "-750"}, {PAY_SID_DEAD, "-751"}, {PAY_LIMIT, "-752"}};

	for (size_t i = 0; i < sizeof(hard) / sizeof(hard[0]); i++) {
		struct fx f;
		struct billing_attempt none[1];

		make_default(&f);
		struct billing_attempt a = claim_one(now, f.sub_id);
		struct billing_answer ans = fail_answer(hard[i].cls, hard[i].code, "SID");
		struct billing_apply_stats st = apply(&a, &ans, now + 1);
		ck_assert_uint_eq(st.declined, 1);
		ck_assert_uint_eq(st.exhausted, 1);
		struct att_st s = att_st(a.id);
		ck_assert_str_eq(s.status, "DECLINED");
		ck_assert_str_eq(s.outcome, pay_class_name(hard[i].cls));
		ck_assert_int_eq(s.counted, 1);
		ck_assert_str_eq(s.ecode, hard[i].code);
		struct sub_st ss = sub_st(f.sub_id);
		ck_assert_str_eq(ss.status, "SUBSCRIBE_PAYMENT_FAIL");
		ck_assert_str_eq(ss.retry, "EXHAUSTED");
		ck_assert_int_eq(ss.attempts, 1);
		ck_assert_str_eq(ss.next, "(null)");
		ck_assert_int_eq(ss.next_retry_at, -1);
		ck_assert_str_eq(cyc_st(f.sub_id, D(2020, 1, 31)).status, "FAILED");
		ck_assert_int_eq(events("NOTIFY_PAYMENT_FAILED", f.sub_id), 1);
		ck_assert_int_eq(events("NOTIFY_RETRY_EXHAUSTED", f.sub_id), 1);
		ck_assert_uint_eq(claim(now + 86400, none, 1), 0);
	}
}
END_TEST

/* ---- apply: UNKNOWN and the failures outside the policy ----------------------------------- */

START_TEST(test_unknown_parks_the_cycle)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	struct fx f, g;
	struct billing_attempt none[1];

	/* from NONE */
	make_default(&f);
	struct billing_attempt a = claim_one(now, f.sub_id);
	struct billing_answer ans = fail_answer(PAY_UNKNOWN, "TIMEOUT", "no answer in 15 s");
	struct billing_apply_stats st = apply(&a, &ans, now + 15);
	ck_assert_uint_eq(st.unknown, 1);
	ck_assert_uint_eq(st.declined + st.failed + st.approved, 0);
	struct att_st s = att_st(a.id);
	ck_assert_str_eq(s.status, "UNKNOWN");
	ck_assert_str_eq(s.outcome, "UNKNOWN");
	ck_assert_int_eq(s.counted, 0);
	ck_assert_str_eq(s.ecode, "TIMEOUT");
	struct sub_st ss = sub_st(f.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIPTION"); /* status unchanged */
	ck_assert_str_eq(ss.retry, "UNKNOWN");
	ck_assert_str_eq(ss.before, "NONE");
	ck_assert_str_eq(ss.next, "2020-01-31");
	ck_assert_str_eq(ss.fcode, "TIMEOUT");
	ck_assert_int_eq(ss.next_retry_at, -1);
	struct cyc_st c = cyc_st(f.sub_id, D(2020, 1, 31));
	ck_assert_str_eq(c.status, "UNKNOWN");
	ck_assert_int_eq(c.attempts, 1);
	ck_assert_int_eq(events("NOTIFY_PAYMENT_FAILED", f.sub_id), 0);
	/* no automatic charge until resolved */
	ck_assert_uint_eq(claim(now + 86400, none, 1), 0);

	/* from SCHEDULED: a retry whose answer was lost */
	make_default(&g);
	a = claim_one(now + 86400, g.sub_id);
	struct billing_answer no = declined();
	apply(&a, &no, now + 86400);
	a = claim_one(now + 86400 + 1, g.sub_id);
	ans = fail_answer(PAY_UNKNOWN, "HTTP_5XX", "");
	apply(&a, &ans, now + 86400 + 2);
	ss = sub_st(g.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIBE_PAYMENT_FAIL");
	ck_assert_str_eq(ss.retry, "UNKNOWN");
	ck_assert_str_eq(ss.before, "SCHEDULED");
	ck_assert_int_eq(ss.next_retry_at, -1);
	ck_assert_int_eq(ss.attempts, 1);
	ck_assert_str_eq(ss.fmsg, "(null)");
	c = cyc_st(g.sub_id, D(2020, 1, 31));
	ck_assert_str_eq(c.status, "UNKNOWN");
	ck_assert_int_eq(c.attempts, 2);
	ck_assert_uint_eq(claim(now + 3 * 86400, none, 1), 0);
}
END_TEST

START_TEST(test_retry_later_holds_until_midnight)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	const int64_t midnight = kst(2020, 2, 1, 0, 0, 0);
	struct fx f;
	struct billing_attempt none[1];

	make_default(&f);
	struct billing_attempt a = claim_one(now, f.sub_id);
	struct billing_answer ans = fail_answer(PAY_RETRY_LATER, "-429", "daily quota exceeded");
	struct billing_apply_stats st = apply(&a, &ans, now + 1);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(st.declined, 0);
	struct att_st s = att_st(a.id);
	ck_assert_str_eq(s.status, "FAILED");
	ck_assert_str_eq(s.outcome, "RETRY_LATER");
	ck_assert_int_eq(s.counted, 0);
	ck_assert_str_eq(s.ecode, "-429");
	/* not counted, no status change; held until 00:00 KST */
	struct sub_st ss = sub_st(f.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIPTION");
	ck_assert_str_eq(ss.retry, "NONE");
	ck_assert_int_eq(ss.attempts, 0);
	ck_assert_str_eq(ss.next, "2020-01-31");
	ck_assert_int_eq(ss.hold_until, midnight);
	ck_assert_str_eq(ss.hold_reason, "RETRY_LATER");
	ck_assert_str_eq(ss.fcode, "-429");
	ck_assert_str_eq(ss.fmsg, "daily quota exceeded");
	ck_assert(!cyc_st(f.sub_id, D(2020, 1, 31)).found);
	ck_assert_int_eq(events("NOTIFY_PAYMENT_FAILED", f.sub_id), 0);

	ck_assert_uint_eq(claim(midnight - 1, none, 1), 0);
	a = claim_one(midnight, f.sub_id);
	ck_assert_int_eq(a.attempt_no, 2);
	ck_assert_int_eq(a.cycle_date, D(2020, 1, 31));
	/* a success clears the hold */
	ans = ok_answer(&a, midnight + 1);
	apply(&a, &ans, midnight + 1);
	ss = sub_st(f.sub_id);
	ck_assert_int_eq(ss.hold_until, -1);
	ck_assert_str_eq(ss.hold_reason, "(null)");
	ck_assert_str_eq(ss.fcode, "(null)");
}
END_TEST

START_TEST(test_other_not_counted_failures)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	static const struct {
		enum pay_class cls;
		const char *code;
		int64_t hold;
	} cases[] = {{PAY_NOT_SENT, "NETWORK", RETRY_HOLD_NOT_SENT_S},
	             {PAY_INVALID, "-753", RETRY_HOLD_INVALID_S},
	             {PAY_CONFIG, "-401", RETRY_HOLD_INVALID_S}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx f;

		make_default(&f);
		struct billing_attempt a = claim_one(now, f.sub_id);
		struct billing_answer ans = fail_answer(cases[i].cls, cases[i].code, "x");
		struct billing_apply_stats st = apply(&a, &ans, now + 2);
		ck_assert_uint_eq(st.failed, 1);
		struct att_st s = att_st(a.id);
		ck_assert_str_eq(s.status, "FAILED");
		ck_assert_str_eq(s.outcome, pay_class_name(cases[i].cls));
		ck_assert_int_eq(s.counted, 0);
		struct sub_st ss = sub_st(f.sub_id);
		ck_assert_str_eq(ss.status, "SUBSCRIPTION");
		ck_assert_str_eq(ss.retry, "NONE");
		ck_assert_int_eq(ss.hold_until, now + 2 + cases[i].hold);
		ck_assert_str_eq(ss.hold_reason, pay_class_name(cases[i].cls));
		/* claimed again once the hold ends, with the next attempt number */
		a = claim_one(now + 2 + cases[i].hold, f.sub_id);
		ck_assert_int_eq(a.attempt_no, 2);
		ans = ok_answer(&a, now + 3 + cases[i].hold);
		apply(&a, &ans, now + 3 + cases[i].hold);
	}
}
END_TEST

/* ---- reconciler ---------------------------------------------------------------------------- */

START_TEST(test_orphans)
{
	const int64_t t = kst(2020, 1, 31, 10, 0, 5);
	struct fx old, mine, young;
	struct billing_attempt out[4];
	size_t n = 99;

	make_default(&old);
	make_default(&mine);
	ck_assert_uint_eq(claim(t, out, 4), 2);
	struct billing_attempt a_old = out[0], a_mine = out[1];
	ck_assert_int_eq(a_old.subscription_id, old.sub_id);
	make_default(&young);
	struct billing_attempt a_young = claim_one(t + 100, young.sub_id);

	/* at t + 130: 130 s old (gone), 130 s old but still being called, 30 s old */
	int64_t in_flight[] = {a_mine.id};
	ck_assert_int_eq(store_billing_orphans(db, t + 130, 60, in_flight, 1, 10, &n), 0);
	ck_assert_uint_eq(n, 1);
	struct att_st s = att_st(a_old.id);
	ck_assert_str_eq(s.status, "UNKNOWN");
	ck_assert_str_eq(s.ecode, "ORPHANED");
	ck_assert_int_eq(s.counted, 0);
	struct sub_st ss = sub_st(old.sub_id);
	ck_assert_str_eq(ss.retry, "UNKNOWN");
	ck_assert_str_eq(ss.before, "NONE");
	ck_assert_str_eq(cyc_st(old.sub_id, D(2020, 1, 31)).status, "UNKNOWN");
	ck_assert_str_eq(att_st(a_mine.id).status, "PENDING");
	ck_assert_str_eq(att_st(a_young.id).status, "PENDING");
	ck_assert_str_eq(sub_st(young.sub_id).retry, "NONE");

	/* again: nothing more; without the in-flight list the other old one goes too */
	ck_assert_int_eq(store_billing_orphans(db, t + 131, 60, in_flight, 1, 10, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(store_billing_orphans(db, t + 131, 60, NULL, 0, 10, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(att_st(a_mine.id).status, "UNKNOWN");
	ck_assert_str_eq(att_st(a_young.id).status, "PENDING");
	/* a late answer for an orphaned attempt is not applied over it */
	struct billing_answer ok = ok_answer(&a_old, t + 140);
	ck_assert_uint_eq(apply(&a_old, &ok, t + 140).skipped, 1);
	ck_assert_str_eq(att_st(a_old.id).status, "UNKNOWN");
}
END_TEST

/* A subscription with one UNKNOWN attempt claimed at t (from retry state NONE). */
static struct billing_attempt unknown_attempt(struct fx *f, int64_t t)
{
	make_default(f);
	struct billing_attempt a = claim_one(t, f->sub_id);
	struct billing_answer ans = fail_answer(PAY_UNKNOWN, "TIMEOUT", "");
	ck_assert_uint_eq(apply(&a, &ans, t + 15).unknown, 1);
	return a;
}

static size_t probes_due(int64_t now, struct billing_probe_due *out, size_t max)
{
	size_t n = 99;

	ck_assert_int_eq(store_billing_probes_due(db, now, 60, 300, out, max, &n), 0);
	return n;
}

START_TEST(test_probe_not_charged_from_none)
{
	const int64_t t = kst(2020, 1, 31, 10, 0, 5);
	struct fx f;
	struct billing_probe_due due[4];
	bool resolved = true;

	struct billing_attempt a = unknown_attempt(&f, t);
	/* first probe at >= 60 s, second at >= 5 min */
	ck_assert_uint_eq(probes_due(t + 59, due, 4), 0);
	ck_assert_uint_eq(probes_due(t + 60, due, 4), 1);
	ck_assert_int_eq(due[0].id, a.id);
	ck_assert_int_eq(due[0].claimed_at, t);
	ck_assert_int_eq(due[0].probe_count, 0);
	ck_assert_str_eq(due[0].sid, f.sid);
	ck_assert_str_eq(due[0].cid, "TCSUBSCRIP");

	/* a failed probe proves nothing and does not count */
	ck_assert_int_eq(
	    store_billing_probe_record(db, a.id, BILLING_PROBE_ERROR, "timeout", t + 60, &resolved),
	    0);
	ck_assert(!resolved);
	struct att_st s = att_st(a.id);
	ck_assert_int_eq(s.probe_count, 0);
	ck_assert_str_eq(s.probe_result, "timeout");
	ck_assert_str_eq(s.status, "UNKNOWN");

	ck_assert_int_eq(store_billing_probe_record(db, a.id, BILLING_PROBE_NOT_CHARGED,
	                                            "last_approved_at null", t + 90, &resolved),
	                 0);
	ck_assert(!resolved);
	s = att_st(a.id);
	ck_assert_str_eq(s.status, "UNKNOWN");
	ck_assert_int_eq(s.probe_count, 1);
	ck_assert_str_eq(sub_st(f.sub_id).retry, "UNKNOWN");
	ck_assert_uint_eq(probes_due(t + 299, due, 4), 0);
	ck_assert_uint_eq(probes_due(t + 300, due, 4), 1);
	ck_assert_int_eq(due[0].probe_count, 1);

	/* the second NOT_CHARGED: FAILED (not charged), the state before comes back */
	ck_assert_int_eq(store_billing_probe_record(db, a.id, BILLING_PROBE_NOT_CHARGED,
	                                            "last_approved_at null", t + 300, &resolved),
	                 0);
	ck_assert(resolved);
	s = att_st(a.id);
	ck_assert_str_eq(s.status, "FAILED");
	ck_assert_int_eq(s.counted, 0);
	ck_assert_str_eq(s.resolved_by, "RECONCILER");
	ck_assert_int_eq(s.probe_count, 2);
	ck_assert_int_eq(s.needs_admin, 0);
	struct sub_st ss = sub_st(f.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIPTION");
	ck_assert_str_eq(ss.retry, "NONE");
	ck_assert_str_eq(ss.before, "(null)");
	ck_assert_int_eq(ss.next_retry_at, -1);
	ck_assert_str_eq(ss.next, "2020-01-31");
	ck_assert(!cyc_st(f.sub_id, D(2020, 1, 31)).found); /* the UNKNOWN cycle row is gone */
	ck_assert_uint_eq(probes_due(t + 400, due, 4), 0);
	/* recording again changes nothing */
	ck_assert_int_eq(store_billing_probe_record(db, a.id, BILLING_PROBE_NOT_CHARGED, "again",
	                                            t + 301, &resolved),
	                 0);
	ck_assert(!resolved);
	ck_assert_int_eq(att_st(a.id).probe_count, 2);

	/* the cycle is charged again at the next run, as attempt 2 */
	struct billing_attempt b = claim_one(t + 301, f.sub_id);
	ck_assert_int_eq(b.attempt_no, 2);
	ck_assert_int_eq(b.cycle_date, D(2020, 1, 31));
	ck_assert_int_eq(b.by, BILLING_BY_SCHEDULE);
}
END_TEST

START_TEST(test_probe_not_charged_from_scheduled)
{
	const int64_t t = kst(2020, 1, 31, 10, 0, 5);
	struct fx f;
	bool resolved = false;

	make_default(&f);
	struct billing_attempt a = claim_one(t, f.sub_id);
	struct billing_answer no = declined();
	apply(&a, &no, t + 1);
	a = claim_one(t + 2, f.sub_id); /* the immediate retry */
	struct billing_answer lost = fail_answer(PAY_UNKNOWN, "TIMEOUT", "");
	apply(&a, &lost, t + 17);
	ck_assert_str_eq(sub_st(f.sub_id).before, "SCHEDULED");

	int64_t tp = t + 400;
	ck_assert_int_eq(
	    store_billing_probe_record(db, a.id, BILLING_PROBE_NOT_CHARGED, "1", t + 70, &resolved),
	    0);
	ck_assert_int_eq(
	    store_billing_probe_record(db, a.id, BILLING_PROBE_NOT_CHARGED, "2", tp, &resolved), 0);
	ck_assert(resolved);
	ck_assert_str_eq(att_st(a.id).status, "FAILED");
	struct sub_st ss = sub_st(f.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIBE_PAYMENT_FAIL");
	ck_assert_str_eq(ss.retry, "SCHEDULED");
	ck_assert_str_eq(ss.before, "(null)");
	ck_assert_int_eq(ss.next_retry_at, tp); /* retried at once */
	ck_assert_int_eq(ss.attempts, 1);       /* the UNKNOWN one was not counted */
	ck_assert_str_eq(ss.failed, "2020-01-31");
	struct cyc_st c = cyc_st(f.sub_id, D(2020, 1, 31));
	ck_assert_str_eq(c.status, "RETRYING");
	ck_assert_int_eq(c.attempts, 1);
	struct billing_attempt b = claim_one(tp, f.sub_id);
	ck_assert_int_eq(b.attempt_no, 3);
	ck_assert_int_eq(b.by, BILLING_BY_RETRY);
}
END_TEST

START_TEST(test_probe_maybe_charged)
{
	const int64_t t = kst(2020, 1, 31, 10, 0, 5);
	struct fx f;
	struct billing_probe_due due[4];
	struct billing_attempt none[1];
	bool resolved = true;

	struct billing_attempt a = unknown_attempt(&f, t);
	ck_assert_int_eq(store_billing_probe_record(db, a.id, BILLING_PROBE_MAYBE_CHARGED,
	                                            "last_approved_at after the claim", t + 60,
	                                            &resolved),
	                 0);
	ck_assert(!resolved);
	struct att_st s = att_st(a.id);
	ck_assert_str_eq(s.status, "UNKNOWN");
	ck_assert_int_eq(s.needs_admin, 1);
	ck_assert_int_eq(s.probe_count, 1);
	ck_assert_str_eq(s.probe_result, "last_approved_at after the claim");
	/* an admin task: no more probes, never charged again automatically */
	ck_assert_uint_eq(probes_due(t + 3600, due, 4), 0);
	ck_assert_str_eq(sub_st(f.sub_id).retry, "UNKNOWN");
	ck_assert_str_eq(cyc_st(f.sub_id, D(2020, 1, 31)).status, "UNKNOWN");
	ck_assert_uint_eq(claim(t + 86400, none, 1), 0);
}
END_TEST

/* ---- charge-now's claim (API.md §7.7) ------------------------------------------------------ */

static int claim_now(int64_t sub, int64_t now, struct billing_attempt *out, char **paid)
{
	int rc = store_billing_claim_now(db, sub, "unit:admin", now, out, paid);

	ck_assert_msg(rc >= 0 || rc == -E_SUBSCRIPTION_NOT_FOUND ||
	                  rc == -E_SUBSCRIPTION_STATE_CONFLICT,
	              "store_billing_claim_now: %d %s", rc, db_last_error(db));
	return rc;
}

START_TEST(test_claim_now_conflicts)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	struct fx paused, cancelled, unknown, pending;
	struct billing_attempt a;
	char *paid = (char *)"x";

	ck_assert_int_eq(claim_now(-1, now, &a, &paid), -E_SUBSCRIPTION_NOT_FOUND);
	ck_assert_ptr_null(paid);

	make_default(&paused);
	set_paused(paused.sub_id, now - 86400);
	make_default(&cancelled);
	set_cancelled(cancelled.sub_id, now - 86400);
	make_default(&unknown);
	set_retry_unknown(unknown.sub_id);
	make_default(&pending);
	claim_one(now, pending.sub_id); /* the daemon's charge is in flight */

	ck_assert_int_eq(claim_now(paused.sub_id, now, &a, &paid), -E_SUBSCRIPTION_STATE_CONFLICT);
	ck_assert_int_eq(claim_now(cancelled.sub_id, now, &a, &paid),
	                 -E_SUBSCRIPTION_STATE_CONFLICT);
	ck_assert_int_eq(claim_now(unknown.sub_id, now, &a, &paid), -E_SUBSCRIPTION_STATE_CONFLICT);
	ck_assert_int_eq(claim_now(pending.sub_id, now, &a, &paid), -E_SUBSCRIPTION_STATE_CONFLICT);
	ck_assert_ptr_null(paid);
	ck_assert_int_eq(q_i64(sql_attempts_of, paused.sub_id), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, cancelled.sub_id), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, unknown.sub_id), 0);
	ck_assert_int_eq(q_i64(sql_attempts_of, pending.sub_id), 1);
}
END_TEST

START_TEST(test_claim_now_current_cycle)
{
	const int64_t now = kst(2020, 1, 10, 15, 0, 0);
	struct fx future, retrying, exhausted, shared;
	struct billing_attempt a;
	char *paid = NULL, poid[64];

	/* SUBSCRIPTION: the cycle at nextPaymentDate, even in the future */
	make_default(&future);
	ck_assert_int_eq(claim_now(future.sub_id, now, &a, &paid), 0);
	ck_assert_ptr_null(paid);
	ck_assert_int_eq(a.subscription_id, future.sub_id);
	ck_assert_int_eq(a.cycle_date, D(2020, 1, 31));
	ck_assert_int_eq(a.attempt_no, 1);
	ck_assert_int_eq(a.by, BILLING_BY_ADMIN);
	ck_assert_int_eq(a.claimed_at, now);
	ck_assert_int_eq(a.amount, 18000);
	ck_assert_str_eq(a.sid, future.sid);
	snprintf(poid, sizeof(poid), "S%lld-C20200131-A1", (long long)future.sub_id);
	ck_assert_str_eq(a.partner_order_id, poid);
	snprintf(poid, sizeof(poid), "att:%lld", (long long)a.id);
	ck_assert_str_eq(a.payload, poid);
	struct att_st s = att_st(a.id);
	ck_assert_str_eq(s.status, "PENDING");
	ck_assert_str_eq(s.by, "ADMIN");
	ck_assert_str_eq(s.claimed_by, "unit:admin");
	/* in flight now: a second charge-now conflicts */
	ck_assert_int_eq(claim_now(future.sub_id, now + 1, &a, &paid),
	                 -E_SUBSCRIPTION_STATE_CONFLICT);

	/* SUBSCRIBE_PAYMENT_FAIL: the open cycle, after the attempts made on it */
	make_default(&retrying);
	struct billing_attempt r = claim_one(kst(2020, 1, 31, 10, 0, 5), retrying.sub_id);
	struct billing_answer no = declined();
	apply(&r, &no, kst(2020, 1, 31, 10, 0, 6));
	ck_assert_str_eq(sub_st(retrying.sub_id).retry, "SCHEDULED");
	ck_assert_int_eq(claim_now(retrying.sub_id, kst(2020, 1, 31, 12, 0, 0), &a, &paid), 0);
	ck_assert_int_eq(a.cycle_date, D(2020, 1, 31));
	ck_assert_int_eq(a.attempt_no, 2);
	ck_assert_int_eq(a.by, BILLING_BY_ADMIN);

	make_default(&exhausted);
	set_exhausted(exhausted.sub_id, D(2020, 1, 31), 5);
	ck_assert_int_eq(claim_now(exhausted.sub_id, kst(2020, 2, 10, 12, 0, 0), &a, &paid), 0);
	ck_assert_int_eq(a.cycle_date, D(2020, 1, 31));
	ck_assert_int_eq(a.attempt_no, 1);

	/* another subscription on the SID of an open attempt: in flight too */
	make_sub(&(struct sub_spec){.first = D(2020, 1, 1),
	                            .next = D(2020, 1, 31),
	                            .sid = exhausted.sid},
	         &shared);
	ck_assert_int_eq(claim_now(shared.sub_id, kst(2020, 2, 10, 12, 0, 1), &a, &paid),
	                 -E_SUBSCRIPTION_STATE_CONFLICT);
	ck_assert_int_eq(q_i64(sql_attempts_of, shared.sub_id), 0);
}
END_TEST

START_TEST(test_claim_now_already_paid)
{
	const int64_t now = kst(2020, 1, 31, 10, 0, 5);
	struct fx f;
	struct billing_attempt a, b;
	char *paid = NULL;

	make_default(&f);
	a = claim_one(now, f.sub_id);
	struct billing_answer ok = ok_answer(&a, now + 1);
	apply(&a, &ok, now + 1);
	/* the current cycle is one that is paid (the schedule was put back on it by hand) */
	exec_p(
	    "UPDATE subscriptions SET next_payment_date = '2020-01-31' WHERE subscription_id = ?",
	    (struct db_param[]){DB_I64(f.sub_id)}, 1, NULL);
	ck_assert_int_eq(claim_now(f.sub_id, now + 60, &b, &paid), 1);
	ck_assert_ptr_nonnull(paid);
	char *want = billing_approval_json(&a, &ok, now + 1);
	ck_assert_str_eq(paid, want);
	free(want);
	free(paid);
	/* nothing was claimed */
	ck_assert_int_eq(q_i64(sql_attempts_of, f.sub_id), 1);
	ck_assert_int_eq(q_i64(sql_renewals_of, f.sub_id), 1);
}
END_TEST

START_TEST(test_admin_future_decline)
{
	const int64_t now = kst(2020, 1, 10, 15, 0, 0);
	struct fx f;
	struct billing_attempt a, b;
	char *paid = NULL;

	/* a decline of a future cycle only records the last failure (§7.7, last paragraph) */
	make_default(&f);
	ck_assert_int_eq(claim_now(f.sub_id, now, &a, &paid), 0);
	ck_assert_int_eq(a.cycle_date, D(2020, 1, 31));
	struct billing_answer no = declined();
	struct billing_apply_stats st = apply(&a, &no, now + 1);
	ck_assert_uint_eq(st.exhausted, 0);
	struct sub_st ss = sub_st(f.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIPTION");
	ck_assert_str_eq(ss.retry, "NONE");
	ck_assert_int_eq(ss.attempts, 0);
	ck_assert_str_eq(ss.failed, "(null)");
	ck_assert_str_eq(ss.next, "2020-01-31");
	ck_assert_str_eq(ss.fcode, "-782");
	ck_assert_str_eq(ss.fmsg, "잔액이 부족합니다.");
	ck_assert_int_eq(ss.hold_until, -1);
	ck_assert(!cyc_st(f.sub_id, D(2020, 1, 31)).found);
	ck_assert_int_eq(events("NOTIFY_PAYMENT_FAILED", f.sub_id), 0);
	struct att_st s = att_st(a.id);
	ck_assert_str_eq(s.status, "DECLINED");
	ck_assert_str_eq(s.ecode, "-782");
	/* the daemon still charges on the cycle date, as the cycle's next attempt */
	b = claim_one(kst(2020, 1, 31, 10, 0, 0), f.sub_id);
	ck_assert_int_eq(b.attempt_no, 2);
	ck_assert_int_eq(b.by, BILLING_BY_SCHEDULE);
	/* and its decline is the first one the policy counts */
	apply(&b, &no, kst(2020, 1, 31, 10, 0, 1));
	ss = sub_st(f.sub_id);
	ck_assert_str_eq(ss.retry, "SCHEDULED");
	ck_assert_int_eq(ss.attempts, 1);
	ck_assert_int_eq(cyc_st(f.sub_id, D(2020, 1, 31)).attempts, 1);
	ck_assert_int_eq(events("NOTIFY_PAYMENT_FAILED", f.sub_id), 1);
	/* core/sql/README.md: an attempt is `counted` "if it counts for the retry policy"; the
	 * future-cycle decline did not (retry.attempts stayed 0) */
	ck_assert_int_eq(att_st(b.id).counted, 1);
	ck_assert_int_eq(att_st(a.id).counted, 0);
}
END_TEST

START_TEST(test_admin_retry_later_no_hold)
{
	const int64_t now = kst(2020, 1, 31, 15, 0, 0);
	struct fx f;
	struct billing_attempt a;
	char *paid = NULL;

	/* RETRY_LATER on an admin's charge: recorded, but no hold (charge-now is not automatic) */
	make_default(&f);
	ck_assert_int_eq(claim_now(f.sub_id, now, &a, &paid), 0);
	struct billing_answer later = fail_answer(PAY_RETRY_LATER, "-429", "quota");
	struct billing_apply_stats st = apply(&a, &later, now + 1);
	ck_assert_uint_eq(st.failed, 1);
	struct sub_st ss = sub_st(f.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIPTION");
	ck_assert_str_eq(ss.retry, "NONE");
	ck_assert_int_eq(ss.hold_until, -1);
	ck_assert_str_eq(ss.hold_reason, "(null)");
	ck_assert_str_eq(ss.fcode, "-429");
	struct att_st s = att_st(a.id);
	ck_assert_str_eq(s.status, "FAILED");
	ck_assert_str_eq(s.outcome, "RETRY_LATER");
	ck_assert_int_eq(s.counted, 0);
	/* the daemon may take the due cycle at once */
	a = claim_one(now + 2, f.sub_id);
	ck_assert_int_eq(a.attempt_no, 2);
}
END_TEST

/* ---- charge-now through a scripted gateway (billing_charge_now) --------------------------- */

/* What the scripted gateway answers, and what it was asked. */
struct script {
	enum pay_class cls; /* of the charge */
	int code;
	int64_t last_approved_at; /* of the SID status probe, -1 = null */
	int charges, probes;
	char payload[PAY_PAYLOAD_MAX], poid[PAY_PARTNER_MAX];
	int64_t amount;
};

static int fake_subscription(void *ctx, const struct pay_request *req, struct pay_result *res)
{
	struct script *s = ctx;

	s->charges++;
	snprintf(s->payload, sizeof(s->payload), "%s", req->payload ? req->payload : "");
	snprintf(s->poid, sizeof(s->poid), "%s", req->partner_order_id);
	s->amount = req->total_amount;
	pay_result_init(res, PAY_OP_SUBSCRIPTION);
	res->cls = s->cls;
	res->code = s->code;
	res->http_status = s->cls == PAY_OK ? 200 : 400;
	if (s->cls == PAY_OK) {
		snprintf(res->tid, sizeof(res->tid), "T-now-%.24s-%ld", s->payload, (long)getpid());
		snprintf(res->aid, sizeof(res->aid), "A-now-%.24s-%ld", s->payload, (long)getpid());
		snprintf(res->payment_method_type, sizeof(res->payment_method_type), "CARD");
		res->amount = (struct pay_amount){.present = true, .total = req->total_amount};
		res->created_at = clock_now();
		res->approved_at = clock_now();
	} else {
		snprintf(res->message, sizeof(res->message), "결제 실패");
	}
	return 0;
}

static int fake_status(void *ctx, const struct pay_request *req, struct pay_result *res)
{
	struct script *s = ctx;

	s->probes++;
	pay_result_init(res, PAY_OP_STATUS);
	res->cls = PAY_OK;
	res->http_status = 200;
	res->available = 1;
	res->last_approved_at = s->last_approved_at;
	return 0;
}

static struct billing_now_result charge_now(struct script *sc, int64_t sub)
{
	struct pay_gateway gw = {
	    .ctx = sc, .subscription = fake_subscription, .status = fake_status};
	struct billing_now_result out;
	int rc = billing_charge_now(db, &gw, &pol, sub, "unit:admin", clock_now(), &out);

	ck_assert_msg(rc == 0, "billing_charge_now: %d %s", rc, db_last_error(db));
	return out;
}

START_TEST(test_charge_now_scripted)
{
	const int64_t now = kst(2020, 1, 31, 15, 0, 0);
	struct fx ok, moved, still, hard;
	char want[64];

	clock_set_fixed(now * 1000);
	/* OK: the approve JSON of the attempt, the renewal order */
	make_default(&ok);
	struct script s1 = {.cls = PAY_OK, .last_approved_at = -1};
	struct billing_now_result r = charge_now(&s1, ok.sub_id);
	ck_assert_int_eq(r.cls, PAY_OK);
	ck_assert_int_eq(s1.charges, 1);
	ck_assert_int_eq(s1.probes, 0);
	ck_assert_int_eq(s1.amount, 18000);
	snprintf(want, sizeof(want), "S%lld-C20200131-A1", (long long)ok.sub_id);
	ck_assert_str_eq(s1.poid, want);
	ck_assert_ptr_nonnull(r.approval_json);
	ck_assert_ptr_nonnull(strstr(r.approval_json, s1.payload));
	ck_assert_int_eq(q_i64(sql_renewals_of, ok.sub_id), 1);
	ck_assert_str_eq(sub_st(ok.sub_id).next, "2020-03-01");
	free(r.approval_json);

	/* -782 and the SID's last approval at the claim: maybe this charge, so UNKNOWN */
	make_default(&moved);
	struct script s2 = {.cls = PAY_DECLINED, .code = -782, .last_approved_at = now - 2};
	r = charge_now(&s2, moved.sub_id);
	ck_assert_int_eq(r.cls, PAY_UNKNOWN);
	ck_assert_ptr_null(r.approval_json);
	ck_assert_int_eq(s2.probes, 1);
	struct sub_st ss = sub_st(moved.sub_id);
	ck_assert_str_eq(ss.retry, "UNKNOWN");
	ck_assert_str_eq(ss.fcode, "-782");
	ck_assert_str_eq(cyc_st(moved.sub_id, D(2020, 1, 31)).status, "UNKNOWN");

	/* -782 and no approval since long before: a decline the policy counts */
	make_default(&still);
	struct script s3 = {.cls = PAY_DECLINED, .code = -782, .last_approved_at = now - 86400};
	r = charge_now(&s3, still.sub_id);
	ck_assert_int_eq(r.cls, PAY_DECLINED);
	ck_assert_int_eq(s3.probes, 1);
	ss = sub_st(still.sub_id);
	ck_assert_str_eq(ss.status, "SUBSCRIBE_PAYMENT_FAIL");
	ck_assert_str_eq(ss.retry, "SCHEDULED");
	ck_assert_int_eq(ss.attempts, 1);

	/* other declines need no probe */
	make_default(&hard);
	struct script s4 = {.cls = PAY_SID_DEAD, .code = -751, .last_approved_at = now};
	r = charge_now(&s4, hard.sub_id);
	ck_assert_int_eq(r.cls, PAY_SID_DEAD);
	ck_assert_int_eq(s4.probes, 0);
	ck_assert_str_eq(sub_st(hard.sub_id).retry, "EXHAUSTED");
	clock_set_fixed(0);
}
END_TEST

Suite *store_billing_suite(void)
{
	Suite *s = suite_create("store_billing");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_claim_due_cycles_only);
	tcase_add_test(tc, test_claim_skips_held_and_open_sid);
	tcase_add_test(tc, test_claim_batch_limit);
	tcase_add_test(tc, test_apply_approved);
	tcase_add_test(tc, test_apply_mixed_batch);
	tcase_add_test(tc, test_apply_batch_repeats_an_outcome);
	tcase_add_test(tc, test_approved_after_cancel);
	tcase_add_test(tc, test_schedule_anchored_on_first_date);
	tcase_add_test(tc, test_declined_then_retry_approved);
	tcase_add_test(tc, test_declined_until_exhausted);
	tcase_add_test(tc, test_hard_declines_exhaust_at_once);
	tcase_add_test(tc, test_unknown_parks_the_cycle);
	tcase_add_test(tc, test_retry_later_holds_until_midnight);
	tcase_add_test(tc, test_other_not_counted_failures);
	tcase_add_test(tc, test_orphans);
	tcase_add_test(tc, test_probe_not_charged_from_none);
	tcase_add_test(tc, test_probe_not_charged_from_scheduled);
	tcase_add_test(tc, test_probe_maybe_charged);
	tcase_add_test(tc, test_claim_now_conflicts);
	tcase_add_test(tc, test_claim_now_current_cycle);
	tcase_add_test(tc, test_claim_now_already_paid);
	tcase_add_test(tc, test_admin_future_decline);
	tcase_add_test(tc, test_admin_retry_later_no_hold);
	tcase_add_test(tc, test_charge_now_scripted);
	suite_add_tcase(s, tc);
	return s;
}
