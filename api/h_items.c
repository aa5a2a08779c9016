/* h_items: the catalogue (API.md §4, all public): the main page (cached, api/cache.h), the item
 * detail (counts a view, api/views.h) and the four list endpoints with the filters and sorts of
 * §2.9. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/cache.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/paging.h"
#include "api/shapes.h"
#include "api/views.h"
#include "api/worker.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/json.h"
#include "core/category.h"
#include "core/item.h"
#include "core/rules.h"
#include "core/store_item.h"
#include "common/banned.h"

#define MAIN_LIST_SIZE 9
/* A keyword or brand of ITEM_TEXT_MAX characters, each escaped: 4-byte characters at most. */
#define PATTERN_MAX (ITEM_TEXT_MAX * 4 * 2 + 3)

/* ---- shapes ----------------------------------------------------------------------------- */

static int add_star_avg(cJSON *o, int64_t x100)
{
	return json_add_fraction(o, "starAvg", x100, 2);
}

static int add_categories(cJSON *o, uint32_t mask)
{
	cJSON *c = shape_categories(mask);
	return c && cJSON_AddItemToObject(o, "categories", c) ? 0 : -E_NOMEM;
}

/* The list element of §4.1: exactly 13 keys. NULL when out of memory. */
static cJSON *summary_json(const struct item_summary *s)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || json_add_int(o, "itemId", s->item_id) ||
	    json_add_string_or_null(o, "thumbnail", s->thumbnail) ||
	    json_add_string_or_null(o, "productName", s->product_name) ||
	    json_add_string_or_null(o, "enterprise", s->enterprise) ||
	    json_add_string_or_null(o, "mainFunction", s->main_function) ||
	    json_add_string_or_null(o, "baseStandard", s->base_standard) ||
	    json_add_int(o, "realPrice", s->price.real) ||
	    shape_add_discount_rate(o, s->price.p10) ||
	    json_add_int(o, "discountPrice", s->price.discount) ||
	    json_add_int(o, "sales", s->sales) || add_star_avg(o, s->star_avg_x100) ||
	    json_add_int(o, "reviewSize", s->review_size) || add_categories(o, s->categories)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The item detail of §4.3: exactly 21 keys. NULL when out of memory. */
static cJSON *detail_json(const struct item_detail *d)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || json_add_int(o, "itemId", d->item_id) ||
	    json_add_string_or_null(o, "thumbnail", d->thumbnail) ||
	    json_add_string_or_null(o, "descriptionImage", d->description_image) ||
	    json_add_string_or_null(o, "enterprise", d->enterprise) ||
	    json_add_string_or_null(o, "productName", d->product_name) ||
	    json_add_string_or_null(o, "statementNumber", d->statement_number) ||
	    json_add_string_or_null(o, "registeredDate", d->registered_date) ||
	    json_add_string_or_null(o, "distributionPeriod", d->distribution_period) ||
	    json_add_string_or_null(o, "sungsang", d->sungsang) ||
	    json_add_string_or_null(o, "servingUse", d->serving_use) ||
	    json_add_string_or_null(o, "preservePeriod", d->preserve_period) ||
	    json_add_string_or_null(o, "intake", d->intake) ||
	    json_add_string_or_null(o, "mainFunction", d->main_function) ||
	    json_add_string_or_null(o, "baseStandard", d->base_standard) ||
	    json_add_int(o, "realPrice", d->price.real) ||
	    json_add_int(o, "originPrice", d->price.origin) ||
	    shape_add_discount_rate(o, d->price.p10) ||
	    json_add_int(o, "discountPrice", d->price.discount) ||
	    json_add_int(o, "sales", d->sales) || add_star_avg(o, d->star_avg_x100) ||
	    add_categories(o, d->categories)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The list elements of l as a JSON array. NULL when out of memory. */
static cJSON *list_json(const struct item_list *l)
{
	cJSON *arr = cJSON_CreateArray();
	size_t n = item_list_count(l);

	for (size_t i = 0; arr && i < n; i++) {
		struct item_summary s;
		cJSON *o;

		item_list_get(l, i, &s);
		o = summary_json(&s);
		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

/* ---- GET /api/items/main ---------------------------------------------------------------- */

/* The 9 first items of the whole catalogue in an order, as a JSON array. */
static int top_items(struct db *db, enum item_order order, cJSON **out)
{
	struct item_query all = {.kind = ITEM_LIST_SEARCH};
	struct item_list *l = NULL;
	int rc = store_item_list(db, &all, order, 0, MAIN_LIST_SIZE, &l);

	if (rc)
		return rc;
	*out = list_json(l);
	item_list_free(l);
	return *out ? 0 : -E_NOMEM;
}

/* {"saleItem": [...], "discountRateItem": [...]} printed into body. */
static int build_main(struct db *db, struct buf *body)
{
	cJSON *data = cJSON_CreateObject(), *sale = NULL, *discount = NULL;
	int rc;

	if (!data)
		return -E_NOMEM;
	rc = top_items(db, ITEM_ORDER_SALES, &sale);
	if (!rc) {
		cJSON_AddItemToObject(data, "saleItem", sale);
		rc = top_items(db, ITEM_ORDER_DISCOUNT_RATE_H, &discount);
	}
	if (!rc) {
		cJSON_AddItemToObject(data, "discountRateItem", discount);
		rc = json_print_to(data, body);
	}
	cJSON_Delete(data);
	return rc;
}

int h_items_main(struct req *r)
{
	struct buf data = BUF_INIT(0), out = BUF_INIT(0);
	char now[CLOCK_TS_LEN];
	long long gen;
	int rc = 0;

	if (!cache_main_get(r->w->redis, &data, &gen)) {
		buf_reset(&data);
		rc = build_main(r->w->db, &data);
		if (rc)
			goto out;
		cache_main_put(gen, data.data, data.len);
	}
	/* the wrapper of http_send_data around the (cached) data object */
	clock_format_ts(clock_now(), now);
	if (buf_puts(&out, "{\"data\":") || buf_append(&out, data.data, data.len) ||
	    buf_printf(&out, ",\"createTime\":\"%s\"}", now)) {
		rc = -E_NOMEM;
		goto out;
	}
	http_send_raw(r, 200, "application/json; charset=utf-8", out.data, out.len);
out:
	buf_release(&out);
	buf_release(&data);
	return rc ? http_send_error(r, rc, NULL) : 0;
}

/* ---- GET /api/items/{itemId} ------------------------------------------------------------ */

int h_item_get(struct req *r)
{
	struct field_errors fe = {0};
	struct item_detail d;
	int64_t id = 0;
	cJSON *data;
	int rc = req_path_id(r, 0, "itemId", &fe, &id);

	if (rc < 0)
		return http_send_field_errors(r, &fe);
	if (rc == 1)
		return http_send_error(r, -E_ITEM_NOT_FOUND, NULL);
	rc = store_item_detail(r->w->db, id, &d);
	if (rc)
		return http_send_error(r, rc, NULL);
	data = detail_json(&d);
	item_detail_release(&d);
	if (!data)
		return http_send_error(r, -E_NOMEM, NULL);
	rc = http_send_data(r, 200, data);
	/* after the answer: the client does not wait for the counter */
	views_record(r->w->redis, id, r->client_ip);
	return rc;
}

/* ---- the four lists --------------------------------------------------------------------- */

/* paging's item sorts, in the same (contract) order as enum item_order */
static const enum item_order orders[] = {
    [SORT_SALES] = ITEM_ORDER_SALES,
    [SORT_PRICE_H] = ITEM_ORDER_PRICE_H,
    [SORT_PRICE_L] = ITEM_ORDER_PRICE_L,
    [SORT_DISCOUNT_RATE_H] = ITEM_ORDER_DISCOUNT_RATE_H,
    [SORT_DISCOUNT_RATE_L] = ITEM_ORDER_DISCOUNT_RATE_L,
    [SORT_REVIEW_COUNT] = ITEM_ORDER_REVIEW_COUNT,
};

/* Records a field error quoting value, made printable when it is not UTF-8. */
static void add_error(struct field_errors *fe, int code, const char *field, const char *value,
                      const char *reason)
{
	char shown[FIELD_VALUE_MAX];

	item_utf8_sanitize(value ? value : "", shown, sizeof(shown));
	field_errors_add(fe, code, field, shown, reason);
}

/* categoryName (required, one of the nine names): its id 1..9, or 0 after an error. */
static int read_category(struct req *r, struct field_errors *fe)
{
	const char *v = req_query(r, "categoryName");
	int idx;

	if (!v || !*v) {
		field_errors_add(fe, E_VALIDATION_FAILED, "categoryName", "", REASON_REQUIRED);
		return 0;
	}
	idx = category_index(v);
	if (idx < 0) {
		add_error(fe, E_INVALID_PARAMETER_TYPE, "categoryName", v, REASON_TYPE);
		return 0;
	}
	return idx + 1;
}

/* keyword / brand: NULL for no filter (absent or empty), else its LIKE pattern in pattern. */
static const char *read_text(struct req *r, const char *name, char *pattern, size_t cap,
                             struct field_errors *fe)
{
	const char *v = req_query(r, name);

	if (!v || !*v)
		return NULL;
	if (!item_utf8_valid(v)) {
		add_error(fe, E_INVALID_PARAMETER_TYPE, name, v, REASON_TYPE);
		return NULL;
	}
	if (json_utf8_len(v) > ITEM_TEXT_MAX) {
		field_errors_add(fe, E_VALIDATION_FAILED, name, v,
		                 rule_maxlen_reason(ITEM_TEXT_MAX));
		return NULL;
	}
	if (item_like_pattern(v, pattern, cap)) {
		field_errors_add(fe, E_VALIDATION_FAILED, name, v,
		                 rule_maxlen_reason(ITEM_TEXT_MAX));
		return NULL;
	}
	return pattern;
}

/* low / high: integers >= 0, default 0. */
static int64_t read_price(struct req *r, const char *name, struct field_errors *fe)
{
	int64_t v = 0;

	if (req_query_int64(r, name, false, fe, &v) != JSON_PRESENT)
		return 0;
	if (v < 0) {
		field_errors_add(fe, E_VALIDATION_FAILED, name, req_query(r, name),
		                 rule_min_reason(0));
		return 0;
	}
	return v;
}

/*
 * The page: one statement for the rows; the total comes from a COUNT statement unless the rows
 * already tell it (a page that is neither full nor past the end holds the last match).
 */
static int list_route(struct req *r, enum item_list_kind kind)
{
	struct field_errors fe = {0};
	struct item_query q = {.kind = kind};
	struct item_list *l = NULL;
	struct paging pg;
	char pattern[PATTERN_MAX];
	int64_t low, high, total = 0;
	size_t n;
	cJSON *items;
	int rc;

	/* field-table order of §4.4 */
	if (kind == ITEM_LIST_CATEGORY)
		q.category_id = read_category(r, &fe);
	q.pattern = read_text(r, kind == ITEM_LIST_BRAND ? "brand" : "keyword", pattern,
	                      sizeof(pattern), &fe);
	low = read_price(r, "low", &fe);
	high = read_price(r, "high", &fe);
	paging_parse(r, PAGING_ITEMS, &fe, &pg);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	q.price = item_price_range(low, high);

	rc = store_item_list(r->w->db, &q, orders[pg.sort], pg.offset, pg.size, &l);
	if (rc)
		return http_send_error(r, rc, NULL);
	n = item_list_count(l);
	if (n > 0 && (int64_t)n < pg.size)
		total = pg.offset + (int64_t)n;
	else if (n == 0 && pg.offset == 0)
		total = 0;
	else
		rc = store_item_count(r->w->db, &q, &total);
	if (rc) {
		item_list_free(l);
		return http_send_error(r, rc, NULL);
	}
	items = list_json(l);
	item_list_free(l);
	if (!items)
		return http_send_error(r, -E_NOMEM, NULL);
	return http_send_page(r, items, pg.page, pg.size, total);
}

int h_items_search(struct req *r)
{
	return list_route(r, ITEM_LIST_SEARCH);
}

int h_items_on_sale(struct req *r)
{
	return list_route(r, ITEM_LIST_ON_SALE);
}

int h_items_categories(struct req *r)
{
	return list_route(r, ITEM_LIST_CATEGORY);
}

int h_items_brands(struct req *r)
{
	return list_route(r, ITEM_LIST_BRAND);
}
