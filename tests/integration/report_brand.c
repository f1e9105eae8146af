/*
 * report_brand.c - a brand of a report test's own (report_brand.h).
 */
#include "report_brand.h"

#include <stdarg.h>
#include <unistd.h>

/* --- dates: day numbers (days since 1970-01-01), civil calendar ---------------------------- */

int days_from_civil(int y, int m, int d)
{
  y -= m <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int z, int *y, int *m, int *d)
{
  z += 719468;
  int era = (z >= 0 ? z : z - 146096) / 146097;
  int doe = z - era * 146097;
  int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2);
}

int days_in_month(int y, int m)
{
  return days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - days_from_civil(y, m, 1);
}

/* The first day of "the last n months" as of day: day + 1 - n months, the day clamped to the
 * month's end. */
int months_from(int day, int n)
{
  int y, m, d;
  civil_from_days(day + 1, &y, &m, &d);
  int months = y * 12 + (m - 1) - n;
  y = months / 12;
  m = months % 12 + 1;
  if (d > days_in_month(y, m))
    d = days_in_month(y, m);
  return days_from_civil(y, m, d);
}

/* YYYY-MM-DD of day, in one of a ring of buffers. */
const char *date_text(int day)
{
  static char ring[16][16];
  static int next;
  char *s = ring[next++ % 16];
  int y, m, d;
  civil_from_days(day, &y, &m, &d);
  snprintf(s, 16, "%04d-%02d-%02d", y, m, d);
  return s;
}

/* --- a brand of the test's own ---------------------------------------------------------------- */

report_brand brand;

PGresult *brand_query(const char *sql)
{
  PGconn *pg = PQconnectdb(brand.db);
  if (PQstatus(pg) != CONNECTION_OK)
    tl_fail(__FILE__, __LINE__, "cannot connect: %s", PQerrorMessage(pg));
  PGresult *r = PQexec(pg, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
    tl_fail(__FILE__, __LINE__, "%s: %s", sql, PQresultErrorMessage(r));
  PQfinish(pg);
  return r;
}

int64_t brand_int(const char *fmt, ...)
{
  char sql[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sql, sizeof sql, fmt, ap);
  va_end(ap);
  PGresult *r = brand_query(sql);
  int64_t v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
  PQclear(r);
  return v;
}

static void create_store(const char *code, Loyalty__V1__Channel channel, const char *region)
{
  Loyalty__V1__CreateStoreRequest req = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
  req.store_code = (char *)code;
  req.name = (char *)code;
  req.channel = channel;
  req.region = (char *)region;
  tl_call_ok(brand.hq, ADMIN("CreateStore"), &req.base, &loyalty__v1__store__descriptor);
}

/* At the test's end: the brand's loyaltyd stopped (a server left running would hold ctest's
 * output pipe), its database dropped. (A failed test stops its servers in tl_fail.) */
static void brand_close(void)
{
  tl_stop_server(brand.server);
  PGconn *pg = PQconnectdb(tl.db);
  char sql[128];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", brand.name);
  PQclear(PQexec(pg, sql));
  PQfinish(pg);
}

/* A fresh database for the test, loyaltyd on it, its HQ key; stores S1 and S2 (POS, regions
 * SH and ZJ) and T1 (Tmall). One per test. */
void brand_open(const char *prefix)
{
  char sql[128];
  snprintf(brand.name, sizeof brand.name, "%s_%ld", prefix, (long)getpid());
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", brand.name);
  tl_sql(sql);
  const char *name = brand.name;
  snprintf(brand.db, sizeof brand.db, "%s dbname=%s", tl.db, name);
  char command[1024], key[128] = "";
  snprintf(command, sizeof command, "'%s' --db '%s' --log-level warn --init-hq-key reports",
           getenv("LOYALTYD"), brand.db);
  FILE *p = popen(command, "r");
  if (p == NULL || fgets(key, sizeof key, p) == NULL)
    tl_fail(__FILE__, __LINE__, "loyaltyd --init-hq-key gave no key");
  pclose(p);
  key[strcspn(key, "\n")] = '\0';
  const char *const args[] = {"--db", brand.db, NULL};
  tl_server s = tl_start_server("127.0.0.1", args);
  brand.server = s;
  atexit(brand_close);
  lc_options o = {.target = tl_keep(strdup(s.address)), .key = tl_keep(strdup(key))};
  char err[256];
  brand.hq = lc_connect(&o, err, sizeof err);
  if (brand.hq == NULL)
    tl_fail(__FILE__, __LINE__, "connect: %s", err);
  Loyalty__V1__ListStoresRequest list = LOYALTY__V1__LIST_STORES_REQUEST__INIT;
  int i = 0;
  while (tl_call_timeout(brand.hq, ADMIN("ListStores"), &list.base,
                         &loyalty__v1__list_stores_response__descriptor, 1000).status !=
         GRPC_STATUS_OK) {
    if (++i == 100)
      tl_fail(__FILE__, __LINE__, "loyaltyd on %s did not come up", s.address);
    usleep(100 * 1000);
  }
  create_store("S1", LOYALTY__V1__CHANNEL__CHANNEL_POS, "SH");
  create_store("S2", LOYALTY__V1__CHANNEL__CHANNEL_POS, "ZJ");
  create_store("T1", LOYALTY__V1__CHANNEL__CHANNEL_TMALL, "");
  int64_t y = brand_int("SELECT extract(year FROM now() AT TIME ZONE 'Asia/Shanghai')");
  int64_t m = brand_int("SELECT extract(month FROM now() AT TIME ZONE 'Asia/Shanghai')");
  int64_t d = brand_int("SELECT extract(day FROM now() AT TIME ZONE 'Asia/Shanghai')");
  brand.today = days_from_civil((int)y, (int)m, (int)d);
  brand.n_sales = 0;
}

int64_t enroll(const char *store)
{
  Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
  req.request_id = (char *)tl_unique("e");
  req.phone = (char *)tl_phone();
  req.store_code = (char *)(store ? store : "");
  Loyalty__V1__Member *m = (Loyalty__V1__Member *)tl_call_ok(
      brand.hq, POINTS("EnrollMember"), &req.base, &loyalty__v1__member__descriptor);
  return m->member_id;
}

/* A sale of member at store on day at local time hh:mm:ss (+08:00); its earn. */
Loyalty__V1__PointsResult *earn_at(int64_t member, const char *store, int day,
                                          const char *time, int64_t cents)
{
  char at[40], order[32];
  snprintf(at, sizeof at, "%sT%s+08:00", date_text(day), time);
  snprintf(order, sizeof order, "O%d", ++brand.n_sales);
  Loyalty__V1__EarnRequest req = LOYALTY__V1__EARN_REQUEST__INIT;
  req.request_id = (char *)tl_unique("p");
  req.member_id = member;
  req.order_id = order;
  req.amount_cents = cents;
  req.store_code = (char *)store;
  req.occurred_at = tl_keep(strdup(at));
  return TL_POINTS(tl_call(brand.hq, POINTS("Earn"), &req.base,
                           &loyalty__v1__points_result__descriptor));
}

int64_t earn(int64_t member, const char *store, int day, int64_t cents)
{
  return earn_at(member, store, day, "12:00:00", cents)->transaction_id;
}

void refund(int64_t member, int64_t txn, int day, int64_t cents)
{
  Loyalty__V1__RefundRequest req = tl_refund_request(member, txn, NULL, cents);
  char at[40];
  /* 13:00, or just after midnight today (later may be ahead of now; a sale dated today is
   * at 00:00:01) */
  snprintf(at, sizeof at, "%sT%s+08:00", date_text(day),
           day == brand.today ? "00:00:02" : "13:00:00");
  req.occurred_at = at;
  req.store_code = "S1";
  TL_POINTS(tl_call(brand.hq, POINTS("Refund"), &req.base,
                    &loyalty__v1__points_result__descriptor));
}

/* --- the reports, through gRPC ---------------------------------------------------------------- */

Loyalty__V1__ReportTime report_time(int as_of, const char *known_at)
{
  Loyalty__V1__ReportTime t = LOYALTY__V1__REPORT_TIME__INIT;
  t.as_of = (char *)(as_of ? date_text(as_of) : "");
  t.known_at = (char *)(known_at ? known_at : "");
  return t;
}
