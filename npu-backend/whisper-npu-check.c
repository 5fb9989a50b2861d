/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whisper-npu-check: can this machine run the encoder on its NPU?
 *
 *   whisper-npu-check [--device SPEC] [--kernel-dir DIR] [--model NAME]
 *                     [--windows N]
 *       opens the device (SPEC as $WHISPER_NPU_DEVICE: xrt[:INDEX] or
 *       emulated[:OPTIONS]; default the XRT module), loads the model's
 *       encoder programs and weights, runs the known-answer self-test,
 *       encodes N windows (default 2) and prints the device, the time per
 *       window and the device counters of the last window.
 *   whisper-npu-check --write-emulated-kernels DIR [--generation G]
 *       writes a kernel directory of emulated programs for every Whisper
 *       encoder size (G: xdna1, the default, or xdna2), for
 *       WHISPER_NPU_DEVICE=emulated.
 * Exit 0 when the encoder ran on the NPU, 1 otherwise (with the reason).
 */
#include "encoder.h"
#include "npu-emu.h"
#include "npu-shapes.h"
#include "whisper.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* (n_mels, n_state, n_head) of every published encoder size */
static const int encoder_sizes[][3] = {
  {80, 384, 6}, {80, 512, 8}, {80, 768, 12}, {80, 1024, 16}, {80, 1280, 20},
  {128, 1280, 20},
};

static int
write_emulated (const char *dir, const char *generation)
{
  enum { MAX = G_N_ELEMENTS (encoder_sizes) * NPU_ENCODER_MAX_PROGRAMS };
  npu_program_desc all[MAX];
  char names[MAX][32];
  int n = 0;
  for (size_t s = 0; s < G_N_ELEMENTS (encoder_sizes); s++) {
    npu_program_desc d[NPU_ENCODER_MAX_PROGRAMS];
    char nm[NPU_ENCODER_MAX_PROGRAMS][32];
    const int k = npu_encoder_programs (encoder_sizes[s][0],
        encoder_sizes[s][1], encoder_sizes[s][2], generation, d, nm);
    if (k < 0) {
      fprintf (stderr, "whisper-npu-check: unknown generation %s (xdna1, "
          "xdna2)\n", generation);
      return 1;
    }
    for (int i = 0; i < k; i++) {
      gboolean seen = FALSE;
      for (int j = 0; j < n && !seen; j++)
        seen = strcmp (names[j], nm[i]) == 0;
      if (seen)
        continue;
      all[n] = d[i];
      memcpy (names[n], nm[i], sizeof names[n]);
      all[n].name = names[n];
      n++;
    }
  }
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    fprintf (stderr, "whisper-npu-check: cannot create %s\n", dir);
    return 1;
  }
  npu_error e = { 0 };
  if (npu_emu_write_kernel_dir (dir, all, n, generation, &e) != 0) {
    fprintf (stderr, "whisper-npu-check: %s\n", e.message);
    return 1;
  }
  printf ("wrote %d emulated %s programs to %s\n", n, generation, dir);
  return 0;
}

/* What the timing model (docs/npu.md) projects for one window of @model's
 * products on each generation: one run per product, with one sync in (A's
 * rows; attention: its packed operands, every head's) and one out (C's
 * rows; attention: up to the last head's). */
static void
print_projection (const whisper_model * model)
{
  static const char *const gens[] = { "xdna1", "xdna2" };
  const int L = model->hp.n_audio_layer;
  printf ("timing model, a projection and not a measurement "
      "(docs/npu.md):");
  for (size_t g = 0; g < G_N_ELEMENTS (gens); g++) {
    npu_program_desc d[NPU_ENCODER_MAX_PROGRAMS];
    char nm[NPU_ENCODER_MAX_PROGRAMS][32];
    if (npu_encoder_programs (model->hp.n_mels, model->hp.n_audio_state,
            model->hp.n_audio_head, gens[g], d, nm) < 0)
      continue;
    /* conv1 once, the projections and attention's Q K^T and
     * [P_hi; P_lo] V (all heads) once per block */
    const int A = model->hp.n_audio_ctx;
    double s = 0;
    for (int i = 0; i < NPU_ENCODER_MAX_PROGRAMS; i++) {
      const int runs = i == 0 ? 1 : L;
      const int rows = i == 0 ? WHISPER_WINDOW_FRAMES : i == 6 ? 2 * A : A;
      const size_t before_last = (size_t) (d[i].batch - 1) * d[i].M;
      const size_t in = d[i].b_offset ? npu_arg_bytes (&d[i], NPU_ARG_A)
          : (size_t) rows * d[i].K;
      const size_t out = (before_last + rows) * d[i].N * sizeof (int32_t);
      s += runs * (npu_emu_model_run_seconds (gens[g], d[i].batch, d[i].M,
              d[i].K, d[i].N) + npu_emu_model_sync_seconds (gens[g], in)
          + npu_emu_model_sync_seconds (gens[g], out));
    }
    printf ("%s %.1f ms", g ? "," : "", s * 1e3);
    printf (" on %s", gens[g]);
  }
  printf (" of device time per window for the products\n");
}

int
main (int argc, char **argv)
{
  const char *device = NULL, *kernel_dir = NULL, *model_name = "tiny.en";
  const char *emulated_dir = NULL, *generation = "xdna1";
  int windows = 2;
  for (int a = 1; a < argc; a++) {
    const char *v = a + 1 < argc ? argv[a + 1] : NULL;
    if (v && strcmp (argv[a], "--device") == 0)
      device = v;
    else if (v && strcmp (argv[a], "--kernel-dir") == 0)
      kernel_dir = v;
    else if (v && strcmp (argv[a], "--model") == 0)
      model_name = v;
    else if (v && strcmp (argv[a], "--windows") == 0)
      windows = MAX (1, atoi (v));
    else if (v && strcmp (argv[a], "--write-emulated-kernels") == 0)
      emulated_dir = v;
    else if (v && strcmp (argv[a], "--generation") == 0)
      generation = v;
    else {
      fprintf (stderr, "usage: %s [--device SPEC] [--kernel-dir DIR] "
          "[--model NAME] [--windows N]\n"
          "       %s --write-emulated-kernels DIR [--generation xdna1|xdna2]"
          "\n", argv[0], argv[0]);
      return 1;
    }
    a++;
  }
  if (emulated_dir)
    return write_emulated (emulated_dir, generation);
  if (device)
    g_setenv ("WHISPER_NPU_DEVICE", device, TRUE);

  GError *err = NULL;
  char *path = whisper_model_resolve (model_name, &err);
  whisper_model *model = path ? whisper_model_load (path, &err) : NULL;
  g_free (path);
  if (!model) {
    fprintf (stderr, "whisper-npu-check: %s\n", err->message);
    return 1;
  }
  whisper_encoder_params p = whisper_encoder_default_params ();
  p.backend = WHISPER_BACKEND_NPU;
  p.npu_kernel_dir = kernel_dir;
  gint64 t0 = g_get_monotonic_time ();
  whisper_encoder *enc = whisper_encoder_new (model, &p, &err);
  if (!enc) {
    fprintf (stderr, "whisper-npu-check: the encoder cannot use the NPU: "
        "%s\n", err->message);
    whisper_model_free (model);
    return 1;
  }
  printf ("device: %s\nmodel: %s; programs loaded, weights written and "
      "self-test passed in %.0f ms\n", whisper_encoder_get_device (enc),
      model_name, (g_get_monotonic_time () - t0) / 1e3);

  const int M = model->hp.n_mels;
  const size_t n_out = (size_t) model->hp.n_audio_ctx *
      model->hp.n_audio_state;
  float *frames = g_new (float, (size_t) WHISPER_WINDOW_FRAMES * M);
  float *out = g_new (float, n_out);
  /* a falling spectrum under a slow modulation: the content does not
   * change the work, only makes it look like audio */
  for (int f = 0; f < WHISPER_WINDOW_FRAMES; f++)
    for (int m = 0; m < M; m++)
      frames[(size_t) f * M + m] = -1.0f - 0.05f * m + 0.5f * (f % 50) / 50;
  npu_counters k0 = { 0 }, k1 = { 0 };
  int status = 0;
  for (int w = 0; w < windows && status == 0; w++) {
    whisper_encoder_get_npu_counters (enc, &k0);
    t0 = g_get_monotonic_time ();
    if (!whisper_encoder_encode_window (enc, frames, WHISPER_WINDOW_FRAMES,
            out, &err)) {
      fprintf (stderr, "whisper-npu-check: window %d: %s\n", w,
          err->message);
      status = 1;
      break;
    }
    const double ms = (g_get_monotonic_time () - t0) / 1e3;
    whisper_encoder_get_npu_counters (enc, &k1);
    printf ("window %d: %.1f ms wall (host and device)", w, ms);
    if (k1.modelled_seconds > 0)
      printf ("; modelled device time %.1f ms (emulated: a model, not a "
          "measurement)", (k1.modelled_seconds - k0.modelled_seconds) * 1e3);
    printf ("\n");
  }
  if (status == 0)
    printf ("last window: %" G_GUINT64_FORMAT " runs, %" G_GUINT64_FORMAT
        " syncs to and %" G_GUINT64_FORMAT " from the device (%.1f MB, %.1f "
        "MB), %" G_GUINT64_FORMAT " buffer allocations, %" G_GUINT64_FORMAT
        " instruction loads\n", k1.runs - k0.runs,
        k1.syncs_to_device - k0.syncs_to_device,
        k1.syncs_from_device - k0.syncs_from_device,
        (k1.bytes_to_device - k0.bytes_to_device) / 1e6,
        (k1.bytes_from_device - k0.bytes_from_device) / 1e6,
        k1.buffer_allocs - k0.buffer_allocs,
        k1.instruction_loads - k0.instruction_loads);
  if (status == 0)
    print_projection (model);
  printf ("To report a problem: this output, `uname -r`, the amdxdna "
      "driver's and the NPU firmware's versions (`xrt-smi examine`), the XRT "
      "version, and the kernel directory's manifest.json.\n");
  g_free (frames);
  g_free (out);
  whisper_encoder_free (enc);
  whisper_model_free (model);
  return status;
}
