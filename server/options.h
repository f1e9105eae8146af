/*
 * options.h - loyaltyd's configuration: one table from which command-line flags,
 * environment variables and --help are all produced.
 *
 * INTERFACE ROUTINES
 *   options_load   defaults, then LOYALTY_* environment, then flags
 *   options_usage  the --help text
 */
#ifndef LOYALTY_OPTIONS_H
#define LOYALTY_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct options {
  const char *listen;       /* host:port to serve on */
  const char *db;           /* libpq conninfo; "" means the PG* environment */
  const char *db_owner;     /* conninfo for the database code and --init-hq-key; NULL: db */
  int pool_size;            /* slow path: PostgreSQL connections */
  int threads;              /* slow path: worker threads */
  int io_threads;           /* completion-queue threads (fast handlers) */
  int read_connections;     /* fast path: pipelined read connections */
  int write_connections;    /* fast path: pipelined write connections */
  int batch_max;            /* most movements in one transaction */
  int lock_timeout_ms;      /* fast path: longer waits for a lock go to the slow path */
  const char *log_level;    /* error | warn | info | debug */
  const char *tls_cert;     /* PEM server certificate chain; with tls_key: serve TLS */
  const char *tls_key;      /* PEM private key */
  const char *tls_client_ca; /* PEM CA: require client certificates it signed (mutual TLS) */
  bool insecure;            /* allow plaintext on a non-loopback address */
  int max_message_bytes;    /* largest request accepted */
  int max_streams;          /* concurrent calls per connection */
  int max_metadata_bytes;   /* request headers, authorization included */
  int call_timeout_ms;      /* the most a call may keep PostgreSQL busy */
  bool migrate_only;        /* apply the database code and exit */
  const char *init_hq_key;  /* create an HQ key with this name, print its secret, exit */
  bool help;
} options;

/* Returns 0, or -1 after printing what is wrong to stderr. Strings point into argv,
 * the environment or static defaults: valid for the life of the process. */
int options_load(options *opts, int argc, char **argv);
void options_usage(FILE *out, const char *program);

#endif
