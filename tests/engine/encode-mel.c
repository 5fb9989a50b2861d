/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* encode-mel: runs the CPU encoder on raw mel windows, for the accuracy
 * test (tests/accuracy/encoder_accuracy.py).
 *
 *   encode-mel [--threads N] [--compute-type T] [--int8-attention]
 *              [--backend B] [--kernel-dir DIR] MODEL MEL_IN OUT ...
 *
 * MODEL is a path or a known name.  Each MEL_IN is raw float32 [M][3000]
 * (M = the model's n_mels), already normalised; each OUT receives raw
 * float32 [1500][C].  Prints the model's dimensions on stdout.  Exit 0 on
 * success, 1 on any error (with a message on stderr).  The compute type
 * (auto, float32, int8, bfloat16) defaults to float32: the accuracy test
 * compares with CTranslate2's float32 encoder.  The backend (auto, cpu, npu)
 * defaults to cpu; npu takes its device from $WHISPER_NPU_DEVICE and its
 * programs from DIR (tests/npu/npu_encoder_identity.py).
 * --int8-attention: whisper_encoder_params.int8_attention.
 */
#include "encoder.h"
#include "whisper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
  int n_threads = 0, a = 1;
  gboolean int8_attention = FALSE;
  whisper_compute_type compute_type = WHISPER_COMPUTE_FLOAT32;
  whisper_backend backend = WHISPER_BACKEND_CPU;
  const char *kernel_dir = NULL;
  for (;;) {
    if (a + 1 < argc && !strcmp (argv[a], "--threads")) {
      n_threads = atoi (argv[a + 1]);
      a += 2;
    } else if (a + 1 < argc && !strcmp (argv[a], "--compute-type")) {
      if (!whisper_compute_type_from_name (argv[a + 1], &compute_type)) {
        fprintf (stderr, "encode-mel: unknown compute type %s\n",
            argv[a + 1]);
        return 1;
      }
      a += 2;
    } else if (a + 1 < argc && !strcmp (argv[a], "--backend")) {
      static const whisper_backend all[] = { WHISPER_BACKEND_AUTO,
        WHISPER_BACKEND_CPU, WHISPER_BACKEND_NPU
      };
      gboolean found = FALSE;
      for (int i = 0; i < 3; i++)
        if (!strcmp (argv[a + 1], whisper_backend_name (all[i]))) {
          backend = all[i];
          found = TRUE;
        }
      if (!found) {
        fprintf (stderr, "encode-mel: unknown backend %s\n", argv[a + 1]);
        return 1;
      }
      a += 2;
    } else if (a < argc && !strcmp (argv[a], "--int8-attention")) {
      int8_attention = TRUE;
      a++;
    } else if (a + 1 < argc && !strcmp (argv[a], "--kernel-dir")) {
      kernel_dir = argv[a + 1];
      a += 2;
    } else {
      break;
    }
  }
  if (argc - a < 3 || (argc - a - 1) % 2 != 0) {
    fprintf (stderr, "usage: %s [--threads N] [--compute-type T] "
        "[--int8-attention] [--backend B] [--kernel-dir DIR] MODEL MEL_IN OUT [MEL_IN OUT ...]"
        "\n", argv[0]);
    return 1;
  }
  GError *err = NULL;
  whisper_model *model = NULL;
  char *path = whisper_model_resolve (argv[a], &err);
  if (path)
    model = whisper_model_load (path, &err);
  g_free (path);
  if (!model) {
    fprintf (stderr, "encode-mel: %s\n", err->message);
    g_error_free (err);
    return 1;
  }
  whisper_encoder *enc = whisper_encoder_new (model,
      &(whisper_encoder_params) { .n_threads = n_threads,
        .compute_type = compute_type, .backend = backend,
        .npu_kernel_dir = kernel_dir, .int8_attention = int8_attention },
      &err);
  if (!enc) {
    fprintf (stderr, "encode-mel: %s\n", err->message);
    g_error_free (err);
    whisper_model_free (model);
    return 1;
  }
  const whisper_hparams *hp = &model->hp;
  printf ("n_mels %d n_audio_ctx %d n_audio_state %d n_audio_head %d "
      "n_audio_layer %d\n", hp->n_mels, hp->n_audio_ctx, hp->n_audio_state,
      hp->n_audio_head, hp->n_audio_layer);
  const char *device = whisper_encoder_get_device (enc);
  printf ("backend %s compute-type %s device %s\n",
      whisper_backend_name (whisper_encoder_get_backend (enc)),
      whisper_compute_type_name (whisper_encoder_get_compute_type (enc)),
      device ? device : "cpu");

  const size_t n_mel = (size_t) hp->n_mels * WHISPER_WINDOW_FRAMES;
  const size_t n_out = (size_t) hp->n_audio_ctx * hp->n_audio_state;
  float *mel = g_new (float, n_mel), *out = g_new (float, n_out);
  int status = 0;
  for (int i = a + 1; i + 1 < argc && status == 0; i += 2) {
    gchar *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents (argv[i], &data, &len, &err)) {
      fprintf (stderr, "encode-mel: %s\n", err->message);
      g_clear_error (&err);
      status = 1;
      break;
    }
    if (len != n_mel * sizeof (float)) {
      fprintf (stderr, "encode-mel: %s: %zu bytes, expected %zu "
          "(float32 [%d][%d])\n", argv[i], (size_t) len,
          n_mel * sizeof (float), hp->n_mels, WHISPER_WINDOW_FRAMES);
      g_free (data);
      status = 1;
      break;
    }
    memcpy (mel, data, len);
    g_free (data);
    if (whisper_encoder_run (enc, mel, out) != 0) {
      fprintf (stderr, "encode-mel: encoder failed on %s\n", argv[i]);
      status = 1;
      break;
    }
    if (!g_file_set_contents (argv[i + 1], (const gchar *) out,
            (gssize) (n_out * sizeof (float)), &err)) {
      fprintf (stderr, "encode-mel: %s\n", err->message);
      g_clear_error (&err);
      status = 1;
    }
  }
  g_free (mel);
  g_free (out);
  whisper_encoder_free (enc);
  whisper_model_free (model);
  return status;
}
