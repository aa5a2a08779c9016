/*
 * router: the route table of pillivery-api (method + path pattern -> handler) and the
 * request pipeline in the contract's check order (API.md §1.5): route 404 -> method 405 ->
 * body size 413 -> media type 415 -> authentication 401 -> role 403 -> then the handler
 * (JSON syntax, validation, existence, ownership, state).
 *
 * Patterns are literal segments and {name} segments ("/api/users/{userId}"). Among the routes
 * whose pattern matches the path, one with the request's method is chosen (more literal
 * segments first); if none has it, 405 with Allow listing the methods that match.
 *
 * The table is constant; thread-safe.
 */
#ifndef PV_API_ROUTER_H
#define PV_API_ROUTER_H

struct req;

enum route_auth { AUTH_PUBLIC, AUTH_USER, AUTH_ADMIN };

#define ROUTE_BODY 0x1 /* takes a JSON body: 415 for other media types, body read and parsed */

typedef int (*route_handler)(struct req *r);

struct route {
	const char *method;
	const char *pattern; /* also the metrics "route" label */
	route_handler handler;
	enum route_auth auth;
	unsigned flags;
};

extern const struct route api_routes[];
extern const unsigned api_nroutes;

/* Handles one request from start to end (always answers). */
void router_dispatch(struct req *r);

#endif
