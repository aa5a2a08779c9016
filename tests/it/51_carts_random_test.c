/*
 * 51_carts_random: randomized cart traffic checked against a model kept by the test
 * (API.md §2.1, §2.2, §5). About 30 items get random prices (0..200000 won, discount p10
 * 0..1000, the half-up edges included); several users fill their normal and subscription
 * carts through the API with random items, quantities and periods, change and remove lines,
 * try each other's carts, while the test changes item prices in SQL. Every cart is then
 * compared line by line and total by total with an independent computation written here
 * (not core/price.c).
 *
 * The seed is printed; PV_CART_SEED=<seed> replays a run exactly.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/it/lib/carts.h"
#include "tests/it/lib/it.h"
#include "common/banned.h"

#define N_ITEMS 30
#define N_USERS 4
#define N_CARTS (2 * N_USERS)
#define N_OPS   260

/* ---- deterministic random numbers (splitmix64) ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in lo..hi (inclusive). */
static int64_t rng_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

static uint64_t seed_of_run(void)
{
	const char *s = getenv("PV_CART_SEED");

	if (s && *s)
		return strtoull(s, NULL, 10);
	return (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
}

/* ---- the model ------------------------------------------------------------------------- */

struct mline {
	int item; /* index into items[] */
	int quantity;
	int period; /* 0 in a normal cart */
};

struct mcart {
	bool sub;
	int64_t id;
	int owner; /* index into users[] */
	struct mline lines[N_ITEMS];
	int n;
};

static struct it_cart_item items[N_ITEMS];
static struct it_user users[N_USERS];
static struct mcart carts[N_CARTS];
static uint64_t seed;
static int op_no;

/* Independent §2.1 arithmetic: round half up of origin x p10 / 1000, by quotient and
 * remainder. */
static int64_t model_discount(int64_t origin, int p10)
{
	int64_t prod = origin * p10;
	return prod / 1000 + (prod % 1000 >= 500 ? 1 : 0);
}

/* discountRate as the contract writes it: p10 / 1000, shortest decimal, at least one digit
 * after the point ("0.0", "0.1", "0.125", "1.0"). */
static void model_rate_text(int p10, char *out, size_t n)
{
	char frac[4];
	int len = 3;

	if (p10 == 1000) {
		snprintf(out, n, "1.0");
		return;
	}
	frac[0] = (char)('0' + p10 / 100);
	frac[1] = (char)('0' + p10 / 10 % 10);
	frac[2] = (char)('0' + p10 % 10);
	while (len > 1 && frac[len - 1] == '0')
		len--;
	frac[len] = '\0';
	snprintf(out, n, "0.%s", frac);
}

static int find_line(const struct mcart *c, int item)
{
	for (int i = 0; i < c->n; i++)
		if (c->lines[i].item == item)
			return i;
	return -1;
}

/* ---- requests ------------------------------------------------------------------------- */

#define FAIL_CTX "seed %llu op %d: "
#define CTX      (unsigned long long)seed, op_no

static void expect_status(const struct it_resp *r, long status, const char *code, const char *what)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(r->json, "code");

	ck_assert_msg(r->status == status, FAIL_CTX "%s: status %ld, expected %ld; body %.500s",
	              CTX, what, r->status, status, r->body ? r->body : "");
	if (code)
		ck_assert_msg(cJSON_IsString(c) && strcmp(c->valuestring, code) == 0,
		              FAIL_CTX "%s: code, expected %s; body %.500s", CTX, what, code,
		              r->body ? r->body : "");
}

static void do_add(struct mcart *c, int item, int quantity, int period)
{
	struct it_resp r = IT_RESP_INIT;
	char path[160], q[96], body[160];
	const struct it_user *u = &users[c->owner];
	bool present = find_line(c, item) >= 0;

	if (c->sub) {
		snprintf(body, sizeof(body), "{\"itemId\":%lld,\"quantity\":%d,\"period\":%d}",
		         (long long)items[item].id, quantity, period);
		it_cart_path(path, sizeof(path), true, c->id, "");
		it_req("POST", path, u->access, body, NULL, &r);
	} else {
		snprintf(q, sizeof(q), "?itemId=%lld&quantity=%d", (long long)items[item].id,
		         quantity);
		it_cart_path(path, sizeof(path), false, c->id, q);
		it_req("POST", path, u->access, NULL, NULL, &r);
	}
	if (present) {
		expect_status(&r, 409, "CART_ITEM_EXISTS", "add of a present item");
	} else {
		expect_status(&r, 201, NULL, "add");
		it_cart_assert_added(&r, items[item].id);
		c->lines[c->n++] = (struct mline){item, quantity, c->sub ? period : 0};
	}
	it_resp_free(&r);
}

enum change { CH_QUANTITY, CH_PERIOD, CH_DELETE };

static void do_change(struct mcart *c, int item, enum change what, int value, int actor)
{
	struct it_resp r = IT_RESP_INIT;
	char path[200], q[96];
	int at = find_line(c, item);
	const char *method = what == CH_DELETE ? "DELETE" : "PATCH";
	const char *suffix = "";

	if (what == CH_QUANTITY) {
		snprintf(q, sizeof(q), "?itemId=%lld&quantity=%d", (long long)items[item].id,
		         value);
		suffix = c->sub ? "/quantity" : "";
	} else if (what == CH_PERIOD) {
		snprintf(q, sizeof(q), "?itemId=%lld&period=%d", (long long)items[item].id, value);
		suffix = "/period";
	} else {
		snprintf(q, sizeof(q), "?itemId=%lld", (long long)items[item].id);
	}
	char tail[160];
	snprintf(tail, sizeof(tail), "%s%s", suffix, q);
	it_cart_path(path, sizeof(path), c->sub, c->id, tail);
	it_req(method, path, users[actor].access, NULL, NULL, &r);
	if (at < 0) {
		/* existence is checked before ownership */
		expect_status(&r, 404, "CART_ITEM_NOT_FOUND", "change of an absent line");
	} else if (actor != c->owner) {
		expect_status(&r, 403, "ACCESS_DENIED_USER", "change of another user's line");
	} else {
		expect_status(&r, 204, NULL, "change");
		ck_assert_msg(r.body_len == 0, FAIL_CTX "204 with a body", CTX);
		if (what == CH_QUANTITY)
			c->lines[at].quantity = value;
		else if (what == CH_PERIOD)
			c->lines[at].period = value;
		else {
			memmove(&c->lines[at], &c->lines[at + 1],
			        (size_t)(c->n - at - 1) * sizeof(c->lines[0]));
			c->n--;
		}
	}
	it_resp_free(&r);
}

static void random_price(int64_t *origin, int *p10)
{
	int64_t k = rng_range(0, 9);

	*origin = k == 0 ? rng_range(0, 20) : rng_range(0, 200000);
	k = rng_range(0, 9);
	*p10 = k == 0   ? 0
	       : k == 1 ? 1000
	       : k == 2 ? (int)rng_range(0, 20) * 50
	                : (int)rng_range(0, 1000);
}

/* ---- verification --------------------------------------------------------------------- */

static void verify_cart(const struct mcart *c, bool as_admin_reader, const struct it_user *admin)
{
	struct it_resp r = IT_RESP_INIT;
	char path[128], text[32], want[32];
	int64_t count = 0, total = 0, discount = 0, expect = 0;
	const cJSON *data, *lines;

	it_cart_path(path, sizeof(path), c->sub, c->id, "");
	it_get(path, as_admin_reader ? admin->access : users[c->owner].access, &r);
	expect_status(&r, 200, NULL, "GET cart");
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "cartId", "cartItems", "totalItemCount", "totalPrice",
	               "totalDiscountPrice", "expectPrice", NULL);
	ck_assert_msg(it_json_int(data, "cartId") == c->id, FAIL_CTX "cartId", CTX);
	lines = cJSON_GetObjectItemCaseSensitive(data, "cartItems");
	ck_assert_msg(cJSON_IsArray(lines) && cJSON_GetArraySize(lines) == c->n,
	              FAIL_CTX "cart %lld has %d lines, expected %d: %.800s", CTX, (long long)c->id,
	              cJSON_IsArray(lines) ? cJSON_GetArraySize(lines) : -1, c->n, r.body);
	for (int i = 0; i < c->n; i++) {
		const struct mline *ml = &c->lines[i];
		const struct it_cart_item *it = &items[ml->item];
		const cJSON *line = cJSON_GetArrayItem(lines, i);
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(line, "item");
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(line, "subscription");
		int64_t d = model_discount(it->origin, it->p10);

		it_assert_keys(line, "quantity", "period", "subscription", "item", "createdAt",
		               "updatedAt", NULL);
		it_assert_keys(item, "itemId", "enterprise", "thumbnail", "product", "originPrice",
		               "realPrice", "discountRate", "discountPrice", NULL);
		ck_assert_msg(it_json_int(item, "itemId") == it->id,
		              FAIL_CTX "cart %lld line %d: itemId %lld, expected %lld", CTX,
		              (long long)c->id, i, (long long)it_json_int(item, "itemId"),
		              (long long)it->id);
		ck_assert_msg(it_json_int(line, "quantity") == ml->quantity,
		              FAIL_CTX "cart %lld line %d: quantity", CTX, (long long)c->id, i);
		ck_assert_msg(it_json_int(line, "period") == (c->sub ? ml->period : 0),
		              FAIL_CTX "cart %lld line %d: period", CTX, (long long)c->id, i);
		ck_assert_msg(c->sub ? cJSON_IsTrue(sub) : cJSON_IsFalse(sub),
		              FAIL_CTX "cart %lld line %d: subscription", CTX, (long long)c->id, i);
		ck_assert_msg(strcmp(it_json_str(item, "product"), it->product) == 0,
		              FAIL_CTX "product", CTX);
		ck_assert_msg(strcmp(it_json_str(item, "enterprise"), it->enterprise) == 0,
		              FAIL_CTX "enterprise", CTX);
		ck_assert_msg(strcmp(it_json_str(item, "thumbnail"), it->thumbnail) == 0,
		              FAIL_CTX "thumbnail", CTX);
		ck_assert_msg(it_json_int(item, "originPrice") == it->origin &&
		                  it_json_int(item, "discountPrice") == d &&
		                  it_json_int(item, "realPrice") == it->origin - d,
		              FAIL_CTX "item %lld (%lld won, p10 %d): got %lld/%lld/%lld, expected "
		                       "%lld/%lld/%lld",
		              CTX, (long long)it->id, (long long)it->origin, it->p10,
		              (long long)it_json_int(item, "originPrice"),
		              (long long)it_json_int(item, "discountPrice"),
		              (long long)it_json_int(item, "realPrice"), (long long)it->origin,
		              (long long)d, (long long)(it->origin - d));
		it_cart_raw_value(r.body, it->id, "discountRate", text, sizeof(text));
		model_rate_text(it->p10, want, sizeof(want));
		ck_assert_msg(strcmp(text, want) == 0,
		              FAIL_CTX "item %lld p10 %d: discountRate %s, expected %s", CTX,
		              (long long)it->id, it->p10, text, want);
		it_assert_ts("createdAt", cJSON_GetObjectItemCaseSensitive(line, "createdAt"));
		it_assert_ts("updatedAt", cJSON_GetObjectItemCaseSensitive(line, "updatedAt"));
		count += ml->quantity;
		total += it->origin * ml->quantity;
		discount += d * ml->quantity;
		expect += (it->origin - d) * ml->quantity;
	}
	ck_assert_msg(it_json_int(data, "totalItemCount") == count &&
	                  it_json_int(data, "totalPrice") == total &&
	                  it_json_int(data, "totalDiscountPrice") == discount &&
	                  it_json_int(data, "expectPrice") == expect,
	              FAIL_CTX "cart %lld totals %lld/%lld/%lld/%lld, expected %lld/%lld/%lld/%lld",
	              CTX, (long long)c->id, (long long)it_json_int(data, "totalItemCount"),
	              (long long)it_json_int(data, "totalPrice"),
	              (long long)it_json_int(data, "totalDiscountPrice"),
	              (long long)it_json_int(data, "expectPrice"), (long long)count,
	              (long long)total, (long long)discount, (long long)expect);
	it_resp_free(&r);
}

static void verify_all(const struct it_user *admin)
{
	for (int i = 0; i < N_CARTS; i++)
		verify_cart(&carts[i], rng_range(0, 3) == 0, admin);
}

/* ---- the run -------------------------------------------------------------------------- */

START_TEST(random_carts_match_an_independent_model)
{
	/* the edges of §2.1's half-up rule and the bounds of the price range */
	static const struct {
		int64_t origin;
		int p10;
	} edges[] = {{12345, 125},  {11000, 100}, {10000, 0}, {1010, 50}, {1, 500},
	             {999, 500},    {3, 500},     {0, 0},     {0, 1000},  {200000, 1000},
	             {200000, 999}, {199999, 1},  {5, 100},   {15, 100},  {12000, 90}};
	struct it_user admin;
	int stats[6] = {0};

	seed = seed_of_run();
	rng_state = seed;
	fprintf(stderr, "carts_random: seed %llu (PV_CART_SEED=%llu replays this run)\n",
	        (unsigned long long)seed, (unsigned long long)seed);

	for (int i = 0; i < N_ITEMS; i++) {
		int64_t origin;
		int p10;
		if ((size_t)i < sizeof(edges) / sizeof(edges[0])) {
			origin = edges[i].origin;
			p10 = edges[i].p10;
		} else {
			random_price(&origin, &p10);
		}
		it_cart_item_new(&items[i], origin, p10);
	}
	for (int u = 0; u < N_USERS; u++) {
		it_new_user(&users[u]);
		carts[2 * u] =
		    (struct mcart){.sub = false, .id = users[u].normal_cart_id, .owner = u};
		carts[2 * u + 1] =
		    (struct mcart){.sub = true, .id = users[u].subscription_cart_id, .owner = u};
	}
	it_new_admin(&admin);

	for (op_no = 0; op_no < N_OPS; op_no++) {
		struct mcart *c = &carts[rng_range(0, N_CARTS - 1)];
		int64_t k = rng_range(0, 99);
		int item;

		/* half of the changes aim at a present line, the rest at any item */
		if (c->n > 0 && rng_range(0, 1) == 0)
			item = c->lines[rng_range(0, c->n - 1)].item;
		else
			item = (int)rng_range(0, N_ITEMS - 1);

		if (k < 40) {
			do_add(c, item, (int)rng_range(1, 999), (int)rng_range(30, 365));
			stats[0]++;
		} else if (k < 66 && c->sub && (k & 1)) {
			do_change(c, item, CH_PERIOD, (int)rng_range(30, 365), c->owner);
			stats[2]++;
		} else if (k < 66) {
			do_change(c, item, CH_QUANTITY, (int)rng_range(1, 999), c->owner);
			stats[1]++;
		} else if (k < 76) {
			do_change(c, item, CH_DELETE, 0, c->owner);
			stats[3]++;
		} else if (k < 86) {
			int64_t origin;
			int p10;
			random_price(&origin, &p10);
			it_cart_item_price(&items[item], origin, p10);
			stats[4]++;
		} else if (k < 94) {
			int other = (c->owner + 1 + (int)rng_range(0, N_USERS - 2)) % N_USERS;
			do_change(c, item, c->sub && rng_range(0, 1) ? CH_PERIOD : CH_QUANTITY,
			          c->sub ? 90 : 5, other);
			stats[5]++;
		} else {
			verify_cart(c, false, &admin);
		}
		if (op_no % 50 == 49)
			verify_all(&admin);
	}
	verify_all(&admin);
	/* finally every item's price changes once more and every cart follows */
	for (int i = 0; i < N_ITEMS; i++) {
		int64_t origin;
		int p10;
		random_price(&origin, &p10);
		it_cart_item_price(&items[i], origin, p10);
	}
	verify_all(&admin);
	fprintf(stderr,
	        "carts_random: %d adds, %d quantity, %d period, %d delete, %d price changes, %d "
	        "foreign attempts\n",
	        stats[0], stats[1], stats[2], stats[3], stats[4], stats[5]);
}
END_TEST

Suite *carts_random_suite(void)
{
	Suite *s = suite_create("carts_random");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, random_carts_match_an_independent_model);
	suite_add_tcase(s, tc);
	return s;
}
