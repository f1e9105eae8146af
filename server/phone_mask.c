/*
 * phone_mask.c - see phone_mask.h.
 */
#include "phone_mask.h"

#include <string.h>

void phone_mask(const char *phone, char *out, size_t size)
{
  size_t n = strlen(phone);
  if (size == 0)
    return;
  size_t i = 0;
  for (; i < n && i + 1 < size; i++)
    out[i] = (n > 7 && (i < 3 || i >= n - 4)) ? phone[i] : '*';
  out[i] = '\0';
}
