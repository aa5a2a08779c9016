/*
 * 10_ops: the operations endpoints (API.md §10) and the transport conventions every route
 * shares (§1.1 routing, request ids, bodies; §1.5 check order; §1.8 CORS; §1.9 limits).
 */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

static bool rx_match(const char *re, const char *s)
{
	regex_t rx;
	bool ok;
	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

#define UUID_RE "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

static bool starts_with_ci(const char *s, const char *prefix)
{
	return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- §10 endpoints --------------------------------------------------------------------------- */

START_TEST(health_answers_plain_ok)
{
	struct it_resp r = IT_RESP_INIT;
	const char *bad_auth[] = {"Authorization: Bearer not-a-token", NULL};

	it_get("/health", NULL, &r);
	it_assert_status(&r, 200);
	ck_assert_msg(starts_with_ci(it_resp_header(&r, "Content-Type"), "text/plain"),
		      "/health must be text/plain, got %s", it_resp_header(&r, "Content-Type"));
	ck_assert_str_eq(r.body, "OK");

	/* public: an invalid Authorization header is ignored (§0) */
	it_req("GET", "/health", NULL, NULL, bad_auth, &r);
	it_assert_status(&r, 200);
	ck_assert_str_eq(r.body, "OK");
	it_resp_free(&r);
}
END_TEST

START_TEST(ready_reports_db_and_redis_up)
{
	struct it_resp r = IT_RESP_INIT;
	const cJSON *checks;

	it_get("/ready", NULL, &r);
	it_assert_status(&r, 200);
	ck_assert_msg(cJSON_IsObject(r.json), "/ready must answer JSON: %s", r.body);
	it_assert_keys(r.json, "status", "checks", NULL);
	ck_assert_str_eq(it_json_str(r.json, "status"), "UP");
	checks = cJSON_GetObjectItemCaseSensitive(r.json, "checks");
	it_assert_keys(checks, "db", "redis", NULL);
	ck_assert_str_eq(it_json_str(checks, "db"), "UP");
	ck_assert_str_eq(it_json_str(checks, "redis"), "UP");
	it_resp_free(&r);
}
END_TEST

/* Sum of the samples of metric name (with or without labels) in a Prometheus text body. */
static double metric_sum(const char *text, const char *name, int *found)
{
	size_t n = strlen(name);
	double sum = 0;
	const char *line = text;

	*found = 0;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		if (strncmp(line, name, n) == 0 && (line[n] == ' ' || line[n] == '{')) {
			const char *v = line[n] == '{' ? strchr(line, '}') : line + n;
			if (v) {
				v = v[0] == '}' ? v + 1 : v;
				sum += strtod(v, NULL);
				(*found)++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return sum;
}

/* A sample line of name carrying every label of labels[] (each "k=\"v\""). */
static bool has_sample(const char *text, const char *name, const char *const *labels)
{
	size_t n = strlen(name);
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (strncmp(line, name, n) == 0 && line[n] == '{') {
			bool all = true;
			for (size_t i = 0; labels[i]; i++) {
				const char *hit = strstr(line, labels[i]);
				if (!hit || hit > line + len)
					all = false;
			}
			if (all)
				return true;
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

static bool has_type(const char *text, const char *name, const char *type)
{
	char want[160];
	snprintf(want, sizeof(want), "# TYPE %s %s\n", name, type);
	return strstr(text, want) != NULL;
}

START_TEST(metrics_expose_the_required_families)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	char path[64], xff[64], raw[80];
	double before, after;
	int found;
	static const char *const route_200[] = {"route=\"/api/users/{userId}\"", "method=\"GET\"",
						"status=\"200\"", NULL};
	static const char *const route_hist[] = {"route=\"/api/users/{userId}\"", "le=\"+Inf\"",
						 NULL};
	const char *xffs[] = {xff, NULL};

	it_new_user(&u);
	it_user_path(path, sizeof(path), u.id);
	it_get(path, u.access, &r);
	it_assert_status(&r, 200);

	it_get("/metrics", NULL, &r);
	it_assert_status(&r, 200);
	ck_assert_msg(starts_with_ci(it_resp_header(&r, "Content-Type"), "text/plain"),
		      "/metrics must be text/plain (format 0.0.4), got %s",
		      it_resp_header(&r, "Content-Type"));
	ck_assert_msg(has_type(r.body, "http_requests_total", "counter"),
		      "no counter http_requests_total");
	ck_assert_msg(has_type(r.body, "http_request_duration_seconds", "histogram"),
		      "no histogram http_request_duration_seconds");
	ck_assert_msg(has_type(r.body, "payment_gateway_requests_total", "counter"),
		      "no counter payment_gateway_requests_total");
	ck_assert_msg(has_type(r.body, "payment_gateway_request_duration_seconds", "histogram"),
		      "no histogram payment_gateway_request_duration_seconds");
	ck_assert_msg(has_type(r.body, "login_failures_total", "counter"),
		      "no counter login_failures_total");
	ck_assert_msg(has_type(r.body, "outbox_pending", "gauge"), "no gauge outbox_pending");
	ck_assert_msg(has_type(r.body, "db_up", "gauge"), "no gauge db_up");
	ck_assert_msg(has_type(r.body, "redis_up", "gauge"), "no gauge redis_up");

	/* the route label is the template, never the raw path */
	ck_assert_msg(has_sample(r.body, "http_requests_total", route_200),
		      "no http_requests_total sample for GET /api/users/{userId} 200");
	ck_assert_msg(has_sample(r.body, "http_request_duration_seconds_bucket", route_hist),
		      "no http_request_duration_seconds bucket for /api/users/{userId}");
	snprintf(raw, sizeof(raw), "route=\"%s\"", path);
	ck_assert_msg(strstr(r.body, raw) == NULL, "a raw path is used as route label: %s", raw);
	ck_assert_msg(metric_sum(r.body, "db_up", &found) == 1.0 && found, "db_up must be 1");
	ck_assert_msg(metric_sum(r.body, "redis_up", &found) == 1.0 && found, "redis_up must be 1");

	/* a failed login counts */
	before = metric_sum(r.body, "login_failures_total", &found);
	it_xff_header(xff, sizeof(xff));
	it_login_raw(u.email, "Wrong-pass1!", xffs, &r);
	it_assert_error(&r, 401, "BAD_CREDENTIALS");
	it_get("/metrics", NULL, &r);
	it_assert_status(&r, 200);
	after = metric_sum(r.body, "login_failures_total", &found);
	ck_assert_msg(found && after == before + 1, "login_failures_total went from %g to %g",
		      before, after);
	it_resp_free(&r);
}
END_TEST

START_TEST(profile_names_the_configured_profile)
{
	struct it_resp r = IT_RESP_INIT;

	it_get("/profile", NULL, &r);
	it_assert_status(&r, 200);
	ck_assert_msg(starts_with_ci(it_resp_header(&r, "Content-Type"), "text/plain"),
		      "/profile must be text/plain, got %s", it_resp_header(&r, "Content-Type"));
	ck_assert_str_eq(r.body, IT_PROFILE);
	it_resp_free(&r);
}
END_TEST

START_TEST(openapi_document_parses)
{
	struct it_resp r = IT_RESP_INIT;
	const cJSON *paths, *v;

	it_get("/openapi.json", NULL, &r);
	it_assert_status(&r, 200);
	ck_assert_msg(cJSON_IsObject(r.json), "/openapi.json is not a JSON object");
	v = cJSON_GetObjectItemCaseSensitive(r.json, "openapi");
	ck_assert_msg(cJSON_IsString(v) && strncmp(v->valuestring, "3.0", 3) == 0,
		      "\"openapi\" must be a 3.0.x version");
	paths = cJSON_GetObjectItemCaseSensitive(r.json, "paths");
	ck_assert_msg(cJSON_IsObject(paths), "no \"paths\" object");
	ck_assert_msg(cJSON_GetObjectItemCaseSensitive(paths, "/api/users") != NULL,
		      "paths lacks /api/users");
	ck_assert_msg(cJSON_GetObjectItemCaseSensitive(paths, "/api/users/{userId}") != NULL,
		      "paths lacks /api/users/{userId}");
	ck_assert_msg(cJSON_GetObjectItemCaseSensitive(paths, "/api/users/auth") != NULL,
		      "paths lacks /api/users/auth");
	it_resp_free(&r);
}
END_TEST

/* true when an attribute attr="..." or attr='...' in html points outside the page. */
static bool external_ref(const char *html, const char *attr)
{
	size_t n = strlen(attr);
	for (const char *p = strcasestr(html, attr); p; p = strcasestr(p + 1, attr)) {
		const char *v = p + n;
		while (*v == ' ')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ')
			v++;
		if (*v == '"' || *v == '\'')
			v++;
		if (strncasecmp(v, "http:", 5) == 0 || strncasecmp(v, "https:", 6) == 0 ||
		    strncmp(v, "//", 2) == 0)
			return true;
	}
	return false;
}

START_TEST(docs_is_a_self_contained_page)
{
	struct it_resp r = IT_RESP_INIT;

	it_get("/docs", NULL, &r);
	it_assert_status(&r, 200);
	ck_assert_msg(starts_with_ci(it_resp_header(&r, "Content-Type"), "text/html"),
		      "/docs must be text/html, got %s", it_resp_header(&r, "Content-Type"));
	ck_assert_msg(strcasestr(r.body, "<html") != NULL, "/docs is not an HTML page");
	ck_assert_msg(strstr(r.body, "openapi.json") != NULL,
		      "/docs does not render /openapi.json");
	ck_assert_msg(!external_ref(r.body, "src"), "/docs loads an external script or image");
	for (const char *l = strcasestr(r.body, "<link"); l; l = strcasestr(l + 1, "<link")) {
		const char *end = strchr(l, '>');
		char tag[512];
		snprintf(tag, sizeof(tag), "%.*s", end ? (int)(end - l) : 200, l);
		ck_assert_msg(!external_ref(tag, "href"), "/docs links an external resource: %s",
			      tag);
	}
	it_resp_free(&r);
}
END_TEST

/* ---- §1.1 routing, §1.5 check order ---------------------------------------------------------- */

START_TEST(unknown_paths_are_404_not_found)
{
	static const char *const paths[] = {"/api/nope",          "/nope",       "/api",
					    "/api/users/1/extra", "/api/items/", NULL};
	struct it_resp r = IT_RESP_INIT;

	for (size_t i = 0; paths[i]; i++) {
		it_get(paths[i], NULL, &r);
		it_assert_error(&r, 404, "NOT_FOUND");
	}
	/* route before method, media type and authentication */
	it_req("POST", "/api/nope", NULL, "{}", NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_req("DELETE", "/api/nope/1", "garbage", NULL, NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_req("OPTIONS", "/api/nope", NULL, NULL, NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

START_TEST(trailing_slash_is_not_rewritten)
{
	struct it_resp r = IT_RESP_INIT;

	it_get("/api/users/1/", NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_req("POST", "/api/users/", NULL, "{}", NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_get("/health/", NULL, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_resp_free(&r);
}
END_TEST

/* The comma-separated methods of Allow include every one of want and none of unwanted. */
static void assert_allow(const struct it_resp *r, const char *const *want,
			 const char *const *unwanted)
{
	const char *allow = it_resp_header(r, "Allow");
	char buf[256], *save = NULL;
	bool seen[8] = {false};

	ck_assert_msg(allow != NULL, "405 without Allow");
	snprintf(buf, sizeof(buf), "%s", allow);
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		for (size_t i = 0; want[i]; i++)
			if (strcmp(tok, want[i]) == 0)
				seen[i] = true;
		for (size_t i = 0; unwanted[i]; i++)
			ck_assert_msg(strcmp(tok, unwanted[i]) != 0, "Allow \"%s\" lists %s", allow,
				      unwanted[i]);
	}
	for (size_t i = 0; want[i]; i++)
		ck_assert_msg(seen[i], "Allow \"%s\" lacks %s", allow, want[i]);
}

START_TEST(wrong_method_is_405_with_allow)
{
	struct it_resp r = IT_RESP_INIT;
	static const char *const users_want[] = {"POST", NULL};
	static const char *const users_not[] = {"GET", "PUT", "PATCH", "DELETE", NULL};
	static const char *const user_want[] = {"GET", "PATCH", "DELETE", NULL};
	static const char *const user_not[] = {"POST", "PUT", NULL};
	static const char *const health_want[] = {"GET", NULL};
	static const char *const health_not[] = {"POST", "PUT", "PATCH", "DELETE", NULL};

	it_req("PUT", "/api/users", NULL, "{}", NULL, &r);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	assert_allow(&r, users_want, users_not);
	it_get("/api/users", NULL, &r);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	assert_allow(&r, users_want, users_not);

	/* method before authentication and media type */
	it_req("PUT", "/api/users/1", NULL, NULL, NULL, &r);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	assert_allow(&r, user_want, user_not);
	it_req("POST", "/api/users/1", "garbage", "{}", NULL, &r);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	assert_allow(&r, user_want, user_not);

	it_req("DELETE", "/health", NULL, NULL, NULL, &r);
	it_assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	assert_allow(&r, health_want, health_not);
	it_resp_free(&r);
}
END_TEST

/* ---- §1.8 CORS ------------------------------------------------------------------------------- */

#define EXPOSE                                                                                     \
	"Authorization, Refresh, userId, OAuth-Link-Token, X-Request-ID, Idempotent-Replayed, "    \
	"Retry-After"

static void assert_vary_origin(const struct it_resp *r)
{
	const char *vary = it_resp_header(r, "Vary");
	ck_assert_msg(vary && strcasestr(vary, "Origin"), "Vary must include Origin, got %s",
		      vary ? vary : "(none)");
}

START_TEST(preflight_answers_204_with_the_cors_headers)
{
	struct it_resp r = IT_RESP_INIT;
	const char *hdrs[] = {"Origin: " IT_ORIGIN_LOCAL, "Access-Control-Request-Method: PATCH",
			      "Access-Control-Request-Headers: Authorization, Content-Type", NULL};

	it_req("OPTIONS", "/api/users/1", NULL, NULL, hdrs, &r);
	it_assert_status(&r, 204);
	ck_assert_msg(r.body_len == 0, "204 must have no body");
	it_assert_header(&r, "Access-Control-Allow-Origin", IT_ORIGIN_LOCAL);
	it_assert_header(&r, "Access-Control-Allow-Credentials", "true");
	it_assert_header(&r, "Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
	it_assert_header(&r, "Access-Control-Allow-Headers",
			 "Authorization, Refresh, Content-Type, Idempotency-Key, X-Request-ID");
	it_assert_header(&r, "Access-Control-Max-Age", "600");
	assert_vary_origin(&r);
	it_resp_free(&r);
}
END_TEST

START_TEST(preflight_needs_no_authentication)
{
	struct it_resp r = IT_RESP_INIT;
	const char *hdrs[] = {"Origin: " IT_ORIGIN_SHOP, "Access-Control-Request-Method: POST",
			      NULL};

	it_req("OPTIONS", "/api/users/logout", NULL, NULL, hdrs, &r);
	it_assert_status(&r, 204);
	it_assert_header(&r, "Access-Control-Allow-Origin", IT_ORIGIN_SHOP);
	it_req("OPTIONS", "/api/users", NULL, NULL, hdrs, &r);
	it_assert_status(&r, 204);
	it_assert_header(&r, "Access-Control-Allow-Origin", IT_ORIGIN_SHOP);
	it_resp_free(&r);
}
END_TEST

START_TEST(preflight_from_other_origin_has_no_cors_headers)
{
	struct it_resp r = IT_RESP_INIT;
	const char *hdrs[] = {"Origin: https://evil.example",
			      "Access-Control-Request-Method: PATCH", NULL};

	it_req("OPTIONS", "/api/users/1", NULL, NULL, hdrs, &r);
	it_assert_status(&r, 204);
	ck_assert_msg(it_resp_header_prefix_count(&r, "Access-Control-") == 0,
		      "a disallowed origin got Access-Control-* headers");
	it_resp_free(&r);
}
END_TEST

START_TEST(allowed_origin_gets_cors_headers)
{
	struct it_resp r = IT_RESP_INIT;
	const char *hdrs[] = {"Origin: " IT_ORIGIN_SHOP, NULL};

	it_req("GET", "/health", NULL, NULL, hdrs, &r);
	it_assert_status(&r, 200);
	it_assert_header(&r, "Access-Control-Allow-Origin", IT_ORIGIN_SHOP);
	it_assert_header(&r, "Access-Control-Allow-Credentials", "true");
	it_assert_header(&r, "Access-Control-Expose-Headers", EXPOSE);
	assert_vary_origin(&r);

	/* errors too, or the browser cannot read them */
	it_req("GET", "/api/users/1", NULL, NULL, hdrs, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_assert_header(&r, "Access-Control-Allow-Origin", IT_ORIGIN_SHOP);
	it_assert_header(&r, "Access-Control-Expose-Headers", EXPOSE);
	it_resp_free(&r);
}
END_TEST

START_TEST(other_origin_gets_no_cors_headers)
{
	static const char *const origins[] = {
	    "Origin: https://evil.example", "Origin: https://shop.example.evil.example",
	    "Origin: http://localhost:3001", "Origin: null", NULL};
	struct it_resp r = IT_RESP_INIT;

	for (size_t i = 0; origins[i]; i++) {
		const char *hdrs[] = {origins[i], NULL};
		it_req("GET", "/health", NULL, NULL, hdrs, &r);
		it_assert_status(&r, 200);
		ck_assert_str_eq(r.body, "OK");
		ck_assert_msg(it_resp_header_prefix_count(&r, "Access-Control-") == 0,
			      "%s got Access-Control-* headers", origins[i]);
	}
	it_resp_free(&r);
}
END_TEST

/* ---- §1.1 request id ------------------------------------------------------------------------- */

START_TEST(valid_request_id_is_echoed)
{
	struct it_resp r = IT_RESP_INIT;
	char id64[65], hdr[100];
	const char *h1[] = {"X-Request-ID: it-req.ID_123", NULL};
	const char *h2[] = {hdr, NULL};
	const char *h3[] = {"X-RequestID: alias.id-9", NULL};

	it_req("GET", "/health", NULL, NULL, h1, &r);
	it_assert_header(&r, "X-Request-ID", "it-req.ID_123");

	memset(id64, 'a', 64);
	id64[64] = '\0';
	snprintf(hdr, sizeof(hdr), "X-Request-ID: %s", id64);
	it_req("GET", "/health", NULL, NULL, h2, &r);
	it_assert_header(&r, "X-Request-ID", id64);

	it_req("GET", "/health", NULL, NULL, h3, &r);
	it_assert_header(&r, "X-Request-ID", "alias.id-9");

	/* error responses carry it too */
	it_req("GET", "/api/nope", NULL, NULL, h1, &r);
	it_assert_error(&r, 404, "NOT_FOUND");
	it_assert_header(&r, "X-Request-ID", "it-req.ID_123");
	it_resp_free(&r);
}
END_TEST

START_TEST(invalid_request_id_is_replaced_by_a_uuid)
{
	struct it_resp r = IT_RESP_INIT;
	char id65[66], hdr[100], first[80];
	const char *bad[] = {"X-Request-ID: bad id!", NULL};
	const char *bad2[] = {"X-Request-ID: semi;colon", NULL};
	const char *longer[] = {hdr, NULL};
	const char *rid;

	it_req("GET", "/health", NULL, NULL, bad, &r);
	rid = it_resp_header(&r, "X-Request-ID");
	ck_assert_msg(rid && rx_match(UUID_RE, rid), "expected a generated UUID, got %s",
		      rid ? rid : "(none)");

	it_req("GET", "/health", NULL, NULL, bad2, &r);
	rid = it_resp_header(&r, "X-Request-ID");
	ck_assert_msg(rid && rx_match(UUID_RE, rid), "expected a generated UUID, got %s",
		      rid ? rid : "(none)");

	memset(id65, 'b', 65);
	id65[65] = '\0';
	snprintf(hdr, sizeof(hdr), "X-Request-ID: %s", id65);
	it_req("GET", "/health", NULL, NULL, longer, &r);
	rid = it_resp_header(&r, "X-Request-ID");
	ck_assert_msg(rid && rx_match(UUID_RE, rid), "65 chars: expected a UUID, got %s",
		      rid ? rid : "(none)");

	it_get("/health", NULL, &r);
	rid = it_resp_header(&r, "X-Request-ID");
	ck_assert_msg(rid && rx_match(UUID_RE, rid), "no id: expected a UUID, got %s",
		      rid ? rid : "(none)");
	snprintf(first, sizeof(first), "%s", rid);
	it_get("/health", NULL, &r);
	rid = it_resp_header(&r, "X-Request-ID");
	ck_assert_msg(rid && strcmp(rid, first) != 0, "two requests got the same generated id");
	it_resp_free(&r);
}
END_TEST

/* ---- §1.9 limits, §1.1 bodies ---------------------------------------------------------------- */

static void raw_request(const char *req, struct it_resp *r)
{
	ck_assert_msg(it_raw(req, strlen(req), r) == 0, "raw request: %s", r->error);
}

START_TEST(body_over_64k_is_413_from_content_length)
{
	struct it_resp r = IT_RESP_INIT;

	/* announced, never sent: the answer must not wait for the body */
	raw_request("POST /api/users HTTP/1.1\r\nHost: localhost\r\n"
		    "Content-Type: application/json\r\nContent-Length: 65537\r\n\r\n",
		    &r);
	it_assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	raw_request("POST /api/users/auth HTTP/1.1\r\nHost: localhost\r\n"
		    "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{",
		    &r);
	it_assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	it_resp_free(&r);
}
END_TEST

START_TEST(body_size_is_checked_before_media_type_and_auth)
{
	struct it_resp r = IT_RESP_INIT;

	raw_request("PATCH /api/users/1 HTTP/1.1\r\nHost: localhost\r\n"
		    "Content-Type: text/plain\r\nContent-Length: 70000\r\n\r\n",
		    &r);
	it_assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	it_resp_free(&r);
}
END_TEST

START_TEST(body_of_exactly_64k_is_read)
{
	struct it_resp r = IT_RESP_INIT;
	size_t n = 65536;
	char *body = malloc(n);

	ck_assert_ptr_nonnull(body);
	memset(body, ' ', n);
	body[0] = '{';
	body[n - 1] = '}';
	{
		const char *hdrs[] = {"Content-Type: application/json", NULL};
		ck_assert_msg(it_http("POST", "/api/users", hdrs, body, n, &r) == 0, "%s", r.error);
	}
	/* read and parsed: every required field is missing */
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	free(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(non_json_media_type_is_415)
{
	static const char *const types[] = {"Content-Type: text/plain",
					    "Content-Type: application/x-www-form-urlencoded",
					    "Content-Type: application/xml", NULL};
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *j;
	char *body;

	it_user_fill(&u);
	j = it_user_json(&u);
	body = cJSON_PrintUnformatted(j);
	for (size_t i = 0; types[i]; i++) {
		const char *hdrs[] = {types[i], NULL};
		ck_assert_int_eq(it_http("POST", "/api/users", hdrs, body, strlen(body), &r), 0);
		it_assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
		ck_assert_int_eq(it_http("POST", "/api/users/auth", hdrs, "{}", 2, &r), 0);
		it_assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
	}
	/* media type before authentication */
	{
		const char *hdrs[] = {"Content-Type: text/plain", NULL};
		ck_assert_int_eq(it_http("PATCH", "/api/users/1", hdrs, "{}", 2, &r), 0);
		it_assert_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
	}
	/* the charset parameter is allowed */
	{
		const char *hdrs[] = {"Content-Type: application/json; charset=utf-8", NULL};
		ck_assert_int_eq(it_http("POST", "/api/users", hdrs, body, strlen(body), &r), 0);
		it_assert_status(&r, 201);
	}
	free(body);
	cJSON_Delete(j);
	it_resp_free(&r);
}
END_TEST

static char *nested(int depth)
{
	/* depth objects: {"a":{"a":...{}...}} */
	size_t n = (size_t)depth * 6 + 4;
	char *s = malloc(n), *p = s;
	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < depth - 1; i++) {
		memcpy(p, "{\"a\":", 5);
		p += 5;
	}
	*p++ = '{';
	for (int i = 0; i < depth; i++)
		*p++ = '}';
	*p = '\0';
	return s;
}

static const char *const malformed_bodies[] = {
	"{",
	"",
	"[]",
	"[{\"email\":\"a@b.c\"}]",
	"\"text\"",
	"42",
	"null",
	"{\"email\":\"a@test.example\",\"email\":\"b@test.example\"}",
	"{\"city\":\"x\",\"nested\":{\"k\":1,\"k\":2}}",
	"{\"email\":\"a@test.example\"} trailing",
	"{'email':'a@test.example'}",
	"{\"email\":}",
	"{\"a\":1,}",
	NULL /* depth 17, built at run time */,
};

#define N_MALFORMED ((int)(sizeof(malformed_bodies) / sizeof(malformed_bodies[0])))

START_TEST(malformed_json_is_400)
{
	struct it_resp r = IT_RESP_INIT;
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	char *body = malformed_bodies[_i] ? strdup(malformed_bodies[_i]) : nested(17);

	ck_assert_msg(it_http("POST", "/api/users", hdrs, body, strlen(body), &r) == 0, "%s",
		      r.error);
	if (r.status != 400)
		ck_abort_msg("body #%d (%.60s): expected 400 MALFORMED_REQUEST, got %ld %s", _i,
			     body, r.status, r.body);
	it_assert_error(&r, 400, "MALFORMED_REQUEST");
	free(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(depth_16_is_accepted)
{
	struct it_resp r = IT_RESP_INIT;
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	char *body = nested(16);

	ck_assert_int_eq(it_http("POST", "/api/users", hdrs, body, strlen(body), &r), 0);
	/* parsed: the fields are missing */
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	free(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(json_syntax_is_checked_after_authentication)
{
	struct it_resp r = IT_RESP_INIT;

	it_req("PATCH", "/api/users/1", NULL, "{", NULL, &r);
	it_assert_error(&r, 401, "UNAUTHORIZED");
	it_resp_free(&r);
}
END_TEST

START_TEST(headers_over_16k_are_400)
{
	struct it_resp r = IT_RESP_INIT;
	size_t pad = 17 * 1024;
	char *req = malloc(pad + 128);
	int n;

	ck_assert_ptr_nonnull(req);
	n = snprintf(req, 128, "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ");
	memset(req + n, 'x', pad);
	memcpy(req + n + pad, "\r\n\r\n", 5);
	raw_request(req, &r);
	it_assert_error(&r, 400, "MALFORMED_REQUEST");
	free(req);
	it_resp_free(&r);
}
END_TEST

START_TEST(headers_under_the_cap_are_fine)
{
	struct it_resp r = IT_RESP_INIT;
	size_t pad = 8 * 1024;
	char *req = malloc(pad + 128);
	int n;

	ck_assert_ptr_nonnull(req);
	n = snprintf(req, 128, "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ");
	memset(req + n, 'x', pad);
	memcpy(req + n + pad, "\r\nConnection: close\r\n\r\n", 24);
	raw_request(req, &r);
	it_assert_status(&r, 200);
	ck_assert_str_eq(r.body, "OK");
	free(req);
	it_resp_free(&r);
}
END_TEST

Suite *ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc;

	tc = tcase_create("endpoints");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, health_answers_plain_ok);
	tcase_add_test(tc, ready_reports_db_and_redis_up);
	tcase_add_test(tc, metrics_expose_the_required_families);
	tcase_add_test(tc, profile_names_the_configured_profile);
	tcase_add_test(tc, openapi_document_parses);
	tcase_add_test(tc, docs_is_a_self_contained_page);
	suite_add_tcase(s, tc);

	tc = tcase_create("routing");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, unknown_paths_are_404_not_found);
	tcase_add_test(tc, trailing_slash_is_not_rewritten);
	tcase_add_test(tc, wrong_method_is_405_with_allow);
	suite_add_tcase(s, tc);

	tc = tcase_create("cors");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, preflight_answers_204_with_the_cors_headers);
	tcase_add_test(tc, preflight_needs_no_authentication);
	tcase_add_test(tc, preflight_from_other_origin_has_no_cors_headers);
	tcase_add_test(tc, allowed_origin_gets_cors_headers);
	tcase_add_test(tc, other_origin_gets_no_cors_headers);
	suite_add_tcase(s, tc);

	tc = tcase_create("request-id");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, valid_request_id_is_echoed);
	tcase_add_test(tc, invalid_request_id_is_replaced_by_a_uuid);
	suite_add_tcase(s, tc);

	tc = tcase_create("bodies");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, body_over_64k_is_413_from_content_length);
	tcase_add_test(tc, body_size_is_checked_before_media_type_and_auth);
	tcase_add_test(tc, body_of_exactly_64k_is_read);
	tcase_add_test(tc, non_json_media_type_is_415);
	tcase_add_loop_test(tc, malformed_json_is_400, 0, N_MALFORMED);
	tcase_add_test(tc, depth_16_is_accepted);
	tcase_add_test(tc, json_syntax_is_checked_after_authentication);
	tcase_add_test(tc, headers_over_16k_are_400);
	tcase_add_test(tc, headers_under_the_cap_are_fine);
	suite_add_tcase(s, tc);
	return s;
}
