/*
 * ops: the billing daemon's operations listener over libevent's evhttp: GET /health (200
 * "OK", liveness only), GET /ready (200 when this instance can reach MariaDB and Redis, as
 * last seen by the loop; 503 otherwise) and GET /metrics (Prometheus text, common/metrics).
 * Other paths answer 404, other methods 405. Runs on the event-loop thread.
 */
#ifndef PV_BATCH_OPS_H
#define PV_BATCH_OPS_H

#include <stdbool.h>

struct event_base;
struct ops;

/* NULL when the address cannot be bound. */
struct ops *ops_start(struct event_base *base, const char *bind, int port);
void ops_set_ready(struct ops *o, bool db_up, bool redis_up);
void ops_free(struct ops *o); /* accepts NULL */

#endif
