/* How many OpenMP threads a kernel may split its work over (private).
 *
 * The kernels parallelise with OpenMP only when OpenBLAS is single-threaded
 * (the caller's choice, see docs/kernels.md, Threads) and they are not
 * already inside a parallel region: otherwise the GEMM runs on OpenBLAS's
 * threads and the kernel's other loops stay on the calling thread. */
#ifndef WHISPER_KERNEL_THREADS_H
#define WHISPER_KERNEL_THREADS_H

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static inline int
kernel_split_threads (void)
{
#ifdef _OPENMP
  if (!omp_in_parallel () && openblas_get_num_threads () == 1)
    return omp_get_max_threads ();
#endif
  return 1;
}

#endif
