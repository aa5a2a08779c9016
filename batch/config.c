/* config: pillivery-billing's option table and derived settings (see config.h). */
#include "batch/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/cfg_shared.h"
#include "common/err.h"
#include "core/sched.h"
#include "external/kakaopay.h"
#include "common/banned.h"

static const struct cfg_opt billing_options[] = {
    CFG_OPTS_DB,
    CFG_OPTS_REDIS,
    KAKAOPAY_CFG_OPTS,
    CFG_OPTS_RUNTIME,
    {"PV_BILLING_BIND", CFG_STR, "127.0.0.1", 1, 64, 0, "address of the /health and /metrics listener"},
    {"PV_BILLING_PORT", CFG_INT, "8081", 0, 65535, 0, "port of /health and /metrics (0 = none)"},
    {"PV_BILLING_POLL_INTERVAL_MS", CFG_INT, "5000", 50, 3600000, 0,
     "a billing pass starts this often (and the leader lock is renewed)"},
    {"PV_BILLING_CLAIM_BATCH", CFG_INT, "1000", 1, 10000, 0, "due cycles claimed per transaction"},
    {"PV_BILLING_CONCURRENCY", CFG_INT, "512", 1, 4096, 0, "recurring charges in flight at most"},
    {"PV_BILLING_APPLY_BATCH", CFG_INT, "500", 1, 10000, 0, "charge outcomes written per transaction"},
    {"PV_BILLING_DB_WORKERS", CFG_INT, "3", 1, 16, 0,
     "threads (each with its own MariaDB connection) that claim and write outcomes"},
    {"PV_BILLING_CHARGE_TIME", CFG_STR, "10:00", 5, 5, 0,
     "local time (HH:MM, shop zone) at which a cycle of the day becomes due"},
    {"PV_BILLING_RETRY_DELAYS", CFG_STR, RETRY_DEFAULT_DELAYS, 0, 255, 0,
     "delays between declined attempts of a cycle (s, m, h, d units)"},
    {"PV_BILLING_HOLD_NOT_SENT_S", CFG_INT, "60", 0, 86400, 0,
     "wait after a charge that never left before trying that subscription again"},
    {"PV_BILLING_HOLD_INVALID_S", CFG_INT, "3600", 0, 604800, 0,
     "wait after an INVALID or CONFIG answer (operators are alerted meanwhile)"},
    {"PV_BILLING_LOCK_KEY", CFG_STR, "billing:leader", 1, 100, 0, "Redis key of the leader lock"},
    {"PV_BILLING_LOCK_TTL_MS", CFG_INT, "15000", 1000, 600000, 0,
     "leader lease: a standby takes over this long after the leader died"},
    {"PV_BILLING_ORPHAN_AFTER_S", CFG_INT, "60", 20, 86400, 0,
     "a PENDING attempt older than this that nobody is calling becomes UNKNOWN"},
    {"PV_BILLING_UNKNOWN_FIRST_PROBE_S", CFG_INT, "60", 0, 86400, 0,
     "first SID status probe of an UNKNOWN charge, after its claim"},
    {"PV_BILLING_UNKNOWN_SECOND_PROBE_S", CFG_INT, "300", 0, 86400, 0,
     "second SID status probe of an UNKNOWN charge, after its claim"},
    {"PV_BILLING_UNKNOWN_ADMIN_AFTER_S", CFG_INT, "86400", 60, 31536000, 0,
     "an UNKNOWN charge still open this long gets an admin task"},
    {"PV_BILLING_OUTBOX_MAX_AGE_S", CFG_INT, "259200", 60, 31536000, 0,
     "an outbox event still failing this long moves to outbox_failed"},
    {"PV_BILLING_PAYMENT_EXPIRE_S", CFG_INT, "900", 900, 86400, 0,
     "a payment still READY this long after its ready is looked up and closed (paid: completed)"},
    {"PV_BILLING_ORDER_EXPIRE_S", CFG_INT, "86400", 3600, 31536000, 0,
     "an order still REQUEST this long after its creation is cancelled (none open or paid)"},
    {"PV_BILLING_DRAIN_TIMEOUT_MS", CFG_INT, "20000", 0, 600000, 0,
     "SIGTERM: how long in-flight charges may finish"},
    {"PV_BILLING_INSTANCE", CFG_STR, "", 0, 64, 0, "instance name in the attempts (default host:pid)"},
    {"PV_CLOCK_OFFSET_S", CFG_INT, "0", -3153600000LL, 3153600000LL, 0,
     "shifts the daemon's clock (tests and drills only)"},
};

#define NOPTIONS (sizeof(billing_options) / sizeof(billing_options[0]))

void config_help(FILE *f)
{
	cfg_print_help(f,
	               "usage: pillivery-billing [--config FILE] [--once] [--dry-run] [--help]\n"
	               "  --once      one billing pass and one housekeeping round, then exit\n"
	               "  --dry-run   list what is due now (nothing is claimed or charged), then exit\n"
	               "Options are PV_* environment variables (or PV_NAME=value lines in FILE; the "
	               "environment wins):",
	               billing_options, NOPTIONS);
}

static int parse_hhmm(const char *s, int *minute)
{
	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' ||
	    s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23)
		return -1;
	*minute = h * 60 + m;
	return 0;
}

int config_load(struct billing_config *c, const char *file, char *err, size_t errlen)
{
	struct cfg *cfg = NULL;
	char host[64] = "";
	int rc;

	memset(c, 0, sizeof(*c));
	rc = cfg_load(&cfg, billing_options, NOPTIONS, file, err, errlen);
	if (rc)
		return rc;
	c->cfg = cfg;
	c->bind = cfg_str(cfg, "PV_BILLING_BIND");
	c->port = (int)cfg_int(cfg, "PV_BILLING_PORT");
	c->poll_ms = (int)cfg_int(cfg, "PV_BILLING_POLL_INTERVAL_MS");
	c->claim_batch = (int)cfg_int(cfg, "PV_BILLING_CLAIM_BATCH");
	c->concurrency = (int)cfg_int(cfg, "PV_BILLING_CONCURRENCY");
	c->apply_batch = (int)cfg_int(cfg, "PV_BILLING_APPLY_BATCH");
	c->db_workers = (int)cfg_int(cfg, "PV_BILLING_DB_WORKERS");
	c->lock_ttl_ms = (int)cfg_int(cfg, "PV_BILLING_LOCK_TTL_MS");
	c->lock_key = cfg_str(cfg, "PV_BILLING_LOCK_KEY");
	c->orphan_after_s = cfg_int(cfg, "PV_BILLING_ORPHAN_AFTER_S");
	c->first_probe_s = cfg_int(cfg, "PV_BILLING_UNKNOWN_FIRST_PROBE_S");
	c->second_probe_s = cfg_int(cfg, "PV_BILLING_UNKNOWN_SECOND_PROBE_S");
	c->admin_after_s = cfg_int(cfg, "PV_BILLING_UNKNOWN_ADMIN_AFTER_S");
	c->outbox_max_age_s = cfg_int(cfg, "PV_BILLING_OUTBOX_MAX_AGE_S");
	c->payment_expire_s = cfg_int(cfg, "PV_BILLING_PAYMENT_EXPIRE_S");
	c->order_expire_s = cfg_int(cfg, "PV_BILLING_ORDER_EXPIRE_S");
	c->drain_ms = (int)cfg_int(cfg, "PV_BILLING_DRAIN_TIMEOUT_MS");
	c->clock_offset_s = cfg_int(cfg, "PV_CLOCK_OFFSET_S");
	c->profile = cfg_str(cfg, "PV_PROFILE");
	if (parse_hhmm(cfg_str(cfg, "PV_BILLING_CHARGE_TIME"), &c->charge_minute)) {
		snprintf(err, errlen, "PV_BILLING_CHARGE_TIME: expected HH:MM (00:00 .. 23:59)");
		goto bad;
	}
	if (retry_policy_parse(cfg_str(cfg, "PV_BILLING_RETRY_DELAYS"), &c->retry)) {
		snprintf(err, errlen,
		         "PV_BILLING_RETRY_DELAYS: expected a comma-separated list of at most %d "
		         "delays such as 0,24h,24h,24h (units s, m, h, d; each at most 30d)",
		         RETRY_DELAYS_MAX);
		goto bad;
	}
	c->retry.hold_not_sent_s = cfg_int(cfg, "PV_BILLING_HOLD_NOT_SENT_S");
	c->retry.hold_invalid_s = cfg_int(cfg, "PV_BILLING_HOLD_INVALID_S");
	if (c->second_probe_s < c->first_probe_s) {
		snprintf(err, errlen,
		         "PV_BILLING_UNKNOWN_SECOND_PROBE_S: must not be below "
		         "PV_BILLING_UNKNOWN_FIRST_PROBE_S");
		goto bad;
	}
	if (c->orphan_after_s * 1000 <= cfg_int(cfg, "PV_KAKAOPAY_TIMEOUT_MS")) {
		snprintf(err, errlen,
		         "PV_BILLING_ORPHAN_AFTER_S: must be longer than PV_KAKAOPAY_TIMEOUT_MS, or "
		         "a charge still in flight could be taken for an orphan");
		goto bad;
	}
	c->db = cfg_db_config(cfg);
	c->redis = cfg_redis_config(cfg);
	c->kakaopay = kakaopay_cfg_read(cfg);
	if (kakaopay_config_check(&c->kakaopay)) {
		snprintf(err, errlen,
		         "PV_KAKAOPAY_BASE_URL: expected an https:// URL (http:// only for a "
		         "loopback host)");
		goto bad;
	}
	if (cfg_str(cfg, "PV_BILLING_INSTANCE")[0]) {
		snprintf(c->instance, sizeof(c->instance), "%s", cfg_str(cfg, "PV_BILLING_INSTANCE"));
	} else {
		if (gethostname(host, sizeof(host) - 1))
			snprintf(host, sizeof(host), "localhost");
		snprintf(c->instance, sizeof(c->instance), "%.60s:%ld", host, (long)getpid());
	}
	return 0;
bad:
	cfg_free(cfg);
	c->cfg = NULL;
	return -E_CONFIG;
}

void config_release(struct billing_config *c)
{
	cfg_free(c->cfg);
	c->cfg = NULL;
}
