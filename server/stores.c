/*
 * stores.c - Admin methods about stores (HQ keys only): CreateStore, ListStores and
 * SetPhoneAccess (whether a store's keys see members' phones in full). Each change is
 * recorded in the admin audit log in its own transaction (loyalty_audit,
 * db/functions/audit.sql).
 *
 * INTERFACE ROUTINES
 *   stores_methods   the Admin methods bound here
 */
#include "handlers.h"
#include "services.h"
#include "validate.h"

#define STORE_COLUMNS \
  "store_code, name, channel, region, " SQL_TIMESTAMP("created_at") ", sees_full_phone"

/* Each change HQ makes is recorded in the admin audit log, in its own transaction. */
static const db_statement stmt_create_store = {
  .name = "create_store",
  .sql = "WITH s AS (INSERT INTO stores (store_code, name, channel, region)"
         "           VALUES ($1, $2, $3, $4) RETURNING *)"
         " SELECT " STORE_COLUMNS ", loyalty_audit($5, 'create_store', store_code, store_code,"
         "   format('name %s, channel %s, region %s', name, channel, region)) FROM s",
  .n_params = 5,
  .no_retry = true, /* a retry after a lost commit would say ALREADY_EXISTS */
};

static const db_statement stmt_list_stores = {
  .name = "list_stores",
  .sql = "SELECT " STORE_COLUMNS " FROM stores ORDER BY store_code",
  .n_params = 0,
};

static const db_statement stmt_set_phone_access = {
  .name = "set_phone_access",
  .sql = "WITH s AS (UPDATE stores SET sees_full_phone = $2 WHERE store_code = $1 RETURNING *)"
         " SELECT " STORE_COLUMNS ", loyalty_audit($3, 'set_phone_access', store_code, store_code,"
         "   CASE WHEN sees_full_phone THEN 'full' ELSE 'masked' END) FROM s",
  .n_params = 3,
};

static Loyalty__V1__Store *store_from_row(rpc_ctx *ctx, const PGresult *r, int row)
{
  Loyalty__V1__Store *s = arena_alloc(ctx->arena, sizeof *s);
  loyalty__v1__store__init(s);
  s->store_code = handler_get_text(ctx, r, row, 0);
  s->name = handler_get_text(ctx, r, row, 1);
  s->channel = (Loyalty__V1__Channel)handler_get_int64(r, row, 2);
  s->region = handler_get_text(ctx, r, row, 3);
  s->created_at = handler_get_text(ctx, r, row, 4);
  s->sees_full_phone = handler_get_bool(r, row, 5);
  return s;
}

static grpc_status_code stores_create(rpc_ctx *ctx, const ProtobufCMessage *request,
                                      ProtobufCMessage **response)
{
  const Loyalty__V1__CreateStoreRequest *req = (const Loyalty__V1__CreateStoreRequest *)request;
  const char *bad = validate_store_code(req->store_code);
  if (bad == NULL && (req->name[0] == '\0' || !validate_text(req->name, 100)))
    bad = "name must be 1-100 bytes of UTF-8 text";
  if (bad == NULL && (req->channel <= LOYALTY__V1__CHANNEL__CHANNEL_UNSPECIFIED ||
                      req->channel > LOYALTY__V1__CHANNEL__CHANNEL_OTHER))
    bad = "channel is required: pos, tmall, jd, wechat mini program, web or other";
  if (bad == NULL && !validate_text(req->region, 64))
    bad = "region must be at most 64 bytes of UTF-8 text";
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *params[] = {req->store_code, req->name, handler_int64(ctx, req->channel),
                          req->region, handler_principal(ctx)};
  PGresult *r = handler_query_catch(
      ctx, &stmt_create_store, params, "23505", GRPC_STATUS_ALREADY_EXISTS,
      arena_printf(ctx->arena, "store already exists (%s)", req->store_code));
  if (r == NULL)
    return ctx->status;
  *response = &store_from_row(ctx, r, 0)->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code stores_list(rpc_ctx *ctx, const ProtobufCMessage *request,
                                    ProtobufCMessage **response)
{
  (void)request;
  PGresult *r = handler_query(ctx, &stmt_list_stores, NULL);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__ListStoresResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__list_stores_response__init(out);
  out->n_stores = (size_t)PQntuples(r);
  out->stores = arena_alloc(ctx->arena, (out->n_stores + 1) * sizeof *out->stores);
  for (size_t i = 0; i < out->n_stores; i++)
    out->stores[i] = store_from_row(ctx, r, (int)i);
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code stores_set_phone_access(rpc_ctx *ctx, const ProtobufCMessage *request,
                                                ProtobufCMessage **response)
{
  const Loyalty__V1__SetPhoneAccessRequest *req =
      (const Loyalty__V1__SetPhoneAccessRequest *)request;
  const char *bad = validate_store_code(req->store_code);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *params[] = {req->store_code, req->sees_full_phone ? "true" : "false",
                          handler_principal(ctx)};
  PGresult *r = handler_query(ctx, &stmt_set_phone_access, params);
  if (r == NULL)
    return ctx->status;
  if (PQntuples(r) == 0)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "store not found (%s)", req->store_code);
  *response = &store_from_row(ctx, r, 0)->base;
  auth_forget_all(); /* the store's keys see the change on their next call */
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"CreateStore", stores_create, RPC_SLOW},
  {"ListStores", stores_list, RPC_SLOW},
  {"SetPhoneAccess", stores_set_phone_access, RPC_SLOW},
};

const rpc_bindings stores_methods = RPC_BINDINGS(methods);
