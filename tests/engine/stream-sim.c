/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stream-sim: the streaming policy of docs/streaming.md on a recording
 * played as if live, on a simulated clock (the engine only, no GStreamer).
 *
 *   stream-sim MODEL PCM.f32 [--step MS] [--latency MS] [--beam N]
 *       [--threads N] [--compute-type T]
 *
 * Audio "arrives" in real time.  Each step encodes the window from where
 * the previous step said to the end of what has arrived and decodes it
 * with whisper_stream_decode (LocalAgreement-2 and the latency bound),
 * greedy after a step that took longer than a step (as whisperdec).  The next step starts when --step
 * more audio has arrived, or when the work is done if that is later (the
 * clock advances by the measured compute time).  At the end of the audio
 * the rest is decoded as final.
 *
 * Prints "commit WALL T0 T1|word|" per committed word (WALL: simulated
 * seconds since the start of the audio when the word became final; T0, T1:
 * its frames), "partial WALL START FRAMES|text|" after each step (the
 * window and the tentative words), and a last line "steps N passes P
 * compute S". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mel.h"
#include "whisper-model.h"
#include "whisper.h"

static int
usage (const char *argv0)
{
  fprintf (stderr, "usage: %s MODEL PCM.f32 [--step MS] [--latency MS] "
      "[--beam N] [--threads N] [--compute-type T]\n", argv0);
  return 2;
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    return usage (argv[0]);
  int step_ms = 1000, latency_ms = 3000;
  whisper_decode_params p = whisper_decode_params_default ();
  whisper_encoder_params ep = whisper_encoder_default_params ();
  for (int i = 3; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v)
      return usage (argv[0]);
    if (!strcmp (argv[i], "--step"))
      step_ms = atoi (v);
    else if (!strcmp (argv[i], "--latency"))
      latency_ms = atoi (v);
    else if (!strcmp (argv[i], "--beam"))
      p.beam_size = atoi (v);
    else if (!strcmp (argv[i], "--threads"))
      p.n_threads = ep.n_threads = atoi (v);
    else if (!strcmp (argv[i], "--compute-type")) {
      if (!whisper_compute_type_from_name (v, &p.compute_type))
        return usage (argv[0]);
      ep.compute_type = p.compute_type;
    } else
      return usage (argv[0]);
    i++;
  }
  if (step_ms < 10 || latency_ms < step_ms)
    return usage (argv[0]);
  p.word_timestamps = 1;
  p.hold_text = 1;

  GError *err = NULL;
  gchar *data = NULL;
  gsize len = 0;
  whisper_model *model = whisper_model_load (argv[1], &err);
  if (!model || !g_file_get_contents (argv[2], &data, &len, &err)) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  const int M = model->hp.n_mels, A = model->hp.n_audio_ctx;
  const int C = model->hp.n_audio_state;
  const size_t n_samples = len / sizeof (float);
  whisper_mel *mel = whisper_mel_new (M, &err);
  whisper_encoder *enc = mel ? whisper_encoder_new (model, &ep, &err) : NULL;
  whisper_decoder *dec = enc ? whisper_decoder_new (model, &err) : NULL;
  if (!dec) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  float *frames = g_new0 (float, (n_samples / WHISPER_HOP_LENGTH + 1) * M);
  const int64_t n_frames = whisper_mel_compute (mel, (const float *) data,
      n_samples, frames);
  float *xa = g_new (float, (size_t) A * C);
  whisper_stream *stream = whisper_stream_new (dec);

  const int64_t step = step_ms / 10, latency = latency_ms / 10;
  int64_t start = 0, now = MIN (step, n_frames);
  double wall = now / 100.0, compute = 0.0, last_cost = 0.0;
  int n_steps = 0, n_passes = 0, rc = 0;
  for (;;) {
    const gboolean final = now >= n_frames;
    const int n_real = (int) MIN (now - start, WHISPER_WINDOW_FRAMES);
    const int64_t force = whisper_stream_force_frame (now, step, latency,
        (int64_t) (last_cost * 100));
    /* falling behind (a step took longer than a step): greedy, as
     * whisperdec does */
    whisper_decode_params sp = p;
    if (last_cost * 1000 > step_ms)
      sp.beam_size = 1;
    const gint64 t0 = g_get_monotonic_time ();
    whisper_stream_step st;
    if (!whisper_encoder_encode_window (enc, frames + start * M, n_real, xa,
            &err) || !whisper_stream_decode (stream, &sp, xa, start, n_real,
            force, final, &st, &err)) {
      fprintf (stderr, "%s\n", err->message);
      rc = 1;
      break;
    }
    const double cost = (g_get_monotonic_time () - t0) / 1e6;
    compute += cost;
    last_cost = cost;
    wall += cost;
    n_steps++;
    n_passes += st.n_passes;
    for (int i = 0; i < st.n_words; i++)
      printf ("commit %.3f %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "|%s|\n",
          wall, st.words[i].t0_frame, st.words[i].t1_frame, st.words[i].text);
    printf ("partial %.3f %" G_GINT64_FORMAT " %d|", wall, start, n_real);
    for (int i = 0; i < st.n_tentative; i++)
      printf ("%s", st.tentative[i].text);
    printf ("|\n");
    start = st.next_start;
    whisper_stream_step_clear (&st);
    if (final && start >= n_frames)
      break;
    /* the audio that has arrived when the next step may start */
    now = final ? n_frames : MIN (n_frames, MAX (now + step,
            (int64_t) (wall * 100)));
    wall = MAX (wall, now / 100.0);
  }
  printf ("steps %d passes %d compute %.2f\n", n_steps, n_passes, compute);
  whisper_stream_free (stream);
  g_free (xa);
  g_free (frames);
  g_free (data);
  whisper_decoder_free (dec);
  whisper_encoder_free (enc);
  whisper_mel_free (mel);
  whisper_model_free (model);
  return rc;
}
