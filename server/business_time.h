/*
 * business_time.h - when a movement happened, as a client writes it: RFC 3339 times.
 * Pure functions: no I/O, no allocation, no time zone database.
 *
 * INTERFACE ROUTINES
 *   business_time_parse    RFC 3339 text to microseconds since the epoch
 *   business_time_format   microseconds since the epoch to RFC 3339 in UTC
 */
#ifndef LOYALTY_BUSINESS_TIME_H
#define LOYALTY_BUSINESS_TIME_H

#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" and its NUL. */
#define BUSINESS_TIME_TEXT 28

/*
 * Parses s, an RFC 3339 date-time: YYYY-MM-DD "T" HH:MM:SS, optional fractional seconds
 * (1-9 digits; kept to the microsecond, the rest dropped), then "Z" or an offset +HH:MM /
 * -HH:MM ("T" and "Z" in either case). A real date, year 0001-9999, hours 00-23, seconds
 * 00-59 (no leap second). On success sets *epoch_us (microseconds since
 * 1970-01-01T00:00:00Z) and returns 0; otherwise returns -1 and leaves it alone.
 */
int business_time_parse(const char *s, int64_t *epoch_us);

/* Writes epoch_us (years 0001-9999) to out as "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
void business_time_format(int64_t epoch_us, char out[BUSINESS_TIME_TEXT]);

#endif
