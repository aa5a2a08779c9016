/* api: starting and stopping pillivery-api and the private services, see it.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

extern char **environ;

#define ENV_MAX 512

const char *it_getenv(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

int it_api_port(void)
{
	const char *v = it_getenv("PV_IT_API_PORT");
	long p = v ? strtol(v, NULL, 10) : 0;
	return p > 0 && p < 65536 ? (int)p : 18280;
}

const char *it_var(void)
{
	const char *v = it_getenv("PV_IT_VAR");
	return v ? v : "var/test";
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void api_bin(char *out, size_t n)
{
	it_bin_path(out, n, "pillivery-api");
}

static void var_path(char *out, size_t n, const char *file)
{
	snprintf(out, n, "%s/%s", it_var(), file);
}

char *it_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;
		if (n + 4096 + 1 > cap) {
			char *b;
			cap = cap ? cap * 2 : 8192;
			b = realloc(buf, cap);
			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
		if (got < 4096)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

void it_api_log_tail(int lines)
{
	char path[512];
	size_t len = 0;
	char *text;
	const char *p;
	int seen = 0;

	var_path(path, sizeof(path), "api.log");
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
	fprintf(stderr, "it: ---- last %d lines of %s ----\n%s%s---- end of log ----\n", lines,
		path, p, len && text[len - 1] != '\n' ? "\n" : "");
	free(text);
}

/* ---- environment ----------------------------------------------------------------------------- */

struct envlist {
	char *v[ENV_MAX];
	size_t n;
};

static void env_release(struct envlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	e->n = 0;
}

/* "NAME=value" sets, "NAME" unsets. */
static int env_put(struct envlist *e, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t nlen = eq ? (size_t)(eq - kv) : strlen(kv);

	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], kv, nlen) == 0 && e->v[i][nlen] == '=') {
			free(e->v[i]);
			e->v[i] = e->v[--e->n];
			break;
		}
	}
	if (!eq)
		return 0;
	if (e->n + 1 >= ENV_MAX)
		return -1;
	e->v[e->n] = strdup(kv);
	if (!e->v[e->n])
		return -1;
	e->n++;
	return 0;
}

static int env_build(struct envlist *e, const char *const *extra)
{
	char kv[256];

	e->n = 0;
	for (char **p = environ; *p; p++)
		if (env_put(e, *p))
			goto fail;
	snprintf(kv, sizeof(kv), "PV_API_PORT=%d", it_api_port());
	if (env_put(e, kv) || env_put(e, "PV_API_BIND=127.0.0.1") ||
	    env_put(e, "PV_JWT_SECRET=" IT_JWT_SECRET) ||
	    env_put(e, "PV_JWT_ISSUER=" IT_JWT_ISSUER) ||
	    env_put(e, "PV_TRUSTED_PROXIES=127.0.0.1") ||
	    env_put(e, "PV_CORS_ALLOWED_ORIGINS=" IT_ORIGIN_LOCAL "," IT_ORIGIN_SHOP) ||
	    env_put(e, "PV_PROFILE=" IT_PROFILE) || env_put(e, "PV_LOG_LEVEL=info"))
		goto fail;
	for (size_t i = 0; extra && extra[i]; i++)
		if (env_put(e, extra[i]))
			goto fail;
	e->v[e->n] = NULL;
	return 0;
fail:
	env_release(e);
	return -1;
}

/* ---- processes ------------------------------------------------------------------------------- */

void it_bin_path(char *out, size_t n, const char *name)
{
	const char *dir = it_getenv("PV_IT_BIN_DIR");
	snprintf(out, n, "%s/%s", dir ? dir : "build/bin", name);
}

/*
 * fork + exec of path with args; stdout and stderr go to out_path (appended or truncated). The
 * child gets its own process group, so Check's killpg of a finished test's group never reaches
 * a daemon that the test started.
 */
pid_t it_spawn(const char *path, const char *const *args, const char *const *extra_env,
	       const char *out_path, unsigned flags)
{
	struct envlist env;
	const char *argv[32];
	size_t n = 0;
	pid_t pid, parent = getpid();

	if (strchr(path, '/') && access(path, X_OK) != 0) {
		fprintf(stderr, "it: %s is not an executable (%s); was it built?\n", path,
			strerror(errno));
		return -1;
	}
	argv[n++] = path;
	for (size_t i = 0; args && args[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (env_build(&env, extra_env)) {
		fprintf(stderr, "it: out of memory building the environment\n");
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "it: fork: %s\n", strerror(errno));
		env_release(&env);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		int fd, devnull;
		setpgid(0, 0);
		if ((flags & IT_SPAWN_DIE_WITH_PARENT) &&
		    (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
			_exit(126);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		fd = open(out_path,
			  O_WRONLY | O_CREAT | ((flags & IT_SPAWN_APPEND) ? O_APPEND : O_TRUNC) |
			      O_CLOEXEC,
			  0644);
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (devnull >= 0)
			dup2(devnull, 0);
		if (strchr(path, '/'))
			execve(path, (char *const *)argv, env.v);
		else
			execvpe(path, (char *const *)argv, env.v);
		dprintf(2, "it: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	env_release(&env);
	return pid;
}

/* pillivery-api with args, output to out_path. */
static pid_t spawn_api(const char *const *args, const char *const *extra_env, const char *out_path,
		       bool append)
{
	char bin[512];

	api_bin(bin, sizeof(bin));
	return it_spawn(bin, args, extra_env, out_path, append ? IT_SPAWN_APPEND : 0);
}

void it_describe_status(char *out, size_t n, int st)
{
	if (st < 0)
		snprintf(out, n, "status unknown");
	else if (WIFEXITED(st))
		snprintf(out, n, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(out, n, "wait status 0x%x", st);
}

/* true when pid no longer runs (gone, or a zombie that is not ours to reap). */
static bool proc_gone(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	const char *rp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return !rp || (rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

int it_wait_end(pid_t pid, int timeout_ms, int *status)
{
	double deadline = mono_now() + timeout_ms / 1000.0;
	*status = -1;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			*status = st;
			return 1;
		}
		if (r < 0 && errno == ECHILD && proc_gone(pid))
			return 1;
		if (mono_now() > deadline)
			return 0;
		sleep_ms(20);
	}
}

int it_proc_stop(pid_t pid, int timeout_ms, int *status)
{
	int st = -1;

	if (status)
		*status = -1;
	if (pid <= 0)
		return -1;
	if (kill(pid, SIGTERM) != 0 && errno == ESRCH) {
		it_wait_end(pid, 100, &st); /* reap it if it is our zombie */
		if (status)
			*status = st;
		return 0;
	}
	if (it_wait_end(pid, timeout_ms, &st)) {
		if (status)
			*status = st;
		return 0;
	}
	kill(pid, SIGKILL);
	it_wait_end(pid, 5000, &st);
	if (status)
		*status = st;
	return -1;
}

int it_run(const char *path, const char *const *args, const char *const *extra_env,
	   int timeout_ms, int *status, char **output)
{
	char out[512];
	pid_t pid;
	int rc = 0;

	*status = -1;
	*output = NULL;
	snprintf(out, sizeof(out), "%s/run-%ld-%llu.out", it_var(), (long)getpid(),
		 (unsigned long long)it_seq());
	pid = it_spawn(path, args, extra_env, out, IT_SPAWN_DIE_WITH_PARENT);
	if (pid < 0)
		return -1;
	if (!it_wait_end(pid, timeout_ms, status)) {
		it_proc_stop(pid, 2000, status);
		rc = 1;
	}
	*output = it_read_file(out, NULL);
	if (!*output)
		*output = strdup("");
	unlink(out);
	return rc;
}

int it_run_api(const char *const *args, const char *const *extra_env, int timeout_ms, int *status,
	       char **output)
{
	char bin[512];

	api_bin(bin, sizeof(bin));
	return it_run(bin, args, extra_env, timeout_ms, status, output);
}

static bool health_ok(int port, int timeout_ms)
{
	struct it_resp r = IT_RESP_INIT;
	bool ok = it_http_to(port, timeout_ms, "GET", "/health", NULL, NULL, 0, &r) == 0 &&
		  r.status == 200;
	it_resp_free(&r);
	return ok;
}

bool it_api_alive(void)
{
	return health_ok(it_api_port(), 2000);
}

/* Waits for /health 200 on port while pid runs; 0 or -1 (after printing why). */
static int wait_health(pid_t pid, int port, int timeout_ms)
{
	double deadline = mono_now() + timeout_ms / 1000.0;
	char what[128];

	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			it_describe_status(what, sizeof(what), st);
			fprintf(stderr,
				"it: pillivery-api (pid %ld) ended (%s) before GET /health "
				"answered 200 on port %d\n",
				(long)pid, what, port);
			return -1;
		}
		if (health_ok(port, 1000))
			return 0;
		if (mono_now() > deadline) {
			fprintf(stderr,
				"it: pillivery-api (pid %ld) did not answer GET /health 200 on "
				"port %d within %d s\n",
				(long)pid, port, timeout_ms / 1000);
			return -1;
		}
		sleep_ms(100);
	}
}

static int write_pid(pid_t pid)
{
	char path[512], tmp[520];
	FILE *f;

	var_path(path, sizeof(path), "api.pid");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)pid);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static pid_t read_pid(void)
{
	char path[512];
	char *text;
	long pid;

	var_path(path, sizeof(path), "api.pid");
	text = it_read_file(path, NULL);
	if (!text)
		return -1;
	pid = strtol(text, NULL, 10);
	free(text);
	return pid > 0 ? (pid_t)pid : -1;
}

int it_api_migrate(void)
{
	const char *args[] = {"--migrate", NULL};
	char log[512], what[128];
	pid_t pid;
	int st;

	var_path(log, sizeof(log), "api.log");
	pid = spawn_api(args, NULL, log, true);
	if (pid < 0)
		return -1;
	if (!it_wait_end(pid, 120000, &st)) {
		it_proc_stop(pid, 2000, &st);
		fprintf(stderr, "it: pillivery-api --migrate did not finish within 120 s\n");
		it_api_log_tail(40);
		return -1;
	}
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		it_describe_status(what, sizeof(what), st);
		fprintf(stderr, "it: pillivery-api --migrate failed (%s)\n", what);
		it_api_log_tail(40);
		return -1;
	}
	return 0;
}

int it_api_start(void)
{
	char log[512];
	pid_t pid;

	var_path(log, sizeof(log), "api.log");
	pid = spawn_api(NULL, NULL, log, true);
	if (pid < 0)
		return -1;
	if (write_pid(pid) != 0)
		fprintf(stderr, "it: could not write %s/api.pid: %s\n", it_var(), strerror(errno));
	if (wait_health(pid, it_api_port(), 20000) != 0) {
		int st;
		it_api_log_tail(40);
		it_proc_stop(pid, 2000, &st);
		return -1;
	}
	return 0;
}

int it_api_stop(int *exit_status)
{
	char path[512], what[128];
	pid_t pid = read_pid();
	int st = -1, rc;

	if (exit_status)
		*exit_status = -1;
	if (pid < 0)
		return 0;
	rc = it_proc_stop(pid, 10000, &st);
	var_path(path, sizeof(path), "api.pid");
	unlink(path);
	if (exit_status)
		*exit_status = st;
	if (rc != 0) {
		fprintf(stderr,
			"it: pillivery-api (pid %ld) did not exit within 10 s of SIGTERM; "
			"killed\n",
			(long)pid);
		it_api_log_tail(40);
		return -1;
	}
	if (st >= 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		it_describe_status(what, sizeof(what), st);
		fprintf(stderr, "it: pillivery-api (pid %ld) ended with %s after SIGTERM\n",
			(long)pid, what);
	}
	return 0;
}

int it_api_restart(void)
{
	int st;

	if (it_api_stop(&st) != 0)
		return -1;
	if (st >= 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		it_api_log_tail(40);
		return -1;
	}
	return it_api_start();
}

pid_t it_api_spawn(const char *const *args, const char *const *extra_env, int port)
{
	char log[512];
	pid_t pid;

	var_path(log, sizeof(log), "api.log");
	pid = spawn_api(args, extra_env, log, true);
	if (pid < 0)
		return -1;
	if (wait_health(pid, port, 20000) != 0) {
		int st;
		it_api_log_tail(40);
		it_proc_stop(pid, 2000, &st);
		return -1;
	}
	return pid;
}

int it_services(const char *verb)
{
	const char *script = it_getenv("PV_IT_SERVICES");
	const char *port = NULL;
	char log[512];
	pid_t pid;
	int st;

	if (!script) {
		fprintf(stderr, "it: PV_IT_SERVICES is not set\n");
		return -1;
	}
	if (strcmp(verb, "start-db") == 0)
		port = it_getenv("PV_IT_DB_PORT");
	else if (strcmp(verb, "start-redis") == 0)
		port = it_getenv("PV_IT_REDIS_PORT");
	var_path(log, sizeof(log), "services.log");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		setenv("PV_DB_FLUSH", "2", 0);
		execlp("bash", "bash", script, verb, it_var(), port, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "it: services.sh %s failed (see %s)\n", verb, log);
		return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	return 0;
}
