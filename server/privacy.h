/*
 * privacy.h - personal data shown to those who need it. Pure functions.
 *
 * INTERFACE ROUTINES
 *   privacy_mask_phone   13812341234 -> 138****1234
 */
#ifndef LOYALTY_PRIVACY_H
#define LOYALTY_PRIVACY_H

#include <stddef.h>

/* Writes phone with all but its first 3 and last 4 characters replaced by '*' into out
 * (size bytes, NUL-terminated, truncated if too small). A phone of 7 characters or fewer is
 * masked entirely; "" stays "". */
void privacy_mask_phone(const char *phone, char *out, size_t size);

#endif
