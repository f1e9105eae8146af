/*
 * validate.c - request field checks (see validate.h).
 */
#include "validate.h"

#include "business_time.h"

#include <string.h>

/* 1..max characters, each printable ASCII and not a space. */
static bool is_token(const char *s, size_t max)
{
  size_t n = strlen(s);
  if (n == 0 || n > max)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] <= 0x20 || s[i] >= 0x7f)
      return false;
  }
  return true;
}

bool validate_text(const char *s, size_t max_bytes)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);
  if (n > max_bytes)
    return false;
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    size_t len;
    if (c < 0x20 || c == 0x7f)
      return false;
    if (c < 0x80)
      len = 1;
    else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
      len = 2;
    else if ((c & 0xf0) == 0xe0)
      len = 3;
    else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
      len = 4;
    else
      return false;
    if (i + len > n)
      return false;
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80)
        return false;
    }
    /* Overlong 3-byte forms and UTF-16 surrogates. */
    if (len == 3 && ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0)))
      return false;
    if (len == 4 && ((c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90)))
      return false;
    i += len;
  }
  return true;
}

const char *validate_request_id(const char *s)
{
  if (s[0] == '\0')
    return "request_id is required";
  return is_token(s, 64) ? NULL : "request_id must be 1-64 printable characters without spaces";
}

const char *validate_order_id(const char *s, bool required)
{
  if (s[0] == '\0')
    return required ? "order_id is required" : NULL;
  return is_token(s, 64) ? NULL : "order_id must be 1-64 printable characters without spaces";
}

const char *validate_phone(const char *s)
{
  if (strlen(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9')
    return "phone must be a mainland mobile number: 11 digits starting with 13-19";
  for (int i = 2; i < 11; i++) {
    if (s[i] < '0' || s[i] > '9')
      return "phone must be a mainland mobile number: 11 digits starting with 13-19";
  }
  return NULL;
}

const char *validate_name(const char *s)
{
  return validate_text(s, 64) ? NULL : "name must be at most 64 bytes of UTF-8 text";
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Parses YYYY-MM-DD; false unless it is a real date. */
static bool parse_date(const char *s, int *y, int *m, int *d)
{
  static const int days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return false;
  for (int i = 0; i < 10; i++) {
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
      return false;
  }
  *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  *m = (s[5] - '0') * 10 + (s[6] - '0');
  *d = (s[8] - '0') * 10 + (s[9] - '0');
  if (*m < 1 || *m > 12 || *d < 1)
    return false;
  return *d <= days_in_month[*m - 1] + (*m == 2 && is_leap(*y) ? 1 : 0);
}

bool validate_date(const char *s)
{
  int y, m, d;
  return parse_date(s, &y, &m, &d) && y >= 1;
}

const char *validate_birthday(const char *s, time_t now)
{
  int y, m, d;
  if (s[0] == '\0')
    return NULL;
  if (!parse_date(s, &y, &m, &d))
    return "birthday must be a real date as YYYY-MM-DD";
  if (y < 1900)
    return "birthday must not be before 1900";
  time_t tomorrow = now + 24 * 60 * 60;
  struct tm t;
  gmtime_r(&tomorrow, &t);
  int date = y * 10000 + m * 100 + d;
  int limit = (t.tm_year + 1900) * 10000 + (t.tm_mon + 1) * 100 + t.tm_mday;
  return date <= limit ? NULL : "birthday must not be in the future";
}

const char *validate_identity(const char *kind, const char *value)
{
  size_t n = strlen(kind);
  if (n == 0 || n > 32)
    return "identity kind must be 1-32 characters of [a-z0-9_]";
  for (size_t i = 0; i < n; i++) {
    char c = kind[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return "identity kind must be 1-32 characters of [a-z0-9_]";
  }
  if (value[0] == '\0' || !validate_text(value, 128))
    return "identity value must be 1-128 bytes of text";
  return NULL;
}

const char *validate_store_code(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 32)
    return "store_code must be 1-32 characters of [A-Za-z0-9_-]";
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      return "store_code must be 1-32 characters of [A-Za-z0-9_-]";
  }
  return NULL;
}

const char *validate_amount_cents(int64_t cents)
{
  if (cents <= 0)
    return "amount_cents must be positive";
  return cents <= VALIDATE_MAX_AMOUNT_CENTS ? NULL : "amount_cents must be at most 10000000000";
}

const char *validate_points(int64_t points)
{
  if (points <= 0)
    return "points must be positive";
  return points <= VALIDATE_MAX_POINTS ? NULL : "points must be at most 1000000000";
}

const char *validate_reason(const char *s)
{
  return validate_text(s, 200) ? NULL : "reason must be at most 200 bytes of UTF-8 text";
}

const char *validate_occurred_at(const char *s)
{
  int64_t t;
  if (s[0] == '\0' || business_time_parse(s, &t) == 0)
    return NULL;
  return "occurred_at must be an RFC 3339 time with an offset, e.g. 2026-11-11T23:59:00+08:00 "
         "or 2026-11-11T15:59:00.250Z (empty: now)";
}

bool validate_yuan(const char *s, int64_t *cents)
{
  int64_t whole = 0, fraction = 0;
  int digits = 0, decimals = -1;
  for (const char *p = s; *p; p++) {
    if (*p == '.' && decimals < 0 && digits > 0) {
      decimals = 0;
    } else if (*p >= '0' && *p <= '9') {
      if (decimals >= 0) {
        if (++decimals > 2)
          return false;
        fraction = fraction * 10 + (*p - '0');
      } else {
        if (++digits > 12) /* 100 billion yuan: beyond any purchase */
          return false;
        whole = whole * 10 + (*p - '0');
      }
    } else {
      return false;
    }
  }
  if (digits == 0 || decimals == 0)
    return false;
  if (decimals == 1)
    fraction *= 10;
  *cents = whole * 100 + fraction;
  return true;
}

