/*
 * test_call_timeout.c - a call that PostgreSQL stops after --call-timeout-ms (its
 * statement_timeout) answers DEADLINE_EXCEEDED saying so. Starts a loyaltyd of its own
 * (LOYALTYD) with a short --call-timeout-ms, on the harness's database.
 */
#include <libpq-fe.h>
#include <unistd.h>

#include "testlib.h"

/* A call with the HQ key that succeeds once s serves (or fails the test after 10 s). */
static void wait_until_serving(tl_server s, lc_conn *conn)
{
  Loyalty__V1__ListStoresRequest req = LOYALTY__V1__LIST_STORES_REQUEST__INIT;
  for (int i = 0; i < 100; i++) {
    if (tl_call_timeout(conn, ADMIN("ListStores"), &req.base,
                        &loyalty__v1__list_stores_response__descriptor, 1000).status ==
        GRPC_STATUS_OK)
      return;
    usleep(100 * 1000);
  }
  tl_fail(__FILE__, __LINE__, "loyaltyd on %s did not come up", s.address);
}

static void earn_on_a_locked_member_times_out(void)
{
  const char *const args[] = {"--call-timeout-ms", "300", NULL};
  tl_server s = tl_start_server("127.0.0.1", args);
  lc_options o = {.target = s.address, .key = tl.hq_key};
  char err[256];
  lc_conn *own = lc_connect(&o, err, sizeof err);
  if (own == NULL)
    tl_fail(__FILE__, __LINE__, "connect: %s", err);
  wait_until_serving(s, own);

  tl_store store = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t member = tl_enroll(store.conn, "");
  /* Another transaction holds the member's row: the Earn waits for it, longer than it may. */
  PGconn *pg = PQconnectdb(tl.db);
  ASSERT_TRUE(PQstatus(pg) == CONNECTION_OK);
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT 1 FROM members WHERE member_id = %lld FOR UPDATE",
           (long long)member);
  PQclear(PQexec(pg, "BEGIN"));
  PGresult *locked = PQexec(pg, sql);
  ASSERT_EQ_INT(PQntuples(locked), 1);
  PQclear(locked);

  Loyalty__V1__EarnRequest req = tl_earn_request(member, 10000);
  req.store_code = (char *)store.code;
  tl_result r = tl_call(own, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  PQclear(PQexec(pg, "ROLLBACK"));
  PQfinish(pg);
  ASSERT_STATUS(r, GRPC_STATUS_DEADLINE_EXCEEDED);
  if (strstr(r.message, "already exists") != NULL)
    tl_fail(__FILE__, __LINE__, "message \"%s\" says \"already exists\"", r.message);
  ASSERT_CONTAINS(r.message, "timed out");
  ASSERT_CONTAINS(r.message, "--call-timeout-ms");

  /* Nothing was written: once the row is free, the same request earns, for the first time. */
  ASSERT_TRUE(!TL_POINTS(tl_call(own, POINTS("Earn"), &req.base,
                                 &loyalty__v1__points_result__descriptor))->replayed);
  lc_close(own);
  ASSERT_EQ_INT(tl_stop_server(s), 0);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"earn_on_a_locked_member_times_out", earn_on_a_locked_member_times_out},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
