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
 * Balances and orders go as --jobs parts at once (default 2), split by the member column:
 * each part is sent by a thread of its own, one batch at a time, while this thread reads
 * on, so the database applies batches of different members on several connections. Each
 * part is a run of its own on the server (resumed on its own: run the file again with the
 * same --jobs to resume). Stores and members go whole, as one part.
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
#include <pthread.h>
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
#define DEFAULT_JOBS 2    /* parts sent at once, for the kinds split by member */
#define MAX_JOBS 16

typedef struct import_format {
  const char *name;
  Loyalty__V1__ImportKind kind;
  const char *const *columns; /* in the order ImportRow.fields takes them */
  size_t n_columns;
  int optional;               /* index of the one optional column, or -1 */
  int member;                 /* the member column, which splits the rows into parts; -1:
                                 sent whole */
} import_format;

static const char *const store_columns[] = {"store_code", "name", "channel", "region"};
static const char *const member_columns[] = {"phone", "name", "birthday", "identities",
                                             "enrolled_store", "enrolled_at"};
static const char *const balance_columns[] = {"member", "points", "expires_on"};
static const char *const order_columns[] = {"store", "order_id", "kind", "member",
                                            "amount", "occurred_at", "points"};

#define FORMAT(name, kind, columns, optional, member) \
  {name, kind, columns, sizeof(columns) / sizeof((columns)[0]), optional, member}

static const import_format formats[] = {
  FORMAT("stores", LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_STORES, store_columns, -1, -1),
  FORMAT("members", LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_MEMBERS, member_columns, -1, -1),
  FORMAT("balances", LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_BALANCES, balance_columns, -1, 0),
  FORMAT("orders", LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_ORDERS, order_columns, 6, 3),
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

/* A line of the error file: line,reason,the row as the file had it. */
typedef struct rejection {
  int64_t line;
  char *text; /* malloc'ed */
} rejection;

/* What the reading thread and the senders share, under lock. */
typedef struct import_run {
  ctl_env *env;
  const import_format *fmt;
  const char *sha;
  bool dry_run;
  int parts;            /* 1: sent whole */
  pthread_mutex_t lock;
  import_totals t;      /* rows, amount_cents, points: the reader's; the rest the senders' */
  rejection *rejected;  /* as the parts' answers come; written in line order at the end */
  size_t n_rejected, rejected_size;
  bool failed;          /* a batch failed: stop */
} import_run;

/* A part's sender: the reader fills `filling` and queues it; the sender sends the queue's
 * first batch and empties it. (A queue, not one batch: the reader, waiting for room in one
 * part's queue, leaves the other parts' senders something to send.) */
#define QUEUE 3
typedef struct part_sender {
  import_run *run;
  int part;             /* 1..parts; 0 when sent whole */
  pthread_t thread;
  pthread_cond_t changed;  /* a batch queued or sent, or closing */
  batch filling;
  batch queue[QUEUE];   /* queue[first], ... queue[first + queued - 1], mod QUEUE */
  int first, queued;
  bool closing;         /* no more batches */
} part_sender;

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

/* Sends b as part `part` of the run; retries while the server is away (restarting,
 * unreachable) or a concurrent batch got in the way. Adds to the totals and writes the
 * rejected rows to the error file. Returns 0, or -1 after printing why. */
static int send_batch(import_run *run, int part, batch *b)
{
  Loyalty__V1__ImportRowsRequest req = LOYALTY__V1__IMPORT_ROWS_REQUEST__INIT;
  req.kind = run->fmt->kind;
  req.file_sha256 = (char *)run->sha;
  req.dry_run = run->dry_run;
  req.rows = b->rows;
  req.n_rows = b->n;
  req.part = part;
  req.parts = run->parts > 1 ? run->parts : 0;
  ProtobufCMessage *response = NULL;
  char *message = NULL;
  grpc_status_code status;
  time_t give_up = time(NULL) + RETRY_SECONDS;
  for (int attempt = 0;; attempt++) {
    status = lc_call(run->env->conn, "/loyalty.v1.Admin/ImportRows", &req.base,
                     &loyalty__v1__import_rows_response__descriptor, &response, &message,
                     run->env->timeout_ms);
    bool transient = status == GRPC_STATUS_UNAVAILABLE || status == GRPC_STATUS_ABORTED ||
                     status == GRPC_STATUS_DEADLINE_EXCEEDED;
    if (!transient || time(NULL) >= give_up || interrupted)
      break;
    if (attempt == 0 && status != GRPC_STATUS_ABORTED) /* ABORTED: a race, retried at once */
      fprintf(stderr, "\nloyaltyctl: %s (%s); retrying\n", lc_status_name(status), message);
    free(message);
    message = NULL;
    if (status != GRPC_STATUS_ABORTED)
      sleep(1);
  }
  pthread_mutex_lock(&run->lock);
  if (status != GRPC_STATUS_OK) {
    fprintf(stderr, "\nerror: %s: %s\n", lc_status_name(status), message);
    free(message);
    run->failed = true;
    pthread_mutex_unlock(&run->lock);
    return -1;
  }
  Loyalty__V1__ImportRowsResponse *out = (Loyalty__V1__ImportRowsResponse *)response;
  import_totals *t = &run->t;
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
    char *text = NULL;
    size_t size = 0;
    FILE *line = open_memstream(&text, &size);
    if (line == NULL)
      abort();
    fprintf(line, "%lld,", (long long)j->line);
    csv_write_field(line, j->reason);
    fprintf(line, ",%s\n", at < b->n && b->rows[at]->line == j->line ? b->raw[at] : "");
    fclose(line);
    if (run->n_rejected == run->rejected_size) {
      run->rejected_size = run->rejected_size ? 2 * run->rejected_size : 64;
      run->rejected = realloc(run->rejected, run->rejected_size * sizeof *run->rejected);
      if (run->rejected == NULL)
        abort();
    }
    run->rejected[run->n_rejected++] = (rejection){j->line, text};
  }
  pthread_mutex_unlock(&run->lock);
  protobuf_c_message_free_unpacked(response, NULL);
  return 0;
}

static int by_line(const void *a, const void *b)
{
  int64_t x = ((const rejection *)a)->line, y = ((const rejection *)b)->line;
  return (x > y) - (x < y);
}

/* The rejected rows, in line order (parts answer in any order), to the error file. */
static void write_rejections(import_run *run, FILE *errors)
{
  if (run->n_rejected > 1)
    qsort(run->rejected, run->n_rejected, sizeof *run->rejected, by_line);
  for (size_t i = 0; i < run->n_rejected; i++) {
    fputs(run->rejected[i].text, errors);
    free(run->rejected[i].text);
  }
  free(run->rejected);
}

static void *sender_main(void *arg)
{
  part_sender *s = arg;
  import_run *run = s->run;
  pthread_mutex_lock(&run->lock);
  for (;;) {
    while (s->queued == 0 && !s->closing)
      pthread_cond_wait(&s->changed, &run->lock);
    if (s->queued == 0)
      break;
    batch *b = &s->queue[s->first]; /* the reader only touches slots after the queued ones */
    pthread_mutex_unlock(&run->lock);
    int rc = send_batch(run, s->part, b);
    pthread_mutex_lock(&run->lock);
    batch_free(b);
    s->first = (s->first + 1) % QUEUE;
    s->queued--;
    pthread_cond_broadcast(&s->changed);
    if (rc != 0)
      break;
  }
  pthread_mutex_unlock(&run->lock);
  return NULL;
}

/* Queues the part's filled batch, once there is room (unless the run failed). */
static void hand_over(part_sender *s)
{
  import_run *run = s->run;
  pthread_mutex_lock(&run->lock);
  while (s->queued == QUEUE && !run->failed)
    pthread_cond_wait(&s->changed, &run->lock);
  if (!run->failed) {
    batch *slot = &s->queue[(s->first + s->queued) % QUEUE];
    batch emptied = *slot; /* its arrays take the next rows */
    *slot = s->filling;
    s->filling = emptied;
    s->queued++;
    pthread_cond_broadcast(&s->changed);
  }
  pthread_mutex_unlock(&run->lock);
}

/* The part of a row: by its member, as the file names it (FNV-1a), so that all rows of a
 * member, and a refund with its purchase, go in one part. */
static int part_of(const import_run *run, const Loyalty__V1__ImportRow *row)
{
  int column = run->fmt->member;
  if (run->parts <= 1 || column < 0 || (size_t)column >= row->n_fields)
    return 0;
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)row->fields[column]; *p; p++)
    h = (h ^ *p) * 16777619u;
  return (int)(h % (uint32_t)run->parts);
}

static void batch_init(batch *b)
{
  b->rows = calloc(BATCH_ROWS, sizeof *b->rows);
  b->raw = calloc(BATCH_ROWS, sizeof *b->raw);
  if (b->rows == NULL || b->raw == NULL)
    abort();
  b->n = b->bytes = 0;
}

static void batch_destroy(batch *b)
{
  batch_free(b);
  free(b->rows);
  free(b->raw);
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
  int64_t jobs = DEFAULT_JOBS;
  if (ctl_arg(args, "jobs") != NULL &&
      (!ctl_parse_int64(ctl_arg(args, "jobs"), &jobs) || jobs < 1 || jobs > MAX_JOBS))
    return ctl_usage_error("--jobs must be 1-%d", MAX_JOBS);
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
  int place[64];
  import_run run = {.env = env, .fmt = fmt, .sha = sha, .dry_run = dry_run};
  part_sender senders[MAX_JOBS] = {0};
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
  run.parts = fmt->member >= 0 ? (int)jobs : 1;
  pthread_mutex_init(&run.lock, NULL);
  for (int p = 0; p < run.parts; p++) {
    part_sender *sp = &senders[p];
    sp->run = &run;
    sp->part = run.parts > 1 ? p + 1 : 0;
    pthread_cond_init(&sp->changed, NULL);
    batch_init(&sp->filling);
    for (int q = 0; q < QUEUE; q++)
      batch_init(&sp->queue[q]);
    if (pthread_create(&sp->thread, NULL, sender_main, sp) != 0)
      abort();
  }
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  time_t last_progress = time(NULL);
  rc = CTL_EXIT_OK;
  for (;;) {
    int got = csv_next(csv, &rec);
    if (got < 0) {
      fprintf(stderr, "\nloyaltyctl: %s: %s; stopped there (lines before it are done)\n",
              path, csv_error(csv));
      rc = CTL_EXIT_RPC;
    }
    pthread_mutex_lock(&run.lock);
    bool failed = run.failed;
    pthread_mutex_unlock(&run.lock);
    if (got <= 0 || interrupted || failed)
      break;
    Loyalty__V1__ImportRow *row = malloc(sizeof *row);
    if (row == NULL)
      abort();
    loyalty__v1__import_row__init(row);
    row->line = rec.line;
    pthread_mutex_lock(&run.lock);
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
      count_row(fmt, (const char **)row->fields, &run.t);
    } else { /* sent as it is: the server rejects it, naming the count */
      row->n_fields = rec.n;
      row->fields = calloc(rec.n + 1, sizeof *row->fields);
      for (size_t i = 0; i < rec.n; i++)
        row->fields[i] = xstrdup(rec.fields[i]);
      run.t.rows++;
    }
    pthread_mutex_unlock(&run.lock);
    part_sender *sp = &senders[part_of(&run, row)];
    batch *b = &sp->filling;
    for (size_t i = 0; i < row->n_fields; i++)
      b->bytes += strlen(row->fields[i]) + 3;
    b->bytes += 12;
    b->raw[b->n] = encode_row(&rec);
    b->rows[b->n++] = row;
    if (b->n == BATCH_ROWS || b->bytes > BATCH_BYTES - 2000)
      hand_over(sp);
    if (time(NULL) != last_progress) {
      last_progress = time(NULL);
      clock_gettime(CLOCK_MONOTONIC, &now);
      pthread_mutex_lock(&run.lock);
      progress(fmt, &run.t, ftell(in), size,
               (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9, false);
      pthread_mutex_unlock(&run.lock);
    }
  }
  /* The last rows of each part, unless stopped; then each sender finishes its batch. */
  for (int p = 0; p < run.parts; p++) {
    part_sender *sp = &senders[p];
    if (sp->filling.n > 0 && !interrupted && !run.failed)
      hand_over(sp);
    pthread_mutex_lock(&run.lock);
    sp->closing = true;
    pthread_cond_broadcast(&sp->changed);
    pthread_mutex_unlock(&run.lock);
  }
  for (int p = 0; p < run.parts; p++) {
    pthread_join(senders[p].thread, NULL);
    batch_destroy(&senders[p].filling);
    for (int q = 0; q < QUEUE; q++)
      batch_destroy(&senders[p].queue[q]);
    pthread_cond_destroy(&senders[p].changed);
  }
  pthread_mutex_destroy(&run.lock);
  write_rejections(&run, errors);
  if (run.failed)
    rc = CTL_EXIT_RPC;
  import_totals t = run.t;
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
    printf("interrupted: run the same command again to resume\n");
    rc = 130;
  } else if (rc == CTL_EXIT_OK && t.rejected > 0) {
    rc = CTL_EXIT_RPC;
  }
done:
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
