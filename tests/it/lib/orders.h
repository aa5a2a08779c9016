/*
 * orders: integration-test helpers for the order routes (API.md §6): catalogue items made in
 * SQL with unique texts, an independent price computation (§2.1, written here again on
 * purpose: the tests never use core/price.c), order bodies, placing orders, and the SQL set-up
 * of states that no route of §6 creates (paid orders, payments, subscriptions, billing
 * attempts).
 *
 * Names are it_ord_* so they never clash with other resources' helpers. Not thread-safe
 * (one Check test process at a time, like the rest of the harness), except it_ord_post, which
 * only uses it_http and may run in several threads.
 */
#ifndef PV_TESTS_IT_ORDERS_H
#define PV_TESTS_IT_ORDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/it/lib/it.h"

/* The receiver every helper body uses. */
#define IT_ORD_NAME   "홍길동"
#define IT_ORD_PHONE  "010-1111-1111"
#define IT_ORD_CITY   "서울"
#define IT_ORD_DETAIL "101 번지"

struct it_ord_item {
	int64_t id;
	char product[96];
	char enterprise[96]; /* "" = SQL NULL */
	char thumbnail[160]; /* "" = SQL NULL */
	char main_function[160];
	uint32_t categories; /* bit i = category_id i+1 (EYE = bit 0) */
	int64_t origin;
	int p10;
};

/* The contract's price of (origin, p10), computed independently (§2.1). */
struct it_ord_price {
	int64_t origin;
	int p10;
	int64_t discount;
	int64_t real;
};
void it_ord_price(int64_t origin, int p10, struct it_ord_price *out);
/* discountRate text: the shortest decimal of p10/1000 with a fractional digit ("0.095"). */
void it_ord_rate_text(int p10, char *out, size_t n);

/* INSERT INTO items (unique texts) and its item_categories rows. */
void it_ord_item_new_at(struct it_loc at, struct it_ord_item *it, int64_t origin, int p10,
                        uint32_t categories);
#define it_ord_item_new(it, origin, p10, cats) it_ord_item_new_at(IT_HERE, it, origin, p10, cats)
/* The same with enterprise and thumbnail NULL. */
void it_ord_item_nulls_at(struct it_loc at, struct it_ord_item *it, int64_t origin, int p10);
#define it_ord_item_nulls(it, origin, p10) it_ord_item_nulls_at(IT_HERE, it, origin, p10)
/* UPDATE items SET origin_price, discount_p10 (and it's copy). */
void it_ord_item_price_at(struct it_loc at, struct it_ord_item *it, int64_t origin, int p10);
#define it_ord_item_price(it, origin, p10) it_ord_item_price_at(IT_HERE, it, origin, p10)

struct it_ord_line {
	int64_t item_id;
	int quantity;
	bool subscription;
	int period;
};

/* {"city","detailAddress","realName","phoneNumber","orderPostDtoList":[...]} (caller frees
 * with cJSON_Delete): every line with itemId, quantity, subscription, period. */
cJSON *it_ord_body(const struct it_ord_line *lines, size_t n);
/* The same, printed (caller frees). */
char *it_ord_body_text(const struct it_ord_line *lines, size_t n);

/* POST /api/orders with body text and an optional Idempotency-Key (NULL: none); no
 * assertion, never fails the test (usable from threads: out->status 0 on a transport error). */
int it_ord_post(const struct it_user *u, const char *body, const char *idem_key,
                struct it_resp *out);
/* POST /api/orders with it_ord_body; asserts 201 and returns the orderId. */
int64_t it_ord_place_at(struct it_loc at, const struct it_user *u, const struct it_ord_line *lines,
                        size_t n, struct it_resp *out);
#define it_ord_place(u, lines, n, out) it_ord_place_at(IT_HERE, u, lines, n, out)

/* "/api/orders/<id>" into out. */
void it_ord_path(char *out, size_t n, int64_t order_id);
/* The order_item_id of the index-th line (orderItemId order) of an order. */
int64_t it_ord_line_id_at(struct it_loc at, int64_t order_id, int index);
#define it_ord_line_id(order, index) it_ord_line_id_at(IT_HERE, order, index)
/* UPDATE orders SET status = ? */
void it_ord_set_status_at(struct it_loc at, int64_t order_id, const char *status);
#define it_ord_set_status(order, status) it_ord_set_status_at(IT_HERE, order, status)
/* An APPROVED payment of the order (subscription CID) and the order COMPLETE, as an approval
 * leaves them; returns payment_id. */
int64_t it_ord_pay_at(struct it_loc at, int64_t order_id, int64_t user_id);
#define it_ord_pay(order, user) it_ord_pay_at(IT_HERE, order, user)

struct it_ord_sub {
	int64_t user_id;
	int64_t order_id;
	int64_t order_item_id;
	int64_t item_id;
	int64_t payment_id;
	int quantity;
	int period;
	const char *status; /* SUBSCRIPTION, PAUSED, SUBSCRIBE_PAYMENT_FAIL, SUBSCRIBE_CANCEL */
	const char *retry_state; /* NULL = NONE */
	const char *next_date;   /* "YYYY-MM-DD" after 2026-01-01, or NULL */
	int64_t id;              /* out: subscription_id */
	char sid[48];            /* out */
};
/* INSERT INTO subscriptions (F = L = C = 2026-01-01, the receiver above), with the
 * timestamps and retry fields that the schema's checks require for the status. */
void it_ord_sub_new_at(struct it_loc at, struct it_ord_sub *s);
#define it_ord_sub_new(s) it_ord_sub_new_at(IT_HERE, s)
/* A billing_attempt of the subscription in status ("PENDING", "UNKNOWN", "DECLINED", ...). */
void it_ord_attempt_at(struct it_loc at, const struct it_ord_sub *s, const char *status);
#define it_ord_attempt(s, status) it_ord_attempt_at(IT_HERE, s, status)

/*
 * The raw texts of every value of "key" in body, in order of appearance (so number formats
 * such as 0.1 / 0.0 can be checked exactly). Returns how many were found (at most max); each
 * text is cut to 31 bytes.
 */
size_t it_ord_raw_values(const char *body, const char *key, char out[][32], size_t max);

/* Asserts obj is the cart/order item shape of §5.1 exactly, with it's texts and price p. */
void it_ord_assert_brief_at(struct it_loc at, const cJSON *obj, const struct it_ord_item *it,
                            const struct it_ord_price *p);
#define it_ord_assert_brief(obj, it, p) it_ord_assert_brief_at(IT_HERE, obj, it, p)
/* Asserts the receiver object of the helper bodies. */
void it_ord_assert_receiver_at(struct it_loc at, const cJSON *obj);
#define it_ord_assert_receiver(obj) it_ord_assert_receiver_at(IT_HERE, obj)
/* A JSON string equal to s, or JSON null when s is "". */
void it_ord_assert_str_or_null_at(struct it_loc at, const cJSON *obj, const char *key,
                                  const char *s);
#define it_ord_assert_str_or_null(obj, key, s) it_ord_assert_str_or_null_at(IT_HERE, obj, key, s)
/* A JSON number equal to p10 / 1000. */
void it_ord_assert_rate_at(struct it_loc at, const cJSON *obj, int p10);
#define it_ord_assert_rate(obj, p10) it_ord_assert_rate_at(IT_HERE, obj, p10)

#endif
