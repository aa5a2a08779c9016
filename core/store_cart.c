/* store_cart: SQL for carts (see store_cart.h). */
#include "core/store_cart.h"

#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/err.h"
#include "common/banned.h"

/* One row per line (cart_item_id order); an empty cart gives one row of NULL line columns. */
static const char sql_load[] =
    "SELECT c.user_id, ci.cart_item_id, ci.item_id, ci.quantity, ci.period,"
    " UNIX_TIMESTAMP(ci.created_at), UNIX_TIMESTAMP(ci.updated_at),"
    " i.enterprise, i.thumbnail, i.product_name, i.origin_price, i.discount_p10"
    " FROM carts c"
    " LEFT JOIN cart_items ci ON ci.cart_id = c.cart_id"
    " LEFT JOIN items i ON i.item_id = ci.item_id"
    " WHERE c.cart_id = ? AND c.kind = ?"
    " ORDER BY ci.cart_item_id";
static const char sql_lock_cart[] =
    "SELECT user_id FROM carts WHERE cart_id = ? AND kind = ? FOR UPDATE";
static const char sql_item_exists[] = "SELECT 1 FROM items WHERE item_id = ?";
static const char sql_find_line[] =
    "SELECT cart_item_id FROM cart_items WHERE cart_id = ? AND item_id = ?";
static const char sql_insert_line[] =
    "INSERT INTO cart_items (cart_id, item_id, quantity, period, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
static const char sql_delete_line[] = "DELETE FROM cart_items WHERE cart_item_id = ?";
static const char sql_set_quantity[] =
    "UPDATE cart_items SET quantity = ?, updated_at = FROM_UNIXTIME(?) WHERE cart_item_id = ?";
static const char sql_set_period[] =
    "UPDATE cart_items SET period = ?, updated_at = FROM_UNIXTIME(?) WHERE cart_item_id = ?";
static const char sql_touch_cart[] =
    "UPDATE carts SET updated_at = FROM_UNIXTIME(?) WHERE cart_id = ?";
static const char sql_remove_item[] =
    "DELETE ci FROM cart_items ci JOIN carts c ON c.cart_id = ci.cart_id"
    " WHERE c.user_id = ? AND c.kind = ? AND ci.item_id = ?";

#define DUP_KEY_CART_ITEM "uk_cart_items_cart_item"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Copies the text columns of one line; -E_NOMEM when a non-NULL value could not be copied. */
static int read_line(const struct db_rows *rows, size_t i, struct cart_line *l)
{
	l->cart_item_id = db_rows_i64(rows, i, 1);
	l->item_id = db_rows_i64(rows, i, 2);
	l->quantity = (int)db_rows_i64(rows, i, 3);
	l->period = (int)db_rows_i64(rows, i, 4);
	l->created_at = db_rows_i64(rows, i, 5);
	l->updated_at = db_rows_i64(rows, i, 6);
	l->enterprise = dup_or_null(db_rows_str(rows, i, 7));
	l->thumbnail = dup_or_null(db_rows_str(rows, i, 8));
	l->product = dup_or_null(db_rows_str(rows, i, 9));
	if ((!l->enterprise && !db_rows_is_null(rows, i, 7)) ||
	    (!l->thumbnail && !db_rows_is_null(rows, i, 8)) ||
	    (!l->product && !db_rows_is_null(rows, i, 9)))
		return -E_NOMEM;
	/* the schema keeps origin >= 0 and p10 in 0..1000, so this cannot fail on good data */
	if (price_derive(db_rows_i64(rows, i, 10), (int)db_rows_i64(rows, i, 11), &l->price))
		return -E_INTERNAL_ERROR;
	return 0;
}

int store_cart_get(struct db *db, int64_t cart_id, enum cart_kind kind, struct cart *out)
{
	struct db_param p[2] = {DB_I64(cart_id), DB_STR(cart_kind_name(kind))};
	struct db_rows *rows = NULL;
	struct cart c = {0};
	size_t n;
	int rc;

	rc = db_query(db, sql_load, p, 2, &rows);
	if (rc)
		goto out;
	n = db_rows_count(rows);
	if (n == 0) {
		rc = -E_CART_NOT_FOUND;
		goto out;
	}
	c.cart_id = cart_id;
	c.kind = kind;
	c.user_id = db_rows_i64(rows, 0, 0);
	if (n == 1 && db_rows_is_null(rows, 0, 1))
		n = 0; /* the LEFT JOIN's row of an empty cart */
	if (n) {
		c.lines = calloc(n, sizeof(*c.lines));
		if (!c.lines) {
			rc = -E_NOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		c.nlines++;
		rc = read_line(rows, i, &c.lines[i]);
		if (rc)
			goto out;
	}
	*out = c;
	c = (struct cart){0};
out:
	cart_release(&c);
	db_rows_free(rows);
	return rc;
}

/* ---- writes ----------------------------------------------------------------------------- */

enum cart_op { OP_ADD, OP_REMOVE, OP_QUANTITY, OP_PERIOD };

struct cart_tx {
	enum cart_op op;
	int64_t uid;
	enum cart_kind kind;
	int64_t cart_id;
	int64_t item_id;
	int value;  /* quantity or period */
	int period; /* OP_ADD */
	int64_t now;
};

/* Locks the cart row; *owner gets its user. -E_CART_NOT_FOUND when absent or of the other kind. */
static int lock_cart(struct db *db, const struct cart_tx *t, int64_t *owner)
{
	struct db_param p[2] = {DB_I64(t->cart_id), DB_STR(cart_kind_name(t->kind))};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_lock_cart, p, 2, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = -E_CART_NOT_FOUND;
	else
		*owner = db_rows_i64(rows, 0, 0);
	db_rows_free(rows);
	return rc;
}

/* 0 when a row exists (*id gets its first column), else missing_rc. */
static int find_one(struct db *db, const char *sql, const struct db_param *p, size_t n,
                    int missing_rc, int64_t *id)
{
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql, p, n, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = missing_rc;
	else
		*id = db_rows_i64(rows, 0, 0);
	db_rows_free(rows);
	return rc;
}

static int add_line(struct db *db, const struct cart_tx *t)
{
	struct db_param p[6] = {
	    DB_I64(t->cart_id), DB_I64(t->item_id),
	    DB_I64(t->value),   DB_I64(t->kind == CART_SUBSCRIPTION ? t->period : 0),
	    DB_I64(t->now),     DB_I64(t->now)};
	int rc = db_exec(db, sql_insert_line, p, 6, NULL, NULL);

	if (rc == -E_DB_DUPLICATE && strcmp(db_dup_key(db), DUP_KEY_CART_ITEM) == 0)
		return -E_CART_ITEM_EXISTS;
	return rc;
}

static int change_line(struct db *db, const struct cart_tx *t, int64_t line_id)
{
	struct db_param id = DB_I64(line_id);
	struct db_param p[3] = {DB_I64(t->value), DB_I64(t->now), DB_I64(line_id)};

	switch (t->op) {
	case OP_REMOVE:
		return db_exec(db, sql_delete_line, &id, 1, NULL, NULL);
	case OP_QUANTITY:
		return db_exec(db, sql_set_quantity, p, 3, NULL, NULL);
	case OP_PERIOD:
		return db_exec(db, sql_set_period, p, 3, NULL, NULL);
	case OP_ADD:
		break;
	}
	return -E_INTERNAL_ERROR;
}

static int cart_fn(struct db *db, void *arg)
{
	const struct cart_tx *t = arg;
	int64_t owner = 0, line_id = 0;
	int rc;

	rc = lock_cart(db, t, &owner);
	if (rc)
		return rc;
	if (t->op == OP_ADD) {
		struct db_param p = DB_I64(t->item_id);
		rc = find_one(db, sql_item_exists, &p, 1, -E_ITEM_NOT_FOUND, &line_id);
	} else {
		struct db_param p[2] = {DB_I64(t->cart_id), DB_I64(t->item_id)};
		rc = find_one(db, sql_find_line, p, 2, -E_CART_ITEM_NOT_FOUND, &line_id);
	}
	if (rc)
		return rc;
	if (owner != t->uid)
		return -E_ACCESS_DENIED_USER;
	rc = t->op == OP_ADD ? add_line(db, t) : change_line(db, t, line_id);
	if (rc)
		return rc;
	struct db_param touch[2] = {DB_I64(t->now), DB_I64(t->cart_id)};
	return db_exec(db, sql_touch_cart, touch, 2, NULL, NULL);
}

int store_cart_add(struct db *db, int64_t uid, enum cart_kind kind, int64_t cart_id,
                   int64_t item_id, int quantity, int period, int64_t now)
{
	struct cart_tx t = {OP_ADD, uid, kind, cart_id, item_id, quantity, period, now};
	return db_tx(db, cart_fn, &t);
}

int store_cart_remove(struct db *db, int64_t uid, enum cart_kind kind, int64_t cart_id,
                      int64_t item_id, int64_t now)
{
	struct cart_tx t = {OP_REMOVE, uid, kind, cart_id, item_id, 0, 0, now};
	return db_tx(db, cart_fn, &t);
}

int store_cart_set_quantity(struct db *db, int64_t uid, enum cart_kind kind, int64_t cart_id,
                            int64_t item_id, int quantity, int64_t now)
{
	struct cart_tx t = {OP_QUANTITY, uid, kind, cart_id, item_id, quantity, 0, now};
	return db_tx(db, cart_fn, &t);
}

int store_cart_set_period(struct db *db, int64_t uid, int64_t cart_id, int64_t item_id, int period,
                          int64_t now)
{
	struct cart_tx t = {OP_PERIOD, uid, CART_SUBSCRIPTION, cart_id, item_id, period, 0, now};
	return db_tx(db, cart_fn, &t);
}

int store_cart_remove_items(struct db *db, int64_t user_id, enum cart_kind kind,
                            const int64_t *item_ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct db_param p[3] = {DB_I64(user_id), DB_STR(cart_kind_name(kind)),
		                        DB_I64(item_ids[i])};
		int rc = db_exec(db, sql_remove_item, p, 3, NULL, NULL);
		if (rc)
			return rc;
	}
	return 0;
}
