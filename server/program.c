/*
 * program.c - Admin.GetProgram and UpdateProgram: the program's rules (points per yuan, tier
 * thresholds and multipliers, birthday multiplier, minimum paid amount, time zone, expiry
 * and tier policies, how far back a store may date a sale). Every change is recorded with who, when, old and new
 * (loyalty_update_program, db/functions/program.sql).
 *
 * INTERFACE ROUTINES
 *   program_methods   the Admin methods bound here
 */
#include "handlers.h"
#include "services.h"
#include "validate.h"

#define PROGRAM_COLUMNS                                                                     \
  "points_per_yuan, senior_threshold_cents, vip_threshold_cents, supreme_threshold_cents," \
  " ordinary_permille, senior_permille, vip_permille, supreme_permille,"                   \
  " birthday_multiplier, min_paid_cents, time_zone, expiry_policy, expiry_months, tier_policy," \
  " max_backdate_days"

static const db_statement stmt_get_program = {
  .name = "get_program", .sql = "SELECT " PROGRAM_COLUMNS " FROM program"};

static const db_statement stmt_update_program = {
  .name = "update_program",
  .sql = "SELECT " PROGRAM_COLUMNS " FROM loyalty_update_program($1, $2, $3, $4, $5, $6, $7,"
         " $8, $9, $10, $11, $12, $13, $14, $15, $16)",
  .n_params = 16,
};

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
  };
  PGresult *r = handler_query(ctx, &stmt_update_program, params);
  return r ? program_from_row(ctx, r, response) : ctx->status;
}

static const rpc_method_binding methods[] = {
  {"GetProgram", program_get},
  {"UpdateProgram", program_update},
};

const rpc_bindings program_methods = RPC_BINDINGS(methods);
