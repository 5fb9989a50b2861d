/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NPU backend on the emulated device:
 *  - the emulated device: its arithmetic against the golden GEMM, stale
 *    data without a sync, refused shapes, sizes and buffers, faults,
 *    failing opens, the device spec of $WHISPER_NPU_DEVICE;
 *  - the encoder on tiny.en (real weights) and real speech (the AMI
 *    excerpt of ../shared/testdata/speech): backend NPU gives the same
 *    bits as the CPU's int8 path; one run per product per window, one sync
 *    each way, no allocation or instruction load after the first window;
 *    the self-test refuses a device returning zeros or corrupted output;
 *    a mid-stream fault is an error, or with npu_fallback the CPU takes
 *    over with the same bits.
 * The encoder part exits 77 (skipped) without tiny.en or the test audio.
 */
#include "encoder.h"
#include "npu-emu.h"
#include "npu-golden.h"
#include "npu-load.h"
#include "npu-shapes.h"
#include "speech-frames.h"
#include "test-dir.h"
#include "whisper.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; \
  fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
  fprintf (stderr, __VA_ARGS__); fprintf (stderr, "\n"); } } while (0)

static guint32 rng = 12345;

static int8_t
rand_s8 (void)
{
  rng = rng * 1664525u + 1013904223u;
  return (int8_t) (rng >> 24);    /* the whole range, -128 included */
}

/* A kernel directory of emulated programs for @descs */
static char *
write_dir (const npu_program_desc * descs, int n)
{
  char *dir = g_dir_make_tmp ("npu-test-XXXXXX", NULL);
  npu_error e = { 0 };
  CHECK (npu_emu_write_kernel_dir (dir, descs, n, "xdna1", &e) == 0, "%s",
      e.message);
  return dir;
}

static npu_program_desc
desc_in (const char *dir, const char *name, int M, int K, int N, int tn,
    char *x, char *i)
{
  sprintf (x, "%s/%s.xclbin", dir, name);
  sprintf (i, "%s/%s.insts.bin", dir, name);
  return (npu_program_desc) {
  name, x, i, "MLIR_AIE", M, K, N, 64, 64, tn, 1, 0};
}

static void
test_device (void)
{
  const npu_device_ops *ops = npu_emulated_device_ops ();
  npu_error e = { 0 };
  npu_program_desc shapes[2] = {
    {"gemm-256x128x256", NULL, NULL, "MLIR_AIE", 256, 128, 256, 64, 64, 64,
        1, 0},
    {"gemm-512x64x128", NULL, NULL, "MLIR_AIE", 512, 64, 128, 64, 64, 32, 1,
        0},
  };
  char *dir = write_dir (shapes, 2);
  npu_device *dev = ops->open ("threads=2", &e);
  CHECK (dev != NULL, "open: %s", e.message);
  if (!dev)
    return;
  char x[4096], in[4096];
  for (int s = 0; s < 2; s++) {
    const npu_program_desc *sh = &shapes[s];
    npu_program_desc d = desc_in (dir, sh->name, sh->M, sh->K, sh->N,
        sh->tile_n, x, in);
    npu_program *p = ops->load_program (dev, &d, &e);
    CHECK (p != NULL, "load %s: %s", d.name, e.message);
    if (!p)
      continue;
    const size_t na = (size_t) d.M * d.K, nb = (size_t) d.K * d.N,
        nc = (size_t) d.M * d.N;
    npu_buffer *a = ops->alloc (p, NPU_ARG_A, na, &e);
    npu_buffer *b = ops->alloc (p, NPU_ARG_B, nb, &e);
    npu_buffer *c = ops->alloc (p, NPU_ARG_C, nc * 4, &e);
    CHECK (a && b && c, "alloc: %s", e.message);
    CHECK (ops->alloc (p, NPU_ARG_A, na + 1, &e) == NULL
        && e.status == NPU_ERROR_BAD_ARGUMENT, "a wrong size is taken");
    int8_t *ah = ops->map (a), *bh = ops->map (b);
    int32_t *ch = ops->map (c);
    for (size_t i = 0; i < na; i++)
      ah[i] = rand_s8 ();
    for (size_t i = 0; i < nb; i++)
      bh[i] = rand_s8 ();
    int32_t *want = g_new (int32_t, nc);
    npu_golden_gemm_s8s32 (want, ah, bh, d.M, d.K, d.N);

    /* no sync: the device computes on what its copies held, and the host
     * copy of C is untouched */
    CHECK (ops->run (p, a, b, c, 1000, &e) == NPU_OK, "run: %s", e.message);
    CHECK (memcmp (ch, want, nc * 4) != 0, "a run without syncs gave the "
        "right answer");
    ops->sync (a, NPU_SYNC_TO_DEVICE, 0, 0, &e);
    ops->sync (b, NPU_SYNC_TO_DEVICE, 0, 0, &e);
    CHECK (ops->run (p, a, b, c, 1000, &e) == NPU_OK, "run: %s", e.message);
    CHECK (memcmp (ch, want, nc * 4) != 0, "C read without a sync from the "
        "device");
    ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &e);
    CHECK (memcmp (ch, want, nc * 4) == 0, "%s differs from the golden "
        "GEMM", d.name);
    /* a short sync of A leaves the rest stale */
    for (size_t i = 0; i < na; i++)
      ah[i] = rand_s8 ();
    ops->sync (a, NPU_SYNC_TO_DEVICE, (size_t) 64 * d.K, 0, &e);
    npu_golden_gemm_s8s32 (want, ah, bh, d.M, d.K, d.N);
    ops->run (p, a, b, c, 1000, &e);
    ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &e);
    CHECK (memcmp (ch, want, (size_t) 64 * d.N * 4) == 0
        && memcmp (ch, want, nc * 4) != 0, "a partial sync of A");
    CHECK (ops->sync (a, NPU_SYNC_TO_DEVICE, 16, na - 8, &e) ==
        NPU_ERROR_BAD_ARGUMENT, "a sync past the end is taken");
    /* buffers of another argument */
    CHECK (ops->run (p, b, a, c, 1000, &e) == NPU_ERROR_BAD_ARGUMENT,
        "swapped arguments are taken");
    g_free (want);
  }
  npu_counters k;
  ops->get_counters (dev, &k);
  CHECK (k.runs == 6 && k.instruction_loads == 2 && k.buffer_allocs == 6,
      "counters: %" G_GUINT64_FORMAT " runs, %" G_GUINT64_FORMAT " loads, %"
      G_GUINT64_FORMAT " allocs", k.runs, k.instruction_loads,
      k.buffer_allocs);
  CHECK (k.modelled_seconds > 0, "no modelled time");

  /* shapes the tiling does not take, files that are not programs */
  npu_program_desc bad = desc_in (dir, "gemm-256x128x256", 256, 128, 256,
      64, x, in);
  bad.N = 200;
  CHECK (!ops->load_program (dev, &bad, &e)
      && e.status == NPU_ERROR_BAD_SHAPE, "N = 200 is taken");
  bad = desc_in (dir, "gemm-256x128x256", 256, 128, 256, 64, x, in);
  bad.M = 512;
  CHECK (!ops->load_program (dev, &bad, &e)
      && e.status == NPU_ERROR_BAD_PROGRAM, "a program of another shape");
  bad = desc_in (dir, "no-such", 256, 128, 256, 64, x, in);
  CHECK (!ops->load_program (dev, &bad, &e)
      && e.status == NPU_ERROR_MISSING_FILE
      && strstr (e.message, "no-such.xclbin"), "a missing xclbin: %s",
      e.message);
  ops->close (dev);

  /* faults */
  static const struct {
    const char *opts;
    npu_status status;
  } opens[] = {
    {"fail-open=no-device", NPU_ERROR_NO_DEVICE},
    {"fail-open=driver", NPU_ERROR_DRIVER},
    {"fail-open=memlock", NPU_ERROR_MEMLOCK},
    {"gen=xdna3", NPU_ERROR_BAD_ARGUMENT},
    {"colour=blue", NPU_ERROR_BAD_ARGUMENT},
  };
  for (size_t i = 0; i < G_N_ELEMENTS (opens); i++) {
    CHECK (ops->open (opens[i].opts, &e) == NULL
        && e.status == opens[i].status, "open (%s): %s", opens[i].opts,
        npu_status_name (e.status));
  }
  static const struct {
    const char *opts;
    npu_status status;
  } runs[] = {
    {"fault=timeout,fault-after=1", NPU_ERROR_TIMEOUT},
    {"fault=error,fault-after=1", NPU_ERROR_RUN},
  };
  for (size_t i = 0; i < G_N_ELEMENTS (runs); i++) {
    dev = ops->open (runs[i].opts, &e);
    npu_program_desc d = desc_in (dir, shapes[0].name, 256, 128, 256, 64, x,
        in);
    npu_program *p = dev ? ops->load_program (dev, &d, &e) : NULL;
    npu_buffer *a = p ? ops->alloc (p, NPU_ARG_A, 256 * 128, &e) : NULL;
    npu_buffer *b = p ? ops->alloc (p, NPU_ARG_B, 256 * 128, &e) : NULL;
    npu_buffer *c = p ? ops->alloc (p, NPU_ARG_C, 256 * 256 * 4, &e) : NULL;
    CHECK (c != NULL, "%s: %s", runs[i].opts, e.message);
    if (!c)
      continue;
    CHECK (ops->run (p, a, b, c, 100, &e) == NPU_OK, "first run fails");
    CHECK (ops->run (p, a, b, c, 100, &e) == runs[i].status,
        "%s: status %s", runs[i].opts, npu_status_name (e.status));
    ops->close (dev);
  }
  test_dir_remove (dir);

  /* $WHISPER_NPU_DEVICE */
  void *module;
  const char *options;
  CHECK (npu_device_ops_for ("emulated:gen=xdna2", &module, &options, &e)
      == ops && module == NULL && options
      && strcmp (options, "gen=xdna2") == 0, "emulated:gen=xdna2");
  CHECK (npu_device_ops_for ("tpu", &module, &options, &e) == NULL
      && e.status == NPU_ERROR_BAD_ARGUMENT, "tpu is taken");
  g_setenv ("WHISPER_NPU_XRT_MODULE", "/nonexistent/libwhisper-npu-xrt.so",
      TRUE);
  CHECK (npu_device_ops_for (NULL, &module, &options, &e) == NULL
      && e.status == NPU_ERROR_NO_DEVICE
      && strstr (e.message, "/nonexistent/"), "a missing module: %s",
      e.message);
  g_unsetenv ("WHISPER_NPU_XRT_MODULE");
}

/* A program of 3 GEMMs per run with packed operands: each GEMM of the
 * batch right, B read from A's buffer at b_offset, no B buffer of its
 * own, a sync of A alone leaving B stale, offsets that overlap refused */
static void
test_packed_batch (void)
{
  const npu_device_ops *ops = npu_emulated_device_ops ();
  npu_error e = { 0 };
  enum { BATCH = 3, M = 256, K = 64, N = 256, B_OFFSET = 53248 };
  npu_program_desc shape = { "bgemm-3x256x64x256", NULL, NULL, "MLIR_AIE",
    M, K, N, 64, 64, 64, BATCH, B_OFFSET
  };
  char *dir = write_dir (&shape, 1);
  npu_device *dev = ops->open ("threads=2", &e);
  char x[4096], in[4096];
  npu_program_desc d = desc_in (dir, shape.name, M, K, N, 64, x, in);
  d.batch = BATCH;
  d.b_offset = B_OFFSET;
  npu_program *p = dev ? ops->load_program (dev, &d, &e) : NULL;
  CHECK (p != NULL, "load %s: %s", d.name, e.message);
  if (!p) {
    test_dir_remove (dir);
    return;
  }
  const size_t a_per = (size_t) M * K, b_per = (size_t) K * N,
      c_per = (size_t) M * N;
  CHECK (npu_arg_bytes (&d, NPU_ARG_A) == B_OFFSET + BATCH * b_per
      && npu_arg_bytes (&d, NPU_ARG_B) == 0
      && npu_arg_bytes (&d, NPU_ARG_C) == BATCH * c_per * 4
      && npu_arg_index (&d, NPU_ARG_C) == 4, "packed sizes and arguments");
  CHECK (ops->alloc (p, NPU_ARG_B, BATCH * b_per, &e) == NULL
      && e.status == NPU_ERROR_BAD_ARGUMENT, "a B buffer of packed operands");
  npu_buffer *ab = ops->alloc (p, NPU_ARG_A, npu_arg_bytes (&d, NPU_ARG_A),
      &e);
  npu_buffer *c = ops->alloc (p, NPU_ARG_C, BATCH * c_per * 4, &e);
  CHECK (ab && c, "alloc: %s", e.message);
  int8_t *host = ops->map (ab);
  int32_t *ch = ops->map (c);
  for (size_t i = 0; i < BATCH * a_per; i++)
    host[i] = rand_s8 ();
  /* the gap between A and B is never read */
  memset (host + BATCH * a_per, 0x7f, B_OFFSET - BATCH * a_per);
  for (size_t i = 0; i < BATCH * b_per; i++)
    host[B_OFFSET + i] = rand_s8 ();
  int32_t *want = g_new (int32_t, BATCH * c_per);
  for (int h = 0; h < BATCH; h++)
    npu_golden_gemm_s8s32 (want + h * c_per, host + h * a_per,
        host + B_OFFSET + h * b_per, M, K, N);
  CHECK (ops->run (p, ab, c, c, 1000, &e) == NPU_ERROR_BAD_ARGUMENT,
      "a B buffer given to a packed program");
  ops->sync (ab, NPU_SYNC_TO_DEVICE, 0, 0, &e);
  CHECK (ops->run (p, ab, NULL, c, 1000, &e) == NPU_OK, "run: %s",
      e.message);
  ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &e);
  for (int h = 0; h < BATCH; h++)
    CHECK (memcmp (ch + h * c_per, want + h * c_per, c_per * 4) == 0,
        "GEMM %d of the batch differs from the golden GEMM", h);
  /* new B on the host, only A synced: the device keeps the old B */
  for (size_t i = 0; i < BATCH * b_per; i++)
    host[B_OFFSET + i] = rand_s8 ();
  ops->sync (ab, NPU_SYNC_TO_DEVICE, BATCH * a_per, 0, &e);
  ops->run (p, ab, NULL, c, 1000, &e);
  ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &e);
  CHECK (memcmp (ch, want, BATCH * c_per * 4) == 0, "B changed without a "
      "sync of its bytes");
  ops->sync (ab, NPU_SYNC_TO_DEVICE, 0, 0, &e);
  ops->run (p, ab, NULL, c, 1000, &e);
  ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &e);
  npu_golden_gemm_s8s32 (want + 2 * c_per, host + 2 * a_per,
      host + B_OFFSET + 2 * b_per, M, K, N);
  CHECK (memcmp (ch + 2 * c_per, want + 2 * c_per, c_per * 4) == 0,
      "the new B after its sync");
  g_free (want);

  /* B over A, or off a page */
  static const size_t bad_offsets[] = { BATCH * a_per - 4096, B_OFFSET + 64 };
  for (size_t i = 0; i < G_N_ELEMENTS (bad_offsets); i++) {
    npu_program_desc bad = d;
    bad.b_offset = bad_offsets[i];
    CHECK (!ops->load_program (dev, &bad, &e)
        && e.status == NPU_ERROR_BAD_SHAPE, "B at %zu is taken",
        bad_offsets[i]);
  }
  ops->close (dev);
  test_dir_remove (dir);
}

/* ------------------------------------------------------------------------ */

static whisper_encoder *
encoder (const whisper_model * m, whisper_backend backend, const char *dir,
    gboolean fallback, GError ** error)
{
  whisper_encoder_params p = whisper_encoder_default_params ();
  p.backend = backend;
  p.compute_type = WHISPER_COMPUTE_INT8;
  p.n_threads = 2;
  p.npu_kernel_dir = dir;
  p.npu_fallback = fallback;
  p.int8_attention = TRUE;    /* the NPU's arithmetic, on the CPU too */
  return whisper_encoder_new (m, &p, error);
}

static int
test_encoder (void)
{
  GError *err = NULL;
  char *path = whisper_model_resolve ("tiny.en", &err);
  whisper_model *m = path ? whisper_model_load (path, &err) : NULL;
  g_free (path);
  int n_frames = 0;
  float *frames = m ? speech_frames (m->hp.n_mels, &n_frames) : NULL;
  if (!frames) {
    printf ("SKIP encoder part: %s\n", m ? "no test audio" : err->message);
    g_clear_error (&err);
    whisper_model_free (m);
    return 77;
  }
  const int C = m->hp.n_audio_state, A = m->hp.n_audio_ctx,
      L = m->hp.n_audio_layer, H = m->hp.n_audio_head;
  npu_program_desc descs[NPU_ENCODER_MAX_PROGRAMS];
  char names[NPU_ENCODER_MAX_PROGRAMS][32];
  const int n = npu_encoder_programs (m->hp.n_mels, C, H, "xdna1", descs,
      names);
  CHECK (n == NPU_ENCODER_MAX_PROGRAMS, "no programs for tiny.en");
  char *dir = write_dir (descs, n);
  const size_t n_out = (size_t) A * C;
  float *cpu_out = g_new (float, n_out), *npu_out = g_new (float, n_out);

  whisper_encoder *cpu = encoder (m, WHISPER_BACKEND_CPU, NULL, FALSE, &err);
  CHECK (cpu && whisper_encoder_encode_window (cpu, frames, n_frames,
          cpu_out, &err), "cpu int8: %s", err ? err->message : "");
  g_clear_error (&err);

  g_setenv ("WHISPER_NPU_DEVICE", "emulated", TRUE);
  whisper_encoder *npu = encoder (m, WHISPER_BACKEND_NPU, dir, FALSE, &err);
  CHECK (npu != NULL, "npu: %s", err ? err->message : "");
  g_clear_error (&err);
  if (npu) {
    CHECK (whisper_encoder_get_backend (npu) == WHISPER_BACKEND_NPU
        && strstr (whisper_encoder_get_device (npu), "emulated"),
        "not on the emulated NPU");
    npu_counters k0, k1, k2;
    whisper_encoder_get_npu_counters (npu, &k0);
    for (int w = 0; w < 2; w++) {
      CHECK (whisper_encoder_encode_window (npu, frames, n_frames, npu_out,
              &err), "npu window %d: %s", w, err ? err->message : "");
      g_clear_error (&err);
      CHECK (memcmp (cpu_out, npu_out, n_out * sizeof (float)) == 0,
          "window %d: the NPU's output differs from the CPU's int8", w);
      whisper_encoder_get_npu_counters (npu, w ? &k2 : &k1);
    }
    /* per window: conv1 + 4 projections per block, and per block the 2
     * attention products for all its heads at once; every run one sync
     * each way (attention's packed operands: A and B in one) */
    const uint64_t per_window = 1 + 4 * (uint64_t) L + 2 * (uint64_t) L;
    CHECK (k2.runs - k1.runs == per_window && k1.runs - k0.runs == per_window,
        "%" G_GUINT64_FORMAT " runs in a window, not %" G_GUINT64_FORMAT,
        k2.runs - k1.runs, per_window);
    CHECK (k2.syncs_to_device - k1.syncs_to_device == per_window
        && k2.syncs_from_device - k1.syncs_from_device == per_window,
        "syncs per window: %" G_GUINT64_FORMAT " to, %" G_GUINT64_FORMAT
        " from", k2.syncs_to_device - k1.syncs_to_device,
        k2.syncs_from_device - k1.syncs_from_device);
    CHECK (k2.buffer_allocs == k0.buffer_allocs
        && k2.instruction_loads == k0.instruction_loads
        && k0.instruction_loads == (uint64_t) n,
        "allocations or loads after start: %" G_GUINT64_FORMAT " allocs, %"
        G_GUINT64_FORMAT " loads", k2.buffer_allocs - k0.buffer_allocs,
        k2.instruction_loads);
    printf ("tiny.en on the emulated NPU: %" G_GUINT64_FORMAT " runs, %.1f "
        "MB to and %.1f MB from the device per window; modelled xdna1 time "
        "%.1f ms per window (a model, not a measurement)\n",
        k2.runs - k1.runs, (k2.bytes_to_device - k1.bytes_to_device) / 1e6,
        (k2.bytes_from_device - k1.bytes_from_device) / 1e6,
        (k2.modelled_seconds - k1.modelled_seconds) * 1e3);
    whisper_encoder_free (npu);
  }

  /* a device that lies is caught by the self-test at start */
  static const char *const liars[] = { "emulated:fault=zeros",
    "emulated:fault=corrupt"
  };
  for (size_t i = 0; i < G_N_ELEMENTS (liars); i++) {
    g_setenv ("WHISPER_NPU_DEVICE", liars[i], TRUE);
    npu = encoder (m, WHISPER_BACKEND_NPU, dir, FALSE, &err);
    CHECK (!npu && err && err->code == WHISPER_ERROR_DEVICE
        && strstr (err->message, "self-test"), "%s: %s", liars[i],
        err ? err->message : "accepted");
    g_clear_error (&err);
    whisper_encoder_free (npu);
    /* AUTO takes the CPU and says why */
    npu = encoder (m, WHISPER_BACKEND_AUTO, dir, FALSE, &err);
    CHECK (npu && whisper_encoder_get_backend (npu) == WHISPER_BACKEND_CPU
        && strstr (whisper_encoder_get_backend_reason (npu), "self-test"),
        "auto with %s", liars[i]);
    g_clear_error (&err);
    whisper_encoder_free (npu);
  }

  /* a fault after the start: an error, or the CPU takes over */
  g_setenv ("WHISPER_NPU_DEVICE", "emulated:fault=timeout,fault-after=15",
      TRUE);
  for (int fallback = 0; fallback < 2; fallback++) {
    npu = encoder (m, WHISPER_BACKEND_NPU, dir, fallback, &err);
    CHECK (npu != NULL, "start: %s", err ? err->message : "");
    g_clear_error (&err);
    if (!npu)
      continue;
    const gboolean ok = whisper_encoder_encode_window (npu, frames, n_frames,
        npu_out, &err);
    if (fallback) {
      CHECK (ok && memcmp (cpu_out, npu_out, n_out * sizeof (float)) == 0
          && whisper_encoder_get_backend (npu) == WHISPER_BACKEND_CPU
          && strstr (whisper_encoder_get_backend_reason (npu), "timeout"),
          "fallback: %s", err ? err->message : "wrong output");
    } else {
      CHECK (!ok && err && err->code == WHISPER_ERROR_DEVICE
          && strstr (err->message, "timeout"), "timeout: %s",
          err ? err->message : "no error");
    }
    g_clear_error (&err);
    whisper_encoder_free (npu);
  }
  /* float32 cannot run on the NPU */
  whisper_encoder_params p = whisper_encoder_default_params ();
  p.backend = WHISPER_BACKEND_NPU;
  p.compute_type = WHISPER_COMPUTE_FLOAT32;
  CHECK (!whisper_encoder_new (m, &p, &err) && err
      && err->code == WHISPER_ERROR_ARGUMENT, "npu + float32 is taken");
  g_clear_error (&err);
  g_unsetenv ("WHISPER_NPU_DEVICE");

  whisper_encoder_free (cpu);
  g_free (cpu_out);
  g_free (npu_out);
  g_free (frames);
  test_dir_remove (dir);
  whisper_model_free (m);
  return 0;
}

int
main (void)
{
  test_device ();
  test_packed_batch ();
  const int enc = test_encoder ();
  if (failures) {
    fprintf (stderr, "%d failures\n", failures);
    return 1;
  }
  printf ("all passed%s\n", enc == 77 ? " (encoder part skipped)" : "");
  return 0;
}
