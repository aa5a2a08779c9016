/*
 * worker: what each civetweb worker thread owns: its MariaDB connection and its Redis
 * connection (DESIGN.md §6). Created in init_thread, freed in exit_thread; handlers reach it
 * through req->w. Nothing here is shared between threads.
 */
#ifndef PV_API_WORKER_H
#define PV_API_WORKER_H

struct db;
struct redis;
struct api_config;

struct worker {
	struct db *db;
	struct redis *redis;
};

struct worker *worker_new(const struct api_config *cfg);
void worker_free(struct worker *w);

#endif
