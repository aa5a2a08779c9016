/*
 * worker: what each civetweb worker thread owns: its MariaDB connection, its Redis
 * connection (DESIGN.md §6) and its blocking Kakao Pay client. Created in init_thread, freed
 * in exit_thread; handlers reach it through req->w. Nothing here is shared between threads.
 */
#ifndef PV_API_WORKER_H
#define PV_API_WORKER_H

#include "core/gateway.h"

struct db;
struct redis;
struct api_config;
struct kakaopay_client;

struct worker {
	struct db *db;
	struct redis *redis;
	struct kakaopay_client *pay; /* blocking Kakao Pay client (KAKAOPAY.md §1.2) */
	struct pay_gateway gw;       /* core's view of pay */
};

struct worker *worker_new(const struct api_config *cfg);
void worker_free(struct worker *w);

#endif
