/*
 * fake_http: the HTTP side of the fake (KAKAOPAY.md §4.2, §4.4): the evhttp callback that
 * routes to the API, the payment page and the control surface; the life of one API call
 * (latency timers, checks, fault pick, endpoint, delivery including hang and drop); the NDJSON
 * request log; in-flight and connection counting; reply helpers for the other modules.
 *
 * Owns every call in flight and frees them at fhttp_shutdown. Not thread-safe: one event loop.
 */
#ifndef PV_FAKE_HTTP_H
#define PV_FAKE_HTTP_H

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>

/* Installs the generic callback on http; base runs the timers. */
void fhttp_init(struct event_base *base, struct evhttp *http);
/* Frees every call still in flight (hung or delayed), before evhttp_free. */
void fhttp_shutdown(void);
/* Sends body (borrowed) as JSON with status. */
void fhttp_send_json(struct evhttp_request *req, int status, const cJSON *body);
/* Sends text with status and content type. */
void fhttp_send_text(struct evhttp_request *req, int status, const char *ctype, const char *text);
/* The request body (NUL-terminated copy, caller frees) when it is at most max bytes; NULL else.
 * *len gets its length; *too_big is set when it was longer. */
char *fhttp_body(struct evhttp_request *req, size_t max, size_t *len, int *too_big);

#endif
