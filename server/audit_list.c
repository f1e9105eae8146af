/*
 * audit_list.c - Admin.ListAudit: the audit trail, ledger movements and admin changes in one
 * list, newest first, filtered by member, store, principal, time range and kind, in pages.
 * A movement's `at` is when it was recorded, beside when it happened (occurred_at); --late
 * keeps the movements recorded more than an hour after they happened (loyalty_late,
 * db/functions/business_time.sql) and HQ's records of dating one beyond max_backdate_days.
 *
 * The page token is the position of the page's last entry: its time, source and id.
 *
 * INTERFACE ROUTINES
 *   audit_list_methods   the Admin method bound here
 */
#include <string.h>

#include "handlers.h"
#include "services.h"
#include "validate.h"

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX 1000
#define AUDIT_TIME_FORMAT "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"

static const db_statement stmt_list_audit = {
  .name = "list_audit",
  .sql = "SELECT source, id, to_char(at AT TIME ZONE 'UTC', " AUDIT_TIME_FORMAT "), principal,"
         " kind, member_id, store_code, subject, points, amount_cents, detail,"
         " to_char(occurred_at AT TIME ZONE 'UTC', " AUDIT_TIME_FORMAT "), late FROM ("
         "   SELECT 'ledger' AS source, l.txn_id AS id, l.created_at AS at, l.principal, l.kind,"
         "          l.member_id, coalesce(s.store_code, '') AS store_code, l.order_id AS subject,"
         "          l.points, l.amount_cents, l.reason AS detail, l.occurred_at,"
         "          loyalty_late(l.created_at, l.occurred_at, l.request_id) AS late"
         "   FROM ledger l LEFT JOIN stores s USING (store_id)"
         "   WHERE NOT $11 OR loyalty_late(l.created_at, l.occurred_at, l.request_id)"
         "   UNION ALL"
         "   SELECT 'admin', a.audit_id, a.created_at, a.principal, a.action, 0,"
         "          a.store_code, a.subject, 0, 0, a.detail, a.created_at, false"
         "   FROM admin_audit a WHERE NOT $11 OR a.action = 'backdate') e"
         " WHERE ($1 = 0 OR e.member_id = $1) AND ($2 = '' OR e.store_code = $2)"
         "   AND ($3 = '' OR starts_with(e.principal, $3))"
         "   AND ($4 = '' OR e.at >= $4::timestamptz) AND ($5 = '' OR e.at < $5::timestamptz)"
         "   AND ($6 = '' OR e.kind = $6)"
         "   AND ($7 = '' OR (e.at, e.source, e.id) < ($7::timestamptz, $8, $9::bigint))"
         " ORDER BY e.at DESC, e.source DESC, e.id DESC LIMIT $10",
  .n_params = 11,
};

/* "2026-11-23T01:02:03.456789Z|ledger|42" into its parts (pointing into a copy). */
static int parse_token(rpc_ctx *ctx, const char *token, const char **at, const char **source,
                       const char **id)
{
  char *copy = arena_strdup(ctx->arena, token);
  char *bar1 = strchr(copy, '|');
  char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
  if (bar1 == NULL || bar2 == NULL || strlen(copy) > 80)
    return -1;
  *bar1 = *bar2 = '\0';
  *at = copy;
  *source = bar1 + 1;
  *id = bar2 + 1;
  if (strcmp(*source, "ledger") != 0 && strcmp(*source, "admin") != 0)
    return -1;
  for (const char *p = *id; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
  }
  return **id ? 0 : -1;
}

static grpc_status_code audit_list(rpc_ctx *ctx, const ProtobufCMessage *request,
                                   ProtobufCMessage **response)
{
  const Loyalty__V1__ListAuditRequest *req = (const Loyalty__V1__ListAuditRequest *)request;
  if (req->page_size < 0 || req->page_size > AUDIT_PAGE_MAX)
    return handler_invalid(ctx, "page_size must be from 0 (default 100) to 1000");
  if (!validate_text(req->principal, 100) || !validate_text(req->kind, 32) ||
      !validate_text(req->since, 40) || !validate_text(req->until, 40) ||
      (req->store_code[0] && validate_store_code(req->store_code) != NULL))
    return handler_invalid(ctx, "a filter is not valid text of a sensible length");
  const char *at = "", *source = "", *id = "0";
  if (req->page_token[0] != '\0' && parse_token(ctx, req->page_token, &at, &source, &id) != 0)
    return handler_invalid(ctx, "page_token is not one this server gave");
  int page_size = req->page_size ? req->page_size : AUDIT_PAGE_DEFAULT;
  const char *params[] = {
    handler_int64(ctx, req->member_id), req->store_code, req->principal, req->since, req->until,
    req->kind, at, source, id, handler_int64(ctx, page_size + 1), req->late ? "true" : "false",
  };
  PGresult *r = handler_query(ctx, &stmt_list_audit, params);
  if (r == NULL)
    return ctx->status; /* a since/until PostgreSQL cannot read is INVALID_ARGUMENT */
  int rows = PQntuples(r);
  int n = rows > page_size ? page_size : rows;
  Loyalty__V1__ListAuditResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__list_audit_response__init(out);
  out->n_entries = (size_t)n;
  out->entries = arena_alloc(ctx->arena, (size_t)(n + 1) * sizeof *out->entries);
  for (int i = 0; i < n; i++) {
    Loyalty__V1__AuditEntry *e = arena_alloc(ctx->arena, sizeof *e);
    loyalty__v1__audit_entry__init(e);
    e->source = handler_get_text(ctx, r, i, 0);
    e->id = handler_get_int64(r, i, 1);
    e->at = handler_get_text(ctx, r, i, 2);
    e->principal = handler_get_text(ctx, r, i, 3);
    e->kind = handler_get_text(ctx, r, i, 4);
    e->member_id = handler_get_int64(r, i, 5);
    e->store_code = handler_get_text(ctx, r, i, 6);
    e->subject = handler_get_text(ctx, r, i, 7);
    e->points = handler_get_int64(r, i, 8);
    e->amount_cents = handler_get_int64(r, i, 9);
    e->detail = handler_get_text(ctx, r, i, 10);
    e->occurred_at = handler_get_text(ctx, r, i, 11);
    e->late = handler_get_bool(r, i, 12);
    out->entries[i] = e;
  }
  if (rows > page_size) {
    const Loyalty__V1__AuditEntry *last = out->entries[n - 1];
    out->next_page_token =
        arena_printf(ctx->arena, "%s|%s|%lld", last->at, last->source, (long long)last->id);
  }
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"ListAudit", audit_list, RPC_SLOW},
};

const rpc_bindings audit_list_methods = RPC_BINDINGS(methods);
