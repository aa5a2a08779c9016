/* orders: integration-test helpers for the order routes (see orders.h). */
#include "tests/it/lib/orders.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/banned.h"

/* ---- prices ---------------------------------------------------------------------------------- */

void it_ord_price(int64_t origin, int p10, struct it_ord_price *out)
{
	/* §2.1 step 4: floor((originPrice x p10 + 500) / 1000), everything non-negative */
	out->origin = origin;
	out->p10 = p10;
	out->discount = (origin * p10 + 500) / 1000;
	out->real = origin - out->discount;
}

void it_ord_rate_text(int p10, char *out, size_t n)
{
	char frac[16];
	int len = 3;

	snprintf(frac, sizeof(frac), "%03d", p10 % 1000);
	while (len > 1 && frac[len - 1] == '0')
		len--;
	frac[len] = '\0';
	snprintf(out, n, "%d.%s", p10 / 1000, frac);
}

/* ---- items ----------------------------------------------------------------------------------- */

static void item_insert(struct it_loc at, struct it_ord_item *it, int64_t origin, int p10,
                        uint32_t categories, bool nulls)
{
	static const char sql[] =
	    "INSERT INTO items (thumbnail, product_name, enterprise, main_function,"
	    " origin_price, discount_p10, created_at, updated_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())";
	static const char sql_cat[] =
	    "INSERT INTO item_categories (item_id, category_id) VALUES (?, ?)";
	char u[40];
	uint64_t id = 0;
	int rc;

	memset(it, 0, sizeof(*it));
	it_unique_name(u, sizeof(u), "ord");
	snprintf(it->product, sizeof(it->product), "주문상품 %s", u);
	if (!nulls) {
		snprintf(it->enterprise, sizeof(it->enterprise), "(주)오더 %s", u);
		snprintf(it->thumbnail, sizeof(it->thumbnail), "https://cdn.example.com/o/%s.jpg",
		         u);
	}
	snprintf(it->main_function, sizeof(it->main_function), "[기능] %s 기능성", u);
	it->origin = origin;
	it->p10 = p10;
	it->categories = categories;

	struct db_param p[6] = {
	    DB_STR(nulls ? NULL : it->thumbnail),
	    DB_STR(it->product),
	    DB_STR(nulls ? NULL : it->enterprise),
	    DB_STR(it->main_function),
	    DB_I64(origin),
	    DB_I64(p10),
	};
	rc = db_exec(it_db(), sql, p, 6, NULL, &id);
	it_check_at(at, NULL, rc == 0, "item insert failed (%d: %s)", rc, db_last_error(it_db()));
	it->id = (int64_t)id;
	for (int c = 0; c < 9; c++) {
		if (!(categories & (1u << c)))
			continue;
		struct db_param cp[2] = {DB_I64(it->id), DB_I64(c + 1)};
		it_sql_exec_at(at, sql_cat, cp, 2);
	}
}

void it_ord_item_new_at(struct it_loc at, struct it_ord_item *it, int64_t origin, int p10,
                        uint32_t categories)
{
	item_insert(at, it, origin, p10, categories, false);
}

void it_ord_item_nulls_at(struct it_loc at, struct it_ord_item *it, int64_t origin, int p10)
{
	item_insert(at, it, origin, p10, 0, true);
}

void it_ord_item_price_at(struct it_loc at, struct it_ord_item *it, int64_t origin, int p10)
{
	static const char sql[] =
	    "UPDATE items SET origin_price = ?, discount_p10 = ?, updated_at = UTC_TIMESTAMP()"
	    " WHERE item_id = ?";
	struct db_param p[3] = {DB_I64(origin), DB_I64(p10), DB_I64(it->id)};

	it_sql_exec_at(at, sql, p, 3);
	it->origin = origin;
	it->p10 = p10;
}

/* ---- bodies and requests --------------------------------------------------------------------- */

cJSON *it_ord_body(const struct it_ord_line *lines, size_t n)
{
	cJSON *b = cJSON_CreateObject(), *arr;

	cJSON_AddStringToObject(b, "city", IT_ORD_CITY);
	cJSON_AddStringToObject(b, "detailAddress", IT_ORD_DETAIL);
	cJSON_AddStringToObject(b, "realName", IT_ORD_NAME);
	cJSON_AddStringToObject(b, "phoneNumber", IT_ORD_PHONE);
	arr = cJSON_AddArrayToObject(b, "orderPostDtoList");
	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "itemId", (double)lines[i].item_id);
		cJSON_AddNumberToObject(e, "quantity", lines[i].quantity);
		cJSON_AddBoolToObject(e, "subscription", lines[i].subscription);
		cJSON_AddNumberToObject(e, "period", lines[i].period);
		cJSON_AddItemToArray(arr, e);
	}
	return b;
}

char *it_ord_body_text(const struct it_ord_line *lines, size_t n)
{
	cJSON *b = it_ord_body(lines, n);
	char *s = cJSON_PrintUnformatted(b);

	cJSON_Delete(b);
	return s;
}

int it_ord_post(const struct it_user *u, const char *body, const char *idem_key,
                struct it_resp *out)
{
	char authz[2200], key[1200];
	const char *headers[4] = {authz, "Content-Type: application/json", NULL, NULL};

	snprintf(authz, sizeof(authz), "Authorization: Bearer %s", u->access);
	if (idem_key) {
		/* curl sends "Name;" as an empty header ("Name:" would remove it) */
		if (*idem_key)
			snprintf(key, sizeof(key), "Idempotency-Key: %s", idem_key);
		else
			snprintf(key, sizeof(key), "Idempotency-Key;");
		headers[2] = key;
	}
	return it_http("POST", "/api/orders", headers, body, strlen(body), out);
}

int64_t it_ord_place_at(struct it_loc at, const struct it_user *u, const struct it_ord_line *lines,
                        size_t n, struct it_resp *out)
{
	char *body = it_ord_body_text(lines, n);
	const cJSON *data;
	int rc = it_ord_post(u, body, NULL, out);

	free(body);
	it_check_at(at, out, rc == 0, "POST /api/orders: %s", out->error);
	it_assert_status_at(at, out, 201);
	data = it_assert_wrapper_at(at, out);
	return it_json_int_at(at, data, "orderId");
}

void it_ord_path(char *out, size_t n, int64_t order_id)
{
	snprintf(out, n, "/api/orders/%" PRId64, order_id);
}

int64_t it_ord_line_id_at(struct it_loc at, int64_t order_id, int index)
{
	static const char sql[] = "SELECT order_item_id FROM order_items WHERE order_id = ?"
	                          " ORDER BY order_item_id LIMIT 1 OFFSET ?";
	struct db_param p[2] = {DB_I64(order_id), DB_I64(index)};

	return it_sql_i64_at(at, sql, p, 2);
}

void it_ord_set_status_at(struct it_loc at, int64_t order_id, const char *status)
{
	static const char sql[] = "UPDATE orders SET status = ? WHERE order_id = ?";
	struct db_param p[2] = {DB_STR(status), DB_I64(order_id)};

	it_check_at(at, NULL, it_sql_exec_at(at, sql, p, 2) == 1, "order %" PRId64 " not updated",
	            order_id);
}

int64_t it_ord_pay_at(struct it_loc at, int64_t order_id, int64_t user_id)
{
	static const char sql[] =
	    "INSERT INTO payments (order_id, ready_no, status, payment_key, cid,"
	    " partner_order_id, partner_user_id, item_name, quantity, amount, tid, aid,"
	    " sid, approved_at, ready_at, created_at, updated_at)"
	    " SELECT order_id, 1, 'APPROVED', ?, 'TCSUBSCRIP', ?, ?, 'item', total_quantity,"
	    " expect_price, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP(),"
	    " UTC_TIMESTAMP() FROM orders WHERE order_id = ?";
	static const char sql_paid[] =
	    "UPDATE orders SET status = 'COMPLETE', paid_at = UTC_TIMESTAMP() WHERE order_id = ?";
	char u[40], key[64], poid[48], puid[32], tid[64], aid[64], sid[64];
	uint64_t id = 0;
	int rc;

	it_unique_name(u, sizeof(u), "pay");
	snprintf(key, sizeof(key), "K%s", u);
	snprintf(poid, sizeof(poid), "O%" PRId64 "-R1", order_id);
	snprintf(puid, sizeof(puid), "U%" PRId64, user_id);
	snprintf(tid, sizeof(tid), "T%s", u);
	snprintf(aid, sizeof(aid), "A%s", u);
	snprintf(sid, sizeof(sid), "S%s", u);
	struct db_param p[7] = {DB_STR(key), DB_STR(poid), DB_STR(puid),    DB_STR(tid),
	                        DB_STR(aid), DB_STR(sid),  DB_I64(order_id)};
	rc = db_exec(it_db(), sql, p, 7, NULL, &id);
	it_check_at(at, NULL, rc == 0 && id > 0, "payment insert failed (%d: %s)", rc,
	            db_last_error(it_db()));
	struct db_param op[1] = {DB_I64(order_id)};
	it_sql_exec_at(at, sql_paid, op, 1);
	return (int64_t)id;
}

void it_ord_sub_new_at(struct it_loc at, struct it_ord_sub *s)
{
	static const char sql[] =
	    "INSERT INTO subscriptions (user_id, order_id, order_item_id, item_id, payment_id,"
	    " quantity, period, status, first_payment_date, last_payment_date,"
	    " last_settled_cycle_date, next_payment_date, cid, sid, partner_user_id,"
	    " receiver_real_name, receiver_phone, receiver_city, receiver_detail_address,"
	    " paused_at, canceled_at, retry_state, failed_cycle_date, next_retry_at,"
	    " created_at, updated_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '2026-01-01', '2026-01-01', '2026-01-01', ?,"
	    " 'TCSUBSCRIP', ?, ?, ?, ?, ?, ?,"
	    " IF(? = 'PAUSED', UTC_TIMESTAMP(), NULL),"
	    " IF(? = 'SUBSCRIBE_CANCEL', UTC_TIMESTAMP(), NULL),"
	    " ?, IF(? IN ('SCHEDULED', 'EXHAUSTED'), '2026-01-31', NULL),"
	    " IF(? = 'SCHEDULED', UTC_TIMESTAMP(), NULL), UTC_TIMESTAMP(), UTC_TIMESTAMP())";
	const char *retry = s->retry_state ? s->retry_state : "NONE";
	char u[40], puid[32];
	uint64_t id = 0;
	int rc;

	it_unique_name(u, sizeof(u), "sid");
	snprintf(s->sid, sizeof(s->sid), "SID%s", u);
	snprintf(puid, sizeof(puid), "U%" PRId64, s->user_id);
	struct db_param p[20] = {
	    DB_I64(s->user_id),   DB_I64(s->order_id),   DB_I64(s->order_item_id),
	    DB_I64(s->item_id),   DB_I64(s->payment_id), DB_I64(s->quantity),
	    DB_I64(s->period),    DB_STR(s->status),     DB_STR(s->next_date),
	    DB_STR(s->sid),       DB_STR(puid),          DB_STR(IT_ORD_NAME),
	    DB_STR(IT_ORD_PHONE), DB_STR(IT_ORD_CITY),   DB_STR(IT_ORD_DETAIL),
	    DB_STR(s->status),    DB_STR(s->status),     DB_STR(retry),
	    DB_STR(retry),        DB_STR(retry),
	};
	rc = db_exec(it_db(), sql, p, 20, NULL, &id);
	it_check_at(at, NULL, rc == 0 && id > 0, "subscription insert failed (%d: %s)", rc,
	            db_last_error(it_db()));
	s->id = (int64_t)id;
}

void it_ord_attempt_at(struct it_loc at, const struct it_ord_sub *s, const char *status)
{
	static const char sql[] =
	    "INSERT INTO billing_attempt (subscription_id, cycle_date, attempt_no, status,"
	    " initiated_by, partner_order_id, partner_user_id, cid, sid, item_id, item_name,"
	    " quantity, origin_price, discount_p10, discount_price, real_price, amount,"
	    " claimed_at, created_at, updated_at)"
	    " VALUES (?, '2026-01-31', 1, ?, 'SCHEDULE', ?, 'U1', 'TCSUBSCRIP', ?, ?, 'item',"
	    " 1, 1000, 0, 0, 1000, 1000, UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP())";
	char poid[64];

	snprintf(poid, sizeof(poid), "S%" PRId64 "-C20260131-A1", s->id);
	struct db_param p[5] = {DB_I64(s->id), DB_STR(status), DB_STR(poid), DB_STR(s->sid),
	                        DB_I64(s->item_id)};
	it_sql_exec_at(at, sql, p, 5);
}

/* ---- reading answers ------------------------------------------------------------------------- */

size_t it_ord_raw_values(const char *body, const char *key, char out[][32], size_t max)
{
	char pat[80];
	const char *p = body;
	size_t n = 0, len;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	len = strlen(pat);
	while (n < max && (p = strstr(p, pat))) {
		size_t k = 0;
		p += len;
		while (p[k] && p[k] != ',' && p[k] != '}' && p[k] != ']' && k < 31)
			k++;
		memcpy(out[n], p, k);
		out[n][k] = '\0';
		n++;
		p += k;
	}
	return n;
}

void it_ord_assert_str_or_null_at(struct it_loc at, const cJSON *obj, const char *key,
                                  const char *s)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!*s) {
		it_check_at(at, NULL, cJSON_IsNull(v), "%s must be null", key);
		return;
	}
	it_check_at(at, NULL, cJSON_IsString(v) && !strcmp(v->valuestring, s),
	            "%s: expected \"%s\", got %s", key, s,
	            cJSON_IsString(v) ? v->valuestring : "(not a string)");
}

void it_ord_assert_rate_at(struct it_loc at, const cJSON *obj, int p10)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "discountRate");

	it_check_at(at, NULL, cJSON_IsNumber(v) && v->valuedouble == p10 / 1000.0,
	            "discountRate: expected %d/1000, got %g", p10,
	            cJSON_IsNumber(v) ? v->valuedouble : NAN);
}

void it_ord_assert_brief_at(struct it_loc at, const cJSON *obj, const struct it_ord_item *it,
                            const struct it_ord_price *p)
{
	it_assert_keys_at(at, obj, "itemId", "enterprise", "thumbnail", "product", "originPrice",
	                  "realPrice", "discountRate", "discountPrice", NULL);
	it_check_at(at, NULL, it_json_int_at(at, obj, "itemId") == it->id, "itemId");
	it_ord_assert_str_or_null_at(at, obj, "enterprise", it->enterprise);
	it_ord_assert_str_or_null_at(at, obj, "thumbnail", it->thumbnail);
	it_ord_assert_str_or_null_at(at, obj, "product", it->product);
	it_check_at(at, NULL, it_json_int_at(at, obj, "originPrice") == p->origin,
	            "originPrice: expected %" PRId64, p->origin);
	it_check_at(at, NULL, it_json_int_at(at, obj, "realPrice") == p->real,
	            "realPrice: expected %" PRId64, p->real);
	it_check_at(at, NULL, it_json_int_at(at, obj, "discountPrice") == p->discount,
	            "discountPrice: expected %" PRId64, p->discount);
	it_ord_assert_rate_at(at, obj, p->p10);
}

void it_ord_assert_receiver_at(struct it_loc at, const cJSON *obj)
{
	const cJSON *addr;

	it_assert_keys_at(at, obj, "realName", "phone", "address", NULL);
	it_ord_assert_str_or_null_at(at, obj, "realName", IT_ORD_NAME);
	it_ord_assert_str_or_null_at(at, obj, "phone", IT_ORD_PHONE);
	addr = cJSON_GetObjectItemCaseSensitive(obj, "address");
	it_assert_keys_at(at, addr, "city", "detailAddress", NULL);
	it_ord_assert_str_or_null_at(at, addr, "city", IT_ORD_CITY);
	it_ord_assert_str_or_null_at(at, addr, "detailAddress", IT_ORD_DETAIL);
}
