/*
 * fake_page: the fake's payment page (KAKAOPAY.md §4.3 "Payment page"): GET /pg/<tid>/info
 * (also mInfo, aInfo) and its three POST buttons approve / cancel / fail, which
 * /__control/click also presses.
 *
 * Not thread-safe: one event loop.
 */
#ifndef PV_FAKE_PAGE_H
#define PV_FAKE_PAGE_H

#include <stddef.h>
#include <event2/http.h>

/* rest: the path after "/pg/" ("<tid>/info", "<tid>/approve"...). Answers req. */
void fpage_handle(struct evhttp_request *req, const char *rest);
/*
 * Presses a button ("approve", "cancel" or "fail") on tid. 303 with the redirect target in
 * loc (approval_url with pg_token, cancel_url or fail_url); 404 unknown tid; 400 unknown
 * action; 409 expired or finished (nothing changes).
 */
int fpage_click(const char *tid, const char *action, char *loc, size_t n);

#endif
