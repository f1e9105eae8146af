/*
 * test_reports_members.c - HQ's member reports (docs/analytics.md): lifecycle, migration,
 * RFM, period KPIs, store KPIs, and the report time (as_of, known_at).
 *
 * A report counts a whole brand, so each test makes a brand of its own (report_brand.c): a
 * fresh database in the fixture's cluster, its own HQ key and its own loyaltyd. Sales are dated with occurred_at through the HQ key (which may date far back).
 * Each test checks the reports against what it made: written out by hand at the window
 * edges, and recomputed from the test's own sales by a brute-force model of the definitions
 * (the model_* functions below, in C, sharing no code with the SQL).
 */
#include <libpq-fe.h>
#include <limits.h>
#include <unistd.h>

#include "report_brand.h"


static Loyalty__V1__LifecycleReport *lifecycle(int as_of, int window, const char *known_at)
{
  Loyalty__V1__LifecycleReportRequest req = LOYALTY__V1__LIFECYCLE_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t = report_time(as_of, known_at);
  req.time = &t;
  req.window_months = window;
  return (Loyalty__V1__LifecycleReport *)tl_call_ok(
      brand.hq, ADMIN("ReportLifecycle"), &req.base, &loyalty__v1__lifecycle_report__descriptor);
}

static int64_t stage_count(const Loyalty__V1__LifecycleReport *r, const char *stage)
{
  for (size_t i = 0; i < r->n_stages; i++) {
    if (strcmp(r->stages[i]->stage, stage) == 0)
      return r->stages[i]->members;
  }
  tl_fail(__FILE__, __LINE__, "no stage %s in the report", stage);
}

/* The stage of one member as of day (the report's own definition, straight from SQL, to say
 * which member is wrong when a count is). */
static const char *stage_of(int64_t member, int as_of, int window, const char *known_at)
{
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT stage FROM loyalty_report_stages('%s', %s%s%s, %d) WHERE member_id = %lld",
           date_text(as_of), known_at ? "'" : "", known_at ? known_at : "NULL",
           known_at ? "'" : "", window, (long long)member);
  PGresult *r = brand_query(sql);
  char *s = tl_keep(strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "(none)"));
  PQclear(r);
  return s;
}

/* --- lifecycle at the window edges ------------------------------------------------------------- */

static void lifecycle_stages_at_window_edges(void)
{
  brand_open("reports");
  int D = brand.today;
  int w3 = months_from(D, 3), w6 = months_from(D, 6), w12 = months_from(D, 12);
  /* W = 3: the last 3 months start at w3, silent from w6, sleeping from w12, lost before. */
  int64_t new_one = enroll(NULL);
  earn(new_one, "S1", w3, 10000);                    /* exactly W before: in the window */
  int64_t silent = enroll(NULL);
  earn(silent, "S1", w3 - 1, 10000);                 /* the day before it: silent */
  int64_t silent_edge = enroll(NULL);
  earn(silent_edge, "S1", w6, 10000);                /* exactly 2W before: still silent */
  int64_t sleeping = enroll(NULL);
  earn(sleeping, "S1", w6 - 1, 10000);
  int64_t sleeping_edge = enroll(NULL);
  earn(sleeping_edge, "S2", w12, 10000);
  int64_t lost = enroll(NULL);
  earn(lost, "S2", w12 - 1, 10000);
  int64_t old_repeat = enroll(NULL);
  earn(old_repeat, "S1", w12 - 40, 5000);
  earn(old_repeat, "S1", D - 10, 5000);
  earn(old_repeat, "S2", D - 9, 5000);
  int64_t old_one = enroll(NULL);                     /* two orders on one day: one visit */
  earn(old_one, "S1", w3 - 5, 5000);
  earn(old_one, "S1", D - 3, 5000);
  earn(old_one, "S2", D - 3, 5000);
  int64_t new_repeat = enroll(NULL);
  earn(new_repeat, "S1", D - 20, 5000);
  earn_at(new_repeat, "S1", D, "00:00:01", 5000);    /* as_of's first second */
  int64_t refunded = enroll(NULL);                    /* fully refunded: never bought */
  refund(refunded, earn(refunded, "S1", D - 30, 8000), D - 28, 8000);
  int64_t partly = enroll(NULL);                      /* partly refunded: still a purchase */
  refund(partly, earn(partly, "S1", D - 30, 8000), D - 28, 7999);
  int64_t never = enroll(NULL);

  struct {
    int64_t member;
    const char *stage;
  } want[] = {{new_one, "new_one"}, {silent, "silent"}, {silent_edge, "silent"},
              {sleeping, "sleeping"}, {sleeping_edge, "sleeping"}, {lost, "lost"},
              {old_repeat, "old_repeat"}, {old_one, "old_one"}, {new_repeat, "new_repeat"},
              {refunded, "never_bought"}, {partly, "new_one"}, {never, "never_bought"}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    ASSERT_EQ_STR(stage_of(want[i].member, D, 3, NULL), want[i].stage);

  Loyalty__V1__LifecycleReport *r = lifecycle(D, 3, NULL);
  ASSERT_EQ_STR(r->time->as_of, date_text(D));
  ASSERT_EQ_INT(r->window_months, 3);
  ASSERT_EQ_INT(r->members, 12);
  ASSERT_EQ_INT(stage_count(r, "new_one"), 2);
  ASSERT_EQ_INT(stage_count(r, "new_repeat"), 1);
  ASSERT_EQ_INT(stage_count(r, "old_repeat"), 1);
  ASSERT_EQ_INT(stage_count(r, "old_one"), 1);
  ASSERT_EQ_INT(stage_count(r, "silent"), 2);
  ASSERT_EQ_INT(stage_count(r, "sleeping"), 2);
  ASSERT_EQ_INT(stage_count(r, "lost"), 1);
  ASSERT_EQ_INT(stage_count(r, "never_bought"), 2);

  /* As of yesterday: new_repeat's sale of today is not there yet (one visit), members
   * enrolled today are not members yet, the refund of D-28 is there. */
  r = lifecycle(D - 1, 3, NULL);
  ASSERT_EQ_STR(stage_of(new_repeat, D - 1, 3, NULL), "new_one");
  ASSERT_EQ_STR(stage_of(never, D - 1, 3, NULL), "(none)");
  ASSERT_EQ_INT(stage_count(r, "never_bought"), 0);
  /* Before the refund happened, the refunded purchase was one. */
  ASSERT_EQ_STR(stage_of(refunded, D - 29, 3, NULL), "new_one");

  /* W = 6: the last 6 months start at w6. */
  ASSERT_EQ_STR(stage_of(silent_edge, D, 6, NULL), "new_one"); /* first day of the window */
  ASSERT_EQ_STR(stage_of(sleeping, D, 6, NULL), "silent");
  ASSERT_EQ_STR(stage_of(lost, D, 6, NULL), "sleeping"); /* the day before the last 2W */
  r = lifecycle(D, 6, NULL);
  ASSERT_EQ_INT(r->members, 12);
  ASSERT_EQ_INT(stage_count(r, "lost"), 0);
}

/* A late sale changes a past report only for a known_at after it was recorded. */
static void late_sale_counts_from_its_known_at(void)
{
  brand_open("reports");
  int D = brand.today;
  int64_t m = enroll(NULL);
  earn(m, "S1", D - 200, 10000);
  Loyalty__V1__LifecycleReport *before = lifecycle(D - 1, 3, NULL);
  ASSERT_EQ_INT(stage_count(before, "sleeping"), 1);
  char *known = tl_keep(strdup(before->time->known_at));
  usleep(20 * 1000);
  earn(m, "S2", D - 5, 10000); /* a till's sale of 5 days ago, synced now */
  Loyalty__V1__LifecycleReport *again = lifecycle(D - 1, 3, known);
  ASSERT_EQ_STR(again->time->known_at, known);
  ASSERT_EQ_INT(stage_count(again, "sleeping"), 1);
  ASSERT_EQ_INT(stage_count(again, "old_one"), 0);
  Loyalty__V1__LifecycleReport *now = lifecycle(D - 1, 3, NULL);
  ASSERT_EQ_INT(stage_count(now, "sleeping"), 0);
  ASSERT_EQ_INT(stage_count(now, "old_one"), 1);
  /* A refund recorded later does not change the answer for the earlier known_at either. */
  char *known2 = tl_keep(strdup(now->time->known_at));
  usleep(20 * 1000);
  int64_t t = brand_int("SELECT max(txn_id) FROM ledger WHERE kind = 'earn'");
  refund(m, t, D - 4, 10000);
  ASSERT_EQ_INT(stage_count(lifecycle(D - 1, 3, known2), "old_one"), 1);
  ASSERT_EQ_INT(stage_count(lifecycle(D - 1, 3, NULL), "sleeping"), 1);
}

/* A merged member's purchases are the kept member's, once the merge is known. */
static void merge_makes_one_person_once_known(void)
{
  brand_open("reports");
  int D = brand.today;
  int64_t keep = enroll(NULL), twin = enroll(NULL);
  earn(keep, "S1", D - 150, 10000); /* silent with W = 3 */
  earn(twin, "S2", D - 10, 10000);  /* new_one */
  Loyalty__V1__LifecycleReport *r = lifecycle(D, 3, NULL);
  char *before = tl_keep(strdup(r->time->known_at));
  ASSERT_EQ_INT(r->members, 2);
  usleep(20 * 1000);
  Loyalty__V1__MergeMembersRequest req = LOYALTY__V1__MERGE_MEMBERS_REQUEST__INIT;
  req.request_id = (char *)tl_unique("m");
  req.keep = keep;
  req.merge = twin;
  tl_call_ok(brand.hq, ADMIN("MergeMembers"), &req.base, &loyalty__v1__points_result__descriptor);
  r = lifecycle(D, 3, NULL);
  ASSERT_EQ_INT(r->members, 1);
  ASSERT_EQ_INT(stage_count(r, "old_one"), 1); /* first purchase 150 days ago, one visit now */
  ASSERT_EQ_INT(stage_count(r, "new_one"), 0);
  ASSERT_EQ_INT(stage_count(r, "silent"), 0);
  ASSERT_EQ_STR(stage_of(keep, D, 3, NULL), "old_one");
  ASSERT_EQ_STR(stage_of(twin, D, 3, NULL), "(none)");
  /* As known before the merge: two people, as they were. */
  r = lifecycle(D, 3, before);
  ASSERT_EQ_INT(r->members, 2);
  ASSERT_EQ_INT(stage_count(r, "new_one"), 1);
  ASSERT_EQ_INT(stage_count(r, "silent"), 1);
  /* A refund made on the kept member of the twin's purchase counts for the person. */
  int64_t t = brand_int("SELECT txn_id FROM ledger WHERE kind = 'earn' AND member_id = %lld",
                        (long long)twin);
  refund(keep, t, D - 9, 10000);
  ASSERT_EQ_INT(stage_count(lifecycle(D, 3, NULL), "silent"), 1);
}

/* Pending points (an online store's return window) do not make a purchase any less one. */
static void pending_purchases_count(void)
{
  brand_open("reports");
  PQclear(brand_query("UPDATE program SET pending_days = '{0,15,0,0,0,0}'")); /* tmall: 15 d */
  int D = brand.today;
  int64_t m = enroll(NULL), n = enroll(NULL);
  Loyalty__V1__PointsResult *p = earn_at(m, "T1", D - 3, "12:00:00", 20000);
  ASSERT_EQ_INT(p->points, 0);
  ASSERT_EQ_INT(p->pending_points, 200);
  int64_t t = earn_at(n, "T1", D - 3, "12:00:00", 20000)->transaction_id;
  refund(n, t, D - 2, 20000); /* returned in full before the release: no purchase */
  Loyalty__V1__LifecycleReport *r = lifecycle(D, 3, NULL);
  ASSERT_EQ_INT(stage_count(r, "new_one"), 1);
  ASSERT_EQ_INT(stage_count(r, "never_bought"), 1);
  ASSERT_EQ_STR(stage_of(m, D, 3, NULL), "new_one");
}

/* --- a brand with random sales, and the brute-force model ----------------------------------- */

#define MODEL_MEMBERS 60
#define MODEL_SALES 400

typedef struct sale {
  int person;     /* index into model.member */
  int store;      /* 0 S1, 1 S2, 2 T1 */
  int day;
  int64_t cents;
  int refund_day; /* INT_MAX: none */
  int64_t refund_cents;
  int64_t points; /* what the earn gave */
} sale;

static const char *const store_codes[] = {"S1", "S2", "T1"};

static struct {
  int64_t member[MODEL_MEMBERS];
  int enrolled_store[MODEL_MEMBERS]; /* -1: HQ */
  sale sales[MODEL_SALES];
  int n_sales;
} model;

static unsigned rng_state = 12345;
static unsigned rng(unsigned n)
{
  rng_state = rng_state * 1103515245u + 12345u;
  return (rng_state >> 8) % n;
}

/* Members enrolled today (some at a store), with sales over the last 600 days: most buy a
 * few times, some often, a few never; some sales refunded in part or in full days later. */
static void model_build(void)
{
  brand_open("reports");
  memset(&model, 0, sizeof model);
  for (int i = 0; i < MODEL_MEMBERS; i++) {
    model.enrolled_store[i] = (int)rng(4) - 1;
    model.member[i] = enroll(model.enrolled_store[i] >= 0 ? store_codes[model.enrolled_store[i]]
                                                          : NULL);
  }
  while (model.n_sales < MODEL_SALES) {
    int person = (int)rng(MODEL_MEMBERS);
    if (person % 10 == 9)
      continue; /* never buys */
    sale *s = &model.sales[model.n_sales++];
    s->person = person;
    s->store = person % 3 == 0 ? (int)rng(3) : (int)(rng(4) ? person % 2 : 2);
    s->day = brand.today - (int)(person % 4 == 0 ? rng(40) : rng(600));
    s->cents = 1000 + (int64_t)rng(50000);
    s->refund_day = INT_MAX;
    Loyalty__V1__PointsResult *p =
        earn_at(model.member[person], store_codes[s->store], s->day,
                s->day == brand.today ? "00:00:01" : "12:00:00", s->cents);
    s->points = p->points + p->pending_points;
    unsigned roll = rng(10);
    if (roll < 2) {
      s->refund_day = s->day + (int)rng(6);
      if (s->refund_day > brand.today)
        s->refund_day = brand.today;
      s->refund_cents = roll == 0 ? s->cents : s->cents / 3;
      refund(model.member[person], p->transaction_id, s->refund_day, s->refund_cents);
    }
  }
}

static bool model_is_purchase(const sale *s, int as_of)
{
  return s->day <= as_of && !(s->refund_day <= as_of && s->refund_cents >= s->cents);
}

static int64_t model_net(const sale *s, int as_of)
{
  return s->cents - (s->refund_day <= as_of ? s->refund_cents : 0);
}

/* Distinct days with a purchase of person in [from, to] (store -1: any), as of as_of. */
static int model_visits(int person, int from, int to, int store, int as_of)
{
  int days[MODEL_SALES], n = 0;
  for (int i = 0; i < model.n_sales; i++) {
    const sale *s = &model.sales[i];
    if (s->person != person || !model_is_purchase(s, as_of) || s->day < from || s->day > to ||
        (store >= 0 && s->store != store))
      continue;
    bool seen = false;
    for (int k = 0; k < n && !seen; k++)
      seen = days[k] == s->day;
    if (!seen)
      days[n++] = s->day;
  }
  return n;
}

static const char *model_stage(int person, int as_of, int window)
{
  int first = INT_MAX, last = INT_MIN;
  for (int i = 0; i < model.n_sales; i++) {
    const sale *s = &model.sales[i];
    if (s->person == person && model_is_purchase(s, as_of)) {
      if (s->day < first)
        first = s->day;
      if (s->day > last)
        last = s->day;
    }
  }
  int w1 = months_from(as_of, window);
  if (last == INT_MIN)
    return as_of >= brand.today ? "never_bought" : "not_member"; /* all enrolled today */
  if (last >= w1) {
    bool repeat = model_visits(person, w1, as_of, -1, as_of) >= 2;
    if (first >= w1)
      return repeat ? "new_repeat" : "new_one";
    return repeat ? "old_repeat" : "old_one";
  }
  if (last >= months_from(as_of, 2 * window))
    return "silent";
  if (last >= months_from(as_of, 4 * window))
    return "sleeping";
  return "lost";
}

static void lifecycle_and_migration_match_the_model(void)
{
  rng_state = 777;
  model_build();
  int D = brand.today;
  static const char *const stages[] = {"new_one", "new_repeat", "old_repeat", "old_one",
                                       "silent", "sleeping", "lost", "never_bought"};
  static const int windows[] = {3, 6, 12};
  for (size_t w = 0; w < 3; w++) {
    for (int as_of = D - 120; as_of <= D; as_of += 60) {
      Loyalty__V1__LifecycleReport *r = lifecycle(as_of, windows[w], NULL);
      int64_t total = 0;
      for (size_t k = 0; k < 8; k++) {
        int64_t want = 0;
        for (int p = 0; p < MODEL_MEMBERS; p++)
          want += strcmp(model_stage(p, as_of, windows[w]), stages[k]) == 0;
        if (stage_count(r, stages[k]) != want)
          tl_fail(__FILE__, __LINE__, "as of %s, W %d: %s: got %" PRId64 ", want %" PRId64,
                  date_text(as_of), windows[w], stages[k], stage_count(r, stages[k]), want);
        total += want;
      }
      ASSERT_EQ_INT(r->members, total);
    }
  }

  /* Migration from D - 90 to D: each person in the cell of their two stages. */
  Loyalty__V1__MigrationReportRequest req = LOYALTY__V1__MIGRATION_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t = report_time(D, NULL);
  req.time = &t;
  req.from_date = (char *)date_text(D - 90);
  Loyalty__V1__MigrationReport *m = (Loyalty__V1__MigrationReport *)tl_call_ok(
      brand.hq, ADMIN("ReportMigration"), &req.base, &loyalty__v1__migration_report__descriptor);
  int64_t cells_total = 0;
  for (size_t i = 0; i < m->n_cells; i++) {
    int64_t want = 0;
    for (int p = 0; p < MODEL_MEMBERS; p++)
      want += strcmp(model_stage(p, D - 90, 3), m->cells[i]->from_stage) == 0 &&
              strcmp(model_stage(p, D, 3), m->cells[i]->to_stage) == 0;
    if (want != m->cells[i]->members)
      tl_fail(__FILE__, __LINE__, "%s -> %s: got %" PRId64 ", want %" PRId64,
              m->cells[i]->from_stage, m->cells[i]->to_stage, m->cells[i]->members, want);
    cells_total += m->cells[i]->members;
  }
  ASSERT_EQ_INT(cells_total, MODEL_MEMBERS);
  ASSERT_EQ_INT(m->forward + m->backward + m->same, MODEL_MEMBERS);
}

/* --- RFM --------------------------------------------------------------------------------------- */

typedef struct rfm_row {
  int person, r, f;
  int64_t m;
} rfm_row;

static int model_rfm(int as_of, rfm_row *rows)
{
  int from = months_from(as_of, 12), n = 0;
  for (int p = 0; p < MODEL_MEMBERS; p++) {
    int last = INT_MIN;
    int64_t m = 0;
    for (int i = 0; i < model.n_sales; i++) {
      const sale *s = &model.sales[i];
      if (s->person == p && model_is_purchase(s, as_of) && s->day >= from) {
        m += model_net(s, as_of);
        if (s->day > last)
          last = s->day;
      }
    }
    if (last == INT_MIN)
      continue;
    rows[n++] = (rfm_row){p, as_of - last, model_visits(p, from, as_of, -1, as_of), m};
  }
  return n;
}

static int cmp_int64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Twice the median of v[0..n-1] (sorted in place). */
static int64_t twice_median(int64_t *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_int64);
  return v[(n + 1) / 2 - 1] + v[n / 2];
}

static void rfm_matches_the_model(void)
{
  rng_state = 4242;
  model_build();
  int D = brand.today;
  rfm_row rows[MODEL_MEMBERS];
  int n = model_rfm(D, rows);
  ASSERT_TRUE(n > 10);
  int64_t rv[MODEL_MEMBERS], fv[MODEL_MEMBERS], mv[MODEL_MEMBERS];
  for (int i = 0; i < n; i++)
    rv[i] = rows[i].r, fv[i] = rows[i].f, mv[i] = rows[i].m;
  int64_t r2 = twice_median(rv, n), f2 = twice_median(fv, n), m2 = twice_median(mv, n);
  static const char *const classes[] = {"important_value", "important_develop", "important_keep",
                                        "important_retain", "general_value", "general_develop",
                                        "general_keep", "general_retain"};
  int64_t class_count[8] = {0}, score_count[3][6] = {{0}};
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT member_id, recency_days, frequency, monetary_cents, r_score, f_score,"
           " m_score, class FROM loyalty_report_rfm_members('%s', NULL, NULL, NULL, NULL,"
           " NULL, NULL, NULL)", date_text(D));
  PGresult *res = brand_query(sql);
  ASSERT_EQ_INT(PQntuples(res), n);
  for (int i = 0; i < n; i++) {
    const rfm_row *w = &rows[i];
    int kr = 0, km = 0;
    for (int j = 0; j < n; j++) {
      kr += rows[j].r >= w->r;
      km += rows[j].m <= w->m;
    }
    int rs = (5 * kr + n - 1) / n, ms = (5 * km + n - 1) / n;
    int fs = w->f >= 6 ? 5 : w->f >= 4 ? 4 : w->f;
    bool rh = 2 * w->r < r2, fh = 2 * w->f > f2, mh = 2 * w->m > m2;
    int cls = (mh ? 0 : 4) + (rh ? (fh ? 0 : 1) : (fh ? 2 : 3));
    class_count[cls]++;
    score_count[0][rs]++, score_count[1][fs]++, score_count[2][ms]++;
    int row = -1;
    for (int k = 0; k < n; k++) {
      if (strtoll(PQgetvalue(res, k, 0), NULL, 10) == model.member[w->person])
        row = k;
    }
    ASSERT_TRUE(row >= 0);
    ASSERT_EQ_INT(strtoll(PQgetvalue(res, row, 1), NULL, 10), w->r);
    ASSERT_EQ_INT(strtoll(PQgetvalue(res, row, 2), NULL, 10), w->f);
    ASSERT_EQ_INT(strtoll(PQgetvalue(res, row, 3), NULL, 10), w->m);
    ASSERT_EQ_INT(strtoll(PQgetvalue(res, row, 4), NULL, 10), rs);
    ASSERT_EQ_INT(strtoll(PQgetvalue(res, row, 5), NULL, 10), fs);
    ASSERT_EQ_INT(strtoll(PQgetvalue(res, row, 6), NULL, 10), ms);
    ASSERT_EQ_STR(PQgetvalue(res, row, 7), classes[cls]);
  }
  PQclear(res);

  Loyalty__V1__RfmReportRequest req = LOYALTY__V1__RFM_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t = report_time(D, NULL);
  req.time = &t;
  Loyalty__V1__RfmReport *r = (Loyalty__V1__RfmReport *)tl_call_ok(
      brand.hq, ADMIN("ReportRfm"), &req.base, &loyalty__v1__rfm_report__descriptor);
  ASSERT_EQ_INT(r->members, n);
  ASSERT_EQ_INT(r->n_classes, 8);
  for (int k = 0; k < 8; k++) {
    ASSERT_EQ_STR(r->classes[k]->rfm_class, classes[k]);
    ASSERT_EQ_INT(r->classes[k]->members, class_count[k]);
  }
  for (int s = 1; s <= 5; s++) {
    ASSERT_EQ_INT(r->recency[s - 1]->score, s);
    ASSERT_EQ_INT(r->recency[s - 1]->members, score_count[0][s]);
    ASSERT_EQ_INT(r->frequency[s - 1]->members, score_count[1][s]);
    ASSERT_EQ_INT(r->monetary[s - 1]->members, score_count[2][s]);
  }
  ASSERT_EQ_INT(r->median_recency_days, r2 / 2);
  ASSERT_EQ_INT(r->median_monetary_cents, m2 / 2);

  /* Explicit cut-offs: R 30/90/180/270 days, M 100/300/600/1000 yuan; high R under 60 days,
   * high F above 1 visit, high M above 500 yuan. */
  int64_t rc[] = {30, 90, 180, 270}, mc[] = {10000, 30000, 60000, 100000};
  req.recency_cutoffs_days = rc, req.n_recency_cutoffs_days = 4;
  req.monetary_cutoffs_cents = mc, req.n_monetary_cutoffs_cents = 4;
  req.recency_high_below_days = 60, req.frequency_high_above = 1;
  req.monetary_high_above_cents = 50000;
  r = (Loyalty__V1__RfmReport *)tl_call_ok(brand.hq, ADMIN("ReportRfm"), &req.base,
                                           &loyalty__v1__rfm_report__descriptor);
  memset(class_count, 0, sizeof class_count);
  memset(score_count, 0, sizeof score_count);
  for (int i = 0; i < n; i++) {
    const rfm_row *w = &rows[i];
    int rs = 5 - (w->r > 30) - (w->r > 90) - (w->r > 180) - (w->r > 270);
    int ms = 1 + (w->m >= 10000) + (w->m >= 30000) + (w->m >= 60000) + (w->m >= 100000);
    bool rh = w->r < 60, fh = w->f > 1, mh = w->m > 50000;
    class_count[(mh ? 0 : 4) + (rh ? (fh ? 0 : 1) : (fh ? 2 : 3))]++;
    score_count[0][rs]++, score_count[2][ms]++;
  }
  for (int k = 0; k < 8; k++)
    ASSERT_EQ_INT(r->classes[k]->members, class_count[k]);
  for (int s = 1; s <= 5; s++) {
    ASSERT_EQ_INT(r->recency[s - 1]->members, score_count[0][s]);
    ASSERT_EQ_INT(r->monetary[s - 1]->members, score_count[2][s]);
  }
}

/* --- period and store KPIs ---------------------------------------------------------------------- */

static void kpis_match_the_model(void)
{
  rng_state = 99;
  model_build();
  int D = brand.today, from = D - 27, mid = from + 14;
  for (int store = -1; store < 3; store++) {
    Loyalty__V1__KpiReportRequest req = LOYALTY__V1__KPI_REPORT_REQUEST__INIT;
    Loyalty__V1__ReportTime t = report_time(0, NULL);
    Loyalty__V1__ReportFilter f = LOYALTY__V1__REPORT_FILTER__INIT;
    f.store_code = (char *)(store >= 0 ? store_codes[store] : "");
    req.time = &t;
    req.filter = &f;
    req.from_date = (char *)date_text(from);
    req.to_date = (char *)date_text(D);
    Loyalty__V1__KpiReport *k = (Loyalty__V1__KpiReport *)tl_call_ok(
        brand.hq, ADMIN("ReportKpis"), &req.base, &loyalty__v1__kpi_report__descriptor);
    int64_t buyers = 0, fresh = 0, repeat = 0, sales = 0, fresh_sales = 0, first_half = 0,
            retained = 0, sleeping = 0, woken = 0, lost = 0, reactivated = 0, enrolled = 0;
    for (int p = 0; p < MODEL_MEMBERS; p++) {
      int visits = model_visits(p, from, D, store, D);
      int first = INT_MAX;
      int64_t net = 0;
      for (int i = 0; i < model.n_sales; i++) {
        const sale *s = &model.sales[i];
        if (s->person != p || !model_is_purchase(s, D))
          continue;
        if (s->day < first)
          first = s->day;
        if (s->day >= from && (store < 0 || s->store == store))
          net += model_net(s, D);
      }
      const char *before = model_stage(p, from - 1, 3);
      sleeping += strcmp(before, "sleeping") == 0;
      lost += strcmp(before, "lost") == 0;
      enrolled += store < 0 || model.enrolled_store[p] == store;
      if (visits == 0)
        continue;
      buyers++;
      repeat += visits >= 2;
      sales += net;
      if (first >= from)
        fresh++, fresh_sales += net;
      bool in_first = model_visits(p, from, mid - 1, store, D) > 0;
      first_half += in_first;
      retained += in_first && model_visits(p, mid, D, store, D) > 0;
      woken += strcmp(before, "sleeping") == 0;
      reactivated += strcmp(before, "lost") == 0;
    }
    ASSERT_EQ_INT(k->buyers, buyers);
    ASSERT_EQ_INT(k->new_buyers, fresh);
    ASSERT_EQ_INT(k->repeat_buyers, repeat);
    ASSERT_EQ_INT(k->net_sales_cents, sales);
    ASSERT_EQ_INT(k->new_buyer_sales_cents, fresh_sales);
    ASSERT_EQ_INT(k->arpu_cents, buyers ? sales / buyers : 0);
    ASSERT_EQ_INT(k->first_half_buyers, first_half);
    ASSERT_EQ_INT(k->retained_buyers, retained);
    ASSERT_EQ_INT(k->sleeping_before, sleeping);
    ASSERT_EQ_INT(k->woken, woken);
    ASSERT_EQ_INT(k->lost_before, lost);
    ASSERT_EQ_INT(k->reactivated, reactivated);
    ASSERT_EQ_INT(k->enrolments, enrolled);
    int64_t tiers = 0;
    for (size_t i = 0; i < k->n_tiers; i++)
      tiers += k->tiers[i]->members;
    ASSERT_EQ_INT(tiers, buyers);
  }
}

static void store_kpis_match_the_model(void)
{
  rng_state = 31337;
  model_build();
  int D = brand.today, from = D - 6; /* a week */
  int prior_from = months_from(from - 1, 12);
  /* Redemptions of 20, 30 and 40 points at S1 today, the 30 cancelled by HQ (no store):
   * S1 redeemed 60. */
  int64_t member = brand_int("SELECT member_id FROM members WHERE balance >= 100 LIMIT 1");
  ASSERT_TRUE(member > 0);
  int64_t redemption[3];
  for (int i = 0; i < 3; i++) {
    Loyalty__V1__RedeemRequest rd = tl_redeem_request(member, 10 * (i + 2));
    rd.store_code = "S1";
    redemption[i] = TL_POINTS(tl_call(brand.hq, POINTS("Redeem"), &rd.base,
                                      &loyalty__v1__points_result__descriptor))->transaction_id;
  }
  TL_POINTS(tl_cancel(brand.hq, member, redemption[1]));

  Loyalty__V1__StoreReportRequest req = LOYALTY__V1__STORE_REPORT_REQUEST__INIT;
  req.from_date = (char *)date_text(from);
  req.to_date = (char *)date_text(D);
  Loyalty__V1__StoreReport *r = (Loyalty__V1__StoreReport *)tl_call_ok(
      brand.hq, ADMIN("ReportStores"), &req.base, &loyalty__v1__store_report__descriptor);
  ASSERT_EQ_INT(r->n_stores, 3);
  for (int st = 0; st < 3; st++) {
    const Loyalty__V1__StoreKpi *k = r->stores[st];
    ASSERT_EQ_STR(k->store_code, store_codes[st]);
    int64_t enrolled = 0, prior = 0, returning = 0, buyers = 0, repeat = 0, net = 0, earned = 0;
    for (int p = 0; p < MODEL_MEMBERS; p++) {
      enrolled += model.enrolled_store[p] == st;
      int before = model_visits(p, prior_from, from - 1, st, D);
      int in = model_visits(p, from, D, st, D);
      prior += before > 0;
      returning += before > 0 && in > 0;
      buyers += in > 0;
      repeat += in >= 2;
    }
    for (int i = 0; i < model.n_sales; i++) {
      const sale *s = &model.sales[i];
      if (s->store != st || s->day < from)
        continue;
      earned += s->points;
      if (model_is_purchase(s, D))
        net += model_net(s, D);
    }
    ASSERT_EQ_INT(k->enrolled, enrolled);
    ASSERT_EQ_INT(k->prior_buyers, prior);
    ASSERT_EQ_INT(k->returning_buyers, returning);
    ASSERT_EQ_INT(k->buyers, buyers);
    ASSERT_EQ_INT(k->repeat_buyers, repeat);
    ASSERT_EQ_INT(k->net_sales_cents, net);
    ASSERT_EQ_INT(k->points_earned, earned);
    ASSERT_EQ_INT(k->points_redeemed, st == 0 ? 60 : 0);
  }
  ASSERT_TRUE(r->stores[0]->prior_buyers > 0); /* the data exercise what is checked */

  /* A region filter keeps its stores only. */
  Loyalty__V1__ReportFilter f = LOYALTY__V1__REPORT_FILTER__INIT;
  f.region = "ZJ";
  req.filter = &f;
  r = (Loyalty__V1__StoreReport *)tl_call_ok(brand.hq, ADMIN("ReportStores"), &req.base,
                                             &loyalty__v1__store_report__descriptor);
  ASSERT_EQ_INT(r->n_stores, 1);
  ASSERT_EQ_STR(r->stores[0]->store_code, "S2");
}

static void report_arguments_are_checked(void)
{
  brand_open("reports");
  Loyalty__V1__LifecycleReportRequest req = LOYALTY__V1__LIFECYCLE_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t = LOYALTY__V1__REPORT_TIME__INIT;
  req.time = &t;
  const ProtobufCMessageDescriptor *d = &loyalty__v1__lifecycle_report__descriptor;
  t.as_of = "2026-02-30";
  tl_result r = tl_call(brand.hq, ADMIN("ReportLifecycle"), &req.base, d);
  ASSERT_STATUS(r, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(r.message, "as_of");
  t.as_of = "";
  t.known_at = "2999-01-01T00:00:00Z";
  r = tl_call(brand.hq, ADMIN("ReportLifecycle"), &req.base, d);
  ASSERT_STATUS(r, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(r.message, "known_at is in the future");
  t.known_at = "yesterday";
  ASSERT_STATUS(tl_call(brand.hq, ADMIN("ReportLifecycle"), &req.base, d),
                GRPC_STATUS_INVALID_ARGUMENT);
  t.known_at = "";
  req.window_months = 4;
  r = tl_call(brand.hq, ADMIN("ReportLifecycle"), &req.base, d);
  ASSERT_STATUS(r, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(r.message, "window_months must be 3, 6 or 12");

  Loyalty__V1__KpiReportRequest k = LOYALTY__V1__KPI_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportFilter f = LOYALTY__V1__REPORT_FILTER__INIT;
  k.filter = &f;
  k.from_date = "2026-03-02";
  k.to_date = "2026-03-01";
  const ProtobufCMessageDescriptor *kd = &loyalty__v1__kpi_report__descriptor;
  r = tl_call(brand.hq, ADMIN("ReportKpis"), &k.base, kd);
  ASSERT_STATUS(r, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(r.message, "from_date is after to_date");
  k.from_date = "2026-02-01";
  Loyalty__V1__ReportTime kt = LOYALTY__V1__REPORT_TIME__INIT;
  kt.as_of = "2026-02-28";
  k.time = &kt;
  r = tl_call(brand.hq, ADMIN("ReportKpis"), &k.base, kd);
  ASSERT_STATUS(r, GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_CONTAINS(r.message, "as_of is before to_date");
  k.time = NULL;
  f.store_code = "NOPE";
  r = tl_call(brand.hq, ADMIN("ReportKpis"), &k.base, kd);
  ASSERT_STATUS(r, GRPC_STATUS_NOT_FOUND);
  ASSERT_CONTAINS(r.message, "unknown store NOPE");

  /* Reports are HQ's: a store key is refused (on the shared server: any store key). */
  tl_store store = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  req.window_months = 0;
  ASSERT_STATUS(tl_call(store.conn, ADMIN("ReportLifecycle"), &req.base, d),
                GRPC_STATUS_PERMISSION_DENIED);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"lifecycle_stages_at_window_edges", lifecycle_stages_at_window_edges},
    {"late_sale_counts_from_its_known_at", late_sale_counts_from_its_known_at},
    {"merge_makes_one_person_once_known", merge_makes_one_person_once_known},
    {"pending_purchases_count", pending_purchases_count},
    {"lifecycle_and_migration_match_the_model", lifecycle_and_migration_match_the_model},
    {"rfm_matches_the_model", rfm_matches_the_model},
    {"kpis_match_the_model", kpis_match_the_model},
    {"store_kpis_match_the_model", store_kpis_match_the_model},
    {"report_arguments_are_checked", report_arguments_are_checked},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
