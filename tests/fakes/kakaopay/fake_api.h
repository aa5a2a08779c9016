/*
 * fake_api: the seven Kakao Pay API endpoints of the fake (KAKAOPAY.md §1.5-1.10 bodies, §4.2
 * field checks, §4.3 logic in its order, and the point where a picked fault acts).
 *
 * Transport-free: the HTTP layer (fake_http) parses, authenticates and delivers; this module
 * turns a parsed JSON body into a struct fapi_result. Not thread-safe: one event loop.
 */
#ifndef PV_FAKE_API_H
#define PV_FAKE_API_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "tests/fakes/kakaopay/fake_faults.h"
#include "tests/fakes/kakaopay/fake_store.h"

struct fapi_result {
	int http_status;
	cJSON *body;         /* owned by the result: fapi_result_release */
	int code;            /* 0 on success, else the error code in body */
	bool fault_acted;    /* the handler reached its fault point with a fault that acts */
	bool applied;        /* the state change was made */
	uint64_t ledger_seq; /* 0 = no ledger entry */
	char tid[FP_ID_LEN];
	char sid[FP_ID_LEN];
};

/* The endpoint of an API path ("/online/v1/payment/ready"...), or FP_EP_COUNT. */
enum fp_endpoint fapi_endpoint(const char *path);
/* Fills res with an error body. legacy: {"code","msg","extras"}. mr_*: may be NULL. */
void fapi_error(struct fapi_result *res, int http_status, int code, const char *message,
                const char *mr_code, const char *mr_message, bool legacy);
/* The default message of a Kakao error code. */
const char *fapi_message(int code);
/* §4.2 field checks (types, required, lengths, cid kind). 0, or -1 with res holding the error. */
int fapi_validate(enum fp_endpoint ep, const cJSON *body, struct fapi_result *res);
/* §4.3: runs the endpoint on a validated body; fault (may be NULL) is the picked rule. */
void fapi_handle(enum fp_endpoint ep, const cJSON *body, const struct ffault *fault,
                 struct fapi_result *res);
/* A string field of a validated body, or NULL. */
const char *fapi_str(const cJSON *body, const char *key);
void fapi_result_release(struct fapi_result *res);
/* {total, tax_free, vat, point, discount, green_deposit} */
cJSON *fapi_amount_json(struct fp_amount a);

#endif
