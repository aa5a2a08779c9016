/* h_carts: the normal and the subscription cart (API.md §5): read a cart with its totals
 * recomputed from current prices, add, remove and change lines. Owner-level: ADMIN may GET
 * any cart, every write is the owner's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/shapes.h"
#include "api/worker.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/json.h"
#include "core/cart.h"
#include "core/rules.h"
#include "core/store_cart.h"
#include "common/banned.h"

/* ---- reading parameters ----------------------------------------------------------------- */

/* {cartId}: *id > 0, or 0 for a well-formed id that matches nothing; a type error is recorded. */
static void path_cart_id(struct req *r, struct field_errors *fe, int64_t *id)
{
	if (req_path_id(r, 0, "cartId", fe, id) != 0)
		*id = 0;
}

/* Records the range error of an integer field (rejectedValue = the number as read). */
static void check_rule(struct field_errors *fe, const char *name, int64_t v, const char *reason)
{
	char text[24];

	if (!reason)
		return;
	snprintf(text, sizeof(text), "%lld", (long long)v);
	field_errors_add(fe, E_VALIDATION_FAILED, name, text, reason);
}

/* A required int32 query parameter checked by rule; errors go to fe. */
static void query_ruled(struct req *r, const char *name, const char *(*rule)(int64_t),
                        struct field_errors *fe, int32_t *out)
{
	if (req_query_int(r, name, true, fe, out) == JSON_PRESENT)
		check_rule(fe, name, *out, rule(*out));
}

/* A required int32 body field checked by rule ("필수 값입니다" when absent or null). */
static void body_ruled(struct req *r, const char *name, const char *(*rule)(int64_t),
                       struct field_errors *fe, int32_t *out)
{
	int rc = json_get_int(r->json, name, fe, out);

	if (rc == JSON_ABSENT)
		field_errors_add(fe, E_VALIDATION_FAILED, name, "", REASON_REQUIRED);
	else if (rc == JSON_PRESENT)
		check_rule(fe, name, *out, rule(*out));
}

/* ---- the cart JSON (§5.1) --------------------------------------------------------------- */

static cJSON *line_json(const struct cart *c, const struct cart_line *l)
{
	struct item_brief b = {.item_id = l->item_id,
	                       .enterprise = l->enterprise,
	                       .thumbnail = l->thumbnail,
	                       .product = l->product,
	                       .price = l->price};
	cJSON *o = cJSON_CreateObject(), *item = shape_item_brief(&b);

	if (!o || !item)
		goto fail;
	json_add_int(o, "quantity", l->quantity);
	json_add_int(o, "period", c->kind == CART_SUBSCRIPTION ? l->period : 0);
	cJSON_AddBoolToObject(o, "subscription", c->kind == CART_SUBSCRIPTION);
	if (!cJSON_AddItemToObject(o, "item", item))
		goto fail;
	item = NULL;
	json_add_ts(o, "createdAt", l->created_at);
	json_add_ts(o, "updatedAt", l->updated_at);
	return o;
fail:
	cJSON_Delete(item);
	cJSON_Delete(o);
	return NULL;
}

/* The data object of a cart, or NULL when out of memory. */
static cJSON *cart_json(const struct cart *c)
{
	cJSON *o = cJSON_CreateObject(), *lines;
	struct price_totals t;

	if (!o)
		return NULL;
	json_add_int(o, "cartId", c->cart_id);
	lines = cJSON_AddArrayToObject(o, "cartItems");
	if (!lines)
		goto fail;
	for (size_t i = 0; i < c->nlines; i++) {
		cJSON *l = line_json(c, &c->lines[i]);
		if (!l || !cJSON_AddItemToArray(lines, l)) {
			cJSON_Delete(l);
			goto fail;
		}
	}
	cart_totals(c, &t);
	json_add_int(o, "totalItemCount", t.item_count);
	json_add_int(o, "totalPrice", t.total_price);
	json_add_int(o, "totalDiscountPrice", t.total_discount);
	json_add_int(o, "expectPrice", t.expect_price);
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* ---- handlers --------------------------------------------------------------------------- */

static int get_cart(struct req *r, enum cart_kind kind)
{
	struct field_errors fe = {0};
	struct cart c = {0};
	cJSON *data;
	int64_t id = 0;
	int rc;

	path_cart_id(r, &fe, &id);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	rc = store_cart_get(r->w->db, id, kind, &c);
	if (rc)
		return http_send_error(r, rc, NULL);
	if (!auth_owns(r, c.user_id, true)) {
		cart_release(&c);
		return http_send_error(r, -E_ACCESS_DENIED_USER, NULL);
	}
	data = cart_json(&c);
	cart_release(&c);
	if (!data)
		return http_send_error(r, -E_NOMEM, NULL);
	return http_send_data(r, 200, data);
}

/* Answers a write: 201 {"data": itemId} after an add, 204 after anything else. */
static int answer_write(struct req *r, int rc, int64_t item_id, bool added)
{
	char text[24];

	if (rc)
		return http_send_error(r, rc, NULL);
	if (!added)
		return http_send_empty(r, 204);
	snprintf(text, sizeof(text), "%lld", (long long)item_id);
	cJSON *data = cJSON_CreateRaw(text);
	if (!data)
		return http_send_error(r, -E_NOMEM, NULL);
	return http_send_data(r, 201, data);
}

enum line_change { CHANGE_REMOVE, CHANGE_QUANTITY, CHANGE_PERIOD };

/* DELETE ?itemId=, PATCH ?itemId=&quantity= and PATCH .../period?itemId=&period=. */
static int change_line(struct req *r, enum cart_kind kind, enum line_change what)
{
	struct field_errors fe = {0};
	int64_t id = 0, item_id = 0, now = (int64_t)clock_now();
	int32_t v = 0;
	int rc;

	path_cart_id(r, &fe, &id);
	req_query_int64(r, "itemId", true, &fe, &item_id);
	if (what == CHANGE_QUANTITY)
		query_ruled(r, "quantity", cart_rule_quantity, &fe, &v);
	else if (what == CHANGE_PERIOD)
		query_ruled(r, "period", cart_rule_period, &fe, &v);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	switch (what) {
	case CHANGE_REMOVE:
		rc = store_cart_remove(r->w->db, r->auth.uid, kind, id, item_id, now);
		break;
	case CHANGE_QUANTITY:
		rc = store_cart_set_quantity(r->w->db, r->auth.uid, kind, id, item_id, v, now);
		break;
	default:
		rc = store_cart_set_period(r->w->db, r->auth.uid, id, item_id, v, now);
		break;
	}
	return answer_write(r, rc, item_id, false);
}

int h_cart_normal_get(struct req *r)
{
	return get_cart(r, CART_NORMAL);
}

int h_cart_normal_add(struct req *r)
{
	struct field_errors fe = {0};
	int64_t id = 0, item_id = 0;
	int32_t quantity = 0;
	int rc;

	path_cart_id(r, &fe, &id);
	req_query_int64(r, "itemId", true, &fe, &item_id);
	query_ruled(r, "quantity", cart_rule_quantity, &fe, &quantity);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	rc = store_cart_add(r->w->db, r->auth.uid, CART_NORMAL, id, item_id, quantity, 0,
	                    (int64_t)clock_now());
	return answer_write(r, rc, item_id, true);
}

int h_cart_normal_remove(struct req *r)
{
	return change_line(r, CART_NORMAL, CHANGE_REMOVE);
}

int h_cart_normal_quantity(struct req *r)
{
	return change_line(r, CART_NORMAL, CHANGE_QUANTITY);
}

int h_cart_sub_get(struct req *r)
{
	return get_cart(r, CART_SUBSCRIPTION);
}

/* Body (§5.3): itemId (int64, req), quantity (1..999), period (30..365), subscription
 * (boolean, ignored: every line of this cart is a subscription line). */
int h_cart_sub_add(struct req *r)
{
	struct field_errors fe = {0};
	int64_t id = 0, item_id = 0;
	int32_t quantity = 0, period = 0;
	bool ignored;
	int rc;

	path_cart_id(r, &fe, &id);
	if (json_get_int64(r->json, "itemId", &fe, &item_id) == JSON_ABSENT)
		field_errors_add(&fe, E_VALIDATION_FAILED, "itemId", "", REASON_REQUIRED);
	body_ruled(r, "quantity", cart_rule_quantity, &fe, &quantity);
	body_ruled(r, "period", cart_rule_period, &fe, &period);
	json_get_bool(r->json, "subscription", &fe, &ignored);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	rc = store_cart_add(r->w->db, r->auth.uid, CART_SUBSCRIPTION, id, item_id, quantity, period,
	                    (int64_t)clock_now());
	return answer_write(r, rc, item_id, true);
}

int h_cart_sub_remove(struct req *r)
{
	return change_line(r, CART_SUBSCRIPTION, CHANGE_REMOVE);
}

int h_cart_sub_quantity(struct req *r)
{
	return change_line(r, CART_SUBSCRIPTION, CHANGE_QUANTITY);
}

int h_cart_sub_period(struct req *r)
{
	return change_line(r, CART_SUBSCRIPTION, CHANGE_PERIOD);
}
