/*
 * test_authz_matrix.c - the authorization matrix, for every method of Points and Admin:
 * no key, wrong key, revoked key, expired key, store key, store key acting for another
 * store, HQ key. Requests are built from the protobuf-c descriptors, so a method added to
 * the proto is covered without touching this file.
 */
#include <unistd.h>

#include "testlib.h"

typedef struct credential {
  const char *name;
  lc_conn *conn;
} credential;

/* An empty request of method's input type, with store_code (where it has one) set. */
static ProtobufCMessage *request_for(const ProtobufCMethodDescriptor *method,
                                     const char *store_code)
{
  const ProtobufCMessageDescriptor *d = method->input;
  ProtobufCMessage *m = tl_keep(calloc(1, d->sizeof_message));
  d->message_init(m);
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, "store_code");
  if (f != NULL && store_code != NULL)
    *(const char **)((char *)m + f->offset) = store_code;
  return m;
}

static grpc_status_code call(lc_conn *conn, const ProtobufCServiceDescriptor *service,
                             const ProtobufCMethodDescriptor *method, const char *store_code)
{
  char path[128];
  snprintf(path, sizeof path, "/%s/%s", service->name, method->name);
  return tl_call(conn, path, request_for(method, store_code), method->output).status;
}

static bool has_store_code(const ProtobufCMethodDescriptor *method)
{
  return protobuf_c_message_descriptor_get_field_by_name(method->input, "store_code") != NULL;
}

static void every_method_checks_who_calls(void)
{
  tl_store store = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  tl_store other = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  /* Keys that must not get in. */
  tl_store revoked = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_JD);
  Loyalty__V1__RevokeKeyRequest revoke = LOYALTY__V1__REVOKE_KEY_REQUEST__INIT;
  revoke.key_id = (char *)revoked.key_id;
  tl_call_ok(tl_hq, ADMIN("RevokeKey"), &revoke.base,
             &loyalty__v1__revoke_key_response__descriptor);
  Loyalty__V1__IssueStoreKeyRequest brief = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  brief.store_code = (char *)store.code;
  brief.expires_at = tl_sql_value("SELECT to_char(now() + interval '1 second',"
                                  " 'YYYY-MM-DD\"T\"HH24:MI:SS.MSOF')");
  Loyalty__V1__IssuedKey *expiring = (Loyalty__V1__IssuedKey *)tl_call_ok(
      tl_hq, ADMIN("IssueStoreKey"), &brief.base, &loyalty__v1__issued_key__descriptor);
  usleep(1300 * 1000);
  const credential locked_out[] = {
    {"no key", tl_connect(NULL)},
    {"wrong key", tl_connect("lk_not-a-key-that-anyone-was-ever-given-00000")},
    {"revoked key", revoked.conn},
    {"expired key", tl_connect(expiring->secret)},
  };

  const ProtobufCServiceDescriptor *services[] = {&loyalty__v1__points__descriptor,
                                                  &loyalty__v1__admin__descriptor};
  int checked = 0;
  for (size_t s = 0; s < 2; s++) {
    bool admin = services[s] == &loyalty__v1__admin__descriptor;
    for (unsigned i = 0; i < services[s]->n_methods; i++) {
      const ProtobufCMethodDescriptor *method = &services[s]->methods[i];
      for (size_t c = 0; c < sizeof locked_out / sizeof locked_out[0]; c++) {
        grpc_status_code st = call(locked_out[c].conn, services[s], method, NULL);
        if (st != GRPC_STATUS_UNAUTHENTICATED)
          tl_fail(__FILE__, __LINE__, "%s with %s: got %s, want UNAUTHENTICATED", method->name,
                  locked_out[c].name, lc_status_name(st));
        checked++;
      }
      /* A store key: Admin is refused; Points is let in (the empty request may then be
       * invalid, or name nothing that exists, but it is not refused for who calls). */
      grpc_status_code st = call(store.conn, services[s], method, NULL);
      if (admin ? st != GRPC_STATUS_PERMISSION_DENIED
                : (st == GRPC_STATUS_PERMISSION_DENIED || st == GRPC_STATUS_UNAUTHENTICATED))
        tl_fail(__FILE__, __LINE__, "%s with a store key: got %s", method->name,
                lc_status_name(st));
      /* A store key naming another store. */
      if (!admin && has_store_code(method)) {
        st = call(store.conn, services[s], method, other.code);
        if (st != GRPC_STATUS_PERMISSION_DENIED)
          tl_fail(__FILE__, __LINE__, "%s by a store key for another store: got %s",
                  method->name, lc_status_name(st));
      }
      /* HQ gets in everywhere. */
      st = call(tl_hq, services[s], method, NULL);
      if (st == GRPC_STATUS_PERMISSION_DENIED || st == GRPC_STATUS_UNAUTHENTICATED)
        tl_fail(__FILE__, __LINE__, "%s with the HQ key: got %s", method->name,
                lc_status_name(st));
      checked++;
    }
  }
  ASSERT_TRUE(checked > 60);
}

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"every_method_checks_who_calls", every_method_checks_who_calls},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
