/*
 * pending.c - pending points (积分待入账): Points.ConfirmOrder, the buyer's confirmation of
 * receipt, and Admin.ReleasePending, HQ's run that releases what is due.
 *
 * Which earns are pending, for how long, and what a release or a refund does to them is
 * db/functions/pending.sql; this file validates the requests and calls it. The run walks the
 * members with pending earns due in chunks, one transaction per chunk, as RunExpiry does.
 *
 * INTERFACE ROUTINES
 *   pending_methods         the Points method bound here (ConfirmOrder)
 *   pending_admin_methods   the Admin method bound here (ReleasePending)
 */
#include "handlers.h"
#include "services.h"
#include "validate.h"

#define RELEASE_CHUNK "500"

static const db_statement stmt_confirm_order = {
  .name = "confirm_order",
  .sql = "SELECT " POINTS_RESULT_COLUMNS
         " FROM loyalty_confirm_order($1, $2, $3, $4, $5, $6, $7, $8)",
  .n_params = 8,
};

static const db_statement stmt_release_pending = {
  .name = "release_pending",
  .sql = "SELECT last_member, members_done, members_released, earns_released, points_released"
         " FROM loyalty_release_pending($1, $2::date, $3, " RELEASE_CHUNK ")",
  .n_params = 3,
};

static grpc_status_code pending_confirm_order(rpc_ctx *ctx, const ProtobufCMessage *request,
                                              ProtobufCMessage **response)
{
  const Loyalty__V1__ConfirmOrderRequest *req = (const Loyalty__V1__ConfirmOrderRequest *)request;
  write_start w;
  if (handler_begin_write(ctx, request, req->store_code, req->request_id, req->member_id,
                          WRITE_MEMBER_REQUIRED, &w) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = NULL;
  if (req->original_case == LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL_ORDER_ID)
    bad = validate_order_id(req->order_id, true);
  if (req->original_case == LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL__NOT_SET ||
      (req->original_case == LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL_TRANSACTION_ID &&
       req->transaction_id <= 0))
    bad = "the original purchase is required: transaction_id or order_id";
  if (bad == NULL && req->original_store_code[0] != '\0')
    bad = validate_store_code(req->original_store_code);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  bool by_txn = req->original_case == LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL_TRANSACTION_ID;
  const char *params[] = {
    w.principal, w.store, w.request_id, w.hash, w.member_id,
    by_txn ? handler_int64(ctx, req->transaction_id) : NULL,
    by_txn ? NULL : req->order_id,
    req->original_store_code,
  };
  PGresult *r = handler_query(ctx, &stmt_confirm_order, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__PointsResult *result = handler_points_result(ctx, r, 0);
  *response = &result->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code pending_release(rpc_ctx *ctx, const ProtobufCMessage *request,
                                        ProtobufCMessage **response)
{
  const Loyalty__V1__ReleasePendingRequest *req =
      (const Loyalty__V1__ReleasePendingRequest *)request;
  const char *as_of = handler_business_date(ctx, req->as_of);
  if (as_of == NULL)
    return ctx->status;
  Loyalty__V1__ReleasePendingResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__release_pending_response__init(out);
  out->as_of = (char *)as_of;
  const char *principal = handler_principal(ctx);
  int64_t after = 0;
  for (;;) {
    const char *params[] = {principal, as_of, handler_int64(ctx, after)};
    PGresult *r = handler_query(ctx, &stmt_release_pending, params);
    if (r == NULL)
      return ctx->status; /* chunks done so far stay done: a rerun finishes the job */
    int64_t done = handler_get_int64(r, 0, 1);
    after = handler_get_int64(r, 0, 0);
    out->members += handler_get_int64(r, 0, 2);
    out->earns += handler_get_int64(r, 0, 3);
    out->points_released += handler_get_int64(r, 0, 4);
    handler_release(ctx, r); /* one chunk at a time: a run may take thousands */
    if (done == 0)
      break;
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"ConfirmOrder", pending_confirm_order, RPC_SLOW},
};

const rpc_bindings pending_methods = RPC_BINDINGS(methods);

static const rpc_method_binding admin_methods[] = {
  {"ReleasePending", pending_release, RPC_SLOW},
};

const rpc_bindings pending_admin_methods = RPC_BINDINGS(admin_methods);
