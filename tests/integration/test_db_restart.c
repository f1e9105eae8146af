/*
 * test_db_restart.c - PostgreSQL goes away under the server and comes back: calls in the
 * meantime are UNAVAILABLE (quickly, nothing written), and the same server process recovers
 * by itself; calls in flight at the moment it goes are settled by their retries, once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

static void pgcluster(const char *verb)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "'%s/db/pgcluster.sh' %s '%s' >/dev/null", tl.source_dir, verb,
           tl.pgdir);
  if (system(cmd) != 0)
    tl_fail(__FILE__, __LINE__, "%s failed", cmd);
}

static int64_t now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The server that served before is the one serving now: not restarted, not crashed. */
static void assert_same_server(void)
{
  ASSERT_TRUE(tl.server_pid > 0);
  char path[64], cmdline[256] = "";
  snprintf(path, sizeof path, "/proc/%ld/cmdline", tl.server_pid);
  FILE *f = fopen(path, "r");
  ASSERT_TRUE(f != NULL);
  size_t n = fread(cmdline, 1, sizeof cmdline - 1, f);
  fclose(f);
  cmdline[n] = '\0'; /* the program's path, up to the first NUL */
  ASSERT_CONTAINS(cmdline, "loyaltyd");
}

static void restart_gives_unavailable_then_recovers(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  ASSERT_STATUS(tl_earn(s.conn, m, 10000), GRPC_STATUS_OK);

  pgcluster("stop");
  int64_t t0 = now_ms();
  Loyalty__V1__EarnRequest lost = tl_earn_request(m, 50000);
  tl_result r = tl_call(s.conn, POINTS("Earn"), &lost.base, &loyalty__v1__points_result__descriptor);
  ASSERT_STATUS(r, GRPC_STATUS_UNAVAILABLE);
  ASSERT_TRUE(now_ms() - t0 < 10000); /* refused, not hung */
  ASSERT_STATUS(tl_redeem(s.conn, m, 10), GRPC_STATUS_UNAVAILABLE);
  pgcluster("start");

  /* The same server, without a restart, works again; the refused earn was not written and
   * its retry goes through exactly once. */
  int64_t deadline = now_ms() + 20000;
  tl_result again;
  do {
    again = tl_call(s.conn, POINTS("Earn"), &lost.base, &loyalty__v1__points_result__descriptor);
    if (again.status == GRPC_STATUS_OK)
      break;
    usleep(200 * 1000);
  } while (now_ms() < deadline);
  ASSERT_STATUS(again, GRPC_STATUS_OK);
  ASSERT_TRUE(!TL_POINTS(again)->replayed);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->balance, 600);
  /* Every pooled connection was broken by the restart: many calls in a row all succeed. */
  for (int i = 0; i < 40; i++)
    ASSERT_STATUS(tl_earn(s.conn, m, 100), GRPC_STATUS_OK);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->balance, 640);
  assert_same_server();
}

/* Tills that keep earning (1 point a call) while PostgreSQL stops and starts again. */
enum { WORKERS = 6, MAX_CALLS = 2000, CALL_DEADLINE_MS = 5000 };

typedef struct worker {
  lc_conn *conn;
  int64_t member;
  atomic_int *stop;
  int calls;
  Loyalty__V1__EarnRequest *requests; /* [MAX_CALLS] */
  grpc_status_code *status;           /* [MAX_CALLS] */
  int64_t *ms;                        /* [MAX_CALLS] */
} worker;

static void *work(void *arg)
{
  worker *w = arg;
  while (!atomic_load(w->stop) && w->calls < MAX_CALLS) {
    int i = w->calls;
    w->requests[i] = tl_earn_request(w->member, 100);
    int64_t t0 = now_ms();
    w->status[i] = tl_call_timeout(w->conn, POINTS("Earn"), &w->requests[i].base,
                                   &loyalty__v1__points_result__descriptor, CALL_DEADLINE_MS)
                       .status;
    w->ms[i] = now_ms() - t0;
    w->calls++;
    usleep(20 * 1000);
  }
  return NULL;
}

static void restart_during_calls_loses_and_doubles_nothing(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  atomic_int stop = 0;
  worker workers[WORKERS];
  pthread_t threads[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    workers[i] = (worker){.conn = s.conn, .member = tl_enroll(s.conn, tl_birthday_other_month()),
                          .stop = &stop,
                          .requests = tl_keep(calloc(MAX_CALLS, sizeof(Loyalty__V1__EarnRequest))),
                          .status = tl_keep(calloc(MAX_CALLS, sizeof(grpc_status_code))),
                          .ms = tl_keep(calloc(MAX_CALLS, sizeof(int64_t)))};
    pthread_create(&threads[i], NULL, work, &workers[i]);
  }
  usleep(300 * 1000);
  pgcluster("stop");
  usleep(1500 * 1000);
  pgcluster("start");
  /* Back within 10 s, without touching the server. */
  int64_t deadline = now_ms() + 10000;
  grpc_status_code probe;
  do {
    Loyalty__V1__GetBalanceRequest req = LOYALTY__V1__GET_BALANCE_REQUEST__INIT;
    req.member_id = workers[0].member;
    probe = tl_call_timeout(s.conn, POINTS("GetBalance"), &req.base,
                            &loyalty__v1__balance__descriptor, 2000).status;
    if (probe != GRPC_STATUS_OK)
      usleep(100 * 1000);
  } while (probe != GRPC_STATUS_OK && now_ms() < deadline);
  ASSERT_EQ_STR(lc_status_name(probe), "OK");
  usleep(1000 * 1000); /* the tills go on for a second */
  atomic_store(&stop, 1);
  for (int i = 0; i < WORKERS; i++)
    pthread_join(threads[i], NULL);

  int unavailable = 0, written = 0, total = 0;
  for (int i = 0; i < WORKERS; i++) {
    worker *w = &workers[i];
    for (int c = 0; c < w->calls; c++) {
      if (w->status[c] != GRPC_STATUS_OK && w->status[c] != GRPC_STATUS_UNAVAILABLE)
        tl_fail(__FILE__, __LINE__, "earn %d of member %" PRId64 ": got %s after %" PRId64
                " ms, want OK or UNAVAILABLE", c, w->member, lc_status_name(w->status[c]), w->ms[c]);
      if (w->ms[c] >= CALL_DEADLINE_MS)
        tl_fail(__FILE__, __LINE__, "earn %d took %" PRId64 " ms: it hung", c, w->ms[c]);
      if (w->status[c] != GRPC_STATUS_UNAVAILABLE)
        continue;
      unavailable++;
      /* Whether or not it was written before the connection died, its retry settles it. */
      tl_result retry = tl_call(s.conn, POINTS("Earn"), &w->requests[c].base,
                                &loyalty__v1__points_result__descriptor);
      ASSERT_STATUS(retry, GRPC_STATUS_OK);
      ASSERT_EQ_INT(TL_POINTS(retry)->points, 1);
      written += TL_POINTS(retry)->replayed;
    }
    total += w->calls;
    /* Every request counted once: one point each. */
    ASSERT_EQ_INT(tl_balance(s.conn, w->member)->balance, w->calls);
    ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64, w->member),
                  w->calls);
  }
  printf("     %d earns, %d UNAVAILABLE (%d of them written all the same)\n", total, unavailable,
         written);
  ASSERT_TRUE(unavailable > 0); /* the outage was seen */
  assert_same_server();
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"restart_gives_unavailable_then_recovers", restart_gives_unavailable_then_recovers},
    {"restart_during_calls_loses_and_doubles_nothing",
     restart_during_calls_loses_and_doubles_nothing},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
