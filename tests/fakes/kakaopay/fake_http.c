/*
 * fake_http: routing, the API call life cycle and delivery of faults. See fake_http.h.
 */
#include "tests/fakes/kakaopay/fake_http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>

#include "common/clock.h"
#include "common/log.h"
#include "tests/fakes/kakaopay/fake_api.h"
#include "tests/fakes/kakaopay/fake_control.h"
#include "tests/fakes/kakaopay/fake_faults.h"
#include "tests/fakes/kakaopay/fake_page.h"
#include "tests/fakes/kakaopay/fake_store.h"
#include "common/banned.h"

#define BODY_MAX (64 * 1024)
#define HANG_MS  120000

enum stage { ST_LATENCY = 0, ST_RULE_LATENCY, ST_CLOSE, ST_PARTIAL, ST_HANG };

/* A hung call keeps a dup of the socket, watched for the client's close, after evhttp let go. */

struct fcall {
	struct evhttp_request *req;
	struct event *timer;
	enum stage stage;
	enum fp_endpoint ep;
	cJSON *body;
	int64_t fault_id;
	int64_t t0;
	int status, code;
	int hold_fd;        /* -1, or the held socket of a hang */
	size_t partial_len; /* drop_partial_applied: the length of the body never sent */
	struct event *hold_ev;
	const char *fault_name;
	char tid[FP_ID_LEN], sid[FP_ID_LEN];
	struct fcall *prev, *next;
};

static struct event_base *ev_base;
static struct fcall *calls;
static struct fmap conns; /* "%p" of a connection -> itself, to count connections */

/* ---- replies ----------------------------------------------------------------------------------
 */

void fhttp_send_text(struct evhttp_request *req, int status, const char *ctype, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	const char *reason = status == 200   ? "OK"
	                     : status == 303 ? "See Other"
	                     : status == 404 ? "Not Found"
	                     : status == 409 ? "Conflict"
	                     : status == 500 ? "Internal Server Error"
	                                     : "Error";

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	if (b && text)
		evbuffer_add(b, text, strlen(text));
	evhttp_send_reply(req, status, reason, b);
	if (b)
		evbuffer_free(b);
}

void fhttp_send_json(struct evhttp_request *req, int status, const cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;

	fhttp_send_text(req, status, "application/json;charset=UTF-8", text ? text : "{}");
	free(text);
}

char *fhttp_body(struct evhttp_request *req, size_t max, size_t *len, int *too_big)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char *s;

	*too_big = n > max;
	*len = n;
	if (*too_big)
		return NULL;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	evbuffer_copyout(in, s, n);
	s[n] = '\0';
	return s;
}

/* ---- connections ---------------------------------------------------------------------------- */

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	char key[32];

	(void)arg;
	snprintf(key, sizeof(key), "%p", (void *)evcon);
	if (fmap_del(&conns, key) && fstore.ctr.connections > 0)
		fstore.ctr.connections--;
}

static void track_conn(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char key[32];

	if (!evcon)
		return;
	snprintf(key, sizeof(key), "%p", (void *)evcon);
	if (fmap_get(&conns, key))
		return;
	if (fmap_put(&conns, key, evcon))
		return;
	evhttp_connection_set_closecb(evcon, on_conn_close, NULL);
	if (++fstore.ctr.connections > fstore.ctr.connections_max)
		fstore.ctr.connections_max = fstore.ctr.connections;
}

/* ---- the life of one API call ------------------------------------------------------------------
 */

static void call_free(struct fcall *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->timer)
		event_free(c->timer);
	if (c->hold_ev)
		event_free(c->hold_ev);
	if (c->hold_fd >= 0)
		close(c->hold_fd);
	cJSON_Delete(c->body);
	free(c);
	if (fstore.ctr.in_flight > 0)
		fstore.ctr.in_flight--;
}

static void call_log(const struct fcall *c)
{
	char masked[32];
	int64_t ms = clock_mono_ms() - c->t0;

	fstore_count_latency(ms);
	if (c->ep < FP_EP_COUNT)
		fstore_count_code(c->ep, c->code);
	if (!fstore.cfg.log)
		return;
	fstore_mask_sid(c->sid, masked, sizeof(masked));
	log_info("request", "endpoint", fstore_endpoint_name(c->ep), "status:i",
	         (long long)c->status, "code:i", (long long)c->code, "fault", c->fault_name,
	         "latency_ms:i", (long long)ms, "tid", c->tid[0] ? c->tid : NULL, "sid",
	         c->sid[0] ? masked : NULL);
}

/* Answers and ends the call. */
static void call_reply(struct fcall *c, int status, const cJSON *body, int code)
{
	c->status = status;
	c->code = code;
	fhttp_send_json(c->req, status, body);
	call_log(c);
	call_free(c);
}

static void call_error(struct fcall *c, int status, int code, const char *msg)
{
	struct fapi_result res = {0};

	fapi_error(&res, status, code, msg, NULL, NULL, false);
	call_reply(c, status, res.body, code);
	fapi_result_release(&res);
}

/* Closes the connection with no (more) bytes and ends the call. */
static void call_close(struct fcall *c)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(c->req);

	c->status = 0;
	call_log(c);
	if (evcon)
		evhttp_connection_free(evcon); /* frees the request too */
	else
		evhttp_send_reply(c->req, 500, "Gone", NULL); /* detached: only frees it */
	call_free(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

/* libevent's O(1) queue for many timers of one duration (the configured fixed latency). */
static const struct timeval *common_timeout(int64_t ms)
{
	static const struct timeval *tv;
	static int64_t tv_ms = -1;
	struct timeval t = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};

	if (ms != tv_ms) {
		tv = event_base_init_common_timeout(ev_base, &t);
		tv_ms = ms;
	}
	return tv;
}

static int call_wait(struct fcall *c, enum stage st, int64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
	const struct timeval *ctv = NULL;

	c->stage = st;
	if (!c->timer)
		c->timer = evtimer_new(ev_base, on_timer, c);
	if (!c->timer)
		return -1;
	if (st == ST_LATENCY && fstore.cfg.latency_min_ms == fstore.cfg.latency_max_ms)
		ctv = common_timeout(ms);
	return evtimer_add(c->timer, ctv ? ctv : &tv) ? -1 : 0;
}

static void send_garbage(struct fcall *c, const cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);
	struct evbuffer *b = evbuffer_new();

	c->status = 200;
	c->code = 0;
	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Content-Type",
	                  "application/json;charset=UTF-8");
	if (b && text)
		evbuffer_add(b, text, strlen(text) / 2);
	evhttp_send_reply(c->req, 200, "OK", b);
	if (b)
		evbuffer_free(b);
	free(text);
	call_log(c);
	call_free(c);
}

/* Sends the first half of the response headers (Content-Length first), then closes. */
static void send_partial(struct fcall *c)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(c->req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
	             "Content-Type: application/json;charset=UTF-8\r\n\r\n",
	             c->partial_len);
	if (fd >= 0 && n > 0 && write(fd, head, (size_t)n / 2) < 0)
		c->code = -1;
	call_close(c);
}

/* The held socket became readable (or HANG_MS passed): end the hang at the client's close. */
static void on_hold(evutil_socket_t fd, short what, void *arg)
{
	struct fcall *c = arg;
	char buf[4096];
	ssize_t n;

	if (what & EV_READ) {
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
	}
	call_close(c); /* no byte was ever sent */
}

/*
 * hang / hang_applied: the request stays unanswered. A dup of the socket is watched so that
 * the call ends when the client closes (or after HANG_MS), never holding a thread.
 */
static void call_hold(struct fcall *c)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(c->req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	struct timeval tv = {HANG_MS / 1000, 0};

	if (fd < 0 || (c->hold_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		call_close(c);
		return;
	}
	c->hold_ev = event_new(ev_base, c->hold_fd, EV_READ | EV_PERSIST, on_hold, c);
	if (!c->hold_ev || event_add(c->hold_ev, &tv))
		call_close(c);
}

static void set_delivery(uint64_t seq, enum fp_delivery d)
{
	if (seq && seq <= fstore.nledger && fstore.ledger[seq - 1].seq == seq)
		fstore.ledger[seq - 1].delivery = d;
}

/* Runs the endpoint with the picked rule and delivers the outcome. */
static void call_execute(struct fcall *c)
{
	struct ffault *f = c->fault_id ? ffault_find(c->fault_id) : NULL;
	struct fapi_result res = {0};
	enum ffault_action a;
	int st;

	fapi_handle(c->ep, c->body, f, &res);
	snprintf(c->tid, sizeof(c->tid), "%s", res.tid);
	snprintf(c->sid, sizeof(c->sid), "%s", res.sid);
	if (res.applied)
		fstore.ctr.applied[c->ep]++;
	if (!res.fault_acted || !f) {
		call_reply(c, res.http_status, res.body, res.code);
		goto out;
	}
	a = f->action;
	ffault_fired(f);
	fstore_count_fault(c->ep, ffault_action_name(a));
	c->fault_name = ffault_action_name(a);
	switch (a) {
	case FF_DECLINE:
	case FF_DECLINE_APPLIED:
		set_delivery(res.ledger_seq, FP_DLV_ERROR);
		st = f->http_status ? f->http_status : 400;
		fapi_error(&res, st, f->code, f->message, f->mr_code, f->mr_message, f->legacy);
		call_reply(c, st, res.body, f->code);
		break;
	case FF_HTTP500:
	case FF_HTTP500_APPLIED:
		set_delivery(res.ledger_seq, FP_DLV_ERROR);
		st = f->http_status ? f->http_status : 500;
		fapi_error(&res, st, -500, f->message, f->mr_code, f->mr_message, f->legacy);
		call_reply(c, st, res.body, -500);
		break;
	case FF_HANG:
	case FF_HANG_APPLIED:
		set_delivery(res.ledger_seq, FP_DLV_HANG);
		if (call_wait(c, ST_HANG, 0))
			call_close(c);
		break;
	case FF_DROP:
	case FF_DROP_APPLIED:
		set_delivery(res.ledger_seq, FP_DLV_DROP);
		if (call_wait(c, ST_CLOSE, 0))
			call_close(c);
		break;
	case FF_DROP_PARTIAL_APPLIED:
		set_delivery(res.ledger_seq, FP_DLV_PARTIAL);
		{
			char *text = cJSON_PrintUnformatted(res.body);
			c->partial_len = text ? strlen(text) : 0;
			free(text);
		}
		if (call_wait(c, ST_PARTIAL, 0))
			call_close(c);
		break;
	case FF_GARBAGE_APPLIED:
		set_delivery(res.ledger_seq, FP_DLV_GARBAGE);
		send_garbage(c, res.body);
		break;
	default:
		call_reply(c, res.http_status, res.body, res.code);
		break;
	}
out:
	fapi_result_release(&res);
}

static bool has_prefix_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

/* §4.2 in order, then the fault pick; the endpoint runs now or after the rule's latency. */
static void call_process(struct fcall *c)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(c->req);
	const char *auth = evhttp_find_header(h, "Authorization");
	const char *ctype = evhttp_find_header(h, "Content-Type");
	const char *key = NULL;
	struct fapi_result res = {0};
	struct ffault_subject subj;
	struct ffault *f;
	char *text = NULL;
	size_t len;
	int too_big;

	if (c->ep == FP_EP_COUNT || evhttp_request_get_command(c->req) != EVHTTP_REQ_POST) {
		call_error(c, 404, -404, NULL);
		return;
	}
	if (!auth) {
		fstore.ctr.auth_failures++;
		call_error(c, 400, -400, NULL);
		return;
	}
	if (has_prefix_ci(auth, "SECRET_KEY "))
		key = auth + 11;
	else if (has_prefix_ci(auth, "DEV_SECRET_KEY "))
		key = auth + 15;
	if (!key || strcmp(key, fstore.cfg.secret_key) != 0) {
		fstore.ctr.auth_failures++;
		call_error(c, 401, -401, NULL);
		return;
	}
	if (!ctype || !has_prefix_ci(ctype, "application/json") ||
	    (ctype[16] && ctype[16] != ';' && ctype[16] != ' ')) {
		call_error(c, 400, -2, "Content-Type must be application/json");
		return;
	}
	text = fhttp_body(c->req, BODY_MAX, &len, &too_big);
	if (!text) {
		call_error(c, 400, -2, too_big ? "body over 64 KiB" : "no memory");
		return;
	}
	c->body = cJSON_ParseWithLength(text, len);
	free(text);
	if (!cJSON_IsObject(c->body)) {
		call_error(c, 400, -2, "the body must be a JSON object");
		return;
	}
	if (fapi_validate(c->ep, c->body, &res)) {
		call_reply(c, res.http_status, res.body, res.code);
		fapi_result_release(&res);
		return;
	}
	subj.endpoint = fstore_endpoint_name(c->ep);
	subj.sid = fapi_str(c->body, "sid");
	subj.tid = fapi_str(c->body, "tid");
	subj.puid = fapi_str(c->body, "partner_user_id");
	subj.poid = fapi_str(c->body, "partner_order_id");
	f = ffault_pick(&subj);
	c->fault_id = f ? f->id : 0;
	if (f && f->action == FF_LATENCY) {
		ffault_fired(f);
		fstore_count_fault(c->ep, "latency");
		c->fault_id = 0;
	}
	if (f && f->latency_ms > 0) {
		if (call_wait(c, ST_RULE_LATENCY, f->latency_ms) == 0)
			return;
	}
	call_execute(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct fcall *c = arg;

	(void)fd;
	(void)what;
	switch (c->stage) {
	case ST_LATENCY:
		call_process(c);
		break;
	case ST_RULE_LATENCY:
		call_execute(c);
		break;
	case ST_CLOSE:
		call_close(c);
		break;
	case ST_PARTIAL:
		send_partial(c);
		break;
	case ST_HANG:
		call_hold(c);
		break;
	}
}

static void on_api(struct evhttp_request *req, enum fp_endpoint ep)
{
	struct fcall *c = calloc(1, sizeof(*c));
	int64_t lat = fstore.cfg.latency_min_ms;

	if (!c) {
		fhttp_send_text(req, 500, "text/plain", "no memory\n");
		return;
	}
	c->req = req;
	c->hold_fd = -1;
	c->ep = ep;
	c->t0 = clock_mono_ms();
	c->fault_name = NULL;
	c->next = calls;
	if (calls)
		calls->prev = c;
	calls = c;
	if (ep < FP_EP_COUNT)
		fstore.ctr.requests[ep]++;
	if (++fstore.ctr.in_flight > fstore.ctr.in_flight_max)
		fstore.ctr.in_flight_max = fstore.ctr.in_flight;
	if (fstore.cfg.latency_max_ms > lat)
		lat += (int64_t)(fstore_rand() % (uint64_t)(fstore.cfg.latency_max_ms - lat + 1));
	if (lat > 0 && call_wait(c, ST_LATENCY, lat) == 0)
		return;
	call_process(c);
}

/* ---- routing ----------------------------------------------------------------------------------
 */

static void on_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	(void)arg;
	track_conn(req);
	if (!path)
		path = "/";
	if (strncmp(path, "/__control", 10) == 0 && (path[10] == '\0' || path[10] == '/')) {
		fctl_handle(req, path + 10, uri ? evhttp_uri_get_query(uri) : NULL);
		return;
	}
	if (strncmp(path, "/pg/", 4) == 0) {
		fpage_handle(req, path + 4);
		return;
	}
	on_api(req, fapi_endpoint(path));
}

void fhttp_init(struct event_base *base, struct evhttp *http)
{
	ev_base = base;
	evhttp_set_gencb(http, on_request, NULL);
}

void fhttp_shutdown(void)
{
	while (calls) {
		struct fcall *c = calls;
		if (!evhttp_request_get_connection(c->req))
			evhttp_request_free(c->req);
		call_free(c);
	}
	fmap_clear(&conns, NULL);
}
