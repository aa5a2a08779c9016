/* store_review: SQL for reviews and the item review statistics (see store_review.h). */
#include "core/store_review.h"

#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/err.h"
#include "core/review.h"
#include "common/banned.h"

#define REVIEW_COLUMNS                                                                             \
	"r.review_id, r.user_id, r.order_id, r.item_id, r.content, r.display_name, r.star, "       \
	"UNIX_TIMESTAMP(r.created_at), UNIX_TIMESTAMP(r.updated_at)"

/*
 * Every write locks the item row before it reads anything without a lock, so writes about one
 * item are serialised on that row (an update or delete locks its review row just before).
 */
static const char sql_lock_item[] = "SELECT item_id FROM items WHERE item_id = ? FOR UPDATE";
static const char sql_order[] =
    "SELECT o.user_id, o.status = 'COMPLETE',"
    " EXISTS(SELECT 1 FROM order_items oi WHERE oi.order_id = o.order_id AND oi.item_id = ?)"
    " FROM orders o WHERE o.order_id = ?";
static const char sql_active_exists[] =
    "SELECT EXISTS(SELECT 1 FROM reviews WHERE user_id = ? AND order_id = ? AND item_id = ?"
    " AND status = 'ACTIVE')";
static const char sql_display_name[] = "SELECT display_name FROM users WHERE user_id = ?";
static const char sql_insert[] =
    "INSERT INTO reviews (user_id, order_id, item_id, content, star, display_name, status,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', FROM_UNIXTIME(?),"
    " FROM_UNIXTIME(?))";
/* The review to change, locked; its item is locked next. */
static const char sql_lock_review[] =
    "SELECT user_id, item_id, status = 'ACTIVE' FROM reviews WHERE review_id = ? FOR UPDATE";
static const char sql_update[] =
    "UPDATE reviews SET content = ?, star = ?, display_name = ?, updated_at = FROM_UNIXTIME(?)"
    " WHERE review_id = ?";
static const char sql_delete[] =
    "UPDATE reviews SET status = 'INACTIVE', deleted_at = FROM_UNIXTIME(?),"
    " updated_at = FROM_UNIXTIME(?) WHERE review_id = ?";
/*
 * A consistent (non-locking) read: it sees every review committed before the transaction's
 * read view was created, and that view is created by the first non-locking read, which each
 * write transaction below makes only after it holds the item's lock. Every writer of the
 * item's reviews holds that lock until it commits, so nothing is missed; and as no review row
 * is read with a lock, writers of different items never wait on each other's rows or gaps.
 */
static const char sql_stats[] =
    "SELECT COUNT(*), COALESCE(SUM(star), 0) FROM reviews WHERE item_id = ?"
    " AND status = 'ACTIVE'";
static const char sql_set_stats[] =
    "UPDATE items SET review_size = ?, star_avg_x100 = ? WHERE item_id = ?";

static const char sql_get[] =
    "SELECT " REVIEW_COLUMNS " FROM reviews r WHERE r.review_id = ? AND r.status = 'ACTIVE'";

static const char sql_item_total[] =
    "SELECT (SELECT COUNT(*) FROM reviews r WHERE r.item_id = i.item_id AND r.status = 'ACTIVE')"
    " FROM items i WHERE i.item_id = ?";
static const char sql_user_total[] =
    "SELECT (SELECT COUNT(*) FROM reviews r WHERE r.user_id = u.user_id AND r.status = 'ACTIVE')"
    " FROM users u WHERE u.user_id = ?";

#define BY_ITEM                                                                                    \
	"SELECT " REVIEW_COLUMNS " FROM reviews r WHERE r.item_id = ? AND r.status = 'ACTIVE'"
#define BY_USER                                                                                    \
	"SELECT " REVIEW_COLUMNS " FROM reviews r WHERE r.user_id = ? AND r.status = 'ACTIVE'"
#define O_NEWEST " ORDER BY r.created_at DESC, r.review_id DESC LIMIT ? OFFSET ?"
#define O_OLDEST " ORDER BY r.created_at ASC, r.review_id ASC LIMIT ? OFFSET ?"
#define O_STAR_H " ORDER BY r.star DESC, r.review_id DESC LIMIT ? OFFSET ?"
#define O_STAR_L " ORDER BY r.star ASC, r.review_id DESC LIMIT ? OFFSET ?"

static const char sql_item_newest[] = BY_ITEM O_NEWEST;
static const char sql_item_oldest[] = BY_ITEM O_OLDEST;
static const char sql_item_star_h[] = BY_ITEM O_STAR_H;
static const char sql_item_star_l[] = BY_ITEM O_STAR_L;
static const char sql_user_newest[] = BY_USER O_NEWEST;
static const char sql_user_oldest[] = BY_USER O_OLDEST;
static const char sql_user_star_h[] = BY_USER O_STAR_H;
static const char sql_user_star_l[] = BY_USER O_STAR_L;

static const char *const item_pages[] = {sql_item_newest, sql_item_oldest, sql_item_star_h,
                                         sql_item_star_l};
static const char *const user_pages[] = {sql_user_newest, sql_user_oldest, sql_user_star_h,
                                         sql_user_star_l};

void review_release(struct review *rv)
{
	free(rv->content);
	free(rv->display_name);
	memset(rv, 0, sizeof(*rv));
}

void review_page_release(struct review_page *p)
{
	for (size_t i = 0; i < p->n; i++)
		review_release(&p->items[i]);
	free(p->items);
	memset(p, 0, sizeof(*p));
}

/* Row i of a REVIEW_COLUMNS result into *out (owning copies). */
static int read_review(const struct db_rows *rows, size_t i, struct review *out)
{
	struct review rv = {0};
	const char *content = db_rows_str(rows, i, 4);
	const char *name = db_rows_str(rows, i, 5);

	rv.review_id = db_rows_i64(rows, i, 0);
	rv.user_id = db_rows_i64(rows, i, 1);
	rv.order_id = db_rows_i64(rows, i, 2);
	rv.item_id = db_rows_i64(rows, i, 3);
	rv.content = strdup(content ? content : "");
	rv.display_name = name ? strdup(name) : NULL;
	rv.star = (int)db_rows_i64(rows, i, 6);
	rv.created_at = db_rows_i64(rows, i, 7);
	rv.updated_at = db_rows_i64(rows, i, 8);
	if (!rv.content || (name && !rv.display_name)) {
		review_release(&rv);
		return -E_NOMEM;
	}
	*out = rv;
	return 0;
}

/* The ACTIVE review review_id, or -E_REVIEW_NOT_FOUND. */
static int load_review(struct db *db, int64_t review_id, struct review *out)
{
	struct db_param p[1] = {DB_I64(review_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_get, p, 1, &rows);

	if (rc)
		return rc;
	rc = db_rows_count(rows) ? read_review(rows, 0, out) : -E_REVIEW_NOT_FOUND;
	db_rows_free(rows);
	return rc;
}

/* Locks the item row; *exists tells whether there is one. */
static int lock_item(struct db *db, int64_t item_id, bool *exists)
{
	struct db_param p[1] = {DB_I64(item_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_lock_item, p, 1, &rows);

	if (rc)
		return rc;
	*exists = db_rows_count(rows) > 0;
	db_rows_free(rows);
	return 0;
}

/* Recomputes review_size and star_avg_x100 of a locked item from its ACTIVE reviews. */
static int refresh_stats(struct db *db, int64_t item_id)
{
	struct db_param p[1] = {DB_I64(item_id)};
	struct db_rows *rows = NULL;
	int64_t count, sum;
	int rc = db_query(db, sql_stats, p, 1, &rows);

	if (rc)
		return rc;
	count = db_rows_i64(rows, 0, 0);
	sum = db_rows_i64(rows, 0, 1);
	db_rows_free(rows);
	struct db_param s[3] = {DB_I64(count), DB_I64(review_star_avg_x100(sum, count)),
	                        DB_I64(item_id)};
	return db_exec(db, sql_set_stats, s, 3, NULL, NULL);
}

/* The writer's current display name (caller frees; *out NULL when it has none). */
static int display_name(struct db *db, int64_t user_id, char **out)
{
	struct db_param p[1] = {DB_I64(user_id)};
	struct db_rows *rows = NULL;
	const char *name;
	int rc = db_query(db, sql_display_name, p, 1, &rows);

	if (rc)
		return rc;
	*out = NULL;
	if (db_rows_count(rows) == 0) {
		rc = -E_USER_NOT_FOUND;
	} else if ((name = db_rows_str(rows, 0, 0)) != NULL) {
		*out = strdup(name);
		if (!*out)
			rc = -E_NOMEM;
	}
	db_rows_free(rows);
	return rc;
}

/* ---- create ----------------------------------------------------------------------------- */

struct create_tx {
	int64_t user_id, order_id, item_id;
	const char *content;
	int star;
	int64_t now;
	struct review *out;
};

/* The checks of §9.1 after validation: 404 order, 404 item, 403 not allowed, 409 duplicate. */
static int check_create(struct db *db, const struct create_tx *t, bool item_exists)
{
	struct db_param po[2] = {DB_I64(t->item_id), DB_I64(t->order_id)};
	struct db_param pd[3] = {DB_I64(t->user_id), DB_I64(t->order_id), DB_I64(t->item_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_order, po, 2, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = -E_ORDER_NOT_FOUND;
	else if (!item_exists)
		rc = -E_ITEM_NOT_FOUND;
	else if (db_rows_i64(rows, 0, 0) != t->user_id || !db_rows_i64(rows, 0, 1) ||
	         !db_rows_i64(rows, 0, 2))
		rc = -E_REVIEW_NOT_ALLOWED;
	db_rows_free(rows);
	if (rc)
		return rc;
	rc = db_query(db, sql_active_exists, pd, 3, &rows);
	if (rc)
		return rc;
	if (db_rows_i64(rows, 0, 0))
		rc = -E_DUPLICATED_REVIEW;
	db_rows_free(rows);
	return rc;
}

static int insert_review(struct db *db, const struct create_tx *t, const char *name, uint64_t *id)
{
	struct db_param p[8] = {DB_I64(t->user_id), DB_I64(t->order_id), DB_I64(t->item_id),
	                        DB_STR(t->content), DB_I64(t->star),     DB_STR(name),
	                        DB_I64(t->now),     DB_I64(t->now)};
	int rc = db_exec(db, sql_insert, p, 8, NULL, id);

	/* a concurrent create got past the check first */
	if (rc == -E_DB_DUPLICATE && !strcmp(db_dup_key(db), "uk_reviews_one_active"))
		rc = -E_DUPLICATED_REVIEW;
	return rc;
}

/* The item lock comes first: see sql_stats. */
static int create_fn(struct db *db, void *arg)
{
	struct create_tx *t = arg;
	char *name = NULL;
	uint64_t id = 0;
	bool item_exists = false;
	int rc;

	review_release(t->out); /* a retried transaction starts again */
	rc = lock_item(db, t->item_id, &item_exists);
	if (rc == 0)
		rc = check_create(db, t, item_exists);
	if (rc == 0)
		rc = display_name(db, t->user_id, &name);
	if (rc == 0)
		rc = insert_review(db, t, name, &id);
	if (rc == 0)
		rc = refresh_stats(db, t->item_id);
	if (rc == 0)
		rc = load_review(db, (int64_t)id, t->out);
	free(name);
	return rc;
}

int store_review_create(struct db *db, int64_t user_id, int64_t order_id, int64_t item_id,
                        const char *content, int star, int64_t now, struct review *out)
{
	struct review rv = {0};
	struct create_tx t = {user_id, order_id, item_id, content, star, now, &rv};
	int rc = db_tx(db, create_fn, &t);

	if (rc) {
		review_release(&rv);
		return rc;
	}
	*out = rv;
	return 0;
}

/* ---- update and delete ------------------------------------------------------------------ */

struct change_tx {
	int64_t review_id;
	int64_t user_id;
	bool admin;  /* delete: ADMIN may delete any review */
	bool delete; /* else update */
	const char *content;
	int star;
	int64_t now;
	struct review *out; /* update only */
};

/* Locks the ACTIVE review and then its item; checks the writer. Returns the item id. */
static int lock_review(struct db *db, const struct change_tx *t, int64_t *item_id)
{
	struct db_param p[1] = {DB_I64(t->review_id)};
	struct db_rows *rows = NULL;
	int64_t writer;
	bool exists;
	int rc = db_query(db, sql_lock_review, p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0 || !db_rows_i64(rows, 0, 2)) {
		db_rows_free(rows);
		return -E_REVIEW_NOT_FOUND;
	}
	writer = db_rows_i64(rows, 0, 0);
	*item_id = db_rows_i64(rows, 0, 1);
	db_rows_free(rows);
	if (writer != t->user_id && !(t->delete &&t->admin))
		return -E_ACCESS_DENIED_USER;
	return lock_item(db, *item_id, &exists);
}

/* The review row, then the item are locked before any non-locking read: see sql_stats. */
static int change_fn(struct db *db, void *arg)
{
	struct change_tx *t = arg;
	char *name = NULL;
	int64_t item_id = 0;
	int rc;

	if (t->out)
		review_release(t->out); /* a retried transaction starts again */
	rc = lock_review(db, t, &item_id);
	if (rc)
		return rc;
	if (t->delete) {
		struct db_param p[3] = {DB_I64(t->now), DB_I64(t->now), DB_I64(t->review_id)};
		rc = db_exec(db, sql_delete, p, 3, NULL, NULL);
	} else {
		rc = display_name(db, t->user_id, &name);
		if (rc == 0) {
			struct db_param p[5] = {DB_STR(t->content), DB_I64(t->star), DB_STR(name),
			                        DB_I64(t->now), DB_I64(t->review_id)};
			rc = db_exec(db, sql_update, p, 5, NULL, NULL);
		}
	}
	if (rc == 0)
		rc = refresh_stats(db, item_id);
	if (rc == 0 && !t->delete)
		rc = load_review(db, t->review_id, t->out);
	free(name);
	return rc;
}

int store_review_update(struct db *db, int64_t review_id, int64_t user_id, const char *content,
                        int star, int64_t now, struct review *out)
{
	struct review rv = {0};
	struct change_tx t = {.review_id = review_id,
	                      .user_id = user_id,
	                      .content = content,
	                      .star = star,
	                      .now = now,
	                      .out = &rv};
	int rc = db_tx(db, change_fn, &t);

	if (rc) {
		review_release(&rv);
		return rc;
	}
	*out = rv;
	return 0;
}

int store_review_delete(struct db *db, int64_t review_id, int64_t user_id, bool admin, int64_t now)
{
	struct change_tx t = {
	    .review_id = review_id, .user_id = user_id, .admin = admin, .delete = true, .now = now};
	return db_tx(db, change_fn, &t);
}

/* ---- reads ------------------------------------------------------------------------------ */

int store_review_get(struct db *db, int64_t review_id, struct review *out)
{
	return load_review(db, review_id, out);
}

struct list_tx {
	const char *sql_total;
	const char *sql_page;
	int not_found;
	int64_t id, limit, offset;
	struct review_page *out;
};

/* Total and page in one transaction, so that both come from the same snapshot. */
static int list_fn(struct db *db, void *arg)
{
	struct list_tx *t = arg;
	struct review_page pg = {0};
	struct db_param pt[1] = {DB_I64(t->id)};
	struct db_param pp[3] = {DB_I64(t->id), DB_I64(t->limit), DB_I64(t->offset)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, t->sql_total, pt, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		db_rows_free(rows);
		return t->not_found;
	}
	pg.total = db_rows_i64(rows, 0, 0);
	db_rows_free(rows);
	rows = NULL;
	rc = db_query(db, t->sql_page, pp, 3, &rows);
	if (rc)
		return rc;
	if (db_rows_count(rows)) {
		pg.items = calloc(db_rows_count(rows), sizeof(*pg.items));
		if (!pg.items)
			rc = -E_NOMEM;
	}
	for (size_t i = 0; rc == 0 && i < db_rows_count(rows); i++) {
		rc = read_review(rows, i, &pg.items[i]);
		if (rc == 0)
			pg.n++;
	}
	db_rows_free(rows);
	if (rc) {
		review_page_release(&pg);
		return rc;
	}
	review_page_release(t->out); /* a retried transaction starts again */
	*t->out = pg;
	return 0;
}

static int list(struct db *db, struct list_tx *t, struct review_page *out)
{
	struct review_page pg = {0};
	int rc;

	t->out = &pg;
	rc = db_tx(db, list_fn, t);
	if (rc) {
		review_page_release(&pg);
		return rc;
	}
	*out = pg;
	return 0;
}

static unsigned order_index(enum review_order order)
{
	return (unsigned)order < 4 ? (unsigned)order : REVIEW_NEWEST;
}

int store_review_list_by_item(struct db *db, int64_t item_id, enum review_order order,
                              int64_t limit, int64_t offset, struct review_page *out)
{
	struct list_tx t = {sql_item_total,
	                    item_pages[order_index(order)],
	                    -E_ITEM_NOT_FOUND,
	                    item_id,
	                    limit,
	                    offset,
	                    NULL};
	return list(db, &t, out);
}

int store_review_list_by_user(struct db *db, int64_t user_id, enum review_order order,
                              int64_t limit, int64_t offset, struct review_page *out)
{
	struct list_tx t = {sql_user_total,
	                    user_pages[order_index(order)],
	                    -E_USER_NOT_FOUND,
	                    user_id,
	                    limit,
	                    offset,
	                    NULL};
	return list(db, &t, out);
}
