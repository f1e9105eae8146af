/*
 * campaigns.c - Admin.CreateCampaign, ListCampaigns, EndCampaign. What a campaign does to an
 * earn is in the stored functions (db/functions/campaigns.sql); each change is in the admin audit.
 *
 * INTERFACE ROUTINES
 *   campaigns_methods   the Admin methods bound here
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "services.h"
#include "validate.h"

#define CAMPAIGN_COLUMNS                                                                     \
  "campaign_id, name, multiplier_permille, bonus_points, " SQL_TIMESTAMP("starts_at") ", "  \
  SQL_TIMESTAMP("ends_at") ", store_codes::text, channels::text, tiers::text,"             \
  " coalesce(" SQL_TIMESTAMP("ended_at") ", '')"

static const db_statement stmt_create = {
  .name = "create_campaign",
  .sql = "WITH c AS (INSERT INTO campaigns (name, multiplier_permille, bonus_points, starts_at,"
         "   ends_at, store_codes, channels, tiers, created_by)"
         "   VALUES ($2, $3, $4, $5::timestamptz, $6::timestamptz, $7, $8, $9, $1) RETURNING *)"
         " SELECT " CAMPAIGN_COLUMNS ", loyalty_audit($1, 'create_campaign', campaign_id::text, '',"
         "   format('%s: x%s +%s, %s to %s', name, multiplier_permille, bonus_points, starts_at,"
         "          ends_at)) FROM c",
  .n_params = 9,
  .no_retry = true,
};

static const db_statement stmt_list = {
  .name = "list_campaigns",
  .sql = "SELECT " CAMPAIGN_COLUMNS " FROM campaigns"
         " WHERE $1 OR (ended_at IS NULL AND ends_at > now()) ORDER BY starts_at, campaign_id",
  .n_params = 1,
};

static const db_statement stmt_end = {
  .name = "end_campaign",
  .sql = "WITH c AS (UPDATE campaigns SET ended_at = coalesce(ended_at, now())"
         "   WHERE campaign_id = $2 RETURNING *)"
         " SELECT " CAMPAIGN_COLUMNS ", loyalty_audit($1, 'end_campaign', campaign_id::text, '', name)"
         " FROM c",
  .n_params = 2,
};

/* "{1,2}" (a PostgreSQL array's text) into count integers in the arena. */
static int *int_array(rpc_ctx *ctx, const char *text, size_t *count)
{
  size_t n = 0;
  int *out = arena_alloc(ctx->arena, (strlen(text) / 2 + 1) * sizeof *out);
  for (const char *p = text; *p;) {
    if (*p >= '0' && *p <= '9') {
      char *end;
      out[n++] = (int)strtol(p, &end, 10);
      p = end;
    } else {
      p++;
    }
  }
  *count = n;
  return out;
}

static Loyalty__V1__Campaign *campaign_from_row(rpc_ctx *ctx, const PGresult *r, int row)
{
  Loyalty__V1__Campaign *c = arena_alloc(ctx->arena, sizeof *c);
  loyalty__v1__campaign__init(c);
  c->campaign_id = (int32_t)handler_get_int64(r, row, 0);
  c->name = handler_get_text(ctx, r, row, 1);
  c->multiplier_permille = (int32_t)handler_get_int64(r, row, 2);
  c->bonus_points = handler_get_int64(r, row, 3);
  c->starts_at = handler_get_text(ctx, r, row, 4);
  c->ends_at = handler_get_text(ctx, r, row, 5);
  /* store codes are [A-Za-z0-9_-]: the array's text needs no unquoting */
  char *stores = handler_get_text(ctx, r, row, 6);
  size_t n = 0;
  char **codes = arena_alloc(ctx->arena, (strlen(stores) + 1) * sizeof *codes);
  char *save = NULL;
  for (char *tok = strtok_r(stores, "{},", &save); tok != NULL;
       tok = strtok_r(NULL, "{},", &save))
    codes[n++] = tok;
  c->store_codes = codes;
  c->n_store_codes = n;
  c->channels = (Loyalty__V1__Channel *)int_array(ctx, PQgetvalue(r, row, 7), &c->n_channels);
  c->tiers = (Loyalty__V1__Tier *)int_array(ctx, PQgetvalue(r, row, 8), &c->n_tiers);
  c->ended_at = handler_get_text(ctx, r, row, 9);
  return c;
}

/* A PostgreSQL array literal of the enum values. */
static const char *enum_array(rpc_ctx *ctx, const int *values, size_t n)
{
  char *out = arena_alloc(ctx->arena, n * 12 + 3);
  char *p = out;
  *p++ = '{';
  for (size_t i = 0; i < n; i++)
    p += sprintf(p, "%s%d", i ? "," : "", values[i]);
  *p++ = '}';
  *p = '\0';
  return out;
}

static grpc_status_code campaigns_create(rpc_ctx *ctx, const ProtobufCMessage *request,
                                         ProtobufCMessage **response)
{
  const Loyalty__V1__Campaign *c = (const Loyalty__V1__Campaign *)request;
  if (c->name[0] == '\0' || !validate_text(c->name, 100))
    return handler_invalid(ctx, "name must be 1-100 bytes of UTF-8 text");
  if (!validate_text(c->starts_at, 40) || !validate_text(c->ends_at, 40) ||
      c->starts_at[0] == '\0' || c->ends_at[0] == '\0')
    return handler_invalid(ctx, "starts_at and ends_at are required");
  if (c->n_store_codes > 1000 || c->n_channels > 16 || c->n_tiers > 8)
    return handler_invalid(ctx, "too many stores, channels or tiers");
  for (size_t i = 0; i < c->n_store_codes; i++) {
    const char *bad = validate_store_code(c->store_codes[i]);
    if (bad != NULL)
      return handler_invalid(ctx, bad);
  }
  int permille = c->multiplier_permille ? c->multiplier_permille : 1000;
  /* The table's checks refuse what is out of range (INVALID_ARGUMENT). */
  const char *params[] = {
    handler_principal(ctx), c->name, handler_int64(ctx, permille),
    handler_int64(ctx, c->bonus_points), c->starts_at, c->ends_at,
    handler_text_array(ctx, c->store_codes, c->n_store_codes),
    enum_array(ctx, (const int *)c->channels, c->n_channels),
    enum_array(ctx, (const int *)c->tiers, c->n_tiers),
  };
  PGresult *r = handler_query_catch(ctx, &stmt_create, params, "23514",
                                    GRPC_STATUS_INVALID_ARGUMENT,
                                    "invalid campaign: ends_at after starts_at, multiplier"
                                    " 1000-10000 permille or a bonus of 1-1000000 points");
  if (r == NULL)
    return ctx->status;
  *response = &campaign_from_row(ctx, r, 0)->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code campaigns_list(rpc_ctx *ctx, const ProtobufCMessage *request,
                                       ProtobufCMessage **response)
{
  const Loyalty__V1__ListCampaignsRequest *req =
      (const Loyalty__V1__ListCampaignsRequest *)request;
  const char *params[] = {req->include_ended ? "true" : "false"};
  PGresult *r = handler_query(ctx, &stmt_list, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__ListCampaignsResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__list_campaigns_response__init(out);
  out->n_campaigns = (size_t)PQntuples(r);
  out->campaigns = arena_alloc(ctx->arena, (out->n_campaigns + 1) * sizeof *out->campaigns);
  for (size_t i = 0; i < out->n_campaigns; i++)
    out->campaigns[i] = campaign_from_row(ctx, r, (int)i);
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code campaigns_end(rpc_ctx *ctx, const ProtobufCMessage *request,
                                      ProtobufCMessage **response)
{
  const Loyalty__V1__EndCampaignRequest *req = (const Loyalty__V1__EndCampaignRequest *)request;
  const char *params[] = {handler_principal(ctx), handler_int64(ctx, req->campaign_id)};
  PGresult *r = handler_query(ctx, &stmt_end, params);
  if (r == NULL)
    return ctx->status;
  if (PQntuples(r) == 0)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "campaign not found");
  *response = &campaign_from_row(ctx, r, 0)->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"CreateCampaign", campaigns_create, RPC_SLOW},
  {"ListCampaigns", campaigns_list, RPC_SLOW},
  {"EndCampaign", campaigns_end, RPC_SLOW},
};

const rpc_bindings campaigns_methods = RPC_BINDINGS(methods);
