/*
 * gateway: how core reaches the payment provider (DESIGN.md §2, KAKAOPAY.md §1).
 *
 * struct pay_gateway is a small table of function pointers, one per operation of KAKAOPAY.md
 * §1.4. external/kakaopay.c implements it over libcurl (kakaopay_gateway_init); tests replace
 * it. Core never includes curl.
 *
 * Every operation borrows a struct pay_request (the fields the operation uses are listed below;
 * the others are ignored) and fills a struct pay_result (the §1.2 result record). It returns 0
 * when the record was filled, whatever the class (a request rejected before sending is class
 * INVALID with sent = false; a local failure such as out of memory is NOT_SENT), and a negative
 * -E_* only for a programming error (NULL argument, unknown operation), leaving res untouched.
 * The record holds no secret: no key, no pg_token; `raw` has the SID masked.
 *
 * Thread safety: an implementation's ctx belongs to one thread at a time (one gateway per
 * worker thread for the blocking implementation).
 */
#ifndef PV_CORE_GATEWAY_H
#define PV_CORE_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pay_outcome.h"

#define PAY_ID_MAX      48   /* tid, aid, sid, cid (20 chars in practice), + NUL */
#define PAY_PARTNER_MAX 101  /* partner_order_id, partner_user_id, item_code: 100 chars + NUL */
#define PAY_TEXT_MAX    404  /* item_name (100 chars), Kakao messages: up to 4 bytes a char */
#define PAY_URL_MAX     1024 /* next_redirect_* */
#define PAY_PAYLOAD_MAX 201
#define PAY_SHORT_MAX   32   /* status, payment_method_type, payment_action_type */
#define PAY_RAW_MAX     1024 /* bounded, redacted copy of the response body */
#define PAY_ACTIONS_MAX 16   /* payment_action_details kept by an order lookup */

/* The fields each operation sends (KAKAOPAY.md §1.5-1.10, API.md §7.9); NULL strings are
 * absent. Strings are borrowed for the duration of the call.
 *   ready:        cid partner_order_id partner_user_id item_name [item_code] quantity
 *                 total_amount tax_free_amount approval_url cancel_url fail_url
 *   approve:      cid tid partner_order_id partner_user_id pg_token total_amount [payload]
 *   subscription: cid sid partner_order_id partner_user_id item_name [item_code] quantity
 *                 total_amount tax_free_amount [payload]
 *   inactive, status: cid sid
 *   order:        cid tid
 *   cancel:       cid tid cancel_amount cancel_tax_free_amount cancel_available_amount
 *                 [payload]
 * item_name is cut to 100 characters at a UTF-8 boundary; every other string over its limit
 * (§1.3) rejects the request before sending (class INVALID). */
struct pay_request {
	const char *cid;
	const char *tid;
	const char *sid;
	const char *partner_order_id;
	const char *partner_user_id;
	const char *item_name;
	const char *item_code;
	const char *pg_token;
	const char *payload;
	const char *approval_url;
	const char *cancel_url;
	const char *fail_url;
	int64_t quantity;
	int64_t total_amount;
	int64_t tax_free_amount;
	int64_t cancel_amount;
	int64_t cancel_tax_free_amount;
	int64_t cancel_available_amount;
};

struct pay_amount {
	bool present;
	int64_t total;
	int64_t tax_free;
	int64_t vat;
	int64_t point;
	int64_t discount;
	int64_t green_deposit;
};

/* One element of an order lookup's payment_action_details (§1.9). */
struct pay_action {
	char aid[PAY_ID_MAX];
	char type[PAY_SHORT_MAX]; /* PAYMENT, CANCEL, ISSUED_SID */
	int64_t amount;
	int64_t approved_at; /* Unix seconds, -1 = null */
	char payload[PAY_PAYLOAD_MAX];
};

/* The result record of KAKAOPAY.md §1.2. Strings are "" when absent, times are Unix seconds
 * (Kakao's zone-less times read as +09:00) or -1 when absent or null. The parsed body fields
 * are meaningful when cls is OK; code/message/method_result_* when the body carried an error
 * (code stays set when cls is OK for -750/-751 on inactive). */
struct pay_result {
	enum pay_op op;
	enum pay_class cls;
	bool sent;
	int http_status; /* 0 when no response arrived */
	int code;        /* Kakao's error code, 0 on success */
	char message[PAY_TEXT_MAX];
	char method_result_code[PAY_SHORT_MAX * 2];
	char method_result_message[PAY_TEXT_MAX];
	/* parsed body (success answers) */
	char tid[PAY_ID_MAX];
	char aid[PAY_ID_MAX];
	char sid[PAY_ID_MAX];
	char cid[PAY_ID_MAX];
	char status[PAY_SHORT_MAX]; /* order, inactive, status, cancel */
	char payment_method_type[PAY_SHORT_MAX];
	char partner_order_id[PAY_PARTNER_MAX];
	char partner_user_id[PAY_PARTNER_MAX];
	char item_name[PAY_TEXT_MAX];
	char payload[PAY_PAYLOAD_MAX];
	char next_redirect_pc_url[PAY_URL_MAX];
	char next_redirect_mobile_url[PAY_URL_MAX];
	int64_t quantity; /* -1 when absent */
	int available;    /* SID status: 1, 0, or -1 when absent */
	struct pay_amount amount;
	struct pay_amount canceled_amount;
	struct pay_amount cancel_available_amount;
	struct pay_amount approved_cancel_amount;
	int64_t created_at;
	int64_t approved_at;
	int64_t canceled_at;
	int64_t last_approved_at;
	int64_t inactivated_at;
	int n_actions; /* payment_action_details kept (at most PAY_ACTIONS_MAX) */
	bool actions_truncated;
	struct pay_action actions[PAY_ACTIONS_MAX];
	/* audit */
	char raw[PAY_RAW_MAX]; /* response body, bounded, SIDs masked */
	bool raw_truncated;
	int64_t t_connect_ms;
	int64_t t_total_ms;
};

typedef int (*pay_gateway_fn)(void *ctx, const struct pay_request *req, struct pay_result *res);

struct pay_gateway {
	void *ctx; /* the implementation's state; borrowed by the table */
	pay_gateway_fn ready;
	pay_gateway_fn approve;
	pay_gateway_fn subscription;
	pay_gateway_fn inactive;
	pay_gateway_fn status;
	pay_gateway_fn order;
	pay_gateway_fn cancel;
};

/* Empty record for op: class UNKNOWN, sent true, every time -1, every string "". */
void pay_result_init(struct pay_result *res, enum pay_op op);

/* Calls the operation op of gw. -E_CONFIG when gw lacks it. */
int pay_gateway_call(const struct pay_gateway *gw, enum pay_op op, const struct pay_request *req,
                     struct pay_result *res);

/* "S123…6789": the first 4 and last 4 chars of a SID (shorter ids: "…"), for logs. */
void pay_mask_id(const char *id, char *out, size_t outlen);

#endif
