/*
 * order: the pure rules of orders (API.md §2.3, §2.4, §6): the order status machine, the
 * field rules of an order line, the order totals over the line snapshots, and the
 * subscription statuses the order routes filter and change (§2.5, §6.4, §6.5).
 *
 * struct order is what the store reads and the handlers print; it owns its strings and its
 * lines (order_release frees them). Everything else here is a pure function of its
 * arguments. Thread-safe.
 */
#ifndef PV_CORE_ORDER_H
#define PV_CORE_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/price.h"
#include "core/rules.h"

/* §2.4. ORDER_NONE is "—": the order does not exist yet (creation). */
enum order_status {
	ORDER_NONE = -1,
	ORDER_REQUEST = 0,
	ORDER_COMPLETE,
	ORDER_PARTIAL_REFUND,
	ORDER_REFUND,
	ORDER_CANCELED,
};
#define ORDER_STATUS_COUNT 5

/* §2.5, in the contract's order. */
enum sub_status {
	SUB_SUBSCRIPTION = 0,
	SUB_PAUSED,
	SUB_PAYMENT_FAIL,
	SUB_CANCEL,
};
#define SUB_STATUS_COUNT 4

#define ORDER_LINES_MIN 1
#define ORDER_LINES_MAX 100
/* Largest unit origin price whose totals cannot overflow int64 (100 lines x 999 units). */
#define ORDER_UNIT_PRICE_MAX (INT64_MAX / (ORDER_LINES_MAX * RULE_QUANTITY_MAX))

/* Reason of the orderPostDtoList size rule (§6.1, §1.9). */
#define ORDER_REASON_LINES "1개 이상 100개 이하여야 합니다"
/* Reason of the phone rule (§3.1). */
#define ORDER_REASON_PHONE "올바른 연락처 형식이 아닙니다."

/* "REQUEST", ... ; NULL for a value out of range. */
const char *order_status_name(enum order_status s);
/* Exact (case-sensitive) name → status; ORDER_NONE when unknown or NULL. */
enum order_status order_status_parse(const char *name);
const char *sub_status_name(enum sub_status s);
/* Exact name → 0..3, or -1. */
int sub_status_parse(const char *name);

/*
 * The order status machine of §2.4: true when an order may go from `from` (ORDER_NONE for
 * creation) to `to`. Allowed: — → REQUEST (POST /api/orders), — → COMPLETE (renewal order),
 * REQUEST → COMPLETE, REQUEST → REQUEST (failed payment), REQUEST → CANCELED,
 * COMPLETE/PARTIAL_REFUND → PARTIAL_REFUND or REFUND. Everything else is refused.
 */
bool order_can_transition(enum order_status from, enum order_status to);
/* The 409 code that refuses a transition: -E_ORDER_NOT_REFUNDABLE when `to` is a refund
 * status, -E_ORDER_NOT_PAYABLE otherwise; 0 when the transition is allowed. */
int order_transition_error(enum order_status from, enum order_status to);

/*
 * Line field rules of §6.1: each returns NULL when the value passes, else the reason text.
 * present = the key was there with a value of the right type.
 */
const char *order_rule_lines(size_t n);                   /* 1..100 elements */
const char *order_rule_quantity(bool present, int64_t q); /* required, 1..999 */
const char *order_rule_period(bool present, int64_t p);   /* subscription lines: 30..365 */
/* receiver fields: city ≤ 100, detailAddress ≤ 200, realName ≤ 30, all non-blank; the phone
 * non-blank and of the §3.1 phone format. NULL = absent. */
const char *order_rule_city(const char *v);
const char *order_rule_detail_address(const char *v);
const char *order_rule_real_name(const char *v);
const char *order_rule_phone(const char *v);

/* The operations of the table "allowed operations per status" of §2.5. */
enum sub_op {
	SUB_OP_CHANGE, /* change period, change quantity */
	SUB_OP_PAUSE,
	SUB_OP_RESUME,
	SUB_OP_SKIP, /* skip the next cycle */
	SUB_OP_CANCEL,
	SUB_OP_CHARGE_NOW, /* admin */
};
#define SUB_OP_COUNT 6

/*
 * §2.5: true when op is allowed on a subscription in sub_status (enum sub_status; anything
 * else is refused). Every operation but cancel is also refused while a charge is in flight
 * or UNKNOWN: retry_unknown = retry.state is UNKNOWN, charge_open = a billing attempt of the
 * subscription is PENDING or UNKNOWN.
 */
bool sub_op_allowed(enum sub_op op, int sub_status, bool retry_unknown, bool charge_open);

/* §2.6, §6.4, §8.1: nextPaymentDate is shown (not null) unless the subscription is PAUSED,
 * SUBSCRIBE_CANCEL or has its retries exhausted. */
bool sub_next_date_shown(int sub_status, bool retry_exhausted);

struct order_line {
	int64_t order_item_id;
	int64_t item_id;
	int32_t quantity;
	bool subscription;
	int32_t period;          /* 0 for a one-time line */
	struct price price;      /* the snapshot taken when the order was placed */
	int64_t subscription_id; /* subscriptionOrderId, 0 = none */
	char *enterprise;        /* current catalogue texts, NULL when empty */
	char *thumbnail;
	char *product;
	char *main_function;
	uint32_t categories; /* category mask (core/category.h) */
};

struct order {
	int64_t order_id;
	int64_t user_id;
	enum order_status status;
	bool subscription; /* any line is a subscription line */
	bool ordered_at_cart;
	bool renewal;
	char *real_name;
	char *phone;
	char *city;
	char *detail_address;
	struct price_totals totals;
	int64_t refunded_amount;
	int64_t created_at; /* Unix seconds */
	int64_t updated_at;
	struct order_line *lines;
	size_t nlines;
};

/* Frees the strings and lines of o and zeroes it (o itself is the caller's). */
void order_release(struct order *o);
void order_line_release(struct order_line *l);

/* The order totals of §2.3 over lines[0..n) (snapshots × quantities), by price_totals_add. */
void order_totals(const struct order_line *lines, size_t n, struct price_totals *out);

#endif
