/* kakaopay: the Kakao Pay client over libcurl (KAKAOPAY.md §1). */
#include "external/kakaopay.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/json.h"
#include "common/banned.h"

#define ID_MAXCHARS 64 /* cid, tid, sid, pg_token: 20 (or 24) chars in practice */

/* ---- configuration shared by both drivers --------------------------------------------- */

struct kp_base {
	char *cid_secret;
	char *urls[PAY_OP__COUNT];
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_response;
	long max_connects;
	struct curl_slist *headers; /* holds the key: never exposed */
};

static int has_ctl(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	}
	return 0;
}

static int host_is_loopback(const char *h)
{
	struct in_addr a;

	if (inet_pton(AF_INET, h, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return strcmp(h, "localhost") == 0 || strcmp(h, "[::1]") == 0 || strcmp(h, "::1") == 0;
}

int kakaopay_config_check(const struct kakaopay_config *cfg)
{
	const char *base;
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL;
	int rc = -E_CONFIG;

	if (cfg == NULL || cfg->secret_key == NULL || cfg->secret_key[0] == '\0' ||
	    has_ctl(cfg->secret_key) || strchr(cfg->secret_key, ' ') != NULL)
		return -E_CONFIG;
	if (cfg->cid_secret != NULL && has_ctl(cfg->cid_secret))
		return -E_CONFIG;
	if (cfg->connect_timeout_ms < 0 || cfg->timeout_ms < 0 || cfg->max_connects < 0)
		return -E_CONFIG;
	base =
	    cfg->base_url != NULL && cfg->base_url[0] ? cfg->base_url : KAKAOPAY_DEFAULT_BASE_URL;
	if (has_ctl(base) || strlen(base) > 512)
		return -E_CONFIG;
	u = curl_url();
	if (u == NULL)
		return -E_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (strcmp(scheme, "https") == 0 || (strcmp(scheme, "http") == 0 && host_is_loopback(host)))
		rc = 0;
out:
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static void base_release(struct kp_base *b)
{
	for (int i = 0; i < PAY_OP__COUNT; i++) {
		free(b->urls[i]);
		b->urls[i] = NULL;
	}
	free(b->cid_secret);
	b->cid_secret = NULL;
	curl_slist_free_all(b->headers);
	b->headers = NULL;
}

static int slist_add(struct curl_slist **l, const char *s)
{
	struct curl_slist *n = curl_slist_append(*l, s);

	if (n == NULL)
		return -E_NOMEM;
	*l = n;
	return 0;
}

static int base_init(struct kp_base *b, const struct kakaopay_config *cfg)
{
	struct buf auth = BUF_INIT(0);
	const char *base;
	size_t blen;
	int rc;

	memset(b, 0, sizeof(*b));
	rc = kakaopay_config_check(cfg);
	if (rc)
		return rc;
	base =
	    cfg->base_url != NULL && cfg->base_url[0] ? cfg->base_url : KAKAOPAY_DEFAULT_BASE_URL;
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	for (int i = 0; i < PAY_OP__COUNT; i++) {
		struct buf u = BUF_INIT(0);

		rc = buf_append(&u, base, blen);
		if (rc == 0)
			rc = buf_puts(&u, pay_op_path((enum pay_op)i));
		if (rc == 0)
			rc = buf_detach(&u, &b->urls[i], NULL);
		buf_release(&u);
		if (rc)
			goto out;
	}
	if (cfg->cid_secret != NULL && cfg->cid_secret[0] != '\0') {
		b->cid_secret = strdup(cfg->cid_secret);
		if (b->cid_secret == NULL) {
			rc = -E_NOMEM;
			goto out;
		}
	}
	b->connect_timeout_ms =
	    cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : KAKAOPAY_CONNECT_TIMEOUT_MS;
	b->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : KAKAOPAY_TIMEOUT_MS;
	b->max_response = cfg->max_response > 0 ? cfg->max_response : KAKAOPAY_MAX_RESPONSE;
	b->max_connects = cfg->max_connects > 0 ? cfg->max_connects : KAKAOPAY_MAX_CONNECTS;
	rc = buf_printf(&auth, "Authorization: SECRET_KEY %s", cfg->secret_key);
	if (rc == 0)
		rc = slist_add(&b->headers, auth.data);
	if (rc == 0)
		rc = slist_add(&b->headers, "Content-Type: application/json");
	if (rc == 0)
		rc = slist_add(&b->headers, "Accept: application/json");
	if (rc == 0)
		rc = slist_add(&b->headers, "Expect:");
out:
	if (auth.data != NULL)
		memset(auth.data, 0, auth.len);
	buf_release(&auth);
	if (rc)
		base_release(b);
	return rc;
}

/* ---- request bodies ------------------------------------------------------------------ */

static int why_set(char *why, size_t whylen, const char *what, const char *field)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s: %s", field, what);
	return -E_VALIDATION_FAILED;
}

/* Adds key=v when v is set; rejects a missing required value or one over maxchars. */
static int add_str(cJSON *o, const char *key, const char *v, size_t maxchars, bool required,
                   char *why, size_t whylen)
{
	if (v == NULL || v[0] == '\0') {
		if (required)
			return why_set(why, whylen, "required", key);
		return 0;
	}
	if (json_utf8_len(v) > maxchars)
		return why_set(why, whylen, "too long", key);
	if (cJSON_AddStringToObject(o, key, v) == NULL)
		return -E_NOMEM;
	return 0;
}

/* item_name, cut to 100 characters at a UTF-8 boundary. */
static int add_item_name(cJSON *o, const char *v, char *why, size_t whylen)
{
	char cut[PAY_TEXT_MAX];
	size_t i = 0, chars = 0, n = 0;

	if (v == NULL || v[0] == '\0')
		return why_set(why, whylen, "required", "item_name");
	while (v[i] != '\0') {
		size_t j = i + 1;

		while (((unsigned char)v[j] & 0xC0) == 0x80)
			j++;
		if (chars == 100 || j >= sizeof(cut))
			break;
		chars++;
		n = i = j;
	}
	memcpy(cut, v, n);
	cut[n] = '\0';
	if (cJSON_AddStringToObject(o, "item_name", cut) == NULL)
		return -E_NOMEM;
	return 0;
}

static int add_num(cJSON *o, const char *key, int64_t v)
{
	return json_add_int(o, key, v);
}

static int build_ready_like(cJSON *o, enum pay_op op, const struct pay_request *r, char *why,
                            size_t wl)
{
	int rc;

	if ((rc = add_str(o, "cid", r->cid, ID_MAXCHARS, true, why, wl)) ||
	    (op == PAY_OP_SUBSCRIPTION &&
	     (rc = add_str(o, "sid", r->sid, ID_MAXCHARS, true, why, wl))) ||
	    (rc = add_str(o, "partner_order_id", r->partner_order_id, 100, true, why, wl)) ||
	    (rc = add_str(o, "partner_user_id", r->partner_user_id, 100, true, why, wl)) ||
	    (rc = add_item_name(o, r->item_name, why, wl)) ||
	    (rc = add_str(o, "item_code", r->item_code, 100, false, why, wl)))
		return rc;
	if (r->quantity < 1)
		return why_set(why, wl, "must be at least 1", "quantity");
	if (r->total_amount < 1)
		return why_set(why, wl, "must be at least 1", "total_amount");
	if (r->tax_free_amount < 0 || r->tax_free_amount > r->total_amount)
		return why_set(why, wl, "out of range", "tax_free_amount");
	if ((rc = add_num(o, "quantity", r->quantity)) ||
	    (rc = add_num(o, "total_amount", r->total_amount)) ||
	    (rc = add_num(o, "tax_free_amount", r->tax_free_amount)))
		return rc;
	if (op == PAY_OP_READY) {
		if ((rc = add_str(o, "approval_url", r->approval_url, 255, true, why, wl)) ||
		    (rc = add_str(o, "cancel_url", r->cancel_url, 255, true, why, wl)) ||
		    (rc = add_str(o, "fail_url", r->fail_url, 255, true, why, wl)))
			return rc;
	} else {
		if ((rc = add_str(o, "payload", r->payload, 200, false, why, wl)))
			return rc;
	}
	return 0;
}

static int build_fields(cJSON *o, enum pay_op op, const struct pay_request *r, char *why, size_t wl)
{
	int rc;

	switch (op) {
	case PAY_OP_READY:
	case PAY_OP_SUBSCRIPTION:
		return build_ready_like(o, op, r, why, wl);
	case PAY_OP_APPROVE:
		if ((rc = add_str(o, "cid", r->cid, ID_MAXCHARS, true, why, wl)) ||
		    (rc = add_str(o, "tid", r->tid, ID_MAXCHARS, true, why, wl)) ||
		    (rc =
		         add_str(o, "partner_order_id", r->partner_order_id, 100, true, why, wl)) ||
		    (rc = add_str(o, "partner_user_id", r->partner_user_id, 100, true, why, wl)) ||
		    (rc = add_str(o, "pg_token", r->pg_token, ID_MAXCHARS, true, why, wl)))
			return rc;
		if (r->total_amount < 1)
			return why_set(why, wl, "must be at least 1", "total_amount");
		if ((rc = add_num(o, "total_amount", r->total_amount)) ||
		    (rc = add_str(o, "payload", r->payload, 200, false, why, wl)))
			return rc;
		return 0;
	case PAY_OP_INACTIVE:
	case PAY_OP_STATUS:
		if ((rc = add_str(o, "cid", r->cid, ID_MAXCHARS, true, why, wl)) ||
		    (rc = add_str(o, "sid", r->sid, ID_MAXCHARS, true, why, wl)))
			return rc;
		return 0;
	case PAY_OP_ORDER:
		if ((rc = add_str(o, "cid", r->cid, ID_MAXCHARS, true, why, wl)) ||
		    (rc = add_str(o, "tid", r->tid, ID_MAXCHARS, true, why, wl)))
			return rc;
		return 0;
	case PAY_OP_CANCEL:
		if ((rc = add_str(o, "cid", r->cid, ID_MAXCHARS, true, why, wl)) ||
		    (rc = add_str(o, "tid", r->tid, ID_MAXCHARS, true, why, wl)))
			return rc;
		if (r->cancel_amount < 1)
			return why_set(why, wl, "must be at least 1", "cancel_amount");
		if (r->cancel_tax_free_amount < 0 || r->cancel_tax_free_amount > r->cancel_amount)
			return why_set(why, wl, "out of range", "cancel_tax_free_amount");
		if (r->cancel_available_amount < r->cancel_amount)
			return why_set(why, wl, "below cancel_amount", "cancel_available_amount");
		if ((rc = add_num(o, "cancel_amount", r->cancel_amount)) ||
		    (rc = add_num(o, "cancel_tax_free_amount", r->cancel_tax_free_amount)) ||
		    (rc = add_num(o, "cancel_available_amount", r->cancel_available_amount)) ||
		    (rc = add_str(o, "payload", r->payload, 200, false, why, wl)))
			return rc;
		return 0;
	default:
		return why_set(why, wl, "unknown", "operation");
	}
}

int kakaopay_build_body(enum pay_op op, const struct pay_request *req, const char *cid_secret,
                        char **out, char *why, size_t whylen)
{
	cJSON *o = NULL;
	char *s = NULL;
	int rc;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (req == NULL || out == NULL)
		return -E_CONFIG;
	o = cJSON_CreateObject();
	if (o == NULL)
		return -E_NOMEM;
	rc = build_fields(o, op, req, why, whylen);
	if (rc)
		goto out;
	if (cid_secret != NULL && cid_secret[0] != '\0' &&
	    cJSON_AddStringToObject(o, "cid_secret", cid_secret) == NULL) {
		rc = -E_NOMEM;
		goto out;
	}
	s = cJSON_PrintUnformatted(o);
	if (s == NULL) {
		rc = -E_NOMEM;
		goto out;
	}
	*out = s;
out:
	cJSON_Delete(o);
	return rc;
}

/* ---- response parsing --------------------------------------------------------------- */

/* Copies at most dstlen-1 bytes, cut at a UTF-8 boundary. */
static void copy_cut(char *dst, size_t dstlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= dstlen) {
		n = dstlen - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* A string field: absent or null → "" (0); a string that fits → copied (0); a string too long
 * → cut when cut is set, else -1; any other type → -1. */
static int get_str(const cJSON *o, const char *key, char *dst, size_t dstlen, bool cut)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	dst[0] = '\0';
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return -1;
	if (strlen(v->valuestring) >= dstlen && !cut)
		return -1;
	copy_cut(dst, dstlen, v->valuestring);
	return 0;
}

/* An integer: a JSON number without fraction, or a string of digits (optional '-').
 * 1 when present, 0 when absent or null, -1 when malformed. */
static int int_of(const cJSON *v, int64_t *out)
{
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d != d || d > 9007199254740991.0 || d < -9007199254740991.0 ||
		    d != (double)(int64_t)d)
			return -1;
		*out = (int64_t)d;
		return 1;
	}
	if (cJSON_IsString(v) && v->valuestring != NULL) {
		const char *s = v->valuestring;
		char *end = NULL;
		long long x;

		if (s[0] == '\0' || (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
			return -1;
		errno = 0;
		x = strtoll(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0')
			return -1;
		*out = x;
		return 1;
	}
	return -1;
}

static int get_i64(const cJSON *o, const char *key, int64_t *out)
{
	return int_of(cJSON_GetObjectItemCaseSensitive(o, key), out);
}

int kakaopay_parse_time(const char *s, int64_t *out)
{
	int v[6], i, p = 0;
	static const int widths[6] = {4, 2, 2, 2, 2, 2};
	static const char seps[6] = {'-', '-', 'T', ':', ':', '\0'};

	if (s == NULL)
		return -E_VALIDATION_FAILED;
	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (int k = 0; k < widths[i]; k++, p++) {
			if (s[p] < '0' || s[p] > '9')
				return -E_VALIDATION_FAILED;
			v[i] = v[i] * 10 + (s[p] - '0');
		}
		if (s[p] != seps[i])
			return -E_VALIDATION_FAILED;
		if (seps[i] != '\0')
			p++;
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59)
		return -E_VALIDATION_FAILED;
	{
		int32_t day = clock_days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]);
		int y;
		unsigned m, d;

		clock_civil_from_days(day, &y, &m, &d); /* rejects 2026-02-30 */
		if (y != v[0] || (int)m != v[1] || (int)d != v[2])
			return -E_VALIDATION_FAILED;
		*out = (int64_t)day * 86400 + v[3] * 3600 + v[4] * 60 + v[5] - 9 * 3600;
	}
	return 0;
}

/* A time field: absent or null → -1 (0); well formed → Unix seconds (0); else -1. */
static int get_time(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = -1;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return -1;
	return kakaopay_parse_time(v->valuestring, out) == 0 ? 0 : -1;
}

/* An amount: an object {total, tax_free, vat, point, discount, green_deposit}, or a number
 * (read as total). */
static int get_amount(const cJSON *o, const char *key, struct pay_amount *a)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	static const char *const keys[6] = {"total", "tax_free", "vat",
	                                    "point", "discount", "green_deposit"};
	int64_t *dst[6] = {&a->total, &a->tax_free, &a->vat,
	                   &a->point, &a->discount, &a->green_deposit};

	memset(a, 0, sizeof(*a));
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v) || cJSON_IsString(v)) {
		if (int_of(v, &a->total) != 1)
			return -1;
		a->present = true;
		return 0;
	}
	if (!cJSON_IsObject(v))
		return -1;
	for (int i = 0; i < 6; i++) {
		if (get_i64(v, keys[i], dst[i]) < 0)
			return -1;
	}
	a->present = true;
	return 0;
}

static int get_actions(const cJSON *o, struct pay_result *res)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "payment_action_details");
	const cJSON *it;

	if (arr == NULL || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return -1;
	cJSON_ArrayForEach(it, arr)
	{
		struct pay_action *a;

		if (!cJSON_IsObject(it))
			return -1;
		if (res->n_actions == PAY_ACTIONS_MAX) {
			res->actions_truncated = true;
			break;
		}
		a = &res->actions[res->n_actions];
		a->amount = 0;
		if (get_str(it, "aid", a->aid, sizeof(a->aid), false) ||
		    get_str(it, "payment_action_type", a->type, sizeof(a->type), false) ||
		    get_str(it, "payload", a->payload, sizeof(a->payload), false) ||
		    get_i64(it, "amount", &a->amount) < 0 ||
		    get_time(it, "approved_at", &a->approved_at))
			return -1;
		res->n_actions++;
	}
	return 0;
}

/* Every known success field; -1 when one is malformed. */
static int parse_success(const cJSON *o, struct pay_result *r)
{
	const cJSON *avail = cJSON_GetObjectItemCaseSensitive(o, "available");
	int q;

	if (get_str(o, "tid", r->tid, sizeof(r->tid), false) ||
	    get_str(o, "aid", r->aid, sizeof(r->aid), false) ||
	    get_str(o, "sid", r->sid, sizeof(r->sid), false) ||
	    get_str(o, "cid", r->cid, sizeof(r->cid), false) ||
	    get_str(o, "status", r->status, sizeof(r->status), false) ||
	    get_str(o, "payment_method_type", r->payment_method_type,
	            sizeof(r->payment_method_type), false) ||
	    get_str(o, "partner_order_id", r->partner_order_id, sizeof(r->partner_order_id),
	            false) ||
	    get_str(o, "partner_user_id", r->partner_user_id, sizeof(r->partner_user_id), false) ||
	    get_str(o, "item_name", r->item_name, sizeof(r->item_name), true) ||
	    get_str(o, "payload", r->payload, sizeof(r->payload), false) ||
	    get_str(o, "next_redirect_pc_url", r->next_redirect_pc_url,
	            sizeof(r->next_redirect_pc_url), false) ||
	    get_str(o, "next_redirect_mobile_url", r->next_redirect_mobile_url,
	            sizeof(r->next_redirect_mobile_url), false))
		return -1;
	q = get_i64(o, "quantity", &r->quantity);
	if (q < 0)
		return -1;
	if (q == 0)
		r->quantity = -1;
	if (avail != NULL && !cJSON_IsNull(avail)) {
		if (!cJSON_IsBool(avail))
			return -1;
		r->available = cJSON_IsTrue(avail) ? 1 : 0;
	}
	if (get_amount(o, "amount", &r->amount) ||
	    get_amount(o, "canceled_amount", &r->canceled_amount) ||
	    get_amount(o, "cancel_available_amount", &r->cancel_available_amount) ||
	    get_amount(o, "approved_cancel_amount", &r->approved_cancel_amount) ||
	    get_time(o, "created_at", &r->created_at) ||
	    get_time(o, "approved_at", &r->approved_at) ||
	    get_time(o, "canceled_at", &r->canceled_at) ||
	    get_time(o, "last_approved_at", &r->last_approved_at) ||
	    get_time(o, "inactivated_at", &r->inactivated_at) || get_actions(o, r))
		return -1;
	switch (r->op) {
	case PAY_OP_READY:
		return r->tid[0] && r->next_redirect_pc_url[0] ? 0 : -1;
	case PAY_OP_APPROVE:
	case PAY_OP_SUBSCRIPTION:
	case PAY_OP_CANCEL:
		return r->tid[0] && r->aid[0] ? 0 : -1;
	case PAY_OP_INACTIVE:
	case PAY_OP_STATUS:
		return r->status[0] ? 0 : -1;
	case PAY_OP_ORDER:
		return r->tid[0] && r->status[0] ? 0 : -1;
	default:
		return -1;
	}
}

/* The error fields of both shapes (§1.11.2). 1 when a code was found. */
static int parse_error(const cJSON *o, struct pay_result *r)
{
	const cJSON *extras;
	int64_t code = 0;
	int found;

	found = get_i64(o, "error_code", &code);
	if (found == 1) {
		if (get_str(o, "error_message", r->message, sizeof(r->message), true))
			r->message[0] = '\0';
	} else {
		found = get_i64(o, "code", &code);
		if (found != 1)
			return 0;
		if (get_str(o, "msg", r->message, sizeof(r->message), true))
			r->message[0] = '\0';
	}
	if (code < -2147483647 || code > 2147483647)
		return 0;
	r->code = (int)code;
	extras = cJSON_GetObjectItemCaseSensitive(o, "extras");
	if (cJSON_IsObject(extras)) {
		if (get_str(extras, "method_result_code", r->method_result_code,
		            sizeof(r->method_result_code), true))
			r->method_result_code[0] = '\0';
		if (get_str(extras, "method_result_message", r->method_result_message,
		            sizeof(r->method_result_message), true))
			r->method_result_message[0] = '\0';
	}
	return 1;
}

static void raw_put(struct pay_result *r, size_t *n, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (*n + 1 >= sizeof(r->raw)) {
			r->raw_truncated = true;
			return;
		}
		r->raw[(*n)++] = s[i] == '\0' ? '?' : s[i];
	}
}

/* raw: the body, bounded, with the values of "sid" and "pg_token" masked. */
static void raw_redact(struct pay_result *r, const char *body, size_t len)
{
	static const char *const keys[2] = {"\"sid\"", "\"pg_token\""};
	size_t n = 0, i = 0;

	while (i < len && !r->raw_truncated) {
		size_t klen = 0;

		for (int k = 0; k < 2; k++) {
			size_t kl = strlen(keys[k]);

			if (len - i >= kl && memcmp(body + i, keys[k], kl) == 0)
				klen = kl;
		}
		if (klen == 0) {
			raw_put(r, &n, body + i, 1);
			i++;
			continue;
		}
		raw_put(r, &n, body + i, klen);
		i += klen;
		while (i < len && (body[i] == ' ' || body[i] == ':' || body[i] == '\t')) {
			raw_put(r, &n, body + i, 1);
			i++;
		}
		if (i < len && body[i] == '"') {
			char val[PAY_ID_MAX + 8], masked[64];
			size_t j = i + 1, vl = 0;

			while (j < len && body[j] != '"') {
				if (body[j] == '\\' && j + 1 < len)
					j++;
				if (vl + 1 < sizeof(val))
					val[vl++] = body[j];
				j++;
			}
			val[vl] = '\0';
			pay_mask_id(val, masked, sizeof(masked));
			raw_put(r, &n, "\"", 1);
			raw_put(r, &n, masked, strlen(masked));
			raw_put(r, &n, "\"", 1);
			i = j < len ? j + 1 : j;
		}
	}
	if (r->raw_truncated) {
		/* do not end inside a UTF-8 sequence */
		while (n > 0 && ((unsigned char)r->raw[n - 1] & 0xC0) == 0x80)
			n--;
		if (n > 0 && ((unsigned char)r->raw[n - 1] & 0x80))
			n--;
	}
	r->raw[n] = '\0';
}

void kakaopay_parse_response(struct pay_result *res, int complete, const char *body, size_t len)
{
	struct pay_facts f;
	cJSON *root = NULL;

	memset(&f, 0, sizeof(f));
	f.op = res->op;
	f.sent = res->sent;
	f.complete = complete != 0;
	f.http_status = res->http_status;
	if (body != NULL && len > 0)
		raw_redact(res, body, len);
	if (complete && body != NULL && len > 0)
		root = cJSON_ParseWithLength(body, len);
	if (cJSON_IsObject(root)) {
		if (res->http_status >= 200 && res->http_status < 300)
			f.success_body = parse_success(root, res) == 0;
		if (!f.success_body) {
			f.has_code = parse_error(root, res) == 1;
			f.code = res->code;
			f.method_result_code = res->method_result_code;
		}
	}
	res->cls = pay_classify(&f);
	if (!f.has_code) {
		res->code = 0;
		if (res->cls != PAY_OK && res->message[0] == '\0')
			snprintf(res->message, sizeof(res->message), "%s",
			         !f.sent                                 ? "not sent"
			         : !f.complete                           ? "no complete response"
			         : root == NULL || !cJSON_IsObject(root) ? "unparsable response"
			                                                 : "unexpected response");
	}
	cJSON_Delete(root);
}

/* ---- one transfer, shared by both drivers ------------------------------------------ */

struct kp_xfer {
	struct pay_result *res;
	char *body;
	struct buf resp;
	bool oversize;
	bool rejected;
	CURL *easy;
	/* multi only */
	kakaopay_done_fn done;
	void *arg;
	struct kp_xfer *prev, *next;
	struct pay_result own; /* the record of a multi request */
};

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct kp_xfer *x = ud;
	size_t n = size * nmemb;

	if (buf_append(&x->resp, p, n) != 0) {
		x->oversize = true;
		return 0;
	}
	return n;
}

/* Builds the body; a rejected request gets its final record (INVALID, not sent). */
static int xfer_prepare(struct kp_xfer *x, const struct kp_base *b, enum pay_op op,
                        const struct pay_request *req)
{
	char why[128];
	int rc;

	x->resp = (struct buf)BUF_INIT(b->max_response);
	rc = kakaopay_build_body(op, req, b->cid_secret, &x->body, why, sizeof(why));
	if (rc == -E_VALIDATION_FAILED) {
		x->rejected = true;
		x->res->cls = PAY_INVALID;
		x->res->sent = false;
		snprintf(x->res->message, sizeof(x->res->message), "request rejected: %s", why);
		return 0;
	}
	return rc;
}

static int xfer_setopt(struct kp_xfer *x, const struct kp_base *b)
{
	CURL *e = x->easy;
	long money = pay_op_moves_money(x->res->op) ? 1L : 0L;
	CURLcode c = CURLE_OK;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (c == CURLE_OK)                                                                 \
			c = curl_easy_setopt(e, opt, val);                                         \
	} while (0)
	SET(CURLOPT_URL, b->urls[x->res->op]);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, x->body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body));
	SET(CURLOPT_HTTPHEADER, b->headers);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_CONNECTTIMEOUT_MS, b->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, b->timeout_ms);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b->max_response);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_FRESH_CONNECT, money);
	SET(CURLOPT_FORBID_REUSE, money);
	SET(CURLOPT_MAXCONNECTS, b->max_connects);
#undef SET
	return c == CURLE_OK ? 0 : -E_NOMEM;
}

/* §1.2: sent is false only when libcurl proves the request never left. */
static bool transport_sent(CURLcode rc, curl_off_t pretransfer_us)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return false;
	case CURLE_OPERATION_TIMEDOUT:
		return pretransfer_us > 0;
	default:
		return true;
	}
}

/* Fills the record after the transfer ended with rc. */
static void xfer_finish(struct kp_xfer *x, CURLcode rc)
{
	struct pay_result *r = x->res;
	long status = 0;
	curl_off_t pre = 0, tconn = 0, ttotal = 0;
	bool complete;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &tconn);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &ttotal);
	if (rc == CURLE_FILESIZE_EXCEEDED)
		x->oversize = true;
	r->sent = transport_sent(rc, pre);
	r->http_status = (int)status;
	r->t_connect_ms = (int64_t)(tconn / 1000);
	r->t_total_ms = (int64_t)(ttotal / 1000);
	complete = rc == CURLE_OK && !x->oversize;
	kakaopay_parse_response(r, complete, x->resp.data, x->resp.len);
	if (!complete && r->code == 0) {
		snprintf(r->message, sizeof(r->message), "%s",
		         x->oversize ? "response too large" : curl_easy_strerror(rc));
	}
}

static void xfer_release(struct kp_xfer *x)
{
	buf_release(&x->resp);
	free(x->body);
	x->body = NULL;
}

/* A local failure before anything left. */
static void local_failure(struct pay_result *r, const char *what)
{
	r->cls = PAY_NOT_SENT;
	r->sent = false;
	snprintf(r->message, sizeof(r->message), "local: %s", what);
}

/* ---- blocking driver --------------------------------------------------------------- */

struct kakaopay_client {
	struct kp_base base;
	CURL *easy;
};

int kakaopay_client_new(const struct kakaopay_config *cfg, struct kakaopay_client **out)
{
	struct kakaopay_client *c;
	int rc;

	if (out == NULL)
		return -E_CONFIG;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -E_NOMEM;
	rc = base_init(&c->base, cfg);
	if (rc)
		goto out;
	c->easy = curl_easy_init();
	if (c->easy == NULL) {
		base_release(&c->base);
		rc = -E_NOMEM;
		goto out;
	}
	*out = c;
	c = NULL;
out:
	free(c);
	return rc;
}

void kakaopay_client_free(struct kakaopay_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->easy);
	base_release(&c->base);
	free(c);
}

int kakaopay_call(struct kakaopay_client *c, enum pay_op op, const struct pay_request *req,
                  struct pay_result *res)
{
	struct kp_xfer x;
	CURLcode crc;
	int rc;

	if (c == NULL || req == NULL || res == NULL || (unsigned)op >= PAY_OP__COUNT)
		return -E_CONFIG;
	memset(&x, 0, sizeof(x));
	pay_result_init(res, op);
	x.res = res;
	x.easy = c->easy;
	rc = xfer_prepare(&x, &c->base, op, req);
	if (rc) {
		local_failure(res, "out of memory");
		goto out;
	}
	if (x.rejected)
		goto out;
	curl_easy_reset(c->easy); /* keeps the connection cache */
	if (xfer_setopt(&x, &c->base)) {
		local_failure(res, "curl setup failed");
		goto out;
	}
	crc = curl_easy_perform(c->easy);
	xfer_finish(&x, crc);
out:
	xfer_release(&x);
	return 0;
}

static int gw_ready(void *ctx, const struct pay_request *q, struct pay_result *r)
{
	return kakaopay_call(ctx, PAY_OP_READY, q, r);
}

static int gw_approve(void *ctx, const struct pay_request *q, struct pay_result *r)
{
	return kakaopay_call(ctx, PAY_OP_APPROVE, q, r);
}

static int gw_subscription(void *ctx, const struct pay_request *q, struct pay_result *r)
{
	return kakaopay_call(ctx, PAY_OP_SUBSCRIPTION, q, r);
}

static int gw_inactive(void *ctx, const struct pay_request *q, struct pay_result *r)
{
	return kakaopay_call(ctx, PAY_OP_INACTIVE, q, r);
}

static int gw_status(void *ctx, const struct pay_request *q, struct pay_result *r)
{
	return kakaopay_call(ctx, PAY_OP_STATUS, q, r);
}

static int gw_order(void *ctx, const struct pay_request *q, struct pay_result *r)
{
	return kakaopay_call(ctx, PAY_OP_ORDER, q, r);
}

static int gw_cancel(void *ctx, const struct pay_request *q, struct pay_result *r)
{
	return kakaopay_call(ctx, PAY_OP_CANCEL, q, r);
}

void kakaopay_gateway_init(struct pay_gateway *gw, struct kakaopay_client *c)
{
	gw->ctx = c;
	gw->ready = gw_ready;
	gw->approve = gw_approve;
	gw->subscription = gw_subscription;
	gw->inactive = gw_inactive;
	gw->status = gw_status;
	gw->order = gw_order;
	gw->cancel = gw_cancel;
}

/* ---- multi driver ------------------------------------------------------------------ */

struct kakaopay_multi {
	struct kp_base base;
	CURLM *multi;
	struct kakaopay_multi_hooks hooks;
	size_t max_in_flight;
	size_t in_flight;
	struct kp_xfer *running; /* added to curl */
	struct kp_xfer *pending; /* rejected before sending, delivered from the loop */
	bool timer_forced;       /* the loop's timer was set to 0 for pending */
	bool freeing;
};

static void list_add(struct kp_xfer **head, struct kp_xfer *x)
{
	x->prev = NULL;
	x->next = *head;
	if (*head != NULL)
		(*head)->prev = x;
	*head = x;
}

static void list_del(struct kp_xfer **head, struct kp_xfer *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		*head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct kakaopay_multi *m = userp;
	int want = 0;

	(void)e;
	switch (what) {
	case CURL_POLL_IN:
		want = KAKAOPAY_WANT_IN;
		break;
	case CURL_POLL_OUT:
		want = KAKAOPAY_WANT_OUT;
		break;
	case CURL_POLL_INOUT:
		want = KAKAOPAY_WANT_IN | KAKAOPAY_WANT_OUT;
		break;
	case CURL_POLL_REMOVE:
	default:
		want = KAKAOPAY_WANT_REMOVE;
		break;
	}
	if (m->hooks.socket != NULL)
		m->hooks.socket(m->hooks.arg, (int)s, want, socketp);
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct kakaopay_multi *m = userp;

	(void)multi;
	if (m->pending != NULL)
		timeout_ms = 0;
	if (m->hooks.timer != NULL && !m->freeing)
		m->hooks.timer(m->hooks.arg, timeout_ms);
	return 0;
}

int kakaopay_multi_new(const struct kakaopay_config *cfg, const struct kakaopay_multi_hooks *hooks,
                       size_t max_in_flight, struct kakaopay_multi **out)
{
	struct kakaopay_multi *m;
	bool base_ok = false;
	int rc;

	if (hooks == NULL || hooks->socket == NULL || hooks->timer == NULL || out == NULL)
		return -E_CONFIG;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -E_NOMEM;
	rc = base_init(&m->base, cfg);
	if (rc)
		goto out;
	base_ok = true;
	m->hooks = *hooks;
	m->max_in_flight = max_in_flight > 0 ? max_in_flight : 1024;
	rc = -E_NOMEM;
	m->multi = curl_multi_init();
	if (m->multi == NULL ||
	    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
	    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m) != CURLM_OK ||
	    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
	    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m) != CURLM_OK ||
	    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, m->base.max_connects) != CURLM_OK)
		goto out;
	*out = m;
	m = NULL;
	rc = 0;
out:
	if (m != NULL) {
		if (m->multi != NULL)
			curl_multi_cleanup(m->multi);
		if (base_ok)
			base_release(&m->base);
		free(m);
	}
	return rc;
}

static void xfer_free(struct kp_xfer *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	xfer_release(x);
	free(x);
}

/* Calls done once and frees x (already off every list). */
static void deliver(struct kakaopay_multi *m, struct kp_xfer *x)
{
	m->in_flight--;
	if (x->done != NULL)
		x->done(x->arg, x->res);
	xfer_free(x);
}

static void deliver_pending(struct kakaopay_multi *m)
{
	while (m->pending != NULL) {
		struct kp_xfer *x = m->pending;

		list_del(&m->pending, x);
		deliver(m, x);
	}
}

static void check_done(struct kakaopay_multi *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct kp_xfer *x = NULL;
		CURL *e = msg->easy_handle;
		CURLcode rc = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(m->multi, e);
		if (x == NULL)
			continue;
		list_del(&m->running, x);
		xfer_finish(x, rc);
		deliver(m, x);
	}
}

/* After the loop's timer was forced to 0, give it curl's own timeout back. */
static void restore_timer(struct kakaopay_multi *m)
{
	long ms = -1;

	if (!m->timer_forced || m->pending != NULL)
		return;
	m->timer_forced = false;
	if (curl_multi_timeout(m->multi, &ms) != CURLM_OK)
		ms = 0;
	m->hooks.timer(m->hooks.arg, ms);
}

int kakaopay_multi_add(struct kakaopay_multi *m, enum pay_op op, const struct pay_request *req,
                       kakaopay_done_fn done, void *arg)
{
	struct kp_xfer *x = NULL;
	int rc;

	if (m == NULL || req == NULL || done == NULL || (unsigned)op >= PAY_OP__COUNT || m->freeing)
		return -E_CONFIG;
	if (m->in_flight >= m->max_in_flight)
		return -E_SERVICE_UNAVAILABLE;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -E_NOMEM;
	pay_result_init(&x->own, op);
	x->res = &x->own;
	x->done = done;
	x->arg = arg;
	rc = xfer_prepare(x, &m->base, op, req);
	if (rc)
		goto fail;
	if (x->rejected) {
		m->in_flight++;
		list_add(&m->pending, x);
		m->timer_forced = true;
		m->hooks.timer(m->hooks.arg, 0);
		return 0;
	}
	x->easy = curl_easy_init();
	if (x->easy == NULL) {
		rc = -E_NOMEM;
		goto fail;
	}
	rc = xfer_setopt(x, &m->base);
	if (rc)
		goto fail;
	if (curl_multi_add_handle(m->multi, x->easy) != CURLM_OK) {
		rc = -E_NOMEM;
		goto fail;
	}
	m->in_flight++;
	list_add(&m->running, x);
	return 0;
fail:
	xfer_free(x);
	return rc;
}

void kakaopay_multi_socket_action(struct kakaopay_multi *m, int fd, int events)
{
	int running = 0, mask = 0;

	if (m == NULL)
		return;
	if (events & KAKAOPAY_WANT_IN)
		mask |= CURL_CSELECT_IN;
	if (events & KAKAOPAY_WANT_OUT)
		mask |= CURL_CSELECT_OUT;
	curl_multi_socket_action(m->multi, (curl_socket_t)fd, mask, &running);
	check_done(m);
}

void kakaopay_multi_timeout(struct kakaopay_multi *m)
{
	int running = 0;

	if (m == NULL)
		return;
	deliver_pending(m);
	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(m);
	restore_timer(m);
}

int kakaopay_multi_assign(struct kakaopay_multi *m, int fd, void *sockp)
{
	if (m == NULL)
		return -E_CONFIG;
	return curl_multi_assign(m->multi, (curl_socket_t)fd, sockp) == CURLM_OK ? 0 : -E_CONFIG;
}

size_t kakaopay_multi_in_flight(const struct kakaopay_multi *m)
{
	return m != NULL ? m->in_flight : 0;
}

void kakaopay_multi_free(struct kakaopay_multi *m)
{
	if (m == NULL)
		return;
	m->freeing = true;
	deliver_pending(m);
	while (m->running != NULL) {
		struct kp_xfer *x = m->running;

		list_del(&m->running, x);
		curl_multi_remove_handle(m->multi, x->easy);
		/* aborted: unknown once the request may have left (read as a timeout) */
		xfer_finish(x, CURLE_OPERATION_TIMEDOUT);
		snprintf(x->res->message, sizeof(x->res->message), "aborted");
		deliver(m, x);
	}
	curl_multi_cleanup(m->multi);
	base_release(&m->base);
	free(m);
}

struct kakaopay_config kakaopay_cfg_read(const struct cfg *c)
{
	return (struct kakaopay_config){
	    .base_url = cfg_str(c, "PV_KAKAOPAY_BASE_URL"),
	    .secret_key = cfg_str(c, "PV_KAKAOPAY_SECRET_KEY"),
	    .cid_secret = cfg_str(c, "PV_KAKAOPAY_CID_SECRET"),
	    .connect_timeout_ms = (long)cfg_int(c, "PV_KAKAOPAY_CONNECT_TIMEOUT_MS"),
	    .timeout_ms = (long)cfg_int(c, "PV_KAKAOPAY_TIMEOUT_MS"),
	};
}
