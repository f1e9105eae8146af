/*
 * reports.c - what HQ's report handlers share: the report time, periods, the store filter,
 * the lifecycle window (reports.h). The report handlers are report_*.c.
 */
#include <string.h>

#include "business_time.h"
#include "reports.h"
#include "validate.h"

/* as_of (default today in the program's zone) and known_at (default now) as the database
 * reads them; known_at to the microsecond, so that asking again with it is the same
 * question. The third column says whether known_at is in the future. */
static const db_statement stmt_report_time = {
  .name = "report_time",
  .sql = "SELECT to_char(coalesce(nullif($1, '')::date,"
         "                        (now() AT TIME ZONE p.time_zone)::date), 'YYYY-MM-DD'),"
         "       to_char(coalesce(nullif($2, '')::timestamptz, now()) AT TIME ZONE 'UTC',"
         "               'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
         "       coalesce(nullif($2, '')::timestamptz > now(), false)"
         " FROM program p",
  .n_params = 2,
};

static const db_statement stmt_store_filter = {
  .name = "report_store_filter",
  .sql = "SELECT loyalty_report_store_filter($1, $2::int, $3)",
  .n_params = 3,
};

grpc_status_code report_time_resolve(rpc_ctx *ctx, const Loyalty__V1__ReportTime *t,
                                     const char *default_as_of, report_time *out)
{
  const char *as_of = t != NULL && t->as_of[0] != '\0' ? t->as_of : default_as_of;
  const char *known_at = t != NULL ? t->known_at : "";
  if (as_of != NULL && !validate_date(as_of))
    return handler_invalid(ctx, "as_of must be a real date as YYYY-MM-DD");
  int64_t epoch_us;
  if (known_at[0] != '\0' && business_time_parse(known_at, &epoch_us) != 0)
    return handler_invalid(ctx, "known_at must be an RFC 3339 time with an offset or Z"
                                " (2026-12-01T00:00:00+08:00)");
  const char *params[] = {as_of != NULL ? as_of : "", known_at};
  PGresult *r = handler_query(ctx, &stmt_report_time, params);
  if (r == NULL)
    return ctx->status;
  if (handler_get_bool(r, 0, 2))
    return handler_invalid(ctx, "known_at is in the future (a report counts what is recorded"
                                " by then, and more may still come)");
  out->as_of = handler_get_text(ctx, r, 0, 0);
  out->known_at = handler_get_text(ctx, r, 0, 1);
  return GRPC_STATUS_OK;
}

Loyalty__V1__ReportTime *report_time_message(rpc_ctx *ctx, const report_time *t)
{
  Loyalty__V1__ReportTime *m = arena_alloc(ctx->arena, sizeof *m);
  loyalty__v1__report_time__init(m);
  m->as_of = (char *)t->as_of;
  m->known_at = (char *)t->known_at;
  return m;
}

grpc_status_code report_period(rpc_ctx *ctx, const char *from, const char *to,
                               const Loyalty__V1__ReportTime *t, report_time *out)
{
  if (!validate_date(from))
    return handler_invalid(ctx, "from_date must be a real date as YYYY-MM-DD");
  if (!validate_date(to))
    return handler_invalid(ctx, "to_date must be a real date as YYYY-MM-DD");
  if (strcmp(from, to) > 0) /* YYYY-MM-DD compares as text */
    return handler_invalid(ctx, "from_date is after to_date");
  grpc_status_code status = report_time_resolve(ctx, t, to, out);
  if (status != GRPC_STATUS_OK)
    return status;
  if (strcmp(out->as_of, to) < 0)
    return handler_invalid(ctx, "as_of is before to_date (a period is valued as of its end"
                                " or later)");
  return GRPC_STATUS_OK;
}

grpc_status_code report_store_filter(rpc_ctx *ctx, const Loyalty__V1__ReportFilter *f,
                                     const char **stores)
{
  *stores = NULL;
  if (f == NULL)
    return GRPC_STATUS_OK;
  const char *why = f->store_code[0] != '\0' ? validate_store_code(f->store_code) : NULL;
  if (why != NULL)
    return handler_invalid(ctx, why);
  if (f->channel < 0 || f->channel > LOYALTY__V1__CHANNEL__CHANNEL_OTHER)
    return handler_invalid(ctx, "channel is not a known channel");
  if (!validate_text(f->region, 64))
    return handler_invalid(ctx, "region must be at most 64 bytes of text");
  const char *params[] = {f->store_code, handler_int64(ctx, f->channel), f->region};
  PGresult *r = handler_query(ctx, &stmt_store_filter, params);
  if (r == NULL)
    return ctx->status;
  if (!PQgetisnull(r, 0, 0))
    *stores = handler_get_text(ctx, r, 0, 0);
  return GRPC_STATUS_OK;
}

grpc_status_code report_window(rpc_ctx *ctx, int32_t months, const char **text)
{
  if (months == 0)
    months = 3;
  if (months != 3 && months != 6 && months != 12)
    return handler_invalid(ctx, "window_months must be 3, 6 or 12");
  *text = handler_int64(ctx, months);
  return GRPC_STATUS_OK;
}
