/*
 * test_concurrency.c - many calls on one member at once: the member's row lock makes them
 * one after the other, so nothing overdraws, over-refunds or is given back twice; and a
 * member held up does not hold up the others.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <libpq-fe.h>

#include "testlib.h"

#define CALLS 50

static void fifty_concurrent_redemptions_never_overdraw(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 100000); /* 1000 points: 33 redemptions of 30 fit, 10 left */
  Loyalty__V1__RedeemRequest reqs[CALLS];
  tl_parallel_call calls[CALLS];
  for (int i = 0; i < CALLS; i++) {
    reqs[i] = tl_redeem_request(m, 30);
    calls[i] = (tl_parallel_call){.conn = tl_hq, .method = POINTS("Redeem"), .request = &reqs[i].base};
  }
  tl_call_concurrently(calls, CALLS);
  for (int i = 0; i < CALLS; i++)
    if (calls[i].result.status != GRPC_STATUS_OK)
      ASSERT_STATUS(calls[i].result, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_EQ_INT(tl_count_status(calls, CALLS, GRPC_STATUS_OK), 33);
  ASSERT_EQ_INT(tl_count_status(calls, CALLS, GRPC_STATUS_FAILED_PRECONDITION), 17);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 10);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64
                           " AND kind = 'redeem'", m), 33);
}

static void concurrent_earns_and_redemptions_keep_the_balance_exact(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 100000); /* 1000 points, senior (x1.0) and staying so below 3,000 yuan */
  Loyalty__V1__EarnRequest earns[CALLS / 2];
  Loyalty__V1__RedeemRequest redeems[CALLS / 2];
  tl_parallel_call calls[CALLS];
  for (int i = 0; i < CALLS / 2; i++) {
    earns[i] = tl_hq_earn_request(m, 2000); /* 20 points each */
    redeems[i] = tl_redeem_request(m, 50);
    calls[2 * i] = (tl_parallel_call){.conn = tl_hq, .method = POINTS("Earn"),
                                      .request = &earns[i].base};
    calls[2 * i + 1] = (tl_parallel_call){.conn = tl_hq, .method = POINTS("Redeem"),
                                          .request = &redeems[i].base};
  }
  tl_call_concurrently(calls, CALLS);
  int redeemed = 0;
  for (int i = 0; i < CALLS; i++) {
    if (i % 2 == 0)
      ASSERT_EQ_INT(TL_POINTS(calls[i].result)->points, 20);
    else if (calls[i].result.status == GRPC_STATUS_OK)
      redeemed++;
    else
      ASSERT_STATUS(calls[i].result, GRPC_STATUS_FAILED_PRECONDITION);
  }
  /* 1000 alone pays for 20 of them, whatever the order. */
  ASSERT_TRUE(redeemed >= 20);
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->balance, 1000 + 25 * 20 - redeemed * 50);
  ASSERT_TRUE(b->balance >= 0);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 100000 + 25 * 2000);
}

static void concurrent_partial_refunds_never_take_more_than_the_earn(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(tl_hq, m, 33333)); /* 333 points */
  enum { REFUNDS = 20 };
  Loyalty__V1__RefundRequest reqs[REFUNDS];
  tl_parallel_call calls[REFUNDS];
  for (int i = 0; i < REFUNDS; i++) {
    reqs[i] = tl_refund_request(m, e->transaction_id, NULL, 3333); /* 10 of these fit */
    calls[i] = (tl_parallel_call){.conn = tl_hq, .method = POINTS("Refund"), .request = &reqs[i].base};
  }
  tl_call_concurrently(calls, REFUNDS);
  ASSERT_EQ_INT(tl_count_status(calls, REFUNDS, GRPC_STATUS_OK), 10);
  ASSERT_EQ_INT(tl_count_status(calls, REFUNDS, GRPC_STATUS_FAILED_PRECONDITION), 10);
  /* 33330 of 33333 cents back: floor(333 * 33330 / 33333) = 332 taken in all. */
  int64_t taken = 0;
  for (int i = 0; i < REFUNDS; i++)
    if (calls[i].result.status == GRPC_STATUS_OK)
      taken += TL_POINTS(calls[i].result)->points;
  ASSERT_EQ_INT(taken, -332);
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->balance, 1);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 3);
  /* The last 3 cents take the last point. */
  ASSERT_EQ_INT(TL_POINTS(tl_refund(tl_hq, m, e->transaction_id, NULL, 3))->points, -1);
}

static void concurrent_cancellations_give_back_once(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 50000);
  Loyalty__V1__PointsResult *red = TL_POINTS(tl_redeem(tl_hq, m, 400));
  enum { CANCELS = 20 };
  Loyalty__V1__CancelRedemptionRequest reqs[CANCELS];
  tl_parallel_call calls[CANCELS];
  for (int i = 0; i < CANCELS; i++) {
    Loyalty__V1__CancelRedemptionRequest init = LOYALTY__V1__CANCEL_REDEMPTION_REQUEST__INIT;
    reqs[i] = init;
    reqs[i].request_id = (char *)tl_unique("c");
    reqs[i].member_id = m;
    reqs[i].redemption_id = red->transaction_id;
    calls[i] = (tl_parallel_call){.conn = tl_hq, .method = POINTS("CancelRedemption"),
                                  .request = &reqs[i].base};
  }
  tl_call_concurrently(calls, CANCELS);
  ASSERT_EQ_INT(tl_count_status(calls, CANCELS, GRPC_STATUS_OK), 1);
  ASSERT_EQ_INT(tl_count_status(calls, CANCELS, GRPC_STATUS_FAILED_PRECONDITION), CANCELS - 1);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 500);
}

static void concurrent_enrolments_of_one_person_make_one_member(void)
{
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store b = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_TMALL);
  enum { ENROLS = 20 };
  const char *phone = tl_phone();
  const char *unionid = tl_unique("u");
  Loyalty__V1__Identity id = LOYALTY__V1__IDENTITY__INIT;
  Loyalty__V1__Identity *ids[] = {&id};
  id.kind = "wechat_unionid";
  id.value = (char *)unionid;
  Loyalty__V1__EnrollMemberRequest reqs[ENROLS];
  tl_parallel_call calls[ENROLS];
  for (int i = 0; i < ENROLS; i++) {
    Loyalty__V1__EnrollMemberRequest init = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
    reqs[i] = init;
    reqs[i].request_id = (char *)tl_unique("en");
    /* The phone, with the identity or without it: the same person. (By the identity alone
     * it would be someone else until it is linked to the phone.) */
    reqs[i].phone = (char *)phone;
    if (i % 3 != 0) {
      reqs[i].identities = ids;
      reqs[i].n_identities = 1;
    }
    calls[i] = (tl_parallel_call){.conn = i % 2 ? b.conn : a.conn,
                                  .method = POINTS("EnrollMember"), .request = &reqs[i].base,
                                  .response_type = &loyalty__v1__member__descriptor};
  }
  tl_call_concurrently(calls, ENROLS);
  int64_t member = 0;
  for (int i = 0; i < ENROLS; i++) {
    ASSERT_STATUS(calls[i].result, GRPC_STATUS_OK);
    Loyalty__V1__Member *m = (Loyalty__V1__Member *)calls[i].result.response;
    if (member == 0)
      member = m->member_id;
    ASSERT_EQ_INT(m->member_id, member);
  }
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM members WHERE phone = '%s'", phone);
  ASSERT_EQ_STR(tl_sql_value(sql), "1");
  /* The identity ended up linked to that member, once. */
  Loyalty__V1__GetMemberRequest get = LOYALTY__V1__GET_MEMBER_REQUEST__INIT;
  get.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_IDENTITY;
  get.identity = &id;
  Loyalty__V1__Member *m = (Loyalty__V1__Member *)tl_call_ok(
      tl_hq, POINTS("GetMember"), &get.base, &loyalty__v1__member__descriptor);
  ASSERT_EQ_INT(m->member_id, member);
  ASSERT_EQ_INT(m->n_identities, 1);
}

static int64_t now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void a_locked_member_does_not_hold_up_others(void)
{
  int64_t held = tl_enroll(tl_hq, tl_birthday_other_month());
  int64_t free_member = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, held, 10000);
  PGconn *locker = PQconnectdb(tl.db);
  ASSERT_TRUE(PQstatus(locker) == CONNECTION_OK);
  char sql[128];
  snprintf(sql, sizeof sql, "BEGIN; SELECT 1 FROM members WHERE member_id = %" PRId64 " FOR UPDATE",
           held);
  PQclear(PQexec(locker, sql));
  /* A redemption of the held member waits (and gives up); the other member's calls go on. */
  Loyalty__V1__RedeemRequest waiting = tl_redeem_request(held, 10);
  ASSERT_STATUS(tl_call_timeout(tl_hq, POINTS("Redeem"), &waiting.base,
                                &loyalty__v1__points_result__descriptor, 500),
                GRPC_STATUS_DEADLINE_EXCEEDED);
  int64_t t0 = now_ms();
  for (int i = 0; i < 5; i++) {
    Loyalty__V1__EarnRequest earn = tl_hq_earn_request(free_member, 10000);
    ASSERT_STATUS(tl_call_timeout(tl_hq, POINTS("Earn"), &earn.base,
                                  &loyalty__v1__points_result__descriptor, 3000),
                  GRPC_STATUS_OK);
  }
  ASSERT_TRUE(now_ms() - t0 < 3000);
  PQclear(PQexec(locker, "COMMIT"));
  PQfinish(locker);
  /* The abandoned redemption finished or not; its retry settles it, once. */
  Loyalty__V1__PointsResult *r = TL_POINTS(
      tl_call(tl_hq, POINTS("Redeem"), &waiting.base, &loyalty__v1__points_result__descriptor));
  ASSERT_EQ_INT(r->balance, 90);
  ASSERT_EQ_INT(tl_balance(tl_hq, held)->balance, 90);
  ASSERT_EQ_INT(tl_balance(tl_hq, free_member)->balance, 500);
}

/* Sustained load from many threads: the group-commit writers hand batches on while new
 * calls keep arriving; every earn must count once. */
enum { LOAD_THREADS = 32, LOAD_EARNS = 30, LOAD_MEMBERS = 64 };
static int64_t load_members[LOAD_MEMBERS];

static void *load_thread(void *arg)
{
  int t = (int)(intptr_t)arg;
  for (int i = 0; i < LOAD_EARNS; i++) {
    int64_t m = load_members[(t * LOAD_EARNS + i) % LOAD_MEMBERS];
    tl_result r = tl_earn(tl_hq, m, 100);
    if (r.status != GRPC_STATUS_OK)
      tl_fail(__FILE__, __LINE__, "earn under load: %s (%s)", lc_status_name(r.status), r.message);
  }
  return NULL;
}

static void sustained_concurrent_earns_all_count(void)
{
  pthread_t threads[LOAD_THREADS];
  for (int i = 0; i < LOAD_MEMBERS; i++)
    load_members[i] = tl_enroll(tl_hq, tl_birthday_other_month());
  for (int t = 0; t < LOAD_THREADS; t++)
    pthread_create(&threads[t], NULL, load_thread, (void *)(intptr_t)t);
  for (int t = 0; t < LOAD_THREADS; t++)
    pthread_join(threads[t], NULL);
  int64_t total = 0;
  for (int i = 0; i < LOAD_MEMBERS; i++)
    total += tl_balance(tl_hq, load_members[i])->balance;
  ASSERT_EQ_INT(total, LOAD_THREADS * LOAD_EARNS);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"fifty_concurrent_redemptions_never_overdraw", fifty_concurrent_redemptions_never_overdraw},
    {"concurrent_earns_and_redemptions_keep_the_balance_exact",
     concurrent_earns_and_redemptions_keep_the_balance_exact},
    {"concurrent_partial_refunds_never_take_more_than_the_earn",
     concurrent_partial_refunds_never_take_more_than_the_earn},
    {"concurrent_cancellations_give_back_once", concurrent_cancellations_give_back_once},
    {"concurrent_enrolments_of_one_person_make_one_member",
     concurrent_enrolments_of_one_person_make_one_member},
    {"a_locked_member_does_not_hold_up_others", a_locked_member_does_not_hold_up_others},
    {"sustained_concurrent_earns_all_count", sustained_concurrent_earns_all_count},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
