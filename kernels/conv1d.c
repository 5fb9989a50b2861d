/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* 1-D convolution (PyTorch nn.Conv1d, zeros padding) as im2col + sgemm.
 * Time-major layout throughout: with the input as [T_in][IC] rows, the
 * im2col matrix row t holds the K input rows the output at t sees, laid out
 * [IC][K] to match the weight's [OC][IC][K], so the convolution becomes the
 * nn.Linear  out = cols w^T + bias  with w viewed as [OC][IC*K]. */
#include "kernels.h"

#include <string.h>

int
conv1d_out_len (int T_in, int K, int stride, int pad)
{
  return (T_in + 2 * pad - K) / stride + 1;
}

void
conv1d_forward (float *out, float *cols, const float *inp, const float *w,
    const float *bias, int T_in, int IC, int OC, int K, int stride, int pad,
    int n_threads)
{
  /* out [T_out][OC], cols [T_out][IC*K], inp [T_in][IC], w [OC][IC][K] */
  const int T_out = conv1d_out_len (T_in, K, stride, pad);
  const int ICK = IC * K;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (n_threads > 1)
  for (int t = 0; t < T_out; t++) {
    float *row = cols + (size_t) t * ICK;
    for (int k = 0; k < K; k++) {
      int ti = t * stride + k - pad;
      if (ti < 0 || ti >= T_in) {
        for (int ic = 0; ic < IC; ic++)
          row[ic * K + k] = 0.0f;
      } else {
        const float *src = inp + (size_t) ti * IC;
        for (int ic = 0; ic < IC; ic++)
          row[ic * K + k] = src[ic];
      }
    }
  }
  matmul_forward (out, cols, w, bias, T_out, ICK, OC, n_threads);
}
