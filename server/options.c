/*
 * options.c - the option table of loyaltyd.
 *
 * Each row gives the flag, its environment variable, type, default and help. Precedence:
 * flag over environment over default.
 */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum option_type { OPT_STRING, OPT_INT, OPT_FLAG } option_type;

typedef struct option_def {
  const char *flag;  /* without the leading "--" */
  const char *env;   /* NULL: flag only */
  option_type type;
  size_t offset;     /* into struct options */
  const char *default_value;
  int min, max;      /* OPT_INT bounds */
  const char *help;
} option_def;

#define OPT(field) offsetof(options, field)

static const option_def option_table[] = {
  {"listen", "LOYALTY_LISTEN", OPT_STRING, OPT(listen), "127.0.0.1:50051", 0, 0,
   "address to serve gRPC on (host:port)"},
  {"db", "LOYALTY_DB", OPT_STRING, OPT(db), "", 0, 0,
   "PostgreSQL conninfo (\"host=... dbname=...\" or a postgresql:// URI);\n"
   "empty uses libpq's PGHOST, PGDATABASE, ... environment"},
  {"db-owner", "LOYALTY_DB_OWNER", OPT_STRING, OPT(db_owner), NULL, 0, 0,
   "conninfo of the schema's owner, for the database code and --init-hq-key (the\n"
   "server itself then runs as --db, e.g. the loyalty_server role); default: --db"},
  {"pool-size", "LOYALTY_POOL_SIZE", OPT_INT, OPT(pool_size), "8", 1, 1000,
   "PostgreSQL connections of the slow path (admin calls, reports, imports,\n"
   "keys not yet cached, movements waiting for a lock)"},
  {"threads", "LOYALTY_THREADS", OPT_INT, OPT(threads), "16", 1, 1000,
   "slow-path worker threads (each blocks while PostgreSQL works)"},
  {"io-threads", "LOYALTY_IO_THREADS", OPT_INT, OPT(io_threads), "2", 1, 64,
   "threads serving gRPC: they never wait for PostgreSQL"},
  {"read-connections", "LOYALTY_READ_CONNECTIONS", OPT_INT, OPT(read_connections), "2", 1, 32,
   "fast path: pipelined connections for balances, members, histories"},
  {"write-connections", "LOYALTY_WRITE_CONNECTIONS", OPT_INT, OPT(write_connections), "2", 1,
   32, "fast path: pipelined connections for movements; each commits a batch\n"
   "at a time, members spread over them"},
  {"batch-max", "LOYALTY_BATCH_MAX", OPT_INT, OPT(batch_max), "64", 1, 64,
   "group commit: most movements in one transaction (1: one each)"},
  {"lock-timeout-ms", "LOYALTY_LOCK_TIMEOUT_MS", OPT_INT, OPT(lock_timeout_ms), "50", 1, 60000,
   "fast path: a movement waiting longer for a member's lock goes to the\n"
   "slow path, so that it holds up no other member"},
  {"log-level", "LOYALTY_LOG_LEVEL", OPT_STRING, OPT(log_level), "info", 0, 0,
   "error, warn, info (one line per call) or debug"},
  {"tls-cert", "LOYALTY_TLS_CERT", OPT_STRING, OPT(tls_cert), NULL, 0, 0,
   "serve TLS with this PEM certificate chain (needs --tls-key)"},
  {"tls-key", "LOYALTY_TLS_KEY", OPT_STRING, OPT(tls_key), NULL, 0, 0,
   "the PEM private key of --tls-cert"},
  {"tls-client-ca", "LOYALTY_TLS_CLIENT_CA", OPT_STRING, OPT(tls_client_ca), NULL, 0, 0,
   "mutual TLS: require client certificates signed by this PEM CA"},
  {"insecure", "LOYALTY_INSECURE", OPT_FLAG, OPT(insecure), NULL, 0, 0,
   "allow plaintext on a non-loopback address (plaintext is otherwise\n"
   "only served on 127.0.0.0/8, ::1 and localhost)"},
  {"max-message-bytes", "LOYALTY_MAX_MESSAGE_BYTES", OPT_INT, OPT(max_message_bytes), "65536",
   1024, 64 << 20, "largest request accepted (larger: RESOURCE_EXHAUSTED)"},
  {"max-streams", "LOYALTY_MAX_STREAMS", OPT_INT, OPT(max_streams), "100", 1, 100000,
   "most calls in flight on one client connection"},
  {"max-metadata-bytes", "LOYALTY_MAX_METADATA_BYTES", OPT_INT, OPT(max_metadata_bytes), "8192",
   1024, 1 << 20, "largest request headers accepted"},
  {"call-timeout-ms", "LOYALTY_CALL_TIMEOUT_MS", OPT_INT, OPT(call_timeout_ms), "30000", 100,
   3600000, "the most a statement of a call may run, whatever the client's deadline\n"
   "(longer: DEADLINE_EXCEEDED)"},
  {"migrate-only", NULL, OPT_FLAG, OPT(migrate_only), NULL, 0, 0,
   "apply the database code (new schema files, a newer function set) and exit"},
  {"init-hq-key", NULL, OPT_STRING, OPT(init_hq_key), NULL, 0, 0,
   "apply the database code, create an HQ key named NAME, print its secret\n"
   "alone on stdout and exit"},
  {"help", NULL, OPT_FLAG, OPT(help), NULL, 0, 0, "show this help and exit"},
};

#define N_OPTIONS (sizeof option_table / sizeof option_table[0])

static int option_set(options *opts, const option_def *def, const char *value,
                      const char *source)
{
  char *field = (char *)opts + def->offset;
  switch (def->type) {
  case OPT_STRING:
    *(const char **)field = value;
    return 0;
  case OPT_FLAG: /* from the environment: "1", "true" or "yes" */
    *(bool *)field = value == NULL || strcmp(value, "1") == 0 || strcmp(value, "true") == 0 ||
                     strcmp(value, "yes") == 0;
    return 0;
  case OPT_INT: {
    char *end;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || n < def->min || n > def->max) {
      fprintf(stderr, "loyaltyd: %s: \"%s\" is not a number from %d to %d\n", source, value,
              def->min, def->max);
      return -1;
    }
    *(int *)field = (int)n;
    return 0;
  }
  }
  return -1;
}

int options_load(options *opts, int argc, char **argv)
{
  memset(opts, 0, sizeof *opts);
  for (size_t i = 0; i < N_OPTIONS; i++) {
    const option_def *def = &option_table[i];
    if (def->default_value != NULL && option_set(opts, def, def->default_value, def->flag) != 0)
      return -1;
    const char *env = def->env ? getenv(def->env) : NULL;
    if (env != NULL && option_set(opts, def, env, def->env) != 0)
      return -1;
  }
  for (int a = 1; a < argc; a++) {
    const char *arg = argv[a];
    if (strcmp(arg, "-h") == 0)
      arg = "--help";
    if (strncmp(arg, "--", 2) != 0) {
      fprintf(stderr, "loyaltyd: unexpected argument \"%s\" (see --help)\n", arg);
      return -1;
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const option_def *def = NULL;
    for (size_t i = 0; i < N_OPTIONS; i++) {
      if (strlen(option_table[i].flag) == name_len &&
          strncmp(option_table[i].flag, name, name_len) == 0)
        def = &option_table[i];
    }
    if (def == NULL) {
      fprintf(stderr, "loyaltyd: unknown option \"%s\" (see --help)\n", arg);
      return -1;
    }
    const char *value = NULL;
    if (def->type == OPT_FLAG) {
      if (eq != NULL) {
        fprintf(stderr, "loyaltyd: --%s takes no value\n", def->flag);
        return -1;
      }
    } else if (eq != NULL) {
      value = eq + 1;
    } else if (a + 1 < argc) {
      value = argv[++a];
    } else {
      fprintf(stderr, "loyaltyd: --%s needs a value\n", def->flag);
      return -1;
    }
    if (option_set(opts, def, value, arg) != 0)
      return -1;
  }
  if ((opts->tls_cert == NULL) != (opts->tls_key == NULL)) {
    fprintf(stderr, "loyaltyd: --tls-cert and --tls-key go together\n");
    return -1;
  }
  if (opts->tls_client_ca != NULL && opts->tls_cert == NULL) {
    fprintf(stderr, "loyaltyd: --tls-client-ca needs --tls-cert and --tls-key\n");
    return -1;
  }
  return 0;
}

void options_usage(FILE *out, const char *program)
{
  fprintf(out,
          "usage: %s [OPTION]...\n"
          "\n"
          "loyaltyd serves the loyalty points API (gRPC services loyalty.v1.Points,\n"
          "loyalty.v1.Admin and grpc.health.v1.Health) on a PostgreSQL database. At start it\n"
          "brings the database's code to its own: schema files it has not applied\n"
          "(db/schema), and its stored functions (db/functions) if the database's are older;\n"
          "it refuses a database whose applied schema files differ from its own or whose\n"
          "functions are newer. SIGTERM or SIGINT stop it gracefully: it stops accepting\n"
          "calls, finishes those in flight and exits 0.\n"
          "\n"
          "Options (each may also be set by its environment variable; flags win):\n",
          program);
  for (size_t i = 0; i < N_OPTIONS; i++) {
    const option_def *def = &option_table[i];
    char left[64];
    snprintf(left, sizeof left, "--%s%s", def->flag,
             def->type == OPT_FLAG ? "" : def->type == OPT_INT ? " N" : " VALUE");
    if (strcmp(def->flag, "init-hq-key") == 0)
      snprintf(left, sizeof left, "--init-hq-key NAME");
    fprintf(out, "  %-22s ", left);
    for (const char *p = def->help; *p; p++) {
      fputc(*p, out);
      if (*p == '\n')
        fprintf(out, "  %-22s ", "");
    }
    if (def->env)
      fprintf(out, "\n  %-22s [env %s", "", def->env);
    if (def->default_value)
      fprintf(out, "%sdefault \"%s\"", def->env ? "; " : "\n  " "                       [",
              def->default_value);
    if (def->env || def->default_value)
      fputc(']', out);
    fputc('\n', out);
  }
  fprintf(out,
          "\n"
          "Examples:\n"
          "  %s --db 'host=/tmp dbname=loyalty' --init-hq-key ops   # first HQ key\n"
          "  LOYALTY_DB='dbname=loyalty' %s --listen 127.0.0.1:50051\n",
          program, program);
}
