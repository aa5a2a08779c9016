/* payment: pure rules of the payment routes (see payment.h). */
#include "core/payment.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/json.h"
#include "common/banned.h"

static const char *const state_names[PAYMENT_STATE_COUNT] = {
    "CREATED", "READY", "APPROVING", "APPROVED", "CANCELED", "FAILED", "EXPIRED", "SUPERSEDED",
};

const char *payment_state_name(enum payment_state s)
{
	if ((int)s < 0 || (int)s >= PAYMENT_STATE_COUNT)
		return NULL;
	return state_names[s];
}

int payment_state_parse(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < PAYMENT_STATE_COUNT; i++)
		if (!strcmp(state_names[i], name))
			return i;
	return -1;
}

bool payment_can_transition(enum payment_state from, enum payment_state to)
{
	switch (from) {
	case PAYMENT_CREATED:
		return to == PAYMENT_READY || to == PAYMENT_FAILED || to == PAYMENT_SUPERSEDED;
	case PAYMENT_READY:
		return to == PAYMENT_APPROVING || to == PAYMENT_APPROVED ||
		       to == PAYMENT_CANCELED || to == PAYMENT_FAILED || to == PAYMENT_EXPIRED ||
		       to == PAYMENT_SUPERSEDED;
	case PAYMENT_APPROVING:
		return to == PAYMENT_READY || to == PAYMENT_APPROVED || to == PAYMENT_CANCELED ||
		       to == PAYMENT_FAILED || to == PAYMENT_EXPIRED;
	default:
		return false;
	}
}

/* Byte length of the first max_chars UTF-8 characters of s. */
static size_t utf8_prefix(const char *s, size_t max_chars)
{
	size_t i = 0, chars = 0;

	while (s[i] && chars < max_chars) {
		i++;
		while ((s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

int payment_item_name(const char *first_product, size_t nlines, char *out, size_t outlen)
{
	char full[1024];
	size_t n;
	int w;

	if (!first_product || nlines == 0 || !out)
		return -1;
	if (nlines > 1)
		w = snprintf(full, sizeof(full), "%s 그 외 %zu개", first_product, nlines - 1);
	else
		w = snprintf(full, sizeof(full), "%s", first_product);
	if (w < 0)
		return -1;
	n = utf8_prefix(full, PAYMENT_ITEM_NAME_CHARS);
	if (n >= outlen)
		return -1;
	memcpy(out, full, n);
	out[n] = '\0';
	return 0;
}

static int fmt(char *out, size_t outlen, int w)
{
	(void)out;
	return (w < 0 || (size_t)w >= outlen) ? -1 : 0;
}

int payment_partner_order_id(int64_t order_id, int64_t ready_no, char *out, size_t outlen)
{
	return fmt(out, outlen,
	           snprintf(out, outlen, "O%" PRId64 "-R%" PRId64, order_id, ready_no));
}

int payment_partner_user_id(int64_t user_id, char *out, size_t outlen)
{
	return fmt(out, outlen, snprintf(out, outlen, "U%" PRId64, user_id));
}

int payment_payload(int64_t payment_id, char *out, size_t outlen)
{
	return fmt(out, outlen, snprintf(out, outlen, "pay:%" PRId64, payment_id));
}

enum payment_lookup payment_lookup_read(const char *status)
{
	static const char *const in_progress[] = {"READY",         "SEND_TMS",    "OPEN_PAYMENT",
	                                          "SELECT_METHOD", "ARS_WAITING", "AUTH_PASSWORD",
	                                          "ISSUED_SID"};
	static const char *const not_paid[] = {"FAIL_AUTH_PASSWORD", "QUIT_PAYMENT",
	                                       "FAIL_PAYMENT"};

	if (!status)
		return PAYMENT_LOOKUP_UNKNOWN;
	if (!strcmp(status, "SUCCESS_PAYMENT"))
		return PAYMENT_LOOKUP_PAID;
	if (!strcmp(status, "PART_CANCEL_PAYMENT") || !strcmp(status, "CANCEL_PAYMENT"))
		return PAYMENT_LOOKUP_REFUNDED;
	for (size_t i = 0; i < sizeof(not_paid) / sizeof(not_paid[0]); i++)
		if (!strcmp(status, not_paid[i]))
			return PAYMENT_LOOKUP_NOT_PAID;
	for (size_t i = 0; i < sizeof(in_progress) / sizeof(in_progress[0]); i++)
		if (!strcmp(status, in_progress[i]))
			return PAYMENT_LOOKUP_IN_PROGRESS;
	return PAYMENT_LOOKUP_UNKNOWN;
}

int payment_gateway_error(enum pay_class cls, int http_status)
{
	if (cls == PAY_OK)
		return 0;
	if ((cls == PAY_UNKNOWN || cls == PAY_RETRY_LATER) && http_status == 0)
		return -E_PAYMENT_GATEWAY_TIMEOUT;
	return -E_PAYMENT_GATEWAY_ERROR;
}

char *payment_approval_json(const char *item_name, const char *payload, int64_t created_at,
                            int64_t approved_at, const struct pay_amount *amount,
                            int64_t quantity)
{
	cJSON *d = cJSON_CreateObject(), *a;
	char *text = NULL;
	int bad = 0;

	if (!d)
		return NULL;
	bad |= !cJSON_AddStringToObject(d, "item_name", item_name ? item_name : "");
	bad |= !cJSON_AddNullToObject(d, "item_code");
	bad |= json_add_ts(d, "created_at", created_at);
	bad |= json_add_ts(d, "approved_at", approved_at);
	bad |= !cJSON_AddStringToObject(d, "payload", payload ? payload : "");
	a = cJSON_AddObjectToObject(d, "amount");
	bad |= !a;
	if (a) {
		bad |= json_add_int(a, "total", amount->total);
		bad |= json_add_int(a, "tax_free", amount->tax_free);
		bad |= json_add_int(a, "vat", amount->vat);
		bad |= json_add_int(a, "discount", amount->discount);
	}
	bad |= json_add_int(d, "quantity", quantity);
	if (!bad)
		text = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return text;
}

const char *payment_action_aid(const struct pay_result *lookup)
{
	for (int i = 0; i < lookup->n_actions; i++)
		if (!strcmp(lookup->actions[i].type, "PAYMENT"))
			return lookup->actions[i].aid;
	return "";
}
