/*
 * test_import_csv.c - what loyaltyctl import reads: the CSV reader (client/csv.c, RFC 4180)
 * and amounts in yuan to integer cents (validate_yuan). The RFC 3339 times the files carry
 * are read by business_time.c (unit_rfc3339).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "csv.h"
#include "unit.h"
#include "validate.h"

/* The records of text, as "line:field|field;" each, or "error: ..." at a syntax error. */
static const char *records(const char *text)
{
  static char out[1024];
  FILE *f = fmemopen((void *)text, strlen(text), "r");
  csv_reader *r = csv_open(f);
  csv_record rec;
  int got;
  size_t n = 0;
  out[0] = '\0';
  while ((got = csv_next(r, &rec)) == 1) {
    n += (size_t)snprintf(out + n, sizeof out - n, "%ld:", rec.line);
    for (size_t i = 0; i < rec.n; i++)
      n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", i ? "|" : "", rec.fields[i]);
    n += (size_t)snprintf(out + n, sizeof out - n, ";");
  }
  if (got < 0)
    snprintf(out + n, sizeof out - n, "error: %s", csv_error(r));
  csv_close(r);
  fclose(f);
  return out;
}

#define CHECK_CSV(text, want) \
  CHECK(strcmp(records(text), want) == 0, "got \"%s\", want \"%s\"", records(text), want)

static void csv_cases(void)
{
  CHECK_CSV("a,b,c\n1,2,3\n", "1:a|b|c;2:1|2|3;");
  CHECK_CSV("a,b\r\n1,2\r\n", "1:a|b;2:1|2;");
  CHECK_CSV("a,b\n1,2", "1:a|b;2:1|2;");              /* no newline at the end */
  CHECK_CSV("a,,c\n,,\n", "1:a||c;2:||;");               /* empty fields */
  CHECK_CSV("\"x, y\",\"say \"\"hi\"\"\"\n", "1:x, y|say \"hi\";");
  CHECK_CSV("\"two\nlines\",b\nnext,c\n", "1:two\nlines|b;3:next|c;"); /* line numbers */
  CHECK_CSV("\"\",x\n", "1:|x;");                        /* a quoted empty field */
  CHECK_CSV("a\n\nb\n\r\nc\n", "1:a;3:b;5:c;");          /* blank lines skipped */
  CHECK_CSV("\xEF\xBB\xBFphone,name\n", "1:phone|name;"); /* byte order mark */
  CHECK_CSV("小王,tmall_nick:小王\n", "1:小王|tmall_nick:小王;");
  CHECK_CSV("a,\"open\nb\n", "error: line 1: unterminated quoted field");
  CHECK_CSV("ok\n\"a\"b,c\n", "1:ok;error: line 2: a character after a closing quote");
  CHECK_CSV("ok\na\"b,c\n", "1:ok;error: line 2: a quote inside an unquoted field");
  CHECK_CSV("", "");
}

static void csv_write_cases(void)
{
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  csv_write_field(f, "plain");
  putc(',', f);
  csv_write_field(f, "a,b");
  putc(',', f);
  csv_write_field(f, "say \"hi\"");
  fclose(f);
  CHECK(strcmp(text, "plain,\"a,b\",\"say \"\"hi\"\"\"") == 0, "got %s", text);
  CHECK(strcmp(records(text), "1:plain|a,b|say \"hi\";") == 0, "round trip %s", records(text));
  free(text);
}

static void yuan_cases(void)
{
  static const struct {
    const char *text;
    bool ok;
    int64_t cents;
  } cases[] = {
    {"199", true, 19900},   {"199.5", true, 19950},  {"199.00", true, 19900},
    {"0.01", true, 1},      {"0", true, 0},          {"999999999999.99", true, 99999999999999},
    {"0.1", true, 10},      {"12.345", false, 0},    {"-5", false, 0},
    {"1,000", false, 0},    {".5", false, 0},        {"5.", false, 0},
    {"", false, 0},         {"1e3", false, 0},       {" 5", false, 0},
    {"1000000000000", false, 0}, {"19.9 ", false, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t cents = -1;
    bool ok = validate_yuan(cases[i].text, &cents);
    CHECK(ok == cases[i].ok, "validate_yuan(\"%s\") = %d", cases[i].text, ok);
    if (ok && cases[i].ok)
      CHECK_EQ_INT(cents, cases[i].cents);
  }
}

int main(void)
{
  csv_cases();
  csv_write_cases();
  yuan_cases();
  UNIT_DONE();
}
