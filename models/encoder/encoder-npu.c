/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* encoder_npu (encoder-npu.h) */
#include "config.h"
#include "encoder-npu.h"
#include "npu-gemm.h"
#include "npu-load.h"

#include <stdlib.h>

/* query rows per pool task in the attention's host steps */
#define ROW_BLOCK 32

struct encoder_npu {
  void *module;             /* the XRT module's handle, or NULL */
  npu_session *session;
  char *kernel_dir;
  int F, A, C;
  int conv1_ic;             /* M * 3: conv1's im2col row */
  npu_linear *conv1;
  struct {
    npu_linear *qkv, *proj[3];  /* encoder_npu_product order */
  } *layers;
  int L;
  /* attention: Q K^T and [P_hi; P_lo] V of every head in one run each,
   * and the host's side */
  npu_gemm *qk, *pv;
  kernel_pool *pool;
  int H, hs;
  int8_t *k8, *v8;          /* [H][A][hs], [H][hs][A] */
  float *s_k, *s_v;         /* [H][A], [H][hs] */
  float *s_q, *s_hi, *s_lo, *norm;   /* [H][A] */
  float *scratch;           /* per thread: a pack_head column or S rows */
  size_t scratch_per_thread;
};

void
encoder_npu_free (encoder_npu * npu)
{
  if (!npu)
    return;
  npu_session_close (npu->session);
  if (npu->module)
    npu_unload_module (npu->module);
  g_free (npu->layers);
  g_free (npu->k8);
  g_free (npu->v8);
  g_free (npu->s_k);
  g_free (npu->s_v);
  g_free (npu->s_q);
  g_free (npu->s_hi);
  g_free (npu->s_lo);
  g_free (npu->norm);
  g_free (npu->scratch);
  g_free (npu->kernel_dir);
  g_free (npu);
}

/* The kernel directory: @dir, else $WHISPER_NPU_KERNEL_DIR, else the
 * installed kernels of the first generation that has a manifest there. */
static char *
find_kernel_dir (const char *dir)
{
  if (dir && *dir)
    return g_strdup (dir);
  const char *env = g_getenv ("WHISPER_NPU_KERNEL_DIR");
  if (env && *env)
    return g_strdup (env);
  static const char *const devices[] = { "npu1", "npu2" };
  for (size_t i = 0; i < G_N_ELEMENTS (devices); i++) {
    char *d = g_build_filename (NPU_KERNEL_DIR, devices[i], NULL);
    char *m = g_build_filename (d, "manifest.json", NULL);
    const gboolean found = g_file_test (m, G_FILE_TEST_EXISTS);
    g_free (m);
    if (found)
      return d;
    g_free (d);
  }
  return g_strdup (NPU_KERNEL_DIR "/npu1");
}

encoder_npu *
encoder_npu_open (const char *kernel_dir, int F, int A, kernel_pool * pool,
    GError ** error)
{
  npu_error e = { 0 };
  const char *options = NULL;
  void *module = NULL;
  const npu_device_ops *ops = npu_device_ops_for (g_getenv
      ("WHISPER_NPU_DEVICE"), &module, &options, &e);
  if (!ops) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_DEVICE, "NPU: %s (%s)",
        e.message, npu_status_name (e.status));
    return NULL;
  }
  encoder_npu *npu = g_new0 (encoder_npu, 1);
  npu->module = module;
  npu->kernel_dir = find_kernel_dir (kernel_dir);
  npu->F = F;
  npu->A = A;
  npu->pool = pool;
  if (!(npu->session = npu_session_open (ops, options, npu->kernel_dir, pool,
              error))) {
    encoder_npu_free (npu);
    return NULL;
  }
  return npu;
}

gboolean
encoder_npu_load (encoder_npu * npu, const kernel_s8_matrix * conv1,
    const encoder_layer_s8 * layers, int L, int H, GError ** error)
{
  g_return_val_if_fail (npu->layers == NULL, FALSE);
  npu->L = L;
  npu->C = conv1->OC;
  npu->H = H;
  npu->hs = npu->C / H;
  npu->conv1_ic = conv1->IC;
  npu->layers = g_new0 (typeof (*npu->layers), L);
  gboolean ok = (npu->conv1 = npu_session_add_linear (npu->session,
          "conv1", &conv1, 1, npu->F, error)) != NULL;
  for (int l = 0; ok && l < L; l++) {
    const encoder_layer_s8 *b = &layers[l];
    const kernel_s8_matrix *qkv[3] = { b->q, b->k, b->v };
    const kernel_s8_matrix *proj[3] = { b->o, b->fc1, b->fc2 };
    static const char *const names[3] = { "out", "fc1", "fc2" };
    char what[48];
    g_snprintf (what, sizeof what, "block %d qkv", l);
    ok = (npu->layers[l].qkv = npu_session_add_linear (npu->session, what,
            qkv, 3, npu->A, error)) != NULL;
    for (int p = 0; ok && p < 3; p++) {
      g_snprintf (what, sizeof what, "block %d %s", l, names[p]);
      ok = (npu->layers[l].proj[p] = npu_session_add_linear (npu->session,
              what, &proj[p], 1, npu->A, error)) != NULL;
    }
  }
  if (ok)
    ok = (npu->qk = npu_session_add_gemm (npu->session, "attention Q K^T",
            H, npu->A, npu->hs, npu->A, error))
        && (npu->pv = npu_session_add_gemm (npu->session, "attention P V",
            H, 2 * npu->A, npu->A, npu->hs, error));
  if (ok) {
    const size_t A = npu->A, hs = npu->hs;
    npu->k8 = g_new (int8_t, H * A * hs);
    npu->v8 = g_new (int8_t, H * A * hs);
    npu->s_k = g_new (float, H * A);
    npu->s_v = g_new (float, H * hs);
    npu->s_q = g_new (float, H * A);
    npu->s_hi = g_new (float, H * A);
    npu->s_lo = g_new (float, H * A);
    npu->norm = g_new (float, H * A);
    npu->scratch_per_thread = MAX (A + 2 * hs, (size_t) ROW_BLOCK * A);
    npu->scratch = g_new (float, npu->scratch_per_thread
        * kernel_pool_n_threads (npu->pool));
  }
  return ok && npu_session_self_test (npu->session, error);
}

const char *
encoder_npu_describe (encoder_npu * npu)
{
  return npu_session_describe (npu->session);
}

const char *
encoder_npu_kernel_dir (encoder_npu * npu)
{
  return npu->kernel_dir;
}

void
encoder_npu_get_counters (encoder_npu * npu, npu_counters * counters)
{
  npu_session_get_counters (npu->session, counters);
}

gboolean
encoder_npu_conv1 (encoder_npu * npu, float *x1, const float *cols,
    const float *bias, GError ** error)
{
  const npu_linear_output out = { x1, npu->C, bias, 0 };
  return npu_linear_forward (npu->conv1, &out, cols, npu->conv1_ic, npu->F,
      error);
}

gboolean
encoder_npu_qkv (encoder_npu * npu, int layer, float *q, float *k, float *v,
    const float *ln, const float *q_bias, const float *v_bias,
    GError ** error)
{
  const npu_linear_output outs[3] = {
    {q, npu->C, q_bias, 0}, {k, npu->C, NULL, 0}, {v, npu->C, v_bias, 0}
  };
  return npu_linear_forward (npu->layers[layer].qkv, outs, ln, npu->C,
      npu->A, error);
}

gboolean
encoder_npu_project (encoder_npu * npu, int layer,
    encoder_npu_product product, float *out, const float *inp,
    const float *bias, int accumulate, GError ** error)
{
  /* fc1 widens the state to 4C, fc2 narrows it back */
  const int ld_out = product == ENCODER_NPU_FC1 ? 4 * npu->C : npu->C;
  const int ld_inp = product == ENCODER_NPU_FC2 ? 4 * npu->C : npu->C;
  const npu_linear_output o = { out, ld_out, bias, accumulate };
  return npu_linear_forward (npu->layers[layer].proj[product], &o, inp,
      ld_inp, npu->A, error);
}

/* ------------------------------------------------------------------------ */
/* Attention: the steps of attention_s8_forward (kernels/attention-s8.c),
 * with its two products on the device, every head of the layer in one
 * run: per block of query rows (all of them with the programs of
 * npu-shapes.c), one run of Q K^T and one of [P_hi; P_lo] V.  The host's
 * steps run as tasks of (head, ROW_BLOCK query rows). */

typedef struct {
  encoder_npu *npu;
  float *out;
  const float *q, *k, *v;
  int ld;
  int i0, m;                /* the block of query rows */
  int row_tasks;            /* per head */
} attention_job;

static float *
worker_scratch (const encoder_npu * npu, int worker)
{
  return npu->scratch + (size_t) worker * npu->scratch_per_thread;
}

/* task's head and rows i0 + (task % row_tasks) * ROW_BLOCK .. r1 */
static int
task_rows (const attention_job * j, int task, int *h, int *r1)
{
  *h = task / j->row_tasks;
  const int r0 = j->i0 + task % j->row_tasks * ROW_BLOCK;
  *r1 = MIN (r0 + ROW_BLOCK, j->i0 + j->m);
  return r0;
}

/* head h's K and V quantised, and written as B of both products: of
 * Q K^T [hs][keys] = K_h^T, of P V [keys][hs] = V_h */
static void
pack_task (void *ctx, int h, int worker)
{
  const attention_job *j = ctx;
  encoder_npu *n = j->npu;
  const size_t A = n->A, hs = n->hs;
  int8_t *k8 = n->k8 + h * A * hs, *v8 = n->v8 + h * A * hs;
  attention_s8_pack_head (k8, n->s_k + h * A, v8, n->s_v + h * hs,
      worker_scratch (n, worker), j->k, j->v, j->ld, n->A, n->hs, h);
  int8_t *b_qk = npu_gemm_b (n->qk, h), *b_pv = npu_gemm_b (n->pv, h);
  const int ldb_qk = npu_gemm_ldb (n->qk), ldb_pv = npu_gemm_ldb (n->pv);
  for (size_t key = 0; key < A; key++)
    for (size_t c = 0; c < hs; c++) {
      b_qk[c * ldb_qk + key] = k8[key * hs + c];
      b_pv[key * ldb_pv + c] = v8[c * A + key];
    }
}

/* Q_h's rows into Q K^T's A_h */
static void
quantize_q_task (void *ctx, int task, int worker)
{
  const attention_job *j = ctx;
  encoder_npu *n = j->npu;
  int h, r1;
  const int r0 = task_rows (j, task, &h, &r1);
  int8_t *a = npu_gemm_a (n->qk, h);
  const int lda = npu_gemm_lda (n->qk);
  float *s_q = n->s_q + (size_t) h * n->A;
  for (int r = r0; r < r1; r++)
    s_q[r] = quantize_row_s8 (a + (size_t) (r - j->i0) * lda,
        j->q + (size_t) r * j->ld + h * n->hs, n->hs);
}

/* S rows from Q K^T's C_h, then P_hi and P_lo straight into P V's A_h
 * (rows 0 .. m-1 and m .. 2m-1 of the block) */
static void
probs_task (void *ctx, int task, int worker)
{
  const attention_job *j = ctx;
  encoder_npu *n = j->npu;
  const int A = n->A;
  int h, r1;
  const int r0 = task_rows (j, task, &h, &r1);
  const int32_t *c = npu_gemm_c (n->qk, h);
  const int ldc = npu_gemm_ldb (n->qk);
  const size_t hA = (size_t) h * A;
  const float *s_k = n->s_k + hA, *s_q = n->s_q + hA;
  float *s = worker_scratch (n, worker);
  for (int r = r0; r < r1; r++) {
    const int32_t *acc = c + (size_t) (r - j->i0) * ldc;
    float *sr = s + (size_t) (r - r0) * A;
    for (int col = 0; col < A; col++)
      sr[col] = dequantize_s32 (acc[col], s_q[r], s_k[col], 0.0f);
  }
  int8_t *p = npu_gemm_a (n->pv, h);
  const int ldp = npu_gemm_lda (n->pv);
  attention_s8_probs_forward (p + (size_t) (r0 - j->i0) * ldp,
      p + (size_t) (j->m + r0 - j->i0) * ldp, ldp, n->s_hi + hA + r0,
      n->s_lo + hA + r0, n->norm + hA + r0, s, r1 - r0, A);
}

/* head h's columns of out from P V's C_h */
static void
output_task (void *ctx, int task, int worker)
{
  const attention_job *j = ctx;
  const encoder_npu *n = j->npu;
  const int hs = n->hs;
  int h, r1;
  const int r0 = task_rows (j, task, &h, &r1);
  const int32_t *c = npu_gemm_c (n->pv, h);
  const int ldc = npu_gemm_ldb (n->pv);
  const float *s_v = n->s_v + (size_t) h * hs;
  const size_t hA = (size_t) h * n->A;
  const float *s_hi = n->s_hi + hA, *s_lo = n->s_lo + hA,
      *norm = n->norm + hA;
  for (int r = r0; r < r1; r++) {
    const int32_t *hi = c + (size_t) (r - j->i0) * ldc;
    const int32_t *lo = c + (size_t) (j->m + r - j->i0) * ldc;
    float *o = j->out + (size_t) r * n->C + h * hs;
    for (int col = 0; col < hs; col++)
      o[col] = attention_s8_combine (dequantize_s32 (hi[col], s_hi[r],
              s_v[col], 0.0f), dequantize_s32 (lo[col], s_lo[r], s_v[col],
              0.0f), norm[r]);
  }
}

gboolean
encoder_npu_attention (encoder_npu * npu, float *out, const float *q,
    const float *k, const float *v, int ld_qkv, GError ** error)
{
  const int A = npu->A;
  const int block = MIN (npu_gemm_rows (npu->qk), npu_gemm_rows (npu->pv) / 2);
  attention_job j = { npu, out, q, k, v, ld_qkv, 0, 0, 0 };
  kernel_pool_run (npu->pool, npu->H, pack_task, &j);
  for (j.i0 = 0; j.i0 < A; j.i0 += block) {
    j.m = MIN (block, A - j.i0);
    j.row_tasks = (j.m + ROW_BLOCK - 1) / ROW_BLOCK;
    const int n_tasks = npu->H * j.row_tasks;
    const gboolean first = j.i0 == 0;   /* B goes with the first run */
    kernel_pool_run (npu->pool, n_tasks, quantize_q_task, &j);
    if (!npu_gemm_run (npu->qk, j.m, first, error))
      return FALSE;
    kernel_pool_run (npu->pool, n_tasks, probs_task, &j);
    if (!npu_gemm_run (npu->pv, 2 * j.m, first, error))
      return FALSE;
    kernel_pool_run (npu->pool, n_tasks, output_task, &j);
  }
  return TRUE;
}
