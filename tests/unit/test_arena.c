/*
 * test_arena.c - the per-call arena's cleanups: run once each, newest first, when the arena
 * is destroyed; one run early is not run again, and its record is reused.
 */
#include <stdint.h>

#include "arena.h"
#include "unit.h"

static int order[16];
static int n_run;

static void record(void *arg) { order[n_run++] = (int)(intptr_t)arg; }
static void other(void *arg) { (void)arg; }

int main(void)
{
  arena *a = arena_create();
  for (intptr_t i = 1; i <= 3; i++)
    arena_defer(a, record, (void *)i);
  CHECK_EQ_INT(n_run, 0);
  arena_destroy(a);
  CHECK_EQ_INT(n_run, 3);
  CHECK_EQ_INT(order[0], 3);
  CHECK_EQ_INT(order[1], 2);
  CHECK_EQ_INT(order[2], 1);

  /* Run early: now, once, and only the one asked for. */
  n_run = 0;
  a = arena_create();
  arena_defer(a, record, (void *)1);
  arena_defer(a, record, (void *)2);
  CHECK(arena_run_deferred(a, record, (void *)1), "registered");
  CHECK_EQ_INT(n_run, 1);
  CHECK_EQ_INT(order[0], 1);
  CHECK(!arena_run_deferred(a, record, (void *)1), "already run");
  CHECK(!arena_run_deferred(a, other, (void *)2), "another function");
  CHECK_EQ_INT(n_run, 1);
  /* A loop that releases what it registers each time takes no more memory per turn. */
  arena_defer(a, record, (void *)5);
  arena_run_deferred(a, record, (void *)5);
  char *before = arena_alloc(a, 1);
  for (int i = 0; i < 1000; i++) {
    arena_defer(a, other, a);
    arena_run_deferred(a, other, a);
  }
  char *after = arena_alloc(a, 1);
  CHECK_EQ_INT(after - before, 16);
  arena_destroy(a);
  CHECK_EQ_INT(n_run, 3);
  CHECK_EQ_INT(order[2], 2);
  UNIT_DONE();
}
