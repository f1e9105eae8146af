/*
 * csv.h - a small CSV reader (RFC 4180): comma separated, fields with a comma, quote or
 * line break quoted with "...", quotes doubled inside; lines end in \n or \r\n. A UTF-8 byte
 * order mark at the start and blank lines are skipped.
 *
 * INTERFACE ROUTINES
 *   csv_open / csv_close   a reader over a FILE (borrowed: the caller closes it)
 *   csv_next               the next record: its fields and the line it starts on
 *   csv_write_field        one field, quoted when it needs to be
 *
 * Error convention: csv_next returns 1 (a record), 0 (end of file) or -1 (a syntax error,
 * described by csv_error, naming the line).
 */
#ifndef LOYALTY_CSV_H
#define LOYALTY_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef struct csv_reader csv_reader;

typedef struct csv_record {
  char **fields; /* owned by the reader: valid until the next csv_next or csv_close */
  size_t n;
  long line;     /* the line the record starts on (the first line is 1) */
} csv_record;

/* Returns a reader of f, which must stay open while it is used. Never NULL. */
csv_reader *csv_open(FILE *f);
void csv_close(csv_reader *r);

int csv_next(csv_reader *r, csv_record *record);
/* Why csv_next returned -1 ("line 12: unterminated quoted field"). */
const char *csv_error(const csv_reader *r);

/* Writes s as one field, quoted if it holds a comma, quote, CR or LF. */
void csv_write_field(FILE *out, const char *s);

#endif
