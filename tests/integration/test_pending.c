/*
 * test_pending.c - pending points (积分待入账): an earn at a store whose channel has pending
 * days is not spendable until the buyer confirms receipt (ConfirmOrder) or HQ's run releases
 * it on its date; a refund before that takes pending points only. The stores here are of
 * channel OTHER, which no other test uses; runs alone, as it changes the program and runs
 * ReleasePending.
 */
#include "testlib.h"

#define PENDING_DAYS 15

static Loyalty__V1__Program *get_program(void)
{
  Loyalty__V1__GetProgramRequest req = LOYALTY__V1__GET_PROGRAM_REQUEST__INIT;
  return (Loyalty__V1__Program *)tl_call_ok(tl_hq, ADMIN("GetProgram"), &req.base,
                                            &loyalty__v1__program__descriptor);
}

/* UpdateProgram of the current rules with only CHANNEL_OTHER pending for days (0: none). */
static tl_result set_pending_other(int days)
{
  return tl_set_pending_days(LOYALTY__V1__CHANNEL__CHANNEL_OTHER, days);
}

/* A store of channel OTHER with PENDING_DAYS pending days. */
static tl_store pending_store(void)
{
  ASSERT_STATUS(set_pending_other(PENDING_DAYS), GRPC_STATUS_OK);
  return tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_OTHER);
}

/* Today + days in the program's time zone, YYYY-MM-DD. */
static const char *local_date(int days)
{
  char sql[160];
  snprintf(sql, sizeof sql,
           "SELECT to_char((now() AT TIME ZONE time_zone)::date + %d, 'YYYY-MM-DD') FROM program",
           days);
  return tl_sql_value(sql);
}

static Loyalty__V1__PointsResult *earn(tl_store s, int64_t member, int64_t cents,
                                       Loyalty__V1__EarnRequest *out)
{
  Loyalty__V1__EarnRequest req = tl_earn_request(member, cents);
  if (out != NULL)
    *out = req;
  return (Loyalty__V1__PointsResult *)tl_call_ok(s.conn, POINTS("Earn"), &req.base,
                                                 &loyalty__v1__points_result__descriptor);
}

static Loyalty__V1__ConfirmOrderRequest confirm_request(int64_t member, int64_t txn,
                                                        const char *order)
{
  Loyalty__V1__ConfirmOrderRequest req = LOYALTY__V1__CONFIRM_ORDER_REQUEST__INIT;
  req.request_id = (char *)tl_unique("c");
  req.member_id = member;
  if (order != NULL) {
    req.original_case = LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL_ORDER_ID;
    req.order_id = (char *)order;
  } else {
    req.original_case = LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL_TRANSACTION_ID;
    req.transaction_id = txn;
  }
  return req;
}

static tl_result confirm(lc_conn *conn, int64_t member, int64_t txn, const char *order)
{
  Loyalty__V1__ConfirmOrderRequest req = confirm_request(member, txn, order);
  return tl_call(conn, POINTS("ConfirmOrder"), &req.base, &loyalty__v1__points_result__descriptor);
}

static Loyalty__V1__ReleasePendingResponse *release_pending(const char *as_of)
{
  Loyalty__V1__ReleasePendingRequest req = LOYALTY__V1__RELEASE_PENDING_REQUEST__INIT;
  req.as_of = (char *)as_of;
  return (Loyalty__V1__ReleasePendingResponse *)tl_call_ok(
      tl_hq, ADMIN("ReleasePending"), &req.base, &loyalty__v1__release_pending_response__descriptor);
}

static Loyalty__V1__Transaction *history_row(lc_conn *conn, int64_t member, int64_t txn)
{
  Loyalty__V1__ListTransactionsRequest req = LOYALTY__V1__LIST_TRANSACTIONS_REQUEST__INIT;
  req.member_id = member;
  Loyalty__V1__ListTransactionsResponse *page = (Loyalty__V1__ListTransactionsResponse *)
      tl_call_ok(conn, POINTS("ListTransactions"), &req.base,
                 &loyalty__v1__list_transactions_response__descriptor);
  for (size_t i = 0; i < page->n_transactions; i++) {
    if (page->transactions[i]->transaction_id == txn)
      return page->transactions[i];
  }
  tl_fail(__FILE__, __LINE__, "transaction %" PRId64 " not in the history", txn);
}

static int64_t release_rows(int64_t member)
{
  return tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64
                    " AND kind = 'release'", member);
}

static void pending_points_are_shown_but_not_spendable(void)
{
  tl_store s = pending_store();
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest req;
  Loyalty__V1__PointsResult *r = earn(s, m, 12345, &req);
  ASSERT_EQ_INT(r->points, 0);
  ASSERT_EQ_INT(r->pending_points, 123);
  ASSERT_EQ_INT(r->balance, 0);
  ASSERT_EQ_STR(r->release_on, local_date(PENDING_DAYS));
  ASSERT_CONTAINS(r->explanation, "pending until");
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_UNSPECIFIED); /* no purchase counted yet */

  Loyalty__V1__Balance *b = tl_balance(s.conn, m);
  ASSERT_EQ_INT(b->balance, 0);
  ASSERT_EQ_INT(b->pending_points, 123);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 0);
  ASSERT_EQ_INT(b->n_pending, 1);
  ASSERT_EQ_INT(b->pending[0]->transaction_id, r->transaction_id);
  ASSERT_EQ_INT(b->pending[0]->points, 123);
  ASSERT_EQ_STR(b->pending[0]->order_id, req.order_id);
  ASSERT_EQ_STR(b->pending[0]->store_code, s.code);
  ASSERT_EQ_STR(b->pending[0]->release_on, local_date(PENDING_DAYS));

  tl_result spend = tl_redeem(s.conn, m, 1);
  ASSERT_STATUS(spend, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(spend.message, "insufficient points");

  Loyalty__V1__Transaction *t = history_row(s.conn, m, r->transaction_id);
  ASSERT_EQ_STR(t->kind, "earn");
  ASSERT_EQ_INT(t->points, 0);
  ASSERT_EQ_INT(t->pending_points, 123);
  ASSERT_EQ_STR(t->release_on, local_date(PENDING_DAYS));

  /* A retry answers the same, pending points and date included. */
  Loyalty__V1__PointsResult *again = (Loyalty__V1__PointsResult *)tl_call_ok(
      s.conn, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_TRUE(again->replayed);
  ASSERT_EQ_INT(again->pending_points, 123);
  ASSERT_EQ_STR(again->release_on, local_date(PENDING_DAYS));
  ASSERT_EQ_STR(again->explanation, r->explanation);
}

/* A sale synced late follows the rules of its moment (business time): pending days set after
 * it do not make it pending. (Three days ago, this test database had no pending days.) */
static void a_late_sale_follows_the_pending_days_of_its_moment(void)
{
  tl_store s = pending_store();
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest req = tl_earn_request(m, 10000);
  req.occurred_at = tl_sql_value("SELECT to_char((now() - interval '3 days') AT TIME ZONE 'UTC',"
                                 " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
  Loyalty__V1__PointsResult *r = (Loyalty__V1__PointsResult *)tl_call_ok(
      s.conn, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_EQ_INT(r->points, 100);
  ASSERT_EQ_INT(r->pending_points, 0);
  ASSERT_EQ_STR(r->release_on, "");
  ASSERT_EQ_INT(tl_balance(s.conn, m)->n_pending, 0);
}

static void confirm_order_releases_the_points_once(void)
{
  tl_store s = pending_store();
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest by_order, by_txn;
  earn(s, m, 20000, &by_order);
  Loyalty__V1__PointsResult *second = earn(s, m, 5000, &by_txn);

  Loyalty__V1__ConfirmOrderRequest req = confirm_request(m, 0, by_order.order_id);
  Loyalty__V1__PointsResult *r = (Loyalty__V1__PointsResult *)tl_call_ok(
      s.conn, POINTS("ConfirmOrder"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_EQ_INT(r->points, 200);
  ASSERT_EQ_INT(r->balance, 200);
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_TRUE(r->tier_changed);
  ASSERT_TRUE(!r->replayed);
  /* The same request again: the same answer, replayed. */
  Loyalty__V1__PointsResult *replay = (Loyalty__V1__PointsResult *)tl_call_ok(
      s.conn, POINTS("ConfirmOrder"), &req.base, &loyalty__v1__points_result__descriptor);
  ASSERT_TRUE(replay->replayed);
  ASSERT_EQ_INT(replay->transaction_id, r->transaction_id);
  ASSERT_EQ_INT(replay->points, 200);
  /* Another confirmation of that order: OK, nothing more; and so is its retry. */
  Loyalty__V1__ConfirmOrderRequest again = confirm_request(m, 0, by_order.order_id);
  for (int i = 0; i < 2; i++) {
    Loyalty__V1__PointsResult *late = (Loyalty__V1__PointsResult *)tl_call_ok(
        s.conn, POINTS("ConfirmOrder"), &again.base, &loyalty__v1__points_result__descriptor);
    ASSERT_EQ_INT(late->points, 0);
    ASSERT_EQ_INT(late->transaction_id, 0);
    ASSERT_EQ_INT(late->balance, 200);
    ASSERT_EQ_INT(late->replayed, i == 1);
  }
  ASSERT_EQ_INT(release_rows(m), 1);

  /* By transaction id, with an HQ key. */
  ASSERT_EQ_INT(TL_POINTS(confirm(tl_hq, m, second->transaction_id, NULL))->points, 50);
  Loyalty__V1__Balance *b = tl_balance(s.conn, m);
  ASSERT_EQ_INT(b->balance, 250);
  ASSERT_EQ_INT(b->pending_points, 0);
  ASSERT_EQ_INT(b->n_pending, 0);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 25000);
  ASSERT_EQ_INT(release_rows(m), 2);
  Loyalty__V1__Transaction *t = history_row(s.conn, m, r->transaction_id);
  ASSERT_EQ_STR(t->kind, "release");
  ASSERT_EQ_INT(t->points, 200);
  ASSERT_EQ_INT(t->pending_points, -200);
  ASSERT_EQ_INT(t->balance_after, 200);

  /* Now spendable, from the lot made at the release (expiring as the earn's would). */
  ASSERT_EQ_INT(TL_POINTS(tl_redeem(s.conn, m, 250))->balance, 0);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM lots WHERE member_id = %" PRId64
                           " AND expires_on = make_date(extract(year FROM (now() AT TIME ZONE"
                           " 'Asia/Shanghai'))::int + 1, 12, 31)", m), 2);

  /* Bad requests. */
  Loyalty__V1__ConfirmOrderRequest none = confirm_request(m, 0, NULL);
  none.original_case = LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL__NOT_SET;
  ASSERT_STATUS(tl_call(s.conn, POINTS("ConfirmOrder"), &none.base,
                        &loyalty__v1__points_result__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_STATUS(confirm(s.conn, m, 0, "no-such-order"), GRPC_STATUS_NOT_FOUND);
}

static void a_fully_refunded_order_cannot_be_confirmed(void)
{
  tl_store s = pending_store();
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  Loyalty__V1__PointsResult *e = earn(s, m, 30000, NULL);
  Loyalty__V1__PointsResult *f = TL_POINTS(tl_refund(s.conn, m, e->transaction_id, NULL, 30000));
  ASSERT_EQ_INT(f->points, 0);
  ASSERT_EQ_INT(f->balance, 0);
  tl_result c = confirm(s.conn, m, e->transaction_id, NULL);
  ASSERT_STATUS(c, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(c.message, "refunded in full");
  Loyalty__V1__Balance *b = tl_balance(s.conn, m);
  ASSERT_EQ_INT(b->pending_points, 0);
  ASSERT_EQ_INT(b->n_pending, 0);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 0);
  ASSERT_EQ_INT(b->tier, LOYALTY__V1__TIER__TIER_UNSPECIFIED);
  /* Never released by the run either. */
  release_pending(local_date(PENDING_DAYS));
  ASSERT_EQ_INT(release_rows(m), 0);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->balance, 0);
}

static void refund_before_release_takes_pending_points_only(void)
{
  tl_store pos = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store s = pending_store();
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  tl_earn(pos.conn, m, 5000);
  tl_redeem(pos.conn, m, 50); /* balance 0: a refund of a credited earn would go negative */
  Loyalty__V1__EarnRequest req;
  Loyalty__V1__PointsResult *e = earn(s, m, 19900, &req); /* 199 points pending */

  /* A third of the amount, twice, then the release: the proportion rule of every refund. */
  Loyalty__V1__PointsResult *f = TL_POINTS(tl_refund(s.conn, m, 0, req.order_id, 6633));
  ASSERT_EQ_INT(f->points, 0);
  ASSERT_EQ_INT(f->balance, 0);
  Loyalty__V1__Balance *b = tl_balance(s.conn, m);
  ASSERT_EQ_INT(b->balance, 0);
  ASSERT_EQ_INT(b->pending_points, 199 - 66);  /* floor(199 x 6633 / 19900) = 66 */
  ASSERT_EQ_INT(b->pending[0]->points, 133);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 5000);
  Loyalty__V1__Transaction *t = history_row(s.conn, m, f->transaction_id);
  ASSERT_EQ_INT(t->points, 0);
  ASSERT_EQ_INT(t->pending_points, -66);
  TL_POINTS(tl_refund(s.conn, m, e->transaction_id, NULL, 6633));
  ASSERT_EQ_INT(tl_balance(s.conn, m)->pending_points, 199 - 132); /* floor(199 x 2/3) */

  Loyalty__V1__PointsResult *r = TL_POINTS(confirm(s.conn, m, e->transaction_id, NULL));
  ASSERT_EQ_INT(r->points, 67);
  ASSERT_EQ_INT(r->balance, 67);
  b = tl_balance(s.conn, m);
  ASSERT_EQ_INT(b->pending_points, 0);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 5000 + 19900 - 2 * 6633);

  /* The last third after the release: from the balance, and the three take 199 in all. */
  Loyalty__V1__PointsResult *last = TL_POINTS(tl_refund(s.conn, m, e->transaction_id, NULL, 6634));
  ASSERT_EQ_INT(last->points, -67);
  ASSERT_EQ_INT(last->balance, 0);
  b = tl_balance(s.conn, m);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 5000);
  ASSERT_STATUS(tl_refund(s.conn, m, e->transaction_id, NULL, 1), GRPC_STATUS_FAILED_PRECONDITION);
}

static void the_run_releases_what_is_due_once_even_twice_at_once(void)
{
  enum { MEMBERS = 12 };
  tl_store s = pending_store();
  int64_t members[MEMBERS];
  Loyalty__V1__EarnRequest first;
  for (int i = 0; i < MEMBERS; i++) {
    members[i] = tl_enroll(s.conn, tl_birthday_other_month());
    earn(s, members[i], 10000 + 100 * i, i == 0 ? &first : NULL);
  }
  /* The day before the release date: nothing of ours. */
  release_pending(local_date(PENDING_DAYS - 1));
  for (int i = 0; i < MEMBERS; i++)
    ASSERT_EQ_INT(release_rows(members[i]), 0);

  Loyalty__V1__ReleasePendingRequest req = LOYALTY__V1__RELEASE_PENDING_REQUEST__INIT;
  req.as_of = (char *)local_date(PENDING_DAYS);
  tl_parallel_call calls[2];
  for (int i = 0; i < 2; i++)
    calls[i] = (tl_parallel_call){.conn = tl_hq, .method = ADMIN("ReleasePending"),
                                  .request = &req.base,
                                  .response_type = &loyalty__v1__release_pending_response__descriptor};
  tl_call_concurrently(calls, 2);
  ASSERT_EQ_INT(tl_count_status(calls, 2, GRPC_STATUS_OK), 2);
  int64_t earns = 0;
  for (int i = 0; i < 2; i++) {
    Loyalty__V1__ReleasePendingResponse *out =
        (Loyalty__V1__ReleasePendingResponse *)calls[i].result.response;
    ASSERT_EQ_STR(out->as_of, req.as_of);
    earns += out->earns;
  }
  ASSERT_TRUE(earns >= MEMBERS);
  for (int i = 0; i < MEMBERS; i++) {
    ASSERT_EQ_INT(release_rows(members[i]), 1);
    Loyalty__V1__Balance *b = tl_balance(s.conn, members[i]);
    ASSERT_EQ_INT(b->balance, 100 + i);
    ASSERT_EQ_INT(b->pending_points, 0);
    ASSERT_EQ_INT(b->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  }
  /* Again, later: nothing more; and a confirmation after the run is OK with 0 points. */
  Loyalty__V1__ReleasePendingResponse *again = release_pending(local_date(PENDING_DAYS + 1));
  ASSERT_EQ_INT(again->earns, 0);
  ASSERT_EQ_INT(TL_POINTS(confirm(s.conn, members[0], 0, first.order_id))->points, 0);
  Loyalty__V1__ReleasePendingRequest bad = LOYALTY__V1__RELEASE_PENDING_REQUEST__INIT;
  bad.as_of = "2026-02-30";
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("ReleasePending"), &bad.base,
                        &loyalty__v1__release_pending_response__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
}

static void the_tier_moves_when_the_points_are_released(void)
{
  tl_store pos = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store s = pending_store();
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  tl_earn(pos.conn, m, 40000); /* ordinary; senior from 500 yuan */
  Loyalty__V1__PointsResult *e = earn(s, m, 20000, NULL);
  ASSERT_EQ_INT(e->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_TRUE(!e->tier_changed);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->lifetime_spend_cents, 40000);
  Loyalty__V1__PointsResult *r = TL_POINTS(confirm(s.conn, m, e->transaction_id, NULL));
  ASSERT_EQ_INT(r->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_TRUE(r->tier_changed);
  ASSERT_EQ_INT(tl_balance(s.conn, m)->lifetime_spend_cents, 60000);
  char sql[160];
  snprintf(sql, sizeof sql,
           "SELECT reason FROM tier_changes WHERE member_id = %" PRId64 " AND new_tier = 2", m);
  ASSERT_EQ_STR(tl_sql_value(sql), "release");
}

/* A member whose first purchase was pending bought for the first time when the sale
 * happened, not when its points were released. */
static void a_first_purchase_counts_from_its_sale(void)
{
  tl_store s = pending_store();
  int64_t m = tl_enroll(s.conn, tl_birthday_other_month());
  Loyalty__V1__PointsResult *e = earn(s, m, 20000, NULL);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM members WHERE member_id = %" PRId64
                           " AND first_purchase_at IS NULL", m), 1);
  TL_POINTS(confirm(s.conn, m, e->transaction_id, NULL));
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM members m JOIN ledger l"
                           " ON l.txn_id = %" PRId64 " AND m.first_purchase_at = l.occurred_at"
                           " WHERE m.member_id = %" PRId64, e->transaction_id, m), 1);
}

static void a_merge_carries_pending_points(void)
{
  tl_store s = pending_store();
  int64_t keep = tl_enroll(s.conn, tl_birthday_other_month());
  int64_t twin = tl_enroll(s.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest req;
  earn(s, twin, 8800, &req);
  Loyalty__V1__MergeMembersRequest merge = LOYALTY__V1__MERGE_MEMBERS_REQUEST__INIT;
  merge.request_id = (char *)tl_unique("merge");
  merge.keep = keep;
  merge.merge = twin;
  tl_call_ok(tl_hq, ADMIN("MergeMembers"), &merge.base, &loyalty__v1__points_result__descriptor);
  Loyalty__V1__Balance *b = tl_balance(s.conn, keep);
  ASSERT_EQ_INT(b->balance, 0);
  ASSERT_EQ_INT(b->pending_points, 88);
  ASSERT_EQ_INT(b->n_pending, 1);
  ASSERT_EQ_STR(b->pending[0]->order_id, req.order_id);
  ASSERT_EQ_INT(TL_POINTS(confirm(s.conn, keep, 0, req.order_id))->points, 88);
  b = tl_balance(s.conn, keep);
  ASSERT_EQ_INT(b->balance, 88);
  ASSERT_EQ_INT(b->pending_points, 0);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 8800);
}

static void group_committed_earns_are_pending_too(void)
{
  enum { N = 8 };
  tl_store s = pending_store();
  Loyalty__V1__EarnRequest reqs[N];
  tl_parallel_call calls[N];
  for (int i = 0; i < N; i++) {
    reqs[i] = tl_earn_request(tl_enroll(s.conn, tl_birthday_other_month()), 10000);
    calls[i] = (tl_parallel_call){.conn = s.conn, .method = POINTS("Earn"), .request = &reqs[i].base};
  }
  tl_call_concurrently(calls, N);
  for (int i = 0; i < N; i++) {
    ASSERT_STATUS(calls[i].result, GRPC_STATUS_OK);
    Loyalty__V1__PointsResult *r = (Loyalty__V1__PointsResult *)calls[i].result.response;
    ASSERT_EQ_INT(r->points, 0);
    ASSERT_EQ_INT(r->pending_points, 100);
    ASSERT_EQ_INT(tl_balance(s.conn, reqs[i].member_id)->pending_points, 100);
  }
}

static void a_store_with_no_pending_days_credits_at_once(void)
{
  pending_store();
  tl_store pos = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t m = tl_enroll(pos.conn, tl_birthday_other_month());
  Loyalty__V1__PointsResult *e = TL_POINTS(tl_earn(pos.conn, m, 10000));
  ASSERT_EQ_INT(e->points, 100);
  ASSERT_EQ_INT(e->pending_points, 0);
  ASSERT_EQ_STR(e->release_on, "");
  ASSERT_EQ_INT(tl_balance(pos.conn, m)->n_pending, 0);
  ASSERT_EQ_STR(history_row(pos.conn, m, e->transaction_id)->release_on, "");
  /* Confirming it is harmless. */
  Loyalty__V1__PointsResult *c = TL_POINTS(confirm(pos.conn, m, e->transaction_id, NULL));
  ASSERT_EQ_INT(c->points, 0);
  ASSERT_EQ_INT(c->balance, 100);
}

static void pending_days_are_program_rules(void)
{
  pending_store();
  Loyalty__V1__Program *p = get_program();
  ASSERT_TRUE(p->pending_days != NULL);
  ASSERT_EQ_INT(p->pending_days->n_channels, 1);
  ASSERT_EQ_INT(p->pending_days->channels[0]->channel, LOYALTY__V1__CHANNEL__CHANNEL_OTHER);
  ASSERT_EQ_INT(p->pending_days->channels[0]->days, PENDING_DAYS);
  /* Left out of an update: unchanged. (p is freed with its own pending_days at the end.) */
  Loyalty__V1__PendingDays *own = p->pending_days;
  p->pending_days = NULL;
  p->min_paid_cents = 0;
  Loyalty__V1__Program *same = (Loyalty__V1__Program *)tl_call_ok(
      tl_hq, ADMIN("UpdateProgram"), &p->base, &loyalty__v1__program__descriptor);
  ASSERT_EQ_INT(same->pending_days->n_channels, 1);
  ASSERT_EQ_INT(same->pending_days->channels[0]->days, PENDING_DAYS);

  tl_result too_long = set_pending_other(91);
  ASSERT_STATUS(too_long, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(too_long.message, "pending days");
  ASSERT_STATUS(set_pending_other(-1), GRPC_STATUS_INVALID_ARGUMENT);
  Loyalty__V1__PendingDays twice = LOYALTY__V1__PENDING_DAYS__INIT;
  Loyalty__V1__ChannelDays a = LOYALTY__V1__CHANNEL_DAYS__INIT, b = LOYALTY__V1__CHANNEL_DAYS__INIT;
  Loyalty__V1__ChannelDays *list[] = {&a, &b};
  a.channel = b.channel = LOYALTY__V1__CHANNEL__CHANNEL_JD;
  twice.n_channels = 2;
  twice.channels = list;
  p->pending_days = &twice;
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("UpdateProgram"), &p->base, &loyalty__v1__program__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  a.channel = LOYALTY__V1__CHANNEL__CHANNEL_UNSPECIFIED;
  twice.n_channels = 1;
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("UpdateProgram"), &p->base, &loyalty__v1__program__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  /* Off again: no channel listed. */
  twice.n_channels = 0;
  Loyalty__V1__Program *off = (Loyalty__V1__Program *)tl_call_ok(
      tl_hq, ADMIN("UpdateProgram"), &p->base, &loyalty__v1__program__descriptor);
  ASSERT_EQ_INT(off->pending_days->n_channels, 0);
  p->pending_days = own;
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"pending_points_are_shown_but_not_spendable", pending_points_are_shown_but_not_spendable},
    {"a_late_sale_follows_the_pending_days_of_its_moment",
     a_late_sale_follows_the_pending_days_of_its_moment},
    {"confirm_order_releases_the_points_once", confirm_order_releases_the_points_once},
    {"a_fully_refunded_order_cannot_be_confirmed", a_fully_refunded_order_cannot_be_confirmed},
    {"refund_before_release_takes_pending_points_only",
     refund_before_release_takes_pending_points_only},
    {"the_run_releases_what_is_due_once_even_twice_at_once",
     the_run_releases_what_is_due_once_even_twice_at_once},
    {"the_tier_moves_when_the_points_are_released", the_tier_moves_when_the_points_are_released},
    {"a_first_purchase_counts_from_its_sale", a_first_purchase_counts_from_its_sale},
    {"a_merge_carries_pending_points", a_merge_carries_pending_points},
    {"group_committed_earns_are_pending_too", group_committed_earns_are_pending_too},
    {"a_store_with_no_pending_days_credits_at_once", a_store_with_no_pending_days_credits_at_once},
    {"pending_days_are_program_rules", pending_days_are_program_rules},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
