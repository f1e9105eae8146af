/*
 * test_history.c - GetBalance (tiers to come, points expiring soon) and ListTransactions.
 */
#include "testlib.h"

static void balance_says_what_is_next(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->tier, LOYALTY__V1__TIER__TIER_UNSPECIFIED);
  ASSERT_EQ_INT(b->next_tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  tl_earn(tl_hq, m, 19999);
  b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->member_id, m);
  ASSERT_EQ_INT(b->balance, 199);
  ASSERT_EQ_INT(b->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_EQ_INT(b->next_tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_EQ_INT(b->spend_to_next_tier_cents, 50000 - 19999);
  ASSERT_EQ_INT(b->n_expiring, 0); /* lots last until the end of next year */
  tl_earn(tl_hq, m, 800000);
  b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->tier, LOYALTY__V1__TIER__TIER_SUPREME);
  ASSERT_EQ_INT(b->next_tier, LOYALTY__V1__TIER__TIER_UNSPECIFIED);
  ASSERT_EQ_INT(b->spend_to_next_tier_cents, 0);
}

static void balance_lists_points_expiring_within_90_days(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 10000);
  tl_earn(tl_hq, m, 20000);
  tl_earn(tl_hq, m, 40000);
  char sql[512];
  /* The first two lots expire soon, on two dates; the third does not. */
  snprintf(sql, sizeof sql,
           "UPDATE lots SET expires_on = current_date + CASE points WHEN 100 THEN 10 ELSE 60 END"
           " WHERE member_id = %" PRId64 " AND points IN (100, 200)", m);
  tl_sql(sql);
  tl_redeem(tl_hq, m, 30); /* from the lot expiring first */
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->n_expiring, 2);
  ASSERT_EQ_INT(b->expiring[0]->points, 70);
  ASSERT_EQ_INT(b->expiring[1]->points, 200);
  ASSERT_EQ_STR(b->expiring[0]->expires_on,
                tl_sql_value("SELECT to_char(current_date + 10, 'YYYY-MM-DD')"));
}

static void transactions_come_newest_first_in_pages(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  for (int i = 1; i <= 5; i++)
    tl_earn(s.conn, m, i * 10000);
  tl_redeem(s.conn, m, 50);
  Loyalty__V1__ListTransactionsRequest req = LOYALTY__V1__LIST_TRANSACTIONS_REQUEST__INIT;
  req.member_id = m;
  req.page_size = 4;
  Loyalty__V1__ListTransactionsResponse *page = (Loyalty__V1__ListTransactionsResponse *)tl_call_ok(
      s.conn, POINTS("ListTransactions"), &req.base,
      &loyalty__v1__list_transactions_response__descriptor);
  ASSERT_EQ_INT(page->n_transactions, 4);
  ASSERT_EQ_STR(page->transactions[0]->kind, "redeem");
  ASSERT_EQ_INT(page->transactions[0]->points, -50);
  ASSERT_EQ_INT(page->transactions[0]->balance_after, 1450);
  ASSERT_EQ_STR(page->transactions[0]->store_code, s.code);
  ASSERT_EQ_STR(page->transactions[1]->kind, "earn");
  ASSERT_EQ_INT(page->transactions[1]->amount_cents, 50000);
  ASSERT_EQ_INT(page->transactions[1]->balance_after, 1500);
  ASSERT_TRUE(page->transactions[1]->order_id[0] != '\0');
  ASSERT_TRUE(page->transactions[1]->created_at[0] != '\0');
  ASSERT_TRUE(page->next_page_token[0] != '\0');
  req.page_token = page->next_page_token;
  page = (Loyalty__V1__ListTransactionsResponse *)tl_call_ok(
      s.conn, POINTS("ListTransactions"), &req.base,
      &loyalty__v1__list_transactions_response__descriptor);
  ASSERT_EQ_INT(page->n_transactions, 2);
  ASSERT_EQ_INT(page->transactions[1]->amount_cents, 10000);
  ASSERT_EQ_INT(page->transactions[1]->balance_after, 100);
  ASSERT_EQ_STR(page->next_page_token, "");
}

static void history_of_unknown_member_is_not_found(void)
{
  Loyalty__V1__ListTransactionsRequest req = LOYALTY__V1__LIST_TRANSACTIONS_REQUEST__INIT;
  req.member_id = 987654321;
  ASSERT_STATUS(tl_call(tl_hq, POINTS("ListTransactions"), &req.base,
                        &loyalty__v1__list_transactions_response__descriptor),
                GRPC_STATUS_NOT_FOUND);
  int64_t m = tl_enroll(tl_hq, "");
  req.member_id = m;
  Loyalty__V1__ListTransactionsResponse *empty = (Loyalty__V1__ListTransactionsResponse *)tl_call_ok(
      tl_hq, POINTS("ListTransactions"), &req.base,
      &loyalty__v1__list_transactions_response__descriptor);
  ASSERT_EQ_INT(empty->n_transactions, 0);
}

static void ledger_rows_cannot_be_changed(void)
{
  int64_t m = tl_enroll(tl_hq, "");
  tl_earn(tl_hq, m, 10000);
  char sql[256];
  const char *const attempts[] = {
    "UPDATE ledger SET points = points + 1000 WHERE member_id = %" PRId64,
    "DELETE FROM ledger WHERE member_id = %" PRId64,
    "TRUNCATE ledger CASCADE",
  };
  for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
    snprintf(sql, sizeof sql, attempts[i], m);
    snprintf(sql + strlen(sql), sizeof sql - strlen(sql), ";");
    char *error = tl_sql_error(sql);
    if (error == NULL || strstr(error, "append-only") == NULL)
      tl_fail(__FILE__, __LINE__, "%s: got %s", sql, error ? error : "no error");
  }
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 100);
}

static void server_role_cannot_change_the_ledger(void)
{
  ASSERT_TRUE(tl.server_db[0] != '\0');
  int64_t m = tl_enroll(tl_hq, "");
  tl_earn(tl_hq, m, 10000);
  char sql[256];
  const char *const attempts[] = {
    "UPDATE ledger SET points = points + 1000 WHERE member_id = %" PRId64,
    "DELETE FROM ledger WHERE member_id = %" PRId64,
    "TRUNCATE ledger",
    "ALTER TABLE ledger DISABLE TRIGGER ledger_append_only",
  };
  for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
    snprintf(sql, sizeof sql, attempts[i], m);
    char *error = tl_sql_error_as(tl.server_db, sql);
    if (error == NULL || (strstr(error, "permission denied") == NULL &&
                          strstr(error, "must be owner") == NULL))
      tl_fail(__FILE__, __LINE__, "%s as loyalty_server: got %s", sql, error ? error : "no error");
  }
  /* What it must do, it can. */
  snprintf(sql, sizeof sql, "SELECT count(*) FROM ledger WHERE member_id = %" PRId64, m);
  ASSERT_TRUE(tl_sql_error_as(tl.server_db, sql) == NULL);
  ASSERT_EQ_INT(tl_balance(tl_hq, m)->balance, 100);
}

static Loyalty__V1__ListTransactionsResponse *list_page(lc_conn *conn, int64_t member,
                                                        int32_t page_size, const char *token)
{
  Loyalty__V1__ListTransactionsRequest req = LOYALTY__V1__LIST_TRANSACTIONS_REQUEST__INIT;
  req.member_id = member;
  req.page_size = page_size;
  req.page_token = (char *)token;
  return (Loyalty__V1__ListTransactionsResponse *)tl_call_ok(
      conn, POINTS("ListTransactions"), &req.base,
      &loyalty__v1__list_transactions_response__descriptor);
}

static void page_size_zero_means_fifty(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  for (int i = 1; i <= 55; i++)
    tl_earn(tl_hq, m, i * 100); /* i points */
  Loyalty__V1__ListTransactionsResponse *page = list_page(tl_hq, m, 0, "");
  ASSERT_EQ_INT(page->n_transactions, 50);
  ASSERT_EQ_INT(page->transactions[0]->points, 55);
  ASSERT_EQ_INT(page->transactions[49]->points, 6);
  ASSERT_TRUE(page->next_page_token[0] != '\0');
  page = list_page(tl_hq, m, 0, page->next_page_token);
  ASSERT_EQ_INT(page->n_transactions, 5);
  ASSERT_EQ_INT(page->transactions[4]->points, 1);
  ASSERT_EQ_INT(page->transactions[4]->balance_after, 1);
  ASSERT_EQ_STR(page->next_page_token, "");
  /* One page of up to 500 holds them all. */
  page = list_page(tl_hq, m, 500, "");
  ASSERT_EQ_INT(page->n_transactions, 55);
  ASSERT_EQ_STR(page->next_page_token, "");
  ASSERT_EQ_INT(page->transactions[0]->balance_after, 55 * 56 / 2);
}

static void pages_hold_still_while_new_movements_arrive(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  for (int i = 1; i <= 4; i++)
    tl_earn(tl_hq, m, i * 100);
  Loyalty__V1__ListTransactionsResponse *page = list_page(tl_hq, m, 2, "");
  ASSERT_EQ_INT(page->transactions[0]->points, 4);
  ASSERT_EQ_INT(page->transactions[1]->points, 3);
  tl_earn(tl_hq, m, 500); /* a till earns while HQ pages through the history */
  page = list_page(tl_hq, m, 2, page->next_page_token);
  ASSERT_EQ_INT(page->n_transactions, 2);
  ASSERT_EQ_INT(page->transactions[0]->points, 2);
  ASSERT_EQ_INT(page->transactions[1]->points, 1);
}

static void every_movement_is_listed_as_it_happened(void)
{
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store b = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_TMALL);
  int64_t m = tl_enroll(a.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest earn = tl_earn_request(m, 40000); /* 400 at a */
  tl_call_ok(a.conn, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  Loyalty__V1__RedeemRequest redeem = tl_redeem_request(m, 150); /* at b */
  redeem.order_id = (char *)tl_unique("gift");
  Loyalty__V1__PointsResult *red = (Loyalty__V1__PointsResult *)tl_call_ok(
      b.conn, POINTS("Redeem"), &redeem.base, &loyalty__v1__points_result__descriptor);
  Loyalty__V1__RefundRequest refund = tl_refund_request(m, 0, earn.order_id, 10000); /* -100, b */
  tl_call_ok(b.conn, POINTS("Refund"), &refund.base, &loyalty__v1__points_result__descriptor);
  Loyalty__V1__PointsResult *c = TL_POINTS(tl_cancel(a.conn, m, red->transaction_id)); /* +150 */
  Loyalty__V1__AdjustPointsRequest adjust = LOYALTY__V1__ADJUST_POINTS_REQUEST__INIT;
  adjust.request_id = (char *)tl_unique("adj");
  adjust.member_id = m;
  adjust.points = 50;
  adjust.reason = "goodwill";
  tl_call_ok(tl_hq, ADMIN("AdjustPoints"), &adjust.base,
             &loyalty__v1__points_result__descriptor); /* +50, by HQ for no store */

  Loyalty__V1__ListTransactionsResponse *page = list_page(a.conn, m, 10, "");
  ASSERT_EQ_INT(page->n_transactions, 5);
  Loyalty__V1__Transaction **t = page->transactions;
  static const char *const kinds[] = {"adjustment", "cancel_redemption", "refund", "redeem", "earn"};
  static const int64_t points[] = {50, 150, -100, -150, 400};
  static const int64_t after[] = {350, 300, 150, 250, 400};
  for (int i = 0; i < 5; i++) {
    ASSERT_EQ_STR(t[i]->kind, kinds[i]);
    ASSERT_EQ_INT(t[i]->points, points[i]);
    ASSERT_EQ_INT(t[i]->balance_after, after[i]);
    ASSERT_TRUE(t[i]->created_at[0] != '\0');
  }
  ASSERT_EQ_STR(t[0]->store_code, "");
  ASSERT_EQ_STR(t[1]->store_code, a.code);
  ASSERT_EQ_INT(t[1]->transaction_id, c->transaction_id);
  ASSERT_EQ_STR(t[2]->store_code, b.code);
  ASSERT_EQ_STR(t[2]->request_id, refund.request_id);
  ASSERT_EQ_STR(t[3]->store_code, b.code);
  ASSERT_EQ_STR(t[3]->order_id, redeem.order_id);
  ASSERT_EQ_STR(t[3]->request_id, redeem.request_id);
  ASSERT_EQ_INT(t[3]->transaction_id, red->transaction_id);
  ASSERT_EQ_STR(t[4]->store_code, a.code);
  ASSERT_EQ_STR(t[4]->order_id, earn.order_id);
  ASSERT_EQ_STR(t[4]->request_id, earn.request_id);
  ASSERT_EQ_INT(t[4]->amount_cents, 40000);
  /* Newest first also when two rows share a timestamp: transaction ids fall. */
  for (int i = 1; i < 5; i++)
    ASSERT_TRUE(t[i]->transaction_id < t[i - 1]->transaction_id);
}

static void balance_counts_down_to_each_tier(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_earn(tl_hq, m, 60000);
  Loyalty__V1__Balance *b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_EQ_INT(b->next_tier, LOYALTY__V1__TIER__TIER_VIP);
  ASSERT_EQ_INT(b->spend_to_next_tier_cents, 300000 - 60000);
  tl_earn(tl_hq, m, 240000);
  b = tl_balance(tl_hq, m);
  ASSERT_EQ_INT(b->tier, LOYALTY__V1__TIER__TIER_VIP);
  ASSERT_EQ_INT(b->next_tier, LOYALTY__V1__TIER__TIER_SUPREME);
  ASSERT_EQ_INT(b->spend_to_next_tier_cents, 500000);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 300000);
  ASSERT_EQ_INT(b->balance, 600 + 2400);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"balance_says_what_is_next", balance_says_what_is_next},
    {"balance_lists_points_expiring_within_90_days", balance_lists_points_expiring_within_90_days},
    {"transactions_come_newest_first_in_pages", transactions_come_newest_first_in_pages},
    {"history_of_unknown_member_is_not_found", history_of_unknown_member_is_not_found},
    {"ledger_rows_cannot_be_changed", ledger_rows_cannot_be_changed},
    {"page_size_zero_means_fifty", page_size_zero_means_fifty},
    {"pages_hold_still_while_new_movements_arrive", pages_hold_still_while_new_movements_arrive},
    {"every_movement_is_listed_as_it_happened", every_movement_is_listed_as_it_happened},
    {"balance_counts_down_to_each_tier", balance_counts_down_to_each_tier},
    {"server_role_cannot_change_the_ledger", server_role_cannot_change_the_ledger},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
