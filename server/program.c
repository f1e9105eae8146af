/*
 * program.c - Admin methods that change the program and balances: GetProgram,
 * UpdateProgram (rules; every change recorded with who, when, old and new) and
 * AdjustPoints (HQ's corrections, a ledger row naming the operator and the reason),
 * ListTierChanges (a member's tier history), MergeMembers (two records of one person).
 */
#include "handlers.h"
#include "validate.h"

#define PROGRAM_COLUMNS                                                                     \
  "points_per_yuan, senior_threshold_cents, vip_threshold_cents, supreme_threshold_cents," \
  " ordinary_permille, senior_permille, vip_permille, supreme_permille,"                   \
  " birthday_multiplier, min_paid_cents, time_zone, expiry_policy, expiry_months, tier_policy"

static const db_statement stmt_get_program = {
  .name = "get_program", .sql = "SELECT " PROGRAM_COLUMNS " FROM program"};

static const db_statement stmt_update_program = {
  .name = "update_program",
  .sql = "SELECT " PROGRAM_COLUMNS " FROM loyalty_update_program($1, $2, $3, $4, $5, $6, $7,"
         " $8, $9, $10, $11, $12, $13, $14, $15)",
  .n_params = 15,
};

static const db_statement stmt_adjust = {
  .name = "adjust",
  .sql = "SELECT " POINTS_RESULT_COLUMNS " FROM loyalty_adjust($1, $2, $3, $4, $5, $6, $7)",
  .n_params = 7,
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
  *response = &p->base;
  return GRPC_STATUS_OK;
}

grpc_status_code program_get(rpc_ctx *ctx, const ProtobufCMessage *request,
                             ProtobufCMessage **response)
{
  (void)request;
  PGresult *r = handler_query(ctx, &stmt_get_program, NULL);
  return r ? program_from_row(ctx, r, response) : ctx->status;
}

grpc_status_code program_update(rpc_ctx *ctx, const ProtobufCMessage *request,
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
  };
  PGresult *r = handler_query(ctx, &stmt_update_program, params);
  return r ? program_from_row(ctx, r, response) : ctx->status;
}

grpc_status_code program_adjust_points(rpc_ctx *ctx, const ProtobufCMessage *request,
                                       ProtobufCMessage **response)
{
  const Loyalty__V1__AdjustPointsRequest *req = (const Loyalty__V1__AdjustPointsRequest *)request;
  const char *store;
  if (handler_acting_store(ctx, req->store_code, &store) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = validate_request_id(req->request_id);
  if (bad == NULL && (req->points == 0 || req->points > VALIDATE_MAX_POINTS ||
                      req->points < -VALIDATE_MAX_POINTS))
    bad = "points must be non-zero, at most 1000000000 either way";
  if (bad == NULL && req->reason[0] == '\0')
    bad = "reason is required";
  if (bad == NULL)
    bad = validate_reason(req->reason);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *params[] = {
    handler_principal(ctx), store, req->request_id, rpc_request_hash(ctx, request),
    handler_int64(ctx, req->member_id), handler_int64(ctx, req->points), req->reason,
  };
  PGresult *r = handler_query(ctx, &stmt_adjust, params);
  if (r == NULL)
    return ctx->status;
  *response = &handler_points_result(ctx, r, 0)->base;
  return GRPC_STATUS_OK;
}

static const db_statement stmt_tier_changes = {
  .name = "tier_changes",
  .sql = "SELECT " SQL_TIMESTAMP("changed_at") ", old_tier, new_tier, reason"
         " FROM tier_changes WHERE member_id = $1 ORDER BY change_id",
  .n_params = 1,
};

static const db_statement stmt_member_known = {
  .name = "member_known", .sql = "SELECT 1 FROM members WHERE member_id = $1", .n_params = 1};

grpc_status_code program_list_tier_changes(rpc_ctx *ctx, const ProtobufCMessage *request,
                                           ProtobufCMessage **response)
{
  const Loyalty__V1__ListTierChangesRequest *req =
      (const Loyalty__V1__ListTierChangesRequest *)request;
  const char *params[] = {handler_int64(ctx, req->member_id)};
  PGresult *r = handler_query(ctx, &stmt_member_known, params);
  if (r == NULL)
    return ctx->status;
  int known = PQntuples(r);
  if (!known)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "member not found");
  r = handler_query(ctx, &stmt_tier_changes, params);
  if (r == NULL)
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

static const db_statement stmt_merge = {
  .name = "merge_members",
  .sql = "SELECT " POINTS_RESULT_COLUMNS " FROM loyalty_merge_members($1, '', $2, $3, $4, $5)",
  .n_params = 5,
};

grpc_status_code program_merge_members(rpc_ctx *ctx, const ProtobufCMessage *request,
                                       ProtobufCMessage **response)
{
  const Loyalty__V1__MergeMembersRequest *req = (const Loyalty__V1__MergeMembersRequest *)request;
  const char *bad = validate_request_id(req->request_id);
  if (bad == NULL && (req->keep <= 0 || req->merge <= 0))
    bad = "keep and merge must both name members";
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *params[] = {
    handler_principal(ctx), req->request_id, rpc_request_hash(ctx, request),
    handler_int64(ctx, req->keep), handler_int64(ctx, req->merge),
  };
  PGresult *r = handler_query(ctx, &stmt_merge, params);
  if (r == NULL)
    return ctx->status;
  *response = &handler_points_result(ctx, r, 0)->base;
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

grpc_status_code program_evaluate_tiers(rpc_ctx *ctx, const ProtobufCMessage *request,
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

grpc_status_code program_set_tier(rpc_ctx *ctx, const ProtobufCMessage *request,
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
  Loyalty__V1__GetBalanceRequest balance = LOYALTY__V1__GET_BALANCE_REQUEST__INIT;
  balance.member_id = req->member_id;
  return points_get_balance(ctx, &balance.base, response);
}
