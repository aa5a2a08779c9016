/*
 * billing: the recurring charge of API.md §2.7 and KAKAOPAY.md §3, shared by the billing
 * daemon (batch/) and the admin "charge now" route (API.md §7.7): one attempt record, one
 * condensed gateway answer, the rules that turn a charge answer into an outcome class, and the
 * synchronous charge used by the API.
 *
 * An attempt (struct billing_attempt) is a billing_attempt row committed PENDING before the
 * call (store_billing_claim*); its outcome is applied by store_billing_apply. The same code
 * path and the same per-attempt unique keys serve the daemon and charge-now, so a cycle is
 * charged at most once whoever charges it.
 *
 * Thread-safe except billing_charge_now, whose db and gw belong to the calling thread.
 */
#ifndef PV_CORE_BILLING_H
#define PV_CORE_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gateway.h"
#include "core/retry.h"

struct db;

/* Comparisons with Kakao Pay's clock allow this much skew (KAKAOPAY.md §3). */
#define BILLING_SKEW_S 5

enum billing_by { BILLING_BY_SCHEDULE = 0, BILLING_BY_RETRY, BILLING_BY_ADMIN };

/* One PENDING attempt, as claimed (what the charge call sends). */
struct billing_attempt {
	int64_t id; /* billing_attempt_id; payload att:<id> */
	int64_t subscription_id;
	int64_t item_id;
	int32_t cycle_date; /* local day */
	int attempt_no;
	enum billing_by by;
	int64_t quantity;
	int64_t amount;
	int64_t claimed_at;
	char cid[PAY_ID_MAX];
	char sid[PAY_ID_MAX];
	char partner_order_id[PAY_PARTNER_MAX];
	char partner_user_id[PAY_PARTNER_MAX];
	char item_name[PAY_TEXT_MAX];
	char payload[PAY_PAYLOAD_MAX];
};

/* What store_billing_apply needs of a gateway answer (a pay_result is ~10 KiB; this is the
 * part worth keeping while a batch waits to be written). */
struct billing_answer {
	enum pay_class cls;
	char tid[PAY_ID_MAX];
	char aid[PAY_ID_MAX];
	char payment_method_type[PAY_SHORT_MAX];
	struct pay_amount amount;
	int64_t created_at;  /* -1 when absent */
	int64_t approved_at; /* -1 when absent */
	char error_code[32]; /* "-782", "TIMEOUT", "NETWORK", "HTTP_5XX", "ORPHANED"; "" on OK */
	char message[PAY_TEXT_MAX];
	char method_result_code[PAY_SHORT_MAX * 2];
};

/* The request of one charge (borrows a's strings: a must outlive the call). */
void billing_charge_request(const struct billing_attempt *a, struct pay_request *req);
/* The SID status request used to probe a's SID. */
void billing_status_request(const struct billing_attempt *a, struct pay_request *req);

/* Condenses a charge answer; cls is the class to record (after billing_confirm_decline). */
void billing_answer_from_result(const struct pay_result *res, enum pay_class cls,
                                struct billing_answer *out);
/* An answer of class cls with only an error code and message (e.g. ORPHANED). */
void billing_answer_error(enum pay_class cls, const char *code, const char *message,
                          struct billing_answer *out);

/* 1 when a DECLINED charge answer needs the immediate SID status probe of KAKAOPAY.md
 * §1.11.4 before it may count as declined (-782 without a known method_result_code), else 0. */
int billing_decline_needs_probe(const struct pay_result *charge);
/*
 * The class of a declined charge once its SID was probed: DECLINED when the probe proves
 * that last_approved_at did not move since claimed_at (null, or earlier than claimed_at -
 * BILLING_SKEW_S), UNKNOWN otherwise (moved, or the probe itself failed).
 */
enum pay_class billing_confirm_decline(const struct pay_result *probe, int64_t claimed_at);

/* What a reconciler probe of an UNKNOWN attempt shows (KAKAOPAY.md §3). */
enum billing_probe { BILLING_PROBE_ERROR = 0, BILLING_PROBE_NOT_CHARGED, BILLING_PROBE_MAYBE_CHARGED };
enum billing_probe billing_probe_verdict(const struct pay_result *probe, int64_t claimed_at);

/* "S7-C20260306-A2" (API.md §7.9). 0 or -E_TOO_LONG. */
int billing_partner_order_id(int64_t subscription_id, int32_t cycle_date, int attempt_no,
                             char *out, size_t outlen);
/* The approve-shaped JSON of API.md §7.3 for an approved attempt (caller frees), NULL on
 * allocation failure. */
char *billing_approval_json(const struct billing_attempt *a, const struct billing_answer *ans,
                            int64_t now);

/* What charge-now answered. */
struct billing_now_result {
	enum pay_class cls; /* OK when charged (or already paid) */
	char *approval_json; /* OK: the approve JSON (caller frees) */
};

/*
 * Admin "charge now" (API.md §7.7): claims the subscription's current cycle (one
 * transaction), charges it through gw (with the decline probe), applies the outcome through
 * store_billing_apply, and fills out. Returns 0 (see out->cls: OK, a decline class, a failure
 * class or UNKNOWN), -E_SUBSCRIPTION_NOT_FOUND, -E_SUBSCRIPTION_STATE_CONFLICT, or a database
 * error. claimed_by names the instance (host:pid) for the attempt row.
 */
int billing_charge_now(struct db *db, const struct pay_gateway *gw, const struct retry_policy *p,
                       int64_t subscription_id, const char *claimed_by, int64_t now,
                       struct billing_now_result *out);

#endif
