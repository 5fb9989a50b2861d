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
 * then widens to int32 (docs/quantization.md). */
#include "kernel-isa.h"

#include <math.h>
#include <string.h>

#ifdef KERNEL_ISA_AVX2
#include <immintrin.h>
#endif

#define MR 4
#define NR KERNEL_S8_PANEL

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

#ifdef KERNEL_ISA_AVX2

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
  int32_t acc[MR * NR];
  for (int p = p0; p < p0 + np; p++) {
    const int8_t *panel = w->w + (size_t) p * NR * w->ICp;
    const int c0 = p * NR;
    const int nc = w->OC - c0 < NR ? w->OC - c0 : NR;
    for (int r = 0; r < R; r += MR) {
      const int mr = R - r < MR ? R - r : MR;
      tile (acc, qa + (size_t) r * ld_qa, ld_qa, panel, w->ICp, mr);
      store_tile (out + (size_t) r * ld_out + c0, ld_out, acc, sa + r,
          w->scale + c0, bias ? bias + c0 : NULL, mr, nc, accumulate);
    }
  }
}
