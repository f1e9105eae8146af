/*
 * test_tls.c - transport security: TLS and mutual TLS handshakes that must succeed and fail,
 * and plaintext refused beyond loopback. Starts loyaltyd instances of its own (LOYALTYD, on
 * the harness's database) with the certificates of tests/harness/make-certs.sh (CERTS).
 */
#include <sys/wait.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "testlib.h"

static const char *cert(const char *name)
{
  char *path = tl_keep(malloc(512));
  snprintf(path, 512, "%s/%s", getenv("CERTS"), name);
  return path;
}

/* ListStores with key (the HQ key when NULL) over the given TLS settings. */
static grpc_status_code call_with(const char *address, const char *key, const char *ca,
                                  const char *client_cert, const char *client_key)
{
  lc_options o = {.target = address, .key = key ? key : tl.hq_key, .tls_ca = ca,
                  .tls_cert = client_cert, .tls_key = client_key};
  char err[256];
  lc_conn *conn = lc_connect(&o, err, sizeof err);
  if (conn == NULL)
    tl_fail(__FILE__, __LINE__, "connect: %s", err);
  Loyalty__V1__ListStoresRequest req = LOYALTY__V1__LIST_STORES_REQUEST__INIT;
  Loyalty__V1__GetBalanceRequest balance = LOYALTY__V1__GET_BALANCE_REQUEST__INIT;
  balance.member_id = 987654321; /* a store key gets NOT_FOUND: it got in */
  ProtobufCMessage *response = NULL;
  char *message = NULL;
  grpc_status_code st = lc_call(conn, key ? POINTS("GetBalance") : ADMIN("ListStores"),
                                key ? &balance.base : &req.base,
                                key ? &loyalty__v1__balance__descriptor
                                    : &loyalty__v1__list_stores_response__descriptor,
                                &response,
                                &message, 3000);
  if (response != NULL)
    protobuf_c_message_free_unpacked(response, NULL);
  free(message);
  lc_close(conn);
  return st;
}

static grpc_status_code health(const char *address, const char *ca, const char *client_cert,
                               const char *client_key)
{
  return call_with(address, NULL, ca, client_cert, client_key);
}

/* The server is up once a call that should succeed does (or after 10 s). */
static void wait_until_serving(const char *address, const char *ca, const char *c,
                               const char *k)
{
  for (int i = 0; i < 100; i++) {
    if (health(address, ca, c, k) == GRPC_STATUS_OK)
      return;
    usleep(100 * 1000);
  }
  tl_fail(__FILE__, __LINE__, "loyaltyd on %s did not come up", address);
}

static void tls_handshakes(void)
{
  const char *const args[] = {"--tls-cert", cert("server.pem"), "--tls-key", cert("server.key"),
                              NULL};
  tl_server s = tl_start_server("127.0.0.1", args);
  wait_until_serving(s.address, cert("ca.pem"), NULL, NULL);
  /* A plaintext client, and a client that trusts another CA, do not get through. */
  ASSERT_EQ_STR(lc_status_name(health(s.address, NULL, NULL, NULL)), "UNAVAILABLE");
  ASSERT_EQ_STR(lc_status_name(health(s.address, cert("other-ca.pem"), NULL, NULL)),
                "UNAVAILABLE");
  ASSERT_EQ_INT(tl_stop_server(s), 0);
}

static void mutual_tls_handshakes(void)
{
  const char *const args[] = {"--tls-cert", cert("server.pem"), "--tls-key", cert("server.key"),
                              "--tls-client-ca", cert("ca.pem"), NULL};
  tl_server s = tl_start_server("127.0.0.1", args);
  wait_until_serving(s.address, cert("ca.pem"), cert("hq.pem"), cert("hq.key"));
  /* The certificate must name the key's owner: SH001's key with SH001's certificate gets in;
   * another store's key, or the HQ key, with SH001's certificate does not. */
  Loyalty__V1__CreateStoreRequest create = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
  create.store_code = "SH001";
  create.name = "Shanghai 001";
  create.channel = LOYALTY__V1__CHANNEL__CHANNEL_POS;
  tl_call(tl_hq, ADMIN("CreateStore"), &create.base, &loyalty__v1__store__descriptor);
  Loyalty__V1__IssueStoreKeyRequest issue = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  issue.store_code = "SH001";
  Loyalty__V1__IssuedKey *sh001 = (Loyalty__V1__IssuedKey *)tl_call_ok(
      tl_hq, ADMIN("IssueStoreKey"), &issue.base, &loyalty__v1__issued_key__descriptor);
  tl_store other = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  Loyalty__V1__IssueStoreKeyRequest issue_other = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  issue_other.store_code = (char *)other.code;
  Loyalty__V1__IssuedKey *other_key = (Loyalty__V1__IssuedKey *)tl_call_ok(
      tl_hq, ADMIN("IssueStoreKey"), &issue_other.base, &loyalty__v1__issued_key__descriptor);
  ASSERT_EQ_STR(lc_status_name(call_with(s.address, sh001->secret, cert("ca.pem"),
                                         cert("store.pem"), cert("store.key"))),
                "NOT_FOUND");
  ASSERT_EQ_STR(lc_status_name(call_with(s.address, other_key->secret, cert("ca.pem"),
                                         cert("store.pem"), cert("store.key"))),
                "PERMISSION_DENIED");
  ASSERT_EQ_STR(lc_status_name(health(s.address, cert("ca.pem"), cert("store.pem"),
                                      cert("store.key"))),
                "PERMISSION_DENIED");
  /* No client certificate; one from another CA; plaintext. */
  ASSERT_EQ_STR(lc_status_name(health(s.address, cert("ca.pem"), NULL, NULL)), "UNAVAILABLE");
  ASSERT_EQ_STR(lc_status_name(health(s.address, cert("ca.pem"), cert("rogue.pem"),
                                      cert("rogue.key"))),
                "UNAVAILABLE");
  ASSERT_EQ_STR(lc_status_name(health(s.address, NULL, NULL, NULL)), "UNAVAILABLE");
  ASSERT_EQ_INT(tl_stop_server(s), 0);
}

static void plaintext_beyond_loopback_needs_insecure(void)
{
  const char *const none[] = {NULL};
  tl_server refused = tl_start_server("0.0.0.0", none);
  int status = 0;
  waitpid(refused.pid, &status, 0); /* it must exit by itself, at once */
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);

  const char *const insecure[] = {"--insecure", NULL};
  tl_server s = tl_start_server("0.0.0.0", insecure);
  wait_until_serving(s.address, NULL, NULL, NULL);
  ASSERT_EQ_INT(tl_stop_server(s), 0);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"tls_handshakes", tls_handshakes},
    {"mutual_tls_handshakes", mutual_tls_handshakes},
    {"plaintext_beyond_loopback_needs_insecure", plaintext_beyond_loopback_needs_insecure},
  };
  if (getenv("LOYALTYD") == NULL || getenv("CERTS") == NULL) {
    fputs("test_tls: LOYALTYD and CERTS must be set (run via ctest)\n", stderr);
    return 1;
  }
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
