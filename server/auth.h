/*
 * auth.h - API keys: secrets, their hashes, and who is calling.
 *
 * A key may expire (api_keys.expires_at); an expired or revoked key is "invalid".
 * A secret is "lk_" + 43 base64url characters (32 random bytes from OpenSSL RAND_bytes).
 * Only SHA-256(secret), in hex, is stored. A key belongs to one store, or to HQ.
 *
 * INTERFACE ROUTINES
 *   auth_new_key        a fresh key_id and secret
 *   auth_hash_secret    the stored form of a secret
 *   auth_authenticate   the principal behind an "authorization" header value
 *   auth_from_cache     the same, if it can be told without PostgreSQL
 *   auth_forget_all     drop cached keys (after a revocation)
 *
 * Keys found valid are cached for AUTH_CACHE_TTL_MS, so the hot path does not ask PostgreSQL
 * who is calling on every call. A revocation through this server takes effect on the next
 * call (auth_forget_all); through another server, within AUTH_CACHE_TTL_MS.
 */
#ifndef LOYALTY_AUTH_H
#define LOYALTY_AUTH_H

#include <stdbool.h>

#include "db.h"

#define AUTH_KEY_ID_SIZE 20      /* "k_" + 16 hex + NUL, rounded up */
#define AUTH_SECRET_SIZE 48      /* "lk_" + 43 + NUL, rounded up */
#define AUTH_HASH_HEX_SIZE 67    /* "\\x" + 64 hex + NUL: bytea text input */
#define AUTH_STORE_CODE_SIZE 33
#define AUTH_CACHE_TTL_MS 1000

typedef struct principal {
  char key_id[AUTH_KEY_ID_SIZE];
  char store_code[AUTH_STORE_CODE_SIZE]; /* "" for an HQ key */
  bool is_hq;
  bool sees_full_phone; /* HQ, or a store HQ granted it */
  char name[68];        /* the key's name: its store's code, or an HQ key's operator */
} principal;

typedef enum auth_result {
  AUTH_OK = 0,
  AUTH_MISSING,  /* no or malformed authorization header */
  AUTH_INVALID,  /* unknown or revoked secret */
  AUTH_DB_ERROR, /* could not check: see the db_error */
  AUTH_NOT_CACHED, /* auth_from_cache: only PostgreSQL can tell */
} auth_result;

/* Returns 0, or -1 if the system's random source failed. */
int auth_new_key(char key_id[AUTH_KEY_ID_SIZE], char secret[AUTH_SECRET_SIZE])
    __attribute__((warn_unused_result));

/* SHA-256 of secret as bytea text input ("\\x" followed by 64 hex digits). */
void auth_hash_secret(const char *secret, char out[AUTH_HASH_HEX_SIZE]);

/* header is the value of the "authorization" metadata (NULL when absent), length bytes.
 * Borrows a connection from pool only when the key is not cached. */
auth_result auth_authenticate(db_pool *pool, const char *header, size_t length, principal *who,
                              db_error *err);

/* auth_authenticate without PostgreSQL (for threads that must not block): AUTH_NOT_CACHED
 * when the key is not cached. */
auth_result auth_from_cache(const char *header, size_t length, principal *who);

void auth_forget_all(void);

#endif
