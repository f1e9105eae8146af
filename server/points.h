/*
 * points.h - what points.c offers other handler files besides its method bindings.
 *
 * INTERFACE ROUTINES
 *   points_balance   a member's Balance (GetBalance's answer; SetTier answers with it too)
 */
#ifndef LOYALTY_POINTS_H
#define LOYALTY_POINTS_H

#include <stdint.h>

#include "rpc.h"

/* Answers the call with member_id's balance (a Loyalty__V1__Balance in ctx's arena): tier,
 * next tier, points expiring within 90 days and pending points with their earns; read on
 * the fast path (rpc_read), so it returns RPC_PENDING and must be the handler's last act.
 * INVALID_ARGUMENT if member_id <= 0 (returned at once), NOT_FOUND if unknown,
 * FAILED_PRECONDITION if merged. */
grpc_status_code points_balance(rpc_ctx *ctx, int64_t member_id, ProtobufCMessage **response);

#endif
