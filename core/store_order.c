/* store_order: SQL of the order routes (see store_order.h). */
#include "core/store_order.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/db.h"
#include "common/err.h"
#include "core/category.h"
#include "core/price.h"
#include "core/store_subscription.h"
#include "common/banned.h"

/* ---- statements ----------------------------------------------------------------------------- */

/* The distinct item ids of the order arrive as a JSON array ("[3,1,7]"). */
static const char sql_items[] =
    "SELECT i.item_id, i.origin_price, i.discount_p10, i.discount_price, i.real_price,"
    " i.enterprise, i.thumbnail, i.product_name"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) j"
    " JOIN items i ON i.item_id = j.id LOCK IN SHARE MODE";
static const char sql_insert_order[] =
    "INSERT INTO orders (user_id, status, is_subscription, ordered_at_cart, receiver_real_name,"
    " receiver_phone, receiver_city, receiver_detail_address, total_items, total_quantity,"
    " total_price, total_discount_price, expect_price, created_at, updated_at)"
    " VALUES (?, 'REQUEST', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
/*
 * All lines in one statement, in request order: the lines arrive as a JSON array of
 * [itemId, quantity, subscription, period, originPrice, p10, discountPrice, realPrice].
 * Rows are inserted in ORDER BY order, so their ids ascend in request order.
 */
static const char sql_insert_lines[] =
    "INSERT INTO order_items (order_id, item_id, quantity, is_subscription, period,"
    " origin_price, discount_p10, discount_price, real_price, created_at)"
    " SELECT ?, j.item_id, j.quantity, j.sub, j.period, j.origin, j.p10, j.discount, j.real_price,"
    " FROM_UNIXTIME(?)"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, item_id BIGINT PATH '$[0]',"
    " quantity INT PATH '$[1]', sub TINYINT PATH '$[2]', period INT PATH '$[3]',"
    " origin BIGINT PATH '$[4]', p10 SMALLINT PATH '$[5]', discount BIGINT PATH '$[6]',"
    " real_price BIGINT PATH '$[7]')) j ORDER BY j.n";
static const char sql_line_ids[] =
    "SELECT order_item_id FROM order_items WHERE order_id = ? ORDER BY order_item_id";

static const char sql_get_order[] =
    "SELECT o.order_id, o.user_id, o.status, o.is_subscription, o.ordered_at_cart, o.is_renewal,"
    " o.receiver_real_name, o.receiver_phone, o.receiver_city, o.receiver_detail_address,"
    " o.total_items, o.total_quantity, o.total_price, o.total_discount_price, o.expect_price,"
    " o.refunded_amount, UNIX_TIMESTAMP(o.created_at), UNIX_TIMESTAMP(o.updated_at)"
    " FROM orders o WHERE o.order_id = ?";
/* subscriptionOrderId: set on the line at approval (or on a renewal line); the subscription
 * created from the line is also found through its unique order_item_id. */
static const char sql_get_lines[] =
    "SELECT oi.order_item_id, oi.item_id, oi.quantity, oi.is_subscription, oi.period,"
    " oi.origin_price, oi.discount_p10, oi.discount_price, oi.real_price,"
    " COALESCE(oi.subscription_id, (SELECT s.subscription_id FROM subscriptions s"
    " WHERE s.order_item_id = oi.order_item_id)),"
    " i.enterprise, i.thumbnail, i.product_name"
    " FROM order_items oi JOIN items i ON i.item_id = oi.item_id"
    " WHERE oi.order_id = ? ORDER BY oi.order_item_id";

#define HISTORY_FROM                                                                               \
	" FROM orders o JOIN order_items oi ON oi.order_id = o.order_id"                           \
	" WHERE o.user_id = ? AND o.status IN (?, ?, ?)"
#define HISTORY_SELECT                                                                             \
	"SELECT o.order_id, o.status, oi.order_item_id, oi.quantity, oi.item_id, oi.real_price,"   \
	" i.product_name, i.main_function, i.thumbnail,"                                           \
	" (SELECT GROUP_CONCAT(ic.category_id) FROM item_categories ic"                            \
	" WHERE ic.item_id = oi.item_id)"                                                          \
	" FROM orders o JOIN order_items oi ON oi.order_id = o.order_id"                           \
	" JOIN items i ON i.item_id = oi.item_id"                                                  \
	" WHERE o.user_id = ? AND o.status IN (?, ?, ?)"
static const char sql_history_count[] = "SELECT COUNT(*)" HISTORY_FROM;
static const char sql_history_desc[] =
    HISTORY_SELECT " ORDER BY o.order_id DESC, oi.order_item_id ASC LIMIT ? OFFSET ?";
static const char sql_history_asc[] =
    HISTORY_SELECT " ORDER BY o.order_id ASC, oi.order_item_id ASC LIMIT ? OFFSET ?";

#define SUBS_SELECT                                                                                \
	"SELECT s.subscription_id, s.order_item_id, s.quantity, s.item_id, i.product_name,"        \
	" i.real_price, i.main_function, i.thumbnail,"                                             \
	" (SELECT GROUP_CONCAT(ic.category_id) FROM item_categories ic"                            \
	" WHERE ic.item_id = s.item_id),"                                                          \
	" s.status, s.period, s.next_payment_date, s.retry_state"                                  \
	" FROM subscriptions s JOIN items i ON i.item_id = s.item_id"                              \
	" WHERE s.user_id = ? AND s.status IN (?, ?, ?)"
static const char sql_subs_count[] =
    "SELECT COUNT(*) FROM subscriptions s WHERE s.user_id = ? AND s.status IN (?, ?, ?)";
static const char sql_subs_desc[] = SUBS_SELECT " ORDER BY s.subscription_id DESC LIMIT ? OFFSET ?";
static const char sql_subs_asc[] = SUBS_SELECT " ORDER BY s.subscription_id ASC LIMIT ? OFFSET ?";

static const char sql_sq_order[] = "SELECT user_id FROM orders WHERE order_id = ?";
static const char sql_sq_line[] =
    "SELECT COALESCE((SELECT s.subscription_id FROM subscriptions s"
    " WHERE s.order_item_id = oi.order_item_id), oi.subscription_id)"
    " FROM order_items oi WHERE oi.order_item_id = ? AND oi.order_id = ?";
static const char sql_sq_update[] =
    "UPDATE subscriptions SET quantity = ?, updated_at = FROM_UNIXTIME(?)"
    " WHERE subscription_id = ?";

/* ---- helpers -------------------------------------------------------------------------------- */

/* *dst = copy of column col of row (NULL for SQL NULL); -E_NOMEM. */
static int dup_col(const struct db_rows *rows, size_t row, size_t col, char **dst)
{
	const char *s = db_rows_str(rows, row, col);

	*dst = NULL;
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -E_NOMEM;
}

static int dup_str(const char *s, char **dst)
{
	*dst = s ? strdup(s) : NULL;
	return s && !*dst ? -E_NOMEM : 0;
}

/* ---- create --------------------------------------------------------------------------------- */

struct create_tx {
	const struct order_input *in;
	int64_t now;
	struct order out;
};

/* The row of rows whose item_id is id, or -1. */
static long find_item(const struct db_rows *rows, int64_t id)
{
	for (size_t i = 0; i < db_rows_count(rows); i++)
		if (db_rows_i64(rows, i, 0) == id)
			return (long)i;
	return -1;
}

/* Fills line l from the input line and item row `row` (snapshot by price_derive). */
static int snapshot_line(const struct order_line_input *in, const struct db_rows *rows, size_t row,
                         struct order_line *l)
{
	int64_t origin = db_rows_i64(rows, row, 1);
	int p10 = (int)db_rows_i64(rows, row, 2);
	int rc;

	/* an absurd catalogue price could overflow the totals; the catalogue never has one */
	if (origin > ORDER_UNIT_PRICE_MAX)
		return -E_INTERNAL_ERROR;
	rc = price_derive(origin, p10, &l->price);
	if (rc)
		return -E_INTERNAL_ERROR;
	/* the catalogue's generated columns follow the same rule (§2.1) */
	if (l->price.discount != db_rows_i64(rows, row, 3) ||
	    l->price.real != db_rows_i64(rows, row, 4))
		return -E_INTERNAL_ERROR;
	l->item_id = in->item_id;
	l->quantity = in->quantity;
	l->subscription = in->subscription;
	l->period = in->subscription ? in->period : 0;
	rc = dup_col(rows, row, 5, &l->enterprise);
	if (rc == 0)
		rc = dup_col(rows, row, 6, &l->thumbnail);
	if (rc == 0)
		rc = dup_col(rows, row, 7, &l->product);
	return rc;
}

static int create_fn(struct db *db, void *arg)
{
	struct create_tx *t = arg;
	const struct order_input *in = t->in;
	struct buf ids = BUF_INIT(0), lines = BUF_INIT(0);
	struct db_rows *rows = NULL;
	struct order o = {0};
	uint64_t order_id = 0;
	int rc = 0;

	order_release(&t->out); /* a retried transaction starts again */
	o.lines = calloc(in->nlines, sizeof(*o.lines));
	if (!o.lines) {
		rc = -E_NOMEM;
		goto out;
	}
	o.nlines = in->nlines;

	/* the distinct item ids, in one query */
	rc = buf_putc(&ids, '[');
	for (size_t i = 0; rc == 0 && i < in->nlines; i++) {
		size_t j = 0;
		while (j < i && in->lines[j].item_id != in->lines[i].item_id)
			j++;
		if (j == i)
			rc = buf_printf(&ids, "%s%" PRId64, ids.len > 1 ? "," : "",
			                in->lines[i].item_id);
	}
	if (rc == 0)
		rc = buf_putc(&ids, ']');
	if (rc)
		goto out;
	struct db_param ip[1] = {DB_STR(ids.data)};
	rc = db_query(db, sql_items, ip, 1, &rows);
	if (rc)
		goto out;
	for (size_t i = 0; i < in->nlines; i++) {
		long row = find_item(rows, in->lines[i].item_id);
		if (row < 0) {
			rc = -E_ITEM_NOT_FOUND;
			goto out;
		}
		rc = snapshot_line(&in->lines[i], rows, (size_t)row, &o.lines[i]);
		if (rc)
			goto out;
		o.subscription |= in->lines[i].subscription;
	}
	db_rows_free(rows);
	rows = NULL;

	order_totals(o.lines, o.nlines, &o.totals);
	o.user_id = in->user_id;
	o.status = ORDER_REQUEST;
	o.ordered_at_cart = in->ordered_at_cart;
	o.created_at = o.updated_at = t->now;
	rc = dup_str(in->real_name, &o.real_name);
	if (rc == 0)
		rc = dup_str(in->phone, &o.phone);
	if (rc == 0)
		rc = dup_str(in->city, &o.city);
	if (rc == 0)
		rc = dup_str(in->detail_address, &o.detail_address);
	if (rc)
		goto out;

	struct db_param op[14] = {
	    DB_I64(o.user_id),
	    DB_I64(o.subscription),
	    DB_I64(o.ordered_at_cart),
	    DB_STR(o.real_name),
	    DB_STR(o.phone),
	    DB_STR(o.city),
	    DB_STR(o.detail_address),
	    DB_I64(o.totals.lines),
	    DB_I64(o.totals.item_count),
	    DB_I64(o.totals.total_price),
	    DB_I64(o.totals.total_discount),
	    DB_I64(o.totals.expect_price),
	    DB_I64(t->now),
	    DB_I64(t->now),
	};
	rc = db_exec(db, sql_insert_order, op, 14, NULL, &order_id);
	if (rc)
		goto out;
	o.order_id = (int64_t)order_id;

	rc = buf_putc(&lines, '[');
	for (size_t i = 0; rc == 0 && i < o.nlines; i++) {
		const struct order_line *l = &o.lines[i];
		rc = buf_printf(&lines,
		                "%s[%" PRId64 ",%d,%d,%d,%" PRId64 ",%d,%" PRId64 ",%" PRId64 "]",
		                i ? "," : "", l->item_id, (int)l->quantity, l->subscription ? 1 : 0,
		                (int)l->period, l->price.origin, l->price.p10, l->price.discount,
		                l->price.real);
	}
	if (rc == 0)
		rc = buf_putc(&lines, ']');
	if (rc)
		goto out;
	struct db_param lp[3] = {DB_I64(o.order_id), DB_I64(t->now), DB_STR(lines.data)};
	rc = db_exec(db, sql_insert_lines, lp, 3, NULL, NULL);
	if (rc)
		goto out;

	struct db_param idp[1] = {DB_I64(o.order_id)};
	rc = db_query(db, sql_line_ids, idp, 1, &rows);
	if (rc)
		goto out;
	if (db_rows_count(rows) != o.nlines) {
		rc = -E_INTERNAL_ERROR;
		goto out;
	}
	for (size_t i = 0; i < o.nlines; i++)
		o.lines[i].order_item_id = db_rows_i64(rows, i, 0);
	t->out = o;
	memset(&o, 0, sizeof(o));
out:
	db_rows_free(rows);
	buf_release(&ids);
	buf_release(&lines);
	order_release(&o);
	return rc;
}

int store_order_create(struct db *db, const struct order_input *in, int64_t now, struct order *out)
{
	struct create_tx t = {in, now, {0}};
	int rc;

	if (!in->nlines || in->nlines > ORDER_LINES_MAX)
		return -E_VALIDATION_FAILED;
	rc = db_tx(db, create_fn, &t);
	if (rc) {
		order_release(&t.out);
		return rc;
	}
	*out = t.out;
	return 0;
}

/* ---- read one ------------------------------------------------------------------------------- */

static enum order_status status_col(const struct db_rows *rows, size_t row, size_t col)
{
	return order_status_parse(db_rows_str(rows, row, col));
}

static int read_lines(struct db *db, struct order *o)
{
	struct db_rows *rows = NULL;
	struct db_param p[1] = {DB_I64(o->order_id)};
	size_t n;
	int rc = db_query(db, sql_get_lines, p, 1, &rows);

	if (rc)
		return rc;
	n = db_rows_count(rows);
	o->lines = n ? calloc(n, sizeof(*o->lines)) : NULL;
	if (n && !o->lines) {
		rc = -E_NOMEM;
		goto out;
	}
	o->nlines = n;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct order_line *l = &o->lines[i];
		l->order_item_id = db_rows_i64(rows, i, 0);
		l->item_id = db_rows_i64(rows, i, 1);
		l->quantity = (int32_t)db_rows_i64(rows, i, 2);
		l->subscription = db_rows_i64(rows, i, 3) != 0;
		l->period = (int32_t)db_rows_i64(rows, i, 4);
		/* the stored snapshot, as it was taken */
		l->price.origin = db_rows_i64(rows, i, 5);
		l->price.p10 = (int)db_rows_i64(rows, i, 6);
		l->price.discount = db_rows_i64(rows, i, 7);
		l->price.real = db_rows_i64(rows, i, 8);
		l->subscription_id = db_rows_i64(rows, i, 9);
		rc = dup_col(rows, i, 10, &l->enterprise);
		if (rc == 0)
			rc = dup_col(rows, i, 11, &l->thumbnail);
		if (rc == 0)
			rc = dup_col(rows, i, 12, &l->product);
	}
out:
	db_rows_free(rows);
	return rc;
}

int store_order_get(struct db *db, int64_t order_id, struct order *out)
{
	struct db_rows *rows = NULL;
	struct db_param p[1] = {DB_I64(order_id)};
	struct order o = {0};
	int rc = db_query(db, sql_get_order, p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		rc = -E_ORDER_NOT_FOUND;
		goto out;
	}
	o.order_id = db_rows_i64(rows, 0, 0);
	o.user_id = db_rows_i64(rows, 0, 1);
	o.status = status_col(rows, 0, 2);
	o.subscription = db_rows_i64(rows, 0, 3) != 0;
	o.ordered_at_cart = db_rows_i64(rows, 0, 4) != 0;
	o.renewal = db_rows_i64(rows, 0, 5) != 0;
	rc = dup_col(rows, 0, 6, &o.real_name);
	if (rc == 0)
		rc = dup_col(rows, 0, 7, &o.phone);
	if (rc == 0)
		rc = dup_col(rows, 0, 8, &o.city);
	if (rc == 0)
		rc = dup_col(rows, 0, 9, &o.detail_address);
	if (rc)
		goto out;
	o.totals.lines = db_rows_i64(rows, 0, 10);
	o.totals.item_count = db_rows_i64(rows, 0, 11);
	o.totals.total_price = db_rows_i64(rows, 0, 12);
	o.totals.total_discount = db_rows_i64(rows, 0, 13);
	o.totals.expect_price = db_rows_i64(rows, 0, 14);
	o.refunded_amount = db_rows_i64(rows, 0, 15);
	o.created_at = db_rows_i64(rows, 0, 16);
	o.updated_at = db_rows_i64(rows, 0, 17);
	rc = read_lines(db, &o);
	if (rc)
		goto out;
	*out = o;
	memset(&o, 0, sizeof(o));
out:
	db_rows_free(rows);
	order_release(&o);
	return rc;
}

/* ---- lists ---------------------------------------------------------------------------------- */

static const char *list_status_name(const struct order_list_query *q, size_t i, bool subs)
{
	int s = q->statuses[i < q->nstatuses ? i : 0];
	return subs ? sub_status_name((enum sub_status)s) : order_status_name((enum order_status)s);
}

/*
 * COUNT then, unless the page is past the end, the page query. The first 4 parameters are
 * the user and the 3 statuses (a shorter status list repeats its first value).
 */
static int list_query(struct db *db, const struct order_list_query *q, bool subs,
                      const char *sql_count, const char *sql_page, struct db_rows **page,
                      int64_t *total)
{
	struct db_rows *rows = NULL;
	struct db_param p[6];
	int rc;

	if (q->nstatuses < 1 || q->nstatuses > 3)
		return -E_INTERNAL_ERROR;
	p[0] = DB_I64(q->user_id);
	for (size_t i = 0; i < 3; i++) {
		const char *name = list_status_name(q, i, subs);
		if (!name)
			return -E_INTERNAL_ERROR;
		p[1 + i] = DB_STR(name);
	}
	p[4] = DB_I64(q->limit);
	p[5] = DB_I64(q->offset);
	rc = db_query(db, sql_count, p, 4, &rows);
	if (rc)
		return rc;
	*total = db_rows_count(rows) ? db_rows_i64(rows, 0, 0) : 0;
	db_rows_free(rows);
	*page = NULL;
	if (*total <= q->offset)
		return 0;
	return db_query(db, sql_page, p, 6, page);
}

void store_order_rows_free(struct order_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		order_line_release(&rows[i].line);
	free(rows);
}

int store_order_history(struct db *db, const struct order_list_query *q, struct order_row **out,
                        size_t *n, int64_t *total)
{
	struct db_rows *rows = NULL;
	struct order_row *res = NULL;
	size_t count = 0;
	int64_t tot = 0;
	int rc = list_query(db, q, false, sql_history_count,
	                    q->asc ? sql_history_asc : sql_history_desc, &rows, &tot);

	if (rc)
		return rc;
	count = rows ? db_rows_count(rows) : 0;
	if (count) {
		res = calloc(count, sizeof(*res));
		if (!res) {
			rc = -E_NOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < count; i++) {
		struct order_row *o = &res[i];
		o->order_id = db_rows_i64(rows, i, 0);
		o->status = status_col(rows, i, 1);
		o->line.order_item_id = db_rows_i64(rows, i, 2);
		o->line.quantity = (int32_t)db_rows_i64(rows, i, 3);
		o->line.item_id = db_rows_i64(rows, i, 4);
		o->line.price.real = db_rows_i64(rows, i, 5);
		rc = dup_col(rows, i, 6, &o->line.product);
		if (rc == 0)
			rc = dup_col(rows, i, 7, &o->line.main_function);
		if (rc == 0)
			rc = dup_col(rows, i, 8, &o->line.thumbnail);
		if (rc)
			goto out;
		o->line.categories = category_mask_from_ids(db_rows_str(rows, i, 9));
	}
	*out = res;
	*n = count;
	*total = tot;
	res = NULL;
out:
	if (res)
		store_order_rows_free(res, count);
	db_rows_free(rows);
	return rc;
}

void store_order_sub_rows_free(struct order_sub_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].product);
		free(rows[i].main_function);
		free(rows[i].thumbnail);
	}
	free(rows);
}

int store_order_subscriptions(struct db *db, const struct order_list_query *q,
                              struct order_sub_row **out, size_t *n, int64_t *total)
{
	struct db_rows *rows = NULL;
	struct order_sub_row *res = NULL;
	size_t count = 0;
	int64_t tot = 0;
	int rc = list_query(db, q, true, sql_subs_count, q->asc ? sql_subs_asc : sql_subs_desc,
	                    &rows, &tot);

	if (rc)
		return rc;
	count = rows ? db_rows_count(rows) : 0;
	if (count) {
		res = calloc(count, sizeof(*res));
		if (!res) {
			rc = -E_NOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < count; i++) {
		struct order_sub_row *s = &res[i];
		const char *next = db_rows_str(rows, i, 11);
		const char *retry = db_rows_str(rows, i, 12);

		s->subscription_id = db_rows_i64(rows, i, 0);
		s->order_item_id = db_rows_i64(rows, i, 1);
		s->quantity = (int32_t)db_rows_i64(rows, i, 2);
		s->item_id = db_rows_i64(rows, i, 3);
		s->price = db_rows_i64(rows, i, 5);
		rc = dup_col(rows, i, 4, &s->product);
		if (rc == 0)
			rc = dup_col(rows, i, 6, &s->main_function);
		if (rc == 0)
			rc = dup_col(rows, i, 7, &s->thumbnail);
		if (rc)
			goto out;
		s->categories = category_mask_from_ids(db_rows_str(rows, i, 8));
		s->status = sub_status_parse(db_rows_str(rows, i, 9));
		s->period = (int32_t)db_rows_i64(rows, i, 10);
		/* §2.6: no next date while paused, cancelled or with retries exhausted */
		if (next && strlen(next) == 10 &&
		    sub_next_date_shown(s->status, retry && !strcmp(retry, "EXHAUSTED")))
			memcpy(s->next_payment_date, next, 11);
	}
	*out = res;
	*n = count;
	*total = tot;
	res = NULL;
out:
	if (res)
		store_order_sub_rows_free(res, count);
	db_rows_free(rows);
	return rc;
}

/* ---- subscription quantity ------------------------------------------------------------------ */

struct sub_quantity_tx {
	int64_t order_id;
	int64_t order_item_id;
	int64_t actor_uid;
	int32_t quantity;
	int64_t now;
};

static int sub_quantity_fn(struct db *db, void *arg)
{
	struct sub_quantity_tx *t = arg;
	struct db_rows *rows = NULL;
	struct sub_state st;
	int64_t sub_id;
	int rc;

	struct db_param op[1] = {DB_I64(t->order_id)};
	rc = db_query(db, sql_sq_order, op, 1, &rows);
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = -E_ORDER_NOT_FOUND;
	else if (db_rows_i64(rows, 0, 0) != t->actor_uid)
		rc = -E_ACCESS_DENIED_USER;
	db_rows_free(rows);
	if (rc)
		return rc;

	struct db_param lp[2] = {DB_I64(t->order_item_id), DB_I64(t->order_id)};
	rc = db_query(db, sql_sq_line, lp, 2, &rows);
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = -E_NOT_ORDERED_ITEM;
	else if (db_rows_is_null(rows, 0, 0))
		rc = -E_SUBSCRIPTION_NOT_FOUND; /* a one-time line, or not paid yet */
	sub_id = rc ? 0 : db_rows_i64(rows, 0, 0);
	db_rows_free(rows);
	if (rc)
		return rc;

	/* the row lock and the §2.5 rule every change of a subscription goes through (the
	 * owner is the order's, checked above) */
	rc = store_subscription_lock_for(db, sub_id, SUB_OP_CHANGE, t->actor_uid, &st);
	if (rc)
		return rc;

	struct db_param up[3] = {DB_I64(t->quantity), DB_I64(t->now), DB_I64(sub_id)};
	return db_exec(db, sql_sq_update, up, 3, NULL, NULL);
}

int store_order_sub_quantity(struct db *db, int64_t order_id, int64_t order_item_id,
                             int64_t actor_uid, int32_t quantity, int64_t now)
{
	struct sub_quantity_tx t = {order_id, order_item_id, actor_uid, quantity, now};

	if (rule_quantity(quantity))
		return -E_VALIDATION_FAILED;
	return db_tx(db, sub_quantity_fn, &t);
}
