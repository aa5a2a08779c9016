/*
 * paging: the page, size and sort query parameters of API.md §1.4, parsed and clamped the
 * same way on every list route.
 *
 *   items   (search, on-sale, categories, brands): size 8..100, sort SALES|PRICE_H|PRICE_L|
 *           DISCOUNT_RATE_H|DISCOUNT_RATE_L|REVIEW_COUNT, unknown sort -> 400
 *   reviews: size 8..100, sort NEWEST|OLDEST|STAR_H|STAR_L, unknown sort -> 400
 *   orders:  size 7..100, sort DESC|ASC, any other value reads as DESC
 *
 * page defaults to 1 (< 1 -> 1, > 1000000 -> 1000000); size defaults to 8 and is moved to the
 * nearest bound; a non-integer page or size is INVALID_PARAMETER_TYPE.
 */
#ifndef PV_API_PAGING_H
#define PV_API_PAGING_H

#include <stdint.h>

struct req;
struct field_errors;

enum paging_kind { PAGING_ITEMS, PAGING_REVIEWS, PAGING_ORDERS };

enum item_sort {
	SORT_SALES,
	SORT_PRICE_H,
	SORT_PRICE_L,
	SORT_DISCOUNT_RATE_H,
	SORT_DISCOUNT_RATE_L,
	SORT_REVIEW_COUNT
};
enum review_sort { SORT_NEWEST, SORT_OLDEST, SORT_STAR_H, SORT_STAR_L };
enum order_sort { SORT_DESC, SORT_ASC };

struct paging {
	int64_t page;   /* 1-based, after clamping */
	int64_t size;   /* after clamping */
	int sort;       /* enum item_sort / review_sort / order_sort */
	int64_t offset; /* (page - 1) * size */
};

/* Records field errors into fe (and returns < 0) for bad page/size/sort. */
int paging_parse(struct req *r, enum paging_kind kind, struct field_errors *fe, struct paging *out);

#endif
