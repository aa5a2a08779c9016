/*
 * items: integration-test helpers for the item routes (API.md §4): catalogue rows made in SQL
 * (there is no item write API) with per-test unique tokens in their texts, so that a filter
 * sees only the test's own rows; exact checks of list elements, details and pages; the raw
 * text of a JSON number (0.1 must not read as 0.10); and direct Redis access for the main-page
 * cache and the view counters.
 *
 * Names are it_items_* / it_item_*. Not thread-safe (one Check test process at a time).
 */
#ifndef PV_TESTS_IT_ITEMS_H
#define PV_TESTS_IT_ITEMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "tests/it/lib/it.h"

struct redis;

/* Category bits, in the order of API.md §2.10. */
enum {
	IT_EYE = 1u << 0,
	IT_BONE = 1u << 1,
	IT_BRAIN = 1u << 2,
	IT_INTESTINE = 1u << 3,
	IT_LIVER = 1u << 4,
	IT_SKIN = 1u << 5,
	IT_ANTIOXIDANT = 1u << 6,
	IT_FATIGUE = 1u << 7,
	IT_ETC = 1u << 8,
};

/* An item row. NULL texts are SQL NULL (product_name is NOT NULL in the schema). */
struct it_item {
	int64_t id; /* set by it_item_insert */
	const char *product;
	const char *enterprise;
	const char *thumbnail;
	const char *description_image;
	const char *statement_number;
	const char *registered_date;
	const char *distribution_period;
	const char *sungsang;
	const char *serving_use;
	const char *preserve_period;
	const char *intake;
	const char *main_function;
	const char *base_standard;
	int64_t origin;
	int p10;
	int64_t sales;
	int64_t review_size;
	int64_t star_x100;
	uint32_t categories; /* IT_* bits; inserted in reverse order, to prove the output order */
};

/* A token unique to this run and process: lowercase letters and digits, 16 characters. */
void it_items_token(char *out, size_t n);
/* INSERT INTO items (+ item_categories); sets it->id. */
void it_item_insert_at(struct it_loc at, struct it_item *it);
#define it_item_insert(it) it_item_insert_at(IT_HERE, it)
/* A sales value above every value used before in this run (now in µs). */
int64_t it_items_big_sales(void);

/* The derived prices of §2.1 computed independently in the test. */
int64_t it_items_discount(int64_t origin, int p10);
int64_t it_items_real(int64_t origin, int p10);

/*
 * The raw text of the value of key in the first object of body that starts with
 * {"itemId":<id>, (so number formats such as 0.1 / 0.0 / 4.25 can be checked exactly).
 */
void it_items_raw_at(struct it_loc at, const char *body, int64_t item_id, const char *key,
                     char *out, size_t n);
#define it_items_raw(body, id, key, out, n) it_items_raw_at(IT_HERE, body, id, key, out, n)

/* Asserts that the value of key in the object of item_id in r's body is written exactly as
 * numer / 10^scale in the contract's form (0.1, 0.095, 0.0, 4.5, 4.25, 5.0). */
void it_items_assert_fraction_at(struct it_loc at, const struct it_resp *r, int64_t item_id,
                                 const char *key, int64_t numer, int scale);
#define it_items_assert_fraction(r, id, key, numer, scale)                                         \
	it_items_assert_fraction_at(IT_HERE, r, id, key, numer, scale)

/* Asserts that o is exactly the list element (§4.1, 13 keys) of it, values included. */
void it_items_assert_element_at(struct it_loc at, const struct it_resp *r, const cJSON *o,
                                const struct it_item *it);
#define it_items_assert_element(r, o, it) it_items_assert_element_at(IT_HERE, r, o, it)

/* Asserts that o is exactly the item detail (§4.3, 21 keys) of it, values included. */
void it_items_assert_detail_at(struct it_loc at, const struct it_resp *r, const cJSON *o,
                               const struct it_item *it);
#define it_items_assert_detail(r, o, it) it_items_assert_detail_at(IT_HERE, r, o, it)

/*
 * Asserts the page wrapper of §1.2 (exactly time, data, pageInfo; JSON content type; time in
 * +09:00 and recent) and pageInfo {page, size, totalElements, totalPages = ceil}. Returns data.
 */
const cJSON *it_items_assert_page_at(struct it_loc at, const struct it_resp *r, int64_t page,
                                     int64_t size, int64_t total);
#define it_items_assert_page(r, page, size, total)                                                 \
	it_items_assert_page_at(IT_HERE, r, page, size, total)

/* Asserts that the itemIds of the array data are exactly ids[0..n) in that order. */
void it_items_assert_ids_at(struct it_loc at, const struct it_resp *r, const cJSON *data,
                            const int64_t *ids, size_t n);
#define it_items_assert_ids(r, data, ids, n) it_items_assert_ids_at(IT_HERE, r, data, ids, n)

/* GET path; asserts 200 and the page wrapper, returns data (borrowed from out). */
const cJSON *it_items_get_page_at(struct it_loc at, const char *path, struct it_resp *out,
                                  int64_t page, int64_t size, int64_t total);
#define it_items_get_page(path, out, page, size, total)                                            \
	it_items_get_page_at(IT_HERE, path, out, page, size, total)

/* Percent-encodes s (UTF-8 bytes, everything but [A-Za-z0-9-._~]) into out. */
void it_items_urlencode(const char *s, char *out, size_t n);

/* This process's connection to the test Redis (PV_REDIS_*), opened on first use. */
struct redis *it_items_redis(void);
/* The configured key prefix ("pv:" unless PV_REDIS_PREFIX says otherwise). */
const char *it_items_prefix(void);
/* INCR of the main-page generation, the invalidation the server does itself. */
void it_items_main_invalidate_at(struct it_loc at);
#define it_items_main_invalidate() it_items_main_invalidate_at(IT_HERE)

#endif
