/*
 * migrate.h - the schema migrations in db/migrations/, embedded in the binary at build time.
 *
 * INTERFACE ROUTINES
 *   migrate_apply   apply the pending ones, in order, each in its own transaction
 */
#ifndef LOYALTY_MIGRATE_H
#define LOYALTY_MIGRATE_H

#include <libpq-fe.h>

#include "db.h"

typedef struct migration {
  const char *version; /* file name without ".sql", e.g. "0001_schema" */
  const char *sql;
} migration;

extern const migration migrations[];
extern const int n_migrations;

/* Applies pending migrations under an advisory lock, so servers starting together take
 * turns. Returns the number applied, or -1 with the reason in err. */
int migrate_apply(PGconn *pg, db_error *err);

#endif
