/*
 * test_import.c - loyaltyctl import of a brand's history (stores, members, opening balances,
 * orders), run as a subprocess (LOYALTYCTL) against the harness's server, as HQ does: a bad
 * row in each file goes to the error file with its line and reason and the rest is imported;
 * the same files again change nothing; a run killed half-way resumes and ends as a whole run
 * would; a dry run changes nothing; imported spend gives its tier, opening lots already past
 * their date expire, and VerifyAudit passes. Every test makes stores, phones and identities
 * of its own (so files, and their runs, are its own).
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static const char *test_dir; /* the current test's, removed when it passes */
static const char *import_server; /* the server imports go to; NULL: the harness's */

/* A directory of the test's own for its files, under the build tree (ctest's working
 * directory); left there for a look when the test fails. */
static const char *work_dir(void)
{
  char cwd[400], *dir = tl_keep(malloc(512));
  if (getcwd(cwd, sizeof cwd) == NULL)
    tl_fail(__FILE__, __LINE__, "getcwd failed");
  snprintf(dir, 512, "%s/import-XXXXXX", cwd);
  if (mkdtemp(dir) == NULL)
    tl_fail(__FILE__, __LINE__, "mkdtemp failed");
  test_dir = dir;
  return dir;
}

/* The test passed: its files go. */
static void passed(void)
{
  char command[600];
  snprintf(command, sizeof command, "rm -rf '%s'", test_dir);
  if (test_dir != NULL && system(command) != 0)
    tl_fail(__FILE__, __LINE__, "cannot remove %s", test_dir);
}

static const char *path_in(const char *dir, const char *name)
{
  char *p = tl_keep(malloc(strlen(dir) + strlen(name) + 2));
  sprintf(p, "%s/%s", dir, name);
  return p;
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
    tl_fail(__FILE__, __LINE__, "cannot write %s", path);
}

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return tl_keep(strdup(""));
  char *text = tl_keep(calloc(1, 1 << 20));
  size_t n = fread(text, 1, (1 << 20) - 1, f);
  text[n] = '\0';
  fclose(f);
  return text;
}

/* Starts loyaltyctl import KIND FILE [extra] with the HQ key, its output in FILE.out.
 * Returns its pid. */
static pid_t start_import(const char *kind, const char *file, const char *extra)
{
  const char *ctl = getenv("LOYALTYCTL");
  if (ctl == NULL)
    tl_fail(__FILE__, __LINE__, "LOYALTYCTL must name loyaltyctl (run via ctest)");
  char out[600];
  snprintf(out, sizeof out, "%s.out", file);
  pid_t pid = fork();
  if (pid == 0) {
    FILE *o = freopen(out, "w", stdout);
    if (o == NULL || dup2(fileno(stdout), 2) < 0)
      _exit(127);
    execl(ctl, ctl, "--server", import_server ? import_server : tl.server, "--key", tl.hq_key,
          "--timeout", "60000", "import", kind, file, extra, (char *)NULL);
    _exit(127);
  }
  return pid;
}

static int wait_exit(pid_t pid)
{
  int status;
  if (waitpid(pid, &status, 0) != pid)
    tl_fail(__FILE__, __LINE__, "waitpid failed");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* loyaltyctl import KIND FILE [extra]; returns its exit status. */
static int import(const char *kind, const char *file, const char *extra)
{
  return wait_exit(start_import(kind, file, extra));
}

static char *output_of(const char *file)
{
  char out[600];
  snprintf(out, sizeof out, "%s.out", file);
  return read_file(out);
}

/* A line of the summary: "  imported          12". */
static const char *summary(const char *label, int64_t n)
{
  char *text = tl_keep(malloc(64));
  snprintf(text, 64, "  %-9s %10" PRId64, label, n);
  return text;
}

/* The error file of FILE.csv: FILE.errors.csv. */
static char *errors_of(const char *file)
{
  char path[600];
  snprintf(path, sizeof path, "%.*s.errors.csv", (int)(strlen(file) - 4), file);
  return read_file(path);
}

/* A brand of the test's own, a bad row in each file. */
typedef struct brand {
  const char *dir;
  const char *store_a, *store_b;   /* a POS store and a Tmall shop */
  const char *phone1, *phone2;     /* members by phone */
  const char *card1, *nick3;       /* pos_card of member 1; tmall_nick of member 3 (no phone) */
  const char *stores, *members, *balances, *orders; /* the files */
} brand;

static brand make_brand(void)
{
  brand b;
  b.dir = work_dir();
  b.store_a = tl_unique("IA");
  b.store_b = tl_unique("IB");
  b.phone1 = tl_phone();
  b.phone2 = tl_phone();
  b.card1 = tl_unique("");
  b.nick3 = tl_unique("nick");
  char text[4096];
  b.stores = path_in(b.dir, "stores.csv");
  snprintf(text, sizeof text,
           "store_code,name,channel,region\n"
           "%s,\"Shanghai, Nanjing Rd\",pos,SH\n"
           "%s,Tmall flagship,tmall,\n"
           "%sX,Bad,fax,SH\n",
           b.store_a, b.store_b, b.store_a);
  write_file(b.stores, text);
  /* Columns in another order than the format lists them: found by the header. */
  b.members = path_in(b.dir, "members.csv");
  snprintf(text, sizeof text,
           "name,phone,birthday,identities,enrolled_store,enrolled_at\n"
           "Li Hong,%s,1990-03-05,pos_card:%s,%s,2023-05-01T10:00:00+08:00\n"
           "Wang,%s,,,%s,2022-01-01T00:00:00Z\n"
           "Someone Else,%s,,,%s,\n"
           "Zhao,,,tmall_nick:%s,%s,2021-01-01T00:00:00+08:00\n",
           b.phone1, b.card1, b.store_a, b.phone2, b.store_b, b.phone1, b.store_a, b.nick3,
           b.store_b);
  write_file(b.members, text);
  b.balances = path_in(b.dir, "balances.csv");
  snprintf(text, sizeof text,
           "member,points,expires_on\n"
           "%s,500,2030-12-31\n"
           "pos_card:%s,100,2020-12-31\n"
           "tmall_nick:%s,40,2031-01-01\n"
           "%s,5,2030-01-01\n",
           b.phone1, b.card1, b.nick3, tl_phone());
  write_file(b.balances, text);
  b.orders = path_in(b.dir, "orders.csv");
  snprintf(text, sizeof text,
           "store,order_id,kind,member,amount,occurred_at,points\n"
           "%s,A1,purchase,%s,3500,2024-01-01T10:00:00+08:00,\n"
           "%s,A1,refund,%s,500.5,2024-01-05T10:00:00+08:00,\n"
           "%s,B1,purchase,%s,99.90,2024-02-01T10:00:00+08:00,99\n"
           "%s,C1,purchase,%s,-5,2024-02-01T10:00:00+08:00,\n",
           b.store_a, b.phone1, b.store_a, b.phone1, b.store_b, b.phone2, b.store_a, b.phone2);
  write_file(b.orders, text);
  return b;
}

static int64_t member_by_phone(const char *phone)
{
  return tl_sql_int("SELECT member_id FROM members WHERE phone = '%s'", phone);
}

static void import_brand(const brand *b)
{
  ASSERT_EQ_INT(import("stores", b->stores, NULL), 1);
  ASSERT_EQ_INT(import("members", b->members, NULL), 1);
  ASSERT_EQ_INT(import("balances", b->balances, NULL), 1);
  ASSERT_EQ_INT(import("orders", b->orders, "--no-order-points"), 1);
}

static void audit_passes(void)
{
  Loyalty__V1__VerifyAuditRequest req = LOYALTY__V1__VERIFY_AUDIT_REQUEST__INIT;
  Loyalty__V1__VerifyAuditResponse *r = (Loyalty__V1__VerifyAuditResponse *)tl_call_ok(
      tl_hq, ADMIN("VerifyAudit"), &req.base, &loyalty__v1__verify_audit_response__descriptor);
  ASSERT_TRUE(r->ok);
}

static void a_bad_row_in_each_file_is_rejected_and_the_rest_imported(void)
{
  brand b = make_brand();
  import_brand(&b);

  ASSERT_CONTAINS(errors_of(b.stores), "\n4,\"channel must be pos, tmall");
  ASSERT_CONTAINS(errors_of(b.members), "\n4,phone ");
  ASSERT_CONTAINS(errors_of(b.members), "belongs to a member with another name");
  ASSERT_CONTAINS(errors_of(b.balances), "\n5,unknown member");
  ASSERT_CONTAINS(errors_of(b.orders), "\n5,\"amount must be a positive number of yuan");
  /* The rejected row follows its reason, as the file had it. */
  ASSERT_CONTAINS(errors_of(b.members), ",Someone Else,");
  ASSERT_CONTAINS(output_of(b.orders), summary("rejected", 1));

  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM stores WHERE store_code IN ('%s', '%s')",
                           b.store_a, b.store_b), 2);
  ASSERT_EQ_INT(tl_sql_int("SELECT channel FROM stores WHERE store_code = '%s'", b.store_b),
                LOYALTY__V1__CHANNEL__CHANNEL_TMALL);
  int64_t m1 = member_by_phone(b.phone1), m2 = member_by_phone(b.phone2);
  int64_t m3 = tl_sql_int("SELECT member_id FROM identities WHERE kind = 'tmall_nick'"
                          " AND value = '%s'", b.nick3);
  ASSERT_TRUE(m1 > 0 && m2 > 0 && m3 > 0);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM members WHERE member_id = %" PRId64
                           " AND name = 'Li Hong' AND birthday = '1990-03-05'"
                           " AND enrolled_at = '2023-05-01T10:00:00+08:00'"
                           " AND enrolled_store_id = (SELECT store_id FROM stores"
                           "                          WHERE store_code = '%s')",
                           m1, b.store_a), 1);

  /* Opening balances: 500 and 100, the 100 already past its last day expired in the import. */
  ASSERT_EQ_INT(tl_sql_int("SELECT balance FROM members WHERE member_id = %" PRId64, m1), 500);
  ASSERT_EQ_INT(tl_sql_int("SELECT sum(points) FROM ledger WHERE member_id = %" PRId64
                           " AND kind = 'expiry'", m1), -100);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM lots WHERE member_id = %" PRId64
                           " AND remaining > 0 AND expires_on = '2030-12-31'", m1), 1);
  ASSERT_EQ_INT(tl_sql_int("SELECT balance FROM members WHERE member_id = %" PRId64, m3), 40);

  /* Orders carry 0 points and count for spend and tier: 3500 - 500.50 yuan is senior
   * (VIP from 3000 was reached, then the refund brought the spend under it). */
  Loyalty__V1__Balance *bal = tl_balance(tl_hq, m1);
  ASSERT_EQ_INT(bal->balance, 500);
  ASSERT_EQ_INT(bal->lifetime_spend_cents, 299950);
  ASSERT_EQ_INT(bal->tier, LOYALTY__V1__TIER__TIER_SENIOR);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM tier_changes WHERE member_id = %" PRId64
                           " AND reason = 'import' AND new_tier = 2", m1), 1);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM members WHERE member_id = %" PRId64
                           " AND first_purchase_at = '2024-01-01T10:00:00+08:00'", m1), 1);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64
                           " AND kind = 'earn' AND points = 0 AND amount_cents = 350000"
                           " AND occurred_at = '2024-01-01T10:00:00+08:00'", m1), 1);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64
                           " AND kind = 'refund' AND amount_cents = 50050", m1), 1);
  ASSERT_EQ_INT(tl_balance(tl_hq, m2)->tier, LOYALTY__V1__TIER__TIER_ORDINARY);
  ASSERT_EQ_INT(tl_sql_int("SELECT sum(points) FROM ledger WHERE member_id = %" PRId64
                           " AND kind = 'earn'", m2), 0); /* B1's 99 points not asked for */
  audit_passes();
  passed();
}

/* Everything about a brand's members that an import could change, as one text. */
static char *snapshot(const brand *b)
{
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SELECT string_agg(concat_ws(' ', m.member_id, m.balance, m.tier,"
           "  m.lifetime_spend_cents, encode(m.ledger_head, 'hex'),"
           "  (SELECT count(*) FROM ledger l WHERE l.member_id = m.member_id),"
           "  (SELECT count(*) FROM identities d WHERE d.member_id = m.member_id)), ','"
           "  ORDER BY m.member_id)"
           " FROM members m WHERE m.phone IN ('%s', '%s')"
           "   OR m.member_id IN (SELECT member_id FROM identities WHERE value = '%s')",
           b->phone1, b->phone2, b->nick3);
  return tl_sql_value(sql); /* the test's: freed when it ends */
}

static void the_same_files_again_change_nothing(void)
{
  brand b = make_brand();
  import_brand(&b);
  char *before = snapshot(&b);
  char *errors_before = errors_of(b.orders);
  import_brand(&b); /* the rejected rows are reported again: exit 1 */
  ASSERT_EQ_STR(snapshot(&b), before);
  ASSERT_EQ_STR(errors_of(b.orders), errors_before);
  ASSERT_CONTAINS(output_of(b.orders), summary("imported", 0));
  ASSERT_CONTAINS(output_of(b.orders), summary("skipped", 3));

  /* Another file with the same rows (its own run): skipped by their row keys. */
  const char *copy = path_in(b.dir, "orders-again.csv");
  char *text = read_file(b.orders);
  write_file(copy, strcat(text, "\n"));
  ASSERT_EQ_INT(import("orders", copy, "--no-order-points"), 1);
  ASSERT_EQ_STR(snapshot(&b), before);
  ASSERT_CONTAINS(output_of(copy), summary("imported", 0));
  audit_passes();
  passed();
}

static void a_dry_run_changes_nothing(void)
{
  brand b = make_brand();
  ASSERT_EQ_INT(import("stores", b.stores, "--dry-run"), 1);
  ASSERT_CONTAINS(errors_of(b.stores), "\n4,\"channel must be pos");
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM stores WHERE store_code = '%s'", b.store_a),
                0);
  ASSERT_EQ_INT(import("stores", b.stores, NULL), 1);
  ASSERT_EQ_INT(import("members", b.members, "--dry-run"), 1);
  ASSERT_CONTAINS(errors_of(b.members), "\n4,phone ");
  ASSERT_CONTAINS(output_of(b.members), summary("would be", 3));
  ASSERT_EQ_INT(member_by_phone(b.phone1), 0);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM import_runs r WHERE kind = 'members' AND"
                           " EXISTS (SELECT 1 FROM import_rejections j WHERE j.run_id = r.run_id"
                           "         AND j.reason LIKE '%%%s%%')", b.phone1), 0);
  /* Then for real: all of it. */
  ASSERT_EQ_INT(import("members", b.members, NULL), 1);
  ASSERT_TRUE(member_by_phone(b.phone1) > 0);
  passed();
}

#define BIG_ORDERS 20000
#define BIG_MEMBERS 40

/* A brand of BIG_MEMBERS members and an orders file of BIG_ORDERS purchases among them
 * (several batches): the members' phones, spends and the file's total. */
typedef struct big_brand {
  brand b;
  const char *phones[BIG_MEMBERS];
  int64_t spend[BIG_MEMBERS], total;
} big_brand;

static void make_big_brand(big_brand *g)
{
  brand *b = &g->b;
  *b = make_brand();
  ASSERT_EQ_INT(import("stores", b->stores, NULL), 1);
  FILE *f = fopen(b->members, "w");
  fputs("phone,name,birthday,identities,enrolled_store,enrolled_at\n", f);
  for (int i = 0; i < BIG_MEMBERS; i++) {
    g->phones[i] = tl_phone();
    g->spend[i] = 0;
    fprintf(f, "%s,M%d,,,%s,\n", g->phones[i], i, b->store_a);
  }
  fclose(f);
  ASSERT_EQ_INT(import("members", b->members, NULL), 0);
  g->total = 0;
  f = fopen(b->orders, "w");
  fputs("store,order_id,kind,member,amount,occurred_at\n", f);
  for (int i = 0; i < BIG_ORDERS; i++) {
    int64_t cents = 100 + (i * 7919) % 50000;
    fprintf(f, "%s,N%d,purchase,%s,%" PRId64 ".%02" PRId64 ",2024-03-01T12:00:00+08:00\n",
            b->store_a, i, g->phones[i % BIG_MEMBERS], cents / 100, cents % 100);
    g->total += cents;
    g->spend[i % BIG_MEMBERS] += cents;
  }
  fclose(f);
}

static int64_t big_brand_earns(const big_brand *g)
{
  return tl_sql_int("SELECT count(*) FROM ledger l JOIN stores s USING (store_id)"
                    " WHERE s.store_code = '%s' AND l.kind = 'earn'", g->b.store_a);
}

/* Waits until the import has committed a batch; returns the earns written. */
static int64_t first_batch_done(const big_brand *g)
{
  int64_t done = 0;
  for (int i = 0; i < 20000 && done == 0; i++) {
    done = big_brand_earns(g);
    if (done == 0)
      usleep(2000);
  }
  return done;
}

/* Every order of the file once: its count, amounts and each member's spend. */
static void big_brand_imported_once(const big_brand *g)
{
  ASSERT_EQ_INT(big_brand_earns(g), BIG_ORDERS);
  ASSERT_EQ_INT(tl_sql_int("SELECT sum(amount_cents) FROM ledger l JOIN stores s"
                           " USING (store_id) WHERE s.store_code = '%s'", g->b.store_a),
                g->total);
  for (int i = 0; i < BIG_MEMBERS; i++)
    ASSERT_EQ_INT(tl_balance(tl_hq, member_by_phone(g->phones[i]))->lifetime_spend_cents,
                  g->spend[i]);
}

static void a_killed_run_resumes_and_ends_as_a_whole_run(void)
{
  big_brand g;
  make_big_brand(&g);
  /* Killed as soon as its first batch has committed. */
  pid_t pid = start_import("orders", g.b.orders, NULL);
  first_batch_done(&g);
  kill(pid, SIGKILL);
  ASSERT_EQ_INT(wait_exit(pid), 128 + SIGKILL);
  sleep(1); /* the server finishes the batches it was writing: the client's death stops no call */
  int64_t done = big_brand_earns(&g);
  ASSERT_TRUE(done > 0 && done < BIG_ORDERS);

  ASSERT_EQ_INT(import("orders", g.b.orders, NULL), 0);
  ASSERT_CONTAINS(output_of(g.b.orders), summary("rejected", 0));
  big_brand_imported_once(&g);
  /* The lines the killed run did were skipped, not imported twice. */
  ASSERT_CONTAINS(output_of(g.b.orders), summary("imported", BIG_ORDERS - done));
  ASSERT_CONTAINS(output_of(g.b.orders), summary("skipped", done));
  ASSERT_EQ_INT(import("orders", g.b.orders, NULL), 0);
  ASSERT_CONTAINS(output_of(g.b.orders), summary("imported", 0));
  audit_passes();
  passed();
}

/* The server crashes half-way (killed, then started again): loyaltyctl waits for it and
 * carries on, and every row is imported once (a batch the crash cut off is sent again;
 * one that committed before the crash is skipped). */
static void a_run_goes_on_after_a_server_crash(void)
{
  big_brand g;
  make_big_brand(&g);
  const char *const no_args[] = {NULL};
  tl_server server = tl_start_server("127.0.0.1", no_args);
  import_server = server.address;
  pid_t pid = start_import("orders", g.b.orders, NULL);
  int64_t done = first_batch_done(&g);
  tl_restart_server(&server, SIGKILL);
  int rc = wait_exit(pid);
  import_server = NULL;
  ASSERT_EQ_INT(tl_stop_server(server), 0);
  ASSERT_TRUE(done < BIG_ORDERS); /* the crash came before the end */
  ASSERT_EQ_INT(rc, 0);
  ASSERT_CONTAINS(output_of(g.b.orders), "retrying");
  ASSERT_CONTAINS(output_of(g.b.orders), summary("rejected", 0));
  big_brand_imported_once(&g);
  audit_passes();
  passed();
}

/* --jobs: the rows go as parts at once, split by member. Every row is imported once, each
 * refund after its purchase; an order named a second time, its member another way (so
 * perhaps in another part, at the same moment), is skipped as it would be in a whole run;
 * the file again changes nothing, with the same parts or others. */
static void parts_sent_at_once_import_every_row_once(void)
{
  brand b = make_brand();
  ASSERT_EQ_INT(import("stores", b.stores, NULL), 1);
  /* Several batches a part; the duplicates after the first (which take turns on the audit
   * log's head), where the parts' batches run at once. */
  enum { MEMBERS = 30, PURCHASES = 20000, DUPLICATES = 40, DUPLICATES_FROM = 10000 };
  const char *phones[MEMBERS];
  FILE *f = fopen(b.members, "w");
  fputs("phone,name,birthday,identities,enrolled_store,enrolled_at\n", f);
  for (int i = 0; i < MEMBERS; i++) {
    phones[i] = tl_phone();
    fprintf(f, "%s,P%d,,,%s,\n", phones[i], i, b.store_a);
  }
  fclose(f);
  ASSERT_EQ_INT(import("members", b.members, NULL), 0);
  int64_t spend[MEMBERS] = {0};
  int refunds = 0;
  f = fopen(b.orders, "w");
  fputs("store,order_id,kind,member,amount,occurred_at\n", f);
  for (int i = 0; i < PURCHASES; i++) {
    int m = i % MEMBERS;
    int64_t cents = 1000 + (i * 7919) % 50000;
    fprintf(f, "%s,J%d,purchase,%s,%" PRId64 ".%02" PRId64 ",2024-03-01T12:00:00+08:00\n",
            b.store_a, i, phones[m], cents / 100, cents % 100);
    spend[m] += cents;
    if (i >= DUPLICATES_FROM && i < DUPLICATES_FROM + DUPLICATES)
      /* the same row, the member named another way: skipped */
      fprintf(f, "%s,J%d,purchase,id:%" PRId64 ",%" PRId64 ".%02" PRId64
                 ",2024-03-01T12:00:00+08:00\n",
              b.store_a, i, member_by_phone(phones[m]), cents / 100, cents % 100);
    if (i % 10 == 9) { /* a refund of half of a purchase of a few lines before */
      int j = i - 5, mj = j % MEMBERS;
      int64_t cj = (1000 + (j * 7919) % 50000) / 2;
      fprintf(f, "%s,J%d,refund,%s,%" PRId64 ".%02" PRId64 ",2024-03-05T12:00:00+08:00\n",
              b.store_a, j, phones[mj], cj / 100, cj % 100);
      spend[mj] -= cj;
      refunds++;
    }
  }
  fclose(f);

  ASSERT_EQ_INT(import("orders", b.orders, "--jobs=4"), 0);
  ASSERT_CONTAINS(output_of(b.orders), summary("imported", PURCHASES + refunds));
  ASSERT_CONTAINS(output_of(b.orders), summary("skipped", DUPLICATES));
  /* Four runs, one a part, each with rows of its own. */
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM import_runs WHERE imported > 0 AND"
                           " file_sha256 = (SELECT file_sha256 FROM import_runs"
                           "                WHERE part = '1/4' ORDER BY run_id DESC LIMIT 1)"),
                4);
  for (int i = 0; i < MEMBERS; i++)
    ASSERT_EQ_INT(tl_balance(tl_hq, member_by_phone(phones[i]))->lifetime_spend_cents,
                  spend[i]);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger l JOIN stores s USING (store_id)"
                           " WHERE s.store_code = '%s' AND l.kind = 'refund'", b.store_a),
                refunds);

  ASSERT_EQ_INT(import("orders", b.orders, "--jobs=4"), 0);
  ASSERT_CONTAINS(output_of(b.orders), summary("imported", 0));
  ASSERT_EQ_INT(import("orders", b.orders, "--jobs=1"), 0);
  ASSERT_CONTAINS(output_of(b.orders), summary("imported", 0));
  ASSERT_CONTAINS(output_of(b.orders), summary("skipped", PURCHASES + refunds + DUPLICATES));
  audit_passes();
  passed();
}

/* An orders file with the old system's points says whether members get them: not twice, once
 * from the balances file and again from the orders. */
static void order_points_are_given_only_when_asked(void)
{
  brand b = make_brand();
  ASSERT_EQ_INT(import("stores", b.stores, NULL), 1);
  ASSERT_EQ_INT(import("members", b.members, NULL), 1);
  ASSERT_EQ_INT(import("orders", b.orders, NULL), 2);
  ASSERT_CONTAINS(output_of(b.orders), "--order-points");
  int64_t m2 = member_by_phone(b.phone2);
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64, m2), 0);
  ASSERT_EQ_INT(import("orders", b.orders, "--order-points"), 1);
  /* B1's 99 points, dated 2024-02-01, expired at the end of 2025 in the import. */
  ASSERT_EQ_INT(tl_sql_int("SELECT sum(points) FROM ledger WHERE member_id = %" PRId64
                           " AND kind = 'earn'", m2), 99);
  ASSERT_EQ_INT(tl_sql_int("SELECT sum(points) FROM ledger WHERE member_id = %" PRId64
                           " AND kind = 'expiry'", m2), -99);
  ASSERT_EQ_INT(tl_sql_int("SELECT sum(points) FROM ledger l JOIN members m USING (member_id)"
                           " WHERE m.phone = '%s' AND l.kind = 'earn'", b.phone1), 0);
  audit_passes();
  passed();
}

/* A live online sale whose points are still pending is refunded live, where its pending
 * points are taken back: an import may not refund it. */
static void an_import_cannot_refund_a_live_sale_still_pending(void)
{
  ASSERT_STATUS(tl_set_pending_days(LOYALTY__V1__CHANNEL__CHANNEL_OTHER, 15), GRPC_STATUS_OK);
  tl_store shop = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_OTHER);
  int64_t member = tl_enroll(shop.conn, "");
  Loyalty__V1__EarnRequest earn = tl_earn_request(member, 20000);
  Loyalty__V1__PointsResult *r = (Loyalty__V1__PointsResult *)tl_call_ok(
      shop.conn, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  ASSERT_EQ_INT(r->pending_points, 200);

  const char *file = path_in(work_dir(), "orders.csv");
  char text[1024];
  snprintf(text, sizeof text,
           "store,order_id,kind,member,amount,occurred_at\n"
           "%s,%s,refund,id:%" PRId64 ",50.00,%s\n",
           shop.code, earn.order_id, member,
           tl_sql_value("SELECT to_char(now() AT TIME ZONE 'UTC' + interval '1 minute',"
                        " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"));
  write_file(file, text);
  ASSERT_EQ_INT(import("orders", file, NULL), 1);
  ASSERT_CONTAINS(errors_of(file), "still pending");
  ASSERT_EQ_INT(tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64
                           " AND kind = 'refund'", member), 0);
  ASSERT_EQ_INT(tl_balance(tl_hq, member)->pending_points, 200);
  passed();
}

static void a_bad_header_is_a_usage_error(void)
{
  const char *dir = work_dir();
  const char *file = path_in(dir, "orders.csv");
  write_file(file, "store,order_id,kind,member,amount,when\n");
  ASSERT_EQ_INT(import("orders", file, NULL), 2);
  ASSERT_CONTAINS(output_of(file), "unknown column \"when\"");
  write_file(file, "store,order_id,kind,member,amount\n");
  ASSERT_EQ_INT(import("orders", file, NULL), 2);
  ASSERT_CONTAINS(output_of(file), "no \"occurred_at\" column");
  passed();
}

static const tl_test tests[] = {
  {"order_points_are_given_only_when_asked", order_points_are_given_only_when_asked},
  {"a_bad_row_in_each_file_is_rejected_and_the_rest_imported",
   a_bad_row_in_each_file_is_rejected_and_the_rest_imported},
  {"the_same_files_again_change_nothing", the_same_files_again_change_nothing},
  {"a_dry_run_changes_nothing", a_dry_run_changes_nothing},
  {"a_killed_run_resumes_and_ends_as_a_whole_run", a_killed_run_resumes_and_ends_as_a_whole_run},
  {"a_run_goes_on_after_a_server_crash", a_run_goes_on_after_a_server_crash},
  {"parts_sent_at_once_import_every_row_once", parts_sent_at_once_import_every_row_once},
  {"an_import_cannot_refund_a_live_sale_still_pending",
   an_import_cannot_refund_a_live_sale_still_pending},
  {"a_bad_header_is_a_usage_error", a_bad_header_is_a_usage_error},
};

int main(int argc, char **argv)
{
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
