/*
 * loyalty_client.h - a small blocking unary gRPC client for the loyalty service,
 * on the gRPC core C API and protobuf-c. Used by loyaltyctl, the tests and the benchmarks.
 *
 * INTERFACE ROUTINES
 *   lc_init / lc_shutdown    once per process, around everything else
 *   lc_connect               open a channel to the server, with the credentials to send
 *   lc_close                 close it
 *   lc_call                  one unary call: pack request, send, wait, unpack response
 *   lc_status_name           "NOT_FOUND" for GRPC_STATUS_NOT_FOUND, ...
 *
 * Thread safety: one lc_conn may be used by several threads at once (gRPC channels are).
 */
#ifndef LOYALTY_CLIENT_H
#define LOYALTY_CLIENT_H

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>

typedef struct lc_conn lc_conn;

typedef struct lc_options {
  const char *target;    /* "127.0.0.1:50051" */
  const char *key;       /* bearer secret sent as "authorization: Bearer <key>"; NULL sends none */
  const char *tls_ca;    /* reserved for TLS (PEM file paths); NULL means plaintext */
  const char *tls_cert;
  const char *tls_key;
} lc_options;

void lc_init(void);
void lc_shutdown(void);

/* Returns a connection, or NULL with a message in errbuf. Connecting is lazy: an unreachable
 * server shows up as UNAVAILABLE on the first call. Free with lc_close. */
lc_conn *lc_connect(const lc_options *options, char *errbuf, size_t errbuf_size);
void lc_close(lc_conn *conn);

/*
 * One unary call of `method` ("/loyalty.v1.Points/Earn") with a deadline of timeout_ms.
 * Returns the gRPC status. On GRPC_STATUS_OK, *response is a message of type
 * response_type that the caller frees with protobuf_c_message_free_unpacked(*response, NULL).
 * On any other status *response is NULL and, when message is not NULL, *message is the
 * status message (malloc'ed, caller frees; never NULL).
 */
grpc_status_code lc_call(lc_conn *conn,
                         const char *method,
                         const ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *response_type,
                         ProtobufCMessage **response,
                         char **message,
                         int timeout_ms);

const char *lc_status_name(grpc_status_code code);

#endif
