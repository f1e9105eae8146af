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

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"balance_says_what_is_next", balance_says_what_is_next},
    {"balance_lists_points_expiring_within_90_days", balance_lists_points_expiring_within_90_days},
    {"transactions_come_newest_first_in_pages", transactions_come_newest_first_in_pages},
    {"history_of_unknown_member_is_not_found", history_of_unknown_member_is_not_found},
    {"ledger_rows_cannot_be_changed", ledger_rows_cannot_be_changed},
    {"server_role_cannot_change_the_ledger", server_role_cannot_change_the_ledger},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
