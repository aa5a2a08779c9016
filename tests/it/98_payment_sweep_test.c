/*
 * 98_payment_sweep: the payment sweepers of pillivery-billing's housekeeping round (core/sweep.c;
 * API.md §2.4, §7.1; KAKAOPAY.md §1.9 and §2 rows 4d and 5), end to end: payments made through
 * pillivery-api and the fake gateway, the browser's abandonment or an approve's crash staged
 * by ageing rows in SQL (ready_at, approving_at, created_at moved back) or by the fake's clock,
 * then `pillivery-billing --once`, then the database and the fake's ledger: nothing charged
 * that is not recorded, nothing paid that ends unpaid (an order paid at the gateway but
 * abandoned by the browser ends COMPLETE), a subscription payment that a lookup cannot
 * complete (no SID) flagged and left alone, unpaid orders cancelled after 24 h.
 *
 * The daemon is run here by static helpers (its own leader-lock key, no listener), so this
 * file depends on nothing but the harness of tests/it/lib.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

#define ACCEPT_JSON  "Accept: application/json"
#define RUN_TIMEOUT  60000 /* ms for one --once */
#define ENV_MAX      600
#define READY_AGE_S  (16 * 60) /* past the 15 min expiry */
#define APPROVE_AGE  120       /* past the 1 min of a stuck APPROVING */
#define DAY_S        86400
#define ORDER_AMOUNT 29800 /* 2 x 9900 + 1 x 10000 */

extern char **environ;

static const char *const json_hdr[] = {ACCEPT_JSON, NULL};

/* ---- running pillivery-billing --once -------------------------------------------------------- */

static bool env_overridden(const char *kv, const char *const *over)
{
	const char *eq = strchr(kv, '=');
	size_t n = eq ? (size_t)(eq - kv) : strlen(kv);

	for (size_t i = 0; over[i]; i++)
		if (!strncmp(over[i], kv, n) && over[i][n] == '=')
			return true;
	return false;
}

/*
 * Runs `pillivery-billing --once` with the runner's environment (PV_DB_*, PV_REDIS_*,
 * PV_KAKAOPAY_BASE_URL and _SECRET_KEY of tests/it/main.c) plus no listener, a leader-lock key
 * of this test process and short gateway timeouts, then extra ("NAME=value", NULL-terminated,
 * may be NULL). *status gets the wait status; the output (stdout and stderr) is returned
 * (caller frees). Fails the test when it cannot run or does not end within RUN_TIMEOUT.
 */
static char *run_billing_at(struct it_loc at, const char *const *extra, int *status)
{
	char bin[512], out_path[512], lock[96];
	const char *over[32], *envp[ENV_MAX], *argv[] = {bin, "--once", NULL};
	size_t no = 0, ne = 0;
	int64_t waited = 0;
	char *output;
	pid_t pid;
	int st = -1;

	snprintf(bin, sizeof(bin), "%s/pillivery-billing",
	         it_getenv("PV_IT_BIN_DIR") ? it_getenv("PV_IT_BIN_DIR") : "build/bin");
	snprintf(out_path, sizeof(out_path), "%s/sweep-%ld-%" PRIu64 ".out", it_var(),
	         (long)getpid(), it_seq());
	snprintf(lock, sizeof(lock), "PV_BILLING_LOCK_KEY=it-sweep:%ld", (long)getpid());
	over[no++] = "PV_BILLING_PORT=0";
	over[no++] = lock;
	over[no++] = "PV_KAKAOPAY_TIMEOUT_MS=5000";
	over[no++] = "PV_KAKAOPAY_CONNECT_TIMEOUT_MS=2000";
	over[no++] = "PV_LOG_LEVEL=info";
	for (size_t i = 0; extra && extra[i] && no < sizeof(over) / sizeof(over[0]) - 1; i++)
		over[no++] = extra[i];
	over[no] = NULL;
	for (char **e = environ; *e && ne < ENV_MAX - no - 1; e++)
		if (!env_overridden(*e, over))
			envp[ne++] = *e;
	for (size_t i = 0; i < no; i++)
		envp[ne++] = over[i];
	envp[ne] = NULL;

	it_check_at(at, NULL, access(bin, X_OK) == 0, "%s is not executable: %s", bin,
	            strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	it_check_at(at, NULL, pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (devnull >= 0)
			dup2(devnull, 0);
		execve(bin, (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		if (waited >= RUN_TIMEOUT) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			output = it_read_file(out_path, NULL);
			fprintf(stderr, "98_payment_sweep: pillivery-billing --once output:\n%s\n",
			        output ? output : "");
			it_fail_at(at, NULL, "pillivery-billing --once did not end within %d s",
			           RUN_TIMEOUT / 1000);
		}
		nanosleep(&ts, NULL);
		waited += 20;
	}
	output = it_read_file(out_path, NULL);
	unlink(out_path);
	*status = st;
	return output ? output : strdup("");
}

/* run_billing_at, which must exit 0 (else its output goes to stderr). Returns the output
 * (caller frees). */
static char *sweep_at(struct it_loc at, const char *const *extra)
{
	int st = -1;
	char *out = run_billing_at(at, extra, &st);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "98_payment_sweep: pillivery-billing --once output:\n%s\n", out);
		it_fail_at(at, NULL, "pillivery-billing --once: wait status %d, expected exit 0",
		           st);
	}
	return out;
}
#define sweep(extra) sweep_at(IT_HERE, extra)
#define sweep_ok()   free(sweep(NULL))

/* ---- data ------------------------------------------------------------------------------------ */

/* An order of two fresh items: a (x2, a subscription line every 30 days when sub) and b
 * (x1, one-time): 29800 in all. */
struct fixture {
	struct it_user u;
	struct it_ord_item a, b;
	int64_t order_id;
};

static void order_at(struct it_loc at, struct fixture *f, bool sub)
{
	struct it_ord_line lines[2];
	struct it_resp r = IT_RESP_INIT;
	char *text;

	it_ord_item_new_at(at, &f->a, 11000, 100, 0);
	it_ord_item_new_at(at, &f->b, 10000, 0, 0);
	lines[0] = (struct it_ord_line){f->a.id, 2, sub, sub ? 30 : 0};
	lines[1] = (struct it_ord_line){f->b.id, 1, false, 0};
	text = it_ord_body_text(lines, 2);
	it_ord_post(&f->u, text, NULL, &r);
	it_check_at(at, &r, r.status == 201 && r.json, "POST /api/orders: expected 201");
	f->order_id = it_json_int_at(at, cJSON_GetObjectItem(r.json, "data"), "orderId");
	free(text);
	it_resp_free(&r);
}

static void fixture_at(struct it_loc at, struct fixture *f, bool sub)
{
	it_new_user_at(at, &f->u);
	order_at(at, f, sub);
}
#define fixture(f, sub) fixture_at(IT_HERE, f, sub)

/* Another order of the same user. */
static void another_order_at(struct it_loc at, struct fixture *g, const struct fixture *f, bool sub)
{
	g->u = f->u;
	order_at(at, g, sub);
}
#define another_order(g, f, sub) another_order_at(IT_HERE, g, f, sub)

static long ready_status(const struct fixture *f)
{
	struct it_resp r = IT_RESP_INIT;
	char path[128];
	long st;

	snprintf(path, sizeof(path), "/api/payments/%" PRId64, f->order_id);
	it_req("POST", path, f->u.access, NULL, NULL, &r);
	st = r.status;
	it_resp_free(&r);
	return st;
}
#define ready_ok(f) ck_assert_int_eq(ready_status(f), 201)

static void approve(int64_t order_id, const char *token, struct it_resp *r)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/payments/approve/%" PRId64 "?pg_token=%s", order_id,
	         token);
	it_req("GET", path, NULL, NULL, json_hdr, r);
}

/* The newest payment record of an order. */
static const char sql_pay_id[] =
    "SELECT payment_id FROM payments WHERE order_id = ? ORDER BY ready_no DESC LIMIT 1";
static const char sql_pay_status[] =
    "SELECT status FROM payments WHERE order_id = ? ORDER BY ready_no DESC LIMIT 1";
static const char sql_pay_tid[] =
    "SELECT tid FROM payments WHERE order_id = ? ORDER BY ready_no DESC LIMIT 1";
static const char sql_pay_code[] =
    "SELECT last_error_code FROM payments WHERE order_id = ? ORDER BY ready_no DESC LIMIT 1";
static const char sql_pay_flag[] =
    "SELECT flag_reason FROM payments WHERE order_id = ? ORDER BY ready_no DESC LIMIT 1";
static const char sql_pay_flagged_at[] =
    "SELECT CAST(UNIX_TIMESTAMP(flagged_at) AS CHAR) FROM payments WHERE order_id = ? "
    "ORDER BY ready_no DESC LIMIT 1";
static const char sql_order_status[] = "SELECT status FROM orders WHERE order_id = ?";

static char *q_str(const char *sql, int64_t id)
{
	struct db_param p[] = {DB_I64(id)};
	return it_sql_str(sql, p, 1);
}

static int64_t q_i64(const char *sql, int64_t id)
{
	struct db_param p[] = {DB_I64(id)};
	return it_sql_i64(sql, p, 1);
}

static void assert_str_at(struct it_loc at, const char *sql, int64_t id, const char *want)
{
	char *s = q_str(sql, id);

	it_check_at(at, NULL, (s && want && !strcmp(s, want)) || (!s && !want),
	            "%" PRId64 ": %s, expected %s (%s)", id, s ? s : "NULL", want ? want : "NULL",
	            sql);
	free(s);
}
#define assert_pay_status(order, want)   assert_str_at(IT_HERE, sql_pay_status, order, want)
#define assert_pay_code(order, want)     assert_str_at(IT_HERE, sql_pay_code, order, want)
#define assert_order_status(order, want) assert_str_at(IT_HERE, sql_order_status, order, want)

static char *tid_of(int64_t order_id)
{
	char *t = q_str(sql_pay_tid, order_id);

	ck_assert_ptr_nonnull(t);
	return t;
}

/* Money the fake moved for the order's newest tid. */
static int ledger_of(int64_t order_id)
{
	char *tid = tid_of(order_id);
	int n = it_fp_ledger_count(tid, NULL);

	free(tid);
	return n;
}

/* Presses a button of the fake's payment page for the order's newest tid; the pg_token of
 * approve into token. */
static void click(int64_t order_id, const char *action, char *token, size_t n)
{
	struct it_fp_pay p;
	char *tid = tid_of(order_id);

	memset(&p, 0, sizeof(p));
	snprintf(p.tid, sizeof(p.tid), "%s", tid);
	it_fp_click(&p, action, NULL, 0);
	if (token)
		snprintf(token, n, "%s", p.token);
	free(tid);
}

/* The approve our API would have sent, sent straight to the fake: the gateway's side of an
 * approve whose process died before it could record the answer. The aid into aid. */
static void gateway_approve(int64_t order_id, const char *token, char *aid, size_t n)
{
	struct db_param p[] = {DB_I64(order_id)};
	struct it_resp r = IT_RESP_INIT;
	char *cid, *tid, *poid, *puid, body[1024];
	int64_t pid = q_i64(sql_pay_id, order_id);

	cid = it_sql_str("SELECT cid FROM payments WHERE order_id = ? ORDER BY ready_no DESC "
	                 "LIMIT 1",
	                 p, 1);
	tid = tid_of(order_id);
	poid = it_sql_str("SELECT partner_order_id FROM payments WHERE order_id = ? ORDER BY "
	                  "ready_no DESC LIMIT 1",
	                  p, 1);
	puid = it_sql_str("SELECT partner_user_id FROM payments WHERE order_id = ? ORDER BY "
	                  "ready_no DESC LIMIT 1",
	                  p, 1);
	snprintf(body, sizeof(body),
	         "{\"cid\":\"%s\",\"tid\":\"%s\",\"partner_order_id\":\"%s\","
	         "\"partner_user_id\":\"%s\",\"pg_token\":\"%s\",\"total_amount\":%d,"
	         "\"payload\":\"pay:%" PRId64 "\"}",
	         cid, tid, poid, puid, token, ORDER_AMOUNT, pid);
	it_fp_api("approve", body, &r);
	ck_assert_int_eq(r.status, 200);
	if (aid)
		snprintf(aid, n, "%s", it_json_str(r.json, "aid"));
	it_resp_free(&r);
	free(cid);
	free(tid);
	free(poid);
	free(puid);
}

/* Ages the order's newest record: ready_at and created_at back by s seconds. */
static void age_ready(int64_t order_id, int64_t s)
{
	struct db_param p[] = {DB_I64(s), DB_I64(s), DB_I64(q_i64(sql_pay_id, order_id))};

	ck_assert_int_eq(it_sql_exec("UPDATE payments SET ready_at = ready_at - INTERVAL ? SECOND, "
	                             "created_at = created_at - INTERVAL ? SECOND "
	                             "WHERE payment_id = ?",
	                             p, 3),
	                 1);
}

/* An approve that claimed the order's newest READY record s seconds ago and never finished
 * (the API process died): the record APPROVING, approving_at s seconds back. */
static void stuck_approving(int64_t order_id, int64_t s)
{
	struct db_param p[] = {DB_I64(s), DB_I64(q_i64(sql_pay_id, order_id))};

	ck_assert_int_eq(it_sql_exec("UPDATE payments SET status = 'APPROVING', approving_at = "
	                             "UTC_TIMESTAMP() - INTERVAL ? SECOND "
	                             "WHERE payment_id = ? AND status = 'READY'",
	                             p, 2),
	                 1);
}

static void age_order(int64_t order_id, int64_t s)
{
	struct db_param p[] = {DB_I64(s), DB_I64(order_id)};

	ck_assert_int_eq(it_sql_exec("UPDATE orders SET created_at = created_at - INTERVAL ? "
	                             "SECOND WHERE order_id = ?",
	                             p, 2),
	                 1);
}

static void fake_clock_advance(int64_t s)
{
	struct it_resp r = IT_RESP_INIT;
	char body[64];

	snprintf(body, sizeof(body), "{\"advance_s\":%" PRId64 "}", s);
	it_fp_ctl("POST", "/clock", body, &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
}

/* Each test starts with no fault rule left by an earlier suite. */
static void setup(void)
{
	struct it_resp r = IT_RESP_INIT;

	it_fp_ctl("DELETE", "/faults", NULL, &r);
	it_resp_free(&r);
}

/* ---- READY records abandoned by the browser (KAKAOPAY.md §2 row 4d) ------------------------- */

START_TEST(ready_paid_at_the_gateway_but_abandoned_ends_complete)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f;
	char token[64], rule[256], *tid, *out;
	int64_t sales_a, sales_b;
	const cJSON *d;

	fixture(&f, false);
	sales_a = q_i64("SELECT sales FROM items WHERE item_id = ?", f.a.id);
	sales_b = q_i64("SELECT sales FROM items WHERE item_id = ?", f.b.id);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	/* the gateway applies the approve but answers 500, and the lookup fails too: the route
	 * answers 504 and leaves the record READY; the browser never comes back */
	tid = tid_of(f.order_id);
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
	approve(f.order_id, token, &r);
	it_assert_error(&r, 504, "PAYMENT_GATEWAY_TIMEOUT");
	assert_pay_status(f.order_id, "READY");
	assert_order_status(f.order_id, "REQUEST");
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 1);

	/* not yet 15 min after ready: untouched */
	sweep_ok();
	assert_pay_status(f.order_id, "READY");
	assert_order_status(f.order_id, "REQUEST");

	age_ready(f.order_id, READY_AGE_S);
	out = sweep(NULL);
	ck_assert_ptr_nonnull(strstr(out, "abandoned payment completed"));
	ck_assert_ptr_nonnull(strstr(out, "\"msg\":\"payment sweep\""));
	free(out);
	assert_order_status(f.order_id, "COMPLETE");
	assert_pay_status(f.order_id, "APPROVED");
	ck_assert_int_eq(
	    q_i64("SELECT COUNT(*) FROM payments WHERE order_id = ? AND aid IS NOT NULL "
	          "AND approved_total = 29800 AND approved_at IS NOT NULL AND "
	          "approval_result IS NOT NULL AND flagged_at IS NULL",
	          f.order_id),
	    1);
	ck_assert_int_eq(q_i64("SELECT COUNT(*) FROM orders WHERE order_id = ? AND paid_at IS NOT "
	                       "NULL",
	                       f.order_id),
	                 1);
	ck_assert_int_eq(q_i64("SELECT sales FROM items WHERE item_id = ?", f.a.id), sales_a + 2);
	ck_assert_int_eq(q_i64("SELECT sales FROM items WHERE item_id = ?", f.b.id), sales_b + 1);
	/* charged once, and only once */
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 1);

	/* a late redirect answers the stored approval, as for a browser-approved payment */
	approve(f.order_id, token, &r);
	ck_assert_int_eq(r.status, 200);
	d = it_assert_wrapper(&r);
	it_assert_keys(d, "item_name", "item_code", "created_at", "approved_at", "payload",
	               "amount", "quantity", NULL);
	ck_assert_int_eq(it_json_int(cJSON_GetObjectItem(d, "amount"), "total"), ORDER_AMOUNT);
	ck_assert_int_eq(it_json_int(d, "quantity"), 3);
	it_assert_ts_recent("approved_at", cJSON_GetObjectItem(d, "approved_at"), 300);
	it_resp_free(&r);

	/* another round changes nothing */
	sweep_ok();
	assert_order_status(f.order_id, "COMPLETE");
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 1);
	free(tid);
}
END_TEST

START_TEST(abandoned_ready_payments_expire_and_the_order_can_be_paid_again)
{
	struct fixture f, g;

	/* f: the page was never opened; g: the customer authenticated (AUTH_PASSWORD) but the
	 * browser never reached the approval URL. The fake still shows both in progress. */
	fixture(&f, false);
	another_order(&g, &f, true);
	ready_ok(&f);
	ready_ok(&g);
	click(g.order_id, "approve", NULL, 0);
	age_ready(f.order_id, READY_AGE_S);
	age_ready(g.order_id, READY_AGE_S);
	sweep_ok();
	assert_pay_status(f.order_id, "EXPIRED");
	assert_pay_code(f.order_id, "READY");
	assert_pay_status(g.order_id, "EXPIRED");
	assert_pay_code(g.order_id, "AUTH_PASSWORD");
	ck_assert_int_eq(q_i64("SELECT COUNT(*) FROM payments WHERE order_id = ? AND closed_at IS "
	                       "NOT NULL AND last_error_message LIKE '%swept%'",
	                       f.order_id),
	                 1);
	assert_order_status(f.order_id, "REQUEST");
	assert_order_status(g.order_id, "REQUEST");
	ck_assert_int_eq(ledger_of(f.order_id), 0);
	ck_assert_int_eq(ledger_of(g.order_id), 0);
	/* the orders can be paid again, with a new ready */
	ready_ok(&f);
	assert_pay_status(f.order_id, "READY");
	it_fp_pay_order(&g.u, g.order_id);
	assert_order_status(g.order_id, "COMPLETE");
}
END_TEST

START_TEST(ready_expired_at_the_gateway_is_expired)
{
	struct fixture f;
	char *out;
	int st = -1;

	fixture(&f, false);
	ready_ok(&f);
	click(f.order_id, "approve", NULL, 0);
	age_ready(f.order_id, READY_AGE_S);
	/* the fake's own clock past the TID's 15 min: an unfinished payment reads FAIL_PAYMENT */
	fake_clock_advance(901);
	out = run_billing_at(IT_HERE, NULL, &st);
	fake_clock_advance(-901);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "98_payment_sweep: pillivery-billing --once output:\n%s\n", out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "billing --once: wait status %d", st);
	free(out);
	assert_pay_status(f.order_id, "EXPIRED");
	assert_pay_code(f.order_id, "FAIL_PAYMENT");
	assert_order_status(f.order_id, "REQUEST");
	ck_assert_int_eq(ledger_of(f.order_id), 0);
}
END_TEST

START_TEST(a_failed_lookup_leaves_the_payment_for_the_next_round)
{
	struct fixture f;
	char rule[256], *tid, *out;

	fixture(&f, false);
	ready_ok(&f);
	age_ready(f.order_id, READY_AGE_S);
	tid = tid_of(f.order_id);
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"order\",\"tid\":\"%s\"},\"action\":\"http500\","
	         "\"times\":1}",
	         tid);
	it_fp_fault(rule);
	out = sweep(NULL);
	ck_assert_ptr_nonnull(strstr(out, "order lookup failed"));
	free(out);
	assert_pay_status(f.order_id, "READY");
	assert_order_status(f.order_id, "REQUEST");
	/* the next round decides */
	sweep_ok();
	assert_pay_status(f.order_id, "EXPIRED");
	ck_assert_int_eq(it_fp_ledger_count(tid, NULL), 0);
	free(tid);
}
END_TEST

/* ---- APPROVING records of an approve that died (KAKAOPAY.md §2 row 5) ----------------------- */

START_TEST(stuck_approving_paid_at_the_gateway_ends_complete)
{
	struct fixture f;
	char token[64], aid[64], *s, *out;
	int64_t pid;

	fixture(&f, false);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	gateway_approve(f.order_id, token, aid, sizeof(aid));
	stuck_approving(f.order_id, 30);
	pid = q_i64(sql_pay_id, f.order_id);
	/* claimed 30 s ago: its approve may still be in flight, so it is not looked at */
	sweep_ok();
	assert_pay_status(f.order_id, "APPROVING");
	assert_order_status(f.order_id, "REQUEST");
	{
		struct db_param p[] = {DB_I64(pid)};
		it_sql_exec("UPDATE payments SET approving_at = approving_at - INTERVAL 60 SECOND "
		            "WHERE payment_id = ?",
		            p, 1);
	}
	out = sweep(NULL);
	ck_assert_ptr_nonnull(strstr(out, "abandoned payment completed"));
	free(out);
	assert_order_status(f.order_id, "COMPLETE");
	assert_pay_status(f.order_id, "APPROVED");
	s = q_str("SELECT aid FROM payments WHERE payment_id = ?", pid);
	ck_assert_str_eq(s, aid);
	free(s);
	ck_assert_int_eq(ledger_of(f.order_id), 1);
	/* its redirect, arriving late, answers the stored approval */
	{
		struct it_resp r = IT_RESP_INIT;
		approve(f.order_id, token, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_int_eq(
		    it_json_int(cJSON_GetObjectItem(it_assert_wrapper(&r), "amount"), "total"),
		    ORDER_AMOUNT);
		it_resp_free(&r);
	}
	ck_assert_int_eq(ledger_of(f.order_id), 1);
}
END_TEST

START_TEST(stuck_approving_not_paid_fails_and_the_order_can_be_paid_again)
{
	struct fixture f;

	fixture(&f, false);
	ready_ok(&f);
	click(f.order_id, "fail", NULL, 0); /* FAIL_AUTH_PASSWORD at the gateway */
	stuck_approving(f.order_id, APPROVE_AGE);
	sweep_ok();
	/* within the 15 min of its ready: FAILED, not EXPIRED */
	assert_pay_status(f.order_id, "FAILED");
	assert_pay_code(f.order_id, "FAIL_AUTH_PASSWORD");
	assert_order_status(f.order_id, "REQUEST");
	ck_assert_int_eq(ledger_of(f.order_id), 0);
	ready_ok(&f);
	assert_pay_status(f.order_id, "READY");
}
END_TEST

START_TEST(stuck_approving_in_progress_is_released_or_expired)
{
	struct it_resp r = IT_RESP_INIT;
	struct fixture f, g;
	char token_f[64], token_g[64];

	fixture(&f, false);
	another_order(&g, &f, false);
	ready_ok(&f);
	ready_ok(&g);
	click(f.order_id, "approve", token_f, sizeof(token_f));
	click(g.order_id, "approve", token_g, sizeof(token_g));
	/* f: claimed 2 min ago, never sent to the gateway (AUTH_PASSWORD); g: the same, but
	 * ready 16 min ago */
	stuck_approving(f.order_id, APPROVE_AGE);
	stuck_approving(g.order_id, APPROVE_AGE);
	age_ready(g.order_id, READY_AGE_S);
	sweep_ok();
	assert_pay_status(f.order_id, "READY");
	assert_pay_status(g.order_id, "EXPIRED");
	assert_pay_code(g.order_id, "AUTH_PASSWORD");
	assert_order_status(g.order_id, "REQUEST");
	/* f is payable again: the customer's repeated redirect approves it */
	approve(f.order_id, token_f, &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
	assert_order_status(f.order_id, "COMPLETE");
	ck_assert_int_eq(ledger_of(f.order_id), 1);
	/* g's late redirect finds nothing to approve, and nothing is charged */
	approve(g.order_id, token_g, &r);
	it_assert_error(&r, 404, "PAYMENT_NOT_FOUND");
	it_resp_free(&r);
	assert_order_status(g.order_id, "REQUEST");
	ck_assert_int_eq(ledger_of(g.order_id), 0);
}
END_TEST

START_TEST(subscription_paid_without_a_sid_is_flagged_and_left)
{
	struct fixture f;
	char token[64], *out, *reason, *at1, *at2, needle[64];
	int64_t pid;

	fixture(&f, true);
	ready_ok(&f);
	click(f.order_id, "approve", token, sizeof(token));
	gateway_approve(f.order_id, token, NULL, 0); /* the SID went down with the process */
	stuck_approving(f.order_id, APPROVE_AGE);
	pid = q_i64(sql_pay_id, f.order_id);
	out = sweep(NULL);
	ck_assert_ptr_nonnull(strstr(out, "flagged for review"));
	free(out);
	/* left as it was: APPROVING, order REQUEST, no subscription; flagged with the reason */
	assert_pay_status(f.order_id, "APPROVING");
	assert_order_status(f.order_id, "REQUEST");
	ck_assert_int_eq(q_i64("SELECT COUNT(*) FROM subscriptions WHERE order_id = ?", f.order_id),
	                 0);
	reason = q_str(sql_pay_flag, f.order_id);
	ck_assert_ptr_nonnull(reason);
	ck_assert_ptr_nonnull(strstr(reason, "SID"));
	free(reason);
	at1 = q_str(sql_pay_flagged_at, f.order_id);
	ck_assert_ptr_nonnull(at1);
	ck_assert_int_eq(ledger_of(f.order_id), 1);
	/* a flagged record is never swept again */
	out = sweep(NULL);
	snprintf(needle, sizeof(needle), "\"payment\":%" PRId64 ",", pid);
	ck_assert_ptr_null(strstr(out, needle));
	snprintf(needle, sizeof(needle), "\"payment\":%" PRId64 "}", pid);
	ck_assert_ptr_null(strstr(out, needle));
	free(out);
	at2 = q_str(sql_pay_flagged_at, f.order_id);
	ck_assert_str_eq(at1, at2);
	assert_pay_status(f.order_id, "APPROVING");
	ck_assert_int_eq(ledger_of(f.order_id), 1);
	free(at1);
	free(at2);
	/* nor does the order expire under it */
	age_order(f.order_id, DAY_S + 3600);
	sweep_ok();
	assert_order_status(f.order_id, "REQUEST");
}
END_TEST

/* ---- unpaid orders (API.md §2.4) ------------------------------------------------------------- */

START_TEST(unpaid_orders_are_canceled_after_24_hours)
{
	struct fixture a, b, c, d, e;
	char key[40], poid[32];
	int64_t pd;

	fixture(&a, false);           /* never readied, 25 h old: CANCELED */
	another_order(&b, &a, false); /* 25 h old with a READY payment: kept */
	another_order(&c, &a, false); /* 23 h old: kept */
	another_order(&d, &a, false); /* 25 h old with a CREATED record 20 min old */
	another_order(&e, &a, false); /* paid (APPROVED record) */
	ready_ok(&b);
	it_fp_pay_order(&e.u, e.order_id);
	it_unique_name(key, sizeof(key), "swk");
	snprintf(poid, sizeof(poid), "O%" PRId64 "-R1", d.order_id);
	{
		struct db_param p[] = {DB_I64(d.order_id), DB_STR(key), DB_STR(poid)};
		it_sql_exec("INSERT INTO payments (order_id, ready_no, status, payment_key, cid, "
		            "partner_order_id, partner_user_id, item_name, quantity, amount, "
		            "created_at, updated_at) VALUES (?, 1, 'CREATED', ?, 'TC0ONETIME', ?, "
		            "'U0', 'x', 3, 29800, UTC_TIMESTAMP() - INTERVAL 20 MINUTE, "
		            "UTC_TIMESTAMP() - INTERVAL 20 MINUTE)",
		            p, 3);
	}
	pd = q_i64(sql_pay_id, d.order_id);
	age_order(a.order_id, DAY_S + 3600);
	age_order(b.order_id, DAY_S + 3600);
	age_order(c.order_id, DAY_S - 3600);
	age_order(d.order_id, DAY_S + 3600);
	/* an inconsistent row the sweeper must still never touch: REQUEST with an APPROVED
	 * payment */
	{
		struct db_param p[] = {DB_I64(e.order_id)};
		it_sql_exec("UPDATE orders SET status = 'REQUEST' WHERE order_id = ?", p, 1);
	}
	age_order(e.order_id, DAY_S + 3600);
	sweep_ok();
	assert_order_status(a.order_id, "CANCELED");
	ck_assert_int_eq(q_i64("SELECT COUNT(*) FROM orders WHERE order_id = ? AND canceled_at IS "
	                       "NOT NULL",
	                       a.order_id),
	                 1);
	assert_order_status(b.order_id, "REQUEST");
	assert_pay_status(b.order_id, "READY");
	assert_order_status(c.order_id, "REQUEST");
	/* the CREATED record closes (its ready never answered), then the order expires */
	ck_assert_int_eq(
	    q_i64("SELECT COUNT(*) FROM payments WHERE payment_id = ? AND status = "
	          "'FAILED' AND last_error_code = 'NO_READY' AND closed_at IS NOT NULL",
	          pd),
	    1);
	assert_order_status(d.order_id, "CANCELED");
	assert_order_status(e.order_id, "REQUEST");
	{
		struct db_param p[] = {DB_I64(e.order_id)};
		it_sql_exec("UPDATE orders SET status = 'COMPLETE' WHERE order_id = ?", p, 1);
	}
	/* a cancelled order cannot be paid */
	ck_assert_int_eq(ready_status(&a), 409);
}
END_TEST

START_TEST(order_expiry_is_configurable)
{
	static const char *const env[] = {"PV_BILLING_ORDER_EXPIRE_S=7200", NULL};
	static const char *const bad_order[] = {"PV_BILLING_ORDER_EXPIRE_S=60", NULL};
	static const char *const bad_payment[] = {"PV_BILLING_PAYMENT_EXPIRE_S=60", NULL};
	struct fixture a, b;
	char *out;
	int st = -1;

	fixture(&a, false);
	another_order(&b, &a, false);
	age_order(a.order_id, 3 * 3600);
	age_order(b.order_id, 3600);
	sweep_ok(); /* 24 h by default: both kept */
	assert_order_status(a.order_id, "REQUEST");
	free(sweep(env));
	assert_order_status(a.order_id, "CANCELED");
	assert_order_status(b.order_id, "REQUEST");
	/* a bad value stops the daemon at start, naming the option */
	out = run_billing_at(IT_HERE, bad_order, &st);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	ck_assert_ptr_nonnull(strstr(out, "PV_BILLING_ORDER_EXPIRE_S"));
	free(out);
	out = run_billing_at(IT_HERE, bad_payment, &st);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	ck_assert_ptr_nonnull(strstr(out, "PV_BILLING_PAYMENT_EXPIRE_S"));
	free(out);
}
END_TEST

Suite *payment_sweep_suite(void)
{
	Suite *s = suite_create("payment_sweep");
	TCase *tc = tcase_create("payment_sweep");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, ready_paid_at_the_gateway_but_abandoned_ends_complete);
	tcase_add_test(tc, abandoned_ready_payments_expire_and_the_order_can_be_paid_again);
	tcase_add_test(tc, ready_expired_at_the_gateway_is_expired);
	tcase_add_test(tc, a_failed_lookup_leaves_the_payment_for_the_next_round);
	tcase_add_test(tc, stuck_approving_paid_at_the_gateway_ends_complete);
	tcase_add_test(tc, stuck_approving_not_paid_fails_and_the_order_can_be_paid_again);
	tcase_add_test(tc, stuck_approving_in_progress_is_released_or_expired);
	tcase_add_test(tc, subscription_paid_without_a_sid_is_flagged_and_left);
	tcase_add_test(tc, unpaid_orders_are_canceled_after_24_hours);
	tcase_add_test(tc, order_expiry_is_configurable);
	suite_add_tcase(s, tc);
	return s;
}
