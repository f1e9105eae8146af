/*
 * rpc.h - the gRPC core server and its one generic dispatcher.
 *
 * Services are described by protobuf-c's service descriptors; each method is bound by name
 * to a handler, found in the service's binding tables (one per handler file, see
 * services.h). For every call the dispatcher: unpacks the request into the call's arena,
 * authenticates the caller (unless the service is public), borrows a database connection,
 * runs the handler, packs the response or the error status, logs one line, and frees the
 * arena when the call ends.
 *
 * INTERFACE ROUTINES
 *   rpc_server_run   serve until SIGTERM/SIGINT, then shut down gracefully
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

/* What one call has while its handler runs. */
typedef struct rpc_ctx {
  arena *arena;        /* per-call memory, freed when the call ends */
  db_pool *pool;
  db_conn *db;         /* borrowed on first use (rpc_db), returned when the call ends */
  principal who;       /* the caller; empty for public services */
  const char *method;  /* "/loyalty.v1.Points/Earn" */
  grpc_status_code status;
  const char *message; /* status message (arena); NULL when OK */
} rpc_ctx;

/* Fills *response (allocated in ctx->arena) and returns GRPC_STATUS_OK, or returns the result
 * of rpc_fail / rpc_fail_db. */
typedef grpc_status_code (*rpc_handler)(rpc_ctx *ctx, const ProtobufCMessage *request,
                                        ProtobufCMessage **response);

typedef struct rpc_method_binding {
  const char *name; /* as in the proto: "Earn" */
  rpc_handler handler;
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
} rpc_config;

/* Serves the services until SIGTERM or SIGINT (which the caller must have blocked in all
 * threads), then stops accepting, finishes the calls in flight and returns 0. Returns -1 if
 * the server cannot start: the address is taken, a TLS file cannot be read, or plaintext is
 * asked for on a non-loopback address without config->insecure. */
int rpc_server_run(const rpc_config *config, db_pool *pool, const rpc_service *services,
                   size_t n_services);

/* The call's database connection, borrowed on first use; NULL (and the call's status set
 * to UNAVAILABLE) when none is free in time. */
db_conn *rpc_db(rpc_ctx *ctx);

grpc_status_code rpc_fail(rpc_ctx *ctx, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
grpc_status_code rpc_fail_db(rpc_ctx *ctx, const db_error *err);

/* SHA-256 of the request as protobuf-c packs it, as bytea text input (arena). */
const char *rpc_request_hash(rpc_ctx *ctx, const ProtobufCMessage *request);

#endif
