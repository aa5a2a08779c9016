/*
 * item: the pure rules of the catalogue lists (API.md §2.9, §4.4).
 *
 *   text filters   keyword (productName) and brand (enterprise): a substring, case-insensitive
 *                  for Latin letters, with %, _ and \ matched literally. item_like_pattern
 *                  turns the text into a LIKE pattern "%<text>%" with those three escaped by
 *                  a backslash (the store compares LOWER(column) with LOWER(pattern) under a
 *                  binary collation, so only letter case is folded, never accents or emoji).
 *   price filter   low/high on realPrice: both 0 -> no filter; low > high -> swapped; then
 *                  low <= realPrice <= high (low = high is the equality case).
 *   sort orders    the six sorts of §1.4, each with item_id ascending as the last key.
 *
 * Pure functions; thread-safe.
 */
#ifndef PV_CORE_ITEM_H
#define PV_CORE_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ITEM_TEXT_MAX 100 /* keyword / brand: at most 100 characters */

/* The sorts of API.md §1.4 for items, in the contract's order (SALES is the default). */
enum item_order {
	ITEM_ORDER_SALES,
	ITEM_ORDER_PRICE_H,
	ITEM_ORDER_PRICE_L,
	ITEM_ORDER_DISCOUNT_RATE_H,
	ITEM_ORDER_DISCOUNT_RATE_L,
	ITEM_ORDER_REVIEW_COUNT,
	ITEM_ORDER_COUNT
};

struct item_price_range {
	bool active; /* false: no price filter */
	int64_t low, high;
};

/*
 * "%<text>%" with '\\', '%' and '_' preceded by a backslash, into out (outlen bytes with the
 * NUL). Needs at most 2 * strlen(text) + 3 bytes. 0, or -E_TOO_LONG (out untouched).
 */
int item_like_pattern(const char *text, char *out, size_t outlen);

/* The price filter from low, high >= 0 (validated by the caller). */
struct item_price_range item_price_range(int64_t low, int64_t high);

/* 1 when s is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
int item_utf8_valid(const char *s);

/*
 * Copies s into out (outlen bytes with the NUL) with every ill-formed UTF-8 byte replaced by
 * U+FFFD, cut on a character boundary when too long: an error report can then quote it.
 */
void item_utf8_sanitize(const char *s, char *out, size_t outlen);

#endif
