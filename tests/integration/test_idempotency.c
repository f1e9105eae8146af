/*
 * test_idempotency.c - retries: replayed with the original answer, once, also when the copies
 * arrive at the same time; a request_id reused for other content is ALREADY_EXISTS.
 */
#include <pthread.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "testlib.h"

#define COPIES 50

static void retry_replays_the_original(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__EarnRequest req = tl_hq_earn_request(m, 10000);
  Loyalty__V1__PointsResult *first = (Loyalty__V1__PointsResult *)tl_call_ok(
      tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  tl_earn(tl_hq, m, 5000); /* something else happens in between */
  Loyalty__V1__PointsResult *again = (Loyalty__V1__PointsResult *)tl_call_ok(
      tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_TRUE(!first->replayed);
  ASSERT_TRUE(again->replayed);
  ASSERT_EQ_INT(again->transaction_id, first->transaction_id);
  ASSERT_EQ_INT(again->points, first->points);
  ASSERT_EQ_INT(again->balance, first->balance); /* the original answer, not today's */
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 150);
}

static void same_request_id_other_content_is_already_exists(void)
{
  int64_t m = tl_enroll(tl_hq, "");
  Loyalty__V1__EarnRequest req = tl_hq_earn_request(m, 10000);
  tl_call_ok(tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  req.amount_cents = 20000;
  tl_result r = tl_call(tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_STATUS(r, GRPC_STATUS_ALREADY_EXISTS);
  ASSERT_CONTAINS(r.message, "request_id already used");
  /* The same id used by a redemption, too. */
  Loyalty__V1__RedeemRequest red = tl_redeem_request(m, 10);
  red.request_id = req.request_id;
  red.store_code = req.store_code; /* the scope of HQ's earn: the store it names */
  ASSERT_STATUS(tl_call(tl_hq, POINTS("Redeem"), &red.base,
                        &loyalty__v1__points_result__descriptor),
                GRPC_STATUS_ALREADY_EXISTS);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 100);
}

static void request_ids_are_scoped_per_store(void)
{
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store b = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(a.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest req = tl_earn_request(m, 10000);
  req.request_id = "till-0001";
  ASSERT_TRUE(!TL_POINTS(tl_call(a.conn, POINTS("Earn"), &req.base,
                                 &loyalty__v1__points_result__descriptor))->replayed);
  req.order_id = (char *)tl_unique("o");
  ASSERT_TRUE(!TL_POINTS(tl_call(b.conn, POINTS("Earn"), &req.base,
                                 &loyalty__v1__points_result__descriptor))->replayed);
  ASSERT_EQ_INT(tl_balance(a.conn, m)->balance, 200);
}

static void fifty_concurrent_copies_of_an_earn_credit_once(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest req = tl_earn_request(m, 88800);
  tl_parallel_call slots[COPIES];
  for (int i = 0; i < COPIES; i++)
    slots[i] = (tl_parallel_call){.conn = s.conn, .method = POINTS("Earn"), .request = &req.base};
  tl_call_concurrently(slots, COPIES);
  int fresh = 0;
  int64_t txn = 0;
  for (int i = 0; i < COPIES; i++) {
    ASSERT_STATUS(slots[i].result, GRPC_STATUS_OK);
    Loyalty__V1__PointsResult *r = TL_POINTS(slots[i].result);
    fresh += !r->replayed;
    if (txn == 0)
      txn = r->transaction_id;
    ASSERT_EQ_INT(r->transaction_id, txn);
    ASSERT_EQ_INT(r->points, 888);
    ASSERT_EQ_INT(r->balance, 888);
  }
  ASSERT_EQ_INT(fresh, 1);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->balance, 888);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM ledger WHERE member_id = %" PRId64, m);
  ASSERT_EQ_STR(tl_sql_value(sql), "1");
}

static void concurrent_earns_of_many_members_all_count(void)
{
  /* Many members at once: the group-commit path, with a retry of each mixed in. */
  enum { MEMBERS = 25 };
  int64_t members[MEMBERS];
  Loyalty__V1__EarnRequest reqs[COPIES];
  tl_parallel_call slots[COPIES];
  for (int i = 0; i < MEMBERS; i++)
    members[i] = tl_enroll(tl_hq, tl_birthday_other_month());
  for (int i = 0; i < MEMBERS; i++) {
    reqs[i] = tl_hq_earn_request(members[i], 10000 + i * 100);
    reqs[MEMBERS + i] = reqs[i]; /* the same request again, at the same time */
  }
  for (int i = 0; i < COPIES; i++)
    slots[i] = (tl_parallel_call){.conn = tl_hq, .method = POINTS("Earn"), .request = &reqs[i].base};
  tl_call_concurrently(slots, COPIES);
  for (int i = 0; i < MEMBERS; i++) {
    ASSERT_STATUS(slots[i].result, GRPC_STATUS_OK);
    ASSERT_STATUS(slots[MEMBERS + i].result, GRPC_STATUS_OK);
    Loyalty__V1__PointsResult *a = TL_POINTS(slots[i].result);
    Loyalty__V1__PointsResult *b = TL_POINTS(slots[MEMBERS + i].result);
    ASSERT_EQ_INT(a->transaction_id, b->transaction_id);
    ASSERT_EQ_INT(a->replayed + b->replayed, 1);
    ASSERT_EQ_INT(tl_balance(tl_hq, members[i])->balance, 100 + i);
  }
}

/* A till gives up waiting (its deadline passes while the member is locked), the server
 * finishes the redemption anyway; the till's retry with the same request_id must not
 * spend the points twice. */
static void retry_after_deadline_spends_once(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 100000); /* 1000 points */
  PGconn *locker = PQconnectdb(tl.db);
  ASSERT_TRUE(PQstatus(locker) == CONNECTION_OK);
  char sql[128];
  snprintf(sql, sizeof sql, "BEGIN; SELECT 1 FROM members WHERE member_id = %" PRId64 " FOR UPDATE", m);
  PQclear(PQexec(locker, sql));

  Loyalty__V1__RedeemRequest req = tl_redeem_request(m, 600);
  ProtobufCMessage *response;
  char *message;
  grpc_status_code st = lc_call(tl_hq, POINTS("Redeem"), &req.base,
                                &loyalty__v1__points_result__descriptor, &response, &message, 300);
  tl_keep(message);
  ASSERT_EQ_STR(lc_status_name(st), "DEADLINE_EXCEEDED");
  PQclear(PQexec(locker, "COMMIT"));
  PQfinish(locker);

  Loyalty__V1__PointsResult *retry = TL_POINTS(
      tl_call(tl_hq, POINTS("Redeem"), &req.base, &loyalty__v1__points_result__descriptor));
  ASSERT_EQ_INT(retry->points, -600);
  ASSERT_EQ_INT(retry->balance, 400);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 400);
}

static void concurrent_reuse_of_an_id_for_two_members_credits_one(void)
{
  /* One till sends one request_id for two different members at once (a till bug): one of
   * the two contents wins, its copies replay it, every copy of the other is refused. */
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t a = tl_enroll(s.conn, tl_birthday_other_month());
  int64_t b = tl_enroll(s.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest for_a = tl_earn_request(a, 10000);
  Loyalty__V1__EarnRequest for_b = tl_earn_request(b, 10000);
  for_b.request_id = for_a.request_id;
  for_b.order_id = for_a.order_id;
  tl_parallel_call slots[COPIES];
  for (int i = 0; i < COPIES; i++)
    slots[i] = (tl_parallel_call){.conn = s.conn, .method = POINTS("Earn"),
                                  .request = i % 2 ? &for_b.base : &for_a.base};
  tl_call_concurrently(slots, COPIES);
  int ok_a = 0, ok_b = 0, fresh = 0;
  for (int i = 0; i < COPIES; i++) {
    if (slots[i].result.status == GRPC_STATUS_ALREADY_EXISTS)
      continue;
    Loyalty__V1__PointsResult *r = TL_POINTS(slots[i].result);
    fresh += !r->replayed;
    *(i % 2 ? &ok_b : &ok_a) += 1;
  }
  ASSERT_EQ_INT(fresh, 1);
  ASSERT_TRUE((ok_a == COPIES / 2 && ok_b == 0) || (ok_b == COPIES / 2 && ok_a == 0));
  ASSERT_EQ_INT(tl_count_status(slots, COPIES, GRPC_STATUS_ALREADY_EXISTS), COPIES / 2);
  ASSERT_EQ_INT(tl_balance(s.conn, a)->balance + tl_balance(s.conn, b)->balance, 100);
}

static void every_write_replays(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_WECHAT_MINI);
  /* EnrollMember: the same member, once. */
  Loyalty__V1__EnrollMemberRequest enroll = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
  enroll.request_id = (char *)tl_unique("en");
  enroll.phone = (char *)tl_phone();
  enroll.birthday = (char *)tl_birthday_other_month();
  Loyalty__V1__Member *m1 = (Loyalty__V1__Member *)tl_call_ok(
      s.conn, POINTS("EnrollMember"), &enroll.base, &loyalty__v1__member__descriptor);
  Loyalty__V1__Member *m2 = (Loyalty__V1__Member *)tl_call_ok(
      s.conn, POINTS("EnrollMember"), &enroll.base, &loyalty__v1__member__descriptor);
  ASSERT_EQ_INT(m2->member_id, m1->member_id);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM members WHERE phone = '%s'", enroll.phone);
  ASSERT_EQ_STR(tl_sql_value(sql), "1");
  int64_t m = m1->member_id;
  tl_earn(s.conn, m, 100000); /* 1000 */

  /* Redeem: spends once. */
  Loyalty__V1__RedeemRequest redeem = tl_redeem_request(m, 300);
  Loyalty__V1__PointsResult *r1 = TL_POINTS(
      tl_call(s.conn, POINTS("Redeem"), &redeem.base, &loyalty__v1__points_result__descriptor));
  Loyalty__V1__PointsResult *r2 = TL_POINTS(
      tl_call(s.conn, POINTS("Redeem"), &redeem.base, &loyalty__v1__points_result__descriptor));
  ASSERT_TRUE(!r1->replayed && r2->replayed);
  ASSERT_EQ_INT(r2->transaction_id, r1->transaction_id);
  ASSERT_EQ_INT(r2->points, -300);
  ASSERT_EQ_INT(r2->balance, 700);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->balance, 700);

  /* SetBirthday: a retry is the first change answered again, not a second change. */
  Loyalty__V1__SetBirthdayRequest birthday = LOYALTY__V1__SET_BIRTHDAY_REQUEST__INIT;
  birthday.request_id = (char *)tl_unique("bd");
  birthday.member_id = m;
  birthday.birthday = "1991-02-03";
  tl_call_ok(s.conn, POINTS("SetBirthday"), &birthday.base, &loyalty__v1__member__descriptor);
  Loyalty__V1__Member *again = (Loyalty__V1__Member *)tl_call_ok(
      s.conn, POINTS("SetBirthday"), &birthday.base, &loyalty__v1__member__descriptor);
  ASSERT_EQ_STR(again->birthday, "1991-02-03");
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64, m), 2);
}

static void refused_request_is_not_recorded_and_may_be_retried(void)
{
  /* A redemption refused for want of points writes nothing: its retry, once the points are
   * there, is made (not replayed as a refusal). */
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000);
  Loyalty__V1__RedeemRequest redeem = tl_redeem_request(m, 500);
  ASSERT_STATUS(tl_call(tl_hq, POINTS("Redeem"), &redeem.base,
                        &loyalty__v1__points_result__descriptor),
                GRPC_STATUS_FAILED_PRECONDITION);
  tl_earn(tl_hq, m, 50000);
  Loyalty__V1__PointsResult *r = TL_POINTS(
      tl_call(tl_hq, POINTS("Redeem"), &redeem.base, &loyalty__v1__points_result__descriptor));
  ASSERT_TRUE(!r->replayed);
  ASSERT_EQ_INT(r->balance, 100);
}

static void hq_and_store_scopes_are_apart(void)
{
  /* The same request_id from HQ (no store) and from a store: two requests. (A redemption:
   * an HQ Earn always names a store, and so acts in that store's scope.) */
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  tl_earn(s.conn, m, 10000);
  Loyalty__V1__RedeemRequest req = tl_redeem_request(m, 30);
  ASSERT_TRUE(!TL_POINTS(tl_call(tl_hq, POINTS("Redeem"), &req.base,
                                 &loyalty__v1__points_result__descriptor))->replayed);
  ASSERT_TRUE(!TL_POINTS(tl_call(s.conn, POINTS("Redeem"), &req.base,
                                 &loyalty__v1__points_result__descriptor))->replayed);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->balance, 40);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"retry_replays_the_original", retry_replays_the_original},
    {"same_request_id_other_content_is_already_exists",
     same_request_id_other_content_is_already_exists},
    {"request_ids_are_scoped_per_store", request_ids_are_scoped_per_store},
    {"fifty_concurrent_copies_of_an_earn_credit_once",
     fifty_concurrent_copies_of_an_earn_credit_once},
    {"concurrent_earns_of_many_members_all_count", concurrent_earns_of_many_members_all_count},
    {"retry_after_deadline_spends_once", retry_after_deadline_spends_once},
    {"concurrent_reuse_of_an_id_for_two_members_credits_one",
     concurrent_reuse_of_an_id_for_two_members_credits_one},
    {"every_write_replays", every_write_replays},
    {"refused_request_is_not_recorded_and_may_be_retried",
     refused_request_is_not_recorded_and_may_be_retried},
    {"hq_and_store_scopes_are_apart", hq_and_store_scopes_are_apart},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
