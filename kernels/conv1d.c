/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* 1-D convolution (PyTorch nn.Conv1d, zeros padding) as im2col + sgemm.
 * Time-major layout throughout: with the input as [T_in][IC] rows, the
 * im2col matrix row t holds the K input rows the output at t sees, laid out
 * [IC][K] to match the weight's [OC][IC][K], so the convolution becomes the
 * nn.Linear  out = cols w^T + bias  with w viewed as [OC][IC*K]. */
#include "kernels.h"

#include <string.h>

int
conv1d_out_len (int T_in, int K, int stride, int pad)
{
  return (T_in + 2 * pad - K) / stride + 1;
}

/* conv1d_forward's im2col, for its tasks */
typedef struct {
  float *cols;
  const float *inp;
  int T_in, T_out, IC, K, stride, pad, n_tasks;
} im2col_job;

/* rows [T_out task / n_tasks, T_out (task + 1) / n_tasks) of cols: one
 * contiguous range per task, as OpenMP's static schedule cut them */
static void
im2col_task (void *ctx, int task, int worker)
{
  const im2col_job *j = ctx;
  const int IC = j->IC, K = j->K, ICK = IC * K;
  const int t0 = (int) ((long) j->T_out * task / j->n_tasks);
  const int t1 = (int) ((long) j->T_out * (task + 1) / j->n_tasks);
  for (int t = t0; t < t1; t++) {
    float *row = j->cols + (size_t) t * ICK;
    for (int k = 0; k < K; k++) {
      int ti = t * j->stride + k - j->pad;
      if (ti < 0 || ti >= j->T_in) {
        for (int ic = 0; ic < IC; ic++)
          row[ic * K + k] = 0.0f;
      } else {
        const float *src = j->inp + (size_t) ti * IC;
        for (int ic = 0; ic < IC; ic++)
          row[ic * K + k] = src[ic];
      }
    }
  }
}

void
conv1d_im2col_forward (float *cols, const float *inp, int T_in, int IC,
    int K, int stride, int pad, kernel_pool * pool)
{
  /* cols [T_out][IC*K], inp [T_in][IC] */
  const int T_out = conv1d_out_len (T_in, K, stride, pad);
  const int n_threads = kernel_pool_n_threads (pool);
  im2col_job job = {
    .cols = cols, .inp = inp, .T_in = T_in, .T_out = T_out, .IC = IC,
    .K = K, .stride = stride, .pad = pad,
    .n_tasks = n_threads < T_out ? n_threads : T_out,
  };
  kernel_pool_run (pool, job.n_tasks, im2col_task, &job);
}

void
conv1d_forward (float *out, float *cols, const float *inp, const float *w,
    const float *bias, int T_in, int IC, int OC, int K, int stride, int pad,
    kernel_pool * pool)
{
  /* out [T_out][OC], cols [T_out][IC*K], inp [T_in][IC], w [OC][IC][K] */
  const int T_out = conv1d_out_len (T_in, K, stride, pad);
  conv1d_im2col_forward (cols, inp, T_in, IC, K, stride, pad, pool);
  matmul_forward (out, cols, w, bias, T_out, IC * K, OC, pool);
}
