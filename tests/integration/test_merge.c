/*
 * test_merge.c - HQ merges two records of one person: everything of value moves, the merged
 * record closes, and nothing is lost or counted twice even with earns on both at once.
 */
#include <pthread.h>

#include "testlib.h"

static tl_result merge(int64_t keep, int64_t merged, const char *request_id)
{
  Loyalty__V1__MergeMembersRequest req = LOYALTY__V1__MERGE_MEMBERS_REQUEST__INIT;
  req.request_id = (char *)request_id;
  req.keep = keep;
  req.merge = merged;
  return tl_call(tl_hq, ADMIN("MergeMembers"), &req.base, &loyalty__v1__points_result__descriptor);
}

static void merge_moves_everything_and_closes_the_record(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t keep = tl_enroll(s.conn, tl_birthday_other_month());
  int64_t twin = tl_enroll(s.conn, tl_birthday_other_month());
  tl_earn(s.conn, keep, 10000);
  Loyalty__V1__EarnRequest twin_purchase = tl_earn_request(twin, 30000);
  tl_call_ok(s.conn, POINTS("Earn"), &twin_purchase.base, &loyalty__v1__points_result__descriptor);
  tl_redeem(s.conn, twin, 50);
  Loyalty__V1__LinkIdentityRequest link = LOYALTY__V1__LINK_IDENTITY_REQUEST__INIT;
  Loyalty__V1__Identity id = LOYALTY__V1__IDENTITY__INIT;
  id.kind = "tmall_nick";
  id.value = (char *)tl_unique("nick");
  link.request_id = (char *)tl_unique("l");
  link.member_id = twin;
  link.identity = &id;
  tl_call_ok(s.conn, POINTS("LinkIdentity"), &link.base, &loyalty__v1__member__descriptor);

  const char *request_id = tl_unique("merge");
  Loyalty__V1__PointsResult *r = TL_POINTS(merge(keep, twin, request_id));
  ASSERT_EQ_INT(r->points, 250);
  ASSERT_EQ_INT(r->balance, 350);
  ASSERT_TRUE(TL_POINTS(merge(keep, twin, request_id))->replayed);
  Loyalty__V1__Balance *b = tl_balance(s.conn, keep);
  ASSERT_EQ_INT(b->balance, 350);
  ASSERT_EQ_INT(b->lifetime_spend_cents, 40000);

  /* The merged record is closed, and says where its person went. */
  char want[64];
  snprintf(want, sizeof want, "into member %" PRId64, keep);
  Loyalty__V1__GetBalanceRequest gb = LOYALTY__V1__GET_BALANCE_REQUEST__INIT;
  gb.member_id = twin;
  tl_result closed = tl_call(s.conn, POINTS("GetBalance"), &gb.base, &loyalty__v1__balance__descriptor);
  ASSERT_STATUS(closed, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(closed.message, want);
  tl_result no_earn = tl_earn(s.conn, twin, 100);
  ASSERT_STATUS(no_earn, GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_CONTAINS(no_earn.message, want);
  ASSERT_STATUS(merge(keep, twin, tl_unique("merge")), GRPC_STATUS_FAILED_PRECONDITION);
  ASSERT_STATUS(merge(keep, keep, tl_unique("merge")), GRPC_STATUS_INVALID_ARGUMENT);

  /* Its identity finds the kept member; its purchase can be refunded there. */
  Loyalty__V1__GetMemberRequest gm = LOYALTY__V1__GET_MEMBER_REQUEST__INIT;
  gm.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_IDENTITY;
  gm.identity = &id;
  ASSERT_EQ_INT(((Loyalty__V1__Member *)tl_call_ok(s.conn, POINTS("GetMember"), &gm.base,
                                                   &loyalty__v1__member__descriptor))->member_id,
                keep);
  Loyalty__V1__RefundRequest refund = LOYALTY__V1__REFUND_REQUEST__INIT;
  refund.request_id = (char *)tl_unique("f");
  refund.member_id = keep;
  refund.original_case = LOYALTY__V1__REFUND_REQUEST__ORIGINAL_ORDER_ID;
  refund.order_id = twin_purchase.order_id;
  refund.amount_cents = 30000;
  Loyalty__V1__PointsResult *back = TL_POINTS(tl_call(s.conn, POINTS("Refund"), &refund.base,
                                                      &loyalty__v1__points_result__descriptor));
  ASSERT_EQ_INT(back->points, -300);
  ASSERT_EQ_INT(back->balance, 50);
  /* Both ledgers still add up (checked for every member after each test), and the kept
   * member's history shows the merged one's purchases. */
  Loyalty__V1__ListTransactionsRequest list = LOYALTY__V1__LIST_TRANSACTIONS_REQUEST__INIT;
  list.member_id = keep;
  Loyalty__V1__ListTransactionsResponse *h = (Loyalty__V1__ListTransactionsResponse *)tl_call_ok(
      s.conn, POINTS("ListTransactions"), &list.base,
      &loyalty__v1__list_transactions_response__descriptor);
  /* Its earn; the twin's earn, redemption and merge_out; its merge_in and refund. */
  ASSERT_EQ_INT(h->n_transactions, 6);
  ASSERT_EQ_STR(h->transactions[0]->kind, "refund");
  ASSERT_EQ_STR(h->transactions[1]->kind, "merge_in");
  ASSERT_EQ_STR(h->transactions[2]->kind, "merge_out");
}

typedef struct earner {
  int64_t member;
  int ok, closed;
} earner;

static void *earn_many(void *arg)
{
  earner *e = arg;
  for (int i = 0; i < 20; i++) {
    tl_result r = tl_earn(tl_hq, e->member, 1000);
    if (r.status == GRPC_STATUS_OK)
      e->ok++;
    else if (r.status == GRPC_STATUS_FAILED_PRECONDITION)
      e->closed++;
    else
      tl_fail(__FILE__, __LINE__, "earn: %s (%s)", lc_status_name(r.status), r.message);
  }
  return NULL;
}

static void merge_under_concurrent_earns_loses_nothing(void)
{
  earner keep = {.member = tl_enroll(tl_hq, tl_birthday_other_month())};
  earner twin = {.member = tl_enroll(tl_hq, tl_birthday_other_month())};
  pthread_t a, b;
  pthread_create(&a, NULL, earn_many, &keep);
  pthread_create(&b, NULL, earn_many, &twin);
  ASSERT_STATUS(merge(keep.member, twin.member, tl_unique("merge")), GRPC_STATUS_OK);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  ASSERT_EQ_INT(keep.ok, 20);
  ASSERT_EQ_INT(twin.ok + twin.closed, 20);
  /* Every earn that succeeded is in the kept balance, once: 10 points each. */
  ASSERT_EQ_INT(tl_balance(tl_hq, keep.member)->balance, 10 * (keep.ok + twin.ok));
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"merge_moves_everything_and_closes_the_record", merge_moves_everything_and_closes_the_record},
    {"merge_under_concurrent_earns_loses_nothing", merge_under_concurrent_earns_loses_nothing},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
