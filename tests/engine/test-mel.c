/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Engine tests for the log-mel front end (models/frontend/mel.c), no GStreamer.
 *
 *  - filterbank: shape of the Slaney triangles and their area normalisation
 *  - a sinusoid on an FFT bin: |X|^2 is known in closed form for a periodic
 *    Hann window (bin k0: (A * 400/4)^2, bins k0 +- 1: (A * 400/8)^2, others
 *    0), so every mel value can be computed by hand from the filters
 *  - push-size invariance and frame counts, including tiny streams; frames
 *    leave as early as possible; the end reflection by hand
 *  - bad arguments
 * Prints the maximum differences; exits 1 on failure.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mel.h"

static int n_fail = 0;

#define CHECK(cond, ...) do { if (!(cond)) { n_fail++; \
      fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf (stderr, __VA_ARGS__); fputc ('\n', stderr); } } while (0)

static void
test_filters (int n_mels)
{
  float *F = g_new (float, (size_t) n_mels * WHISPER_N_FREQ);
  int m, k, prev_peak = -1;

  CHECK (whisper_mel_filters_compute (F, n_mels) == 0, "compute");
  for (m = 0; m < n_mels; m++) {
    const float *f = F + (size_t) m * WHISPER_N_FREQ;
    int peak = 0, n_nz = 0;
    for (k = 0; k < WHISPER_N_FREQ; k++) {
      CHECK (f[k] >= 0.0f, "negative weight m=%d k=%d", m, k);
      n_nz += f[k] > 0.0f;
      if (f[k] > f[peak])
        peak = k;
    }
    /* one triangle per band, centres increasing */
    CHECK (n_nz >= 1, "empty filter %d", m);
    CHECK (peak >= prev_peak, "filter %d peak %d before %d", m, peak,
        prev_peak);
    prev_peak = peak;
    /* rising then falling */
    for (k = 1; k <= peak; k++)
      CHECK (f[k] >= f[k - 1], "filter %d not rising at %d", m, k);
    for (k = peak + 1; k < WHISPER_N_FREQ; k++)
      CHECK (f[k] <= f[k - 1], "filter %d not falling at %d", m, k);
  }
  /* Slaney norm: each triangle has unit area in Hz (height 2 / width),
   * so sum_k f[k] * 40 Hz ~ 1 (within the sampling error of 40 Hz bins). */
  for (m = n_mels / 2; m < n_mels; m++) {
    double area = 0.0;
    for (k = 0; k < WHISPER_N_FREQ; k++)
      area += F[(size_t) m * WHISPER_N_FREQ + k] * 40.0;
    CHECK (fabs (area - 1.0) < 0.1, "filter %d area %.4f", m, area);
  }
  g_free (F);
}

static void
test_sinusoid (int n_mels)
{
  const int k0 = 25;            /* 25 x 40 Hz = 1 kHz */
  const double A = 0.5;
  const size_t n = 16000;
  float *x = g_new (float, n);
  float *out = g_new (float, (n / WHISPER_HOP_LENGTH) * n_mels);
  float *F = g_new (float, (size_t) n_mels * WHISPER_N_FREQ);
  whisper_mel *mel = whisper_mel_new (n_mels, NULL);
  double max_err = 0.0;
  size_t i, n_frames;
  int m;

  for (i = 0; i < n; i++)
    x[i] = (float) (A * cos (2 * G_PI * k0 * (double) i / WHISPER_N_FFT));
  whisper_mel_filters_compute (F, n_mels);
  n_frames = whisper_mel_compute (mel, x, n, out);
  CHECK (n_frames == n / WHISPER_HOP_LENGTH, "frames %zu", n_frames);

  /* interior frames (no padding inside the window) */
  for (i = 2; i < n_frames - 2; i++) {
    for (m = 0; m < n_mels; m++) {
      const float *f = F + (size_t) m * WHISPER_N_FREQ;
      double P0 = pow (A * WHISPER_N_FFT / 4.0, 2);
      double P1 = pow (A * WHISPER_N_FFT / 8.0, 2);
      double e = f[k0] * P0 + f[k0 - 1] * P1 + f[k0 + 1] * P1;
      double ref = log10 (e > 1e-10 ? e : 1e-10);
      double err = fabs (out[i * n_mels + m] - ref);
      /* bands without the tone's bins see float32 rounding noise only */
      if (e > 1e-3)
        max_err = MAX (max_err, err);
      else
        CHECK (out[i * n_mels + m] < -4.0f, "frame %zu band %d: %f", i, m,
            out[i * n_mels + m]);
    }
  }
  printf ("sinusoid n_mels %d: max abs err vs closed form %.3g\n", n_mels,
      max_err);
  CHECK (max_err < 1e-5, "sinusoid error %.3g", max_err);
  whisper_mel_free (mel);
  g_free (F);
  g_free (out);
  g_free (x);
}

static void
test_push_sizes (void)
{
  const size_t lengths[] = { 0, 1, 159, 160, 200, 201, 360, 1119, 1120, 4077 };
  const size_t pushes[] = { 1, 7, 159, 160, 161, 4096 };
  float *x = g_new (float, 4077);
  float *ref = g_new (float, 4077 / 160 * 80 + 80);
  float *out = g_new (float, 4077 / 160 * 80 + 80);
  whisper_mel *mel = whisper_mel_new (80, NULL);
  guint32 r = 5;
  size_t i, l, p;

  for (i = 0; i < 4077; i++) {
    r = r * 1664525u + 1013904223u;
    x[i] = (float) ((double) (r >> 8) / (1 << 24) - 0.5);
  }
  for (l = 0; l < G_N_ELEMENTS (lengths); l++) {
    size_t n = lengths[l];
    size_t n_ref = whisper_mel_compute (mel, x, n, ref);
    CHECK (n_ref == n / 160, "N=%zu: %zu frames", n, n_ref);
    for (p = 0; p < G_N_ELEMENTS (pushes); p++) {
      size_t got = 0;
      for (i = 0; i < n; i += pushes[p]) {
        size_t m = MIN (pushes[p], n - i);
        size_t expect = whisper_mel_frames_for_push (mel, m);
        size_t f = whisper_mel_push_f32 (mel, x + i, m, out + got * 80, NULL);
        CHECK (f == expect, "frames_for_push %zu != %zu", expect, f);
        got += f;
      }
      CHECK (whisper_mel_frames_for_finish (mel) == n / 160 - got,
          "frames_for_finish");
      got += whisper_mel_finish (mel, out + got * 80);
      CHECK (got == n_ref, "N=%zu push %zu: %zu frames", n, pushes[p], got);
      CHECK (memcmp (out, ref, got * 80 * sizeof (float)) == 0,
          "N=%zu push %zu: not bit-identical", n, pushes[p]);
      for (i = 0; i < got * 80; i++)
        CHECK (isfinite (out[i]) && out[i] >= -10.0f, "bad value");
    }
  }
  whisper_mel_free (mel);
  g_free (x);
  g_free (ref);
  g_free (out);
}

/* Frames leave as early as possible: frame i after sample 160 i + 199, and
 * frame 0 also needs x[200] (start reflection). */
static void
test_promptness (void)
{
  float x[400] = { 0 }, out[3 * 80];
  whisper_mel *mel = whisper_mel_new (80, NULL);

  CHECK (whisper_mel_push_f32 (mel, x, 200, out, NULL) == 0, "200");
  CHECK (whisper_mel_push_f32 (mel, x, 1, out, NULL) == 1, "201");
  CHECK (whisper_mel_push_f32 (mel, x, 158, out, NULL) == 0, "359");
  CHECK (whisper_mel_push_f32 (mel, x, 1, out, NULL) == 1, "360");
  CHECK (whisper_mel_frames_for_finish (mel) == 0, "finish at 360");
  whisper_mel_free (mel);
}

/* End reflection by hand: x followed by its mirror image
 * y[N + j] = x[N - 2 - j] gives the same last frame as x alone, whose
 * window reaches 40 samples past N (N = 1120 = 7 x 160). */
static void
test_end_reflection (void)
{
  const size_t N = 1120;
  float y[1120 + 400], a[7 * 80], b[9 * 80];
  whisper_mel *mel = whisper_mel_new (80, NULL);
  guint32 r = 9;
  size_t i, na, nb;

  for (i = 0; i < N; i++) {
    r = r * 1664525u + 1013904223u;
    y[i] = (float) ((double) (r >> 8) / (1 << 24) - 0.5);
  }
  for (i = 0; i < 400; i++)
    y[N + i] = y[N - 2 - i];
  na = whisper_mel_compute (mel, y, N, a);
  nb = whisper_mel_compute (mel, y, N + 400, b);
  CHECK (na == 7 && nb == 9, "frames %zu %zu", na, nb);
  CHECK (memcmp (a, b, sizeof (a)) == 0, "end reflection differs");
  whisper_mel_free (mel);
}

static void
test_nonfinite (void)
{
  float x[800], y[800], a[5 * 80], b[5 * 80];
  whisper_mel *mel = whisper_mel_new (80, NULL);
  uint64_t n_bad = 0;
  size_t n;
  int i;

  for (i = 0; i < 800; i++)
    x[i] = y[i] = (float) sin (i * 0.05);
  x[3] = NAN;
  x[500] = INFINITY;
  y[3] = y[500] = 0.0f;
  n = whisper_mel_push_f32 (mel, x, 800, a, &n_bad);
  n += whisper_mel_finish (mel, a + n * 80);
  CHECK (n == 5 && n_bad == 2, "n %zu n_bad %" G_GUINT64_FORMAT, n, n_bad);
  whisper_mel_compute (mel, y, 800, b);
  CHECK (memcmp (a, b, sizeof (a)) == 0, "NaN/Inf not replaced by 0");
  whisper_mel_free (mel);
}

static void
test_errors (void)
{
  GError *err = NULL;
  whisper_mel *mel = whisper_mel_new (100, &err);
  CHECK (mel == NULL && err != NULL
      && err->code == WHISPER_ERROR_ARGUMENT, "n_mels 100 accepted");
  g_clear_error (&err);
  CHECK (whisper_mel_filters_compute (NULL, 0) == -1, "n_mels 0 accepted");
}

int
main (void)
{
  test_filters (80);
  test_filters (128);
  test_sinusoid (80);
  test_sinusoid (128);
  test_push_sizes ();
  test_promptness ();
  test_end_reflection ();
  test_nonfinite ();
  test_errors ();
  if (n_fail) {
    fprintf (stderr, "%d checks failed\n", n_fail);
    return 1;
  }
  printf ("all mel engine checks passed\n");
  return 0;
}
