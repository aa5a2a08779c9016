/* billing: integration-test helpers for pillivery-billing (see billing.h). */
#include "tests/it/lib/billing.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/db.h"
#include "tests/it/lib/fakepay.h"
#include "common/banned.h"

#define KST_S       (9 * 3600) /* Asia/Seoul: UTC+9 all year */
#define LOG_NAME    "billing.log"
#define ONCE_MAX_MS 60000

/* ---- small things ---------------------------------------------------------------------------- */

void it_bill_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void log_path(char *out, size_t n)
{
	snprintf(out, n, "%s/%s", it_var(), LOG_NAME);
}

/* Appends text to billing.log. */
static void log_append(const char *text)
{
	char path[512];
	FILE *f;

	log_path(path, sizeof(path));
	f = fopen(path, "a");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

void it_bill_log_tail(int lines)
{
	char path[512];
	size_t len = 0;
	char *text;
	const char *p;
	int seen = 0;

	log_path(path, sizeof(path));
	text = it_read_file(path, &len);
	if (!text) {
		fprintf(stderr, "it: (no %s)\n", path);
		return;
	}
	p = text + len;
	while (p > text) {
		if (p[-1] == '\n' && p != text + len && ++seen > lines)
			break;
		p--;
	}
	fprintf(stderr, "it: ---- last %d lines of %s ----\n%s---- end of log ----\n", lines, path,
	        p);
	free(text);
}

/* ---- environment and clock ------------------------------------------------------------------- */

void it_bill_env_init(struct it_bill_env *e)
{
	memset(e, 0, sizeof(*e));
}

void it_bill_env_set(struct it_bill_env *e, const char *name, const char *fmt, ...)
{
	char value[160];
	size_t nlen = strlen(name), i;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	for (i = 0; i < e->n; i++)
		if (strncmp(e->kv[i], name, nlen) == 0 && e->kv[i][nlen] == '=')
			break;
	ck_assert_msg(i < IT_BILL_ENV_MAX, "it_bill_env: more than %d settings", IT_BILL_ENV_MAX);
	snprintf(e->kv[i], sizeof(e->kv[i]), "%s=%s", name, value);
	if (i == e->n)
		e->n++;
}

int it_bill_port(int index)
{
	return it_api_port() + 30 + index;
}

int32_t it_bill_today(void)
{
	int64_t t = (int64_t)time(NULL) + KST_S;
	return (int32_t)((t - ((t % 86400) + 86400) % 86400) / 86400);
}

int64_t it_bill_offset(int32_t day, int hh, int mm, int ss)
{
	int64_t target = (int64_t)day * 86400 + hh * 3600 + mm * 60 + ss - KST_S;
	return target - (int64_t)time(NULL);
}

void it_bill_env_at(struct it_bill_env *e, int32_t day, int hh, int mm, int ss)
{
	it_bill_env_set(e, "PV_CLOCK_OFFSET_S", "%" PRId64, it_bill_offset(day, hh, mm, ss));
}

void it_bill_day_str(int32_t day, char out[11])
{
	if (clock_format_day(day, out) != 0)
		snprintf(out, 11, "?");
}

int32_t it_bill_day(const char *text)
{
	int32_t d = 0;
	ck_assert_msg(text && clock_parse_day(text, &d) == 0, "not a date: %s",
	              text ? text : "(null)");
	return d;
}

/*
 * The harness defaults (written into defaults), then the test's overrides, into list (NULL-
 * terminated; it points into e and defaults). PV_BILLING_LOCK_KEY is per test process, so a
 * daemon killed by one test never holds the lock of the next; PV_CLOCK_OFFSET_S is unset
 * unless the test sets it.
 */
static void env_list(const struct it_bill_env *e, const char **list, char defaults[][96], size_t *n)
{
	size_t k = 0;

	snprintf(defaults[0], 96, "PV_BILLING_PORT=0");
	snprintf(defaults[1], 96, "PV_BILLING_BIND=127.0.0.1");
	snprintf(defaults[2], 96, "PV_BILLING_LOCK_KEY=billing:it:%ld", (long)getpid());
	snprintf(defaults[3], 96, "PV_BILLING_LOCK_TTL_MS=2000");
	snprintf(defaults[4], 96, "PV_BILLING_POLL_INTERVAL_MS=250");
	snprintf(defaults[5], 96, "PV_BILLING_DRAIN_TIMEOUT_MS=5000");
	snprintf(defaults[6], 96, "PV_LOG_LEVEL=info");
	snprintf(defaults[7], 96, "PV_CLOCK_OFFSET_S");
	for (size_t i = 0; i < 8; i++)
		list[k++] = defaults[i];
	for (size_t i = 0; e && i < e->n; i++)
		list[k++] = e->kv[i];
	list[k] = NULL;
	*n = k;
}

/* The overrides for a log header; secrets (…SECRET…, …PASSWORD…) masked. */
static void env_text(const struct it_bill_env *e, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; e && i < e->n && len < n; i++) {
		const char *kv = e->kv[i], *eq = strchr(kv, '=');
		int nlen = eq ? (int)(eq - kv) : (int)strlen(kv);
		bool secret = strstr(kv, "SECRET") && strstr(kv, "SECRET") < eq;

		secret |= strstr(kv, "PASSWORD") && strstr(kv, "PASSWORD") < eq;
		len += (size_t)snprintf(out + len, n - len, "%s%.*s=%s", i ? " " : "", nlen, kv,
		                        secret ? "(secret)" : (eq ? eq + 1 : ""));
	}
}

/* ---- running the daemon ---------------------------------------------------------------------- */

int it_bill_once(const struct it_bill_env *env, int timeout_ms, struct it_bill_run *out)
{
	static const char *const args[] = {"--once", NULL};
	const char *list[IT_BILL_ENV_MAX + 16];
	char defaults[8][96], bin[512], ov[1024], head[1400], what[96];
	size_t n;
	double t0 = mono_s();
	int rc;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	env_list(env, list, defaults, &n);
	it_bin_path(bin, sizeof(bin), "pillivery-billing");
	rc = it_run(bin, args, list, timeout_ms, &out->status, &out->output);
	out->seconds = mono_s() - t0;
	if (rc < 0)
		return -1;
	out->timed_out = rc == 1;
	if (!out->timed_out && out->status >= 0 && WIFEXITED(out->status))
		out->exit_code = WEXITSTATUS(out->status);
	it_describe_status(what, sizeof(what), out->status);
	env_text(env, ov, sizeof(ov));
	snprintf(head, sizeof(head), "== it pid %ld: pillivery-billing --once %s: %s, %.2f s ==\n",
	         (long)getpid(), ov, what, out->seconds);
	log_append(head);
	log_append(out->output ? out->output : "");
	return 0;
}

void it_bill_run_free(struct it_bill_run *r)
{
	free(r->output);
	r->output = NULL;
}

char *it_bill_once_ok_at(struct it_loc at, const struct it_bill_env *env)
{
	struct it_bill_run r;
	char what[96];

	if (it_bill_once(env, ONCE_MAX_MS, &r) != 0)
		it_fail_at(at, NULL, "pillivery-billing --once could not be started");
	if (r.exit_code != 0) {
		it_describe_status(what, sizeof(what), r.status);
		fprintf(stderr, "it: pillivery-billing --once output:\n%s\n", r.output);
		it_fail_at(at, NULL, "pillivery-billing --once: %s%s (expected exit 0)", what,
		           r.timed_out ? " after the timeout" : "");
	}
	return r.output;
}

static bool health_ok(int port)
{
	struct it_resp r = IT_RESP_INIT;
	bool ok =
	    it_http_to(port, 1000, "GET", "/health", NULL, NULL, 0, &r) == 0 && r.status == 200;
	it_resp_free(&r);
	return ok;
}

void it_bill_start_at(struct it_loc at, int index, const struct it_bill_env *env,
                      struct it_bill_daemon *d)
{
	const char *list[IT_BILL_ENV_MAX + 16];
	char defaults[8][96], bin[512], path[512], ov[1024], head[1400], port[32];
	double deadline;
	size_t n;

	d->pid = -1;
	d->port = it_bill_port(index);
	env_list(env, list, defaults, &n);
	snprintf(port, sizeof(port), "PV_BILLING_PORT=%d", d->port);
	list[n++] = port;
	list[n] = NULL;
	it_bin_path(bin, sizeof(bin), "pillivery-billing");
	log_path(path, sizeof(path));
	env_text(env, ov, sizeof(ov));
	snprintf(head, sizeof(head), "== it pid %ld: pillivery-billing daemon on :%d %s ==\n",
	         (long)getpid(), d->port, ov);
	log_append(head);
	d->pid = it_spawn(bin, NULL, list, path, IT_SPAWN_APPEND | IT_SPAWN_DIE_WITH_PARENT);
	it_check_at(at, NULL, d->pid > 0, "pillivery-billing could not be started");
	deadline = mono_s() + 15;
	for (;;) {
		int st;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			char what[96];
			it_describe_status(what, sizeof(what), st);
			d->pid = -1;
			it_bill_log_tail(30);
			it_fail_at(at, NULL, "pillivery-billing ended (%s) before /health answered",
			           what);
		}
		if (health_ok(d->port))
			return;
		if (mono_s() > deadline) {
			it_bill_stop(d, 2000, &st);
			it_bill_log_tail(30);
			it_fail_at(at, NULL,
			           "pillivery-billing did not answer /health on :%d in 15 s",
			           d->port);
		}
		it_bill_sleep_ms(50);
	}
}

int it_bill_stop(struct it_bill_daemon *d, int timeout_ms, int *status)
{
	int rc = it_proc_stop(d->pid, timeout_ms, status);
	d->pid = -1;
	return rc;
}

void it_bill_stop_ok_at(struct it_loc at, struct it_bill_daemon *d, int timeout_ms)
{
	char what[96];
	int st = -1, rc = it_bill_stop(d, timeout_ms, &st);

	it_describe_status(what, sizeof(what), st);
	if (rc != 0 || st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		it_bill_log_tail(30);
		it_fail_at(at, NULL, "pillivery-billing after SIGTERM: %s%s (expected exit 0)",
		           what, rc != 0 ? ", killed after the timeout" : "");
	}
}

void it_bill_kill9_at(struct it_loc at, struct it_bill_daemon *d)
{
	char what[96];
	int st = -1;

	it_check_at(at, NULL, d->pid > 0, "kill -9: no daemon");
	kill(d->pid, SIGKILL);
	it_wait_end(d->pid, 5000, &st);
	d->pid = -1;
	it_describe_status(what, sizeof(what), st);
	it_check_at(at, NULL, st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	            "kill -9: the daemon ended with %s", what);
}

bool it_bill_alive(const struct it_bill_daemon *d)
{
	int st;
	return d->pid > 0 && waitpid(d->pid, &st, WNOHANG) == 0;
}

/* ---- data ------------------------------------------------------------------------------------ */

void it_bill_buy_at(struct it_loc at, const struct it_user *u, int quantity, int period,
                    struct it_bill_buy *out)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_line line;
	char *s;

	memset(out, 0, sizeof(*out));
	it_ord_item_new_at(at, &out->item, 12000, 100, 0);
	line = (struct it_ord_line){out->item.id, quantity, true, period};
	out->order_id = it_ord_place_at(at, u, &line, 1, &r);
	it_resp_free(&r);
	it_fp_pay_order_at(at, u, out->order_id);
	out->quantity = quantity;
	out->period = period;
	struct db_param q[] = {DB_I64(out->order_id)};
	out->id =
	    it_sql_i64_at(at, "SELECT subscription_id FROM subscriptions WHERE order_id = ?", q, 1);
	s = it_sql_str_at(at, "SELECT sid FROM subscriptions WHERE order_id = ?", q, 1);
	copy(out->sid, sizeof(out->sid), s);
	free(s);
	s = it_sql_str_at(at, "SELECT partner_user_id FROM subscriptions WHERE order_id = ?", q, 1);
	copy(out->puid, sizeof(out->puid), s);
	free(s);
	s = it_sql_str_at(at,
	                  "SELECT DATE_FORMAT(first_payment_date, '%Y-%m-%d') FROM subscriptions"
	                  " WHERE order_id = ?",
	                  q, 1);
	out->first = it_bill_day(s);
	free(s);
	it_check_at(at, NULL, out->sid[0] != '\0', "the bought subscription has no SID");
}

void it_bill_set_dates_at(struct it_loc at, int64_t sub_id, int32_t first, int32_t next)
{
	char f[11], nx[11];

	it_bill_day_str(first, f);
	if (next >= 0)
		it_bill_day_str(next, nx);
	struct db_param p[] = {DB_STR(f), DB_STR(f), DB_STR(f), DB_STR(next >= 0 ? nx : NULL),
	                       DB_I64(sub_id)};
	it_sql_exec_at(
	    at,
	    "UPDATE subscriptions SET first_payment_date = ?, last_payment_date = ?,"
	    " last_settled_cycle_date = ?, next_payment_date = ? WHERE subscription_id = ?",
	    p, 5);
	struct db_param cp[] = {DB_STR(f), DB_I64(sub_id)};
	it_sql_exec_at(at,
	               "UPDATE subscription_cycles SET cycle_date = ? WHERE subscription_id = ?"
	               " AND status = 'PAID'",
	               cp, 2);
}

void it_bill_seed_at(struct it_loc at, int n, int period, const char *due, struct it_bill_seed *out)
{
	const char *root = it_getenv("PV_IT_ROOT"), *dir = it_getenv("PV_IT_DB_DIR");
	const char *dbname = it_getenv("PV_DB_NAME");
	char script[512], sock[512], fake[64], ns[16], ps[16], is[24], today[11], what[96];
	struct it_ord_item item;
	char *output = NULL;
	const char *p;
	long long first = 0, last = 0;
	size_t got = 0;
	int st = -1, rc;

	memset(out, 0, sizeof(*out));
	it_check_at(at, NULL, root && dir, "PV_IT_ROOT and PV_IT_DB_DIR must be set (check.sh)");
	snprintf(script, sizeof(script), "%s/tests/lib/billing_seed.sh", root);
	snprintf(sock, sizeof(sock), "%s/mariadb.sock", dir);
	snprintf(fake, sizeof(fake), "http://127.0.0.1:%d", it_fp_port());
	snprintf(ns, sizeof(ns), "%d", n);
	snprintf(ps, sizeof(ps), "%d", period);
	it_bill_day_str(it_bill_today(), today);
	it_ord_item_new_at(at, &item, 10000, 0, 0); /* the test database has no catalogue */
	snprintf(is, sizeof(is), "%" PRId64, item.id);
	const char *args[] = {
	    script, sock, dbname ? dbname : "pillivery", fake, ns, ps, due ? due : today, is, NULL};
	rc = it_run("bash", args, NULL, 120000, &st, &output);
	it_describe_status(what, sizeof(what), st);
	p = output ? strstr(output, "seeded ") : NULL;
	if (rc != 0 || st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !p ||
	    sscanf(p, "seeded %zu subscriptions %lld..%lld", &got, &first, &last) != 3) {
		fprintf(stderr, "it: billing_seed.sh output:\n%s\n", output ? output : "");
		free(output);
		it_fail_at(at, NULL, "billing_seed.sh %d: %s", n, what);
	}
	free(output);
	it_check_at(at, NULL, got == (size_t)n && last - first + 1 == n,
	            "billing_seed.sh seeded %zu subscriptions %lld..%lld, expected %d in a row",
	            got, first, last, n);
	out->first_id = first;
	out->last_id = last;
	out->n = got;
	out->item_id = item.id;
	struct db_param q[] = {DB_I64(first)};
	out->user_id =
	    it_sql_i64_at(at, "SELECT user_id FROM subscriptions WHERE subscription_id = ?", q, 1);
	snprintf(out->puid, sizeof(out->puid), "U%" PRId64, out->user_id);
}

int64_t *it_bill_seed_ids(const struct it_bill_seed *s)
{
	int64_t *ids = calloc(s->n ? s->n : 1, sizeof(*ids));

	ck_assert_ptr_nonnull(ids);
	for (size_t i = 0; i < s->n; i++)
		ids[i] = s->first_id + (int64_t)i;
	return ids;
}

void it_bill_retire_at(struct it_loc at, int64_t first, int64_t last)
{
	struct db_param p[] = {DB_I64(first), DB_I64(last)};
	it_sql_exec_at(
	    at,
	    "UPDATE subscriptions SET status = 'SUBSCRIBE_CANCEL', cancel_reason = 'ADMIN',"
	    " canceled_at = UTC_TIMESTAMP(), paused_at = NULL, next_payment_date = NULL,"
	    " updated_at = UTC_TIMESTAMP() WHERE subscription_id BETWEEN ? AND ?"
	    " AND status <> 'SUBSCRIBE_CANCEL'",
	    p, 2);
}

/* ---- state ----------------------------------------------------------------------------------- */

static struct db_rows *query_at(struct it_loc at, const char *sql, const struct db_param *p,
                                size_t n)
{
	struct db *db = it_db();
	struct db_rows *rows = NULL;
	int rc;

	it_check_at(at, NULL, db != NULL, "db_new failed");
	rc = db_query(db, sql, p, n, &rows);
	if (rc) /* once more: the connection may have died with a restarted server */
		rc = db_query(db, sql, p, n, &rows);
	it_check_at(at, NULL, rc == 0, "SQL failed (%d: %s): %s", rc, db_last_error(db), sql);
	return rows;
}

#define STR(r, i, c) db_rows_str(r, i, c)
#define I64(r, i, c) db_rows_i64(r, i, c)

void it_bill_sub_at(struct it_loc at, int64_t id, struct it_bill_sub *out)
{
	static const char sql[] =
	    "SELECT status, retry_state, retry_attempts, DATE_FORMAT(first_payment_date, "
	    "'%Y-%m-%d'),"
	    " DATE_FORMAT(last_payment_date, '%Y-%m-%d'),"
	    " DATE_FORMAT(last_settled_cycle_date, '%Y-%m-%d'),"
	    " DATE_FORMAT(next_payment_date, '%Y-%m-%d'), DATE_FORMAT(failed_cycle_date, "
	    "'%Y-%m-%d'),"
	    " COALESCE(UNIX_TIMESTAMP(next_retry_at), 0), "
	    "COALESCE(UNIX_TIMESTAMP(charge_hold_until), 0),"
	    " last_failure_code, sid, item_id, quantity, period FROM subscriptions"
	    " WHERE subscription_id = ?";
	struct db_param p = DB_I64(id);
	struct db_rows *r = query_at(at, sql, &p, 1);

	it_check_at(at, NULL, db_rows_count(r) == 1, "subscription %" PRId64 " not found", id);
	memset(out, 0, sizeof(*out));
	copy(out->status, sizeof(out->status), STR(r, 0, 0));
	copy(out->retry_state, sizeof(out->retry_state), STR(r, 0, 1));
	out->retry_attempts = (int)I64(r, 0, 2);
	copy(out->first, sizeof(out->first), STR(r, 0, 3));
	copy(out->last, sizeof(out->last), STR(r, 0, 4));
	copy(out->settled, sizeof(out->settled), STR(r, 0, 5));
	copy(out->next, sizeof(out->next), STR(r, 0, 6));
	copy(out->failed_cycle, sizeof(out->failed_cycle), STR(r, 0, 7));
	out->next_retry_at = I64(r, 0, 8);
	out->hold_until = I64(r, 0, 9);
	copy(out->last_failure_code, sizeof(out->last_failure_code), STR(r, 0, 10));
	copy(out->sid, sizeof(out->sid), STR(r, 0, 11));
	out->item_id = I64(r, 0, 12);
	out->quantity = (int)I64(r, 0, 13);
	out->period = (int)I64(r, 0, 14);
	db_rows_free(r);
}

size_t it_bill_attempts_at(struct it_loc at, int64_t sub_id, struct it_bill_att *out, size_t max)
{
	static const char sql[] =
	    "SELECT billing_attempt_id, DATE_FORMAT(cycle_date, '%Y-%m-%d'), attempt_no, status,"
	    " initiated_by, outcome, counted, partner_order_id, tid, amount, order_id, needs_admin,"
	    " probe_count, error_code, UNIX_TIMESTAMP(claimed_at) FROM billing_attempt"
	    " WHERE subscription_id = ? ORDER BY billing_attempt_id";
	struct db_param p = DB_I64(sub_id);
	struct db_rows *r = query_at(at, sql, &p, 1);
	size_t n = db_rows_count(r);

	for (size_t i = 0; i < n && i < max; i++) {
		struct it_bill_att *a = &out[i];
		memset(a, 0, sizeof(*a));
		a->id = I64(r, i, 0);
		copy(a->cycle, sizeof(a->cycle), STR(r, i, 1));
		a->attempt_no = (int)I64(r, i, 2);
		copy(a->status, sizeof(a->status), STR(r, i, 3));
		copy(a->initiated_by, sizeof(a->initiated_by), STR(r, i, 4));
		copy(a->outcome, sizeof(a->outcome), STR(r, i, 5));
		a->counted = I64(r, i, 6) != 0;
		copy(a->partner_order_id, sizeof(a->partner_order_id), STR(r, i, 7));
		copy(a->tid, sizeof(a->tid), STR(r, i, 8));
		a->amount = I64(r, i, 9);
		a->order_id = I64(r, i, 10);
		a->needs_admin = I64(r, i, 11) != 0;
		a->probe_count = (int)I64(r, i, 12);
		copy(a->error_code, sizeof(a->error_code), STR(r, i, 13));
		a->claimed_at = I64(r, i, 14);
	}
	db_rows_free(r);
	return n;
}

size_t it_bill_cycles_at(struct it_loc at, int64_t sub_id, struct it_bill_cycle *out, size_t max)
{
	static const char sql[] =
	    "SELECT DATE_FORMAT(cycle_date, '%Y-%m-%d'), status, attempts, COALESCE(amount, -1),"
	    " order_id FROM subscription_cycles WHERE subscription_id = ? ORDER BY cycle_date";
	struct db_param p = DB_I64(sub_id);
	struct db_rows *r = query_at(at, sql, &p, 1);
	size_t n = db_rows_count(r);

	for (size_t i = 0; i < n && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		copy(out[i].date, sizeof(out[i].date), STR(r, i, 0));
		copy(out[i].status, sizeof(out[i].status), STR(r, i, 1));
		out[i].attempts = (int)I64(r, i, 2);
		out[i].amount = I64(r, i, 3);
		out[i].order_id = I64(r, i, 4);
	}
	db_rows_free(r);
	return n;
}

/* ---- ledger ---------------------------------------------------------------------------------- */

int64_t it_bill_ledger_seq_at(struct it_loc at)
{
	struct it_resp r = IT_RESP_INIT;
	int64_t seq;

	it_fp_ctl_at(at, "GET", "/ledger?since=9223372036854775807", NULL, &r);
	it_check_at(at, &r, r.status == 200 && r.json, "ledger: expected 200");
	seq = it_json_int_at(at, r.json, "last_seq");
	it_resp_free(&r);
	return seq;
}

int it_bill_charges_at(struct it_loc at, const char *sid, int64_t since_seq)
{
	char q[160];
	cJSON *all, *e;
	int n = 0;

	snprintf(q, sizeof(q), "since=%" PRId64 "&kind=PAYMENT&sid=%s", since_seq, sid);
	all = it_fp_ledger_at(at, q);
	cJSON_ArrayForEach(e, all)
	{
		const char *ep = cJSON_GetStringValue(cJSON_GetObjectItem(e, "endpoint"));
		n += ep && strcmp(ep, "subscription") == 0;
	}
	cJSON_Delete(all);
	return n;
}

/* One attempt of the set, with what the database says of its cycle and order. */
struct latt {
	int64_t id, sub, amount, order_id, cyc_order, ord_price;
	int32_t cycle;
	char status[16], poid[100], sid[64], tid[64], cyc_status[16], ord_status[16];
	bool needs_admin, renewal;
	int entries;
	const char *entry_tid; /* borrowed from the ledger JSON */
};

/* One ledger entry of the set. */
struct lent {
	int64_t att; /* 0 when its payload names no attempt of the set */
	const char *payload, *poid, *sid, *tid, *delivery;
	int64_t amount, seq;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_latt(const void *a, const void *b)
{
	return cmp_i64(&((const struct latt *)a)->id, &((const struct latt *)b)->id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_cstr(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	return strcmp(x ? x : "", y ? y : "");
}

struct problems {
	char text[4096];
	size_t len, count;
};

static void problem(struct problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct problems *p, const char *fmt, ...)
{
	va_list ap;

	p->count++;
	if (p->count > 12 || p->len + 2 >= sizeof(p->text))
		return;
	p->text[p->len++] = '\n';
	p->text[p->len] = '\0';
	va_start(ap, fmt);
	vsnprintf(p->text + p->len, sizeof(p->text) - p->len, fmt, ap);
	va_end(ap);
	p->len += strlen(p->text + p->len);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? s : "";
}

static int64_t jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

void it_bill_ledger_check_at(struct it_loc at, const int64_t *subs_in, size_t n, int64_t since_seq,
                             bool settled, struct it_bill_report *rep)
{
	static const char sql_att[] =
	    "SELECT b.billing_attempt_id, b.subscription_id, DATE_FORMAT(b.cycle_date, '%Y-%m-%d'),"
	    " b.status, b.partner_order_id, b.sid, b.amount, b.tid, b.needs_admin, b.order_id,"
	    " c.status, c.order_id, o.status, o.expect_price, o.is_renewal"
	    " FROM billing_attempt b LEFT JOIN subscription_cycles c"
	    " ON c.subscription_id = b.subscription_id AND c.cycle_date = b.cycle_date"
	    " LEFT JOIN orders o ON o.order_id = b.order_id"
	    " WHERE b.subscription_id BETWEEN ? AND ? ORDER BY b.billing_attempt_id";
	static const char sql_sid[] =
	    "SELECT subscription_id, sid FROM subscriptions WHERE subscription_id BETWEEN ? AND ?";
	struct it_bill_report r = {0};
	struct problems pr = {.len = 0};
	int64_t *subs = NULL;
	struct latt *att = NULL;
	struct lent *ent = NULL;
	char **sids = NULL, q[96];
	size_t natt = 0, nsid = 0, nent = 0;
	struct db_rows *rows = NULL;
	cJSON *ledger = NULL, *e;

	ck_assert_msg(n > 0, "ledger check of no subscription");
	subs = malloc(n * sizeof(*subs));
	ck_assert_ptr_nonnull(subs);
	memcpy(subs, subs_in, n * sizeof(*subs));
	qsort(subs, n, sizeof(*subs), cmp_i64);
	struct db_param range[] = {DB_I64(subs[0]), DB_I64(subs[n - 1])};

	/* the attempts of the set */
	rows = query_at(at, sql_att, range, 2);
	att = calloc(db_rows_count(rows) + 1, sizeof(*att));
	ck_assert_ptr_nonnull(att);
	for (size_t i = 0; i < db_rows_count(rows); i++) {
		int64_t sub = I64(rows, i, 1);
		struct latt *a = &att[natt];
		if (!bsearch(&sub, subs, n, sizeof(*subs), cmp_i64))
			continue;
		a->id = I64(rows, i, 0);
		a->sub = sub;
		a->cycle = it_bill_day(STR(rows, i, 2));
		copy(a->status, sizeof(a->status), STR(rows, i, 3));
		copy(a->poid, sizeof(a->poid), STR(rows, i, 4));
		copy(a->sid, sizeof(a->sid), STR(rows, i, 5));
		a->amount = I64(rows, i, 6);
		copy(a->tid, sizeof(a->tid), STR(rows, i, 7));
		a->needs_admin = I64(rows, i, 8) != 0;
		a->order_id = I64(rows, i, 9);
		copy(a->cyc_status, sizeof(a->cyc_status), STR(rows, i, 10));
		a->cyc_order = I64(rows, i, 11);
		copy(a->ord_status, sizeof(a->ord_status), STR(rows, i, 12));
		a->ord_price = I64(rows, i, 13);
		a->renewal = I64(rows, i, 14) != 0;
		natt++;
	}
	db_rows_free(rows);

	/* their SIDs: the subscriptions' and the attempts' */
	rows = query_at(at, sql_sid, range, 2);
	sids = calloc(db_rows_count(rows) + natt + 1, sizeof(*sids));
	ck_assert_ptr_nonnull(sids);
	for (size_t i = 0; i < db_rows_count(rows); i++) {
		int64_t sub = I64(rows, i, 0);
		if (bsearch(&sub, subs, n, sizeof(*subs), cmp_i64) && STR(rows, i, 1))
			sids[nsid++] = strdup(STR(rows, i, 1));
	}
	db_rows_free(rows);
	for (size_t i = 0; i < natt; i++)
		sids[nsid++] = strdup(att[i].sid);
	qsort(sids, nsid, sizeof(*sids), cmp_str);

	/* the ledger's subscription charges on those SIDs */
	snprintf(q, sizeof(q), "since=%" PRId64 "&kind=PAYMENT", since_seq);
	ledger = it_fp_ledger_at(at, q);
	ent = calloc((size_t)cJSON_GetArraySize(ledger) + 1, sizeof(*ent));
	ck_assert_ptr_nonnull(ent);
	cJSON_ArrayForEach(e, ledger)
	{
		const char *sid = jstr(e, "sid");
		struct lent *l = &ent[nent];
		long long id = 0;
		char tail = 0;

		if (strcmp(jstr(e, "endpoint"), "subscription") != 0 ||
		    !bsearch(&sid, sids, nsid, sizeof(*sids), cmp_str))
			continue;
		l->payload = jstr(e, "payload");
		l->poid = jstr(e, "partner_order_id");
		l->sid = sid;
		l->tid = jstr(e, "tid");
		l->delivery = jstr(e, "delivery");
		l->amount = jnum(e, "amount");
		l->seq = jnum(e, "seq");
		if (sscanf(l->payload, "att:%lld%c", &id, &tail) == 1) {
			struct latt key = {.id = id};
			if (bsearch(&key, att, natt, sizeof(*att), cmp_latt))
				l->att = id;
		}
		nent++;
	}
	r.entries = nent;
	r.attempts = natt;

	/* every entry: one of our attempts, as the attempt says */
	for (size_t i = 0; i < nent; i++) {
		struct lent *l = &ent[i];
		struct latt key = {.id = l->att}, *a;

		r.entries_not_ok += strcmp(l->delivery, "ok") != 0;
		if (!l->att) {
			problem(&pr,
			        "ledger seq %" PRId64 ": charge on SID %s with payload '%s' of no "
			        "attempt of these subscriptions",
			        l->seq, l->sid, l->payload);
			continue;
		}
		a = bsearch(&key, att, natt, sizeof(*att), cmp_latt);
		a->entries++;
		a->entry_tid = l->tid;
		if (strcmp(l->poid, a->poid) != 0 || strcmp(l->sid, a->sid) != 0 ||
		    l->amount != a->amount)
			problem(&pr,
			        "ledger seq %" PRId64 " (att:%" PRId64
			        "): partner_order_id %s, SID %s, "
			        "amount %" PRId64 "; the attempt has %s, %s, %" PRId64,
			        l->seq, a->id, l->poid, l->sid, l->amount, a->poid, a->sid,
			        a->amount);
	}
	/* no payload, no partner_order_id twice */
	{
		const char **keys = calloc(nent + 1, sizeof(*keys));
		ck_assert_ptr_nonnull(keys);
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < nent; i++)
				keys[i] = pass == 0 ? ent[i].payload : ent[i].poid;
			qsort(keys, nent, sizeof(*keys), cmp_cstr);
			for (size_t i = 1; i < nent; i++)
				if (strcmp(keys[i], keys[i - 1]) == 0 &&
				    (i < 2 || strcmp(keys[i], keys[i - 2])))
					problem(&pr, "%s %s charged more than once",
					        pass == 0 ? "payload" : "partner_order_id",
					        keys[i]);
		}
		free(keys);
	}
	/* every attempt against its entries; no cycle charged twice */
	{
		struct cyc {
			int64_t sub;
			int32_t cycle;
			int charged, approved;
		} *cy = calloc(natt + 1, sizeof(*cy));
		size_t ncy = 0;

		ck_assert_ptr_nonnull(cy);
		for (size_t i = 0; i < natt; i++) {
			struct latt *a = &att[i];
			bool approved = strcmp(a->status, "APPROVED") == 0;
			bool unknown = strcmp(a->status, "UNKNOWN") == 0;
			size_t k;

			r.approved += approved;
			r.declined += strcmp(a->status, "DECLINED") == 0;
			r.failed += strcmp(a->status, "FAILED") == 0;
			r.pending += strcmp(a->status, "PENDING") == 0;
			r.unknown_admin += unknown && a->needs_admin;
			r.unknown_open += unknown && !a->needs_admin;
			r.unknown_charged += unknown && a->entries > 0;
			if (a->entries > 1)
				problem(&pr, "att:%" PRId64 " (%s) has %d ledger entries", a->id,
				        a->poid, a->entries);
			if (approved && a->entries == 0)
				problem(&pr,
				        "att:%" PRId64 " (%s) is APPROVED without a ledger entry",
				        a->id, a->poid);
			if (approved && a->entries == 1 && strcmp(a->tid, a->entry_tid) != 0)
				problem(&pr, "att:%" PRId64 ": tid %s, the ledger's %s", a->id,
				        a->tid, a->entry_tid);
			if (a->entries > 0 && !approved && !unknown &&
			    strcmp(a->status, "PENDING") != 0)
				problem(&pr,
				        "att:%" PRId64
				        " (%s) is %s but the gateway charged it (ledger)",
				        a->id, a->poid, a->status);
			if (a->entries > 0 && unknown && settled && !a->needs_admin)
				problem(&pr,
				        "att:%" PRId64
				        " is UNKNOWN, charged, and not held for an admin",
				        a->id);
			if (approved &&
			    (strcmp(a->cyc_status, "PAID") != 0 || a->cyc_order != a->order_id ||
			     !a->order_id || strcmp(a->ord_status, "COMPLETE") != 0 ||
			     !a->renewal || a->ord_price != a->amount))
				problem(&pr,
				        "att:%" PRId64 " APPROVED: cycle %s order %" PRId64
				        ", renewal order %" PRId64 " %s %" PRId64
				        " (expected PAID, COMPLETE, %" PRId64 ")",
				        a->id, a->cyc_status, a->cyc_order, a->order_id,
				        a->ord_status, a->ord_price, a->amount);
			if (settled && strcmp(a->status, "PENDING") == 0)
				problem(&pr, "att:%" PRId64 " (%s) is still PENDING", a->id,
				        a->poid);
			if (settled && unknown && !a->needs_admin)
				problem(&pr,
				        "att:%" PRId64 " (%s) is UNKNOWN without an admin task",
				        a->id, a->poid);
			for (k = 0; k < ncy; k++)
				if (cy[k].sub == a->sub && cy[k].cycle == a->cycle)
					break;
			if (k == ncy)
				cy[ncy++] = (struct cyc){a->sub, a->cycle, 0, 0};
			cy[k].charged += a->entries;
			cy[k].approved += approved;
		}
		for (size_t k = 0; k < ncy; k++) {
			char d[11];
			it_bill_day_str(cy[k].cycle, d);
			if (cy[k].charged > 1)
				problem(&pr, "subscription %" PRId64 ": cycle %s charged %d times",
				        cy[k].sub, d, cy[k].charged);
			if (cy[k].approved > 1)
				problem(&pr,
				        "subscription %" PRId64
				        ": cycle %s has %d APPROVED attempts",
				        cy[k].sub, d, cy[k].approved);
		}
		free(cy);
	}

	if (rep)
		*rep = r;
	for (size_t i = 0; i < nsid; i++)
		free(sids[i]);
	free(sids);
	free(ent);
	free(att);
	free(subs);
	cJSON_Delete(ledger);
	if (pr.count)
		it_fail_at(at, NULL,
		           "ledger != database for %zu subscriptions (%zu problems; %zu entries, "
		           "%zu attempts):%s",
		           n, pr.count, r.entries, r.attempts, pr.text);
}

/* ---- fault rules ----------------------------------------------------------------------------- */

int64_t it_bill_fault_at(struct it_loc at, const char *fmt, ...)
{
	char rule[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	return it_fp_fault_at(at, rule);
}

void it_bill_fault_del(int64_t id)
{
	struct it_resp r = IT_RESP_INIT;
	char path[96];

	snprintf(path, sizeof(path), "/__control/faults/%" PRId64, id);
	it_fp_raw("DELETE", path, NULL, NULL, IT_FP_TIMEOUT_MS, &r);
	it_resp_free(&r);
}

int64_t it_bill_fault_fired_at(struct it_loc at, int64_t id)
{
	struct it_resp r = IT_RESP_INIT;
	const cJSON *rule, *list;
	int64_t fired = -1;

	it_fp_ctl_at(at, "GET", "/faults", NULL, &r);
	it_check_at(at, &r, r.status == 200 && r.json, "faults: expected 200");
	list = cJSON_IsArray(r.json) ? r.json : cJSON_GetObjectItem(r.json, "faults");
	cJSON_ArrayForEach(rule, list)
	{
		if (jnum(rule, "id") == id)
			fired = jnum(rule, "fired");
	}
	it_resp_free(&r);
	return fired;
}
