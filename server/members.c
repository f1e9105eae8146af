/*
 * members.c - Points methods about members: EnrollMember, GetMember, LinkIdentity,
 * SetBirthday.
 */
#include "handlers.h"
#include "validate.h"

#include <time.h>

static const db_statement stmt_enroll = {
  .name = "enroll",
  .sql = "SELECT member_id FROM loyalty_enroll($1, $2, $3, $4, $5, $6, $7, $8, $9)",
  .n_params = 9,
};

static const db_statement stmt_set_birthday = {
  .name = "set_birthday",
  .sql = "SELECT loyalty_set_birthday($1, $2, $3, $4, $5, $6, $7)",
  .n_params = 7,
};

static const db_statement stmt_link_identity = {
  .name = "link_identity",
  .sql = "SELECT loyalty_link_identity($1, $2, $3, $4, $5, $6, $7)",
  .n_params = 7,
};

grpc_status_code members_enroll(rpc_ctx *ctx, const ProtobufCMessage *request,
                                ProtobufCMessage **response)
{
  const Loyalty__V1__EnrollMemberRequest *req = (const Loyalty__V1__EnrollMemberRequest *)request;
  /* Who may act for which store is settled before what the request says. */
  const char *store;
  if (handler_acting_store(ctx, req->store_code, &store) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = validate_request_id(req->request_id);
  if (bad == NULL && req->phone[0] == '\0' && req->n_identities == 0)
    bad = "phone or an identity is required";
  if (bad == NULL && req->phone[0] != '\0')
    bad = validate_phone(req->phone);
  if (bad == NULL)
    bad = validate_name(req->name);
  if (bad == NULL)
    bad = validate_birthday(req->birthday, time(NULL));
  if (bad == NULL && req->n_identities > 16)
    bad = "at most 16 identities per request";
  char **kinds = arena_alloc(ctx->arena, (req->n_identities + 1) * sizeof *kinds);
  char **values = arena_alloc(ctx->arena, (req->n_identities + 1) * sizeof *values);
  for (size_t i = 0; bad == NULL && i < req->n_identities; i++) {
    const Loyalty__V1__Identity *id = req->identities[i];
    bad = validate_identity(id->kind, id->value);
    kinds[i] = id->kind;
    values[i] = id->value;
  }
  if (bad != NULL)
    return handler_invalid(ctx, bad);

  const char *params[] = {
    handler_principal(ctx), store, req->request_id, rpc_request_hash(ctx, request), req->phone,
    req->name, req->birthday[0] ? req->birthday : NULL,
    handler_text_array(ctx, kinds, req->n_identities),
    handler_text_array(ctx, values, req->n_identities),
  };
  PGresult *r = handler_query(ctx, &stmt_enroll, params);
  if (r == NULL)
    return ctx->status;
  const char *member_id[] = {handler_get_text(ctx, r, 0, 0)};
  return handler_member_by(ctx, &stmt_member_by_id, member_id,
                           (Loyalty__V1__Member **)response);
}

grpc_status_code members_get(rpc_ctx *ctx, const ProtobufCMessage *request,
                             ProtobufCMessage **response)
{
  const Loyalty__V1__GetMemberRequest *req = (const Loyalty__V1__GetMemberRequest *)request;
  Loyalty__V1__Member **member = (Loyalty__V1__Member **)response;
  switch (req->key_case) {
  case LOYALTY__V1__GET_MEMBER_REQUEST__KEY_MEMBER_ID: {
    const char *params[] = {handler_int64(ctx, req->member_id)};
    return handler_member_by(ctx, &stmt_member_by_id, params, member);
  }
  case LOYALTY__V1__GET_MEMBER_REQUEST__KEY_PHONE: {
    const char *bad = validate_phone(req->phone);
    if (bad != NULL)
      return handler_invalid(ctx, bad);
    const char *params[] = {req->phone};
    return handler_member_by(ctx, &stmt_member_by_phone, params, member);
  }
  case LOYALTY__V1__GET_MEMBER_REQUEST__KEY_IDENTITY: {
    const char *bad = validate_identity(req->identity->kind, req->identity->value);
    if (bad != NULL)
      return handler_invalid(ctx, bad);
    const char *params[] = {req->identity->kind, req->identity->value};
    return handler_member_by(ctx, &stmt_member_by_identity, params, member);
  }
  default:
    return handler_invalid(ctx, "one of member_id, phone or identity is required");
  }
}

grpc_status_code members_link_identity(rpc_ctx *ctx, const ProtobufCMessage *request,
                                       ProtobufCMessage **response)
{
  const Loyalty__V1__LinkIdentityRequest *req = (const Loyalty__V1__LinkIdentityRequest *)request;
  /* Who may act for which store is settled before what the request says. */
  const char *store;
  if (handler_acting_store(ctx, req->store_code, &store) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = validate_request_id(req->request_id);
  if (bad == NULL && req->identity == NULL)
    bad = "identity is required";
  if (bad == NULL)
    bad = validate_identity(req->identity->kind, req->identity->value);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *member_id = handler_int64(ctx, req->member_id);
  const char *params[] = {
    handler_principal(ctx), store, req->request_id, rpc_request_hash(ctx, request),
    member_id, req->identity->kind, req->identity->value,
  };
  PGresult *r = handler_query(ctx, &stmt_link_identity, params);
  if (r == NULL)
    return ctx->status;
  const char *by_id[] = {member_id};
  return handler_member_by(ctx, &stmt_member_by_id, by_id, (Loyalty__V1__Member **)response);
}

grpc_status_code members_set_birthday(rpc_ctx *ctx, const ProtobufCMessage *request,
                                      ProtobufCMessage **response)
{
  const Loyalty__V1__SetBirthdayRequest *req = (const Loyalty__V1__SetBirthdayRequest *)request;
  /* Who may act for which store is settled before what the request says. */
  const char *store;
  if (handler_acting_store(ctx, req->store_code, &store) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = validate_request_id(req->request_id);
  if (bad == NULL && req->birthday[0] == '\0')
    bad = "birthday is required";
  if (bad == NULL)
    bad = validate_birthday(req->birthday, time(NULL));
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *member_id = handler_int64(ctx, req->member_id);
  const char *params[] = {
    handler_principal(ctx), store, req->request_id, rpc_request_hash(ctx, request), member_id,
    req->birthday, ctx->who.is_hq ? "true" : "false",
  };
  PGresult *r = handler_query(ctx, &stmt_set_birthday, params);
  if (r == NULL)
    return ctx->status;
  const char *by_id[] = {member_id};
  return handler_member_by(ctx, &stmt_member_by_id, by_id, (Loyalty__V1__Member **)response);
}
