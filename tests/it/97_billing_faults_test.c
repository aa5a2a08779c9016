/*
 * 97_billing_faults: the fault runs of DESIGN.md §8 and KAKAOPAY.md §5 row 24 against the real
 * pillivery-billing over subscriptions seeded due today (tests/lib/billing_seed.sh, one SID
 * each, all charged with one partner_user_id so the fault rules touch nothing else):
 *
 *   kill -9 of the running daemon at random moments over 2,000 due subscriptions, restarted
 *   each time; two daemons leading at once over the same due set (different lock keys: only
 *   the database's unique keys stand between them); a standby on the same lock that charges
 *   nothing (and a --once that exits 3) until the leader is killed, then takes over; Redis
 *   stopped mid-run (the daemon stops charging, then takes the lock back); MariaDB restarted
 *   mid-run (outcomes kept and written once it is back); SIGTERM (in-flight charges drained,
 *   or recorded UNKNOWN at the drain deadline); the gateway faults of KAKAOPAY.md §4.4 at
 *   rates (500s applied or not, dropped and partial answers, garbage, hangs, -782 applied or
 *   not).
 *
 * Each run ends with settling runs (no faults; orphaned PENDING attempts become UNKNOWN after
 * PV_BILLING_ORPHAN_AFTER_S = 20 s, the SID probes run without delay) and then the fake's
 * ledger against the database: no cycle charged twice, none lost; every attempt APPROVED,
 * DECLINED, FAILED, or UNKNOWN held for an admin; none PENDING; the item's sales one unit per
 * paid cycle.
 *
 * The SID probe compares the fake's last_approved_at (real time) with claimed_at (the daemon's
 * clock): the faulty runs use no clock offset; only the settling runs move the clock forward,
 * which changes "now" (orphan age, probe times, retry times) but not the claimed_at of the
 * attempts being probed. The settling runs start only once the fake has answered every call
 * (its latency is far below the real probe delays of 60 s and 5 min). The random kill points
 * come from PV_IT_BILLING_SEED (default: the time), printed for a rerun. Each scenario is its
 * own tcase: CK_RUN_CASE=kill9|two_leaders|standby|redis|mariadb|sigterm|gateway runs one.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/it/lib/billing.h"
#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "common/banned.h"

#define DAY 86400

struct run {
	struct it_bill_seed seed;
	int64_t *ids;
	int64_t seq0;
	struct it_bill_env env; /* the faulty runs' settings */
	int64_t rules[16];
	size_t nrules;
	double t0;
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state;

static void rng_init(void)
{
	const char *s = it_getenv("PV_IT_BILLING_SEED");

	rng_state = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
	if (!rng_state)
		rng_state = 1;
	printf("97_billing_faults: PV_IT_BILLING_SEED=%llu\n", (unsigned long long)rng_state);
}

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int rng_between(int lo, int hi)
{
	return lo + (int)(rng() % (uint64_t)(hi - lo + 1));
}

/* n subscriptions due today; charge time 00:00 so they are due now. */
static void run_init(struct run *r, int n)
{
	memset(r, 0, sizeof(*r));
	r->t0 = mono_s();
	it_bill_seed(n, 30, NULL, &r->seed);
	r->ids = it_bill_seed_ids(&r->seed);
	r->seq0 = it_bill_ledger_seq();
	it_bill_env_init(&r->env);
	it_bill_env_set(&r->env, "PV_BILLING_CHARGE_TIME", "00:00");
	it_bill_env_set(&r->env, "PV_BILLING_ORPHAN_AFTER_S", "20");
	it_bill_env_set(&r->env, "PV_KAKAOPAY_TIMEOUT_MS", "5000");
	it_bill_env_set(&r->env, "PV_BILLING_UNKNOWN_FIRST_PROBE_S", "0");
	it_bill_env_set(&r->env, "PV_BILLING_UNKNOWN_SECOND_PROBE_S", "0");
	printf("97_billing_faults: seeded %zu subscriptions %" PRId64 "..%" PRId64 " in %.1f s\n",
	       r->seed.n, r->seed.first_id, r->seed.last_id, mono_s() - r->t0);
}

/* A rule on the seed's charges only (its partner_user_id), action JSON fields in extra. */
static int64_t seed_rule(struct run *r, const char *extra)
{
	int64_t id = it_bill_fault("{\"match\":{\"partner_user_id\":\"%s\",\"endpoint\":"
	                           "\"subscription\"},%s}",
	                           r->seed.puid, extra);
	ck_assert_uint_lt(r->nrules, 16);
	r->rules[r->nrules++] = id;
	return id;
}

static void rules_clear(struct run *r)
{
	for (size_t i = 0; i < r->nrules; i++)
		it_bill_fault_del(r->rules[i]);
	r->nrules = 0;
}

static void run_done(struct run *r)
{
	rules_clear(r);
	it_bill_retire(r->seed.first_id, r->seed.last_id);
	free(r->ids);
	printf("97_billing_faults: done in %.1f s\n", mono_s() - r->t0);
}

/* Seeded subscriptions whose cycle is still to be claimed: due, no open attempt. */
static const char sql_claimable[] =
    "SELECT COUNT(*) FROM subscriptions s WHERE s.subscription_id BETWEEN ? AND ?"
    " AND s.status = 'SUBSCRIPTION' AND s.retry_state = 'NONE'"
    " AND s.next_payment_date = s.first_payment_date + INTERVAL s.period DAY"
    " AND NOT EXISTS (SELECT 1 FROM billing_attempt b WHERE b.open_sid = s.sid)";

/* The daemon's billing_in_flight gauge (GET /metrics), -1 when it does not answer. */
static int64_t in_flight(const struct it_bill_daemon *d)
{
	struct it_resp r = IT_RESP_INIT;
	const char *p;
	int64_t v = -1;

	if (it_http_to(d->port, 2000, "GET", "/metrics", NULL, NULL, 0, &r) == 0 &&
	    r.status == 200 && r.body && (p = strstr(r.body, "\nbilling_in_flight ")))
		v = (int64_t)strtod(p + 20, NULL);
	it_resp_free(&r);
	return v;
}

/* Waits until nothing of the seed is left to claim and the daemons have nothing in flight
 * (twice in a row, 200 ms apart). */
static void wait_drained_at(struct it_loc at, struct run *r, struct it_bill_daemon *const *d,
                            size_t nd, int timeout_ms)
{
	double deadline = mono_s() + timeout_ms / 1000.0;
	struct db_param p[] = {DB_I64(r->seed.first_id), DB_I64(r->seed.last_id)};
	int64_t left = -1, busy = -1;
	int quiet = 0;

	while (mono_s() < deadline) {
		struct db_rows *rows = NULL;
		if (db_query(it_db(), sql_claimable, p, 2, &rows) == 0 && db_rows_count(rows) == 1)
			left = db_rows_i64(rows, 0, 0);
		else
			left = -1;
		db_rows_free(rows);
		busy = 0;
		for (size_t i = 0; i < nd; i++) {
			int64_t v = in_flight(d[i]);
			busy += v < 0 ? 1 : v;
		}
		quiet = left == 0 && busy == 0 ? quiet + 1 : 0;
		if (quiet >= 2)
			return;
		it_bill_sleep_ms(200);
	}
	it_bill_log_tail(30);
	it_fail_at(at, NULL,
	           "the daemons did not drain the due set in %d s (%" PRId64 " left, %" PRId64
	           " in flight)",
	           timeout_ms / 1000, left, busy);
}
#define wait_drained(r, d, nd, ms) wait_drained_at(IT_HERE, r, d, nd, ms)

static int64_t count_range(const char *sql, const struct run *r)
{
	struct db_param p[] = {DB_I64(r->seed.first_id), DB_I64(r->seed.last_id)};
	return it_sql_i64(sql, p, 2);
}

static int64_t claimed_by(const struct run *r, const char *instance)
{
	struct db_param p[] = {DB_I64(r->seed.first_id), DB_I64(r->seed.last_id), DB_STR(instance)};
	return it_sql_i64(
	    "SELECT COUNT(*) FROM billing_attempt WHERE subscription_id BETWEEN ? AND ?"
	    " AND claimed_by = ?",
	    p, 3);
}

static int64_t pending_of(const struct run *r, const char *instance)
{
	struct db_param p[] = {DB_I64(r->seed.first_id), DB_I64(r->seed.last_id), DB_STR(instance)};
	return it_sql_i64(
	    "SELECT COUNT(*) FROM billing_attempt WHERE subscription_id BETWEEN ? AND ?"
	    " AND claimed_by = ? AND status = 'PENDING'",
	    p, 3);
}

/* Waits until instance has claimed at least n attempts of the seed. */
static void wait_claimed_at(struct it_loc at, const struct run *r, const char *instance, int64_t n,
                            int timeout_ms)
{
	double deadline = mono_s() + timeout_ms / 1000.0;

	while (claimed_by(r, instance) < n) {
		if (mono_s() > deadline) {
			it_bill_log_tail(30);
			it_fail_at(at, NULL, "%s claimed fewer than %" PRId64 " attempts in %d s",
			           instance, n, timeout_ms / 1000);
		}
		it_bill_sleep_ms(20);
	}
}
#define wait_claimed(r, inst, n, ms) wait_claimed_at(IT_HERE, r, inst, n, ms)

/* A live daemon of the run (PV_BILLING_INSTANCE=it-live-<name>). */
static void start_live_at(struct it_loc at, struct run *r, int index, const char *name,
                          const char *lock, struct it_bill_daemon *d)
{
	struct it_bill_env e = r->env;

	it_bill_env_set(&e, "PV_BILLING_INSTANCE", "it-live-%s", name);
	if (lock)
		it_bill_env_set(&e, "PV_BILLING_LOCK_KEY", "%s", lock);
	it_bill_start_at(at, index, &e, d);
}
#define start_live(r, index, name, lock, d) start_live_at(IT_HERE, r, index, name, lock, d)

/* What still needs a run: cycles to claim, scheduled retries due (neither held), attempts
 * PENDING or UNKNOWN without an admin task; "now" is the daemon's (two ? = its offset). */
#define SUB_DUE_AT                                                                                 \
	"(s.charge_hold_until IS NULL"                                                             \
	" OR s.charge_hold_until <= UTC_TIMESTAMP() + INTERVAL ? SECOND)"                          \
	" AND ((s.status = 'SUBSCRIPTION' AND s.retry_state = 'NONE'"                              \
	" AND s.next_payment_date = s.first_payment_date + INTERVAL s.period DAY)"                 \
	" OR (s.retry_state = 'SCHEDULED'"                                                         \
	" AND s.next_retry_at <= UTC_TIMESTAMP() + INTERVAL ? SECOND))"
#define ATT_OPEN "(b.status = 'PENDING' OR (b.status = 'UNKNOWN' AND b.needs_admin = 0))"

static const char sql_unsettled[] =
    "SELECT (SELECT COUNT(*) FROM subscriptions s WHERE s.subscription_id BETWEEN ? AND ?"
    " AND " SUB_DUE_AT ") + (SELECT COUNT(*) FROM billing_attempt b"
    " WHERE b.subscription_id BETWEEN ? AND ? AND " ATT_OPEN ")";

static int64_t unsettled(const struct run *r, int64_t offset)
{
	struct db_param p[] = {DB_I64(r->seed.first_id), DB_I64(r->seed.last_id),
	                       DB_I64(offset),           DB_I64(offset),
	                       DB_I64(r->seed.first_id), DB_I64(r->seed.last_id)};
	return it_sql_i64(sql_unsettled, p, 6);
}

/* Prints what sql_unsettled counts (diagnostics). */
static void dump_unsettled(const struct run *r, int64_t offset)
{
	static const char sql[] =
	    "SELECT s.subscription_id, s.status, s.retry_state,"
	    " COALESCE(CAST(s.next_payment_date AS CHAR), '-'),"
	    " COALESCE(CAST(s.next_retry_at AS CHAR), '-'),"
	    " COALESCE(CAST(s.charge_hold_until AS CHAR), '-'),"
	    " (SELECT GROUP_CONCAT(CONCAT(b.attempt_no, ':', b.status, '/',"
	    " COALESCE(b.outcome, '-'), '/', COALESCE(b.error_code, '-'), '/p', b.probe_count,"
	    " '/a', b.needs_admin, '/', COALESCE(b.resolved_by, '-'), '@', b.claimed_at)"
	    " ORDER BY b.attempt_no SEPARATOR ' ')"
	    " FROM billing_attempt b WHERE b.subscription_id = s.subscription_id)"
	    " FROM subscriptions s WHERE s.subscription_id BETWEEN ? AND ? AND (" SUB_DUE_AT
	    " OR EXISTS (SELECT 1 FROM billing_attempt b"
	    " WHERE b.subscription_id = s.subscription_id AND " ATT_OPEN ")) LIMIT 20";
	struct db_param p[] = {DB_I64(r->seed.first_id), DB_I64(r->seed.last_id), DB_I64(offset),
	                       DB_I64(offset)};
	struct db_rows *rows = NULL;

	if (db_query(it_db(), sql, p, 4, &rows) != 0)
		return;
	for (size_t i = 0; i < db_rows_count(rows); i++)
		fprintf(stderr,
		        "97_billing_faults: unsettled at +%" PRId64 " s: subscription %s %s/%s"
		        " next %s retry %s hold %s attempts %s\n",
		        offset, db_rows_str(rows, i, 0), db_rows_str(rows, i, 1),
		        db_rows_str(rows, i, 2), db_rows_str(rows, i, 3), db_rows_str(rows, i, 4),
		        db_rows_str(rows, i, 5),
		        db_rows_str(rows, i, 6) ? db_rows_str(rows, i, 6) : "-");
	db_rows_free(rows);
}

/*
 * The settling runs, without faults, 35 s apart on the daemon's clock from +25 s: orphaned
 * PENDING attempts become UNKNOWN (20 s), each UNKNOWN one is probed twice (at least 30 s
 * apart; the reconciler probes at most 200 per round) and is held for an admin or settled
 * FAILED, and the cycles freed that way are charged, until nothing is left; with retries, the
 * same from +1 day +5 min (the retries scheduled 24 h after a decline).
 */
static void settle_at(struct it_loc at, struct run *r, bool retries)
{
	int64_t offset = 25, left = -1;
	int runs = 0;

	rules_clear(r);
	for (int phase = 0; phase < (retries ? 2 : 1); phase++) {
		if (phase == 1)
			offset = DAY + 300;
		for (int i = 0; i < 12; i++, offset += 35) {
			struct it_bill_env e = r->env;
			it_bill_env_set(&e, "PV_CLOCK_OFFSET_S", "%" PRId64, offset);
			it_bill_env_set(&e, "PV_BILLING_INSTANCE", "it-settle-%d", runs++);
			free(it_bill_once_ok_at(at, &e));
			left = unsettled(r, offset);
			if (left == 0)
				break;
		}
		if (left != 0)
			dump_unsettled(r, offset);
		it_check_at(at, NULL, left == 0, "%" PRId64 " cycles or attempts still unsettled",
		            left);
	}
	printf("97_billing_faults: settled in %d runs\n", runs);
}
#define settle(r, retries) settle_at(IT_HERE, r, retries)

/*
 * Ledger == database over the seed, settled; every seeded cycle PAID, held UNKNOWN for an
 * admin or (retries) RETRYING/FAILED by the policy; the report's figures printed.
 */
static void final_check_at(struct it_loc at, struct run *r, const char *name,
                           struct it_bill_report *rep)
{
	static const char sql_cycles[] =
	    "SELECT COUNT(*) FROM subscription_cycles c JOIN subscriptions s"
	    " ON s.subscription_id = c.subscription_id WHERE c.subscription_id BETWEEN ? AND ?"
	    " AND c.cycle_date = s.first_payment_date + INTERVAL s.period DAY AND c.status = ?";
	int64_t paid, unknown, retrying, failed;

	it_bill_ledger_check_at(at, r->ids, r->seed.n, r->seq0, true, rep);
	struct db_param p[] = {DB_I64(r->seed.first_id), DB_I64(r->seed.last_id), DB_STR("PAID")};
	paid = it_sql_i64_at(at, sql_cycles, p, 3);
	p[2] = DB_STR("UNKNOWN");
	unknown = it_sql_i64_at(at, sql_cycles, p, 3);
	p[2] = DB_STR("RETRYING");
	retrying = it_sql_i64_at(at, sql_cycles, p, 3);
	p[2] = DB_STR("FAILED");
	failed = it_sql_i64_at(at, sql_cycles, p, 3);
	printf("97_billing_faults: %s: %zu subscriptions: %" PRId64 " paid, %" PRId64
	       " held UNKNOWN, %" PRId64 " retrying, %" PRId64 " failed; %zu ledger entries "
	       "(%zu without a normal answer); attempts %zu: %zu approved, %zu declined, %zu "
	       "failed, %zu unknown (admin), %zu pending\n",
	       name, r->seed.n, paid, unknown, retrying, failed, rep->entries, rep->entries_not_ok,
	       rep->attempts, rep->approved, rep->declined, rep->failed, rep->unknown_admin,
	       rep->pending);
	/* nothing lost: each due cycle ends paid, or held for an admin */
	it_check_at(at, NULL, paid + unknown + retrying + failed == (int64_t)r->seed.n,
	            "%s: %" PRId64 " of %zu due cycles were never settled", name,
	            (int64_t)r->seed.n - paid - unknown - retrying - failed, r->seed.n);
	it_check_at(at, NULL, (size_t)paid == rep->approved,
	            "%s: %" PRId64 " PAID cycles but %zu APPROVED attempts", name, paid,
	            rep->approved);
	it_check_at(at, NULL, (size_t)unknown == rep->unknown_admin,
	            "%s: %" PRId64 " UNKNOWN cycles but %zu UNKNOWN attempts held for an admin",
	            name, unknown, rep->unknown_admin);
	/* every charge at the gateway is one approved attempt or one held for an admin */
	it_check_at(at, NULL, rep->entries == rep->approved + rep->unknown_charged,
	            "%s: %zu ledger entries, %zu approved + %zu UNKNOWN charged", name,
	            rep->entries, rep->approved, rep->unknown_charged);
	it_check_at(at, NULL, rep->pending == 0 && rep->unknown_open == 0,
	            "%s: %zu PENDING and %zu UNKNOWN attempts without an admin task", name,
	            rep->pending, rep->unknown_open);
	/* the item's sales: one unit per paid cycle (the seed's quantity), folded, none twice */
	struct db_param ip[] = {DB_I64(r->seed.item_id)};
	int64_t sales = it_sql_i64_at(at, "SELECT sales FROM items WHERE item_id = ?", ip, 1);
	int64_t unfolded = it_sql_i64_at(
	    at, "SELECT COALESCE(SUM(quantity), 0) FROM item_sales_delta WHERE item_id = ?", ip, 1);
	it_check_at(at, NULL, sales == (int64_t)rep->approved && unfolded == 0,
	            "%s: items.sales %" PRId64 " (+%" PRId64 " not folded), expected %zu", name,
	            sales, unfolded, rep->approved);
}
#define final_check(r, name, rep) final_check_at(IT_HERE, r, name, rep)

/* ---- kill -9 --------------------------------------------------------------------------------- */

START_TEST(kill_9_at_random_moments_over_2000_subscriptions)
{
	struct run r;
	struct it_bill_daemon d;
	struct it_bill_report rep;
	int kills;
	int64_t orphans, admin_or_paid;

	rng_init();
	run_init(&r, 2000);
	/* slow enough that each daemon dies with charges in flight and outcomes unwritten */
	seed_rule(&r, "\"action\":\"latency\",\"latency_ms\":300");
	it_bill_env_set(&r.env, "PV_BILLING_CONCURRENCY", "128");
	it_bill_env_set(&r.env, "PV_BILLING_APPLY_BATCH", "32");
	kills = rng_between(3, 5);
	for (int k = 0; k < kills; k++) {
		char name[32];
		int ms = rng_between(0, 1200);

		snprintf(name, sizeof(name), "kill%d", k);
		start_live(&r, 0, name, NULL, &d);
		/* once it leads (the lease of the killed one runs out first) and charges */
		snprintf(name, sizeof(name), "it-live-kill%d", k);
		wait_claimed(&r, name, 1, 15000);
		it_bill_sleep_ms(ms);
		/* The calls of a batch start and end together (one latency), so a random moment
		 * may fall between an outcome batch and the next claim; the last kill waits for
		 * charges in flight, so that at least one kill certainly leaves some behind. */
		for (int i = 0; k == kills - 1 && i < 400 && pending_of(&r, name) == 0; i++)
			it_bill_sleep_ms(5);
		it_bill_kill9(&d);
		printf("97_billing_faults: kill -9 #%d, %d ms after its first claim: %" PRId64
		       " claimed by it\n",
		       k + 1, ms, claimed_by(&r, name));
	}
	start_live(&r, 0, "final", NULL, &d);
	{
		struct it_bill_daemon *all[] = {&d};
		wait_drained(&r, all, 1, 60000);
	}
	it_bill_stop_ok(&d, 15000);
	orphans = count_range("SELECT COUNT(*) FROM billing_attempt WHERE subscription_id BETWEEN ?"
	                      " AND ? AND status = 'PENDING'",
	                      &r);
	printf("97_billing_faults: %" PRId64 " attempts left PENDING by the kills\n", orphans);
	ck_assert_msg(orphans > 0, "no kill landed while charges were in flight");

	settle(&r, false);
	final_check(&r, "kill -9", &rep);
	admin_or_paid = (int64_t)(rep.approved + rep.unknown_admin);
	ck_assert_int_eq(admin_or_paid, 2000);
	ck_assert_uint_eq(rep.declined, 0);
	run_done(&r);
}
END_TEST

/* ---- two leaders ----------------------------------------------------------------------------- */

START_TEST(two_daemons_leading_at_once_charge_each_cycle_once)
{
	struct run r;
	struct it_bill_daemon a, b;
	struct it_bill_report rep;
	int64_t na, nb;

	run_init(&r, 600);
	seed_rule(&r, "\"action\":\"latency\",\"latency_ms\":200");
	it_bill_env_set(&r.env, "PV_BILLING_CONCURRENCY", "32");
	/* different lock keys: both lead; only the database's keys stand between them */
	start_live(&r, 0, "twin-a", "billing:it:twin-a", &a);
	start_live(&r, 1, "twin-b", "billing:it:twin-b", &b);
	{
		struct it_bill_daemon *all[] = {&a, &b};
		wait_drained(&r, all, 2, 60000);
	}
	it_bill_stop_ok(&a, 15000);
	it_bill_stop_ok(&b, 15000);
	na = claimed_by(&r, "it-live-twin-a");
	nb = claimed_by(&r, "it-live-twin-b");
	printf("97_billing_faults: two leaders: %" PRId64 " and %" PRId64 " attempts\n", na, nb);
	ck_assert_msg(na > 0 && nb > 0, "both daemons must have charged (%" PRId64 ", %" PRId64 ")",
	              na, nb);

	settle(&r, false);
	final_check(&r, "two leaders", &rep);
	ck_assert_uint_eq(rep.approved, 600);
	ck_assert_uint_eq(rep.entries, 600);
	run_done(&r);
}
END_TEST

/* ---- Redis and MariaDB ----------------------------------------------------------------------- */

static const char sql_attempts[] =
    "SELECT COUNT(*) FROM billing_attempt WHERE subscription_id BETWEEN ? AND ?";
static const char sql_pending[] = "SELECT COUNT(*) FROM billing_attempt WHERE subscription_id"
                                  " BETWEEN ? AND ? AND status = 'PENDING'";

/* GET /ready of the daemon answers status and body (within 3 s: it is updated every poll). */
static void assert_ready_at(struct it_loc at, const struct it_bill_daemon *d, long status,
                            const char *body)
{
	struct it_resp r = IT_RESP_INIT;
	double deadline = mono_s() + 3;

	for (;;) {
		int rc = it_http_to(d->port, 2000, "GET", "/ready", NULL, NULL, 0, &r);
		if (rc == 0 && r.status == status && r.body && !strcmp(r.body, body))
			break;
		if (mono_s() > deadline)
			it_fail_at(at, &r, "GET /ready of the daemon: expected %ld %s", status,
			           body);
		it_bill_sleep_ms(100);
	}
	it_resp_free(&r);
}

START_TEST(redis_stopped_mid_run_stops_the_charges_until_it_is_back)
{
	struct run r;
	struct it_bill_daemon d;
	struct it_bill_report rep;
	int64_t n1, n2, pending;

	run_init(&r, 600);
	seed_rule(&r, "\"action\":\"latency\",\"latency_ms\":200");
	it_bill_env_set(&r.env, "PV_BILLING_CONCURRENCY", "32");
	start_live(&r, 0, "redis", NULL, &d);
	wait_claimed(&r, "it-live-redis", 100, 20000);
	ck_assert_int_eq(it_services("stop-redis"), 0);
	/* the lease (2 s) runs out: the daemon stands by and records what was in flight */
	it_bill_sleep_ms(3500);
	n1 = count_range(sql_attempts, &r);
	pending = count_range(sql_pending, &r);
	it_bill_sleep_ms(1500);
	n2 = count_range(sql_attempts, &r);
	printf("97_billing_faults: Redis down: %" PRId64 " attempts, %" PRId64
	       " pending, then %" PRId64 "\n",
	       n1, pending, n2);
	ck_assert_msg(n1 < 600, "the run finished before Redis stopped; nothing was tested");
	ck_assert_int_eq(n2, n1);
	ck_assert_int_eq(pending, 0);
	ck_assert(it_bill_alive(&d));
	assert_ready_at(IT_HERE, &d, 503,
	                "{\"status\":\"DOWN\",\"checks\":{\"db\":\"UP\",\"redis\":\"DOWN\"}}");

	ck_assert_int_eq(it_services("start-redis"), 0);
	{
		struct it_bill_daemon *all[] = {&d};
		wait_drained(&r, all, 1, 60000);
	}
	assert_ready_at(IT_HERE, &d, 200,
	                "{\"status\":\"UP\",\"checks\":{\"db\":\"UP\",\"redis\":\"UP\"}}");
	it_bill_stop_ok(&d, 15000);
	settle(&r, false);
	final_check(&r, "Redis stopped", &rep);
	ck_assert_uint_eq(rep.approved, 600);
	run_done(&r);
}
END_TEST

START_TEST(mariadb_restarted_mid_run_loses_nothing)
{
	struct run r;
	struct it_bill_daemon d;
	struct it_bill_report rep;

	run_init(&r, 600);
	seed_rule(&r, "\"action\":\"latency\",\"latency_ms\":200");
	it_bill_env_set(&r.env, "PV_BILLING_CONCURRENCY", "32");
	start_live(&r, 0, "mariadb", NULL, &d);
	wait_claimed(&r, "it-live-mariadb", 100, 20000);
	ck_assert_int_eq(it_services("stop-db"), 0);
	it_bill_sleep_ms(1000);
	ck_assert(it_bill_alive(&d));
	ck_assert_int_eq(it_services("start-db"), 0);
	{
		struct it_bill_daemon *all[] = {&d};
		wait_drained(&r, all, 1, 60000);
	}
	it_bill_stop_ok(&d, 15000);
	settle(&r, false);
	final_check(&r, "MariaDB restarted", &rep);
	ck_assert_uint_eq(rep.approved + rep.unknown_admin, 600);
	run_done(&r);
}
END_TEST

/* ---- the gateway ----------------------------------------------------------------------------- */

/* The gateway faults of KAKAOPAY.md §4.4 and the answers of §1.11.4, each on a share of the
 * charges, by what must become of the attempt. */
enum gw_kind {
	GW_APPLIED,     /* charged, answer unusable: UNKNOWN, held for an admin */
	GW_NOT_APPLIED, /* not charged, answer unusable: UNKNOWN, FAILED by two probes */
	GW_DECLINED,    /* a decline: counted by the retry policy */
	GW_LATER,       /* -429: FAILED, not counted, tried again after 00:00 KST */
};

static const struct {
	const char *rule;
	enum gw_kind kind;
} gateway_faults[] = {
    {"\"action\":\"http500\",\"rate\":0.05", GW_NOT_APPLIED},
    {"\"action\":\"http500_applied\",\"rate\":0.05", GW_APPLIED},
    {"\"action\":\"drop\",\"rate\":0.04", GW_NOT_APPLIED},
    {"\"action\":\"drop_applied\",\"rate\":0.04", GW_APPLIED},
    {"\"action\":\"drop_partial_applied\",\"rate\":0.04", GW_APPLIED},
    {"\"action\":\"garbage_applied\",\"rate\":0.04", GW_APPLIED},
    {"\"action\":\"hang_applied\",\"rate\":0.04", GW_APPLIED},
    {"\"action\":\"decline_applied\",\"code\":-782,\"method_result_code\":\"CARD_DECLINED\","
     "\"rate\":0.04",
     GW_APPLIED},
    {"\"action\":\"decline\",\"code\":-782,\"method_result_code\":\"USER_LOCKED\",\"rate\":0.04",
     GW_NOT_APPLIED},
    {"\"action\":\"decline\",\"code\":-785,\"rate\":0.04", GW_NOT_APPLIED},
    {"\"action\":\"decline\",\"code\":-503,\"http_status\":503,\"rate\":0.04", GW_NOT_APPLIED},
    {"\"action\":\"decline\",\"code\":-705,\"rate\":0.04", GW_DECLINED},
    {"\"action\":\"decline\",\"code\":-429,\"http_status\":429,\"rate\":0.04", GW_LATER},
    {"\"action\":\"decline\",\"code\":-782,\"method_result_code\":\"CARD_DECLINED\","
     "\"rate\":0.15",
     GW_DECLINED},
};
#define NGATEWAY (sizeof(gateway_faults) / sizeof(gateway_faults[0]))

START_TEST(gateway_faults_and_declines_at_a_rate)
{
	struct run r;
	struct it_bill_report rep;
	int64_t ids[NGATEWAY], fired[4] = {0}, failed_probed;

	run_init(&r, 500);
	it_bill_env_set(&r.env, "PV_KAKAOPAY_TIMEOUT_MS", "1000"); /* for hang_applied */
	for (size_t i = 0; i < NGATEWAY; i++)
		ids[i] = seed_rule(&r, gateway_faults[i].rule);
	free(it_bill_once_ok_at(IT_HERE, &r.env));
	for (size_t i = 0; i < NGATEWAY; i++) {
		int64_t n = it_bill_fault_fired(ids[i]);

		printf("97_billing_faults: %s fired %" PRId64 " times\n", gateway_faults[i].rule,
		       n);
		ck_assert_msg(n > 0, "the rule %s never fired", gateway_faults[i].rule);
		fired[gateway_faults[i].kind] += n;
	}

	settle(&r, true);
	final_check(&r, "gateway faults", &rep);
	/* each applied fault is one charge held for an admin, never charged again */
	ck_assert_int_eq((int64_t)rep.unknown_admin, fired[GW_APPLIED]);
	ck_assert_int_eq((int64_t)rep.unknown_charged, fired[GW_APPLIED]);
	ck_assert_int_eq((int64_t)rep.entries_not_ok, fired[GW_APPLIED]);
	/* each decline counted by the policy; each lost request settled FAILED by two probes;
	 * each -429 FAILED and tried again */
	ck_assert_int_eq((int64_t)rep.declined, fired[GW_DECLINED]);
	failed_probed = count_range("SELECT COUNT(*) FROM billing_attempt WHERE subscription_id"
	                            " BETWEEN ? AND ? AND status = 'FAILED' AND resolved_by ="
	                            " 'RECONCILER'",
	                            &r);
	ck_assert_int_eq(failed_probed, fired[GW_NOT_APPLIED]);
	ck_assert_int_eq((int64_t)rep.failed, fired[GW_NOT_APPLIED] + fired[GW_LATER]);
	ck_assert_int_eq((int64_t)(rep.approved + rep.unknown_admin), 500);
	run_done(&r);
}
END_TEST

/* ---- the standby ----------------------------------------------------------------------------- */

START_TEST(a_standby_charges_nothing_until_the_leader_dies)
{
	struct run r;
	struct it_bill_daemon leader, standby;
	struct it_bill_run once;
	struct it_bill_report rep;
	int64_t by_standby;

	run_init(&r, 600);
	seed_rule(&r, "\"action\":\"latency\",\"latency_ms\":300");
	it_bill_env_set(&r.env, "PV_BILLING_CONCURRENCY", "32");
	/* one lock key: the second daemon and a --once stand by */
	start_live(&r, 0, "leader", NULL, &leader);
	wait_claimed(&r, "it-live-leader", 1, 15000);
	start_live(&r, 1, "standby", NULL, &standby);
	ck_assert_int_eq(it_bill_once(&r.env, 30000, &once), 0);
	ck_assert_msg(once.exit_code == 3,
	              "--once while another instance leads: exit %d, expected 3", once.exit_code);
	it_bill_run_free(&once);
	ck_assert_int_eq(claimed_by(&r, "it-live-standby"), 0);
	ck_assert_msg(count_range(sql_claimable, &r) > 0, "the leader finished too early");

	/* the leader dies mid-run: the standby takes over within the lease */
	it_bill_kill9(&leader);
	printf("97_billing_faults: leader killed after %" PRId64 " attempts, %" PRId64
	       " of them PENDING\n",
	       claimed_by(&r, "it-live-leader"),
	       count_range("SELECT COUNT(*) FROM billing_attempt WHERE subscription_id BETWEEN ?"
	                   " AND ? AND status = 'PENDING'",
	                   &r));
	{
		struct it_bill_daemon *all[] = {&standby};
		wait_drained(&r, all, 1, 60000);
	}
	it_bill_stop_ok(&standby, 15000);
	by_standby = claimed_by(&r, "it-live-standby");
	printf("97_billing_faults: standby: %" PRId64 " attempts after the leader's kill -9\n",
	       by_standby);
	ck_assert_int_gt(by_standby, 0);
	settle(&r, false);
	final_check(&r, "standby", &rep);
	ck_assert_uint_eq(rep.approved + rep.unknown_admin, 600);
	run_done(&r);
}
END_TEST

/* ---- SIGTERM --------------------------------------------------------------------------------- */

START_TEST(sigterm_drains_in_flight_charges_then_records_the_rest_unknown)
{
	struct run r;
	struct it_bill_daemon d;
	struct it_bill_report rep;
	int64_t rule, at_term, after, unknown;

	run_init(&r, 300);
	rule = seed_rule(&r, "\"action\":\"latency\",\"latency_ms\":400");
	it_bill_env_set(&r.env, "PV_BILLING_CONCURRENCY", "32");

	/* within the drain deadline: what is in flight finishes and is recorded, nothing new */
	start_live(&r, 0, "drain", NULL, &d);
	wait_claimed(&r, "it-live-drain", 1, 15000);
	it_bill_sleep_ms(100);
	at_term = claimed_by(&r, "it-live-drain");
	it_bill_stop_ok(&d, 10000);
	after = claimed_by(&r, "it-live-drain");
	printf("97_billing_faults: SIGTERM with %" PRId64 " claimed, %" PRId64 " at exit\n",
	       at_term, after);
	ck_assert_int_eq(pending_of(&r, "it-live-drain"), 0);
	ck_assert_int_le(after, at_term + 32); /* at most a claim already on its way */
	ck_assert_msg(count_range(sql_claimable, &r) > 0, "the daemon charged everything");

	/* past the deadline (0.5 s, calls of 2 s): the calls left are recorded UNKNOWN */
	it_bill_fault_del(rule);
	r.nrules = 0;
	seed_rule(&r, "\"action\":\"latency\",\"latency_ms\":2000");
	{
		struct it_bill_env e = r.env;
		it_bill_env_set(&e, "PV_BILLING_DRAIN_TIMEOUT_MS", "500");
		it_bill_env_set(&e, "PV_BILLING_INSTANCE", "it-live-deadline");
		it_bill_start(0, &e, &d);
	}
	wait_claimed(&r, "it-live-deadline", 1, 15000);
	it_bill_sleep_ms(300);
	it_bill_stop_ok(&d, 10000);
	ck_assert_int_eq(pending_of(&r, "it-live-deadline"), 0);
	{
		struct db_param p[] = {DB_I64(r.seed.first_id), DB_I64(r.seed.last_id)};
		unknown = it_sql_i64("SELECT COUNT(*) FROM billing_attempt WHERE subscription_id"
		                     " BETWEEN ? AND ? AND claimed_by = 'it-live-deadline'"
		                     " AND status = 'UNKNOWN'",
		                     p, 2);
	}
	printf("97_billing_faults: drain deadline: %" PRId64 " recorded UNKNOWN\n", unknown);
	ck_assert_int_gt(unknown, 0);
	/* the probes of the settling runs must not come before the gateway has answered the calls
	 * the daemon gave up on (the reconciler's real delays, 60 s and 5 min, are far longer) */
	it_bill_sleep_ms(2500);
	settle(&r, false);
	final_check(&r, "SIGTERM", &rep);
	ck_assert_uint_eq(rep.approved + rep.unknown_admin, 300);
	run_done(&r);
}
END_TEST

/* ---- configuration errors ---------------------------------------------------------------------
 */

START_TEST(a_config_error_stops_all_gateway_traffic)
{
	struct run r;
	struct it_bill_env bad;
	struct it_bill_report rep;
	int64_t attempts, config;

	run_init(&r, 20);
	/* a wrong secret key: -401, class CONFIG (KAKAOPAY.md §1.11.3: "Alert, and stop all
	 * gateway traffic"); one call at a time, so the first answer comes before any other call */
	bad = r.env;
	it_bill_env_set(&bad, "PV_KAKAOPAY_SECRET_KEY", "it-wrong-secret-key-000000000000");
	it_bill_env_set(&bad, "PV_BILLING_CONCURRENCY", "1");
	free(it_bill_once_ok_at(IT_HERE, &bad));
	attempts = count_range(sql_attempts, &r);
	config = count_range("SELECT COUNT(*) FROM billing_attempt WHERE subscription_id BETWEEN ?"
	                     " AND ? AND status = 'FAILED' AND outcome = 'CONFIG'",
	                     &r);
	printf("97_billing_faults: wrong key: %" PRId64 " attempts (%" PRId64
	       " CONFIG) over 20 due\n",
	       attempts, config);
	ck_assert_int_eq(config, attempts);
	ck_assert_msg(attempts <= 1,
	              "%" PRId64 " charges sent with a key the gateway refused (CONFIG): the "
	              "daemon must stop all gateway traffic after the first",
	              attempts);
	settle(&r, true);
	final_check(&r, "wrong key", &rep);
	ck_assert_uint_eq(rep.approved, 20);
	run_done(&r);
}
END_TEST

/* A failed test may leave Redis or MariaDB stopped: start them again for what follows. */
static void restore_services(void)
{
	if (it_services("start-redis") != 0)
		fprintf(stderr, "97_billing_faults: could not restart Redis\n");
	if (it_services("start-db") != 0)
		fprintf(stderr, "97_billing_faults: could not restart MariaDB\n");
}

static void add_case(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 150);
	tcase_add_unchecked_fixture(tc, NULL, restore_services);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

Suite *billing_faults_suite(void)
{
	Suite *s = suite_create("billing_faults");

	add_case(s, "kill9", kill_9_at_random_moments_over_2000_subscriptions);
	add_case(s, "two_leaders", two_daemons_leading_at_once_charge_each_cycle_once);
	add_case(s, "redis", redis_stopped_mid_run_stops_the_charges_until_it_is_back);
	add_case(s, "mariadb", mariadb_restarted_mid_run_loses_nothing);
	add_case(s, "gateway", gateway_faults_and_declines_at_a_rate);
	add_case(s, "standby", a_standby_charges_nothing_until_the_leader_dies);
	add_case(s, "sigterm", sigterm_drains_in_flight_charges_then_records_the_rest_unknown);
	add_case(s, "config", a_config_error_stops_all_gateway_traffic);
	return s;
}
