/*
 * report_brand.h - a brand of a report test's own (test_reports_members.c,
 * test_reports_points.c): a report counts a whole brand, so each test makes a fresh database
 * in the fixture's cluster, its own HQ key (loyaltyd --init-hq-key) and its own loyaltyd
 * (LOYALTYD), with stores S1 and S2 (POS, regions SH and ZJ) and T1 (Tmall); sales dated
 * with occurred_at through the HQ key. Days are day numbers (days since 1970-01-01), in the
 * program's time zone (Asia/Shanghai).
 */
#ifndef REPORT_BRAND_H
#define REPORT_BRAND_H

#include <libpq-fe.h>

#include "testlib.h"

int days_from_civil(int y, int m, int d);
void civil_from_days(int z, int *y, int *m, int *d);
int days_in_month(int y, int m);
/* The first day of "the last n months" as of day: day + 1 - n months, the day clamped to the
 * month's end. */
int months_from(int day, int n);
/* YYYY-MM-DD of day, in one of a ring of buffers. */
const char *date_text(int day);

typedef struct report_brand {
  char db[600];
  char name[64];
  tl_server server;
  lc_conn *hq;
  int today; /* in the program's time zone (Asia/Shanghai) */
  int n_sales;
} report_brand;

extern report_brand brand;

/* A fresh database PREFIX_PID, loyaltyd on it, its HQ key, the stores. One per test; the
 * server stopped and the database dropped when the program exits. */
void brand_open(const char *prefix);
/* A statement on the brand's database (fails the test on error). */
PGresult *brand_query(const char *sql);
int64_t brand_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int64_t enroll(const char *store);
/* A sale of member at store on day at local time hh:mm:ss (+08:00); its earn. */
Loyalty__V1__PointsResult *earn_at(int64_t member, const char *store, int day,
                                   const char *time, int64_t cents);
/* The same at 12:00:00; its transaction_id. */
int64_t earn(int64_t member, const char *store, int day, int64_t cents);
/* A refund of txn at S1 on day (13:00, or 00:00:02 today). */
void refund(int64_t member, int64_t txn, int day, int64_t cents);

/* The report time of as_of (0: none, today) and known_at (NULL: now). */
Loyalty__V1__ReportTime report_time(int as_of, const char *known_at);

#endif
