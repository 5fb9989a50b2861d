/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whisper.cpp ggml model files (ggml-tiny.en.bin etc.).
 *
 * Layout (little-endian, whisper.cpp models/convert-pt-to-ggml.py):
 *   u32 magic 0x67676d6c ("ggml")
 *   i32 n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
 *       n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype
 *   i32 filters_n_mel, filters_n_fft; f32 filters[n_mel][n_fft]
 *   i32 n_tokens; n_tokens x { u32 len; u8 bytes[len] }   (raw bytes)
 *   until the end of the file, tensors:
 *     i32 n_dims, name_len, type; i32 ne[n_dims] (innermost first);
 *     char name[name_len]; data (type 0 f32, 1 f16)
 * Tensor names are openai's PyTorch names; the conv biases are stored as
 * [C][1].  The file lists the ordinary tokens only (50256 .en, 50257
 * multilingual); the special tokens follow from n_vocab, as whisper.cpp
 * derives them (whisper_vocab_fill_specials).
 * Quantised ggml types (q4_0, q5_1, q8_0, ...) are refused.
 */
#include <string.h>

#include "model-internal.h"

#define GGML_MAGIC 0x67676d6c

static gboolean
gg_i32 (whisper_reader * r, gint32 * v, const char *what)
{
  guint32 u;
  if (!whisper_reader_u32 (r, &u, what))
    return FALSE;
  *v = (gint32) u;
  return TRUE;
}

static const char *
ggml_type_name (int t)
{
  static const char *const names[] = { "f32", "f16", "q4_0", "q4_1",
    "q4_2", "q4_3", "q5_0", "q5_1", "q8_0", "q8_1", "q2_k", "q3_k", "q4_k",
    "q5_k", "q6_k", "q8_k" };
  return t >= 0 && t < (int) G_N_ELEMENTS (names) ? names[t] : "unknown";
}

gboolean
whisper_load_ggml (whisper_model * model, const char *file, GError ** error)
{
  GMappedFile *map = NULL;
  whisper_slot *slots = NULL;
  GHashTable *by_name = NULL;
  guint8 *seen = NULL;
  int n_slots = 0;
  gboolean ok = FALSE;
  whisper_hparams *hp = &model->hp;
  char shape[96];

  if (!(map = whisper_map_file (file, error)))
    return FALSE;
  whisper_model_keep_map (model, map);  /* the weights' views */
  whisper_reader r = { file, (const guint8 *) g_mapped_file_get_contents (map),
    g_mapped_file_get_length (map), 0, error };

  gint32 magic;
  if (!gg_i32 (&r, &magic, "the magic number"))
    goto out;
  if ((guint32) magic != GGML_MAGIC) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: wrong magic 0x%08x (a whisper.cpp ggml file starts with "
        "0x%08x)", file, (guint32) magic, GGML_MAGIC);
    goto out;
  }
  gint32 h[11];
  for (int i = 0; i < 11; i++)
    if (!gg_i32 (&r, &h[i], "the hyper-parameters"))
      goto out;
  hp->n_vocab = h[0];
  hp->n_audio_ctx = h[1];
  hp->n_audio_state = h[2];
  hp->n_audio_head = h[3];
  hp->n_audio_layer = h[4];
  hp->n_text_ctx = h[5];
  hp->n_text_state = h[6];
  hp->n_text_head = h[7];
  hp->n_text_layer = h[8];
  hp->n_mels = h[9];
  /* ftype: 0 f32, 1 f16, others quantised; whisper.cpp adds 1000 x the
   * quantisation version */
  int ftype = h[10] % 1000;
  if (ftype != 0 && ftype != 1) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: quantised ggml model (ftype %d); only f32 and f16 ggml files "
        "are supported: use the f16 file or a CTranslate2 int8 model",
        file, h[10]);
    goto out;
  }
  if (!whisper_hparams_check (hp, file, error))
    goto out;
  model->weight_dtype = ftype ? "float16" : "float32";

  /* mel filters: skipped (the front end computes its own) */
  gint32 f_mel, f_fft;
  if (!gg_i32 (&r, &f_mel, "the mel filter size")
      || !gg_i32 (&r, &f_fft, "the mel filter size"))
    goto out;
  if (f_mel < 0 || f_fft < 0 || f_mel > 4096 || f_fft > 65536) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: bad mel filter size %d x %d", file, f_mel, f_fft);
    goto out;
  }
  size_t fbytes = (size_t) f_mel * (size_t) f_fft * 4;
  if (!whisper_reader_need (&r, fbytes, "the mel filters"))
    goto out;
  r.off += fbytes;

  /* vocabulary (raw bytes) */
  gint32 n_tok;
  if (!gg_i32 (&r, &n_tok, "the token count"))
    goto out;
  if (n_tok < 0 || n_tok > hp->n_vocab) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: %d tokens in the file, but n_vocab is %d", file, n_tok,
        hp->n_vocab);
    goto out;
  }
  whisper_vocab_init (&model->vocab, hp->n_vocab);
  for (int i = 0; i < n_tok; i++) {
    gint32 len;
    if (!gg_i32 (&r, &len, "a token length"))
      goto out;
    if (len < 0 || len > 1024) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: token %d has a bad length %d", file, i, len);
      goto out;
    }
    if (!whisper_reader_need (&r, len, "a token"))
      goto out;
    whisper_vocab_set (&model->vocab, i, (const char *) r.data + r.off, len);
    r.off += len;
  }
  whisper_vocab_fill_specials (&model->vocab, hp->n_vocab);

  /* tensors */
  if (!(slots = whisper_model_alloc (model, &n_slots, r.size, file, error)))
    goto out;
  by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = 0; i < n_slots; i++)
    g_hash_table_insert (by_name, slots[i].name, GINT_TO_POINTER (i + 1));
  seen = g_new0 (guint8, n_slots);
  while (r.off < r.size) {
    gint32 n_dims, name_len, type;
    size_t at = r.off;
    if (!gg_i32 (&r, &n_dims, "a tensor header")
        || !gg_i32 (&r, &name_len, "a tensor header")
        || !gg_i32 (&r, &type, "a tensor header"))
      goto out;
    if (n_dims < 1 || n_dims > WHISPER_MAX_DIMS || name_len < 1
        || name_len > 255) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: bad tensor header at offset %zu (n_dims %d, name length %d)",
          file, at, n_dims, name_len);
      goto out;
    }
    gint32 ne[WHISPER_MAX_DIMS];
    for (int d = 0; d < n_dims; d++)
      if (!gg_i32 (&r, &ne[d], "tensor dimensions"))
        goto out;
    if (!whisper_reader_need (&r, name_len, "a tensor name"))
      goto out;
    char name[256];
    memcpy (name, r.data + r.off, name_len);
    name[name_len] = 0;
    r.off += name_len;

    whisper_src_tensor t = { .name = name, .n_dims = n_dims };
    size_t n_elem = 1;
    for (int d = 0; d < n_dims; d++) {
      if (ne[d] < 0) {
        g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
            "%s: tensor '%s' has a negative dimension %d", file, name, ne[d]);
        goto out;
      }
      t.ne[n_dims - 1 - d] = ne[d];     /* to outermost-first */
      if (!g_size_checked_mul (&n_elem, n_elem, (size_t) ne[d])) {
        g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
            "%s: tensor '%s' dimensions overflow", file, name);
        goto out;
      }
    }
    if (type == 0)
      t.dtype = WHISPER_DTYPE_F32;
    else if (type == 1)
      t.dtype = WHISPER_DTYPE_F16;
    else {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: tensor '%s' has ggml type %d (%s); only f32 and f16 are "
          "supported (quantised ggml files are not)", file, name, type,
          ggml_type_name (type));
      goto out;
    }
    if (!g_size_checked_mul (&t.n_bytes, n_elem, whisper_dtype_size (t.dtype))) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: tensor '%s' dimensions overflow", file, name);
      goto out;
    }
    if (!whisper_reader_need (&r, t.n_bytes, name))
      goto out;
    t.data = r.data + r.off;
    r.off += t.n_bytes;

    int idx = GPOINTER_TO_INT (g_hash_table_lookup (by_name, name)) - 1;
    if (idx < 0) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: unexpected tensor '%s' %s", file, name,
          whisper_shape_str (shape, sizeof shape, t.n_dims, t.ne));
      goto out;
    }
    if (seen[idx]) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: tensor '%s' appears twice", file, name);
      goto out;
    }
    if (!whisper_tensor_bind (&slots[idx], &t, 0, 1, file, error))
      goto out;
    seen[idx] = 1;
  }
  for (int i = 0; i < n_slots; i++)
    if (!seen[i]) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: missing tensor '%s'", file, slots[i].name);
      goto out;
    }
  if (!whisper_model_find_specials (model, file, error))
    goto out;
  ok = TRUE;

out:
  if (by_name)
    g_hash_table_destroy (by_name);
  g_free (seen);
  g_free (slots);
  g_mapped_file_unref (map);
  return ok;
}
