/* h_orders: orders (API.md §6): placing an order (with Idempotency-Key, §1.7), the order
 * detail, the order history, the subscription list and the subscription quantity. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/idempotency.h"
#include "api/paging.h"
#include "api/shapes.h"
#include "api/worker.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "core/category.h"
#include "core/order.h"
#include "core/rules.h"
#include "core/store_order.h"
#include "common/banned.h"

#define LIST_KEY "orderPostDtoList"

/* ---- reading the body ----------------------------------------------------------------------- */

/* Moves the one error in tmp (if any) to fe under the name `field`. */
static void rename_error(const struct field_errors *tmp, const char *field, struct field_errors *fe)
{
	if (tmp->n)
		field_errors_add(fe, tmp->items[0].code, field, tmp->items[0].rejected,
		                 tmp->items[0].reason);
}

/* json_get_int64 / json_get_bool with the field named `field` in a type error. */
static int get_int64_at(const cJSON *obj, const char *key, const char *field,
                        struct field_errors *fe, int64_t *out)
{
	struct field_errors tmp = {0};
	int rc = json_get_int64(obj, key, &tmp, out);

	rename_error(&tmp, field, fe);
	return rc;
}

static int get_bool_at(const cJSON *obj, const char *key, const char *field,
                       struct field_errors *fe, bool *out)
{
	struct field_errors tmp = {0};
	int rc = json_get_bool(obj, key, &tmp, out);

	rename_error(&tmp, field, fe);
	return rc;
}

/* A value that is not of the expected JSON type (an array element, the list itself). */
static void type_error(struct field_errors *fe, const char *field, const cJSON *v)
{
	char *text = NULL;
	const char *rejected = "";

	if (cJSON_IsString(v))
		rejected = v->valuestring;
	else if ((text = cJSON_PrintUnformatted(v)))
		rejected = text;
	field_errors_add(fe, E_INVALID_PARAMETER_TYPE, field, rejected, REASON_TYPE);
	cJSON_free(text);
}

/* A string field of the field table: type, then its rule. NULL when absent or invalid. */
static const char *read_text(const cJSON *obj, const char *key, const char *(*rule)(const char *),
                             struct field_errors *fe)
{
	const char *v = NULL, *reason;
	int rc = json_get_string(obj, key, fe, &v);

	if (rc < 0)
		return NULL;
	reason = rule(rc == JSON_PRESENT ? v : NULL);
	if (reason) {
		field_errors_add(fe, E_VALIDATION_FAILED, key, rc == JSON_PRESENT ? v : "", reason);
		return NULL;
	}
	return v;
}

static void add_rule_error(struct field_errors *fe, const char *field, bool present, int64_t v,
                           const char *reason)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	field_errors_add(fe, E_VALIDATION_FAILED, field, present ? num : "", reason);
}

/* orderPostDtoList[i]: itemId, quantity, subscription, period, in the field table's order. */
static void read_line(const cJSON *e, size_t i, struct field_errors *fe,
                      struct order_line_input *out)
{
	char f[FIELD_NAME_MAX];
	int64_t item_id = 0;
	int32_t quantity = 0, period = 0;
	bool sub = false;
	const char *reason;
	int rc, rc_sub;

	if (!cJSON_IsObject(e)) {
		snprintf(f, sizeof(f), LIST_KEY "[%zu]", i);
		type_error(fe, f, e);
		return;
	}
	snprintf(f, sizeof(f), LIST_KEY "[%zu].itemId", i);
	rc = get_int64_at(e, "itemId", f, fe, &item_id);
	if (rc == JSON_ABSENT)
		field_errors_add(fe, E_VALIDATION_FAILED, f, "", REASON_REQUIRED);

	snprintf(f, sizeof(f), LIST_KEY "[%zu].quantity", i);
	rc = json_get_int_at(e, "quantity", f, fe, &quantity);
	if (rc >= 0 && (reason = order_rule_quantity(rc == JSON_PRESENT, quantity)))
		add_rule_error(fe, f, rc == JSON_PRESENT, quantity, reason);

	snprintf(f, sizeof(f), LIST_KEY "[%zu].subscription", i);
	rc_sub = get_bool_at(e, "subscription", f, fe, &sub);

	/* the period matters only on a subscription line; a one-time line stores 0 */
	snprintf(f, sizeof(f), LIST_KEY "[%zu].period", i);
	rc = json_get_int_at(e, "period", f, fe, &period);
	if (rc >= 0 && rc_sub == JSON_PRESENT && sub &&
	    (reason = order_rule_period(rc == JSON_PRESENT, period)))
		add_rule_error(fe, f, rc == JSON_PRESENT, period, reason);

	out->item_id = item_id;
	out->quantity = quantity;
	out->subscription = rc_sub == JSON_PRESENT && sub;
	out->period = out->subscription ? period : 0;
}

/* orderPostDtoList: 1..100 objects. *lines (caller frees) gets one entry per element. */
static int read_lines(const cJSON *body, struct field_errors *fe, struct order_line_input **lines,
                      size_t *n)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, LIST_KEY), *e;
	const char *reason;
	size_t count, i = 0;

	*lines = NULL;
	*n = 0;
	if (!list || cJSON_IsNull(list)) {
		field_errors_add(fe, E_VALIDATION_FAILED, LIST_KEY, "", REASON_REQUIRED);
		return 0;
	}
	if (!cJSON_IsArray(list)) {
		type_error(fe, LIST_KEY, list);
		return 0;
	}
	count = (size_t)cJSON_GetArraySize(list);
	reason = order_rule_lines(count);
	if (reason) {
		char *text = count ? cJSON_PrintUnformatted(list) : NULL;
		field_errors_add(fe, E_VALIDATION_FAILED, LIST_KEY, text ? text : "", reason);
		cJSON_free(text);
		return 0;
	}
	*lines = calloc(count, sizeof(**lines));
	if (!*lines)
		return -E_NOMEM;
	cJSON_ArrayForEach(e, list)
	{
		read_line(e, i, fe, &(*lines)[i]);
		i++;
	}
	*n = count;
	return 0;
}

/* ---- shapes --------------------------------------------------------------------------------- */

static struct item_brief line_brief(const struct order_line *l)
{
	struct item_brief b = {.item_id = l->item_id,
	                       .enterprise = l->enterprise,
	                       .thumbnail = l->thumbnail,
	                       .product = l->product,
	                       .price = l->price};
	return b;
}

static int add_obj(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return -E_NOMEM;
	cJSON_AddItemToObject(obj, key, item);
	return 0;
}

static int add_bool(cJSON *obj, const char *key, bool v)
{
	return cJSON_AddBoolToObject(obj, key, v) ? 0 : -E_NOMEM;
}

static int add_str(cJSON *obj, const char *key, const char *v)
{
	return cJSON_AddStringToObject(obj, key, v ? v : "") ? 0 : -E_NOMEM;
}

static int add_totals(cJSON *d, const struct order *o)
{
	int bad = 0;

	bad |= json_add_int(d, "orderId", o->order_id);
	bad |= json_add_int(d, "totalItems", o->totals.lines);
	bad |= json_add_int(d, "totalPrice", o->totals.total_price);
	bad |= json_add_int(d, "totalDiscountPrice", o->totals.total_discount);
	bad |= json_add_int(d, "expectPrice", o->totals.expect_price);
	return bad ? -E_NOMEM : 0;
}

static int add_receiver(cJSON *d, const struct order *o)
{
	return add_obj(d, "receiver",
	               shape_receiver(o->real_name, o->phone, o->city, o->detail_address));
}

/* The create shape of §6.1. */
static cJSON *create_json(const struct order *o)
{
	cJSON *d = cJSON_CreateObject(), *arr;
	int bad = 0;

	if (!d)
		return NULL;
	bad |= add_totals(d, o);
	bad |= add_bool(d, "subscription", o->subscription);
	arr = cJSON_AddArrayToObject(d, "itemOrders");
	bad |= !arr;
	for (size_t i = 0; !bad && i < o->nlines; i++) {
		const struct order_line *l = &o->lines[i];
		struct item_brief b = line_brief(l);
		cJSON *e = cJSON_CreateObject();

		if (!e || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			bad = 1;
			break;
		}
		bad |= json_add_int(e, "orderItemId", l->order_item_id);
		bad |= json_add_int(e, "quantity", l->quantity);
		bad |= json_add_int(e, "period", l->period);
		bad |= add_bool(e, "subscription", l->subscription);
		/* the line's nextPaymentDate once paid; a new order is never paid */
		bad |= !cJSON_AddNullToObject(e, "nextPaymentDay");
		bad |= add_obj(e, "item", shape_item_brief(&b));
	}
	bad |= add_str(d, "orderStatus", order_status_name(o->status));
	bad |= json_add_ts(d, "createdAt", o->created_at);
	bad |= json_add_ts(d, "updatedAt", o->updated_at);
	bad |= json_add_int(d, "totalQuantity", o->totals.item_count);
	bad |= add_receiver(d, o);
	if (bad) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

/* The detail shape of §6.2. */
static cJSON *detail_json(const struct order *o)
{
	cJSON *d = cJSON_CreateObject(), *arr;
	int bad = 0;

	if (!d)
		return NULL;
	bad |= add_totals(d, o);
	bad |= add_str(d, "orderStatus", order_status_name(o->status));
	bad |= json_add_ts(d, "createdAt", o->created_at);
	bad |= json_add_ts(d, "updatedAt", o->updated_at);
	bad |= add_receiver(d, o);
	bad |= json_add_int(d, "totalQuantity", o->totals.item_count);
	arr = cJSON_AddArrayToObject(d, "orderItems");
	bad |= !arr;
	for (size_t i = 0; !bad && i < o->nlines; i++) {
		const struct order_line *l = &o->lines[i];
		cJSON *e = cJSON_CreateObject();

		if (!e || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			bad = 1;
			break;
		}
		bad |= json_add_int(e, "orderItemId", l->order_item_id);
		bad |= json_add_int(e, "quantity", l->quantity);
		bad |= json_add_int(e, "itemId", l->item_id);
		bad |= json_add_string_or_null(e, "enterprise", l->enterprise);
		bad |= json_add_string_or_null(e, "product", l->product);
		bad |= json_add_int(e, "originPrice", l->price.origin);
		bad |= json_add_int(e, "realPrice", l->price.real);
		bad |= shape_add_discount_rate(e, l->price.p10);
		bad |= json_add_int(e, "discountPrice", l->price.discount);
		bad |= json_add_int(e, "period", l->period);
		bad |= add_bool(e, "subscription", l->subscription);
		if (l->subscription_id > 0)
			bad |= json_add_int(e, "subscriptionOrderId", l->subscription_id);
		else
			bad |= !cJSON_AddNullToObject(e, "subscriptionOrderId");
	}
	bad |= add_bool(d, "subscription", o->subscription);
	bad |= add_bool(d, "renewal", o->renewal);
	bad |= json_add_int(d, "refundedAmount", o->refunded_amount);
	if (bad) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

/* ---- POST /api/orders ----------------------------------------------------------------------- */

int h_order_create(struct req *r)
{
	struct idem idem = IDEM_INIT;
	struct field_errors fe = {0};
	struct order_line_input *lines = NULL;
	struct order o = {0};
	const char *city, *detail, *name, *phone;
	int64_t user_id = 0;
	bool has_user, ignored = false, at_cart = false;
	size_t nlines = 0;
	cJSON *data;
	int rc;

	if (idem_begin(r, &idem))
		return 0;

	/* the field table of §6.1, in order */
	has_user = json_get_int64(r->json, "userId", &fe, &user_id) == JSON_PRESENT;
	json_get_bool(r->json, "subscription", &fe, &ignored); /* decided by the lines */
	json_get_bool(r->json, "orderedAtCart", &fe, &at_cart);
	city = read_text(r->json, "city", order_rule_city, &fe);
	detail = read_text(r->json, "detailAddress", order_rule_detail_address, &fe);
	name = read_text(r->json, "realName", order_rule_real_name, &fe);
	phone = read_text(r->json, "phoneNumber", order_rule_phone, &fe);
	rc = read_lines(r->json, &fe, &lines, &nlines);
	if (rc) {
		idem_send_error(r, &idem, rc, NULL);
		goto out;
	}
	if (fe.n) {
		rc = -field_errors_code(&fe);
		idem_send_field_errors(r, &idem, &fe);
		goto out;
	}
	/* §1.6: a userId, when given, is the caller's own (ADMIN too: this is a write) */
	if (has_user && user_id != r->auth.uid) {
		rc = -E_ACCESS_DENIED_USER;
		idem_send_error(r, &idem, rc, NULL);
		goto out;
	}

	struct order_input in = {.user_id = r->auth.uid,
	                         .ordered_at_cart = at_cart,
	                         .real_name = name,
	                         .phone = phone,
	                         .city = city,
	                         .detail_address = detail,
	                         .lines = lines,
	                         .nlines = nlines};
	rc = store_order_create(r->w->db, &in, (int64_t)clock_now(), &o);
	if (rc) {
		idem_send_error(r, &idem, rc, NULL);
		goto out;
	}
	log_info("order placed", "order:i", (long long)o.order_id, "lines:i", (long long)o.nlines,
	         "amount:i", (long long)o.totals.expect_price);
	data = create_json(&o);
	if (!data) {
		rc = -E_NOMEM;
		idem_send_error(r, &idem, rc, NULL);
		goto out;
	}
	rc = idem_send_data(r, &idem, 201, data);
out:
	idem_abort(r, &idem);
	free(lines);
	order_release(&o);
	return rc;
}

/* ---- GET /api/orders/{orderId} -------------------------------------------------------------- */

int h_order_get(struct req *r)
{
	struct field_errors fe = {0};
	struct order o = {0};
	int64_t id = 0;
	cJSON *data;
	int rc = req_path_id(r, 0, "orderId", &fe, &id);

	if (rc < 0)
		return http_send_field_errors(r, &fe);
	rc = rc == 1 ? -E_ORDER_NOT_FOUND : store_order_get(r->w->db, id, &o);
	if (rc)
		return http_send_error(r, rc, NULL);
	if (!auth_owns(r, o.user_id, true)) {
		order_release(&o);
		return http_send_error(r, -E_ACCESS_DENIED_USER, NULL);
	}
	data = detail_json(&o);
	order_release(&o);
	if (!data)
		return http_send_error(r, -E_NOMEM, NULL);
	return http_send_data(r, 200, data);
}

/* ---- lists (§6.3, §6.4) --------------------------------------------------------------------- */

/*
 * userId, status, page, size and sort of a list, in that order; then the userId rule of
 * §1.6 (another user's list only for ADMIN). Answers and returns non-zero on failure.
 */
static int list_params(struct req *r, bool subs, struct order_list_query *q)
{
	struct field_errors fe = {0};
	struct paging pg;
	const char *status = req_query(r, "status");
	int64_t uid = r->auth.uid;

	req_query_int64(r, "userId", false, &fe, &uid);
	if (status && *status) {
		int st = subs ? sub_status_parse(status) : (int)order_status_parse(status);
		if (st < 0)
			field_errors_add(&fe, E_INVALID_PARAMETER_TYPE, "status", status,
			                 REASON_TYPE);
		q->statuses[0] = st;
		q->nstatuses = 1;
	} else if (subs) {
		/* every subscription but the cancelled ones */
		q->statuses[0] = SUB_SUBSCRIPTION;
		q->statuses[1] = SUB_PAUSED;
		q->statuses[2] = SUB_PAYMENT_FAIL;
		q->nstatuses = 3;
	} else {
		/* paid orders */
		q->statuses[0] = ORDER_COMPLETE;
		q->statuses[1] = ORDER_PARTIAL_REFUND;
		q->statuses[2] = ORDER_REFUND;
		q->nstatuses = 3;
	}
	paging_parse(r, PAGING_ORDERS, &fe, &pg);
	if (fe.n)
		return http_send_field_errors(r, &fe), 1;
	if (!auth_owns(r, uid, true))
		return http_send_error(r, -E_ACCESS_DENIED_USER, NULL), 1;
	q->user_id = uid;
	q->asc = pg.sort == SORT_ASC;
	q->limit = pg.size;
	q->offset = pg.offset;
	return 0;
}

static cJSON *history_json(const struct order_row *row)
{
	const struct order_line *l = &row->line;
	cJSON *e = cJSON_CreateObject();
	int bad = 0;

	if (!e)
		return NULL;
	bad |= json_add_int(e, "orderId", row->order_id);
	bad |= json_add_int(e, "orderItemId", l->order_item_id);
	bad |= json_add_int(e, "quantity", l->quantity);
	bad |= json_add_int(e, "itemId", l->item_id);
	bad |= json_add_string_or_null(e, "itemName", l->product);
	bad |= json_add_int(e, "price", l->price.real);
	bad |= json_add_string_or_null(e, "description", l->main_function);
	bad |= json_add_string_or_null(e, "imageUrl", l->thumbnail);
	bad |= add_obj(e, "category", shape_categories(l->categories));
	bad |= add_str(e, "orderStatus", order_status_name(row->status));
	if (bad) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

static cJSON *sub_json(const struct order_sub_row *s)
{
	char cats[160];
	cJSON *e = cJSON_CreateObject();
	int bad = 0;

	if (!e)
		return NULL;
	bad |= category_set_string(s->categories, cats, sizeof(cats));
	bad |= json_add_int(e, "subscriptionOrderId", s->subscription_id);
	bad |= json_add_int(e, "orderItemId", s->order_item_id);
	bad |= json_add_int(e, "quantity", s->quantity);
	bad |= json_add_int(e, "itemId", s->item_id);
	bad |= json_add_string_or_null(e, "itemName", s->product);
	bad |= json_add_int(e, "price", s->price);
	bad |= json_add_string_or_null(e, "description", s->main_function);
	bad |= json_add_string_or_null(e, "imageUrl", s->thumbnail);
	bad |= add_str(e, "category", cats);
	bad |= add_str(e, "orderStatus", sub_status_name((enum sub_status)s->status));
	bad |= json_add_int(e, "period", s->period);
	bad |= json_add_string_or_null(e, "nextPaymentDate",
	                               s->next_payment_date[0] ? s->next_payment_date : NULL);
	if (bad) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

/* Appends item to arr; -E_NOMEM when item is NULL. */
static int push(cJSON *arr, cJSON *item)
{
	if (!item || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return -E_NOMEM;
	}
	return 0;
}

int h_orders_list(struct req *r)
{
	struct order_list_query q = {0};
	struct order_row *rows = NULL;
	size_t n = 0;
	int64_t total = 0;
	cJSON *items;
	int rc;

	if (list_params(r, false, &q))
		return 0;
	rc = store_order_history(r->w->db, &q, &rows, &n, &total);
	if (rc)
		return http_send_error(r, rc, NULL);
	items = cJSON_CreateArray();
	rc = items ? 0 : -E_NOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = push(items, history_json(&rows[i]));
	store_order_rows_free(rows, n);
	if (rc) {
		cJSON_Delete(items);
		return http_send_error(r, rc, NULL);
	}
	return http_send_page(r, items, q.offset / q.limit + 1, q.limit, total);
}

int h_orders_subscriptions(struct req *r)
{
	struct order_list_query q = {0};
	struct order_sub_row *rows = NULL;
	size_t n = 0;
	int64_t total = 0;
	cJSON *items;
	int rc;

	if (list_params(r, true, &q))
		return 0;
	rc = store_order_subscriptions(r->w->db, &q, &rows, &n, &total);
	if (rc)
		return http_send_error(r, rc, NULL);
	items = cJSON_CreateArray();
	rc = items ? 0 : -E_NOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = push(items, sub_json(&rows[i]));
	store_order_sub_rows_free(rows, n);
	if (rc) {
		cJSON_Delete(items);
		return http_send_error(r, rc, NULL);
	}
	return http_send_page(r, items, q.offset / q.limit + 1, q.limit, total);
}

/* ---- PATCH /api/orders/subscriptions/{orderId} ---------------------------------------------- */

int h_order_subscription_quantity(struct req *r)
{
	struct field_errors fe = {0};
	int64_t order_id = 0, line_id = 0;
	int32_t quantity = 0;
	const char *reason;
	int rc, path;

	path = req_path_id(r, 0, "orderId", &fe, &order_id);
	req_query_int64(r, "orderItemId", true, &fe, &line_id);
	rc = req_query_int(r, "quantity", true, &fe, &quantity);
	if (rc == JSON_PRESENT && (reason = rule_quantity(quantity)))
		field_errors_add(&fe, E_VALIDATION_FAILED, "quantity", req_query(r, "quantity"),
		                 reason);
	if (fe.n)
		return http_send_field_errors(r, &fe);
	rc = path == 1 ? -E_ORDER_NOT_FOUND
	               : store_order_sub_quantity(r->w->db, order_id, line_id, r->auth.uid,
	                                          quantity, (int64_t)clock_now());
	if (rc)
		return http_send_error(r, rc, NULL);
	log_info("subscription quantity changed", "order:i", (long long)order_id, "line:i",
	         (long long)line_id, "quantity:i", (long long)quantity);
	return http_send_empty(r, 204);
}
