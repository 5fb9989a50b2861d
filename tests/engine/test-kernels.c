/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the CPU kernels (kernels/kernels.h): small hand-computed
 * cases, and random cases against naive double-precision loops written
 * here independently of the kernels.  Prints the maximum difference of each
 * check and exits non-zero if any check fails. */
#include "kernels.h"

#include <cblas.h>
#include <omp.h>

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
  matmul_forward (out, inp, w, b, 2, 3, 2, 1);
  check_close ("matmul hand 2x3x2 + bias", out, want, 4, 0, 1e-6);
  const double want_nb[] = { -2, 3, -2, 7.5 };
  matmul_forward (out, inp, w, NULL, 2, 3, 2, 1);
  check_close ("matmul hand 2x3x2 no bias", out, want_nb, 4, 0, 1e-6);
  /* accumulating form: out = {1,1,1,1} + inp w^T + b */
  for (int i = 0; i < 4; i++)
    out[i] = 1.0f;
  const double want_add[] = { 9, 3, 9, 7.5 };
  matmul_add_forward (out, inp, w, b, 2, 3, 2, 1);
  check_close ("matmul_add hand", out, want_add, 4, 0, 1e-6);

  /* random, larger than the OpenMP/OpenBLAS thresholds */
  const int T = 301, IC = 67, OC = 259;
  float *x = rand_array ((size_t) T * IC, 1), *W = rand_array ((size_t) OC * IC, 1);
  float *B = rand_array (OC, 1), *y = malloc ((size_t) T * OC * 4);
  double *ref = malloc ((size_t) T * OC * 8);
  for (int t = 0; t < T; t++)
    for (int o = 0; o < OC; o++) {
      double s = B[o];
      for (int i = 0; i < IC; i++)
        s += (double) x[t * IC + i] * W[o * IC + i];
      ref[t * OC + o] = s;
    }
  /* both threading paths: one sgemm call, and rows split over 2 OpenMP
   * threads (OpenBLAS single-threaded), 3 tasks, one partial */
  for (int split = 0; split <= 1; split++) {
    char what[64];
    snprintf (what, sizeof what, "matmul random 301x67x259 %s",
        split ? "(rows over OpenMP)" : "(one sgemm)");
    matmul_forward (y, x, W, B, T, IC, OC, split ? 2 : 1);
    check_close (what, y, ref, (size_t) T * OC, 1e-5, 1e-5);
    /* y = 0.5 + x W^T + B  via the accumulating form */
    for (size_t i = 0; i < (size_t) T * OC; i++)
      y[i] = 0.5f;
    matmul_add_forward (y, x, W, B, T, IC, OC, split ? 2 : 1);
    for (size_t i = 0; i < (size_t) T * OC; i++)
      ref[i] += 0.5;
    snprintf (what, sizeof what, "matmul_add random 301x67x259 %s",
        split ? "(rows)" : "(one sgemm)");
    check_close (what, y, ref, (size_t) T * OC, 1e-5, 1e-5);
    for (size_t i = 0; i < (size_t) T * OC; i++)
      ref[i] -= 0.5;
  }
  free (x), free (W), free (B), free (y), free (ref);
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
  gelu_forward (out, inp, 6, 1);
  check_close ("gelu hand values", out, want, 6, 2e-7, 1e-6);

  /* dense grid vs the exact erf in double */
  const int N = 200001;
  float *x = malloc (N * 4), *y = malloc (N * 4);
  double *ref = malloc (N * 8);
  for (int i = 0; i < N; i++) {
    x[i] = -10.0f + 20.0f * i / (N - 1);
    ref[i] = 0.5 * x[i] * (1.0 + erf (x[i] / sqrt (2.0)));
  }
  gelu_forward (y, x, N, 2);
  check_close ("gelu grid [-10, 10] vs double erf", y, ref, N, 1e-6, 1e-6);

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
  softmax_forward (out, inp, 2, 3, 1);
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
  softmax_forward (y, x, T, N, 2);
  check_close ("softmax random 64x1500 (logits +-20)", y, ref, (size_t) T * N,
      1e-8, 1e-5);
  float sum = 0;
  for (int j = 0; j < N; j++)
    sum += y[j];
  check_true ("softmax row sums to 1", fabsf (sum - 1.0f) < 1e-5f);
  free (x), free (y), free (ref);
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
  conv1d_forward (out, cols, inp, w, b, 4, 1, 1, 3, 1, 1, 1);
  check_close ("conv1d hand stride 1", out, want1, 4, 0, 1e-6);
  const double want2[] = { 8.5, 20.5 };
  check_true ("conv1d_out_len(4, 3, 2, 1) == 2", conv1d_out_len (4, 3, 2, 1) == 2);
  conv1d_forward (out, cols, inp, w, b, 4, 1, 1, 3, 2, 1, 1);
  check_close ("conv1d hand stride 2", out, want2, 2, 0, 1e-6);

  /* random, several channels, both strides, odd and even lengths */
  for (int stride = 1; stride <= 2; stride++)
    for (int T_in = 99; T_in <= 100; T_in++) {
      const int IC = 13, OC = 21, K = 3;
      int T_out = conv1d_out_len (T_in, K, stride, 1);
      float *x = rand_array ((size_t) T_in * IC, 1);
      float *W = rand_array ((size_t) OC * IC * K, 1), *B = rand_array (OC, 1);
      float *y = malloc ((size_t) T_out * OC * 4);
      float *c = malloc ((size_t) T_out * IC * K * 4);
      double *ref = malloc ((size_t) T_out * OC * 8);
      naive_conv1d (ref, x, W, B, T_in, IC, OC, K, stride, 1);
      for (int split = 0; split <= 1; split++) {
        /* split: im2col and GEMM rows over 2 OpenMP threads */
        memset (y, 0, (size_t) T_out * OC * 4);
        conv1d_forward (y, c, x, W, B, T_in, IC, OC, K, stride, 1,
            split ? 2 : 1);
        char what[64];
        snprintf (what, sizeof what, "conv1d random T_in=%d stride %d%s",
            T_in, stride, split ? " split" : "");
        check_close (what, y, ref, (size_t) T_out * OC, 1e-5, 1e-5);
      }
      free (x), free (W), free (B), free (y), free (c), free (ref);
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
  attention_forward (out, scratch, q, k, v, 2, 2, 2, 1, 1);
  check_close ("attention hand T=2 C=2 H=1", out, want, 4, 1e-6, 1e-6);

  /* random, heads side by side, q/k/v as slices of one [T][3C] array */
  const int T = 157, C = 48, H = 4, hs = C / H, ld = 3 * C;
  float *qkv = rand_array ((size_t) T * ld, 2);
  float *o = malloc ((size_t) T * C * 4);
  float *s = malloc (attention_scratch_size (T, C, H, 2) * 4);
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
  for (int threads = 1; threads <= 2; threads++) {
    char what[64];
    snprintf (what, sizeof what, "attention random T=157 C=48 H=4, %d thr",
        threads);
    memset (o, 0, (size_t) T * C * 4);
    attention_forward (o, s, qkv, qkv + C, qkv + 2 * C, ld, T, C, H, threads);
    check_close (what, o, ref, (size_t) T * C, 1e-5, 1e-5);
  }
  free (qkv), free (o), free (s), free (ref), free (p);
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
      matvec_forward (y, OC, x, IC, W, IC, B, 0.5f, R, IC, OC, 1);
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
      matvec_f16_forward (y16, OC, x, IC, W16, B, R, IC, OC, 2);
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

int
main (void)
{
  printf ("kernels: %s copy\n", kernels_cpu_path ());
  test_matmul ();
  test_matvec_f16 ();
  test_layernorm ();
  test_gelu_exp_erf ();
  test_softmax ();
  test_conv1d ();
  test_attention ();
  test_transpose ();
  printf ("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
