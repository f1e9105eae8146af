/*
 * test_limits.c - oversized requests and silent connections do not hurt the server.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

static grpc_status_code list_stores(lc_conn *conn)
{
  Loyalty__V1__ListStoresRequest req = LOYALTY__V1__LIST_STORES_REQUEST__INIT;
  return tl_call(conn, ADMIN("ListStores"), &req.base,
                 &loyalty__v1__list_stores_response__descriptor).status;
}

static void oversized_message_is_resource_exhausted(void)
{
  size_t n = 100 * 1024; /* over the default --max-message-bytes of 64 KiB */
  char *name = tl_keep(malloc(n + 1));
  memset(name, 'x', n);
  name[n] = '\0';
  Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
  req.request_id = (char *)tl_unique("big");
  req.phone = (char *)tl_phone();
  req.name = name;
  ASSERT_STATUS(tl_call(tl_hq, POINTS("EnrollMember"), &req.base,
                        &loyalty__v1__member__descriptor),
                GRPC_STATUS_RESOURCE_EXHAUSTED);
  /* Just under the limit, it is the field's own rule that refuses it. */
  name[60 * 1024] = '\0';
  ASSERT_STATUS(tl_call(tl_hq, POINTS("EnrollMember"), &req.base,
                        &loyalty__v1__member__descriptor),
                GRPC_STATUS_INVALID_ARGUMENT);
  ASSERT_EQ_INT(list_stores(tl_hq), GRPC_STATUS_OK);
}

static void oversized_headers_are_refused(void)
{
  size_t n = 32 * 1024; /* over the default --max-metadata-bytes of 8 KiB */
  char *key = tl_keep(malloc(n + 1));
  memset(key, 'k', n);
  key[n] = '\0';
  lc_conn *huge = tl_connect(key);
  grpc_status_code st = list_stores(huge);
  ASSERT_TRUE(st != GRPC_STATUS_OK);
  /* The server drops that connection (which channels to the same address may share, so a
   * call racing it can see UNAVAILABLE once); it goes on serving. */
  grpc_status_code after = GRPC_STATUS_UNKNOWN;
  for (int i = 0; i < 50 && after != GRPC_STATUS_OK; i++) {
    after = list_stores(tl_hq);
    if (after != GRPC_STATUS_OK)
      usleep(100 * 1000);
  }
  ASSERT_EQ_INT(after, GRPC_STATUS_OK);
}

static void silent_connections_do_not_exhaust_the_server(void)
{
  enum { SILENT = 300 };
  int fds[SILENT];
  const char *colon = strrchr(tl.server, ':');
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  int opened = 0;
  for (int i = 0; i < SILENT; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&a, sizeof a) == 0)
      opened++;
  }
  ASSERT_EQ_INT(opened, SILENT);
  /* They say nothing; real clients still get served, promptly. */
  for (int i = 0; i < 20; i++)
    ASSERT_EQ_INT(list_stores(tl_hq), GRPC_STATUS_OK);
  lc_conn *fresh = tl_connect(tl.hq_key);
  ASSERT_EQ_INT(list_stores(fresh), GRPC_STATUS_OK);
  for (int i = 0; i < SILENT; i++)
    close(fds[i]);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"oversized_message_is_resource_exhausted", oversized_message_is_resource_exhausted},
    {"oversized_headers_are_refused", oversized_headers_are_refused},
    {"silent_connections_do_not_exhaust_the_server", silent_connections_do_not_exhaust_the_server},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
