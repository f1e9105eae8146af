/*
 * loadgen.c - loyalty-loadgen: Earn throughput and latency through the real gRPC API.
 *
 * Enrolls --members members up front (distinct phones 139xxxxxxxx, in parallel), then
 * --concurrency threads each make blocking Earn calls (/loyalty.v1.Points/Earn) one after
 * the other for --duration seconds, on members picked uniformly at random, every call with
 * its own request_id and order_id. Prints calls/s, errors by status and latency percentiles
 * (integer microseconds, CLOCK_MONOTONIC).
 *
 * Any non-OK status is an error: they are counted, the first message is shown, and the exit
 * code is 1. Exit 2 on a usage error. The last line of the output is machine-readable:
 *   RESULT calls=N errors=N seconds=S rate=R p50_us=N p90_us=N p99_us=N max_us=N
 *
 *   loyalty-loadgen --server 127.0.0.1:50051 --key lk_... --concurrency 16 --duration 20
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "loyalty/v1/points.pb-c.h"
#include "loyalty_client.h"

#define MAX_THREADS 1024
#define MAX_MEMBERS 10000000
#define N_STATUS (GRPC_STATUS_UNAUTHENTICATED + 1)

typedef struct loadgen_options {
  const char *server;
  const char *key;
  const char *store_code; /* "" with a store key: the key's own store */
  int concurrency;
  int duration_s;
  int members;
  int timeout_ms;
} loadgen_options;

/* Shared by every worker; written only before the threads start (except member_ids). */
typedef struct loadgen_run {
  const loadgen_options *opts;
  lc_conn *conn;
  char run_id[24];      /* makes request and order ids unique across runs */
  int64_t *member_ids;  /* [opts->members], filled by the enrolment phase */
  atomic_bool enroll_failed; /* set by any thread whose enrolment failed */
  pthread_barrier_t start;
  int64_t start_us;     /* CLOCK_MONOTONIC; set by thread 0 after the barrier */
  int64_t end_us;
} loadgen_run;

/* One thread's counters and latency samples (owned by the thread until joined). */
typedef struct loadgen_worker {
  loadgen_run *run;
  int index;
  pthread_t thread;
  int64_t *samples_us;  /* latency of each OK call; malloc'ed, grows */
  size_t n_samples, cap_samples;
  uint64_t errors[N_STATUS];
  char *first_error;    /* "STATUS: message" of the first failure, malloc'ed */
  int64_t finished_us;
} loadgen_worker;

static int64_t now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* xorshift64*: cheap per-thread randomness, good enough to pick members and amounts. */
static uint64_t next_random(uint64_t *state)
{
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * UINT64_C(2685821657736338717);
}

/* Records a failed call; keeps the first message. message may be NULL. */
static void record_error(loadgen_worker *w, grpc_status_code code, const char *what,
                         const char *message)
{
  w->errors[(unsigned)code < N_STATUS ? code : GRPC_STATUS_UNKNOWN]++;
  if (w->first_error == NULL) {
    size_t n = strlen(what) + strlen(message ? message : "") + 64;
    w->first_error = malloc(n);
    if (w->first_error != NULL)
      snprintf(w->first_error, n, "%s: %s: %s", what, lc_status_name(code),
               message ? message : "");
  }
}

static int add_sample(loadgen_worker *w, int64_t us)
{
  if (w->n_samples == w->cap_samples) {
    size_t cap = w->cap_samples ? w->cap_samples * 2 : 65536;
    int64_t *grown = realloc(w->samples_us, cap * sizeof *grown);
    if (grown == NULL)
      return -1;
    w->samples_us = grown;
    w->cap_samples = cap;
  }
  w->samples_us[w->n_samples++] = us;
  return 0;
}

/* Enrolls members index, index + concurrency, ...; their ids go to run->member_ids. */
static void enroll_share(loadgen_worker *w)
{
  loadgen_run *run = w->run;
  const loadgen_options *o = run->opts;
  for (int i = w->index; i < o->members; i += o->concurrency) {
    char request_id[64], phone[16];
    snprintf(request_id, sizeof request_id, "lg-%s-enroll-%d", run->run_id, i);
    snprintf(phone, sizeof phone, "139%08d", i);
    Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
    req.request_id = request_id;
    req.phone = phone;
    req.store_code = (char *)o->store_code;
    ProtobufCMessage *resp;
    char *message;
    grpc_status_code code =
        lc_call(run->conn, "/loyalty.v1.Points/EnrollMember", &req.base,
                &loyalty__v1__member__descriptor, &resp, &message, o->timeout_ms);
    if (code != GRPC_STATUS_OK) {
      record_error(w, code, "enroll", message);
      free(message);
      atomic_store(&run->enroll_failed, true);
      return;
    }
    run->member_ids[i] = ((Loyalty__V1__Member *)resp)->member_id;
    protobuf_c_message_free_unpacked(resp, NULL);
  }
}

/* Makes Earn calls until run->end_us. */
static void earn_until_end(loadgen_worker *w)
{
  loadgen_run *run = w->run;
  const loadgen_options *o = run->opts;
  uint64_t rng = UINT64_C(0x9E3779B97F4A7C15) * (uint64_t)(w->index + 1) ^ (uint64_t)now_us();
  for (uint64_t seq = 0;; seq++) {
    int64_t t0 = now_us();
    if (t0 >= run->end_us)
      break;
    char request_id[64], order_id[64];
    snprintf(request_id, sizeof request_id, "lg-%s-%d-%" PRIu64, run->run_id, w->index, seq);
    snprintf(order_id, sizeof order_id, "o-%s-%d-%" PRIu64, run->run_id, w->index, seq);
    Loyalty__V1__EarnRequest req = LOYALTY__V1__EARN_REQUEST__INIT;
    req.request_id = request_id;
    req.order_id = order_id;
    req.member_id = run->member_ids[next_random(&rng) % (uint64_t)o->members];
    req.amount_cents = 100 + (int64_t)(next_random(&rng) % 200000); /* 1 to 2,001 yuan */
    req.store_code = (char *)o->store_code;
    ProtobufCMessage *resp;
    char *message;
    grpc_status_code code =
        lc_call(run->conn, "/loyalty.v1.Points/Earn", &req.base,
                &loyalty__v1__points_result__descriptor, &resp, &message, o->timeout_ms);
    int64_t t1 = now_us();
    if (code == GRPC_STATUS_OK) {
      protobuf_c_message_free_unpacked(resp, NULL);
      if (add_sample(w, t1 - t0) != 0) {
        record_error(w, GRPC_STATUS_RESOURCE_EXHAUSTED, "loadgen", "out of memory");
        break;
      }
    } else {
      record_error(w, code, "earn", message);
      free(message);
    }
  }
  w->finished_us = now_us();
}

static void *worker_main(void *arg)
{
  loadgen_worker *w = arg;
  loadgen_run *run = w->run;
  enroll_share(w);
  /* Every thread waits here, so the timed phase starts with every member enrolled. */
  int b = pthread_barrier_wait(&run->start);
  if (b == PTHREAD_BARRIER_SERIAL_THREAD) {
    run->start_us = now_us();
    run->end_us = run->start_us + (int64_t)run->opts->duration_s * 1000000;
  }
  pthread_barrier_wait(&run->start); /* start_us and end_us are set */
  if (!atomic_load(&run->enroll_failed))
    earn_until_end(w);
  return NULL;
}

static int compare_int64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The p-th per-mille of sorted (nearest rank); 0 when empty. */
static int64_t percentile(const int64_t *sorted, size_t n, int per_mille)
{
  if (n == 0)
    return 0;
  size_t rank = (n * (size_t)per_mille + 999) / 1000;
  return sorted[rank == 0 ? 0 : rank - 1];
}

static void usage(FILE *out)
{
  fprintf(out,
          "usage: loyalty-loadgen [OPTION]...\n"
          "Enrolls members, then makes concurrent blocking Earn calls for a while and prints\n"
          "calls/s, errors and latency percentiles. Exit 1 if any call failed.\n"
          "\n"
          "  --server HOST:PORT   server address [env LOYALTY_SERVER; default 127.0.0.1:50051]\n"
          "  --key SECRET         a store key, or an HQ key with --store [env LOYALTY_KEY]\n"
          "  --store CODE         store_code sent on every write (needed with an HQ key)\n"
          "  -c, --concurrency N  threads, each with one call in flight [16]\n"
          "  -d, --duration S     seconds of Earn calls [20]\n"
          "  -m, --members M      members enrolled up front, earns spread over them [1000]\n"
          "  --timeout-ms MS      deadline of each call [10000]\n"
          "  --help               this help\n");
}

static int parse_int(const char *s, int min, int max, int *out)
{
  char *end;
  long n = strtol(s, &end, 10);
  if (end == s || *end != '\0' || n < min || n > max)
    return -1;
  *out = (int)n;
  return 0;
}

/* Returns 0, or 2 after printing a usage error. */
static int parse_options(int argc, char **argv, loadgen_options *o)
{
  const char *env_server = getenv("LOYALTY_SERVER");
  *o = (loadgen_options){
    .server = env_server && *env_server ? env_server : "127.0.0.1:50051",
    .key = getenv("LOYALTY_KEY"),
    .store_code = "",
    .concurrency = 16,
    .duration_s = 20,
    .members = 1000,
    .timeout_ms = 10000,
  };
  static const struct option longopts[] = {
    {"server", required_argument, NULL, 's'},
    {"key", required_argument, NULL, 'k'},
    {"store", required_argument, NULL, 'S'},
    {"concurrency", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'd'},
    {"members", required_argument, NULL, 'm'},
    {"timeout-ms", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "c:d:m:h", longopts, NULL)) != -1) {
    int bad = 0;
    switch (c) {
    case 's': o->server = optarg; break;
    case 'k': o->key = optarg; break;
    case 'S': o->store_code = optarg; break;
    case 'c': bad = parse_int(optarg, 1, MAX_THREADS, &o->concurrency); break;
    case 'd': bad = parse_int(optarg, 1, 86400, &o->duration_s); break;
    case 'm': bad = parse_int(optarg, 1, MAX_MEMBERS, &o->members); break;
    case 't': bad = parse_int(optarg, 1, 3600000, &o->timeout_ms); break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return 2;
    }
    if (bad) {
      fprintf(stderr, "loyalty-loadgen: bad value \"%s\" for %s\n", optarg, argv[optind - 1]);
      return 2;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "loyalty-loadgen: unexpected argument \"%s\"\n", argv[optind]);
    return 2;
  }
  if (o->key == NULL || o->key[0] == '\0') {
    fprintf(stderr, "loyalty-loadgen: --key (or LOYALTY_KEY) is required\n");
    return 2;
  }
  return 0;
}

int main(int argc, char **argv)
{
  loadgen_options opts;
  int rc = parse_options(argc, argv, &opts);
  if (rc != 0)
    return rc;

  loadgen_run run = {.opts = &opts};
  loadgen_worker *workers = calloc((size_t)opts.concurrency, sizeof *workers);
  run.member_ids = calloc((size_t)opts.members, sizeof *run.member_ids);
  int64_t *all = NULL;
  int started = 0;
  bool barrier = false;
  rc = 1;
  lc_init();
  if (workers == NULL || run.member_ids == NULL) {
    fprintf(stderr, "loyalty-loadgen: out of memory\n");
    goto done;
  }
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  snprintf(run.run_id, sizeof run.run_id, "%lx%x", (unsigned long)wall.tv_sec,
           (unsigned)getpid() & 0xffffu);
  char errbuf[256];
  lc_options conn_opts = {.target = opts.server, .key = opts.key};
  run.conn = lc_connect(&conn_opts, errbuf, sizeof errbuf);
  if (run.conn == NULL) {
    fprintf(stderr, "loyalty-loadgen: cannot connect to %s: %s\n", opts.server, errbuf);
    goto done;
  }
  if (pthread_barrier_init(&run.start, NULL, (unsigned)opts.concurrency) != 0) {
    fprintf(stderr, "loyalty-loadgen: pthread_barrier_init failed\n");
    goto done;
  }
  barrier = true;

  printf("loadgen: %s, %d threads, %d s, %d members, run %s\n", opts.server, opts.concurrency,
         opts.duration_s, opts.members, run.run_id);
  fflush(stdout);
  int64_t enroll_start = now_us();
  for (; started < opts.concurrency; started++) {
    workers[started].run = &run;
    workers[started].index = started;
    if (pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]) != 0) {
      /* The barrier would wait forever for the missing threads: give up at once. */
      fprintf(stderr, "loyalty-loadgen: cannot start thread %d\n", started);
      exit(1);
    }
  }
  for (int i = 0; i < started; i++)
    pthread_join(workers[i].thread, NULL);

  /* Merge: counters, samples, the end of the timed phase. */
  uint64_t errors[N_STATUS] = {0}, n_errors = 0;
  size_t n = 0;
  int64_t finished_us = run.start_us;
  bool enroll_failed = atomic_load(&run.enroll_failed);
  for (int i = 0; i < started; i++) {
    loadgen_worker *w = &workers[i];
    for (int s = 0; s < N_STATUS; s++) {
      errors[s] += w->errors[s];
      n_errors += w->errors[s];
    }
    n += w->n_samples;
    if (w->finished_us > finished_us)
      finished_us = w->finished_us;
  }
  if (enroll_failed) {
    printf("enrolment failed: no Earn calls made\n");
  } else {
    printf("enrolled %d members in %" PRId64 " ms\n", opts.members,
           (run.start_us - enroll_start) / 1000);
  }
  all = malloc((n ? n : 1) * sizeof *all);
  if (all == NULL) {
    fprintf(stderr, "loyalty-loadgen: out of memory\n");
    goto done;
  }
  size_t k = 0;
  for (int i = 0; i < started; i++) {
    if (workers[i].n_samples > 0)
      memcpy(all + k, workers[i].samples_us, workers[i].n_samples * sizeof *all);
    k += workers[i].n_samples;
  }
  qsort(all, n, sizeof *all, compare_int64);
  int64_t elapsed_us = finished_us - run.start_us;
  double seconds = (double)elapsed_us / 1e6;
  double rate = elapsed_us > 0 ? (double)n * 1e6 / (double)elapsed_us : 0.0;
  int64_t p50 = percentile(all, n, 500), p90 = percentile(all, n, 900);
  int64_t p99 = percentile(all, n, 990), p999 = percentile(all, n, 999);
  int64_t max = n ? all[n - 1] : 0;
  printf("earn: %zu OK calls in %.3f s = %.1f calls/s, %" PRIu64 " errors\n", n, seconds, rate,
         n_errors);
  printf("latency (us): p50 %" PRId64 "  p90 %" PRId64 "  p99 %" PRId64 "  p99.9 %" PRId64
         "  max %" PRId64 "\n",
         p50, p90, p99, p999, max);
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) == 0)
    printf("loadgen cpu (ms): user %ld  sys %ld\n",
           (long)usage.ru_utime.tv_sec * 1000 + (long)usage.ru_utime.tv_usec / 1000,
           (long)usage.ru_stime.tv_sec * 1000 + (long)usage.ru_stime.tv_usec / 1000);
  if (n_errors > 0) {
    fprintf(stderr, "loyalty-loadgen: FAILED: %" PRIu64 " calls did not return OK:", n_errors);
    for (int s = 0; s < N_STATUS; s++)
      if (errors[s] > 0)
        fprintf(stderr, " %s %" PRIu64, lc_status_name((grpc_status_code)s), errors[s]);
    fprintf(stderr, "\n");
    for (int i = 0; i < started; i++)
      if (workers[i].first_error != NULL) {
        fprintf(stderr, "loyalty-loadgen: first error (thread %d): %s\n", i,
                workers[i].first_error);
        break;
      }
  }
  printf("RESULT calls=%zu errors=%" PRIu64 " seconds=%.3f rate=%.1f p50_us=%" PRId64
         " p90_us=%" PRId64 " p99_us=%" PRId64 " max_us=%" PRId64 "\n",
         n, n_errors, seconds, rate, p50, p90, p99, max);
  rc = n_errors == 0 && !enroll_failed && n > 0 ? 0 : 1;

done:
  free(all);
  if (workers != NULL)
    for (int i = 0; i < started; i++) {
      free(workers[i].samples_us);
      free(workers[i].first_error);
    }
  free(workers);
  free(run.member_ids);
  if (barrier)
    pthread_barrier_destroy(&run.start);
  lc_close(run.conn);
  lc_shutdown();
  return rc;
}
