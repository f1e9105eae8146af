/*
 * test_validation.c - bad input is INVALID_ARGUMENT, with nothing written. Table-driven.
 */
#include "testlib.h"

/* The member the bad requests name; it must end with nothing earned. */
static int64_t member;

static void ensure_member(void)
{
  if (member == 0)
    member = tl_enroll(tl_hq, "");
}

typedef struct bad_earn {
  const char *why;
  const char *request_id;
  const char *order_id;
  int64_t amount_cents;
} bad_earn;

static void bad_earns_are_refused(void)
{
  ensure_member();
  static char long_id[80];
  memset(long_id, 'x', 65);
  static const bad_earn cases[] = {
    {"no request_id", "", "o-1", 100},
    {"request_id with a space", "a b", "o-1", 100},
    {"request_id of 65 characters", long_id, "o-1", 100},
    {"no order_id", "r-1", "", 100},
    {"zero amount", "r-1", "o-1", 0},
    {"negative amount", "r-1", "o-1", -100},
    {"amount beyond 100 million yuan", "r-1", "o-1", INT64_C(10000000001)},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    Loyalty__V1__EarnRequest req = LOYALTY__V1__EARN_REQUEST__INIT;
    req.member_id = member;
    req.request_id = (char *)cases[i].request_id;
    req.order_id = (char *)cases[i].order_id;
    req.amount_cents = cases[i].amount_cents;
    tl_result r = tl_call(tl_hq, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
    if (r.status != GRPC_STATUS_INVALID_ARGUMENT)
      tl_fail(__FILE__, __LINE__, "earn with %s: got %s (%s)", cases[i].why,
              lc_status_name(r.status), r.message);
  }
  ASSERT_EQ_INT(tl_balance(tl_hq, member)->balance, 0);
}

typedef struct bad_enroll {
  const char *why;
  const char *phone;
  const char *name;
  const char *birthday;
  const char *kind;
  const char *value;
} bad_enroll;

static void bad_enrollments_are_refused(void)
{
  static char long_name[100];
  memset(long_name, 'n', 65);
  static const bad_enroll cases[] = {
    {"no phone and no identity", "", "", "", NULL, NULL},
    {"phone of 10 digits", "1380013800", "", "", NULL, NULL},
    {"phone starting 12", "12800138000", "", "", NULL, NULL},
    {"phone with a letter", "1380013800x", "", "", NULL, NULL},
    {"name of 65 bytes", "13800138000", long_name, "", NULL, NULL},
    {"name with a control character", "13800138000", "a\x01", "", NULL, NULL},
    {"name not UTF-8", "13800138000", "\xff\xfe", "", NULL, NULL},
    {"birthday February 30", "13800138000", "", "1990-02-30", NULL, NULL},
    {"birthday in the future", "13800138000", "", "2999-01-01", NULL, NULL},
    {"birthday not a date", "13800138000", "", "yesterday", NULL, NULL},
    {"identity kind in capitals", "13800138000", "", "", "WeChat", "o1"},
    {"identity without value", "13800138000", "", "", "wechat_openid", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
    Loyalty__V1__Identity id = LOYALTY__V1__IDENTITY__INIT;
    Loyalty__V1__Identity *ids[] = {&id};
    req.request_id = (char *)tl_unique("en");
    req.phone = (char *)cases[i].phone;
    req.name = (char *)cases[i].name;
    req.birthday = (char *)cases[i].birthday;
    if (cases[i].kind != NULL) {
      id.kind = (char *)cases[i].kind;
      id.value = (char *)cases[i].value;
      req.identities = ids;
      req.n_identities = 1;
    }
    tl_result r = tl_call(tl_hq, POINTS("EnrollMember"), &req.base,
                          &loyalty__v1__member__descriptor);
    if (r.status != GRPC_STATUS_INVALID_ARGUMENT)
      tl_fail(__FILE__, __LINE__, "enroll with %s: got %s (%s)", cases[i].why,
              lc_status_name(r.status), r.message);
  }
  ASSERT_EQ_STR(tl_sql_value("SELECT count(*) FROM members WHERE phone = '13800138000'"), "0");
}

static void other_bad_requests_are_refused(void)
{
  ensure_member();
  Loyalty__V1__RedeemRequest redeem = tl_redeem_request(member, 0);
  ASSERT_STATUS(tl_call(tl_hq, POINTS("Redeem"), &redeem.base,
                        &loyalty__v1__points_result__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  static char long_reason[300];
  memset(long_reason, 'r', 201);
  redeem = tl_redeem_request(member, 1);
  redeem.reason = long_reason;
  ASSERT_STATUS(tl_call(tl_hq, POINTS("Redeem"), &redeem.base,
                        &loyalty__v1__points_result__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  Loyalty__V1__RefundRequest refund = LOYALTY__V1__REFUND_REQUEST__INIT;
  refund.request_id = (char *)tl_unique("f");
  refund.member_id = member;
  refund.amount_cents = 100; /* no original purchase named */
  ASSERT_STATUS(tl_call(tl_hq, POINTS("Refund"), &refund.base,
                        &loyalty__v1__points_result__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  Loyalty__V1__GetMemberRequest get = LOYALTY__V1__GET_MEMBER_REQUEST__INIT; /* no key */
  ASSERT_STATUS(tl_call(tl_hq, POINTS("GetMember"), &get.base, &loyalty__v1__member__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  Loyalty__V1__ListTransactionsRequest list = LOYALTY__V1__LIST_TRANSACTIONS_REQUEST__INIT;
  list.member_id = member;
  list.page_token = "not-a-token";
  ASSERT_STATUS(tl_call(tl_hq, POINTS("ListTransactions"), &list.base,
                        &loyalty__v1__list_transactions_response__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  list.page_token = "";
  list.page_size = 501;
  ASSERT_STATUS(tl_call(tl_hq, POINTS("ListTransactions"), &list.base,
                        &loyalty__v1__list_transactions_response__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"bad_earns_are_refused", bad_earns_are_refused},
    {"bad_enrollments_are_refused", bad_enrollments_are_refused},
    {"other_bad_requests_are_refused", other_bad_requests_are_refused},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
