/*
 * migrate.c - applies db/schema and db/functions (see migrate.h), recording them in
 * schema_files and function_set.
 */
#include "migrate.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One-row, one-column query; *value (malloc'd) is NULL when there is no row. */
static int query_value(PGconn *pg, const char *sql, int n_params, const char *const *params,
                       char **value, db_error *err)
{
  PGresult *r = PQexecParams(pg, sql, n_params, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    db_error_from(err, pg, r);
    PQclear(r);
    return -1;
  }
  *value = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strdup(PQgetvalue(r, 0, 0)) : NULL;
  PQclear(r);
  return 0;
}

/* A refusal: not a database error, a database this binary must not touch. */
static int refuse(db_error *err, const char *detail_fmt, const char *a, const char *b,
                  const char *message)
{
  memset(err, 0, sizeof *err);
  err->kind = DB_SQL;
  snprintf(err->message, sizeof err->message, "%s", message);
  snprintf(err->detail, sizeof err->detail, detail_fmt, a, b);
  return -1;
}

static int rollback(PGconn *pg)
{
  if (PQstatus(pg) == CONNECTION_OK)
    PQclear(PQexec(pg, "ROLLBACK"));
  return -1;
}

/* Runs sql (one file) and the bookkeeping statement in one transaction. */
static int apply_in_transaction(PGconn *pg, const char *setup, const char *const *sql, int n_sql,
                                const char *record, int n_params, const char *const *params,
                                db_error *err)
{
  if (exec_simple(pg, "BEGIN", err) != 0)
    return -1;
  if (setup != NULL && exec_simple(pg, setup, err) != 0)
    return rollback(pg);
  for (int i = 0; i < n_sql; i++) {
    if (exec_simple(pg, sql[i], err) != 0)
      return rollback(pg);
  }
  PGresult *r = PQexecParams(pg, record, n_params, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    db_error_from(err, pg, r);
    PQclear(r);
    return rollback(pg);
  }
  PQclear(r);
  return exec_simple(pg, "COMMIT", err);
}

/* Every schema file the database has applied must be this binary's, unchanged; applies the
 * ones it lacks. Returns how many it applied, or -1. */
static int apply_schema(PGconn *pg, db_error *err)
{
  PGresult *r = PQexec(pg, "SELECT name, sha256 FROM schema_files ORDER BY name");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    db_error_from(err, pg, r);
    PQclear(r);
    return -1;
  }
  bool *applied = calloc((size_t)n_schema_files + 1, sizeof *applied);
  if (applied == NULL)
    abort();
  int rc = 0;
  for (int row = 0; row < PQntuples(r) && rc == 0; row++) {
    const char *name = PQgetvalue(r, row, 0), *sha = PQgetvalue(r, row, 1);
    int known = -1;
    for (int i = 0; i < n_schema_files && known < 0; i++) {
      if (strcmp(schema_files[i].name, name) == 0)
        known = i;
    }
    if (known < 0)
      rc = refuse(err, "%s was applied by a newer loyaltyd%s", name, "",
                  "the database's schema is newer than this loyaltyd: upgrade loyaltyd");
    else if (strcmp(schema_files[known].sha256, sha) != 0)
      rc = refuse(err, "db/schema/%s differs from the file applied to this database (%s)", name,
                  sha, "a schema file was changed after it was applied: schema files are "
                  "append-only, put the change in a new file");
    else
      applied[known] = true;
  }
  PQclear(r);
  int applied_now = 0;
  for (int i = 0; i < n_schema_files && rc == 0; i++) {
    if (applied[i])
      continue;
    const char *params[] = {schema_files[i].name, schema_files[i].sha256};
    if (apply_in_transaction(pg, NULL, &schema_files[i].sql, 1,
                             "INSERT INTO schema_files (name, sha256) VALUES ($1, $2)", 2, params,
                             err) != 0) {
      log_error("schema file %s failed", schema_files[i].name);
      rc = -1;
      break;
    }
    log_info("applied schema file %s", schema_files[i].name);
    applied_now++;
  }
  free(applied);
  return rc == 0 ? applied_now : -1;
}

/* Replaces the database's function set with this binary's unless the database's is as new
 * or newer. Returns 1 if it did, 0 if not needed, -1 on failure or refusal. */
static int apply_functions(PGconn *pg, db_error *err)
{
  char *db_version = NULL, *db_sha = NULL;
  if (query_value(pg, "SELECT version FROM function_set", 0, NULL, &db_version, err) != 0 ||
      query_value(pg, "SELECT sha256 FROM function_set", 0, NULL, &db_sha, err) != 0) {
    free(db_version);
    return -1;
  }
  char ours[16];
  snprintf(ours, sizeof ours, "%d", function_set_version);
  int rc = 1;
  if (db_version != NULL && atoi(db_version) > function_set_version)
    rc = refuse(err, "the database has function set version %s, this loyaltyd has %s",
                db_version, ours, "the database's functions are newer than this loyaltyd: "
                "upgrade loyaltyd");
  else if (db_version != NULL && atoi(db_version) == function_set_version)
    rc = strcmp(db_sha, function_set_sha256) == 0
             ? 0
             : refuse(err, "function set version %s in the database differs from this "
                      "loyaltyd's version %s", db_version, ours,
                      "db/functions changed without a new version: raise db/functions/VERSION");
  free(db_version);
  free(db_sha);
  if (rc != 1)
    return rc;

  /* The whole set goes in one transaction: the old functions (and the triggers that use
   * them) are dropped, the new ones created. Bodies are checked on first use, not at
   * creation, so the files' order does not matter (the triggers come last). */
  const char **sql = calloc((size_t)n_function_files + 1, sizeof *sql);
  if (sql == NULL)
    abort();
  sql[0] = "DO $$ DECLARE f regprocedure; BEGIN"
           "  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p"
           "           JOIN pg_namespace n ON n.oid = p.pronamespace"
           "           WHERE n.nspname = current_schema() AND p.proname LIKE 'loyalty\\_%' LOOP"
           "    EXECUTE format('DROP FUNCTION %s CASCADE', f);"
           "  END LOOP; END $$";
  for (int i = 0; i < n_function_files; i++)
    sql[i + 1] = function_files[i].sql;
  const char *params[] = {ours, function_set_sha256};
  rc = apply_in_transaction(
      pg, "SET LOCAL check_function_bodies = off; SET LOCAL client_min_messages = warning", sql,
      n_function_files + 1,
      "INSERT INTO function_set (id, version, sha256) VALUES (1, $1, $2)"
      " ON CONFLICT (id) DO UPDATE SET version = $1, sha256 = $2, applied_at = now()",
      2, params, err);
  free(sql);
  if (rc != 0) {
    log_error("function set %d failed", function_set_version);
    return -1;
  }
  log_info("applied function set %d", function_set_version);
  return 1;
}

int migrate_apply(PGconn *pg, db_error *err)
{
  if (exec_simple(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err) != 0)
    return -1;
  int steps = -1, functions;
  char *old_layout = NULL;
  if (query_value(pg, "SELECT to_regclass('schema_migrations')::text", 0, NULL, &old_layout,
                  err) != 0)
    goto done;
  if (old_layout != NULL) {
    refuse(err, "it has table %s%s", old_layout, "",
           "this database was made by a loyaltyd from before the schema fold of November 2026:"
           " recreate it (drop and create the database, then start loyaltyd)");
    goto done;
  }
  if (exec_simple(pg,
                  "SET client_min_messages = warning;"
                  "CREATE TABLE IF NOT EXISTS schema_files ("
                  "  name text PRIMARY KEY,"
                  "  sha256 text NOT NULL,"
                  "  applied_at timestamptz NOT NULL DEFAULT now());"
                  "CREATE TABLE IF NOT EXISTS function_set ("
                  "  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),"
                  "  version int NOT NULL,"
                  "  sha256 text NOT NULL,"
                  "  applied_at timestamptz NOT NULL DEFAULT now());"
                  "RESET client_min_messages",
                  err) != 0)
    goto done;
  steps = apply_schema(pg, err);
  if (steps < 0)
    goto done;
  functions = apply_functions(pg, err);
  steps = functions < 0 ? -1 : steps + functions;
  /* Autovacuum never analyzes the one-row program table (it waits for 50 changed rows); left
   * unanalyzed it is planned as hundreds of rows, and once lots is large every GetBalance
   * passes jit_above_cost and is JIT-compiled, some 50 times slower (tests/sql/fresh_plans). */
  if (steps >= 0 && exec_simple(pg, "ANALYZE program", err) != 0)
    steps = -1;
done:
  free(old_layout);
  if (PQstatus(pg) == CONNECTION_OK)
    PQclear(PQexec(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
  return steps;
}
