/*
 * billing: integration-test helpers for pillivery-billing (DESIGN.md §5, API.md §2.5-§2.7,
 * KAKAOPAY.md §3). The daemon runs as a black box against the test database, Redis and the
 * fake Kakao Pay of tests/it/main.c; the tests read its effects in SQL, through the API and
 * in the fake's ledger.
 *
 *   env        struct it_bill_env: NAME=value overrides on top of the harness defaults
 *              (no listener, a leader-lock key of the test process, 2 s lease, 250 ms
 *              poll); it_bill_env_at puts the daemon's clock (PV_CLOCK_OFFSET_S) at a local
 *              date and time of the shop's zone (Asia/Seoul, UTC+9, no DST)
 *   --once     it_bill_once: runs `pillivery-billing --once` to its end, output appended to
 *              $PV_IT_VAR/billing.log and kept in the run record
 *   daemon     it_bill_start (own port: $PV_IT_API_PORT + 30 + index, /health awaited),
 *              it_bill_stop (SIGTERM), it_bill_kill9; output appended to billing.log. Every
 *              process started here is SIGKILLed when the test process ends, so a failed test
 *              never leaves a daemon charging behind it
 *   data       it_bill_buy: a subscription bought through the API and the fake (order, ready,
 *              click approve, approve); it_bill_set_dates: F, L, C and the next date in SQL;
 *              it_bill_seed: N due subscriptions through tests/lib/billing_seed.sh;
 *              it_bill_retire: subscriptions cancelled in SQL so later runs skip them
 *   state      it_bill_sub, it_bill_attempts, it_bill_cycles: rows read back from SQL
 *   ledger     it_bill_ledger_check: the fake's ledger against billing_attempt for a set of
 *              subscriptions (see below)
 *
 * Not thread-safe: one Check test process at a time, like the rest of the harness.
 */
#ifndef PV_TESTS_IT_BILLING_H
#define PV_TESTS_IT_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"

/* ---- environment and clock ------------------------------------------------------------------- */

#define IT_BILL_ENV_MAX 40

struct it_bill_env {
	char kv[IT_BILL_ENV_MAX][192];
	size_t n;
};

/* No overrides (the harness defaults apply). */
void it_bill_env_init(struct it_bill_env *e);
/* NAME=printf(fmt, ...), replacing an earlier value of NAME. */
void it_bill_env_set(struct it_bill_env *e, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* PV_CLOCK_OFFSET_S so that the daemon's clock reads local day at hh:mm:ss when it starts. */
void it_bill_env_at(struct it_bill_env *e, int32_t day, int hh, int mm, int ss);

int it_bill_port(int index); /* $PV_IT_API_PORT + 30 + index */
int32_t it_bill_today(void); /* today in Asia/Seoul (days since 1970-01-01), real clock */
/* Seconds to add to the real clock for "now" = local day at hh:mm:ss (Asia/Seoul). */
int64_t it_bill_offset(int32_t day, int hh, int mm, int ss);
void it_bill_day_str(int32_t day, char out[11]); /* "YYYY-MM-DD" */
int32_t it_bill_day(const char *text);           /* the reverse; asserts */

/* ---- running the daemon ---------------------------------------------------------------------- */

struct it_bill_run {
	int status;     /* wait status (-1 unknown) */
	int exit_code;  /* exit status, -1 when it did not exit by itself */
	bool timed_out; /* killed after timeout_ms */
	double seconds;
	char *output; /* stdout + stderr (caller frees with it_bill_run_free) */
};

/* pillivery-billing --once with env (may be NULL); 0 when it ran, -1 when it could not start.
 * The output is appended to billing.log under a header naming the overrides. */
int it_bill_once(const struct it_bill_env *env, int timeout_ms, struct it_bill_run *out);
void it_bill_run_free(struct it_bill_run *r);
/* it_bill_once that must exit 0 within 60 s (else the test fails with the output). Returns
 * the output (caller frees). */
char *it_bill_once_ok_at(struct it_loc at, const struct it_bill_env *env);
#define it_bill_once_ok(env) free(it_bill_once_ok_at(IT_HERE, env))

struct it_bill_daemon {
	pid_t pid;
	int port;
};

/* Starts the daemon on it_bill_port(index) (env overrides on top), waits up to 15 s for
 * GET /health 200. Fails the test when it does not come up. */
void it_bill_start_at(struct it_loc at, int index, const struct it_bill_env *env,
                      struct it_bill_daemon *d);
#define it_bill_start(index, env, d) it_bill_start_at(IT_HERE, index, env, d)
/* SIGTERM, then up to timeout_ms (SIGKILL after). 0 when it exited by itself; *status gets
 * the wait status. */
int it_bill_stop(struct it_bill_daemon *d, int timeout_ms, int *status);
/* SIGTERM; asserts a clean exit 0 within timeout_ms. */
void it_bill_stop_ok_at(struct it_loc at, struct it_bill_daemon *d, int timeout_ms);
#define it_bill_stop_ok(d, ms) it_bill_stop_ok_at(IT_HERE, d, ms)
/* kill -9; asserts it died of SIGKILL. */
void it_bill_kill9_at(struct it_loc at, struct it_bill_daemon *d);
#define it_bill_kill9(d) it_bill_kill9_at(IT_HERE, d)
/* true while the daemon's process runs. */
bool it_bill_alive(const struct it_bill_daemon *d);
/* Prints the last n lines of billing.log to stderr. */
void it_bill_log_tail(int n);

/* ---- data ------------------------------------------------------------------------------------ */

struct it_bill_buy {
	int64_t id;       /* subscription_id */
	int64_t order_id; /* the initial order */
	struct it_ord_item item;
	int quantity;
	int period;
	int32_t first; /* F: the local date of the approval */
	char sid[64];
	char puid[100]; /* partner_user_id */
};

/* A new item (originPrice 12000, 10% off) bought by u as one subscription line (quantity,
 * period) through the API and the fake (order, ready, click approve, approve). */
void it_bill_buy_at(struct it_loc at, const struct it_user *u, int quantity, int period,
                    struct it_bill_buy *out);
#define it_bill_buy(u, q, p, out) it_bill_buy_at(IT_HERE, u, q, p, out)

/* F = L = C = first (the first PAID cycle moves with them) and next_payment_date = next
 * (< 0: NULL), in SQL; call before any other cycle exists. */
void it_bill_set_dates_at(struct it_loc at, int64_t sub_id, int32_t first, int32_t next);
#define it_bill_set_dates(id, first, next) it_bill_set_dates_at(IT_HERE, id, first, next)

struct it_bill_seed {
	int64_t first_id, last_id; /* subscription ids first_id..last_id */
	size_t n;
	int64_t user_id;
	int64_t item_id; /* a new item (originPrice 10000, no discount) */
	char puid[32];   /* "U<user_id>": the partner_user_id of every charge of the seed */
};
/* n subscriptions of a new item due on due (NULL: today), each on its own SID from the fake,
 * through tests/lib/billing_seed.sh; asserts it worked. */
void it_bill_seed_at(struct it_loc at, int n, int period, const char *due,
                     struct it_bill_seed *out);
#define it_bill_seed(n, period, due, out) it_bill_seed_at(IT_HERE, n, period, due, out)
/* The ids of a seed (caller frees). */
int64_t *it_bill_seed_ids(const struct it_bill_seed *s);

/* Subscriptions first..last cancelled in SQL (ADMIN, next date NULL), so that later billing
 * runs of other tests, with their own clocks, leave them alone. */
void it_bill_retire_at(struct it_loc at, int64_t first, int64_t last);
#define it_bill_retire(first, last) it_bill_retire_at(IT_HERE, first, last)

/* ---- state ----------------------------------------------------------------------------------- */

struct it_bill_sub {
	char status[32];
	char retry_state[16];
	int retry_attempts;
	char first[11], last[11], settled[11]; /* F, L, C */
	char next[11];                         /* "" = NULL */
	char failed_cycle[11];                 /* "" = NULL */
	int64_t next_retry_at;                 /* Unix seconds, 0 = NULL */
	int64_t hold_until;                    /* Unix seconds, 0 = NULL */
	char last_failure_code[40];            /* "" = NULL */
	char sid[64];
	int64_t item_id;
	int quantity;
	int period;
};
void it_bill_sub_at(struct it_loc at, int64_t id, struct it_bill_sub *out);
#define it_bill_sub(id, out) it_bill_sub_at(IT_HERE, id, out)

struct it_bill_att {
	int64_t id;
	char cycle[11];
	int attempt_no;
	char status[16];
	char initiated_by[16];
	char outcome[16]; /* "" = NULL */
	bool counted;
	char partner_order_id[100];
	char tid[64]; /* "" = NULL */
	int64_t amount;
	int64_t order_id; /* 0 = NULL */
	bool needs_admin;
	int probe_count;
	char error_code[40]; /* "" = NULL */
	int64_t claimed_at;
};
/* The attempts of a subscription, oldest first; returns how many (at most max are stored). */
size_t it_bill_attempts_at(struct it_loc at, int64_t sub_id, struct it_bill_att *out, size_t max);
#define it_bill_attempts(id, out, max) it_bill_attempts_at(IT_HERE, id, out, max)

struct it_bill_cycle {
	char date[11];
	char status[16];
	int attempts;
	int64_t amount;   /* -1 = NULL */
	int64_t order_id; /* 0 = NULL */
};
/* The subscription_cycles rows, oldest first; returns how many (at most max stored). */
size_t it_bill_cycles_at(struct it_loc at, int64_t sub_id, struct it_bill_cycle *out, size_t max);
#define it_bill_cycles(id, out, max) it_bill_cycles_at(IT_HERE, id, out, max)

/* ---- the fake's ledger against the database -------------------------------------------------- */

/* The ledger's last seq now (entries after it are new). */
int64_t it_bill_ledger_seq_at(struct it_loc at);
#define it_bill_ledger_seq() it_bill_ledger_seq_at(IT_HERE)

struct it_bill_report {
	size_t entries;        /* subscription-charge PAYMENT entries on the set since the seq */
	size_t entries_not_ok; /* of which the client got no normal answer (delivery != ok) */
	size_t attempts;
	size_t approved;
	size_t declined;
	size_t failed;
	size_t pending;
	size_t unknown_admin;   /* UNKNOWN with needs_admin */
	size_t unknown_open;    /* UNKNOWN without */
	size_t unknown_charged; /* UNKNOWN with a ledger entry */
};

/*
 * For the subscriptions subs[0..n) (all of the subscriptions on their SIDs) and the ledger
 * entries after since_seq: every subscription charge on their SIDs carries payload att:<id> of
 * one of their attempts, with that attempt's partner_order_id, SID and amount; no payload and
 * no partner_order_id twice; no (subscription, cycle) charged twice; an attempt with an entry
 * is APPROVED (same tid) or UNKNOWN (with needs_admin when settled); every APPROVED attempt has
 * exactly one entry, a PAID cycle and a COMPLETE renewal order of its amount. settled: also no
 * PENDING attempt and no UNKNOWN one without needs_admin. Fails the test listing the first
 * violations; fills rep (may be NULL).
 */
void it_bill_ledger_check_at(struct it_loc at, const int64_t *subs, size_t n, int64_t since_seq,
                             bool settled, struct it_bill_report *rep);
#define it_bill_ledger_check(subs, n, seq, settled, rep)                                           \
	it_bill_ledger_check_at(IT_HERE, subs, n, seq, settled, rep)

/* PAYMENT entries of the subscription endpoint on sid after since_seq. */
int it_bill_charges_at(struct it_loc at, const char *sid, int64_t since_seq);
#define it_bill_charges(sid, seq) it_bill_charges_at(IT_HERE, sid, seq)

/* ---- fault rules ----------------------------------------------------------------------------- */

/* POST /__control/faults with printf-formatted JSON; returns the rule's id. */
int64_t it_bill_fault_at(struct it_loc at, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define it_bill_fault(...) it_bill_fault_at(IT_HERE, __VA_ARGS__)
/* DELETE /__control/faults/<id> (no assertion: the rule may be gone). */
void it_bill_fault_del(int64_t id);
/* How often rule id fired (GET /__control/faults), -1 when it is not listed. */
int64_t it_bill_fault_fired_at(struct it_loc at, int64_t id);
#define it_bill_fault_fired(id) it_bill_fault_fired_at(IT_HERE, id)

/* Sleeps ms milliseconds (through EINTR). */
void it_bill_sleep_ms(int ms);

#endif
