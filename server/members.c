/*
 * members.c - Points methods about members: EnrollMember, GetMember, LinkIdentity,
 * SetBirthday, and the member lookups they answer with (by id, phone or identity; the phone
 * masked for store keys that may not see it in full). Enrolment, identities and birthdays
 * are db/functions/members.sql.
 *
 * INTERFACE ROUTINES
 *   members_methods   the Points methods bound here
 */
#include "handlers.h"
#include "phone_mask.h"
#include "services.h"
#include "validate.h"

#include <string.h>
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

/* One row per identity (or one row with NULL identity columns). */
#define MEMBER_SELECT                                                                     \
  "SELECT m.member_id, coalesce(m.phone, ''), m.name,"                                    \
  " coalesce(to_char(m.birthday, 'YYYY-MM-DD'), ''), m.tier, m.balance,"                  \
  " m.lifetime_spend_cents, coalesce(s.store_code, ''), " SQL_TIMESTAMP("m.created_at") "," \
  " i.kind, i.value, m.merged_into"                                                       \
  " FROM members m LEFT JOIN stores s ON s.store_id = m.enrolled_store_id"                \
  " LEFT JOIN identities i ON i.member_id = m.member_id "
#define MEMBER_ORDER " ORDER BY i.linked_at, i.kind, i.value"

static const db_statement stmt_member_by_id = {
  .name = "member_by_id",
  .sql = MEMBER_SELECT "WHERE m.member_id = $1" MEMBER_ORDER,
  .n_params = 1,
};

static const db_statement stmt_member_by_phone = {
  .name = "member_by_phone",
  .sql = MEMBER_SELECT "WHERE m.phone = $1" MEMBER_ORDER,
  .n_params = 1,
};

static const db_statement stmt_member_by_identity = {
  .name = "member_by_identity",
  .sql = MEMBER_SELECT
  "WHERE m.member_id = (SELECT member_id FROM identities WHERE kind = $1 AND value = $2)"
  MEMBER_ORDER,
  .n_params = 2,
};

/* The Member that statement (one of the stmt_member_by_*) finds with values; NOT_FOUND if
 * none, FAILED_PRECONDITION if it was merged. */
static grpc_status_code member_by(rpc_ctx *ctx, const db_statement *statement,
                                  const char *const *values, Loyalty__V1__Member **member)
{
  PGresult *r = handler_query(ctx, statement, values);
  if (r == NULL)
    return ctx->status;
  int rows = PQntuples(r);
  if (rows == 0)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "member not found");
  if (!PQgetisnull(r, 0, 11))
    return rpc_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "member was merged (into member %s)",
                    PQgetvalue(r, 0, 11));
  Loyalty__V1__Member *m = arena_alloc(ctx->arena, sizeof *m);
  loyalty__v1__member__init(m);
  m->member_id = handler_get_int64(r, 0, 0);
  m->phone = handler_get_text(ctx, r, 0, 1);
  if (!ctx->who.sees_full_phone)
    phone_mask(PQgetvalue(r, 0, 1), m->phone, strlen(m->phone) + 1);
  m->name = handler_get_text(ctx, r, 0, 2);
  m->birthday = handler_get_text(ctx, r, 0, 3);
  m->tier = (Loyalty__V1__Tier)handler_get_int64(r, 0, 4);
  m->balance = handler_get_int64(r, 0, 5);
  m->lifetime_spend_cents = handler_get_int64(r, 0, 6);
  m->enrolled_store = handler_get_text(ctx, r, 0, 7);
  m->created_at = handler_get_text(ctx, r, 0, 8);
  if (!PQgetisnull(r, 0, 9)) {
    m->n_identities = (size_t)rows;
    m->identities = arena_alloc(ctx->arena, (size_t)rows * sizeof *m->identities);
    for (int i = 0; i < rows; i++) {
      Loyalty__V1__Identity *id = arena_alloc(ctx->arena, sizeof *id);
      loyalty__v1__identity__init(id);
      id->kind = handler_get_text(ctx, r, i, 9);
      id->value = handler_get_text(ctx, r, i, 10);
      m->identities[i] = id;
    }
  }
  *member = m;
  return GRPC_STATUS_OK;
}

static grpc_status_code members_enroll(rpc_ctx *ctx, const ProtobufCMessage *request,
                                       ProtobufCMessage **response)
{
  const Loyalty__V1__EnrollMemberRequest *req = (const Loyalty__V1__EnrollMemberRequest *)request;
  write_start w;
  if (handler_begin_write(ctx, request, req->store_code, req->request_id, 0, WRITE_NO_MEMBER,
                          &w) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = NULL;
  if (req->phone[0] == '\0' && req->n_identities == 0)
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
    w.principal, w.store, w.request_id, w.hash, req->phone, req->name, req->birthday[0] ? req->birthday : NULL,
    handler_text_array(ctx, kinds, req->n_identities),
    handler_text_array(ctx, values, req->n_identities),
  };
  PGresult *r = handler_query(ctx, &stmt_enroll, params);
  if (r == NULL)
    return ctx->status;
  const char *member_id[] = {handler_get_text(ctx, r, 0, 0)};
  return member_by(ctx, &stmt_member_by_id, member_id,
                           (Loyalty__V1__Member **)response);
}

static grpc_status_code members_get(rpc_ctx *ctx, const ProtobufCMessage *request,
                                    ProtobufCMessage **response)
{
  const Loyalty__V1__GetMemberRequest *req = (const Loyalty__V1__GetMemberRequest *)request;
  Loyalty__V1__Member **member = (Loyalty__V1__Member **)response;
  switch (req->key_case) {
  case LOYALTY__V1__GET_MEMBER_REQUEST__KEY_MEMBER_ID: {
    const char *params[] = {handler_int64(ctx, req->member_id)};
    return member_by(ctx, &stmt_member_by_id, params, member);
  }
  case LOYALTY__V1__GET_MEMBER_REQUEST__KEY_PHONE: {
    const char *bad = validate_phone(req->phone);
    if (bad != NULL)
      return handler_invalid(ctx, bad);
    const char *params[] = {req->phone};
    return member_by(ctx, &stmt_member_by_phone, params, member);
  }
  case LOYALTY__V1__GET_MEMBER_REQUEST__KEY_IDENTITY: {
    const char *bad = validate_identity(req->identity->kind, req->identity->value);
    if (bad != NULL)
      return handler_invalid(ctx, bad);
    const char *params[] = {req->identity->kind, req->identity->value};
    return member_by(ctx, &stmt_member_by_identity, params, member);
  }
  default:
    return handler_invalid(ctx, "one of member_id, phone or identity is required");
  }
}

static grpc_status_code members_link_identity(rpc_ctx *ctx, const ProtobufCMessage *request,
                                              ProtobufCMessage **response)
{
  const Loyalty__V1__LinkIdentityRequest *req = (const Loyalty__V1__LinkIdentityRequest *)request;
  write_start w;
  if (handler_begin_write(ctx, request, req->store_code, req->request_id, req->member_id,
                          WRITE_MEMBER_UNCHECKED, &w) != GRPC_STATUS_OK)
    return ctx->status;
  if (req->identity == NULL)
    return handler_invalid(ctx, "identity is required");
  const char *bad = validate_identity(req->identity->kind, req->identity->value);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *params[] = {
    w.principal, w.store, w.request_id, w.hash, w.member_id, req->identity->kind,
    req->identity->value,
  };
  PGresult *r = handler_query(ctx, &stmt_link_identity, params);
  if (r == NULL)
    return ctx->status;
  const char *by_id[] = {w.member_id};
  return member_by(ctx, &stmt_member_by_id, by_id, (Loyalty__V1__Member **)response);
}

static grpc_status_code members_set_birthday(rpc_ctx *ctx, const ProtobufCMessage *request,
                                             ProtobufCMessage **response)
{
  const Loyalty__V1__SetBirthdayRequest *req = (const Loyalty__V1__SetBirthdayRequest *)request;
  write_start w;
  if (handler_begin_write(ctx, request, req->store_code, req->request_id, req->member_id,
                          WRITE_MEMBER_UNCHECKED, &w) != GRPC_STATUS_OK)
    return ctx->status;
  if (req->birthday[0] == '\0')
    return handler_invalid(ctx, "birthday is required");
  const char *bad = validate_birthday(req->birthday, time(NULL));
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *params[] = {
    w.principal, w.store, w.request_id, w.hash, w.member_id, req->birthday,
    ctx->who.is_hq ? "true" : "false",
  };
  PGresult *r = handler_query(ctx, &stmt_set_birthday, params);
  if (r == NULL)
    return ctx->status;
  const char *by_id[] = {w.member_id};
  return member_by(ctx, &stmt_member_by_id, by_id, (Loyalty__V1__Member **)response);
}

static const rpc_method_binding methods[] = {
  {"EnrollMember", members_enroll, RPC_SLOW},
  {"GetMember", members_get, RPC_SLOW},
  {"LinkIdentity", members_link_identity, RPC_SLOW},
  {"SetBirthday", members_set_birthday, RPC_SLOW},
};

const rpc_bindings members_methods = RPC_BINDINGS(methods);
