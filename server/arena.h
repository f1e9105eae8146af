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
 *   arena_defer                    run a cleanup (PQclear, ...) when the arena is destroyed
 *   arena_run_deferred             run one such cleanup now instead
 *
 * Other resources can be tied to the arena with arena_defer: whatever a call registers is
 * released with the call's memory, on every path out of its handler.
 */
#ifndef LOYALTY_ARENA_H
#define LOYALTY_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

typedef struct arena arena;

arena *arena_create(void);
void arena_destroy(arena *a);

void *arena_alloc(arena *a, size_t size);
void *arena_zalloc(arena *a, size_t size);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Makes arena_destroy call fn(arg), before it frees the arena's memory; cleanups run in
 * reverse order of registration (newest first). fn must not use the arena. Never fails. */
void arena_defer(arena *a, void (*fn)(void *), void *arg);

/* Calls fn(arg) now, for the newest cleanup registered with exactly fn and arg, and forgets
 * it, so that arena_destroy does not run it again. For a call that goes through many
 * resources in a loop: what it releases early does not pile up until the call ends (the
 * cleanup's record is reused). Returns false, calling nothing, when no such cleanup is
 * registered. */
bool arena_run_deferred(arena *a, void (*fn)(void *), void *arg);

/* The allocator lives inside the arena; its free() is a no-op. */
ProtobufCAllocator *arena_allocator(arena *a);

#endif
