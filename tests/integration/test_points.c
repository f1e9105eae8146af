/*
 * test_points.c - earning and redeeming: the formula, tiers, birthday month, overdraw.
 */
#include "testlib.h"

static void earn_is_one_point_per_whole_yuan(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__PointsResult *r = TL_POINTS(tl_earn(tl_hq, m, 19999)); /* 199.99 yuan */
  ASSERT_EQ_INT(r->points, 199);
  ASSERT_EQ_INT(r->balance, 199);
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_TRUE(r->tier_changed); /* none -> ordinary at the first purchase */
  ASSERT_TRUE(!r->replayed);
  r = TL_POINTS(tl_earn(tl_hq, m, 99)); /* under one yuan: no points, still a purchase */
  ASSERT_EQ_INT(r->points, 0);
  ASSERT_TRUE(!r->tier_changed);
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 20098);
}

static void tiers_upgrade_in_the_same_transaction(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__PointsResult *r = TL_POINTS(tl_earn(tl_hq, m, 49999));
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  r = TL_POINTS(tl_earn(tl_hq, m, 1)); /* exactly 500 yuan: senior */
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_TRUE(r->tier_changed);
  r = TL_POINTS(tl_earn(tl_hq, m, 250000)); /* 3,000 yuan: VIP, earned at senior's 1.0 */
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_VIP);
  ASSERT_EQ_INT(r->points, 2500);
  r = TL_POINTS(tl_earn(tl_hq, m, 100000)); /* as VIP: x1.2 */
  ASSERT_EQ_INT(r->points, 1200);
  r = TL_POINTS(tl_earn(tl_hq, m, 400000)); /* 8,000 yuan: supreme, earned at VIP's 1.2 */
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_SUPREME);
  ASSERT_EQ_INT(r->points, 4800);
  r = TL_POINTS(tl_earn(tl_hq, m, 10000)); /* as supreme: x1.5 */
  ASSERT_EQ_INT(r->points, 150);
  r = TL_POINTS(tl_earn(tl_hq, m, 333)); /* 3 whole yuan x1.5 = 4.5: rounded down */
  ASSERT_EQ_INT(r->points, 4);
}

static void birthday_month_doubles(void)
{
  int64_t birthday = tl_enroll(tl_hq, tl_birthday_this_month());
  int64_t other = tl_enroll(tl_hq, tl_birthday_other_month());
  int64_t unknown = tl_enroll(tl_hq, "");
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, birthday, 12345))->points, 246);
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, other, 12345))->points, 123);
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, unknown, 12345))->points, 123);
}

static void redeem_never_overdraws(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000);
  tl_result r = tl_redeem(tl_hq, m, 101);
  ASSERT_STATUS(r, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(r.message, "insufficient points");
  ASSERT_CONTAINS(r.message, "balance 100");
  Loyalty__V1__PointsResult *ok = TL_POINTS(tl_redeem(tl_hq, m, 100));
  ASSERT_EQ_INT(ok->points, -100);
  ASSERT_EQ_INT(ok->balance, 0);
  ASSERT_STATUS(tl_redeem(tl_hq, m, 1), GRPC_STATUS_FAILED_PRECONDITION);
}

static void redeem_spends_the_lots_expiring_first(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000); /* lot A: 100 */
  tl_earn(tl_hq, m, 20000); /* lot B: 200 */
  /* Make lot B expire first. */
  char sql[512];
  snprintf(sql, sizeof sql,
           "UPDATE lots SET expires_on = current_date + 30 WHERE lot_id ="
           " (SELECT max(lot_id) FROM lots WHERE member_id = %" PRId64 ")", m);
  tl_sql(sql);
  tl_redeem(tl_hq, m, 150);
  snprintf(sql, sizeof sql,
           "SELECT string_agg(remaining::text, ',' ORDER BY lot_id) FROM lots"
           " WHERE member_id = %" PRId64, m);
  ASSERT_EQ_STR(tl_sql_value(sql), "100,50");
}

static void same_order_earns_once(void)
{
  int64_t m = tl_enroll(tl_hq, "");
  Loyalty__V1__EarnRequest req = tl_hq_earn_request(m, 10000);
  tl_call_ok(tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  req.request_id = (char *)tl_unique("e"); /* a new request for an order already earned */
  tl_result r = tl_call(tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_STATUS(r, GRPC_STATUS_ALREADY_EXISTS);
  ASSERT_CONTAINS(r.message, "order already earned");
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 100);
}

static void birthday_and_tier_multiply_before_rounding(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_this_month());
  Loyalty__V1__PointsResult *r = TL_POINTS(tl_earn(tl_hq, m, 300000)); /* ordinary x2 */
  ASSERT_EQ_INT(r->points, 6000);
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_VIP);
  r = TL_POINTS(tl_earn(tl_hq, m, 12345)); /* 123 x 1.2 x 2 = 295.2 */
  ASSERT_EQ_INT(r->points, 295);
  r = TL_POINTS(tl_earn(tl_hq, m, 500000)); /* 5000 x 1.2 x 2, supreme after */
  ASSERT_EQ_INT(r->points, 12000);
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_SUPREME);
  /* 3 x 1.5 x 2 = 9: rounded once, at the end (not floor(4.5) x 2 = 8). */
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 333))->points, 9);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 6000 + 295 + 12000 + 9);
}

static Loyalty__V1__Balance *set_tier(int64_t member, Loyalty__V1__Tier tier, const char *reason)
{
  Loyalty__V1__SetTierRequest req = LOYALTY__V1__SET_TIER_REQUEST__INIT;
  req.member_id = member;
  req.tier = tier;
  req.reason = (char *)reason;
  return (Loyalty__V1__Balance *)tl_call_ok(tl_hq, ADMIN("SetTier"), &req.base,
                                            &loyalty__v1__balance__descriptor);
}

/* The member's tier history, "old->new reason" in order, comma-separated. */
static const char *tier_history(int64_t member)
{
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT string_agg(old_tier || '->' || new_tier || ' ' || reason, ','"
           " ORDER BY change_id) FROM tier_changes WHERE member_id = %" PRId64, member);
  return tl_sql_value(sql);
}

/* HQ's override holds: a purchase never lowers a tier (the tier after it is the higher of
 * the current one and what the net spend gives), a refund never raises one (the lower). */
static void hq_tier_override_survives_a_purchase_not_a_refund(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000); /* ordinary */
  ASSERT_EQ_INT(set_tier(m, LOYALTY__V1__TIER__TIER_SUPREME, "brand ambassador")->tier,
                LOYALTY__V1__TIER__TIER_SUPREME);
  Loyalty__V1__EarnRequest earn = tl_hq_earn_request(m, 50000); /* 600 yuan in all: senior */
  Loyalty__V1__PointsResult *r = (Loyalty__V1__PointsResult *)tl_call_ok(
      tl_hq, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  ASSERT_EQ_INT(r->points, 750); /* at supreme's x1.5 */
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_SUPREME);
  ASSERT_TRUE(!r->tier_changed);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->tier, LOYALTY__V1__TIER__TIER_SUPREME);
  ASSERT_EQ_STR(tier_history(m), "0->1 purchase,1->4 hq: brand ambassador");
  /* A refund brings it to what the net spend gives: 500 yuan, senior. */
  r = TL_POINTS(tl_refund(tl_hq, m, 0, earn.order_id, 10000));
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_TRUE(r->tier_changed);
  ASSERT_EQ_STR(tier_history(m), "0->1 purchase,1->4 hq: brand ambassador,4->2 refund");
  /* And a refund never raises one: HQ lowers it to ordinary; a refund leaving 550 yuan (which
   * gives senior) keeps it there. */
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 10000))->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  set_tier(m, LOYALTY__V1__TIER__TIER_ORDINARY, "correction");
  r = TL_POINTS(tl_refund(tl_hq, m, 0, earn.order_id, 5000));
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_TRUE(!r->tier_changed);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"earn_is_one_point_per_whole_yuan", earn_is_one_point_per_whole_yuan},
    {"tiers_upgrade_in_the_same_transaction", tiers_upgrade_in_the_same_transaction},
    {"birthday_month_doubles", birthday_month_doubles},
    {"birthday_and_tier_multiply_before_rounding", birthday_and_tier_multiply_before_rounding},
    {"redeem_never_overdraws", redeem_never_overdraws},
    {"redeem_spends_the_lots_expiring_first", redeem_spends_the_lots_expiring_first},
    {"same_order_earns_once", same_order_earns_once},
    {"hq_tier_override_survives_a_purchase_not_a_refund",
     hq_tier_override_survives_a_purchase_not_a_refund},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
