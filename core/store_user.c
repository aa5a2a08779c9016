/* store_user: SQL for users (see store_user.h). */
#include "core/store_user.h"

#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/err.h"
#include "core/store_subscription.h"
#include "common/banned.h"

#define USER_COLUMNS                                                                               \
	"u.user_id, u.email, u.password_hash, u.display_name, u.city, u.detail_address, "          \
	"u.real_name, u.phone, u.role, u.status, UNIX_TIMESTAMP(u.created_at), "                   \
	"UNIX_TIMESTAMP(u.updated_at), EXISTS(SELECT 1 FROM user_oauth o WHERE o.user_id = "       \
	"u.user_id)"

static const char sql_get[] = "SELECT " USER_COLUMNS " FROM users u WHERE u.user_id = ?";
static const char sql_by_email[] =
    "SELECT " USER_COLUMNS " FROM users u WHERE u.email_key = LOWER(?)";
static const char sql_conflicts[] =
    "SELECT EXISTS(SELECT 1 FROM users WHERE email_key = LOWER(?)),"
    " EXISTS(SELECT 1 FROM users WHERE display_name_key = LOWER(?)),"
    " EXISTS(SELECT 1 FROM users WHERE phone_digits = REGEXP_REPLACE(?, '[^0-9]', ''))";
static const char sql_conflicts_other[] =
    "SELECT EXISTS(SELECT 1 FROM users WHERE phone_digits = REGEXP_REPLACE(?, '[^0-9]', '')"
    " AND user_id <> ?),"
    " EXISTS(SELECT 1 FROM users WHERE display_name_key = LOWER(?) AND user_id <> ?)";
static const char sql_insert[] =
    "INSERT INTO users (email, password_hash, display_name, city, detail_address, real_name,"
    " phone, role, status, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, 'USER', 'USER_ACTIVE', FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
static const char sql_insert_cart[] = "INSERT INTO carts (user_id, kind, created_at, updated_at)"
                                      " VALUES (?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
static const char sql_update[] =
    "UPDATE users SET password_hash = COALESCE(?, password_hash),"
    " display_name = COALESCE(?, display_name), city = COALESCE(?, city),"
    " detail_address = COALESCE(?, detail_address), real_name = COALESCE(?, real_name),"
    " phone = COALESCE(?, phone), updated_at = FROM_UNIXTIME(?) WHERE user_id = ?";
static const char sql_withdraw[] =
    "UPDATE users SET status = 'USER_WITHDRAWAL', withdrawn_at = FROM_UNIXTIME(?),"
    " updated_at = FROM_UNIXTIME(?) WHERE user_id = ? AND status = 'USER_ACTIVE'";
static const char sql_delete_carts[] = "DELETE FROM carts WHERE user_id = ?";
static const char sql_cancel_orders[] =
    "UPDATE orders SET status = 'CANCELED', canceled_at = FROM_UNIXTIME(?),"
    " updated_at = FROM_UNIXTIME(?) WHERE user_id = ? AND status = 'REQUEST'";

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void user_release(struct user *u)
{
	free(u->email);
	free(u->password_hash);
	free(u->display_name);
	free(u->city);
	free(u->detail_address);
	free(u->real_name);
	free(u->phone);
	memset(u, 0, sizeof(*u));
}

static int read_user(struct db_rows *rows, struct user *out)
{
	struct user u = {0};

	if (db_rows_count(rows) == 0)
		return -E_USER_NOT_FOUND;
	u.user_id = db_rows_i64(rows, 0, 0);
	u.email = dup_or_null(db_rows_str(rows, 0, 1));
	u.password_hash = dup_or_null(db_rows_str(rows, 0, 2));
	u.display_name = dup_or_null(db_rows_str(rows, 0, 3));
	u.city = dup_or_null(db_rows_str(rows, 0, 4));
	u.detail_address = dup_or_null(db_rows_str(rows, 0, 5));
	u.real_name = dup_or_null(db_rows_str(rows, 0, 6));
	u.phone = dup_or_null(db_rows_str(rows, 0, 7));
	u.admin = db_rows_str(rows, 0, 8) && !strcmp(db_rows_str(rows, 0, 8), "ADMIN");
	u.withdrawn =
	    db_rows_str(rows, 0, 9) && !strcmp(db_rows_str(rows, 0, 9), "USER_WITHDRAWAL");
	u.created_at = db_rows_i64(rows, 0, 10);
	u.updated_at = db_rows_i64(rows, 0, 11);
	u.social = db_rows_i64(rows, 0, 12) != 0;
	if (!u.email) {
		user_release(&u);
		return -E_NOMEM;
	}
	*out = u;
	return 0;
}

static int load(struct db *db, const char *sql, struct db_param p, struct user *out)
{
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql, &p, 1, &rows);
	if (rc)
		return rc;
	rc = read_user(rows, out);
	db_rows_free(rows);
	return rc;
}

int store_user_get(struct db *db, int64_t user_id, struct user *out)
{
	return load(db, sql_get, DB_I64(user_id), out);
}

int store_user_by_email(struct db *db, const char *email, struct user *out)
{
	return load(db, sql_by_email, DB_STR(email), out);
}

/* Maps a unique-key violation that slipped past the checks (a concurrent request). */
static int dup_to_err(struct db *db)
{
	const char *key = db_dup_key(db);
	if (strstr(key, "email"))
		return -E_EXIST_EMAIL;
	if (strstr(key, "display_name"))
		return -E_EXIST_DISPLAY_NAME;
	if (strstr(key, "phone"))
		return -E_EXIST_PHONE_NUMBER;
	return -E_DB_DUPLICATE;
}

struct create_tx {
	const struct user_fields *f;
	int64_t now;
	struct user_created *out;
};

static int create_fn(struct db *db, void *arg)
{
	struct create_tx *t = arg;
	const struct user_fields *f = t->f;
	struct db_rows *rows = NULL;
	uint64_t id;
	int rc;

	struct db_param c[3] = {DB_STR(f->email), DB_STR(f->display_name), DB_STR(f->phone)};
	rc = db_query(db, sql_conflicts, c, 3, &rows);
	if (rc)
		return rc;
	if (db_rows_i64(rows, 0, 0))
		rc = -E_EXIST_EMAIL;
	else if (db_rows_i64(rows, 0, 1))
		rc = -E_EXIST_DISPLAY_NAME;
	else if (f->phone && db_rows_i64(rows, 0, 2))
		rc = -E_EXIST_PHONE_NUMBER;
	db_rows_free(rows);
	if (rc)
		return rc;

	struct db_param p[9] = {DB_STR(f->email),
	                        DB_STR(f->password_hash),
	                        DB_STR(f->display_name),
	                        DB_STR(f->city),
	                        DB_STR(f->detail_address),
	                        DB_STR(f->real_name),
	                        DB_STR(f->phone),
	                        DB_I64(t->now),
	                        DB_I64(t->now)};
	rc = db_exec(db, sql_insert, p, 9, NULL, &id);
	if (rc == -E_DB_DUPLICATE)
		return dup_to_err(db);
	if (rc)
		return rc;
	t->out->user_id = (int64_t)id;

	struct db_param cart[4] = {DB_I64(id), DB_STR("NORMAL"), DB_I64(t->now), DB_I64(t->now)};
	rc = db_exec(db, sql_insert_cart, cart, 4, NULL, &id);
	if (rc)
		return rc;
	t->out->normal_cart_id = (int64_t)id;
	cart[1] = DB_STR("SUBSCRIPTION");
	rc = db_exec(db, sql_insert_cart, cart, 4, NULL, &id);
	if (rc)
		return rc;
	t->out->subscription_cart_id = (int64_t)id;
	return 0;
}

int store_user_create(struct db *db, const struct user_fields *f, int64_t now,
                      struct user_created *out)
{
	struct user_created created = {0};
	struct create_tx t = {f, now, &created};
	int rc = db_tx(db, create_fn, &t);
	if (rc == 0)
		*out = created;
	return rc;
}

struct update_tx {
	int64_t user_id;
	const struct user_fields *f;
	int64_t now;
};

static int update_fn(struct db *db, void *arg)
{
	struct update_tx *t = arg;
	const struct user_fields *f = t->f;
	struct db_rows *rows = NULL;
	uint64_t affected = 0;
	int rc;

	if (f->phone || f->display_name) {
		struct db_param c[4] = {DB_STR(f->phone), DB_I64(t->user_id),
		                        DB_STR(f->display_name), DB_I64(t->user_id)};
		rc = db_query(db, sql_conflicts_other, c, 4, &rows);
		if (rc)
			return rc;
		if (f->phone && db_rows_i64(rows, 0, 0))
			rc = -E_EXIST_PHONE_NUMBER;
		else if (f->display_name && db_rows_i64(rows, 0, 1))
			rc = -E_EXIST_DISPLAY_NAME;
		db_rows_free(rows);
		if (rc)
			return rc;
	}
	struct db_param p[8] = {DB_STR(f->password_hash), DB_STR(f->display_name),
	                        DB_STR(f->city),          DB_STR(f->detail_address),
	                        DB_STR(f->real_name),     DB_STR(f->phone),
	                        DB_I64(t->now),           DB_I64(t->user_id)};
	rc = db_exec(db, sql_update, p, 8, &affected, NULL);
	if (rc == -E_DB_DUPLICATE)
		return dup_to_err(db);
	return rc;
}

int store_user_update(struct db *db, int64_t user_id, const struct user_fields *f, int64_t now)
{
	struct update_tx t = {user_id, f, now};
	return db_tx(db, update_fn, &t);
}

struct withdraw_tx {
	int64_t user_id;
	int64_t now;
	bool changed;
};

static int withdraw_fn(struct db *db, void *arg)
{
	struct withdraw_tx *t = arg;
	uint64_t affected = 0;
	int rc;

	struct db_param p[3] = {DB_I64(t->now), DB_I64(t->now), DB_I64(t->user_id)};
	rc = db_exec(db, sql_withdraw, p, 3, &affected, NULL);
	if (rc)
		return rc;
	t->changed = affected > 0;
	if (!t->changed)
		return 0;
	struct db_param u = DB_I64(t->user_id);
	rc = db_exec(db, sql_delete_carts, &u, 1, NULL, NULL);
	if (rc)
		return rc;
	rc = db_exec(db, sql_cancel_orders, p, 3, NULL, NULL);
	if (rc)
		return rc;
	return store_subscription_cancel_all_of_user(db, t->user_id, SUB_CANCEL_WITHDRAWAL, t->now);
}

int store_user_withdraw(struct db *db, int64_t user_id, int64_t now, bool *changed)
{
	struct withdraw_tx t = {user_id, now, false};
	int rc = db_tx(db, withdraw_fn, &t);
	if (rc == 0)
		*changed = t.changed;
	return rc;
}
