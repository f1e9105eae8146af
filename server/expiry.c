/*
 * expiry.c - Admin.RunExpiry and Admin.ListExpiringPoints.
 *
 * RunExpiry walks the members with expired lots in chunks, one transaction per chunk
 * (loyalty_expire), so a run over millions of members never holds one huge transaction.
 *
 * INTERFACE ROUTINES
 *   expiry_methods   the Admin methods bound here
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "services.h"
#include "validate.h"

#define EXPIRY_CHUNK "500"
#define EXPIRING_PAGE_DEFAULT 100
#define EXPIRING_PAGE_MAX 1000

static const db_statement stmt_expire = {
  .name = "expire",
  .sql = "SELECT last_member, members_done, lots_expired, points_expired"
         " FROM loyalty_expire($1, $2::date, $3, " EXPIRY_CHUNK ")",
  .n_params = 3,
};

static const db_statement stmt_expiring = {
  .name = "expiring",
  .sql = "SELECT m.member_id, coalesce(m.phone, ''), m.name, sum(l.remaining),"
         " to_char(min(l.expires_on), 'YYYY-MM-DD')"
         " FROM lots l JOIN members m USING (member_id) CROSS JOIN program p"
         " WHERE l.remaining > 0 AND m.member_id > $2"
         "   AND l.expires_on < (now() AT TIME ZONE p.time_zone)::date + $1::int"
         " GROUP BY m.member_id ORDER BY m.member_id LIMIT $3",
  .n_params = 3,
};

static grpc_status_code expiry_run(rpc_ctx *ctx, const ProtobufCMessage *request,
                                   ProtobufCMessage **response)
{
  const Loyalty__V1__RunExpiryRequest *req = (const Loyalty__V1__RunExpiryRequest *)request;
  const char *as_of = handler_business_date(ctx, req->as_of);
  if (as_of == NULL)
    return ctx->status;
  Loyalty__V1__RunExpiryResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__run_expiry_response__init(out);
  out->as_of = (char *)as_of;
  const char *principal = handler_principal(ctx);
  int64_t after = 0;
  for (;;) {
    const char *params[] = {principal, as_of, handler_int64(ctx, after)};
    PGresult *r = handler_query(ctx, &stmt_expire, params);
    if (r == NULL)
      return ctx->status; /* chunks done so far stay done: a rerun finishes the job */
    int64_t done = handler_get_int64(r, 0, 1);
    after = handler_get_int64(r, 0, 0);
    out->lots += handler_get_int64(r, 0, 2);
    out->points_expired += handler_get_int64(r, 0, 3);
    handler_release(ctx, r); /* one chunk at a time: a run may take thousands */
    if (done == 0)
      break;
    out->members += done;
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code expiry_list_expiring(rpc_ctx *ctx, const ProtobufCMessage *request,
                                             ProtobufCMessage **response)
{
  const Loyalty__V1__ListExpiringPointsRequest *req =
      (const Loyalty__V1__ListExpiringPointsRequest *)request;
  if (req->within_days < 1 || req->within_days > 366)
    return handler_invalid(ctx, "within_days must be from 1 to 366");
  if (req->page_size < 0 || req->page_size > EXPIRING_PAGE_MAX)
    return handler_invalid(ctx, "page_size must be from 0 (default 100) to 1000");
  int64_t after = 0;
  if (req->page_token[0] != '\0') {
    char *end;
    after = strtoll(req->page_token, &end, 10);
    if (*end != '\0' || after <= 0)
      return handler_invalid(ctx, "page_token is not one this server gave");
  }
  int page_size = req->page_size ? req->page_size : EXPIRING_PAGE_DEFAULT;
  const char *params[] = {handler_int64(ctx, req->within_days), handler_int64(ctx, after),
                          handler_int64(ctx, page_size + 1)};
  PGresult *r = handler_query(ctx, &stmt_expiring, params);
  if (r == NULL)
    return ctx->status;
  int rows = PQntuples(r);
  int n = rows > page_size ? page_size : rows;
  Loyalty__V1__ListExpiringPointsResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__list_expiring_points_response__init(out);
  out->n_members = (size_t)n;
  out->members = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof *out->members);
  for (int i = 0; i < n; i++) {
    Loyalty__V1__ExpiringMember *m = arena_alloc(ctx->arena, sizeof *m);
    loyalty__v1__expiring_member__init(m);
    m->member_id = handler_get_int64(r, i, 0);
    m->phone = handler_get_text(ctx, r, i, 1);
    m->name = handler_get_text(ctx, r, i, 2);
    m->points = handler_get_int64(r, i, 3);
    m->first_expires_on = handler_get_text(ctx, r, i, 4);
    out->members[i] = m;
  }
  if (rows > page_size)
    out->next_page_token = (char *)handler_int64(ctx, out->members[n - 1]->member_id);
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"RunExpiry", expiry_run, RPC_SLOW},
  {"ListExpiringPoints", expiry_list_expiring, RPC_SLOW},
};

const rpc_bindings expiry_methods = RPC_BINDINGS(methods);
