/*
 * pillivery-api: the REST daemon (civetweb). main reads the configuration, prepares the
 * process-wide state (logging, zone, MariaDB library, metrics), checks the schema version,
 * starts civetweb with one worker context per thread, and on SIGTERM/SIGINT stops accepting,
 * lets running requests finish (civetweb's mg_stop joins the workers) and frees everything.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <civetweb.h>
#include <curl/curl.h>

#include "api/cache.h"
#include "api/config.h"
#include "api/http.h"
#include "api/router.h"
#include "api/views.h"
#include "api/worker.h"
#include "common/cfg.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/db.h"
#include "common/err.h"
#include "common/log.h"
#include "common/metrics.h"
#include "core/migrate.h"
#include "common/banned.h"

static volatile sig_atomic_t stop_requested;
static struct api_config config;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void *init_thread(const struct mg_context *ctx, int thread_type)
{
	(void)ctx;
	if (thread_type != 1)
		return NULL;
	return worker_new(&config);
}

static void exit_thread(const struct mg_context *ctx, int thread_type, void *user_ptr)
{
	(void)ctx;
	if (thread_type == 1)
		worker_free(user_ptr);
}

static int begin_request(struct mg_connection *conn)
{
	struct worker *w = mg_get_thread_pointer(conn);
	struct req r;

	req_init(&r, conn, w, &config);
	if (!w) {
		http_send_error(&r, -E_SERVICE_UNAVAILABLE, NULL);
	} else {
		router_dispatch(&r);
	}
	int status = r.status ? r.status : 500;
	req_release(&r);
	return status;
}

/* civetweb's own errors (unparsable request, headers too large, ...) in the contract's body */
static int http_error(struct mg_connection *conn, int status, const char *msg)
{
	char body[256];
	int rc = status == 404   ? -E_NOT_FOUND
	         : status == 405 ? -E_METHOD_NOT_ALLOWED
	         : status >= 500 ? -E_INTERNAL_ERROR
	                         : -E_MALFORMED_REQUEST;
	int st = err_http_status(rc);
	int n = snprintf(body, sizeof(body), "{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}",
	                 st, err_code(rc), err_message(rc));
	(void)msg;
	mg_response_header_start(conn, st);
	mg_response_header_add(conn, "Content-Type", "application/json; charset=utf-8", -1);
	mg_response_header_add(conn, "Connection", "close", -1);
	char clen[16];
	snprintf(clen, sizeof(clen), "%d", n);
	mg_response_header_add(conn, "Content-Length", clen, -1);
	mg_response_header_send(conn);
	mg_write(conn, body, (size_t)n);
	return 0;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_warn("civetweb", "detail:s", message);
	return 1;
}

static void declare_metrics(void)
{
	metrics_declare("http_requests_total", METRIC_COUNTER, "HTTP requests by route and status",
	                NULL, 0);
	metrics_declare("http_request_duration_seconds", METRIC_HISTOGRAM,
	                "HTTP request latency by route", metrics_latency_buckets,
	                metrics_latency_nbuckets);
	metrics_declare("payment_gateway_requests_total", METRIC_COUNTER,
	                "Kakao Pay calls by operation and outcome", NULL, 0);
	metrics_declare("payment_gateway_request_duration_seconds", METRIC_HISTOGRAM,
	                "Kakao Pay call latency by operation", metrics_latency_buckets,
	                metrics_latency_nbuckets);
	metrics_declare("login_failures_total", METRIC_COUNTER, "Failed logins (BAD_CREDENTIALS)",
	                NULL, 0);
	metrics_set("login_failures_total", "", 0); /* present from the start */
	metrics_declare("outbox_pending", METRIC_GAUGE, "Outbox events waiting for delivery", NULL,
	                0);
	metrics_declare("db_up", METRIC_GAUGE, "1 when MariaDB answered the last check", NULL, 0);
	metrics_declare("redis_up", METRIC_GAUGE, "1 when Redis answered the last check", NULL, 0);
}

/* Connects once to check (or apply) the schema. Returns the process exit status, or -1 to go on. */
static int schema_step(int do_migrate)
{
	struct db *db = db_new(&config.db);
	int rc, current = 0, latest = 0, applied = 0, status = -1;

	if (!db) {
		fprintf(stderr, "pillivery-api: out of memory\n");
		return 1;
	}
	/* MariaDB may still be starting: try for a few seconds */
	for (int i = 0; i < 50; i++) {
		rc = db_ping(db);
		if (rc == 0 || stop_requested)
			break;
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (rc) {
		log_error("cannot reach MariaDB", "host:s", config.db.host, "port:i",
		          (long long)config.db.port, "error:s", db_last_error(db));
		status = 1;
		goto out;
	}
	if (do_migrate) {
		rc = migrate_apply(db, &applied);
		if (rc) {
			log_error("migration failed", "error:s", db_last_error(db));
			status = 1;
			goto out;
		}
		migrate_status(db, &current, &latest);
		log_info("schema migrated", "applied:i", (long long)applied, "version:i",
		         (long long)current);
		status = 0;
		goto out;
	}
	rc = migrate_status(db, &current, &latest);
	if (rc) {
		log_error("cannot read the schema version", "error:s", db_last_error(db));
		status = 1;
	} else if (current < latest) {
		log_error("the database schema is older than this binary: run "
		          "`pillivery-api --migrate` first",
		          "schema:i", (long long)current, "expected:i", (long long)latest);
		fprintf(stderr,
		        "pillivery-api: database schema version %d is older than %d; run "
		        "`pillivery-api --migrate` (with the same PV_* settings) first\n",
		        current, latest);
		status = 1;
	} else if (current > latest) {
		log_warn("the database schema is newer than this binary", "schema:i",
		         (long long)current, "expected:i", (long long)latest);
	}
out:
	db_free(db);
	return status;
}

int main(int argc, char **argv)
{
	const char *config_file = NULL;
	int do_migrate = 0, status = 0;
	char err[512] = "";
	enum log_level level;
	struct mg_context *ctx = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			config_help(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config_file = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			config_file = argv[i] + 9;
		} else if (!strcmp(argv[i], "--migrate")) {
			do_migrate = 1;
		} else {
			fprintf(stderr, "pillivery-api: unknown argument %s (see --help)\n",
			        argv[i]);
			return 2;
		}
	}
	if (config_load(&config, config_file, err, sizeof(err))) {
		fprintf(stderr, "pillivery-api: configuration error: %s\n", err);
		return 2;
	}
	if (log_level_parse(cfg_str(config.cfg, "PV_LOG_LEVEL"), &level)) {
		fprintf(stderr, "pillivery-api: configuration error: PV_LOG_LEVEL: expected debug, "
		                "info, warn or error\n");
		config_release(&config);
		return 2;
	}
	log_init("pillivery-api", level, 1);
	if (clock_set_zone(cfg_str(config.cfg, "PV_TIMEZONE"))) {
		fprintf(stderr, "pillivery-api: configuration error: PV_TIMEZONE: unknown zone\n");
		config_release(&config);
		return 2;
	}
	/* Large blocks (a yescrypt hash takes 16 MiB) go back to the system when freed, and a
	 * few arenas are enough for the worker threads: keeps the resident memory flat. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_ARENA_MAX, 4);
	{
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		int slots = config.hash_concurrency > 0 ? config.hash_concurrency
		                                        : (int)(ncpu > 0 ? ncpu : 2);
		crypto_set_hash_concurrency((unsigned)slots);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	db_library_init();
	curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any thread (KAKAOPAY.md §1.2) */

	status = schema_step(do_migrate);
	if (status >= 0)
		goto out;
	status = 0;

	declare_metrics();
	cache_main_set_ttl(config.main_cache_ttl_s);
	mg_init_library(0);
	{
		char ports[96], threads[16], reqsize[16], timeout[16];
		snprintf(ports, sizeof(ports), "%s:%d", config.bind, config.port);
		snprintf(threads, sizeof(threads), "%d", config.threads);
		snprintf(reqsize, sizeof(reqsize), "%zu", config.max_header);
		snprintf(timeout, sizeof(timeout), "%d", config.idle_timeout_ms);
		const char *options[] = {"listening_ports",
		                         ports,
		                         "num_threads",
		                         threads,
		                         "max_request_size",
		                         reqsize,
		                         "request_timeout_ms",
		                         timeout,
		                         "keep_alive_timeout_ms",
		                         timeout,
		                         "enable_keep_alive",
		                         "yes",
		                         "tcp_nodelay",
		                         "1",
		                         "decode_url",
		                         "no",
		                         NULL};
		struct mg_callbacks cb;
		memset(&cb, 0, sizeof(cb));
		cb.begin_request = begin_request;
		cb.http_error = http_error;
		cb.log_message = log_message;
		cb.init_thread = init_thread;
		cb.exit_thread = exit_thread;
		ctx = mg_start(&cb, NULL, options);
	}
	if (!ctx) {
		log_error("cannot start the HTTP server", "listen:s", config.bind, "port:i",
		          (long long)config.port);
		fprintf(stderr, "pillivery-api: cannot listen on %s:%d\n", config.bind,
		        config.port);
		status = 1;
		goto out_lib;
	}
	log_info("listening", "bind:s", config.bind, "port:i", (long long)config.port, "threads:i",
	         (long long)config.threads, "profile:s", config.profile);
	if (views_start(&config))
		log_error("cannot start the item views flusher; views are counted in Redis only");
	while (!stop_requested) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	log_info("stopping: draining requests");
	views_stop();
	mg_stop(ctx);
	log_info("stopped");
out_lib:
	mg_exit_library();
out:
	curl_global_cleanup();
	db_library_end();
	config_release(&config);
	return status;
}
