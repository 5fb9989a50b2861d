/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whisper-synth: write a tiny random Whisper model in every format the
 * loaders read, for tests that need no download.
 *
 *   whisper-synth OUTDIR            English-only layout
 *   whisper-synth --langs 3 OUTDIR  multilingual layout with 3 languages
 *
 * OUTDIR/ then holds: ggml-f32.bin, ggml-f16.bin, ct2-f32/, ct2-f16/,
 * ct2-bf16/, ct2-int8/, ct2-int16/, hf-f32/, hf-f16/, hf-bf16/.  All but
 * the int8/int16 ones hold identical weights (the generator picks values
 * exact in float16 and bfloat16).
 */
#include <stdio.h>
#include <string.h>

#include "whisper.h"
#include "model-write.h"
#include "mel.h"

int
main (int argc, char **argv)
{
  whisper_synth_params p = whisper_synth_params_default ();
  gint64 seed = (gint64) p.seed;
  GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_INT, &p.n_state, "Width (64)", "N" },
    { "heads", 0, 0, G_OPTION_ARG_INT, &p.n_head, "Attention heads (2)", "N" },
    { "layers", 0, 0, G_OPTION_ARG_INT, &p.n_layer, "Layers (2)", "N" },
    { "mels", 0, 0, G_OPTION_ARG_INT, &p.n_mels, "Mel bands (80)", "N" },
    { "audio-ctx", 0, 0, G_OPTION_ARG_INT, &p.n_audio_ctx,
        "Encoder positions (1500)", "N" },
    { "text-ctx", 0, 0, G_OPTION_ARG_INT, &p.n_text_ctx,
        "Decoder positions (448)", "N" },
    { "langs", 0, 0, G_OPTION_ARG_INT, &p.n_langs,
        "Language tokens (0: English-only)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (1)", "N" },
    { NULL }
  };
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("OUTDIR - write a synthetic "
      "Whisper model in every format");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2) {
    fprintf (stderr, "%s\n", error ? error->message :
        "usage: whisper-synth [OPTION...] OUTDIR");
    return 2;
  }
  g_option_context_free (ctx);
  p.seed = (uint64_t) seed;

  whisper_model *m = whisper_model_synthetic (&p, &error);
  if (!m) {
    fprintf (stderr, "whisper-synth: %s\n", error->message);
    return 1;
  }
  const char *dir = argv[1];
  struct { const char *name; int fmt; whisper_save_type t; } out[] = {
    { "ggml-f32.bin", 0, WHISPER_SAVE_F32 },
    { "ggml-f16.bin", 0, WHISPER_SAVE_F16 },
    { "ct2-f32", 1, WHISPER_SAVE_F32 },
    { "ct2-f16", 1, WHISPER_SAVE_F16 },
    { "ct2-bf16", 1, WHISPER_SAVE_BF16 },
    { "ct2-int8", 1, WHISPER_SAVE_INT8 },
    { "ct2-int16", 1, WHISPER_SAVE_INT16 },
    { "hf-f32", 2, WHISPER_SAVE_F32 },
    { "hf-f16", 2, WHISPER_SAVE_F16 },
    { "hf-bf16", 2, WHISPER_SAVE_BF16 },
  };
  float *filters = g_new (float, (size_t) m->hp.n_mels * WHISPER_N_FREQ);
  whisper_mel_filters_compute (filters, m->hp.n_mels);
  int rc = 0;
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    fprintf (stderr, "whisper-synth: %s: cannot create directory\n", dir);
    rc = 1;
  }
  for (size_t i = 0; rc == 0 && i < G_N_ELEMENTS (out); i++) {
    char *path = g_build_filename (dir, out[i].name, NULL);
    gboolean ok = out[i].fmt == 0 ?
        whisper_model_save_ggml (m, path, out[i].t, filters, &error) :
        out[i].fmt == 1 ? whisper_model_save_ct2 (m, path, out[i].t, &error) :
        whisper_model_save_safetensors (m, path, out[i].t, &error);
    if (!ok) {
      fprintf (stderr, "whisper-synth: %s\n", error->message);
      rc = 1;
    } else {
      printf ("%s\n", path);
    }
    g_free (path);
  }
  g_free (filters);
  whisper_model_free (m);
  return rc;
}
