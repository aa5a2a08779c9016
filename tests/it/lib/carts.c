/* carts: integration-test helpers for the cart routes (see carts.h). */
#include "tests/it/lib/carts.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/db.h"
#include "common/banned.h"

static const char sql_insert_item[] =
    "INSERT INTO items (product_name, enterprise, thumbnail, origin_price, discount_p10,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())";
static const char sql_set_price[] =
    "UPDATE items SET origin_price = ?, discount_p10 = ?, updated_at = UTC_TIMESTAMP()"
    " WHERE item_id = ?";

static void item_new(struct it_loc at, struct it_cart_item *it, int64_t origin, int p10, bool nulls)
{
	char name[40];
	uint64_t id = 0;
	int rc;

	memset(it, 0, sizeof(*it));
	it_unique_name(name, sizeof(name), "cart");
	snprintf(it->product, sizeof(it->product), "카트 상품 %s", name);
	if (!nulls) {
		snprintf(it->enterprise, sizeof(it->enterprise), "(주)카트제약 %s", name);
		snprintf(it->thumbnail, sizeof(it->thumbnail),
		         "https://cdn.example.com/items/%s/thumb.jpg", name);
	}
	struct db_param p[5] = {DB_STR(it->product), DB_STR(nulls ? NULL : it->enterprise),
	                        DB_STR(nulls ? NULL : it->thumbnail), DB_I64(origin), DB_I64(p10)};
	rc = db_exec(it_db(), sql_insert_item, p, 5, NULL, &id);
	it_check_at(at, NULL, rc == 0 && id > 0, "inserting an item failed (%d: %s)", rc,
	            db_last_error(it_db()));
	it->id = (int64_t)id;
	it->origin = origin;
	it->p10 = p10;
}

void it_cart_item_new_at(struct it_loc at, struct it_cart_item *it, int64_t origin, int p10)
{
	item_new(at, it, origin, p10, false);
}

void it_cart_item_nulls_at(struct it_loc at, struct it_cart_item *it, int64_t origin, int p10)
{
	item_new(at, it, origin, p10, true);
}

void it_cart_item_price_at(struct it_loc at, struct it_cart_item *it, int64_t origin, int p10)
{
	struct db_param p[3] = {DB_I64(origin), DB_I64(p10), DB_I64(it->id)};
	uint64_t n = it_sql_exec_at(at, sql_set_price, p, 3);

	it_check_at(at, NULL, n == 1, "price update of item %lld matched %llu rows",
	            (long long)it->id, (unsigned long long)n);
	it->origin = origin;
	it->p10 = p10;
}

void it_cart_path(char *out, size_t n, bool subscription, int64_t cart_id, const char *suffix)
{
	snprintf(out, n, "/api/carts/%s/%lld%s", subscription ? "subscription" : "normal",
	         (long long)cart_id, suffix ? suffix : "");
}

void it_cart_assert_added_at(struct it_loc at, const struct it_resp *r, int64_t item_id)
{
	const cJSON *data;

	it_assert_status_at(at, r, 201);
	data = it_assert_wrapper_at(at, r);
	it_check_at(at, r, cJSON_IsNumber(data) && data->valuedouble == (double)item_id,
	            "data must be the item id %lld", (long long)item_id);
}

void it_cart_assert_204_at(struct it_loc at, const struct it_resp *r)
{
	it_assert_status_at(at, r, 204);
	it_check_at(at, r, r->body_len == 0, "a 204 has no body");
}

void it_cart_add_normal_at(struct it_loc at, const struct it_user *u, int64_t cart_id,
                           int64_t item_id, int quantity)
{
	struct it_resp r = IT_RESP_INIT;
	char path[160], q[64];

	snprintf(q, sizeof(q), "?itemId=%lld&quantity=%d", (long long)item_id, quantity);
	it_cart_path(path, sizeof(path), false, cart_id, q);
	it_req_at(at, "POST", path, u->access, NULL, NULL, &r);
	it_cart_assert_added_at(at, &r, item_id);
	it_resp_free(&r);
}

void it_cart_add_sub_at(struct it_loc at, const struct it_user *u, int64_t cart_id, int64_t item_id,
                        int quantity, int period)
{
	struct it_resp r = IT_RESP_INIT;
	char path[160], body[160];

	snprintf(body, sizeof(body), "{\"itemId\":%lld,\"quantity\":%d,\"period\":%d}",
	         (long long)item_id, quantity, period);
	it_cart_path(path, sizeof(path), true, cart_id, "");
	it_req_at(at, "POST", path, u->access, body, NULL, &r);
	it_cart_assert_added_at(at, &r, item_id);
	it_resp_free(&r);
}

void it_cart_raw_value_at(struct it_loc at, const char *body, int64_t item_id, const char *key,
                          char *out, size_t n)
{
	char anchor[48], pat[80];
	const char *p, *end;

	snprintf(anchor, sizeof(anchor), "{\"itemId\":%lld,", (long long)item_id);
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = body ? strstr(body, anchor) : NULL;
	it_check_at(at, NULL, p != NULL, "no object %s in %.1500s", anchor, body ? body : "");
	end = strchr(p, '}');
	p = strstr(p, pat);
	it_check_at(at, NULL, p && end && p < end, "no %s in the item object %lld", pat,
	            (long long)item_id);
	p += strlen(pat);
	size_t len = strcspn(p, ",}");
	it_check_at(at, NULL, len < n, "value of %s too long", key);
	memcpy(out, p, len);
	out[len] = '\0';
}
