/*
 * auth.c - API keys.
 *
 * Secrets have 256 bits of entropy, so a plain SHA-256 is a safe stored form (no salt or
 * slow hash needed: there is nothing to brute-force), and the lookup is one index probe.
 */
#include "auth.h"

#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* How long auth_authenticate waits for a pooled connection on a cache miss. */
#define AUTH_POOL_WAIT_MS 5000
#define AUTH_CACHE_SLOTS 256 /* direct-mapped: a collision just evicts */

typedef struct cache_entry {
  char hash[AUTH_HASH_HEX_SIZE]; /* "" when empty */
  principal who;
  int64_t expires_ms;            /* monotonic */
  uint64_t generation;
} cache_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache[AUTH_CACHE_SLOTS];
static uint64_t cache_generation; /* entries of older generations are forgotten */

static int64_t now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static cache_entry *cache_slot(const char *hash)
{
  /* hash is "\\x" and hex digits of a SHA-256: any four of them are uniformly spread. */
  unsigned slot = (unsigned)strtoul((char[]){hash[2], hash[3], hash[4], hash[5], 0}, NULL, 16);
  return &cache[slot % AUTH_CACHE_SLOTS];
}

static bool cache_get(const char *hash, principal *who)
{
  bool hit = false;
  pthread_mutex_lock(&cache_lock);
  cache_entry *e = cache_slot(hash);
  if (e->generation == cache_generation && e->expires_ms > now_ms() &&
      strcmp(e->hash, hash) == 0) {
    *who = e->who;
    hit = true;
  }
  pthread_mutex_unlock(&cache_lock);
  return hit;
}

static void cache_put(const char *hash, const principal *who, uint64_t generation,
                      long long ttl_ms)
{
  pthread_mutex_lock(&cache_lock);
  if (generation == cache_generation) { /* not if a revocation happened while we looked */
    cache_entry *e = cache_slot(hash);
    strcpy(e->hash, hash);
    e->who = *who;
    e->expires_ms = now_ms() + (ttl_ms < AUTH_CACHE_TTL_MS ? ttl_ms : AUTH_CACHE_TTL_MS);
    e->generation = generation;
  }
  pthread_mutex_unlock(&cache_lock);
}

void auth_forget_all(void)
{
  pthread_mutex_lock(&cache_lock);
  cache_generation++;
  pthread_mutex_unlock(&cache_lock);
}

static const db_statement stmt_find_key = {
  .name = "auth_find_key",
  .sql = "SELECT k.key_id, coalesce(s.store_code, ''), coalesce(s.sees_full_phone, true),"
         " k.name, coalesce(extract(epoch FROM k.expires_at - now()) * 1000, -1)::bigint"
         " FROM api_keys k"
         " LEFT JOIN stores s USING (store_id)"
         " WHERE k.secret_hash = $1 AND k.revoked_at IS NULL"
         "   AND (k.expires_at IS NULL OR k.expires_at > now())",
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

static auth_result authenticate(db_pool *pool, const char *header, size_t length,
                                principal *who, db_error *err);

auth_result auth_authenticate(db_pool *pool, const char *header, size_t length, principal *who,
                              db_error *err)
{
  return authenticate(pool, header, length, who, err);
}

auth_result auth_from_cache(const char *header, size_t length, principal *who)
{
  return authenticate(NULL, header, length, who, NULL);
}

/* auth_authenticate; with pool NULL, AUTH_NOT_CACHED instead of asking PostgreSQL. */
static auth_result authenticate(db_pool *pool, const char *header, size_t length,
                                principal *who, db_error *err)
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
  if (cache_get(hash, who))
    return AUTH_OK;
  if (pool == NULL)
    return AUTH_NOT_CACHED;

  pthread_mutex_lock(&cache_lock);
  uint64_t generation = cache_generation;
  pthread_mutex_unlock(&cache_lock);
  db_conn *conn = db_acquire(pool, AUTH_POOL_WAIT_MS, err);
  if (conn == NULL)
    return AUTH_DB_ERROR;
  const char *params[] = {hash};
  PGresult *r = db_exec(conn, &stmt_find_key, params, err);
  db_release(pool, conn);
  if (r == NULL)
    return AUTH_DB_ERROR;
  auth_result result = AUTH_INVALID;
  if (PQntuples(r) == 1) {
    snprintf(who->key_id, sizeof who->key_id, "%s", PQgetvalue(r, 0, 0));
    snprintf(who->store_code, sizeof who->store_code, "%s", PQgetvalue(r, 0, 1));
    who->is_hq = who->store_code[0] == '\0';
    who->sees_full_phone = PQgetvalue(r, 0, 2)[0] == 't';
    snprintf(who->name, sizeof who->name, "%s", PQgetvalue(r, 0, 3));
    /* An expiring key is cached no longer than it lives. */
    long long ms_left = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    cache_put(hash, who, generation, ms_left < 0 ? AUTH_CACHE_TTL_MS : ms_left);
    result = AUTH_OK;
  }
  PQclear(r);
  return result;
}
