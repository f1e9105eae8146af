/*
 * test_status_names.c - gRPC status names, as grpc/status.h numbers them.
 */
#include <grpc/status.h>

#include "status_names.h"
#include "unit.h"

#define CHECK_NAME(code, want) \
  CHECK(strcmp(status_name(code), want) == 0, "%d: got %s", (int)(code), status_name(code))

int main(void)
{
  CHECK_NAME(GRPC_STATUS_OK, "OK");
  CHECK_NAME(GRPC_STATUS_DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED");
  CHECK_NAME(GRPC_STATUS_NOT_FOUND, "NOT_FOUND");
  CHECK_NAME(GRPC_STATUS_FAILED_PRECONDITION, "FAILED_PRECONDITION");
  CHECK_NAME(GRPC_STATUS_UNAVAILABLE, "UNAVAILABLE");
  CHECK_NAME(GRPC_STATUS_UNAUTHENTICATED, "UNAUTHENTICATED");
  CHECK_NAME(-1, "UNKNOWN");
  CHECK_NAME(GRPC_STATUS_UNAUTHENTICATED + 1, "UNKNOWN");
  UNIT_DONE();
}
