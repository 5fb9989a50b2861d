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

void
KFN (gelu_forward) (float *out, const float *inp, size_t N, int n_threads)
{
  /* out, inp [N] */
  const long n = (long) N;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (n_threads > 1 && n > 65536)
  for (long i0 = 0; i0 < n; i0 += 4096) {
    long i1 = i0 + 4096 < n ? i0 + 4096 : n;
#pragma omp simd
    for (long i = i0; i < i1; i++) {
      float x = inp[i];
      out[i] = 0.5f * x * (1.0f + kmath_erf (x * (float) M_SQRT1_2));
    }
  }
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

void
KFN (softmax_forward) (float *out, const float *inp, int T, int N,
    int n_threads)
{
  /* out, inp [T][N] */
#pragma omp parallel for schedule(static) num_threads(n_threads) if (n_threads > 1 && (long) T * N > 65536)
  for (int t = 0; t < T; t++)
    softmax_row (out + (size_t) t * N, inp + (size_t) t * N, N);
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
