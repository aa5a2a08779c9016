/* h_reviews: reviews (API.md §2.8, §9): write, edit and soft-delete a review of a bought item,
 * read one review and the pages of an item's or a user's reviews. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "api/auth.h"
#include "api/cache.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/paging.h"
#include "api/worker.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "core/review.h"
#include "core/rules.h"
#include "core/store_review.h"
#include "common/banned.h"

/* ---- shapes ----------------------------------------------------------------------------- */

/* star is an integer shown as a fraction: 5 -> 5.0 */
static int add_star(cJSON *o, int star)
{
	return json_add_fraction(o, "star", star, 0);
}

/* The review detail of POST and PATCH: exactly 7 keys. NULL when out of memory. */
static cJSON *review_detail_json(const struct review *rv)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || json_add_int(o, "reviewId", rv->review_id) ||
	    json_add_string_or_null(o, "displayName", rv->display_name) ||
	    json_add_int(o, "userId", rv->user_id) ||
	    json_add_string_or_null(o, "content", rv->content) || add_star(o, rv->star) ||
	    json_add_ts(o, "createdAt", rv->created_at) ||
	    json_add_ts(o, "updatedAt", rv->updated_at)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The review row of every GET: exactly 9 keys. NULL when out of memory. */
static cJSON *review_row_json(const struct review *rv)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || json_add_int(o, "reviewId", rv->review_id) ||
	    json_add_int(o, "itemId", rv->item_id) || json_add_int(o, "userId", rv->user_id) ||
	    json_add_string_or_null(o, "content", rv->content) ||
	    json_add_string_or_null(o, "displayName", rv->display_name) || add_star(o, rv->star) ||
	    json_add_ts(o, "createdAt", rv->created_at) ||
	    json_add_ts(o, "updatedAt", rv->updated_at) ||
	    !cJSON_AddStringToObject(o, "reviewStatus", "ACTIVE")) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- body fields (§9) ------------------------------------------------------------------- */

/* An int64 field; a missing required one is "필수 값입니다". *present tells whether it was read. */
static void read_id(const struct req *r, const char *key, bool required, struct field_errors *fe,
                    int64_t *out, bool *present)
{
	int rc = json_get_int64(r->json, key, fe, out);

	*present = rc == JSON_PRESENT;
	if (rc == JSON_ABSENT && required)
		field_errors_add(fe, E_VALIDATION_FAILED, key, "", REASON_REQUIRED);
}

static void read_content(const struct req *r, struct field_errors *fe, const char **out)
{
	const char *v = NULL;
	const char *reason;
	int rc = json_get_string(r->json, "content", fe, &v);

	*out = NULL;
	if (rc < 0)
		return;
	reason = review_rule_content(rc == JSON_PRESENT ? v : NULL);
	if (reason) {
		field_errors_add(fe, E_VALIDATION_FAILED, "content", rc == JSON_PRESENT ? v : "",
		                 reason);
		return;
	}
	*out = v;
}

/* star: required, an integral JSON number (5 or 5.0), 1..5. */
static void read_star(const struct req *r, struct field_errors *fe, int *out)
{
	int32_t v = 0;
	const char *reason;
	char text[16];
	int rc = json_get_int(r->json, "star", fe, &v);

	if (rc < 0)
		return;
	if (rc == JSON_ABSENT) {
		field_errors_add(fe, E_VALIDATION_FAILED, "star", "", REASON_REQUIRED);
		return;
	}
	reason = review_rule_star(v);
	if (reason) {
		snprintf(text, sizeof(text), "%d", (int)v);
		field_errors_add(fe, E_VALIDATION_FAILED, "star", text, reason);
		return;
	}
	*out = (int)v;
}

/* §1.6: a userId in the body must be the token's user (this is a write: ADMIN too). */
static bool user_id_mismatch(const struct req *r, bool present, int64_t user_id)
{
	return present && !auth_owns(r, user_id, false);
}

/* ---- POST /api/reviews ------------------------------------------------------------------ */

int h_review_create(struct req *r)
{
	struct field_errors fe = {0};
	struct review rv = {0};
	int64_t user_id = 0, order_id = 0, item_id = 0;
	bool has_user = false, has_order = false, has_item = false;
	const char *content = NULL;
	int star = 0, rc;
	cJSON *data;

	/* field table order: userId, orderId, itemId, content, star (displayName is ignored) */
	read_id(r, "userId", false, &fe, &user_id, &has_user);
	read_id(r, "orderId", true, &fe, &order_id, &has_order);
	read_id(r, "itemId", true, &fe, &item_id, &has_item);
	read_content(r, &fe, &content);
	read_star(r, &fe, &star);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	if (user_id_mismatch(r, has_user, user_id))
		return http_send_error(r, -E_ACCESS_DENIED_USER, NULL);

	rc = store_review_create(r->w->db, r->auth.uid, order_id, item_id, content, star,
	                         (int64_t)clock_now(), &rv);
	if (rc)
		return http_send_error(r, rc, NULL);
	cache_main_invalidate(r->w->redis); /* the main page shows reviewSize and starAvg */
	log_info("review created", "review:i", (long long)rv.review_id, "item:i",
	         (long long)rv.item_id, "user:i", (long long)rv.user_id);
	data = review_detail_json(&rv);
	review_release(&rv);
	if (!data)
		return http_send_error(r, -E_NOMEM, NULL);
	return http_send_data(r, 201, data);
}

/* ---- PATCH /api/reviews ----------------------------------------------------------------- */

int h_review_update(struct req *r)
{
	struct field_errors fe = {0};
	struct review rv = {0};
	int64_t review_id = 0, user_id = 0;
	bool has_review = false, has_user = false;
	const char *content = NULL;
	int star = 0, rc;
	cJSON *data;

	/* reviewId, content, star, userId; itemId is ignored */
	read_id(r, "reviewId", true, &fe, &review_id, &has_review);
	read_content(r, &fe, &content);
	read_star(r, &fe, &star);
	read_id(r, "userId", false, &fe, &user_id, &has_user);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	if (user_id_mismatch(r, has_user, user_id))
		return http_send_error(r, -E_ACCESS_DENIED_USER, NULL);

	/* only the writer edits: ADMIN cannot */
	rc = store_review_update(r->w->db, review_id, r->auth.uid, content, star,
	                         (int64_t)clock_now(), &rv);
	if (rc)
		return http_send_error(r, rc, NULL);
	cache_main_invalidate(r->w->redis);
	data = review_detail_json(&rv);
	review_release(&rv);
	if (!data)
		return http_send_error(r, -E_NOMEM, NULL);
	return http_send_data(r, 200, data);
}

/* ---- DELETE /api/reviews ---------------------------------------------------------------- */

int h_review_delete(struct req *r)
{
	struct field_errors fe = {0};
	int64_t review_id = 0, user_id = 0;
	bool has_review = false, has_user = false;
	int rc;

	/* reviewId, itemId (ignored), userId */
	read_id(r, "reviewId", true, &fe, &review_id, &has_review);
	read_id(r, "userId", false, &fe, &user_id, &has_user);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	if (user_id_mismatch(r, has_user, user_id))
		return http_send_error(r, -E_ACCESS_DENIED_USER, NULL);

	rc = store_review_delete(r->w->db, review_id, r->auth.uid, r->auth.admin,
	                         (int64_t)clock_now());
	if (rc)
		return http_send_error(r, rc, NULL);
	cache_main_invalidate(r->w->redis);
	log_info("review deleted", "review:i", (long long)review_id, "by:i",
	         (long long)r->auth.uid);
	return http_send_empty(r, 204);
}

/* ---- GET endpoints (§9.4) --------------------------------------------------------------- */

int h_review_get(struct req *r)
{
	struct field_errors fe = {0};
	struct review rv = {0};
	int64_t id = 0;
	cJSON *data;
	int rc = req_path_id(r, 0, "reviewId", &fe, &id);

	if (rc < 0)
		return http_send_field_errors(r, &fe);
	rc = rc == 1 ? -E_REVIEW_NOT_FOUND : store_review_get(r->w->db, id, &rv);
	if (rc)
		return http_send_error(r, rc, NULL);
	data = review_row_json(&rv);
	review_release(&rv);
	if (!data)
		return http_send_error(r, -E_NOMEM, NULL);
	return http_send_data(r, 200, data);
}

typedef int (*review_lister)(struct db *db, int64_t id, enum review_order order, int64_t limit,
                             int64_t offset, struct review_page *out);

static enum review_order review_order_of(int sort)
{
	switch (sort) {
	case SORT_OLDEST:
		return REVIEW_OLDEST;
	case SORT_STAR_H:
		return REVIEW_STAR_H;
	case SORT_STAR_L:
		return REVIEW_STAR_L;
	default:
		return REVIEW_NEWEST;
	}
}

/* A page of ACTIVE reviews of the {name} path resource; not_found when it does not exist. */
static int review_page(struct req *r, const char *name, int not_found, review_lister lister)
{
	struct field_errors fe = {0};
	struct review_page pg = {0};
	struct paging pgi;
	int64_t id = 0;
	cJSON *items;
	int path_rc = req_path_id(r, 0, name, &fe, &id);
	int rc = paging_parse(r, PAGING_REVIEWS, &fe, &pgi);

	if (path_rc < 0 || rc < 0 || fe.n)
		return http_send_field_errors(r, &fe);
	if (path_rc == 1)
		return http_send_error(r, not_found, NULL);
	rc = lister(r->w->db, id, review_order_of(pgi.sort), pgi.size, pgi.offset, &pg);
	if (rc)
		return http_send_error(r, rc, NULL);
	items = cJSON_CreateArray();
	for (size_t i = 0; items && i < pg.n; i++) {
		cJSON *row = review_row_json(&pg.items[i]);
		if (!row || !cJSON_AddItemToArray(items, row)) {
			cJSON_Delete(row);
			cJSON_Delete(items);
			items = NULL;
		}
	}
	int64_t total = pg.total;
	review_page_release(&pg);
	if (!items)
		return http_send_error(r, -E_NOMEM, NULL);
	return http_send_page(r, items, pgi.page, pgi.size, total);
}

int h_reviews_by_item(struct req *r)
{
	return review_page(r, "itemId", -E_ITEM_NOT_FOUND, store_review_list_by_item);
}

int h_reviews_by_user(struct req *r)
{
	return review_page(r, "userId", -E_USER_NOT_FOUND, store_review_list_by_user);
}
