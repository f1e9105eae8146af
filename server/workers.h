/*
 * workers.h - the slow path's threads: a bounded line of jobs and the threads that run
 * them, blocking as they like (on PostgreSQL through the connection pool, mostly): admin
 * calls, reports, imports, a call whose key is not cached, a movement that must wait for a
 * lock. The threads serving the completion queue hand such work here and never block.
 *
 * INTERFACE ROUTINES
 *   workers_start / workers_stop
 *   workers_submit   queue a job; -1 when the line is full
 */
#ifndef LOYALTY_WORKERS_H
#define LOYALTY_WORKERS_H

typedef struct workers workers;

/* n threads; at most max_queued jobs waiting. */
workers *workers_start(int n, int max_queued);

/* Runs the jobs still queued, then stops the threads. */
void workers_stop(workers *w);

/* Queues fn(arg); 0, or -1 when max_queued jobs wait already (fn is not called). */
int workers_submit(workers *w, void (*fn)(void *), void *arg);

#endif
