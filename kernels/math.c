/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Elementwise math kernels: GELU, softmax, residual add (compiled once per
 * instruction set, kernel-isa.h), and, in the portable copy only, the
 * embedding sum, the transpose and the public exp / erf wrappers. */

/* Without this, GCC (12) keeps the clamp branches of kmath_exp() as control
 * flow (it may not speculate a possibly-trapping float operation) and none
 * of the exp/erf loops vectorise: 4-8x slower GELU and softmax.  We never
 * read the floating-point exception flags.  Must precede the includes so
 * that the inline functions of kernel-math.h get it too. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize ("no-trapping-math")
#endif

#include "kernel-isa.h"
#include "kernel-math.h"

#include <math.h>

/* ----------------------------------------------------------------------------
 * GELU.  Whisper uses PyTorch's nn.GELU() default, the exact erf form
 * (https://pytorch.org/docs/stable/generated/torch.nn.GELU.html), and
 * CTranslate2 converts it as Activation.GELU (erf), not GELUTanh.  The one
 * GELU of the model (encoder and decoder), see docs/kernels.md, Numerics.
 */

/* Arrays above this many elements are split over the pool: below it a
 * hand-off to the workers costs more than it saves. */
#define SPLIT_MIN 65536

/* an elementwise job: out, inp [n], cut into n_tasks contiguous ranges of
 * whole 4096-element chunks (16 KiB: task boundaries fall on cache lines) */
typedef struct {
  float *out;
  const float *inp;
  long n;
  int n_tasks;
} array_job;

static void
gelu_task (void *ctx, int task, int worker)
{
  const array_job *j = ctx;
  const long n_chunks = (j->n + 4095) / 4096;
  const long i0 = n_chunks * task / j->n_tasks * 4096;
  long i1 = n_chunks * (task + 1) / j->n_tasks * 4096;
  i1 = i1 < j->n ? i1 : j->n;
  const float *inp = j->inp;
  float *out = j->out;
#pragma omp simd
  for (long i = i0; i < i1; i++) {
    float x = inp[i];
    out[i] = 0.5f * x * (1.0f + kmath_erf (x * (float) M_SQRT1_2));
  }
}

void
KFN (gelu_forward) (float *out, const float *inp, size_t N,
    kernel_pool * pool)
{
  /* out, inp [N] */
  array_job job = { .out = out, .inp = inp, .n = (long) N, .n_tasks = 1 };
  if (job.n > SPLIT_MIN)
    job.n_tasks = kernel_pool_n_threads (pool);
  kernel_pool_run (pool, job.n_tasks, gelu_task, &job);
}

/* ----------------------------------------------------------------------------
 * softmax over rows.  The row maximum is subtracted before exp (softmax is
 * invariant to it) so that exp never overflows.  The row sum is accumulated
 * in float in SIMD-lane order (omp simd reduction), not strictly in index
 * order.
 */

/* out[j] = exp (inp[j] - max_j inp[j]); returns the sum.  out may be inp. */
static inline float
softmax_exp_row (float *out, const float *inp, int N)
{
  float maxv = -INFINITY;
#pragma omp simd reduction(max:maxv)
  for (int j = 0; j < N; j++)
    maxv = inp[j] > maxv ? inp[j] : maxv;
  float sum = 0.0f;
#pragma omp simd reduction(+:sum)
  for (int j = 0; j < N; j++) {
    float e = kmath_exp (inp[j] - maxv);
    out[j] = e;
    sum += e;
  }
  return sum;
}

static void
softmax_row (float *out, const float *inp, int N)
{
  float inv = 1.0f / softmax_exp_row (out, inp, N);
  for (int j = 0; j < N; j++)
    out[j] *= inv;
}

void
KFN (softmax_exp_rows_forward) (float *x, float *inv_sum, int T, int N)
{
  /* x [T][N] in place, inv_sum [T] */
  for (int t = 0; t < T; t++) {
    float *row = x + (size_t) t * N;
    inv_sum[t] = 1.0f / softmax_exp_row (row, row, N);
  }
}

/* softmax_forward's rows [T][N], cut into n_tasks contiguous ranges */
typedef struct {
  float *out;
  const float *inp;
  int T, N, n_tasks;
} softmax_job;

static void
softmax_task (void *ctx, int task, int worker)
{
  const softmax_job *j = ctx;
  const int t0 = (int) ((long) j->T * task / j->n_tasks);
  const int t1 = (int) ((long) j->T * (task + 1) / j->n_tasks);
  for (int t = t0; t < t1; t++)
    softmax_row (j->out + (size_t) t * j->N, j->inp + (size_t) t * j->N,
        j->N);
}

void
KFN (softmax_forward) (float *out, const float *inp, int T, int N,
    kernel_pool * pool)
{
  /* out, inp [T][N] */
  softmax_job job = { .out = out, .inp = inp, .T = T, .N = N, .n_tasks = 1 };
  if ((long) T * N > SPLIT_MIN) {
    const int n = kernel_pool_n_threads (pool);
    job.n_tasks = n < T ? n : T;
  }
  kernel_pool_run (pool, job.n_tasks, softmax_task, &job);
}

/* ----------------------------------------------------------------------------
 * residual connection: out = inp1 + inp2      out, inp1, inp2 [N] (may alias)
 */
void
KFN (residual_forward) (float *out, const float *inp1, const float *inp2,
    size_t N)
{
  for (size_t i = 0; i < N; i++)
    out[i] = inp1[i] + inp2[i];
}

#ifndef KERNEL_ISA_AVX2
/* ----------------------------------------------------------------------------
 * Portable only: no fast path needed.
 */

float
exp_approx (float x)
{
  return kmath_exp (x);
}

float
erf_approx (float x)
{
  return kmath_erf (x);
}

void
embedding_forward (float *out, const int *tokens, const float *wte,
    const kernel_half * wte16, const float *wpe, int B, int N, int P, int C)
{
  /* out [B][N][C], tokens [B][N], wte or wte16 [V][C], wpe [>= P + N][C] */
  for (int b = 0; b < B; b++)
    for (int i = 0; i < N; i++) {
      float *o = out + ((size_t) b * N + i) * C;
      const size_t row = (size_t) tokens[b * N + i] * C;
      const float *pe = wpe + (size_t) (P + i) * C;
      if (wte) {
        for (int c = 0; c < C; c++)
          o[c] = wte[row + c] + pe[c];
      } else {
        f16_to_f32_forward (o, wte16 + row, C);
        for (int c = 0; c < C; c++)
          o[c] += pe[c];
      }
    }
}

/* transpose: out [cols][rows] = inp [rows][cols]^T, in 32x32 tiles. */
void
transpose_forward (float *out, const float *inp, int rows, int cols)
{
  for (int r0 = 0; r0 < rows; r0 += 32) {
    int r1 = r0 + 32 < rows ? r0 + 32 : rows;
    for (int c0 = 0; c0 < cols; c0 += 32) {
      int c1 = c0 + 32 < cols ? c0 + 32 : cols;
      for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++)
          out[(size_t) c * rows + r] = inp[(size_t) r * cols + c];
    }
  }
}
#endif
