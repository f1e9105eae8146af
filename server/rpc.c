/*
 * rpc.c - gRPC core server: one completion queue served by a few I/O threads, the slow
 * path's workers, the fast path's event loop, and the generic dispatcher.
 *
 * Life of a call (a server_call):
 *   WAITING    posted with grpc_server_request_registered_call; when a client calls, the
 *              I/O thread that gets the event posts a replacement, unpacks the request and:
 *              - a fast method whose caller is known (public, or a cached key): runs its
 *                handler right there; a statement goes to the event loop, whose thread
 *                runs the continuation (call_continue) when the result arrives;
 *              - otherwise: queues the call for the slow path's workers (call_run_slow);
 *   FINISHING  the reply (initial metadata, message, status) is sent in one batch, by
 *              whichever thread has the answer (call_reply); when that batch completes, the
 *              call and its arena are freed.
 * A call belongs to one thread at a time: handing it to the loop or the workers (through
 * their locks) hands it over, and the thread that handed it never touches it again.
 *
 * Shutdown: the main thread waits for SIGTERM/SIGINT, then grpc_server_shutdown_and_notify;
 * calls in flight finish (each within its deadline: the loop ends overdue ones); the
 * notification arrives; the loop and the workers stop; the queue is shut down and drained;
 * the I/O threads exit; everything is destroyed.
 */
#include "rpc.h"
#include "log.h"
#include "pem.h"
#include "status_names.h"
#include "workers.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long a call may wait for a free database connection before UNAVAILABLE. */
#define RPC_POOL_WAIT_MS 5000
/* Calls waiting for a slow-path worker; more answer UNAVAILABLE. */
#define RPC_SLOW_QUEUE_MAX 1024
/* How long shutdown lets calls in flight finish before cancelling them. */
#define RPC_SHUTDOWN_GRACE_S 10
/* Calls posted per method, waiting for clients: enough that a burst of calls is matched at
 * once (a call the transport holds unmatched when shutdown begins is cancelled by gRPC). */
#define RPC_POSTED_PER_METHOD 32
/* A connection without calls this long is closed; one that does not finish its (TLS/HTTP2)
 * handshake in this time too. */
#define RPC_IDLE_CONNECTION_MS (5 * 60 * 1000)
#define RPC_HANDSHAKE_TIMEOUT_MS 10000

typedef struct method_entry {
  const rpc_service *service;
  const ProtobufCMethodDescriptor *descriptor;
  rpc_handler handler;
  bool fast;
  char *path; /* "/loyalty.v1.Points/Earn" */
  void *registered;
} method_entry;

typedef struct server {
  grpc_server *grpc;
  grpc_completion_queue *cq;
  db_pool *pool;
  dbloop *loop;
  workers *slow;
  int call_timeout_ms;
  method_entry *methods;
  size_t n_methods;
  atomic_bool shutting_down;
  atomic_int in_flight; /* calls received and not yet freed */
  pthread_mutex_t lock;
  pthread_cond_t shutdown_cond;
  bool shutdown_notified;
} server;

typedef enum call_state { CALL_WAITING, CALL_FINISHING } call_state;

typedef struct server_call {
  server *srv;
  call_state state;
  method_entry *method;
  grpc_call *call;
  gpr_timespec deadline;
  grpc_metadata_array metadata;
  grpc_byte_buffer *payload;
  grpc_byte_buffer *response;
  grpc_slice status_details;
  int cancelled;
  arena *arena;
  struct timespec started;
  rpc_ctx ctx;
  ProtobufCMessage *request;  /* unpacked, in the arena */
  ProtobufCMessage *reply;    /* the handler's response */
  rpc_then then;              /* the continuation of the statement on the fast path */
  dbloop_call db;             /* that statement */
} server_call;

static char shutdown_tag; /* its address tags the server's shutdown notification */

grpc_status_code rpc_fail(rpc_ctx *ctx, grpc_status_code code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *message = arena_alloc(ctx->arena, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(message, (size_t)n + 1, fmt, ap);
  va_end(ap);
  ctx->status = code;
  ctx->message = message;
  return code;
}

/* How a SQLSTATE becomes the call's status. Our stored functions raise LYnnn (the digits are
 * the HTTP-like meaning) with a message meant for the client, which is kept, with its detail.
 * PostgreSQL's own codes get the message of their row: its text is not for the client. */
static const struct {
  const char *sqlstate;
  grpc_status_code code;
  const char *message; /* NULL: PostgreSQL's message and detail (ours, LYnnn) */
} sqlstate_map[] = {
  {"LY400", GRPC_STATUS_INVALID_ARGUMENT, NULL},
  {"LY401", GRPC_STATUS_UNAUTHENTICATED, NULL},
  {"LY403", GRPC_STATUS_PERMISSION_DENIED, NULL},
  {"LY404", GRPC_STATUS_NOT_FOUND, NULL},
  {"LY409", GRPC_STATUS_ALREADY_EXISTS, NULL},
  {"LY412", GRPC_STATUS_FAILED_PRECONDITION, NULL},
  {"23505", GRPC_STATUS_ALREADY_EXISTS, "already exists"},
  {"40001", GRPC_STATUS_ABORTED, "conflict with a concurrent request, retry"},
  {"40P01", GRPC_STATUS_ABORTED, "conflict with a concurrent request, retry"},
  {"57014", GRPC_STATUS_DEADLINE_EXCEEDED, "statement timed out (longer than --call-timeout-ms)"},
  {"57P01", GRPC_STATUS_UNAVAILABLE, "database unavailable"},
  {"57P02", GRPC_STATUS_UNAVAILABLE, "database unavailable"},
  {"57P03", GRPC_STATUS_UNAVAILABLE, "database unavailable"},
};

grpc_status_code rpc_fail_db(rpc_ctx *ctx, const db_error *err)
{
  switch (err->kind) {
  case DB_OK:
    break;
  case DB_UNAVAILABLE:
    log_warn("%s: database unavailable: %s", ctx->method, err->message);
    return rpc_fail(ctx, GRPC_STATUS_UNAVAILABLE, "database unavailable");
  case DB_BUSY:
    return rpc_fail(ctx, GRPC_STATUS_UNAVAILABLE, "server busy: no database connection free");
  case DB_DEADLINE:
    return rpc_fail(ctx, GRPC_STATUS_DEADLINE_EXCEEDED,
                    "deadline exceeded before the database answered (outcome unknown: the same "
                    "request_id replays safely)");
  case DB_SQL:
    for (size_t i = 0; i < sizeof sqlstate_map / sizeof sqlstate_map[0]; i++) {
      if (strcmp(err->sqlstate, sqlstate_map[i].sqlstate) != 0)
        continue;
      if (sqlstate_map[i].message != NULL)
        return rpc_fail(ctx, sqlstate_map[i].code, "%s", sqlstate_map[i].message);
      if (err->detail[0] != '\0')
        return rpc_fail(ctx, sqlstate_map[i].code, "%s (%s)", err->message, err->detail);
      return rpc_fail(ctx, sqlstate_map[i].code, "%s", err->message);
    }
    if (strncmp(err->sqlstate, "22", 2) == 0) /* data exception: a value PostgreSQL refused */
      return rpc_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "invalid value (%s)", err->message);
    break;
  }
  log_error("%s: database error %s: %s %s", ctx->method, err->sqlstate, err->message,
            err->detail);
  return rpc_fail(ctx, GRPC_STATUS_INTERNAL, "internal error");
}

const char *rpc_request_hash(rpc_ctx *ctx, const ProtobufCMessage *request)
{
  size_t size = protobuf_c_message_get_packed_size(request);
  uint8_t *packed = arena_alloc(ctx->arena, size ? size : 1);
  protobuf_c_message_pack(request, packed);
  unsigned char digest[32];
  unsigned int n = 0;
  EVP_Digest(packed, size, digest, &n, EVP_sha256(), NULL);
  char *hex = arena_alloc(ctx->arena, 2 + 64 + 1);
  strcpy(hex, "\\x");
  for (unsigned i = 0; i < 32; i++)
    snprintf(hex + 2 + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

/* --- calls ------------------------------------------------------------------------------ */

static void call_free(server_call *c)
{
  if (c->call != NULL)
    grpc_call_unref(c->call);
  grpc_metadata_array_destroy(&c->metadata);
  if (c->payload != NULL)
    grpc_byte_buffer_destroy(c->payload);
  if (c->response != NULL)
    grpc_byte_buffer_destroy(c->response);
  grpc_slice_unref(c->status_details);
  arena_destroy(c->arena);
  free(c);
}

/* Posts one call of method, waiting for a client. */
static void call_post(server *srv, method_entry *method)
{
  if (atomic_load(&srv->shutting_down))
    return;
  server_call *c = calloc(1, sizeof *c);
  if (c == NULL)
    abort();
  c->srv = srv;
  c->state = CALL_WAITING;
  c->method = method;
  c->status_details = grpc_empty_slice();
  grpc_metadata_array_init(&c->metadata);
  grpc_call_error e = grpc_server_request_registered_call(
      srv->grpc, method->registered, &c->call, &c->deadline, &c->metadata, &c->payload, srv->cq,
      srv->cq, c);
  if (e != GRPC_CALL_OK) {
    log_error("cannot post a call for %s: %s", method->path, grpc_call_error_to_string(e));
    call_free(c);
  }
}

static const char *find_metadata(const grpc_metadata_array *md, const char *key, size_t *len)
{
  for (size_t i = 0; i < md->count; i++) {
    if (grpc_slice_str_cmp(md->metadata[i].key, key) == 0) {
      *len = GRPC_SLICE_LENGTH(md->metadata[i].value);
      return (const char *)GRPC_SLICE_START_PTR(md->metadata[i].value);
    }
  }
  return NULL;
}

static void log_auth_failure(server_call *c, const char *why)
{
  char *peer = grpc_call_get_peer(c->call);
  log_warn("authentication failed: %s, peer %s, method %s", why, peer ? peer : "?",
           c->method->path);
  gpr_free(peer);
}

db_conn *rpc_db(rpc_ctx *ctx)
{
  if (ctx->db == NULL) {
    db_error err;
    ctx->db = db_acquire(ctx->pool, RPC_POOL_WAIT_MS, &err);
    if (ctx->db == NULL)
      rpc_fail_db(ctx, &err);
  }
  return ctx->db;
}

/* The common name of the client certificate of c's connection, into cn; false when the
 * connection has none (plaintext, or TLS without client certificates). */
static bool client_certificate_cn(server_call *c, char *cn, size_t size)
{
  grpc_auth_context *auth = grpc_call_auth_context(c->call);
  bool found = false;
  if (auth != NULL) {
    grpc_auth_property_iterator it =
        grpc_auth_context_find_properties_by_name(auth, GRPC_X509_CN_PROPERTY_NAME);
    const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);
    if (p != NULL) {
      snprintf(cn, size, "%.*s", (int)p->value_length, p->value);
      found = true;
    }
    grpc_auth_context_release(auth);
  }
  return found;
}

/* Checks who is calling. With may_block false, only from the key cache: *need_db is set
 * (and nothing else) when PostgreSQL must be asked. */
static grpc_status_code authorize(server_call *c, rpc_ctx *ctx, bool may_block, bool *need_db)
{
  rpc_access access = c->method->service->access;
  if (access == RPC_PUBLIC)
    return GRPC_STATUS_OK;
  size_t header_len = 0;
  const char *header = find_metadata(&c->metadata, "authorization", &header_len);
  if (header == NULL) {
    log_auth_failure(c, "no credentials");
    return rpc_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "missing credentials");
  }
  db_error err;
  auth_result found = may_block ? auth_authenticate(ctx->pool, header, header_len, &ctx->who, &err)
                                : auth_from_cache(header, header_len, &ctx->who);
  switch (found) {
  case AUTH_OK:
    break;
  case AUTH_NOT_CACHED:
    *need_db = true;
    return GRPC_STATUS_OK;
  case AUTH_MISSING:
    log_auth_failure(c, "malformed authorization header");
    return rpc_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "missing credentials");
  case AUTH_INVALID:
    log_auth_failure(c, "unknown or revoked key");
    return rpc_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "invalid credentials");
  case AUTH_DB_ERROR:
    return rpc_fail_db(ctx, &err);
  }
  /* With mutual TLS the certificate must name whom the key belongs to: its store_code, or
   * "hq" for HQ keys. A key without its certificate, or the other way round, is not enough. */
  char cn[128];
  const char *owner = ctx->who.is_hq ? "hq" : ctx->who.store_code;
  if (client_certificate_cn(c, cn, sizeof cn) && strcmp(cn, owner) != 0) {
    log_auth_failure(c, "the client certificate names someone else than the key's owner");
    return rpc_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "the client certificate (%s) does not belong to this key's %s", cn,
                    ctx->who.is_hq ? "hq" : "store");
  }
  if (access == RPC_HQ && !ctx->who.is_hq)
    return rpc_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "this method needs an hq key");
  return GRPC_STATUS_OK;
}

/* Unpacks the request into the call's arena; false (the status set) when it cannot. */
static bool unpack_request(server_call *c)
{
  rpc_ctx *ctx = &c->ctx;
  if (gpr_time_cmp(c->deadline, gpr_now(c->deadline.clock_type)) < 0) {
    rpc_fail(ctx, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded before the call started");
    return false;
  }
  if (c->payload == NULL) {
    rpc_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "missing request message");
    return false;
  }
  grpc_byte_buffer_reader reader;
  if (!grpc_byte_buffer_reader_init(&reader, c->payload)) {
    rpc_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "unreadable request message");
    return false;
  }
  grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
  grpc_byte_buffer_reader_destroy(&reader);
  c->request =
      protobuf_c_message_unpack(c->method->descriptor->input, arena_allocator(ctx->arena),
                                GRPC_SLICE_LENGTH(bytes), GRPC_SLICE_START_PTR(bytes));
  grpc_slice_unref(bytes);
  if (c->request == NULL) {
    rpc_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "malformed request message");
    return false;
  }
  return true;
}

static int64_t elapsed_us(const struct timespec *since)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)(now.tv_sec - since->tv_sec) * 1000000 + (now.tv_nsec - since->tv_nsec) / 1000;
}

/* Sends the call's answer (c->reply when ctx.status is OK), logs it, and lets go of c. */
static void call_reply(server_call *c)
{
  rpc_ctx *ctx = &c->ctx;
  server *srv = c->srv;
  if (ctx->db != NULL) {
    db_release(ctx->pool, ctx->db);
    ctx->db = NULL;
  }
  if (ctx->status == GRPC_STATUS_OK) {
    size_t size = protobuf_c_message_get_packed_size(c->reply);
    grpc_slice out = grpc_slice_malloc(size);
    protobuf_c_message_pack(c->reply, GRPC_SLICE_START_PTR(out));
    c->response = grpc_raw_byte_buffer_create(&out, 1);
    grpc_slice_unref(out);
  }
  grpc_op ops[4];
  memset(ops, 0, sizeof ops);
  size_t n = 0;
  ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
  if (c->response != NULL) {
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = c->response;
  }
  if (ctx->status != GRPC_STATUS_OK)
    c->status_details = grpc_slice_from_copied_string(ctx->message ? ctx->message : "");
  ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[n].data.send_status_from_server.status = ctx->status;
  ops[n++].data.send_status_from_server.status_details = &c->status_details;
  ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
  int64_t us = elapsed_us(&c->started);
  log_info("%s principal=%s status=%s ms=%lld.%03lld%s%s", c->method->path,
           ctx->who.key_id[0] ? ctx->who.key_id : "-", status_name(ctx->status),
           (long long)(us / 1000), (long long)(us % 1000), ctx->message ? " message=" : "",
           ctx->message ? ctx->message : "");
  /* From here on an I/O thread may complete and free c. */
  const char *path = c->method->path;
  c->state = CALL_FINISHING;
  grpc_call_error e = grpc_call_start_batch(c->call, ops, n, c, NULL);
  if (e != GRPC_CALL_OK) {
    log_error("%s: cannot send the reply: %s", path, grpc_call_error_to_string(e));
    call_free(c);
    atomic_fetch_sub(&srv->in_flight, 1);
  }
}

/* Runs the call's handler; the reply follows unless the handler handed the call over. */
static void call_run_handler(server_call *c)
{
  grpc_status_code status = c->method->handler(&c->ctx, c->request, &c->reply);
  if (status == RPC_PENDING)
    return; /* c is the loop's now */
  if (status == GRPC_STATUS_OK)
    c->ctx.status = GRPC_STATUS_OK;
  call_reply(c);
}

/* The slow path: authentication that may ask PostgreSQL, then the handler. */
static void call_run_slow(void *arg)
{
  server_call *c = arg;
  bool need_db = false;
  if (authorize(c, &c->ctx, true, &need_db) != GRPC_STATUS_OK) {
    call_reply(c);
    return;
  }
  call_run_handler(c);
}

/* A call has arrived: on an I/O thread, which must not block. */
static void call_start(server *srv, server_call *c)
{
  clock_gettime(CLOCK_MONOTONIC, &c->started);
  c->arena = arena_create();
  c->ctx = (rpc_ctx){.arena = c->arena, .pool = srv->pool, .loop = srv->loop,
                     .method = c->method->path, .status = GRPC_STATUS_OK};
  if (!unpack_request(c)) {
    call_reply(c);
    return;
  }
  c->ctx.request = c->request;
  if (c->method->fast) {
    bool need_db = false;
    if (authorize(c, &c->ctx, false, &need_db) != GRPC_STATUS_OK) {
      call_reply(c);
      return;
    }
    if (!need_db) {
      call_run_handler(c);
      return;
    }
  }
  if (workers_submit(srv->slow, call_run_slow, c) != 0) {
    rpc_fail(&c->ctx, GRPC_STATUS_UNAVAILABLE, "server busy: too many calls waiting");
    call_reply(c);
  }
}

/* The deadline of c's database work, CLOCK_MONOTONIC ms: the client's, capped at the
 * server's call timeout. */
static int64_t call_deadline_ms(server_call *c)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
  int64_t limit = now_ms + c->srv->call_timeout_ms;
  gpr_timespec left = gpr_time_sub(c->deadline, gpr_now(c->deadline.clock_type));
  if (left.tv_sec > (int64_t)c->srv->call_timeout_ms / 1000 + 1)
    return limit;
  int64_t deadline = now_ms + left.tv_sec * 1000 + left.tv_nsec / 1000000;
  return deadline < limit ? deadline : limit;
}

/* The loop's answer to the call's statement: its continuation runs here, on the loop's
 * thread (or a slow worker's, for a movement that waited for a lock). */
static void call_continue(dbloop_call *db, const PGresult *r, int row, const db_error *err)
{
  server_call *c = (server_call *)((char *)db - offsetof(server_call, db));
  grpc_status_code status;
  if (err != NULL)
    status = rpc_fail_db(&c->ctx, err);
  else
    status = c->then(&c->ctx, r, row, &c->reply);
  if (status == RPC_PENDING)
    return;
  if (status == GRPC_STATUS_OK)
    c->ctx.status = GRPC_STATUS_OK;
  call_reply(c);
}

static grpc_status_code call_submit(server_call *c, rpc_then then)
{
  c->then = then;
  c->db.arena = c->arena;
  c->db.deadline_ms = call_deadline_ms(c);
  c->db.done = call_continue;
  if (dbloop_submit(c->srv->loop, &c->db) != 0)
    return rpc_fail(&c->ctx, GRPC_STATUS_RESOURCE_EXHAUSTED,
                    "server busy: too many calls waiting for the database");
  return RPC_PENDING;
}

static server_call *ctx_call(rpc_ctx *ctx)
{
  return (server_call *)((char *)ctx - offsetof(server_call, ctx));
}

/* values[0 .. n-1] in the call's arena (the strings are the call's already). */
static const char *const *arena_values(rpc_ctx *ctx, const char *const *values, int n)
{
  const char **copy = arena_alloc(ctx->arena, (size_t)(n > 0 ? n : 1) * sizeof *copy);
  for (int i = 0; i < n; i++)
    copy[i] = values[i];
  return copy;
}

grpc_status_code rpc_read(rpc_ctx *ctx, const db_statement *statement, const char *const *values,
                          rpc_then then)
{
  server_call *c = ctx_call(ctx);
  c->db = (dbloop_call){.read = statement,
                        .values = arena_values(ctx, values, statement->n_params)};
  return call_submit(c, then);
}

grpc_status_code rpc_move(rpc_ctx *ctx, const char *kind, int64_t member_id,
                          const char *const *args, int n_args, rpc_then then)
{
  server_call *c = ctx_call(ctx);
  c->db = (dbloop_call){.move = kind, .args = arena_values(ctx, args, n_args), .n_args = n_args,
                        .member_id = member_id};
  return call_submit(c, then);
}

bool rpc_db_healthy(rpc_ctx *ctx)
{
  return dbloop_healthy(ctx->loop);
}

/* The loop's slow hook: a movement refused for a lock runs on a worker, waiting for it. */
static void slow_db_job(void *arg)
{
  dbloop_call *db = arg;
  server_call *c = (server_call *)((char *)db - offsetof(server_call, db));
  db_conn *conn = rpc_db(&c->ctx);
  if (conn == NULL) {
    call_reply(c);
    return;
  }
  dbloop_run_blocking(conn, db); /* its continuation replies; the connection goes back then */
}

static int slow_db_submit(void *arg, dbloop_call *db)
{
  server *srv = arg;
  return workers_submit(srv->slow, slow_db_job, db);
}

/* --- the server ------------------------------------------------------------------------- */

/* Whether listen ("host:port", "[::1]:port", "unix:...") stays on this machine. */
static bool is_loopback(const char *listen)
{
  if (strncmp(listen, "unix:", 5) == 0)
    return true;
  const char *colon = strrchr(listen, ':');
  size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
  char host[256];
  if (n >= sizeof host)
    return false;
  memcpy(host, listen, n);
  host[n] = '\0';
  return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0 ||
         strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* A PEM file's contents (the caller frees), or NULL, logged. */
static char *read_pem(const char *path)
{
  char *data = pem_read_file(path);
  if (data == NULL)
    log_error("cannot read %s", path);
  return data;
}

/* The listening credentials: TLS (mutual with a client CA) or plaintext; NULL on failure. */
static grpc_server_credentials *server_credentials(const rpc_config *config)
{
  if (config->tls_cert == NULL) {
    if (!is_loopback(config->listen)) {
      if (!config->insecure) {
        log_error("refusing plaintext on %s: use --tls-cert/--tls-key, or --insecure",
                  config->listen);
        return NULL;
      }
      log_warn("serving plaintext on non-loopback %s (--insecure): keys and member data "
               "cross the network unencrypted", config->listen);
    }
    return grpc_insecure_server_credentials_create();
  }
  grpc_server_credentials *creds = NULL;
  char *cert = read_pem(config->tls_cert);
  char *key = read_pem(config->tls_key);
  char *client_ca = config->tls_client_ca ? read_pem(config->tls_client_ca) : NULL;
  if (cert != NULL && key != NULL && (config->tls_client_ca == NULL || client_ca != NULL)) {
    grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
    creds = grpc_ssl_server_credentials_create_ex(
        client_ca, &pair, 1,
        client_ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                  : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
        NULL);
  }
  free(cert);
  free(key);
  free(client_ca);
  return creds;
}

static void *io_thread_main(void *arg)
{
  server *srv = arg;
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(srv->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type == GRPC_QUEUE_SHUTDOWN)
      break;
    if (ev.type != GRPC_OP_COMPLETE)
      continue;
    if (ev.tag == &shutdown_tag) {
      pthread_mutex_lock(&srv->lock);
      srv->shutdown_notified = true;
      pthread_cond_signal(&srv->shutdown_cond);
      pthread_mutex_unlock(&srv->lock);
      continue;
    }
    server_call *c = ev.tag;
    if (c->state == CALL_FINISHING) {
      call_free(c); /* done */
      atomic_fetch_sub(&srv->in_flight, 1);
      continue;
    }
    if (!ev.success) {
      call_free(c); /* a posted call the shutdown cancelled */
      continue;
    }
    atomic_fetch_add(&srv->in_flight, 1);
    call_post(srv, c->method);
    call_start(srv, c);
  }
  return NULL;
}

/* Binds each method of the services to its handler, looked up by name in the service's
 * tables; -1 if one has none. */
static int bind_methods(server *srv, const rpc_service *services, size_t n_services)
{
  size_t total = 0;
  for (size_t s = 0; s < n_services; s++)
    total += services[s].descriptor->n_methods;
  srv->methods = calloc(total, sizeof *srv->methods);
  if (srv->methods == NULL)
    abort();
  for (size_t s = 0; s < n_services; s++) {
    const rpc_service *service = &services[s];
    for (unsigned m = 0; m < service->descriptor->n_methods; m++) {
      method_entry *entry = &srv->methods[srv->n_methods++];
      entry->service = service;
      entry->descriptor = &service->descriptor->methods[m];
      for (size_t t = 0; t < service->n_tables; t++) {
        const rpc_bindings *table = service->tables[t];
        for (size_t b = 0; b < table->n; b++) {
          if (strcmp(table->methods[b].name, entry->descriptor->name) == 0) {
            entry->handler = table->methods[b].handler;
            entry->fast = table->methods[b].path == RPC_FAST;
          }
        }
      }
      size_t len = strlen(service->descriptor->name) + strlen(entry->descriptor->name) + 3;
      entry->path = malloc(len);
      if (entry->path == NULL)
        abort();
      snprintf(entry->path, len, "/%s/%s", service->descriptor->name, entry->descriptor->name);
      if (entry->handler == NULL) {
        log_error("no handler for %s", entry->path);
        return -1;
      }
      entry->registered = grpc_server_register_method(
          srv->grpc, entry->path, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    }
  }
  return 0;
}

static void wait_for_signal(void)
{
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int sig = 0;
  sigwait(&signals, &sig);
  log_info("received %s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* Waits for the shutdown notification; false if it did not come within seconds. */
static bool wait_shutdown_notified(server *srv, int seconds)
{
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += seconds;
  pthread_mutex_lock(&srv->lock);
  while (!srv->shutdown_notified) {
    if (pthread_cond_timedwait(&srv->shutdown_cond, &srv->lock, &until) != 0)
      break;
  }
  bool notified = srv->shutdown_notified;
  pthread_mutex_unlock(&srv->lock);
  return notified;
}

int rpc_server_run(const rpc_config *config, db_pool *pool, const rpc_service *services,
                   size_t n_services)
{
  int rc = -1;
  server srv = {.pool = pool, .call_timeout_ms = config->call_timeout_ms};
  pthread_t *io_threads = calloc((size_t)config->io_threads, sizeof *io_threads);
  int n_io = 0;
  if (io_threads == NULL)
    abort();
  pthread_mutex_init(&srv.lock, NULL);
  pthread_cond_init(&srv.shutdown_cond, NULL);
  atomic_init(&srv.shutting_down, false);
  atomic_init(&srv.in_flight, 0);

  /* Limits against abuse: big or many requests, big headers, connections left silent. */
  grpc_arg limits[] = {
    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
     .value.integer = config->max_message_bytes},
    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_CONCURRENT_STREAMS,
     .value.integer = config->max_streams},
    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_METADATA_SIZE,
     .value.integer = config->max_metadata_bytes},
    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_CONNECTION_IDLE_MS,
     .value.integer = RPC_IDLE_CONNECTION_MS},
    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
     .value.integer = RPC_HANDSHAKE_TIMEOUT_MS},
  };
  grpc_channel_args args = {.num_args = sizeof limits / sizeof limits[0], .args = limits};
  srv.grpc = grpc_server_create(&args, NULL);
  srv.cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(srv.grpc, srv.cq, NULL);
  if (bind_methods(&srv, services, n_services) != 0)
    goto done;
  grpc_server_credentials *creds = server_credentials(config);
  if (creds == NULL)
    goto done;
  int port = grpc_server_add_http2_port(srv.grpc, config->listen, creds);
  grpc_server_credentials_release(creds);
  if (port == 0) {
    log_error("cannot listen on %s", config->listen);
    goto done;
  }
  srv.slow = workers_start(config->threads, RPC_SLOW_QUEUE_MAX);
  dbloop_config loop_config = config->loop;
  loop_config.slow = slow_db_submit;
  loop_config.slow_arg = &srv;
  srv.loop = dbloop_start(&loop_config);
  grpc_server_start(srv.grpc);
  for (size_t m = 0; m < srv.n_methods; m++) {
    for (int i = 0; i < RPC_POSTED_PER_METHOD; i++)
      call_post(&srv, &srv.methods[m]);
  }
  for (; n_io < config->io_threads; n_io++) {
    if (pthread_create(&io_threads[n_io], NULL, io_thread_main, &srv) != 0) {
      log_error("cannot start an I/O thread");
      break;
    }
  }
  log_info("serving %s on %s with %d I/O threads, %d slow-path workers, %d+%d database "
           "connections in pipeline mode",
           config->tls_client_ca ? "mutual TLS" : config->tls_cert ? "TLS" : "plaintext",
           config->listen, n_io, config->threads, loop_config.read_connections,
           loop_config.write_connections);
  if (n_io == config->io_threads) {
    wait_for_signal();
    rc = 0;
  }

  atomic_store(&srv.shutting_down, true);
  grpc_server_shutdown_and_notify(srv.grpc, srv.cq, &shutdown_tag);
  if (n_io > 0 && !wait_shutdown_notified(&srv, RPC_SHUTDOWN_GRACE_S)) {
    log_warn("calls still running after %d s: cancelling them", RPC_SHUTDOWN_GRACE_S);
    grpc_server_cancel_all_calls(srv.grpc);
    wait_shutdown_notified(&srv, 3600);
  }
  /* The notification may come while handlers still hold calls they have yet to answer:
   * their replies need the queue, so it closes only once every call is done. */
  for (int waited_ms = 0; atomic_load(&srv.in_flight) > 0; waited_ms += 10) {
    if (waited_ms == RPC_SHUTDOWN_GRACE_S * 1000) {
      log_warn("calls still running after %d s: cancelling them", RPC_SHUTDOWN_GRACE_S);
      grpc_server_cancel_all_calls(srv.grpc);
    }
    struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
    nanosleep(&tick, NULL);
  }
  dbloop_stop(srv.loop);
  workers_stop(srv.slow);
  grpc_completion_queue_shutdown(srv.cq);
  for (int i = 0; i < n_io; i++)
    pthread_join(io_threads[i], NULL);
  if (n_io == 0) {
    /* No worker drained the queue: do it here. */
    while (grpc_completion_queue_next(srv.cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
  }
  grpc_server_destroy(srv.grpc);
  grpc_completion_queue_destroy(srv.cq);
  log_info("stopped");
  goto cleanup;

done: /* failed before the server started: nothing was posted */
  grpc_server_destroy(srv.grpc);
  grpc_completion_queue_shutdown(srv.cq);
  while (grpc_completion_queue_next(srv.cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(srv.cq);
cleanup:
  for (size_t m = 0; m < srv.n_methods; m++)
    free(srv.methods[m].path);
  free(srv.methods);
  free(io_threads);
  pthread_mutex_destroy(&srv.lock);
  pthread_cond_destroy(&srv.shutdown_cond);
  return rc;
}
