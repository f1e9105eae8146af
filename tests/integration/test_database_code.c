/*
 * test_database_code.c - loyaltyd brings a database's code to its own (db/schema, db/functions;
 * server/migrate.c), and refuses what it must not touch: a schema file changed after it was
 * applied, one it does not know, a newer function set, the same version with other content,
 * a database made before the schema fold. Each test makes a database of its own in the
 * fixture's cluster and runs `loyaltyd --migrate-only` on it (LOYALTYD, set by ctest).
 */
#include <libpq-fe.h>
#include <sys/wait.h>

#include "testlib.h"

static char conninfo[600];

/* A fresh database named after the test, and its conninfo in `conninfo`. */
static void fresh_database(const char *name)
{
  char sql[256];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
  tl_sql(sql);
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
  tl_sql(sql);
  snprintf(conninfo, sizeof conninfo, "%s dbname=%s", tl.db, name);
}

/* Runs sql on the test's database; the first value of its first row, or NULL. The value
 * stays valid for the next 7 calls (a ring of buffers: no test here holds more). */
static char *db_sql(const char *sql)
{
  static char ring[8][128];
  static int next;
  PGconn *pg = PQconnectdb(conninfo);
  if (PQstatus(pg) != CONNECTION_OK)
    tl_fail(__FILE__, __LINE__, "cannot connect: %s", PQerrorMessage(pg));
  PGresult *r = PQexec(pg, sql);
  ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    tl_fail(__FILE__, __LINE__, "%s: %s", sql, PQresultErrorMessage(r));
  char *value = NULL;
  if (status == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
    value = ring[next++ % 8];
    snprintf(value, sizeof ring[0], "%s", PQgetvalue(r, 0, 0));
  }
  PQclear(r);
  PQfinish(pg);
  return value;
}

static char output[8192];

/* Runs loyaltyd --migrate-only on the test's database; its exit status, its log in output. */
static int migrate(void)
{
  char command[2048];
  snprintf(command, sizeof command, "'%s' --db-owner '%s' --db '%s' --migrate-only 2>&1",
           getenv("LOYALTYD"), conninfo, conninfo);
  FILE *p = popen(command, "r");
  if (p == NULL)
    tl_fail(__FILE__, __LINE__, "cannot run loyaltyd");
  size_t n = fread(output, 1, sizeof output - 1, p);
  output[n] = '\0';
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define ASSERT_OUTPUT_HAS(text)                                                        \
  do {                                                                                 \
    if (strstr(output, (text)) == NULL)                                                \
      tl_fail(__FILE__, __LINE__, "loyaltyd did not say \"%s\"; it said:\n%s", (text), output); \
  } while (0)

static void fresh_database_gets_schema_and_functions_once(void)
{
  fresh_database("dbcode_fresh");
  ASSERT_EQ_INT(migrate(), 0);
  ASSERT_OUTPUT_HAS("applied schema file 0001_schema.sql");
  ASSERT_OUTPUT_HAS("applied function set");
  ASSERT_EQ_STR(db_sql("SELECT count(*) FROM schema_files WHERE name = '0001_schema.sql'"
                       " AND length(sha256) = 64"), "1");
  ASSERT_EQ_STR(db_sql("SELECT count(*) FROM pg_proc WHERE proname = 'loyalty_earn'"), "1");
  char *applied_at = db_sql("SELECT applied_at::text FROM function_set");
  /* Again: nothing to do, nothing replaced. */
  ASSERT_EQ_INT(migrate(), 0);
  ASSERT_TRUE(strstr(output, "applied") == NULL);
  ASSERT_EQ_STR(db_sql("SELECT applied_at::text FROM function_set"), applied_at);
}

static void schema_file_changed_after_it_was_applied_is_refused(void)
{
  fresh_database("dbcode_changed");
  ASSERT_EQ_INT(migrate(), 0);
  db_sql("UPDATE schema_files SET sha256 = repeat('0', 64) WHERE name = '0001_schema.sql'");
  ASSERT_TRUE(migrate() != 0);
  ASSERT_OUTPUT_HAS("db/schema/0001_schema.sql differs");
  ASSERT_OUTPUT_HAS("append-only");
}

static void schema_file_this_binary_does_not_know_is_refused(void)
{
  fresh_database("dbcode_unknown");
  ASSERT_EQ_INT(migrate(), 0);
  db_sql("INSERT INTO schema_files (name, sha256) VALUES ('0999_future.sql', 'ab')");
  ASSERT_TRUE(migrate() != 0);
  ASSERT_OUTPUT_HAS("0999_future.sql was applied by a newer loyaltyd");
}

static void newer_function_set_is_left_alone(void)
{
  fresh_database("dbcode_newer");
  ASSERT_EQ_INT(migrate(), 0);
  char *version = db_sql("SELECT version FROM function_set");
  char *newer = db_sql("UPDATE function_set SET version = version + 1 RETURNING version");
  /* A function the newer set would have: an older binary must not drop it. */
  db_sql("CREATE FUNCTION loyalty_from_the_future() RETURNS int LANGUAGE sql AS 'SELECT 1'");
  ASSERT_TRUE(migrate() != 0);
  char said[128];
  snprintf(said, sizeof said, "the database has function set version %s, this loyaltyd has %s",
           newer, version);
  ASSERT_OUTPUT_HAS(said);
  ASSERT_EQ_STR(db_sql("SELECT count(*) FROM pg_proc WHERE proname = 'loyalty_from_the_future'"),
                "1");
}

static void same_version_with_other_content_is_refused(void)
{
  fresh_database("dbcode_same_version");
  ASSERT_EQ_INT(migrate(), 0);
  db_sql("UPDATE function_set SET sha256 = repeat('0', 64)");
  ASSERT_TRUE(migrate() != 0);
  ASSERT_OUTPUT_HAS("raise db/functions/VERSION");
}

static void older_function_set_is_replaced_whole(void)
{
  fresh_database("dbcode_older");
  ASSERT_EQ_INT(migrate(), 0);
  /* An older set: one function gone, one that the current set no longer has. */
  db_sql("UPDATE function_set SET version = version - 1, sha256 = 'old'");
  db_sql("DROP FUNCTION loyalty_redeem");
  db_sql("CREATE FUNCTION loyalty_retired() RETURNS int LANGUAGE sql AS 'SELECT 1'");
  ASSERT_EQ_INT(migrate(), 0);
  ASSERT_OUTPUT_HAS("applied function set");
  ASSERT_EQ_STR(db_sql("SELECT count(*) FROM pg_proc WHERE proname = 'loyalty_redeem'"), "1");
  ASSERT_EQ_STR(db_sql("SELECT count(*) FROM pg_proc WHERE proname = 'loyalty_retired'"), "0");
  /* The triggers, dropped with the old functions, are back. */
  ASSERT_EQ_STR(db_sql("SELECT count(*) FROM pg_trigger WHERE tgname = 'ledger_append_only'"), "1");
}

static void database_from_before_the_fold_is_refused(void)
{
  fresh_database("dbcode_prefold");
  db_sql("CREATE TABLE schema_migrations (version text PRIMARY KEY)");
  ASSERT_TRUE(migrate() != 0);
  ASSERT_OUTPUT_HAS("recreate it");
  ASSERT_EQ_STR(db_sql("SELECT count(*) FROM pg_tables WHERE tablename = 'members'"), "0");
}

int main(int argc, char **argv)
{
  if (getenv("LOYALTYD") == NULL) {
    fputs("test_database_code: LOYALTYD must be set (run via ctest)\n", stderr);
    return 2;
  }
  static const tl_test tests[] = {
    {"fresh_database_gets_schema_and_functions_once", fresh_database_gets_schema_and_functions_once},
    {"schema_file_changed_after_it_was_applied_is_refused", schema_file_changed_after_it_was_applied_is_refused},
    {"schema_file_this_binary_does_not_know_is_refused", schema_file_this_binary_does_not_know_is_refused},
    {"newer_function_set_is_left_alone", newer_function_set_is_left_alone},
    {"same_version_with_other_content_is_refused", same_version_with_other_content_is_refused},
    {"older_function_set_is_replaced_whole", older_function_set_is_replaced_whole},
    {"database_from_before_the_fold_is_refused", database_from_before_the_fold_is_refused},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
