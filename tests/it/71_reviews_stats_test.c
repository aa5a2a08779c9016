/*
 * 71_reviews_stats: the item review statistics of API.md §2.8: items.review_size and
 * items.star_avg_x100 (reviewSize, starAvg = the mean of the ACTIVE stars rounded half up to
 * 2 decimals) stay exact through creates, updates and deletes: a scripted sequence with known
 * values (half-up cases included), failed requests that change nothing, a long randomized
 * sequence (its seed is printed; PV_IT_REVIEW_SEED replays one) compared after every step
 * with a recomputation from the review rows, and concurrent writers of one item (processes
 * released together), whose result must equal the recomputation too.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/it/lib/it.h"
#include "tests/it/lib/reviews.h"
#include "common/banned.h"

/* ---- a small deterministic generator (xorshift64*) ------------------------------------------ */

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint32_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static int rng_below(int n)
{
	return (int)(rng_next() % (uint32_t)n);
}

static uint64_t test_seed(void)
{
	const char *env = it_getenv("PV_IT_REVIEW_SEED");
	struct timespec ts;

	if (env)
		return strtoull(env, NULL, 10);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000003u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
}

/* ---- scripted sequence ----------------------------------------------------------------------- */

START_TEST(stats_follow_each_create_update_and_delete)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u[3], admin;
	int64_t item, order[3], id[3], many[8], orders8[8];
	char name[64];

	item = rv_item_new(name, sizeof(name));
	for (int i = 0; i < 3; i++) {
		it_new_user(&u[i]);
		order[i] = rv_bought(u[i].id, item);
	}
	it_new_admin(&admin);
	rv_assert_stats(item, name, 0, 0);

	id[0] = rv_create(u[0].access, order[0], item, "a", 5);
	rv_assert_stats(item, name, 1, 500);
	id[1] = rv_create(u[1].access, order[1], item, "b", 4);
	rv_assert_stats(item, name, 2, 450); /* 4.5 */
	id[2] = rv_create(u[2].access, order[2], item, "c", 4);
	rv_assert_stats(item, name, 3, 433); /* 13 / 3 = 4.333.. */
	rv_patch(u[1].access, id[1], "b2", 5, &r);
	it_assert_status(&r, 200);
	rv_assert_stats(item, name, 3, 467);       /* 14 / 3 = 4.666.. */
	rv_patch(u[1].access, id[1], "b3", 5, &r); /* same star: unchanged */
	it_assert_status(&r, 200);
	rv_assert_stats(item, name, 3, 467);
	rv_delete(u[2].access, id[2], &r);
	it_assert_status(&r, 204);
	rv_assert_stats(item, name, 2, 500);
	id[2] = rv_create(u[2].access, order[2], item, "c again", 1);
	rv_assert_stats(item, name, 3, 367); /* 11 / 3 = 3.666.. */

	/* requests that fail change nothing */
	rv_post(u[2].access, order[2], item, "dup", 5, &r);
	it_assert_error(&r, 409, "DUPLICATED_REVIEW");
	rv_post(u[2].access, order[0], item, "not mine", 5, &r);
	it_assert_error(&r, 403, "REVIEW_NOT_ALLOWED");
	rv_patch(u[0].access, id[1], "not mine", 1, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	rv_patch(admin.access, id[1], "admin", 1, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	rv_patch(u[1].access, id[1], "bad", 0, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	rv_delete(u[0].access, id[1], &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	rv_assert_stats(item, name, 3, 367);

	/* an ADMIN delete counts */
	rv_delete(admin.access, id[2], &r);
	it_assert_status(&r, 204);
	rv_assert_stats(item, name, 2, 500);
	rv_delete(u[0].access, id[0], &r);
	it_assert_status(&r, 204);
	rv_delete(u[1].access, id[1], &r);
	it_assert_status(&r, 204);
	rv_assert_stats(item, name, 0, 0); /* starAvg 0.0 */

	/* 29 / 8 = 3.625 exactly: half up gives 3.63 (half-even would give 3.62) */
	for (int i = 0; i < 8; i++)
		orders8[i] = rv_bought(u[0].id, item);
	for (int i = 0; i < 8; i++)
		many[i] = rv_create(u[0].access, orders8[i], item, "eight", i < 7 ? 4 : 1);
	rv_assert_stats(item, name, 8, 363);
	/* 33 / 8 = 4.125 -> 4.13 */
	rv_patch(u[0].access, many[7], "eight", 5, &r);
	it_assert_status(&r, 200);
	rv_assert_stats(item, name, 8, 413);
	/* 28 / 7 = 4.0, written 4.0 */
	rv_delete(u[0].access, many[7], &r);
	it_assert_status(&r, 204);
	rv_assert_stats(item, name, 7, 400);
	it_resp_free(&r);
}
END_TEST

/* ---- randomized sequence --------------------------------------------------------------------- */

#define RND_ITEMS  3
#define RND_USERS  4
#define RND_ORDERS 2
#define RND_SLOTS  (RND_USERS * RND_ORDERS * RND_ITEMS)
#define RND_STEPS  240

struct slot {
	int user, item;
	int64_t order;
	int64_t review; /* the ACTIVE review, 0 when none */
	int64_t dead;   /* the latest deleted review, 0 when none */
	int star;
};

static void model_stats(const struct slot *slots, int item, int64_t *size, int64_t *x100)
{
	int64_t count = 0, sum = 0;

	for (int i = 0; i < RND_SLOTS; i++)
		if (slots[i].item == item && slots[i].review) {
			count++;
			sum += slots[i].star;
		}
	*size = count;
	*x100 = rv_avg_x100(sum, count);
}

/* A random slot that has (want_active) or has not an ACTIVE review; -1 when there is none. */
static int pick_slot(const struct slot *slots, bool want_active)
{
	int start = rng_below(RND_SLOTS);

	for (int k = 0; k < RND_SLOTS; k++) {
		int i = (start + k) % RND_SLOTS;
		if ((slots[i].review != 0) == want_active)
			return i;
	}
	return -1;
}

START_TEST(randomized_sequence_keeps_the_statistics_exact)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user users[RND_USERS], admin;
	struct slot slots[RND_SLOTS];
	int64_t items[RND_ITEMS];
	char names[RND_ITEMS][64];
	uint64_t seed = test_seed();
	int n = 0, ops[6] = {0};

	fprintf(stderr,
	        "randomized_sequence_keeps_the_statistics_exact: seed %" PRIu64
	        " (PV_IT_REVIEW_SEED=%" PRIu64 " replays it)\n",
	        seed, seed);
	rng_seed(seed);
	for (int i = 0; i < RND_ITEMS; i++)
		items[i] = rv_item_new(names[i], sizeof(names[i]));
	for (int u = 0; u < RND_USERS; u++) {
		it_new_user(&users[u]);
		for (int o = 0; o < RND_ORDERS; o++) {
			int64_t order = rv_order_new(users[u].id, "COMPLETE", items, RND_ITEMS);
			for (int i = 0; i < RND_ITEMS; i++)
				slots[n++] = (struct slot){u, i, order, 0, 0, 0};
		}
	}
	it_new_admin(&admin);

	for (int step = 0; step < RND_STEPS; step++) {
		int dice = rng_below(100), s, star = 1 + rng_below(5), touched;
		char content[64];

		snprintf(content, sizeof(content), "step %d seed %" PRIu64, step, seed);
		if (dice < 40 || (s = pick_slot(slots, true)) < 0) {
			/* create, mostly on a free slot, sometimes on a taken one (409) */
			s = dice % 5 == 0 ? rng_below(RND_SLOTS) : pick_slot(slots, false);
			if (s < 0)
				s = rng_below(RND_SLOTS);
			struct slot *sl = &slots[s];
			rv_post(users[sl->user].access, sl->order, items[sl->item], content, star,
			        &r);
			if (sl->review) {
				ck_assert_msg(r.status == 409,
				              "seed %" PRIu64 " step %d: create on a"
				              " taken slot answered %ld",
				              seed, step, r.status);
				ops[1]++;
			} else {
				ck_assert_msg(r.status == 201,
				              "seed %" PRIu64 " step %d: create"
				              " answered %ld %s",
				              seed, step, r.status, r.body);
				sl->review = it_json_int(
				    cJSON_GetObjectItemCaseSensitive(r.json, "data"), "reviewId");
				sl->star = star;
				ops[0]++;
			}
		} else if (dice < 70) {
			/* update by the writer; now and then by someone else (403) or of a deleted
			 * review (404), which change nothing */
			struct slot *sl = &slots[s];
			int kind = rng_below(10);
			if (kind == 0) {
				rv_patch(users[(sl->user + 1) % RND_USERS].access, sl->review,
				         content, star, &r);
				ck_assert_msg(r.status == 403, "seed %" PRIu64 " step %d: %ld",
				              seed, step, r.status);
				ops[3]++;
			} else if (kind == 1 && sl->dead) {
				rv_patch(users[sl->user].access, sl->dead, content, star, &r);
				ck_assert_msg(r.status == 404, "seed %" PRIu64 " step %d: %ld",
				              seed, step, r.status);
				ops[3]++;
			} else {
				rv_patch(users[sl->user].access, sl->review, content, star, &r);
				ck_assert_msg(r.status == 200,
				              "seed %" PRIu64 " step %d: update"
				              " answered %ld %s",
				              seed, step, r.status, r.body);
				sl->star = star;
				ops[2]++;
			}
		} else {
			/* delete by the writer or by an ADMIN; now and then a deleted one (404) */
			struct slot *sl = &slots[s];
			int kind = rng_below(10);
			if (kind == 0 && sl->dead) {
				rv_delete(users[sl->user].access, sl->dead, &r);
				ck_assert_msg(r.status == 404, "seed %" PRIu64 " step %d: %ld",
				              seed, step, r.status);
				ops[5]++;
			} else {
				rv_delete(kind < 3 ? admin.access : users[sl->user].access,
				          sl->review, &r);
				ck_assert_msg(r.status == 204,
				              "seed %" PRIu64 " step %d: delete"
				              " answered %ld %s",
				              seed, step, r.status, r.body);
				sl->dead = sl->review;
				sl->review = 0;
				ops[4]++;
			}
		}

		/* stored == recomputed from the rows == the test's own model, for every item */
		touched = slots[s].item;
		for (int i = 0; i < RND_ITEMS; i++) {
			int64_t m_size, m_x100, c_size, c_x100, s_size, s_x100;
			model_stats(slots, i, &m_size, &m_x100);
			rv_recount(items[i], &c_size, &c_x100);
			rv_item_stats(items[i], &s_size, &s_x100);
			if (s_size != c_size || s_x100 != c_x100 || c_size != m_size ||
			    c_x100 != m_x100)
				ck_abort_msg("seed %" PRIu64 " step %d item %d: stored %lld/%lld,"
				             " recomputed %lld/%lld, model %lld/%lld",
				             seed, step, i, (long long)s_size, (long long)s_x100,
				             (long long)c_size, (long long)c_x100,
				             (long long)m_size, (long long)m_x100);
			if (i == touched)
				rv_assert_stats(items[i], names[i], m_size, m_x100);
		}
	}
	fprintf(stderr,
	        "randomized_sequence: %d creates, %d duplicate creates, %d updates, %d refused"
	        " updates, %d deletes, %d refused deletes\n",
	        ops[0], ops[1], ops[2], ops[3], ops[4], ops[5]);
	ck_assert_int_gt(ops[0], 20);
	ck_assert_int_gt(ops[2], 10);
	ck_assert_int_gt(ops[4], 10);
	it_resp_free(&r);
}
END_TEST

/* ---- concurrency ----------------------------------------------------------------------------- */

/* One request from a child process (no Check calls there): the status, or -1. The reviewId
 * of a 201 goes to *review_id when not NULL. */
static long child_request(const char *method, const char *token, const char *body,
                          int64_t *review_id)
{
	struct it_resp r = IT_RESP_INIT;
	char auth[2200];
	const char *hdrs[3] = {auth, "Content-Type: application/json", NULL};
	long status;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	if (it_http(method, "/api/reviews", hdrs, body, strlen(body), &r) != 0) {
		it_resp_free(&r);
		return -1;
	}
	status = r.status;
	if (status == 201 && review_id) {
		const cJSON *data = cJSON_GetObjectItemCaseSensitive(r.json, "data");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(data, "reviewId");
		*review_id = cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
	}
	it_resp_free(&r);
	return status;
}

/* Blocks until the parent closes the pipe's write end: every child starts at once. */
static void child_wait_start(int fds[2])
{
	char c;

	close(fds[1]);
	while (read(fds[0], &c, 1) < 0 && errno == EINTR)
		;
	close(fds[0]);
}

/* Waits for every child; their exit codes go to codes[] (-1 when killed by a signal). */
static void wait_children(const pid_t *pids, int n, int *codes)
{
	for (int i = 0; i < n; i++) {
		int st = 0;
		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
		codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
}

#define CC_USERS 10
#define CC_DUPS  5

START_TEST(concurrent_creates_of_one_item)
{
	struct it_user users[CC_USERS];
	int64_t item, orders[CC_USERS], size, x100, sum = 0;
	char name[64];
	pid_t pids[CC_USERS + CC_DUPS];
	int codes[CC_USERS + CC_DUPS], fds[2], created_dup = 0;

	item = rv_item_new(name, sizeof(name));
	for (int i = 0; i < CC_USERS; i++) {
		it_new_user(&users[i]);
		orders[i] = rv_bought(users[i].id, item);
	}
	ck_assert_int_eq(pipe(fds), 0);
	/* users 1.. write one review each; user 0 sends the same review CC_DUPS times */
	for (int i = 0; i < CC_USERS + CC_DUPS; i++) {
		int u = i < CC_USERS ? i : 0;
		int star = 1 + (i * 7) % 5;
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char body[256];
			long st;
			child_wait_start(fds);
			snprintf(body, sizeof(body),
			         "{\"orderId\":%lld,\"itemId\":%lld,\"content\":\"race %d\","
			         "\"star\":%d}",
			         (long long)orders[u], (long long)item, i, star);
			st = child_request("POST", users[u].access, body, NULL);
			_exit(st == 201 ? star : st == 409 ? 10 : 20);
		}
	}
	close(fds[0]);
	close(fds[1]); /* go */
	wait_children(pids, CC_USERS + CC_DUPS, codes);

	for (int i = 0; i < CC_USERS + CC_DUPS; i++) {
		int u = i < CC_USERS ? i : 0;
		ck_assert_msg(codes[i] >= 1 && codes[i] <= 10,
		              "child %d: exit %d (20 = neither"
		              " 201 nor 409)",
		              i, codes[i]);
		if (u != 0)
			ck_assert_msg(codes[i] != 10, "user %d got a 409 for its only review", u);
		if (codes[i] != 10) {
			sum += codes[i];
			if (u == 0)
				created_dup++;
		}
	}
	ck_assert_msg(created_dup == 1, "user 0 sent the same review %d times: %d were created",
	              CC_DUPS + 1, created_dup);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM reviews WHERE item_id = ?",
	                            (struct db_param[]){DB_I64(item)}, 1),
	                 CC_USERS);
	rv_recount(item, &size, &x100);
	ck_assert_int_eq(size, CC_USERS);
	ck_assert_int_eq(x100, rv_avg_x100(sum, CC_USERS));
	rv_assert_stats(item, name, CC_USERS, rv_avg_x100(sum, CC_USERS));
}
END_TEST

#define MX_USERS 8
#define MX_ITEMS 2
#define MX_OPS   12

/*
 * The child of user u: a random run of creates, updates and deletes on its own two slots
 * (one order with both items). Exit code: final star of item 0 + 6 * final star of item 1
 * (0 = no ACTIVE review), or 100 + the failing step on an unexpected answer.
 */
static int mixed_child(const struct it_user *u, int64_t order, const int64_t *items, uint64_t seed)
{
	int64_t review[MX_ITEMS] = {0, 0};
	int star[MX_ITEMS] = {0, 0};
	char body[256];

	rng_seed(seed);
	for (int step = 0; step < MX_OPS; step++) {
		int i = rng_below(MX_ITEMS), s = 1 + rng_below(5);
		long st;
		if (!review[i]) {
			snprintf(
			    body, sizeof(body),
			    "{\"orderId\":%lld,\"itemId\":%lld,\"content\":\"mixed\",\"star\":%d}",
			    (long long)order, (long long)items[i], s);
			st = child_request("POST", u->access, body, &review[i]);
			if (st != 201 || !review[i])
				return 100 + step;
			star[i] = s;
		} else if (rng_below(3) == 0) {
			snprintf(body, sizeof(body), "{\"reviewId\":%lld}", (long long)review[i]);
			if (child_request("DELETE", u->access, body, NULL) != 204)
				return 100 + step;
			review[i] = 0;
			star[i] = 0;
		} else {
			snprintf(body, sizeof(body),
			         "{\"reviewId\":%lld,\"content\":\"mixed %d\",\"star\":%d}",
			         (long long)review[i], step, s);
			if (child_request("PATCH", u->access, body, NULL) != 200)
				return 100 + step;
			star[i] = s;
		}
	}
	return star[0] + 6 * star[1];
}

START_TEST(concurrent_mixed_writes_on_two_items)
{
	struct it_user users[MX_USERS];
	int64_t items[MX_ITEMS], orders[MX_USERS];
	char names[MX_ITEMS][64];
	pid_t pids[MX_USERS];
	int codes[MX_USERS], fds[2];
	int64_t count[MX_ITEMS] = {0, 0}, sum[MX_ITEMS] = {0, 0};
	uint64_t seed = test_seed();

	fprintf(stderr, "concurrent_mixed_writes_on_two_items: seed %" PRIu64 "\n", seed);
	for (int i = 0; i < MX_ITEMS; i++)
		items[i] = rv_item_new(names[i], sizeof(names[i]));
	for (int u = 0; u < MX_USERS; u++) {
		it_new_user(&users[u]);
		orders[u] = rv_order_new(users[u].id, "COMPLETE", items, MX_ITEMS);
	}
	ck_assert_int_eq(pipe(fds), 0);
	for (int u = 0; u < MX_USERS; u++) {
		pids[u] = fork();
		ck_assert_int_ge(pids[u], 0);
		if (pids[u] == 0) {
			child_wait_start(fds);
			_exit(mixed_child(&users[u], orders[u], items, seed + (uint64_t)u));
		}
	}
	close(fds[0]);
	close(fds[1]);
	wait_children(pids, MX_USERS, codes);

	for (int u = 0; u < MX_USERS; u++) {
		ck_assert_msg(codes[u] >= 0 && codes[u] < 36,
		              "seed %" PRIu64 " user %d: failed at"
		              " step %d",
		              seed, u, codes[u] - 100);
		int s0 = codes[u] % 6, s1 = codes[u] / 6;
		if (s0) {
			count[0]++;
			sum[0] += s0;
		}
		if (s1) {
			count[1]++;
			sum[1] += s1;
		}
	}
	for (int i = 0; i < MX_ITEMS; i++)
		rv_assert_stats(items[i], names[i], count[i], rv_avg_x100(sum[i], count[i]));
}
END_TEST

/* ---- the main page cache --------------------------------------------------------------------- */

/* The element of item_id in data.saleItem of GET /api/items/main, or NULL. */
static const cJSON *main_sale_item(const struct it_resp *r, int64_t item_id)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(r->json, "data");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(data, "saleItem"), *el;

	cJSON_ArrayForEach(el, list)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(el, "itemId");
		if (cJSON_IsNumber(id) && (int64_t)id->valuedouble == item_id)
			return el;
	}
	return NULL;
}

START_TEST(main_page_shows_new_statistics_at_once)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	int64_t item, other, order, id;
	const cJSON *el, *star;

	it_new_user(&u);
	item = rv_item_new(NULL, 0);
	/* the best seller of the whole catalogue, so it is on the main page */
	it_sql_exec("UPDATE items SET sales = 9000000000000000000 WHERE item_id = ?",
	            (struct db_param[]){DB_I64(item)}, 1);
	order = rv_bought(u.id, item);

	/* a review of another item drops any cached page: the next one is built with this item,
	 * then served from the cache */
	other = rv_item_new(NULL, 0);
	rv_create(u.access, rv_bought(u.id, other), other, "other", 3);
	for (int i = 0; i < 2; i++) {
		it_get("/api/items/main", NULL, &r);
		it_assert_status(&r, 200);
		el = main_sale_item(&r, item);
		ck_assert_msg(el != NULL, "the best seller is not in saleItem: %s", r.body);
		ck_assert_int_eq(it_json_int(el, "reviewSize"), 0);
		star = cJSON_GetObjectItemCaseSensitive(el, "starAvg");
		ck_assert_msg(cJSON_IsNumber(star) && star->valuedouble == 0.0, "starAvg not 0.0");
	}
	/* a review of the item shows at once */
	id = rv_create(u.access, order, item, "main", 4);
	it_get("/api/items/main", NULL, &r);
	it_assert_status(&r, 200);
	el = main_sale_item(&r, item);
	ck_assert_msg(el != NULL, "the best seller is not in saleItem: %s", r.body);
	ck_assert_int_eq(it_json_int(el, "reviewSize"), 1);
	star = cJSON_GetObjectItemCaseSensitive(el, "starAvg");
	ck_assert_msg(cJSON_IsNumber(star) && star->valuedouble == 4.0, "starAvg not 4.0");

	rv_patch(u.access, id, "main", 5, &r);
	it_assert_status(&r, 200);
	it_get("/api/items/main", NULL, &r);
	el = main_sale_item(&r, item);
	ck_assert_ptr_nonnull(el);
	star = cJSON_GetObjectItemCaseSensitive(el, "starAvg");
	ck_assert_msg(cJSON_IsNumber(star) && star->valuedouble == 5.0, "starAvg not 5.0");

	rv_delete(u.access, id, &r);
	it_assert_status(&r, 204);
	it_get("/api/items/main", NULL, &r);
	el = main_sale_item(&r, item);
	ck_assert_ptr_nonnull(el);
	ck_assert_int_eq(it_json_int(el, "reviewSize"), 0);

	/* leave the catalogue's ranking as it was */
	it_sql_exec("UPDATE items SET sales = 0 WHERE item_id = ?",
	            (struct db_param[]){DB_I64(item)}, 1);
	it_resp_free(&r);
}
END_TEST

Suite *reviews_stats_suite(void)
{
	Suite *s = suite_create("reviews_stats");
	TCase *tc;

	tc = tcase_create("sequence");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stats_follow_each_create_update_and_delete);
	tcase_add_test(tc, randomized_sequence_keeps_the_statistics_exact);
	tcase_add_test(tc, main_page_shows_new_statistics_at_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, concurrent_creates_of_one_item);
	tcase_add_test(tc, concurrent_mixed_writes_on_two_items);
	suite_add_tcase(s, tc);
	return s;
}
