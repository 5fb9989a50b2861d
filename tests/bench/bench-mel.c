/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Log-mel front-end throughput, engine only, one thread.
 *
 *   bench-mel [seconds of audio = 3600] [n_mels = 80]
 *
 * Streams a deterministic speech-like signal (60 s, repeated) through
 * whisper_mel_push_f32 in 4096-sample blocks, finishes the stream, and
 * prints the speed as a multiple of real time.  Target: >= 2000x.
 * Exits non-zero if the frame count is wrong or an output is not finite.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "mel.h"

#define BLOCK 4096

int
main (int argc, char **argv)
{
  double seconds = argc > 1 ? atof (argv[1]) : 3600.0;
  int n_mels = argc > 2 ? atoi (argv[2]) : 80;
  const size_t n_src = 60 * WHISPER_SAMPLE_RATE;
  uint64_t n_total = (uint64_t) (seconds * WHISPER_SAMPLE_RATE);
  uint64_t n_done = 0, n_frames = 0;
  GError *err = NULL;
  whisper_mel *mel;
  float *src, *out;
  double sum = 0.0, t0, t1;
  guint32 rng = 1;
  size_t i, k;

  if (seconds <= 0) {
    fprintf (stderr, "usage: %s [seconds] [n_mels]\n", argv[0]);
    return 2;
  }
  mel = whisper_mel_new (n_mels, &err);
  if (!mel) {
    fprintf (stderr, "bench-mel: %s\n", err->message);
    g_error_free (err);
    return 1;
  }

  /* gliding tones with a syllable-rate envelope plus noise */
  src = g_new (float, n_src);
  for (i = 0; i < n_src; i++) {
    double t = (double) i / WHISPER_SAMPLE_RATE;
    double env = 0.5 + 0.5 * sin (2 * G_PI * 3.0 * t);
    double f = 180.0 + 90.0 * sin (2 * G_PI * 0.3 * t);
    rng = rng * 1664525u + 1013904223u;
    src[i] = (float) (0.3 * env * sin (2 * G_PI * f * t)
        + 0.05 * ((double) (rng >> 8) / (1 << 24) - 0.5));
  }
  out = g_new (float, (size_t) (BLOCK / WHISPER_HOP_LENGTH + 2) * n_mels);

  t0 = g_get_monotonic_time () / 1e6;
  while (n_done < n_total) {
    size_t off = (size_t) (n_done % n_src);
    size_t n = (size_t) MIN ((uint64_t) BLOCK, n_total - n_done);
    size_t nf;
    n = MIN (n, n_src - off);
    nf = whisper_mel_push_f32 (mel, src + off, n, out, NULL);
    for (k = 0; k < nf * (size_t) n_mels; k += n_mels)
      sum += out[k];
    n_frames += nf;
    n_done += n;
  }
  n_frames += whisper_mel_finish (mel, out);
  t1 = g_get_monotonic_time () / 1e6;

  printf ("mel: %.0f s of audio, %d mel bins, %" G_GUINT64_FORMAT
      " frames in %.3f s: %.0fx real time (%.2f us/frame, 1 thread)\n",
      seconds, n_mels, n_frames, t1 - t0, seconds / (t1 - t0),
      1e6 * (t1 - t0) / (double) n_frames);

  g_free (src);
  g_free (out);
  whisper_mel_free (mel);
  if (n_frames != n_total / WHISPER_HOP_LENGTH || !isfinite (sum)) {
    fprintf (stderr, "bench-mel: wrong frame count or non-finite output\n");
    return 1;
  }
  return 0;
}
