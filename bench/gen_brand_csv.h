/*
 * gen_brand_csv.h - a buffered CSV writer for bench/gen-brand: RFC 4180 fields, integers,
 * yuan from integer cents, dates and RFC 3339 times, without printf or floating point.
 *
 * Errors are sticky: a failed write marks the writer, and gb_csv_close() reports it.
 *
 * INTERFACE ROUTINES
 *   gb_csv_open / gb_csv_close   create DIR/NAME; flush, close and report any error
 *   gb_csv_field                 a text field, quoted when it holds , " CR or LF
 *   gb_csv_int, gb_csv_yuan      an integer; cents as yuan with two decimals ("199.50")
 *   gb_csv_date, gb_csv_time     YYYY-MM-DD; YYYY-MM-DDTHH:MM:SS+08:00
 *   gb_csv_comma, gb_csv_newline separators
 */
#ifndef GEN_BRAND_CSV_H
#define GEN_BRAND_CSV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct gb_csv {
  FILE *f;
  char path[4096];
  char buf[1 << 16];
  size_t len;
  uint64_t rows;   /* lines written after the header */
  uint64_t bytes;  /* flushed so far */
  bool failed;
} gb_csv;

/* Creates dir/name and writes the header line. 0, or -1 with a message on stderr. */
int gb_csv_open(gb_csv *w, const char *dir, const char *name, const char *header)
    __attribute__((warn_unused_result));
/* Flushes and closes; 0, or -1 with a message on stderr when anything failed. */
int gb_csv_close(gb_csv *w) __attribute__((warn_unused_result));

void gb_csv_field(gb_csv *w, const char *s);
void gb_csv_int(gb_csv *w, int64_t n);
void gb_csv_yuan(gb_csv *w, int64_t cents);  /* cents >= 0 */
void gb_csv_date(gb_csv *w, int32_t day);
void gb_csv_time(gb_csv *w, int64_t local_seconds);
void gb_csv_comma(gb_csv *w);
void gb_csv_newline(gb_csv *w);

#endif
