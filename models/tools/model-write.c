/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writers for the ggml, CTranslate2 and Hugging Face formats, and the
 * synthetic test model.  See model-write.h and the loaders for the layouts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <errno.h>

#include "model-internal.h"
#include "model-write.h"
#include "kernels.h"

#define N_FREQ 201               /* n_fft 400 / 2 + 1 */

/* ------------------------------------------------------------------------ */
/* output helpers */

typedef struct {
  FILE *fp;
  char *file;
  int err;                      /* errno of the first failure */
} wfile;

static gboolean
w_open (wfile * w, const char *file, GError ** error)
{
  w->file = g_strdup (file);
  w->err = 0;
  w->fp = fopen (file, "wb");
  if (!w->fp) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_IO,
        "%s: cannot create: %s", file, g_strerror (errno));
    g_free (w->file);
    return FALSE;
  }
  return TRUE;
}

static void
w_bytes (wfile * w, const void *p, size_t n)
{
  if (!w->err && n && fwrite (p, 1, n, w->fp) != n)
    w->err = errno ? errno : EIO;
}

static void
w_u32 (wfile * w, guint32 v)
{
  v = GUINT32_TO_LE (v);
  w_bytes (w, &v, 4);
}

static void
w_u16 (wfile * w, guint16 v)
{
  v = GUINT16_TO_LE (v);
  w_bytes (w, &v, 2);
}

static void
w_u8 (wfile * w, guint8 v)
{
  w_bytes (w, &v, 1);
}

static void
w_str (wfile * w, const char *s)
{
  w_bytes (w, s, strlen (s));
}

/* CTranslate2 string: u16 length including the NUL, bytes, NUL */
static void
w_ct2_str (wfile * w, const char *s)
{
  w_u16 (w, strlen (s) + 1);
  w_bytes (w, s, strlen (s) + 1);
}

static gboolean
w_close (wfile * w, GError ** error)
{
  if (fclose (w->fp) != 0 && !w->err)
    w->err = errno ? errno : EIO;
  if (w->err)
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_IO,
        "%s: cannot write: %s", w->file, g_strerror (w->err));
  g_free (w->file);
  return w->err == 0;
}

/* bfloat16, round to nearest even; NaN stays NaN */
static guint16
f32_to_bf16 (float f)
{
  guint32 u;
  memcpy (&u, &f, 4);
  if ((u & 0x7fffffff) > 0x7f800000)
    return (u >> 16) | 0x40;
  return (u + 0x7fff + ((u >> 16) & 1)) >> 16;
}

/* float32 array in the requested element type */
static void
w_floats (wfile * w, const float *x, size_t n, whisper_dtype t)
{
  guint16 buf[4096];
  if (t == WHISPER_DTYPE_F32) {
    w_bytes (w, x, n * 4);
    return;
  }
  for (size_t i = 0; i < n; i += G_N_ELEMENTS (buf)) {
    size_t k = MIN (G_N_ELEMENTS (buf), n - i);
    for (size_t j = 0; j < k; j++) {
      buf[j] = GUINT16_TO_LE (t == WHISPER_DTYPE_F16 ?
          kf32_to_f16 (x[i + j]) : f32_to_bf16 (x[i + j]));
    }
    w_bytes (w, buf, k * 2);
  }
}

/* @root (consumed) as JSON text: compact, or indented by 2 */
static GString *
json_text (JsonNode * root, gboolean pretty)
{
  JsonGenerator *g = json_generator_new ();
  json_generator_set_root (g, root);
  json_generator_set_pretty (g, pretty);
  json_generator_set_indent (g, 2);
  GString *s = g_string_new (NULL);
  json_generator_to_gstring (g, s);
  g_object_unref (g);
  json_node_unref (root);
  return s;
}

/* Writes @s (freed) to dir/name. */
static gboolean
write_text (const char *dir, const char *name, GString * s, GError ** error)
{
  char *file = g_build_filename (dir, name, NULL);
  wfile w;
  gboolean ok = w_open (&w, file, error);
  if (ok) {
    w_bytes (&w, s->str, s->len);
    ok = w_close (&w, error);
  }
  g_free (file);
  g_string_free (s, TRUE);
  return ok;
}

/* @root (consumed) as dir/name, with a final newline. */
static gboolean
write_json (const char *dir, const char *name, JsonNode * root,
    gboolean pretty, GError ** error)
{
  GString *s = json_text (root, pretty);
  g_string_append_c (s, '\n');
  return write_text (dir, name, s, error);
}

static gboolean
make_dir (const char *dir, GError ** error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_IO,
        "%s: cannot create directory: %s", dir, g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

static gboolean
is_conv_bias (const char *name)
{
  return strcmp (name, "encoder.conv1.bias") == 0
      || strcmp (name, "encoder.conv2.bias") == 0;
}

/* ------------------------------------------------------------------------ */
/* ggml */

gboolean
whisper_model_save_ggml (const whisper_model * m, const char *file,
    whisper_save_type type, const float *mel_filters, GError ** error)
{
  if (type != WHISPER_SAVE_F32 && type != WHISPER_SAVE_F16) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: ggml files are written as f32 or f16 only", file);
    return FALSE;
  }
  if (!whisper_model_need_f32 (m, WHISPER_WEIGHTS_ALL, error))
    return FALSE;
  wfile w;
  if (!w_open (&w, file, error))
    return FALSE;
  const whisper_hparams *hp = &m->hp;
  w_u32 (&w, 0x67676d6c);
  const int h[] = { hp->n_vocab, hp->n_audio_ctx, hp->n_audio_state,
    hp->n_audio_head, hp->n_audio_layer, hp->n_text_ctx, hp->n_text_state,
    hp->n_text_head, hp->n_text_layer, hp->n_mels,
    type == WHISPER_SAVE_F16 ? 1 : 0 };
  for (size_t i = 0; i < G_N_ELEMENTS (h); i++)
    w_u32 (&w, (guint32) h[i]);

  /* whisper.cpp computes its mel spectrogram with these filters */
  float *zeros = mel_filters ? NULL : g_new0 (float, (size_t) hp->n_mels * N_FREQ);
  w_u32 (&w, hp->n_mels);
  w_u32 (&w, N_FREQ);
  w_floats (&w, mel_filters ? mel_filters : zeros, (size_t) hp->n_mels * N_FREQ,
      WHISPER_DTYPE_F32);
  g_free (zeros);

  w_u32 (&w, m->vocab.n_tokens);
  for (int i = 0; i < m->vocab.n_tokens; i++) {
    w_u32 (&w, m->vocab.token_len[i]);
    w_bytes (&w, m->vocab.token[i], m->vocab.token_len[i]);
  }

  int n_slots;
  whisper_slot *slots = whisper_model_slots (m, &n_slots);
  for (int i = 0; i < n_slots; i++) {
    const whisper_slot *s = &slots[i];
    int n_dims = s->n_dims;
    int64_t ne[WHISPER_MAX_DIMS];
    memcpy (ne, s->ne, sizeof ne);
    if (is_conv_bias (s->name)) {       /* whisper.cpp stores them [C][1] */
      n_dims = 2;
      ne[1] = 1;
    }
    gboolean f16 = type == WHISPER_SAVE_F16 && n_dims >= 2
        && !is_conv_bias (s->name) && !strstr (s->name, "positional_embedding");
    w_u32 (&w, n_dims);
    w_u32 (&w, strlen (s->name));
    w_u32 (&w, f16 ? 1 : 0);
    for (int d = 0; d < n_dims; d++)
      w_u32 (&w, (guint32) ne[n_dims - 1 - d]);
    w_str (&w, s->name);
    w_floats (&w, s->data, s->n, f16 ? WHISPER_DTYPE_F16 : WHISPER_DTYPE_F32);
  }
  g_free (slots);
  return w_close (&w, error);
}

/* ------------------------------------------------------------------------ */
/* tokenizer.json (shared by the CTranslate2 and Hugging Face writers) */

static void
json_member_null (JsonBuilder * b, const char *name)
{
  json_builder_set_member_name (b, name);
  json_builder_add_null_value (b);
}

static void
json_member_bool (JsonBuilder * b, const char *name, gboolean v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, v);
}

static void
json_member_int (JsonBuilder * b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
json_member_string (JsonBuilder * b, const char *name, const char *v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, v);
}

/* an int array, as a member (@name) or an array element (NULL) */
static void
json_add_ints (JsonBuilder * b, const char *name, const int *v, int n)
{
  if (name)
    json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    json_builder_add_int_value (b, v[i]);
  json_builder_end_array (b);
}

/* ByteLevel pre-tokenizer or decoder */
static void
json_member_byte_level (JsonBuilder * b, const char *name, gboolean prefix)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_member_string (b, "type", "ByteLevel");
  json_member_bool (b, "add_prefix_space", prefix);
  json_member_bool (b, "trim_offsets", TRUE);
  json_member_bool (b, "use_regex", TRUE);
  json_builder_end_object (b);
}

static void
json_member_heads (JsonBuilder * b, const whisper_model * m)
{
  json_builder_set_member_name (b, "alignment_heads");
  json_builder_begin_array (b);
  for (int i = 0; i < m->n_alignment_heads; i++)
    json_add_ints (b, NULL, m->alignment_heads[i], 2);
  json_builder_end_array (b);
}

static JsonNode *
json_builder_finish (JsonBuilder * b)
{
  JsonNode *root = json_builder_get_root (b);
  g_object_unref (b);
  return root;
}

/* tokenizer.json (shared by the CTranslate2 and Hugging Face writers) */
static JsonNode *
tokenizer_json (const whisper_model * m)
{
  const whisper_vocab *v = &m->vocab;
  int n_ordinary = m->tok.eot >= 0 ? m->tok.eot : v->n_tokens;
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_member_string (b, "version", "1.0");
  json_member_null (b, "truncation");
  json_member_null (b, "padding");
  json_builder_set_member_name (b, "added_tokens");
  json_builder_begin_array (b);
  for (int i = n_ordinary; i < v->n_tokens; i++) {
    json_builder_begin_object (b);
    json_member_int (b, "id", i);
    json_member_string (b, "content", v->token[i]);
    json_member_bool (b, "single_word", FALSE);
    json_member_bool (b, "lstrip", FALSE);
    json_member_bool (b, "rstrip", FALSE);
    json_member_bool (b, "normalized", FALSE);
    json_member_bool (b, "special", TRUE);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_member_null (b, "normalizer");
  json_member_byte_level (b, "pre_tokenizer", FALSE);
  json_member_null (b, "post_processor");
  json_member_byte_level (b, "decoder", TRUE);
  json_builder_set_member_name (b, "model");
  json_builder_begin_object (b);
  json_member_string (b, "type", "BPE");
  json_member_null (b, "dropout");
  json_member_null (b, "unk_token");
  json_member_string (b, "continuing_subword_prefix", "");
  json_member_string (b, "end_of_word_suffix", "");
  json_member_bool (b, "fuse_unk", FALSE);
  json_builder_set_member_name (b, "vocab");
  json_builder_begin_object (b);
  for (int i = 0; i < n_ordinary; i++) {
    char *mapped = whisper_token_map (v->token[i], v->token_len[i]);
    json_member_int (b, mapped, i);
    g_free (mapped);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "merges");
  json_builder_begin_array (b);
  for (int i = 0; i < v->n_merges; i++)
    json_builder_add_string_value (b, v->merges[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_finish (b);
}

/* ------------------------------------------------------------------------ */
/* CTranslate2 */

typedef struct {
  char *name;
  int rank;
  guint32 dims[WHISPER_MAX_DIMS];
  guint8 dtype_id;              /* 0 f32, 1 i8, 2 i16, 4 f16 */
  void *data;
  size_t n_bytes;
} ct2_var;

static void
ct2_add_raw (GPtrArray * vars, const char *name, int rank,
    const guint32 * dims, guint8 dtype_id, void *data, size_t n_bytes)
{
  ct2_var *v = g_new0 (ct2_var, 1);
  v->name = g_strdup (name);
  v->rank = rank;
  if (rank)
    memcpy (v->dims, dims, rank * sizeof (guint32));
  v->dtype_id = dtype_id;
  v->data = data;
  v->n_bytes = n_bytes;
  g_ptr_array_add (vars, v);
}

static void
ct2_add_scalar (GPtrArray * vars, const char *name, int bytes, int value)
{
  void *d = g_malloc (bytes);
  if (bytes == 1)
    *(gint8 *) d = value;
  else {
    gint16 v = GINT16_TO_LE (value);
    memcpy (d, &v, 2);
  }
  ct2_add_raw (vars, name, 0, NULL, bytes == 1 ? 1 : 2, d, bytes);
}

/* x [dims[0]][...] float32 -> variable of the chosen type; quantisable
 * weights become int8 + "<name>_scale" for WHISPER_SAVE_INT8. */
static void
ct2_add (GPtrArray * vars, const char *name, int rank, const guint32 * dims,
    const float *x, whisper_save_type type, gboolean quantisable)
{
  size_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  if (type == WHISPER_SAVE_INT16 && quantisable) {
    /* ctranslate2: 10 bits for the largest magnitude, one scale */
    float amax = 0;
    for (size_t i = 0; i < n; i++)
      amax = MAX (amax, fabsf (x[i]));
    float *scale = g_new (float, 1);
    *scale = amax > 0 ? 1024.0f / amax : 1.0f;
    gint16 *q = g_new (gint16, n);
    for (size_t i = 0; i < n; i++) {
      float v = rintf (x[i] * *scale);
      q[i] = GINT16_TO_LE ((gint16) CLAMP (v, -32768, 32767));
    }
    ct2_add_raw (vars, name, rank, dims, 2, q, n * 2);
    char *sname = g_strconcat (name, "_scale", NULL);
    ct2_add_raw (vars, sname, 0, NULL, 0, scale, 4);
    g_free (sname);
    return;
  }
  if (type == WHISPER_SAVE_INT8 && quantisable) {
    size_t rows = dims[0], row_len = n / rows;
    gint8 *q = g_malloc (n);
    float *scale = g_new (float, rows);
    for (size_t r = 0; r < rows; r++) {
      float amax = 0;
      for (size_t j = 0; j < row_len; j++)
        amax = MAX (amax, fabsf (x[r * row_len + j]));
      if (amax == 0)
        amax = 127;
      scale[r] = 127.0f / amax;
      for (size_t j = 0; j < row_len; j++) {
        float v = rintf (x[r * row_len + j] * scale[r]);
        q[r * row_len + j] = (gint8) CLAMP (v, -128, 127);
      }
    }
    ct2_add_raw (vars, name, rank, dims, 1, q, n);
    char *sname = g_strconcat (name, "_scale", NULL);
    guint32 sd[1] = { (guint32) rows };
    ct2_add_raw (vars, sname, 1, sd, 0, scale, rows * 4);
    g_free (sname);
    return;
  }
  if (type == WHISPER_SAVE_F16) {
    guint16 *h = g_new (guint16, n);
    for (size_t i = 0; i < n; i++)
      h[i] = GUINT16_TO_LE (kf32_to_f16 (x[i]));
    ct2_add_raw (vars, name, rank, dims, 4, h, n * 2);
  } else if (type == WHISPER_SAVE_BF16) {
    guint16 *h = g_new (guint16, n);
    for (size_t i = 0; i < n; i++)
      h[i] = GUINT16_TO_LE (f32_to_bf16 (x[i]));
    ct2_add_raw (vars, name, rank, dims, 5, h, n * 2);
  } else {
    ct2_add_raw (vars, name, rank, dims, 0, g_memdup2 (x, n * 4), n * 4);
  }
}

static int
ct2_var_cmp (gconstpointer a, gconstpointer b)
{
  const ct2_var *x = *(ct2_var * const *) a, *y = *(ct2_var * const *) b;
  return strcmp (x->name, y->name);
}

static void
ct2_var_free (gpointer p)
{
  ct2_var *v = p;
  g_free (v->name);
  g_free (v->data);
  g_free (v);
}

/* concatenation of k [rows][C] blocks (NULL block = zeros) */
static float *
concat_rows (const float *const *blocks, int k, size_t block_n)
{
  float *x = g_new0 (float, block_n * k);
  for (int i = 0; i < k; i++)
    if (blocks[i])
      memcpy (x + i * block_n, blocks[i], block_n * 4);
  return x;
}

/* "<pre>/<linear>/weight" [rows][cols] (quantisable) and
 * "<pre>/<linear>/bias" [rows] */
static void
ct2_add_linear (GPtrArray * vars, const char *pre, const char *linear,
    int rows, int cols, const float *w, const float *b,
    whisper_save_type type)
{
  char name[128];
  guint32 dw[2] = { rows, cols }, db[1] = { rows };
  g_snprintf (name, sizeof name, "%s/%s/weight", pre, linear);
  ct2_add (vars, name, 2, dw, w, type, TRUE);
  g_snprintf (name, sizeof name, "%s/%s/bias", pre, linear);
  ct2_add (vars, name, 1, db, b, type, FALSE);
}

static void
ct2_add_ln (GPtrArray * vars, const char *pre, const float *g, const float *b,
    int C, whisper_save_type type)
{
  char name[128];
  guint32 d[1] = { C };
  g_snprintf (name, sizeof name, "%s/gamma", pre);
  ct2_add (vars, name, 1, d, g, type, FALSE);
  g_snprintf (name, sizeof name, "%s/beta", pre);
  ct2_add (vars, name, 1, d, b, type, FALSE);
}

/* Attention "<pre>" with its "<pre>/layer_norm" */
static void
ct2_add_attn (GPtrArray * vars, const char *pre, const whisper_attn_weights * a,
    const float *ln_w, const float *ln_b, gboolean fused_qkv, int C,
    whisper_save_type type)
{
  char name[128];
  size_t CC = (size_t) C * C;
  g_snprintf (name, sizeof name, "%s/layer_norm", pre);
  ct2_add_ln (vars, name, ln_w, ln_b, C, type);
  if (fused_qkv) {
    const float *wb[3] = { a->q_w, a->k_w, a->v_w };
    const float *bb[3] = { a->q_b, NULL, a->v_b };
    float *w = concat_rows (wb, 3, CC), *b = concat_rows (bb, 3, C);
    ct2_add_linear (vars, pre, "linear_0", 3 * C, C, w, b, type);
    g_free (w);
    g_free (b);
    ct2_add_linear (vars, pre, "linear_1", C, C, a->o_w, a->o_b, type);
  } else {
    ct2_add_linear (vars, pre, "linear_0", C, C, a->q_w, a->q_b, type);
    const float *wb[2] = { a->k_w, a->v_w };
    const float *bb[2] = { NULL, a->v_b };
    float *w = concat_rows (wb, 2, CC), *b = concat_rows (bb, 2, C);
    ct2_add_linear (vars, pre, "linear_1", 2 * C, C, w, b, type);
    g_free (w);
    g_free (b);
    ct2_add_linear (vars, pre, "linear_2", C, C, a->o_w, a->o_b, type);
  }
}

static void
ct2_add_ffn (GPtrArray * vars, const char *pre, const float *ln_w,
    const float *ln_b, const float *fc1_w, const float *fc1_b,
    const float *fc2_w, const float *fc2_b, int C, whisper_save_type type)
{
  char name[128];
  g_snprintf (name, sizeof name, "%s/layer_norm", pre);
  ct2_add_ln (vars, name, ln_w, ln_b, C, type);
  ct2_add_linear (vars, pre, "linear_0", 4 * C, C, fc1_w, fc1_b, type);
  ct2_add_linear (vars, pre, "linear_1", C, 4 * C, fc2_w, fc2_b, type);
}

gboolean
whisper_model_save_ct2 (const whisper_model * m, const char *dir,
    whisper_save_type type, GError ** error)
{
  if (!make_dir (dir, error))
    return FALSE;
  const whisper_hparams *hp = &m->hp;
  if (!whisper_model_need_f32 (m, WHISPER_WEIGHTS_ALL, error))
    return FALSE;
  const whisper_weights *W = &m->w;
  const int C = hp->n_audio_state, D = hp->n_text_state;
  GPtrArray *vars = g_ptr_array_new_with_free_func (ct2_var_free);
  char pre[96];

  /* scalars, as ctranslate2's WhisperSpec stores them */
  ct2_add_scalar (vars, "decoder/activation", 1, 3);   /* GELU */
  ct2_add_scalar (vars, "decoder/alibi", 1, 0);
  ct2_add_scalar (vars, "decoder/alignment_heads", 2, 1);
  ct2_add_scalar (vars, "decoder/alignment_layer", 2, -1);
  ct2_add_scalar (vars, "decoder/num_heads", 2, hp->n_text_head);
  ct2_add_scalar (vars, "decoder/pre_norm", 1, 1);
  ct2_add_scalar (vars, "decoder/scale_embeddings", 1, 0);
  ct2_add_scalar (vars, "decoder/start_from_zero_embedding", 1, 0);
  ct2_add_scalar (vars, "encoder/num_heads", 2, hp->n_audio_head);

  {
    guint32 d3[3] = { C, hp->n_mels, 3 }, d1[1] = { C };
    ct2_add (vars, "encoder/conv1/weight", 3, d3, W->conv1_w, type, TRUE);
    ct2_add (vars, "encoder/conv1/bias", 1, d1, W->conv1_b, type, FALSE);
    d3[1] = C;
    ct2_add (vars, "encoder/conv2/weight", 3, d3, W->conv2_w, type, TRUE);
    ct2_add (vars, "encoder/conv2/bias", 1, d1, W->conv2_b, type, FALSE);
    guint32 dp[2] = { hp->n_audio_ctx, C };
    ct2_add (vars, "encoder/position_encodings/encodings", 2, dp, W->enc_pos,
        type, FALSE);
    ct2_add_ln (vars, "encoder/layer_norm", W->enc_ln_w, W->enc_ln_b, C, type);
  }
  for (int l = 0; l < hp->n_audio_layer; l++) {
    const whisper_encoder_layer *e = &W->enc[l];
    g_snprintf (pre, sizeof pre, "encoder/layer_%d/self_attention", l);
    ct2_add_attn (vars, pre, &e->attn, e->attn_ln_w, e->attn_ln_b, TRUE, C,
        type);
    g_snprintf (pre, sizeof pre, "encoder/layer_%d/ffn", l);
    ct2_add_ffn (vars, pre, e->mlp_ln_w, e->mlp_ln_b, e->fc1_w, e->fc1_b,
        e->fc2_w, e->fc2_b, C, type);
  }
  {
    guint32 de[2] = { hp->n_vocab, D }, dp[2] = { hp->n_text_ctx, D };
    ct2_add (vars, "decoder/embeddings/weight", 2, de, W->tok_emb, type, TRUE);
    ct2_add (vars, "decoder/position_encodings/encodings", 2, dp, W->dec_pos,
        type, FALSE);
    ct2_add_ln (vars, "decoder/layer_norm", W->dec_ln_w, W->dec_ln_b, D, type);
  }
  for (int l = 0; l < hp->n_text_layer; l++) {
    const whisper_decoder_layer *d = &W->dec[l];
    g_snprintf (pre, sizeof pre, "decoder/layer_%d/self_attention", l);
    ct2_add_attn (vars, pre, &d->attn, d->attn_ln_w, d->attn_ln_b, TRUE, D,
        type);
    g_snprintf (pre, sizeof pre, "decoder/layer_%d/attention", l);
    ct2_add_attn (vars, pre, &d->cross, d->cross_ln_w, d->cross_ln_b, FALSE,
        D, type);
    g_snprintf (pre, sizeof pre, "decoder/layer_%d/ffn", l);
    ct2_add_ffn (vars, pre, d->mlp_ln_w, d->mlp_ln_b, d->fc1_w, d->fc1_b,
        d->fc2_w, d->fc2_b, D, type);
  }
  g_ptr_array_sort (vars, ct2_var_cmp);

  char *file = g_build_filename (dir, "model.bin", NULL);
  wfile w;
  gboolean ok = w_open (&w, file, error);
  if (ok) {
    const char *spec = "WhisperSpec";
    w_u32 (&w, 6);
    w_ct2_str (&w, spec);
    w_u32 (&w, 3);
    w_u32 (&w, vars->len);
    for (guint i = 0; i < vars->len; i++) {
      const ct2_var *v = g_ptr_array_index (vars, i);
      w_ct2_str (&w, v->name);
      w_u8 (&w, v->rank);
      for (int d = 0; d < v->rank; d++)
        w_u32 (&w, v->dims[d]);
      w_u8 (&w, v->dtype_id);
      w_u32 (&w, v->n_bytes);
      w_bytes (&w, v->data, v->n_bytes);
    }
    const char *alias = "decoder/projection/weight";
    const char *target = "decoder/embeddings/weight";
    w_u32 (&w, 1);
    w_ct2_str (&w, alias);
    w_ct2_str (&w, target);
    ok = w_close (&w, error);
  }
  g_free (file);
  g_ptr_array_free (vars, TRUE);
  if (!ok)
    return FALSE;

  /* config.json: what faster-whisper reads */
  const whisper_special_tokens *t = &m->tok;
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_member_heads (b, m);
  json_builder_set_member_name (b, "lang_ids");
  json_builder_begin_array (b);
  for (int i = 0; i < t->n_langs; i++)
    json_builder_add_int_value (b, t->lang_first + i);
  json_builder_end_array (b);
  int extra[] = { t->translate, t->transcribe, t->sot_lm, t->sot_prev,
    t->no_speech, t->sot };
  GArray *sup = g_array_new (FALSE, FALSE, sizeof (int));
  g_array_append_vals (sup, m->suppress_tokens, m->n_suppress_tokens);
  for (size_t i = 0; i < G_N_ELEMENTS (extra); i++)
    if (extra[i] >= 0)
      g_array_append_val (sup, extra[i]);
  json_add_ints (b, "suppress_ids", (const int *) sup->data, sup->len);
  g_array_free (sup, TRUE);
  int begin[2] = { -1, t->eot };        /* " ", <|endoftext|> */
  for (int i = 0; i < m->vocab.n_tokens && begin[0] < 0; i++)
    if (m->vocab.token_len[i] == 1 && m->vocab.token[i][0] == ' ')
      begin[0] = i;
  json_add_ints (b, "suppress_ids_begin", begin, 2);
  json_builder_end_object (b);
  if (!write_json (dir, "config.json", json_builder_finish (b), TRUE, error))
    return FALSE;

  /* vocabulary: .txt for English-only models, .json for multilingual ones
   * (as the faster-whisper conversions on the hub do) */
  if (m->is_multilingual) {
    b = json_builder_new ();
    json_builder_begin_array (b);
    for (int i = 0; i < m->vocab.n_tokens; i++) {
      char *mapped = whisper_token_map (m->vocab.token[i],
          m->vocab.token_len[i]);
      json_builder_add_string_value (b, mapped);
      g_free (mapped);
    }
    json_builder_end_array (b);
    if (!write_json (dir, "vocabulary.json", json_builder_finish (b), FALSE,
            error))
      return FALSE;
  } else {
    GString *s = g_string_new (NULL);
    for (int i = 0; i < m->vocab.n_tokens; i++) {
      char *mapped = whisper_token_map (m->vocab.token[i],
          m->vocab.token_len[i]);
      g_string_append (s, mapped);
      g_string_append_c (s, '\n');
      g_free (mapped);
    }
    if (!write_text (dir, "vocabulary.txt", s, error))
      return FALSE;
  }

  return write_json (dir, "tokenizer.json", tokenizer_json (m), FALSE, error);
}

/* ------------------------------------------------------------------------ */
/* Hugging Face safetensors */

gboolean
whisper_model_save_safetensors (const whisper_model * m, const char *dir,
    whisper_save_type type, GError ** error)
{
  if (type == WHISPER_SAVE_INT8 || type == WHISPER_SAVE_INT16) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: the safetensors writer supports F32, F16 and BF16", dir);
    return FALSE;
  }
  if (!make_dir (dir, error)
      || !whisper_model_need_f32 (m, WHISPER_WEIGHTS_ALL, error))
    return FALSE;
  whisper_dtype dt = type == WHISPER_SAVE_F16 ? WHISPER_DTYPE_F16 :
      type == WHISPER_SAVE_BF16 ? WHISPER_DTYPE_BF16 : WHISPER_DTYPE_F32;
  const char *dtn = dt == WHISPER_DTYPE_F16 ? "F16" : dt == WHISPER_DTYPE_BF16
      ? "BF16" : "F32";
  int n_slots;
  whisper_slot *slots = whisper_model_slots (m, &n_slots);
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "__metadata__");
  json_builder_begin_object (b);
  json_member_string (b, "format", "pt");
  json_builder_end_object (b);
  size_t off = 0;
  for (int i = 0; i < n_slots; i++) {
    char hf[96], name[104];
    whisper_hf_name (slots[i].name, hf, sizeof hf);
    g_snprintf (name, sizeof name, "model.%s", hf);
    size_t nb = slots[i].n * whisper_dtype_size (dt);
    json_builder_set_member_name (b, name);
    json_builder_begin_object (b);
    json_member_string (b, "dtype", dtn);
    json_builder_set_member_name (b, "shape");
    json_builder_begin_array (b);
    for (int d = 0; d < slots[i].n_dims; d++)
      json_builder_add_int_value (b, slots[i].ne[d]);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "data_offsets");
    json_builder_begin_array (b);
    json_builder_add_int_value (b, off);
    json_builder_add_int_value (b, off + nb);
    json_builder_end_array (b);
    json_builder_end_object (b);
    off += nb;
  }
  json_builder_end_object (b);
  GString *h = json_text (json_builder_finish (b), FALSE);
  /* the tensor data starts 8-byte aligned */
  while (h->len % 8)
    g_string_append_c (h, ' ');

  char *file = g_build_filename (dir, "model.safetensors", NULL);
  wfile w;
  gboolean ok = w_open (&w, file, error);
  if (ok) {
    guint64 hl = GUINT64_TO_LE ((guint64) h->len);
    w_bytes (&w, &hl, 8);
    w_bytes (&w, h->str, h->len);
    for (int i = 0; i < n_slots; i++)
      w_floats (&w, slots[i].data, slots[i].n, dt);
    ok = w_close (&w, error);
  }
  g_free (file);
  g_string_free (h, TRUE);
  g_free (slots);
  if (!ok)
    return FALSE;

  const whisper_hparams *hp = &m->hp;
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "architectures");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "WhisperForConditionalGeneration");
  json_builder_end_array (b);
  json_member_string (b, "model_type", "whisper");
  json_member_int (b, "d_model", hp->n_audio_state);
  json_member_int (b, "encoder_layers", hp->n_audio_layer);
  json_member_int (b, "encoder_attention_heads", hp->n_audio_head);
  json_member_int (b, "encoder_ffn_dim", 4 * hp->n_audio_state);
  json_member_int (b, "decoder_layers", hp->n_text_layer);
  json_member_int (b, "decoder_attention_heads", hp->n_text_head);
  json_member_int (b, "decoder_ffn_dim", 4 * hp->n_text_state);
  json_member_int (b, "num_mel_bins", hp->n_mels);
  json_member_int (b, "max_source_positions", hp->n_audio_ctx);
  json_member_int (b, "max_target_positions", hp->n_text_ctx);
  json_member_int (b, "vocab_size", hp->n_vocab);
  json_member_int (b, "eos_token_id", m->tok.eot);
  json_member_int (b, "decoder_start_token_id", m->tok.sot);
  json_member_string (b, "torch_dtype", dt == WHISPER_DTYPE_F16 ? "float16"
      : dt == WHISPER_DTYPE_BF16 ? "bfloat16" : "float32");
  json_builder_end_object (b);
  if (!write_json (dir, "config.json", json_builder_finish (b), TRUE, error))
    return FALSE;

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_member_heads (b, m);
  json_member_int (b, "eos_token_id", m->tok.eot);
  json_member_int (b, "decoder_start_token_id", m->tok.sot);
  json_member_bool (b, "is_multilingual", m->is_multilingual);
  json_builder_end_object (b);
  if (!write_json (dir, "generation_config.json", json_builder_finish (b),
          TRUE, error))
    return FALSE;

  return write_json (dir, "tokenizer.json", tokenizer_json (m), FALSE, error);
}

/* ------------------------------------------------------------------------ */
/* synthetic model */

whisper_synth_params
whisper_synth_params_default (void)
{
  whisper_synth_params p = {
    .n_state = 64, .n_head = 2, .n_layer = 2, .n_mels = 80,
    .n_audio_ctx = 1500, .n_text_ctx = 448, .n_langs = 0, .seed = 1,
  };
  return p;
}

/* uniform in [-1, 1), from the engine's one RNG */
static float
rand_sym (whisper_rng * rng)
{
  return (float) whisper_rng_uniform (rng) * 2.0f - 1.0f;
}

/* Rounds to a value that bfloat16 and float16 both hold exactly: 8
 * significant bits, and 0 below 2^-12 (inside float16's normal range). */
static float
exact_value (float x)
{
  guint32 u;
  memcpy (&u, &x, 4);
  u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u;
  memcpy (&x, &u, 4);
  if (fabsf (x) < 1.0f / 4096)
    x = 0;
  return x;
}

/* byte-mapped merges of the synthetic vocabulary, in rank order */
static const char *const synth_merges[][2] = {
  { "Ġ", "t" }, { "h", "e" }, { "i", "n" }, { "Ġ", "a" }, { "e", "r" },
  { "o", "n" }, { "Ġt", "he" }, { "r", "e" }, { "Ġ", "s" }, { "Ġ", "w" },
  { "a", "n" }, { "o", "u" }, { "Ġ", "-" }, { "Ġ", "'" }, { "Ġ", "(" },
  { "-", "-" },
};

whisper_model *
whisper_model_synthetic (const whisper_synth_params * p, GError ** error)
{
  const char *name = "synthetic";
  if (p->n_langs < 0 || p->n_langs > 100) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: n_langs %d out of range [0, 100]", name, p->n_langs);
    return NULL;
  }
  whisper_model *m = g_new0 (whisper_model, 1);
  m->path = g_strdup (name);
  m->format = g_strdup (name);
  m->weight_dtype = "float32";
  const int n_merges = G_N_ELEMENTS (synth_merges);
  const int n_ordinary = 256 + n_merges;
  const int n_vocab = n_ordinary + 2 + p->n_langs + 6 + 1501;
  whisper_hparams *hp = &m->hp;
  hp->n_vocab = n_vocab;
  hp->n_audio_ctx = p->n_audio_ctx;
  hp->n_audio_state = hp->n_text_state = p->n_state;
  hp->n_audio_head = hp->n_text_head = p->n_head;
  hp->n_audio_layer = hp->n_text_layer = p->n_layer;
  hp->n_text_ctx = p->n_text_ctx;
  hp->n_mels = p->n_mels;
  int n_slots;
  whisper_slot *slots = NULL;
  if (!whisper_hparams_check (hp, name, error)
      || !(slots = whisper_model_alloc_f32 (m, &n_slots, error))) {
    whisper_model_free (m);
    return NULL;
  }

  /* weights */
  whisper_rng rng;
  whisper_rng_seed (&rng, p->seed);
  for (int i = 0; i < n_slots; i++) {
    whisper_slot *s = &slots[i];
    if (strcmp (s->name, "encoder.positional_embedding") == 0) {
      /* openai whisper sinusoids(length, channels) */
      int A = s->ne[0], C = s->ne[1], half = C / 2;
      double inc = log (10000.0) / MAX (half - 1, 1);
      for (int t = 0; t < A; t++)
        for (int c = 0; c < half; c++) {
          double a = t * exp (-inc * c);
          s->data[t * C + c] = exact_value ((float) sin (a));
          s->data[t * C + half + c] = exact_value ((float) cos (a));
        }
      continue;
    }
    gboolean ln_w = g_str_has_suffix (s->name, "ln.weight")
        || g_str_has_suffix (s->name, "ln_post.weight");
    gboolean bias = g_str_has_suffix (s->name, ".bias");
    float scale = bias ? 0.05f : 1.0f / sqrtf ((float) (s->n / s->ne[0]));
    if (strstr (s->name, "token_embedding") || strstr (s->name,
            "decoder.positional_embedding"))
      scale = 0.1f;
    for (size_t j = 0; j < s->n; j++) {
      float v = rand_sym (&rng) * (ln_w ? 0.1f : scale);
      s->data[j] = exact_value (ln_w ? 1.0f + v : v);
    }
  }
  g_free (slots);

  /* vocabulary */
  whisper_vocab *v = &m->vocab;
  whisper_vocab_init (v, n_vocab);
  gunichar enc[256];
  whisper_byte_encoder (enc);
  /* GPT-2 order: printable bytes, then the others (as byte_encoder numbers
   * them: code point order) */
  int id = 0;
  for (gunichar cp = 0; cp < 324 && id < 256; cp++)
    for (int b = 0; b < 256; b++)
      if (enc[b] == cp) {
        char c = (char) b;
        whisper_vocab_set (v, id++, &c, 1);
      }
  v->merges = g_new0 (char *, n_merges);
  v->n_merges = n_merges;
  for (int i = 0; i < n_merges; i++) {
    char *mapped = g_strconcat (synth_merges[i][0], synth_merges[i][1], NULL);
    int len;
    char *bytes = whisper_token_unmap (mapped, strlen (mapped), &len);
    whisper_vocab_set (v, id++, bytes, len);
    v->merges[i] = g_strconcat (synth_merges[i][0], " ", synth_merges[i][1],
        NULL);
    g_free (bytes);
    g_free (mapped);
  }
  GPtrArray *sp = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (sp, g_strdup ("<|endoftext|>"));
  g_ptr_array_add (sp, g_strdup ("<|startoftranscript|>"));
  for (int i = 0; i < p->n_langs; i++)
    g_ptr_array_add (sp, g_strdup_printf ("<|%s|>", whisper_language_codes[i]));
  g_ptr_array_add (sp, g_strdup ("<|translate|>"));
  g_ptr_array_add (sp, g_strdup ("<|transcribe|>"));
  g_ptr_array_add (sp, g_strdup ("<|startoflm|>"));
  g_ptr_array_add (sp, g_strdup ("<|startofprev|>"));
  g_ptr_array_add (sp, g_strdup (p->n_langs ? "<|nospeech|>" : "<|nocaptions|>"));
  g_ptr_array_add (sp, g_strdup ("<|notimestamps|>"));
  for (int i = 0; i <= 1500; i++)
    g_ptr_array_add (sp, g_strdup_printf ("<|%d.%02d|>", i * 2 / 100,
            i * 2 % 100));
  for (guint i = 0; i < sp->len; i++) {
    const char *t = g_ptr_array_index (sp, i);
    whisper_vocab_set (v, id++, t, strlen (t));
  }
  g_ptr_array_free (sp, TRUE);
  g_assert (id == n_vocab);

  m->n_alignment_heads = 2;
  m->alignment_heads = g_malloc0_n (2, sizeof *m->alignment_heads);
  m->alignment_heads[0][0] = p->n_layer - 1;
  m->alignment_heads[0][1] = 0;
  m->alignment_heads[1][0] = p->n_layer - 1;
  m->alignment_heads[1][1] = p->n_head - 1;

  if (!whisper_model_find_specials (m, name, error)) {
    whisper_model_free (m);
    return NULL;
  }
  return m;
}
