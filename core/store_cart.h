/*
 * store_cart: all SQL about carts (tables carts and cart_items, API.md §2.2 and §5).
 *
 * Reads load a cart and its lines joined to the items' current catalogue values in one
 * query; prices are derived with price_derive, never taken stale from the cart. Writes run
 * in one transaction each, which locks the cart row first (so changes to one cart are
 * serialised, also against withdrawal) and then checks in the contract's order (§1.5):
 * the cart exists and has the route's kind (-E_CART_NOT_FOUND), the item or the line exists
 * (-E_ITEM_NOT_FOUND on add, -E_CART_ITEM_NOT_FOUND otherwise), the cart belongs to the
 * acting user uid (-E_ACCESS_DENIED_USER: writes are owner-only, ADMIN included), and
 * finally the state (-E_CART_ITEM_EXISTS on add, also when a concurrent add won the race
 * for the unique key (cart_id, item_id)). Values are validated by the caller (cart.h).
 *
 * Functions take the caller's db handle (one per thread) and return 0 or -E_x; struct cart
 * results are owned by the caller (cart_release).
 */
#ifndef PV_CORE_STORE_CART_H
#define PV_CORE_STORE_CART_H

#include <stddef.h>
#include <stdint.h>

#include "core/cart.h"

struct db;

/* The cart cart_id of that kind with its lines in the order added; -E_CART_NOT_FOUND. */
int store_cart_get(struct db *db, int64_t cart_id, enum cart_kind kind, struct cart *out);

/* Adds a line (period 0 for a normal cart) created and updated at now. */
int store_cart_add(struct db *db, int64_t uid, enum cart_kind kind, int64_t cart_id,
                   int64_t item_id, int quantity, int period, int64_t now);
/* Removes the item's line. */
int store_cart_remove(struct db *db, int64_t uid, enum cart_kind kind, int64_t cart_id,
                      int64_t item_id, int64_t now);
/* Sets the quantity of the item's line (updatedAt = now). */
int store_cart_set_quantity(struct db *db, int64_t uid, enum cart_kind kind, int64_t cart_id,
                            int64_t item_id, int quantity, int64_t now);
/* Sets the period of the item's line in a subscription cart (updatedAt = now). */
int store_cart_set_period(struct db *db, int64_t uid, int64_t cart_id, int64_t item_id, int period,
                          int64_t now);

/*
 * Removes the lines of the given items from user_id's cart of that kind (API.md §5.1, §6.1
 * orderedAtCart: at payment approval). Items not in the cart, and a user without carts
 * (withdrawn), are no error. Must run inside the caller's transaction (db_tx); item_ids is
 * borrowed (n may be 0).
 */
int store_cart_remove_items(struct db *db, int64_t user_id, enum cart_kind kind,
                            const int64_t *item_ids, size_t n);

#endif
