/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the kernels' thread pool (kernels/pool.h): every task runs
 * exactly once with worker indices in range, for pools of 1 to 4 threads
 * and task counts around the thread counts; a run from inside a task stays
 * on its thread; a NULL pool runs everything on the caller; many quick runs
 * in a row and runs from two threads on one pool neither lose a task nor
 * hang (an alarm ends the test if they do).  Exits non-zero on failure. */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int n_failed, n_passed;

static void
check_true (const char *what, int cond)
{
  printf ("%-60s %s\n", what, cond ? "ok" : "FAILED");
  if (cond)
    n_passed++;
  else
    n_failed++;
}

/* ------------------------------------------------------------------------ */

#define MAX_TASKS 1000

/* what the tasks of one run saw */
typedef struct {
  atomic_int runs[MAX_TASKS];   /* times each task ran */
  atomic_int bad_worker;        /* tasks given a worker out of range */
  int n_threads;
  kernel_pool *pool;            /* the pool the nested runs use */
  atomic_int nested_bad;        /* inner tasks run elsewhere, or not once */
} run_log;

static void
log_reset (run_log * log, int n_threads, kernel_pool * pool)
{
  for (int i = 0; i < MAX_TASKS; i++)
    atomic_store (&log->runs[i], 0);
  atomic_store (&log->bad_worker, 0);
  atomic_store (&log->nested_bad, 0);
  log->n_threads = n_threads;
  log->pool = pool;
}

/* every task 0 .. n_tasks - 1 ran once, none beyond */
static int
log_once (run_log * log, int n_tasks)
{
  for (int i = 0; i < MAX_TASKS; i++)
    if (atomic_load (&log->runs[i]) != (i < n_tasks))
      return 0;
  return 1;
}

static void
count_task (void *ctx, int task, int worker)
{
  run_log *log = ctx;
  atomic_fetch_add (&log->runs[task], 1);
  if (worker < 0 || worker >= log->n_threads)
    atomic_fetch_add (&log->bad_worker, 1);
}

static void
exact_once (void)
{
  static const int task_counts[] = { 1, 2, 3, 1000 };
  static run_log log;
  for (int n = 1; n <= 4; n++) {
    kernel_pool *pool = kernel_pool_new (n);
    if (!pool) {
      check_true ("kernel_pool_new", 0);
      return;
    }
    int ok_threads = kernel_pool_n_threads (pool) == n;
    int ok = 1, ok_worker = 1;
    for (size_t c = 0; c < sizeof task_counts / sizeof task_counts[0]; c++)
      for (int r = 0; r < 300; r++) {
        const int n_tasks = task_counts[c];
        log_reset (&log, n, pool);
        kernel_pool_run (pool, n_tasks, count_task, &log);
        ok &= log_once (&log, n_tasks);
        ok_worker &= atomic_load (&log.bad_worker) == 0;
      }
    char what[96];
    snprintf (what, sizeof what, "pool of %d: n_threads", n);
    check_true (what, ok_threads);
    snprintf (what, sizeof what, "pool of %d: 1, 2, 3, 1000 tasks, each once "
        "(300 runs each)", n);
    check_true (what, ok);
    snprintf (what, sizeof what, "pool of %d: worker indices in range", n);
    check_true (what, ok_worker);
    /* no tasks: nothing runs, nothing waits */
    log_reset (&log, n, pool);
    kernel_pool_run (pool, 0, count_task, &log);
    snprintf (what, sizeof what, "pool of %d: 0 tasks run nothing", n);
    check_true (what, log_once (&log, 0));
    kernel_pool_free (pool);
  }
  kernel_pool *one = kernel_pool_new (0);
  check_true ("kernel_pool_new (0) is one thread", one
      && kernel_pool_n_threads (one) == 1);
  kernel_pool_free (one);
  kernel_pool_free (NULL);
}

/* ------------------------------------------------------------------------ */

typedef struct {
  pthread_t thread;
  int worker;
  atomic_int *runs;             /* [5] */
  atomic_int *bad;
} inner_ctx;

static void
inner_task (void *ctx, int task, int worker)
{
  inner_ctx *in = ctx;
  atomic_fetch_add (&in->runs[task], 1);
  if (!pthread_equal (in->thread, pthread_self ()) || worker != in->worker)
    atomic_fetch_add (in->bad, 1);
}

/* each outer task runs 5 inner tasks on the same pool */
static void
outer_task (void *ctx, int task, int worker)
{
  run_log *log = ctx;
  count_task (log, task, worker);
  atomic_int runs[5];
  for (int i = 0; i < 5; i++)
    atomic_init (&runs[i], 0);
  inner_ctx in = { pthread_self (), worker, runs, &log->nested_bad };
  kernel_pool_run (log->pool, 5, inner_task, &in);
  for (int i = 0; i < 5; i++)
    if (atomic_load (&runs[i]) != 1)
      atomic_fetch_add (&log->nested_bad, 1);
}

static void
nested (void)
{
  static run_log log;
  for (int n = 1; n <= 3; n++) {
    kernel_pool *pool = kernel_pool_new (n);
    int ok = pool != NULL;
    for (int r = 0; ok && r < 200; r++) {
      log_reset (&log, n, pool);
      kernel_pool_run (pool, 7, outer_task, &log);
      ok = log_once (&log, 7) && atomic_load (&log.bad_worker) == 0
          && atomic_load (&log.nested_bad) == 0;
    }
    char what[96];
    snprintf (what, sizeof what, "pool of %d: nested runs stay on the thread "
        "and worker", n);
    check_true (what, ok);
    kernel_pool_free (pool);
  }
}

/* ------------------------------------------------------------------------ */

typedef struct {
  pthread_t thread;
  atomic_int runs[10];
  atomic_int bad;
} caller_log;

static void
caller_task (void *ctx, int task, int worker)
{
  caller_log *log = ctx;
  atomic_fetch_add (&log->runs[task], 1);
  if (worker != 0 || !pthread_equal (log->thread, pthread_self ()))
    atomic_fetch_add (&log->bad, 1);
}

static void
null_pool (void)
{
  caller_log log = { .thread = pthread_self () };
  for (int i = 0; i < 10; i++)
    atomic_init (&log.runs[i], 0);
  atomic_init (&log.bad, 0);
  kernel_pool_run (NULL, 10, caller_task, &log);
  int ok = atomic_load (&log.bad) == 0;
  for (int i = 0; i < 10; i++)
    ok &= atomic_load (&log.runs[i]) == 1;
  check_true ("NULL pool: 10 tasks once each, worker 0, calling thread",
      ok);
  check_true ("NULL pool: n_threads 1", kernel_pool_n_threads (NULL) == 1);
}

/* ------------------------------------------------------------------------ */

static void
tiny_task (void *ctx, int task, int worker)
{
  atomic_fetch_add ((atomic_long *) ctx, task + 1);
}

/* n_runs runs of 2 or 3 tasks; the sum of (task + 1) over all of them */
static long
quick_runs (kernel_pool * pool, int n_runs)
{
  atomic_long sum;
  atomic_init (&sum, 0);
  for (int r = 0; r < n_runs; r++)
    kernel_pool_run (pool, 2 + r % 2, tiny_task, &sum);
  return atomic_load (&sum);
}

/* 10000 runs of 2 tasks and 10000 of 3: 3 x 10000 + 6 x 10000 */
#define QUICK_RUNS 20000
#define QUICK_SUM 90000L

static void
many_quick_runs (void)
{
  for (int n = 2; n <= 4; n++) {
    kernel_pool *pool = kernel_pool_new (n);
    long sum = pool ? quick_runs (pool, QUICK_RUNS) : 0;
    /* and one more run after them */
    static run_log log;
    log_reset (&log, n, pool);
    if (pool)
      kernel_pool_run (pool, 1000, count_task, &log);
    char what[96];
    snprintf (what, sizeof what, "pool of %d: %d quick runs, then one more",
        n, QUICK_RUNS);
    check_true (what, sum == QUICK_SUM && log_once (&log, 1000));
    kernel_pool_free (pool);
  }
}

typedef struct {
  kernel_pool *pool;
  long sum;
} caller_arg;

static void *
quick_runs_thread (void *data)
{
  caller_arg *arg = data;
  arg->sum = quick_runs (arg->pool, QUICK_RUNS / 2);
  return NULL;
}

/* two threads taking turns on one pool */
static void
two_callers (void)
{
  kernel_pool *pool = kernel_pool_new (3);
  caller_arg arg = { pool, 0 };
  pthread_t t;
  int started = pool && pthread_create (&t, NULL, quick_runs_thread,
      &arg) == 0;
  long mine = pool ? quick_runs (pool, QUICK_RUNS / 2) : 0;
  if (started)
    pthread_join (t, NULL);
  check_true ("pool of 3: 10000 runs from each of two threads",
      started && mine == QUICK_SUM / 2 && arg.sum == QUICK_SUM / 2);
  kernel_pool_free (pool);
}

int
main (void)
{
  /* a lost wake-up would hang: fail instead (SIGALRM ends the process) */
  alarm (100);
  exact_once ();
  nested ();
  null_pool ();
  many_quick_runs ();
  two_callers ();
  printf ("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
