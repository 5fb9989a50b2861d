/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-window-cost: seconds of work per 30 s window, speech beside
 * non-speech (issue 13, "Bounded work per window"; docs/decoder.md).
 *
 *   bench-window-cost MODEL [options] [NAME=SPEECH.f32 ...]
 *     NAME=SPEECH.f32  16 kHz mono float32 samples: the first 30 s (or all
 *                      of a shorter file) is one speech window
 *     --threads N      encoder and decoder threads (0: all cores)
 *     --beam N         beam size (default 5, the element's default)
 *     --unbounded      bounded_work 0 and no time cap (openai's ladder)
 *     --only NAME      run the signals whose name starts with NAME
 *
 * The signals, made here, 30 s each unless named otherwise: digital
 * silence; white and pink noise at -50 and -20 dBFS (RMS); a DC offset of
 * 0.5, and 3 s of it; 50 Hz hum with harmonics; a music-like signal (three-
 * note chords of harmonic tones, a new chord every 0.5 s, with decays).
 *
 * Every window goes through the engine the way the elements run it
 * (whisper_mel, whisper_encoder_encode_window, whisper_decoder_decode_window
 * with the default decode params), decoded as a stream's first window; the
 * speech gate of whisperencnpu is NOT applied, so this is the decoder's own
 * worst case.  One line per window:
 *   window NAME audio A s: encode E s, decode D s, P passes, S steps,
 *     N segments "TEXT"
 * then the slowest speech and non-speech decode, in wall time ("ratio"),
 * CPU time of the process ("cpu-ratio": steadier on a shared machine) and
 * decoding steps ("steps-ratio"); the bound is 2.  Exit status 0 unless a
 * step failed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "whisper.h"

#define SR WHISPER_SAMPLE_RATE
#define WINDOW_SAMPLES (30 * SR)

typedef struct {
  char *name;
  float *samples;
  size_t n;
  gboolean speech;
} signal_t;

/* CPU seconds of the process (every thread): steadier than wall time on
 * a machine shared with other work */
static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6
      + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

/* xorshift64*: the noise is the same on every run */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double
uniform (void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return ((rng_state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

static double
gauss (void)
{
  double u = uniform (), v = uniform ();
  return sqrt (-2.0 * log (u + 1e-300)) * cos (2.0 * G_PI * v);
}

/* scale x [n] to an RMS of @dbfs (0 dBFS: RMS 1) */
static void
set_rms (float *x, size_t n, double dbfs)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double) x[i] * x[i];
  double g = pow (10.0, dbfs / 20.0) / sqrt (s / n + 1e-30);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) (x[i] * g);
}

static signal_t
make (const char *name, size_t n)
{
  signal_t s = { g_strdup (name), g_new0 (float, n), n, FALSE };
  return s;
}

static signal_t
white (const char *name, double dbfs)
{
  signal_t s = make (name, WINDOW_SAMPLES);
  for (size_t i = 0; i < s.n; i++)
    s.samples[i] = (float) gauss ();
  set_rms (s.samples, s.n, dbfs);
  return s;
}

/* Paul Kellet's refined pink noise filter over white noise */
static signal_t
pink (const char *name, double dbfs)
{
  signal_t s = make (name, WINDOW_SAMPLES);
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  for (size_t i = 0; i < s.n; i++) {
    double w = gauss ();
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.96900 * b2 + w * 0.1538520;
    b3 = 0.86650 * b3 + w * 0.3104856;
    b4 = 0.55000 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.0168980;
    s.samples[i] = (float) (b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362);
    b6 = w * 0.115926;
  }
  set_rms (s.samples, s.n, dbfs);
  return s;
}

static signal_t
dc (const char *name, double seconds, float value)
{
  signal_t s = make (name, (size_t) (seconds * SR));
  for (size_t i = 0; i < s.n; i++)
    s.samples[i] = value;
  return s;
}

static signal_t
hum (const char *name)
{
  signal_t s = make (name, WINDOW_SAMPLES);
  for (size_t i = 0; i < s.n; i++) {
    double t = (double) i / SR, v = 0;
    for (int h = 1; h <= 5; h++)
      v += sin (2 * G_PI * 50.0 * h * t) / h;
    s.samples[i] = (float) (0.1 * v);
  }
  return s;
}

/* chords of three harmonic tones from a pentatonic scale, one every
 * 0.5 s, each note decaying */
static signal_t
music (const char *name)
{
  static const int scale[] = { 0, 2, 4, 7, 9, 12, 14, 16, 19, 21 };
  signal_t s = make (name, WINDOW_SAMPLES);
  const size_t step = SR / 2;
  for (size_t c = 0; c * step < s.n; c++) {
    double f[3];
    for (int k = 0; k < 3; k++)
      f[k] = 220.0 * pow (2.0, scale[(int) (uniform () * 10)] / 12.0);
    for (size_t i = 0; i < step && c * step + i < s.n; i++) {
      double t = (double) i / SR, v = 0;
      for (int k = 0; k < 3; k++)
        for (int h = 1; h <= 4; h++)
          v += sin (2 * G_PI * f[k] * h * t) / (h * h);
      s.samples[c * step + i] = (float) (0.1 * v * exp (-3.0 * t));
    }
  }
  return s;
}

static gboolean
load_speech (const char *arg, signal_t * s)
{
  const char *eq = strchr (arg, '=');
  gchar *data = NULL;
  gsize len = 0;
  if (!eq || !g_file_get_contents (eq + 1, &data, &len, NULL))
    return FALSE;
  s->name = g_strndup (arg, eq - arg);
  s->n = MIN (len / sizeof (float), (gsize) WINDOW_SAMPLES);
  s->samples = g_memdup2 (data, s->n * sizeof (float));
  s->speech = TRUE;
  g_free (data);
  return s->n > 0;
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  int threads = 0, beam = 5;
  gboolean unbounded = FALSE;
  const char *only = NULL;
  GArray *sigs = g_array_new (FALSE, FALSE, sizeof (signal_t));

  if (argc < 2) {
    fprintf (stderr, "usage: %s MODEL [--threads N] [--beam N] "
        "[--unbounded] [--only NAME] [NAME=SPEECH.f32 ...]\n", argv[0]);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (!strcmp (argv[i], "--threads") && i + 1 < argc)
      threads = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--beam") && i + 1 < argc)
      beam = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--unbounded"))
      unbounded = TRUE;
    else if (!strcmp (argv[i], "--only") && i + 1 < argc)
      only = argv[++i];
    else {
      signal_t s;
      if (!load_speech (argv[i], &s)) {
        fprintf (stderr, "cannot read speech %s (NAME=FILE.f32)\n", argv[i]);
        return 2;
      }
      g_array_append_val (sigs, s);
    }
  }
  signal_t made[] = {
    make ("silence", WINDOW_SAMPLES),
    white ("white-50dbfs", -50), white ("white-20dbfs", -20),
    pink ("pink-50dbfs", -50), pink ("pink-20dbfs", -20),
    dc ("dc-0.5", 30, 0.5f), dc ("dc-0.5-3s", 3, 0.5f),
    hum ("hum-50hz"), music ("music-tones"),
  };
  g_array_append_vals (sigs, made, G_N_ELEMENTS (made));

  whisper_model *model = whisper_model_registry_acquire (argv[1], &err);
  if (!model) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  whisper_model_info info = whisper_model_get_info (model);
  whisper_mel *mel = whisper_mel_new (info.n_mels, &err);
  whisper_encoder_params ep = whisper_encoder_default_params ();
  ep.n_threads = threads;
  whisper_encoder *enc = mel ? whisper_encoder_new (model, &ep, &err) : NULL;
  whisper_decoder *dec = enc ? whisper_decoder_new (model, &err) : NULL;
  if (!dec) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  whisper_decode_params dp = whisper_decode_params_default ();
  dp.beam_size = beam;
  dp.n_threads = threads;
  if (unbounded) {
    dp.bounded_work = 0;
    dp.max_window_time = 0;
  }
  printf ("model %s, beam %d, threads %d, %s\n", info.path, beam,
      whisper_encoder_get_n_threads (enc), unbounded ? "unbounded (openai)" :
      "bounded work (defaults)");

  float *frames = g_new (float, (size_t) (WINDOW_SAMPLES / 160 + 2) *
      info.n_mels);
  float *xa = g_new (float, (size_t) info.n_audio_ctx * info.n_audio_state);
  double worst[2] = { 0, 0 }, worst_cpu[2] = { 0, 0 };
  int worst_steps[2] = { 0, 0 };
  const char *worst_name = "-", *worst_cpu_name = "-";
  for (guint i = 0; i < sigs->len; i++) {
    signal_t *s = &g_array_index (sigs, signal_t, i);
    if (only && !g_str_has_prefix (s->name, only))
      continue;
    size_t nf = whisper_mel_compute (mel, s->samples, s->n, frames);
    nf = MIN (nf, (size_t) WHISPER_WINDOW_FRAMES);
    gint64 t0 = g_get_monotonic_time ();
    if (!whisper_encoder_encode_window (enc, frames, (int) nf, xa, &err)) {
      fprintf (stderr, "%s: %s\n", s->name, err->message);
      return 1;
    }
    gint64 t1 = g_get_monotonic_time ();
    whisper_window_result res = { 0 };
    whisper_decoder_reset (dec);
    double c1 = cpu_seconds ();
    if (!whisper_decoder_decode_window (dec, &dp, xa, 0, (int) nf, &res,
            &err)) {
      fprintf (stderr, "%s: %s\n", s->name, err->message);
      return 1;
    }
    gint64 t2 = g_get_monotonic_time ();
    double td = (t2 - t1) / 1e6, cd = cpu_seconds () - c1;
    GString *text = g_string_new (NULL);
    for (int k = 0; k < res.n_segments; k++)
      g_string_append (text, res.segments[k].text);
    if (text->len > 70)
      g_string_truncate (text, 70);
    printf ("window %-14s audio %5.2f s: encode %5.2f s, decode %6.2f s "
        "(%6.2f s CPU), %d passes, %3d steps, %d segments%s \"%s\"\n",
        s->name, (double) s->n / SR, (t1 - t0) / 1e6, td, cd, res.n_passes,
        res.n_steps,
        res.n_segments, res.no_speech ?
        " (no speech)" : "", text->str);
    fflush (stdout);
    g_string_free (text, TRUE);
    const int steps = res.n_steps;
    whisper_window_result_clear (&res);
    if (td > worst[s->speech ? 1 : 0]) {
      worst[s->speech ? 1 : 0] = td;
      if (!s->speech)
        worst_name = s->name;
    }
    if (cd > worst_cpu[s->speech ? 1 : 0]) {
      worst_cpu[s->speech ? 1 : 0] = cd;
      if (!s->speech)
        worst_cpu_name = s->name;
    }
    if (steps > worst_steps[s->speech ? 1 : 0])
      worst_steps[s->speech ? 1 : 0] = steps;
  }
  if (worst[1] > 0) {
    printf ("slowest speech %.2f s, slowest other %.2f s (%s), ratio %.2f\n",
        worst[1], worst[0], worst_name, worst[0] / worst[1]);
    printf ("CPU: slowest speech %.2f s, slowest other %.2f s (%s), "
        "cpu-ratio %.2f\n", worst_cpu[1], worst_cpu[0], worst_cpu_name,
        worst_cpu[0] / worst_cpu[1]);
    printf ("steps: most in speech %d, in other %d, steps-ratio %.2f\n",
        worst_steps[1], worst_steps[0],
        (double) worst_steps[0] / worst_steps[1]);
  }

  for (guint i = 0; i < sigs->len; i++) {
    g_free (g_array_index (sigs, signal_t, i).name);
    g_free (g_array_index (sigs, signal_t, i).samples);
  }
  g_array_free (sigs, TRUE);
  g_free (frames);
  g_free (xa);
  whisper_decoder_free (dec);
  whisper_encoder_free (enc);
  whisper_mel_free (mel);
  whisper_model_registry_release (model);
  return 0;
}
