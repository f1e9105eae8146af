/*
 * unit.h - the smallest test harness: named checks that count failures.
 */
#ifndef LOYALTY_UNIT_H
#define LOYALTY_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_failures;

#define CHECK(cond, ...)                                                     \
  do {                                                                       \
    if (!(cond)) {                                                           \
      unit_failures++;                                                       \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                          \
      fputc('\n', stderr);                                                   \
    }                                                                        \
  } while (0)

#define CHECK_EQ_INT(got, want)                                                        \
  CHECK((int64_t)(got) == (int64_t)(want), "got %" PRId64 ", want %" PRId64,           \
        (int64_t)(got), (int64_t)(want))

#define UNIT_DONE()                                                          \
  do {                                                                       \
    if (unit_failures)                                                       \
      fprintf(stderr, "%d check(s) failed\n", unit_failures);                \
    return unit_failures ? 1 : 0;                                            \
  } while (0)

#endif
