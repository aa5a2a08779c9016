/*
 * Integration test runner: starts the fake Kakao Pay server (tests/fakes/kakaopay, on
 * 127.0.0.1:$PV_IT_API_PORT+10, log $PV_IT_VAR/fakepay.log; the daemon gets
 * PV_KAKAOPAY_BASE_URL and PV_KAKAOPAY_SECRET_KEY pointing at it), applies the schema
 * (pillivery-api --migrate), starts the real daemon against the private MariaDB and Redis of
 * tests/lib/check.sh, runs every Check suite of tests/it/NN_*_test.c (collected by
 * tools/suites.sh) in one SRunner, then stops the daemon with SIGTERM and requires a clean exit
 * 0 within 10 s, and the same of the fake.
 *
 *   it-tests                                       all suites
 *   CK_RUN_SUITE=login it-tests, CK_RUN_CASE=...   Check's own filters
 *
 * Environment (exported by check.sh): PV_IT_BIN_DIR, PV_IT_VAR, PV_IT_API_PORT,
 * PV_IT_SERVICES, PV_IT_DB_PORT, PV_IT_REDIS_PORT and the PV_DB_* / PV_REDIS_* settings.
 * The daemon's output is appended to $PV_IT_VAR/api.log, its pid is in $PV_IT_VAR/api.pid.
 *
 * This process is a child subreaper, so a daemon that a test restarted (in Check's forked
 * test process) becomes our child when that test ends, and its exit status can be checked.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

#include "common/db.h"
#include "tests/lib/runner.h"
#include "tests/it/lib/it.h"
#include "tests/it/lib/fakepay.h"
#include "common/banned.h"

extern Suite *(*const test_suites[])(void);

static pid_t main_pid;
static char pid_path[512];
static volatile pid_t fake_pid = -1;

/* SIGINT/SIGTERM of the runner: stop the daemon too (async-signal-safe calls only). */
static void on_signal(int sig)
{
	char buf[32];
	ssize_t n;
	long pid = 0;
	int fd;

	if (getpid() == main_pid) {
		fd = open(pid_path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
				pid = pid * 10 + (buf[i] - '0');
			if (pid > 0)
				kill((pid_t)pid, SIGTERM);
		}
		if (fake_pid > 0)
			kill(fake_pid, SIGTERM);
	}
	_exit(128 + sig);
}

static bool port_in_use(int port)
{
	struct sockaddr_in sa = {0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	used = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return used;
}

static int check_env(void)
{
	static const char *const need[] = {"PV_IT_BIN_DIR",  "PV_IT_VAR",     "PV_IT_API_PORT",
					   "PV_IT_SERVICES", "PV_DB_HOST",    "PV_DB_PORT",
					   "PV_REDIS_HOST",  "PV_REDIS_PORT", NULL};
	int missing = 0;
	for (size_t i = 0; need[i]; i++) {
		if (!it_getenv(need[i])) {
			fprintf(stderr, "it-tests: %s is not set\n", need[i]);
			missing = 1;
		}
	}
	if (missing)
		fprintf(stderr,
			"it-tests: run through `make it` or `make check` (tests/lib/check.sh), "
			"which start MariaDB and Redis and set these\n");
	return missing ? -1 : 0;
}

int main(void)
{
	struct sigaction sa = {0};
	int rc, st = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	main_pid = getpid();
	if (check_env())
		return 2;
	snprintf(pid_path, sizeof(pid_path), "%s/api.pid", it_var());
	it_init();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		fprintf(stderr,
			"it-tests: PR_SET_CHILD_SUBREAPER: %s (a daemon restarted by a test "
			"cannot be checked at the end)\n",
			strerror(errno));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (curl_global_init(CURL_GLOBAL_ALL) != 0) {
		fprintf(stderr, "it-tests: curl_global_init failed\n");
		return 2;
	}
	if (db_library_init() != 0) {
		fprintf(stderr, "it-tests: db_library_init failed\n");
		return 2;
	}
	if (port_in_use(it_api_port())) {
		fprintf(stderr,
			"it-tests: port %d is already in use (a stale pillivery-api? see "
			"%s); set PV_TEST_API_PORT to another port\n",
			it_api_port(), pid_path);
		return 2;
	}

	if (port_in_use(it_fp_port())) {
		fprintf(stderr, "it-tests: port %d (the fake Kakao Pay) is already in use\n",
			it_fp_port());
		return 2;
	}
	printf("it-tests: starting fake-kakaopay on 127.0.0.1:%d (log: %s/fakepay.log)\n",
	       it_fp_port(), it_var());
	fake_pid = it_fp_start();
	if (fake_pid < 0) {
		fprintf(stderr, "it-tests: fake-kakaopay did not start; no test was run\n");
		return 1;
	}
	{
		char url[64];
		snprintf(url, sizeof(url), "http://127.0.0.1:%d", it_fp_port());
		setenv("PV_KAKAOPAY_BASE_URL", url, 1);
		setenv("PV_KAKAOPAY_SECRET_KEY", IT_FP_KEY, 1);
	}

	printf("it-tests: pillivery-api --migrate\n");
	if (it_api_migrate() != 0) {
		fprintf(stderr, "it-tests: the schema could not be applied; no test was run\n");
		it_fp_stop(fake_pid, NULL);
		return 1;
	}
	printf("it-tests: starting pillivery-api on 127.0.0.1:%d (log: %s/api.log)\n",
	       it_api_port(), it_var());
	if (it_api_start() != 0) {
		fprintf(stderr, "it-tests: pillivery-api did not start; no test was run\n");
		it_fp_stop(fake_pid, NULL);
		return 1;
	}

	rc = runner_run_all(test_suites);

	if (!it_api_alive())
		fprintf(stderr, "it-tests: pillivery-api no longer answered GET /health after the "
				"tests\n");
	if (it_api_stop(&st) != 0) {
		fprintf(stderr,
			"it-tests: FAIL: pillivery-api did not stop within 10 s of SIGTERM\n");
		rc = EXIT_FAILURE;
	} else if (st < 0) {
		fprintf(stderr, "it-tests: FAIL: the exit status of pillivery-api is unknown (not "
				"our child)\n");
		rc = EXIT_FAILURE;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			fprintf(stderr,
				"it-tests: FAIL: pillivery-api was killed by signal %d (%s) "
				"after SIGTERM\n",
				WTERMSIG(st), strsignal(WTERMSIG(st)));
		else
			fprintf(stderr,
				"it-tests: FAIL: pillivery-api exited with status %d after "
				"SIGTERM (expected 0)\n",
				WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		it_api_log_tail(20);
		rc = EXIT_FAILURE;
	} else {
		printf("it-tests: pillivery-api stopped cleanly (exit 0)\n");
	}
	if (it_fp_stop(fake_pid, &st) != 0) {
		fprintf(stderr,
			"it-tests: FAIL: fake-kakaopay did not stop within 10 s of SIGTERM\n");
		rc = EXIT_FAILURE;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "it-tests: FAIL: fake-kakaopay ended with wait status %d after "
				"SIGTERM (expected exit 0; see %s/fakepay.log)\n",
			st, it_var());
		rc = EXIT_FAILURE;
	} else {
		printf("it-tests: fake-kakaopay stopped cleanly (exit 0)\n");
	}
	fake_pid = -1;
	/* Reap daemons that tests stopped and that were handed to us. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	db_library_end();
	curl_global_cleanup();
	return rc;
}
