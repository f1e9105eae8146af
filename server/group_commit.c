/*
 * group_commit.c - group commit for Earn (see group_commit.h).
 *
 * Memory: a job lives on its caller's stack; a writer fills in the caller's result and
 * status through job->ctx, whose arena only that writer touches until job->done is set
 * (under the lock, which orders those writes before the caller reads them). Hence a call
 * becomes a writer only while its own job is still queued: once another writer has taken
 * it, its arena is that writer's to use, and it only waits.
 *
 * Results: the writer runs statements on its own connection for other calls, so it uses
 * db_exec, not handler_query (which would borrow a connection for, and set the status of,
 * the ctx it is given). Each result is cleared as soon as its values are copied into the
 * jobs' arenas: none is tied to an arena, which would keep a batch's result alive for as
 * long as one of its calls, or other calls' results for as long as the writer's.
 */
#include "group_commit.h"
#include "handlers.h"
#include "log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_COMMIT_HARD_MAX 64

typedef struct earn_job {
  rpc_ctx *ctx;
  const char *const *params;
  Loyalty__V1__PointsResult *result;
  grpc_status_code status;
  bool queued; /* waiting in the queue, not yet taken by a writer */
  bool done;
  struct earn_job *next;
} earn_job;

/* The columns of an earn's answer: POINTS_RESULT_COLUMNS, then explanation, pending_points,
 * release_on (result_from_row). */
#define EARN_RESULT_COLUMNS \
  POINTS_RESULT_COLUMNS ", explanation, pending_points, to_char(release_on, 'YYYY-MM-DD')"

static const db_statement stmt_earn = {
  .name = "earn",
  .sql = "SELECT " EARN_RESULT_COLUMNS " FROM loyalty_earn($1, $2, $3, $4, $5, $6, $7, $8)",
  .n_params = EARN_N_PARAMS,
};

static const db_statement stmt_earn_batch = {
  .name = "earn_batch",
  .sql = "SELECT " EARN_RESULT_COLUMNS
         " FROM loyalty_earn_batch($1, $2, $3, $4, $5, $6, $7, $8)",
  .n_params = EARN_N_PARAMS,
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static earn_job *queue_head, *queue_tail;
static int writers;
static int max_size = 64;
static int max_writers = 1;

void group_commit_configure(int size, int n_writers)
{
  max_size = size < 1 ? 1 : size > GROUP_COMMIT_HARD_MAX ? GROUP_COMMIT_HARD_MAX : size;
  max_writers = n_writers < 1 ? 1 : n_writers;
}

/* Takes the writer's own job and up to max_size - 1 more queued jobs of other members off
 * the queue (lock held). */
static int take_batch(earn_job *own, earn_job **batch)
{
  int n = 0;
  earn_job **link = &queue_head;
  queue_tail = NULL;
  batch[n++] = own;
  while (*link != NULL) {
    earn_job *job = *link;
    bool take = job == own;
    if (!take && n < max_size) {
      take = true;
      for (int i = 0; i < n && take; i++)
        take = strcmp(batch[i]->params[EARN_MEMBER_ID], job->params[EARN_MEMBER_ID]) != 0;
      if (take)
        batch[n++] = job;
    }
    if (take) {
      job->queued = false;
      *link = job->next; /* unlink */
    } else {
      queue_tail = job;
      link = &job->next;
    }
  }
  return n;
}

static void result_from_row(earn_job *job, const PGresult *r, int row)
{
  job->result = handler_points_result(job->ctx, r, row);
  job->result->explanation = handler_get_text(job->ctx, r, row, 6); /* the earn's reason */
  job->result->pending_points = handler_get_int64(r, row, 7);
  job->result->release_on = handler_get_text(job->ctx, r, row, 8); /* "" when not pending */
  job->status = GRPC_STATUS_OK;
}

/* Makes one earn alone: the answer for every case. */
static void write_one(db_conn *db, earn_job *job)
{
  db_error err;
  PGresult *r = db_exec(db, &stmt_earn, job->params, &err);
  if (r == NULL)
    job->status = rpc_fail_db(job->ctx, &err);
  else if (PQntuples(r) != 1)
    job->status = rpc_fail(job->ctx, GRPC_STATUS_INTERNAL, "internal error");
  else
    result_from_row(job, r, 0);
  PQclear(r); /* copied into the job's arena: see the top of the file */
}

/* The batch's parameters: one text[] or bytea[] literal per loyalty_earn parameter. */
static void batch_params(rpc_ctx *ctx, earn_job **batch, int n, const char *out[EARN_N_PARAMS])
{
  char *column[GROUP_COMMIT_HARD_MAX];
  for (int p = 0; p < EARN_N_PARAMS; p++) {
    for (int i = 0; i < n; i++)
      column[i] = (char *)batch[i]->params[p];
    out[p] = handler_text_array(ctx, column, (size_t)n);
  }
}

/* Writes the batch on the writer's connection; every job ends with its answer. */
static void write_batch(rpc_ctx *writer, earn_job **batch, int n)
{
  db_conn *db = rpc_db(writer);
  if (db == NULL) {
    for (int i = 0; i < n; i++)
      batch[i]->status = rpc_fail(batch[i]->ctx, writer->status, "%s", writer->message);
    return;
  }
  if (n > 1) {
    const char *params[EARN_N_PARAMS];
    batch_params(writer, batch, n, params);
    db_error err;
    PGresult *r = db_exec(db, &stmt_earn_batch, params, &err);
    bool written = r != NULL && PQntuples(r) == n;
    for (int i = 0; written && i < n; i++)
      result_from_row(batch[i], r, i);
    PQclear(r); /* copied into the jobs' arenas: see the top of the file */
    if (written)
      return;
    if (err.kind == DB_UNAVAILABLE) {
      /* Nothing of the batch is known written; each caller may retry its request_id. */
      for (int i = 0; i < n; i++)
        batch[i]->status = rpc_fail_db(batch[i]->ctx, &err);
      return;
    }
    /* LY300: the batch saw something unusual; 23505, 40P01: a race it could not see. Anything
     * else is a bug in the batch, which the one-by-one path would hide: say it loudly. */
    if (strcmp(err.sqlstate, "23505") == 0 || strcmp(err.sqlstate, "40P01") == 0)
      log_debug("earn batch of %d failed (%s %s): one by one", n, err.sqlstate, err.message);
    else if (strcmp(err.sqlstate, "LY300") != 0)
      log_error("earn batch of %d failed (%s %s %s): one by one", n, err.sqlstate, err.message,
                err.detail);
  }
  for (int i = 0; i < n; i++)
    write_one(db, batch[i]);
}

grpc_status_code group_commit_earn(rpc_ctx *ctx, const char *const params[EARN_N_PARAMS],
                                   Loyalty__V1__PointsResult **result)
{
  earn_job self = {.ctx = ctx, .params = params, .queued = true};
  earn_job *batch[GROUP_COMMIT_HARD_MAX];

  if (max_size == 1) { /* batching off: every call writes its own earn, in parallel */
    batch[0] = &self;
    write_batch(ctx, batch, 1);
    *result = self.result;
    return self.status;
  }

  pthread_mutex_lock(&lock);
  if (queue_tail != NULL)
    queue_tail->next = &self;
  else
    queue_head = &self;
  queue_tail = &self;
  while (!self.done) {
    if (self.queued && writers < max_writers) {
      int n = take_batch(&self, batch);
      writers++;
      pthread_mutex_unlock(&lock);
      write_batch(ctx, batch, n);
      pthread_mutex_lock(&lock);
      writers--;
      for (int i = 0; i < n; i++)
        batch[i]->done = true;
      pthread_cond_broadcast(&changed);
    } else {
      pthread_cond_wait(&changed, &lock);
    }
  }
  pthread_mutex_unlock(&lock);
  *result = self.result;
  return self.status;
}
