/*
 * test_reports_points.c - HQ's points reports (docs/analytics.md): the liability of a period,
 * cross-store settlement, a campaign's cost; and the earn's campaign points in the hash
 * chain.
 *
 * A report counts a whole brand, so each test makes a brand of its own (report_brand.c,
 * shared with test_reports_members.c). Movements are dated with occurred_at through
 * the HQ key. The liability is checked against a brute-force computation from the ledger's
 * rows in C (model_liability), and against lots.remaining today; settlement and campaign
 * cost against numbers written out by hand from what the test made.
 */
#include <libpq-fe.h>
#include <limits.h>
#include <unistd.h>

#include "report_brand.h"


/* --- movements the scaffolding above does not make ------------------------------------------ */

static int64_t redeem_at_store(int64_t member, const char *store, int64_t points)
{
  Loyalty__V1__RedeemRequest req = tl_redeem_request(member, points);
  req.store_code = (char *)(store ? store : "");
  return TL_POINTS(tl_call(brand.hq, POINTS("Redeem"), &req.base,
                           &loyalty__v1__points_result__descriptor))->transaction_id;
}

static void cancel(int64_t member, int64_t redemption)
{
  TL_POINTS(tl_cancel(brand.hq, member, redemption));
}

static void adjust(int64_t member, int64_t points, const char *store)
{
  Loyalty__V1__AdjustPointsRequest req = LOYALTY__V1__ADJUST_POINTS_REQUEST__INIT;
  req.request_id = (char *)tl_unique("a");
  req.member_id = member;
  req.points = points;
  req.reason = "test";
  req.store_code = (char *)(store ? store : "");
  tl_call_ok(brand.hq, ADMIN("AdjustPoints"), &req.base, &loyalty__v1__points_result__descriptor);
}

static void merge(int64_t keep, int64_t twin)
{
  Loyalty__V1__MergeMembersRequest req = LOYALTY__V1__MERGE_MEMBERS_REQUEST__INIT;
  req.request_id = (char *)tl_unique("m");
  req.keep = keep;
  req.merge = twin;
  tl_call_ok(brand.hq, ADMIN("MergeMembers"), &req.base, &loyalty__v1__points_result__descriptor);
}

static void confirm(int64_t member, int64_t earn_txn)
{
  Loyalty__V1__ConfirmOrderRequest req = LOYALTY__V1__CONFIRM_ORDER_REQUEST__INIT;
  req.request_id = (char *)tl_unique("c");
  req.member_id = member;
  req.original_case = LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL_TRANSACTION_ID;
  req.transaction_id = earn_txn;
  tl_call_ok(brand.hq, POINTS("ConfirmOrder"), &req.base, &loyalty__v1__points_result__descriptor);
}

static void set_point_value(int32_t millicents)
{
  Loyalty__V1__GetProgramRequest get = LOYALTY__V1__GET_PROGRAM_REQUEST__INIT;
  Loyalty__V1__Program *p = (Loyalty__V1__Program *)tl_call_ok(
      brand.hq, ADMIN("GetProgram"), &get.base, &loyalty__v1__program__descriptor);
  ASSERT_EQ_INT(p->point_value_millicents, 1000); /* the default: a cent a point */
  p->optional_point_value_millicents_case =
      LOYALTY__V1__PROGRAM__OPTIONAL_POINT_VALUE_MILLICENTS_POINT_VALUE_MILLICENTS;
  p->point_value_millicents = millicents;
  p = (Loyalty__V1__Program *)tl_call_ok(brand.hq, ADMIN("UpdateProgram"), &p->base,
                                         &loyalty__v1__program__descriptor);
  ASSERT_EQ_INT(p->point_value_millicents, millicents);
}

/* Runs sql on the brand's database (arranging state). */
static void brand_exec(const char *sql)
{
  PQclear(brand_query(sql));
}

/* The first value of sql as text, kept until the test ends. */
static const char *brand_text(const char *sql)
{
  PGresult *r = brand_query(sql);
  char *s = tl_keep(strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : ""));
  PQclear(r);
  return s;
}

/* now, as the database says it, to the microsecond: a known_at. */
static const char *db_now(void)
{
  const char *s = brand_text("SELECT to_char(now() AT TIME ZONE 'UTC',"
                             " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  usleep(20 * 1000); /* what comes next is recorded after it */
  return s;
}

/* --- the reports, through gRPC ---------------------------------------------------------------- */

static Loyalty__V1__LiabilityReport *liability(int from, int as_of, const char *known_at)
{
  Loyalty__V1__LiabilityReportRequest req = LOYALTY__V1__LIABILITY_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t = report_time(as_of, known_at);
  req.time = &t;
  req.from_date = (char *)date_text(from);
  return (Loyalty__V1__LiabilityReport *)tl_call_ok(
      brand.hq, ADMIN("ReportLiability"), &req.base, &loyalty__v1__liability_report__descriptor);
}

static Loyalty__V1__SettlementReport *settlement(int from, int as_of, const char *known_at)
{
  Loyalty__V1__SettlementReportRequest req = LOYALTY__V1__SETTLEMENT_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t = report_time(as_of, known_at);
  req.time = &t;
  req.from_date = (char *)date_text(from);
  return (Loyalty__V1__SettlementReport *)tl_call_ok(
      brand.hq, ADMIN("ReportSettlement"), &req.base,
      &loyalty__v1__settlement_report__descriptor);
}

static Loyalty__V1__CampaignReport *campaign_report(int32_t id, const char *known_at)
{
  Loyalty__V1__CampaignReportRequest req = LOYALTY__V1__CAMPAIGN_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t = report_time(0, known_at);
  req.time = &t;
  req.campaign_id = id;
  return (Loyalty__V1__CampaignReport *)tl_call_ok(
      brand.hq, ADMIN("ReportCampaign"), &req.base, &loyalty__v1__campaign_report__descriptor);
}

/* --- the brute-force liability: the ledger's rows, added up in C ------------------------------ */

typedef struct liability_model {
  int64_t opening, closing, opening_owed, closing_owed, opening_pending, closing_pending;
  int64_t line[9]; /* earned imported adjusted cancelled redeemed refunded expired merged other */
  int64_t expired_12m, redeemed_12m;
} liability_model;

static int line_of(const char *kind, bool imported)
{
  static const char *const kinds[] = {"earn", "opening", "adjustment", "cancel_redemption",
                                      "redeem", "refund", "expiry", "merge_in", "merge_out"};
  static const int lines[] = {0, 1, 2, 3, 4, 5, 6, 7, 7};
  for (int i = 0; i < 9; i++) {
    if (strcmp(kind, kinds[i]) == 0)
      return i == 0 && imported ? 1 : lines[i];
  }
  return strcmp(kind, "release") == 0 ? 0 : 8;
}

/* Every ledger row recorded by known_at (NULL: now), each member's balance at the start of
 * from and the end of as_of, by the local day each row happened. */
static liability_model model_liability(int from, int as_of, const char *known_at)
{
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT member_id, kind, request_id LIKE 'import %%', points, pending_points,"
           "       (occurred_at AT TIME ZONE 'Asia/Shanghai')::date - '1970-01-01'::date"
           " FROM ledger WHERE created_at <= coalesce(%s%s%s::timestamptz, now())"
           " ORDER BY member_id",
           known_at ? "'" : "", known_at ? known_at : "NULL", known_at ? "'" : "");
  PGresult *r = brand_query(sql);
  liability_model m = {0};
  int trailing = months_from(as_of, 12);
  int64_t member = -1, open = 0, close = 0;
  for (int i = 0; i <= PQntuples(r); i++) {
    int64_t id = i < PQntuples(r) ? strtoll(PQgetvalue(r, i, 0), NULL, 10) : -2;
    if (id != member) { /* the previous member's balances */
      m.opening += open > 0 ? open : 0;
      m.opening_owed += open < 0 ? -open : 0;
      m.closing += close > 0 ? close : 0;
      m.closing_owed += close < 0 ? -close : 0;
      member = id, open = 0, close = 0;
    }
    if (i == PQntuples(r))
      break;
    const char *kind = PQgetvalue(r, i, 1);
    int line = line_of(kind, PQgetvalue(r, i, 2)[0] == 't');
    int64_t points = strtoll(PQgetvalue(r, i, 3), NULL, 10);
    int64_t pending = strtoll(PQgetvalue(r, i, 4), NULL, 10);
    int day = atoi(PQgetvalue(r, i, 5));
    if (day > as_of)
      continue;
    close += points;
    m.closing_pending += pending;
    if (day < from) {
      open += points;
      m.opening_pending += pending;
    } else {
      m.line[line] += points;
    }
    if (day >= trailing && line == 6)
      m.expired_12m -= points;
    if (day >= trailing && (line == 3 || line == 4))
      m.redeemed_12m -= points;
  }
  PQclear(r);
  return m;
}

/* The report against the model, line by line, and its own equation. */
static void assert_liability_matches(const Loyalty__V1__LiabilityReport *l,
                                     const liability_model *m)
{
  ASSERT_EQ_INT(l->opening, m->opening);
  ASSERT_EQ_INT(l->earned, m->line[0]);
  ASSERT_EQ_INT(l->imported, m->line[1]);
  ASSERT_EQ_INT(l->adjusted, m->line[2]);
  ASSERT_EQ_INT(l->cancelled, m->line[3]);
  ASSERT_EQ_INT(l->redeemed, m->line[4]);
  ASSERT_EQ_INT(l->refunded, m->line[5]);
  ASSERT_EQ_INT(l->expired, m->line[6]);
  ASSERT_EQ_INT(l->merged, m->line[7]);
  ASSERT_EQ_INT(l->other, m->line[8]);
  ASSERT_EQ_INT(l->closing, m->closing);
  ASSERT_EQ_INT(l->opening_owed, m->opening_owed);
  ASSERT_EQ_INT(l->closing_owed, m->closing_owed);
  ASSERT_EQ_INT(l->opening_pending, m->opening_pending);
  ASSERT_EQ_INT(l->closing_pending, m->closing_pending);
  ASSERT_EQ_INT(l->expired_12m, m->expired_12m);
  ASSERT_EQ_INT(l->redeemed_12m, m->redeemed_12m);
  /* opening + movements + change in points owed = closing */
  ASSERT_EQ_INT(l->opening + l->earned + l->imported + l->adjusted + l->cancelled + l->redeemed +
                    l->refunded + l->expired + l->merged + l->other + l->owed_change,
                l->closing);
  ASSERT_EQ_INT(l->owed_change, l->closing_owed - l->opening_owed);
  int64_t by_year = 0;
  for (size_t i = 0; i < l->n_by_expiry_year; i++)
    by_year += l->by_expiry_year[i]->points;
  ASSERT_EQ_INT(by_year, l->closing);
}

/* --- liability ------------------------------------------------------------------------------------ */

/* Every kind of movement in a period, and some before it: the report is the ledger's sum,
 * opening + movements = closing, today's closing is what the lots hold. */
static void liability_adds_up_over_every_kind_of_movement(void)
{
  brand_open("reports_points");
  brand_exec("UPDATE program SET pending_days = '{0,15,0,0,0,0}'"); /* Tmall: 15 days */
  set_point_value(1500); /* 1.5 cents a point */
  int D = brand.today, F = D - 10;
  int y, mo, d;
  civil_from_days(D, &y, &mo, &d);
  /* Before the period. */
  int64_t a = enroll("S1"), b = enroll("S2"), owes = enroll(NULL), twin = enroll(NULL);
  int64_t old = enroll(NULL);
  earn(a, "S1", F - 5, 20000);                         /* 200 */
  earn(b, "S2", F - 3, 10000);                         /* 100 */
  int64_t owes_earn = earn(owes, "S1", F - 2, 10000);  /* 100 */
  earn(twin, "S2", F - 1, 5000);                       /* 50 */
  earn(old, "S1", days_from_civil(y - 2, 6, 1), 7000); /* 70, expired at the end of y-1 */
  earn(a, "T1", F - 4, 3000);                          /* 30 pending */
  /* In the period. */
  int64_t pend = earn(b, "T1", D - 2, 4000);           /* 40 pending, released below */
  earn(a, "S2", D - 1, 15000);                         /* 150 */
  int64_t r1 = redeem_at_store(a, "S2", 120);
  int64_t r2 = redeem_at_store(b, "S1", 60);
  cancel(b, r2);
  adjust(a, 25, NULL);
  adjust(b, -10, "S2");
  redeem_at_store(owes, "S1", 80);
  refund(owes, owes_earn, D, 10000);                   /* takes 100 of 20: owes 80 */
  merge(b, twin);
  confirm(b, pend);
  Loyalty__V1__RunExpiryRequest run = LOYALTY__V1__RUN_EXPIRY_REQUEST__INIT;
  tl_call_ok(brand.hq, ADMIN("RunExpiry"), &run.base, &loyalty__v1__run_expiry_response__descriptor);
  (void)r1;

  Loyalty__V1__LiabilityReport *l = liability(F, D, NULL);
  liability_model m = model_liability(F, D, l->time->known_at);
  assert_liability_matches(l, &m);
  /* Written out: the opening is 200 + 100 + 100 + 50 + 70 (not yet expired as of F). */
  ASSERT_EQ_INT(l->opening, 520);
  ASSERT_EQ_INT(l->earned, 150 + 40);
  ASSERT_EQ_INT(l->redeemed, -(120 + 60 + 80));
  ASSERT_EQ_INT(l->cancelled, 60);
  ASSERT_EQ_INT(l->adjusted, 25 - 10);
  ASSERT_EQ_INT(l->refunded, -100);
  ASSERT_EQ_INT(l->expired, -70);
  ASSERT_EQ_INT(l->merged, 0);
  ASSERT_EQ_INT(l->opening_pending, 30);
  ASSERT_EQ_INT(l->closing_pending, 30);
  ASSERT_EQ_INT(l->closing_owed, 80);
  ASSERT_EQ_INT(l->closing, 200 + 150 - 120 + 25 + 100 + 40 - 10 + 50);
  /* Today's closing is what the lots hold now. */
  ASSERT_EQ_INT(l->closing, brand_int("SELECT sum(remaining) FROM lots"));
  /* Values at 1.5 cents a point, rounded half away from zero. */
  ASSERT_EQ_INT(l->point_value_millicents, 1500);
  ASSERT_EQ_INT(l->closing_value_cents, (l->closing * 1500 + 500) / 1000);
  ASSERT_EQ_INT(l->closing_owed_value_cents, 120);
  /* Breakage over the last 12 months: 70 expired, 260 - 60 redeemed. */
  ASSERT_EQ_INT(l->expired_12m, 70);
  ASSERT_EQ_INT(l->redeemed_12m, 200);
  ASSERT_EQ_INT(l->breakage_rate_bp, 70 * 10000 / 270);
  ASSERT_EQ_INT(l->expected_breakage, l->closing * 70 / 270);
  ASSERT_EQ_INT(l->net_of_breakage, l->closing - l->closing * 70 / 270);
  /* By expiry year: everything left expires at the end of next year. */
  ASSERT_EQ_INT(l->n_by_expiry_year, 1);
  ASSERT_EQ_INT(l->by_expiry_year[0]->year, y + 1);

  /* Every other period too, each against the model: before the expiry, before the period. */
  for (int from = F - 6; from <= D; from += 3) {
    for (int as_of = from; as_of <= D; as_of += 2) {
      l = liability(from, as_of, NULL);
      m = model_liability(from, as_of, l->time->known_at);
      assert_liability_matches(l, &m);
    }
  }
}

/* A past closing comes from the ledger, not from today's lots; a late movement changes a
 * past report only for a known_at after it was recorded. */
static void liability_of_a_past_date_follows_known_at(void)
{
  brand_open("reports_points");
  int D = brand.today;
  int64_t a = enroll("S1");
  earn(a, "S1", D - 20, 30000); /* 300 */
  earn(a, "S2", D - 12, 10000); /* 100 */
  const char *t0 = db_now();
  redeem_at_store(a, "S1", 250); /* today: not in a report as of yesterday */
  Loyalty__V1__LiabilityReport *l = liability(D - 15, D - 1, NULL);
  ASSERT_EQ_INT(l->opening, 300);
  ASSERT_EQ_INT(l->closing, 400); /* the lots hold 150 now */
  ASSERT_EQ_INT(brand_int("SELECT sum(remaining) FROM lots"), 150);
  ASSERT_EQ_INT(l->by_expiry_year[0]->points, 400);
  const char *t1 = db_now();
  earn(a, "S2", D - 5, 5000); /* a till's sale of 5 days ago, synced now */
  l = liability(D - 15, D - 1, t1);
  ASSERT_EQ_STR(l->time->known_at, t1);
  ASSERT_EQ_INT(l->earned, 100);
  ASSERT_EQ_INT(l->closing, 400);
  l = liability(D - 15, D - 1, NULL);
  ASSERT_EQ_INT(l->earned, 150);
  ASSERT_EQ_INT(l->closing, 450);
  liability_model m = model_liability(D - 15, D - 1, l->time->known_at);
  assert_liability_matches(l, &m);
  l = liability(D - 15, D - 1, t0);
  ASSERT_EQ_INT(l->closing, 400);
  /* Today, as known now: the redemption is in. */
  l = liability(D - 15, D, NULL);
  ASSERT_EQ_INT(l->closing, 200);
  ASSERT_EQ_INT(l->closing, brand_int("SELECT sum(remaining) FROM lots"));
}

/* --- settlement ----------------------------------------------------------------------------------- */

static const Loyalty__V1__SettlementCell *cell(const Loyalty__V1__SettlementReport *s,
                                               const char *earned_at, const char *redeemed_at)
{
  for (size_t i = 0; i < s->n_cells; i++) {
    if (strcmp(s->cells[i]->earned_at, earned_at) == 0 &&
        strcmp(s->cells[i]->redeemed_at, redeemed_at) == 0)
      return s->cells[i];
  }
  return NULL;
}

static const Loyalty__V1__SettlementPosition *position(const Loyalty__V1__SettlementReport *s,
                                                       const char *store)
{
  for (size_t i = 0; i < s->n_positions; i++) {
    if (strcmp(s->positions[i]->store_code, store) == 0)
      return s->positions[i];
  }
  return NULL;
}

/* One redemption at S2 drawing from lots of S1, S2 and HQ; then its cancellation. */
static void settlement_of_a_redemption_across_stores_and_its_cancellation(void)
{
  brand_open("reports_points");
  set_point_value(333); /* a third of a cent */
  int D = brand.today;
  int64_t a = enroll("S1");
  earn(a, "S1", D - 2, 10000);  /* lot of 100 at S1 */
  earn(a, "S2", D - 1, 5000);   /* 50 at S2 */
  adjust(a, 30, NULL);          /* 30 from HQ */
  int64_t other = enroll("S2"); /* another member redeems at S1 what S1 gave: its own */
  earn(other, "S1", D - 1, 2000);
  redeem_at_store(other, "S1", 20);
  int64_t r = redeem_at_store(a, "S2", 170); /* lots expire together: by lot, S1's first */
  ASSERT_EQ_INT(brand_int("SELECT count(*) FROM redemption_lots WHERE redeem_txn_id = %lld",
                          (long long)r), 3);
  Loyalty__V1__SettlementReport *s = settlement(D - 5, D, NULL);
  ASSERT_EQ_INT(s->point_value_millicents, 333);
  ASSERT_EQ_INT(s->n_cells, 4);
  ASSERT_EQ_INT(cell(s, "S1", "S2")->points, 100);
  ASSERT_EQ_INT(cell(s, "S1", "S2")->value_cents, 33); /* 33.3 cents */
  ASSERT_EQ_INT(cell(s, "S2", "S2")->points, 50);
  ASSERT_EQ_INT(cell(s, "", "S2")->points, 20);
  ASSERT_EQ_INT(cell(s, "", "S2")->value_cents, 7); /* 6.66 cents */
  ASSERT_EQ_INT(cell(s, "S1", "S1")->points, 20);
  ASSERT_EQ_INT(s->n_positions, 3);
  ASSERT_EQ_INT(position(s, "S2")->owed_to, 120);
  ASSERT_EQ_INT(position(s, "S2")->net, 120);
  ASSERT_EQ_INT(position(s, "S2")->net_value_cents, 40); /* 39.96 */
  ASSERT_EQ_INT(position(s, "S1")->owed_by, 100);
  ASSERT_EQ_INT(position(s, "S1")->net, -100);
  ASSERT_EQ_INT(position(s, "S1")->net_value_cents, -33);
  ASSERT_EQ_INT(position(s, "")->net, -20);
  /* The brute force: the same cells straight from redemption_lots, lots and the ledger. */
  ASSERT_EQ_INT(brand_int("SELECT sum(rl.points) FROM redemption_lots rl JOIN lots l USING (lot_id)"
                          " JOIN ledger o ON o.txn_id = l.txn_id"
                          " JOIN ledger x ON x.txn_id = rl.redeem_txn_id"
                          " WHERE o.store_id IS DISTINCT FROM x.store_id"),
                120);
  /* A period before any of it: nothing. */
  ASSERT_EQ_INT(settlement(D - 30, D - 3, NULL)->n_cells, 0);

  const char *before = db_now();
  cancel(a, r);
  /* The cancellation counts on its own date (today): the period has it, so nothing is owed
   * any more; as known before it, the redemption stands. */
  s = settlement(D - 5, D, NULL);
  ASSERT_EQ_INT(s->n_cells, 1);
  ASSERT_EQ_INT(cell(s, "S1", "S1")->points, 20);
  ASSERT_EQ_INT(s->n_positions, 0);
  s = settlement(D - 5, D, before);
  ASSERT_EQ_INT(position(s, "S2")->net, 120);
  /* A period of today alone: the redemption was today too, so they cancel out. */
  s = settlement(D, D, NULL);
  ASSERT_TRUE(cell(s, "S1", "S2") == NULL);
}

/* --- campaign cost ---------------------------------------------------------------------------------- */

static int32_t create_campaign(const char *name, int permille, int64_t bonus, const char *store)
{
  Loyalty__V1__Campaign c = LOYALTY__V1__CAMPAIGN__INIT;
  char *stores[1] = {(char *)store};
  c.name = (char *)name;
  c.multiplier_permille = permille;
  c.bonus_points = bonus;
  c.starts_at = tl_keep(strdup(date_text(brand.today - 1)));
  c.ends_at = tl_keep(strdup(date_text(brand.today + 2)));
  if (store != NULL) {
    c.store_codes = stores;
    c.n_store_codes = 1;
  }
  Loyalty__V1__Campaign *made = (Loyalty__V1__Campaign *)tl_call_ok(
      brand.hq, ADMIN("CreateCampaign"), &c.base, &loyalty__v1__campaign__descriptor);
  return made->campaign_id;
}

static Loyalty__V1__VerifyAuditResponse *verify(void)
{
  Loyalty__V1__VerifyAuditRequest req = LOYALTY__V1__VERIFY_AUDIT_REQUEST__INIT;
  return (Loyalty__V1__VerifyAuditResponse *)tl_call_ok(
      brand.hq, ADMIN("VerifyAudit"), &req.base, &loyalty__v1__verify_audit_response__descriptor);
}

/* Two campaigns at once, alone and together, through the single earn and the group-commit
 * batch; the report's extra points are exact; the campaign columns are in the hash chain. */
static void campaign_cost_is_exact_and_chained(void)
{
  brand_open("reports_points");
  int D = brand.today;
  int64_t a = enroll("S1"), b = enroll("S2"), c = enroll("S1");
  earn_at(a, "S1", D, "00:00:01", 10000); /* before the campaigns existed: none */
  int32_t x2 = create_campaign("double", 2000, 10, NULL);
  int32_t s1 = create_campaign("S1 bonus", 1000, 5, "S1");
  usleep(20 * 1000);
  /* Earns now (no occurred_at: now, after both were created). */
  Loyalty__V1__EarnRequest req = LOYALTY__V1__EARN_REQUEST__INIT;
  struct {
    int64_t member;
    const char *store;
    int64_t cents;
    int64_t points;
  } sales[] = {{a, "S1", 19900, 199 * 2 + 10 + 5}, {b, "S2", 5050, 50 * 2 + 10},
               {a, "S2", 10000, 100 * 2 + 10}};
  int64_t txn[3];
  for (int i = 0; i < 3; i++) {
    req.request_id = (char *)tl_unique("p");
    req.member_id = sales[i].member;
    req.order_id = (char *)tl_unique("O");
    req.amount_cents = sales[i].cents;
    req.store_code = (char *)sales[i].store;
    Loyalty__V1__PointsResult *p = TL_POINTS(tl_call(brand.hq, POINTS("Earn"), &req.base,
                                                     &loyalty__v1__points_result__descriptor));
    ASSERT_EQ_INT(p->points, sales[i].points);
    txn[i] = p->transaction_id;
  }
  ASSERT_EQ_INT(brand_int("SELECT campaign_points FROM ledger WHERE txn_id = %lld",
                          (long long)txn[0]), 199 + 15);
  char sql[1024];
  snprintf(sql, sizeof sql, "SELECT campaign_ids::text FROM ledger WHERE txn_id = %lld",
           (long long)txn[2]);
  ASSERT_EQ_STR(brand_text(sql), "{1}"); /* S2: the double only */
  /* The group-commit batch writes the same columns (loyalty_earn_batch, two members). */
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM loyalty_earn_batch("
           " ARRAY['test', 'test'], ARRAY['S1', 'S1'], ARRAY['batch-1', 'batch-2'],"
           " ARRAY['\\x00'::bytea, '\\x01'::bytea], ARRAY[%lld, %lld]::bigint[],"
           " ARRAY['B1', 'B2'], ARRAY[30000, 99]::bigint[])",
           (long long)b, (long long)c);
  ASSERT_EQ_INT(brand_int("%s", sql), 2);
  ASSERT_EQ_INT(brand_int("SELECT points FROM ledger WHERE order_id = 'B1'"), 300 * 2 + 15);
  ASSERT_EQ_INT(brand_int("SELECT campaign_points FROM ledger WHERE order_id = 'B1'"), 315);
  ASSERT_EQ_INT(brand_int("SELECT campaign_points FROM ledger WHERE order_id = 'B2'"), 15);
  ASSERT_EQ_INT(brand_int("SELECT cardinality(campaign_ids) FROM ledger WHERE order_id = 'B2'"),
                2);
  TL_POINTS(tl_refund(brand.hq, a, txn[2], NULL, 4000)); /* 40 yuan of 100 back, now */

  Loyalty__V1__CampaignReport *r = campaign_report(x2, NULL);
  ASSERT_EQ_STR(r->name, "double");
  ASSERT_EQ_INT(r->members, 3);
  ASSERT_EQ_INT(r->purchases, 5);
  ASSERT_EQ_INT(r->sales_cents, 19900 + 5050 + 10000 + 30000 + 99);
  ASSERT_EQ_INT(r->net_sales_cents, 19900 + 5050 + 6000 + 30000 + 99);
  ASSERT_EQ_INT(r->base_points, 199 + 50 + 100 + 300 + 0);
  /* Its multiplier's points and its bonus on each. */
  ASSERT_EQ_INT(r->extra_points, (199 + 10) + (50 + 10) + (100 + 10) + (300 + 10) + (0 + 10));
  ASSERT_EQ_INT(r->shared_purchases, 3);
  ASSERT_EQ_INT(r->all_campaign_points, r->extra_points + 3 * 5);
  r = campaign_report(s1, NULL);
  ASSERT_EQ_INT(r->members, 3);
  ASSERT_EQ_INT(r->purchases, 3);
  ASSERT_EQ_INT(r->extra_points, 15);
  ASSERT_EQ_INT(r->base_points, 199 + 300 + 0);
  /* The brute force: every earn's points are its base and its campaign points. */
  ASSERT_EQ_INT(brand_int("SELECT sum(points + pending_points - campaign_points) FROM ledger"
                          " WHERE kind = 'earn'"),
                100 + 199 + 50 + 100 + 300);

  /* The chain holds them: untouched it verifies; a changed campaign_points is found. */
  ASSERT_TRUE(verify()->ok);
  brand_exec("BEGIN; ALTER TABLE ledger DISABLE TRIGGER ledger_append_only;"
              " UPDATE ledger SET campaign_points = 0 WHERE order_id = 'B1';"
              " ALTER TABLE ledger ENABLE TRIGGER ledger_append_only; COMMIT");
  Loyalty__V1__VerifyAuditResponse *v = verify();
  ASSERT_TRUE(!v->ok);
  ASSERT_EQ_INT(v->n_problems, 1);
  ASSERT_EQ_INT(v->problems[0]->transaction_id,
                brand_int("SELECT txn_id FROM ledger WHERE order_id = 'B1'"));
  ASSERT_CONTAINS(v->problems[0]->problem, "row changed");
  brand_exec("BEGIN; ALTER TABLE ledger DISABLE TRIGGER ledger_append_only;"
              " UPDATE ledger SET campaign_ids = '{1}' WHERE order_id = 'B1';"
              " UPDATE ledger SET campaign_points = 315 WHERE order_id = 'B1';"
              " ALTER TABLE ledger ENABLE TRIGGER ledger_append_only; COMMIT");
  ASSERT_TRUE(!verify()->ok); /* the campaigns changed: found too */
}

/* Rows from before campaign points hash as they did: the canonical row of an earn under no
 * campaign has no campaign field. */
static void rows_without_campaigns_hash_as_before(void)
{
  brand_open("reports_points");
  int64_t a = enroll("S1");
  earn(a, "S1", brand.today - 1, 10000);
  ASSERT_EQ_INT(brand_int("SELECT count(*) FROM ledger l WHERE position('campaign'"
                          " IN convert_from(loyalty_ledger_canonical(l), 'UTF8')) > 0"),
                0);
  ASSERT_TRUE(verify()->ok);
}

static void report_arguments_are_checked(void)
{
  brand_open("reports_points");
  Loyalty__V1__LiabilityReportRequest l = LOYALTY__V1__LIABILITY_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t = report_time(brand.today - 3, NULL);
  l.time = &t;
  l.from_date = (char *)date_text(brand.today - 2);
  tl_result r = tl_call(brand.hq, ADMIN("ReportLiability"), &l.base,
                        &loyalty__v1__liability_report__descriptor);
  ASSERT_STATUS(r, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(r.message, "from_date is after as_of");
  l.from_date = "2026-02-30";
  ASSERT_STATUS(tl_call(brand.hq, ADMIN("ReportLiability"), &l.base,
                        &loyalty__v1__liability_report__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  /* No from_date: the first day of as_of's month. */
  l.from_date = "";
  t.as_of = "2026-03-17";
  Loyalty__V1__LiabilityReport *rep = (Loyalty__V1__LiabilityReport *)tl_call_ok(
      brand.hq, ADMIN("ReportLiability"), &l.base, &loyalty__v1__liability_report__descriptor);
  ASSERT_EQ_STR(rep->from_date, "2026-03-01");
  Loyalty__V1__CampaignReportRequest c = LOYALTY__V1__CAMPAIGN_REPORT_REQUEST__INIT;
  ASSERT_STATUS(tl_call(brand.hq, ADMIN("ReportCampaign"), &c.base,
                        &loyalty__v1__campaign_report__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  c.campaign_id = 999;
  ASSERT_STATUS(tl_call(brand.hq, ADMIN("ReportCampaign"), &c.base,
                        &loyalty__v1__campaign_report__descriptor),
                GRPC_STATUS_NOT_FOUND);
  Loyalty__V1__Program p = LOYALTY__V1__PROGRAM__INIT;
  Loyalty__V1__GetProgramRequest get = LOYALTY__V1__GET_PROGRAM_REQUEST__INIT;
  Loyalty__V1__Program *now = (Loyalty__V1__Program *)tl_call_ok(
      brand.hq, ADMIN("GetProgram"), &get.base, &loyalty__v1__program__descriptor);
  p = *now;
  p.optional_point_value_millicents_case =
      LOYALTY__V1__PROGRAM__OPTIONAL_POINT_VALUE_MILLICENTS_POINT_VALUE_MILLICENTS;
  p.point_value_millicents = 100001;
  r = tl_call(brand.hq, ADMIN("UpdateProgram"), &p.base, &loyalty__v1__program__descriptor);
  ASSERT_STATUS(r, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(r.message, "invalid program");
  /* Left out of an UpdateProgram (an older client), it stays. */
  brand_exec("UPDATE program SET point_value_millicents = 700");
  p.optional_point_value_millicents_case =
      LOYALTY__V1__PROGRAM__OPTIONAL_POINT_VALUE_MILLICENTS__NOT_SET;
  now = (Loyalty__V1__Program *)tl_call_ok(brand.hq, ADMIN("UpdateProgram"), &p.base,
                                           &loyalty__v1__program__descriptor);
  ASSERT_EQ_INT(now->point_value_millicents, 700);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"liability_adds_up_over_every_kind_of_movement",
     liability_adds_up_over_every_kind_of_movement},
    {"liability_of_a_past_date_follows_known_at", liability_of_a_past_date_follows_known_at},
    {"settlement_of_a_redemption_across_stores_and_its_cancellation",
     settlement_of_a_redemption_across_stores_and_its_cancellation},
    {"campaign_cost_is_exact_and_chained", campaign_cost_is_exact_and_chained},
    {"rows_without_campaigns_hash_as_before", rows_without_campaigns_hash_as_before},
    {"report_arguments_are_checked", report_arguments_are_checked},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
