/*
 * kakaopay: the Kakao Pay client over libcurl (KAKAOPAY.md §1, API.md §7.9).
 *
 * One request/response layer (JSON body, headers, transport options, response cap, error
 * parser, classification through core/pay_outcome) with two drivers:
 *   - blocking: struct kakaopay_client, one CURL easy handle, for one thread (API workers);
 *     kakaopay_gateway_init exposes it as core's struct pay_gateway;
 *   - multi: struct kakaopay_multi, one CURL multi handle driven by an event loop in the
 *     hiperfifo style (the loop watches the sockets and the single timer the library asks for,
 *     and calls back kakaopay_multi_socket_action / kakaopay_multi_timeout).
 * Money calls (approve, subscription, cancel) always use a fresh connection that is closed
 * afterwards; the other calls reuse connections from a bounded cache. No library retries.
 *
 * The library never logs and never keeps a secret in a result. curl_global_init must have run
 * once before any client is created. A client or multi belongs to one thread at a time.
 */
#ifndef PV_EXTERNAL_KAKAOPAY_H
#define PV_EXTERNAL_KAKAOPAY_H

#include <stddef.h>

#include "common/cfg.h"
#include "core/gateway.h"

#define KAKAOPAY_DEFAULT_BASE_URL   "https://open-api.kakaopay.com"
#define KAKAOPAY_CONNECT_TIMEOUT_MS 3000
#define KAKAOPAY_TIMEOUT_MS         15000
#define KAKAOPAY_MAX_RESPONSE       (1024 * 1024)
#define KAKAOPAY_MAX_CONNECTS       4

/* Strings are copied by kakaopay_client_new / kakaopay_multi_new. 0 or NULL = the default. */
struct kakaopay_config {
	const char *base_url;   /* https://..., or http:// for a loopback host only */
	const char *secret_key; /* required; sent as "Authorization: SECRET_KEY <key>" */
	const char *cid_secret; /* optional; sent as cid_secret when non-empty */
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_response; /* bytes; bigger answers are incomplete (UNKNOWN on money calls) */
	long max_connects;   /* connection cache size for read calls */
};

/* The Kakao Pay client (KAKAOPAY.md §0); the CIDs are the API's own options. */
#define KAKAOPAY_CFG_OPTS                                                                          \
	{"PV_KAKAOPAY_BASE_URL", CFG_STR, "https://open-api.kakaopay.com", 1, 255, 0,              \
	 "Kakao Pay API base URL (http:// only for a loopback host)"},                             \
	    {"PV_KAKAOPAY_SECRET_KEY", CFG_SECRET, NULL, 1, 0, CFG_REQUIRED,                       \
	     "Kakao Pay secret key (Authorization: SECRET_KEY ...)"},                              \
	    {"PV_KAKAOPAY_CID_SECRET", CFG_SECRET, "", 0, 0, 0, "cid_secret sent when set"},       \
	    {"PV_KAKAOPAY_CONNECT_TIMEOUT_MS", CFG_INT, "3000", 100, 60000, 0,                    \
	     "Kakao Pay connect timeout"},                                                         \
	{                                                                                          \
		"PV_KAKAOPAY_TIMEOUT_MS", CFG_INT, "15000", 100, 120000, 0,                        \
		    "Kakao Pay whole-request timeout"                                              \
	}

/* The settings of KAKAOPAY_CFG_OPTS from a loaded table (strings borrowed from c). */
struct kakaopay_config kakaopay_cfg_read(const struct cfg *c);

/* 0, or -E_CONFIG (missing key, bad URL, http:// on a non-loopback host, bad timeout). */
int kakaopay_config_check(const struct kakaopay_config *cfg);

/* ---- blocking ------------------------------------------------------------------------ */

struct kakaopay_client;

int kakaopay_client_new(const struct kakaopay_config *cfg, struct kakaopay_client **out);
void kakaopay_client_free(struct kakaopay_client *c); /* accepts NULL */

/* One call; blocks for at most the configured timeout. Returns 0 with res filled (see
 * core/gateway.h), -E_CONFIG on a NULL argument or an unknown op. */
int kakaopay_call(struct kakaopay_client *c, enum pay_op op, const struct pay_request *req,
                  struct pay_result *res);

/* Fills gw with the seven operations over c (borrowed: c must outlive gw). */
void kakaopay_gateway_init(struct pay_gateway *gw, struct kakaopay_client *c);

/* ---- multi (event loop) ---------------------------------------------------------------- */

struct kakaopay_multi;

#define KAKAOPAY_WANT_IN     1
#define KAKAOPAY_WANT_OUT    2
#define KAKAOPAY_WANT_REMOVE 4

/* What the event loop provides (the hiperfifo pattern):
 *   socket(arg, fd, want, sockp): watch fd for want (IN, OUT or both), or stop watching it
 *     (REMOVE). sockp is what the loop stored with kakaopay_multi_assign for fd (NULL at first).
 *   timer(arg, timeout_ms): (re)arm the one timer; -1 deletes it. When it fires, the loop
 *     calls kakaopay_multi_timeout. 0 means "as soon as possible" (from the loop, not inline). */
struct kakaopay_multi_hooks {
	void *arg;
	void (*socket)(void *arg, int fd, int want, void *sockp);
	void (*timer)(void *arg, long timeout_ms);
};

/* Called once per request, from kakaopay_multi_socket_action / _timeout / _free, with the
 * filled record (borrowed for the duration of the call). It may add new requests. */
typedef void (*kakaopay_done_fn)(void *arg, const struct pay_result *res);

/* max_in_flight bounds the requests added and not yet completed (0 = 1024). */
int kakaopay_multi_new(const struct kakaopay_config *cfg, const struct kakaopay_multi_hooks *hooks,
                       size_t max_in_flight, struct kakaopay_multi **out);
/* Completes every request still in flight as a timeout would (UNKNOWN on money calls,
 * RETRY_LATER on the others, NOT_SENT when nothing left), then frees. hooks.socket may be
 * called with REMOVE meanwhile. Not from inside a done callback. Accepts NULL. */
void kakaopay_multi_free(struct kakaopay_multi *m);

/* Starts one request; the request is built (and copied) before this returns, so req may be
 * freed at once. Returns 0 (done will be called exactly once, never from inside this call),
 * -E_SERVICE_UNAVAILABLE when max_in_flight requests are running, -E_NOMEM, or -E_CONFIG on a
 * bad argument (done is then never called). A request rejected before sending completes with
 * class INVALID through done like any other. */
int kakaopay_multi_add(struct kakaopay_multi *m, enum pay_op op, const struct pay_request *req,
                       kakaopay_done_fn done, void *arg);

/* The loop saw fd ready for events (KAKAOPAY_WANT_IN / _OUT bits; 0 = unknown). */
void kakaopay_multi_socket_action(struct kakaopay_multi *m, int fd, int events);
/* The timer armed through hooks.timer fired. */
void kakaopay_multi_timeout(struct kakaopay_multi *m);
/* Stores the loop's own pointer for fd; it comes back as sockp in hooks.socket. */
int kakaopay_multi_assign(struct kakaopay_multi *m, int fd, void *sockp);
size_t kakaopay_multi_in_flight(const struct kakaopay_multi *m);

/* ---- the shared layer, exposed for tests ------------------------------------------------ */

/* Builds the JSON body of op from req (cid_secret added when non-empty). 0 with *out a
 * malloc'd NUL-terminated string (caller frees), -E_VALIDATION_FAILED (with a short reason in
 * why) when a field is missing or too long, -E_NOMEM. */
int kakaopay_build_body(enum pay_op op, const struct pay_request *req, const char *cid_secret,
                        char **out, char *why, size_t whylen);

/* Fills res (already pay_result_init'ed, with sent/complete/http_status/timings set by the
 * transport) from the response body: error fields, success fields, raw, and res->cls through
 * pay_classify. complete: the whole response arrived within the cap. */
void kakaopay_parse_response(struct pay_result *res, int complete, const char *body, size_t len);

/* Parses "yyyy-MM-ddTHH:mm:ss" as Asia/Seoul (+09:00). 0 or -E_VALIDATION_FAILED. */
int kakaopay_parse_time(const char *s, int64_t *out);

#endif
