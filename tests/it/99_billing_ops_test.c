/*
 * 99_billing_ops: pillivery-billing as an operator runs it: --help and a refused
 * configuration (exit 2 naming the option), --dry-run (lists what is due, changes nothing),
 * the /health, /ready and /metrics listener with its error bodies, the systemd notify protocol
 * (READY=1, WATCHDOG=1 at half the watchdog interval, STOPPING=1 on SIGTERM), and --once
 * refusing (exit 3) while another instance holds the leader lock.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/it/lib/billing.h"
#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "common/banned.h"

static void bin(char *out, size_t n)
{
	it_bin_path(out, n, "pillivery-billing");
}

/* Runs the binary with args and env; returns its exit code (-1: did not exit by itself). */
static int run(const char *const *args, const struct it_bill_env *env, char **output)
{
	const char *list[IT_BILL_ENV_MAX + 1];
	char path[512];
	size_t n = 0;
	int st = -1;

	for (size_t i = 0; env && i < env->n; i++)
		list[n++] = env->kv[i];
	list[n] = NULL;
	bin(path, sizeof(path));
	ck_assert_int_eq(it_run(path, args, list, 30000, &st, output), 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(help_lists_the_options_and_bad_settings_stop_it)
{
	static const char *const help[] = {"--help", NULL};
	static const char *const none[] = {NULL};
	static const char *const bogus[] = {"--bogus", NULL};
	struct it_bill_env env;
	char *out = NULL;

	ck_assert_int_eq(run(help, NULL, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "--once"));
	ck_assert_ptr_nonnull(strstr(out, "--dry-run"));
	ck_assert_ptr_nonnull(strstr(out, "PV_BILLING_CONCURRENCY"));
	ck_assert_ptr_nonnull(strstr(out, "PV_BILLING_RETRY_DELAYS"));
	ck_assert_ptr_nonnull(strstr(out, "0,24h,24h,24h"));
	ck_assert_ptr_nonnull(strstr(out, "PV_KAKAOPAY_SECRET_KEY"));
	free(out);

	it_bill_env_init(&env);
	it_bill_env_set(&env, "PV_BILLING_CHARGE_TIME", "25:00");
	ck_assert_int_eq(run(none, &env, &out), 2);
	ck_assert_ptr_nonnull(strstr(out, "PV_BILLING_CHARGE_TIME"));
	free(out);
	it_bill_env_init(&env);
	it_bill_env_set(&env, "PV_BILLING_RETRY_DELAYS", "0,1x");
	ck_assert_int_eq(run(none, &env, &out), 2);
	ck_assert_ptr_nonnull(strstr(out, "PV_BILLING_RETRY_DELAYS"));
	free(out);
	it_bill_env_init(&env);
	it_bill_env_set(&env, "PV_BILLING_ORPHAN_AFTER_S", "20");
	it_bill_env_set(&env, "PV_KAKAOPAY_TIMEOUT_MS", "30000");
	ck_assert_int_eq(run(none, &env, &out), 2); /* an orphan age the timeout could outlive */
	ck_assert_ptr_nonnull(strstr(out, "PV_BILLING_ORPHAN_AFTER_S"));
	free(out);
	ck_assert_int_eq(run(bogus, NULL, &out), 2);
	ck_assert_ptr_nonnull(strstr(out, "--bogus"));
	free(out);
}
END_TEST

static int ledger_size(void)
{
	cJSON *l = it_fp_ledger_at(IT_HERE, "");
	int n = cJSON_GetArraySize(l);

	cJSON_Delete(l);
	return n;
}

START_TEST(dry_run_lists_what_is_due_and_changes_nothing)
{
	static const char *const dry[] = {"--dry-run", NULL};
	struct it_bill_seed seed;
	struct it_bill_env env;
	struct db_param p[2];
	char *out = NULL, want[96];
	int ledger_before;

	it_bill_seed(3, 30, NULL, &seed);
	p[0] = DB_I64(seed.first_id);
	p[1] = DB_I64(seed.last_id);
	ledger_before = ledger_size();
	it_bill_env_init(&env);
	it_bill_env_set(&env, "PV_BILLING_CHARGE_TIME", "00:00");
	ck_assert_int_eq(run(dry, &env, &out), 0);
	for (int64_t id = seed.first_id; id <= seed.last_id; id++) {
		snprintf(want, sizeof(want), "{\"subscriptionOrderId\":%" PRId64 ",", id);
		ck_assert_msg(strstr(out, want), "dry run does not list %" PRId64 ":\n%s", id, out);
	}
	ck_assert_ptr_nonnull(strstr(out, "\"kind\":\"CYCLE\""));
	ck_assert_ptr_nonnull(strstr(out, "nothing claimed or charged"));
	free(out);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM billing_attempt WHERE subscription_id"
	                            " BETWEEN ? AND ?",
	                            p, 2),
	                 0);
	ck_assert_int_eq(ledger_size(), ledger_before);
	it_bill_retire(seed.first_id, seed.last_id);
}
END_TEST

static void get(int port, const char *method, const char *path, struct it_resp *r)
{
	ck_assert_int_eq(it_http_to(port, 5000, method, path, NULL, NULL, 0, r), 0);
}

START_TEST(health_ready_and_metrics)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_bill_seed seed;
	struct it_bill_daemon d;
	struct it_bill_env env;
	struct db_param p[2];
	int approved = 0;

	it_bill_seed(2, 30, NULL, &seed);
	p[0] = DB_I64(seed.first_id);
	p[1] = DB_I64(seed.last_id);
	it_bill_env_init(&env);
	it_bill_env_set(&env, "PV_BILLING_CHARGE_TIME", "00:00");
	it_bill_start(5, &env, &d);
	get(d.port, "GET", "/health", &r);
	it_assert_status(&r, 200);
	ck_assert_str_eq(r.body, "OK");
	for (int i = 0; i < 100 && approved < 2; i++) {
		usleep(100 * 1000);
		approved = (int)it_sql_i64("SELECT COUNT(*) FROM billing_attempt WHERE subscription_id"
		                           " BETWEEN ? AND ? AND status = 'APPROVED'",
		                           p, 2);
	}
	ck_assert_int_eq(approved, 2);
	get(d.port, "GET", "/ready", &r);
	it_assert_status(&r, 200);
	ck_assert_str_eq(r.body, "{\"status\":\"UP\",\"checks\":{\"db\":\"UP\",\"redis\":\"UP\"}}");
	get(d.port, "GET", "/metrics", &r);
	it_assert_status(&r, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\nbilling_leader 1"));
	ck_assert_ptr_nonnull(strstr(r.body, "billing_charges_total{outcome=\"APPROVED\"}"));
	ck_assert_ptr_nonnull(
	    strstr(r.body, "payment_gateway_requests_total{operation=\"subscription\",outcome=\"OK\"}"));
	ck_assert_ptr_nonnull(strstr(r.body, "billing_pass_duration_seconds_bucket"));
	ck_assert_ptr_nonnull(strstr(r.body, "billing_due_backlog"));
	ck_assert_ptr_nonnull(strstr(r.body, "outbox_pending"));
	ck_assert_ptr_nonnull(strstr(r.body, "\ndb_up 1"));
	ck_assert_ptr_nonnull(strstr(r.body, "\nredis_up 1"));
	get(d.port, "GET", "/nope", &r);
	it_assert_status(&r, 404);
	ck_assert_ptr_nonnull(strstr(r.body, "\"code\":\"NOT_FOUND\""));
	get(d.port, "POST", "/health", &r);
	it_assert_status(&r, 405);
	it_assert_header(&r, "Allow", "GET");
	it_resp_free(&r);
	it_bill_stop_ok(&d, 10000);
	it_bill_retire(seed.first_id, seed.last_id);
}
END_TEST

/* Reads datagrams from fd until one equals want, for up to ms. */
static bool wait_datagram(int fd, const char *want, int ms)
{
	char buf[256];

	for (int waited = 0; waited < ms; waited += 50) {
		struct pollfd pfd = {fd, POLLIN, 0};
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (strcmp(buf, want) == 0)
			return true;
	}
	return false;
}

START_TEST(systemd_notify_ready_watchdog_stopping)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct it_bill_daemon d;
	struct it_bill_env env;
	int fd, st = -1;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify-%ld.sock", it_var(), (long)getpid());
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	it_bill_env_init(&env);
	it_bill_env_set(&env, "NOTIFY_SOCKET", "%s", sa.sun_path);
	it_bill_env_set(&env, "WATCHDOG_USEC", "400000");
	it_bill_start(6, &env, &d);
	ck_assert_msg(wait_datagram(fd, "READY=1", 5000), "no READY=1");
	ck_assert_msg(wait_datagram(fd, "WATCHDOG=1", 2000), "no WATCHDOG=1 within 2 s");
	ck_assert_msg(wait_datagram(fd, "WATCHDOG=1", 1000), "the watchdog is not pinged again");
	ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
	ck_assert_msg(wait_datagram(fd, "STOPPING=1", 5000), "no STOPPING=1");
	ck_assert_int_eq(it_bill_stop(&d, 10000, &st), 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
	unlink(sa.sun_path);
}
END_TEST

START_TEST(once_refuses_while_another_instance_leads)
{
	struct it_bill_daemon d;
	struct it_bill_run run_once = {0};
	struct it_bill_env env;

	it_bill_env_init(&env);
	it_bill_start(7, &env, &d);
	usleep(500 * 1000); /* its first tick took the lock */
	ck_assert_int_eq(it_bill_once(&env, 20000, &run_once), 0);
	ck_assert_msg(run_once.exit_code == 3, "--once exited %d:\n%s", run_once.exit_code,
	              run_once.output);
	ck_assert_ptr_nonnull(strstr(run_once.output, "another instance holds the leader lock"));
	it_bill_run_free(&run_once);
	it_bill_stop_ok(&d, 10000);
	/* once the leader is gone, --once leads */
	ck_assert_int_eq(it_bill_once(&env, 20000, &run_once), 0);
	ck_assert_int_eq(run_once.exit_code, 0);
	it_bill_run_free(&run_once);
}
END_TEST

Suite *billing_ops_suite(void)
{
	Suite *s = suite_create("billing_ops");
	TCase *tc = tcase_create("billing_ops");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, help_lists_the_options_and_bad_settings_stop_it);
	tcase_add_test(tc, dry_run_lists_what_is_due_and_changes_nothing);
	tcase_add_test(tc, health_ready_and_metrics);
	tcase_add_test(tc, systemd_notify_ready_watchdog_stopping);
	tcase_add_test(tc, once_refuses_while_another_instance_leads);
	suite_add_tcase(s, tc);
	return s;
}
