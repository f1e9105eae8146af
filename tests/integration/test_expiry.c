/*
 * test_expiry.c - the expiry run (once per lot, also when two run at once) and the list of
 * members with points about to expire. Expires lots of its own (dated in the past); runs
 * alone so that no other test sees a run.
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <unistd.h>

#include "testlib.h"

static Loyalty__V1__RunExpiryResponse *run_expiry(const char *as_of)
{
  Loyalty__V1__RunExpiryRequest req = LOYALTY__V1__RUN_EXPIRY_REQUEST__INIT;
  req.as_of = (char *)as_of;
  return (Loyalty__V1__RunExpiryResponse *)tl_call_ok(
      tl_hq, ADMIN("RunExpiry"), &req.base, &loyalty__v1__run_expiry_response__descriptor);
}

/* Dates the member's lots of the given points in the past (days ago). */
static void age_lot(int64_t member, int points, int days_ago)
{
  char sql[256];
  snprintf(sql, sizeof sql,
           "UPDATE lots SET expires_on = current_date - %d WHERE member_id = %" PRId64
           " AND points = %d", days_ago, member, points);
  tl_sql(sql);
}

static const char *expiry_rows(int64_t member)
{
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT count(*) || ' ' || coalesce(sum(points), 0) FROM ledger"
           " WHERE member_id = %" PRId64 " AND kind = 'expiry'", member);
  return tl_sql_value(sql);
}

static void expired_lots_leave_the_balance_once(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000);
  tl_earn(tl_hq, m, 20000);
  tl_earn(tl_hq, m, 30000);
  age_lot(m, 100, 1);
  age_lot(m, 200, 40);
  tl_redeem(tl_hq, m, 50); /* from the oldest lot: 150 left in it */
  Loyalty__V1__RunExpiryResponse *run = run_expiry("");
  ASSERT_TRUE(run->members >= 1 && run->points_expired >= 250);
  ASSERT_EQ_STR(expiry_rows(m), "1 -250");
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 300);
  run_expiry(""); /* again: nothing more */
  ASSERT_EQ_STR(expiry_rows(m), "1 -250");
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 300);
}

static void *run_thread(void *arg)
{
  (void)arg;
  run_expiry("");
  return NULL;
}

static void two_runs_at_once_expire_each_lot_once(void)
{
  enum { MEMBERS = 20 };
  int64_t members[MEMBERS];
  for (int i = 0; i < MEMBERS; i++) {
    members[i] = tl_enroll(tl_hq, tl_birthday_other_month());
    tl_earn(tl_hq, members[i], 10000);
    tl_earn(tl_hq, members[i], 20000);
    age_lot(members[i], 100, 3);
  }
  pthread_t a, b;
  pthread_create(&a, NULL, run_thread, NULL);
  pthread_create(&b, NULL, run_thread, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  for (int i = 0; i < MEMBERS; i++) {
    ASSERT_EQ_STR(expiry_rows(members[i]), "1 -100");
    ASSERT_EQ_INT(tl_balance(tl_hq, members[i])->balance, 200);
  }
}

static void negative_balance_has_nothing_to_expire(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__EarnRequest earn = tl_hq_earn_request(m, 50000);
  tl_call_ok(tl_hq, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  tl_redeem(tl_hq, m, 400);
  Loyalty__V1__RefundRequest refund = LOYALTY__V1__REFUND_REQUEST__INIT;
  refund.request_id = (char *)tl_unique("f");
  refund.member_id = m;
  refund.original_case = LOYALTY__V1__REFUND_REQUEST__ORIGINAL_ORDER_ID;
  refund.order_id = earn.order_id;
  refund.amount_cents = 50000;
  tl_call_ok(tl_hq, POINTS("Refund"), &refund.base, &loyalty__v1__points_result__descriptor);
  age_lot(m, 500, 5);
  run_expiry("");
  ASSERT_EQ_STR(expiry_rows(m), "0 0");
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, -400);
}

static void upcoming_expiry_lists_members_to_remind(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 12300);
  char sql[256];
  snprintf(sql, sizeof sql,
           "UPDATE lots SET expires_on = current_date + 5 WHERE member_id = %" PRId64, m);
  tl_sql(sql);
  Loyalty__V1__ListExpiringPointsRequest req = LOYALTY__V1__LIST_EXPIRING_POINTS_REQUEST__INIT;
  req.within_days = 30;
  bool found = false;
  for (;;) {
    Loyalty__V1__ListExpiringPointsResponse *page = (Loyalty__V1__ListExpiringPointsResponse *)
        tl_call_ok(tl_hq, ADMIN("ListExpiringPoints"), &req.base,
                   &loyalty__v1__list_expiring_points_response__descriptor);
    for (size_t i = 0; i < page->n_members; i++) {
      if (page->members[i]->member_id == m) {
        found = true;
        ASSERT_EQ_INT(page->members[i]->points, 123);
        ASSERT_EQ_STR(page->members[i]->first_expires_on,
                      tl_sql_value("SELECT to_char(current_date + 5, 'YYYY-MM-DD')"));
      }
    }
    if (page->next_page_token[0] == '\0')
      break;
    req.page_token = page->next_page_token;
  }
  ASSERT_TRUE(found);
  req.within_days = 3;
  req.page_token = "";
  req.page_size = 1000;
  Loyalty__V1__ListExpiringPointsResponse *soon = (Loyalty__V1__ListExpiringPointsResponse *)
      tl_call_ok(tl_hq, ADMIN("ListExpiringPoints"), &req.base,
                 &loyalty__v1__list_expiring_points_response__descriptor);
  for (size_t i = 0; i < soon->n_members; i++)
    ASSERT_TRUE(soon->members[i]->member_id != m);
  req.within_days = 0;
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("ListExpiringPoints"), &req.base,
                        &loyalty__v1__list_expiring_points_response__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  Loyalty__V1__RunExpiryRequest bad = LOYALTY__V1__RUN_EXPIRY_REQUEST__INIT;
  bad.as_of = "2026-02-30";
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("RunExpiry"), &bad.base,
                        &loyalty__v1__run_expiry_response__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
}

/* A merge that commits while the run waits for the merged member's lock: the run skips that
 * member (its lots went to the kept member) instead of failing its chunk; the next run
 * expires them at the kept member. */
static void a_member_merged_during_the_run_is_skipped(void)
{
  int64_t keep = tl_enroll(tl_hq, tl_birthday_other_month());
  int64_t gone = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, gone, 10000);
  age_lot(gone, 100, 2);

  PGconn *merger = PQconnectdb(tl.db);
  ASSERT_TRUE(PQstatus(merger) == CONNECTION_OK);
  char sql[256];
  snprintf(sql, sizeof sql,
           "BEGIN; SELECT loyalty_merge_members('test', '', '%s', '\\x00'::bytea, %" PRId64
           ", %" PRId64 ")", tl_unique("merge"), keep, gone);
  PGresult *r = PQexec(merger, sql); /* both rows stay locked until COMMIT */
  ASSERT_TRUE(PQresultStatus(r) == PGRES_TUPLES_OK);
  PQclear(r);

  pthread_t run;
  pthread_create(&run, NULL, run_thread, NULL); /* asserts the run answers OK */
  int waited_ms = 0;
  while (tl_sql_int("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE '%%loyalty_expire%%'") == 0) {
    ASSERT_TRUE(waited_ms < 10000);
    usleep(10000);
    waited_ms += 10;
  }
  PQclear(PQexec(merger, "COMMIT"));
  PQfinish(merger);
  pthread_join(run, NULL);
  ASSERT_EQ_STR(expiry_rows(gone), "0 0");

  run_expiry("");
  ASSERT_EQ_STR(expiry_rows(keep), "1 -100");
  ASSERT_EQ_INT(tl_balance(tl_hq, keep)->balance, 0);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"expired_lots_leave_the_balance_once", expired_lots_leave_the_balance_once},
    {"two_runs_at_once_expire_each_lot_once", two_runs_at_once_expire_each_lot_once},
    {"negative_balance_has_nothing_to_expire", negative_balance_has_nothing_to_expire},
    {"upcoming_expiry_lists_members_to_remind", upcoming_expiry_lists_members_to_remind},
    {"a_member_merged_during_the_run_is_skipped", a_member_merged_during_the_run_is_skipped},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
