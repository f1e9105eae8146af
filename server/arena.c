/*
 * arena.c - a bump allocator over a list of blocks, with a list of cleanups run when it is
 * destroyed.
 */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE 8192
#define ARENA_ALIGN 16

typedef struct arena_block {
  struct arena_block *next;
  size_t size;
  size_t used;
  _Alignas(ARENA_ALIGN) unsigned char data[];
} arena_block;

/* A cleanup registered with arena_defer; its memory is the arena's. */
typedef struct arena_cleanup {
  struct arena_cleanup *next;
  void (*fn)(void *);
  void *arg;
} arena_cleanup;

struct arena {
  arena_block *blocks;
  arena_cleanup *cleanups; /* newest first */
  arena_cleanup *spare;    /* records of cleanups run early, for reuse */
  ProtobufCAllocator allocator;
};

static void *arena_protobuf_alloc(void *data, size_t size) { return arena_alloc(data, size); }
static void arena_protobuf_free(void *data, void *pointer) { (void)data, (void)pointer; }

static void *xmalloc(size_t size)
{
  void *p = malloc(size);
  if (p == NULL) {
    fputs("out of memory\n", stderr);
    abort();
  }
  return p;
}

arena *arena_create(void)
{
  arena *a = xmalloc(sizeof *a);
  a->blocks = NULL;
  a->cleanups = NULL;
  a->spare = NULL;
  a->allocator.alloc = arena_protobuf_alloc;
  a->allocator.free = arena_protobuf_free;
  a->allocator.allocator_data = a;
  return a;
}

void arena_destroy(arena *a)
{
  if (a == NULL)
    return;
  while (a->cleanups != NULL) {
    arena_cleanup *c = a->cleanups;
    a->cleanups = c->next; /* unlinked first: what fn does cannot see it again */
    c->fn(c->arg);
  }
  arena_block *b = a->blocks;
  while (b != NULL) {
    arena_block *next = b->next;
    free(b);
    b = next;
  }
  free(a);
}

void *arena_alloc(arena *a, size_t size)
{
  size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (size == 0)
    size = ARENA_ALIGN;
  arena_block *b = a->blocks;
  if (b == NULL || b->size - b->used < size) {
    size_t block_size = size > ARENA_BLOCK_SIZE / 4 ? size : ARENA_BLOCK_SIZE;
    arena_block *nb = xmalloc(sizeof *nb + block_size);
    nb->size = block_size;
    nb->used = 0;
    if (b != NULL && size > ARENA_BLOCK_SIZE / 4) {
      /* A big one-off allocation: keep the current block for the small ones. */
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      a->blocks = nb;
    }
    b = nb;
  }
  void *p = b->data + b->used;
  b->used += size;
  return p;
}

void *arena_zalloc(arena *a, size_t size)
{
  void *p = arena_alloc(a, size);
  memset(p, 0, size);
  return p;
}

char *arena_strdup(arena *a, const char *s)
{
  size_t n = strlen(s) + 1;
  return memcpy(arena_alloc(a, n), s, n);
}

char *arena_printf(arena *a, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = arena_alloc(a, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

void arena_defer(arena *a, void (*fn)(void *), void *arg)
{
  arena_cleanup *c = a->spare;
  if (c != NULL)
    a->spare = c->next;
  else
    c = arena_alloc(a, sizeof *c);
  c->fn = fn;
  c->arg = arg;
  c->next = a->cleanups;
  a->cleanups = c;
}

bool arena_run_deferred(arena *a, void (*fn)(void *), void *arg)
{
  for (arena_cleanup **link = &a->cleanups; *link != NULL; link = &(*link)->next) {
    arena_cleanup *c = *link;
    if (c->fn != fn || c->arg != arg)
      continue;
    *link = c->next;
    c->next = a->spare;
    a->spare = c;
    fn(arg);
    return true;
  }
  return false;
}

ProtobufCAllocator *arena_allocator(arena *a) { return &a->allocator; }
