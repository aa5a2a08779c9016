/*
 * 41_items_search: the four list endpoints of API.md §4.4 with the filters and sorts of §2.9
 * and the paging of §1.4.
 *
 * Every test makes its own items whose product names (or enterprises) carry a token unique to
 * the test, and filters on it, so that leftovers of other tests never match; where a filter
 * cannot be narrowed that way (no keyword), totalElements is compared with the same count in
 * SQL over the whole table.
 *
 *   search     the §4.4 example; each of the six sorts with ties broken by itemId; the default
 *              sort; paging (clamps, a page past the end, no match); keyword substring that is
 *              case-insensitive for Latin letters only, with %, _ and \ literal; the price rules
 *              (none, equality, swap, one side, inclusive, on realPrice); the 100-character
 *              limit; every error of the §4.4 table in field-table order.
 *   on-sale    discountRate > 0 only, with keyword, price and sort.
 *   categories the category set (items with two categories, items with none), the required
 *              and validated categoryName, keyword and price.
 *   brands     enterprise substring with the same rules, NULL enterprises, the limit.
 */
#include <check.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/it/lib/items.h"
#include "tests/it/lib/it.h"
#include "common/banned.h"

#define R_MIN0   "0 이상이어야 합니다"
#define R_LEN100 "100자 이하여야 합니다"

/* Items of one test: names built in place, so the struct strings stay valid. */
struct set {
	char tok[32];
	char names[16][320];
	char brands[16][200];
	struct it_item items[16];
	size_t n;
};

static void set_init(struct set *s)
{
	memset(s, 0, sizeof(*s));
	it_items_token(s->tok, sizeof(s->tok));
}

/* Adds an item named prefix+tok+suffix with the price (origin, p10); returns it. */
static struct it_item *add(struct set *s, const char *prefix, const char *suffix, int64_t origin,
                           int p10)
{
	struct it_item *it;
	char tok[32];

	ck_assert(s->n < 16);
	it = &s->items[s->n];
	memcpy(tok, s->tok, sizeof(tok));
	snprintf(s->names[s->n], sizeof(s->names[s->n]), "%s%s%s", prefix, tok, suffix);
	it->product = s->names[s->n];
	it->origin = origin;
	it->p10 = p10;
	s->n++;
	return it;
}

static void insert_all(struct set *s)
{
	for (size_t i = 0; i < s->n; i++)
		it_item_insert(&s->items[i]);
}

static void enc(const char *s, char *out, size_t n)
{
	it_items_urlencode(s, out, n);
}

/* ---- the example of §4.4 ---------------------------------------------------------------- */

START_TEST(search_example_of_4_4)
{
	struct it_resp r = IT_RESP_INIT;
	struct set s;
	struct it_item *a, *b;
	char kw[128], q[512], path[600];
	const cJSON *data;
	int64_t want[2];

	set_init(&s);
	a = add(&s, "16종혼합유산균 디에스", "", 10000, 0);
	b = add(&s, "프로바이오틱스 디에스", " 골드", 12000, 0);
	add(&s, "디에스", " 미니", 9999, 0);      /* below low */
	add(&s, "디에스", " 맥스", 15000, 0);     /* above high */
	add(&s, "다른 상품 ", "", 11000, 0);      /* price fits, name does not */
	add(&s, "디에스", " 플러스", 16000, 100); /* origin above, realPrice 14400 fits */
	a->categories = IT_INTESTINE;
	a->main_function = "[프로바이오틱스] 유산균 증식 및 유해균 억제";
	a->sales = 12;
	a->star_x100 = 450;
	a->review_size = 2;
	insert_all(&s);

	snprintf(kw, sizeof(kw), "디에스%s", s.tok);
	enc(kw, q, sizeof(q));
	/* the keyword is "디에스<token>": "16종혼합유산균 디에스<token>" etc. contain it */
	snprintf(path, sizeof(path),
	         "/api/items/search?keyword=%s&low=10000&high=14999&sort=PRICE_L", q);
	data = it_items_get_page(path, &r, 1, 8, 3);
	want[0] = a->id;
	want[1] = b->id;
	{
		int64_t all[3] = {a->id, b->id, s.items[5].id};
		it_items_assert_ids(&r, data, all, 3);
	}
	it_items_assert_element(&r, cJSON_GetArrayItem(data, 0), a);
	it_items_assert_element(&r, cJSON_GetArrayItem(data, 1), b);
	it_items_assert_element(&r, cJSON_GetArrayItem(data, 2), &s.items[5]);

	/* exactly the contract's two results when the realPrice-only item is priced out */
	snprintf(path, sizeof(path),
	         "/api/items/search?keyword=%s&low=10000&high=14000&sort=PRICE_L", q);
	data = it_items_get_page(path, &r, 1, 8, 2);
	it_items_assert_ids(&r, data, want, 2);
	it_resp_free(&r);
}
END_TEST

/* ---- sorts ------------------------------------------------------------------------------ */

static const char *const sort_names[6] = {"SALES",           "PRICE_H",         "PRICE_L",
                                          "DISCOUNT_RATE_H", "DISCOUNT_RATE_L", "REVIEW_COUNT"};
static int sort_by;

/* The order of §2.9 computed in the test: key, then itemId ascending. */
static int cmp_items(const void *x, const void *y)
{
	const struct it_item *a = x, *b = y;
	int64_t ka = 0, kb = 0;

	switch (sort_by) {
	case 0:
		ka = -a->sales, kb = -b->sales;
		break;
	case 1:
		ka = -it_items_real(a->origin, a->p10), kb = -it_items_real(b->origin, b->p10);
		break;
	case 2:
		ka = it_items_real(a->origin, a->p10), kb = it_items_real(b->origin, b->p10);
		break;
	case 3:
		ka = -a->p10, kb = -b->p10;
		break;
	case 4:
		ka = a->p10, kb = b->p10;
		break;
	default:
		ka = -a->review_size, kb = -b->review_size;
		break;
	}
	if (ka != kb)
		return ka < kb ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static void expected_order(const struct set *s, int sort, int64_t *ids)
{
	struct it_item copy[16];

	memcpy(copy, s->items, sizeof(copy));
	sort_by = sort;
	qsort(copy, s->n, sizeof(copy[0]), cmp_items);
	for (size_t i = 0; i < s->n; i++)
		ids[i] = copy[i].id;
}

/* Ties on every key: a,b on sales; a,b,e on realPrice; a,c / d,f / b,e on discount; b,d,f on
 * reviews. Inserted out of key order, so only the tie-break can give the expected order. */
static void make_tied_set(struct set *s, const char *prefix)
{
	struct it_item *it;

	it = add(s, prefix, " e", 3000, 0), it->sales = 9, it->review_size = 0;
	it = add(s, prefix, " a", 4000, 250), it->sales = 5, it->review_size = 2;
	it = add(s, prefix, " f", 9000, 100), it->sales = 0, it->review_size = 7;
	it = add(s, prefix, " b", 3000, 0), it->sales = 5, it->review_size = 7;
	it = add(s, prefix, " c", 5000, 250), it->sales = 9, it->review_size = 2;
	it = add(s, prefix, " d", 2000, 100), it->sales = 1, it->review_size = 7;
	insert_all(s);
	ck_assert_int_eq(it_items_real(4000, 250), 3000);
}

START_TEST(search_every_sort_breaks_ties_by_item_id)
{
	struct it_resp r = IT_RESP_INIT;
	struct set s;
	char path[256];
	int64_t want[16];
	const cJSON *data;

	set_init(&s);
	make_tied_set(&s, "정렬");
	for (int k = 0; k < 6; k++) {
		snprintf(path, sizeof(path), "/api/items/search?keyword=%s&sort=%s", s.tok,
		         sort_names[k]);
		data = it_items_get_page(path, &r, 1, 8, 6);
		expected_order(&s, k, want);
		it_items_assert_ids(&r, data, want, 6);
	}
	/* no sort: SALES */
	snprintf(path, sizeof(path), "/api/items/search?keyword=%s", s.tok);
	data = it_items_get_page(path, &r, 1, 8, 6);
	expected_order(&s, 0, want);
	it_items_assert_ids(&r, data, want, 6);
	it_resp_free(&r);
}
END_TEST

START_TEST(on_sale_categories_and_brands_sort_the_same_way)
{
	struct it_resp r = IT_RESP_INIT;
	struct set s;
	char path[256], brand[160];
	int64_t want[16];
	const cJSON *data;

	set_init(&s);
	snprintf(brand, sizeof(brand), "브랜드%s", s.tok);
	/* all discounted, all in SKIN, all of one brand: the three lists hold the same 6 items */
	add(&s, "정렬", " e", 3000, 1)->sales = 9;
	add(&s, "정렬", " a", 4000, 250)->sales = 5;
	add(&s, "정렬", " f", 9000, 100)->sales = 0;
	add(&s, "정렬", " b", 3000, 1)->sales = 5;
	add(&s, "정렬", " c", 5000, 250)->sales = 9;
	add(&s, "정렬", " d", 2000, 100)->sales = 1;
	for (size_t i = 0; i < s.n; i++) {
		s.items[i].categories = IT_SKIN | (i % 2 ? IT_EYE : 0);
		s.items[i].enterprise = brand;
		s.items[i].review_size = (int64_t)(i % 3);
	}
	insert_all(&s);
	for (int k = 0; k < 6; k++) {
		expected_order(&s, k, want);
		snprintf(path, sizeof(path), "/api/items/on-sale?keyword=%s&sort=%s", s.tok,
		         sort_names[k]);
		data = it_items_get_page(path, &r, 1, 8, 6);
		it_items_assert_ids(&r, data, want, 6);
		snprintf(path, sizeof(path),
		         "/api/items/categories?categoryName=SKIN&keyword=%s&sort=%s", s.tok,
		         sort_names[k]);
		data = it_items_get_page(path, &r, 1, 8, 6);
		it_items_assert_ids(&r, data, want, 6);
		snprintf(path, sizeof(path), "/api/items/brands?brand=%s&sort=%s", s.tok,
		         sort_names[k]);
		data = it_items_get_page(path, &r, 1, 8, 6);
		it_items_assert_ids(&r, data, want, 6);
	}
	it_resp_free(&r);
}
END_TEST

/* ---- paging ----------------------------------------------------------------------------- */

START_TEST(paging_clamps_and_pages_past_the_end)
{
	static const struct {
		const char *query; /* after keyword=<tok>&sort=PRICE_L */
		int64_t page, size;
		size_t from, count; /* slice of the expected order */
	} cases[] = {
	    {"", 1, 8, 0, 8},
	    {"&page=1&size=8", 1, 8, 0, 8},
	    {"&page=2", 2, 8, 8, 3},
	    {"&page=3", 3, 8, 11, 0},
	    {"&size=5", 1, 8, 0, 8},
	    {"&size=0", 1, 8, 0, 8},
	    {"&size=-3", 1, 8, 0, 8},
	    {"&size=3&page=2", 2, 8, 8, 3},
	    {"&size=9", 1, 9, 0, 9},
	    {"&size=9&page=2", 2, 9, 9, 2},
	    {"&size=100", 1, 100, 0, 11},
	    {"&size=101", 1, 100, 0, 11},
	    {"&size=99999999999", 1, 100, 0, 11},
	    {"&page=0", 1, 8, 0, 8},
	    {"&page=-4", 1, 8, 0, 8},
	    {"&page=1000000", 1000000, 8, 11, 0},
	    {"&page=1000001", 1000000, 8, 11, 0},
	    {"&page=9999999999999", 1000000, 8, 11, 0},
	    {"&page=", 1, 8, 0, 8},
	};
	struct it_resp r = IT_RESP_INIT;
	struct set s;
	char path[256];
	int64_t want[16];
	const cJSON *data;

	set_init(&s);
	for (int i = 0; i < 11; i++)
		add(&s, "페이지", "", 1000 + (i * 7 % 11) * 100, 0);
	insert_all(&s);
	expected_order(&s, 2, want);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		snprintf(path, sizeof(path), "/api/items/search?keyword=%s&sort=PRICE_L%s", s.tok,
		         cases[c].query);
		data = it_items_get_page(path, &r, cases[c].page, cases[c].size, 11);
		it_items_assert_ids(&r, data, want + cases[c].from, cases[c].count);
	}
	/* no match: the same pageInfo shape with zeros */
	snprintf(path, sizeof(path), "/api/items/search?keyword=%szz", s.tok);
	data = it_items_get_page(path, &r, 1, 8, 0);
	ck_assert_int_eq(cJSON_GetArraySize(data), 0);
	snprintf(path, sizeof(path), "/api/items/search?keyword=%szz&page=3&size=20", s.tok);
	data = it_items_get_page(path, &r, 3, 20, 0);
	ck_assert_int_eq(cJSON_GetArraySize(data), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(paging_of_every_list_counts_every_match)
{
	struct it_resp r = IT_RESP_INIT;
	struct set s;
	char path[256];
	int64_t want[16];
	const cJSON *data;

	set_init(&s);
	for (int i = 0; i < 10; i++) {
		struct it_item *it = add(&s, "총계", "", 5000 + i * 10, 10 + i);
		it->categories = IT_LIVER;
		it->enterprise = s.names[0];
		it->sales = i;
	}
	insert_all(&s);
	expected_order(&s, 0, want);
	snprintf(path, sizeof(path), "/api/items/on-sale?keyword=%s&page=2", s.tok);
	data = it_items_get_page(path, &r, 2, 8, 10);
	it_items_assert_ids(&r, data, want + 8, 2);
	snprintf(path, sizeof(path), "/api/items/categories?categoryName=LIVER&keyword=%s&page=2",
	         s.tok);
	data = it_items_get_page(path, &r, 2, 8, 10);
	it_items_assert_ids(&r, data, want + 8, 2);
	snprintf(path, sizeof(path), "/api/items/brands?brand=%s&page=2", s.tok);
	data = it_items_get_page(path, &r, 2, 8, 10);
	it_items_assert_ids(&r, data, want + 8, 2);
	snprintf(path, sizeof(path), "/api/items/brands?brand=%s&page=5", s.tok);
	data = it_items_get_page(path, &r, 5, 8, 10);
	ck_assert_int_eq(cJSON_GetArraySize(data), 0);
	it_resp_free(&r);
}
END_TEST

/* ---- keyword matching ------------------------------------------------------------------- */

static void upper(const char *s, char *out, size_t n)
{
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[i] = '\0';
}

/* GET route?param=<value>&<extra> and assert exactly ids (in SALES order, all sales 0). */
static void expect_match(const char *route, const char *param, const char *value, const char *extra,
                         const int64_t *ids, size_t n)
{
	struct it_resp r = IT_RESP_INIT;
	char q[2400], path[2800];
	const cJSON *data;

	enc(value, q, sizeof(q));
	snprintf(path, sizeof(path), "/api/items/%s?%s=%s%s%s", route, param, q, extra ? "&" : "",
	         extra ? extra : "");
	data = it_items_get_page(path, &r, 1, 8, (int64_t)n);
	it_items_assert_ids(&r, data, ids, n);
	it_resp_free(&r);
}

START_TEST(keyword_is_case_insensitive_for_latin_letters_only)
{
	struct set s;
	struct it_item *omega, *cafe, *lutein;
	char kw[160], up[160];

	set_init(&s);
	omega = add(&s, "Omega-3 ", " ExTra", 1000, 0);
	cafe = add(&s, "Café ", "", 1000, 0);
	lutein = add(&s, "루테인 ", " 골드", 1000, 0);
	insert_all(&s);

	snprintf(kw, sizeof(kw), "omega-3 %s extra", s.tok);
	expect_match("search", "keyword", kw, NULL, &omega->id, 1);
	upper(kw, up, sizeof(up));
	expect_match("search", "keyword", up, NULL, &omega->id, 1);
	/* é and É are the same letter in two cases; e is another letter */
	snprintf(kw, sizeof(kw), "CAFÉ %s", s.tok);
	expect_match("search", "keyword", kw, NULL, &cafe->id, 1);
	snprintf(kw, sizeof(kw), "cafe %s", s.tok);
	expect_match("search", "keyword", kw, NULL, NULL, 0);
	/* a substring anywhere in the name */
	snprintf(kw, sizeof(kw), "테인 %s 골", s.tok);
	expect_match("search", "keyword", kw, NULL, &lutein->id, 1);
	snprintf(kw, sizeof(kw), "루테인%s", s.tok); /* the space is part of the text */
	expect_match("search", "keyword", kw, NULL, NULL, 0);
}
END_TEST

START_TEST(keyword_matches_percent_underscore_and_backslash_literally)
{
	struct set s;
	struct it_item *pct, *und, *bsl, *x;
	char kw[160];

	set_init(&s);
	pct = add(&s, "", "a%b", 1000, 0);
	und = add(&s, "", "a_b", 1000, 0);
	bsl = add(&s, "", "a\\b", 1000, 0);
	x = add(&s, "", "axb", 1000, 0);
	add(&s, "", "ab", 1000, 0);
	insert_all(&s);

	snprintf(kw, sizeof(kw), "%sa%%", s.tok);
	expect_match("search", "keyword", kw, NULL, &pct->id, 1);
	snprintf(kw, sizeof(kw), "%sa_b", s.tok);
	expect_match("search", "keyword", kw, NULL, &und->id, 1);
	snprintf(kw, sizeof(kw), "%sa\\b", s.tok);
	expect_match("search", "keyword", kw, NULL, &bsl->id, 1);
	snprintf(kw, sizeof(kw), "%sa\\", s.tok);
	expect_match("search", "keyword", kw, NULL, &bsl->id, 1);
	snprintf(kw, sizeof(kw), "%sax", s.tok);
	expect_match("search", "keyword", kw, NULL, &x->id, 1);
	snprintf(kw, sizeof(kw), "%s%%b", s.tok); /* "%b": only a%b, not every name ending in b */
	expect_match("search", "keyword", kw, NULL, NULL, 0);
	snprintf(kw, sizeof(kw), "%s_", s.tok);
	expect_match("search", "keyword", kw, NULL, NULL, 0);
}
END_TEST

START_TEST(keyword_of_100_characters_is_accepted_101_refused)
{
	static const char *const routes[] = {"search", "on-sale", "categories?categoryName=EYE&x=1",
	                                     "brands"};
	struct it_resp r = IT_RESP_INIT;
	struct set s;
	struct it_item *it;
	char name[320], kw[400], q[3200], path[3400];
	size_t len;

	set_init(&s);
	/* 100 characters (268 bytes): the token and Hangul syllables, 3 bytes each in UTF-8 */
	len = (size_t)snprintf(name, sizeof(name), "%s", s.tok);
	for (size_t i = strlen(s.tok); i < 100; i++)
		len += (size_t)snprintf(name + len, sizeof(name) - len, "가");
	it = add(&s, "", "", 1000, 0);
	snprintf(s.names[0], sizeof(s.names[0]), "%s", name);
	insert_all(&s);
	expect_match("search", "keyword", name, NULL, &it->id, 1);
	expect_match("categories", "keyword", name, "categoryName=EYE", NULL, 0);

	/* 101 characters: refused on every list, quoted as sent */
	memset(kw, 'k', 101);
	kw[101] = '\0';
	for (size_t i = 0; i < 4; i++) {
		const char *param = i == 3 ? "brand" : "keyword";
		snprintf(path, sizeof(path), "/api/items/%s%s%s=%s", routes[i],
		         strchr(routes[i], '?') ? "&" : "?", param, kw);
		it_get(path, NULL, &r);
		it_assert_error(&r, 400, "VALIDATION_FAILED");
		it_assert_field_count(&r, 1);
		it_assert_field_error(&r, 0, param, kw, R_LEN100);
	}
	/* characters, not bytes: 101 Hangul syllables are refused too */
	snprintf(kw, sizeof(kw), "%s가", name);
	enc(kw, q, sizeof(q));
	snprintf(path, sizeof(path), "/api/items/search?keyword=%s", q);
	it_get(path, NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "keyword", NULL, R_LEN100);
	it_resp_free(&r);
}
END_TEST

START_TEST(empty_keyword_and_brand_filter_nothing)
{
	struct it_resp r = IT_RESP_INIT;
	struct set s;
	struct it_item *it;
	char path[256];
	int64_t lo = 700000 + (int64_t)(it_seq() % 1000) * 10, n;
	struct db_param p[2] = {DB_I64(lo), DB_I64(lo + 5)};

	set_init(&s);
	it = add(&s, "빈키워드", "", lo + 3, 0);
	it->enterprise = NULL;
	insert_all(&s);
	n = it_sql_i64("SELECT COUNT(*) FROM items WHERE real_price BETWEEN ? AND ?", p, 2);
	ck_assert_int_ge(n, 1);
	snprintf(path, sizeof(path), "/api/items/search?keyword=&low=%" PRId64 "&high=%" PRId64, lo,
	         lo + 5);
	it_items_get_page(path, &r, 1, 8, n);
	snprintf(path, sizeof(path), "/api/items/search?low=%" PRId64 "&high=%" PRId64, lo, lo + 5);
	it_items_get_page(path, &r, 1, 8, n);
	/* an item without an enterprise is in the unfiltered brand list */
	snprintf(path, sizeof(path), "/api/items/brands?brand=&low=%" PRId64 "&high=%" PRId64, lo,
	         lo + 5);
	it_items_get_page(path, &r, 1, 8, n);
	/* and the whole catalogue without any filter */
	n = it_sql_i64("SELECT COUNT(*) FROM items", NULL, 0);
	it_items_get_page("/api/items/search", &r, 1, 8, n);
	it_items_get_page("/api/items/brands", &r, 1, 8, n);
	n = it_sql_i64("SELECT COUNT(*) FROM items WHERE discount_p10 > 0", NULL, 0);
	it_items_get_page("/api/items/on-sale", &r, 1, 8, n);
	it_resp_free(&r);
}
END_TEST

START_TEST(keyword_that_is_not_utf8_is_a_type_error)
{
	struct it_resp r = IT_RESP_INIT;

	it_get("/api/items/search?keyword=ab%FFcd", NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "keyword",
	                      "ab\xEF\xBF\xBD"
	                      "cd",
	                      IT_R_TYPE);
	it_get("/api/items/brands?brand=%C0%AF", NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_error(&r, 0, "brand", "\xEF\xBF\xBD\xEF\xBF\xBD", IT_R_TYPE);
	it_resp_free(&r);
}
END_TEST

START_TEST(first_value_of_a_repeated_parameter_wins_and_unknown_ones_are_ignored)
{
	struct set s;
	struct it_item *it;
	char extra[128];

	set_init(&s);
	it = add(&s, "반복", "", 1000, 0);
	insert_all(&s);
	snprintf(extra, sizeof(extra), "keyword=%szz&brand=zz&color=red", s.tok);
	expect_match("search", "keyword", s.tok, extra, &it->id, 1);
}
END_TEST

/* ---- price ------------------------------------------------------------------------------ */

START_TEST(price_filter_on_real_price)
{
	struct set s;
	struct it_item *p1, *p2, *p3;
	int64_t all[3], two[2];

	set_init(&s);
	p1 = add(&s, "가격", " 1", 1000, 0);   /* 1000 */
	p2 = add(&s, "가격", " 2", 2500, 200); /* origin 2500, realPrice 2000 */
	p3 = add(&s, "가격", " 3", 3000, 0);   /* 3000 */
	p1->sales = 3, p2->sales = 2, p3->sales = 1;
	insert_all(&s);
	ck_assert_int_eq(it_items_real(2500, 200), 2000);
	all[0] = p1->id, all[1] = p2->id, all[2] = p3->id;

	expect_match("search", "keyword", s.tok, "low=0&high=0", all, 3);           /* no filter */
	expect_match("search", "keyword", s.tok, "low=2000&high=2000", &p2->id, 1); /* equality */
	expect_match("search", "keyword", s.tok, "low=2500&high=2500", NULL, 0);    /* not origin */
	expect_match("search", "keyword", s.tok, "low=3000&high=1000", all, 3);     /* swapped */
	expect_match("search", "keyword", s.tok, "low=1000&high=3000", all, 3);     /* inclusive */
	expect_match("search", "keyword", s.tok, "low=1001&high=2999", &p2->id, 1);
	expect_match("search", "keyword", s.tok, "low=1500", &p1->id, 1); /* 0..1500 */
	two[0] = p1->id, two[1] = p2->id;
	expect_match("search", "keyword", s.tok, "high=2500", two, 2);  /* 0..2500 */
	expect_match("search", "keyword", s.tok, "low=&high=", all, 3); /* empty = default */
	expect_match("on-sale", "keyword", s.tok, "low=2000&high=2000", &p2->id, 1);
	expect_match("on-sale", "keyword", s.tok, "low=1000&high=1000", NULL, 0);
}
END_TEST

/* ---- errors of §4.4 --------------------------------------------------------------------- */

START_TEST(errors_of_the_search_parameters)
{
	static const struct {
		const char *query;
		const char *code;
		const char *field, *rejected, *reason;
	} one[] = {
	    {"low=-1", "VALIDATION_FAILED", "low", "-1", R_MIN0},
	    {"high=-20", "VALIDATION_FAILED", "high", "-20", R_MIN0},
	    {"low=abc", "INVALID_PARAMETER_TYPE", "low", "abc", IT_R_TYPE},
	    {"high=1.5", "INVALID_PARAMETER_TYPE", "high", "1.5", IT_R_TYPE},
	    {"low=99999999999999999999", "INVALID_PARAMETER_TYPE", "low", "99999999999999999999",
	     IT_R_TYPE},
	    {"page=x", "INVALID_PARAMETER_TYPE", "page", "x", IT_R_TYPE},
	    {"size=1.0", "INVALID_PARAMETER_TYPE", "size", "1.0", IT_R_TYPE},
	    {"sort=sales", "INVALID_PARAMETER_TYPE", "sort", "sales", IT_R_TYPE},
	    {"sort=NEWEST", "INVALID_PARAMETER_TYPE", "sort", "NEWEST", IT_R_TYPE},
	};
	static const char *const routes[] = {"search", "on-sale", "categories", "brands"};
	struct it_resp r = IT_RESP_INIT;
	char path[256];

	for (size_t k = 0; k < 4; k++) {
		for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
			snprintf(path, sizeof(path), "/api/items/%s?%s%s", routes[k], one[i].query,
			         k == 2 ? "&categoryName=EYE" : "");
			it_get(path, NULL, &r);
			it_assert_error(&r, 400, one[i].code);
			it_assert_field_count(&r, 1);
			it_assert_field_error(&r, 0, one[i].field, one[i].rejected, one[i].reason);
		}
	}
	/* all invalid fields at once, in the order of the field table */
	it_get("/api/items/search?high=-2&low=-1", NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 2);
	it_assert_field_error(&r, 0, "low", "-1", R_MIN0);
	it_assert_field_error(&r, 1, "high", "-2", R_MIN0);
	it_get("/api/items/brands?sort=X&size=y&page=z&high=h&low=l", NULL, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 5);
	it_assert_field_error(&r, 0, "low", "l", IT_R_TYPE);
	it_assert_field_error(&r, 1, "high", "h", IT_R_TYPE);
	it_assert_field_error(&r, 2, "page", "z", IT_R_TYPE);
	it_assert_field_error(&r, 3, "size", "y", IT_R_TYPE);
	it_assert_field_error(&r, 4, "sort", "X", IT_R_TYPE);
	it_resp_free(&r);
}
END_TEST

START_TEST(errors_of_categories)
{
	struct it_resp r = IT_RESP_INIT;
	char path[512], kw[120];
	static const char *const bad[] = {"eye", "EYES", "Eye", "눈", "INTESTINE,EYE", " EYE"};

	it_get("/api/items/categories", NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "categoryName", "", IT_R_REQUIRED);
	it_get("/api/items/categories?categoryName=", NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "categoryName", "", IT_R_REQUIRED);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char q[64];
		enc(bad[i], q, sizeof(q));
		snprintf(path, sizeof(path), "/api/items/categories?categoryName=%s", q);
		it_get(path, NULL, &r);
		it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
		it_assert_field_count(&r, 1);
		it_assert_field_error(&r, 0, "categoryName", bad[i], IT_R_TYPE);
	}
	/* field-table order: categoryName, keyword, low, high */
	memset(kw, 'k', 101);
	kw[101] = '\0';
	snprintf(path, sizeof(path), "/api/items/categories?high=-1&low=-2&keyword=%s", kw);
	it_get(path, NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 4);
	it_assert_field_error(&r, 0, "categoryName", "", IT_R_REQUIRED);
	it_assert_field_error(&r, 1, "keyword", kw, R_LEN100);
	it_assert_field_error(&r, 2, "low", "-2", R_MIN0);
	it_assert_field_error(&r, 3, "high", "-1", R_MIN0);
	it_resp_free(&r);
}
END_TEST

/* ---- on-sale, categories, brands -------------------------------------------------------- */

START_TEST(on_sale_lists_discounted_items_only)
{
	struct set s;
	struct it_item *tiny, *half;
	int64_t ids[2];

	set_init(&s);
	add(&s, "할인", " 0", 1000, 0);
	tiny = add(&s, "할인", " 1", 1000, 1); /* 0.001: discountPrice 1 */
	half = add(&s, "할인", " 500", 10000, 500);
	tiny->sales = 1;
	insert_all(&s);
	ids[0] = tiny->id, ids[1] = half->id;
	expect_match("on-sale", "keyword", s.tok, "sort=DISCOUNT_RATE_L", ids, 2);
	ids[0] = half->id, ids[1] = tiny->id;
	expect_match("on-sale", "keyword", s.tok, "sort=DISCOUNT_RATE_H", ids, 2);
	expect_match("on-sale", "keyword", s.tok, "low=5000&high=5000", &half->id, 1);
	{
		struct it_resp r = IT_RESP_INIT;
		char path[256];
		const cJSON *data;
		snprintf(path, sizeof(path), "/api/items/on-sale?keyword=%s&sort=DISCOUNT_RATE_L",
		         s.tok);
		data = it_items_get_page(path, &r, 1, 8, 2);
		it_items_assert_element(&r, cJSON_GetArrayItem(data, 0), tiny);
		it_items_assert_element(&r, cJSON_GetArrayItem(data, 1), half);
		it_resp_free(&r);
	}
}
END_TEST

START_TEST(categories_list_items_whose_set_contains_the_name)
{
	struct it_resp r = IT_RESP_INIT;
	struct set s;
	struct it_item *eye, *both, *bone, *none;
	int64_t ids[2], n;
	char path[256];
	const cJSON *data;

	set_init(&s);
	eye = add(&s, "카테고리", " 눈", 1000, 0);
	both = add(&s, "카테고리", " 둘", 2000, 0);
	bone = add(&s, "카테고리", " 뼈", 3000, 0);
	none = add(&s, "카테고리", " 없음", 4000, 0);
	eye->categories = IT_EYE;
	both->categories = IT_BONE | IT_EYE;
	bone->categories = IT_BONE;
	eye->sales = 3, both->sales = 2, bone->sales = 1;
	insert_all(&s);
	(void)none;

	ids[0] = eye->id, ids[1] = both->id;
	expect_match("categories", "keyword", s.tok, "categoryName=EYE", ids, 2);
	ids[0] = both->id, ids[1] = bone->id;
	expect_match("categories", "keyword", s.tok, "categoryName=BONE", ids, 2);
	expect_match("categories", "keyword", s.tok, "categoryName=ETC", NULL, 0);
	expect_match("categories", "keyword", s.tok, "categoryName=BONE&low=2500&high=9999",
	             &bone->id, 1);
	snprintf(path, sizeof(path), "/api/items/categories?categoryName=BONE&keyword=%s", s.tok);
	data = it_items_get_page(path, &r, 1, 8, 2);
	it_items_assert_element(&r, cJSON_GetArrayItem(data, 0), both); /* ["EYE","BONE"] */
	it_items_assert_element(&r, cJSON_GetArrayItem(data, 1), bone);

	/* without a keyword: every item of the category (compared with SQL) */
	for (int c = 1; c <= 9; c++) {
		static const char *const names[] = {"EYE",         "BONE",    "BRAIN",
		                                    "INTESTINE",   "LIVER",   "SKIN",
		                                    "ANTIOXIDANT", "FATIGUE", "ETC"};
		struct db_param p[1] = {DB_I64(c)};
		n = it_sql_i64("SELECT COUNT(*) FROM item_categories WHERE category_id = ?", p, 1);
		snprintf(path, sizeof(path), "/api/items/categories?categoryName=%s", names[c - 1]);
		it_items_get_page(path, &r, 1, 8, n);
	}
	{
		struct db_param p[1] = {DB_I64(2)};
		n = it_sql_i64(
		    "SELECT COUNT(*) FROM item_categories k JOIN items i ON i.item_id ="
		    " k.item_id WHERE k.category_id = ? AND i.real_price BETWEEN 2000 AND"
		    " 3000",
		    p, 1);
		it_items_get_page("/api/items/categories?categoryName=BONE&low=3000&high=2000", &r,
		                  1, 8, n);
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(brands_match_the_enterprise)
{
	struct set s;
	struct it_item *a, *b, *c, *nul;
	char ent[3][160], brand[160], up[160];
	int64_t ids[2];

	set_init(&s);
	snprintf(ent[0], sizeof(ent[0]), "(주)씨티씨바이오 %s", s.tok);
	snprintf(ent[1], sizeof(ent[1]), "GoodMaker %s%%_\\", s.tok);
	snprintf(ent[2], sizeof(ent[2]), "기타 제약");
	a = add(&s, "브랜드", " 가", 1000, 0);
	b = add(&s, "브랜드", " 나", 1000, 0);
	c = add(&s, "브랜드", " 다", 1000, 0); /* the token in the name only */
	nul = add(&s, "브랜드", " 라", 1000, 0);
	a->enterprise = ent[0];
	b->enterprise = ent[1];
	c->enterprise = ent[2];
	nul->enterprise = NULL;
	a->sales = 2, b->sales = 1;
	insert_all(&s);

	ids[0] = a->id, ids[1] = b->id;
	expect_match("brands", "brand", s.tok, NULL, ids, 2);
	upper(s.tok, up, sizeof(up));
	expect_match("brands", "brand", up, NULL, ids, 2);
	snprintf(brand, sizeof(brand), "씨티씨바이오 %s", s.tok);
	expect_match("brands", "brand", brand, NULL, &a->id, 1);
	snprintf(brand, sizeof(brand), "goodmaker %s%%_\\", s.tok);
	expect_match("brands", "brand", brand, NULL, &b->id, 1);
	snprintf(brand, sizeof(brand), "%s_", s.tok);
	expect_match("brands", "brand", brand, NULL, NULL, 0);
	snprintf(brand, sizeof(brand), "%s%%", s.tok);
	expect_match("brands", "brand", brand, NULL, &b->id, 1);
	expect_match("brands", "brand", s.tok, "low=1000&high=1000", ids, 2);
	expect_match("brands", "brand", s.tok, "low=1001&high=5000", NULL, 0);
	/* keyword is not a parameter of /brands */
	expect_match("brands", "brand", s.tok, "keyword=nothing-matches-this", ids, 2);
}
END_TEST

Suite *items_search_suite(void)
{
	Suite *s = suite_create("items_search");
	TCase *tc;

	tc = tcase_create("search");
	tcase_add_test(tc, search_example_of_4_4);
	tcase_add_test(tc, search_every_sort_breaks_ties_by_item_id);
	tcase_add_test(tc, on_sale_categories_and_brands_sort_the_same_way);
	tcase_add_test(tc, paging_clamps_and_pages_past_the_end);
	tcase_add_test(tc, paging_of_every_list_counts_every_match);
	tcase_add_test(tc, keyword_is_case_insensitive_for_latin_letters_only);
	tcase_add_test(tc, keyword_matches_percent_underscore_and_backslash_literally);
	tcase_add_test(tc, keyword_of_100_characters_is_accepted_101_refused);
	tcase_add_test(tc, empty_keyword_and_brand_filter_nothing);
	tcase_add_test(tc, keyword_that_is_not_utf8_is_a_type_error);
	tcase_add_test(tc, first_value_of_a_repeated_parameter_wins_and_unknown_ones_are_ignored);
	tcase_add_test(tc, price_filter_on_real_price);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, errors_of_the_search_parameters);
	tcase_add_test(tc, errors_of_categories);
	suite_add_tcase(s, tc);

	tc = tcase_create("lists");
	tcase_add_test(tc, on_sale_lists_discounted_items_only);
	tcase_add_test(tc, categories_list_items_whose_set_contains_the_name);
	tcase_add_test(tc, brands_match_the_enterprise);
	suite_add_tcase(s, tc);
	return s;
}
