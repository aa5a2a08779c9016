/* store_oauth: SQL for OAuth identities and social accounts (see store_oauth.h). */
#include "core/store_oauth.h"

#include <string.h>

#include "common/db.h"
#include "common/err.h"
#include "common/banned.h"

static const char sql_find[] =
    "SELECT user_id FROM user_oauth WHERE provider = ? AND provider_user_id = ?";
static const char sql_email_taken[] =
    "SELECT EXISTS(SELECT 1 FROM users WHERE email_key = LOWER(?))";
static const char sql_insert_user[] =
    "INSERT INTO users (email, password_hash, display_name, city, detail_address, real_name,"
    " phone, role, status, created_at, updated_at)"
    " VALUES (?, NULL, NULL, NULL, NULL, ?, NULL, 'USER', 'USER_ACTIVE', FROM_UNIXTIME(?),"
    " FROM_UNIXTIME(?))";
static const char sql_insert_cart[] = "INSERT INTO carts (user_id, kind, created_at, updated_at)"
                                      " VALUES (?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
static const char sql_insert_link[] =
    "INSERT INTO user_oauth (user_id, provider, provider_user_id, email, linked_at)"
    " VALUES (?, ?, ?, ?, FROM_UNIXTIME(?))";
static const char sql_carts[] = "SELECT cart_id, kind FROM carts WHERE user_id = ?";
static const char sql_conflicts[] =
    "SELECT EXISTS(SELECT 1 FROM users WHERE display_name_key = LOWER(?) AND user_id <> ?),"
    " EXISTS(SELECT 1 FROM users WHERE phone_digits = REGEXP_REPLACE(?, '[^0-9]', '')"
    " AND user_id <> ?)";

int store_oauth_find(struct db *db, const char *provider, const char *provider_user_id,
                     int64_t *user_id)
{
	struct db_param p[2] = {DB_STR(provider), DB_STR(provider_user_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_find, p, 2, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = -E_USER_NOT_FOUND;
	else
		*user_id = db_rows_i64(rows, 0, 0);
	db_rows_free(rows);
	return rc;
}

struct create_tx {
	const char *email, *real_name, *provider, *puid;
	int64_t now;
	struct user_created out;
};

static int create_fn(struct db *db, void *arg)
{
	struct create_tx *t = arg;
	struct db_rows *rows = NULL;
	uint64_t id;
	int rc;

	struct db_param e = DB_STR(t->email);
	rc = db_query(db, sql_email_taken, &e, 1, &rows);
	if (rc)
		return rc;
	rc = db_rows_i64(rows, 0, 0) ? -E_EXIST_EMAIL : 0;
	db_rows_free(rows);
	if (rc)
		return rc;

	struct db_param u[4] = {DB_STR(t->email), DB_STR(t->real_name), DB_I64(t->now),
	                        DB_I64(t->now)};
	rc = db_exec(db, sql_insert_user, u, 4, NULL, &id);
	if (rc == -E_DB_DUPLICATE)
		return -E_EXIST_EMAIL;
	if (rc)
		return rc;
	t->out.user_id = (int64_t)id;

	struct db_param cart[4] = {DB_I64(id), DB_STR("NORMAL"), DB_I64(t->now), DB_I64(t->now)};
	rc = db_exec(db, sql_insert_cart, cart, 4, NULL, &id);
	if (rc)
		return rc;
	t->out.normal_cart_id = (int64_t)id;
	cart[1] = DB_STR("SUBSCRIPTION");
	rc = db_exec(db, sql_insert_cart, cart, 4, NULL, &id);
	if (rc)
		return rc;
	t->out.subscription_cart_id = (int64_t)id;

	struct db_param l[5] = {DB_I64(t->out.user_id), DB_STR(t->provider), DB_STR(t->puid),
	                        DB_STR(t->email), DB_I64(t->now)};
	return db_exec(db, sql_insert_link, l, 5, NULL, NULL);
}

int store_oauth_create_user(struct db *db, const char *email, const char *real_name,
                            const char *provider, const char *provider_user_id, int64_t now,
                            struct user_created *out)
{
	struct create_tx t = {email, real_name, provider, provider_user_id, now, {0}};
	int rc = db_tx(db, create_fn, &t);

	if (rc == 0)
		*out = t.out;
	return rc;
}

int store_oauth_link(struct db *db, int64_t user_id, const char *provider,
                     const char *provider_user_id, const char *email, int64_t now)
{
	struct db_param l[5] = {DB_I64(user_id), DB_STR(provider), DB_STR(provider_user_id),
	                        DB_STR(email), DB_I64(now)};
	int64_t linked = 0;
	int rc = db_exec(db, sql_insert_link, l, 5, NULL, NULL);

	if (rc != -E_DB_DUPLICATE)
		return rc;
	if (store_oauth_find(db, provider, provider_user_id, &linked) == 0 && linked == user_id)
		return 0;
	return -E_DB_DUPLICATE;
}

int store_oauth_carts(struct db *db, int64_t user_id, int64_t *normal_cart_id,
                      int64_t *subscription_cart_id)
{
	struct db_param p = DB_I64(user_id);
	struct db_rows *rows = NULL;
	int64_t normal = 0, sub = 0;
	int rc = db_query(db, sql_carts, &p, 1, &rows);

	if (rc)
		return rc;
	for (size_t i = 0; i < db_rows_count(rows); i++) {
		const char *kind = db_rows_str(rows, i, 1);
		if (kind && !strcmp(kind, "NORMAL"))
			normal = db_rows_i64(rows, i, 0);
		else if (kind && !strcmp(kind, "SUBSCRIPTION"))
			sub = db_rows_i64(rows, i, 0);
	}
	db_rows_free(rows);
	if (!normal || !sub)
		return -E_CART_NOT_FOUND;
	*normal_cart_id = normal;
	*subscription_cart_id = sub;
	return 0;
}

int store_oauth_conflicts(struct db *db, int64_t user_id, const char *display_name,
                          const char *phone)
{
	struct db_param p[4] = {DB_STR(display_name), DB_I64(user_id), DB_STR(phone),
	                        DB_I64(user_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql_conflicts, p, 4, &rows);

	if (rc)
		return rc;
	if (db_rows_i64(rows, 0, 0))
		rc = -E_EXIST_DISPLAY_NAME;
	else if (db_rows_i64(rows, 0, 1))
		rc = -E_EXIST_PHONE_NUMBER;
	db_rows_free(rows);
	return rc;
}
