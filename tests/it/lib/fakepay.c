/*
 * fakepay: helpers for the fake Kakao Pay server in integration tests. See fakepay.h.
 */
#include "tests/it/lib/fakepay.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/banned.h"

static const char *const json_headers[] = {"Authorization: SECRET_KEY " IT_FP_KEY,
                                           "Content-Type: application/json", NULL};

int it_fp_port(void)
{
	return it_api_port() + 10;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

pid_t it_fp_start(void)
{
	char bin[512], log[512], listen[64];
	struct it_resp r = IT_RESP_INIT;
	pid_t pid;
	const char *dir = it_getenv("PV_IT_BIN_DIR");

	snprintf(bin, sizeof(bin), "%s/fake-kakaopay", dir ? dir : ".");
	snprintf(log, sizeof(log), "%s/fakepay.log", it_var());
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", it_fp_port());
	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "it: %s is not an executable (%s)\n", bin, strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		sigset_t none;
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("PV_FAKEPAY_LISTEN", listen, 1);
		setenv("PV_FAKEPAY_SECRET_KEY", IT_FP_KEY, 1);
		setenv("PV_FAKEPAY_SEED", IT_FP_SEED, 1);
		unsetenv("PV_FAKEPAY_PUBLIC_URL");
		unsetenv("PV_FAKEPAY_LATENCY_MS");
		unsetenv("PV_FAKEPAY_FAULTS_FILE");
		execl(bin, bin, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		int st;
		if (it_http_to(it_fp_port(), 1000, "GET", "/__control/health", NULL, NULL, 0, &r) ==
		        0 &&
		    r.status == 200) {
			it_resp_free(&r);
			return pid;
		}
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "it: fake-kakaopay exited at start (see %s)\n", log);
			it_resp_free(&r);
			return -1;
		}
		sleep_ms(100);
	}
	it_resp_free(&r);
	fprintf(stderr, "it: fake-kakaopay did not answer /__control/health (see %s)\n", log);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

int it_fp_stop(pid_t pid, int *status)
{
	int st = -1;

	if (status)
		*status = -1;
	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			if (status)
				*status = st;
			return 0;
		}
		sleep_ms(100);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	if (status)
		*status = st;
	return -1;
}

int it_fp_raw(const char *method, const char *path, const char *const *headers, const char *body,
              int timeout_ms, struct it_resp *out)
{
	return it_http_to(it_fp_port(), timeout_ms, method, path, headers, body,
	                  body ? strlen(body) : 0, out);
}

int it_fp_api_to(const char *endpoint, const char *json, int timeout_ms, struct it_resp *out)
{
	char path[256];

	snprintf(path, sizeof(path), "/online/v1/payment/%s", endpoint);
	return it_fp_raw("POST", path, json_headers, json, timeout_ms, out);
}

void it_fp_api_at(struct it_loc at, const char *endpoint, const char *json, struct it_resp *out)
{
	if (it_fp_api_to(endpoint, json, IT_FP_TIMEOUT_MS, out) != 0)
		it_fail_at(at, out, "fake %s: %s", endpoint, out->error);
}

void it_fp_ctl_at(struct it_loc at, const char *method, const char *path, const char *json,
                  struct it_resp *out)
{
	static const char *const h[] = {"Content-Type: application/json", NULL};
	char full[512];

	snprintf(full, sizeof(full), "/__control%s", path);
	if (it_fp_raw(method, full, json ? h : NULL, json, IT_FP_TIMEOUT_MS, out) != 0)
		it_fail_at(at, out, "fake control %s %s: %s", method, path, out->error);
}

void it_fp_pay_init(struct it_fp_pay *p, const char *cid, int64_t amount)
{
	uint64_t n = it_seq();

	memset(p, 0, sizeof(*p));
	snprintf(p->cid, sizeof(p->cid), "%s", cid);
	snprintf(p->poid, sizeof(p->poid), "O%ld%llu-R1", (long)getpid(), (unsigned long long)n);
	snprintf(p->puid, sizeof(p->puid), "U%ld%llu", (long)getpid(), (unsigned long long)n);
	p->amount = amount;
}

void it_fp_ready_json(const struct it_fp_pay *p, char *buf, size_t n)
{
	snprintf(buf, n,
	         "{\"cid\":\"%s\",\"partner_order_id\":\"%s\",\"partner_user_id\":\"%s\","
	         "\"item_name\":\"루테인 외 1개\",\"quantity\":2,\"total_amount\":%lld,"
	         "\"tax_free_amount\":0,\"approval_url\":\"http://shop.example/pay/approve?o=%s\","
	         "\"cancel_url\":\"http://shop.example/pay/cancel?o=%s\","
	         "\"fail_url\":\"http://shop.example/pay/fail?o=%s\"}",
	         p->cid, p->poid, p->puid, (long long)p->amount, p->poid, p->poid, p->poid);
}

void it_fp_approve_json(const struct it_fp_pay *p, char *buf, size_t n)
{
	snprintf(buf, n,
	         "{\"cid\":\"%s\",\"tid\":\"%s\",\"partner_order_id\":\"%s\","
	         "\"partner_user_id\":\"%s\",\"pg_token\":\"%s\",\"total_amount\":%lld,"
	         "\"payload\":\"pay:%s\"}",
	         p->cid, p->tid, p->poid, p->puid, p->token, (long long)p->amount, p->tid);
}

void it_fp_ready_at(struct it_loc at, struct it_fp_pay *p)
{
	struct it_resp r = IT_RESP_INIT;
	char body[2048];

	it_fp_ready_json(p, body, sizeof(body));
	it_fp_api_at(at, "ready", body, &r);
	it_check_at(at, &r, r.status == 200 && r.json, "ready: expected 200");
	snprintf(p->tid, sizeof(p->tid), "%s", it_json_str_at(at, r.json, "tid"));
	it_resp_free(&r);
}

void it_fp_click_at(struct it_loc at, struct it_fp_pay *p, const char *action, char *loc, size_t n)
{
	struct it_resp r = IT_RESP_INIT;
	char body[256];
	const char *l, *t;

	snprintf(body, sizeof(body), "{\"tid\":\"%s\",\"action\":\"%s\"}", p->tid, action);
	it_fp_ctl_at(at, "POST", "/click", body, &r);
	it_check_at(at, &r, r.status == 200 && r.json, "click %s: expected 200", action);
	l = it_json_str_at(at, r.json, "location");
	if (loc)
		snprintf(loc, n, "%s", l);
	t = strstr(l, "pg_token=");
	if (t)
		snprintf(p->token, sizeof(p->token), "%s", t + 9);
	it_resp_free(&r);
}

void it_fp_paid_at(struct it_loc at, struct it_fp_pay *p)
{
	struct it_resp r = IT_RESP_INIT;
	char body[2048];
	const cJSON *sid;

	it_fp_ready_at(at, p);
	it_fp_click_at(at, p, "approve", NULL, 0);
	it_fp_approve_json(p, body, sizeof(body));
	it_fp_api_at(at, "approve", body, &r);
	it_check_at(at, &r, r.status == 200 && r.json, "approve: expected 200");
	snprintf(p->aid, sizeof(p->aid), "%s", it_json_str_at(at, r.json, "aid"));
	sid = cJSON_GetObjectItemCaseSensitive(r.json, "sid");
	if (cJSON_IsString(sid))
		snprintf(p->sid, sizeof(p->sid), "%s", sid->valuestring);
	it_resp_free(&r);
}

void it_fp_pay_order_at(struct it_loc at, const struct it_user *u, int64_t order_id)
{
	static const char *const accept_json[] = {"Accept: application/json", NULL};
	struct it_resp r = IT_RESP_INIT;
	struct db_param q[] = {DB_I64(order_id)};
	struct it_fp_pay p;
	char path[256], *tid;

	snprintf(path, sizeof(path), "/api/payments/%" PRId64, order_id);
	it_req_at(at, "POST", path, u->access, NULL, NULL, &r);
	it_check_at(at, &r, r.status == 201, "ready: expected 201");
	tid = it_sql_str_at(
	    at, "SELECT tid FROM payments WHERE order_id = ? ORDER BY ready_no DESC LIMIT 1", q, 1);
	memset(&p, 0, sizeof(p));
	snprintf(p.tid, sizeof(p.tid), "%s", tid ? tid : "");
	free(tid);
	it_fp_click_at(at, &p, "approve", NULL, 0);
	snprintf(path, sizeof(path), "/api/payments/approve/%" PRId64 "?pg_token=%s", order_id,
	         p.token);
	it_req_at(at, "GET", path, NULL, NULL, accept_json, &r);
	it_check_at(at, &r, r.status == 200, "approve: expected 200");
	it_resp_free(&r);
}

cJSON *it_fp_ledger_at(struct it_loc at, const char *query)
{
	struct it_resp r = IT_RESP_INIT;
	char path[512];
	cJSON *e;

	snprintf(path, sizeof(path), "/ledger%s%s", query && *query ? "?" : "", query ? query : "");
	it_fp_ctl_at(at, "GET", path, NULL, &r);
	it_check_at(at, &r, r.status == 200 && r.json, "ledger: expected 200");
	e = cJSON_DetachItemFromObjectCaseSensitive(r.json, "entries");
	it_resp_free(&r);
	it_check_at(at, NULL, cJSON_IsArray(e), "ledger: no entries array");
	return e;
}

int it_fp_ledger_count_at(struct it_loc at, const char *tid, const char *sid)
{
	cJSON *all = it_fp_ledger_at(at, NULL), *e;
	int n = 0;

	cJSON_ArrayForEach(e, all)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, tid ? "tid" : "sid");
		if (cJSON_IsString(v) && strcmp(v->valuestring, tid ? tid : sid) == 0)
			n++;
	}
	cJSON_Delete(all);
	return n;
}

char *it_fp_tid_field_at(struct it_loc at, const char *tid, const char *field)
{
	struct it_resp r = IT_RESP_INIT;
	char path[128], *s = NULL;
	const cJSON *v;

	snprintf(path, sizeof(path), "/tid/%s", tid);
	it_fp_ctl_at(at, "GET", path, NULL, &r);
	it_check_at(at, &r, r.status == 200 && r.json, "tid state: expected 200");
	v = cJSON_GetObjectItemCaseSensitive(r.json, field);
	if (cJSON_IsString(v))
		s = strdup(v->valuestring);
	it_resp_free(&r);
	return s;
}

int64_t it_fp_fault_at(struct it_loc at, const char *rule_json)
{
	struct it_resp r = IT_RESP_INIT;
	int64_t id;

	it_fp_ctl_at(at, "POST", "/faults", rule_json, &r);
	it_check_at(at, &r, r.status == 201 && r.json, "add fault: expected 201");
	id = it_json_int_at(at, r.json, "id");
	it_resp_free(&r);
	return id;
}

void it_fp_assert_error_at(struct it_loc at, const struct it_resp *r, long status, int code)
{
	const cJSON *c, *m, *x;

	it_check_at(at, r, r->status == status, "expected HTTP %ld, got %ld", status, r->status);
	it_check_at(at, r, r->json != NULL, "expected a JSON error body");
	c = cJSON_GetObjectItemCaseSensitive(r->json, "error_code");
	m = cJSON_GetObjectItemCaseSensitive(r->json, "error_message");
	x = cJSON_GetObjectItemCaseSensitive(r->json, "extras");
	it_check_at(at, r, cJSON_IsNumber(c) && c->valueint == code, "expected error_code %d",
	            code);
	it_check_at(at, r, cJSON_IsString(m) && m->valuestring[0], "expected an error_message");
	it_check_at(at, r, cJSON_IsObject(x), "expected an extras object");
	it_check_at(at, r, cJSON_GetArraySize(r->json) == 3, "expected exactly 3 keys");
}
