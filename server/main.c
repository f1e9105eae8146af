/*
 * main.c - loyaltyd: options, database set-up, then serve until told to stop.
 */
#include <grpc/grpc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "auth.h"
#include "db.h"
#include "services.h"
#include "log.h"
#include "migrate.h"
#include "options.h"
#include "rpc.h"

static const char sql_issue_hq_key[] =
    "SELECT key_id FROM loyalty_issue_key('bootstrap', $1, $2, NULL, $3, '')";

/* Creates an HQ key named name and prints its secret alone on stdout. */
static int init_hq_key(PGconn *pg, const char *name)
{
  char key_id[AUTH_KEY_ID_SIZE], secret[AUTH_SECRET_SIZE], hash[AUTH_HASH_HEX_SIZE];
  if (name[0] == '\0') {
    fprintf(stderr, "loyaltyd: --init-hq-key needs a name\n");
    return -1;
  }
  if (auth_new_key(key_id, secret) != 0) {
    log_error("random source failed");
    return -1;
  }
  auth_hash_secret(secret, hash);
  const char *params[] = {key_id, hash, name};
  PGresult *r = PQexecParams(pg, sql_issue_hq_key, 3, NULL, params, NULL, NULL, 0);
  int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok)
    log_error("cannot create the hq key: %s", PQresultErrorMessage(r));
  PQclear(r);
  if (!ok)
    return -1;
  log_info("created hq key %s (%s)", key_id, name);
  printf("%s\n", secret);
  return fflush(stdout) == 0 ? 0 : -1;
}

/* Applies the database code (and creates an HQ key if asked) on a connection of its own. */
static int prepare_database(const options *opts)
{
  db_error err;
  /* As the owner; the database code may take its time. */
  PGconn *pg = db_connect_once(opts->db_owner ? opts->db_owner : opts->db, 0, &err);
  if (pg == NULL) {
    log_error("cannot connect to the database: %s", err.message);
    return -1;
  }
  int rc = migrate_apply(pg, &err) < 0 ? -1 : 0;
  if (rc != 0)
    log_error("database code not applied: %s (%s)", err.message, err.detail);
  if (rc == 0 && opts->init_hq_key != NULL)
    rc = init_hq_key(pg, opts->init_hq_key);
  PQfinish(pg);
  return rc;
}

int main(int argc, char **argv)
{
  options opts;
  if (options_load(&opts, argc, argv) != 0)
    return 2;
  if (opts.help) {
    options_usage(stdout, "loyaltyd");
    return 0;
  }
  log_level level;
  if (log_parse_level(opts.log_level, &level) != 0) {
    fprintf(stderr, "loyaltyd: --log-level must be error, warn, info or debug\n");
    return 2;
  }
  log_set_level(level);

  if (prepare_database(&opts) != 0)
    return 1;
  if (opts.migrate_only || opts.init_hq_key != NULL)
    return 0;

  /* Every thread inherits this mask: the signals reach only rpc_server_run's sigwait. */
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  signal(SIGPIPE, SIG_IGN);

  grpc_init();
  db_pool *pool = db_pool_create(opts.db, opts.pool_size, opts.call_timeout_ms);
  const rpc_service services[] = {points_service, admin_service, health_service};
  rpc_config config = {
    .listen = opts.listen,
    .threads = opts.threads,
    .tls_cert = opts.tls_cert,
    .tls_key = opts.tls_key,
    .tls_client_ca = opts.tls_client_ca,
    .insecure = opts.insecure,
    .max_message_bytes = opts.max_message_bytes,
    .max_streams = opts.max_streams,
    .max_metadata_bytes = opts.max_metadata_bytes,
    .io_threads = opts.io_threads,
    .call_timeout_ms = opts.call_timeout_ms,
    .loop = {
      .conninfo = opts.db,
      .read_connections = opts.read_connections,
      .write_connections = opts.write_connections,
      .max_batch = opts.batch_max,
      .lock_timeout_ms = opts.lock_timeout_ms,
      .statement_timeout_ms = opts.call_timeout_ms,
    },
  };
  int rc = rpc_server_run(&config, pool, services, sizeof services / sizeof services[0]);
  db_pool_destroy(pool);
  grpc_shutdown_blocking();
  return rc == 0 ? 0 : 1;
}
