/* tokstore: see tokstore.h. */
#include "common/tokstore.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/redis.h"
#include "common/token.h"
#include "common/banned.h"

#define KEY_MAX 256

/* KEYS[1] fam:<fam>; ARGV uid, jti, ttl. A new family replaces any leftover. */
static const char SCRIPT_CREATE[] = "redis.call('DEL', KEYS[1])\n"
                                    "redis.call('HSET', KEYS[1], 'uid', ARGV[1], 'cur', ARGV[2])\n"
                                    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
                                    "return 1\n";

/*
 * KEYS[1] fam:<fam>, KEYS[2] famrev:<fam>; ARGV jti, new_jti, ttl.
 * 0: unknown, expired or revoked family; 1: rotated; 2: reuse (the family is now revoked).
 */
static const char SCRIPT_ROTATE[] = "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end\n"
                                    "local cur = redis.call('HGET', KEYS[1], 'cur')\n"
                                    "if not cur then return 0 end\n"
                                    "if cur == ARGV[1] then\n"
                                    "  redis.call('HSET', KEYS[1], 'cur', ARGV[2])\n"
                                    "  redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
                                    "  return 1\n"
                                    "end\n"
                                    "redis.call('DEL', KEYS[1])\n"
                                    "redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])\n"
                                    "return 2\n";

/* KEYS[1] fam:<fam>, KEYS[2] famrev:<fam>; ARGV ttl. */
static const char SCRIPT_REVOKE[] = "redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])\n"
                                    "redis.call('DEL', KEYS[1])\n"
                                    "return 1\n";

static int make_key(struct redis *r, char out[KEY_MAX], const char *kind, const char *id)
{
	int n = snprintf(out, KEY_MAX, "%s%s:%s", redis_prefix(r), kind, id);

	return n < 0 || n >= KEY_MAX ? -E_TOO_LONG : 0;
}

/* Runs a script expected to answer an integer. */
static int eval_int(struct redis *r, const char *script, int nkeys, int argc, const char **argv,
                    long long *out)
{
	redisReply *reply = NULL;
	int rc = redis_eval(r, &reply, script, nkeys, argc, argv);

	if (rc)
		return rc;
	rc = reply->type == REDIS_REPLY_INTEGER ? 0 : -E_INTERNAL_ERROR;
	if (rc == 0)
		*out = reply->integer;
	freeReplyObject(reply);
	return rc;
}

int tokstore_family_create(struct redis *r, const char *fam, int64_t uid, const char *jti,
                           int ttl_s)
{
	char key[KEY_MAX], uid_s[24], ttl[16];
	const char *argv[4];
	long long res;
	int rc;

	if (ttl_s <= 0)
		return -E_INTERNAL_ERROR;
	rc = make_key(r, key, "fam", fam);
	if (rc)
		return rc;
	snprintf(uid_s, sizeof(uid_s), "%" PRId64, uid);
	snprintf(ttl, sizeof(ttl), "%d", ttl_s);
	argv[0] = key;
	argv[1] = uid_s;
	argv[2] = jti;
	argv[3] = ttl;
	return eval_int(r, SCRIPT_CREATE, 1, 4, argv, &res);
}

int tokstore_family_rotate(struct redis *r, const char *fam, const char *jti, const char *new_jti,
                           int ttl_s)
{
	char key[KEY_MAX], rev[KEY_MAX], ttl[16];
	const char *argv[5];
	long long res;
	int rc;

	if (ttl_s <= 0)
		return -E_INTERNAL_ERROR;
	rc = make_key(r, key, "fam", fam);
	if (!rc)
		rc = make_key(r, rev, "famrev", fam);
	if (rc)
		return rc;
	snprintf(ttl, sizeof(ttl), "%d", ttl_s);
	argv[0] = key;
	argv[1] = rev;
	argv[2] = jti;
	argv[3] = new_jti;
	argv[4] = ttl;
	rc = eval_int(r, SCRIPT_ROTATE, 2, 5, argv, &res);
	if (rc)
		return rc;
	switch (res) {
	case 1:
		return 0;
	case 2:
		return -E_REFRESH_TOKEN_REUSED;
	default:
		return -E_INVALID_TOKEN;
	}
}

int tokstore_family_revoke(struct redis *r, const char *fam, int ttl_s)
{
	char key[KEY_MAX], rev[KEY_MAX], ttl[16];
	const char *argv[3];
	long long res;
	int rc;

	if (ttl_s <= 0)
		return -E_INTERNAL_ERROR;
	rc = make_key(r, key, "fam", fam);
	if (!rc)
		rc = make_key(r, rev, "famrev", fam);
	if (rc)
		return rc;
	snprintf(ttl, sizeof(ttl), "%d", ttl_s);
	argv[0] = key;
	argv[1] = rev;
	argv[2] = ttl;
	return eval_int(r, SCRIPT_REVOKE, 2, 3, argv, &res);
}

int tokstore_access_revoke(struct redis *r, const char *jti, int64_t ttl_s)
{
	char key[KEY_MAX];
	int rc;

	if (ttl_s <= 0)
		return 0; /* already expired: nothing can present it any more */
	rc = make_key(r, key, "jtirev", jti);
	if (rc)
		return rc;
	return redis_cmd(r, NULL, "SET %s 1 EX %lld", key, (long long)ttl_s);
}

int tokstore_user_withdraw(struct redis *r, int64_t uid)
{
	char key[KEY_MAX], uid_s[24];
	int rc;

	snprintf(uid_s, sizeof(uid_s), "%" PRId64, uid);
	rc = make_key(r, key, "uwd", uid_s);
	if (rc)
		return rc;
	return redis_cmd(r, NULL, "SET %s 1", key);
}

static bool present(const redisReply *e)
{
	return e->type != REDIS_REPLY_NIL;
}

int tokstore_check(struct redis *r, const struct token_claims *c)
{
	char uwd[KEY_MAX], jtirev[KEY_MAX], famrev[KEY_MAX], uid_s[24];
	const char *argv[4];
	redisReply *reply = NULL;
	size_t argc = 3;
	int rc;

	snprintf(uid_s, sizeof(uid_s), "%" PRId64, c->uid);
	rc = make_key(r, uwd, "uwd", uid_s);
	if (!rc)
		rc = make_key(r, jtirev, "jtirev", c->jti);
	if (!rc && c->fam[0]) {
		rc = make_key(r, famrev, "famrev", c->fam);
		argc = 4;
	}
	if (rc)
		return rc;
	argv[0] = "MGET";
	argv[1] = uwd;
	argv[2] = jtirev;
	argv[3] = famrev;
	rc = redis_cmdv(r, &reply, (int)argc, argv, NULL);
	if (rc)
		return rc;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != argc - 1) {
		rc = -E_INTERNAL_ERROR;
	} else if (present(reply->element[0])) {
		rc = -E_USER_WITHDRAWN;
	} else if (present(reply->element[1])) {
		rc = -E_ALREADY_LOGOUT;
	} else if (argc == 4 && present(reply->element[2])) {
		rc = -E_INVALID_TOKEN;
	}
	freeReplyObject(reply);
	return rc;
}
