/* reviews: helpers of the review integration tests, see reviews.h. */
#include "tests/it/lib/reviews.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* ---- catalogue and orders in SQL ------------------------------------------------------------- */

int64_t rv_item_new_at(struct it_loc at, char *name, size_t n)
{
	char product[64];
	struct db_param p[1];

	it_unique_name(product, sizeof(product), "rvitem");
	p[0] = DB_STR(product);
	it_sql_exec_at(at,
	               "INSERT INTO items (product_name, enterprise, origin_price, discount_p10,"
	               " created_at, updated_at) VALUES (?, 'review-tests', 10000, 0,"
	               " UTC_TIMESTAMP(), UTC_TIMESTAMP())",
	               p, 1);
	if (name)
		snprintf(name, n, "%s", product);
	return it_sql_i64_at(at, "SELECT item_id FROM items WHERE product_name = ?", p, 1);
}

static int64_t last_id(struct it_loc at)
{
	return it_sql_i64_at(at, "SELECT LAST_INSERT_ID()", NULL, 0);
}

static int64_t insert_order(struct it_loc at, int64_t user_id, const char *status, size_t lines,
                            bool subscription)
{
	struct db_param p[7] = {DB_I64(user_id),
	                        DB_STR(status),
	                        DB_I64(subscription),
	                        DB_I64(lines),
	                        DB_I64(lines),
	                        DB_I64(10000 * (int64_t)lines),
	                        DB_I64(10000 * (int64_t)lines)};

	it_sql_exec_at(
	    at,
	    "INSERT INTO orders (user_id, status, is_subscription, receiver_real_name,"
	    " receiver_phone, receiver_city, receiver_detail_address, total_items,"
	    " total_quantity, total_price, total_discount_price, expect_price, created_at,"
	    " updated_at) VALUES (?, ?, ?, '리뷰', '010-1111-2222', '서울', '1동', ?, ?, ?,"
	    " 0, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())",
	    p, 7);
	return last_id(at);
}

static int64_t insert_line(struct it_loc at, int64_t order_id, int64_t item_id, bool subscription,
                           int64_t subscription_id)
{
	struct db_param p[5] = {DB_I64(order_id), DB_I64(item_id), DB_I64(subscription),
	                        DB_I64(subscription ? 30 : 0),
	                        subscription_id ? DB_I64(subscription_id) : DB_NULL()};

	it_sql_exec_at(
	    at,
	    "INSERT INTO order_items (order_id, item_id, quantity, is_subscription, period,"
	    " origin_price, discount_p10, discount_price, real_price, subscription_id,"
	    " created_at) VALUES (?, ?, 1, ?, ?, 10000, 0, 0, 10000, ?, UTC_TIMESTAMP())",
	    p, 5);
	return last_id(at);
}

int64_t rv_order_new_at(struct it_loc at, int64_t user_id, const char *status, const int64_t *items,
                        size_t nitems)
{
	int64_t order_id = insert_order(at, user_id, status, nitems, false);

	for (size_t i = 0; i < nitems; i++)
		insert_line(at, order_id, items[i], false, 0);
	return order_id;
}

int64_t rv_renewal_order_at(struct it_loc at, int64_t user_id, int64_t item_id,
                            int64_t *initial_order)
{
	char key[64], partner[64], tid[64], sid[64], puser[32];
	int64_t order_id, line_id, payment_id, sub_id, renewal_id;

	order_id = insert_order(at, user_id, "COMPLETE", 1, true);
	line_id = insert_line(at, order_id, item_id, true, 0);
	it_unique_name(key, sizeof(key), "rvkey");
	it_unique_name(partner, sizeof(partner), "rvpo");
	it_unique_name(tid, sizeof(tid), "T");
	it_unique_name(sid, sizeof(sid), "S");
	snprintf(puser, sizeof(puser), "U%lld", (long long)user_id);
	struct db_param pay[6] = {DB_I64(order_id), DB_STR(key), DB_STR(partner),
	                          DB_STR(puser),    DB_STR(tid), DB_STR(sid)};
	it_sql_exec_at(
	    at,
	    "INSERT INTO payments (order_id, ready_no, status, payment_key, cid,"
	    " partner_order_id, partner_user_id, item_name, quantity, amount, tid, aid, sid,"
	    " approved_total, approved_at, ready_at, created_at, updated_at)"
	    " VALUES (?, 1, 'APPROVED', ?, 'TCSUBSCRIP', ?, ?, 'review item', 1, 10000, ?,"
	    " 'A-review', ?, 10000, UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP(),"
	    " UTC_TIMESTAMP())",
	    pay, 6);
	payment_id = last_id(at);
	struct db_param sub[7] = {DB_I64(user_id), DB_I64(order_id),   DB_I64(line_id),
	                          DB_I64(item_id), DB_I64(payment_id), DB_STR(sid),
	                          DB_STR(puser)};
	it_sql_exec_at(
	    at,
	    "INSERT INTO subscriptions (user_id, order_id, order_item_id, item_id,"
	    " payment_id, quantity, period, status, first_payment_date, last_payment_date,"
	    " last_settled_cycle_date, next_payment_date, cid, sid, partner_user_id,"
	    " receiver_real_name, receiver_phone, receiver_city, receiver_detail_address,"
	    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 30, 'SUBSCRIPTION',"
	    " CURDATE() - INTERVAL 30 DAY, CURDATE(), CURDATE(), CURDATE() + INTERVAL 30 DAY,"
	    " 'TCSUBSCRIP', ?, ?, '리뷰', '010-1111-2222', '서울', '1동', UTC_TIMESTAMP(),"
	    " UTC_TIMESTAMP())",
	    sub, 7);
	sub_id = last_id(at);
	struct db_param link[2] = {DB_I64(sub_id), DB_I64(line_id)};
	it_sql_exec_at(at, "UPDATE order_items SET subscription_id = ? WHERE order_item_id = ?",
	               link, 2);
	struct db_param ren[2] = {DB_I64(user_id), DB_I64(sub_id)};
	it_sql_exec_at(
	    at,
	    "INSERT INTO orders (user_id, status, is_subscription, is_renewal,"
	    " subscription_id, cycle_date, receiver_real_name, receiver_phone,"
	    " receiver_city, receiver_detail_address, total_items, total_quantity,"
	    " total_price, total_discount_price, expect_price, created_at, updated_at,"
	    " paid_at) VALUES (?, 'COMPLETE', 1, 1, ?, CURDATE(), '리뷰', '010-1111-2222',"
	    " '서울', '1동', 1, 1, 10000, 0, 10000, UTC_TIMESTAMP(), UTC_TIMESTAMP(),"
	    " UTC_TIMESTAMP())",
	    ren, 2);
	renewal_id = last_id(at);
	insert_line(at, renewal_id, item_id, true, sub_id);
	if (initial_order)
		*initial_order = order_id;
	return renewal_id;
}

/* ---- requests -------------------------------------------------------------------------------- */

/* {"<id_key>": id, ["itemId": item_id,] "content", "star"} (caller frees). */
static char *review_body(const char *id_key, int64_t id, bool with_item, int64_t item_id,
                         const char *content, int star)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddNumberToObject(o, id_key, (double)id);
	if (with_item)
		cJSON_AddNumberToObject(o, "itemId", (double)item_id);
	cJSON_AddStringToObject(o, "content", content);
	cJSON_AddNumberToObject(o, "star", star);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

void rv_post_at(struct it_loc at, const char *token, int64_t order_id, int64_t item_id,
                const char *content, int star, struct it_resp *out)
{
	char *body = review_body("orderId", order_id, true, item_id, content, star);

	it_req_at(at, "POST", "/api/reviews", token, body, NULL, out);
	free(body);
}

int64_t rv_create_at(struct it_loc at, const char *token, int64_t order_id, int64_t item_id,
                     const char *content, int star)
{
	struct it_resp r = IT_RESP_INIT;
	int64_t id;

	rv_post_at(at, token, order_id, item_id, content, star, &r);
	it_check_at(at, &r, r.status == 201, "POST /api/reviews: expected 201, got %ld", r.status);
	id = it_json_int_at(at, cJSON_GetObjectItemCaseSensitive(r.json, "data"), "reviewId");
	it_resp_free(&r);
	return id;
}

void rv_patch_at(struct it_loc at, const char *token, int64_t review_id, const char *content,
                 int star, struct it_resp *out)
{
	char *body = review_body("reviewId", review_id, false, 0, content, star);

	it_req_at(at, "PATCH", "/api/reviews", token, body, NULL, out);
	free(body);
}

void rv_delete_at(struct it_loc at, const char *token, int64_t review_id, struct it_resp *out)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"reviewId\":%lld}", (long long)review_id);
	it_req_at(at, "DELETE", "/api/reviews", token, body, NULL, out);
}

/* ---- statistics ------------------------------------------------------------------------------ */

static void two_ints(struct it_loc at, const char *sql, int64_t id, int64_t *a, int64_t *b)
{
	struct db *db = it_db();
	struct db_param p[1] = {DB_I64(id)};
	struct db_rows *rows = NULL;
	int rc;

	it_check_at(at, NULL, db != NULL, "db_new failed");
	rc = db_query(db, sql, p, 1, &rows);
	it_check_at(at, NULL, rc == 0, "SQL failed (%d: %s): %s", rc, db_last_error(db), sql);
	it_check_at(at, NULL, db_rows_count(rows) == 1, "expected one row: %s", sql);
	*a = db_rows_i64(rows, 0, 0);
	*b = db_rows_i64(rows, 0, 1);
	db_rows_free(rows);
}

void rv_item_stats_at(struct it_loc at, int64_t item_id, int64_t *size, int64_t *x100)
{
	two_ints(at, "SELECT review_size, star_avg_x100 FROM items WHERE item_id = ?", item_id,
	         size, x100);
}

int64_t rv_avg_x100(int64_t sum, int64_t count)
{
	int64_t whole, rest;

	if (count == 0)
		return 0;
	/* long division: 100 * sum = whole * count + rest; half up when 2 * rest >= count */
	whole = 100 * sum / count;
	rest = 100 * sum - whole * count;
	return 2 * rest >= count ? whole + 1 : whole;
}

void rv_recount_at(struct it_loc at, int64_t item_id, int64_t *size, int64_t *x100)
{
	int64_t count, sum;

	two_ints(at,
	         "SELECT COUNT(*), COALESCE(SUM(star), 0) FROM reviews WHERE item_id = ?"
	         " AND status = 'ACTIVE'",
	         item_id, &count, &sum);
	*size = count;
	*x100 = rv_avg_x100(sum, count);
}

void rv_fraction_text(int64_t x100, char *out, size_t n)
{
	int64_t whole = x100 / 100, frac = x100 % 100;

	if (frac == 0)
		snprintf(out, n, "%lld.0", (long long)whole);
	else if (frac % 10 == 0)
		snprintf(out, n, "%lld.%lld", (long long)whole, (long long)(frac / 10));
	else
		snprintf(out, n, "%lld.%02lld", (long long)whole, (long long)frac);
}

bool rv_raw_number(const char *body, const char *key, char *out, size_t n)
{
	char pat[64];
	const char *p;
	size_t len = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = body ? strstr(body, pat) : NULL;
	if (!p || n == 0)
		return false;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	while (p[len] && strchr("-+.0123456789eE", p[len]) && len + 1 < n)
		len++;
	memcpy(out, p, len);
	out[len] = '\0';
	return len > 0;
}

void rv_assert_stats_at(struct it_loc at, int64_t item_id, const char *name, int64_t size,
                        int64_t x100)
{
	struct it_resp r = IT_RESP_INIT;
	int64_t s_size, s_x100, c_size, c_x100;
	char path[256], want[32], got[32];
	const cJSON *data, *el;

	rv_item_stats_at(at, item_id, &s_size, &s_x100);
	rv_recount_at(at, item_id, &c_size, &c_x100);
	it_check_at(at, NULL, s_size == c_size && s_x100 == c_x100,
	            "item %lld: stored review_size %lld star_avg_x100 %lld, recomputed %lld %lld",
	            (long long)item_id, (long long)s_size, (long long)s_x100, (long long)c_size,
	            (long long)c_x100);
	it_check_at(at, NULL, s_size == size && s_x100 == x100,
	            "item %lld: review_size %lld star_avg_x100 %lld, expected %lld %lld",
	            (long long)item_id, (long long)s_size, (long long)s_x100, (long long)size,
	            (long long)x100);
	rv_fraction_text(x100, want, sizeof(want));

	snprintf(path, sizeof(path), "/api/items/%lld", (long long)item_id);
	it_req_at(at, "GET", path, NULL, NULL, NULL, &r);
	it_check_at(at, &r, r.status == 200, "GET %s: expected 200", path);
	it_check_at(at, &r, rv_raw_number(r.body, "starAvg", got, sizeof(got)),
	            "GET %s: no starAvg", path);
	it_check_at(at, &r, !strcmp(got, want), "GET %s: starAvg %s, expected %s", path, got, want);

	snprintf(path, sizeof(path), "/api/items/search?keyword=%s", name);
	it_req_at(at, "GET", path, NULL, NULL, NULL, &r);
	data = cJSON_GetObjectItemCaseSensitive(r.json, "data");
	el = cJSON_GetArrayItem(data, 0);
	it_check_at(at, &r, r.status == 200 && cJSON_GetArraySize(data) == 1,
	            "GET %s: expected 200 and one item", path);
	it_check_at(at, &r, it_json_int_at(at, el, "itemId") == item_id, "GET %s: wrong item",
	            path);
	it_check_at(at, &r, it_json_int_at(at, el, "reviewSize") == size,
	            "GET %s: reviewSize, expected %lld", path, (long long)size);
	it_check_at(at, &r,
	            rv_raw_number(r.body, "starAvg", got, sizeof(got)) && !strcmp(got, want),
	            "GET %s: starAvg %s, expected %s", path, got, want);
	it_resp_free(&r);
}
