/*
 * auth.c - API keys.
 *
 * Secrets have 256 bits of entropy, so a plain SHA-256 is a safe stored form (no salt or
 * slow hash needed: there is nothing to brute-force), and the lookup is one index probe.
 */
#include "auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static const db_statement stmt_find_key = {
  .name = "auth_find_key",
  .sql = "SELECT k.key_id, coalesce(s.store_code, '') FROM api_keys k"
         " LEFT JOIN stores s USING (store_id)"
         " WHERE k.secret_hash = $1 AND k.revoked_at IS NULL",
  .n_params = 1,
};

static void base64url(const unsigned char *in, size_t n, char *out)
{
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0;
  unsigned bits = 0, acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc = (acc << 8) | in[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out[o++] = alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0)
    out[o++] = alphabet[(acc << (6 - bits)) & 63];
  out[o] = '\0';
}

int auth_new_key(char key_id[AUTH_KEY_ID_SIZE], char secret[AUTH_SECRET_SIZE])
{
  unsigned char id[8], raw[32];
  if (RAND_bytes(id, sizeof id) != 1 || RAND_bytes(raw, sizeof raw) != 1)
    return -1;
  strcpy(key_id, "k_");
  for (size_t i = 0; i < sizeof id; i++)
    snprintf(key_id + 2 + 2 * i, 3, "%02x", id[i]);
  strcpy(secret, "lk_");
  base64url(raw, sizeof raw, secret + 3);
  return 0;
}

void auth_hash_secret(const char *secret, char out[AUTH_HASH_HEX_SIZE])
{
  unsigned char digest[32];
  unsigned int n = 0;
  EVP_Digest(secret, strlen(secret), digest, &n, EVP_sha256(), NULL);
  strcpy(out, "\\x");
  for (unsigned i = 0; i < 32; i++)
    snprintf(out + 2 + 2 * i, 3, "%02x", digest[i]);
}

auth_result auth_authenticate(db_conn *conn, const char *header, size_t length, principal *who,
                              db_error *err)
{
  static const char scheme[] = "Bearer ";
  const size_t scheme_len = sizeof scheme - 1;
  char secret[AUTH_SECRET_SIZE];
  if (header == NULL || length <= scheme_len || strncasecmp(header, scheme, scheme_len) != 0)
    return AUTH_MISSING;
  size_t secret_len = length - scheme_len;
  if (secret_len >= sizeof secret)
    return AUTH_INVALID; /* longer than any secret we issue */
  memcpy(secret, header + scheme_len, secret_len);
  secret[secret_len] = '\0';
  if (strlen(secret) != secret_len)
    return AUTH_INVALID; /* embedded NUL */

  char hash[AUTH_HASH_HEX_SIZE];
  auth_hash_secret(secret, hash);
  const char *params[] = {hash};
  PGresult *r = db_exec(conn, &stmt_find_key, params, err);
  if (r == NULL)
    return AUTH_DB_ERROR;
  auth_result result = AUTH_INVALID;
  if (PQntuples(r) == 1) {
    snprintf(who->key_id, sizeof who->key_id, "%s", PQgetvalue(r, 0, 0));
    snprintf(who->store_code, sizeof who->store_code, "%s", PQgetvalue(r, 0, 1));
    who->is_hq = who->store_code[0] == '\0';
    result = AUTH_OK;
  }
  PQclear(r);
  return result;
}
