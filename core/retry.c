/* retry: the retry policy of API.md §2.7 (see retry.h). */
#include "core/retry.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "core/sched.h"
#include "common/banned.h"

#define DELAY_MAX_S (30 * 86400)

static int parse_delay(const char *s, size_t len, int64_t *out)
{
	char buf[32];
	char *end = NULL;
	long long v;
	int64_t unit = 1;

	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf) || !isdigit((unsigned char)s[0]))
		return -E_CONFIG;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf)
		return -E_CONFIG;
	if (*end) {
		switch (*end) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			return -E_CONFIG;
		}
		if (end[1])
			return -E_CONFIG;
	}
	if (v < 0 || v > DELAY_MAX_S || v * unit > DELAY_MAX_S)
		return -E_CONFIG;
	*out = (int64_t)v * unit;
	return 0;
}

int retry_policy_parse(const char *text, struct retry_policy *out)
{
	struct retry_policy p = {0};
	const char *s = text ? text : "";

	p.hold_not_sent_s = RETRY_HOLD_NOT_SENT_S;
	p.hold_invalid_s = RETRY_HOLD_INVALID_S;
	while (*s && isspace((unsigned char)*s))
		s++;
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (p.n_delays == RETRY_DELAYS_MAX)
			return -E_CONFIG;
		if (parse_delay(s, len, &p.delays_s[p.n_delays]))
			return -E_CONFIG;
		p.n_delays++;
		if (!comma)
			break;
		s = comma + 1;
		if (!*s)
			return -E_CONFIG; /* a trailing comma: an empty last item */
	}
	*out = p;
	return 0;
}

int retry_max_attempts(const struct retry_policy *p)
{
	return 1 + p->n_delays;
}

static int64_t next_midnight(int64_t now)
{
	return sched_day_start(clock_local_day((time_t)now) + 1);
}

void retry_decide(const struct retry_policy *p, enum pay_class cls, int prev_attempts,
                  int64_t prev_retry_at, int64_t now, struct retry_decision *out)
{
	struct retry_decision d = {0};

	if (prev_attempts < 0)
		prev_attempts = 0;
	d.attempts = prev_attempts;
	switch (cls) {
	case PAY_DECLINED:
	case PAY_SID_DEAD:
	case PAY_LIMIT:
		d.counted = true;
		d.state_changes = true;
		d.attempts = prev_attempts + 1;
		d.first_failure = prev_attempts == 0;
		if (cls != PAY_DECLINED || d.attempts >= retry_max_attempts(p)) {
			d.state = RETRY_EXHAUSTED;
			d.exhausted_now = true;
		} else {
			int n = d.attempts; /* delays[n-1] follows the n-th decline */
			int64_t base = now;

			if (n >= 2 && p->delays_s[n - 2] > 0 && prev_retry_at > 0)
				base = prev_retry_at;
			d.state = RETRY_SCHEDULED;
			d.next_retry_at = base + p->delays_s[n - 1];
			if (d.next_retry_at < now)
				d.next_retry_at = now;
		}
		break;
	case PAY_UNKNOWN:
	case PAY_VERIFY:
		d.state_changes = true;
		d.state = RETRY_UNKNOWN;
		break;
	case PAY_RETRY_LATER:
		d.hold_until = next_midnight(now);
		break;
	case PAY_NOT_SENT:
		d.hold_until = now + p->hold_not_sent_s;
		break;
	case PAY_INVALID:
	case PAY_CONFIG:
		d.hold_until = now + p->hold_invalid_s;
		break;
	default: /* PAY_OK is not a failure: nothing changes */
		break;
	}
	*out = d;
}

static const char *const state_names[] = {"NONE", "SCHEDULED", "UNKNOWN", "EXHAUSTED"};

const char *retry_state_name(enum retry_state s)
{
	if ((unsigned)s > RETRY_EXHAUSTED)
		return "NONE";
	return state_names[s];
}

int retry_state_parse(const char *name, enum retry_state *out)
{
	for (int i = 0; name && i <= (int)RETRY_EXHAUSTED; i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum retry_state)i;
			return 0;
		}
	return -E_VALIDATION_FAILED;
}
