/*
 * db.h - a pool of PostgreSQL connections and prepared statements, through libpq.
 *
 * Connections are opened lazily and reopened by themselves after PostgreSQL went away, so
 * the server recovers without a restart. Each statement is prepared once per connection, on
 * first use.
 *
 * INTERFACE ROUTINES
 *   db_pool_create / db_pool_destroy
 *   db_acquire / db_release    borrow a connection for one call
 *   db_exec                    run a prepared statement; NULL and a db_error on failure
 *   db_connect_once            a plain connection for start-up work (database code, keys)
 *   db_connect_with            the same with session settings (dbloop.c)
 *   db_text_array              an array literal of strings, as a text parameter
 *
 * Error convention: on failure, functions returning a pointer give NULL and functions
 * returning int give -1, with the reason in the db_error they were handed; they never set a
 * call's status (rpc_fail_db turns a db_error into one). They log only a lost connection.
 */
#ifndef LOYALTY_DB_H
#define LOYALTY_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "arena.h"

typedef struct db_pool db_pool;
typedef struct db_conn db_conn;

/* A statement the server runs. Define them as static constants next to the code using them. */
typedef struct db_statement {
  const char *name;  /* unique among all statements */
  const char *sql;
  int n_params;      /* all parameters are sent as text */
  bool no_retry;     /* true when re-running after a lost connection is not safe */
} db_statement;

typedef enum db_error_kind {
  DB_OK = 0,
  DB_UNAVAILABLE, /* cannot reach PostgreSQL, or the connection broke: nothing is known written */
  DB_SQL,         /* PostgreSQL answered with an error: sqlstate, message, detail */
  DB_BUSY,        /* no pooled connection became free in time */
  DB_DEADLINE,    /* the call's deadline passed first: outcome unknown (dbloop.c) */
} db_error_kind;

typedef struct db_error {
  db_error_kind kind;
  char sqlstate[6];
  char message[256];
  char detail[256];
} db_error;

/* Returns a pool of size connections to conninfo; none is opened yet. Never NULL.
 * statement_timeout_ms bounds every statement on them (0: no bound). */
db_pool *db_pool_create(const char *conninfo, int size, int statement_timeout_ms);
void db_pool_destroy(db_pool *pool);

/* Borrows a connection, waiting at most timeout_ms; NULL when none is free in time, with
 * err->kind DB_BUSY. */
db_conn *db_acquire(db_pool *pool, int timeout_ms, db_error *err)
    __attribute__((warn_unused_result));
void db_release(db_pool *pool, db_conn *conn);

/*
 * Runs statement with the text parameters values[0 .. n_params-1] (NULL is SQL NULL).
 * Returns the result (caller PQclear()s it) or NULL with *err filled in. If the connection
 * turns out broken, it is reopened and, unless the statement is no_retry, run once more.
 */
PGresult *db_exec(db_conn *conn, const db_statement *statement, const char *const *values,
                  db_error *err) __attribute__((warn_unused_result));

/* A connection for one-off work (statement_timeout_ms 0: no bound). NULL on failure, with
 * the reason in err. The caller PQfinish()es it. */
PGconn *db_connect_once(const char *conninfo, int statement_timeout_ms, db_error *err);

/* The same with the session settings of options ("-c name=value ..."). */
PGconn *db_connect_with(const char *conninfo, const char *options, db_error *err);

/* A PostgreSQL array literal of strings[0..n-1] (a NULL string is a NULL element), in a. */
const char *db_text_array(arena *a, const char *const *strings, size_t n);

/* Fills err from a failed result or connection; returns -1 for convenience. */
int db_error_from(db_error *err, PGconn *conn, const PGresult *result);

#endif
