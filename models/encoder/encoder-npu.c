/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* encoder_npu (encoder-npu.h) */
#include "config.h"
#include "encoder-npu.h"
#include "npu-gemm.h"
#include "npu-load.h"

#include <stdlib.h>

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
  if (!(npu->session = npu_session_open (ops, options, npu->kernel_dir, pool,
              error))) {
    encoder_npu_free (npu);
    return NULL;
  }
  return npu;
}

gboolean
encoder_npu_load (encoder_npu * npu, const kernel_s8_matrix * conv1,
    const encoder_layer_s8 * layers, int L, GError ** error)
{
  g_return_val_if_fail (npu->layers == NULL, FALSE);
  npu->L = L;
  npu->C = conv1->OC;
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
