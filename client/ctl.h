/*
 * ctl.h - loyaltyctl's pieces: the command table, argument access and output.
 *
 * INTERFACE ROUTINES
 *   ctl_commands / ctl_n_commands   the command table (ctl_commands.c)
 *   ctl_arg_*                       options and positional arguments of one command
 *   ctl_print                       a response, as text tables or JSON (ctl_output.c)
 *   ctl_parse_yuan                  "199.90" -> 19990 cents, exactly
 *   ctl_import_*                    loyaltyctl import (ctl_import.c)
 *   ctl_report_*, ctl_print_bars    loyaltyctl report (ctl_report.c)
 *
 * Exit codes: 0 success, 1 the server answered with an error (or could not be reached),
 * 2 a usage error.
 */
#ifndef LOYALTY_CTL_H
#define LOYALTY_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "loyalty/v1/admin.pb-c.h"
#include "loyalty_client.h"

#define CTL_EXIT_OK 0
#define CTL_EXIT_RPC 1
#define CTL_EXIT_USAGE 2
#define CTL_MAX_ARGS 32

/* The arguments after the command words: positionals and --options. */
typedef struct ctl_args {
  const char *positional[CTL_MAX_ARGS];
  int n_positional;
  const char *option_name[CTL_MAX_ARGS];  /* without "--" */
  const char *option_value[CTL_MAX_ARGS]; /* NULL for a flag */
  int n_options;
} ctl_args;

typedef struct ctl_env {
  lc_conn *conn;
  bool json;
  int timeout_ms;
} ctl_env;

typedef struct ctl_command {
  const char *group;   /* "points" */
  const char *name;    /* "earn" */
  const char *usage;   /* "MEMBER_ID AMOUNT --order ORDER_ID" */
  const char *help;    /* one line */
  const char *const *flags; /* options without a value, NULL-terminated (or NULL) */
  int (*run)(ctl_env *env, const ctl_args *args);
} ctl_command;

extern const ctl_command ctl_commands[];
extern const int ctl_n_commands;

/* The value of --name (the last one given), or NULL. */
const char *ctl_arg(const ctl_args *args, const char *name);
bool ctl_flag(const ctl_args *args, const char *name);

/* Prints "loyaltyctl: " + message to stderr and returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a decimal integer (all of s); false if it is not one. */
bool ctl_parse_int64(const char *s, int64_t *out);
/* Parses yuan with at most two decimals ("12", "199.9", "199.90") into cents. */
bool ctl_parse_yuan(const char *s, int64_t *cents);

/* loyaltyctl import KIND FILE.csv (ctl_import.c). */
int ctl_import_stores(ctl_env *env, const ctl_args *args);
int ctl_import_members(ctl_env *env, const ctl_args *args);
int ctl_import_balances(ctl_env *env, const ctl_args *args);
int ctl_import_orders(ctl_env *env, const ctl_args *args);

/* loyaltyctl report NAME (ctl_report.c). Every report takes REPORT_OPTS. */
#define REPORT_OPTS " [--as-of YYYY-MM-DD] [--known-at RFC3339] [--json | --csv]"
#define REPORT_FILTERS " [--store CODE] [--channel pos|tmall|jd|wechat|web|other] [--region R]"
#define REPORT_TIME_HELP                                                                      \
  "\n\n--as-of: movements that happened by the end of that day (program time zone) count\n"  \
  "(default: today; period reports: --to). --known-at: only movements recorded by then\n"     \
  "count (default: now); the answer says the moment used: asking again with it gives the\n"  \
  "same answer. --csv: the main table as CSV (money in cents). Definitions: docs/analytics.md."
extern const char *const ctl_report_flags[]; /* json, csv */
int ctl_report_lifecycle(ctl_env *env, const ctl_args *args);
int ctl_report_migration(ctl_env *env, const ctl_args *args);
int ctl_report_rfm(ctl_env *env, const ctl_args *args);
int ctl_report_kpi(ctl_env *env, const ctl_args *args);
int ctl_report_stores(ctl_env *env, const ctl_args *args);
/* The points reports (ctl_report_points.c). */
int ctl_report_liability(ctl_env *env, const ctl_args *args);
int ctl_report_settlement(ctl_env *env, const ctl_args *args);
int ctl_report_campaign(ctl_env *env, const ctl_args *args);

/* The shared parts of a report command, for every report. */
/* --as-of and --known-at into *t (strings borrowed from args). */
void ctl_report_time(const ctl_args *args, Loyalty__V1__ReportTime *t);
/* --store, --channel, --region into *f; false after a usage error. */
bool ctl_report_filter(const ctl_args *args, Loyalty__V1__ReportFilter *f);
/*
 * Calls a report: says on stderr (a terminal) what it computes and how long it took, waits
 * up to 2 minutes (or --timeout if longer). On error prints it and returns CTL_EXIT_RPC with
 * *response NULL. With --json prints the answer and sets *response NULL; otherwise the
 * caller prints *response and frees it (protobuf_c_message_free_unpacked).
 */
int ctl_report_call(ctl_env *env, const ctl_args *args, const char *method,
                    const ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *response_type,
                    ProtobufCMessage **response);
/* One row of a distribution: its label, value, and an optional note after the bar. */
typedef struct ctl_bar_row {
  const char *label;
  int64_t value;
  const char *note;
} ctl_bar_row;
/* A distribution as a table: title line, then label, value (yuan when money), share of the
 * total, and a bar scaled to the largest value, a row per element. */
void ctl_print_bars(const char *title, const char *value_name, const ctl_bar_row *rows,
                    size_t n, bool money);
/* cents as yuan ("-12.05"), into out. */
void ctl_format_yuan(char *out, size_t size, int64_t cents);
/* part / whole as a percentage with one decimal, rounded down, in integers ("-" for 0/0). */
void ctl_format_rate(char *out, size_t size, int64_t part, int64_t whole);

/* Calls method and prints the response; returns the exit code. */
int ctl_call_and_print(ctl_env *env, const char *method, const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *response_type);

/* Prints a message: JSON (one object) or text (fields, and tables for repeated messages). */
void ctl_print(const ProtobufCMessage *message, bool json);
/* Prints the message's first list as CSV (RFC 4180), with a header line when asked. */
void ctl_print_csv(const ProtobufCMessage *message, bool header);

#endif
