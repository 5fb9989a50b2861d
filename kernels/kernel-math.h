/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inline, vectorisable float math shared by the kernels (private header).
 *
 * GCC auto-vectorises loops calling these (with -O3 and AVX2/AVX-512), which
 * the C library's expf/erff do not allow without -ffast-math.  We keep
 * -ffast-math off in the whole engine (it would also reorder the LayerNorm
 * and softmax sums).  A file using them must be compiled with
 * -fno-trapping-math (math.c has a pragma): otherwise GCC 12 keeps the
 * clamps of kmath_exp() as branches and no loop calling it vectorises.
 */
#ifndef WHISPER_KERNEL_MATH_H
#define WHISPER_KERNEL_MATH_H

#include <stdint.h>
#include <string.h>
#include <math.h>

/* x rounded to the nearest integer, ties to even, for |x| <= 2^22: adding
 * and subtracting 1.5 * 2^23 leaves no fraction bits (the default rounding
 * mode rounds the sum to nearest even); vectorises, unlike nearbyintf.
 * The int8 quantisation's rounding (docs/quantization.md). */
static inline float
kmath_round_even (float x)
{
  const float magic = 12582912.0f;      /* 1.5 * 2^23 */
  return (x + magic) - magic;           /* no -ffast-math: not folded */
}

/* float32 -> bfloat16, rounded to nearest with ties to even (integer
 * arithmetic, so every copy and the vector loops agree); NaN -> quiet NaN
 * of the same sign */
static inline uint16_t
kernel_bf16_from_f32 (float x)
{
  uint32_t u;
  memcpy (&u, &x, 4);
  const uint32_t nan = (u & 0x7fffffffu) > 0x7f800000u;
  const uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return (uint16_t) (nan ? (u >> 16) | 0x40u : r);
}

static inline float
kernel_bf16_to_f32 (uint16_t h)
{
  const uint32_t u = (uint32_t) h << 16;
  float x;
  memcpy (&x, &u, 4);
  return x;
}

/* exp(x): Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, then a
 * degree-7 polynomial for e^r (the classic Cephes expf coefficients), then
 * scale by 2^n built in the exponent bits.  x is clamped to [-88, 88]:
 * below about -87.7, n = -127 makes the exponent bits 0, so the result is
 * +0.0 (the true value is subnormal there); above 88, exp(88). */
static inline float
kmath_exp (float x)
{
  float xc = x > 88.0f ? 88.0f : x;
  xc = xc < -88.0f ? -88.0f : xc;
  /* n = round(xc / ln2) by adding and removing 1.5 * 2^23 (floorf does not
   * vectorise under -ftrapping-math); exact for |xc / ln2| < 2^22 */
  const float magic = 12582912.0f;
  float n = (xc * 1.44269504088896341f + magic) - magic;
  float r = xc - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  int32_t bits = ((int32_t) n + 127) << 23;
  float scale;
  memcpy (&scale, &bits, sizeof scale);
  return p * scale;
}

/* erf(x) for x >= 1: Abramowitz & Stegun 7.1.26,
 *   erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) e^{-x^2},
 *   t = 1 / (1 + p x), absolute error <= 1.5e-7 (plus float rounding);
 * for |x| < 1, where 1 - (...) cancels and A&S is least accurate, the
 * Maclaurin series erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))
 * to n = 10 (truncation error < 2e-9 there).  Odd extension for x < 0.
 * Both branches are computed and blended, so that loops vectorise. */
static inline float
kmath_erf (float x)
{
  float ax = fabsf (x);
  float t = 1.0f / (1.0f + 0.3275911f * ax);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  poly = poly * t;
  float big = 1.0f - poly * kmath_exp (-ax * ax);
  float as = ax < 1.0f ? ax : 1.0f;      /* keeps the series finite */
  float z = as * as;
  float s = 1.0f / 76204800.0f;         /* n = 10: 1/(10! 21) */
  s = s * z - 1.0f / 6894720.0f;        /* n = 9 */
  s = s * z + 1.0f / 685440.0f;         /* n = 8 */
  s = s * z - 1.0f / 75600.0f;          /* n = 7 */
  s = s * z + 1.0f / 9360.0f;           /* n = 6 */
  s = s * z - 1.0f / 1320.0f;           /* n = 5: -1/(5! 11) */
  s = s * z + 1.0f / 216.0f;            /* n = 4 */
  s = s * z - 1.0f / 42.0f;             /* n = 3 */
  s = s * z + 1.0f / 10.0f;             /* n = 2 */
  s = s * z - 1.0f / 3.0f;              /* n = 1 */
  s = s * z + 1.0f;
  float small = 1.1283791670955126f * as * s;
  /* select by arithmetic: a ?: with the division in one arm is not
   * if-converted (and so not vectorised) under -ftrapping-math */
  float use_small = (float) (ax < 1.0f);
  float y = big + (small - big) * use_small;
  return copysignf (y, x);
}

#endif
