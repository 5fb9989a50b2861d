/* Whisper's text decoder forward pass with KV cache.  See decoder.h.
 *
 * Reference: openai-whisper whisper/model.py (TextDecoder,
 * ResidualAttentionBlock, MultiHeadAttention.qkv_attention).  The attention
 * scale d_head^-0.25 applied to both q and k there is the usual
 * 1/sqrt(d_head) applied once to the scores here.
 */
#include "decoder.h"

#include <cblas.h>
#include <math.h>
#include <string.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "whisper.h"

struct whisper_text_decoder {
  const whisper_model *model;
  int L, D, H, A, T, V, F;     /* F = 4D */
  int max_batch;
  int max_rows;                /* largest B*N per forward call */
  int n_past;
  int B_last, N_last;          /* shape of the last forward call */
  int have_audio;

  /* caches */
  float *cross_k;              /* [L][A][D] */
  float *cross_v;              /* [L][A][D] */
  float *self_k;               /* [L][max_batch][T][D] */
  float *self_v;               /* [L][max_batch][T][D] */
  float *reorder_tmp;          /* [max_batch][T][D] */

  /* activations, [R] = max_rows */
  float *x;                    /* [R][D] residual stream */
  float *h;                    /* [R][D] LayerNorm output */
  float *q;                    /* [R][D] */
  float *kv;                   /* [R][D] scratch for new k (self-attn) */
  float *vv;                   /* [R][D] scratch for new v (self-attn) */
  float *att;                  /* [R][D] attention output (heads concatenated) */
  float *fc;                   /* [R][F] */
  float *scores;               /* [R][max(A, T)] */
  float *out;                  /* [R][D] final LayerNorm output */
  float *gather;               /* [R][D] rows gathered for the logits GEMM */
  uint16_t *tok_emb16;         /* [V][D] half-float copy of tok_emb when the
                                  model file stored it as float16 (then the
                                  copy is exact), else NULL */
  uint16_t *w16;               /* the same for the per-token projections of
                                  every layer (one allocation), or NULL */
  struct {
    const uint16_t *q, *k, *v, *o;      /* self-attention [D][D] */
    const uint16_t *cq, *co;            /* cross-attention q, out [D][D] */
    const uint16_t *fc1, *fc2;          /* [4D][D], [D][4D] */
  } *l16;                      /* [L], NULL without w16 */
};

/* ---------------------------------------------------------------------- */
/* small kernels */

/* y[R][D] = LayerNorm(x[R][D]) * w + b, eps 1e-5 (torch.nn.LayerNorm). */
static void
layernorm_forward (float *y, const float *x, const float *w, const float *b,
    int R, int D)
{
  for (int r = 0; r < R; r++) {
    const float *xr = x + (size_t) r * D;
    float *yr = y + (size_t) r * D;
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < D; i++)
      mean += xr[i];
    mean /= D;
    for (int i = 0; i < D; i++) {
      double d = xr[i] - mean;
      var += d * d;
    }
    var /= D;
    float rstd = (float) (1.0 / sqrt (var + 1e-5));
    for (int i = 0; i < D; i++)
      yr[i] = ((float) (xr[i] - mean)) * rstd * w[i] + b[i];
  }
}

/* A few rows (R <= SMALL_ROWS: one token of each beam):
 *   y[R][n_out] (row stride ldy) = alpha * x[R][n_in] (stride ldx)
 *                                  . W[n_out][n_in]^T (stride ldw) (+ b)
 * sgemm would pack (copy) all of W on every call, which costs as much as
 * the product itself at these shapes; here W is streamed once and each of
 * its rows meets every x row while it is in L1.  Memory bound. */
#define SMALL_ROWS 8

#if defined(__AVX2__) && defined(__FMA__)
static inline float
hsum256 (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v),
      _mm256_extractf128_ps (v, 1));
  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_movehdup_ps (s));
  return _mm_cvtss_f32 (s);
}

/* out[r] = dot (w, x_r) for r < R (1 <= R <= SMALL_ROWS), n % 8 == 0 */
static inline void
dot_rows_avx2 (float *out, const float *w, const float *x, int ldx, int R,
    int n)
{
  if (R == 1) {
    /* one row: four independent accumulators hide the FMA latency */
    __m256 a0 = _mm256_setzero_ps (), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
      a0 = _mm256_fmadd_ps (_mm256_loadu_ps (w + i), _mm256_loadu_ps (x + i), a0);
      a1 = _mm256_fmadd_ps (_mm256_loadu_ps (w + i + 8),
          _mm256_loadu_ps (x + i + 8), a1);
      a2 = _mm256_fmadd_ps (_mm256_loadu_ps (w + i + 16),
          _mm256_loadu_ps (x + i + 16), a2);
      a3 = _mm256_fmadd_ps (_mm256_loadu_ps (w + i + 24),
          _mm256_loadu_ps (x + i + 24), a3);
    }
    for (; i < n; i += 8)
      a0 = _mm256_fmadd_ps (_mm256_loadu_ps (w + i), _mm256_loadu_ps (x + i), a0);
    out[0] = hsum256 (_mm256_add_ps (_mm256_add_ps (a0, a1),
            _mm256_add_ps (a2, a3)));
    return;
  }
  /* several rows: one accumulator per row, each w vector loaded once */
  __m256 acc[SMALL_ROWS];
  for (int r = 0; r < R; r++)
    acc[r] = _mm256_setzero_ps ();
  for (int i = 0; i < n; i += 8) {
    __m256 wv = _mm256_loadu_ps (w + i);
    for (int r = 0; r < R; r++)
      acc[r] = _mm256_fmadd_ps (wv, _mm256_loadu_ps (x + (size_t) r * ldx + i),
          acc[r]);
  }
  for (int r = 0; r < R; r++)
    out[r] = hsum256 (acc[r]);
}
#endif

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define HAVE_F16_LOGITS 1
/* out[r] = dot (w16, x_r): as dot_rows_avx2 with the weight row stored as
 * IEEE half floats (converted exactly to float32 on load) */
static inline void
dot_rows_f16 (float *out, const uint16_t * w, const float *x, int ldx, int R,
    int n)
{
  __m256 acc[SMALL_ROWS];
  __m256 a1 = _mm256_setzero_ps (), a2 = a1, a3 = a1;
  for (int r = 0; r < R; r++)
    acc[r] = _mm256_setzero_ps ();
  if (R == 1) {
    int i = 0;
    for (; i + 32 <= n; i += 32) {
      acc[0] = _mm256_fmadd_ps (_mm256_cvtph_ps (_mm_loadu_si128 ((const
                      __m128i *) (w + i))), _mm256_loadu_ps (x + i), acc[0]);
      a1 = _mm256_fmadd_ps (_mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *)
                  (w + i + 8))), _mm256_loadu_ps (x + i + 8), a1);
      a2 = _mm256_fmadd_ps (_mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *)
                  (w + i + 16))), _mm256_loadu_ps (x + i + 16), a2);
      a3 = _mm256_fmadd_ps (_mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *)
                  (w + i + 24))), _mm256_loadu_ps (x + i + 24), a3);
    }
    for (; i < n; i += 8)
      acc[0] = _mm256_fmadd_ps (_mm256_cvtph_ps (_mm_loadu_si128 ((const
                      __m128i *) (w + i))), _mm256_loadu_ps (x + i), acc[0]);
    out[0] = hsum256 (_mm256_add_ps (_mm256_add_ps (acc[0], a1),
            _mm256_add_ps (a2, a3)));
    return;
  }
  for (int i = 0; i < n; i += 8) {
    __m256 wv = _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (w + i)));
    for (int r = 0; r < R; r++)
      acc[r] = _mm256_fmadd_ps (wv, _mm256_loadu_ps (x + (size_t) r * ldx + i),
          acc[r]);
  }
  for (int r = 0; r < R; r++)
    out[r] = hsum256 (acc[r]);
}

/* y[R][n_out] = x[R][n_in] . W16[n_out][n_in]^T (+ b), n_in % 8 == 0 */
static void
small_rows_matmul_f16 (float *y, int ldy, const float *x, int ldx,
    const uint16_t * W, const float *b, int R, int n_in, int n_out)
{
#pragma omp parallel for schedule(static) if ((size_t) n_out * n_in >= (1u << 22))
  for (int o = 0; o < n_out; o++) {
    float dots[SMALL_ROWS];
    dot_rows_f16 (dots, W + (size_t) o * n_in, x, ldx, R, n_in);
    for (int r = 0; r < R; r++)
      y[(size_t) r * ldy + o] = dots[r] + (b ? b[o] : 0.0f);
  }
}

/* dst[n] = src as half floats; FALSE unless every value is exact
 * (n % 8 == 0) */
static gboolean
f16_copy_exact (uint16_t * dst, const float *src, size_t n)
{
  for (size_t i = 0; i < n; i += 8) {
    __m256 v = _mm256_loadu_ps (src + i);
    __m128i p = _mm256_cvtps_ph (v, _MM_FROUND_TO_NEAREST_INT);
    if (_mm256_movemask_ps (_mm256_cmp_ps (v, _mm256_cvtph_ps (p),
                _CMP_NEQ_UQ)) != 0)
      return FALSE;
    _mm_storeu_si128 ((__m128i *) (dst + i), p);
  }
  return TRUE;
}
#endif

static void
small_rows_matmul (float *y, int ldy, const float *x, int ldx, const float *W,
    int ldw, const float *b, float alpha, int R, int n_in, int n_out)
{
  /* threads only for the big products (the logits): a fork/join per
   * small product costs more than it saves, badly so on busy cores */
#pragma omp parallel for schedule(static) if ((size_t) n_out * n_in >= (1u << 22))
  for (int o = 0; o < n_out; o++) {
    const float *w = W + (size_t) o * ldw;
    float dots[SMALL_ROWS];
#if defined(__AVX2__) && defined(__FMA__)
    if (n_in % 8 == 0) {
      dot_rows_avx2 (dots, w, x, ldx, R, n_in);
    } else
#endif
    {
      for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t) r * ldx;
        float s = 0.0f;
        for (int i = 0; i < n_in; i++)
          s += w[i] * xr[i];
        dots[r] = s;
      }
    }
    for (int r = 0; r < R; r++)
      y[(size_t) r * ldy + o] = alpha * dots[r] + (b ? b[o] : 0.0f);
  }
}

/* y[R][n_out] = x[R][n_in] . W[n_out][n_in]^T + b[n_out]  (b may be NULL);
 * W16: the same weights as exact half floats, or NULL */
static void
linear_forward16 (float *y, const float *x, const float *W,
    const uint16_t * W16, const float *b, int R, int n_in, int n_out)
{
#ifdef HAVE_F16_LOGITS
  if (W16 && R <= SMALL_ROWS && n_in % 8 == 0) {
    small_rows_matmul_f16 (y, n_out, x, n_in, W16, b, R, n_in, n_out);
    return;
  }
#endif
  if (R <= SMALL_ROWS) {
    small_rows_matmul (y, n_out, x, n_in, W, n_in, b, 1.0f, R, n_in, n_out);
    return;
  }
  if (b) {
    for (int r = 0; r < R; r++)
      memcpy (y + (size_t) r * n_out, b, sizeof (float) * n_out);
  }
  if (R == 1)
    cblas_sgemv (CblasRowMajor, CblasNoTrans, n_out, n_in, 1.0f, W, n_in, x, 1,
        b ? 1.0f : 0.0f, y, 1);
  else
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, R, n_out, n_in, 1.0f,
        x, n_in, W, n_in, b ? 1.0f : 0.0f, y, n_out);
}

static void
linear_forward (float *y, const float *x, const float *W, const float *b,
    int R, int n_in, int n_out)
{
  linear_forward16 (y, x, W, NULL, b, R, n_in, n_out);
}

/* exact GELU, torch.nn.GELU() default: 0.5 x (1 + erf(x / sqrt 2)) */
static void
gelu_forward (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = 0.5f * x[i] * (1.0f + erff (x[i] * (float) M_SQRT1_2));
}

/* softmax of each of the R rows [n] in place (max subtracted first). */
static void
softmax_rows (float *s, int R, int n, int stride)
{
  for (int r = 0; r < R; r++) {
    float *row = s + (size_t) r * stride;
    float mx = -INFINITY;
    for (int j = 0; j < n; j++)
      if (row[j] > mx)
        mx = row[j];
    float sum = 0.0f;
    for (int j = 0; j < n; j++) {
      row[j] = expf (row[j] - mx);
      sum += row[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < n; j++)
      row[j] *= inv;
  }
}

/* ---------------------------------------------------------------------- */

whisper_text_decoder *
whisper_text_decoder_new (const whisper_model * model, int max_batch,
    GError ** error)
{
  const whisper_hparams *hp = &model->hp;
  if (max_batch < 1)
    max_batch = 1;
  if (hp->n_text_state <= 0 || hp->n_text_head <= 0
      || hp->n_text_state % hp->n_text_head != 0 || hp->n_text_layer <= 0
      || hp->n_text_ctx <= 0 || hp->n_audio_ctx <= 0 || hp->n_vocab <= 0
      || hp->n_audio_state != hp->n_text_state) {
    g_set_error (error, WHISPER_DECODER_ERROR, WHISPER_DECODER_ERROR_MODEL,
        "decoder: unsupported model dimensions (D=%d heads=%d L=%d)",
        hp->n_text_state, hp->n_text_head, hp->n_text_layer);
    return NULL;
  }
  if (!whisper_model_need_f32 (model, WHISPER_WEIGHTS_DECODER, error))
    return NULL;
  whisper_text_decoder *d = g_new0 (whisper_text_decoder, 1);
  d->model = model;
  d->L = hp->n_text_layer;
  d->D = hp->n_text_state;
  d->H = hp->n_text_head;
  d->A = hp->n_audio_ctx;
  d->T = hp->n_text_ctx;
  d->V = hp->n_vocab;
  d->F = 4 * d->D;
  d->max_batch = max_batch;
  d->max_rows = MAX (max_batch, d->T);

  size_t L = d->L, D = d->D, A = d->A, T = d->T, R = d->max_rows;
  size_t S = MAX (A, T);
  d->cross_k = g_try_new (float, L * A * D);
  d->cross_v = g_try_new (float, L * A * D);
  d->self_k = g_try_new (float, L * max_batch * T * D);
  d->self_v = g_try_new (float, L * max_batch * T * D);
  d->reorder_tmp = g_try_new (float, (size_t) max_batch * T * D);
  d->x = g_try_new (float, R * D);
  d->h = g_try_new (float, R * D);
  d->q = g_try_new (float, R * D);
  d->kv = g_try_new (float, R * D);
  d->vv = g_try_new (float, R * D);
  d->att = g_try_new (float, R * D);
  d->fc = g_try_new (float, R * d->F);
  d->scores = g_try_new (float, R * S);
  d->out = g_try_new (float, R * D);
  d->gather = g_try_new (float, R * D);
  if (!d->cross_k || !d->cross_v || !d->self_k || !d->self_v
      || !d->reorder_tmp || !d->x || !d->h || !d->q || !d->kv || !d->vv
      || !d->att || !d->fc || !d->scores || !d->out || !d->gather) {
    g_set_error (error, WHISPER_DECODER_ERROR, WHISPER_DECODER_ERROR_NO_MEMORY,
        "decoder: out of memory for the KV cache (batch %d)", max_batch);
    whisper_text_decoder_free (d);
    return NULL;
  }
#ifdef HAVE_F16_LOGITS
  /* float16 file: keep the weights read once per token (output projection,
   * layer projections) also in half floats, if (and only if) every value
   * converts back exactly: same results, half the memory traffic */
  if (model->weight_dtype && strcmp (model->weight_dtype, "float16") == 0
      && D % 8 == 0) {
    size_t n = (size_t) d->V * D;
    uint16_t *h = g_try_new (uint16_t, n);
    if (h && f16_copy_exact (h, model->w.tok_emb, n))
      d->tok_emb16 = h;
    else
      g_free (h);

    size_t per_layer = 6 * D * D + 2 * (size_t) 4 * D * D;
    d->w16 = g_try_new (uint16_t, per_layer * d->L);
    d->l16 = g_malloc0 (sizeof (*d->l16) * d->L);
    gboolean exact = d->w16 != NULL;
    for (int l = 0; exact && l < d->L; l++) {
      const whisper_decoder_layer *lw = &model->w.dec[l];
      uint16_t *p = d->w16 + per_layer * l;
      const float *src[8] = { lw->attn.q_w, lw->attn.k_w, lw->attn.v_w,
        lw->attn.o_w, lw->cross.q_w, lw->cross.o_w, lw->fc1_w, lw->fc2_w
      };
      const uint16_t **dst[8] = { &d->l16[l].q, &d->l16[l].k, &d->l16[l].v,
        &d->l16[l].o, &d->l16[l].cq, &d->l16[l].co, &d->l16[l].fc1,
        &d->l16[l].fc2
      };
      for (int t = 0; exact && t < 8; t++) {
        size_t m = (size_t) D * D * (t >= 6 ? 4 : 1);
        exact = f16_copy_exact (p, src[t], m);
        *dst[t] = p;
        p += m;
      }
    }
    if (!exact) {
      g_free (d->w16);
      g_free (d->l16);
      d->w16 = NULL;
      d->l16 = NULL;
    }
  }
#endif
  return d;
}

void
whisper_text_decoder_free (whisper_text_decoder * d)
{
  if (!d)
    return;
  g_free (d->cross_k);
  g_free (d->cross_v);
  g_free (d->self_k);
  g_free (d->self_v);
  g_free (d->reorder_tmp);
  g_free (d->x);
  g_free (d->h);
  g_free (d->q);
  g_free (d->kv);
  g_free (d->vv);
  g_free (d->att);
  g_free (d->fc);
  g_free (d->scores);
  g_free (d->out);
  g_free (d->gather);
  g_free (d->tok_emb16);
  g_free (d->w16);
  g_free (d->l16);
  g_free (d);
}

int
whisper_text_decoder_max_batch (const whisper_text_decoder * d)
{
  return d->max_batch;
}

gboolean
whisper_text_decoder_has_f16_weights (const whisper_text_decoder * d)
{
  return d->tok_emb16 != NULL && d->w16 != NULL;
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
whisper_text_decoder_set_audio (whisper_text_decoder * d, const float *xa)
{
  const whisper_weights *w = &d->model->w;
  for (int l = 0; l < d->L; l++) {
    const whisper_attn_weights *c = &w->dec[l].cross;
    float *K = d->cross_k + (size_t) l * d->A * d->D;
    float *Vv = d->cross_v + (size_t) l * d->A * d->D;
    /* K[A][D] = xa . Wk^T (no bias); V[A][D] = xa . Wv^T + bv */
    linear_forward (K, xa, c->k_w, NULL, d->A, d->D, d->D);
    linear_forward (Vv, xa, c->v_w, c->v_b, d->A, d->D, d->D);
  }
  d->have_audio = 1;
  whisper_text_decoder_clear_cache (d);
}

int
whisper_text_decoder_forward (whisper_text_decoder * d, const int *tokens,
    int B, int N)
{
  const whisper_weights *w = &d->model->w;
  const int D = d->D, H = d->H, dh = D / H, T = d->T, A = d->A, F = d->F;
  const int R = B * N;
  const int P = d->n_past;           /* cached positions before this call */
  const int ctx = P + N;             /* positions visible to the last token */
  const float scale = 1.0f / sqrtf ((float) dh);

  if (!d->have_audio || B < 1 || N < 1 || B > d->max_batch || R > d->max_rows
      || ctx > T)
    return -1;
  for (int r = 0; r < R; r++)
    if (tokens[r] < 0 || tokens[r] >= d->V)
      return -1;

  /* x[B][N][D] = tok_emb[token] + dec_pos[P + i] */
  for (int b = 0; b < B; b++)
    for (int i = 0; i < N; i++) {
      float *xr = d->x + ((size_t) b * N + i) * D;
      const float *te = w->tok_emb + (size_t) tokens[b * N + i] * D;
      const float *pe = w->dec_pos + (size_t) (P + i) * D;
      for (int c = 0; c < D; c++)
        xr[c] = te[c] + pe[c];
    }

  for (int l = 0; l < d->L; l++) {
    const whisper_decoder_layer *lw = &w->dec[l];
#define L16(name) (d->l16 ? d->l16[l].name : NULL)
    float *Kc = d->self_k + (size_t) l * d->max_batch * T * D;   /* [Bmax][T][D] */
    float *Vc = d->self_v + (size_t) l * d->max_batch * T * D;

    /* ---- causal self-attention ---- */
    layernorm_forward (d->h, d->x, lw->attn_ln_w, lw->attn_ln_b, R, D);
    linear_forward16 (d->q, d->h, lw->attn.q_w, L16 (q), lw->attn.q_b, R, D, D);
    linear_forward16 (d->kv, d->h, lw->attn.k_w, L16 (k), NULL, R, D, D);
    linear_forward16 (d->vv, d->h, lw->attn.v_w, L16 (v), lw->attn.v_b, R, D,
        D);
    /* append the new keys/values: cache[b][P + i] */
    for (int b = 0; b < B; b++) {
      memcpy (Kc + ((size_t) b * T + P) * D, d->kv + (size_t) b * N * D,
          sizeof (float) * N * D);
      memcpy (Vc + ((size_t) b * T + P) * D, d->vv + (size_t) b * N * D,
          sizeof (float) * N * D);
    }
    for (int b = 0; b < B; b++) {
      const float *Kb = Kc + (size_t) b * T * D;
      const float *Vb = Vc + (size_t) b * T * D;
      for (int hh = 0; hh < H; hh++) {
        const float *Q = d->q + (size_t) b * N * D + hh * dh;   /* [N][dh], ld D */
        float *S = d->scores;                                   /* [N][ctx] */
        float *O = d->att + (size_t) b * N * D + hh * dh;       /* [N][dh], ld D */
        if (N <= SMALL_ROWS) {
          /* one new token per beam: plain loops, no BLAS call overhead */
          small_rows_matmul (S, ctx, Q, D, Kb + hh * dh, D, NULL, scale, N,
              dh, ctx);
          for (int i = 0; i < N; i++)
            for (int j = P + i + 1; j < ctx; j++)
              S[(size_t) i * ctx + j] = -INFINITY;
          softmax_rows (S, N, ctx, ctx);
          for (int i = 0; i < N; i++) {
            float *o = O + (size_t) i * D;
            const float *Si = S + (size_t) i * ctx;
            for (int c = 0; c < dh; c++)
              o[c] = 0.0f;
            for (int j = 0; j <= P + i; j++) {
              const float pj = Si[j];
              const float *v = Vb + (size_t) j * D + hh * dh;
              for (int c = 0; c < dh; c++)
                o[c] += pj * v[c];
            }
          }
          continue;
        }
        /* S = scale * Q . K^T */
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, N, ctx, dh,
            scale, Q, D, Kb + hh * dh, D, 0.0f, S, ctx);
        /* causal mask: row i sees positions 0 .. P + i */
        for (int i = 0; i < N; i++)
          for (int j = P + i + 1; j < ctx; j++)
            S[(size_t) i * ctx + j] = -INFINITY;
        softmax_rows (S, N, ctx, ctx);
        /* att[b][i][h] = S . V */
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, N, dh, ctx,
            1.0f, S, ctx, Vb + hh * dh, D, 0.0f, O, D);
      }
    }
    /* x += att . Wo^T + bo */
    linear_forward16 (d->h, d->att, lw->attn.o_w, L16 (o), lw->attn.o_b, R, D,
        D);
    for (size_t i = 0; i < (size_t) R * D; i++)
      d->x[i] += d->h[i];

    /* ---- cross-attention over the encoder output ---- */
    const float *Kx = d->cross_k + (size_t) l * A * D;   /* [A][D] */
    const float *Vx = d->cross_v + (size_t) l * A * D;
    layernorm_forward (d->h, d->x, lw->cross_ln_w, lw->cross_ln_b, R, D);
    linear_forward16 (d->q, d->h, lw->cross.q_w, L16 (cq), lw->cross.q_b, R, D,
        D);
    for (int hh = 0; hh < H; hh++) {
      float *S = d->scores;                              /* [R][A] */
      if (R <= SMALL_ROWS) {
        /* S = scale * Q . K^T, then att = S . V streaming K and V once */
        small_rows_matmul (S, A, d->q + hh * dh, D, Kx + hh * dh, D, NULL,
            scale, R, dh, A);
        softmax_rows (S, R, A, A);
        for (int r = 0; r < R; r++) {
          float *o = d->att + (size_t) r * D + hh * dh;
          const float *Sr = S + (size_t) r * A;
          for (int c = 0; c < dh; c++)
            o[c] = 0.0f;
          for (int j = 0; j < A; j++) {
            const float p = Sr[j];
            const float *v = Vx + (size_t) j * D + hh * dh;
            for (int c = 0; c < dh; c++)
              o[c] += p * v[c];
          }
        }
        continue;
      }
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, R, A, dh,
          scale, d->q + hh * dh, D, Kx + hh * dh, D, 0.0f, S, A);
      softmax_rows (S, R, A, A);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, R, dh, A,
          1.0f, S, A, Vx + hh * dh, D, 0.0f, d->att + hh * dh, D);
    }
    linear_forward16 (d->h, d->att, lw->cross.o_w, L16 (co), lw->cross.o_b, R,
        D, D);
    for (size_t i = 0; i < (size_t) R * D; i++)
      d->x[i] += d->h[i];

    /* ---- MLP: fc2(gelu(fc1(ln(x)))) ---- */
    layernorm_forward (d->h, d->x, lw->mlp_ln_w, lw->mlp_ln_b, R, D);
    linear_forward16 (d->fc, d->h, lw->fc1_w, L16 (fc1), lw->fc1_b, R, D, F);
    gelu_forward (d->fc, (size_t) R * F);
    linear_forward16 (d->h, d->fc, lw->fc2_w, L16 (fc2), lw->fc2_b, R, F, D);
    for (size_t i = 0; i < (size_t) R * D; i++)
      d->x[i] += d->h[i];
  }

#undef L16
  layernorm_forward (d->out, d->x, w->dec_ln_w, w->dec_ln_b, R, D);
  d->n_past = ctx;
  d->B_last = B;
  d->N_last = N;
  return 0;
}

void
whisper_text_decoder_logits (whisper_text_decoder * d, const int *rows,
    int n_rows, float *logits)
{
  const int D = d->D, V = d->V;
  const float *E = d->model->w.tok_emb;     /* [V][D] */
  for (int r = 0; r < n_rows; r++)
    memcpy (d->gather + (size_t) r * D, d->out + (size_t) rows[r] * D,
        sizeof (float) * D);
  const float *G = d->gather;
#ifdef HAVE_F16_LOGITS
  if (d->tok_emb16 && n_rows <= SMALL_ROWS) {
    /* same values as E, half the memory traffic (the logits projection is
     * the biggest cost per token and memory bound) */
    small_rows_matmul_f16 (logits, V, G, D, d->tok_emb16, NULL, n_rows, D, V);
    return;
  }
#endif
  if (n_rows == 1) {
    cblas_sgemv (CblasRowMajor, CblasNoTrans, V, D, 1.0f, E, D, G, 1, 0.0f,
        logits, 1);
    return;
  }
  if (n_rows > SMALL_ROWS) {
    /* logits[n_rows][V] = gather . E^T */
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n_rows, V, D, 1.0f,
        G, D, E, D, 0.0f, logits, V);
    return;
  }
  /* beams: E [V][D] (80 MB for tiny) streamed once for all of them */
  small_rows_matmul (logits, V, G, D, E, D, NULL, 1.0f, n_rows, D, V);
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
