/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernels compiled once per instruction set (private header).
 *
 * layernorm.c, math.c, matvec.c and attention-kv.c are built twice: for
 * baseline x86-64 (or whatever the host is) and, on x86-64, once more with
 * -mavx2 -mfma -mf16c (kernels/meson.build).  KFN(name) gives each copy its
 * own symbol names (name_portable, name_avx2); table.c collects them in one
 * kernel_table per copy and dispatch.c picks a table once, from cpuid (see
 * docs/kernels.md, CPU dispatch).  The AVX-512 copy (name_avx512) holds
 * only the kernels that have an AVX-512 form (kernels_avx512_sources in
 * kernels/meson.build); dispatch.c builds its table from the AVX2 one.  Inside a copy, kernels call each other
 * by their KFN names, so a call never goes back through the dispatch. */
#ifndef WHISPER_KERNEL_ISA_H
#define WHISPER_KERNEL_ISA_H

#include "kernels.h"

#if defined KERNEL_ISA_AVX512
#define KFN(name) name##_avx512
#elif defined KERNEL_ISA_AVX2
#define KFN(name) name##_avx2
#else
#define KFN(name) name##_portable
#endif

typedef struct {
  void (*layernorm_forward) (float *out, const float *inp, const float *w,
      const float *b, int T, int C, float eps);
  void (*gelu_forward) (float *out, const float *inp, size_t N,
      kernel_pool * pool);
  void (*softmax_forward) (float *out, const float *inp, int T, int N,
      kernel_pool * pool);
  void (*softmax_exp_rows_forward) (float *x, float *inv_sum, int T, int N);
  void (*residual_forward) (float *out, const float *inp1,
      const float *inp2, size_t N);
  void (*matvec_forward) (float *out, int ld_out, const float *inp,
      int ld_inp, const float *w, int ld_w, const float *bias, float alpha,
      int R, int IC, int OC, kernel_pool * pool);
  void (*matvec_f16_forward) (float *out, int ld_out, const float *inp,
      int ld_inp, const kernel_half * w, const float *bias, int R, int IC,
      int OC, kernel_pool * pool);
  void (*f16_to_f32_forward) (float *out, const void *inp, size_t N);
  void (*attention_causal_forward) (float *out, float *scores,
      float *k_cache, float *v_cache, const float *q, const float *k,
      const float *v, int B, int N, int P, int T, int C, int H);
  void (*attention_cross_forward) (float *out, float *scores,
      const float *q, const float *k, const float *v, int R, int A, int C,
      int H);
  void (*gemm_s8_forward) (float *out, int ld_out, const int8_t * qa,
      int ld_qa, const float *sa, const kernel_s8_matrix * w,
      const float *bias, int R, int p0, int np, int accumulate);
  void (*bf16_from_f32_forward) (uint16_t * out, const float *inp,
      size_t N);
  void (*gemm_bf16_forward) (float *out, int ld_out, const uint16_t * qa,
      int ld_qa, const kernel_bf16_matrix * w, const float *bias, int R,
      int p0, int np, int accumulate);
} kernel_table;

/* out [R][ld_out] (+)= the int8 product of rows qa [R][ld_qa] (scales sa)
 * with panels p0 .. p0 + np - 1 of w, dequantised (gemm-s8.c) */
void kernel_gemm_s8 (float *out, int ld_out, const int8_t * qa, int ld_qa,
    const float *sa, const kernel_s8_matrix * w, const float *bias, int R,
    int p0, int np, int accumulate);

/* out [R][ld_out] (+)= the bfloat16 product of rows qa [R][ld_qa] with
 * panels p0 .. p0 + np - 1 of w, plus the bias (gemm-bf16.c) */
void kernel_gemm_bf16 (float *out, int ld_out, const uint16_t * qa,
    int ld_qa, const kernel_bf16_matrix * w, const float *bias, int R,
    int p0, int np, int accumulate);

/* The tasks of a packed-panel GEMM (matmul-s8.c, matmul-bf16.c): blocks
 * of KERNEL_GEMM_ROW_BLOCK rows times groups of panels.  The panels are
 * cut into groups only when there are too few row blocks for every
 * thread to take several tasks (uneven cores; the decoder's one row
 * block). */
#define KERNEL_GEMM_ROW_BLOCK 64
typedef struct {
  int T, n_panels;
  int n_row_blocks, n_col_groups, panels_per_group;
} kernel_gemm_split;

static inline kernel_gemm_split
kernel_gemm_split_make (int T, int n_panels, int n_threads)
{
  kernel_gemm_split s = { .T = T, .n_panels = n_panels,
    .n_row_blocks = (T + KERNEL_GEMM_ROW_BLOCK - 1) / KERNEL_GEMM_ROW_BLOCK,
  };
  int groups = 1;
  if (s.n_row_blocks < 4 * n_threads) {
    groups = (4 * n_threads + s.n_row_blocks - 1) / s.n_row_blocks;
    groups = groups > n_panels ? n_panels : groups;
  }
  s.panels_per_group = (n_panels + groups - 1) / groups;
  s.n_col_groups = (n_panels + s.panels_per_group - 1) / s.panels_per_group;
  return s;
}

/* row block b's rows: r0 (returned) .. *r1 - 1 */
static inline int
kernel_gemm_split_rows (const kernel_gemm_split * s, int b, int *r1)
{
  const int r0 = b * KERNEL_GEMM_ROW_BLOCK;
  *r1 = r0 + KERNEL_GEMM_ROW_BLOCK < s->T ? r0 + KERNEL_GEMM_ROW_BLOCK : s->T;
  return r0;
}

/* task's rows r0 .. r0 + nr - 1 and panels p0 .. p0 + np - 1; FALSE for
 * an empty task */
static inline int
kernel_gemm_split_task (const kernel_gemm_split * s, int task, int *r0,
    int *nr, int *p0, int *np)
{
  *r0 = task / s->n_col_groups * KERNEL_GEMM_ROW_BLOCK;
  *nr = s->T - *r0 < KERNEL_GEMM_ROW_BLOCK ? s->T - *r0 :
      KERNEL_GEMM_ROW_BLOCK;
  *p0 = task % s->n_col_groups * s->panels_per_group;
  *np = s->n_panels - *p0 < s->panels_per_group ? s->n_panels - *p0 :
      s->panels_per_group;
  return *np > 0;
}

/* n rounded up to a multiple of 64 (bytes: one cache line) */
static inline size_t
kernel_align64 (size_t n)
{
  return (n + 63) / 64 * 64;
}

/* Chooses the table and sets OpenBLAS to one thread, once per process;
 * every public kernel runs it (BLAS users call it explicitly). */
void kernels_init (void);

extern const kernel_table kernel_table_portable;
#ifdef KERNELS_HAVE_AVX2
extern const kernel_table kernel_table_avx2;
#endif
#ifdef KERNELS_HAVE_AVX512
void gemm_s8_forward_avx512 (float *out, int ld_out, const int8_t * qa,
    int ld_qa, const float *sa, const kernel_s8_matrix * w,
    const float *bias, int R, int p0, int np, int accumulate);
void bf16_from_f32_forward_avx512 (uint16_t * out, const float *inp,
    size_t N);
void gemm_bf16_forward_avx512 (float *out, int ld_out, const uint16_t * qa,
    int ld_qa, const kernel_bf16_matrix * w, const float *bias, int R,
    int p0, int np, int accumulate);
#endif

/* the prototypes of this copy */
void KFN (layernorm_forward) (float *out, const float *inp, const float *w,
    const float *b, int T, int C, float eps);
void KFN (gelu_forward) (float *out, const float *inp, size_t N,
    kernel_pool * pool);
void KFN (softmax_forward) (float *out, const float *inp, int T, int N,
    kernel_pool * pool);
void KFN (softmax_exp_rows_forward) (float *x, float *inv_sum, int T, int N);
void KFN (residual_forward) (float *out, const float *inp1,
    const float *inp2, size_t N);
void KFN (matvec_forward) (float *out, int ld_out, const float *inp,
    int ld_inp, const float *w, int ld_w, const float *bias, float alpha,
    int R, int IC, int OC, kernel_pool * pool);
void KFN (matvec_f16_forward) (float *out, int ld_out, const float *inp,
    int ld_inp, const kernel_half * w, const float *bias, int R, int IC, int OC,
    kernel_pool * pool);
void KFN (f16_to_f32_forward) (float *out, const void *inp, size_t N);
void KFN (attention_causal_forward) (float *out, float *scores,
    float *k_cache, float *v_cache, const float *q, const float *k,
    const float *v, int B, int N, int P, int T, int C, int H);
void KFN (attention_cross_forward) (float *out, float *scores,
    const float *q, const float *k, const float *v, int R, int A, int C,
    int H);

void KFN (gemm_s8_forward) (float *out, int ld_out, const int8_t * qa,
    int ld_qa, const float *sa, const kernel_s8_matrix * w,
    const float *bias, int R, int p0, int np, int accumulate);
void KFN (bf16_from_f32_forward) (uint16_t * out, const float *inp,
    size_t N);
void KFN (gemm_bf16_forward) (float *out, int ld_out, const uint16_t * qa,
    int ld_qa, const kernel_bf16_matrix * w, const float *bias, int R,
    int p0, int np, int accumulate);

#endif
