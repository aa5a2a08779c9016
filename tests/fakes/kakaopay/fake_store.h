/*
 * fake_store: the in-memory state of the fake Kakao Pay server (KAKAOPAY.md §4): its
 * configuration, the fake clock, id generation, payments (by tid), SIDs (by sid), the ledger of
 * applied money movements, partner_order_id use counts and the counters of /__control/counters.
 *
 * Everything lives in one global struct fstore owned by this module; fstore_reset clears the
 * state but keeps the configuration, fstore_release frees everything. Strings in records are
 * malloc'd and owned by the record. Not thread-safe: the fake runs one event loop, which is what
 * makes every state change per tid and per SID atomic.
 */
#ifndef PV_FAKE_STORE_H
#define PV_FAKE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/fakes/kakaopay/fake_map.h"

#define FP_ID_LEN    21 /* 'T'/'A'/'S' + 19 digits + NUL */
#define FP_TOKEN_LEN 21 /* 20 lowercase hex + NUL */
#define FP_TS_LEN    20 /* "2026-01-05T13:45:10" + NUL */
#define FP_CIDS_MAX  8

enum fp_cid_kind { FP_CID_ONETIME = 1, FP_CID_SUBSCRIPTION = 2 };
enum fp_method { FP_MONEY = 0, FP_CARD = 1, FP_MIXED = 2 };

enum fp_status {
	FP_READY = 0,
	FP_OPEN_PAYMENT,
	FP_AUTH_PASSWORD,
	FP_SUCCESS_PAYMENT,
	FP_PART_CANCEL_PAYMENT,
	FP_CANCEL_PAYMENT,
	FP_FAIL_AUTH_PASSWORD,
	FP_QUIT_PAYMENT,
	FP_FAIL_PAYMENT,
};

enum fp_endpoint {
	FP_EP_READY = 0,
	FP_EP_APPROVE,
	FP_EP_SUBSCRIPTION,
	FP_EP_INACTIVE,
	FP_EP_STATUS,
	FP_EP_ORDER,
	FP_EP_CANCEL,
	FP_EP_COUNT
};

struct fp_config {
	char listen_host[64];
	int listen_port;
	char public_url[256];
	char secret_key[256];
	struct {
		char cid[16];
		enum fp_cid_kind kind;
	} cids[FP_CIDS_MAX];
	size_t ncids;
	int64_t ttl_s;
	int64_t latency_min_ms, latency_max_ms;
	char faults_file[512];
	uint64_t seed;
	enum fp_method method;
	int64_t sid_monthly_limit;
	int64_t max_amount;
	char allowed_hosts[512]; /* comma-separated, "" = any */
	bool control;
	bool log;
};

struct fp_amount {
	int64_t total, tax_free, vat;
};

enum fp_action_type { FP_ACT_PAYMENT = 0, FP_ACT_CANCEL };

struct fp_action {
	char aid[FP_ID_LEN];
	enum fp_action_type type;
	int64_t at_ms;
	struct fp_amount amount;
	char *payload; /* NULL when absent */
};

struct fp_payment {
	char tid[FP_ID_LEN];
	char aid[FP_ID_LEN]; /* the approve's (or charge's) aid, "" before */
	char cid[16];
	char sid[FP_ID_LEN]; /* "" unless a SID was issued or charged */
	char pg_token[FP_TOKEN_LEN];
	bool token_used;
	bool card;
	bool is_charge; /* made by a recurring charge */
	enum fp_status status;
	char *partner_order_id, *partner_user_id, *item_name,
	    *item_code;                             /* item_code may be NULL */
	char *approval_url, *cancel_url, *fail_url; /* NULL for charges */
	char *payload;                              /* approve / charge payload, may be NULL */
	int64_t quantity;
	struct fp_amount amount, canceled;
	int64_t created_ms, expires_ms, approved_ms, canceled_ms; /* 0 = not yet */
	struct fp_action *actions;
	size_t nactions;
};

enum fp_sid_status { FP_SID_ACTIVE = 0, FP_SID_INACTIVE };

struct fp_sid {
	char sid[FP_ID_LEN];
	char cid[16];
	char *partner_user_id;
	char *item_name;
	bool card;
	enum fp_sid_status status;
	int64_t created_ms, last_approved_ms, inactivated_ms; /* 0 = null */
	int32_t month_key;                                    /* yyyymm (KST) of month_count */
	int64_t month_count;
	int64_t charges;
};

enum fp_delivery {
	FP_DLV_OK = 0,
	FP_DLV_ERROR,
	FP_DLV_HANG,
	FP_DLV_DROP,
	FP_DLV_PARTIAL,
	FP_DLV_GARBAGE
};

struct fp_ledger_entry {
	uint64_t seq;
	int64_t at_ms;
	enum fp_action_type kind;
	enum fp_endpoint endpoint;
	enum fp_delivery delivery;
	char cid[16];
	char tid[FP_ID_LEN];
	char aid[FP_ID_LEN];
	char sid[FP_ID_LEN];
	char *partner_order_id, *partner_user_id, *payload;
	int64_t amount;
};

#define FP_LAT_BUCKETS 60001 /* 1 ms buckets up to 60 s, the last one is "more" */

struct fp_counters {
	uint64_t requests[FP_EP_COUNT];
	uint64_t applied[FP_EP_COUNT];
	struct fmap codes[FP_EP_COUNT];  /* "<code>" -> (uintptr_t) count */
	struct fmap faults[FP_EP_COUNT]; /* action name -> (uintptr_t) count */
	uint64_t in_flight, in_flight_max;
	uint64_t connections, connections_max;
	uint64_t auth_failures;
	uint64_t dup_partner_order_id;
	uint64_t lat_n;
	uint32_t *lat; /* FP_LAT_BUCKETS */
};

struct fstore {
	struct fp_config cfg;
	int64_t clock_offset_ms;
	uint64_t rng;
	uint64_t id_seq;
	uint64_t id_base;     /* 10 digits fixed at start */
	struct fmap payments; /* tid -> struct fp_payment */
	struct fmap sids;     /* sid -> struct fp_sid */
	struct fmap poids;    /* partner_order_id -> (uintptr_t) uses */
	struct fp_ledger_entry *ledger;
	size_t nledger, ledger_cap;
	uint64_t next_seq;
	struct fp_counters ctr;
};

extern struct fstore fstore;

/* Fills fstore.cfg from the PV_FAKEPAY_* environment. 0, or -1 after writing why into err. */
int fstore_config_from_env(char *err, size_t errlen);
/* Parses "N" or "MIN-MAX" into the latency range. 0 or -1. */
int fstore_parse_latency(const char *s, int64_t *min_ms, int64_t *max_ms);
int fstore_init(void);   /* after the configuration: ids, rng, counters. 0 or -1 */
void fstore_reset(void); /* clears state, counters and the clock offset; keeps the config */
void fstore_release(void);

/* The fake clock: real time plus the offset of /__control/clock. */
int64_t fstore_now_ms(void);
/* "yyyy-MM-ddTHH:mm:ss" in KST; ms <= 0 gives "". */
void fstore_format_kst(int64_t ms, char out[FP_TS_LEN]);
/* yyyymm of ms in KST. */
int32_t fstore_month_kst(int64_t ms);

/* A new id: prefix 'T', 'A' or 'S' followed by 19 digits, unique for the process. */
void fstore_new_id(char prefix, char out[FP_ID_LEN]);
void fstore_new_token(char out[FP_TOKEN_LEN]);
uint64_t fstore_rand(void); /* seeded xorshift */
double fstore_rand01(void); /* [0, 1) */

/* Kind of a configured cid, 0 when unknown. */
enum fp_cid_kind fstore_cid_kind(const char *cid);
bool fstore_card(void); /* payment_method_type CARD for a new payment (PV_FAKEPAY_METHOD) */

const char *fstore_status_name(enum fp_status s);
const char *fstore_endpoint_name(enum fp_endpoint e);
const char *fstore_delivery_name(enum fp_delivery d);
/* A payment's status as read now: an in-progress payment past its expiry reads FAIL_PAYMENT. */
enum fp_status fstore_effective_status(const struct fp_payment *p);
bool fstore_in_progress(enum fp_status s);
/* "S123…6789" (for logs). */
void fstore_mask_sid(const char *sid, char *out, size_t n);

/* New records, registered in their maps (owned by the store). NULL when out of memory. */
struct fp_payment *fstore_payment_new(const char *cid);
struct fp_sid *fstore_sid_new(const char *cid, const char *partner_user_id, const char *item_name,
                              bool card);
struct fp_payment *fstore_payment_get(const char *tid);
struct fp_sid *fstore_sid_get(const char *sid);
/* Appends an action to p. NULL when out of memory. payload is copied (may be NULL). */
struct fp_action *fstore_action_add(struct fp_payment *p, enum fp_action_type type,
                                    struct fp_amount amount, const char *payload);
/* Appends a ledger entry (seq strictly increasing, no gaps). NULL when out of memory. */
struct fp_ledger_entry *fstore_ledger_add(enum fp_action_type kind, enum fp_endpoint ep,
                                          const struct fp_payment *p, const char *aid,
                                          int64_t amount, const char *payload);
/* Counts a use of partner_order_id; returns the number of uses including this one. */
uint64_t fstore_poid_use(const char *partner_order_id);

/* Counters. */
void fstore_count_code(enum fp_endpoint ep, int code);
void fstore_count_fault(enum fp_endpoint ep, const char *action);
void fstore_count_latency(int64_t ms);
/* The q-quantile (0..1) of the recorded latencies, in ms (-1 when none). */
int64_t fstore_latency_quantile(double q);

/* strdup that accepts NULL. */
char *fstore_strdup(const char *s);

#endif
