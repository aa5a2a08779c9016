/* h_ops: the operations endpoints of API.md §10 (/health, /ready, /metrics, /profile,
 * /openapi.json, /docs). */
#include <stdio.h>
#include <string.h>

#include <civetweb.h>

#include "api/config.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/worker.h"
#include "common/buf.h"
#include "common/db.h"
#include "common/embedded.h"
#include "common/err.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "common/banned.h"

extern const struct embedded_file static_assets[];
extern const size_t static_assets_count;

static const struct embedded_file *asset(const char *name)
{
	for (size_t i = 0; i < static_assets_count; i++)
		if (!strcmp(static_assets[i].name, name))
			return &static_assets[i];
	return NULL;
}

int h_health(struct req *r)
{
	return http_send_raw(r, 200, "text/plain; charset=utf-8", "OK", 2);
}

static void check_deps(struct req *r, int *db_ok, int *redis_ok)
{
	*db_ok = db_ping(r->w->db) == 0;
	*redis_ok = redis_ping(r->w->redis) == 0;
	metrics_set("db_up", "", *db_ok);
	metrics_set("redis_up", "", *redis_ok);
}

int h_ready(struct req *r)
{
	char body[128];
	int db_ok, redis_ok, n;

	check_deps(r, &db_ok, &redis_ok);
	n = snprintf(
	    body, sizeof(body), "{\"status\":\"%s\",\"checks\":{\"db\":\"%s\",\"redis\":\"%s\"}}",
	    db_ok && redis_ok ? "UP" : "DOWN", db_ok ? "UP" : "DOWN", redis_ok ? "UP" : "DOWN");
	return http_send_raw(r, db_ok && redis_ok ? 200 : 503, "application/json; charset=utf-8",
	                     body, (size_t)n);
}

static const char sql_outbox_pending[] =
    "SELECT COUNT(*) FROM api_event WHERE status IN ('PENDING', 'SENDING')";

int h_metrics(struct req *r)
{
	struct buf b = BUF_INIT(16u << 20);
	struct db_rows *rows = NULL;
	int db_ok, redis_ok, rc;

	if (!config_metrics_allowed(r->cfg, r->ri->remote_addr))
		return http_send_error(r, -E_ACCESS_DENIED_USER, NULL);
	check_deps(r, &db_ok, &redis_ok);
	if (db_ok && db_query(r->w->db, sql_outbox_pending, NULL, 0, &rows) == 0) {
		metrics_set("outbox_pending", "", (double)db_rows_i64(rows, 0, 0));
		db_rows_free(rows);
	}
	rc = metrics_render(&b);
	if (rc == 0)
		rc = http_send_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data,
		                   b.len);
	buf_release(&b);
	return rc;
}

int h_profile(struct req *r)
{
	return http_send_raw(r, 200, "text/plain; charset=utf-8", r->cfg->profile,
	                     strlen(r->cfg->profile));
}

static int send_asset(struct req *r, const char *name, const char *type)
{
	const struct embedded_file *f = asset(name);
	if (!f)
		return http_send_error(r, -E_NOT_FOUND, NULL);
	return http_send_raw(r, 200, type, f->data, f->len);
}

int h_openapi(struct req *r)
{
	return send_asset(r, "openapi.json", "application/json; charset=utf-8");
}

int h_docs(struct req *r)
{
	return send_asset(r, "docs.html", "text/html; charset=utf-8");
}
