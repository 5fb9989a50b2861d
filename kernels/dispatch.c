/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CPU dispatch: the public kernel entry points call the copy of the kernel
 * chosen once per process (kernel-isa.h, docs/kernels.md, CPU dispatch).
 *
 * The AVX2 copy (AVX2 + FMA + F16C) runs when the build has it
 * (KERNELS_HAVE_AVX2: x86-64 without -Dcpu-baseline=true) and cpuid
 * reports the three features (with the OS saving the YMM registers); the
 * AVX-512 table (the AVX2 one with the int8 and bfloat16 products from the
 * AVX-512 copy) when cpuid also reports AVX-512 F, BW, VL, VNNI and BF16.
 * WHISPER_CPU_PATH=portable|avx2 caps the choice (WHISPER_CPU_BASELINE=1
 * is the same as portable). */
#include "kernel-isa.h"
#include "kernel-f16.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const kernel_table *table;
static const char *table_name;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
#ifdef KERNELS_HAVE_AVX512
static kernel_table table_avx512;
#endif

/* 0 portable, 1 avx2, 2 avx512: the highest copy the environment allows */
static int
path_cap (void)
{
  const char *env = getenv ("WHISPER_CPU_BASELINE");
  if (env && *env && strcmp (env, "0") != 0)
    return 0;
  env = getenv ("WHISPER_CPU_PATH");
  if (env && strcmp (env, "portable") == 0)
    return 0;
  if (env && strcmp (env, "avx2") == 0)
    return 1;
  return 2;
}

static void
table_select (void)
{
  /* one thread pool, the kernels' own (pool.h): OpenBLAS runs inside
   * their tasks, single-threaded (docs/kernels.md, Threads) */
  openblas_set_num_threads (1);
  table = &kernel_table_portable;
  table_name = "portable";
  const int cap = path_cap ();
  (void) cap;
#ifdef KERNELS_HAVE_AVX2
  __builtin_cpu_init ();
  if (cap < 1 || !__builtin_cpu_supports ("avx2")
      || !__builtin_cpu_supports ("fma") || !__builtin_cpu_supports ("f16c"))
    return;
  table = &kernel_table_avx2;
  table_name = "avx2";
#ifdef KERNELS_HAVE_AVX512
  if (cap < 2 || !__builtin_cpu_supports ("avx512f")
      || !__builtin_cpu_supports ("avx512bw")
      || !__builtin_cpu_supports ("avx512vl")
      || !__builtin_cpu_supports ("avx512vnni")
      || !__builtin_cpu_supports ("avx512bf16"))
    return;
  table_avx512 = kernel_table_avx2;
  table_avx512.gemm_s8_forward = gemm_s8_forward_avx512;
  table_avx512.bf16_from_f32_forward = bf16_from_f32_forward_avx512;
  table_avx512.gemm_bf16_forward = gemm_bf16_forward_avx512;
  table = &table_avx512;
  table_name = "avx512";
#endif
#endif
}

static inline const kernel_table *
K (void)
{
  pthread_once (&table_once, table_select);
  return table;
}

void
kernels_init (void)
{
  K ();
}

const char *
kernels_cpu_path (void)
{
  K ();
  return table_name;
}

int
kernels_bf16_native (void)
{
  K ();
  return strcmp (table_name, "avx512") == 0;
}

void
layernorm_forward (float *out, const float *inp, const float *w,
    const float *b, int T, int C, float eps)
{
  K ()->layernorm_forward (out, inp, w, b, T, C, eps);
}

void
gelu_forward (float *out, const float *inp, size_t N, kernel_pool * pool)
{
  K ()->gelu_forward (out, inp, N, pool);
}

void
softmax_forward (float *out, const float *inp, int T, int N,
    kernel_pool * pool)
{
  K ()->softmax_forward (out, inp, T, N, pool);
}

void
softmax_exp_rows_forward (float *x, float *inv_sum, int T, int N)
{
  K ()->softmax_exp_rows_forward (x, inv_sum, T, N);
}

void
residual_forward (float *out, const float *inp1, const float *inp2,
    size_t N)
{
  K ()->residual_forward (out, inp1, inp2, N);
}

void
matvec_forward (float *out, int ld_out, const float *inp, int ld_inp,
    const float *w, int ld_w, const float *bias, float alpha, int R, int IC,
    int OC, kernel_pool * pool)
{
  K ()->matvec_forward (out, ld_out, inp, ld_inp, w, ld_w, bias, alpha, R,
      IC, OC, pool);
}

void
matvec_f16_forward (float *out, int ld_out, const float *inp, int ld_inp,
    const kernel_half * w, const float *bias, int R, int IC, int OC,
    kernel_pool * pool)
{
  K ()->matvec_f16_forward (out, ld_out, inp, ld_inp, w, bias, R, IC, OC,
      pool);
}

void
f16_to_f32_forward (float *out, const void *inp, size_t N)
{
  K ()->f16_to_f32_forward (out, inp, N);
}

void
attention_causal_forward (float *out, float *scores, float *k_cache,
    float *v_cache, const float *q, const float *k, const float *v, int B,
    int N, int P, int T, int C, int H)
{
  K ()->attention_causal_forward (out, scores, k_cache, v_cache, q, k, v, B,
      N, P, T, C, H);
}

void
attention_cross_forward (float *out, float *scores, const float *q,
    const float *k, const float *v, int R, int A, int C, int H)
{
  K ()->attention_cross_forward (out, scores, q, k, v, R, A, C, H);
}

void
kernel_gemm_s8 (float *out, int ld_out, const int8_t * qa, int ld_qa,
    const float *sa, const kernel_s8_matrix * w, const float *bias, int R,
    int p0, int np, int accumulate)
{
  K ()->gemm_s8_forward (out, ld_out, qa, ld_qa, sa, w, bias, R, p0, np,
      accumulate);
}

void
bf16_from_f32_forward (uint16_t * out, const float *inp, size_t N)
{
  K ()->bf16_from_f32_forward (out, inp, N);
}

void
kernel_gemm_bf16 (float *out, int ld_out, const uint16_t * qa, int ld_qa,
    const kernel_bf16_matrix * w, const float *bias, int R, int p0, int np,
    int accumulate)
{
  K ()->gemm_bf16_forward (out, ld_out, qa, ld_qa, w, bias, R, p0, np,
      accumulate);
}
