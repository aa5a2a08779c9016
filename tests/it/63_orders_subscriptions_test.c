/*
 * 63_orders_subscriptions: GET /api/orders/subscriptions (API.md §6.4) and
 * PATCH /api/orders/subscriptions/{orderId}?orderItemId=&quantity= (§6.5), over
 * subscriptions written in SQL (no route of §6 creates one): the list shape with the category
 * string and the current price, the default and filtered statuses, nextPaymentDate rules,
 * paging and sort, the userId rule; the quantity change and every error row in the table's
 * order, including the state conflicts of §2.5.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

#define EYE_BONE 0x3u
#define ALL_CATS 0x1ffu

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A paid order of u with one subscription line of item `it`, and its subscription in `status`
 * (retry state `retry`, NULL = NONE). */
static void paid_sub(const struct it_user *u, const struct it_ord_item *it, const char *status,
                     const char *retry, const char *next, struct it_ord_sub *s)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_line line = {it->id, 3, true, 45};
	int64_t order = it_ord_place(u, &line, 1, &r);

	memset(s, 0, sizeof(*s));
	s->user_id = u->id;
	s->order_id = order;
	s->order_item_id = it_ord_line_id(order, 0);
	s->item_id = it->id;
	s->payment_id = it_ord_pay(order, u->id);
	s->quantity = 3;
	s->period = 45;
	s->status = status;
	s->retry_state = retry;
	s->next_date = next;
	it_ord_sub_new(s);
	it_resp_free(&r);
}

static void assert_page_info(const struct it_resp *r, int64_t page, int64_t size, int64_t total)
{
	const cJSON *info = get(r->json, "pageInfo");

	it_assert_keys(r->json, "time", "data", "pageInfo", NULL);
	it_assert_keys(info, "page", "size", "totalElements", "totalPages", NULL);
	ck_assert_int_eq(it_json_int(info, "page"), page);
	ck_assert_int_eq(it_json_int(info, "size"), size);
	ck_assert_int_eq(it_json_int(info, "totalElements"), total);
	ck_assert_int_eq(it_json_int(info, "totalPages"), (total + size - 1) / size);
}

static void assert_row(const cJSON *row, const struct it_ord_sub *s, const struct it_ord_item *it,
                       const char *category, const char *next)
{
	struct it_ord_price p;

	it_assert_keys(row, "subscriptionOrderId", "orderItemId", "quantity", "itemId", "itemName",
	               "price", "description", "imageUrl", "category", "orderStatus", "period",
	               "nextPaymentDate", NULL);
	it_ord_price(it->origin, it->p10, &p);
	ck_assert_int_eq(it_json_int(row, "subscriptionOrderId"), s->id);
	ck_assert_int_eq(it_json_int(row, "orderItemId"), s->order_item_id);
	ck_assert_int_eq(it_json_int(row, "quantity"), s->quantity);
	ck_assert_int_eq(it_json_int(row, "itemId"), it->id);
	ck_assert_str_eq(it_json_str(row, "itemName"), it->product);
	ck_assert_int_eq(it_json_int(row, "price"), p.real);
	ck_assert_str_eq(it_json_str(row, "description"), it->main_function);
	ck_assert_str_eq(it_json_str(row, "imageUrl"), it->thumbnail);
	ck_assert_str_eq(it_json_str(row, "category"), category);
	ck_assert_str_eq(it_json_str(row, "orderStatus"), s->status);
	ck_assert_int_eq(it_json_int(row, "period"), s->period);
	it_ord_assert_str_or_null(row, "nextPaymentDate", next);
}

/* ---- GET /api/orders/subscriptions ----------------------------------------------------------- */

START_TEST(list_shape_category_string_and_current_price)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item a, b, c;
	struct it_ord_sub sa, sb, sc;
	struct it_user u;
	const cJSON *rows;

	it_new_user(&u);
	it_ord_item_new(&a, 11000, 100, EYE_BONE);
	it_ord_item_new(&b, 10000, 0, 0);
	it_ord_item_new(&c, 5000, 95, ALL_CATS);
	paid_sub(&u, &a, "SUBSCRIPTION", NULL, "2026-02-15", &sa);
	paid_sub(&u, &b, "SUBSCRIPTION", NULL, "2026-03-02", &sb);
	paid_sub(&u, &c, "SUBSCRIPTION", NULL, "2026-04-01", &sc);
	/* the list shows today's price, not the order's snapshot */
	it_ord_item_price(&a, 20000, 255);

	it_get("/api/orders/subscriptions", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 3);
	rows = get(r.json, "data");
	ck_assert_int_eq(cJSON_GetArraySize(rows), 3);
	/* DESC by subscriptionOrderId */
	assert_row(cJSON_GetArrayItem(rows, 0), &sc, &c,
	           "[EYE, BONE, BRAIN, INTESTINE, LIVER, SKIN, ANTIOXIDANT, FATIGUE, ETC]",
	           "2026-04-01");
	assert_row(cJSON_GetArrayItem(rows, 1), &sb, &b, "", "2026-03-02");
	assert_row(cJSON_GetArrayItem(rows, 2), &sa, &a, "[EYE, BONE]", "2026-02-15");
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 2), "price"), 14900);

	it_get("/api/orders/subscriptions?sort=ASC", u.access, &r);
	it_assert_status(&r, 200);
	rows = get(r.json, "data");
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 0), "subscriptionOrderId"), sa.id);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 2), "subscriptionOrderId"), sc.id);
	it_resp_free(&r);
}
END_TEST

START_TEST(list_statuses_default_filter_and_next_date)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_ord_sub s[6];
	struct it_user u;
	const cJSON *rows;
	char path[96];

	it_new_user(&u);
	it_ord_item_new(&it, 3000, 0, 0);
	paid_sub(&u, &it, "SUBSCRIPTION", NULL, "2026-02-15", &s[0]);
	paid_sub(&u, &it, "PAUSED", NULL, NULL, &s[1]);
	paid_sub(&u, &it, "SUBSCRIBE_PAYMENT_FAIL", "SCHEDULED", "2026-01-31", &s[2]);
	paid_sub(&u, &it, "SUBSCRIBE_PAYMENT_FAIL", "EXHAUSTED", NULL, &s[3]);
	paid_sub(&u, &it, "SUBSCRIBE_CANCEL", NULL, NULL, &s[4]);
	paid_sub(&u, &it, "SUBSCRIPTION", "UNKNOWN", "2026-01-31", &s[5]);

	/* default: everything but SUBSCRIBE_CANCEL */
	it_get("/api/orders/subscriptions", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 5);
	rows = get(r.json, "data");
	assert_row(cJSON_GetArrayItem(rows, 0), &s[5], &it, "", "2026-01-31");
	assert_row(cJSON_GetArrayItem(rows, 1), &s[3], &it, "", "");           /* exhausted: null */
	assert_row(cJSON_GetArrayItem(rows, 2), &s[2], &it, "", "2026-01-31"); /* open cycle */
	assert_row(cJSON_GetArrayItem(rows, 3), &s[1], &it, "", "");           /* paused: null */
	assert_row(cJSON_GetArrayItem(rows, 4), &s[0], &it, "", "2026-02-15");

	static const struct {
		const char *status;
		int n;
		int first;
	} want[] = {
	    {"SUBSCRIPTION", 2, 5},
	    {"PAUSED", 1, 1},
	    {"SUBSCRIBE_PAYMENT_FAIL", 2, 3},
	    {"SUBSCRIBE_CANCEL", 1, 4},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(path, sizeof(path), "/api/orders/subscriptions?status=%s", want[i].status);
		it_get(path, u.access, &r);
		it_assert_status(&r, 200);
		assert_page_info(&r, 1, 8, want[i].n);
		rows = get(r.json, "data");
		assert_row(cJSON_GetArrayItem(rows, 0), &s[want[i].first], &it, "",
		           want[i].first == 5 ? "2026-01-31" : "");
	}
	/* an order status is not a subscription status */
	it_get("/api/orders/subscriptions?status=COMPLETE", u.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "status", "COMPLETE", IT_R_TYPE);
	it_get("/api/orders/subscriptions?status=paused", u.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_resp_free(&r);
}
END_TEST

START_TEST(list_pages_and_user_id_rule)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_ord_sub s[9];
	struct it_user u, other, admin;
	const cJSON *rows;
	char path[96];

	it_new_user(&u);
	it_new_user(&other);
	it_new_admin(&admin);
	it_ord_item_new(&it, 3000, 0, 0);
	for (int i = 0; i < 9; i++)
		paid_sub(&u, &it, "SUBSCRIPTION", NULL, "2026-02-15", &s[i]);

	it_get("/api/orders/subscriptions?size=7&page=2", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 2, 7, 9);
	rows = get(r.json, "data");
	ck_assert_int_eq(cJSON_GetArraySize(rows), 2);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 0), "subscriptionOrderId"), s[1].id);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(rows, 1), "subscriptionOrderId"), s[0].id);
	it_get("/api/orders/subscriptions?size=3&sort=ASC", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 7, 9);
	ck_assert_int_eq(
	    it_json_int(cJSON_GetArrayItem(get(r.json, "data"), 0), "subscriptionOrderId"),
	    s[0].id);
	it_get("/api/orders/subscriptions?page=5", u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 5, 8, 9);
	ck_assert_int_eq(cJSON_GetArraySize(get(r.json, "data")), 0);
	it_get("/api/orders/subscriptions?page=x", u.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "page", "x", IT_R_TYPE);

	snprintf(path, sizeof(path), "/api/orders/subscriptions?userId=%" PRId64, u.id);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 9);
	it_get(path, other.access, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	it_get(path, admin.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 9);
	it_get("/api/orders/subscriptions", other.access, &r);
	it_assert_status(&r, 200);
	assert_page_info(&r, 1, 8, 0);
	it_get("/api/orders/subscriptions?userId=x", u.access, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "userId", "x", IT_R_TYPE);
	it_get("/api/orders/subscriptions", NULL, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_resp_free(&r);
}
END_TEST

/* ---- PATCH /api/orders/subscriptions/{orderId} ----------------------------------------------- */

static void patch(const struct it_user *u, int64_t order, const char *query, struct it_resp *r)
{
	char path[160];

	snprintf(path, sizeof(path), "/api/orders/subscriptions/%" PRId64 "%s", order, query);
	it_req("PATCH", path, u->access, NULL, NULL, r);
}

static void patch_q(const struct it_user *u, int64_t order, int64_t line, int quantity,
                    struct it_resp *r)
{
	char q[96];

	snprintf(q, sizeof(q), "?orderItemId=%" PRId64 "&quantity=%d", line, quantity);
	patch(u, order, q, r);
}

static int64_t sub_quantity(int64_t id)
{
	struct db_param p[1] = {DB_I64(id)};
	return it_sql_i64("SELECT quantity FROM subscriptions WHERE subscription_id = ?", p, 1);
}

START_TEST(quantity_change_is_204_and_changes_only_the_subscription)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_ord_sub s, paused;
	struct it_user u;

	it_new_user(&u);
	it_ord_item_new(&it, 3000, 0, 0);
	paid_sub(&u, &it, "SUBSCRIPTION", NULL, "2026-02-15", &s);
	patch_q(&u, s.order_id, s.order_item_id, 999, &r);
	it_assert_status(&r, 204);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_int_eq(sub_quantity(s.id), 999);
	/* the paid order itself is not modified */
	struct db_param p[1] = {DB_I64(s.order_item_id)};
	ck_assert_int_eq(
	    it_sql_i64("SELECT quantity FROM order_items WHERE order_item_id = ?", p, 1), 3);
	patch_q(&u, s.order_id, s.order_item_id, 1, &r);
	it_assert_status(&r, 204);
	ck_assert_int_eq(sub_quantity(s.id), 1);

	paid_sub(&u, &it, "PAUSED", NULL, NULL, &paused);
	patch_q(&u, paused.order_id, paused.order_item_id, 12, &r);
	it_assert_status(&r, 204);
	ck_assert_int_eq(sub_quantity(paused.id), 12);

	/* the list shows it */
	it_get("/api/orders/subscriptions?sort=ASC", u.access, &r);
	it_assert_status(&r, 200);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(get(r.json, "data"), 0), "quantity"), 1);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(get(r.json, "data"), 1), "quantity"), 12);
	it_resp_free(&r);
}
END_TEST

START_TEST(quantity_parameter_rules)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_ord_sub s;
	struct it_user u;
	char q[96];

	it_new_user(&u);
	it_ord_item_new(&it, 3000, 0, 0);
	paid_sub(&u, &it, "SUBSCRIPTION", NULL, "2026-02-15", &s);

	patch(&u, s.order_id, "", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "orderItemId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "quantity", "", IT_R_REQUIRED);

	snprintf(q, sizeof(q), "?orderItemId=%" PRId64, s.order_item_id);
	patch(&u, s.order_id, q, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "quantity", "", IT_R_REQUIRED);

	patch(&u, s.order_id, "?quantity=2", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "orderItemId", "", IT_R_REQUIRED);

	patch_q(&u, s.order_id, s.order_item_id, 0, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "quantity", "0", "1 이상이어야 합니다");
	patch_q(&u, s.order_id, s.order_item_id, 1000, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "quantity", "1000", "999 이하여야 합니다");

	snprintf(q, sizeof(q), "?orderItemId=%" PRId64 "&quantity=two", s.order_item_id);
	patch(&u, s.order_id, q, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "quantity", "two", IT_R_TYPE);
	patch(&u, s.order_id, "?orderItemId=x&quantity=2", &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "orderItemId", "x", IT_R_TYPE);
	it_req("PATCH", "/api/orders/subscriptions/abc?orderItemId=1&quantity=0", u.access, NULL,
	       NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "orderId", "abc", IT_R_TYPE);
	it_assert_field_error(&r, 1, "quantity", "0", "1 이상이어야 합니다");
	ck_assert_int_eq(sub_quantity(s.id), 3);
	it_resp_free(&r);
}
END_TEST

START_TEST(quantity_errors_in_the_tables_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it, one;
	struct it_ord_sub s, s2;
	struct it_ord_line lines[2];
	struct it_user u, other, admin;
	int64_t unpaid, mixed;

	it_new_user(&u);
	it_new_user(&other);
	it_new_admin(&admin);
	it_ord_item_new(&it, 3000, 0, 0);
	it_ord_item_new(&one, 2000, 0, 0);
	paid_sub(&u, &it, "SUBSCRIPTION", NULL, "2026-02-15", &s);
	paid_sub(&u, &it, "SUBSCRIPTION", NULL, "2026-02-15", &s2);

	/* 400 before 404 */
	patch_q(&u, 999999999999, s.order_item_id, 0, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	/* 404 ORDER_NOT_FOUND */
	patch_q(&u, 999999999999, s.order_item_id, 2, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	it_req("PATCH", "/api/orders/subscriptions/0?orderItemId=1&quantity=2", u.access, NULL,
	       NULL, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	/* 403 before the line checks: another user's order, even with a foreign line; ADMIN may
	 * not write */
	patch_q(&other, s.order_id, s.order_item_id, 2, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	patch_q(&other, s.order_id, 999999999999, 2, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	patch_q(&admin, s.order_id, s.order_item_id, 2, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	/* 404 NOT_ORDERED_ITEM: a line of another order (of the same user), or no line */
	patch_q(&u, s.order_id, s2.order_item_id, 2, &r);
	it_assert_error(&r, 404, "NOT_ORDERED_ITEM");
	patch_q(&u, s.order_id, 999999999999, 2, &r);
	it_assert_error(&r, 404, "NOT_ORDERED_ITEM");
	patch_q(&u, s.order_id, -1, 2, &r);
	it_assert_error(&r, 404, "NOT_ORDERED_ITEM");
	/* 404 SUBSCRIPTION_NOT_FOUND: a one-time line of a paid order; a subscription line of an
	 * order not paid yet */
	lines[0] = (struct it_ord_line){it.id, 1, true, 30};
	lines[1] = (struct it_ord_line){one.id, 1, false, 0};
	mixed = it_ord_place(&u, lines, 2, &r);
	it_ord_pay(mixed, u.id);
	patch_q(&u, mixed, it_ord_line_id(mixed, 1), 2, &r);
	it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
	unpaid = it_ord_place(&u, lines, 1, &r);
	patch_q(&u, unpaid, it_ord_line_id(unpaid, 0), 2, &r);
	it_assert_error(&r, 404, "SUBSCRIPTION_NOT_FOUND");
	ck_assert_int_eq(sub_quantity(s.id), 3);
	ck_assert_int_eq(sub_quantity(s2.id), 3);
	it_resp_free(&r);
}
END_TEST

START_TEST(quantity_state_conflicts)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_ord_sub fail, exhausted, cancel, unknown, pending, paused_pending, declined;
	struct it_user u;

	it_new_user(&u);
	it_ord_item_new(&it, 3000, 0, 0);
	paid_sub(&u, &it, "SUBSCRIBE_PAYMENT_FAIL", "SCHEDULED", "2026-01-31", &fail);
	paid_sub(&u, &it, "SUBSCRIBE_PAYMENT_FAIL", "EXHAUSTED", NULL, &exhausted);
	paid_sub(&u, &it, "SUBSCRIBE_CANCEL", NULL, NULL, &cancel);
	paid_sub(&u, &it, "SUBSCRIPTION", "UNKNOWN", "2026-01-31", &unknown);
	paid_sub(&u, &it, "SUBSCRIPTION", NULL, "2026-01-31", &pending);
	it_ord_attempt(&pending, "PENDING");
	paid_sub(&u, &it, "PAUSED", NULL, NULL, &paused_pending);
	it_ord_attempt(&paused_pending, "UNKNOWN");
	paid_sub(&u, &it, "SUBSCRIPTION", NULL, "2026-01-31", &declined);
	it_ord_attempt(&declined, "DECLINED"); /* a finished attempt does not block */

	const struct it_ord_sub *blocked[] = {&fail,    &exhausted, &cancel,
	                                      &unknown, &pending,   &paused_pending};
	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
		patch_q(&u, blocked[i]->order_id, blocked[i]->order_item_id, 5, &r);
		it_assert_error(&r, 409, "SUBSCRIPTION_STATE_CONFLICT");
		ck_assert_int_eq(sub_quantity(blocked[i]->id), 3);
	}
	patch_q(&u, declined.order_id, declined.order_item_id, 5, &r);
	it_assert_status(&r, 204);
	ck_assert_int_eq(sub_quantity(declined.id), 5);
	it_resp_free(&r);
}
END_TEST

START_TEST(other_methods_on_the_subscription_routes)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	it_get("/api/orders/subscriptions/5", u.access, &r);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	it_req("PATCH", "/api/orders/subscriptions/5?orderItemId=1&quantity=1", NULL, NULL, NULL,
	       &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_resp_free(&r);
}
END_TEST

Suite *orders_subscriptions_suite(void)
{
	Suite *s = suite_create("orders_subscriptions");
	TCase *tc = tcase_create("list");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, list_shape_category_string_and_current_price);
	tcase_add_test(tc, list_statuses_default_filter_and_next_date);
	tcase_add_test(tc, list_pages_and_user_id_rule);
	suite_add_tcase(s, tc);

	tc = tcase_create("quantity");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, quantity_change_is_204_and_changes_only_the_subscription);
	tcase_add_test(tc, quantity_parameter_rules);
	tcase_add_test(tc, quantity_errors_in_the_tables_order);
	tcase_add_test(tc, quantity_state_conflicts);
	tcase_add_test(tc, other_methods_on_the_subscription_routes);
	suite_add_tcase(s, tc);
	return s;
}
