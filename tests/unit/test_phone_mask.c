/*
 * test_phone_mask.c - phone masking.
 */
#include "phone_mask.h"
#include "unit.h"

static void expect(const char *phone, const char *want)
{
  char out[32];
  phone_mask(phone, out, sizeof out);
  CHECK(strcmp(out, want) == 0, "\"%s\": got \"%s\", want \"%s\"", phone, out, want);
}

int main(void)
{
  expect("13812341234", "138****1234");
  expect("19900000000", "199****0000");
  expect("", "");
  expect("1234567", "*******");
  expect("12345678", "123*5678");
  char small[6];
  phone_mask("13812341234", small, sizeof small);
  CHECK(strcmp(small, "138**") == 0, "truncated: got \"%s\"", small);
  UNIT_DONE();
}
