/* assert: the harness's assertions on responses and JSON, see it.h. */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

/* API.md §11, verbatim. */
static const struct {
	const char *code;
	int status;
	const char *message;
} errors[] = {
	{"VALIDATION_FAILED", 400, "입력값이 올바르지 않습니다."},
	{"INVALID_PARAMETER_TYPE", 400, "잘못된 파라미터 타입입니다."},
	{"MALFORMED_REQUEST", 400, "요청 본문을 읽을 수 없습니다."},
	{"OAUTH_STATE_INVALID", 400, "유효하지 않은 로그인 요청입니다."},
	{"UNAUTHORIZED", 401, "인증이 필요합니다."},
	{"INVALID_TOKEN", 401, "유효하지 않은 토큰입니다."},
	{"EXPIRED_TOKEN", 401, "만료된 토큰입니다."},
	{"ALREADY_LOGOUT", 401, "로그아웃 됐습니다."},
	{"REFRESH_TOKEN_REUSED", 401, "이미 사용된 리프레시 토큰입니다. 다시 로그인해 주세요."},
	{"BAD_CREDENTIALS", 401, "자격 증명에 실패하였습니다."},
	{"USER_WITHDRAWN", 401, "탈퇴한 회원입니다."},
	{"INVALID_OAUTH_TOKEN", 401, "유효하지 않거나 만료된 인증 정보입니다."},
	{"ACCESS_DENIED_USER", 403, "권한이 없는 유저입니다."},
	{"REVIEW_NOT_ALLOWED", 403, "구매한 상품만 리뷰할 수 있습니다."},
	{"NOT_FOUND", 404, "요청한 경로를 찾을 수 없습니다."},
	{"USER_NOT_FOUND", 404, "회원 정보를 찾을 수 없습니다."},
	{"ITEM_NOT_FOUND", 404, "존재하지 않는 아이템입니다."},
	{"CART_NOT_FOUND", 404, "존재하지 않는 카트입니다."},
	{"CART_ITEM_NOT_FOUND", 404, "존재하지 않는 항목입니다."},
	{"ORDER_NOT_FOUND", 404, "존재하지 않는 주문입니다."},
	{"NOT_ORDERED_ITEM", 404, "주문되지 않은 아이템입니다."},
	{"PAYMENT_NOT_FOUND", 404, "결제 정보를 찾을 수 없습니다."},
	{"SUBSCRIPTION_NOT_FOUND", 404, "존재하지 않는 구독입니다."},
	{"REVIEW_NOT_FOUND", 404, "존재하지 않는 리뷰입니다."},
	{"METHOD_NOT_ALLOWED", 405, "허용되지 않은 메서드입니다."},
	{"EXIST_EMAIL", 409, "이미 가입한 e-mail입니다."},
	{"EXIST_DISPLAY_NAME", 409, "이미 존재하는 닉네임입니다."},
	{"EXIST_PHONE_NUMBER", 409, "이미 존재하는 연락처입니다."},
	{"OAUTH_EMAIL_EXISTS", 409, "이미 가입된 이메일입니다."},
	{"CART_ITEM_EXISTS", 409, "이미 존재하는 장바구니입니다."},
	{"ORDER_NOT_PAYABLE", 409, "결제할 수 없는 주문 상태입니다."},
	{"ORDER_NOT_REFUNDABLE", 409, "환불할 수 없는 주문 상태입니다."},
	{"REFUND_AMOUNT_EXCEEDED", 409, "환불 가능 금액을 초과했습니다."},
	{"SUBSCRIPTION_STATE_CONFLICT", 409, "현재 구독 상태에서는 처리할 수 없는 요청입니다."},
	{"DUPLICATED_REVIEW", 409, "이미 작성한 리뷰가 있습니다."},
	{"IDEMPOTENCY_KEY_CONFLICT", 409,
     "같은 Idempotency-Key로 다른 요청이 처리 중이거나 처리되었습니다."},
	{"PAYLOAD_TOO_LARGE", 413, "요청 본문이 너무 큽니다."},
	{"UNSUPPORTED_MEDIA_TYPE", 415, "지원하지 않는 미디어 타입입니다."},
	{"TOO_MANY_LOGIN_ATTEMPTS", 429,
     "로그인 시도 횟수를 초과했습니다. 잠시 후 다시 시도해 주세요."},
	{"INTERNAL_ERROR", 500, "알 수 없는 오류가 발생했습니다."},
	{"PAYMENT_GATEWAY_ERROR", 502, "카카오페이 결제 처리 중 오류가 발생했습니다."},
	{"REFUND_FAILED", 502, "카카오페이 취소 중 오류가 발생했습니다."},
	{"SUBSCRIPTION_PAYMENT_FAILED", 502, "결제에 실패했습니다."},
	{"OAUTH_PROVIDER_ERROR", 502, "소셜 로그인 처리 중 오류가 발생했습니다."},
	{"SERVICE_UNAVAILABLE", 503, "일시적으로 서비스를 이용할 수 없습니다."},
	{"PAYMENT_GATEWAY_TIMEOUT", 504, "결제 대행사의 응답 시간이 초과되었습니다."},
};

const char *it_error_message(const char *code)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (strcmp(errors[i].code, code) == 0)
			return errors[i].message;
	return NULL;
}

static int error_status(const char *code)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (strcmp(errors[i].code, code) == 0)
			return errors[i].status;
	return 0;
}

void it_fail_at(struct it_loc at, const struct it_resp *r, const char *fmt, ...)
{
	char msg[3072], resp[2048] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r) {
		const char *rid = it_resp_header(r, "X-Request-ID");
		snprintf(resp, sizeof(resp), " [response: %ld%s%s, body %.1500s%s]", r->status,
			 rid ? ", X-Request-ID " : "", rid ? rid : "", r->body ? r->body : "(none)",
			 r->body_len > 1500 ? "..." : "");
	}
	_ck_assert_failed(at.file, at.line, "it", "%s%s", msg, resp);
}

void it_assert_status_at(struct it_loc at, const struct it_resp *r, long status)
{
	it_check_at(at, r, r->status == status, "expected status %ld, got %ld%s%s", status,
		    r->status, r->status ? "" : ": ", r->status ? "" : r->error);
}

static bool json_content_type(const struct it_resp *r)
{
	const char *ct = it_resp_header(r, "Content-Type");
	return ct && strcasecmp(ct, "application/json; charset=utf-8") == 0;
}

static bool is_field_code(const char *code)
{
	return strcmp(code, "VALIDATION_FAILED") == 0 ||
	       strcmp(code, "INVALID_PARAMETER_TYPE") == 0;
}

void it_assert_error_at(struct it_loc at, const struct it_resp *r, long status, const char *code)
{
	const cJSON *j = r->json, *v, *fe;
	const char *msg = it_error_message(code);
	const char *ct = it_resp_header(r, "Content-Type");
	int n = 0;

	it_check_at(at, NULL, msg != NULL, "test bug: %s is not an API.md §11 code", code);
	it_check_at(at, NULL, error_status(code) == status,
		    "test bug: %s is HTTP %d in API.md §11, not %ld", code, error_status(code),
		    status);
	it_check_at(at, r, r->status == status, "expected %ld %s, got status %ld%s%s", status, code,
		    r->status, r->status ? "" : ": ", r->status ? "" : r->error);
	it_check_at(at, r, cJSON_IsObject(j),
		    "expected the error body of §1.5 (%s), body is not a JSON object", code);
	v = cJSON_GetObjectItemCaseSensitive(j, "code");
	it_check_at(at, r, cJSON_IsString(v) && strcmp(v->valuestring, code) == 0,
		    "expected code %s, got %s", code,
		    cJSON_IsString(v) ? v->valuestring : "(none)");
	it_check_at(at, r, json_content_type(r),
		    "error Content-Type must be application/json; charset=utf-8, got %s",
		    ct ? ct : "(none)");
	v = cJSON_GetObjectItemCaseSensitive(j, "status");
	it_check_at(at, r, cJSON_IsNumber(v) && v->valuedouble == (double)status,
		    "\"status\" must repeat %ld", status);
	v = cJSON_GetObjectItemCaseSensitive(j, "message");
	it_check_at(at, r, cJSON_IsString(v) && strcmp(v->valuestring, msg) == 0,
		    "\"message\" must be \"%s\" (API.md §11)", msg);
	fe = cJSON_GetObjectItemCaseSensitive(j, "customFieldErrors");
	if (is_field_code(code)) {
		it_assert_keys_at(at, j, "status", "code", "message", "customFieldErrors", NULL);
		it_check_at(at, r, cJSON_IsArray(fe) && cJSON_GetArraySize(fe) > 0,
			    "%s needs a non-empty customFieldErrors array", code);
		cJSON_ArrayForEach(v, fe)
		{
			const cJSON *rv = cJSON_GetObjectItemCaseSensitive(v, "rejectedValue");
			it_check_at(at, r, cJSON_IsObject(v),
				    "customFieldErrors[%d] is not an object", n);
			it_assert_keys_at(at, v, "field", "rejectedValue", "reason", NULL);
			it_check_at(at, r,
				    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "field")),
				    "customFieldErrors[%d].field is not a string", n);
			it_check_at(at, r, cJSON_IsString(rv),
				    "customFieldErrors[%d].rejectedValue is not a string", n);
			it_check_at(at, r,
				    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "reason")),
				    "customFieldErrors[%d].reason is not a string", n);
			n++;
		}
	} else {
		it_assert_keys_at(at, j, "status", "code", "message", NULL);
	}
	if (status == 401) {
		const char *w = it_resp_header(r, "WWW-Authenticate");
		it_check_at(at, r,
			    w && strncmp(w, "Bearer", 6) == 0 && (w[6] == '\0' || w[6] == ' '),
			    "401 needs WWW-Authenticate: Bearer (§1.5), got %s", w ? w : "(none)");
	}
	if (status == 405)
		it_check_at(at, r, it_resp_header(r, "Allow") != NULL, "405 needs an Allow header");
	if (status == 429) {
		const char *ra = it_resp_header(r, "Retry-After");
		char *end = NULL;
		long secs = ra ? strtol(ra, &end, 10) : -1;
		it_check_at(at, r, ra && *ra && end && *end == '\0' && secs >= 1,
			    "429 needs Retry-After: <seconds >= 1>, got %s", ra ? ra : "(none)");
	}
}

static const cJSON *field_error(struct it_loc at, const struct it_resp *r, int index)
{
	const cJSON *fe = cJSON_GetObjectItemCaseSensitive(r->json, "customFieldErrors");
	it_check_at(at, r, cJSON_IsArray(fe), "no customFieldErrors array");
	it_check_at(at, r, index < cJSON_GetArraySize(fe), "no customFieldErrors[%d] (%d errors)",
		    index, cJSON_GetArraySize(fe));
	return cJSON_GetArrayItem(fe, index);
}

void it_assert_field_error_at(struct it_loc at, const struct it_resp *r, int index,
			      const char *field, const char *rejected, const char *reason)
{
	const cJSON *e = field_error(at, r, index);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "field");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(e, "rejectedValue");
	const cJSON *why = cJSON_GetObjectItemCaseSensitive(e, "reason");

	it_check_at(at, r, cJSON_IsString(f) && strcmp(f->valuestring, field) == 0,
		    "customFieldErrors[%d].field: expected \"%s\"", index, field);
	if (rejected)
		it_check_at(at, r, cJSON_IsString(rv) && strcmp(rv->valuestring, rejected) == 0,
			    "customFieldErrors[%d].rejectedValue: expected \"%s\"", index,
			    rejected);
	it_check_at(at, r, cJSON_IsString(why) && strcmp(why->valuestring, reason) == 0,
		    "customFieldErrors[%d].reason: expected \"%s\"", index, reason);
}

void it_assert_field_count_at(struct it_loc at, const struct it_resp *r, int n)
{
	const cJSON *fe = cJSON_GetObjectItemCaseSensitive(r->json, "customFieldErrors");
	it_check_at(at, r, cJSON_IsArray(fe) && cJSON_GetArraySize(fe) == n,
		    "expected %d field error(s), got %d", n,
		    cJSON_IsArray(fe) ? cJSON_GetArraySize(fe) : -1);
}

static bool match(const char *re, const char *s)
{
	regex_t rx;
	bool ok;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

#define TS_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\+09:00$"

void it_assert_ts_at(struct it_loc at, const char *what, const cJSON *v)
{
	it_check_at(at, NULL, cJSON_IsString(v) && match(TS_RE, v->valuestring),
		    "%s must be a timestamp like 2026-01-05T13:45:10+09:00, got %s", what,
		    cJSON_IsString(v) ? v->valuestring : "(not a string)");
}

/* Seconds between a +09:00 timestamp and now. */
static long ts_skew(const char *s)
{
	struct tm tm = {0};
	time_t t;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return 1L << 30;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm) - 9 * 3600;
	return labs((long)(t - time(NULL)));
}

void it_assert_ts_recent_at(struct it_loc at, const char *what, const cJSON *v, long slack_s)
{
	it_assert_ts_at(at, what, v);
	it_check_at(at, NULL, ts_skew(v->valuestring) <= slack_s,
		    "%s %s is more than %ld s away from the current Asia/Seoul time", what,
		    v->valuestring, slack_s);
}

cJSON *it_assert_wrapper_at(struct it_loc at, const struct it_resp *r)
{
	const char *ct = it_resp_header(r, "Content-Type");
	cJSON *ctime;

	it_check_at(at, r, cJSON_IsObject(r->json), "body is not a JSON object");
	it_check_at(at, r, json_content_type(r),
		    "Content-Type must be application/json; charset=utf-8, got %s",
		    ct ? ct : "(none)");
	it_assert_keys_at(at, r->json, "data", "createTime", NULL);
	ctime = cJSON_GetObjectItemCaseSensitive(r->json, "createTime");
	it_assert_ts_at(at, "createTime", ctime);
	it_check_at(at, r, ts_skew(ctime->valuestring) <= 300,
		    "createTime %s is not the current Asia/Seoul time", ctime->valuestring);
	return cJSON_GetObjectItemCaseSensitive(r->json, "data");
}

void it_assert_keys_at(struct it_loc at, const cJSON *obj, ...)
{
	const char *want[64];
	size_t nwant = 0;
	const cJSON *c;
	char *text;
	va_list ap;

	it_check_at(at, NULL, cJSON_IsObject(obj), "expected a JSON object");
	va_start(ap, obj);
	for (const char *k; (k = va_arg(ap, const char *)) && nwant < 64;)
		want[nwant++] = k;
	va_end(ap);
	cJSON_ArrayForEach(c, obj)
	{
		bool known = false;
		size_t seen = 0;
		const cJSON *d;
		for (size_t i = 0; i < nwant; i++)
			if (c->string && strcmp(c->string, want[i]) == 0)
				known = true;
		cJSON_ArrayForEach(d, obj)
		{
			if (d->string && c->string && strcmp(d->string, c->string) == 0)
				seen++;
		}
		if (!known || seen != 1) {
			text = cJSON_PrintUnformatted(obj);
			it_fail_at(at, NULL, "%s key \"%s\" in %.1500s",
				   known ? "duplicate" : "unexpected", c->string ? c->string : "?",
				   text ? text : "?");
		}
	}
	for (size_t i = 0; i < nwant; i++) {
		if (!cJSON_GetObjectItemCaseSensitive(obj, want[i])) {
			text = cJSON_PrintUnformatted(obj);
			it_fail_at(at, NULL, "missing key \"%s\" in %.1500s", want[i],
				   text ? text : "?");
		}
	}
}

int64_t it_json_int_at(struct it_loc at, const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d;

	it_check_at(at, NULL, cJSON_IsNumber(v), "\"%s\" is not a JSON number", key);
	d = v->valuedouble;
	it_check_at(at, NULL, d == (double)(int64_t)d, "\"%s\" is not an integer (%g)", key, d);
	return (int64_t)d;
}

const char *it_json_str_at(struct it_loc at, const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	it_check_at(at, NULL, cJSON_IsString(v), "\"%s\" is not a JSON string", key);
	return v->valuestring;
}

void it_assert_header_at(struct it_loc at, const struct it_resp *r, const char *name,
			 const char *value)
{
	const char *v = it_resp_header(r, name);
	it_check_at(at, r, v && strcmp(v, value) == 0, "header %s: expected \"%s\", got %s%s%s",
		    name, value, v ? "\"" : "", v ? v : "(none)", v ? "\"" : "");
}

void it_assert_no_header_at(struct it_loc at, const struct it_resp *r, const char *name)
{
	const char *v = it_resp_header(r, name);
	it_check_at(at, r, v == NULL, "header %s must be absent, got \"%s\"", name, v ? v : "");
}

void it_assert_www_auth_at(struct it_loc at, const struct it_resp *r, bool invalid_token)
{
	const char *w = it_resp_header(r, "WWW-Authenticate");
	bool has = w && strstr(w, "error=\"invalid_token\"") != NULL;

	it_check_at(at, r, w && strncmp(w, "Bearer", 6) == 0,
		    "WWW-Authenticate must be a Bearer challenge, got %s", w ? w : "(none)");
	it_check_at(at, r, has == invalid_token,
		    "WWW-Authenticate \"%s\" %s error=\"invalid_token\"", w,
		    invalid_token ? "lacks" : "must not carry");
}
