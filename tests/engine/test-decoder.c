/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Engine unit tests for the decoder side, no model files needed:
 *   - the decoder forward pass (KV cache, batch, beam reorder) against a
 *     naive re-implementation on a small random model,
 *   - openai-whisper's logit filters on hand-made cases,
 *   - greedy search against a step-by-step argmax,
 *   - the UTF-8 stream and BPE encoding on a hand-made vocabulary,
 *   - the word timestamps' DTW and median filter on hand-made cases,
 *   - the streaming agreement (LocalAgreement-2) on hand-made hypotheses.
 * Exit status non-zero on failure; prints the max differences.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"
#include "search.h"
#include "timing.h"
#include "tokenizer.h"
#include "model-write.h"

static int n_fail = 0;

#define CHECK(cond, ...) do { \
    if (!(cond)) { \
      n_fail++; \
      fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf (stderr, __VA_ARGS__); \
      fprintf (stderr, "\n"); \
    } \
  } while (0)

/* ---------------------------------------------------------------------- */
/* a small random model: V = 48 tokens (30 text, 8 special, 10 timestamps) */

enum { V = 48, A = 12, D = 16, H = 2, L = 2, T = 24 };
enum { EOT = 30, SOT = 31, TRANSLATE = 32, TRANSCRIBE = 33, SOT_LM = 34,
  SOT_PREV = 35, NO_SPEECH = 36, NO_TS = 37, TS0 = 38 };

static uint64_t rng_state = 12345;
static float
frand (void)                    /* uniform [-1, 1) */
{
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return ((rng_state >> 40) / (float) (1 << 24)) * 2.0f - 1.0f;
}

static float *
rnd (float **p, size_t n, float scale, float offset)
{
  float *r = *p;
  for (size_t i = 0; i < n; i++)
    r[i] = frand () * scale + offset;
  *p += n;
  return r;
}

static void
random_attn (whisper_attn_weights * a, float **p)
{
  float s = 1.0f / sqrtf (D);
  a->q_w = rnd (p, D * D, s, 0);
  a->q_b = rnd (p, D, 0.1f, 0);
  a->k_w = rnd (p, D * D, s, 0);
  a->v_w = rnd (p, D * D, s, 0);
  a->v_b = rnd (p, D, 0.1f, 0);
  a->o_w = rnd (p, D * D, s, 0);
  a->o_b = rnd (p, D, 0.1f, 0);
}

static void
random_model (whisper_model * m)
{
  memset (m, 0, sizeof (*m));
  m->hp = (whisper_hparams) {
  .n_vocab = V,.n_audio_ctx = A,.n_audio_state = D,.n_audio_head = H,
        .n_audio_layer = L,.n_text_ctx = T,.n_text_state = D,
        .n_text_head = H,.n_text_layer = L,.n_mels = 80};
  size_t n = (size_t) V * D + T * D + 2 * D
      + L * (6 * D + 2 * (4 * D * D + 3 * D) + 8 * D * D + 5 * D);
  float *p = g_new (float, n);
  m->storage = p;
  m->w.tok_emb = rnd (&p, V * D, 1.0f, 0);
  m->w.dec_pos = rnd (&p, T * D, 0.3f, 0);
  m->w.dec_ln_w = rnd (&p, D, 0.1f, 1.0f);
  m->w.dec_ln_b = rnd (&p, D, 0.1f, 0);
  m->w.dec = g_new0 (whisper_decoder_layer, L);
  for (int l = 0; l < L; l++) {
    whisper_decoder_layer *d = &m->w.dec[l];
    d->attn_ln_w = rnd (&p, D, 0.1f, 1.0f);
    d->attn_ln_b = rnd (&p, D, 0.1f, 0);
    random_attn (&d->attn, &p);
    d->cross_ln_w = rnd (&p, D, 0.1f, 1.0f);
    d->cross_ln_b = rnd (&p, D, 0.1f, 0);
    random_attn (&d->cross, &p);
    d->mlp_ln_w = rnd (&p, D, 0.1f, 1.0f);
    d->mlp_ln_b = rnd (&p, D, 0.1f, 0);
    d->fc1_w = rnd (&p, 4 * D * D, 1.0f / sqrtf (D), 0);
    d->fc1_b = rnd (&p, 4 * D, 0.1f, 0);
    d->fc2_w = rnd (&p, 4 * D * D, 1.0f / sqrtf (4 * D), 0);
    d->fc2_b = rnd (&p, D, 0.1f, 0);
  }
  g_assert ((size_t) (p - (float *) m->storage) <= n);
  /* every weight a multiple of 1/256 (|w| < 2): exact in float16, so that
   * the decoder takes its half-float paths when weight_dtype says float16 */
  for (float *q = m->storage; q < p; q++)
    *q = roundf (*q * 256.0f) / 256.0f;
  m->tok = (whisper_special_tokens) {
  .eot = EOT,.sot = SOT,.translate = TRANSLATE,.transcribe = TRANSCRIBE,
        .sot_lm = SOT_LM,.sot_prev = SOT_PREV,.no_speech = NO_SPEECH,
        .no_timestamps = NO_TS,.timestamp_begin = TS0,.lang_first = -1,
        .n_langs = 0};
}

static void
free_model (whisper_model * m)
{
  g_free (m->w.dec);
  g_free (m->storage);
}

/* ---------------------------------------------------------------------- */
/* naive reference: full sequence, no cache, double precision */

static void
ref_ln (double *y, const double *x, const float *w, const float *b)
{
  double mean = 0, var = 0;
  for (int i = 0; i < D; i++)
    mean += x[i];
  mean /= D;
  for (int i = 0; i < D; i++)
    var += (x[i] - mean) * (x[i] - mean);
  var /= D;
  for (int i = 0; i < D; i++)
    y[i] = (x[i] - mean) / sqrt (var + 1e-5) * w[i] + b[i];
}

static void
ref_lin (double *y, const double *x, const float *W, const float *b, int nin,
    int nout)
{
  for (int o = 0; o < nout; o++) {
    double s = b ? b[o] : 0.0;
    for (int i = 0; i < nin; i++)
      s += W[(size_t) o * nin + i] * x[i];
    y[o] = s;
  }
}

/* attention of queries q[nq][D] over keys/values k, v [nk][D]; query i sees
 * keys 0 .. lim[i] */
static void
ref_attn (double *out, const double *q, const double *k, const double *v,
    int nq, int nk, const int *lim)
{
  int dh = D / H;
  for (int i = 0; i < nq; i++)
    for (int h = 0; h < H; h++) {
      double s[64], mx = -1e300, sum = 0;
      int n = lim ? lim[i] + 1 : nk;
      for (int j = 0; j < n; j++) {
        double dot = 0;
        for (int c = 0; c < dh; c++)
          dot += q[i * D + h * dh + c] * k[j * D + h * dh + c];
        s[j] = dot / sqrt (dh);
        if (s[j] > mx)
          mx = s[j];
      }
      for (int j = 0; j < n; j++) {
        s[j] = exp (s[j] - mx);
        sum += s[j];
      }
      for (int c = 0; c < dh; c++) {
        double acc = 0;
        for (int j = 0; j < n; j++)
          acc += s[j] / sum * v[j * D + h * dh + c];
        out[i * D + h * dh + c] = acc;
      }
    }
}

/* logits [n][V] of every position of tokens[n] */
static void
ref_forward (const whisper_model * m, const float *xa, const int *tokens,
    int n, double *logits)
{
  const whisper_weights *w = &m->w;
  double x[T * D], hbuf[T * D], q[T * D], k[T * D], v[T * D], att[T * D];
  double xk[A * D], xv[A * D], xad[A * D], f[4 * D], t[D];
  int lim[T];
  for (int i = 0; i < A * D; i++)
    xad[i] = xa[i];
  for (int i = 0; i < n; i++) {
    lim[i] = i;
    for (int c = 0; c < D; c++)
      x[i * D + c] = w->tok_emb[tokens[i] * D + c] + w->dec_pos[i * D + c];
  }
  for (int l = 0; l < L; l++) {
    const whisper_decoder_layer *d = &w->dec[l];
    for (int i = 0; i < n; i++) {
      ref_ln (hbuf + i * D, x + i * D, d->attn_ln_w, d->attn_ln_b);
      ref_lin (q + i * D, hbuf + i * D, d->attn.q_w, d->attn.q_b, D, D);
      ref_lin (k + i * D, hbuf + i * D, d->attn.k_w, NULL, D, D);
      ref_lin (v + i * D, hbuf + i * D, d->attn.v_w, d->attn.v_b, D, D);
    }
    ref_attn (att, q, k, v, n, n, lim);
    for (int i = 0; i < n; i++) {
      ref_lin (t, att + i * D, d->attn.o_w, d->attn.o_b, D, D);
      for (int c = 0; c < D; c++)
        x[i * D + c] += t[c];
    }
    for (int j = 0; j < A; j++) {
      ref_lin (xk + j * D, xad + j * D, d->cross.k_w, NULL, D, D);
      ref_lin (xv + j * D, xad + j * D, d->cross.v_w, d->cross.v_b, D, D);
    }
    for (int i = 0; i < n; i++) {
      ref_ln (hbuf + i * D, x + i * D, d->cross_ln_w, d->cross_ln_b);
      ref_lin (q + i * D, hbuf + i * D, d->cross.q_w, d->cross.q_b, D, D);
    }
    ref_attn (att, q, xk, xv, n, A, NULL);
    for (int i = 0; i < n; i++) {
      ref_lin (t, att + i * D, d->cross.o_w, d->cross.o_b, D, D);
      for (int c = 0; c < D; c++)
        x[i * D + c] += t[c];
    }
    for (int i = 0; i < n; i++) {
      ref_ln (hbuf + i * D, x + i * D, d->mlp_ln_w, d->mlp_ln_b);
      ref_lin (f, hbuf + i * D, d->fc1_w, d->fc1_b, D, 4 * D);
      for (int c = 0; c < 4 * D; c++)
        f[c] = 0.5 * f[c] * (1.0 + erf (f[c] / sqrt (2.0)));
      ref_lin (t, f, d->fc2_w, d->fc2_b, 4 * D, D);
      for (int c = 0; c < D; c++)
        x[i * D + c] += t[c];
    }
  }
  for (int i = 0; i < n; i++) {
    ref_ln (hbuf, x + i * D, w->dec_ln_w, w->dec_ln_b);
    for (int o = 0; o < V; o++) {
      double s = 0;
      for (int c = 0; c < D; c++)
        s += hbuf[c] * w->tok_emb[o * D + c];
      logits[i * V + o] = s;
    }
  }
}

static double
maxdiff (const float *a, const double *b, int n)
{
  double m = 0;
  for (int i = 0; i < n; i++)
    m = fmax (m, fabs (a[i] - b[i]));
  return m;
}

/* A float16 model file: the decoder reads the file's half floats and gives
 * the logits of the float32 model it was written from (every synthetic
 * weight is an exact half). */
static void
test_f16_file (void)
{
  GError *err = NULL;
  whisper_synth_params sp = whisper_synth_params_default ();
  whisper_model *m32 = whisper_model_synthetic (&sp, &err);
  CHECK (m32 != NULL, "synthetic model: %s", err ? err->message : "");
  char *dir = g_dir_make_tmp ("test-decoder-XXXXXX", NULL);
  char *path = g_build_filename (dir, "f16", NULL);
  CHECK (whisper_model_save_ct2 (m32, path, WHISPER_SAVE_F16, &err),
      "save: %s", err ? err->message : "");
  whisper_model *m16 = whisper_model_load (path, &err);
  CHECK (m16 != NULL, "load: %s", err ? err->message : "");

  const int n_state = m32->hp.n_audio_state, A = m32->hp.n_audio_ctx;
  const int V = m32->hp.n_vocab;
  float *xa = g_new (float, (size_t) A * n_state);
  for (size_t i = 0; i < (size_t) A * n_state; i++)
    xa[i] = sinf (0.37f * (float) i) * 0.5f;
  /* 10 rows: more than a matrix-vector product takes (the blocked GEMM on
   * the half floats), then one (the matvec) */
  enum { NT = 10 };
  int toks[NT] = { m32->tok.sot, 11, 12, 13, 14, 15, 16, 17, 18, 19 };
  int rows[NT] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  float *l32 = g_new (float, NT * (size_t) V);
  float *l16 = g_new (float, NT * (size_t) V);
  float *s32 = g_new (float, (size_t) V), *s16 = g_new (float, (size_t) V);
  whisper_text_decoder *d32 = whisper_text_decoder_new (m32, 1, 1,
      WHISPER_COMPUTE_FLOAT32, NULL);
  whisper_text_decoder *d16 = whisper_text_decoder_new (m16, 1, 1,
      WHISPER_COMPUTE_FLOAT32, NULL);
  CHECK (!whisper_text_decoder_has_f16_weights (d32),
      "float16 weights taken for a float32 model");
#ifdef __x86_64__
  CHECK (whisper_text_decoder_has_f16_weights (d16),
      "the float16 file's weights not taken");
#endif
  whisper_text_decoder *ds[2] = { d32, d16 };
  float *ls[2] = { l32, l16 }, *ss[2] = { s32, s16 };
  for (int k = 0; k < 2; k++) {
    whisper_text_decoder_set_audio (ds[k], xa);
    CHECK (whisper_text_decoder_forward (ds[k], toks, 1, NT) == 0, "forward");
    whisper_text_decoder_logits (ds[k], rows, NT, ls[k]);
    int last = m32->tok.sot + 1;
    CHECK (whisper_text_decoder_forward (ds[k], &last, 1, 1) == 0, "step");
    int r0 = 0;
    whisper_text_decoder_logits (ds[k], &r0, 1, ss[k]);
  }
  double d = 0;
  for (size_t i = 0; i < NT * (size_t) V; i++)
    d = fmax (d, fabs ((double) l16[i] - l32[i]));
  for (size_t i = 0; i < (size_t) V; i++)
    d = fmax (d, fabs ((double) s16[i] - s32[i]));
  printf ("float16 file vs float32 model: max logit diff %.3g\n", d);
  CHECK (d < 1e-5, "float16 file logits differ by %g", d);
  whisper_text_decoder_free (d32);
  whisper_text_decoder_free (d16);
  whisper_model_free (m16);
  whisper_model_free (m32);
  g_free (xa), g_free (l32), g_free (l16), g_free (s32), g_free (s16);
  char *rm = g_strdup_printf ("rm -rf '%s'", dir);
  CHECK (system (rm) == 0, "cleanup");
  g_free (rm), g_free (path), g_free (dir);
}

static void
test_forward (void)
{
  whisper_model m;
  random_model (&m);
  float xa[A * D];
  for (int i = 0; i < A * D; i++)
    xa[i] = frand ();
  /* a pool of 2 threads (the products here are too small to be split);
   * 0 threads: all cores */
  whisper_text_decoder *dec = whisper_text_decoder_new (&m, 3, 2,
      WHISPER_COMPUTE_FLOAT32, NULL);
  g_assert (dec);
  CHECK (whisper_text_decoder_n_threads (dec) == 2, "%d threads, not 2",
      whisper_text_decoder_n_threads (dec));
  whisper_text_decoder *all = whisper_text_decoder_new (&m, 1, 0,
      WHISPER_COMPUTE_FLOAT32, NULL);
  CHECK (all && whisper_text_decoder_n_threads (all)
      == (int) g_get_num_processors (), "n_threads 0 is not all cores");
  whisper_text_decoder_free (all);
  whisper_text_decoder_set_audio (dec, xa);

  /* whole prompt at once; 10 rows take the BLAS path, up to 8 the
   * small-rows kernels */
  int toks[10] = { SOT, 5, 17, 3, 29, 11, 0, 28, 14, 1 };
  double ref[10 * V];
  float got[10 * V];
  ref_forward (&m, xa, toks, 10, ref);
  CHECK (whisper_text_decoder_forward (dec, toks, 1, 10) == 0, "forward");
  int rows[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  whisper_text_decoder_logits (dec, rows, 10, got);
  double d1 = maxdiff (got, ref, 10 * V);
  printf ("forward N=10 vs reference: max diff %.3g\n", d1);
  CHECK (d1 < 1e-3, "prompt logits differ by %g", d1);
  whisper_text_decoder_clear_cache (dec);
  CHECK (whisper_text_decoder_forward (dec, toks, 1, 6) == 0, "forward");
  whisper_text_decoder_logits (dec, rows, 6, got);
  d1 = maxdiff (got, ref, 6 * V);
  printf ("forward N=6 vs reference: max diff %.3g\n", d1);
  CHECK (d1 < 1e-3, "prompt logits differ by %g", d1);

  /* one token at a time through the KV cache */
  whisper_text_decoder_clear_cache (dec);
  double d2 = 0;
  for (int i = 0; i < 6; i++) {
    int r = 0;
    CHECK (whisper_text_decoder_forward (dec, toks + i, 1, 1) == 0, "step");
    whisper_text_decoder_logits (dec, &r, 1, got);
    d2 = fmax (d2, maxdiff (got, ref + i * V, V));
  }
  printf ("forward incremental vs reference: max diff %.3g\n", d2);
  CHECK (d2 < 1e-3, "incremental logits differ by %g", d2);

  /* batch of 3 after a shared prefix, then a beam reorder */
  whisper_text_decoder_clear_cache (dec);
  CHECK (whisper_text_decoder_forward (dec, toks, 1, 2) == 0, "prefix");
  int src0[3] = { 0, 0, 0 };
  whisper_text_decoder_reorder (dec, src0, 3);
  int step1[3] = { 7, 8, 9 };
  CHECK (whisper_text_decoder_forward (dec, step1, 3, 1) == 0, "batch step");
  int src[3] = { 2, 0, 2 };     /* beams become [.. 9], [.. 7], [.. 9] */
  whisper_text_decoder_reorder (dec, src, 3);
  int step2[3] = { 1, 2, 4 };
  CHECK (whisper_text_decoder_forward (dec, step2, 3, 1) == 0, "batch step 2");
  float bl[3 * V];
  int brows[3] = { 0, 1, 2 };
  whisper_text_decoder_logits (dec, brows, 3, bl);
  int first[3] = { 9, 7, 9 };
  double d3 = 0;
  for (int b = 0; b < 3; b++) {
    int seq[4] = { toks[0], toks[1], first[b], step2[b] };
    double r4[4 * V];
    ref_forward (&m, xa, seq, 4, r4);
    d3 = fmax (d3, maxdiff (bl + b * V, r4 + 3 * V, V));
  }
  printf ("forward batch + reorder vs reference: max diff %.3g\n", d3);
  CHECK (d3 < 1e-3, "beam logits differ by %g", d3);

  CHECK (!whisper_text_decoder_has_f16_weights (dec),
      "float16 weights taken for a model without a float16 file");
  test_f16_file ();

  /* out of range */
  int bad = V;
  CHECK (whisper_text_decoder_forward (dec, &bad, 1, 1) != 0, "bad id taken");
  whisper_text_decoder_clear_cache (dec);
  int many[T + 1];
  for (int i = 0; i <= T; i++)
    many[i] = 1;
  CHECK (whisper_text_decoder_forward (dec, many, 1, T + 1) != 0,
      "context overflow taken");

  whisper_text_decoder_free (dec);
  free_model (&m);
}

/* ---------------------------------------------------------------------- */

static whisper_search_opts
default_opts (void)
{
  static const int blank[] = { 0 };
  static const int suppress[] = { 2, SOT, NO_SPEECH };
  whisper_search_opts o = {
    .temperature = 0,.beam_size = 1,.patience = 1,.best_of = 1,
    .sample_len = 12,.suppress_blank = 1,.blank_tokens = blank,
    .n_blank_tokens = 1,.suppress_tokens = suppress,.n_suppress_tokens = 3,
    .timestamps = 1,.max_initial_timestamp_index = 3,
  };
  return o;
}

static void
test_filters (void)
{
  whisper_model m;
  memset (&m, 0, sizeof (m));
  m.hp.n_vocab = V;
  m.tok = (whisper_special_tokens) {
  .eot = EOT,.sot = SOT,.no_speech = NO_SPEECH,.no_timestamps = NO_TS,
        .timestamp_begin = TS0,.lang_first = -1};
  whisper_search_opts o = default_opts ();
  float lg[V];

  /* first step: only timestamps 0 .. 3 (max_initial_timestamp) */
  for (int i = 0; i < V; i++)
    lg[i] = 0.0f;
  whisper_apply_logit_filters (&m, &o, NULL, 0, lg);
  for (int i = 0; i < V; i++) {
    gboolean allowed = i >= TS0 && i <= TS0 + 3;
    CHECK (allowed == (lg[i] > -INFINITY), "first step token %d %s", i,
        allowed ? "suppressed" : "allowed");
  }

  /* after <|ts1|> text: text, EOT, timestamps >= ts2 */
  int s1[] = { TS0 + 1, 5 };
  for (int i = 0; i < V; i++)
    lg[i] = (i < EOT) ? 5.0f : 0.0f;       /* text dominates */
  whisper_apply_logit_filters (&m, &o, s1, 2, lg);
  CHECK (lg[5] == 5.0f && lg[0] == 5.0f, "text suppressed after text");
  CHECK (lg[2] == -INFINITY, "suppress_tokens not applied");
  CHECK (lg[NO_TS] == -INFINITY, "no_timestamps allowed");
  CHECK (lg[TS0 + 1] == -INFINITY && lg[TS0 + 2] == 0.0f,
      "monotonic rule: ts1 %g ts2 %g", lg[TS0 + 1], lg[TS0 + 2]);
  CHECK (lg[EOT] == 0.0f, "eot suppressed after the first step");

  /* after <|ts1|> text <|ts4|>: no text; EOT and timestamps >= ts4 */
  int s2[] = { TS0 + 1, 5, TS0 + 4 };
  for (int i = 0; i < V; i++)
    lg[i] = 0.0f;
  lg[EOT] = 5.0f;               /* EOT beats the timestamps' total */
  whisper_apply_logit_filters (&m, &o, s2, 3, lg);
  CHECK (lg[5] == -INFINITY, "text allowed after a single timestamp");
  CHECK (lg[EOT] > -INFINITY, "eot suppressed after a single timestamp");
  CHECK (lg[TS0 + 3] == -INFINITY && lg[TS0 + 4] > -INFINITY,
      "pair rule: ts3 %g ts4 %g", lg[TS0 + 3], lg[TS0 + 4]);

  /* after a pair <|ts4|><|ts4|>: no timestamp */
  int s3[] = { TS0 + 1, 5, TS0 + 4, TS0 + 4 };
  for (int i = 0; i < V; i++)
    lg[i] = 0.0f;
  whisper_apply_logit_filters (&m, &o, s3, 4, lg);
  for (int i = TS0; i < V; i++)
    CHECK (lg[i] == -INFINITY, "timestamp %d allowed after a pair", i);
  CHECK (lg[5] > -INFINITY, "text suppressed after a pair");

  /* timestamps' total probability beats every text token: text is masked.
   * 10 timestamps at 0 (total log 10 = 2.30) vs one text token at 2.0 */
  int s4[] = { TS0 + 1, 5 };
  for (int i = 0; i < V; i++)
    lg[i] = i >= TS0 ? 0.0f : -10.0f;
  lg[7] = 2.0f;
  whisper_apply_logit_filters (&m, &o, s4, 2, lg);
  CHECK (lg[7] == -INFINITY, "text kept although timestamps win");
  /* and not when the text token is stronger (2.5 > 2.30) */
  for (int i = 0; i < V; i++)
    lg[i] = i >= TS0 ? 0.0f : -10.0f;
  lg[7] = 2.5f;
  whisper_apply_logit_filters (&m, &o, s4, 2, lg);
  CHECK (lg[7] == 2.5f, "text masked although it wins");

  /* without timestamps: only blank + suppress list */
  o.timestamps = 0;
  for (int i = 0; i < V; i++)
    lg[i] = 0.0f;
  whisper_apply_logit_filters (&m, &o, NULL, 0, lg);
  CHECK (lg[0] == -INFINITY && lg[EOT] == -INFINITY && lg[1] == 0.0f
      && lg[TS0] == 0.0f, "suppress_blank without timestamps");
}

/* greedy search == argmax of the filtered logits, step by step */
static void
test_greedy (void)
{
  whisper_model m;
  random_model (&m);
  float xa[A * D];
  for (int i = 0; i < A * D; i++)
    xa[i] = frand ();
  whisper_text_decoder *dec = whisper_text_decoder_new (&m, 5, 1,
      WHISPER_COMPUTE_FLOAT32, NULL);
  whisper_text_decoder_set_audio (dec, xa);
  whisper_search_opts o = default_opts ();
  o.timestamps = 0;
  o.max_initial_timestamp_index = -1;
  int prompt[] = { SOT_PREV, 4, 9, SOT };
  whisper_rng rng;
  whisper_rng_seed (&rng, 1);
  whisper_search_result r;
  gboolean ok = whisper_search_run (dec, &m, &o, prompt, 4, 3, &rng, &r, NULL);
  CHECK (ok, "greedy search failed");

  /* manual */
  int seq[T], n = 4;
  memcpy (seq, prompt, sizeof (prompt));
  double ref[T * V];
  int n_sampled = 0;
  float lg[V], lp[V];
  double sum = 0;
  while (n_sampled < o.sample_len) {
    ref_forward (&m, xa, seq, n, ref);
    for (int i = 0; i < V; i++)
      lg[i] = ref[(n - 1) * V + i];
    whisper_apply_logit_filters (&m, &o, seq + 4, n_sampled, lg);
    whisper_log_softmax (lg, lp, V);
    int best = 0;
    for (int i = 1; i < V; i++)
      if (lg[i] > lg[best])
        best = i;
    sum += lp[best];
    if (best == EOT)
      break;
    seq[n++] = best;
    n_sampled++;
  }
  CHECK (ok && r.n_tokens == n_sampled
      && memcmp (r.tokens, seq + 4, sizeof (int) * n_sampled) == 0,
      "greedy tokens differ (%d vs %d)", r.n_tokens, n_sampled);
  CHECK (fabs (r.sum_logprob - sum) < 1e-3, "sum logprob %g vs %g",
      r.sum_logprob, sum);
  /* no-speech probability at the SOT position */
  ref_forward (&m, xa, prompt, 4, ref);
  for (int i = 0; i < V; i++)
    lg[i] = ref[3 * V + i];
  whisper_log_softmax (lg, lp, V);
  CHECK (fabs (r.no_speech_prob - expf (lp[NO_SPEECH])) < 1e-4,
      "no_speech_prob %g vs %g", r.no_speech_prob, expf (lp[NO_SPEECH]));
  printf ("greedy: %d tokens, sum logprob %.4f (ref %.4f)\n", r.n_tokens,
      r.sum_logprob, sum);
  whisper_search_result_clear (&r);

  /* beam search with beam 5 finds a sequence at least as likely per token
   * as the one greedy found (true for this fixed random model), and
   * sampling is reproducible */
  float greedy_score = sum / MAX (n_sampled, 1);
  o.beam_size = 5;
  whisper_search_result rb;
  ok = whisper_search_run (dec, &m, &o, prompt, 4, 3, &rng, &rb, NULL);
  CHECK (ok && rb.n_tokens >= 0, "beam search failed");
  printf ("beam 5: %d tokens, sum logprob %.4f\n", rb.n_tokens,
      rb.sum_logprob);
  CHECK (ok && rb.sum_logprob / MAX (rb.n_tokens, 1) >= greedy_score - 1e-4,
      "beam score %g below greedy %g", rb.sum_logprob / MAX (rb.n_tokens, 1),
      greedy_score);
  whisper_search_result_clear (&rb);
  o.beam_style = WHISPER_BEAM_CTRANSLATE2;
  ok = whisper_search_run (dec, &m, &o, prompt, 4, 3, &rng, &rb, NULL);
  printf ("beam 5 (CTranslate2 selection): %d tokens, sum logprob %.4f\n",
      rb.n_tokens, rb.sum_logprob);
  CHECK (ok && rb.sum_logprob / MAX (rb.n_tokens, 1) >= greedy_score - 1e-4,
      "ct2 beam score %g below greedy %g",
      rb.sum_logprob / MAX (rb.n_tokens, 1), greedy_score);
  whisper_search_result_clear (&rb);
  o.beam_style = WHISPER_BEAM_OPENAI;

  o.temperature = 1.0f;
  o.best_of = 3;
  whisper_search_result s1, s2;
  whisper_rng_seed (&rng, 7);
  ok = whisper_search_run (dec, &m, &o, prompt, 4, 3, &rng, &s1, NULL);
  whisper_rng_seed (&rng, 7);
  ok = ok && whisper_search_run (dec, &m, &o, prompt, 4, 3, &rng, &s2, NULL);
  CHECK (ok && s1.n_tokens == s2.n_tokens
      && memcmp (s1.tokens, s2.tokens, sizeof (int) * s1.n_tokens) == 0,
      "sampling with the same seed differs");
  whisper_search_result_clear (&s1);
  whisper_search_result_clear (&s2);

  whisper_text_decoder_free (dec);
  free_model (&m);
}

/* ---------------------------------------------------------------------- */

/* BPE on a hand-made vocabulary: bytes + merges "a b", "ab c", "Ġ ab" */
static void
test_bpe (void)
{
  whisper_model m;
  memset (&m, 0, sizeof (m));
  const char *extra[] = { "ab", "abc", " ab", "'s" };
  int n = 256 + 4 + 1;
  m.vocab.n_tokens = n;
  m.vocab.token = g_new0 (char *, n);
  m.vocab.token_len = g_new0 (int, n);
  for (int b = 0; b < 256; b++) {
    m.vocab.token[b] = g_malloc0 (2);
    m.vocab.token[b][0] = (char) b;
    m.vocab.token_len[b] = 1;
  }
  for (int i = 0; i < 4; i++) {
    m.vocab.token[256 + i] = g_strdup (extra[i]);
    m.vocab.token_len[256 + i] = strlen (extra[i]);
  }
  m.vocab.token[260] = g_strdup ("<|endoftext|>");
  m.vocab.token_len[260] = 13;
  char *merges[] = { "a b", "ab c", "\xc4\xa0 ab", "' s" };   /* Ġ = U+0120 */
  m.vocab.merges = merges;
  m.vocab.n_merges = 4;
  m.tok.eot = 260;
  m.tok.lang_first = -1;
  whisper_tokenizer *t = whisper_tokenizer_new (&m, NULL);
  g_assert (t);
  int nid;
  int *ids = whisper_tokenizer_encode (t, "abc ab's  x\n", &nid, NULL);
  /* pieces: "abc" " ab" "'s" " " " x" "\n" */
  int want[] = { 257, 258, 259, ' ', ' ', 'x', '\n' };
  CHECK (nid == 7 && memcmp (ids, want, sizeof (want)) == 0,
      "BPE ids wrong (%d ids)", nid);
  char *txt = whisper_tokenizer_decode (t, ids, nid);
  CHECK (strcmp (txt, "abc ab's  x\n") == 0, "round trip '%s'", txt);
  g_free (txt);
  g_free (ids);
  /* bytes of characters split across tokens join up; a character cut short
   * (by a skipped special token, another character or the end) or a stray
   * byte is one U+FFFD each, as Python's bytes.decode (errors="replace") */
  int bytes[] = { 'a', 0xc3, 0xa9, 0xe2, 0x99, 260, 0xaa, 0xe2, 0x99, 'b',
    0xff, 'c', 0xf0, 0x9f, 0x98 };
  txt = whisper_tokenizer_decode (t, bytes, G_N_ELEMENTS (bytes));
  CHECK (strcmp (txt, "a\xc3\xa9\xe2\x99\xaa\xef\xbf\xbd" "b\xef\xbf\xbd"
          "c\xef\xbf\xbd") == 0, "invalid bytes not replaced: '%s'", txt);
  g_free (txt);
  CHECK (whisper_tokenizer_token_id (t, "<|endoftext|>", 13) == 260,
      "special token lookup");
  whisper_tokenizer_free (t);
  for (int i = 0; i < n; i++)
    g_free (m.vocab.token[i]);
  g_free (m.vocab.token);
  g_free (m.vocab.token_len);
}

/* DTW: the cheapest path collects the high cells (off them each cell
 * costs 1); a tie between up and left goes left (openai's dtw_cpu);
 * median filter with reflection at the ends */
static void
test_timing (void)
{
  const float x[3 * 4] = {
    5, -1, -1, -1,
    -1, 5, 5, -1,
    -1, -1, -1, 5,
  };
  int pi[7], pj[7];
  int n = whisper_dtw (x, 3, 4, pi, pj);
  const int want_i[] = { 0, 1, 1, 2 }, want_j[] = { 0, 1, 2, 3 };
  CHECK (n == 4, "dtw path length %d, expected 4", n);
  for (int k = 0; k < n && k < 4; k++)
    CHECK (pi[k] == want_i[k] && pj[k] == want_j[k],
        "dtw step %d: (%d, %d), expected (%d, %d)", k, pi[k], pj[k],
        want_i[k], want_j[k]);
  /* all equal: every move ties, so the path goes left along row 0 first
   * (trace 2), then down the last column */
  const float flat[2 * 3] = { 0, 0, 0, 0, 0, 0 };
  n = whisper_dtw (flat, 2, 3, pi, pj);
  CHECK (n == 4 && pi[0] == 0 && pj[0] == 0 && pi[3] == 1 && pj[3] == 2,
      "dtw on a flat matrix: %d steps, ends (%d, %d)", n, pi[n - 1],
      pj[n - 1]);

  float row[2 * 5] = { 1, 9, 2, 8, 3, 4, 4, 4, 4, 4 };
  whisper_median_filter (row, 2, 5, 3);
  const float want[5] = { 9, 2, 8, 3, 8 };
  for (int k = 0; k < 5; k++) {
    CHECK (row[k] == want[k], "median[%d] = %g, expected %g", k, row[k],
        want[k]);
    CHECK (row[5 + k] == 4, "median of a constant row changed");
  }
  float shortrow[3] = { 3, 1, 2 };
  whisper_median_filter (shortrow, 1, 3, 7);
  CHECK (shortrow[0] == 3 && shortrow[1] == 1 && shortrow[2] == 2,
      "a row not longer than width / 2 must stay as it is");
}

/* a hypothesis from "w0:t0:t1 w1:t0:t1 ..." */
static whisper_word *
hyp (const char *spec, int *n)
{
  gchar **parts = g_strsplit (spec, " ", -1);
  *n = g_strv_length (parts);
  whisper_word *w = g_new0 (whisper_word, *n);
  for (int i = 0; i < *n; i++) {
    gchar **f = g_strsplit (parts[i], ":", 3);
    w[i].text = g_strconcat (" ", f[0], NULL);
    w[i].t0_frame = g_ascii_strtoll (f[1], NULL, 10);
    w[i].t1_frame = g_ascii_strtoll (f[2], NULL, 10);
    g_strfreev (f);
  }
  g_strfreev (parts);
  return w;
}

static void
hyp_free (whisper_word * w, int n)
{
  for (int i = 0; i < n; i++)
    g_free (w[i].text);
  g_free (w);
}

/* feed one hypothesis; the committed words joined, "" for none */
static char *
feed (whisper_agreement * a, const char *spec, int64_t force, gboolean final)
{
  int n;
  whisper_word *w = hyp (spec, &n);
  GArray *c = g_array_new (FALSE, FALSE, sizeof (whisper_word));
  int k = whisper_agreement_update (a, w, n, force, final, c);
  GString *out = g_string_new (NULL);
  CHECK (k == (int) c->len, "update returned %d for %u words", k, c->len);
  for (guint i = 0; i < c->len; i++) {
    g_string_append (out, g_array_index (c, whisper_word, i).text);
    g_free (g_array_index (c, whisper_word, i).text);
  }
  g_array_free (c, TRUE);
  hyp_free (w, n);
  return g_string_free (out, FALSE);
}

#define EXPECT_COMMIT(got, want) do { char *g_ = (got); \
    CHECK (strcmp (g_, want) == 0, "committed \"%s\", expected \"%s\"", \
        g_, want); g_free (g_); } while (0)

static void
test_agreement (void)
{
  whisper_agreement *a = whisper_agreement_new ();
  /* the first hypothesis has nothing to agree with */
  EXPECT_COMMIT (feed (a, "and:0:50 so:50:90 much:90:100", -1, FALSE), "");
  /* agreement up to the first difference (case and punctuation folded) */
  EXPECT_COMMIT (feed (a, "And:0:48 so,:48:92 my:120:140 fellow:140:200",
          -1, FALSE), " And so,");
  CHECK (whisper_agreement_commit_frame (a) == 92, "commit frame %d",
      (int) whisper_agreement_commit_frame (a));
  int n_tent;
  const whisper_word *t = whisper_agreement_tentative (a, &n_tent);
  CHECK (n_tent == 2 && strcmp (t[0].text, " my") == 0, "tentative %d", n_tent);
  /* the window repeats the committed words (timestamps moved): found by
   * text, not committed twice; "my" agrees now */
  EXPECT_COMMIT (feed (a, "and:0:52 so:52:96 my:120:142 fellow:142:205 "
          "americans:205:260", -1, FALSE), " my fellow");
  /* the latency bound: words ending by the force frame are final even
   * without agreement, and only in order */
  EXPECT_COMMIT (feed (a, "Americans:205:262 ask:262:300 not:300:380", 300,
          FALSE), " Americans ask");
  /* a repeat of the last committed word at the start is dropped */
  EXPECT_COMMIT (feed (a, "ask:290:310 not:310:380 what:380:420", -1, FALSE),
      " not");
  /* the end of the stream: all the rest */
  EXPECT_COMMIT (feed (a, "what:380:420 your:420:460 country.:460:520", -1,
          TRUE), " what your country.");
  t = whisper_agreement_tentative (a, &n_tent);
  CHECK (n_tent == 0, "%d tentative words after the final update", n_tent);
  whisper_agreement_reset (a);
  CHECK (whisper_agreement_commit_frame (a) == -1, "reset keeps a commit");
  whisper_agreement_free (a);
}

int
main (void)
{
  test_timing ();
  test_agreement ();
  test_forward ();
  test_filters ();
  test_greedy ();
  test_bpe ();
  if (n_fail) {
    fprintf (stderr, "%d check(s) failed\n", n_fail);
    return 1;
  }
  printf ("all decoder unit tests passed\n");
  return 0;
}
