/* leader: the Redis leader lock of the billing daemon (see leader.h). */
#include "batch/leader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/redis.h"
#include "common/banned.h"

struct leader {
	struct redis *r;
	char key[160];
	char token[CRYPTO_TOKEN_LEN];
	int ttl_ms;
	bool leading;
	int64_t lease_end_mono; /* while leading: our lease runs out at this monotonic time */
	char last_error[160];
};

static const char renew_lua[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
static const char release_lua[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
    "else return 0 end";

struct leader *leader_new(struct redis *r, const char *key, int ttl_ms)
{
	struct leader *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->r = r;
	l->ttl_ms = ttl_ms;
	snprintf(l->key, sizeof(l->key), "%s%s", redis_prefix(r), key);
	if (crypto_token(l->token)) {
		free(l);
		return NULL;
	}
	return l;
}

void leader_free(struct leader *l)
{
	free(l);
}

static void note_error(struct leader *l)
{
	snprintf(l->last_error, sizeof(l->last_error), "%s", redis_last_error(l->r));
}

bool leader_tick(struct leader *l, bool *changed)
{
	bool was = l->leading;
	int64_t start = clock_mono_ms();
	redisReply *rep = NULL;
	char ttl[24];

	snprintf(ttl, sizeof(ttl), "%d", l->ttl_ms);
	l->last_error[0] = '\0';
	if (l->leading) {
		const char *argv[] = {l->key, l->token, ttl};
		if (redis_eval(l->r, &rep, renew_lua, 1, 3, argv) == 0) {
			if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
				l->lease_end_mono = start + l->ttl_ms;
			else
				l->leading = false; /* the key expired or another instance holds it */
		} else {
			note_error(l);
			if (clock_mono_ms() >= l->lease_end_mono - 500)
				l->leading = false; /* cannot prove the lease: step down in time */
		}
	} else {
		if (redis_cmd(l->r, &rep, "SET %s %s NX PX %d", l->key, l->token, l->ttl_ms) == 0) {
			if (rep && rep->type == REDIS_REPLY_STATUS) {
				l->leading = true;
				l->lease_end_mono = start + l->ttl_ms;
			}
		} else {
			note_error(l);
		}
	}
	if (rep)
		freeReplyObject(rep);
	if (changed)
		*changed = was != l->leading;
	return l->leading;
}

bool leader_is_leader(const struct leader *l)
{
	return l->leading && clock_mono_ms() < l->lease_end_mono;
}

void leader_release(struct leader *l)
{
	redisReply *rep = NULL;
	const char *argv[] = {l->key, l->token};

	if (!l->leading)
		return;
	if (redis_eval(l->r, &rep, release_lua, 1, 2, argv) == 0 && rep)
		freeReplyObject(rep);
	l->leading = false;
}

const char *leader_last_error(const struct leader *l)
{
	return l->last_error;
}
