/*
 * http: the request context of pillivery-api and everything handlers use to read a request
 * and answer it in the contract's shapes (API.md §1): JSON wrappers, the error body, plain
 * ops bodies, CORS, the request id.
 *
 * A struct req lives on the civetweb worker's stack for one request; every allocation made
 * through it is released by req_release when the request ends (STYLE.md rule 10). Responses
 * are written once: the first http_send_* wins, and later calls are ignored.
 *
 * Not thread-safe: one request, one thread.
 */
#ifndef PV_API_HTTP_H
#define PV_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/json.h"

struct mg_connection;
struct mg_request_info;
struct worker;
struct route;
struct api_config;

#define REQ_MAX_PARAMS        4
#define REQ_MAX_QUERY         32
#define REQ_MAX_EXTRA_HEADERS 12

struct principal {
	bool present;
	int64_t uid;
	bool admin;
	char email[101];
	char jti[40];
	char fam[40];
	int64_t exp;
};

struct query_param {
	char *name;
	char *value;
};

struct req {
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	struct worker *w;
	const struct api_config *cfg;
	const struct route *route;
	const char *method;
	const char *path;
	char request_id[65];
	char client_ip[48];
	double started_ms; /* monotonic, ms with fraction */

	const char *params[REQ_MAX_PARAMS]; /* path parameters, in pattern order */
	size_t nparams;
	struct query_param query[REQ_MAX_QUERY];
	size_t nquery;

	char *body; /* NUL-terminated, owned */
	size_t body_len;
	cJSON *json; /* parsed body, owned */

	struct principal auth;

	const char *extra_name[REQ_MAX_EXTRA_HEADERS];
	char *extra_value[REQ_MAX_EXTRA_HEADERS];
	size_t nextra;

	int status; /* sent status, 0 until sent */
	size_t bytes_sent;
	int error_rc;       /* for the access log */
	char *scratch_path; /* copy of path params storage */
};

void req_init(struct req *r, struct mg_connection *conn, struct worker *w,
              const struct api_config *cfg);
void req_release(struct req *r);

/* Header lookup, case-insensitive; NULL when absent. */
const char *req_header(const struct req *r, const char *name);
/* First value of a query parameter (percent-decoded, '+' = space); NULL when absent. */
const char *req_query(const struct req *r, const char *name);

/*
 * Integer query parameter (first value). JSON_PRESENT with *out set; JSON_ABSENT when absent
 * (required: records VALIDATION_FAILED "필수 값입니다" and returns -E_VALIDATION_FAILED);
 * -E_INVALID_PARAMETER_TYPE (recorded) when not a decimal integer in range (int64, or int32
 * for req_query_int). An empty value counts as absent.
 */
int req_query_int64(struct req *r, const char *name, bool required, struct field_errors *fe,
                    int64_t *out);
int req_query_int(struct req *r, const char *name, bool required, struct field_errors *fe,
                  int32_t *out);

/* Reads the body under the configured cap: 0, -E_PAYLOAD_TOO_LARGE or -E_MALFORMED_REQUEST. */
int req_read_body(struct req *r);
/* Parses the body as a JSON object into r->json: 0 or -E_MALFORMED_REQUEST. */
int req_parse_json(struct req *r);

/*
 * Path parameter idx as an id (API.md §0): 0 with *out > 0; 1 when it is a well-formed
 * integer <= 0 (matches nothing: the caller answers its 404); -E_INVALID_PARAMETER_TYPE
 * after recording the field error when it is not a decimal integer.
 */
int req_path_id(struct req *r, size_t idx, const char *name, struct field_errors *fe, int64_t *out);

/* Adds a response header for the coming response (value copied). */
int http_add_header(struct req *r, const char *name, const char *value);

/* {"data": data, "createTime": now}; takes ownership of data (NULL → null). */
int http_send_data(struct req *r, int status, cJSON *data);
/* {"time": now, "data": [...], "pageInfo": {...}}; takes ownership of items. */
int http_send_page(struct req *r, cJSON *items, int64_t page, int64_t size, int64_t total);
/* The error body of §1.5 for rc (-E_x); fe may be NULL. */
int http_send_error(struct req *r, int rc, const struct field_errors *fe);
int http_send_field_errors(struct req *r, const struct field_errors *fe);
int http_send_empty(struct req *r, int status); /* 204 and friends */
int http_send_raw(struct req *r, int status, const char *content_type, const void *body,
                  size_t len);

#endif
