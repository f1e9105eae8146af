/*
 * log.h - leveled logging to stderr, one line per message, safe from any thread.
 *
 * INTERFACE ROUTINES
 *   log_set_level / log_parse_level   choose what is printed
 *   log_error, log_warn, log_info, log_debug   printf-style messages
 */
#ifndef LOYALTY_LOG_H
#define LOYALTY_LOG_H

typedef enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

void log_set_level(log_level level);
/* Returns 0 and sets *level for "error", "warn", "info", "debug"; -1 otherwise. */
int log_parse_level(const char *name, log_level *level);
int log_enabled(log_level level);

void log_write(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)

#endif
