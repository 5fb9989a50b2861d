/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whisper-convert: load a Whisper model in any supported format and write it
 * as a whisper.cpp ggml .bin (default), a CTranslate2 directory or a Hugging
 * Face safetensors directory.
 *
 *   whisper-convert tiny.en ggml-tiny.en.bin            (ggml, f16)
 *   whisper-convert --type f32 tiny.en ggml-tiny.en-f32.bin
 *   whisper-convert --format ct2 --type int8 ggml-base.bin base-int8/
 */
#include <stdio.h>
#include <string.h>

#include "whisper.h"
#include "model-write.h"
#include "mel.h"

int
main (int argc, char **argv)
{
  gchar *format = NULL, *type = NULL;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
        "Output format: ggml (default), ct2, safetensors", "FORMAT" },
    { "type", 't', 0, G_OPTION_ARG_STRING, &type,
        "Weight type: f16 (default), f32; bf16 (ct2, safetensors); int8, int16 (ct2)",
        "TYPE" },
    { NULL }
  };
  GError *error = NULL;
  GOptionContext *ctx = g_option_context_new ("MODEL OUTPUT - convert a "
      "Whisper model");
  g_option_context_set_description (ctx, "MODEL is a path (ggml .bin, "
      "CTranslate2 or Hugging Face directory) or a name in the models "
      "directory (tiny.en, base, ...).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 3) {
    fprintf (stderr, "%s\n", error ? error->message :
        "usage: whisper-convert [--format ggml|ct2|safetensors] "
        "[--type f16|f32|bf16|int8|int16] MODEL OUTPUT");
    return 2;
  }
  g_option_context_free (ctx);

  whisper_save_type t = WHISPER_SAVE_F16;
  if (!type || strcmp (type, "f16") == 0)
    t = WHISPER_SAVE_F16;
  else if (strcmp (type, "f32") == 0)
    t = WHISPER_SAVE_F32;
  else if (strcmp (type, "bf16") == 0)
    t = WHISPER_SAVE_BF16;
  else if (strcmp (type, "int8") == 0)
    t = WHISPER_SAVE_INT8;
  else if (strcmp (type, "int16") == 0)
    t = WHISPER_SAVE_INT16;
  else {
    fprintf (stderr, "whisper-convert: unknown type '%s'\n", type);
    return 2;
  }

  char *path = whisper_model_resolve (argv[1], &error);
  whisper_model *m = path ? whisper_model_load (path, &error) : NULL;
  g_free (path);
  if (!m) {
    fprintf (stderr, "whisper-convert: %s\n", error->message);
    return 1;
  }
  gboolean ok;
  if (!format || strcmp (format, "ggml") == 0) {
    float *filters = g_new (float, (size_t) m->hp.n_mels * WHISPER_N_FREQ);
    whisper_mel_filters_compute (filters, m->hp.n_mels);
    ok = whisper_model_save_ggml (m, argv[2], t, filters, &error);
    g_free (filters);
  }
  else if (strcmp (format, "ct2") == 0)
    ok = whisper_model_save_ct2 (m, argv[2], t, &error);
  else if (strcmp (format, "safetensors") == 0)
    ok = whisper_model_save_safetensors (m, argv[2], t, &error);
  else {
    fprintf (stderr, "whisper-convert: unknown format '%s'\n", format);
    whisper_model_free (m);
    return 2;
  }
  whisper_model_free (m);
  if (!ok) {
    fprintf (stderr, "whisper-convert: %s\n", error->message);
    return 1;
  }
  printf ("%s\n", argv[2]);
  g_free (format);
  g_free (type);
  return 0;
}
