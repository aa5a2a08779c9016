/*
 * fake_control: the /__control surface. See fake_control.h.
 */
#include "tests/fakes/kakaopay/fake_control.h"

#include <errno.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tests/fakes/kakaopay/fake_api.h"
#include "tests/fakes/kakaopay/fake_faults.h"
#include "tests/fakes/kakaopay/fake_http.h"
#include "tests/fakes/kakaopay/fake_page.h"
#include "tests/fakes/kakaopay/fake_store.h"
#include "common/banned.h"

#define CTL_BODY_MAX  (64 * 1024)
#define SID_COUNT_MAX 100000

static void reply_error(struct evhttp_request *req, int status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (o)
		cJSON_AddStringToObject(o, "error", msg);
	fhttp_send_json(req, status, o);
	cJSON_Delete(o);
}

/* Sends o (may be NULL: out of memory) and frees it. */
static void reply(struct evhttp_request *req, int status, cJSON *o)
{
	if (!o) {
		reply_error(req, 500, "out of memory");
		return;
	}
	fhttp_send_json(req, status, o);
	cJSON_Delete(o);
}

static cJSON *ok_obj(void)
{
	cJSON *o = cJSON_CreateObject();
	if (o)
		cJSON_AddBoolToObject(o, "ok", 1);
	return o;
}

/* The request body as a JSON object (caller frees); NULL after answering 400. */
static cJSON *body_obj(struct evhttp_request *req)
{
	size_t len;
	int too_big;
	char *text = fhttp_body(req, CTL_BODY_MAX, &len, &too_big);
	cJSON *o = text ? cJSON_ParseWithLength(text, len) : NULL;

	free(text);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		reply_error(req, 400, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

static void add_ts(cJSON *o, const char *key, int64_t ms)
{
	char ts[FP_TS_LEN];

	fstore_format_kst(ms, ts);
	if (ts[0])
		cJSON_AddStringToObject(o, key, ts);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_opt_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

static bool is_loopback(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port = 0;

	if (!evcon)
		return false;
	evhttp_connection_get_peer(evcon, &addr, &port);
	return addr && (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	                strcmp(addr, "::ffff:127.0.0.1") == 0);
}

/* ---- config ------------------------------------------------------------------------------------
 */

static const char *method_name(enum fp_method m)
{
	return m == FP_CARD ? "CARD" : m == FP_MIXED ? "MIXED" : "MONEY";
}

static cJSON *config_json(void)
{
	const struct fp_config *c = &fstore.cfg;
	cJSON *o = cJSON_CreateObject();
	char lat[64];

	if (!o)
		return NULL;
	if (c->latency_min_ms == c->latency_max_ms)
		snprintf(lat, sizeof(lat), "%lld", (long long)c->latency_min_ms);
	else
		snprintf(lat, sizeof(lat), "%lld-%lld", (long long)c->latency_min_ms,
		         (long long)c->latency_max_ms);
	cJSON_AddStringToObject(o, "latency_ms", lat);
	cJSON_AddStringToObject(o, "method", method_name(c->method));
	cJSON_AddNumberToObject(o, "sid_monthly_limit", (double)c->sid_monthly_limit);
	cJSON_AddNumberToObject(o, "max_amount", (double)c->max_amount);
	cJSON_AddStringToObject(o, "allowed_redirect_hosts", c->allowed_hosts);
	cJSON_AddNumberToObject(o, "tid_ttl_s", (double)c->ttl_s);
	cJSON_AddStringToObject(o, "public_url", c->public_url);
	return o;
}

static void config_put(struct evhttp_request *req)
{
	struct fp_config *c = &fstore.cfg;
	cJSON *b = body_obj(req), *v;
	char tmp[64];

	if (!b)
		return;
	v = cJSON_GetObjectItemCaseSensitive(b, "latency_ms");
	if (v) {
		int64_t lo, hi;
		if (cJSON_IsNumber(v) && v->valuedouble >= 0)
			snprintf(tmp, sizeof(tmp), "%lld", (long long)v->valuedouble);
		else if (cJSON_IsString(v))
			snprintf(tmp, sizeof(tmp), "%s", v->valuestring);
		else
			tmp[0] = '\0';
		if (fstore_parse_latency(tmp, &lo, &hi)) {
			reply_error(req, 400, "latency_ms: N or \"MIN-MAX\"");
			goto out;
		}
		c->latency_min_ms = lo;
		c->latency_max_ms = hi;
	}
	v = cJSON_GetObjectItemCaseSensitive(b, "method");
	if (v) {
		if (!cJSON_IsString(v) ||
		    (strcmp(v->valuestring, "MONEY") != 0 && strcmp(v->valuestring, "CARD") != 0 &&
		     strcmp(v->valuestring, "MIXED") != 0)) {
			reply_error(req, 400, "method: MONEY, CARD or MIXED");
			goto out;
		}
		c->method = v->valuestring[0] == 'C'   ? FP_CARD
		            : v->valuestring[1] == 'I' ? FP_MIXED
		                                       : FP_MONEY;
	}
	v = cJSON_GetObjectItemCaseSensitive(b, "sid_monthly_limit");
	if (cJSON_IsNumber(v) && v->valuedouble >= 0)
		c->sid_monthly_limit = (int64_t)v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(b, "max_amount");
	if (cJSON_IsNumber(v) && v->valuedouble >= 0)
		c->max_amount = (int64_t)v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(b, "tid_ttl_s");
	if (cJSON_IsNumber(v) && v->valuedouble >= 0)
		c->ttl_s = (int64_t)v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(b, "allowed_redirect_hosts");
	if (cJSON_IsString(v))
		snprintf(c->allowed_hosts, sizeof(c->allowed_hosts), "%s", v->valuestring);
	reply(req, 200, config_json());
out:
	cJSON_Delete(b);
}

/* ---- faults, clock, click
 * ------------------------------------------------------------------------ */

static void faults(struct evhttp_request *req, enum evhttp_cmd_type cmd, const char *rest)
{
	char err[128];
	int64_t id;
	cJSON *b, *o;

	if (*rest == '/') {
		char *end;
		errno = 0;
		id = strtoll(rest + 1, &end, 10);
		if (cmd != EVHTTP_REQ_DELETE || errno || *end || id < 1) {
			reply_error(req, 404, "not found");
			return;
		}
		if (ffault_delete(id))
			reply_error(req, 404, "no such rule");
		else
			reply(req, 200, ok_obj());
		return;
	}
	if (cmd == EVHTTP_REQ_GET) {
		o = cJSON_CreateObject();
		if (o)
			cJSON_AddItemToObject(o, "faults", ffault_list());
		reply(req, 200, o);
	} else if (cmd == EVHTTP_REQ_DELETE) {
		ffault_delete(-1);
		reply(req, 200, ok_obj());
	} else if (cmd == EVHTTP_REQ_POST) {
		b = body_obj(req);
		if (!b)
			return;
		if (ffault_add(b, &id, err, sizeof(err))) {
			reply_error(req, 400, err);
		} else {
			o = cJSON_CreateObject();
			if (o)
				cJSON_AddNumberToObject(o, "id", (double)id);
			reply(req, 201, o);
		}
		cJSON_Delete(b);
	} else {
		reply_error(req, 405, "method not allowed");
	}
}

static cJSON *clock_json(void)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "offset_s", (double)(fstore.clock_offset_ms / 1000));
	add_ts(o, "now", fstore_now_ms());
	return o;
}

static void clock_req(struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
	cJSON *b, *v;

	if (cmd == EVHTTP_REQ_POST) {
		b = body_obj(req);
		if (!b)
			return;
		v = cJSON_GetObjectItemCaseSensitive(b, "advance_s");
		if (!cJSON_IsNumber(v)) {
			cJSON_Delete(b);
			reply_error(req, 400, "advance_s: a number");
			return;
		}
		fstore.clock_offset_ms += (int64_t)(v->valuedouble * 1000);
		cJSON_Delete(b);
	}
	reply(req, 200, clock_json());
}

static void click(struct evhttp_request *req)
{
	cJSON *b = body_obj(req), *o;
	const char *tid, *action;
	char loc[1024];
	int st;

	if (!b)
		return;
	tid = fapi_str(b, "tid");
	action = fapi_str(b, "action");
	if (!tid || !action) {
		reply_error(req, 400, "tid and action are required");
		goto out;
	}
	st = fpage_click(tid, action, loc, sizeof(loc));
	if (st != 303) {
		reply_error(req, st,
		            st == 404   ? "unknown tid"
		            : st == 409 ? "expired or finished"
		                        : "action: approve, cancel or fail");
		goto out;
	}
	o = cJSON_CreateObject();
	if (o)
		cJSON_AddStringToObject(o, "location", loc);
	reply(req, 200, o);
out:
	cJSON_Delete(b);
}

/* ---- raw state ----------------------------------------------------------------------------------
 */

static cJSON *sid_json(const struct fp_sid *s)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "sid", s->sid);
	cJSON_AddStringToObject(o, "cid", s->cid);
	cJSON_AddStringToObject(o, "partner_user_id", s->partner_user_id);
	add_opt_str(o, "item_name", s->item_name);
	cJSON_AddStringToObject(o, "status", s->status == FP_SID_ACTIVE ? "ACTIVE" : "INACTIVE");
	add_ts(o, "created_at", s->created_ms);
	add_ts(o, "last_approved_at", s->last_approved_ms);
	add_ts(o, "inactivated_at", s->inactivated_ms);
	cJSON_AddNumberToObject(o, "charges", (double)s->charges);
	cJSON_AddNumberToObject(o, "month_count", (double)s->month_count);
	return o;
}

static cJSON *tid_json(const struct fp_payment *p)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "tid", p->tid);
	cJSON_AddStringToObject(o, "cid", p->cid);
	cJSON_AddStringToObject(o, "status", fstore_status_name(p->status));
	cJSON_AddStringToObject(o, "effective_status",
	                        fstore_status_name(fstore_effective_status(p)));
	add_opt_str(o, "aid", p->aid[0] ? p->aid : NULL);
	add_opt_str(o, "sid", p->sid[0] ? p->sid : NULL);
	add_opt_str(o, "pg_token", p->pg_token[0] ? p->pg_token : NULL);
	cJSON_AddBoolToObject(o, "pg_token_used", p->token_used);
	cJSON_AddBoolToObject(o, "recurring_charge", p->is_charge);
	add_opt_str(o, "partner_order_id", p->partner_order_id);
	add_opt_str(o, "partner_user_id", p->partner_user_id);
	add_opt_str(o, "item_name", p->item_name);
	add_opt_str(o, "approval_url", p->approval_url);
	add_opt_str(o, "cancel_url", p->cancel_url);
	add_opt_str(o, "fail_url", p->fail_url);
	add_opt_str(o, "payload", p->payload);
	cJSON_AddItemToObject(o, "amount", fapi_amount_json(p->amount));
	cJSON_AddItemToObject(o, "canceled_amount", fapi_amount_json(p->canceled));
	add_ts(o, "created_at", p->created_ms);
	add_ts(o, "expires_at", p->expires_ms);
	add_ts(o, "approved_at", p->approved_ms);
	add_ts(o, "canceled_at", p->canceled_ms);
	cJSON_AddNumberToObject(o, "actions", (double)p->nactions);
	return o;
}

static void sid_create(struct evhttp_request *req)
{
	cJSON *b = body_obj(req), *o = NULL, *arr;
	const char *cid, *puid;
	const cJSON *v;
	int64_t count = 1;

	if (!b)
		return;
	cid = fapi_str(b, "cid");
	puid = fapi_str(b, "partner_user_id");
	v = cJSON_GetObjectItemCaseSensitive(b, "count");
	if (cJSON_IsNumber(v))
		count = (int64_t)v->valuedouble;
	if (!cid || !puid || fstore_cid_kind(cid) != FP_CID_SUBSCRIPTION || count < 1 ||
	    count > SID_COUNT_MAX) {
		reply_error(req, 400,
		            "cid (a subscription CID), partner_user_id and count "
		            "1..100000 are required");
		goto out;
	}
	o = cJSON_CreateObject();
	arr = o ? cJSON_AddArrayToObject(o, "sids") : NULL;
	for (int64_t i = 0; arr && i < count; i++) {
		struct fp_sid *s = fstore_sid_new(cid, puid, fapi_str(b, "item_name"), false);
		if (!s)
			break;
		cJSON_AddItemToArray(arr, cJSON_CreateString(s->sid));
	}
	reply(req, 201, o);
out:
	cJSON_Delete(b);
}

/* /sid, /sid/<sid>, /sid/<sid>/inactivate */
static void sid_req(struct evhttp_request *req, enum evhttp_cmd_type cmd, const char *rest)
{
	char sid[64];
	size_t len;
	struct fp_sid *s;

	if (!*rest) {
		if (cmd == EVHTTP_REQ_POST)
			sid_create(req);
		else
			reply_error(req, 405, "method not allowed");
		return;
	}
	rest++;
	len = strcspn(rest, "/");
	if (len >= sizeof(sid)) {
		reply_error(req, 404, "unknown sid");
		return;
	}
	memcpy(sid, rest, len);
	sid[len] = '\0';
	s = fstore_sid_get(sid);
	if (!s) {
		reply_error(req, 404, "unknown sid");
		return;
	}
	if (!rest[len] && cmd == EVHTTP_REQ_GET) {
		reply(req, 200, sid_json(s));
	} else if (strcmp(rest + len, "/inactivate") == 0 && cmd == EVHTTP_REQ_POST) {
		if (s->status == FP_SID_ACTIVE) {
			s->status = FP_SID_INACTIVE;
			s->inactivated_ms = fstore_now_ms();
		}
		reply(req, 200, sid_json(s));
	} else {
		reply_error(req, 404, "not found");
	}
}

/* ---- ledger and counters
 * ------------------------------------------------------------------------- */

static cJSON *entry_json(const struct fp_ledger_entry *e)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "seq", (double)e->seq);
	add_ts(o, "at", e->at_ms);
	cJSON_AddStringToObject(o, "kind", e->kind == FP_ACT_PAYMENT ? "PAYMENT" : "CANCEL");
	cJSON_AddStringToObject(o, "endpoint", fstore_endpoint_name(e->endpoint));
	cJSON_AddStringToObject(o, "cid", e->cid);
	cJSON_AddStringToObject(o, "tid", e->tid);
	cJSON_AddStringToObject(o, "aid", e->aid);
	add_opt_str(o, "sid", e->sid[0] ? e->sid : NULL);
	add_opt_str(o, "partner_order_id", e->partner_order_id);
	add_opt_str(o, "partner_user_id", e->partner_user_id);
	cJSON_AddNumberToObject(o, "amount", (double)e->amount);
	add_opt_str(o, "payload", e->payload);
	cJSON_AddStringToObject(o, "delivery", fstore_delivery_name(e->delivery));
	return o;
}

static void ledger(struct evhttp_request *req, const char *query)
{
	struct evkeyvalq q;
	const char *since_s, *sid, *kind;
	uint64_t since = 0;
	cJSON *o = cJSON_CreateObject(), *arr;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) != 0) {
		cJSON_Delete(o);
		reply_error(req, 400, "bad query");
		return;
	}
	since_s = evhttp_find_header(&q, "since");
	sid = evhttp_find_header(&q, "sid");
	kind = evhttp_find_header(&q, "kind");
	if (since_s)
		since = strtoull(since_s, NULL, 10);
	arr = o ? cJSON_AddArrayToObject(o, "entries") : NULL;
	for (size_t i = 0; arr && i < fstore.nledger; i++) {
		const struct fp_ledger_entry *e = &fstore.ledger[i];
		if (e->seq <= since || (sid && *sid && strcmp(sid, e->sid) != 0) ||
		    (kind && *kind &&
		     strcmp(kind, e->kind == FP_ACT_PAYMENT ? "PAYMENT" : "CANCEL") != 0))
			continue;
		cJSON_AddItemToArray(arr, entry_json(e));
	}
	if (o)
		cJSON_AddNumberToObject(o, "last_seq", (double)fstore.next_seq);
	evhttp_clear_headers(&q);
	reply(req, 200, o);
}

static void add_count(struct fmap *m, const char *key)
{
	if (key && *key)
		fmap_put(m, key, (void *)((uintptr_t)fmap_get(m, key) + 1));
}

struct dup_ctx {
	cJSON *arr;
	bool min2;
};

static void dup_each(const char *key, void *value, void *arg)
{
	struct dup_ctx *d = arg;
	uintptr_t n = (uintptr_t)value;
	cJSON *o;

	if (d->min2 && n < 2)
		return;
	o = cJSON_CreateObject();
	if (!o)
		return;
	cJSON_AddStringToObject(o, "value", key);
	cJSON_AddNumberToObject(o, "payments", (double)n);
	cJSON_AddItemToArray(d->arr, o);
}

static void summary(struct evhttp_request *req)
{
	struct fmap by_sid = FMAP_INIT, by_poid = FMAP_INIT, by_payload = FMAP_INIT;
	int64_t charged = 0, refunded = 0, npay = 0, ncancel = 0;
	cJSON *o = cJSON_CreateObject();
	struct dup_ctx d;

	for (size_t i = 0; i < fstore.nledger; i++) {
		const struct fp_ledger_entry *e = &fstore.ledger[i];
		if (e->kind == FP_ACT_PAYMENT) {
			charged += e->amount;
			npay++;
			add_count(&by_sid, e->sid);
			add_count(&by_poid, e->partner_order_id);
			add_count(&by_payload, e->payload);
		} else {
			refunded += -e->amount;
			ncancel++;
		}
	}
	if (o) {
		cJSON_AddNumberToObject(o, "payments", (double)npay);
		cJSON_AddNumberToObject(o, "cancels", (double)ncancel);
		cJSON_AddNumberToObject(o, "charged_total", (double)charged);
		cJSON_AddNumberToObject(o, "refunded_total", (double)refunded);
		d.min2 = false;
		d.arr = cJSON_AddArrayToObject(o, "payments_per_sid");
		if (d.arr)
			fmap_each(&by_sid, dup_each, &d);
		d.min2 = true;
		d.arr = cJSON_AddArrayToObject(o, "dup_partner_order_ids");
		if (d.arr)
			fmap_each(&by_poid, dup_each, &d);
		d.arr = cJSON_AddArrayToObject(o, "dup_payloads");
		if (d.arr)
			fmap_each(&by_payload, dup_each, &d);
	}
	fmap_clear(&by_sid, NULL);
	fmap_clear(&by_poid, NULL);
	fmap_clear(&by_payload, NULL);
	reply(req, 200, o);
}

static void map_obj_each(const char *key, void *value, void *arg)
{
	cJSON_AddNumberToObject(arg, key, (double)(uintptr_t)value);
}

static void counters(struct evhttp_request *req)
{
	const struct fp_counters *c = &fstore.ctr;
	cJSON *o = cJSON_CreateObject(), *eps, *e, *x;

	if (!o) {
		reply(req, 500, NULL);
		return;
	}
	eps = cJSON_AddObjectToObject(o, "endpoints");
	for (int i = 0; eps && i < FP_EP_COUNT; i++) {
		e = cJSON_AddObjectToObject(eps, fstore_endpoint_name((enum fp_endpoint)i));
		if (!e)
			break;
		cJSON_AddNumberToObject(e, "requests", (double)c->requests[i]);
		cJSON_AddNumberToObject(e, "applied", (double)c->applied[i]);
		x = cJSON_AddObjectToObject(e, "responses");
		if (x)
			fmap_each(&c->codes[i], map_obj_each, x);
		x = cJSON_AddObjectToObject(e, "faults");
		if (x)
			fmap_each(&c->faults[i], map_obj_each, x);
	}
	x = cJSON_AddObjectToObject(o, "in_flight");
	if (x) {
		cJSON_AddNumberToObject(x, "now", (double)c->in_flight);
		cJSON_AddNumberToObject(x, "max", (double)c->in_flight_max);
	}
	x = cJSON_AddObjectToObject(o, "connections");
	if (x) {
		cJSON_AddNumberToObject(x, "now", (double)c->connections);
		cJSON_AddNumberToObject(x, "max", (double)c->connections_max);
	}
	cJSON_AddNumberToObject(o, "auth_failures", (double)c->auth_failures);
	cJSON_AddNumberToObject(o, "dup_partner_order_id", (double)c->dup_partner_order_id);
	x = cJSON_AddObjectToObject(o, "latency_ms");
	if (x) {
		cJSON_AddNumberToObject(x, "count", (double)c->lat_n);
		cJSON_AddNumberToObject(x, "p50", (double)fstore_latency_quantile(0.50));
		cJSON_AddNumberToObject(x, "p90", (double)fstore_latency_quantile(0.90));
		cJSON_AddNumberToObject(x, "p99", (double)fstore_latency_quantile(0.99));
	}
	reply(req, 200, o);
}

/* ---- routing ----------------------------------------------------------------------------------
 */

void fctl_handle(struct evhttp_request *req, const char *sub, const char *query)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool get = cmd == EVHTTP_REQ_GET, post = cmd == EVHTTP_REQ_POST;

	if (!fstore.cfg.control || !is_loopback(req)) {
		reply_error(req, 404, "not found");
		return;
	}
	if (strcmp(sub, "/health") == 0 && get) {
		reply(req, 200, ok_obj());
	} else if (strcmp(sub, "/reset") == 0 && post) {
		fstore_reset();
		ffault_delete(-1);
		reply(req, 200, ok_obj());
	} else if (strcmp(sub, "/config") == 0 && get) {
		reply(req, 200, config_json());
	} else if (strcmp(sub, "/config") == 0 && cmd == EVHTTP_REQ_PUT) {
		config_put(req);
	} else if (strncmp(sub, "/faults", 7) == 0 && (sub[7] == '\0' || sub[7] == '/')) {
		faults(req, cmd, sub + 7);
	} else if (strcmp(sub, "/clock") == 0 && (get || post)) {
		clock_req(req, cmd);
	} else if (strcmp(sub, "/click") == 0 && post) {
		click(req);
	} else if (strncmp(sub, "/sid", 4) == 0 && (sub[4] == '\0' || sub[4] == '/')) {
		sid_req(req, cmd, sub + 4);
	} else if (strncmp(sub, "/tid/", 5) == 0 && get) {
		struct fp_payment *p = fstore_payment_get(sub + 5);
		if (p)
			reply(req, 200, tid_json(p));
		else
			reply_error(req, 404, "unknown tid");
	} else if (strcmp(sub, "/ledger") == 0 && get) {
		ledger(req, query);
	} else if (strcmp(sub, "/ledger/summary") == 0 && get) {
		summary(req);
	} else if (strcmp(sub, "/counters") == 0 && get) {
		counters(req);
	} else {
		reply_error(req, 404, "not found");
	}
}
