/*
 * payment: the pure rules of the payment routes (API.md §7.1, §7.9; KAKAOPAY.md §1.3, §1.9):
 * the item name sent to Kakao Pay, the partner ids and payload, the payment record states and
 * their transitions, and how an order lookup's status and a gateway class map to the route's
 * answer. No I/O, no allocation; thread-safe.
 */
#ifndef PV_CORE_PAYMENT_H
#define PV_CORE_PAYMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gateway.h"

#include "core/pay_outcome.h"

#define PAYMENT_ITEM_NAME_CHARS 100 /* item_name: at most 100 characters (§7.9) */
#define PAYMENT_KEY_LEN         32  /* paymentKey: 32 base64url characters (§7.1) */
#define PAYMENT_EXPIRY_S        (15 * 60)

/* The states of a payment record (§7.1), in the schema's order. */
enum payment_state {
	PAYMENT_CREATED = 0,
	PAYMENT_READY,
	PAYMENT_APPROVING,
	PAYMENT_APPROVED,
	PAYMENT_CANCELED,
	PAYMENT_FAILED,
	PAYMENT_EXPIRED,
	PAYMENT_SUPERSEDED,
};
#define PAYMENT_STATE_COUNT 8

/* "CREATED", ...; NULL out of range. */
const char *payment_state_name(enum payment_state s);
/* Exact name → state, or -1. */
int payment_state_parse(const char *name);
/*
 * §7.1 and KAKAOPAY.md §2: CREATED → READY (ready answered), CREATED → FAILED (ready refused),
 * CREATED/READY → SUPERSEDED (a newer ready), READY → APPROVING (claimed by an approve),
 * APPROVING → READY (released: outcome still open), READY/APPROVING → APPROVED, READY/APPROVING
 * → CANCELED, FAILED or EXPIRED. APPROVED and the closed states are final.
 */
bool payment_can_transition(enum payment_state from, enum payment_state to);

/*
 * item_name of §7.9: the first line's product name, plus " 그 외 {n-1}개" when nlines > 1, cut
 * to 100 characters at a UTF-8 boundary. 0, or -1 when out is too small (at least 401 bytes
 * always suffice) or nlines is 0.
 */
int payment_item_name(const char *first_product, size_t nlines, char *out, size_t outlen);

/* "O{orderId}-R{n}", "U{userId}", "pay:{paymentId}". 0, or -1 when out is too small. */
int payment_partner_order_id(int64_t order_id, int64_t ready_no, char *out, size_t outlen);
int payment_partner_user_id(int64_t user_id, char *out, size_t outlen);
int payment_payload(int64_t payment_id, char *out, size_t outlen);

/* What an order lookup's status (KAKAOPAY.md §1.9) says about a payment. */
enum payment_lookup {
	PAYMENT_LOOKUP_PAID = 0,    /* SUCCESS_PAYMENT */
	PAYMENT_LOOKUP_NOT_PAID,    /* FAIL_AUTH_PASSWORD, QUIT_PAYMENT, FAIL_PAYMENT */
	PAYMENT_LOOKUP_IN_PROGRESS, /* READY .. AUTH_PASSWORD, ISSUED_SID */
	PAYMENT_LOOKUP_REFUNDED,    /* PART_CANCEL_PAYMENT, CANCEL_PAYMENT */
	PAYMENT_LOOKUP_UNKNOWN,     /* anything else */
};
enum payment_lookup payment_lookup_read(const char *status);

/*
 * The error a route answers for a gateway call that did not succeed (§7.2, §7.6): a call that
 * got no answer in time (UNKNOWN or RETRY_LATER with no HTTP response: a timeout or a dropped
 * connection after sending) → -E_PAYMENT_GATEWAY_TIMEOUT; every other class (NOT_SENT too) →
 * -E_PAYMENT_GATEWAY_ERROR. 0 for OK.
 */
int payment_gateway_error(enum pay_class cls, int http_status);

/*
 * The data of the JSON-mode approve answer (API.md §7.3; also what charge-now answers, §7.7)
 * as JSON text, caller frees; NULL when out of memory. Exactly the keys item_name, item_code
 * (null), created_at, approved_at (timestamps in the shop's zone, null when < 0), payload,
 * amount {total, tax_free, vat, discount} and quantity.
 */
char *payment_approval_json(const char *item_name, const char *payload, int64_t created_at,
                            int64_t approved_at, const struct pay_amount *amount,
                            int64_t quantity);

/* The aid of an order lookup's PAYMENT action (KAKAOPAY.md §1.9), "" when there is none. */
const char *payment_action_aid(const struct pay_result *lookup);

#endif
