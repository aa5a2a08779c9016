/*
 * redis_test: the hiredis handle against a real server (PV_REDIS_HOST, PV_REDIS_PORT):
 * commands, error replies, reconnects, script caching, dead servers. Keys of each test
 * start with pvtest:<pid>: and are deleted afterwards.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/redis.h"
#include "common/banned.h"

static char prefix[64];
static struct redis *r;

static struct redis_config test_config(void)
{
	const char *host = getenv("PV_REDIS_HOST");
	const char *port = getenv("PV_REDIS_PORT");
	struct redis_config cfg = {
	    .host = host && *host ? host : "127.0.0.1",
	    .port = port && *port ? (int)strtol(port, NULL, 10) : 6379,
	    .timeout_ms = 2000,
	    .prefix = prefix,
	};
	return cfg;
}

static struct redis *open_redis(void)
{
	struct redis_config cfg = test_config();
	struct redis *h = redis_new(&cfg);

	ck_assert_ptr_nonnull(h);
	ck_assert_msg(redis_ping(h) == 0, "Redis at %s:%d unreachable: %s", cfg.host, cfg.port,
	              redis_last_error(h));
	return h;
}

static const char SCRIPT_DEL_PREFIX[] =
    "for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do redis.call('DEL', k) end\n"
    "return 0\n";

static void setup(void)
{
	snprintf(prefix, sizeof(prefix), "pvtest:%ld:", (long)getpid());
	r = open_redis();
}

static void teardown(void)
{
	const char *argv[] = {prefix};

	if (r) {
		redis_eval(r, NULL, SCRIPT_DEL_PREFIX, 0, 1, argv);
		redis_free(r);
		r = NULL;
	}
}

static long long client_id(struct redis *h)
{
	redisReply *rep = NULL;
	long long id;

	ck_assert_int_eq(redis_cmd(h, &rep, "CLIENT ID"), 0);
	ck_assert_int_eq(rep->type, REDIS_REPLY_INTEGER);
	id = rep->integer;
	freeReplyObject(rep);
	return id;
}

static long long script_loads(struct redis *h)
{
	redisReply *rep = NULL;
	const char *p;
	long long n = 0;

	ck_assert_int_eq(redis_cmd(h, &rep, "INFO commandstats"), 0);
	p = strstr(rep->str, "cmdstat_script|load:calls=");
	if (p)
		n = strtoll(p + strlen("cmdstat_script|load:calls="), NULL, 10);
	freeReplyObject(rep);
	return n;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_commands_and_replies)
{
	char key[128];
	const char bin[] = {'a', '\0', 'b', '\r', '\n'};
	const char *argv[3];
	size_t lens[3];
	redisReply *rep = NULL;

	ck_assert_str_eq(redis_prefix(r), prefix);
	snprintf(key, sizeof(key), "%sk1", prefix);
	ck_assert_int_eq(redis_cmd(r, NULL, "SET %s %b", key, bin, sizeof(bin)), 0);
	ck_assert_int_eq(redis_cmd(r, &rep, "GET %s", key), 0);
	ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
	ck_assert_uint_eq(rep->len, sizeof(bin));
	ck_assert_mem_eq(rep->str, bin, sizeof(bin));
	freeReplyObject(rep);

	snprintf(key, sizeof(key), "%sk2", prefix);
	argv[0] = "INCRBY";
	argv[1] = key;
	argv[2] = "41";
	lens[0] = 6;
	lens[1] = strlen(key);
	lens[2] = 2;
	ck_assert_int_eq(redis_cmdv(r, NULL, 3, argv, lens), 0);
	ck_assert_int_eq(redis_cmdv(r, &rep, 3, argv, NULL), 0);
	ck_assert_int_eq(rep->type, REDIS_REPLY_INTEGER);
	ck_assert_int_eq(rep->integer, 82);
	freeReplyObject(rep);

	rep = NULL;
	ck_assert_int_eq(redis_cmd(r, &rep, "GET %snothing", prefix), 0);
	ck_assert_int_eq(rep->type, REDIS_REPLY_NIL);
	freeReplyObject(rep);
}
END_TEST

START_TEST(test_error_reply_is_internal)
{
	char key[128];
	redisReply *rep = NULL;

	snprintf(key, sizeof(key), "%sstr", prefix);
	ck_assert_int_eq(redis_cmd(r, NULL, "SET %s abc", key), 0);
	ck_assert_int_eq(redis_cmd(r, &rep, "INCR %s", key), -E_INTERNAL_ERROR);
	ck_assert_ptr_null(rep); /* freed, not handed out */
	ck_assert_ptr_nonnull(strstr(redis_last_error(r), "ERR"));
	ck_assert_int_eq(redis_cmd(r, NULL, "NOSUCHCOMMAND"), -E_INTERNAL_ERROR);
	/* The connection is still good. */
	ck_assert_int_eq(redis_ping(r), 0);
}
END_TEST

START_TEST(test_reconnect_after_client_kill)
{
	struct redis *killer = open_redis();
	long long id = client_id(r);

	ck_assert_int_eq(redis_cmd(killer, NULL, "CLIENT KILL ID %lld", id), 0);
	ck_assert_int_eq(redis_ping(r), -E_SERVICE_UNAVAILABLE);
	/* The connection was good before: the next call reconnects at once. */
	ck_assert_int_eq(redis_ping(r), 0);
	ck_assert_int_ne(client_id(r), id);
	redis_free(killer);
}
END_TEST

static const char SCRIPT_CONCAT[] = "return KEYS[1] .. ':' .. ARGV[1]";
static const char SCRIPT_FAILS[] = "return redis.error_reply('boom')";

START_TEST(test_eval_caches_and_recovers_from_script_flush)
{
	struct redis *admin = open_redis();
	const char *argv[] = {"k", "v"};
	redisReply *rep = NULL;
	long long loads = script_loads(admin);

	for (int i = 0; i < 5; i++) {
		rep = NULL;
		ck_assert_int_eq(redis_eval(r, &rep, SCRIPT_CONCAT, 1, 2, argv), 0);
		ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
		ck_assert_str_eq(rep->str, "k:v");
		freeReplyObject(rep);
	}
	ck_assert_int_eq(script_loads(admin) - loads, 1);

	ck_assert_int_eq(redis_cmd(admin, NULL, "SCRIPT FLUSH"), 0);
	rep = NULL;
	ck_assert_int_eq(redis_eval(r, &rep, SCRIPT_CONCAT, 1, 2, argv), 0);
	ck_assert_str_eq(rep->str, "k:v");
	freeReplyObject(rep);
	ck_assert_int_eq(script_loads(admin) - loads, 2);

	/* A reconnect forgets the cache (the server may be another one). */
	ck_assert_int_eq(redis_cmd(admin, NULL, "CLIENT KILL ID %lld", client_id(r)), 0);
	ck_assert_int_eq(redis_eval(r, NULL, SCRIPT_CONCAT, 1, 2, argv), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_eq(redis_eval(r, NULL, SCRIPT_CONCAT, 1, 2, argv), 0);
	ck_assert_int_eq(script_loads(admin) - loads, 3);

	/* Script errors and bad counts. */
	rep = NULL;
	ck_assert_int_eq(redis_eval(r, &rep, SCRIPT_FAILS, 0, 0, NULL), -E_INTERNAL_ERROR);
	ck_assert_ptr_null(rep);
	ck_assert_ptr_nonnull(strstr(redis_last_error(r), "boom"));
	ck_assert_int_eq(redis_eval(r, NULL, SCRIPT_CONCAT, 3, 2, argv), -E_INTERNAL_ERROR);
	ck_assert_int_eq(redis_ping(r), 0);
	redis_free(admin);
}
END_TEST

static int listen_fd(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	return fd;
}

static int port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

START_TEST(test_dead_server_fails_fast_and_is_throttled)
{
	struct redis_config cfg = test_config();
	struct redis *h;
	int fd = listen_fd(0), port = port_of(fd);
	int64_t t0;

	close(fd); /* nothing listens there now */
	cfg.port = port;
	cfg.timeout_ms = 500;
	h = redis_new(&cfg);
	ck_assert_ptr_nonnull(h);
	t0 = mono_ms();
	ck_assert_int_eq(redis_ping(h), -E_SERVICE_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(redis_last_error(h), "connect"));

	/* Something now accepts connections there but never answers. Within 250 ms of the
	 * failed attempt no new attempt is made, so the call does not wait for the timeout. */
	fd = listen_fd(port);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(redis_ping(h), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_lt(mono_ms() - t0, 250);

	/* Later a new attempt connects, and the command times out. */
	usleep(300 * 1000);
	t0 = mono_ms();
	ck_assert_int_eq(redis_ping(h), -E_SERVICE_UNAVAILABLE);
	ck_assert_int_ge(mono_ms() - t0, 450);
	ck_assert_int_lt(mono_ms() - t0, 3000);
	close(fd);
	redis_free(h);
}
END_TEST

START_TEST(test_auth_failure_is_unavailable_and_secret_free)
{
	struct redis_config cfg = test_config();
	struct redis *h;

	cfg.password = "not-the-password-123";
	h = redis_new(&cfg);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(redis_ping(h), -E_SERVICE_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(redis_last_error(h), "auth"));
	ck_assert_ptr_null(strstr(redis_last_error(h), "not-the-password-123"));
	redis_free(h);
	redis_free(NULL);
}
END_TEST

Suite *redis_suite(void)
{
	Suite *s = suite_create("redis");
	TCase *tc = tcase_create("redis");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_commands_and_replies);
	tcase_add_test(tc, test_error_reply_is_internal);
	tcase_add_test(tc, test_reconnect_after_client_kill);
	tcase_add_test(tc, test_eval_caches_and_recovers_from_script_flush);
	tcase_add_test(tc, test_dead_server_fails_fast_and_is_throttled);
	tcase_add_test(tc, test_auth_failure_is_unavailable_and_secret_free);
	suite_add_tcase(s, tc);
	return s;
}
