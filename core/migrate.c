/* migrate: schema migrations (see migrate.h). */
#include "core/migrate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/embedded.h"
#include "common/err.h"
#include "common/banned.h"

extern const struct embedded_file migrations[];
extern const size_t migrations_count;

static int version_of(const char *name)
{
	int v = 0;
	for (const char *p = name; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return v;
}

int migrate_latest(void)
{
	int latest = 0;
	for (size_t i = 0; i < migrations_count; i++) {
		int v = version_of(migrations[i].name);
		if (v > latest)
			latest = v;
	}
	return latest;
}

static const char sql_has_table[] =
    "SELECT COUNT(*) FROM information_schema.tables "
    "WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'";
static const char sql_current[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char sql_create[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(255) NOT NULL,"
    " applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
    " COMMENT='Applied schema migrations (core/sql/migrations)'";
static const char sql_record[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP())";
static const char sql_lock[] = "SELECT GET_LOCK('pillivery_migrate', 60)";
static const char sql_unlock[] = "SELECT RELEASE_LOCK('pillivery_migrate')";

int migrate_status(struct db *db, int *current, int *latest)
{
	struct db_rows *rows = NULL;
	int rc;

	*latest = migrate_latest();
	rc = db_query(db, sql_has_table, NULL, 0, &rows);
	if (rc)
		return rc;
	int has = db_rows_i64(rows, 0, 0) > 0;
	db_rows_free(rows);
	if (!has) {
		*current = 0;
		return 0;
	}
	rc = db_query(db, sql_current, NULL, 0, &rows);
	if (rc)
		return rc;
	*current = (int)db_rows_i64(rows, 0, 0);
	db_rows_free(rows);
	return 0;
}

/* Sorted copy of the table's indexes, by version. */
static int cmp_version(const void *a, const void *b)
{
	int va = version_of(migrations[*(const size_t *)a].name);
	int vb = version_of(migrations[*(const size_t *)b].name);
	return (va > vb) - (va < vb);
}

int migrate_apply(struct db *db, int *applied)
{
	struct db_rows *rows = NULL;
	size_t *order = NULL;
	int rc, current, latest, locked = 0;

	*applied = 0;
	rc = db_query(db, sql_lock, NULL, 0, &rows);
	if (rc)
		return rc;
	locked = db_rows_i64(rows, 0, 0) == 1;
	db_rows_free(rows);
	if (!locked)
		return -E_DB_RETRY;
	rc = db_exec(db, sql_create, NULL, 0, NULL, NULL);
	if (rc)
		goto out;
	rc = migrate_status(db, &current, &latest);
	if (rc)
		goto out;
	order = calloc(migrations_count ? migrations_count : 1, sizeof(*order));
	if (!order) {
		rc = -E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < migrations_count; i++)
		order[i] = i;
	qsort(order, migrations_count, sizeof(*order), cmp_version);
	for (size_t k = 0; k < migrations_count; k++) {
		const struct embedded_file *m = &migrations[order[k]];
		int v = version_of(m->name);
		struct db_param p[2];

		if (v <= current)
			continue;
		rc = db_exec_script(db, (const char *)m->data);
		if (rc)
			goto out;
		p[0] = DB_I64(v);
		p[1] = DB_STR(m->name);
		rc = db_exec(db, sql_record, p, 2, NULL, NULL);
		if (rc)
			goto out;
		(*applied)++;
	}
out:
	free(order);
	if (locked && db_query(db, sql_unlock, NULL, 0, &rows) == 0)
		db_rows_free(rows);
	return rc;
}
