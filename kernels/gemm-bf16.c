/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bfloat16 GEMM tiles: rows of bfloat16 activations times panels of a
 * packed bfloat16 weight (kernels.h, kernel_bf16_matrix), summed in
 * float32, then the bias.  Compiled once per instruction set
 * (kernel-isa.h).
 *
 * A product of two bfloat16 values is exact in float32 (8 + 8 significant
 * bits), so the only roundings are the float32 additions.  The AVX-512
 * copy uses vdpbf16ps: per float32 lane, acc += a[2i+1] w[2i+1], then
 * acc += a[2i] w[2i] (Intel's definition; denormal inputs and outputs
 * flushed to zero); its small tile keeps two partial sums.  The other
 * copies add in input order with plain float32 arithmetic, so the copies
 * agree to float32 rounding, not bit for bit.  They are kept for CPUs
 * without AVX-512 BF16 (several times slower than sgemm there). */
#include "kernel-isa.h"
#include "kernel-math.h"

#include <string.h>

#ifdef KERNEL_ISA_AVX512
#include <immintrin.h>
#endif

#define NR KERNEL_BF16_PANEL

void
KFN (bf16_from_f32_forward) (uint16_t * out, const float *inp, size_t N)
{
  for (size_t i = 0; i < N; i++)
    out[i] = kernel_bf16_from_f32 (inp[i]);
}

/* out rows (+)= acc [mr][16] rows + bias, nc <= 16 outputs */
static inline void
store_rows (float *out, int ld_out, const float *acc, const float *bias,
    int mr, int nc, int accumulate)
{
  for (int r = 0; r < mr; r++) {
    float *o = out + (size_t) r * ld_out;
    const float *a = acc + (size_t) r * NR;
    for (int c = 0; c < nc; c++) {
      const float y = bias ? a[c] + bias[c] : a[c];
      o[c] = accumulate ? o[c] + y : y;
    }
  }
}

#ifndef KERNEL_ISA_AVX512
/* GCC 12.2 (Debian 12) at -O3 vectorises the pair loop below as an outer
 * loop and gets its sums wrong: one pair too many, read past the rows (a
 * 30-line copy summing 8 ones gave 10; 8 with -fno-tree-loop-vectorize).
 * So loop vectorisation is off for this function; the 16-wide inner loop
 * is still vectorised as straight-line code. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_LOOP_VECTORIZE __attribute__((optimize ("no-tree-loop-vectorize")))
#else
#define NO_LOOP_VECTORIZE
#endif

/* acc [mr][16] = qa [mr][ICp] . panel [ICp / 2][16][2], in float32, each
 * output's sum in input order */
static void NO_LOOP_VECTORIZE
tile_c (float *acc, const uint16_t * qa, int ld_qa, const uint16_t * panel,
    int ICp, int mr)
{
  for (int r = 0; r < mr; r++) {
    const uint16_t *a = qa + (size_t) r * ld_qa;
    float o[NR] = { 0 };
    for (int k = 0; k < ICp; k += 2) {
      const float a0 = kernel_bf16_to_f32 (a[k]);
      const float a1 = kernel_bf16_to_f32 (a[k + 1]);
      const uint16_t *pk = panel + (size_t) k * NR;
      for (int c = 0; c < NR; c++) {
        float t = o[c] + a1 * kernel_bf16_to_f32 (pk[c * 2 + 1]);
        o[c] = t + a0 * kernel_bf16_to_f32 (pk[c * 2]);
      }
    }
    memcpy (acc + r * NR, o, sizeof o);
  }
}
#endif

#ifdef KERNEL_ISA_AVX512

/* the full tile: 8 rows x 2 panels, the 16 sums in named variables (see
 * gemm-s8.c: GCC copies an array of accumulators between the products) */
static void
tile_8x2_avx512 (float *out, int ld_out, const uint16_t * qa, int ld_qa,
    const uint16_t * panel, size_t ld_panel, int ICp, const float *bias,
    int nc, int accumulate)
{
  const uint16_t *a0 = qa, *a1 = qa + ld_qa, *a2 = qa + 2 * (size_t) ld_qa,
      *a3 = qa + 3 * (size_t) ld_qa, *a4 = qa + 4 * (size_t) ld_qa,
      *a5 = qa + 5 * (size_t) ld_qa, *a6 = qa + 6 * (size_t) ld_qa,
      *a7 = qa + 7 * (size_t) ld_qa;
  __m512 c00 = _mm512_setzero_ps (), c01 = c00, c10 = c00, c11 = c00,
      c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00,
      c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  for (int k = 0; k < ICp; k += 2) {
    const __m512bh w0 = (__m512bh) _mm512_load_si512 ((const void *) panel);
    const __m512bh w1 = (__m512bh) _mm512_load_si512 ((const void *)
        (panel + ld_panel));
    panel += 2 * NR;
    int32_t v;
#define ROW(r) \
    memcpy (&v, a##r + k, 4); \
    c##r##0 = _mm512_dpbf16_ps (c##r##0, w0, \
        (__m512bh) _mm512_set1_epi32 (v)); \
    c##r##1 = _mm512_dpbf16_ps (c##r##1, w1, \
        (__m512bh) _mm512_set1_epi32 (v))
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
  const __m512 c[8][2] = {
    {c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
    {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71},
  };
  for (int i = 0; i < 2; i++) {
    const int n = nc - i * NR < NR ? nc - i * NR : NR;
    if (n <= 0)
      break;
    const __mmask16 m = (__mmask16) ((1u << n) - 1);
    const __m512 b = bias ? _mm512_maskz_loadu_ps (m, bias + i * NR) :
        _mm512_setzero_ps ();
    for (int r = 0; r < 8; r++) {
      float *o = out + (size_t) r * ld_out + i * NR;
      __m512 y = _mm512_add_ps (c[r][i], b);
      if (accumulate)
        y = _mm512_add_ps (_mm512_maskz_loadu_ps (m, o), y);
      _mm512_mask_storeu_ps (o, m, y);
    }
  }
}

/* fewer than 8 rows, or one panel: one row and one panel at a time,
 * two sums per row to hide the latency */
static void
tile_small_avx512 (float *acc, const uint16_t * qa, int ld_qa,
    const uint16_t * panel, int ICp, int mr)
{
  for (int r = 0; r < mr; r++) {
    const uint16_t *a = qa + (size_t) r * ld_qa;
    const uint16_t *p = panel;
    __m512 s0 = _mm512_setzero_ps (), s1 = _mm512_setzero_ps ();
    int k = 0;
    for (; k + 4 <= ICp; k += 4) {
      int32_t v0, v1;
      memcpy (&v0, a + k, 4);
      memcpy (&v1, a + k + 2, 4);
      s0 = _mm512_dpbf16_ps (s0, (__m512bh) _mm512_load_si512 ((const void *)
              p), (__m512bh) _mm512_set1_epi32 (v0));
      s1 = _mm512_dpbf16_ps (s1, (__m512bh) _mm512_load_si512 ((const void *)
              (p + 2 * NR)), (__m512bh) _mm512_set1_epi32 (v1));
      p += 4 * NR;
    }
    if (k < ICp) {
      int32_t v0;
      memcpy (&v0, a + k, 4);
      s0 = _mm512_dpbf16_ps (s0, (__m512bh) _mm512_load_si512 ((const void *)
              p), (__m512bh) _mm512_set1_epi32 (v0));
    }
    _mm512_storeu_ps (acc + r * NR, _mm512_add_ps (s0, s1));
  }
}

#endif

void
KFN (gemm_bf16_forward) (float *out, int ld_out, const uint16_t * qa,
    int ld_qa, const kernel_bf16_matrix * w, const float *bias, int R,
    int p0, int np, int accumulate)
{
  /* out [R][ld_out] (outputs of panels p0 .. p0+np-1), qa [R][ld_qa]
   * (ld_qa >= ICp, zero padded) */
  const size_t ld_panel = (size_t) NR * w->ICp;
  float acc[4 * NR];
  int p = p0;
#ifdef KERNEL_ISA_AVX512
  for (; p + 2 <= p0 + np; p += 2) {
    const uint16_t *panel = w->w + (size_t) p * ld_panel;
    const int c0 = p * NR;
    const int nc = w->OC - c0;
    int r = 0;
    for (; r + 8 <= R; r += 8)
      tile_8x2_avx512 (out + (size_t) r * ld_out + c0, ld_out,
          qa + (size_t) r * ld_qa, ld_qa, panel, ld_panel, w->ICp,
          bias ? bias + c0 : NULL, nc, accumulate);
    for (; r < R; r += 4) {
      const int mr = R - r < 4 ? R - r : 4;
      for (int i = 0; i < 2 && i * NR < nc; i++) {
        tile_small_avx512 (acc, qa + (size_t) r * ld_qa, ld_qa,
            panel + i * ld_panel, w->ICp, mr);
        store_rows (out + (size_t) r * ld_out + c0 + i * NR, ld_out, acc,
            bias ? bias + c0 + i * NR : NULL, mr,
            nc - i * NR < NR ? nc - i * NR : NR, accumulate);
      }
    }
  }
#endif
  for (; p < p0 + np; p++) {
    const uint16_t *panel = w->w + (size_t) p * ld_panel;
    const int c0 = p * NR;
    const int nc = w->OC - c0 < NR ? w->OC - c0 : NR;
    for (int r = 0; r < R; r += 4) {
      const int mr = R - r < 4 ? R - r : 4;
#ifdef KERNEL_ISA_AVX512
      tile_small_avx512 (acc, qa + (size_t) r * ld_qa, ld_qa, panel, w->ICp,
          mr);
#else
      tile_c (acc, qa + (size_t) r * ld_qa, ld_qa, panel, w->ICp, mr);
#endif
      store_rows (out + (size_t) r * ld_out + c0, ld_out, acc,
          bias ? bias + c0 : NULL, mr, nc, accumulate);
    }
  }
}
