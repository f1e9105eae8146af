/*
 * gen_brand_csv.c - the buffered CSV writer of bench/gen-brand (see gen_brand_csv.h).
 */
#include "gen_brand_csv.h"

#include <errno.h>
#include <string.h>

#include "gen_brand_model.h"

static void flush(gb_csv *w)
{
  if (w->len > 0 && !w->failed && fwrite(w->buf, 1, w->len, w->f) != w->len)
    w->failed = true;
  w->bytes += w->len;
  w->len = 0;
}

/* Room for n more bytes (n <= sizeof buf). */
static char *reserve(gb_csv *w, size_t n)
{
  if (w->len + n > sizeof w->buf)
    flush(w);
  return w->buf + w->len;
}

static void put(gb_csv *w, const char *s, size_t n)
{
  while (n > 0) {
    size_t room = sizeof w->buf - w->len;
    if (room == 0) {
      flush(w);
      continue;
    }
    size_t k = n < room ? n : room;
    memcpy(w->buf + w->len, s, k);
    w->len += k;
    s += k;
    n -= k;
  }
}

int gb_csv_open(gb_csv *w, const char *dir, const char *name, const char *header)
{
  w->len = 0;
  w->rows = 0;
  w->bytes = 0;
  w->failed = false;
  if ((size_t)snprintf(w->path, sizeof w->path, "%s/%s", dir, name) >= sizeof w->path) {
    fprintf(stderr, "gen-brand: output path too long: %s/%s\n", dir, name);
    w->f = NULL;
    return -1;
  }
  w->f = fopen(w->path, "w");
  if (w->f == NULL) {
    fprintf(stderr, "gen-brand: cannot create %s: %s\n", w->path, strerror(errno));
    return -1;
  }
  put(w, header, strlen(header));
  put(w, "\n", 1);
  return 0;
}

int gb_csv_close(gb_csv *w)
{
  if (w->f == NULL)
    return -1;
  flush(w);
  bool failed = w->failed || ferror(w->f);
  int saved = errno;
  if (fclose(w->f) != 0) {
    failed = true;
    saved = errno;
  }
  w->f = NULL;
  if (failed) {
    fprintf(stderr, "gen-brand: cannot write %s: %s\n", w->path, strerror(saved));
    return -1;
  }
  return 0;
}

void gb_csv_field(gb_csv *w, const char *s)
{
  if (strpbrk(s, ",\"\r\n") == NULL) {
    put(w, s, strlen(s));
    return;
  }
  put(w, "\"", 1);
  for (const char *p = s; *p; p++) {
    if (*p == '"')
      put(w, "\"", 1);
    put(w, p, 1);
  }
  put(w, "\"", 1);
}

/* Writes n (>= 0) in decimal with at least `digits` digits. */
static void put_digits(gb_csv *w, uint64_t n, int digits)
{
  char tmp[24];
  int i = sizeof tmp;
  do {
    tmp[--i] = (char)('0' + n % 10);
    n /= 10;
    digits--;
  } while (n > 0 || digits > 0);
  put(w, tmp + i, sizeof tmp - (size_t)i);
}

void gb_csv_int(gb_csv *w, int64_t n)
{
  if (n < 0) {
    put(w, "-", 1);
    put_digits(w, n == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-n, 1);
    return;
  }
  put_digits(w, (uint64_t)n, 1);
}

void gb_csv_yuan(gb_csv *w, int64_t cents)
{
  put_digits(w, (uint64_t)(cents / 100), 1);
  put(w, ".", 1);
  put_digits(w, (uint64_t)(cents % 100), 2);
}

void gb_csv_date(gb_csv *w, int32_t day)
{
  int y, m, d;
  gb_civil_from_days(day, &y, &m, &d);
  char *p = reserve(w, 10);
  p[0] = (char)('0' + y / 1000 % 10);
  p[1] = (char)('0' + y / 100 % 10);
  p[2] = (char)('0' + y / 10 % 10);
  p[3] = (char)('0' + y % 10);
  p[4] = '-';
  p[5] = (char)('0' + m / 10);
  p[6] = (char)('0' + m % 10);
  p[7] = '-';
  p[8] = (char)('0' + d / 10);
  p[9] = (char)('0' + d % 10);
  w->len += 10;
}

void gb_csv_time(gb_csv *w, int64_t local_seconds)
{
  int32_t day = (int32_t)(local_seconds / 86400);
  int s = (int)(local_seconds % 86400);
  gb_csv_date(w, day);
  char *p = reserve(w, 15);
  int h = s / 3600, mi = s / 60 % 60, se = s % 60;
  p[0] = 'T';
  p[1] = (char)('0' + h / 10);
  p[2] = (char)('0' + h % 10);
  p[3] = ':';
  p[4] = (char)('0' + mi / 10);
  p[5] = (char)('0' + mi % 10);
  p[6] = ':';
  p[7] = (char)('0' + se / 10);
  p[8] = (char)('0' + se % 10);
  memcpy(p + 9, "+08:00", 6);
  w->len += 15;
}

void gb_csv_comma(gb_csv *w)
{
  put(w, ",", 1);
}

void gb_csv_newline(gb_csv *w)
{
  put(w, "\n", 1);
  w->rows++;
}
