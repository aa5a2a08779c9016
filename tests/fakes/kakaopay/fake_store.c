/*
 * fake_store: configuration, clock, ids and the in-memory records of the fake. See fake_store.h.
 */
#include "tests/fakes/kakaopay/fake_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/crypto.h"
#include "common/banned.h"

struct fstore fstore;

static const char *const status_names[] = {
    "READY",
    "OPEN_PAYMENT",
    "AUTH_PASSWORD",
    "SUCCESS_PAYMENT",
    "PART_CANCEL_PAYMENT",
    "CANCEL_PAYMENT",
    "FAIL_AUTH_PASSWORD",
    "QUIT_PAYMENT",
    "FAIL_PAYMENT",
};

static const char *const endpoint_names[] = {"ready",  "approve", "subscription", "inactive",
                                             "status", "order",   "cancel"};

static const char *const delivery_names[] = {"ok", "error", "hang", "drop", "partial", "garbage"};

const char *fstore_status_name(enum fp_status s)
{
	return status_names[s];
}

const char *fstore_endpoint_name(enum fp_endpoint e)
{
	return e < FP_EP_COUNT ? endpoint_names[e] : "other";
}

const char *fstore_delivery_name(enum fp_delivery d)
{
	return delivery_names[d];
}

char *fstore_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- configuration ----------------------------------------------------------------------------
 */

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	*out = v;
	return 0;
}

int fstore_parse_latency(const char *s, int64_t *min_ms, int64_t *max_ms)
{
	char tmp[64];
	const char *dash = strchr(s, '-');
	int64_t a, b;

	if (!dash)
		return parse_i64(s, &a) ? -1 : (*min_ms = *max_ms = a, 0);
	if ((size_t)(dash - s) >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, (size_t)(dash - s));
	tmp[dash - s] = '\0';
	if (parse_i64(tmp, &a) || parse_i64(dash + 1, &b) || b < a)
		return -1;
	*min_ms = a;
	*max_ms = b;
	return 0;
}

static int parse_cids(const char *s, struct fp_config *c)
{
	char tmp[512], *save = NULL, *tok;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, strlen(s) + 1);
	c->ncids = 0;
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || c->ncids >= FP_CIDS_MAX ||
		    (size_t)(eq - tok) >= sizeof(c->cids[0].cid) || eq == tok)
			return -1;
		*eq = '\0';
		if (strcmp(eq + 1, "onetime") == 0)
			c->cids[c->ncids].kind = FP_CID_ONETIME;
		else if (strcmp(eq + 1, "subscription") == 0)
			c->cids[c->ncids].kind = FP_CID_SUBSCRIPTION;
		else
			return -1;
		snprintf(c->cids[c->ncids].cid, sizeof(c->cids[0].cid), "%s", tok);
		c->ncids++;
	}
	return c->ncids ? 0 : -1;
}

int fstore_config_from_env(char *err, size_t errlen)
{
	struct fp_config *c = &fstore.cfg;
	const char *v, *colon;
	int64_t n;

	memset(c, 0, sizeof(*c));
	v = env_or("PV_FAKEPAY_LISTEN", "127.0.0.1:18090");
	colon = strrchr(v, ':');
	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(c->listen_host) ||
	    parse_i64(colon + 1, &n) || n > 65535) {
		snprintf(err, errlen, "PV_FAKEPAY_LISTEN must be host:port");
		return -1;
	}
	memcpy(c->listen_host, v, (size_t)(colon - v));
	c->listen_host[colon - v] = '\0';
	c->listen_port = (int)n;
	snprintf(c->public_url, sizeof(c->public_url), "%s", env_or("PV_FAKEPAY_PUBLIC_URL", ""));
	snprintf(c->secret_key, sizeof(c->secret_key), "%s",
	         env_or("PV_FAKEPAY_SECRET_KEY", "fake-secret-key"));
	if (parse_cids(env_or("PV_FAKEPAY_CIDS", "TC0ONETIME=onetime,TCSUBSCRIP=subscription"),
	               c)) {
		snprintf(err, errlen, "PV_FAKEPAY_CIDS must be CID=onetime|subscription,...");
		return -1;
	}
	if (parse_i64(env_or("PV_FAKEPAY_TID_TTL_S", "900"), &c->ttl_s)) {
		snprintf(err, errlen, "PV_FAKEPAY_TID_TTL_S must be a number");
		return -1;
	}
	if (fstore_parse_latency(env_or("PV_FAKEPAY_LATENCY_MS", "0"), &c->latency_min_ms,
	                         &c->latency_max_ms)) {
		snprintf(err, errlen, "PV_FAKEPAY_LATENCY_MS must be N or MIN-MAX");
		return -1;
	}
	snprintf(c->faults_file, sizeof(c->faults_file), "%s",
	         env_or("PV_FAKEPAY_FAULTS_FILE", ""));
	v = getenv("PV_FAKEPAY_SEED");
	if (v && *v) {
		if (parse_i64(v, &n)) {
			snprintf(err, errlen, "PV_FAKEPAY_SEED must be a number");
			return -1;
		}
		c->seed = (uint64_t)n;
	} else {
		c->seed = (uint64_t)time(NULL);
	}
	v = env_or("PV_FAKEPAY_METHOD", "MONEY");
	if (strcmp(v, "MONEY") == 0)
		c->method = FP_MONEY;
	else if (strcmp(v, "CARD") == 0)
		c->method = FP_CARD;
	else if (strcmp(v, "MIXED") == 0)
		c->method = FP_MIXED;
	else {
		snprintf(err, errlen, "PV_FAKEPAY_METHOD must be MONEY, CARD or MIXED");
		return -1;
	}
	if (parse_i64(env_or("PV_FAKEPAY_SID_MONTHLY_LIMIT", "0"), &c->sid_monthly_limit) ||
	    parse_i64(env_or("PV_FAKEPAY_MAX_AMOUNT", "0"), &c->max_amount)) {
		snprintf(err, errlen, "PV_FAKEPAY_SID_MONTHLY_LIMIT / MAX_AMOUNT must be numbers");
		return -1;
	}
	snprintf(c->allowed_hosts, sizeof(c->allowed_hosts), "%s",
	         env_or("PV_FAKEPAY_ALLOWED_REDIRECT_HOSTS", ""));
	c->control = strcmp(env_or("PV_FAKEPAY_CONTROL", "1"), "0") != 0;
	c->log = strcmp(env_or("PV_FAKEPAY_LOG", "1"), "0") != 0;
	return 0;
}

/* ---- clock, ids, random ------------------------------------------------------------------------
 */

int64_t fstore_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + fstore.clock_offset_ms;
}

void fstore_format_kst(int64_t ms, char out[FP_TS_LEN])
{
	time_t t;
	struct tm tm;

	out[0] = '\0';
	if (ms <= 0)
		return;
	t = (time_t)(ms / 1000) + 9 * 3600;
	if (!gmtime_r(&t, &tm))
		return;
	strftime(out, FP_TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
}

int32_t fstore_month_kst(int64_t ms)
{
	time_t t = (time_t)(ms / 1000) + 9 * 3600;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return 0;
	return (tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
}

uint64_t fstore_rand(void)
{
	uint64_t x = fstore.rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	fstore.rng = x;
	return x;
}

double fstore_rand01(void)
{
	return (double)(fstore_rand() >> 11) / 9007199254740992.0;
}

void fstore_new_id(char prefix, char out[FP_ID_LEN])
{
	snprintf(out, FP_ID_LEN, "%c%010llu%09llu", prefix, (unsigned long long)fstore.id_base,
	         (unsigned long long)(++fstore.id_seq % 1000000000ULL));
}

void fstore_new_token(char out[FP_TOKEN_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[10];

	if (crypto_random(raw, sizeof(raw)) != 0)
		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)fstore_rand();
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[20] = '\0';
}

enum fp_cid_kind fstore_cid_kind(const char *cid)
{
	for (size_t i = 0; i < fstore.cfg.ncids; i++)
		if (strcmp(fstore.cfg.cids[i].cid, cid) == 0)
			return fstore.cfg.cids[i].kind;
	return 0;
}

bool fstore_card(void)
{
	if (fstore.cfg.method == FP_MIXED)
		return fstore_rand() & 1;
	return fstore.cfg.method == FP_CARD;
}

bool fstore_in_progress(enum fp_status s)
{
	return s == FP_READY || s == FP_OPEN_PAYMENT || s == FP_AUTH_PASSWORD;
}

enum fp_status fstore_effective_status(const struct fp_payment *p)
{
	if (fstore_in_progress(p->status) && fstore_now_ms() >= p->expires_ms)
		return FP_FAIL_PAYMENT;
	return p->status;
}

void fstore_mask_sid(const char *sid, char *out, size_t n)
{
	size_t len = sid ? strlen(sid) : 0;

	if (len < 8)
		snprintf(out, n, "%s", len ? "S…" : "");
	else
		snprintf(out, n, "%.4s…%s", sid, sid + len - 4);
}

/* ---- records -----------------------------------------------------------------------------------
 */

static void payment_free(void *v)
{
	struct fp_payment *p = v;

	if (!p)
		return;
	free(p->partner_order_id);
	free(p->partner_user_id);
	free(p->item_name);
	free(p->item_code);
	free(p->approval_url);
	free(p->cancel_url);
	free(p->fail_url);
	free(p->payload);
	for (size_t i = 0; i < p->nactions; i++)
		free(p->actions[i].payload);
	free(p->actions);
	free(p);
}

static void sid_free(void *v)
{
	struct fp_sid *s = v;

	if (!s)
		return;
	free(s->partner_user_id);
	free(s->item_name);
	free(s);
}

struct fp_payment *fstore_payment_new(const char *cid)
{
	struct fp_payment *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	fstore_new_id('T', p->tid);
	snprintf(p->cid, sizeof(p->cid), "%s", cid);
	p->created_ms = fstore_now_ms();
	p->expires_ms = p->created_ms + fstore.cfg.ttl_s * 1000;
	if (fmap_put(&fstore.payments, p->tid, p)) {
		free(p);
		return NULL;
	}
	return p;
}

struct fp_sid *fstore_sid_new(const char *cid, const char *partner_user_id, const char *item_name,
                              bool card)
{
	struct fp_sid *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	fstore_new_id('S', s->sid);
	snprintf(s->cid, sizeof(s->cid), "%s", cid);
	s->partner_user_id = fstore_strdup(partner_user_id);
	s->item_name = fstore_strdup(item_name);
	s->card = card;
	s->created_ms = fstore_now_ms();
	if (!s->partner_user_id || fmap_put(&fstore.sids, s->sid, s)) {
		sid_free(s);
		return NULL;
	}
	return s;
}

struct fp_payment *fstore_payment_get(const char *tid)
{
	return fmap_get(&fstore.payments, tid);
}

struct fp_sid *fstore_sid_get(const char *sid)
{
	return fmap_get(&fstore.sids, sid);
}

struct fp_action *fstore_action_add(struct fp_payment *p, enum fp_action_type type,
                                    struct fp_amount amount, const char *payload)
{
	struct fp_action *a = realloc(p->actions, (p->nactions + 1) * sizeof(*a));

	if (!a)
		return NULL;
	p->actions = a;
	a = &p->actions[p->nactions];
	memset(a, 0, sizeof(*a));
	fstore_new_id('A', a->aid);
	a->type = type;
	a->at_ms = fstore_now_ms();
	a->amount = amount;
	a->payload = fstore_strdup(payload);
	p->nactions++;
	return a;
}

struct fp_ledger_entry *fstore_ledger_add(enum fp_action_type kind, enum fp_endpoint ep,
                                          const struct fp_payment *p, const char *aid,
                                          int64_t amount, const char *payload)
{
	struct fp_ledger_entry *e;

	if (fstore.nledger == fstore.ledger_cap) {
		size_t cap = fstore.ledger_cap ? fstore.ledger_cap * 2 : 1024;
		e = realloc(fstore.ledger, cap * sizeof(*e));
		if (!e)
			return NULL;
		fstore.ledger = e;
		fstore.ledger_cap = cap;
	}
	e = &fstore.ledger[fstore.nledger++];
	memset(e, 0, sizeof(*e));
	e->seq = ++fstore.next_seq;
	e->at_ms = fstore_now_ms();
	e->kind = kind;
	e->endpoint = ep;
	e->delivery = FP_DLV_OK;
	snprintf(e->cid, sizeof(e->cid), "%s", p->cid);
	snprintf(e->tid, sizeof(e->tid), "%s", p->tid);
	snprintf(e->aid, sizeof(e->aid), "%s", aid);
	snprintf(e->sid, sizeof(e->sid), "%s", p->sid);
	e->partner_order_id = fstore_strdup(p->partner_order_id);
	e->partner_user_id = fstore_strdup(p->partner_user_id);
	e->payload = fstore_strdup(payload);
	e->amount = amount;
	return e;
}

uint64_t fstore_poid_use(const char *partner_order_id)
{
	uintptr_t n = (uintptr_t)fmap_get(&fstore.poids, partner_order_id) + 1;

	if (n > 1)
		fstore.ctr.dup_partner_order_id++;
	fmap_put(&fstore.poids, partner_order_id, (void *)n);
	return n;
}

/* ---- counters ----------------------------------------------------------------------------------
 */

static void map_inc(struct fmap *m, const char *key)
{
	uintptr_t n = (uintptr_t)fmap_get(m, key) + 1;
	fmap_put(m, key, (void *)n);
}

void fstore_count_code(enum fp_endpoint ep, int code)
{
	char key[24];

	if (ep >= FP_EP_COUNT)
		return;
	snprintf(key, sizeof(key), "%d", code);
	map_inc(&fstore.ctr.codes[ep], key);
}

void fstore_count_fault(enum fp_endpoint ep, const char *action)
{
	if (ep < FP_EP_COUNT)
		map_inc(&fstore.ctr.faults[ep], action);
}

void fstore_count_latency(int64_t ms)
{
	if (!fstore.ctr.lat)
		return;
	if (ms < 0)
		ms = 0;
	if (ms >= FP_LAT_BUCKETS)
		ms = FP_LAT_BUCKETS - 1;
	fstore.ctr.lat[ms]++;
	fstore.ctr.lat_n++;
}

int64_t fstore_latency_quantile(double q)
{
	uint64_t want, seen = 0;

	if (!fstore.ctr.lat_n || !fstore.ctr.lat)
		return -1;
	want = (uint64_t)(q * (double)fstore.ctr.lat_n);
	if (want >= fstore.ctr.lat_n)
		want = fstore.ctr.lat_n - 1;
	for (int64_t i = 0; i < FP_LAT_BUCKETS; i++) {
		seen += fstore.ctr.lat[i];
		if (seen > want)
			return i;
	}
	return FP_LAT_BUCKETS - 1;
}

/* ---- lifecycle ---------------------------------------------------------------------------------
 */

int fstore_init(void)
{
	int64_t now_s = fstore_now_ms() / 1000;

	fstore.rng = fstore.cfg.seed * 2654435761ULL + 0x9E3779B97F4A7C15ULL;
	if (!fstore.rng)
		fstore.rng = 1;
	fstore.id_base = (uint64_t)now_s % 10000000000ULL;
	fstore.ctr.lat = calloc(FP_LAT_BUCKETS, sizeof(*fstore.ctr.lat));
	return fstore.ctr.lat ? 0 : -1;
}

static void ledger_clear(void)
{
	for (size_t i = 0; i < fstore.nledger; i++) {
		free(fstore.ledger[i].partner_order_id);
		free(fstore.ledger[i].partner_user_id);
		free(fstore.ledger[i].payload);
	}
	free(fstore.ledger);
	fstore.ledger = NULL;
	fstore.nledger = fstore.ledger_cap = 0;
	fstore.next_seq = 0;
}

static void counters_clear(void)
{
	struct fp_counters *c = &fstore.ctr;
	uint32_t *lat = c->lat;
	uint64_t in_flight = c->in_flight, conns = c->connections;

	for (int i = 0; i < FP_EP_COUNT; i++) {
		fmap_clear(&c->codes[i], NULL);
		fmap_clear(&c->faults[i], NULL);
	}
	memset(c, 0, sizeof(*c));
	c->lat = lat;
	if (lat)
		memset(lat, 0, FP_LAT_BUCKETS * sizeof(*lat));
	/* what is open now stays open */
	c->in_flight = c->in_flight_max = in_flight;
	c->connections = c->connections_max = conns;
}

void fstore_reset(void)
{
	fmap_clear(&fstore.payments, payment_free);
	fmap_clear(&fstore.sids, sid_free);
	fmap_clear(&fstore.poids, NULL);
	ledger_clear();
	counters_clear();
	fstore.clock_offset_ms = 0;
}

void fstore_release(void)
{
	fstore_reset();
	free(fstore.ctr.lat);
	fstore.ctr.lat = NULL;
}
