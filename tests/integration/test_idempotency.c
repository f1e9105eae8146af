/*
 * test_idempotency.c - retries, concurrent retries and concurrent spending.
 */
#include <pthread.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "testlib.h"

#define COPIES 50

typedef struct call_slot {
  lc_conn *conn;
  const char *method;
  const ProtobufCMessage *request;
  pthread_barrier_t *start;
  tl_result result;
} call_slot;

static void *call_thread(void *arg)
{
  call_slot *s = arg;
  pthread_barrier_wait(s->start);
  s->result = tl_call(s->conn, s->method, s->request, &loyalty__v1__points_result__descriptor);
  return NULL;
}

/* Makes the n calls at once (released together by a barrier). */
static void call_concurrently(call_slot *slots, int n)
{
  pthread_t threads[COPIES];
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)n);
  for (int i = 0; i < n; i++) {
    slots[i].start = &start;
    pthread_create(&threads[i], NULL, call_thread, &slots[i]);
  }
  for (int i = 0; i < n; i++)
    pthread_join(threads[i], NULL);
  pthread_barrier_destroy(&start);
}

static void retry_replays_the_original(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__EarnRequest req = tl_earn_request(m, 10000);
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
  Loyalty__V1__EarnRequest req = tl_earn_request(m, 10000);
  tl_call_ok(tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  req.amount_cents = 20000;
  tl_result r = tl_call(tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_STATUS(r, GRPC_STATUS_ALREADY_EXISTS);
  ASSERT_CONTAINS(r.message, "request_id already used");
  /* The same id used by a redemption, too. */
  Loyalty__V1__RedeemRequest red = tl_redeem_request(m, 10);
  red.request_id = req.request_id;
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
  call_slot slots[COPIES];
  for (int i = 0; i < COPIES; i++)
    slots[i] = (call_slot){.conn = s.conn, .method = POINTS("Earn"), .request = &req.base};
  call_concurrently(slots, COPIES);
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

static void fifty_concurrent_redemptions_never_overdraw(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 100000); /* 1000 points: 33 redemptions of 30 fit, 10 left */
  Loyalty__V1__RedeemRequest reqs[COPIES];
  call_slot slots[COPIES];
  for (int i = 0; i < COPIES; i++) {
    reqs[i] = tl_redeem_request(m, 30);
    slots[i] = (call_slot){.conn = tl_hq, .method = POINTS("Redeem"), .request = &reqs[i].base};
  }
  call_concurrently(slots, COPIES);
  int ok = 0, refused = 0;
  for (int i = 0; i < COPIES; i++) {
    if (slots[i].result.status == GRPC_STATUS_OK)
      ok++;
    else if (slots[i].result.status == GRPC_STATUS_FAILED_PRECONDITION)
      refused++;
    else
      ASSERT_STATUS(slots[i].result, GRPC_STATUS_OK);
  }
  ASSERT_EQ_INT(ok, 33);
  ASSERT_EQ_INT(refused, 17);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 10);
}

static void concurrent_earns_of_many_members_all_count(void)
{
  /* Many members at once: the group-commit path, with a retry of each mixed in. */
  enum { MEMBERS = 25 };
  int64_t members[MEMBERS];
  Loyalty__V1__EarnRequest reqs[COPIES];
  call_slot slots[COPIES];
  for (int i = 0; i < MEMBERS; i++)
    members[i] = tl_enroll(tl_hq, tl_birthday_other_month());
  for (int i = 0; i < MEMBERS; i++) {
    reqs[i] = tl_earn_request(members[i], 10000 + i * 100);
    reqs[MEMBERS + i] = reqs[i]; /* the same request again, at the same time */
  }
  for (int i = 0; i < COPIES; i++)
    slots[i] = (call_slot){.conn = tl_hq, .method = POINTS("Earn"), .request = &reqs[i].base};
  call_concurrently(slots, COPIES);
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
    {"retry_replays_the_original", retry_replays_the_original},
    {"same_request_id_other_content_is_already_exists",
     same_request_id_other_content_is_already_exists},
    {"request_ids_are_scoped_per_store", request_ids_are_scoped_per_store},
    {"fifty_concurrent_copies_of_an_earn_credit_once",
     fifty_concurrent_copies_of_an_earn_credit_once},
    {"fifty_concurrent_redemptions_never_overdraw", fifty_concurrent_redemptions_never_overdraw},
    {"concurrent_earns_of_many_members_all_count", concurrent_earns_of_many_members_all_count},
    {"sustained_concurrent_earns_all_count", sustained_concurrent_earns_all_count},
    {"retry_after_deadline_spends_once", retry_after_deadline_spends_once},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
