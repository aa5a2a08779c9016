/*
 * 62_orders_random: randomized orders against an independent computation of API.md §2.1 and
 * §2.3 written in this test (never core/price.c): many orders over items with random prices
 * and discounts (including the half-up edges of §2.1), quantities 1..999 and mixed
 * subscription lines; every order's totals and every line's snapshot are checked in the
 * create answer and again in GET /api/orders/{id}, after the catalogue prices have changed.
 *
 * The seed is printed; IT_ORD_SEED=<n> replays a run.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

#define N_ITEMS   24
#define N_ORDERS  40
#define MAX_LINES 12

/* xorshift64*: the test's own generator, so a seed replays the same run everywhere */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static int64_t rng_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

/* (origin, p10) pairs on the half-up edges of §2.1 step 4, and the ends of the ranges */
static const struct {
	int64_t origin;
	int p10;
} edges[] = {
    {1, 500},      /* 0.5 → 1 */
    {3, 500},      /* 1.5 → 2 */
    {5, 100},      /* 0.5 → 1 */
    {15, 100},     /* 1.5 → 2 */
    {1010, 50},    /* 50.5 → 51 (the §2.1 table) */
    {12345, 125},  /* 1543.125 → 1543 */
    {25, 20},      /* 0.5 → 1 */
    {125, 4},      /* 0.5 → 1 */
    {1, 499},      /* 0.499 → 0 */
    {0, 550},      /* free item */
    {99999, 0},    /* no discount */
    {88888, 1000}, /* 100 % */
};

struct expect_line {
	const struct it_ord_item *item;
	struct it_ord_price price; /* snapshot at order time */
	int quantity;
	bool subscription;
	int period; /* as stored: 0 for one-time lines */
};

struct expect_order {
	int64_t id;
	size_t n;
	struct expect_line lines[MAX_LINES];
	int64_t total_price, total_discount, expect_price, quantity;
	bool subscription;
};

static void expect_totals(struct expect_order *o)
{
	o->total_price = o->total_discount = o->expect_price = o->quantity = 0;
	o->subscription = false;
	for (size_t i = 0; i < o->n; i++) {
		const struct expect_line *l = &o->lines[i];
		o->total_price += l->price.origin * l->quantity;
		o->total_discount += l->price.discount * l->quantity;
		o->expect_price += l->price.real * l->quantity;
		o->quantity += l->quantity;
		o->subscription |= l->subscription;
	}
	/* the §2.2 identity */
	ck_assert_int_eq(o->expect_price, o->total_price - o->total_discount);
}

static void check_totals(const cJSON *data, const struct expect_order *o, uint64_t seed)
{
	ck_assert_msg(it_json_int(data, "totalItems") == (int64_t)o->n, "seed %" PRIu64, seed);
	ck_assert_msg(it_json_int(data, "totalQuantity") == o->quantity, "seed %" PRIu64, seed);
	ck_assert_msg(it_json_int(data, "totalPrice") == o->total_price,
	              "seed %" PRIu64 " order %" PRId64 ": totalPrice %" PRId64 " != %" PRId64,
	              seed, o->id, it_json_int(data, "totalPrice"), o->total_price);
	ck_assert_msg(it_json_int(data, "totalDiscountPrice") == o->total_discount,
	              "seed %" PRIu64 " order %" PRId64 ": totalDiscountPrice", seed, o->id);
	ck_assert_msg(it_json_int(data, "expectPrice") == o->expect_price,
	              "seed %" PRIu64 " order %" PRId64 ": expectPrice", seed, o->id);
	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "subscription")) ==
	                  o->subscription,
	              "seed %" PRIu64 ": subscription", seed);
}

/* Every discountRate in body, in order, against the lines' snapshots. */
static void check_rate_texts(const char *body, const struct expect_order *o)
{
	char got[MAX_LINES][32], want[32];

	ck_assert_uint_eq(it_ord_raw_values(body, "discountRate", got, MAX_LINES), o->n);
	for (size_t i = 0; i < o->n; i++) {
		it_ord_rate_text(o->lines[i].price.p10, want, sizeof(want));
		ck_assert_str_eq(got[i], want);
	}
}

static void check_created(const struct it_resp *r, struct expect_order *o, uint64_t seed)
{
	const cJSON *data = it_assert_wrapper(r), *arr;

	o->id = it_json_int(data, "orderId");
	check_totals(data, o, seed);
	ck_assert_str_eq(it_json_str(data, "orderStatus"), "REQUEST");
	arr = cJSON_GetObjectItemCaseSensitive(data, "itemOrders");
	ck_assert_int_eq(cJSON_GetArraySize(arr), (int)o->n);
	for (size_t i = 0; i < o->n; i++) {
		const struct expect_line *l = &o->lines[i];
		const cJSON *e = cJSON_GetArrayItem(arr, (int)i);
		ck_assert_int_eq(it_json_int(e, "quantity"), l->quantity);
		ck_assert_int_eq(it_json_int(e, "period"), l->period);
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "subscription")) ==
		          l->subscription);
		it_ord_assert_brief(cJSON_GetObjectItemCaseSensitive(e, "item"), l->item,
		                    &l->price);
	}
	check_rate_texts(r->body, o);
}

static void check_detail(const struct it_user *u, const struct expect_order *o, uint64_t seed)
{
	struct it_resp r = IT_RESP_INIT;
	const cJSON *data, *arr;
	char path[64];

	it_ord_path(path, sizeof(path), o->id);
	it_get(path, u->access, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	check_totals(data, o, seed);
	arr = cJSON_GetObjectItemCaseSensitive(data, "orderItems");
	ck_assert_int_eq(cJSON_GetArraySize(arr), (int)o->n);
	for (size_t i = 0; i < o->n; i++) {
		const struct expect_line *l = &o->lines[i];
		const cJSON *e = cJSON_GetArrayItem(arr, (int)i);
		ck_assert_int_eq(it_json_int(e, "itemId"), l->item->id);
		ck_assert_int_eq(it_json_int(e, "quantity"), l->quantity);
		ck_assert_int_eq(it_json_int(e, "period"), l->period);
		ck_assert_msg(it_json_int(e, "originPrice") == l->price.origin &&
		                  it_json_int(e, "discountPrice") == l->price.discount &&
		                  it_json_int(e, "realPrice") == l->price.real,
		              "seed %" PRIu64 " order %" PRId64 " line %zu: snapshot changed", seed,
		              o->id, i);
		it_ord_assert_rate(e, l->price.p10);
	}
	check_rate_texts(r.body, o);
	it_resp_free(&r);
}

static void random_price(int64_t *origin, int *p10)
{
	switch (rng() % 4) {
	case 0: /* a round shop price and a whole percentage */
		*origin = rng_range(1, 300) * 100;
		*p10 = (int)rng_range(0, 50) * 10;
		break;
	case 1: /* anything */
		*origin = rng_range(0, 500000);
		*p10 = (int)rng_range(0, 1000);
		break;
	case 2: { /* an exact half: origin x p10 ≡ 500 (mod 1000) */
		int p = (int)rng_range(1, 100) * 20 / 4; /* 5, 10, ... a multiple of 5 */
		if (p > 1000)
			p = 1000;
		*p10 = p;
		*origin = rng_range(0, 400);
		for (int k = 0; k < 1000 && (*origin * p) % 1000 != 500; k++)
			(*origin)++;
		break;
	}
	default: { /* the fixed edges */
		size_t e = rng() % (sizeof(edges) / sizeof(edges[0]));
		*origin = edges[e].origin;
		*p10 = edges[e].p10;
		break;
	}
	}
}

START_TEST(random_orders_match_an_independent_computation)
{
	static struct it_ord_item items[N_ITEMS];
	static struct expect_order orders[N_ORDERS];
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	const char *env = getenv("IT_ORD_SEED");
	uint64_t seed =
	    env ? strtoull(env, NULL, 10) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	int halves = 0;

	if (!seed)
		seed = 1;
	rng_state = seed;
	printf("62_orders_random: seed %" PRIu64 " (IT_ORD_SEED=%" PRIu64 " replays it)\n", seed,
	       seed);
	fflush(stdout);

	it_new_user(&u);
	for (int i = 0; i < N_ITEMS; i++) {
		int64_t origin;
		int p10;
		if (i < (int)(sizeof(edges) / sizeof(edges[0]))) {
			origin = edges[i].origin;
			p10 = edges[i].p10;
		} else {
			random_price(&origin, &p10);
		}
		it_ord_item_new(&items[i], origin, p10, (uint32_t)(rng() % 512));
	}

	for (int k = 0; k < N_ORDERS; k++) {
		struct expect_order *o = &orders[k];
		struct it_ord_line lines[MAX_LINES];
		char *body;

		o->n = (size_t)rng_range(1, MAX_LINES);
		for (size_t i = 0; i < o->n; i++) {
			struct expect_line *l = &o->lines[i];
			const struct it_ord_item *it = &items[rng() % N_ITEMS];
			uint64_t pick = rng() % 10;

			l->item = it;
			it_ord_price(it->origin, it->p10, &l->price);
			if ((it->origin * it->p10) % 1000 == 500)
				halves++;
			l->quantity = pick == 0 ? 1 : pick == 1 ? 999 : (int)rng_range(1, 999);
			l->subscription = rng() % 3 == 0;
			lines[i] = (struct it_ord_line){it->id, l->quantity, l->subscription,
			                                (int)rng_range(30, 365)};
			if (rng() % 8 == 0)
				lines[i].period = (int)rng_range(0, 1000); /* ignored on one-time */
			if (l->subscription && (lines[i].period < 30 || lines[i].period > 365))
				lines[i].period = 30;
			l->period = l->subscription ? lines[i].period : 0;
		}
		expect_totals(o);
		body = it_ord_body_text(lines, o->n);
		ck_assert_int_eq(it_ord_post(&u, body, NULL, &r), 0);
		free(body);
		it_assert_status(&r, 201);
		check_created(&r, o, seed);

		/* the catalogue moves on between orders */
		if (rng() % 3 == 0) {
			int64_t origin;
			int p10;
			random_price(&origin, &p10);
			it_ord_item_price(&items[rng() % N_ITEMS], origin, p10);
		}
	}
	ck_assert_msg(halves > 0, "seed %" PRIu64 ": no line on a half-up edge", seed);

	/* every order still shows the prices it was placed at */
	for (int i = 0; i < N_ITEMS; i++) {
		int64_t origin;
		int p10;
		random_price(&origin, &p10);
		it_ord_item_price(&items[i], origin, p10);
	}
	for (int k = 0; k < N_ORDERS; k++)
		check_detail(&u, &orders[k], seed);
	it_resp_free(&r);
}
END_TEST

Suite *orders_random_suite(void)
{
	Suite *s = suite_create("orders_random");
	TCase *tc = tcase_create("random");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, random_orders_match_an_independent_computation);
	suite_add_tcase(s, tc);
	return s;
}
