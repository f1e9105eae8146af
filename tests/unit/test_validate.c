/*
 * test_validate.c - request field validation, table-driven from validate_cases.txt.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "validate.h"

/* Decodes \t and \xNN in place; "<empty>" becomes "". */
static void decode(char *s)
{
  if (strcmp(s, "<empty>") == 0) {
    s[0] = '\0';
    return;
  }
  char *out = s;
  for (char *p = s; *p; p++) {
    if (p[0] == '\\' && p[1] == 't') {
      *out++ = '\t';
      p++;
    } else if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
      char hex[3] = {p[2], p[3], 0};
      *out++ = (char)strtol(hex, NULL, 16);
      p += 3;
    } else {
      *out++ = *p;
    }
  }
  *out = '\0';
}

static const char *run(const char *field, char *input, time_t now)
{
  if (strcmp(field, "request_id") == 0)
    return validate_request_id(input);
  if (strcmp(field, "order_id") == 0)
    return validate_order_id(input, true);
  if (strcmp(field, "phone") == 0)
    return validate_phone(input);
  if (strcmp(field, "name") == 0)
    return validate_name(input);
  if (strcmp(field, "birthday") == 0)
    return validate_birthday(input, now);
  if (strcmp(field, "store_code") == 0)
    return validate_store_code(input);
  if (strcmp(field, "reason") == 0)
    return validate_reason(input);
  if (strcmp(field, "occurred_at") == 0)
    return validate_occurred_at(input);
  if (strcmp(field, "amount_cents") == 0)
    return validate_amount_cents(strtoll(input, NULL, 10));
  if (strcmp(field, "points") == 0)
    return validate_points(strtoll(input, NULL, 10));
  if (strcmp(field, "identity") == 0) {
    char *colon = strchr(input, ':');
    if (colon == NULL)
      return "no colon in case";
    *colon = '\0';
    return validate_identity(input, colon + 1);
  }
  return "unknown field in case";
}

int main(int argc, char **argv)
{
  const char *path = argc > 1 ? argv[1] : "validate_cases.txt";
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    perror(path);
    return 2;
  }
  /* 2026-11-23: "not in the future" is judged against a fixed day. */
  struct tm day = {.tm_year = 126, .tm_mon = 10, .tm_mday = 23, .tm_hour = 12};
  time_t now = timegm(&day);
  char line[512];
  int cases = 0, lineno = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    lineno++;
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '#' || line[0] == '\0')
      continue;
    char *field = strtok(line, "\t");
    char *input = strtok(NULL, "\t");
    char *expect = strtok(NULL, "\t");
    if (field == NULL || input == NULL || expect == NULL) {
      CHECK(false, "%s:%d: malformed case", path, lineno);
      continue;
    }
    decode(input);
    const char *err = run(field, input, now);
    bool want_ok = strcmp(expect, "ok") == 0;
    CHECK((err == NULL) == want_ok, "%s:%d: %s \"%s\": want %s, got %s", path, lineno, field,
          input, expect, err ? err : "ok");
    cases++;
  }
  fclose(f);
  CHECK(cases > 50, "only %d cases read", cases);
  /* A birthday today is fine, tomorrow (even in UTC+14) is not. */
  CHECK(validate_birthday("2026-11-23", now) == NULL, "today");
  CHECK(validate_birthday("2026-11-25", now) != NULL, "the day after tomorrow");
  CHECK(validate_order_id("", false) == NULL, "order_id optional on redeem");
  UNIT_DONE();
}
