/*
 * price: the price rules of API.md §2.1-2.3, in one place.
 *
 * An item's price is (originPrice, p10) where p10 is the discount in tenths of a percent
 * (0..1000, discountRate = p10 / 1000). discountPrice = floor((origin * p10 + 500) / 1000)
 * (round half up), realPrice = origin - discountPrice. The catalogue stores p10 and derives
 * the other two in generated columns with the same formula; price_derive is the C side used
 * by tests, snapshots and totals. Totals (cart §2.2, order §2.3) add lines with
 * price_totals_add. Pure functions; thread-safe.
 */
#ifndef PV_CORE_PRICE_H
#define PV_CORE_PRICE_H

#include <stdint.h>

struct price {
	int64_t origin;
	int p10;
	int64_t discount;
	int64_t real;
};

struct price_totals {
	int64_t item_count;     /* Σ quantity (totalItemCount / totalQuantity) */
	int64_t lines;          /* number of lines (totalItems) */
	int64_t total_price;    /* Σ origin × quantity */
	int64_t total_discount; /* Σ discount × quantity */
	int64_t expect_price;   /* Σ real × quantity = total_price - total_discount */
};

/* p10 from a percentage given in tenths (the import: clamp to 0..100 %, round half up). */
int price_p10_from_percent(double percent);
/* Fills out from origin >= 0 and p10 in 0..1000; -E_VALIDATION_FAILED otherwise. */
int price_derive(int64_t origin, int p10, struct price *out);
void price_totals_add(struct price_totals *t, const struct price *p, int64_t quantity);

#endif
