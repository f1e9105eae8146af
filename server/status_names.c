/*
 * status_names.c - gRPC status code names (see status_names.h).
 */
#include "status_names.h"

/* Indexed by code: the values of grpc_status_code, 0 to 16. */
static const char *const names[] = {
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
  "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
  "UNAUTHENTICATED",
};

const char *status_name(int code)
{
  if (code >= 0 && (unsigned)code < sizeof names / sizeof names[0])
    return names[code];
  return "UNKNOWN";
}
