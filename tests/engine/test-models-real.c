/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Model files on real weights (exit 77 = skipped when the models directory
 * lacks tiny.en; fetch it with models/tools/whisper-models fetch tiny.en):
 *  - tiny.en (CTranslate2 float16) -> ggml f16 and f32 -> loaded back:
 *    every weight bit-identical, same vocabulary, special tokens, suppress
 *    list; the encoder gives bit-identical output on both
 *  - the same through the CTranslate2 and safetensors writers (f16)
 *  - whisper.cpp's size-derived special tokens name exactly what the real
 *    vocabularies hold (tiny.en, base)
 *  - the non-speech list equals config.json's suppress_ids minus the
 *    special tokens (what faster-whisper's converter computed with the real
 *    tokenizer)
 * Prints load times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "model-internal.h"
#include "model-write.h"
#include "mel.h"
#include "encoder.h"
#include "kernels.h"

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; \
  fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
  fprintf (stderr, __VA_ARGS__); fprintf (stderr, "\n"); } } while (0)

static whisper_model *
load_timed (const char *path)
{
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  whisper_model *m = whisper_model_load (path, &error);
  gint64 t1 = g_get_monotonic_time ();
  if (!m) {
    fprintf (stderr, "FAIL loading %s: %s\n", path, error->message);
    exit (1);
  }
  printf ("loaded %-60s %-11s %-8s in %6.1f ms\n", path, m->format,
      m->weight_dtype, (t1 - t0) / 1000.0);
  return m;
}

static void
compare (const whisper_model * a, const whisper_model * b, const char *what)
{
  int na, nb, bad = 0;
  CHECK (memcmp (&a->hp, &b->hp, sizeof a->hp) == 0, "%s: hparams differ", what);
  whisper_slot *sa = whisper_model_slots (a, &na);
  whisper_slot *sb = whisper_model_slots (b, &nb);
  CHECK (na == nb, "%s: slot count", what);
  for (int i = 0; i < na && i < nb; i++)
    if (sa[i].n != sb[i].n || memcmp (sa[i].data, sb[i].data, sa[i].n * 4)) {
      if (bad++ < 5)
        CHECK (0, "%s: tensor %s differs", what, sa[i].name);
    }
  g_free (sa);
  g_free (sb);
  CHECK (a->vocab.n_tokens == b->vocab.n_tokens, "%s: token count", what);
  for (int i = 0; i < a->vocab.n_tokens && i < b->vocab.n_tokens; i++)
    if (a->vocab.token_len[i] != b->vocab.token_len[i]
        || memcmp (a->vocab.token[i], b->vocab.token[i], a->vocab.token_len[i])) {
      CHECK (0, "%s: token %d differs", what, i);
      break;
    }
  CHECK (memcmp (&a->tok, &b->tok, sizeof a->tok) == 0, "%s: special tokens",
      what);
  CHECK (a->n_suppress_tokens == b->n_suppress_tokens
      && !memcmp (a->suppress_tokens, b->suppress_tokens,
          a->n_suppress_tokens * sizeof (int)), "%s: suppress list", what);
  printf ("%s: %d tensors, %d tokens identical%s\n", what, na,
      a->vocab.n_tokens, bad ? " -- NOT" : "");
}

static void
check_fill_specials (const whisper_model * real)
{
  whisper_model *m = g_new0 (whisper_model, 1);
  int V = real->hp.n_vocab, eot = real->tok.eot;
  m->hp = real->hp;
  whisper_vocab_init (&m->vocab, V);
  for (int i = 0; i < eot; i++)
    whisper_vocab_set (&m->vocab, i, real->vocab.token[i],
        real->vocab.token_len[i]);
  whisper_vocab_fill_specials (&m->vocab, V);
  int diff = 0;
  for (int i = eot; i < V; i++) {
    /* some Hugging Face vocabularies (tiny.en's) name Hebrew "iw" */
    if (strcmp (m->vocab.token[i], "<|he|>") == 0
        && strcmp (real->vocab.token[i], "<|iw|>") == 0)
      continue;
    if (strcmp (m->vocab.token[i], real->vocab.token[i]) != 0 && diff++ < 3)
      CHECK (0, "%s: derived token %d '%s' != real '%s'", real->path, i,
          m->vocab.token[i], real->vocab.token[i]);
  }
  printf ("%s: size-derived special tokens %d..%d match the vocabulary%s\n",
      real->path, eot, V - 1, diff ? " -- NOT" : "");
  whisper_model_free (m);
}

static void
check_suppress (const whisper_model * m, const char *dir)
{
  char *file = g_build_filename (dir, "config.json", NULL);
  gchar *text;
  gsize len;
  if (!g_file_get_contents (file, &text, &len, NULL)) {
    g_free (file);
    return;
  }
  GError *error = NULL;
  JsonNode *j = whisper_json_parse (text, len, file, &error);
  CHECK (j != NULL, "%s: %s", file, error ? error->message : "");
  JsonNode *ids = whisper_json_get (j, "suppress_ids");
  const whisper_special_tokens *t = &m->tok;
  GArray *want = g_array_new (FALSE, FALSE, sizeof (int));
  for (int i = 0; ids && i < whisper_json_length (ids); i++) {
    int v;
    if (!whisper_json_int (whisper_json_item (ids, i), &v))
      continue;
    if (v == t->translate || v == t->transcribe || v == t->sot
        || v == t->sot_prev || v == t->sot_lm || v == t->no_speech)
      continue;
    g_array_append_val (want, v);
  }
  CHECK ((int) want->len == m->n_suppress_tokens && !memcmp (want->data,
          m->suppress_tokens, want->len * sizeof (int)),
      "%s: non-speech tokens (%d) != config suppress_ids without specials (%u)",
      dir, m->n_suppress_tokens, want->len);
  printf ("%s: %d non-speech tokens = config.json suppress_ids minus the "
      "special tokens\n", dir, m->n_suppress_tokens);
  g_array_free (want, TRUE);
  if (j)
    json_node_unref (j);
  g_free (text);
  g_free (file);
}

static void
check_encoder (const whisper_model * a, const whisper_model * b)
{
  GError *error = NULL;
  const int M = a->hp.n_mels, A = a->hp.n_audio_ctx, C = a->hp.n_audio_state;
  float *mel = g_new (float, (size_t) M * WHISPER_WINDOW_FRAMES);
  guint32 s = 12345;
  for (size_t i = 0; i < (size_t) M * WHISPER_WINDOW_FRAMES; i++) {
    s = s * 1664525u + 1013904223u;
    mel[i] = ((s >> 8) / 16777216.0f) * 2.0f - 1.0f;
  }
  float *oa = g_new (float, (size_t) A * C), *ob = g_new (float, (size_t) A * C);
  whisper_encoder *ea = whisper_encoder_new (a, NULL, &error);
  CHECK (ea != NULL, "encoder: %s", error ? error->message : "");
  whisper_encoder *eb = ea ? whisper_encoder_new (b, NULL, &error) : NULL;
  /* AUTO on the CPU: bfloat16 where the CPU has AVX-512 BF16, else
   * float32 (docs/quantization.md, AUTO) */
  const whisper_compute_type want = kernels_bf16_native () ?
      WHISPER_COMPUTE_BFLOAT16 : WHISPER_COMPUTE_FLOAT32;
  if (ea)
    CHECK (whisper_encoder_get_compute_type (ea) == want,
        "encoder AUTO resolved to %s, not %s on the %s kernels",
        whisper_compute_type_name (whisper_encoder_get_compute_type (ea)),
        whisper_compute_type_name (want), kernels_cpu_path ());
  if (ea && eb) {
    CHECK (whisper_encoder_run (ea, mel, oa) == 0, "encoder run");
    CHECK (whisper_encoder_run (eb, mel, ob) == 0, "encoder run");
    CHECK (memcmp (oa, ob, (size_t) A * C * 4) == 0,
        "encoder output differs between the CTranslate2 and ggml models");
    printf ("encoder output bit-identical (CTranslate2 vs ggml f16): %s\n",
        memcmp (oa, ob, (size_t) A * C * 4) == 0 ? "yes" : "NO");
  }
  if (ea)
    whisper_encoder_free (ea);
  if (eb)
    whisper_encoder_free (eb);
  /* every format loads into every compute type: the same bits in int8
   * and bfloat16 from either file */
  const whisper_compute_type reduced[] = { WHISPER_COMPUTE_INT8,
    WHISPER_COMPUTE_BFLOAT16
  };
  for (size_t i = 0; i < G_N_ELEMENTS (reduced); i++) {
    whisper_encoder_params p = whisper_encoder_default_params ();
    p.backend = WHISPER_BACKEND_CPU;
    p.compute_type = reduced[i];
    const char *name = whisper_compute_type_name (reduced[i]);
    ea = whisper_encoder_new (a, &p, &error);
    CHECK (ea != NULL, "%s encoder: %s", name, error ? error->message : "");
    g_clear_error (&error);
    eb = ea ? whisper_encoder_new (b, &p, &error) : NULL;
    CHECK (!ea || eb != NULL, "%s encoder: %s", name,
        error ? error->message : "");
    g_clear_error (&error);
    if (ea && eb) {
      CHECK (whisper_encoder_run (ea, mel, oa) == 0, "encoder run");
      CHECK (whisper_encoder_run (eb, mel, ob) == 0, "encoder run");
      CHECK (memcmp (oa, ob, (size_t) A * C * 4) == 0,
          "%s encoder output differs between the CTranslate2 and ggml "
          "models", name);
      printf ("%s encoder output bit-identical (CTranslate2 vs ggml f16): "
          "%s\n", name, memcmp (oa, ob, (size_t) A * C * 4) == 0 ? "yes" :
          "NO");
    }
    if (ea)
      whisper_encoder_free (ea);
    if (eb)
      whisper_encoder_free (eb);
  }
  g_free (mel);
  g_free (oa);
  g_free (ob);
}

static void
roundtrip (const whisper_model * m, const char *tmp, const char *name,
    gboolean encoder)
{
  GError *error = NULL;
  float *filters = g_new (float, (size_t) m->hp.n_mels * WHISPER_N_FREQ);
  whisper_mel_filters_compute (filters, m->hp.n_mels);
  struct { const char *suffix; int fmt; whisper_save_type t; } out[] = {
    { "ggml-f16.bin", 0, WHISPER_SAVE_F16 },
    { "ggml-f32.bin", 0, WHISPER_SAVE_F32 },
    { "ct2-f16", 1, WHISPER_SAVE_F16 },
    { "hf-f16", 2, WHISPER_SAVE_F16 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (out); i++) {
    char *base = g_strdup_printf ("%s-%s", name, out[i].suffix);
    char *p = g_build_filename (tmp, base, NULL);
    gboolean ok = out[i].fmt == 0 ?
        whisper_model_save_ggml (m, p, out[i].t, filters, &error) :
        out[i].fmt == 1 ? whisper_model_save_ct2 (m, p, out[i].t, &error) :
        whisper_model_save_safetensors (m, p, out[i].t, &error);
    CHECK (ok, "writing %s: %s", p, error ? error->message : "");
    g_clear_error (&error);
    if (ok) {
      whisper_model *b = load_timed (p);
      char *what = g_strdup_printf ("%s -> %s", name, out[i].suffix);
      compare (m, b, what);
      g_free (what);
      if (encoder && i == 0)
        check_encoder (m, b);
      /* a ggml file lists no alignment heads: openai's published set for
       * the dimensions must be the one config.json lists */
      CHECK (b->n_alignment_heads == m->n_alignment_heads
          && memcmp (b->alignment_heads, m->alignment_heads,
              sizeof (int) * 2 * m->n_alignment_heads) == 0,
          "%s -> %s: alignment heads differ (%d against %d)", name,
          out[i].suffix, b->n_alignment_heads, m->n_alignment_heads);
      whisper_model_free (b);
    }
    /* remove right away: the copies are big */
    if (g_file_test (p, G_FILE_TEST_IS_DIR)) {
      GDir *d = g_dir_open (p, 0, NULL);
      const char *n;
      while ((n = g_dir_read_name (d))) {
        char *f = g_build_filename (p, n, NULL);
        g_unlink (f);
        g_free (f);
      }
      g_dir_close (d);
      g_rmdir (p);
    } else {
      g_unlink (p);
    }
    g_free (p);
    g_free (base);
  }
  g_free (filters);
}

int
main (int argc, char **argv)
{
  char *dir = whisper_models_dir ();
  char *tiny = g_build_filename (dir, "tiny.en", NULL);
  char *base = g_build_filename (dir, "base", NULL);
  if (!g_file_test (tiny, G_FILE_TEST_IS_DIR)) {
    printf ("SKIP: %s not found (models/tools/whisper-models fetch tiny.en)\n", tiny);
    return 77;
  }
  GError *error = NULL;
  char *tmp = g_dir_make_tmp ("test-models-real-XXXXXX", &error);
  if (!tmp) {
    fprintf (stderr, "FAIL: %s\n", error->message);
    return 1;
  }

  whisper_model *m = load_timed (tiny);
  CHECK (m->hp.n_vocab == 51864 && m->hp.n_audio_state == 384
      && m->hp.n_audio_layer == 4 && m->hp.n_audio_head == 6,
      "tiny.en hparams");
  CHECK (!m->is_multilingual && m->tok.eot == 50256 && m->tok.sot == 50257
      && m->tok.no_timestamps == 50362 && m->tok.timestamp_begin == 50363,
      "tiny.en special tokens");
  CHECK (m->n_alignment_heads == 8, "tiny.en alignment heads");
  CHECK (m->vocab.n_merges == 50000, "tiny.en merges");
  check_fill_specials (m);
  check_suppress (m, tiny);
  roundtrip (m, tmp, "tiny.en", TRUE);
  whisper_model_free (m);

  if (g_file_test (base, G_FILE_TEST_IS_DIR)) {
    m = load_timed (base);
    CHECK (m->hp.n_vocab == 51865 && m->is_multilingual && m->tok.eot == 50257
        && m->tok.lang_first == 50259 && m->tok.n_langs == 99
        && m->tok.timestamp_begin == 50364, "base special tokens");
    check_fill_specials (m);
    check_suppress (m, base);
    roundtrip (m, tmp, "base", FALSE);
    whisper_model_free (m);
  } else {
    printf ("(base not found: multilingual checks skipped)\n");
  }
  g_rmdir (tmp);
  g_free (tmp);
  g_free (tiny);
  g_free (base);
  g_free (dir);
  printf ("%s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}
