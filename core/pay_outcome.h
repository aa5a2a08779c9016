/*
 * pay_outcome: what a payment gateway answer means (KAKAOPAY.md §1.11, API.md §2.7).
 *
 * pay_classify is a pure function from the facts of one call (operation, transport facts, HTTP
 * status, the body's error code and extras.method_result_code) to an outcome class of §1.11.3.
 * pay_class_outcome groups the classes into the four outcomes the billing logic acts on.
 * No I/O, no allocation; thread-safe.
 */
#ifndef PV_CORE_PAY_OUTCOME_H
#define PV_CORE_PAY_OUTCOME_H

#include <stdbool.h>

/* The seven gateway operations (KAKAOPAY.md §1.4). */
enum pay_op {
	PAY_OP_READY = 0,
	PAY_OP_APPROVE,
	PAY_OP_SUBSCRIPTION, /* recurring charge with a SID */
	PAY_OP_INACTIVE,     /* SID inactivation */
	PAY_OP_STATUS,       /* SID status */
	PAY_OP_ORDER,        /* order lookup by tid */
	PAY_OP_CANCEL,       /* cancel / refund */
	PAY_OP__COUNT
};

/* Outcome classes (KAKAOPAY.md §1.11.3). */
enum pay_class {
	PAY_OK = 0,
	PAY_NOT_SENT,    /* provably never left */
	PAY_RETRY_LATER, /* refused before processing (-429; -500/-503 on a read call) */
	PAY_DECLINED,    /* refused; the retry policy applies */
	PAY_SID_DEAD,    /* hard decline: SID unknown or inactive */
	PAY_LIMIT,       /* hard decline: SID or per-payment limit */
	PAY_INVALID,     /* our request is wrong */
	PAY_CONFIG,      /* keys, CID, IP or domain wrong */
	PAY_VERIFY,      /* a tid is known: look the order up */
	PAY_UNKNOWN,     /* outcome unknown: never retried blindly */
	PAY_CLASS__COUNT
};

/* The four outcomes (the last paragraph of §1.11.3). */
enum pay_outcome {
	PAY_OUTCOME_APPROVED = 0, /* OK */
	PAY_OUTCOME_DECLINED,     /* hard decline, never retried: SID_DEAD, LIMIT */
	PAY_OUTCOME_FAILED,       /* no money moved, retryable: DECLINED (retry policy), NOT_SENT,
	                             RETRY_LATER, INVALID, CONFIG (outside it) */
	PAY_OUTCOME_UNKNOWN       /* UNKNOWN, and VERIFY until its lookup decides */
};

/* The facts of one call, as the transport layer saw them. */
struct pay_facts {
	enum pay_op op;
	bool sent;         /* false only when the request provably never left (§1.2) */
	bool complete;     /* a whole HTTP response arrived: no timeout, drop, or oversize body */
	int http_status;   /* 0 when no response arrived */
	bool success_body; /* 2xx and a JSON object with the operation's required fields */
	bool has_code;     /* the body carried error_code (new shape) or code (legacy shape) */
	int code;          /* Kakao's (negative) error code when has_code */
	const char *method_result_code; /* extras.method_result_code, NULL or "" when absent */
};

/* 1 for approve, subscription and cancel (they move money), 0 otherwise. */
int pay_op_moves_money(enum pay_op op);
/* 1 when the request carries a tid the caller can look up (approve, cancel). */
int pay_op_has_tid(enum pay_op op);

/* The class of one call. Rules, in order:
 *   not sent → NOT_SENT;
 *   no complete response (timeout after sending, drop, partial or oversize body) or a 3xx →
 *     UNKNOWN on money calls, RETRY_LATER otherwise;
 *   2xx with a success body → OK;
 *   an error code → the table of §1.11.4 (-750/-751 on inactive count as done: OK);
 *   anything else (unparsable, neither key) → UNKNOWN on money calls, RETRY_LATER otherwise. */
enum pay_class pay_classify(const struct pay_facts *f);

/* The class of an error code alone, for op (the §1.11.4 table). */
enum pay_class pay_classify_code(enum pay_op op, int code, const char *method_result_code);

enum pay_outcome pay_class_outcome(enum pay_class c);
/* 1 for DECLINED only: the classes counted by the retry policy (API.md §2.7). */
int pay_class_counts_retry(enum pay_class c);

const char *pay_class_name(enum pay_class c);     /* "OK", "NOT_SENT", ... */
const char *pay_outcome_name(enum pay_outcome o); /* "APPROVED", "DECLINED", "FAILED", "UNKNOWN" */
const char *pay_op_name(enum pay_op op);          /* "ready", "approve", ... */
const char *pay_op_path(enum pay_op op);          /* "/online/v1/payment/ready", ... */

#endif
