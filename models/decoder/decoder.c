/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whisper's text decoder forward pass with KV cache.  See decoder.h.
 *
 * Reference: openai-whisper whisper/model.py (TextDecoder,
 * ResidualAttentionBlock, MultiHeadAttention.qkv_attention); the kernels
 * are those of kernels/ (docs/kernels.md).
 *
 * Letters: L layers, D state, H heads, A audio positions (1500), T text
 * context (448), V vocabulary, F = 4D, Bmax = max_batch, R = rows of one
 * forward call (B sequences x N new tokens), Rmax = max(Bmax, T).
 */
#include "decoder.h"
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whisper.h"

#define LN_EPS 1e-5f

struct whisper_text_decoder {
  const whisper_model *model;
  int L, D, H, A, T, V, F;
  int max_batch;
  int max_rows;                /* Rmax */
  kernel_pool *pool;           /* threads of the big products */
  int n_past;
  int B_last, N_last;          /* shape of the last forward call */
  int have_audio;

  /* caches and activations, all pointing into one allocation */
  float *memory;
  float *cross_k;              /* [L][A][D] */
  float *cross_v;              /* [L][A][D] */
  float *self_k;               /* [L][Bmax][T][D] */
  float *self_v;               /* [L][Bmax][T][D] */
  float *reorder_tmp;          /* [Bmax][T][D] */
  float *x;                    /* [Rmax][D] residual stream */
  float *ln;                   /* [Rmax][D] LayerNorm output */
  float *q, *k, *v;            /* [Rmax][D] projections */
  float *att;                  /* [Rmax][D] attention output (heads side by side) */
  float *proj;                 /* [Rmax][D] output projection before the residual add */
  float *fc;                   /* [Rmax][F] MLP hidden */
  float *scores;               /* [Rmax][max(A, T)] */
  float *out;                  /* [Rmax][D] final LayerNorm output */
  float *gather;               /* [Rmax][D] rows gathered for the logits */
  float *wscratch;             /* [MATMUL_F16_BLOCK][D] tok_emb16 rows in
                                  float32, for logits of many rows */
  const float *tok_emb;         /* [V][D] float32, NULL with tok_emb16 */
  const kernel_half *tok_emb16;   /* [V][D] tok_emb as the file's half floats
                                  when it stores float16, else NULL */
  gboolean have_w16;           /* the same for the per-token projections */
  struct {
    const kernel_half *q, *k, *v, *o;      /* self-attention [D][D] */
    const kernel_half *cq, *co;            /* cross-attention q, out [D][D] */
    const kernel_half *fc1, *fc2;          /* [4D][D], [D][4D] */
  } *l16;                      /* [L], NULL without have_w16 */
  whisper_compute_type compute_type;   /* resolved: never AUTO */
  struct {
    const kernel_s8_matrix *q, *k, *v, *o;   /* self-attention */
    const kernel_s8_matrix *cq, *ck, *cv, *co;   /* cross-attention */
    const kernel_s8_matrix *fc1, *fc2;
  } *l8;                       /* [L] with INT8, else NULL */
  const kernel_s8_matrix *tok_emb8;   /* the logits' weights with INT8 */
  whisper_abort_callback abort_cb;    /* polled by set_audio, or NULL */
  void *abort_data;
  void *qscratch;              /* matmul_s8_forward's, with INT8 */
  /* set only during whisper_text_decoder_cross_qk: the heads whose
   * cross-attention scores are kept, into qk_out [n][R][qk_frames] */
  const int (*qk_heads)[2];
  int n_qk_heads, qk_frames;
  float *qk_out;
};

/* The int8 weights of every projection and of the logits, and the scratch
 * of their products (compute type INT8). */
static gboolean
decoder_get_s8 (whisper_text_decoder * d, GError ** error)
{
  static const char *const names[10] = { "attn.query", "attn.key",
    "attn.value", "attn.out", "cross_attn.query", "cross_attn.key",
    "cross_attn.value", "cross_attn.out", "mlp.0", "mlp.2"
  };
  d->l8 = g_malloc0 (sizeof (*d->l8) * d->L);
  for (int l = 0; l < d->L; l++) {
    const kernel_s8_matrix **dst[10] = { &d->l8[l].q, &d->l8[l].k,
      &d->l8[l].v, &d->l8[l].o, &d->l8[l].cq, &d->l8[l].ck, &d->l8[l].cv,
      &d->l8[l].co, &d->l8[l].fc1, &d->l8[l].fc2
    };
    for (int i = 0; i < 10; i++) {
      char name[72];
      g_snprintf (name, sizeof name, "decoder.blocks.%d.%s.weight", l,
          names[i]);
      if (!(*dst[i] = whisper_model_weight_s8 (d->model, name, error)))
        return FALSE;
    }
  }
  d->tok_emb8 = whisper_model_weight_s8 (d->model,
      "decoder.token_embedding.weight", error);
  if (!d->tok_emb8)
    return FALSE;
  /* the widest product input: the cross K/V (A rows) or the MLP (F) */
  const size_t a = matmul_s8_scratch_size (d->A, d->D);
  const size_t f = matmul_s8_scratch_size (d->max_rows, d->F);
  if (!(d->qscratch = kernel_alloc (a > f ? a : f))) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
        "decoder: out of memory for the int8 scratch");
    return FALSE;
  }
  return TRUE;
}

/* out [R][OC] = inp [R][IC] W^T + bias: W in int8 (w8) when not NULL,
 * else the float32 / half-float path of linear_forward */
static void
project (whisper_text_decoder * d, float *out, const float *inp,
    const float *w, const kernel_half * w16, const kernel_s8_matrix * w8,
    const float *bias, int R, int IC, int OC)
{
  if (w8)
    matmul_s8_forward (out, OC, d->qscratch, inp, IC, w8, bias, R, 0,
        d->pool);
  else
    linear_forward (out, inp, w, w16, bias, R, IC, OC, d->pool);
}

/* The scaled scores q_h K_h^T / sqrt(hs) of the kept heads of layer l
 * over the first qk_frames audio positions (before the softmax, as
 * openai's find_alignment takes them); d->q holds the cross queries */
static void
keep_cross_qk (whisper_text_decoder * d, int l, const float *K, int R)
{
  const int D = d->D, hs = D / d->H, F = d->qk_frames;
  const float scale = 1.0f / sqrtf ((float) hs);
  for (int i = 0; i < d->n_qk_heads; i++) {
    if (d->qk_heads[i][0] != l)
      continue;
    const int h = d->qk_heads[i][1];
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, R, F, hs, scale,
        d->q + h * hs, D, K + h * hs, D, 0.0f,
        d->qk_out + (size_t) i * R * F, F);
  }
}

/* ---------------------------------------------------------------------- */

whisper_compute_type
whisper_text_decoder_resolve_compute_type (whisper_compute_type type)
{
  /* AUTO: float32.  int8 is faster for the decoder's products but misses
   * the per-subset WER bound by a few words (docs/quantization.md).
   * BFLOAT16 is the encoder's: the decoder's products read float16 or
   * int8 weights one token at a time, where bfloat16 gains nothing */
  return type == WHISPER_COMPUTE_AUTO || type == WHISPER_COMPUTE_BFLOAT16 ?
      WHISPER_COMPUTE_FLOAT32 : type;
}

whisper_text_decoder *
whisper_text_decoder_new (const whisper_model * model, int max_batch,
    int n_threads, whisper_compute_type compute_type, GError ** error)
{
  const whisper_hparams *hp = &model->hp;
  const whisper_compute_type ct =
      whisper_text_decoder_resolve_compute_type (compute_type);
  if (ct == WHISPER_COMPUTE_INT8 && !model->tensors) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "decoder: int8 needs a model loaded from a file");
    return NULL;
  }
  const gboolean int8 = ct == WHISPER_COMPUTE_INT8;
  if (max_batch < 1)
    max_batch = 1;
  if (hp->n_text_state <= 0 || hp->n_text_head <= 0
      || hp->n_text_state % hp->n_text_head != 0 || hp->n_text_layer <= 0
      || hp->n_text_ctx <= 0 || hp->n_audio_ctx <= 0 || hp->n_vocab <= 0
      || hp->n_audio_state != hp->n_text_state) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "decoder: unsupported model dimensions (D=%d heads=%d L=%d)",
        hp->n_text_state, hp->n_text_head, hp->n_text_layer);
    return NULL;
  }
  /* a float16 file's token embedding is read as its half floats (the
   * logits, the biggest product per token; the embedding rows): no float32
   * copy of it */
  const kernel_half *tok_emb16 = hp->n_text_state % 8 == 0 ?
      whisper_model_weight (model, "decoder.token_embedding.weight",
      WHISPER_DTYPE_F16, NULL) : NULL;
  if (!whisper_model_need_f32 (model, (int8 ? WHISPER_WEIGHTS_DECODER_OTHER :
              WHISPER_WEIGHTS_DECODER)
          | (tok_emb16 ? 0 : WHISPER_WEIGHTS_TOKEN_EMBEDDING), error))
    return NULL;
  whisper_text_decoder *d = g_new0 (whisper_text_decoder, 1);
  d->model = model;
  d->compute_type = ct;
  d->tok_emb16 = tok_emb16;
  d->tok_emb = tok_emb16 ? NULL : model->w.tok_emb;
  d->L = hp->n_text_layer;
  d->D = hp->n_text_state;
  d->H = hp->n_text_head;
  d->A = hp->n_audio_ctx;
  d->T = hp->n_text_ctx;
  d->V = hp->n_vocab;
  d->F = 4 * d->D;
  d->max_batch = max_batch;
  d->max_rows = MAX (max_batch, d->T);
  if (n_threads < 1)
    n_threads = MAX ((int) g_get_num_processors (), 1);
  d->pool = kernel_pool_new (n_threads);
  if (!d->pool) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FAILED,
        "decoder: cannot start %d threads", n_threads);
    whisper_text_decoder_free (d);
    return NULL;
  }

  const size_t L = d->L, D = d->D, A = d->A, T = d->T, R = d->max_rows;
  const size_t Bm = max_batch, S = MAX (A, T);
  size_t sizes[] = {
    L * A * D, L * A * D,                    /* cross_k cross_v */
    L * Bm * T * D, L * Bm * T * D,          /* self_k self_v */
    Bm * T * D,                              /* reorder_tmp */
    R * D, R * D, R * D, R * D, R * D,       /* x ln q k v */
    R * D, R * D,                            /* att proj */
    R * d->F,                                /* fc */
    R * S,                                   /* scores */
    R * D, R * D,                            /* out gather */
    (size_t) MATMUL_F16_BLOCK * D,           /* wscratch */
  };
  float **ptrs[] = { &d->cross_k, &d->cross_v, &d->self_k, &d->self_v,
    &d->reorder_tmp, &d->x, &d->ln, &d->q, &d->k, &d->v, &d->att, &d->proj,
    &d->fc, &d->scores, &d->out, &d->gather, &d->wscratch
  };
  size_t total = 0;
  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++)
    total += (sizes[i] + 15) & ~(size_t) 15;      /* 64-byte aligned slices */
  d->memory = kernel_alloc (total * sizeof (float));
  if (!d->memory) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
        "decoder: out of memory for the KV cache (batch %d)", max_batch);
    whisper_text_decoder_free (d);
    return NULL;
  }
  float *p = d->memory;
  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++) {
    *ptrs[i] = p;
    p += (sizes[i] + 15) & ~(size_t) 15;
  }

  if (int8) {
    if (!decoder_get_s8 (d, error)) {
      whisper_text_decoder_free (d);
      return NULL;
    }
    return d;
  }

  /* float16 file: the weights read once per token (output projection,
   * layer projections) are read as the file's half floats: the same values
   * as the float32 copies, half the memory traffic */
  if (D % 8 == 0) {
    d->l16 = g_malloc0 (sizeof (*d->l16) * d->L);
    d->have_w16 = TRUE;
    for (int l = 0; d->have_w16 && l < d->L; l++) {
      static const char *const names[8] = { "attn.query", "attn.key",
        "attn.value", "attn.out", "cross_attn.query", "cross_attn.out",
        "mlp.0", "mlp.2"
      };
      const kernel_half **dst[8] = { &d->l16[l].q, &d->l16[l].k, &d->l16[l].v,
        &d->l16[l].o, &d->l16[l].cq, &d->l16[l].co, &d->l16[l].fc1,
        &d->l16[l].fc2
      };
      for (int t = 0; d->have_w16 && t < 8; t++) {
        char name[72];
        g_snprintf (name, sizeof name, "decoder.blocks.%d.%s.weight", l,
            names[t]);
        *dst[t] = whisper_model_weight (model, name, WHISPER_DTYPE_F16, NULL);
        d->have_w16 = *dst[t] != NULL;
      }
    }
    if (!d->have_w16)
      g_clear_pointer (&d->l16, g_free);
  }
  return d;
}

void
whisper_text_decoder_free (whisper_text_decoder * d)
{
  if (!d)
    return;
  kernel_pool_free (d->pool);
  kernel_free (d->memory);
  g_free (d->l16);
  g_free (d->l8);
  kernel_free (d->qscratch);
  g_free (d);
}

int
whisper_text_decoder_max_batch (const whisper_text_decoder * d)
{
  return d->max_batch;
}

whisper_compute_type
whisper_text_decoder_get_compute_type (const whisper_text_decoder * d)
{
  return d->compute_type;
}

int
whisper_text_decoder_n_threads (const whisper_text_decoder * d)
{
  return kernel_pool_n_threads (d->pool);
}

gboolean
whisper_text_decoder_has_f16_weights (const whisper_text_decoder * d)
{
  return d->tok_emb16 != NULL && d->have_w16;
}

int
whisper_text_decoder_n_past (const whisper_text_decoder * d)
{
  return d->n_past;
}

void
whisper_text_decoder_clear_cache (whisper_text_decoder * d)
{
  d->n_past = 0;
  d->B_last = d->N_last = 0;
}

void
whisper_text_decoder_set_abort (whisper_text_decoder * d,
    whisper_abort_callback callback, void *user_data)
{
  d->abort_cb = callback;
  d->abort_data = user_data;
}

int
whisper_text_decoder_set_audio (whisper_text_decoder * d, const float *xa)
{
  const whisper_weights *w = &d->model->w;
  d->have_audio = 0;
  for (int l = 0; l < d->L; l++) {
    if (d->abort_cb && d->abort_cb (d->abort_data))
      return -1;
    const whisper_attn_weights *c = &w->dec[l].cross;
    float *K = d->cross_k + (size_t) l * d->A * d->D;     /* [A][D] */
    float *Vv = d->cross_v + (size_t) l * d->A * d->D;
    /* K = xa Wk^T (no bias); V = xa Wv^T + bv */
    project (d, K, xa, c->k_w, NULL, d->l8 ? d->l8[l].ck : NULL, NULL, d->A,
        d->D, d->D);
    project (d, Vv, xa, c->v_w, NULL, d->l8 ? d->l8[l].cv : NULL, c->v_b,
        d->A, d->D, d->D);
  }
  d->have_audio = 1;
  whisper_text_decoder_clear_cache (d);
  return 0;
}

int
whisper_text_decoder_forward (whisper_text_decoder * d, const int *tokens,
    int B, int N)
{
  const whisper_weights *w = &d->model->w;
  const int D = d->D, H = d->H, T = d->T, A = d->A, F = d->F;
  const int R = B * N;
  kernel_pool *pool = d->pool;
  const int P = d->n_past;           /* cached positions before this call */
  const int ctx = P + N;             /* positions visible to the last token */

  if (!d->have_audio || B < 1 || N < 1 || B > d->max_batch || R > d->max_rows
      || ctx > T)
    return -1;
  for (int r = 0; r < R; r++)
    if (tokens[r] < 0 || tokens[r] >= d->V)
      return -1;

  /* x [B][N][D] = tok_emb[token] + dec_pos[P + i] */
  embedding_forward (d->x, tokens, d->tok_emb, d->tok_emb16, w->dec_pos, B, N,
      P, D);

  for (int l = 0; l < d->L; l++) {
    const whisper_decoder_layer *lw = &w->dec[l];
#define L16(name) (d->l16 ? d->l16[l].name : NULL)
#define L8(name) (d->l8 ? d->l8[l].name : NULL)
    float *l_self_k = d->self_k + (size_t) l * d->max_batch * T * D;
    float *l_self_v = d->self_v + (size_t) l * d->max_batch * T * D;
    const float *l_cross_k = d->cross_k + (size_t) l * A * D;
    const float *l_cross_v = d->cross_v + (size_t) l * A * D;

    /* x = x + o(causal_attn(q(ln x), k(ln x), v(ln x)))     k has no bias */
    layernorm_forward (d->ln, d->x, lw->attn_ln_w, lw->attn_ln_b, R, D,
        LN_EPS);
    project (d, d->q, d->ln, lw->attn.q_w, L16 (q), L8 (q), lw->attn.q_b, R,
        D, D);
    project (d, d->k, d->ln, lw->attn.k_w, L16 (k), L8 (k), NULL, R, D, D);
    project (d, d->v, d->ln, lw->attn.v_w, L16 (v), L8 (v), lw->attn.v_b, R,
        D, D);
    attention_causal_forward (d->att, d->scores, l_self_k, l_self_v, d->q,
        d->k, d->v, B, N, P, T, D, H);
    project (d, d->proj, d->att, lw->attn.o_w, L16 (o), L8 (o), lw->attn.o_b,
        R, D, D);
    residual_forward (d->x, d->x, d->proj, (size_t) R * D);

    /* x = x + o(cross_attn(q(ln x), K_audio, V_audio)) */
    layernorm_forward (d->ln, d->x, lw->cross_ln_w, lw->cross_ln_b, R, D,
        LN_EPS);
    project (d, d->q, d->ln, lw->cross.q_w, L16 (cq), L8 (cq), lw->cross.q_b,
        R, D, D);
    attention_cross_forward (d->att, d->scores, d->q, l_cross_k, l_cross_v,
        R, A, D, H);
    if (d->qk_out)
      keep_cross_qk (d, l, l_cross_k, R);
    project (d, d->proj, d->att, lw->cross.o_w, L16 (co), L8 (co),
        lw->cross.o_b, R, D, D);
    residual_forward (d->x, d->x, d->proj, (size_t) R * D);

    /* x = x + fc2(gelu(fc1(ln x))) */
    layernorm_forward (d->ln, d->x, lw->mlp_ln_w, lw->mlp_ln_b, R, D,
        LN_EPS);
    project (d, d->fc, d->ln, lw->fc1_w, L16 (fc1), L8 (fc1), lw->fc1_b, R,
        D, F);
    gelu_forward (d->fc, d->fc, (size_t) R * F, pool);
    project (d, d->proj, d->fc, lw->fc2_w, L16 (fc2), L8 (fc2), lw->fc2_b,
        R, F, D);
    residual_forward (d->x, d->x, d->proj, (size_t) R * D);
#undef L16
#undef L8
  }

  layernorm_forward (d->out, d->x, w->dec_ln_w, w->dec_ln_b, R, D, LN_EPS);
  d->n_past = ctx;
  d->B_last = B;
  d->N_last = N;
  return 0;
}

int
whisper_text_decoder_cross_qk (whisper_text_decoder * d, const int *tokens,
    int N, const int (*heads)[2], int n_heads, int n_frames, float *qk)
{
  if (n_frames < 1 || n_frames > d->A || n_heads < 1)
    return -1;
  for (int i = 0; i < n_heads; i++)
    if (heads[i][0] < 0 || heads[i][0] >= d->L || heads[i][1] < 0
        || heads[i][1] >= d->H)
      return -1;
  whisper_text_decoder_clear_cache (d);
  d->qk_heads = heads;
  d->n_qk_heads = n_heads;
  d->qk_frames = n_frames;
  d->qk_out = qk;
  const int r = whisper_text_decoder_forward (d, tokens, 1, N);
  d->qk_out = NULL;
  d->qk_heads = NULL;
  return r;
}

void
whisper_text_decoder_logits (whisper_text_decoder * d, const int *rows,
    int n_rows, float *logits)
{
  const int D = d->D, V = d->V;
  for (int r = 0; r < n_rows; r++)
    memcpy (d->gather + (size_t) r * D, d->out + (size_t) rows[r] * D,
        sizeof (float) * D);
  /* logits [n_rows][V] = gather tok_emb^T: the biggest cost per token and
   * memory bound, so through the file's half floats when there are (same
   * values, half the traffic) */
  if (d->tok_emb8)
    matmul_s8_forward (logits, V, d->qscratch, d->gather, D, d->tok_emb8,
        NULL, n_rows, 0, d->pool);
  else if (!d->tok_emb && n_rows > MATVEC_MAX_ROWS)
    matmul_f16_forward (logits, d->wscratch, d->gather, d->tok_emb16, NULL,
        n_rows, D, V, d->pool);
  else
    linear_forward (logits, d->gather, d->tok_emb, d->tok_emb16, NULL,
        n_rows, D, V, d->pool);
}

void
whisper_text_decoder_reorder (whisper_text_decoder * d, const int *source,
    int B)
{
  const size_t T = d->T, D = d->D, n = (size_t) d->n_past * D;
  int identity = 1;
  for (int b = 0; b < B; b++)
    if (source[b] != b)
      identity = 0;
  if (identity || n == 0)
    return;
  for (int l = 0; l < d->L; l++) {
    float *caches[2] = {
      d->self_k + (size_t) l * d->max_batch * T * D,
      d->self_v + (size_t) l * d->max_batch * T * D,
    };
    for (int c = 0; c < 2; c++) {
      float *C = caches[c];
      for (int b = 0; b < B; b++)
        memcpy (d->reorder_tmp + b * T * D, C + (size_t) source[b] * T * D,
            sizeof (float) * n);
      for (int b = 0; b < B; b++)
        memcpy (C + b * T * D, d->reorder_tmp + b * T * D, sizeof (float) * n);
    }
  }
}
