/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-memory Whisper model: weight slots and views, dtype conversion,
 * vocabulary helpers, special tokens and the non-speech suppress list.
 * See whisper-model.h for the layout and model-internal.h for how the
 * loaders use these helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <sys/mman.h>

#include "model-internal.h"
#include "kernels.h"

/* the engine's error domain (whisper.h) */
G_DEFINE_QUARK (whisper-error-quark, whisper_error)

/* ------------------------------------------------------------------------ */
/* dtypes */

size_t
whisper_dtype_size (whisper_dtype t)
{
  switch (t) {
    case WHISPER_DTYPE_F32: return 4;
    case WHISPER_DTYPE_F16: return 2;
    case WHISPER_DTYPE_BF16: return 2;
    case WHISPER_DTYPE_I8: return 1;
    case WHISPER_DTYPE_I16: return 2;
    case WHISPER_DTYPE_I32: return 4;
  }
  return 0;
}

const char *
whisper_dtype_name (whisper_dtype t)
{
  switch (t) {
    case WHISPER_DTYPE_F32: return "float32";
    case WHISPER_DTYPE_F16: return "float16";
    case WHISPER_DTYPE_BF16: return "bfloat16";
    case WHISPER_DTYPE_I8: return "int8";
    case WHISPER_DTYPE_I16: return "int16";
    case WHISPER_DTYPE_I32: return "int32";
  }
  return "?";
}

static inline float
bits_to_f32 (uint32_t u)
{
  float f;
  memcpy (&f, &u, 4);
  return f;
}

/* n halves (unaligned, little-endian) -> floats, exact; F16C when the CPU
 * has it (the kernels' run-time dispatch) */
static void
f16_row_to_f32 (float *dst, const unsigned char *src, size_t n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  f16_to_f32_forward (dst, src, n);
#else
  for (size_t i = 0; i < n; i++) {
    uint16_t h;
    memcpy (&h, src + 2 * i, 2);
    dst[i] = kf16_to_f32 (GUINT16_FROM_LE (h));
  }
#endif
}

float
whisper_bf16_to_f32 (uint16_t h)
{
  return bits_to_f32 ((uint32_t) h << 16);
}

/* ------------------------------------------------------------------------ */
/* file reader */

gboolean
whisper_reader_need (whisper_reader * r, size_t n, const char *what)
{
  if (n > r->size - r->off) {
    g_set_error (r->error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: truncated: %s at offset %zu needs %zu bytes, %zu left", r->file,
        what, r->off, n, r->size - r->off);
    return FALSE;
  }
  return TRUE;
}

gboolean
whisper_reader_u32 (whisper_reader * r, guint32 * v, const char *what)
{
  if (!whisper_reader_need (r, 4, what))
    return FALSE;
  memcpy (v, r->data + r->off, 4);
  *v = GUINT32_FROM_LE (*v);
  r->off += 4;
  return TRUE;
}

gboolean
whisper_reader_count (whisper_reader * r, guint32 * n, size_t min_bytes,
    const char *item)
{
  char what[64];
  g_snprintf (what, sizeof what, "the %s count", item);
  if (!whisper_reader_u32 (r, n, what))
    return FALSE;
  if (*n > (r->size - r->off) / min_bytes) {
    g_set_error (r->error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: truncated: %u %s records cannot fit in the %zu bytes left",
        r->file, *n, item, r->size - r->off);
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* hyper-parameters */

gboolean
whisper_hparams_check (const whisper_hparams * hp, const char *file,
    GError ** error)
{
  struct { const char *name; int v, lo, hi; } r[] = {
    { "n_vocab", hp->n_vocab, 8, 1 << 20 },
    { "n_audio_ctx", hp->n_audio_ctx, 1, 1 << 16 },
    { "n_audio_state", hp->n_audio_state, 2, 1 << 15 },
    { "n_audio_head", hp->n_audio_head, 1, 1 << 10 },
    { "n_audio_layer", hp->n_audio_layer, 1, 1 << 8 },
    { "n_text_ctx", hp->n_text_ctx, 1, 1 << 16 },
    { "n_text_state", hp->n_text_state, 2, 1 << 15 },
    { "n_text_head", hp->n_text_head, 1, 1 << 10 },
    { "n_text_layer", hp->n_text_layer, 1, 1 << 8 },
    { "n_mels", hp->n_mels, 1, 1 << 10 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (r); i++) {
    if (r[i].v < r[i].lo || r[i].v > r[i].hi) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: hyper-parameter %s = %d is out of range [%d, %d]", file,
          r[i].name, r[i].v, r[i].lo, r[i].hi);
      return FALSE;
    }
  }
  if (hp->n_audio_state % hp->n_audio_head || hp->n_text_state % hp->n_text_head) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: the head count does not divide the state size "
        "(audio %d / %d, text %d / %d)", file, hp->n_audio_state,
        hp->n_audio_head, hp->n_text_state, hp->n_text_head);
    return FALSE;
  }
  if (hp->n_audio_state != hp->n_text_state) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: n_audio_state %d != n_text_state %d (Whisper uses one width)",
        file, hp->n_audio_state, hp->n_text_state);
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* the weight table: one slot per weight, in a fixed order */

typedef struct {
  whisper_slot *s;
  float ***field;               /* where to store each slot's pointer */
  int n, cap;
  size_t off;                   /* in floats */
} slot_list;

static void
slot_add (slot_list * l, float **field, const char *name, int n_dims,
    int64_t d0, int64_t d1, int64_t d2)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->s = g_renew (whisper_slot, l->s, l->cap);
    l->field = g_renew (float **, l->field, l->cap);
  }
  whisper_slot *s = &l->s[l->n];
  memset (s, 0, sizeof *s);
  g_strlcpy (s->name, name, sizeof s->name);
  s->n_dims = n_dims;
  s->ne[0] = d0;
  s->ne[1] = d1;
  s->ne[2] = d2;
  s->n = 1;
  for (int i = 0; i < n_dims; i++)
    s->n *= (size_t) s->ne[i];
  s->data = (float *) (uintptr_t) l->off;       /* offset for now */
  l->field[l->n] = field;
  l->off += (s->n + 15) & ~(size_t) 15;
  l->n++;
}

/* Slot "<pre>.<sub>.<suffix>" of a block. */
static void
slot_add_sub (slot_list * l, float **field, const char *pre, const char *sub,
    const char *suffix, int n_dims, int64_t d0, int64_t d1)
{
  char name[72];
  g_snprintf (name, sizeof name, "%s.%s.%s", pre, sub, suffix);
  slot_add (l, field, name, n_dims, d0, d1, 0);
}

/* LayerNorm "<pre>.<ln>": weight, bias [C] */
static void
add_ln (slot_list * l, float **w, float **b, const char *pre, const char *ln,
    int64_t C)
{
  slot_add_sub (l, w, pre, ln, "weight", 1, C, 0);
  slot_add_sub (l, b, pre, ln, "bias", 1, C, 0);
}

/* Attention "<pre>.<sub>": query, key (no bias), value, out [C][C] */
static void
add_attn (slot_list * l, whisper_attn_weights * a, const char *pre,
    const char *sub, int64_t C)
{
  slot_add_sub (l, &a->q_w, pre, sub, "query.weight", 2, C, C);
  slot_add_sub (l, &a->q_b, pre, sub, "query.bias", 1, C, 0);
  slot_add_sub (l, &a->k_w, pre, sub, "key.weight", 2, C, C);
  slot_add_sub (l, &a->v_w, pre, sub, "value.weight", 2, C, C);
  slot_add_sub (l, &a->v_b, pre, sub, "value.bias", 1, C, 0);
  slot_add_sub (l, &a->o_w, pre, sub, "out.weight", 2, C, C);
  slot_add_sub (l, &a->o_b, pre, sub, "out.bias", 1, C, 0);
}

/* MLP "<pre>.mlp": fc1 "mlp.0" [4C][C], fc2 "mlp.2" [C][4C] */
static void
add_mlp (slot_list * l, float **fc1_w, float **fc1_b, float **fc2_w,
    float **fc2_b, const char *pre, int64_t C)
{
  slot_add_sub (l, fc1_w, pre, "mlp", "0.weight", 2, 4 * C, C);
  slot_add_sub (l, fc1_b, pre, "mlp", "0.bias", 1, 4 * C, 0);
  slot_add_sub (l, fc2_w, pre, "mlp", "2.weight", 2, C, 4 * C);
  slot_add_sub (l, fc2_b, pre, "mlp", "2.bias", 1, C, 0);
}

/* The slot table of model->hp with offsets (in floats) as data; the
 * layer arrays w->enc / w->dec must exist. */
static void
build_slots (whisper_model * model, slot_list * lp)
{
  const whisper_hparams *hp = &model->hp;
  whisper_weights *w = &model->w;
  const int64_t C = hp->n_audio_state, M = hp->n_mels, A = hp->n_audio_ctx;
  const int64_t D = hp->n_text_state, V = hp->n_vocab, T = hp->n_text_ctx;
  slot_list l = { 0 };
  char pre[48];

  slot_add (&l, &w->conv1_w, "encoder.conv1.weight", 3, C, M, 3);
  slot_add (&l, &w->conv1_b, "encoder.conv1.bias", 1, C, 0, 0);
  slot_add (&l, &w->conv2_w, "encoder.conv2.weight", 3, C, C, 3);
  slot_add (&l, &w->conv2_b, "encoder.conv2.bias", 1, C, 0, 0);
  slot_add (&l, &w->enc_pos, "encoder.positional_embedding", 2, A, C, 0);
  for (int i = 0; i < hp->n_audio_layer; i++) {
    whisper_encoder_layer *e = &w->enc[i];
    g_snprintf (pre, sizeof pre, "encoder.blocks.%d", i);
    add_ln (&l, &e->attn_ln_w, &e->attn_ln_b, pre, "attn_ln", C);
    add_attn (&l, &e->attn, pre, "attn", C);
    add_ln (&l, &e->mlp_ln_w, &e->mlp_ln_b, pre, "mlp_ln", C);
    add_mlp (&l, &e->fc1_w, &e->fc1_b, &e->fc2_w, &e->fc2_b, pre, C);
  }
  add_ln (&l, &w->enc_ln_w, &w->enc_ln_b, "encoder", "ln_post", C);

  slot_add (&l, &w->tok_emb, "decoder.token_embedding.weight", 2, V, D, 0);
  slot_add (&l, &w->dec_pos, "decoder.positional_embedding", 2, T, D, 0);
  for (int i = 0; i < hp->n_text_layer; i++) {
    whisper_decoder_layer *d = &w->dec[i];
    g_snprintf (pre, sizeof pre, "decoder.blocks.%d", i);
    add_ln (&l, &d->attn_ln_w, &d->attn_ln_b, pre, "attn_ln", D);
    add_attn (&l, &d->attn, pre, "attn", D);
    add_ln (&l, &d->cross_ln_w, &d->cross_ln_b, pre, "cross_attn_ln", D);
    add_attn (&l, &d->cross, pre, "cross_attn", D);
    add_ln (&l, &d->mlp_ln_w, &d->mlp_ln_b, pre, "mlp_ln", D);
    add_mlp (&l, &d->fc1_w, &d->fc1_b, &d->fc2_w, &d->fc2_b, pre, D);
  }
  add_ln (&l, &w->dec_ln_w, &w->dec_ln_b, "decoder", "ln", D);
  *lp = l;
}

whisper_slot *
whisper_model_slots (const whisper_model * model, int *n_slots)
{
  slot_list l = { 0 };
  if (!whisper_model_need_f32 (model, WHISPER_WEIGHTS_ALL, NULL))
    return NULL;
  build_slots ((whisper_model *) model, &l);
  for (int i = 0; i < l.n; i++) {
    l.s[i].data = *l.field[i];
    l.s[i].tensor = model->tensors ? &model->tensors[i] : NULL;
  }
  g_free (l.field);
  *n_slots = l.n;
  return l.s;
}

/* The slot table and an empty view per slot; slot data holds the offset
 * (in floats) of the slot in a packed float32 layout.  *total: floats. */
static whisper_slot *
alloc_views (whisper_model * model, int *n_slots, size_t file_bytes,
    const char *file, size_t *total, GError ** error)
{
  const whisper_hparams *hp = &model->hp;
  whisper_weights *w = &model->w;
  slot_list l = { 0 };

  g_return_val_if_fail (model->tensors == NULL, NULL);
  w->enc = g_new0 (whisper_encoder_layer, hp->n_audio_layer);
  w->dec = g_new0 (whisper_decoder_layer, hp->n_text_layer);
  build_slots (model, &l);
  g_free (l.field);

  size_t n_weights = 0;
  for (int i = 0; i < l.n; i++)
    n_weights += l.s[i].n;
  if (file_bytes && n_weights > file_bytes) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: truncated: the hyper-parameters need %zu weights, more than "
        "the file's %zu bytes can hold", file, n_weights, file_bytes);
    g_free (l.s);
    g_clear_pointer (&w->enc, g_free);
    g_clear_pointer (&w->dec, g_free);
    return NULL;
  }
  model->tensors = g_new0 (whisper_tensor, (gsize) MAX (l.n, 0));
  model->n_tensors = l.n;
  for (int i = 0; i < l.n; i++)
    l.s[i].tensor = &model->tensors[i];
  *total = l.off;
  *n_slots = l.n;
  return l.s;
}

whisper_slot *
whisper_model_alloc (whisper_model * model, int *n_slots, size_t file_bytes,
    const char *file, GError ** error)
{
  size_t total;
  whisper_slot *slots = alloc_views (model, n_slots, file_bytes, file,
      &total, error);
  for (int i = 0; slots && i < *n_slots; i++)
    slots[i].data = NULL;
  return slots;
}

whisper_slot *
whisper_model_alloc_f32 (whisper_model * model, int *n_slots, GError ** error)
{
  size_t total;
  whisper_slot *slots = alloc_views (model, n_slots, 0, "model", &total,
      error);
  if (!slots)
    return NULL;
  /* hparams_check bounds every dim, so total * 4 cannot overflow size_t on
   * 64-bit; still guard it for 32-bit hosts. */
  void *mem = NULL;
  if (total > SIZE_MAX / sizeof (float)
      || !(mem = kernel_alloc (total * sizeof (float)))) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_IO,
        "cannot allocate %zu floats for the weights", total);
    g_free (slots);
    return NULL;
  }
  model->storage = mem;
  model->storage_size = total * sizeof (float);
  for (int i = 0; i < *n_slots; i++) {
    whisper_slot *sl = &slots[i];
    sl->data = (float *) mem + (uintptr_t) sl->data;
    *sl->tensor = (whisper_tensor) {
      .dtype = WHISPER_DTYPE_F32, .n_dims = sl->n_dims, .n = sl->n,
      .data = sl->data,
      .row_len = sl->ne[0] ? sl->n / (size_t) sl->ne[0] : sl->n,
    };
    memcpy (sl->tensor->ne, sl->ne, sizeof sl->tensor->ne);
    g_strlcpy (sl->tensor->name, sl->name, sizeof sl->tensor->name);
  }
  return slots;
}

void
whisper_model_keep_map (whisper_model * model, GMappedFile * map)
{
  if (!model->maps)
    model->maps = g_ptr_array_new_with_free_func (
        (GDestroyNotify) g_mapped_file_unref);
  g_ptr_array_add (model->maps, g_mapped_file_ref (map));
}

/* ------------------------------------------------------------------------ */
/* tensor conversion */

const char *
whisper_shape_str (char *buf, size_t size, int n_dims, const int64_t * ne)
{
  size_t o = g_strlcpy (buf, "[", size);
  for (int i = 0; i < n_dims && o < size; i++)
    o += g_snprintf (buf + o, size - o, "%s%" G_GINT64_FORMAT, i ? ", " : "",
        ne[i]);
  if (o < size)
    g_strlcpy (buf + o, "]", size - o);
  return buf;
}

/* Drops size-1 dims; returns the new rank. */
static int
squeeze (int n_dims, const int64_t * ne, int64_t * out)
{
  int k = 0;
  for (int i = 0; i < n_dims; i++)
    if (ne[i] != 1)
      out[k++] = ne[i];
  return k;
}

static inline float
load_scalar (const void *p, whisper_dtype t, size_t i)
{
  switch (t) {
    case WHISPER_DTYPE_F32: { float v; memcpy (&v, (const char *) p + 4 * i, 4); return v; }
    case WHISPER_DTYPE_F16: { uint16_t v; memcpy (&v, (const char *) p + 2 * i, 2); return kf16_to_f32 (v); }
    case WHISPER_DTYPE_BF16: { uint16_t v; memcpy (&v, (const char *) p + 2 * i, 2); return whisper_bf16_to_f32 (v); }
    case WHISPER_DTYPE_I8: return ((const int8_t *) p)[i];
    case WHISPER_DTYPE_I16: { int16_t v; memcpy (&v, (const char *) p + 2 * i, 2); return v; }
    case WHISPER_DTYPE_I32: { int32_t v; memcpy (&v, (const char *) p + 4 * i, 4); return (float) v; }
  }
  return 0.0f;
}

gboolean
whisper_tensor_bind (const whisper_slot * slot,
    const whisper_src_tensor * src, int part, int n_parts, const char *file,
    GError ** error)
{
  int64_t a[WHISPER_MAX_DIMS], b[WHISPER_MAX_DIMS];
  char sa[96], sb[96];
  int na = squeeze (slot->n_dims, slot->ne, a);
  int nb = squeeze (src->n_dims, src->ne, b);
  if (na == 0) {                /* a [1] slot */
    a[0] = 1;
    na = 1;
  }
  if (nb == 0) {
    b[0] = 1;
    nb = 1;
  }
  gboolean ok = na == nb && b[0] == a[0] * n_parts;
  for (int i = 1; ok && i < na; i++)
    ok = (a[i] == b[i]);
  if (!ok) {
    int64_t want[WHISPER_MAX_DIMS];
    memcpy (want, slot->ne, sizeof want);
    want[0] *= n_parts;
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: tensor '%s' has shape %s, expected %s", file, src->name,
        whisper_shape_str (sa, sizeof sa, src->n_dims, src->ne),
        whisper_shape_str (sb, sizeof sb, slot->n_dims, want));
    return FALSE;
  }
  size_t es = whisper_dtype_size (src->dtype);
  size_t total = slot->n * (size_t) n_parts;
  if (src->n_bytes != total * es) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: tensor '%s' has %zu bytes of data, expected %zu for %s %s",
        file, src->name, src->n_bytes, total * es,
        whisper_dtype_name (src->dtype),
        whisper_shape_str (sa, sizeof sa, src->n_dims, src->ne));
    return FALSE;
  }

  size_t off = (size_t) part * slot->n;
  size_t rows = (size_t) src->ne[0];
  whisper_tensor t = {
    .dtype = src->dtype,
    .n_dims = slot->n_dims,
    .n = slot->n,
    .data = (const char *) src->data + off * es,
    .row_len = rows ? total / rows : total,
  };
  memcpy (t.ne, slot->ne, sizeof t.ne);
  g_strlcpy (t.name, slot->name, sizeof t.name);
  switch (src->dtype) {
    case WHISPER_DTYPE_F32:
    case WHISPER_DTYPE_F16:
    case WHISPER_DTYPE_BF16:
      break;
    case WHISPER_DTYPE_I8:
    case WHISPER_DTYPE_I16:
    case WHISPER_DTYPE_I32:{
      /* CTranslate2 quantisation: q = round(w * scale), per output row
       * (int8) or one scale for the tensor (int16) */
      if (!src->scale || !(src->n_scale == 1 || src->n_scale == rows)) {
        g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
            "%s: integer tensor '%s' has %s scale (need 1 or %zu values)",
            file, src->name, src->scale ? "a misshaped" : "no", rows);
        return FALSE;
      }
      size_t first = 0, n_scale = 1;
      if (src->n_scale != 1) {
        first = off / t.row_len;
        n_scale = slot->n / t.row_len;
      }
      for (size_t r = first; r < first + n_scale; r++) {
        float sc = load_scalar (src->scale, src->scale_dtype, r);
        if (!(sc != 0.0f && isfinite (sc))) {
          g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
              "%s: tensor '%s' has an invalid scale %g in row %zu", file,
              src->name, sc, r);
          return FALSE;
        }
      }
      t.scale = (const char *) src->scale
          + first * whisper_dtype_size (src->scale_dtype);
      t.scale_dtype = src->scale_dtype;
      t.n_scale = n_scale;
      break;
    }
  }
  *slot->tensor = t;
  return TRUE;
}

/* The view's values as float32 into dst [t->n]: exact for f16/bf16, q /
 * scale for integers. */
static void
tensor_to_f32 (float *dst, const whisper_tensor * t)
{
  const char *p = t->data;
  switch (t->dtype) {
    case WHISPER_DTYPE_F32:
      memcpy (dst, p, t->n * 4);
      break;
    case WHISPER_DTYPE_F16:
      f16_row_to_f32 (dst, (const unsigned char *) p, t->n);
      break;
    case WHISPER_DTYPE_BF16:
      for (size_t i = 0; i < t->n; i++) {
        uint16_t h;
        memcpy (&h, p + 2 * i, 2);
        dst[i] = whisper_bf16_to_f32 (h);
      }
      break;
    case WHISPER_DTYPE_I8:
    case WHISPER_DTYPE_I16:
    case WHISPER_DTYPE_I32:
      for (size_t i = 0; i < t->n; i++) {
        size_t si = t->n_scale == 1 ? 0 : i / t->row_len;
        dst[i] = load_scalar (p, t->dtype, i)
            / load_scalar (t->scale, t->scale_dtype, si);
      }
      break;
  }
}

const whisper_tensor *
whisper_model_tensor (const whisper_model * model, const char *name)
{
  for (int i = 0; i < model->n_tensors; i++)
    if (strcmp (model->tensors[i].name, name) == 0)
      return &model->tensors[i];
  return NULL;
}


/* Once a weight is copied in float32 its bytes in the mapped file are not
 * read again: give their pages back (they are clean file pages, so a later
 * read would fetch them from the file again). */
static void
release_file_pages (const whisper_model * model, const whisper_tensor * t)
{
#if defined(MADV_DONTNEED) && defined(_SC_PAGESIZE)
  if (!model->maps)
    return;
  const uintptr_t page = (uintptr_t) sysconf (_SC_PAGESIZE);
  uintptr_t a = (uintptr_t) t->data;
  uintptr_t b = a + t->n * whisper_dtype_size (t->dtype);
  a = (a + page - 1) / page * page;
  b = b / page * page;
  if (b > a)
    madvise ((void *) a, b - a, MADV_DONTNEED);
#endif
}

/* The models' conversions are made under one lock: a model is shared by
 * the elements of several pipelines, which start in any order. */
static GMutex convert_lock;

/* The one conversion function: @t in @dtype (see whisper_model_weight).
 * Called with convert_lock held. */
static const void *
tensor_as (const whisper_model * model, whisper_tensor * t, const char *name,
    whisper_dtype dtype, GError ** error)
{
  if (t->dtype == dtype && G_BYTE_ORDER == G_LITTLE_ENDIAN
      && (dtype != WHISPER_DTYPE_F32
          || (uintptr_t) t->data % sizeof (float) == 0))
    return t->data;             /* the file's own bytes */
  if (dtype != WHISPER_DTYPE_F32)
    return NULL;                /* only exact conversions */
  if (!t->f32) {
    void *mem = NULL;
    if (!(mem = kernel_alloc (t->n * sizeof (float)))) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
          "%s: cannot allocate %zu bytes for '%s' in float32",
          model->path ? model->path : "model", t->n * sizeof (float), name);
      return NULL;
    }
    tensor_to_f32 (mem, t);
    t->f32 = mem;
    release_file_pages (model, t);
  }
  return t->f32;
}

const void *
whisper_model_weight (const whisper_model * model, const char *name,
    whisper_dtype dtype, GError ** error)
{
  whisper_tensor *t = (whisper_tensor *) whisper_model_tensor (model, name);
  if (!t)
    return NULL;
  g_mutex_lock (&convert_lock);
  const void *p = tensor_as (model, t, name, dtype, error);
  g_mutex_unlock (&convert_lock);
  return p;
}

/* Row @row of the view in float32, dst [t->row_len] (tensor_to_f32 for
 * one row, so that no float32 copy of a whole matrix is made). */
static void
tensor_row_to_f32 (float *dst, const whisper_tensor * t, size_t row)
{
  whisper_tensor r = *t;
  r.data = (const char *) t->data + row * t->row_len
      * whisper_dtype_size (t->dtype);
  r.n = t->row_len;
  if (t->n_scale > 1)
    r.scale = (const char *) t->scale + row * whisper_dtype_size
        (t->scale_dtype);
  r.n_scale = 1;
  tensor_to_f32 (dst, &r);
}

/* The int8 form of @t (whisper_model_weight_s8); convert_lock held. */
static kernel_s8_matrix *
tensor_as_s8 (const whisper_model * model, const whisper_tensor * t,
    GError ** error)
{
  const int OC = (int) t->ne[0], IC = (int) t->row_len;
  kernel_s8_matrix *m = kernel_s8_matrix_new (OC, IC);
  float *row = g_try_malloc (sizeof (float) * IC);
  int8_t *q = g_try_malloc (IC);
  if (!m || !row || !q) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
        "%s: cannot allocate '%s' in int8", model->path ? model->path :
        "model", t->name);
    kernel_s8_matrix_free (m);
    g_free (row);
    g_free (q);
    return NULL;
  }
  for (int o = 0; o < OC; o++) {
    if (t->dtype == WHISPER_DTYPE_I8) {
      const int8_t *src = (const int8_t *) t->data + (size_t) o * IC;
      for (int k = 0; k < IC; k++)
        q[k] = src[k] == -128 ? -127 : src[k];
      const float s = load_scalar (t->scale, t->scale_dtype,
          t->n_scale == 1 ? 0 : (size_t) o);
      kernel_s8_matrix_set_row (m, o, q, s != 0.0f ? 1.0f / s : 0.0f);
    } else {
      tensor_row_to_f32 (row, t, o);
      kernel_s8_matrix_set_row (m, o, q, quantize_row_s8 (q, row, IC));
    }
  }
  g_free (row);
  g_free (q);
  return m;
}

const kernel_s8_matrix *
whisper_model_weight_s8 (const whisper_model * model, const char *name,
    GError ** error)
{
  whisper_tensor *t = (whisper_tensor *) whisper_model_tensor (model, name);
  if (!t || t->n_dims < 2 || t->ne[0] <= 0 || t->row_len == 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "%s: no weight matrix '%s' to read in int8", model->path ? model->path
        : "model", name);
    return NULL;
  }
  g_mutex_lock (&convert_lock);
  if (!t->s8 && (t->s8 = tensor_as_s8 (model, t, error)) && !t->f32)
    release_file_pages (model, t);
  kernel_s8_matrix *m = t->s8;
  g_mutex_unlock (&convert_lock);
  return m;
}

/* The bfloat16 form of @t (whisper_model_weight_bf16); convert_lock held. */
static kernel_bf16_matrix *
tensor_as_bf16 (const whisper_model * model, const whisper_tensor * t,
    GError ** error)
{
  const int OC = (int) t->ne[0], IC = (int) t->row_len;
  kernel_bf16_matrix *m = kernel_bf16_matrix_new (OC, IC);
  float *row = g_try_malloc (sizeof (float) * IC);
  if (!m || !row) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
        "%s: cannot allocate '%s' in bfloat16", model->path ? model->path :
        "model", t->name);
    kernel_bf16_matrix_free (m);
    g_free (row);
    return NULL;
  }
  for (int o = 0; o < OC; o++) {
    tensor_row_to_f32 (row, t, o);
    kernel_bf16_matrix_set_row (m, o, row);
  }
  g_free (row);
  return m;
}

const kernel_bf16_matrix *
whisper_model_weight_bf16 (const whisper_model * model, const char *name,
    GError ** error)
{
  whisper_tensor *t = (whisper_tensor *) whisper_model_tensor (model, name);
  if (!t || t->n_dims < 2 || t->ne[0] <= 0 || t->row_len == 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "%s: no weight matrix '%s' to read in bfloat16", model->path ?
        model->path : "model", name);
    return NULL;
  }
  g_mutex_lock (&convert_lock);
  if (!t->bf16 && (t->bf16 = tensor_as_bf16 (model, t, error)) && !t->f32
      && !t->s8)
    release_file_pages (model, t);
  kernel_bf16_matrix *m = t->bf16;
  g_mutex_unlock (&convert_lock);
  return m;
}

gboolean
whisper_model_need_f32 (const whisper_model * cmodel, unsigned parts,
    GError ** error)
{
  whisper_model *model = (whisper_model *) cmodel;
  gboolean ok = TRUE;

  if (!model->tensors)
    return TRUE;
  g_mutex_lock (&convert_lock);
  if ((model->f32_parts & parts) != parts) {
    slot_list l = { 0 };
    build_slots (model, &l);
    for (int i = 0; ok && i < l.n; i++) {
      const gboolean linear = model->tensors[i].n_dims == 2
          && strstr (l.s[i].name, ".blocks.") != NULL;
      unsigned part = g_str_has_prefix (l.s[i].name, "encoder.") ?
          (linear ? WHISPER_WEIGHTS_ENCODER_LINEAR :
          WHISPER_WEIGHTS_ENCODER_OTHER) :
          (linear ? WHISPER_WEIGHTS_DECODER_LINEAR :
          WHISPER_WEIGHTS_DECODER_OTHER);
      if (l.field[i] == &model->w.tok_emb)
        part = WHISPER_WEIGHTS_TOKEN_EMBEDDING;
      if (!(parts & part) || (model->f32_parts & part))
        continue;
      const void *p = tensor_as (model, &model->tensors[i], l.s[i].name,
          WHISPER_DTYPE_F32, error);
      *l.field[i] = (float *) p;
      ok = p != NULL;
    }
    if (ok)
      model->f32_parts |= parts;
    g_free (l.s);
    g_free (l.field);
  }
  g_mutex_unlock (&convert_lock);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* vocabulary */

/* GPT-2's bytes_to_unicode(): printable Latin-1 bytes map to themselves,
 * the others to U+0100 + n in byte order. */
void
whisper_byte_encoder (gunichar table[256])
{
  int n = 0;
  for (int b = 0; b < 256; b++) {
    gboolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC)
        || (b >= 0xAE && b <= 0xFF);
    table[b] = printable ? (gunichar) b : (gunichar) (256 + n++);
  }
}

static const int *
byte_decoder (void)
{
  /* code point (< 324) -> byte, -1 if unmapped */
  static int dec[324];
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    gunichar enc[256];
    whisper_byte_encoder (enc);
    for (int i = 0; i < 324; i++)
      dec[i] = -1;
    for (int b = 0; b < 256; b++)
      dec[enc[b]] = b;
    g_once_init_leave (&once, 1);
  }
  return dec;
}

const whisper_name_rule *
whisper_name_map (const char *ours, const whisper_name_rule * global,
    size_t n_global, const whisper_name_rule * block, size_t n_block,
    gboolean prefix, const char *block_format, char *out, size_t size)
{
  for (size_t i = 0; i < n_global; i++)
    if (strcmp (ours, global[i].ours) == 0) {
      g_strlcpy (out, global[i].theirs, size);
      return &global[i];
    }
  char side[8];
  int layer, len = 0;
  if (sscanf (ours, "%7[a-z].blocks.%d.%n", side, &layer, &len) != 2 || !len)
    return NULL;
  const char *rest = ours + len;
  for (size_t i = 0; i < n_block; i++) {
    size_t n = strlen (block[i].ours);
    if (prefix ? strncmp (rest, block[i].ours, n) == 0
        : strcmp (rest, block[i].ours) == 0) {
      g_snprintf (out, size, block_format, side, layer, block[i].theirs,
          rest + n);
      return &block[i];
    }
  }
  return NULL;
}

int
whisper_vocab_byte (gunichar c)
{
  return c < 324 ? byte_decoder ()[c] : -1;
}

char *
whisper_token_unmap (const char *text, size_t text_len, int *len)
{
  const int *dec = byte_decoder ();
  char *out = g_malloc (text_len + 1);
  size_t o = 0;
  const char *p = text, *end = text + text_len;
  while (p < end) {
    gunichar c = g_utf8_get_char_validated (p, end - p);
    if (c == (gunichar) - 1 || c == (gunichar) - 2) {
      out[o++] = *p++;          /* invalid UTF-8: keep the byte */
      continue;
    }
    const char *next = g_utf8_next_char (p);
    if (c < 324 && dec[c] >= 0) {
      out[o++] = (char) dec[c];
    } else {
      memcpy (out + o, p, next - p);
      o += next - p;
    }
    p = next;
  }
  out[o] = 0;
  *len = (int) o;
  return out;
}

char *
whisper_token_map (const char *bytes, int len)
{
  gunichar enc[256];
  whisper_byte_encoder (enc);
  GString *s = g_string_sized_new (len * 2 + 1);
  for (int i = 0; i < len; i++)
    g_string_append_unichar (s, enc[(unsigned char) bytes[i]]);
  return g_string_free (s, FALSE);
}

void
whisper_vocab_init (whisper_vocab * vocab, int n_tokens)
{
  vocab->n_tokens = n_tokens;
  vocab->token = g_new0 (char *, n_tokens);
  vocab->token_len = g_new0 (int, n_tokens);
}

void
whisper_vocab_set (whisper_vocab * vocab, int i, const char *bytes, int len)
{
  g_free (vocab->token[i]);
  vocab->token[i] = g_malloc (len + 1);
  memcpy (vocab->token[i], bytes, len);
  vocab->token[i][len] = 0;
  vocab->token_len[i] = len;
}

/* openai/whisper tokenizer.py LANGUAGES, in token order. */
const char *const whisper_language_codes[100] = {
  "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca",
  "nl", "ar", "sv", "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms",
  "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg", "lt", "la",
  "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn",
  "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw",
  "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc", "ka", "be",
  "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn",
  "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha",
  "ba", "jw", "su", "yue",
};

void
whisper_vocab_fill_specials (whisper_vocab * vocab, int n_vocab)
{
  /* Layout as whisper.cpp derives it from n_vocab: .en 51864, multilingual
   * 51865 (99 languages), large-v3 51866 (100 languages). */
  gboolean multi = n_vocab >= 51865;
  int n_langs = multi ? n_vocab - 51765 - 1 : 99;
  int eot = multi ? 50257 : 50256;
  int sot = eot + 1;
  int translate = sot + 1 + n_langs;
  int beg = translate + 6;
  for (int i = 0; i < vocab->n_tokens; i++) {
    if (vocab->token[i])
      continue;
    char buf[48];
    if (i == eot)
      g_strlcpy (buf, "<|endoftext|>", sizeof buf);
    else if (i == sot)
      g_strlcpy (buf, "<|startoftranscript|>", sizeof buf);
    else if (i > sot && i < translate && i - sot - 1 < 100)
      g_snprintf (buf, sizeof buf, "<|%s|>", whisper_language_codes[i - sot - 1]);
    else if (i == translate)
      g_strlcpy (buf, "<|translate|>", sizeof buf);
    else if (i == translate + 1)
      g_strlcpy (buf, "<|transcribe|>", sizeof buf);
    else if (i == translate + 2)
      g_strlcpy (buf, "<|startoflm|>", sizeof buf);
    else if (i == translate + 3)
      g_strlcpy (buf, "<|startofprev|>", sizeof buf);
    else if (i == translate + 4)
      g_strlcpy (buf, multi ? "<|nospeech|>" : "<|nocaptions|>", sizeof buf);
    else if (i == translate + 5)
      g_strlcpy (buf, "<|notimestamps|>", sizeof buf);
    else if (i >= beg)
      g_snprintf (buf, sizeof buf, "<|%d.%02d|>", (i - beg) * 2 / 100,
          (i - beg) * 2 % 100);
    else
      g_snprintf (buf, sizeof buf, "<|extra_%d|>", i);
    whisper_vocab_set (vocab, i, buf, strlen (buf));
  }
}

static int
find_token (const whisper_vocab * v, GHashTable * ids, const char *s)
{
  gpointer val;
  if (g_hash_table_lookup_extended (ids, s, NULL, &val))
    return GPOINTER_TO_INT (val);
  return -1;
}

/* First token of the (greedy longest-prefix) encoding of s. */
static int
first_token (GHashTable * ids, const char *s)
{
  char buf[64];
  size_t n = strlen (s);
  if (n >= sizeof buf)
    return -1;
  for (size_t k = n; k > 0; k--) {
    memcpy (buf, s, k);
    buf[k] = 0;
    gpointer val;
    if (g_hash_table_lookup_extended (ids, buf, NULL, &val))
      return GPOINTER_TO_INT (val);
  }
  return -1;
}

static int
cmp_int (const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

/* openai/whisper tokenizer.py non_speech_tokens(): symbols that are single
 * tokens, with or without a leading space, plus the first token of the
 * musical symbols, " -" and " '".  We look tokens up by their bytes instead
 * of running BPE: a string that is one vocabulary entry is one token. */
static void
find_non_speech (whisper_model * m, GHashTable * ids)
{
  static const char *const symbols[] = {
    "\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[",
    "\\", "]", "^", "_", "`", "{", "|", "}", "~", "「", "」", "『", "』",
    "<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[", "('", "(\"", "((",
    "))", "(((", ")))", "[[", "]]", "{{", "}}", "♪♪", "♪♪♪",
  };
  static const char *const misc[] = { "♩", "♪", "♫", "♬", "♭", "♮", "♯" };
  GArray *res = g_array_new (FALSE, FALSE, sizeof (int));
  int t;
  if ((t = first_token (ids, " -")) >= 0)
    g_array_append_val (res, t);
  if ((t = first_token (ids, " '")) >= 0)
    g_array_append_val (res, t);
  for (size_t i = 0; i < G_N_ELEMENTS (symbols); i++) {
    char sp[64];
    g_snprintf (sp, sizeof sp, " %s", symbols[i]);
    if ((t = find_token (&m->vocab, ids, symbols[i])) >= 0)
      g_array_append_val (res, t);
    if ((t = find_token (&m->vocab, ids, sp)) >= 0)
      g_array_append_val (res, t);
  }
  for (size_t i = 0; i < G_N_ELEMENTS (misc); i++) {
    char sp[64];
    g_snprintf (sp, sizeof sp, " %s", misc[i]);
    if ((t = first_token (ids, misc[i])) >= 0)
      g_array_append_val (res, t);
    if ((t = first_token (ids, sp)) >= 0)
      g_array_append_val (res, t);
  }
  /* sort, unique */
  g_array_sort (res, cmp_int);
  int n = 0;
  for (guint i = 0; i < res->len; i++)
    if (n == 0 || g_array_index (res, int, n - 1) != g_array_index (res, int, i))
      g_array_index (res, int, n++) = g_array_index (res, int, i);
  g_free (m->suppress_tokens);
  m->n_suppress_tokens = n;
  m->suppress_tokens = (int *) g_array_free (res, FALSE);
}

/* "<|xx|>" with 2-3 lowercase letters (openai's codes, and "iw" for
 * Hebrew in some Hugging Face vocabularies) */
static gboolean
is_language_token (const char *s)
{
  if (!s || !g_str_has_prefix (s, "<|") || !g_str_has_suffix (s, "|>"))
    return FALSE;
  size_t n = strlen (s) - 4;
  if (n < 2 || n > 3)
    return FALSE;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_islower (s[2 + i]))
      return FALSE;
  return TRUE;
}

gboolean
whisper_model_find_specials (whisper_model * m, const char *file,
    GError ** error)
{
  whisper_vocab *v = &m->vocab;
  whisper_special_tokens *t = &m->tok;
  /* bytes -> first id with these bytes (tokens with a NUL are skipped) */
  GHashTable *ids = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = v->n_tokens - 1; i >= 0; i--)
    if (v->token[i] && (int) strlen (v->token[i]) == v->token_len[i])
      g_hash_table_insert (ids, v->token[i], GINT_TO_POINTER (i));

  t->eot = find_token (v, ids, "<|endoftext|>");
  t->sot = find_token (v, ids, "<|startoftranscript|>");
  t->translate = find_token (v, ids, "<|translate|>");
  t->transcribe = find_token (v, ids, "<|transcribe|>");
  t->sot_lm = find_token (v, ids, "<|startoflm|>");
  t->sot_prev = find_token (v, ids, "<|startofprev|>");
  t->no_speech = find_token (v, ids, "<|nospeech|>");
  if (t->no_speech < 0)
    t->no_speech = find_token (v, ids, "<|nocaptions|>");
  t->no_timestamps = find_token (v, ids, "<|notimestamps|>");
  t->timestamp_begin = find_token (v, ids, "<|0.00|>");

  const char *missing = NULL;
  if (t->eot < 0)
    missing = "<|endoftext|>";
  else if (t->sot < 0)
    missing = "<|startoftranscript|>";
  else if (t->no_timestamps < 0)
    missing = "<|notimestamps|>";
  else if (t->timestamp_begin < 0)
    missing = "<|0.00|>";
  if (missing) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: the vocabulary has no %s token", file, missing);
    g_hash_table_destroy (ids);
    return FALSE;
  }

  /* Language tokens follow <|startoftranscript|> up to <|translate|>.
   * openai: multilingual iff n_vocab >= 51865.  The English-only vocabulary
   * (51864) lists the language tokens too but the model never uses them.
   * Smaller (synthetic) vocabularies are multilingual iff they have
   * language tokens. */
  int n_langs = 0;
  while (t->sot + 1 + n_langs < v->n_tokens && n_langs < 100) {
    if (!is_language_token (v->token[t->sot + 1 + n_langs]))
      break;
    n_langs++;
  }
  if (m->hp.n_vocab >= 51865)
    m->is_multilingual = 1;
  else if (m->hp.n_vocab == 51864)
    m->is_multilingual = 0;
  else
    m->is_multilingual = n_langs > 0;
  t->lang_first = m->is_multilingual && n_langs > 0 ? t->sot + 1 : -1;
  t->n_langs = m->is_multilingual ? n_langs : 0;

  find_non_speech (m, ids);
  g_hash_table_destroy (ids);
  return TRUE;
}

gboolean
whisper_model_read_alignment_heads (whisper_model * model, JsonNode * heads,
    const char *file, GError ** error)
{
  if (!heads || JSON_NODE_HOLDS_NULL (heads))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (heads))
    goto bad;
  int n = whisper_json_length (heads);
  int (*h)[2] = g_malloc0_n (n ? n : 1, sizeof *h);
  for (int i = 0; i < n; i++) {
    JsonNode *p = whisper_json_item (heads, i);
    int l, hd;
    if (!JSON_NODE_HOLDS_ARRAY (p) || whisper_json_length (p) != 2
        || !whisper_json_int (whisper_json_item (p, 0), &l)
        || !whisper_json_int (whisper_json_item (p, 1), &hd) || l < 0
        || l >= model->hp.n_text_layer || hd < 0 || hd >= model->hp.n_text_head) {
      g_free (h);
      goto bad;
    }
    h[i][0] = l;
    h[i][1] = hd;
  }
  g_free (model->alignment_heads);
  model->alignment_heads = h;
  model->n_alignment_heads = n;
  return TRUE;
bad:
  g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
      "%s: alignment_heads must be a list of [layer, head] pairs within "
      "the decoder's %d layers x %d heads", file, model->hp.n_text_layer,
      model->hp.n_text_head);
  return FALSE;
}

/* ------------------------------------------------------------------------ */

void
whisper_model_free (whisper_model * model)
{
  if (!model)
    return;
  kernel_free (model->storage);
  for (int i = 0; i < model->n_tensors; i++) {
    kernel_free (model->tensors[i].f32);
    kernel_s8_matrix_free (model->tensors[i].s8);
    kernel_bf16_matrix_free (model->tensors[i].bf16);
  }
  g_free (model->tensors);
  if (model->maps)
    g_ptr_array_unref (model->maps);
  g_free (model->w.enc);
  g_free (model->w.dec);
  for (int i = 0; i < model->vocab.n_tokens; i++)
    g_free (model->vocab.token ? model->vocab.token[i] : NULL);
  g_free (model->vocab.token);
  g_free (model->vocab.token_len);
  for (int i = 0; i < model->vocab.n_merges; i++)
    g_free (model->vocab.merges[i]);
  g_free (model->vocab.merges);
  g_free (model->alignment_heads);
  g_free (model->suppress_tokens);
  g_free (model->path);
  g_free (model->format);
  g_free (model);
}

whisper_model_info
whisper_model_get_info (const whisper_model * model)
{
  whisper_model_info info = {
    .n_mels = model->hp.n_mels,
    .n_audio_ctx = model->hp.n_audio_ctx,
    .n_audio_state = model->hp.n_audio_state,
    .n_vocab = model->hp.n_vocab,
    .n_text_ctx = model->hp.n_text_ctx,
    .is_multilingual = model->is_multilingual,
    .path = model->path,
    .format = model->format,
    .weight_dtype = model->weight_dtype,
  };
  return info;
}
