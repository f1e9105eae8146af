/*
 * log.c - leveled logging to stderr.
 *
 * Each message is formatted into one buffer and written with one write(2), so lines from
 * different threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile log_level current_level = LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(log_level level) { current_level = level; }

int log_enabled(log_level level) { return level <= current_level; }

int log_parse_level(const char *name, log_level *level)
{
  for (int i = 0; i <= LOG_DEBUG; i++) {
    if (strcmp(name, level_names[i]) == 0) {
      *level = (log_level)i;
      return 0;
    }
  }
  return -1;
}

void log_write(log_level level, const char *fmt, ...)
{
  if (!log_enabled(level))
    return;
  char line[2048];
  struct timespec now;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
  n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s ", now.tv_nsec / 1000000,
                level_names[level]);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  n = (m < 0 || (size_t)(n + m) >= sizeof line - 1) ? (int)sizeof line - 2 : n + m;
  line[n++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
  (void)ignored;
}
