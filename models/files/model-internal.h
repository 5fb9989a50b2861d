/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal helpers shared by the model loaders (not a public API).
 *
 * Every loader works the same way:
 *   1. map the file(s) (GMappedFile, kept by the model:
 *      whisper_model_keep_map) and index the stored tensors,
 *   2. fill whisper_hparams and check them (whisper_hparams_check),
 *   3. whisper_model_alloc(): the table of "slots" (one per weight, with its
 *      PyTorch/openai name and shape) and an empty view per weight,
 *   4. for each slot, find the stored tensor, check it and bind the slot's
 *      view to its bytes in the file (whisper_tensor_bind; nothing copied),
 *   5. vocabulary, special tokens, suppress list, alignment heads.
 */
#ifndef WHISPER_MODEL_INTERNAL_H
#define WHISPER_MODEL_INTERNAL_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include "whisper-model.h"
#include "kernels.h"
#include "whisper.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* element types found in model files */


size_t whisper_dtype_size (whisper_dtype t);
const char *whisper_dtype_name (whisper_dtype t);

/* IEEE half <-> single: kernels.h (kf16_to_f32, kf32_to_f16) */
float whisper_bf16_to_f32 (uint16_t h);

/* ------------------------------------------------------------------------ */
/* weight slots */

#define WHISPER_MAX_DIMS 4

typedef struct {
  char name[72];        /* openai/PyTorch name: "encoder.blocks.0.attn.query.weight" */
  float *data;          /* float32 data (whisper_model_slots, synthetic
                           models), NULL while loading */
  whisper_tensor *tensor;  /* the model's view that a loader binds */
  int n_dims;
  int64_t ne[WHISPER_MAX_DIMS];  /* outermost first (PyTorch order) */
  size_t n;             /* number of elements */
} whisper_slot;

/* A tensor as stored in a file: data points into the mapped file. */
typedef struct {
  const char *name;
  whisper_dtype dtype;
  int n_dims;
  int64_t ne[WHISPER_MAX_DIMS];  /* outermost first */
  const void *data;
  size_t n_bytes;
  /* integer weights: float value = q / scale (CTranslate2 convention);
   * scale has one entry per row (dim 0), or n_scale == 1 for one scale. */
  const void *scale;
  whisper_dtype scale_dtype;
  size_t n_scale;
} whisper_src_tensor;

/* Checks ranges (positive, bounded, heads divide the state). */
gboolean whisper_hparams_check (const whisper_hparams * hp, const char *file,
    GError ** error);

/* Sets up the weight table of model->hp (one typed view per weight, still
 * empty) and returns the slot table (g_free it) for the loader to bind.
 * @file_bytes: bytes the file holds (0: no check); every weight takes at
 * least one byte there (int8), so hyper-parameters that need more are
 * refused.  NULL + error then. */
whisper_slot *whisper_model_alloc (whisper_model * model, int *n_slots,
    size_t file_bytes, const char *file, GError ** error);

/* The same with owned float32 storage (model->storage) behind every view,
 * for models made in memory: slot data points into it.  NULL + error when
 * out of memory. */
whisper_slot *whisper_model_alloc_f32 (whisper_model * model, int *n_slots,
    GError ** error);

/* The mapped file the views point into lives as long as the model. */
void whisper_model_keep_map (whisper_model * model, GMappedFile * map);

/* The slot table of a loaded model, data = its float32 weights (converted
 * if need be: whisper_model_need_f32 (ALL)); g_free it.  NULL when out of
 * memory. */
whisper_slot *whisper_model_slots (const whisper_model * model, int *n_slots);

/* Binds @slot's view to part @part of @n_parts (split along dim 0, for fused
 * QKV) of @src after checking the shape (src must be @n_parts x the slot
 * along dim 0 and equal elsewhere; size-1 dims are ignored), the byte count
 * and, for integer tensors, the scales.  Nothing is copied. */
gboolean whisper_tensor_bind (const whisper_slot * slot,
    const whisper_src_tensor * src, int part, int n_parts, const char *file,
    GError ** error);

/* "[384, 80, 3]" into buf. */
const char *whisper_shape_str (char *buf, size_t size, int n_dims,
    const int64_t * ne);

/* ------------------------------------------------------------------------ */
/* vocabulary */

/* GPT-2 byte-to-unicode mapping: 256 code points, one per byte value. */
void whisper_byte_encoder (gunichar table[256]);

/* Byte-mapped UTF-8 token text -> raw bytes (newly allocated, NUL
 * terminated, *len set).  Characters outside the mapping are kept as
 * UTF-8 (special tokens are plain ASCII anyway). */
char *whisper_token_unmap (const char *text, size_t text_len, int *len);

/* Raw bytes -> byte-mapped UTF-8 (newly allocated). */
char *whisper_token_map (const char *bytes, int len);

/* Allocates vocab->token / token_len for n tokens (all NULL). */
void whisper_vocab_init (whisper_vocab * vocab, int n_tokens);
/* Sets token i to a copy of bytes[0..len). */
void whisper_vocab_set (whisper_vocab * vocab, int i, const char *bytes,
    int len);

/* Fills tokens that are still NULL with the special-token names of
 * openai's layout for a vocabulary of this size (as whisper.cpp derives
 * them: eot = 50256 (.en) / 50257 (multilingual), languages, task tokens,
 * timestamps).  Tokens it cannot name become "<|extra_N|>". */
void whisper_vocab_fill_specials (whisper_vocab * vocab, int n_vocab);

/* Finds the special tokens, is_multilingual and the non-speech suppress
 * list from the vocabulary (by token text).  Error if a required token
 * (<|endoftext|>, <|startoftranscript|>, <|notimestamps|>, <|0.00|>) is
 * missing. */
gboolean whisper_model_find_specials (whisper_model * model, const char *file,
    GError ** error);

/* The whisper languages in token order ("en", "zh", ... "yue"). */
extern const char *const whisper_language_codes[100];

/* ------------------------------------------------------------------------ */
/* JSON (config.json, vocabulary.json, tokenizer.json, safetensors headers),
 * parsed with json-glib; every error names the file. */

/* Parses text[0..len) (no NUL needed).  NULL + a FORMAT error
 * "FILE: invalid JSON ..." on bad or too deeply nested JSON.  Free the
 * root with json_node_unref. */
JsonNode *whisper_json_parse (const char *text, size_t len, const char *file,
    GError ** error);
/* Maps and parses @file; NULL with *present FALSE (no error) if absent. */
JsonNode *whisper_json_read_file (const char *file, gboolean * present,
    GError ** error);
/* Member of an object node by key; NULL if absent or not an object. */
JsonNode *whisper_json_get (JsonNode * obj, const char *key);
/* String value, or NULL if @j is NULL or not a string. */
const char *whisper_json_string (JsonNode * j);
/* Number value (integer or not); FALSE if not a number. */
gboolean whisper_json_number (JsonNode * j, double *out);
/* Integer value; FALSE if not an integer in int range. */
gboolean whisper_json_int (JsonNode * j, int *out);
/* Elements of an array or members of an object; -1 for anything else. */
int whisper_json_length (JsonNode * j);
/* Element i of an array node. */
JsonNode *whisper_json_item (JsonNode * array, int i);

/* Reads optional config.json fields shared by CTranslate2 and Hugging Face
 * directories: alignment_heads, suppress_ids (ignored: recomputed),
 * lang_ids (checked).  Missing fields are fine. */
gboolean whisper_model_read_alignment_heads (whisper_model * model,
    JsonNode * heads, const char *file, GError ** error);
/* Gives a model loaded without alignment heads openai's published set for
 * its dimensions, or openai's fallback (alignment-heads.c). */
void whisper_model_default_alignment_heads (whisper_model * model);

/* ------------------------------------------------------------------------ */
/* loaders (path: the directory or file; model->path already set) */

gboolean whisper_load_ct2 (whisper_model * model, const char *dir,
    GError ** error);
gboolean whisper_load_ggml (whisper_model * model, const char *file,
    GError ** error);
gboolean whisper_load_safetensors (whisper_model * model, const char *dir,
    const char *file, GError ** error);

/* Number of models the registry holds (loaded or loading); for tests. */
int whisper_model_registry_size (void);

/* One rule of a file format's weight names: openai's name (the whole name
 * of a model-wide weight; for a block's weight what follows
 * "<side>.blocks.<n>.") and the file's, with the slice of a fused tensor
 * (part of n_parts along dim 0; n_parts 0 or 1 when not fused). */
typedef struct {
  const char *ours, *theirs;
  int part, n_parts;
} whisper_name_rule;

/* The file's name of openai weight @ours into @out: a @global rule that
 * equals @ours, else a @block rule that equals (or with @prefix, begins)
 * what follows "<side>.blocks.<n>.", printed with @block_format from side,
 * n, the rule's name and the rest after the prefix ("%s/layer_%d/%s%s").
 * Returns the rule, NULL when none applies. */
const whisper_name_rule *whisper_name_map (const char *ours,
    const whisper_name_rule * global, size_t n_global,
    const whisper_name_rule * block, size_t n_block, gboolean prefix,
    const char *block_format, char *out, size_t size);

/* openai name -> Hugging Face name (without the "model." prefix). */
gboolean whisper_hf_name (const char *ours, char *hf, size_t size);

/* Maps a whole file read-only; error names the file.  An empty file is a
 * FORMAT error ("empty file"). */
GMappedFile *whisper_map_file (const char *file, GError ** error);

/* Bounds-checked reads through a mapped file (ggml, CTranslate2). */
typedef struct {
  const char *file;
  const guint8 *data;
  size_t size, off;
  GError **error;
} whisper_reader;

/* FALSE + a "truncated" FORMAT error naming @what unless @n bytes are left. */
gboolean whisper_reader_need (whisper_reader * r, size_t n, const char *what);
/* Reads a little-endian u32. */
gboolean whisper_reader_u32 (whisper_reader * r, guint32 * v,
    const char *what);
/* Reads the u32 count of the @item records that follow ("variable"), each
 * at least @min_bytes long: a "truncated" error unless that many fit. */
gboolean whisper_reader_count (whisper_reader * r, guint32 * n,
    size_t min_bytes, const char *item);

/* Vocabulary files shared by CT2 and HF directories:
 * vocabulary.txt / vocabulary.json (CT2), tokenizer.json, vocab.json.
 * Reads the first found into model->vocab (n_vocab tokens; missing ids are
 * filled with whisper_vocab_fill_specials), merges from tokenizer.json or
 * merges.txt when present, then the special tokens
 * (whisper_model_find_specials). */
gboolean whisper_load_vocab_dir (whisper_model * model, const char *dir,
    GError ** error);



G_END_DECLS
#endif
