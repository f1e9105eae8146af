/*
 * test_rfc3339.c - RFC 3339 times read to the microsecond and written back in UTC
 * (the texts loyaltyd hands PostgreSQL for occurred_at). Which texts are refused is in
 * validate_cases.txt (field occurred_at).
 */
#include <stdint.h>

#include "business_time.h"
#include "unit.h"

static void check_parse(const char *text, const char *want_utc)
{
  int64_t t = 0;
  char out[BUSINESS_TIME_TEXT];
  CHECK(business_time_parse(text, &t) == 0, "%s refused", text);
  business_time_format(t, out);
  CHECK(strcmp(out, want_utc) == 0, "%s: got %s, want %s", text, out, want_utc);
}

int main(void)
{
  int64_t t = -1;
  CHECK(business_time_parse("1970-01-01T00:00:00Z", &t) == 0, "epoch refused");
  CHECK_EQ_INT(t, 0);
  CHECK(business_time_parse("1970-01-01T08:00:00.000001+08:00", &t) == 0, "offset refused");
  CHECK_EQ_INT(t, 1);
  CHECK(business_time_parse("2026-11-11T23:59:00+08:00", &t) == 0, "双11 refused");
  CHECK_EQ_INT(t, INT64_C(1794412740) * 1000000);
  /* A refused text leaves the value alone. */
  CHECK(business_time_parse("2026-11-11T23:59:00", &t) == -1, "no offset accepted");
  CHECK_EQ_INT(t, INT64_C(1794412740) * 1000000);

  check_parse("2026-11-11T23:59:00+08:00", "2026-11-11T15:59:00.000000Z");
  check_parse("2026-11-12T00:20:00+08:00", "2026-11-11T16:20:00.000000Z");
  check_parse("2026-01-01T02:00:00+05:30", "2025-12-31T20:30:00.000000Z");
  check_parse("2026-12-31T22:00:00-03:00", "2027-01-01T01:00:00.000000Z");
  check_parse("2024-02-29T12:00:00.5Z", "2024-02-29T12:00:00.500000Z");
  check_parse("2026-03-01T00:00:00.123456789Z", "2026-03-01T00:00:00.123456Z"); /* dropped */
  check_parse("1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z");
  check_parse("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z");
  check_parse("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000000Z");
  check_parse("2000-02-29t10:00:00z", "2000-02-29T10:00:00.000000Z");
  UNIT_DONE();
}
