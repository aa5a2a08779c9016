/*
 * config: the configuration table of pillivery-api (every PV_* option with its default) and
 * the settings derived from it once at start (CORS origins, trusted proxies, metrics
 * networks, token keys). Built by config_load in main before the server starts; read-only
 * afterwards, so every worker thread may read it.
 */
#ifndef PV_API_CONFIG_H
#define PV_API_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/db.h"
#include "common/redis.h"
#include "common/token.h"
#include "core/retry.h"
#include "external/kakaopay.h"
#include "external/oauth.h"

#define CONFIG_MAX_LIST 32

struct cfg;

struct net4 {
	uint32_t addr, mask; /* host order */
};

struct api_config {
	struct cfg *cfg;
	const char *bind;
	int port;
	int threads;
	struct db_config db;
	struct redis_config redis;
	struct token_keys keys;
	int64_t access_ttl_s;
	int64_t refresh_ttl_s;
	int hash_concurrency; /* 0 = CPU count */
	int login_max_failures;
	int login_window_s;
	size_t max_body;
	size_t max_header;
	int json_max_depth;
	int idle_timeout_ms;
	int views_flush_s;         /* item views: Redis -> items.views every this many seconds */
	int main_cache_ttl_s;      /* expiry of the cached main page */
	struct retry_policy retry; /* PV_BILLING_RETRY_DELAYS: retry.maxAttempts (API.md §8.1) */
	const char *profile;
	const char *public_base_url;
	const char *storefront_url;
	struct kakaopay_config kakaopay; /* PV_KAKAOPAY_* (KAKAOPAY.md §0) */
	const char *cid_onetime;
	const char *cid_subscription;
	struct oauth_provider oauth[2]; /* [OAUTH_KAKAO], [OAUTH_GOOGLE] (API.md §3.7) */
	char *cors_origins[CONFIG_MAX_LIST];
	size_t ncors;
	struct net4 trusted_proxies[CONFIG_MAX_LIST];
	size_t ntrusted;
	struct net4 metrics_allow[CONFIG_MAX_LIST];
	size_t nmetrics_allow;
};

/* Loads and validates; on failure returns -E_CONFIG with a one-line message in err. */
int config_load(struct api_config *c, const char *file, char *err, size_t errlen);
void config_release(struct api_config *c);
void config_help(FILE *f);

bool config_cors_allowed(const struct api_config *c, const char *origin);
bool config_trusted_proxy(const struct api_config *c, const char *ip);
bool config_metrics_allowed(const struct api_config *c, const char *ip);

#endif
