/*
 * carts: integration-test helpers for the cart routes (API.md §5): catalogue items made in
 * SQL with unique names (no item write API exists), their prices changed in SQL, the cart
 * paths, and requests that add lines and assert the contract's answer.
 *
 * Names are it_cart_* so they never clash with other resources' helpers. Not thread-safe
 * (one Check test process at a time, like the rest of the harness).
 */
#ifndef PV_TESTS_IT_CARTS_H
#define PV_TESTS_IT_CARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/it/lib/it.h"

struct it_cart_item {
	int64_t id;
	char product[96];
	char enterprise[96]; /* "" = SQL NULL when made with it_cart_item_nulls */
	char thumbnail[160];
	int64_t origin;
	int p10;
};

/* INSERT INTO items a product with unique texts and the given price. */
void it_cart_item_new_at(struct it_loc at, struct it_cart_item *it, int64_t origin, int p10);
#define it_cart_item_new(it, origin, p10) it_cart_item_new_at(IT_HERE, it, origin, p10)
/* The same with enterprise and thumbnail NULL. */
void it_cart_item_nulls_at(struct it_loc at, struct it_cart_item *it, int64_t origin, int p10);
#define it_cart_item_nulls(it, origin, p10) it_cart_item_nulls_at(IT_HERE, it, origin, p10)
/* UPDATE items SET origin_price, discount_p10 (and it's copy). */
void it_cart_item_price_at(struct it_loc at, struct it_cart_item *it, int64_t origin, int p10);
#define it_cart_item_price(it, origin, p10) it_cart_item_price_at(IT_HERE, it, origin, p10)

/* "/api/carts/normal/<id>" or "/api/carts/subscription/<id>" + suffix (may be ""). */
void it_cart_path(char *out, size_t n, bool subscription, int64_t cart_id, const char *suffix);

/* POST /api/carts/normal/{cart}?itemId=&quantity=; asserts 201 {"data": itemId}. */
void it_cart_add_normal_at(struct it_loc at, const struct it_user *u, int64_t cart_id,
                           int64_t item_id, int quantity);
#define it_cart_add_normal(u, cart, item, q) it_cart_add_normal_at(IT_HERE, u, cart, item, q)
/* POST /api/carts/subscription/{cart} with {"itemId","quantity","period"}; asserts 201. */
void it_cart_add_sub_at(struct it_loc at, const struct it_user *u, int64_t cart_id, int64_t item_id,
                        int quantity, int period);
#define it_cart_add_sub(u, cart, item, q, p) it_cart_add_sub_at(IT_HERE, u, cart, item, q, p)
/* Asserts a 201 answer {"data": item_id, "createTime"} exactly. */
void it_cart_assert_added_at(struct it_loc at, const struct it_resp *r, int64_t item_id);
#define it_cart_assert_added(r, item) it_cart_assert_added_at(IT_HERE, r, item)
/* Asserts 204 with an empty body. */
void it_cart_assert_204_at(struct it_loc at, const struct it_resp *r);
#define it_cart_assert_204(r) it_cart_assert_204_at(IT_HERE, r)

/*
 * The text of the value of "key" inside the first object that starts with {"itemId":<id>,
 * in the raw body (so number formats such as 0.1 / 0.0 can be checked exactly). Writes at
 * most n-1 bytes; fails the test when not found.
 */
void it_cart_raw_value_at(struct it_loc at, const char *body, int64_t item_id, const char *key,
                          char *out, size_t n);
#define it_cart_raw_value(body, item, key, out, n)                                                 \
	it_cart_raw_value_at(IT_HERE, body, item, key, out, n)

#endif
