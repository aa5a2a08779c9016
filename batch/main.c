/*
 * pillivery-billing: the cron-free recurring billing daemon (DESIGN.md §1, §3, §5; API.md
 * §2.7; KAKAOPAY.md §3).
 *
 * One libevent loop drives the leader lock (Redis), the billing passes (batch/charger.c:
 * claims, curl-multi charges, batched outcomes), signals, the systemd notify protocol and the
 * /health, /ready and /metrics listener; a second thread (batch/housekeeper.c) forwards the
 * outbox and reconciles UNKNOWN charges. Only the leader charges; a standby takes over within
 * the lease when the leader dies. The database's unique keys, not the lock, make a double
 * charge impossible.
 *
 *   --once     take the lock, run one pass and one housekeeping round, release, exit
 *   --dry-run  list what is due now, change nothing, exit
 *
 * Exit status: 0 done, 1 runtime failure, 2 bad configuration or arguments, 3 (--once)
 * another instance leads.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "batch/charger.h"
#include "batch/config.h"
#include "batch/housekeeper.h"
#include "batch/leader.h"
#include "batch/notify.h"
#include "batch/ops.h"
#include "common/cfg.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis.h"
#include "core/migrate.h"
#include "core/sched.h"
#include "core/store_billing.h"
#include "external/kakaopay.h"
#include "common/banned.h"

#define DAEMON "pillivery-billing"

struct app {
	struct billing_config cfg;
	struct event_base *base;
	struct db *db;
	struct redis *redis;
	struct leader *leader;
	struct charger *charger;
	struct housekeeper *hk;
	struct ops *ops;
	struct event *tick;
	struct event *watchdog;
	struct event *drain_deadline;
	struct event *sig_term, *sig_int;
	bool once;
	bool stopping;
	bool pass_done_once;
	int status;
};

static void declare_metrics(void)
{
	static const double pass_buckets[] = {0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 900, 3600};

	metrics_declare("billing_charges_total", METRIC_COUNTER,
	                "recurring charge attempts by outcome (APPROVED, DECLINED, FAILED, UNKNOWN)",
	                NULL, 0);
	metrics_declare("billing_retries_scheduled_total", METRIC_COUNTER,
	                "declined charges that scheduled a retry", NULL, 0);
	metrics_declare("billing_retries_exhausted_total", METRIC_COUNTER,
	                "declined charges that exhausted the retries of their cycle", NULL, 0);
	metrics_declare("billing_amount_mismatch_total", METRIC_COUNTER,
	                "approved charges whose approved amount differs from the amount sent", NULL,
	                0);
	metrics_declare("billing_db_transactions_total", METRIC_COUNTER,
	                "billing transactions by kind (claim, apply)", NULL, 0);
	metrics_declare("billing_pass_duration_seconds", METRIC_HISTOGRAM,
	                "duration of a billing pass", pass_buckets,
	                sizeof(pass_buckets) / sizeof(pass_buckets[0]));
	metrics_declare("billing_due_backlog", METRIC_GAUGE,
	                "due cycles and due retries at the start of the last pass", NULL, 0);
	metrics_declare("billing_unknown_open", METRIC_GAUGE, "UNKNOWN charge attempts open",
	                NULL, 0);
	metrics_declare("billing_needs_admin", METRIC_GAUGE,
	                "UNKNOWN charge attempts waiting for an operator", NULL, 0);
	metrics_declare("billing_in_flight", METRIC_GAUGE, "recurring charges in flight", NULL, 0);
	metrics_declare("billing_leader", METRIC_GAUGE, "1 while this instance holds the lock",
	                NULL, 0);
	metrics_declare("billing_gateway_blocked", METRIC_GAUGE,
	                "1 while charging is stopped after the gateway refused our credentials "
	                "(CONFIG)",
	                NULL, 0);
	metrics_declare("outbox_pending", METRIC_GAUGE, "outbox events not delivered yet", NULL, 0);
	metrics_declare("outbox_delivered_total", METRIC_COUNTER, "outbox events delivered", NULL,
	                0);
	metrics_declare("outbox_retries_total", METRIC_COUNTER,
	                "outbox deliveries that failed and were rescheduled", NULL, 0);
	metrics_declare("outbox_failed_total", METRIC_COUNTER,
	                "outbox events moved to outbox_failed", NULL, 0);
	metrics_declare("payment_gateway_requests_total", METRIC_COUNTER,
	                "Kakao Pay calls by operation and outcome class", NULL, 0);
	metrics_declare("payment_gateway_request_duration_seconds", METRIC_HISTOGRAM,
	                "Kakao Pay call duration", metrics_latency_buckets,
	                metrics_latency_nbuckets);
	metrics_declare("db_up", METRIC_GAUGE, "1 when MariaDB answered the last check", NULL, 0);
	metrics_declare("redis_up", METRIC_GAUGE, "1 when Redis answered the last check", NULL, 0);
}

/* Refuses to run against an older schema (the API's --migrate applies it). 0 ok. */
static int schema_ok(struct db *db)
{
	int current = 0, latest = 0;

	if (migrate_status(db, &current, &latest)) {
		log_error("cannot read the schema version", "error:s", db_last_error(db),
		          (const char *)0);
		fprintf(stderr, DAEMON ": cannot read the schema version: %s\n", db_last_error(db));
		return -1;
	}
	if (current < latest) {
		log_error("the database schema is older than this binary: run `pillivery-api "
		          "--migrate` first",
		          "schema:i", (long long)current, "expected:i", (long long)latest,
		          (const char *)0);
		fprintf(stderr,
		        DAEMON ": database schema version %d is older than %d; run `pillivery-api "
		               "--migrate` (with the same PV_* settings) first\n",
		        current, latest);
		return -1;
	}
	return 0;
}

static int dry_run(struct app *a)
{
	enum { MAX = 100000 };
	struct billing_due *due = calloc(MAX, sizeof(*due));
	int64_t now = (int64_t)clock_now(), total = 0;
	int32_t cutoff = sched_due_cutoff(clock_local_day((time_t)now), sched_local_minute(now),
	                                  a->cfg.charge_minute);
	size_t n = 0;
	char day[CLOCK_DATE_LEN];

	if (!due)
		return 1;
	if (store_billing_due_list(a->db, now, cutoff, due, MAX, &n)) {
		fprintf(stderr, DAEMON ": %s\n", db_last_error(a->db));
		free(due);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		clock_format_day(due[i].cycle_date, day);
		printf("{\"subscriptionOrderId\":%lld,\"cycleDate\":\"%s\",\"amount\":%lld,"
		       "\"kind\":\"%s\"}\n",
		       (long long)due[i].subscription_id, day, (long long)due[i].amount,
		       due[i].retry ? "RETRY" : "CYCLE");
		total += due[i].amount;
	}
	fprintf(stderr, DAEMON ": dry run: %zu due (%lld KRW), nothing claimed or charged\n", n,
	        (long long)total);
	free(due);
	return 0;
}

static void check_deps(struct app *a)
{
	bool db_up = db_ping(a->db) == 0, redis_up = redis_ping(a->redis) == 0;

	metrics_set("db_up", "", db_up ? 1 : 0);
	metrics_set("redis_up", "", redis_up ? 1 : 0);
	ops_set_ready(a->ops, db_up, redis_up);
}

static void start_pass(struct app *a)
{
	int rc;

	if (a->stopping || charger_running(a->charger))
		return;
	rc = charger_start_pass(a->charger);
	if (rc < 0 && a->once) {
		a->status = 1;
		event_base_loopbreak(a->base);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;
	bool changed = false, leading;

	if (a->stopping)
		return;
	leading = leader_tick(a->leader, &changed);
	if (changed) {
		if (leading)
			log_info("leader lock taken: this instance charges", "instance:s",
			         a->cfg.instance, (const char *)0);
		else
			log_warn("leader lock lost: standing by", "instance:s", a->cfg.instance,
			         "redis:s", leader_last_error(a->leader), (const char *)0);
		metrics_set("billing_leader", "", leading ? 1 : 0);
		if (a->hk)
			housekeeper_set_leader(a->hk, leading);
	}
	if (!a->once)
		check_deps(a);
	if (leading)
		start_pass(a);
	else if (charger_running(a->charger))
		charger_stop_claiming(a->charger);
}

static void on_pass_done(void *arg, const struct charger_stats *st)
{
	struct app *a = arg;

	if (a->once) {
		a->pass_done_once = true;
		event_base_loopbreak(a->base);
	} else if (a->stopping) {
		event_base_loopbreak(a->base);
	}
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	notify_send("WATCHDOG=1");
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;

	log_warn("drain deadline reached: charges still in flight are recorded UNKNOWN",
	         "in_flight:i", (long long)charger_in_flight(a->charger), (const char *)0);
	event_base_loopbreak(a->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct app *a = arg;
	struct timeval tv;

	if (a->stopping) { /* a second signal: stop now */
		event_base_loopbreak(a->base);
		return;
	}
	a->stopping = true;
	notify_send("STOPPING=1");
	log_info("stopping: no new charges, draining in-flight ones", "in_flight:i",
	         (long long)charger_in_flight(a->charger), "deadline_ms:i",
	         (long long)a->cfg.drain_ms, (const char *)0);
	if (!charger_running(a->charger)) {
		event_base_loopbreak(a->base);
		return;
	}
	charger_stop_claiming(a->charger);
	tv.tv_sec = a->cfg.drain_ms / 1000;
	tv.tv_usec = (a->cfg.drain_ms % 1000) * 1000;
	evtimer_add(a->drain_deadline, &tv);
}

/* --once: the lock, one pass, one housekeeping round. */
static int run_once(struct app *a)
{
	struct kakaopay_client *client = NULL;
	struct pay_gateway gw;
	struct housekeeper_stats hs = {0};
	int64_t give_up = clock_mono_ms() + a->cfg.lock_ttl_ms + 1000;

	while (!leader_tick(a->leader, NULL)) {
		if (clock_mono_ms() >= give_up) {
			fprintf(stderr, DAEMON ": --once: another instance holds the leader lock (%s)\n",
			        leader_last_error(a->leader)[0] ? leader_last_error(a->leader)
			                                        : "held");
			return 3;
		}
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	metrics_set("billing_leader", "", 1);
	int started = charger_start_pass(a->charger);
	if (started < 0) {
		leader_release(a->leader);
		return 1;
	}
	if (started == 0)
		event_base_dispatch(a->base);
	else
		a->pass_done_once = true; /* charging is stopped: nothing to wait for */
	if (!a->pass_done_once) /* signal or failure */
		a->status = a->status ? a->status : 1;
	if (kakaopay_client_new(&a->cfg.kakaopay, &client) == 0) {
		kakaopay_gateway_init(&gw, client);
		if (housekeeper_round(&a->cfg, a->db, &gw, &hs)) {
			log_error("housekeeping round failed", "error:s", db_last_error(a->db),
			          (const char *)0);
			a->status = 1;
		}
		log_info("housekeeping round", "outbox_done:i", (long long)hs.outbox_done,
		         "outbox_retried:i", (long long)hs.outbox_retried, "outbox_failed:i",
		         (long long)hs.outbox_failed, "probes:i", (long long)hs.probes,
		         "resolved_failed:i", (long long)hs.resolved_failed, "admin_tasks:i",
		         (long long)hs.admin_tasks, "verdicts:i", (long long)hs.verdicts_applied,
		         (const char *)0);
		kakaopay_client_free(client);
	} else {
		a->status = 1;
	}
	return a->status;
}

static int run_daemon(struct app *a)
{
	struct timeval tv = {a->cfg.poll_ms / 1000, (a->cfg.poll_ms % 1000) * 1000};
	uint64_t wd = notify_watchdog_usec();

	if (a->cfg.port > 0) {
		a->ops = ops_start(a->base, a->cfg.bind, a->cfg.port);
		if (!a->ops) {
			log_error("cannot listen", "bind:s", a->cfg.bind, "port:i",
			          (long long)a->cfg.port, (const char *)0);
			fprintf(stderr, DAEMON ": cannot listen on %s:%d\n", a->cfg.bind, a->cfg.port);
			return 1;
		}
	}
	a->hk = housekeeper_start(&a->cfg);
	if (!a->hk)
		return 1;
	a->tick = event_new(a->base, -1, EV_PERSIST, on_tick, a);
	event_add(a->tick, &tv);
	if (wd) {
		struct timeval wtv = {(time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000)};
		a->watchdog = event_new(a->base, -1, EV_PERSIST, on_watchdog, a);
		event_add(a->watchdog, &wtv);
	}
	log_info("started", "instance:s", a->cfg.instance, "port:i", (long long)a->cfg.port,
	         "poll_ms:i", (long long)a->cfg.poll_ms, "concurrency:i",
	         (long long)a->cfg.concurrency, "watchdog_usec:i", (long long)wd, (const char *)0);
	notify_send("READY=1");
	on_tick(-1, 0, a); /* first tick now */
	event_base_dispatch(a->base);
	return a->status;
}

int main(int argc, char **argv)
{
	static struct app app;
	struct app *a = &app;
	const char *config_file = NULL;
	bool dry = false;
	char err[512] = "";
	enum log_level level;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			config_help(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config_file = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			config_file = argv[i] + 9;
		} else if (!strcmp(argv[i], "--once")) {
			a->once = true;
		} else if (!strcmp(argv[i], "--dry-run")) {
			dry = true;
		} else {
			fprintf(stderr, DAEMON ": unknown argument %s (see --help)\n", argv[i]);
			return 2;
		}
	}
	if (config_load(&a->cfg, config_file, err, sizeof(err))) {
		fprintf(stderr, DAEMON ": configuration error: %s\n", err);
		return 2;
	}
	if (log_level_parse(cfg_str(a->cfg.cfg, "PV_LOG_LEVEL"), &level)) {
		fprintf(stderr, DAEMON ": configuration error: PV_LOG_LEVEL: expected debug, info, "
		                       "warn or error\n");
		config_release(&a->cfg);
		return 2;
	}
	log_init(DAEMON, level, 1);
	if (clock_set_zone(cfg_str(a->cfg.cfg, "PV_TIMEZONE"))) {
		fprintf(stderr, DAEMON ": configuration error: PV_TIMEZONE: unknown zone\n");
		config_release(&a->cfg);
		return 2;
	}
	if (a->cfg.clock_offset_s) {
		clock_set_offset(a->cfg.clock_offset_s * 1000);
		log_warn("clock shifted by PV_CLOCK_OFFSET_S (tests and drills only)", "offset_s:i",
		         (long long)a->cfg.clock_offset_s, (const char *)0);
	}
	signal(SIGPIPE, SIG_IGN);
	db_library_init();
	curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any thread (KAKAOPAY.md §1.2) */
	declare_metrics();

	a->db = db_new(&a->cfg.db);
	if (!a->db) {
		status = 1;
		goto out;
	}
	if (schema_ok(a->db)) {
		status = 1;
		goto out;
	}
	if (dry) {
		status = dry_run(a);
		goto out;
	}
	a->redis = redis_new(&a->cfg.redis);
	a->base = event_base_new();
	if (!a->redis || !a->base) {
		status = 1;
		goto out;
	}
	a->leader = leader_new(a->redis, a->cfg.lock_key, a->cfg.lock_ttl_ms);
	a->charger = charger_new(a->base, a->db, a->redis, &a->cfg, on_pass_done, a);
	a->drain_deadline = evtimer_new(a->base, on_drain_deadline, a);
	a->sig_term = evsignal_new(a->base, SIGTERM, on_signal, a);
	a->sig_int = evsignal_new(a->base, SIGINT, on_signal, a);
	if (!a->leader || !a->charger || !a->drain_deadline || !a->sig_term || !a->sig_int) {
		fprintf(stderr, DAEMON ": cannot start (out of memory or bad Kakao Pay settings)\n");
		status = 1;
		goto out;
	}
	event_add(a->sig_term, NULL);
	event_add(a->sig_int, NULL);
	status = a->once ? run_once(a) : run_daemon(a);
	log_info("stopping", "in_flight:i", (long long)charger_in_flight(a->charger),
	         (const char *)0);
out:
	housekeeper_stop(a->hk);
	charger_free(a->charger); /* records what is still in flight as UNKNOWN */
	if (a->leader) {
		leader_release(a->leader);
		leader_free(a->leader);
	}
	ops_free(a->ops);
	if (a->tick)
		event_free(a->tick);
	if (a->watchdog)
		event_free(a->watchdog);
	if (a->drain_deadline)
		event_free(a->drain_deadline);
	if (a->sig_term)
		event_free(a->sig_term);
	if (a->sig_int)
		event_free(a->sig_int);
	if (a->base)
		event_base_free(a->base);
	redis_free(a->redis);
	db_free(a->db);
	curl_global_cleanup();
	db_library_end();
	config_release(&a->cfg);
	if (status == 0)
		log_info("stopped", (const char *)0);
	return status;
}
