/*
 * phone_mask.h - a member's phone as a store key sees it: 138****1234. Pure functions.
 *
 * INTERFACE ROUTINES
 *   phone_mask   13812341234 -> 138****1234
 */
#ifndef LOYALTY_PHONE_MASK_H
#define LOYALTY_PHONE_MASK_H

#include <stddef.h>

/* Writes phone with all but its first 3 and last 4 characters replaced by '*' into out
 * (size bytes, NUL-terminated, truncated if too small). A phone of 7 characters or fewer is
 * masked entirely; "" stays "". */
void phone_mask(const char *phone, char *out, size_t size);

#endif
