/* throttle: see throttle.h. */
#include "common/throttle.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/err.h"
#include "common/redis.h"
#include "common/banned.h"

#define KEY_MAX              320
#define THROTTLE_MEMBERS_MAX 1024 /* newest failures kept per key */

/*
 * KEYS[1]; ARGV now_ms, window_ms, limit. Drops failures older than the window, counts those
 * in [now - window, now]; 0 when below limit, else the ms until enough of them have left the
 * window for the count to drop below limit (>= 1).
 */
static const char SCRIPT_CHECK[] =
    "local now = tonumber(ARGV[1])\n"
    "local win = tonumber(ARGV[2])\n"
    "local limit = tonumber(ARGV[3])\n"
    "local lo = string.format('%d', now - win)\n"
    "local hi = string.format('%d', now)\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. lo)\n"
    "local n = redis.call('ZCOUNT', KEYS[1], lo, hi)\n"
    "if n < limit then return 0 end\n"
    "local e = redis.call('ZRANGEBYSCORE', KEYS[1], lo, hi, 'WITHSCORES', 'LIMIT', n - limit, 1)\n"
    "return tonumber(e[2]) + win + 1 - now\n";

/* KEYS[1]; ARGV now_ms, window_ms, member, max members. */
static const char SCRIPT_HIT[] =
    "local now = tonumber(ARGV[1])\n"
    "local win = tonumber(ARGV[2])\n"
    "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - win))\n"
    "redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))\n"
    "redis.call('PEXPIRE', KEYS[1], win)\n"
    "return 1\n";

static int make_key(struct redis *r, const char *key, char out[KEY_MAX])
{
	int n = snprintf(out, KEY_MAX, "%sthr:%s", redis_prefix(r), key);

	return n < 0 || n >= KEY_MAX ? -E_TOO_LONG : 0;
}

int throttle_check(struct redis *r, const char *key, int limit, int window_s, int64_t now_ms,
                   int *retry_after_s)
{
	char k[KEY_MAX], now[24], win[24], lim[16];
	const char *argv[4];
	redisReply *reply = NULL;
	int rc;

	if (limit <= 0 || window_s <= 0)
		return -E_INTERNAL_ERROR;
	rc = make_key(r, key, k);
	if (rc)
		return rc;
	snprintf(now, sizeof(now), "%" PRId64, now_ms);
	snprintf(win, sizeof(win), "%" PRId64, (int64_t)window_s * 1000);
	snprintf(lim, sizeof(lim), "%d", limit);
	argv[0] = k;
	argv[1] = now;
	argv[2] = win;
	argv[3] = lim;
	rc = redis_eval(r, &reply, SCRIPT_CHECK, 1, 4, argv);
	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_INTEGER) {
		rc = -E_INTERNAL_ERROR;
	} else if (reply->integer > 0) {
		long long s = (reply->integer + 999) / 1000;

		*retry_after_s = s < 1 ? 1 : (int)s;
		rc = 1;
	}
	freeReplyObject(reply);
	return rc;
}

int throttle_hit(struct redis *r, const char *key, int window_s, int64_t now_ms)
{
	char k[KEY_MAX], now[24], win[24], member[48], max[16];
	const char *argv[5];
	unsigned char rnd[8];
	int rc;

	if (window_s <= 0)
		return -E_INTERNAL_ERROR;
	rc = make_key(r, key, k);
	if (rc)
		return rc;
	/* Unique per failure, so two failures in the same ms both count. */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -E_INTERNAL_ERROR;
	snprintf(member, sizeof(member), "%" PRId64 "-%02x%02x%02x%02x%02x%02x%02x%02x", now_ms,
	         rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	snprintf(now, sizeof(now), "%" PRId64, now_ms);
	snprintf(win, sizeof(win), "%" PRId64, (int64_t)window_s * 1000);
	snprintf(max, sizeof(max), "%d", THROTTLE_MEMBERS_MAX);
	argv[0] = k;
	argv[1] = now;
	argv[2] = win;
	argv[3] = member;
	argv[4] = max;
	return redis_eval(r, NULL, SCRIPT_HIT, 1, 5, argv);
}

int throttle_clear(struct redis *r, const char *key)
{
	char k[KEY_MAX];
	int rc = make_key(r, key, k);

	if (rc)
		return rc;
	return redis_cmd(r, NULL, "DEL %s", k);
}
