/*
 * fake_faults: the fault-injection rules of the fake (KAKAOPAY.md §4.4): parsing a rule from
 * JSON, listing, deleting, and picking the rule that fires for one API request.
 *
 * A rule is the JSON object of §4.4, for example
 *   {"match":{"endpoint":"subscription","sid":"S…"},"action":"decline_applied","code":-782,
 *    "method_result_code":"USER_LOCKED","times":1}
 * Endpoint names: ready, approve, subscription, inactive, status, order, cancel. Defaults: code
 * -780, http_status 400 (decline) / 500 (http500), shape new, rate 1, times unlimited.
 *
 * Rules are owned by this module (a list in creation order). Not thread-safe: one event loop.
 */
#ifndef PV_FAKE_FAULTS_H
#define PV_FAKE_FAULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

enum ffault_action {
	FF_NONE = 0,
	FF_DECLINE,
	FF_DECLINE_APPLIED,
	FF_HTTP500,
	FF_HTTP500_APPLIED,
	FF_HANG,
	FF_HANG_APPLIED,
	FF_DROP,
	FF_DROP_APPLIED,
	FF_DROP_PARTIAL_APPLIED,
	FF_GARBAGE_APPLIED,
	FF_LATENCY,
};

struct ffault {
	int64_t id;
	char *m_endpoint, *m_sid, *m_tid, *m_puid, *m_poid; /* NULL = any */
	enum ffault_action action;
	int code;
	char *message, *mr_code, *mr_message; /* NULL = default / absent */
	int http_status;                      /* 0 = the action's default */
	bool legacy;
	double rate;
	int64_t times; /* -1 = unlimited */
	int64_t latency_ms;
	uint64_t fired;
	struct ffault *next;
};

/* What one request carries that a rule can match (any may be NULL). */
struct ffault_subject {
	const char *endpoint, *sid, *tid, *puid, *poid;
};

/* Parses rule JSON and appends it; *id gets its id. 0, or -1 with a reason in err. */
int ffault_add(const cJSON *rule, int64_t *id, char *err, size_t errlen);
/* Loads a JSON array of rules from a file. 0, or -1 with a reason in err. */
int ffault_load_file(const char *path, char *err, size_t errlen);
/* The rules as a JSON array (caller frees), with their fire counts. */
cJSON *ffault_list(void);
/* Deletes one rule (0, or -1 when unknown) or, with id < 0, all of them. */
int ffault_delete(int64_t id);
/*
 * The first rule (specific ones before generic ones, each group in creation order) that matches
 * s and passes its rate, or NULL. It is not counted as fired: call ffault_fired when it acts.
 */
struct ffault *ffault_pick(const struct ffault_subject *s);
void ffault_fired(struct ffault *f);
/* The rule with this id, or NULL (deleted since it was picked). */
struct ffault *ffault_find(int64_t id);
bool ffault_applies(enum ffault_action a); /* the *_applied actions */
const char *ffault_action_name(enum ffault_action a);

#endif
