/*
 * test_cancel.c - cancelling a redemption gives its points back to the lots they came from,
 * covering a debt first, once.
 */
#include "testlib.h"

static const char *lots_of(int64_t member)
{
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT string_agg(remaining::text, ',' ORDER BY lot_id) FROM lots"
           " WHERE member_id = %" PRId64, member);
  return tl_sql_value(sql);
}

static void cancelled_redemption_gives_points_back_once(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 30000);
  Loyalty__V1__PointsResult *red = TL_POINTS(tl_redeem(tl_hq, m, 250));
  ASSERT_EQ_INT(red->balance, 50);
  Loyalty__V1__PointsResult *c = TL_POINTS(tl_cancel(tl_hq, m, red->transaction_id));
  ASSERT_EQ_INT(c->points, 250);
  ASSERT_EQ_INT(c->balance, 300);
  ASSERT_TRUE(c->transaction_id != red->transaction_id);
  tl_result twice = tl_cancel(tl_hq, m, red->transaction_id);
  ASSERT_STATUS(twice, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(twice.message, "redemption already cancelled");
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 300);
  ASSERT_EQ_STR(lots_of(m), "300");
}

static void points_go_back_to_their_lots_with_their_expiry(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000); /* lot A: 100, made to expire in 10 days */
  tl_earn(tl_hq, m, 20000); /* lot B: 200, end of next year */
  char sql[256];
  snprintf(sql, sizeof sql,
           "UPDATE lots SET expires_on = current_date + 10 WHERE lot_id ="
           " (SELECT min(lot_id) FROM lots WHERE member_id = %" PRId64 ")", m);
  tl_sql(sql);
  Loyalty__V1__PointsResult *red = TL_POINTS(tl_redeem(tl_hq, m, 150)); /* A 0, B 150 */
  ASSERT_EQ_STR(lots_of(m), "0,150");
  tl_earn(tl_hq, m, 5000); /* lot C: 50, untouched by the cancellation */
  TL_POINTS(tl_cancel(tl_hq, m, red->transaction_id));
  ASSERT_EQ_STR(lots_of(m), "100,200,50");
  /* A's 100 still expire in 10 days. */
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->balance, 350);
  ASSERT_EQ_INT(b->n_expiring, 1);
  ASSERT_EQ_INT(b->expiring[0]->points, 100);
  ASSERT_EQ_STR(b->expiring[0]->expires_on,
                tl_sql_value("SELECT to_char(current_date + 10, 'YYYY-MM-DD')"));
}

static void cancel_with_a_debt_covers_the_debt_first(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__EarnRequest big = tl_hq_earn_request(m, 50000); /* 500 */
  tl_call_ok(tl_hq, POINTS("Earn"), &big.base, &loyalty__v1__points_result__descriptor);
  tl_earn(tl_hq, m, 10000);                                      /* 100: 600 */
  Loyalty__V1__PointsResult *red = TL_POINTS(tl_redeem(tl_hq, m, 500)); /* 100 */
  Loyalty__V1__PointsResult *r = TL_POINTS(tl_refund(tl_hq, m, 0, big.order_id, 50000));
  ASSERT_EQ_INT(r->balance, -400);
  ASSERT_EQ_STR(lots_of(m), "0,0");
  /* 500 back: 400 pay the debt, 100 go to the lots. */
  Loyalty__V1__PointsResult *c = TL_POINTS(tl_cancel(tl_hq, m, red->transaction_id));
  ASSERT_EQ_INT(c->points, 500);
  ASSERT_EQ_INT(c->balance, 100);
  ASSERT_EQ_INT(tl_sql_int("SELECT sum(remaining) FROM lots WHERE member_id = %" PRId64, m), 100);
  ASSERT_EQ_INT(TL_POINTS(tl_redeem(tl_hq, m, 100))->balance, 0);
}

static void cancel_retry_replays(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  tl_earn(s.conn, m, 20000);
  Loyalty__V1__PointsResult *red = TL_POINTS(tl_redeem(s.conn, m, 120));
  Loyalty__V1__CancelRedemptionRequest req = LOYALTY__V1__CANCEL_REDEMPTION_REQUEST__INIT;
  req.request_id = (char *)tl_unique("c");
  req.member_id = m;
  req.redemption_id = red->transaction_id;
  Loyalty__V1__PointsResult *first = TL_POINTS(tl_call(
      s.conn, POINTS("CancelRedemption"), &req.base, &loyalty__v1__points_result__descriptor));
  Loyalty__V1__PointsResult *again = TL_POINTS(tl_call(
      s.conn, POINTS("CancelRedemption"), &req.base, &loyalty__v1__points_result__descriptor));
  ASSERT_TRUE(!first->replayed);
  ASSERT_TRUE(again->replayed);
  ASSERT_EQ_INT(again->transaction_id, first->transaction_id);
  ASSERT_EQ_INT(again->balance, 200);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->balance, 200);
}

static void only_a_redemption_of_the_member_can_be_cancelled(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  int64_t other = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__PointsResult *earn = TL_POINTS(tl_earn(tl_hq, m, 10000));
  tl_earn(tl_hq, other, 10000);
  Loyalty__V1__PointsResult *theirs = TL_POINTS(tl_redeem(tl_hq, other, 50));
  ASSERT_STATUS(tl_cancel(tl_hq, m, 987654321), GRPC_STATUS_NOT_FOUND);
  ASSERT_STATUS(tl_cancel(tl_hq, m, earn->transaction_id), GRPC_STATUS_NOT_FOUND);
  ASSERT_STATUS(tl_cancel(tl_hq, m, theirs->transaction_id), GRPC_STATUS_NOT_FOUND);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 100);
  ASSERT_EQ_INT(tl_balance(tl_hq, other)->balance, 50);
}

static void cancel_leaves_spend_and_tier_alone(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 50000); /* senior */
  Loyalty__V1__PointsResult *red = TL_POINTS(tl_redeem(tl_hq, m, 300));
  Loyalty__V1__PointsResult *c = TL_POINTS(tl_cancel(tl_hq, m, red->transaction_id));
  ASSERT_EQ_INT(c->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_TRUE(!c->tier_changed);
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->balance, 500);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 50000);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"cancelled_redemption_gives_points_back_once", cancelled_redemption_gives_points_back_once},
    {"points_go_back_to_their_lots_with_their_expiry",
     points_go_back_to_their_lots_with_their_expiry},
    {"cancel_with_a_debt_covers_the_debt_first", cancel_with_a_debt_covers_the_debt_first},
    {"cancel_retry_replays", cancel_retry_replays},
    {"only_a_redemption_of_the_member_can_be_cancelled",
     only_a_redemption_of_the_member_can_be_cancelled},
    {"cancel_leaves_spend_and_tier_alone", cancel_leaves_spend_and_tier_alone},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
