/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hugging Face transformers Whisper directories (openai/whisper-tiny.en):
 *   model.safetensors   u64 header_len; JSON header {name: {dtype, shape,
 *                       data_offsets: [begin, end]}, "__metadata__": {...}};
 *                       then the data (offsets relative to its start)
 *   config.json         d_model, encoder/decoder_layers, *_attention_heads,
 *                       num_mel_bins, max_source/target_positions, vocab_size
 *   generation_config.json  alignment_heads (optional)
 *   tokenizer.json, or vocab.json + added_tokens.json + merges.txt
 * Tensor names: model.encoder.layers.N.self_attn.q_proj.weight etc. (the
 * "model." prefix is optional); proj_out.weight is the tied embedding.
 * dtypes F32, F16, BF16.
 */
#include <stdio.h>
#include <string.h>

#include "model-internal.h"

static const whisper_name_rule hf_global[] = {
  { .ours = "encoder.conv1.weight", .theirs = "encoder.conv1.weight" },
  { .ours = "encoder.conv1.bias", .theirs = "encoder.conv1.bias" },
  { .ours = "encoder.conv2.weight", .theirs = "encoder.conv2.weight" },
  { .ours = "encoder.conv2.bias", .theirs = "encoder.conv2.bias" },
  { .ours = "encoder.positional_embedding", .theirs = "encoder.embed_positions.weight" },
  { .ours = "encoder.ln_post.weight", .theirs = "encoder.layer_norm.weight" },
  { .ours = "encoder.ln_post.bias", .theirs = "encoder.layer_norm.bias" },
  { .ours = "decoder.token_embedding.weight", .theirs = "decoder.embed_tokens.weight" },
  { .ours = "decoder.positional_embedding", .theirs = "decoder.embed_positions.weight" },
  { .ours = "decoder.ln.weight", .theirs = "decoder.layer_norm.weight" },
  { .ours = "decoder.ln.bias", .theirs = "decoder.layer_norm.bias" },
};

/* block weights by prefix: "attn.query.weight" -> "self_attn.q_proj.weight" */
static const whisper_name_rule hf_layer[] = {
  { .ours = "attn_ln.", .theirs = "self_attn_layer_norm." },
  { .ours = "attn.query.", .theirs = "self_attn.q_proj." },
  { .ours = "attn.key.", .theirs = "self_attn.k_proj." },
  { .ours = "attn.value.", .theirs = "self_attn.v_proj." },
  { .ours = "attn.out.", .theirs = "self_attn.out_proj." },
  { .ours = "cross_attn_ln.", .theirs = "encoder_attn_layer_norm." },
  { .ours = "cross_attn.query.", .theirs = "encoder_attn.q_proj." },
  { .ours = "cross_attn.key.", .theirs = "encoder_attn.k_proj." },
  { .ours = "cross_attn.value.", .theirs = "encoder_attn.v_proj." },
  { .ours = "cross_attn.out.", .theirs = "encoder_attn.out_proj." },
  { .ours = "mlp_ln.", .theirs = "final_layer_norm." },
  { .ours = "mlp.0.", .theirs = "fc1." },
  { .ours = "mlp.2.", .theirs = "fc2." },
};

/* openai name -> HF name without the "model." prefix */
gboolean
whisper_hf_name (const char *ours, char *hf, size_t size)
{
  return whisper_name_map (ours, hf_global, G_N_ELEMENTS (hf_global),
      hf_layer, G_N_ELEMENTS (hf_layer), TRUE, "%s.layers.%d.%s%s", hf,
      size) != NULL;
}

static gboolean
hf_dtype (const char *s, whisper_dtype * t)
{
  if (strcmp (s, "F32") == 0)
    *t = WHISPER_DTYPE_F32;
  else if (strcmp (s, "F16") == 0)
    *t = WHISPER_DTYPE_F16;
  else if (strcmp (s, "BF16") == 0)
    *t = WHISPER_DTYPE_BF16;
  else
    return FALSE;
  return TRUE;
}

static int
json_int_or (JsonNode * cfg, const char *key, int dflt)
{
  int v;
  return whisper_json_int (whisper_json_get (cfg, key), &v) ? v : dflt;
}

gboolean
whisper_load_safetensors (whisper_model * model, const char *dir,
    const char *st_file, GError ** error)
{
  char *file = g_strdup (st_file);
  GMappedFile *map = NULL;
  JsonNode *hdr = NULL, *cfg = NULL, *gen = NULL;
  GHashTable *by_name = NULL;   /* HF name without "model." -> src tensor */
  whisper_src_tensor *src = NULL;
  whisper_slot *slots = NULL;
  int n_slots = 0;
  gboolean ok = FALSE;
  whisper_hparams *hp = &model->hp;
  char shape[96];

  if (!(map = whisper_map_file (file, error)))
    goto out;
  whisper_model_keep_map (model, map);  /* the weights' views */
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (map);
  size_t size = g_mapped_file_get_length (map);
  guint64 hlen;
  if (size < 8) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: truncated: %zu bytes, the header length alone takes 8", file,
        size);
    goto out;
  }
  memcpy (&hlen, data, 8);
  hlen = GUINT64_FROM_LE (hlen);
  if (hlen > size - 8 || hlen < 2) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: header length %" G_GUINT64_FORMAT " does not fit in the %zu "
        "byte file (truncated, or not a safetensors file)", file, hlen, size);
    goto out;
  }
  if (!(hdr = whisper_json_parse ((const char *) data + 8, hlen, file, error)))
    goto out;
  if (!JSON_NODE_HOLDS_OBJECT (hdr)) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: the header is not a JSON object", file);
    goto out;
  }
  const guint8 *base = data + 8 + hlen;
  size_t data_size = size - 8 - hlen;

  int n_hdr = whisper_json_length (hdr);
  src = g_new0 (whisper_src_tensor, n_hdr ? n_hdr : 1);
  by_name = g_hash_table_new (g_str_hash, g_str_equal);
  JsonObjectIter it;
  const char *name;
  JsonNode *e;
  json_object_iter_init (&it, json_node_get_object (hdr));
  for (int i = 0; json_object_iter_next (&it, &name, &e); i++) {
    if (strcmp (name, "__metadata__") == 0)
      continue;
    whisper_src_tensor *t = &src[i];
    const char *dt = whisper_json_string (whisper_json_get (e, "dtype"));
    JsonNode *sh = whisper_json_get (e, "shape");
    JsonNode *of = whisper_json_get (e, "data_offsets");
    int n_dims = whisper_json_length (sh);
    t->name = name;
    if (!dt || !sh || !JSON_NODE_HOLDS_ARRAY (sh) || !of
        || !JSON_NODE_HOLDS_ARRAY (of) || whisper_json_length (of) != 2) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: tensor '%s' lacks dtype, shape or data_offsets", file, name);
      goto out;
    }
    if (!hf_dtype (dt, &t->dtype)) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: tensor '%s' has unsupported dtype %s (F32, F16, BF16 are "
          "supported)", file, name, dt);
      goto out;
    }
    if (n_dims > WHISPER_MAX_DIMS) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: tensor '%s' has rank %d (at most %d supported)", file, name,
          n_dims, WHISPER_MAX_DIMS);
      goto out;
    }
    t->n_dims = n_dims;
    size_t n_elem = 1;
    for (int d = 0; d < n_dims; d++) {
      double x;
      if (!whisper_json_number (whisper_json_item (sh, d), &x)
          || !(x >= 0 && x < 4294967296.0) || x != (double) (guint64) x) {
        g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
            "%s: tensor '%s' has a bad dimension", file, name);
        goto out;
      }
      t->ne[d] = (int64_t) x;
      if (!g_size_checked_mul (&n_elem, n_elem, (size_t) t->ne[d])) {
        g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
            "%s: tensor '%s' dimensions overflow", file, name);
        goto out;
      }
    }
    double b, en;
    if (!whisper_json_number (whisper_json_item (of, 0), &b))
      b = -1;
    if (!whisper_json_number (whisper_json_item (of, 1), &en))
      en = -1;
    size_t want;
    if (!(b >= 0 && en >= b && en <= (double) data_size)
        || !g_size_checked_mul (&want, n_elem, whisper_dtype_size (t->dtype))
        || (size_t) en - (size_t) b != want) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: tensor '%s' (%s %s) has data_offsets [%.0f, %.0f] outside "
          "the %zu data bytes or of the wrong size", file, name, dt,
          whisper_shape_str (shape, sizeof shape, t->n_dims, t->ne), b, en,
          data_size);
      goto out;
    }
    t->data = base + (size_t) b;
    t->n_bytes = want;
    const char *key = g_str_has_prefix (name, "model.") ? name + 6 : name;
    g_hash_table_insert (by_name, (gpointer) key, t);
  }

  /* hyper-parameters: sizes from the tensors, heads from config.json */
  {
    char *cfile = g_build_filename (dir, "config.json", NULL);
    gboolean present;
    cfg = whisper_json_read_file (cfile, &present, error);
    g_free (cfile);
    if (present && !cfg)
      goto out;
  }
  const struct { const char *name; int rank; } need[] = {
    { "encoder.conv1.weight", 3 }, { "encoder.embed_positions.weight", 2 },
    { "decoder.embed_tokens.weight", 2 }, { "decoder.embed_positions.weight", 2 },
  };
  const whisper_src_tensor *nt[4];
  for (int i = 0; i < 4; i++) {
    nt[i] = g_hash_table_lookup (by_name, need[i].name);
    if (!nt[i] || nt[i]->n_dims != need[i].rank) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: %s tensor 'model.%s'", file, nt[i] ? "misshaped" : "missing",
          need[i].name);
      goto out;
    }
  }
  hp->n_audio_state = (int) MIN (nt[0]->ne[0], G_MAXINT);
  hp->n_mels = (int) MIN (nt[0]->ne[1], G_MAXINT);
  hp->n_audio_ctx = (int) MIN (nt[1]->ne[0], G_MAXINT);
  hp->n_vocab = (int) MIN (nt[2]->ne[0], G_MAXINT);
  hp->n_text_state = (int) MIN (nt[2]->ne[1], G_MAXINT);
  hp->n_text_ctx = (int) MIN (nt[3]->ne[0], G_MAXINT);
  for (int side = 0; side < 2; side++) {
    int n = 0;
    for (;; n++) {
      char name[96];
      g_snprintf (name, sizeof name, "%s.layers.%d.fc1.weight",
          side ? "decoder" : "encoder", n);
      if (!g_hash_table_contains (by_name, name))
        break;
    }
    if (side)
      hp->n_text_layer = n;
    else
      hp->n_audio_layer = n;
  }
  hp->n_audio_head = json_int_or (cfg, "encoder_attention_heads",
      MAX (1, hp->n_audio_state / 64));
  hp->n_text_head = json_int_or (cfg, "decoder_attention_heads",
      MAX (1, hp->n_text_state / 64));
  if (!whisper_hparams_check (hp, file, error))
    goto out;

  if (!(slots = whisper_model_alloc (model, &n_slots, size, file, error)))
    goto out;
  for (int i = 0; i < n_slots; i++) {
    char name[96];
    if (!whisper_hf_name (slots[i].name, name, sizeof name)) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: no Hugging Face name for '%s'", file, slots[i].name);
      goto out;
    }
    const whisper_src_tensor *t = g_hash_table_lookup (by_name, name);
    if (!t) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: missing tensor 'model.%s'", file, name);
      goto out;
    }
    if (!whisper_tensor_bind (&slots[i], t, 0, 1, file, error))
      goto out;
  }
  {
    const whisper_src_tensor *t =
        g_hash_table_lookup (by_name, "encoder.layers.0.fc1.weight");
    model->weight_dtype = t ? whisper_dtype_name (t->dtype) : "float32";
  }

  /* alignment heads: generation_config.json (transformers) */
  {
    char *gfile = g_build_filename (dir, "generation_config.json", NULL);
    gboolean present, r = TRUE;
    gen = whisper_json_read_file (gfile, &present, error);
    if (present)
      r = gen && whisper_model_read_alignment_heads (model,
          whisper_json_get (gen, "alignment_heads"), gfile, error);
    g_free (gfile);
    if (!r)
      goto out;
  }
  ok = whisper_load_vocab_dir (model, dir, error);

out:
  g_free (slots);
  if (by_name)
    g_hash_table_destroy (by_name);
  g_free (src);
  JsonNode *roots[] = { hdr, cfg, gen };
  for (size_t i = 0; i < G_N_ELEMENTS (roots); i++)
    if (roots[i])
      json_node_unref (roots[i]);
  if (map)
    g_mapped_file_unref (map);
  g_free (file);
  return ok;
}
