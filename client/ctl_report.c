/*
 * ctl_report.c - loyaltyctl report NAME: HQ's reports (docs/analytics.md).
 *
 * Every report takes --as-of DATE and --known-at TIME (the report time), --json (the answer
 * as one JSON object) and --csv (its main table as CSV, cents as cents); period reports take
 * --from/--to and the store filters --store, --channel, --region. Text output shows each
 * distribution as a table with a bar per row (ctl_print_bars), so the shape shows at a
 * glance.
 *
 * INTERFACE ROUTINES
 *   ctl_report_time     --as-of / --known-at into a ReportTime
 *   ctl_report_filter   --store / --channel / --region into a ReportFilter
 *   ctl_report_call     one report call: progress on stderr, errors printed; --json printed
 *   ctl_print_bars      a distribution as a table with a bar per row
 *   ctl_format_rate     "23.4%" from a count and its whole, in integers
 *   ctl_report_*        the reports
 */
#include "ctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADMIN(m) "/loyalty.v1.Admin/" m
#define BAR_WIDTH 40
/* A report scans the brand's history: it may take longer than a movement's 10 s default. */
#define REPORT_TIMEOUT_MS 120000

const char *const ctl_report_flags[] = {"json", "csv", NULL};

void ctl_report_time(const ctl_args *args, Loyalty__V1__ReportTime *t)
{
  loyalty__v1__report_time__init(t);
  t->as_of = (char *)(ctl_arg(args, "as-of") ? ctl_arg(args, "as-of") : "");
  t->known_at = (char *)(ctl_arg(args, "known-at") ? ctl_arg(args, "known-at") : "");
}

static const struct {
  const char *name;
  Loyalty__V1__Channel channel;
} report_channels[] = {
  {"pos", LOYALTY__V1__CHANNEL__CHANNEL_POS},
  {"tmall", LOYALTY__V1__CHANNEL__CHANNEL_TMALL},
  {"jd", LOYALTY__V1__CHANNEL__CHANNEL_JD},
  {"wechat", LOYALTY__V1__CHANNEL__CHANNEL_WECHAT_MINI},
  {"web", LOYALTY__V1__CHANNEL__CHANNEL_WEB},
  {"other", LOYALTY__V1__CHANNEL__CHANNEL_OTHER},
};

bool ctl_report_filter(const ctl_args *args, Loyalty__V1__ReportFilter *f)
{
  loyalty__v1__report_filter__init(f);
  f->store_code = (char *)(ctl_arg(args, "store") ? ctl_arg(args, "store") : "");
  f->region = (char *)(ctl_arg(args, "region") ? ctl_arg(args, "region") : "");
  const char *channel = ctl_arg(args, "channel");
  if (channel == NULL)
    return true;
  for (size_t i = 0; i < sizeof report_channels / sizeof report_channels[0]; i++) {
    if (strcmp(channel, report_channels[i].name) == 0)
      f->channel = report_channels[i].channel;
  }
  if (f->channel == LOYALTY__V1__CHANNEL__CHANNEL_UNSPECIFIED) {
    ctl_usage_error("--channel must be pos, tmall, jd, wechat, web or other");
    return false;
  }
  return true;
}

static double elapsed_since(const struct timespec *start)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int ctl_report_call(ctl_env *env, const ctl_args *args, const char *method,
                    const ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *response_type,
                    ProtobufCMessage **response)
{
  *response = NULL;
  bool progress = isatty(STDERR_FILENO);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  if (progress)
    fprintf(stderr, "report: computing %s...", strrchr(method, '/') + 1);
  char *message;
  int timeout = env->timeout_ms > REPORT_TIMEOUT_MS ? env->timeout_ms : REPORT_TIMEOUT_MS;
  grpc_status_code status =
      lc_call(env->conn, method, request, response_type, response, &message, timeout);
  if (progress)
    fprintf(stderr, " %.1f s\n", elapsed_since(&start));
  if (status != GRPC_STATUS_OK) {
    fprintf(stderr, "error: %s: %s\n", lc_status_name(status), message);
    free(message);
    *response = NULL;
    return CTL_EXIT_RPC;
  }
  if (env->json || ctl_flag(args, "json")) {
    ctl_print(*response, true);
    protobuf_c_message_free_unpacked(*response, NULL);
    *response = NULL; /* printed */
  }
  return CTL_EXIT_OK;
}

void ctl_format_rate(char *out, size_t size, int64_t part, int64_t whole)
{
  if (whole <= 0) {
    snprintf(out, size, "-");
    return;
  }
  int64_t permille = part * 1000 / whole; /* rounded down, integers only */
  snprintf(out, size, "%" PRId64 ".%" PRId64 "%%", permille / 10, permille % 10);
}

static void format_yuan(char *out, size_t size, int64_t cents)
{
  uint64_t a = cents < 0 ? -(uint64_t)cents : (uint64_t)cents;
  snprintf(out, size, "%s%" PRIu64 ".%02" PRIu64, cents < 0 ? "-" : "", a / 100, a % 100);
}

void ctl_format_yuan(char *out, size_t size, int64_t cents)
{
  format_yuan(out, size, cents);
}

/* Columns the text takes in a terminal: CJK characters take two. */
static int display_width(const char *s)
{
  int width = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    unsigned cp;
    int len;
    if (*p < 0x80) {
      cp = *p, len = 1;
    } else if ((*p & 0xe0) == 0xc0) {
      cp = *p & 0x1f, len = 2;
    } else if ((*p & 0xf0) == 0xe0) {
      cp = *p & 0x0f, len = 3;
    } else {
      cp = *p & 0x07, len = 4;
    }
    for (int i = 1; i < len && p[i]; i++)
      cp = (cp << 6) | (p[i] & 0x3f);
    width += cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                              (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                              (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6))
                 ? 2
                 : 1;
    for (int i = 0; i < len && *p; i++)
      p++;
  }
  return width;
}

static void print_padded(const char *s, int width)
{
  fputs(s, stdout);
  for (int w = display_width(s); w < width; w++)
    putchar(' ');
}

void ctl_print_bars(const char *title, const char *value_name, const ctl_bar_row *rows,
                    size_t n, bool money)
{
  int64_t total = 0, max = 0;
  int label_width = 0, value_width = (int)strlen(value_name);
  char cell[64];
  for (size_t i = 0; i < n; i++) {
    total += rows[i].value;
    if (rows[i].value > max)
      max = rows[i].value;
    if (display_width(rows[i].label) > label_width)
      label_width = display_width(rows[i].label);
    if (money)
      format_yuan(cell, sizeof cell, rows[i].value);
    else
      snprintf(cell, sizeof cell, "%" PRId64, rows[i].value);
    if ((int)strlen(cell) > value_width)
      value_width = (int)strlen(cell);
  }
  printf("%s\n  ", title);
  print_padded("", label_width);
  printf("  %*s  %6s\n", value_width, value_name, "share");
  for (size_t i = 0; i < n; i++) {
    fputs("  ", stdout);
    print_padded(rows[i].label, label_width);
    if (money)
      format_yuan(cell, sizeof cell, rows[i].value);
    else
      snprintf(cell, sizeof cell, "%" PRId64, rows[i].value);
    printf("  %*s  ", value_width, cell);
    ctl_format_rate(cell, sizeof cell, rows[i].value, total);
    printf("%6s  ", cell);
    int bar = max > 0 && rows[i].value > 0 ? (int)((rows[i].value * BAR_WIDTH + max - 1) / max) : 0;
    for (int b = 0; b < bar; b++)
      fputs("\u2588", stdout); /* a full block: the bar */
    if (rows[i].note != NULL && rows[i].note[0] != '\0')
      printf("%s%s", bar > 0 ? " " : "", rows[i].note);
    putchar('\n');
  }
}

static void print_time_line(const char *what, const Loyalty__V1__ReportTime *t)
{
  printf("%s as of %s (known at %s)\n", what, t->as_of, t->known_at);
}

/* --- lifecycle, migration ---------------------------------------------------------------- */

static bool parse_window(const ctl_args *args, int32_t *months)
{
  int64_t v = 0;
  const char *s = ctl_arg(args, "window");
  if (s != NULL && (!ctl_parse_int64(s, &v) || (v != 3 && v != 6 && v != 12))) {
    ctl_usage_error("--window must be 3, 6 or 12 (months)");
    return false;
  }
  *months = (int32_t)v;
  return true;
}

int ctl_report_lifecycle(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__LifecycleReportRequest req = LOYALTY__V1__LIFECYCLE_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t;
  if (args->n_positional != 0)
    return ctl_usage_error("usage: report lifecycle [--window 3|6|12] [--as-of DATE]"
                           " [--known-at TIME] [--json | --csv]");
  if (!parse_window(args, &req.window_months))
    return CTL_EXIT_USAGE;
  ctl_report_time(args, &t);
  req.time = &t;
  ProtobufCMessage *response;
  int rc = ctl_report_call(env, args, ADMIN("ReportLifecycle"), &req.base,
                           &loyalty__v1__lifecycle_report__descriptor, &response);
  if (response == NULL)
    return rc;
  const Loyalty__V1__LifecycleReport *rep = (const Loyalty__V1__LifecycleReport *)response;
  if (ctl_flag(args, "csv")) {
    ctl_print_csv(response, true);
  } else {
    char title[256];
    print_time_line("lifecycle", rep->time);
    snprintf(title, sizeof title, "window %d months, %" PRId64 " members", rep->window_months,
             rep->members);
    ctl_bar_row rows[16];
    char labels[16][64];
    size_t n = rep->n_stages < 16 ? rep->n_stages : 16;
    for (size_t i = 0; i < n; i++) {
      snprintf(labels[i], sizeof labels[i], "%s %s", rep->stages[i]->label,
               rep->stages[i]->stage);
      rows[i] = (ctl_bar_row){labels[i], rep->stages[i]->members, NULL};
    }
    ctl_print_bars(title, "members", rows, n, false);
  }
  protobuf_c_message_free_unpacked(response, NULL);
  return CTL_EXIT_OK;
}

static const char *const stage_order[] = {"not_member", "never_bought", "new_one", "new_repeat",
                                          "old_repeat", "old_one", "silent", "sleeping", "lost"};
#define N_STAGES (sizeof stage_order / sizeof stage_order[0])

static int stage_index(const char *stage)
{
  for (size_t i = 0; i < N_STAGES; i++) {
    if (strcmp(stage, stage_order[i]) == 0)
      return (int)i;
  }
  return -1;
}

int ctl_report_migration(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__MigrationReportRequest req = LOYALTY__V1__MIGRATION_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t;
  if (args->n_positional != 0 || ctl_arg(args, "from") == NULL)
    return ctl_usage_error("usage: report migration --from DATE [--as-of DATE]"
                           " [--window 3|6|12] [--known-at TIME] [--json | --csv]");
  if (!parse_window(args, &req.window_months))
    return CTL_EXIT_USAGE;
  req.from_date = (char *)ctl_arg(args, "from");
  ctl_report_time(args, &t);
  req.time = &t;
  ProtobufCMessage *response;
  int rc = ctl_report_call(env, args, ADMIN("ReportMigration"), &req.base,
                           &loyalty__v1__migration_report__descriptor, &response);
  if (response == NULL)
    return rc;
  const Loyalty__V1__MigrationReport *rep = (const Loyalty__V1__MigrationReport *)response;
  if (ctl_flag(args, "csv")) {
    ctl_print_csv(response, true);
    protobuf_c_message_free_unpacked(response, NULL);
    return CTL_EXIT_OK;
  }
  int64_t grid[N_STAGES][N_STAGES] = {{0}};
  for (size_t i = 0; i < rep->n_cells; i++) {
    int a = stage_index(rep->cells[i]->from_stage), b = stage_index(rep->cells[i]->to_stage);
    if (a >= 0 && b >= 0)
      grid[a][b] = rep->cells[i]->members;
  }
  printf("migration from %s to %s (known at %s), window %d months\n", rep->from_date,
         rep->time->as_of, rep->time->known_at, rep->window_months);
  printf("  %-13s", "from \\ to");
  for (size_t b = 1; b < N_STAGES; b++)
    printf(" %12s", stage_order[b]);
  putchar('\n');
  for (size_t a = 0; a < N_STAGES; a++) {
    printf("  %-13s", stage_order[a]);
    for (size_t b = 1; b < N_STAGES; b++)
      printf(" %12" PRId64, grid[a][b]);
    putchar('\n');
  }
  ctl_bar_row rows[] = {{"正向 forward", rep->forward, NULL},
                        {"反向 backward", rep->backward, NULL},
                        {"same", rep->same, NULL}};
  ctl_print_bars("direction", "members", rows, 3, false);
  protobuf_c_message_free_unpacked(response, NULL);
  return CTL_EXIT_OK;
}

/* --- RFM -------------------------------------------------------------------------------- */

/* "a,b,c,d" into 4 values (yuan when money, else whole numbers); false after a usage error. */
static bool parse_cutoffs(const ctl_args *args, const char *name, bool money, int64_t *out,
                          size_t *n)
{
  const char *s = ctl_arg(args, name);
  *n = 0;
  if (s == NULL)
    return true;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    int64_t v;
    if (*n == 4 || !(money ? ctl_parse_yuan(tok, &v) : ctl_parse_int64(tok, &v))) {
      ctl_usage_error("--%s must be 4 ascending %s, comma-separated", name,
                      money ? "amounts in yuan" : "whole numbers");
      return false;
    }
    out[(*n)++] = v;
  }
  return true;
}

static bool parse_high(const ctl_args *args, const char *name, bool money, int64_t *out)
{
  const char *s = ctl_arg(args, name);
  if (s != NULL && !(money ? ctl_parse_yuan(s, out) : ctl_parse_int64(s, out))) {
    ctl_usage_error("--%s must be %s", name, money ? "an amount in yuan" : "a whole number");
    return false;
  }
  return true;
}

static void print_scores(const char *title, Loyalty__V1__RfmScore **scores, size_t n,
                         bool money, const char *unit)
{
  ctl_bar_row rows[5];
  char labels[5][16], notes[5][64], lo[32], hi[32];
  for (size_t i = 0; i < n && i < 5; i++) {
    snprintf(labels[i], sizeof labels[i], "%d", scores[i]->score);
    if (money) {
      format_yuan(lo, sizeof lo, scores[i]->min);
      format_yuan(hi, sizeof hi, scores[i]->max);
    } else {
      snprintf(lo, sizeof lo, "%" PRId64, scores[i]->min);
      snprintf(hi, sizeof hi, "%" PRId64, scores[i]->max);
    }
    snprintf(notes[i], sizeof notes[i], scores[i]->members ? "%s-%s %s" : "", lo, hi, unit);
    rows[i] = (ctl_bar_row){labels[i], scores[i]->members, notes[i]};
  }
  ctl_print_bars(title, "members", rows, n < 5 ? n : 5, false);
}

int ctl_report_rfm(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__RfmReportRequest req = LOYALTY__V1__RFM_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t;
  int64_t r_cuts[4], f_cuts[4], m_cuts[4];
  if (args->n_positional != 0)
    return ctl_usage_error("usage: report rfm [--as-of DATE] [--known-at TIME] ...");
  if (!parse_cutoffs(args, "r-cuts", false, r_cuts, &req.n_recency_cutoffs_days) ||
      !parse_cutoffs(args, "f-cuts", false, f_cuts, &req.n_frequency_cutoffs) ||
      !parse_cutoffs(args, "m-cuts", true, m_cuts, &req.n_monetary_cutoffs_cents) ||
      !parse_high(args, "r-high", false, &req.recency_high_below_days) ||
      !parse_high(args, "f-high", false, &req.frequency_high_above) ||
      !parse_high(args, "m-high", true, &req.monetary_high_above_cents))
    return CTL_EXIT_USAGE;
  req.recency_cutoffs_days = r_cuts;
  req.frequency_cutoffs = f_cuts;
  req.monetary_cutoffs_cents = m_cuts;
  ctl_report_time(args, &t);
  req.time = &t;
  ProtobufCMessage *response;
  int rc = ctl_report_call(env, args, ADMIN("ReportRfm"), &req.base,
                           &loyalty__v1__rfm_report__descriptor, &response);
  if (response == NULL)
    return rc;
  const Loyalty__V1__RfmReport *rep = (const Loyalty__V1__RfmReport *)response;
  if (ctl_flag(args, "csv")) {
    ctl_print_csv(response, true);
    protobuf_c_message_free_unpacked(response, NULL);
    return CTL_EXIT_OK;
  }
  char title[256], median[32];
  print_time_line("RFM", rep->time);
  format_yuan(median, sizeof median, rep->median_monetary_cents);
  printf("%" PRId64 " members bought in the last 12 months; medians: %" PRId64
         " days, %" PRId64 " visits, %s yuan\n",
         rep->members, rep->median_recency_days, rep->median_frequency, median);
  ctl_bar_row rows[8];
  char labels[8][64], notes[8][48];
  for (size_t i = 0; i < rep->n_classes && i < 8; i++) {
    snprintf(labels[i], sizeof labels[i], "%s %s", rep->classes[i]->label,
             rep->classes[i]->rfm_class);
    format_yuan(median, sizeof median, rep->classes[i]->monetary_cents);
    snprintf(notes[i], sizeof notes[i], rep->classes[i]->members ? "%s yuan" : "", median);
    rows[i] = (ctl_bar_row){labels[i], rep->classes[i]->members, notes[i]};
  }
  snprintf(title, sizeof title, "classes (high: better than the median, or --r/f/m-high)");
  ctl_print_bars(title, "members", rows, rep->n_classes < 8 ? rep->n_classes : 8, false);
  print_scores("R score (days since the last purchase)", rep->recency, rep->n_recency, false,
               "days");
  print_scores("F score (visits in the last 12 months)", rep->frequency, rep->n_frequency,
               false, "visits");
  print_scores("M score (net spend in the last 12 months)", rep->monetary, rep->n_monetary,
               true, "yuan");
  protobuf_c_message_free_unpacked(response, NULL);
  return CTL_EXIT_OK;
}

/* --- period KPIs, stores ----------------------------------------------------------------- */

static bool period_args(const ctl_args *args, const char *name)
{
  if (args->n_positional != 0 || ctl_arg(args, "from") == NULL || ctl_arg(args, "to") == NULL) {
    ctl_usage_error("usage: report %s --from DATE --to DATE [--store CODE] [--channel C]"
                    " [--region R] [--as-of DATE] [--known-at TIME] [--json | --csv]",
                    name);
    return false;
  }
  return true;
}

static void rate_line(const char *name, int64_t part, int64_t whole, const char *of)
{
  char rate[32];
  ctl_format_rate(rate, sizeof rate, part, whole);
  printf("  %-26s %7s  (%" PRId64 " of %" PRId64 " %s)\n", name, rate, part, whole, of);
}

int ctl_report_kpi(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__KpiReportRequest req = LOYALTY__V1__KPI_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t;
  Loyalty__V1__ReportFilter f;
  if (!period_args(args, "kpi") || !parse_window(args, &req.window_months) ||
      !ctl_report_filter(args, &f))
    return CTL_EXIT_USAGE;
  req.from_date = (char *)ctl_arg(args, "from");
  req.to_date = (char *)ctl_arg(args, "to");
  ctl_report_time(args, &t);
  req.time = &t;
  req.filter = &f;
  ProtobufCMessage *response;
  int rc = ctl_report_call(env, args, ADMIN("ReportKpis"), &req.base,
                           &loyalty__v1__kpi_report__descriptor, &response);
  if (response == NULL)
    return rc;
  const Loyalty__V1__KpiReport *k = (const Loyalty__V1__KpiReport *)response;
  if (ctl_flag(args, "csv")) { /* one line of every count: the fields are the columns */
    const ProtobufCMessageDescriptor *d = response->descriptor;
    printf("from_date,to_date,as_of,known_at");
    for (unsigned i = 0; i < d->n_fields; i++) {
      if (d->fields[i].type == PROTOBUF_C_TYPE_INT64)
        printf(",%s", d->fields[i].name);
    }
    for (size_t i = 0; i < k->n_tiers; i++)
      printf(",tier_%d", (int)k->tiers[i]->tier);
    printf("\n%s,%s,%s,%s", k->from_date, k->to_date, k->time->as_of, k->time->known_at);
    for (unsigned i = 0; i < d->n_fields; i++) {
      if (d->fields[i].type == PROTOBUF_C_TYPE_INT64)
        printf(",%" PRId64, *(const int64_t *)((const char *)k + d->fields[i].offset));
    }
    for (size_t i = 0; i < k->n_tiers; i++)
      printf(",%" PRId64, k->tiers[i]->members);
    putchar('\n');
    protobuf_c_message_free_unpacked(response, NULL);
    return CTL_EXIT_OK;
  }
  char yuan[32], arpu[32];
  printf("KPIs %s .. %s, as of %s (known at %s)\n", k->from_date, k->to_date, k->time->as_of,
         k->time->known_at);
  format_yuan(yuan, sizeof yuan, k->net_sales_cents);
  format_yuan(arpu, sizeof arpu, k->arpu_cents);
  printf("  %-26s %7" PRId64 "\n  %-26s %7s yuan\n  %-26s %7s yuan\n  %-26s %7" PRId64 "\n",
         "buyers", k->buyers, "net sales", yuan, "active ARPU", arpu, "enrolments",
         k->enrolments);
  rate_line("new buyers", k->new_buyers, k->buyers, "buyers");
  rate_line("new buyers' share of sales", k->new_buyer_sales_cents, k->net_sales_cents,
            "cents");
  rate_line("repeat purchase rate", k->repeat_buyers, k->buyers, "buyers");
  rate_line("retention (1st -> 2nd half)", k->retained_buyers, k->first_half_buyers,
            "first-half buyers");
  rate_line("wake-up rate", k->woken, k->sleeping_before, "sleeping the day before");
  rate_line("reactivation rate", k->reactivated, k->lost_before, "lost the day before");
  static const char *const tier_names[] = {"none", "ordinary", "senior", "vip", "supreme"};
  ctl_bar_row rows[5];
  size_t n = k->n_tiers < 5 ? k->n_tiers : 5;
  for (size_t i = 0; i < n; i++) {
    int tier = (int)k->tiers[i]->tier;
    rows[i] = (ctl_bar_row){tier >= 0 && tier < 5 ? tier_names[tier] : "?",
                            k->tiers[i]->members, NULL};
  }
  ctl_print_bars("buyers by tier (as known at known_at)", "buyers", rows, n, false);
  protobuf_c_message_free_unpacked(response, NULL);
  return CTL_EXIT_OK;
}

int ctl_report_stores(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__StoreReportRequest req = LOYALTY__V1__STORE_REPORT_REQUEST__INIT;
  Loyalty__V1__ReportTime t;
  Loyalty__V1__ReportFilter f;
  if (!period_args(args, "stores") || !ctl_report_filter(args, &f))
    return CTL_EXIT_USAGE;
  req.from_date = (char *)ctl_arg(args, "from");
  req.to_date = (char *)ctl_arg(args, "to");
  ctl_report_time(args, &t);
  req.time = &t;
  req.filter = &f;
  ProtobufCMessage *response;
  int rc = ctl_report_call(env, args, ADMIN("ReportStores"), &req.base,
                           &loyalty__v1__store_report__descriptor, &response);
  if (response == NULL)
    return rc;
  const Loyalty__V1__StoreReport *rep = (const Loyalty__V1__StoreReport *)response;
  if (ctl_flag(args, "csv")) {
    ctl_print_csv(response, true);
    protobuf_c_message_free_unpacked(response, NULL);
    return CTL_EXIT_OK;
  }
  printf("stores %s .. %s, as of %s (known at %s)\n", rep->from_date, rep->to_date,
         rep->time->as_of, rep->time->known_at);
  printf("  %-10s %8s %7s %7s %9s %14s %10s %10s\n", "store", "enrolled", "buyers", "repeat",
         "came_back", "net_sales", "earned", "redeemed");
  ctl_bar_row *rows = calloc(rep->n_stores + 1, sizeof *rows);
  for (size_t i = 0; i < rep->n_stores; i++) {
    const Loyalty__V1__StoreKpi *s = rep->stores[i];
    char repeat[32], back[32], yuan[32];
    ctl_format_rate(repeat, sizeof repeat, s->repeat_buyers, s->buyers);
    ctl_format_rate(back, sizeof back, s->returning_buyers, s->prior_buyers);
    format_yuan(yuan, sizeof yuan, s->net_sales_cents);
    printf("  %-10s %8" PRId64 " %7" PRId64 " %7s %9s %14s %10" PRId64 " %10" PRId64 "\n",
           s->store_code, s->enrolled, s->buyers, repeat, back, yuan, s->points_earned,
           s->points_redeemed);
    rows[i] = (ctl_bar_row){s->store_code, s->net_sales_cents, NULL};
  }
  ctl_print_bars("net sales by store", "yuan", rows, rep->n_stores, true);
  free(rows);
  protobuf_c_message_free_unpacked(response, NULL);
  return CTL_EXIT_OK;
}
