/*
 * test_program.c - HQ changes the rules (applied from then on, recorded, validated) and
 * adjusts balances. It changes the shared program, so it runs alone and puts it back.
 */
#include <pthread.h>

#include "testlib.h"

static Loyalty__V1__Program *get_program(void)
{
  Loyalty__V1__GetProgramRequest req = LOYALTY__V1__GET_PROGRAM_REQUEST__INIT;
  return (Loyalty__V1__Program *)tl_call_ok(tl_hq, ADMIN("GetProgram"), &req.base,
                                            &loyalty__v1__program__descriptor);
}

static tl_result update_program(Loyalty__V1__Program *p)
{
  return tl_call(tl_hq, ADMIN("UpdateProgram"), &p->base, &loyalty__v1__program__descriptor);
}

static void defaults_are_the_issue_s(void)
{
  Loyalty__V1__Program *p = get_program();
  ASSERT_EQ_INT(p->points_per_yuan, 1);
  ASSERT_EQ_INT(p->senior_threshold_cents, 50000);
  ASSERT_EQ_INT(p->vip_threshold_cents, 300000);
  ASSERT_EQ_INT(p->supreme_threshold_cents, 800000);
  ASSERT_EQ_INT(p->vip_permille, 1200);
  ASSERT_EQ_INT(p->supreme_permille, 1500);
  ASSERT_EQ_INT(p->birthday_multiplier, 2);
  ASSERT_EQ_STR(p->time_zone, "Asia/Shanghai");
}

static void rule_changes_apply_from_then_on_and_are_recorded(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__PointsResult *before = TL_POINTS(tl_earn(tl_hq, m, 10000));
  ASSERT_EQ_INT(before->points, 100);
  char *changes_before = tl_sql_value("SELECT count(*) FROM program_changes");

  Loyalty__V1__Program *p = get_program();
  p->points_per_yuan = 3;
  p->min_paid_cents = 5000;
  tl_result updated = update_program(p);
  ASSERT_STATUS(updated, GRPC_STATUS_OK);
  ASSERT_EQ_INT(((Loyalty__V1__Program *)updated.response)->points_per_yuan, 3);
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 10000))->points, 300);
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 4999))->points, 0); /* under the minimum */
  /* The past is not rewritten, and the change is on record with its author. */
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT points FROM ledger WHERE txn_id = %" PRId64,
           before->transaction_id);
  ASSERT_EQ_STR(tl_sql_value(sql), "100");
  ASSERT_EQ_INT(atoi(tl_sql_value("SELECT count(*) FROM program_changes")),
                atoi(changes_before) + 1);
  ASSERT_CONTAINS(tl_sql_value("SELECT principal FROM program_changes ORDER BY change_id DESC LIMIT 1"),
                  ":test-hq");
  ASSERT_CONTAINS(tl_sql_value("SELECT old_rules FROM program_changes ORDER BY change_id DESC LIMIT 1"),
                  "(1,1,");

  p->points_per_yuan = 1;
  p->min_paid_cents = 0;
  ASSERT_STATUS(update_program(p), GRPC_STATUS_OK);
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 10000))->points, 100);
}

static void invalid_programs_are_refused(void)
{
  Loyalty__V1__Program *good = get_program();
  Loyalty__V1__Program p;
  p = *good;
  p.vip_threshold_cents = p.senior_threshold_cents; /* not increasing */
  tl_result r = update_program(&p);
  ASSERT_STATUS(r, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(r.message, "thresholds must increase");
  p = *good;
  p.vip_permille = -1;
  ASSERT_STATUS(update_program(&p), GRPC_STATUS_INVALID_ARGUMENT);
  p = *good;
  p.birthday_multiplier = 0;
  ASSERT_STATUS(update_program(&p), GRPC_STATUS_INVALID_ARGUMENT);
  p = *good;
  p.time_zone = "Mars/Olympus_Mons";
  ASSERT_STATUS(update_program(&p), GRPC_STATUS_INVALID_ARGUMENT);
  p = *good;
  p.min_paid_cents = -100;
  ASSERT_STATUS(update_program(&p), GRPC_STATUS_INVALID_ARGUMENT);
  Loyalty__V1__Program *after = get_program();
  ASSERT_EQ_INT(after->vip_threshold_cents, good->vip_threshold_cents);
  ASSERT_EQ_INT(after->vip_permille, good->vip_permille);
}

static const char *lot_expiry(int64_t member)
{
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT expires_on::text FROM lots WHERE member_id = %" PRId64
           " ORDER BY lot_id DESC LIMIT 1", member);
  return tl_sql_value(sql);
}

static void expiry_policy_dates_new_lots(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000);
  ASSERT_EQ_STR(lot_expiry(m),
                tl_sql_value("SELECT make_date(extract(year FROM (now() AT TIME ZONE"
                             " 'Asia/Shanghai'))::int + 1, 12, 31)::text"));
  Loyalty__V1__Program rules = *get_program(); /* a copy: its strings are set to literals */
  Loyalty__V1__Program *p = &rules;
  ASSERT_EQ_STR(p->expiry_policy, "year_end");
  p->expiry_policy = "rolling";
  p->expiry_months = 6;
  ASSERT_STATUS(update_program(p), GRPC_STATUS_OK);
  tl_earn(tl_hq, m, 10000);
  ASSERT_EQ_STR(lot_expiry(m),
                tl_sql_value("SELECT ((now() AT TIME ZONE 'Asia/Shanghai')::date"
                             " + interval '6 months')::date::text"));
  p->expiry_policy = "never";
  ASSERT_STATUS(update_program(p), GRPC_STATUS_OK);
  tl_earn(tl_hq, m, 10000);
  ASSERT_EQ_STR(lot_expiry(m), "infinity");
  p->expiry_policy = "sometimes";
  ASSERT_STATUS(update_program(p), GRPC_STATUS_INVALID_ARGUMENT);
  p->expiry_policy = "rolling";
  p->expiry_months = 0;
  ASSERT_STATUS(update_program(p), GRPC_STATUS_INVALID_ARGUMENT);
  p->expiry_policy = "year_end";
  p->expiry_months = 24;
  ASSERT_STATUS(update_program(p), GRPC_STATUS_OK);
  /* Lots already earned keep their dates. */
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(DISTINCT expires_on) FROM lots WHERE member_id = %" PRId64, m);
  ASSERT_EQ_STR(tl_sql_value(sql), "3");
}

static Loyalty__V1__EvaluateTiersResponse *evaluate(const char *as_of)
{
  Loyalty__V1__EvaluateTiersRequest req = LOYALTY__V1__EVALUATE_TIERS_REQUEST__INIT;
  req.as_of = (char *)as_of;
  return (Loyalty__V1__EvaluateTiersResponse *)tl_call_ok(
      tl_hq, ADMIN("EvaluateTiers"), &req.base, &loyalty__v1__evaluate_tiers_response__descriptor);
}

static void *evaluate_thread(void *as_of)
{
  return evaluate(as_of);
}

static void rolling_tiers_drop_one_tier_a_review(void)
{
  Loyalty__V1__Program rules = *get_program();
  rules.tier_policy = "rolling";
  ASSERT_STATUS(update_program(&rules), GRPC_STATUS_OK);
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 300000))->tier, LOYALTY__V1__TIER__TIER_VIP);

  /* Reviewed on dates 13 and 14 months on, the purchase is out of the window: one tier down
   * each time, never more; the same date twice, or at once, moves nobody twice. */
  const char *d13 = tl_sql_value("SELECT (current_date + interval '13 months')::date::text");
  const char *d14 = tl_sql_value("SELECT (current_date + interval '14 months')::date::text");
  pthread_t a, b;
  void *ra, *rb;
  pthread_create(&a, NULL, evaluate_thread, (void *)d13);
  pthread_create(&b, NULL, evaluate_thread, (void *)d13);
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  ASSERT_EQ_INT(((Loyalty__V1__EvaluateTiersResponse *)ra)->already_done +
                    ((Loyalty__V1__EvaluateTiersResponse *)rb)->already_done,
                1);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_TRUE(evaluate(d13)->already_done);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  evaluate(d14);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT string_agg(reason, ',' ORDER BY change_id) FROM tier_changes"
           " WHERE member_id = %" PRId64, m);
  ASSERT_EQ_STR(tl_sql_value(sql), "purchase,review,review");
  /* Under the rolling policy a purchase counts the last 12 months: today's VIP spend. */
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 1000))->tier, LOYALTY__V1__TIER__TIER_VIP);

  /* HQ's override is in the history too, with its reason. */
  Loyalty__V1__SetTierRequest set = LOYALTY__V1__SET_TIER_REQUEST__INIT;
  set.member_id = m;
  set.tier = LOYALTY__V1__TIER__TIER_SUPREME;
  set.reason = "brand ambassador";
  Loyalty__V1__Balance *after = (Loyalty__V1__Balance *)tl_call_ok(
      tl_hq, ADMIN("SetTier"), &set.base, &loyalty__v1__balance__descriptor);
  ASSERT_EQ_INT(after->tier, LOYALTY__V1__TIER__TIER_SUPREME);
  ASSERT_EQ_STR(tl_sql_value(sql), "purchase,review,review,purchase,hq: brand ambassador");
  set.reason = "";
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("SetTier"), &set.base, &loyalty__v1__balance__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);

  rules.tier_policy = "lifetime";
  ASSERT_STATUS(update_program(&rules), GRPC_STATUS_OK);
  rules.tier_policy = "weekly";
  ASSERT_STATUS(update_program(&rules), GRPC_STATUS_INVALID_ARGUMENT);
}

/* The first date from `from` (an SQL date expression) on that no review has used: reviews run
 * once per date, and the tests of the SERIAL programs share one database. */
static const char *unreviewed_date(const char *from)
{
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT min(d)::date::text FROM generate_series(%s, %s + 3650, interval '1 day') d"
           " WHERE d::date NOT IN (SELECT as_of FROM tier_reviews)", from, from);
  return tl_sql_value(sql);
}

static void set_tier(int64_t member, Loyalty__V1__Tier tier, const char *reason)
{
  Loyalty__V1__SetTierRequest req = LOYALTY__V1__SET_TIER_REQUEST__INIT;
  req.member_id = member;
  req.tier = tier;
  req.reason = (char *)reason;
  tl_call_ok(tl_hq, ADMIN("SetTier"), &req.base, &loyalty__v1__balance__descriptor);
}

static const char *last_tier_change(int64_t member)
{
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT old_tier || '->' || new_tier || ' ' || reason FROM tier_changes"
           " WHERE member_id = %" PRId64 " ORDER BY change_id DESC LIMIT 1", member);
  return tl_sql_value(sql);
}

/* The yearly review moves a member whose tier is above what the policy's spend gives down one
 * tier, under either policy: so an HQ override above the spend is undone a tier a year. */
static void tier_review_moves_an_override_down_one_tier_under_either_policy(void)
{
  /* lifetime (the default): a supreme by HQ's word with 100 yuan of spend, and a VIP by
   * spend; reviewed on a date years on, when the last 12 months hold no spend at all. */
  int64_t overridden = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, overridden, 10000);
  set_tier(overridden, LOYALTY__V1__TIER__TIER_SUPREME, "courtesy");
  int64_t vip = tl_enroll(tl_hq, tl_birthday_other_month());
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, vip, 300000))->tier, LOYALTY__V1__TIER__TIER_VIP);
  const char *date = unreviewed_date("current_date + 3650");
  Loyalty__V1__EvaluateTiersResponse *review = evaluate(date);
  ASSERT_TRUE(!review->already_done);
  ASSERT_TRUE(review->members_moved >= 1);
  ASSERT_EQ_INT(tl_balance(tl_hq, overridden)->tier, LOYALTY__V1__TIER__TIER_VIP);
  ASSERT_EQ_STR(last_tier_change(overridden), "4->3 review");
  ASSERT_EQ_INT(tl_balance(tl_hq, vip)->tier, LOYALTY__V1__TIER__TIER_VIP); /* lifetime spend */
  ASSERT_TRUE(evaluate(date)->already_done);
  ASSERT_EQ_INT(tl_balance(tl_hq, overridden)->tier, LOYALTY__V1__TIER__TIER_VIP);

  /* rolling: a VIP by this year's spend made supreme, reviewed while the spend is in the
   * window. (Read, put the policy back, then check: a failure must not leave it rolling.) */
  Loyalty__V1__Program rules = *get_program();
  rules.tier_policy = "rolling";
  ASSERT_STATUS(update_program(&rules), GRPC_STATUS_OK);
  int64_t rolling = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, rolling, 300000);
  set_tier(rolling, LOYALTY__V1__TIER__TIER_SUPREME, "courtesy");
  bool already_done = evaluate(unreviewed_date("current_date + 2"))->already_done;
  Loyalty__V1__Tier rolling_tier = tl_balance(tl_hq, rolling)->tier;
  rules.tier_policy = "lifetime";
  ASSERT_STATUS(update_program(&rules), GRPC_STATUS_OK);
  ASSERT_TRUE(!already_done);
  ASSERT_EQ_INT(rolling_tier, LOYALTY__V1__TIER__TIER_VIP);
  ASSERT_EQ_STR(last_tier_change(rolling), "4->3 review");
}

/* Under the rolling policy the next tier is reached by the spend of the last 12 months, and
 * GetBalance says how much more of it is needed, not how much more lifetime spend. */
static void rolling_balance_counts_the_last_12_months_to_the_next_tier(void)
{
  Loyalty__V1__Program rules = *get_program();
  rules.tier_policy = "rolling";
  ASSERT_STATUS(update_program(&rules), GRPC_STATUS_OK);
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 100000); /* 1,000 yuan this year: senior */
  /* As if 6,000 yuan more had been bought years ago: lifetime 7,000 yuan. */
  char sql[256];
  snprintf(sql, sizeof sql,
           "UPDATE members SET lifetime_spend_cents = lifetime_spend_cents + 600000"
           " WHERE member_id = %" PRId64, m);
  tl_sql(sql);
  Loyalty__V1__Balance b = *tl_balance(tl_hq, m);
  /* Put everything back before checking: a failure must not leave the policy rolling. */
  snprintf(sql, sizeof sql,
           "UPDATE members SET lifetime_spend_cents = lifetime_spend_cents - 600000"
           " WHERE member_id = %" PRId64, m);
  tl_sql(sql);
  rules.tier_policy = "lifetime";
  ASSERT_STATUS(update_program(&rules), GRPC_STATUS_OK);
  ASSERT_EQ_INT(b.tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_EQ_INT(b.next_tier, LOYALTY__V1__TIER__TIER_VIP);
  ASSERT_EQ_INT(b.spend_to_next_tier_cents, 300000 - 100000);
}

/* The earn formula Earn runs (db/functions/earn.sql), at the edges of a month in the
 * brand's time zone (the clock of a running server cannot be moved, the moment the formula
 * is given can). */
static const char *points_at(const char *utc_instant, const char *birthday)
{
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT e.points FROM program p, loyalty_earn_points(p, 10000, 1::smallint, '%s',"
           " NULL, '%s'::timestamptz) e",
           birthday, utc_instant);
  return tl_sql_value(sql);
}

static void birthday_month_follows_the_brand_time_zone(void)
{
  /* 16:00 UTC on November 30 is midnight, December 1, in Shanghai. */
  ASSERT_EQ_STR(points_at("2026-11-30 15:59:59+00", "1990-12-15"), "100");
  ASSERT_EQ_STR(points_at("2026-11-30 16:00:00+00", "1990-12-15"), "200");
  ASSERT_EQ_STR(points_at("2026-11-30 16:00:00+00", "1990-11-15"), "100");
  ASSERT_EQ_STR(points_at("2026-12-31 15:59:59+00", "1990-12-01"), "200");
  ASSERT_EQ_STR(points_at("2026-12-31 16:00:00+00", "1990-12-01"), "100");
  /* Another brand's time zone moves the edge with it. */
  Loyalty__V1__Program rules = *get_program();
  rules.time_zone = "Europe/Paris";
  ASSERT_STATUS(update_program(&rules), GRPC_STATUS_OK);
  ASSERT_EQ_STR(points_at("2026-11-30 16:00:00+00", "1990-12-15"), "100");
  ASSERT_EQ_STR(points_at("2026-11-30 23:00:00+00", "1990-12-15"), "200");
  rules.time_zone = "Asia/Shanghai";
  ASSERT_STATUS(update_program(&rules), GRPC_STATUS_OK);
}

static tl_result adjust(int64_t member, int64_t points, const char *reason, const char *request_id)
{
  Loyalty__V1__AdjustPointsRequest req = LOYALTY__V1__ADJUST_POINTS_REQUEST__INIT;
  req.request_id = (char *)request_id;
  req.member_id = member;
  req.points = points;
  req.reason = (char *)reason;
  return tl_call(tl_hq, ADMIN("AdjustPoints"), &req.base, &loyalty__v1__points_result__descriptor);
}

static void adjustments_correct_balances_with_a_reason(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000);
  const char *id = tl_unique("adj");
  Loyalty__V1__PointsResult *up = TL_POINTS(adjust(m, 500, "goodwill: late delivery", id));
  ASSERT_EQ_INT(up->points, 500);
  ASSERT_EQ_INT(up->balance, 600);
  ASSERT_TRUE(TL_POINTS(adjust(m, 500, "goodwill: late delivery", id))->replayed);
  Loyalty__V1__PointsResult *down = TL_POINTS(adjust(m, -650, "till keyed twice", tl_unique("adj")));
  ASSERT_EQ_INT(down->balance, -50);
  ASSERT_STATUS(adjust(m, 10, "", tl_unique("adj")), GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_STATUS(adjust(m, 0, "nothing", tl_unique("adj")), GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_STATUS(adjust(987654321, 10, "nobody", tl_unique("adj")), GRPC_STATUS_NOT_FOUND);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT kind || ' ' || reason FROM ledger WHERE member_id = %" PRId64
           " ORDER BY txn_id DESC LIMIT 1", m);
  ASSERT_EQ_STR(tl_sql_value(sql), "adjustment till keyed twice");
  snprintf(sql, sizeof sql,
           "SELECT principal FROM ledger WHERE member_id = %" PRId64 " AND kind = 'adjustment'"
           " LIMIT 1", m);
  ASSERT_CONTAINS(tl_sql_value(sql), ":test-hq");
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"defaults_are_the_issue_s", defaults_are_the_issue_s},
    {"rule_changes_apply_from_then_on_and_are_recorded",
     rule_changes_apply_from_then_on_and_are_recorded},
    {"invalid_programs_are_refused", invalid_programs_are_refused},
    {"expiry_policy_dates_new_lots", expiry_policy_dates_new_lots},
    {"rolling_tiers_drop_one_tier_a_review", rolling_tiers_drop_one_tier_a_review},
    {"tier_review_moves_an_override_down_one_tier_under_either_policy",
     tier_review_moves_an_override_down_one_tier_under_either_policy},
    {"rolling_balance_counts_the_last_12_months_to_the_next_tier",
     rolling_balance_counts_the_last_12_months_to_the_next_tier},
    {"birthday_month_follows_the_brand_time_zone", birthday_month_follows_the_brand_time_zone},
    {"adjustments_correct_balances_with_a_reason", adjustments_correct_balances_with_a_reason},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
