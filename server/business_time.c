/*
 * business_time.c - RFC 3339 times (see business_time.h).
 */
#include "business_time.h"

#include <stdbool.h>
#include <stdio.h>

#define US_PER_SECOND INT64_C(1000000)
#define SECONDS_PER_DAY INT64_C(86400)

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return days[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Its inverse. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* n decimal digits at *p, advancing it; -1 if any is not a digit. */
static int digits(const char **p, int n)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9')
      return -1;
    v = v * 10 + (c - '0');
  }
  *p += n;
  return v;
}

/* The character c at *p, advancing it. */
static bool expect(const char **p, char c)
{
  if (**p != c)
    return false;
  (*p)++;
  return true;
}

int business_time_parse(const char *s, int64_t *epoch_us)
{
  const char *p = s;
  int y = digits(&p, 4);
  if (y < 1 || !expect(&p, '-'))
    return -1;
  int mo = digits(&p, 2);
  if (mo < 1 || mo > 12 || !expect(&p, '-'))
    return -1;
  int d = digits(&p, 2);
  if (d < 1 || d > days_in_month(y, mo) || (*p != 'T' && *p != 't'))
    return -1;
  p++;
  int h = digits(&p, 2);
  if (h < 0 || h > 23 || !expect(&p, ':'))
    return -1;
  int mi = digits(&p, 2);
  if (mi < 0 || mi > 59 || !expect(&p, ':'))
    return -1;
  int sec = digits(&p, 2);
  if (sec < 0 || sec > 59)
    return -1;
  int64_t us = 0;
  if (*p == '.') {
    p++;
    int n = 0;
    for (; *p >= '0' && *p <= '9'; p++, n++) {
      if (n < 6)
        us = us * 10 + (*p - '0');
    }
    if (n == 0 || n > 9)
      return -1;
    for (; n < 6; n++)
      us *= 10;
  }
  int offset_minutes = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1;
    int oh = digits(&p, 2);
    if (oh < 0 || oh > 23 || !expect(&p, ':'))
      return -1;
    int om = digits(&p, 2);
    if (om < 0 || om > 59)
      return -1;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return -1;
  }
  if (*p != '\0')
    return -1;
  int64_t seconds = days_from_civil(y, mo, d) * SECONDS_PER_DAY + h * 3600 + mi * 60 + sec -
                    (int64_t)offset_minutes * 60;
  *epoch_us = seconds * US_PER_SECOND + us;
  return 0;
}

void business_time_format(int64_t epoch_us, char out[BUSINESS_TIME_TEXT])
{
  int64_t seconds = epoch_us / US_PER_SECOND, us = epoch_us % US_PER_SECOND;
  if (us < 0) {
    us += US_PER_SECOND;
    seconds--;
  }
  int64_t days = seconds / SECONDS_PER_DAY, rest = seconds % SECONDS_PER_DAY;
  if (rest < 0) {
    rest += SECONDS_PER_DAY;
    days--;
  }
  int y, m, d;
  civil_from_days(days, &y, &m, &d);
  /* The remainders only tell the compiler each field's width. */
  snprintf(out, BUSINESS_TIME_TEXT, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ", (unsigned)y % 10000u,
           (unsigned)m % 100u, (unsigned)d % 100u, (unsigned)(rest / 3600) % 100u,
           (unsigned)(rest / 60 % 60) % 100u, (unsigned)(rest % 60) % 100u,
           (unsigned)us % 1000000u);
}
