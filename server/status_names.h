/*
 * status_names.h - the names of gRPC status codes, for logs and messages. Pure: the code is
 * an int (grpc_status_code's value), so neither the server nor the client library needs
 * another copy, and this needs no gRPC.
 *
 * INTERFACE ROUTINES
 *   status_name   0 -> "OK", 5 -> "NOT_FOUND", ...
 */
#ifndef LOYALTY_STATUS_NAMES_H
#define LOYALTY_STATUS_NAMES_H

/* The name of status code (as in grpc/status.h, without "GRPC_STATUS_"); "UNKNOWN" for a
 * value that is not a status code. A static string. */
const char *status_name(int code);

#endif
