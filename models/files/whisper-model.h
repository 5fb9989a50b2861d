/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-memory Whisper model: hyper-parameters, weights, vocabulary.
 *
 * Every loader (CTranslate2 directory, whisper.cpp ggml .bin, Hugging Face
 * safetensors directory) fills this one struct.  Weights are converted once
 * at load time to float32 in PyTorch's layout:
 *   Linear weight [out][in] row-major (y = x W^T + b),
 *   Conv1d weight [out][in][k].
 * All float pointers point into one allocation owned by the model.
 *
 * Letters used in shape comments:
 *   M = n_mels (80 or 128)         C = n_audio_state (384 tiny, 512 base)
 *   A = n_audio_ctx (1500)         T = n_text_ctx (448)
 *   D = n_text_state (== C)        V = n_vocab (51864 .en, 51865 multi, 51866 large-v3)
 */
#ifndef WHISPER_MODEL_H
#define WHISPER_MODEL_H

#include "whisper.h"

G_BEGIN_DECLS

typedef struct {
  int n_vocab;        /* 51864 */
  int n_audio_ctx;    /* 1500 */
  int n_audio_state;  /* 384 */
  int n_audio_head;   /* 6 */
  int n_audio_layer;  /* 4 */
  int n_text_ctx;     /* 448 */
  int n_text_state;   /* 384 */
  int n_text_head;    /* 6 */
  int n_text_layer;   /* 4 */
  int n_mels;         /* 80 */
} whisper_hparams;

/* One attention block's projections. k has no bias in Whisper. */
typedef struct {
  float *q_w;  /* [C][C] */
  float *q_b;  /* [C] */
  float *k_w;  /* [C][C] */
  float *v_w;  /* [C][C] */
  float *v_b;  /* [C] */
  float *o_w;  /* [C][C] */
  float *o_b;  /* [C] */
} whisper_attn_weights;

typedef struct {
  float *attn_ln_w, *attn_ln_b;   /* [C] */
  whisper_attn_weights attn;      /* self-attention */
  float *mlp_ln_w, *mlp_ln_b;     /* [C] */
  float *fc1_w;                   /* [4C][C] */
  float *fc1_b;                   /* [4C] */
  float *fc2_w;                   /* [C][4C] */
  float *fc2_b;                   /* [C] */
} whisper_encoder_layer;

typedef struct {
  float *attn_ln_w, *attn_ln_b;   /* [D] */
  whisper_attn_weights attn;      /* causal self-attention */
  float *cross_ln_w, *cross_ln_b; /* [D] */
  whisper_attn_weights cross;     /* cross-attention (k, v applied to encoder output) */
  float *mlp_ln_w, *mlp_ln_b;     /* [D] */
  float *fc1_w;                   /* [4D][D] */
  float *fc1_b;                   /* [4D] */
  float *fc2_w;                   /* [D][4D] */
  float *fc2_b;                   /* [D] */
} whisper_decoder_layer;

typedef struct {
  /* encoder */
  float *conv1_w;                 /* [C][M][3] */
  float *conv1_b;                 /* [C] */
  float *conv2_w;                 /* [C][C][3] */
  float *conv2_b;                 /* [C] */
  float *enc_pos;                 /* [A][C] sinusoidal, stored in the file */
  whisper_encoder_layer *enc;     /* [n_audio_layer] */
  float *enc_ln_w, *enc_ln_b;     /* [C] final LayerNorm */
  /* decoder */
  float *tok_emb;                 /* [V][D], also the output projection (tied) */
  float *dec_pos;                 /* [T][D] learned */
  whisper_decoder_layer *dec;     /* [n_text_layer] */
  float *dec_ln_w, *dec_ln_b;     /* [D] final LayerNorm */
} whisper_weights;

/* Special token ids, found from the model's own vocabulary by name; -1 if
 * absent.  Language tokens are "<|xx|>" tokens right after sot (some
 * Hugging Face vocabularies name Hebrew "iw" where openai says "he"; look
 * languages up by the vocabulary's token text).  See docs/models.md. */
typedef struct {
  int eot;            /* <|endoftext|> */
  int sot;            /* <|startoftranscript|> */
  int translate;      /* <|translate|> */
  int transcribe;     /* <|transcribe|> */
  int sot_lm;         /* <|startoflm|> */
  int sot_prev;       /* <|startofprev|> */
  int no_speech;      /* <|nospeech|> or <|nocaptions|> */
  int no_timestamps;  /* <|notimestamps|> */
  int timestamp_begin;/* <|0.00|> */
  int lang_first;     /* first language token (<|en|>), -1 for .en models */
  int n_langs;        /* number of language tokens (0 for .en models) */
} whisper_special_tokens;

typedef struct {
  int n_tokens;
  char **token;       /* [n_tokens] raw bytes of each token (GPT-2 byte
                         mapping already undone), NUL-terminated */
  int *token_len;     /* [n_tokens] byte length (tokens may contain NUL) */
  int n_merges;       /* 0 when the file carries no BPE merges (ggml) */
  char **merges;      /* [n_merges] "left right" in GPT-2 byte-mapped form,
                         in rank order */
} whisper_vocab;

struct whisper_model {
  whisper_hparams hp;
  whisper_weights w;
  whisper_vocab vocab;
  whisper_special_tokens tok;
  int is_multilingual;            /* n_vocab >= 51865 (openai's rule); small
                                     synthetic vocabularies: has languages */
  int n_alignment_heads;
  int (*alignment_heads)[2];      /* [n][2] (layer, head), may be NULL */
  int *suppress_tokens;           /* non-speech tokens to suppress (openai's
                                     tokenizer.non_speech_tokens(), sorted;
                                     special tokens NOT included), may be NULL */
  int n_suppress_tokens;
  char *path;                     /* the file or directory it came from */
  char *format;                   /* "ctranslate2", "ggml", "safetensors" */
  void *storage;                  /* the one allocation the weights point into */
  size_t storage_size;
  const char *weight_dtype;       /* element type of the 2-D weights in the file
                                     ("float32", "float16", "bfloat16", "int8",
                                     "int16"); static string */
};

G_END_DECLS
#endif /* WHISPER_MODEL_H */
