/*
 * 60_orders: POST /api/orders (API.md §6.1), GET /api/orders/{orderId} (§6.2) and the order
 * history GET /api/orders (§6.3): the exact create and detail shapes, the price snapshots of
 * §2.3 (unchanged after a catalogue change), every field rule and error row in the field
 * table's order, ownership and ADMIN reads, the history's default statuses, status filter,
 * userId rule, paging and sort.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

#define R_LINES   "1개 이상 100개 이하여야 합니다"
#define EYE_BONE  0x3u /* EYE, BONE */
#define INTESTINE 0x8u /* INTESTINE */

static void post(const struct it_user *u, const char *json, struct it_resp *r)
{
	ck_assert_msg(it_ord_post(u, json, NULL, r) == 0, "POST /api/orders: %s", r->error);
}

static int64_t orders_of(const struct it_user *u)
{
	struct db_param p[1] = {DB_I64(u->id)};
	return it_sql_i64("SELECT COUNT(*) FROM orders WHERE user_id = ?", p, 1);
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* The §6.1 example: A (11000, 10 %) x 2 every 30 days and B (10000, 0 %) x 1. */
struct example {
	struct it_ord_item a, b;
	struct it_ord_line lines[2];
};

static void example_init(struct example *ex)
{
	it_ord_item_new(&ex->a, 11000, 100, EYE_BONE);
	it_ord_item_new(&ex->b, 10000, 0, 0);
	ex->lines[0] = (struct it_ord_line){ex->a.id, 2, true, 30};
	ex->lines[1] = (struct it_ord_line){ex->b.id, 1, false, 0};
}

/* ---- POST: success shapes -------------------------------------------------------------------- */

START_TEST(create_answers_the_create_shape_exactly)
{
	struct it_resp r = IT_RESP_INIT;
	struct example ex;
	struct it_ord_price pa, pb;
	struct it_user u;
	const cJSON *data, *lines, *l0, *l1;
	char rates[4][32];

	it_new_user(&u);
	example_init(&ex);
	it_ord_place(&u, ex.lines, 2, &r);
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "orderId", "totalItems", "totalPrice", "totalDiscountPrice",
	               "expectPrice", "subscription", "itemOrders", "orderStatus", "createdAt",
	               "updatedAt", "totalQuantity", "receiver", NULL);
	ck_assert_int_gt(it_json_int(data, "orderId"), 0);
	ck_assert_int_eq(it_json_int(data, "totalItems"), 2);
	ck_assert_int_eq(it_json_int(data, "totalPrice"), 32000);
	ck_assert_int_eq(it_json_int(data, "totalDiscountPrice"), 2200);
	ck_assert_int_eq(it_json_int(data, "expectPrice"), 29800);
	ck_assert_int_eq(it_json_int(data, "totalQuantity"), 3);
	ck_assert(cJSON_IsTrue(get(data, "subscription")));
	ck_assert_str_eq(it_json_str(data, "orderStatus"), "REQUEST");
	it_assert_ts_recent("createdAt", get(data, "createdAt"), 300);
	it_assert_ts_recent("updatedAt", get(data, "updatedAt"), 300);
	ck_assert_str_eq(it_json_str(data, "createdAt"), it_json_str(data, "updatedAt"));
	it_ord_assert_receiver(get(data, "receiver"));

	lines = get(data, "itemOrders");
	ck_assert(cJSON_IsArray(lines));
	ck_assert_int_eq(cJSON_GetArraySize(lines), 2);
	l0 = cJSON_GetArrayItem(lines, 0);
	l1 = cJSON_GetArrayItem(lines, 1);
	it_assert_keys(l0, "orderItemId", "quantity", "period", "subscription", "nextPaymentDay",
	               "item", NULL);
	it_assert_keys(l1, "orderItemId", "quantity", "period", "subscription", "nextPaymentDay",
	               "item", NULL);
	ck_assert_int_eq(it_json_int(l0, "orderItemId"),
	                 it_ord_line_id(it_json_int(data, "orderId"), 0));
	ck_assert_int_eq(it_json_int(l1, "orderItemId"),
	                 it_ord_line_id(it_json_int(data, "orderId"), 1));
	ck_assert_int_lt(it_json_int(l0, "orderItemId"), it_json_int(l1, "orderItemId"));
	ck_assert_int_eq(it_json_int(l0, "quantity"), 2);
	ck_assert_int_eq(it_json_int(l0, "period"), 30);
	ck_assert(cJSON_IsTrue(get(l0, "subscription")));
	ck_assert(cJSON_IsNull(get(l0, "nextPaymentDay")));
	ck_assert_int_eq(it_json_int(l1, "quantity"), 1);
	ck_assert_int_eq(it_json_int(l1, "period"), 0);
	ck_assert(cJSON_IsFalse(get(l1, "subscription")));
	ck_assert(cJSON_IsNull(get(l1, "nextPaymentDay")));
	it_ord_price(11000, 100, &pa);
	it_ord_price(10000, 0, &pb);
	it_ord_assert_brief(get(l0, "item"), &ex.a, &pa);
	it_ord_assert_brief(get(l1, "item"), &ex.b, &pb);
	ck_assert_int_eq(pa.real, 9900);
	/* fractions as the contract writes them */
	ck_assert_int_eq(it_ord_raw_values(r.body, "discountRate", rates, 4), 2);
	ck_assert_str_eq(rates[0], "0.1");
	ck_assert_str_eq(rates[1], "0.0");
	it_resp_free(&r);
}
END_TEST

START_TEST(create_stores_the_order_and_its_snapshots)
{
	struct it_resp r = IT_RESP_INIT;
	struct example ex;
	struct it_user u;
	int64_t id;
	char *s;

	it_new_user(&u);
	example_init(&ex);
	id = it_ord_place(&u, ex.lines, 2, &r);
	struct db_param p[1] = {DB_I64(id)};
	s = it_sql_str("SELECT CONCAT_WS('|', user_id, status, is_subscription, ordered_at_cart,"
	               " is_renewal, receiver_real_name, receiver_phone, receiver_city,"
	               " receiver_detail_address, total_items, total_quantity, total_price,"
	               " total_discount_price, expect_price, refunded_amount)"
	               " FROM orders WHERE order_id = ?",
	               p, 1);
	char want[256];
	snprintf(want, sizeof(want), "%" PRId64 "|REQUEST|1|0|0|%s|%s|%s|%s|2|3|32000|2200|29800|0",
	         u.id, IT_ORD_NAME, IT_ORD_PHONE, IT_ORD_CITY, IT_ORD_DETAIL);
	ck_assert_str_eq(s, want);
	free(s);
	s = it_sql_str("SELECT GROUP_CONCAT(CONCAT_WS(':', item_id, quantity, is_subscription,"
	               " period, origin_price, discount_p10, discount_price, real_price,"
	               " IFNULL(subscription_id, 'null')) ORDER BY order_item_id SEPARATOR ' ')"
	               " FROM order_items WHERE order_id = ?",
	               p, 1);
	snprintf(want, sizeof(want),
	         "%" PRId64 ":2:1:30:11000:100:1100:9900:null %" PRId64
	         ":1:0:0:10000:0:0:10000:null",
	         ex.a.id, ex.b.id);
	ck_assert_str_eq(s, want);
	free(s);
	it_resp_free(&r);
}
END_TEST

START_TEST(one_time_order_ignores_period_and_the_subscription_flag)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_user u;
	char body[512];
	const cJSON *data, *l0;
	int64_t id;

	it_new_user(&u);
	it_ord_item_new(&a, 5000, 0, 0);
	/* top-level "subscription": true is ignored; a one-time line's period is stored as 0 */
	snprintf(body, sizeof(body),
	         "{\"subscription\":true,\"orderedAtCart\":true,\"city\":\"%s\","
	         "\"detailAddress\":\"%s\",\"realName\":\"%s\",\"phoneNumber\":\"%s\","
	         "\"orderPostDtoList\":[{\"itemId\":%" PRId64 ",\"quantity\":4,\"period\":45}]}",
	         IT_ORD_CITY, IT_ORD_DETAIL, IT_ORD_NAME, IT_ORD_PHONE, a.id);
	post(&u, body, &r);
	it_assert_status(&r, 201);
	data = it_assert_wrapper(&r);
	ck_assert(cJSON_IsFalse(get(data, "subscription")));
	l0 = cJSON_GetArrayItem(get(data, "itemOrders"), 0);
	ck_assert_int_eq(it_json_int(l0, "period"), 0);
	ck_assert(cJSON_IsFalse(get(l0, "subscription")));
	ck_assert_int_eq(it_json_int(data, "expectPrice"), 20000);
	id = it_json_int(data, "orderId");
	struct db_param p[1] = {DB_I64(id)};
	ck_assert_int_eq(it_sql_i64("SELECT ordered_at_cart FROM orders WHERE order_id = ?", p, 1),
	                 1);
	ck_assert_int_eq(it_sql_i64("SELECT is_subscription FROM orders WHERE order_id = ?", p, 1),
	                 0);
	ck_assert_int_eq(it_sql_i64("SELECT MAX(period) FROM order_items WHERE order_id = ?", p, 1),
	                 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(integral_numbers_written_with_a_fraction_are_accepted)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_user u;
	char body[512];
	const cJSON *l0;

	it_new_user(&u);
	it_ord_item_new(&a, 1000, 0, 0);
	snprintf(body, sizeof(body),
	         "{\"userId\":%" PRId64
	         ".0,\"city\":\"c\",\"detailAddress\":\"d\",\"realName\":\"n\","
	         "\"phoneNumber\":\"01012345678\",\"orderPostDtoList\":[{\"itemId\":%" PRId64 ".0,"
	         "\"quantity\":5.0,\"subscription\":true,\"period\":60.0}]}",
	         u.id, a.id);
	post(&u, body, &r);
	it_assert_status(&r, 201);
	l0 = cJSON_GetArrayItem(get(it_assert_wrapper(&r), "itemOrders"), 0);
	ck_assert_int_eq(it_json_int(l0, "quantity"), 5);
	ck_assert_int_eq(it_json_int(l0, "period"), 60);
	it_resp_free(&r);
}
END_TEST

START_TEST(a_hundred_lines_keep_their_order_and_duplicates_are_separate_lines)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a, b;
	struct it_ord_line lines[100];
	struct it_user u;
	const cJSON *data, *arr;
	int64_t prev = 0;

	it_new_user(&u);
	it_ord_item_new(&a, 100, 0, 0);
	it_ord_item_new(&b, 300, 0, 0);
	for (int i = 0; i < 100; i++)
		lines[i] = (struct it_ord_line){i % 3 ? a.id : b.id, i + 1, i % 2 == 0, 30 + i};
	it_ord_place(&u, lines, 100, &r);
	data = it_assert_wrapper(&r);
	arr = get(data, "itemOrders");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 100);
	for (int i = 0; i < 100; i++) {
		const cJSON *l = cJSON_GetArrayItem(arr, i);
		const cJSON *item = get(l, "item");
		ck_assert_int_gt(it_json_int(l, "orderItemId"), prev);
		prev = it_json_int(l, "orderItemId");
		ck_assert_int_eq(it_json_int(l, "quantity"), i + 1);
		ck_assert_int_eq(it_json_int(item, "itemId"), i % 3 ? a.id : b.id);
		ck_assert_int_eq(it_json_int(l, "period"), i % 2 == 0 ? 30 + i : 0);
	}
	ck_assert_int_eq(it_json_int(data, "totalItems"), 100);
	ck_assert_int_eq(it_json_int(data, "totalQuantity"), 5050);
	it_resp_free(&r);
}
END_TEST

START_TEST(item_texts_that_are_null_in_the_catalogue_are_null)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_ord_price p;
	struct it_ord_line line;
	struct it_user u;
	const cJSON *l0;

	it_new_user(&u);
	it_ord_item_nulls(&a, 12345, 125);
	line = (struct it_ord_line){a.id, 1, false, 0};
	it_ord_place(&u, &line, 1, &r);
	l0 = cJSON_GetArrayItem(get(it_assert_wrapper(&r), "itemOrders"), 0);
	it_ord_price(12345, 125, &p);
	ck_assert_int_eq(p.discount, 1543);
	it_ord_assert_brief(get(l0, "item"), &a, &p);
	it_resp_free(&r);
}
END_TEST

/* ---- POST: errors ---------------------------------------------------------------------------- */

START_TEST(missing_fields_are_reported_in_field_table_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	post(&u, "{}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 5);
	it_assert_field_error(&r, 0, "city", "", IT_R_BLANK);
	it_assert_field_error(&r, 1, "detailAddress", "", IT_R_BLANK);
	it_assert_field_error(&r, 2, "realName", "", IT_R_BLANK);
	it_assert_field_error(&r, 3, "phoneNumber", "", IT_R_BLANK);
	it_assert_field_error(&r, 4, "orderPostDtoList", "", IT_R_REQUIRED);
	ck_assert_int_eq(orders_of(&u), 0);

	/* null equals absent */
	post(&u,
	     "{\"city\":null,\"detailAddress\":null,\"realName\":null,\"phoneNumber\":null,"
	     "\"orderPostDtoList\":null}",
	     &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 5);
	it_assert_field_error(&r, 4, "orderPostDtoList", "", IT_R_REQUIRED);
	it_resp_free(&r);
}
END_TEST

START_TEST(receiver_rules_blank_length_and_phone)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_user u;
	char city[110], detail[210], name[40], body[1024];

	it_new_user(&u);
	it_ord_item_new(&a, 1000, 0, 0);
	memset(city, 'c', 101);
	city[101] = '\0';
	memset(detail, 'd', 201);
	detail[201] = '\0';
	memset(name, 'n', 31);
	name[31] = '\0';
	snprintf(body, sizeof(body),
	         "{\"city\":\"%s\",\"detailAddress\":\"%s\",\"realName\":\"%s\","
	         "\"phoneNumber\":\"02-123-4567\",\"orderPostDtoList\":[{\"itemId\":%" PRId64
	         ",\"quantity\":1}]}",
	         city, detail, name, a.id);
	post(&u, body, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 4);
	it_assert_field_error(&r, 0, "city", city, IT_R_MAX100);
	it_assert_field_error(&r, 1, "detailAddress", detail, IT_R_MAX200);
	it_assert_field_error(&r, 2, "realName", name, IT_R_MAX30);
	it_assert_field_error(&r, 3, "phoneNumber", "02-123-4567", IT_R_PHONE);

	/* blank texts; the limits count characters, not bytes; the name may hold a space */
	snprintf(body, sizeof(body),
	         "{\"city\":\"  \",\"detailAddress\":\"\",\"realName\":\"홍 길동\","
	         "\"phoneNumber\":\" \",\"orderPostDtoList\":[{\"itemId\":%" PRId64
	         ",\"quantity\":1}]}",
	         a.id);
	post(&u, body, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 3);
	it_assert_field_error(&r, 0, "city", "  ", IT_R_BLANK);
	it_assert_field_error(&r, 1, "detailAddress", "", IT_R_BLANK);
	it_assert_field_error(&r, 2, "phoneNumber", " ", IT_R_BLANK);

	/* exactly at the limits (100 / 200 / 30 characters, multi-byte) */
	char c100[400] = "", d200[700] = "", n30[100] = "";
	for (int i = 0; i < 100; i++)
		strncat(c100, "서", sizeof(c100) - strlen(c100) - 1);
	for (int i = 0; i < 200; i++)
		strncat(d200, "동", sizeof(d200) - strlen(d200) - 1);
	for (int i = 0; i < 30; i++)
		strncat(n30, "김", sizeof(n30) - strlen(n30) - 1);
	char big[1600];
	snprintf(big, sizeof(big),
	         "{\"city\":\"%s\",\"detailAddress\":\"%s\",\"realName\":\"%s\","
	         "\"phoneNumber\":\"011-123-4567\",\"orderPostDtoList\":[{\"itemId\":%" PRId64
	         ",\"quantity\":1}]}",
	         c100, d200, n30, a.id);
	post(&u, big, &r);
	it_assert_status(&r, 201);
	it_resp_free(&r);
}
END_TEST

START_TEST(list_size_rule)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_ord_line lines[101];
	struct it_user u;
	char *body;

	it_new_user(&u);
	it_ord_item_new(&a, 1000, 0, 0);
	body = it_ord_body_text(lines, 0);
	post(&u, body, &r);
	free(body);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "orderPostDtoList", "", R_LINES);

	for (int i = 0; i < 101; i++)
		lines[i] = (struct it_ord_line){a.id, 1, false, 0};
	body = it_ord_body_text(lines, 101);
	post(&u, body, &r);
	free(body);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "orderPostDtoList", NULL, R_LINES);
	ck_assert_int_eq(orders_of(&u), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(line_rules_in_order_with_indexed_field_names)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_user u;
	char body[1024];

	it_new_user(&u);
	it_ord_item_new(&a, 1000, 0, 0);
	snprintf(body, sizeof(body),
	         "{\"city\":\"c\",\"detailAddress\":\"d\",\"realName\":\"n\","
	         "\"phoneNumber\":\"010-1234-5678\",\"orderPostDtoList\":["
	         "{\"quantity\":0},"
	         "{\"itemId\":%" PRId64 ",\"quantity\":1000,\"subscription\":true},"
	         "{\"itemId\":%" PRId64 ",\"quantity\":1,\"subscription\":true,\"period\":29},"
	         "{\"itemId\":%" PRId64 ",\"quantity\":999,\"subscription\":true,\"period\":366},"
	         "{\"itemId\":%" PRId64 ",\"subscription\":false,\"period\":1},"
	         "{\"itemId\":%" PRId64 ",\"quantity\":-1,\"subscription\":true,\"period\":365}]}",
	         a.id, a.id, a.id, a.id, a.id);
	post(&u, body, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 8);
	it_assert_field_error(&r, 0, "orderPostDtoList[0].itemId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "orderPostDtoList[0].quantity", "0", "1 이상이어야 합니다");
	it_assert_field_error(&r, 2, "orderPostDtoList[1].quantity", "1000", "999 이하여야 합니다");
	it_assert_field_error(&r, 3, "orderPostDtoList[1].period", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 4, "orderPostDtoList[2].period", "29", "30 이상이어야 합니다");
	it_assert_field_error(&r, 5, "orderPostDtoList[3].period", "366", "365 이하여야 합니다");
	it_assert_field_error(&r, 6, "orderPostDtoList[4].quantity", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 7, "orderPostDtoList[5].quantity", "-1", "1 이상이어야 합니다");
	ck_assert_int_eq(orders_of(&u), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(wrong_json_types_are_invalid_parameter_type)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_user u;
	char body[1024];

	it_new_user(&u);
	it_ord_item_new(&a, 1000, 0, 0);
	snprintf(body, sizeof(body),
	         "{\"userId\":\"me\",\"subscription\":\"yes\",\"orderedAtCart\":1,\"city\":5,"
	         "\"detailAddress\":\"d\",\"realName\":[\"n\"],\"phoneNumber\":\"010-1234-5678\","
	         "\"orderPostDtoList\":["
	         "{\"itemId\":\"%" PRId64 "\",\"quantity\":1.5},"
	         "7,"
	         "{\"itemId\":%" PRId64 ",\"quantity\":2147483648,\"subscription\":\"true\"},"
	         "{\"itemId\":%" PRId64
	         ",\"quantity\":1,\"subscription\":true,\"period\":\"30\"}]}",
	         a.id, a.id, a.id);
	post(&u, body, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 11);
	it_assert_field_error(&r, 0, "userId", "me", IT_R_TYPE);
	it_assert_field_error(&r, 1, "subscription", "yes", IT_R_TYPE);
	it_assert_field_error(&r, 2, "orderedAtCart", "1", IT_R_TYPE);
	it_assert_field_error(&r, 3, "city", "5", IT_R_TYPE);
	it_assert_field_error(&r, 4, "realName", "[\"n\"]", IT_R_TYPE);
	char id_text[32];
	snprintf(id_text, sizeof(id_text), "%" PRId64, a.id);
	it_assert_field_error(&r, 5, "orderPostDtoList[0].itemId", id_text, IT_R_TYPE);
	it_assert_field_error(&r, 6, "orderPostDtoList[0].quantity", "1.5", IT_R_TYPE);
	it_assert_field_error(&r, 7, "orderPostDtoList[1]", "7", IT_R_TYPE);
	it_assert_field_error(&r, 8, "orderPostDtoList[2].quantity", "2147483648", IT_R_TYPE);
	it_assert_field_error(&r, 9, "orderPostDtoList[2].subscription", "true", IT_R_TYPE);
	it_assert_field_error(&r, 10, "orderPostDtoList[3].period", "30", IT_R_TYPE);

	/* the list itself of another type */
	post(&u,
	     "{\"city\":\"c\",\"detailAddress\":\"d\",\"realName\":\"n\","
	     "\"phoneNumber\":\"010-1234-5678\",\"orderPostDtoList\":{\"itemId\":1}}",
	     &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "orderPostDtoList", "{\"itemId\":1}", IT_R_TYPE);
	ck_assert_int_eq(orders_of(&u), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(malformed_json_and_no_token)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	post(&u, "{\"city\":", &r);
	it_assert_error(&r, 400, "MALFORMED_REQUEST");
	post(&u, "[]", &r);
	it_assert_error(&r, 400, "MALFORMED_REQUEST");
	it_req("POST", "/api/orders", NULL, "{}", NULL, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_resp_free(&r);
}
END_TEST

START_TEST(user_id_must_be_the_callers_own)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_ord_line line;
	struct it_user u, other, admin;
	cJSON *b;
	char *text;

	it_new_user(&u);
	it_new_user(&other);
	it_new_admin(&admin);
	it_ord_item_new(&a, 1000, 0, 0);
	line = (struct it_ord_line){a.id, 1, false, 0};

	b = it_ord_body(&line, 1);
	cJSON_AddNumberToObject(b, "userId", (double)u.id);
	text = cJSON_PrintUnformatted(b);
	post(&u, text, &r);
	it_assert_status(&r, 201); /* its own id */
	post(&other, text, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER"); /* somebody else's */
	post(&admin, text, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER"); /* ADMIN: any user on reads only */
	free(text);
	cJSON_Delete(b);
	ck_assert_int_eq(orders_of(&u), 1);
	ck_assert_int_eq(orders_of(&other), 0);
	ck_assert_int_eq(orders_of(&admin), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(unknown_items_are_404_and_nothing_is_written)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_ord_line lines[3];
	struct it_user u;
	char *body;

	it_new_user(&u);
	it_ord_item_new(&a, 1000, 0, 0);
	lines[0] = (struct it_ord_line){a.id, 1, false, 0};
	lines[1] = (struct it_ord_line){999999999999, 1, false, 0};
	lines[2] = (struct it_ord_line){a.id, 2, true, 30};
	body = it_ord_body_text(lines, 3);
	post(&u, body, &r);
	free(body);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");

	lines[1].item_id = 0; /* well-formed, matches nothing */
	body = it_ord_body_text(lines, 2);
	post(&u, body, &r);
	free(body);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	lines[1].item_id = -4;
	body = it_ord_body_text(lines, 2);
	post(&u, body, &r);
	free(body);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	ck_assert_int_eq(orders_of(&u), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(check_order_validation_then_user_then_items)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_line line = {999999999998, 1, false, 0};
	struct it_user u, other;
	cJSON *b;
	char *text;

	it_new_user(&u);
	it_new_user(&other);
	/* an invalid field and a foreign userId: 400 first */
	b = it_ord_body(&line, 1);
	cJSON_AddNumberToObject(b, "userId", (double)other.id);
	cJSON_ReplaceItemInObject(b, "city", cJSON_CreateString(""));
	text = cJSON_PrintUnformatted(b);
	post(&u, text, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	free(text);
	/* a foreign userId and an unknown item: the userId rule (403) first */
	cJSON_ReplaceItemInObject(b, "city", cJSON_CreateString(IT_ORD_CITY));
	text = cJSON_PrintUnformatted(b);
	post(&u, text, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	free(text);
	cJSON_Delete(b);
	it_resp_free(&r);
}
END_TEST

/* ---- GET /api/orders/{orderId} --------------------------------------------------------------- */

/* Asserts the §6.2 line keys and the snapshot of line i. */
static void assert_detail_line(const cJSON *l, const struct it_ord_item *it,
                               const struct it_ord_price *p, int quantity, bool sub, int period)
{
	it_assert_keys(l, "orderItemId", "quantity", "itemId", "enterprise", "product",
	               "originPrice", "realPrice", "discountRate", "discountPrice", "period",
	               "subscription", "subscriptionOrderId", NULL);
	ck_assert_int_eq(it_json_int(l, "quantity"), quantity);
	ck_assert_int_eq(it_json_int(l, "itemId"), it->id);
	it_ord_assert_str_or_null(l, "enterprise", it->enterprise);
	it_ord_assert_str_or_null(l, "product", it->product);
	ck_assert_int_eq(it_json_int(l, "originPrice"), p->origin);
	ck_assert_int_eq(it_json_int(l, "realPrice"), p->real);
	ck_assert_int_eq(it_json_int(l, "discountPrice"), p->discount);
	it_ord_assert_rate(l, p->p10);
	ck_assert_int_eq(it_json_int(l, "period"), period);
	ck_assert(cJSON_IsBool(get(l, "subscription")) &&
	          cJSON_IsTrue(get(l, "subscription")) == sub);
}

START_TEST(detail_answers_exactly_the_detail_shape)
{
	struct it_resp r = IT_RESP_INIT, c = IT_RESP_INIT;
	struct example ex;
	struct it_ord_price pa, pb;
	struct it_user u;
	const cJSON *data, *created, *lines;
	char path[64], rates[4][32];
	int64_t id;

	it_new_user(&u);
	example_init(&ex);
	id = it_ord_place(&u, ex.lines, 2, &c);
	created = it_assert_wrapper(&c);
	it_ord_path(path, sizeof(path), id);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "orderId", "totalItems", "totalPrice", "totalDiscountPrice",
	               "expectPrice", "orderStatus", "createdAt", "updatedAt", "receiver",
	               "totalQuantity", "orderItems", "subscription", "renewal", "refundedAmount",
	               NULL);
	ck_assert_int_eq(it_json_int(data, "orderId"), id);
	ck_assert_int_eq(it_json_int(data, "totalItems"), 2);
	ck_assert_int_eq(it_json_int(data, "totalPrice"), 32000);
	ck_assert_int_eq(it_json_int(data, "totalDiscountPrice"), 2200);
	ck_assert_int_eq(it_json_int(data, "expectPrice"), 29800);
	ck_assert_int_eq(it_json_int(data, "totalQuantity"), 3);
	ck_assert_str_eq(it_json_str(data, "orderStatus"), "REQUEST");
	ck_assert_str_eq(it_json_str(data, "createdAt"), it_json_str(created, "createdAt"));
	ck_assert_str_eq(it_json_str(data, "updatedAt"), it_json_str(created, "updatedAt"));
	it_ord_assert_receiver(get(data, "receiver"));
	ck_assert(cJSON_IsTrue(get(data, "subscription")));
	ck_assert(cJSON_IsFalse(get(data, "renewal")));
	ck_assert_int_eq(it_json_int(data, "refundedAmount"), 0);
	lines = get(data, "orderItems");
	ck_assert_int_eq(cJSON_GetArraySize(lines), 2);
	it_ord_price(11000, 100, &pa);
	it_ord_price(10000, 0, &pb);
	assert_detail_line(cJSON_GetArrayItem(lines, 0), &ex.a, &pa, 2, true, 30);
	assert_detail_line(cJSON_GetArrayItem(lines, 1), &ex.b, &pb, 1, false, 0);
	for (int i = 0; i < 2; i++) {
		const cJSON *l = cJSON_GetArrayItem(lines, i);
		ck_assert_int_eq(it_json_int(l, "orderItemId"), it_ord_line_id(id, i));
		/* not paid: no subscription yet */
		ck_assert(cJSON_IsNull(get(l, "subscriptionOrderId")));
	}
	ck_assert_int_eq(it_ord_raw_values(r.body, "discountRate", rates, 4), 2);
	ck_assert_str_eq(rates[0], "0.1");
	ck_assert_str_eq(rates[1], "0.0");
	it_resp_free(&r);
	it_resp_free(&c);
}
END_TEST

START_TEST(detail_of_a_paid_order_names_its_subscriptions_and_refunds)
{
	struct it_resp r = IT_RESP_INIT;
	struct example ex;
	struct it_user u;
	struct it_ord_sub s = {0};
	const cJSON *data, *lines;
	char path[64];
	int64_t id;

	it_new_user(&u);
	example_init(&ex);
	id = it_ord_place(&u, ex.lines, 2, &r);
	s.user_id = u.id;
	s.order_id = id;
	s.order_item_id = it_ord_line_id(id, 0);
	s.item_id = ex.a.id;
	s.payment_id = it_ord_pay(id, u.id);
	s.quantity = 2;
	s.period = 30;
	s.status = "SUBSCRIPTION";
	s.next_date = "2026-01-31";
	it_ord_sub_new(&s);
	struct db_param p[1] = {DB_I64(id)};
	it_sql_exec("UPDATE orders SET status = 'PARTIAL_REFUND', refunded_amount = 1234"
	            " WHERE order_id = ?",
	            p, 1);

	it_ord_path(path, sizeof(path), id);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	ck_assert_str_eq(it_json_str(data, "orderStatus"), "PARTIAL_REFUND");
	ck_assert_int_eq(it_json_int(data, "refundedAmount"), 1234);
	ck_assert(cJSON_IsFalse(get(data, "renewal")));
	lines = get(data, "orderItems");
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(lines, 0), "subscriptionOrderId"), s.id);
	ck_assert(cJSON_IsNull(get(cJSON_GetArrayItem(lines, 1), "subscriptionOrderId")));
	it_resp_free(&r);
}
END_TEST

START_TEST(detail_of_a_renewal_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct example ex;
	struct it_user u;
	struct it_ord_sub s = {0};
	const cJSON *data, *l0;
	char path[64];
	int64_t first, renewal;

	it_new_user(&u);
	example_init(&ex);
	first = it_ord_place(&u, ex.lines, 1, &r);
	s.user_id = u.id;
	s.order_id = first;
	s.order_item_id = it_ord_line_id(first, 0);
	s.item_id = ex.a.id;
	s.payment_id = it_ord_pay(first, u.id);
	s.quantity = 2;
	s.period = 30;
	s.status = "SUBSCRIPTION";
	s.next_date = "2026-03-02";
	it_ord_sub_new(&s);
	/* a renewal order as a recurring charge writes it: COMPLETE, the line charged by s */
	renewal = it_ord_place(&u, ex.lines, 1, &r);
	struct db_param p[2] = {DB_I64(s.id), DB_I64(renewal)};
	it_sql_exec("UPDATE orders SET status = 'COMPLETE', is_renewal = 1, subscription_id = ?,"
	            " cycle_date = '2026-01-31' WHERE order_id = ?",
	            p, 2);
	it_sql_exec("UPDATE order_items SET subscription_id = ? WHERE order_id = ?", p, 2);
	it_ord_path(path, sizeof(path), renewal);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	ck_assert(cJSON_IsTrue(get(data, "renewal")));
	l0 = cJSON_GetArrayItem(get(data, "orderItems"), 0);
	ck_assert_int_eq(it_json_int(l0, "subscriptionOrderId"), s.id);
	it_resp_free(&r);
}
END_TEST

START_TEST(detail_of_another_users_order_is_403_and_admin_reads_it)
{
	struct it_resp r = IT_RESP_INIT;
	struct example ex;
	struct it_user u, other, admin;
	char path[64];
	int64_t id;

	it_new_user(&u);
	it_new_user(&other);
	it_new_admin(&admin);
	example_init(&ex);
	id = it_ord_place(&u, ex.lines, 2, &r);
	it_ord_path(path, sizeof(path), id);
	it_get(path, other.access, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	it_get(path, admin.access, &r);
	it_assert_status(&r, 200);
	ck_assert_int_eq(it_json_int(it_assert_wrapper(&r), "orderId"), id);
	it_get(path, NULL, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_resp_free(&r);
}
END_TEST

START_TEST(detail_of_unknown_or_malformed_ids)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	it_get("/api/orders/999999999999", u.access, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	it_get("/api/orders/0", u.access, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	it_get("/api/orders/-3", u.access, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	it_get("/api/orders/abc", u.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "orderId", "abc", IT_R_TYPE);
	it_get("/api/orders/99999999999999999999", u.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_get("/api/orders/1/", u.access, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(snapshots_survive_a_catalogue_price_change)
{
	struct it_resp r = IT_RESP_INIT;
	struct example ex;
	struct it_ord_price pa_old, pa_new, pb_old;
	struct it_user u;
	const cJSON *data, *lines;
	char path[64];
	int64_t first, second;

	it_new_user(&u);
	example_init(&ex);
	first = it_ord_place(&u, ex.lines, 2, &r);
	it_ord_item_price(&ex.a, 20000, 255); /* 25.5 % */
	it_ord_item_price(&ex.b, 7777, 1000);
	it_ord_price(11000, 100, &pa_old);
	it_ord_price(10000, 0, &pb_old);
	it_ord_price(20000, 255, &pa_new);

	it_ord_path(path, sizeof(path), first);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	lines = get(data, "orderItems");
	assert_detail_line(cJSON_GetArrayItem(lines, 0), &ex.a, &pa_old, 2, true, 30);
	assert_detail_line(cJSON_GetArrayItem(lines, 1), &ex.b, &pb_old, 1, false, 0);
	ck_assert_int_eq(it_json_int(data, "expectPrice"), 29800);
	ck_assert_int_eq(it_json_int(data, "totalPrice"), 32000);

	/* a new order snapshots the new prices */
	second = it_ord_place(&u, ex.lines, 1, &r);
	data = it_assert_wrapper(&r);
	ck_assert_int_eq(it_json_int(data, "expectPrice"), 2 * pa_new.real);
	ck_assert_int_eq(pa_new.discount, 5100);
	it_ord_assert_brief(get(cJSON_GetArrayItem(get(data, "itemOrders"), 0), "item"), &ex.a,
	                    &pa_new);

	/* and the history shows each order's own snapshot realPrice */
	it_ord_set_status(first, "COMPLETE");
	it_ord_set_status(second, "COMPLETE");
	it_get("/api/orders", u.access, &r);
	it_assert_status(&r, 200);
	lines = get(r.json, "data");
	ck_assert_int_eq(cJSON_GetArraySize(lines), 3);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(lines, 0), "price"), pa_new.real);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(lines, 1), "price"), pa_old.real);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(lines, 2), "price"), pb_old.real);
	it_resp_free(&r);
}
END_TEST

/* ---- GET /api/orders (history) --------------------------------------------------------------- */

/* One order per status (each with the example's 2 lines); ids[i] is the order in statuses[i]. */
static const char *const all_statuses[5] = {"REQUEST", "COMPLETE", "PARTIAL_REFUND", "REFUND",
                                            "CANCELED"};

static void orders_in_every_status(const struct it_user *u, struct example *ex, int64_t ids[5])
{
	struct it_resp r = IT_RESP_INIT;

	example_init(ex);
	for (int i = 0; i < 5; i++) {
		ids[i] = it_ord_place(u, ex->lines, 2, &r);
		if (i)
			it_ord_set_status(ids[i], all_statuses[i]);
	}
	it_resp_free(&r);
}

/* Asserts a history row: its keys and the values of line `line` of example order `order`. */
static void assert_history_row(const cJSON *row, const struct example *ex, int64_t order, int line,
                               const char *status)
{
	const struct it_ord_item *it = line == 0 ? &ex->a : &ex->b;
	const cJSON *cat;

	it_assert_keys(row, "orderId", "orderItemId", "quantity", "itemId", "itemName", "price",
	               "description", "imageUrl", "category", "orderStatus", NULL);
	ck_assert_int_eq(it_json_int(row, "orderId"), order);
	ck_assert_int_eq(it_json_int(row, "orderItemId"), it_ord_line_id(order, line));
	ck_assert_int_eq(it_json_int(row, "quantity"), line == 0 ? 2 : 1);
	ck_assert_int_eq(it_json_int(row, "itemId"), it->id);
	ck_assert_str_eq(it_json_str(row, "itemName"), it->product);
	ck_assert_int_eq(it_json_int(row, "price"), line == 0 ? 9900 : 10000);
	ck_assert_str_eq(it_json_str(row, "description"), it->main_function);
	ck_assert_str_eq(it_json_str(row, "imageUrl"), it->thumbnail);
	ck_assert_str_eq(it_json_str(row, "orderStatus"), status);
	cat = get(row, "category");
	if (line == 0) {
		const cJSON *set = get(cat, "categoryNameSet");
		it_assert_keys(cat, "categoryNameSet", NULL);
		ck_assert_int_eq(cJSON_GetArraySize(set), 2);
		ck_assert_str_eq(cJSON_GetArrayItem(set, 0)->valuestring, "EYE");
		ck_assert_str_eq(cJSON_GetArrayItem(set, 1)->valuestring, "BONE");
	} else {
		ck_assert(cJSON_IsNull(cat));
	}
}

static void assert_page_info(const struct it_resp *r, int64_t page, int64_t size, int64_t total)
{
	const cJSON *info = get(r->json, "pageInfo");

	it_assert_keys(r->json, "time", "data", "pageInfo", NULL);
	it_assert_ts_recent("time", get(r->json, "time"), 300);
	it_assert_keys(info, "page", "size", "totalElements", "totalPages", NULL);
	ck_assert_int_eq(it_json_int(info, "page"), page);
	ck_assert_int_eq(it_json_int(info, "size"), size);
	ck_assert_int_eq(it_json_int(info, "totalElements"), total);
	ck_assert_int_eq(it_json_int(info, "totalPages"), (total + size - 1) / size);
}

START_TEST(history_shows_paid_orders_by_default_one_row_per_line)
{
	struct it_resp r = IT_RESP_INIT;
	struct example ex;
	struct it_user u;
	int64_t ids[5];
	const cJSON *rows;

	it_new_user(&u);
	orders_in_every_status(&u, &ex, ids);
	it_get("/api/orders", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 6);
	rows = get(r.json, "data");
	ck_assert_int_eq(cJSON_GetArraySize(rows), 6);
	/* newest order first, its lines by orderItemId ascending: REFUND, PARTIAL_REFUND, COMPLETE
	 */
	assert_history_row(cJSON_GetArrayItem(rows, 0), &ex, ids[3], 0, "REFUND");
	assert_history_row(cJSON_GetArrayItem(rows, 1), &ex, ids[3], 1, "REFUND");
	assert_history_row(cJSON_GetArrayItem(rows, 2), &ex, ids[2], 0, "PARTIAL_REFUND");
	assert_history_row(cJSON_GetArrayItem(rows, 3), &ex, ids[2], 1, "PARTIAL_REFUND");
	assert_history_row(cJSON_GetArrayItem(rows, 4), &ex, ids[1], 0, "COMPLETE");
	assert_history_row(cJSON_GetArrayItem(rows, 5), &ex, ids[1], 1, "COMPLETE");

	/* ASC */
	it_get("/api/orders?sort=ASC", u.access, &r);
	it_assert_status(&r, 200);
	rows = get(r.json, "data");
	assert_history_row(cJSON_GetArrayItem(rows, 0), &ex, ids[1], 0, "COMPLETE");
	assert_history_row(cJSON_GetArrayItem(rows, 1), &ex, ids[1], 1, "COMPLETE");
	assert_history_row(cJSON_GetArrayItem(rows, 5), &ex, ids[3], 1, "REFUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(history_status_filter_shows_one_status)
{
	struct it_resp r = IT_RESP_INIT;
	struct example ex;
	struct it_user u;
	int64_t ids[5];
	char path[64];

	it_new_user(&u);
	orders_in_every_status(&u, &ex, ids);
	for (int i = 0; i < 5; i++) {
		const cJSON *rows;
		snprintf(path, sizeof(path), "/api/orders?status=%s", all_statuses[i]);
		it_get(path, u.access, &r);
		it_assert_status(&r, 200);
		assert_page_info(&r, 1, 8, 2);
		rows = get(r.json, "data");
		assert_history_row(cJSON_GetArrayItem(rows, 0), &ex, ids[i], 0, all_statuses[i]);
		assert_history_row(cJSON_GetArrayItem(rows, 1), &ex, ids[i], 1, all_statuses[i]);
	}
	/* an empty value is no filter */
	it_get("/api/orders?status=", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 6);
	it_resp_free(&r);
}
END_TEST

START_TEST(history_rejects_an_unknown_status)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	it_get("/api/orders?status=complete", u.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "status", "complete", IT_R_TYPE);
	it_get("/api/orders?status=SUBSCRIPTION", u.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "status", "SUBSCRIPTION", IT_R_TYPE);
	/* all invalid parameters at once, in table order */
	it_get("/api/orders?size=x&status=NOPE&userId=me&page=1.5", u.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 4);
	it_assert_field_error(&r, 0, "userId", "me", IT_R_TYPE);
	it_assert_field_error(&r, 1, "status", "NOPE", IT_R_TYPE);
	it_assert_field_error(&r, 2, "page", "1.5", IT_R_TYPE);
	it_assert_field_error(&r, 3, "size", "x", IT_R_TYPE);
	it_resp_free(&r);
}
END_TEST

START_TEST(history_pages_and_sorts)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a;
	struct it_ord_line lines[3];
	struct it_user u;
	int64_t ids[6];
	const cJSON *rows;

	it_new_user(&u);
	it_ord_item_new(&a, 1000, 0, 0);
	for (int i = 0; i < 3; i++)
		lines[i] = (struct it_ord_line){a.id, i + 1, false, 0};
	/* 6 paid orders of 3 lines each = 18 rows */
	for (int i = 0; i < 6; i++) {
		ids[i] = it_ord_place(&u, lines, 3, &r);
		it_ord_set_status(ids[i], "COMPLETE");
	}
	/* size below the clamp: 7 */
	it_get("/api/orders?size=1", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 7, 18);
	rows = get(r.json, "data");
	ck_assert_int_eq(cJSON_GetArraySize(rows), 7);
	/* DESC: ids[5] lines 0..2, ids[4] lines 0..2, ids[3] line 0 */
	for (int k = 0; k < 7; k++) {
		const cJSON *row = cJSON_GetArrayItem(rows, k);
		ck_assert_int_eq(it_json_int(row, "orderId"), ids[5 - k / 3]);
		ck_assert_int_eq(it_json_int(row, "orderItemId"),
		                 it_ord_line_id(ids[5 - k / 3], k % 3));
	}
	/* page 3 of 7: rows 14..17 */
	it_get("/api/orders?size=7&page=3", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 3, 7, 18);
	rows = get(r.json, "data");
	ck_assert_int_eq(cJSON_GetArraySize(rows), 4);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 0), "orderId"), ids[1]);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 0), "orderItemId"),
	                 it_ord_line_id(ids[1], 2));
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 3), "orderItemId"),
	                 it_ord_line_id(ids[0], 2));
	/* ASC, page 2 of 8 */
	it_get("/api/orders?sort=ASC&page=2", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 2, 8, 18);
	rows = get(r.json, "data");
	ck_assert_int_eq(cJSON_GetArraySize(rows), 8);
	/* rows 8..15: ids[2] line 2, ids[3] 0..2, ids[4] 0..2, ids[5] line 0 */
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 0), "orderItemId"),
	                 it_ord_line_id(ids[2], 2));
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 7), "orderItemId"),
	                 it_ord_line_id(ids[5], 0));
	/* any other sort value reads as DESC */
	it_get("/api/orders?sort=asc", u.access, &r);
	it_assert_status(&r, 200);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(get(r.json, "data"), 0), "orderId"),
	                 ids[5]);
	/* past the end: [] with the true totals; page < 1 → 1; size > 100 → 100 */
	it_get("/api/orders?page=9", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 9, 8, 18);
	ck_assert_int_eq(cJSON_GetArraySize(get(r.json, "data")), 0);
	it_get("/api/orders?page=0&size=1000", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 100, 18);
	ck_assert_int_eq(cJSON_GetArraySize(get(r.json, "data")), 18);
	it_get("/api/orders?page=2000000", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1000000, 8, 18);
	it_resp_free(&r);
}
END_TEST

START_TEST(history_empty_page)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	it_get("/api/orders?page=3&size=9", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 3, 9, 0);
	ck_assert_int_eq(cJSON_GetArraySize(get(r.json, "data")), 0);
	ck_assert_int_eq(it_json_int(get(r.json, "pageInfo"), "totalPages"), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(history_user_id_rule)
{
	struct it_resp r = IT_RESP_INIT;
	struct example ex;
	struct it_user u, other, admin;
	int64_t ids[5];
	char path[96];

	it_new_user(&u);
	it_new_user(&other);
	it_new_admin(&admin);
	orders_in_every_status(&u, &ex, ids);
	snprintf(path, sizeof(path), "/api/orders?userId=%" PRId64, u.id);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 6);
	it_get(path, other.access, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	it_get(path, admin.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 6);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(get(r.json, "data"), 0), "orderId"),
	                 ids[3]);
	/* validation comes before the 403 */
	snprintf(path, sizeof(path), "/api/orders?userId=%" PRId64 "&status=x", u.id);
	it_get(path, other.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	/* the admin's own list without userId */
	it_get("/api/orders", admin.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 0);
	it_resp_free(&r);
}
END_TEST

Suite *orders_suite(void)
{
	Suite *s = suite_create("orders");
	TCase *tc = tcase_create("create");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, create_answers_the_create_shape_exactly);
	tcase_add_test(tc, create_stores_the_order_and_its_snapshots);
	tcase_add_test(tc, one_time_order_ignores_period_and_the_subscription_flag);
	tcase_add_test(tc, integral_numbers_written_with_a_fraction_are_accepted);
	tcase_add_test(tc, a_hundred_lines_keep_their_order_and_duplicates_are_separate_lines);
	tcase_add_test(tc, item_texts_that_are_null_in_the_catalogue_are_null);
	tcase_add_test(tc, missing_fields_are_reported_in_field_table_order);
	tcase_add_test(tc, receiver_rules_blank_length_and_phone);
	tcase_add_test(tc, list_size_rule);
	tcase_add_test(tc, line_rules_in_order_with_indexed_field_names);
	tcase_add_test(tc, wrong_json_types_are_invalid_parameter_type);
	tcase_add_test(tc, malformed_json_and_no_token);
	tcase_add_test(tc, user_id_must_be_the_callers_own);
	tcase_add_test(tc, unknown_items_are_404_and_nothing_is_written);
	tcase_add_test(tc, check_order_validation_then_user_then_items);
	suite_add_tcase(s, tc);

	tc = tcase_create("detail");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, detail_answers_exactly_the_detail_shape);
	tcase_add_test(tc, detail_of_a_paid_order_names_its_subscriptions_and_refunds);
	tcase_add_test(tc, detail_of_a_renewal_order);
	tcase_add_test(tc, detail_of_another_users_order_is_403_and_admin_reads_it);
	tcase_add_test(tc, detail_of_unknown_or_malformed_ids);
	tcase_add_test(tc, snapshots_survive_a_catalogue_price_change);
	suite_add_tcase(s, tc);

	tc = tcase_create("history");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, history_shows_paid_orders_by_default_one_row_per_line);
	tcase_add_test(tc, history_status_filter_shows_one_status);
	tcase_add_test(tc, history_rejects_an_unknown_status);
	tcase_add_test(tc, history_pages_and_sorts);
	tcase_add_test(tc, history_empty_page);
	tcase_add_test(tc, history_user_id_rule);
	suite_add_tcase(s, tc);
	return s;
}
