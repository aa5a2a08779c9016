/* pay_outcome: the outcome classes of KAKAOPAY.md §1.11.3 and §1.11.4. */
#include "core/pay_outcome.h"

#include <stddef.h>
#include <string.h>

#include "common/banned.h"

int pay_op_moves_money(enum pay_op op)
{
	return op == PAY_OP_APPROVE || op == PAY_OP_SUBSCRIPTION || op == PAY_OP_CANCEL;
}

int pay_op_has_tid(enum pay_op op)
{
	return op == PAY_OP_APPROVE || op == PAY_OP_CANCEL;
}

/* Unclear answers: UNKNOWN when money may have moved, RETRY_LATER for the other calls. */
static enum pay_class unclear(enum pay_op op)
{
	return pay_op_moves_money(op) ? PAY_UNKNOWN : PAY_RETRY_LATER;
}

/* VERIFY needs a tid to look up; without one (recurring charge) the outcome is unknown, and on
 * calls that move no money the code is read as "any other code". */
static enum pay_class verify(enum pay_op op)
{
	if (pay_op_has_tid(op))
		return PAY_VERIFY;
	return pay_op_moves_money(op) ? PAY_UNKNOWN : PAY_INVALID;
}

static int mrc_is(const char *mrc, const char *s)
{
	return mrc != NULL && strcmp(mrc, s) == 0;
}

enum pay_class pay_classify_code(enum pay_op op, int code, const char *mrc)
{
	switch (code) {
	case -2:
		return PAY_INVALID;
	case -400:
	case -401:
	case -403:
	case -404:
		return PAY_CONFIG;
	case -429:
		return PAY_RETRY_LATER;
	case -1: /* legacy internal error (§1.11.1), read as -500 */
	case -500:
	case -503:
	case -9798:
		return unclear(op);
	case -701:
	case -702:
	case -708:
	case -710:
	case -711:
	case -780:
	case -781:
	case -783:
	case -784:
		return verify(op);
	case -703:
	case -704:
	case -706:
	case -707:
	case -721:
	case -722:
	case -724:
	case -725:
	case -726:
	case -753:
		return PAY_INVALID;
	case -705:
		return PAY_DECLINED;
	case -723: /* approve: expired, nothing was charged */
		return PAY_DECLINED;
	case -730:
	case -731:
	case -732:
	case -733:
	case -798:
	case -799:
		return PAY_CONFIG;
	case -750:
	case -751:
		return op == PAY_OP_INACTIVE ? PAY_OK : PAY_SID_DEAD;
	case -752:
	case -797:
		return PAY_LIMIT;
	case -782:
		if (mrc_is(mrc, "USER_LOCKED") || mrc_is(mrc, "BANK_FIRM_UNKNOWN"))
			return PAY_UNKNOWN;
		return PAY_DECLINED;
	case -785:
		return pay_op_has_tid(op) ? PAY_VERIFY : PAY_UNKNOWN;
	default:
		return pay_op_moves_money(op) ? PAY_UNKNOWN : PAY_INVALID;
	}
}

enum pay_class pay_classify(const struct pay_facts *f)
{
	if (!f->sent)
		return PAY_NOT_SENT;
	if (!f->complete || f->http_status == 0)
		return unclear(f->op);
	if (f->http_status >= 300 && f->http_status < 400)
		return unclear(f->op);
	if (f->http_status >= 200 && f->http_status < 300 && f->success_body)
		return PAY_OK;
	if (f->has_code)
		return pay_classify_code(f->op, f->code, f->method_result_code);
	return unclear(f->op);
}

enum pay_outcome pay_class_outcome(enum pay_class c)
{
	switch (c) {
	case PAY_OK:
		return PAY_OUTCOME_APPROVED;
	case PAY_SID_DEAD:
	case PAY_LIMIT:
		return PAY_OUTCOME_DECLINED;
	case PAY_DECLINED:
	case PAY_NOT_SENT:
	case PAY_RETRY_LATER:
	case PAY_INVALID:
	case PAY_CONFIG:
		return PAY_OUTCOME_FAILED;
	case PAY_VERIFY:
	case PAY_UNKNOWN:
	default:
		return PAY_OUTCOME_UNKNOWN;
	}
}

int pay_class_counts_retry(enum pay_class c)
{
	return c == PAY_DECLINED;
}

const char *pay_class_name(enum pay_class c)
{
	static const char *const names[PAY_CLASS__COUNT] = {
	    "OK",    "NOT_SENT", "RETRY_LATER", "DECLINED", "SID_DEAD",
	    "LIMIT", "INVALID",  "CONFIG",      "VERIFY",   "UNKNOWN",
	};
	if ((unsigned)c >= PAY_CLASS__COUNT)
		return "UNKNOWN";
	return names[c];
}

const char *pay_outcome_name(enum pay_outcome o)
{
	switch (o) {
	case PAY_OUTCOME_APPROVED:
		return "APPROVED";
	case PAY_OUTCOME_DECLINED:
		return "DECLINED";
	case PAY_OUTCOME_FAILED:
		return "FAILED";
	case PAY_OUTCOME_UNKNOWN:
	default:
		return "UNKNOWN";
	}
}

const char *pay_op_name(enum pay_op op)
{
	static const char *const names[PAY_OP__COUNT] = {
	    "ready", "approve", "subscription", "inactive", "status", "order", "cancel",
	};
	if ((unsigned)op >= PAY_OP__COUNT)
		return "?";
	return names[op];
}

const char *pay_op_path(enum pay_op op)
{
	static const char *const paths[PAY_OP__COUNT] = {
	    "/online/v1/payment/ready",
	    "/online/v1/payment/approve",
	    "/online/v1/payment/subscription",
	    "/online/v1/payment/manage/subscription/inactive",
	    "/online/v1/payment/manage/subscription/status",
	    "/online/v1/payment/order",
	    "/online/v1/payment/cancel",
	};
	if ((unsigned)op >= PAY_OP__COUNT)
		return NULL;
	return paths[op];
}
