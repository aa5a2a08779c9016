/* views: unique item views and their flusher (see views.h). */
#include "api/views.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/config.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/err.h"
#include "common/log.h"
#include "common/redis.h"
#include "core/store_item.h"
#include "common/banned.h"

#define VIEWS_TTL_S       (3 * 86400) /* HyperLogLogs and flushed hashes */
#define VIEWS_BATCH       200         /* members popped per flush script */
#define VIEWS_MAX_BATCHES 500         /* per pass: 100,000 keys, then the next pass goes on */
#define VIEWS_KEY_MAX     160

/* KEYS[1] HyperLogLog, KEYS[2] touched set; ARGV[1] client, ARGV[2] ttl, ARGV[3] member. */
/* clang-format off */
static const char script_record[] =
    "if redis.call('PFADD', KEYS[1], ARGV[1]) == 1 then\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "  redis.call('SADD', KEYS[2], ARGV[3])\n"
    "end\n"
    "return 0\n";
/* clang-format on */

/*
 * KEYS[1] touched set; ARGV[1] key prefix, ARGV[2] batch size, ARGV[3] ttl.
 * Returns {popped, member1, delta1, member2, delta2, ...} for the members whose count grew,
 * and records the new counts as flushed: the whole step is atomic.
 */
static const char script_take[] =
    "local members = redis.call('SPOP', KEYS[1], tonumber(ARGV[2]))\n"
    "local out = {#members}\n"
    "for _, m in ipairs(members) do\n"
    "  local day = string.match(m, '^(%d+):%d+$')\n"
    "  if day then\n"
    "    local hash = ARGV[1] .. 'views:flushed:' .. day\n"
    "    local count = redis.call('PFCOUNT', ARGV[1] .. 'views:' .. m)\n"
    "    local prev = tonumber(redis.call('HGET', hash, m) or '0')\n"
    "    if count > prev then\n"
    "      redis.call('HSET', hash, m, count)\n"
    "      redis.call('EXPIRE', hash, ARGV[3])\n"
    "      out[#out + 1] = m\n"
    "      out[#out + 1] = count - prev\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS[1] touched set; ARGV[1] key prefix, ARGV[2] member, ARGV[3] delta: gives a delta back. */
static const char script_give_back[] =
    "local day = string.match(ARGV[2], '^(%d+):')\n"
    "redis.call('HINCRBY', ARGV[1] .. 'views:flushed:' .. day, ARGV[2], -tonumber(ARGV[3]))\n"
    "redis.call('SADD', KEYS[1], ARGV[2])\n"
    "return 0\n";

/* "YYYYMMDD" of today in the shop's zone. */
static void today_compact(char out[9])
{
	char day[CLOCK_DATE_LEN];

	clock_format_day(clock_today(), day);
	/* "2026-01-05" -> "20260105" */
	memcpy(out, day, 4);
	memcpy(out + 4, day + 5, 2);
	memcpy(out + 6, day + 8, 2);
	out[8] = '\0';
}

void views_record(struct redis *r, int64_t item_id, const char *client_ip)
{
	char day[9], member[64], hll[VIEWS_KEY_MAX], touched[VIEWS_KEY_MAX], ttl[16];
	const char *argv[5];

	if (!client_ip || !*client_ip)
		return;
	today_compact(day);
	snprintf(member, sizeof(member), "%s:%" PRId64, day, item_id);
	snprintf(hll, sizeof(hll), "%sviews:%s", redis_prefix(r), member);
	snprintf(touched, sizeof(touched), "%sviews:touched", redis_prefix(r));
	snprintf(ttl, sizeof(ttl), "%d", VIEWS_TTL_S);
	argv[0] = hll;
	argv[1] = touched;
	argv[2] = client_ip;
	argv[3] = ttl;
	argv[4] = member;
	(void)redis_eval(r, NULL, script_record, 2, 5, argv);
}

struct view_delta {
	int64_t item_id;
	int64_t delta;
	char member[32];
};

static int by_item(const void *a, const void *b)
{
	const struct view_delta *x = a, *y = b;
	return x->item_id < y->item_id ? -1 : x->item_id > y->item_id;
}

/* Puts deltas the database did not take back into Redis for the next pass. */
static void give_back(struct redis *r, const struct view_delta *d, size_t n)
{
	char touched[VIEWS_KEY_MAX], delta[32];
	const char *argv[4];

	snprintf(touched, sizeof(touched), "%sviews:touched", redis_prefix(r));
	for (size_t i = 0; i < n; i++) {
		snprintf(delta, sizeof(delta), "%" PRId64, d[i].delta);
		argv[0] = touched;
		argv[1] = redis_prefix(r);
		argv[2] = d[i].member;
		argv[3] = delta;
		if (redis_eval(r, NULL, script_give_back, 1, 4, argv))
			log_warn("views: deltas lost (Redis unavailable)", "member:s", d[i].member,
			         "views:i", (long long)d[i].delta);
	}
}

/* Parses "YYYYMMDD:<id>". */
static int member_item(const char *m, int64_t *id)
{
	const char *colon = strchr(m, ':');
	char *end;
	long long v;

	if (!colon || strlen(m) >= sizeof(((struct view_delta *)0)->member))
		return -1;
	errno = 0;
	v = strtoll(colon + 1, &end, 10);
	if (errno || *end || v <= 0)
		return -1;
	*id = v;
	return 0;
}

/* One batch: the script, then the database. *popped gets how many members were taken. */
static int flush_batch(struct redis *r, struct db *db, size_t *popped, size_t *items)
{
	char touched[VIEWS_KEY_MAX], batch[16], ttl[16];
	const char *argv[4];
	redisReply *reply = NULL;
	struct view_delta *d = NULL;
	int64_t *ids = NULL, *deltas = NULL;
	size_t n = 0, m = 0;
	int rc;

	*popped = 0;
	snprintf(touched, sizeof(touched), "%sviews:touched", redis_prefix(r));
	snprintf(batch, sizeof(batch), "%d", VIEWS_BATCH);
	snprintf(ttl, sizeof(ttl), "%d", VIEWS_TTL_S);
	argv[0] = touched;
	argv[1] = redis_prefix(r);
	argv[2] = batch;
	argv[3] = ttl;
	rc = redis_eval(r, &reply, script_take, 1, 4, argv);
	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER) {
		rc = -E_INTERNAL_ERROR;
		goto out;
	}
	*popped = (size_t)reply->element[0]->integer;
	if (reply->elements < 3)
		goto out;
	d = calloc(reply->elements / 2, sizeof(*d));
	ids = calloc(reply->elements / 2, sizeof(*ids));
	deltas = calloc(reply->elements / 2, sizeof(*deltas));
	if (!d || !ids || !deltas) {
		rc = -E_NOMEM;
		goto out;
	}
	for (size_t i = 1; i + 1 < reply->elements; i += 2) {
		const redisReply *mem = reply->element[i], *dl = reply->element[i + 1];
		if (mem->type != REDIS_REPLY_STRING || dl->type != REDIS_REPLY_INTEGER ||
		    member_item(mem->str, &d[n].item_id) || dl->integer <= 0)
			continue;
		d[n].delta = dl->integer;
		snprintf(d[n].member, sizeof(d[n].member), "%s", mem->str);
		n++;
	}
	/* One row per item (a day's change and the previous day's), in id order: fewer locks,
	 * always taken in the same order. */
	qsort(d, n, sizeof(*d), by_item);
	for (size_t i = 0; i < n; i++) {
		if (m && ids[m - 1] == d[i].item_id) {
			deltas[m - 1] += d[i].delta;
			continue;
		}
		ids[m] = d[i].item_id;
		deltas[m] = d[i].delta;
		m++;
	}
	rc = store_item_add_views(db, ids, deltas, m);
	if (rc)
		give_back(r, d, n);
	else if (items)
		*items += m;
out:
	free(deltas);
	free(ids);
	free(d);
	freeReplyObject(reply);
	return rc;
}

int views_flush(struct redis *r, struct db *db, size_t *items)
{
	size_t popped = 0;

	if (items)
		*items = 0;
	for (int i = 0; i < VIEWS_MAX_BATCHES; i++) {
		int rc = flush_batch(r, db, &popped, items);
		if (rc)
			return rc;
		if (popped < VIEWS_BATCH)
			break;
	}
	return 0;
}

/* ---- the flusher thread ---------------------------------------------------------------- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started;
	bool stopping;
	int interval_s;
	struct db *db;
	struct redis *redis;
} flusher = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *flusher_main(void *arg)
{
	struct timespec deadline;

	(void)arg;
	log_set_request_id("views-flusher");
	pthread_mutex_lock(&flusher.lock);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += flusher.interval_s;
		while (!flusher.stopping) {
			int w = pthread_cond_timedwait(&flusher.wake, &flusher.lock, &deadline);
			if (w == ETIMEDOUT)
				break;
		}
		if (flusher.stopping)
			break;
		pthread_mutex_unlock(&flusher.lock);
		size_t items = 0;
		int rc = views_flush(flusher.redis, flusher.db, &items);
		if (rc)
			log_warn("views: flush failed", "error:s", err_name(rc));
		else if (items)
			log_info("views flushed", "items:i", (long long)items);
		pthread_mutex_lock(&flusher.lock);
	}
	pthread_mutex_unlock(&flusher.lock);
	log_set_request_id(NULL);
	return NULL;
}

int views_start(const struct api_config *cfg)
{
	pthread_condattr_t attr;
	int rc = 0;

	if (flusher.started)
		return 0;
	flusher.db = db_new(&cfg->db);
	flusher.redis = redis_new(&cfg->redis);
	if (!flusher.db || !flusher.redis) {
		rc = -E_NOMEM;
		goto fail;
	}
	flusher.interval_s = cfg->views_flush_s > 0 ? cfg->views_flush_s : 600;
	flusher.stopping = false;
	if (pthread_condattr_init(&attr)) {
		rc = -E_INTERNAL_ERROR;
		goto fail;
	}
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&flusher.wake, &attr) ? -E_INTERNAL_ERROR : 0;
	pthread_condattr_destroy(&attr);
	if (rc)
		goto fail;
	if (pthread_create(&flusher.thread, NULL, flusher_main, NULL)) {
		pthread_cond_destroy(&flusher.wake);
		rc = -E_INTERNAL_ERROR;
		goto fail;
	}
	flusher.started = true;
	return 0;
fail:
	db_free(flusher.db);
	redis_free(flusher.redis);
	flusher.db = NULL;
	flusher.redis = NULL;
	return rc;
}

void views_stop(void)
{
	if (!flusher.started)
		return;
	pthread_mutex_lock(&flusher.lock);
	flusher.stopping = true;
	pthread_cond_signal(&flusher.wake);
	pthread_mutex_unlock(&flusher.lock);
	pthread_join(flusher.thread, NULL);
	pthread_cond_destroy(&flusher.wake);
	db_free(flusher.db);
	redis_free(flusher.redis);
	flusher.db = NULL;
	flusher.redis = NULL;
	flusher.started = false;
}
