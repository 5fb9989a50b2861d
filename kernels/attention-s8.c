/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encoder self-attention with int8 products (kernels.h, attention_s8;
 * docs/quantization.md, "Attention").
 *
 * Per head h, with hs = C / H:
 *   K_h: the mean key subtracted (softmax does not change: it only takes
 *        q . mean from every score of a row), then each key row (one
 *        token) quantised, its scale times 1 / sqrt(hs)
 *   V_h: each column (one channel over the T tokens) quantised
 *   S = dequantize (q8 (Q_h rows) K_h^T)           int8 GEMM, int32 sums
 *   E = exp (S - rowmax S); norm = 1 / sum E         float32
 *   E = P_hi s_hi + P_lo s_lo: two int8 rows, the second the first's
 *       rounding error at 1/254 of its step (one int8 row of E alone
 *       loses the many small weights of a diffuse head: tiny.en's
 *       minimum encoder cosine fell to 0.9949)
 *   O_h = (dequantize (P_hi V_h) + dequantize (P_lo V_h)) norm
 * attention_s8_pack_head and attention_s8_probs_forward are the steps the
 * NPU host code (npu-attention.c) calls too, so both give the same bits.
 *
 * The work is cut as in attention.c: first one task per head packs K_h
 * and V_h into kernel_s8_matrix panels, then (head, block of BQ query
 * rows) tasks, each keeping its S block in L2. */
#include "kernel-isa.h"
#include "kernel-math.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BQ 128

struct kernel_attention_s8 {
  int T, C, H, hs, n_threads, bq, ld_p;
  kernel_s8_matrix **k, **v;    /* [H]: K_h [T][hs], V_h^T [hs][T] */
  void *scratch;                /* per thread, worker_scratch () */
  size_t scratch_per_thread;
};

/* one thread's scratch: s [bq][T], norm [bq], s_q [bq], s_p [2 bq],
 * o [2 bq][hs], q8 [bq][hs], p [2 bq][ld_p]; for packing a head col
 * [T + 2 hs],
 * s_k [T], s_v [hs] floats, k8 [T][hs], v8 [hs][T] */
typedef struct {
  float *s, *norm, *s_q, *s_p, *o, *col, *s_k, *s_v;
  int8_t *q8, *p, *k8, *v8;
} worker_scratch;

/* lays out (or, with base NULL, sizes) one thread's scratch */
static size_t
scratch_layout (char *base, int bq, int T, int hs, int ld_p,
    worker_scratch * w)
{
  size_t off = 0;
#define TAKE(field, type, n) do { \
    if (base) w->field = (type *) (base + off); \
    off += kernel_align64 ((size_t) (n) * sizeof (type)); } while (0)
  TAKE (s, float, (size_t) bq * T);
  TAKE (norm, float, bq);
  TAKE (s_q, float, bq);
  TAKE (s_p, float, 2 * bq);
  TAKE (o, float, (size_t) 2 * bq * hs);
  TAKE (col, float, T + 2 * hs);
  TAKE (s_k, float, T);
  TAKE (s_v, float, hs);
  TAKE (q8, int8_t, (size_t) bq * hs);
  TAKE (p, int8_t, (size_t) 2 * bq * ld_p);
  TAKE (k8, int8_t, (size_t) T * hs);
  TAKE (v8, int8_t, (size_t) T * hs);
#undef TAKE
  return off;
}

static worker_scratch
scratch_of (const kernel_attention_s8 * a, int worker)
{
  worker_scratch w;
  scratch_layout ((char *) a->scratch + (size_t) worker *
      a->scratch_per_thread, a->bq, a->T, a->hs, a->ld_p, &w);
  return w;
}

void
kernel_attention_s8_free (kernel_attention_s8 * a)
{
  if (!a)
    return;
  for (int h = 0; h < a->H; h++) {
    if (a->k)
      kernel_s8_matrix_free (a->k[h]);
    if (a->v)
      kernel_s8_matrix_free (a->v[h]);
  }
  free (a->k);
  free (a->v);
  kernel_free (a->scratch);
  free (a);
}

kernel_attention_s8 *
kernel_attention_s8_new (int T, int C, int H, int n_threads)
{
  /* Q_h's int8 rows are passed to the GEMM hs wide: K_h's padded width */
  if (T <= 0 || H <= 0 || C % H != 0 || (C / H) % 4 != 0)
    return NULL;
  kernel_attention_s8 *a = calloc (1, sizeof *a);
  if (!a)
    return NULL;
  a->T = T;
  a->C = C;
  a->H = H;
  a->hs = C / H;
  a->n_threads = n_threads > 0 ? n_threads : 1;
  a->bq = T < BQ ? T : BQ;
  /* P's rows are V_h^T's input channels: zero up to its padded width */
  a->ld_p = (T + 63) / 64 * 64;
  a->k = calloc ((size_t) H, sizeof *a->k);
  a->v = calloc ((size_t) H, sizeof *a->v);
  if (!a->k || !a->v)
    goto fail;
  for (int h = 0; h < H; h++)
    if (!(a->k[h] = kernel_s8_matrix_new (T, a->hs))
        || !(a->v[h] = kernel_s8_matrix_new (a->hs, T)))
      goto fail;
  a->scratch_per_thread = scratch_layout (NULL, a->bq, T, a->hs, a->ld_p,
      NULL);
  if (!(a->scratch = kernel_alloc_zero (a->scratch_per_thread
              * a->n_threads)))
    goto fail;
  return a;
fail:
  kernel_attention_s8_free (a);
  return NULL;
}

float
attention_s8_key_scale (int hs)
{
  return 1.0f / sqrtf ((float) hs);
}

void
attention_s8_pack_head (int8_t * k8, float *s_k, int8_t * v8, float *s_v,
    float *col, const float *k, const float *v, int ld_qkv, int T, int hs,
    int h)
{
  /* col [T + 2 hs]: a V column, then the mean key, then one key row */
  const float scale = attention_s8_key_scale (hs);
  const float *kh = k + h * hs;
  float *mean = col + T, *row = col + T + hs;
  for (int c = 0; c < hs; c++)
    mean[c] = 0.0f;
  for (int j = 0; j < T; j++)
    for (int c = 0; c < hs; c++)
      mean[c] += kh[(size_t) j * ld_qkv + c];
  for (int c = 0; c < hs; c++)
    mean[c] /= (float) T;
  for (int j = 0; j < T; j++) {
    for (int c = 0; c < hs; c++)
      row[c] = kh[(size_t) j * ld_qkv + c] - mean[c];
    s_k[j] = quantize_row_s8 (k8 + (size_t) j * hs, row, hs) * scale;
  }
  for (int c = 0; c < hs; c++) {
    const float *vc = v + h * hs + c;
    for (int t = 0; t < T; t++)
      col[t] = vc[(size_t) t * ld_qkv];
    s_v[c] = quantize_row_s8 (v8 + (size_t) c * T, col, T);
  }
}

void
attention_s8_probs_forward (int8_t * p_hi, int8_t * p_lo, int ld_p,
    float *s_hi, float *s_lo, float *norm, float *s, int m, int T)
{
  softmax_exp_rows_forward (s, norm, m, T);
  for (int i = 0; i < m; i++) {
    const float *e = s + (size_t) i * T;
    int8_t *hi = p_hi + (size_t) i * ld_p, *lo = p_lo + (size_t) i * ld_p;
    const float sh = quantize_row_s8 (hi, e, T);
    /* the error of hi is within sh / 2 = 127 steps of sh / 254 */
    const float sl = sh * (1.0f / 254.0f);
    const float inv_sl = sl > 0.0f ? 1.0f / sl : 0.0f;
    for (int j = 0; j < T; j++) {
      float r = kmath_round_even (fmaf (-(float) hi[j], sh, e[j]) * inv_sl);
      r = r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r;
      lo[j] = (int8_t) (r == r ? r : 0.0f);
    }
    s_hi[i] = sh;
    s_lo[i] = sl;
  }
}

float
attention_s8_combine (float o_hi, float o_lo, float norm)
{
  return (o_hi + o_lo) * norm;
}

typedef struct {
  kernel_attention_s8 *a;
  float *out;
  const float *q, *k, *v;
  int ld_qkv, n_blocks;
} attention_s8_job;

static void
pack_task (void *ctx, int h, int worker)
{
  const attention_s8_job *j = ctx;
  kernel_attention_s8 *a = j->a;
  worker_scratch w = scratch_of (a, worker);
  kernel_s8_matrix *km = a->k[h], *vm = a->v[h];
  attention_s8_pack_head (w.k8, w.s_k, w.v8, w.s_v, w.col, j->k, j->v,
      j->ld_qkv, a->T, a->hs, h);
  for (int t = 0; t < a->T; t++)
    kernel_s8_matrix_set_row (km, t, w.k8 + (size_t) t * a->hs, w.s_k[t]);
  for (int c = 0; c < a->hs; c++)
    kernel_s8_matrix_set_row (vm, c, w.v8 + (size_t) c * a->T, w.s_v[c]);
}

static void
block_task (void *ctx, int task, int worker)
{
  const attention_s8_job *j = ctx;
  const kernel_attention_s8 *a = j->a;
  worker_scratch w = scratch_of (a, worker);
  const int T = a->T, hs = a->hs, bq = a->bq, ld = j->ld_qkv;
  const int h = task / j->n_blocks, i0 = (task % j->n_blocks) * bq;
  const int m = i0 + bq <= T ? bq : T - i0;
  const kernel_s8_matrix *km = a->k[h], *vm = a->v[h];

  for (int i = 0; i < m; i++)
    w.s_q[i] = quantize_row_s8 (w.q8 + (size_t) i * hs,
        j->q + (size_t) (i0 + i) * ld + h * hs, hs);
  kernel_gemm_s8 (w.s, T, w.q8, hs, w.s_q, km, NULL, m, 0,
      km->OCp / KERNEL_S8_PANEL, 0);
  /* rows 0 .. m-1 of p: P_hi, rows m .. 2m-1: P_lo; one GEMM for both */
  attention_s8_probs_forward (w.p, w.p + (size_t) m * a->ld_p, a->ld_p,
      w.s_p, w.s_p + m, w.norm, w.s, m, T);
  kernel_gemm_s8 (w.o, hs, w.p, a->ld_p, w.s_p, vm, NULL, 2 * m, 0,
      vm->OCp / KERNEL_S8_PANEL, 0);
  for (int i = 0; i < m; i++) {
    float *o = j->out + (size_t) (i0 + i) * a->C + h * hs;
    const float *hi = w.o + (size_t) i * hs, *lo = hi + (size_t) m * hs;
    for (int c = 0; c < hs; c++)
      o[c] = attention_s8_combine (hi[c], lo[c], w.norm[i]);
  }
}

void
attention_s8_forward (float *out, kernel_attention_s8 * a, const float *q,
    const float *k, const float *v, int ld_qkv, kernel_pool * pool)
{
  kernels_init ();
  attention_s8_job j = {
    .a = a, .out = out, .q = q, .k = k, .v = v, .ld_qkv = ld_qkv,
    .n_blocks = (a->T + a->bq - 1) / a->bq,
  };
  kernel_pool_run (pool, a->H, pack_task, &j);
  kernel_pool_run (pool, a->H * j.n_blocks, block_task, &j);
}
