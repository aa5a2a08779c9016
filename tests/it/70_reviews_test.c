/*
 * 70_reviews: the review routes of API.md §9 with the rules of §2.8: the review detail and
 * review row shapes key by key, every field rule and error row of §9.1-§9.4 in the check
 * order of §9.1 / §1.5, who may write, edit and delete, soft deletion (invisible everywhere,
 * not editable, a new review allowed afterwards), and the pages with their four sorts,
 * tie-breakers and paging rules (§1.4).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/it/lib/it.h"
#include "tests/it/lib/reviews.h"
#include "common/banned.h"

/* 2026-01-01T00:00:00Z, shown as 2026-01-01T09:00:00+09:00 */
#define T2026 1767225600LL

/* A user who bought an item in a COMPLETE order. */
struct scene {
	struct it_user u;
	int64_t item;
	char item_name[64];
	int64_t order;
};

static void scene_new(struct scene *s)
{
	it_new_user(&s->u);
	s->item = rv_item_new(s->item_name, sizeof(s->item_name));
	s->order = rv_bought(s->u.id, s->item);
}

static void post_json(const char *method, const char *token, const char *body, struct it_resp *r)
{
	it_req(method, "/api/reviews", token, body, NULL, r);
}

/* The raw text of "star" in a single-object body must be exactly N.0. */
static void assert_star_text(const struct it_resp *r, int star)
{
	char got[32], want[16];

	snprintf(want, sizeof(want), "%d.0", star);
	ck_assert_msg(rv_raw_number(r->body, "star", got, sizeof(got)), "no star in %s", r->body);
	ck_assert_msg(!strcmp(got, want), "star written %s, expected %s", got, want);
}

/* Every "star": value in a body is written N.0 with N in 1..5. */
static void assert_all_stars_fractional(const struct it_resp *r)
{
	for (const char *p = strstr(r->body, "\"star\":"); p; p = strstr(p + 1, "\"star\":")) {
		const char *v = p + 7;
		ck_assert_msg(v[0] >= '1' && v[0] <= '5' && v[1] == '.' && v[2] == '0' &&
		                  (v[3] == ',' || v[3] == '}'),
		              "star not written as N.0: %.20s", v);
	}
}

static void ts_text(int64_t unix_s, char *out, size_t n)
{
	/* the contract's zone is Asia/Seoul, +09:00 all year */
	time_t t = (time_t)(unix_s + 9 * 3600);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
}

/* Asserts the review detail of §9 (exactly 7 keys); returns the reviewId. */
static int64_t assert_detail(const struct it_resp *r, int64_t uid, const char *display_name,
                             const char *content, int star)
{
	cJSON *data = it_assert_wrapper(r);
	int64_t id;

	it_assert_keys(data, "reviewId", "displayName", "userId", "content", "star", "createdAt",
	               "updatedAt", NULL);
	id = it_json_int(data, "reviewId");
	ck_assert_int_gt(id, 0);
	ck_assert_str_eq(it_json_str(data, "displayName"), display_name);
	ck_assert_int_eq(it_json_int(data, "userId"), uid);
	ck_assert_str_eq(it_json_str(data, "content"), content);
	assert_star_text(r, star);
	it_assert_ts("createdAt", cJSON_GetObjectItemCaseSensitive(data, "createdAt"));
	it_assert_ts("updatedAt", cJSON_GetObjectItemCaseSensitive(data, "updatedAt"));
	return id;
}

struct row {
	int64_t review_id, item_id, user_id;
	const char *content, *display_name;
	int star;
};

/* Asserts a review row of §9 (exactly 9 keys, reviewStatus ACTIVE). */
static void assert_row(const cJSON *o, const struct row *want)
{
	const cJSON *star = cJSON_GetObjectItemCaseSensitive(o, "star");

	it_assert_keys(o, "reviewId", "itemId", "userId", "content", "displayName", "star",
	               "createdAt", "updatedAt", "reviewStatus", NULL);
	ck_assert_int_eq(it_json_int(o, "reviewId"), want->review_id);
	ck_assert_int_eq(it_json_int(o, "itemId"), want->item_id);
	ck_assert_int_eq(it_json_int(o, "userId"), want->user_id);
	ck_assert_str_eq(it_json_str(o, "content"), want->content);
	ck_assert_str_eq(it_json_str(o, "displayName"), want->display_name);
	ck_assert_msg(cJSON_IsNumber(star) && star->valuedouble == want->star, "star %d expected",
	              want->star);
	it_assert_ts("createdAt", cJSON_GetObjectItemCaseSensitive(o, "createdAt"));
	it_assert_ts("updatedAt", cJSON_GetObjectItemCaseSensitive(o, "updatedAt"));
	ck_assert_str_eq(it_json_str(o, "reviewStatus"), "ACTIVE");
}

static void get_review(int64_t id, const char *token, struct it_resp *r)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/reviews/%lld", (long long)id);
	it_get(path, token, r);
}

/* Asserts the {time, data, pageInfo} wrapper and its pageInfo; returns data. */
static cJSON *assert_page(const struct it_resp *r, int64_t page, int64_t size, int64_t total)
{
	cJSON *data, *info;

	it_assert_status(r, 200);
	ck_assert_ptr_nonnull(r->json);
	it_assert_keys(r->json, "time", "data", "pageInfo", NULL);
	it_assert_ts_recent("time", cJSON_GetObjectItemCaseSensitive(r->json, "time"), 300);
	data = cJSON_GetObjectItemCaseSensitive(r->json, "data");
	ck_assert_msg(cJSON_IsArray(data), "data is not an array");
	info = cJSON_GetObjectItemCaseSensitive(r->json, "pageInfo");
	it_assert_keys(info, "page", "size", "totalElements", "totalPages", NULL);
	ck_assert_int_eq(it_json_int(info, "page"), page);
	ck_assert_int_eq(it_json_int(info, "size"), size);
	ck_assert_int_eq(it_json_int(info, "totalElements"), total);
	ck_assert_int_eq(it_json_int(info, "totalPages"), (total + size - 1) / size);
	assert_all_stars_fractional(r);
	return data;
}

/* ---- POST: success --------------------------------------------------------------------------- */

START_TEST(create_answers_the_review_detail)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	char body[512], *status;
	struct db_param p[1];
	int64_t id;

	scene_new(&s);
	/* displayName of the request is ignored: the profile's is used */
	snprintf(body, sizeof(body),
	         "{\"orderId\":%lld,\"itemId\":%lld,\"content\":\"매일 아침 잘 챙겨 먹고 있어요.\","
	         "\"star\":5,\"displayName\":\"someone-else\",\"unknownKey\":[1,2]}",
	         (long long)s.order, (long long)s.item);
	post_json("POST", s.u.access, body, &r);
	it_assert_status(&r, 201);
	id = assert_detail(&r, s.u.id, s.u.display_name, "매일 아침 잘 챙겨 먹고 있어요.", 5);
	{
		cJSON *data = cJSON_GetObjectItemCaseSensitive(r.json, "data");
		it_assert_ts_recent("createdAt",
		                    cJSON_GetObjectItemCaseSensitive(data, "createdAt"), 300);
		ck_assert_str_eq(it_json_str(data, "createdAt"), it_json_str(data, "updatedAt"));
	}

	/* stored ACTIVE with the order, the item and the copied display name */
	p[0] = DB_I64(id);
	status = it_sql_str("SELECT CONCAT(status, '|', user_id, '|', order_id, '|', item_id, '|',"
	                    " star, '|', display_name, '|', deleted_at IS NULL)"
	                    " FROM reviews WHERE review_id = ?",
	                    p, 1);
	snprintf(body, sizeof(body), "ACTIVE|%lld|%lld|%lld|5|%s|1", (long long)s.u.id,
	         (long long)s.order, (long long)s.item, s.u.display_name);
	ck_assert_str_eq(status, body);
	free(status);
	it_resp_free(&r);
}
END_TEST

START_TEST(create_accepts_star_written_5_0_and_own_user_id)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	char body[256];

	scene_new(&s);
	snprintf(body, sizeof(body),
	         "{\"userId\":%lld,\"orderId\":%lld.0,\"itemId\":%lld,\"content\":\"좋아요\","
	         "\"star\":4.0}",
	         (long long)s.u.id, (long long)s.order, (long long)s.item);
	post_json("POST", s.u.access, body, &r);
	it_assert_status(&r, 201);
	assert_detail(&r, s.u.id, s.u.display_name, "좋아요", 4);
	it_resp_free(&r);
}
END_TEST

START_TEST(create_accepts_2000_characters_and_each_star)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	char *content = malloc(3 * 2000 + 1);
	int64_t items[5], order;

	ck_assert_ptr_nonnull(content);
	for (int i = 0; i < 2000; i++)
		memcpy(content + 3 * i, "가", 3);
	content[3 * 2000] = '\0';
	it_new_user(&s.u);
	for (int i = 0; i < 5; i++)
		items[i] = rv_item_new(NULL, 0);
	order = rv_order_new(s.u.id, "COMPLETE", items, 5);
	for (int star = 1; star <= 5; star++) {
		rv_post(s.u.access, order, items[star - 1], star == 1 ? content : "ok", star, &r);
		it_assert_status(&r, 201);
		assert_detail(&r, s.u.id, s.u.display_name, star == 1 ? content : "ok", star);
	}
	free(content);
	it_resp_free(&r);
}
END_TEST

START_TEST(renewal_orders_count)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	int64_t renewal, initial;

	it_new_user(&s.u);
	s.item = rv_item_new(NULL, 0);
	renewal = rv_renewal_order(s.u.id, s.item, &initial);
	rv_post(s.u.access, renewal, s.item, "정기 배송 좋아요", 5, &r);
	it_assert_status(&r, 201);
	assert_detail(&r, s.u.id, s.u.display_name, "정기 배송 좋아요", 5);
	/* one review per (user, order, item): the initial order may have its own */
	rv_post(s.u.access, initial, s.item, "첫 주문", 4, &r);
	it_assert_status(&r, 201);
	it_resp_free(&r);
}
END_TEST

/* ---- POST: 400 ------------------------------------------------------------------------------- */

START_TEST(create_empty_body_reports_every_required_field_in_table_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	post_json("POST", u.access, "{}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 4);
	it_assert_field_error(&r, 0, "orderId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "itemId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 2, "content", "", IT_R_BLANK);
	it_assert_field_error(&r, 3, "star", "", IT_R_REQUIRED);

	/* null equals absent */
	post_json(
	    "POST", u.access,
	    "{\"userId\":null,\"orderId\":null,\"itemId\":null,\"content\":null,\"star\":null}",
	    &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 4);
	it_assert_field_error(&r, 0, "orderId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 3, "star", "", IT_R_REQUIRED);
	it_resp_free(&r);
}
END_TEST

START_TEST(create_wrong_types_are_invalid_parameter_type_in_table_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	post_json("POST", u.access,
	          "{\"star\":4.5,\"content\":5,\"itemId\":1.5,\"orderId\":\"1\",\"userId\":true}",
	          &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 5);
	it_assert_field_error(&r, 0, "userId", "true", IT_R_TYPE);
	it_assert_field_error(&r, 1, "orderId", "1", IT_R_TYPE);
	it_assert_field_error(&r, 2, "itemId", "1.5", IT_R_TYPE);
	it_assert_field_error(&r, 3, "content", "5", IT_R_TYPE);
	it_assert_field_error(&r, 4, "star", "4.5", IT_R_TYPE);

	/* out of range numbers: star beyond int32, ids beyond 2^53 - 1 */
	post_json("POST", u.access,
	          "{\"orderId\":9007199254740992,\"itemId\":1,\"content\":\"x\","
	          "\"star\":2147483648}",
	          &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "orderId", NULL, IT_R_TYPE);
	it_assert_field_error(&r, 1, "star", NULL, IT_R_TYPE);

	/* a star given as a string */
	post_json("POST", u.access, "{\"orderId\":1,\"itemId\":1,\"content\":\"x\",\"star\":\"5\"}",
	          &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "star", "5", IT_R_TYPE);
	it_resp_free(&r);
}
END_TEST

START_TEST(create_star_and_content_rules)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char *body, *content = malloc(2001 + 64);

	ck_assert_ptr_nonnull(content);
	it_new_user(&u);
	post_json("POST", u.access, "{\"orderId\":1,\"itemId\":1,\"content\":\"   \",\"star\":0}",
	          &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "content", "   ", IT_R_BLANK);
	it_assert_field_error(&r, 1, "star", "0", RV_R_MIN1);

	post_json("POST", u.access, "{\"orderId\":1,\"itemId\":1,\"content\":\"\",\"star\":6}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "content", "", IT_R_BLANK);
	it_assert_field_error(&r, 1, "star", "6", RV_R_MAX5);

	post_json("POST", u.access, "{\"orderId\":1,\"itemId\":1,\"content\":\"x\",\"star\":-1}",
	          &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "star", "-1", RV_R_MIN1);

	/* 2001 characters */
	memset(content, 'a', 2001);
	content[2001] = '\0';
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "orderId", 1);
	cJSON_AddNumberToObject(o, "itemId", 1);
	cJSON_AddStringToObject(o, "content", content);
	cJSON_AddNumberToObject(o, "star", 5);
	body = cJSON_PrintUnformatted(o);
	post_json("POST", u.access, body, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "content", NULL, RV_R_MAX2000);
	cJSON_Delete(o);
	free(body);

	/* a type error and a rule error together: INVALID_PARAMETER_TYPE, both listed in order */
	post_json("POST", u.access, "{\"itemId\":1,\"content\":\" \",\"star\":4.5}", &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 3);
	it_assert_field_error(&r, 0, "orderId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "content", " ", IT_R_BLANK);
	it_assert_field_error(&r, 2, "star", "4.5", IT_R_TYPE);
	free(content);
	it_resp_free(&r);
}
END_TEST

START_TEST(create_needs_a_token)
{
	struct it_resp r = IT_RESP_INIT;

	post_json("POST", NULL, "{\"orderId\":1,\"itemId\":1,\"content\":\"x\",\"star\":5}", &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_resp_free(&r);
}
END_TEST

/* ---- POST: 403 userId, 404, 403 not allowed, 409 ----------------------------------------------
 */

START_TEST(create_user_id_must_be_the_token_user)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	struct it_user admin;
	char body[256];

	scene_new(&s);
	/* validation first: a bad field wins over the foreign userId */
	snprintf(body, sizeof(body), "{\"userId\":%lld,\"orderId\":%lld,\"itemId\":%lld}",
	         (long long)s.u.id + 1, (long long)s.order, (long long)s.item);
	post_json("POST", s.u.access, body, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");

	/* then 403, before the 404 of an unknown order */
	snprintf(body, sizeof(body),
	         "{\"userId\":%lld,\"orderId\":%lld,\"itemId\":%lld,\"content\":\"x\",\"star\":5}",
	         (long long)s.u.id + 1, RV_NO_SUCH_ID, (long long)s.item);
	post_json("POST", s.u.access, body, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	snprintf(body, sizeof(body),
	         "{\"userId\":%lld,\"orderId\":%lld,\"itemId\":%lld,\"content\":\"x\",\"star\":5}",
	         (long long)s.u.id + 1, (long long)s.order, (long long)s.item);
	post_json("POST", s.u.access, body, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");

	/* an ADMIN writing with another user's id: a write, so 403 too */
	it_new_admin(&admin);
	snprintf(body, sizeof(body),
	         "{\"userId\":%lld,\"orderId\":%lld,\"itemId\":%lld,\"content\":\"x\",\"star\":5}",
	         (long long)s.u.id, (long long)s.order, (long long)s.item);
	post_json("POST", admin.access, body, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM reviews WHERE order_id = ?",
	                            (struct db_param[]){DB_I64(s.order)}, 1),
	                 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(create_unknown_order_then_unknown_item_is_404)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	struct it_user other;
	int64_t other_order;

	scene_new(&s);
	rv_post(s.u.access, RV_NO_SUCH_ID, s.item, "x", 5, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	/* both unknown: the order is checked first */
	rv_post(s.u.access, RV_NO_SUCH_ID, RV_NO_SUCH_ID, "x", 5, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	rv_post(s.u.access, 0, s.item, "x", 5, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	rv_post(s.u.access, -3, s.item, "x", 5, &r);
	it_assert_error(&r, 404, "ORDER_NOT_FOUND");
	rv_post(s.u.access, s.order, RV_NO_SUCH_ID, "x", 5, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	rv_post(s.u.access, s.order, 0, "x", 5, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");

	/* existence before ownership: another user's order with an unknown item is 404 */
	it_user_fill(&other);
	it_signup(&other);
	other_order = rv_bought(other.id, s.item);
	rv_post(s.u.access, other_order, RV_NO_SUCH_ID, "x", 5, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(create_not_allowed_cases_are_403_review_not_allowed)
{
	static const char *const statuses[] = {"REQUEST", "CANCELED", "PARTIAL_REFUND", "REFUND",
	                                       NULL};
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	struct it_user other;
	int64_t other_item, order;

	scene_new(&s);
	/* another user's COMPLETE order of the item */
	it_user_fill(&other);
	it_signup(&other);
	order = rv_bought(other.id, s.item);
	rv_post(s.u.access, order, s.item, "x", 5, &r);
	it_assert_error(&r, 403, "REVIEW_NOT_ALLOWED");

	/* own orders that are not COMPLETE */
	for (size_t i = 0; statuses[i]; i++) {
		order = rv_order_new(s.u.id, statuses[i], (int64_t[]){s.item}, 1);
		rv_post(s.u.access, order, s.item, "x", 5, &r);
		if (r.status != 403)
			ck_abort_msg("%s order: expected 403, got %ld %s", statuses[i], r.status,
			             r.body);
		it_assert_error(&r, 403, "REVIEW_NOT_ALLOWED");
	}

	/* own COMPLETE order without the item (the item exists) */
	other_item = rv_item_new(NULL, 0);
	rv_post(s.u.access, s.order, other_item, "x", 5, &r);
	it_assert_error(&r, 403, "REVIEW_NOT_ALLOWED");

	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM reviews WHERE user_id = ?",
	                            (struct db_param[]){DB_I64(s.u.id)}, 1),
	                 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(second_active_review_is_409_and_allowed_again_after_delete)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	int64_t id, order2, again;

	scene_new(&s);
	id = rv_create(s.u.access, s.order, s.item, "first", 5);
	rv_post(s.u.access, s.order, s.item, "second", 3, &r);
	it_assert_error(&r, 409, "DUPLICATED_REVIEW");

	/* another order of the same item is a different (user, order, item) */
	order2 = rv_bought(s.u.id, s.item);
	rv_create(s.u.access, order2, s.item, "other order", 4);

	rv_delete(s.u.access, id, &r);
	it_assert_status(&r, 204);
	again = rv_create(s.u.access, s.order, s.item, "after delete", 2);
	ck_assert_int_ne(again, id);
	rv_post(s.u.access, s.order, s.item, "third", 1, &r);
	it_assert_error(&r, 409, "DUPLICATED_REVIEW");
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM reviews WHERE order_id = ?"
	                            " AND status = 'INACTIVE'",
	                            (struct db_param[]){DB_I64(s.order)}, 1),
	                 1);
	it_resp_free(&r);
}
END_TEST

/* ---- PATCH ----------------------------------------------------------------------------------- */

START_TEST(update_replaces_content_and_star_and_refreshes_display_name)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	char path[64], body[256], created[40], newname[40];
	int64_t id;
	cJSON *data;

	scene_new(&s);
	id = rv_create(s.u.access, s.order, s.item, "before", 2);
	/* move the timestamps into the past, so a refreshed updatedAt shows */
	it_sql_exec(
	    "UPDATE reviews SET created_at = FROM_UNIXTIME(?), updated_at = FROM_UNIXTIME(?)"
	    " WHERE review_id = ?",
	    ((struct db_param[]){DB_I64(T2026), DB_I64(T2026), DB_I64(id)}), 3);
	it_unique_name(newname, sizeof(newname), "rvnick");
	it_user_path(path, sizeof(path), s.u.id);
	snprintf(body, sizeof(body), "{\"displayName\":\"%s\"}", newname);
	it_req("PATCH", path, s.u.access, body, NULL, &r);
	it_assert_status(&r, 200);

	/* itemId is ignored, userId may be the writer's own */
	snprintf(body, sizeof(body),
	         "{\"reviewId\":%lld,\"content\":\"after\",\"star\":5.0,\"userId\":%lld,"
	         "\"itemId\":%lld}",
	         (long long)id, (long long)s.u.id, RV_NO_SUCH_ID);
	post_json("PATCH", s.u.access, body, &r);
	it_assert_status(&r, 200);
	ck_assert_int_eq(assert_detail(&r, s.u.id, newname, "after", 5), id);
	data = cJSON_GetObjectItemCaseSensitive(r.json, "data");
	ts_text(T2026, created, sizeof(created));
	ck_assert_str_eq(it_json_str(data, "createdAt"), created);
	it_assert_ts_recent("updatedAt", cJSON_GetObjectItemCaseSensitive(data, "updatedAt"), 300);

	/* the GET shows the same */
	get_review(id, NULL, &r);
	it_assert_status(&r, 200);
	assert_row(it_assert_wrapper(&r), &(struct row){id, s.item, s.u.id, "after", newname, 5});
	it_resp_free(&r);
}
END_TEST

START_TEST(update_field_rules)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	post_json("PATCH", u.access, "{}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 3);
	it_assert_field_error(&r, 0, "reviewId", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "content", "", IT_R_BLANK);
	it_assert_field_error(&r, 2, "star", "", IT_R_REQUIRED);

	post_json(
	    "PATCH", u.access,
	    "{\"userId\":\"me\",\"star\":4.5,\"content\":[],\"reviewId\":\"7\",\"itemId\":\"x\"}",
	    &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 4);
	it_assert_field_error(&r, 0, "reviewId", "7", IT_R_TYPE);
	it_assert_field_error(&r, 1, "content", "[]", IT_R_TYPE);
	it_assert_field_error(&r, 2, "star", "4.5", IT_R_TYPE);
	it_assert_field_error(&r, 3, "userId", "me", IT_R_TYPE);

	post_json("PATCH", u.access, "{\"reviewId\":1,\"content\":\" \",\"star\":9}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "content", " ", IT_R_BLANK);
	it_assert_field_error(&r, 1, "star", "9", RV_R_MAX5);
	it_resp_free(&r);
}
END_TEST

START_TEST(update_errors_in_check_order)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	struct it_user other, admin;
	char body[256];
	int64_t id;

	scene_new(&s);
	it_new_user(&other);
	it_new_admin(&admin);
	id = rv_create(s.u.access, s.order, s.item, "mine", 3);

	/* userId not the token's user: 403, even for an unknown review */
	snprintf(body, sizeof(body),
	         "{\"reviewId\":%lld,\"content\":\"x\",\"star\":1,\"userId\":%lld}", RV_NO_SUCH_ID,
	         (long long)s.u.id);
	post_json("PATCH", other.access, body, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");

	/* unknown review: 404, for anyone */
	rv_patch(other.access, RV_NO_SUCH_ID, "x", 1, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	rv_patch(s.u.access, 0, "x", 1, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");

	/* not the writer: 403; an ADMIN cannot edit either */
	rv_patch(other.access, id, "x", 1, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	rv_patch(admin.access, id, "x", 1, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	get_review(id, NULL, &r);
	it_assert_status(&r, 200);
	assert_row(it_assert_wrapper(&r),
	           &(struct row){id, s.item, s.u.id, "mine", s.u.display_name, 3});

	/* a deleted review is not found, even by its writer */
	rv_delete(s.u.access, id, &r);
	it_assert_status(&r, 204);
	rv_patch(s.u.access, id, "x", 1, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	ck_assert_int_eq(it_sql_i64("SELECT star FROM reviews WHERE review_id = ?",
	                            (struct db_param[]){DB_I64(id)}, 1),
	                 3);
	it_resp_free(&r);
}
END_TEST

/* ---- DELETE ---------------------------------------------------------------------------------- */

START_TEST(delete_is_soft_and_the_review_disappears_everywhere)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	char path[96], *state;
	int64_t id, keep;

	scene_new(&s);
	id = rv_create(s.u.access, s.order, s.item, "bye", 1);
	keep = rv_create(s.u.access, rv_bought(s.u.id, s.item), s.item, "stay", 4);

	post_json("DELETE", s.u.access, "{\"reviewId\":0}", &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	rv_delete(s.u.access, id, &r);
	it_assert_status(&r, 204);
	ck_assert_uint_eq(r.body_len, 0);

	state = it_sql_str("SELECT CONCAT(status, '|', deleted_at IS NOT NULL) FROM reviews"
	                   " WHERE review_id = ?",
	                   (struct db_param[]){DB_I64(id)}, 1);
	ck_assert_str_eq(state, "INACTIVE|1");
	free(state);

	get_review(id, NULL, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	snprintf(path, sizeof(path), "/api/reviews/items/%lld", (long long)s.item);
	it_get(path, NULL, &r);
	cJSON *data = assert_page(&r, 1, 8, 1);
	ck_assert_int_eq(cJSON_GetArraySize(data), 1);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(data, 0), "reviewId"), keep);
	snprintf(path, sizeof(path), "/api/reviews/users/%lld", (long long)s.u.id);
	it_get(path, NULL, &r);
	data = assert_page(&r, 1, 8, 1);
	ck_assert_int_eq(it_json_int(cJSON_GetArrayItem(data, 0), "reviewId"), keep);

	/* already deleted */
	rv_delete(s.u.access, id, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(delete_by_admin_yes_by_another_user_no)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	struct it_user other, admin;
	char body[128];
	int64_t id;

	scene_new(&s);
	it_new_user(&other);
	it_new_admin(&admin);
	id = rv_create(s.u.access, s.order, s.item, "x", 5);

	rv_delete(other.access, id, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	rv_delete(other.access, RV_NO_SUCH_ID, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	/* userId, when sent, must be the token's user (a write: ADMIN too) */
	snprintf(body, sizeof(body), "{\"reviewId\":%lld,\"userId\":%lld}", (long long)id,
	         (long long)s.u.id);
	post_json("DELETE", admin.access, body, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	get_review(id, NULL, &r);
	it_assert_status(&r, 200);

	/* itemId is ignored */
	snprintf(body, sizeof(body), "{\"reviewId\":%lld,\"itemId\":%lld,\"userId\":%lld}",
	         (long long)id, RV_NO_SUCH_ID, (long long)admin.id);
	post_json("DELETE", admin.access, body, &r);
	it_assert_status(&r, 204);
	get_review(id, NULL, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(delete_field_rules)
{
	static const char *const json_type[] = {"Content-Type: application/json", NULL};
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;

	it_new_user(&u);
	post_json("DELETE", u.access, "{}", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "reviewId", "", IT_R_REQUIRED);
	post_json("DELETE", u.access, "{\"reviewId\":1.5,\"userId\":\"x\"}", &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "reviewId", "1.5", IT_R_TYPE);
	it_assert_field_error(&r, 1, "userId", "x", IT_R_TYPE);
	/* no body at all */
	it_req("DELETE", "/api/reviews", u.access, NULL, json_type, &r);
	it_assert_error(&r, 400, "MALFORMED_REQUEST");
	it_resp_free(&r);
}
END_TEST

/* ---- GET one --------------------------------------------------------------------------------- */

START_TEST(get_one_is_public_and_answers_the_review_row)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	int64_t id;

	scene_new(&s);
	id = rv_create(s.u.access, s.order, s.item, "공개 리뷰", 3);
	get_review(id, NULL, &r);
	it_assert_status(&r, 200);
	assert_row(it_assert_wrapper(&r),
	           &(struct row){id, s.item, s.u.id, "공개 리뷰", s.u.display_name, 3});
	assert_star_text(&r, 3);
	/* a bad token is ignored on a public route */
	get_review(id, "not-a-token", &r);
	it_assert_status(&r, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(get_one_errors)
{
	static const char *const bad[] = {"abc", "1.5", "12abc", "0x10", NULL};
	struct it_resp r = IT_RESP_INIT;
	char path[64];

	for (size_t i = 0; bad[i]; i++) {
		snprintf(path, sizeof(path), "/api/reviews/%s", bad[i]);
		it_get(path, NULL, &r);
		it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
		it_assert_field_count(&r, 1);
		it_assert_field_error(&r, 0, "reviewId", bad[i], IT_R_TYPE);
	}
	get_review(RV_NO_SUCH_ID, NULL, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	get_review(0, NULL, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	it_get("/api/reviews/-4", NULL, &r);
	it_assert_error(&r, 404, "REVIEW_NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

/* ---- pages ----------------------------------------------------------------------------------- */

struct sortrow {
	int64_t id;
	int star;
	int64_t created;
};

static int cmp_newest(const void *a, const void *b)
{
	const struct sortrow *x = a, *y = b;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return x->id > y->id ? -1 : 1;
}

static int cmp_oldest(const void *a, const void *b)
{
	return -cmp_newest(a, b);
}

static int cmp_star_h(const void *a, const void *b)
{
	const struct sortrow *x = a, *y = b;
	if (x->star != y->star)
		return x->star > y->star ? -1 : 1;
	return x->id > y->id ? -1 : 1;
}

static int cmp_star_l(const void *a, const void *b)
{
	const struct sortrow *x = a, *y = b;
	if (x->star != y->star)
		return x->star < y->star ? -1 : 1;
	return x->id > y->id ? -1 : 1;
}

/* Reads every page (size 8) of path?sort=sort and compares the ids with want[0..n). */
static void assert_sorted(const char *base, const char *sort, const struct sortrow *want, size_t n)
{
	struct it_resp r = IT_RESP_INIT;
	char path[160];
	size_t seen = 0;
	int64_t pages = ((int64_t)n + 7) / 8;

	for (int64_t page = 1; page <= pages; page++) {
		if (sort)
			snprintf(path, sizeof(path), "%s?sort=%s&page=%lld", base, sort,
			         (long long)page);
		else
			snprintf(path, sizeof(path), "%s?page=%lld", base, (long long)page);
		it_get(path, NULL, &r);
		cJSON *data = assert_page(&r, page, 8, (int64_t)n);
		int count = cJSON_GetArraySize(data);
		ck_assert_int_eq(count, page < pages ? 8 : (int)(n - (size_t)(pages - 1) * 8));
		for (int i = 0; i < count; i++, seen++) {
			int64_t id = it_json_int(cJSON_GetArrayItem(data, i), "reviewId");
			if (id != want[seen].id)
				ck_abort_msg(
				    "%s sort %s: position %zu is review %lld, expected %lld", base,
				    sort ? sort : "(default)", seen, (long long)id,
				    (long long)want[seen].id);
		}
	}
	ck_assert_uint_eq(seen, n);
	it_resp_free(&r);
}

START_TEST(item_pages_follow_the_four_sorts_with_their_tie_breakers)
{
	/* stars and creation offsets chosen so that every sort meets ties */
	static const int stars[10] = {3, 5, 3, 1, 5, 3, 2, 5, 1, 4};
	static const int offsets[10] = {10, 20, 20, 5, 30, 20, 5, 40, 30, 1};
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b;
	struct sortrow rows[10], sorted[10];
	int64_t item, gone;
	char base[96];

	it_new_user(&a);
	it_new_user(&b);
	item = rv_item_new(NULL, 0);
	for (int i = 0; i < 10; i++) {
		struct it_user *w = i % 3 == 0 ? &b : &a;
		rows[i].id = rv_create(w->access, rv_bought(w->id, item), item, "sorted", stars[i]);
		rows[i].star = stars[i];
		rows[i].created = T2026 + offsets[i];
		it_sql_exec("UPDATE reviews SET created_at = FROM_UNIXTIME(?) WHERE review_id = ?",
		            ((struct db_param[]){DB_I64(rows[i].created), DB_I64(rows[i].id)}), 2);
	}
	/* a deleted review never shows */
	gone = rv_create(a.access, rv_bought(a.id, item), item, "gone", 5);
	rv_delete(a.access, gone, &r);
	it_assert_status(&r, 204);

	snprintf(base, sizeof(base), "/api/reviews/items/%lld", (long long)item);
	memcpy(sorted, rows, sizeof(rows));
	qsort(sorted, 10, sizeof(sorted[0]), cmp_newest);
	assert_sorted(base, NULL, sorted, 10);
	assert_sorted(base, "NEWEST", sorted, 10);
	qsort(sorted, 10, sizeof(sorted[0]), cmp_oldest);
	assert_sorted(base, "OLDEST", sorted, 10);
	qsort(sorted, 10, sizeof(sorted[0]), cmp_star_h);
	assert_sorted(base, "STAR_H", sorted, 10);
	qsort(sorted, 10, sizeof(sorted[0]), cmp_star_l);
	assert_sorted(base, "STAR_L", sorted, 10);

	/* the rows themselves */
	snprintf(base, sizeof(base), "/api/reviews/items/%lld?sort=OLDEST&size=100",
	         (long long)item);
	it_get(base, NULL, &r);
	cJSON *data = assert_page(&r, 1, 100, 10);
	qsort(sorted, 10, sizeof(sorted[0]), cmp_oldest);
	for (int i = 0; i < 10; i++) {
		const cJSON *el = cJSON_GetArrayItem(data, i);
		int k = 0;
		char ts[40];
		while (rows[k].id != sorted[i].id)
			k++;
		struct it_user *w = k % 3 == 0 ? &b : &a;
		assert_row(el, &(struct row){rows[k].id, item, w->id, "sorted", w->display_name,
		                             rows[k].star});
		ts_text(rows[k].created, ts, sizeof(ts));
		ck_assert_str_eq(it_json_str(el, "createdAt"), ts);
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(user_pages_list_the_users_active_reviews_over_items)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u, other;
	struct sortrow rows[3];
	int64_t items[3], order, gone;
	char base[96];

	it_new_user(&u);
	it_new_user(&other);
	for (int i = 0; i < 3; i++)
		items[i] = rv_item_new(NULL, 0);
	order = rv_order_new(u.id, "COMPLETE", items, 3);
	for (int i = 0; i < 3; i++) {
		rows[i].id = rv_create(u.access, order, items[i], "by user", 5 - i);
		rows[i].star = 5 - i;
		rows[i].created = T2026 + 100 - i; /* older as i grows: ids and times disagree */
		it_sql_exec("UPDATE reviews SET created_at = FROM_UNIXTIME(?) WHERE review_id = ?",
		            ((struct db_param[]){DB_I64(rows[i].created), DB_I64(rows[i].id)}), 2);
	}
	/* somebody else's review of the same item, and a deleted one of the user */
	rv_create(other.access, rv_bought(other.id, items[0]), items[0], "other", 1);
	gone = rv_create(u.access, rv_bought(u.id, items[1]), items[1], "gone", 3);
	rv_delete(u.access, gone, &r);

	snprintf(base, sizeof(base), "/api/reviews/users/%lld", (long long)u.id);
	qsort(rows, 3, sizeof(rows[0]), cmp_newest);
	assert_sorted(base, NULL, rows, 3);
	qsort(rows, 3, sizeof(rows[0]), cmp_oldest);
	assert_sorted(base, "OLDEST", rows, 3);
	qsort(rows, 3, sizeof(rows[0]), cmp_star_h);
	assert_sorted(base, "STAR_H", rows, 3);
	qsort(rows, 3, sizeof(rows[0]), cmp_star_l);
	assert_sorted(base, "STAR_L", rows, 3);

	it_get(base, NULL, &r);
	cJSON *data = assert_page(&r, 1, 8, 3);
	assert_row(cJSON_GetArrayItem(data, 0),
	           &(struct row){rows[2].id, items[0], u.id, "by user", u.display_name, 5});
	it_resp_free(&r);
}
END_TEST

START_TEST(paging_clamps_and_empty_pages)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	char path[160];
	cJSON *data;

	scene_new(&s);
	/* no review: the empty page */
	snprintf(path, sizeof(path), "/api/reviews/items/%lld", (long long)s.item);
	it_get(path, NULL, &r);
	data = assert_page(&r, 1, 8, 0);
	ck_assert_int_eq(cJSON_GetArraySize(data), 0);
	snprintf(path, sizeof(path), "/api/reviews/users/%lld", (long long)s.u.id);
	it_get(path, NULL, &r);
	data = assert_page(&r, 1, 8, 0);
	ck_assert_int_eq(cJSON_GetArraySize(data), 0);

	rv_create(s.u.access, s.order, s.item, "one", 4);
	snprintf(path, sizeof(path), "/api/reviews/items/%lld?page=0&size=1", (long long)s.item);
	it_get(path, NULL, &r);
	data = assert_page(&r, 1, 8, 1);
	ck_assert_int_eq(cJSON_GetArraySize(data), 1);
	snprintf(path, sizeof(path), "/api/reviews/items/%lld?page=-3&size=1000",
	         (long long)s.item);
	it_get(path, NULL, &r);
	assert_page(&r, 1, 100, 1);
	snprintf(path, sizeof(path), "/api/reviews/items/%lld?page=2000000&size=9",
	         (long long)s.item);
	it_get(path, NULL, &r);
	data = assert_page(&r, 1000000, 9, 1);
	ck_assert_int_eq(cJSON_GetArraySize(data), 0);
	/* past the end: empty data, true totals */
	snprintf(path, sizeof(path), "/api/reviews/users/%lld?page=2", (long long)s.u.id);
	it_get(path, NULL, &r);
	data = assert_page(&r, 2, 8, 1);
	ck_assert_int_eq(cJSON_GetArraySize(data), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(page_errors)
{
	struct it_resp r = IT_RESP_INIT;
	struct scene s;
	char path[160];

	scene_new(&s);
	it_get("/api/reviews/items/999999999999", NULL, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	it_get("/api/reviews/items/0", NULL, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	it_get("/api/reviews/users/999999999999", NULL, &r);
	it_assert_error(&r, 404, "USER_NOT_FOUND");
	it_get("/api/reviews/users/-1", NULL, &r);
	it_assert_error(&r, 404, "USER_NOT_FOUND");

	/* every bad parameter at once: the path id first, then page, size, sort */
	it_get("/api/reviews/items/x1?page=a&size=1.5&sort=newest", NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 4);
	it_assert_field_error(&r, 0, "itemId", "x1", IT_R_TYPE);
	it_assert_field_error(&r, 1, "page", "a", IT_R_TYPE);
	it_assert_field_error(&r, 2, "size", "1.5", IT_R_TYPE);
	it_assert_field_error(&r, 3, "sort", "newest", IT_R_TYPE);
	it_get("/api/reviews/users/abc", NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "userId", "abc", IT_R_TYPE);
	/* 400 before 404 */
	it_get("/api/reviews/users/999999999999?sort=SALES", NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "sort", "SALES", IT_R_TYPE);
	snprintf(path, sizeof(path), "/api/reviews/items/%lld?sort=STAR_X", (long long)s.item);
	it_get(path, NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "sort", "STAR_X", IT_R_TYPE);
	it_resp_free(&r);
}
END_TEST

Suite *reviews_suite(void)
{
	Suite *s = suite_create("reviews");
	TCase *tc;

	tc = tcase_create("create");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, create_answers_the_review_detail);
	tcase_add_test(tc, create_accepts_star_written_5_0_and_own_user_id);
	tcase_add_test(tc, create_accepts_2000_characters_and_each_star);
	tcase_add_test(tc, renewal_orders_count);
	tcase_add_test(tc, create_empty_body_reports_every_required_field_in_table_order);
	tcase_add_test(tc, create_wrong_types_are_invalid_parameter_type_in_table_order);
	tcase_add_test(tc, create_star_and_content_rules);
	tcase_add_test(tc, create_needs_a_token);
	tcase_add_test(tc, create_user_id_must_be_the_token_user);
	tcase_add_test(tc, create_unknown_order_then_unknown_item_is_404);
	tcase_add_test(tc, create_not_allowed_cases_are_403_review_not_allowed);
	tcase_add_test(tc, second_active_review_is_409_and_allowed_again_after_delete);
	suite_add_tcase(s, tc);

	tc = tcase_create("update");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, update_replaces_content_and_star_and_refreshes_display_name);
	tcase_add_test(tc, update_field_rules);
	tcase_add_test(tc, update_errors_in_check_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("delete");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, delete_is_soft_and_the_review_disappears_everywhere);
	tcase_add_test(tc, delete_by_admin_yes_by_another_user_no);
	tcase_add_test(tc, delete_field_rules);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, get_one_is_public_and_answers_the_review_row);
	tcase_add_test(tc, get_one_errors);
	tcase_add_test(tc, item_pages_follow_the_four_sorts_with_their_tie_breakers);
	tcase_add_test(tc, user_pages_list_the_users_active_reviews_over_items);
	tcase_add_test(tc, paging_clamps_and_empty_pages);
	tcase_add_test(tc, page_errors);
	suite_add_tcase(s, tc);
	return s;
}
