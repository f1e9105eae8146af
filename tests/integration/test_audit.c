/*
 * test_audit.c - the ledger's hash chains: VerifyAudit finds a row edited, deleted or
 * reordered directly in PostgreSQL, at that row. Tampers with the shared database (then
 * puts it back), so it runs alone.
 */
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
  ASSERT_TRUE(v->ok);
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

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"untouched_ledger_verifies", untouched_ledger_verifies},
    {"edited_row_is_found", edited_row_is_found},
    {"deleted_row_is_found", deleted_row_is_found},
    {"reordered_rows_are_found", reordered_rows_are_found},
    {"removed_last_row_is_found", removed_last_row_is_found},
    {"balance_not_matching_its_ledger_is_found", balance_not_matching_its_ledger_is_found},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
