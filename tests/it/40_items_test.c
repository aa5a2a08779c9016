/*
 * 40_items: the item detail and the main page (API.md §2.1, §2.9, §2.10, §4.2, §4.3), the
 * main-page cache and the unique-view counter.
 *
 *   detail   exactly 21 keys with every value, NULLs as null, the six price examples of §2.1
 *            written exactly, starAvg as a fraction, categories in §2.10 order or null, 404
 *            for unknown, zero and negative ids, 400 for ids that are not integers, public.
 *   main     saleItem / discountRateItem: exactly the 9 first items of the catalogue in
 *            their orders (compared with SQL over the whole table, whatever other tests left),
 *            ties by itemId, 13-key elements; the copy is served until the generation changes
 *            (the invalidation the server does) or the TTL passes (a daemon with a 2 s TTL).
 *   views    views from two client addresses (X-Forwarded-For through the trusted proxy) are
 *            counted once per address and day and written to items.views by the flusher of a
 *            second daemon (PV_VIEWS_FLUSH_S=1); two flushing daemons never add a delta twice.
 *   redis    with Redis stopped, detail, lists and the main page still answer 200.
 *
 * Daemons started by a test write their pid under $PV_IT_VAR, so the unchecked teardown can
 * stop them even when the test failed.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/redis.h"
#include "tests/it/lib/items.h"
#include "tests/it/lib/it.h"
#include "common/banned.h"

#define FLUSH_WAIT_S 15 /* views: the flusher runs every second; room for a slow machine */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void item_path(char *out, size_t n, int64_t id)
{
	snprintf(out, n, "/api/items/%" PRId64, id);
}

/* A complete item whose texts carry tok. The strings live in buf (one per test). */
struct texts {
	char product[160], enterprise[128], thumbnail[160], description[160], statement[32];
	char main_function[160], base_standard[160];
};

static void full_item(struct it_item *it, struct texts *t, const char *tok, const char *name)
{
	memset(it, 0, sizeof(*it));
	snprintf(t->product, sizeof(t->product), "%s %s", name, tok);
	snprintf(t->enterprise, sizeof(t->enterprise), "(주)씨티씨바이오 %s", tok);
	snprintf(t->thumbnail, sizeof(t->thumbnail), "https://cdn.example.com/items/%s/thumb.jpg",
	         tok);
	snprintf(t->description, sizeof(t->description),
	         "https://cdn.example.com/items/%s/desc.jpg", tok);
	snprintf(t->statement, sizeof(t->statement), "20040017059225");
	snprintf(t->main_function, sizeof(t->main_function),
	         "[프로바이오틱스] 유산균 증식 및 유해균 억제 %s", tok);
	snprintf(t->base_standard, sizeof(t->base_standard), "프로바이오틱스 수: 1억 CFU/g 이상");
	it->product = t->product;
	it->enterprise = t->enterprise;
	it->thumbnail = t->thumbnail;
	it->description_image = t->description;
	it->statement_number = t->statement;
	it->registered_date = "20220225";
	it->distribution_period = "제조일로부터 24개월";
	it->sungsang = "고유의 향미가 있고 이미, 이취가 없는 미색의 분말";
	it->serving_use = "1일 1회, 1회 1포를 물과 함께 섭취하십시오.";
	it->preserve_period = "직사광선을 피해 서늘한 곳에 보관";
	it->intake = "질환이 있거나 의약품 복용 시 전문가와 상담하십시오.";
	it->main_function = t->main_function;
	it->base_standard = t->base_standard;
	it->origin = 10000;
	it->p10 = 100;
}

/* ---- detail ----------------------------------------------------------------------------- */

START_TEST(detail_has_exactly_the_21_keys_with_their_values)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_item it;
	struct texts t;
	char tok[32], path[64];
	const cJSON *data;

	it_items_token(tok, sizeof(tok));
	full_item(&it, &t, tok, "16종혼합유산균 디에스");
	it.sales = 12;
	it.review_size = 2;
	it.star_x100 = 450;
	it.categories = IT_ETC | IT_INTESTINE | IT_BONE;
	it_item_insert(&it);
	item_path(path, sizeof(path), it.id);

	it_get(path, NULL, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	it_items_assert_detail(&r, data, &it);
	/* the §4.3 example's numbers, written exactly */
	it_items_assert_fraction(&r, it.id, "discountRate", 100, 3);
	ck_assert_int_eq(it_json_int(data, "realPrice"), 9000);
	ck_assert_int_eq(it_json_int(data, "discountPrice"), 1000);
	{
		char raw[32];
		it_items_raw(r.body, it.id, "discountRate", raw, sizeof(raw));
		ck_assert_str_eq(raw, "0.1");
		it_items_raw(r.body, it.id, "starAvg", raw, sizeof(raw));
		ck_assert_str_eq(raw, "4.5");
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(detail_writes_null_texts_and_no_categories_as_null)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_item it = {0};
	char tok[32], product[64], path[64], raw[32];
	const cJSON *data;

	it_items_token(tok, sizeof(tok));
	snprintf(product, sizeof(product), "빈 상품 %s", tok);
	it.product = product;
	it.origin = 5000;
	it_item_insert(&it);
	item_path(path, sizeof(path), it.id);

	it_get(path, NULL, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	it_items_assert_detail(&r, data, &it);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(data, "categories")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(data, "enterprise")));
	it_items_raw(r.body, it.id, "discountRate", raw, sizeof(raw));
	ck_assert_str_eq(raw, "0.0");
	it_items_raw(r.body, it.id, "starAvg", raw, sizeof(raw));
	ck_assert_str_eq(raw, "0.0");
	ck_assert_int_eq(it_json_int(data, "sales"), 0);
	it_resp_free(&r);
}
END_TEST

/* The six rows of the table in §2.1, and more fractions. */
START_TEST(detail_prices_follow_the_rule_of_2_1)
{
	static const struct {
		int64_t origin;
		int p10;
		const char *rate;
		int64_t discount, real;
	} rows[] = {
	    {10000, 100, "0.1", 1000, 9000},
	    {11000, 100, "0.1", 1100, 9900},
	    {12000, 90, "0.09", 1080, 10920},
	    {1010, 50, "0.05", 51, 959},
	    {12345, 125, "0.125", 1543, 10802},
	    {5000, 0, "0.0", 0, 5000},
	    {20000, 95, "0.095", 1900, 18100},
	    {7777, 1000, "1.0", 7777, 0},
	    {0, 300, "0.3", 0, 0},
	};
	static const struct {
		int64_t x100;
		const char *text;
	} stars[] = {{425, "4.25"}, {500, "5.0"}, {5, "0.05"}, {333, "3.33"}, {100, "1.0"}};
	struct it_resp r = IT_RESP_INIT;
	char tok[32], product[64], path[64], raw[32];

	it_items_token(tok, sizeof(tok));
	snprintf(product, sizeof(product), "가격 %s", tok);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct it_item it = {
		    .product = product, .origin = rows[i].origin, .p10 = rows[i].p10};
		const cJSON *data;

		it_item_insert(&it);
		item_path(path, sizeof(path), it.id);
		it_get(path, NULL, &r);
		it_assert_status(&r, 200);
		data = it_assert_wrapper(&r);
		it_items_raw(r.body, it.id, "discountRate", raw, sizeof(raw));
		ck_assert_msg(strcmp(raw, rows[i].rate) == 0,
		              "%lld at %d: discountRate %s, want %s", (long long)rows[i].origin,
		              rows[i].p10, raw, rows[i].rate);
		ck_assert_int_eq(it_json_int(data, "originPrice"), rows[i].origin);
		ck_assert_int_eq(it_json_int(data, "discountPrice"), rows[i].discount);
		ck_assert_int_eq(it_json_int(data, "realPrice"), rows[i].real);
	}
	for (size_t i = 0; i < sizeof(stars) / sizeof(stars[0]); i++) {
		struct it_item it = {.product = product,
		                     .origin = 1000,
		                     .star_x100 = stars[i].x100,
		                     .review_size = 3};
		it_item_insert(&it);
		item_path(path, sizeof(path), it.id);
		it_get(path, NULL, &r);
		it_assert_status(&r, 200);
		it_items_raw(r.body, it.id, "starAvg", raw, sizeof(raw));
		ck_assert_msg(strcmp(raw, stars[i].text) == 0,
		              "star_avg_x100 %lld: starAvg %s, want %s", (long long)stars[i].x100,
		              raw, stars[i].text);
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(detail_of_an_unknown_item_is_404)
{
	struct it_resp r = IT_RESP_INIT;
	char path[64];
	int64_t max = it_sql_i64("SELECT COALESCE(MAX(item_id), 0) FROM items", NULL, 0);
	static const char *const zero_or_negative[] = {"/api/items/0", "/api/items/-1",
	                                               "/api/items/-9223372036854775808"};

	item_path(path, sizeof(path), max + 1000000);
	it_get(path, NULL, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	for (size_t i = 0; i < 3; i++) {
		it_get(zero_or_negative[i], NULL, &r);
		it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	}
	it_get("/api/items/9223372036854775807", NULL, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(detail_with_an_id_that_is_not_an_integer_is_400)
{
	static const char *const bad[] = {"abc",  "1.5", "1e3", "99999999999999999999",
	                                  "0x10", "12a"};
	struct it_resp r = IT_RESP_INIT;
	char path[96];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "/api/items/%s", bad[i]);
		it_get(path, NULL, &r);
		it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
		it_assert_field_count(&r, 1);
		it_assert_field_error(&r, 0, "itemId", bad[i], IT_R_TYPE);
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(detail_is_public_and_ignores_a_bad_token)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_item it = {0};
	char tok[32], product[64], path[64];

	it_items_token(tok, sizeof(tok));
	snprintf(product, sizeof(product), "공개 %s", tok);
	it.product = product;
	it.origin = 3000;
	it_item_insert(&it);
	item_path(path, sizeof(path), it.id);
	it_get(path, "not-a-jwt", &r);
	it_assert_status(&r, 200);
	ck_assert_int_eq(it_json_int(it_assert_wrapper(&r), "itemId"), it.id);
	it_resp_free(&r);
}
END_TEST

/* ---- main page -------------------------------------------------------------------------- */

/* The first 9 item ids of the whole catalogue in an order, straight from SQL. */
static size_t sql_top9(const char *order_by, int64_t out[9])
{
	static const char sql_sales[] =
	    "SELECT item_id FROM items ORDER BY sales DESC, item_id LIMIT 9";
	static const char sql_discount[] =
	    "SELECT item_id FROM items ORDER BY discount_p10 DESC, item_id LIMIT 9";
	struct db_rows *rows = NULL;
	size_t n;
	int rc = db_query(it_db(), strcmp(order_by, "sales") == 0 ? sql_sales : sql_discount, NULL,
	                  0, &rows);

	ck_assert_msg(rc == 0, "top 9 query failed: %s", db_last_error(it_db()));
	n = db_rows_count(rows);
	for (size_t i = 0; i < n; i++)
		out[i] = db_rows_i64(rows, i, 0);
	db_rows_free(rows);
	return n;
}

/* saleItem[0].itemId of a main-page answer. */
static int64_t first_sale_item(const struct it_resp *r)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(r->json, "data");
	const cJSON *sale = cJSON_GetObjectItemCaseSensitive(data, "saleItem");
	const cJSON *first = cJSON_GetArrayItem(sale, 0);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(first, "itemId");
	return cJSON_IsNumber(id) ? (int64_t)id->valuedouble : -1;
}

START_TEST(main_lists_the_9_best_sellers_and_the_9_best_discounts)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_item items[11];
	struct texts t[11];
	char tok[32];
	int64_t base = it_items_big_sales(), want[9];
	const cJSON *data, *sale, *disc, *e;
	size_t n;

	it_items_token(tok, sizeof(tok));
	/* sales base+10 .. base+1, two items tied on base+8 (the lower id first) */
	for (int i = 0; i < 11; i++) {
		full_item(&items[i], &t[i], tok, "메인");
		items[i].sales = base + 10 - i + (i >= 3 ? 1 : 0);
		items[i].origin = 10000 + i * 1000;
		items[i].p10 = i < 2 ? 1000 : 100 + i;
		items[i].categories = i % 2 ? IT_EYE : 0;
		items[i].review_size = i;
		items[i].star_x100 = 300 + i;
		it_item_insert(&items[i]);
	}
	ck_assert_int_eq(items[2].sales, items[3].sales);
	it_items_main_invalidate();

	it_get("/api/items/main", NULL, &r);
	it_assert_status(&r, 200);
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "saleItem", "discountRateItem", NULL);
	sale = cJSON_GetObjectItemCaseSensitive(data, "saleItem");
	disc = cJSON_GetObjectItemCaseSensitive(data, "discountRateItem");

	/* our items have the highest sales of the catalogue: they are the list, in order */
	for (int i = 0; i < 9; i++)
		want[i] = items[i].id;
	it_items_assert_ids(&r, sale, want, 9);
	n = 0;
	cJSON_ArrayForEach(e, sale) it_items_assert_element(&r, e, &items[n++]);
	/* and the lists are exactly the catalogue's first 9 in both orders */
	n = sql_top9("sales", want);
	it_items_assert_ids(&r, sale, want, n);
	n = sql_top9("discount", want);
	it_items_assert_ids(&r, disc, want, n);
	cJSON_ArrayForEach(e, disc)
	{
		it_assert_keys(e, "itemId", "thumbnail", "productName", "enterprise",
		               "mainFunction", "baseStandard", "realPrice", "discountRate",
		               "discountPrice", "sales", "starAvg", "reviewSize", "categories",
		               NULL);
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(main_is_served_from_the_cache_until_the_generation_changes)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_item first, second;
	struct texts t1, t2;
	char tok[32];

	it_items_token(tok, sizeof(tok));
	full_item(&first, &t1, tok, "캐시1");
	first.sales = it_items_big_sales();
	it_item_insert(&first);
	it_items_main_invalidate();
	it_get("/api/items/main", NULL, &r);
	it_assert_status(&r, 200);
	ck_assert_int_eq(first_sale_item(&r), first.id);

	/* a SQL change alone does not reach the cached copy ... */
	full_item(&second, &t2, tok, "캐시2");
	second.sales = it_items_big_sales();
	it_item_insert(&second);
	it_get("/api/items/main", NULL, &r);
	it_assert_status(&r, 200);
	it_assert_wrapper(&r);
	ck_assert_msg(first_sale_item(&r) == first.id,
	              "the main page was rebuilt without a generation change (cache not used)");
	/* ... the invalidation (INCR of the generation) does, on every instance */
	it_items_main_invalidate();
	it_get("/api/items/main", NULL, &r);
	it_assert_status(&r, 200);
	it_assert_wrapper(&r);
	ck_assert_int_eq(first_sale_item(&r), second.id);
	it_resp_free(&r);
}
END_TEST

/* ---- a second daemon: short cache TTL and a flusher every second --------------------------- */

static void spawn_pid_path(char *out, size_t n, int port)
{
	snprintf(out, n, "%s/items-spawn-%d.pid", it_var(), port);
}

static pid_t spawn_daemon(int port)
{
	char port_kv[64], path[512];
	const char *env[] = {port_kv, "PV_VIEWS_FLUSH_S=1", "PV_MAIN_CACHE_TTL_S=2", NULL};
	pid_t pid;
	FILE *f;

	snprintf(port_kv, sizeof(port_kv), "PV_API_PORT=%d", port);
	pid = it_api_spawn(NULL, env, port);
	ck_assert_msg(pid > 0, "a second pillivery-api did not start on port %d", port);
	spawn_pid_path(path, sizeof(path), port);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%ld\n", (long)pid);
		fclose(f);
	}
	return pid;
}

static void stop_daemon(pid_t pid, int port)
{
	char path[512];
	int st = -1;

	ck_assert_msg(it_proc_stop(pid, 10000, &st) == 0, "the daemon on port %d did not stop",
	              port);
	spawn_pid_path(path, sizeof(path), port);
	unlink(path);
}

/* Unchecked teardown: stops the daemons a failed test left behind (by their recorded pid). */
static void stop_spawned(void)
{
	for (int k = 1; k <= 2; k++) {
		char path[512];
		long pid = 0;
		FILE *f;

		spawn_pid_path(path, sizeof(path), it_api_port() + k);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%ld", &pid) == 1 && pid > 0) {
			int st;
			it_proc_stop((pid_t)pid, 10000, &st);
		}
		fclose(f);
		unlink(path);
	}
}

START_TEST(main_copy_expires_after_the_ttl)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_item first, second;
	struct texts t1, t2;
	char tok[32];
	int port = it_api_port() + 1;
	pid_t pid = spawn_daemon(port);
	double deadline;

	it_items_token(tok, sizeof(tok));
	full_item(&first, &t1, tok, "TTL1");
	first.sales = it_items_big_sales();
	it_item_insert(&first);
	it_items_main_invalidate();
	ck_assert_int_eq(it_http_to(port, 5000, "GET", "/api/items/main", NULL, NULL, 0, &r), 0);
	it_assert_status(&r, 200);
	ck_assert_int_eq(first_sale_item(&r), first.id);

	full_item(&second, &t2, tok, "TTL2");
	second.sales = it_items_big_sales();
	it_item_insert(&second);
	ck_assert_int_eq(it_http_to(port, 5000, "GET", "/api/items/main", NULL, NULL, 0, &r), 0);
	ck_assert_msg(first_sale_item(&r) == first.id, "the copy was not served within its TTL");
	/* no invalidation: the 2 s TTL alone brings the change */
	deadline = now_s() + 10;
	while (first_sale_item(&r) != second.id && now_s() < deadline) {
		sleep_ms(250);
		ck_assert_int_eq(
		    it_http_to(port, 5000, "GET", "/api/items/main", NULL, NULL, 0, &r), 0);
		it_assert_status(&r, 200);
	}
	ck_assert_msg(first_sale_item(&r) == second.id,
	              "the main page still shows the old copy 10 s after a 2 s TTL");
	it_resp_free(&r);
	stop_daemon(pid, port);
}
END_TEST

/* "YYYYMMDD" of the Asia/Seoul day of t. */
static void kst_day(time_t t, char out[16])
{
	struct tm tm;
	time_t k = t + 9 * 3600;
	gmtime_r(&k, &tm);
	strftime(out, 16, "%Y%m%d", &tm);
}

/* PFCOUNT of the view HyperLogLog of item id (today's, or yesterday's around midnight). */
static long long view_count(int64_t id)
{
	char day[16], key[160];
	long long total = 0;

	for (int back = 0; back < 2; back++) {
		redisReply *reply = NULL;
		kst_day(time(NULL) - back * 86400, day);
		snprintf(key, sizeof(key), "%sviews:%s:%" PRId64, it_items_prefix(), day, id);
		ck_assert_int_eq(redis_cmd(it_items_redis(), &reply, "PFCOUNT %s", key), 0);
		total += reply->integer;
		freeReplyObject(reply);
	}
	return total;
}

static int64_t sql_views(int64_t id)
{
	struct db_param p[1] = {DB_I64(id)};
	return it_sql_i64("SELECT views FROM items WHERE item_id = ?", p, 1);
}

/* Polls items.views until it is want (or the wait is over); returns the last value. */
static int64_t wait_views(int64_t id, int64_t want)
{
	double deadline = now_s() + FLUSH_WAIT_S;
	int64_t v = sql_views(id);

	while (v != want && now_s() < deadline) {
		sleep_ms(200);
		v = sql_views(id);
	}
	return v;
}

static void get_from(const char *path, const char *ip, long status)
{
	struct it_resp r = IT_RESP_INIT;
	char h[80];
	const char *hdrs[] = {h, NULL};

	snprintf(h, sizeof(h), "X-Forwarded-For: %s", ip);
	it_req("GET", path, NULL, NULL, hdrs, &r);
	it_assert_status(&r, status);
	it_resp_free(&r);
}

START_TEST(views_are_unique_per_client_and_flushed_to_the_item)
{
	struct it_item it = {0}, other = {0};
	char tok[32], product[64], path[64], path_other[64], ip1[32], ip2[32], ip3[32];
	int port = it_api_port() + 1;
	pid_t pid;

	it_items_token(tok, sizeof(tok));
	snprintf(product, sizeof(product), "조회 %s", tok);
	it.product = other.product = product;
	it.origin = other.origin = 1000;
	it_item_insert(&it);
	it_item_insert(&other);
	item_path(path, sizeof(path), it.id);
	item_path(path_other, sizeof(path_other), other.id);
	it_unique_ip(ip1, sizeof(ip1));
	it_unique_ip(ip2, sizeof(ip2));
	it_unique_ip(ip3, sizeof(ip3));

	/* the test daemon counts (it flushes every 10 min only) ... */
	get_from(path, ip1, 200);
	get_from(path, ip1, 200);
	get_from(path, ip2, 200);
	get_from(path_other, ip1, 200);
	ck_assert_int_eq(view_count(it.id), 2);
	ck_assert_int_eq(view_count(other.id), 1);

	/* ... a second instance's flusher writes the counts */
	pid = spawn_daemon(port);
	ck_assert_int_eq(wait_views(it.id, 2), 2);
	ck_assert_int_eq(wait_views(other.id, 1), 1);

	/* only the growth is added: a known client adds nothing, a new one adds one */
	get_from(path, ip1, 200);
	get_from(path, ip3, 200);
	ck_assert_int_eq(wait_views(it.id, 3), 3);
	sleep_ms(2500); /* two more flushes: nothing is added twice */
	ck_assert_int_eq(sql_views(it.id), 3);
	ck_assert_int_eq(sql_views(other.id), 1);
	stop_daemon(pid, port);
}
END_TEST

START_TEST(views_of_unknown_items_are_not_counted)
{
	char path[64], ip[32];
	int64_t max = it_sql_i64("SELECT COALESCE(MAX(item_id), 0) FROM items", NULL, 0);

	it_unique_ip(ip, sizeof(ip));
	item_path(path, sizeof(path), max + 777777);
	get_from(path, ip, 404);
	ck_assert_int_eq(view_count(max + 777777), 0);
}
END_TEST

START_TEST(two_flushing_instances_never_add_a_delta_twice)
{
	struct it_item items[3] = {{0}};
	char tok[32], product[64], paths[3][64], ip[32];
	int port1 = it_api_port() + 1, port2 = it_api_port() + 2;
	pid_t p1, p2;

	it_items_token(tok, sizeof(tok));
	snprintf(product, sizeof(product), "동시 %s", tok);
	for (int i = 0; i < 3; i++) {
		items[i].product = product;
		items[i].origin = 1000;
		it_item_insert(&items[i]);
		item_path(paths[i], sizeof(paths[i]), items[i].id);
	}
	p1 = spawn_daemon(port1);
	p2 = spawn_daemon(port2);
	/* views keep arriving through both instances while both flush every second */
	for (int k = 0; k < 24; k++) {
		struct it_resp r = IT_RESP_INIT;
		char h[80];
		const char *hdrs[] = {h, NULL};

		it_unique_ip(ip, sizeof(ip));
		snprintf(h, sizeof(h), "X-Forwarded-For: %s", ip);
		for (int i = 0; i <= k % 3; i++) {
			ck_assert_int_eq(it_http_to(k % 2 ? port1 : port2, 5000, "GET", paths[i],
			                            hdrs, NULL, 0, &r),
			                 0);
			it_assert_status(&r, 200);
		}
		it_resp_free(&r);
		sleep_ms(125);
	}
	for (int i = 0; i < 3; i++) {
		long long want = view_count(items[i].id);
		ck_assert_msg(want > 0, "no views counted for item %d", i);
		ck_assert_int_eq(wait_views(items[i].id, want), want);
	}
	sleep_ms(2500);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(sql_views(items[i].id), view_count(items[i].id));
	stop_daemon(p2, port2);
	stop_daemon(p1, port1);
}
END_TEST

/* ---- Redis down ------------------------------------------------------------------------- */

static bool ready_up(void)
{
	struct it_resp r = IT_RESP_INIT;
	bool ok = it_http("GET", "/ready", NULL, NULL, 0, &r) == 0 && r.status == 200;
	it_resp_free(&r);
	return ok;
}

/* Unchecked teardown: Redis up again and a fresh daemon, ready within 30 s. */
static void restore_redis(void)
{
	double deadline;

	if (it_services("start-redis") != 0)
		fprintf(stderr, "items: could not restart Redis\n");
	if (it_api_stop(NULL) != 0)
		fprintf(stderr, "items: pillivery-api did not stop cleanly\n");
	if (it_api_start() != 0)
		fprintf(stderr, "items: pillivery-api could not be started again\n");
	deadline = now_s() + 30;
	while (!ready_up() && now_s() < deadline)
		sleep_ms(200);
}

START_TEST(without_redis_detail_lists_and_main_still_answer)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_item it;
	struct texts t;
	char tok[32], path[64], search[128];
	const cJSON *data;

	it_items_token(tok, sizeof(tok));
	full_item(&it, &t, tok, "레디스");
	it.sales = it_items_big_sales();
	it_item_insert(&it);
	item_path(path, sizeof(path), it.id);
	snprintf(search, sizeof(search), "/api/items/search?keyword=%s", tok);
	ck_assert_int_eq(it_services("stop-redis"), 0);

	for (int i = 0; i < 3; i++) {
		it_get(path, NULL, &r);
		it_assert_status(&r, 200);
		ck_assert_msg(r.seconds < 3.0, "item detail took %.1f s without Redis", r.seconds);
		it_items_assert_detail(&r, it_assert_wrapper(&r), &it);
	}
	data = it_items_get_page(search, &r, 1, 8, 1);
	it_items_assert_element(&r, cJSON_GetArrayItem(data, 0), &it);
	/* the main page is built from the database each time: the new best seller is first */
	it_get("/api/items/main", NULL, &r);
	it_assert_status(&r, 200);
	it_assert_wrapper(&r);
	ck_assert_int_eq(first_sale_item(&r), it.id);
	ck_assert_msg(r.seconds < 3.0, "main page took %.1f s without Redis", r.seconds);
	it_resp_free(&r);
}
END_TEST

Suite *items_suite(void)
{
	Suite *s = suite_create("items");
	TCase *tc;

	tc = tcase_create("detail");
	tcase_add_test(tc, detail_has_exactly_the_21_keys_with_their_values);
	tcase_add_test(tc, detail_writes_null_texts_and_no_categories_as_null);
	tcase_add_test(tc, detail_prices_follow_the_rule_of_2_1);
	tcase_add_test(tc, detail_of_an_unknown_item_is_404);
	tcase_add_test(tc, detail_with_an_id_that_is_not_an_integer_is_400);
	tcase_add_test(tc, detail_is_public_and_ignores_a_bad_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("main");
	tcase_add_test(tc, main_lists_the_9_best_sellers_and_the_9_best_discounts);
	tcase_add_test(tc, main_is_served_from_the_cache_until_the_generation_changes);
	suite_add_tcase(s, tc);

	tc = tcase_create("second_daemon");
	tcase_set_timeout(tc, 90);
	tcase_add_checked_fixture(tc, stop_spawned, NULL);
	tcase_add_unchecked_fixture(tc, NULL, stop_spawned);
	tcase_add_test(tc, main_copy_expires_after_the_ttl);
	tcase_add_test(tc, views_are_unique_per_client_and_flushed_to_the_item);
	tcase_add_test(tc, views_of_unknown_items_are_not_counted);
	tcase_add_test(tc, two_flushing_instances_never_add_a_delta_twice);
	suite_add_tcase(s, tc);

	tc = tcase_create("redis_down");
	tcase_set_timeout(tc, 90);
	tcase_add_unchecked_fixture(tc, NULL, restore_redis);
	tcase_add_test(tc, without_redis_detail_lists_and_main_still_answer);
	suite_add_tcase(s, tc);
	return s;
}
