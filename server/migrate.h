/*
 * migrate.h - the database code, embedded in the binary at build time: the schema files of
 * db/schema/ and the function set of db/functions/ (see docs/design.md, "The database code").
 *
 * Schema files are append-only: each is applied once, in name order, and its SHA-256 kept in
 * schema_files; a database whose applied file differs from this binary's, or that has a file
 * this binary does not know, is refused. The function set (every stored function and trigger)
 * has a version, db/functions/VERSION: a newer set replaces the database's whole set in one
 * transaction; an older one is refused, so a server of an older release never overwrites
 * newer code during a rolling upgrade; the same version with other content is refused too.
 *
 * INTERFACE ROUTINES
 *   migrate_apply   bring the database's schema and functions to this binary's
 */
#ifndef LOYALTY_MIGRATE_H
#define LOYALTY_MIGRATE_H

#include <libpq-fe.h>

#include "db.h"

typedef struct sql_file {
  const char *name;   /* "0001_schema.sql", "earn.sql" */
  const char *sql;
  const char *sha256; /* hex */
} sql_file;

/* From embed_sql.cmake: the schema files in order; the function files in the order they are
 * applied; the function set's version and SHA-256. */
extern const sql_file schema_files[];
extern const int n_schema_files;
extern const sql_file function_files[];
extern const int n_function_files;
extern const int function_set_version;
extern const char function_set_sha256[];

/* Applies pending schema files and, if the database's is older, this function set, under an
 * advisory lock, so servers starting together take turns. Returns the number of steps
 * applied (schema files, plus one for the function set), or -1 with the reason in err: a
 * database error, or a refusal explained in err->message and err->detail. */
int migrate_apply(PGconn *pg, db_error *err);

#endif
