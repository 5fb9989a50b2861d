/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The encoder through the XRT shim's real source on the stand-in XRT:
 * WHISPER_NPU_DEVICE=xrt loads the module that $WHISPER_NPU_XRT_MODULE
 * names (the shim built against tests/xrt-standin), as on a machine with
 * an NPU; the encoder of the model given as argument on the AMI excerpt
 * gives the CPU int8 encoder's bits, with one run per product per window.
 * The suite passes a small synthetic model of one head: tiny.en's device
 * buffers (about 130 MiB) exceed the 8 MiB memlock limit of this machine
 * kind, which a test cannot raise (the shim refuses them, as it must).
 * For the same reason the attention programs here are short ones
 * (SHORT_M rows, the least the tiling takes; 1500 query rows in all take
 * 15 MiB per head), so that the host runs them once per block of
 * SHORT_M / 2 query rows ([P_hi; P_lo] V has two rows per query), which
 * this test covers too: packed operands synced whole with the first
 * block and as A alone after it.  Batches of several heads through the
 * shim are test-npu-xrt-shim's.  Exit 77 without the test audio. */
#include "encoder.h"
#include "npu-emu.h"
#include "npu-shapes.h"
#include "speech-frames.h"
#include "test-dir.h"
#include "whisper.h"

#include <dlfcn.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#define SHORT_M 256

typedef int (*write_program_fn) (const char *, const char *, const char *,
    int, int, int, int, size_t, int, int);

int
main (int argc, char **argv)
{
  GError *err = NULL;
  char *path = whisper_model_resolve (argc > 1 ? argv[1] : "tiny.en", &err);
  whisper_model *m = path ? whisper_model_load (path, &err) : NULL;
  g_free (path);
  int n_frames = 0;
  float *frames = m ? speech_frames (m->hp.n_mels, &n_frames) : NULL;
  if (!frames) {
    printf ("SKIP: %s\n", m ? "no test audio" : err->message);
    return 77;
  }
  /* the manifest as for the emulated device, the programs in the
   * stand-in's format under the same names */
  npu_program_desc d[NPU_ENCODER_MAX_PROGRAMS];
  char names[NPU_ENCODER_MAX_PROGRAMS][32];
  const int n = npu_encoder_programs (m->hp.n_mels, m->hp.n_audio_state,
      m->hp.n_audio_head, "xdna1", d, names);
  /* the last two: Q K^T and [P_hi; P_lo] V, B on the page after A */
  for (int i = n - 2; i < n; i++) {
    d[i].M = SHORT_M;
    d[i].b_offset = ((size_t) d[i].batch * SHORT_M * d[i].K + 4095) / 4096
        * 4096;
    g_snprintf (names[i], sizeof names[i], "bgemm-%dx%dx%dx%d", d[i].batch,
        d[i].M, d[i].K, d[i].N);
  }
  char *dir = g_dir_make_tmp ("npu-xrt-XXXXXX", NULL);
  npu_error e = { 0 };
  void *standin = dlopen (g_getenv ("WHISPER_NPU_XRT_MODULE"), RTLD_NOW);
  write_program_fn write_program = standin ? (write_program_fn)
      dlsym (standin, "xrt_standin_write_program") : NULL;
  if (!write_program || npu_emu_write_kernel_dir (dir, d, n, "xdna1", &e)) {
    fprintf (stderr, "FAIL: cannot set up: %s %s\n", dlerror (), e.message);
    return 1;
  }
  for (int i = 0; i < n; i++) {
    char *x = g_strdup_printf ("%s/%s.xclbin", dir, names[i]);
    char *s = g_strdup_printf ("%s/%s.insts.bin", dir, names[i]);
    write_program (x, s, "MLIR_AIE", d[i].M, d[i].K, d[i].N, d[i].batch,
        d[i].b_offset, 60, 0);
    g_free (x);
    g_free (s);
  }

  int failures = 0;
  const size_t n_out = (size_t) m->hp.n_audio_ctx * m->hp.n_audio_state;
  float *cpu_out = g_new (float, n_out), *npu_out = g_new (float, n_out);
  whisper_encoder_params p = whisper_encoder_default_params ();
  p.compute_type = WHISPER_COMPUTE_INT8;
  p.n_threads = 2;
  p.int8_attention = TRUE;    /* the NPU's arithmetic */
  p.backend = WHISPER_BACKEND_CPU;
  whisper_encoder *cpu = whisper_encoder_new (m, &p, &err);
  if (!cpu || !whisper_encoder_encode_window (cpu, frames, n_frames, cpu_out,
          &err)) {
    fprintf (stderr, "FAIL: cpu: %s\n", err->message);
    return 1;
  }
  g_setenv ("WHISPER_NPU_DEVICE", "xrt", TRUE);
  p.backend = WHISPER_BACKEND_NPU;
  p.npu_kernel_dir = dir;
  whisper_encoder *npu = whisper_encoder_new (m, &p, &err);
  if (!npu) {
    fprintf (stderr, "FAIL: npu through the shim: %s\n", err->message);
    return 1;
  }
  printf ("device: %s\n", whisper_encoder_get_device (npu));
  npu_counters k0, k1;
  whisper_encoder_get_npu_counters (npu, &k0);
  if (!whisper_encoder_encode_window (npu, frames, n_frames, npu_out, &err)) {
    fprintf (stderr, "FAIL: window: %s\n", err->message);
    return 1;
  }
  whisper_encoder_get_npu_counters (npu, &k1);
  if (memcmp (cpu_out, npu_out, n_out * sizeof (float)) != 0) {
    fprintf (stderr, "FAIL: the shim's output differs from the CPU int8\n");
    failures++;
  }
  /* conv1 and 4 projections per block; per block 2 attention products
   * per block of query rows; every run one sync each way */
  const uint64_t L = (uint64_t) m->hp.n_audio_layer;
  const uint64_t blocks = (m->hp.n_audio_ctx + SHORT_M / 2 - 1)
      / (SHORT_M / 2);
  const uint64_t want = 1 + 4 * L + 2 * L * blocks;
  if (k1.runs - k0.runs != want || k1.buffer_allocs != k0.buffer_allocs
      || k1.syncs_to_device - k0.syncs_to_device != want
      || k1.syncs_from_device - k0.syncs_from_device != want
      || k0.contexts != (uint64_t) n) {
    fprintf (stderr, "FAIL: counters: %" G_GUINT64_FORMAT " runs (want %"
        G_GUINT64_FORMAT "), %" G_GUINT64_FORMAT " contexts\n",
        k1.runs - k0.runs, want, k0.contexts);
    failures++;
  }
  printf ("%s through the XRT shim on the stand-in XRT: %s, %"
      G_GUINT64_FORMAT " runs per window\n", argc > 1 ? argv[1] : "tiny.en",
      failures ? "FAILED" :
      "identical to the CPU int8 encoder", k1.runs - k0.runs);
  whisper_encoder_free (npu);
  whisper_encoder_free (cpu);
  test_dir_remove (dir);
  g_free (cpu_out);
  g_free (npu_out);
  g_free (frames);
  whisper_model_free (m);
  return failures ? 1 : 0;
}
