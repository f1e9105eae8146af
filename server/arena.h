/*
 * arena.h - per-call memory: many allocations, one free.
 *
 * Each gRPC call gets an arena; the request is unpacked into it, handlers build the response
 * in it, and everything is released at once when the call ends. protobuf-c allocates from it
 * through arena_allocator(), so handlers never free field by field.
 *
 * INTERFACE ROUTINES
 *   arena_create / arena_destroy   one per call
 *   arena_alloc, arena_zalloc      memory valid until arena_destroy; never NULL (aborts on OOM)
 *   arena_strdup, arena_printf     strings in the arena
 *   arena_allocator                a ProtobufCAllocator drawing from the arena
 */
#ifndef LOYALTY_ARENA_H
#define LOYALTY_ARENA_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

typedef struct arena arena;

arena *arena_create(void);
void arena_destroy(arena *a);

void *arena_alloc(arena *a, size_t size);
void *arena_zalloc(arena *a, size_t size);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The allocator lives inside the arena; its free() is a no-op. */
ProtobufCAllocator *arena_allocator(arena *a);

#endif
