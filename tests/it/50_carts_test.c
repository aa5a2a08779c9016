/*
 * 50_carts: the normal and the subscription cart (API.md §5, totals of §2.2): the cart JSON
 * with exact keys and values, lines in the order added with the items' current catalogue
 * values, totals recomputed after a price change in SQL, every error row of §5.2 and §5.3,
 * other users' carts and ADMIN reads, the kind mismatch 404s, the check order of §1.5, a
 * withdrawn user's carts, a duplicate add that races, and store_cart_remove_items (used at
 * payment approval, no route yet) driven through SQL.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/db.h"
#include "common/err.h"
#include "core/store_cart.h"
#include "tests/it/lib/carts.h"
#include "tests/it/lib/it.h"
#include "common/banned.h"

#define NO_SUCH_ID 999999999999LL
#define R_MIN1     "1 이상이어야 합니다"
#define R_MAX999   "999 이하여야 합니다"
#define R_MIN30    "30 이상이어야 합니다"
#define R_MAX365   "365 이하여야 합니다"

/* ---- requests ------------------------------------------------------------------------------ */

static void cart_path(char *out, size_t n, bool sub, int64_t cart_id, const char *suffix)
{
	it_cart_path(out, n, sub, cart_id, suffix);
}

/* method on /api/carts/<kind>/<cart><suffix><query>; query may be "". */
static void req_cart_at(struct it_loc at, const char *method, bool sub, int64_t cart_id,
                        const char *suffix, const char *query, const char *token, const char *body,
                        struct it_resp *r)
{
	char path[256], full[512];

	cart_path(path, sizeof(path), sub, cart_id, suffix);
	snprintf(full, sizeof(full), "%s%s", path, query);
	it_req_at(at, method, full, token, body, NULL, r);
}
#define req_cart(m, sub, cart, suffix, q, tok, body, r)                                            \
	req_cart_at(IT_HERE, m, sub, cart, suffix, q, tok, body, r)

/* GET the cart; asserts 200 and the cart JSON's keys; returns data (borrowed from r). */
static cJSON *get_cart_at(struct it_loc at, const char *token, bool sub, int64_t cart_id,
                          struct it_resp *r)
{
	cJSON *data;

	req_cart_at(at, "GET", sub, cart_id, "", "", token, NULL, r);
	it_assert_status_at(at, r, 200);
	data = it_assert_wrapper_at(at, r);
	it_assert_keys_at(at, data, "cartId", "cartItems", "totalItemCount", "totalPrice",
	                  "totalDiscountPrice", "expectPrice", NULL);
	it_check_at(at, r, it_json_int_at(at, data, "cartId") == cart_id, "cartId");
	it_check_at(at, r, cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(data, "cartItems")),
	            "cartItems must be an array");
	return data;
}
#define get_cart(tok, sub, cart, r) get_cart_at(IT_HERE, tok, sub, cart, r)

static cJSON *lines_of(const cJSON *data)
{
	return cJSON_GetObjectItemCaseSensitive(data, "cartItems");
}

static void assert_totals_at(struct it_loc at, const cJSON *data, int64_t count, int64_t price,
                             int64_t discount, int64_t expect)
{
	int64_t c = it_json_int_at(at, data, "totalItemCount");
	int64_t p = it_json_int_at(at, data, "totalPrice");
	int64_t d = it_json_int_at(at, data, "totalDiscountPrice");
	int64_t e = it_json_int_at(at, data, "expectPrice");

	it_check_at(at, NULL, c == count && p == price && d == discount && e == expect,
	            "totals %lld/%lld/%lld/%lld, expected %lld/%lld/%lld/%lld", (long long)c,
	            (long long)p, (long long)d, (long long)e, (long long)count, (long long)price,
	            (long long)discount, (long long)expect);
}
#define assert_totals(data, c, p, d, e) assert_totals_at(IT_HERE, data, c, p, d, e)

/* One line of the cart JSON against the item's current values. */
static void assert_line_at(struct it_loc at, const cJSON *line, const struct it_cart_item *it,
                           int quantity, int period, bool sub)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(line, "item");
	const cJSON *v;
	int64_t discount = (it->origin * it->p10 + 500) / 1000;

	it_assert_keys_at(at, line, "quantity", "period", "subscription", "item", "createdAt",
	                  "updatedAt", NULL);
	it_check_at(at, NULL, it_json_int_at(at, line, "quantity") == quantity,
	            "quantity of item %lld: expected %d", (long long)it->id, quantity);
	it_check_at(at, NULL, it_json_int_at(at, line, "period") == period,
	            "period of item %lld: expected %d", (long long)it->id, period);
	v = cJSON_GetObjectItemCaseSensitive(line, "subscription");
	it_check_at(at, NULL, sub ? cJSON_IsTrue(v) : cJSON_IsFalse(v), "subscription must be %s",
	            sub ? "true" : "false");
	it_assert_ts_at(at, "createdAt", cJSON_GetObjectItemCaseSensitive(line, "createdAt"));
	it_assert_ts_at(at, "updatedAt", cJSON_GetObjectItemCaseSensitive(line, "updatedAt"));

	it_assert_keys_at(at, item, "itemId", "enterprise", "thumbnail", "product", "originPrice",
	                  "realPrice", "discountRate", "discountPrice", NULL);
	it_check_at(at, NULL, it_json_int_at(at, item, "itemId") == it->id, "itemId");
	it_check_at(at, NULL, strcmp(it_json_str_at(at, item, "product"), it->product) == 0,
	            "product");
	if (it->enterprise[0]) {
		it_check_at(at, NULL,
		            strcmp(it_json_str_at(at, item, "enterprise"), it->enterprise) == 0,
		            "enterprise");
		it_check_at(at, NULL,
		            strcmp(it_json_str_at(at, item, "thumbnail"), it->thumbnail) == 0,
		            "thumbnail");
	} else {
		it_check_at(at, NULL,
		            cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(item, "enterprise")),
		            "enterprise must be null");
		it_check_at(at, NULL,
		            cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(item, "thumbnail")),
		            "thumbnail must be null");
	}
	it_check_at(at, NULL, it_json_int_at(at, item, "originPrice") == it->origin,
	            "originPrice of item %lld", (long long)it->id);
	it_check_at(at, NULL, it_json_int_at(at, item, "discountPrice") == discount,
	            "discountPrice of item %lld", (long long)it->id);
	it_check_at(at, NULL, it_json_int_at(at, item, "realPrice") == it->origin - discount,
	            "realPrice of item %lld", (long long)it->id);
	v = cJSON_GetObjectItemCaseSensitive(item, "discountRate");
	it_check_at(at, NULL, cJSON_IsNumber(v) && v->valuedouble == it->p10 / 1000.0,
	            "discountRate of item %lld", (long long)it->id);
}
#define assert_line(line, it, q, p, sub) assert_line_at(IT_HERE, line, it, q, p, sub)

static void assert_error_field_at(struct it_loc at, const struct it_resp *r, long status,
                                  const char *code, const char *field, const char *rejected,
                                  const char *reason)
{
	it_assert_error_at(at, r, status, code);
	it_assert_field_count_at(at, r, 1);
	it_assert_field_error_at(at, r, 0, field, rejected, reason);
}
#define assert_error_field(r, st, code, f, rej, why)                                               \
	assert_error_field_at(IT_HERE, r, st, code, f, rej, why)
#define assert_invalid(r, f, rej, why)                                                             \
	assert_error_field_at(IT_HERE, r, 400, "VALIDATION_FAILED", f, rej, why)
#define assert_type(r, f, rej)                                                                     \
	assert_error_field_at(IT_HERE, r, 400, "INVALID_PARAMETER_TYPE", f, rej, IT_R_TYPE)

static void query_item(char *out, size_t n, int64_t item_id, const char *rest)
{
	snprintf(out, n, "?itemId=%lld%s", (long long)item_id, rest);
}

static void sub_body(char *out, size_t n, int64_t item_id, int quantity, int period)
{
	snprintf(out, n, "{\"itemId\":%lld,\"quantity\":%d,\"period\":%d,\"subscription\":true}",
	         (long long)item_id, quantity, period);
}

/* ---- the nine routes ---------------------------------------------------------------------- */

struct route {
	const char *method;
	bool sub;
	const char *suffix;
	const char *rest; /* after ?itemId=<id>; NULL = no query (GET, subscription POST) */
	bool body;
};

static const struct route routes[] = {
    {"GET", false, "", NULL, false},
    {"POST", false, "", "&quantity=1", false},
    {"DELETE", false, "", "", false},
    {"PATCH", false, "", "&quantity=2", false},
    {"GET", true, "", NULL, false},
    {"POST", true, "", NULL, true},
    {"DELETE", true, "", "", false},
    {"PATCH", true, "/quantity", "&quantity=2", false},
    {"PATCH", true, "/period", "&period=60", false},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Route i on the cart path segment cart_text ("12", "abc"), for item_id. */
static void call_route(size_t i, const char *cart_text, int64_t item_id, const char *token,
                       struct it_resp *r)
{
	const struct route *rt = &routes[i];
	char path[256], query[96] = "", body[160];

	if (rt->rest)
		query_item(query, sizeof(query), item_id, rt->rest);
	snprintf(path, sizeof(path), "/api/carts/%s/%s%s%s", rt->sub ? "subscription" : "normal",
	         cart_text, rt->suffix, query);
	sub_body(body, sizeof(body), item_id, 1, 30);
	it_req(rt->method, path, token, rt->body ? body : NULL, NULL, r);
}

static void id_text(char *out, size_t n, int64_t id)
{
	snprintf(out, n, "%lld", (long long)id);
}

/* ---- GET and the cart JSON ----------------------------------------------------------------- */

START_TEST(new_carts_are_empty_with_zero_totals)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *data;

	it_new_user(&u);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 0);
	assert_totals(data, 0, 0, 0, 0);
	ck_assert_msg(strstr(r.body, "\"cartItems\":[]") != NULL, "cartItems must be []");

	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 0);
	assert_totals(data, 0, 0, 0, 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(normal_line_has_the_contract_shape)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u;
	char q[96];
	cJSON *data, *line;

	it_new_user(&u);
	it_cart_item_new(&a, 11000, 100);
	query_item(q, sizeof(q), a.id, "&quantity=2");
	req_cart("POST", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_cart_assert_added(&r, a.id);
	ck_assert_msg(strstr(r.body, "\"data\":") != NULL, "body: %s", r.body);

	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	line = cJSON_GetArrayItem(lines_of(data), 0);
	assert_line(line, &a, 2, 0, false);
	it_assert_ts_recent("createdAt", cJSON_GetObjectItemCaseSensitive(line, "createdAt"), 300);
	it_assert_ts_recent("updatedAt", cJSON_GetObjectItemCaseSensitive(line, "updatedAt"), 300);
	/* 11000 at 10 %: 1100 off, 9900 each */
	assert_totals(data, 2, 22000, 2200, 19800);
	it_resp_free(&r);
}
END_TEST

START_TEST(subscription_line_has_the_contract_shape)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u;
	char body[160];
	cJSON *data, *line;

	it_new_user(&u);
	it_cart_item_new(&a, 11000, 100);
	sub_body(body, sizeof(body), a.id, 2, 30);
	req_cart("POST", true, u.subscription_cart_id, "", "", u.access, body, &r);
	it_cart_assert_added(&r, a.id);

	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	line = cJSON_GetArrayItem(lines_of(data), 0);
	assert_line(line, &a, 2, 30, true);
	it_assert_ts_recent("createdAt", cJSON_GetObjectItemCaseSensitive(line, "createdAt"), 300);
	assert_totals(data, 2, 22000, 2200, 19800);

	/* the normal cart is a different cart */
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(spec_example_totals_and_discount_rate_text)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	char text[32];
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 11000, 100);
	it_cart_item_new(&b, 10000, 0);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 2);
	it_cart_add_normal(&u, u.normal_cart_id, b.id, 1);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	assert_totals(data, 3, 32000, 2200, 29800);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 2, 0, false);
	assert_line(cJSON_GetArrayItem(lines_of(data), 1), &b, 1, 0, false);
	it_cart_raw_value(r.body, a.id, "discountRate", text, sizeof(text));
	ck_assert_str_eq(text, "0.1");
	it_cart_raw_value(r.body, b.id, "discountRate", text, sizeof(text));
	ck_assert_str_eq(text, "0.0");

	/* the same in the subscription cart */
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 2, 30);
	it_cart_add_sub(&u, u.subscription_cart_id, b.id, 1, 365);
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	assert_totals(data, 3, 32000, 2200, 29800);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 2, 30, true);
	assert_line(cJSON_GetArrayItem(lines_of(data), 1), &b, 1, 365, true);
	it_resp_free(&r);
}
END_TEST

START_TEST(half_up_prices_and_null_texts)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b, c;
	struct it_user u;
	char text[32];
	cJSON *data, *item;

	it_new_user(&u);
	it_cart_item_new(&a, 12345, 125); /* 1543.125 -> 1543, real 10802 */
	it_cart_item_new(&b, 1010, 50);   /* 50.5 -> 51, real 959 */
	it_cart_item_nulls(&c, 999, 500); /* 499.5 -> 500, real 499 */
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 3);
	it_cart_add_normal(&u, u.normal_cart_id, b.id, 1);
	it_cart_add_normal(&u, u.normal_cart_id, c.id, 2);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	item = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(lines_of(data), 0), "item");
	ck_assert_int_eq(it_json_int(item, "discountPrice"), 1543);
	ck_assert_int_eq(it_json_int(item, "realPrice"), 10802);
	item = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(lines_of(data), 1), "item");
	ck_assert_int_eq(it_json_int(item, "discountPrice"), 51);
	ck_assert_int_eq(it_json_int(item, "realPrice"), 959);
	assert_line(cJSON_GetArrayItem(lines_of(data), 2), &c, 2, 0, false);
	assert_totals(data, 6, 12345 * 3 + 1010 + 999 * 2, 1543 * 3 + 51 + 500 * 2,
	              10802 * 3 + 959 + 499 * 2);
	it_cart_raw_value(r.body, a.id, "discountRate", text, sizeof(text));
	ck_assert_str_eq(text, "0.125");
	it_cart_raw_value(r.body, b.id, "discountRate", text, sizeof(text));
	ck_assert_str_eq(text, "0.05");
	it_cart_raw_value(r.body, c.id, "discountRate", text, sizeof(text));
	ck_assert_str_eq(text, "0.5");
	it_cart_raw_value(r.body, c.id, "enterprise", text, sizeof(text));
	ck_assert_str_eq(text, "null");
	it_resp_free(&r);
}
END_TEST

START_TEST(lines_keep_the_order_they_were_added)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item it[4];
	struct it_user u;
	char q[96];
	cJSON *data;

	it_new_user(&u);
	for (int i = 0; i < 4; i++)
		it_cart_item_new(&it[i], 1000 * (i + 1), 0);
	/* added 2, 0, 3, 1: listed in that order, not by item id */
	it_cart_add_normal(&u, u.normal_cart_id, it[2].id, 1);
	it_cart_add_normal(&u, u.normal_cart_id, it[0].id, 1);
	it_cart_add_normal(&u, u.normal_cart_id, it[3].id, 1);
	it_cart_add_normal(&u, u.normal_cart_id, it[1].id, 1);
	/* a change keeps the place; a removed and re-added line goes last */
	query_item(q, sizeof(q), it[2].id, "&quantity=5");
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	query_item(q, sizeof(q), it[0].id, "");
	req_cart("DELETE", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	it_cart_add_normal(&u, u.normal_cart_id, it[0].id, 2);

	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 4);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &it[2], 5, 0, false);
	assert_line(cJSON_GetArrayItem(lines_of(data), 1), &it[3], 1, 0, false);
	assert_line(cJSON_GetArrayItem(lines_of(data), 2), &it[1], 1, 0, false);
	assert_line(cJSON_GetArrayItem(lines_of(data), 3), &it[0], 2, 0, false);
	assert_totals(data, 9, 3000 * 5 + 4000 + 2000 + 1000 * 2, 0, 3000 * 5 + 4000 + 2000 + 2000);
	it_resp_free(&r);
}
END_TEST

static const char sql_age_lines[] =
    "UPDATE cart_items SET created_at = '2020-01-02 03:04:05', updated_at = '2020-01-02 03:04:05'"
    " WHERE cart_id = ?";

START_TEST(totals_follow_the_current_item_prices)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	cJSON *data, *line;

	it_new_user(&u);
	it_cart_item_new(&a, 11000, 100);
	it_cart_item_new(&b, 10000, 0);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 2);
	it_cart_add_normal(&u, u.normal_cart_id, b.id, 1);
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 4, 60);
	struct db_param p[2] = {DB_I64(u.normal_cart_id), DB_I64(u.subscription_cart_id)};
	it_sql_exec(sql_age_lines, &p[0], 1);
	it_sql_exec(sql_age_lines, &p[1], 1);

	/* the catalogue changes; the carts are not touched */
	it_cart_item_price(&a, 20000, 125); /* 2500 off, 17500 */
	it_cart_item_price(&b, 9999, 333);  /* 3329.667 -> 3330 off, 6669 */
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	assert_totals(data, 3, 40000 + 9999, 5000 + 3330, 35000 + 6669);
	line = cJSON_GetArrayItem(lines_of(data), 0);
	assert_line(line, &a, 2, 0, false);
	ck_assert_str_eq(it_json_str(line, "createdAt"), "2020-01-02T12:04:05+09:00");
	ck_assert_str_eq(it_json_str(line, "updatedAt"), "2020-01-02T12:04:05+09:00");
	assert_line(cJSON_GetArrayItem(lines_of(data), 1), &b, 1, 0, false);

	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	assert_totals(data, 4, 80000, 10000, 70000);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 4, 60, true);

	/* free items and a full discount */
	it_cart_item_price(&a, 0, 0);
	it_cart_item_price(&b, 10000, 1000);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	assert_totals(data, 3, 10000, 10000, 0);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 2, 0, false);
	assert_line(cJSON_GetArrayItem(lines_of(data), 1), &b, 1, 0, false);
	it_resp_free(&r);
}
END_TEST

START_TEST(admin_reads_any_cart_but_writes_none)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user admin, b;
	char id[24];
	cJSON *data;

	it_new_admin(&admin);
	it_new_user(&b);
	it_cart_item_new(&a, 5000, 0);
	it_cart_add_normal(&b, b.normal_cart_id, a.id, 3);
	it_cart_add_sub(&b, b.subscription_cart_id, a.id, 1, 90);

	data = get_cart(admin.access, false, b.normal_cart_id, &r);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 3, 0, false);
	assert_totals(data, 3, 15000, 0, 15000);
	data = get_cart(admin.access, true, b.subscription_cart_id, &r);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 1, 90, true);

	for (size_t i = 0; i < NROUTES; i++) {
		if (!strcmp(routes[i].method, "GET"))
			continue;
		id_text(id, sizeof(id), routes[i].sub ? b.subscription_cart_id : b.normal_cart_id);
		call_route(i, id, a.id, admin.access, &r);
		ck_assert_msg(r.status == 403, "admin %s %s%s: %ld", routes[i].method,
		              routes[i].sub ? "subscription" : "normal", routes[i].suffix,
		              r.status);
		it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	}
	/* nothing changed */
	data = get_cart(b.access, false, b.normal_cart_id, &r);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 3, 0, false);
	data = get_cart(b.access, true, b.subscription_cart_id, &r);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 1, 90, true);
	it_resp_free(&r);
}
END_TEST

START_TEST(another_users_cart_is_403_on_every_route)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u, b;
	char id[24];
	cJSON *data;

	it_new_user(&u);
	it_new_user(&b);
	it_cart_item_new(&a, 5000, 100);
	it_cart_add_normal(&b, b.normal_cart_id, a.id, 3);
	it_cart_add_sub(&b, b.subscription_cart_id, a.id, 1, 90);
	for (size_t i = 0; i < NROUTES; i++) {
		id_text(id, sizeof(id), routes[i].sub ? b.subscription_cart_id : b.normal_cart_id);
		call_route(i, id, a.id, u.access, &r);
		ck_assert_msg(r.status == 403, "%s %s%s: %ld", routes[i].method,
		              routes[i].sub ? "subscription" : "normal", routes[i].suffix,
		              r.status);
		it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	}
	data = get_cart(b.access, false, b.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 3, 0, false);
	data = get_cart(b.access, true, b.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 1, 90, true);
	it_resp_free(&r);
}
END_TEST

START_TEST(a_cart_of_the_other_kind_is_404_on_every_route)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u, admin;
	char id[24];

	it_new_user(&u);
	it_new_admin(&admin);
	it_cart_item_new(&a, 5000, 100);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 3);
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 1, 90);
	for (size_t i = 0; i < NROUTES; i++) {
		/* the owner's own cart id, on the route of the other kind */
		id_text(id, sizeof(id), routes[i].sub ? u.normal_cart_id : u.subscription_cart_id);
		call_route(i, id, a.id, u.access, &r);
		ck_assert_msg(r.status == 404, "%s %s%s: %ld", routes[i].method,
		              routes[i].sub ? "subscription" : "normal", routes[i].suffix,
		              r.status);
		it_assert_error(&r, 404, "CART_NOT_FOUND");
	}
	id_text(id, sizeof(id), u.subscription_cart_id);
	call_route(0, id, a.id, admin.access, &r);
	it_assert_error(&r, 404, "CART_NOT_FOUND");
	id_text(id, sizeof(id), u.normal_cart_id);
	call_route(4, id, a.id, admin.access, &r);
	it_assert_error(&r, 404, "CART_NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(an_unknown_cart_is_404_on_every_route)
{
	static const char *const ids[] = {"999999999999", "0", "-1", "9223372036854775807"};
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u, admin;

	it_new_user(&u);
	it_new_admin(&admin);
	it_cart_item_new(&a, 5000, 100);
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		for (size_t i = 0; i < NROUTES; i++) {
			call_route(i, ids[k], a.id, u.access, &r);
			ck_assert_msg(r.status == 404, "%s %s%s on %s: %ld", routes[i].method,
			              routes[i].sub ? "subscription" : "normal", routes[i].suffix,
			              ids[k], r.status);
			it_assert_error(&r, 404, "CART_NOT_FOUND");
		}
	}
	call_route(0, "999999999999", a.id, admin.access, &r);
	it_assert_error(&r, 404, "CART_NOT_FOUND");
	call_route(4, "999999999999", a.id, admin.access, &r);
	it_assert_error(&r, 404, "CART_NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(a_non_integer_cart_id_is_invalid_parameter_type)
{
	static const char *const ids[] = {"abc", "1.5", "12x", "99999999999999999999"};
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		for (size_t i = 0; i < NROUTES; i++) {
			call_route(i, ids[k], 1, u.access, &r);
			ck_assert_msg(r.status == 400, "%s %s%s on %s: %ld", routes[i].method,
			              routes[i].sub ? "subscription" : "normal", routes[i].suffix,
			              ids[k], r.status);
			assert_type(&r, "cartId", ids[k]);
		}
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(no_token_is_401)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char id[24];

	it_new_user(&u);
	for (size_t i = 0; i < NROUTES; i++) {
		id_text(id, sizeof(id), routes[i].sub ? u.subscription_cart_id : u.normal_cart_id);
		call_route(i, id, 1, NULL, &r);
		it_assert_error(&r, 401, "UNAUTHORIZED");
	}
	it_resp_free(&r);
}
END_TEST

static const char sql_count_lines_of_user[] =
    "SELECT COUNT(*) FROM cart_items ci JOIN carts c ON c.cart_id = ci.cart_id"
    " WHERE c.user_id = ?";
static const char sql_count_lines_of_cart[] = "SELECT COUNT(*) FROM cart_items WHERE cart_id = ?";
static const char sql_count_carts[] = "SELECT COUNT(*) FROM carts WHERE user_id = ?";

START_TEST(a_withdrawn_users_carts_are_gone)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u, admin;
	char path[64];

	it_new_user(&u);
	it_new_admin(&admin);
	it_cart_item_new(&a, 5000, 100);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 3);
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 1, 90);
	it_user_path(path, sizeof(path), u.id);
	it_req("DELETE", path, u.access, NULL, NULL, &r);
	it_assert_status(&r, 200);

	struct db_param p[3] = {DB_I64(u.id), DB_I64(u.normal_cart_id),
	                        DB_I64(u.subscription_cart_id)};
	ck_assert_int_eq(it_sql_i64(sql_count_carts, &p[0], 1), 0);
	ck_assert_int_eq(it_sql_i64(sql_count_lines_of_cart, &p[1], 1), 0);
	ck_assert_int_eq(it_sql_i64(sql_count_lines_of_cart, &p[2], 1), 0);
	req_cart("GET", false, u.normal_cart_id, "", "", admin.access, NULL, &r);
	it_assert_error(&r, 404, "CART_NOT_FOUND");
	req_cart("GET", true, u.subscription_cart_id, "", "", admin.access, NULL, &r);
	it_assert_error(&r, 404, "CART_NOT_FOUND");
	/* the user's own token is refused before any cart is looked at */
	req_cart("GET", false, u.normal_cart_id, "", "", u.access, NULL, &r);
	it_assert_error(&r, 401, "USER_WITHDRAWN");
	it_resp_free(&r);
}
END_TEST

/* ---- normal cart writes ------------------------------------------------------------------- */

START_TEST(normal_post_twice_is_409_and_carts_are_independent)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u, v;
	char q[96];
	cJSON *data;

	it_new_user(&u);
	it_new_user(&v);
	it_cart_item_new(&a, 5000, 100);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 3);
	query_item(q, sizeof(q), a.id, "&quantity=7");
	req_cart("POST", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 409, "CART_ITEM_EXISTS");
	/* the same item in the subscription cart and in another user's cart is fine */
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 2, 30);
	it_cart_add_normal(&v, v.normal_cart_id, a.id, 4);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 3, 0, false);
	it_resp_free(&r);
}
END_TEST

START_TEST(normal_post_of_an_unknown_item_is_404)
{
	static const char *const qs[] = {"?itemId=999999999999&quantity=1", "?itemId=0&quantity=1",
	                                 "?itemId=-3&quantity=1"};
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *data;

	it_new_user(&u);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		req_cart("POST", false, u.normal_cart_id, "", qs[i], u.access, NULL, &r);
		it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	}
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(normal_post_missing_parameters)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u;
	char q[96];

	it_new_user(&u);
	it_cart_item_new(&a, 5000, 100);
	req_cart("POST", false, u.normal_cart_id, "", "", u.access, NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "itemId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "quantity", "", IT_R_REQUIRED);

	req_cart("POST", false, u.normal_cart_id, "", "?itemId=&quantity=", u.access, NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "itemId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "quantity", "", IT_R_REQUIRED);

	query_item(q, sizeof(q), a.id, "");
	req_cart("POST", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	assert_invalid(&r, "quantity", "", IT_R_REQUIRED);
	req_cart("POST", false, u.normal_cart_id, "", "?quantity=1", u.access, NULL, &r);
	assert_invalid(&r, "itemId", "", IT_R_REQUIRED);
	/* a body is not where the parameters go */
	req_cart("POST", false, u.normal_cart_id, "", "", u.access, "{\"itemId\":1,\"quantity\":1}",
	         &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_resp_free(&r);
}
END_TEST

START_TEST(normal_post_quantity_range)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	char q[96];
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 5000, 100);
	it_cart_item_new(&b, 7000, 0);
	query_item(q, sizeof(q), a.id, "&quantity=0");
	req_cart("POST", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	assert_invalid(&r, "quantity", "0", R_MIN1);
	query_item(q, sizeof(q), a.id, "&quantity=-1");
	req_cart("POST", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	assert_invalid(&r, "quantity", "-1", R_MIN1);
	query_item(q, sizeof(q), a.id, "&quantity=1000");
	req_cart("POST", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	assert_invalid(&r, "quantity", "1000", R_MAX999);
	/* the bounds are accepted */
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 1);
	it_cart_add_normal(&u, u.normal_cart_id, b.id, 999);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	assert_totals(data, 1000, 5000 + 7000 * 999, 500, 4500 + 7000 * 999);
	it_resp_free(&r);
}
END_TEST

START_TEST(normal_post_non_integers_are_invalid_parameter_type)
{
	static const char *const bad[] = {"abc", "1.5", "1e3", " 1", "99999999999"};
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u;
	char q[128];

	it_new_user(&u);
	it_cart_item_new(&a, 5000, 100);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char enc[32];
		snprintf(enc, sizeof(enc), "%s", bad[i]);
		if (enc[0] == ' ')
			enc[0] = '+'; /* '+' is a space in a query */
		snprintf(q, sizeof(q), "?itemId=%lld&quantity=%s", (long long)a.id, enc);
		req_cart("POST", false, u.normal_cart_id, "", q, u.access, NULL, &r);
		assert_type(&r, "quantity", bad[i]);
		if (i == 4)
			break; /* 99999999999 is a valid int64 item id */
		snprintf(q, sizeof(q), "?itemId=%s&quantity=1", enc);
		req_cart("POST", false, u.normal_cart_id, "", q, u.access, NULL, &r);
		assert_type(&r, "itemId", bad[i]);
	}
	/* a type error and a range error: both reported, in order, under INVALID_PARAMETER_TYPE */
	req_cart("POST", false, u.normal_cart_id, "", "?itemId=abc&quantity=0", u.access, NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "itemId", "abc", IT_R_TYPE);
	it_assert_field_error(&r, 1, "quantity", "0", R_MIN1);
	/* and with a bad cart id first */
	it_req("POST", "/api/carts/normal/x?itemId=abc", u.access, NULL, NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 3);
	it_assert_field_error(&r, 0, "cartId", "x", IT_R_TYPE);
	it_assert_field_error(&r, 1, "itemId", "abc", IT_R_TYPE);
	it_assert_field_error(&r, 2, "quantity", "", IT_R_REQUIRED);
	it_resp_free(&r);
}
END_TEST

START_TEST(normal_patch_sets_the_quantity)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	char q[96];
	cJSON *data, *line;

	it_new_user(&u);
	it_cart_item_new(&a, 11000, 100);
	it_cart_item_new(&b, 10000, 0);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 2);
	it_cart_add_normal(&u, u.normal_cart_id, b.id, 1);
	struct db_param p = DB_I64(u.normal_cart_id);
	it_sql_exec(sql_age_lines, &p, 1);

	query_item(q, sizeof(q), a.id, "&quantity=999");
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	line = cJSON_GetArrayItem(lines_of(data), 0);
	assert_line(line, &a, 999, 0, false);
	ck_assert_str_eq(it_json_str(line, "createdAt"), "2020-01-02T12:04:05+09:00");
	it_assert_ts_recent("updatedAt", cJSON_GetObjectItemCaseSensitive(line, "updatedAt"), 300);
	line = cJSON_GetArrayItem(lines_of(data), 1);
	ck_assert_str_eq(it_json_str(line, "updatedAt"), "2020-01-02T12:04:05+09:00");
	assert_totals(data, 1000, 11000 * 999 + 10000, 1100 * 999, 9900 * 999 + 10000);

	/* setting the same quantity again is fine */
	query_item(q, sizeof(q), a.id, "&quantity=1");
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	assert_totals(data, 2, 21000, 1100, 19900);
	it_resp_free(&r);
}
END_TEST

START_TEST(normal_patch_errors)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	char q[96];
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 5000, 100);
	it_cart_item_new(&b, 5000, 100);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 2);
	it_cart_add_sub(&u, u.subscription_cart_id, b.id, 2, 30);

	req_cart("PATCH", false, u.normal_cart_id, "", "", u.access, NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "itemId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "quantity", "", IT_R_REQUIRED);
	query_item(q, sizeof(q), a.id, "");
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	assert_invalid(&r, "quantity", "", IT_R_REQUIRED);
	query_item(q, sizeof(q), a.id, "&quantity=0");
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	assert_invalid(&r, "quantity", "0", R_MIN1);
	query_item(q, sizeof(q), a.id, "&quantity=1000");
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	assert_invalid(&r, "quantity", "1000", R_MAX999);
	query_item(q, sizeof(q), a.id, "&quantity=two");
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	assert_type(&r, "quantity", "two");
	req_cart("PATCH", false, u.normal_cart_id, "", "?itemId=1.0&quantity=2", u.access, NULL,
	         &r);
	assert_type(&r, "itemId", "1.0");
	/* not in this cart: unknown item, an item only in the subscription cart */
	query_item(q, sizeof(q), NO_SUCH_ID, "&quantity=2");
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
	query_item(q, sizeof(q), b.id, "&quantity=2");
	req_cart("PATCH", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 2, 0, false);
	it_resp_free(&r);
}
END_TEST

START_TEST(normal_delete_removes_the_line)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	char q[96];
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 11000, 100);
	it_cart_item_new(&b, 10000, 0);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 2);
	it_cart_add_normal(&u, u.normal_cart_id, b.id, 1);
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 1, 30);

	query_item(q, sizeof(q), a.id, "");
	req_cart("DELETE", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &b, 1, 0, false);
	assert_totals(data, 1, 10000, 0, 10000);
	/* the subscription cart keeps its line */
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);

	/* again: no longer there */
	req_cart("DELETE", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
	query_item(q, sizeof(q), NO_SUCH_ID, "");
	req_cart("DELETE", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
	req_cart("DELETE", false, u.normal_cart_id, "", "", u.access, NULL, &r);
	assert_invalid(&r, "itemId", "", IT_R_REQUIRED);
	req_cart("DELETE", false, u.normal_cart_id, "", "?itemId=x", u.access, NULL, &r);
	assert_type(&r, "itemId", "x");

	/* the last line: an empty cart has zero totals */
	query_item(q, sizeof(q), b.id, "");
	req_cart("DELETE", false, u.normal_cart_id, "", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 0);
	assert_totals(data, 0, 0, 0, 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(checks_run_in_the_contract_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u, v;
	char q[96], body[160];

	it_new_user(&u);
	it_new_user(&v);
	it_cart_item_new(&a, 5000, 100);
	it_cart_item_new(&b, 5000, 100);
	it_cart_add_normal(&v, v.normal_cart_id, a.id, 2);
	it_cart_add_sub(&v, v.subscription_cart_id, a.id, 2, 30);

	/* validation before existence: an unknown cart with a bad quantity */
	query_item(q, sizeof(q), a.id, "&quantity=0");
	req_cart("POST", false, NO_SUCH_ID, "", q, u.access, NULL, &r);
	assert_invalid(&r, "quantity", "0", R_MIN1);
	sub_body(body, sizeof(body), NO_SUCH_ID, 1, 29);
	req_cart("POST", true, v.subscription_cart_id, "", "", u.access, body, &r);
	assert_invalid(&r, "period", "29", R_MIN30);
	/* the cart before the item */
	query_item(q, sizeof(q), NO_SUCH_ID, "&quantity=1");
	req_cart("POST", false, NO_SUCH_ID, "", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "CART_NOT_FOUND");
	req_cart("POST", true, v.normal_cart_id, "", "", u.access, body, &r);
	assert_invalid(&r, "period", "29", R_MIN30);
	sub_body(body, sizeof(body), NO_SUCH_ID, 1, 30);
	req_cart("POST", true, v.normal_cart_id, "", "", v.access, body, &r);
	it_assert_error(&r, 404, "CART_NOT_FOUND");
	/* existence before ownership: another user's cart with an unknown item / line */
	req_cart("POST", false, v.normal_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	req_cart("POST", true, v.subscription_cart_id, "", "", u.access, body, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	query_item(q, sizeof(q), b.id, "&quantity=1");
	req_cart("PATCH", false, v.normal_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
	req_cart("DELETE", true, v.subscription_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
	query_item(q, sizeof(q), b.id, "&period=30");
	req_cart("PATCH", true, v.subscription_cart_id, "/period", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
	/* ownership before state: another user's line that exists is 403, not 409 */
	query_item(q, sizeof(q), a.id, "&quantity=1");
	req_cart("POST", false, v.normal_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	sub_body(body, sizeof(body), a.id, 1, 30);
	req_cart("POST", true, v.subscription_cart_id, "", "", u.access, body, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	req_cart("POST", true, v.subscription_cart_id, "", "", v.access, body, &r);
	it_assert_error(&r, 409, "CART_ITEM_EXISTS");
	it_resp_free(&r);
}
END_TEST

/* ---- subscription cart writes --------------------------------------------------------------- */

START_TEST(sub_post_body_validation)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u;
	char body[200];
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 5000, 100);
#define POST_SUB(json) req_cart("POST", true, u.subscription_cart_id, "", "", u.access, json, &r)
	POST_SUB("{}");
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 3);
	it_assert_field_error(&r, 0, "itemId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "quantity", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 2, "period", "", IT_R_REQUIRED);
	POST_SUB("{\"itemId\":null,\"quantity\":null,\"period\":null,\"subscription\":null}");
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 3);

	snprintf(body, sizeof(body), "{\"itemId\":%lld,\"quantity\":0,\"period\":29}",
	         (long long)a.id);
	POST_SUB(body);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "quantity", "0", R_MIN1);
	it_assert_field_error(&r, 1, "period", "29", R_MIN30);
	snprintf(body, sizeof(body), "{\"itemId\":%lld,\"quantity\":1000,\"period\":366}",
	         (long long)a.id);
	POST_SUB(body);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "quantity", "1000", R_MAX999);
	it_assert_field_error(&r, 1, "period", "366", R_MAX365);
	snprintf(body, sizeof(body), "{\"itemId\":%lld,\"quantity\":-5,\"period\":-30}",
	         (long long)a.id);
	POST_SUB(body);
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "quantity", "-5", R_MIN1);
	it_assert_field_error(&r, 1, "period", "-30", R_MIN30);

	/* wrong JSON types */
	POST_SUB("{\"itemId\":\"1\",\"quantity\":1,\"period\":30}");
	assert_type(&r, "itemId", "1");
	snprintf(body, sizeof(body), "{\"itemId\":%lld,\"quantity\":1.5,\"period\":30}",
	         (long long)a.id);
	POST_SUB(body);
	assert_type(&r, "quantity", "1.5");
	snprintf(body, sizeof(body), "{\"itemId\":%lld,\"quantity\":1,\"period\":true}",
	         (long long)a.id);
	POST_SUB(body);
	assert_type(&r, "period", "true");
	snprintf(body, sizeof(body), "{\"itemId\":%lld,\"quantity\":3000000000,\"period\":30}",
	         (long long)a.id);
	POST_SUB(body);
	assert_type(&r, "quantity", "3000000000");
	snprintf(body, sizeof(body),
	         "{\"itemId\":%lld,\"quantity\":1,\"period\":30,\"subscription\":\"yes\"}",
	         (long long)a.id);
	POST_SUB(body);
	assert_type(&r, "subscription", "yes");
	POST_SUB("{\"itemId\":[1],\"quantity\":\"x\",\"period\":0}");
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 3);
	it_assert_field_error(&r, 0, "itemId", "[1]", IT_R_TYPE);
	it_assert_field_error(&r, 1, "quantity", "x", IT_R_TYPE);
	it_assert_field_error(&r, 2, "period", "0", R_MIN30);
	/* not JSON, or no body at all */
	POST_SUB("{\"itemId\":1,");
	it_assert_error(&r, 400, "MALFORMED_REQUEST");
	req_cart("POST", true, u.subscription_cart_id, "", "", u.access, NULL, &r);
	ck_assert_msg(r.status == 400 || r.status == 415, "no body: %ld", r.status);

	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 0);

	/* 5.0 is 5; subscription false is ignored (the line is a subscription line); unknown
	 * keys and query parameters are ignored */
	snprintf(body, sizeof(body),
	         "{\"itemId\":%lld,\"quantity\":5.0,\"period\":365.0,\"subscription\":false,"
	         "\"extra\":1}",
	         (long long)a.id);
	req_cart("POST", true, u.subscription_cart_id, "", "?itemId=1&quantity=0", u.access, body,
	         &r);
	it_cart_assert_added(&r, a.id);
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 5, 365, true);
#undef POST_SUB
	it_resp_free(&r);
}
END_TEST

START_TEST(sub_post_unknown_item_404_and_duplicate_409)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u;
	char body[160];
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 5000, 100);
	sub_body(body, sizeof(body), NO_SUCH_ID, 1, 30);
	req_cart("POST", true, u.subscription_cart_id, "", "", u.access, body, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	sub_body(body, sizeof(body), 0, 1, 30);
	req_cart("POST", true, u.subscription_cart_id, "", "", u.access, body, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");

	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 1, 30);
	sub_body(body, sizeof(body), a.id, 9, 90);
	req_cart("POST", true, u.subscription_cart_id, "", "", u.access, body, &r);
	it_assert_error(&r, 409, "CART_ITEM_EXISTS");
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 1, 30, true);
	it_resp_free(&r);
}
END_TEST

START_TEST(sub_patch_quantity)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	char q[96];
	cJSON *data, *line;

	it_new_user(&u);
	it_cart_item_new(&a, 11000, 100);
	it_cart_item_new(&b, 10000, 0);
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 1, 45);
	it_cart_add_normal(&u, u.normal_cart_id, b.id, 1);
	struct db_param p = DB_I64(u.subscription_cart_id);
	it_sql_exec(sql_age_lines, &p, 1);

	query_item(q, sizeof(q), a.id, "&quantity=3");
	req_cart("PATCH", true, u.subscription_cart_id, "/quantity", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	line = cJSON_GetArrayItem(lines_of(data), 0);
	assert_line(line, &a, 3, 45, true);
	ck_assert_str_eq(it_json_str(line, "createdAt"), "2020-01-02T12:04:05+09:00");
	it_assert_ts_recent("updatedAt", cJSON_GetObjectItemCaseSensitive(line, "updatedAt"), 300);
	assert_totals(data, 3, 33000, 3300, 29700);

#define PATCH_Q(query)                                                                             \
	req_cart("PATCH", true, u.subscription_cart_id, "/quantity", query, u.access, NULL, &r)
	PATCH_Q("");
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "itemId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "quantity", "", IT_R_REQUIRED);
	query_item(q, sizeof(q), a.id, "&quantity=0");
	PATCH_Q(q);
	assert_invalid(&r, "quantity", "0", R_MIN1);
	query_item(q, sizeof(q), a.id, "&quantity=1000");
	PATCH_Q(q);
	assert_invalid(&r, "quantity", "1000", R_MAX999);
	query_item(q, sizeof(q), a.id, "&quantity=3.0");
	PATCH_Q(q);
	assert_type(&r, "quantity", "3.0");
	/* b is only in the normal cart; the period parameter is not a quantity */
	query_item(q, sizeof(q), b.id, "&quantity=3");
	PATCH_Q(q);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
	query_item(q, sizeof(q), a.id, "&period=30");
	PATCH_Q(q);
	assert_invalid(&r, "quantity", "", IT_R_REQUIRED);
#undef PATCH_Q
	/* the normal route without /quantity does not exist for subscription carts */
	query_item(q, sizeof(q), a.id, "&quantity=3");
	req_cart("PATCH", true, u.subscription_cart_id, "", q, u.access, NULL, &r);
	ck_assert_msg(r.status == 404 || r.status == 405, "PATCH subscription/{id}: %ld", r.status);
	it_resp_free(&r);
}
END_TEST

START_TEST(sub_patch_period)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	char q[96];
	cJSON *data, *line;

	it_new_user(&u);
	it_cart_item_new(&a, 11000, 100);
	it_cart_item_new(&b, 10000, 0);
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 2, 45);
	it_cart_add_sub(&u, u.subscription_cart_id, b.id, 1, 60);
	it_cart_add_normal(&u, u.normal_cart_id, b.id, 1);
	struct db_param p = DB_I64(u.subscription_cart_id);
	it_sql_exec(sql_age_lines, &p, 1);

	query_item(q, sizeof(q), a.id, "&period=365");
	req_cart("PATCH", true, u.subscription_cart_id, "/period", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	query_item(q, sizeof(q), b.id, "&period=30");
	req_cart("PATCH", true, u.subscription_cart_id, "/period", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	line = cJSON_GetArrayItem(lines_of(data), 0);
	assert_line(line, &a, 2, 365, true);
	ck_assert_str_eq(it_json_str(line, "createdAt"), "2020-01-02T12:04:05+09:00");
	it_assert_ts_recent("updatedAt", cJSON_GetObjectItemCaseSensitive(line, "updatedAt"), 300);
	assert_line(cJSON_GetArrayItem(lines_of(data), 1), &b, 1, 30, true);
	assert_totals(data, 3, 32000, 2200, 29800);

#define PATCH_P(query)                                                                             \
	req_cart("PATCH", true, u.subscription_cart_id, "/period", query, u.access, NULL, &r)
	PATCH_P("");
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "itemId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "period", "", IT_R_REQUIRED);
	query_item(q, sizeof(q), a.id, "&period=29");
	PATCH_P(q);
	assert_invalid(&r, "period", "29", R_MIN30);
	query_item(q, sizeof(q), a.id, "&period=366");
	PATCH_P(q);
	assert_invalid(&r, "period", "366", R_MAX365);
	query_item(q, sizeof(q), a.id, "&period=0");
	PATCH_P(q);
	assert_invalid(&r, "period", "0", R_MIN30);
	query_item(q, sizeof(q), a.id, "&period=month");
	PATCH_P(q);
	assert_type(&r, "period", "month");
	PATCH_P("?itemId=a&period=10");
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "itemId", "a", IT_R_TYPE);
	it_assert_field_error(&r, 1, "period", "10", R_MIN30);
	query_item(q, sizeof(q), NO_SUCH_ID, "&period=30");
	PATCH_P(q);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
#undef PATCH_P
	/* the normal cart has no period route */
	query_item(q, sizeof(q), b.id, "&period=30");
	req_cart("PATCH", false, u.normal_cart_id, "/period", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 2, 365, true);
	it_resp_free(&r);
}
END_TEST

START_TEST(sub_delete_removes_the_line)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	char q[96];
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 11000, 100);
	it_cart_item_new(&b, 10000, 0);
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 2, 45);
	it_cart_add_sub(&u, u.subscription_cart_id, b.id, 1, 60);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 1);

	query_item(q, sizeof(q), a.id, "");
	req_cart("DELETE", true, u.subscription_cart_id, "", q, u.access, NULL, &r);
	it_cart_assert_204(&r);
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &b, 1, 60, true);
	assert_totals(data, 1, 10000, 0, 10000);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 1, 0, false);

	req_cart("DELETE", true, u.subscription_cart_id, "", q, u.access, NULL, &r);
	it_assert_error(&r, 404, "CART_ITEM_NOT_FOUND");
	req_cart("DELETE", true, u.subscription_cart_id, "", "", u.access, NULL, &r);
	assert_invalid(&r, "itemId", "", IT_R_REQUIRED);
	req_cart("DELETE", true, u.subscription_cart_id, "", "?itemId=1e2", u.access, NULL, &r);
	assert_type(&r, "itemId", "1e2");
	it_resp_free(&r);
}
END_TEST

/* ---- races ------------------------------------------------------------------------------------
 */

#define RACERS 8

/* Exit status of a racing child: 0 = 201, 1 = 409 CART_ITEM_EXISTS, 2 = anything else. */
static int race_code(const struct it_resp *r)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(r->json, "code");

	if (r->status == 201)
		return 0;
	if (r->status == 409 && cJSON_IsString(code) &&
	    strcmp(code->valuestring, "CART_ITEM_EXISTS") == 0)
		return 1;
	return 2;
}

/* In a child: waits for the start signal, POSTs the item once and exits with race_code. */
static void race_child(int start_fd, const struct it_user *u, bool sub, int64_t item_id)
{
	struct it_resp cr = IT_RESP_INIT;
	char q[96], body[160], path[160], auth[2100], c;

	query_item(q, sizeof(q), item_id, "&quantity=1");
	sub_body(body, sizeof(body), item_id, 1, 30);
	it_cart_path(path, sizeof(path), sub, sub ? u->subscription_cart_id : u->normal_cart_id,
	             sub ? "" : q);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", u->access);
	const char *hdr_sub[] = {auth, "Content-Type: application/json", NULL};
	const char *hdr_normal[] = {auth, NULL};
	if (read(start_fd, &c, 1) < 0)
		_exit(2);
	if (it_http("POST", path, sub ? hdr_sub : hdr_normal, sub ? body : NULL,
	            sub ? strlen(body) : 0, &cr) < 0)
		_exit(2);
	_exit(race_code(&cr));
}

START_TEST(concurrent_duplicate_posts_give_one_201)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u;
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 5000, 100);
	for (int round = 0; round < 2; round++) {
		bool sub = round == 1;
		pid_t pids[RACERS];
		int fds[2], counts[3] = {0, 0, 0};

		ck_assert_int_eq(pipe(fds), 0);
		for (int i = 0; i < RACERS; i++) {
			pids[i] = fork();
			ck_assert_int_ge(pids[i], 0);
			if (pids[i] == 0) {
				close(fds[1]);
				race_child(fds[0], &u, sub, a.id);
			}
		}
		close(fds[0]);
		close(fds[1]); /* every child's read returns now: go */
		for (int i = 0; i < RACERS; i++) {
			int st = 0;
			ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
			ck_assert(WIFEXITED(st));
			counts[WEXITSTATUS(st) <= 2 ? WEXITSTATUS(st) : 2]++;
		}
		ck_assert_msg(counts[0] == 1 && counts[1] == RACERS - 1,
		              "%s cart: %d x 201, %d x 409, %d other",
		              sub ? "subscription" : "normal", counts[0], counts[1], counts[2]);
		data = get_cart(u.access, sub, sub ? u.subscription_cart_id : u.normal_cart_id, &r);
		ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
		assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 1, sub ? 30 : 0, sub);
	}
	it_resp_free(&r);
}
END_TEST

static const char sql_insert_line[] =
    "INSERT INTO cart_items (cart_id, item_id, quantity, period, created_at, updated_at)"
    " VALUES (?, ?, 7, 0, UTC_TIMESTAMP(), UTC_TIMESTAMP())";

START_TEST(a_line_added_by_a_concurrent_transaction_gives_409)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u;
	struct db *db = it_db();
	int fds[2], st = 0;
	pid_t pid;
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 5000, 100);
	/* another transaction inserts the same line and has not committed yet */
	ck_assert_int_eq(db_begin(db), 0);
	struct db_param p[2] = {DB_I64(u.normal_cart_id), DB_I64(a.id)};
	ck_assert_int_eq(db_exec(db, sql_insert_line, p, 2, NULL, NULL), 0);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[1]);
		race_child(fds[0], &u, false, a.id);
	}
	close(fds[0]);
	close(fds[1]);
	usleep(300 * 1000); /* the POST waits for our locks (or has not started: same answer) */
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1,
	              "the POST must answer 409 CART_ITEM_EXISTS (child status %d)", st);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &a, 7, 0, false);
	it_resp_free(&r);
}
END_TEST

/* ---- store_cart_remove_items (payment approval with orderedAtCart; no route) ------------------
 */

struct remove_args {
	int64_t uid;
	const int64_t *normal;
	size_t nnormal;
	const int64_t *sub;
	size_t nsub;
	int then; /* the caller's transaction fails afterwards with this (0 = commits) */
};

static int remove_fn(struct db *db, void *arg)
{
	const struct remove_args *a = arg;
	int rc = store_cart_remove_items(db, a->uid, CART_NORMAL, a->normal, a->nnormal);

	if (rc == 0)
		rc = store_cart_remove_items(db, a->uid, CART_SUBSCRIPTION, a->sub, a->nsub);
	return rc ? rc : a->then;
}

/* Item ids of the cart's lines in order, as "id,id,..." into out. */
static void line_ids(const cJSON *data, char *out, size_t n)
{
	const cJSON *line;
	size_t o = 0;

	out[0] = '\0';
	cJSON_ArrayForEach(line, lines_of(data))
	{
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(line, "item");
		o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%lld", o ? "," : "",
		                      (long long)it_json_int(item, "itemId"));
	}
}

static void expect_ids(char *out, size_t n, const struct it_cart_item *const *items, size_t k)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < k; i++)
		o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%lld", i ? "," : "",
		                      (long long)items[i]->id);
}

START_TEST(remove_items_removes_the_given_items_of_that_kind_only)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b, c, d;
	struct it_user u, v;
	char got[256], want[256];
	cJSON *data;

	it_new_user(&u);
	it_new_user(&v);
	it_cart_item_new(&a, 1000, 0);
	it_cart_item_new(&b, 2000, 0);
	it_cart_item_new(&c, 3000, 0);
	it_cart_item_new(&d, 4000, 0);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 1);
	it_cart_add_normal(&u, u.normal_cart_id, b.id, 2);
	it_cart_add_normal(&u, u.normal_cart_id, c.id, 3);
	it_cart_add_sub(&u, u.subscription_cart_id, a.id, 1, 30);
	it_cart_add_sub(&u, u.subscription_cart_id, d.id, 1, 30);
	it_cart_add_normal(&v, v.normal_cart_id, a.id, 1);
	it_cart_add_sub(&v, v.subscription_cart_id, d.id, 1, 30);

	int64_t normal[] = {a.id, c.id, NO_SUCH_ID, a.id};
	int64_t sub[] = {d.id};
	struct remove_args args = {u.id, normal, 4, sub, 1, 0};
	ck_assert_int_eq(db_tx(it_db(), remove_fn, &args), 0);

	data = get_cart(u.access, false, u.normal_cart_id, &r);
	line_ids(data, got, sizeof(got));
	expect_ids(want, sizeof(want), (const struct it_cart_item *[]){&b}, 1);
	ck_assert_str_eq(got, want);
	assert_line(cJSON_GetArrayItem(lines_of(data), 0), &b, 2, 0, false);
	assert_totals(data, 2, 4000, 0, 4000);
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	line_ids(data, got, sizeof(got));
	expect_ids(want, sizeof(want), (const struct it_cart_item *[]){&a}, 1);
	ck_assert_str_eq(got, want);
	/* another user's carts are not touched */
	data = get_cart(v.access, false, v.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	data = get_cart(v.access, true, v.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	it_resp_free(&r);
}
END_TEST

START_TEST(remove_items_is_part_of_the_callers_transaction)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a, b;
	struct it_user u;
	cJSON *data;

	it_new_user(&u);
	it_cart_item_new(&a, 1000, 0);
	it_cart_item_new(&b, 2000, 0);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 1);
	it_cart_add_sub(&u, u.subscription_cart_id, b.id, 1, 30);

	int64_t normal[] = {a.id};
	int64_t sub[] = {b.id};
	struct remove_args args = {u.id, normal, 1, sub, 1, -E_ORDER_NOT_PAYABLE};
	ck_assert_int_eq(db_tx(it_db(), remove_fn, &args), -E_ORDER_NOT_PAYABLE);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);

	/* the kinds are not mixed up: a normal-kind removal of b leaves the subscription line */
	struct remove_args wrong = {u.id, sub, 1, NULL, 0, 0};
	ck_assert_int_eq(db_tx(it_db(), remove_fn, &wrong), 0);
	data = get_cart(u.access, true, u.subscription_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	data = get_cart(u.access, false, u.normal_cart_id, &r);
	ck_assert_int_eq(cJSON_GetArraySize(lines_of(data)), 1);
	it_resp_free(&r);
}
END_TEST

START_TEST(remove_items_without_lines_or_carts_is_no_error)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_cart_item a;
	struct it_user u, admin;
	char path[64];

	it_new_user(&u);
	it_new_admin(&admin);
	it_cart_item_new(&a, 1000, 0);
	it_cart_add_normal(&u, u.normal_cart_id, a.id, 1);

	struct remove_args none = {u.id, NULL, 0, NULL, 0, 0};
	ck_assert_int_eq(db_tx(it_db(), remove_fn, &none), 0);
	req_cart("GET", false, u.normal_cart_id, "", "", u.access, NULL, &r);
	it_assert_status(&r, 200);

	it_user_path(path, sizeof(path), u.id);
	it_req("DELETE", path, admin.access, NULL, NULL, &r);
	it_assert_status(&r, 200);
	int64_t ids[] = {a.id};
	struct remove_args gone = {u.id, ids, 1, ids, 1, 0};
	ck_assert_int_eq(db_tx(it_db(), remove_fn, &gone), 0);
	struct db_param p = DB_I64(u.id);
	ck_assert_int_eq(it_sql_i64(sql_count_lines_of_user, &p, 1), 0);
	it_resp_free(&r);
}
END_TEST

Suite *carts_suite(void)
{
	Suite *s = suite_create("carts");
	TCase *tc;

	tc = tcase_create("read");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, new_carts_are_empty_with_zero_totals);
	tcase_add_test(tc, normal_line_has_the_contract_shape);
	tcase_add_test(tc, subscription_line_has_the_contract_shape);
	tcase_add_test(tc, spec_example_totals_and_discount_rate_text);
	tcase_add_test(tc, half_up_prices_and_null_texts);
	tcase_add_test(tc, lines_keep_the_order_they_were_added);
	tcase_add_test(tc, totals_follow_the_current_item_prices);
	tcase_add_test(tc, admin_reads_any_cart_but_writes_none);
	tcase_add_test(tc, another_users_cart_is_403_on_every_route);
	tcase_add_test(tc, a_cart_of_the_other_kind_is_404_on_every_route);
	tcase_add_test(tc, an_unknown_cart_is_404_on_every_route);
	tcase_add_test(tc, a_non_integer_cart_id_is_invalid_parameter_type);
	tcase_add_test(tc, no_token_is_401);
	tcase_add_test(tc, a_withdrawn_users_carts_are_gone);
	suite_add_tcase(s, tc);

	tc = tcase_create("normal");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, normal_post_twice_is_409_and_carts_are_independent);
	tcase_add_test(tc, normal_post_of_an_unknown_item_is_404);
	tcase_add_test(tc, normal_post_missing_parameters);
	tcase_add_test(tc, normal_post_quantity_range);
	tcase_add_test(tc, normal_post_non_integers_are_invalid_parameter_type);
	tcase_add_test(tc, normal_patch_sets_the_quantity);
	tcase_add_test(tc, normal_patch_errors);
	tcase_add_test(tc, normal_delete_removes_the_line);
	tcase_add_test(tc, checks_run_in_the_contract_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("subscription");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sub_post_body_validation);
	tcase_add_test(tc, sub_post_unknown_item_404_and_duplicate_409);
	tcase_add_test(tc, sub_patch_quantity);
	tcase_add_test(tc, sub_patch_period);
	tcase_add_test(tc, sub_delete_removes_the_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("races");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, concurrent_duplicate_posts_give_one_201);
	tcase_add_test(tc, a_line_added_by_a_concurrent_transaction_gives_409);
	suite_add_tcase(s, tc);

	tc = tcase_create("remove_items");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, remove_items_removes_the_given_items_of_that_kind_only);
	tcase_add_test(tc, remove_items_is_part_of_the_callers_transaction);
	tcase_add_test(tc, remove_items_without_lines_or_carts_is_no_error);
	suite_add_tcase(s, tc);
	return s;
}
