/*
 * privacy.c - see privacy.h.
 */
#include "privacy.h"

#include <string.h>

void privacy_mask_phone(const char *phone, char *out, size_t size)
{
  size_t n = strlen(phone);
  if (size == 0)
    return;
  size_t i = 0;
  for (; i < n && i + 1 < size; i++)
    out[i] = (n > 7 && (i < 3 || i >= n - 4)) ? phone[i] : '*';
  out[i] = '\0';
}
