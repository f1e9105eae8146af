/*
 * handlers.c - helpers shared by the handler files (see handlers.h).
 */
#include "handlers.h"
#include "validate.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The store a write acts for, in *code (borrowed: ctx or request memory); see
 * handler_begin_write. */
static grpc_status_code acting_store(rpc_ctx *ctx, const char *requested, const char **code)
{
  if (!ctx->who.is_hq) {
    if (requested[0] != '\0' && strcmp(requested, ctx->who.store_code) != 0)
      return rpc_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                      "a store key acts only for its own store (key of %s, request names %s)",
                      ctx->who.store_code, requested);
    *code = ctx->who.store_code;
    return GRPC_STATUS_OK;
  }
  const char *bad = requested[0] != '\0' ? validate_store_code(requested) : NULL;
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  *code = requested;
  return GRPC_STATUS_OK;
}

grpc_status_code handler_begin_write(rpc_ctx *ctx, const ProtobufCMessage *request,
                                     const char *store_code, const char *request_id,
                                     int64_t member_id, write_member check, write_start *w)
{
  const char *store = NULL;
  if (acting_store(ctx, store_code, &store) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = validate_request_id(request_id);
  if (bad == NULL && check == WRITE_MEMBER_REQUIRED && member_id <= 0)
    bad = "member_id is required";
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  w->principal = handler_principal(ctx);
  w->store = store;
  w->request_id = request_id;
  w->hash = rpc_request_hash(ctx, request);
  w->member_id = check == WRITE_NO_MEMBER ? NULL : handler_int64(ctx, member_id);
  return GRPC_STATUS_OK;
}

const char *handler_principal(rpc_ctx *ctx)
{
  if (!ctx->who.is_hq)
    return ctx->who.key_id;
  return arena_printf(ctx->arena, "%s:%s", ctx->who.key_id, ctx->who.name);
}

grpc_status_code handler_invalid(rpc_ctx *ctx, const char *why)
{
  return rpc_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s", why);
}

const char *handler_int64(rpc_ctx *ctx, int64_t v)
{
  return arena_printf(ctx->arena, "%" PRId64, v);
}

const char *handler_text_array(rpc_ctx *ctx, char *const *strings, size_t n)
{
  return db_text_array(ctx->arena, (const char *const *)strings, n);
}

/* PQclear as an arena cleanup (calling PQclear through a void (*)(void *) would be
 * undefined). */
static void clear_result(void *r) { PQclear(r); }

PGresult *handler_query_catch(rpc_ctx *ctx, const db_statement *statement,
                              const char *const *values, const char *sqlstate,
                              grpc_status_code code, const char *message)
{
  db_error err;
  if (rpc_db(ctx) == NULL)
    return NULL;
  PGresult *r = db_exec(ctx->db, statement, values, &err);
  if (r == NULL) {
    if (sqlstate != NULL && err.kind == DB_SQL && strcmp(err.sqlstate, sqlstate) == 0)
      rpc_fail(ctx, code, "%s", message);
    else
      rpc_fail_db(ctx, &err);
    return NULL;
  }
  arena_defer(ctx->arena, clear_result, r);
  return r;
}

PGresult *handler_query(rpc_ctx *ctx, const db_statement *statement, const char *const *values)
{
  return handler_query_catch(ctx, statement, values, NULL, GRPC_STATUS_OK, NULL);
}

void handler_release(rpc_ctx *ctx, PGresult *r)
{
  bool owned = arena_run_deferred(ctx->arena, clear_result, r);
  assert(owned); /* r came from handler_query on this call */
  (void)owned;
}

int64_t handler_get_int64(const PGresult *r, int row, int column)
{
  return strtoll(PQgetvalue(r, row, column), NULL, 10);
}

bool handler_get_bool(const PGresult *r, int row, int column)
{
  return PQgetvalue(r, row, column)[0] == 't';
}

char *handler_get_text(rpc_ctx *ctx, const PGresult *r, int row, int column)
{
  return arena_strdup(ctx->arena, PQgetvalue(r, row, column));
}

Loyalty__V1__PointsResult *handler_points_result(rpc_ctx *ctx, const PGresult *r, int row)
{
  Loyalty__V1__PointsResult *result = arena_alloc(ctx->arena, sizeof *result);
  loyalty__v1__points_result__init(result);
  result->transaction_id = handler_get_int64(r, row, 0);
  result->points = handler_get_int64(r, row, 1);
  result->balance = handler_get_int64(r, row, 2);
  result->tier = (Loyalty__V1__Tier)handler_get_int64(r, row, 3);
  result->tier_changed = handler_get_bool(r, row, 4);
  result->replayed = handler_get_bool(r, row, 5);
  return result;
}

const db_statement stmt_member_exists = {
  .name = "member_exists",
  .sql = "SELECT 1 FROM members WHERE member_id = $1",
  .n_params = 1,
};

grpc_status_code handler_member_exists(rpc_ctx *ctx, const char *member_id)
{
  const char *params[] = {member_id};
  PGresult *r = handler_query(ctx, &stmt_member_exists, params);
  if (r == NULL)
    return ctx->status;
  if (PQntuples(r) == 0)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "member not found");
  return GRPC_STATUS_OK;
}

static const db_statement stmt_today = {
  .name = "today",
  .sql = "SELECT to_char((now() AT TIME ZONE time_zone)::date, 'YYYY-MM-DD') FROM program"};

const char *handler_business_date(rpc_ctx *ctx, const char *as_of)
{
  if (as_of[0] != '\0') {
    if (!validate_date(as_of)) {
      handler_invalid(ctx, "as_of must be a real date as YYYY-MM-DD");
      return NULL;
    }
    return as_of;
  }
  PGresult *r = handler_query(ctx, &stmt_today, NULL);
  return r == NULL ? NULL : handler_get_text(ctx, r, 0, 0);
}
