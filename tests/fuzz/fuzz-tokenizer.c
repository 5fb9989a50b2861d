/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness of the tokenizer (models/decoder/tokenizer.c) on the
 * whisper-synth model's vocabulary, with BPE merges (hf-f32) and without
 * (ggml-f32: greedy longest match).
 *
 * Input: one control byte, then bytes.  Control bit 0 picks the model, bit
 * 1 the direction:
 *   encode: the bytes as text.  Invalid UTF-8 must be refused with an
 *           error; valid UTF-8 must encode, every id must be a text token,
 *           and decoding the ids must give the text back byte for byte.
 *   decode: the bytes as native int32 ids (any value): the text must be
 *           valid UTF-8.
 * Both also look the bytes up as one token and as a language code.
 */
#include "fuzz-common.h"

#include "whisper.h"
#include "model-internal.h"
#include "tokenizer.h"

static whisper_model *models[2];
static whisper_tokenizer *toks[2];

static const char *const seed_texts[] = {
  "hello world",
  " the end - (it's 42) and then",
  "Ask not what your country can do for you --",
  "  multiple   spaces\tand\ttabs\n\nnewlines ",
  "<|endoftext|><|en|> not special",
  "caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80",
  "'s 't 're 've 'm 'll 'd",
  "\xff\xfe invalid",
};

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *out = fuzz_corpus_out ();
  if (out) {
    int k = 0;
    for (int c = 0; c < 4; c++)
      for (guint i = 0; i < G_N_ELEMENTS (seed_texts); i++) {
        if (c & 2) {
          /* decode: ids around the interesting boundaries */
          int ids[] = { 0, 1, 255, 256, 271, 272, 273, 280, 1780, 1781, -1,
            (int) i, 300 + (int) i
          };
          fuzz_corpus_add (out, k++, c, ids, sizeof ids);
        } else {
          fuzz_corpus_add (out, k++, c, seed_texts[i], strlen (seed_texts[i]));
        }
      }
    exit (0);
  }
  const char *names[2] = { "ggml-f32.bin", "hf-f32" };
  for (int i = 0; i < 2; i++) {
    GError *error = NULL;
    char *p = g_build_filename (fuzz_seed_dir (), names[i], NULL);
    models[i] = whisper_model_load (p, &error);
    if (models[i])
      toks[i] = whisper_tokenizer_new (models[i], &error);
    if (!toks[i]) {
      fprintf (stderr, "fuzz-tokenizer: %s: %s\n", p, error->message);
      exit (2);
    }
    g_free (p);
  }
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  if (size < 1)
    return 0;
  const whisper_tokenizer *tok = toks[data[0] & 1];
  const whisper_model *m = models[data[0] & 1];
  const char *bytes = (const char *) data + 1;
  size_t n = size - 1;

  int id = whisper_tokenizer_token_id (tok, bytes, (int) n);
  if (id >= 0) {
    int len;
    const char *b = whisper_tokenizer_token_bytes (tok, id, &len);
    if ((size_t) len != n || memcmp (b, bytes, n) != 0)
      abort ();
  }
  char *s = g_strndup (bytes, n);
  whisper_tokenizer_language_token (tok, s);

  if (data[0] & 2) {
    size_t n_ids = n / sizeof (int);
    int *ids = g_new (int, MAX (n_ids, 1));
    memcpy (ids, bytes, n_ids * sizeof (int));
    char *text = whisper_tokenizer_decode (tok, ids, (int) n_ids);
    if (!g_utf8_validate (text, -1, NULL))
      abort ();
    for (size_t i = 0; i < n_ids; i++)
      g_free (whisper_tokenizer_language_code (tok, ids[i]));
    g_free (text);
    g_free (ids);
  } else {
    /* the text up to its first NUL, as a C string */
    GError *error = NULL;
    int n_ids = -1;
    int *ids = whisper_tokenizer_encode (tok, s, &n_ids, &error);
    gboolean valid = g_utf8_validate (s, -1, NULL);
    if (!valid) {
      if (ids || !error)
        abort ();
      g_clear_error (&error);
    } else {
      if (!ids && n_ids != 0 && *s)
        abort ();
      for (int i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= m->vocab.n_tokens
            || ids[i] >= m->tok.eot)
          abort ();
      char *back = whisper_tokenizer_decode (tok, ids, n_ids);
      if (strcmp (back, s) != 0) {
        fprintf (stderr, "round trip: \"%s\" -> \"%s\"\n", s, back);
        abort ();
      }
      g_free (back);
      g_free (ids);
    }
  }
  g_free (s);
  return 0;
}
