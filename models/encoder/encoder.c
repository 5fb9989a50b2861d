/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whisper's audio encoder forward pass on the CPU: float32, or with the
 * projections in int8 (compute type INT8) or bfloat16 (BFLOAT16;
 * docs/quantization.md).
 *
 * The architecture (openai-whisper model.py, AudioEncoder):
 *   x = gelu(conv1(mel))                 [3000][C], kernel 3, pad 1
 *   x = gelu(conv2(x))                   [1500][C], kernel 3, pad 1, stride 2
 *   x = x + positional_embedding         (x already time-major here)
 *   per block:  x = x + attn(attn_ln(x))
 *               x = x + fc2(gelu(fc1(mlp_ln(x))))
 *   out = ln_post(x)
 * LayerNorm eps 1e-5 (PyTorch's default); GELU is the exact erf form.
 *
 * Letters: M mel bins, F = 3000 mel frames, A = 1500 positions,
 * C state, H heads, L layers.
 */
#include "encoder.h"
#include "encoder-npu.h"
#include "kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LN_EPS 1e-5f
#define CONV_K 3


struct whisper_encoder {
  const whisper_model *model;
  whisper_backend backend;  /* resolved: never AUTO */
  whisper_compute_type compute_type;  /* resolved: never AUTO */
  int n_threads;
  kernel_pool *pool;  /* n_threads threads, for every parallel kernel */
  encoder_layer_s8 *s8;     /* [L] with INT8 (and on the NPU), else NULL */
  encoder_npu *npu;         /* backend NPU, else NULL */
  gboolean npu_fallback;
  char *backend_reason;     /* whisper_encoder_get_backend_reason() */
  whisper_abort_callback abort_cb;    /* polled per layer, or NULL */
  void *abort_data;
  /* conv1 in int8 as [C][M*K] with INT8, else NULL.  conv2 stays float32:
   * in int8 it took tiny.en's minimum encoder cosine from 0.99912 to
   * 0.99792 (docs/quantization.md) */
  const kernel_s8_matrix *conv1_s8;
  void *qscratch;           /* matmul_s8_forward's, with INT8 */
  encoder_layer_bf16 *bf16; /* [L] with BFLOAT16, else NULL */
  void *bscratch;           /* matmul_bf16_forward's, with BFLOAT16 */
  kernel_attention_bf16 *att_bf16;  /* with BFLOAT16, else NULL */
  const kernel_bf16_matrix *conv1_bf16, *conv2_bf16;  /* the same */
  /* self-attention's products in int8 too: always on the NPU (and in its
   * CPU fallback, for the same bits), on the CPU when asked for (slower
   * than float32 attention with the AVX2 and the VNNI GEMM:
   * docs/quantization.md) */
  gboolean int8_attention;
  kernel_attention_s8 *att_s8;  /* with int8_attention, else NULL */
  int M, F, A, C, H, L;
  /* activations, all pointing into one allocation */
  float *memory;
  float *mel_t;       /* [F][M]   the mel window, time-major */
  float *cols;        /* [F][M*K] or [A][C*K]: im2col of conv1 / conv2 */
  float *x1;          /* [F][C]   conv1 output */
  float *x;           /* [A][C]   residual stream */
  float *ln;          /* [A][C]   LayerNorm output */
  float *q, *k, *v;   /* [A][C]   projections */
  float *att;         /* [A][C]   attention output (heads side by side) */
  float *h;           /* [A][4C]  MLP hidden */
  float *scores;      /* attention scratch, attention_scratch_size() */
  /* profiling */
  gboolean profiling;
  whisper_encoder_profile prof;
};

/* ------------------------------------------------------------------------ */

static int
resolve_threads (int n_threads)
{
  if (n_threads > 0)
    return n_threads;
  int n = (int) g_get_num_processors ();
  return n > 0 ? n : 1;
}

whisper_encoder_params
whisper_encoder_default_params (void)
{
  whisper_encoder_params p = {
    .backend = WHISPER_BACKEND_AUTO,
    .n_threads = 0,
    .compute_type = WHISPER_COMPUTE_AUTO,
  };
  return p;
}

const char *
whisper_backend_name (whisper_backend backend)
{
  switch (backend) {
    case WHISPER_BACKEND_AUTO:
      return "auto";
    case WHISPER_BACKEND_CPU:
      return "cpu";
    case WHISPER_BACKEND_NPU:
      return "npu";
  }
  return "unknown";
}

/* The six projection weights of block l, in the order of encoder_layer_s8
 * and encoder_layer_bf16 */
static void
block_weight_name (char *name, size_t size, int l, int i)
{
  static const char *const names[6] = { "attn.query", "attn.key",
    "attn.value", "attn.out", "mlp.0", "mlp.2"
  };
  g_snprintf (name, size, "encoder.blocks.%d.%s.weight", l, names[i]);
}

/* The int8 projections of every block, and the scratch of their
 * products (compute type INT8). */
static gboolean
encoder_get_s8 (whisper_encoder * enc, GError ** error)
{
  enc->s8 = g_new0 (encoder_layer_s8, enc->L);
  for (int l = 0; l < enc->L; l++) {
    const kernel_s8_matrix **dst[6] = { &enc->s8[l].q, &enc->s8[l].k,
      &enc->s8[l].v, &enc->s8[l].o, &enc->s8[l].fc1, &enc->s8[l].fc2
    };
    for (int i = 0; i < 6; i++) {
      char name[72];
      block_weight_name (name, sizeof name, l, i);
      if (!(*dst[i] = whisper_model_weight_s8 (enc->model, name, error)))
        return FALSE;
    }
  }
  if (!(enc->conv1_s8 = whisper_model_weight_s8 (enc->model,
              "encoder.conv1.weight", error)))
    return FALSE;
  /* the largest product: conv1 (F rows) or fc2 (A rows) */
  size_t size = matmul_s8_scratch_size (enc->F, enc->M * CONV_K);
  if (matmul_s8_scratch_size (enc->A, 4 * enc->C) > size)
    size = matmul_s8_scratch_size (enc->A, 4 * enc->C);
  if (!(enc->qscratch = kernel_alloc (size))) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
        "cannot allocate %zu KiB of encoder int8 scratch", size >> 10);
    return FALSE;
  }
  if (enc->int8_attention && !enc->att_s8
      && !(enc->att_s8 = kernel_attention_s8_new (enc->A, enc->C, enc->H,
              kernel_pool_n_threads (enc->pool)))) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
        "cannot allocate the encoder's int8 attention (%d heads of %d "
        "positions)", enc->H, enc->A);
    return FALSE;
  }
  return TRUE;
}

/* The bfloat16 projections of every block and of the two convolutions
 * (as [C][IC*K] products of their im2col rows), their scratch and the
 * bfloat16 attention (compute type BFLOAT16). */
static gboolean
encoder_get_bf16 (whisper_encoder * enc, GError ** error)
{
  enc->bf16 = g_new0 (encoder_layer_bf16, enc->L);
  for (int l = 0; l < enc->L; l++) {
    const kernel_bf16_matrix **dst[6] = { &enc->bf16[l].q, &enc->bf16[l].k,
      &enc->bf16[l].v, &enc->bf16[l].o, &enc->bf16[l].fc1, &enc->bf16[l].fc2
    };
    for (int i = 0; i < 6; i++) {
      char name[72];
      block_weight_name (name, sizeof name, l, i);
      if (!(*dst[i] = whisper_model_weight_bf16 (enc->model, name, error)))
        return FALSE;
    }
  }
  if (!(enc->conv1_bf16 = whisper_model_weight_bf16 (enc->model,
              "encoder.conv1.weight", error))
      || !(enc->conv2_bf16 = whisper_model_weight_bf16 (enc->model,
              "encoder.conv2.weight", error)))
    return FALSE;
  /* the largest product: conv1 (F rows), conv2 or fc2 (A rows) */
  size_t size = matmul_bf16_scratch_size (enc->A, 4 * enc->C);
  if (matmul_bf16_scratch_size (enc->F, enc->M * CONV_K) > size)
    size = matmul_bf16_scratch_size (enc->F, enc->M * CONV_K);
  if (matmul_bf16_scratch_size (enc->A, enc->C * CONV_K) > size)
    size = matmul_bf16_scratch_size (enc->A, enc->C * CONV_K);
  if (!(enc->bscratch = kernel_alloc (size))
      || !(enc->att_bf16 = kernel_attention_bf16_new (enc->A, enc->C, enc->H,
              kernel_pool_n_threads (enc->pool)))) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
        "cannot allocate the encoder's bfloat16 scratch and attention "
        "(%d heads of %d positions)", enc->H, enc->A);
    return FALSE;
  }
  return TRUE;
}

/* What AUTO is on the CPU: bfloat16 where the CPU multiplies bfloat16
 * natively (AVX-512 BF16) and the model comes from a file, else float32.
 * int8 is faster still but misses base's 0.999 cosine bound; bfloat16
 * holds 0.9999 on tiny.en and base (docs/quantization.md, AUTO). */
static whisper_compute_type
cpu_auto_type (const whisper_model * model)
{
  return kernels_bf16_native () && model->tensors ?
      WHISPER_COMPUTE_BFLOAT16 : WHISPER_COMPUTE_FLOAT32;
}

/* Backend NPU: the device, the int8 weights on it, its self-test.  When
 * that fails and the NPU was @required, FALSE + @error; for AUTO the CPU
 * takes over with the type @requested resolves to there and float32
 * attention unless @int8_attention, the reason kept (FALSE + @error only
 * if that fails). */
static gboolean
encoder_start_npu (whisper_encoder * enc, gboolean required,
    const char *kernel_dir, whisper_compute_type requested,
    gboolean int8_attention, GError ** error)
{
  GError *local = NULL;
  enc->npu = encoder_npu_open (kernel_dir, enc->F, enc->A, enc->pool, &local);
  if (enc->npu && (!encoder_get_s8 (enc, &local)
          || !encoder_npu_load (enc->npu, enc->conv1_s8, enc->s8, enc->L,
              enc->H, &local))) {
    encoder_npu_free (enc->npu);
    enc->npu = NULL;
  }
  if (enc->npu)
    return TRUE;
  if (required) {
    g_propagate_error (error, local);
    return FALSE;
  }
  enc->backend = WHISPER_BACKEND_CPU;
  enc->backend_reason = g_strdup (local->message);
  g_clear_error (&local);
  enc->int8_attention = int8_attention && requested == WHISPER_COMPUTE_INT8;
  if (!enc->int8_attention)
    g_clear_pointer (&enc->att_s8, kernel_attention_s8_free);
  if (requested != WHISPER_COMPUTE_INT8) {
    enc->compute_type = requested == WHISPER_COMPUTE_AUTO ?
        cpu_auto_type (enc->model) : requested;
    g_clear_pointer (&enc->s8, g_free);
    enc->conv1_s8 = NULL;
    g_clear_pointer (&enc->qscratch, kernel_free);
    return whisper_model_need_f32 (enc->model,
        enc->compute_type == WHISPER_COMPUTE_BFLOAT16 ?
        WHISPER_WEIGHTS_ENCODER_OTHER : WHISPER_WEIGHTS_ENCODER, error);
  }
  return TRUE;
}

whisper_encoder *
whisper_encoder_new (const whisper_model * model,
    const whisper_encoder_params * params, GError ** error)
{
  g_return_val_if_fail (model != NULL, NULL);
  const whisper_encoder_params defaults = whisper_encoder_default_params ();
  if (!params)
    params = &defaults;
  /* The backend first: the NPU computes in int8 only.  AUTO tries the
   * NPU unless float32 or bfloat16 was asked for. */
  whisper_backend backend = params->backend;
  const char *reason = NULL;
  const gboolean float_asked = params->compute_type == WHISPER_COMPUTE_FLOAT32
      || params->compute_type == WHISPER_COMPUTE_BFLOAT16;
  if (backend == WHISPER_BACKEND_NPU && float_asked) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_ARGUMENT,
        "the NPU computes in int8: compute type %s needs the CPU backend",
        whisper_compute_type_name (params->compute_type));
    return NULL;
  }
  if (backend == WHISPER_BACKEND_AUTO) {
    if (params->compute_type == WHISPER_COMPUTE_FLOAT32)
      reason = "compute type float32 was asked for; the NPU computes in int8";
    else if (params->compute_type == WHISPER_COMPUTE_BFLOAT16)
      reason = "compute type bfloat16 was asked for; the NPU computes in "
          "int8";
    else if (!model->tensors)
      reason = "the NPU needs a model loaded from a file";
    backend = reason ? WHISPER_BACKEND_CPU : WHISPER_BACKEND_NPU;
  }
  /* On the CPU, AUTO is cpu_auto_type (); the NPU computes int8 (and
   * when it cannot start, encoder_start_npu resolves AUTO again) */
  whisper_compute_type ct = params->compute_type;
  if (backend == WHISPER_BACKEND_NPU)
    ct = WHISPER_COMPUTE_INT8;
  else if (ct == WHISPER_COMPUTE_AUTO)
    ct = cpu_auto_type (model);
  if (!whisper_model_need_f32 (model, ct == WHISPER_COMPUTE_FLOAT32 ?
          WHISPER_WEIGHTS_ENCODER : WHISPER_WEIGHTS_ENCODER_OTHER, error))
    return NULL;
  const whisper_hparams *hp = &model->hp;
  const whisper_weights *w = &model->w;

  if (hp->n_audio_ctx * 2 != WHISPER_WINDOW_FRAMES
      || hp->n_mels <= 0 || hp->n_audio_state <= 0 || hp->n_audio_head <= 0
      || hp->n_audio_layer <= 0
      || hp->n_audio_state % hp->n_audio_head != 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "%s: encoder cannot run n_audio_ctx=%d n_mels=%d n_audio_state=%d "
        "n_audio_head=%d n_audio_layer=%d (needs n_audio_ctx=%d and heads "
        "dividing the state)", model->path ? model->path : "model",
        hp->n_audio_ctx, hp->n_mels, hp->n_audio_state, hp->n_audio_head,
        hp->n_audio_layer, WHISPER_WINDOW_FRAMES / 2);
    return NULL;
  }
  if (ct != WHISPER_COMPUTE_FLOAT32 && !model->tensors) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "%s: %s needs a model loaded from a file", model->path ?
        model->path : "model", whisper_compute_type_name (ct));
    return NULL;
  }
  if (!w->conv1_w || !w->conv1_b || !w->conv2_w || !w->conv2_b
      || !w->enc_pos || !w->enc || !w->enc_ln_w || !w->enc_ln_b) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "%s: model has no encoder weights", model->path ? model->path :
        "model");
    return NULL;
  }

  whisper_encoder *enc = g_new0 (whisper_encoder, 1);
  enc->model = model;
  enc->backend = backend;
  enc->compute_type = ct;
  enc->npu_fallback = params->npu_fallback;
  enc->abort_cb = params->abort_callback;
  enc->abort_data = params->abort_callback_user_data;
  enc->int8_attention = ct == WHISPER_COMPUTE_INT8
      && (backend == WHISPER_BACKEND_NPU || params->int8_attention);
  enc->backend_reason = g_strdup (reason);
  enc->n_threads = resolve_threads (params->n_threads);
  enc->pool = kernel_pool_new (enc->n_threads);
  if (!enc->pool) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FAILED,
        "encoder: cannot start %d threads", enc->n_threads);
    g_free (enc);
    return NULL;
  }
  enc->M = hp->n_mels;
  enc->F = WHISPER_WINDOW_FRAMES;
  enc->A = hp->n_audio_ctx;
  enc->C = hp->n_audio_state;
  enc->H = hp->n_audio_head;
  enc->L = hp->n_audio_layer;

  const size_t M = enc->M, F = enc->F, A = enc->A, C = enc->C;
  size_t cols1 = F * M * CONV_K, cols2 = A * C * CONV_K;
  size_t sizes[] = {
    F * M,                                   /* mel_t */
    cols1 > cols2 ? cols1 : cols2,           /* cols */
    F * C,                                   /* x1 */
    A * C, A * C, A * C, A * C, A * C, A * C,/* x ln q k v att */
    A * 4 * C,                               /* h */
    attention_scratch_size (enc->A, enc->C, enc->H,
        kernel_pool_n_threads (enc->pool)),  /* scores */
  };
  float **ptrs[] = { &enc->mel_t, &enc->cols, &enc->x1, &enc->x, &enc->ln,
    &enc->q, &enc->k, &enc->v, &enc->att, &enc->h, &enc->scores
  };
  size_t total = 0;
  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++)
    total += (sizes[i] + 15) & ~(size_t) 15;      /* 64-byte aligned slices */
  enc->memory = kernel_alloc (total * sizeof (float));
  if (!enc->memory) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
        "cannot allocate %zu MiB of encoder activations",
        total * sizeof (float) >> 20);
    whisper_encoder_free (enc);
    return NULL;
  }
  float *p = enc->memory;
  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++) {
    *ptrs[i] = p;
    p += (sizes[i] + 15) & ~(size_t) 15;
  }
  if (backend == WHISPER_BACKEND_NPU && !encoder_start_npu (enc,
          params->backend == WHISPER_BACKEND_NPU, params->npu_kernel_dir,
          params->compute_type, params->int8_attention, error)) {
    whisper_encoder_free (enc);
    return NULL;
  }
  if (enc->compute_type == WHISPER_COMPUTE_INT8 && !enc->s8
      && !encoder_get_s8 (enc, error)) {
    whisper_encoder_free (enc);
    return NULL;
  }
  if (enc->compute_type == WHISPER_COMPUTE_BFLOAT16
      && !encoder_get_bf16 (enc, error)) {
    whisper_encoder_free (enc);
    return NULL;
  }
  return enc;
}

void
whisper_encoder_free (whisper_encoder * enc)
{
  if (!enc)
    return;
  encoder_npu_free (enc->npu);
  kernel_pool_free (enc->pool);
  kernel_free (enc->memory);
  g_free (enc->s8);
  g_free (enc->backend_reason);
  kernel_free (enc->qscratch);
  g_free (enc->bf16);
  kernel_free (enc->bscratch);
  kernel_attention_bf16_free (enc->att_bf16);
  kernel_attention_s8_free (enc->att_s8);
  g_free (enc);
}

int
whisper_encoder_get_n_threads (const whisper_encoder * enc)
{
  return enc->n_threads;
}

whisper_backend
whisper_encoder_get_backend (const whisper_encoder * enc)
{
  return enc->backend;
}

const char *
whisper_encoder_get_backend_reason (const whisper_encoder * enc)
{
  return enc->backend_reason;
}

const char *
whisper_encoder_get_device (const whisper_encoder * enc)
{
  return enc->npu ? encoder_npu_describe (enc->npu) : NULL;
}

gboolean
whisper_encoder_get_npu_counters (const whisper_encoder * enc,
    npu_counters * counters)
{
  if (!enc->npu)
    return FALSE;
  encoder_npu_get_counters (enc->npu, counters);
  return TRUE;
}

whisper_compute_type
whisper_encoder_get_compute_type (const whisper_encoder * enc)
{
  return enc->compute_type;
}

double
whisper_encoder_flops (const whisper_hparams * hp)
{
  const double F = WHISPER_WINDOW_FRAMES, A = hp->n_audio_ctx;
  const double C = hp->n_audio_state, M = hp->n_mels;
  double conv = 2.0 * F * C * M * CONV_K + 2.0 * A * C * C * CONV_K;
  double proj = 4 * 2.0 * A * C * C;        /* q k v o */
  double mlp = 2 * 2.0 * A * C * 4 * C;     /* fc1 fc2 */
  double att = 2 * 2.0 * A * A * C;         /* QK^T and PV over all heads */
  return conv + hp->n_audio_layer * (proj + mlp + att);
}

void
whisper_encoder_set_profiling (whisper_encoder * enc, gboolean on)
{
  enc->profiling = on;
}

void
whisper_encoder_take_profile (whisper_encoder * enc,
    whisper_encoder_profile * profile)
{
  *profile = enc->prof;
  memset (&enc->prof, 0, sizeof enc->prof);
}

/* ------------------------------------------------------------------------ */

void
whisper_mel_normalize (float *mel, size_t n)
{
  if (n == 0)
    return;
  float maxv = mel[0];
  for (size_t i = 1; i < n; i++)
    maxv = mel[i] > maxv ? mel[i] : maxv;
  const float floor_v = maxv - 8.0f;
  for (size_t i = 0; i < n; i++) {
    float x = mel[i] > floor_v ? mel[i] : floor_v;
    mel[i] = (x + 4.0f) / 4.0f;
  }
}

/* ------------------------------------------------------------------------ */

/* Adds the seconds since *t0 to *acc and restarts *t0 (profiling only). */
static inline void
lap (const whisper_encoder * enc, gint64 * t0, double *acc)
{
  if (!enc->profiling)
    return;
  gint64 t1 = g_get_monotonic_time ();
  *acc += (t1 - *t0) * 1e-6;
  *t0 = t1;
}

/* out [A][OC] (+)= inp [A][IC] W^T + bias, W in float32 (w), int8 (w8,
 * when not NULL) or bfloat16 (wb, when not NULL) */
static void
project (whisper_encoder * enc, float *out, const float *inp, const float *w,
    const kernel_s8_matrix * w8, const kernel_bf16_matrix * wb,
    const float *bias, int IC, int OC, int accumulate)
{
  if (w8)
    matmul_s8_forward (out, OC, enc->qscratch, inp, IC, w8, bias, enc->A,
        accumulate, enc->pool);
  else if (wb)
    matmul_bf16_forward (out, OC, enc->bscratch, inp, IC, wb, bias, enc->A,
        accumulate, enc->pool);
  else if (accumulate)
    matmul_add_forward (out, inp, w, bias, enc->A, IC, OC, enc->pool);
  else
    matmul_forward (out, inp, w, bias, enc->A, IC, OC, enc->pool);
}

/* TRUE (and the error set) when the caller's abort callback asks to stop:
 * polled before each of the big products (conv2, the attention block, its
 * output projection, fc1, fc2), so a stop waits for one of them at most. */
static gboolean
encoder_aborted (const whisper_encoder * enc, GError ** error)
{
  if (!enc->abort_cb || !enc->abort_cb (enc->abort_data))
    return FALSE;
  g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_CANCELLED,
      "encoder: cancelled");
  return TRUE;
}

/* One window.  frames: [F][M], time-major (or mel_cm [M][F], transposed
 * here).  FALSE + error only when the NPU fails (the CPU cannot). */
static gboolean
encoder_forward_once (whisper_encoder * enc, const float *frames, float *out,
    const float *mel_cm, GError ** error)
{
  const whisper_weights *w = &enc->model->w;
  const int M = enc->M, F = enc->F, A = enc->A, C = enc->C, H = enc->H;
  whisper_encoder_profile *pr = &enc->prof;
  encoder_npu *npu = enc->npu;

  /* every parallel kernel runs on the encoder's pool (the GEMMs split by
   * rows, OpenBLAS single-threaded inside: docs/kernels.md, Threads) */
  kernel_pool *pool = enc->pool;
  gint64 t0 = enc->profiling ? g_get_monotonic_time () : 0;

  /* ---- convolution stem ---- */
  if (mel_cm) {
    transpose_forward (enc->mel_t, mel_cm, M, F);       /* [F][M] */
    frames = enc->mel_t;
  }
  if (enc->conv1_s8) {
    /* int8: im2col, then the convolution as an int8 product */
    conv1d_im2col_forward (enc->cols, frames, F, M, CONV_K, 1, 1, pool);
    if (npu) {
      if (!encoder_npu_conv1 (npu, enc->x1, enc->cols, w->conv1_b, error))
        return FALSE;
    } else {
      matmul_s8_forward (enc->x1, C, enc->qscratch, enc->cols, M * CONV_K,
          enc->conv1_s8, w->conv1_b, F, 0, pool);       /* [F][C] */
    }
  } else if (enc->conv1_bf16) {
    conv1d_im2col_forward (enc->cols, frames, F, M, CONV_K, 1, 1, pool);
    matmul_bf16_forward (enc->x1, C, enc->bscratch, enc->cols, M * CONV_K,
        enc->conv1_bf16, w->conv1_b, F, 0, pool);       /* [F][C] */
  } else {
    conv1d_forward (enc->x1, enc->cols, frames, w->conv1_w, w->conv1_b,
        F, M, C, CONV_K, 1, 1, pool);                   /* [F][C] */
  }
  gelu_forward (enc->x1, enc->x1, (size_t) F * C, pool);
  if (encoder_aborted (enc, error))
    return FALSE;
  if (enc->conv2_bf16) {
    conv1d_im2col_forward (enc->cols, enc->x1, F, C, CONV_K, 2, 1, pool);
    matmul_bf16_forward (enc->x, C, enc->bscratch, enc->cols, C * CONV_K,
        enc->conv2_bf16, w->conv2_b, A, 0, pool);       /* [A][C] */
  } else {
    conv1d_forward (enc->x, enc->cols, enc->x1, w->conv2_w, w->conv2_b,
        F, C, C, CONV_K, 2, 1, pool);                   /* [A][C] */
  }
  gelu_forward (enc->x, enc->x, (size_t) A * C, pool);
  residual_forward (enc->x, enc->x, w->enc_pos, (size_t) A * C);
  lap (enc, &t0, &pr->conv);

  /* ---- transformer blocks ---- */
  for (int l = 0; l < enc->L; l++) {
    const whisper_encoder_layer *b = &w->enc[l];
    const encoder_layer_s8 no_s8 = { 0 }, *b8 = enc->s8 ? &enc->s8[l] : &no_s8;
    const encoder_layer_bf16 no_bf16 = { 0 }, *bb = enc->bf16 ?
        &enc->bf16[l] : &no_bf16;
    if (encoder_aborted (enc, error))
      return FALSE;

    /* x = x + attn(attn_ln(x)) */
    layernorm_forward (enc->ln, enc->x, b->attn_ln_w, b->attn_ln_b, A, C,
        LN_EPS);
    lap (enc, &t0, &pr->layernorm);
    if (npu) {
      if (!encoder_npu_qkv (npu, l, enc->q, enc->k, enc->v, enc->ln,
              b->attn.q_b, b->attn.v_b, error))
        return FALSE;
    } else {
      project (enc, enc->q, enc->ln, b->attn.q_w, b8->q, bb->q, b->attn.q_b, C, C,
          0);
      project (enc, enc->k, enc->ln, b->attn.k_w, b8->k, bb->k, NULL, C, C, 0);
      project (enc, enc->v, enc->ln, b->attn.v_w, b8->v, bb->v, b->attn.v_b, C, C,
          0);
    }
    lap (enc, &t0, &pr->qkv);
    if (npu) {
      if (!encoder_npu_attention (npu, enc->att, enc->q, enc->k, enc->v, C,
              error))
        return FALSE;
    } else if (enc->att_s8)
      attention_s8_forward (enc->att, enc->att_s8, enc->q, enc->k, enc->v,
          C, pool);
    else if (enc->att_bf16)
      attention_bf16_forward (enc->att, enc->att_bf16, enc->q, enc->k,
          enc->v, C, pool);
    else
      attention_forward (enc->att, enc->scores, enc->q, enc->k, enc->v, C,
          A, C, H, pool);
    lap (enc, &t0, &pr->attention);
    if (encoder_aborted (enc, error))
      return FALSE;
    if (npu) {
      if (!encoder_npu_project (npu, l, ENCODER_NPU_OUT, enc->x, enc->att,
              b->attn.o_b, 1, error))
        return FALSE;
    } else {
      project (enc, enc->x, enc->att, b->attn.o_w, b8->o, bb->o, b->attn.o_b, C, C,
          1);
    }
    lap (enc, &t0, &pr->attn_out);

    /* x = x + fc2(gelu(fc1(mlp_ln(x)))) */
    if (encoder_aborted (enc, error))
      return FALSE;
    layernorm_forward (enc->ln, enc->x, b->mlp_ln_w, b->mlp_ln_b, A, C,
        LN_EPS);
    lap (enc, &t0, &pr->layernorm);
    if (npu) {
      if (!encoder_npu_project (npu, l, ENCODER_NPU_FC1, enc->h, enc->ln,
              b->fc1_b, 0, error))
        return FALSE;
    } else {
      project (enc, enc->h, enc->ln, b->fc1_w, b8->fc1, bb->fc1, b->fc1_b, C, 4 * C,
          0);
    }
    lap (enc, &t0, &pr->fc1);
    gelu_forward (enc->h, enc->h, (size_t) A * 4 * C, pool);
    lap (enc, &t0, &pr->gelu);
    if (encoder_aborted (enc, error))
      return FALSE;
    if (npu) {
      if (!encoder_npu_project (npu, l, ENCODER_NPU_FC2, enc->x, enc->h,
              b->fc2_b, 1, error))
        return FALSE;
    } else {
      project (enc, enc->x, enc->h, b->fc2_w, b8->fc2, bb->fc2, b->fc2_b, 4 * C, C,
          1);
    }
    lap (enc, &t0, &pr->fc2);
  }

  layernorm_forward (out, enc->x, w->enc_ln_w, w->enc_ln_b, A, C, LN_EPS);
  lap (enc, &t0, &pr->layernorm);
  if (enc->profiling)
    pr->n_runs++;
  return TRUE;
}

/* encoder_forward_once; when the NPU fails and npu_fallback is on, the
 * device is closed and the window runs again on the CPU, in the same int8
 * arithmetic, as does every later one. */
static gboolean
encoder_forward (whisper_encoder * enc, const float *frames, float *out,
    const float *mel_cm, GError ** error)
{
  GError *local = NULL;
  if (encoder_aborted (enc, error))
    return FALSE;
  if (encoder_forward_once (enc, frames, out, mel_cm, &local))
    return TRUE;
  /* a cancel is no NPU failure */
  if (!enc->npu || !enc->npu_fallback
      || g_error_matches (local, WHISPER_ERROR, WHISPER_ERROR_CANCELLED)) {
    g_propagate_error (error, local);
    return FALSE;
  }
  g_free (enc->backend_reason);
  enc->backend_reason = g_strdup_printf ("the NPU failed while encoding, "
      "the CPU took over: %s", local->message);
  g_clear_error (&local);
  g_clear_pointer (&enc->npu, encoder_npu_free);
  enc->backend = WHISPER_BACKEND_CPU;
  return encoder_forward_once (enc, frames, out, mel_cm, error);
}

int
whisper_encoder_run (whisper_encoder * enc, const float *mel, float *out)
{
  if (!enc || !mel || !out)
    return -1;
  return encoder_forward (enc, NULL, out, mel, NULL) ? 0 : -1;
}

int
whisper_encoder_run_frames (whisper_encoder * enc, const float *frames,
    float *out)
{
  if (!enc || !frames || !out)
    return -1;
  return encoder_forward (enc, frames, out, NULL, NULL) ? 0 : -1;
}

/* log10 mel of digital silence: what Whisper's padding (30 s of zero
 * samples) gives, log10 of the 1e-10 floor */
#define PAD_LOG_MEL (-10.0f)

gboolean
whisper_encoder_encode_window (whisper_encoder * enc, const float *frames,
    int n_frames, float *out, GError ** error)
{
  g_return_val_if_fail (enc != NULL && frames != NULL && out != NULL, FALSE);
  const int M = enc->M, F = enc->F;

  if (n_frames < 1 || n_frames > F) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_ARGUMENT,
        "a window holds 1 to %d mel frames, not %d", F, n_frames);
    return FALSE;
  }
  /* frames [n][M] -> window [F][M], silence after the real frames */
  memcpy (enc->mel_t, frames, sizeof (float) * (size_t) n_frames * M);
  for (size_t i = (size_t) n_frames * M; i < (size_t) F * M; i++)
    enc->mel_t[i] = PAD_LOG_MEL;
  whisper_mel_normalize (enc->mel_t, (size_t) F * M);
  return encoder_forward (enc, enc->mel_t, out, NULL, error);
}
