/*
 * import.c - Admin.ImportRows (HQ keys only): one batch of a file imported from a brand's
 * old CRM or POS (stores, members, opening balances, orders; loyaltyctl import, docs/import.md).
 *
 * Each row's fields are checked here, as every request field is (validate.c): a row that
 * fails is not sent on but rejected, with its line and the check's message. The good rows go
 * to loyalty_import (db/functions/import.sql) as one 2-d text array of columns, in one
 * statement and one transaction, with the lines refused here; it applies the rules that need
 * the database (unknown store or member, a phone known with another name, a refund of an
 * unknown purchase...) and moves the run's last line, so a batch sent again is skipped.
 *
 * The client sends batches small enough for --max-message-bytes (loyaltyctl stays under
 * 60,000 bytes), so the limit needs no exception for this method.
 *
 * INTERFACE ROUTINES
 *   import_methods   the Admin methods bound here
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "business_time.h"
#include "handlers.h"
#include "services.h"
#include "validate.h"

#define IMPORT_MAX_ROWS 10000
#define IMPORT_MAX_FIELDS 8 /* the most columns of a kind (orders: 7) */
#define IMPORT_MAX_PARTS 64

static const db_statement stmt_import = {
  .name = "import",
  .sql = "WITH r AS (SELECT * FROM loyalty_import($1, $2, $3, $4, $5::boolean, $6::bigint[],"
         "                                       $7::text[], $8::bigint[], $9::text[]))"
         " SELECT r.imported, r.skipped, r.imported_amount_cents, r.imported_points,"
         "        r.last_line, j.line, j.reason"
         " FROM r LEFT JOIN LATERAL unnest(r.rejected_lines, r.rejected_reasons)"
         "   AS j(line, reason) ON true",
  .n_params = 9,
};

/* A row's fields as loyalty_import takes them: checked, and some rewritten (amounts in cents,
 * channels by number, an absent points column 0). check returns NULL, or why the row is
 * rejected; it may replace fields[i] with a string in the arena. */
typedef struct import_kind {
  const char *name; /* import_runs.kind */
  size_t n_fields;
  const char *(*check)(rpc_ctx *ctx, const char **fields);
} import_kind;

/* A member as a file names it: an 11-digit phone, id:MEMBER_ID, or kind:value. */
static const char *check_member_ref(const char *ref)
{
  if (ref[0] == '\0')
    return "member is required";
  if (isdigit((unsigned char)ref[0])) {
    const char *bad = validate_phone(ref);
    return bad != NULL ? "member: phone must be a mainland mobile number: 11 digits starting "
                         "with 13-19"
                       : NULL;
  }
  const char *colon = strchr(ref, ':');
  if (colon == NULL)
    return "member must be a phone, id:MEMBER_ID or kind:value (an identity)";
  if (strncmp(ref, "id:", 3) == 0) {
    char *end;
    long long id = strtoll(ref + 3, &end, 10);
    return ref[3] != '\0' && *end == '\0' && id > 0 ? NULL
                                                    : "member id:N needs a positive member_id";
  }
  char kind[40];
  size_t n = (size_t)(colon - ref);
  if (n >= sizeof kind)
    return "identity kind must be 1-32 characters of [a-z0-9_]";
  memcpy(kind, ref, n);
  kind[n] = '\0';
  return validate_identity(kind, colon + 1);
}

/* A whole number from min to max, as decimal text. */
static bool parse_count(const char *s, int64_t min, int64_t max, int64_t *out)
{
  char *end;
  if (s[0] == '\0' || !isdigit((unsigned char)s[0]))
    return false;
  long long v = strtoll(s, &end, 10);
  if (*end != '\0' || v < min || v > max)
    return false;
  *out = v;
  return true;
}

static const char *const channel_names[] = {"", "pos", "tmall", "jd", "wechat_mini", "web",
                                            "other"};

/* store_code, name, channel, region */
static const char *check_store(rpc_ctx *ctx, const char **f)
{
  const char *bad = validate_store_code(f[0]);
  if (bad != NULL)
    return bad;
  if (f[1][0] == '\0' || !validate_text(f[1], 100))
    return "name must be 1-100 bytes of UTF-8 text";
  size_t channel = 0;
  for (size_t i = 1; i < sizeof channel_names / sizeof channel_names[0]; i++) {
    if (strcmp(f[2], channel_names[i]) == 0)
      channel = i;
  }
  if (channel == 0)
    return "channel must be pos, tmall, jd, wechat_mini, web or other";
  f[2] = handler_int64(ctx, (int64_t)channel);
  if (!validate_text(f[3], 64))
    return "region must be at most 64 bytes of UTF-8 text";
  return NULL;
}

/* An RFC 3339 time (business_time.c, the one reader) as UTC text for PostgreSQL, which
 * takes offsets only up to 15:59; NULL if s is not one. */
static const char *utc_time(rpc_ctx *ctx, const char *s)
{
  int64_t t;
  if (business_time_parse(s, &t) != 0)
    return NULL;
  char *out = arena_alloc(ctx->arena, BUSINESS_TIME_TEXT);
  business_time_format(t, out);
  return out;
}

/* phone, name, birthday, identities, enrolled_store, enrolled_at */
static const char *check_member(rpc_ctx *ctx, const char **f)
{
  const char *bad = f[0][0] != '\0' ? validate_phone(f[0]) : NULL;
  if (bad == NULL)
    bad = validate_name(f[1]);
  if (bad == NULL)
    bad = validate_birthday(f[2], time(NULL));
  if (bad != NULL)
    return bad;
  if (f[0][0] == '\0' && f[3][0] == '\0')
    return "a member needs a phone or an identity";
  /* kind:value items separated by '|' */
  for (const char *item = f[3]; item[0] != '\0';) {
    const char *end = strchr(item, '|');
    size_t n = end ? (size_t)(end - item) : strlen(item);
    char buf[200];
    if (n >= sizeof buf)
      return "identity value must be 1-128 bytes of text";
    memcpy(buf, item, n);
    buf[n] = '\0';
    char *colon = strchr(buf, ':');
    if (colon == NULL)
      return "identities must be kind:value items separated by |";
    *colon = '\0';
    if ((bad = validate_identity(buf, colon + 1)) != NULL)
      return bad;
    if (end == NULL)
      break;
    item = end + 1;
    if (item[0] == '\0')
      return "identities must be kind:value items separated by |";
  }
  if (f[4][0] != '\0' && (bad = validate_store_code(f[4])) != NULL)
    return "enrolled_store must be a store_code: 1-32 characters of [A-Za-z0-9_-]";
  if (f[5][0] != '\0' && (f[5] = utc_time(ctx, f[5])) == NULL)
    return "enrolled_at must be an RFC 3339 time, like 2023-05-01T10:00:00+08:00";
  return NULL;
}

/* member, points, expires_on */
static const char *check_balance(rpc_ctx *ctx, const char **f)
{
  (void)ctx;
  int64_t points;
  const char *bad = check_member_ref(f[0]);
  if (bad != NULL)
    return bad;
  if (!parse_count(f[1], 1, VALIDATE_MAX_POINTS, &points))
    return "points must be a whole number from 1 to 1,000,000,000";
  if (!validate_date(f[2]))
    return "expires_on must be a real date as YYYY-MM-DD";
  return NULL;
}

/* store, order_id, kind, member, amount, occurred_at, points */
static const char *check_order(rpc_ctx *ctx, const char **f)
{
  int64_t cents, points = 0;
  const char *bad = validate_store_code(f[0]);
  if (bad == NULL)
    bad = validate_order_id(f[1], true);
  if (bad != NULL)
    return bad;
  if (strcmp(f[2], "purchase") != 0 && strcmp(f[2], "refund") != 0)
    return "kind must be purchase or refund";
  if ((bad = check_member_ref(f[3])) != NULL)
    return bad;
  if (!validate_yuan(f[4], &cents))
    return "amount must be a positive number of yuan with at most two decimals, like 199.90";
  if ((bad = validate_amount_cents(cents)) != NULL)
    return bad;
  f[4] = handler_int64(ctx, cents);
  if ((f[5] = utc_time(ctx, f[5])) == NULL)
    return "occurred_at must be an RFC 3339 time, like 2023-05-01T10:00:00+08:00";
  if (f[6][0] != '\0' && !parse_count(f[6], 0, VALIDATE_MAX_POINTS, &points))
    return "points must be empty or a whole number from 0 to 1,000,000,000";
  f[6] = handler_int64(ctx, strcmp(f[2], "refund") == 0 ? 0 : points);
  return NULL;
}

static const import_kind kinds[] = {
  [LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_STORES] = {"stores", 4, check_store},
  [LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_MEMBERS] = {"members", 6, check_member},
  [LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_BALANCES] = {"balances", 3, check_balance},
  [LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_ORDERS] = {"orders", 7, check_order},
};

static bool is_sha256_hex(const char *s)
{
  if (strlen(s) != 64)
    return false;
  for (const char *p = s; *p; p++) {
    if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
      return false;
  }
  return true;
}

/* Text of a bigint[] of v[0..n-1], in the arena. */
static const char *int64_array(rpc_ctx *ctx, const int64_t *v, size_t n)
{
  char *out = arena_alloc(ctx->arena, n * 21 + 3);
  char *p = out;
  *p++ = '{';
  for (size_t i = 0; i < n; i++)
    p += sprintf(p, "%s%lld", i > 0 ? "," : "", (long long)v[i]);
  *p++ = '}';
  *p = '\0';
  return out;
}

static grpc_status_code import_rows(rpc_ctx *ctx, const ProtobufCMessage *request,
                                    ProtobufCMessage **response)
{
  const Loyalty__V1__ImportRowsRequest *req = (const Loyalty__V1__ImportRowsRequest *)request;
  if (req->kind <= LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_UNSPECIFIED ||
      req->kind > LOYALTY__V1__IMPORT_KIND__IMPORT_KIND_ORDERS)
    return handler_invalid(ctx, "kind is required: stores, members, balances or orders");
  if (!is_sha256_hex(req->file_sha256))
    return handler_invalid(ctx, "file_sha256 must be 64 lowercase hex digits");
  if (req->n_rows > IMPORT_MAX_ROWS)
    return handler_invalid(ctx, "at most 10000 rows per call");
  if (req->parts < 0 || req->parts > IMPORT_MAX_PARTS ||
      (req->parts > 1 ? req->part < 1 || req->part > req->parts : req->part != 0))
    return handler_invalid(ctx, "parts must be 0-64, and part 1..parts (0 when parts is 0 or 1)");
  const char *part = req->parts > 1 ? arena_printf(ctx->arena, "%d/%d", req->part, req->parts)
                                    : "";
  const import_kind *kind = &kinds[req->kind];
  size_t n = req->n_rows;
  int64_t *good_lines = arena_alloc(ctx->arena, (n + 1) * sizeof *good_lines);
  int64_t *bad_lines = arena_alloc(ctx->arena, (n + 1) * sizeof *bad_lines);
  char **bad_reasons = arena_alloc(ctx->arena, (n + 1) * sizeof *bad_reasons);
  /* The good rows' checked fields, column by column: column[f][i] is field f of good row i. */
  char **column[IMPORT_MAX_FIELDS];
  for (size_t f = 0; f < kind->n_fields; f++)
    column[f] = arena_alloc(ctx->arena, (n + 1) * sizeof *column[f]);
  size_t n_good = 0, n_bad = 0;
  int64_t previous = 1; /* the header's line */
  for (size_t i = 0; i < n; i++) {
    const Loyalty__V1__ImportRow *row = req->rows[i];
    if (row->line <= previous)
      return handler_invalid(ctx, "rows must come in increasing line order, after line 1");
    previous = row->line;
    const char *why = NULL;
    if (row->n_fields != kind->n_fields) {
      why = arena_printf(ctx->arena, "%zu fields, %s rows have %zu", row->n_fields,
                         kind->name, kind->n_fields);
    } else {
      const char **fields = arena_alloc(ctx->arena, kind->n_fields * sizeof *fields);
      for (size_t f = 0; f < kind->n_fields; f++)
        fields[f] = row->fields[f];
      why = kind->check(ctx, fields);
      if (why == NULL) {
        for (size_t f = 0; f < kind->n_fields; f++)
          column[f][n_good] = (char *)fields[f];
        good_lines[n_good++] = row->line;
      }
    }
    if (why != NULL) {
      bad_lines[n_bad] = row->line;
      bad_reasons[n_bad++] = (char *)why;
    }
  }
  /* The good rows as one 2-d array of columns, {{column 1},{column 2},...}: SQL unnests
   * each column once (a row-major array would be read element by element, each read
   * walking the array from its start). No rows: '{}'. */
  const char *fields = "{}";
  if (n_good > 0) {
    const char *columns[IMPORT_MAX_FIELDS];
    size_t size = 3;
    for (size_t f = 0; f < kind->n_fields; f++) {
      columns[f] = handler_text_array(ctx, column[f], n_good);
      size += strlen(columns[f]) + 1;
    }
    char *p = arena_alloc(ctx->arena, size);
    fields = p;
    *p++ = '{';
    for (size_t f = 0; f < kind->n_fields; f++)
      p += sprintf(p, "%s%s", f > 0 ? "," : "", columns[f]);
    *p++ = '}';
    *p = '\0';
  }

  const char *params[] = {handler_principal(ctx),
                          kind->name,
                          req->file_sha256,
                          part,
                          req->dry_run ? "true" : "false",
                          int64_array(ctx, good_lines, n_good),
                          fields,
                          int64_array(ctx, bad_lines, n_bad),
                          handler_text_array(ctx, bad_reasons, n_bad)};
  PGresult *r = handler_query(ctx, &stmt_import, params);
  if (r == NULL)
    return ctx->status;
  Loyalty__V1__ImportRowsResponse *out = arena_alloc(ctx->arena, sizeof *out);
  loyalty__v1__import_rows_response__init(out);
  out->imported = handler_get_int64(r, 0, 0);
  out->skipped = handler_get_int64(r, 0, 1);
  out->imported_amount_cents = handler_get_int64(r, 0, 2);
  out->imported_points = handler_get_int64(r, 0, 3);
  out->last_line = handler_get_int64(r, 0, 4);
  int rows = PQgetisnull(r, 0, 5) ? 0 : PQntuples(r);
  out->rejected = arena_alloc(ctx->arena, ((size_t)rows + 1) * sizeof *out->rejected);
  for (int i = 0; i < rows; i++) {
    Loyalty__V1__ImportRejection *j = arena_alloc(ctx->arena, sizeof *j);
    loyalty__v1__import_rejection__init(j);
    j->line = handler_get_int64(r, i, 5);
    j->reason = handler_get_text(ctx, r, i, 6);
    out->rejected[i] = j;
  }
  out->n_rejected = (size_t)rows;
  *response = &out->base;
  return GRPC_STATUS_OK;
}

static const rpc_method_binding methods[] = {
  {"ImportRows", import_rows, RPC_SLOW},
};

const rpc_bindings import_methods = RPC_BINDINGS(methods);
