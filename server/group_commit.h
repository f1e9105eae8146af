/*
 * group_commit.h - group commit for Earn.
 *
 * Under load, Earn calls of different members that arrive while others are being written
 * are sent to PostgreSQL together: one call of loyalty_earn_batch, one round trip, one
 * commit. Each earn is still all-or-nothing and none is answered before its commit. The
 * batch takes only the plain case; when it refuses or fails, each of its earns is made
 * alone through loyalty_earn, which gives every earn its own answer (replay, error, ...).
 *
 * Who writes a batch: the calls themselves. A call queues its earn; if fewer than
 * max_writers batches are being written, it takes the queue (up to max_size earns of
 * distinct members) and writes it on its own database connection; otherwise it waits,
 * and a batch that finishes hands the queue on. A call alone is written at once. With
 * max_size 1 there is no queue: every call writes its own earn.
 *
 * INTERFACE ROUTINES
 *   group_commit_configure   sizes (max_size 1 turns batching off)
 *   group_commit_earn        make one earn, batched with whatever else is waiting
 */
#ifndef LOYALTY_GROUP_COMMIT_H
#define LOYALTY_GROUP_COMMIT_H

#include "loyalty/v1/common.pb-c.h"
#include "rpc.h"

/* The parameters of loyalty_earn, in its order. */
enum {
  EARN_PRINCIPAL,
  EARN_STORE_CODE,
  EARN_REQUEST_ID,
  EARN_HASH,
  EARN_MEMBER_ID,
  EARN_ORDER_ID,
  EARN_AMOUNT_CENTS,
  EARN_OCCURRED_AT, /* RFC 3339 in UTC, or NULL: now */
  EARN_N_PARAMS
};

void group_commit_configure(int max_size, int max_writers);

/* Makes the earn described by params (text, borrowed until it returns). On GRPC_STATUS_OK
 * *result is filled (its memory in ctx->arena); otherwise the failure is set in ctx. */
grpc_status_code group_commit_earn(rpc_ctx *ctx, const char *const params[EARN_N_PARAMS],
                                 Loyalty__V1__PointsResult **result);

#endif
