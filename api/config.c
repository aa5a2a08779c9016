/* config: pillivery-api's option table and derived settings (see config.h). */
#include "api/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/cfg_shared.h"
#include "common/err.h"
#include "core/retry.h"
#include "external/kakaopay.h"
#include "common/banned.h"

static const struct cfg_opt api_options[] = {
    CFG_OPTS_DB,
    CFG_OPTS_REDIS,
    KAKAOPAY_CFG_OPTS,
    CFG_OPTS_RUNTIME,
    {"PV_API_BIND", CFG_STR, "0.0.0.0", 1, 64, 0, "address to listen on"},
    {"PV_API_PORT", CFG_INT, "8080", 1, 65535, 0, "HTTP port"},
    {"PV_API_THREADS", CFG_INT, "32", 2, 512, 0,
     "worker threads (one DB and Redis connection each)"},
    {"PV_JWT_SECRET", CFG_SECRET, NULL, 32, 0, CFG_REQUIRED, "HS256 signing secret, >= 32 bytes"},
    {"PV_JWT_ISSUER", CFG_STR, "pillivery", 1, 100, 0, "JWT iss claim"},
    {"PV_JWT_ACCESS_TTL_S", CFG_INT, "1800", 10, 86400, 0, "access token lifetime"},
    {"PV_JWT_REFRESH_TTL_S", CFG_INT, "604800", 60, 31536000, 0, "refresh token lifetime"},
    {"PV_PASSWORD_HASH_CONCURRENCY", CFG_INT, "0", 0, 256, 0,
     "password hashes computed at once (each yescrypt hash uses 16 MiB); 0 = CPU count"},
    {"PV_LOGIN_MAX_FAILURES", CFG_INT, "10", 1, 1000, 0, "failed logins in the window before 429"},
    {"PV_LOGIN_WINDOW_S", CFG_INT, "900", 1, 86400, 0, "login throttle sliding window"},
    {"PV_MAX_BODY_BYTES", CFG_INT, "65536", 1024, 16777216, 0, "request body cap (413 above)"},
    {"PV_MAX_HEADER_BYTES", CFG_INT, "16384", 4096, 1048576, 0, "request line + headers cap"},
    {"PV_JSON_MAX_DEPTH", CFG_INT, "16", 2, 64, 0, "JSON nesting limit"},
    {"PV_IDLE_TIMEOUT_MS", CFG_INT, "30000", 1000, 600000, 0, "client idle / slow body timeout"},
    {"PV_VIEWS_FLUSH_S", CFG_INT, "600", 1, 86400, 0,
     "seconds between two writes of the item view counts from Redis to MariaDB"},
    {"PV_MAIN_CACHE_TTL_S", CFG_INT, "600", 1, 86400, 0,
     "expiry of the cached GET /api/items/main answer"},
    {"PV_CORS_ALLOWED_ORIGINS", CFG_STR, "http://localhost:3000", 0, 4096, 0,
     "comma-separated exact origins"},
    {"PV_TRUSTED_PROXIES", CFG_STR, "", 0, 4096, 0,
     "comma-separated IPv4 addresses or CIDRs whose X-Forwarded-For is believed"},
    {"PV_METRICS_ALLOW", CFG_STR, "", 0, 4096, 0,
     "comma-separated IPv4 addresses or CIDRs allowed to read /metrics (empty: all)"},
    {"PV_PUBLIC_BASE_URL", CFG_STR, "http://localhost:8080", 1, 255, 0,
     "public URL of this API (payment redirects)"},
    /* billing (API.md §2.7): the retry policy the API shows, the same option as the daemon's */
    {"PV_BILLING_RETRY_DELAYS", CFG_STR, RETRY_DEFAULT_DELAYS, 0, 255, 0,
     "retry delays after a declined recurring charge (s, m, h or d; retry.maxAttempts = 1 + "
     "their number)"},
    /* payments (KAKAOPAY.md §0): options below this line */
    {"PV_KAKAOPAY_CID_ONETIME", CFG_STR, "TC0ONETIME", 1, 32, 0, "CID for one-time payments"},
    {"PV_KAKAOPAY_CID_SUBSCRIPTION", CFG_STR, "TCSUBSCRIP", 1, 32, 0,
     "CID for subscription payments (issues the SID)"},
    /* oauth2 (API.md §3.7): options below this line */
    {"PV_OAUTH_CONNECT_TIMEOUT_MS", CFG_INT, "3000", 100, 60000, 0,
     "OAuth provider call connect timeout"},
    {"PV_OAUTH_TIMEOUT_MS", CFG_INT, "10000", 100, 120000, 0, "OAuth provider call total timeout"},
    {"PV_OAUTH_KAKAO_CLIENT_ID", CFG_STR, "", 0, 255, 0,
     "Kakao REST API key (empty: /oauth2/authorization/kakao answers 404)"},
    {"PV_OAUTH_KAKAO_CLIENT_SECRET", CFG_SECRET, "", 0, 0, 0, "Kakao client secret (empty: none)"},
    {"PV_OAUTH_KAKAO_AUTHORIZE_URL", CFG_STR, "https://kauth.kakao.com/oauth/authorize", 1, 255, 0,
     "Kakao authorize endpoint"},
    {"PV_OAUTH_KAKAO_TOKEN_URL", CFG_STR, "https://kauth.kakao.com/oauth/token", 1, 255, 0,
     "Kakao token endpoint"},
    {"PV_OAUTH_KAKAO_PROFILE_URL", CFG_STR, "https://kapi.kakao.com/v2/user/me", 1, 255, 0,
     "Kakao user profile endpoint"},
    {"PV_OAUTH_KAKAO_SCOPE", CFG_STR, "profile_nickname account_email", 0, 255, 0, "Kakao scopes"},
    {"PV_OAUTH_KAKAO_PKCE", CFG_BOOL, "false", 0, 0, 0, "send a PKCE S256 challenge to Kakao"},
    {"PV_OAUTH_GOOGLE_CLIENT_ID", CFG_STR, "", 0, 255, 0,
     "Google client id (empty: /oauth2/authorization/google answers 404)"},
    {"PV_OAUTH_GOOGLE_CLIENT_SECRET", CFG_SECRET, "", 0, 0, 0, "Google client secret"},
    {"PV_OAUTH_GOOGLE_AUTHORIZE_URL", CFG_STR, "https://accounts.google.com/o/oauth2/v2/auth", 1,
     255, 0, "Google authorize endpoint"},
    {"PV_OAUTH_GOOGLE_TOKEN_URL", CFG_STR, "https://oauth2.googleapis.com/token", 1, 255, 0,
     "Google token endpoint"},
    {"PV_OAUTH_GOOGLE_PROFILE_URL", CFG_STR, "https://openidconnect.googleapis.com/v1/userinfo", 1,
     255, 0, "Google userinfo endpoint"},
    {"PV_OAUTH_GOOGLE_SCOPE", CFG_STR, "openid email profile", 0, 255, 0, "Google scopes"},
    {"PV_OAUTH_GOOGLE_PKCE", CFG_BOOL, "true", 0, 0, 0, "send a PKCE S256 challenge to Google"},
    {"PV_STOREFRONT_URL", CFG_STR, "http://localhost:3000", 1, 255, 0, "storefront URL"},
};

#define API_NOPTIONS (sizeof(api_options) / sizeof(api_options[0]))

void config_help(FILE *f)
{
	cfg_print_help(
	    f,
	    "usage: pillivery-api [--config FILE] [--migrate] [--help]\n"
	    "  --migrate   apply the schema migrations and exit\n"
	    "Options are PV_* environment variables (or PV_NAME=value lines in FILE; the "
	    "environment wins):",
	    api_options, API_NOPTIONS);
}

static int parse_net4(const char *s, struct net4 *out)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr in;
	long bits = 32;

	if (n == 0 || n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1)
		return -1;
	if (slash) {
		char *end;
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || bits < 0 || bits > 32)
			return -1;
	}
	out->mask = bits == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - bits));
	out->addr = ntohl(in.s_addr) & out->mask;
	return 0;
}

/* Splits a comma list into trimmed, non-empty items; calls fn for each. */
static int split_list(const char *list, int (*fn)(const char *item, void *arg), void *arg)
{
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char item[256];

		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n >= sizeof(item))
			return -1;
		if (n) {
			memcpy(item, p, n);
			item[n] = '\0';
			if (fn(item, arg))
				return -1;
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

struct net_list {
	struct net4 *nets;
	size_t *n;
};

static int add_net(const char *item, void *arg)
{
	struct net_list *l = arg;
	if (*l->n >= CONFIG_MAX_LIST || parse_net4(item, &l->nets[*l->n]))
		return -1;
	(*l->n)++;
	return 0;
}

static int add_origin(const char *item, void *arg)
{
	struct api_config *c = arg;
	if (c->ncors >= CONFIG_MAX_LIST)
		return -1;
	c->cors_origins[c->ncors] = strdup(item);
	if (!c->cors_origins[c->ncors])
		return -1;
	c->ncors++;
	return 0;
}

int config_load(struct api_config *c, const char *file, char *err, size_t errlen)
{
	struct cfg *cfg = NULL;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = cfg_load(&cfg, api_options, API_NOPTIONS, file, err, errlen);
	if (rc)
		return rc;
	c->cfg = cfg;
	c->bind = cfg_str(cfg, "PV_API_BIND");
	c->port = (int)cfg_int(cfg, "PV_API_PORT");
	c->threads = (int)cfg_int(cfg, "PV_API_THREADS");
	c->db = cfg_db_config(cfg);
	c->redis = cfg_redis_config(cfg);
	c->keys.secret = (const unsigned char *)cfg_str(cfg, "PV_JWT_SECRET");
	c->keys.secret_len = strlen(cfg_str(cfg, "PV_JWT_SECRET"));
	c->keys.issuer = cfg_str(cfg, "PV_JWT_ISSUER");
	c->access_ttl_s = cfg_int(cfg, "PV_JWT_ACCESS_TTL_S");
	c->refresh_ttl_s = cfg_int(cfg, "PV_JWT_REFRESH_TTL_S");
	c->hash_concurrency = (int)cfg_int(cfg, "PV_PASSWORD_HASH_CONCURRENCY");
	c->login_max_failures = (int)cfg_int(cfg, "PV_LOGIN_MAX_FAILURES");
	c->login_window_s = (int)cfg_int(cfg, "PV_LOGIN_WINDOW_S");
	c->max_body = (size_t)cfg_int(cfg, "PV_MAX_BODY_BYTES");
	c->max_header = (size_t)cfg_int(cfg, "PV_MAX_HEADER_BYTES");
	c->json_max_depth = (int)cfg_int(cfg, "PV_JSON_MAX_DEPTH");
	c->idle_timeout_ms = (int)cfg_int(cfg, "PV_IDLE_TIMEOUT_MS");
	c->views_flush_s = (int)cfg_int(cfg, "PV_VIEWS_FLUSH_S");
	c->main_cache_ttl_s = (int)cfg_int(cfg, "PV_MAIN_CACHE_TTL_S");
	c->profile = cfg_str(cfg, "PV_PROFILE");
	c->public_base_url = cfg_str(cfg, "PV_PUBLIC_BASE_URL");
	c->storefront_url = cfg_str(cfg, "PV_STOREFRONT_URL");
	c->kakaopay = kakaopay_cfg_read(cfg);
	c->cid_onetime = cfg_str(cfg, "PV_KAKAOPAY_CID_ONETIME");
	c->cid_subscription = cfg_str(cfg, "PV_KAKAOPAY_CID_SUBSCRIPTION");
	if (retry_policy_parse(cfg_str(cfg, "PV_BILLING_RETRY_DELAYS"), &c->retry)) {
		snprintf(err, errlen,
		         "PV_BILLING_RETRY_DELAYS: expected a comma-separated list of at most %d "
		         "delays, each 0..30d with an optional unit s, m, h or d (e.g. \"%s\")",
		         RETRY_DELAYS_MAX, RETRY_DEFAULT_DELAYS);
		goto fail;
	}
	if (kakaopay_config_check(&c->kakaopay)) {
		snprintf(
		    err, errlen,
		    "PV_KAKAOPAY_BASE_URL: expected an https:// URL (http:// only for a loopback "
		    "host)");
		goto fail;
	}
	/* oauth2 (API.md §3.7) */
	for (int k = 0; k < 2; k++) {
		static const char *const names[2] = {"kakao", "google"};
		static const char *const keys[2][7] = {
		    {"PV_OAUTH_KAKAO_CLIENT_ID", "PV_OAUTH_KAKAO_CLIENT_SECRET",
		     "PV_OAUTH_KAKAO_AUTHORIZE_URL", "PV_OAUTH_KAKAO_TOKEN_URL",
		     "PV_OAUTH_KAKAO_PROFILE_URL", "PV_OAUTH_KAKAO_SCOPE", "PV_OAUTH_KAKAO_PKCE"},
		    {"PV_OAUTH_GOOGLE_CLIENT_ID", "PV_OAUTH_GOOGLE_CLIENT_SECRET",
		     "PV_OAUTH_GOOGLE_AUTHORIZE_URL", "PV_OAUTH_GOOGLE_TOKEN_URL",
		     "PV_OAUTH_GOOGLE_PROFILE_URL", "PV_OAUTH_GOOGLE_SCOPE",
		     "PV_OAUTH_GOOGLE_PKCE"}};
		c->oauth[k] = (struct oauth_provider){
		    .name = names[k],
		    .kind = k == 0 ? OAUTH_KAKAO : OAUTH_GOOGLE,
		    .client_id = cfg_str(cfg, keys[k][0]),
		    .client_secret = cfg_str(cfg, keys[k][1]),
		    .authorize_url = cfg_str(cfg, keys[k][2]),
		    .token_url = cfg_str(cfg, keys[k][3]),
		    .profile_url = cfg_str(cfg, keys[k][4]),
		    .scope = cfg_str(cfg, keys[k][5]),
		    .pkce = cfg_bool(cfg, keys[k][6]),
		    .connect_timeout_ms = (long)cfg_int(cfg, "PV_OAUTH_CONNECT_TIMEOUT_MS"),
		    .timeout_ms = (long)cfg_int(cfg, "PV_OAUTH_TIMEOUT_MS"),
		};
	}

	if (split_list(cfg_str(cfg, "PV_CORS_ALLOWED_ORIGINS"), add_origin, c)) {
		snprintf(err, errlen, "PV_CORS_ALLOWED_ORIGINS: at most %d origins of < 256 chars",
		         CONFIG_MAX_LIST);
		goto fail;
	}
	for (size_t i = 0; i < c->ncors; i++) {
		if (!strcmp(c->cors_origins[i], "*")) {
			snprintf(err, errlen,
			         "PV_CORS_ALLOWED_ORIGINS: \"*\" is not allowed with credentials; "
			         "list the exact origins");
			goto fail;
		}
	}
	struct net_list tp = {c->trusted_proxies, &c->ntrusted};
	if (split_list(cfg_str(cfg, "PV_TRUSTED_PROXIES"), add_net, &tp)) {
		snprintf(err, errlen, "PV_TRUSTED_PROXIES: expected IPv4 addresses or CIDRs");
		goto fail;
	}
	struct net_list ma = {c->metrics_allow, &c->nmetrics_allow};
	if (split_list(cfg_str(cfg, "PV_METRICS_ALLOW"), add_net, &ma)) {
		snprintf(err, errlen, "PV_METRICS_ALLOW: expected IPv4 addresses or CIDRs");
		goto fail;
	}
	return 0;
fail:
	config_release(c);
	return -E_CONFIG;
}

void config_release(struct api_config *c)
{
	for (size_t i = 0; i < c->ncors; i++)
		free(c->cors_origins[i]);
	cfg_free(c->cfg);
	memset(c, 0, sizeof(*c));
}

bool config_cors_allowed(const struct api_config *c, const char *origin)
{
	if (!origin)
		return false;
	for (size_t i = 0; i < c->ncors; i++)
		if (!strcmp(c->cors_origins[i], origin))
			return true;
	return false;
}

static bool in_nets(const struct net4 *nets, size_t n, const char *ip)
{
	struct in_addr in;
	uint32_t a;

	if (!ip)
		return false;
	if (!strncmp(ip, "::ffff:", 7))
		ip += 7;
	if (inet_pton(AF_INET, ip, &in) != 1)
		return false;
	a = ntohl(in.s_addr);
	for (size_t i = 0; i < n; i++)
		if ((a & nets[i].mask) == nets[i].addr)
			return true;
	return false;
}

bool config_trusted_proxy(const struct api_config *c, const char *ip)
{
	return in_nets(c->trusted_proxies, c->ntrusted, ip);
}

bool config_metrics_allowed(const struct api_config *c, const char *ip)
{
	return c->nmetrics_allow == 0 || in_nets(c->metrics_allow, c->nmetrics_allow, ip);
}
