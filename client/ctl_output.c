/*
 * ctl_output.c - prints any response message, walking its protobuf-c descriptor:
 *
 *   text  one "name: value" line per field; a repeated message field becomes a table with
 *         a column per field. Money (fields ending in _cents) is shown in yuan, "199.90";
 *         enum values without their prefix, lowercased: TIER_VIP -> vip.
 *   JSON  one object, proto field names, int64 as numbers, enums by name.
 */
#include "ctl.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CELL_SIZE 128

static bool is_money(const ProtobufCFieldDescriptor *f)
{
  size_t n = strlen(f->name);
  return n > 6 && strcmp(f->name + n - 6, "_cents") == 0;
}

/* The name a text column shows: money fields say yuan, as their values do. */
static const char *display_name(const ProtobufCFieldDescriptor *f, char *buf, size_t size)
{
  if (!is_money(f))
    return f->name;
  snprintf(buf, size, "%.*s_yuan", (int)(strlen(f->name) - 6), f->name);
  return buf;
}

static const void *field_ptr(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
  return (const char *)m + f->offset;
}

/* oneof members and proto3 scalars are present when set / non-default. */
static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
    return *(const uint32_t *)((const char *)m + f->quantifier_offset) == f->id;
  return true;
}

static void format_enum(char *out, size_t size, const ProtobufCEnumDescriptor *e, int value,
                        bool json)
{
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(e, value);
  if (v == NULL) {
    snprintf(out, size, "%d", value);
    return;
  }
  if (json) {
    snprintf(out, size, "\"%s\"", v->name);
    return;
  }
  /* TIER_VIP -> vip: drop the prefix the enum's values share (its name, upper-cased). */
  const char *name = v->name;
  const char *underscore = strchr(name, '_');
  if (underscore != NULL && strcmp(e->short_name, "ServingStatus") != 0)
    name = underscore + 1;
  size_t i = 0;
  for (; name[i] && i + 1 < size; i++)
    out[i] = (char)tolower((unsigned char)name[i]);
  out[i] = '\0';
  if (strcmp(out, "unspecified") == 0)
    snprintf(out, size, "none");
}

/* A scalar field as text (not JSON). */
static void format_scalar(char *out, size_t size, const ProtobufCFieldDescriptor *f,
                          const void *p)
{
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64: {
    int64_t v = *(const int64_t *)p;
    if (is_money(f)) {
      uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;
      snprintf(out, size, "%s%" PRIu64 ".%02" PRIu64, v < 0 ? "-" : "", a / 100, a % 100);
    } else {
      snprintf(out, size, "%" PRId64, v);
    }
    break;
  }
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
    snprintf(out, size, "%" PRId32, *(const int32_t *)p);
    break;
  case PROTOBUF_C_TYPE_BOOL:
    snprintf(out, size, "%s", *(const protobuf_c_boolean *)p ? "yes" : "no");
    break;
  case PROTOBUF_C_TYPE_ENUM:
    format_enum(out, size, f->descriptor, *(const int *)p, false);
    break;
  case PROTOBUF_C_TYPE_STRING: {
    const char *s = *(const char *const *)p;
    snprintf(out, size, "%s", s ? s : "");
    break;
  }
  default:
    snprintf(out, size, "?");
  }
}

static void json_string(const char *s)
{
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", stdout); break;
    case '\\': fputs("\\\\", stdout); break;
    case '\n': fputs("\\n", stdout); break;
    case '\r': fputs("\\r", stdout); break;
    case '\t': fputs("\\t", stdout); break;
    default:
      if (*p < 0x20)
        printf("\\u%04x", *p);
      else
        putchar(*p);
    }
  }
  putchar('"');
}

static void json_message(const ProtobufCMessage *m);

static void json_value(const ProtobufCFieldDescriptor *f, const void *p)
{
  char cell[CELL_SIZE];
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING:
    json_string(*(const char *const *)p ? *(const char *const *)p : "");
    break;
  case PROTOBUF_C_TYPE_MESSAGE:
    json_message(*(const ProtobufCMessage *const *)p);
    break;
  case PROTOBUF_C_TYPE_BOOL:
    fputs(*(const protobuf_c_boolean *)p ? "true" : "false", stdout);
    break;
  case PROTOBUF_C_TYPE_ENUM:
    format_enum(cell, sizeof cell, f->descriptor, *(const int *)p, true);
    fputs(cell, stdout);
    break;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
    printf("%" PRId64, *(const int64_t *)p);
    break;
  default:
    format_scalar(cell, sizeof cell, f, p);
    fputs(cell, stdout);
  }
}

static size_t element_size(const ProtobufCFieldDescriptor *f)
{
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
  case PROTOBUF_C_TYPE_DOUBLE:
    return 8;
  case PROTOBUF_C_TYPE_STRING:
  case PROTOBUF_C_TYPE_MESSAGE:
  case PROTOBUF_C_TYPE_BYTES:
    return sizeof(void *);
  case PROTOBUF_C_TYPE_BOOL:
    return sizeof(protobuf_c_boolean);
  default:
    return 4;
  }
}

/* A field of m as text: a scalar, or the elements of a repeated scalar joined by ",". */
static void format_field(char *out, size_t size, const ProtobufCFieldDescriptor *f,
                         const ProtobufCMessage *m)
{
  if (f->label != PROTOBUF_C_LABEL_REPEATED) {
    format_scalar(out, size, f, field_ptr(m, f));
    return;
  }
  size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
  const char *items = *(const char *const *)field_ptr(m, f);
  size_t used = 0;
  out[0] = '\0';
  for (size_t k = 0; k < n && used + 1 < size; k++) {
    char cell[CELL_SIZE];
    format_scalar(cell, sizeof cell, f, items + k * element_size(f));
    used += (size_t)snprintf(out + used, size - used, "%s%s", k ? "," : "", cell);
  }
}

static void json_message(const ProtobufCMessage *m)
{
  const ProtobufCMessageDescriptor *d = m->descriptor;
  bool first = true;
  putchar('{');
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (!field_present(m, f))
      continue;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED &&
        *(const ProtobufCMessage *const *)field_ptr(m, f) == NULL)
      continue;
    printf("%s\"%s\":", first ? "" : ",", f->name);
    first = false;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
      const char *items = *(const char *const *)field_ptr(m, f);
      putchar('[');
      for (size_t k = 0; k < n; k++) {
        if (k > 0)
          putchar(',');
        json_value(f, items + k * element_size(f));
      }
      putchar(']');
    } else {
      json_value(f, field_ptr(m, f));
    }
  }
  putchar('}');
}

/* A repeated message field as a table: a header of field names, a row per element. */
static void text_table(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *const *items,
                       size_t n)
{
  const ProtobufCMessageDescriptor *d = f->descriptor;
  size_t width[32] = {0};
  unsigned cols = d->n_fields < 32 ? d->n_fields : 32;
  char cell[CELL_SIZE];
  char label[64];
  for (unsigned c = 0; c < cols; c++)
    width[c] = strlen(display_name(&d->fields[c], label, sizeof label));
  for (size_t r = 0; r < n; r++) {
    for (unsigned c = 0; c < cols; c++) {
      format_field(cell, sizeof cell, &d->fields[c], items[r]);
      if (strlen(cell) > width[c])
        width[c] = strlen(cell);
    }
  }
  printf("%s:%s\n", f->name, n == 0 ? " (none)" : "");
  if (n == 0)
    return;
  fputs("  ", stdout);
  for (unsigned c = 0; c < cols; c++)
    printf("%-*s%s", c + 1 < cols ? (int)width[c] : 0,
           display_name(&d->fields[c], label, sizeof label), c + 1 < cols ? "  " : "\n");
  for (size_t r = 0; r < n; r++) {
    fputs("  ", stdout);
    for (unsigned c = 0; c < cols; c++) {
      format_field(cell, sizeof cell, &d->fields[c], items[r]);
      printf("%-*s%s", c + 1 < cols ? (int)width[c] : 0, cell, c + 1 < cols ? "  " : "\n");
    }
  }
}

static void text_message(const ProtobufCMessage *m)
{
  const ProtobufCMessageDescriptor *d = m->descriptor;
  size_t name_width = 0;
  char label[64];
  for (unsigned i = 0; i < d->n_fields; i++) {
    size_t n = strlen(display_name(&d->fields[i], label, sizeof label));
    if (n > name_width)
      name_width = n;
  }
  char cell[CELL_SIZE];
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (!field_present(m, f))
      continue;
    if (f->label == PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE) {
      size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
      text_table(f, *(const ProtobufCMessage *const *const *)field_ptr(m, f), n);
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
      const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)field_ptr(m, f);
      if (sub != NULL) {
        printf("%s:\n", f->name);
        text_message(sub);
      }
    } else {
      format_field(cell, sizeof cell, f, m);
      printf("%-*s  %s\n", (int)name_width, display_name(f, label, sizeof label), cell);
    }
  }
}

static void csv_cell(const char *s)
{
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, stdout);
    return;
  }
  putchar('"');
  for (; *s; s++) {
    if (*s == '"')
      putchar('"');
    putchar(*s);
  }
  putchar('"');
}

void ctl_print_csv(const ProtobufCMessage *message, bool header)
{
  const ProtobufCMessageDescriptor *d = message->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
      continue;
    const ProtobufCMessageDescriptor *row = f->descriptor;
    size_t n = *(const size_t *)((const char *)message + f->quantifier_offset);
    const ProtobufCMessage *const *items = *(const ProtobufCMessage *const *const *)field_ptr(message, f);
    char cell[CELL_SIZE];
    for (unsigned c = 0; header && c < row->n_fields; c++)
      printf("%s%s", row->fields[c].name, c + 1 < row->n_fields ? "," : "\n");
    for (size_t r = 0; r < n; r++) {
      for (unsigned c = 0; c < row->n_fields; c++) {
        const ProtobufCFieldDescriptor *cf = &row->fields[c];
        const void *p = field_ptr(items[r], cf);
        if (cf->type == PROTOBUF_C_TYPE_INT64 && cf->label != PROTOBUF_C_LABEL_REPEATED)
          snprintf(cell, sizeof cell, "%" PRId64, *(const int64_t *)p); /* cents stay cents */
        else
          format_field(cell, sizeof cell, cf, items[r]);
        csv_cell(cell);
        putchar(c + 1 < row->n_fields ? ',' : '\n');
      }
    }
    return; /* the first list of the message */
  }
}

void ctl_print(const ProtobufCMessage *message, bool json)
{
  if (json) {
    json_message(message);
    putchar('\n');
  } else {
    text_message(message);
  }
}
