/* items: integration-test helpers for the item routes (see items.h). */
#include "tests/it/lib/items.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/db.h"
#include "common/redis.h"
#include "common/banned.h"

static const char sql_insert[] =
    "INSERT INTO items (product_name, enterprise, thumbnail, description_image,"
    " statement_number, registered_date, distribution_period, sungsang, serving_use,"
    " preserve_period, intake, main_function, base_standard, origin_price, discount_p10, sales,"
    " review_size, star_avg_x100, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())";
static const char sql_insert_category[] =
    "INSERT INTO item_categories (item_id, category_id) VALUES (?, ?)";

static const char *const names[9] = {"EYE",  "BONE",        "BRAIN",   "INTESTINE", "LIVER",
                                     "SKIN", "ANTIOXIDANT", "FATIGUE", "ETC"};

void it_items_token(char *out, size_t n)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char raw[40];
	uint64_t v;

	/* it_unique_name is unique per run, process and call; fold it into [a-z0-9]{16} */
	it_unique_name(raw, sizeof(raw), "tk");
	v = 1469598103934665603ull;
	for (const char *p = raw; *p; p++)
		v = (v ^ (unsigned char)*p) * 1099511628211ull;
	snprintf(out, n, "q%ld", (long)getpid() % 100000);
	for (size_t len = strlen(out); len < 16 && len + 1 < n; len++) {
		out[len] = alphabet[v % 36];
		out[len + 1] = '\0';
		v /= 36;
		if (v == 0)
			v = it_seq() * 2654435761u + 7;
	}
}

int64_t it_items_big_sales(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int64_t it_items_discount(int64_t origin, int p10)
{
	return (origin * p10 + 500) / 1000;
}

int64_t it_items_real(int64_t origin, int p10)
{
	return origin - it_items_discount(origin, p10);
}

void it_item_insert_at(struct it_loc at, struct it_item *it)
{
	uint64_t id = 0;
	int rc;
	struct db_param p[18] = {
	    DB_STR(it->product),
	    DB_STR(it->enterprise),
	    DB_STR(it->thumbnail),
	    DB_STR(it->description_image),
	    DB_STR(it->statement_number),
	    DB_STR(it->registered_date),
	    DB_STR(it->distribution_period),
	    DB_STR(it->sungsang),
	    DB_STR(it->serving_use),
	    DB_STR(it->preserve_period),
	    DB_STR(it->intake),
	    DB_STR(it->main_function),
	    DB_STR(it->base_standard),
	    DB_I64(it->origin),
	    DB_I64(it->p10),
	    DB_I64(it->sales),
	    DB_I64(it->review_size),
	    DB_I64(it->star_x100),
	};

	rc = db_exec(it_db(), sql_insert, p, 18, NULL, &id);
	it_check_at(at, NULL, rc == 0 && id > 0, "inserting item %s failed (%d: %s)",
	            it->product ? it->product : "(null)", rc, db_last_error(it_db()));
	it->id = (int64_t)id;
	for (int c = 8; c >= 0; c--) {
		if (!(it->categories & (1u << c)))
			continue;
		struct db_param q[2] = {DB_I64(it->id), DB_I64(c + 1)};
		it_sql_exec_at(at, sql_insert_category, q, 2);
	}
}

void it_items_raw_at(struct it_loc at, const char *body, int64_t item_id, const char *key,
                     char *out, size_t n)
{
	char start[64], k[80];
	const char *s, *next, *v;
	size_t len = 0;

	snprintf(start, sizeof(start), "{\"itemId\":%" PRId64 ",", item_id);
	snprintf(k, sizeof(k), "\"%s\":", key);
	s = body ? strstr(body, start) : NULL;
	it_check_at(at, NULL, s != NULL, "no object of item %" PRId64 " in %.1500s", item_id,
	            body ? body : "(no body)");
	next = strstr(s + 1, "{\"itemId\":");
	v = strstr(s, k);
	it_check_at(at, NULL, v && (!next || v < next), "no \"%s\" in the object of item %" PRId64,
	            key, item_id);
	v += strlen(k);
	while (v[len] && v[len] != ',' && v[len] != '}' && len + 1 < n)
		len++;
	memcpy(out, v, len);
	out[len] = '\0';
}

/* numer / 10^scale as the shortest decimal with at least one fractional digit (§1.3). */
static void fraction_text(int64_t numer, int scale, char *out, size_t n)
{
	int64_t div = 1, ip, fp;
	int digits = scale;

	for (int i = 0; i < scale; i++)
		div *= 10;
	ip = numer / div;
	fp = numer % div;
	while (digits > 1 && fp % 10 == 0) {
		fp /= 10;
		digits--;
	}
	if (scale == 0)
		snprintf(out, n, "%" PRId64 ".0", ip);
	else
		snprintf(out, n, "%" PRId64 ".%0*" PRId64, ip, digits, fp);
}

void it_items_assert_fraction_at(struct it_loc at, const struct it_resp *r, int64_t item_id,
                                 const char *key, int64_t numer, int scale)
{
	char got[64], want[64];

	it_items_raw_at(at, r->body, item_id, key, got, sizeof(got));
	fraction_text(numer, scale, want, sizeof(want));
	it_check_at(at, r, strcmp(got, want) == 0,
	            "item %" PRId64 ": \"%s\" must be written %s, got %s", item_id, key, want, got);
}

static void assert_text(struct it_loc at, const struct it_resp *r, const cJSON *o, const char *key,
                        const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!want) {
		it_check_at(at, r, cJSON_IsNull(v), "\"%s\" must be null", key);
		return;
	}
	it_check_at(at, r, cJSON_IsString(v) && strcmp(v->valuestring, want) == 0,
	            "\"%s\" must be \"%s\"", key, want);
}

static void assert_int(struct it_loc at, const struct it_resp *r, const cJSON *o, const char *key,
                       int64_t want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	it_check_at(at, r, cJSON_IsNumber(v) && v->valuedouble == (double)want,
	            "\"%s\" must be %" PRId64 " (item %g)", key, want,
	            cJSON_GetObjectItemCaseSensitive(o, "itemId")
	                ? cJSON_GetObjectItemCaseSensitive(o, "itemId")->valuedouble
	                : -1.0);
}

static void assert_categories(struct it_loc at, const struct it_resp *r, const cJSON *o,
                              uint32_t mask)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "categories"), *set, *e;
	int i = 0;

	if (!mask) {
		it_check_at(at, r, cJSON_IsNull(c),
		            "categories must be null for an item without any");
		return;
	}
	it_check_at(at, r, cJSON_IsObject(c), "categories must be an object");
	it_assert_keys_at(at, c, "categoryNameSet", NULL);
	set = cJSON_GetObjectItemCaseSensitive(c, "categoryNameSet");
	it_check_at(at, r, cJSON_IsArray(set), "categoryNameSet must be an array");
	e = set->child;
	for (int b = 0; b < 9; b++) {
		if (!(mask & (1u << b)))
			continue;
		it_check_at(at, r, e && cJSON_IsString(e) && strcmp(e->valuestring, names[b]) == 0,
		            "categoryNameSet[%d] must be %s (in the order of §2.10)", i, names[b]);
		e = e->next;
		i++;
	}
	it_check_at(at, r, e == NULL, "categoryNameSet has more than %d names", i);
}

void it_items_assert_element_at(struct it_loc at, const struct it_resp *r, const cJSON *o,
                                const struct it_item *it)
{

	it_assert_keys_at(at, o, "itemId", "thumbnail", "productName", "enterprise", "mainFunction",
	                  "baseStandard", "realPrice", "discountRate", "discountPrice", "sales",
	                  "starAvg", "reviewSize", "categories", NULL);
	assert_int(at, r, o, "itemId", it->id);
	assert_text(at, r, o, "thumbnail", it->thumbnail);
	assert_text(at, r, o, "productName", it->product);
	assert_text(at, r, o, "enterprise", it->enterprise);
	assert_text(at, r, o, "mainFunction", it->main_function);
	assert_text(at, r, o, "baseStandard", it->base_standard);
	assert_int(at, r, o, "realPrice", it_items_real(it->origin, it->p10));
	assert_int(at, r, o, "discountPrice", it_items_discount(it->origin, it->p10));
	assert_int(at, r, o, "sales", it->sales);
	assert_int(at, r, o, "reviewSize", it->review_size);
	/* exact number texts, read from the body as sent */
	it_items_assert_fraction_at(at, r, it->id, "discountRate", it->p10, 3);
	it_items_assert_fraction_at(at, r, it->id, "starAvg", it->star_x100, 2);
	assert_categories(at, r, o, it->categories);
}

void it_items_assert_detail_at(struct it_loc at, const struct it_resp *r, const cJSON *o,
                               const struct it_item *it)
{
	it_assert_keys_at(at, o, "itemId", "thumbnail", "descriptionImage", "enterprise",
	                  "productName", "statementNumber", "registeredDate", "distributionPeriod",
	                  "sungsang", "servingUse", "preservePeriod", "intake", "mainFunction",
	                  "baseStandard", "realPrice", "originPrice", "discountRate",
	                  "discountPrice", "sales", "starAvg", "categories", NULL);
	assert_int(at, r, o, "itemId", it->id);
	assert_text(at, r, o, "thumbnail", it->thumbnail);
	assert_text(at, r, o, "descriptionImage", it->description_image);
	assert_text(at, r, o, "enterprise", it->enterprise);
	assert_text(at, r, o, "productName", it->product);
	assert_text(at, r, o, "statementNumber", it->statement_number);
	assert_text(at, r, o, "registeredDate", it->registered_date);
	assert_text(at, r, o, "distributionPeriod", it->distribution_period);
	assert_text(at, r, o, "sungsang", it->sungsang);
	assert_text(at, r, o, "servingUse", it->serving_use);
	assert_text(at, r, o, "preservePeriod", it->preserve_period);
	assert_text(at, r, o, "intake", it->intake);
	assert_text(at, r, o, "mainFunction", it->main_function);
	assert_text(at, r, o, "baseStandard", it->base_standard);
	assert_int(at, r, o, "realPrice", it_items_real(it->origin, it->p10));
	assert_int(at, r, o, "originPrice", it->origin);
	assert_int(at, r, o, "discountPrice", it_items_discount(it->origin, it->p10));
	assert_int(at, r, o, "sales", it->sales);
	it_items_assert_fraction_at(at, r, it->id, "discountRate", it->p10, 3);
	it_items_assert_fraction_at(at, r, it->id, "starAvg", it->star_x100, 2);
	assert_categories(at, r, o, it->categories);
}

const cJSON *it_items_assert_page_at(struct it_loc at, const struct it_resp *r, int64_t page,
                                     int64_t size, int64_t total)
{
	const char *ct = it_resp_header(r, "Content-Type");
	const cJSON *info, *data;

	it_check_at(at, r, r->status == 200, "expected 200, got %ld", r->status);
	it_check_at(at, r, cJSON_IsObject(r->json), "body is not a JSON object");
	it_check_at(at, r, ct && strcmp(ct, "application/json; charset=utf-8") == 0,
	            "Content-Type must be application/json; charset=utf-8, got %s",
	            ct ? ct : "(none)");
	it_assert_keys_at(at, r->json, "time", "data", "pageInfo", NULL);
	it_assert_ts_recent_at(at, "time", cJSON_GetObjectItemCaseSensitive(r->json, "time"), 300);
	data = cJSON_GetObjectItemCaseSensitive(r->json, "data");
	it_check_at(at, r, cJSON_IsArray(data), "data must be an array");
	info = cJSON_GetObjectItemCaseSensitive(r->json, "pageInfo");
	it_assert_keys_at(at, info, "page", "size", "totalElements", "totalPages", NULL);
	assert_int(at, r, info, "page", page);
	assert_int(at, r, info, "size", size);
	assert_int(at, r, info, "totalElements", total);
	assert_int(at, r, info, "totalPages", (total + size - 1) / size);
	return data;
}

void it_items_assert_ids_at(struct it_loc at, const struct it_resp *r, const cJSON *data,
                            const int64_t *ids, size_t n)
{
	const cJSON *e;
	size_t i = 0;

	it_check_at(at, r, cJSON_IsArray(data), "data must be an array");
	it_check_at(at, r, (size_t)cJSON_GetArraySize(data) == n, "expected %zu elements, got %d",
	            n, cJSON_GetArraySize(data));
	cJSON_ArrayForEach(e, data)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "itemId");
		it_check_at(at, r, cJSON_IsNumber(id) && (int64_t)id->valuedouble == ids[i],
		            "element %zu must be item %" PRId64 ", got %g", i, ids[i],
		            cJSON_IsNumber(id) ? id->valuedouble : -1.0);
		i++;
	}
}

const cJSON *it_items_get_page_at(struct it_loc at, const char *path, struct it_resp *out,
                                  int64_t page, int64_t size, int64_t total)
{
	it_req_at(at, "GET", path, NULL, NULL, NULL, out);
	return it_items_assert_page_at(at, out, page, size, total);
}

void it_items_urlencode(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < n; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static struct redis *redis_conn;
static pid_t redis_pid;

const char *it_items_prefix(void)
{
	const char *p = getenv("PV_REDIS_PREFIX");
	return p ? p : "pv:";
}

struct redis *it_items_redis(void)
{
	if (redis_conn && redis_pid != getpid())
		redis_conn = NULL; /* the parent's: never touch it */
	if (!redis_conn) {
		const char *port = it_getenv("PV_REDIS_PORT");
		struct redis_config cfg = {
		    .host = it_getenv("PV_REDIS_HOST") ? it_getenv("PV_REDIS_HOST") : "127.0.0.1",
		    .port = port ? (int)strtol(port, NULL, 10) : 6381,
		    .password = getenv("PV_REDIS_PASSWORD"),
		    .timeout_ms = 2000,
		    .prefix = it_items_prefix(),
		};
		redis_conn = redis_new(&cfg);
		redis_pid = getpid();
	}
	return redis_conn;
}

void it_items_main_invalidate_at(struct it_loc at)
{
	int rc = redis_cmd(it_items_redis(), NULL, "INCR %scache:main:gen", it_items_prefix());
	it_check_at(at, NULL, rc == 0, "INCR of the main-page generation failed (%d)", rc);
}
