/* redis: see redis.h. */
#include "common/redis.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/err.h"
#include "common/banned.h"

#define REDIS_RETRY_MS      250  /* at most one connect attempt per this after a failure */
#define REDIS_IDLE_CHECK_MS 1000 /* PING a connection idle longer than this before use */
#define REDIS_TIMEOUT_MS    1000 /* default command and connect timeout */
#define REDIS_SCRIPTS_MAX   32   /* cached script SHA1s per handle */
#define REDIS_EVAL_ARGS_MAX 64   /* keys + args of one redis_eval */
#define REDIS_ERR_MAX       256
#define REDIS_SHA_LEN       40

struct redis_script {
	const char *script; /* key: the caller's pointer */
	char sha[REDIS_SHA_LEN + 1];
};

/* monotonic time of the last successful connect of any handle (process-wide) */
static _Atomic int64_t last_connect_ok_ms;

struct redis {
	char *host;
	int port;
	char *password;
	char *prefix;
	int timeout_ms;

	redisContext *c;      /* NULL while disconnected */
	int64_t last_used_ms; /* monotonic time of the last use of c */
	bool failed;          /* the last connect attempt failed ... */
	int64_t failed_ms;    /* ... at this monotonic time */
	struct redis_script scripts[REDIS_SCRIPTS_MAX];
	size_t nscripts;
	size_t next_evict;
	char last_error[REDIS_ERR_MAX];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct redis *redis_new(const struct redis_config *cfg)
{
	struct redis *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->host = strdup(cfg->host ? cfg->host : "127.0.0.1");
	r->port = cfg->port > 0 ? cfg->port : 6379;
	r->password = cfg->password && *cfg->password ? strdup(cfg->password) : NULL;
	r->prefix = strdup(cfg->prefix ? cfg->prefix : "pv:");
	r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : REDIS_TIMEOUT_MS;
	if (!r->host || !r->prefix || (cfg->password && *cfg->password && !r->password)) {
		redis_free(r);
		return NULL;
	}
	return r;
}

static void redis_drop(struct redis *r)
{
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
	r->nscripts = 0;
	r->next_evict = 0;
}

void redis_free(struct redis *r)
{
	if (!r)
		return;
	redis_drop(r);
	if (r->password) {
		memset(r->password, 0, strlen(r->password));
		free(r->password);
	}
	free(r->host);
	free(r->prefix);
	free(r);
}

const char *redis_prefix(const struct redis *r)
{
	return r->prefix;
}

const char *redis_last_error(const struct redis *r)
{
	return r->last_error;
}

static int fail_io(struct redis *r, const char *what)
{
	snprintf(r->last_error, sizeof(r->last_error), "%s: %s", what,
	         r->c && r->c->errstr[0] ? r->c->errstr : "no reply");
	redis_drop(r);
	return -E_SERVICE_UNAVAILABLE;
}

static int redis_connect(struct redis *r)
{
	struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
	int64_t now = mono_ms();
	redisReply *reply;

	if (r->c) {
		/*
		 * A connection idle for a while may have died with a server restart: PING it
		 * before use so the first command after an outage does not fail on a stale socket.
		 */
		if (now - r->last_used_ms <= REDIS_IDLE_CHECK_MS) {
			r->last_used_ms = now;
			return 0;
		}
		reply = redisCommand(r->c, "PING");
		if (reply && reply->type == REDIS_REPLY_STATUS) {
			freeReplyObject(reply);
			r->last_used_ms = now;
			return 0;
		}
		if (reply)
			freeReplyObject(reply);
		redis_drop(r);
	}
	/* after a failed attempt, wait a little before the next one, unless another thread
	 * has connected since (the server is back: no reason to keep failing here) */
	if (r->failed && now - r->failed_ms < REDIS_RETRY_MS &&
	    atomic_load(&last_connect_ok_ms) <= r->failed_ms)
		return -E_SERVICE_UNAVAILABLE; /* last_error still says why */
	r->failed = true;
	r->failed_ms = now;
	r->c = redisConnectWithTimeout(r->host, r->port, tv);
	if (!r->c || r->c->err)
		return fail_io(r, "connect");
	if (redisSetTimeout(r->c, tv) != REDIS_OK)
		return fail_io(r, "set timeout");
	if (r->password) {
		reply = redisCommand(r->c, "AUTH %s", r->password);
		if (!reply)
			return fail_io(r, "auth");
		if (reply->type == REDIS_REPLY_ERROR) {
			snprintf(r->last_error, sizeof(r->last_error), "auth: %s", reply->str);
			freeReplyObject(reply);
			redis_drop(r);
			return -E_SERVICE_UNAVAILABLE;
		}
		freeReplyObject(reply);
	}
	r->failed = false;
	r->last_used_ms = now;
	atomic_store(&last_connect_ok_ms, mono_ms());
	return 0;
}

/*
 * Takes a reply from hiredis (NULL on I/O error). Error replies are kept in last_error and,
 * when keep_error is set, handed back like any other reply with -E_INTERNAL_ERROR.
 */
static int take_reply(struct redis *r, redisReply *reply, redisReply **out, bool keep_error)
{
	if (!reply)
		return fail_io(r, "command");
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(r->last_error, sizeof(r->last_error), "%s", reply->str ? reply->str : "");
		if (keep_error && out)
			*out = reply;
		else
			freeReplyObject(reply);
		return -E_INTERNAL_ERROR;
	}
	if (out)
		*out = reply;
	else
		freeReplyObject(reply);
	return 0;
}

int redis_ping(struct redis *r)
{
	redisReply *reply = NULL;
	int rc = redis_cmd(r, &reply, "PING");

	if (rc)
		return rc;
	rc = reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0
	         ? 0
	         : -E_INTERNAL_ERROR;
	freeReplyObject(reply);
	return rc;
}

int redis_cmd(struct redis *r, redisReply **out, const char *fmt, ...)
{
	va_list ap;
	redisReply *reply;
	int rc = redis_connect(r);

	if (rc)
		return rc;
	va_start(ap, fmt);
	reply = redisvCommand(r->c, fmt, ap);
	va_end(ap);
	return take_reply(r, reply, out, false);
}

int redis_cmdv(struct redis *r, redisReply **out, int argc, const char **argv,
               const size_t *argvlen)
{
	int rc = redis_connect(r);

	if (rc)
		return rc;
	return take_reply(r, redisCommandArgv(r->c, argc, argv, argvlen), out, false);
}

static struct redis_script *script_find(struct redis *r, const char *script)
{
	for (size_t i = 0; i < r->nscripts; i++)
		if (r->scripts[i].script == script)
			return &r->scripts[i];
	return NULL;
}

/* SCRIPT LOAD, caching the SHA1 for this connection. */
static int script_load(struct redis *r, const char *script, struct redis_script **out)
{
	struct redis_script *s = script_find(r, script);
	redisReply *reply = NULL;
	int rc;

	rc = take_reply(r, redisCommand(r->c, "SCRIPT LOAD %s", script), &reply, false);
	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_STRING || reply->len != REDIS_SHA_LEN) {
		freeReplyObject(reply);
		snprintf(r->last_error, sizeof(r->last_error), "SCRIPT LOAD: unexpected reply");
		return -E_INTERNAL_ERROR;
	}
	if (!s) {
		if (r->nscripts < REDIS_SCRIPTS_MAX) {
			s = &r->scripts[r->nscripts++];
		} else {
			s = &r->scripts[r->next_evict];
			r->next_evict = (r->next_evict + 1) % REDIS_SCRIPTS_MAX;
		}
	}
	s->script = script;
	memcpy(s->sha, reply->str, REDIS_SHA_LEN);
	s->sha[REDIS_SHA_LEN] = '\0';
	freeReplyObject(reply);
	*out = s;
	return 0;
}

int redis_eval(struct redis *r, redisReply **out, const char *script, int nkeys, int argc,
               const char **argv)
{
	const char *args[REDIS_EVAL_ARGS_MAX + 3];
	char nkeys_s[16];
	struct redis_script *s;
	redisReply *reply = NULL;
	int rc;

	if (nkeys < 0 || argc < nkeys || argc > REDIS_EVAL_ARGS_MAX) {
		snprintf(r->last_error, sizeof(r->last_error), "redis_eval: bad argument count");
		return -E_INTERNAL_ERROR;
	}
	rc = redis_connect(r);
	if (rc)
		return rc;
	s = script_find(r, script);
	if (!s) {
		rc = script_load(r, script, &s);
		if (rc)
			return rc;
	}
	snprintf(nkeys_s, sizeof(nkeys_s), "%d", nkeys);
	args[0] = "EVALSHA";
	args[2] = nkeys_s;
	for (int i = 0; i < argc; i++)
		args[3 + i] = argv[i];
	for (int attempt = 0;; attempt++) {
		args[1] = s->sha;
		reply = NULL;
		rc = take_reply(r, redisCommandArgv(r->c, argc + 3, args, NULL), &reply, true);
		if (rc != -E_INTERNAL_ERROR || !reply)
			break;
		if (attempt > 0 || strncmp(reply->str, "NOSCRIPT", 8) != 0) {
			freeReplyObject(reply);
			reply = NULL;
			break;
		}
		/* The server lost its script cache (SCRIPT FLUSH, restart): load it again. */
		freeReplyObject(reply);
		reply = NULL;
		rc = script_load(r, script, &s);
		if (rc)
			return rc;
	}
	if (rc)
		return rc;
	if (out)
		*out = reply;
	else
		freeReplyObject(reply);
	return 0;
}
