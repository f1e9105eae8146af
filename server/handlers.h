/*
 * handlers.h - helpers the handler files share (handlers.c). The services and the method
 * tables each handler file exports are in services.h.
 *
 * INTERFACE ROUTINES
 *   handler_begin_write    the preamble every write shares: acting store, request_id,
 *                          member_id; principal and request hash
 *   handler_principal      who the ledger says caused a movement
 *   handler_invalid        INVALID_ARGUMENT with a validate_* message
 *   handler_int64, handler_text_array   statement parameters in the call's arena
 *   handler_query          db_exec that turns a failure into the call's status; the result
 *                          is the call's, cleared with its arena
 *   handler_query_catch    handler_query with one SQLSTATE turned into a status of its own
 *   handler_release        clear such a result early (handlers that loop over pages)
 *   handler_get_int64, handler_get_bool, handler_get_text   a result's values
 *   handler_points_result  the PointsResult of a movement's row
 *   handler_member_exists  NOT_FOUND for an unknown member (an empty list's question)
 *   handler_business_date  a run's as_of: the date given, or today in the program's zone
 *
 * ERRORS - one convention, from a field's check to the call's status:
 *   validate_* (validate.c) set nothing: NULL when the value is acceptable, else a static
 *     lowercase message naming the field (validate_date and validate_text are predicates,
 *     true when acceptable, and the caller words the message). So do a handler file's own
 *     pure helpers (parse_page_token, valid_expiry...): false or -1, and the handler words it.
 *   db_* (db.c) set nothing either: NULL (or -1) on failure, with the reason in the
 *     db_error they were handed.
 *   Handlers, the handler_* helpers and rpc_db set the call's status where the failure is
 *     found, once, through rpc_fail, handler_invalid (a validate_* message) or rpc_fail_db
 *     (a db_error), and return it: a grpc_status_code (GRPC_STATUS_OK, or the failure set
 *     in ctx), or NULL for a pointer (handler_query, rpc_db), -1 for a count. A caller
 *     handed a failure returns ctx->status as it is, never sets it again.
 *   Logging: the dispatcher logs one line per call with its status and message; what the
 *     client is not told is logged where it is known: by rpc_fail_db (an unexpected
 *     database error at error level, a lost database at warn), db.c (a lost connection)
 *     and group_commit.c (a batch written one by one instead). Handlers log nothing else.
 */
#ifndef LOYALTY_HANDLERS_H
#define LOYALTY_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include "loyalty/v1/admin.pb-c.h"
#include "loyalty/v1/points.pb-c.h"
#include "rpc.h"

/* Timestamps leave PostgreSQL as RFC 3339 in UTC. */
#define SQL_TIMESTAMP(column) \
  "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* What handler_begin_write checks of a write's member_id. */
typedef enum write_member {
  WRITE_MEMBER_REQUIRED,  /* > 0, else INVALID_ARGUMENT "member_id is required" (movements) */
  WRITE_MEMBER_UNCHECKED, /* passed on as it is: the stored function answers an unknown one */
  WRITE_NO_MEMBER,        /* the write names no member yet (EnrollMember) */
} write_member;

/* What every write passes to its stored function first; text in the call's arena or borrowed
 * from the request, valid until the call ends. */
typedef struct write_start {
  const char *principal;  /* handler_principal */
  const char *store;      /* the acting store; "" for none (an HQ key that names none) */
  const char *request_id; /* the request's, validated */
  const char *hash;       /* rpc_request_hash of the request */
  const char *member_id;  /* decimal text; NULL with WRITE_NO_MEMBER */
} write_start;

/*
 * The preamble of a write, in this order:
 *   1. the acting store: a store key acts for its own store and may not name another
 *      (PERMISSION_DENIED, before any validation: who may act for which store is settled
 *      before what the request says); an HQ key acts for the store_code it names (which
 *      must be valid), or for none ("");
 *   2. request_id (validate_request_id);
 *   3. member_id, as check says.
 * Fills *w and returns GRPC_STATUS_OK, or returns the failure set in ctx. The write then
 * checks its own fields and makes its one query.
 */
grpc_status_code handler_begin_write(rpc_ctx *ctx, const ProtobufCMessage *request,
                                     const char *store_code, const char *request_id,
                                     int64_t member_id, write_member check, write_start *w);

/* Who the ledger says caused a movement: the key_id of a store key; "key_id:operator" for an
 * HQ key. */
const char *handler_principal(rpc_ctx *ctx);

/* INVALID_ARGUMENT with why (a validate_* message). */
grpc_status_code handler_invalid(rpc_ctx *ctx, const char *why);

/* Decimal text of v, in the arena. */
const char *handler_int64(rpc_ctx *ctx, int64_t v);

/* A PostgreSQL text[] literal of strings[0..n-1] (a NULL string is a NULL element), in the
 * arena. */
const char *handler_text_array(rpc_ctx *ctx, char *const *strings, size_t n);

/*
 * db_exec on the call's connection; on failure sets the call's status and returns NULL.
 * The result belongs to the call: it is PQclear()ed with the call's arena when the call
 * ends, so a handler never clears it, on any path. It stays valid until then, unless the
 * handler releases it early (handler_release).
 */
PGresult *handler_query(rpc_ctx *ctx, const db_statement *statement, const char *const *values);

/* handler_query, except that a failure with SQLSTATE sqlstate sets the call's status to code
 * with message (which must outlive the call: static or in the arena) instead of the usual
 * mapping (rpc_fail_db). */
PGresult *handler_query_catch(rpc_ctx *ctx, const db_statement *statement,
                              const char *const *values, const char *sqlstate,
                              grpc_status_code code, const char *message);

/* PQclear()s r, a result of handler_query on ctx, now instead of when the call ends. Only for
 * a handler that runs queries in a loop (pages, chunks), so their results do not pile up
 * for the length of the call; r must not be used afterwards. */
void handler_release(rpc_ctx *ctx, PGresult *r);

int64_t handler_get_int64(const PGresult *r, int row, int column);
bool handler_get_bool(const PGresult *r, int row, int column);
/* The value copied into the arena (protobuf-c fields must outlive the PGresult). */
char *handler_get_text(rpc_ctx *ctx, const PGresult *r, int row, int column);

/* The PointsResult in row of r, whose columns are POINTS_RESULT_COLUMNS; in ctx's arena. */
#define POINTS_RESULT_COLUMNS "txn_id, points, balance, tier, tier_changed, replayed"
Loyalty__V1__PointsResult *handler_points_result(rpc_ctx *ctx, const PGresult *r, int row);

/* One row when the member ($1) exists, merged or not. */
extern const db_statement stmt_member_exists;

/* GRPC_STATUS_OK if the member (member_id as text) exists, merged or not; else NOT_FOUND.
 * For lists that came back empty: no rows, or no member? */
grpc_status_code handler_member_exists(rpc_ctx *ctx, const char *member_id);

/* The date a run (expiry, pending release) is for: as_of if it is a real YYYY-MM-DD, today in
 * the program's time zone if it is empty; NULL, with INVALID_ARGUMENT or the database's
 * status set, otherwise. */
const char *handler_business_date(rpc_ctx *ctx, const char *as_of);

#endif
