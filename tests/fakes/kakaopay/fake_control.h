/*
 * fake_control: the control surface /__control/... of the fake (KAKAOPAY.md §4.5): health,
 * reset, config, fault rules, clock, button clicks, SID creation and inactivation, raw tid and
 * sid state, the ledger, its summary and the counters. JSON, loopback peers only, no auth;
 * PV_FAKEPAY_CONTROL=0 makes it answer 404.
 *
 * Not thread-safe: one event loop.
 */
#ifndef PV_FAKE_CONTROL_H
#define PV_FAKE_CONTROL_H

#include <event2/http.h>

/* sub: the path after "/__control" ("" or "/health"...); query may be NULL. Answers req. */
void fctl_handle(struct evhttp_request *req, const char *sub, const char *query);

#endif
