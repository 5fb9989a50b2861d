/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Multi-head scaled dot-product attention without a mask (Whisper's
 * encoder self-attention).
 *
 * The work is cut into tasks of (head h, block of BQ query rows); each task
 *   S = (q_blk k_h^T) / sqrt(hs)    sgemm [BQ][T], scale folded into alpha
 *   E = exp(S - rowmax(S)), l = 1 / rowsum(E)      see math.c
 *   out_blk,h = l * (E v_h)          sgemm [BQ][hs], then rows scaled
 * (softmax's division applied to the hs-wide result instead of the T-wide
 * E: one pass less over E)
 * so that S (BQ x T floats, 768 KiB for BQ = 128, T = 1500) stays in the
 * core's L2 cache between the three steps, instead of a whole head's T x T
 * matrix (9 MB) going through memory three times.  Tasks run in parallel on
 * the caller's kernel_pool, each calling OpenBLAS single-threaded: small
 * per-block GEMMs split across OpenBLAS's pool would spend their time in
 * hand-offs between the two pools (OpenBLAS is single-threaded:
 * kernels_init).  Each thread has its own S, indexed by the task's worker.
 *
 * The scale is applied once to the product (openai-whisper scales q and k
 * each by hs^-1/4; the two agree up to float rounding). */
#include "kernel-isa.h"

#include <cblas.h>
#include <math.h>

#define BQ 128

size_t
attention_scratch_size (int T, int C, int H, int n_threads)
{
  int n = n_threads > 0 ? n_threads : 1;
  int bq = T < BQ ? T : BQ;
  return (size_t) n * bq * (T + 1);
}

/* attention_forward's arguments, for its (head, query block) tasks */
typedef struct {
  float *out, *scratch;
  const float *q, *k, *v;
  int ld_qkv, T, C, hs, bq, n_blocks;
  float scale;
} attention_job;

static void
attention_task (void *ctx, int task, int worker)
{
  const attention_job *j = ctx;
  const int T = j->T, C = j->C, hs = j->hs, bq = j->bq, ld = j->ld_qkv;
  const int h = task / j->n_blocks, i0 = (task % j->n_blocks) * bq;
  const int m = i0 + bq <= T ? bq : T - i0;
  float *s = j->scratch + (size_t) worker * bq * (T + 1);
  float *inv_sum = s + (size_t) bq * T;
  const float *qh = j->q + (size_t) i0 * ld + h * hs;
  const float *kh = j->k + h * hs, *vh = j->v + h * hs;
  float *oh = j->out + (size_t) i0 * C + h * hs;
  /* s [m][T] = qh [m][hs] kh^T [hs][T] */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, T, hs,
      j->scale, qh, ld, kh, ld, 0.0f, s, T);
  softmax_exp_rows_forward (s, inv_sum, m, T);
  /* oh [m][hs] = E [m][T] vh [T][hs], then row i times inv_sum[i] */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, hs, T,
      1.0f, s, T, vh, ld, 0.0f, oh, C);
  for (int i = 0; i < m; i++) {
    float *o = oh + (size_t) i * C;
    const float l = inv_sum[i];
    for (int c = 0; c < hs; c++)
      o[c] *= l;
  }
}

void
attention_forward (float *out, float *scratch, const float *q,
    const float *k, const float *v, int ld_qkv, int T, int C, int H,
    kernel_pool * pool)
{
  /* out [T][C], q k v [T][ld_qkv] (first C columns),
   * scratch [n_threads][min(T, BQ)][T + 1], n_threads of the pool */
  const int hs = C / H;
  const int bq = T < BQ ? T : BQ;
  const int n_blocks = (T + bq - 1) / bq;
  attention_job job = {
    .out = out, .scratch = scratch, .q = q, .k = k, .v = v,
    .ld_qkv = ld_qkv, .T = T, .C = C, .hs = hs, .bq = bq,
    .n_blocks = n_blocks, .scale = 1.0f / sqrtf ((float) hs),
  };

  kernels_init ();
  kernel_pool_run (pool, H * n_blocks, attention_task, &job);
}
