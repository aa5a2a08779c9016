/*
 * store_item: the catalogue tables items and item_categories as the item routes read them
 * (API.md §2.1, §2.9, §4), and the view counter. All SQL about items for those routes lives
 * here.
 *
 * Prices are read from the table's generated columns (discount_price, real_price), so they
 * are the rule of §2.1 by construction; discountRate is discount_p10 / 1000 and starAvg is
 * star_avg_x100 / 100. The category set comes from item_categories in the same statement
 * (GROUP_CONCAT of the ids) as a bit mask (core/category.h).
 *
 * A list is one statement: the filters of §2.9, one of the six orders (each ending with
 * item_id ascending, served by the matching index of the schema) and LIMIT offset, limit; its
 * total is a second statement (store_item_count) with the same filters.
 *
 * Results: struct item_list owns the rows; item_list_get fills a struct item_summary whose
 * strings are borrowed from the list (valid until item_list_free). struct item_detail owns its
 * row the same way (item_detail_release). Functions take the caller's db handle (one per
 * thread) and return 0 or -E_x; out parameters are written only on success.
 */
#ifndef PV_CORE_STORE_ITEM_H
#define PV_CORE_STORE_ITEM_H

#include <stddef.h>
#include <stdint.h>

#include "core/item.h"
#include "core/price.h"

struct db;
struct db_rows;

/* An element of the item lists (API.md §4.1). NULL strings are SQL NULL. */
struct item_summary {
	int64_t item_id;
	const char *thumbnail;
	const char *product_name;
	const char *enterprise;
	const char *main_function;
	const char *base_standard;
	struct price price;
	int64_t sales;
	int64_t review_size;
	int64_t star_avg_x100;
	uint32_t categories; /* bit mask, 0 = none */
};

/* The item detail (API.md §4.3). Strings are borrowed from rows. */
struct item_detail {
	int64_t item_id;
	const char *thumbnail;
	const char *description_image;
	const char *enterprise;
	const char *product_name;
	const char *statement_number;
	const char *registered_date;
	const char *distribution_period;
	const char *sungsang;
	const char *serving_use;
	const char *preserve_period;
	const char *intake;
	const char *main_function;
	const char *base_standard;
	struct price price;
	int64_t sales;
	int64_t star_avg_x100;
	uint32_t categories;
	struct db_rows *rows; /* owned */
};

/* Which list of API.md §4.4. */
enum item_list_kind {
	ITEM_LIST_SEARCH,   /* productName contains the text; price */
	ITEM_LIST_ON_SALE,  /* as search, and discount_p10 > 0 */
	ITEM_LIST_CATEGORY, /* the category; productName contains the text; price */
	ITEM_LIST_BRAND,    /* enterprise contains the text; price */
	ITEM_LIST_KINDS
};

struct item_query {
	enum item_list_kind kind;
	const char *pattern; /* item_like_pattern of keyword or brand; NULL = no text filter */
	struct item_price_range price;
	int category_id; /* ITEM_LIST_CATEGORY: 1..9 (category index + 1) */
};

struct item_list;

size_t item_list_count(const struct item_list *l);
void item_list_get(const struct item_list *l, size_t i, struct item_summary *out);
void item_list_free(struct item_list *l);

/* limit rows from offset of the query's matches in the given order. */
int store_item_list(struct db *db, const struct item_query *q, enum item_order order,
                    int64_t offset, int64_t limit, struct item_list **out);
/* The number of rows the query matches. */
int store_item_count(struct db *db, const struct item_query *q, int64_t *total);

/* One item; -E_ITEM_NOT_FOUND when there is none. Release with item_detail_release. */
int store_item_detail(struct db *db, int64_t item_id, struct item_detail *out);
void item_detail_release(struct item_detail *d);

/*
 * Adds deltas[i] (> 0) to items.views of item_ids[i], all n in one transaction. Unknown ids
 * are skipped (the item was deleted by an administrator).
 */
int store_item_add_views(struct db *db, const int64_t *item_ids, const int64_t *deltas, size_t n);

#endif
