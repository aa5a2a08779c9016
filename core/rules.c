/* rules: standard reason texts (see rules.h). */
#include "core/rules.h"

#include <pthread.h>
#include <stdio.h>

#include "common/banned.h"

/*
 * The reasons are built once per distinct bound into a small static table (bounds are
 * constants of the contract, so the table never grows past a few entries).
 */
#define RULES_MAX 64

struct reason {
	int kind;
	int64_t n;
	char text[64];
};

static struct reason reasons[RULES_MAX];
static int nreasons;

static pthread_mutex_t reasons_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *reason(int kind, int64_t n)
{
	static const char *const suffix[] = {" 이상이어야 합니다", " 이하여야 합니다",
	                                     "자 이하여야 합니다"};
	const char *out = "입력값이 올바르지 않습니다.";

	pthread_mutex_lock(&reasons_lock);
	for (int i = 0; i < nreasons; i++) {
		if (reasons[i].kind == kind && reasons[i].n == n) {
			out = reasons[i].text;
			goto done;
		}
	}
	if (nreasons < RULES_MAX) {
		struct reason *r = &reasons[nreasons++];
		r->kind = kind;
		r->n = n;
		snprintf(r->text, sizeof(r->text), "%lld%s", (long long)n, suffix[kind]);
		out = r->text;
	}
done:
	pthread_mutex_unlock(&reasons_lock);
	return out;
}

const char *rule_min_reason(int64_t n)
{
	return reason(0, n);
}

const char *rule_max_reason(int64_t n)
{
	return reason(1, n);
}

const char *rule_maxlen_reason(int64_t n)
{
	return reason(2, n);
}

const char *rule_quantity(int64_t q)
{
	return rule_range(q, RULE_QUANTITY_MIN, RULE_QUANTITY_MAX);
}

const char *rule_period(int64_t days)
{
	return rule_range(days, RULE_PERIOD_MIN, RULE_PERIOD_MAX);
}

const char *rule_range(int64_t v, int64_t lo, int64_t hi)
{
	if (v < lo)
		return rule_min_reason(lo);
	if (v > hi)
		return rule_max_reason(hi);
	return NULL;
}
