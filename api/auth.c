/* auth: token authentication and issuance, client address (see auth.h). */
#include "api/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <civetweb.h>

#include "api/config.h"
#include "api/http.h"
#include "api/worker.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/token.h"
#include "common/tokstore.h"
#include "common/banned.h"

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

int auth_authenticate(struct req *r)
{
	const char *h = req_header(r, "Authorization");
	struct token_claims c;
	int rc;

	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return -E_UNAUTHORIZED;
	h += 7;
	while (*h == ' ')
		h++;
	if (!*h)
		return -E_UNAUTHORIZED;
	rc = token_verify(&r->cfg->keys, h, TOKEN_ACCESS, (int64_t)clock_now(), &c);
	if (rc)
		return rc;
	rc = tokstore_check(r->w->redis, &c);
	if (rc)
		return rc;
	r->auth.present = true;
	r->auth.uid = c.uid;
	r->auth.admin = c.admin;
	r->auth.exp = c.exp;
	copy_str(r->auth.email, sizeof(r->auth.email), c.sub);
	copy_str(r->auth.jti, sizeof(r->auth.jti), c.jti);
	copy_str(r->auth.fam, sizeof(r->auth.fam), c.fam);
	return 0;
}

int auth_issue_tokens(struct req *r, int64_t uid, const char *email, bool admin, const char *fam,
                      const char *refresh_jti_to_rotate)
{
	struct token_claims access = {0}, refresh = {0};
	char *access_jwt = NULL, *refresh_jwt = NULL;
	char bearer[4096], uidbuf[32];
	int64_t now = (int64_t)clock_now();
	int rc;

	access.uid = refresh.uid = uid;
	access.admin = refresh.admin = admin;
	copy_str(access.sub, sizeof(access.sub), email);
	copy_str(refresh.sub, sizeof(refresh.sub), email);
	if (fam)
		copy_str(access.fam, sizeof(access.fam), fam);
	else if ((rc = crypto_uuid4(access.fam)))
		return rc;
	memcpy(refresh.fam, access.fam, sizeof(refresh.fam));
	if ((rc = crypto_uuid4(access.jti)) || (rc = crypto_uuid4(refresh.jti)))
		return rc;
	access.iat = refresh.iat = now;
	access.exp = now + r->cfg->access_ttl_s;
	refresh.exp = now + r->cfg->refresh_ttl_s;
	access.typ = TOKEN_ACCESS;
	refresh.typ = TOKEN_REFRESH;

	if (refresh_jti_to_rotate)
		rc = tokstore_family_rotate(r->w->redis, refresh.fam, refresh_jti_to_rotate,
		                            refresh.jti, (int)r->cfg->refresh_ttl_s);
	else
		rc = tokstore_family_create(r->w->redis, refresh.fam, uid, refresh.jti,
		                            (int)r->cfg->refresh_ttl_s);
	if (rc)
		return rc;
	if ((rc = token_issue(&r->cfg->keys, &access, &access_jwt)) ||
	    (rc = token_issue(&r->cfg->keys, &refresh, &refresh_jwt)))
		goto out;
	snprintf(bearer, sizeof(bearer), "Bearer %s", access_jwt);
	snprintf(uidbuf, sizeof(uidbuf), "%lld", (long long)uid);
	if ((rc = http_add_header(r, "Authorization", bearer)) ||
	    (rc = http_add_header(r, "Refresh", refresh_jwt)) ||
	    (rc = http_add_header(r, "userId", uidbuf)))
		goto out;
out:
	free(access_jwt);
	free(refresh_jwt);
	return rc;
}

void auth_client_ip(struct req *r)
{
	const char *peer = r->ri->remote_addr;
	const char *xff;

	copy_str(r->client_ip, sizeof(r->client_ip), peer);
	if (!config_trusted_proxy(r->cfg, peer))
		return;
	xff = req_header(r, "X-Forwarded-For");
	if (!xff)
		return;
	while (*xff == ' ')
		xff++;
	size_t n = strcspn(xff, ", ");
	if (n == 0 || n >= sizeof(r->client_ip))
		return;
	memcpy(r->client_ip, xff, n);
	r->client_ip[n] = '\0';
}

bool auth_owns(const struct req *r, int64_t uid, bool admin_ok)
{
	if (!r->auth.present)
		return false;
	return r->auth.uid == uid || (admin_ok && r->auth.admin);
}
