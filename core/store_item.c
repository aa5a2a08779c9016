/* store_item: SQL for the item routes and the view counter (see store_item.h). */
#include "core/store_item.h"

#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/err.h"
#include "core/category.h"
#include "common/banned.h"

/*
 * The columns of a list element, in the order item_list_get reads them. The category ids come
 * from a correlated subquery on the primary key of item_categories, evaluated for the rows
 * returned only.
 */
#define LIST_COLUMNS                                                                               \
	"i.item_id, i.thumbnail, i.product_name, i.enterprise, i.main_function,"                   \
	" i.base_standard, i.origin_price, i.discount_p10, i.discount_price, i.real_price,"        \
	" i.sales, i.review_size, i.star_avg_x100,"                                                \
	" (SELECT GROUP_CONCAT(c.category_id) FROM item_categories c WHERE c.item_id = i.item_id)"

enum list_col {
	L_ID,
	L_THUMBNAIL,
	L_PRODUCT,
	L_ENTERPRISE,
	L_MAIN_FUNCTION,
	L_BASE_STANDARD,
	L_ORIGIN,
	L_P10,
	L_DISCOUNT,
	L_REAL,
	L_SALES,
	L_REVIEW_SIZE,
	L_STAR,
	L_CATEGORIES,
};

/*
 * Text filter: LOWER on both sides, compared under the binary collation, so Latin (and other)
 * letters match whatever their case and nothing else is folded (accents, emoji and Hangul
 * compare exactly; the table's unicode_ci collation would fold them). The parameter is given
 * the column's collation before LOWER so that both sides use the same case mapping. The first
 * parameter is NULL for "no text filter"; MariaDB optimises each execution with its values, so
 * that branch is folded away and costs nothing.
 */
#define LIKE_TEXT                                                                                  \
	" LIKE LOWER(CONVERT(? USING utf8mb4) COLLATE utf8mb4_unicode_ci) COLLATE utf8mb4_bin"     \
	" ESCAPE '\\\\'"
#define NAME_FILTER  "(? IS NULL OR LOWER(i.product_name) COLLATE utf8mb4_bin" LIKE_TEXT ")"
#define BRAND_FILTER "(? IS NULL OR LOWER(i.enterprise) COLLATE utf8mb4_bin" LIKE_TEXT ")"
/* Price filter on realPrice; the first parameter is NULL for "no price filter". */
#define PRICE_FILTER "(? IS NULL OR i.real_price BETWEEN ? AND ?)"

#define FROM_ITEMS " FROM items i WHERE "
/* Categories: driven by idx_item_categories_category (category_id, item_id). */
#define FROM_CATEGORY                                                                              \
	" FROM item_categories k JOIN items i ON i.item_id = k.item_id"                            \
	" WHERE k.category_id = ? AND "

#define W_SEARCH  NAME_FILTER " AND " PRICE_FILTER
#define W_ON_SALE "i.discount_p10 > 0 AND " NAME_FILTER " AND " PRICE_FILTER
#define W_BRAND   BRAND_FILTER " AND " PRICE_FILTER

/*
 * List pages and their counts ask MariaDB's query cache for their results (SQL_CACHE; the
 * server runs with query_cache_type=DEMAND, see README.md). The server drops a cached result
 * as soon as any write to items or item_categories commits, so answers stay exact; without
 * the cache a keyword count scans every row (a leading-% LIKE cannot use an index).
 *
 * A page is a deferred join: the inner query finds the page's ids in the order (each order is
 * an index of the schema, (key, item_id) in the same directions, and only the key and the id
 * are carried through a sort), then the page's few rows are read by primary key. Sorting whole
 * rows would drag the TEXT columns through a temporary table.
 */
#define PAGE(from_where, key, dir)                                                                 \
	"SELECT SQL_CACHE " LIST_COLUMNS " FROM (SELECT i.item_id, " key " AS k" from_where        \
	" ORDER BY " key dir                                                                       \
	", i.item_id LIMIT ? OFFSET ?) p JOIN items i ON i.item_id = p.item_id"                    \
	" ORDER BY p.k" dir ", p.item_id"

/* The six orders of enum item_order, in its order. */
/* clang-format off */
#define LIST_SQL(from_where)                                                                       \
	{                                                                                          \
		PAGE(from_where, "i.sales", " DESC"),                                              \
		PAGE(from_where, "i.real_price", " DESC"),                                         \
		PAGE(from_where, "i.real_price", ""),                                              \
		PAGE(from_where, "i.discount_p10", " DESC"),                                       \
		PAGE(from_where, "i.discount_p10", ""),                                            \
		PAGE(from_where, "i.review_size", " DESC"),                                        \
	}
/* clang-format on */

/* [kind][order]; string literals, so the statement cache may key them by address. */
static const char *const sql_list[ITEM_LIST_KINDS][ITEM_ORDER_COUNT] = {
    LIST_SQL(FROM_ITEMS W_SEARCH),
    LIST_SQL(FROM_ITEMS W_ON_SALE),
    LIST_SQL(FROM_CATEGORY W_SEARCH),
    LIST_SQL(FROM_ITEMS W_BRAND),
};

static const char *const sql_count[ITEM_LIST_KINDS] = {
    "SELECT SQL_CACHE COUNT(*)" FROM_ITEMS W_SEARCH,
    "SELECT SQL_CACHE COUNT(*)" FROM_ITEMS W_ON_SALE,
    "SELECT SQL_CACHE COUNT(*)" FROM_CATEGORY W_SEARCH,
    "SELECT SQL_CACHE COUNT(*)" FROM_ITEMS W_BRAND,
};

/* A category without other filters: an index-only count (the foreign key guarantees the item). */
static const char sql_count_category_only[] =
    "SELECT COUNT(*) FROM item_categories WHERE category_id = ?";

static const char sql_detail[] =
    "SELECT i.item_id, i.thumbnail, i.description_image, i.enterprise, i.product_name,"
    " i.statement_number, i.registered_date, i.distribution_period, i.sungsang,"
    " i.serving_use, i.preserve_period, i.intake, i.main_function, i.base_standard,"
    " i.origin_price, i.discount_p10, i.discount_price, i.real_price, i.sales,"
    " i.star_avg_x100,"
    " (SELECT GROUP_CONCAT(c.category_id) FROM item_categories c WHERE c.item_id = i.item_id)"
    " FROM items i WHERE i.item_id = ?";

enum detail_col {
	D_ID,
	D_THUMBNAIL,
	D_DESCRIPTION_IMAGE,
	D_ENTERPRISE,
	D_PRODUCT,
	D_STATEMENT_NUMBER,
	D_REGISTERED_DATE,
	D_DISTRIBUTION_PERIOD,
	D_SUNGSANG,
	D_SERVING_USE,
	D_PRESERVE_PERIOD,
	D_INTAKE,
	D_MAIN_FUNCTION,
	D_BASE_STANDARD,
	D_ORIGIN,
	D_P10,
	D_DISCOUNT,
	D_REAL,
	D_SALES,
	D_STAR,
	D_CATEGORIES,
};

static const char sql_add_views[] = "UPDATE items SET views = views + ? WHERE item_id = ?";

struct item_list {
	struct db_rows *rows;
};

size_t item_list_count(const struct item_list *l)
{
	return l ? db_rows_count(l->rows) : 0;
}

static void read_price(const struct db_rows *rows, size_t i, size_t origin, size_t p10,
                       size_t discount, size_t real, struct price *out)
{
	out->origin = db_rows_i64(rows, i, origin);
	out->p10 = (int)db_rows_i64(rows, i, p10);
	out->discount = db_rows_i64(rows, i, discount);
	out->real = db_rows_i64(rows, i, real);
}

void item_list_get(const struct item_list *l, size_t i, struct item_summary *out)
{
	const struct db_rows *rows = l->rows;

	out->item_id = db_rows_i64(rows, i, L_ID);
	out->thumbnail = db_rows_str(rows, i, L_THUMBNAIL);
	out->product_name = db_rows_str(rows, i, L_PRODUCT);
	out->enterprise = db_rows_str(rows, i, L_ENTERPRISE);
	out->main_function = db_rows_str(rows, i, L_MAIN_FUNCTION);
	out->base_standard = db_rows_str(rows, i, L_BASE_STANDARD);
	read_price(rows, i, L_ORIGIN, L_P10, L_DISCOUNT, L_REAL, &out->price);
	out->sales = db_rows_i64(rows, i, L_SALES);
	out->review_size = db_rows_i64(rows, i, L_REVIEW_SIZE);
	out->star_avg_x100 = db_rows_i64(rows, i, L_STAR);
	out->categories = category_mask_from_ids(db_rows_str(rows, i, L_CATEGORIES));
}

void item_list_free(struct item_list *l)
{
	if (!l)
		return;
	db_rows_free(l->rows);
	free(l);
}

/* The filter parameters of q in statement order; returns how many were written. */
static size_t filter_params(const struct item_query *q, struct db_param *p)
{
	size_t n = 0;

	if (q->kind == ITEM_LIST_CATEGORY)
		p[n++] = DB_I64(q->category_id);
	p[n++] = DB_STR(q->pattern);
	p[n++] = DB_STR(q->pattern);
	p[n++] = q->price.active ? DB_I64(1) : DB_NULL();
	p[n++] = DB_I64(q->price.low);
	p[n++] = DB_I64(q->price.high);
	return n;
}

static int query_ok(const struct item_query *q)
{
	if ((unsigned)q->kind >= ITEM_LIST_KINDS)
		return 0;
	return q->kind != ITEM_LIST_CATEGORY ||
	       (q->category_id >= 1 && q->category_id <= CATEGORY_COUNT);
}

int store_item_list(struct db *db, const struct item_query *q, enum item_order order,
                    int64_t offset, int64_t limit, struct item_list **out)
{
	struct db_param p[8];
	struct item_list *l;
	size_t n;
	int rc;

	if (!query_ok(q) || (unsigned)order >= ITEM_ORDER_COUNT || offset < 0 || limit < 0)
		return -E_INTERNAL_ERROR;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -E_NOMEM;
	n = filter_params(q, p);
	p[n++] = DB_I64(limit);
	p[n++] = DB_I64(offset);
	rc = db_query(db, sql_list[q->kind][order], p, n, &l->rows);
	if (rc) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int store_item_count(struct db *db, const struct item_query *q, int64_t *total)
{
	struct db_param p[8];
	struct db_rows *rows = NULL;
	size_t n;
	int rc;

	if (!query_ok(q))
		return -E_INTERNAL_ERROR;
	if (q->kind == ITEM_LIST_CATEGORY && !q->pattern && !q->price.active) {
		p[0] = DB_I64(q->category_id);
		rc = db_query(db, sql_count_category_only, p, 1, &rows);
	} else {
		n = filter_params(q, p);
		rc = db_query(db, sql_count[q->kind], p, n, &rows);
	}
	if (rc)
		return rc;
	if (db_rows_count(rows) != 1) {
		db_rows_free(rows);
		return -E_INTERNAL_ERROR;
	}
	*total = db_rows_i64(rows, 0, 0);
	db_rows_free(rows);
	return 0;
}

int store_item_detail(struct db *db, int64_t item_id, struct item_detail *out)
{
	struct db_param p[1] = {DB_I64(item_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_detail, p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) != 1) {
		db_rows_free(rows);
		return -E_ITEM_NOT_FOUND;
	}
	out->item_id = db_rows_i64(rows, 0, D_ID);
	out->thumbnail = db_rows_str(rows, 0, D_THUMBNAIL);
	out->description_image = db_rows_str(rows, 0, D_DESCRIPTION_IMAGE);
	out->enterprise = db_rows_str(rows, 0, D_ENTERPRISE);
	out->product_name = db_rows_str(rows, 0, D_PRODUCT);
	out->statement_number = db_rows_str(rows, 0, D_STATEMENT_NUMBER);
	out->registered_date = db_rows_str(rows, 0, D_REGISTERED_DATE);
	out->distribution_period = db_rows_str(rows, 0, D_DISTRIBUTION_PERIOD);
	out->sungsang = db_rows_str(rows, 0, D_SUNGSANG);
	out->serving_use = db_rows_str(rows, 0, D_SERVING_USE);
	out->preserve_period = db_rows_str(rows, 0, D_PRESERVE_PERIOD);
	out->intake = db_rows_str(rows, 0, D_INTAKE);
	out->main_function = db_rows_str(rows, 0, D_MAIN_FUNCTION);
	out->base_standard = db_rows_str(rows, 0, D_BASE_STANDARD);
	read_price(rows, 0, D_ORIGIN, D_P10, D_DISCOUNT, D_REAL, &out->price);
	out->sales = db_rows_i64(rows, 0, D_SALES);
	out->star_avg_x100 = db_rows_i64(rows, 0, D_STAR);
	out->categories = category_mask_from_ids(db_rows_str(rows, 0, D_CATEGORIES));
	out->rows = rows;
	return 0;
}

void item_detail_release(struct item_detail *d)
{
	if (!d)
		return;
	db_rows_free(d->rows);
	memset(d, 0, sizeof(*d));
}

struct views_batch {
	const int64_t *ids;
	const int64_t *deltas;
	size_t n;
};

static int add_views_tx(struct db *db, void *arg)
{
	const struct views_batch *b = arg;

	for (size_t i = 0; i < b->n; i++) {
		struct db_param p[2] = {DB_I64(b->deltas[i]), DB_I64(b->ids[i])};
		int rc = db_exec(db, sql_add_views, p, 2, NULL, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

int store_item_add_views(struct db *db, const int64_t *item_ids, const int64_t *deltas, size_t n)
{
	struct views_batch b = {item_ids, deltas, n};

	if (n == 0)
		return 0;
	return db_tx(db, add_views_tx, &b);
}
