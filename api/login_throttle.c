/* login_throttle: the shared login throttle (see login_throttle.h). */
#include "api/login_throttle.h"

#include <ctype.h>
#include <stdio.h>

#include "api/config.h"
#include "api/http.h"
#include "api/worker.h"
#include "common/err.h"
#include "common/metrics.h"
#include "common/throttle.h"
#include "common/banned.h"

void login_throttle_keys(const struct req *r, const char *email, char *acct, size_t acct_len,
                         char *ip, size_t ip_len)
{
	/* throttle adds the Redis key prefix */
	size_t n = (size_t)snprintf(acct, acct_len, "login:acct:");
	for (const char *p = email; *p && n + 1 < acct_len; p++)
		acct[n++] = (char)tolower((unsigned char)*p);
	acct[n < acct_len ? n : acct_len - 1] = '\0';
	snprintf(ip, ip_len, "login:ip:%s", r->client_ip);
}

/* Counts a failed login for the account and the client. */
int login_throttle_count_failure(struct req *r, const char *acct, const char *ip, int64_t now_ms)
{
	int rc = throttle_hit(r->w->redis, acct, r->cfg->login_window_s, now_ms);
	if (rc == 0)
		rc = throttle_hit(r->w->redis, ip, r->cfg->login_window_s, now_ms);
	metrics_inc("login_failures_total", "", 1);
	return rc;
}

/* 0 when allowed; answers 429 (or the Redis error) and returns non-zero otherwise. */
int login_throttle_check(struct req *r, const char *acct, const char *ip, int64_t now_ms)
{
	int after_a = 0, after_i = 0, rc;
	char buf[16];

	rc = throttle_check(r->w->redis, acct, r->cfg->login_max_failures, r->cfg->login_window_s,
	                    now_ms, &after_a);
	if (rc < 0)
		return http_send_error(r, rc, NULL), 1;
	int limited = rc;
	rc = throttle_check(r->w->redis, ip, r->cfg->login_max_failures, r->cfg->login_window_s,
	                    now_ms, &after_i);
	if (rc < 0)
		return http_send_error(r, rc, NULL), 1;
	limited |= rc;
	if (!limited)
		return 0;
	snprintf(buf, sizeof(buf), "%d", after_a > after_i ? after_a : after_i);
	http_add_header(r, "Retry-After", buf);
	http_send_error(r, -E_TOO_MANY_LOGIN_ATTEMPTS, NULL);
	return 1;
}
