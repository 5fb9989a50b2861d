/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encoder forward pass on a small random model (C = 64, 4 heads, 2 layers,
 * the real 1500 positions), against a naive double-precision
 * implementation of Whisper's AudioEncoder written here from the
 * architecture, not from the kernels.  Also: whisper_mel_normalize() on
 * hand values, and the errors of whisper_encoder_new(). */
#include "encoder.h"
#include "random-encoder-model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_failed, n_passed;

static void
check_true (const char *what, int cond)
{
  printf ("%-52s %s\n", what, cond ? "ok" : "FAILED");
  if (cond)
    n_passed++;
  else
    n_failed++;
}

/* ---- the naive reference, in double, channel-major like PyTorch's ---- */

static double
gelu_d (double x)
{
  return 0.5 * x * (1.0 + erf (x / sqrt (2.0)));
}

/* x [T][C] -> y [T][C] */
static void
ln_d (double *y, const double *x, const float *g, const float *b, int T,
    int C)
{
  for (int t = 0; t < T; t++) {
    double m = 0, v = 0;
    for (int c = 0; c < C; c++)
      m += x[t * C + c];
    m /= C;
    for (int c = 0; c < C; c++)
      v += (x[t * C + c] - m) * (x[t * C + c] - m);
    v /= C;
    for (int c = 0; c < C; c++)
      y[t * C + c] = (x[t * C + c] - m) / sqrt (v + 1e-5) * g[c] + b[c];
  }
}

/* y [T][O] = x [T][I] W^T + b */
static void
linear_d (double *y, const double *x, const float *W, const float *b, int T,
    int I, int O)
{
  for (int t = 0; t < T; t++)
    for (int o = 0; o < O; o++) {
      double s = b ? b[o] : 0.0;
      for (int i = 0; i < I; i++)
        s += x[t * I + i] * W[o * I + i];
      y[t * O + o] = s;
    }
}

static void
reference_encoder (double *out, const whisper_model * m, const float *mel)
{
  const int M = m->hp.n_mels, C = m->hp.n_audio_state, H = m->hp.n_audio_head;
  const int F = 3000, A = 1500, hs = C / H;
  const whisper_weights *w = &m->w;
  /* conv1 on channel-major mel [M][F] -> c1 [C][F] */
  double *c1 = malloc ((size_t) C * F * 8);
  for (int o = 0; o < C; o++)
    for (int t = 0; t < F; t++) {
      double s = w->conv1_b[o];
      for (int i = 0; i < M; i++)
        for (int k = 0; k < 3; k++) {
          int ti = t + k - 1;
          if (ti >= 0 && ti < F)
            s += (double) w->conv1_w[(o * M + i) * 3 + k] * mel[i * F + ti];
        }
      c1[o * F + t] = gelu_d (s);
    }
  /* conv2 stride 2 -> x [A][C] (transposed) + positional embedding */
  double *x = malloc ((size_t) A * C * 8);
  for (int o = 0; o < C; o++)
    for (int t = 0; t < A; t++) {
      double s = w->conv2_b[o];
      for (int i = 0; i < C; i++)
        for (int k = 0; k < 3; k++) {
          int ti = 2 * t + k - 1;
          if (ti >= 0 && ti < F)
            s += (double) w->conv2_w[(o * C + i) * 3 + k] * c1[i * F + ti];
        }
      x[t * C + o] = gelu_d (s) + w->enc_pos[t * C + o];
    }
  double *ln = malloc ((size_t) A * C * 8), *q = malloc ((size_t) A * C * 8);
  double *k = malloc ((size_t) A * C * 8), *v = malloc ((size_t) A * C * 8);
  double *att = malloc ((size_t) A * C * 8), *tmp = malloc ((size_t) A * C * 8);
  double *h = malloc ((size_t) A * 4 * C * 8), *p = malloc ((size_t) A * 8);
  for (int l = 0; l < m->hp.n_audio_layer; l++) {
    const whisper_encoder_layer *b = &w->enc[l];
    ln_d (ln, x, b->attn_ln_w, b->attn_ln_b, A, C);
    linear_d (q, ln, b->attn.q_w, b->attn.q_b, A, C, C);
    linear_d (k, ln, b->attn.k_w, NULL, A, C, C);
    linear_d (v, ln, b->attn.v_w, b->attn.v_b, A, C, C);
    for (int hh = 0; hh < H; hh++)
      for (int i = 0; i < A; i++) {
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < A; j++) {
          double d = 0;
          for (int c = hh * hs; c < (hh + 1) * hs; c++)
            d += q[i * C + c] * k[j * C + c];
          p[j] = d / sqrt (hs);
          mx = fmax (mx, p[j]);
        }
        for (int j = 0; j < A; j++)
          sum += (p[j] = exp (p[j] - mx));
        for (int c = hh * hs; c < (hh + 1) * hs; c++) {
          double a = 0;
          for (int j = 0; j < A; j++)
            a += p[j] * v[j * C + c];
          att[i * C + c] = a / sum;
        }
      }
    linear_d (tmp, att, b->attn.o_w, b->attn.o_b, A, C, C);
    for (size_t i = 0; i < (size_t) A * C; i++)
      x[i] += tmp[i];
    ln_d (ln, x, b->mlp_ln_w, b->mlp_ln_b, A, C);
    linear_d (h, ln, b->fc1_w, b->fc1_b, A, C, 4 * C);
    for (size_t i = 0; i < (size_t) A * 4 * C; i++)
      h[i] = gelu_d (h[i]);
    linear_d (tmp, h, b->fc2_w, b->fc2_b, A, 4 * C, C);
    for (size_t i = 0; i < (size_t) A * C; i++)
      x[i] += tmp[i];
  }
  ln_d (out, x, w->enc_ln_w, w->enc_ln_b, A, C);
  free (c1), free (x), free (ln), free (q), free (k), free (v), free (att);
  free (tmp), free (h), free (p);
}

/* ------------------------------------------------------------------------ */

static void
test_normalize (void)
{
  float mel[] = { 0.0f, -10.0f, 2.0f, -6.0f };
  whisper_mel_normalize (mel, 4);
  /* max 2, floor -6: (0+4)/4, (-6+4)/4, (2+4)/4, (-6+4)/4 */
  check_true ("whisper_mel_normalize hand values", mel[0] == 1.0f
      && mel[1] == -0.5f && mel[2] == 1.5f && mel[3] == -0.5f);
}

static void
test_errors (void)
{
  whisper_model m;
  random_encoder_model_init (&m, 16, 32, 4, 1);
  GError *err = NULL;
  m.hp.n_audio_ctx = 1000;
  whisper_encoder *e = whisper_encoder_new (&m,
      &(whisper_encoder_params) { .n_threads = 1 }, &err);
  check_true ("n_audio_ctx 1000 rejected with an error", e == NULL
      && err && err->domain == WHISPER_ERROR);
  if (err)
    printf ("    (%s)\n", err->message);
  g_clear_error (&err);
  m.hp.n_audio_ctx = 1500;
  m.hp.n_audio_head = 5;
  e = whisper_encoder_new (&m,
      &(whisper_encoder_params) { .n_threads = 1 }, &err);
  check_true ("heads not dividing the state rejected", e == NULL && err);
  g_clear_error (&err);
  m.hp.n_audio_head = 4;
  float *conv1 = m.w.conv1_w;
  m.w.conv1_w = NULL;
  e = whisper_encoder_new (&m,
      &(whisper_encoder_params) { .n_threads = 1 }, &err);
  check_true ("missing conv1 weight rejected", e == NULL && err);
  g_clear_error (&err);
  m.w.conv1_w = conv1;
  e = whisper_encoder_new (&m, NULL, &err);
  check_true ("valid model accepted, n_threads 0 = all cores", e != NULL
      && whisper_encoder_get_n_threads (e) >= 1);
  check_true ("run with NULL mel returns non-zero",
      e && whisper_encoder_run (e, NULL, (float[1]) { 0 }) != 0);
  whisper_encoder_free (e);
  random_encoder_model_clear (&m);
}

static void
test_random_model (void)
{
  const int M = 80, C = 64, H = 4, L = 2, A = 1500;
  whisper_model m;
  random_encoder_model_init (&m, M, C, H, L);
  /* a mel window shaped like a normalised one: values in [-0.5, 1.5] */
  float *mel = malloc ((size_t) M * 3000 * sizeof (float));
  for (size_t i = 0; i < (size_t) M * 3000; i++)
    mel[i] = 0.5f + random_encoder_frand ();
  double *ref = malloc ((size_t) A * C * 8);
  reference_encoder (ref, &m, mel);

  GError *err = NULL;
  float *out = malloc ((size_t) A * C * 4), *out2 = malloc ((size_t) A * C * 4);
  for (int threads = 1; threads <= 2; threads++) {
    whisper_encoder *e = whisper_encoder_new (&m,
      &(whisper_encoder_params) { .n_threads = threads }, &err);
    if (!e) {
      printf ("whisper_encoder_new: %s\n", err->message);
      n_failed++;
      g_clear_error (&err);
      continue;
    }
    int rc = whisper_encoder_run (e, mel, out);
    int rc2 = whisper_encoder_run (e, mel, out2);
    double dot = 0, nx = 0, ny = 0, maxd = 0;
    for (size_t i = 0; i < (size_t) A * C; i++) {
      dot += out[i] * ref[i];
      nx += (double) out[i] * out[i];
      ny += ref[i] * ref[i];
      maxd = fmax (maxd, fabs (out[i] - ref[i]));
      if (isnan (out[i]))
        maxd = INFINITY;
    }
    double cosine = dot / sqrt (nx * ny);
    printf ("random model C=%d H=%d L=%d, %d thread(s): cosine %.9f, "
        "max abs diff %.3g\n", C, H, L, threads, cosine, maxd);
    char what[80];
    snprintf (what, sizeof what, "%d thread(s): matches the double reference",
        threads);
    check_true (what, rc == 0 && cosine > 0.9999999 && maxd < 1e-4);
    snprintf (what, sizeof what, "%d thread(s): second run identical",
        threads);
    check_true (what, rc2 == 0
        && memcmp (out, out2, (size_t) A * C * 4) == 0);
    /* time-major input gives the same bits */
    float *frames = malloc ((size_t) M * 3000 * sizeof (float));
    for (int f = 0; f < 3000; f++)
      for (int mm = 0; mm < M; mm++)
        frames[(size_t) f * M + mm] = mel[(size_t) mm * 3000 + f];
    memset (out2, 0, (size_t) A * C * 4);
    int rc3 = whisper_encoder_run_frames (e, frames, out2);
    snprintf (what, sizeof what, "%d thread(s): run_frames == run", threads);
    check_true (what, rc3 == 0
        && memcmp (out, out2, (size_t) A * C * 4) == 0);
    free (frames);
    whisper_encoder_free (e);
  }
  free (mel), free (ref), free (out), free (out2);
  random_encoder_model_clear (&m);
}

/* Two encoders of one model running at the same time on two threads (two
 * pipelines) give the same bits as one alone. */
typedef struct {
  whisper_encoder *enc;
  const float *mel;
  float *out;
  int rc;
} run_job;

static gpointer
run_job_thread (gpointer data)
{
  run_job *job = data;
  job->rc = 0;
  for (int i = 0; i < 3 && job->rc == 0; i++)
    job->rc = whisper_encoder_run (job->enc, job->mel, job->out);
  return NULL;
}

static void
test_concurrent (void)
{
  const int M = 80, C = 64, A = 1500;
  whisper_model m;
  random_encoder_model_init (&m, M, C, 4, 1);
  float *mel = malloc ((size_t) M * 3000 * sizeof (float));
  for (size_t i = 0; i < (size_t) M * 3000; i++)
    mel[i] = 0.5f + random_encoder_frand ();
  const size_t n = (size_t) A * C;
  float *alone = malloc (n * 4), *o1 = malloc (n * 4), *o2 = malloc (n * 4);
  whisper_encoder *e1 = whisper_encoder_new (&m,
      &(whisper_encoder_params) { .n_threads = 2 }, NULL);
  whisper_encoder *e2 = whisper_encoder_new (&m,
      &(whisper_encoder_params) { .n_threads = 2 }, NULL);
  int rc = whisper_encoder_run (e1, mel, alone);
  run_job j1 = { e1, mel, o1, -1 }, j2 = { e2, mel, o2, -1 };
  GThread *t1 = g_thread_new ("enc1", run_job_thread, &j1);
  GThread *t2 = g_thread_new ("enc2", run_job_thread, &j2);
  g_thread_join (t1);
  g_thread_join (t2);
  check_true ("two encoders on two threads at once: same bits as alone",
      rc == 0 && j1.rc == 0 && j2.rc == 0 && memcmp (alone, o1, n * 4) == 0
      && memcmp (alone, o2, n * 4) == 0);
  whisper_encoder_free (e1);
  whisper_encoder_free (e2);
  free (mel), free (alone), free (o1), free (o2);
  random_encoder_model_clear (&m);
}

int
main (void)
{
  test_normalize ();
  test_errors ();
  test_random_model ();
  test_concurrent ();
  printf ("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
