/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Model file tests on the synthetic model (no download, no GStreamer):
 *  - the synthetic model written in every format loads back with identical
 *    weights, vocabulary, special tokens (int8: within the quantisation step)
 *  - corrupted copies (truncated, wrong magic, overflowing dims, missing or
 *    misshaped tensor, unknown dtype, empty directory/file, bad JSON) give
 *    one WHISPER_ERROR naming the file and the problem
 *  - the registry shares one load per path across threads, refcounted
 *  - float16 conversion, JSON reader edge cases
 * Built twice by meson: against the engine, and from the loader sources
 * under AddressSanitizer (test-models-asan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "model-internal.h"
#include "model-write.h"

static char *tmp_dir;           /* synthetic models, written once */

/* ------------------------------------------------------------------------ */
/* helpers */

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static whisper_model *
load_ok (const char *path)
{
  GError *error = NULL;
  whisper_model *m = whisper_model_load (path, &error);
  if (!m)
    g_error ("loading %s: %s", path, error->message);
  return m;
}

typedef enum { EXACT, INT8, INT16 } compare_mode;

/* Exact comparison of everything a loader fills; INT8 / INT16: weights
 * within half a quantisation step instead of bit for bit. */
static void
assert_same_model (const whisper_model * a, const whisper_model * b,
    compare_mode mode, gboolean heads)
{
  g_assert_cmpmem (&a->hp, sizeof a->hp, &b->hp, sizeof b->hp);
  int na, nb;
  whisper_slot *sa = whisper_model_slots (a, &na);
  whisper_slot *sb = whisper_model_slots (b, &nb);
  g_assert_cmpint (na, ==, nb);
  /* int16 has one scale per (possibly fused) tensor: bound by the largest
   * weight of the model */
  float amax_all = 0;
  for (int i = 0; i < na; i++)
    for (size_t j = 0; j < sa[i].n; j++)
      amax_all = fmaxf (amax_all, fabsf (sa[i].data[j]));
  for (int i = 0; i < na; i++) {
    g_assert_cmpstr (sa[i].name, ==, sb[i].name);
    g_assert_cmpuint (sa[i].n, ==, sb[i].n);
    if (mode == EXACT || memcmp (sa[i].data, sb[i].data, sa[i].n * 4) == 0) {
      if (memcmp (sa[i].data, sb[i].data, sa[i].n * 4) != 0)
        g_error ("tensor %s differs", sa[i].name);
      continue;
    }
    if (mode == INT16) {
      for (size_t j = 0; j < sa[i].n; j++) {
        float d = fabsf (sa[i].data[j] - sb[i].data[j]);
        if (d > amax_all / 2048.0f * 1.0001f)
          g_error ("tensor %s: int16 error %g > %g", sa[i].name, d,
              amax_all / 2048.0f);
      }
      continue;
    }
    /* per row: |w - q/s| <= amax / 127 / 2 (rounding to nearest) */
    size_t rows = sa[i].ne[0], row_len = sa[i].n / rows;
    for (size_t r = 0; r < rows; r++) {
      float amax = 0;
      for (size_t j = 0; j < row_len; j++)
        amax = fmaxf (amax, fabsf (sa[i].data[r * row_len + j]));
      for (size_t j = 0; j < row_len; j++) {
        float d = fabsf (sa[i].data[r * row_len + j] - sb[i].data[r * row_len + j]);
        if (d > amax / 254.0f * 1.0001f + 1e-12f)
          g_error ("tensor %s row %zu: int8 error %g > %g", sa[i].name, r, d,
              amax / 254.0f);
      }
    }
  }
  g_free (sa);
  g_free (sb);
  g_assert_cmpint (a->vocab.n_tokens, ==, b->vocab.n_tokens);
  for (int i = 0; i < a->vocab.n_tokens; i++) {
    g_assert_cmpint (a->vocab.token_len[i], ==, b->vocab.token_len[i]);
    g_assert_cmpmem (a->vocab.token[i], a->vocab.token_len[i],
        b->vocab.token[i], b->vocab.token_len[i]);
  }
  g_assert_cmpmem (&a->tok, sizeof a->tok, &b->tok, sizeof b->tok);
  g_assert_cmpint (a->is_multilingual, ==, b->is_multilingual);
  g_assert_cmpmem (a->suppress_tokens, a->n_suppress_tokens * sizeof (int),
      b->suppress_tokens, b->n_suppress_tokens * sizeof (int));
  if (heads)
    g_assert_cmpmem (a->alignment_heads, a->n_alignment_heads * 2 * sizeof (int),
        b->alignment_heads, b->n_alignment_heads * 2 * sizeof (int));
}

static void
write_all_formats (const whisper_model * m, const char *sub)
{
  GError *error = NULL;
  char *d = tmp_path (sub);
  g_assert_cmpint (g_mkdir_with_parents (d, 0755), ==, 0);
  struct { const char *name; int fmt; whisper_save_type t; } out[] = {
    { "ggml-f32.bin", 0, WHISPER_SAVE_F32 }, { "ggml-f16.bin", 0, WHISPER_SAVE_F16 },
    { "ct2-f32", 1, WHISPER_SAVE_F32 }, { "ct2-f16", 1, WHISPER_SAVE_F16 },
    { "ct2-bf16", 1, WHISPER_SAVE_BF16 }, { "ct2-int16", 1, WHISPER_SAVE_INT16 },
    { "ct2-int8", 1, WHISPER_SAVE_INT8 }, { "hf-f32", 2, WHISPER_SAVE_F32 },
    { "hf-f16", 2, WHISPER_SAVE_F16 }, { "hf-bf16", 2, WHISPER_SAVE_BF16 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (out); i++) {
    char *p = g_build_filename (d, out[i].name, NULL);
    gboolean ok = out[i].fmt == 0 ?
        whisper_model_save_ggml (m, p, out[i].t, NULL, &error) :
        out[i].fmt == 1 ? whisper_model_save_ct2 (m, p, out[i].t, &error) :
        whisper_model_save_safetensors (m, p, out[i].t, &error);
    g_assert_no_error (error);
    g_assert_true (ok);
    g_free (p);
  }
  g_free (d);
}

static gchar *
read_all (const char *file, gsize * len)
{
  gchar *data;
  GError *error = NULL;
  g_file_get_contents (file, &data, len, &error);
  g_assert_no_error (error);
  return data;
}

/* (not g_file_set_contents: it fsyncs, far too slow for thousands of
 * truncated copies) */
static void
write_all (const char *file, const void *data, gsize len)
{
  FILE *fp = fopen (file, "wb");
  g_assert_nonnull (fp);
  g_assert_cmpuint (fwrite (data, 1, len, fp), ==, len);
  g_assert_cmpint (fclose (fp), ==, 0);
}

/* Copies a file or a directory (one level). */
static void
copy_model (const char *src, const char *dst)
{
  if (g_file_test (src, G_FILE_TEST_IS_DIR)) {
    g_assert_cmpint (g_mkdir_with_parents (dst, 0755), ==, 0);
    GDir *dir = g_dir_open (src, 0, NULL);
    const char *n;
    while ((n = g_dir_read_name (dir))) {
      char *a = g_build_filename (src, n, NULL), *b = g_build_filename (dst, n, NULL);
      copy_model (a, b);
      g_free (a);
      g_free (b);
    }
    g_dir_close (dir);
  } else {
    gsize len;
    gchar *d = read_all (src, &len);
    write_all (dst, d, len);
    g_free (d);
  }
}

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    GDir *dir = g_dir_open (path, 0, NULL);
    const char *n;
    while ((n = g_dir_read_name (dir))) {
      char *a = g_build_filename (path, n, NULL);
      rm_rf (a);
      g_free (a);
    }
    g_dir_close (dir);
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

static guint8 *
find_bytes (guint8 * data, gsize len, const char *needle, gsize nlen)
{
  for (gsize i = 0; i + nlen <= len; i++)
    if (memcmp (data + i, needle, nlen) == 0)
      return data + i;
  g_error ("'%s' not found in the file", needle);
  return NULL;
}

/* Loads @path, expects failure with an error that names @file_part and
 * contains @problem. */
static void
expect_error (const char *path, const char *file_part, const char *problem)
{
  GError *error = NULL;
  whisper_model *m = whisper_model_load (path, &error);
  g_assert_null (m);
  g_assert_nonnull (error);
  g_assert_true (error->domain == WHISPER_ERROR);
  if (!strstr (error->message, file_part) || !strstr (error->message, problem))
    g_error ("error for %s: \"%s\" does not name '%s' and '%s'", path,
        error->message, file_part, problem);
  g_test_message ("%s -> %s", path, error->message);
  g_error_free (error);
}

/* A corrupted copy of synthetic model @src (under the en/ set): @edit
 * modifies @file inside it (or the file itself). Returns the copy's path. */
typedef void (*edit_func) (guint8 * data, gsize * len);

static char *
corrupt_copy (const char *src, const char *file, const char *tag,
    edit_func edit)
{
  char *s = g_build_filename (tmp_dir, "en", src, NULL);
  char *dst = g_build_filename (tmp_dir, "bad", tag, NULL);
  rm_rf (dst);
  char *parent = g_path_get_dirname (dst);
  g_mkdir_with_parents (parent, 0755);
  g_free (parent);
  copy_model (s, dst);
  char *f = file ? g_build_filename (dst, file, NULL) : g_strdup (dst);
  gsize len;
  guint8 *data = (guint8 *) read_all (f, &len);
  /* room for edits that grow the file a little */
  data = g_realloc (data, len + 256);
  edit (data, &len);
  write_all (f, data, len);
  g_free (data);
  g_free (f);
  g_free (s);
  return dst;
}

/* ------------------------------------------------------------------------ */
/* tests: formats */

/* whisper_model_weight: the file's own bytes for the dtype it holds, an
 * exact float32 copy otherwise, nothing for a lossy request. */
static void
test_weight_views (void)
{
  const char *w = "decoder.blocks.0.attn.query.weight";
  char *p16 = g_build_filename (tmp_dir, "en", "ct2-f16", NULL);
  char *p32 = g_build_filename (tmp_dir, "en", "ggml-f32.bin", NULL);
  char *pi8 = g_build_filename (tmp_dir, "en", "ct2-int8", NULL);
  whisper_model *m16 = load_ok (p16), *m32 = load_ok (p32), *mi8 = load_ok (pi8);
  GError *error = NULL;

  const whisper_tensor *t16 = whisper_model_tensor (m16, w);
  g_assert_nonnull (t16);
  g_assert_cmpint (t16->dtype, ==, WHISPER_DTYPE_F16);
  g_assert_cmpint (t16->n_dims, ==, 2);
  g_assert_cmpint (t16->ne[0], ==, m16->hp.n_text_state);
  g_assert_cmpint (t16->ne[1], ==, m16->hp.n_text_state);
  g_assert_true (whisper_model_weight (m16, w, WHISPER_DTYPE_F16, NULL)
      == t16->data);
  const float *f = whisper_model_weight (m16, w, WHISPER_DTYPE_F32, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f);
  g_assert_true (whisper_model_weight (m16, w, WHISPER_DTYPE_F32, NULL) == f);
  const float *f32 = whisper_model_weight (m32, w, WHISPER_DTYPE_F32, NULL);
  g_assert_true ((const void *) f32 == whisper_model_tensor (m32, w)->data);
  g_assert_cmpmem (f, t16->n * 4, f32, t16->n * 4);
  /* lossy: no half floats of a float32 or int8 file */
  g_assert_null (whisper_model_weight (m32, w, WHISPER_DTYPE_F16, NULL));
  g_assert_null (whisper_model_weight (mi8, w, WHISPER_DTYPE_F16, NULL));
  /* int8 keeps its per-row scales; float32 is q / scale */
  const whisper_tensor *ti8 = whisper_model_tensor (mi8, w);
  g_assert_cmpint (ti8->dtype, ==, WHISPER_DTYPE_I8);
  g_assert_cmpuint (ti8->n_scale, ==, (guint64) ti8->ne[0]);
  g_assert_nonnull (whisper_model_weight (mi8, w, WHISPER_DTYPE_F32, NULL));
  g_assert_null (whisper_model_tensor (m16, "decoder.no.such.weight"));

  whisper_model_free (m16);
  whisper_model_free (m32);
  whisper_model_free (mi8);
  g_free (p16), g_free (p32), g_free (pi8);
}

static void
test_formats (gconstpointer langs_p)
{
  int langs = GPOINTER_TO_INT (langs_p);
  GError *error = NULL;
  whisper_synth_params p = whisper_synth_params_default ();
  p.n_langs = langs;
  whisper_model *ref = whisper_model_synthetic (&p, &error);
  g_assert_no_error (error);
  const char *sub = langs ? "multi" : "en";   /* written by main() */

  /* special-token layout: openai's order */
  const whisper_special_tokens *t = &ref->tok;
  g_assert_cmpint (t->eot, ==, 256 + 16);
  g_assert_cmpint (t->sot, ==, t->eot + 1);
  g_assert_cmpint (t->translate, ==, t->sot + 1 + langs);
  g_assert_cmpint (t->transcribe, ==, t->translate + 1);
  g_assert_cmpint (t->sot_lm, ==, t->translate + 2);
  g_assert_cmpint (t->sot_prev, ==, t->translate + 3);
  g_assert_cmpint (t->no_speech, ==, t->translate + 4);
  g_assert_cmpint (t->no_timestamps, ==, t->translate + 5);
  g_assert_cmpint (t->timestamp_begin, ==, t->translate + 6);
  g_assert_cmpint (ref->hp.n_vocab, ==, t->timestamp_begin + 1501);
  g_assert_cmpint (ref->is_multilingual, ==, langs > 0);
  g_assert_cmpint (t->n_langs, ==, langs);
  g_assert_cmpint (t->lang_first, ==, langs ? t->sot + 1 : -1);
  /* non-speech list: '"' (byte token) and " -" (a merge) are in it */
  gboolean quote = FALSE, dash = FALSE;
  for (int i = 0; i < ref->n_suppress_tokens; i++) {
    int id = ref->suppress_tokens[i];
    quote |= ref->vocab.token_len[id] == 1 && ref->vocab.token[id][0] == '"';
    dash |= strcmp (ref->vocab.token[id], " -") == 0;
  }
  g_assert_true (quote && dash);

  const char *names[] = { "ggml-f32.bin", "ggml-f16.bin", "ct2-f32", "ct2-f16",
    "ct2-bf16", "ct2-int16", "ct2-int8", "hf-f32", "hf-f16", "hf-bf16" };
  const char *formats[] = { "ggml", "ggml", "ctranslate2", "ctranslate2",
    "ctranslate2", "ctranslate2", "ctranslate2", "safetensors", "safetensors",
    "safetensors" };
  const char *dtypes[] = { "float32", "float16", "float32", "float16",
    "bfloat16", "int16", "int8", "float32", "float16", "bfloat16" };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++) {
    char *path = g_build_filename (tmp_dir, sub, names[i], NULL);
    whisper_model *m = load_ok (path);
    g_assert_cmpstr (m->format, ==, formats[i]);
    g_assert_cmpstr (m->weight_dtype, ==, dtypes[i]);
    g_assert_cmpstr (m->path, ==, path);
    gboolean is_ggml = g_str_has_prefix (names[i], "ggml");
    assert_same_model (ref, m, strcmp (dtypes[i], "int8") == 0 ? INT8 :
        strcmp (dtypes[i], "int16") == 0 ? INT16 : EXACT, !is_ggml);
    if (is_ggml) {
      g_assert_cmpint (m->vocab.n_merges, ==, 0);
      /* no published head set for these dimensions: openai's fallback,
       * every head of the second half of the text layers */
      const int L = m->hp.n_text_layer, H = m->hp.n_text_head;
      g_assert_cmpint (m->n_alignment_heads, ==, (L - L / 2) * H);
      g_assert_cmpint (m->alignment_heads[0][0], ==, L / 2);
      g_assert_cmpint (m->alignment_heads[0][1], ==, 0);
      g_assert_cmpint (m->alignment_heads[m->n_alignment_heads - 1][0], ==,
          L - 1);
      g_assert_cmpint (m->alignment_heads[m->n_alignment_heads - 1][1], ==,
          H - 1);
    } else {
      g_assert_cmpint (m->vocab.n_merges, ==, ref->vocab.n_merges);
      for (int k = 0; k < m->vocab.n_merges; k++)
        g_assert_cmpstr (m->vocab.merges[k], ==, ref->vocab.merges[k]);
      g_assert_cmpint (m->n_alignment_heads, ==, 2);
    }
    /* every weight is a view into the mapped file; its float32 data is
     * the file's own bytes (aligned float32) or a copy made once */
    g_assert_null (m->storage);
    g_assert_nonnull (m->maps);
    int n;
    whisper_slot *s = whisper_model_slots (m, &n);
    g_assert_nonnull (s);
    g_assert_cmpint (n, ==, m->n_tensors);
    for (int k = 0; k < n; k++) {
      const whisper_tensor *t = s[k].tensor;
      const char *p = t->data;
      gboolean in_map = FALSE;
      for (guint j = 0; j < m->maps->len; j++) {
        GMappedFile *map = g_ptr_array_index (m->maps, j);
        const char *c = g_mapped_file_get_contents (map);
        in_map |= p >= c && p + t->n * whisper_dtype_size (t->dtype)
            <= c + g_mapped_file_get_length (map);
      }
      g_assert_true (in_map);
      g_assert_cmpuint (t->n, ==, s[k].n);
      if (t->f32) {
        g_assert_true (s[k].data == t->f32);
        g_assert_cmpuint ((uintptr_t) s[k].data % 64, ==, 0);
      } else {
        g_assert_cmpint (t->dtype, ==, WHISPER_DTYPE_F32);
        g_assert_true ((const void *) s[k].data == t->data);
      }
    }
    g_free (s);
    whisper_model_free (m);
    g_free (path);
  }
  /* a file path to model.bin / model.safetensors works too */
  char *bin = g_build_filename (tmp_dir, sub, "ct2-f32", "model.bin", NULL);
  whisper_model *m = load_ok (bin);
  assert_same_model (ref, m, EXACT, TRUE);
  whisper_model_free (m);
  g_free (bin);
  whisper_model_free (ref);
}

static void
json_str (GString * s, const char *str, int len)
{
  g_string_append_c (s, '"');
  for (int i = 0; i < len; i++) {
    unsigned char c = str[i];
    if (c == '"' || c == '\\')
      g_string_append_printf (s, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (s, "\\u%04x", c);
    else
      g_string_append_c (s, c);
  }
  g_string_append_c (s, '"');
}

/* The other vocabulary layouts of Hugging Face directories: vocab.json +
 * added_tokens.json + merges.txt (no tokenizer.json), and tokenizer.json
 * with merges as pairs (tokenizers >= 0.20). */
static void
test_hf_vocab_variants (void)
{
  GError *error = NULL;
  whisper_synth_params p = whisper_synth_params_default ();
  p.n_langs = 3;
  whisper_model *ref = whisper_model_synthetic (&p, &error);
  g_assert_no_error (error);
  const whisper_vocab *v = &ref->vocab;
  int eot = ref->tok.eot;

  char *src = g_build_filename (tmp_dir, "multi", "hf-f16", NULL);
  char *dst = g_build_filename (tmp_dir, "hf-vocab-json", NULL);
  copy_model (src, dst);
  char *f = g_build_filename (dst, "tokenizer.json", NULL);
  g_unlink (f);
  g_free (f);
  GString *vj = g_string_new ("{"), *aj = g_string_new ("{"),
      *mt = g_string_new ("#version: 0.2\n");
  for (int i = 0; i < v->n_tokens; i++) {
    char *mapped = whisper_token_map (v->token[i], v->token_len[i]);
    GString *o = i < eot ? vj : aj;
    if (o->len > 1)
      g_string_append_c (o, ',');
    if (i < eot)
      json_str (o, mapped, strlen (mapped));
    else
      json_str (o, v->token[i], v->token_len[i]);
    g_string_append_printf (o, ":%d", i);
    g_free (mapped);
  }
  g_string_append_c (vj, '}');
  g_string_append_c (aj, '}');
  for (int i = 0; i < v->n_merges; i++)
    g_string_append_printf (mt, "%s\n", v->merges[i]);
  const struct { const char *name; GString *s; } files[] = {
    { "vocab.json", vj }, { "added_tokens.json", aj }, { "merges.txt", mt } };
  for (size_t i = 0; i < G_N_ELEMENTS (files); i++) {
    f = g_build_filename (dst, files[i].name, NULL);
    write_all (f, files[i].s->str, files[i].s->len);
    g_free (f);
  }
  whisper_model *m = load_ok (dst);
  assert_same_model (ref, m, EXACT, TRUE);
  g_assert_cmpint (m->vocab.n_merges, ==, v->n_merges);
  for (int i = 0; i < v->n_merges; i++)
    g_assert_cmpstr (m->vocab.merges[i], ==, v->merges[i]);
  whisper_model_free (m);

  /* tokenizer.json with ["a", "b"] merges, vocabulary from it */
  GString *tj = g_string_new ("{\"added_tokens\":[");
  for (int i = eot; i < v->n_tokens; i++) {
    g_string_append_printf (tj, "%s{\"id\":%d,\"content\":", i > eot ? "," : "", i);
    json_str (tj, v->token[i], v->token_len[i]);
    g_string_append (tj, ",\"special\":true}");
  }
  g_string_append (tj, "],\"model\":{\"type\":\"BPE\",\"vocab\":");
  g_string_append (tj, vj->str);
  g_string_append (tj, ",\"merges\":[");
  for (int i = 0; i < v->n_merges; i++) {
    char **pair = g_strsplit (v->merges[i], " ", 2);
    g_string_append (tj, i ? ",[" : "[");
    json_str (tj, pair[0], strlen (pair[0]));
    g_string_append_c (tj, ',');
    json_str (tj, pair[1], strlen (pair[1]));
    g_string_append_c (tj, ']');
    g_strfreev (pair);
  }
  g_string_append (tj, "]}}");
  for (size_t i = 0; i < G_N_ELEMENTS (files); i++) {
    f = g_build_filename (dst, files[i].name, NULL);
    g_unlink (f);
    g_free (f);
  }
  f = g_build_filename (dst, "tokenizer.json", NULL);
  write_all (f, tj->str, tj->len);
  g_free (f);
  m = load_ok (dst);
  assert_same_model (ref, m, EXACT, TRUE);
  g_assert_cmpint (m->vocab.n_merges, ==, v->n_merges);
  for (int i = 0; i < v->n_merges; i++)
    g_assert_cmpstr (m->vocab.merges[i], ==, v->merges[i]);
  whisper_model_free (m);

  g_string_free (tj, TRUE);
  g_string_free (vj, TRUE);
  g_string_free (aj, TRUE);
  g_string_free (mt, TRUE);
  rm_rf (dst);
  g_free (dst);
  g_free (src);
  whisper_model_free (ref);
}

/* whisper.cpp's ggml files list only the ordinary tokens; the special ones
 * follow from n_vocab (51864 English-only, 51865 multilingual). */
static void
test_fill_specials (void)
{
  const int sizes[] = { 51864, 51865, 51866 };
  for (size_t k = 0; k < G_N_ELEMENTS (sizes); k++) {
    int V = sizes[k];
    whisper_model *m = g_new0 (whisper_model, 1);
    m->hp.n_vocab = V;
    whisper_vocab_init (&m->vocab, V);
    int n_ord = V == 51864 ? 50256 : 50257;
    for (int i = 0; i < n_ord; i++) {
      char b[16];
      int l = g_snprintf (b, sizeof b, "t%d", i);
      whisper_vocab_set (&m->vocab, i, b, l);
    }
    whisper_vocab_fill_specials (&m->vocab, V);
    GError *error = NULL;
    g_assert_true (whisper_model_find_specials (m, "test", &error));
    g_assert_no_error (error);
    const whisper_special_tokens *t = &m->tok;
    int langs = V == 51864 ? 0 : V == 51865 ? 99 : 100;
    g_assert_cmpint (t->eot, ==, n_ord);
    g_assert_cmpint (t->sot, ==, n_ord + 1);
    g_assert_cmpint (m->is_multilingual, ==, V != 51864);
    g_assert_cmpint (t->n_langs, ==, langs);
    /* .en vocabularies list 99 language tokens too */
    g_assert_cmpint (t->translate, ==, n_ord + 2 + (V == 51866 ? 100 : 99));
    g_assert_cmpint (t->no_timestamps, ==, t->translate + 5);
    g_assert_cmpint (t->timestamp_begin, ==, t->translate + 6);
    g_assert_cmpint (V - t->timestamp_begin, ==, 1501);
    g_assert_cmpstr (m->vocab.token[V - 1], ==, "<|30.00|>");
    if (V == 51866)
      g_assert_cmpstr (m->vocab.token[t->sot + 100], ==, "<|yue|>");
    whisper_model_free (m);
  }
}

/* ------------------------------------------------------------------------ */
/* tests: corrupted files */

static void
cut_half (guint8 * d, gsize * len)
{
  *len /= 2;
}

static void
cut_tail (guint8 * d, gsize * len)
{
  *len -= 3;
}

static void
ggml_magic (guint8 * d, gsize * len)
{
  d[0] ^= 0xff;
}

static void
ggml_overflow (guint8 * d, gsize * len)
{
  guint8 *name = find_bytes (d, *len, "encoder.conv1.weight", 20);
  for (int i = 1; i <= 3; i++) {
    gint32 v = GINT32_TO_LE (0x7fffffff);
    memcpy (name - 4 * i, &v, 4);
  }
}

static void
ggml_hparam (guint8 * d, gsize * len)
{
  gint32 v = GINT32_TO_LE (-5);
  memcpy (d + 4 + 4 * 4, &v, 4);        /* n_audio_layer */
}

/* hyper-parameters of a 128 GB model in a 2 MB file: refused before any
 * allocation */
static void
ggml_huge (guint8 * d, gsize * len)
{
  gint32 v = GINT32_TO_LE (1 << 20), c = GINT32_TO_LE (32768);
  memcpy (d + 4, &v, 4);        /* n_vocab */
  memcpy (d + 4 + 2 * 4, &c, 4);        /* n_audio_state */
  memcpy (d + 4 + 6 * 4, &c, 4);        /* n_text_state */
}

/* drop the last tensor (decoder.ln.bias [64] f32: 3 + 1 ints, name, data) */
static void
ggml_drop_last (guint8 * d, gsize * len)
{
  *len -= 4 * 4 + strlen ("decoder.ln.bias") + 64 * 4;
}

static void
ggml_misshape (guint8 * d, gsize * len)
{
  /* encoder.blocks.0.mlp.0.weight: ne = [64, 256] -> [256, 64] */
  guint8 *name = find_bytes (d, *len, "encoder.blocks.0.mlp.0.weight", 29);
  gint32 a, b;
  memcpy (&a, name - 8, 4);
  memcpy (&b, name - 4, 4);
  memcpy (name - 8, &b, 4);
  memcpy (name - 4, &a, 4);
}

static void
ggml_quantised (guint8 * d, gsize * len)
{
  guint8 *name = find_bytes (d, *len, "encoder.blocks.0.mlp.0.weight", 29);
  gint32 q = GINT32_TO_LE (8);  /* q8_0; header: n_dims, name_len, type, ne[2] */
  memcpy (name - 12, &q, 4);
}

static void
ct2_version (guint8 * d, gsize * len)
{
  d[0] = 99;
}

/* CTranslate2 variable header: name NUL, u8 rank, u32 dims[rank], u8 dtype,
 * u32 n_bytes */
static void
ct2_overflow (guint8 * d, gsize * len)
{
  guint8 *p = find_bytes (d, *len, "encoder/conv1/weight", 21) + 21;
  g_assert_cmpint (p[0], ==, 3);
  memset (p + 1, 0xff, 12);
}

static void
ct2_rename (guint8 * d, gsize * len)
{
  guint8 *p = find_bytes (d, *len, "decoder/layer_1/ffn/linear_1/bias", 34);
  p[27] = '9';                  /* linear_9 */
}

static void
ct2_misshape (guint8 * d, gsize * len)
{
  guint8 *p = find_bytes (d, *len, "encoder/layer_0/ffn/linear_0/weight", 36) + 36;
  g_assert_cmpint (p[0], ==, 2);
  guint32 a, b;
  memcpy (&a, p + 1, 4);
  memcpy (&b, p + 5, 4);
  memcpy (p + 1, &b, 4);
  memcpy (p + 5, &a, 4);
}

static void
ct2_dtype (guint8 * d, gsize * len)
{
  guint8 *p = find_bytes (d, *len, "encoder/layer_0/ffn/linear_0/weight", 36) + 36;
  p[1 + 8] = 9;
}

static void
st_header_len (guint8 * d, gsize * len)
{
  guint64 v = GUINT64_TO_LE (G_MAXUINT64 - 3);
  memcpy (d, &v, 8);
}

static void
st_rename (guint8 * d, gsize * len)
{
  guint8 *p = find_bytes (d, *len, "\"model.decoder.layer_norm.bias\"", 31);
  p[26] = 'X';                  /* "bias" -> "Xias" */
}

/* the header entry of @tensor, then @what after it */
static guint8 *
st_find (guint8 * d, gsize len, const char *tensor, const char *what)
{
  char *key = g_strdup_printf ("\"%s\":{", tensor);
  guint8 *p = find_bytes (d, len, key, strlen (key));
  g_free (key);
  return find_bytes (p, len - (p - d), what, strlen (what));
}

static void
st_misshape (guint8 * d, gsize * len)
{
  guint8 *p = st_find (d, *len, "model.encoder.layers.0.fc1.weight",
      "\"shape\":[256,64]");
  memcpy (p + 9, "64,256", 6);
}

static void
st_dtype (guint8 * d, gsize * len)
{
  guint8 *p = st_find (d, *len, "model.encoder.layers.0.fc1.weight",
      "\"dtype\":\"F32\"");
  memcpy (p + 9, "I32", 3);
}

static void
json_garbage (guint8 * d, gsize * len)
{
  memcpy (d, "[\"a\", \"b\",, ]", 13);
  *len = 13;
}

static void
empty (guint8 * d, gsize * len)
{
  *len = 0;
}

static void
test_corrupt (void)
{
  char *p;
#define BAD(src, file, tag, edit, name_part, problem) \
  p = corrupt_copy (src, file, tag, edit); \
  expect_error (p, name_part, problem); \
  g_free (p);

  /* ggml */
  BAD ("ggml-f16.bin", NULL, "ggml-trunc.bin", cut_half, "ggml-trunc.bin", "truncated");
  BAD ("ggml-f16.bin", NULL, "ggml-tail.bin", cut_tail, "ggml-tail.bin", "truncated");
  BAD ("ggml-f16.bin", NULL, "ggml-magic.bin", ggml_magic, "ggml-magic.bin", "wrong magic");
  BAD ("ggml-f32.bin", NULL, "ggml-overflow.bin", ggml_overflow, "ggml-overflow.bin", "overflow");
  BAD ("ggml-f32.bin", NULL, "ggml-hparam.bin", ggml_hparam, "ggml-hparam.bin", "n_audio_layer = -5");
  BAD ("ggml-f32.bin", NULL, "ggml-huge.bin", ggml_huge, "ggml-huge.bin", "the hyper-parameters need");
  BAD ("ggml-f32.bin", NULL, "ggml-missing.bin", ggml_drop_last, "ggml-missing.bin", "missing tensor 'decoder.ln.bias'");
  BAD ("ggml-f32.bin", NULL, "ggml-shape.bin", ggml_misshape, "ggml-shape.bin", "has shape [64, 256], expected [256, 64]");
  BAD ("ggml-f32.bin", NULL, "ggml-q8.bin", ggml_quantised, "ggml-q8.bin", "ggml type 8 (q8_0)");
  BAD ("ggml-f32.bin", NULL, "ggml-empty.bin", empty, "ggml-empty.bin", "empty file");
  /* CTranslate2 */
  BAD ("ct2-f32", "model.bin", "ct2-trunc", cut_half, "ct2-trunc/model.bin", "truncated");
  BAD ("ct2-f32", "model.bin", "ct2-tail", cut_tail, "ct2-tail/model.bin", "truncated");
  BAD ("ct2-f32", "model.bin", "ct2-version", ct2_version, "ct2-version/model.bin", "binary version 6 (found 99)");
  BAD ("ct2-f32", "model.bin", "ct2-overflow", ct2_overflow, "ct2-overflow/model.bin", "dimensions overflow");
  BAD ("ct2-f32", "model.bin", "ct2-missing", ct2_rename, "ct2-missing/model.bin", "missing tensor 'decoder/layer_1/ffn/linear_1/bias'");
  BAD ("ct2-f32", "model.bin", "ct2-shape", ct2_misshape, "ct2-shape/model.bin", "has shape [64, 256], expected [256, 64]");
  BAD ("ct2-f32", "model.bin", "ct2-dtype", ct2_dtype, "ct2-dtype/model.bin", "unknown dtype id 9");
  BAD ("ct2-f32", "model.bin", "ct2-empty", empty, "ct2-empty/model.bin", "empty file");
  BAD ("ct2-f32", "vocabulary.txt", "ct2-vocab-empty", empty, "ct2-vocab-empty/vocabulary.txt", "empty file");
  BAD ("ct2-f32", "config.json", "ct2-config", json_garbage, "ct2-config/config.json", "invalid JSON");
  /* safetensors */
  BAD ("hf-f32", "model.safetensors", "hf-trunc", cut_half, "hf-trunc/model.safetensors", "outside");
  BAD ("hf-f32", "model.safetensors", "hf-hlen", st_header_len, "hf-hlen/model.safetensors", "does not fit");
  BAD ("hf-f32", "model.safetensors", "hf-missing", st_rename, "hf-missing/model.safetensors", "missing tensor 'model.decoder.layer_norm.bias'");
  BAD ("hf-f32", "model.safetensors", "hf-shape", st_misshape, "hf-shape/model.safetensors", "has shape [64, 256], expected [256, 64]");
  BAD ("hf-f32", "model.safetensors", "hf-dtype", st_dtype, "hf-dtype/model.safetensors", "unsupported dtype I32");
  BAD ("hf-f32", "tokenizer.json", "hf-tok", json_garbage, "hf-tok/tokenizer.json", "invalid JSON");
#undef BAD

  /* safetensors: dimensions that overflow (the header grows: rebuild it) */
  {
    char *src = g_build_filename (tmp_dir, "en", "hf-f32", NULL);
    char *dst = g_build_filename (tmp_dir, "bad", "hf-overflow", NULL);
    rm_rf (dst);
    copy_model (src, dst);
    char *f = g_build_filename (dst, "model.safetensors", NULL);
    gsize len;
    guint8 *d = (guint8 *) read_all (f, &len);
    guint64 hl;
    memcpy (&hl, d, 8);
    GString *h = g_string_new_len ((char *) d + 8, hl);
    const char *from = "\"shape\":[64,80,3]";
    char *at = strstr (h->str, from);
    g_assert_nonnull (at);
    gsize pos = at - h->str;
    g_string_erase (h, pos, strlen (from));
    g_string_insert (h, pos,
        "\"shape\":[4294967295,4294967295,4294967295,4294967295]");
    GByteArray *out = g_byte_array_new ();
    guint64 nl = GUINT64_TO_LE ((guint64) h->len);
    g_byte_array_append (out, (guint8 *) & nl, 8);
    g_byte_array_append (out, (guint8 *) h->str, h->len);
    g_byte_array_append (out, d + 8 + hl, len - 8 - hl);
    write_all (f, out->data, out->len);
    expect_error (dst, "hf-overflow/model.safetensors", "overflow");
    g_byte_array_free (out, TRUE);
    g_string_free (h, TRUE);
    g_free (d);
    g_free (f);
    g_free (src);
    g_free (dst);
  }

  /* directories and paths */
  char *e = tmp_path ("empty-dir");
  g_mkdir_with_parents (e, 0755);
  expect_error (e, "empty-dir", "neither model.bin");
  GError *error = NULL;
  g_assert_null (whisper_model_load (e, &error));
  g_assert_error (error, WHISPER_ERROR, WHISPER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_free (e);
  e = tmp_path ("does-not-exist");
  expect_error (e, "does-not-exist", "no such file");
  g_free (e);
  e = tmp_path ("sharded");
  g_mkdir_with_parents (e, 0755);
  char *idx = g_build_filename (e, "model.safetensors.index.json", NULL);
  write_all (idx, "{}", 2);
  expect_error (e, "sharded", "sharded safetensors");
  g_free (idx);
  g_free (e);
  e = tmp_path ("bad/garbage.bin");
  write_all (e, "GGUF\3\0\0\0", 8);
  expect_error (e, "garbage.bin", "GGUF");
  write_all (e, "hello world", 11);
  expect_error (e, "garbage.bin", "unknown model format");
  g_free (e);
  /* CTranslate2 directory without a vocabulary */
  {
    char *src = g_build_filename (tmp_dir, "en", "ct2-f32", NULL);
    char *dst = g_build_filename (tmp_dir, "bad", "ct2-novocab", NULL);
    rm_rf (dst);
    copy_model (src, dst);
    char *v = g_build_filename (dst, "vocabulary.txt", NULL);
    char *t = g_build_filename (dst, "tokenizer.json", NULL);
    g_unlink (v);
    g_unlink (t);
    expect_error (dst, "ct2-novocab", "no vocabulary");
    g_free (v);
    g_free (t);
    g_free (src);
    g_free (dst);
  }
}

/* Every prefix of a small file: an error, never a crash (ASan checks the
 * reads). */
static void
test_every_truncation (void)
{
  const char *srcs[] = { "ggml-f16.bin", "ct2-f16/model.bin",
    "hf-f16/model.safetensors" };
  for (size_t k = 0; k < G_N_ELEMENTS (srcs); k++) {
    char *s = g_build_filename (tmp_dir, "en", srcs[k], NULL);
    gsize len;
    guint8 *d = (guint8 *) read_all (s, &len);
    char *dst = g_build_filename (tmp_dir, "bad", "prefix", NULL);
    rm_rf (dst);
    char *f;
    if (k == 0) {
      f = g_strdup (dst);
    } else {
      char *dir = g_path_get_dirname (s);
      copy_model (dir, dst);
      g_free (dir);
      f = g_build_filename (dst, k == 1 ? "model.bin" : "model.safetensors", NULL);
    }
    /* the header region byte by byte, then coarse steps; the file is
     * written once and cut shorter and shorter */
    GArray *cuts = g_array_new (FALSE, FALSE, sizeof (gsize));
    for (gsize n = 1; n < len; n += n < 4096 ? 1 : 4093)
      g_array_append_val (cuts, n);
    write_all (f, d, len);
    for (guint c = cuts->len; c-- > 0;) {
      gsize n = g_array_index (cuts, gsize, c);
      g_assert_cmpint (truncate (f, n), ==, 0);
      GError *error = NULL;
      whisper_model *m = whisper_model_load (dst, &error);
      if (m)
        g_error ("%s cut to %zu of %zu bytes loaded", srcs[k], n, len);
      g_assert_true (error->domain == WHISPER_ERROR);
      g_error_free (error);
    }
    g_array_free (cuts, TRUE);
    g_free (f);
    g_free (dst);
    g_free (d);
    g_free (s);
  }
}

/* ------------------------------------------------------------------------ */
/* registry */

typedef struct {
  const char *name;
  whisper_model *got[8];
  int n;
} reg_job;

static gpointer
reg_thread (gpointer p)
{
  reg_job *j = p;
  for (int i = 0; i < j->n; i++) {
    GError *error = NULL;
    j->got[i] = whisper_model_registry_acquire (j->name, &error);
    g_assert_no_error (error);
  }
  return NULL;
}

static void
test_registry (void)
{
  GError *error = NULL;
  char *models = tmp_path ("en");
  g_setenv ("GST_WHISPER_MODELS_DIR", models, TRUE);
  char *dir = whisper_models_dir ();
  g_assert_cmpstr (dir, ==, models);
  g_free (dir);

  /* a name resolves in the models directory, a path as is */
  char *r = whisper_model_resolve ("ct2-f16", &error);
  g_assert_no_error (error);
  char *full = g_build_filename (models, "ct2-f16", NULL);
  g_assert_cmpstr (r, ==, full);
  g_free (r);
  g_assert_null (whisper_model_resolve ("tiny.nope", &error));
  g_assert_error (error, WHISPER_ERROR, WHISPER_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "whisper-models fetch"));
  g_clear_error (&error);

  g_assert_cmpint (whisper_model_registry_size (), ==, 0);
  whisper_model *a = whisper_model_registry_acquire ("ct2-f16", &error);
  g_assert_no_error (error);
  whisper_model *b = whisper_model_registry_acquire (full, &error);
  g_assert_true (a == b);
  char *other = g_build_filename (models, "ggml-f16.bin", NULL);
  whisper_model *c = whisper_model_registry_acquire (other, &error);
  g_assert_nonnull (c);
  g_assert_true (c != a);
  g_assert_cmpint (whisper_model_registry_size (), ==, 2);
  whisper_model_registry_release (c);
  g_assert_cmpint (whisper_model_registry_size (), ==, 1);
  whisper_model_registry_release (b);
  g_assert_cmpint (whisper_model_registry_size (), ==, 1);
  g_assert_cmpint (a->hp.n_vocab, >, 0);      /* still alive */
  whisper_model_registry_release (a);
  g_assert_cmpint (whisper_model_registry_size (), ==, 0);

  /* failed loads leave nothing behind */
  g_assert_null (whisper_model_registry_acquire ("/nonexistent/model", &error));
  g_assert_error (error, WHISPER_ERROR, WHISPER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  char *bad = g_build_filename (tmp_dir, "bad", "ct2-version", NULL);
  g_assert_null (whisper_model_registry_acquire (bad, &error));
  g_assert_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT);
  g_clear_error (&error);
  g_free (bad);
  g_assert_cmpint (whisper_model_registry_size (), ==, 0);

  /* threads: first loads race; every thread gets the same model */
  for (int round = 0; round < 3; round++) {
    reg_job jobs[8];
    GThread *th[8];
    for (int i = 0; i < 8; i++) {
      jobs[i].name = (i & 1) ? "ct2-f16" : full;
      jobs[i].n = 8;
      th[i] = g_thread_new ("reg", reg_thread, &jobs[i]);
    }
    for (int i = 0; i < 8; i++)
      g_thread_join (th[i]);
    whisper_model *m0 = jobs[0].got[0];
    for (int i = 0; i < 8; i++)
      for (int k = 0; k < 8; k++)
        g_assert_true (jobs[i].got[k] == m0);
    g_assert_cmpint (whisper_model_registry_size (), ==, 1);
    /* release from several threads too */
    for (int i = 0; i < 8; i++)
      for (int k = 0; k < 8; k++)
        whisper_model_registry_release (jobs[i].got[k]);
    g_assert_cmpint (whisper_model_registry_size (), ==, 0);
  }
  g_free (other);
  g_free (full);
  g_free (models);
  g_unsetenv ("GST_WHISPER_MODELS_DIR");
}

/* ------------------------------------------------------------------------ */
/* numerics and JSON */

static void
test_f16 (void)
{
  for (guint32 h = 0; h < 65536; h++) {
    float f = kf16_to_f32 (h);
    if (isnan (f))
      continue;
    g_assert_cmpuint (kf32_to_f16 (f), ==, h);
  }
  /* rounding: halfway cases go to even, overflow to inf, underflow to 0 */
  g_assert_cmpuint (kf32_to_f16 (1.0f + 1.0f / 2048), ==, 0x3c00);
  g_assert_cmpuint (kf32_to_f16 (1.0f + 3.0f / 2048), ==, 0x3c02);
  g_assert_cmpuint (kf32_to_f16 (65520.0f), ==, 0x7c00);
  g_assert_cmpuint (kf32_to_f16 (65519.0f), ==, 0x7bff);
  g_assert_cmpuint (kf32_to_f16 (ldexpf (1, -25)), ==, 0);
  g_assert_cmpuint (kf32_to_f16 (ldexpf (1.5f, -25)), ==, 1);
  g_assert_cmpuint (kf32_to_f16 (-ldexpf (1, -24)), ==, 0x8001);
  g_assert_true (isnan (kf16_to_f32 (kf32_to_f16 (NAN))));
  g_assert_cmpfloat (whisper_bf16_to_f32 (0x3f80), ==, 1.0f);
}

static void
test_json (void)
{
  GError *error = NULL;
  const char *ok = "\xEF\xBB\xBF {\"a\": [1, -2.5e3, true, null, "
      "\"x\\u00e9\\ud83d\\ude00\\n\"], \"b\": {}} ";
  JsonNode *j = whisper_json_parse (ok, strlen (ok), "t.json", &error);
  g_assert_no_error (error);
  JsonNode *a = whisper_json_get (j, "a");
  g_assert_cmpint (whisper_json_length (a), ==, 5);
  int v;
  double d;
  g_assert_true (whisper_json_int (whisper_json_item (a, 0), &v) && v == 1);
  g_assert_true (whisper_json_number (whisper_json_item (a, 1), &d));
  g_assert_cmpfloat (d, ==, -2500);
  g_assert_true (whisper_json_int (whisper_json_item (a, 1), &v) && v == -2500);
  g_assert_false (whisper_json_number (whisper_json_item (a, 2), &d));
  g_assert_null (whisper_json_string (whisper_json_item (a, 3)));
  g_assert_cmpstr (whisper_json_string (whisper_json_item (a, 4)), ==,
      "x\xc3\xa9\xf0\x9f\x98\x80\n");
  g_assert_cmpint (whisper_json_length (whisper_json_get (j, "b")), ==, 0);
  g_assert_null (whisper_json_get (j, "c"));
  g_assert_null (whisper_json_get (a, "a"));
  json_node_unref (j);
  const char *bad[] = { "", "  ", "[1,]", "{\"a\" 1}", "[\"\\ud800\"]",
    "[1] x", "\"abc", "{\"a\":tru}", "[1e99999999999999999999999999999]",
    "[2.5]",
  };
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++) {
    j = whisper_json_parse (bad[i], strlen (bad[i]), "t.json", &error);
    if (i >= 8) {               /* numbers, but not ints */
      g_assert_no_error (error);
      g_assert_false (whisper_json_int (whisper_json_item (j, 0), &v));
      json_node_unref (j);
      continue;
    }
    g_assert_null (j);
    g_assert_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT);
    g_assert_nonnull (strstr (error->message, "t.json: invalid JSON"));
    g_clear_error (&error);
  }
  /* nesting is bounded (json-glib alone would overflow the stack); brackets
   * inside strings do not count */
  GString *deep = g_string_new (NULL);
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  g_assert_null (whisper_json_parse (deep->str, deep->len, "t.json", &error));
  g_assert_nonnull (strstr (error->message, "nested too deeply"));
  g_clear_error (&error);
  g_string_assign (deep, "[\"");
  for (int i = 0; i < 1000; i++)
    g_string_append (deep, "[\\\"");
  g_string_append (deep, "\"]");
  j = whisper_json_parse (deep->str, deep->len, "t.json", &error);
  g_assert_no_error (error);
  json_node_unref (j);
  g_string_free (deep, TRUE);
}

static void
test_byte_mapping (void)
{
  for (int b = 0; b < 256; b++) {
    char c = (char) b;
    char *mapped = whisper_token_map (&c, 1);
    int len;
    char *back = whisper_token_unmap (mapped, strlen (mapped), &len);
    g_assert_cmpint (len, ==, 1);
    g_assert_cmpint ((guint8) back[0], ==, b);
    g_free (mapped);
    g_free (back);
  }
  int len;
  char *t = whisper_token_unmap ("Ġhello", strlen ("Ġhello"), &len);
  g_assert_cmpstr (t, ==, " hello");
  g_free (t);
  t = whisper_token_unmap ("<|endoftext|>", 13, &len);
  g_assert_cmpstr (t, ==, "<|endoftext|>");
  g_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  GError *error = NULL;
  tmp_dir = g_dir_make_tmp ("test-models-XXXXXX", &error);
  g_assert_no_error (error);

  /* the synthetic model in every format, for all tests */
  for (int langs = 0; langs <= 3; langs += 3) {
    whisper_synth_params p = whisper_synth_params_default ();
    p.n_langs = langs;
    whisper_model *m = whisper_model_synthetic (&p, &error);
    g_assert_no_error (error);
    write_all_formats (m, langs ? "multi" : "en");
    whisper_model_free (m);
  }

  g_test_add_func ("/models/f16", test_f16);
  g_test_add_func ("/models/weight-views", test_weight_views);
  g_test_add_func ("/models/json", test_json);
  g_test_add_func ("/models/byte-mapping", test_byte_mapping);
  g_test_add_func ("/models/fill-specials", test_fill_specials);
  g_test_add_data_func ("/models/formats/english", GINT_TO_POINTER (0),
      test_formats);
  g_test_add_data_func ("/models/formats/multilingual", GINT_TO_POINTER (3),
      test_formats);
  g_test_add_func ("/models/hf-vocab-variants", test_hf_vocab_variants);
  g_test_add_func ("/models/corrupt", test_corrupt);
  g_test_add_func ("/models/every-truncation", test_every_truncation);
  g_test_add_func ("/models/registry", test_registry);
  int rc = g_test_run ();
  if (!g_getenv ("TEST_MODELS_KEEP"))
    rm_rf (tmp_dir);
  g_free (tmp_dir);
  return rc;
}
