/*
 * test_orders.c - order ids are receipt numbers: unique per (store, order_id) across all
 * members, not per member. The same number at two stores is two purchases; a refund by
 * order_id finds the purchase by the store it was made at (RefundRequest.original_store_code,
 * else the acting store's, else the member's only one). An Earn always happens at a store.
 */
#include "testlib.h"

/* An Earn of order at store, through conn (a store key, or HQ naming store). */
static tl_result earn_order(lc_conn *conn, const char *store, int64_t member, const char *order,
                            int64_t amount_cents)
{
  Loyalty__V1__EarnRequest req = tl_earn_request(member, amount_cents);
  req.order_id = (char *)order;
  req.store_code = (char *)store;
  return tl_call(conn, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
}

/* A refund of amount_cents of the member's purchase order, at store (conn's; "" for HQ with no
 * store), naming original_store ("" for none). */
static tl_result refund_order(lc_conn *conn, int64_t member, const char *order,
                              const char *original_store, int64_t amount_cents)
{
  Loyalty__V1__RefundRequest req = tl_refund_request(member, 0, order, amount_cents);
  req.original_store_code = (char *)original_store;
  return tl_call(conn, POINTS("Refund"), &req.base, &loyalty__v1__points_result__descriptor);
}

/* The earn a refund refunded. */
static int64_t refunded_earn(const Loyalty__V1__PointsResult *refund)
{
  return tl_sql_int("SELECT ref_txn_id FROM ledger WHERE txn_id = %" PRId64,
                    refund->transaction_id);
}

static void same_order_id_at_two_stores_is_two_purchases(void)
{
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store b = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(a.conn, tl_birthday_other_month());
  const char *order = tl_unique("R-0001-"); /* both tills start their numbers at R-0001 */
  ASSERT_EQ_INT(TL_POINTS(earn_order(a.conn, "", m, order, 10000))->points, 100);
  tl_result at_b = earn_order(b.conn, "", m, order, 20000);
  ASSERT_STATUS(at_b, GRPC_STATUS_OK);
  ASSERT_EQ_INT(TL_POINTS(at_b)->points, 200);
  Loyalty__V1__Balance *bal = tl_balance(a.conn, m);
  ASSERT_EQ_INT(bal->balance, 300);
  ASSERT_EQ_INT(bal->lifetime_spend_cents, 30000);
}

static void same_order_id_at_one_store_is_one_purchase_whoever_the_member(void)
{
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store b = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t first = tl_enroll(a.conn, tl_birthday_other_month());
  int64_t second = tl_enroll(a.conn, tl_birthday_other_month());
  const char *order = tl_unique("R-0001-");
  ASSERT_STATUS(earn_order(a.conn, "", first, order, 10000), GRPC_STATUS_OK);
  /* Another member, the same store: that receipt has earned already. */
  tl_result again = earn_order(a.conn, "", second, order, 10000);
  ASSERT_STATUS(again, GRPC_STATUS_ALREADY_EXISTS);
  ASSERT_CONTAINS(again.message, "order already earned");
  /* Another member, another store: another receipt. */
  ASSERT_STATUS(earn_order(b.conn, "", second, order, 10000), GRPC_STATUS_OK);
  /* HQ naming that store is refused the same way. */
  int64_t third = tl_enroll(tl_hq, tl_birthday_other_month());
  tl_result by_hq = earn_order(tl_hq, a.code, third, order, 10000);
  ASSERT_STATUS(by_hq, GRPC_STATUS_ALREADY_EXISTS);
  ASSERT_CONTAINS(by_hq.message, "order already earned");
  /* Nothing written for the refused ones. */
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64, second), 1);
  ASSERT_EQ_INT(tl_balance(a.conn, second)->balance, 100);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64, third), 0);
}

static void hq_earn_must_name_a_store(void)
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  Loyalty__V1__EarnRequest req = tl_earn_request(m, 10000); /* no store_code */
  tl_result r = tl_call(tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_STATUS(r, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64, m), 0);
  /* Naming one, it earns. */
  req.store_code = (char *)tl_hq_store();
  ASSERT_EQ_INT(TL_POINTS(tl_call(tl_hq, POINTS("Earn"), &req.base,
                                  &loyalty__v1__points_result__descriptor))->points, 100);
}

static void refund_by_order_id_finds_the_purchase_by_its_store(void)
{
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store b = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_TMALL);
  tl_store c = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(a.conn, tl_birthday_other_month());
  const char *order = tl_unique("R-0001-");
  Loyalty__V1__PointsResult *at_a = TL_POINTS(earn_order(a.conn, "", m, order, 10000)); /* 100 */
  Loyalty__V1__PointsResult *at_b = TL_POINTS(earn_order(b.conn, "", m, order, 30000)); /* 300 */

  /* At b, with no original_store_code: b's purchase (a's is only 100 yuan). */
  Loyalty__V1__PointsResult *r = TL_POINTS(refund_order(b.conn, m, order, "", 15000));
  ASSERT_EQ_INT(refunded_earn(r), at_b->transaction_id);
  ASSERT_EQ_INT(r->points, -150);
  /* At a store with neither, or HQ for no store: two candidates, so the store must be named. */
  tl_result ambiguous = refund_order(c.conn, m, order, "", 1000);
  ASSERT_STATUS(ambiguous, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(ambiguous.message, "order id is ambiguous: name original_store_code");
  ambiguous = refund_order(tl_hq, m, order, "", 1000);
  ASSERT_STATUS(ambiguous, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(ambiguous.message, "order id is ambiguous: name original_store_code");
  /* Named, it is that store's, wherever the refund is made. */
  r = TL_POINTS(refund_order(c.conn, m, order, a.code, 5000));
  ASSERT_EQ_INT(refunded_earn(r), at_a->transaction_id);
  ASSERT_EQ_INT(r->points, -50);
  r = TL_POINTS(refund_order(tl_hq, m, order, b.code, 15000));
  ASSERT_EQ_INT(refunded_earn(r), at_b->transaction_id);
  ASSERT_EQ_INT(r->points, -150);
  r = TL_POINTS(refund_order(b.conn, m, order, a.code, 1000));
  ASSERT_EQ_INT(refunded_earn(r), at_a->transaction_id);
  ASSERT_EQ_INT(r->points, -10);
  /* By transaction_id as before. */
  r = TL_POINTS(tl_refund(c.conn, m, at_a->transaction_id, NULL, 4000));
  ASSERT_EQ_INT(refunded_earn(r), at_a->transaction_id);
  ASSERT_EQ_INT(r->points, -40);
  Loyalty__V1__Balance *bal = tl_balance(a.conn, m);
  ASSERT_EQ_INT(bal->balance, 0);
  ASSERT_EQ_INT(bal->lifetime_spend_cents, 0);
}

static void refund_by_order_id_finds_the_member_s_only_purchase(void)
{
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store c = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(a.conn, tl_birthday_other_month());
  int64_t other = tl_enroll(c.conn, tl_birthday_other_month());
  const char *order = tl_unique("R-0001-");
  Loyalty__V1__PointsResult *mine = TL_POINTS(earn_order(a.conn, "", m, order, 10000));
  /* The same receipt number at c is another member's purchase: not a candidate. */
  ASSERT_STATUS(earn_order(c.conn, "", other, order, 20000), GRPC_STATUS_OK);
  Loyalty__V1__PointsResult *r = TL_POINTS(refund_order(c.conn, m, order, "", 10000));
  ASSERT_EQ_INT(refunded_earn(r), mine->transaction_id);
  ASSERT_EQ_INT(r->points, -100);
  ASSERT_EQ_INT(tl_balance(c.conn, other)->balance, 200);
}

static void refund_naming_another_store_finds_nothing_there(void)
{
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store b = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(a.conn, tl_birthday_other_month());
  const char *order = tl_unique("R-0001-");
  ASSERT_STATUS(earn_order(a.conn, "", m, order, 10000), GRPC_STATUS_OK);
  /* The purchase was made at a: naming b finds nothing, and takes nothing. */
  tl_result r = refund_order(a.conn, m, order, b.code, 10000);
  ASSERT_STATUS(r, GRPC_STATUS_NOT_FOUND);
  ASSERT_EQ_INT(tl_balance(a.conn, m)->balance, 100);
  ASSERT_EQ_INT(TL_POINTS(refund_order(b.conn, m, order, a.code, 10000))->points, -100);
}

/* Twenty members' earns of one receipt at one store, all at once: group commit puts them in
 * one batch, where the check before writing sees no earlier earn of the order; the unique
 * index must still let exactly one through. */
static void concurrent_earns_of_one_order_at_one_store_earn_once(void)
{
  enum { N = 20 };
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  const char *order = tl_unique("R-0001-");
  Loyalty__V1__EarnRequest req[N];
  tl_parallel_call calls[N];
  for (int i = 0; i < N; i++) {
    req[i] = tl_earn_request(tl_enroll(a.conn, tl_birthday_other_month()), 10000);
    req[i].order_id = (char *)order;
    calls[i] = (tl_parallel_call){.conn = a.conn, .method = POINTS("Earn"), .request = &req[i].base};
  }
  tl_call_concurrently(calls, N);
  ASSERT_EQ_INT(tl_count_status(calls, N, GRPC_STATUS_OK), 1);
  ASSERT_EQ_INT(tl_count_status(calls, N, GRPC_STATUS_ALREADY_EXISTS), N - 1);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM ledger WHERE kind = 'earn' AND order_id = '%s'",
           order);
  ASSERT_EQ_STR(tl_sql_value(sql), "1");
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"same_order_id_at_two_stores_is_two_purchases", same_order_id_at_two_stores_is_two_purchases},
    {"same_order_id_at_one_store_is_one_purchase_whoever_the_member",
     same_order_id_at_one_store_is_one_purchase_whoever_the_member},
    {"hq_earn_must_name_a_store", hq_earn_must_name_a_store},
    {"refund_by_order_id_finds_the_purchase_by_its_store",
     refund_by_order_id_finds_the_purchase_by_its_store},
    {"refund_by_order_id_finds_the_member_s_only_purchase",
     refund_by_order_id_finds_the_member_s_only_purchase},
    {"refund_naming_another_store_finds_nothing_there",
     refund_naming_another_store_finds_nothing_there},
    {"concurrent_earns_of_one_order_at_one_store_earn_once",
     concurrent_earns_of_one_order_at_one_store_earn_once},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
