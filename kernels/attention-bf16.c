/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encoder self-attention with a bfloat16 PV product (kernels.h,
 * attention_bf16; docs/quantization.md, bfloat16).
 *
 * Per head h, with hs = C / H:
 *   S = Q_h K_h^T / sqrt (hs)                    float32 (sgemm)
 *   E = exp (S - rowmax S); norm = 1 / sum E     float32
 *   O_h = (bf16 (E) bf16 (V_h)) norm             float32 sums
 * QK^T stays float32: in bfloat16 the scores' rounding moved tiny.en's
 * minimum encoder cosine from 0.99994 to 0.99987 (below the 0.9999
 * bound), while bfloat16 keeps the relative precision of every
 * probability, so PV loses almost nothing.
 *
 * The work is cut as in attention.c: one task per head packs V_h^T into
 * kernel_bf16_matrix panels, then (head, block of BQ query rows) tasks,
 * each keeping its S block in L2. */
#include "kernel-isa.h"
#include "kernel-math.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BQ 128

struct kernel_attention_bf16 {
  int T, C, H, hs, n_threads, bq, ld_p;
  kernel_bf16_matrix **v;       /* [H]: V_h^T [hs][T] */
  void *scratch;                /* per thread: worker_scratch */
  size_t scratch_per_thread;
};

/* one thread's scratch: s [bq][T], norm [bq], o [bq][hs] floats,
 * p [bq][ld_p] bfloat16 */
typedef struct {
  float *s, *norm, *o;
  uint16_t *p;
} worker_scratch;

static size_t
scratch_layout (char *base, const kernel_attention_bf16 * a,
    worker_scratch * w)
{
  size_t off = 0;
#define TAKE(field, type, n) do { \
    if (base) w->field = (type *) (base + off); \
    off += kernel_align64 ((size_t) (n) * sizeof (type)); } while (0)
  TAKE (s, float, (size_t) a->bq * a->T);
  TAKE (norm, float, a->bq);
  TAKE (o, float, (size_t) a->bq * a->hs);
  TAKE (p, uint16_t, (size_t) a->bq * a->ld_p);
#undef TAKE
  return off;
}

static worker_scratch
scratch_of (const kernel_attention_bf16 * a, int worker)
{
  worker_scratch w = { 0 };
  scratch_layout ((char *) a->scratch + (size_t) worker *
      a->scratch_per_thread, a, &w);
  return w;
}

void
kernel_attention_bf16_free (kernel_attention_bf16 * a)
{
  if (!a)
    return;
  for (int h = 0; a->v && h < a->H; h++)
    kernel_bf16_matrix_free (a->v[h]);
  free (a->v);
  kernel_free (a->scratch);
  free (a);
}

kernel_attention_bf16 *
kernel_attention_bf16_new (int T, int C, int H, int n_threads)
{
  if (T <= 0 || H <= 0 || C % H != 0)
    return NULL;
  kernel_attention_bf16 *a = calloc (1, sizeof *a);
  if (!a)
    return NULL;
  a->T = T;
  a->C = C;
  a->H = H;
  a->hs = C / H;
  a->n_threads = n_threads > 0 ? n_threads : 1;
  a->bq = T < BQ ? T : BQ;
  /* P's rows: at least V_h^T's padded input width, zeros there */
  a->ld_p = (T + 31) / 32 * 32;
  a->v = calloc ((size_t) H, sizeof *a->v);
  if (!a->v)
    goto fail;
  for (int h = 0; h < H; h++)
    if (!(a->v[h] = kernel_bf16_matrix_new (a->hs, T)))
      goto fail;
  a->scratch_per_thread = scratch_layout (NULL, a, NULL);
  /* zeroed: the padding columns of p stay zero */
  if (!(a->scratch = kernel_alloc_zero (a->scratch_per_thread
              * a->n_threads)))
    goto fail;
  return a;
fail:
  kernel_attention_bf16_free (a);
  return NULL;
}

typedef struct {
  kernel_attention_bf16 *a;
  float *out;
  const float *q, *k, *v;
  int ld_qkv, n_blocks;
} attention_bf16_job;

/* V_h's columns (channels) into V_h^T's panels, [hs / 16][T / 2][16][2]
 * (kernels.h) */
static void
pack_task (void *ctx, int h, int worker)
{
  const attention_bf16_job *j = ctx;
  const kernel_attention_bf16 *a = j->a;
  (void) worker;
  const int T = a->T, hs = a->hs, ld = j->ld_qkv;
  kernel_bf16_matrix *vm = a->v[h];
  /* output channel c, input t: a token's hs values land in the rows of
   * hs / 16 panels, at the same pair */
  for (int t = 0; t < T; t++) {
    const float *vr = j->v + (size_t) t * ld + h * hs;
    uint16_t *dst = vm->w + (size_t) (t / 2) * 2 * KERNEL_BF16_PANEL + t % 2;
    for (int c = 0; c < hs; c++)
      dst[(size_t) (c / KERNEL_BF16_PANEL) * KERNEL_BF16_PANEL * vm->ICp
          + (c % KERNEL_BF16_PANEL) * 2] = kernel_bf16_from_f32 (vr[c]);
  }
}

static void
block_task (void *ctx, int task, int worker)
{
  const attention_bf16_job *j = ctx;
  const kernel_attention_bf16 *a = j->a;
  worker_scratch w = scratch_of (a, worker);
  const int T = a->T, hs = a->hs, bq = a->bq, ld = j->ld_qkv;
  const int h = task / j->n_blocks, i0 = (task % j->n_blocks) * bq;
  const int m = i0 + bq <= T ? bq : T - i0;
  const kernel_bf16_matrix *vm = a->v[h];

  /* S = q_blk k_h^T / sqrt (hs), as attention.c computes it */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, T, hs,
      1.0f / sqrtf ((float) hs), j->q + (size_t) i0 * ld + h * hs, ld,
      j->k + h * hs, ld, 0.0f, w.s, T);
  softmax_exp_rows_forward (w.s, w.norm, m, T);
  for (int i = 0; i < m; i++)
    bf16_from_f32_forward (w.p + (size_t) i * a->ld_p, w.s + (size_t) i * T,
        T);
  kernel_gemm_bf16 (w.o, hs, w.p, a->ld_p, vm, NULL, m, 0,
      vm->OCp / KERNEL_BF16_PANEL, 0);
  for (int i = 0; i < m; i++) {
    float *o = j->out + (size_t) (i0 + i) * a->C + h * hs;
    const float *src = w.o + (size_t) i * hs;
    for (int c = 0; c < hs; c++)
      o[c] = src[c] * w.norm[i];
  }
}

void
attention_bf16_forward (float *out, kernel_attention_bf16 * a,
    const float *q, const float *k, const float *v, int ld_qkv,
    kernel_pool * pool)
{
  kernels_init ();
  attention_bf16_job j = {
    .a = a, .out = out, .q = q, .k = k, .v = v, .ld_qkv = ld_qkv,
    .n_blocks = (a->T + a->bq - 1) / a->bq,
  };
  kernel_pool_run (pool, a->H, pack_task, &j);
  kernel_pool_run (pool, a->H * j.n_blocks, block_task, &j);
}
