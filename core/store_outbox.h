/*
 * store_outbox: the SQL of the outbox (api_event, outbox_failed; API.md §7.9): enqueue,
 * claim due events with a lease, and end one delivery (DONE, back to PENDING with back-off,
 * or moved to outbox_failed). Not thread-safe: a struct db belongs to one thread.
 */
#ifndef PV_CORE_STORE_OUTBOX_H
#define PV_CORE_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define OUTBOX_KIND_MAX    65
#define OUTBOX_PAYLOAD_MAX 1024

struct outbox_event {
	int64_t id;
	char kind[OUTBOX_KIND_MAX];
	char payload[OUTBOX_PAYLOAD_MAX]; /* JSON text, cut at OUTBOX_PAYLOAD_MAX-1 bytes */
	int64_t tries;                    /* attempts made, this one included */
	int64_t created_at;
};

/* A new PENDING event due at due_at; dedup_key may be NULL. -E_DB_DUPLICATE when the
 * dedup_key is taken. */
int store_outbox_enqueue(struct db *db, const char *kind, const char *payload_json,
                         const char *dedup_key, int64_t due_at, int64_t now, int64_t *id);

/*
 * One transaction: up to max events due at now (PENDING with next_attempt_at <= now, or
 * SENDING whose lease expired: a forwarder that died), oldest due first, FOR UPDATE SKIP
 * LOCKED; each becomes SENDING with next_attempt_at = now + lease_s and tries + 1. out[]
 * gets them, *n their count.
 */
int store_outbox_claim(struct db *db, int64_t now, int64_t lease_s, struct outbox_event *out,
                       size_t max, size_t *n);

/* SENDING → DONE. */
int store_outbox_done(struct db *db, int64_t id, int64_t now);
/* SENDING → PENDING due at next_at, with the error. */
int store_outbox_retry(struct db *db, int64_t id, int64_t next_at, const char *error, int64_t now);
/* One transaction: the event is copied to outbox_failed (failed_at = now) and deleted. */
int store_outbox_give_up(struct db *db, int64_t id, const char *error, int64_t now);

#endif
