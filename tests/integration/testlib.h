/*
 * testlib.h - integration tests against the real loyaltyd over gRPC and the real PostgreSQL.
 *
 * The ctest fixture (tests/harness/start.sh) starts a throwaway PostgreSQL and loyaltyd and
 * writes their coordinates to the file named by LOYALTY_TEST_ENV. A test program lists its
 * tests in a tl_test table and calls tl_main; each test prints its name, and the first
 * failed assertion ends the program with status 1 after saying where and why. After every
 * test, tl_main checks the ledger invariants of every member in the database.
 *
 * Tests make their own stores, keys and members with unique names, so test programs can run
 * in parallel against one server.
 *
 * INTERFACE ROUTINES
 *   tl_main                        run the tests of a program
 *   ASSERT_*                       typed assertions
 *   tl_call, tl_call_ok            one unary call
 *   tl_call_concurrently           many calls at once, from threads released together
 *   tl_new_store, tl_enroll, tl_earn, tl_redeem, tl_refund, tl_cancel   the common steps
 *   tl_hq_store, tl_hq_earn_request   the store HQ's earns happen at (an HQ Earn names one)
 *   tl_unique                      a unique token for ids, phones, codes
 *   tl_sql, tl_sql_value, tl_sql_int   direct SQL (arranging state, reading it back)
 *   tl_check_invariants            balance = ledger sum, pending = ledger pending sum,
 *                                  lots = max(balance, 0), for all
 *   tl_start_server, tl_stop_server   a loyaltyd of the test's own (LOYALTYD)
 */
#ifndef LOYALTY_TESTLIB_H
#define LOYALTY_TESTLIB_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "loyalty/v1/admin.pb-c.h"
#include "loyalty/v1/points.pb-c.h"
#include "loyalty_client.h"

#define POINTS(m) "/loyalty.v1.Points/" m
#define ADMIN(m) "/loyalty.v1.Admin/" m

typedef struct tl_test {
  const char *name;
  void (*run)(void);
} tl_test;

typedef struct tl_env {
  char server[128];
  char hq_key[128];
  char db[512];   /* libpq conninfo, as the schema's owner */
  char server_db[512]; /* as the role loyaltyd runs as */
  char pgdir[512]; /* for db/pgcluster.sh stop/start */
  char log[512];   /* the server's log */
  char source_dir[512];
  long server_pid; /* loyaltyd's process id (0 if the harness did not say) */
} tl_env;

extern tl_env tl;
extern lc_conn *tl_hq; /* a connection with the HQ key */

int tl_main(int argc, char **argv, const tl_test *tests, size_t n_tests);

void tl_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define ASSERT_TRUE(cond)                                                  \
  do {                                                                     \
    if (!(cond))                                                           \
      tl_fail(__FILE__, __LINE__, "expected %s", #cond);                   \
  } while (0)

#define ASSERT_EQ_INT(got, want)                                                        \
  do {                                                                                  \
    int64_t got_ = (int64_t)(got), want_ = (int64_t)(want);                             \
    if (got_ != want_)                                                                  \
      tl_fail(__FILE__, __LINE__, "%s: got %" PRId64 ", want %" PRId64, #got, got_, want_); \
  } while (0)

#define ASSERT_EQ_STR(got, want)                                                       \
  do {                                                                                 \
    const char *got_ = (got), *want_ = (want);                                         \
    if (strcmp(got_ ? got_ : "(null)", want_) != 0)                                    \
      tl_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", #got, got_, want_);   \
  } while (0)

#define ASSERT_CONTAINS(haystack, needle)                                              \
  do {                                                                                 \
    const char *h_ = (haystack), *n_ = (needle);                                       \
    if (h_ == NULL || strstr(h_, n_) == NULL)                                          \
      tl_fail(__FILE__, __LINE__, "%s: \"%s\" does not contain \"%s\"", #haystack, h_, n_); \
  } while (0)

/* The outcome of one call. response is NULL unless status is OK. Like every string and
 * connection the helpers below return, it belongs to the current test: all are freed when
 * the test ends (tl_keep). */
typedef struct tl_result {
  grpc_status_code status;
  char *message;
  ProtobufCMessage *response;
} tl_result;

tl_result tl_call(lc_conn *conn, const char *method, const ProtobufCMessage *request,
                  const ProtobufCMessageDescriptor *response_type);
/* tl_call with a deadline of timeout_ms instead of the default 15 s. */
tl_result tl_call_timeout(lc_conn *conn, const char *method, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *response_type, int timeout_ms);
/* tl_call, failing the test unless the status is OK; returns the response. */
#define tl_call_ok(conn, method, request, type) \
  tl_call_ok_at(__FILE__, __LINE__, conn, method, request, type)
ProtobufCMessage *tl_call_ok_at(const char *file, int line, lc_conn *conn, const char *method,
                                const ProtobufCMessage *request,
                                const ProtobufCMessageDescriptor *response_type);

#define ASSERT_STATUS(result, want)                                                     \
  do {                                                                                  \
    tl_result r_ = (result);                                                            \
    if (r_.status != (want))                                                            \
      tl_fail(__FILE__, __LINE__, "%s: got %s (%s), want %s", #result,                  \
              lc_status_name(r_.status), r_.message ? r_.message : "", lc_status_name(want)); \
  } while (0)

/* One of the calls of tl_call_concurrently: the caller fills conn, method, request and
 * response_type (NULL means PointsResult); result is filled in. */
typedef struct tl_parallel_call {
  lc_conn *conn;
  const char *method;
  const ProtobufCMessage *request;
  const ProtobufCMessageDescriptor *response_type;
  tl_result result;
} tl_parallel_call;

/* Makes the n calls at once, each from its own thread, all released by one barrier; returns
 * when every call has its result. */
void tl_call_concurrently(tl_parallel_call *calls, int n);
/* How many of the n calls ended with status. */
int tl_count_status(const tl_parallel_call *calls, int n, grpc_status_code status);

/* Frees p (with free) when the current test ends; returns p. */
void *tl_keep(void *p);

/* A token unique to this process and call: "<prefix><pid>x<counter><random>". */
const char *tl_unique(const char *prefix);
/* A fresh, valid, unused-looking mainland mobile number. */
const char *tl_phone(void);

typedef struct tl_store {
  const char *code;
  const char *key_id;
  lc_conn *conn; /* with the store's key */
} tl_store;

tl_store tl_new_store(Loyalty__V1__Channel channel);
/* UpdateProgram of the current rules with only channel pending, for days (0: none). Tests
 * of pending points use CHANNEL_OTHER, always with the same days. */
tl_result tl_set_pending_days(Loyalty__V1__Channel channel, int days);
lc_conn *tl_connect(const char *key);

/* Enrolls a new member (fresh phone) at store; birthday may be "" . Returns member_id. */
int64_t tl_enroll(lc_conn *conn, const char *birthday);

/* An Earn of a fresh order, with no store_code: for a store key (its own store). */
Loyalty__V1__EarnRequest tl_earn_request(int64_t member_id, int64_t amount_cents);
/* The code of a store made once per test program (a POS store, no key) for HQ's earns: an
 * Earn always happens at a store, so with an HQ key it must name one. */
const char *tl_hq_store(void);
/* tl_earn_request naming tl_hq_store(): an Earn for an HQ key. */
Loyalty__V1__EarnRequest tl_hq_earn_request(int64_t member_id, int64_t amount_cents);
Loyalty__V1__RedeemRequest tl_redeem_request(int64_t member_id, int64_t points);
/* With tl_hq the earn names tl_hq_store(); with any other connection no store. */
tl_result tl_earn(lc_conn *conn, int64_t member_id, int64_t amount_cents);
tl_result tl_redeem(lc_conn *conn, int64_t member_id, int64_t points);
/* A refund of the earn named by earn_txn, or by order when order is not NULL. */
Loyalty__V1__RefundRequest tl_refund_request(int64_t member_id, int64_t earn_txn, const char *order,
                                             int64_t amount_cents);
tl_result tl_refund(lc_conn *conn, int64_t member_id, int64_t earn_txn, const char *order,
                    int64_t amount_cents);
tl_result tl_cancel(lc_conn *conn, int64_t member_id, int64_t redemption_id);
/* The PointsResult of a call that must have succeeded. */
#define TL_POINTS(result) tl_points_at(__FILE__, __LINE__, (result))
Loyalty__V1__PointsResult *tl_points_at(const char *file, int line, tl_result result);

Loyalty__V1__Balance *tl_balance(lc_conn *conn, int64_t member_id);

/* Runs SQL on the test database; fails the test on error. tl_sql_value returns the first
 * column of the first row (malloc'ed; NULL when no row). */
void tl_sql(const char *sql);
char *tl_sql_value(const char *sql);
/* The first column of the first row of printf-formatted SQL, as an integer (0 when NULL). */
int64_t tl_sql_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs SQL that must fail, as conninfo; returns PostgreSQL's message (NULL if it did not
 * fail). */
char *tl_sql_error_as(const char *conninfo, const char *sql);
#define tl_sql_error(sql) tl_sql_error_as(tl.db, (sql))

void tl_check_invariants(void);

/* A loyaltyd of a test's own, on the harness's database. */
typedef struct tl_server {
  pid_t pid;
  char address[64]; /* "127.0.0.1:PORT", to connect to */
  const char *argv[24]; /* how it was started */
} tl_server;

/* Starts the loyaltyd named by the LOYALTYD environment variable with --db (the schema
 * owner's conninfo), --listen HOST:PORT on a free port, --log-level warn and then the
 * NULL-terminated extra arguments. Returns at once: it may not be serving yet. */
tl_server tl_start_server(const char *host, const char *const *extra);
/* SIGTERM, then its exit status (0 expected; 128 + the signal if one ended it). */
int tl_stop_server(tl_server s);
/* Kills it with sig (SIGKILL: a crash) and starts it again, same address and arguments.
 * Returns at once: it may not be serving yet. */
void tl_restart_server(tl_server *s, int sig);

/* A birthday (YYYY-MM-DD, year 1990) in this month or another, in Asia/Shanghai. */
const char *tl_birthday_this_month(void);
const char *tl_birthday_other_month(void);

#endif
