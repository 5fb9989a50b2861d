/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Model loading entry point (format detection), the models directory, name
 * resolution and the process-wide shared model registry. */
#include <stdio.h>
#include <string.h>
#include <errno.h>

#include "model-internal.h"

GMappedFile *
whisper_map_file (const char *file, GError ** error)
{
  GError *e = NULL;
  GMappedFile *map = g_mapped_file_new (file, FALSE, &e);
  if (!map) {
    gboolean missing = g_error_matches (e, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_set_error (error, WHISPER_ERROR, missing ?
        WHISPER_ERROR_NOT_FOUND : WHISPER_ERROR_IO,
        "%s: cannot open: %s", file, e->message);
    g_error_free (e);
    return NULL;
  }
  if (g_mapped_file_get_length (map) == 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: empty file", file);
    g_mapped_file_unref (map);
    return NULL;
  }
  return map;
}

typedef enum { FMT_UNKNOWN, FMT_CT2, FMT_GGML, FMT_SAFETENSORS } model_format;

static gboolean
read_head (const char *file, guint8 * buf, size_t n, size_t *got)
{
  FILE *fp = fopen (file, "rb");
  if (!fp)
    return FALSE;
  *got = fread (buf, 1, n, fp);
  fclose (fp);
  return TRUE;
}

whisper_model *
whisper_model_load (const char *path, GError ** error)
{
  g_return_val_if_fail (path != NULL, NULL);
  model_format fmt = FMT_UNKNOWN;
  char *dir = NULL, *file = NULL;
  guint8 head[8];
  size_t got = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    char *bin = g_build_filename (path, "model.bin", NULL);
    char *st = g_build_filename (path, "model.safetensors", NULL);
    if (g_file_test (bin, G_FILE_TEST_EXISTS))
      fmt = FMT_CT2;
    else if (g_file_test (st, G_FILE_TEST_EXISTS)) {
      fmt = FMT_SAFETENSORS;
      file = g_strdup (st);
    }
    char *index = g_build_filename (path, "model.safetensors.index.json", NULL);
    gboolean sharded = g_file_test (index, G_FILE_TEST_EXISTS);
    g_free (index);
    g_free (bin);
    g_free (st);
    if (fmt == FMT_UNKNOWN && sharded) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: sharded safetensors checkpoints (model.safetensors.index.json) "
          "are not supported", path);
      return NULL;
    }
    if (fmt == FMT_UNKNOWN) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NOT_FOUND,
          "%s: directory has neither model.bin (CTranslate2) nor "
          "model.safetensors (Hugging Face)", path);
      return NULL;
    }
    dir = g_strdup (path);
  } else if (g_file_test (path, G_FILE_TEST_EXISTS)) {
    if (!read_head (path, head, sizeof head, &got)) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_IO,
          "%s: cannot open: %s", path, g_strerror (errno));
      return NULL;
    }
    guint32 magic = 0;
    if (got >= 4)
      magic = (guint32) head[0] | (guint32) head[1] << 8
          | (guint32) head[2] << 16 | (guint32) head[3] << 24;
    char *base = g_path_get_basename (path);
    if (got == 0) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: empty file", path);
    } else if (magic == 0x67676d6c) {
      fmt = FMT_GGML;
      file = g_strdup (path);
    } else if (got >= 4 && memcmp (head, "GGUF", 4) == 0) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: GGUF files are not supported (use a whisper.cpp ggml .bin)",
          path);
    } else if (magic == 0x67676d66 || magic == 0x67676a74) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: ggmf/ggjt (llama.cpp) files are not Whisper models", path);
    } else if (g_str_has_suffix (base, ".safetensors")) {
      fmt = FMT_SAFETENSORS;
      dir = g_path_get_dirname (path);
      file = g_strdup (path);
    } else if (strcmp (base, "model.bin") == 0) {
      fmt = FMT_CT2;
      dir = g_path_get_dirname (path);
    } else {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
          "%s: unknown model format: wrong magic 0x%08x (a whisper.cpp ggml "
          "file starts with 0x67676d6c; CTranslate2 and Hugging Face models "
          "are directories)", path, magic);
    }
    g_free (base);
    if (fmt == FMT_UNKNOWN)
      return NULL;
  } else {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NOT_FOUND,
        "%s: no such file or directory", path);
    return NULL;
  }

  whisper_model *m = g_new0 (whisper_model, 1);
  m->path = g_strdup (path);
  m->weight_dtype = "float32";
  gboolean ok = FALSE;
  switch (fmt) {
    case FMT_CT2:
      m->format = g_strdup ("ctranslate2");
      ok = whisper_load_ct2 (m, dir, error);
      break;
    case FMT_GGML:
      m->format = g_strdup ("ggml");
      ok = whisper_load_ggml (m, file, error);
      break;
    case FMT_SAFETENSORS:
      m->format = g_strdup ("safetensors");
      ok = whisper_load_safetensors (m, dir, file, error);
      break;
    default:
      break;
  }
  g_free (dir);
  g_free (file);
  if (!ok) {
    whisper_model_free (m);
    return NULL;
  }
  whisper_model_default_alignment_heads (m);
  return m;
}

/* ------------------------------------------------------------------------ */

char *
whisper_models_dir (void)
{
  const char *env = g_getenv ("GST_WHISPER_MODELS_DIR");
  if (env && *env)
    return g_strdup (env);
  return g_build_filename (g_get_user_cache_dir (), "gst-whisper-npu",
      "models", NULL);
}

/* Names like "tiny.en", "base", "large-v3", "my_model-2": no separators. */
static gboolean
is_model_name (const char *s)
{
  if (!*s || strcmp (s, ".") == 0 || strcmp (s, "..") == 0)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '.' || *p == '-' || *p == '_'))
      return FALSE;
  return TRUE;
}

char *
whisper_model_resolve (const char *name_or_path, GError ** error)
{
  g_return_val_if_fail (name_or_path != NULL, NULL);
  const char *s = name_or_path;
  gboolean pathlike = strchr (s, G_DIR_SEPARATOR) != NULL;
  if (!*s) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NOT_FOUND,
        "empty model name");
    return NULL;
  }
  /* a name is looked up in the models directory first; an existing path
   * (with a separator, or a file in the current directory) is taken as is */
  if (!pathlike && is_model_name (s)) {
    char *dir = whisper_models_dir ();
    char *p = g_build_filename (dir, s, NULL);
    if (g_file_test (p, G_FILE_TEST_EXISTS)) {
      char *c = g_canonicalize_filename (p, NULL);
      g_free (p);
      g_free (dir);
      return c;
    }
    g_free (p);
    if (!g_file_test (s, G_FILE_TEST_EXISTS)) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NOT_FOUND,
          "model '%s' not found in %s (fetch it with: whisper-models fetch "
          "%s, or give a path)", s, dir, s);
      g_free (dir);
      return NULL;
    }
    g_free (dir);
  }
  if (!g_file_test (s, G_FILE_TEST_EXISTS)) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NOT_FOUND,
        "%s: no such file or directory", s);
    return NULL;
  }
  char *c = g_canonicalize_filename (s, NULL);
  /* follow symlinks so that two names of one file share one load */
  char *real = realpath (c, NULL);
  if (real) {
    g_free (c);
    c = g_strdup (real);
    free (real);
  }
  return c;
}

/* ------------------------------------------------------------------------ */
/* registry */

typedef struct {
  char *key;                    /* resolved path */
  whisper_model *model;         /* NULL while loading */
  int refs;                     /* holders + waiters */
  gboolean loading;
} registry_entry;

static GMutex registry_lock;
static GCond registry_cond;
static GHashTable *registry_by_path;   /* key -> entry */
static GHashTable *registry_by_model;  /* model -> entry */

/* Takes the entry out of the tables (if they still point to it). */
static void
registry_detach (registry_entry * e)
{
  if (g_hash_table_lookup (registry_by_path, e->key) == e)
    g_hash_table_remove (registry_by_path, e->key);
  if (e->model)
    g_hash_table_remove (registry_by_model, e->model);
}

static void
registry_entry_free (registry_entry * e)
{
  g_free (e->key);
  g_free (e);
}

whisper_model *
whisper_model_registry_acquire (const char *name_or_path, GError ** error)
{
  char *key = whisper_model_resolve (name_or_path, error);
  if (!key)
    return NULL;
  /* the resolved path of a known name may itself be a symlink */
  char *real = realpath (key, NULL);
  if (real) {
    g_free (key);
    key = g_strdup (real);
    free (real);
  }

  g_mutex_lock (&registry_lock);
  if (!registry_by_path) {
    registry_by_path = g_hash_table_new (g_str_hash, g_str_equal);
    registry_by_model = g_hash_table_new (g_direct_hash, g_direct_equal);
  }
  registry_entry *e = g_hash_table_lookup (registry_by_path, key);
  if (e) {
    e->refs++;
    while (e->loading)
      g_cond_wait (&registry_cond, &registry_lock);
    whisper_model *m = e->model;
    if (!m) {
      /* the load this thread waited for failed (the entry is already
       * detached): try again ourselves, to get our own error */
      if (--e->refs == 0)
        registry_entry_free (e);
      g_mutex_unlock (&registry_lock);
      whisper_model *r = whisper_model_registry_acquire (key, error);
      g_free (key);
      return r;
    }
    g_mutex_unlock (&registry_lock);
    g_free (key);
    return m;
  }
  e = g_new0 (registry_entry, 1);
  e->key = key;
  e->refs = 1;
  e->loading = TRUE;
  g_hash_table_insert (registry_by_path, e->key, e);
  g_mutex_unlock (&registry_lock);

  /* load without holding the lock: other models load in parallel */
  whisper_model *m = whisper_model_load (key, error);

  g_mutex_lock (&registry_lock);
  e->loading = FALSE;
  e->model = m;
  if (m) {
    g_hash_table_insert (registry_by_model, m, e);
  } else {
    registry_detach (e);
    if (--e->refs == 0)
      registry_entry_free (e);
  }
  g_cond_broadcast (&registry_cond);
  g_mutex_unlock (&registry_lock);
  return m;
}

void
whisper_model_registry_release (whisper_model * model)
{
  if (!model)
    return;
  whisper_model *to_free = NULL;
  g_mutex_lock (&registry_lock);
  registry_entry *e = registry_by_model ?
      g_hash_table_lookup (registry_by_model, model) : NULL;
  if (e) {
    if (--e->refs == 0) {
      to_free = e->model;
      registry_detach (e);
      registry_entry_free (e);
    }
  } else {
    g_critical ("whisper_model_registry_release: %p was not acquired from "
        "the registry", (void *) model);
  }
  g_mutex_unlock (&registry_lock);
  whisper_model_free (to_free);
}

int
whisper_model_registry_size (void)
{
  g_mutex_lock (&registry_lock);
  int n = registry_by_path ? (int) g_hash_table_size (registry_by_path) : 0;
  g_mutex_unlock (&registry_lock);
  return n;
}
