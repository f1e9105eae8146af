/*
 * reports.h - what HQ's report handlers share (reports.c): the report time (as_of, known_at),
 * periods, the store filter, the lifecycle window. The definitions themselves are SQL
 * (db/functions/reports.sql and report_*.sql; docs/analytics.md): a handler checks its
 * request, resolves these, makes one query and copies the rows into its answer.
 *
 * INTERFACE ROUTINES
 *   report_time_resolve   ReportTime -> the as_of date and known_at moment used
 *   report_time_message   the ReportTime an answer carries (the values used)
 *   report_period         from_date..to_date of a period report, and its as_of (default
 *                         to_date, never before it)
 *   report_store_filter   ReportFilter -> the stores' ids as a PostgreSQL int[] (NULL: brand)
 *   report_window         the lifecycle window in months: 3 (default), 6 or 12
 *
 * Errors follow handlers.h: each returns GRPC_STATUS_OK or the failure set in ctx.
 */
#ifndef LOYALTY_REPORTS_H
#define LOYALTY_REPORTS_H

#include "handlers.h"

/* The time a report is computed for; text in the call's arena. */
typedef struct report_time {
  const char *as_of;    /* YYYY-MM-DD */
  const char *known_at; /* RFC 3339 in UTC, to the microsecond */
} report_time;

/*
 * Resolves t (may be NULL: every default): as_of given (a real date, else INVALID_ARGUMENT)
 * or default_as_of (NULL: today in the program's time zone); known_at given (RFC 3339, not
 * in the future) or now.
 */
grpc_status_code report_time_resolve(rpc_ctx *ctx, const Loyalty__V1__ReportTime *t,
                                     const char *default_as_of, report_time *out);

/* The ReportTime of *t, in the arena, for an answer. */
Loyalty__V1__ReportTime *report_time_message(rpc_ctx *ctx, const report_time *t);

/* A period report's dates: from and to, real dates (required), from <= to; then its time
 * (report_time_resolve with as_of defaulting to `to`, and not before it). */
grpc_status_code report_period(rpc_ctx *ctx, const char *from, const char *to,
                               const Loyalty__V1__ReportTime *t, report_time *out);

/* The stores f selects as an int[] literal ("{1,5}"), or NULL for the whole brand (no
 * filter). NOT_FOUND for an unknown store code. Returns the status; *stores is set on OK. */
grpc_status_code report_store_filter(rpc_ctx *ctx, const Loyalty__V1__ReportFilter *f,
                                     const char **stores);

/* The window in months: 0 means 3; 3, 6 or 12, else INVALID_ARGUMENT. */
grpc_status_code report_window(rpc_ctx *ctx, int32_t months, const char **text);

#endif
