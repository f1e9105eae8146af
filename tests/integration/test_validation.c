/*
 * test_validation.c - the validation rules, case by case from validation_cases.txt: one field
 * of a valid request changed, sent to the real server, the status checked, and nothing
 * written when it is refused. Fields are set through the protobuf-c descriptors, so the table
 * names them as the proto does.
 */
#include <errno.h>

#include "testlib.h"

typedef struct fixture {
  tl_store store;
  int64_t member;      /* 990 points */
  const char *order;   /* of its earn of 1,000 yuan */
  int64_t redemption;  /* of 10 points */
  const char *phone;   /* for a new enrolment */
} fixture;

typedef struct test_case {
  int line;
  const char *method; /* "Earn", "Admin/CreateStore" */
  bool hq;
  const char *field;
  const char *value; /* as written in the file */
  grpc_status_code want;
  const char *why;
} test_case;

/* A fresh member of store (whose key calls "store" cases: cases with a fixed request_id that
 * succeeds use each their own). */
static fixture make_fixture(tl_store store)
{
  fixture f;
  f.store = store;
  f.member = tl_enroll(f.store.conn, tl_birthday_other_month());
  Loyalty__V1__EarnRequest earn = tl_earn_request(f.member, 100000);
  f.order = earn.order_id;
  tl_call_ok(f.store.conn, POINTS("Earn"), &earn.base, &loyalty__v1__points_result__descriptor);
  f.redemption = TL_POINTS(tl_redeem(f.store.conn, f.member, 10))->transaction_id;
  f.phone = tl_phone();
  return f;
}

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *d)
{
  ProtobufCMessage *m = tl_keep(calloc(1, d->sizeof_message));
  d->message_init(m);
  return m;
}

/* Sets the field at path ("a" or "a.b") to value; NULL unsets it (and its oneof). Sub-messages
 * are made as needed, the first element of a repeated one. */
static void set_field(ProtobufCMessage *msg, const char *path, const char *value)
{
  char name[64];
  const char *dot = strchr(path, '.');
  size_t len = dot ? (size_t)(dot - path) : strlen(path);
  snprintf(name, sizeof name, "%.*s", (int)len, path);
  const ProtobufCFieldDescriptor *f =
      protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, name);
  if (f == NULL)
    tl_fail(__FILE__, __LINE__, "%s has no field %s", msg->descriptor->name, name);
  char *at = (char *)msg + f->offset;
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
    *(uint32_t *)((char *)msg + f->quantifier_offset) = value != NULL ? f->id : 0;
  if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
    bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
    size_t *n = repeated ? (size_t *)((char *)msg + f->quantifier_offset) : NULL;
    ProtobufCMessage **slot;
    if (repeated) {
      ProtobufCMessage ***array = (ProtobufCMessage ***)at;
      if (value == NULL) {
        *n = 0;
        return;
      }
      if (*n == 0) {
        *array = tl_keep(calloc(1, sizeof **array));
        *n = 1;
      }
      slot = &(*array)[0];
    } else {
      slot = (ProtobufCMessage **)at;
      if (value == NULL) {
        *slot = NULL;
        return;
      }
    }
    if (*slot == NULL)
      *slot = new_message(f->descriptor);
    if (dot == NULL)
      tl_fail(__FILE__, __LINE__, "%s is a message: name one of its fields", path);
    set_field(*slot, dot + 1, value);
    return;
  }
  if (value == NULL)
    return; /* a scalar of a oneof: the case is cleared above */
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING:
    *(const char **)at = value;
    break;
  case PROTOBUF_C_TYPE_INT64:
    *(int64_t *)at = strtoll(value, NULL, 10);
    break;
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_ENUM:
    *(int32_t *)at = (int32_t)strtol(value, NULL, 10);
    break;
  case PROTOBUF_C_TYPE_BOOL:
    *(protobuf_c_boolean *)at = strcmp(value, "true") == 0;
    break;
  default:
    tl_fail(__FILE__, __LINE__, "field %s: type %d not handled", path, (int)f->type);
  }
}

static const char *number(int64_t n)
{
  char *s = tl_keep(malloc(24));
  snprintf(s, 24, "%" PRId64, n);
  return s;
}

/* A valid request of the method, about the fixture's member. */
static ProtobufCMessage *base_request(const ProtobufCMethodDescriptor *method, const fixture *fx)
{
  ProtobufCMessage *m = new_message(method->input);
  const char *name = method->name;
  const char *member = number(fx->member);
  if (protobuf_c_message_descriptor_get_field_by_name(method->input, "request_id") != NULL)
    set_field(m, "request_id", tl_unique("v"));
  if (protobuf_c_message_descriptor_get_field_by_name(method->input, "member_id") != NULL)
    set_field(m, "member_id", member);
  if (strcmp(name, "EnrollMember") == 0) {
    set_field(m, "phone", fx->phone);
    set_field(m, "name", "validation");
    set_field(m, "birthday", "1990-06-15");
    set_field(m, "identities.kind", "pos_card");
    set_field(m, "identities.value", tl_unique("card"));
  } else if (strcmp(name, "LinkIdentity") == 0) {
    set_field(m, "identity.kind", "pos_card");
    set_field(m, "identity.value", tl_unique("card"));
  } else if (strcmp(name, "SetBirthday") == 0) {
    set_field(m, "birthday", "1991-07-08");
  } else if (strcmp(name, "Earn") == 0) {
    set_field(m, "order_id", tl_unique("o"));
    set_field(m, "amount_cents", "10000");
  } else if (strcmp(name, "Redeem") == 0) {
    set_field(m, "points", "10");
  } else if (strcmp(name, "Refund") == 0) {
    set_field(m, "order_id", fx->order);
    set_field(m, "amount_cents", "100");
  } else if (strcmp(name, "ConfirmOrder") == 0) {
    set_field(m, "order_id", fx->order); /* a POS purchase: never pending, confirms with 0 */
  } else if (strcmp(name, "CancelRedemption") == 0) {
    set_field(m, "redemption_id", number(fx->redemption));
  } else if (strcmp(name, "CreateStore") == 0) {
    set_field(m, "store_code", tl_unique("V"));
    set_field(m, "name", "validation");
    set_field(m, "channel", "1");
    set_field(m, "region", "SH");
  } else if (strcmp(name, "IssueStoreKey") == 0) {
    set_field(m, "store_code", fx->store.code);
  }
  return m;
}

/* Decodes \t, \\ and \xNN. */
static char *unescape(const char *s, size_t len)
{
  char *out = tl_keep(malloc(len + 1));
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\\' && i + 1 < len && s[i + 1] == 't') {
      out[n++] = '\t';
      i++;
    } else if (s[i] == '\\' && i + 1 < len && s[i + 1] == '\\') {
      out[n++] = '\\';
      i++;
    } else if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x') {
      char hex[3] = {s[i + 2], s[i + 3], '\0'};
      out[n++] = (char)strtol(hex, NULL, 16);
      i += 3;
    } else {
      out[n++] = s[i];
    }
  }
  out[n] = '\0';
  return out;
}

/* The value a VALUE column stands for (NULL for <none>). */
static const char *decode_value(const test_case *c, const fixture *fx)
{
  const char *v = c->value;
  if (strcmp(v, "<empty>") == 0)
    return "";
  if (strcmp(v, "<none>") == 0)
    return NULL;
  if (strcmp(v, "<store>") == 0)
    return fx->store.code;
  int times, skip;
  if (sscanf(v, "<repeat %d %n", &times, &skip) == 1 && v[strlen(v) - 1] == '>') {
    const char *unit = unescape(v + skip, strlen(v + skip) - 1);
    size_t ulen = strlen(unit);
    char *out = tl_keep(malloc(ulen * (size_t)times + 1));
    for (int i = 0; i < times; i++)
      memcpy(out + ulen * (size_t)i, unit, ulen);
    out[ulen * (size_t)times] = '\0';
    return out;
  }
  return unescape(v, strlen(v));
}

static grpc_status_code status_named(const char *name, int line)
{
  for (int s = GRPC_STATUS_OK; s <= GRPC_STATUS_UNAUTHENTICATED; s++)
    if (strcmp(lc_status_name((grpc_status_code)s), name) == 0)
      return (grpc_status_code)s;
  tl_fail(__FILE__, __LINE__, "validation_cases.txt:%d: unknown status %s", line, name);
}

static const ProtobufCMethodDescriptor *method_named(const char *name,
                                                     const ProtobufCServiceDescriptor **service)
{
  bool admin = strncmp(name, "Admin/", 6) == 0;
  *service = admin ? &loyalty__v1__admin__descriptor : &loyalty__v1__points__descriptor;
  return protobuf_c_service_descriptor_get_method_by_name(*service, admin ? name + 6 : name);
}

/* Reads every case of the file (failing on a malformed line); returns how many. */
static size_t read_cases(test_case **out)
{
  char path[700];
  snprintf(path, sizeof path, "%s/tests/integration/validation_cases.txt", tl.source_dir);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    tl_fail(__FILE__, __LINE__, "%s: %s", path, strerror(errno));
  size_t n = 0, cap = 256;
  test_case *cases = tl_keep(calloc(cap, sizeof *cases));
  char line[2048];
  for (int lineno = 1; fgets(line, sizeof line, f) != NULL; lineno++) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '#' || line[0] == '\0')
      continue;
    char *col[6] = {0};
    int ncol = 0;
    for (char *p = line; ncol < 6; ncol++) {
      col[ncol] = tl_keep(strndup(p, strcspn(p, "\t")));
      p += strcspn(p, "\t");
      if (*p == '\0') {
        ncol++;
        break;
      }
      p++;
    }
    const ProtobufCServiceDescriptor *service;
    if (ncol < 5 || n == cap || method_named(col[0], &service) == NULL ||
        (strcmp(col[1], "hq") != 0 && strcmp(col[1], "store") != 0))
      tl_fail(__FILE__, __LINE__, "%s:%d: malformed case", path, lineno);
    cases[n++] = (test_case){.line = lineno, .method = col[0], .hq = strcmp(col[1], "hq") == 0,
                             .field = col[2], .value = col[3],
                             .want = status_named(col[4], lineno), .why = col[5] ? col[5] : ""};
  }
  fclose(f);
  *out = cases;
  return n;
}

/* Runs one case; returns NULL if it went as the table says, else what went wrong. */
static char *run_case(const test_case *c, tl_store store)
{
  fixture fx = make_fixture(store);
  const ProtobufCServiceDescriptor *service;
  const ProtobufCMethodDescriptor *method = method_named(c->method, &service);
  ProtobufCMessage *req = base_request(method, &fx);
  set_field(req, c->field, decode_value(c, &fx));
  char path[128];
  snprintf(path, sizeof path, "/%s/%s", service->name, method->name);
  tl_result r = tl_call(c->hq ? tl_hq : fx.store.conn, path, req, method->output);
  char *why = tl_keep(malloc(1024));
  if (r.status != c->want) {
    snprintf(why, 1024, "validation_cases.txt:%d: %s with %s = %s (%s): got %s (%s), want %s",
             c->line, c->method, c->field, c->value, c->why, lc_status_name(r.status),
             r.message ? r.message : "", lc_status_name(c->want));
    return why;
  }
  if (r.status == GRPC_STATUS_OK)
    return NULL;
  /* Refused: nothing written. */
  int64_t rows = tl_sql_int("SELECT count(*) FROM ledger WHERE member_id = %" PRId64, fx.member);
  int64_t balance = tl_sql_int("SELECT balance FROM members WHERE member_id = %" PRId64, fx.member);
  int64_t enrolled = tl_sql_int("SELECT count(*) FROM members WHERE phone = '%s'", fx.phone);
  if (rows == 2 && balance == 990 && enrolled == 0)
    return NULL;
  snprintf(why, 1024,
           "validation_cases.txt:%d: refused with %s, yet written: %" PRId64 " ledger rows"
           " (want 2), balance %" PRId64 " (want 990), %" PRId64 " members enrolled (want 0)",
           c->line, lc_status_name(r.status), rows, balance, enrolled);
  return why;
}

/* Runs the cases of one method, or of every Admin method when method is "Admin/"; all of
 * them, then fails saying each case that went wrong. */
static void run_cases(const char *method)
{
  test_case *cases;
  size_t n = read_cases(&cases), ran = 0, failed = 0;
  tl_store store = tl_new_store(LOYALTY__V1__CHANNEL__CHANNEL_POS);
  for (size_t i = 0; i < n; i++) {
    bool match = strcmp(method, "Admin/") == 0 ? strncmp(cases[i].method, "Admin/", 6) == 0
                                               : strcmp(cases[i].method, method) == 0;
    if (!match)
      continue;
    char *wrong = run_case(&cases[i], store);
    ran++;
    if (wrong != NULL) {
      fprintf(stderr, "%s\n", wrong);
      failed++;
    }
  }
  if (ran == 0)
    tl_fail(__FILE__, __LINE__, "no cases for %s in validation_cases.txt", method);
  if (failed > 0)
    tl_fail(__FILE__, __LINE__, "%zu of %zu cases of %s went wrong (above)", failed, ran, method);
}

static void enroll_member_cases(void) { run_cases("EnrollMember"); }
static void get_member_cases(void) { run_cases("GetMember"); }
static void link_identity_cases(void) { run_cases("LinkIdentity"); }
static void set_birthday_cases(void) { run_cases("SetBirthday"); }
static void earn_cases(void) { run_cases("Earn"); }
static void redeem_cases(void) { run_cases("Redeem"); }
static void refund_cases(void) { run_cases("Refund"); }
static void cancel_redemption_cases(void) { run_cases("CancelRedemption"); }
static void confirm_order_cases(void) { run_cases("ConfirmOrder"); }
static void get_balance_cases(void) { run_cases("GetBalance"); }
static void list_transactions_cases(void) { run_cases("ListTransactions"); }
static void admin_cases(void) { run_cases("Admin/"); }

int main(int argc, char **argv)
{
  static const tl_test tests[] = {
    {"enroll_member_cases", enroll_member_cases},
    {"get_member_cases", get_member_cases},
    {"link_identity_cases", link_identity_cases},
    {"set_birthday_cases", set_birthday_cases},
    {"earn_cases", earn_cases},
    {"redeem_cases", redeem_cases},
    {"refund_cases", refund_cases},
    {"cancel_redemption_cases", cancel_redemption_cases},
    {"confirm_order_cases", confirm_order_cases},
    {"get_balance_cases", get_balance_cases},
    {"list_transactions_cases", list_transactions_cases},
    {"admin_cases", admin_cases},
  };
  return tl_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
