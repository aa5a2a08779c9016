/* order: the pure order rules (see order.h). */
#include "core/order.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"
#include "core/rules.h"
#include "core/user.h"
#include "common/banned.h"

static const char *const order_names[ORDER_STATUS_COUNT] = {
    "REQUEST", "COMPLETE", "PARTIAL_REFUND", "REFUND", "CANCELED",
};

static const char *const sub_names[SUB_STATUS_COUNT] = {
    "SUBSCRIPTION",
    "PAUSED",
    "SUBSCRIBE_PAYMENT_FAIL",
    "SUBSCRIBE_CANCEL",
};

const char *order_status_name(enum order_status s)
{
	if ((int)s < 0 || (int)s >= ORDER_STATUS_COUNT)
		return NULL;
	return order_names[s];
}

enum order_status order_status_parse(const char *name)
{
	if (!name)
		return ORDER_NONE;
	for (int i = 0; i < ORDER_STATUS_COUNT; i++)
		if (!strcmp(order_names[i], name))
			return (enum order_status)i;
	return ORDER_NONE;
}

const char *sub_status_name(enum sub_status s)
{
	if ((int)s < 0 || (int)s >= SUB_STATUS_COUNT)
		return NULL;
	return sub_names[s];
}

int sub_status_parse(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < SUB_STATUS_COUNT; i++)
		if (!strcmp(sub_names[i], name))
			return i;
	return -1;
}

bool order_can_transition(enum order_status from, enum order_status to)
{
	switch (from) {
	case ORDER_NONE:
		/* POST /api/orders, or a renewal order created paid */
		return to == ORDER_REQUEST || to == ORDER_COMPLETE;
	case ORDER_REQUEST:
		/* approved, a failed payment (may be paid again), cancelled or expired */
		return to == ORDER_COMPLETE || to == ORDER_REQUEST || to == ORDER_CANCELED;
	case ORDER_COMPLETE:
	case ORDER_PARTIAL_REFUND:
		/* a confirmed refund, with or without a remaining amount */
		return to == ORDER_PARTIAL_REFUND || to == ORDER_REFUND;
	case ORDER_REFUND:
	case ORDER_CANCELED:
		return false;
	}
	return false;
}

int order_transition_error(enum order_status from, enum order_status to)
{
	if (order_can_transition(from, to))
		return 0;
	if (to == ORDER_PARTIAL_REFUND || to == ORDER_REFUND)
		return -E_ORDER_NOT_REFUNDABLE;
	return -E_ORDER_NOT_PAYABLE;
}

const char *order_rule_lines(size_t n)
{
	return n >= ORDER_LINES_MIN && n <= ORDER_LINES_MAX ? NULL : ORDER_REASON_LINES;
}

const char *order_rule_quantity(bool present, int64_t q)
{
	if (!present)
		return REASON_REQUIRED;
	return rule_quantity(q);
}

const char *order_rule_period(bool present, int64_t p)
{
	if (!present)
		return REASON_REQUIRED;
	return rule_period(p);
}

const char *order_rule_city(const char *v)
{
	return user_rule_required_text(v, 100);
}

const char *order_rule_detail_address(const char *v)
{
	return user_rule_required_text(v, 200);
}

const char *order_rule_real_name(const char *v)
{
	return user_rule_required_text(v, 30);
}

const char *order_rule_phone(const char *v)
{
	if (!v || json_is_blank(v))
		return REASON_BLANK;
	return user_phone_valid(v) ? NULL : ORDER_REASON_PHONE;
}

/* §2.5's table: [operation][status] in the order of enum sub_status (SUBSCRIPTION, PAUSED,
 * SUBSCRIBE_PAYMENT_FAIL, SUBSCRIBE_CANCEL). */
static const bool sub_op_table[SUB_OP_COUNT][SUB_STATUS_COUNT] = {
    [SUB_OP_CHANGE] = {true, true, false, false},     /* period, quantity */
    [SUB_OP_PAUSE] = {true, false, false, false},     /* pause */
    [SUB_OP_RESUME] = {false, true, false, false},    /* resume */
    [SUB_OP_SKIP] = {true, false, false, false},      /* skip next cycle */
    [SUB_OP_CANCEL] = {true, true, true, false},      /* cancel */
    [SUB_OP_CHARGE_NOW] = {true, false, true, false}, /* charge now (admin) */
};

bool sub_op_allowed(enum sub_op op, int sub_status, bool retry_unknown, bool charge_open)
{
	if ((int)op < 0 || (int)op >= SUB_OP_COUNT || sub_status < 0 ||
	    sub_status >= SUB_STATUS_COUNT || !sub_op_table[op][sub_status])
		return false;
	/* cancel is the one operation a charge in flight or UNKNOWN does not block */
	return op == SUB_OP_CANCEL || (!retry_unknown && !charge_open);
}

bool sub_next_date_shown(int sub_status, bool retry_exhausted)
{
	return sub_status != SUB_PAUSED && sub_status != SUB_CANCEL && !retry_exhausted;
}

void order_line_release(struct order_line *l)
{
	free(l->enterprise);
	free(l->thumbnail);
	free(l->product);
	free(l->main_function);
	memset(l, 0, sizeof(*l));
}

void order_release(struct order *o)
{
	for (size_t i = 0; i < o->nlines; i++)
		order_line_release(&o->lines[i]);
	free(o->lines);
	free(o->real_name);
	free(o->phone);
	free(o->city);
	free(o->detail_address);
	memset(o, 0, sizeof(*o));
	o->status = ORDER_NONE;
}

void order_totals(const struct order_line *lines, size_t n, struct price_totals *out)
{
	struct price_totals t = {0};

	for (size_t i = 0; i < n; i++)
		price_totals_add(&t, &lines[i].price, lines[i].quantity);
	*out = t;
}
