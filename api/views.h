/*
 * views: unique item views (API.md §2.9): one view per client (r->client_ip) per item per
 * local day, counted in Redis HyperLogLogs and added to items.views by a background flusher.
 *
 * Redis keys (all under the configured prefix):
 *   views:<YYYYMMDD>:<itemId>     HyperLogLog of the client addresses (expires 3 days after
 *                                 its last change)
 *   views:touched                 set of "<YYYYMMDD>:<itemId>" whose count may have grown
 *                                 since the last flush
 *   views:flushed:<YYYYMMDD>      hash "<YYYYMMDD>:<itemId>" -> the count already added to
 *                                 items.views (expires 3 days after its last change)
 *
 * Recording is one Lua script (PFADD; when the HyperLogLog changed, EXPIRE and SADD to the
 * touched set). A flush pops a batch of touched members and, in the same atomic script,
 * takes PFCOUNT, compares it with the flushed hash and advances the hash: so the delta of a
 * key is handed to exactly one flusher, however many API instances run. The flusher then adds
 * the deltas to items.views in one MariaDB transaction; if that fails it gives them back
 * (HINCRBY the hash down, SADD the member) for the next pass. A view recorded during a flush
 * either is in the popped count or re-adds its member, so none is lost. A crash between the
 * script and the commit loses that batch's deltas (never counts them twice).
 *
 * Redis down: views_record does nothing (the item detail still answers), the flusher retries
 * at its next interval. Thread-safe: views_record uses the caller's handle; the flusher owns
 * its own MariaDB and Redis handles.
 */
#ifndef PV_API_VIEWS_H
#define PV_API_VIEWS_H

#include <stddef.h>
#include <stdint.h>

struct redis;
struct db;
struct api_config;

/* Counts a view of item_id by client_ip today; failures are ignored. */
void views_record(struct redis *r, int64_t item_id, const char *client_ip);

/*
 * One flush pass with the given handles: every touched member, in batches. *items (may be
 * NULL) receives the number of items whose views grew. 0, or the first error (the deltas of
 * the failed batch were given back when Redis allowed).
 */
int views_flush(struct redis *r, struct db *db, size_t *items);

/* Starts the flusher thread (every cfg->views_flush_s seconds). 0 or -E_x. */
int views_start(const struct api_config *cfg);
/* Wakes the flusher, waits for it to end and frees its handles. Safe when not started. */
void views_stop(void);

#endif
