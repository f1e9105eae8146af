/*
 * ctl_commands.c - loyaltyctl's commands: each parses its arguments into a request, makes
 * one call (history --all: as many as there are pages) and prints the answer.
 */
#include "ctl.h"
#include "validate.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "loyalty/v1/admin.pb-c.h"
#include "loyalty/v1/points.pb-c.h"

#define POINTS(m) "/loyalty.v1.Points/" m
#define ADMIN(m) "/loyalty.v1.Admin/" m

int ctl_usage_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("loyaltyctl: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs(" (see --help)\n", stderr);
  va_end(ap);
  return CTL_EXIT_USAGE;
}

const char *ctl_arg(const ctl_args *args, const char *name)
{
  const char *value = NULL;
  for (int i = 0; i < args->n_options; i++) {
    if (strcmp(args->option_name[i], name) == 0)
      value = args->option_value[i];
  }
  return value;
}

bool ctl_flag(const ctl_args *args, const char *name)
{
  for (int i = 0; i < args->n_options; i++) {
    if (strcmp(args->option_name[i], name) == 0)
      return true;
  }
  return false;
}

bool ctl_parse_int64(const char *s, int64_t *out)
{
  char *end;
  if (s == NULL || *s == '\0')
    return false;
  long long v = strtoll(s, &end, 10);
  if (*end != '\0')
    return false;
  *out = v;
  return true;
}

bool ctl_parse_yuan(const char *s, int64_t *cents)
{
  return validate_yuan(s, cents); /* one parser, the server's (server/validate.c) */
}

int ctl_call_and_print(ctl_env *env, const char *method, const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *response_type)
{
  ProtobufCMessage *response;
  char *message;
  grpc_status_code status =
      lc_call(env->conn, method, request, response_type, &response, &message, env->timeout_ms);
  if (status != GRPC_STATUS_OK) {
    fprintf(stderr, "error: %s: %s\n", lc_status_name(status), message);
    free(message);
    return CTL_EXIT_RPC;
  }
  ctl_print(response, env->json);
  protobuf_c_message_free_unpacked(response, NULL);
  return CTL_EXIT_OK;
}

/* --request-id, or a fresh random one, said on stderr so that a failed call can be retried
 * with it. Returns a static buffer. */
static const char *request_id(const ctl_args *args)
{
  static char generated[40];
  const char *given = ctl_arg(args, "request-id");
  if (given != NULL)
    return given;
  unsigned char raw[8];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    fputs("loyaltyctl: no random source for a request id; give --request-id\n", stderr);
    exit(CTL_EXIT_USAGE);
  }
  strcpy(generated, "ctl-");
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf(generated + 4 + 2 * i, 3, "%02x", raw[i]);
  fprintf(stderr, "request_id %s\n", generated);
  return generated;
}

static const char *store(const ctl_args *args)
{
  const char *s = ctl_arg(args, "store");
  return s ? s : "";
}

/* "kind:value" into an Identity; kind is copied to storage that lives until exit (one
 * command, at most CTL_MAX_ARGS identities), value points into s. */
static bool parse_identity(const char *s, Loyalty__V1__Identity *id)
{
  static char kinds[CTL_MAX_ARGS][33];
  static int n_kinds;
  const char *colon = s ? strchr(s, ':') : NULL;
  if (colon == NULL || colon == s || colon - s > 32 || n_kinds == CTL_MAX_ARGS)
    return false;
  char *kind = kinds[n_kinds++];
  memcpy(kind, s, (size_t)(colon - s));
  kind[colon - s] = '\0';
  loyalty__v1__identity__init(id);
  id->kind = kind;
  id->value = (char *)colon + 1;
  return true;
}

static bool positional_id(const ctl_args *args, int i, const char *what, int64_t *out)
{
  if (i >= args->n_positional || !ctl_parse_int64(args->positional[i], out) || *out <= 0) {
    ctl_usage_error("%s must be a positive number", what);
    return false;
  }
  return true;
}

static bool positional_yuan(const ctl_args *args, int i, int64_t *cents)
{
  if (i >= args->n_positional || !ctl_parse_yuan(args->positional[i], cents) || *cents <= 0) {
    ctl_usage_error("AMOUNT must be yuan with at most two decimals, like 199.90");
    return false;
  }
  return true;
}

/* --- stores and keys ------------------------------------------------------------------- */

static const struct {
  const char *name;
  Loyalty__V1__Channel channel;
} channels[] = {
  {"pos", LOYALTY__V1__CHANNEL__CHANNEL_POS},
  {"tmall", LOYALTY__V1__CHANNEL__CHANNEL_TMALL},
  {"jd", LOYALTY__V1__CHANNEL__CHANNEL_JD},
  {"wechat", LOYALTY__V1__CHANNEL__CHANNEL_WECHAT_MINI},
  {"web", LOYALTY__V1__CHANNEL__CHANNEL_WEB},
  {"other", LOYALTY__V1__CHANNEL__CHANNEL_OTHER},
};

static int store_add(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__CreateStoreRequest req = LOYALTY__V1__CREATE_STORE_REQUEST__INIT;
  const char *channel = ctl_arg(args, "channel");
  if (args->n_positional != 1 || ctl_arg(args, "name") == NULL || channel == NULL)
    return ctl_usage_error("usage: store add CODE --name NAME --channel CHANNEL");
  req.store_code = (char *)args->positional[0];
  req.name = (char *)ctl_arg(args, "name");
  req.region = (char *)(ctl_arg(args, "region") ? ctl_arg(args, "region") : "");
  for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++) {
    if (strcmp(channel, channels[i].name) == 0)
      req.channel = channels[i].channel;
  }
  if (req.channel == LOYALTY__V1__CHANNEL__CHANNEL_UNSPECIFIED)
    return ctl_usage_error("--channel must be pos, tmall, jd, wechat, web or other");
  return ctl_call_and_print(env, ADMIN("CreateStore"), &req.base,
                            &loyalty__v1__store__descriptor);
}

static int store_list(ctl_env *env, const ctl_args *args)
{
  (void)args;
  Loyalty__V1__ListStoresRequest req = LOYALTY__V1__LIST_STORES_REQUEST__INIT;
  return ctl_call_and_print(env, ADMIN("ListStores"), &req.base,
                            &loyalty__v1__list_stores_response__descriptor);
}

static int store_phone_access(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__SetPhoneAccessRequest req = LOYALTY__V1__SET_PHONE_ACCESS_REQUEST__INIT;
  if (args->n_positional != 2 || (strcmp(args->positional[1], "full") != 0 &&
                                  strcmp(args->positional[1], "masked") != 0))
    return ctl_usage_error("usage: store phone-access CODE full|masked");
  req.store_code = (char *)args->positional[0];
  req.sees_full_phone = strcmp(args->positional[1], "full") == 0;
  return ctl_call_and_print(env, ADMIN("SetPhoneAccess"), &req.base,
                            &loyalty__v1__store__descriptor);
}

static int key_issue(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__IssueStoreKeyRequest req = LOYALTY__V1__ISSUE_STORE_KEY_REQUEST__INIT;
  if (args->n_positional != 1)
    return ctl_usage_error("usage: key issue STORE_CODE");
  req.store_code = (char *)args->positional[0];
  req.expires_at = (char *)(ctl_arg(args, "expires") ? ctl_arg(args, "expires") : "");
  if (!env->json)
    fputs("the secret is shown once: keep it now\n", stderr);
  return ctl_call_and_print(env, ADMIN("IssueStoreKey"), &req.base,
                            &loyalty__v1__issued_key__descriptor);
}

static int key_issue_hq(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__IssueHqKeyRequest req = LOYALTY__V1__ISSUE_HQ_KEY_REQUEST__INIT;
  if (args->n_positional != 1)
    return ctl_usage_error("usage: key issue-hq OPERATOR [--expires WHEN]");
  req.operator_ = (char *)args->positional[0];
  req.expires_at = (char *)(ctl_arg(args, "expires") ? ctl_arg(args, "expires") : "");
  if (!env->json)
    fputs("the secret is shown once: keep it now\n", stderr);
  return ctl_call_and_print(env, ADMIN("IssueHqKey"), &req.base,
                            &loyalty__v1__issued_key__descriptor);
}

static int key_rotate(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__RotateKeyRequest req = LOYALTY__V1__ROTATE_KEY_REQUEST__INIT;
  if (args->n_positional != 1)
    return ctl_usage_error("usage: key rotate KEY_ID [--expires WHEN]");
  req.key_id = (char *)args->positional[0];
  req.expires_at = (char *)(ctl_arg(args, "expires") ? ctl_arg(args, "expires") : "");
  if (!env->json)
    fputs("the secret is shown once; the old key works until you revoke it\n", stderr);
  return ctl_call_and_print(env, ADMIN("RotateKey"), &req.base,
                            &loyalty__v1__issued_key__descriptor);
}

static int key_list(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__ListKeysRequest req = LOYALTY__V1__LIST_KEYS_REQUEST__INIT;
  if (args->n_positional > 1)
    return ctl_usage_error("usage: key list [STORE_CODE] [--all]");
  req.store_code = (char *)(args->n_positional ? args->positional[0] : "");
  req.include_revoked = ctl_flag(args, "all");
  return ctl_call_and_print(env, ADMIN("ListKeys"), &req.base,
                            &loyalty__v1__list_keys_response__descriptor);
}

static int key_revoke(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__RevokeKeyRequest req = LOYALTY__V1__REVOKE_KEY_REQUEST__INIT;
  if (args->n_positional != 1)
    return ctl_usage_error("usage: key revoke KEY_ID");
  req.key_id = (char *)args->positional[0];
  return ctl_call_and_print(env, ADMIN("RevokeKey"), &req.base,
                            &loyalty__v1__revoke_key_response__descriptor);
}

/* --- members ---------------------------------------------------------------------------- */

static int member_enroll(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__EnrollMemberRequest req = LOYALTY__V1__ENROLL_MEMBER_REQUEST__INIT;
  Loyalty__V1__Identity ids[CTL_MAX_ARGS];
  Loyalty__V1__Identity *id_ptrs[CTL_MAX_ARGS];
  if (args->n_positional != 0)
    return ctl_usage_error("usage: member enroll --phone PHONE [--name NAME] ...");
  for (int i = 0; i < args->n_options; i++) {
    if (strcmp(args->option_name[i], "identity") != 0)
      continue;
    if (!parse_identity(args->option_value[i], &ids[req.n_identities]))
      return ctl_usage_error("--identity must be kind:value, like wechat_openid:o123");
    id_ptrs[req.n_identities] = &ids[req.n_identities];
    req.n_identities++;
  }
  req.identities = id_ptrs;
  req.phone = (char *)(ctl_arg(args, "phone") ? ctl_arg(args, "phone") : "");
  req.name = (char *)(ctl_arg(args, "name") ? ctl_arg(args, "name") : "");
  req.birthday = (char *)(ctl_arg(args, "birthday") ? ctl_arg(args, "birthday") : "");
  req.store_code = (char *)store(args);
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, POINTS("EnrollMember"), &req.base,
                            &loyalty__v1__member__descriptor);
}

static int member_show(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__GetMemberRequest req = LOYALTY__V1__GET_MEMBER_REQUEST__INIT;
  Loyalty__V1__Identity id;
  if (ctl_arg(args, "phone") != NULL) {
    req.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_PHONE;
    req.phone = (char *)ctl_arg(args, "phone");
  } else if (ctl_arg(args, "identity") != NULL) {
    if (!parse_identity(ctl_arg(args, "identity"), &id))
      return ctl_usage_error("--identity must be kind:value");
    req.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_IDENTITY;
    req.identity = &id;
  } else {
    if (!positional_id(args, 0, "MEMBER_ID", &req.member_id))
      return CTL_EXIT_USAGE;
    req.key_case = LOYALTY__V1__GET_MEMBER_REQUEST__KEY_MEMBER_ID;
  }
  return ctl_call_and_print(env, POINTS("GetMember"), &req.base,
                            &loyalty__v1__member__descriptor);
}

static int member_link(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__LinkIdentityRequest req = LOYALTY__V1__LINK_IDENTITY_REQUEST__INIT;
  Loyalty__V1__Identity id;
  if (args->n_positional != 2 || !positional_id(args, 0, "MEMBER_ID", &req.member_id))
    return ctl_usage_error("usage: member link MEMBER_ID KIND:VALUE");
  if (!parse_identity(args->positional[1], &id))
    return ctl_usage_error("the identity must be kind:value");
  req.identity = &id;
  req.store_code = (char *)store(args);
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, POINTS("LinkIdentity"), &req.base,
                            &loyalty__v1__member__descriptor);
}

/* --- points ----------------------------------------------------------------------------- */

static int points_earn(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__EarnRequest req = LOYALTY__V1__EARN_REQUEST__INIT;
  if (args->n_positional != 2 || ctl_arg(args, "order") == NULL)
    return ctl_usage_error("usage: points earn MEMBER_ID AMOUNT --order ORDER_ID");
  if (!positional_id(args, 0, "MEMBER_ID", &req.member_id) ||
      !positional_yuan(args, 1, &req.amount_cents))
    return CTL_EXIT_USAGE;
  req.order_id = (char *)ctl_arg(args, "order");
  req.occurred_at = (char *)(ctl_arg(args, "occurred-at") ? ctl_arg(args, "occurred-at") : "");
  req.store_code = (char *)store(args);
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, POINTS("Earn"), &req.base,
                            &loyalty__v1__points_result__descriptor);
}

static int points_redeem(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__RedeemRequest req = LOYALTY__V1__REDEEM_REQUEST__INIT;
  if (args->n_positional != 2)
    return ctl_usage_error("usage: points redeem MEMBER_ID POINTS");
  if (!positional_id(args, 0, "MEMBER_ID", &req.member_id) ||
      !positional_id(args, 1, "POINTS", &req.points))
    return CTL_EXIT_USAGE;
  req.order_id = (char *)(ctl_arg(args, "order") ? ctl_arg(args, "order") : "");
  req.reason = (char *)(ctl_arg(args, "reason") ? ctl_arg(args, "reason") : "");
  req.store_code = (char *)store(args);
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, POINTS("Redeem"), &req.base,
                            &loyalty__v1__points_result__descriptor);
}

static int points_refund(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__RefundRequest req = LOYALTY__V1__REFUND_REQUEST__INIT;
  const char *txn = ctl_arg(args, "txn"), *order = ctl_arg(args, "order");
  const char *original_store = ctl_arg(args, "original-store");
  if (args->n_positional != 2 || (txn == NULL) == (order == NULL))
    return ctl_usage_error("usage: points refund MEMBER_ID AMOUNT (--txn TXN_ID | --order ORDER_ID"
                           " [--original-store CODE])");
  if (original_store != NULL && order == NULL)
    return ctl_usage_error("--original-store goes with --order (a --txn names the purchase)");
  if (!positional_id(args, 0, "MEMBER_ID", &req.member_id) ||
      !positional_yuan(args, 1, &req.amount_cents))
    return CTL_EXIT_USAGE;
  if (txn != NULL) {
    if (!ctl_parse_int64(txn, &req.transaction_id) || req.transaction_id <= 0)
      return ctl_usage_error("--txn must be a transaction id");
    req.original_case = LOYALTY__V1__REFUND_REQUEST__ORIGINAL_TRANSACTION_ID;
  } else {
    req.order_id = (char *)order;
    req.original_case = LOYALTY__V1__REFUND_REQUEST__ORIGINAL_ORDER_ID;
    req.original_store_code = (char *)(original_store ? original_store : "");
  }
  req.occurred_at = (char *)(ctl_arg(args, "occurred-at") ? ctl_arg(args, "occurred-at") : "");
  req.store_code = (char *)store(args);
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, POINTS("Refund"), &req.base,
                            &loyalty__v1__points_result__descriptor);
}

static int points_confirm(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__ConfirmOrderRequest req = LOYALTY__V1__CONFIRM_ORDER_REQUEST__INIT;
  const char *txn = ctl_arg(args, "txn"), *order = ctl_arg(args, "order");
  const char *original_store = ctl_arg(args, "original-store");
  if (args->n_positional != 1 || (txn == NULL) == (order == NULL))
    return ctl_usage_error("usage: points confirm MEMBER_ID (--txn TXN_ID | --order ORDER_ID"
                           " [--original-store CODE])");
  if (original_store != NULL && order == NULL)
    return ctl_usage_error("--original-store goes with --order (a --txn names the purchase)");
  if (!positional_id(args, 0, "MEMBER_ID", &req.member_id))
    return CTL_EXIT_USAGE;
  if (txn != NULL) {
    if (!ctl_parse_int64(txn, &req.transaction_id) || req.transaction_id <= 0)
      return ctl_usage_error("--txn must be a transaction id");
    req.original_case = LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL_TRANSACTION_ID;
  } else {
    req.order_id = (char *)order;
    req.original_case = LOYALTY__V1__CONFIRM_ORDER_REQUEST__ORIGINAL_ORDER_ID;
    req.original_store_code = (char *)(original_store ? original_store : "");
  }
  req.store_code = (char *)store(args);
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, POINTS("ConfirmOrder"), &req.base,
                            &loyalty__v1__points_result__descriptor);
}

static int points_cancel(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__CancelRedemptionRequest req = LOYALTY__V1__CANCEL_REDEMPTION_REQUEST__INIT;
  if (args->n_positional != 2)
    return ctl_usage_error("usage: points cancel MEMBER_ID REDEMPTION_TXN_ID");
  if (!positional_id(args, 0, "MEMBER_ID", &req.member_id) ||
      !positional_id(args, 1, "REDEMPTION_TXN_ID", &req.redemption_id))
    return CTL_EXIT_USAGE;
  req.store_code = (char *)store(args);
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, POINTS("CancelRedemption"), &req.base,
                            &loyalty__v1__points_result__descriptor);
}

static int points_balance(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__GetBalanceRequest req = LOYALTY__V1__GET_BALANCE_REQUEST__INIT;
  if (args->n_positional != 1 || !positional_id(args, 0, "MEMBER_ID", &req.member_id))
    return ctl_usage_error("usage: points balance MEMBER_ID");
  return ctl_call_and_print(env, POINTS("GetBalance"), &req.base,
                            &loyalty__v1__balance__descriptor);
}

static int points_history(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__ListTransactionsRequest req = LOYALTY__V1__LIST_TRANSACTIONS_REQUEST__INIT;
  int64_t page_size = 0;
  if (args->n_positional != 1 || !positional_id(args, 0, "MEMBER_ID", &req.member_id))
    return ctl_usage_error("usage: points history MEMBER_ID [--page-size N] [--page-token T] [--all]");
  if (ctl_arg(args, "page-size") != NULL && !ctl_parse_int64(ctl_arg(args, "page-size"), &page_size))
    return ctl_usage_error("--page-size must be a number");
  req.page_size = (int32_t)page_size;
  req.page_token = (char *)(ctl_arg(args, "page-token") ? ctl_arg(args, "page-token") : "");
  if (!ctl_flag(args, "all"))
    return ctl_call_and_print(env, POINTS("ListTransactions"), &req.base,
                              &loyalty__v1__list_transactions_response__descriptor);
  /* --all: every page, printed together as one list. */
  ProtobufCMessage *pages[1024];
  size_t n_pages = 0, n_rows = 0;
  int rc = CTL_EXIT_OK;
  char token[32] = "";
  do {
    char *message;
    req.page_token = token;
    grpc_status_code status =
        lc_call(env->conn, POINTS("ListTransactions"), &req.base,
                &loyalty__v1__list_transactions_response__descriptor, &pages[n_pages], &message,
                env->timeout_ms);
    if (status != GRPC_STATUS_OK) {
      fprintf(stderr, "error: %s: %s\n", lc_status_name(status), message);
      free(message);
      rc = CTL_EXIT_RPC;
      break;
    }
    const Loyalty__V1__ListTransactionsResponse *page =
        (const Loyalty__V1__ListTransactionsResponse *)pages[n_pages++];
    n_rows += page->n_transactions;
    snprintf(token, sizeof token, "%s", page->next_page_token);
  } while (token[0] != '\0' && n_pages < sizeof pages / sizeof pages[0]);
  if (rc == CTL_EXIT_OK) {
    Loyalty__V1__ListTransactionsResponse all = LOYALTY__V1__LIST_TRANSACTIONS_RESPONSE__INIT;
    all.transactions = calloc(n_rows + 1, sizeof *all.transactions);
    for (size_t p = 0; p < n_pages && all.transactions != NULL; p++) {
      const Loyalty__V1__ListTransactionsResponse *page =
          (const Loyalty__V1__ListTransactionsResponse *)pages[p];
      for (size_t i = 0; i < page->n_transactions; i++)
        all.transactions[all.n_transactions++] = page->transactions[i];
    }
    all.next_page_token = token; /* "" unless there were more than 1024 pages */
    ctl_print(&all.base, env->json);
    free(all.transactions);
  }
  for (size_t p = 0; p < n_pages; p++)
    protobuf_c_message_free_unpacked(pages[p], NULL);
  return rc;
}

static int audit_verify(ctl_env *env, const ctl_args *args)
{
  (void)args;
  Loyalty__V1__VerifyAuditRequest req = LOYALTY__V1__VERIFY_AUDIT_REQUEST__INIT;
  ProtobufCMessage *response;
  char *message;
  grpc_status_code status = lc_call(env->conn, ADMIN("VerifyAudit"), &req.base,
                                    &loyalty__v1__verify_audit_response__descriptor, &response,
                                    &message, env->timeout_ms);
  if (status != GRPC_STATUS_OK) {
    fprintf(stderr, "error: %s: %s\n", lc_status_name(status), message);
    free(message);
    return CTL_EXIT_RPC;
  }
  ctl_print(response, env->json);
  /* A broken chain is an answer, not an error; scripts still want to tell. */
  int rc = ((Loyalty__V1__VerifyAuditResponse *)response)->ok ? CTL_EXIT_OK : CTL_EXIT_RPC;
  protobuf_c_message_free_unpacked(response, NULL);
  return rc;
}

static int audit_list(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__ListAuditRequest req = LOYALTY__V1__LIST_AUDIT_REQUEST__INIT;
  int64_t number;
  if (args->n_positional != 0)
    return ctl_usage_error("usage: audit list [--member ID] [--store CODE] ...");
  if (ctl_arg(args, "member") != NULL) {
    if (!ctl_parse_int64(ctl_arg(args, "member"), &req.member_id) || req.member_id <= 0)
      return ctl_usage_error("--member must be a member id");
  }
  if (ctl_arg(args, "page-size") != NULL) {
    if (!ctl_parse_int64(ctl_arg(args, "page-size"), &number))
      return ctl_usage_error("--page-size must be a number");
    req.page_size = (int32_t)number;
  }
  req.store_code = (char *)(ctl_arg(args, "store") ? ctl_arg(args, "store") : "");
  req.principal = (char *)(ctl_arg(args, "principal") ? ctl_arg(args, "principal") : "");
  req.since = (char *)(ctl_arg(args, "since") ? ctl_arg(args, "since") : "");
  req.until = (char *)(ctl_arg(args, "until") ? ctl_arg(args, "until") : "");
  req.kind = (char *)(ctl_arg(args, "kind") ? ctl_arg(args, "kind") : "");
  req.page_token = (char *)(ctl_arg(args, "page-token") ? ctl_arg(args, "page-token") : "");
  req.late = ctl_flag(args, "late");
  bool csv = ctl_flag(args, "csv"), all = ctl_flag(args, "all");
  if (!csv && !all)
    return ctl_call_and_print(env, ADMIN("ListAudit"), &req.base,
                              &loyalty__v1__list_audit_response__descriptor);
  /* --csv and/or --all: page after page, printed as they come. */
  char token[128];
  snprintf(token, sizeof token, "%s", req.page_token);
  for (bool first = true;; first = false) {
    ProtobufCMessage *response;
    char *message;
    req.page_token = token;
    grpc_status_code status =
        lc_call(env->conn, ADMIN("ListAudit"), &req.base,
                &loyalty__v1__list_audit_response__descriptor, &response, &message,
                env->timeout_ms);
    if (status != GRPC_STATUS_OK) {
      fprintf(stderr, "error: %s: %s\n", lc_status_name(status), message);
      free(message);
      return CTL_EXIT_RPC;
    }
    const Loyalty__V1__ListAuditResponse *page = (const Loyalty__V1__ListAuditResponse *)response;
    if (csv)
      ctl_print_csv(response, first);
    else
      ctl_print(response, env->json);
    snprintf(token, sizeof token, "%s", page->next_page_token);
    protobuf_c_message_free_unpacked(response, NULL);
    if (!all || token[0] == '\0')
      return CTL_EXIT_OK;
  }
}

static int program_show(ctl_env *env, const ctl_args *args)
{
  (void)args;
  Loyalty__V1__GetProgramRequest req = LOYALTY__V1__GET_PROGRAM_REQUEST__INIT;
  return ctl_call_and_print(env, ADMIN("GetProgram"), &req.base,
                            &loyalty__v1__program__descriptor);
}

/* --pending-days "tmall=15,jd=15" (or "none") into *out, whose n_channels entries point
 * into days[] (at most one per channel). False after a usage message if it is not that. */
static bool parse_pending_days(const char *s, Loyalty__V1__PendingDays *out,
                               Loyalty__V1__ChannelDays days[], Loyalty__V1__ChannelDays *list[],
                               size_t max)
{
  loyalty__v1__pending_days__init(out);
  out->channels = list;
  if (strcmp(s, "none") == 0)
    return true;
  char copy[256];
  snprintf(copy, sizeof copy, "%s", s);
  for (char *save = NULL, *item = strtok_r(copy, ",", &save); item != NULL;
       item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    int64_t n;
    Loyalty__V1__Channel channel = LOYALTY__V1__CHANNEL__CHANNEL_UNSPECIFIED;
    if (eq != NULL) {
      *eq = '\0';
      for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++) {
        if (strcmp(item, channels[i].name) == 0)
          channel = channels[i].channel;
      }
    }
    if (eq == NULL || channel == LOYALTY__V1__CHANNEL__CHANNEL_UNSPECIFIED ||
        !ctl_parse_int64(eq + 1, &n) || n < 0 || n > INT32_MAX || out->n_channels == max) {
      ctl_usage_error("--pending-days: CHANNEL=DAYS,... (pos, tmall, jd, wechat, web, other;"
                      " e.g. tmall=15,jd=15), or none");
      return false;
    }
    loyalty__v1__channel_days__init(&days[out->n_channels]);
    days[out->n_channels].channel = channel;
    days[out->n_channels].days = (int32_t)n;
    list[out->n_channels] = &days[out->n_channels];
    out->n_channels++;
  }
  return true;
}

/* program set: the current rules, changed where an option says, sent back whole. */
static int program_set(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__GetProgramRequest get = LOYALTY__V1__GET_PROGRAM_REQUEST__INIT;
  ProtobufCMessage *current;
  char *message;
  grpc_status_code status = lc_call(env->conn, ADMIN("GetProgram"), &get.base,
                                    &loyalty__v1__program__descriptor, &current, &message,
                                    env->timeout_ms);
  if (status != GRPC_STATUS_OK) {
    fprintf(stderr, "error: %s: %s\n", lc_status_name(status), message);
    free(message);
    return CTL_EXIT_RPC;
  }
  Loyalty__V1__Program *p = (Loyalty__V1__Program *)current;
  const struct {
    const char *option;
    bool yuan;
    int64_t *wide;
    int32_t *narrow;
  } fields[] = {
    {"points-per-yuan", false, NULL, &p->points_per_yuan},
    {"senior", true, &p->senior_threshold_cents, NULL},
    {"vip", true, &p->vip_threshold_cents, NULL},
    {"supreme", true, &p->supreme_threshold_cents, NULL},
    {"ordinary-permille", false, NULL, &p->ordinary_permille},
    {"senior-permille", false, NULL, &p->senior_permille},
    {"vip-permille", false, NULL, &p->vip_permille},
    {"supreme-permille", false, NULL, &p->supreme_permille},
    {"birthday-multiplier", false, NULL, &p->birthday_multiplier},
    {"min-paid", true, &p->min_paid_cents, NULL},
    {"expiry-months", false, NULL, &p->expiry_months},
    {"max-backdate-days", false, NULL, &p->max_backdate_days},
    {"point-value-millicents", false, NULL, &p->point_value_millicents},
  };
  int rc = CTL_EXIT_OK;
  for (size_t i = 0; i < sizeof fields / sizeof fields[0] && rc == CTL_EXIT_OK; i++) {
    const char *v = ctl_arg(args, fields[i].option);
    int64_t n;
    if (v == NULL)
      continue;
    if (fields[i].yuan ? !ctl_parse_yuan(v, &n) : !ctl_parse_int64(v, &n))
      rc = ctl_usage_error("--%s: \"%s\" is not %s", fields[i].option, v,
                           fields[i].yuan ? "an amount in yuan" : "a whole number");
    else if (fields[i].wide != NULL)
      *fields[i].wide = n;
    else
      *fields[i].narrow = (int32_t)n;
  }
  /* Sent back as the server gave it, or as set here (an older server leaves it out). */
  if (ctl_arg(args, "max-backdate-days") != NULL)
    p->optional_max_backdate_days_case =
        LOYALTY__V1__PROGRAM__OPTIONAL_MAX_BACKDATE_DAYS_MAX_BACKDATE_DAYS;
  if (ctl_arg(args, "point-value-millicents") != NULL)
    p->optional_point_value_millicents_case =
        LOYALTY__V1__PROGRAM__OPTIONAL_POINT_VALUE_MILLICENTS_POINT_VALUE_MILLICENTS;
  /* --pending-days replaces every channel's days; without it they are sent back as they are. */
  Loyalty__V1__PendingDays *pending = p->pending_days, new_pending;
  Loyalty__V1__ChannelDays days[CTL_MAX_ARGS], *day_list[CTL_MAX_ARGS];
  if (rc == CTL_EXIT_OK && ctl_arg(args, "pending-days") != NULL) {
    if (parse_pending_days(ctl_arg(args, "pending-days"), &new_pending, days, day_list,
                           CTL_MAX_ARGS))
      p->pending_days = &new_pending;
    else
      rc = CTL_EXIT_USAGE;
  }
  char *time_zone = p->time_zone, *expiry = p->expiry_policy, *tiers = p->tier_policy;
  if (ctl_arg(args, "tier-policy") != NULL)
    p->tier_policy = (char *)ctl_arg(args, "tier-policy");
  if (ctl_arg(args, "time-zone") != NULL)
    p->time_zone = (char *)ctl_arg(args, "time-zone");
  if (ctl_arg(args, "expiry") != NULL)
    p->expiry_policy = (char *)ctl_arg(args, "expiry");
  if (rc == CTL_EXIT_OK)
    rc = ctl_call_and_print(env, ADMIN("UpdateProgram"), &p->base,
                            &loyalty__v1__program__descriptor);
  p->time_zone = time_zone; /* the unpacked message frees its own strings */
  p->expiry_policy = expiry;
  p->tier_policy = tiers;
  p->pending_days = pending;
  protobuf_c_message_free_unpacked(current, NULL);
  return rc;
}

static int points_adjust(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__AdjustPointsRequest req = LOYALTY__V1__ADJUST_POINTS_REQUEST__INIT;
  if (args->n_positional != 2 || ctl_arg(args, "reason") == NULL)
    return ctl_usage_error("usage: points adjust MEMBER_ID [-]POINTS --reason TEXT");
  if (!positional_id(args, 0, "MEMBER_ID", &req.member_id))
    return CTL_EXIT_USAGE;
  if (!ctl_parse_int64(args->positional[1], &req.points) || req.points == 0)
    return ctl_usage_error("POINTS must be a non-zero whole number, negative to take away");
  req.reason = (char *)ctl_arg(args, "reason");
  req.store_code = (char *)store(args);
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, ADMIN("AdjustPoints"), &req.base,
                            &loyalty__v1__points_result__descriptor);
}

static int expiry_run(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__RunExpiryRequest req = LOYALTY__V1__RUN_EXPIRY_REQUEST__INIT;
  if (args->n_positional != 0)
    return ctl_usage_error("usage: expiry run [--as-of YYYY-MM-DD]");
  req.as_of = (char *)(ctl_arg(args, "as-of") ? ctl_arg(args, "as-of") : "");
  return ctl_call_and_print(env, ADMIN("RunExpiry"), &req.base,
                            &loyalty__v1__run_expiry_response__descriptor);
}

static int pending_release(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__ReleasePendingRequest req = LOYALTY__V1__RELEASE_PENDING_REQUEST__INIT;
  if (args->n_positional != 0)
    return ctl_usage_error("usage: pending release [--as-of YYYY-MM-DD]");
  req.as_of = (char *)(ctl_arg(args, "as-of") ? ctl_arg(args, "as-of") : "");
  return ctl_call_and_print(env, ADMIN("ReleasePending"), &req.base,
                            &loyalty__v1__release_pending_response__descriptor);
}

static int expiry_upcoming(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__ListExpiringPointsRequest req = LOYALTY__V1__LIST_EXPIRING_POINTS_REQUEST__INIT;
  int64_t within = 30;
  if (args->n_positional != 0 ||
      (ctl_arg(args, "within") && !ctl_parse_int64(ctl_arg(args, "within"), &within)))
    return ctl_usage_error("usage: expiry upcoming [--within DAYS] [--csv]");
  req.within_days = (int32_t)within;
  bool csv = ctl_flag(args, "csv");
  char token[32] = "";
  for (bool first = true;; first = false) { /* every page */
    ProtobufCMessage *response;
    char *message;
    req.page_token = token;
    grpc_status_code status =
        lc_call(env->conn, ADMIN("ListExpiringPoints"), &req.base,
                &loyalty__v1__list_expiring_points_response__descriptor, &response, &message,
                env->timeout_ms);
    if (status != GRPC_STATUS_OK) {
      fprintf(stderr, "error: %s: %s\n", lc_status_name(status), message);
      free(message);
      return CTL_EXIT_RPC;
    }
    const Loyalty__V1__ListExpiringPointsResponse *page =
        (const Loyalty__V1__ListExpiringPointsResponse *)response;
    if (csv)
      ctl_print_csv(response, first);
    else
      ctl_print(response, env->json);
    snprintf(token, sizeof token, "%s", page->next_page_token);
    protobuf_c_message_free_unpacked(response, NULL);
    if (token[0] == '\0')
      return CTL_EXIT_OK;
  }
}

static int member_birthday(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__SetBirthdayRequest req = LOYALTY__V1__SET_BIRTHDAY_REQUEST__INIT;
  if (args->n_positional != 2 || !positional_id(args, 0, "MEMBER_ID", &req.member_id))
    return ctl_usage_error("usage: member birthday MEMBER_ID YYYY-MM-DD");
  req.birthday = (char *)args->positional[1];
  req.store_code = (char *)store(args);
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, POINTS("SetBirthday"), &req.base,
                            &loyalty__v1__member__descriptor);
}

static int member_merge(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__MergeMembersRequest req = LOYALTY__V1__MERGE_MEMBERS_REQUEST__INIT;
  if (args->n_positional != 2 || !positional_id(args, 0, "KEEP_ID", &req.keep) ||
      !positional_id(args, 1, "MERGE_ID", &req.merge))
    return ctl_usage_error("usage: member merge KEEP_ID MERGE_ID");
  req.request_id = (char *)request_id(args);
  return ctl_call_and_print(env, ADMIN("MergeMembers"), &req.base,
                            &loyalty__v1__points_result__descriptor);
}

static const struct {
  const char *name;
  Loyalty__V1__Tier tier;
} tier_names[] = {
  {"ordinary", LOYALTY__V1__TIER__TIER_ORDINARY}, {"senior", LOYALTY__V1__TIER__TIER_SENIOR},
  {"vip", LOYALTY__V1__TIER__TIER_VIP},           {"supreme", LOYALTY__V1__TIER__TIER_SUPREME},
};

static int campaign_add(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__Campaign c = LOYALTY__V1__CAMPAIGN__INIT;
  char *stores[CTL_MAX_ARGS];
  Loyalty__V1__Channel chans[CTL_MAX_ARGS];
  Loyalty__V1__Tier tiers[CTL_MAX_ARGS];
  if (args->n_positional != 1 || !ctl_arg(args, "starts") || !ctl_arg(args, "ends"))
    return ctl_usage_error("usage: campaign add NAME --starts WHEN --ends WHEN"
                           " (--multiplier X | --bonus POINTS) ...");
  c.name = (char *)args->positional[0];
  c.starts_at = (char *)ctl_arg(args, "starts");
  c.ends_at = (char *)ctl_arg(args, "ends");
  int64_t v;
  if (ctl_arg(args, "multiplier") != NULL) {
    if (!ctl_parse_yuan(ctl_arg(args, "multiplier"), &v)) /* "1.5": two decimals at most */
      return ctl_usage_error("--multiplier must be like 3 or 1.5");
    c.multiplier_permille = (int32_t)(v * 10);
  }
  if (ctl_arg(args, "bonus") != NULL && !ctl_parse_int64(ctl_arg(args, "bonus"), &c.bonus_points))
    return ctl_usage_error("--bonus must be whole points");
  for (int i = 0; i < args->n_options; i++) {
    const char *name = args->option_name[i], *value = args->option_value[i];
    if (strcmp(name, "store") == 0) {
      stores[c.n_store_codes++] = (char *)value;
    } else if (strcmp(name, "channel") == 0 || strcmp(name, "tier") == 0) {
      bool tier = name[0] == 't', found = false;
      for (size_t k = 0; !tier && k < sizeof channels / sizeof channels[0]; k++) {
        if (strcmp(value, channels[k].name) == 0) {
          chans[c.n_channels++] = channels[k].channel;
          found = true;
        }
      }
      for (size_t k = 0; tier && k < sizeof tier_names / sizeof tier_names[0]; k++) {
        if (strcmp(value, tier_names[k].name) == 0) {
          tiers[c.n_tiers++] = tier_names[k].tier;
          found = true;
        }
      }
      if (!found)
        return ctl_usage_error("unknown %s \"%s\"", name, value);
    }
  }
  c.store_codes = stores;
  c.channels = chans;
  c.tiers = tiers;
  return ctl_call_and_print(env, ADMIN("CreateCampaign"), &c.base,
                            &loyalty__v1__campaign__descriptor);
}

static int campaign_list(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__ListCampaignsRequest req = LOYALTY__V1__LIST_CAMPAIGNS_REQUEST__INIT;
  req.include_ended = ctl_flag(args, "all");
  return ctl_call_and_print(env, ADMIN("ListCampaigns"), &req.base,
                            &loyalty__v1__list_campaigns_response__descriptor);
}

static int campaign_end(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__EndCampaignRequest req = LOYALTY__V1__END_CAMPAIGN_REQUEST__INIT;
  int64_t id;
  if (args->n_positional != 1 || !positional_id(args, 0, "CAMPAIGN_ID", &id))
    return ctl_usage_error("usage: campaign end CAMPAIGN_ID");
  req.campaign_id = (int32_t)id;
  return ctl_call_and_print(env, ADMIN("EndCampaign"), &req.base,
                            &loyalty__v1__campaign__descriptor);
}

static int member_set_tier(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__SetTierRequest req = LOYALTY__V1__SET_TIER_REQUEST__INIT;
  if (args->n_positional != 2 || !positional_id(args, 0, "MEMBER_ID", &req.member_id) ||
      ctl_arg(args, "reason") == NULL)
    return ctl_usage_error("usage: member set-tier MEMBER_ID ordinary|senior|vip|supreme --reason TEXT");
  for (size_t k = 0; k < sizeof tier_names / sizeof tier_names[0]; k++) {
    if (strcmp(args->positional[1], tier_names[k].name) == 0)
      req.tier = tier_names[k].tier;
  }
  if (req.tier == LOYALTY__V1__TIER__TIER_UNSPECIFIED)
    return ctl_usage_error("the tier must be ordinary, senior, vip or supreme");
  req.reason = (char *)ctl_arg(args, "reason");
  return ctl_call_and_print(env, ADMIN("SetTier"), &req.base, &loyalty__v1__balance__descriptor);
}

static int tiers_evaluate(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__EvaluateTiersRequest req = LOYALTY__V1__EVALUATE_TIERS_REQUEST__INIT;
  if (args->n_positional != 0)
    return ctl_usage_error("usage: tiers evaluate [--as-of YYYY-MM-DD]");
  req.as_of = (char *)(ctl_arg(args, "as-of") ? ctl_arg(args, "as-of") : "");
  return ctl_call_and_print(env, ADMIN("EvaluateTiers"), &req.base,
                            &loyalty__v1__evaluate_tiers_response__descriptor);
}

static int member_tiers(ctl_env *env, const ctl_args *args)
{
  Loyalty__V1__ListTierChangesRequest req = LOYALTY__V1__LIST_TIER_CHANGES_REQUEST__INIT;
  if (args->n_positional != 1 || !positional_id(args, 0, "MEMBER_ID", &req.member_id))
    return ctl_usage_error("usage: member tiers MEMBER_ID");
  return ctl_call_and_print(env, ADMIN("ListTierChanges"), &req.base,
                            &loyalty__v1__list_tier_changes_response__descriptor);
}

static int health(ctl_env *env, const ctl_args *args)
{
  Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
  req.service = (char *)(args->n_positional > 0 ? args->positional[0] : "");
  return ctl_call_and_print(env, "/grpc.health.v1.Health/Check", &req.base,
                            &grpc__health__v1__health_check_response__descriptor);
}

static const char *const history_flags[] = {"all", NULL};
static const char *const list_flags[] = {"all", NULL};
static const char *const audit_flags[] = {"all", "csv", "late", NULL};
static const char *const csv_flags[] = {"csv", NULL};
static const char *const import_flags[] = {"dry-run", NULL};
static const char *const import_order_flags[] = {"dry-run", "order-points", "no-order-points",
                                                 NULL};

#define IMPORT_OPTS " [--dry-run] [--errors FILE]"
#define IMPORT_HELP                                                                          \
  "\n(a header line names them, in any order; docs/import.md explains each)\n\n"            \
  "Rows go to the server in batches, each applied in one transaction. Rejected rows go to\n" \
  "the error file (default FILE.errors.csv) as line,reason and the row; the rest are\n"  \
  "imported. Running the same file again changes nothing; a run cut off (Ctrl-C, a server\n" \
  "restart) goes on where it stopped when run again. --dry-run checks every row, writes\n"   \
  "the error file and changes nothing. Progress on stderr; totals of the file beside what\n" \
  "was imported at the end.\n\n"                                                               \
  "Exit status: 0 all rows imported or already there; 1 a row was rejected or the server\n"  \
  "failed; 2 usage; 130 interrupted (run again to resume)."
#define IMPORT_JOBS_HELP                                                                      \
  "\n\n--jobs N (1-16, default 2): the rows go as N parts at once, split by the member\n"      \
  "column, so the server applies several batches at a time. Each part resumes on its own:\n"  \
  "to resume a run, give it the same --jobs. Name each member the same way in every row\n"    \
  "(a refund in another part than its purchase may come first, and be rejected)."

#define WRITE_OPTS " [--store CODE] [--request-id ID]"

const ctl_command ctl_commands[] = {
  {"store", "add", "CODE --name NAME --channel pos|tmall|jd|wechat|web|other [--region R]",
   "register a store or online shop (HQ)", NULL, store_add},
  {"store", "list", "", "list the stores (HQ)", NULL, store_list},
  {"store", "phone-access", "CODE full|masked",
   "whether the store's keys see members' phones in full (default masked: 138****1234) (HQ)",
   NULL, store_phone_access},
  {"key", "issue", "STORE_CODE [--expires WHEN]",
   "issue a key for a store; the secret is shown once (HQ)", NULL, key_issue},
  {"key", "issue-hq", "OPERATOR [--expires WHEN]",
   "issue an HQ key for an operator, named in the ledger rows it causes (HQ)", NULL,
   key_issue_hq},
  {"key", "rotate", "KEY_ID [--expires WHEN]",
   "a new key for the same store or operator; the old one works until revoked (HQ)", NULL,
   key_rotate},
  {"key", "list", "[STORE_CODE] [--all]", "list keys, never their secrets; --all: revoked too (HQ)",
   list_flags, key_list},
  {"key", "revoke", "KEY_ID", "revoke a key: it fails from the next call on (HQ)", NULL,
   key_revoke},
  {"member", "enroll",
   "--phone PHONE [--name NAME] [--birthday YYYY-MM-DD] [--identity KIND:VALUE]..." WRITE_OPTS,
   "enroll a member, or find the one with this phone or identity", NULL, member_enroll},
  {"member", "show", "MEMBER_ID | --phone PHONE | --identity KIND:VALUE", "show a member",
   NULL, member_show},
  {"member", "link", "MEMBER_ID KIND:VALUE" WRITE_OPTS, "link an identity to a member", NULL,
   member_link},
  {"member", "birthday", "MEMBER_ID YYYY-MM-DD" WRITE_OPTS,
   "set or change a birthday: at most one change a year, HQ may override", NULL,
   member_birthday},
  {"member", "merge", "KEEP_ID MERGE_ID [--request-id ID]",
   "the same person enrolled twice: move everything to KEEP_ID and close MERGE_ID (HQ)", NULL,
   member_merge},
  {"member", "set-tier", "MEMBER_ID ordinary|senior|vip|supreme --reason TEXT",
   "HQ's override of a member's tier, in the tier history with the reason (HQ)", NULL,
   member_set_tier},
  {"member", "tiers", "MEMBER_ID", "every tier change of the member, with its reason (HQ)",
   NULL, member_tiers},
  {"points", "earn", "MEMBER_ID AMOUNT --order ORDER_ID [--occurred-at TIME]" WRITE_OPTS,
   "points for a purchase of AMOUNT yuan (e.g. 199.90); --occurred-at: when the sale happened,"
   " RFC 3339 (2026-11-11T23:59:00+08:00; default now): its campaigns, birthday month, rules"
   " and expiry count",
   NULL, points_earn},
  {"points", "redeem", "MEMBER_ID POINTS [--order ORDER_ID] [--reason TEXT]" WRITE_OPTS,
   "spend points", NULL, points_redeem},
  {"points", "refund",
   "MEMBER_ID AMOUNT (--txn EARN_TXN_ID | --order ORDER_ID [--original-store CODE])"
   " [--occurred-at TIME]" WRITE_OPTS,
   "refund AMOUNT yuan of a purchase: takes its points back in proportion; --original-store:"
   " the store whose receipt ORDER_ID is (default: the acting store's, else the member's only);"
   " --occurred-at: when the return happened, RFC 3339, not before the purchase (default now)",
   NULL, points_refund},
  {"points", "confirm",
   "MEMBER_ID (--txn EARN_TXN_ID | --order ORDER_ID [--original-store CODE])" WRITE_OPTS,
   "the buyer confirmed receipt (确认收货): release the purchase's pending points now; one"
   " released already answers 0 points",
   NULL, points_confirm},
  {"points", "cancel", "MEMBER_ID REDEMPTION_TXN_ID" WRITE_OPTS,
   "cancel a redemption: gives its points back", NULL, points_cancel},
  {"points", "balance", "MEMBER_ID",
   "balance, tier, next tier, points expiring soon, pending points and when they are released",
   NULL, points_balance},
  {"points", "history", "MEMBER_ID [--page-size N] [--page-token TOKEN] [--all]",
   "the member's transactions, newest first", history_flags, points_history},
  {"points", "adjust", "MEMBER_ID [-]POINTS --reason TEXT" WRITE_OPTS,
   "HQ's correction of a balance, up or down, with a reason (HQ)", NULL, points_adjust},
  {"program", "show", "", "the program's rules (HQ)", NULL, program_show},
  {"program", "set",
   "[--points-per-yuan N] [--senior YUAN] [--vip YUAN] [--supreme YUAN]"
   " [--ordinary-permille N] [--senior-permille N] [--vip-permille N] [--supreme-permille N]"
   " [--birthday-multiplier N] [--min-paid YUAN] [--time-zone TZ]"
   " [--expiry year_end|rolling|never] [--expiry-months N] [--tier-policy lifetime|rolling]"
   " [--max-backdate-days N] [--pending-days CHANNEL=DAYS,...|none]"
   " [--point-value-millicents N]",
   "change the rules, from now on; recorded with who and when (HQ); --pending-days: how long"
   " an earn's points stay pending per channel (tmall=15,jd=15; others 0: credited at once);"
   " --point-value-millicents: what a point is worth in thousandths of a cent (1000: a cent),"
   " the value of the points liability",
   NULL, program_set},
  {"expiry", "run", "[--as-of YYYY-MM-DD]",
   "expire every lot whose last day is before the date (default today); safe to repeat (HQ)",
   NULL, expiry_run},
  {"pending", "release", "[--as-of YYYY-MM-DD]",
   "release the pending points due by the date (default today) whose receipt was not"
   " confirmed; safe to repeat or run twice at once (HQ)",
   NULL, pending_release},
  {"expiry", "upcoming", "[--within DAYS] [--csv]",
   "members with points expiring within DAYS (default 30), for reminders (HQ)", csv_flags,
   expiry_upcoming},
  {"campaign", "add",
   "NAME --starts WHEN --ends WHEN (--multiplier X | --bonus POINTS) [--store CODE]..."
   " [--channel pos|tmall|jd|wechat|web|other]... [--tier ordinary|senior|vip|supreme]...",
   "a campaign: several at once give the highest multiplier plus every bonus (HQ)", NULL,
   campaign_add},
  {"campaign", "list", "[--all]", "running and coming campaigns; --all: ended too (HQ)",
   list_flags, campaign_list},
  {"campaign", "end", "CAMPAIGN_ID", "end a campaign now (HQ)", NULL, campaign_end},
  {"tiers", "evaluate", "[--as-of YYYY-MM-DD]",
   "the yearly review of the rolling tier policy: down one tier at most; once per date (HQ)",
   NULL, tiers_evaluate},
  {"audit", "verify", "",
   "recompute every ledger hash chain and balance; exit 1 if anything was changed (HQ)", NULL,
   audit_verify},
  {"audit", "list",
   "[--member ID] [--store CODE] [--principal KEY_ID] [--since WHEN] [--until WHEN] [--kind K]"
   " [--page-size N] [--page-token T] [--all] [--csv] [--late]",
   "the audit trail, newest first: movements and admin changes (HQ); --late: only movements"
   " recorded more than an hour after they happened, and HQ's dating beyond max_backdate_days",
   audit_flags, audit_list},
  {"import", "stores", "FILE.csv" IMPORT_OPTS "\n\ncolumns: store_code,name,channel,region"
   IMPORT_HELP, "import stores from the old system; safe to repeat, resumes (HQ)",
   import_flags, ctl_import_stores},
  {"import", "members", "FILE.csv" IMPORT_OPTS
   "\n\ncolumns: phone,name,birthday,identities,enrolled_store,enrolled_at" IMPORT_HELP,
   "import members (row key: phone, else first identity) (HQ)", import_flags,
   ctl_import_members},
  {"import", "balances", "FILE.csv" IMPORT_OPTS " [--jobs N]"
   "\n\ncolumns: member,points,expires_on" IMPORT_HELP IMPORT_JOBS_HELP,
   "import opening balances (row key: member, expires_on) (HQ)", import_flags,
   ctl_import_balances},
  {"import", "orders", "FILE.csv" IMPORT_OPTS " [--jobs N] [--order-points | --no-order-points]"
   "\n\ncolumns: store,order_id,kind,member,amount,occurred_at[,points]" IMPORT_HELP
   IMPORT_JOBS_HELP
   "\n\nWith a points column, say whether members get those points: --order-points (a\n"
   "brand without a balances file) or --no-order-points (orders carry 0 points; the points\n"
   "come from the balances file).",
   "import historical purchases and refunds (row key: store, order_id, kind) (HQ)",
   import_order_flags, ctl_import_orders},
  {"report", "lifecycle", "[--window 3|6|12]" REPORT_OPTS
   "\n\nMembers by lifecycle stage (客户生命周期): new/old x one/repeat purchase in the last\n"
   "W months, silent (last purchase in the last 2W, not W), sleeping (4W, not 2W), lost,\n"
   "enrolled but never bought." REPORT_TIME_HELP,
   "members by lifecycle stage, window 3 (default), 6 or 12 months (HQ)", ctl_report_flags,
   ctl_report_lifecycle},
  {"report", "migration", "--from DATE [--window 3|6|12]" REPORT_OPTS
   "\n\nMembers by their stage as of --from and as of --as-of: the stage x stage matrix,\n"
   "and how many moved up (正向), down (反向) or stayed." REPORT_TIME_HELP,
   "how members moved between lifecycle stages from one date to another (HQ)",
   ctl_report_flags, ctl_report_migration},
  {"report", "rfm", "[--r-cuts D1,D2,D3,D4] [--f-cuts N1,..] [--m-cuts Y1,..] [--r-high DAYS]"
   " [--f-high VISITS] [--m-high YUAN]" REPORT_OPTS
   "\n\nMembers who bought in the last 12 months: R = days since the last purchase, F =\n"
   "visits (distinct days), M = net spend. Scores 1-5: R and M by rank (ceil(5k/n)), F in\n"
   "buckets 1, 2, 3, 4-5, 6+; --r-cuts etc. give 4 ascending cut-offs instead (R: days,\n"
   "score 5 within the first; F: visits and M: yuan, score 1 plus the cut-offs reached).\n"
   "The eight classes (重要价值 ... 一般挽留) by high/low R, F, M: high = better than the\n"
   "median, or than --r-high (fewer days), --f-high, --m-high (more)." REPORT_TIME_HELP,
   "RFM scores and the eight classes of the members who bought in the last 12 months (HQ)",
   ctl_report_flags, ctl_report_rfm},
  {"report", "kpi", "--from DATE --to DATE" REPORT_FILTERS " [--window 3|6|12]" REPORT_OPTS
   "\n\nA period's buyers, new buyers (first purchase ever in it), repeat purchase rate,\n"
   "active ARPU, new/old structure, retention (first half -> second half), wake-up and\n"
   "reactivation rates (members sleeping / lost the day before, by --window), enrolments,\n"
   "buyers by tier. Filters: the stores whose purchases count." REPORT_TIME_HELP,
   "a period's KPIs, for the brand or some stores, a channel or a region (HQ)",
   ctl_report_flags, ctl_report_kpi},
  {"report", "stores", "--from DATE --to DATE" REPORT_FILTERS REPORT_OPTS
   "\n\nPer store: members enrolled there, 老客回头率 (of those who bought there in the 12\n"
   "months before the period, the share who bought there again in it), repeat purchase\n"
   "rate there, net sales, points earned and redeemed there." REPORT_TIME_HELP,
   "each store's week (or any period): enrolments, 老客回头率, repeat rate, sales (HQ)",
   ctl_report_flags, ctl_report_stores},
  {"report", "liability", "[--from DATE]" REPORT_OPTS
   "\n\nThe points liability from --from (default: the first day of --as-of's month) to\n"
   "--as-of: opening, earned, imported, adjusted, cancelled redemptions, redeemed, clawed\n"
   "back by refunds, expired, merged, closing (what the lots hold: positive balances);\n"
   "opening + movements + change in points owed = closing. Points owed by members and\n"
   "pending points apart; the closing by expiry year; values in yuan at the program's\n"
   "point value (program set --point-value-millicents); breakage rate = expired /\n"
   "(redeemed + expired) over the last 12 months; the closing net of expected breakage.\n"
   "--csv: line,points,value_cents." REPORT_TIME_HELP,
   "the points liability of a period, its value and breakage (finance) (HQ)",
   ctl_report_flags, ctl_report_liability},
  {"report", "settlement", "[--from DATE]" REPORT_OPTS
   "\n\nCross-store settlement from --from (default: the first day of --as-of's month) to\n"
   "--as-of: points redeemed at store B drawn from lots earned at store A, in points and\n"
   "yuan (HQ: lots with no store, such as adjustments and imported balances, or redeemed\n"
   "for no store); a cancelled redemption is taken off on the cancellation's date. Each\n"
   "store's net position: others' points redeemed there less its points redeemed\n"
   "elsewhere. --csv: the cells." REPORT_TIME_HELP,
   "which store owes which for points earned at one and redeemed at another (HQ)",
   ctl_report_flags, ctl_report_settlement},
  {"report", "campaign", "CAMPAIGN_ID" REPORT_OPTS
   "\n\nThe earns a campaign was in force for, in its window up to --as-of: members,\n"
   "purchases, sales (and net of refunds), the points they would have made without any\n"
   "campaign, and the points this campaign added (its bonus; its multiplier where it was\n"
   "the highest in force). Exact: each earn records its campaign points and campaigns."
   REPORT_TIME_HELP,
   "a campaign's members, sales and the points it cost (HQ)", ctl_report_flags,
   ctl_report_campaign},
  {"health", NULL, "[SERVICE]", "check that the server is serving", NULL, health},
};

const int ctl_n_commands = sizeof ctl_commands / sizeof ctl_commands[0];
