/*
 * redis: one hiredis connection per thread, with timeouts and explicit reconnect.
 *
 * struct redis owns a redisContext. Commands have the configured timeout (default 1 s); an
 * I/O error or timeout drops the context and answers -E_SERVICE_UNAVAILABLE, and the next
 * command reconnects (at once; after a failed attempt, the next is made no sooner than 250 ms
 * later and calls in between fail at once, so a dead server costs nothing). Every
 * key used by the project starts with the configured prefix (redis_prefix, default "pv:").
 *
 * Replies are the caller's: free with freeReplyObject. A Redis error reply is returned as
 * -E_INTERNAL_ERROR (the reply is freed). Not thread-safe: one handle per thread.
 */
#ifndef PV_COMMON_REDIS_H
#define PV_COMMON_REDIS_H

#include <stddef.h>
#include <hiredis/hiredis.h>

struct redis_config {
	const char *host;
	int port;
	const char *password; /* NULL or "" = no AUTH */
	int timeout_ms;
	const char *prefix; /* key prefix, e.g. "pv:" */
};

struct redis;

struct redis *redis_new(const struct redis_config *cfg); /* copies cfg; connects lazily */
void redis_free(struct redis *r);
const char *redis_prefix(const struct redis *r);
/* Text of the last failure (I/O error or error reply), for the log; never holds a secret. */
const char *redis_last_error(const struct redis *r);

int redis_ping(struct redis *r);
/* printf-like hiredis format (%s, %b, %lld ...). *out may be NULL to discard the reply. */
int redis_cmd(struct redis *r, redisReply **out, const char *fmt, ...);
int redis_cmdv(struct redis *r, redisReply **out, int argc, const char **argv,
               const size_t *argvlen);
/*
 * EVALSHA with the script's SHA1 (SCRIPT LOAD once per connection, cached by the script's
 * address: pass a string literal), loading it again on NOSCRIPT. argv holds argc strings:
 * the nkeys keys first, then the arguments.
 */
int redis_eval(struct redis *r, redisReply **out, const char *script, int nkeys, int argc,
               const char **argv);

#endif
