/*
 * dbloop.c - the fast path's event loop (see dbloop.h).
 *
 * Threads:
 *   the loop      owns every connection and queue below: polls the sockets and an eventfd,
 *                 reads results, sends what waits, ends calls whose deadline passed;
 *   the opener    opens connections (libpq's connect blocks) and hands them over;
 *   any thread    submits (dbloop_submit): the call goes on the inbox, under the lock, and
 *                 the eventfd wakes the loop.
 *
 * What is in flight on a connection is a FIFO of steps, one per statement sent (a PREPARE,
 * a read, a movement, an earn batch) and one per sync; the results come back in that order:
 * a statement's result(s) and then NULL, a sync's PGRES_PIPELINE_SYNC. Between two syncs is
 * one unit: a read alone, or a write batch. No BEGIN/COMMIT: PostgreSQL runs the statements
 * before a sync as one implicit transaction and commits it at the sync, so the sync's result
 * is the commit (or, after an error, the rollback).
 */
#define _GNU_SOURCE
#include "dbloop.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 64
#define READS_IN_FLIGHT_MAX 128 /* per read connection */
#define PROBE_EVERY_MS 500
#define REOPEN_WAIT_MS 250

/* The columns of a movement's row: loyalty_try_move's; the last three are the error. */
#define MOVE_COLUMNS \
  "txn_id, points, balance, tier, tier_changed, replayed, explanation, pending_points," \
  " to_char(release_on, 'YYYY-MM-DD'), error_state, error_message, error_detail"
#define MOVE_SQLSTATE 9

static const db_statement stmt_try_move = {
  .name = "try_move",
  .sql = "SELECT " MOVE_COLUMNS " FROM loyalty_try_move($1, $2)",
  .n_params = 2,
};

static const db_statement stmt_try_earn_batch = {
  .name = "try_earn_batch",
  .sql = "SELECT " MOVE_COLUMNS
         " FROM loyalty_try_earn_batch($1, $2, $3, $4, $5, $6, $7, $8)",
  .n_params = EARN_N_PARAMS,
};

static const db_statement stmt_probe = {.name = "probe", .sql = "SELECT 1", .n_params = 0};

typedef enum step_kind { STEP_PREPARE, STEP_READ, STEP_MOVE, STEP_EARN_BATCH, STEP_SYNC } step_kind;

typedef struct step {
  step_kind kind;
  dbloop_call *call;     /* STEP_READ, STEP_MOVE */
  dbloop_call **calls;   /* STEP_EARN_BATCH: its earns, in row order (malloc'ed) */
  int n_calls;
  PGresult *result;      /* STEP_MOVE, STEP_EARN_BATCH: kept until the sync (commit) */
  struct step *next;
} step;

typedef enum conn_state { CONN_DOWN, CONN_OPENING, CONN_UP } conn_state;

typedef struct conn {
  int index;
  bool writes;            /* a write connection (else reads) */
  conn_state state;
  PGconn *pg;
  PGconn *opened;         /* handed over by the opener (under the lock) */
  bool open_failed;       /* the opener could not (under the lock) */
  bool failing;           /* the last open failed (logged once, until one succeeds) */
  int64_t reopen_at_ms;   /* CONN_DOWN: when to ask the opener again */
  const db_statement *prepared[64];
  int n_prepared;
  step *head, *tail;      /* in flight: sent, results not yet read */
  step *unit, *unit_tail; /* the unit being read: movements read, kept until its sync */
  int in_flight;          /* calls among the steps */
  bool write_in_flight;   /* a write batch awaits its sync */
  db_error unit_error;    /* the first error of the unit being read (kind DB_OK: none) */
  dbloop_call *pending, *pending_tail; /* write connections: movements waiting */
} conn;

struct dbloop {
  dbloop_config config;
  pthread_t loop_thread, opener_thread;
  int wake_fd;
  pthread_mutex_t lock;
  pthread_cond_t opener_cond;
  dbloop_call *inbox, *inbox_tail; /* submitted, not yet taken by the loop (lock) */
  int outstanding;                 /* calls submitted and not yet ended (lock) */
  bool stopping;                   /* (lock) */
  bool opener_work;                /* some connection is CONN_OPENING (lock) */
  conn conns[MAX_CONNECTIONS];
  int n_conns;                     /* readers first, then writers */
  dbloop_call *reads, *reads_tail; /* reads waiting for a connection */
  /* The probe. */
  dbloop_call probe;
  bool probe_in_flight;
  int64_t probe_next_ms;
  int64_t probe_ok_ms;            /* last answer (atomic through the lock: dbloop_healthy) */
};

static int64_t now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void wake(dbloop *loop)
{
  uint64_t one = 1;
  ssize_t n = write(loop->wake_fd, &one, sizeof one);
  (void)n; /* a full counter still wakes the loop */
}

static void set_error(db_error *err, db_error_kind kind, const char *message)
{
  memset(err, 0, sizeof *err);
  err->kind = kind;
  snprintf(err->message, sizeof err->message, "%s", message);
}

/* --- calls ------------------------------------------------------------------------------ */

static void queue_append(dbloop_call **head, dbloop_call **tail, dbloop_call *call)
{
  call->next = NULL;
  if (*tail != NULL)
    (*tail)->next = call;
  else
    *head = call;
  *tail = call;
}

/* The call leaves the loop (loop NULL: on the slow path, where it already has). */
static void call_left(dbloop *loop, dbloop_call *call)
{
  if (loop == NULL || call == &loop->probe)
    return;
  pthread_mutex_lock(&loop->lock);
  loop->outstanding--;
  pthread_mutex_unlock(&loop->lock);
}

static void call_end(dbloop *loop, dbloop_call *call, const PGresult *r, int row,
                     const db_error *err)
{
  call_left(loop, call);
  call->done(call, r, row, err);
}

static void call_fail(dbloop *loop, dbloop_call *call, db_error_kind kind, const char *message)
{
  db_error err;
  set_error(&err, kind, message);
  call_end(loop, call, NULL, 0, &err);
}

/* A movement's row: its outcome, or its error as a db_error; to the slow path when it was
 * refused for a lock (or a deadlock): there it waits for the lock, bounded by the statement
 * timeout. */
static void move_end(dbloop *loop, dbloop_call *call, const PGresult *r, int row)
{
  if (PQgetisnull(r, row, MOVE_SQLSTATE)) {
    call_end(loop, call, r, row, NULL);
    return;
  }
  const char *sqlstate = PQgetvalue(r, row, MOVE_SQLSTATE);
  if (loop != NULL && (strcmp(sqlstate, "55P03") == 0 || strcmp(sqlstate, "40P01") == 0)) {
    log_debug("movement of member %" PRId64 " waits for a lock: slow path", call->member_id);
    call_left(loop, call);
    if (loop->config.slow(loop->config.slow_arg, call) != 0)
      call_fail(NULL, call, DB_BUSY, "no slow-path worker free");
    return;
  }
  db_error err = {.kind = DB_SQL};
  snprintf(err.sqlstate, sizeof err.sqlstate, "%s", sqlstate);
  snprintf(err.message, sizeof err.message, "%s", PQgetvalue(r, row, MOVE_SQLSTATE + 1));
  snprintf(err.detail, sizeof err.detail, "%s", PQgetvalue(r, row, MOVE_SQLSTATE + 2));
  call_end(loop, call, NULL, 0, &err);
}

/* A movement's parameters for loyalty_try_move: kind and text[] literal, in a. */
static void move_params(arena *a, const dbloop_call *call, const char *params[2])
{
  params[0] = call->move;
  params[1] = db_text_array(a, call->args, (size_t)call->n_args);
}

void dbloop_run_blocking(db_conn *conn, dbloop_call *call)
{
  db_error err;
  PGresult *r;
  if (call->read != NULL) {
    r = db_exec(conn, call->read, call->values, &err);
  } else {
    const char *params[2];
    move_params(call->arena, call, params);
    r = db_exec(conn, &stmt_try_move, params, &err);
  }
  if (r == NULL)
    call_end(NULL, call, NULL, 0, &err);
  else if (call->read != NULL)
    call_end(NULL, call, r, 0, NULL);
  else if (PQntuples(r) != 1)
    call_fail(NULL, call, DB_UNAVAILABLE, "a movement gave no row");
  else
    move_end(NULL, call, r, 0);
  PQclear(r);
}

/* --- connections ------------------------------------------------------------------------ */

static void conn_push(conn *c, step_kind kind, dbloop_call *call)
{
  step *s = calloc(1, sizeof *s);
  if (s == NULL)
    abort();
  s->kind = kind;
  s->call = call;
  if (c->tail != NULL)
    c->tail->next = s;
  else
    c->head = s;
  c->tail = s;
  if (call != NULL)
    c->in_flight++;
}

static void step_free(step *s)
{
  PQclear(s->result);
  free(s->calls);
  free(s);
}

/* Prepares statement on c first if it is not yet (in the same pipeline: no round trip). */
static bool conn_prepare(conn *c, const db_statement *statement)
{
  for (int i = 0; i < c->n_prepared; i++) {
    if (c->prepared[i] == statement)
      return true;
  }
  if (!PQsendPrepare(c->pg, statement->name, statement->sql, statement->n_params, NULL))
    return false;
  if (c->n_prepared < (int)(sizeof c->prepared / sizeof c->prepared[0]))
    c->prepared[c->n_prepared++] = statement;
  conn_push(c, STEP_PREPARE, NULL);
  return true;
}

static bool conn_send(conn *c, const db_statement *statement, const char *const *values)
{
  return conn_prepare(c, statement) &&
         PQsendQueryPrepared(c->pg, statement->name, statement->n_params, values, NULL, NULL,
                             0);
}

static void conn_opener_request(dbloop *loop, conn *c)
{
  c->state = CONN_OPENING;
  pthread_mutex_lock(&loop->lock);
  loop->opener_work = true;
  pthread_cond_signal(&loop->opener_cond);
  pthread_mutex_unlock(&loop->lock);
}

/* Ends every call in flight on c and closes it: calls past their deadline DEADLINE_EXCEEDED,
 * reads not yet past it sent again elsewhere, movements UNAVAILABLE (their outcome is
 * unknown: the same request_id replays safely). */
static void conn_drop(dbloop *loop, conn *c, const char *why)
{
  log_warn("database connection %s %d dropped: %s", c->writes ? "w" : "r", c->index, why);
  PQfinish(c->pg);
  c->pg = NULL;
  c->n_prepared = 0;
  c->write_in_flight = false;
  c->in_flight = 0;
  int64_t now = now_ms();
  for (int list = 0; list < 2; list++) {
    step *s = list == 0 ? c->unit : c->head;
    while (s != NULL) {
      step *next = s->next;
      dbloop_call *one[1] = {s->call};
      dbloop_call **calls = s->kind == STEP_EARN_BATCH ? s->calls : one;
      int n = s->kind == STEP_EARN_BATCH ? s->n_calls : s->call != NULL;
      for (int i = 0; i < n; i++) {
        dbloop_call *call = calls[i];
        if (call == &loop->probe)
          loop->probe_in_flight = false;
        else if (call->deadline_ms <= now)
          call_fail(loop, call, DB_DEADLINE, "deadline passed while the database worked");
        else if (call->read != NULL)
          queue_append(&loop->reads, &loop->reads_tail, call);
        else
          call_fail(loop, call, DB_UNAVAILABLE, "database connection lost");
      }
      step_free(s);
      s = next;
    }
  }
  c->head = c->tail = c->unit = c->unit_tail = NULL;
  memset(&c->unit_error, 0, sizeof c->unit_error);
  c->state = CONN_DOWN;
  c->reopen_at_ms = 0;
}

/* The sync of c's unit arrived: its transaction is committed, or rolled back after an
 * error. Every movement of the unit gets its answer now. */
static void unit_end(dbloop *loop, conn *c)
{
  bool failed = c->unit_error.kind != DB_OK;
  dbloop_call *again = NULL, *again_tail = NULL; /* to send once more, first in line */
  step *s = c->unit;
  c->unit = c->unit_tail = NULL;
  while (s != NULL) {
    step *next = s->next;
    if (s->kind == STEP_MOVE) {
      c->in_flight--;
      ExecStatusType status = s->result ? PQresultStatus(s->result) : PGRES_FATAL_ERROR;
      if (status == PGRES_TUPLES_OK && PQntuples(s->result) == 1 && !failed) {
        move_end(loop, s->call, s->result, 0);
      } else if (status == PGRES_FATAL_ERROR) { /* the error that rolled the unit back */
        db_error err;
        db_error_from(&err, c->pg, s->result);
        call_end(loop, s->call, NULL, 0, &err);
      } else { /* rolled back with the others: nothing of it was written; once more */
        queue_append(&again, &again_tail, s->call);
      }
    } else if (s->kind == STEP_EARN_BATCH) {
      c->in_flight -= s->n_calls;
      bool written = !failed && s->result != NULL &&
                     PQresultStatus(s->result) == PGRES_TUPLES_OK &&
                     PQntuples(s->result) == s->n_calls;
      for (int i = 0; written && i < s->n_calls; i++)
        written = PQgetisnull(s->result, i, MOVE_SQLSTATE);
      for (int i = 0; i < s->n_calls; i++) {
        if (written) {
          call_end(loop, s->calls[i], s->result, i, NULL);
        } else { /* refused, or rolled back: each goes alone */
          s->calls[i]->alone = true;
          queue_append(&again, &again_tail, s->calls[i]);
        }
      }
    }
    step_free(s);
    s = next;
  }
  if (again != NULL) {
    again_tail->next = c->pending;
    if (c->pending == NULL)
      c->pending_tail = again_tail;
    c->pending = again;
  }
  if (failed)
    log_error("a write batch failed: %s %s %s", c->unit_error.sqlstate, c->unit_error.message,
              c->unit_error.detail);
  c->write_in_flight = false;
  memset(&c->unit_error, 0, sizeof c->unit_error);
}

/* A result of the step at the head of c's FIFO. */
static void step_result(dbloop *loop, conn *c, step *s, PGresult *r)
{
  ExecStatusType status = PQresultStatus(r);
  if (status == PGRES_FATAL_ERROR && c->unit_error.kind == DB_OK)
    db_error_from(&c->unit_error, c->pg, r);
  if (s->kind == STEP_READ && s->call != NULL) {
    dbloop_call *call = s->call;
    s->call = NULL; /* answered */
    c->in_flight--;
    if (call == &loop->probe) {
      loop->probe_in_flight = false;
      if (status == PGRES_TUPLES_OK) {
        pthread_mutex_lock(&loop->lock);
        loop->probe_ok_ms = now_ms();
        pthread_mutex_unlock(&loop->lock);
      }
    } else if (status == PGRES_TUPLES_OK) {
      call_end(loop, call, r, 0, NULL);
    } else {
      db_error err = c->unit_error;
      if (err.kind == DB_OK)
        set_error(&err, DB_UNAVAILABLE, "read skipped");
      call_end(loop, call, NULL, 0, &err);
    }
  } else if ((s->kind == STEP_MOVE || s->kind == STEP_EARN_BATCH) && s->result == NULL) {
    s->result = r; /* kept until the sync */
    return;
  }
  PQclear(r);
}

/* Reads every result that has arrived on c. */
static void conn_read(dbloop *loop, conn *c)
{
  if (!PQconsumeInput(c->pg)) {
    conn_drop(loop, c, PQerrorMessage(c->pg));
    return;
  }
  while (c->head != NULL && !PQisBusy(c->pg)) {
    step *s = c->head;
    PGresult *r = PQgetResult(c->pg);
    if (r != NULL && s->kind != STEP_SYNC) {
      step_result(loop, c, s, r);
      continue;
    }
    if (r == NULL && s->kind == STEP_SYNC)
      continue; /* not expected: a sync has no NULL after it */
    /* The step is over (a statement's NULL, or the sync's result). */
    c->head = s->next;
    if (c->head == NULL)
      c->tail = NULL;
    s->next = NULL;
    if (s->kind == STEP_SYNC) {
      PQclear(r);
      step_free(s);
      unit_end(loop, c);
    } else if (s->kind == STEP_MOVE || s->kind == STEP_EARN_BATCH) {
      if (c->unit_tail != NULL)
        c->unit_tail->next = s;
      else
        c->unit = s;
      c->unit_tail = s;
    } else {
      step_free(s);
    }
  }
  if (c->pg != NULL && PQstatus(c->pg) != CONNECTION_OK)
    conn_drop(loop, c, PQerrorMessage(c->pg));
}

/* --- sending ---------------------------------------------------------------------------- */

static bool send_sync(conn *c)
{
  if (!PQpipelineSync(c->pg))
    return false;
  conn_push(c, STEP_SYNC, NULL);
  return true;
}

static bool send_read(conn *c, dbloop_call *call)
{
  if (!conn_send(c, call->read, call->values))
    return false;
  conn_push(c, STEP_READ, call);
  return send_sync(c);
}

/* Whether call is an earn that may go set-wise: no other movement of its member in batch. */
static bool set_wise(dbloop_call **batch, int n, int i)
{
  if (batch[i]->alone || strcmp(batch[i]->move, "earn") != 0 || batch[i]->n_args != EARN_N_PARAMS)
    return false;
  for (int j = 0; j < n; j++) {
    if (j != i && batch[j]->member_id == batch[i]->member_id)
      return false;
  }
  return true;
}

/* Sends the movements waiting on write connection c as one unit (one transaction). false
 * when the connection failed (the caller drops it); what was not sent waits again. */
static bool send_batch(dbloop *loop, conn *c)
{
  dbloop_call *batch[DBLOOP_MAX_BATCH];
  bool sent[DBLOOP_MAX_BATCH] = {false};
  int n = 0;
  while (c->pending != NULL && n < loop->config.max_batch) {
    batch[n++] = c->pending;
    c->pending = c->pending->next;
  }
  if (c->pending == NULL)
    c->pending_tail = NULL;
  arena *scratch = arena_create(); /* parameters: libpq copies them as it sends */
  bool ok = true;
  dbloop_call **earns = malloc(sizeof *earns * (size_t)n);
  if (earns == NULL)
    abort();
  int n_earns = 0;
  for (int i = 0; i < n; i++) {
    if (set_wise(batch, n, i))
      earns[n_earns++] = batch[i];
  }
  if (n_earns >= 2) {
    const char *params[EARN_N_PARAMS];
    const char *column[DBLOOP_MAX_BATCH];
    for (int p = 0; p < EARN_N_PARAMS; p++) {
      for (int i = 0; i < n_earns; i++)
        column[i] = earns[i]->args[p];
      params[p] = db_text_array(scratch, column, (size_t)n_earns);
    }
    ok = conn_send(c, &stmt_try_earn_batch, params);
    if (ok) {
      conn_push(c, STEP_EARN_BATCH, NULL);
      c->tail->calls = earns;
      c->tail->n_calls = n_earns;
      c->in_flight += n_earns;
      for (int i = 0; i < n; i++)
        sent[i] = set_wise(batch, n, i);
    } else {
      free(earns);
    }
  } else {
    free(earns);
  }
  for (int i = 0; ok && i < n; i++) {
    if (sent[i])
      continue;
    const char *params[2];
    move_params(scratch, batch[i], params);
    ok = conn_send(c, &stmt_try_move, params);
    if (ok) {
      conn_push(c, STEP_MOVE, batch[i]);
      sent[i] = true;
    }
  }
  arena_destroy(scratch);
  log_debug("write batch on connection %d: %d movements, %d earns set-wise", c->index, n,
            n_earns >= 2 ? n_earns : 0);
  if (ok)
    ok = send_sync(c);
  c->write_in_flight = true;
  /* What was not sent goes back to the front of the line, in its order. */
  for (int i = n - 1; i >= 0; i--) {
    if (!sent[i]) {
      batch[i]->next = c->pending;
      c->pending = batch[i];
      if (c->pending_tail == NULL)
        c->pending_tail = batch[i];
    }
  }
  return ok;
}

/* --- the opener ------------------------------------------------------------------------- */

static void *opener_main(void *arg)
{
  dbloop *loop = arg;
  pthread_mutex_lock(&loop->lock);
  for (;;) {
    while (!loop->opener_work && !loop->stopping)
      pthread_cond_wait(&loop->opener_cond, &loop->lock);
    if (loop->stopping)
      break;
    loop->opener_work = false;
    for (int i = 0; i < loop->n_conns; i++) {
      conn *c = &loop->conns[i];
      if (c->state != CONN_OPENING || c->opened != NULL || c->open_failed)
        continue;
      pthread_mutex_unlock(&loop->lock);
      char options[160];
      snprintf(options, sizeof options,
               "-c statement_timeout=%d -c lock_timeout=%d -c client_connection_check_interval=1000",
               loop->config.statement_timeout_ms, c->writes ? loop->config.lock_timeout_ms : 0);
      db_error err;
      PGconn *pg = db_connect_with(loop->config.conninfo, options, &err);
      if (pg != NULL && (PQsetnonblocking(pg, 1) != 0 || PQenterPipelineMode(pg) != 1)) {
        set_error(&err, DB_UNAVAILABLE, PQerrorMessage(pg));
        PQfinish(pg);
        pg = NULL;
      }
      pthread_mutex_lock(&loop->lock);
      if (pg == NULL && !c->failing)
        log_warn("cannot open a database connection: %s", err.message);
      else if (pg != NULL && c->failing)
        log_info("database connection %d open again", c->index);
      c->failing = pg == NULL;
      c->opened = pg;
      c->open_failed = pg == NULL; /* the loop then waits a little and asks again */
      wake(loop);
    }
  }
  pthread_mutex_unlock(&loop->lock);
  return NULL;
}

/* --- the loop --------------------------------------------------------------------------- */

/* Moves what was submitted to the queues of the loop: reads to the shared line, movements
 * to their member's write connection. */
static void take_inbox(dbloop *loop)
{
  pthread_mutex_lock(&loop->lock);
  dbloop_call *call = loop->inbox;
  loop->inbox = loop->inbox_tail = NULL;
  pthread_mutex_unlock(&loop->lock);
  int n_readers = loop->config.read_connections;
  int n_writers = loop->config.write_connections;
  while (call != NULL) {
    dbloop_call *next = call->next;
    if (call->read != NULL) {
      queue_append(&loop->reads, &loop->reads_tail, call);
    } else {
      uint64_t h = (uint64_t)call->member_id;
      conn *c = &loop->conns[n_readers + (int)(h % (uint64_t)n_writers)];
      queue_append(&c->pending, &c->pending_tail, call);
    }
    call = next;
  }
}

/* Ends calls that wait for a connection the database refused: UNAVAILABLE at once (nothing
 * was sent), as it would answer them (a restart, say), rather than at their deadline. */
static void fail_waiting(dbloop *loop, dbloop_call **head, dbloop_call **tail)
{
  dbloop_call *call = *head;
  *head = *tail = NULL;
  while (call != NULL) {
    dbloop_call *next = call->next;
    if (call == &loop->probe)
      loop->probe_in_flight = false;
    else
      call_fail(loop, call, DB_UNAVAILABLE, "cannot connect to the database");
    call = next;
  }
}

static bool any_reader_up(dbloop *loop)
{
  for (int i = 0; i < loop->config.read_connections; i++) {
    if (loop->conns[i].state == CONN_UP)
      return true;
  }
  return false;
}

/* Adopts connections the opener has opened (or failed to). */
static void adopt_opened(dbloop *loop)
{
  int64_t now = now_ms();
  bool refused = false;
  pthread_mutex_lock(&loop->lock);
  for (int i = 0; i < loop->n_conns; i++) {
    conn *c = &loop->conns[i];
    if (c->state != CONN_OPENING || (c->opened == NULL && !c->open_failed))
      continue;
    if (c->open_failed) {
      c->state = CONN_DOWN;
      c->reopen_at_ms = now + REOPEN_WAIT_MS;
      c->open_failed = false;
      refused = true;
    } else {
      c->pg = c->opened;
      c->state = CONN_UP;
      c->n_prepared = 0;
    }
    c->opened = NULL;
  }
  pthread_mutex_unlock(&loop->lock);
  if (!refused)
    return;
  take_inbox(loop);
  for (int i = 0; i < loop->n_conns; i++) {
    conn *c = &loop->conns[i];
    if (c->writes && c->state == CONN_DOWN && c->failing)
      fail_waiting(loop, &c->pending, &c->pending_tail);
  }
  if (!any_reader_up(loop))
    fail_waiting(loop, &loop->reads, &loop->reads_tail);
}

/* Sends what waits: reads to the read connection with the least in flight, a write batch
 * on each write connection that has none in flight. */
static void send_waiting(dbloop *loop)
{
  int64_t now = now_ms();
  if (!loop->probe_in_flight && now >= loop->probe_next_ms && loop->config.read_connections > 0) {
    loop->probe_next_ms = now + PROBE_EVERY_MS;
    loop->probe_in_flight = true;
    loop->probe.deadline_ms = now + DBLOOP_HEALTH_MS;
    loop->probe.next = loop->reads; /* first in line, not counted as queued */
    loop->reads = &loop->probe;
    if (loop->reads_tail == NULL)
      loop->reads_tail = &loop->probe;
  }
  while (loop->reads != NULL) {
    conn *best = NULL;
    for (int i = 0; i < loop->config.read_connections; i++) {
      conn *c = &loop->conns[i];
      if (c->state == CONN_UP && c->in_flight < READS_IN_FLIGHT_MAX &&
          (best == NULL || c->in_flight < best->in_flight))
        best = c;
    }
    if (best == NULL)
      break;
    dbloop_call *call = loop->reads;
    loop->reads = call->next;
    if (loop->reads == NULL)
      loop->reads_tail = NULL;
    if (!send_read(best, call)) {
      call->next = loop->reads;
      loop->reads = call;
      if (loop->reads_tail == NULL)
        loop->reads_tail = call;
      conn_drop(loop, best, PQerrorMessage(best->pg));
    }
  }
  for (int i = loop->config.read_connections; i < loop->n_conns; i++) {
    conn *c = &loop->conns[i];
    if (c->state != CONN_UP || c->write_in_flight || c->pending == NULL)
      continue;
    if (!send_batch(loop, c))
      conn_drop(loop, c, PQerrorMessage(c->pg));
  }
}

/* Ends the calls whose deadline passed: waiting ones DEADLINE_EXCEEDED (nothing was sent);
 * a connection with one in flight is dropped (conn_drop). Returns the next deadline. */
static int64_t check_deadlines(dbloop *loop, int64_t now)
{
  int64_t next = INT64_MAX;
  for (int q = -1; q < loop->n_conns; q++) {
    dbloop_call **head = q < 0 ? &loop->reads : &loop->conns[q].pending;
    dbloop_call **tail = q < 0 ? &loop->reads_tail : &loop->conns[q].pending_tail;
    dbloop_call *keep = NULL, *keep_tail = NULL;
    for (dbloop_call *call = *head, *next_call; call != NULL; call = next_call) {
      next_call = call->next;
      if (call->deadline_ms <= now) {
        if (call == &loop->probe) {
          loop->probe_in_flight = false;
        } else {
          call_fail(loop, call, DB_DEADLINE, "deadline passed before the database was free");
        }
        continue;
      }
      if (call->deadline_ms < next)
        next = call->deadline_ms;
      queue_append(&keep, &keep_tail, call);
    }
    *head = keep;
    *tail = keep_tail;
  }
  for (int i = 0; i < loop->n_conns; i++) {
    conn *c = &loop->conns[i];
    bool overdue = false;
    for (int list = 0; list < 2 && !overdue; list++) {
      for (step *s = list == 0 ? c->unit : c->head; s != NULL && !overdue; s = s->next) {
        int n = s->kind == STEP_EARN_BATCH ? s->n_calls : s->call != NULL;
        for (int k = 0; k < n; k++) {
          dbloop_call *call = s->kind == STEP_EARN_BATCH ? s->calls[k] : s->call;
          if (call->deadline_ms <= now)
            overdue = true;
          else if (call->deadline_ms < next)
            next = call->deadline_ms;
        }
      }
    }
    if (overdue)
      conn_drop(loop, c, "a call's deadline passed with its statement outstanding");
  }
  return next;
}

static bool all_idle(dbloop *loop)
{
  if (loop->reads != NULL || loop->inbox != NULL)
    return false;
  for (int i = 0; i < loop->n_conns; i++) {
    conn *c = &loop->conns[i];
    if (c->pending != NULL || c->in_flight > 0)
      return false;
  }
  return true;
}

static void *loop_main(void *arg)
{
  dbloop *loop = arg;
  struct pollfd fds[MAX_CONNECTIONS + 1];
  conn *polled[MAX_CONNECTIONS + 1];
  for (;;) {
    int64_t now = now_ms();
    adopt_opened(loop);
    take_inbox(loop);
    pthread_mutex_lock(&loop->lock);
    bool stopping = loop->stopping;
    pthread_mutex_unlock(&loop->lock);
    if (stopping && all_idle(loop))
      break;
    for (int i = 0; i < loop->n_conns; i++) {
      conn *c = &loop->conns[i];
      if (c->state == CONN_DOWN && now >= c->reopen_at_ms && !stopping)
        conn_opener_request(loop, c);
    }
    send_waiting(loop);
    int64_t next = check_deadlines(loop, now);
    if (!loop->probe_in_flight && loop->probe_next_ms < next)
      next = loop->probe_next_ms;
    for (int i = 0; i < loop->n_conns; i++) {
      if (loop->conns[i].state == CONN_DOWN && loop->conns[i].reopen_at_ms < next)
        next = loop->conns[i].reopen_at_ms;
    }
    int n = 0;
    fds[n].fd = loop->wake_fd;
    fds[n].events = POLLIN;
    polled[n++] = NULL;
    for (int i = 0; i < loop->n_conns; i++) {
      conn *c = &loop->conns[i];
      if (c->state != CONN_UP)
        continue;
      int flushing = PQflush(c->pg);
      if (flushing < 0) {
        conn_drop(loop, c, PQerrorMessage(c->pg));
        continue;
      }
      fds[n].fd = PQsocket(c->pg);
      fds[n].events = POLLIN | (flushing ? POLLOUT : 0);
      polled[n++] = c;
    }
    int64_t wait = next == INT64_MAX ? 1000 : next - now_ms();
    if (wait < 0)
      wait = 0;
    if (wait > 1000)
      wait = 1000;
    if (poll(fds, (nfds_t)n, (int)wait) < 0 && errno != EINTR) {
      log_error("poll: %s", strerror(errno));
      continue;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      ssize_t got = read(loop->wake_fd, &count, sizeof count);
      (void)got;
    }
    /* Every connection with something in flight, not only those poll named: libpq may have
     * read a result into its buffer already (while flushing), and poll will not tell. */
    for (int i = 1; i < n; i++) {
      if (polled[i]->state == CONN_UP && (fds[i].revents != 0 || polled[i]->head != NULL))
        conn_read(loop, polled[i]);
    }
  }
  return NULL;
}

/* --- interface -------------------------------------------------------------------------- */

dbloop *dbloop_start(const dbloop_config *config)
{
  dbloop *loop = calloc(1, sizeof *loop);
  if (loop == NULL)
    abort();
  loop->config = *config;
  if (loop->config.read_connections < 1)
    loop->config.read_connections = 1;
  if (loop->config.write_connections < 1)
    loop->config.write_connections = 1;
  if (loop->config.max_batch < 1 || loop->config.max_batch > DBLOOP_MAX_BATCH)
    loop->config.max_batch = DBLOOP_MAX_BATCH;
  if (loop->config.read_connections + loop->config.write_connections > MAX_CONNECTIONS)
    loop->config.write_connections = MAX_CONNECTIONS - loop->config.read_connections;
  loop->n_conns = loop->config.read_connections + loop->config.write_connections;
  for (int i = 0; i < loop->n_conns; i++) {
    loop->conns[i].index = i;
    loop->conns[i].writes = i >= loop->config.read_connections;
  }
  loop->probe.read = &stmt_probe;
  loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (loop->wake_fd < 0)
    abort();
  pthread_mutex_init(&loop->lock, NULL);
  pthread_cond_init(&loop->opener_cond, NULL);
  if (pthread_create(&loop->opener_thread, NULL, opener_main, loop) != 0 ||
      pthread_create(&loop->loop_thread, NULL, loop_main, loop) != 0)
    abort();
  return loop;
}

void dbloop_stop(dbloop *loop)
{
  pthread_mutex_lock(&loop->lock);
  loop->stopping = true;
  pthread_cond_signal(&loop->opener_cond);
  pthread_mutex_unlock(&loop->lock);
  wake(loop);
  pthread_join(loop->loop_thread, NULL);
  pthread_join(loop->opener_thread, NULL);
  for (int i = 0; i < loop->n_conns; i++) {
    conn *c = &loop->conns[i];
    if (c->state == CONN_UP && c->in_flight > 0)
      conn_drop(loop, c, "stopping");
    PQfinish(c->pg);
    PQfinish(c->opened);
  }
  /* Anything still waiting (only when the loop was told to stop with calls queued). */
  take_inbox(loop);
  for (dbloop_call *call = loop->reads, *next; call != NULL; call = next) {
    next = call->next;
    if (call != &loop->probe)
      call_fail(loop, call, DB_UNAVAILABLE, "server stopping");
  }
  for (int i = 0; i < loop->n_conns; i++) {
    for (dbloop_call *call = loop->conns[i].pending, *next; call != NULL; call = next) {
      next = call->next;
      call_fail(loop, call, DB_UNAVAILABLE, "server stopping");
    }
  }
  close(loop->wake_fd);
  pthread_mutex_destroy(&loop->lock);
  pthread_cond_destroy(&loop->opener_cond);
  free(loop);
}

int dbloop_submit(dbloop *loop, dbloop_call *call)
{
  call->alone = false;
  pthread_mutex_lock(&loop->lock);
  if (loop->outstanding >= DBLOOP_MAX_OUTSTANDING) {
    pthread_mutex_unlock(&loop->lock);
    return -1;
  }
  loop->outstanding++;
  queue_append(&loop->inbox, &loop->inbox_tail, call);
  pthread_mutex_unlock(&loop->lock);
  wake(loop);
  return 0;
}

bool dbloop_healthy(dbloop *loop)
{
  pthread_mutex_lock(&loop->lock);
  bool healthy = loop->probe_ok_ms > 0 && now_ms() - loop->probe_ok_ms <= DBLOOP_HEALTH_MS + PROBE_EVERY_MS;
  pthread_mutex_unlock(&loop->lock);
  return healthy;
}
