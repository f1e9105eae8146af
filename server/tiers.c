/*
 * tiers.c - Admin methods about tiers: ListTierChanges (a member's tier history), EvaluateTiers
 * (the yearly review) and SetTier (HQ's override, answered with the member's balance).
 *
 * The tier rule itself (thresholds, policies, the review, the history trigger) lives in the
 * stored functions, db/functions/tiers.sql; this file only calls them and reads the history.
 *
 * INTERFACE ROUTINES
 *   tiers_methods   the Admin methods bound here
 */
#include "handlers.h"
#include "points.h"
#include "services.h"
#include "validate.h"

static const db_statement stmt_tier_changes = {
  .name = "tier_changes",
  .sql = "SELECT " SQL_TIMESTAMP("changed_at") ", old_tier, new_tier, reason"
         " FROM tier_changes WHERE member_id = $1 ORDER BY change_id",
  .n_params = 1,
};

static grpc_status_code tiers_list_changes(rpc_ctx *ctx, const ProtobufCMessage *request,
                                           ProtobufCMessage **response)
{
  const Loyalty__V1__ListTierChangesRequest *req =
      (const Loyalty__V1__ListTierChangesRequest *)request;
  const char *params[] = {handler_int64(ctx, req->member_id)};
  PGresult *r = handler_query(ctx, &stmt_tier_changes, params);
  if (r == NULL)
    return ctx->status;
  /* No change of tier yet, or no such member? */
  if (PQntuples(r) == 0 && handler_member_exists(ctx, params[0]) != GRPC_STATUS_OK)
    return ctx->status;
  Loyalty__V1__ListTierChangesResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__list_tier_changes_response__init(out);
  out->n_changes = (size_t)PQntuples(r);
  out->changes = arena_alloc(ctx->arena, (out->n_changes + 1) * sizeof *out->changes);
  for (int i = 0; i < (int)out->n_changes; i++) {
    Loyalty__V1__TierChange *c = arena_alloc(ctx->arena, sizeof *c);
    loyalty__v1__tier_change__init(c);
    c->changed_at = handler_get_text(ctx, r, i, 0);
    c->old_tier = (Loyalty__V1__Tier)handler_get_int64(r, i, 1);
    c->new_tier = (Loyalty__V1__Tier)handler_get_int64(r, i, 2);
    c->reason = handler_get_text(ctx, r, i, 3);
    out->changes[i] = c;
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const db_statement stmt_evaluate_tiers = {
  .name = "evaluate_tiers",
  .sql = "SELECT to_char(d, 'YYYY-MM-DD'), e.members_moved, e.already_done"
         " FROM (SELECT coalesce(nullif($2, '')::date,"
         "                       (now() AT TIME ZONE (SELECT time_zone FROM program))::date) d) a,"
         " loyalty_evaluate_tiers($1, a.d) e",
  .n_params = 2,
};

static grpc_status_code tiers_evaluate(rpc_ctx *ctx, const ProtobufCMessage *request,
                                       ProtobufCMessage **response)
{
  const Loyalty__V1__EvaluateTiersRequest *req =
      (const Loyalty__V1__EvaluateTiersRequest *)request;
  if (req->as_of[0] != '\0' && !validate_date(req->as_of))
    return handler_invalid(ctx, "as_of must be a real date as YYYY-MM-DD");
  const char *params[] = {handler_principal(ctx), req->as_of};
  PGresult *r = handler_query(ctx, &stmt_evaluate_tiers, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__EvaluateTiersResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__evaluate_tiers_response__init(out);
  out->as_of = handler_get_text(ctx, r, 0, 0);
  out->members_moved = handler_get_int64(r, 0, 1);
  out->already_done = handler_get_bool(r, 0, 2);
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const db_statement stmt_set_tier = {
  .name = "set_tier",
  .sql = "SELECT loyalty_set_tier($1, $2, $3, $4)",
  .n_params = 4,
};

static grpc_status_code tiers_set(rpc_ctx *ctx, const ProtobufCMessage *request,
                                  ProtobufCMessage **response)
{
  const Loyalty__V1__SetTierRequest *req = (const Loyalty__V1__SetTierRequest *)request;
  if (req->reason[0] == '\0' || validate_reason(req->reason) != NULL)
    return handler_invalid(ctx, "reason is required (at most 200 bytes)");
  const char *params[] = {handler_principal(ctx), handler_int64(ctx, req->member_id),
                          handler_int64(ctx, req->tier), req->reason};
  PGresult *r = handler_query(ctx, &stmt_set_tier, params);
  if (r == NULL)
    return ctx->status;
  return points_balance(ctx, req->member_id, response);
}

static const rpc_method_binding methods[] = {
  {"ListTierChanges", tiers_list_changes, RPC_SLOW},
  {"EvaluateTiers", tiers_evaluate, RPC_SLOW},
  {"SetTier", tiers_set, RPC_SLOW},
};

const rpc_bindings tiers_methods = RPC_BINDINGS(methods);
