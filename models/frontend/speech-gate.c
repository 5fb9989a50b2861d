/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Speech gate: does a stretch of log-mel frames hold anything but silence
 * or stationary noise?
 *
 * Whisper decodes silence and steady noise into confident text ("You"),
 * which its own no-speech rule lets through.  The gate looks at the audio
 * instead of at the decoder's guess: speech comes and goes (syllables,
 * pauses), so the energy of some band rises well above that band's floor;
 * digital silence, hiss and mains hum stay flat.
 *
 * Per group of neighbouring mel bands (8 groups), the energy of each frame
 * is smoothed over 50 ms; the window's "contrast" is the largest rise, over
 * the groups, of the smoothed energy's peak (the level held for 100 ms)
 * above the band floor (the 10th percentile of the window's levels).  The
 * levels are clamped 80 dB below the window's maximum, as Whisper's
 * normalisation clamps them.  Speech is never flat
 * in every group at once (vowels are low-band, fricatives high-band,
 * closures silent), so its contrast is high even without pauses.  A window
 * is speech when its contrast reaches the threshold (docs/speech-gate.md
 * gives the measured margins).
 *
 * The gate holds only scratch memory: one per thread; no GStreamer.
 */
#include "whisper.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_GROUPS 8
/* centred moving average of 5 frames (50 ms) of linear power: a syllable
 * lasts longer, while the frame-to-frame scatter of noise drops by half */
#define SMOOTH_HALF 2
/* the floor: a low percentile, robust to a few dropouts */
#define FLOOR_PERCENTILE 0.10
/* the peak: the level held for 100 ms (the 10th highest frame), so that a
 * click (or the reflection at the start or end of a stream) is no peak,
 * while the shortest word is longer */
#define PEAK_RANK 10

struct whisper_speech_gate
{
  int n_mels;
  float *power;                 /* [n_frames] scratch: one group's power */
  float *level;                 /* [n_frames] scratch: smoothed, dB */
  int n_alloc;
};

whisper_speech_gate *
whisper_speech_gate_new (int n_mels)
{
  whisper_speech_gate *g = g_new0 (whisper_speech_gate, 1);

  g->n_mels = n_mels;
  return g;
}

void
whisper_speech_gate_free (whisper_speech_gate * g)
{
  if (!g)
    return;
  g_free (g->power);
  g_free (g->level);
  g_free (g);
}

static int
compare_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

float
whisper_speech_gate_contrast (whisper_speech_gate * g, const float *frames,
    int n_frames)
{
  const int M = g->n_mels;
  float contrast = 0.0f;

  if (n_frames <= 0)
    return 0.0f;
  if (n_frames > g->n_alloc) {
    g->power = g_renew (float, g->power, n_frames);
    g->level = g_renew (float, g->level, n_frames);
    g->n_alloc = n_frames;
  }

  /* what the encoder cannot see does not count: Whisper's normalisation
   * clamps every value at the window's maximum - 8 (80 dB below), which
   * also hides the rounding noise in the empty bands of a pure tone */
  float x_max = -INFINITY;
  for (size_t i = 0; i < (size_t) n_frames * M; i++)
    x_max = MAX (x_max, frames[i]);
  const float x_min = x_max - 8.0f;

  for (int grp = 0; grp < N_GROUPS; grp++) {
    const int m0 = grp * M / N_GROUPS, m1 = (grp + 1) * M / N_GROUPS;

    /* the group's power per frame: the mel values are log10 power */
    for (int t = 0; t < n_frames; t++) {
      double p = 0.0;
      for (int m = m0; m < m1; m++)
        p += pow (10.0, MAX (frames[(size_t) t * M + m], x_min));
      g->power[t] = (float) p;
    }

    /* smoothed level in dB */
    for (int t = 0; t < n_frames; t++) {
      int a = MAX (0, t - SMOOTH_HALF), b = MIN (n_frames - 1, t + SMOOTH_HALF);
      double sum = 0.0;
      for (int k = a; k <= b; k++)
        sum += g->power[k];
      g->level[t] = (float) (10.0 * log10 (sum / (b - a + 1)));
    }

    /* peak and floor: ranks of the window's levels */
    qsort (g->level, n_frames, sizeof (float), compare_float);
    float peak = g->level[MAX (0, n_frames - PEAK_RANK)];
    float floor_db = g->level[(int) (FLOOR_PERCENTILE * (n_frames - 1))];

    contrast = MAX (contrast, peak - floor_db);
  }
  return contrast;
}
