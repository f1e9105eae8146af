/*
 * validate.h - checks of request fields. Pure functions: no I/O, no allocation.
 *
 * Each validate_<field> returns NULL when the value is acceptable, or a short lowercase
 * message saying what is wrong (a static string), which becomes the INVALID_ARGUMENT status
 * message (handler_invalid). The two generic checks, validate_date and validate_text, are
 * predicates (true: acceptable): the field they check, hence the message, is the caller's.
 * None sets a status or logs (see the error convention in handlers.h).
 *
 * INTERFACE ROUTINES
 *   validate_request_id, validate_order_id, validate_phone, validate_name, validate_birthday,
 *   validate_identity, validate_store_code, validate_amount_cents, validate_points,
 *   validate_reason, validate_occurred_at, validate_date, validate_text, validate_yuan
 */
#ifndef LOYALTY_VALIDATE_H
#define LOYALTY_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define VALIDATE_MAX_AMOUNT_CENTS INT64_C(10000000000) /* 100 million yuan */
#define VALIDATE_MAX_POINTS INT64_C(1000000000)

const char *validate_request_id(const char *s);
/* required: whether an empty order_id is an error (Earn) or allowed (Redeem). */
const char *validate_order_id(const char *s, bool required);
/* A mainland mobile number: 11 digits, "1[3-9]" then 9 digits. */
const char *validate_phone(const char *s);
const char *validate_name(const char *s);
/* YYYY-MM-DD, a real date from 1900-01-01 to the day of `now` (UTC, plus a day of slack for
 * time zones ahead of UTC). Empty is allowed (unknown birthday). */
const char *validate_birthday(const char *s, time_t now);
const char *validate_identity(const char *kind, const char *value);
const char *validate_store_code(const char *s);
const char *validate_amount_cents(int64_t cents);
const char *validate_points(int64_t points);
const char *validate_reason(const char *s);
/* When a movement happened: empty (now) or an RFC 3339 time (business_time_parse). Whether
 * it is too far ahead or back is the database's to say: it needs its clock and the program. */
const char *validate_occurred_at(const char *s);

/* true if s is a real date written YYYY-MM-DD. */
bool validate_date(const char *s);

/* true if s is valid UTF-8 of at most max_bytes bytes without control characters. */
bool validate_text(const char *s, size_t max_bytes);

/* Parses yuan with at most two decimals ("12", "199.9", "199.90") into *cents, exactly (no
 * floating point); false, *cents untouched, if s is not such a number. */
bool validate_yuan(const char *s, int64_t *cents);

#endif
