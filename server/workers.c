/*
 * workers.c - the slow path's threads (see workers.h).
 */
#include "workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct job {
  void (*fn)(void *);
  void *arg;
  struct job *next;
} job;

struct workers {
  pthread_mutex_t lock;
  pthread_cond_t work;
  job *head, *tail;
  int queued;
  int max_queued;
  bool stopping;
  pthread_t *threads;
  int n_threads;
};

static void *worker_main(void *arg)
{
  workers *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (w->head == NULL && !w->stopping)
      pthread_cond_wait(&w->work, &w->lock);
    if (w->head == NULL)
      break; /* stopping, and nothing left */
    job *j = w->head;
    w->head = j->next;
    if (w->head == NULL)
      w->tail = NULL;
    w->queued--;
    pthread_mutex_unlock(&w->lock);
    j->fn(j->arg);
    free(j);
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

workers *workers_start(int n, int max_queued)
{
  workers *w = calloc(1, sizeof *w);
  if (w == NULL)
    abort();
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->work, NULL);
  w->max_queued = max_queued;
  w->threads = calloc((size_t)n, sizeof *w->threads);
  if (w->threads == NULL)
    abort();
  for (; w->n_threads < n; w->n_threads++) {
    if (pthread_create(&w->threads[w->n_threads], NULL, worker_main, w) != 0)
      abort();
  }
  return w;
}

void workers_stop(workers *w)
{
  pthread_mutex_lock(&w->lock);
  w->stopping = true;
  pthread_cond_broadcast(&w->work);
  pthread_mutex_unlock(&w->lock);
  for (int i = 0; i < w->n_threads; i++)
    pthread_join(w->threads[i], NULL);
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->work);
  free(w->threads);
  free(w);
}

int workers_submit(workers *w, void (*fn)(void *), void *arg)
{
  job *j = malloc(sizeof *j);
  if (j == NULL)
    abort();
  j->fn = fn;
  j->arg = arg;
  j->next = NULL;
  pthread_mutex_lock(&w->lock);
  if (w->queued >= w->max_queued) {
    pthread_mutex_unlock(&w->lock);
    free(j);
    return -1;
  }
  if (w->tail != NULL)
    w->tail->next = j;
  else
    w->head = j;
  w->tail = j;
  w->queued++;
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->lock);
  return 0;
}
