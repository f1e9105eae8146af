/*
 * csv.c - the CSV reader (see csv.h): a byte-by-byte state machine into one growing buffer
 * of NUL-terminated fields.
 */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

struct csv_reader {
  FILE *f;
  long line;       /* the line of the next byte */
  char *buf;       /* the record's fields, each NUL-terminated */
  size_t size, cap;
  size_t *starts;  /* offset of each field in buf */
  char **fields;
  size_t n, cap_fields;
  char error[128];
  int started;     /* the byte order mark was looked for */
};

static void *xrealloc(void *p, size_t size)
{
  p = realloc(p, size);
  if (p == NULL)
    abort(); /* out of memory: nothing sensible to do in a CLI */
  return p;
}

csv_reader *csv_open(FILE *f)
{
  csv_reader *r = calloc(1, sizeof *r);
  if (r == NULL)
    abort();
  r->f = f;
  r->line = 1;
  return r;
}

void csv_close(csv_reader *r)
{
  if (r == NULL)
    return;
  free(r->buf);
  free(r->starts);
  free(r->fields);
  free(r);
}

const char *csv_error(const csv_reader *r) { return r->error; }

static void put(csv_reader *r, char c)
{
  if (r->size == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 256;
    r->buf = xrealloc(r->buf, r->cap);
  }
  r->buf[r->size++] = c;
}

static void start_field(csv_reader *r)
{
  if (r->n == r->cap_fields) {
    r->cap_fields = r->cap_fields ? r->cap_fields * 2 : 16;
    r->starts = xrealloc(r->starts, r->cap_fields * sizeof *r->starts);
    r->fields = xrealloc(r->fields, r->cap_fields * sizeof *r->fields);
  }
  r->starts[r->n++] = r->size;
}

int csv_next(csv_reader *r, csv_record *record)
{
  FILE *f = r->f;
  int c;
  if (!r->started) {
    r->started = 1;
    c = getc(f);
    if (c == 0xEF) {
      if (getc(f) != 0xBB || getc(f) != 0xBF) {
        snprintf(r->error, sizeof r->error, "line 1: not UTF-8 text");
        return -1;
      }
    } else if (c != EOF) {
      ungetc(c, f);
    }
  }
  for (;;) { /* one record; blank lines are skipped */
    r->size = 0;
    r->n = 0;
    long first_line = r->line;
    c = getc_unlocked(f);
    if (c == EOF)
      return 0;
    if (c == '\n') {
      r->line++;
      continue;
    }
    if (c == '\r') {
      int next = getc_unlocked(f);
      if (next == '\n') {
        r->line++;
        continue;
      }
      ungetc(next, f);
    }
    start_field(r);
    for (;;) {
      if (c == '"' && r->size == r->starts[r->n - 1]) { /* a quoted field */
        long opened = r->line;
        for (;;) {
          c = getc_unlocked(f);
          if (c == EOF) {
            snprintf(r->error, sizeof r->error, "line %ld: unterminated quoted field", opened);
            return -1;
          }
          if (c == '"') {
            c = getc_unlocked(f);
            if (c != '"')
              break;
          } else if (c == '\n') {
            r->line++;
          }
          put(r, (char)c);
        }
        if (c != ',' && c != '\n' && c != '\r' && c != EOF) {
          snprintf(r->error, sizeof r->error, "line %ld: a character after a closing quote",
                   r->line);
          return -1;
        }
      }
      if (c == ',') {
        put(r, '\0');
        start_field(r);
      } else if (c == '\n' || c == EOF) {
        break;
      } else if (c == '\r') {
        int next = getc_unlocked(f);
        if (next == '\n' || next == EOF)
          break;
        ungetc(next, f);
        put(r, '\r');
      } else if (c == '"') {
        snprintf(r->error, sizeof r->error, "line %ld: a quote inside an unquoted field",
                 r->line);
        return -1;
      } else {
        put(r, (char)c);
      }
      c = getc_unlocked(f);
    }
    if (c != EOF)
      r->line++;
    put(r, '\0');
    for (size_t i = 0; i < r->n; i++)
      r->fields[i] = r->buf + r->starts[i];
    record->fields = r->fields;
    record->n = r->n;
    record->line = first_line;
    return 1;
  }
}

void csv_write_field(FILE *out, const char *s)
{
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, out);
    return;
  }
  putc('"', out);
  for (; *s; s++) {
    if (*s == '"')
      putc('"', out);
    putc(*s, out);
  }
  putc('"', out);
}
