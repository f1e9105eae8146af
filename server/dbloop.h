/*
 * dbloop.h - the fast path to PostgreSQL: one event-loop thread driving a few connections
 * in libpq's pipeline mode. No thread waits on PostgreSQL for it.
 *
 * Two kinds of work are submitted (dbloop_submit, from any thread):
 *   reads      one prepared statement, in a transaction of its own, on one of the read
 *              connections (the one with the least in flight);
 *   movements  a movement (earn, redeem, ...) of one member, on the write connection of its
 *              member (member_id modulo their number), so a member's movements keep their
 *              order and two write connections never wait on each other's locks. What waits
 *              on one connection while its transaction commits is sent as the next one: up
 *              to DBLOOP_MAX_BATCH movements, each in a subtransaction of its own
 *              (db/functions/moves.sql), one COMMIT for all (group commit). Earns of members
 *              that have no other movement in the batch go set-wise in one statement
 *              (loyalty_try_earn_batch); when that refuses, each is resent alone.
 * A caller is told the outcome (dbloop_call.done) only after its transaction's COMMIT.
 *
 * Containment:
 *   - write connections have a short lock_timeout: a movement refused for a lock is handed
 *     to the slow path (dbloop_config.slow), which runs it on an ordinary connection;
 *   - when a call's deadline passes while its statement is outstanding, the call ends with
 *     DEADLINE_EXCEEDED, its connection is dropped (the others on it end UNAVAILABLE: their
 *     outcome is unknown, their request_id replays safely) and a new one is opened;
 *   - connections are opened on a helper thread (libpq's connect blocks);
 *   - dbloop_healthy: whether a probe (every 500 ms, on a read connection) was answered
 *     within the last DBLOOP_HEALTH_MS.
 *
 * INTERFACE ROUTINES
 *   dbloop_start / dbloop_stop
 *   dbloop_submit           queue a read or a movement; -1 when the queue is full
 *   dbloop_run_blocking     run a call on an ordinary pooled connection (the slow path)
 *   dbloop_healthy
 */
#ifndef LOYALTY_DBLOOP_H
#define LOYALTY_DBLOOP_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "db.h"

#define DBLOOP_MAX_BATCH 64  /* movements in one transaction (subtransactions: see above) */
#define DBLOOP_MAX_OUTSTANDING 4096 /* calls submitted and not yet ended; then dbloop_submit fails */
#define DBLOOP_HEALTH_MS 1000

/* The parameters of loyalty_earn (and of the earn batch's arrays), in its order. */
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

typedef struct dbloop_call dbloop_call;

/*
 * The outcome: the row of r (valid only during the call: copy what is kept) or, when r is
 * NULL, the error. A movement's row has the columns of loyalty_try_move without the last
 * three (an error there comes as err, DB_SQL, with its SQLSTATE).
 */
typedef void (*dbloop_done)(dbloop_call *call, const PGresult *r, int row, const db_error *err);

struct dbloop_call {
  /* Set by the caller; borrowed (the caller's memory) until done is called. */
  arena *arena;           /* where the loop may build the call's parameters */
  int64_t deadline_ms;    /* CLOCK_MONOTONIC */
  const db_statement *read; /* a read: its statement and values */
  const char *const *values;
  const char *move;       /* a movement: loyalty_try_move's kind ("earn", "redeem", ...) */
  const char *const *args; /* its parameters as text (NULL: SQL NULL) */
  int n_args;
  int64_t member_id;      /* routes a movement */
  dbloop_done done;
  /* The loop's. */
  dbloop_call *next;
  bool alone;             /* an earn to send alone (its set-wise batch refused) */
};

typedef struct dbloop dbloop;

typedef struct dbloop_config {
  const char *conninfo;
  int read_connections;
  int write_connections;
  int max_batch;          /* 1 .. DBLOOP_MAX_BATCH movements in one transaction */
  int lock_timeout_ms;
  int statement_timeout_ms;
  /* Runs call on the slow path, on another thread (then dbloop_run_blocking there); -1 if
   * it cannot take it, and the call ends UNAVAILABLE. */
  int (*slow)(void *slow_arg, dbloop_call *call);
  void *slow_arg;
} dbloop_config;

/* Starts the loop thread and the connection helper; connections open in the background. */
dbloop *dbloop_start(const dbloop_config *config);

/* Stops both threads and closes the connections. Calls still queued or in flight end
 * UNAVAILABLE first. */
void dbloop_stop(dbloop *loop);

/* Queues call; 0, or -1 when DBLOOP_MAX_OUTSTANDING calls are outstanding already (then done
 * is not called). */
int dbloop_submit(dbloop *loop, dbloop_call *call);

/* Runs call on conn, blocking, and calls its done. For the slow path. */
void dbloop_run_blocking(db_conn *conn, dbloop_call *call);

bool dbloop_healthy(dbloop *loop);

#endif
