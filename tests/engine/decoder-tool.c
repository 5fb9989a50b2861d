/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* decoder-tool: drive the decoder engine from scripts (tests/accuracy/decoder_check.py).
 *
 *   decoder-tool tokenize MODEL         encodes and decodes, one model
 *                                       load: stdin lines "e HEX" (the
 *                                       token ids of the UTF-8 bytes HEX)
 *                                       or "d ID..." (the text of the ids);
 *                                       one stdout line each: the ids, or
 *                                       the text as HEX
 *   decoder-tool specials MODEL         special token ids, "name id" lines,
 *                                       then "suppress id..." (the resolved
 *                                       default suppress list)
 *   decoder-tool logits MODEL ENC.f32 OUT.f32 ID...
 *                                       raw logits [V] of the last of the
 *                                       ids, float32 decoder
 *   decoder-tool transcribe MODEL PCM.f32 [options]
 *                                       the whole engine (mel, encoder,
 *                                       decoder, seek) on 16 kHz mono float
 *                                       samples
 *   decoder-tool windows MODEL LIST [options]
 *                                       one independent window per line
 *                                       "ENC.f32 FRAMES" of LIST
 *   decoder-tool window MODEL ENC.f32 [options]
 *     decode one window of encoder output given as a raw file
 *     ENC.f32: float32 [1500][n_audio_state] encoder output (e.g. dumped
 *     from CTranslate2 by tests/accuracy/decoder_check.py)
 *   --compute-type T  auto (default), float32 or int8: encoder and decoder
 *   --beam N          beam size (1 = greedy; default 5)
 *   --frames N        real (non-padding) mel frames in the window (3000)
 *   --start N         absolute frame of the window start (0)
 *   --no-condition    condition_on_previous_text off
 *   --beam-style S    ct2 (default) or openai beam candidate selection
 *   --no-timestamps   without_timestamps
 *   --language XX     language code or auto (multilingual models)
 *   --translate       task translate
 *   --temperature T   only this temperature (no fallback)
 *   --prompt TEXT     initial prompt
 *   --repeat N        decode the window N times and report ms per token
 *   --threads N       threads of the decoder (and of the encoder, for
 *                     transcribe); default 0, all cores
 *
 * Prints one line per segment: "t0_frame t1_frame|text|tokens" and a final
 * "next_frame N no_speech S language L" line.  Exit status 0 on success.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "decoder.h"
#include "encoder.h"
#include "mel.h"
#include "whisper.h"
#include "tokenizer.h"
#include "whisper.h"

static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6
      + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static whisper_model *
load (const char *path)
{
  GError *err = NULL;
  whisper_model *model = whisper_model_load (path, &err);
  if (!model) {
    fprintf (stderr, "%s\n", err->message);
    g_error_free (err);
  }
  return model;
}

/* "tokenize": requests from @in, answers to @out (see the top). 0, or 1
 * on a malformed request or an encode error. */
static int
tokenize_lines (whisper_tokenizer * tok, FILE * in, FILE * out)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int ret = 0;
  while (ret == 0 && (len = getline (&line, &cap, in)) > 0) {
    line[strcspn (line, "\n")] = '\0';
    if (line[0] == 'e' && line[1] == ' ') {
      gsize n_bytes = strlen (line + 2) / 2;
      char *text = g_malloc (n_bytes + 1);
      for (gsize i = 0; i < n_bytes; i++)
        text[i] = g_ascii_xdigit_value (line[2 + 2 * i]) << 4
            | g_ascii_xdigit_value (line[3 + 2 * i]);
      text[n_bytes] = '\0';
      GError *err = NULL;
      int n;
      int *ids = whisper_tokenizer_encode (tok, text, &n, &err);
      if (!ids) {
        fprintf (stderr, "encode: %s\n", err->message);
        g_error_free (err);
        ret = 1;
      }
      for (int i = 0; ids && i < n; i++)
        fprintf (out, "%s%d", i ? " " : "", ids[i]);
      fputc ('\n', out);
      g_free (ids);
      g_free (text);
    } else if (line[0] == 'd' && (line[1] == ' ' || line[1] == '\0')) {
      gchar **fields = g_strsplit_set (line + 1, " ", -1);
      GArray *ids = g_array_new (FALSE, FALSE, sizeof (int));
      for (gchar ** f = fields; *f; f++)
        if (**f) {
          int id = atoi (*f);
          g_array_append_val (ids, id);
        }
      char *text = whisper_tokenizer_decode (tok, (int *) ids->data,
          ids->len);
      for (const unsigned char *c = (const unsigned char *) text; *c; c++)
        fprintf (out, "%02x", *c);
      fputc ('\n', out);
      g_free (text);
      g_array_free (ids, TRUE);
      g_strfreev (fields);
    } else {
      fprintf (stderr, "tokenize: bad request '%s'\n", line);
      ret = 1;
    }
  }
  free (line);
  return ret;
}

static int
cmd_tokenizer (int argc, char **argv)
{
  GError *err = NULL;
  whisper_model *model = load (argv[2]);
  if (!model)
    return 1;
  whisper_tokenizer *tok = whisper_tokenizer_new (model, &err);
  if (!tok) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  int ret = 0;
  if (!strcmp (argv[1], "tokenize")) {
    ret = tokenize_lines (tok, stdin, stdout);
  } else if (!strcmp (argv[1], "specials")) {
    const whisper_special_tokens *st = &model->tok;
    printf ("eot %d\nsot %d\ntranslate %d\ntranscribe %d\nsot_lm %d\n"
        "sot_prev %d\nno_speech %d\nno_timestamps %d\ntimestamp_begin %d\n"
        "lang_first %d\nn_langs %d\nn_vocab %d\nmultilingual %d\n",
        st->eot, st->sot, st->translate, st->transcribe, st->sot_lm,
        st->sot_prev, st->no_speech, st->no_timestamps, st->timestamp_begin,
        st->lang_first, st->n_langs, model->hp.n_vocab,
        model->is_multilingual);
    printf ("en %d\nde %d\n", whisper_tokenizer_language_token (tok, "en"),
        whisper_tokenizer_language_token (tok, "de"));
    int n;
    int *ns = whisper_tokenizer_non_speech_tokens (tok, &n);
    printf ("non_speech");
    for (int i = 0; i < n; i++)
      printf (" %d", ns[i]);
    printf ("\nmodel_suppress");
    for (int i = 0; i < model->n_suppress_tokens; i++)
      printf (" %d", model->suppress_tokens[i]);
    printf ("\n");
    g_free (ns);
  } else {
    fprintf (stderr, "bad command\n");
    ret = 2;
  }
  whisper_tokenizer_free (tok);
  whisper_model_free (model);
  return ret;
}

/* logits MODEL ENC.f32 OUT.f32 ID...: raw logits [V] of the last position */
static int
cmd_logits (int argc, char **argv)
{
  GError *err = NULL;
  whisper_model *model = load (argv[2]);
  if (!model)
    return 1;
  gchar *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (argv[3], &data, &len, &err)
      || len != (gsize) model->hp.n_audio_ctx * model->hp.n_audio_state * 4) {
    fprintf (stderr, "bad encoder output file %s\n", argv[3]);
    return 1;
  }
  int n = argc - 5;
  int *ids = g_new (int, MAX (n, 1));
  for (int i = 0; i < n; i++)
    ids[i] = atoi (argv[5 + i]);
  whisper_text_decoder *dec = whisper_text_decoder_new (model, 1, 0,
      WHISPER_COMPUTE_FLOAT32, &err);
  if (!dec) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  whisper_text_decoder_set_audio (dec, (const float *) data);
  if (n < 1 || whisper_text_decoder_forward (dec, ids, 1, n) != 0) {
    fprintf (stderr, "forward failed\n");
    return 1;
  }
  float *logits = g_new (float, model->hp.n_vocab);
  int row = n - 1;
  whisper_text_decoder_logits (dec, &row, 1, logits);
  int ok = g_file_set_contents (argv[4], (const char *) logits,
      sizeof (float) * model->hp.n_vocab, &err);
  g_free (logits);
  g_free (ids);
  g_free (data);
  whisper_text_decoder_free (dec);
  whisper_model_free (model);
  return ok ? 0 : 1;
}

static void
print_segments (const whisper_window_result * res)
{
  for (int i = 0; i < res->n_segments; i++) {
    const whisper_segment *s = &res->segments[i];
    printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT "|%s|", s->t0_frame,
        s->t1_frame, s->text);
    for (int j = 0; j < s->n_tokens; j++)
      printf ("%s%d", j ? " " : "", s->tokens[j]);
    printf ("|%.6f %.6f %.2f %.4f\n", s->avg_logprob, s->no_speech_prob,
        s->temperature, s->compression_ratio);
    /* word timestamps: one line per word, indented */
    for (int w = 0; w < s->n_words; w++)
      printf ("  word %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %.4f|%s|\n",
          s->words[w].t0_frame, s->words[w].t1_frame,
          s->words[w].probability, s->words[w].text);
  }
}

/* transcribe MODEL PCM.f32 [options]: the whole engine, window after
 * window: log-mel of the whole file, normalised over the whole file as
 * openai/faster-whisper do, our encoder, our decoder, seek. */
static int
cmd_transcribe (int argc, char **argv, whisper_decode_params * p)
{
  GError *err = NULL;
  whisper_model *model = load (argv[2]);
  if (!model)
    return 1;
  gchar *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (argv[3], &data, &len, &err)) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  const int M = model->hp.n_mels, A = model->hp.n_audio_ctx;
  const int C = model->hp.n_audio_state;
  size_t n_samples = len / sizeof (float);
  whisper_mel *mel = whisper_mel_new (M, &err);
  whisper_encoder_params ep = whisper_encoder_default_params ();
  ep.compute_type = p->compute_type;
  ep.n_threads = p->n_threads;
  whisper_encoder *enc = mel ? whisper_encoder_new (model, &ep, &err) : NULL;
  whisper_decoder *dec = enc ? whisper_decoder_new (model, &err) : NULL;
  if (!dec) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  size_t n_frames = n_samples / WHISPER_HOP_LENGTH;
  float *frames = g_new0 (float, (n_frames + 1) * M);  /* [N][M] */
  n_frames = whisper_mel_compute (mel, (const float *) data, n_samples, frames);
  whisper_mel_normalize (frames, n_frames * M);
  float *win = g_new (float, (size_t) WHISPER_WINDOW_FRAMES * M);
  float *xa = g_new (float, (size_t) A * C);
  double t_enc = 0, t_dec = 0;
  int n_tok = 0;
  for (int64_t seek = 0; seek < (int64_t) n_frames;) {
    int size = MIN (WHISPER_WINDOW_FRAMES, (int64_t) n_frames - seek);
    memset (win, 0, sizeof (float) * WHISPER_WINDOW_FRAMES * M);
    memcpy (win, frames + seek * M, sizeof (float) * size * M);
    gint64 t0 = g_get_monotonic_time ();
    if (whisper_encoder_run_frames (enc, win, xa) != 0) {
      fprintf (stderr, "encoder failed\n");
      return 1;
    }
    gint64 t1 = g_get_monotonic_time ();
    whisper_window_result res = { 0 };
    if (!whisper_decoder_decode_window (dec, p, xa, seek, size, &res, &err)) {
      fprintf (stderr, "%s\n", err->message);
      return 1;
    }
    t_enc += (t1 - t0) / 1e6;
    t_dec += (g_get_monotonic_time () - t1) / 1e6;
    print_segments (&res);
    for (int i = 0; i < res.n_segments; i++)
      n_tok += res.segments[i].n_tokens;
    seek = res.next_frame;
    whisper_window_result_clear (&res);
  }
  fprintf (stderr, "%.2f s audio: encoder %.2f s, decoder %.2f s "
      "(%d segment tokens)\n", n_samples / 16000.0, t_enc, t_dec, n_tok);
  g_free (xa);
  g_free (win);
  g_free (frames);
  g_free (data);
  whisper_decoder_free (dec);
  whisper_encoder_free (enc);
  whisper_mel_free (mel);
  whisper_model_free (model);
  return 0;
}

/* windows MODEL LIST [options]: each line of LIST is "ENC.f32 FRAMES"; one
 * independent window per line (decoder reset between them), output blocks
 * start with "== ENC.f32". */
static int
cmd_window_list (whisper_model * model, const char *list,
    const whisper_decode_params * p)
{
  GError *err = NULL;
  gchar *text = NULL;
  if (!g_file_get_contents (list, &text, NULL, &err)) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  whisper_decoder *dec = whisper_decoder_new (model, &err);
  if (!dec) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  size_t want = (size_t) model->hp.n_audio_ctx * model->hp.n_audio_state
      * sizeof (float);
  gchar **lines = g_strsplit (text, "\n", -1);
  int ret = 0;
  for (int i = 0; lines[i] && ret == 0; i++) {
    gchar **f = g_strsplit (g_strstrip (lines[i]), " ", 2);
    if (!f[0] || !f[0][0] || !f[1]) {
      g_strfreev (f);
      continue;
    }
    gchar *data = NULL;
    gsize len = 0;
    whisper_window_result res = { 0 };
    whisper_decoder_reset (dec);
    if (!g_file_get_contents (f[0], &data, &len, &err) || len != want
        || !whisper_decoder_decode_window (dec, p, (const float *) data, 0,
            atoi (f[1]), &res, &err)) {
      fprintf (stderr, "%s: %s\n", f[0], err ? err->message : "bad size");
      ret = 1;
    } else {
      printf ("== %s\n", f[0]);
      print_segments (&res);
      printf ("next_frame %" G_GINT64_FORMAT " no_speech %d language %s\n",
          res.next_frame, res.no_speech, res.language ? res.language : "-");
    }
    whisper_window_result_clear (&res);
    g_free (data);
    g_strfreev (f);
  }
  g_strfreev (lines);
  g_free (text);
  whisper_decoder_free (dec);
  whisper_model_free (model);
  return ret;
}

int
main (int argc, char **argv)
{
  if (argc < 3) {
    fprintf (stderr, "usage: %s window|windows|transcribe MODEL FILE "
        "[options], or tokenize|specials|logits MODEL ...\n", argv[0]);
    return 2;
  }
  if (argc >= 6 && strcmp (argv[1], "logits") == 0)
    return cmd_logits (argc, argv);
  if (argc >= 3 && strcmp (argv[1], "window") != 0
      && strcmp (argv[1], "windows") != 0
      && strcmp (argv[1], "transcribe") != 0)
    return cmd_tokenizer (argc, argv);
  gboolean transcribe = strcmp (argv[1], "transcribe") == 0;
  gboolean list = strcmp (argv[1], "windows") == 0;
  argc--;
  argv++;
  if (argc < 3) {
    fprintf (stderr, "usage: %s MODEL ENC.f32 [--beam N] [--frames N] "
        "[--no-timestamps] [--language XX] [--translate] [--temperature T] "
        "[--prompt TEXT] [--repeat N] [--threads N] [--word-timestamps]\n", argv[0]);
    return 2;
  }
  whisper_decode_params p = whisper_decode_params_default ();
  /* the references this tool is compared with keep every segment */
  p.skip_non_words = 0;
  int frames = 3000, repeat = 1;
  gint64 start = 0;
  float only_temp = -1.0f;
  for (int i = 3; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp (a, "--compute-type") && v) {
      if (!whisper_compute_type_from_name (v, &p.compute_type)) {
        fprintf (stderr, "unknown compute type %s\n", v);
        return 2;
      }
      i++;
    } else if (!strcmp (a, "--beam") && v) {
      p.beam_size = atoi (v);
      i++;
    } else if (!strcmp (a, "--start") && v) {
      start = g_ascii_strtoll (v, NULL, 10);
      i++;
    } else if (!strcmp (a, "--beam-style") && v) {
      p.beam_style = !strcmp (v, "ct2") ? WHISPER_BEAM_CTRANSLATE2
          : WHISPER_BEAM_OPENAI;
      i++;
    } else if (!strcmp (a, "--no-condition")) {
      p.condition_on_previous_text = 0;
    } else if (!strcmp (a, "--frames") && v) {
      frames = atoi (v);
      i++;
    } else if (!strcmp (a, "--word-timestamps")) {
      p.word_timestamps = 1;
    } else if (!strcmp (a, "--no-timestamps")) {
      p.without_timestamps = 1;
    } else if (!strcmp (a, "--language") && v) {
      p.language = v;
      i++;
    } else if (!strcmp (a, "--translate")) {
      p.task = WHISPER_TASK_TRANSLATE;
    } else if (!strcmp (a, "--temperature") && v) {
      only_temp = atof (v);
      i++;
    } else if (!strcmp (a, "--prompt") && v) {
      p.initial_prompt = v;
      i++;
    } else if (!strcmp (a, "--repeat") && v) {
      repeat = atoi (v);
      i++;
    } else if (!strcmp (a, "--threads") && v) {
      p.n_threads = atoi (v);
      i++;
    } else {
      fprintf (stderr, "unknown option %s\n", a);
      return 2;
    }
  }
  if (only_temp >= 0) {
    p.temperatures[0] = only_temp;
    p.n_temperatures = 1;
  }
  if (transcribe)
    return cmd_transcribe (argc + 1, argv - 1, &p);

  GError *err = NULL;
  whisper_model *model = load (argv[1]);
  if (!model)
    return 1;
  if (list) {
    /* ENC argument is a list file: "enc_path frames" per line */
    return cmd_window_list (model, argv[2], &p);
  }
  gchar *data = NULL;
  gsize len = 0;
  size_t want = (size_t) model->hp.n_audio_ctx * model->hp.n_audio_state
      * sizeof (float);
  if (!g_file_get_contents (argv[2], &data, &len, &err)) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  if (len != want) {
    fprintf (stderr, "%s: %zu bytes, expected %zu\n", argv[2], (size_t) len,
        want);
    return 1;
  }
  whisper_decoder *dec = whisper_decoder_new (model, &err);
  if (!dec) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  whisper_window_result res = { 0 };
  gint64 t_start = 0, t_total = 0;
  long n_tok = 0;
  double cpu0 = cpu_seconds ();
  for (int r = 0; r < repeat; r++) {
    whisper_window_result_clear (&res);
    whisper_decoder_reset (dec);
    t_start = g_get_monotonic_time ();
    if (!whisper_decoder_decode_window (dec, &p, (const float *) data, start,
            frames, &res, &err)) {
      fprintf (stderr, "%s\n", err->message);
      return 1;
    }
    t_total += g_get_monotonic_time () - t_start;
    for (int i = 0; i < res.n_segments; i++)
      n_tok += res.segments[i].n_tokens;
  }
  print_segments (&res);
  printf ("next_frame %" G_GINT64_FORMAT " no_speech %d language %s\n",
      res.next_frame, res.no_speech, res.language ? res.language : "-");
  if (repeat > 1) {
    double cpu = cpu_seconds () - cpu0;
    fprintf (stderr, "window decode %.1f ms wall, %.1f ms CPU (all threads); "
        "%.2f ms wall per output token\n", t_total / 1000.0 / repeat,
        cpu * 1000.0 / repeat, n_tok ? t_total / 1000.0 / n_tok : 0.0);
  }
  whisper_window_result_clear (&res);
  whisper_decoder_free (dec);
  whisper_model_free (model);
  g_free (data);
  return 0;
}
