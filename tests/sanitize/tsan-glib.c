/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ThreadSanitizer and GLib (docs/testing.md): GLib's GMutex, GRecMutex,
 * GRWLock and GCond are futexes on Linux and g_once_init_leave() is an
 * atomic store inside an uninstrumented library, so TSan sees none of the
 * ordering they give and reports every access they protect as a race.
 * Preloaded after the TSan runtime (the test setup of a -Db_sanitize=thread
 * build does it), this library wraps those calls (dlsym RTLD_NEXT) and tells
 * TSan about each acquire and release with its annotation interface.
 * GThreadPool hands work to its threads through GLib-internal queues: a push
 * releases and the worker acquires one sync object shared by all pools
 * (more ordering than real, never less).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

/* GLib's types, declared here rather than from glib.h: its macros of the
 * same names (g_once_init_enter ...) would get in the way */
typedef int gboolean;
typedef void *gpointer;
typedef int gint;
typedef int64_t gint64;
typedef uint64_t guint64;
typedef size_t gsize;
typedef struct _GMutex GMutex;
typedef struct _GRecMutex GRecMutex;
typedef struct _GRWLock GRWLock;
typedef struct _GCond GCond;
typedef struct _GThreadPool GThreadPool;
typedef struct _GAsyncQueue GAsyncQueue;
typedef struct _GError GError;
typedef void (*GFunc) (gpointer data, gpointer user_data);

void __tsan_acquire (void *addr);
void __tsan_release (void *addr);

static void *
real (const char *name)
{
  void *f = dlsym (RTLD_NEXT, name);
  if (!f) {
    fprintf (stderr, "tsan-glib: no %s\n", name);
    abort ();
  }
  return f;
}

/* real_fn: GLib's function, looked up once (atomically: first calls race) */
#define REAL(ret, name, ...) \
  static ret (*real_once) (__VA_ARGS__); \
  ret (*real_fn) (__VA_ARGS__) = __atomic_load_n (&real_once, \
      __ATOMIC_ACQUIRE); \
  if (!real_fn) { \
    real_fn = (ret (*) (__VA_ARGS__)) real (#name); \
    __atomic_store_n (&real_once, real_fn, __ATOMIC_RELEASE); \
  }

/* ------------------------------------------------------------------------ */
/* GMutex, GRecMutex, GRWLock: lock and trylock acquire, unlock releases */

#define LOCK_WRAPPERS(type, lock, trylock, unlock) \
  void \
  lock (type * l) \
  { \
    REAL (void, lock, type *); \
    real_fn (l); \
    __tsan_acquire (l); \
  } \
  gboolean \
  trylock (type * l) \
  { \
    REAL (gboolean, trylock, type *); \
    gboolean r = real_fn (l); \
    if (r) \
      __tsan_acquire (l); \
    return r; \
  } \
  void \
  unlock (type * l) \
  { \
    REAL (void, unlock, type *); \
    __tsan_release (l); \
    real_fn (l); \
  }

LOCK_WRAPPERS (GMutex, g_mutex_lock, g_mutex_trylock, g_mutex_unlock)
LOCK_WRAPPERS (GRecMutex, g_rec_mutex_lock, g_rec_mutex_trylock,
    g_rec_mutex_unlock)
LOCK_WRAPPERS (GRWLock, g_rw_lock_writer_lock, g_rw_lock_writer_trylock,
    g_rw_lock_writer_unlock)
LOCK_WRAPPERS (GRWLock, g_rw_lock_reader_lock, g_rw_lock_reader_trylock,
    g_rw_lock_reader_unlock)

/* ------------------------------------------------------------------------ */
/* GCond: the mutex is released while waiting */

void
g_cond_wait (GCond * c, GMutex * m)
{
  REAL (void, g_cond_wait, GCond *, GMutex *);
  __tsan_release (m);
  real_fn (c, m);
  __tsan_acquire (m);
}

gboolean
g_cond_wait_until (GCond * c, GMutex * m, gint64 end_time)
{
  REAL (gboolean, g_cond_wait_until, GCond *, GMutex *, gint64);
  __tsan_release (m);
  gboolean r = real_fn (c, m, end_time);
  __tsan_acquire (m);
  return r;
}

/* ------------------------------------------------------------------------ */
/* g_once_init_enter (): the header's inline check is an instrumented atomic
 * load of *location; the store that publishes it is here */

void
g_once_init_leave (volatile void *location, gsize result)
{
  REAL (void, g_once_init_leave, volatile void *, gsize);
  __tsan_release ((void *) location);
  real_fn (location, result);
}

gboolean
g_once_init_enter (volatile void *location)
{
  REAL (gboolean, g_once_init_enter, volatile void *);
  gboolean r = real_fn (location);
  if (!r)
    __tsan_acquire ((void *) location);
  return r;
}

/* ------------------------------------------------------------------------ */
/* GThreadPool (GStreamer's task pool) */

static char pool_sync;

typedef struct {
  GFunc func;
  gpointer user_data;
} pool_wrap;

static void
pool_trampoline (gpointer data, gpointer user_data)
{
  pool_wrap *w = user_data;
  __tsan_acquire (&pool_sync);
  w->func (data, w->user_data);
}

GThreadPool *
g_thread_pool_new (GFunc func, gpointer user_data, gint max_threads,
    gboolean exclusive, GError ** error)
{
  REAL (GThreadPool *, g_thread_pool_new, GFunc, gpointer, gint, gboolean,
      GError **);
  /* lives as long as the process: pools are few */
  pool_wrap *w = malloc (sizeof *w);
  w->func = func;
  w->user_data = user_data;
  return real_fn (pool_trampoline, w, max_threads, exclusive, error);
}

gboolean
g_thread_pool_push (GThreadPool * pool, gpointer data, GError ** error)
{
  REAL (gboolean, g_thread_pool_push, GThreadPool *, gpointer, GError **);
  __tsan_release (&pool_sync);
  return real_fn (pool, data, error);
}

/* GAsyncQueue between threads of the tests and elements */

void
g_async_queue_push (GAsyncQueue * q, gpointer data)
{
  REAL (void, g_async_queue_push, GAsyncQueue *, gpointer);
  __tsan_release (q);
  real_fn (q, data);
}

gpointer
g_async_queue_pop (GAsyncQueue * q)
{
  REAL (gpointer, g_async_queue_pop, GAsyncQueue *);
  gpointer r = real_fn (q);
  __tsan_acquire (q);
  return r;
}

gpointer
g_async_queue_timeout_pop (GAsyncQueue * q, guint64 timeout)
{
  REAL (gpointer, g_async_queue_timeout_pop, GAsyncQueue *, guint64);
  gpointer r = real_fn (q, timeout);
  __tsan_acquire (q);
  return r;
}

gpointer
g_async_queue_try_pop (GAsyncQueue * q)
{
  REAL (gpointer, g_async_queue_try_pop, GAsyncQueue *);
  gpointer r = real_fn (q);
  __tsan_acquire (q);
  return r;
}
