/*
 * leader: the billing leader lock in Redis (DESIGN.md §1, §5).
 *
 * One key (<prefix><lock_key>) holds the leader's random token with a lease (PX ttl). A
 * follower takes it with SET NX PX; the leader renews it with a token-checked PEXPIRE (Lua)
 * every tick and releases it with a token-checked DEL, so no instance ever extends or deletes
 * another's lock. When Redis cannot be reached the leader keeps leading only until its own
 * lease would have run out (measured on the monotonic clock), then steps down: a standby
 * cannot have taken over before that. Correctness never rests on the lock alone: the
 * database's unique keys make a double charge impossible even with two leaders.
 *
 * Not thread-safe: the struct and its redis handle belong to the event-loop thread.
 */
#ifndef PV_BATCH_LEADER_H
#define PV_BATCH_LEADER_H

#include <stdbool.h>
#include <stdint.h>

struct redis;
struct leader;

/* r is borrowed. key is without the prefix. NULL when out of memory. */
struct leader *leader_new(struct redis *r, const char *key, int ttl_ms);
void leader_free(struct leader *l); /* accepts NULL; does not release */

/* Takes or renews the lock. Returns true while this instance leads. *changed (may be NULL)
 * tells whether leadership changed in this call. */
bool leader_tick(struct leader *l, bool *changed);
bool leader_is_leader(const struct leader *l);
/* Gives the lock up (when held) and becomes a follower. */
void leader_release(struct leader *l);
/* Text of the last Redis problem, for the log ("" when none). */
const char *leader_last_error(const struct leader *l);

#endif
