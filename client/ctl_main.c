/*
 * ctl_main.c - loyaltyctl: global options, finding the command, running it.
 */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loyalty_client.h"

static void usage(FILE *out)
{
  fputs("usage: loyaltyctl [GLOBAL OPTIONS] COMMAND [ARGS]\n"
        "\n"
        "The command line of the loyalty points service, for brand HQ and for scripts.\n"
        "\n"
        "Global options:\n"
        "  --server HOST:PORT   the server [env LOYALTY_SERVER; default 127.0.0.1:50051]\n"
        "  --key SECRET         the API key [env LOYALTY_KEY]\n"
        "  --tls-ca FILE        use TLS, trusting this CA [env LOYALTY_TLS_CA]\n"
        "  --tls-cert FILE      client certificate for mutual TLS [env LOYALTY_TLS_CERT]\n"
        "  --tls-key FILE       its private key [env LOYALTY_TLS_KEY]\n"
        "  --json               print responses as JSON, one object per line\n"
        "  --timeout MS         deadline of each call [default 10000]\n"
        "  --help               this help; COMMAND --help for one command\n"
        "\n"
        "Commands:\n",
        out);
  for (int i = 0; i < ctl_n_commands; i++) {
    const ctl_command *c = &ctl_commands[i];
    char name[32];
    snprintf(name, sizeof name, "%s%s%s", c->group, c->name ? " " : "", c->name ? c->name : "");
    fprintf(out, "  %-19s %s\n", name, c->help);
  }
  fputs("\n"
        "Amounts are yuan with at most two decimals (199.90); points are whole numbers.\n"
        "Writes take --request-id ID to make a retry safe (one is generated and printed on\n"
        "stderr when not given) and --store CODE for HQ keys acting at a store.\n"
        "\n"
        "Exit status: 0 done; 1 the server answered with an error (printed as\n"
        "\"error: STATUS: message\") or could not be reached; 2 usage error.\n"
        "\n"
        "Examples:\n"
        "  export LOYALTY_SERVER=127.0.0.1:50051 LOYALTY_KEY=lk_...\n"
        "  loyaltyctl store add SH001 --name 'Shanghai Nanjing Rd' --channel pos --region SH\n"
        "  loyaltyctl key issue SH001\n"
        "  loyaltyctl member enroll --phone 13800138000 --name 'Li Hong' --birthday 1990-03-05\n"
        "  loyaltyctl points earn 1 199.90 --order POS-0001 --store SH001\n"
        "  loyaltyctl --json points balance 1\n",
        out);
}

static void command_usage(FILE *out, const ctl_command *c)
{
  fprintf(out, "usage: loyaltyctl %s%s%s %s\n\n%s\n", c->group, c->name ? " " : "",
          c->name ? c->name : "", c->usage, c->help);
}

static bool is_flag(const ctl_command *c, const char *name)
{
  for (const char *const *f = c->flags; f != NULL && *f != NULL; f++) {
    if (strcmp(*f, name) == 0)
      return true;
  }
  return strcmp(name, "help") == 0;
}

/* Splits argv[from..] into positionals and --options for command c. */
static int parse_args(const ctl_command *c, int argc, char **argv, int from, ctl_args *args)
{
  memset(args, 0, sizeof *args);
  for (int i = from; i < argc; i++) {
    if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0') {
      if (args->n_options == CTL_MAX_ARGS)
        return ctl_usage_error("too many options");
      const char *name = argv[i] + 2;
      char *eq = strchr(argv[i] + 2, '=');
      if (eq != NULL) {
        *eq = '\0'; /* --name=value: argv is ours to split */
        args->option_name[args->n_options] = name;
        args->option_value[args->n_options] = eq + 1;
      } else {
        args->option_name[args->n_options] = name;
        if (!is_flag(c, name)) {
          if (i + 1 >= argc)
            return ctl_usage_error("--%s needs a value", name);
          args->option_value[args->n_options] = argv[++i];
        }
      }
      args->n_options++;
    } else {
      if (args->n_positional == CTL_MAX_ARGS)
        return ctl_usage_error("too many arguments");
      args->positional[args->n_positional++] = argv[i];
    }
  }
  return CTL_EXIT_OK;
}

static const ctl_command *find_command(int argc, char **argv, int at, int *consumed)
{
  for (int i = 0; i < ctl_n_commands; i++) {
    const ctl_command *c = &ctl_commands[i];
    if (at >= argc || strcmp(argv[at], c->group) != 0)
      continue;
    if (c->name == NULL) {
      *consumed = 1;
      return c;
    }
    if (at + 1 < argc && strcmp(argv[at + 1], c->name) == 0) {
      *consumed = 2;
      return c;
    }
  }
  return NULL;
}

int main(int argc, char **argv)
{
  lc_options options = {
    .target = getenv("LOYALTY_SERVER") ? getenv("LOYALTY_SERVER") : "127.0.0.1:50051",
    .key = getenv("LOYALTY_KEY"),
    .tls_ca = getenv("LOYALTY_TLS_CA"),
    .tls_cert = getenv("LOYALTY_TLS_CERT"),
    .tls_key = getenv("LOYALTY_TLS_KEY"),
  };
  ctl_env env = {.timeout_ms = 10000};
  int at = 1;
  for (; at < argc && strncmp(argv[at], "--", 2) == 0; at++) {
    const char *opt = argv[at] + 2;
    const char **target = NULL;
    if (strcmp(opt, "help") == 0) {
      usage(stdout);
      return CTL_EXIT_OK;
    } else if (strcmp(opt, "json") == 0) {
      env.json = true;
      continue;
    } else if (strcmp(opt, "server") == 0) {
      target = &options.target;
    } else if (strcmp(opt, "key") == 0) {
      target = &options.key;
    } else if (strcmp(opt, "tls-ca") == 0) {
      target = &options.tls_ca;
    } else if (strcmp(opt, "tls-cert") == 0) {
      target = &options.tls_cert;
    } else if (strcmp(opt, "tls-key") == 0) {
      target = &options.tls_key;
    } else if (strcmp(opt, "timeout") == 0) {
      int64_t ms;
      if (at + 1 >= argc || !ctl_parse_int64(argv[at + 1], &ms) || ms <= 0 || ms > 3600000)
        return ctl_usage_error("--timeout needs milliseconds");
      env.timeout_ms = (int)ms;
      at++;
      continue;
    } else {
      return ctl_usage_error("unknown option --%s", opt);
    }
    if (at + 1 >= argc)
      return ctl_usage_error("--%s needs a value", opt);
    *target = argv[++at];
  }
  if (at >= argc) {
    usage(stderr);
    return CTL_EXIT_USAGE;
  }
  int consumed = 0;
  const ctl_command *command = find_command(argc, argv, at, &consumed);
  if (command == NULL)
    return ctl_usage_error("unknown command \"%s%s%s\"", argv[at], at + 1 < argc ? " " : "",
                           at + 1 < argc ? argv[at + 1] : "");
  ctl_args args;
  int rc = parse_args(command, argc, argv, at + consumed, &args);
  if (rc != CTL_EXIT_OK)
    return rc;
  if (ctl_flag(&args, "help")) {
    command_usage(stdout, command);
    return CTL_EXIT_OK;
  }

  lc_init();
  char err[256];
  env.conn = lc_connect(&options, err, sizeof err);
  if (env.conn == NULL) {
    fprintf(stderr, "loyaltyctl: %s\n", err);
    lc_shutdown();
    return CTL_EXIT_USAGE;
  }
  rc = command->run(&env, &args);
  lc_close(env.conn);
  lc_shutdown();
  return rc;
}
