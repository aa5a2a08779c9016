/* store_billing: the SQL of recurring billing (see store_billing.h). */
#include "core/store_billing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/err.h"
#include "core/order.h"
#include "core/payment.h"
#include "core/sched.h"
#include "core/store_outbox.h"
#include "common/banned.h"

#define DATE_OF(col) "DATE_FORMAT(" col ", '%Y-%m-%d')"

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int32_t day_of(const char *s)
{
	int32_t d = 0;

	if (!s || clock_parse_day(s, &d))
		return 0;
	return d;
}

/* Binds a local day as 'YYYY-MM-DD' (buf must live until the statement ran). */
static struct db_param day_param(int32_t day, char buf[CLOCK_DATE_LEN])
{
	if (clock_format_day(day, buf))
		return DB_NULL();
	return DB_STR(buf);
}

static const char *by_name(enum billing_by by)
{
	switch (by) {
	case BILLING_BY_RETRY:
		return "RETRY";
	case BILLING_BY_ADMIN:
		return "ADMIN";
	default:
		return "SCHEDULE";
	}
}

static enum billing_by by_parse(const char *s)
{
	if (s && strcmp(s, "RETRY") == 0)
		return BILLING_BY_RETRY;
	if (s && strcmp(s, "ADMIN") == 0)
		return BILLING_BY_ADMIN;
	return BILLING_BY_SCHEDULE;
}

/* ---- claim ---------------------------------------------------------------------------------- */

#define CAND_COLS                                                                                  \
	"s.subscription_id, s.quantity, s.item_id, s.cid, s.sid, s.partner_user_id "

/* What is due (API.md §2.7), one definition for the claims, the backlog and --dry-run. */
#define DUE_HOLD_OVER " (s.charge_hold_until IS NULL OR s.charge_hold_until <= FROM_UNIXTIME(?))"
/* a scheduled retry; parameters: now, now */
#define DUE_RETRY_WHERE                                                                            \
	" s.retry_state = 'SCHEDULED' AND s.next_retry_at <= FROM_UNIXTIME(?)"                      \
	" AND s.status = 'SUBSCRIBE_PAYMENT_FAIL' AND s.failed_cycle_date IS NOT NULL AND"         \
	DUE_HOLD_OVER
/* a cycle at its charge time; parameters: cutoff date, now */
#define DUE_CYCLE_WHERE                                                                            \
	" s.status = 'SUBSCRIPTION' AND s.next_payment_date <= ? AND s.retry_state = 'NONE' AND"    \
	DUE_HOLD_OVER

static const char sql_due_retries[] =
    "SELECT " CAND_COLS ", " DATE_OF("s.failed_cycle_date") " FROM subscriptions s"
    " WHERE" DUE_RETRY_WHERE
    " AND NOT EXISTS (SELECT 1 FROM billing_attempt b WHERE b.open_sid = s.sid)"
    " ORDER BY s.next_retry_at, s.subscription_id LIMIT ? FOR UPDATE SKIP LOCKED";
static const char sql_due_cycles[] =
    "SELECT " CAND_COLS ", " DATE_OF("s.next_payment_date") " FROM subscriptions s"
    " WHERE" DUE_CYCLE_WHERE
    " AND NOT EXISTS (SELECT 1 FROM billing_attempt b WHERE b.open_sid = s.sid)"
    " ORDER BY s.next_payment_date, s.subscription_id LIMIT ? FOR UPDATE SKIP LOCKED";
static const char sql_item[] = "SELECT product_name, origin_price, discount_p10, discount_price,"
                               " real_price FROM items WHERE item_id = ?";
static const char sql_max_attempt[] =
    "SELECT COALESCE(MAX(attempt_no), 0) FROM billing_attempt"
    " WHERE subscription_id = ? AND cycle_date = ?";
static const char sql_attempt_insert[] =
    "INSERT INTO billing_attempt (subscription_id, cycle_date, attempt_no, status, initiated_by,"
    " partner_order_id, partner_user_id, cid, sid, item_id, item_name, quantity, origin_price,"
    " discount_p10, discount_price, real_price, amount, claimed_at, claimed_by, created_at,"
    " updated_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " FROM_UNIXTIME(?), ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?))";

/* The price snapshot of one item, cached for a claim batch. */
struct item_snap {
	int64_t item_id;
	char name[PAY_TEXT_MAX];
	int64_t origin_price, discount_p10, discount_price, real_price;
};

#define ITEM_CACHE 32

struct item_cache {
	size_t n, next;
	struct item_snap e[ITEM_CACHE];
};

static int item_get(struct db *db, struct item_cache *c, int64_t item_id,
                    const struct item_snap **out)
{
	struct db_rows *rows = NULL;
	struct db_param p = DB_I64(item_id);
	struct item_snap *s;
	int rc;

	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].item_id == item_id) {
			*out = &c->e[i];
			return 0;
		}
	rc = db_query(db, sql_item, &p, 1, &rows);
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		db_rows_free(rows);
		return -E_ITEM_NOT_FOUND;
	}
	if (c->n < ITEM_CACHE) {
		s = &c->e[c->n++];
	} else {
		s = &c->e[c->next];
		c->next = (c->next + 1) % ITEM_CACHE;
	}
	s->item_id = item_id;
	if (payment_item_name(db_rows_str(rows, 0, 0), 1, s->name, sizeof(s->name)))
		copy_str(s->name, sizeof(s->name), "item");
	s->origin_price = db_rows_i64(rows, 0, 1);
	s->discount_p10 = db_rows_i64(rows, 0, 2);
	s->discount_price = db_rows_i64(rows, 0, 3);
	s->real_price = db_rows_i64(rows, 0, 4);
	db_rows_free(rows);
	*out = s;
	return 0;
}

/* The fields of a subscription a claim needs. */
struct cand {
	int64_t subscription_id, quantity, item_id;
	const char *cid, *sid, *partner_user_id;
	int32_t cycle;
};

/* Inserts the PENDING attempt of c. 0 with *out, 1 when a unique key refused it (an open
 * attempt on the cycle or the SID), or an error. */
static int claim_insert(struct db *db, struct item_cache *items, const struct cand *c,
                        enum billing_by by, int64_t now, const char *claimed_by,
                        struct billing_attempt *out)
{
	const struct item_snap *it = NULL;
	struct db_rows *rows = NULL;
	char day[CLOCK_DATE_LEN];
	struct billing_attempt a = {0};
	uint64_t id = 0;
	int rc;

	if (clock_format_day(c->cycle, day))
		return -E_INTERNAL_ERROR;
	rc = item_get(db, items, c->item_id, &it);
	if (rc)
		return rc;
	struct db_param mp[] = {DB_I64(c->subscription_id), DB_STR(day)};
	rc = db_query(db, sql_max_attempt, mp, 2, &rows);
	if (rc)
		return rc;
	a.attempt_no = (int)db_rows_i64(rows, 0, 0) + 1;
	db_rows_free(rows);

	a.subscription_id = c->subscription_id;
	a.item_id = c->item_id;
	a.cycle_date = c->cycle;
	a.by = by;
	a.quantity = c->quantity;
	a.amount = c->quantity * it->real_price;
	a.claimed_at = now;
	copy_str(a.cid, sizeof(a.cid), c->cid);
	copy_str(a.sid, sizeof(a.sid), c->sid);
	copy_str(a.partner_user_id, sizeof(a.partner_user_id), c->partner_user_id);
	copy_str(a.item_name, sizeof(a.item_name), it->name);
	if (billing_partner_order_id(a.subscription_id, a.cycle_date, a.attempt_no,
	                             a.partner_order_id, sizeof(a.partner_order_id)))
		return -E_INTERNAL_ERROR;
	struct db_param ip[] = {DB_I64(a.subscription_id),
	                        DB_STR(day),
	                        DB_I64(a.attempt_no),
	                        DB_STR(by_name(by)),
	                        DB_STR(a.partner_order_id),
	                        DB_STR(a.partner_user_id),
	                        DB_STR(a.cid),
	                        DB_STR(a.sid),
	                        DB_I64(a.item_id),
	                        DB_STR(a.item_name),
	                        DB_I64(a.quantity),
	                        DB_I64(it->origin_price),
	                        DB_I64(it->discount_p10),
	                        DB_I64(it->discount_price),
	                        DB_I64(it->real_price),
	                        DB_I64(a.amount),
	                        DB_I64(now),
	                        DB_STR(claimed_by),
	                        DB_I64(now),
	                        DB_I64(now)};
	rc = db_exec(db, sql_attempt_insert, ip, sizeof(ip) / sizeof(ip[0]), NULL, &id);
	if (rc == -E_DB_DUPLICATE)
		return 1;
	if (rc)
		return rc;
	a.id = (int64_t)id;
	snprintf(a.payload, sizeof(a.payload), "att:%lld", (long long)a.id);
	*out = a;
	return 0;
}

/*
 * The batch claim: every candidate (JSON [{"s":id,"c":"YYYY-MM-DD","b":"RETRY"}, ...]) gets its
 * PENDING attempt in one INSERT ... SELECT with the price snapshot and the next attempt number
 * of its cycle, and the rows come back through RETURNING. IGNORE skips exactly the candidates a
 * unique key refuses (a second subscription on a SID that has an open attempt in the batch);
 * the rows are built from existing rows, so no other error can be ignored.
 */
#define NEXT_ATTEMPT                                                                               \
	"(SELECT COALESCE(MAX(a.attempt_no), 0) + 1 FROM billing_attempt a"                        \
	" WHERE a.subscription_id = s.subscription_id AND a.cycle_date = j.c)"
static const char sql_claim_insert[] =
    "INSERT IGNORE INTO billing_attempt (subscription_id, cycle_date, attempt_no, status,"
    " initiated_by, partner_order_id, partner_user_id, cid, sid, item_id, item_name, quantity,"
    " origin_price, discount_p10, discount_price, real_price, amount, claimed_at, claimed_by,"
    " created_at, updated_at)"
    " SELECT s.subscription_id, j.c, " NEXT_ATTEMPT ", 'PENDING', j.b,"
    " CONCAT('S', s.subscription_id, '-C', DATE_FORMAT(j.c, '%Y%m%d'), '-A', " NEXT_ATTEMPT "),"
    " s.partner_user_id, s.cid, s.sid, s.item_id, LEFT(i.product_name, 100), s.quantity,"
    " i.origin_price, i.discount_p10, i.discount_price, i.real_price, s.quantity * i.real_price,"
    " FROM_UNIXTIME(?), ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?)"
    " FROM JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, s BIGINT PATH '$.s',"
    " c DATE PATH '$.c', b VARCHAR(16) PATH '$.b')) j"
    " JOIN subscriptions s ON s.subscription_id = j.s"
    " JOIN items i ON i.item_id = s.item_id"
    " ORDER BY j.n"
    " RETURNING billing_attempt_id, subscription_id, item_id, " DATE_OF("cycle_date") ","
    " attempt_no, initiated_by, quantity, amount, UNIX_TIMESTAMP(claimed_at), cid, sid,"
    " partner_order_id, partner_user_id, item_name";

struct claim_tx {
	const struct billing_claim *c;
	struct billing_attempt *out;
	size_t max, n;
	struct buf json;
	size_t ncand;
};

static void att_from_row(const struct db_rows *r, size_t i, struct billing_attempt *a);

/* Adds the candidates of one query to the JSON list. */
static int collect(struct db *db, struct claim_tx *t, const char *sql, struct db_param *p,
                   const char *by)
{
	struct db_rows *rows = NULL;
	int rc = db_query(db, sql, p, 3, &rows);

	for (size_t i = 0; rc == 0 && i < db_rows_count(rows) && t->ncand < t->max; i++) {
		rc = buf_printf(&t->json, "%s{\"s\":%lld,\"c\":\"%s\",\"b\":\"%s\"}",
		                t->ncand ? "," : "", (long long)db_rows_i64(rows, i, 0),
		                db_rows_str(rows, i, 6), by);
		t->ncand++;
	}
	db_rows_free(rows);
	return rc;
}

static int claim_fn(struct db *db, void *arg)
{
	struct claim_tx *t = arg;
	struct db_rows *rows = NULL;
	char cutoff[CLOCK_DATE_LEN];
	int rc;

	t->n = 0;
	t->ncand = 0;
	buf_reset(&t->json);
	rc = buf_append(&t->json, "[", 1);
	struct db_param rp[] = {DB_I64(t->c->now), DB_I64(t->c->now), DB_I64((int64_t)t->max)};
	if (rc == 0)
		rc = collect(db, t, sql_due_retries, rp, "RETRY");
	if (rc == 0 && t->ncand < t->max) {
		struct db_param cp[] = {day_param(t->c->cutoff, cutoff), DB_I64(t->c->now),
		                        DB_I64((int64_t)(t->max - t->ncand))};
		rc = collect(db, t, sql_due_cycles, cp, "SCHEDULE");
	}
	if (rc == 0)
		rc = buf_append(&t->json, "]", 1);
	if (rc || t->ncand == 0)
		return rc;
	struct db_param ip[] = {DB_I64(t->c->now), DB_STR(t->c->claimed_by), DB_I64(t->c->now),
	                        DB_I64(t->c->now), DB_STR(t->json.data)};
	rc = db_query(db, sql_claim_insert, ip, 5, &rows);
	for (size_t i = 0; rc == 0 && i < db_rows_count(rows) && t->n < t->max; i++)
		att_from_row(rows, i, &t->out[t->n++]);
	db_rows_free(rows);
	return rc;
}

int store_billing_claim(struct db *db, const struct billing_claim *c, struct billing_attempt *out,
                        size_t max, size_t *n)
{
	struct claim_tx t = {c, out, max, 0, BUF_INIT(4 * 1024 * 1024), 0};
	int rc;

	*n = 0;
	if (max == 0)
		return 0;
	rc = db_tx(db, claim_fn, &t);
	if (rc == 0)
		*n = t.n;
	buf_release(&t.json);
	return rc;
}

static const char sql_now_lock[] =
    "SELECT s.subscription_id, s.quantity, s.item_id, s.cid, s.sid, s.partner_user_id, s.status,"
    " s.retry_state, " DATE_OF("s.next_payment_date") ", " DATE_OF("s.failed_cycle_date")
    " FROM subscriptions s WHERE s.subscription_id = ? FOR UPDATE";
static const char sql_open_of_sub[] =
    "SELECT 1 FROM billing_attempt WHERE subscription_id = ? AND status IN ('PENDING', 'UNKNOWN')"
    " LIMIT 1";
static const char sql_paid_cycle[] =
    "SELECT billing_attempt_id, approval_result FROM billing_attempt"
    " WHERE subscription_id = ? AND cycle_date = ? AND status = 'APPROVED'";

struct now_tx {
	int64_t id, now;
	const char *claimed_by;
	struct billing_attempt *out;
	char *paid_json;
};

static int claim_now_fn(struct db *db, void *arg)
{
	struct now_tx *t = arg;
	struct db_rows *sub = NULL, *rows = NULL;
	struct item_cache *items = NULL;
	struct db_param p = DB_I64(t->id);
	const char *status, *retry, *cycle_s;
	char day[CLOCK_DATE_LEN];
	int rc = db_query(db, sql_now_lock, &p, 1, &sub);

	if (rc)
		return rc;
	if (db_rows_count(sub) == 0) {
		rc = -E_SUBSCRIPTION_NOT_FOUND;
		goto out;
	}
	status = db_rows_str(sub, 0, 6);
	retry = db_rows_str(sub, 0, 7);
	rc = db_query(db, sql_open_of_sub, &p, 1, &rows);
	if (rc)
		goto out;
	/* the one table of §2.5 (core/order.c) */
	if (!sub_op_allowed(SUB_OP_CHARGE_NOW, sub_status_parse(status),
	                    strcmp(retry, "UNKNOWN") == 0, db_rows_count(rows) > 0)) {
		rc = -E_SUBSCRIPTION_STATE_CONFLICT;
		goto out;
	}
	db_rows_free(rows);
	rows = NULL;
	cycle_s = (strcmp(retry, "SCHEDULED") == 0 || strcmp(retry, "EXHAUSTED") == 0) &&
	                  db_rows_str(sub, 0, 9)
	              ? db_rows_str(sub, 0, 9)
	              : db_rows_str(sub, 0, 8);
	if (!cycle_s) {
		rc = -E_SUBSCRIPTION_STATE_CONFLICT;
		goto out;
	}
	copy_str(day, sizeof(day), cycle_s);
	struct db_param pp[] = {DB_I64(t->id), DB_STR(day)};
	rc = db_query(db, sql_paid_cycle, pp, 2, &rows);
	if (rc)
		goto out;
	if (db_rows_count(rows) > 0) {
		const char *j = db_rows_str(rows, 0, 1);
		t->paid_json = strdup(j ? j : "null");
		rc = t->paid_json ? 1 : -E_NOMEM;
		goto out;
	}
	items = calloc(1, sizeof(*items));
	if (!items) {
		rc = -E_NOMEM;
		goto out;
	}
	struct cand c = {
	    .subscription_id = t->id,
	    .quantity = db_rows_i64(sub, 0, 1),
	    .item_id = db_rows_i64(sub, 0, 2),
	    .cid = db_rows_str(sub, 0, 3),
	    .sid = db_rows_str(sub, 0, 4),
	    .partner_user_id = db_rows_str(sub, 0, 5),
	    .cycle = day_of(day),
	};
	rc = claim_insert(db, items, &c, BILLING_BY_ADMIN, t->now, t->claimed_by, t->out);
	if (rc == 1) /* another subscription on the same SID has a charge open */
		rc = -E_SUBSCRIPTION_STATE_CONFLICT;
out:
	free(items);
	db_rows_free(rows);
	db_rows_free(sub);
	return rc;
}

int store_billing_claim_now(struct db *db, int64_t subscription_id, const char *claimed_by,
                            int64_t now, struct billing_attempt *out, char **paid_json)
{
	struct now_tx t = {subscription_id, now, claimed_by, out, NULL};
	int rc;

	*paid_json = NULL;
	/* db_tx rolls back on any non-zero result, which is right for "already paid" too */
	rc = db_tx(db, claim_now_fn, &t);
	if (rc == 1)
		*paid_json = t.paid_json;
	else
		free(t.paid_json);
	return rc;
}

/* ---- apply ---------------------------------------------------------------------------------- */

static const char sql_sub_lock[] =
    "SELECT status, retry_state, retry_attempts, COALESCE(UNIX_TIMESTAMP(next_retry_at), 0), "
    DATE_OF("first_payment_date") ", period, " DATE_OF("last_payment_date") ", "
    DATE_OF("last_settled_cycle_date") ", " DATE_OF("failed_cycle_date") ", user_id, "
    "receiver_real_name, receiver_phone, receiver_city, receiver_detail_address, "
    "retry_state_before_unknown FROM subscriptions WHERE subscription_id = ? FOR UPDATE";
enum {
	S_STATUS,
	S_RETRY,
	S_ATTEMPTS,
	S_RETRY_AT,
	S_FIRST,
	S_PERIOD,
	S_LAST,
	S_SETTLED,
	S_FAILED_CYCLE,
	S_USER,
	S_NAME,
	S_PHONE,
	S_CITY,
	S_DETAIL,
	S_BEFORE
};
static const char sql_att_gate[] =
    "SELECT status FROM billing_attempt WHERE billing_attempt_id = ?";
static const char sql_cycle_upsert[] =
    "INSERT INTO subscription_cycles (subscription_id, cycle_date, status, attempts, amount,"
    " order_id, paid_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?),"
    " FROM_UNIXTIME(?), FROM_UNIXTIME(?)) ON DUPLICATE KEY UPDATE status = VALUES(status),"
    " attempts = VALUES(attempts), amount = VALUES(amount), order_id = VALUES(order_id),"
    " paid_at = VALUES(paid_at), updated_at = VALUES(updated_at)";
static const char sql_cycle_delete_unknown[] =
    "DELETE FROM subscription_cycles WHERE subscription_id = ? AND cycle_date = ?"
    " AND status = 'UNKNOWN'";
static const char sql_att_failed[] =
    "UPDATE billing_attempt SET status = ?, outcome = ?, counted = ?, error_code = ?,"
    " error_message = ?, method_result_code = ?, finished_at = FROM_UNIXTIME(?),"
    " updated_at = FROM_UNIXTIME(?) WHERE billing_attempt_id = ?";
static const char sql_sub_declined[] =
    "UPDATE subscriptions SET status = 'SUBSCRIBE_PAYMENT_FAIL', retry_state = ?,"
    " retry_state_before_unknown = NULL, failed_cycle_date = ?, retry_attempts = ?,"
    " next_retry_at = FROM_UNIXTIME(?), next_payment_date = ?, last_failure_at = FROM_UNIXTIME(?),"
    " last_failure_code = ?, last_failure_message = ?, charge_hold_until = NULL,"
    " charge_hold_reason = NULL, updated_at = FROM_UNIXTIME(?) WHERE subscription_id = ?";
static const char sql_sub_last_failure[] =
    "UPDATE subscriptions SET last_failure_at = FROM_UNIXTIME(?), last_failure_code = ?,"
    " last_failure_message = ?, charge_hold_until = FROM_UNIXTIME(?), charge_hold_reason = ?,"
    " updated_at = FROM_UNIXTIME(?) WHERE subscription_id = ?";
static const char sql_sub_unknown[] =
    "UPDATE subscriptions SET retry_state_before_unknown = ?, retry_state = 'UNKNOWN',"
    " next_retry_at = NULL, last_failure_at = FROM_UNIXTIME(?), last_failure_code = ?,"
    " last_failure_message = ?, updated_at = FROM_UNIXTIME(?) WHERE subscription_id = ?";

/* The locked subscription row of one attempt. */
struct sub_row {
	struct db_rows *rows;
};

static const char *sub_s(const struct sub_row *s, int col)
{
	const char *v = db_rows_str(s->rows, 0, (size_t)col);
	return v ? v : "";
}

static int64_t sub_i(const struct sub_row *s, int col)
{
	return db_rows_i64(s->rows, 0, (size_t)col);
}

static bool sub_cancelled(const struct sub_row *s)
{
	return strcmp(sub_s(s, S_STATUS), "SUBSCRIBE_CANCEL") == 0;
}

/* Counted declines on a's cycle before a (retry.attempts when the open cycle is a's). */
static int prev_counted(const struct sub_row *s, const struct billing_attempt *a)
{
	if (day_of(sub_s(s, S_FAILED_CYCLE)) == a->cycle_date)
		return (int)sub_i(s, S_ATTEMPTS);
	return 0;
}

static int cycle_upsert(struct db *db, const struct billing_attempt *a, const char *status,
                        int attempts, int64_t amount, int64_t order_id, int64_t paid_at,
                        int64_t now)
{
	char day[CLOCK_DATE_LEN];
	struct db_param p[] = {DB_I64(a->subscription_id),
	                       day_param(a->cycle_date, day),
	                       DB_STR(status),
	                       DB_I64(attempts),
	                       order_id ? DB_I64(amount) : DB_NULL(),
	                       order_id ? DB_I64(order_id) : DB_NULL(),
	                       order_id ? DB_I64(paid_at) : DB_NULL(),
	                       DB_I64(now),
	                       DB_I64(now)};
	return db_exec(db, sql_cycle_upsert, p, sizeof(p) / sizeof(p[0]), NULL, NULL);
}

static int notify(struct db *db, const char *kind, const struct billing_attempt *a, int attempts,
                  int64_t now)
{
	char payload[256], dedup[128], day[CLOCK_DATE_LEN];
	int rc;

	if (clock_format_day(a->cycle_date, day))
		return -E_INTERNAL_ERROR;
	snprintf(payload, sizeof(payload),
	         "{\"subscriptionId\": %lld, \"cycleDate\": \"%s\", \"attemptId\": %lld,"
	         " \"attempts\": %d}",
	         (long long)a->subscription_id, day, (long long)a->id, attempts);
	snprintf(dedup, sizeof(dedup), "%s:%lld:%s", kind, (long long)a->subscription_id, day);
	rc = store_outbox_enqueue(db, kind, payload, dedup, now, now, NULL);
	return rc == -E_DB_DUPLICATE ? 0 : rc;
}

static const char *failure_message(const struct billing_answer *ans)
{
	return ans->message[0] ? ans->message : NULL;
}

static int att_failed(struct db *db, const struct billing_attempt *a,
                      const struct billing_answer *ans, const char *status, bool counted,
                      int64_t now)
{
	struct db_param p[] = {DB_STR(status),
	                       DB_STR(pay_class_name(ans->cls)),
	                       DB_I64(counted ? 1 : 0),
	                       DB_STR(ans->error_code[0] ? ans->error_code : NULL),
	                       DB_STR(failure_message(ans)),
	                       DB_STR(ans->method_result_code[0] ? ans->method_result_code : NULL),
	                       DB_I64(now),
	                       DB_I64(now),
	                       DB_I64(a->id)};
	return db_exec(db, sql_att_failed, p, sizeof(p) / sizeof(p[0]), NULL, NULL);
}

static int last_failure(struct db *db, const struct billing_attempt *a,
                        const struct billing_answer *ans, int64_t hold_until, int64_t now)
{
	struct db_param p[] = {DB_I64(now),
	                       DB_STR(ans->error_code[0] ? ans->error_code : NULL),
	                       DB_STR(failure_message(ans)),
	                       hold_until > 0 ? DB_I64(hold_until) : DB_NULL(),
	                       DB_STR(hold_until > 0 ? pay_class_name(ans->cls) : NULL),
	                       DB_I64(now),
	                       DB_I64(a->subscription_id)};
	return db_exec(db, sql_sub_last_failure, p, sizeof(p) / sizeof(p[0]), NULL, NULL);
}

static int apply_declined(struct db *db, const struct retry_policy *pol,
                          const struct billing_attempt *a, const struct billing_answer *ans,
                          const struct sub_row *s, int64_t now, struct billing_apply_stats *st)
{
	struct retry_decision d;
	int32_t today = clock_local_day((time_t)now);
	char fday[CLOCK_DATE_LEN], nday[CLOCK_DATE_LEN];
	int prev = prev_counted(s, a);
	/* counted by the retry policy unless the subscription is cancelled or the cycle is not due
	 * yet (charge-now of a future cycle: §7.7, last paragraph) */
	bool counts = !sub_cancelled(s) && a->cycle_date <= today;
	int rc = att_failed(db, a, ans, "DECLINED", counts, now);

	if (rc)
		return rc;
	if (st && counts)
		st->declined++;
	if (sub_cancelled(s)) {
		rc = cycle_upsert(db, a, "FAILED", prev + 1, 0, 0, 0, now);
		return rc ? rc : last_failure(db, a, ans, 0, now);
	}
	if (!counts)
		return last_failure(db, a, ans, 0, now);
	retry_decide(pol, ans->cls, prev,
	             strcmp(sub_s(s, S_RETRY), "SCHEDULED") == 0 ? sub_i(s, S_RETRY_AT) : 0, now,
	             &d);
	bool exhausted = d.state == RETRY_EXHAUSTED;
	struct db_param p[] = {DB_STR(retry_state_name(d.state)),
	                       day_param(a->cycle_date, fday),
	                       DB_I64(d.attempts),
	                       exhausted ? DB_NULL() : DB_I64(d.next_retry_at),
	                       exhausted ? DB_NULL() : day_param(a->cycle_date, nday),
	                       DB_I64(now),
	                       DB_STR(ans->error_code[0] ? ans->error_code : NULL),
	                       DB_STR(failure_message(ans)),
	                       DB_I64(now),
	                       DB_I64(a->subscription_id)};
	rc = db_exec(db, sql_sub_declined, p, sizeof(p) / sizeof(p[0]), NULL, NULL);
	if (rc == 0)
		rc = cycle_upsert(db, a, exhausted ? "FAILED" : "RETRYING", d.attempts, 0, 0, 0, now);
	if (rc == 0 && d.first_failure)
		rc = notify(db, "NOTIFY_PAYMENT_FAILED", a, d.attempts, now);
	if (rc == 0 && exhausted) {
		rc = notify(db, "NOTIFY_RETRY_EXHAUSTED", a, d.attempts, now);
		if (st)
			st->exhausted++;
	}
	return rc;
}

static int apply_unknown(struct db *db, const struct billing_attempt *a,
                         const struct billing_answer *ans, const struct sub_row *s, int64_t now,
                         struct billing_apply_stats *st)
{
	const char *retry = sub_s(s, S_RETRY);
	const char *before = strcmp(retry, "UNKNOWN") == 0 ? db_rows_str(s->rows, 0, S_BEFORE) : retry;
	int rc = att_failed(db, a, ans, "UNKNOWN", false, now);

	if (rc)
		return rc;
	if (strcmp(sub_s(s, S_STATUS), "PAUSED") == 0) {
		/* never while a charge is in flight, unless set by hand: the attempt stays UNKNOWN
		 * (it holds its SID) and the paused subscription keeps its state */
		rc = last_failure(db, a, ans, 0, now);
		if (rc == 0)
			rc = cycle_upsert(db, a, "UNKNOWN", prev_counted(s, a) + 1, 0, 0, 0, now);
		if (rc == 0 && st)
			st->unknown++;
		return rc;
	}
	struct db_param p[] = {DB_STR(before && before[0] ? before : "NONE"),
	                       DB_I64(now),
	                       DB_STR(ans->error_code[0] ? ans->error_code : NULL),
	                       DB_STR(failure_message(ans)),
	                       DB_I64(now),
	                       DB_I64(a->subscription_id)};
	rc = db_exec(db, sql_sub_unknown, p, sizeof(p) / sizeof(p[0]), NULL, NULL);
	if (rc == 0)
		rc = cycle_upsert(db, a, "UNKNOWN", prev_counted(s, a) + 1, 0, 0, 0, now);
	if (rc == 0 && st)
		st->unknown++;
	return rc;
}

static int apply_not_counted(struct db *db, const struct retry_policy *pol,
                             const struct billing_attempt *a, const struct billing_answer *ans,
                             int64_t now, struct billing_apply_stats *st)
{
	struct retry_decision d;
	int rc = att_failed(db, a, ans, "FAILED", false, now);

	if (rc)
		return rc;
	retry_decide(pol, ans->cls, 0, 0, now, &d);
	if (st)
		st->failed++;
	/* an admin's charge-now is not automatic: no hold for it */
	return last_failure(db, a, ans, a->by == BILLING_BY_ADMIN ? 0 : d.hold_until, now);
}

/* Applies one outcome to an attempt that must be in expect ("PENDING" or "UNKNOWN"). */
static int apply_approved_batch(struct db *db, const struct billing_outcome *const *ok, size_t n,
                                int64_t now, const char *expect, const char *resolved_by,
                                struct billing_apply_stats *st);

static int apply_one(struct db *db, const struct retry_policy *pol, const struct billing_attempt *a,
                     const struct billing_answer *ans, int64_t now, const char *expect,
                     const char *resolved_by, struct billing_apply_stats *st)
{
	struct sub_row s = {NULL};
	struct db_rows *gate = NULL;
	struct db_param sp = DB_I64(a->subscription_id), gp = DB_I64(a->id);
	int rc = db_query(db, sql_sub_lock, &sp, 1, &s.rows);

	if (rc)
		return rc;
	if (db_rows_count(s.rows) == 0) {
		rc = -E_SUBSCRIPTION_NOT_FOUND;
		goto out;
	}
	rc = db_query(db, sql_att_gate, &gp, 1, &gate);
	if (rc)
		goto out;
	if (db_rows_count(gate) == 0 || strcmp(db_rows_str(gate, 0, 0), expect) != 0) {
		if (st)
			st->skipped++;
		goto out;
	}
	switch (ans->cls) {
	case PAY_OK: {
		struct billing_outcome o = {a, ans};
		const struct billing_outcome *one = &o;
		rc = apply_approved_batch(db, &one, 1, now, expect, resolved_by, st);
		break;
	}
	case PAY_DECLINED:
	case PAY_SID_DEAD:
	case PAY_LIMIT:
		rc = apply_declined(db, pol, a, ans, &s, now, st);
		break;
	case PAY_UNKNOWN:
	case PAY_VERIFY:
		rc = apply_unknown(db, a, ans, &s, now, st);
		break;
	default:
		rc = apply_not_counted(db, pol, a, ans, now, st);
		break;
	}
out:
	db_rows_free(gate);
	db_rows_free(s.rows);
	return rc;
}

/* ---- approved outcomes, a batch at a time ----------------------------------------------------
 *
 * The common outcome of a pass is APPROVED, and each one writes seven rows. Written one outcome
 * at a time that is ~10 statements per charge; here the batch's facts go to MariaDB as one JSON
 * document (computed in C: the anchored schedule, the amounts, the approval JSON) and every
 * table gets one statement that reads it through JSON_TABLE: ~9 statements per batch. It is
 * the only writer of approvals: a single outcome (charge-now, an admin's verdict) is a batch
 * of one, so the schedule and the amounts are computed in one place (batch_row).
 */

#define JT_ID "JSON_TABLE(?, '$[*]' COLUMNS (a BIGINT PATH '$.a')) j"
#define JT_OK                                                                                      \
	"JSON_TABLE(?, '$[*]' COLUMNS (ord FOR ORDINALITY, a BIGINT PATH '$.a', s BIGINT PATH '$.s',"   \
	" u BIGINT PATH '$.u', c DATE PATH '$.c', q INT PATH '$.q', op BIGINT PATH '$.op',"           \
	" p10 INT PATH '$.p10', dp BIGINT PATH '$.dp', rp BIGINT PATH '$.rp', per INT PATH '$.per',"  \
	" amt BIGINT PATH '$.amt', item BIGINT PATH '$.item', at BIGINT PATH '$.at',"                 \
	" tot BIGINT PATH '$.tot', tf BIGINT PATH '$.tf', vat BIGINT PATH '$.vat',"                   \
	" pt BIGINT PATH '$.pt', dc BIGINT PATH '$.dc', mm INT PATH '$.mm',"                          \
	" tid VARCHAR(64) PATH '$.tid', aid VARCHAR(64) PATH '$.aid', pmt VARCHAR(16) PATH '$.pmt',"   \
	" res VARCHAR(2000) PATH '$.res', pkey VARCHAR(64) PATH '$.pkey', cid VARCHAR(32) PATH '$.cid',"       \
	" sid VARCHAR(64) PATH '$.sid', poid VARCHAR(100) PATH '$.poid',"                             \
	" puid VARCHAR(100) PATH '$.puid', iname VARCHAR(100) PATH '$.iname',"                        \
	" rn VARCHAR(30) PATH '$.rn', rph VARCHAR(20) PATH '$.rph', rc VARCHAR(100) PATH '$.rc',"     \
	" rd VARCHAR(200) PATH '$.rd', st VARCHAR(32) PATH '$.st', ld DATE PATH '$.L',"               \
	" sd DATE PATH '$.C', nd VARCHAR(10) PATH '$.N', cyc INT PATH '$.cyc')) j"
#define JOIN_ORDER " JOIN orders o ON o.subscription_id = j.s AND o.cycle_date = j.c"

static const char sql_batch_lock[] =
    "SELECT b.billing_attempt_id, b.status, b.origin_price, b.discount_p10, b.discount_price,"
    " b.real_price, s.period, s.status, s.retry_attempts, " DATE_OF("s.first_payment_date") ","
    " " DATE_OF("s.last_payment_date") ", " DATE_OF("s.last_settled_cycle_date") ","
    " " DATE_OF("s.failed_cycle_date") ", s.user_id, s.receiver_real_name, s.receiver_phone,"
    " s.receiver_city, s.receiver_detail_address"
    " FROM " JT_ID " JOIN billing_attempt b ON b.billing_attempt_id = j.a"
    " JOIN subscriptions s ON s.subscription_id = b.subscription_id"
    " ORDER BY s.subscription_id FOR UPDATE";
enum {
	L_ID,
	L_STATUS,
	L_OP,
	L_P10,
	L_DP,
	L_RP,
	L_PERIOD,
	L_SUB_STATUS,
	L_ATTEMPTS,
	L_FIRST,
	L_LAST,
	L_SETTLED,
	L_FAILED,
	L_USER,
	L_NAME,
	L_PHONE,
	L_CITY,
	L_DETAIL
};
static const char sql_batch_orders[] =
    "INSERT INTO orders (user_id, status, is_subscription, ordered_at_cart, is_renewal,"
    " subscription_id, cycle_date, receiver_real_name, receiver_phone, receiver_city,"
    " receiver_detail_address, total_items, total_quantity, total_price, total_discount_price,"
    " expect_price, created_at, updated_at, paid_at)"
    " SELECT j.u, 'COMPLETE', 1, 0, 1, j.s, j.c, j.rn, j.rph, j.rc, j.rd, 1, j.q, j.op * j.q,"
    " j.dp * j.q, j.rp * j.q, FROM_UNIXTIME(?), FROM_UNIXTIME(?), FROM_UNIXTIME(j.at)"
    " FROM " JT_OK " ORDER BY j.ord";
static const char sql_batch_lines[] =
    "INSERT INTO order_items (order_id, item_id, quantity, is_subscription, period, origin_price,"
    " discount_p10, discount_price, real_price, subscription_id, created_at)"
    " SELECT o.order_id, j.item, j.q, 1, j.per, j.op, j.p10, j.dp, j.rp, j.s, FROM_UNIXTIME(?)"
    " FROM " JT_OK JOIN_ORDER " ORDER BY j.ord";
static const char sql_batch_payments[] =
    "INSERT INTO payments (order_id, ready_no, status, payment_key, cid, partner_order_id,"
    " partner_user_id, item_name, quantity, amount, tax_free_amount, tid, aid, sid,"
    " payment_method_type, approved_total, approved_tax_free, approved_vat, approved_point,"
    " approved_discount, approved_at, approval_result, created_at, updated_at)"
    " SELECT o.order_id, 1, 'APPROVED', j.pkey, j.cid, j.poid, j.puid, j.iname, j.q, j.amt, 0,"
    " j.tid, j.aid, j.sid, NULLIF(j.pmt, ''), j.tot, j.tf, j.vat, j.pt, j.dc, FROM_UNIXTIME(j.at),"
    " j.res, FROM_UNIXTIME(?), FROM_UNIXTIME(?)"
    " FROM " JT_OK JOIN_ORDER " ORDER BY j.ord";
static const char sql_batch_sales[] =
    "INSERT INTO item_sales_delta (item_id, quantity, order_id, created_at)"
    " SELECT j.item, j.q, o.order_id, FROM_UNIXTIME(?) FROM " JT_OK JOIN_ORDER " ORDER BY j.ord";
static const char sql_batch_cycles[] =
    "INSERT INTO subscription_cycles (subscription_id, cycle_date, status, attempts, amount,"
    " order_id, paid_at, created_at, updated_at)"
    " SELECT j.s, j.c, 'PAID', j.cyc, j.amt, o.order_id, FROM_UNIXTIME(j.at), FROM_UNIXTIME(?),"
    " FROM_UNIXTIME(?) FROM " JT_OK JOIN_ORDER " ORDER BY j.ord"
    " ON DUPLICATE KEY UPDATE status = VALUES(status), attempts = VALUES(attempts),"
    " amount = VALUES(amount), order_id = VALUES(order_id), paid_at = VALUES(paid_at),"
    " updated_at = VALUES(updated_at)";
static const char sql_batch_attempts[] =
    "UPDATE billing_attempt b JOIN " JT_OK " ON b.billing_attempt_id = j.a" JOIN_ORDER
    " SET b.status = 'APPROVED', b.outcome = 'OK', b.counted = 0, b.tid = j.tid, b.aid = j.aid,"
    " b.approved_amount = j.tot, b.amount_mismatch = j.mm, b.approved_at = FROM_UNIXTIME(j.at),"
    " b.approval_result = j.res, b.order_id = o.order_id, b.error_code = NULL,"
    " b.error_message = NULL, b.finished_at = FROM_UNIXTIME(?), b.resolved_by = ?,"
    " b.updated_at = FROM_UNIXTIME(?)";
static const char sql_batch_subs[] =
    "UPDATE subscriptions s JOIN " JT_OK " ON s.subscription_id = j.s"
    " SET s.status = j.st, s.retry_state = 'NONE', s.retry_state_before_unknown = NULL,"
    " s.failed_cycle_date = NULL, s.retry_attempts = 0, s.next_retry_at = NULL,"
    " s.last_failure_at = NULL, s.last_failure_code = NULL, s.last_failure_message = NULL,"
    " s.charge_hold_until = NULL, s.charge_hold_reason = NULL, s.last_payment_date = j.ld,"
    " s.last_settled_cycle_date = j.sd, s.next_payment_date = NULLIF(j.nd, ''),"
    " s.updated_at = FROM_UNIXTIME(?)";

static const char *row_s(const struct db_rows *r, size_t i, int col)
{
	const char *v = db_rows_str(r, i, (size_t)col);
	return v ? v : "";
}

/* Adds one outcome's facts to arr; 0, or -E_NOMEM. */
static int batch_row(cJSON *arr, const struct billing_attempt *a, const struct billing_answer *ans,
                     const struct db_rows *lk, size_t i, int64_t now,
                     struct billing_apply_stats *st)
{
	int64_t approved_at = ans->approved_at >= 0 ? ans->approved_at : now;
	int64_t total = ans->amount.present ? ans->amount.total : a->amount;
	int32_t today = clock_local_day((time_t)now);
	int32_t first = day_of(row_s(lk, i, L_FIRST)), last = day_of(row_s(lk, i, L_LAST));
	int32_t settled = day_of(row_s(lk, i, L_SETTLED)), next;
	bool cancelled = strcmp(row_s(lk, i, L_SUB_STATUS), "SUBSCRIBE_CANCEL") == 0;
	int prev = day_of(row_s(lk, i, L_FAILED)) == a->cycle_date
	               ? (int)db_rows_i64(lk, i, L_ATTEMPTS)
	               : 0;
	char cday[CLOCK_DATE_LEN], lday[CLOCK_DATE_LEN], sday[CLOCK_DATE_LEN],
	    nday[CLOCK_DATE_LEN] = "", key[64];
	char *res = billing_approval_json(a, ans, now);
	cJSON *o = cJSON_CreateObject();
	bool bad = !res || !o;

	if (today > last)
		last = today;
	if (a->cycle_date > settled)
		settled = a->cycle_date;
	next = sched_next(first, (int32_t)db_rows_i64(lk, i, L_PERIOD), last, settled, today);
	clock_format_day(a->cycle_date, cday);
	clock_format_day(last, lday);
	clock_format_day(settled, sday);
	if (!cancelled)
		clock_format_day(next, nday);
	snprintf(key, sizeof(key), "renewal-att-%lld", (long long)a->id);
#define NUM(k, v) bad |= !cJSON_AddNumberToObject(o, k, (double)(v))
#define STR(k, v) bad |= !cJSON_AddStringToObject(o, k, v)
	if (!bad) {
		NUM("a", a->id);
		NUM("s", a->subscription_id);
		NUM("u", db_rows_i64(lk, i, L_USER));
		STR("c", cday);
		NUM("q", a->quantity);
		NUM("op", db_rows_i64(lk, i, L_OP));
		NUM("p10", db_rows_i64(lk, i, L_P10));
		NUM("dp", db_rows_i64(lk, i, L_DP));
		NUM("rp", db_rows_i64(lk, i, L_RP));
		NUM("per", db_rows_i64(lk, i, L_PERIOD));
		NUM("amt", a->amount);
		NUM("item", a->item_id);
		NUM("at", approved_at);
		NUM("tot", total);
		NUM("tf", ans->amount.tax_free);
		NUM("vat", ans->amount.vat);
		NUM("pt", ans->amount.point);
		NUM("dc", ans->amount.discount);
		NUM("mm", total != a->amount);
		STR("tid", ans->tid);
		STR("aid", ans->aid);
		STR("pmt", ans->payment_method_type);
		STR("res", res);
		STR("pkey", key);
		STR("cid", a->cid);
		STR("sid", a->sid);
		STR("poid", a->partner_order_id);
		STR("puid", a->partner_user_id);
		STR("iname", a->item_name);
		STR("rn", row_s(lk, i, L_NAME));
		STR("rph", row_s(lk, i, L_PHONE));
		STR("rc", row_s(lk, i, L_CITY));
		STR("rd", row_s(lk, i, L_DETAIL));
		STR("st", cancelled ? "SUBSCRIBE_CANCEL" : "SUBSCRIPTION");
		STR("L", lday);
		STR("C", sday);
		STR("N", nday);
		NUM("cyc", prev + 1);
	}
#undef NUM
#undef STR
	free(res);
	if (bad || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -E_NOMEM;
	}
	st->approved++;
	st->amount_mismatch += total != a->amount;
	st->sales_items += a->quantity;
	return 0;
}

/* The approved outcomes of a batch (all of class OK), in one go. */
static int apply_approved_batch(struct db *db, const struct billing_outcome *const *ok, size_t n,
                                int64_t now, const char *expect, const char *resolved_by,
                                struct billing_apply_stats *st)
{
	cJSON *ids = cJSON_CreateArray(), *facts = cJSON_CreateArray();
	struct db_rows *lk = NULL;
	char *ids_text = NULL, *facts_text = NULL;
	size_t nfacts = 0;
	int rc = -E_NOMEM;

	if (!ids || !facts)
		goto out;
	for (size_t i = 0; i < n; i++) {
		cJSON *o;
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = ok[k]->att->id == ok[i]->att->id;
		if (seen) { /* one outcome per attempt: a repeat is settled already */
			st->skipped++;
			continue;
		}
		o = cJSON_CreateObject();
		if (!o || !cJSON_AddNumberToObject(o, "a", (double)ok[i]->att->id) ||
		    !cJSON_AddItemToArray(ids, o)) {
			cJSON_Delete(o);
			goto out;
		}
	}
	ids_text = cJSON_PrintUnformatted(ids);
	if (!ids_text)
		goto out;
	struct db_param ip = DB_STR(ids_text);
	rc = db_query(db, sql_batch_lock, &ip, 1, &lk);
	if (rc)
		goto out;
	for (size_t r = 0; rc == 0 && r < db_rows_count(lk); r++) {
		int64_t id = db_rows_i64(lk, r, L_ID);
		const struct billing_outcome *o = NULL;

		for (size_t i = 0; i < n && !o; i++)
			if (ok[i]->att->id == id)
				o = ok[i];
		if (!o || strcmp(row_s(lk, r, L_STATUS), expect) != 0) {
			st->skipped++;
			continue;
		}
		rc = batch_row(facts, o->att, o->ans, lk, r, now, st);
		nfacts += rc == 0;
	}
	st->skipped += (size_t)cJSON_GetArraySize(ids) - db_rows_count(lk); /* never in practice */
	if (rc || nfacts == 0)
		goto out;
	facts_text = cJSON_PrintUnformatted(facts);
	if (!facts_text) {
		rc = -E_NOMEM;
		goto out;
	}
	struct db_param f2[] = {DB_I64(now), DB_I64(now), DB_STR(facts_text)};
	struct db_param f1[] = {DB_I64(now), DB_STR(facts_text)};
	struct db_param pa[] = {DB_STR(facts_text), DB_I64(now), DB_STR(resolved_by), DB_I64(now)};
	struct db_param p1[] = {DB_STR(facts_text), DB_I64(now)};
	rc = db_exec(db, sql_batch_orders, f2, 3, NULL, NULL);
	if (rc == 0)
		rc = db_exec(db, sql_batch_lines, f1, 2, NULL, NULL);
	if (rc == 0) {
		struct db_param pp[] = {DB_I64(now), DB_I64(now), DB_STR(facts_text)};
		/* payments: approved_at.. created_at, updated_at come last in the statement */
		rc = db_exec(db, sql_batch_payments, pp, 3, NULL, NULL);
	}
	if (rc == 0)
		rc = db_exec(db, sql_batch_sales, f1, 2, NULL, NULL);
	if (rc == 0)
		rc = db_exec(db, sql_batch_cycles, f2, 3, NULL, NULL);
	if (rc == 0)
		rc = db_exec(db, sql_batch_attempts, pa, 4, NULL, NULL);
	if (rc == 0)
		rc = db_exec(db, sql_batch_subs, p1, 2, NULL, NULL);
out:
	cJSON_Delete(ids);
	cJSON_Delete(facts);
	free(ids_text);
	free(facts_text);
	db_rows_free(lk);
	return rc;
}

struct apply_tx {
	const struct retry_policy *pol;
	const struct billing_outcome *o;
	size_t n;
	int64_t now;
	struct billing_apply_stats st;
};

static int apply_fn(struct db *db, void *arg)
{
	struct apply_tx *t = arg;
	int rc = 0;

	const struct billing_outcome **ok = calloc(t->n ? t->n : 1, sizeof(*ok));
	size_t nok = 0;

	if (!ok)
		return -E_NOMEM;
	memset(&t->st, 0, sizeof(t->st)); /* a retried transaction counts again from zero */
	for (size_t i = 0; i < t->n; i++)
		if (t->o[i].ans->cls == PAY_OK)
			ok[nok++] = &t->o[i];
	if (nok > 0)
		rc = apply_approved_batch(db, ok, nok, t->now, "PENDING", "GATEWAY", &t->st);
	for (size_t i = 0; rc == 0 && i < t->n; i++)
		if (t->o[i].ans->cls != PAY_OK)
			rc = apply_one(db, t->pol, t->o[i].att, t->o[i].ans, t->now, "PENDING",
			               "GATEWAY", &t->st);
	free(ok);
	return rc;
}

static void stats_add(struct billing_apply_stats *to, const struct billing_apply_stats *from)
{
	to->approved += from->approved;
	to->declined += from->declined;
	to->exhausted += from->exhausted;
	to->failed += from->failed;
	to->unknown += from->unknown;
	to->skipped += from->skipped;
	to->amount_mismatch += from->amount_mismatch;
	to->sales_items += from->sales_items;
}

int store_billing_apply(struct db *db, const struct retry_policy *p, const struct billing_outcome *o,
                        size_t n, int64_t now, struct billing_apply_stats *stats)
{
	struct apply_tx t = {p, o, n, now, {0}};
	int rc;

	if (n == 0)
		return 0;
	rc = db_tx(db, apply_fn, &t);
	if (rc == 0 && stats)
		stats_add(stats, &t.st);
	return rc;
}

static const char sql_att_json[] =
    "SELECT approval_result FROM billing_attempt WHERE billing_attempt_id = ?";

int store_billing_approval_json(struct db *db, int64_t attempt_id, char **out)
{
	struct db_rows *rows = NULL;
	struct db_param p = DB_I64(attempt_id);
	int rc = db_query(db, sql_att_json, &p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0 || !db_rows_str(rows, 0, 0))
		rc = -E_DB_NO_ROW;
	else if (!(*out = strdup(db_rows_str(rows, 0, 0))))
		rc = -E_NOMEM;
	db_rows_free(rows);
	return rc;
}

/* ---- reconciler ----------------------------------------------------------------------------- */

#define ATT_COLS                                                                                   \
	"billing_attempt_id, subscription_id, item_id, " DATE_OF("cycle_date") ", attempt_no,"     \
	" initiated_by, quantity, amount, UNIX_TIMESTAMP(claimed_at), cid, sid, partner_order_id," \
	" partner_user_id, item_name "

static void att_from_row(const struct db_rows *r, size_t i, struct billing_attempt *a)
{
	memset(a, 0, sizeof(*a));
	a->id = db_rows_i64(r, i, 0);
	a->subscription_id = db_rows_i64(r, i, 1);
	a->item_id = db_rows_i64(r, i, 2);
	a->cycle_date = day_of(db_rows_str(r, i, 3));
	a->attempt_no = (int)db_rows_i64(r, i, 4);
	a->by = by_parse(db_rows_str(r, i, 5));
	a->quantity = db_rows_i64(r, i, 6);
	a->amount = db_rows_i64(r, i, 7);
	a->claimed_at = db_rows_i64(r, i, 8);
	copy_str(a->cid, sizeof(a->cid), db_rows_str(r, i, 9));
	copy_str(a->sid, sizeof(a->sid), db_rows_str(r, i, 10));
	copy_str(a->partner_order_id, sizeof(a->partner_order_id), db_rows_str(r, i, 11));
	copy_str(a->partner_user_id, sizeof(a->partner_user_id), db_rows_str(r, i, 12));
	copy_str(a->item_name, sizeof(a->item_name), db_rows_str(r, i, 13));
	snprintf(a->payload, sizeof(a->payload), "att:%lld", (long long)a->id);
}

static const char sql_orphans[] =
    "SELECT " ATT_COLS " FROM billing_attempt WHERE status = 'PENDING'"
    " AND claimed_at < FROM_UNIXTIME(?) ORDER BY billing_attempt_id LIMIT ?";

struct orphan_tx {
	const struct billing_attempt *a;
	int64_t now;
	bool done;
};

static int orphan_fn(struct db *db, void *arg)
{
	struct orphan_tx *t = arg;
	struct billing_answer ans;
	struct billing_apply_stats st = {0};
	int rc;

	billing_answer_error(PAY_UNKNOWN, "ORPHANED",
	                     "the daemon that made this call stopped before recording its answer",
	                     &ans);
	rc = apply_one(db, NULL, t->a, &ans, t->now, "PENDING", "RECONCILER", &st);
	t->done = rc == 0 && st.unknown == 1;
	return rc;
}

int store_billing_orphans(struct db *db, int64_t now, int64_t min_age_s, const int64_t *in_flight,
                          size_t n_in_flight, size_t max, size_t *n)
{
	struct db_rows *rows = NULL;
	struct db_param p[] = {DB_I64(now - min_age_s), DB_I64((int64_t)max)};
	int rc = db_query(db, sql_orphans, p, 2, &rows);

	*n = 0;
	for (size_t i = 0; rc == 0 && i < db_rows_count(rows); i++) {
		struct billing_attempt a;
		bool mine = false;

		att_from_row(rows, i, &a);
		for (size_t k = 0; k < n_in_flight && !mine; k++)
			mine = in_flight[k] == a.id;
		if (mine)
			continue;
		struct orphan_tx t = {&a, now, false};
		rc = db_tx(db, orphan_fn, &t);
		if (rc == 0 && t.done)
			(*n)++;
		if (rc && rc != -E_SERVICE_UNAVAILABLE)
			rc = 0; /* one row that cannot be settled must not hold up the others */
	}
	db_rows_free(rows);
	return rc;
}

static const char sql_probes_due[] =
    "SELECT billing_attempt_id, UNIX_TIMESTAMP(claimed_at), probe_count, cid, sid"
    " FROM billing_attempt WHERE status = 'UNKNOWN' AND needs_admin = 0 AND admin_verdict IS NULL"
    " AND tid IS NULL AND (last_probe_at IS NULL OR last_probe_at <= FROM_UNIXTIME(?))"
    " AND ((probe_count = 0 AND claimed_at <= FROM_UNIXTIME(?))"
    " OR (probe_count >= 1 AND claimed_at <= FROM_UNIXTIME(?)))"
    " ORDER BY billing_attempt_id LIMIT ?";

#define PROBE_RETRY_S 30 /* a failed probe is tried again after this */

int store_billing_probes_due(struct db *db, int64_t now, int64_t first_s, int64_t second_s,
                             struct billing_probe_due *out, size_t max, size_t *n)
{
	struct db_rows *rows = NULL;
	struct db_param p[] = {DB_I64(now - PROBE_RETRY_S), DB_I64(now - first_s),
	                       DB_I64(now - second_s), DB_I64((int64_t)max)};
	int rc = db_query(db, sql_probes_due, p, 4, &rows);

	*n = 0;
	for (size_t i = 0; rc == 0 && i < db_rows_count(rows) && i < max; i++) {
		out[i].id = db_rows_i64(rows, i, 0);
		out[i].claimed_at = db_rows_i64(rows, i, 1);
		out[i].probe_count = (int)db_rows_i64(rows, i, 2);
		copy_str(out[i].cid, sizeof(out[i].cid), db_rows_str(rows, i, 3));
		copy_str(out[i].sid, sizeof(out[i].sid), db_rows_str(rows, i, 4));
		(*n)++;
	}
	db_rows_free(rows);
	return rc;
}

static const char sql_att_by_id[] = "SELECT " ATT_COLS ", status FROM billing_attempt"
                                    " WHERE billing_attempt_id = ?";
static const char sql_att_resolved_failed[] =
    "UPDATE billing_attempt SET status = 'FAILED', counted = 0, resolved_by = ?,"
    " resolution_note = ?, needs_admin = 0, finished_at = FROM_UNIXTIME(?),"
    " updated_at = FROM_UNIXTIME(?) WHERE billing_attempt_id = ? AND status = 'UNKNOWN'";
static const char sql_sub_restore[] =
    "UPDATE subscriptions SET retry_state = ?, retry_state_before_unknown = NULL,"
    " next_retry_at = FROM_UNIXTIME(?), updated_at = FROM_UNIXTIME(?)"
    " WHERE subscription_id = ? AND retry_state = 'UNKNOWN'";
static const char sql_probe_note[] =
    "UPDATE billing_attempt SET probe_count = probe_count + ?, needs_admin = ?,"
    " last_probe_at = FROM_UNIXTIME(?), last_probe_result = ?, updated_at = FROM_UNIXTIME(?)"
    " WHERE billing_attempt_id = ? AND status = 'UNKNOWN'";

/* UNKNOWN → FAILED inside a transaction: the attempt, the subscription's retry state before
 * the UNKNOWN, and the cycle row. */
static int resolve_failed_locked(struct db *db, const struct billing_attempt *a,
                                 const char *resolved_by, const char *note, int64_t now)
{
	struct sub_row s = {NULL};
	struct db_param sp = DB_I64(a->subscription_id);
	char day[CLOCK_DATE_LEN];
	uint64_t n = 0;
	int rc = db_query(db, sql_sub_lock, &sp, 1, &s.rows);

	if (rc)
		return rc;
	if (db_rows_count(s.rows) == 0) {
		rc = -E_SUBSCRIPTION_NOT_FOUND;
		goto out;
	}
	struct db_param ap[] = {DB_STR(resolved_by), DB_STR(note), DB_I64(now), DB_I64(now),
	                        DB_I64(a->id)};
	rc = db_exec(db, sql_att_resolved_failed, ap, 5, &n, NULL);
	if (rc || n == 0)
		goto out;
	if (strcmp(sub_s(&s, S_RETRY), "UNKNOWN") == 0) {
		const char *before = db_rows_str(s.rows, 0, S_BEFORE);
		bool cancelled = sub_cancelled(&s);
		const char *state = before && before[0] ? before : "NONE";

		if (cancelled && strcmp(state, "SCHEDULED") == 0)
			state = "EXHAUSTED";
		if (!cancelled && strcmp(sub_s(&s, S_STATUS), "SUBSCRIBE_PAYMENT_FAIL") == 0 &&
		    strcmp(state, "NONE") == 0)
			state = "SCHEDULED";
		bool scheduled = strcmp(state, "SCHEDULED") == 0;
		struct db_param rp[] = {DB_STR(state), scheduled ? DB_I64(now) : DB_NULL(),
		                        DB_I64(now), DB_I64(a->subscription_id)};
		rc = db_exec(db, sql_sub_restore, rp, 4, NULL, NULL);
		if (rc)
			goto out;
		if (!cancelled && strcmp(state, "NONE") == 0) {
			struct db_param dp[] = {DB_I64(a->subscription_id), day_param(a->cycle_date, day)};
			rc = db_exec(db, sql_cycle_delete_unknown, dp, 2, NULL, NULL);
		} else {
			rc = cycle_upsert(db, a, scheduled ? "RETRYING" : "FAILED", prev_counted(&s, a),
			                  0, 0, 0, now);
		}
	} else {
		rc = cycle_upsert(db, a, "FAILED", prev_counted(&s, a), 0, 0, 0, now);
	}
out:
	db_rows_free(s.rows);
	return rc;
}

static int load_attempt(struct db *db, int64_t id, struct billing_attempt *a)
{
	struct db_rows *rows = NULL;
	struct db_param p = DB_I64(id);
	int rc = db_query(db, sql_att_by_id, &p, 1, &rows);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = -E_DB_NO_ROW;
	else
		att_from_row(rows, 0, a);
	db_rows_free(rows);
	return rc;
}

struct probe_tx {
	int64_t id, now;
	enum billing_probe verdict;
	const char *note;
	bool resolved;
};

static int probe_fn(struct db *db, void *arg)
{
	struct probe_tx *t = arg;
	struct billing_attempt a;
	struct db_rows *rows = NULL;
	struct db_param gp = DB_I64(t->id);
	int rc = load_attempt(db, t->id, &a);

	t->resolved = false;
	if (rc)
		return rc;
	/* lock order: subscription, then attempt */
	struct db_param sp = DB_I64(a.subscription_id);
	rc = db_query(db, "SELECT 1 FROM subscriptions WHERE subscription_id = ? FOR UPDATE", &sp, 1,
	              &rows);
	db_rows_free(rows);
	rows = NULL;
	if (rc)
		return rc;
	rc = db_query(db,
	              "SELECT probe_count FROM billing_attempt WHERE billing_attempt_id = ?"
	              " AND status = 'UNKNOWN' FOR UPDATE",
	              &gp, 1, &rows);
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		db_rows_free(rows);
		return 0;
	}
	int count = (int)db_rows_i64(rows, 0, 0);
	db_rows_free(rows);

	int inc = t->verdict == BILLING_PROBE_ERROR ? 0 : 1;
	int admin = t->verdict == BILLING_PROBE_MAYBE_CHARGED;
	struct db_param np[] = {DB_I64(inc),     DB_I64(admin),   DB_I64(t->now),
	                        DB_STR(t->note), DB_I64(t->now), DB_I64(t->id)};
	rc = db_exec(db, sql_probe_note, np, 6, NULL, NULL);
	if (rc == 0 && t->verdict == BILLING_PROBE_NOT_CHARGED && count + 1 >= 2) {
		rc = resolve_failed_locked(db, &a, "RECONCILER",
		                           "two SID status probes showed no charge since the claim",
		                           t->now);
		t->resolved = rc == 0;
	}
	return rc;
}

int store_billing_probe_record(struct db *db, int64_t id, enum billing_probe verdict,
                               const char *note, int64_t now, bool *resolved)
{
	struct probe_tx t = {id, now, verdict, note, false};
	int rc = db_tx(db, probe_fn, &t);

	if (resolved)
		*resolved = rc == 0 && t.resolved;
	return rc;
}

static const char sql_flag_stale[] =
    "UPDATE billing_attempt SET needs_admin = 1, resolution_note = COALESCE(resolution_note,"
    " 'open for more than the reconciliation window: settle it by hand'),"
    " updated_at = FROM_UNIXTIME(?) WHERE status = 'UNKNOWN' AND needs_admin = 0"
    " AND claimed_at < FROM_UNIXTIME(?)";

int store_billing_flag_stale_unknown(struct db *db, int64_t now, int64_t max_open_s, size_t *n)
{
	struct db_param p[] = {DB_I64(now), DB_I64(now - max_open_s)};
	uint64_t affected = 0;
	int rc = db_exec(db, sql_flag_stale, p, 2, &affected, NULL);

	*n = rc == 0 ? (size_t)affected : 0;
	return rc;
}

static const char sql_verdicts[] =
    "SELECT " ATT_COLS ", admin_verdict, admin_tid FROM billing_attempt"
    " WHERE status = 'UNKNOWN' AND admin_verdict IS NOT NULL ORDER BY billing_attempt_id LIMIT ?";

int store_billing_verdicts(struct db *db, struct billing_verdict *out, size_t max, size_t *n)
{
	struct db_rows *rows = NULL;
	struct db_param p = DB_I64((int64_t)max);
	int rc = db_query(db, sql_verdicts, &p, 1, &rows);

	*n = 0;
	for (size_t i = 0; rc == 0 && i < db_rows_count(rows) && i < max; i++) {
		att_from_row(rows, i, &out[i].att);
		out[i].charged = db_rows_str(rows, i, 14) &&
		                 strcmp(db_rows_str(rows, i, 14), "CHARGED") == 0;
		copy_str(out[i].tid, sizeof(out[i].tid), db_rows_str(rows, i, 15));
		(*n)++;
	}
	db_rows_free(rows);
	return rc;
}

struct resolve_tx {
	const struct retry_policy *pol;
	const struct billing_attempt *a;
	const struct billing_answer *ans;
	int64_t id, now;
	const char *by, *note;
};

static int resolve_failed_fn(struct db *db, void *arg)
{
	struct resolve_tx *t = arg;
	struct billing_attempt a;
	int rc = load_attempt(db, t->id, &a);

	return rc ? rc : resolve_failed_locked(db, &a, t->by, t->note, t->now);
}

int store_billing_resolve_failed(struct db *db, int64_t id, const char *resolved_by,
                                 const char *note, int64_t now)
{
	struct resolve_tx t = {.id = id, .now = now, .by = resolved_by, .note = note};
	return db_tx(db, resolve_failed_fn, &t);
}

static const char sql_sub_clear_unknown[] =
    "UPDATE subscriptions SET retry_state_before_unknown = NULL WHERE subscription_id = ?";

static int resolve_charged_fn(struct db *db, void *arg)
{
	struct resolve_tx *t = arg;
	struct billing_apply_stats st = {0};
	int rc = apply_one(db, t->pol, t->a, t->ans, t->now, "UNKNOWN", "ADMIN", &st);

	if (rc == 0 && st.approved == 1) {
		struct db_param p = DB_I64(t->a->subscription_id);
		rc = db_exec(db, sql_sub_clear_unknown, &p, 1, NULL, NULL);
	}
	return rc;
}

int store_billing_resolve_charged(struct db *db, const struct retry_policy *p,
                                  const struct billing_attempt *att,
                                  const struct billing_answer *ans, int64_t now)
{
	struct resolve_tx t = {.pol = p, .a = att, .ans = ans, .now = now};
	return db_tx(db, resolve_charged_fn, &t);
}

static const char sql_verdict_rejected[] =
    "UPDATE billing_attempt SET admin_verdict = NULL, admin_tid = NULL, needs_admin = 1,"
    " resolution_note = ?, updated_at = FROM_UNIXTIME(?) WHERE billing_attempt_id = ?"
    " AND status = 'UNKNOWN'";

int store_billing_verdict_rejected(struct db *db, int64_t id, const char *note, int64_t now)
{
	struct db_param p[] = {DB_STR(note), DB_I64(now), DB_I64(id)};
	return db_exec(db, sql_verdict_rejected, p, 3, NULL, NULL);
}

static const char sql_backlog[] =
    "SELECT (SELECT COUNT(*) FROM subscriptions s WHERE" DUE_CYCLE_WHERE ")"
    " + (SELECT COUNT(*) FROM subscriptions s WHERE" DUE_RETRY_WHERE "),"
    " (SELECT COUNT(*) FROM billing_attempt WHERE status = 'UNKNOWN'),"
    " (SELECT COUNT(*) FROM billing_attempt WHERE status = 'UNKNOWN' AND needs_admin = 1),"
    " (SELECT COUNT(*) FROM billing_attempt WHERE status = 'PENDING'),"
    " (SELECT COUNT(*) FROM api_event WHERE status <> 'DONE')";

int store_billing_backlog(struct db *db, int64_t now, int32_t cutoff, struct billing_backlog *out)
{
	struct db_rows *rows = NULL;
	char day[CLOCK_DATE_LEN];
	struct db_param p[] = {day_param(cutoff, day), DB_I64(now), DB_I64(now), DB_I64(now)};
	int rc = db_query(db, sql_backlog, p, 4, &rows);

	if (rc)
		return rc;
	out->due = db_rows_i64(rows, 0, 0);
	out->unknown_open = db_rows_i64(rows, 0, 1);
	out->needs_admin = db_rows_i64(rows, 0, 2);
	out->pending = db_rows_i64(rows, 0, 3);
	out->outbox_pending = db_rows_i64(rows, 0, 4);
	db_rows_free(rows);
	return 0;
}

static const char sql_due_list[] =
    "SELECT s.subscription_id, " DATE_OF("s.failed_cycle_date") ", s.quantity * i.real_price, 1"
    " FROM subscriptions s JOIN items i ON i.item_id = s.item_id WHERE" DUE_RETRY_WHERE
    " UNION ALL SELECT s.subscription_id, " DATE_OF("s.next_payment_date") ","
    " s.quantity * i.real_price, 0 FROM subscriptions s JOIN items i ON i.item_id = s.item_id"
    " WHERE" DUE_CYCLE_WHERE " LIMIT ?";

int store_billing_due_list(struct db *db, int64_t now, int32_t cutoff, struct billing_due *out,
                           size_t max, size_t *n)
{
	struct db_rows *rows = NULL;
	char day[CLOCK_DATE_LEN];
	struct db_param p[] = {DB_I64(now), DB_I64(now), day_param(cutoff, day), DB_I64(now),
	                       DB_I64((int64_t)max)};
	int rc = db_query(db, sql_due_list, p, 5, &rows);

	*n = 0;
	for (size_t i = 0; rc == 0 && i < db_rows_count(rows) && i < max; i++) {
		out[i].subscription_id = db_rows_i64(rows, i, 0);
		out[i].cycle_date = day_of(db_rows_str(rows, i, 1));
		out[i].amount = db_rows_i64(rows, i, 2);
		out[i].retry = db_rows_i64(rows, i, 3) != 0;
		(*n)++;
	}
	db_rows_free(rows);
	return rc;
}

/* ---- sales ---------------------------------------------------------------------------------- */

#define FOLD_BATCH 5000

static const char sql_fold_rc[] = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED";
static const char sql_fold_scan[] =
    "SELECT item_sales_delta_id, item_id, quantity FROM item_sales_delta"
    " ORDER BY item_sales_delta_id LIMIT 5000 FOR UPDATE";
static const char sql_fold_item[] = "UPDATE items SET sales = sales + ? WHERE item_id = ?";
static const char sql_fold_delete[] =
    "DELETE FROM item_sales_delta WHERE item_sales_delta_id BETWEEN ? AND ?";

struct item_sum {
	int64_t item, qty;
};

static int cmp_item(const void *a, const void *b)
{
	const struct item_sum *x = a, *y = b;
	return x->item < y->item ? -1 : x->item > y->item;
}

/*
 * One fold transaction over at most FOLD_BATCH rows, in READ COMMITTED so that it locks only
 * the rows it read (no gap locks: charges keep inserting while it runs, and it never waits on
 * them while they wait on it). It deletes exactly the ids it added, run by run, so a row it did
 * not see is never deleted. *rows gets the number folded.
 */
static int fold_once(struct db *db, size_t *rows_out, size_t *items_out)
{
	struct db_rows *rows = NULL;
	struct item_sum *sums = NULL;
	size_t n, nsums = 0;
	int rc;

	*rows_out = 0;
	rc = db_exec(db, sql_fold_rc, NULL, 0, NULL, NULL);
	if (rc == 0)
		rc = db_begin(db);
	if (rc)
		return rc;
	rc = db_query(db, sql_fold_scan, NULL, 0, &rows);
	if (rc)
		goto fail;
	n = db_rows_count(rows);
	if (n == 0) {
		db_rows_free(rows);
		return db_commit(db);
	}
	sums = calloc(n, sizeof(*sums));
	if (!sums) {
		rc = -E_NOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		sums[i].item = db_rows_i64(rows, i, 1);
		sums[i].qty = db_rows_i64(rows, i, 2);
	}
	qsort(sums, n, sizeof(*sums), cmp_item);
	for (size_t i = 0; i < n; i++) {
		if (nsums > 0 && sums[nsums - 1].item == sums[i].item)
			sums[nsums - 1].qty += sums[i].qty;
		else
			sums[nsums++] = sums[i];
	}
	for (size_t i = 0; rc == 0 && i < nsums; i++) {
		struct db_param p[] = {DB_I64(sums[i].qty), DB_I64(sums[i].item)};
		rc = db_exec(db, sql_fold_item, p, 2, NULL, NULL);
	}
	for (size_t i = 0; rc == 0 && i < n;) {
		int64_t lo = db_rows_i64(rows, i, 0), hi = lo;
		size_t k = i + 1;

		while (k < n && db_rows_i64(rows, k, 0) == hi + 1)
			hi = db_rows_i64(rows, k++, 0);
		struct db_param p[] = {DB_I64(lo), DB_I64(hi)};
		rc = db_exec(db, sql_fold_delete, p, 2, NULL, NULL);
		i = k;
	}
	if (rc)
		goto fail;
	rc = db_commit(db);
	if (rc == 0) {
		*rows_out = n;
		*items_out += nsums;
	}
	free(sums);
	db_rows_free(rows);
	return rc;
fail:
	db_rollback(db);
	free(sums);
	db_rows_free(rows);
	return rc;
}

int store_billing_fold_sales(struct db *db, size_t *items)
{
	size_t n = 0, changed = 0;
	int rc, tries = 0;

	for (;;) {
		rc = fold_once(db, &n, &changed);
		if (rc == -E_DB_RETRY && ++tries < 3)
			continue; /* a deadlock or lock wait: try again */
		if (rc || n < FOLD_BATCH)
			break;
	}
	if (items)
		*items = changed;
	return rc;
}
