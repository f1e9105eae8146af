/*
 * test_db_restart.c - PostgreSQL goes away under the server and comes back: calls in the
 * meantime are UNAVAILABLE (quickly, nothing written), and the server recovers by itself.
 */
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
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"restart_gives_unavailable_then_recovers", restart_gives_unavailable_then_recovers},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
