/*
 * 80_fakepay: the fake Kakao Pay server alone over raw HTTP (the "F" tests of KAKAOPAY.md §5):
 * §4.2 checks in order (auth, body, fields, cid), the one-time flow through the HTML page and
 * its buttons, every approve / charge / SID / order / cancel rule of §4.3 in its order, the
 * ledger, every fault action of §4.4 (for *_applied the ledger shows the money moved although
 * the client saw an error or nothing), latency, the control surface of §4.5, concurrency
 * (one event loop: concurrent approves, charges and cancels) and what the log must never hold.
 *
 * Each test makes its own partner ids, SIDs and TIDs, and its fault rules match only them, so
 * tests never see each other's data (the reset test clears everything, which no other test
 * depends on).
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>

#include "tests/it/lib/fakepay.h"
#include "tests/it/lib/it.h"
#include "common/banned.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static bool is_ts(const cJSON *v)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	const char *s;

	if (!cJSON_IsString(v))
		return false;
	s = v->valuestring;
	if (strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return false;
	return true;
}

static bool is_id(const char *s, char prefix)
{
	if (!s || strlen(s) != 20 || s[0] != prefix)
		return false;
	for (int i = 1; i < 20; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t jint(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", k);
	return (int64_t)v->valuedouble;
}

static void assert_tid_status(const char *tid, const char *want)
{
	char *st = it_fp_tid_field(tid, "status");
	bool ok = st && strcmp(st, want) == 0;

	ck_assert_msg(ok, "raw status %s, expected %s", st ? st : "(none)", want);
	free(st);
}

static int64_t amount_total(const cJSON *o, const char *k)
{
	return jint(cJSON_GetObjectItemCaseSensitive(o, k), "total");
}

static void order(const struct it_fp_pay *p, const char *cid, struct it_resp *r)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"cid\":\"%s\",\"tid\":\"%s\"}", cid ? cid : p->cid, p->tid);
	it_fp_api("order", body, r);
}

static void charge_json(const char *sid, const char *puid, const char *poid, int64_t amount,
                        char *buf, size_t n)
{
	snprintf(buf, n,
	         "{\"cid\":\"" IT_FP_SUB "\",\"sid\":\"%s\",\"partner_order_id\":\"%s\","
	         "\"partner_user_id\":\"%s\",\"item_name\":\"정기결제\",\"quantity\":1,"
	         "\"total_amount\":%lld,\"tax_free_amount\":0,\"payload\":\"att:%s\"}",
	         sid, poid, puid, (long long)amount, poid);
}

/* An ACTIVE SID for a new partner_user_id, through the control surface. */
static void new_sid(char *sid, size_t n, char *puid, size_t pn)
{
	struct it_resp r = IT_RESP_INIT;
	char body[256];

	snprintf(puid, pn, "U%d-%llu", (int)getpid(), (unsigned long long)it_seq());
	snprintf(body, sizeof(body),
	         "{\"cid\":\"" IT_FP_SUB "\",\"partner_user_id\":\"%s\",\"count\":1}", puid);
	it_fp_ctl("POST", "/sid", body, &r);
	ck_assert_int_eq(r.status, 201);
	snprintf(sid, n, "%s",
	         cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "sids"), 0)->valuestring);
	it_resp_free(&r);
}

static void charge(const char *sid, const char *puid, int64_t amount, struct it_resp *r)
{
	char body[1024], poid[64];

	snprintf(poid, sizeof(poid), "S%d-C20260101-A%llu", (int)getpid(),
	         (unsigned long long)it_seq());
	charge_json(sid, puid, poid, amount, body, sizeof(body));
	it_fp_api("subscription", body, r);
}

static int64_t counter(const char *key)
{
	struct it_resp r = IT_RESP_INIT;
	int64_t v;

	it_fp_ctl("GET", "/counters", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	v = jint(r.json, key);
	it_resp_free(&r);
	return v;
}

/* The only ledger entry of tid (asserted), as a copy (caller frees). */
static cJSON *ledger_entry(const char *tid, const char *sid)
{
	cJSON *all = it_fp_ledger(NULL), *e, *found = NULL;
	int n = 0;

	cJSON_ArrayForEach(e, all)
	{
		const char *v = jstr(e, tid ? "tid" : "sid");
		if (v && strcmp(v, tid ? tid : sid) == 0) {
			n++;
			found = e;
		}
	}
	ck_assert_msg(n == 1, "expected 1 ledger entry, found %d", n);
	found = cJSON_Duplicate(found, 1);
	cJSON_Delete(all);
	return found;
}

/* ---- concurrent requests (curl multi, one connection each) ----------------------------------- */

struct mreq {
	char *buf;
	size_t len;
	long status;
	cJSON *json;
};

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct mreq *m = arg;
	char *b = realloc(m->buf, m->len + sz * n + 1);

	if (!b)
		return 0;
	memcpy(b + m->len, p, sz * n);
	m->len += sz * n;
	b[m->len] = '\0';
	m->buf = b;
	return sz * n;
}

/* POSTs bodies[i] to /online/v1/payment/<ep> all at once; fills out[i]. */
static void multi_post(const char *ep, char **bodies, int n, struct mreq *out)
{
	CURLM *mh = curl_multi_init();
	CURL **eh = calloc((size_t)n, sizeof(*eh));
	struct curl_slist *hl = NULL;
	char url[256];
	int running = 0;

	ck_assert(mh && eh);
	hl = curl_slist_append(hl, "Authorization: SECRET_KEY " IT_FP_KEY);
	hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/online/v1/payment/%s", it_fp_port(), ep);
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		eh[i] = curl_easy_init();
		curl_easy_setopt(eh[i], CURLOPT_URL, url);
		curl_easy_setopt(eh[i], CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(eh[i], CURLOPT_PROXY, "");
		curl_easy_setopt(eh[i], CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(eh[i], CURLOPT_POSTFIELDS, bodies[i]);
		curl_easy_setopt(eh[i], CURLOPT_TIMEOUT_MS, 20000L);
		curl_easy_setopt(eh[i], CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(eh[i], CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(eh[i], CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(eh[i], CURLOPT_WRITEDATA, &out[i]);
		curl_multi_add_handle(mh, eh[i]);
	}
	do {
		curl_multi_perform(mh, &running);
		if (running)
			curl_multi_poll(mh, NULL, 0, 200, NULL);
	} while (running);
	for (int i = 0; i < n; i++) {
		curl_easy_getinfo(eh[i], CURLINFO_RESPONSE_CODE, &out[i].status);
		out[i].json = out[i].buf ? cJSON_Parse(out[i].buf) : NULL;
		curl_multi_remove_handle(mh, eh[i]);
		curl_easy_cleanup(eh[i]);
	}
	curl_slist_free_all(hl);
	curl_multi_cleanup(mh);
	free(eh);
}

static void mreq_free(struct mreq *m, int n)
{
	for (int i = 0; i < n; i++) {
		free(m[i].buf);
		cJSON_Delete(m[i].json);
	}
}

static int err_code(const cJSON *j)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "error_code");
	return cJSON_IsNumber(c) ? c->valueint : 0;
}

/* ---- §4.2: auth, body, fields, cid -------------------------------------------------------------
 */

START_TEST(test_auth)
{
	static const char *const none[] = {"Content-Type: application/json", NULL};
	static const char *const wrong[] = {"Authorization: SECRET_KEY nope",
	                                    "Content-Type: application/json", NULL};
	static const char *const kakaoak[] = {"Authorization: KakaoAK " IT_FP_KEY,
	                                      "Content-Type: application/json", NULL};
	static const char *const dev[] = {"Authorization: DEV_SECRET_KEY " IT_FP_KEY,
	                                  "Content-Type: application/json", NULL};
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	char body[2048];
	int64_t before = counter("auth_failures");

	it_fp_pay_init(&p, IT_FP_ONETIME, 1000);
	it_fp_ready_json(&p, body, sizeof(body));
	ck_assert_int_eq(it_fp_raw("POST", "/online/v1/payment/ready", none, body, 5000, &r), 0);
	it_fp_assert_error(&r, 400, -400);
	ck_assert_int_eq(it_fp_raw("POST", "/online/v1/payment/ready", wrong, body, 5000, &r), 0);
	it_fp_assert_error(&r, 401, -401);
	ck_assert_int_eq(it_fp_raw("POST", "/online/v1/payment/ready", kakaoak, body, 5000, &r), 0);
	it_fp_assert_error(&r, 401, -401);
	ck_assert_int_eq(counter("auth_failures"), before + 3);
	/* the path comes first: 404 even without a key */
	ck_assert_int_eq(it_fp_raw("POST", "/online/v1/payment/nope", none, body, 5000, &r), 0);
	it_fp_assert_error(&r, 404, -404);
	ck_assert_int_eq(it_fp_raw("GET", "/online/v1/payment/ready", dev, NULL, 5000, &r), 0);
	it_fp_assert_error(&r, 404, -404);
	ck_assert_int_eq(it_fp_raw("POST", "/online/v1/payment/ready", dev, body, 5000, &r), 0);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_body_and_fields)
{
	static const char *const text[] = {"Authorization: SECRET_KEY " IT_FP_KEY,
	                                   "Content-Type: text/plain", NULL};
	static const char *const charset[] = {"Authorization: SECRET_KEY " IT_FP_KEY,
	                                      "Content-Type: application/json; charset=utf-8",
	                                      NULL};
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	char body[4096], name[512];

	it_fp_pay_init(&p, IT_FP_ONETIME, 1000);
	it_fp_ready_json(&p, body, sizeof(body));
	ck_assert_int_eq(it_fp_raw("POST", "/online/v1/payment/ready", text, body, 5000, &r), 0);
	it_fp_assert_error(&r, 400, -2);
	ck_assert_int_eq(it_fp_raw("POST", "/online/v1/payment/ready", charset, body, 5000, &r), 0);
	ck_assert_int_eq(r.status, 200);
	it_fp_api("ready", "[1,2]", &r);
	it_fp_assert_error(&r, 400, -2);
	{
		/* a body over 64 KiB, otherwise valid */
		size_t n = 70 * 1024;
		char *big = malloc(n + 1);
		ck_assert_ptr_nonnull(big);
		memset(big, ' ', n);
		memcpy(big, body, strlen(body));
		big[n] = '\0';
		it_fp_api("ready", big, &r);
		free(big);
		it_fp_assert_error(&r, 400, -2);
	}
	it_fp_api("ready", "{\"cid\":", &r);
	it_fp_assert_error(&r, 400, -2);
	/* a missing field is named */
	it_fp_api("ready", "{\"cid\":\"TC0ONETIME\",\"partner_order_id\":\"x\"}", &r);
	it_fp_assert_error(&r, 400, -2);
	ck_assert_ptr_nonnull(strstr(jstr(r.json, "error_message"), "partner_user_id"));
	/* a wrong type is named; digit strings are integers; unknown fields are ignored */
	snprintf(
	    body, sizeof(body),
	    "{\"cid\":\"TC0ONETIME\",\"partner_order_id\":\"%s\",\"partner_user_id\":\"%s\","
	    "\"item_name\":\"x\",\"quantity\":\"abc\",\"total_amount\":1000,"
	    "\"tax_free_amount\":0,\"approval_url\":\"http://a/\",\"cancel_url\":\"http://a/\","
	    "\"fail_url\":\"http://a/\"}",
	    p.poid, p.puid);
	it_fp_api("ready", body, &r);
	it_fp_assert_error(&r, 400, -2);
	ck_assert_ptr_nonnull(strstr(jstr(r.json, "error_message"), "quantity"));
	snprintf(
	    body, sizeof(body),
	    "{\"cid\":\"TC0ONETIME\",\"partner_order_id\":\"%s\",\"partner_user_id\":\"%s\","
	    "\"item_name\":\"x\",\"quantity\":\"2\",\"total_amount\":\"1000\","
	    "\"tax_free_amount\":0,\"approval_url\":\"http://a/\",\"cancel_url\":\"http://a/\","
	    "\"fail_url\":\"http://a/\",\"unknown_field\":{\"x\":1}}",
	    p.poid, p.puid);
	it_fp_api("ready", body, &r);
	ck_assert_int_eq(r.status, 200);
	/* item_name: 100 code points pass, 101 fail (counted in characters, not bytes) */
	name[0] = '\0';
	for (int i = 0; i < 101; i++)
		memcpy(name + strlen(name), "가", 4); /* 3 bytes + NUL */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			name[strlen(name) - 3] = '\0'; /* 100 */
		snprintf(
		    body, sizeof(body),
		    "{\"cid\":\"TC0ONETIME\",\"partner_order_id\":\"%s\","
		    "\"partner_user_id\":\"%s\",\"item_name\":\"%s\",\"quantity\":1,"
		    "\"total_amount\":1000,\"tax_free_amount\":0,\"approval_url\":\"http://a/\","
		    "\"cancel_url\":\"http://a/\",\"fail_url\":\"http://a/\"}",
		    p.poid, p.puid, name);
		it_fp_api("ready", body, &r);
		if (pass == 0) {
			it_fp_assert_error(&r, 400, -2);
			ck_assert_ptr_nonnull(strstr(jstr(r.json, "error_message"), "item_name"));
		} else {
			ck_assert_int_eq(r.status, 200);
		}
	}
	it_resp_free(&r);
}
END_TEST

START_TEST(test_cid_and_amounts)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	char body[2048], sid[32], puid[64];

	it_fp_pay_init(&p, "TCUNKNOWN1", 1000);
	it_fp_ready_json(&p, body, sizeof(body));
	it_fp_api("ready", body, &r);
	it_fp_assert_error(&r, 400, -731);
	/* a one-time CID on a subscription endpoint */
	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	snprintf(body, sizeof(body), "{\"cid\":\"" IT_FP_ONETIME "\",\"sid\":\"%s\"}", sid);
	it_fp_api("manage/subscription/status", body, &r);
	it_fp_assert_error(&r, 400, -731);
	/* amounts */
	it_fp_pay_init(&p, IT_FP_ONETIME, 0);
	it_fp_ready_json(&p, body, sizeof(body));
	it_fp_api("ready", body, &r);
	it_fp_assert_error(&r, 400, -722);
	snprintf(
	    body, sizeof(body),
	    "{\"cid\":\"TC0ONETIME\",\"partner_order_id\":\"a\",\"partner_user_id\":\"b\","
	    "\"item_name\":\"x\",\"quantity\":1,\"total_amount\":1000,"
	    "\"tax_free_amount\":1001,\"approval_url\":\"http://a/\",\"cancel_url\":\"http://a/\","
	    "\"fail_url\":\"http://a/\"}");
	it_fp_api("ready", body, &r);
	it_fp_assert_error(&r, 400, -722);
	/* URLs must be absolute http(s) */
	snprintf(
	    body, sizeof(body),
	    "{\"cid\":\"TC0ONETIME\",\"partner_order_id\":\"a\",\"partner_user_id\":\"b\","
	    "\"item_name\":\"x\",\"quantity\":1,\"total_amount\":1000,"
	    "\"tax_free_amount\":0,\"approval_url\":\"/relative\",\"cancel_url\":\"http://a/\","
	    "\"fail_url\":\"http://a/\"}");
	it_fp_api("ready", body, &r);
	it_fp_assert_error(&r, 400, -2);
	ck_assert_ptr_nonnull(strstr(jstr(r.json, "error_message"), "approval_url"));
	it_resp_free(&r);
}
END_TEST

/* ---- one-time flow ------------------------------------------------------------------------------
 */

START_TEST(test_happy_path_page)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	char body[2048], path[128], want[256];
	const char *loc, *pc;
	cJSON *e, *acts;

	it_fp_pay_init(&p, IT_FP_ONETIME, 2200);
	snprintf(body, sizeof(body),
	         "{\"cid\":\"TC0ONETIME\",\"partner_order_id\":\"%s\",\"partner_user_id\":\"%s\","
	         "\"item_name\":\"<script>alert(1)</script> & 루테인\",\"quantity\":1,"
	         "\"total_amount\":2200,\"tax_free_amount\":0,"
	         "\"approval_url\":\"http://shop.example/a?o=1\",\"cancel_url\":\"http://"
	         "shop.example/c\","
	         "\"fail_url\":\"http://shop.example/f\"}",
	         p.poid, p.puid);
	it_fp_api("ready", body, &r);
	ck_assert_int_eq(r.status, 200);
	it_assert_keys(r.json, "tid", "next_redirect_app_url", "next_redirect_mobile_url",
	               "next_redirect_pc_url", "android_app_scheme", "ios_app_scheme", "created_at",
	               NULL);
	snprintf(p.tid, sizeof(p.tid), "%s", jstr(r.json, "tid"));
	ck_assert(is_id(p.tid, 'T'));
	ck_assert(is_ts(cJSON_GetObjectItem(r.json, "created_at")));
	pc = jstr(r.json, "next_redirect_pc_url");
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/pg/%s/info", it_fp_port(), p.tid);
	ck_assert_str_eq(pc, want);
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/pg/%s/mInfo", it_fp_port(), p.tid);
	ck_assert_str_eq(jstr(r.json, "next_redirect_mobile_url"), want);
	ck_assert(strncmp(jstr(r.json, "android_app_scheme"), "kakaotalk://kakaopay/pg?url=http%3A",
	                  35) == 0);

	/* the page */
	snprintf(path, sizeof(path), "/pg/%s/info", p.tid);
	ck_assert_int_eq(it_fp_raw("GET", path, NULL, NULL, 5000, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(it_resp_header(&r, "Content-Type"), "text/html"));
	ck_assert_ptr_null(it_resp_header(&r, "X-Frame-Options"));
	ck_assert_uint_le(r.body_len, 4096);
	ck_assert_ptr_nonnull(strstr(r.body, "FAKE Kakao Pay \xe2\x80\x94 test"));
	ck_assert_ptr_nonnull(strstr(r.body, "id=\"approve\""));
	ck_assert_ptr_nonnull(strstr(r.body, "id=\"cancel\""));
	ck_assert_ptr_nonnull(strstr(r.body, "id=\"fail\""));
	ck_assert_ptr_nonnull(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 루테인"));
	ck_assert_ptr_null(strstr(r.body, "<script>"));
	ck_assert_ptr_nonnull(strstr(r.body, "2200"));
	ck_assert_ptr_nonnull(strstr(r.body, p.poid));
	assert_tid_status(p.tid, "OPEN_PAYMENT");

	/* the approve button: 303 to approval_url with & and a 20-hex pg_token */
	snprintf(path, sizeof(path), "/pg/%s/approve", p.tid);
	ck_assert_int_eq(it_fp_raw("POST", path, NULL, NULL, 5000, &r), 0);
	ck_assert_int_eq(r.status, 303);
	loc = it_resp_header(&r, "Location");
	ck_assert_ptr_nonnull(loc);
	ck_assert(strncmp(loc, "http://shop.example/a?o=1&pg_token=", 35) == 0);
	ck_assert_uint_eq(strlen(loc + 35), 20);
	ck_assert_uint_eq(strspn(loc + 35, "0123456789abcdef"), 20);
	snprintf(p.token, sizeof(p.token), "%s", loc + 35);
	assert_tid_status(p.tid, "AUTH_PASSWORD");

	/* approve */
	it_fp_approve_json(&p, body, sizeof(body));
	it_fp_api("approve", body, &r);
	ck_assert_int_eq(r.status, 200);
	it_assert_keys(r.json, "aid", "tid", "cid", "partner_order_id", "partner_user_id",
	               "payment_method_type", "amount", "item_name", "item_code", "quantity",
	               "created_at", "approved_at", "payload", NULL);
	ck_assert(is_id(jstr(r.json, "aid"), 'A'));
	ck_assert_str_eq(jstr(r.json, "tid"), p.tid);
	ck_assert_int_eq(amount_total(r.json, "amount"), 2200);
	ck_assert_int_eq(jint(cJSON_GetObjectItem(r.json, "amount"), "vat"), 200);
	it_assert_keys(cJSON_GetObjectItem(r.json, "amount"), "total", "tax_free", "vat", "point",
	               "discount", "green_deposit", NULL);
	snprintf(want, sizeof(want), "pay:%s", p.tid);
	ck_assert_str_eq(jstr(r.json, "payload"), want);
	ck_assert(is_ts(cJSON_GetObjectItem(r.json, "approved_at")));
	ck_assert_str_eq(jstr(r.json, "payment_method_type"), "MONEY");

	e = ledger_entry(p.tid, NULL);
	ck_assert_str_eq(jstr(e, "kind"), "PAYMENT");
	ck_assert_str_eq(jstr(e, "endpoint"), "approve");
	ck_assert_str_eq(jstr(e, "delivery"), "ok");
	ck_assert_int_eq(jint(e, "amount"), 2200);
	ck_assert_str_eq(jstr(e, "payload"), want);
	ck_assert_str_eq(jstr(e, "partner_order_id"), p.poid);
	cJSON_Delete(e);

	/* the same approve again: -702, still one entry; the page shows the status, no buttons */
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -702);
	ck_assert_int_eq(it_fp_ledger_count(p.tid, NULL), 1);
	snprintf(path, sizeof(path), "/pg/%s/info", p.tid);
	ck_assert_int_eq(it_fp_raw("GET", path, NULL, NULL, 5000, &r), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "SUCCESS_PAYMENT"));
	ck_assert_ptr_null(strstr(r.body, "id=\"approve\""));
	snprintf(path, sizeof(path), "/pg/%s/cancel", p.tid);
	ck_assert_int_eq(it_fp_raw("POST", path, NULL, NULL, 5000, &r), 0);
	ck_assert_int_eq(r.status, 409);
	ck_assert_ptr_null(it_resp_header(&r, "Location"));

	/* order lookup */
	order(&p, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "status"), "SUCCESS_PAYMENT");
	ck_assert_int_eq(amount_total(r.json, "amount"), 2200);
	ck_assert_int_eq(amount_total(r.json, "canceled_amount"), 0);
	ck_assert_int_eq(amount_total(r.json, "cancel_available_amount"), 2200);
	ck_assert(is_ts(cJSON_GetObjectItem(r.json, "approved_at")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "canceled_at")));
	acts = cJSON_GetObjectItem(r.json, "payment_action_details");
	ck_assert_int_eq(cJSON_GetArraySize(acts), 1);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(acts, 0), "payment_action_type"), "PAYMENT");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(acts, 0), "payload"), want);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_approve_checks)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p, bad;
	char body[2048];

	it_fp_pay_init(&p, IT_FP_ONETIME, 5000);
	it_fp_ready(&p);
	snprintf(p.token, sizeof(p.token), "00000000000000000000");
	/* unknown tid, and a tid under another cid */
	bad = p;
	snprintf(bad.tid, sizeof(bad.tid), "T0000000000000000000");
	it_fp_approve_json(&bad, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -721);
	bad = p;
	snprintf(bad.cid, sizeof(bad.cid), IT_FP_SUB);
	it_fp_approve_json(&bad, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -721);
	/* partner ids before the token state */
	snprintf(p.token, sizeof(p.token), "00000000000000000000");
	bad = p;
	snprintf(bad.poid, sizeof(bad.poid), "other");
	it_fp_approve_json(&bad, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -706);
	bad = p;
	snprintf(bad.puid, sizeof(bad.puid), "other");
	it_fp_approve_json(&bad, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -707);
	/* before the click */
	it_fp_approve_json(&p, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -701);
	it_fp_click(&p, "approve", NULL, 0);
	/* a wrong token; a wrong amount */
	bad = p;
	snprintf(bad.token, sizeof(bad.token), "ffffffffffffffffffff");
	it_fp_approve_json(&bad, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -708);
	bad = p;
	bad.amount = 4999;
	it_fp_approve_json(&bad, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -725);
	ck_assert_int_eq(it_fp_ledger_count(p.tid, NULL), 0);
	it_fp_approve_json(&p, body, sizeof(body));
	it_fp_api("approve", body, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(it_fp_ledger_count(p.tid, NULL), 1);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_expiry)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p, q;
	char body[2048], path[128], loc[512];

	it_fp_pay_init(&p, IT_FP_ONETIME, 3000);
	it_fp_ready(&p);
	it_fp_click(&p, "approve", NULL, 0);
	it_fp_pay_init(&q, IT_FP_ONETIME, 3000);
	it_fp_ready(&q);
	it_fp_ctl("POST", "/clock", "{\"advance_s\":901}", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_ge(jint(r.json, "offset_s"), 901);
	it_fp_approve_json(&p, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -723);
	order(&p, NULL, &r);
	ck_assert_str_eq(jstr(r.json, "status"), "FAIL_PAYMENT");
	ck_assert_int_eq(it_fp_ledger_count(p.tid, NULL), 0);
	/* an expired payment never opened reads FAIL_PAYMENT; its page redirects to fail_url */
	order(&q, NULL, &r);
	ck_assert_str_eq(jstr(r.json, "status"), "FAIL_PAYMENT");
	snprintf(path, sizeof(path), "/pg/%s/mInfo", q.tid);
	ck_assert_int_eq(it_fp_raw("GET", path, NULL, NULL, 5000, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "expired"));
	snprintf(loc, sizeof(loc), "content=\"0;url=http://shop.example/pay/fail?o=%s\"", q.poid);
	ck_assert_ptr_nonnull(strstr(r.body, loc));
	ck_assert_ptr_null(strstr(r.body, "id=\"approve\""));
	snprintf(path, sizeof(path), "/pg/%s/approve", q.tid);
	ck_assert_int_eq(it_fp_raw("POST", path, NULL, NULL, 5000, &r), 0);
	ck_assert_int_eq(r.status, 409);
	ck_assert_ptr_null(it_resp_header(&r, "Location"));
	it_resp_free(&r);
}
END_TEST

START_TEST(test_cancel_fail_buttons)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p, q;
	char path[128], want[256], body[2048];

	it_fp_pay_init(&p, IT_FP_ONETIME, 1000);
	it_fp_ready(&p);
	snprintf(p.token, sizeof(p.token), "00000000000000000000");
	snprintf(path, sizeof(path), "/pg/%s/cancel", p.tid);
	ck_assert_int_eq(it_fp_raw("POST", path, NULL, NULL, 5000, &r), 0);
	ck_assert_int_eq(r.status, 303);
	snprintf(want, sizeof(want), "http://shop.example/pay/cancel?o=%s", p.poid);
	ck_assert_str_eq(it_resp_header(&r, "Location"), want);
	order(&p, NULL, &r);
	ck_assert_str_eq(jstr(r.json, "status"), "QUIT_PAYMENT");
	it_fp_approve_json(&p, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -783);

	it_fp_pay_init(&q, IT_FP_ONETIME, 1000);
	it_fp_ready(&q);
	it_fp_click(&q, "fail", want, sizeof(want));
	ck_assert(strncmp(want, "http://shop.example/pay/fail?o=", 31) == 0);
	order(&q, NULL, &r);
	ck_assert_str_eq(jstr(r.json, "status"), "FAIL_AUTH_PASSWORD");
	snprintf(body, sizeof(body), "{\"tid\":\"%s\",\"action\":\"approve\"}", q.tid);
	it_fp_ctl("POST", "/click", body, &r);
	ck_assert_int_eq(r.status, 409);
	ck_assert_int_eq(it_fp_ledger_count(p.tid, NULL) + it_fp_ledger_count(q.tid, NULL), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_order_lookup_ready)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;

	it_fp_pay_init(&p, IT_FP_ONETIME, 1234);
	it_fp_ready(&p);
	order(&p, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	it_assert_keys(r.json, "tid", "cid", "status", "partner_order_id", "partner_user_id",
	               "payment_method_type", "amount", "canceled_amount",
	               "cancel_available_amount", "item_name", "item_code", "quantity",
	               "created_at", "approved_at", "canceled_at", "payment_action_details", NULL);
	ck_assert_str_eq(jstr(r.json, "status"), "READY");
	ck_assert(is_ts(cJSON_GetObjectItem(r.json, "created_at")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "approved_at")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "payment_method_type")));
	ck_assert_int_eq(amount_total(r.json, "amount"), 1234);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "payment_action_details")),
	                 0);
	order(&p, IT_FP_SUB, &r);
	it_fp_assert_error(&r, 400, -721);
	it_resp_free(&r);
}
END_TEST

/* ---- subscriptions ------------------------------------------------------------------------------
 */

START_TEST(test_subscription_sid)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	char body[1024], approved[32], tids[3][32], last[32] = "";
	cJSON *e;

	it_fp_pay_init(&p, IT_FP_SUB, 9900);
	it_fp_paid(&p);
	ck_assert(is_id(p.sid, 'S'));
	order(&p, NULL, &r);
	snprintf(approved, sizeof(approved), "%s", jstr(r.json, "approved_at"));
	snprintf(body, sizeof(body), "{\"cid\":\"" IT_FP_SUB "\",\"sid\":\"%s\"}", p.sid);
	it_fp_api("manage/subscription/status", body, &r);
	ck_assert_int_eq(r.status, 200);
	it_assert_keys(r.json, "available", "cid", "sid", "status", "payment_method_type",
	               "item_name", "created_at", "last_approved_at", "inactivated_at",
	               "use_point_status", NULL);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "available")));
	ck_assert_str_eq(jstr(r.json, "status"), "ACTIVE");
	ck_assert_str_eq(jstr(r.json, "last_approved_at"), approved);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r.json, "inactivated_at")));

	/* three recurring charges: three tids, each found by order lookup */
	for (int i = 0; i < 3; i++) {
		charge(p.sid, p.puid, 9900, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(jstr(r.json, "sid"), p.sid);
		ck_assert(is_id(jstr(r.json, "tid"), 'T'));
		ck_assert_str_ne(jstr(r.json, "tid"), p.tid);
		snprintf(tids[i], sizeof(tids[i]), "%s", jstr(r.json, "tid"));
		ck_assert_str_ge(jstr(r.json, "approved_at"), last);
		snprintf(last, sizeof(last), "%s", jstr(r.json, "approved_at"));
		ck_assert(strncmp(jstr(r.json, "payload"), "att:", 4) == 0);
		e = ledger_entry(tids[i], NULL);
		ck_assert_str_eq(jstr(e, "endpoint"), "subscription");
		ck_assert_str_eq(jstr(e, "sid"), p.sid);
		cJSON_Delete(e);
	}
	ck_assert_str_ne(tids[0], tids[1]);
	ck_assert_str_ne(tids[1], tids[2]);
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"cid\":\"" IT_FP_SUB "\",\"tid\":\"%s\"}", tids[i]);
		it_fp_api("order", body, &r);
		ck_assert_str_eq(jstr(r.json, "status"), "SUCCESS_PAYMENT");
	}
	ck_assert_int_eq(it_fp_ledger_count(NULL, p.sid), 4);
	snprintf(body, sizeof(body), "{\"cid\":\"" IT_FP_SUB "\",\"sid\":\"%s\"}", p.sid);
	it_fp_api("manage/subscription/status", body, &r);
	ck_assert_str_eq(jstr(r.json, "last_approved_at"), last);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_sid_errors)
{
	struct it_resp r = IT_RESP_INIT;
	char sid[32], puid[64], body[256], path[128], at[32];

	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	charge(sid, "someone-else", 1000, &r);
	it_fp_assert_error(&r, 400, -753);
	charge("S0000000000000000000", puid, 1000, &r);
	it_fp_assert_error(&r, 400, -750);
	charge(sid, puid, 0, &r);
	it_fp_assert_error(&r, 400, -722);
	snprintf(body, sizeof(body), "{\"cid\":\"" IT_FP_SUB "\",\"sid\":\"%s\"}", sid);
	it_fp_api("manage/subscription/inactive", body, &r);
	ck_assert_int_eq(r.status, 200);
	it_assert_keys(r.json, "cid", "sid", "status", "created_at", "last_approved_at",
	               "inactivated_at", NULL);
	ck_assert_str_eq(jstr(r.json, "status"), "INACTIVE");
	ck_assert(is_ts(cJSON_GetObjectItem(r.json, "inactivated_at")));
	snprintf(at, sizeof(at), "%s", jstr(r.json, "inactivated_at"));
	it_fp_api("manage/subscription/inactive", body, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "status"), "INACTIVE");
	ck_assert_str_eq(jstr(r.json, "inactivated_at"), at);
	charge(sid, puid, 1000, &r);
	it_fp_assert_error(&r, 400, -751);
	it_fp_api("manage/subscription/status", body, &r);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "available")));
	it_fp_api("manage/subscription/inactive",
	          "{\"cid\":\"" IT_FP_SUB "\",\"sid\":\"S0000000000000000000\"}", &r);
	it_fp_assert_error(&r, 400, -750);
	it_fp_api("manage/subscription/status",
	          "{\"cid\":\"" IT_FP_SUB "\",\"sid\":\"S0000000000000000000\"}", &r);
	it_fp_assert_error(&r, 400, -750);
	/* ended on Kakao's side through the control surface */
	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	snprintf(path, sizeof(path), "/sid/%s/inactivate", sid);
	it_fp_ctl("POST", path, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	charge(sid, puid, 1000, &r);
	it_fp_assert_error(&r, 400, -751);
	ck_assert_int_eq(it_fp_ledger_count(NULL, sid), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_concurrent_charges)
{
	enum { N = 40 };
	char sid[32], puid[64], poid[64], *bodies[N];
	struct mreq out[N];
	int64_t dup0 = counter("dup_partner_order_id");

	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	snprintf(poid, sizeof(poid), "S%d-C20260101-A1", (int)getpid());
	for (int i = 0; i < N; i++) {
		bodies[i] = malloc(1024);
		charge_json(sid, puid, poid, 1000, bodies[i], 1024);
	}
	multi_post("subscription", bodies, N, out);
	for (int i = 0; i < N; i++) {
		ck_assert_msg(out[i].status == 200, "charge %d: %ld %s", i, out[i].status,
		              out[i].buf ? out[i].buf : "");
		free(bodies[i]);
	}
	mreq_free(out, N);
	ck_assert_int_eq(it_fp_ledger_count(NULL, sid), N);
	ck_assert_int_eq(counter("dup_partner_order_id"), dup0 + N - 1);
}
END_TEST

/* ---- cancel -------------------------------------------------------------------------------------
 */

static void cancel_json(const struct it_fp_pay *p, int64_t amount, int64_t avail, char *buf,
                        size_t n)
{
	if (avail < 0)
		snprintf(buf, n,
		         "{\"cid\":\"%s\",\"tid\":\"%s\",\"cancel_amount\":%lld,"
		         "\"cancel_tax_free_amount\":0,\"payload\":\"ref:%lld\"}",
		         p->cid, p->tid, (long long)amount, (long long)amount);
	else
		snprintf(buf, n,
		         "{\"cid\":\"%s\",\"tid\":\"%s\",\"cancel_amount\":%lld,"
		         "\"cancel_tax_free_amount\":0,\"cancel_available_amount\":%lld,"
		         "\"payload\":\"ref:%lld\"}",
		         p->cid, p->tid, (long long)amount, (long long)avail, (long long)amount);
}

START_TEST(test_cancel)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p, rd;
	char body[1024];
	cJSON *all, *e;
	int64_t sum = 0;
	int n = 0;

	/* not paid yet, unknown */
	it_fp_pay_init(&rd, IT_FP_ONETIME, 10000);
	it_fp_ready(&rd);
	cancel_json(&rd, 1000, -1, body, sizeof(body));
	it_fp_api("cancel", body, &r);
	it_fp_assert_error(&r, 400, -784);
	snprintf(rd.tid, sizeof(rd.tid), "T0000000000000000000");
	cancel_json(&rd, 1000, -1, body, sizeof(body));
	it_fp_api("cancel", body, &r);
	it_fp_assert_error(&r, 400, -721);

	it_fp_pay_init(&p, IT_FP_ONETIME, 10000);
	it_fp_paid(&p);
	cancel_json(&p, 0, -1, body, sizeof(body));
	it_fp_api("cancel", body, &r);
	it_fp_assert_error(&r, 400, -2);
	cancel_json(&p, 3000, 10000, body, sizeof(body));
	it_fp_api("cancel", body, &r);
	ck_assert_int_eq(r.status, 200);
	it_assert_keys(r.json, "aid", "tid", "cid", "status", "partner_order_id", "partner_user_id",
	               "payment_method_type", "item_name", "item_code", "quantity", "amount",
	               "approved_cancel_amount", "canceled_amount", "cancel_available_amount",
	               "created_at", "approved_at", "canceled_at", "payload", NULL);
	ck_assert_str_eq(jstr(r.json, "status"), "PART_CANCEL_PAYMENT");
	ck_assert_int_eq(amount_total(r.json, "approved_cancel_amount"), 3000);
	ck_assert_int_eq(amount_total(r.json, "canceled_amount"), 3000);
	ck_assert_int_eq(amount_total(r.json, "cancel_available_amount"), 7000);
	ck_assert(is_ts(cJSON_GetObjectItem(r.json, "canceled_at")));
	/* the replay: available differs */
	it_fp_api("cancel", body, &r);
	it_fp_assert_error(&r, 400, -781);
	ck_assert_str_eq(jstr(cJSON_GetObjectItem(r.json, "extras"), "method_result_code"),
	                 "FAKE_AVAILABLE_MISMATCH");
	order(&p, NULL, &r);
	ck_assert_int_eq(amount_total(r.json, "cancel_available_amount"), 7000);
	/* above what remains */
	cancel_json(&p, 7001, 7000, body, sizeof(body));
	it_fp_api("cancel", body, &r);
	it_fp_assert_error(&r, 400, -710);
	cancel_json(&p, 7000, 7000, body, sizeof(body));
	it_fp_api("cancel", body, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "status"), "CANCEL_PAYMENT");
	ck_assert_int_eq(amount_total(r.json, "cancel_available_amount"), 0);
	cancel_json(&p, 1, -1, body, sizeof(body));
	it_fp_api("cancel", body, &r);
	it_fp_assert_error(&r, 400, -784);
	order(&p, NULL, &r);
	ck_assert_str_eq(jstr(r.json, "status"), "CANCEL_PAYMENT");
	ck_assert_int_eq(amount_total(r.json, "canceled_amount"), 10000);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "payment_action_details")),
	                 3);
	all = it_fp_ledger("kind=CANCEL");
	cJSON_ArrayForEach(e, all)
	{
		if (strcmp(jstr(e, "tid"), p.tid) == 0) {
			n++;
			sum += jint(e, "amount");
		}
	}
	cJSON_Delete(all);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(sum, -10000);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_concurrent_approves_and_cancels)
{
	enum { N = 50 };
	struct it_fp_pay p;
	char *bodies[N];
	struct mreq out[N];
	struct it_resp r = IT_RESP_INIT;
	int ok = 0, rej = 0;

	it_fp_pay_init(&p, IT_FP_ONETIME, 1000);
	it_fp_ready(&p);
	it_fp_click(&p, "approve", NULL, 0);
	for (int i = 0; i < 2; i++) {
		bodies[i] = malloc(1024);
		it_fp_approve_json(&p, bodies[i], 1024);
	}
	multi_post("approve", bodies, 2, out);
	for (int i = 0; i < 2; i++) {
		if (out[i].status == 200)
			ok++;
		else if (err_code(out[i].json) == -702)
			rej++;
		free(bodies[i]);
	}
	mreq_free(out, 2);
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(rej, 1);
	ck_assert_int_eq(it_fp_ledger_count(p.tid, NULL), 1);

	ok = rej = 0;
	for (int i = 0; i < N; i++) {
		bodies[i] = malloc(1024);
		cancel_json(&p, 100, -1, bodies[i], 1024);
	}
	multi_post("cancel", bodies, N, out);
	for (int i = 0; i < N; i++) {
		if (out[i].status == 200)
			ok++;
		else if (err_code(out[i].json) == -710 || err_code(out[i].json) == -784)
			rej++;
		free(bodies[i]);
	}
	mreq_free(out, N);
	ck_assert_int_eq(ok, 10);
	ck_assert_int_eq(rej, N - 10);
	order(&p, NULL, &r);
	ck_assert_int_eq(amount_total(r.json, "canceled_amount"), 1000);
	ck_assert_int_eq(it_fp_ledger_count(p.tid, NULL), 11);
	it_resp_free(&r);
}
END_TEST

/* ---- faults -------------------------------------------------------------------------------------
 */

static void rule_for_sid(const char *sid, const char *rest, char *buf, size_t n)
{
	snprintf(buf, n, "{\"match\":{\"sid\":\"%s\"},%s}", sid, rest);
}

START_TEST(test_fault_decline)
{
	struct it_resp r = IT_RESP_INIT;
	char sid[32], puid[64], rule[512];
	cJSON *e;

	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	rule_for_sid(sid,
	             "\"action\":\"decline\",\"code\":-782,\"method_result_code\":\"CARD_LIMIT\","
	             "\"method_result_message\":\"limit\",\"times\":1",
	             rule, sizeof(rule));
	it_fp_fault(rule);
	/* validation first: a wrong partner_user_id is not hidden by the rule */
	charge(sid, "other", 1000, &r);
	it_fp_assert_error(&r, 400, -753);
	charge(sid, puid, 1000, &r);
	it_fp_assert_error(&r, 400, -782);
	ck_assert_str_eq(jstr(cJSON_GetObjectItem(r.json, "extras"), "method_result_code"),
	                 "CARD_LIMIT");
	ck_assert_int_eq(it_fp_ledger_count(NULL, sid), 0);
	/* times 1: the next charge goes through */
	charge(sid, puid, 1000, &r);
	ck_assert_int_eq(r.status, 200);
	/* legacy shape with HTTP 500 */
	rule_for_sid(sid,
	             "\"action\":\"decline\",\"code\":-782,\"http_status\":500,"
	             "\"shape\":\"legacy\",\"times\":1",
	             rule, sizeof(rule));
	it_fp_fault(rule);
	charge(sid, puid, 1000, &r);
	ck_assert_int_eq(r.status, 500);
	ck_assert_int_eq(jint(r.json, "code"), -782);
	ck_assert_ptr_nonnull(jstr(r.json, "msg"));
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r.json, "extras")));
	/* decline_applied: an error, yet the ledger has the charge */
	rule_for_sid(sid,
	             "\"action\":\"decline_applied\",\"code\":-782,"
	             "\"method_result_code\":\"USER_LOCKED\",\"times\":1",
	             rule, sizeof(rule));
	it_fp_fault(rule);
	charge(sid, puid, 1000, &r);
	it_fp_assert_error(&r, 400, -782);
	ck_assert_int_eq(it_fp_ledger_count(NULL, sid), 2);
	e = it_fp_ledger("kind=PAYMENT");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(e, cJSON_GetArraySize(e) - 1), "delivery"),
	                 "error");
	cJSON_Delete(e);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_fault_http500)
{
	struct it_resp r = IT_RESP_INIT;
	char sid[32], puid[64], rule[512];
	cJSON *e;

	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	rule_for_sid(sid, "\"action\":\"http500\",\"times\":1", rule, sizeof(rule));
	it_fp_fault(rule);
	charge(sid, puid, 1000, &r);
	it_fp_assert_error(&r, 500, -500);
	ck_assert_int_eq(it_fp_ledger_count(NULL, sid), 0);
	rule_for_sid(sid, "\"action\":\"http500_applied\",\"times\":1", rule, sizeof(rule));
	it_fp_fault(rule);
	charge(sid, puid, 1000, &r);
	it_fp_assert_error(&r, 500, -500);
	e = ledger_entry(NULL, sid);
	ck_assert_str_eq(jstr(e, "delivery"), "error");
	cJSON_Delete(e);
	it_resp_free(&r);
}
END_TEST

static void charge_to(const char *sid, const char *puid, int timeout_ms, struct it_resp *r, int *rc)
{
	char body[1024], poid[64];

	snprintf(poid, sizeof(poid), "S%d-C20260101-A%llu", (int)getpid(),
	         (unsigned long long)it_seq());
	charge_json(sid, puid, poid, 1000, body, sizeof(body));
	*rc = it_fp_api_to("subscription", body, timeout_ms, r);
}

START_TEST(test_fault_hang_drop)
{
	static const struct {
		const char *action;
		bool applied;
		const char *delivery;
	} cases[] = {
	    {"hang", false, NULL},
	    {"hang_applied", true, "hang"},
	    {"drop", false, NULL},
	    {"drop_applied", true, "drop"},
	    {"drop_partial_applied", true, "partial"},
	};
	struct it_resp r = IT_RESP_INIT;
	char sid[32], puid[64], rule[512], rest[128];
	int rc;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		new_sid(sid, sizeof(sid), puid, sizeof(puid));
		snprintf(rest, sizeof(rest), "\"action\":\"%s\",\"times\":1", cases[i].action);
		rule_for_sid(sid, rest, rule, sizeof(rule));
		it_fp_fault(rule);
		charge_to(sid, puid, 1000, &r, &rc);
		ck_assert_msg(rc == -1 && r.status == 0, "%s: expected no response, got %ld",
		              cases[i].action, r.status);
		if (strncmp(cases[i].action, "hang", 4) == 0)
			ck_assert_msg(r.seconds >= 0.9, "%s: answered too early", cases[i].action);
		else
			ck_assert_msg(r.seconds < 0.9, "%s: too slow", cases[i].action);
		ck_assert_int_eq(it_fp_ledger_count(NULL, sid), cases[i].applied ? 1 : 0);
		if (cases[i].applied) {
			cJSON *e = ledger_entry(NULL, sid);
			ck_assert_str_eq(jstr(e, "delivery"), cases[i].delivery);
			cJSON_Delete(e);
		}
		/* the rule fired once: the next charge is normal */
		charge_to(sid, puid, 5000, &r, &rc);
		ck_assert_int_eq(r.status, 200);
	}
	/* a hung request is released when its client goes away (not only after 120 s) */
	for (int i = 0; i < 50; i++) {
		it_fp_ctl("GET", "/counters", NULL, &r);
		if (jint(cJSON_GetObjectItem(r.json, "in_flight"), "now") == 0)
			break;
		usleep(100 * 1000);
	}
	ck_assert_int_eq(jint(cJSON_GetObjectItem(r.json, "in_flight"), "now"), 0);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_fault_garbage_latency)
{
	struct it_resp r = IT_RESP_INIT;
	char sid[32], puid[64], rule[512], body[256];
	cJSON *e;

	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	rule_for_sid(sid, "\"action\":\"garbage_applied\",\"times\":1", rule, sizeof(rule));
	it_fp_fault(rule);
	charge(sid, puid, 1000, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(r.json);
	ck_assert_uint_gt(r.body_len, 0);
	e = ledger_entry(NULL, sid);
	ck_assert_str_eq(jstr(e, "delivery"), "garbage");
	cJSON_Delete(e);
	/* latency: only on the matched endpoint */
	rule_for_sid(sid,
	             "\"match\":{\"endpoint\":\"status\",\"sid\":\"x\"},\"action\":\"latency\"",
	             rule, sizeof(rule));
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"status\",\"sid\":\"%s\"},\"action\":\"latency\","
	         "\"latency_ms\":400}",
	         sid);
	it_fp_fault(rule);
	snprintf(body, sizeof(body), "{\"cid\":\"" IT_FP_SUB "\",\"sid\":\"%s\"}", sid);
	it_fp_api("manage/subscription/status", body, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(r.seconds >= 0.4, "latency not applied: %.3f s", r.seconds);
	charge(sid, puid, 1000, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(r.seconds < 0.4, "latency applied to another endpoint");
	it_resp_free(&r);
}
END_TEST

START_TEST(test_fault_on_approve)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	char rule[512], body[2048];

	it_fp_pay_init(&p, IT_FP_ONETIME, 1000);
	it_fp_ready(&p);
	it_fp_click(&p, "approve", NULL, 0);
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"tid\":\"%s\",\"endpoint\":\"approve\"},\"action\":\"decline\","
	         "\"code\":-780}",
	         p.tid);
	it_fp_fault(rule);
	it_fp_approve_json(&p, body, sizeof(body));
	it_fp_api("approve", body, &r);
	it_fp_assert_error(&r, 400, -780);
	order(&p, NULL, &r);
	ck_assert_str_eq(jstr(r.json, "status"), "FAIL_PAYMENT");
	ck_assert_int_eq(it_fp_ledger_count(p.tid, NULL), 0);
	/* rules list shows the fire count; delete it */
	it_fp_ctl("GET", "/faults", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	{
		cJSON *f, *mine = NULL;
		cJSON_ArrayForEach(f, cJSON_GetObjectItem(r.json, "faults"))
		{
			const char *t = jstr(cJSON_GetObjectItem(f, "match"), "tid");
			if (t && strcmp(t, p.tid) == 0)
				mine = f;
		}
		ck_assert_ptr_nonnull(mine);
		ck_assert_int_eq(jint(mine, "fired"), 1);
		snprintf(body, sizeof(body), "/faults/%lld", (long long)jint(mine, "id"));
	}
	it_fp_ctl("DELETE", body, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	it_fp_ctl("DELETE", body, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	it_fp_ctl("POST", "/faults", "{\"action\":\"explode\"}", &r);
	ck_assert_int_eq(r.status, 400);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_fault_rate_and_order)
{
	struct it_resp r = IT_RESP_INIT;
	char sid[32], puid[64], rule[512];
	int declined = 0, ok = 0;
	int64_t fired = -1;
	cJSON *f;

	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	/* two rules at rate 0.5 (both specific): the first that matches and passes its rate fires
	 */
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"endpoint\":\"subscription\",\"partner_user_id\":\"%s\"},"
	         "\"action\":\"decline\",\"code\":-429,\"rate\":0.5}",
	         puid);
	it_fp_fault(rule);
	rule_for_sid(sid, "\"action\":\"decline\",\"code\":-503,\"rate\":0.5", rule, sizeof(rule));
	it_fp_fault(rule);
	for (int i = 0; i < 40; i++) {
		charge(sid, puid, 1000, &r);
		if (r.status == 200)
			ok++;
		else if (err_code(r.json) == -503 || err_code(r.json) == -429)
			declined++;
	}
	ck_assert_int_eq(ok + declined, 40);
	ck_assert_msg(declined >= 20 && declined <= 38 && ok >= 2,
	              "rate 0.5 twice: %d declined of 40", declined);
	ck_assert_int_eq(it_fp_ledger_count(NULL, sid), ok);
	it_fp_ctl("GET", "/faults", NULL, &r);
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(r.json, "faults"))
	{
		const char *s = jstr(cJSON_GetObjectItem(f, "match"), "sid");
		if (s && strcmp(s, sid) == 0)
			fired = jint(f, "fired");
	}
	ck_assert_int_ge(fired, 1);
	ck_assert_int_le(fired, declined);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_fault_specific_first)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	char rule[256], path[64];
	int64_t generic;
	int code;

	it_fp_pay_init(&p, IT_FP_ONETIME, 1000);
	it_fp_ready(&p);
	generic = it_fp_fault("{\"match\":{\"endpoint\":\"order\"},\"action\":\"decline\","
	                      "\"code\":-429,\"http_status\":429,\"times\":1}");
	snprintf(rule, sizeof(rule),
	         "{\"match\":{\"tid\":\"%s\"},\"action\":\"decline\",\"code\":-503,"
	         "\"http_status\":503,\"times\":1}",
	         p.tid);
	it_fp_fault(rule);
	order(&p, NULL, &r);
	code = err_code(r.json);
	snprintf(path, sizeof(path), "/faults/%lld", (long long)generic);
	it_fp_ctl("DELETE", path, NULL, &r); /* before asserting: other tests look orders up */
	ck_assert_int_eq(r.status, 200);     /* it never fired */
	ck_assert_int_eq(code, -503);
	it_resp_free(&r);
}
END_TEST

/* ---- control, config, log ---------------------------------------------------------------------
 */

START_TEST(test_config_latency)
{
	struct it_resp r = IT_RESP_INIT;
	char sid[32], puid[64], body[256];

	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	it_fp_ctl("PUT", "/config", "{\"latency_ms\":300}", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "latency_ms"), "300");
	snprintf(body, sizeof(body), "{\"cid\":\"" IT_FP_SUB "\",\"sid\":\"%s\"}", sid);
	it_fp_api("manage/subscription/status", body, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(r.seconds >= 0.3, "latency not applied: %.3f", r.seconds);
	it_fp_ctl("PUT", "/config", "{\"latency_ms\":0}", &r);
	ck_assert_int_eq(r.status, 200);
	it_fp_api("manage/subscription/status", body, &r);
	ck_assert_msg(r.seconds < 0.3, "latency not removed");
	it_fp_ctl("GET", "/counters", NULL, &r);
	ck_assert_int_ge(jint(cJSON_GetObjectItem(r.json, "latency_ms"), "p99"), 0);
	ck_assert_int_ge(jint(cJSON_GetObjectItem(r.json, "in_flight"), "max"), 1);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_log_has_no_secrets)
{
	struct it_fp_pay p;
	char path[512];
	char *log;
	size_t len;

	it_fp_pay_init(&p, IT_FP_SUB, 1500);
	it_fp_paid(&p);
	snprintf(path, sizeof(path), "%s/fakepay.log", it_var());
	log = it_read_file(path, &len);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_nonnull(strstr(log, p.tid));
	ck_assert_ptr_null(strstr(log, IT_FP_KEY));
	ck_assert_ptr_null(strstr(log, p.token));
	ck_assert_ptr_null(strstr(log, p.sid));
	free(log);
}
END_TEST

START_TEST(test_reset)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	cJSON *all;

	it_fp_pay_init(&p, IT_FP_ONETIME, 1000);
	it_fp_paid(&p);
	it_fp_fault("{\"match\":{\"tid\":\"T1\"},\"action\":\"drop\"}");
	it_fp_ctl("POST", "/clock", "{\"advance_s\":10}", &r);
	it_fp_ctl("POST", "/reset", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	all = it_fp_ledger(NULL);
	ck_assert_int_eq(cJSON_GetArraySize(all), 0);
	cJSON_Delete(all);
	it_fp_ctl("GET", "/faults", NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "faults")), 0);
	it_fp_ctl("GET", "/clock", NULL, &r);
	ck_assert_int_eq(jint(r.json, "offset_s"), 0);
	ck_assert_int_eq(counter("dup_partner_order_id"), 0);
	order(&p, NULL, &r);
	it_fp_assert_error(&r, 400, -721);
	/* the configuration is kept: the key still works, the seq restarts at 1 */
	it_fp_pay_init(&p, IT_FP_ONETIME, 1000);
	it_fp_paid(&p);
	all = it_fp_ledger(NULL);
	ck_assert_int_eq(cJSON_GetArraySize(all), 1);
	ck_assert_int_eq(jint(cJSON_GetArrayItem(all, 0), "seq"), 1);
	cJSON_Delete(all);
	it_fp_ctl("GET", "/ledger/summary", NULL, &r);
	ck_assert_int_eq(jint(r.json, "charged_total"), 1000);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "dup_partner_order_ids")),
	                 0);
	it_fp_ctl("GET", "/nope", NULL, &r);
	ck_assert_int_eq(r.status, 404);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_limits_card_config)
{
	static const char *const expect[] = {"Authorization: SECRET_KEY " IT_FP_KEY,
	                                     "Content-Type: application/json",
	                                     "Expect: 100-continue", NULL};
	struct it_resp r = IT_RESP_INIT;
	struct it_fp_pay p;
	char sid[32], puid[64], body[2048];

	it_fp_ctl("PUT", "/config",
	          "{\"max_amount\":5000,\"sid_monthly_limit\":2,\"method\":\"CARD\","
	          "\"allowed_redirect_hosts\":\"shop.example\"}",
	          &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "method"), "CARD");
	/* -797 on ready and on a charge */
	it_fp_pay_init(&p, IT_FP_ONETIME, 5001);
	it_fp_ready_json(&p, body, sizeof(body));
	it_fp_api("ready", body, &r);
	it_fp_assert_error(&r, 400, -797);
	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	charge(sid, puid, 5001, &r);
	it_fp_assert_error(&r, 400, -797);
	/* -752 after two charges this month */
	charge(sid, puid, 1000, &r);
	ck_assert_int_eq(r.status, 200);
	charge(sid, puid, 1000, &r);
	ck_assert_int_eq(r.status, 200);
	charge(sid, puid, 1000, &r);
	it_fp_assert_error(&r, 400, -752);
	/* -799 for a redirect URL on another host */
	snprintf(
	    body, sizeof(body),
	    "{\"cid\":\"TC0ONETIME\",\"partner_order_id\":\"a\",\"partner_user_id\":\"b\","
	    "\"item_name\":\"x\",\"quantity\":1,\"total_amount\":1000,"
	    "\"tax_free_amount\":0,\"approval_url\":\"http://shop.example/a\","
	    "\"cancel_url\":\"http://shop.example/c\",\"fail_url\":\"https://evil.example/f\"}");
	it_fp_api("ready", body, &r);
	it_fp_assert_error(&r, 400, -799);
	/* CARD: card_info on approve, selected_card_info on lookup; Expect: 100-continue works */
	it_fp_pay_init(&p, IT_FP_ONETIME, 4000);
	it_fp_ready(&p);
	it_fp_click(&p, "approve", NULL, 0);
	it_fp_approve_json(&p, body, sizeof(body));
	ck_assert_int_eq(it_fp_raw("POST", "/online/v1/payment/approve", expect, body, 5000, &r),
	                 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "payment_method_type"), "CARD");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r.json, "card_info")));
	ck_assert_str_eq(jstr(cJSON_GetObjectItem(r.json, "card_info"), "install_month"), "00");
	order(&p, NULL, &r);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(r.json, "selected_card_info")));
	it_fp_ctl("PUT", "/config",
	          "{\"max_amount\":0,\"sid_monthly_limit\":0,\"method\":\"MONEY\","
	          "\"allowed_redirect_hosts\":\"\"}",
	          &r);
	ck_assert_int_eq(r.status, 200);
	it_resp_free(&r);
}
END_TEST

START_TEST(test_ledger_queries)
{
	struct it_resp r = IT_RESP_INIT;
	char sid[32], puid[64], body[1024], poid[64], q[128];
	cJSON *all, *e;
	int64_t last = 0, since;
	int n = 0;

	new_sid(sid, sizeof(sid), puid, sizeof(puid));
	snprintf(poid, sizeof(poid), "S%d-dup-%llu", (int)getpid(), (unsigned long long)it_seq());
	charge_json(sid, puid, poid, 700, body, sizeof(body));
	it_fp_api("subscription", body, &r);
	ck_assert_int_eq(r.status, 200);
	it_fp_ctl("GET", "/ledger", NULL, &r);
	since = jint(r.json, "last_seq");
	it_fp_api("subscription", body, &r);
	ck_assert_int_eq(r.status, 200);
	/* seq strictly increasing, without gaps */
	all = it_fp_ledger(NULL);
	cJSON_ArrayForEach(e, all)
	{
		ck_assert_int_eq(jint(e, "seq"), last + 1);
		last = jint(e, "seq");
		ck_assert(is_ts(cJSON_GetObjectItem(e, "at")));
	}
	cJSON_Delete(all);
	snprintf(q, sizeof(q), "sid=%s", sid);
	all = it_fp_ledger(q);
	ck_assert_int_eq(cJSON_GetArraySize(all), 2);
	cJSON_Delete(all);
	snprintf(q, sizeof(q), "sid=%s&since=%lld", sid, (long long)since);
	all = it_fp_ledger(q);
	ck_assert_int_eq(cJSON_GetArraySize(all), 1);
	cJSON_Delete(all);
	/* the summary lists the reused partner_order_id */
	it_fp_ctl("GET", "/ledger/summary", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(r.json, "dup_partner_order_ids"))
	{
		if (strcmp(jstr(e, "value"), poid) == 0) {
			n++;
			ck_assert_int_eq(jint(e, "payments"), 2);
		}
	}
	ck_assert_int_eq(n, 1);
	n = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(r.json, "payments_per_sid"))
	{
		if (strcmp(jstr(e, "value"), sid) == 0) {
			n++;
			ck_assert_int_eq(jint(e, "payments"), 2);
		}
	}
	ck_assert_int_eq(n, 1);
	snprintf(q, sizeof(q), "/sid/%s", sid);
	it_fp_ctl("GET", q, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(jint(r.json, "charges"), 2);
	it_resp_free(&r);
}
END_TEST

Suite *fakepay_suite(void)
{
	Suite *s = suite_create("fakepay");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_body_and_fields);
	tcase_add_test(tc, test_cid_and_amounts);
	tcase_add_test(tc, test_happy_path_page);
	tcase_add_test(tc, test_approve_checks);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_cancel_fail_buttons);
	tcase_add_test(tc, test_order_lookup_ready);
	tcase_add_test(tc, test_subscription_sid);
	tcase_add_test(tc, test_sid_errors);
	tcase_add_test(tc, test_concurrent_charges);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_concurrent_approves_and_cancels);
	suite_add_tcase(s, tc);
	tc = tcase_create("faults");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fault_decline);
	tcase_add_test(tc, test_fault_http500);
	tcase_add_test(tc, test_fault_hang_drop);
	tcase_add_test(tc, test_fault_garbage_latency);
	tcase_add_test(tc, test_fault_on_approve);
	tcase_add_test(tc, test_fault_rate_and_order);
	tcase_add_test(tc, test_fault_specific_first);
	suite_add_tcase(s, tc);
	tc = tcase_create("control");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_config_latency);
	tcase_add_test(tc, test_limits_card_config);
	tcase_add_test(tc, test_ledger_queries);
	tcase_add_test(tc, test_log_has_no_secrets);
	tcase_add_test(tc, test_reset);
	suite_add_tcase(s, tc);
	return s;
}
