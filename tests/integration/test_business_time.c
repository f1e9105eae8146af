/*
 * test_business_time.c - sales that reach the service late follow the moment they happened
 * (occurred_at): its campaigns, birthday month, program rules and lot expiry; the bounds of
 * that moment; refunds not before their purchase; late movements flagged and listed.
 * It changes the shared program, so it runs alone and puts it back.
 */
#include "testlib.h"

/* now() + offset (a PostgreSQL interval), as RFC 3339 in UTC. */
static const char *at(const char *offset)
{
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT to_char((now() + interval '%s') AT TIME ZONE 'UTC',"
           " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
           offset);
  return tl_sql_value(sql);
}

static Loyalty__V1__Program *get_program(void)
{
  Loyalty__V1__GetProgramRequest req = LOYALTY__V1__GET_PROGRAM_REQUEST__INIT;
  return (Loyalty__V1__Program *)tl_call_ok(tl_hq, ADMIN("GetProgram"), &req.base,
                                            &loyalty__v1__program__descriptor);
}

static Loyalty__V1__Program *update_program(Loyalty__V1__Program *p)
{
  return (Loyalty__V1__Program *)tl_call_ok(tl_hq, ADMIN("UpdateProgram"), &p->base,
                                            &loyalty__v1__program__descriptor);
}

static tl_result earn_at(lc_conn *conn, int64_t member_id, int64_t cents, const char *when)
{
  Loyalty__V1__EarnRequest req = conn == tl_hq ? tl_hq_earn_request(member_id, cents)
                                               : tl_earn_request(member_id, cents);
  req.occurred_at = (char *)when;
  return tl_call(conn, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
}

static tl_result refund_at(lc_conn *conn, int64_t member_id, int64_t earn_txn, int64_t cents,
                           const char *when)
{
  Loyalty__V1__RefundRequest req = tl_refund_request(member_id, earn_txn, NULL, cents);
  req.occurred_at = (char *)when;
  return tl_call(conn, POINTS("Refund"), &req.base, &loyalty__v1__points_result__descriptor);
}

/* A campaign at one store only, so that nothing else feels it. */
static Loyalty__V1__Campaign *store_campaign(const char *store_code, int permille,
                                             const char *starts_at, const char *ends_at)
{
  Loyalty__V1__Campaign c = LOYALTY__V1__CAMPAIGN__INIT;
  char *codes[] = {(char *)store_code};
  c.name = (char *)"双11";
  c.multiplier_permille = permille;
  c.starts_at = (char *)starts_at;
  c.ends_at = (char *)ends_at;
  c.store_codes = codes;
  c.n_store_codes = 1;
  return (Loyalty__V1__Campaign *)tl_call_ok(tl_hq, ADMIN("CreateCampaign"), &c.base,
                                             &loyalty__v1__campaign__descriptor);
}

static void late_sale_gets_the_campaign_of_its_moment(void)
{
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(shop.conn, tl_birthday_other_month());
  /* A campaign that ran from 3 hours ago to 2 hours ago, created (below) before it began. */
  Loyalty__V1__Campaign *c = store_campaign(shop.code, 3000, at("-3 hours"), at("-2 hours"));
  const char *during = at("-150 minutes");
  /* Made now, it did not exist when the sale happened: no sale of that moment, on time or
   * late, gets it. */
  ASSERT_EQ_INT(TL_POINTS(earn_at(shop.conn, m, 10000, during))->points, 100);
  char sql[256];
  snprintf(sql, sizeof sql,
           "UPDATE campaigns SET created_at = now() - interval '1 day' WHERE campaign_id = %d",
           c->campaign_id);
  tl_sql(sql);
  /* Synced now, after the campaign ended: it gets the campaign of when it happened. */
  Loyalty__V1__PointsResult *late = TL_POINTS(earn_at(shop.conn, m, 10000, during));
  ASSERT_EQ_INT(late->points, 300);
  ASSERT_CONTAINS(late->explanation, "x 3 campaign");
  /* The same sale written as in Shanghai's time: the same moment. */
  snprintf(sql, sizeof sql,
           "SELECT to_char((now() - interval '150 minutes') AT TIME ZONE 'Asia/Shanghai',"
           " 'YYYY-MM-DD\"T\"HH24:MI:SS+08:00')");
  ASSERT_EQ_INT(TL_POINTS(earn_at(shop.conn, m, 10000, tl_sql_value(sql)))->points, 300);
  /* A sale of now, and one of after the window, get nothing of it. */
  ASSERT_EQ_INT(TL_POINTS(earn_at(shop.conn, m, 10000, ""))->points, 100);
  ASSERT_EQ_INT(TL_POINTS(earn_at(shop.conn, m, 10000, at("-90 minutes")))->points, 100);
  /* Ended early by HQ now: what happened before stays in force. */
  Loyalty__V1__EndCampaignRequest end = LOYALTY__V1__END_CAMPAIGN_REQUEST__INIT;
  end.campaign_id = c->campaign_id;
  tl_call_ok(tl_hq, ADMIN("EndCampaign"), &end.base, &loyalty__v1__campaign__descriptor);
  ASSERT_EQ_INT(TL_POINTS(earn_at(shop.conn, m, 10000, during))->points, 300);
}

static void late_sales_in_one_batch_get_their_own_moment(void)
{
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  Loyalty__V1__Campaign *c = store_campaign(shop.code, 2000, at("-3 hours"), at("-2 hours"));
  char sql[256];
  snprintf(sql, sizeof sql,
           "UPDATE campaigns SET created_at = now() - interval '1 day' WHERE campaign_id = %d",
           c->campaign_id);
  tl_sql(sql);
  /* Twenty members' earns at once (group commit writes them together): the even ones
   * happened during the campaign, the odd ones now. */
  enum { N = 20 };
  tl_parallel_call calls[N];
  Loyalty__V1__EarnRequest reqs[N];
  const char *during = at("-150 minutes");
  for (int i = 0; i < N; i++) {
    reqs[i] = tl_earn_request(tl_enroll(shop.conn, tl_birthday_other_month()), 10000);
    reqs[i].occurred_at = (char *)(i % 2 == 0 ? during : "");
    calls[i] = (tl_parallel_call){.conn = shop.conn, .method = POINTS("Earn"),
                                  .request = &reqs[i].base};
  }
  tl_call_concurrently(calls, N);
  for (int i = 0; i < N; i++)
    ASSERT_EQ_INT(TL_POINTS(calls[i].result)->points, i % 2 == 0 ? 200 : 100);
}

static void late_sale_gets_the_birthday_month_of_its_moment(void)
{
  /* 23:00 on the last day of last month, in Shanghai; a member born in that month. HQ may
   * date back that far whatever today's date. */
  const char *last_month = tl_sql_value(
      "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')"
      " - interval '1 hour', 'YYYY-MM-DD\"T\"HH24:MI:SS+08:00')");
  char birthday[16];
  snprintf(birthday, sizeof birthday, "1990-%.2s-15", last_month + 5);
  int64_t m = tl_enroll(tl_hq, birthday);
  Loyalty__V1__PointsResult *late = TL_POINTS(earn_at(tl_hq, m, 10000, last_month));
  ASSERT_EQ_INT(late->points, 200);
  ASSERT_CONTAINS(late->explanation, "x 2 birthday month");
  /* Its first moment of this month, in Shanghai: no longer the birthday month. */
  const char *this_month = tl_sql_value(
      "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai'),"
      " 'YYYY-MM-DD\"T\"HH24:MI:SS+08:00')");
  ASSERT_EQ_INT(TL_POINTS(earn_at(tl_hq, m, 10000, this_month))->points, 100);
  ASSERT_EQ_INT(TL_POINTS(tl_earn(tl_hq, m, 10000))->points, 100);
}

static void late_sale_lot_expires_by_its_moment(void)
{
  /* Under year_end (the default, in force then and now), the end of the year after the
   * year it happened, not after the year it arrived: 400 days back (HQ may date that far)
   * is always another year. */
  int64_t m = tl_enroll(tl_hq, "");
  Loyalty__V1__PointsResult *late = TL_POINTS(earn_at(tl_hq, m, 10000, at("-400 days")));
  Loyalty__V1__PointsResult *now = TL_POINTS(tl_earn(tl_hq, m, 10000));
  const char *expiry = "SELECT expires_on - make_date(extract(year FROM ((now() - interval '%s')"
                       " AT TIME ZONE 'Asia/Shanghai'))::int + 1, 12, 31)"
                       " FROM lots WHERE txn_id = %" PRId64;
  char sql[512];
  snprintf(sql, sizeof sql, expiry, "400 days", late->transaction_id);
  ASSERT_EQ_STR(tl_sql_value(sql), "0");
  snprintf(sql, sizeof sql, expiry, "0 days", now->transaction_id);
  ASSERT_EQ_STR(tl_sql_value(sql), "0");
  snprintf(sql, sizeof sql,
           "SELECT count(DISTINCT expires_on) FROM lots WHERE member_id = %" PRId64, m);
  ASSERT_EQ_STR(tl_sql_value(sql), "2");
}

static void late_sale_follows_the_rules_in_force_when_it_happened(void)
{
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(shop.conn, tl_birthday_other_month());
  const char *before = at("-1 second");
  Loyalty__V1__Program *p = get_program();
  p->points_per_yuan = 3;
  update_program(p);
  /* A sale of before the change, synced after it: the old rate. */
  Loyalty__V1__PointsResult *late = TL_POINTS(earn_at(shop.conn, m, 10000, before));
  ASSERT_EQ_INT(late->points, 100);
  ASSERT_CONTAINS(late->explanation, "x 1 per yuan");
  ASSERT_EQ_INT(TL_POINTS(tl_earn(shop.conn, m, 10000))->points, 300);
  /* Back to 1 per yuan: a sale of while it was 3, synced after, earns 3 per yuan. */
  const char *between = at("0 seconds");
  p->points_per_yuan = 1;
  update_program(p);
  ASSERT_EQ_INT(TL_POINTS(earn_at(shop.conn, m, 10000, ""))->points, 100);
  ASSERT_EQ_INT(TL_POINTS(earn_at(shop.conn, m, 10000, between))->points, 300);
  ASSERT_EQ_INT(TL_POINTS(earn_at(shop.conn, m, 10000, before))->points, 100);
}

static void bounds_are_refused_with_the_limit(void)
{
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(shop.conn, "");
  tl_result future = earn_at(shop.conn, m, 10000, at("10 minutes"));
  ASSERT_STATUS(future, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(future.message, "5 minutes");
  /* A till's clock a little ahead is fine. */
  ASSERT_STATUS(earn_at(shop.conn, m, 10000, at("2 minutes")), GRPC_STATUS_OK);
  tl_result old = earn_at(shop.conn, m, 10000, at("-31 days"));
  ASSERT_STATUS(old, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(old.message, "more than 30 days ago");
  ASSERT_STATUS(earn_at(shop.conn, m, 10000, at("-29 days")), GRPC_STATUS_OK);
  tl_result text = earn_at(shop.conn, m, 10000, "2026-11-11 23:59");
  ASSERT_STATUS(text, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(text.message, "RFC 3339");
  /* A refund is held to the same bounds. */
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(shop.conn, m, 10000));
  tl_result refund = refund_at(shop.conn, m, e->transaction_id, 100, at("1 hour"));
  ASSERT_STATUS(refund, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(refund.message, "5 minutes");
  /* Nothing refused was written: the earns of 2 minutes ahead, 29 days back and now. */
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64, m), 3);
}

static void hq_may_date_further_back_and_it_is_recorded(void)
{
  int64_t m = tl_enroll(tl_hq, "");
  Loyalty__V1__PointsResult *e = TL_POINTS(earn_at(tl_hq, m, 10000, at("-40 days")));
  ASSERT_EQ_INT(e->points, 100);
  /* In the audit trail's late movements: the ledger row, and HQ's record of going beyond
   * max_backdate_days. */
  Loyalty__V1__ListAuditRequest req = LOYALTY__V1__LIST_AUDIT_REQUEST__INIT;
  req.late = true;
  req.since = (char *)at("-1 minute");
  Loyalty__V1__ListAuditResponse *list = (Loyalty__V1__ListAuditResponse *)tl_call_ok(
      tl_hq, ADMIN("ListAudit"), &req.base, &loyalty__v1__list_audit_response__descriptor);
  bool row = false, record = false;
  char member[32];
  snprintf(member, sizeof member, "%" PRId64, m);
  for (size_t i = 0; i < list->n_entries; i++) {
    const Loyalty__V1__AuditEntry *a = list->entries[i];
    if (strcmp(a->source, "ledger") == 0 && a->id == e->transaction_id) {
      row = true;
      ASSERT_TRUE(a->late);
      ASSERT_CONTAINS(a->principal, ":test-hq");
    }
    if (strcmp(a->kind, "backdate") == 0 && strcmp(a->subject, member) == 0) {
      record = true;
      ASSERT_CONTAINS(a->detail, "max_backdate_days 30");
    }
  }
  ASSERT_TRUE(row);
  ASSERT_TRUE(record);
}

static void refund_does_not_happen_before_its_purchase(void)
{
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(shop.conn, "");
  Loyalty__V1__PointsResult *e = TL_POINTS(earn_at(shop.conn, m, 10000, at("-2 hours")));
  tl_result early = refund_at(shop.conn, m, e->transaction_id, 5000, at("-3 hours"));
  ASSERT_STATUS(early, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(early.message, "before its purchase");
  ASSERT_EQ_INT(TL_POINTS(refund_at(shop.conn, m, e->transaction_id, 5000, at("-1 hour")))->points,
                -50);
  ASSERT_EQ_INT(TL_POINTS(refund_at(shop.conn, m, e->transaction_id, 5000, ""))->points, -50);
}

static void late_movements_are_flagged_and_listed(void)
{
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(shop.conn, "");
  const char *two_hours_ago = at("-2 hours");
  Loyalty__V1__PointsResult *late = TL_POINTS(earn_at(shop.conn, m, 10000, two_hours_ago));
  TL_POINTS(earn_at(shop.conn, m, 10000, at("-30 minutes")));
  TL_POINTS(tl_earn(shop.conn, m, 10000));

  Loyalty__V1__ListTransactionsRequest list = LOYALTY__V1__LIST_TRANSACTIONS_REQUEST__INIT;
  list.member_id = m;
  Loyalty__V1__ListTransactionsResponse *txns = (Loyalty__V1__ListTransactionsResponse *)tl_call_ok(
      shop.conn, POINTS("ListTransactions"), &list.base,
      &loyalty__v1__list_transactions_response__descriptor);
  ASSERT_EQ_INT(txns->n_transactions, 3); /* newest first */
  ASSERT_EQ_INT(txns->transactions[2]->transaction_id, late->transaction_id);
  ASSERT_TRUE(txns->transactions[2]->late);
  /* To the millisecond, in UTC, as created_at. */
  ASSERT_TRUE(strncmp(txns->transactions[2]->occurred_at, two_hours_ago, 23) == 0);
  ASSERT_TRUE(!txns->transactions[1]->late); /* half an hour late is not late */
  ASSERT_TRUE(!txns->transactions[0]->late);
  ASSERT_EQ_STR(txns->transactions[0]->occurred_at, txns->transactions[0]->created_at);

  Loyalty__V1__ListAuditRequest req = LOYALTY__V1__LIST_AUDIT_REQUEST__INIT;
  req.member_id = m;
  req.late = true;
  Loyalty__V1__ListAuditResponse *audit = (Loyalty__V1__ListAuditResponse *)tl_call_ok(
      tl_hq, ADMIN("ListAudit"), &req.base, &loyalty__v1__list_audit_response__descriptor);
  ASSERT_EQ_INT(audit->n_entries, 1);
  ASSERT_EQ_INT(audit->entries[0]->id, late->transaction_id);
  ASSERT_TRUE(audit->entries[0]->late);
  req.late = false;
  audit = (Loyalty__V1__ListAuditResponse *)tl_call_ok(
      tl_hq, ADMIN("ListAudit"), &req.base, &loyalty__v1__list_audit_response__descriptor);
  ASSERT_TRUE(audit->n_entries >= 3);
}

static void update_program_without_max_backdate_days_leaves_it(void)
{
  Loyalty__V1__Program *p = get_program();
  ASSERT_EQ_INT(p->optional_max_backdate_days_case,
                LOYALTY__V1__PROGRAM__OPTIONAL_MAX_BACKDATE_DAYS_MAX_BACKDATE_DAYS);
  ASSERT_EQ_INT(p->max_backdate_days, 30);
  p->max_backdate_days = 45;
  ASSERT_EQ_INT(update_program(p)->max_backdate_days, 45);
  /* An older client's program: no max_backdate_days at all. */
  p->optional_max_backdate_days_case = LOYALTY__V1__PROGRAM__OPTIONAL_MAX_BACKDATE_DAYS__NOT_SET;
  p->max_backdate_days = 0;
  ASSERT_EQ_INT(update_program(p)->max_backdate_days, 45);
  /* Now a store may date 40 days back, not 46. */
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(shop.conn, "");
  ASSERT_STATUS(earn_at(shop.conn, m, 10000, at("-40 days")), GRPC_STATUS_OK);
  tl_result old = earn_at(shop.conn, m, 10000, at("-46 days"));
  ASSERT_CONTAINS(old.message, "more than 45 days ago");
  /* Set explicitly, 0 is a value: nothing before now (a little clock skew aside). */
  p->optional_max_backdate_days_case =
      LOYALTY__V1__PROGRAM__OPTIONAL_MAX_BACKDATE_DAYS_MAX_BACKDATE_DAYS;
  p->max_backdate_days = 0;
  ASSERT_EQ_INT(update_program(p)->max_backdate_days, 0);
  ASSERT_STATUS(earn_at(shop.conn, m, 10000, at("-1 minute")), GRPC_STATUS_INVALID_ARGUMENT);
  p->max_backdate_days = 30;
  ASSERT_EQ_INT(update_program(p)->max_backdate_days, 30);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"late_sale_gets_the_campaign_of_its_moment", late_sale_gets_the_campaign_of_its_moment},
    {"late_sales_in_one_batch_get_their_own_moment", late_sales_in_one_batch_get_their_own_moment},
    {"late_sale_gets_the_birthday_month_of_its_moment",
     late_sale_gets_the_birthday_month_of_its_moment},
    {"late_sale_lot_expires_by_its_moment", late_sale_lot_expires_by_its_moment},
    {"late_sale_follows_the_rules_in_force_when_it_happened",
     late_sale_follows_the_rules_in_force_when_it_happened},
    {"bounds_are_refused_with_the_limit", bounds_are_refused_with_the_limit},
    {"hq_may_date_further_back_and_it_is_recorded", hq_may_date_further_back_and_it_is_recorded},
    {"refund_does_not_happen_before_its_purchase", refund_does_not_happen_before_its_purchase},
    {"late_movements_are_flagged_and_listed", late_movements_are_flagged_and_listed},
    {"update_program_without_max_backdate_days_leaves_it",
     update_program_without_max_backdate_days_leaves_it},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
