/*
 * fake_faults: fault rules (KAKAOPAY.md §4.4). See fake_faults.h.
 */
#include "tests/fakes/kakaopay/fake_faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fakes/kakaopay/fake_store.h"
#include "common/banned.h"

static struct ffault *rules;
static int64_t next_id;

static const char *const action_names[] = {
    "none",
    "decline",
    "decline_applied",
    "http500",
    "http500_applied",
    "hang",
    "hang_applied",
    "drop",
    "drop_applied",
    "drop_partial_applied",
    "garbage_applied",
    "latency",
};

const char *ffault_action_name(enum ffault_action a)
{
	return action_names[a];
}

bool ffault_applies(enum ffault_action a)
{
	return a == FF_DECLINE_APPLIED || a == FF_HTTP500_APPLIED || a == FF_HANG_APPLIED ||
	       a == FF_DROP_APPLIED || a == FF_DROP_PARTIAL_APPLIED || a == FF_GARBAGE_APPLIED;
}

static void rule_free(struct ffault *f)
{
	if (!f)
		return;
	free(f->m_endpoint);
	free(f->m_sid);
	free(f->m_tid);
	free(f->m_puid);
	free(f->m_poid);
	free(f->message);
	free(f->mr_code);
	free(f->mr_message);
	free(f);
}

/* A string member or NULL; -1 when present with another type. */
static int opt_str(const cJSON *o, const char *key, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return -1;
	*out = strdup(v->valuestring);
	return *out ? 0 : -1;
}

static int opt_num(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v))
		return -1;
	*out = v->valuedouble;
	return 1;
}

int ffault_add(const cJSON *rule, int64_t *id, char *err, size_t errlen)
{
	struct ffault *f = NULL, **pp;
	const cJSON *match, *action;
	char *shape = NULL;
	double d;
	int rc = -1;

	if (!cJSON_IsObject(rule)) {
		snprintf(err, errlen, "a rule is a JSON object");
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	f->rate = 1;
	f->times = -1;
	match = cJSON_GetObjectItemCaseSensitive(rule, "match");
	if (match && !cJSON_IsNull(match)) {
		if (!cJSON_IsObject(match) || opt_str(match, "endpoint", &f->m_endpoint) ||
		    opt_str(match, "sid", &f->m_sid) || opt_str(match, "tid", &f->m_tid) ||
		    opt_str(match, "partner_user_id", &f->m_puid) ||
		    opt_str(match, "partner_order_id", &f->m_poid)) {
			snprintf(err, errlen, "match: an object of strings");
			goto out;
		}
	}
	action = cJSON_GetObjectItemCaseSensitive(rule, "action");
	if (!cJSON_IsString(action)) {
		snprintf(err, errlen, "action is required");
		goto out;
	}
	for (size_t i = 1; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (strcmp(action->valuestring, action_names[i]) == 0)
			f->action = (enum ffault_action)i;
	if (f->action == FF_NONE) {
		snprintf(err, errlen, "unknown action");
		goto out;
	}
	if (opt_str(rule, "message", &f->message) ||
	    opt_str(rule, "method_result_code", &f->mr_code) ||
	    opt_str(rule, "method_result_message", &f->mr_message) ||
	    opt_str(rule, "shape", &shape)) {
		snprintf(err, errlen, "message, method_result_*, shape: strings");
		goto out;
	}
	if (shape && strcmp(shape, "legacy") != 0 && strcmp(shape, "new") != 0) {
		snprintf(err, errlen, "shape: new or legacy");
		goto out;
	}
	f->legacy = shape && strcmp(shape, "legacy") == 0;
	if (opt_num(rule, "code", &d) < 0) {
		snprintf(err, errlen, "code: a number");
		goto out;
	}
	f->code = opt_num(rule, "code", &d) > 0 ? (int)d : -780;
	if (opt_num(rule, "http_status", &d) < 0 ||
	    (opt_num(rule, "http_status", &d) > 0 && (d < 100 || d > 599))) {
		snprintf(err, errlen, "http_status: 100..599");
		goto out;
	}
	f->http_status = opt_num(rule, "http_status", &d) > 0 ? (int)d : 0;
	if (opt_num(rule, "rate", &f->rate) < 0 || f->rate < 0 || f->rate > 1) {
		snprintf(err, errlen, "rate: 0..1");
		goto out;
	}
	d = -1;
	if (opt_num(rule, "times", &d) < 0) {
		snprintf(err, errlen, "times: a number");
		goto out;
	}
	f->times = d < 0 ? -1 : (int64_t)d;
	d = 0;
	if (opt_num(rule, "latency_ms", &d) < 0 || d < 0) {
		snprintf(err, errlen, "latency_ms: a number >= 0");
		goto out;
	}
	f->latency_ms = (int64_t)d;
	f->id = ++next_id;
	for (pp = &rules; *pp; pp = &(*pp)->next)
		;
	*pp = f;
	*id = f->id;
	f = NULL;
	rc = 0;
out:
	free(shape);
	rule_free(f);
	return rc;
}

int ffault_load_file(const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char *text = NULL;
	long len;
	cJSON *arr = NULL, *it;
	int64_t id;
	int rc = -1;

	if (!fp) {
		snprintf(err, errlen, "cannot open the faults file");
		return -1;
	}
	if (fseek(fp, 0, SEEK_END) || (len = ftell(fp)) < 0 || len > (1 << 20) ||
	    fseek(fp, 0, SEEK_SET)) {
		snprintf(err, errlen, "cannot read the faults file");
		goto out;
	}
	text = malloc((size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, fp) != (size_t)len) {
		snprintf(err, errlen, "cannot read the faults file");
		goto out;
	}
	text[len] = '\0';
	arr = cJSON_Parse(text);
	if (!cJSON_IsArray(arr)) {
		snprintf(err, errlen, "the faults file must hold a JSON array");
		goto out;
	}
	cJSON_ArrayForEach(it, arr)
	{
		if (ffault_add(it, &id, err, errlen))
			goto out;
	}
	rc = 0;
out:
	cJSON_Delete(arr);
	free(text);
	fclose(fp);
	return rc;
}

static void add_opt(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
}

cJSON *ffault_list(void)
{
	cJSON *arr = cJSON_CreateArray(), *o, *m;

	for (struct ffault *f = rules; f && arr; f = f->next) {
		o = cJSON_CreateObject();
		if (!o)
			break;
		cJSON_AddNumberToObject(o, "id", (double)f->id);
		m = cJSON_AddObjectToObject(o, "match");
		if (m) {
			add_opt(m, "endpoint", f->m_endpoint);
			add_opt(m, "sid", f->m_sid);
			add_opt(m, "tid", f->m_tid);
			add_opt(m, "partner_user_id", f->m_puid);
			add_opt(m, "partner_order_id", f->m_poid);
		}
		cJSON_AddStringToObject(o, "action", action_names[f->action]);
		cJSON_AddNumberToObject(o, "code", f->code);
		add_opt(o, "message", f->message);
		add_opt(o, "method_result_code", f->mr_code);
		add_opt(o, "method_result_message", f->mr_message);
		if (f->http_status)
			cJSON_AddNumberToObject(o, "http_status", f->http_status);
		cJSON_AddStringToObject(o, "shape", f->legacy ? "legacy" : "new");
		cJSON_AddNumberToObject(o, "rate", f->rate);
		if (f->times >= 0)
			cJSON_AddNumberToObject(o, "times", (double)f->times);
		cJSON_AddNumberToObject(o, "latency_ms", (double)f->latency_ms);
		cJSON_AddNumberToObject(o, "fired", (double)f->fired);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

int ffault_delete(int64_t id)
{
	struct ffault **pp = &rules, *f;

	if (id < 0) {
		while (rules) {
			f = rules;
			rules = f->next;
			rule_free(f);
		}
		return 0;
	}
	for (; (f = *pp); pp = &f->next) {
		if (f->id == id) {
			*pp = f->next;
			rule_free(f);
			return 0;
		}
	}
	return -1;
}

static bool eq_opt(const char *want, const char *have)
{
	return !want || (have && strcmp(want, have) == 0);
}

static bool specific(const struct ffault *f)
{
	return f->m_sid || f->m_tid || f->m_puid || f->m_poid;
}

static bool matches(const struct ffault *f, const struct ffault_subject *s)
{
	return f->times != 0 && eq_opt(f->m_endpoint, s->endpoint) && eq_opt(f->m_sid, s->sid) &&
	       eq_opt(f->m_tid, s->tid) && eq_opt(f->m_puid, s->puid) && eq_opt(f->m_poid, s->poid);
}

struct ffault *ffault_pick(const struct ffault_subject *s)
{
	for (int pass = 0; pass < 2; pass++) {
		for (struct ffault *f = rules; f; f = f->next) {
			if (specific(f) != (pass == 0) || !matches(f, s))
				continue;
			if (f->rate >= 1 || fstore_rand01() < f->rate)
				return f;
		}
	}
	return NULL;
}

void ffault_fired(struct ffault *f)
{
	f->fired++;
	if (f->times > 0)
		f->times--;
}

struct ffault *ffault_find(int64_t id)
{
	for (struct ffault *f = rules; f; f = f->next)
		if (f->id == id)
			return f;
	return NULL;
}
