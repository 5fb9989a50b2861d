/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* int8 GEMM tiles: rows of quantised activations times panels of a packed
 * int8 weight (kernels.h, kernel_s8_matrix), the whole sum over IC in
 * int32, then one dequantise + bias step per output.  Compiled once per
 * instruction set (kernel-isa.h); the integer sums are exact, so every
 * copy gives the same bits.
 *
 * A tile is up to 4 rows x 16 outputs (one panel).  AVX2 has no signed x
 * signed byte product: vpmaddubsw multiplies unsigned by signed bytes and
 * adds pairs into saturating int16.  With both operands in -127 .. 127,
 * |a| (unsigned) times sign(a) w keeps every pair sum within
 * 2 x 127 x 127 = 32258 < 32767, so nothing saturates; vpmaddwd by ones
 * then widens to int32 (docs/quantization.md).
 *
 * AVX-512 VNNI: vpdpbusd multiplies unsigned by signed bytes and adds the
 * four products into int32 without saturation, and takes its signed
 * operand as a 4-byte broadcast from memory.  The activations are that
 * operand; the weights, loaded as they are packed, become unsigned by
 * flipping their top bit (w + 128).  The sum then carries
 * 128 x (the row's sum of activations), subtracted once per row: exact,
 * since |sum| <= 255 x 127 x ICp fits in int32 for every Whisper width. */
#include "kernel-isa.h"

#include <math.h>
#include <string.h>

#if defined KERNEL_ISA_AVX2 || defined KERNEL_ISA_AVX512
#include <immintrin.h>
#endif

#define NR KERNEL_S8_PANEL
#ifdef KERNEL_ISA_AVX512
#define MR 8                    /* rows per tile */
#else
#define MR 4
#endif

#ifndef KERNEL_ISA_AVX512
/* acc [mr][16] -> out rows: y = fmaf (acc, s_a s_w, b) (dequantize_s32),
 * added to out when accumulating */
static inline void
store_tile (float *out, int ld_out, const int32_t * acc, const float *sa,
    const float *sw, const float *bias, int mr, int nc, int accumulate)
{
  for (int r = 0; r < mr; r++) {
    float *o = out + (size_t) r * ld_out;
    for (int c = 0; c < nc; c++) {
      float y = fmaf ((float) acc[r * NR + c], sa[r] * sw[c],
          bias ? bias[c] : 0.0f);
      o[c] = accumulate ? o[c] + y : y;
    }
  }
}
#endif

#ifdef KERNEL_ISA_AVX512

#define NP_MAX 4                /* panels per tile */

/* out rows (+)= dequantised acc rows (the row correction applied here),
 * np panels of 16: the same fmaf as store_tile, 16 lanes at a time */
static inline __attribute__((always_inline)) void
store_tile_avx512 (float *out, int ld_out, __m512i c[][NP_MAX],
    const int32_t * fix, const float *sa, const float *sw, const float *bias,
    int nc, const int mr, const int np, int accumulate)
{
  for (int i = 0; i < np; i++) {
    const int n = nc - i * NR < NR ? nc - i * NR : NR;
    if (n <= 0)
      break;
    const __mmask16 m = (__mmask16) ((1u << n) - 1);
    const __m512 w = _mm512_maskz_loadu_ps (m, sw + i * NR);
    const __m512 b = bias ? _mm512_maskz_loadu_ps (m, bias + i * NR) :
        _mm512_setzero_ps ();
    for (int r = 0; r < mr; r++) {
      float *o = out + (size_t) r * ld_out + i * NR;
      const __m512 acc = _mm512_cvtepi32_ps (_mm512_sub_epi32 (c[r][i],
              _mm512_set1_epi32 (fix[r])));
      __m512 y = _mm512_fmadd_ps (acc,
          _mm512_mul_ps (_mm512_set1_ps (sa[r]), w), b);
      if (accumulate)
        y = _mm512_add_ps (_mm512_maskz_loadu_ps (m, o), y);
      _mm512_mask_storeu_ps (o, m, y);
    }
  }
}

static inline int32_t
row_sum_s8 (const int8_t * row, int n)
{
  int32_t sum = 0;
  for (int k = 0; k < n; k++)
    sum += row[k];
  return sum;
}

/* out rows r .. r + mr - 1, outputs of np panels from panel =
 * qa [mr][ICp] . panels [np][ICp / 4][16][4] (panel i at panel + i
 * ld_panel), dequantised */
static inline __attribute__((always_inline)) void
tile_avx512 (float *out, int ld_out, const int8_t * qa, int ld_qa,
    const int8_t * panel, size_t ld_panel, int ICp, const float *sa,
    const float *sw, const float *bias, int nc, int accumulate,
    const int mr, const int np)
{
  const __m512i flip = _mm512_set1_epi8 ((char) 0x80);
  __m512i c[MR][NP_MAX];
  for (int r = 0; r < mr; r++)
    for (int i = 0; i < np; i++)
      c[r][i] = _mm512_setzero_si512 ();
  const int8_t *a_row[MR];
  for (int r = 0; r < mr; r++)
    a_row[r] = qa + (size_t) r * ld_qa;
  for (int k = 0; k < ICp; k += 4) {
    __m512i w[NP_MAX];
    for (int i = 0; i < np; i++)
      w[i] = _mm512_xor_si512 (flip,
          _mm512_load_si512 ((const void *) (panel + i * ld_panel)));
    panel += 4 * NR;
    for (int r = 0; r < mr; r++) {
      int32_t a4;
      memcpy (&a4, a_row[r] + k, 4);
      const __m512i a = _mm512_set1_epi32 (a4);
      for (int i = 0; i < np; i++)
        c[r][i] = _mm512_dpbusd_epi32 (c[r][i], w[i], a);
    }
  }
  int32_t fix[MR];
  for (int r = 0; r < mr; r++)
    fix[r] = 128 * row_sum_s8 (a_row[r], ICp);
  store_tile_avx512 (out, ld_out, c, fix, sa, sw, bias, nc, mr, np,
      accumulate);
}

/* the full tile, 8 rows x 2 panels, with its 16 sums in named variables:
 * GCC keeps an array of accumulators in registers only with copies and
 * spills between the products (measured 1.7x slower) */
static void
tile_8x2_avx512 (float *out, int ld_out, const int8_t * qa, int ld_qa,
    const int8_t * panel, size_t ld_panel, int ICp, const float *sa,
    const float *sw, const float *bias, int nc, int accumulate)
{
  const __m512i flip = _mm512_set1_epi8 ((char) 0x80);
  const int8_t *a0 = qa, *a1 = qa + ld_qa, *a2 = qa + 2 * (size_t) ld_qa,
      *a3 = qa + 3 * (size_t) ld_qa, *a4 = qa + 4 * (size_t) ld_qa,
      *a5 = qa + 5 * (size_t) ld_qa, *a6 = qa + 6 * (size_t) ld_qa,
      *a7 = qa + 7 * (size_t) ld_qa;
  __m512i c00 = _mm512_setzero_si512 (), c01 = c00, c10 = c00, c11 = c00,
      c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00,
      c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  for (int k = 0; k < ICp; k += 4) {
    const __m512i w0 = _mm512_xor_si512 (flip,
        _mm512_load_si512 ((const void *) panel));
    const __m512i w1 = _mm512_xor_si512 (flip,
        _mm512_load_si512 ((const void *) (panel + ld_panel)));
    panel += 4 * NR;
    int32_t v;
#define ROW(r) \
    memcpy (&v, a##r + k, 4); \
    c##r##0 = _mm512_dpbusd_epi32 (c##r##0, w0, _mm512_set1_epi32 (v)); \
    c##r##1 = _mm512_dpbusd_epi32 (c##r##1, w1, _mm512_set1_epi32 (v))
    ROW (0);
    ROW (1);
    ROW (2);
    ROW (3);
    ROW (4);
    ROW (5);
    ROW (6);
    ROW (7);
#undef ROW
  }
  __m512i c[MR][NP_MAX] = {
    {c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
    {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71},
  };
  int32_t fix[MR];
  for (int r = 0; r < MR; r++)
    fix[r] = 128 * row_sum_s8 (qa + (size_t) r * ld_qa, ICp);
  store_tile_avx512 (out, ld_out, c, fix, sa, sw, bias, nc, MR, 2,
      accumulate);
}

/* up to 8 rows by 2 panels, or up to 4 rows by 4 panels: 16 accumulators
 * at most, and enough independent sums to hide vpdpbusd's latency when
 * there are few rows (the decoder) */
#define TILE_CASE(n, npan) \
    case n: \
      tile_avx512 (out, ld_out, qa, ld_qa, panel, ld_panel, ICp, sa, sw, \
          bias, nc, accumulate, n, npan); \
      break

static void
tile_np (float *out, int ld_out, const int8_t * qa, int ld_qa,
    const int8_t * panel, size_t ld_panel, int ICp, const float *sa,
    const float *sw, const float *bias, int nc, int accumulate, int mr,
    int np)
{
  if (np == 4) {
    switch (mr) {
        TILE_CASE (1, 4);
        TILE_CASE (2, 4);
        TILE_CASE (3, 4);
      default:
        TILE_CASE (4, 4);
    }
  } else if (np == 3) {
    switch (mr) {
        TILE_CASE (1, 3);
        TILE_CASE (2, 3);
        TILE_CASE (3, 3);
        TILE_CASE (4, 3);
        TILE_CASE (5, 3);
      default:
        TILE_CASE (6, 3);
    }
  } else if (np == 2) {
    if (mr == 8) {
      tile_8x2_avx512 (out, ld_out, qa, ld_qa, panel, ld_panel, ICp, sa, sw,
          bias, nc, accumulate);
      return;
    }
    switch (mr) {
        TILE_CASE (1, 2);
        TILE_CASE (2, 2);
        TILE_CASE (3, 2);
        TILE_CASE (4, 2);
        TILE_CASE (5, 2);
        TILE_CASE (6, 2);
      default:
        TILE_CASE (7, 2);
    }
  } else {
    switch (mr) {
        TILE_CASE (1, 1);
        TILE_CASE (2, 1);
        TILE_CASE (3, 1);
        TILE_CASE (4, 1);
        TILE_CASE (5, 1);
        TILE_CASE (6, 1);
        TILE_CASE (7, 1);
      default:
        TILE_CASE (8, 1);
    }
  }
}

#undef TILE_CASE

#elif defined KERNEL_ISA_AVX2

/* acc [mr][16] = qa [mr][ICp] . panel [ICp / 4][16][4] */
static inline __attribute__((always_inline)) void
tile_avx2 (int32_t * acc, const int8_t * qa, int ld_qa,
    const int8_t * panel, int ICp, const int mr)
{
  const __m256i ones = _mm256_set1_epi16 (1);
  __m256i c[MR][2];
  for (int r = 0; r < mr; r++)
    c[r][0] = c[r][1] = _mm256_setzero_si256 ();
  for (int k = 0; k < ICp; k += 4) {
    const __m256i w0 = _mm256_load_si256 ((const __m256i *) panel);
    const __m256i w1 = _mm256_load_si256 ((const __m256i *) (panel + 32));
    panel += 4 * NR;
    for (int r = 0; r < mr; r++) {
      int32_t a4;
      memcpy (&a4, qa + (size_t) r * ld_qa + k, 4);
      const __m256i a = _mm256_set1_epi32 (a4);
      const __m256i aa = _mm256_abs_epi8 (a);
      c[r][0] = _mm256_add_epi32 (c[r][0], _mm256_madd_epi16 (
              _mm256_maddubs_epi16 (aa, _mm256_sign_epi8 (w0, a)), ones));
      c[r][1] = _mm256_add_epi32 (c[r][1], _mm256_madd_epi16 (
              _mm256_maddubs_epi16 (aa, _mm256_sign_epi8 (w1, a)), ones));
    }
  }
  for (int r = 0; r < mr; r++) {
    _mm256_storeu_si256 ((__m256i *) (acc + r * NR), c[r][0]);
    _mm256_storeu_si256 ((__m256i *) (acc + r * NR + 8), c[r][1]);
  }
}

static void
tile (int32_t * acc, const int8_t * qa, int ld_qa, const int8_t * panel,
    int ICp, int mr)
{
  switch (mr) {
    case 1:
      tile_avx2 (acc, qa, ld_qa, panel, ICp, 1);
      break;
    case 2:
      tile_avx2 (acc, qa, ld_qa, panel, ICp, 2);
      break;
    case 3:
      tile_avx2 (acc, qa, ld_qa, panel, ICp, 3);
      break;
    default:
      tile_avx2 (acc, qa, ld_qa, panel, ICp, 4);
      break;
  }
}

#else

static void
tile (int32_t * acc, const int8_t * qa, int ld_qa, const int8_t * panel,
    int ICp, int mr)
{
  for (int i = 0; i < mr * NR; i++)
    acc[i] = 0;
  for (int k = 0; k < ICp; k += 4) {
    for (int r = 0; r < mr; r++) {
      const int8_t *a = qa + (size_t) r * ld_qa + k;
      int32_t *o = acc + r * NR;
      for (int c = 0; c < NR; c++) {
        const int8_t *w = panel + c * 4;
        o[c] += a[0] * w[0] + a[1] * w[1] + a[2] * w[2] + a[3] * w[3];
      }
    }
    panel += 4 * NR;
  }
}

#endif

void
KFN (gemm_s8_forward) (float *out, int ld_out, const int8_t * qa, int ld_qa,
    const float *sa, const kernel_s8_matrix * w, const float *bias, int R,
    int p0, int np, int accumulate)
{
  /* out [R][ld_out] (outputs of panels p0 .. p0+np-1), qa [R][ld_qa]
   * (ld_qa >= ICp, zero padded), sa [R] */
  const size_t ld_panel = (size_t) NR * w->ICp;
#ifdef KERNEL_ISA_AVX512
  /* rows in tiles of 8 over 2 panels; with 4 rows or fewer left (the
   * decoder's beams), tiles of 4 panels */
  const int tile_panels = R <= 4 ? 4 : 2;
  for (int p = p0; p < p0 + np; p += tile_panels) {
    const int pn = p0 + np - p < tile_panels ? p0 + np - p : tile_panels;
    const int8_t *panel = w->w + (size_t) p * ld_panel;
    const int c0 = p * NR;
    const int nc = w->OC - c0;
    for (int r = 0; r < R; r += MR) {
      const int mr = R - r < MR ? R - r : MR;
      tile_np (out + (size_t) r * ld_out + c0, ld_out,
          qa + (size_t) r * ld_qa, ld_qa, panel, ld_panel, w->ICp, sa + r,
          w->scale + c0, bias ? bias + c0 : NULL, nc, accumulate, mr, pn);
    }
  }
#else
  int32_t acc[MR * NR];
  for (int p = p0; p < p0 + np; p++) {
    const int8_t *panel = w->w + (size_t) p * ld_panel;
    const int c0 = p * NR;
    const int nc = w->OC - c0 < NR ? w->OC - c0 : NR;
    for (int r = 0; r < R; r += MR) {
      const int mr = R - r < MR ? R - r : MR;
      tile (acc, qa + (size_t) r * ld_qa, ld_qa, panel, w->ICp, mr);
      store_tile (out + (size_t) r * ld_out + c0, ld_out, acc, sa + r,
          w->scale + c0, bias ? bias + c0 : NULL, mr, nc, accumulate);
    }
  }
#endif
}
