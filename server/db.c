/*
 * db.c - the connection pool.
 *
 * A db_conn is either free (on the pool's stack) or borrowed by exactly one call. Its
 * PGconn may be NULL or broken; db_exec (re)connects as needed, so a PostgreSQL restart
 * costs the calls made while it is down (UNAVAILABLE), and nothing after.
 */
#include "db.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct db_conn {
  db_pool *pool;
  PGconn *pg;                      /* NULL or broken until db_exec reopens it */
  const db_statement **prepared;   /* the n_prepared statements prepared on pg (malloc'ed, */
  int n_prepared;                  /* grows to any number: capacity slots) */
  int capacity;
};

struct db_pool {
  char *conninfo;
  int statement_timeout_ms;
  pthread_mutex_t lock;
  pthread_cond_t available;
  db_conn *conns;
  db_conn **free_stack;
  int n_free;
  int size;
};

PGconn *db_connect_once(const char *conninfo, int statement_timeout_ms, db_error *err)
{
  /* The statement timeout keeps a worker from being held forever (behind a lock, say). */
  char options[64];
  snprintf(options, sizeof options, "-c statement_timeout=%d", statement_timeout_ms);
  return db_connect_with(conninfo, options, err);
}

PGconn *db_connect_with(const char *conninfo, const char *options, db_error *err)
{
  /* Our defaults come first: anything in conninfo overrides them. */
  const char *keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "application_name", "options", "dbname", NULL};
  const char *vals[] = {"5", "30", "10", "3", "loyaltyd", options, conninfo, NULL};
  PGconn *pg = PQconnectdbParams(keys, vals, 1);
  if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
    db_error_from(err, pg, NULL);
    PQfinish(pg);
    return NULL;
  }
  return pg;
}

const char *db_text_array(arena *a, const char *const *strings, size_t n)
{
  size_t size = 3;
  for (size_t i = 0; i < n; i++)
    size += strings[i] ? 2 * strlen(strings[i]) + 3 : 5;
  char *out = arena_alloc(a, size);
  char *p = out;
  *p++ = '{';
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      *p++ = ',';
    if (strings[i] == NULL) {
      memcpy(p, "NULL", 4);
      p += 4;
      continue;
    }
    *p++ = '"';
    for (const char *s = strings[i]; *s; s++) {
      if (*s == '"' || *s == '\\')
        *p++ = '\\';
      *p++ = *s;
    }
    *p++ = '"';
  }
  *p++ = '}';
  *p = '\0';
  return out;
}

int db_error_from(db_error *err, PGconn *conn, const PGresult *result)
{
  memset(err, 0, sizeof *err);
  const char *sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
  if (conn == NULL || PQstatus(conn) != CONNECTION_OK || sqlstate == NULL) {
    err->kind = DB_UNAVAILABLE;
    snprintf(err->message, sizeof err->message, "%s",
             conn ? PQerrorMessage(conn) : "out of memory");
    /* libpq messages end with a newline; log lines should not. */
    err->message[strcspn(err->message, "\n")] = '\0';
    return -1;
  }
  err->kind = DB_SQL;
  snprintf(err->sqlstate, sizeof err->sqlstate, "%s", sqlstate);
  const char *primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char *detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
  snprintf(err->message, sizeof err->message, "%s", primary ? primary : "");
  snprintf(err->detail, sizeof err->detail, "%s", detail ? detail : "");
  return -1;
}

db_pool *db_pool_create(const char *conninfo, int size, int statement_timeout_ms)
{
  db_pool *pool = calloc(1, sizeof *pool);
  if (pool == NULL)
    abort();
  pool->conninfo = strdup(conninfo);
  pool->statement_timeout_ms = statement_timeout_ms;
  pool->conns = calloc((size_t)size, sizeof *pool->conns);
  pool->free_stack = calloc((size_t)size, sizeof *pool->free_stack);
  if (pool->conninfo == NULL || pool->conns == NULL || pool->free_stack == NULL)
    abort();
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->available, NULL);
  pool->size = size;
  for (int i = 0; i < size; i++) {
    pool->conns[i].pool = pool;
    pool->free_stack[i] = &pool->conns[i];
  }
  pool->n_free = size;
  return pool;
}

void db_pool_destroy(db_pool *pool)
{
  if (pool == NULL)
    return;
  for (int i = 0; i < pool->size; i++) {
    PQfinish(pool->conns[i].pg);
    free(pool->conns[i].prepared);
  }
  pthread_mutex_destroy(&pool->lock);
  pthread_cond_destroy(&pool->available);
  free(pool->conns);
  free(pool->free_stack);
  free(pool->conninfo);
  free(pool);
}

db_conn *db_acquire(db_pool *pool, int timeout_ms, db_error *err)
{
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  db_conn *conn = NULL;
  pthread_mutex_lock(&pool->lock);
  while (pool->n_free == 0) {
    if (pthread_cond_timedwait(&pool->available, &pool->lock, &until) == ETIMEDOUT)
      break;
  }
  if (pool->n_free > 0)
    conn = pool->free_stack[--pool->n_free];
  pthread_mutex_unlock(&pool->lock);
  memset(err, 0, sizeof *err);
  if (conn == NULL) {
    err->kind = DB_BUSY;
    snprintf(err->message, sizeof err->message, "no pooled connection free within %d ms",
             timeout_ms);
  }
  return conn;
}

void db_release(db_pool *pool, db_conn *conn)
{
  pthread_mutex_lock(&pool->lock);
  pool->free_stack[pool->n_free++] = conn;
  pthread_cond_signal(&pool->available);
  pthread_mutex_unlock(&pool->lock);
}

static bool conn_is_prepared(const db_conn *conn, const db_statement *statement)
{
  for (int i = 0; i < conn->n_prepared; i++) {
    if (conn->prepared[i] == statement)
      return true;
  }
  return false;
}

/* Records that statement is prepared on conn->pg; the list grows as needed, so every
 * statement is prepared once per connection however many there are. */
static void conn_add_prepared(db_conn *conn, const db_statement *statement)
{
  if (conn->n_prepared == conn->capacity) {
    int capacity = conn->capacity ? 2 * conn->capacity : 64;
    const db_statement **grown = realloc(conn->prepared, (size_t)capacity * sizeof *grown);
    if (grown == NULL)
      abort();
    conn->prepared = grown;
    conn->capacity = capacity;
  }
  conn->prepared[conn->n_prepared++] = statement;
}

/* Makes conn->pg a working connection if it can; false if PostgreSQL cannot be reached. */
static bool conn_ensure(db_conn *conn, db_error *err)
{
  /* A server that went away (a restart) closed the socket: reading what is there, without
   * a round trip, tells, before a statement is sent into it and lost. */
  if (conn->pg != NULL && PQstatus(conn->pg) == CONNECTION_OK && PQconsumeInput(conn->pg) &&
      PQstatus(conn->pg) == CONNECTION_OK)
    return true;
  PQfinish(conn->pg);
  conn->n_prepared = 0;
  conn->pg = db_connect_once(conn->pool->conninfo, conn->pool->statement_timeout_ms, err);
  return conn->pg != NULL;
}

static PGresult *exec_once(db_conn *conn, const db_statement *statement,
                           const char *const *values, db_error *err)
{
  if (!conn_is_prepared(conn, statement)) {
    PGresult *r = PQprepare(conn->pg, statement->name, statement->sql, statement->n_params, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      db_error_from(err, conn->pg, r);
      PQclear(r);
      return NULL;
    }
    PQclear(r);
    conn_add_prepared(conn, statement);
  }
  PGresult *r = PQexecPrepared(conn->pg, statement->name, statement->n_params, values, NULL, NULL, 0);
  ExecStatusType status = PQresultStatus(r);
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
    return r;
  db_error_from(err, conn->pg, r);
  PQclear(r);
  return NULL;
}

/* Whether conn answers a trivial query; reopens it if not. For statements that must not be
 * sent twice: they go only into a connection known to work. */
static bool conn_ping(db_conn *conn, db_error *err)
{
  PGresult *r = PQexec(conn->pg, "");
  bool alive = PQresultStatus(r) == PGRES_EMPTY_QUERY;
  PQclear(r);
  if (alive)
    return true;
  log_warn("database connection lost: %s", PQerrorMessage(conn->pg));
  PQfinish(conn->pg);
  conn->pg = NULL;
  return conn_ensure(conn, err);
}

PGresult *db_exec(db_conn *conn, const db_statement *statement, const char *const *values,
                  db_error *err)
{
  memset(err, 0, sizeof *err);
  if (statement->no_retry && conn_ensure(conn, err) && !conn_ping(conn, err))
    return NULL;
  for (int attempt = 0; attempt < 2; attempt++) {
    if (!conn_ensure(conn, err))
      return NULL;
    PGresult *r = exec_once(conn, statement, values, err);
    if (r != NULL || err->kind != DB_UNAVAILABLE)
      return r;
    /* The connection broke: a PostgreSQL restart since we last used it, or now. */
    log_warn("database connection lost: %s", err->message);
    if (statement->no_retry)
      return NULL;
  }
  return NULL;
}
