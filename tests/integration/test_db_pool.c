/*
 * test_db_pool.c - the connection pool (server/db.c), linked in directly and run against the
 * harness's PostgreSQL: no loyaltyd involved.
 */
#include "db.h"
#include "testlib.h"

enum { MANY_STATEMENTS = 100 };

/* Each statement is prepared once per connection, however many the server has: running
 * 100 distinct statements twice each on one connection works every time and leaves exactly
 * 100 of them prepared there (a fixed-size list of prepared statements forgets some, which
 * are then prepared again on their next use and fail: "already exists"). */
static void many_statements_are_each_prepared_once(void)
{
  db_pool *pool = db_pool_create(tl.db, 1, 0);
  db_error err;
  db_conn *conn = db_acquire(pool, 5000, &err);
  ASSERT_TRUE(conn != NULL);
  static char names[MANY_STATEMENTS][32], sql[MANY_STATEMENTS][64];
  static db_statement statements[MANY_STATEMENTS];
  for (int i = 0; i < MANY_STATEMENTS; i++) {
    snprintf(names[i], sizeof names[i], "test_prepared_%d", i);
    snprintf(sql[i], sizeof sql[i], "SELECT $1::int + %d", i);
    statements[i] = (db_statement){.name = names[i], .sql = sql[i], .n_params = 1};
  }
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < MANY_STATEMENTS; i++) {
      const char *values[] = {"1000"};
      PGresult *r = db_exec(conn, &statements[i], values, &err);
      if (r == NULL)
        tl_fail(__FILE__, __LINE__, "round %d, statement %d: %s %s", round + 1, i,
                err.sqlstate, err.message);
      ASSERT_EQ_INT(strtoll(PQgetvalue(r, 0, 0), NULL, 10), 1000 + i);
      PQclear(r);
    }
  }
  static const db_statement count = {
    .name = "test_prepared_count",
    .sql = "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'test\\_prepared\\_%'"
           " AND name <> 'test_prepared_count'",
  };
  PGresult *r = db_exec(conn, &count, NULL, &err);
  if (r == NULL)
    tl_fail(__FILE__, __LINE__, "counting: %s %s", err.sqlstate, err.message);
  ASSERT_EQ_INT(strtoll(PQgetvalue(r, 0, 0), NULL, 10), MANY_STATEMENTS);
  PQclear(r);
  db_release(pool, conn);
  db_pool_destroy(pool);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"many_statements_are_each_prepared_once", many_statements_are_each_prepared_once},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
