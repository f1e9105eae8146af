/*
 * test_containment.c - the fast path under trouble (server/dbloop.c): a member locked from
 * outside holds up only its own calls; a hung PostgreSQL (SIGSTOP) leaves Health answering
 * at once and every call ending within its deadline; a batch mixing every movement of one
 * member answers each caller as the ledger's serial order says; SIGTERM with calls in
 * flight answers every one of them, none CANCELLED.
 *
 * These run alone (RUN_SERIAL): they stop PostgreSQL, or start servers of their own.
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "testlib.h"

/* Bounds on waits, with room for sanitizers and a busy machine (3x what they should be). */
#define HEALTH_ANSWER_MS 3000

static int64_t now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
  struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static int health_status(lc_conn *conn, int timeout_ms, grpc_status_code *status)
{
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  tl_result r = tl_call_timeout(conn, "/grpc.health.v1.Health/Check", &req.base,
                                &grpc__health__v1__health_check_response__descriptor, timeout_ms);
  *status = r.status;
  if (r.status != GRPC_STATUS_OK)
    return -1;
  return ((Grpc__Health__V1__HealthCheckResponse *)r.response)->status;
}

/* Waits (up to timeout_ms) for Health to answer want; false if it never did. */
static bool health_becomes(lc_conn *conn, int want, int timeout_ms)
{
  for (int64_t until = now_ms() + timeout_ms; now_ms() < until; sleep_ms(50)) {
    grpc_status_code status;
    if (health_status(conn, 1000, &status) == want)
      return true;
  }
  return false;
}

/* A psql-like session holding member_id's row lock until unlock(). */
static PGconn *lock_member(int64_t member_id)
{
  PGconn *pg = PQconnectdb(tl.db);
  ASSERT_TRUE(PQstatus(pg) == CONNECTION_OK);
  char sql[128];
  snprintf(sql, sizeof sql, "BEGIN; SELECT 1 FROM members WHERE member_id = %lld FOR UPDATE",
           (long long)member_id);
  PGresult *r = PQexec(pg, sql);
  ASSERT_TRUE(PQresultStatus(r) == PGRES_TUPLES_OK);
  PQclear(r);
  return pg;
}

static void unlock(PGconn *pg)
{
  PQclear(PQexec(pg, "COMMIT"));
  PQfinish(pg);
}

typedef struct background_earn {
  lc_conn *conn;
  int64_t member_id;
  tl_result result;
  pthread_t thread;
} background_earn;

static void *earn_main(void *arg)
{
  background_earn *b = arg;
  b->result = tl_earn(b->conn, b->member_id, 1000);
  return NULL;
}

static void a_locked_member_leaves_other_members_earns_flowing(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t locked = tl_enroll(s.conn, "");
  int64_t others[8];
  for (int i = 0; i < 8; i++)
    others[i] = tl_enroll(s.conn, "");
  PGconn *session = lock_member(locked);
  background_earn held = {.conn = s.conn, .member_id = locked};
  ASSERT_TRUE(pthread_create(&held.thread, NULL, earn_main, &held) == 0);
  sleep_ms(200); /* its batch has met the lock */

  /* Every other member's earn goes through while the lock is held: on the old design the
   * batch behind the locked member held them all until the lock went. */
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 8; i++) {
      int64_t t0 = now_ms();
      ASSERT_STATUS(tl_earn(s.conn, others[i], 2000), GRPC_STATUS_OK);
      ASSERT_TRUE(now_ms() - t0 < 3000);
    }
  }
  unlock(session);
  pthread_join(held.thread, NULL);
  ASSERT_STATUS(held.result, GRPC_STATUS_OK); /* it waited, on the slow path, and went through */
  ASSERT_EQ_INT(tl_balance(s.conn, locked)->balance, 10);
  tl_check_invariants();
}

/* Sends signal_name to the cluster's postmaster and every process it started. */
static void signal_postgresql(const char *signal_name)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd,
           "pid=$(head -1 '%s/data/postmaster.pid') && kill -%s $pid $(pgrep -P $pid)", tl.pgdir,
           signal_name);
  if (system(cmd) != 0)
    tl_fail(__FILE__, __LINE__, "%s failed", cmd);
}

static void a_hung_database_is_contained(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(s.conn, "");
  ASSERT_STATUS(tl_earn(s.conn, m, 10000), GRPC_STATUS_OK);
  lc_conn *anonymous = tl_connect(NULL);
  ASSERT_TRUE(health_becomes(anonymous, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING, 5000));

  signal_postgresql("STOP");
  /* Health answers from the server itself, at once, and says NOT_SERVING soon. */
  int64_t t0 = now_ms();
  grpc_status_code status;
  health_status(anonymous, HEALTH_ANSWER_MS, &status);
  int64_t answered_ms = now_ms() - t0;
  bool not_serving = health_becomes(
      anonymous, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING, 6000);
  /* A call ends within its own deadline: DEADLINE_EXCEEDED (outcome unknown). */
  Loyalty__V1__EarnRequest lost = tl_earn_request(m, 50000);
  t0 = now_ms();
  tl_result r = tl_call_timeout(s.conn, POINTS("Earn"), &lost.base,
                                &loyalty__v1__points_result__descriptor, 1500);
  int64_t earn_ms = now_ms() - t0;
  signal_postgresql("CONT");

  ASSERT_STATUS((tl_result){.status = status}, GRPC_STATUS_OK);
  ASSERT_TRUE(answered_ms < HEALTH_ANSWER_MS);
  ASSERT_TRUE(not_serving);
  ASSERT_TRUE(r.status == GRPC_STATUS_DEADLINE_EXCEEDED || r.status == GRPC_STATUS_UNAVAILABLE);
  ASSERT_TRUE(earn_ms < 1500 * 3);

  /* Back: SERVING again, and the earn's retry (same request_id) lands once. */
  ASSERT_TRUE(health_becomes(anonymous, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING, 15000));
  tl_result again = tl_call(s.conn, POINTS("Earn"), &lost.base, &loyalty__v1__points_result__descriptor);
  ASSERT_STATUS(again, GRPC_STATUS_OK);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->balance, 600);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %lld", (long long)m), 2);
  tl_check_invariants();
}

/* A loyaltyd of the test's own (extra: its flags), serving; tl.server points at it until
 * own_server_stop, so that tl_new_store's connections go to it. */
static char saved_server[128];

static tl_server own_server_start(const char *const *extra)
{
  tl_server server = tl_start_server("127.0.0.1", extra);
  snprintf(saved_server, sizeof saved_server, "%s", tl.server);
  snprintf(tl.server, sizeof tl.server, "%s", server.address);
  lc_conn *anonymous = tl_connect(NULL);
  ASSERT_TRUE(health_becomes(anonymous, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING, 15000));
  return server;
}

static int own_server_stop(tl_server server)
{
  snprintf(tl.server, sizeof tl.server, "%s", saved_server);
  return tl_stop_server(server);
}

typedef struct delayed_unlock {
  PGconn *session;
  int after_ms;
  pthread_t thread;
} delayed_unlock;

static void *unlock_main(void *arg)
{
  delayed_unlock *u = arg;
  sleep_ms(u->after_ms);
  unlock(u->session);
  return NULL;
}

static void a_batch_mixing_every_movement_answers_as_the_ledger_orders_them(void)
{
  /* One write connection; a member locked for a while holds its batch, so that everything
   * below arrives meanwhile and goes out together in the next one. */
  const char *extra[] = {"--write-connections", "1", "--lock-timeout-ms", "5000", NULL};
  tl_server server = own_server_start(extra);
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t blocker = tl_enroll(s.conn, "");
  int64_t m = tl_enroll(s.conn, "");
  Loyalty__V1__EarnRequest first = tl_earn_request(m, 100000); /* 1,000 points */
  Loyalty__V1__PointsResult *earned =
      TL_POINTS(tl_call(s.conn, POINTS("Earn"), &first.base, &loyalty__v1__points_result__descriptor));
  Loyalty__V1__PointsResult *redeemed = TL_POINTS(tl_redeem(s.conn, m, 100));

  delayed_unlock u = {.session = lock_member(blocker), .after_ms = 700};
  background_earn held = {.conn = s.conn, .member_id = blocker};
  ASSERT_TRUE(pthread_create(&held.thread, NULL, earn_main, &held) == 0);
  sleep_ms(100);
  ASSERT_TRUE(pthread_create(&u.thread, NULL, unlock_main, &u) == 0);

  Loyalty__V1__EarnRequest earn = tl_earn_request(m, 50000);
  Loyalty__V1__RedeemRequest redeem = tl_redeem_request(m, 200);
  Loyalty__V1__RedeemRequest too_much = tl_redeem_request(m, 1000000);
  Loyalty__V1__RefundRequest refund = tl_refund_request(m, earned->transaction_id, NULL, 20000);
  Loyalty__V1__CancelRedemptionRequest cancel = LOYALTY__V1__CANCEL_REDEMPTION_REQUEST__INIT;
  cancel.request_id = (char *)tl_unique("cancel");
  cancel.member_id = m;
  cancel.redemption_id = redeemed->transaction_id;
  tl_parallel_call calls[] = {
    {.conn = s.conn, .method = POINTS("Earn"), .request = &earn.base},
    {.conn = s.conn, .method = POINTS("Redeem"), .request = &redeem.base},
    {.conn = s.conn, .method = POINTS("Redeem"), .request = &too_much.base},
    {.conn = s.conn, .method = POINTS("Refund"), .request = &refund.base},
    {.conn = s.conn, .method = POINTS("CancelRedemption"), .request = &cancel.base},
    {.conn = s.conn, .method = POINTS("Earn"), .request = &first.base}, /* a replay */
  };
  int n = (int)(sizeof calls / sizeof calls[0]);
  tl_call_concurrently(calls, n);
  pthread_join(u.thread, NULL);
  pthread_join(held.thread, NULL);
  ASSERT_STATUS(held.result, GRPC_STATUS_OK);

  ASSERT_STATUS(calls[2].result, GRPC_STATUS_FAILED_PRECONDITION); /* more than it has */
  for (int i = 0; i < n; i++) {
    if (i == 2)
      continue;
    Loyalty__V1__PointsResult *p = TL_POINTS(calls[i].result);
    if (i == 5) { /* the replay answers the original */
      ASSERT_TRUE(p->replayed);
      ASSERT_EQ_INT(p->transaction_id, earned->transaction_id);
      ASSERT_EQ_INT(p->balance, earned->balance);
      continue;
    }
    /* Each answer is the balance right after its own row, in the ledger's order: what a
     * serial run in that order would have answered. */
    ASSERT_TRUE(!p->replayed);
    ASSERT_EQ_INT(p->balance, tl_sql_int("SELECT balance_after FROM ledger WHERE txn_id = %lld",
                                         (long long)p->transaction_id));
  }
  /* 1,000 - 100 + 500 - 200 - 200 (refund of a fifth of the first earn) + 100 (cancelled) */
  ASSERT_EQ_INT(tl_balance(s.conn, m)->balance, 1100);
  ASSERT_EQ_INT(own_server_stop(server), 0);
  tl_check_invariants();
}

typedef struct flood {
  tl_parallel_call calls[48];
  Loyalty__V1__EarnRequest requests[48];
  pthread_t thread;
} flood;

static void *flood_main(void *arg)
{
  flood *f = arg;
  tl_call_concurrently(f->calls, 48);
  return NULL;
}

static void sigterm_with_calls_in_flight_answers_every_call(void)
{
  /* A locked member holds the one write connection, so that the calls below are all in the
   * server, waiting, when SIGTERM comes. */
  const char *extra[] = {"--write-connections", "1", "--lock-timeout-ms", "5000", NULL};
  tl_server server = own_server_start(extra);
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t blocker = tl_enroll(s.conn, "");
  int64_t members[48];
  for (int i = 0; i < 48; i++)
    members[i] = tl_enroll(s.conn, "");
  flood *f = tl_keep(calloc(1, sizeof *f));
  for (int i = 0; i < 48; i++) {
    f->requests[i] = tl_earn_request(members[i], 10000);
    f->calls[i] = (tl_parallel_call){.conn = s.conn, .method = POINTS("Earn"),
                                     .request = &f->requests[i].base};
  }
  delayed_unlock u = {.session = lock_member(blocker), .after_ms = 1000};
  background_earn held = {.conn = s.conn, .member_id = blocker};
  ASSERT_TRUE(pthread_create(&held.thread, NULL, earn_main, &held) == 0);
  sleep_ms(100);
  ASSERT_TRUE(pthread_create(&f->thread, NULL, flood_main, f) == 0);
  sleep_ms(300); /* all received, waiting behind the lock */
  ASSERT_TRUE(pthread_create(&u.thread, NULL, unlock_main, &u) == 0);
  int rc = own_server_stop(server); /* SIGTERM, then waits for the exit */
  pthread_join(f->thread, NULL);
  pthread_join(u.thread, NULL);
  pthread_join(held.thread, NULL);
  ASSERT_EQ_INT(rc, 0);
  /* Every received call was answered, and written: none CANCELLED. */
  ASSERT_STATUS(held.result, GRPC_STATUS_OK);
  for (int i = 0; i < 48; i++) {
    grpc_status_code st = f->calls[i].result.status;
    if (st != GRPC_STATUS_OK)
      tl_fail(__FILE__, __LINE__, "call %d: %s (%s)", i, lc_status_name(st),
              f->calls[i].result.message ? f->calls[i].result.message : "");
    ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %lld",
                             (long long)members[i]), 1);
  }
  tl_check_invariants();
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"a_locked_member_leaves_other_members_earns_flowing",
     a_locked_member_leaves_other_members_earns_flowing},
    {"a_hung_database_is_contained", a_hung_database_is_contained},
    {"a_batch_mixing_every_movement_answers_as_the_ledger_orders_them",
     a_batch_mixing_every_movement_answers_as_the_ledger_orders_them},
    {"sigterm_with_calls_in_flight_answers_every_call",
     sigterm_with_calls_in_flight_answers_every_call},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
