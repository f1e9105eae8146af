/*
 * test_refunds.c - refunds take back points in proportion and spend toward tiers;
 * cancelled redemptions give points back.
 */
#include "testlib.h"

static tl_result refund(lc_conn *conn, int64_t member, int64_t earn_txn, const char *order,
                        int64_t amount_cents)
{
  Loyalty__V1__RefundRequest req = LOYALTY__V1__REFUND_REQUEST__INIT;
  req.request_id = (char *)tl_unique("f");
  req.member_id = member;
  if (order != NULL) {
    req.original_case = LOYALTY__V1__REFUND_REQUEST__ORIGINAL_ORDER_ID;
    req.order_id = (char *)order;
  } else {
    req.original_case = LOYALTY__V1__REFUND_REQUEST__ORIGINAL_TRANSACTION_ID;
    req.transaction_id = earn_txn;
  }
  req.amount_cents = amount_cents;
  return tl_call(conn, POINTS("Refund"), &req.base, &loyalty__v1__points_result__descriptor);
}

static tl_result cancel(lc_conn *conn, int64_t member, int64_t redemption)
{
  Loyalty__V1__CancelRedemptionRequest req = LOYALTY__V1__CANCEL_REDEMPTION_REQUEST__INIT;
  req.request_id = (char *)tl_unique("c");
  req.member_id = member;
  req.redemption_id = redemption;
  return tl_call(conn, POINTS("CancelRedemption"), &req.base,
                 &loyalty__v1__points_result__descriptor);
}

static void full_refund_takes_back_exactly_what_was_given(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__EarnRequest earn = tl_earn_request(m, 33333); /* 333 points */
  tl_call_ok(tl_hq, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  Loyalty__V1__PointsResult *r = TL_POINTS(refund(tl_hq, m, 0, earn.order_id, 33333));
  ASSERT_EQ_INT(r->points, -333);
  ASSERT_EQ_INT(r->balance, 0);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->lifetime_spend_cents, 0);
  ASSERT_STATUS(refund(tl_hq, m, 0, earn.order_id, 1), GRPC_STATUS_FAILED_PRECONDITION);
}

static void three_partial_refunds_equal_one_full(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  /* 100 yuan gives 100 points; refunds of 33.33 + 33.33 + 33.34 yuan. */
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(tl_hq, m, 10000));
  int64_t taken = 0;
  taken += TL_POINTS(refund(tl_hq, m, e->transaction_id, NULL, 3333))->points;
  ASSERT_EQ_INT(taken, -33);
  taken += TL_POINTS(refund(tl_hq, m, e->transaction_id, NULL, 3333))->points;
  ASSERT_EQ_INT(taken, -66);
  tl_result over = refund(tl_hq, m, e->transaction_id, NULL, 3335);
  ASSERT_STATUS(over, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(over.message, "refund exceeds the remaining amount");
  taken += TL_POINTS(refund(tl_hq, m, e->transaction_id, NULL, 3334))->points;
  ASSERT_EQ_INT(taken, -100);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 0);
}

static void refund_at_another_store_after_spending_goes_negative(void)
{
  tl_store online = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_TMALL);
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(online.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest earn = tl_earn_request(m, 50000); /* 500 points */
  tl_call_ok(online.conn, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  tl_redeem(online.conn, m, 400);
  /* Bought online, returned in a store: the 400 points spent make the balance negative. */
  Loyalty__V1__PointsResult *r = TL_POINTS(refund(shop.conn, m, 0, earn.order_id, 50000));
  ASSERT_EQ_INT(r->points, -500);
  ASSERT_EQ_INT(r->balance, -400);
  tl_result refused = tl_redeem(shop.conn, m, 1);
  ASSERT_STATUS(refused, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(refused.message, "balance -400");
  /* A new purchase pays the debt first. */
  ASSERT_EQ_INT(TL_POINTS(tl_earn(shop.conn, m, 100000))->balance, 600);
}

static void refund_moves_the_tier_down(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__EarnRequest big = tl_earn_request(m, 300000); /* VIP */
  Loyalty__V1__PointsResult *r = (Loyalty__V1__PointsResult *)tl_call_ok(
      tl_hq, POINTS("Earn"), &big.base, &loyalty__v1__points_result__descriptor);
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_VIP);
  tl_earn(tl_hq, m, 10000); /* a small one, kept */
  r = TL_POINTS(refund(tl_hq, m, 0, big.order_id, 300000));
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_TRUE(r->tier_changed);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->lifetime_spend_cents, 10000);
  /* The history says how it got there. */
  Loyalty__V1__ListTierChangesRequest history = LOYALTY__V1__LIST_TIER_CHANGES_REQUEST__INIT;
  history.member_id = m;
  Loyalty__V1__ListTierChangesResponse *changes = (Loyalty__V1__ListTierChangesResponse *)
      tl_call_ok(tl_hq, ADMIN("ListTierChanges"), &history.base,
                 &loyalty__v1__list_tier_changes_response__descriptor);
  ASSERT_EQ_INT(changes->n_changes, 2);
  ASSERT_EQ_INT(changes->changes[0]->old_tier, LOYALTY__V1__TIER__TIER_UNSPECIFIED);
  ASSERT_EQ_INT(changes->changes[0]->new_tier, LOYALTY__V1__TIER__TIER_VIP);
  ASSERT_EQ_STR(changes->changes[0]->reason, "purchase");
  ASSERT_EQ_INT(changes->changes[1]->new_tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_EQ_STR(changes->changes[1]->reason, "refund");
}

static void refund_of_unknown_purchase_is_not_found(void)
{
  int64_t m = tl_enroll(tl_hq, "");
  int64_t other = tl_enroll(tl_hq, "");
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(tl_hq, other, 10000));
  ASSERT_STATUS(refund(tl_hq, m, 0, "no-such-order", 100), GRPC_STATUS_NOT_FOUND);
  /* Another member's purchase is not this member's. */
  ASSERT_STATUS(refund(tl_hq, m, e->transaction_id, NULL, 100), GRPC_STATUS_NOT_FOUND);
}

static void cancelled_redemption_gives_points_back_once(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 30000);
  Loyalty__V1__PointsResult *red = TL_POINTS(tl_redeem(tl_hq, m, 250));
  ASSERT_EQ_INT(red->balance, 50);
  Loyalty__V1__PointsResult *c = TL_POINTS(cancel(tl_hq, m, red->transaction_id));
  ASSERT_EQ_INT(c->points, 250);
  ASSERT_EQ_INT(c->balance, 300);
  tl_result twice = cancel(tl_hq, m, red->transaction_id);
  ASSERT_STATUS(twice, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(twice.message, "already cancelled");
  ASSERT_STATUS(cancel(tl_hq, m, 987654321), GRPC_STATUS_NOT_FOUND);
  /* The points went back to the lot they came from, with its expiry. */
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT sum(remaining) FROM lots WHERE member_id = %" PRId64, m);
  ASSERT_EQ_STR(tl_sql_value(sql), "300");
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"full_refund_takes_back_exactly_what_was_given", full_refund_takes_back_exactly_what_was_given},
    {"three_partial_refunds_equal_one_full", three_partial_refunds_equal_one_full},
    {"refund_at_another_store_after_spending_goes_negative",
     refund_at_another_store_after_spending_goes_negative},
    {"refund_moves_the_tier_down", refund_moves_the_tier_down},
    {"refund_of_unknown_purchase_is_not_found", refund_of_unknown_purchase_is_not_found},
    {"cancelled_redemption_gives_points_back_once", cancelled_redemption_gives_points_back_once},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
