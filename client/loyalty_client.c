/*
 * loyalty_client.c - blocking unary calls over the gRPC core client API (see loyalty_client.h).
 *
 * Each call gets its own completion queue (pluck), so calls from many threads on one channel
 * never see each other's events.
 */
#include "loyalty_client.h"
#include "pem.h"
#include "status_names.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lc_conn {
  grpc_channel *channel;
  char *authorization; /* "Bearer <key>", or NULL */
};

void lc_init(void) { grpc_init(); }

void lc_shutdown(void) { grpc_shutdown_blocking(); }

/* A PEM file's contents (the caller frees), or NULL with the reason in errbuf. */
static char *read_file(const char *path, char *errbuf, size_t errbuf_size)
{
  char *data = pem_read_file(path);
  if (data == NULL)
    snprintf(errbuf, errbuf_size, "cannot read %s", path);
  return data;
}

/* TLS credentials from PEM files; NULL (with errbuf) if a file cannot be read. */
static grpc_channel_credentials *tls_credentials(const lc_options *o, char *errbuf,
                                                 size_t errbuf_size)
{
  char *ca = read_file(o->tls_ca, errbuf, errbuf_size);
  char *cert = o->tls_cert ? read_file(o->tls_cert, errbuf, errbuf_size) : NULL;
  char *key = o->tls_key ? read_file(o->tls_key, errbuf, errbuf_size) : NULL;
  grpc_channel_credentials *creds = NULL;
  if (ca != NULL && (o->tls_cert == NULL || cert != NULL) && (o->tls_key == NULL || key != NULL)) {
    grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
    creds = grpc_ssl_credentials_create(ca, cert && key ? &pair : NULL, NULL, NULL);
  }
  free(ca);
  free(cert);
  free(key);
  return creds;
}

lc_conn *lc_connect(const lc_options *options, char *errbuf, size_t errbuf_size)
{
  grpc_channel_credentials *creds =
      options->tls_ca ? tls_credentials(options, errbuf, errbuf_size)
                      : grpc_insecure_credentials_create();
  if (creds == NULL)
    return NULL;
  lc_conn *conn = calloc(1, sizeof *conn);
  if (conn == NULL) {
    grpc_channel_credentials_release(creds);
    snprintf(errbuf, errbuf_size, "out of memory");
    return NULL;
  }
  conn->channel = grpc_channel_create(options->target, creds, NULL);
  grpc_channel_credentials_release(creds);
  if (options->key != NULL && options->key[0] != '\0') {
    size_t n = strlen(options->key) + sizeof "Bearer ";
    conn->authorization = malloc(n);
    if (conn->authorization != NULL)
      snprintf(conn->authorization, n, "Bearer %s", options->key);
  }
  return conn;
}

void lc_close(lc_conn *conn)
{
  if (conn == NULL)
    return;
  grpc_channel_destroy(conn->channel);
  free(conn->authorization);
  free(conn);
}

static char *copy_slice(grpc_slice s)
{
  size_t n = GRPC_SLICE_LENGTH(s);
  char *out = malloc(n + 1);
  if (out != NULL) {
    memcpy(out, GRPC_SLICE_START_PTR(s), n);
    out[n] = '\0';
  }
  return out;
}

static grpc_status_code local_failure(char **message, const char *text)
{
  if (message != NULL)
    *message = strdup(text);
  return GRPC_STATUS_INTERNAL;
}

grpc_status_code lc_call(lc_conn *conn, const char *method, const ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *response_type,
                         ProtobufCMessage **response, char **message, int timeout_ms)
{
  *response = NULL;
  if (message != NULL)
    *message = NULL;

  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
  gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                       gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
  grpc_slice method_slice = grpc_slice_from_static_string(method);
  grpc_call *call = grpc_channel_create_call(conn->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                             method_slice, NULL, deadline, NULL);

  size_t size = protobuf_c_message_get_packed_size(request);
  grpc_slice out = grpc_slice_malloc(size);
  protobuf_c_message_pack(request, GRPC_SLICE_START_PTR(out));
  grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&out, 1);
  grpc_slice_unref(out);

  grpc_metadata auth = {
    .key = grpc_slice_from_static_string("authorization"),
    .value = conn->authorization ? grpc_slice_from_copied_string(conn->authorization)
                                 : grpc_empty_slice(),
  };
  grpc_metadata_array initial_md, trailing_md;
  grpc_metadata_array_init(&initial_md);
  grpc_metadata_array_init(&trailing_md);
  grpc_byte_buffer *received = NULL;
  grpc_status_code status = GRPC_STATUS_UNKNOWN;
  grpc_slice details = grpc_empty_slice();

  grpc_op ops[6];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count = conn->authorization ? 1 : 0;
  ops[0].data.send_initial_metadata.metadata = &auth;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = send;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &received;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
  ops[5].data.recv_status_on_client.status = &status;
  ops[5].data.recv_status_on_client.status_details = &details;

  static char tag; /* any address: the queue is this call's alone */
  const char *failure = NULL; /* the call did not complete: no status from the server */
  grpc_call_error e = grpc_call_start_batch(call, ops, 6, &tag, NULL);
  if (e != GRPC_CALL_OK) {
    failure = grpc_call_error_to_string(e);
  } else {
    /* The deadline bounds the wait: the call completes, at the latest, DEADLINE_EXCEEDED. */
    grpc_event ev = grpc_completion_queue_pluck(cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type != GRPC_OP_COMPLETE || !ev.success)
      failure = "call failed";
  }

  if (failure != NULL) {
    status = local_failure(message, failure);
  } else if (status != GRPC_STATUS_OK) {
    if (message != NULL)
      *message = copy_slice(details);
  } else if (received == NULL) {
    status = local_failure(message, "no response message");
  } else {
    grpc_byte_buffer_reader reader;
    grpc_byte_buffer_reader_init(&reader, received);
    grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    *response = protobuf_c_message_unpack(response_type, NULL, GRPC_SLICE_LENGTH(bytes),
                                          GRPC_SLICE_START_PTR(bytes));
    grpc_slice_unref(bytes);
    if (*response == NULL)
      status = local_failure(message, "malformed response message");
  }

  grpc_slice_unref(auth.value);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&initial_md);
  grpc_metadata_array_destroy(&trailing_md);
  grpc_byte_buffer_destroy(send);
  if (received != NULL)
    grpc_byte_buffer_destroy(received);
  grpc_call_unref(call);
  grpc_completion_queue_shutdown(cq); /* nothing is pending: it shuts down at once */
  grpc_completion_queue_destroy(cq);
  return status;
}

const char *lc_status_name(grpc_status_code code) { return status_name(code); }
