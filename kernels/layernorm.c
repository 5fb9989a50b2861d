/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layernorm over the last dimension, as PyTorch's nn.LayerNorm:
 * biased variance, eps inside the square root
 * (https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html).
 * The one LayerNorm of the model (encoder and decoder); compiled once per
 * instruction set (kernel-isa.h).
 *
 * Two passes per row (mean, then the sum of squared deviations) rather than
 * E[x^2] - E[x]^2, which cancels badly for rows with a large mean; the
 * sums are accumulated in double (a row is only C long, so this is cheap),
 * which keeps the mean exact enough when |mean| >> std (the sums are
 * vectorised, so added in SIMD-lane order).  Chosen against CTranslate2:
 * docs/kernels.md, Numerics. */
#include "kernel-isa.h"

#include <math.h>

void
KFN (layernorm_forward) (float *out, const float *inp, const float *w,
    const float *b, int T, int C, float eps)
{
  /* out, inp [T][C], w, b [C] */
  for (int t = 0; t < T; t++) {
    const float *x = inp + (size_t) t * C;
    float *y = out + (size_t) t * C;
    double sum = 0.0;
#pragma omp simd reduction(+:sum)
    for (int c = 0; c < C; c++)
      sum += x[c];
    const double mean = sum / C;
    double ss = 0.0;
#pragma omp simd reduction(+:ss)
    for (int c = 0; c < C; c++) {
      double d = x[c] - mean;
      ss += d * d;
    }
    const float rstd = (float) (1.0 / sqrt (ss / C + eps));
    const float meanf = (float) mean;
    for (int c = 0; c < C; c++)
      y[c] = (x[c] - meanf) * rstd * w[c] + b[c];
  }
}
