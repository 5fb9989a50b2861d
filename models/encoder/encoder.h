/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whisper's audio encoder forward pass (CPU, float32 or int8
 * projections): the internal entry
 * points beside whisper_encoder_encode_window() (whisper.h).
 *
 * A whisper_encoder holds the activation buffers for one stream: one
 * model may serve several encoders at once (each element instance has its
 * own).  whisper_encoder_run() is not reentrant for one encoder.
 */
#ifndef WHISPER_ENCODER_H
#define WHISPER_ENCODER_H

#include "whisper.h"
#include "whisper-model.h"
#include "npu-device.h"

G_BEGIN_DECLS

/* mel: [M][3000], already normalised ((max(x, max-8) + 4) / 4).
 * out: [A][C] (1500 x n_audio_state), after the final LayerNorm.
 * Returns 0 on success. */
int whisper_encoder_run (whisper_encoder * enc, const float *mel, float *out);

/* The same with the window time-major, frames: [3000][M] (the layout
 * whispermel's buffers have), which saves the encoder a transpose. */
int whisper_encoder_run_frames (whisper_encoder * enc, const float *frames,
    float *out);

/* The NPU device's counters (npu-device.h); FALSE off the NPU. */
gboolean whisper_encoder_get_npu_counters (const whisper_encoder * enc,
    npu_counters * counters);

/* Floating-point operations of one 30 s window (multiply-add = 2), counting
 * the GEMMs (convolutions, projections, MLP, attention products) only. */
double whisper_encoder_flops (const whisper_hparams * hp);

/* Where the time of whisper_encoder_run() goes, accumulated over runs (in
 * seconds) while profiling is on; for the benchmark. */
typedef struct {
  double conv;        /* im2col + conv GEMMs + GELU, positional embedding */
  double layernorm;   /* every LayerNorm, including ln_post */
  double qkv;         /* q, k, v projections */
  double attention;   /* QK^T, softmax, PV */
  double attn_out;    /* output projection + residual */
  double fc1;         /* fc1 GEMM */
  double gelu;        /* MLP GELU */
  double fc2;         /* fc2 GEMM + residual */
  int n_runs;
} whisper_encoder_profile;

void whisper_encoder_set_profiling (whisper_encoder * enc, gboolean on);
/* Copies the accumulated profile and resets it. */
void whisper_encoder_take_profile (whisper_encoder * enc,
    whisper_encoder_profile * profile);

/* Whisper's per-window normalisation, in place on [n] log10 values:
 * x = (max(x, max_all - 8) + 4) / 4. */
void whisper_mel_normalize (float *mel, size_t n);

G_END_DECLS
#endif
