/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* matmul_s8_forward: an nn.Linear with int8 weights (kernels.h).
 *
 * Two pool runs: the rows are quantised (quantize_row_s8, blocks of rows
 * per task), then tiles of (row block x panel group, kernel_gemm_split)
 * are multiplied by the dispatched gemm_s8_forward.  A row block (64 rows
 * of int8 activations, 96 KiB at IC = 1536) stays in L2 while the task
 * walks its panels; a panel (16 outputs x IC) stays in L1 while the
 * block's rows pass it.  With a few rows (the decoder: one per beam) there is one row
 * block and the panels are split over the threads instead. */
#include "kernel-isa.h"

#include <stdint.h>


size_t
matmul_s8_scratch_size (int T, int IC)
{
  const size_t ICp = (size_t) (IC + 63) / 64 * 64;
  return (size_t) T * ICp + (size_t) T * sizeof (float) + 64;
}

typedef struct {
  float *out;
  int ld_out;
  const float *inp;
  int ld_inp;
  int8_t *qa;
  int ld_qa;
  float *sa;
  const kernel_s8_matrix *w;
  const float *bias;
  int T, accumulate;
  kernel_gemm_split split;
} s8_job;

static void
quantize_task (void *ctx, int task, int worker)
{
  const s8_job *j = ctx;
  (void) worker;
  int r1;
  const int r0 = kernel_gemm_split_rows (&j->split, task, &r1);
  for (int r = r0; r < r1; r++)
    j->sa[r] = quantize_row_s8 (j->qa + (size_t) r * j->ld_qa,
        j->inp + (size_t) r * j->ld_inp, j->w->IC);
}

static void
gemm_task (void *ctx, int task, int worker)
{
  const s8_job *j = ctx;
  (void) worker;
  int r0, nr, p0, np;
  if (!kernel_gemm_split_task (&j->split, task, &r0, &nr, &p0, &np))
    return;
  kernel_gemm_s8 (j->out + (size_t) r0 * j->ld_out, j->ld_out,
      j->qa + (size_t) r0 * j->ld_qa, j->ld_qa, j->sa + r0, j->w, j->bias,
      nr, p0, np, j->accumulate);
}

void
matmul_s8_forward (float *out, int ld_out, void *scratch, const float *inp,
    int ld_inp, const kernel_s8_matrix * w, const float *bias, int T,
    int accumulate, kernel_pool * pool)
{
  /* out [T][ld_out] (first OC columns), scratch matmul_s8_scratch_size
   * (T, IC) bytes, inp [T][ld_inp] (first IC columns), bias [OC] or NULL */
  if (T <= 0)
    return;
  kernels_init ();
  const int ld_qa = (w->IC + 63) / 64 * 64;
  int8_t *qa = (int8_t *) (((uintptr_t) scratch + 63) & ~(uintptr_t) 63);
  s8_job j = {
    .out = out, .ld_out = ld_out, .inp = inp, .ld_inp = ld_inp,
    .qa = qa, .ld_qa = ld_qa, .sa = (float *) (qa + (size_t) T * ld_qa),
    .w = w, .bias = bias, .T = T, .accumulate = accumulate,
  };
  /* the padding columns of each row (IC .. ICp) must be zero */
  for (int r = 0; r < T; r++)
    for (int k = w->IC; k < w->ICp; k++)
      qa[(size_t) r * ld_qa + k] = 0;
  j.split = kernel_gemm_split_make (T, w->OCp / KERNEL_S8_PANEL,
      kernel_pool_n_threads (pool));
  kernel_pool_run (pool, j.split.n_row_blocks, quantize_task, &j);
  kernel_pool_run (pool, j.split.n_row_blocks * j.split.n_col_groups,
      gemm_task, &j);
}
