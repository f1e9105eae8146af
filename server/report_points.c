/*
 * report_points.c - HQ's reports on points (docs/analytics.md): Admin.ReportLiability,
 * ReportSettlement, ReportCampaign. Each checks its request, resolves the report time
 * (reports.c) and queries report_points.sql, where the definitions are; here the rows are
 * copied into the answer, and the few quotients of two of them (the breakage rate) taken
 * as the answer's comments say.
 *
 * INTERFACE ROUTINES
 *   report_points_methods   the Admin methods bound here
 */
#include <string.h>

#include "reports.h"
#include "services.h"
#include "validate.h"

/* The liability's lines (loyalty_report_liability), then the value of each amount the
 * answer prices, in cents (loyalty_points_cents, one rounding rule). The breakage is taken
 * here from expired_12m and redeemed_12m: columns 15, 16. */
static const db_statement stmt_liability = {
  .name = "report_liability",
  .sql = "WITH l AS MATERIALIZED ("
         "  SELECT * FROM loyalty_report_liability($1::date, $2::date, $3::timestamptz)),"
         " k AS (SELECT l.*, CASE WHEN l.expired_12m + l.redeemed_12m > 0"
         "                   THEN div(l.closing::numeric * l.expired_12m,"
         "                            l.expired_12m + l.redeemed_12m)::bigint"
         "                   ELSE 0 END AS breakage,"
         "              CASE WHEN l.expired_12m + l.redeemed_12m > 0"
         "                   THEN 10000 * l.expired_12m / (l.expired_12m + l.redeemed_12m)"
         "                   ELSE 0 END AS rate_bp FROM l)"
         " SELECT opening, earned, imported, adjusted, cancelled, redeemed, refunded, expired,"
         "        merged, other, closing, opening_owed, closing_owed, opening_pending,"
         "        closing_pending, expired_12m, redeemed_12m, point_value_millicents,"
         "        breakage, rate_bp,"
         "        loyalty_points_cents(closing, point_value_millicents),"
         "        loyalty_points_cents(closing - breakage, point_value_millicents),"
         "        loyalty_points_cents(closing_owed, point_value_millicents),"
         "        loyalty_points_cents(closing_pending, point_value_millicents)"
         " FROM k",
  .n_params = 3,
};

static const db_statement stmt_liability_years = {
  .name = "report_liability_years",
  .sql = "SELECT expiry_year, points, loyalty_points_cents(points, $3::int)"
         " FROM loyalty_report_liability_years($1::date, $2::timestamptz)",
  .n_params = 3,
};

/* The cells (kind 'c') then the positions (kind 'p'), with the point value in force at the
 * end of the period; NULL stores are HQ (''). */
static const db_statement stmt_settlement = {
  .name = "report_settlement",
  .sql = "WITH v AS (SELECT (loyalty_program_at(b.occurred_before)).point_value_millicents AS pv"
         "           FROM loyalty_report_bounds($2::date, $3::timestamptz) b)"
         " (SELECT 'c', coalesce(e.store_code, ''), coalesce(r.store_code, ''), c.points, 0::bigint,"
         "         loyalty_points_cents(c.points, v.pv), v.pv"
         "  FROM v, loyalty_report_settlement($1::date, $2::date, $3::timestamptz) c"
         "  LEFT JOIN stores e ON e.store_id = c.earned_at"
         "  LEFT JOIN stores r ON r.store_id = c.redeemed_at"
         "  ORDER BY 2, 3)"
         " UNION ALL"
         " (SELECT 'p', coalesce(s.store_code, ''), '', p.owed_to, p.owed_by,"
         "         loyalty_points_cents(p.net, v.pv), v.pv"
         "  FROM v, loyalty_report_settlement_positions($1::date, $2::date, $3::timestamptz) p"
         "  LEFT JOIN stores s ON s.store_id = p.party"
         "  ORDER BY 2)"
         " UNION ALL"
         " SELECT 'v', '', '', 0, 0, 0, v.pv FROM v",
  .n_params = 3,
};

static const db_statement stmt_campaign = {
  .name = "report_campaign",
  .sql = "SELECT c.name,"
         "       to_char(c.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
         "       to_char(least(c.ends_at, c.ended_at) AT TIME ZONE 'UTC',"
         "               'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
         "       r.members, r.purchases, r.sales_cents, r.net_sales_cents, r.base_points,"
         "       r.extra_points, r.shared_purchases, r.all_campaign_points"
         " FROM campaigns c"
         " CROSS JOIN LATERAL loyalty_report_campaign(c.campaign_id, $2::date,"
         "                                            $3::timestamptz) r"
         " WHERE c.campaign_id = $1::int",
  .n_params = 3,
};

/* The period of a points report: from_date (default the first day of as_of's month) to
 * as_of, from_date not after it. */
static grpc_status_code points_period(rpc_ctx *ctx, const Loyalty__V1__ReportTime *time,
                                      const char *from_date, report_time *t,
                                      const char **from)
{
  if (from_date[0] != '\0' && !validate_date(from_date))
    return handler_invalid(ctx, "from_date must be a real date as YYYY-MM-DD");
  if (report_time_resolve(ctx, time, NULL, t) != GRPC_STATUS_OK)
    return ctx->status;
  if (from_date[0] == '\0') {
    char *first = arena_strdup(ctx->arena, t->as_of);
    memcpy(first + 8, "01", 2); /* YYYY-MM-DD */
    from_date = first;
  }
  if (strcmp(from_date, t->as_of) > 0) /* YYYY-MM-DD compares as text */
    return handler_invalid(ctx, "from_date is after as_of (the period runs from from_date to"
                                " as_of)");
  *from = from_date;
  return GRPC_STATUS_OK;
}

static grpc_status_code report_liability(rpc_ctx *ctx, const ProtobufCMessage *request,
                                         ProtobufCMessage **response)
{
  const Loyalty__V1__LiabilityReportRequest *req =
      (const Loyalty__V1__LiabilityReportRequest *)request;
  report_time t;
  const char *from;
  if (points_period(ctx, req->time, req->from_date, &t, &from) != GRPC_STATUS_OK)
    return ctx->status;
  const char *params[] = {from, t.as_of, t.known_at};
  PGresult *r = handler_query(ctx, &stmt_liability, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__LiabilityReport *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__liability_report__init(out);
  out->time = report_time_message(ctx, &t);
  out->from_date = (char *)from;
  out->opening = handler_get_int64(r, 0, 0);
  out->earned = handler_get_int64(r, 0, 1);
  out->imported = handler_get_int64(r, 0, 2);
  out->adjusted = handler_get_int64(r, 0, 3);
  out->cancelled = handler_get_int64(r, 0, 4);
  out->redeemed = handler_get_int64(r, 0, 5);
  out->refunded = handler_get_int64(r, 0, 6);
  out->expired = handler_get_int64(r, 0, 7);
  out->merged = handler_get_int64(r, 0, 8);
  out->other = handler_get_int64(r, 0, 9);
  out->closing = handler_get_int64(r, 0, 10);
  out->opening_owed = handler_get_int64(r, 0, 11);
  out->closing_owed = handler_get_int64(r, 0, 12);
  out->owed_change = out->closing_owed - out->opening_owed;
  out->opening_pending = handler_get_int64(r, 0, 13);
  out->closing_pending = handler_get_int64(r, 0, 14);
  out->expired_12m = handler_get_int64(r, 0, 15);
  out->redeemed_12m = handler_get_int64(r, 0, 16);
  out->point_value_millicents = (int32_t)handler_get_int64(r, 0, 17);
  out->expected_breakage = handler_get_int64(r, 0, 18);
  out->breakage_rate_bp = (int32_t)handler_get_int64(r, 0, 19);
  out->net_of_breakage = out->closing - out->expected_breakage;
  out->closing_value_cents = handler_get_int64(r, 0, 20);
  out->net_of_breakage_value_cents = handler_get_int64(r, 0, 21);
  out->closing_owed_value_cents = handler_get_int64(r, 0, 22);
  out->closing_pending_value_cents = handler_get_int64(r, 0, 23);

  const char *year_params[] = {t.as_of, t.known_at,
                               handler_int64(ctx, out->point_value_millicents)};
  PGresult *y = handler_query(ctx, &stmt_liability_years, year_params);
  if (y == NULL)
    return ctx->status;
  int n = PQntuples(y);
  out->n_by_expiry_year = (size_t)n;
  out->by_expiry_year = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof *out->by_expiry_year);
  for (int i = 0; i < n; i++) {
    Loyalty__V1__ExpiryYearPoints *e = arena_alloc(ctx->arena, sizeof *e);
    loyalty__v1__expiry_year_points__init(e);
    e->year = (int32_t)handler_get_int64(y, i, 0);
    e->points = handler_get_int64(y, i, 1);
    e->value_cents = handler_get_int64(y, i, 2);
    out->by_expiry_year[i] = e;
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code report_settlement(rpc_ctx *ctx, const ProtobufCMessage *request,
                                          ProtobufCMessage **response)
{
  const Loyalty__V1__SettlementReportRequest *req =
      (const Loyalty__V1__SettlementReportRequest *)request;
  report_time t;
  const char *from;
  if (points_period(ctx, req->time, req->from_date, &t, &from) != GRPC_STATUS_OK)
    return ctx->status;
  const char *params[] = {from, t.as_of, t.known_at};
  PGresult *r = handler_query(ctx, &stmt_settlement, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__SettlementReport *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__settlement_report__init(out);
  out->time = report_time_message(ctx, &t);
  out->from_date = (char *)from;
  int n = PQntuples(r);
  out->cells = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof *out->cells);
  out->positions = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof *out->positions);
  for (int i = 0; i < n; i++) {
    const char *kind = PQgetvalue(r, i, 0);
    out->point_value_millicents = (int32_t)handler_get_int64(r, i, 6);
    if (kind[0] == 'c') {
      Loyalty__V1__SettlementCell *c = arena_alloc(ctx->arena, sizeof *c);
      loyalty__v1__settlement_cell__init(c);
      c->earned_at = handler_get_text(ctx, r, i, 1);
      c->redeemed_at = handler_get_text(ctx, r, i, 2);
      c->points = handler_get_int64(r, i, 3);
      c->value_cents = handler_get_int64(r, i, 5);
      out->cells[out->n_cells++] = c;
    } else if (kind[0] == 'p') {
      Loyalty__V1__SettlementPosition *p = arena_alloc(ctx->arena, sizeof *p);
      loyalty__v1__settlement_position__init(p);
      p->store_code = handler_get_text(ctx, r, i, 1);
      p->owed_to = handler_get_int64(r, i, 3);
      p->owed_by = handler_get_int64(r, i, 4);
      p->net = p->owed_to - p->owed_by;
      p->net_value_cents = handler_get_int64(r, i, 5);
      out->positions[out->n_positions++] = p;
    }
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code report_campaign(rpc_ctx *ctx, const ProtobufCMessage *request,
                                        ProtobufCMessage **response)
{
  const Loyalty__V1__CampaignReportRequest *req =
      (const Loyalty__V1__CampaignReportRequest *)request;
  if (req->campaign_id <= 0)
    return handler_invalid(ctx, "campaign_id is required (loyaltyctl campaign list)");
  report_time t;
  if (report_time_resolve(ctx, req->time, NULL, &t) != GRPC_STATUS_OK)
    return ctx->status;
  const char *params[] = {handler_int64(ctx, req->campaign_id), t.as_of, t.known_at};
  PGresult *r = handler_query(ctx, &stmt_campaign, params);
  if (r == NULL)
    return ctx->status;
  if (PQntuples(r) == 0)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "campaign not found: %d", req->campaign_id);
  Loyalty__V1__CampaignReport *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__campaign_report__init(out);
  out->time = report_time_message(ctx, &t);
  out->campaign_id = req->campaign_id;
  out->name = handler_get_text(ctx, r, 0, 0);
  out->starts_at = handler_get_text(ctx, r, 0, 1);
  out->ends_at = handler_get_text(ctx, r, 0, 2);
  out->members = handler_get_int64(r, 0, 3);
  out->purchases = handler_get_int64(r, 0, 4);
  out->sales_cents = handler_get_int64(r, 0, 5);
  out->net_sales_cents = handler_get_int64(r, 0, 6);
  out->base_points = handler_get_int64(r, 0, 7);
  out->extra_points = handler_get_int64(r, 0, 8);
  out->shared_purchases = handler_get_int64(r, 0, 9);
  out->all_campaign_points = handler_get_int64(r, 0, 10);
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"ReportLiability", report_liability, RPC_SLOW},
  {"ReportSettlement", report_settlement, RPC_SLOW},
  {"ReportCampaign", report_campaign, RPC_SLOW},
};

const rpc_bindings report_points_methods = RPC_BINDINGS(methods);
