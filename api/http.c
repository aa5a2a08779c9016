/* http: request reading and response writing for pillivery-api (see http.h). */
#include "api/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <civetweb.h>

#include "api/config.h"
#include "api/router.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "common/banned.h"

#define CORS_EXPOSE                                                                                \
	"Authorization, Refresh, userId, OAuth-Link-Token, X-Request-ID, Idempotent-Replayed, "    \
	"Retry-After"

static int valid_request_id(const char *s)
{
	size_t n = 0;
	if (!s)
		return 0;
	for (; s[n]; n++) {
		unsigned char ch = (unsigned char)s[n];
		if (!(isalnum(ch) || ch == '.' || ch == '_' || ch == '-'))
			return 0;
	}
	return n >= 1 && n <= 64;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) ('+' = space) into a new string. */
static char *url_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		           hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static void parse_query(struct req *r)
{
	const char *q = r->ri->query_string;

	while (q && *q && r->nquery < REQ_MAX_QUERY) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', n);
		size_t kn = eq ? (size_t)(eq - q) : n;

		if (kn > 0) {
			char *name = url_decode(q, kn);
			char *value = eq ? url_decode(eq + 1, n - kn - 1) : strdup("");
			if (name && value) {
				r->query[r->nquery].name = name;
				r->query[r->nquery].value = value;
				r->nquery++;
			} else {
				free(name);
				free(value);
			}
		}
		q = amp ? amp + 1 : NULL;
	}
}

void req_init(struct req *r, struct mg_connection *conn, struct worker *w,
              const struct api_config *cfg)
{
	const char *rid;

	memset(r, 0, sizeof(*r));
	r->conn = conn;
	r->ri = mg_get_request_info(conn);
	r->w = w;
	r->cfg = cfg;
	r->method = r->ri->request_method;
	r->path = r->ri->local_uri_raw ? r->ri->local_uri_raw : r->ri->local_uri;
	if (!r->path)
		r->path = "";
	{
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r->started_ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
	}

	rid = req_header(r, "X-Request-ID");
	if (!rid)
		rid = req_header(r, "X-RequestID");
	if (valid_request_id(rid)) {
		snprintf(r->request_id, sizeof(r->request_id), "%s", rid);
	} else if (crypto_uuid4(r->request_id) != 0) {
		snprintf(r->request_id, sizeof(r->request_id), "req-%lld",
		         (long long)clock_now_ms());
	}
	log_set_request_id(r->request_id);
	parse_query(r);
}

void req_release(struct req *r)
{
	for (size_t i = 0; i < r->nquery; i++) {
		free(r->query[i].name);
		free(r->query[i].value);
	}
	for (size_t i = 0; i < r->nextra; i++)
		free(r->extra_value[i]);
	free(r->body);
	free(r->scratch_path);
	cJSON_Delete(r->json);
	log_set_request_id(NULL);
	r->nquery = r->nextra = 0;
	r->body = NULL;
	r->json = NULL;
}

const char *req_header(const struct req *r, const char *name)
{
	for (int i = 0; i < r->ri->num_headers; i++)
		if (!strcasecmp(r->ri->http_headers[i].name, name))
			return r->ri->http_headers[i].value;
	return NULL;
}

const char *req_query(const struct req *r, const char *name)
{
	for (size_t i = 0; i < r->nquery; i++)
		if (!strcmp(r->query[i].name, name))
			return r->query[i].value;
	return NULL;
}

int req_read_body(struct req *r)
{
	long long cl = r->ri->content_length;
	size_t max = r->cfg->max_body;
	size_t cap, len = 0;
	char *body;

	if (cl > (long long)max)
		return -E_PAYLOAD_TOO_LARGE;
	cap = cl >= 0 ? (size_t)cl : 4096;
	body = malloc(cap + 1);
	if (!body)
		return -E_NOMEM;
	for (;;) {
		int n;
		if (len == cap) {
			if (cl >= 0)
				break;
			if (cap > max)
				break;
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(body, ncap + 1);
			if (!nb) {
				free(body);
				return -E_NOMEM;
			}
			body = nb;
			cap = ncap;
		}
		n = mg_read(r->conn, body + len, cap - len);
		if (n < 0) {
			free(body);
			return -E_MALFORMED_REQUEST;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(body);
		return -E_PAYLOAD_TOO_LARGE;
	}
	if (cl >= 0 && len < (size_t)cl) {
		free(body);
		return -E_MALFORMED_REQUEST;
	}
	body[len] = '\0';
	r->body = body;
	r->body_len = len;
	return 0;
}

int req_parse_json(struct req *r)
{
	if (!r->body)
		return -E_MALFORMED_REQUEST;
	return json_parse_object(r->body, r->body_len, r->cfg->json_max_depth, &r->json);
}

int req_path_id(struct req *r, size_t idx, const char *name, struct field_errors *fe, int64_t *out)
{
	const char *s = idx < r->nparams ? r->params[idx] : NULL;
	const char *p = s;
	char *end;
	long long v;

	if (!s || !*s)
		goto bad;
	if (*p == '-' || *p == '+')
		p++;
	if (!*p)
		goto bad;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end)
		goto bad;
	if (v <= 0)
		return 1;
	*out = v;
	return 0;
bad:
	field_errors_add(fe, E_INVALID_PARAMETER_TYPE, name, s ? s : "",
	                 "잘못된 파라미터 타입입니다.");
	return -E_INVALID_PARAMETER_TYPE;
}

static int parse_int64(const char *s, int64_t *out)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '-' || *p == '+')
		p++;
	if (!*p)
		return -1;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end)
		return -1;
	*out = v;
	return 0;
}

int req_query_int64(struct req *r, const char *name, bool required, struct field_errors *fe,
                    int64_t *out)
{
	const char *v = req_query(r, name);
	int64_t x;

	if (!v || !*v) {
		if (!required)
			return JSON_ABSENT;
		field_errors_add(fe, E_VALIDATION_FAILED, name, "", "필수 값입니다");
		return -E_VALIDATION_FAILED;
	}
	if (parse_int64(v, &x)) {
		field_errors_add(fe, E_INVALID_PARAMETER_TYPE, name, v,
		                 "잘못된 파라미터 타입입니다.");
		return -E_INVALID_PARAMETER_TYPE;
	}
	*out = x;
	return JSON_PRESENT;
}

int req_query_int(struct req *r, const char *name, bool required, struct field_errors *fe,
                  int32_t *out)
{
	int64_t x = 0;
	int rc = req_query_int64(r, name, required, fe, &x);

	if (rc != JSON_PRESENT)
		return rc;
	if (x < INT32_MIN || x > INT32_MAX) {
		field_errors_add(fe, E_INVALID_PARAMETER_TYPE, name, req_query(r, name),
		                 "잘못된 파라미터 타입입니다.");
		return -E_INVALID_PARAMETER_TYPE;
	}
	*out = (int32_t)x;
	return JSON_PRESENT;
}

int http_add_header(struct req *r, const char *name, const char *value)
{
	char *v;
	if (r->nextra >= REQ_MAX_EXTRA_HEADERS)
		return -E_TOO_LONG;
	v = strdup(value);
	if (!v)
		return -E_NOMEM;
	r->extra_name[r->nextra] = name;
	r->extra_value[r->nextra] = v;
	r->nextra++;
	return 0;
}

static void add_cors(struct req *r)
{
	const char *origin = req_header(r, "Origin");

	if (!config_cors_allowed(r->cfg, origin))
		return;
	mg_response_header_add(r->conn, "Access-Control-Allow-Origin", origin, -1);
	mg_response_header_add(r->conn, "Vary", "Origin", -1);
	mg_response_header_add(r->conn, "Access-Control-Allow-Credentials", "true", -1);
	mg_response_header_add(r->conn, "Access-Control-Expose-Headers", CORS_EXPOSE, -1);
	if (!strcmp(r->method, "OPTIONS")) {
		mg_response_header_add(r->conn, "Access-Control-Allow-Methods",
		                       "GET, POST, PATCH, DELETE, OPTIONS", -1);
		mg_response_header_add(r->conn, "Access-Control-Allow-Headers",
		                       "Authorization, Refresh, Content-Type, Idempotency-Key, "
		                       "X-Request-ID",
		                       -1);
		mg_response_header_add(r->conn, "Access-Control-Max-Age", "600", -1);
	}
}

int http_send_raw(struct req *r, int status, const char *content_type, const void *body, size_t len)
{
	char clen[32];

	if (r->status)
		return 0;
	r->status = status;
	mg_response_header_start(r->conn, status);
	if (content_type)
		mg_response_header_add(r->conn, "Content-Type", content_type, -1);
	snprintf(clen, sizeof(clen), "%zu", body ? len : 0);
	if (status != 204 && status != 304)
		mg_response_header_add(r->conn, "Content-Length", clen, -1);
	mg_response_header_add(r->conn, "X-Request-ID", r->request_id, -1);
	mg_response_header_add(r->conn, "Cache-Control", "no-store", -1);
	add_cors(r);
	for (size_t i = 0; i < r->nextra; i++)
		mg_response_header_add(r->conn, r->extra_name[i], r->extra_value[i], -1);
	mg_response_header_send(r->conn);
	if (body && len && strcmp(r->method, "HEAD") != 0)
		mg_write(r->conn, body, len);
	r->bytes_sent = len;
	return 0;
}

static int send_json(struct req *r, int status, cJSON *root)
{
	struct buf b = BUF_INIT(0);
	int rc;

	if (!root)
		return http_send_raw(r, 500, "application/json; charset=utf-8",
		                     "{\"status\":500,\"code\":\"INTERNAL_ERROR\"}", 38);
	rc = json_print_to(root, &b);
	cJSON_Delete(root);
	if (rc) {
		buf_release(&b);
		return rc;
	}
	rc = http_send_raw(r, status, "application/json; charset=utf-8", b.data, b.len);
	buf_release(&b);
	return rc;
}

static int add_now(cJSON *root, const char *key)
{
	return json_add_ts(root, key, (int64_t)clock_now());
}

int http_send_data(struct req *r, int status, cJSON *data)
{
	cJSON *root = cJSON_CreateObject();

	if (!root) {
		cJSON_Delete(data);
		return -E_NOMEM;
	}
	cJSON_AddItemToObject(root, "data", data ? data : cJSON_CreateNull());
	add_now(root, "createTime");
	return send_json(r, status, root);
}

int http_send_page(struct req *r, cJSON *items, int64_t page, int64_t size, int64_t total)
{
	cJSON *root = cJSON_CreateObject(), *info;

	if (!root) {
		cJSON_Delete(items);
		return -E_NOMEM;
	}
	add_now(root, "time");
	cJSON_AddItemToObject(root, "data", items ? items : cJSON_CreateArray());
	info = cJSON_AddObjectToObject(root, "pageInfo");
	json_add_int(info, "page", page);
	json_add_int(info, "size", size);
	json_add_int(info, "totalElements", total);
	json_add_int(info, "totalPages", size > 0 ? (total + size - 1) / size : 0);
	return send_json(r, 200, root);
}

int http_send_error(struct req *r, int rc, const struct field_errors *fe)
{
	cJSON *root = cJSON_CreateObject();
	int status = err_http_status(rc);
	const char *code = err_code(rc);

	r->error_rc = rc;
	if (!root)
		return -E_NOMEM;
	if (status == 401) {
		const char *authz = req_header(r, "Authorization");
		int presented = (authz && *authz) || (r->route && req_header(r, "Refresh"));
		if (rc == -E_UNAUTHORIZED || rc == E_UNAUTHORIZED)
			presented = 0;
		http_add_header(r, "WWW-Authenticate",
		                presented ? "Bearer error=\"invalid_token\"" : "Bearer");
	}
	json_add_int(root, "status", status);
	cJSON_AddStringToObject(root, "code", code);
	cJSON_AddStringToObject(root, "message", err_message(rc));
	if (!strcmp(code, "VALIDATION_FAILED") || !strcmp(code, "INVALID_PARAMETER_TYPE")) {
		cJSON *arr = cJSON_AddArrayToObject(root, "customFieldErrors");
		for (size_t i = 0; fe && i < fe->n; i++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "field", fe->items[i].field);
			cJSON_AddStringToObject(e, "rejectedValue", fe->items[i].rejected);
			cJSON_AddStringToObject(e, "reason", fe->items[i].reason);
			cJSON_AddItemToArray(arr, e);
		}
	}
	return send_json(r, status, root);
}

int http_send_field_errors(struct req *r, const struct field_errors *fe)
{
	return http_send_error(r, -field_errors_code(fe), fe);
}

int http_send_empty(struct req *r, int status)
{
	return http_send_raw(r, status, NULL, NULL, 0);
}
