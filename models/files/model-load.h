/* Loading Whisper models, and the process-wide shared model registry.
 *
 * Thread safety: whisper_model_load() is reentrant.  The registry functions
 * may be called from any thread.  A loaded whisper_model is read-only and may
 * be used by any number of threads at once.
 */
#ifndef WHISPER_MODEL_LOAD_H
#define WHISPER_MODEL_LOAD_H

#include <glib.h>
#include "whisper-model.h"

G_BEGIN_DECLS

#define WHISPER_MODEL_ERROR (whisper_model_error_quark ())
GQuark whisper_model_error_quark (void);

typedef enum {
  WHISPER_MODEL_ERROR_NOT_FOUND,   /* no such file/directory or known name */
  WHISPER_MODEL_ERROR_IO,          /* cannot open / read / mmap */
  WHISPER_MODEL_ERROR_FORMAT,      /* bad magic, truncated, bad dims, missing tensor, unknown dtype */
} WhisperModelError;

/* Load a model from a CTranslate2 directory, a whisper.cpp ggml .bin file or
 * a Hugging Face safetensors directory (detected from the contents).
 * Returns NULL and sets @error (message names the file and the problem). */
whisper_model *whisper_model_load (const char *path, GError ** error);
void whisper_model_free (whisper_model * model);

/* The models directory: $GST_WHISPER_MODELS_DIR, else
 * $XDG_CACHE_HOME/gst-whisper-npu/models (~/.cache/...).  Newly allocated. */
char *whisper_models_dir (void);

/* A path is returned as is (canonicalised); a known name such as "tiny.en"
 * or "base" is looked up as <models dir>/<name>.  NULL + error if absent. */
char *whisper_model_resolve (const char *name_or_path, GError ** error);

/* Registry: one load per resolved path per process, reference-counted.
 * acquire() loads on first use; release() frees on the last release. */
whisper_model *whisper_model_registry_acquire (const char *name_or_path,
    GError ** error);
void whisper_model_registry_release (whisper_model * model);

G_END_DECLS
#endif
