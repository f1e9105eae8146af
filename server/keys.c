/*
 * keys.c - Admin methods about API keys (HQ keys only): IssueStoreKey, IssueHqKey,
 * RotateKey, ListKeys, RevokeKey. A secret is shown once, when issued; only its hash is
 * stored (auth.c). Each change is recorded in the admin audit log (db/functions/keys.sql).
 *
 * INTERFACE ROUTINES
 *   keys_methods   the Admin methods bound here
 */
#include "handlers.h"
#include "services.h"
#include "validate.h"

#include <string.h>

#define ISSUED_COLUMNS "key_id, store_code, name, coalesce(" SQL_TIMESTAMP("expires_at") ", '')"

static const db_statement stmt_issue_key = {
  .name = "issue_key",
  .sql = "SELECT " ISSUED_COLUMNS " FROM loyalty_issue_key($1, $2, $3, $4, $5, $6)",
  .n_params = 6,
  .no_retry = true, /* would issue a second key */
};

static const db_statement stmt_rotate_key = {
  .name = "rotate_key",
  .sql = "SELECT " ISSUED_COLUMNS " FROM loyalty_rotate_key($1, $2, $3, $4, $5)",
  .n_params = 5,
  .no_retry = true,
};

static const db_statement stmt_list_keys = {
  .name = "list_keys",
  .sql = "SELECT k.key_id, coalesce(s.store_code, ''), k.name, " SQL_TIMESTAMP("k.created_at") ","
         " coalesce(" SQL_TIMESTAMP("k.expires_at") ", ''),"
         " coalesce(" SQL_TIMESTAMP("k.revoked_at") ", '')"
         " FROM api_keys k LEFT JOIN stores s USING (store_id)"
         " WHERE ($1 = '' OR s.store_code = $1) AND ($2 OR k.revoked_at IS NULL)"
         " ORDER BY k.created_at, k.key_id",
  .n_params = 2,
};

static const db_statement stmt_revoke_key = {
  .name = "revoke_key",
  .sql = "SELECT " SQL_TIMESTAMP("revoked_at") " FROM loyalty_revoke_key($2, $1)",
  .n_params = 2,
};

/* expires_at: empty, a date YYYY-MM-DD, or an RFC 3339 time (not PostgreSQL's "tomorrow"). */
static bool valid_expiry(const char *s)
{
  size_t n = strlen(s);
  if (n == 0)
    return true;
  char date[11];
  if (n < 10 || n > 40)
    return false;
  memcpy(date, s, 10);
  date[10] = '\0';
  return validate_date(date) && (n == 10 || s[10] == 'T' || s[10] == ' ');
}

/* Runs an issuing statement with a fresh key: its id and hash go into params[slot] and
 * params[slot + 1]. The answer carries the secret, shown this once. */
static grpc_status_code issue(rpc_ctx *ctx, const db_statement *statement, const char **params,
                              int slot, ProtobufCMessage **response)
{
  char key_id[AUTH_KEY_ID_SIZE], secret[AUTH_SECRET_SIZE], hash[AUTH_HASH_HEX_SIZE];
  if (auth_new_key(key_id, secret) != 0)
    return rpc_fail(ctx, GRPC_STATUS_INTERNAL, "random source failed");
  auth_hash_secret(secret, hash);
  params[slot] = key_id;
  params[slot + 1] = hash;
  PGresult *r = handler_query(ctx, statement, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__IssuedKey *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__issued_key__init(out);
  out->key_id = handler_get_text(ctx, r, 0, 0);
  out->store_code = handler_get_text(ctx, r, 0, 1);
  out->name = handler_get_text(ctx, r, 0, 2);
  out->expires_at = handler_get_text(ctx, r, 0, 3);
  out->secret = arena_strdup(ctx->arena, secret);
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code keys_issue_store_key(rpc_ctx *ctx, const ProtobufCMessage *request,
                                             ProtobufCMessage **response)
{
  const Loyalty__V1__IssueStoreKeyRequest *req =
      (const Loyalty__V1__IssueStoreKeyRequest *)request;
  const char *bad = validate_store_code(req->store_code);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  if (!valid_expiry(req->expires_at))
    return handler_invalid(ctx, "expires_at must be a date or an RFC 3339 time");
  /* A store key is named after its store. */
  const char *params[] = {handler_principal(ctx), NULL, NULL, req->store_code, req->store_code,
                          req->expires_at};
  return issue(ctx, &stmt_issue_key, params, 1, response);
}

static grpc_status_code keys_issue_hq_key(rpc_ctx *ctx, const ProtobufCMessage *request,
                                          ProtobufCMessage **response)
{
  const Loyalty__V1__IssueHqKeyRequest *req = (const Loyalty__V1__IssueHqKeyRequest *)request;
  if (req->operator_[0] == '\0' || !validate_text(req->operator_, 64))
    return handler_invalid(ctx, "operator must be 1-64 bytes of UTF-8 text");
  if (!valid_expiry(req->expires_at))
    return handler_invalid(ctx, "expires_at must be a date or an RFC 3339 time");
  const char *params[] = {handler_principal(ctx), NULL, NULL, NULL, req->operator_,
                          req->expires_at};
  return issue(ctx, &stmt_issue_key, params, 1, response);
}

static grpc_status_code keys_rotate(rpc_ctx *ctx, const ProtobufCMessage *request,
                                    ProtobufCMessage **response)
{
  const Loyalty__V1__RotateKeyRequest *req = (const Loyalty__V1__RotateKeyRequest *)request;
  if (req->key_id[0] == '\0' || strlen(req->key_id) >= AUTH_KEY_ID_SIZE)
    return handler_invalid(ctx, "key_id is required");
  if (!valid_expiry(req->expires_at))
    return handler_invalid(ctx, "expires_at must be a date or an RFC 3339 time");
  const char *params[] = {handler_principal(ctx), req->key_id, NULL, NULL, req->expires_at};
  return issue(ctx, &stmt_rotate_key, params, 2, response);
}

static grpc_status_code keys_list(rpc_ctx *ctx, const ProtobufCMessage *request,
                                  ProtobufCMessage **response)
{
  const Loyalty__V1__ListKeysRequest *req = (const Loyalty__V1__ListKeysRequest *)request;
  const char *params[] = {req->store_code, req->include_revoked ? "true" : "false"};
  PGresult *r = handler_query(ctx, &stmt_list_keys, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__ListKeysResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__list_keys_response__init(out);
  out->n_keys = (size_t)PQntuples(r);
  out->keys = arena_alloc(ctx->arena, (out->n_keys + 1) * sizeof *out->keys);
  for (int i = 0; i < (int)out->n_keys; i++) {
    Loyalty__V1__ApiKey *k = arena_alloc(ctx->arena, sizeof *k);
    loyalty__v1__api_key__init(k);
    k->key_id = handler_get_text(ctx, r, i, 0);
    k->store_code = handler_get_text(ctx, r, i, 1);
    k->name = handler_get_text(ctx, r, i, 2);
    k->created_at = handler_get_text(ctx, r, i, 3);
    k->expires_at = handler_get_text(ctx, r, i, 4);
    k->revoked_at = handler_get_text(ctx, r, i, 5);
    out->keys[i] = k;
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static grpc_status_code keys_revoke(rpc_ctx *ctx, const ProtobufCMessage *request,
                                    ProtobufCMessage **response)
{
  const Loyalty__V1__RevokeKeyRequest *req = (const Loyalty__V1__RevokeKeyRequest *)request;
  if (req->key_id[0] == '\0' || strlen(req->key_id) >= AUTH_KEY_ID_SIZE)
    return handler_invalid(ctx, "key_id is required");
  const char *params[] = {req->key_id, handler_principal(ctx)};
  PGresult *r = handler_query(ctx, &stmt_revoke_key, params);
  if (r == NULL)
    return ctx->status;
  if (PQntuples(r) == 0)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "key not found (%s)", req->key_id);
  auth_forget_all(); /* the revoked key must not work on the next call */
  Loyalty__V1__RevokeKeyResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__revoke_key_response__init(out);
  out->key_id = req->key_id;
  out->revoked_at = handler_get_text(ctx, r, 0, 0);
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"IssueStoreKey", keys_issue_store_key, RPC_SLOW},
  {"IssueHqKey", keys_issue_hq_key, RPC_SLOW},
  {"RotateKey", keys_rotate, RPC_SLOW},
  {"ListKeys", keys_list, RPC_SLOW},
  {"RevokeKey", keys_revoke, RPC_SLOW},
};

const rpc_bindings keys_methods = RPC_BINDINGS(methods);
