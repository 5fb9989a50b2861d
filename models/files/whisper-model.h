/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-memory Whisper model: hyper-parameters, weights, vocabulary.
 *
 * Every loader (CTranslate2 directory, whisper.cpp ggml .bin, Hugging Face
 * safetensors directory) fills this one struct.  A loaded weight is a typed
 * view (whisper_tensor) of its bytes in the mapped file, in PyTorch's
 * layout:
 *   Linear weight [out][in] row-major (y = x W^T + b),
 *   Conv1d weight [out][in][k].
 * The float pointers of whisper_weights are set when a forward pass asks
 * for a part in float32 (whisper_model_need_f32): they point into the file
 * when it holds aligned float32, else into a copy converted once and kept
 * with the model.
 *
 * Letters used in shape comments:
 *   M = n_mels (80 or 128)         C = n_audio_state (384 tiny, 512 base)
 *   A = n_audio_ctx (1500)         T = n_text_ctx (448)
 *   D = n_text_state (== C)        V = n_vocab (51864 .en, 51865 multi, 51866 large-v3)
 */
#ifndef WHISPER_MODEL_H
#define WHISPER_MODEL_H

#include "whisper.h"
#include "kernels.h"

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

typedef enum {
  WHISPER_DTYPE_F32,
  WHISPER_DTYPE_F16,
  WHISPER_DTYPE_BF16,
  WHISPER_DTYPE_I8,
  WHISPER_DTYPE_I16,
  WHISPER_DTYPE_I32,
} whisper_dtype;

/* A weight as the model holds it: a typed view of its bytes in the mapped
 * model file (or in model->storage), little-endian, row-major. */
typedef struct {
  char name[72];              /* openai's name, as in the slot table */
  whisper_dtype dtype;
  int n_dims;
  int64_t ne[4];              /* shape, outermost first (PyTorch order) */
  size_t n;                   /* elements */
  const void *data;
  /* integer dtypes (CTranslate2): value = q / scale[row] */
  const void *scale;
  whisper_dtype scale_dtype;
  size_t n_scale;             /* 1, or one per row */
  size_t row_len;             /* elements per row */
  float *f32;                 /* float32 copy made on request, or NULL */
  kernel_s8_matrix *s8;       /* int8 form made on request, or NULL */
  kernel_bf16_matrix *bf16;   /* bfloat16 form made on request, or NULL */
} whisper_tensor;

/* Which weights a forward pass asks for (whisper_model_need_f32).  The
 * LINEAR parts are the 2-D projection weights of the blocks (q, k, v, out,
 * mlp): what the int8 compute type reads as int8 instead. */
typedef enum {
  WHISPER_WEIGHTS_ENCODER_LINEAR = 1 << 0,
  WHISPER_WEIGHTS_ENCODER_OTHER = 1 << 1,    /* convolutions, norms, biases,
                                                positions */
  WHISPER_WEIGHTS_DECODER_LINEAR = 1 << 2,
  WHISPER_WEIGHTS_DECODER_OTHER = 1 << 3,    /* but the token embedding */
  WHISPER_WEIGHTS_TOKEN_EMBEDDING = 1 << 4,  /* the decoder's largest matrix */
  WHISPER_WEIGHTS_ENCODER = WHISPER_WEIGHTS_ENCODER_LINEAR
      | WHISPER_WEIGHTS_ENCODER_OTHER,
  WHISPER_WEIGHTS_DECODER = WHISPER_WEIGHTS_DECODER_LINEAR
      | WHISPER_WEIGHTS_DECODER_OTHER,
  WHISPER_WEIGHTS_ALL = WHISPER_WEIGHTS_ENCODER | WHISPER_WEIGHTS_DECODER
      | WHISPER_WEIGHTS_TOKEN_EMBEDDING,
} whisper_weight_part;

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
  whisper_tensor *tensors;        /* [n_tensors] in slot order; NULL for a
                                     model built by hand (tests) */
  int n_tensors;
  GPtrArray *maps;                /* GMappedFile the views point into */
  unsigned f32_parts;             /* whisper_weight_part bits whose float
                                     pointers are set */
  void *storage;                  /* float32 storage of a model made in
                                     memory, or NULL */
  size_t storage_size;
  const char *weight_dtype;       /* element type of the 2-D weights in the file
                                     ("float32", "float16", "bfloat16", "int8",
                                     "int16"); static string */
};

/* Sets the float pointers of whisper_weights for @parts (converting once,
 * under a lock: the model may be shared).  Models built by hand (no
 * tensors) already have them.  FALSE + error when out of memory. */
gboolean whisper_model_need_f32 (const whisper_model * model, unsigned parts,
    GError ** error);

/* GPT-2's byte mapping (bytes_to_unicode), in which token texts and merges
 * are stored: the byte that code point @c stands for, or -1. */
int whisper_vocab_byte (gunichar c);

/* The view of the weight @name ("decoder.blocks.0.attn.query.weight"), or
 * NULL (no such weight, or a model built by hand). */
const whisper_tensor *whisper_model_tensor (const whisper_model * model,
    const char *name);

/* The weight @name in @dtype, through the model's one conversion cache:
 * the file's own bytes when the file holds @dtype (any alignment; float16
 * is read as kernel_half), else a copy converted once and kept with the
 * model, where the conversion is exact (float32 from any dtype).  NULL
 * where it is not (float16 from float32, say), for a model built by hand,
 * or out of memory (then @error is set). */
const void *whisper_model_weight (const whisper_model * model,
    const char *name, whisper_dtype dtype, GError ** error);

/* The weight @name [OC][IC] in int8 (a convolution's [OC][IC][K] as
 * [OC][IC*K]) (kernels.h, kernel_s8_matrix),
 * made once and kept with the model: a CTranslate2 int8 file's own values
 * and scales (-128 read as -127, the one value outside the symmetric
 * range), any other dtype quantised per row by quantize_row_s8.  NULL for
 * a model built by hand, or out of memory (then @error is set). */
const kernel_s8_matrix *whisper_model_weight_s8 (const whisper_model * model,
    const char *name, GError ** error);

/* The weight @name [OC][IC] (a convolution's as [OC][IC*K]) in bfloat16
 * (kernels.h, kernel_bf16_matrix), rounded from its values (a CTranslate2
 * int8 file's dequantised ones), made once and kept with the model.  NULL
 * for a model built by hand, or out of memory (then @error is set). */
const kernel_bf16_matrix *whisper_model_weight_bf16 (const whisper_model *
    model, const char *name, GError ** error);

G_END_DECLS
#endif /* WHISPER_MODEL_H */
