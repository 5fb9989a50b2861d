/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness of the model loaders (models/files), built three times:
 *
 *   fuzz-ggml         (FUZZ_GGML)         the input is a whisper.cpp .bin
 *   fuzz-ct2          (FUZZ_CT2)          a CTranslate2 directory
 *   fuzz-safetensors  (FUZZ_SAFETENSORS)  a Hugging Face directory
 *
 * For a directory the first input byte picks one file (modulo the table
 * below) that the rest of the input replaces; the other files are the
 * whisper-synth model's (WHISPER_FUZZ_SEED/ct2-f32 or hf-f32), with the
 * files that would shadow the fuzzed one removed (vocabulary.txt before
 * vocabulary.json, tokenizer.json before vocab.json ...), so every side
 * file's parser is reached.  vocab.json, added_tokens.json, merges.txt and
 * vocabulary.json are derived from the model's tokenizer.json.
 *
 * A model that loads is then used the way the elements use one: every
 * weight converted to float32 (reads every bound byte), the tokenizer made,
 * every token decoded, a text encoded and decoded back.
 */
#include "fuzz-common.h"
#include <json-glib/json-glib.h>

#include "whisper.h"
#include "model-internal.h"
#include "tokenizer.h"

#if defined(FUZZ_GGML)
#define FUZZ_SEED_SUBDIR NULL
#elif defined(FUZZ_CT2)
#define FUZZ_SEED_SUBDIR "ct2-f32"
#define FUZZ_MAIN_FILE "model.bin"
#elif defined(FUZZ_SAFETENSORS)
#define FUZZ_SEED_SUBDIR "hf-f32"
#define FUZZ_MAIN_FILE "model.safetensors"
#else
#error "define FUZZ_GGML, FUZZ_CT2 or FUZZ_SAFETENSORS"
#endif

/* ------------------------------------------------------------------------ */
/* using a loaded model */

/* keeps the reads of the converted weights */
static volatile float weight_sink;

static void
exercise_model (whisper_model * m)
{
  int n_slots;
  whisper_slot *slots = whisper_model_slots (m, &n_slots);
  if (slots) {
    for (int i = 0; i < n_slots; i++)
      if (slots[i].data && slots[i].n)
        weight_sink += slots[i].data[0] + slots[i].data[slots[i].n - 1];
    g_free (slots);
  }
  GError *error = NULL;
  whisper_tokenizer *tok = whisper_tokenizer_new (m, &error);
  if (!tok) {
    g_clear_error (&error);
    return;
  }
  int n = m->vocab.n_tokens;
  int *ids = g_new (int, n);
  for (int i = 0; i < n; i++)
    ids[i] = i;
  g_free (whisper_tokenizer_decode (tok, ids, n));
  g_free (ids);
  const char *text = " the end - (it's 42) and then";
  int n_ids;
  int *enc = whisper_tokenizer_encode (tok, text, &n_ids, &error);
  if (enc) {
    char *back = whisper_tokenizer_decode (tok, enc, n_ids);
    g_free (back);
    g_free (enc);
  }
  g_clear_error (&error);
  whisper_tokenizer_free (tok);
}

static void
load_and_use (const char *path)
{
  GError *error = NULL;
  whisper_model *m = whisper_model_load (path, &error);
  /* WHISPER_FUZZ_VERBOSE=1: what each input gave (checking the seeds) */
  if (g_getenv ("WHISPER_FUZZ_VERBOSE"))
    fprintf (stderr, "fuzz: %s\n", m ? "loaded" : error->message);
  if (m) {
    exercise_model (m);
    whisper_model_free (m);
  } else {
    /* every refusal says why */
    if (!error || !error->message || !*error->message)
      abort ();
    g_clear_error (&error);
  }
}

#ifdef FUZZ_GGML
/* ------------------------------------------------------------------------ */
/* ggml: one file */

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static char *ggml_path;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *out = fuzz_corpus_out ();
  if (out) {
    const char *names[] = { "ggml-f32.bin", "ggml-f16.bin" };
    for (int i = 0; i < 2; i++) {
      char *p = g_build_filename (fuzz_seed_dir (), names[i], NULL);
      gchar *c;
      gsize n;
      if (!g_file_get_contents (p, &c, &n, NULL))
        exit (2);
      fuzz_corpus_add (out, i, -1, c, n);
      g_free (c);
      g_free (p);
    }
    exit (0);
  }
  ggml_path = g_build_filename (fuzz_tmp_dir (), "fuzz-ggml.bin", NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  fuzz_write_file (ggml_path, data, size);
  load_and_use (ggml_path);
  return 0;
}

#else
/* ------------------------------------------------------------------------ */
/* a model directory: one file replaced */

typedef struct {
  const char *file;             /* the file the input replaces */
  const char *remove[3];        /* files removed so that it is read */
} variant;

static const variant variants[] = {
  { FUZZ_MAIN_FILE, { NULL } },
  { "config.json", { NULL } },
  { "generation_config.json", { NULL } },
  { "vocabulary.txt", { NULL } },
  { "vocabulary.json", { "vocabulary.txt" } },
  { "tokenizer.json", { NULL } },
  { "tokenizer.json", { "vocabulary.txt" } },
  { "vocab.json", { "vocabulary.txt", "tokenizer.json" } },
  { "added_tokens.json", { "vocabulary.txt", "tokenizer.json" } },
  { "merges.txt", { "vocabulary.txt", "tokenizer.json" } },
};

typedef struct {
  char *name;
  GBytes *bytes;
  gboolean dirty;               /* on disk differs from bytes (or absent) */
  gboolean seed_only;           /* a seed, not one of the model's files */
} pristine_file;

static GPtrArray *pristine;      /* pristine_file: the model's files */
static char *model_dir;

static pristine_file *
pristine_find (const char *name)
{
  for (guint i = 0; i < pristine->len; i++) {
    pristine_file *f = g_ptr_array_index (pristine, i);
    if (strcmp (f->name, name) == 0)
      return f;
  }
  return NULL;
}

static void
pristine_add (const char *name, GBytes * bytes)
{
  pristine_file *f = g_new0 (pristine_file, 1);
  f->name = g_strdup (name);
  f->bytes = bytes;
  f->dirty = TRUE;
  g_ptr_array_add (pristine, f);
}

static GBytes *
json_bytes (JsonNode * node)
{
  JsonGenerator *g = json_generator_new ();
  json_generator_set_root (g, node);
  gsize n;
  gchar *s = json_generator_to_data (g, &n);
  g_object_unref (g);
  return g_bytes_new_take (s, n);
}

/* vocab.json, added_tokens.json, merges.txt, vocabulary.json from the
 * model's tokenizer.json (Hugging Face's other layouts of the same data). */
static void
derive_side_files (void)
{
  pristine_file *t = pristine_find ("tokenizer.json");
  if (!t)
    return;
  gsize n;
  const char *text = g_bytes_get_data (t->bytes, &n);
  JsonParser *p = json_parser_new ();
  if (!json_parser_load_from_data (p, text, n, NULL)) {
    g_object_unref (p);
    return;
  }
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  JsonObject *model = json_object_get_object_member (root, "model");
  JsonNode *vocab = json_object_get_member (model, "vocab");
  pristine_add ("vocab.json", json_bytes (vocab));

  /* vocabulary.json: the byte-mapped tokens in id order */
  JsonObject *vo = json_node_get_object (vocab);
  int n_vocab = 0;
  GList *members = json_object_get_members (vo);
  for (GList * l = members; l; l = l->next)
    n_vocab = MAX (n_vocab, (int) json_object_get_int_member (vo, l->data) + 1);
  JsonArray *added = json_object_get_array_member (root, "added_tokens");
  for (guint i = 0; added && i < json_array_get_length (added); i++)
    n_vocab = MAX (n_vocab, (int) json_object_get_int_member
        (json_array_get_object_element (added, i), "id") + 1);
  const char **by_id = g_new0 (const char *, n_vocab);
  for (GList * l = members; l; l = l->next)
    by_id[json_object_get_int_member (vo, l->data)] = l->data;
  JsonArray *list = json_array_new ();
  JsonObject *added_obj = json_object_new ();
  for (guint i = 0; added && i < json_array_get_length (added); i++) {
    JsonObject *e = json_array_get_object_element (added, i);
    int id = json_object_get_int_member (e, "id");
    const char *c = json_object_get_string_member (e, "content");
    json_object_set_int_member (added_obj, c, id);
    by_id[id] = c;              /* special tokens: ASCII, mapped as is */
  }
  for (int i = 0; i < n_vocab; i++)
    json_array_add_string_element (list, by_id[i] ? by_id[i] : "");
  JsonNode *ln = json_node_init_array (json_node_alloc (), list);
  /* a seed only: in the directory it would shadow tokenizer.json */
  pristine_add ("vocabulary.json", json_bytes (ln));
  pristine_find ("vocabulary.json")->seed_only = TRUE;
  json_node_unref (ln);
  JsonNode *an = json_node_init_object (json_node_alloc (), added_obj);
  pristine_add ("added_tokens.json", json_bytes (an));
  json_node_unref (an);
  json_array_unref (list);
  json_object_unref (added_obj);
  g_list_free (members);
  g_free (by_id);

  GString *merges = g_string_new ("#version: 0.2\n");
  JsonArray *ma = json_object_get_array_member (model, "merges");
  for (guint i = 0; ma && i < json_array_get_length (ma); i++) {
    JsonNode *e = json_array_get_element (ma, i);
    if (JSON_NODE_HOLDS_VALUE (e))
      g_string_append_printf (merges, "%s\n", json_node_get_string (e));
    else if (JSON_NODE_HOLDS_ARRAY (e))
      g_string_append_printf (merges, "%s %s\n",
          json_array_get_string_element (json_node_get_array (e), 0),
          json_array_get_string_element (json_node_get_array (e), 1));
  }
  pristine_add ("merges.txt", g_string_free_to_bytes (merges));
  g_object_unref (p);
}

static void
read_seed_model (void)
{
  pristine = g_ptr_array_new ();
  char *dir = g_build_filename (fuzz_seed_dir (), FUZZ_SEED_SUBDIR, NULL);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d))) {
    char *p = g_build_filename (dir, name, NULL);
    gchar *c;
    gsize n;
    if (g_file_get_contents (p, &c, &n, NULL))
      pristine_add (name, g_bytes_new_take (c, n));
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_free (dir);
  derive_side_files ();
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  read_seed_model ();
  const char *out = fuzz_corpus_out ();
  if (out) {
    int k = 0;
    for (guint v = 0; v < G_N_ELEMENTS (variants); v++) {
      pristine_file *f = pristine_find (variants[v].file);
      gsize n = 0;
      gchar *other = NULL;
      const void *c = f ? g_bytes_get_data (f->bytes, &n) : NULL;
      if (!f) {
        /* a file this layout lacks: the CTranslate2 model's, else {} */
        char *p = g_build_filename (fuzz_seed_dir (), "ct2-f32",
            variants[v].file, NULL);
        if (g_file_get_contents (p, &other, &n, NULL))
          c = other;
        else
          c = "{}", n = 2;
        g_free (p);
      }
      fuzz_corpus_add (out, k++, v, c, n);
      g_free (other);
    }
    /* the other weight types of the main file */
    const char *types[] = { "f16", "bf16", "int8", "int16" };
    for (guint i = 0; i < G_N_ELEMENTS (types); i++) {
      /* "ct2-f32" -> "ct2-f16" ... */
      char *p = g_strdup_printf ("%s/%.*s-%s/%s", fuzz_seed_dir (),
          (int) strlen (FUZZ_SEED_SUBDIR) - 4, FUZZ_SEED_SUBDIR, types[i],
          FUZZ_MAIN_FILE);
      gchar *c;
      gsize n;
      if (g_file_get_contents (p, &c, &n, NULL)) {
        fuzz_corpus_add (out, k++, 0, c, n);
        g_free (c);
      }
      g_free (p);
    }
    exit (0);
  }
  model_dir = g_strdup (fuzz_tmp_dir ());
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  if (size < 1)
    return 0;
  const variant *v = &variants[data[0] % G_N_ELEMENTS (variants)];
  /* back to the model's files; a fuzzed file that is not one of them goes */
  for (guint i = 0; i < pristine->len; i++) {
    pristine_file *f = g_ptr_array_index (pristine, i);
    if (f->dirty && !f->seed_only) {
      char *p = g_build_filename (model_dir, f->name, NULL);
      gsize n;
      const void *c = g_bytes_get_data (f->bytes, &n);
      fuzz_write_file (p, c, n);
      g_free (p);
      f->dirty = FALSE;
    }
  }
  for (int i = 0; i < 3 && v->remove[i]; i++) {
    char *p = g_build_filename (model_dir, v->remove[i], NULL);
    g_unlink (p);
    g_free (p);
    pristine_file *f = pristine_find (v->remove[i]);
    if (f)
      f->dirty = TRUE;
  }
  char *p = g_build_filename (model_dir, v->file, NULL);
  fuzz_write_file (p, data + 1, size - 1);
  g_free (p);
  pristine_file *f = pristine_find (v->file);
  if (f)
    f->dirty = TRUE;

  load_and_use (model_dir);

  if (!f || f->seed_only) {
    p = g_build_filename (model_dir, v->file, NULL);
    g_unlink (p);
    g_free (p);
  }
  return 0;
}
#endif
