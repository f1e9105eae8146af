/*
 * test_refunds.c - refunds take back points in proportion (never more than the earn gave),
 * and the spend that counts toward tiers; at any store; from the earn's own lot first.
 */
#include "testlib.h"

static void full_refund_takes_back_exactly_what_was_given(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__EarnRequest earn = tl_hq_earn_request(m, 33333); /* 333 points */
  tl_call_ok(tl_hq, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  Loyalty__V1__PointsResult *r = TL_POINTS(tl_refund(tl_hq, m, 0, earn.order_id, 33333));
  ASSERT_EQ_INT(r->points, -333);
  ASSERT_EQ_INT(r->balance, 0);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->lifetime_spend_cents, 0);
  ASSERT_STATUS(tl_refund(tl_hq, m, 0, earn.order_id, 1), GRPC_STATUS_FAILED_PRECONDITION);
}

static void three_partial_refunds_equal_one_full(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  /* 100 yuan gives 100 points; refunds of 33.33 + 33.33 + 33.34 yuan. */
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(tl_hq, m, 10000));
  int64_t taken = 0;
  taken += TL_POINTS(tl_refund(tl_hq, m, e->transaction_id, NULL, 3333))->points;
  ASSERT_EQ_INT(taken, -33);
  taken += TL_POINTS(tl_refund(tl_hq, m, e->transaction_id, NULL, 3333))->points;
  ASSERT_EQ_INT(taken, -66);
  tl_result over = tl_refund(tl_hq, m, e->transaction_id, NULL, 3335);
  ASSERT_STATUS(over, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(over.message, "refund exceeds the remaining amount");
  taken += TL_POINTS(tl_refund(tl_hq, m, e->transaction_id, NULL, 3334))->points;
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
  Loyalty__V1__PointsResult *r = TL_POINTS(tl_refund(shop.conn, m, 0, earn.order_id, 50000));
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
  Loyalty__V1__EarnRequest big = tl_hq_earn_request(m, 300000); /* VIP */
  Loyalty__V1__PointsResult *r = (Loyalty__V1__PointsResult *)tl_call_ok(
      tl_hq, POINTS("Earn"), &big.base, &loyalty__v1__points_result__descriptor);
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_VIP);
  tl_earn(tl_hq, m, 10000); /* a small one, kept */
  r = TL_POINTS(tl_refund(tl_hq, m, 0, big.order_id, 300000));
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
  ASSERT_STATUS(tl_refund(tl_hq, m, 0, "no-such-order", 100), GRPC_STATUS_NOT_FOUND);
  /* Another member's purchase is not this member's. */
  ASSERT_STATUS(tl_refund(tl_hq, m, e->transaction_id, NULL, 100), GRPC_STATUS_NOT_FOUND);
}

static void partial_refunds_take_the_floor_of_the_refunded_share(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(tl_hq, m, 33333)); /* 333 points */
  ASSERT_EQ_INT(e->points, 333);
  /* floor(333 * 10000 / 33333) = floor(99.90...) = 99 */
  Loyalty__V1__PointsResult *r = TL_POINTS(tl_refund(tl_hq, m, e->transaction_id, NULL, 10000));
  ASSERT_EQ_INT(r->points, -99);
  ASSERT_EQ_INT(r->balance, 234);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->lifetime_spend_cents, 23333);
  /* The rest: 333 in all, so 234 now, not floor(333 * 23333 / 33333) = 233. */
  r = TL_POINTS(tl_refund(tl_hq, m, e->transaction_id, NULL, 23333));
  ASSERT_EQ_INT(r->points, -234);
  ASSERT_EQ_INT(r->balance, 0);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->lifetime_spend_cents, 0);
}

static void refund_of_a_vip_earn_is_in_proportion_to_what_it_gave(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 300000); /* 3000 points, VIP from now on */
  Loyalty__V1__EarnRequest earn = tl_hq_earn_request(m, 12345); /* 123 yuan x 1.2 = 147.6 */
  Loyalty__V1__PointsResult *e = (Loyalty__V1__PointsResult *)tl_call_ok(
      tl_hq, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  ASSERT_EQ_INT(e->points, 147);
  /* floor(147 * 5000 / 12345) = floor(59.53...) = 59 */
  ASSERT_EQ_INT(TL_POINTS(tl_refund(tl_hq, m, 0, earn.order_id, 5000))->points, -59);
  /* By transaction id, the same purchase: 147 in all. */
  ASSERT_EQ_INT(TL_POINTS(tl_refund(tl_hq, m, e->transaction_id, NULL, 7345))->points, -88);
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->balance, 3000);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 300000);
  ASSERT_EQ_INT(b->tier, LOYALTY__V1__TIER__TIER_VIP);
}

static void refund_beyond_the_purchase_is_refused_and_writes_nothing(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(tl_hq, m, 10000));
  tl_result r = tl_refund(tl_hq, m, e->transaction_id, NULL, 10001);
  ASSERT_STATUS(r, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(r.message, "refund exceeds the remaining amount");
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64, m), 1);
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->balance, 100);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 10000);
}

static void refund_takes_from_its_own_lot_first(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__EarnRequest first = tl_hq_earn_request(m, 10000); /* lot A: 100 */
  tl_call_ok(tl_hq, POINTS("Earn"), &first.base, &loyalty__v1__points_result__descriptor);
  tl_earn(tl_hq, m, 20000); /* lot B: 200, made to expire first */
  tl_sql_int("UPDATE lots SET expires_on = current_date + 30 WHERE lot_id ="
             " (SELECT max(lot_id) FROM lots WHERE member_id = %" PRId64 ") RETURNING 0", m);
  tl_redeem(tl_hq, m, 150); /* from B, expiring first: A 100, B 50 */
  ASSERT_EQ_INT(TL_POINTS(tl_refund(tl_hq, m, 0, first.order_id, 10000))->points, -100);
  /* A's own 100 went; B, which expires first, kept its 50. */
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT string_agg(remaining::text, ',' ORDER BY lot_id) FROM lots"
           " WHERE member_id = %" PRId64, m);
  ASSERT_EQ_STR(tl_sql_value(sql), "0,50");
}

static void refund_retry_replays_and_takes_once(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_WEB);
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(s.conn, m, 40000));
  Loyalty__V1__RefundRequest req = tl_refund_request(m, e->transaction_id, NULL, 10000);
  Loyalty__V1__PointsResult *first = TL_POINTS(
      tl_call(s.conn, POINTS("Refund"), &req.base, &loyalty__v1__points_result__descriptor));
  Loyalty__V1__PointsResult *again = TL_POINTS(
      tl_call(s.conn, POINTS("Refund"), &req.base, &loyalty__v1__points_result__descriptor));
  ASSERT_TRUE(!first->replayed);
  ASSERT_TRUE(again->replayed);
  ASSERT_EQ_INT(again->transaction_id, first->transaction_id);
  ASSERT_EQ_INT(again->points, -100);
  Loyalty__V1__Balance *b = tl_balance(s.conn, m);
  ASSERT_EQ_INT(b->balance, 300);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 30000);
}

static void refund_down_to_the_thresholds(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(tl_hq, m, 300000));
  ASSERT_EQ_INT(e->tier, LOYALTY__V1__TIER__TIER_VIP);
  /* Net spend exactly 500 yuan: senior. */
  Loyalty__V1__PointsResult *r = TL_POINTS(tl_refund(tl_hq, m, e->transaction_id, NULL, 250000));
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_TRUE(r->tier_changed);
  /* Everything back: ordinary, never below. */
  r = TL_POINTS(tl_refund(tl_hq, m, e->transaction_id, NULL, 50000));
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_EQ_INT(r->balance, 0);
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 0);
  /* Earns go on at ordinary's multiplier. */
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 10000))->points, 100);
}

static void only_an_earn_can_be_refunded(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000);
  Loyalty__V1__PointsResult *red = TL_POINTS(tl_redeem(tl_hq, m, 10));
  ASSERT_STATUS(tl_refund(tl_hq, m, red->transaction_id, NULL, 100), GRPC_STATUS_NOT_FOUND);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 90);
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
    {"partial_refunds_take_the_floor_of_the_refunded_share",
     partial_refunds_take_the_floor_of_the_refunded_share},
    {"refund_of_a_vip_earn_is_in_proportion_to_what_it_gave",
     refund_of_a_vip_earn_is_in_proportion_to_what_it_gave},
    {"refund_beyond_the_purchase_is_refused_and_writes_nothing",
     refund_beyond_the_purchase_is_refused_and_writes_nothing},
    {"refund_takes_from_its_own_lot_first", refund_takes_from_its_own_lot_first},
    {"refund_retry_replays_and_takes_once", refund_retry_replays_and_takes_once},
    {"refund_down_to_the_thresholds", refund_down_to_the_thresholds},
    {"only_an_earn_can_be_refunded", only_an_earn_can_be_refunded},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
