/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* matmul_bf16_forward: an nn.Linear with bfloat16 weights and activations,
 * summed in float32 (kernels.h), and the packed bfloat16 weight matrix.
 *
 * Two pool runs, as matmul_s8_forward: the rows are rounded to bfloat16
 * (blocks of rows per task), then tiles of (row block x panel group) are
 * multiplied by the dispatched gemm_bf16_forward. */
#include "kernel-isa.h"
#include "kernel-math.h"

#include <stdint.h>
#include <stdlib.h>


kernel_bf16_matrix *
kernel_bf16_matrix_new (int OC, int IC)
{
  if (OC <= 0 || IC <= 0)
    return NULL;
  kernel_bf16_matrix *m = calloc (1, sizeof *m);
  if (!m)
    return NULL;
  m->OC = OC;
  m->IC = IC;
  m->OCp = (OC + KERNEL_BF16_PANEL - 1) / KERNEL_BF16_PANEL
      * KERNEL_BF16_PANEL;
  m->ICp = (IC + 1) / 2 * 2;
  m->w = kernel_alloc_zero ((size_t) m->OCp * m->ICp * sizeof (uint16_t));
  if (!m->w) {
    free (m);
    return NULL;
  }
  return m;
}

void
kernel_bf16_matrix_free (kernel_bf16_matrix * m)
{
  if (!m)
    return;
  kernel_free (m->w);
  free (m);
}

void
kernel_bf16_matrix_set_row (kernel_bf16_matrix * m, int oc, const float *row)
{
  /* row oc of W: into panel oc / 16, at [k / 2][oc % 16][k % 2] */
  uint16_t *panel = m->w + (size_t) (oc / KERNEL_BF16_PANEL)
      * KERNEL_BF16_PANEL * m->ICp;
  const int c = oc % KERNEL_BF16_PANEL;
  for (int k = 0; k < m->IC; k++)
    panel[(size_t) (k / 2) * 2 * KERNEL_BF16_PANEL + c * 2 + k % 2] =
        kernel_bf16_from_f32 (row[k]);
}

size_t
matmul_bf16_scratch_size (int T, int IC)
{
  const size_t ICp = (size_t) (IC + 31) / 32 * 32;
  return (size_t) T * ICp * sizeof (uint16_t) + 64;
}

typedef struct {
  float *out;
  int ld_out;
  const float *inp;
  int ld_inp;
  uint16_t *qa;
  int ld_qa;
  const kernel_bf16_matrix *w;
  const float *bias;
  int T, accumulate;
  kernel_gemm_split split;
} bf16_job;

static void
round_task (void *ctx, int task, int worker)
{
  const bf16_job *j = ctx;
  (void) worker;
  int r1;
  const int r0 = kernel_gemm_split_rows (&j->split, task, &r1);
  for (int r = r0; r < r1; r++) {
    uint16_t *q = j->qa + (size_t) r * j->ld_qa;
    bf16_from_f32_forward (q, j->inp + (size_t) r * j->ld_inp, j->w->IC);
    for (int k = j->w->IC; k < j->ld_qa; k++)
      q[k] = 0;
  }
}

static void
gemm_task (void *ctx, int task, int worker)
{
  const bf16_job *j = ctx;
  (void) worker;
  int r0, nr, p0, np;
  if (!kernel_gemm_split_task (&j->split, task, &r0, &nr, &p0, &np))
    return;
  kernel_gemm_bf16 (j->out + (size_t) r0 * j->ld_out, j->ld_out,
      j->qa + (size_t) r0 * j->ld_qa, j->ld_qa, j->w, j->bias, nr, p0, np,
      j->accumulate);
}

void
matmul_bf16_forward (float *out, int ld_out, void *scratch, const float *inp,
    int ld_inp, const kernel_bf16_matrix * w, const float *bias, int T,
    int accumulate, kernel_pool * pool)
{
  /* out [T][ld_out] (first OC columns), scratch matmul_bf16_scratch_size
   * (T, IC) bytes, inp [T][ld_inp] (first IC columns), bias [OC] or NULL */
  if (T <= 0)
    return;
  kernels_init ();
  bf16_job j = {
    .out = out, .ld_out = ld_out, .inp = inp, .ld_inp = ld_inp,
    .qa = (uint16_t *) (((uintptr_t) scratch + 63) & ~(uintptr_t) 63),
    .ld_qa = (w->IC + 31) / 32 * 32,
    .w = w, .bias = bias, .T = T, .accumulate = accumulate,
  };
  j.split = kernel_gemm_split_make (T, w->OCp / KERNEL_BF16_PANEL,
      kernel_pool_n_threads (pool));
  kernel_pool_run (pool, j.split.n_row_blocks, round_task, &j);
  kernel_pool_run (pool, j.split.n_row_blocks * j.split.n_col_groups,
      gemm_task, &j);
}
