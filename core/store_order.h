/*
 * store_order: all SQL of the order routes (API.md §6): placing an order with its price
 * snapshots in one transaction, reading one order with its lines, the order history (one row
 * per order line) and the subscription list as pages, and the subscription quantity change.
 *
 * Lists cost two statements per page whatever the page size: one COUNT and one page query
 * (catalogue texts and category sets are joined in, never fetched per row).
 *
 * Results are written to the out-parameters only on success and are the caller's (free with
 * order_release / store_order_rows_free / store_order_sub_rows_free). Not thread-safe: a
 * struct db belongs to one thread.
 */
#ifndef PV_CORE_STORE_ORDER_H
#define PV_CORE_STORE_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/order.h"

struct db;

/* One validated line of POST /api/orders. period is ignored (stored 0) unless subscription. */
struct order_line_input {
	int64_t item_id;
	int32_t quantity;
	bool subscription;
	int32_t period;
};

/* A validated POST /api/orders body; the strings are borrowed. */
struct order_input {
	int64_t user_id;
	bool ordered_at_cart;
	const char *real_name;
	const char *phone;
	const char *city;
	const char *detail_address;
	const struct order_line_input *lines;
	size_t nlines; /* 1..ORDER_LINES_MAX */
};

/*
 * Places the order in one transaction: reads the named items (shared locks, so the snapshot
 * and the lines agree), derives each line's price snapshot with price_derive, the totals with
 * price_totals_add, and inserts the order (REQUEST) and its lines in request order. *out gets
 * the new order, lines with their ids and the catalogue texts read. -E_ITEM_NOT_FOUND when a
 * line names an unknown item (nothing is written).
 */
int store_order_create(struct db *db, const struct order_input *in, int64_t now, struct order *out);

/* The order and its lines (orderItemId order) with the current catalogue texts;
 * -E_ORDER_NOT_FOUND. */
int store_order_get(struct db *db, int64_t order_id, struct order *out);

/* One row of the order history: an order line with its order's id and status. */
struct order_row {
	int64_t order_id;
	enum order_status status;
	struct order_line line; /* price.real = the snapshot realPrice; texts are current */
};

/* One row of the subscription list (§6.4). */
struct order_sub_row {
	int64_t subscription_id;
	int64_t order_item_id;
	int64_t item_id;
	int32_t quantity;
	int32_t period;
	int64_t price; /* the item's current realPrice */
	char *product;
	char *main_function;
	char *thumbnail;
	uint32_t categories;
	int status;                 /* enum sub_status */
	char next_payment_date[11]; /* "YYYY-MM-DD", "" = null */
};

/* What a list shows: the user, 1..3 statuses, the direction and the page. */
struct order_list_query {
	int64_t user_id;
	int statuses[3]; /* enum order_status or enum sub_status values */
	size_t nstatuses;
	bool asc;
	int64_t limit;
	int64_t offset;
};

/*
 * The order history of §6.3: lines of the user's orders whose status is in q->statuses,
 * ordered by orderId (q->asc) then orderItemId ascending. *total counts every matching line.
 */
int store_order_history(struct db *db, const struct order_list_query *q, struct order_row **out,
                        size_t *n, int64_t *total);
void store_order_rows_free(struct order_row *rows, size_t n);

/* The subscription list of §6.4 ordered by subscriptionOrderId (q->asc). */
int store_order_subscriptions(struct db *db, const struct order_list_query *q,
                              struct order_sub_row **out, size_t *n, int64_t *total);
void store_order_sub_rows_free(struct order_sub_row *rows, size_t n);

/*
 * §6.5: sets the quantity of the subscription of line order_item_id of order order_id, in
 * one transaction that locks the subscription row. Errors in the contract's order:
 * -E_ORDER_NOT_FOUND, -E_ACCESS_DENIED_USER (the order is not actor_uid's),
 * -E_NOT_ORDERED_ITEM, -E_SUBSCRIPTION_NOT_FOUND (not a subscription line, or not paid yet),
 * -E_SUBSCRIPTION_STATE_CONFLICT (§2.5: not SUBSCRIPTION/PAUSED, retry UNKNOWN, or a charge
 * PENDING/UNKNOWN).
 */
int store_order_sub_quantity(struct db *db, int64_t order_id, int64_t order_item_id,
                             int64_t actor_uid, int32_t quantity, int64_t now);

#endif
