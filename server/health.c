/*
 * health.c - grpc.health.v1.Health/Check, without credentials.
 *
 * "" (the server) and the loyalty services are SERVING while the event loop's database probe
 * answers (dbloop.h), NOT_SERVING while it does not; any other service name is NOT_FOUND, as
 * the health protocol asks. Answered by the server itself, at once: a hung database makes it
 * NOT_SERVING, never slow.
 *
 * INTERFACE ROUTINES
 *   health_methods   the Health method bound here
 */
#include "grpc/health/v1/health.pb-c.h"
#include "handlers.h"
#include "services.h"

#include <string.h>

static grpc_status_code health_check(rpc_ctx *ctx, const ProtobufCMessage *request,
                                     ProtobufCMessage **response)
{
  const Grpc__Health__V1__HealthCheckRequest *req =
      (const Grpc__Health__V1__HealthCheckRequest *)request;
  if (req->service[0] != '\0' && strcmp(req->service, "loyalty.v1.Points") != 0 &&
      strcmp(req->service, "loyalty.v1.Admin") != 0)
    return rpc_fail(ctx, GRPC_STATUS_NOT_FOUND, "unknown service");
  Grpc__Health__V1__HealthCheckResponse *out = arena_alloc(ctx->arena, sizeof *out);
  grpc__health__v1__health_check_response__init(out);
  out->status = rpc_db_healthy(ctx)
                    ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                    : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"Check", health_check, RPC_FAST},
};

const rpc_bindings health_methods = RPC_BINDINGS(methods);
