/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the CPU kernels (kernels/kernels.h): small hand-computed
 * cases, and random cases against naive double-precision loops written
 * here independently of the kernels.  The kernels that split their work
 * run on no pool and on pools of 1, 2 and 3 threads: each output element
 * is computed by one task, the same way whichever thread runs it, so the
 * results must be the bits of the same tasks run on the calling thread.
 * Prints the maximum difference of each check and exits non-zero if any
 * check fails. */
#include "kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_failed, n_passed;

static void
check_close (const char *what, const float *got, const double *want, size_t n,
    double atol, double rtol)
{
  double max_diff = 0.0;
  size_t worst = 0;
  int ok = 1;
  for (size_t i = 0; i < n; i++) {
    double d = fabs ((double) got[i] - want[i]);
    if (!(d <= atol + rtol * fabs (want[i])))
      ok = 0;
    if (d > max_diff || isnan (d)) {
      max_diff = d;
      worst = i;
    }
  }
  printf ("%-44s max abs diff %.3g%s\n", what, max_diff, ok ? "" :
      "  FAILED");
  if (!ok) {
    printf ("    worst at %zu: got %.9g want %.9g\n", worst, got[worst],
        want[worst]);
    n_failed++;
  } else {
    n_passed++;
  }
}

static void
check_true (const char *what, int cond)
{
  printf ("%-44s %s\n", what, cond ? "ok" : "FAILED");
  if (cond)
    n_passed++;
  else
    n_failed++;
}

/* The pools the splitting kernels run on: NULL (the calling thread) first,
 * whose result the others must reproduce bit for bit. */
#define N_POOLS 4
static kernel_pool *pools[N_POOLS];
static const char *const pool_names[N_POOLS] = { "no pool", "1 thread",
  "2 threads", "3 threads"
};

static void
check_same_bits (const char *what, const float *got, const float *want,
    size_t n)
{
  char line[96];
  snprintf (line, sizeof line, "%s: same bits", what);
  check_true (line, memcmp (got, want, n * sizeof (float)) == 0);
}

/* deterministic uniform [-1, 1) */
static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;
static float
frand (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float) ((rng_state >> 40) / (double) (1ull << 24)) * 2.0f - 1.0f;
}

static float *
rand_array (size_t n, float scale)
{
  float *a = malloc (n * sizeof (float));
  for (size_t i = 0; i < n; i++)
    a[i] = frand () * scale;
  return a;
}

/* ------------------------------------------------------------------------ */

static void
test_matmul (void)
{
  /* hand case: inp [2][3], w [2][3] (out features 2), bias [2] */
  const float inp[] = { 1, 2, 3, 4, 5, 6 };
  const float w[] = { 1, 0, -1, 0.5f, 0.5f, 0.5f };
  const float b[] = { 10, -1 };
  float out[4];
  /* row0: 1-3+10 = 8, (1+2+3)/2-1 = 2; row1: 4-6+10 = 8, 15/2-1 = 6.5 */
  const double want[] = { 8, 2, 8, 6.5 };
  matmul_forward (out, inp, w, b, 2, 3, 2, NULL);
  check_close ("matmul hand 2x3x2 + bias", out, want, 4, 0, 1e-6);
  const double want_nb[] = { -2, 3, -2, 7.5 };
  matmul_forward (out, inp, w, NULL, 2, 3, 2, NULL);
  check_close ("matmul hand 2x3x2 no bias", out, want_nb, 4, 0, 1e-6);
  /* accumulating form: out = {1,1,1,1} + inp w^T + b */
  for (int i = 0; i < 4; i++)
    out[i] = 1.0f;
  const double want_add[] = { 9, 3, 9, 7.5 };
  matmul_add_forward (out, inp, w, b, 2, 3, 2, NULL);
  check_close ("matmul_add hand", out, want_add, 4, 0, 1e-6);

  /* random, larger than the splitting threshold (64 rows): one sgemm call
   * without a pool or on 1 thread; rows split over 2 threads (2 tasks of
   * 151 rows) and 3 (101, 101, 99), OpenBLAS single-threaded in each.
   * OpenBLAS does not give a block of rows the same bits alone as inside a
   * bigger call (a few per cent of the outputs differ in the last bits
   * here), so the split results are compared bit for bit with the same
   * blocks computed one by one. */
  static const int block_rows[N_POOLS] = { 301, 301, 151, 101 };
  const int T = 301, IC = 67, OC = 259;
  const size_t n = (size_t) T * OC;
  float *x = rand_array ((size_t) T * IC, 1), *W = rand_array ((size_t) OC * IC, 1);
  float *B = rand_array (OC, 1), *y = malloc (n * 4), *y_add = malloc (n * 4);
  float *y_blk = malloc (n * 4), *y_blk_add = malloc (n * 4);
  double *ref = malloc (n * 8), *ref_add = malloc (n * 8);
  for (int t = 0; t < T; t++)
    for (int o = 0; o < OC; o++) {
      double s = B[o];
      for (int i = 0; i < IC; i++)
        s += (double) x[t * IC + i] * W[o * IC + i];
      ref[t * OC + o] = s;
      ref_add[t * OC + o] = s + 0.5;
    }
  for (int p = 0; p < N_POOLS; p++) {
    char what[80];
    snprintf (what, sizeof what, "matmul random 301x67x259, %s",
        pool_names[p]);
    matmul_forward (y, x, W, B, T, IC, OC, pools[p]);
    check_close (what, y, ref, n, 1e-5, 1e-5);
    /* y = 0.5 + x W^T + B  via the accumulating form */
    for (size_t i = 0; i < n; i++)
      y_add[i] = y_blk_add[i] = 0.5f;
    matmul_add_forward (y_add, x, W, B, T, IC, OC, pools[p]);
    snprintf (what, sizeof what, "matmul_add random 301x67x259, %s",
        pool_names[p]);
    check_close (what, y_add, ref_add, n, 1e-5, 1e-5);
    for (int t0 = 0; t0 < T; t0 += block_rows[p]) {
      const int m = T - t0 < block_rows[p] ? T - t0 : block_rows[p];
      matmul_forward (y_blk + (size_t) t0 * OC, x + (size_t) t0 * IC, W, B,
          m, IC, OC, NULL);
      matmul_add_forward (y_blk_add + (size_t) t0 * OC, x + (size_t) t0 * IC,
          W, B, m, IC, OC, NULL);
    }
    snprintf (what, sizeof what, "matmul, %s, vs its blocks alone",
        pool_names[p]);
    check_same_bits (what, y, y_blk, n);
    snprintf (what, sizeof what, "matmul_add, %s, vs its blocks alone",
        pool_names[p]);
    check_same_bits (what, y_add, y_blk_add, n);
  }
  free (x), free (W), free (B), free (y), free (y_add), free (y_blk);
  free (y_blk_add), free (ref), free (ref_add);
}

static void
test_layernorm (void)
{
  /* [1 2 3 4]: mean 2.5, biased var 1.25 */
  const float inp[] = { 1, 2, 3, 4 };
  const float w[] = { 1, 1, 2, 1 }, b[] = { 0, 0, 0, 1 };
  float out[4];
  double r = 1.0 / sqrt (1.25 + 1e-5);
  const double want[] = { -1.5 * r, -0.5 * r, 2 * 0.5 * r, 1.5 * r + 1 };
  layernorm_forward (out, inp, w, b, 1, 4, 1e-5f);
  check_close ("layernorm hand [1 2 3 4]", out, want, 4, 0, 1e-6);

  /* random rows with a large mean (cancellation) vs double two-pass */
  const int T = 200, C = 384;
  float *x = rand_array ((size_t) T * C, 1), *g = rand_array (C, 1),
      *bb = rand_array (C, 1), *y = malloc ((size_t) T * C * 4);
  double *ref = malloc ((size_t) T * C * 8);
  for (int t = 0; t < T; t++)
    for (int c = 0; c < C; c++)
      x[t * C + c] += 100.0f * (t % 3);
  for (int t = 0; t < T; t++) {
    double m = 0, v = 0;
    for (int c = 0; c < C; c++)
      m += x[t * C + c];
    m /= C;
    for (int c = 0; c < C; c++)
      v += (x[t * C + c] - m) * (x[t * C + c] - m);
    v /= C;
    for (int c = 0; c < C; c++)
      ref[t * C + c] = (x[t * C + c] - m) / sqrt (v + 1e-5) * g[c] + bb[c];
  }
  layernorm_forward (y, x, g, bb, T, C, 1e-5f);
  check_close ("layernorm random 200x384 (mean up to 200)", y, ref,
      (size_t) T * C, 2e-4, 2e-4);
  free (x), free (g), free (bb), free (y), free (ref);
}

static void
test_gelu_exp_erf (void)
{
  /* hand values of x * Phi(x) */
  const float inp[] = { 0, 1, -1, 3, -3, 0.5f };
  const double want[] = { 0, 0.8413447460685429, -0.15865525393145707,
    2.9959502, -0.0040497951, 0.34573123063700656
  };
  float out[6];
  gelu_forward (out, inp, 6, NULL);
  check_close ("gelu hand values", out, want, 6, 2e-7, 1e-6);

  /* dense grid vs the exact erf in double */
  const int N = 200001;
  float *x = malloc (N * 4), *y = malloc (N * 4);
  double *ref = malloc (N * 8);
  for (int i = 0; i < N; i++) {
    x[i] = -10.0f + 20.0f * i / (N - 1);
    ref[i] = 0.5 * x[i] * (1.0 + erf (x[i] / sqrt (2.0)));
  }
  /* 200001 elements: split on the pools (ranges of 4096-element chunks,
   * the last one partial) */
  float *y0 = malloc (N * 4);
  for (int p = 0; p < N_POOLS; p++) {
    char what[80];
    snprintf (what, sizeof what, "gelu grid [-10, 10] vs double erf, %s",
        pool_names[p]);
    gelu_forward (p ? y : y0, x, N, pools[p]);
    check_close (what, p ? y : y0, ref, N, 1e-6, 1e-6);
    if (p) {
      snprintf (what, sizeof what, "gelu, %s", pool_names[p]);
      check_same_bits (what, y, y0, N);
    }
  }
  free (y0);

  for (int i = 0; i < N; i++) {
    x[i] = -6.0f + 12.0f * i / (N - 1);
    y[i] = erf_approx (x[i]);
    ref[i] = erf (x[i]);
  }
  check_close ("erf_approx grid [-6, 6]", y, ref, N, 2.5e-7, 0);

  double max_rel = 0;
  for (int i = 0; i < N; i++) {
    x[i] = -87.0f + 175.0f * i / (N - 1);
    double e = exp ((double) x[i]);
    double rel = fabs (exp_approx (x[i]) - e) / e;
    max_rel = rel > max_rel ? rel : max_rel;
  }
  printf ("%-44s max rel diff %.3g\n", "exp_approx grid [-87, 88]", max_rel);
  check_true ("exp_approx relative error < 3e-7", max_rel < 3e-7);
  check_true ("exp_approx(-200) == 0", exp_approx (-200.0f) == 0.0f);
  check_true ("exp_approx(0) == 1", exp_approx (0.0f) == 1.0f);
  free (x), free (y), free (ref);
}

static void
test_softmax (void)
{
  const float inp[] = { 1, 2, 3, 1000, 1000, -1000 };
  float out[6];
  const double want[] = { 0.09003057317038046, 0.24472847105479767,
    0.6652409557748219, 0.5, 0.5, 0
  };
  softmax_forward (out, inp, 2, 3, NULL);
  check_close ("softmax hand (incl. +-1000 logits)", out, want, 6, 1e-7, 1e-6);

  const int T = 64, N = 1500;
  float *x = rand_array ((size_t) T * N, 20), *y = malloc ((size_t) T * N * 4);
  double *ref = malloc ((size_t) T * N * 8);
  for (int t = 0; t < T; t++) {
    double m = -INFINITY, s = 0;
    for (int j = 0; j < N; j++)
      m = fmax (m, x[t * N + j]);
    for (int j = 0; j < N; j++)
      s += exp (x[t * N + j] - m);
    for (int j = 0; j < N; j++)
      ref[t * N + j] = exp (x[t * N + j] - m) / s;
  }
  /* 96000 elements: rows split on the pools */
  float *y0 = malloc ((size_t) T * N * 4);
  for (int p = 0; p < N_POOLS; p++) {
    char what[80];
    snprintf (what, sizeof what, "softmax random 64x1500 (logits +-20), %s",
        pool_names[p]);
    softmax_forward (p ? y : y0, x, T, N, pools[p]);
    check_close (what, p ? y : y0, ref, (size_t) T * N, 1e-8, 1e-5);
    if (p) {
      snprintf (what, sizeof what, "softmax, %s", pool_names[p]);
      check_same_bits (what, y, y0, (size_t) T * N);
    }
  }
  float sum = 0;
  for (int j = 0; j < N; j++)
    sum += y0[j];
  check_true ("softmax row sums to 1", fabsf (sum - 1.0f) < 1e-5f);
  free (x), free (y), free (y0), free (ref);
}

static void
naive_conv1d (double *out, const float *inp, const float *w, const float *b,
    int T_in, int IC, int OC, int K, int stride, int pad)
{
  int T_out = (T_in + 2 * pad - K) / stride + 1;
  for (int t = 0; t < T_out; t++)
    for (int o = 0; o < OC; o++) {
      double s = b ? b[o] : 0;
      for (int i = 0; i < IC; i++)
        for (int k = 0; k < K; k++) {
          int ti = t * stride + k - pad;
          if (ti >= 0 && ti < T_in)
            s += (double) w[(o * IC + i) * K + k] * inp[ti * IC + i];
        }
      out[t * OC + o] = s;
    }
}

static void
test_conv1d (void)
{
  /* one channel, w = [1 2 3], bias 0.5, input [1 2 3 4]:
   * out[t] = in[t-1] + 2 in[t] + 3 in[t+1] + 0.5 */
  const float inp[] = { 1, 2, 3, 4 }, w[] = { 1, 2, 3 }, b[] = { 0.5f };
  float out[4], cols[12];
  const double want1[] = { 8.5, 14.5, 20.5, 11.5 };
  check_true ("conv1d_out_len(4, 3, 1, 1) == 4", conv1d_out_len (4, 3, 1, 1) == 4);
  conv1d_forward (out, cols, inp, w, b, 4, 1, 1, 3, 1, 1, NULL);
  check_close ("conv1d hand stride 1", out, want1, 4, 0, 1e-6);
  const double want2[] = { 8.5, 20.5 };
  check_true ("conv1d_out_len(4, 3, 2, 1) == 2", conv1d_out_len (4, 3, 2, 1) == 2);
  conv1d_forward (out, cols, inp, w, b, 4, 1, 1, 3, 2, 1, NULL);
  check_close ("conv1d hand stride 2", out, want2, 2, 0, 1e-6);

  /* random, several channels, both strides, odd and even lengths */
  for (int stride = 1; stride <= 2; stride++)
    for (int T_in = 99; T_in <= 100; T_in++) {
      const int IC = 13, OC = 21, K = 3;
      int T_out = conv1d_out_len (T_in, K, stride, 1);
      float *x = rand_array ((size_t) T_in * IC, 1);
      float *W = rand_array ((size_t) OC * IC * K, 1), *B = rand_array (OC, 1);
      float *y = malloc ((size_t) T_out * OC * 4);
      float *y_mm = malloc ((size_t) T_out * OC * 4);
      float *c = malloc ((size_t) T_out * IC * K * 4);
      float *c0 = malloc ((size_t) T_out * IC * K * 4);
      double *ref = malloc ((size_t) T_out * OC * 8);
      naive_conv1d (ref, x, W, B, T_in, IC, OC, K, stride, 1);
      for (int p = 0; p < N_POOLS; p++) {
        /* im2col rows over the pool's threads, then the GEMM's rows (from
         * 64 output rows: the bits are matmul's on the same pool) */
        memset (y, 0, (size_t) T_out * OC * 4);
        conv1d_forward (y, c, x, W, B, T_in, IC, OC, K, stride, 1, pools[p]);
        char what[80];
        snprintf (what, sizeof what, "conv1d random T_in=%d stride %d, %s",
            T_in, stride, pool_names[p]);
        check_close (what, y, ref, (size_t) T_out * OC, 1e-5, 1e-5);
        if (p == 0) {
          memcpy (c0, c, (size_t) T_out * IC * K * 4);
          continue;
        }
        snprintf (what, sizeof what, "conv1d T_in=%d stride %d, %s: im2col",
            T_in, stride, pool_names[p]);
        check_same_bits (what, c, c0, (size_t) T_out * IC * K);
        matmul_forward (y_mm, c0, W, B, T_out, IC * K, OC, pools[p]);
        snprintf (what, sizeof what, "conv1d T_in=%d stride %d, %s: GEMM",
            T_in, stride, pool_names[p]);
        check_same_bits (what, y, y_mm, (size_t) T_out * OC);
      }
      free (x), free (W), free (B), free (y), free (y_mm), free (c);
      free (c0), free (ref);
    }
}

static void
test_attention (void)
{
  /* hand case: T = 2, C = 2, one head, hs = 2, scale 1/sqrt(2).
   * q0 = [sqrt2 ln3, 0] -> scores row 0 = [ln3, 0] with k0 = [1,0],
   * k1 = [0,1]; softmax = [3/4, 1/4]; q1 = 0 -> [1/2, 1/2]. */
  const float l3 = (float) (M_SQRT2 * log (3.0));
  const float q[] = { l3, 0, 0, 0 }, k[] = { 1, 0, 0, 1 };
  const float v[] = { 4, 8, 0, -4 };
  float out[4], scratch[6];   /* attention_scratch_size (2, 2, 1, 1) */
  const double want[] = { 3, 5, 2, 2 };
  if (attention_scratch_size (2, 2, 1, 1) > 6) {
    check_true ("attention scratch size", 0);
    return;
  }
  attention_forward (out, scratch, q, k, v, 2, 2, 2, 1, NULL);
  check_close ("attention hand T=2 C=2 H=1", out, want, 4, 1e-6, 1e-6);

  /* random, heads side by side, q/k/v as slices of one [T][3C] array */
  const int T = 157, C = 48, H = 4, hs = C / H, ld = 3 * C;
  float *qkv = rand_array ((size_t) T * ld, 2);
  float *o = malloc ((size_t) T * C * 4);
  float *s = malloc (attention_scratch_size (T, C, H, 3) * 4);
  float *o0 = malloc ((size_t) T * C * 4);
  double *ref = malloc ((size_t) T * C * 8), *p = malloc (T * 8);
  for (int h = 0; h < H; h++)
    for (int i = 0; i < T; i++) {
      double m = -INFINITY, sum = 0;
      for (int j = 0; j < T; j++) {
        double d = 0;
        for (int c = 0; c < hs; c++)
          d += (double) qkv[i * ld + h * hs + c] * qkv[j * ld + C + h * hs + c];
        p[j] = d / sqrt (hs);
        m = fmax (m, p[j]);
      }
      for (int j = 0; j < T; j++)
        sum += (p[j] = exp (p[j] - m));
      for (int c = 0; c < hs; c++) {
        double a = 0;
        for (int j = 0; j < T; j++)
          a += p[j] / sum * qkv[j * ld + 2 * C + h * hs + c];
        ref[i * C + h * hs + c] = a;
      }
    }
  /* 8 tasks (4 heads x 2 query blocks, the second partial), each thread
   * on its own slice of the scratch */
  for (int pi = 0; pi < N_POOLS; pi++) {
    char what[80];
    float *out_p = pi ? o : o0;
    snprintf (what, sizeof what, "attention random T=157 C=48 H=4, %s",
        pool_names[pi]);
    memset (out_p, 0, (size_t) T * C * 4);
    attention_forward (out_p, s, qkv, qkv + C, qkv + 2 * C, ld, T, C, H,
        pools[pi]);
    check_close (what, out_p, ref, (size_t) T * C, 1e-5, 1e-5);
    if (pi) {
      snprintf (what, sizeof what, "attention, %s", pool_names[pi]);
      check_same_bits (what, o, o0, (size_t) T * C);
    }
  }
  free (qkv), free (o), free (o0), free (s), free (ref), free (p);
}

static void
test_transpose (void)
{
  const int R = 45, Cc = 70;
  float *a = rand_array ((size_t) R * Cc, 1), *b = malloc ((size_t) R * Cc * 4);
  double *ref = malloc ((size_t) R * Cc * 8);
  for (int r = 0; r < R; r++)
    for (int c = 0; c < Cc; c++)
      ref[c * R + r] = a[r * Cc + c];
  transpose_forward (b, a, R, Cc);
  check_close ("transpose 45x70", b, ref, (size_t) R * Cc, 0, 0);
  free (a), free (b), free (ref);
}

/* matvec (f32 and f16 weights, 1..8 rows, odd and multiple-of-8 widths)
 * against double loops; f16 conversions round trip */
static void
test_matvec_f16 (void)
{
  const int OC = 37;
  for (int IC = 61; IC <= 64; IC += 3)
    for (int R = 1; R <= MATVEC_MAX_ROWS; R += R < 2 ? 1 : 3) {
      float *x = rand_array ((size_t) R * IC, 1), *W = rand_array ((size_t) OC * IC, 1);
      float *B = rand_array (OC, 1), *y = malloc ((size_t) R * OC * 4);
      float *y16 = malloc ((size_t) R * OC * 4);
      kernel_half *W16 = malloc ((size_t) OC * IC * 2);
      double *ref = malloc ((size_t) R * OC * 8);
      /* weights made exact in half precision first */
      for (size_t i = 0; i < (size_t) OC * IC; i++)
        W[i] = kf16_to_f32 (kf32_to_f16 (W[i]));
      for (int r = 0; r < R; r++)
        for (int o = 0; o < OC; o++) {
          double sum = 0;
          for (int i = 0; i < IC; i++)
            sum += (double) x[r * IC + i] * W[o * IC + i];
          ref[r * OC + o] = 0.5 * sum + B[o];
        }
      char what[64];
      snprintf (what, sizeof what, "matvec R=%d IC=%d alpha 0.5", R, IC);
      matvec_forward (y, OC, x, IC, W, IC, B, 0.5f, R, IC, OC, NULL);
      check_close (what, y, ref, (size_t) R * OC, 1e-5, 1e-5);
      int exact = 1;
      for (size_t i = 0; i < (size_t) OC * IC; i++) {
        uint16_t h = kf32_to_f16 (W[i]);
        memcpy (W16[i].bytes, &h, 2);
        exact &= kf16_to_f32 (h) == W[i];
      }
      check_true ("the weights are exact halves", exact);
      for (size_t i = 0; i < (size_t) R * OC; i++)      /* alpha 1 */
        ref[i] = ref[i] * 2 - B[i % OC];
      snprintf (what, sizeof what, "matvec_f16 R=%d IC=%d", R, IC);
      matvec_f16_forward (y16, OC, x, IC, W16, B, R, IC, OC, pools[2]);
      check_close (what, y16, ref, (size_t) R * OC, 1e-5, 1e-5);
      free (x), free (W), free (B), free (y), free (y16), free (W16);
      free (ref);
    }
  /* every half converts to a float and back to itself (NaN stays NaN) */
  int ok = 1;
  float f[8];
  uint16_t h[8];
  for (uint32_t u = 0; u < 65536 && ok; u += 8) {
    for (int i = 0; i < 8; i++)
      h[i] = (uint16_t) (u + i);
    f16_to_f32_forward (f, h, 8);
    for (int i = 0; i < 8; i++)
      if (f[i] == f[i] && (kf32_to_f16 (f[i]) != h[i]
              || kf16_to_f32 (h[i]) != f[i]))
        ok = 0;
  }
  check_true ("f16 <-> f32 round trip of every half", ok);
}

/* matvec products big enough to be split (OC x IC >= 2^22, the logits'
 * size): output columns over the pools' threads */
static void
test_matvec_split (void)
{
  const int R = 3, IC = 1024, OC = 4103;
  const size_t nw = (size_t) OC * IC, n = (size_t) R * OC;
  float *x = rand_array ((size_t) R * IC, 1), *W = rand_array (nw, 1);
  float *B = rand_array (OC, 1);
  kernel_half *W16 = malloc (nw * 2);
  float *y = malloc (n * 4), *y0 = malloc (n * 4);
  float *y16 = malloc (n * 4), *y16_0 = malloc (n * 4);
  double *ref = malloc (n * 8);
  for (size_t i = 0; i < nw; i++) {
    uint16_t h = kf32_to_f16 (W[i]);
    memcpy (W16[i].bytes, &h, 2);
    W[i] = kf16_to_f32 (h);
  }
  for (int r = 0; r < R; r++)
    for (int o = 0; o < OC; o++) {
      double sum = B[o];
      for (int i = 0; i < IC; i++)
        sum += (double) x[r * IC + i] * W[(size_t) o * IC + i];
      ref[r * OC + o] = sum;
    }
  for (int p = 0; p < N_POOLS; p++) {
    char what[80];
    float *out = p ? y : y0, *out16 = p ? y16 : y16_0;
    matvec_forward (out, OC, x, IC, W, IC, B, 1.0f, R, IC, OC, pools[p]);
    snprintf (what, sizeof what, "matvec R=3 1024x4103, %s", pool_names[p]);
    check_close (what, out, ref, n, 1e-4, 1e-5);
    matvec_f16_forward (out16, OC, x, IC, W16, B, R, IC, OC, pools[p]);
    snprintf (what, sizeof what, "matvec_f16 R=3 1024x4103, %s",
        pool_names[p]);
    check_close (what, out16, ref, n, 1e-4, 1e-5);
    if (p) {
      snprintf (what, sizeof what, "matvec 1024x4103, %s", pool_names[p]);
      check_same_bits (what, y, y0, n);
      snprintf (what, sizeof what, "matvec_f16 1024x4103, %s",
          pool_names[p]);
      check_same_bits (what, y16, y16_0, n);
    }
  }
  free (x), free (W), free (B), free (W16), free (y), free (y0), free (y16);
  free (y16_0), free (ref);
}

/* kernel_alloc: 64-byte aligned below and above the size it maps from,
 * zero-filled by kernel_alloc_zero, writable to the last byte, and the
 * mapped blocks really returned at free (the resident set drops; not
 * under AddressSanitizer, gcc's being the one the suite uses). */
static long
resident_kb (void)
{
  long kb = -1;
  FILE *f = fopen ("/proc/self/status", "r");
  char line[128];
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "VmRSS: %ld", &kb) == 1)
      break;
  if (f)
    fclose (f);
  return kb;
}

static void
test_alloc (void)
{
  const size_t sizes[] = { 0, 1, 100, (128 << 10) - 64, 128 << 10,
    (1 << 20) + 3, 64 << 20
  };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    char what[80];
    unsigned char *p = kernel_alloc_zero (sizes[i]);
    int zero = 1;
    for (size_t j = 0; p && j < sizes[i]; j++)
      zero &= p[j] == 0;
    snprintf (what, sizeof what, "kernel_alloc_zero %zu: aligned, zero",
        sizes[i]);
    check_true (what, p && (uintptr_t) p % 64 == 0 && zero);
    if (p && sizes[i])
      memset (p, 0x5a, sizes[i]);
    kernel_free (p);
    void *q = kernel_alloc (sizes[i]);
    snprintf (what, sizeof what, "kernel_alloc %zu: aligned", sizes[i]);
    check_true (what, q && (uintptr_t) q % 64 == 0);
    kernel_free (q);
  }
  kernel_free (NULL);

  /* 64 MiB touched, then freed: gone from the resident set (a heap block
   * of that size could stay, see memory.c) */
  long before = resident_kb ();
  unsigned char *big = kernel_alloc (64 << 20);
  if (big)
    memset (big, 1, 64 << 20);
  long touched = resident_kb ();
  kernel_free (big);
  long after = resident_kb ();
  printf ("kernel_alloc 64 MiB: RSS %ld -> %ld -> %ld kB\n", before, touched,
      after);
  /* under AddressSanitizer the blocks are heap blocks (memory.c), which
   * its quarantine keeps after free */
#if !defined(__SANITIZE_ADDRESS__)
  if (before >= 0)
    check_true ("kernel_alloc 64 MiB: returned at free",
        touched - before > 60000 && touched - after > 60000);
#endif
}

int
main (void)
{
  printf ("kernels: %s copy\n", kernels_cpu_path ());
  for (int p = 1; p < N_POOLS; p++) {
    pools[p] = kernel_pool_new (p);
    if (!pools[p]) {
      printf ("cannot start a pool of %d threads\n", p);
      return 1;
    }
  }
  test_matmul ();
  test_matvec_f16 ();
  test_matvec_split ();
  test_layernorm ();
  test_gelu_exp_erf ();
  test_softmax ();
  test_conv1d ();
  test_attention ();
  test_transpose ();
  test_alloc ();
  for (int p = 1; p < N_POOLS; p++)
    kernel_pool_free (pools[p]);
  printf ("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
