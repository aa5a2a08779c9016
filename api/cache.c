/* cache: the main-page cache (see cache.h). */
#include "api/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/redis.h"
#include "common/banned.h"

#define CACHE_DEFAULT_TTL_S 600

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *copy; /* the rendered data object, NULL when none */
static size_t copy_len;
static long long copy_gen; /* the generation it was built under */
static int64_t copy_built; /* monotonic ms */
static atomic_int ttl_s = CACHE_DEFAULT_TTL_S;

void cache_main_set_ttl(int seconds)
{
	atomic_store(&ttl_s, seconds > 0 ? seconds : CACHE_DEFAULT_TTL_S);
}

void cache_main_invalidate(struct redis *r)
{
	(void)redis_cmd(r, NULL, "INCR %scache:main:gen", redis_prefix(r));
}

/* The current generation: the counter's value, 0 while it does not exist, -1 without Redis. */
static long long current_gen(struct redis *r)
{
	redisReply *reply = NULL;
	long long gen = -1;

	if (redis_cmd(r, &reply, "GET %scache:main:gen", redis_prefix(r)))
		return -1;
	if (reply->type == REDIS_REPLY_NIL) {
		gen = 0;
	} else if (reply->type == REDIS_REPLY_STRING) {
		char *end;
		gen = strtoll(reply->str, &end, 10);
		if (end == reply->str || *end || gen < 0)
			gen = -1;
	}
	freeReplyObject(reply);
	return gen;
}

int cache_main_get(struct redis *r, struct buf *out, long long *gen)
{
	long long g = current_gen(r);
	int hit = 0;

	*gen = g;
	if (g < 0)
		return 0;
	pthread_mutex_lock(&lock);
	if (copy && copy_gen == g &&
	    clock_mono_ms() - copy_built < (int64_t)atomic_load(&ttl_s) * 1000) {
		buf_reset(out);
		hit = buf_append(out, copy, copy_len) == 0;
	}
	pthread_mutex_unlock(&lock);
	return hit;
}

void cache_main_put(long long gen, const char *body, size_t len)
{
	char *c;

	if (gen < 0)
		return;
	c = malloc(len + 1);
	if (!c)
		return;
	memcpy(c, body, len);
	c[len] = '\0';
	pthread_mutex_lock(&lock);
	/* A copy of a newer generation stays: this one was built from older data. */
	if (copy && copy_gen > gen) {
		pthread_mutex_unlock(&lock);
		free(c);
		return;
	}
	free(copy);
	copy = c;
	copy_len = len;
	copy_gen = gen;
	copy_built = clock_mono_ms();
	pthread_mutex_unlock(&lock);
}
