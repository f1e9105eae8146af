/*
 * rpc.h - the gRPC core server and its one generic dispatcher.
 *
 * Services are described by protobuf-c's service descriptors; each method is bound by name
 * to a handler, found in the service's binding tables (one per handler file, see
 * services.h). For every call the dispatcher: unpacks the request into the call's arena,
 * authenticates the caller (unless the service is public), runs the handler, packs the
 * response or the error status, logs one line, and frees the arena when the call ends.
 *
 * Two kinds of handlers:
 *   fast   never block: they answer at once, or hand their statement to the event loop
 *          (rpc_read, rpc_move: dbloop.h) with a continuation that builds the answer when
 *          the result arrives. They run on the threads serving the completion queue.
 *   slow   block on PostgreSQL as they like (rpc_db, handler_query): they run on the slow
 *          path's worker threads (workers.h), each with a pooled connection.
 * A fast call whose key is not cached is authenticated, and then handled, on the slow path.
 *
 * INTERFACE ROUTINES
 *   rpc_server_run   serve until SIGTERM/SIGINT, then shut down gracefully
 *   rpc_read, rpc_move   a fast handler's statement, answered through a continuation
 *   rpc_db_healthy   whether the event loop's database probe answers
 *   rpc_fail         set the call's error status (handlers return its result)
 *   rpc_fail_db      the status for a database error
 *   rpc_request_hash SHA-256 of a request, for idempotency
 */
#ifndef LOYALTY_RPC_H
#define LOYALTY_RPC_H

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "auth.h"
#include "db.h"
#include "dbloop.h"

/* What one call has while its handler runs. */
typedef struct rpc_ctx {
  arena *arena;        /* per-call memory, freed when the call ends */
  db_pool *pool;
  dbloop *loop;
  db_conn *db;         /* borrowed on first use (rpc_db), returned when the call ends */
  principal who;       /* the caller; empty for public services */
  const char *method;  /* "/loyalty.v1.Points/Earn" */
  const ProtobufCMessage *request; /* unpacked (continuations read it again) */
  grpc_status_code status;
  const char *message; /* status message (arena); NULL when OK */
} rpc_ctx;

/* Fills *response (allocated in ctx->arena) and returns GRPC_STATUS_OK, or returns the result
 * of rpc_fail / rpc_fail_db. */
typedef grpc_status_code (*rpc_handler)(rpc_ctx *ctx, const ProtobufCMessage *request,
                                        ProtobufCMessage **response);

/* A fast handler returns this (the result of rpc_read or rpc_move) when its answer comes
 * later, from its continuation. */
#define RPC_PENDING GRPC_STATUS__DO_NOT_USE

/* A fast handler's continuation: row of r is the statement's result (for a movement, the
 * columns of dbloop.h's movement row). Returns like a handler: GRPC_STATUS_OK with
 * *response filled, a failure set in ctx, or RPC_PENDING after another rpc_read. */
typedef grpc_status_code (*rpc_then)(rpc_ctx *ctx, const PGresult *r, int row,
                                     ProtobufCMessage **response);

/* Where a handler runs (see the top of this file). */
typedef enum rpc_path {
  RPC_SLOW, /* on a slow-path worker: may block */
  RPC_FAST, /* on an I/O thread: never blocks */
} rpc_path;

typedef struct rpc_method_binding {
  const char *name; /* as in the proto: "Earn" */
  rpc_handler handler;
  rpc_path path;
} rpc_method_binding;

/* A table of bindings: the methods one handler file serves. */
typedef struct rpc_bindings {
  const rpc_method_binding *methods;
  size_t n;
} rpc_bindings;

/* An rpc_bindings of a rpc_method_binding array. */
#define RPC_BINDINGS(array) {(array), sizeof(array) / sizeof((array)[0])}

typedef enum rpc_access {
  RPC_PUBLIC,  /* no credentials (health check) */
  RPC_STORES,  /* store keys and HQ keys */
  RPC_HQ,      /* HQ keys only */
} rpc_access;

typedef struct rpc_service {
  const ProtobufCServiceDescriptor *descriptor;
  rpc_access access;
  const rpc_bindings *const *tables; /* every method of descriptor bound in one of them */
  size_t n_tables;
} rpc_service;

typedef struct rpc_config {
  const char *listen;
  int threads;
  const char *tls_cert;      /* PEM files; NULL: plaintext */
  const char *tls_key;
  const char *tls_client_ca; /* NULL: no client certificates asked */
  bool insecure;             /* plaintext allowed beyond loopback */
  int max_message_bytes;
  int max_streams;           /* per connection */
  int max_metadata_bytes;
  int io_threads;            /* serving the completion queue: fast handlers */
  int call_timeout_ms;       /* the most a call waits for the database */
  dbloop_config loop;        /* the fast path (its slow hook is set by rpc_server_run) */
} rpc_config;

/* Serves the services until SIGTERM or SIGINT (which the caller must have blocked in all
 * threads), then stops accepting, finishes the calls in flight and returns 0. Returns -1 if
 * the server cannot start: the address is taken, a TLS file cannot be read, or plaintext is
 * asked for on a non-loopback address without config->insecure. */
int rpc_server_run(const rpc_config *config, db_pool *pool, const rpc_service *services,
                   size_t n_services);

/* The call's database connection, borrowed on first use; NULL (and the call's status set
 * to UNAVAILABLE) when none is free in time. Slow handlers only. */
db_conn *rpc_db(rpc_ctx *ctx);

/* Runs the read statement with values (the strings borrowed until the call ends; the array
 * may be the handler's own) on the fast path;
 * then(ctx, result, 0, response) builds the answer. Returns RPC_PENDING, which the handler
 * returns as it is: the call is no longer its own, so this must be its last act. A failure
 * of the database becomes the call's status without then. */
grpc_status_code rpc_read(rpc_ctx *ctx, const db_statement *statement, const char *const *values,
                          rpc_then then);

/* rpc_read for a movement of member_id: loyalty_try_move's kind and its parameters as text
 * (args[0 .. n_args-1]), group-committed with others (dbloop.h). */
grpc_status_code rpc_move(rpc_ctx *ctx, const char *kind, int64_t member_id,
                          const char *const *args, int n_args, rpc_then then);

bool rpc_db_healthy(rpc_ctx *ctx);

grpc_status_code rpc_fail(rpc_ctx *ctx, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
grpc_status_code rpc_fail_db(rpc_ctx *ctx, const db_error *err);

/* SHA-256 of the request as protobuf-c packs it, as bytea text input (arena). */
const char *rpc_request_hash(rpc_ctx *ctx, const ProtobufCMessage *request);

#endif
