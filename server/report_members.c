/*
 * report_members.c - HQ's reports on members (docs/analytics.md): Admin.ReportLifecycle,
 * ReportMigration, ReportRfm, ReportKpis, ReportStores. Each checks its request, resolves
 * the report time (reports.c) and makes one query of a report_members.sql function; the
 * definitions are all there.
 *
 * INTERFACE ROUTINES
 *   report_members_methods   the Admin methods bound here
 */
#include <stdio.h>
#include <string.h>

#include "reports.h"
#include "services.h"
#include "validate.h"

static const db_statement stmt_lifecycle = {
  .name = "report_lifecycle",
  .sql = "SELECT stage, label, members"
         " FROM loyalty_report_lifecycle($1::date, $2::timestamptz, $3::int)",
  .n_params = 3,
};

static const db_statement stmt_migration = {
  .name = "report_migration",
  .sql = "SELECT from_stage, to_stage, members, direction"
         " FROM loyalty_report_migration($1::date, $2::date, $3::timestamptz, $4::int)",
  .n_params = 4,
};

/* The members' RFM aggregated: 8 class rows (kind 'c'), then 15 score rows (kind 'r', 'f',
 * 'm', scores 1-5), then one row of medians (kind 'n'). */
static const db_statement stmt_rfm = {
  .name = "report_rfm",
  .sql = "WITH s AS MATERIALIZED ("
         "  SELECT * FROM loyalty_report_rfm_members($1::date, $2::timestamptz, $3::int[],"
         "         $4::int[], $5::bigint[], $6::int, $7::int, $8::bigint))"
         " (SELECT 'c', c.ord, c.class, c.label, count(s.member_id),"
         "         coalesce(sum(s.monetary_cents), 0)::bigint, 0::bigint"
         "  FROM loyalty_report_rfm_classes() c LEFT JOIN s ON s.class = c.class"
         "  GROUP BY c.ord, c.class, c.label ORDER BY c.ord)"
         " UNION ALL"
         " (SELECT d.kind, g.score, '', '', count(x.v), coalesce(min(x.v), 0),"
         "         coalesce(max(x.v), 0)"
         "  FROM (VALUES ('r'), ('f'), ('m')) d(kind) CROSS JOIN generate_series(1, 5) g(score)"
         "  LEFT JOIN LATERAL (SELECT CASE d.kind WHEN 'r' THEN s.recency_days::bigint"
         "                                        WHEN 'f' THEN s.frequency::bigint"
         "                                        ELSE s.monetary_cents END AS v FROM s"
         "                     WHERE CASE d.kind WHEN 'r' THEN s.r_score WHEN 'f' THEN s.f_score"
         "                                       ELSE s.m_score END = g.score) x ON true"
         "  GROUP BY d.kind, g.score ORDER BY d.kind DESC, g.score)"
         " UNION ALL"
         " SELECT 'n', 0, '', '',"
         "        coalesce((percentile_disc(0.5) WITHIN GROUP (ORDER BY recency_days)"
         "          + percentile_disc(0.5) WITHIN GROUP (ORDER BY recency_days DESC)) / 2, 0),"
         "        coalesce((percentile_disc(0.5) WITHIN GROUP (ORDER BY frequency)"
         "          + percentile_disc(0.5) WITHIN GROUP (ORDER BY frequency DESC)) / 2, 0),"
         "        coalesce((percentile_disc(0.5) WITHIN GROUP (ORDER BY monetary_cents)"
         "          + percentile_disc(0.5) WITHIN GROUP (ORDER BY monetary_cents DESC)) / 2, 0)"
         " FROM s",
  .n_params = 8,
};

static const db_statement stmt_kpis = {
  .name = "report_kpis",
  .sql = "SELECT buyers, new_buyers, repeat_buyers, net_sales_cents, new_buyer_sales_cents,"
         "       first_half_buyers, retained_buyers, sleeping_before, woken, lost_before,"
         "       reactivated, enrolments, tiers[1], tiers[2], tiers[3], tiers[4], tiers[5]"
         " FROM loyalty_report_kpis($1::date, $2::date, $3::date, $4::timestamptz, $5::int[],"
         "                          $6::int)",
  .n_params = 6,
};

static const db_statement stmt_stores = {
  .name = "report_stores",
  .sql = "SELECT store_code, name, enrolled, prior_buyers, returning_buyers, buyers,"
         "       repeat_buyers, net_sales_cents, points_earned, points_redeemed"
         " FROM loyalty_report_store_kpis($1::date, $2::date, $3::date, $4::timestamptz,"
         "                                $5::int[])",
  .n_params = 5,
};

static grpc_status_code report_lifecycle(rpc_ctx *ctx, const ProtobufCMessage *request,
                                         ProtobufCMessage **response)
{
  const Loyalty__V1__LifecycleReportRequest *req =
      (const Loyalty__V1__LifecycleReportRequest *)request;
  const char *window;
  report_time t;
  if (report_window(ctx, req->window_months, &window) != GRPC_STATUS_OK ||
      report_time_resolve(ctx, req->time, NULL, &t) != GRPC_STATUS_OK)
    return ctx->status;
  const char *params[] = {t.as_of, t.known_at, window};
  PGresult *r = handler_query(ctx, &stmt_lifecycle, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__LifecycleReport *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__lifecycle_report__init(out);
  out->time = report_time_message(ctx, &t);
  out->window_months = req->window_months ? req->window_months : 3;
  int n = PQntuples(r);
  out->n_stages = (size_t)n;
  out->stages = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof *out->stages);
  for (int i = 0; i < n; i++) {
    Loyalty__V1__StageCount *s = arena_alloc(ctx->arena, sizeof *s);
    loyalty__v1__stage_count__init(s);
    s->stage = handler_get_text(ctx, r, i, 0);
    s->label = handler_get_text(ctx, r, i, 1);
    s->members = handler_get_int64(r, i, 2);
    out->members += s->members;
    out->stages[i] = s;
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code report_migration(rpc_ctx *ctx, const ProtobufCMessage *request,
                                         ProtobufCMessage **response)
{
  const Loyalty__V1__MigrationReportRequest *req =
      (const Loyalty__V1__MigrationReportRequest *)request;
  const char *window;
  report_time t;
  if (!validate_date(req->from_date))
    return handler_invalid(ctx, "from_date must be a real date as YYYY-MM-DD");
  if (report_window(ctx, req->window_months, &window) != GRPC_STATUS_OK ||
      report_time_resolve(ctx, req->time, NULL, &t) != GRPC_STATUS_OK)
    return ctx->status;
  if (strcmp(req->from_date, t.as_of) >= 0)
    return handler_invalid(ctx, "from_date must be before as_of");
  const char *params[] = {req->from_date, t.as_of, t.known_at, window};
  PGresult *r = handler_query(ctx, &stmt_migration, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__MigrationReport *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__migration_report__init(out);
  out->time = report_time_message(ctx, &t);
  out->from_date = req->from_date;
  out->window_months = req->window_months ? req->window_months : 3;
  int n = PQntuples(r);
  out->n_cells = (size_t)n;
  out->cells = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof *out->cells);
  for (int i = 0; i < n; i++) {
    Loyalty__V1__MigrationCell *c = arena_alloc(ctx->arena, sizeof *c);
    loyalty__v1__migration_cell__init(c);
    c->from_stage = handler_get_text(ctx, r, i, 0);
    c->to_stage = handler_get_text(ctx, r, i, 1);
    c->members = handler_get_int64(r, i, 2);
    c->direction = handler_get_text(ctx, r, i, 3);
    if (strcmp(c->direction, "forward") == 0)
      out->forward += c->members;
    else if (strcmp(c->direction, "backward") == 0)
      out->backward += c->members;
    else
      out->same += c->members;
    out->cells[i] = c;
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

/* Explicit RFM cut-offs of field (named for the message): none (the default, *literal
 * NULL) or 4 ascending values >= 0, as an array literal. */
static grpc_status_code rfm_cutoffs(rpc_ctx *ctx, const char *field, const int64_t *v,
                                    size_t n, const char **literal)
{
  *literal = NULL;
  if (n == 0)
    return GRPC_STATUS_OK;
  bool ok = n == 4 && v[0] >= 0;
  for (size_t i = 1; ok && i < n; i++)
    ok = v[i] > v[i - 1];
  if (!ok || v[3] > 1000000000000LL)
    return rpc_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s must be 4 ascending values from 0 (or none: the default)", field);
  char *s = arena_alloc(ctx->arena, 128);
  snprintf(s, 128, "{%lld,%lld,%lld,%lld}", (long long)v[0], (long long)v[1],
           (long long)v[2], (long long)v[3]);
  *literal = s;
  return GRPC_STATUS_OK;
}

/* A "high" threshold: 0 is the median (NULL), else a value from 1. */
static grpc_status_code rfm_high(rpc_ctx *ctx, const char *field, int64_t v, int64_t max,
                                 const char **text)
{
  *text = NULL;
  if (v < 0 || v > max)
    return rpc_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "%s must be from 0 (the median) to %lld", field, (long long)max);
  if (v > 0)
    *text = handler_int64(ctx, v);
  return GRPC_STATUS_OK;
}

static Loyalty__V1__RfmScore **rfm_scores(rpc_ctx *ctx, const PGresult *r, int first)
{
  Loyalty__V1__RfmScore **scores = arena_alloc(ctx->arena, 5 * sizeof *scores);
  for (int i = 0; i < 5; i++) {
    Loyalty__V1__RfmScore *s = arena_alloc(ctx->arena, sizeof *s);
    loyalty__v1__rfm_score__init(s);
    s->score = (int32_t)handler_get_int64(r, first + i, 1);
    s->members = handler_get_int64(r, first + i, 4);
    s->min = handler_get_int64(r, first + i, 5);
    s->max = handler_get_int64(r, first + i, 6);
    scores[i] = s;
  }
  return scores;
}

static grpc_status_code report_rfm(rpc_ctx *ctx, const ProtobufCMessage *request,
                                   ProtobufCMessage **response)
{
  const Loyalty__V1__RfmReportRequest *req = (const Loyalty__V1__RfmReportRequest *)request;
  const char *r_cuts, *f_cuts, *m_cuts, *r_high, *f_high, *m_high;
  report_time t;
  if (rfm_cutoffs(ctx, "recency_cutoffs_days", req->recency_cutoffs_days,
                  req->n_recency_cutoffs_days, &r_cuts) != GRPC_STATUS_OK ||
      rfm_cutoffs(ctx, "frequency_cutoffs", req->frequency_cutoffs, req->n_frequency_cutoffs,
                  &f_cuts) != GRPC_STATUS_OK ||
      rfm_cutoffs(ctx, "monetary_cutoffs_cents", req->monetary_cutoffs_cents,
                  req->n_monetary_cutoffs_cents, &m_cuts) != GRPC_STATUS_OK ||
      rfm_high(ctx, "recency_high_below_days", req->recency_high_below_days, 3660,
               &r_high) != GRPC_STATUS_OK ||
      rfm_high(ctx, "frequency_high_above", req->frequency_high_above, 3660, &f_high) !=
          GRPC_STATUS_OK ||
      rfm_high(ctx, "monetary_high_above_cents", req->monetary_high_above_cents,
               1000000000000LL, &m_high) != GRPC_STATUS_OK ||
      report_time_resolve(ctx, req->time, NULL, &t) != GRPC_STATUS_OK)
    return ctx->status;
  const char *params[] = {t.as_of, t.known_at, r_cuts, f_cuts, m_cuts, r_high, f_high, m_high};
  PGresult *r = handler_query(ctx, &stmt_rfm, params);
  if (r == NULL)
    return ctx->status;
  if (PQntuples(r) != 8 + 15 + 1)
    return rpc_fail(ctx, GRPC_STATUS_INTERNAL, "internal error");
  Loyalty__V1__RfmReport *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__rfm_report__init(out);
  out->time = report_time_message(ctx, &t);
  out->n_classes = 8;
  out->classes = arena_alloc(ctx->arena, 8 * sizeof *out->classes);
  for (int i = 0; i < 8; i++) {
    Loyalty__V1__RfmClass *c = arena_alloc(ctx->arena, sizeof *c);
    loyalty__v1__rfm_class__init(c);
    c->rfm_class = handler_get_text(ctx, r, i, 2);
    c->label = handler_get_text(ctx, r, i, 3);
    c->members = handler_get_int64(r, i, 4);
    c->monetary_cents = handler_get_int64(r, i, 5);
    out->members += c->members;
    out->classes[i] = c;
  }
  /* Score rows come r, m, f (kind descending): see stmt_rfm. */
  out->n_recency = out->n_frequency = out->n_monetary = 5;
  out->recency = rfm_scores(ctx, r, 8);
  out->monetary = rfm_scores(ctx, r, 13);
  out->frequency = rfm_scores(ctx, r, 18);
  out->median_recency_days = handler_get_int64(r, 23, 4);
  out->median_frequency = handler_get_int64(r, 23, 5);
  out->median_monetary_cents = handler_get_int64(r, 23, 6);
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code report_kpis(rpc_ctx *ctx, const ProtobufCMessage *request,
                                    ProtobufCMessage **response)
{
  const Loyalty__V1__KpiReportRequest *req = (const Loyalty__V1__KpiReportRequest *)request;
  const char *window, *stores;
  report_time t;
  if (report_period(ctx, req->from_date, req->to_date, req->time, &t) != GRPC_STATUS_OK ||
      report_window(ctx, req->window_months, &window) != GRPC_STATUS_OK ||
      report_store_filter(ctx, req->filter, &stores) != GRPC_STATUS_OK)
    return ctx->status;
  const char *params[] = {req->from_date, req->to_date, t.as_of, t.known_at, stores, window};
  PGresult *r = handler_query(ctx, &stmt_kpis, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__KpiReport *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__kpi_report__init(out);
  out->time = report_time_message(ctx, &t);
  out->from_date = req->from_date;
  out->to_date = req->to_date;
  out->buyers = handler_get_int64(r, 0, 0);
  out->new_buyers = handler_get_int64(r, 0, 1);
  out->repeat_buyers = handler_get_int64(r, 0, 2);
  out->net_sales_cents = handler_get_int64(r, 0, 3);
  out->new_buyer_sales_cents = handler_get_int64(r, 0, 4);
  out->arpu_cents = out->buyers ? out->net_sales_cents / out->buyers : 0;
  out->first_half_buyers = handler_get_int64(r, 0, 5);
  out->retained_buyers = handler_get_int64(r, 0, 6);
  out->sleeping_before = handler_get_int64(r, 0, 7);
  out->woken = handler_get_int64(r, 0, 8);
  out->lost_before = handler_get_int64(r, 0, 9);
  out->reactivated = handler_get_int64(r, 0, 10);
  out->enrolments = handler_get_int64(r, 0, 11);
  out->n_tiers = 5;
  out->tiers = arena_alloc(ctx->arena, 5 * sizeof *out->tiers);
  for (int i = 0; i < 5; i++) {
    Loyalty__V1__TierCount *c = arena_alloc(ctx->arena, sizeof *c);
    loyalty__v1__tier_count__init(c);
    c->tier = (Loyalty__V1__Tier)i;
    c->members = handler_get_int64(r, 0, 12 + i);
    out->tiers[i] = c;
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code report_stores(rpc_ctx *ctx, const ProtobufCMessage *request,
                                      ProtobufCMessage **response)
{
  const Loyalty__V1__StoreReportRequest *req =
      (const Loyalty__V1__StoreReportRequest *)request;
  const char *stores;
  report_time t;
  if (report_period(ctx, req->from_date, req->to_date, req->time, &t) != GRPC_STATUS_OK ||
      report_store_filter(ctx, req->filter, &stores) != GRPC_STATUS_OK)
    return ctx->status;
  const char *params[] = {req->from_date, req->to_date, t.as_of, t.known_at, stores};
  PGresult *r = handler_query(ctx, &stmt_stores, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__StoreReport *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__store_report__init(out);
  out->time = report_time_message(ctx, &t);
  out->from_date = req->from_date;
  out->to_date = req->to_date;
  int n = PQntuples(r);
  out->n_stores = (size_t)n;
  out->stores = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof *out->stores);
  for (int i = 0; i < n; i++) {
    Loyalty__V1__StoreKpi *s = arena_alloc(ctx->arena, sizeof *s);
    loyalty__v1__store_kpi__init(s);
    s->store_code = handler_get_text(ctx, r, i, 0);
    s->name = handler_get_text(ctx, r, i, 1);
    s->enrolled = handler_get_int64(r, i, 2);
    s->prior_buyers = handler_get_int64(r, i, 3);
    s->returning_buyers = handler_get_int64(r, i, 4);
    s->buyers = handler_get_int64(r, i, 5);
    s->repeat_buyers = handler_get_int64(r, i, 6);
    s->net_sales_cents = handler_get_int64(r, i, 7);
    s->points_earned = handler_get_int64(r, i, 8);
    s->points_redeemed = handler_get_int64(r, i, 9);
    out->stores[i] = s;
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"ReportLifecycle", report_lifecycle, RPC_SLOW},
  {"ReportMigration", report_migration, RPC_SLOW},
  {"ReportRfm", report_rfm, RPC_SLOW},
  {"ReportKpis", report_kpis, RPC_SLOW},
  {"ReportStores", report_stores, RPC_SLOW},
};

const rpc_bindings report_members_methods = RPC_BINDINGS(methods);
