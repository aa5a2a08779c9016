/*
 * idempotency: the Idempotency-Key header of API.md §1.7, for POST /api/orders and every
 * POST /api/payments/... route.
 *
 * A key is scoped by (user id, key) and lives in Redis under <prefix>idem:<uid>:<key>:
 *
 *   absent        the key is free
 *   P:<fp>:<tok>  a request holds it and is running (expires after IDEM_RUNNING_TTL_MS, so a
 *                 crashed instance cannot block a key for longer)
 *   D:<fp>:<st>:<body>  a 2xx answer, kept IDEM_KEEP_S (24 h)
 *
 * <fp> is the SHA-1 (computed by Redis) of the method, the path and the body bytes, so "same
 * request" means byte-identical. The claim and the answer are Lua scripts, so two requests
 * with one key can never both run: the second sees P (409) or D (replay or 409).
 *
 * A replay answers the stored status and body as application/json; charset=utf-8 (every route
 * that takes the header answers JSON).
 *
 * Use in a handler:
 *
 *	struct idem idem = IDEM_INIT;
 *	if (idem_begin(r, &idem))
 *		return 0;              // answered: 400 bad key, 409, 503, or the replay
 *	... validate and work; answer ONLY through
 *	idem_send_data / idem_send_error / idem_send_field_errors (or idem_finish, then
 *	answer yourself), which store a 2xx answer under the key and free the key after any
 *	other outcome ...
 *	idem_abort(r, &idem);          // at the cleanup label: frees a key still held (no-op)
 *
 * Without the header nothing touches Redis and idem_send_* are the plain http_send_*.
 * Redis unreachable while a key is given: 503 SERVICE_UNAVAILABLE before any work. If the
 * 2xx answer cannot be stored afterwards, the answer is sent anyway and a warning is logged
 * (the key then frees itself after IDEM_RUNNING_TTL_MS).
 *
 * Per request; not shared between threads (uses the worker's Redis handle).
 */
#ifndef PV_API_IDEMPOTENCY_H
#define PV_API_IDEMPOTENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

struct req;
struct field_errors;

#define IDEM_KEY_MAX        255          /* §1.7: 1..255 printable ASCII characters */
#define IDEM_KEEP_S         (24 * 3600)  /* a stored answer is kept 24 h */
#define IDEM_RUNNING_TTL_MS (120 * 1000) /* longest a running request holds its key */
#define IDEM_REASON         "1자 이상 255자 이하의 ASCII 문자여야 합니다"

struct idem {
	bool active;       /* this request holds the key (P state) */
	char rkey[512];    /* the Redis key */
	char running[128]; /* the exact P value written, to release only our own claim */
	char fp[41];       /* request fingerprint */
};

#define IDEM_INIT                                                                                  \
	{                                                                                          \
		0                                                                                  \
	}

/* 1 when v is a well-formed key: 1..255 characters, each printable ASCII (0x20..0x7E). */
bool idem_key_valid(const char *v);

/*
 * Reads the Idempotency-Key header and claims the key. Returns 0 to go on (st->active tells
 * whether a key is held), or 1 when the request has been answered: 400 VALIDATION_FAILED
 * (field Idempotency-Key), 409 IDEMPOTENCY_KEY_CONFLICT (running, or a different request),
 * 503 (Redis), or the stored answer replayed with Idempotent-Replayed: true.
 */
int idem_begin(struct req *r, struct idem *st);

/* Records the outcome: a 2xx status with its body is stored for IDEM_KEEP_S, any other status
 * frees the key. No-op when no key is held. Does not answer. */
void idem_finish(struct req *r, struct idem *st, int status, const char *body, size_t len);
/* Frees a key still held (the request ended without an answer through idem_send_*). */
void idem_abort(struct req *r, struct idem *st);

/* The http_send_* of http.h, recording the outcome first. idem_send_data takes ownership of
 * data and writes the same {data, createTime} wrapper as http_send_data. */
int idem_send_data(struct req *r, struct idem *st, int status, cJSON *data);
int idem_send_error(struct req *r, struct idem *st, int rc, const struct field_errors *fe);
int idem_send_field_errors(struct req *r, struct idem *st, const struct field_errors *fe);

#endif
