/*
 * migrate: the versioned schema migrations (core/sql/migrations/NNNN_name.sql, embedded in
 * the binary at build time) and the schema_migrations table that records which ran.
 *
 * migrate_apply runs, under a MariaDB advisory lock (so two daemons never migrate at once),
 * every migration whose version is above the recorded one, in order, recording each.
 * migrate_status reports the recorded and the latest version so a daemon can refuse to
 * start against an older schema. Not thread-safe per db handle.
 */
#ifndef PV_CORE_MIGRATE_H
#define PV_CORE_MIGRATE_H

struct db;

int migrate_latest(void);
/* *current = 0 when the database has no schema_migrations table yet. */
int migrate_status(struct db *db, int *current, int *latest);
/* *applied = number of migrations run now. */
int migrate_apply(struct db *db, int *applied);

#endif
