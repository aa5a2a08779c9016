/*
 * fake_api: endpoint logic of the fake Kakao Pay server. See fake_api.h.
 */
#include "tests/fakes/kakaopay/fake_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "common/banned.h"

static const char *const paths[FP_EP_COUNT] = {
    "/online/v1/payment/ready",
    "/online/v1/payment/approve",
    "/online/v1/payment/subscription",
    "/online/v1/payment/manage/subscription/inactive",
    "/online/v1/payment/manage/subscription/status",
    "/online/v1/payment/order",
    "/online/v1/payment/cancel",
};

enum fp_endpoint fapi_endpoint(const char *path)
{
	for (int i = 0; i < FP_EP_COUNT; i++)
		if (strcmp(path, paths[i]) == 0)
			return (enum fp_endpoint)i;
	return FP_EP_COUNT;
}

/* ---- errors ------------------------------------------------------------------------------------
 */

static const struct {
	int code;
	const char *msg;
} messages[] = {
    {-2, "malformed or missing parameter"},
    {-400, "no Authorization header"},
    {-401, "invalid secret key"},
    {-403, "API not enabled"},
    {-404, "not found"},
    {-429, "daily quota exceeded"},
    {-500, "internal error"},
    {-503, "maintenance"},
    {-701, "user has not finished authentication"},
    {-702, "payment already done"},
    {-706, "partner_order_id differs from ready"},
    {-707, "partner_user_id differs from ready"},
    {-708, "invalid pg_token"},
    {-710, "cancel amount above the cancellable amount"},
    {-721, "TID does not exist"},
    {-722, "invalid amount"},
    {-723, "payment expired"},
    {-725, "amount differs from ready"},
    {-731, "invalid cid"},
    {-750, "SID does not exist"},
    {-751, "SID is inactive"},
    {-752, "SID over its monthly usage limit"},
    {-753, "partner_user_id differs from the SID's"},
    {-780, "approve failed"},
    {-781, "cancel failed"},
    {-782, "recurring charge failed"},
    {-783, "approve not allowed in this state"},
    {-784, "cancel not allowed in this state"},
    {-785, "duplicate request"},
    {-797, "over the per-payment amount limit"},
    {-799, "redirect URL domain not registered"},
};

const char *fapi_message(int code)
{
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (messages[i].code == code)
			return messages[i].msg;
	return "error";
}

void fapi_result_release(struct fapi_result *res)
{
	cJSON_Delete(res->body);
	res->body = NULL;
}

void fapi_error(struct fapi_result *res, int http_status, int code, const char *message,
                const char *mr_code, const char *mr_message, bool legacy)
{
	cJSON *o = cJSON_CreateObject(), *ex;

	cJSON_Delete(res->body);
	res->body = o;
	res->http_status = http_status;
	res->code = code;
	if (!o)
		return;
	cJSON_AddNumberToObject(o, legacy ? "code" : "error_code", code);
	cJSON_AddStringToObject(o, legacy ? "msg" : "error_message",
	                        message ? message : fapi_message(code));
	ex = cJSON_AddObjectToObject(o, "extras");
	if (ex && mr_code)
		cJSON_AddStringToObject(ex, "method_result_code", mr_code);
	if (ex && mr_message)
		cJSON_AddStringToObject(ex, "method_result_message", mr_message);
}

static void err(struct fapi_result *res, int code)
{
	int st = 400;

	if (code == -401)
		st = 401;
	else if (code == -404)
		st = 404;
	else if (code == -500)
		st = 500;
	fapi_error(res, st, code, NULL, NULL, NULL, false);
}

static void err_msg(struct fapi_result *res, int code, const char *msg)
{
	fapi_error(res, 400, code, msg, NULL, NULL, false);
}

/* ---- §4.2 field checks
 * --------------------------------------------------------------------------- */

enum ftype { F_STR, F_INT };

struct field {
	const char *name;
	enum ftype type;
	bool required;
	int maxlen; /* code points, 0 = none */
};

#define END                                                                                        \
	{                                                                                          \
		NULL, F_STR, false, 0                                                              \
	}

static const struct field f_ready[] = {
    {"cid", F_STR, true, 0},
    {"partner_order_id", F_STR, true, 100},
    {"partner_user_id", F_STR, true, 100},
    {"item_name", F_STR, true, 100},
    {"item_code", F_STR, false, 100},
    {"quantity", F_INT, true, 0},
    {"total_amount", F_INT, true, 0},
    {"tax_free_amount", F_INT, true, 0},
    {"vat_amount", F_INT, false, 0},
    {"green_deposit", F_INT, false, 0},
    {"approval_url", F_STR, true, 255},
    {"cancel_url", F_STR, true, 255},
    {"fail_url", F_STR, true, 255},
    {"cid_secret", F_STR, false, 24},
    END,
};
static const struct field f_approve[] = {
    {"cid", F_STR, true, 0},
    {"tid", F_STR, true, 0},
    {"partner_order_id", F_STR, true, 100},
    {"partner_user_id", F_STR, true, 100},
    {"pg_token", F_STR, true, 0},
    {"total_amount", F_INT, false, 0},
    {"payload", F_STR, false, 200},
    {"cid_secret", F_STR, false, 24},
    END,
};
static const struct field f_subscription[] = {
    {"cid", F_STR, true, 0},
    {"sid", F_STR, true, 0},
    {"partner_order_id", F_STR, true, 100},
    {"partner_user_id", F_STR, true, 100},
    {"item_name", F_STR, true, 100},
    {"item_code", F_STR, false, 100},
    {"quantity", F_INT, true, 0},
    {"total_amount", F_INT, true, 0},
    {"tax_free_amount", F_INT, true, 0},
    {"vat_amount", F_INT, false, 0},
    {"payload", F_STR, false, 200},
    {"cid_secret", F_STR, false, 24},
    END,
};
static const struct field f_sid[] = {
    {"cid", F_STR, true, 0},
    {"sid", F_STR, true, 0},
    {"cid_secret", F_STR, false, 24},
    END,
};
static const struct field f_order[] = {
    {"cid", F_STR, true, 0},
    {"tid", F_STR, true, 0},
    {"cid_secret", F_STR, false, 24},
    END,
};
static const struct field f_cancel[] = {
    {"cid", F_STR, true, 0},
    {"tid", F_STR, true, 0},
    {"cancel_amount", F_INT, true, 0},
    {"cancel_tax_free_amount", F_INT, true, 0},
    {"cancel_vat_amount", F_INT, false, 0},
    {"cancel_available_amount", F_INT, false, 0},
    {"payload", F_STR, false, 200},
    {"cid_secret", F_STR, false, 24},
    END,
};

static const struct field *const tables[FP_EP_COUNT] = {
    f_ready, f_approve, f_subscription, f_sid, f_sid, f_order, f_cancel,
};

/* 1 and *out for an integer (JSON integral number or digit string), 0 absent, -1 bad. */
static int get_int(const cJSON *body, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
	const char *s;
	int64_t n = 0;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d != floor(d) || fabs(d) > 9007199254740991.0)
			return -1;
		*out = (int64_t)d;
		return 1;
	}
	if (!cJSON_IsString(v))
		return -1;
	s = v->valuestring;
	if (!*s || strlen(s) > 15)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
	}
	*out = n;
	return 1;
}

const char *fapi_str(const cJSON *body, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t int_or(const cJSON *body, const char *key, int64_t def)
{
	int64_t v;
	return get_int(body, key, &v) == 1 ? v : def;
}

int fapi_validate(enum fp_endpoint ep, const cJSON *body, struct fapi_result *res)
{
	const struct field *t = tables[ep];
	char msg[160];
	enum fp_cid_kind kind;
	int64_t n;

	for (size_t i = 0; t[i].name; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, t[i].name);
		bool absent = !v || cJSON_IsNull(v);
		if (absent) {
			if (!t[i].required)
				continue;
			snprintf(msg, sizeof(msg), "%s is required", t[i].name);
			err_msg(res, -2, msg);
			return -1;
		}
		if (t[i].type == F_STR && !cJSON_IsString(v)) {
			snprintf(msg, sizeof(msg), "%s must be a string", t[i].name);
			err_msg(res, -2, msg);
			return -1;
		}
		if (t[i].type == F_INT && get_int(body, t[i].name, &n) != 1) {
			snprintf(msg, sizeof(msg), "%s must be an integer", t[i].name);
			err_msg(res, -2, msg);
			return -1;
		}
		if (t[i].type == F_STR && t[i].required && !*v->valuestring) {
			snprintf(msg, sizeof(msg), "%s must not be empty", t[i].name);
			err_msg(res, -2, msg);
			return -1;
		}
	}
	for (size_t i = 0; t[i].name; i++) {
		const char *s = fapi_str(body, t[i].name);
		if (t[i].type == F_STR && t[i].maxlen && s &&
		    json_utf8_len(s) > (size_t)t[i].maxlen) {
			snprintf(msg, sizeof(msg), "%s is longer than %d characters", t[i].name,
			         t[i].maxlen);
			err_msg(res, -2, msg);
			return -1;
		}
	}
	kind = fstore_cid_kind(fapi_str(body, "cid"));
	if (!kind || ((ep == FP_EP_SUBSCRIPTION || ep == FP_EP_INACTIVE || ep == FP_EP_STATUS) &&
	              kind != FP_CID_SUBSCRIPTION)) {
		err(res, -731);
		return -1;
	}
	return 0;
}

/* ---- bodies ------------------------------------------------------------------------------------
 */

cJSON *fapi_amount_json(struct fp_amount a)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "total", (double)a.total);
	cJSON_AddNumberToObject(o, "tax_free", (double)a.tax_free);
	cJSON_AddNumberToObject(o, "vat", (double)a.vat);
	cJSON_AddNumberToObject(o, "point", 0);
	cJSON_AddNumberToObject(o, "discount", 0);
	cJSON_AddNumberToObject(o, "green_deposit", 0);
	return o;
}

static void add_str_or_null(cJSON *o, const char *key, const char *s)
{
	if (s && *s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_ts(cJSON *o, const char *key, int64_t ms)
{
	char ts[FP_TS_LEN];

	fstore_format_kst(ms, ts);
	add_str_or_null(o, key, ts);
}

static const char *method_name(const struct fp_payment *p)
{
	return p->card ? "CARD" : "MONEY";
}

static cJSON *card_info(void)
{
	cJSON *c = cJSON_CreateObject();

	if (!c)
		return NULL;
	cJSON_AddStringToObject(c, "kakaopay_purchase_corp", "FAKE카드");
	cJSON_AddStringToObject(c, "kakaopay_purchase_corp_code", "199");
	cJSON_AddStringToObject(c, "kakaopay_issuer_corp", "FAKE카드");
	cJSON_AddStringToObject(c, "kakaopay_issuer_corp_code", "199");
	cJSON_AddStringToObject(c, "bin", "999999");
	cJSON_AddStringToObject(c, "card_type", "CREDIT");
	cJSON_AddStringToObject(c, "install_month", "00");
	cJSON_AddStringToObject(c, "approved_id", "00000000");
	cJSON_AddStringToObject(c, "card_mid", "000000000");
	cJSON_AddStringToObject(c, "interest_free_install", "N");
	cJSON_AddStringToObject(c, "installment_type", "CARD_INSTALLMENT");
	cJSON_AddStringToObject(c, "card_item_code", "FAKE00");
	return c;
}

/* The approve / charge response (1.6, 1.7). */
static cJSON *approve_body(const struct fp_payment *p, bool with_sid)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "aid", p->aid);
	cJSON_AddStringToObject(o, "tid", p->tid);
	cJSON_AddStringToObject(o, "cid", p->cid);
	if (with_sid)
		cJSON_AddStringToObject(o, "sid", p->sid);
	cJSON_AddStringToObject(o, "partner_order_id", p->partner_order_id);
	cJSON_AddStringToObject(o, "partner_user_id", p->partner_user_id);
	cJSON_AddStringToObject(o, "payment_method_type", method_name(p));
	cJSON_AddItemToObject(o, "amount", fapi_amount_json(p->amount));
	if (p->card)
		cJSON_AddItemToObject(o, "card_info", card_info());
	cJSON_AddStringToObject(o, "item_name", p->item_name);
	add_str_or_null(o, "item_code", p->item_code);
	cJSON_AddNumberToObject(o, "quantity", (double)p->quantity);
	add_ts(o, "created_at", p->created_ms);
	add_ts(o, "approved_at", p->approved_ms);
	add_str_or_null(o, "payload", p->payload);
	return o;
}

static struct fp_amount remaining(const struct fp_payment *p)
{
	struct fp_amount r = {p->amount.total - p->canceled.total,
	                      p->amount.tax_free - p->canceled.tax_free,
	                      p->amount.vat - p->canceled.vat};
	if (r.vat < 0)
		r.vat = 0;
	return r;
}

static bool paid(enum fp_status s)
{
	return s == FP_SUCCESS_PAYMENT || s == FP_PART_CANCEL_PAYMENT;
}

static cJSON *order_body(const struct fp_payment *p)
{
	cJSON *o = cJSON_CreateObject(), *arr, *a;
	enum fp_status st = fstore_effective_status(p);
	struct fp_amount zero = {0, 0, 0};
	bool approved = p->approved_ms > 0;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "tid", p->tid);
	cJSON_AddStringToObject(o, "cid", p->cid);
	cJSON_AddStringToObject(o, "status", fstore_status_name(st));
	cJSON_AddStringToObject(o, "partner_order_id", p->partner_order_id);
	cJSON_AddStringToObject(o, "partner_user_id", p->partner_user_id);
	if (approved)
		cJSON_AddStringToObject(o, "payment_method_type", method_name(p));
	else
		cJSON_AddNullToObject(o, "payment_method_type");
	cJSON_AddItemToObject(o, "amount", fapi_amount_json(p->amount));
	cJSON_AddItemToObject(o, "canceled_amount", fapi_amount_json(p->canceled));
	cJSON_AddItemToObject(o, "cancel_available_amount",
	                      fapi_amount_json(paid(st) ? remaining(p) : zero));
	cJSON_AddStringToObject(o, "item_name", p->item_name);
	add_str_or_null(o, "item_code", p->item_code);
	cJSON_AddNumberToObject(o, "quantity", (double)p->quantity);
	add_ts(o, "created_at", p->created_ms);
	add_ts(o, "approved_at", p->approved_ms);
	add_ts(o, "canceled_at", p->canceled_ms);
	if (approved && p->card) {
		a = cJSON_AddObjectToObject(o, "selected_card_info");
		if (a) {
			cJSON_AddStringToObject(a, "card_bin", "999999");
			cJSON_AddNumberToObject(a, "install_month", 0);
			cJSON_AddStringToObject(a, "card_corp_name", "FAKE카드");
			cJSON_AddStringToObject(a, "interest_free_install", "N");
		}
	}
	arr = cJSON_AddArrayToObject(o, "payment_action_details");
	for (size_t i = 0; arr && i < p->nactions; i++) {
		const struct fp_action *x = &p->actions[i];
		a = cJSON_CreateObject();
		if (!a)
			break;
		cJSON_AddStringToObject(a, "aid", x->aid);
		add_ts(a, "approved_at", x->at_ms);
		cJSON_AddNumberToObject(a, "amount", (double)x->amount.total);
		cJSON_AddNumberToObject(a, "point_amount", 0);
		cJSON_AddNumberToObject(a, "discount_amount", 0);
		cJSON_AddNumberToObject(a, "green_deposit", 0);
		cJSON_AddStringToObject(a, "payment_action_type",
		                        x->type == FP_ACT_PAYMENT ? "PAYMENT" : "CANCEL");
		add_str_or_null(a, "payload", x->payload);
		cJSON_AddItemToArray(arr, a);
	}
	return o;
}

static cJSON *sid_body(const struct fp_sid *s, bool status_call)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (status_call)
		cJSON_AddBoolToObject(o, "available", s->status == FP_SID_ACTIVE);
	cJSON_AddStringToObject(o, "cid", s->cid);
	cJSON_AddStringToObject(o, "sid", s->sid);
	cJSON_AddStringToObject(o, "status", s->status == FP_SID_ACTIVE ? "ACTIVE" : "INACTIVE");
	if (status_call) {
		cJSON_AddStringToObject(o, "payment_method_type", s->card ? "CARD" : "MONEY");
		add_str_or_null(o, "item_name", s->item_name);
	}
	add_ts(o, "created_at", s->created_ms);
	add_ts(o, "last_approved_at", s->last_approved_ms);
	add_ts(o, "inactivated_at", s->inactivated_ms);
	if (status_call)
		cJSON_AddStringToObject(o, "use_point_status", "AVAILABLE");
	return o;
}

static void ok(struct fapi_result *res, cJSON *body)
{
	cJSON_Delete(res->body);
	res->body = body;
	res->http_status = body ? 200 : 500;
	res->code = body ? 0 : -500;
	if (!body)
		err(res, -500);
}

/* True when a fault acts here without applying anything (the handler then returns). */
static bool fault_blocks(const struct ffault *fault, struct fapi_result *res)
{
	if (!fault || fault->action == FF_LATENCY)
		return false;
	res->fault_acted = true;
	return !ffault_applies(fault->action);
}

/* ---- ready --------------------------------------------------------------------------------------
 */

/* The host of an absolute http(s) URL into host; -1 when it is not one. */
static int url_host(const char *url, char *host, size_t n)
{
	const char *p, *end, *at;
	size_t len;

	if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return -1;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			return -1;
		len = (size_t)(rb + 1 - p);
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		len = (size_t)((colon ? colon : end) - p);
	}
	if (!len || len >= n)
		return -1;
	memcpy(host, p, len);
	host[len] = '\0';
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ')
			return -1;
	return 0;
}

static bool host_allowed(const char *host)
{
	const char *list = fstore.cfg.allowed_hosts, *p = list;
	size_t hl = strlen(host);

	if (!*list)
		return true;
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len == hl && strncasecmp(p, host, hl) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

static void url_encode(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t j = 0;

	for (; *s && j + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[j++] = (char)c;
		} else {
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 15];
		}
	}
	out[j] = '\0';
}

static void do_ready(const cJSON *b, const struct ffault *fault, struct fapi_result *res)
{
	static const char *const urls[] = {"approval_url", "cancel_url", "fail_url"};
	int64_t total = int_or(b, "total_amount", 0), tax_free = int_or(b, "tax_free_amount", 0);
	char host[256], msg[96], base[512], page[600], enc[2000], scheme[2100];
	struct fp_payment *p;
	cJSON *o;

	if (total < 1 || tax_free < 0 || tax_free > total) {
		err(res, -722);
		return;
	}
	if (fstore.cfg.max_amount > 0 && total > fstore.cfg.max_amount) {
		err(res, -797);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		if (url_host(fapi_str(b, urls[i]), host, sizeof(host))) {
			snprintf(msg, sizeof(msg), "%s must be an absolute http(s) URL", urls[i]);
			err_msg(res, -2, msg);
			return;
		}
		if (!host_allowed(host)) {
			err(res, -799);
			return;
		}
	}
	if (fault_blocks(fault, res))
		return;
	p = fstore_payment_new(fapi_str(b, "cid"));
	if (!p) {
		err(res, -500);
		return;
	}
	p->card = fstore_card();
	p->partner_order_id = fstore_strdup(fapi_str(b, "partner_order_id"));
	p->partner_user_id = fstore_strdup(fapi_str(b, "partner_user_id"));
	p->item_name = fstore_strdup(fapi_str(b, "item_name"));
	p->item_code = fstore_strdup(fapi_str(b, "item_code"));
	p->approval_url = fstore_strdup(fapi_str(b, "approval_url"));
	p->cancel_url = fstore_strdup(fapi_str(b, "cancel_url"));
	p->fail_url = fstore_strdup(fapi_str(b, "fail_url"));
	p->quantity = int_or(b, "quantity", 0);
	p->amount.total = total;
	p->amount.tax_free = tax_free;
	p->amount.vat = int_or(b, "vat_amount", (total - tax_free + 5) / 11);
	p->status = FP_READY;
	res->applied = true;
	snprintf(res->tid, sizeof(res->tid), "%s", p->tid);
	snprintf(base, sizeof(base), "%s/pg/%s", fstore.cfg.public_url, p->tid);
	o = cJSON_CreateObject();
	if (!o) {
		err(res, -500);
		return;
	}
	cJSON_AddStringToObject(o, "tid", p->tid);
	snprintf(page, sizeof(page), "%s/aInfo", base);
	cJSON_AddStringToObject(o, "next_redirect_app_url", page);
	snprintf(page, sizeof(page), "%s/mInfo", base);
	cJSON_AddStringToObject(o, "next_redirect_mobile_url", page);
	snprintf(page, sizeof(page), "%s/info", base);
	cJSON_AddStringToObject(o, "next_redirect_pc_url", page);
	snprintf(page, sizeof(page), "%s/aInfo", base);
	url_encode(page, enc, sizeof(enc));
	snprintf(scheme, sizeof(scheme), "kakaotalk://kakaopay/pg?url=%s", enc);
	cJSON_AddStringToObject(o, "android_app_scheme", scheme);
	cJSON_AddStringToObject(o, "ios_app_scheme", scheme);
	add_ts(o, "created_at", p->created_ms);
	ok(res, o);
}

/* ---- approve ------------------------------------------------------------------------------------
 */

static void do_approve(const cJSON *b, const struct ffault *fault, struct fapi_result *res)
{
	struct fp_payment *p = fstore_payment_get(fapi_str(b, "tid"));
	const char *token = fapi_str(b, "pg_token");
	struct fp_ledger_entry *e;
	struct fp_action *a;
	struct fp_sid *s = NULL;
	int64_t total;

	if (!p || strcmp(p->cid, fapi_str(b, "cid")) != 0 || p->is_charge) {
		err(res, -721);
		return;
	}
	snprintf(res->tid, sizeof(res->tid), "%s", p->tid);
	if (paid(p->status) || p->status == FP_CANCEL_PAYMENT) {
		err(res, -702);
		return;
	}
	if (fstore_in_progress(p->status) && fstore_now_ms() >= p->expires_ms) {
		p->status = FP_FAIL_PAYMENT;
		err(res, -723);
		return;
	}
	if (strcmp(p->partner_order_id, fapi_str(b, "partner_order_id")) != 0) {
		err(res, -706);
		return;
	}
	if (strcmp(p->partner_user_id, fapi_str(b, "partner_user_id")) != 0) {
		err(res, -707);
		return;
	}
	if (p->status == FP_QUIT_PAYMENT || p->status == FP_FAIL_AUTH_PASSWORD ||
	    p->status == FP_FAIL_PAYMENT) {
		err(res, -783);
		return;
	}
	if (!p->pg_token[0]) {
		err(res, -701);
		return;
	}
	if (p->token_used || strcmp(p->pg_token, token) != 0) {
		err(res, -708);
		return;
	}
	if (get_int(b, "total_amount", &total) == 1 && total != p->amount.total) {
		err(res, -725);
		return;
	}
	p->token_used = true;
	if (fault_blocks(fault, res)) {
		if (fault->action == FF_DECLINE)
			p->status = FP_FAIL_PAYMENT;
		return;
	}
	p->payload = fstore_strdup(fapi_str(b, "payload"));
	a = fstore_action_add(p, FP_ACT_PAYMENT, p->amount, p->payload);
	if (!a) {
		err(res, -500);
		return;
	}
	snprintf(p->aid, sizeof(p->aid), "%s", a->aid);
	p->approved_ms = a->at_ms;
	p->status = FP_SUCCESS_PAYMENT;
	if (fstore_cid_kind(p->cid) == FP_CID_SUBSCRIPTION) {
		s = fstore_sid_new(p->cid, p->partner_user_id, p->item_name, p->card);
		if (s) {
			snprintf(p->sid, sizeof(p->sid), "%s", s->sid);
			s->last_approved_ms = p->approved_ms;
			snprintf(res->sid, sizeof(res->sid), "%s", s->sid);
		}
	}
	e = fstore_ledger_add(FP_ACT_PAYMENT, FP_EP_APPROVE, p, p->aid, p->amount.total,
	                      p->payload);
	res->ledger_seq = e ? e->seq : 0;
	res->applied = true;
	ok(res, approve_body(p, s != NULL));
}

/* ---- recurring charge
 * ------------------------------------------------------------------------------ */

static void do_subscription(const cJSON *b, const struct ffault *fault, struct fapi_result *res)
{
	struct fp_sid *s = fstore_sid_get(fapi_str(b, "sid"));
	int64_t total = int_or(b, "total_amount", 0), tax_free = int_or(b, "tax_free_amount", 0);
	int64_t now = fstore_now_ms();
	struct fp_payment *p;
	struct fp_action *a;
	struct fp_ledger_entry *e;
	int32_t month = fstore_month_kst(now);

	if (!s || strcmp(s->cid, fapi_str(b, "cid")) != 0) {
		err(res, -750);
		return;
	}
	snprintf(res->sid, sizeof(res->sid), "%s", s->sid);
	if (s->status == FP_SID_INACTIVE) {
		err(res, -751);
		return;
	}
	if (strcmp(s->partner_user_id, fapi_str(b, "partner_user_id")) != 0) {
		err(res, -753);
		return;
	}
	if (total < 1 || tax_free < 0 || tax_free > total) {
		err(res, -722);
		return;
	}
	if (fstore.cfg.max_amount > 0 && total > fstore.cfg.max_amount) {
		err(res, -797);
		return;
	}
	if (s->month_key != month) {
		s->month_key = month;
		s->month_count = 0;
	}
	if (fstore.cfg.sid_monthly_limit > 0 && s->month_count >= fstore.cfg.sid_monthly_limit) {
		err(res, -752);
		return;
	}
	fstore_poid_use(fapi_str(b, "partner_order_id"));
	if (fault_blocks(fault, res))
		return;
	p = fstore_payment_new(s->cid);
	if (!p) {
		err(res, -500);
		return;
	}
	p->is_charge = true;
	p->card = s->card;
	snprintf(p->sid, sizeof(p->sid), "%s", s->sid);
	p->partner_order_id = fstore_strdup(fapi_str(b, "partner_order_id"));
	p->partner_user_id = fstore_strdup(fapi_str(b, "partner_user_id"));
	p->item_name = fstore_strdup(fapi_str(b, "item_name"));
	p->item_code = fstore_strdup(fapi_str(b, "item_code"));
	p->payload = fstore_strdup(fapi_str(b, "payload"));
	p->quantity = int_or(b, "quantity", 0);
	p->amount.total = total;
	p->amount.tax_free = tax_free;
	p->amount.vat = int_or(b, "vat_amount", (total - tax_free + 5) / 11);
	a = fstore_action_add(p, FP_ACT_PAYMENT, p->amount, p->payload);
	if (!a) {
		err(res, -500);
		return;
	}
	snprintf(p->aid, sizeof(p->aid), "%s", a->aid);
	p->approved_ms = a->at_ms;
	p->status = FP_SUCCESS_PAYMENT;
	s->last_approved_ms = p->approved_ms;
	s->month_count++;
	s->charges++;
	snprintf(res->tid, sizeof(res->tid), "%s", p->tid);
	e = fstore_ledger_add(FP_ACT_PAYMENT, FP_EP_SUBSCRIPTION, p, p->aid, total, p->payload);
	res->ledger_seq = e ? e->seq : 0;
	res->applied = true;
	ok(res, approve_body(p, true));
}

/* ---- SID inactive / status ----------------------------------------------------------------------
 */

static void do_sid(enum fp_endpoint ep, const cJSON *b, const struct ffault *fault,
                   struct fapi_result *res)
{
	struct fp_sid *s = fstore_sid_get(fapi_str(b, "sid"));

	if (!s || strcmp(s->cid, fapi_str(b, "cid")) != 0) {
		err(res, -750);
		return;
	}
	snprintf(res->sid, sizeof(res->sid), "%s", s->sid);
	if (fault_blocks(fault, res))
		return;
	if (ep == FP_EP_INACTIVE && s->status == FP_SID_ACTIVE) {
		s->status = FP_SID_INACTIVE;
		s->inactivated_ms = fstore_now_ms();
		res->applied = true;
	}
	ok(res, sid_body(s, ep == FP_EP_STATUS));
}

/* ---- order lookup
 * ---------------------------------------------------------------------------------- */

static void do_order(const cJSON *b, const struct ffault *fault, struct fapi_result *res)
{
	struct fp_payment *p = fstore_payment_get(fapi_str(b, "tid"));

	if (!p || strcmp(p->cid, fapi_str(b, "cid")) != 0) {
		err(res, -721);
		return;
	}
	snprintf(res->tid, sizeof(res->tid), "%s", p->tid);
	if (fault_blocks(fault, res))
		return;
	ok(res, order_body(p));
}

/* ---- cancel
 * -------------------------------------------------------------------------------------- */

static void do_cancel(const cJSON *b, const struct ffault *fault, struct fapi_result *res)
{
	struct fp_payment *p = fstore_payment_get(fapi_str(b, "tid"));
	int64_t amount = int_or(b, "cancel_amount", 0);
	int64_t tax_free = int_or(b, "cancel_tax_free_amount", 0), avail;
	struct fp_amount rem, c;
	struct fp_action *a;
	struct fp_ledger_entry *e;
	cJSON *o;

	if (!p || strcmp(p->cid, fapi_str(b, "cid")) != 0) {
		err(res, -721);
		return;
	}
	snprintf(res->tid, sizeof(res->tid), "%s", p->tid);
	if (!paid(fstore_effective_status(p))) {
		err(res, -784);
		return;
	}
	if (amount < 1 || tax_free < 0 || tax_free > amount) {
		err_msg(res, -2,
		        amount < 1 ? "cancel_amount must be at least 1"
		                   : "cancel_tax_free_amount must be 0..cancel_amount");
		return;
	}
	rem = remaining(p);
	if (get_int(b, "cancel_available_amount", &avail) == 1 && avail != rem.total) {
		fapi_error(res, 400, -781, NULL, "FAKE_AVAILABLE_MISMATCH",
		           "cancel_available_amount differs from the remaining amount", false);
		return;
	}
	if (amount > rem.total || tax_free > rem.tax_free) {
		err(res, -710);
		return;
	}
	if (fault_blocks(fault, res))
		return;
	c.total = amount;
	c.tax_free = tax_free;
	c.vat = int_or(b, "cancel_vat_amount", (amount - tax_free + 5) / 11);
	a = fstore_action_add(p, FP_ACT_CANCEL, c, fapi_str(b, "payload"));
	if (!a) {
		err(res, -500);
		return;
	}
	p->canceled.total += c.total;
	p->canceled.tax_free += c.tax_free;
	p->canceled.vat += c.vat;
	p->canceled_ms = a->at_ms;
	p->status =
	    p->canceled.total >= p->amount.total ? FP_CANCEL_PAYMENT : FP_PART_CANCEL_PAYMENT;
	e = fstore_ledger_add(FP_ACT_CANCEL, FP_EP_CANCEL, p, a->aid, -amount, a->payload);
	res->ledger_seq = e ? e->seq : 0;
	res->applied = true;
	o = cJSON_CreateObject();
	if (!o) {
		err(res, -500);
		return;
	}
	cJSON_AddStringToObject(o, "aid", a->aid);
	cJSON_AddStringToObject(o, "tid", p->tid);
	cJSON_AddStringToObject(o, "cid", p->cid);
	cJSON_AddStringToObject(o, "status", fstore_status_name(p->status));
	cJSON_AddStringToObject(o, "partner_order_id", p->partner_order_id);
	cJSON_AddStringToObject(o, "partner_user_id", p->partner_user_id);
	cJSON_AddStringToObject(o, "payment_method_type", method_name(p));
	cJSON_AddStringToObject(o, "item_name", p->item_name);
	add_str_or_null(o, "item_code", p->item_code);
	cJSON_AddNumberToObject(o, "quantity", (double)p->quantity);
	cJSON_AddItemToObject(o, "amount", fapi_amount_json(p->amount));
	cJSON_AddItemToObject(o, "approved_cancel_amount", fapi_amount_json(c));
	cJSON_AddItemToObject(o, "canceled_amount", fapi_amount_json(p->canceled));
	cJSON_AddItemToObject(o, "cancel_available_amount", fapi_amount_json(remaining(p)));
	add_ts(o, "created_at", p->created_ms);
	add_ts(o, "approved_at", p->approved_ms);
	add_ts(o, "canceled_at", p->canceled_ms);
	add_str_or_null(o, "payload", a->payload);
	ok(res, o);
}

void fapi_handle(enum fp_endpoint ep, const cJSON *body, const struct ffault *fault,
                 struct fapi_result *res)
{
	switch (ep) {
	case FP_EP_READY:
		do_ready(body, fault, res);
		break;
	case FP_EP_APPROVE:
		do_approve(body, fault, res);
		break;
	case FP_EP_SUBSCRIPTION:
		do_subscription(body, fault, res);
		break;
	case FP_EP_INACTIVE:
	case FP_EP_STATUS:
		do_sid(ep, body, fault, res);
		break;
	case FP_EP_ORDER:
		do_order(body, fault, res);
		break;
	case FP_EP_CANCEL:
		do_cancel(body, fault, res);
		break;
	default:
		err(res, -404);
		break;
	}
}
