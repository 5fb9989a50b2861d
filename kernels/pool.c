/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's thread pool (pool.h).
 *
 * A job is published under the mutex with a new generation number and a
 * broadcast; each thread then takes task indices from one atomic counter,
 * so a slow thread (another process on its core) takes fewer tasks
 * instead of holding the others up.  The last task to finish wakes the
 * caller.  Workers wait for the next generation on a condition variable:
 * no spinning at any point. */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct kernel_pool {
  int n_threads;
  pthread_t *threads;
  pthread_mutex_t run_lock;     /* one job at a time per pool */
  pthread_mutex_t lock;
  pthread_cond_t job_cond;      /* workers: a new generation or quit */
  pthread_cond_t done_cond;     /* the caller: all tasks finished */
  unsigned long generation;
  int quit;
  /* the current job */
  kernel_task_fn fn;
  void *ctx;
  int n_tasks;
  atomic_int next_task;
  int n_done;                   /* tasks finished, under lock */
  int n_active;                 /* workers inside the job, under lock */
};

typedef struct {
  kernel_pool *pool;
  int worker;
} worker_arg;

/* the worker index of the task this thread is running, -1 outside tasks:
 * a nested run stays on the thread, under the same index */
static _Thread_local int current_worker = -1;

/* Takes and runs tasks of the job until none is left; returns how many
 * this thread ran. */
static int
run_tasks (kernel_pool * pool, kernel_task_fn fn, void *ctx, int n_tasks,
    int worker)
{
  int ran = 0;
  current_worker = worker;
  for (;;) {
    int task = atomic_fetch_add_explicit (&pool->next_task, 1,
        memory_order_relaxed);
    if (task >= n_tasks)
      break;
    fn (ctx, task, worker);
    ran++;
  }
  current_worker = -1;
  return ran;
}

/* A worker joins a job only while it is open (not every task finished)
 * and counts itself in n_active; the caller returns only when every task
 * is done and no worker is inside the job, so no worker ever takes a task
 * index of one job while another is published. */
static void *
worker_main (void *data)
{
  worker_arg *arg = data;
  kernel_pool *pool = arg->pool;
  const int worker = arg->worker;
  free (arg);
  unsigned long seen = 0;
  pthread_mutex_lock (&pool->lock);
  for (;;) {
    while (!pool->quit && pool->generation == seen)
      pthread_cond_wait (&pool->job_cond, &pool->lock);
    if (pool->quit)
      break;
    seen = pool->generation;
    if (pool->n_done >= pool->n_tasks)
      continue;
    kernel_task_fn fn = pool->fn;
    void *ctx = pool->ctx;
    const int n_tasks = pool->n_tasks;
    pool->n_active++;
    pthread_mutex_unlock (&pool->lock);
    const int ran = run_tasks (pool, fn, ctx, n_tasks, worker);
    pthread_mutex_lock (&pool->lock);
    pool->n_active--;
    pool->n_done += ran;
    if (pool->n_done == pool->n_tasks && pool->n_active == 0)
      pthread_cond_signal (&pool->done_cond);
  }
  pthread_mutex_unlock (&pool->lock);
  return NULL;
}

kernel_pool *
kernel_pool_new (int n_threads)
{
  kernel_pool *pool = calloc (1, sizeof *pool);
  if (!pool)
    return NULL;
  pool->n_threads = n_threads < 1 ? 1 : n_threads;
  pthread_mutex_init (&pool->run_lock, NULL);
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->job_cond, NULL);
  pthread_cond_init (&pool->done_cond, NULL);
  atomic_init (&pool->next_task, 0);
  pool->threads = calloc ((size_t) pool->n_threads, sizeof (pthread_t));
  if (!pool->threads) {
    free (pool);
    return NULL;
  }
  for (int i = 1; i < pool->n_threads; i++) {
    worker_arg *arg = malloc (sizeof *arg);
    if (arg) {
      arg->pool = pool;
      arg->worker = i;
    }
    if (!arg || pthread_create (&pool->threads[i], NULL, worker_main,
            arg) != 0) {
      free (arg);
      pool->n_threads = i;      /* the workers started so far */
      kernel_pool_free (pool);
      return NULL;
    }
  }
  return pool;
}

void
kernel_pool_free (kernel_pool * pool)
{
  if (!pool)
    return;
  pthread_mutex_lock (&pool->lock);
  pool->quit = 1;
  pthread_cond_broadcast (&pool->job_cond);
  pthread_mutex_unlock (&pool->lock);
  for (int i = 1; i < pool->n_threads; i++)
    pthread_join (pool->threads[i], NULL);
  pthread_cond_destroy (&pool->done_cond);
  pthread_cond_destroy (&pool->job_cond);
  pthread_mutex_destroy (&pool->lock);
  pthread_mutex_destroy (&pool->run_lock);
  free (pool->threads);
  free (pool);
}

int
kernel_pool_n_threads (const kernel_pool * pool)
{
  return pool ? pool->n_threads : 1;
}

void
kernel_pool_run (kernel_pool * pool, int n_tasks, kernel_task_fn fn,
    void *ctx)
{
  if (n_tasks <= 0)
    return;
  if (!pool || pool->n_threads == 1 || n_tasks == 1 || current_worker >= 0) {
    const int worker = current_worker >= 0 ? current_worker : 0;
    for (int t = 0; t < n_tasks; t++)
      fn (ctx, t, worker);
    return;
  }
  pthread_mutex_lock (&pool->run_lock);
  pthread_mutex_lock (&pool->lock);
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n_tasks = n_tasks;
  pool->n_done = 0;
  atomic_store_explicit (&pool->next_task, 0, memory_order_relaxed);
  pool->generation++;
  pthread_cond_broadcast (&pool->job_cond);
  pthread_mutex_unlock (&pool->lock);

  const int ran = run_tasks (pool, fn, ctx, n_tasks, 0);

  pthread_mutex_lock (&pool->lock);
  pool->n_done += ran;
  while (pool->n_done < pool->n_tasks || pool->n_active > 0)
    pthread_cond_wait (&pool->done_cond, &pool->lock);
  pthread_mutex_unlock (&pool->lock);
  pthread_mutex_unlock (&pool->run_lock);
}
