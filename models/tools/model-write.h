/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing Whisper models in the formats the loaders read, and a synthetic
 * model generator for tests (used by whisper-convert, whisper-synth and the
 * loader tests).
 *
 * Usage:
 *   whisper_synth_params p = whisper_synth_params_default ();
 *   whisper_model *m = whisper_model_synthetic (&p, &error);
 *   whisper_model_save_ggml (m, "synth.bin", WHISPER_SAVE_F16, NULL, &error);
 *   whisper_model_free (m);
 */
#ifndef WHISPER_MODEL_WRITE_H
#define WHISPER_MODEL_WRITE_H

#include <stdint.h>
#include <glib.h>
#include "whisper-model.h"

G_BEGIN_DECLS

typedef enum {
  WHISPER_SAVE_F32,
  WHISPER_SAVE_F16,
  WHISPER_SAVE_BF16,   /* safetensors, CTranslate2 */
  WHISPER_SAVE_INT8,   /* CTranslate2 only: int8 weights + float32 row scales */
  WHISPER_SAVE_INT16,  /* CTranslate2 only: int16 weights + one float32 scale */
} whisper_save_type;

/* whisper.cpp ggml .bin.  F16 stores the 2-D+ weights as float16 and the
 * biases, norms, conv biases and positional embeddings as float32, like
 * whisper.cpp's converter.  All n_vocab tokens are written (raw bytes).
 * mel_filters [n_mels][201] is the Slaney filterbank whisper.cpp computes
 * its spectrogram with (whisper_mel_filters_compute() in mel.h); NULL
 * writes zeros (fine for our loader, not for whisper.cpp). */
gboolean whisper_model_save_ggml (const whisper_model * model,
    const char *file, whisper_save_type type, const float *mel_filters,
    GError ** error);

/* CTranslate2 directory (created if needed): model.bin (binary version 6,
 * WhisperSpec revision 3, fused QKV), config.json, vocabulary.txt (English)
 * or vocabulary.json (multilingual), tokenizer.json.  F32, F16, BF16, INT8
 * or INT16 (quantised as ctranslate2's converter does; the other tensors
 * float32). */
gboolean whisper_model_save_ct2 (const whisper_model * model,
    const char *dir, whisper_save_type type, GError ** error);

/* Hugging Face directory: model.safetensors, config.json,
 * generation_config.json (alignment heads), tokenizer.json.  F32, F16,
 * BF16. */
gboolean whisper_model_save_safetensors (const whisper_model * model,
    const char *dir, whisper_save_type type, GError ** error);

/* A tiny random model.  Keep in sync with whisper_synth_params_default(). */
typedef struct {
  int n_state;       /* 64 */
  int n_head;        /* 2 */
  int n_layer;       /* 2 (encoder and decoder) */
  int n_mels;        /* 80 */
  int n_audio_ctx;   /* 1500 (3000 mel frames, like real models) */
  int n_text_ctx;    /* 448 */
  int n_langs;       /* 0: English-only layout; 1..100: multilingual */
  uint64_t seed;     /* 1 */
} whisper_synth_params;

whisper_synth_params whisper_synth_params_default (void);

/* Vocabulary: the 256 byte tokens in GPT-2 order, a few merged tokens
 * (with their BPE merges), then <|endoftext|>, <|startoftranscript|>,
 * n_langs language tokens, the task tokens, <|notimestamps|> and the 1501
 * timestamps <|0.00|> .. <|30.00|>: openai's special-token order, so the
 * special tokens are found exactly as in real vocabularies.  Weights are
 * random but exactly representable in bfloat16 and float16 (so every format
 * stores them losslessly, except int8). */
whisper_model *whisper_model_synthetic (const whisper_synth_params * p,
    GError ** error);

G_END_DECLS
#endif
