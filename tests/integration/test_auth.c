/*
 * test_auth.c - who may call what: keys, stores, HQ, the health check.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "testlib.h"

static tl_result list_stores(lc_conn *conn)
{
  Loyalty__V1__ListStoresRequest req = LOYALTY__V1__LIST_STORES_REQUEST__INIT;
  return tl_call(conn, ADMIN("ListStores"), &req.base,
                 &loyalty__v1__list_stores_response__descriptor);
}

static tl_result get_balance(lc_conn *conn, int64_t member_id)
{
  Loyalty__V1__GetBalanceRequest req = LOYALTY__V1__GET_BALANCE_REQUEST__INIT;
  req.member_id = member_id;
  return tl_call(conn, POINTS("GetBalance"), &req.base, &loyalty__v1__balance__descriptor);
}

static void health_needs_no_key(void)
{
  lc_conn *anonymous = tl_connect(NULL);
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  Grpc__Health__V1__HealthCheckResponse *res = (Grpc__Health__V1__HealthCheckResponse *)tl_call_ok(
      anonymous, "/grpc.health.v1.Health/Check", &req.base,
      &grpc__health__v1__health_check_response__descriptor);
  ASSERT_EQ_INT(res->status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
  req.service = "no.such.Service";
  ASSERT_STATUS(tl_call(anonymous, "/grpc.health.v1.Health/Check", &req.base,
                        &grpc__health__v1__health_check_response__descriptor),
                GRPC_STATUS_NOT_FOUND);
}

static void no_key_is_unauthenticated(void)
{
  lc_conn *anonymous = tl_connect(NULL);
  tl_result r = list_stores(anonymous);
  ASSERT_STATUS(r, GRPC_STATUS_UNAUTHENTICATED);
  ASSERT_EQ_STR(r.message, "missing credentials");
  ASSERT_STATUS(get_balance(anonymous, 1), GRPC_STATUS_UNAUTHENTICATED);
}

/* Whether the server's log contains needle. */
static bool log_contains(const char *needle)
{
  FILE *f = fopen(tl.log, "r");
  ASSERT_TRUE(f != NULL);
  char line[4096];
  bool found = false;
  while (!found && fgets(line, sizeof line, f) != NULL)
    found = strstr(line, needle) != NULL;
  fclose(f);
  return found;
}

static void wrong_key_is_unauthenticated(void)
{
  const char *secret = tl_unique("lk_wrong-secret-");
  lc_conn *wrong = tl_connect(secret);
  tl_result r = get_balance(wrong, 1);
  ASSERT_STATUS(r, GRPC_STATUS_UNAUTHENTICATED);
  ASSERT_EQ_STR(r.message, "invalid credentials");
  /* The failure is logged with the peer's address, never with the secret. */
  ASSERT_TRUE(log_contains("authentication failed: unknown or revoked key, peer ipv4:127.0.0.1"));
  ASSERT_TRUE(!log_contains(secret));
}

static void revoked_key_fails_on_the_next_call(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t member = tl_enroll(s.conn, "");
  ASSERT_STATUS(get_balance(s.conn, member), GRPC_STATUS_OK);
  Loyalty__V1__RevokeKeyRequest revoke = LOYALTY__V1__REVOKE_KEY_REQUEST__INIT;
  revoke.key_id = (char *)s.key_id;
  tl_call_ok(tl_hq, ADMIN("RevokeKey"), &revoke.base,
             &loyalty__v1__revoke_key_response__descriptor);
  ASSERT_STATUS(get_balance(s.conn, member), GRPC_STATUS_UNAUTHENTICATED);
  revoke.key_id = "k_no_such_key";
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("RevokeKey"), &revoke.base,
                        &loyalty__v1__revoke_key_response__descriptor),
                GRPC_STATUS_NOT_FOUND);
}

static void store_key_may_not_call_admin(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_TMALL);
  ASSERT_STATUS(list_stores(s.conn), GRPC_STATUS_PERMISSION_DENIED);
  Loyalty__V1__IssueStoreKeyRequest issue = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  issue.store_code = (char *)s.code;
  ASSERT_STATUS(tl_call(s.conn, ADMIN("IssueStoreKey"), &issue.base,
                        &loyalty__v1__issued_key__descriptor),
                GRPC_STATUS_PERMISSION_DENIED);
}

static void store_key_acts_only_for_its_store(void)
{
  tl_store a = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store b = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  int64_t member = tl_enroll(a.conn, "");
  Loyalty__V1__EarnRequest earn = tl_earn_request(member, 10000);
  earn.store_code = (char *)b.code;
  ASSERT_STATUS(tl_call(a.conn, POINTS("Earn"), &earn.base,
                        &loyalty__v1__points_result__descriptor),
                GRPC_STATUS_PERMISSION_DENIED);
  /* Its own code is fine, and the ledger row names the store of the key. */
  earn.store_code = (char *)a.code;
  tl_call_ok(a.conn, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT s.store_code FROM ledger l JOIN stores s USING (store_id)"
           " WHERE l.member_id = %" PRId64, member);
  ASSERT_EQ_STR(tl_sql_value(sql), a.code);
}

static void hq_key_calls_both_services(void)
{
  ASSERT_STATUS(list_stores(tl_hq), GRPC_STATUS_OK);
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_WEB);
  int64_t member = tl_enroll(tl_hq, "");
  /* HQ earning at a store, at an unknown store; redeeming for no store. (An HQ Earn must name
   * its store: test_orders.) */
  Loyalty__V1__EarnRequest earn = tl_earn_request(member, 10000);
  earn.store_code = (char *)s.code;
  tl_call_ok(tl_hq, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  earn = tl_earn_request(member, 10000);
  earn.store_code = "NOSUCHSTORE";
  ASSERT_STATUS(tl_call(tl_hq, POINTS("Earn"), &earn.base,
                        &loyalty__v1__points_result__descriptor),
                GRPC_STATUS_NOT_FOUND);
  ASSERT_STATUS(tl_earn(tl_hq, member, 10000), GRPC_STATUS_OK);
  ASSERT_STATUS(tl_redeem(tl_hq, member, 10), GRPC_STATUS_OK);
  ASSERT_EQ_INT(tl_balance(tl_hq, member)->balance, 190);
  /* Recorded at the stores named, and as HQ's with no store. */
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT string_agg(coalesce(s.store_code, '(none)'), ',' ORDER BY l.txn_id)"
           " FROM ledger l LEFT JOIN stores s USING (store_id) WHERE l.member_id = %" PRId64,
           member);
  char want[256];
  snprintf(want, sizeof want, "%s,%s,(none)", s.code, tl_hq_store());
  ASSERT_EQ_STR(tl_sql_value(sql), want);
}

static void admin_rejects_bad_stores(void)
{
  Loyalty__V1__CreateStoreRequest create = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
  create.store_code = (char *)tl_unique("S");
  create.name = "dup";
  create.channel = LOYALTY__V1__CHANNEL__CHANNEL_JD;
  tl_call_ok(tl_hq, ADMIN("CreateStore"), &create.base, &loyalty__v1__store__descriptor);
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("CreateStore"), &create.base,
                        &loyalty__v1__store__descriptor),
                GRPC_STATUS_ALREADY_EXISTS);
  create.store_code = "bad code";
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("CreateStore"), &create.base,
                        &loyalty__v1__store__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  create.store_code = (char *)tl_unique("S");
  create.channel = LOYALTY__V1__CHANNEL__CHANNEL_UNSPECIFIED;
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("CreateStore"), &create.base,
                        &loyalty__v1__store__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  Loyalty__V1__IssueStoreKeyRequest issue = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  issue.store_code = "NOSUCHSTORE";
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("IssueStoreKey"), &issue.base,
                        &loyalty__v1__issued_key__descriptor),
                GRPC_STATUS_NOT_FOUND);
}

static void secrets_are_stored_only_as_hashes(void)
{
  Loyalty__V1__CreateStoreRequest create = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
  create.store_code = (char *)tl_unique("S");
  create.name = "hash";
  create.channel = LOYALTY__V1__CHANNEL__CHANNEL_POS;
  tl_call_ok(tl_hq, ADMIN("CreateStore"), &create.base, &loyalty__v1__store__descriptor);
  Loyalty__V1__IssueStoreKeyRequest issue = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  issue.store_code = create.store_code;
  Loyalty__V1__IssuedKey *key = (Loyalty__V1__IssuedKey *)tl_call_ok(
      tl_hq, ADMIN("IssueStoreKey"), &issue.base, &loyalty__v1__issued_key__descriptor);
  ASSERT_TRUE(strncmp(key->secret, "lk_", 3) == 0 && strlen(key->secret) == 46);
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM api_keys WHERE key_id = '%s'"
           " AND secret_hash = sha256(convert_to('%s', 'UTF8'))"
           " AND position(convert_to('%s', 'UTF8') in secret_hash) = 0",
           key->key_id, key->secret, key->secret);
  ASSERT_EQ_STR(tl_sql_value(sql), "1");
}

static Loyalty__V1__IssuedKey *issue_store_key(const char *store_code, const char *expires_at,
                                               grpc_status_code want)
{
  Loyalty__V1__IssueStoreKeyRequest req = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  req.store_code = (char *)store_code;
  req.expires_at = (char *)expires_at;
  tl_result r = tl_call(tl_hq, ADMIN("IssueStoreKey"), &req.base,
                        &loyalty__v1__issued_key__descriptor);
  ASSERT_STATUS(r, want);
  return (Loyalty__V1__IssuedKey *)r.response;
}

static void keys_are_listed_without_secrets(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  Loyalty__V1__IssuedKey *second = issue_store_key(s.code, "", GRPC_STATUS_OK);
  Loyalty__V1__ListKeysRequest req = LOYALTY__V1__LIST_KEYS_REQUEST__INIT;
  req.store_code = (char *)s.code;
  Loyalty__V1__ListKeysResponse *list = (Loyalty__V1__ListKeysResponse *)tl_call_ok(
      tl_hq, ADMIN("ListKeys"), &req.base, &loyalty__v1__list_keys_response__descriptor);
  ASSERT_EQ_INT(list->n_keys, 2);
  ASSERT_EQ_STR(list->keys[0]->key_id, s.key_id);
  ASSERT_EQ_STR(list->keys[1]->key_id, second->key_id);
  ASSERT_EQ_STR(list->keys[1]->name, s.code);
  /* The whole answer, as bytes, does not contain the secret. */
  size_t size = protobuf_c_message_get_packed_size(&list->base);
  uint8_t *bytes = tl_keep(malloc(size + 1));
  protobuf_c_message_pack(&list->base, bytes);
  ASSERT_TRUE(memmem(bytes, size, second->secret, strlen(second->secret)) == NULL);
}

static void rotated_key_works_beside_the_old_until_it_is_revoked(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_TMALL);
  int64_t m = tl_enroll(s.conn, "");
  Loyalty__V1__RotateKeyRequest rotate = LOYALTY__V1__ROTATE_KEY_REQUEST__INIT;
  rotate.key_id = (char *)s.key_id;
  Loyalty__V1__IssuedKey *fresh = (Loyalty__V1__IssuedKey *)tl_call_ok(
      tl_hq, ADMIN("RotateKey"), &rotate.base, &loyalty__v1__issued_key__descriptor);
  ASSERT_EQ_STR(fresh->store_code, s.code);
  lc_conn *new_conn = tl_connect(fresh->secret);
  ASSERT_STATUS(get_balance(s.conn, m), GRPC_STATUS_OK);
  ASSERT_STATUS(get_balance(new_conn, m), GRPC_STATUS_OK);
  Loyalty__V1__RevokeKeyRequest revoke = LOYALTY__V1__REVOKE_KEY_REQUEST__INIT;
  revoke.key_id = (char *)s.key_id;
  tl_call_ok(tl_hq, ADMIN("RevokeKey"), &revoke.base,
             &loyalty__v1__revoke_key_response__descriptor);
  ASSERT_STATUS(get_balance(s.conn, m), GRPC_STATUS_UNAUTHENTICATED);
  ASSERT_STATUS(get_balance(new_conn, m), GRPC_STATUS_OK);
  /* A revoked key cannot be rotated. */
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("RotateKey"), &rotate.base,
                        &loyalty__v1__issued_key__descriptor),
                GRPC_STATUS_FAILED_PRECONDITION);
}

static void expired_key_is_unauthenticated(void)
{
  tl_store s = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_WEB);
  int64_t m = tl_enroll(s.conn, "");
  issue_store_key(s.code, "2001-01-01", GRPC_STATUS_INVALID_ARGUMENT);
  issue_store_key(s.code, "not a date", GRPC_STATUS_INVALID_ARGUMENT);
  char *soon = tl_sql_value("SELECT to_char(now() + interval '2 seconds',"
                            " 'YYYY-MM-DD\"T\"HH24:MI:SS.MSOF')");
  Loyalty__V1__IssuedKey *brief = issue_store_key(s.code, soon, GRPC_STATUS_OK);
  ASSERT_TRUE(brief->expires_at[0] != '\0');
  lc_conn *conn = tl_connect(brief->secret);
  ASSERT_STATUS(get_balance(conn, m), GRPC_STATUS_OK);
  usleep(2500 * 1000);
  ASSERT_STATUS(get_balance(conn, m), GRPC_STATUS_UNAUTHENTICATED);
}

static void hq_operator_is_named_in_the_ledger(void)
{
  Loyalty__V1__IssueHqKeyRequest req = LOYALTY__V1__ISSUE_HQ_KEY_REQUEST__INIT;
  req.operator_ = "crm-li.hong";
  Loyalty__V1__IssuedKey *key = (Loyalty__V1__IssuedKey *)tl_call_ok(
      tl_hq, ADMIN("IssueHqKey"), &req.base, &loyalty__v1__issued_key__descriptor);
  ASSERT_EQ_STR(key->store_code, "");
  lc_conn *operator_conn = tl_connect(key->secret);
  ASSERT_STATUS(list_stores(operator_conn), GRPC_STATUS_OK); /* an HQ key */
  int64_t m = tl_enroll(operator_conn, "");
  Loyalty__V1__EarnRequest earn = tl_hq_earn_request(m, 10000);
  ASSERT_STATUS(tl_call(operator_conn, POINTS("Earn"), &earn.base,
                        &loyalty__v1__points_result__descriptor),
                GRPC_STATUS_OK);
  char sql[128], want[128];
  snprintf(sql, sizeof sql, "SELECT principal FROM ledger WHERE member_id = %" PRId64, m);
  snprintf(want, sizeof want, "%s:crm-li.hong", key->key_id);
  ASSERT_EQ_STR(tl_sql_value(sql), want);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"health_needs_no_key", health_needs_no_key},
    {"no_key_is_unauthenticated", no_key_is_unauthenticated},
    {"wrong_key_is_unauthenticated", wrong_key_is_unauthenticated},
    {"revoked_key_fails_on_the_next_call", revoked_key_fails_on_the_next_call},
    {"store_key_may_not_call_admin", store_key_may_not_call_admin},
    {"store_key_acts_only_for_its_store", store_key_acts_only_for_its_store},
    {"hq_key_calls_both_services", hq_key_calls_both_services},
    {"admin_rejects_bad_stores", admin_rejects_bad_stores},
    {"secrets_are_stored_only_as_hashes", secrets_are_stored_only_as_hashes},
    {"keys_are_listed_without_secrets", keys_are_listed_without_secrets},
    {"rotated_key_works_beside_the_old_until_it_is_revoked",
     rotated_key_works_beside_the_old_until_it_is_revoked},
    {"expired_key_is_unauthenticated", expired_key_is_unauthenticated},
    {"hq_operator_is_named_in_the_ledger", hq_operator_is_named_in_the_ledger},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
