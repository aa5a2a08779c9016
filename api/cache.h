/*
 * cache: the main-page cache (API.md §2.9). The rendered "data" object of GET /api/items/main
 * is kept in process memory with the Redis generation counter (key "<prefix>cache:main:gen")
 * it was built under; it is served while the generation is unchanged and it is younger than
 * the TTL (10 minutes by default). Anything that changes sales or review statistics calls
 * cache_main_invalidate (one Redis INCR), so every API instance drops its copy. If Redis is
 * down the page is built from the database each time (reads keep working). Thread-safe (a
 * mutex guards the copy).
 */
#ifndef PV_API_CACHE_H
#define PV_API_CACHE_H

#include <stddef.h>

struct redis;
struct buf;

/* Bumps the generation; failures are ignored (the copy still expires after 10 min). */
void cache_main_invalidate(struct redis *r);
/* 1 and the cached body copied into out when valid for the current generation; 0 otherwise.
 * *gen receives the current generation (-1 when Redis is unreachable). */
int cache_main_get(struct redis *r, struct buf *out, long long *gen);
void cache_main_put(long long gen, const char *body, size_t len);
/* The expiry of a copy in seconds (PV_MAIN_CACHE_TTL_S, default 600); set once by main before
 * the server starts. */
void cache_main_set_ttl(int seconds);

#endif
