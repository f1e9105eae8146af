/*
 * audit.c - Admin.VerifyAudit: proves the ledger was not changed behind the service's back.
 *
 * Each member's ledger rows form a hash chain (row_hash = SHA-256(prev_hash || canonical
 * row), written by the stored functions). Here every chain is recomputed with OpenSSL from
 * the rows as they are now, in one REPEATABLE READ snapshot, reading the ledger in pages in
 * (member_id, txn_id) order. A row whose content was edited no longer matches its hash; a
 * deleted or reordered row breaks the link of the row after it; a deleted last row leaves
 * the member's chain head (members.ledger_head) pointing at nothing. The admin audit log's
 * chain is checked the same way. Also checked: every balance equals its ledger sum, so do
 * its pending points (pending.sql), and the member's lots hold max(balance, 0).
 *
 * INTERFACE ROUTINES
 *   audit_methods   the Admin method bound here
 */
#include <openssl/evp.h>
#include <string.h>

#include "handlers.h"
#include "services.h"

#define AUDIT_PAGE_ROWS "5000"
#define AUDIT_MAX_PROBLEMS 1000

static const db_statement stmt_begin = {
  .name = "audit_begin", .sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"};
static const db_statement stmt_commit = {.name = "audit_commit", .sql = "COMMIT"};
static const db_statement stmt_rollback = {.name = "audit_rollback", .sql = "ROLLBACK"};

static const db_statement stmt_page = {
  .name = "audit_page",
  .sql = "SELECT l.member_id, l.txn_id, l.prev_hash, l.row_hash, coalesce(m.ledger_head, ''),"
         " loyalty_ledger_canonical(l)"
         " FROM ledger l JOIN members m USING (member_id)"
         " WHERE (l.member_id, l.txn_id) > ($1, $2)"
         " ORDER BY l.member_id, l.txn_id LIMIT " AUDIT_PAGE_ROWS,
  .n_params = 2,
};

static const db_statement stmt_totals = {
  .name = "audit_totals",
  .sql = "SELECT m.member_id, format('balance %s, ledger sum %s, lots %s, pending %s,"
         "   ledger pending sum %s', m.balance, coalesce(l.total, 0), coalesce(t.remaining, 0),"
         "   m.pending_points, coalesce(l.pending, 0))"
         " FROM members m"
         " LEFT JOIN (SELECT member_id, sum(points) AS total, sum(pending_points) AS pending"
         "            FROM ledger GROUP BY 1) l"
         "   USING (member_id)"
         " LEFT JOIN (SELECT member_id, sum(remaining) AS remaining FROM lots GROUP BY 1) t"
         "   USING (member_id)"
         " WHERE m.balance <> coalesce(l.total, 0)"
         "    OR m.pending_points <> coalesce(l.pending, 0)"
         "    OR greatest(m.balance, 0) <> coalesce(t.remaining, 0)"
         "    OR (m.ledger_head IS NOT NULL AND l.total IS NULL)"
         " ORDER BY m.member_id",
};

static const db_statement stmt_admin_page = {
  .name = "audit_admin_page",
  .sql = "SELECT a.audit_id, a.prev_hash, a.row_hash,"
         " loyalty_audit_canonical(a)"
         " FROM admin_audit a WHERE a.audit_id > $1 ORDER BY a.audit_id LIMIT " AUDIT_PAGE_ROWS,
  .n_params = 1,
};

static const db_statement stmt_admin_head = {
  .name = "audit_admin_head", .sql = "SELECT head FROM admin_audit_head"};

static const db_statement stmt_count_members = {
  .name = "audit_count_members", .sql = "SELECT count(*) FROM members"};

typedef struct audit {
  rpc_ctx *ctx;
  Loyalty__V1__VerifyAuditResponse *out;
  size_t capacity;
  int64_t broken_member; /* the member whose chain already broke: report it once */
} audit;

static void report(audit *a, int64_t member_id, int64_t txn_id, const char *problem)
{
  if (member_id == a->broken_member || a->out->n_problems >= AUDIT_MAX_PROBLEMS)
    return;
  a->broken_member = member_id;
  if (a->out->n_problems == a->capacity) {
    size_t bigger = a->capacity ? 2 * a->capacity : 16;
    Loyalty__V1__AuditProblem **p = arena_alloc(a->ctx->arena, bigger * sizeof *p);
    if (a->capacity)
      memcpy(p, a->out->problems, a->capacity * sizeof *p);
    a->out->problems = p;
    a->capacity = bigger;
  }
  Loyalty__V1__AuditProblem *p = arena_alloc(a->ctx->arena, sizeof *p);
  loyalty__v1__audit_problem__init(p);
  p->member_id = member_id;
  p->transaction_id = txn_id;
  p->problem = arena_strdup(a->ctx->arena, problem);
  a->out->problems[a->out->n_problems++] = p;
}

/* A bytea column in text form ("\x0a1b...") into bytes; returns the length. */
static size_t unhex(const char *text, unsigned char *out, size_t size)
{
  size_t n = 0;
  if (strncmp(text, "\\x", 2) != 0)
    return 0;
  for (const char *p = text + 2; p[0] && p[1] && n < size; p += 2) {
    char byte[3] = {p[0], p[1], 0};
    out[n++] = (unsigned char)strtoul(byte, NULL, 16);
  }
  return n;
}

/* SHA-256(prev || canonical) == stored? */
static bool hash_matches(const unsigned char *prev, size_t prev_len, const unsigned char *canonical,
                         size_t canonical_len, const unsigned char *stored, size_t stored_len)
{
  unsigned char computed[32];
  unsigned int n = 0;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  EVP_DigestUpdate(md, prev, prev_len);
  EVP_DigestUpdate(md, canonical, canonical_len);
  EVP_DigestFinal_ex(md, computed, &n);
  EVP_MD_CTX_free(md);
  return stored_len == sizeof computed && memcmp(computed, stored, sizeof computed) == 0;
}

/* Where the walk through the chains is. */
typedef struct chain {
  int64_t member_id;     /* 0 before the first row */
  int64_t last_txn;
  unsigned char prev[32]; /* row_hash of the member's last row seen */
  size_t prev_len;
  unsigned char head[32]; /* members.ledger_head of the member */
  size_t head_len;
} chain;

/* At the end of a member's rows: the last one must be the chain head. */
static void finish_member(audit *a, const chain *c)
{
  if (c->member_id != 0 && (c->head_len != c->prev_len || memcmp(c->head, c->prev, c->prev_len) != 0))
    report(a, c->member_id, c->last_txn, "chain head mismatch: rows after this one were removed");
}

/* Checks the next page of rows after c's position; returns how many, or -1 when a query
 * failed (the call's status is set). */
static int check_page(audit *a, chain *c)
{
  const char *params[] = {handler_int64(a->ctx, c->member_id), handler_int64(a->ctx, c->last_txn)};
  PGresult *r = handler_query(a->ctx, &stmt_page, params);
  if (r == NULL)
    return -1;
  int rows = PQntuples(r);
  for (int i = 0; i < rows; i++) {
    int64_t member_id = handler_get_int64(r, i, 0);
    int64_t txn_id = handler_get_int64(r, i, 1);
    unsigned char stored_prev[64], stored_hash[64], canonical[4096];
    size_t stored_prev_len = unhex(PQgetvalue(r, i, 2), stored_prev, sizeof stored_prev);
    size_t stored_hash_len = unhex(PQgetvalue(r, i, 3), stored_hash, sizeof stored_hash);
    size_t canonical_len = unhex(PQgetvalue(r, i, 5), canonical, sizeof canonical);
    if (member_id != c->member_id) { /* a new chain, which starts empty */
      finish_member(a, c);
      c->member_id = member_id;
      c->prev_len = 0;
      c->head_len = unhex(PQgetvalue(r, i, 4), c->head, sizeof c->head);
    }
    if (stored_prev_len != c->prev_len || memcmp(stored_prev, c->prev, c->prev_len) != 0)
      report(a, member_id, txn_id, "chain broken: a row before this one was removed or moved");
    if (!hash_matches(stored_prev, stored_prev_len, canonical, canonical_len, stored_hash,
                      stored_hash_len))
      report(a, member_id, txn_id, "row changed: its content does not match its hash");
    /* The chain goes on from the hash as stored: one edited row is reported once. */
    c->prev_len = stored_hash_len < sizeof c->prev ? stored_hash_len : sizeof c->prev;
    memcpy(c->prev, stored_hash, c->prev_len);
    c->last_txn = txn_id;
    a->out->rows_checked++;
  }
  handler_release(a->ctx, r); /* one page at a time: the ledger may be large */
  return rows;
}

/* The admin audit log's single chain: reported as member 0, at the audit_id. Returns
 * GRPC_STATUS_OK, or the failure set in the call. */
static grpc_status_code check_admin_chain(audit *a)
{
  unsigned char prev[32];
  size_t prev_len = 0;
  int64_t last = 0;
  a->broken_member = -1;
  for (;;) {
    const char *params[] = {handler_int64(a->ctx, last)};
    PGresult *r = handler_query(a->ctx, &stmt_admin_page, params);
    if (r == NULL)
      return a->ctx->status;
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
      unsigned char stored_prev[64], stored_hash[64], canonical[4096];
      size_t stored_prev_len = unhex(PQgetvalue(r, i, 1), stored_prev, sizeof stored_prev);
      size_t stored_hash_len = unhex(PQgetvalue(r, i, 2), stored_hash, sizeof stored_hash);
      size_t canonical_len = unhex(PQgetvalue(r, i, 3), canonical, sizeof canonical);
      last = handler_get_int64(r, i, 0);
      if (stored_prev_len != prev_len || memcmp(stored_prev, prev, prev_len) != 0)
        report(a, 0, last, "admin audit chain broken: a row before this one was removed or moved");
      if (!hash_matches(stored_prev, stored_prev_len, canonical, canonical_len, stored_hash,
                        stored_hash_len))
        report(a, 0, last, "admin audit row changed: its content does not match its hash");
      prev_len = stored_hash_len < sizeof prev ? stored_hash_len : sizeof prev;
      memcpy(prev, stored_hash, prev_len);
      a->out->rows_checked++;
    }
    handler_release(a->ctx, r); /* one page at a time */
    if (rows == 0)
      break;
  }
  PGresult *r = handler_query(a->ctx, &stmt_admin_head, NULL);
  if (r == NULL)
    return a->ctx->status;
  unsigned char head[64];
  size_t head_len = unhex(PQgetvalue(r, 0, 0), head, sizeof head);
  if (head_len != prev_len || memcmp(head, prev, prev_len) != 0)
    report(a, 0, last, "admin audit chain head mismatch: rows after this one were removed");
  return GRPC_STATUS_OK;
}

static grpc_status_code audit_verify(rpc_ctx *ctx, const ProtobufCMessage *request,
                                     ProtobufCMessage **response)
{
  (void)request;
  Loyalty__V1__VerifyAuditResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__verify_audit_response__init(out);
  audit a = {.ctx = ctx, .out = out};
  PGresult *r = handler_query(ctx, &stmt_begin, NULL);
  if (r == NULL)
    return ctx->status;
  chain c = {0};
  int rows;
  while ((rows = check_page(&a, &c)) > 0) {
  }
  if (rows < 0)
    goto fail;
  finish_member(&a, &c);
  if (check_admin_chain(&a) != GRPC_STATUS_OK)
    goto fail;
  r = handler_query(ctx, &stmt_totals, NULL);
  if (r == NULL)
    goto fail;
  for (int i = 0; i < PQntuples(r); i++) {
    a.broken_member = 0; /* a member may have both kinds of problem: report totals too */
    report(&a, handler_get_int64(r, i, 0), 0, PQgetvalue(r, i, 1));
  }
  r = handler_query(ctx, &stmt_count_members, NULL);
  if (r == NULL)
    goto fail;
  out->members_checked = handler_get_int64(r, 0, 0);
  if (handler_query(ctx, &stmt_commit, NULL) == NULL)
    goto fail;
  out->ok = out->n_problems == 0;
  *response = &out->base;
  return GRPC_STATUS_OK;
fail: {
  /* The pooled connection must not stay inside the transaction. Not through handler_query:
   * a failure here must not replace the call's status, and the result is never read. */
  db_error ignored;
  PQclear(db_exec(ctx->db, &stmt_rollback, NULL, &ignored));
  return ctx->status;
}
}

static const rpc_method_binding methods[] = {
  {"VerifyAudit", audit_verify, RPC_SLOW},
};

const rpc_bindings audit_methods = RPC_BINDINGS(methods);
