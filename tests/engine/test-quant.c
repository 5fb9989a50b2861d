/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the int8 quantisation and the int8 GEMM (kernels.h):
 * the definition (quantize_row_s8, dequantize_s32) on hand-computed
 * cases, and matmul_s8_forward against it, bit for bit, with an exact
 * integer reference written here, for 1 to 1500 rows (every tail of the
 * 4- and 8-row tiles, of the 2- and 4-panel tiles and of the 64-row
 * blocks), shapes
 * that are not multiples of the panel sizes, with and without bias and
 * accumulation, on no pool and pools of 2 and 3 threads; and the int8
 * attention (attention_s8_forward) against its definition written out
 * here, bit for bit, and near the float32 attention; the bfloat16
 * rounding on hand-computed cases and matmul_bf16_forward against float64
 * sums of its rounded operands. */
#include "kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_failed, n_passed;

static void
check (const char *what, int cond)
{
  printf ("%-56s %s\n", what, cond ? "ok" : "FAILED");
  if (cond)
    n_passed++;
  else
    n_failed++;
}

static unsigned long long rng_state = 0x2545F4914F6CDD1Dull;
/* deterministic, roughly Gaussian (sum of 4 uniforms): int8 rounding
 * meets many magnitudes, not only a flat range */
static float
grand (void)
{
  float s = 0.0f;
  for (int i = 0; i < 4; i++) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    s += (float) ((rng_state >> 40) / (double) (1ull << 24)) - 0.5f;
  }
  return s;
}

static void
test_quantize_row (void)
{
  int8_t q[8];
  /* max 2.54: s = 0.02; 0.01 * 127 / 2.54 = 0.5 -> 0 (tie to even),
   * 0.03 -> 1.5 -> 2, -0.05 -> -2.5 -> -2 */
  const float x[5] = { 2.54f, 0.01f, 0.03f, -0.05f, -2.54f };
  float s = quantize_row_s8 (q, x, 5);
  check ("quantize: scale = max|x| / 127", s == 2.54f / 127.0f);
  check ("quantize: max -> 127, -max -> -127", q[0] == 127 && q[4] == -127);
  int want1 = (int) nearbyintf (0.01f * (127.0f / 2.54f));
  int want2 = (int) nearbyintf (0.03f * (127.0f / 2.54f));
  int want3 = (int) nearbyintf (-0.05f * (127.0f / 2.54f));
  check ("quantize: rounding is nearbyintf of x * (127 / max)",
      q[1] == want1 && q[2] == want2 && q[3] == want3);
  const float ties[4] = { 127.0f, 0.5f, 1.5f, -2.5f };
  s = quantize_row_s8 (q, ties, 4);
  check ("quantize: ties to even (0.5 -> 0, 1.5 -> 2, -2.5 -> -2)",
      s == 1.0f && q[1] == 0 && q[2] == 2 && q[3] == -2);
  const float zeros[3] = { 0.0f, -0.0f, 0.0f };
  memset (q, 7, sizeof q);
  s = quantize_row_s8 (q, zeros, 3);
  check ("quantize: a zero row gives s = 0, q = 0",
      s == 0.0f && q[0] == 0 && q[1] == 0 && q[2] == 0);
  const float with_nan[3] = { 1.0f, NAN, -0.5f };
  s = quantize_row_s8 (q, with_nan, 3);
  check ("quantize: NaN element -> 0, others kept",
      s == 1.0f / 127.0f && q[0] == 127 && q[1] == 0 && q[2] == -64);
  check ("dequantize: fmaf (acc, s_a s_w, b)",
      dequantize_s32 (1000, 0.5f, 0.25f, 1.0f) == 126.0f
      && dequantize_s32 (-3, 2.0f, 1.5f, 0.0f) == -9.0f);
}

/* One case of matmul_s8_forward against the definition: returns the
 * number of outputs that differ in any bit. */
static long
gemm_case (int T, int IC, int OC, int with_bias, int accumulate,
    kernel_pool * pool, double *max_rel_f32)
{
  float *x = malloc (sizeof (float) * T * IC);
  float *w = malloc (sizeof (float) * OC * IC);
  float *b = malloc (sizeof (float) * OC);
  float *out = malloc (sizeof (float) * T * (OC + 3));
  float *want = malloc (sizeof (float) * T * (OC + 3));
  int8_t *qx = malloc ((size_t) T * IC), *qw = malloc ((size_t) OC * IC);
  float *sx = malloc (sizeof (float) * T), *sw = malloc (sizeof (float) * OC);
  for (int i = 0; i < T * IC; i++)
    x[i] = grand ();
  for (int i = 0; i < OC * IC; i++)
    w[i] = grand () * 0.1f;
  for (int i = 0; i < OC; i++)
    b[i] = grand ();
  const int ld = OC + 3;
  for (int i = 0; i < T * ld; i++)
    out[i] = want[i] = grand ();

  kernel_s8_matrix *m = kernel_s8_matrix_new (OC, IC);
  for (int o = 0; o < OC; o++) {
    sw[o] = quantize_row_s8 (qw + (size_t) o * IC, w + (size_t) o * IC, IC);
    kernel_s8_matrix_quantize_row (m, o, w + (size_t) o * IC);
  }
  for (int t = 0; t < T; t++)
    sx[t] = quantize_row_s8 (qx + (size_t) t * IC, x + (size_t) t * IC, IC);
  double max_rel = 0.0;
  for (int t = 0; t < T; t++)
    for (int o = 0; o < OC; o++) {
      long long acc = 0;
      double exact = with_bias ? b[o] : 0.0;
      for (int k = 0; k < IC; k++) {
        acc += qx[(size_t) t * IC + k] * qw[(size_t) o * IC + k];
        exact += (double) x[(size_t) t * IC + k] * w[(size_t) o * IC + k];
      }
      float y = dequantize_s32 ((int32_t) acc, sx[t], sw[o],
          with_bias ? b[o] : 0.0f);
      float *dst = &want[(size_t) t * ld + o];
      *dst = accumulate ? *dst + y : y;
      double rel = fabs (y - exact) / (fabs (exact) + 1.0);
      max_rel = rel > max_rel ? rel : max_rel;
    }
  void *scratch = aligned_alloc (64, (matmul_s8_scratch_size (T, IC) + 63)
      / 64 * 64);
  matmul_s8_forward (out, ld, scratch, x, IC, m, with_bias ? b : NULL, T,
      accumulate, pool);
  long bad = 0;
  for (int i = 0; i < T * ld; i++)
    bad += memcmp (&out[i], &want[i], sizeof (float)) != 0;
  *max_rel_f32 = max_rel;
  kernel_s8_matrix_free (m);
  free (scratch);
  free (x), free (w), free (b), free (out), free (want);
  free (qx), free (qw), free (sx), free (sw);
  return bad;
}

static void
test_matmul_s8 (void)
{
  kernel_pool *pools[3] = { NULL, kernel_pool_new (2), kernel_pool_new (3) };
  char what[128];
  const int shapes[][3] = {      /* T, IC, OC */
    {1, 384, 384}, {2, 30, 40}, {3, 7, 17}, {4, 64, 16}, {5, 384, 1536},
    {7, 1, 1}, {8, 100, 33}, {63, 96, 48}, {64, 384, 384},
    {65, 60, 50}, {130, 1536, 384}, {1500, 384, 384},
    /* AVX-512 tiles: 8 rows x 2 panels, 4 rows or fewer x 4 panels */
    {3, 64, 80}, {4, 36, 112}, {9, 72, 80}, {16, 40, 96}, {23, 20, 130},
  };
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (int variant = 0; variant < 3; variant++) {
      const int T = shapes[s][0], IC = shapes[s][1], OC = shapes[s][2];
      const int with_bias = variant != 1, accumulate = variant == 2;
      kernel_pool *pool = pools[(s + variant) % 3];
      double rel;
      long bad = gemm_case (T, IC, OC, with_bias, accumulate, pool, &rel);
      snprintf (what, sizeof what,
          "matmul_s8 %dx%dx%d%s%s, %d thr: bit-exact", T, IC, OC,
          with_bias ? " +b" : "", accumulate ? " +=" : "",
          kernel_pool_n_threads (pool));
      check (what, bad == 0);
      if (bad)
        printf ("    %ld outputs differ\n", bad);
      /* against float64: int8 keeps about 2 significant digits */
      if (IC >= 30 && rel > 0.05) {
        printf ("    relative error against float64 %.3g\n", rel);
        check ("matmul_s8 near the float64 product", 0);
      }
    }
  for (int i = 1; i < 3; i++)
    kernel_pool_free (pools[i]);
}

/* attention_s8_forward's definition (kernels.h), one query row at a time,
 * with plain loops and exact integer sums */
static void
ref_attention_s8 (float *out, const float *q, const float *k,
    const float *v, int ld, int T, int C, int H)
{
  const int hs = C / H;
  int8_t *k8 = malloc ((size_t) T * hs), *v8 = malloc ((size_t) T * hs);
  int8_t *q8 = malloc (hs), *hi = malloc (T), *lo = malloc (T);
  float *s_k = malloc (T * sizeof (float)), *s_v = malloc (hs * 4);
  float *row = malloc ((T + hs) * sizeof (float)), *e = malloc (T * 4);
  float *mean = malloc (hs * sizeof (float));
  for (int h = 0; h < H; h++) {
    for (int c = 0; c < hs; c++)
      mean[c] = 0.0f;
    for (int j = 0; j < T; j++)
      for (int c = 0; c < hs; c++)
        mean[c] += k[(size_t) j * ld + h * hs + c];
    for (int c = 0; c < hs; c++)
      mean[c] /= (float) T;
    for (int j = 0; j < T; j++) {
      for (int c = 0; c < hs; c++)
        row[c] = k[(size_t) j * ld + h * hs + c] - mean[c];
      s_k[j] = quantize_row_s8 (k8 + (size_t) j * hs, row, hs)
          * (1.0f / sqrtf ((float) hs));
    }
    for (int c = 0; c < hs; c++) {
      for (int t = 0; t < T; t++)
        row[t] = v[(size_t) t * ld + h * hs + c];
      s_v[c] = quantize_row_s8 (v8 + (size_t) c * T, row, T);
    }
    for (int i = 0; i < T; i++) {
      const float s_q = quantize_row_s8 (q8, q + (size_t) i * ld + h * hs,
          hs);
      for (int j = 0; j < T; j++) {
        int32_t acc = 0;
        for (int c = 0; c < hs; c++)
          acc += q8[c] * k8[(size_t) j * hs + c];
        e[j] = fmaf ((float) acc, s_q * s_k[j], 0.0f);
      }
      float norm;
      softmax_exp_rows_forward (e, &norm, 1, T);
      const float sh = quantize_row_s8 (hi, e, T);
      const float sl = sh * (1.0f / 254.0f);
      for (int j = 0; j < T; j++) {
        float r = nearbyintf (fmaf (-(float) hi[j], sh, e[j]) * (1.0f / sl));
        lo[j] = (int8_t) (r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r);
      }
      for (int c = 0; c < hs; c++) {
        int32_t a_hi = 0, a_lo = 0;
        for (int j = 0; j < T; j++) {
          a_hi += hi[j] * v8[(size_t) c * T + j];
          a_lo += lo[j] * v8[(size_t) c * T + j];
        }
        out[(size_t) i * C + h * hs + c] =
            (fmaf ((float) a_hi, sh * s_v[c], 0.0f)
            + fmaf ((float) a_lo, sl * s_v[c], 0.0f)) * norm;
      }
    }
  }
  free (k8), free (v8), free (q8), free (hi), free (lo);
  free (s_k), free (s_v), free (row), free (e), free (mean);
}

static void
test_attention_s8 (void)
{
  /* T: one block, a block and a tail; H x 64 channels; q k v as slices
   * of one [T][3C] array, as the encoder passes them */
  const int cases[][3] = { {50, 128, 2}, {300, 128, 2}, {129, 256, 4} };
  for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
    const int T = cases[n][0], C = cases[n][1], H = cases[n][2];
    const int ld = 3 * C;
    for (int threads = 1; threads <= 3; threads += 2) {
      kernel_pool *pool = threads > 1 ? kernel_pool_new (threads) : NULL;
      float *qkv = malloc (sizeof (float) * T * ld);
      float *out = malloc (sizeof (float) * T * C);
      float *ref = malloc (sizeof (float) * T * C);
      float *f32 = malloc (sizeof (float) * T * C);
      float *scratch = malloc (sizeof (float) * attention_scratch_size (T, C,
              H, threads));
      for (int i = 0; i < T * ld; i++)   /* keys with a common offset */
        qkv[i] = 2.0f * grand () + ((i % ld) >= C && (i % ld) < 2 * C
            ? 1.5f : 0.0f);
      kernel_attention_s8 *a = kernel_attention_s8_new (T, C, H, threads);
      attention_s8_forward (out, a, qkv, qkv + C, qkv + 2 * C, ld, pool);
      ref_attention_s8 (ref, qkv, qkv + C, qkv + 2 * C, ld, T, C, H);
      attention_forward (f32, scratch, qkv, qkv + C, qkv + 2 * C, ld, T, C,
          H, pool);
      long bad = 0;
      double dot = 0, n1 = 0, n2 = 0;
      for (int i = 0; i < T * C; i++) {
        bad += memcmp (&out[i], &ref[i], sizeof (float)) != 0;
        dot += (double) out[i] * f32[i];
        n1 += (double) out[i] * out[i];
        n2 += (double) f32[i] * f32[i];
      }
      const double cosine = dot / sqrt (n1 * n2);
      char what[128];
      snprintf (what, sizeof what, "attention_s8 T=%d C=%d H=%d, %d thr: "
          "bit-exact", T, C, H, threads);
      check (what, bad == 0);
      if (bad)
        printf ("    %ld outputs differ\n", bad);
      snprintf (what, sizeof what, "attention_s8 T=%d: cosine %.5f to "
          "float32 >= 0.999", T, cosine);
      check (what, cosine >= 0.999);
      kernel_attention_s8_free (a);
      kernel_pool_free (pool);
      free (qkv), free (out), free (ref), free (f32), free (scratch);
    }
  }
  check ("attention_s8: hs not a multiple of 4 is refused",
      kernel_attention_s8_new (10, 6, 1, 1) == NULL);
}

static uint16_t
bits_bf16 (float x)
{
  uint16_t h;
  bf16_from_f32_forward (&h, &x, 1);
  return h;
}

static float
bf16_value (float x)
{
  uint32_t u = (uint32_t) bits_bf16 (x) << 16;
  float y;
  memcpy (&y, &u, 4);
  return y;
}

static void
test_bf16_round (void)
{
  /* 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties to even (1);
   * 1 + 3 2^-8 between 1 + 2^-7 and 1 + 2^-6: to 1 + 2^-6 */
  check ("bf16: 1 -> 0x3f80, -2 -> 0xc000",
      bits_bf16 (1.0f) == 0x3f80 && bits_bf16 (-2.0f) == 0xc000);
  check ("bf16: ties to even",
      bits_bf16 (1.0f + 1.0f / 256) == 0x3f80
      && bits_bf16 (1.0f + 3.0f / 256) == 0x3f82);
  check ("bf16: above the tie rounds up",
      bits_bf16 (1.0f + 1.0f / 256 + 1.0f / 65536) == 0x3f81);
  check ("bf16: inf stays, the largest float rounds to inf",
      bits_bf16 (INFINITY) == 0x7f80 && bits_bf16 (-INFINITY) == 0xff80
      && bits_bf16 (3.4028235e38f) == 0x7f80);
  check ("bf16: NaN stays NaN", isnan (bf16_value (NAN)));
  check ("bf16: denormals kept", bf16_value (1e-39f) != 0.0f);
}

/* attention_bf16_forward's definition (kernels.h) in float64, with E and
 * V rounded to bfloat16 as the kernel rounds them */
static void
ref_attention_bf16 (double *out, const float *q, const float *k,
    const float *v, int ld, int T, int C, int H)
{
  const int hs = C / H;
  double *e = malloc (sizeof (double) * T);
  float *vr = malloc (sizeof (float) * T * C);
  for (int t = 0; t < T; t++)
    for (int c = 0; c < C; c++)
      vr[(size_t) t * C + c] = bf16_value (v[(size_t) t * ld + c]);
  for (int h = 0; h < H; h++)
    for (int i = 0; i < T; i++) {
      double mx = -INFINITY, sum = 0.0;
      for (int j = 0; j < T; j++) {
        double d = 0.0;
        for (int c = 0; c < hs; c++)
          d += (double) q[(size_t) i * ld + h * hs + c]
              * k[(size_t) j * ld + h * hs + c];
        e[j] = d / sqrt ((double) hs);
        mx = e[j] > mx ? e[j] : mx;
      }
      for (int j = 0; j < T; j++) {
        e[j] = exp (e[j] - mx);
        sum += e[j];
        e[j] = bf16_value ((float) e[j]);
      }
      for (int c = 0; c < hs; c++) {
        double o = 0.0;
        for (int j = 0; j < T; j++)
          o += e[j] * vr[(size_t) j * C + h * hs + c];
        out[(size_t) i * C + h * hs + c] = o / sum;
      }
    }
  free (e);
  free (vr);
}

static void
test_attention_bf16 (void)
{
  const int cases[][3] = { {50, 128, 2}, {300, 128, 2}, {129, 256, 4} };
  for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
    const int T = cases[n][0], C = cases[n][1], H = cases[n][2];
    const int ld = 3 * C;
    for (int threads = 1; threads <= 3; threads += 2) {
      kernel_pool *pool = threads > 1 ? kernel_pool_new (threads) : NULL;
      float *qkv = malloc (sizeof (float) * T * ld);
      float *out = malloc (sizeof (float) * T * C);
      float *f32 = malloc (sizeof (float) * T * C);
      double *ref = malloc (sizeof (double) * T * C);
      float *scratch = malloc (sizeof (float) * attention_scratch_size (T, C,
              H, threads));
      for (int i = 0; i < T * ld; i++)
        qkv[i] = 2.0f * grand ();
      kernel_attention_bf16 *a = kernel_attention_bf16_new (T, C, H,
          threads);
      attention_bf16_forward (out, a, qkv, qkv + C, qkv + 2 * C, ld, pool);
      ref_attention_bf16 (ref, qkv, qkv + C, qkv + 2 * C, ld, T, C, H);
      attention_forward (f32, scratch, qkv, qkv + C, qkv + 2 * C, ld, T, C,
          H, pool);
      double worst = 0.0, dot = 0, n1 = 0, n2 = 0, vmax = 0.0;
      for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++)
          vmax = fmax (vmax, fabs (qkv[(size_t) t * ld + 2 * C + c]));
      for (int i = 0; i < T * C; i++) {
        const double d = fabs (out[i] - ref[i]);
        worst = d > worst ? d : worst;
        dot += (double) out[i] * f32[i];
        n1 += (double) out[i] * out[i];
        n2 += (double) f32[i] * f32[i];
      }
      const double cosine = dot / sqrt (n1 * n2);
      char what[128];
      /* S in float32 (the kernel) or float64 (the reference) can round a
       * probability to the neighbouring bfloat16 value: one step, 2^-8 of
       * it, times a value, at most */
      snprintf (what, sizeof what, "attention_bf16 T=%d C=%d H=%d, %d thr: "
          "%.1e from its definition", T, C, H, threads, worst);
      check (what, worst < vmax / 256.0);
      snprintf (what, sizeof what, "attention_bf16 T=%d: cosine %.6f to "
          "float32 >= 0.9999", T, cosine);
      check (what, cosine >= 0.9999);
      kernel_attention_bf16_free (a);
      kernel_pool_free (pool);
      free (qkv), free (out), free (ref), free (f32), free (scratch);
    }
  }
}

/* matmul_bf16_forward against float64 sums of the bfloat16-rounded
 * operands: within the float32 summation's error bound */
static void
test_matmul_bf16 (void)
{
  kernel_pool *pools[3] = { NULL, kernel_pool_new (2), kernel_pool_new (3) };
  const int shapes[][3] = {      /* T, IC, OC */
    {1, 384, 384}, {2, 31, 40}, {3, 7, 17}, {5, 384, 1536}, {8, 100, 33},
    {9, 64, 80}, {17, 2, 50}, {63, 96, 48}, {65, 60, 50}, {130, 1536, 384},
    {1500, 384, 384},
  };
  char what[128];
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (int variant = 0; variant < 3; variant++) {
      const int T = shapes[s][0], IC = shapes[s][1], OC = shapes[s][2];
      const int with_bias = variant != 1, accumulate = variant == 2;
      kernel_pool *pool = pools[(s + variant) % 3];
      const int ld = OC + 5;
      float *x = malloc (sizeof (float) * T * IC);
      float *w = malloc (sizeof (float) * OC * IC), *b = malloc (4 * OC);
      float *out = malloc (sizeof (float) * T * ld);
      float *before = malloc (sizeof (float) * T * ld);
      for (int i = 0; i < T * IC; i++)
        x[i] = grand () * 3.0f;
      for (int i = 0; i < OC * IC; i++)
        w[i] = grand () * 0.1f;
      for (int i = 0; i < OC; i++)
        b[i] = grand ();
      for (int i = 0; i < T * ld; i++)
        out[i] = before[i] = grand ();
      kernel_bf16_matrix *m = kernel_bf16_matrix_new (OC, IC);
      for (int o = 0; o < OC; o++)
        kernel_bf16_matrix_set_row (m, o, w + (size_t) o * IC);
      void *scratch = aligned_alloc (64,
          (matmul_bf16_scratch_size (T, IC) + 63) / 64 * 64);
      matmul_bf16_forward (out, ld, scratch, x, IC, m, with_bias ? b : NULL,
          T, accumulate, pool);
      float *xr = malloc (sizeof (float) * T * IC);
      float *wr = malloc (sizeof (float) * OC * IC);
      for (int i = 0; i < T * IC; i++)
        xr[i] = bf16_value (x[i]);
      for (int i = 0; i < OC * IC; i++)
        wr[i] = bf16_value (w[i]);
      long bad = 0, untouched = 0;
      double worst = 0.0, rel64 = 0.0;
      for (int t = 0; t < T; t++)
        for (int o = 0; o < ld; o++) {
          const float got = out[(size_t) t * ld + o];
          if (o >= OC) {
            untouched += got != before[(size_t) t * ld + o];
            continue;
          }
          double ref = 0.0, mag = 0.0, exact = 0.0;
          for (int k = 0; k < IC; k++) {
            double p = (double) xr[(size_t) t * IC + k]
                * wr[(size_t) o * IC + k];
            ref += p;
            mag += fabs (p);
            exact += (double) x[(size_t) t * IC + k] * w[(size_t) o * IC + k];
          }
          const double bias = with_bias ? b[o] : 0.0;
          const double base = accumulate ? before[(size_t) t * ld + o] : 0.0;
          ref += bias + base;
          mag += fabs (bias) + fabs (base);
          const double err = fabs (got - ref) / (mag * (IC + 3) * 6e-8 + 1e-30);
          worst = err > worst ? err : worst;
          bad += err > 1.0;
          double rel = fabs (got - (exact + bias + base)) / (mag + 1e-30);
          rel64 = rel > rel64 ? rel : rel64;
        }
      snprintf (what, sizeof what, "matmul_bf16 %dx%dx%d%s%s, %d thr: "
          "float32 sums", T, IC, OC, with_bias ? " +b" : "",
          accumulate ? " +=" : "", kernel_pool_n_threads (pool));
      check (what, bad == 0 && untouched == 0);
      if (bad || untouched)
        printf ("    %ld outputs beyond the bound (worst %.2f of it), %ld "
            "columns past OC written\n", bad, worst, untouched);
      /* against the unrounded float64 product: bfloat16 keeps 8 bits */
      if (IC >= 30 && rel64 > 0.02) {
        printf ("    error against float64 %.3g of sum |a w|\n", rel64);
        check ("matmul_bf16 near the float64 product", 0);
      }
      kernel_bf16_matrix_free (m);
      free (scratch), free (x), free (w), free (b), free (out), free (before);
      free (xr), free (wr);
    }
  for (int i = 1; i < 3; i++)
    kernel_pool_free (pools[i]);
}

int
main (void)
{
  printf ("kernels: %s copy\n", kernels_cpu_path ());
  test_quantize_row ();
  test_matmul_s8 ();
  test_attention_s8 ();
  test_bf16_round ();
  test_matmul_bf16 ();
  test_attention_bf16 ();
  printf ("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
