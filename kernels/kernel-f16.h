/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IEEE half <-> single in portable C (inline, through kernels.h), exact for every
 * half; single -> half rounds to nearest even (what numpy's astype and
 * F16C's vcvtps2ph with _MM_FROUND_TO_NEAREST_INT do). */
#ifndef WHISPER_KERNEL_F16_H
#define WHISPER_KERNEL_F16_H

#include <stdint.h>
#include <string.h>

static inline float
kf16_bits_to_f32 (uint32_t u)
{
  float f;
  memcpy (&f, &u, 4);
  return f;
}

/* half -> single, exact (subnormals, inf, NaN kept), branch-free so that
 * loops over it vectorise: the half's exponent and mantissa bits moved to
 * their float places give the value times 2^-112, which the multiplication
 * restores exactly (subnormal halves come from subnormal floats); exponent
 * 31 (inf, NaN) is set to 255 instead. */
static inline float
kf16_to_f32 (uint16_t h)
{
  uint32_t u = (uint32_t) (h & 0x7fff) << 13;
  float f = kf16_bits_to_f32 (u) * 0x1p112f;
  uint32_t bits;
  memcpy (&bits, &f, 4);
  bits = (h & 0x7c00) == 0x7c00 ? (u | 0x7f800000u) : bits;
  return kf16_bits_to_f32 (bits | (uint32_t) (h & 0x8000) << 16);
}

/* single -> half, round to nearest even */
static inline uint16_t
kf32_to_f16 (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  uint16_t sign = (x >> 16) & 0x8000;
  uint32_t a = x & 0x7fffffff;
  if (a > 0x7f800000u)          /* NaN: keep it a quiet NaN */
    return sign | 0x7e00 | ((a >> 13) & 0x3ff);
  if (a >= 0x477ff000u)         /* >= 65520 rounds to infinity */
    return sign | 0x7c00;
  if (a < 0x38800000u) {        /* below the smallest normal half 2^-14 */
    uint32_t e = a >> 23;
    if (e < 102)                /* < 2^-25: rounds to zero */
      return sign;
    uint32_t m = (a & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e;   /* 14 .. 24 */
    uint32_t r = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1)))
      r++;
    return sign | (uint16_t) r;
  }
  uint32_t h = (a - 0x38000000u) >> 13;
  uint32_t rem = a & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
    h++;
  return sign | (uint16_t) h;
}

#endif
