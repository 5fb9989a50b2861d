/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attention of a few new rows over cached keys and values (an
 * autoregressive decoder): causal self-attention over a KV cache, and
 * cross-attention over a fixed set of keys / values.  Compiled once per
 * instruction set (kernel-isa.h).
 *
 *   out_h = softmax(q_h k_h^T / sqrt(hs) [+ causal mask]) v_h   per head h
 *
 * Up to MATVEC_MAX_ROWS query rows (one token per sequence): the scores are
 * a matvec over the keys and the weighted sum of the values a plain loop
 * (no BLAS call overhead, K and V streamed once); more rows (a prompt): two
 * sgemm per head.  The scale is applied once to the scores (openai-whisper
 * scales q and k by hs^-1/4 each; equal up to rounding). */
#include "kernel-isa.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* softmax of each of the R rows [n] (row stride ld) in place, max
 * subtracted first; libm's expf and a sum in index order (the decoder's
 * numerics since its first version: docs/kernels.md, Numerics) */
static void
softmax_rows_libm (float *s, int R, int n, int ld)
{
  for (int r = 0; r < R; r++) {
    float *row = s + (size_t) r * ld;
    float mx = -INFINITY;
    for (int j = 0; j < n; j++)
      if (row[j] > mx)
        mx = row[j];
    float sum = 0.0f;
    for (int j = 0; j < n; j++) {
      row[j] = expf (row[j] - mx);
      sum += row[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < n; j++)
      row[j] *= inv;
  }
}

/* out [R][ld] (hs columns) = p [R][n] v [n][ld_v] (hs columns): the few-row
 * weighted sum, one pass over v per row; row r stops at column P + r (the
 * causal mask; P >= n for none) */
static void
weighted_rows (float *out, int ld, const float *p, const float *v, int ld_v,
    int R, int n, int P, int hs)
{
  for (int r = 0; r < R; r++) {
    float *o = out + (size_t) r * ld;
    const float *pr = p + (size_t) r * n;
    const int n_r = P + r + 1 < n ? P + r + 1 : n;
    for (int c = 0; c < hs; c++)
      o[c] = 0.0f;
    for (int j = 0; j < n_r; j++) {
      const float pj = pr[j];
      const float *vj = v + (size_t) j * ld_v;
      for (int c = 0; c < hs; c++)
        o[c] += pj * vj[c];
    }
  }
}

/* rows i < R of s [R][n] see columns 0 .. P + i only (causal mask) */
static void
causal_mask (float *s, int R, int n, int P)
{
  for (int i = 0; i < R; i++)
    for (int j = P + i + 1; j < n; j++)
      s[(size_t) i * n + j] = -INFINITY;
}

void
KFN (attention_causal_forward) (float *out, float *scores, float *k_cache,
    float *v_cache, const float *q, const float *k, const float *v, int B,
    int N, int P, int T, int C, int H)
{
  /* out, q, k, v [B][N][C]: N new rows per sequence, at positions
   *   P .. P + N - 1
   * k_cache, v_cache [B][T][C]: rows 0 .. P - 1 filled; k and v are written
   *   to rows P .. P + N - 1 first
   * scores scratch [N][P + N] */
  const int hs = C / H, n = P + N;
  const float scale = 1.0f / sqrtf ((float) hs);
  for (int b = 0; b < B; b++) {
    memcpy (k_cache + ((size_t) b * T + P) * C, k + (size_t) b * N * C,
        sizeof (float) * N * C);
    memcpy (v_cache + ((size_t) b * T + P) * C, v + (size_t) b * N * C,
        sizeof (float) * N * C);
  }
  for (int b = 0; b < B; b++) {
    const float *Kb = k_cache + (size_t) b * T * C;
    const float *Vb = v_cache + (size_t) b * T * C;
    for (int h = 0; h < H; h++) {
      const float *qh = q + (size_t) b * N * C + h * hs;   /* [N][hs], ld C */
      float *oh = out + (size_t) b * N * C + h * hs;
      /* scores [N][n] = scale q_h K_h^T */
      if (N <= MATVEC_MAX_ROWS)
        KFN (matvec_forward) (scores, n, qh, C, Kb + h * hs, C, NULL, scale,
            N, hs, n, NULL);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, N, n, hs,
            scale, qh, C, Kb + h * hs, C, 0.0f, scores, n);
      causal_mask (scores, N, n, P);
      softmax_rows_libm (scores, N, n, n);
      if (N <= MATVEC_MAX_ROWS)
        weighted_rows (oh, C, scores, Vb + h * hs, C, N, n, P, hs);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, N, hs, n,
            1.0f, scores, n, Vb + h * hs, C, 0.0f, oh, C);
    }
  }
}

void
KFN (attention_cross_forward) (float *out, float *scores, const float *q,
    const float *k, const float *v, int R, int A, int C, int H)
{
  /* out, q [R][C], k, v [A][C], scores scratch [R][A] */
  const int hs = C / H;
  const float scale = 1.0f / sqrtf ((float) hs);
  for (int h = 0; h < H; h++) {
    if (R <= MATVEC_MAX_ROWS) {
      KFN (matvec_forward) (scores, A, q + h * hs, C, k + h * hs, C, NULL,
          scale, R, hs, A, NULL);
      softmax_rows_libm (scores, R, A, A);
      weighted_rows (out + h * hs, C, scores, v + h * hs, C, R, A, A, hs);
      continue;
    }
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, R, A, hs,
        scale, q + h * hs, C, k + h * hs, C, 0.0f, scores, A);
    softmax_rows_libm (scores, R, A, A);
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, R, hs, A,
        1.0f, scores, A, v + h * hs, C, 0.0f, out + h * hs, C);
  }
}
