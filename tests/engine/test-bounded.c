/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded and interruptible decoding (issue 13; docs/decoder.md,
 * "Bounded work" and "Cancelling").
 *
 * Without a model: whisper_search_tail_repeats on hand-made sequences.
 * With tiny.en (skipped without it):
 *   - the abort callback: an encode polled per big product and a decode
 *     polled every token both return WHISPER_ERROR_CANCELLED when it says
 *     stop, and the objects decode normally afterwards;
 *   - non-speech (DC, white noise, 50 Hz hum, tones: the encoder's speech
 *     gate bypassed) never runs every temperature to the token cap, and
 *     stays within the window's token budget; with a spent time cap
 *     (max_window_time) only the first pass runs;
 *   - speech (the AMI excerpt of ../shared) decodes to the same text and
 *     the same number of steps with the bounds on as with openai's
 *     unbounded ladder.
 * Exit status 0, 1 on a failure, 77 when nothing model-based could run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "speech-frames.h"
#include "whisper.h"

static int failures = 0;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; \
      fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf (stderr, __VA_ARGS__); fprintf (stderr, "\n"); } } while (0)

/* ---------------------------------------------------------------------- */

static void
test_tail_repeats (void)
{
  const int TS = 50000;         /* timestamp_begin */
  int seq[300];

  /* " -" 40 times: period 1 */
  for (int i = 0; i < 40; i++)
    seq[i] = 12;
  CHECK (whisper_search_tail_repeats (seq, 40, TS), "period 1 over 40");
  CHECK (!whisper_search_tail_repeats (seq, 20, TS), "period 1 over 20 "
      "(too short to call a loop)");

  /* a 4-token phrase 10 times after 15 distinct tokens */
  int n = 0;
  for (int i = 0; i < 15; i++)
    seq[n++] = 100 + i;
  for (int r = 0; r < 10; r++)
    for (int k = 0; k < 4; k++)
      seq[n++] = 200 + k;
  CHECK (whisper_search_tail_repeats (seq, n, TS), "period 4 x 10");

  /* the same with a timestamp pair after every phrase (skipped) */
  n = 0;
  for (int r = 0; r < 10; r++) {
    seq[n++] = TS + 2 * r;
    for (int k = 0; k < 4; k++)
      seq[n++] = 200 + k;
    seq[n++] = TS + 2 * r + 1;
  }
  CHECK (whisper_search_tail_repeats (seq, n, TS), "period 4 with "
      "timestamps");

  /* a 20-token sentence said twice: no loop (needs three times) */
  n = 0;
  for (int r = 0; r < 2; r++)
    for (int k = 0; k < 20; k++)
      seq[n++] = 300 + k;
  CHECK (!whisper_search_tail_repeats (seq, n, TS), "a sentence twice");
  /* ... three times: a loop */
  for (int k = 0; k < 20; k++)
    seq[n++] = 300 + k;
  CHECK (whisper_search_tail_repeats (seq, n, TS), "a sentence 3 times");

  /* text that does not repeat, and "no, no, no" in it */
  n = 0;
  for (int i = 0; i < 200; i++)
    seq[n++] = (i * 7919) % 5000;
  for (int r = 0; r < 3; r++) {
    seq[n++] = 7;
    seq[n++] = 8;
  }
  CHECK (!whisper_search_tail_repeats (seq, n, TS), "ordinary text");
}

/* ---------------------------------------------------------------------- */

typedef struct {
  int calls;
  int stop_after;               /* TRUE from this call on; < 0: never */
} Abort;

static gboolean
abort_cb (void *data)
{
  Abort *a = data;
  a->calls++;
  return a->stop_after >= 0 && a->calls > a->stop_after;
}

static float *
signal_frames (whisper_mel * mel, const char *kind, int *n_frames)
{
  const int n = 30 * WHISPER_SAMPLE_RATE;
  float *x = g_new0 (float, n);
  uint64_t s = 12345;
  for (int i = 0; i < n; i++) {
    double t = (double) i / WHISPER_SAMPLE_RATE;
    if (!strcmp (kind, "dc"))
      x[i] = 0.5f;
    else if (!strcmp (kind, "white")) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      x[i] = 0.1f * (((s >> 40) / 16777216.0f) - 0.5f);
    } else if (!strcmp (kind, "hum"))
      x[i] = (float) (0.1 * sin (2 * G_PI * 50 * t)
          + 0.05 * sin (2 * G_PI * 100 * t));
    else                        /* tones: a new chord every half second */
      x[i] = (float) (0.05 * (sin (2 * G_PI * (220 + 55 * ((i / 8000) % 5))
                  * t) + sin (2 * G_PI * 330 * t) + sin (2 * G_PI * 440 * t))
          * exp (-3.0 * fmod (t, 0.5)));
  }
  float *frames = g_new (float, (size_t) (n / 160 + 2) *
      whisper_mel_get_n_mels (mel));
  size_t nf = whisper_mel_compute (mel, x, n, frames);
  g_free (x);
  *n_frames = (int) MIN (nf, (size_t) WHISPER_WINDOW_FRAMES);
  return frames;
}

static void
join_text (const whisper_window_result * r, GString * out)
{
  g_string_truncate (out, 0);
  for (int i = 0; i < r->n_segments; i++)
    g_string_append (out, r->segments[i].text);
}

static int
test_model (const char *path)
{
  GError *err = NULL;
  whisper_model *model = whisper_model_registry_acquire (path, &err);
  if (!model) {
    printf ("SKIP model tests: %s\n", err->message);
    g_clear_error (&err);
    return 77;
  }
  whisper_model_info info = whisper_model_get_info (model);
  Abort ea = { 0, -1 };
  whisper_encoder_params ep = whisper_encoder_default_params ();
  ep.backend = WHISPER_BACKEND_CPU;
  ep.abort_callback = abort_cb;
  ep.abort_callback_user_data = &ea;
  whisper_mel *mel = whisper_mel_new (info.n_mels, &err);
  whisper_encoder *enc = whisper_encoder_new (model, &ep, &err);
  whisper_decoder *dec = whisper_decoder_new (model, &err);
  g_assert (mel && enc && dec);
  float *xa = g_new (float, (size_t) info.n_audio_ctx * info.n_audio_state);
  GString *text = g_string_new (NULL), *text2 = g_string_new (NULL);
  whisper_window_result r = { 0 };
  int nf;

  /* ---- the encoder's abort callback ---- */
  float *frames = signal_frames (mel, "white", &nf);
  CHECK (whisper_encoder_encode_window (enc, frames, nf, xa, &err),
      "encode: %s", err ? err->message : "");
  g_clear_error (&err);
  int polls = ea.calls;
  printf ("encoder: %d polls per window\n", polls);
  CHECK (polls >= 4, "the encoder polls per product (%d polls)", polls);
  ea.calls = 0;
  ea.stop_after = 2;
  CHECK (!whisper_encoder_encode_window (enc, frames, nf, xa, &err)
      && g_error_matches (err, WHISPER_ERROR, WHISPER_ERROR_CANCELLED),
      "a cancelled encode fails with CANCELLED");
  g_clear_error (&err);
  CHECK (ea.calls == 3, "the encode stopped at the first poll that said "
      "so (%d polls)", ea.calls);
  ea.stop_after = -1;
  CHECK (whisper_encoder_encode_window (enc, frames, nf, xa, &err),
      "encode after a cancel");
  g_clear_error (&err);

  /* ---- the decoder's ---- */
  Abort da = { 0, -1 };
  whisper_decode_params dp = whisper_decode_params_default ();
  dp.abort_callback = abort_cb;
  dp.abort_callback_user_data = &da;
  CHECK (whisper_decoder_decode_window (dec, &dp, xa, 0, nf, &r, &err),
      "decode: %s", err ? err->message : "");
  g_clear_error (&err);
  printf ("decoder: %d polls for %d passes, %d steps\n", da.calls,
      r.n_passes, r.n_steps);
  CHECK (da.calls >= r.n_steps, "polled every token (%d polls, %d steps)",
      da.calls, r.n_steps);
  whisper_window_result_clear (&r);
  da.calls = 0;
  da.stop_after = 12;
  whisper_decoder_reset (dec);
  CHECK (!whisper_decoder_decode_window (dec, &dp, xa, 0, nf, &r, &err)
      && g_error_matches (err, WHISPER_ERROR, WHISPER_ERROR_CANCELLED),
      "a cancelled decode fails with CANCELLED");
  g_clear_error (&err);
  CHECK (da.calls == 13, "the decode stopped at once (%d polls)", da.calls);
  CHECK (r.n_segments == 0 && r.segments == NULL && r.language == NULL,
      "no result from a cancelled decode");
  whisper_window_result_clear (&r);
  g_free (frames);

  /* ---- non-speech: within the budget, never the cap at every T ---- */
  const char *kinds[] = { "dc", "white", "hum", "tones" };
  const int cap = info.n_text_ctx / 2;
  dp.abort_callback = NULL;
  for (unsigned k = 0; k < G_N_ELEMENTS (kinds); k++) {
    frames = signal_frames (mel, kinds[k], &nf);
    CHECK (whisper_encoder_encode_window (enc, frames, nf, xa, &err), "enc");
    g_clear_error (&err);
    whisper_decoder_reset (dec);
    CHECK (whisper_decoder_decode_window (dec, &dp, xa, 0, nf, &r, &err),
        "decode %s", kinds[k]);
    g_clear_error (&err);
    join_text (&r, text);
    printf ("%-6s %d passes, %3d steps, %d segments \"%s\"\n", kinds[k],
        r.n_passes, r.n_steps, r.n_segments, text->str);
    CHECK (r.n_steps <= 3 * cap / 2, "%s: %d steps, above the window's "
        "budget of %d", kinds[k], r.n_steps, 3 * cap / 2);
    CHECK (r.n_steps < r.n_passes * cap, "%s: every pass ran to the cap",
        kinds[k]);
    int passes = r.n_passes;
    whisper_window_result_clear (&r);
    if (passes > 1) {
      /* the time cap: no fallback once it is spent, the first pass whole */
      whisper_decode_params tp = dp;
      tp.max_window_time = 1e-6;
      whisper_decoder_reset (dec);
      CHECK (whisper_decoder_decode_window (dec, &tp, xa, 0, nf, &r, &err),
          "decode %s with a time cap", kinds[k]);
      g_clear_error (&err);
      printf ("%-6s max_window_time 1 us: %d passes, %d steps\n", kinds[k],
          r.n_passes, r.n_steps);
      CHECK (r.n_passes == 1, "%s: %d passes past the time cap", kinds[k],
          r.n_passes);
      whisper_window_result_clear (&r);
    }
    g_free (frames);
  }

  /* ---- speech: the bounds change nothing ---- */
  frames = speech_frames (info.n_mels, &nf);
  if (!frames) {
    printf ("SKIP speech: no ../shared AMI excerpt\n");
  } else {
    whisper_decode_params up = whisper_decode_params_default ();
    up.bounded_work = 0;
    up.max_window_time = 0;
    whisper_window_result r2 = { 0 };
    CHECK (whisper_encoder_encode_window (enc, frames, nf, xa, &err), "enc");
    whisper_decoder_reset (dec);
    CHECK (whisper_decoder_decode_window (dec, &dp, xa, 0, nf, &r, &err),
        "decode speech");
    whisper_decoder_reset (dec);
    CHECK (whisper_decoder_decode_window (dec, &up, xa, 0, nf, &r2, &err),
        "decode speech unbounded");
    g_clear_error (&err);
    join_text (&r, text);
    join_text (&r2, text2);
    printf ("speech bounded   %d passes, %3d steps \"%s\"\n", r.n_passes,
        r.n_steps, text->str);
    printf ("speech unbounded %d passes, %3d steps \"%s\"\n", r2.n_passes,
        r2.n_steps, text2->str);
    CHECK (strcmp (text->str, text2->str) == 0 && text->len > 0
        && r.n_steps == r2.n_steps, "speech differs with the bounds on");
    whisper_window_result_clear (&r);
    whisper_window_result_clear (&r2);
    g_free (frames);
  }

  g_string_free (text, TRUE);
  g_string_free (text2, TRUE);
  g_free (xa);
  whisper_decoder_free (dec);
  whisper_encoder_free (enc);
  whisper_mel_free (mel);
  whisper_model_registry_release (model);
  return 0;
}

int
main (void)
{
  test_tail_repeats ();
  char *dir = whisper_models_dir ();
  char *path = g_build_filename (dir, "tiny.en", NULL);
  int model_status = g_file_test (path, G_FILE_TEST_EXISTS) ?
      test_model (path) : 77;
  if (model_status == 77)
    printf ("SKIP: no tiny.en in %s (the loop detector was tested)\n", dir);
  g_free (path);
  g_free (dir);
  if (failures) {
    fprintf (stderr, "%d failures\n", failures);
    return 1;
  }
  printf ("ok\n");
  return 0;
}
