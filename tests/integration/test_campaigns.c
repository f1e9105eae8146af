/*
 * test_campaigns.c - campaigns change what an earn gives, inside their window only, where
 * they apply only; several combine by the documented rule; the till gets the explanation.
 * Campaigns apply to every earn in the database, so this runs alone and ends its own.
 */
#include <unistd.h>

#include "testlib.h"

static Loyalty__V1__Campaign *create(const char *name, int permille, int64_t bonus,
                                     const char *starts_at, const char *ends_at,
                                     Loyalty__V1__Channel *channels, size_t n_channels)
{
  Loyalty__V1__Campaign c = LOYALTY__V1__CAMPAIGN__INIT;
  c.name = (char *)name;
  c.multiplier_permille = permille;
  c.bonus_points = bonus;
  c.starts_at = (char *)starts_at;
  c.ends_at = (char *)ends_at;
  c.channels = channels;
  c.n_channels = n_channels;
  return (Loyalty__V1__Campaign *)tl_call_ok(tl_hq, ADMIN("CreateCampaign"), &c.base,
                                             &loyalty__v1__campaign__descriptor);
}

static void end(int32_t id)
{
  Loyalty__V1__EndCampaignRequest req = LOYALTY__V1__END_CAMPAIGN_REQUEST__INIT;
  req.campaign_id = id;
  tl_call_ok(tl_hq, ADMIN("EndCampaign"), &req.base, &loyalty__v1__campaign__descriptor);
}

static const char *in_seconds(int s)
{
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT to_char(now() + interval '%d seconds',"
                            " 'YYYY-MM-DD\"T\"HH24:MI:SS.USOF')", s);
  return tl_sql_value(sql);
}

static void campaigns_apply_where_and_as_documented(void)
{
  tl_store tmall = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_TMALL);
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  Loyalty__V1__Channel only_tmall[] = {LOYALTY__V1__CHANNEL__CHANNEL_TMALL};
  Loyalty__V1__Campaign *double11 =
      create("双11", 3000, 0, in_seconds(-60), in_seconds(3600), only_tmall, 1);
  Loyalty__V1__Campaign *day = create("member day", 2000, 0, in_seconds(-60), in_seconds(3600), NULL, 0);
  Loyalty__V1__Campaign *gift = create("welcome gift", 0, 50, in_seconds(-60), in_seconds(3600), NULL, 0);
  ASSERT_EQ_INT(double11->n_channels, 1);

  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  /* On Tmall: the highest multiplier (x3, not x3 x2) and the bonus: 100 x 3 + 50. */
  Loyalty__V1__PointsResult *r = TL_POINTS(tl_earn(tmall.conn, m, 10000));
  ASSERT_EQ_INT(r->points, 350);
  ASSERT_CONTAINS(r->explanation, "350 points: 100 yuan");
  ASSERT_CONTAINS(r->explanation, "x 3 campaign");
  ASSERT_CONTAINS(r->explanation, "双11");
  /* In a store: member day's x2 and the bonus. */
  ASSERT_EQ_INT(TL_POINTS(tl_earn(shop.conn, m, 10000))->points, 250);
  /* A retry gets the same explanation back. */
  Loyalty__V1__EarnRequest req = tl_earn_request(m, 20000);
  Loyalty__V1__PointsResult *first = (Loyalty__V1__PointsResult *)tl_call_ok(
      tmall.conn, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  Loyalty__V1__PointsResult *again = (Loyalty__V1__PointsResult *)tl_call_ok(
      tmall.conn, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_TRUE(again->replayed);
  ASSERT_EQ_STR(again->explanation, first->explanation);

  end(double11->campaign_id);
  end(day->campaign_id);
  end(gift->campaign_id);
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tmall.conn, m, 10000))->points, 100);
}

static void campaign_windows_hold_at_their_edges(void)
{
  /* Starts in 2 s and ends 4 s later: before, inside, after. */
  Loyalty__V1__Campaign *soon = create("flash sale", 5000, 0, in_seconds(2), in_seconds(6), NULL, 0);
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 10000))->points, 100);
  usleep(2500 * 1000);
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 10000))->points, 500);
  usleep(4000 * 1000);
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 10000))->points, 100);
  Loyalty__V1__ListCampaignsRequest list = LOYALTY__V1__LIST_CAMPAIGNS_REQUEST__INIT;
  Loyalty__V1__ListCampaignsResponse *live = (Loyalty__V1__ListCampaignsResponse *)tl_call_ok(
      tl_hq, ADMIN("ListCampaigns"), &list.base, &loyalty__v1__list_campaigns_response__descriptor);
  for (size_t i = 0; i < live->n_campaigns; i++)
    ASSERT_TRUE(live->campaigns[i]->campaign_id != soon->campaign_id);
}

static void invalid_campaigns_are_refused(void)
{
  Loyalty__V1__Campaign c = LOYALTY__V1__CAMPAIGN__INIT;
  c.name = "backwards";
  c.multiplier_permille = 2000;
  c.starts_at = "2026-12-02";
  c.ends_at = "2026-12-01";
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("CreateCampaign"), &c.base, &loyalty__v1__campaign__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  c.ends_at = "2026-12-03";
  c.multiplier_permille = 500; /* would lower points */
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("CreateCampaign"), &c.base, &loyalty__v1__campaign__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  c.multiplier_permille = 0; /* neither a multiplier nor a bonus */
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("CreateCampaign"), &c.base, &loyalty__v1__campaign__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  Loyalty__V1__EndCampaignRequest none = LOYALTY__V1__END_CAMPAIGN_REQUEST__INIT;
  none.campaign_id = 987654;
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("EndCampaign"), &none.base, &loyalty__v1__campaign__descriptor),
                GRPC_STATUS_NOT_FOUND);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"campaigns_apply_where_and_as_documented", campaigns_apply_where_and_as_documented},
    {"campaign_windows_hold_at_their_edges", campaign_windows_hold_at_their_edges},
    {"invalid_campaigns_are_refused", invalid_campaigns_are_refused},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
