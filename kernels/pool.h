/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's thread pool: the threads every forking kernel runs on.
 *
 * One pool per encoder / text decoder, created once with its thread count
 * (the calling thread counts as one: a pool of n has n - 1 workers).
 * Idle workers sleep on a condition variable: nothing spins, so a
 * pipeline that shares the machine with video decoding costs no CPU time
 * while it waits (docs/kernels.md, Threads).
 *
 * kernel_pool_run() cuts a job into n_tasks tasks that the caller and the
 * workers take in order until none is left, and returns when all are done.
 * A run from inside a task (a kernel calling a kernel) runs its tasks on
 * that thread; runs on one pool from several threads take turns.
 */
#ifndef WHISPER_KERNEL_POOL_H
#define WHISPER_KERNEL_POOL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kernel_pool kernel_pool;

/* task: 0 .. n_tasks - 1; worker: 0 .. n_threads - 1, the thread running
 * the task (0 is the caller), for per-thread scratch */
typedef void (*kernel_task_fn) (void *ctx, int task, int worker);

/* n_threads < 1 means 1.  NULL when a thread cannot be started. */
kernel_pool *kernel_pool_new (int n_threads);
void kernel_pool_free (kernel_pool * pool);

/* The thread count; 1 for a NULL pool (the calling thread alone). */
int kernel_pool_n_threads (const kernel_pool * pool);

/* Runs fn (ctx, task, worker) for every task; pool may be NULL (all tasks
 * on the calling thread, worker 0). */
void kernel_pool_run (kernel_pool * pool, int n_tasks, kernel_task_fn fn,
    void *ctx);

#ifdef __cplusplus
}
#endif
#endif
