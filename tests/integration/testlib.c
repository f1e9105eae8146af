/*
 * testlib.c - see testlib.h.
 */
#include "testlib.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

tl_env tl;
lc_conn *tl_hq;
static const char *current_test = "(setup)";

/* What the current test owns, freed when it ends. */
typedef enum kept_kind { KEPT_MEMORY, KEPT_MESSAGE, KEPT_CONN } kept_kind;
typedef struct kept {
  kept_kind kind;
  void *p;
  struct kept *next;
} kept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static kept *kept_list;

static void *keep(kept_kind kind, void *p)
{
  if (p == NULL)
    return NULL;
  kept *k = malloc(sizeof *k);
  k->kind = kind;
  k->p = p;
  pthread_mutex_lock(&kept_lock);
  k->next = kept_list;
  kept_list = k;
  pthread_mutex_unlock(&kept_lock);
  return p;
}

void *tl_keep(void *p) { return keep(KEPT_MEMORY, p); }

static void free_kept(void)
{
  while (kept_list != NULL) {
    kept *k = kept_list;
    kept_list = k->next;
    if (k->kind == KEPT_MESSAGE)
      protobuf_c_message_free_unpacked(k->p, NULL);
    else if (k->kind == KEPT_CONN)
      lc_close(k->p);
    else
      free(k->p);
    free(k);
  }
}

/* The last lines of the server's log, to see its side of a failure. */
static void print_log_tail(int lines)
{
  FILE *f = tl.log[0] != '\0' ? fopen(tl.log, "r") : NULL;
  if (f == NULL)
    return;
  enum { KEEP = 64 };
  static char ring[KEEP][512];
  long n = 0;
  while (fgets(ring[n % KEEP], sizeof ring[0], f) != NULL)
    n++;
  fclose(f);
  if (lines > KEEP)
    lines = KEEP;
  fprintf(stderr, "--- last lines of %s (the log of every test running now)\n", tl.log);
  for (long i = n > lines ? n - lines : 0; i < n; i++)
    fputs(ring[i % KEEP], stderr);
}

/* The servers tl_start_server started and tl_stop_server has not stopped: a failed test
 * stops them as it exits, so none outlives it. */
static pthread_mutex_t started_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t started[16];
static int n_started;

static void stop_started_servers(void)
{
  for (int i = 0; i < n_started; i++) {
    if (started[i] > 0)
      kill(started[i], SIGTERM);
  }
}

void tl_fail(const char *file, int line, const char *fmt, ...)
{
  static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&once); /* one report, even when several threads fail */
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL %s\n  %s:%d: ", current_test, file, line);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  print_log_tail(15);
  fflush(stderr);
  stop_started_servers();
  _exit(1);
}

static void load_env(void)
{
  const char *path = getenv("LOYALTY_TEST_ENV");
  FILE *f = path ? fopen(path, "r") : NULL;
  if (f == NULL)
    tl_fail(__FILE__, __LINE__, "LOYALTY_TEST_ENV must name the harness's env file (run via ctest)");
  char line[1024];
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char *eq = strchr(line, '=');
    if (eq == NULL)
      continue;
    *eq = '\0';
    const char *v = eq + 1;
    if (strcmp(line, "LOYALTY_TEST_SERVER") == 0)
      snprintf(tl.server, sizeof tl.server, "%s", v);
    else if (strcmp(line, "LOYALTY_TEST_HQ_KEY") == 0)
      snprintf(tl.hq_key, sizeof tl.hq_key, "%s", v);
    else if (strcmp(line, "LOYALTY_TEST_DB") == 0)
      snprintf(tl.db, sizeof tl.db, "%s", v);
    else if (strcmp(line, "LOYALTY_TEST_SERVER_DB") == 0)
      snprintf(tl.server_db, sizeof tl.server_db, "%s", v);
    else if (strcmp(line, "LOYALTY_TEST_LOG") == 0)
      snprintf(tl.log, sizeof tl.log, "%s", v);
    else if (strcmp(line, "LOYALTY_TEST_PGDIR") == 0)
      snprintf(tl.pgdir, sizeof tl.pgdir, "%s", v);
    else if (strcmp(line, "LOYALTY_SOURCE_DIR") == 0)
      snprintf(tl.source_dir, sizeof tl.source_dir, "%s", v);
    else if (strcmp(line, "LOYALTY_TEST_SERVER_PID") == 0)
      tl.server_pid = atol(v);
  }
  fclose(f);
  if (tl.server[0] == '\0' || tl.hq_key[0] == '\0' || tl.db[0] == '\0')
    tl_fail(__FILE__, __LINE__, "incomplete env file %s", path);
}

lc_conn *tl_connect(const char *key)
{
  lc_options o = {.target = tl.server, .key = key};
  char err[256];
  lc_conn *c = lc_connect(&o, err, sizeof err);
  if (c == NULL)
    tl_fail(__FILE__, __LINE__, "connect: %s", err);
  return keep(KEPT_CONN, c);
}

int tl_main(int argc, char **argv, const tl_test *tests, size_t n_tests)
{
  const char *only = argc > 1 ? argv[1] : NULL;
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  load_env();
  lc_init();
  lc_options hq = {.target = tl.server, .key = tl.hq_key};
  char err[256];
  tl_hq = lc_connect(&hq, err, sizeof err);
  if (tl_hq == NULL)
    tl_fail(__FILE__, __LINE__, "connect: %s", err);
  int ran = 0;
  for (size_t i = 0; i < n_tests; i++) {
    if (only != NULL && strcmp(only, tests[i].name) != 0)
      continue;
    current_test = tests[i].name;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tests[i].run();
    tl_check_invariants();
    free_kept();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("ok   %s (%ld ms)\n", tests[i].name, ms);
    fflush(stdout);
    ran++;
  }
  if (ran == 0)
    tl_fail(__FILE__, __LINE__, "no test named %s", only ? only : "(any)");
  lc_close(tl_hq);
  lc_shutdown();
  return 0;
}

tl_result tl_call_timeout(lc_conn *conn, const char *method, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *response_type, int timeout_ms)
{
  tl_result r;
  r.status = lc_call(conn, method, request, response_type, &r.response, &r.message, timeout_ms);
  keep(KEPT_MESSAGE, r.response);
  keep(KEPT_MEMORY, r.message);
  return r;
}

tl_result tl_call(lc_conn *conn, const char *method, const ProtobufCMessage *request,
                  const ProtobufCMessageDescriptor *response_type)
{
  return tl_call_timeout(conn, method, request, response_type, 15000);
}

typedef struct parallel_slot {
  tl_parallel_call *call;
  pthread_barrier_t *start;
} parallel_slot;

static void *parallel_thread(void *arg)
{
  parallel_slot *s = arg;
  tl_parallel_call *c = s->call;
  pthread_barrier_wait(s->start);
  c->result = tl_call(c->conn, c->method, c->request,
                      c->response_type ? c->response_type : &loyalty__v1__points_result__descriptor);
  return NULL;
}

void tl_call_concurrently(tl_parallel_call *calls, int n)
{
  pthread_t *threads = malloc(sizeof *threads * (size_t)n);
  parallel_slot *slots = malloc(sizeof *slots * (size_t)n);
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)n);
  for (int i = 0; i < n; i++) {
    slots[i] = (parallel_slot){.call = &calls[i], .start = &start};
    if (pthread_create(&threads[i], NULL, parallel_thread, &slots[i]) != 0)
      tl_fail(__FILE__, __LINE__, "pthread_create failed");
  }
  for (int i = 0; i < n; i++)
    pthread_join(threads[i], NULL);
  pthread_barrier_destroy(&start);
  free(slots);
  free(threads);
}

int tl_count_status(const tl_parallel_call *calls, int n, grpc_status_code status)
{
  int count = 0;
  for (int i = 0; i < n; i++)
    count += calls[i].result.status == status;
  return count;
}

ProtobufCMessage *tl_call_ok_at(const char *file, int line, lc_conn *conn, const char *method,
                                const ProtobufCMessage *request,
                                const ProtobufCMessageDescriptor *response_type)
{
  tl_result r = tl_call(conn, method, request, response_type);
  if (r.status != GRPC_STATUS_OK)
    tl_fail(file, line, "%s: %s (%s)", method, lc_status_name(r.status), r.message);
  return r.response;
}

const char *tl_unique(const char *prefix)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static unsigned counter;
  pthread_mutex_lock(&lock);
  unsigned n = ++counter;
  pthread_mutex_unlock(&lock);
  char *s = tl_keep(malloc(64));
  snprintf(s, 64, "%s%dx%u%04x", prefix, (int)getpid() % 100000, n, (unsigned)rand() & 0xffff);
  return s;
}

const char *tl_phone(void)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static unsigned counter;
  pthread_mutex_lock(&lock);
  unsigned n = ++counter;
  pthread_mutex_unlock(&lock);
  /* "15" + 4 digits of the pid + 5 of a counter: unique among the suite's processes. */
  char *s = tl_keep(malloc(16));
  snprintf(s, 16, "15%04d%05u", (int)getpid() % 10000, n % 100000);
  return s;
}

tl_store tl_new_store(Loyalty__V1__Channel channel)
{
  tl_store s;
  s.code = tl_unique("S");
  Loyalty__V1__CreateStoreRequest create = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
  create.store_code = (char *)s.code;
  create.name = "test store";
  create.channel = channel;
  create.region = "SH";
  tl_call_ok(tl_hq, ADMIN("CreateStore"), &create.base, &loyalty__v1__store__descriptor);
  Loyalty__V1__IssueStoreKeyRequest issue = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  issue.store_code = (char *)s.code;
  Loyalty__V1__IssuedKey *key = (Loyalty__V1__IssuedKey *)tl_call_ok(
      tl_hq, ADMIN("IssueStoreKey"), &issue.base, &loyalty__v1__issued_key__descriptor);
  s.key_id = key->key_id;
  s.conn = tl_connect(key->secret);
  return s;
}

int64_t tl_enroll(lc_conn *conn, const char *birthday)
{
  Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
  req.request_id = (char *)tl_unique("en");
  req.phone = (char *)tl_phone();
  req.name = "test member";
  req.birthday = (char *)birthday;
  Loyalty__V1__Member *m = (Loyalty__V1__Member *)tl_call_ok(
      conn, POINTS("EnrollMember"), &req.base, &loyalty__v1__member__descriptor);
  return m->member_id;
}

Loyalty__V1__EarnRequest tl_earn_request(int64_t member_id, int64_t amount_cents)
{
  Loyalty__V1__EarnRequest req = LOYALTY__V1__EARN_REQUEST__INIT;
  req.request_id = (char *)tl_unique("e");
  req.member_id = member_id;
  req.order_id = (char *)tl_unique("o");
  req.amount_cents = amount_cents;
  return req;
}

Loyalty__V1__RedeemRequest tl_redeem_request(int64_t member_id, int64_t points)
{
  Loyalty__V1__RedeemRequest req = LOYALTY__V1__REDEEM_REQUEST__INIT;
  req.request_id = (char *)tl_unique("r");
  req.member_id = member_id;
  req.points = points;
  return req;
}

static char hq_store_code[64];

static void make_hq_store(void)
{
  const char *code = tl_unique("HQE");
  Loyalty__V1__CreateStoreRequest create = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
  create.store_code = (char *)code;
  create.name = "test store for HQ earns";
  create.channel = LOYALTY__V1__CHANNEL__CHANNEL_POS;
  create.region = "SH";
  tl_call_ok(tl_hq, ADMIN("CreateStore"), &create.base, &loyalty__v1__store__descriptor);
  snprintf(hq_store_code, sizeof hq_store_code, "%s", code); /* outlives the test */
}

const char *tl_hq_store(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, make_hq_store);
  return hq_store_code;
}

Loyalty__V1__EarnRequest tl_hq_earn_request(int64_t member_id, int64_t amount_cents)
{
  Loyalty__V1__EarnRequest req = tl_earn_request(member_id, amount_cents);
  req.store_code = (char *)tl_hq_store();
  return req;
}

tl_result tl_earn(lc_conn *conn, int64_t member_id, int64_t amount_cents)
{
  Loyalty__V1__EarnRequest req = conn == tl_hq ? tl_hq_earn_request(member_id, amount_cents)
                                               : tl_earn_request(member_id, amount_cents);
  return tl_call(conn, POINTS("Earn"), &req.base, &loyalty__v1__points_result__descriptor);
}

tl_result tl_redeem(lc_conn *conn, int64_t member_id, int64_t points)
{
  Loyalty__V1__RedeemRequest req = tl_redeem_request(member_id, points);
  return tl_call(conn, POINTS("Redeem"), &req.base, &loyalty__v1__points_result__descriptor);
}

Loyalty__V1__RefundRequest tl_refund_request(int64_t member_id, int64_t earn_txn, const char *order,
                                             int64_t amount_cents)
{
  Loyalty__V1__RefundRequest req = LOYALTY__V1__REFUND_REQUEST__INIT;
  req.request_id = (char *)tl_unique("f");
  req.member_id = member_id;
  if (order != NULL) {
    req.original_case = LOYALTY__V1__REFUND_REQUEST__ORIGINAL_ORDER_ID;
    req.order_id = (char *)order;
  } else {
    req.original_case = LOYALTY__V1__REFUND_REQUEST__ORIGINAL_TRANSACTION_ID;
    req.transaction_id = earn_txn;
  }
  req.amount_cents = amount_cents;
  return req;
}

tl_result tl_refund(lc_conn *conn, int64_t member_id, int64_t earn_txn, const char *order,
                    int64_t amount_cents)
{
  Loyalty__V1__RefundRequest req = tl_refund_request(member_id, earn_txn, order, amount_cents);
  return tl_call(conn, POINTS("Refund"), &req.base, &loyalty__v1__points_result__descriptor);
}

tl_result tl_cancel(lc_conn *conn, int64_t member_id, int64_t redemption_id)
{
  Loyalty__V1__CancelRedemptionRequest req = LOYALTY__V1__CANCEL_REDEMPTION_REQUEST__INIT;
  req.request_id = (char *)tl_unique("c");
  req.member_id = member_id;
  req.redemption_id = redemption_id;
  return tl_call(conn, POINTS("CancelRedemption"), &req.base,
                 &loyalty__v1__points_result__descriptor);
}

Loyalty__V1__PointsResult *tl_points_at(const char *file, int line, tl_result result)
{
  if (result.status != GRPC_STATUS_OK)
    tl_fail(file, line, "call failed: %s (%s)", lc_status_name(result.status), result.message);
  return (Loyalty__V1__PointsResult *)result.response;
}

Loyalty__V1__Balance *tl_balance(lc_conn *conn, int64_t member_id)
{
  Loyalty__V1__GetBalanceRequest req = LOYALTY__V1__GET_BALANCE_REQUEST__INIT;
  req.member_id = member_id;
  return (Loyalty__V1__Balance *)tl_call_ok(conn, POINTS("GetBalance"), &req.base,
                                            &loyalty__v1__balance__descriptor);
}

static PGresult *run_sql(const char *sql)
{
  PGconn *pg = PQconnectdb(tl.db);
  if (PQstatus(pg) != CONNECTION_OK)
    tl_fail(__FILE__, __LINE__, "database: %s", PQerrorMessage(pg));
  PGresult *r = PQexec(pg, sql);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
    tl_fail(__FILE__, __LINE__, "sql failed: %s\n  %s", PQresultErrorMessage(r), sql);
  PQfinish(pg);
  return r;
}

void tl_sql(const char *sql) { PQclear(run_sql(sql)); }

char *tl_sql_error_as(const char *conninfo, const char *sql)
{
  PGconn *pg = PQconnectdb(conninfo);
  if (PQstatus(pg) != CONNECTION_OK)
    tl_fail(__FILE__, __LINE__, "database: %s", PQerrorMessage(pg));
  PGresult *r = PQexec(pg, sql);
  ExecStatusType st = PQresultStatus(r);
  char *error = NULL;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
    error = tl_keep(strdup(PQresultErrorMessage(r)));
  PQclear(r);
  PQfinish(pg);
  return error;
}

char *tl_sql_value(const char *sql)
{
  PGresult *r = run_sql(sql);
  char *v = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? tl_keep(strdup(PQgetvalue(r, 0, 0))) : NULL;
  PQclear(r);
  return v;
}

int64_t tl_sql_int(const char *fmt, ...)
{
  char sql[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sql, sizeof sql, fmt, ap);
  va_end(ap);
  char *v = tl_sql_value(sql);
  return v != NULL ? strtoll(v, NULL, 10) : 0;
}

void tl_check_invariants(void)
{
  PGresult *r = run_sql(
      "SELECT m.member_id, m.balance, coalesce(l.total, 0), coalesce(t.remaining, 0),"
      " m.pending_points, coalesce(l.pending, 0)"
      " FROM members m"
      " LEFT JOIN (SELECT member_id, sum(points) AS total, sum(pending_points) AS pending"
      "            FROM ledger GROUP BY 1) l"
      "   USING (member_id)"
      " LEFT JOIN (SELECT member_id, sum(remaining) AS remaining FROM lots GROUP BY 1) t"
      "   USING (member_id)"
      " WHERE m.balance <> coalesce(l.total, 0)"
      "    OR m.pending_points <> coalesce(l.pending, 0)"
      "    OR greatest(m.balance, 0) <> coalesce(t.remaining, 0)"
      " LIMIT 5");
  if (PQntuples(r) > 0)
    tl_fail(__FILE__, __LINE__,
            "ledger invariant broken for member %s: balance %s, ledger sum %s, lots %s,"
            " pending %s, ledger pending sum %s",
            PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
            PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5));
  PQclear(r);
}

/* The month number (1-12) in Asia/Shanghai now, from PostgreSQL: the server's clock. */
static int shanghai_month(void)
{
  char *v = tl_sql_value("SELECT extract(month FROM now() AT TIME ZONE 'Asia/Shanghai')::int");
  return atoi(v);
}

const char *tl_birthday_this_month(void)
{
  char *s = tl_keep(malloc(16));
  snprintf(s, 16, "1990-%02d-15", shanghai_month());
  return s;
}

const char *tl_birthday_other_month(void)
{
  char *s = tl_keep(malloc(16));
  snprintf(s, 16, "1990-%02d-15", shanghai_month() % 12 + 1);
  return s;
}

static int free_port(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t n = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &n) != 0)
    tl_fail(__FILE__, __LINE__, "no free port");
  close(fd);
  return ntohs(a.sin_port);
}

tl_result tl_set_pending_days(Loyalty__V1__Channel channel, int days)
{
  Loyalty__V1__GetProgramRequest get = LOYALTY__V1__GET_PROGRAM_REQUEST__INIT;
  Loyalty__V1__Program *p = (Loyalty__V1__Program *)tl_call_ok(
      tl_hq, ADMIN("GetProgram"), &get.base, &loyalty__v1__program__descriptor);
  Loyalty__V1__PendingDays pending = LOYALTY__V1__PENDING_DAYS__INIT;
  Loyalty__V1__ChannelDays one = LOYALTY__V1__CHANNEL_DAYS__INIT;
  Loyalty__V1__ChannelDays *list[] = {&one};
  one.channel = channel;
  one.days = days;
  pending.n_channels = 1;
  pending.channels = list;
  Loyalty__V1__PendingDays *own = p->pending_days; /* p is freed with its own */
  p->pending_days = &pending;
  tl_result r = tl_call(tl_hq, ADMIN("UpdateProgram"), &p->base, &loyalty__v1__program__descriptor);
  p->pending_days = own;
  return r;
}

/* Starts s->argv, remembered to be killed when the test program ends. */
static void spawn_server(tl_server *s)
{
  if (posix_spawn(&s->pid, s->argv[0], NULL, NULL, (char *const *)s->argv, environ) != 0)
    tl_fail(__FILE__, __LINE__, "cannot start %s", s->argv[0]);
  pthread_mutex_lock(&started_lock);
  if (n_started < (int)(sizeof started / sizeof started[0]))
    started[n_started++] = s->pid;
  pthread_mutex_unlock(&started_lock);
}

tl_server tl_start_server(const char *host, const char *const *extra)
{
  tl_server s;
  const char *argv[24] = {getenv("LOYALTYD"), "--db", tl.db, "--listen", NULL,
                          "--log-level", "warn"};
  int argc = 7;
  if (argv[0] == NULL)
    tl_fail(__FILE__, __LINE__, "LOYALTYD must name the loyaltyd to start (run via ctest)");
  int port = free_port();
  snprintf(s.address, sizeof s.address, "127.0.0.1:%d", port);
  char *listen = tl_keep(malloc(64));
  snprintf(listen, 64, "%s:%d", host, port);
  argv[4] = listen;
  for (; *extra != NULL && argc < 23; extra++)
    argv[argc++] = *extra;
  argv[argc] = NULL;
  memcpy(s.argv, argv, sizeof s.argv);
  spawn_server(&s);
  return s;
}

static int kill_server(tl_server s, int sig)
{
  int status = 0;
  pthread_mutex_lock(&started_lock);
  for (int i = 0; i < n_started; i++) {
    if (started[i] == s.pid)
      started[i] = 0;
  }
  pthread_mutex_unlock(&started_lock);
  kill(s.pid, sig);
  waitpid(s.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tl_stop_server(tl_server s)
{
  return kill_server(s, SIGTERM);
}

void tl_restart_server(tl_server *s, int sig)
{
  kill_server(*s, sig);
  spawn_server(s);
}
