/*
 * merge.c - Admin.MergeMembers: two records of one person become one. The kept member takes
 * the merged one's balance, lots, net spend, identities and phone; the merged one is closed
 * (loyalty_merge_members, db/functions/merge.sql, one transaction).
 *
 * INTERFACE ROUTINES
 *   merge_methods   the Admin method bound here
 */
#include "handlers.h"
#include "services.h"

static const db_statement stmt_merge = {
  .name = "merge_members",
  .sql = "SELECT " POINTS_RESULT_COLUMNS " FROM loyalty_merge_members($1, '', $2, $3, $4, $5)",
  .n_params = 5,
};

static grpc_status_code merge_members(rpc_ctx *ctx, const ProtobufCMessage *request,
                                      ProtobufCMessage **response)
{
  const Loyalty__V1__MergeMembersRequest *req = (const Loyalty__V1__MergeMembersRequest *)request;
  /* No acting store: a merge is HQ's, and its statement names none (''). */
  write_start w;
  if (handler_begin_write(ctx, request, "", req->request_id, req->keep, WRITE_MEMBER_UNCHECKED,
                          &w) != GRPC_STATUS_OK)
    return ctx->status;
  if (req->keep <= 0 || req->merge <= 0)
    return handler_invalid(ctx, "keep and merge must both name members");
  const char *params[] = {
    w.principal, w.request_id, w.hash, w.member_id, handler_int64(ctx, req->merge),
  };
  PGresult *r = handler_query(ctx, &stmt_merge, params);
  if (r == NULL)
    return ctx->status;
  *response = &handler_points_result(ctx, r, 0)->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"MergeMembers", merge_members, RPC_SLOW},
};

const rpc_bindings merge_methods = RPC_BINDINGS(methods);
