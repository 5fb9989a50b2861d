/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Engine tests for the speech gate (models/frontend/speech-gate.c), no GStreamer.
 *
 * Signals made here, through the real front end (whisper_mel_compute), 30 s
 * each unless said: digital silence, white noise at -40 and -20 dBFS, a
 * 50 Hz hum with harmonics, pink-ish noise; and speech-like signals: noise
 * bursts in syllable rhythm, the same 0 dB under steady white noise, one
 * 300 ms burst in 30 s of quiet hiss, a short window that is all bursts.
 * The stationary ones must stay below the default threshold by a margin,
 * the speech-like ones above it.  Prints every contrast; exits 1 on
 * failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mel.h"
#include "whisper.h"

#define RATE 16000
#define THRESHOLD WHISPER_SPEECH_GATE_DEFAULT_DB

static int n_fail = 0;

/* deterministic uniform noise in [-1, 1] */
static float
noise (guint32 * state)
{
  *state = *state * 1664525u + 1013904223u;
  return (float) ((double) (*state >> 8) / (double) (1u << 23) - 1.0);
}

/* contrast of samples [n] through the front end and the gate */
static float
contrast_of (const float *x, size_t n)
{
  GError *err = NULL;
  whisper_mel *mel = whisper_mel_new (80, &err);
  float *frames = g_new (float, (n / WHISPER_HOP_LENGTH + 1) * 80);
  size_t n_frames = whisper_mel_compute (mel, x, n, frames);
  whisper_speech_gate *gate = whisper_speech_gate_new (80);
  float c = whisper_speech_gate_contrast (gate, frames, (int) n_frames);

  whisper_speech_gate_free (gate);
  whisper_mel_free (mel);
  g_free (frames);
  return c;
}

static void
expect (const char *what, const float *x, size_t n, gboolean speech)
{
  float c = contrast_of (x, n);
  /* both kinds must stay clear of the threshold (3 dB of margin) */
  gboolean ok = speech ? c >= THRESHOLD + 3.0f : c <= THRESHOLD - 3.0f;

  printf ("%-44s contrast %5.1f dB  (%s expected)  %s\n", what, c,
      speech ? "speech" : "no speech", ok ? "ok" : "FAIL");
  if (!ok)
    n_fail++;
}

/* syllable-like bursts: 150 ms of band-limited noise every 250 ms, in
 * phrases of 2 s with 0.5 s pauses, at amplitude a */
static void
add_bursts (float *x, size_t n, float a, guint32 seed)
{
  guint32 s = seed;
  float lp = 0.0f;
  for (size_t i = 0; i < n; i++) {
    size_t in_phrase = i % (RATE * 5 / 2), in_syll = i % (RATE / 4);
    float env = (in_phrase < RATE * 2 && in_syll < RATE * 3 / 20) ?
        sinf ((float) G_PI * in_syll / (RATE * 3 / 20)) : 0.0f;
    lp = 0.7f * lp + 0.3f * noise (&s);       /* low-passed: voiced-ish */
    x[i] += a * env * lp;
  }
}

int
main (void)
{
  const size_t n = 30 * RATE;
  float *x = g_new0 (float, n);
  guint32 s = 7;

  expect ("digital silence", x, n, FALSE);

  /* uniform noise in [-v, v] has RMS v / sqrt 3 */
  for (size_t i = 0; i < n; i++)
    x[i] = 0.01f * sqrtf (3.0f) * noise (&s);
  expect ("white noise, -40 dBFS RMS", x, n, FALSE);
  for (size_t i = 0; i < n; i++)
    x[i] *= 10.0f;
  expect ("white noise, -20 dBFS RMS", x, n, FALSE);

  for (size_t i = 0; i < n; i++) {
    double t = (double) i / RATE;
    x[i] = (float) (0.1 * sin (2 * G_PI * 50 * t) + 0.03 * sin (2 * G_PI *
            150 * t) + 0.01 * sin (2 * G_PI * 250 * t));
  }
  expect ("50 Hz hum with harmonics", x, n, FALSE);

  {
    /* brown-ish noise: integrated white noise, leaky */
    float b = 0.0f;
    for (size_t i = 0; i < n; i++) {
      b = 0.98f * b + 0.05f * noise (&s);
      x[i] = b;
    }
    expect ("red noise", x, n, FALSE);
  }

  for (size_t i = 0; i < n; i++)
    x[i] = 0.0f;
  add_bursts (x, n, 0.3f, 11);
  expect ("syllable bursts in silence", x, n, TRUE);

  /* 0 dB: hiss as loud (RMS) as the bursts */
  {
    double e = 0.0;
    for (size_t i = 0; i < n; i++)
      e += (double) x[i] * x[i];
    float v = (float) sqrt (e / n) * sqrtf (3.0f);
    for (size_t i = 0; i < n; i++)
      x[i] += v * noise (&s);
    expect ("syllable bursts under white noise, 0 dB SNR", x, n, TRUE);
  }

  /* one 300 ms word in 30 s of hiss at -50 dBFS */
  for (size_t i = 0; i < n; i++)
    x[i] = 0.00316f * sqrtf (3.0f) * noise (&s);
  for (size_t i = 10 * RATE; i < 10 * RATE + RATE * 3 / 10; i++)
    x[i] += 0.2f * sinf ((float) G_PI * (i - 10 * RATE) / (RATE * 3 / 10.0f))
        * noise (&s);
  expect ("one 300 ms burst in 30 s of hiss", x, n, TRUE);

  /* a 1.5 s window with no pause at all */
  for (size_t i = 0; i < n; i++)
    x[i] = 0.0f;
  add_bursts (x, RATE * 3 / 2, 0.3f, 13);
  expect ("1.5 s of bursts, no pause", x, RATE * 3 / 2, TRUE);

  /* no frames: no speech, no crash */
  {
    whisper_speech_gate *gate = whisper_speech_gate_new (128);
    float c = whisper_speech_gate_contrast (gate, NULL, 0);
    printf ("%-44s contrast %5.1f dB\n", "no frames", c);
    if (c != 0.0f)
      n_fail++;
    whisper_speech_gate_free (gate);
  }

  g_free (x);
  printf ("%s\n", n_fail ? "FAILED" : "all passed");
  return n_fail ? 1 : 0;
}
