/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* speech_frames (speech-frames.h) */
#include "speech-frames.h"
#include "whisper.h"

#include <glib.h>
#include <stdint.h>
#include <string.h>

float *
speech_frames (int n_mels, int *n_frames)
{
  const char *shared = g_getenv ("WHISPER_SHARED_DIR");
  char *path = g_build_filename (shared ? shared : "../shared", "testdata",
      "speech", "audio", "ami-ES2011a-headset0-40s-46s.wav", NULL);
  gchar *data = NULL;
  gsize len = 0;
  const gboolean ok = g_file_get_contents (path, &data, &len, NULL);
  g_free (path);
  if (!ok)
    return NULL;
  /* the samples of its "data" chunk */
  gsize pos = 12;
  const int16_t *pcm = NULL;
  size_t n = 0;
  while (pos + 8 <= len) {
    guint32 size;
    memcpy (&size, data + pos + 4, 4);
    if (memcmp (data + pos, "data", 4) == 0) {
      pcm = (const int16_t *) (data + pos + 8);
      n = MIN (size, len - pos - 8) / 2;
      break;
    }
    pos += 8 + size + (size & 1);
  }
  whisper_mel *mel = whisper_mel_new (n_mels, NULL);
  float *frames = g_new (float, (size_t) (n / 160 + 4) * n_mels);
  size_t f = whisper_mel_push_s16 (mel, pcm, n, frames);
  f += whisper_mel_finish (mel, frames + f * n_mels);
  whisper_mel_free (mel);
  g_free (data);
  *n_frames = (int) MIN (f, 3000);
  return frames;
}
