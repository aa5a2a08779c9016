/*
 * fakepay: integration-test helpers for the fake Kakao Pay server (KAKAOPAY.md §4), which
 * tests/it/main.c starts on 127.0.0.1:$PV_IT_API_PORT+10 before pillivery-api.
 *
 *   process    it_fp_start / it_fp_stop (used by main.c)
 *   API        it_fp_api: a POST to /online/v1/payment/<endpoint> with the test key; it_fp_raw
 *              for requests with other headers
 *   control    it_fp_ctl: /__control/<path>
 *   scenarios  struct it_fp_pay: unique partner ids, ready, click, approve, a paid payment
 *   asserts    it_fp_assert_error: the new error shape with a code
 *
 * Responses are struct it_resp (tests/it/lib/it.h): the caller frees them with it_resp_free.
 * Not thread-safe: one Check test process at a time.
 */
#ifndef PV_TESTS_IT_FAKEPAY_H
#define PV_TESTS_IT_FAKEPAY_H

#include <stdint.h>
#include <sys/types.h>

#include "tests/it/lib/it.h"

#define IT_FP_KEY        "it-fakepay-secret-key-0123456789"
#define IT_FP_SEED       "4242"
#define IT_FP_ONETIME    "TC0ONETIME"
#define IT_FP_SUB        "TCSUBSCRIP"
#define IT_FP_TIMEOUT_MS 10000

int it_fp_port(void); /* $PV_IT_API_PORT + 10 */
/* Starts $PV_IT_BIN_DIR/fake-kakaopay (log: $PV_IT_VAR/fakepay.log) in its own process group and
 * waits up to 10 s for GET /__control/health. Returns its pid, or -1 after printing why. */
pid_t it_fp_start(void);
/* SIGTERM, then waits up to 10 s (SIGKILL after). 0 when it exited by itself; *status gets
 * the wait status. */
int it_fp_stop(pid_t pid, int *status);

/* POST path with headers (NULL-terminated, may be NULL) and body. Returns 0 or -1 (out->error). */
int it_fp_raw(const char *method, const char *path, const char *const *headers, const char *body,
              int timeout_ms, struct it_resp *out);
/* POST /online/v1/payment/<endpoint> with the key and JSON; fails the test on a transport error. */
void it_fp_api_at(struct it_loc at, const char *endpoint, const char *json, struct it_resp *out);
#define it_fp_api(ep, json, out) it_fp_api_at(IT_HERE, ep, json, out)
/* The same without the transport assertion, with a timeout. Returns 0 or -1. */
int it_fp_api_to(const char *endpoint, const char *json, int timeout_ms, struct it_resp *out);
/* method /__control<path> with an optional JSON body; fails the test on a transport error. */
void it_fp_ctl_at(struct it_loc at, const char *method, const char *path, const char *json,
                  struct it_resp *out);
#define it_fp_ctl(m, path, json, out) it_fp_ctl_at(IT_HERE, m, path, json, out)

struct it_fp_pay {
	char cid[16];
	char poid[64];
	char puid[64];
	char tid[32];
	char token[32];
	char sid[32];
	char aid[32];
	int64_t amount;
};

/* Unique partner_order_id and partner_user_id for cid and amount (no request). */
void it_fp_pay_init(struct it_fp_pay *p, const char *cid, int64_t amount);
/* The ready body of p into buf. */
void it_fp_ready_json(const struct it_fp_pay *p, char *buf, size_t n);
/* The approve body of p (pg_token = p->token, total_amount = p->amount, payload "pay:<tid>"). */
void it_fp_approve_json(const struct it_fp_pay *p, char *buf, size_t n);
/* ready → 200, stores tid. */
void it_fp_ready_at(struct it_loc at, struct it_fp_pay *p);
/* /__control/click → 200; the location into loc; for approve the pg_token into p->token. */
void it_fp_click_at(struct it_loc at, struct it_fp_pay *p, const char *action, char *loc, size_t n);
/* ready, click approve, approve → 200 (stores aid, and sid for a subscription CID). */
void it_fp_paid_at(struct it_loc at, struct it_fp_pay *p);
/* Pays order_id of u end to end through pillivery-api and the fake: POST /api/payments/{id}
 * (201), click approve, GET /api/payments/approve/{id}?pg_token= (200). */
void it_fp_pay_order_at(struct it_loc at, const struct it_user *u, int64_t order_id);
#define it_fp_pay_order(u, order_id)   it_fp_pay_order_at(IT_HERE, u, order_id)
#define it_fp_ready(p)                 it_fp_ready_at(IT_HERE, p)
#define it_fp_click(p, action, loc, n) it_fp_click_at(IT_HERE, p, action, loc, n)
#define it_fp_paid(p)                  it_fp_paid_at(IT_HERE, p)

/* Ledger entries of GET /__control/ledger?<query> (caller frees with cJSON_Delete). */
cJSON *it_fp_ledger_at(struct it_loc at, const char *query);
#define it_fp_ledger(q) it_fp_ledger_at(IT_HERE, q)
/* Entries of the ledger whose tid (or sid when tid is NULL) matches. */
int it_fp_ledger_count_at(struct it_loc at, const char *tid, const char *sid);
#define it_fp_ledger_count(tid, sid) it_fp_ledger_count_at(IT_HERE, tid, sid)
/* GET /__control/tid/<tid> → a field of the raw state (string, caller frees) */
char *it_fp_tid_field_at(struct it_loc at, const char *tid, const char *field);
#define it_fp_tid_field(tid, f) it_fp_tid_field_at(IT_HERE, tid, f)
/* POST /__control/faults with rule JSON → its id. */
int64_t it_fp_fault_at(struct it_loc at, const char *rule_json);
#define it_fp_fault(rule) it_fp_fault_at(IT_HERE, rule)

/* status, {"error_code":code,"error_message":<non-empty>,"extras":{...}} exactly. */
void it_fp_assert_error_at(struct it_loc at, const struct it_resp *r, long status, int code);
#define it_fp_assert_error(r, st, code) it_fp_assert_error_at(IT_HERE, r, st, code)

#endif
