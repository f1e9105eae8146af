/*
 * test_audit.c - the ledger's hash chains: VerifyAudit finds a row edited, deleted or
 * reordered directly in PostgreSQL, at that row. Tampers with the shared database (then
 * puts it back), so it runs alone.
 */
#include <pthread.h>

#include "testlib.h"

static Loyalty__V1__VerifyAuditResponse *verify(void)
{
  Loyalty__V1__VerifyAuditRequest req = LOYALTY__V1__VERIFY_AUDIT_REQUEST__INIT;
  return (Loyalty__V1__VerifyAuditResponse *)tl_call_ok(
      tl_hq, ADMIN("VerifyAudit"), &req.base, &loyalty__v1__verify_audit_response__descriptor);
}

/* The problem VerifyAudit reports for member (NULL if none). */
static Loyalty__V1__AuditProblem *problem_of(Loyalty__V1__VerifyAuditResponse *v, int64_t member)
{
  for (size_t i = 0; i < v->n_problems; i++) {
    if (v->problems[i]->member_id == member)
      return v->problems[i];
  }
  return NULL;
}

/* A member with four movements; returns its id and their txn ids. */
static int64_t member_with_history(int64_t txn[4])
{
  int64_t m = tl_enroll(tl_hq, tl_birthday_other_month());
  txn[0] = TL_POINTS(tl_earn(tl_hq, m, 10000))->transaction_id;
  txn[1] = TL_POINTS(tl_earn(tl_hq, m, 20000))->transaction_id;
  txn[2] = TL_POINTS(tl_redeem(tl_hq, m, 50))->transaction_id;
  txn[3] = TL_POINTS(tl_earn(tl_hq, m, 30000))->transaction_id;
  return m;
}

/* Runs sql with the append-only guard lifted, as someone with the owner's rights could. */
static void tamper(const char *sql)
{
  char all[1024];
  snprintf(all, sizeof all,
           "BEGIN; ALTER TABLE ledger DISABLE TRIGGER ledger_append_only; %s;"
           " ALTER TABLE ledger ENABLE TRIGGER ledger_append_only; COMMIT;", sql);
  tl_sql(all);
}

static void untouched_ledger_verifies(void)
{
  int64_t txn[4];
  int64_t m = member_with_history(txn);
  Loyalty__V1__VerifyAuditResponse *v = verify();
  ASSERT_TRUE(problem_of(v, m) == NULL);
  if (!v->ok)
    tl_fail(__FILE__, __LINE__, "%zu problem(s), the first: member %" PRId64 ", row %" PRId64
            ": %s", v->n_problems, v->problems[0]->member_id, v->problems[0]->transaction_id,
            v->problems[0]->problem);
  ASSERT_TRUE(v->rows_checked >= 4);
  ASSERT_TRUE(v->members_checked >= 1);
}

static void edited_row_is_found(void)
{
  int64_t txn[4];
  int64_t m = member_with_history(txn);
  char sql[256];
  /* The redemption becomes smaller; balance and lots are made to agree, so only the chain
   * can tell. */
  snprintf(sql, sizeof sql, "UPDATE ledger SET points = -5 WHERE txn_id = %" PRId64, txn[2]);
  tamper(sql);
  Loyalty__V1__VerifyAuditResponse *v = verify();
  Loyalty__V1__AuditProblem *p = problem_of(v, m);
  ASSERT_TRUE(!v->ok && p != NULL);
  ASSERT_EQ_INT(p->transaction_id, txn[2]);
  ASSERT_CONTAINS(p->problem, "row changed");
  snprintf(sql, sizeof sql, "UPDATE ledger SET points = -50 WHERE txn_id = %" PRId64, txn[2]);
  tamper(sql);
  ASSERT_TRUE(problem_of(verify(), m) == NULL);
}

static void deleted_row_is_found(void)
{
  int64_t txn[4];
  int64_t m = member_with_history(txn);
  char sql[512];
  snprintf(sql, sizeof sql,
           "CREATE TABLE tampered_%" PRId64 " AS SELECT * FROM ledger WHERE txn_id = %" PRId64 ";"
           " DELETE FROM lots WHERE txn_id = %" PRId64 "; DELETE FROM ledger WHERE txn_id = %" PRId64,
           m, txn[1], txn[1], txn[1]);
  /* Keep the lot to put back too. */
  char keep[256];
  snprintf(keep, sizeof keep, "CREATE TABLE tampered_lot_%" PRId64 " AS SELECT * FROM lots WHERE txn_id = %" PRId64, m, txn[1]);
  tl_sql(keep);
  tamper(sql);
  Loyalty__V1__VerifyAuditResponse *v = verify();
  Loyalty__V1__AuditProblem *p = problem_of(v, m);
  ASSERT_TRUE(p != NULL);
  ASSERT_EQ_INT(p->transaction_id, txn[2]); /* the row after the hole */
  ASSERT_CONTAINS(p->problem, "chain broken");
  snprintf(sql, sizeof sql,
           "INSERT INTO ledger SELECT * FROM tampered_%" PRId64 "; INSERT INTO lots SELECT * FROM"
           " tampered_lot_%" PRId64 "; DROP TABLE tampered_%" PRId64 ", tampered_lot_%" PRId64,
           m, m, m, m);
  tamper(sql);
  ASSERT_TRUE(problem_of(verify(), m) == NULL);
}

static void reordered_rows_are_found(void)
{
  int64_t txn[4];
  int64_t m = member_with_history(txn);
  char sql[512];
  /* The first two earns swap places (their ids). */
  snprintf(sql, sizeof sql,
           "UPDATE ledger SET txn_id = -1 WHERE txn_id = %" PRId64 ";"
           " UPDATE ledger SET txn_id = %" PRId64 " WHERE txn_id = %" PRId64 ";"
           " UPDATE ledger SET txn_id = %" PRId64 " WHERE txn_id = -1",
           txn[0], txn[0], txn[1], txn[1]);
  tl_sql("ALTER TABLE lots DROP CONSTRAINT lots_txn_id_fkey");
  tamper(sql);
  Loyalty__V1__AuditProblem *p = problem_of(verify(), m);
  ASSERT_TRUE(p != NULL);
  ASSERT_EQ_INT(p->transaction_id, txn[0]);
  tamper(sql); /* swapping again puts them back */
  tl_sql("ALTER TABLE lots ADD CONSTRAINT lots_txn_id_fkey FOREIGN KEY (txn_id) REFERENCES ledger");
  ASSERT_TRUE(problem_of(verify(), m) == NULL);
}

static void removed_last_row_is_found(void)
{
  int64_t txn[4];
  int64_t m = member_with_history(txn);
  char sql[512];
  snprintf(sql, sizeof sql,
           "CREATE TABLE tampered_%" PRId64 " AS SELECT * FROM ledger WHERE txn_id = %" PRId64 ";"
           " CREATE TABLE tampered_lot_%" PRId64 " AS SELECT * FROM lots WHERE txn_id = %" PRId64 ";"
           " DELETE FROM lots WHERE txn_id = %" PRId64 "; DELETE FROM ledger WHERE txn_id = %" PRId64 ";"
           " UPDATE members SET balance = balance - 300 WHERE member_id = %" PRId64,
           m, txn[3], m, txn[3], txn[3], txn[3], m);
  tamper(sql);
  Loyalty__V1__AuditProblem *p = problem_of(verify(), m);
  ASSERT_TRUE(p != NULL);
  ASSERT_EQ_INT(p->transaction_id, txn[2]);
  ASSERT_CONTAINS(p->problem, "chain head");
  snprintf(sql, sizeof sql,
           "INSERT INTO ledger SELECT * FROM tampered_%" PRId64 "; INSERT INTO lots SELECT * FROM"
           " tampered_lot_%" PRId64 "; DROP TABLE tampered_%" PRId64 ", tampered_lot_%" PRId64 ";"
           " UPDATE members SET balance = balance + 300 WHERE member_id = %" PRId64,
           m, m, m, m, m);
  tamper(sql);
  ASSERT_TRUE(problem_of(verify(), m) == NULL);
}

static void balance_not_matching_its_ledger_is_found(void)
{
  int64_t txn[4];
  int64_t m = member_with_history(txn);
  char sql[256];
  snprintf(sql, sizeof sql, "UPDATE members SET balance = balance + 1000 WHERE member_id = %" PRId64, m);
  tl_sql(sql);
  Loyalty__V1__AuditProblem *p = problem_of(verify(), m);
  ASSERT_TRUE(p != NULL);
  ASSERT_EQ_INT(p->transaction_id, 0);
  ASSERT_CONTAINS(p->problem, "ledger sum");
  snprintf(sql, sizeof sql, "UPDATE members SET balance = balance - 1000 WHERE member_id = %" PRId64, m);
  tl_sql(sql);
}

static Loyalty__V1__ListAuditResponse *list_audit(Loyalty__V1__ListAuditRequest *req)
{
  return (Loyalty__V1__ListAuditResponse *)tl_call_ok(
      tl_hq, ADMIN("ListAudit"), &req->base, &loyalty__v1__list_audit_response__descriptor);
}

static void admin_changes_and_movements_are_in_the_trail(void)
{
  /* An operator of its own, so that its trail is exactly what this test did. */
  Loyalty__V1__IssueHqKeyRequest hq = LOYALTY__V1__ISSUE_HQ_KEY_REQUEST__INIT;
  hq.operator_ = "auditor-test";
  Loyalty__V1__IssuedKey *key = (Loyalty__V1__IssuedKey *)tl_call_ok(
      tl_hq, ADMIN("IssueHqKey"), &hq.base, &loyalty__v1__issued_key__descriptor);
  lc_conn *op = tl_connect(key->secret);
  Loyalty__V1__CreateStoreRequest create = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
  create.store_code = (char *)tl_unique("AU");
  create.name = "audited";
  create.channel = LOYALTY__V1__CHANNEL__CHANNEL_POS;
  tl_call_ok(op, ADMIN("CreateStore"), &create.base, &loyalty__v1__store__descriptor);
  Loyalty__V1__IssueStoreKeyRequest issue = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  issue.store_code = create.store_code;
  Loyalty__V1__IssuedKey *store_key = (Loyalty__V1__IssuedKey *)tl_call_ok(
      op, ADMIN("IssueStoreKey"), &issue.base, &loyalty__v1__issued_key__descriptor);
  lc_conn *till = tl_connect(store_key->secret);
  int64_t m = tl_enroll(till, "");
  tl_earn(till, m, 10000);
  tl_redeem(till, m, 30);

  Loyalty__V1__ListAuditRequest req = LOYALTY__V1__LIST_AUDIT_REQUEST__INIT;
  req.principal = (char *)key->key_id;
  Loyalty__V1__ListAuditResponse *by_operator = list_audit(&req);
  ASSERT_EQ_INT(by_operator->n_entries, 2); /* newest first */
  ASSERT_EQ_STR(by_operator->entries[0]->kind, "issue_key");
  ASSERT_EQ_STR(by_operator->entries[0]->subject, store_key->key_id);
  ASSERT_EQ_STR(by_operator->entries[1]->kind, "create_store");
  ASSERT_EQ_STR(by_operator->entries[1]->store_code, create.store_code);
  ASSERT_EQ_STR(by_operator->entries[1]->source, "admin");
  ASSERT_CONTAINS(by_operator->entries[1]->principal, ":auditor-test");

  Loyalty__V1__ListAuditRequest by_member = LOYALTY__V1__LIST_AUDIT_REQUEST__INIT;
  by_member.member_id = m;
  Loyalty__V1__ListAuditResponse *moves = list_audit(&by_member);
  ASSERT_EQ_INT(moves->n_entries, 2);
  ASSERT_EQ_STR(moves->entries[0]->kind, "redeem");
  ASSERT_EQ_INT(moves->entries[0]->points, -30);
  ASSERT_EQ_STR(moves->entries[1]->store_code, create.store_code);
  ASSERT_EQ_INT(moves->entries[1]->amount_cents, 10000);
  by_member.kind = "earn";
  ASSERT_EQ_INT(list_audit(&by_member)->n_entries, 1);
  by_member.kind = "";
  by_member.until = "2000-01-01";
  ASSERT_EQ_INT(list_audit(&by_member)->n_entries, 0);
  by_member.until = "";
  by_member.since = "2000-01-01";
  ASSERT_EQ_INT(list_audit(&by_member)->n_entries, 2);

  Loyalty__V1__ListAuditRequest by_store = LOYALTY__V1__LIST_AUDIT_REQUEST__INIT;
  by_store.store_code = (char *)create.store_code;
  /* create_store, the issue of its key, and the two movements */
  ASSERT_EQ_INT(list_audit(&by_store)->n_entries, 4);

  /* Pages of one cover the same entries, once each. */
  by_store.page_size = 1;
  int seen = 0;
  for (;;) {
    Loyalty__V1__ListAuditResponse *page = list_audit(&by_store);
    seen += (int)page->n_entries;
    if (page->next_page_token[0] == '\0')
      break;
    by_store.page_token = page->next_page_token;
  }
  ASSERT_EQ_INT(seen, 4);
  by_store.page_token = "nonsense";
  ASSERT_STATUS(tl_call(tl_hq, ADMIN("ListAudit"), &by_store.base,
                        &loyalty__v1__list_audit_response__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  (void)op;
}

static const char *create_store(const char *prefix)
{
  Loyalty__V1__CreateStoreRequest create = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
  create.store_code = (char *)tl_unique(prefix);
  create.name = "keys audited";
  create.channel = LOYALTY__V1__CHANNEL__CHANNEL_POS;
  tl_call_ok(tl_hq, ADMIN("CreateStore"), &create.base, &loyalty__v1__store__descriptor);
  return create.store_code;
}

static const char *issue_store_key(const char *store)
{
  Loyalty__V1__IssueStoreKeyRequest issue = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  issue.store_code = (char *)store;
  return ((Loyalty__V1__IssuedKey *)tl_call_ok(tl_hq, ADMIN("IssueStoreKey"), &issue.base,
                                               &loyalty__v1__issued_key__descriptor))->key_id;
}

static void revoke_key(const char *key_id)
{
  Loyalty__V1__RevokeKeyRequest revoke = LOYALTY__V1__REVOKE_KEY_REQUEST__INIT;
  revoke.key_id = (char *)key_id;
  tl_call_ok(tl_hq, ADMIN("RevokeKey"), &revoke.base, &loyalty__v1__revoke_key_response__descriptor);
}

/* How many entries of the list are of kind, about subject, at store. */
static int count_entries(const Loyalty__V1__ListAuditResponse *list, const char *kind,
                         const char *subject, const char *store)
{
  int n = 0;
  for (size_t i = 0; i < list->n_entries; i++) {
    const Loyalty__V1__AuditEntry *e = list->entries[i];
    n += strcmp(e->kind, kind) == 0 && strcmp(e->subject, subject) == 0 &&
         strcmp(e->store_code, store) == 0;
  }
  return n;
}

/* A store's trail has its keys' lives: issued, rotated, revoked. */
static void store_filter_lists_the_store_s_key_changes(void)
{
  const char *store = create_store("AK");
  const char *old_key = issue_store_key(store);
  Loyalty__V1__RotateKeyRequest rotate = LOYALTY__V1__ROTATE_KEY_REQUEST__INIT;
  rotate.key_id = (char *)old_key;
  const char *new_key = ((Loyalty__V1__IssuedKey *)tl_call_ok(
      tl_hq, ADMIN("RotateKey"), &rotate.base, &loyalty__v1__issued_key__descriptor))->key_id;
  revoke_key(old_key);
  /* Another store's key, issued and revoked meanwhile, is not in this store's trail. */
  const char *other = create_store("AO");
  revoke_key(issue_store_key(other));

  Loyalty__V1__ListAuditRequest req = LOYALTY__V1__LIST_AUDIT_REQUEST__INIT;
  req.store_code = (char *)store;
  Loyalty__V1__ListAuditResponse *trail = list_audit(&req);
  fprintf(stderr, "the trail of store %s, newest first:\n", store); /* to read on failure */
  for (size_t i = 0; i < trail->n_entries; i++)
    fprintf(stderr, "  %s %s %s store=%s\n", trail->entries[i]->source, trail->entries[i]->kind,
            trail->entries[i]->subject, trail->entries[i]->store_code);
  ASSERT_EQ_INT(count_entries(trail, "create_store", store, store), 1);
  ASSERT_EQ_INT(count_entries(trail, "issue_key", old_key, store), 1);
  ASSERT_EQ_INT(count_entries(trail, "rotate_key", old_key, store), 1);
  ASSERT_EQ_INT(count_entries(trail, "issue_key", new_key, store), 1); /* the rotation's key */
  ASSERT_EQ_INT(count_entries(trail, "revoke_key", old_key, store), 1);
  ASSERT_EQ_INT(trail->n_entries, 5);
  req.kind = "revoke_key";
  trail = list_audit(&req);
  ASSERT_EQ_INT(trail->n_entries, 1);
  ASSERT_EQ_STR(trail->entries[0]->subject, old_key);
}

static void changed_admin_audit_row_is_found(void)
{
  char *id = tl_sql_value("SELECT max(audit_id) FROM admin_audit");
  ASSERT_TRUE(id != NULL);
  char sql[256];
  snprintf(sql, sizeof sql, "UPDATE admin_audit SET principal = 'someone-else' WHERE audit_id = %s", id);
  tl_sql("BEGIN; ALTER TABLE admin_audit DISABLE TRIGGER admin_audit_append_only; COMMIT;");
  char *original = tl_sql_value("SELECT principal FROM admin_audit ORDER BY audit_id DESC LIMIT 1");
  tl_sql(sql);
  Loyalty__V1__AuditProblem *p = problem_of(verify(), 0);
  snprintf(sql, sizeof sql, "UPDATE admin_audit SET principal = '%s' WHERE audit_id = %s",
           original, id);
  tl_sql(sql);
  tl_sql("ALTER TABLE admin_audit ENABLE TRIGGER admin_audit_append_only");
  ASSERT_TRUE(p != NULL);
  ASSERT_EQ_INT(p->transaction_id, atoll(id));
  ASSERT_CONTAINS(p->problem, "admin audit row changed");
  ASSERT_TRUE(problem_of(verify(), 0) == NULL);
}

static void *create_stores(void *arg)
{
  (void)arg;
  for (int i = 0; i < 10; i++) {
    Loyalty__V1__CreateStoreRequest create = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
    create.store_code = (char *)tl_unique("RACE");
    create.name = "race";
    create.channel = LOYALTY__V1__CHANNEL__CHANNEL_WEB;
    tl_call_ok(tl_hq, ADMIN("CreateStore"), &create.base, &loyalty__v1__store__descriptor);
  }
  return NULL;
}

/* Admin changes racing each other still make one unbroken chain. */
static void concurrent_admin_changes_keep_the_chain(void)
{
  enum { THREADS = 8 };
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++)
    pthread_create(&threads[i], NULL, create_stores, NULL);
  for (int i = 0; i < THREADS; i++)
    pthread_join(threads[i], NULL);
  Loyalty__V1__AuditProblem *p = problem_of(verify(), 0);
  if (p != NULL)
    tl_fail(__FILE__, __LINE__, "admin chain: row %" PRId64 ": %s", p->transaction_id, p->problem);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"untouched_ledger_verifies", untouched_ledger_verifies},
    {"concurrent_admin_changes_keep_the_chain", concurrent_admin_changes_keep_the_chain},
    {"edited_row_is_found", edited_row_is_found},
    {"deleted_row_is_found", deleted_row_is_found},
    {"reordered_rows_are_found", reordered_rows_are_found},
    {"removed_last_row_is_found", removed_last_row_is_found},
    {"balance_not_matching_its_ledger_is_found", balance_not_matching_its_ledger_is_found},
    {"admin_changes_and_movements_are_in_the_trail", admin_changes_and_movements_are_in_the_trail},
    {"store_filter_lists_the_store_s_key_changes", store_filter_lists_the_store_s_key_changes},
    {"changed_admin_audit_row_is_found", changed_admin_audit_row_is_found},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
