/* router: the route table and the request pipeline (see router.h). */
#include "api/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <civetweb.h>

#include "api/auth.h"
#include "api/config.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/worker.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/err.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/banned.h"

const struct route api_routes[] = {
    /* operations (§10) */
    {"GET", "/health", h_health, AUTH_PUBLIC, 0},
    {"GET", "/ready", h_ready, AUTH_PUBLIC, 0},
    {"GET", "/metrics", h_metrics, AUTH_PUBLIC, 0},
    {"GET", "/profile", h_profile, AUTH_PUBLIC, 0},
    {"GET", "/openapi.json", h_openapi, AUTH_PUBLIC, 0},
    {"GET", "/docs", h_docs, AUTH_PUBLIC, 0},
    /* users and authentication (§3) */
    {"POST", "/api/users", h_user_signup, AUTH_PUBLIC, ROUTE_BODY},
    {"POST", "/api/users/auth", h_user_login, AUTH_PUBLIC, ROUTE_BODY},
    {"POST", "/api/users/refresh", h_user_refresh, AUTH_PUBLIC, 0},
    {"POST", "/api/users/logout", h_user_logout, AUTH_USER, 0},
    {"GET", "/api/users/{userId}", h_user_get, AUTH_USER, 0},
    {"PATCH", "/api/users/{userId}", h_user_patch, AUTH_USER, ROUTE_BODY},
    {"DELETE", "/api/users/{userId}", h_user_delete, AUTH_USER, 0},
    /* items (§4) */
    {"GET", "/api/items/main", h_items_main, AUTH_PUBLIC, 0},
    {"GET", "/api/items/search", h_items_search, AUTH_PUBLIC, 0},
    {"GET", "/api/items/on-sale", h_items_on_sale, AUTH_PUBLIC, 0},
    {"GET", "/api/items/categories", h_items_categories, AUTH_PUBLIC, 0},
    {"GET", "/api/items/brands", h_items_brands, AUTH_PUBLIC, 0},
    {"GET", "/api/items/{itemId}", h_item_get, AUTH_PUBLIC, 0},
    /* carts (§5) */
    {"GET", "/api/carts/normal/{cartId}", h_cart_normal_get, AUTH_USER, 0},
    {"POST", "/api/carts/normal/{cartId}", h_cart_normal_add, AUTH_USER, 0},
    {"DELETE", "/api/carts/normal/{cartId}", h_cart_normal_remove, AUTH_USER, 0},
    {"PATCH", "/api/carts/normal/{cartId}", h_cart_normal_quantity, AUTH_USER, 0},
    {"GET", "/api/carts/subscription/{cartId}", h_cart_sub_get, AUTH_USER, 0},
    {"POST", "/api/carts/subscription/{cartId}", h_cart_sub_add, AUTH_USER, ROUTE_BODY},
    {"DELETE", "/api/carts/subscription/{cartId}", h_cart_sub_remove, AUTH_USER, 0},
    {"PATCH", "/api/carts/subscription/{cartId}/quantity", h_cart_sub_quantity, AUTH_USER, 0},
    {"PATCH", "/api/carts/subscription/{cartId}/period", h_cart_sub_period, AUTH_USER, 0},
    /* orders (§6) */
    {"POST", "/api/orders", h_order_create, AUTH_USER, ROUTE_BODY},
    {"GET", "/api/orders", h_orders_list, AUTH_USER, 0},
    {"GET", "/api/orders/subscriptions", h_orders_subscriptions, AUTH_USER, 0},
    {"GET", "/api/orders/{orderId}", h_order_get, AUTH_USER, 0},
    {"PATCH", "/api/orders/subscriptions/{orderId}", h_order_subscription_quantity, AUTH_USER, 0},
    /* reviews (§9) */
    {"POST", "/api/reviews", h_review_create, AUTH_USER, ROUTE_BODY},
    {"PATCH", "/api/reviews", h_review_update, AUTH_USER, ROUTE_BODY},
    {"DELETE", "/api/reviews", h_review_delete, AUTH_USER, ROUTE_BODY},
    {"GET", "/api/reviews/{reviewId}", h_review_get, AUTH_PUBLIC, 0},
    {"GET", "/api/reviews/items/{itemId}", h_reviews_by_item, AUTH_PUBLIC, 0},
    {"GET", "/api/reviews/users/{userId}", h_reviews_by_user, AUTH_PUBLIC, 0},
    /* payments (§7): entries below this line */
    {"POST", "/api/payments/{orderId}", h_payment_ready, AUTH_USER, 0},
    {"GET", "/api/payments/approve/{orderId}", h_payment_approve, AUTH_PUBLIC, 0},
    {"GET", "/api/payments/cancel/{orderId}/{paymentKey}", h_payment_cancel, AUTH_PUBLIC, 0},
    {"GET", "/api/payments/fail/{orderId}/{paymentKey}", h_payment_fail, AUTH_PUBLIC, 0},
    {"GET", "/api/payments/lookup/{orderId}", h_payment_lookup, AUTH_USER, 0},
    {"POST", "/api/payments/approve/subscriptions/{subscriptionOrderId}", h_payment_charge_now,
     AUTH_ADMIN, 0},
    {"POST", "/api/payments/refund/{orderId}", h_payment_refund, AUTH_USER, ROUTE_BODY},
    {"POST", "/api/payments/subscriptions/cancel/{subscriptionOrderId}",
     h_payment_subscription_cancel, AUTH_USER, 0},
    /* subscriptions (§8) */
    {"GET", "/api/subscriptions/{subscriptionOrderId}", h_subscription_get, AUTH_USER, 0},
    {"PATCH", "/api/subscriptions", h_subscription_period, AUTH_USER, 0},
    {"DELETE", "/api/subscriptions", h_subscription_cancel, AUTH_USER, 0},
    {"POST", "/api/subscriptions/{subscriptionOrderId}/pause", h_subscription_pause, AUTH_USER, 0},
    {"POST", "/api/subscriptions/{subscriptionOrderId}/resume", h_subscription_resume, AUTH_USER,
     0},
    {"POST", "/api/subscriptions/{subscriptionOrderId}/skip", h_subscription_skip, AUTH_USER, 0},
    /* oauth2 (§3.7): entries below this line */
    {"GET", "/oauth2/authorization/{provider}", h_oauth_authorize, AUTH_PUBLIC, 0},
    {"GET", "/login/oauth2/code/{provider}", h_oauth_callback, AUTH_PUBLIC, 0},
    {"POST", "/api/users/more-info", h_user_more_info, AUTH_PUBLIC, ROUTE_BODY},
    {"POST", "/api/users/oauth2/link", h_user_oauth_link, AUTH_PUBLIC, ROUTE_BODY},
};

const unsigned api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

/*
 * Matches path against pattern; on success copies path into storage, stores the {param}
 * segments (NUL-terminated, inside storage) and returns the number of literal segments;
 * -1 when the pattern does not match.
 */
static int match(const char *pattern, const char *path, char *storage, size_t cap,
                 const char **params, size_t *nparams)
{
	size_t len = strlen(path), np = 0;
	char *ends[REQ_MAX_PARAMS];
	const char *p = pattern;
	char *s = storage;
	int literals = 0;

	if (len + 1 > cap)
		return -1;
	memcpy(storage, path, len + 1);
	for (;;) {
		const char *pend;
		char *send;

		if (*p != '/' || *s != '/')
			return -1;
		p++;
		s++;
		pend = strchrnul(p, '/');
		send = strchrnul(s, '/');
		if (*p == '{') {
			if (send == s || np >= REQ_MAX_PARAMS)
				return -1;
			params[np] = s;
			ends[np++] = send;
		} else {
			if ((size_t)(pend - p) != (size_t)(send - s) ||
			    memcmp(p, s, (size_t)(pend - p)) != 0)
				return -1;
			literals++;
		}
		p = pend;
		s = send;
		if (!*p && !*s)
			break;
		if (!*p || !*s)
			return -1;
	}
	for (size_t i = 0; i < np; i++)
		*ends[i] = '\0';
	*nparams = np;
	return literals;
}

static void observe(struct req *r)
{
	char labels[512];
	const char *route = r->route ? r->route->pattern : "unmatched";
	struct timespec ts;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	secs = ((double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 - r->started_ms) / 1000.0;

	snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\",status=\"%d\"",
	         r->route ? r->route->method : "OTHER", route, r->status);
	metrics_inc("http_requests_total", labels, 1);
	snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\"",
	         r->route ? r->route->method : "OTHER", route);
	metrics_observe("http_request_duration_seconds", labels, secs);

	log_info("request", "method:s", r->method, "path:s", r->path, "route:s", route, "status:i",
	         (long long)r->status, "ms:f", secs * 1000.0, "bytes:u",
	         (unsigned long long)r->bytes_sent, "ip:s", r->client_ip, "user:i",
	         (long long)(r->auth.present ? r->auth.uid : 0), "error:s",
	         r->error_rc ? err_name(r->error_rc) : NULL);
}

static int media_type_ok(const char *ct)
{
	/* application/json, optionally with parameters such as "; charset=utf-8" */
	size_t n = strlen("application/json");
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", n))
		return 0;
	ct += n;
	while (*ct == ' ')
		ct++;
	if (*ct == '\0')
		return 1;
	if (*ct != ';')
		return 0;
	ct++;
	while (*ct == ' ')
		ct++;
	if (!strncasecmp(ct, "charset=", 8)) {
		const char *cs = ct + 8;
		if (*cs == '"')
			cs++;
		return !strncasecmp(cs, "utf-8", 5) || !strncasecmp(cs, "utf8", 4);
	}
	return 1;
}

static void run(struct req *r)
{
	char storage[2048], best_storage[2048];
	const char *params[REQ_MAX_PARAMS];
	const struct route *best = NULL;
	const char *allow[16];
	size_t nallow = 0, np = 0;
	int best_lit = -1, any = 0, rc;

	auth_client_ip(r);
	for (unsigned i = 0; i < api_nroutes; i++) {
		const struct route *rt = &api_routes[i];
		const char *pp[REQ_MAX_PARAMS];
		size_t n = 0;
		int lit = match(rt->pattern, r->path, storage, sizeof(storage), pp, &n);
		if (lit < 0)
			continue;
		any = 1;
		int dup = 0;
		for (size_t k = 0; k < nallow; k++)
			dup |= !strcmp(allow[k], rt->method);
		if (!dup && nallow < 15)
			allow[nallow++] = rt->method;
		if (strcmp(rt->method, r->method) != 0 &&
		    !(strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0))
			continue;
		if (lit > best_lit) {
			best = rt;
			best_lit = lit;
			memcpy(best_storage, storage, sizeof(storage));
			/* rebase the parameter pointers onto best_storage */
			for (size_t k = 0; k < n; k++)
				params[k] = best_storage + (pp[k] - storage);
			np = n;
		}
	}
	if (!any) {
		http_send_error(r, -E_NOT_FOUND, NULL);
		return;
	}
	if (!strcmp(r->method, "OPTIONS")) {
		/* CORS preflight: every route, no authentication */
		http_send_empty(r, 204);
		return;
	}
	if (!best) {
		struct buf b = BUF_INIT(256);
		for (size_t k = 0; k < nallow; k++)
			buf_printf(&b, "%s%s", k ? ", " : "", allow[k]);
		buf_printf(&b, "%sOPTIONS", nallow ? ", " : "");
		http_add_header(r, "Allow", b.data ? b.data : "OPTIONS");
		buf_release(&b);
		http_send_error(r, -E_METHOD_NOT_ALLOWED, NULL);
		return;
	}
	r->route = best;
	r->scratch_path = malloc(sizeof(best_storage));
	if (!r->scratch_path) {
		http_send_error(r, -E_NOMEM, NULL);
		return;
	}
	memcpy(r->scratch_path, best_storage, sizeof(best_storage));
	for (size_t k = 0; k < np; k++)
		r->params[k] = r->scratch_path + (params[k] - best_storage);
	r->nparams = np;

	if (best->flags & ROUTE_BODY) {
		const char *ct = req_header(r, "Content-Type");
		if (r->ri->content_length > (long long)r->cfg->max_body) {
			http_send_error(r, -E_PAYLOAD_TOO_LARGE, NULL);
			return;
		}
		rc = req_read_body(r);
		if (rc) {
			http_send_error(r, rc, NULL);
			return;
		}
		if (r->body_len > 0 && !media_type_ok(ct)) {
			http_send_error(r, -E_UNSUPPORTED_MEDIA_TYPE, NULL);
			return;
		}
		if (r->body_len == 0 && ct && !media_type_ok(ct)) {
			http_send_error(r, -E_UNSUPPORTED_MEDIA_TYPE, NULL);
			return;
		}
	}
	if (best->auth != AUTH_PUBLIC) {
		rc = auth_authenticate(r);
		if (rc) {
			http_send_error(r, rc, NULL);
			return;
		}
		if (best->auth == AUTH_ADMIN && !r->auth.admin) {
			http_send_error(r, -E_ACCESS_DENIED_USER, NULL);
			return;
		}
	}
	if (best->flags & ROUTE_BODY) {
		rc = req_parse_json(r);
		if (rc) {
			http_send_error(r, rc, NULL);
			return;
		}
	}
	rc = best->handler(r);
	if (!r->status) {
		/* a handler that returned without answering: its error, or a bug */
		http_send_error(r, rc ? rc : -E_INTERNAL_ERROR, NULL);
	}
}

void router_dispatch(struct req *r)
{
	run(r);
	if (r->status >= 500 && r->error_rc)
		log_warn("server error", "code:s", err_name(r->error_rc), "db:s",
		         r->w ? db_last_error(r->w->db) : NULL, "redis:s",
		         r->w ? redis_last_error(r->w->redis) : NULL);
	observe(r);
}
