/*
 * cart: the pure rules of carts (API.md §2.2, §5): the two kinds, the ranges of a line's
 * quantity and subscription period, and a cart's totals over its lines (the arithmetic is
 * price.h's; this module only walks the lines).
 *
 * struct cart owns its lines and their strings; cart_release frees them. The rules are
 * pure functions returning static reason texts (rules.h) or NULL. Thread-safe.
 */
#ifndef PV_CORE_CART_H
#define PV_CORE_CART_H

#include <stddef.h>
#include <stdint.h>

#include "core/price.h"

enum cart_kind { CART_NORMAL, CART_SUBSCRIPTION };

/* One line with the item's current catalogue values. */
struct cart_line {
	int64_t cart_item_id;
	int64_t item_id;
	int quantity;
	int period;         /* 0 in a normal cart */
	int64_t created_at; /* Unix seconds */
	int64_t updated_at;
	char *enterprise; /* NULL for SQL NULL */
	char *thumbnail;
	char *product;
	struct price price; /* current price of the item */
};

struct cart {
	int64_t cart_id;
	int64_t user_id;
	enum cart_kind kind;
	struct cart_line *lines; /* in the order they were added */
	size_t nlines;
};

void cart_release(struct cart *c);

/* "NORMAL" / "SUBSCRIPTION": the kind as stored in carts.kind. */
const char *cart_kind_name(enum cart_kind kind);

/* NULL when 1 <= q <= 999, else "1 이상이어야 합니다" / "999 이하여야 합니다". */
const char *cart_rule_quantity(int64_t q);
/* NULL when 30 <= days <= 365, else "30 이상이어야 합니다" / "365 이하여야 합니다". */
const char *cart_rule_period(int64_t days);

/* The four totals of §2.2 over the lines (all 0 for an empty cart). */
void cart_totals(const struct cart *c, struct price_totals *out);

#endif
