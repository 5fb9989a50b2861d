/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* matmul: a PyTorch nn.Linear, y = x W^T + b, through OpenBLAS sgemm.
 *
 * The bias is fused: each output row starts as a copy of the bias and the
 * GEMM accumulates into it (beta = 1), so no second pass over the output;
 * the residual form (matmul_add_forward) adds the bias to the rows it
 * accumulates into.
 *
 * Threads.  On a pool of more than one thread (and from 64 rows on) the
 * rows are cut into blocks of about ROWS_PER_TASK (a whole number of
 * blocks per thread), tasks that the pool's threads take in turn, each
 * calling sgemm (OpenBLAS is single-threaded: kernels_init) on its rows
 * and doing its rows' bias.
 * Blocks of 128 rows measured ~5% slower than 256 on tiny.en (more packing
 * of W per row).  See docs/kernels.md, Threads.
 */
#include "kernel-isa.h"

#include <cblas.h>
#include <string.h>

#define ROWS_PER_TASK 256

/* out [T][ld_out] (+)= inp [T][ld_inp] w^T + bias, one sgemm call.
 * accumulate: out += ..., else out = ... */
static void
matmul_rows (float *out, int ld_out, const float *inp, int ld_inp,
    const float *w, const float *bias, int T, int IC, int OC, int accumulate)
{
  float beta = accumulate ? 1.0f : 0.0f;
  if (bias) {
    for (int t = 0; t < T; t++) {
      float *o = out + (size_t) t * ld_out;
      if (accumulate) {
        for (int c = 0; c < OC; c++)
          o[c] += bias[c];
      } else {
        memcpy (o, bias, (size_t) OC * sizeof (float));
      }
    }
    beta = 1.0f;
  }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, T, OC, IC,
      1.0f, inp, ld_inp, w, IC, beta, out, ld_out);
}

/* matmul_dispatch's arguments, for its row-block tasks */
typedef struct {
  float *out;
  const float *inp, *w, *bias;
  int ld_out, ld_inp, T, IC, OC, accumulate;
  int rows;                     /* per task; the last task takes the rest */
} matmul_job;

static void
matmul_task (void *ctx, int task, int worker)
{
  const matmul_job *j = ctx;
  const int t0 = task * j->rows;
  const int m = t0 + j->rows <= j->T ? j->rows : j->T - t0;
  matmul_rows (j->out + (size_t) t0 * j->ld_out, j->ld_out,
      j->inp + (size_t) t0 * j->ld_inp, j->ld_inp, j->w, j->bias, m, j->IC,
      j->OC, j->accumulate);
}

static void
matmul_dispatch (float *out, int ld_out, const float *inp, int ld_inp,
    const float *w, const float *bias, int T, int IC, int OC, int accumulate,
    kernel_pool * pool)
{
  kernels_init ();
  const int n_threads = kernel_pool_n_threads (pool);
  if (n_threads <= 1 || T < 2 * 32) {
    matmul_rows (out, ld_out, inp, ld_inp, w, bias, T, IC, OC, accumulate);
    return;
  }
  /* n_threads x k blocks, k = round(T / (ROWS_PER_TASK n_threads)) >= 1 */
  int k = (T + ROWS_PER_TASK * n_threads / 2) / (ROWS_PER_TASK * n_threads);
  int n_tasks = n_threads * (k > 0 ? k : 1);
  int rows = (T + n_tasks - 1) / n_tasks;
  rows = rows < 32 ? 32 : rows;
  n_tasks = (T + rows - 1) / rows;
  matmul_job job = {
    .out = out, .inp = inp, .w = w, .bias = bias, .ld_out = ld_out,
    .ld_inp = ld_inp, .T = T, .IC = IC, .OC = OC, .accumulate = accumulate,
    .rows = rows,
  };
  kernel_pool_run (pool, n_tasks, matmul_task, &job);
}

void
matmul_forward_ld (float *out, int ld_out, const float *inp, int ld_inp,
    const float *w, const float *bias, int T, int IC, int OC,
    kernel_pool * pool)
{
  /* out [T][ld_out] (first OC columns), inp [T][ld_inp] (first IC columns),
   * w [OC][IC], bias [OC] */
  matmul_dispatch (out, ld_out, inp, ld_inp, w, bias, T, IC, OC, 0, pool);
}

void
matmul_forward (float *out, const float *inp, const float *w,
    const float *bias, int T, int IC, int OC, kernel_pool * pool)
{
  /* out [T][OC], inp [T][IC], w [OC][IC], bias [OC] */
  matmul_dispatch (out, OC, inp, IC, w, bias, T, IC, OC, 0, pool);
}

void
matmul_add_forward (float *out, const float *inp, const float *w,
    const float *bias, int T, int IC, int OC, kernel_pool * pool)
{
  /* out [T][OC] += inp [T][IC] w^T [IC][OC] + bias [OC] */
  matmul_dispatch (out, OC, inp, IC, w, bias, T, IC, OC, 1, pool);
}

void
linear_forward (float *out, const float *inp, const float *w,
    const kernel_half * w16, const float *bias, int R, int IC, int OC,
    kernel_pool * pool)
{
  /* out [R][OC], inp [R][IC], w [OC][IC], w16 [OC][IC] or NULL, bias [OC] */
  if (R <= MATVEC_MAX_ROWS && w16) {
    matvec_f16_forward (out, OC, inp, IC, w16, bias, R, IC, OC, pool);
  } else if (R <= MATVEC_MAX_ROWS) {
    matvec_forward (out, OC, inp, IC, w, IC, bias, 1.0f, R, IC, OC, pool);
  } else {
    matmul_forward (out, inp, w, bias, R, IC, OC, pool);
  }
}

void
matmul_f16_forward (float *out, float *scratch, const float *inp,
    const kernel_half * w16, const float *bias, int R, int IC, int OC,
    kernel_pool * pool)
{
  /* out [R][OC], scratch [MATMUL_F16_BLOCK][IC], inp [R][IC],
   * w16 [OC][IC] half floats, bias [OC] or NULL: the GEMM of
   * matmul_forward on blocks of output rows converted to float32, so each
   * output's sum over IC is the one matmul_forward computes */
  for (int o0 = 0; o0 < OC; o0 += MATMUL_F16_BLOCK) {
    const int nb = OC - o0 < MATMUL_F16_BLOCK ? OC - o0 : MATMUL_F16_BLOCK;
    f16_to_f32_forward (scratch, w16 + (size_t) o0 * IC, (size_t) nb * IC);
    matmul_forward_ld (out + o0, OC, inp, IC, scratch,
        bias ? bias + o0 : NULL, R, IC, nb, pool);
  }
}
