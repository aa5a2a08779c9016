/* ops: /health, /ready and /metrics of pillivery-billing (see ops.h). */
#include "batch/ops.h"

#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/buf.h"
#include "common/metrics.h"
#include "common/banned.h"

struct ops {
	struct evhttp *http;
	bool db_up, redis_up;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *type,
                  const char *body, size_t len)
{
	struct evbuffer *out = evbuffer_new();

	if (!out) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct ops *o = arg;
	const char *uri = evhttp_request_get_uri(req);
	const char *path = uri ? uri : "";
	size_t plen = strcspn(path, "?");
	static const char json404[] = "{\"status\":404,\"code\":\"NOT_FOUND\",\"message\":\"요청한 경로를 찾을 수 없습니다.\"}";
	static const char json405[] = "{\"status\":405,\"code\":\"METHOD_NOT_ALLOWED\",\"message\":\"허용되지 않은 메서드입니다.\"}";
	const char *jtype = "application/json; charset=utf-8";

#define IS(p) (plen == strlen(p) && strncmp(path, p, plen) == 0)
	if (!IS("/health") && !IS("/ready") && !IS("/metrics")) {
		reply(req, 404, "Not Found", jtype, json404, sizeof(json404) - 1);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
		reply(req, 405, "Method Not Allowed", jtype, json405, sizeof(json405) - 1);
		return;
	}
	if (IS("/health")) {
		reply(req, 200, "OK", "text/plain; charset=utf-8", "OK", 2);
	} else if (IS("/ready")) {
		char body[128];
		bool up = o->db_up && o->redis_up;
		int n = snprintf(body, sizeof(body),
		                 "{\"status\":\"%s\",\"checks\":{\"db\":\"%s\",\"redis\":\"%s\"}}",
		                 up ? "UP" : "DOWN", o->db_up ? "UP" : "DOWN",
		                 o->redis_up ? "UP" : "DOWN");
		reply(req, up ? 200 : 503, up ? "OK" : "Service Unavailable", jtype, body,
		      (size_t)n);
	} else {
		struct buf b = BUF_INIT(4 * 1024 * 1024);
		if (metrics_render(&b) == 0)
			reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", b.data,
			      b.len);
		else
			evhttp_send_error(req, 500, NULL);
		buf_release(&b);
	}
#undef IS
}

struct ops *ops_start(struct event_base *base, const char *bind, int port)
{
	struct ops *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->http = evhttp_new(base);
	if (!o->http || evhttp_bind_socket(o->http, bind, (unsigned short)port) != 0) {
		ops_free(o);
		return NULL;
	}
	evhttp_set_timeout(o->http, 10);
	evhttp_set_max_body_size(o->http, 4096);
	evhttp_set_gencb(o->http, on_request, o);
	return o;
}

void ops_set_ready(struct ops *o, bool db_up, bool redis_up)
{
	if (o) {
		o->db_up = db_up;
		o->redis_up = redis_up;
	}
}

void ops_free(struct ops *o)
{
	if (!o)
		return;
	if (o->http)
		evhttp_free(o->http);
	free(o);
}
