/*
 * gen_brand.c - gen-brand: writes the import files of a realistic apparel brand
 * (stores.csv, members.csv, balances.csv, orders.csv; the contract of `loyaltyctl import`),
 * deterministically for a seed. The analytics work and the importer's tests use it.
 *
 *   bench/gen-brand [--members N] [--seed S] [--years Y] [--end YYYY-MM-DD] --out DIR
 *
 * The model (numbers in gen_brand_model.c):
 *   - 300 POS stores in 36 cities of 30 provinces, weighted towards Shanghai, Beijing,
 *     Guangdong, Zhejiang (codes SH001, BJ014, ...; region = province), each city's first
 *     store a busier flagship; 5 online shops: Tmall, JD, WeChat mini program, web shop and
 *     a Douyin shop (channel `other`). The stores are the same for every seed.
 *   - 40 % of members joined the old system in the two years before the period; the rest
 *     enrol over it (more in peaks, the brand growing ~15 % a year), 58 % in
 *     a store, the rest on a platform; 8 % never buy. Purchases per member are Zipf
 *     (P(k) ~ k^-1.9, up to 200, fewer for late enrolees): about half buy once, a few buy
 *     dozens of times. 65 % of a member's orders are on the home channel; 3 in 4 first
 *     purchases are the enrolment visit itself.
 *   - Spend per order is log-normal around 420 yuan in stores and 320 online, times a
 *     per-member level; priced like apparel (399.00, 459.00, some discounted to the cent).
 *   - Seasonality by day: 双11 (1-10 Nov pre-sales, 11 Nov ~22x online), 618 (1-17 June,
 *     18 June 7x online), 双12, new-season peaks in March and September, the National Day
 *     week in stores, a dip over the Chinese New Year holiday (table 2010-2035) and a
 *     shopping peak in the three weeks before it, weekends 1.7x in stores.
 *   - Refunds: 25 % of online orders (35 % of them partial), 8 % of store orders (30 %
 *     partial), 2-15 days after an online purchase, 0-7 days after a store one; one due
 *     after the last day comes at a random time between the purchase and the last day.
 *   - Identities: tmall_nick, jd_pin, wechat_openid, pos_card for members who buy on (or
 *     enrol at) those channels; 1 % of Tmall/JD/WeChat members have no phone. Orders name
 *     the member as the channel knows them: Tmall by nick, JD by pin, WeChat mostly by openid,
 *     stores mostly by phone, some by card. 60 % of members have a birthday.
 *   - Points (balances.csv): the old system gave 1 point per whole yuan (orders.csv
 *     `points`), took back a refund's share, let ~11 % of members redeem (oldest points
 *     first) and expired each year's points at the end of the next year. balances.csv holds
 *     the lots still valid at the end date, plus --past-balances rows whose date is already
 *     past (points that expired), so that an importer's expiry path has work.
 *
 * Memory stays bounded for any N: members and balances are written in one pass; orders.csv
 * is written in time order, one calendar month at a time, by generating every member with
 * business in that month again (a member's orders are a pure function of seed and index)
 * and sorting the month. The only per-member state kept is the span of days of its orders.
 *
 * Exit 0 on success, 1 when a file cannot be written, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gen_brand_csv.h"
#include "gen_brand_model.h"

#define DEFAULT_END "2025-12-31"

typedef struct gen_options {
  uint32_t members;
  uint64_t seed;
  int years;
  int32_t end_day;
  const char *out;
  int past_balances;
  bool quiet;
} gen_options;

/* Totals for the summary. */
typedef struct gen_totals {
  uint64_t purchases, refunds, partial_refunds;
  uint64_t online_purchases, online_refunded, store_purchases, store_refunded;
  int64_t purchase_cents, refund_cents;
  uint64_t balance_rows, past_rows;
  int64_t balance_points;
} gen_totals;

/* One orders.csv line of the month being written. */
typedef struct order_row {
  int64_t at;
  uint32_t member;
  int32_t amount;  /* cents: the purchase's, or the refund's total */
  uint16_t store;
  uint8_t j;       /* the order's number within its member */
  uint8_t kind;    /* 0 purchase, 1 refund */
  uint8_t ref;
} order_row;

typedef struct row_buffer {
  order_row *rows;
  size_t n, cap;
} row_buffer;

static double elapsed_s(const struct timespec *start)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* ---- options --------------------------------------------------------------------------- */

static void usage(FILE *out)
{
  fprintf(out,
          "usage: gen-brand [OPTION]... --out DIR\n"
          "Writes the import files of a realistic apparel brand, the same bytes for the same\n"
          "options (and the same build): DIR/stores.csv, members.csv, balances.csv, orders.csv.\n"
          "\n"
          "  --members N         members [100000; up to %u]\n"
          "  --seed S            seed of every random choice, an unsigned integer [1]\n"
          "  --years Y           years of history ending at --end, 1-%d [3]\n"
          "  --end YYYY-MM-DD    the last day of the history [%s: a fixed date, not today,\n"
          "                      so that runs are reproducible]\n"
          "  --out DIR           where the files go (created if missing; files replaced)\n"
          "  --past-balances N   balances rows whose expiry date is already past at --end\n"
          "                      (points the old system expired), for the importer's expiry\n"
          "                      path; at most one per member, spread over the members [5]\n"
          "  --quiet             no progress on stderr (shown from 100000 members)\n"
          "  --help              this help\n"
          "\n"
          "Files (CSV, UTF-8, header line, RFC 4180 quoting; times in UTC+08:00):\n"
          "  stores.csv    store_code,name,channel,region: 300 POS stores in 36 cities (SH001,\n"
          "                BJ014, ...; region = province) and 5 online shops: TM001 tmall,\n"
          "                JD001 jd, MP001 wechat_mini, WEB001 web, DY001 other (Douyin).\n"
          "  members.csv   phone,name,birthday,identities,enrolled_store,enrolled_at: phone\n"
          "                empty for a few platform members; identities kind:value|... of the\n"
          "                channels the member used (tmall_nick, jd_pin, wechat_openid,\n"
          "                pos_card); 60 %% with a birthday.\n"
          "  balances.csv  member,points,expires_on: the old system's remaining points per\n"
          "                expiry date (points earned in year Y expire on 31 Dec of Y+1).\n"
          "  orders.csv    store,order_id,kind,member,amount,occurred_at,points: purchases and\n"
          "                refunds in time order; a refund follows its purchase, names it by\n"
          "                (store, order_id) and carries the total refunded; amount in yuan\n"
          "                with two decimals; points = the old system's floor(yuan) for a\n"
          "                purchase, 0 for a refund. A member is named by phone or kind:value.\n"
          "\n"
          "Model: 40 %% of members joined before the period, the rest enrol over it, more in\n"
          "peaks; 8 %% never buy; purchases per member are Zipf (half buy once, a few dozens\n"
          "of times), spend log-normal around 300-450 yuan;\n"
          "seasonality: 双11 (1-11 Nov, huge online), 618 (1-18 June), new seasons (March,\n"
          "September), National Day, a Chinese New Year dip, weekends busier in stores;\n"
          "refunds: 25 %% of online orders and 8 %% of store orders, some partial, days after\n"
          "the purchase; ~11 %% of members redeem points. Details: bench/gen_brand.c.\n"
          "\n"
          "Prints a summary at the end: rows and bytes per file, amounts, refund shares.\n"
          "Exit status: 0 done, 1 a file could not be written, 2 usage error.\n",
          GB_MAX_MEMBERS, GB_MAX_YEARS, DEFAULT_END);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
  if (*s < '0' || *s > '9')
    return -1;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || n > max)
    return -1;
  *out = n;
  return 0;
}

/* A real calendar date YYYY-MM-DD, years 2001-2099. */
static int parse_date(const char *s, int32_t *day)
{
  int y, m, d, used = 0;
  if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 ||
      y < 2001 || y > 2099 || m < 1 || m > 12 || d < 1 || d > 31)
    return -1;
  int32_t n = gb_days_from_civil(y, m, d);
  int cy, cm, cd;
  gb_civil_from_days(n, &cy, &cm, &cd);
  if (cy != y || cm != m || cd != d)  /* 2023-02-30 */
    return -1;
  *day = n;
  return 0;
}

/* Returns 0, or 2 after printing a usage error. */
static int parse_options(int argc, char **argv, gen_options *o)
{
  *o = (gen_options){.members = 100000, .seed = 1, .years = 3, .out = NULL, .past_balances = 5};
  if (parse_date(DEFAULT_END, &o->end_day) != 0)
    abort();
  static const struct option longopts[] = {
      {"members", required_argument, NULL, 'm'},
      {"seed", required_argument, NULL, 's'},
      {"years", required_argument, NULL, 'y'},
      {"end", required_argument, NULL, 'e'},
      {"out", required_argument, NULL, 'o'},
      {"past-balances", required_argument, NULL, 'p'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c, which = 0;
  while ((c = getopt_long(argc, argv, "", longopts, &which)) != -1) {
    uint64_t n = 0;
    const char *want = NULL;
    switch (c) {
    case 'm':
      if (parse_u64(optarg, GB_MAX_MEMBERS, &n) != 0 || n == 0)
        want = "a number of members from 1 to 10000000";
      o->members = (uint32_t)n;
      break;
    case 's':
      if (parse_u64(optarg, UINT64_MAX, &o->seed) != 0)
        want = "an unsigned 64-bit integer";
      break;
    case 'y':
      if (parse_u64(optarg, GB_MAX_YEARS, &n) != 0 || n == 0)
        want = "a number of years from 1 to 10";
      o->years = (int)n;
      break;
    case 'e':
      if (parse_date(optarg, &o->end_day) != 0)
        want = "a date YYYY-MM-DD between 2001 and 2099";
      break;
    case 'o':
      o->out = optarg;
      break;
    case 'p':
      if (parse_u64(optarg, GB_MAX_MEMBERS, &n) != 0)
        want = "a number of rows from 0 to 10000000";
      o->past_balances = (int)n;
      break;
    case 'q':
      o->quiet = true;
      break;
    case 'h':
      usage(stdout);
      exit(0);
    default:
      fprintf(stderr, "Try 'gen-brand --help'.\n");
      return 2;
    }
    if (want != NULL) {
      fprintf(stderr, "gen-brand: bad value \"%s\" for --%s: want %s\n", optarg,
              longopts[which].name, want);
      return 2;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "gen-brand: unexpected argument \"%s\"\n", argv[optind]);
    return 2;
  }
  if (o->out == NULL || o->out[0] == '\0') {
    fprintf(stderr, "gen-brand: --out DIR is required (see --help)\n");
    return 2;
  }
  return 0;
}

/* The first day of the period: the day after the same date `years` earlier. */
static int32_t period_start(int32_t end_day, int years)
{
  int y, m, d;
  gb_civil_from_days(end_day, &y, &m, &d);
  if (m == 2 && d == 29)
    d = 28;
  return gb_days_from_civil(y - years, m, d) + 1;
}

/* ---- stores.csv ------------------------------------------------------------------------ */

static int write_stores(const gb_brand *b, const char *dir, uint64_t *rows, uint64_t *bytes)
{
  gb_csv w;
  if (gb_csv_open(&w, dir, "stores.csv", "store_code,name,channel,region") != 0)
    return -1;
  for (int s = 0; s < GB_N_STORES; s++) {
    const gb_store *st = &b->stores[s];
    gb_csv_field(&w, st->code);
    gb_csv_comma(&w);
    gb_csv_field(&w, st->name);
    gb_csv_comma(&w);
    gb_csv_field(&w, gb_channel_names[st->channel]);
    gb_csv_comma(&w);
    gb_csv_field(&w, st->region);
    gb_csv_newline(&w);
  }
  *rows = w.rows;
  *bytes = w.bytes + w.len;
  return gb_csv_close(&w);
}

/* ---- members.csv and balances.csv ------------------------------------------------------ */

static void write_member_row(gb_csv *w, const gb_brand *b, const gb_member *m)
{
  char buf[96], name[16];
  int32_t birthday;
  gb_member_person(b, m->index, name, &birthday);
  if (m->has_phone) {
    gb_member_ref(b, m->index, GB_REF_PHONE, true, buf);
    gb_csv_field(w, buf);
  }
  gb_csv_comma(w);
  gb_csv_field(w, name);
  gb_csv_comma(w);
  if (birthday >= 0)
    gb_csv_date(w, birthday);
  gb_csv_comma(w);
  /* The key identity (of a member without a phone) comes first: same order as the enum. */
  char identities[4 * 96] = "";
  size_t len = 0;
  for (int k = GB_REF_TMALL_NICK; k < GB_N_REFS; k++) {
    if (!(m->identities & (1u << k)))
      continue;
    gb_member_ref(b, m->index, (gb_ref)k, true, buf);
    len += (size_t)snprintf(identities + len, sizeof identities - len, "%s%s", len ? "|" : "", buf);
  }
  gb_csv_field(w, identities);
  gb_csv_comma(w);
  gb_csv_field(w, b->stores[m->home_store].code);
  gb_csv_comma(w);
  gb_csv_time(w, m->enrolled_at);
  gb_csv_newline(w);
}

static void write_balance_row(gb_csv *w, const char *key, const gb_lot *lot)
{
  gb_csv_field(w, key);
  gb_csv_comma(w);
  gb_csv_int(w, lot->points);
  gb_csv_comma(w);
  gb_csv_date(w, lot->expires_on);
  gb_csv_newline(w);
}

/* About one member in 50, by a hash of (seed, index): who may carry a past-dated row. */
static bool past_pick(uint64_t seed, uint32_t index)
{
  uint64_t z = seed * 0xD1B54A32D192ED03u + index;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return (z ^ (z >> 31)) % 50 == 0;
}

/* Writes members.csv and balances.csv in member order; fills span[2 * i] and span[2 * i + 1]
 * with the first and last day (offsets from the first day) of member i's purchases and
 * refunds, first > last when it has none. */
static int write_members(const gb_brand *b, const gen_options *o, gb_member *m, uint16_t *span,
                         gen_totals *t, uint64_t rows[2], uint64_t bytes[2])
{
  static gb_csv members, balances;
  int rc = -1;
  if (gb_csv_open(&members, o->out, "members.csv",
                  "phone,name,birthday,identities,enrolled_store,enrolled_at") != 0)
    return -1;
  if (gb_csv_open(&balances, o->out, "balances.csv", "member,points,expires_on") != 0)
    goto done;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool progress = !o->quiet && o->members >= 100000;
  for (uint32_t i = 0; i < o->members; i++) {
    gb_member_generate(b, i, m);
    write_member_row(&members, b, m);

    span[2 * (size_t)i] = UINT16_MAX;
    span[2 * (size_t)i + 1] = 0;
    for (int j = 0; j < m->n_orders; j++) {
      const gb_order *ord = &m->orders[j];
      int64_t last_at = ord->refunded > 0 ? ord->refund_at : ord->at;
      uint16_t first = (uint16_t)(ord->at / 86400 - b->first_day);
      uint16_t last = (uint16_t)(last_at / 86400 - b->first_day);
      if (first < span[2 * (size_t)i])
        span[2 * (size_t)i] = first;
      if (last > span[2 * (size_t)i + 1])
        span[2 * (size_t)i + 1] = last;
    }

    if (progress && (i + 1) % (o->members / 10) == 0)
      fprintf(stderr, "gen-brand: members %u/%u (%.1f s)\n", i + 1, o->members, elapsed_s(&start));

    gb_lot live[GB_MAX_YEARS + 2], expired;
    int n_live = gb_member_points(b, m, live, &expired);
    if (n_live == 0 && expired.points == 0)
      continue;
    char key[96];
    gb_member_ref(b, i, gb_member_key_ref(m), true, key);
    /* Past-dated rows: about one member in 50 of those with expired points, the first
     * --past-balances of them. */
    if (expired.points > 0 && t->past_rows < (uint64_t)o->past_balances &&
        past_pick(b->seed, i)) {
      write_balance_row(&balances, key, &expired);
      t->past_rows++;
    }
    for (int k = 0; k < n_live; k++) {
      write_balance_row(&balances, key, &live[k]);
      t->balance_points += live[k].points;
    }
  }
  t->balance_rows = balances.rows;
  rows[0] = members.rows;
  rows[1] = balances.rows;
  bytes[0] = members.bytes + members.len;
  bytes[1] = balances.bytes + balances.len;
  rc = 0;
done:
  if (gb_csv_close(&members) != 0)
    rc = -1;
  if (balances.f != NULL && gb_csv_close(&balances) != 0)
    rc = -1;
  return rc;
}

/* ---- orders.csv ------------------------------------------------------------------------ */

static int push_row(row_buffer *rb, order_row row)
{
  if (rb->n == rb->cap) {
    size_t cap = rb->cap ? rb->cap * 2 : 65536;
    order_row *rows = realloc(rb->rows, cap * sizeof *rows);
    if (rows == NULL)
      return -1;
    rb->rows = rows;
    rb->cap = cap;
  }
  rb->rows[rb->n++] = row;
  return 0;
}

static int compare_rows(const void *pa, const void *pb)
{
  const order_row *a = pa, *b = pb;
  if (a->at != b->at)
    return a->at < b->at ? -1 : 1;
  if (a->member != b->member)
    return a->member < b->member ? -1 : 1;
  if (a->j != b->j)
    return (int)a->j - (int)b->j;
  return (int)a->kind - (int)b->kind;  /* a purchase before its refund at the same second */
}

static void write_order_row(gb_csv *w, const gb_brand *b, const order_row *r)
{
  const gb_store *store = &b->stores[r->store];
  char buf[96];
  gb_csv_field(w, store->code);
  gb_csv_comma(w);
  gb_order_id(b, r->member, r->j, store, buf);
  gb_csv_field(w, buf);
  gb_csv_comma(w);
  gb_csv_field(w, r->kind == 0 ? "purchase" : "refund");
  gb_csv_comma(w);
  gb_member_ref(b, r->member, (gb_ref)r->ref, true, buf);
  gb_csv_field(w, buf);
  gb_csv_comma(w);
  gb_csv_yuan(w, r->amount);
  gb_csv_comma(w);
  gb_csv_time(w, r->at);
  gb_csv_comma(w);
  gb_csv_int(w, r->kind == 0 ? r->amount / 100 : 0);
  gb_csv_newline(w);
}

/* Adds member m's purchases and refunds that fall in days [from, to] (offsets) to rb. */
static int collect_month(const gb_brand *b, const gb_member *m, int from, int to, row_buffer *rb,
                         gen_totals *t)
{
  for (int j = 0; j < m->n_orders; j++) {
    const gb_order *o = &m->orders[j];
    bool online = b->stores[o->store].channel != GB_POS;
    int day = (int)(o->at / 86400 - b->first_day);
    if (day >= from && day <= to) {
      order_row row = {o->at, m->index, o->amount, o->store, (uint8_t)j, 0, o->ref};
      if (push_row(rb, row) != 0)
        return -1;
      t->purchases++;
      t->purchase_cents += o->amount;
      if (online) {
        t->online_purchases++;
        t->online_refunded += o->refunded > 0;
      } else {
        t->store_purchases++;
        t->store_refunded += o->refunded > 0;
      }
    }
    if (o->refunded == 0)
      continue;
    day = (int)(o->refund_at / 86400 - b->first_day);
    if (day >= from && day <= to) {
      order_row row = {o->refund_at, m->index, o->refunded, o->store, (uint8_t)j, 1, o->ref};
      if (push_row(rb, row) != 0)
        return -1;
      t->refunds++;
      t->refund_cents += o->refunded;
      t->partial_refunds += o->refunded < o->amount;
    }
  }
  return 0;
}

static int write_orders(const gb_brand *b, const gen_options *o, gb_member *m,
                        const uint16_t *span, gen_totals *t, uint64_t *rows, uint64_t *bytes)
{
  static gb_csv w;
  row_buffer rb = {0};
  int rc = -1;
  if (gb_csv_open(&w, o->out, "orders.csv",
                  "store,order_id,kind,member,amount,occurred_at,points") != 0)
    return -1;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool progress = !o->quiet && o->members >= 100000;
  int n_months = 0, month = 0;
  for (int day = 0; day < b->n_days; day++) {
    int y, mo, d;
    gb_civil_from_days(b->first_day + day, &y, &mo, &d);
    n_months += day == 0 || d == 1;
  }
  for (int from = 0; from < b->n_days;) {
    int y, mo, d;
    gb_civil_from_days(b->first_day + from, &y, &mo, &d);
    int to = mo == 12 ? gb_days_from_civil(y + 1, 1, 1) : gb_days_from_civil(y, mo + 1, 1);
    to = to - 1 - b->first_day;
    if (to > b->n_days - 1)
      to = b->n_days - 1;
    rb.n = 0;
    for (uint32_t i = 0; i < o->members; i++) {
      if (span[2 * (size_t)i] > to || span[2 * (size_t)i + 1] < from)
        continue;
      gb_member_generate(b, i, m);
      if (collect_month(b, m, from, to, &rb, t) != 0) {
        fprintf(stderr, "gen-brand: out of memory for the orders of %04d-%02d\n", y, mo);
        goto done;
      }
    }
    qsort(rb.rows, rb.n, sizeof rb.rows[0], compare_rows);
    for (size_t k = 0; k < rb.n; k++)
      write_order_row(&w, b, &rb.rows[k]);
    month++;
    if (progress)
      fprintf(stderr, "gen-brand: orders %04d-%02d (%d/%d), %zu rows, %.1f s\n", y, mo, month,
              n_months, rb.n, elapsed_s(&start));
    from = to + 1;
  }
  *rows = w.rows;
  *bytes = w.bytes + w.len;
  rc = 0;
done:
  free(rb.rows);
  if (gb_csv_close(&w) != 0)
    rc = -1;
  return rc;
}

/* ---- main ------------------------------------------------------------------------------ */

static void print_yuan(const char *label, int64_t cents)
{
  printf("  %-18s %" PRId64 ".%02d yuan\n", label, cents / 100, (int)(cents % 100));
}

static double percent(uint64_t part, uint64_t whole)
{
  return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

int main(int argc, char **argv)
{
  gen_options opts;
  int rc = parse_options(argc, argv, &opts);
  if (rc != 0)
    return rc;
  if (mkdir(opts.out, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "gen-brand: cannot create %s: %s\n", opts.out, strerror(errno));
    return 1;
  }

  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  gb_brand brand;
  gb_member *member = malloc(sizeof *member);
  uint16_t *span = malloc(2 * (size_t)opts.members * sizeof *span);
  gen_totals t = {0};
  uint64_t rows[4] = {0}, bytes[4] = {0};
  rc = 1;
  if (gb_brand_init(&brand, opts.seed, period_start(opts.end_day, opts.years), opts.end_day) != 0 ||
      member == NULL || span == NULL) {
    fprintf(stderr, "gen-brand: out of memory\n");
    goto done;
  }
  if (write_stores(&brand, opts.out, &rows[0], &bytes[0]) != 0 ||
      write_members(&brand, &opts, member, span, &t, &rows[1], &bytes[1]) != 0 ||
      write_orders(&brand, &opts, member, span, &t, &rows[3], &bytes[3]) != 0)
    goto done;

  char first[11], last[11];
  int y, m, d;
  gb_civil_from_days(brand.first_day, &y, &m, &d);
  snprintf(first, sizeof first, "%04d-%02d-%02d", y, m, d);
  gb_civil_from_days(brand.last_day, &y, &m, &d);
  snprintf(last, sizeof last, "%04d-%02d-%02d", y, m, d);
  printf("gen-brand: seed %" PRIu64 ", %u members, %s to %s, %s, %.1f s\n", opts.seed,
         opts.members, first, last, opts.out, elapsed_s(&start));
  static const char *const names[4] = {"stores.csv", "members.csv", "balances.csv", "orders.csv"};
  for (int f = 0; f < 4; f++)
    printf("  %-18s %10" PRIu64 " rows %12" PRIu64 " bytes\n", names[f], rows[f], bytes[f]);
  printf("  %-18s %10" PRIu64 " purchases, %" PRIu64 " refunds (%" PRIu64 " partial)\n",
         "orders", t.purchases, t.refunds, t.partial_refunds);
  print_yuan("purchases", t.purchase_cents);
  print_yuan("refunds", t.refund_cents);
  print_yuan("net", t.purchase_cents - t.refund_cents);
  printf("  %-18s online %.1f %% of %" PRIu64 " orders, stores %.1f %% of %" PRIu64 "\n",
         "refunded", percent(t.online_refunded, t.online_purchases), t.online_purchases,
         percent(t.store_refunded, t.store_purchases), t.store_purchases);
  printf("  %-18s %" PRId64 " points valid at %s in %" PRIu64 " rows, %" PRIu64
         " rows already past\n",
         "balances", t.balance_points, last, t.balance_rows - t.past_rows, t.past_rows);
  rc = 0;
done:
  gb_brand_free(&brand);
  free(member);
  free(span);
  return rc;
}
