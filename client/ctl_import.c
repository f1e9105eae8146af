/*
 * ctl_import.c - loyaltyctl import stores|members|balances|orders FILE.csv: a brand's history
 * from its old CRM or POS (docs/import.md).
 *
 * Reads the CSV file (csv.c), maps its header's columns to the kind's, and sends the rows in
 * batches of Admin.ImportRows, each under 60,000 bytes (--max-message-bytes is 64 KiB by
 * default). The server checks every row and applies each batch in one transaction; the run
 * of the file (its kind and SHA-256) remembers the last line applied, so running the same
 * command again, after Ctrl-C, a killed client or a restarted server, goes on where it
 * stopped, and a finished file changes nothing. Rejected rows go to the error file with
 * their line and reason. Progress goes to stderr once a second; the summary to stdout.
 *
 * Exit: 0 every row imported (or already there); 1 a row was rejected, or the server
 * failed; 2 usage; 130 interrupted (run it again to resume).
 *
 * INTERFACE ROUTINES
 *   ctl_import_stores, ctl_import_members, ctl_import_balances, ctl_import_orders
 */
#include "ctl.h"
#include "csv.h"
#include "validate.h"

#include <errno.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loyalty/v1/admin.pb-c.h"

#define BATCH_BYTES 60000 /* under --max-message-bytes' default, 65536 */
#define BATCH_ROWS 5000
#define RETRY_SECONDS 120 /* how long a batch is retried while the server is away */

typedef struct import_format {
  const char *name;
  Loyalty__V1__ImportKind kind;
  const char *const *columns; /* in the order ImportRow.fields takes them */
  size_t n_columns;
  int optional;               /* index of the one optional column, or -1 */
} import_format;

static const char *const store_columns[] = {"store_code", "name", "channel", "region"};
static const char *const member_columns[] = {"phone", "name", "birthday", "identities",
                                             "enrolled_store", "enrolled_at"};
static const char *const balance_columns[] = {"member", "points", "expires_on"};
static const char *const order_columns[] = {"store", "order_id", "kind", "member",
                                            "amount", "occurred_at", "points"};

#define FORMAT(name, kind, columns, optional) \
  {name, kind, columns, sizeof(columns) / sizeof((columns)[0]), optional}

static const import_format formats[] = {
  FORMAT("stores", LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_STORES, store_columns, -1),
  FORMAT("members", LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_MEMBERS, member_columns, -1),
  FORMAT("balances", LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_BALANCES, balance_columns, -1),
  FORMAT("orders", LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_ORDERS, order_columns, 6),
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
  (void)sig;
  interrupted = 1; /* the loop stops after the batch in flight */
}

/* What the file holds and what became of it. */
typedef struct import_totals {
  int64_t rows, amount_cents, points;          /* in the file */
  int64_t imported, imported_amount_cents, imported_points, skipped, rejected;
} import_totals;

/* One batch being built: the request, and each row as the file had it (for the error file). */
typedef struct batch {
  Loyalty__V1__ImportRow **rows;
  char **raw; /* the row re-encoded as CSV, malloc'ed */
  size_t n, bytes;
} batch;

static char *xstrdup(const char *s)
{
  char *p = strdup(s);
  if (p == NULL)
    abort();
  return p;
}

static int sha256_file(const char *path, char hex[65])
{
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return -1;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  unsigned char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    EVP_DigestUpdate(md, buf, n);
  unsigned char digest[32];
  EVP_DigestFinal_ex(md, digest, NULL);
  EVP_MD_CTX_free(md);
  int failed = ferror(f);
  fclose(f);
  for (int i = 0; i < 32; i++)
    sprintf(hex + 2 * i, "%02x", digest[i]);
  return failed ? -1 : 0;
}

static void batch_free(batch *b)
{
  for (size_t i = 0; i < b->n; i++) {
    Loyalty__V1__ImportRow *row = b->rows[i];
    for (size_t f = 0; f < row->n_fields; f++)
      free(row->fields[f]);
    free(row->fields);
    free(row);
    free(b->raw[i]);
  }
  b->n = 0;
  b->bytes = 0;
}

/* The record as one CSV line (malloc'ed). */
static char *encode_row(const csv_record *rec)
{
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  if (out == NULL)
    abort();
  for (size_t i = 0; i < rec->n; i++) {
    if (i > 0)
      putc(',', out);
    csv_write_field(out, rec->fields[i]);
  }
  fclose(out);
  return text;
}

/* cents as yuan text, "-12.30" */
static void yuan_text(char out[32], int64_t cents)
{
  int64_t a = cents < 0 ? -cents : cents;
  snprintf(out, 32, "%s%lld.%02lld", cents < 0 ? "-" : "", (long long)(a / 100),
           (long long)(a % 100));
}

static void progress(const import_format *fmt, const import_totals *t, long bytes_done,
                     long bytes_total, double elapsed, bool final)
{
  double rate = elapsed > 0 ? (double)t->rows / elapsed : 0;
  fprintf(stderr, "%s%s: %lld rows, %.0f rows/s", isatty(2) ? "\r" : "", fmt->name,
          (long long)t->rows, rate);
  if (!final && bytes_done > 0 && bytes_total > bytes_done) {
    double eta = elapsed * (double)(bytes_total - bytes_done) / (double)bytes_done;
    fprintf(stderr, ", %ld%%, ETA %d:%02d", (long)(100.0 * bytes_done / bytes_total),
            (int)eta / 60, (int)eta % 60);
  }
  fputs(isatty(2) && !final ? "   " : "\n", stderr);
  fflush(stderr);
}

/* Sends b; retries while the server is away (restarting, unreachable). Fills the totals and
 * writes the rejected rows to errors. Returns 0, or -1 after printing why. */
static int send_batch(ctl_env *env, const import_format *fmt, const char *sha, bool dry_run,
                      batch *b, import_totals *t, FILE *errors)
{
  Loyalty__V1__ImportRowsRequest req = LOYALTY__V1__IMPORT_ROWS_REQUEST__INIT;
  req.kind = fmt->kind;
  req.file_sha256 = (char *)sha;
  req.dry_run = dry_run;
  req.rows = b->rows;
  req.n_rows = b->n;
  ProtobufCMessage *response = NULL;
  char *message = NULL;
  grpc_status_code status;
  time_t give_up = time(NULL) + RETRY_SECONDS;
  for (int attempt = 0;; attempt++) {
    status = lc_call(env->conn, "/loyalty.v1.Admin/ImportRows", &req.base,
                     &loyalty__v1__import_rows_response__descriptor, &response, &message,
                     env->timeout_ms);
    bool transient = status == GRPC_STATUS_UNAVAILABLE || status == GRPC_STATUS_ABORTED ||
                     status == GRPC_STATUS_DEADLINE_EXCEEDED;
    if (!transient || time(NULL) >= give_up || interrupted)
      break;
    if (attempt == 0)
      fprintf(stderr, "\nloyaltyctl: %s (%s); retrying\n", lc_status_name(status), message);
    free(message);
    message = NULL;
    sleep(1);
  }
  if (status != GRPC_STATUS_OK) {
    fprintf(stderr, "\nerror: %s: %s\n", lc_status_name(status), message);
    free(message);
    return -1;
  }
  Loyalty__V1__ImportRowsResponse *out = (Loyalty__V1__ImportRowsResponse *)response;
  t->imported += out->imported;
  t->skipped += out->skipped;
  t->imported_amount_cents += out->imported_amount_cents;
  t->imported_points += out->imported_points;
  t->rejected += (int64_t)out->n_rejected;
  size_t at = 0;
  for (size_t i = 0; i < out->n_rejected; i++) {
    const Loyalty__V1__ImportRejection *j = out->rejected[i];
    while (at < b->n && b->rows[at]->line < j->line)
      at++;
    fprintf(errors, "%lld,", (long long)j->line);
    csv_write_field(errors, j->reason);
    fprintf(errors, ",%s\n", at < b->n && b->rows[at]->line == j->line ? b->raw[at] : "");
  }
  protobuf_c_message_free_unpacked(response, NULL);
  return 0;
}

/* Each file column's place in ImportRow.fields (-1: none), from the header. Returns 0, or
 * prints what is wrong and returns -1. */
static int map_header(const import_format *fmt, const char *path, const csv_record *header,
                      int *place)
{
  int seen[16] = {0};
  for (size_t i = 0; i < header->n; i++) {
    place[i] = -1;
    for (size_t c = 0; c < fmt->n_columns; c++) {
      if (strcmp(header->fields[i], fmt->columns[c]) == 0)
        place[i] = (int)c;
    }
    if (place[i] < 0 || seen[place[i]]++) {
      fprintf(stderr, "loyaltyctl: %s: %s column \"%s\" (%s files have:", path,
              place[i] < 0 ? "unknown" : "a second", header->fields[i], fmt->name);
      for (size_t c = 0; c < fmt->n_columns; c++)
        fprintf(stderr, " %s", fmt->columns[c]);
      fputs(")\n", stderr);
      return -1;
    }
  }
  for (size_t c = 0; c < fmt->n_columns; c++) {
    if (!seen[c] && (int)c != fmt->optional) {
      fprintf(stderr, "loyaltyctl: %s: no \"%s\" column\n", path, fmt->columns[c]);
      return -1;
    }
  }
  return 0;
}

/* The file's totals of a row: amounts (purchases minus refunds) and points. */
static void count_row(const import_format *fmt, const char **fields, import_totals *t)
{
  int64_t v;
  t->rows++;
  if (fmt->kind == LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_BALANCES) {
    if (ctl_parse_int64(fields[1], &v))
      t->points += v;
  } else if (fmt->kind == LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_ORDERS) {
    bool refund = strcmp(fields[2], "refund") == 0;
    if (validate_yuan(fields[4], &v))
      t->amount_cents += refund ? -v : v;
    if (!refund && fields[6][0] != '\0' && ctl_parse_int64(fields[6], &v))
      t->points += v;
  }
}

static int import_file(ctl_env *env, const ctl_args *args, const import_format *fmt)
{
  if (args->n_positional != 1)
    return ctl_usage_error("import %s needs one FILE.csv", fmt->name);
  const char *path = args->positional[0];
  bool dry_run = ctl_flag(args, "dry-run");
  char errors_default[4096]; /* orders.csv -> orders.errors.csv */
  size_t stem = strlen(path);
  if (stem > 4 && strcmp(path + stem - 4, ".csv") == 0)
    stem -= 4;
  snprintf(errors_default, sizeof errors_default, "%.*s.errors.csv", (int)stem, path);
  const char *errors_path = ctl_arg(args, "errors") ? ctl_arg(args, "errors") : errors_default;

  char sha[65];
  if (sha256_file(path, sha) != 0) {
    fprintf(stderr, "loyaltyctl: %s: %s\n", path, strerror(errno));
    return CTL_EXIT_USAGE;
  }
  FILE *in = fopen(path, "rb");
  if (in == NULL) {
    fprintf(stderr, "loyaltyctl: %s: %s\n", path, strerror(errno));
    return CTL_EXIT_USAGE;
  }
  struct stat st;
  long size = fstat(fileno(in), &st) == 0 ? (long)st.st_size : 0;
  csv_reader *csv = csv_open(in);
  csv_record rec;
  int rc = CTL_EXIT_USAGE;
  FILE *errors = NULL;
  batch b = {0};
  int place[64];
  char *header_line = NULL;
  if (csv_next(csv, &rec) != 1) {
    fprintf(stderr, "loyaltyctl: %s: %s\n", path,
            csv_error(csv)[0] ? csv_error(csv) : "empty file: a header line is needed");
    goto done;
  }
  if (rec.n > 64 || map_header(fmt, path, &rec, place) != 0)
    goto done;
  /* The old system's points per order, or none: members must not get the points of their
   * balances file a second time from their orders, so a file that has them says which. */
  for (size_t i = 0; i < rec.n; i++) {
    if (fmt->optional < 0 || place[i] != fmt->optional)
      continue;
    bool give = ctl_flag(args, "order-points"), drop = ctl_flag(args, "no-order-points");
    if (give == drop) {
      rc = ctl_usage_error(
          "%s has a \"%s\" column: say --order-points to give members those points (a brand"
          " without a balances file), or --no-order-points to import the orders with 0 points"
          " (the points come from the balances file)", path, fmt->columns[fmt->optional]);
      goto done;
    }
    if (drop)
      place[i] = -1; /* read, not sent: the field goes as "" */
  }
  header_line = encode_row(&rec);
  size_t n_header = rec.n;
  errors = fopen(errors_path, "w");
  if (errors == NULL) {
    fprintf(stderr, "loyaltyctl: %s: %s\n", errors_path, strerror(errno));
    goto done;
  }
  fprintf(errors, "line,reason,%s\n", header_line);

  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  b.rows = calloc(BATCH_ROWS, sizeof *b.rows);
  b.raw = calloc(BATCH_ROWS, sizeof *b.raw);
  if (b.rows == NULL || b.raw == NULL)
    abort();
  import_totals t = {0};
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  time_t last_progress = time(NULL);
  long last_line = 1;
  rc = CTL_EXIT_OK;
  for (;;) {
    int got = csv_next(csv, &rec);
    if (got < 0) {
      fprintf(stderr, "\nloyaltyctl: %s: %s; stopped there (lines before it are done)\n",
              path, csv_error(csv));
      rc = CTL_EXIT_RPC;
    }
    bool full = b.n == BATCH_ROWS || b.bytes > BATCH_BYTES - 2000;
    if ((got <= 0 || full) && b.n > 0) {
      if (send_batch(env, fmt, sha, dry_run, &b, &t, errors) != 0) {
        rc = CTL_EXIT_RPC;
        break;
      }
      last_line = (long)b.rows[b.n - 1]->line;
      batch_free(&b);
      if (time(NULL) != last_progress) {
        last_progress = time(NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
        progress(fmt, &t, ftell(in), size,
                 (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9, false);
      }
      if (interrupted)
        break;
    }
    if (got <= 0)
      break;
    Loyalty__V1__ImportRow *row = malloc(sizeof *row);
    if (row == NULL)
      abort();
    loyalty__v1__import_row__init(row);
    row->line = rec.line;
    if (rec.n == n_header) { /* the kind's columns in their order; "" for one absent */
      row->n_fields = fmt->n_columns;
      row->fields = calloc(fmt->n_columns, sizeof *row->fields);
      for (size_t i = 0; i < rec.n; i++) {
        if (place[i] >= 0)
          row->fields[place[i]] = xstrdup(rec.fields[i]);
      }
      for (size_t c = 0; c < fmt->n_columns; c++) {
        if (row->fields[c] == NULL)
          row->fields[c] = xstrdup("");
      }
      count_row(fmt, (const char **)row->fields, &t);
    } else { /* sent as it is: the server rejects it, naming the count */
      row->n_fields = rec.n;
      row->fields = calloc(rec.n + 1, sizeof *row->fields);
      for (size_t i = 0; i < rec.n; i++)
        row->fields[i] = xstrdup(rec.fields[i]);
      t.rows++;
    }
    for (size_t i = 0; i < row->n_fields; i++)
      b.bytes += strlen(row->fields[i]) + 3;
    b.bytes += 12;
    b.raw[b.n] = encode_row(&rec);
    b.rows[b.n++] = row;
  }
  clock_gettime(CLOCK_MONOTONIC, &now);
  double elapsed = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
  progress(fmt, &t, ftell(in), size, elapsed, true);

  printf("import %s %s (sha256 %.12s...)%s\n", fmt->name, path, sha,
         dry_run ? ": dry run, nothing was changed" : "");
  printf("  %-9s %10s %16s %12s\n", "", "rows", "amount (yuan)", "points");
  char file_amount[32], imported_amount[32];
  yuan_text(file_amount, t.amount_cents);
  yuan_text(imported_amount, t.imported_amount_cents);
  printf("  %-9s %10lld %16s %12lld\n", interrupted ? "read" : "file", (long long)t.rows,
         file_amount, (long long)t.points);
  printf("  %-9s %10lld %16s %12lld\n", dry_run ? "would be" : "imported", (long long)t.imported,
         imported_amount, (long long)t.imported_points);
  printf("  %-9s %10lld   already there, or done by an earlier run of this file\n", "skipped",
         (long long)t.skipped);
  printf("  %-9s %10lld   %s%s\n", "rejected", (long long)t.rejected,
         t.rejected ? "see " : "", t.rejected ? errors_path : "");
  printf("  %.1f s, %.0f rows/s\n", elapsed, elapsed > 0 ? (double)t.rows / elapsed : 0.0);
  if (interrupted) {
    printf("interrupted after line %ld: run the same command again to resume\n", last_line);
    rc = 130;
  } else if (rc == CTL_EXIT_OK && t.rejected > 0) {
    rc = CTL_EXIT_RPC;
  }
done:
  batch_free(&b);
  free(b.rows);
  free(b.raw);
  free(header_line);
  if (errors != NULL)
    fclose(errors);
  csv_close(csv);
  fclose(in);
  return rc;
}

int ctl_import_stores(ctl_env *env, const ctl_args *args)
{
  return import_file(env, args, &formats[0]);
}

int ctl_import_members(ctl_env *env, const ctl_args *args)
{
  return import_file(env, args, &formats[1]);
}

int ctl_import_balances(ctl_env *env, const ctl_args *args)
{
  return import_file(env, args, &formats[2]);
}

int ctl_import_orders(ctl_env *env, const ctl_args *args)
{
  return import_file(env, args, &formats[3]);
}
