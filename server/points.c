/*
 * points.c - the methods that move or report points: Points.Earn, Redeem, Refund,
 * CancelRedemption, GetBalance (with pending points), ListTransactions, and
 * Admin.AdjustPoints (HQ's corrections, a ledger row naming the operator and the reason).
 *
 * All are fast handlers (rpc.h): each validates its request, then hands its statement to
 * the event loop. A movement is one call of its stored function (db/functions/<movement>.sql)
 * through loyalty_try_move, group-committed with others (dbloop.h).
 *
 * INTERFACE ROUTINES
 *   points_methods         the Points methods bound here
 *   points_admin_methods   the Admin method bound here (AdjustPoints)
 *   points_balance         a member's Balance, as GetBalance answers (points.h)
 */
#include "business_time.h"
#include "handlers.h"
#include "points.h"
#include "services.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

/* One row per expiry date within 90 days (or one row with NULL expiry columns). The next
 * tier follows the program's tier policy (db/functions/tiers.sql). */
static const db_statement stmt_balance = {
  .name = "balance",
  .sql = "SELECT m.balance, m.tier, m.lifetime_spend_cents, n.next_tier, n.spend_to_next_cents,"
         " to_char(e.expires_on, 'YYYY-MM-DD'), e.points, m.merged_into, m.pending_points,"
         " EXISTS (SELECT 1 FROM pending_earns pe"
         "         WHERE pe.member_id = m.member_id AND pe.state = 'pending'), m.member_id"
         " FROM members m CROSS JOIN program p"
         " CROSS JOIN loyalty_next_tier(m.tier, loyalty_policy_spend(m, p, now()), p) n"
         " LEFT JOIN LATERAL ("
         "   SELECT l.expires_on, sum(l.remaining) AS points FROM lots l"
         "   WHERE l.member_id = m.member_id AND l.remaining > 0"
         "     AND l.expires_on < (now() AT TIME ZONE p.time_zone)::date + 90"
         "   GROUP BY l.expires_on) e ON true"
         " WHERE m.member_id = $1 ORDER BY e.expires_on",
  .n_params = 1,
};

/* A member's pending earns (db/functions/pending.sql), what refunds left of each, by release
 * date; asked only when the member has some. */
static const db_statement stmt_pending_earns = {
  .name = "pending_earns",
  .sql = "SELECT pe.txn_id, e.order_id, coalesce(s.store_code, ''),"
         " e.pending_points + coalesce((SELECT sum(r.pending_points) FROM ledger r"
         "                              WHERE r.ref_txn_id = e.txn_id AND r.kind = 'refund'), 0),"
         " to_char(pe.release_on, 'YYYY-MM-DD')"
         " FROM pending_earns pe JOIN ledger e ON e.txn_id = pe.txn_id"
         " LEFT JOIN stores s ON s.store_id = e.store_id"
         " WHERE pe.member_id = $1 AND pe.state = 'pending' ORDER BY pe.release_on, pe.txn_id",
  .n_params = 1,
};

static const db_statement stmt_transactions = {
  .name = "transactions",
  .sql = "SELECT l.txn_id, l.kind, l.points, l.amount_cents, coalesce(s.store_code, ''),"
         " l.order_id, l.request_id, " SQL_TIMESTAMP("l.created_at") ", l.balance_after,"
         " " SQL_TIMESTAMP("l.occurred_at") ", loyalty_late(l.created_at, l.occurred_at, l.request_id),"
         " l.pending_points, coalesce(to_char(pe.release_on, 'YYYY-MM-DD'), '')"
         " FROM ledger l LEFT JOIN stores s ON s.store_id = l.store_id"
         " LEFT JOIN pending_earns pe ON pe.txn_id = l.txn_id"
         " WHERE l.member_id IN (SELECT $1 UNION ALL"  /* with the members merged into it */
         "                       SELECT member_id FROM members WHERE merged_into = $1)"
         "   AND l.txn_id < $2 ORDER BY l.txn_id DESC LIMIT $3",
  .n_params = 3,
};


/* occurred_at as the stored functions take it: NULL when empty (now), else the time in UTC
 * to the microsecond (validated: validate_occurred_at). */
static const char *occurred_at_param(rpc_ctx *ctx, const char *occurred_at)
{
  int64_t t;
  if (occurred_at[0] == '\0' || business_time_parse(occurred_at, &t) != 0)
    return NULL;
  char *text = arena_alloc(ctx->arena, BUSINESS_TIME_TEXT);
  business_time_format(t, text);
  return text;
}

#define PAGE_SIZE_DEFAULT 50
#define PAGE_SIZE_MAX 500

/* A movement's row (dbloop.h) as its PointsResult. */
static grpc_status_code moved(rpc_ctx *ctx, const PGresult *r, int row, ProtobufCMessage **response)
{
  Loyalty__V1__PointsResult *result = handler_points_result(ctx, r, row);
  *response = &result->base;
  return GRPC_STATUS_OK;
}

/* An earn's row: the PointsResult with the earn's reason and pending points. */
static grpc_status_code earned(rpc_ctx *ctx, const PGresult *r, int row,
                               ProtobufCMessage **response)
{
  Loyalty__V1__PointsResult *result = handler_points_result(ctx, r, row);
  result->explanation = handler_get_text(ctx, r, row, 6);
  result->pending_points = handler_get_int64(r, row, 7);
  result->release_on = handler_get_text(ctx, r, row, 8); /* "" when not pending */
  *response = &result->base;
  return GRPC_STATUS_OK;
}

/* Hands the movement kind of w's member, with its parameters, to the event loop. */
static grpc_status_code move_points(rpc_ctx *ctx, const char *kind, const write_start *w,
                                    const char *const *params, int n_params, rpc_then then)
{
  return rpc_move(ctx, kind, strtoll(w->member_id, NULL, 10), params, n_params, then);
}

static grpc_status_code points_earn(rpc_ctx *ctx, const ProtobufCMessage *request,
                                    ProtobufCMessage **response)
{
  const Loyalty__V1__EarnRequest *req = (const Loyalty__V1__EarnRequest *)request;
  write_start w;
  if (handler_begin_write(ctx, request, req->store_code, req->request_id, req->member_id,
                          WRITE_MEMBER_REQUIRED, &w) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = validate_order_id(req->order_id, true);
  if (bad == NULL)
    bad = validate_amount_cents(req->amount_cents);
  if (bad == NULL && w.store[0] == '\0')
    bad = "store_code is required: an earn happens at a store";
  if (bad == NULL)
    bad = validate_occurred_at(req->occurred_at);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *params[EARN_N_PARAMS] = {
    [EARN_PRINCIPAL] = w.principal,
    [EARN_STORE_CODE] = w.store,
    [EARN_REQUEST_ID] = w.request_id,
    [EARN_HASH] = w.hash,
    [EARN_MEMBER_ID] = w.member_id,
    [EARN_ORDER_ID] = req->order_id,
    [EARN_AMOUNT_CENTS] = handler_int64(ctx, req->amount_cents),
    [EARN_OCCURRED_AT] = occurred_at_param(ctx, req->occurred_at),
  };
  (void)response;
  return move_points(ctx, "earn", &w, params, EARN_N_PARAMS, earned);
}

static grpc_status_code points_redeem(rpc_ctx *ctx, const ProtobufCMessage *request,
                                      ProtobufCMessage **response)
{
  const Loyalty__V1__RedeemRequest *req = (const Loyalty__V1__RedeemRequest *)request;
  write_start w;
  if (handler_begin_write(ctx, request, req->store_code, req->request_id, req->member_id,
                          WRITE_MEMBER_REQUIRED, &w) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = validate_points(req->points);
  if (bad == NULL)
    bad = validate_order_id(req->order_id, false);
  if (bad == NULL)
    bad = validate_reason(req->reason);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *params[] = {
    w.principal, w.store, w.request_id, w.hash, w.member_id,
    handler_int64(ctx, req->points), req->order_id, req->reason,
  };
  (void)response;
  return move_points(ctx, "redeem", &w, params, 8, moved);
}

static grpc_status_code points_refund(rpc_ctx *ctx, const ProtobufCMessage *request,
                                      ProtobufCMessage **response)
{
  const Loyalty__V1__RefundRequest *req = (const Loyalty__V1__RefundRequest *)request;
  write_start w;
  if (handler_begin_write(ctx, request, req->store_code, req->request_id, req->member_id,
                          WRITE_MEMBER_REQUIRED, &w) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = validate_amount_cents(req->amount_cents);
  if (bad == NULL && req->original_case == LOYALTY__V1__REFUND_REQUEST__ORIGINAL_ORDER_ID)
    bad = validate_order_id(req->order_id, true);
  if (bad == NULL && req->original_case == LOYALTY__V1__REFUND_REQUEST__ORIGINAL__NOT_SET)
    bad = "the original purchase is required: transaction_id or order_id";
  if (bad == NULL && req->original_store_code[0] != '\0')
    bad = validate_store_code(req->original_store_code);
  if (bad == NULL)
    bad = validate_occurred_at(req->occurred_at);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  bool by_txn = req->original_case == LOYALTY__V1__REFUND_REQUEST__ORIGINAL_TRANSACTION_ID;
  const char *params[] = {
    w.principal, w.store, w.request_id, w.hash, w.member_id,
    by_txn ? handler_int64(ctx, req->transaction_id) : NULL,
    by_txn ? NULL : req->order_id,
    req->original_store_code,
    handler_int64(ctx, req->amount_cents),
    occurred_at_param(ctx, req->occurred_at),
  };
  (void)response;
  return move_points(ctx, "refund", &w, params, 10, moved);
}

static grpc_status_code points_cancel_redemption(rpc_ctx *ctx, const ProtobufCMessage *request,
                                                 ProtobufCMessage **response)
{
  const Loyalty__V1__CancelRedemptionRequest *req =
      (const Loyalty__V1__CancelRedemptionRequest *)request;
  write_start w;
  if (handler_begin_write(ctx, request, req->store_code, req->request_id, req->member_id,
                          WRITE_MEMBER_REQUIRED, &w) != GRPC_STATUS_OK)
    return ctx->status;
  if (req->redemption_id <= 0)
    return handler_invalid(ctx, "redemption_id is required");
  const char *params[] = {
    w.principal, w.store, w.request_id, w.hash, w.member_id,
    handler_int64(ctx, req->redemption_id),
  };
  (void)response;
  return move_points(ctx, "cancel_redemption", &w, params, 6, moved);
}

/* The pending earns of a Balance (the response so far). */
static grpc_status_code balance_pending(rpc_ctx *ctx, const PGresult *r, int row,
                                        ProtobufCMessage **response)
{
  (void)row;
  Loyalty__V1__Balance *b = (Loyalty__V1__Balance *)*response;
  int rows = PQntuples(r);
  b->n_pending = (size_t)rows;
  b->pending = arena_alloc(ctx->arena, (size_t)(rows ? rows : 1) * sizeof *b->pending);
  for (int i = 0; i < rows; i++) {
    Loyalty__V1__PendingEarn *p = arena_alloc(ctx->arena, sizeof *p);
    loyalty__v1__pending_earn__init(p);
    p->transaction_id = handler_get_int64(r, i, 0);
    p->order_id = handler_get_text(ctx, r, i, 1);
    p->store_code = handler_get_text(ctx, r, i, 2);
    p->points = handler_get_int64(r, i, 3);
    p->release_on = handler_get_text(ctx, r, i, 4);
    b->pending[i] = p;
  }
  return GRPC_STATUS_OK;
}

/* The Balance of stmt_balance's rows; then its pending earns, if it has some. */
static grpc_status_code balance_read(rpc_ctx *ctx, const PGresult *r, int row,
                                     ProtobufCMessage **response)
{
  (void)row;
  int rows = PQntuples(r);
  if (rows == 0)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "member not found");
  if (!PQgetisnull(r, 0, 7))
    return rpc_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "member was merged (into member %s)",
                    PQgetvalue(r, 0, 7));
  Loyalty__V1__Balance *b = arena_alloc(ctx->arena, sizeof *b);
  loyalty__v1__balance__init(b);
  b->member_id = handler_get_int64(r, 0, 10);
  b->balance = handler_get_int64(r, 0, 0);
  b->tier = (Loyalty__V1__Tier)handler_get_int64(r, 0, 1);
  b->lifetime_spend_cents = handler_get_int64(r, 0, 2);
  b->next_tier = (Loyalty__V1__Tier)handler_get_int64(r, 0, 3);
  b->spend_to_next_tier_cents = handler_get_int64(r, 0, 4);
  if (!PQgetisnull(r, 0, 5)) {
    b->n_expiring = (size_t)rows;
    b->expiring = arena_alloc(ctx->arena, (size_t)rows * sizeof *b->expiring);
    for (int i = 0; i < rows; i++) {
      Loyalty__V1__ExpiringPoints *e = arena_alloc(ctx->arena, sizeof *e);
      loyalty__v1__expiring_points__init(e);
      e->expires_on = handler_get_text(ctx, r, i, 5);
      e->points = handler_get_int64(r, i, 6);
      b->expiring[i] = e;
    }
  }
  b->pending_points = handler_get_int64(r, 0, 8);
  *response = &b->base;
  if (!handler_get_bool(r, 0, 9))
    return GRPC_STATUS_OK;
  const char *params[] = {handler_int64(ctx, b->member_id)};
  return rpc_read(ctx, &stmt_pending_earns, params, balance_pending);
}

grpc_status_code points_balance(rpc_ctx *ctx, int64_t member_id, ProtobufCMessage **response)
{
  (void)response;
  if (member_id <= 0)
    return handler_invalid(ctx, "member_id is required");
  const char *params[] = {handler_int64(ctx, member_id)};
  return rpc_read(ctx, &stmt_balance, params, balance_read);
}

static grpc_status_code points_get_balance(rpc_ctx *ctx, const ProtobufCMessage *request,
                                           ProtobufCMessage **response)
{
  const Loyalty__V1__GetBalanceRequest *req = (const Loyalty__V1__GetBalanceRequest *)request;
  return points_balance(ctx, req->member_id, response);
}

/* The page token is the transaction_id the next page starts below. */
static int parse_page_token(const char *token, int64_t *before)
{
  if (token[0] == '\0') {
    *before = INT64_MAX;
    return 0;
  }
  char *end;
  long long v = strtoll(token, &end, 10);
  if (*end != '\0' || v <= 0 || strlen(token) > 19)
    return -1;
  *before = v;
  return 0;
}

/* ListTransactions' page size and start, from its request; -1 (the status set) if bad. */
static int transactions_page(rpc_ctx *ctx, const Loyalty__V1__ListTransactionsRequest *req,
                             int *page_size, int64_t *before)
{
  if (req->member_id <= 0)
    return handler_invalid(ctx, "member_id is required"), -1;
  if (req->page_size < 0 || req->page_size > PAGE_SIZE_MAX)
    return handler_invalid(ctx, "page_size must be from 0 (default 50) to 500"), -1;
  if (parse_page_token(req->page_token, before) != 0)
    return handler_invalid(ctx, "page_token is not one this server gave"), -1;
  *page_size = req->page_size ? req->page_size : PAGE_SIZE_DEFAULT;
  return 0;
}

/* An empty first page: is there such a member at all? */
static grpc_status_code transactions_none(rpc_ctx *ctx, const PGresult *r, int row,
                                          ProtobufCMessage **response)
{
  (void)row;
  (void)response; /* the empty page, already made */
  if (PQntuples(r) == 0)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "member not found");
  return GRPC_STATUS_OK;
}

static grpc_status_code transactions_read(rpc_ctx *ctx, const PGresult *r, int row,
                                          ProtobufCMessage **response)
{
  (void)row;
  const Loyalty__V1__ListTransactionsRequest *req =
      (const Loyalty__V1__ListTransactionsRequest *)ctx->request;
  int page_size;
  int64_t before;
  if (transactions_page(ctx, req, &page_size, &before) != 0)
    return ctx->status;
  int rows = PQntuples(r);
  Loyalty__V1__ListTransactionsResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__list_transactions_response__init(out);
  int n = rows > page_size ? page_size : rows;
  out->n_transactions = (size_t)n;
  out->transactions = arena_alloc(ctx->arena, (size_t)(n ? n : 1) * sizeof *out->transactions);
  for (int i = 0; i < n; i++) {
    Loyalty__V1__Transaction *t = arena_alloc(ctx->arena, sizeof *t);
    loyalty__v1__transaction__init(t);
    t->transaction_id = handler_get_int64(r, i, 0);
    t->kind = handler_get_text(ctx, r, i, 1);
    t->points = handler_get_int64(r, i, 2);
    t->amount_cents = handler_get_int64(r, i, 3);
    t->store_code = handler_get_text(ctx, r, i, 4);
    t->order_id = handler_get_text(ctx, r, i, 5);
    t->request_id = handler_get_text(ctx, r, i, 6);
    t->created_at = handler_get_text(ctx, r, i, 7);
    t->balance_after = handler_get_int64(r, i, 8);
    t->occurred_at = handler_get_text(ctx, r, i, 9);
    t->late = handler_get_bool(r, i, 10);
    t->pending_points = handler_get_int64(r, i, 11);
    t->release_on = handler_get_text(ctx, r, i, 12);
    out->transactions[i] = t;
  }
  if (rows > page_size)
    out->next_page_token = (char *)handler_int64(ctx, out->transactions[n - 1]->transaction_id);
  *response = &out->base;
  if (rows > 0 || before != INT64_MAX)
    return GRPC_STATUS_OK;
  const char *params[] = {handler_int64(ctx, req->member_id)};
  return rpc_read(ctx, &stmt_member_exists, params, transactions_none);
}

static grpc_status_code points_list_transactions(rpc_ctx *ctx, const ProtobufCMessage *request,
                                                 ProtobufCMessage **response)
{
  (void)response;
  const Loyalty__V1__ListTransactionsRequest *req =
      (const Loyalty__V1__ListTransactionsRequest *)request;
  int page_size;
  int64_t before;
  if (transactions_page(ctx, req, &page_size, &before) != 0)
    return ctx->status;
  /* One more row than the page says whether there is a next page. */
  const char *params[] = {handler_int64(ctx, req->member_id), handler_int64(ctx, before),
                          handler_int64(ctx, page_size + 1)};
  return rpc_read(ctx, &stmt_transactions, params, transactions_read);
}

static grpc_status_code points_adjust(rpc_ctx *ctx, const ProtobufCMessage *request,
                                      ProtobufCMessage **response)
{
  const Loyalty__V1__AdjustPointsRequest *req = (const Loyalty__V1__AdjustPointsRequest *)request;
  write_start w;
  if (handler_begin_write(ctx, request, req->store_code, req->request_id, req->member_id,
                          WRITE_MEMBER_UNCHECKED, &w) != GRPC_STATUS_OK)
    return ctx->status;
  const char *bad = NULL;
  if (req->points == 0 || req->points > VALIDATE_MAX_POINTS || req->points < -VALIDATE_MAX_POINTS)
    bad = "points must be non-zero, at most 1000000000 either way";
  if (bad == NULL && req->reason[0] == '\0')
    bad = "reason is required";
  if (bad == NULL)
    bad = validate_reason(req->reason);
  if (bad != NULL)
    return handler_invalid(ctx, bad);
  const char *params[] = {
    w.principal, w.store, w.request_id, w.hash, w.member_id, handler_int64(ctx, req->points),
    req->reason,
  };
  (void)response;
  return move_points(ctx, "adjust", &w, params, 7, moved);
}

static const rpc_method_binding methods[] = {
  {"Earn", points_earn, RPC_FAST},
  {"Redeem", points_redeem, RPC_FAST},
  {"Refund", points_refund, RPC_FAST},
  {"CancelRedemption", points_cancel_redemption, RPC_FAST},
  {"GetBalance", points_get_balance, RPC_FAST},
  {"ListTransactions", points_list_transactions, RPC_FAST},
};

const rpc_bindings points_methods = RPC_BINDINGS(methods);

static const rpc_method_binding admin_methods[] = {
  {"AdjustPoints", points_adjust, RPC_FAST},
};

const rpc_bindings points_admin_methods = RPC_BINDINGS(admin_methods);
