/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CTranslate2 Whisper model directories (faster-whisper's format):
 *   model.bin        variables (binary version 6, spec "WhisperSpec")
 *   config.json      alignment_heads, lang_ids, suppress_ids(_begin)
 *   vocabulary.txt   one GPT-2 byte-mapped token per line, or
 *   vocabulary.json  a JSON list of them
 *   tokenizer.json   Hugging Face tokenizer (BPE merges)
 *
 * model.bin layout (little-endian; ctranslate2/specs/model_spec.py):
 *   u32 binary_version; string spec_name; u32 spec_revision;
 *   u32 n_variables; n_variables x {
 *     string name; u8 rank; u32 dims[rank]; u8 dtype; u32 n_bytes;
 *     u8 data[n_bytes] }
 *   u32 n_aliases; n_aliases x { string alias; string target }
 * with string = u16 length (including the NUL) + bytes + NUL, and dtype
 * 0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16.
 * Quantised weights "X" (int8 per row, int16 per tensor) come with a float
 * variable "X_scale": value = q / scale.
 *
 * CTranslate2 fuses projections: encoder/decoder self-attention linear_0 is
 * [3C][C] = query, key, value stacked (the key bias part is zero; a key bias
 * would not change attention anyway, softmax is shift-invariant per query);
 * decoder cross-attention linear_0 is the query and linear_1 [2C][C] the
 * key and value.
 */
#include <stdio.h>
#include <string.h>

#include "model-internal.h"

#define CT2_BINARY_VERSION 6

static gboolean
ct2_u8 (whisper_reader * r, guint8 * v, const char *what)
{
  if (!whisper_reader_need (r, 1, what))
    return FALSE;
  *v = r->data[r->off++];
  return TRUE;
}

/* Returns a pointer into the file (NUL-terminated there). */
static const char *
ct2_string (whisper_reader * r, const char *what)
{
  guint16 len;
  if (!whisper_reader_need (r, 2, what))
    return NULL;
  memcpy (&len, r->data + r->off, 2);
  len = GUINT16_FROM_LE (len);
  r->off += 2;
  if (!whisper_reader_need (r, len, what))
    return NULL;
  const char *s = (const char *) r->data + r->off;
  if (len == 0 || s[len - 1] != 0 || memchr (s, 0, len) != s + len - 1) {
    g_set_error (r->error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: %s at offset %zu is not a NUL-terminated string", r->file, what,
        r->off - 2);
    return NULL;
  }
  r->off += len;
  return s;
}

typedef struct {
  char *file;
  GMappedFile *map;
  whisper_src_tensor *vars;
  guint n_vars;
  GHashTable *by_name;          /* name or alias -> whisper_src_tensor* */
} ct2_file;

static void
ct2_file_clear (ct2_file * f)
{
  if (f->by_name)
    g_hash_table_destroy (f->by_name);
  g_free (f->vars);
  if (f->map)
    g_mapped_file_unref (f->map);
  g_free (f->file);
}

static gboolean
ct2_parse (ct2_file * f, GError ** error)
{
  whisper_reader r = { f->file, (const guint8 *) g_mapped_file_get_contents (f->map),
    g_mapped_file_get_length (f->map), 0, error };
  guint32 version, revision, n_vars, n_aliases;
  char shape[96];

  if (!whisper_reader_u32 (&r, &version, "the binary version"))
    return FALSE;
  if (version == 0x67676d6c) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: this is a whisper.cpp ggml file, not a CTranslate2 model.bin: "
        "give the file itself as the model", f->file);
    return FALSE;
  }
  if (version != CT2_BINARY_VERSION) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: not a CTranslate2 model.bin of binary version %d (found %u)",
        f->file, CT2_BINARY_VERSION, version);
    return FALSE;
  }
  const char *spec = ct2_string (&r, "the spec name");
  if (!spec || !whisper_reader_u32 (&r, &revision, "the spec revision"))
    return FALSE;
  if (strcmp (spec, "WhisperSpec") != 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: model spec is '%s', not a Whisper model (WhisperSpec)", f->file,
        spec);
    return FALSE;
  }
  /* every variable takes at least 9 bytes: bound the allocation */
  if (!whisper_reader_count (&r, &n_vars, 9, "variable"))
    return FALSE;
  f->vars = g_new0 (whisper_src_tensor, n_vars ? n_vars : 1);
  f->n_vars = n_vars;
  f->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint32 i = 0; i < n_vars; i++) {
    whisper_src_tensor *t = &f->vars[i];
    guint8 rank, dtype;
    guint32 n_bytes;
    if (!(t->name = ct2_string (&r, "a variable name")))
      return FALSE;
    if (!ct2_u8 (&r, &rank, "a variable rank"))
      return FALSE;
    if (rank > WHISPER_MAX_DIMS) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: variable '%s' has rank %u (at most %d supported)", f->file,
          t->name, rank, WHISPER_MAX_DIMS);
      return FALSE;
    }
    t->n_dims = rank;
    size_t n_elem = 1;
    for (int d = 0; d < rank; d++) {
      guint32 dim;
      if (!whisper_reader_u32 (&r, &dim, "a variable dimension"))
        return FALSE;
      t->ne[d] = dim;
      if (!g_size_checked_mul (&n_elem, n_elem, dim)) {
        g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
            "%s: variable '%s' dimensions overflow", f->file, t->name);
        return FALSE;
      }
    }
    if (!ct2_u8 (&r, &dtype, "a variable dtype"))
      return FALSE;
    static const whisper_dtype ids[] = { WHISPER_DTYPE_F32, WHISPER_DTYPE_I8,
      WHISPER_DTYPE_I16, WHISPER_DTYPE_I32, WHISPER_DTYPE_F16,
      WHISPER_DTYPE_BF16 };
    if (dtype >= G_N_ELEMENTS (ids)) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: variable '%s' has unknown dtype id %u", f->file, t->name,
          dtype);
      return FALSE;
    }
    t->dtype = ids[dtype];
    if (!whisper_reader_u32 (&r, &n_bytes, "a variable size"))
      return FALSE;
    size_t want;
    if (!g_size_checked_mul (&want, n_elem, whisper_dtype_size (t->dtype))
        || want != n_bytes) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: variable '%s' %s %s declares %u bytes", f->file, t->name,
          whisper_dtype_name (t->dtype),
          whisper_shape_str (shape, sizeof shape, rank, t->ne), n_bytes);
      return FALSE;
    }
    if (!whisper_reader_need (&r, n_bytes, t->name))
      return FALSE;
    t->data = r.data + r.off;
    t->n_bytes = n_bytes;
    r.off += n_bytes;
    g_hash_table_insert (f->by_name, (gpointer) t->name, t);
  }
  if (!whisper_reader_count (&r, &n_aliases, 6, "alias"))
    return FALSE;
  for (guint32 i = 0; i < n_aliases; i++) {
    const char *alias = ct2_string (&r, "an alias name");
    const char *target = alias ? ct2_string (&r, "an alias target") : NULL;
    if (!target)
      return FALSE;
    whisper_src_tensor *t = g_hash_table_lookup (f->by_name, target);
    if (!t) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: alias '%s' names a missing variable '%s'", f->file, alias,
          target);
      return FALSE;
    }
    g_hash_table_insert (f->by_name, (gpointer) alias, t);
  }
  /* attach the scales of quantised variables */
  for (guint32 i = 0; i < n_vars; i++) {
    whisper_src_tensor *t = &f->vars[i];
    if (t->dtype != WHISPER_DTYPE_I8 && t->dtype != WHISPER_DTYPE_I16
        && t->dtype != WHISPER_DTYPE_I32)
      continue;
    char *sname = g_strconcat (t->name, "_scale", NULL);
    whisper_src_tensor *s = g_hash_table_lookup (f->by_name, sname);
    g_free (sname);
    if (s && (s->dtype == WHISPER_DTYPE_F32 || s->dtype == WHISPER_DTYPE_F16
            || s->dtype == WHISPER_DTYPE_BF16)) {
      t->scale = s->data;
      t->scale_dtype = s->dtype;
      t->n_scale = s->n_bytes / whisper_dtype_size (s->dtype);
    }
  }
  return TRUE;
}

static const whisper_src_tensor *
ct2_get (ct2_file * f, const char *name, GError ** error)
{
  const whisper_src_tensor *t = g_hash_table_lookup (f->by_name, name);
  if (!t)
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: missing tensor '%s'", f->file, name);
  return t;
}

/* A scalar (num_heads); -1 if absent or not an integer scalar. */
static int
ct2_scalar_int (ct2_file * f, const char *name)
{
  const whisper_src_tensor *t = g_hash_table_lookup (f->by_name, name);
  if (!t || t->n_bytes != whisper_dtype_size (t->dtype))
    return -1;
  switch (t->dtype) {
    case WHISPER_DTYPE_I8: return *(const gint8 *) t->data;
    case WHISPER_DTYPE_I16: { gint16 v; memcpy (&v, t->data, 2); return GINT16_FROM_LE (v); }
    case WHISPER_DTYPE_I32: { gint32 v; memcpy (&v, t->data, 4); return GINT32_FROM_LE (v); }
    default: return -1;
  }
}

static int
ct2_count_layers (ct2_file * f, const char *fmt)
{
  int n = 0;
  for (;;) {
    char name[96];
    g_snprintf (name, sizeof name, fmt, n);
    if (!g_hash_table_contains (f->by_name, name))
      return n;
    n++;
  }
}

/* openai name -> CTranslate2 variable (and part of a fused tensor) */
static const whisper_name_rule ct2_global[] = {
  { "encoder.conv1.weight", "encoder/conv1/weight", 0, 1 },
  { "encoder.conv1.bias", "encoder/conv1/bias", 0, 1 },
  { "encoder.conv2.weight", "encoder/conv2/weight", 0, 1 },
  { "encoder.conv2.bias", "encoder/conv2/bias", 0, 1 },
  { "encoder.positional_embedding", "encoder/position_encodings/encodings", 0, 1 },
  { "encoder.ln_post.weight", "encoder/layer_norm/gamma", 0, 1 },
  { "encoder.ln_post.bias", "encoder/layer_norm/beta", 0, 1 },
  { "decoder.token_embedding.weight", "decoder/embeddings/weight", 0, 1 },
  { "decoder.positional_embedding", "decoder/position_encodings/encodings", 0, 1 },
  { "decoder.ln.weight", "decoder/layer_norm/gamma", 0, 1 },
  { "decoder.ln.bias", "decoder/layer_norm/beta", 0, 1 },
};

static const whisper_name_rule ct2_layer[] = {
  { "attn_ln.weight", "self_attention/layer_norm/gamma", 0, 1 },
  { "attn_ln.bias", "self_attention/layer_norm/beta", 0, 1 },
  { "attn.query.weight", "self_attention/linear_0/weight", 0, 3 },
  { "attn.key.weight", "self_attention/linear_0/weight", 1, 3 },
  { "attn.value.weight", "self_attention/linear_0/weight", 2, 3 },
  { "attn.query.bias", "self_attention/linear_0/bias", 0, 3 },
  { "attn.value.bias", "self_attention/linear_0/bias", 2, 3 },
  { "attn.out.weight", "self_attention/linear_1/weight", 0, 1 },
  { "attn.out.bias", "self_attention/linear_1/bias", 0, 1 },
  { "cross_attn_ln.weight", "attention/layer_norm/gamma", 0, 1 },
  { "cross_attn_ln.bias", "attention/layer_norm/beta", 0, 1 },
  { "cross_attn.query.weight", "attention/linear_0/weight", 0, 1 },
  { "cross_attn.query.bias", "attention/linear_0/bias", 0, 1 },
  { "cross_attn.key.weight", "attention/linear_1/weight", 0, 2 },
  { "cross_attn.value.weight", "attention/linear_1/weight", 1, 2 },
  { "cross_attn.value.bias", "attention/linear_1/bias", 1, 2 },
  { "cross_attn.out.weight", "attention/linear_2/weight", 0, 1 },
  { "cross_attn.out.bias", "attention/linear_2/bias", 0, 1 },
  { "mlp_ln.weight", "ffn/layer_norm/gamma", 0, 1 },
  { "mlp_ln.bias", "ffn/layer_norm/beta", 0, 1 },
  { "mlp.0.weight", "ffn/linear_0/weight", 0, 1 },
  { "mlp.0.bias", "ffn/linear_0/bias", 0, 1 },
  { "mlp.2.weight", "ffn/linear_1/weight", 0, 1 },
  { "mlp.2.bias", "ffn/linear_1/bias", 0, 1 },
};

static gboolean
ct2_map_name (const char *ours, char *ct2, size_t size, int *part,
    int *n_parts)
{
  const whisper_name_rule *r = whisper_name_map (ours, ct2_global,
      G_N_ELEMENTS (ct2_global), ct2_layer, G_N_ELEMENTS (ct2_layer), FALSE,
      "%s/layer_%d/%s%s", ct2, size);
  if (r) {
    *part = r->part;
    *n_parts = r->n_parts;
  }
  return r != NULL;
}

static gboolean
ct2_read_config (whisper_model * model, const char *dir, GError ** error)
{
  char *file = g_build_filename (dir, "config.json", NULL);
  gboolean ok = TRUE, present;
  JsonNode *j = whisper_json_read_file (file, &present, error);
  if (present && !j)
    ok = FALSE;
  else if (j && !JSON_NODE_HOLDS_OBJECT (j)) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: not a JSON object", file);
    ok = FALSE;
  } else if (j) {
    ok = whisper_model_read_alignment_heads (model,
        whisper_json_get (j, "alignment_heads"), file, error);
  }
  if (j)
    json_node_unref (j);
  g_free (file);
  return ok;
}

gboolean
whisper_load_ct2 (whisper_model * model, const char *dir, GError ** error)
{
  ct2_file f = { 0 };
  whisper_slot *slots = NULL;
  int n_slots = 0;
  gboolean ok = FALSE;
  whisper_hparams *hp = &model->hp;
  const whisper_src_tensor *t;

  f.file = g_build_filename (dir, "model.bin", NULL);
  if (!(f.map = whisper_map_file (f.file, error)))
    goto out;
  whisper_model_keep_map (model, f.map);        /* the weights' views */
  if (!ct2_parse (&f, error))
    goto out;

  /* hyper-parameters from the tensor shapes */
  if (!(t = ct2_get (&f, "encoder/conv1/weight", error)))
    goto out;
  if (t->n_dims != 3) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: tensor 'encoder/conv1/weight' has rank %d, expected 3", f.file,
        t->n_dims);
    goto out;
  }
  hp->n_audio_state = (int) MIN (t->ne[0], G_MAXINT);
  hp->n_mels = (int) MIN (t->ne[1], G_MAXINT);
  if (!(t = ct2_get (&f, "encoder/position_encodings/encodings", error)))
    goto out;
  hp->n_audio_ctx = (int) MIN (t->ne[0], G_MAXINT);
  if (!(t = ct2_get (&f, "decoder/embeddings/weight", error)))
    goto out;
  if (t->n_dims != 2) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: tensor 'decoder/embeddings/weight' has rank %d, expected 2",
        f.file, t->n_dims);
    goto out;
  }
  hp->n_vocab = (int) MIN (t->ne[0], G_MAXINT);
  hp->n_text_state = (int) MIN (t->ne[1], G_MAXINT);
  if (!(t = ct2_get (&f, "decoder/position_encodings/encodings", error)))
    goto out;
  hp->n_text_ctx = (int) MIN (t->ne[0], G_MAXINT);
  hp->n_audio_layer =
      ct2_count_layers (&f, "encoder/layer_%d/self_attention/linear_0/weight");
  hp->n_text_layer =
      ct2_count_layers (&f, "decoder/layer_%d/self_attention/linear_0/weight");
  /* Whisper's heads are 64 wide; older converters did not store num_heads */
  hp->n_audio_head = ct2_scalar_int (&f, "encoder/num_heads");
  if (hp->n_audio_head <= 0)
    hp->n_audio_head = MAX (1, hp->n_audio_state / 64);
  hp->n_text_head = ct2_scalar_int (&f, "decoder/num_heads");
  if (hp->n_text_head <= 0)
    hp->n_text_head = MAX (1, hp->n_text_state / 64);
  if (!whisper_hparams_check (hp, f.file, error))
    goto out;

  if (!(slots = whisper_model_alloc (model, &n_slots,
              g_mapped_file_get_length (f.map), f.file, error)))
    goto out;
  for (int i = 0; i < n_slots; i++) {
    char name[96];
    int part, n_parts;
    if (!ct2_map_name (slots[i].name, name, sizeof name, &part, &n_parts)) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: no CTranslate2 name for '%s'", f.file, slots[i].name);
      goto out;
    }
    if (!(t = ct2_get (&f, name, error)))
      goto out;
    if (!whisper_tensor_bind (&slots[i], t, part, n_parts, f.file, error))
      goto out;
  }
  t = g_hash_table_lookup (f.by_name, "encoder/layer_0/ffn/linear_0/weight");
  model->weight_dtype = t ? whisper_dtype_name (t->dtype) : "float32";

  ok = ct2_read_config (model, dir, error)
      && whisper_load_vocab_dir (model, dir, error);

out:
  g_free (slots);
  ct2_file_clear (&f);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* vocabulary files of CTranslate2 and Hugging Face directories */

static gboolean
vocab_check_size (whisper_model * model, int n, const char *file,
    GError ** error)
{
  if (n > model->hp.n_vocab || n < 1) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: %d tokens, but the model's embedding has %d rows", file, n,
        model->hp.n_vocab);
    return FALSE;
  }
  return TRUE;
}

static gboolean
vocab_from_txt (whisper_model * model, const char *text, size_t len,
    const char *file, GError ** error)
{
  int n = 0;
  for (size_t i = 0; i < len; i++)
    n += text[i] == '\n';
  if (len && text[len - 1] != '\n')
    n++;
  if (!vocab_check_size (model, n, file, error))
    return FALSE;
  const char *p = text, *end = text + len;
  for (int i = 0; i < n; i++) {
    const char *nl = memchr (p, '\n', end - p);
    const char *e = nl ? nl : end;
    size_t l = e - p;
    if (l && p[l - 1] == '\r')
      l--;
    int bl;
    char *bytes = whisper_token_unmap (p, l, &bl);
    whisper_vocab_set (&model->vocab, i, bytes, bl);
    g_free (bytes);
    p = nl ? nl + 1 : end;
  }
  return TRUE;
}

static gboolean
vocab_set_checked (whisper_model * model, int id, const char *str,
    gboolean mapped, const char *file, GError ** error)
{
  if (id < 0 || id >= model->hp.n_vocab || !str) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: bad vocabulary entry (id %d; the model has %d tokens)", file, id,
        model->hp.n_vocab);
    return FALSE;
  }
  if (mapped) {
    int bl;
    char *bytes = whisper_token_unmap (str, strlen (str), &bl);
    whisper_vocab_set (&model->vocab, id, bytes, bl);
    g_free (bytes);
  } else {
    whisper_vocab_set (&model->vocab, id, str, (int) strlen (str));
  }
  return TRUE;
}

/* {"token": id, ...}: tokens byte-mapped (HF vocab.json, tokenizer.json) or
 * not (added_tokens.json) */
static gboolean
vocab_from_object (whisper_model * model, JsonNode * obj, gboolean mapped,
    const char *file, GError ** error)
{
  JsonObject *o = json_node_get_object (obj);
  JsonObjectIter it;
  const char *key;
  JsonNode *v;
  json_object_iter_init (&it, o);
  while (json_object_iter_next (&it, &key, &v)) {
    int id;
    if (!whisper_json_int (v, &id))
      id = -1;
    if (!vocab_set_checked (model, id, key, mapped, file, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
merges_from_json (whisper_model * model, JsonNode * m, const char *file,
    GError ** error)
{
  whisper_vocab *v = &model->vocab;
  int n = whisper_json_length (m);
  v->merges = g_new0 (char *, n ? n : 1);
  for (int i = 0; i < n; i++) {
    JsonNode *e = whisper_json_item (m, i);
    const char *a, *b;
    if ((a = whisper_json_string (e)))
      v->merges[i] = g_strdup (a);
    else if (whisper_json_length (e) == 2 && JSON_NODE_HOLDS_ARRAY (e)
        && (a = whisper_json_string (whisper_json_item (e, 0)))
        && (b = whisper_json_string (whisper_json_item (e, 1))))
      v->merges[i] = g_strconcat (a, " ", b, NULL);
    else {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: merge %d is neither \"a b\" nor [\"a\", \"b\"]", file, i);
      return FALSE;
    }
    v->n_merges = i + 1;
  }
  return TRUE;
}

gboolean
whisper_load_vocab_dir (whisper_model * model, const char *dir,
    GError ** error)
{
  gboolean ok = FALSE, have_vocab = FALSE, present;
  char *f_txt = g_build_filename (dir, "vocabulary.txt", NULL);
  char *f_json = g_build_filename (dir, "vocabulary.json", NULL);
  char *f_tok = g_build_filename (dir, "tokenizer.json", NULL);
  char *f_hfv = g_build_filename (dir, "vocab.json", NULL);
  char *f_added = g_build_filename (dir, "added_tokens.json", NULL);
  char *f_merges = g_build_filename (dir, "merges.txt", NULL);
  JsonNode *tok = NULL, *j = NULL, *hv = NULL, *ad = NULL;

  whisper_vocab_init (&model->vocab, model->hp.n_vocab);

  if (g_file_test (f_txt, G_FILE_TEST_EXISTS)) {
    GMappedFile *map = whisper_map_file (f_txt, error);
    if (!map)
      goto out;
    gboolean r = vocab_from_txt (model, g_mapped_file_get_contents (map),
        g_mapped_file_get_length (map), f_txt, error);
    g_mapped_file_unref (map);
    if (!r)
      goto out;
    have_vocab = TRUE;
  } else if ((j = whisper_json_read_file (f_json, &present, error))
      || present) {
    if (!j)
      goto out;
    int n = whisper_json_length (j);
    if (!JSON_NODE_HOLDS_ARRAY (j)) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: expected a JSON list of tokens", f_json);
      goto out;
    }
    if (!vocab_check_size (model, n, f_json, error))
      goto out;
    for (int i = 0; i < n; i++)
      if (!vocab_set_checked (model, i,
              whisper_json_string (whisper_json_item (j, i)), TRUE, f_json,
              error))
        goto out;
    have_vocab = TRUE;
  }

  /* tokenizer.json: merges, and the vocabulary if we have none yet */
  tok = whisper_json_read_file (f_tok, &present, error);
  if (present && !tok)
    goto out;
  if (tok) {
    JsonNode *m = whisper_json_get (tok, "model");
    JsonNode *vocab = whisper_json_get (m, "vocab");
    JsonNode *merges = whisper_json_get (m, "merges");
    JsonNode *added = whisper_json_get (tok, "added_tokens");
    if (!have_vocab && vocab && JSON_NODE_HOLDS_OBJECT (vocab)) {
      if (!vocab_from_object (model, vocab, TRUE, f_tok, error))
        goto out;
      if (added && JSON_NODE_HOLDS_ARRAY (added))
        for (int i = 0; i < whisper_json_length (added); i++) {
          JsonNode *e = whisper_json_item (added, i);
          int id;
          if (!whisper_json_int (whisper_json_get (e, "id"), &id))
            id = -1;
          if (!vocab_set_checked (model, id,
                  whisper_json_string (whisper_json_get (e, "content")), FALSE,
                  f_tok, error))
            goto out;
        }
      have_vocab = TRUE;
    }
    if (merges && JSON_NODE_HOLDS_ARRAY (merges)
        && !merges_from_json (model, merges, f_tok, error))
      goto out;
  }

  /* Hugging Face vocab.json + added_tokens.json + merges.txt */
  if (!have_vocab) {
    hv = whisper_json_read_file (f_hfv, &present, error);
    if (present && !hv)
      goto out;
    if (hv) {
      if (!JSON_NODE_HOLDS_OBJECT (hv)) {
        g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
            "%s: expected a JSON object {token: id}", f_hfv);
        goto out;
      }
      if (!vocab_from_object (model, hv, TRUE, f_hfv, error))
        goto out;
      have_vocab = TRUE;
      ad = whisper_json_read_file (f_added, &present, error);
      if (present && !ad)
        goto out;
      if (ad && JSON_NODE_HOLDS_OBJECT (ad)
          && !vocab_from_object (model, ad, FALSE, f_added, error))
        goto out;
    }
  }
  if (!have_vocab) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NOT_FOUND,
        "%s: no vocabulary (vocabulary.txt, vocabulary.json, tokenizer.json "
        "or vocab.json)", dir);
    goto out;
  }
  if (model->vocab.n_merges == 0 && g_file_test (f_merges, G_FILE_TEST_EXISTS)) {
    gchar *text;
    gsize len;
    if (g_file_get_contents (f_merges, &text, &len, NULL)) {
      gchar **lines = g_strsplit (text, "\n", -1);
      GPtrArray *a = g_ptr_array_new ();
      for (int i = 0; lines[i]; i++) {
        g_strchomp (lines[i]);
        if (lines[i][0] && !g_str_has_prefix (lines[i], "#version"))
          g_ptr_array_add (a, g_strdup (lines[i]));
      }
      model->vocab.n_merges = a->len;
      model->vocab.merges = (char **) g_ptr_array_free (a, FALSE);
      g_strfreev (lines);
      g_free (text);
    }
  }
  whisper_vocab_fill_specials (&model->vocab, model->hp.n_vocab);
  ok = whisper_model_find_specials (model, dir, error);

out:
  {
    JsonNode *roots[] = { j, tok, hv, ad };
    for (size_t i = 0; i < G_N_ELEMENTS (roots); i++)
      if (roots[i])
        json_node_unref (roots[i]);
  }
  g_free (f_txt);
  g_free (f_json);
  g_free (f_tok);
  g_free (f_hfv);
  g_free (f_added);
  g_free (f_merges);
  return ok;
}
