/*
 * program.c - Admin.GetProgram and UpdateProgram: the program's rules (points per yuan, tier
 * thresholds and multipliers, birthday multiplier, minimum paid amount, time zone, expiry
 * and tier policies, how far back a store may date a sale, days pending per channel). Every
 * change is recorded with who, when, old and new
 * (loyalty_update_program, db/functions/program.sql).
 *
 * INTERFACE ROUTINES
 *   program_methods   the Admin methods bound here
 */
#include "handlers.h"
#include "services.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>

#define PROGRAM_COLUMNS                                                                     \
  "points_per_yuan, senior_threshold_cents, vip_threshold_cents, supreme_threshold_cents," \
  " ordinary_permille, senior_permille, vip_permille, supreme_permille,"                   \
  " birthday_multiplier, min_paid_cents, time_zone, expiry_policy, expiry_months, tier_policy," \
  " max_backdate_days, array_to_string(pending_days, ','), point_value_millicents"

/* program.pending_days has one element per channel, CHANNEL_POS (1) .. CHANNEL_OTHER (6). */
#define N_CHANNELS 6

static const db_statement stmt_get_program = {
  .name = "get_program", .sql = "SELECT " PROGRAM_COLUMNS " FROM program"};

static const db_statement stmt_update_program = {
  .name = "update_program",
  .sql = "SELECT " PROGRAM_COLUMNS " FROM loyalty_update_program($1, $2, $3, $4, $5, $6, $7,"
         " $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
  .n_params = 18,
};

/* The PendingDays of "d1,d2,...,d6" (program.pending_days as text): the channels with days. */
static Loyalty__V1__PendingDays *pending_days_from_text(rpc_ctx *ctx, const char *text)
{
  Loyalty__V1__PendingDays *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__pending_days__init(out);
  out->channels = arena_alloc(ctx->arena, N_CHANNELS * sizeof *out->channels);
  const char *p = text;
  for (int channel = 1; channel <= N_CHANNELS && *p != '\0'; channel++) {
    char *end;
    long days = strtol(p, &end, 10);
    p = *end == ',' ? end + 1 : end;
    if (days == 0)
      continue;
    Loyalty__V1__ChannelDays *c = arena_alloc(ctx->arena, sizeof *c);
    loyalty__v1__channel_days__init(c);
    c->channel = (Loyalty__V1__Channel)channel;
    c->days = (int32_t)days;
    out->channels[out->n_channels++] = c;
  }
  return out;
}

/* program.pending_days as a PostgreSQL array literal of pending (channels not listed: 0), in
 * the arena; NULL when pending is NULL (unchanged). Sets *bad to the message if a channel is
 * unspecified, unknown or listed twice; the days' range is the program table's check. */
static const char *pending_days_param(rpc_ctx *ctx, const Loyalty__V1__PendingDays *pending,
                                      const char **bad)
{
  if (pending == NULL)
    return NULL;
  int64_t days[N_CHANNELS + 1] = {0};
  bool listed[N_CHANNELS + 1] = {false};
  for (size_t i = 0; i < pending->n_channels; i++) {
    int channel = (int)pending->channels[i]->channel;
    if (channel < 1 || channel > N_CHANNELS || listed[channel]) {
      *bad = "pending_days: each channel (pos, tmall, jd, wechat_mini, web, other) at most once";
      return NULL;
    }
    listed[channel] = true;
    days[channel] = pending->channels[i]->days;
  }
  return arena_printf(ctx->arena, "{%lld,%lld,%lld,%lld,%lld,%lld}", (long long)days[1],
                      (long long)days[2], (long long)days[3], (long long)days[4],
                      (long long)days[5], (long long)days[6]);
}

static grpc_status_code program_from_row(rpc_ctx *ctx, PGresult *r, ProtobufCMessage **response)
{
  Loyalty__V1__Program *p = arena_alloc(ctx->arena, sizeof *p);
  loyalty__v1__program__init(p);
  p->points_per_yuan = (int32_t)handler_get_int64(r, 0, 0);
  p->senior_threshold_cents = handler_get_int64(r, 0, 1);
  p->vip_threshold_cents = handler_get_int64(r, 0, 2);
  p->supreme_threshold_cents = handler_get_int64(r, 0, 3);
  p->ordinary_permille = (int32_t)handler_get_int64(r, 0, 4);
  p->senior_permille = (int32_t)handler_get_int64(r, 0, 5);
  p->vip_permille = (int32_t)handler_get_int64(r, 0, 6);
  p->supreme_permille = (int32_t)handler_get_int64(r, 0, 7);
  p->birthday_multiplier = (int32_t)handler_get_int64(r, 0, 8);
  p->min_paid_cents = handler_get_int64(r, 0, 9);
  p->time_zone = handler_get_text(ctx, r, 0, 10);
  p->expiry_policy = handler_get_text(ctx, r, 0, 11);
  p->expiry_months = (int32_t)handler_get_int64(r, 0, 12);
  p->tier_policy = handler_get_text(ctx, r, 0, 13);
  p->optional_max_backdate_days_case =
      LOYALTY__V1__PROGRAM__OPTIONAL_MAX_BACKDATE_DAYS_MAX_BACKDATE_DAYS;
  p->max_backdate_days = (int32_t)handler_get_int64(r, 0, 14);
  p->pending_days = pending_days_from_text(ctx, PQgetvalue(r, 0, 15));
  p->optional_point_value_millicents_case =
      LOYALTY__V1__PROGRAM__OPTIONAL_POINT_VALUE_MILLICENTS_POINT_VALUE_MILLICENTS;
  p->point_value_millicents = (int32_t)handler_get_int64(r, 0, 16);
  *response = &p->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code program_get(rpc_ctx *ctx, const ProtobufCMessage *request,
                                    ProtobufCMessage **response)
{
  (void)request;
  PGresult *r = handler_query(ctx, &stmt_get_program, NULL);
  return r ? program_from_row(ctx, r, response) : ctx->status;
}

static grpc_status_code program_update(rpc_ctx *ctx, const ProtobufCMessage *request,
                                       ProtobufCMessage **response)
{
  const Loyalty__V1__Program *p = (const Loyalty__V1__Program *)request;
  if (p->time_zone[0] == '\0' || !validate_text(p->time_zone, 64))
    return handler_invalid(ctx, "time_zone is required, e.g. Asia/Shanghai");
  if (!validate_text(p->expiry_policy, 16) || !validate_text(p->tier_policy, 16))
    return handler_invalid(ctx, "expiry_policy must be year_end, rolling or never; "
                                "tier_policy lifetime or rolling");
  const char *bad = NULL;
  const char *pending_days = pending_days_param(ctx, p->pending_days, &bad);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  /* The ranges are the program table's checks: PostgreSQL refuses what breaks them. */
  const char *params[] = {
    handler_principal(ctx),
    handler_int64(ctx, p->points_per_yuan),
    handler_int64(ctx, p->senior_threshold_cents),
    handler_int64(ctx, p->vip_threshold_cents),
    handler_int64(ctx, p->supreme_threshold_cents),
    handler_int64(ctx, p->ordinary_permille),
    handler_int64(ctx, p->senior_permille),
    handler_int64(ctx, p->vip_permille),
    handler_int64(ctx, p->supreme_permille),
    handler_int64(ctx, p->birthday_multiplier),
    handler_int64(ctx, p->min_paid_cents),
    p->time_zone,
    p->expiry_policy,
    handler_int64(ctx, p->expiry_months),
    p->tier_policy,
    /* optional: left out (an older client), it stays as it is */
    p->optional_max_backdate_days_case ==
            LOYALTY__V1__PROGRAM__OPTIONAL_MAX_BACKDATE_DAYS_MAX_BACKDATE_DAYS
        ? handler_int64(ctx, p->max_backdate_days)
        : NULL,
    pending_days,
    p->optional_point_value_millicents_case ==
            LOYALTY__V1__PROGRAM__OPTIONAL_POINT_VALUE_MILLICENTS_POINT_VALUE_MILLICENTS
        ? handler_int64(ctx, p->point_value_millicents)
        : NULL,
  };
  PGresult *r = handler_query(ctx, &stmt_update_program, params);
  return r ? program_from_row(ctx, r, response) : ctx->status;
}

static const rpc_method_binding methods[] = {
  {"GetProgram", program_get, RPC_SLOW},
  {"UpdateProgram", program_update, RPC_SLOW},
};

const rpc_bindings program_methods = RPC_BINDINGS(methods);
