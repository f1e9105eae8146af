/*
 * migrate.c - applies the embedded migrations and records them in schema_migrations.
 */
#include "migrate.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>

/* Any fixed number: the advisory lock key that serializes migrating servers. */
#define MIGRATE_LOCK_KEY "7262001"

static int exec_simple(PGconn *pg, const char *sql, db_error *err)
{
  PGresult *r = PQexec(pg, sql);
  ExecStatusType status = PQresultStatus(r);
  int rc = (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) ? 0 : db_error_from(err, pg, r);
  PQclear(r);
  return rc;
}

static int is_applied(PGconn *pg, const char *version, bool *applied, db_error *err)
{
  const char *params[] = {version};
  PGresult *r = PQexecParams(pg, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, NULL,
                             params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    db_error_from(err, pg, r);
    PQclear(r);
    return -1;
  }
  *applied = PQntuples(r) > 0;
  PQclear(r);
  return 0;
}

static int apply_one(PGconn *pg, const migration *m, db_error *err)
{
  const char *params[] = {m->version};
  if (exec_simple(pg, "BEGIN", err) != 0)
    return -1;
  if (exec_simple(pg, m->sql, err) != 0)
    goto fail;
  PGresult *r = PQexecParams(pg, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, NULL,
                             params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    db_error_from(err, pg, r);
    PQclear(r);
    goto fail;
  }
  PQclear(r);
  return exec_simple(pg, "COMMIT", err);
fail:
  if (PQstatus(pg) == CONNECTION_OK) {
    PGresult *r2 = PQexec(pg, "ROLLBACK");
    PQclear(r2);
  }
  return -1;
}

int migrate_apply(PGconn *pg, db_error *err)
{
  int applied_now = 0;
  if (exec_simple(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err) != 0)
    return -1;
  if (exec_simple(pg,
                  "SET client_min_messages = warning;"
                  "CREATE TABLE IF NOT EXISTS schema_migrations ("
                  "  version text PRIMARY KEY,"
                  "  applied_at timestamptz NOT NULL DEFAULT now())",
                  err) != 0)
    goto fail;
  for (int i = 0; i < n_migrations; i++) {
    bool applied;
    if (is_applied(pg, migrations[i].version, &applied, err) != 0)
      goto fail;
    if (applied)
      continue;
    if (apply_one(pg, &migrations[i], err) != 0) {
      log_error("migration %s failed: %s %s", migrations[i].version, err->message, err->detail);
      goto fail;
    }
    log_info("applied migration %s", migrations[i].version);
    applied_now++;
  }
  if (exec_simple(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", err) != 0)
    return -1;
  return applied_now;
fail:
  if (PQstatus(pg) == CONNECTION_OK) {
    PGresult *r = PQexec(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
    PQclear(r);
  }
  return -1;
}
