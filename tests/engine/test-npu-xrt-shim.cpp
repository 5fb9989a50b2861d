/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The XRT shim (npu-backend/xrt/xrt-shim.cpp, its real source) on the
 * stand-in XRT of tests/xrt-standin: GEMM results against the golden GEMM,
 * the XRT calls it makes (groups, flags, opcode, word count, one register
 * and context per xclbin, one xrt::run per program), its counters and its
 * errors; batched programs, with packed operands (A and B in one bo) or
 * not.  Then the same through the whisper-npu-xrt-standin module,
 * opened with dlopen() as npu-load.c opens the real one. */
#include "npu-device.h"
#include "npu-golden.h"
#include "xrt-standin.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

extern "C" const npu_device_ops *whisper_npu_device_ops (void);

namespace {

int failures = 0;

#define CHECK(cond, ...) do { \
    if (!(cond)) { \
      failures++; \
      std::fprintf (stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf (stderr, __VA_ARGS__); \
      std::fputc ('\n', stderr); \
    } \
  } while (0)

/* the stand-in's ert_cmd_state values (xrt/detail/ert.h) */
const int ERT_TIMEOUT = 8;
const int ERT_ERROR = 5;
const uint32_t FLAG_CACHEABLE = 1u << 24;
const uint32_t FLAG_HOST_ONLY = 1u << 29;

const npu_device_ops *ops;
std::string tmpdir;

struct files {
  std::string xclbin, insts;
  size_t insts_bytes;
};

/* a stand-in program in the temporary directory: @tag names the files;
 * @batch GEMMs per run, packed with B at @b_offset or not (0) */
files
write_program (const char *tag, int M, int K, int N, int pad_words,
    const char *kernel = "MLIR_AIE", int extra_bytes = 0, int batch = 1,
    size_t b_offset = 0)
{
  files f;
  f.xclbin = tmpdir + "/" + tag + ".xclbin";
  f.insts = tmpdir + "/" + tag + ".insts";
  f.insts_bytes = 4 * (size_t) (6 + pad_words) + extra_bytes;
  if (xrt_standin_write_program (f.xclbin.c_str (), f.insts.c_str (), kernel,
          M, K, N, batch, b_offset, pad_words, extra_bytes) != 0) {
    std::fprintf (stderr, "cannot write %s\n", f.insts.c_str ());
    std::exit (1);
  }
  return f;
}

npu_program_desc
desc_of (const files & f, const char *name, int M, int K, int N, int tm,
    int tk, int tn, int batch = 0, size_t b_offset = 0)
{
  npu_program_desc d = {};
  d.name = name;
  d.xclbin_path = f.xclbin.c_str ();
  d.insts_path = f.insts.c_str ();
  d.kernel_name = "MLIR_AIE";
  d.M = M;
  d.K = K;
  d.N = N;
  d.tile_m = tm;
  d.tile_k = tk;
  d.tile_n = tn;
  d.batch = batch;
  d.b_offset = b_offset;
  return d;
}

uint32_t rng = 12345;

int8_t
rand8 ()
{
  rng = rng * 1664525u + 1013904223u;
  return (int8_t) (rng >> 24);
}

void
fill (int8_t * p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    p[i] = rand8 ();
  /* the extremes, whose products are the largest sums */
  if (n > 2) {
    p[0] = -128;
    p[n - 1] = 127;
  }
}

bool
all_zero (const void *p, size_t n)
{
  const unsigned char *b = (const unsigned char *) p;
  for (size_t i = 0; i < n; i++)
    if (b[i])
      return false;
  return true;
}

/* Loads one shape, runs it and compares C with the golden GEMM, three
 * times: fresh A and B; new A with B left on the device; A changed on the
 * host without a sync (the device keeps the old A: the shim syncs only
 * when asked). */
void
gemm_case (npu_device * dev, int M, int K, int N, int tm, int tk, int tn)
{
  char tag[64], name[64];
  std::snprintf (tag, sizeof tag, "gemm-%dx%dx%d", M, K, N);
  std::snprintf (name, sizeof name, "gemm-%dx%dx%d", M, K, N);
  const files f = write_program (tag, M, K, N, 37);
  const npu_program_desc d = desc_of (f, name, M, K, N, tm, tk, tn);
  npu_error err;
  npu_program *prog = ops->load_program (dev, &d, &err);
  CHECK (prog, "%s: %s", name, err.message);
  if (!prog)
    return;
  npu_buffer *a = ops->alloc (prog, NPU_ARG_A, (size_t) M * K, &err);
  npu_buffer *b = ops->alloc (prog, NPU_ARG_B, (size_t) K * N, &err);
  npu_buffer *c = ops->alloc (prog, NPU_ARG_C, (size_t) M * N * 4, &err);
  CHECK (a && b && c, "%s: alloc: %s", name, err.message);
  if (!a || !b || !c)
    return;
  int8_t *ha = (int8_t *) ops->map (a), *hb = (int8_t *) ops->map (b);
  int32_t *hc = (int32_t *) ops->map (c);
  CHECK (all_zero (ha, (size_t) M * K) && all_zero (hb, (size_t) K * N)
      && all_zero (hc, (size_t) M * N * 4), "%s: host copies not zeroed",
      name);

  std::vector<int32_t> want ((size_t) M * N);
  std::vector<int8_t> a_on_device ((size_t) M * K);
  for (int round = 0; round < 3; round++) {
    if (round < 2)
      fill (ha, (size_t) M * K);
    if (round == 0)
      fill (hb, (size_t) K * N);
    if (round < 2) {
      CHECK (ops->sync (a, NPU_SYNC_TO_DEVICE, 0, 0, &err) == NPU_OK, "%s",
          err.message);
      std::memcpy (a_on_device.data (), ha, a_on_device.size ());
    } else
      fill (ha, (size_t) M * K);   /* not synced */
    if (round == 0)
      CHECK (ops->sync (b, NPU_SYNC_TO_DEVICE, 0, 0, &err) == NPU_OK, "%s",
          err.message);
    std::memset (hc, 0x77, (size_t) M * N * 4);
    const npu_status st = ops->run (prog, a, b, c, 1000, &err);
    CHECK (st == NPU_OK, "%s round %d: run: %s (%s)", name, round,
        npu_status_name (st), err.message);
    /* run() leaves C's host copy alone */
    bool untouched = true;
    for (size_t i = 0; i < (size_t) M * N; i++)
      untouched = untouched && hc[i] == 0x77777777;
    CHECK (untouched, "%s round %d: C's host copy changed without a sync",
        name, round);
    CHECK (ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &err) == NPU_OK, "%s",
        err.message);
    npu_golden_gemm_s8s32 (want.data (), a_on_device.data (), hb, M, K, N);
    size_t bad = 0;
    for (size_t i = 0; i < want.size (); i++)
      bad += hc[i] != want[i];
    CHECK (bad == 0, "%s round %d: %zu of %zu results differ from the "
        "golden GEMM", name, round, bad, want.size ());
  }
  ops->free_program (prog);   /* and its buffers */
}

void
test_gemm ()
{
  xrt_standin_reset ();
  npu_error err;
  npu_device *dev = ops->open (NULL, &err);
  CHECK (dev, "open: %s", err.message);
  if (!dev)
    return;
  CHECK (std::strcmp (ops->describe (dev), "XRT device 0: Stand-in NPU")
      == 0, "describe: \"%s\"", ops->describe (dev));
  gemm_case (dev, 64, 64, 64, 64, 64, 64);
  gemm_case (dev, 128, 192, 64, 64, 64, 64);
  gemm_case (dev, 64, 384, 256, 32, 64, 64);
  gemm_case (dev, 48, 40, 24, 16, 8, 8);
  gemm_case (dev, 256, 64, 320, 64, 32, 64);
  ops->close (dev);
  xrt_standin_counts n;
  xrt_standin_get_counts (&n);
  CHECK (n.bos_live == 0, "%u bos alive after close", n.bos_live);
}

/* The calls the shim makes, read from the stand-in's log. */
void
test_call_sequence ()
{
  xrt_standin_reset ();
  const files f1 = write_program ("seq1", 64, 64, 64, 61);
  const files f1b = write_program ("seq1b", 64, 128, 64, 5);
  const files f2 = write_program ("seq2", 128, 64, 64, 200);
  npu_program_desc d1 = desc_of (f1, "p1", 64, 64, 64, 64, 64, 64);
  /* p1b: another instruction sequence in the same xclbin */
  npu_program_desc d1b = desc_of (f1b, "p1b", 64, 128, 64, 64, 64, 64);
  d1b.xclbin_path = d1.xclbin_path;
  npu_program_desc d2 = desc_of (f2, "p2", 128, 64, 64, 64, 64, 64);

  npu_error err;
  npu_device *dev = ops->open ("0", &err);
  CHECK (dev, "open \"0\": %s", err.message);
  if (!dev)
    return;
  npu_program *p1 = ops->load_program (dev, &d1, &err);
  CHECK (p1, "p1: %s", err.message);
  npu_program *p1b = ops->load_program (dev, &d1b, &err);
  CHECK (p1b, "p1b: %s", err.message);
  npu_program *p2 = ops->load_program (dev, &d2, &err);
  CHECK (p2, "p2: %s", err.message);
  if (!p1 || !p1b || !p2)
    return;

  xrt_standin_counts n;
  xrt_standin_get_counts (&n);
  CHECK (n.devices_opened == 1, "%u devices opened", n.devices_opened);
  CHECK (n.registers == 2, "%u register_xclbin calls for 2 xclbins",
      n.registers);
  CHECK (n.hw_contexts == 2, "%u hw_contexts for 2 xclbins", n.hw_contexts);
  CHECK (n.xclbins_read == 2, "%u xclbins read for 2", n.xclbins_read);
  CHECK (n.kernels == 3, "%u kernels for 3 programs", n.kernels);
  CHECK (n.run_objects == 3, "%u xrt::run for 3 programs", n.run_objects);
  CHECK (n.device_name_queries == 1, "%u name queries",
      n.device_name_queries);

  /* the instruction bos, in load order: cacheable, group 1, the file's
   * bytes, synced once to the device */
  const files *fs[3] = { &f1, &f1b, &f2 };
  int ids[6] = { -1, -1, -1, -1, -1, -1 };   /* bo ids: insts x3, A B C */
  CHECK (xrt_standin_n_bos () == 3, "%zu bos after 3 loads",
      xrt_standin_n_bos ());
  for (int i = 0; i < 3; i++) {
    xrt_standin_bo_record bo;
    if (xrt_standin_get_bo (i, &bo) != 0)
      continue;
    ids[i] = bo.id;
    CHECK (bo.flags == FLAG_CACHEABLE, "insts bo %d flags 0x%x", i,
        bo.flags);
    CHECK (bo.group == XRT_STANDIN_GROUP (1), "insts bo %d group 0x%x", i,
        bo.group);
    CHECK (bo.size == fs[i]->insts_bytes, "insts bo %d: %zu bytes, file %zu",
        i, bo.size, fs[i]->insts_bytes);
    xrt_standin_sync_record s;
    CHECK (xrt_standin_get_sync (i, &s) == 0 && s.bo == bo.id
        && s.direction == 0 && s.size == bo.size && s.offset == 0,
        "insts bo %d not synced whole to the device at load", i);
  }
  CHECK (xrt_standin_n_syncs () == 3, "%zu syncs after 3 loads",
      xrt_standin_n_syncs ());

  /* p1's buffers: host_only in groups 3, 4, 5 */
  npu_buffer *a = ops->alloc (p1, NPU_ARG_A, 64 * 64, &err);
  npu_buffer *b = ops->alloc (p1, NPU_ARG_B, 64 * 64, &err);
  npu_buffer *c = ops->alloc (p1, NPU_ARG_C, 64 * 64 * 4, &err);
  CHECK (a && b && c, "alloc: %s", err.message);
  if (!a || !b || !c)
    return;
  const size_t sizes[3] = { 64 * 64, 64 * 64, 64 * 64 * 4 };
  for (int i = 0; i < 3; i++) {
    xrt_standin_bo_record bo;
    CHECK (xrt_standin_get_bo (3 + i, &bo) == 0, "no bo %d", 3 + i);
    ids[3 + i] = bo.id;
    CHECK (bo.flags == FLAG_HOST_ONLY, "buffer %d flags 0x%x", i, bo.flags);
    CHECK (bo.group == XRT_STANDIN_GROUP (3 + i), "buffer %d group 0x%x", i,
        bo.group);
    CHECK (bo.size == sizes[i], "buffer %d: %zu bytes", i, bo.size);
  }

  fill ((int8_t *) ops->map (a), 64 * 64);
  fill ((int8_t *) ops->map (b), 64 * 64);
  CHECK (ops->sync (a, NPU_SYNC_TO_DEVICE, 0, 0, &err) == NPU_OK, "%s",
      err.message);
  CHECK (ops->sync (b, NPU_SYNC_TO_DEVICE, 0, 0, &err) == NPU_OK, "%s",
      err.message);
  /* part of a buffer: the range goes to XRT as it is */
  CHECK (ops->sync (a, NPU_SYNC_TO_DEVICE, 64, 128, &err) == NPU_OK, "%s",
      err.message);
  const int runs = 6;
  for (int i = 0; i < runs; i++) {
    CHECK (ops->run (p1, a, b, c, 250 + i, &err) == NPU_OK, "run %d: %s", i,
        err.message);
    CHECK (ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &err) == NPU_OK, "%s",
        err.message);
  }
  /* the syncs: A whole, B whole, A [128, 192), then C from the device */
  struct {
    int bo, dir;
    size_t size, offset;
  } want_syncs[] = {
    { ids[3], 0, 4096, 0 }, { ids[4], 0, 4096, 0 }, { ids[3], 0, 64, 128 },
    { ids[5], 1, 16384, 0 },
  };
  for (int i = 0; i < 4; i++) {
    xrt_standin_sync_record s;
    CHECK (xrt_standin_get_sync (3 + i, &s) == 0
        && s.bo == want_syncs[i].bo && s.direction == want_syncs[i].dir
        && s.size == want_syncs[i].size && s.offset == want_syncs[i].offset,
        "sync %d: bo %d dir %d [%zu +%zu]", i, s.bo, s.direction, s.offset,
        s.size);
  }
  CHECK (xrt_standin_n_syncs () == (size_t) 3 + 3 + runs, "%zu syncs",
      xrt_standin_n_syncs ());

  xrt_standin_get_counts (&n);
  CHECK (n.run_objects == 3, "%u xrt::run after %d runs: not reused",
      n.run_objects, runs);
  CHECK (n.starts == (unsigned) runs && n.waits == (unsigned) runs,
      "%u starts, %u waits for %d runs", n.starts, n.waits, runs);
  CHECK (xrt_standin_n_runs () == (size_t) runs, "%zu run records",
      xrt_standin_n_runs ());
  int first_object = -1;
  for (int i = 0; i < runs; i++) {
    xrt_standin_run_record r;
    if (xrt_standin_get_run (i, &r) != 0)
      continue;
    if (i == 0)
      first_object = r.run_object;
    CHECK (r.run_object == first_object, "run %d on xrt::run %d, not %d", i,
        r.run_object, first_object);
    CHECK (r.opcode == 3, "run %d: opcode %u", i, r.opcode);
    CHECK (r.word_count == f1.insts_bytes / 4, "run %d: instruction count "
        "%llu, the file has %zu words (%zu bytes)", i,
        (unsigned long long) r.word_count, f1.insts_bytes / 4,
        f1.insts_bytes);
    CHECK (r.word_count_bytes == 4, "run %d: count passed in %zu bytes", i,
        r.word_count_bytes);
    CHECK (r.bo[1] == ids[0] && r.bo[3] == ids[3] && r.bo[4] == ids[4]
        && r.bo[5] == ids[5],
        "run %d: bos %d %d %d %d", i, r.bo[1], r.bo[3], r.bo[4], r.bo[5]);
    CHECK (r.group[1] == XRT_STANDIN_GROUP (1)
        && r.group[3] == XRT_STANDIN_GROUP (3)
        && r.group[4] == XRT_STANDIN_GROUP (4)
        && r.group[5] == XRT_STANDIN_GROUP (5),
        "run %d: groups 0x%x 0x%x 0x%x 0x%x", i, r.group[1], r.group[3],
        r.group[4], r.group[5]);
    CHECK (r.bo[0] == -1 && r.bo[2] == -1, "run %d: a bo on a scalar", i);
    CHECK (r.timeout_ms == (unsigned) (250 + i), "run %d: waited %u ms", i,
        r.timeout_ms);
    CHECK (r.state == 4 && r.M == 64 && r.K == 64 && r.N == 64
        && r.batch == 1 && r.b_offset == 0,
        "run %d: state %d, %d x %dx%dx%d, B at %zu", i, r.state, r.batch,
        r.M, r.K, r.N, r.b_offset);
  }

  /* the counters */
  npu_counters k;
  ops->get_counters (dev, &k);
  CHECK (k.runs == (uint64_t) runs, "runs %llu", (unsigned long long) k.runs);
  CHECK (k.syncs_to_device == 3 && k.bytes_to_device == 4096 + 4096 + 64,
      "to device: %llu syncs, %llu bytes",
      (unsigned long long) k.syncs_to_device,
      (unsigned long long) k.bytes_to_device);
  CHECK (k.syncs_from_device == (uint64_t) runs
      && k.bytes_from_device == (uint64_t) runs * 16384,
      "from device: %llu syncs, %llu bytes",
      (unsigned long long) k.syncs_from_device,
      (unsigned long long) k.bytes_from_device);
  CHECK (k.buffer_allocs == 3, "buffer_allocs %llu",
      (unsigned long long) k.buffer_allocs);
  CHECK (k.instruction_loads == 3, "instruction_loads %llu",
      (unsigned long long) k.instruction_loads);
  CHECK (k.contexts == 2, "contexts %llu", (unsigned long long) k.contexts);
  CHECK (k.modelled_seconds == 0, "modelled_seconds %g", k.modelled_seconds);

  /* a program loaded again after its xclbin's first: no new register */
  ops->free_program (p1b);
  p1b = ops->load_program (dev, &d1b, &err);
  CHECK (p1b, "p1b again: %s", err.message);
  xrt_standin_get_counts (&n);
  CHECK (n.registers == 2 && n.hw_contexts == 2, "%u registers, %u contexts "
      "after reloading a program", n.registers, n.hw_contexts);
  ops->get_counters (dev, &k);
  CHECK (k.contexts == 2 && k.instruction_loads == 4, "contexts %llu, "
      "instruction_loads %llu", (unsigned long long) k.contexts,
      (unsigned long long) k.instruction_loads);
  ops->close (dev);
  xrt_standin_get_counts (&n);
  CHECK (n.bos_live == 0, "%u bos alive after close", n.bos_live);
}

npu_status
load_status (npu_device * dev, const npu_program_desc & d, npu_error * err,
    npu_program ** out = NULL)
{
  npu_program *p = ops->load_program (dev, &d, err);
  if (out)
    *out = p;
  else if (p)
    ops->free_program (p);
  return p ? NPU_OK : err->status;
}

bool
has (const npu_error & err, const char *what)
{
  return std::strstr (err.message, what) != NULL;
}

void
test_errors ()
{
  xrt_standin_reset ();
  npu_error err;
  npu_device *dev = ops->open (NULL, &err);
  CHECK (dev, "open: %s", err.message);
  if (!dev)
    return;
  const files f = write_program ("err", 64, 64, 64, 9);
  npu_program_desc d = desc_of (f, "err", 64, 64, 64, 64, 64, 64);

  /* files */
  npu_program_desc m = d;
  const std::string missing = tmpdir + "/absent.xclbin";
  m.xclbin_path = missing.c_str ();
  CHECK (load_status (dev, m, &err) == NPU_ERROR_MISSING_FILE
      && has (err, missing.c_str ()), "missing xclbin: %s", err.message);
  m = d;
  const std::string missing_insts = tmpdir + "/absent.insts";
  m.insts_path = missing_insts.c_str ();
  CHECK (load_status (dev, m, &err) == NPU_ERROR_MISSING_FILE
      && has (err, missing_insts.c_str ()), "missing insts: %s",
      err.message);
  for (int extra = 1; extra <= 3; extra++) {
    char tag[32];
    std::snprintf (tag, sizeof tag, "short%d", extra);
    const files s = write_program (tag, 64, 64, 64, 9, "MLIR_AIE", extra);
    const npu_program_desc sd = desc_of (s, tag, 64, 64, 64, 64, 64, 64);
    CHECK (load_status (dev, sd, &err) == NPU_ERROR_BAD_PROGRAM
        && has (err, s.insts.c_str ()) && has (err, "32-bit words"),
        "insts of %zu bytes: %s", s.insts_bytes, err.message);
  }
  {
    const std::string empty = tmpdir + "/empty.insts";
    FILE *e = std::fopen (empty.c_str (), "wb");
    if (e)
      std::fclose (e);
    m = d;
    m.insts_path = empty.c_str ();
    CHECK (load_status (dev, m, &err) == NPU_ERROR_BAD_PROGRAM,
        "empty insts: %s", err.message);
  }
  /* an instruction file for an xclbin: not an xclbin */
  m = d;
  m.xclbin_path = d.insts_path;
  CHECK (load_status (dev, m, &err) == NPU_ERROR_BAD_PROGRAM
      && has (err, d.insts_path), "not an xclbin: %s", err.message);
  m = d;
  m.kernel_name = "NO_SUCH_KERNEL";
  CHECK (load_status (dev, m, &err) == NPU_ERROR_BAD_PROGRAM
      && has (err, "NO_SUCH_KERNEL"), "no such kernel: %s", err.message);

  /* shapes */
  const int bad[][6] = {
    { 96, 64, 64, 64, 64, 64 },   /* M % tile_m */
    { 64, 80, 64, 64, 64, 64 },   /* K % tile_k */
    { 64, 64, 72, 64, 64, 64 },   /* N % tile_n */
    { 64, 64, 64, 0, 64, 64 },
    { 0, 64, 64, 64, 64, 64 },
    { 64, -64, 64, 64, 64, 64 },
  };
  for (const auto &s : bad) {
    m = d;
    m.M = s[0];
    m.K = s[1];
    m.N = s[2];
    m.tile_m = s[3];
    m.tile_k = s[4];
    m.tile_n = s[5];
    CHECK (load_status (dev, m, &err) == NPU_ERROR_BAD_SHAPE
        && has (err, "err"), "shape %dx%dx%d tiles %dx%dx%d: %s (%s)", s[0],
        s[1], s[2], s[3], s[4], s[5], npu_status_name (err.status),
        err.message);
  }
  npu_counters k;
  ops->get_counters (dev, &k);
  CHECK (k.instruction_loads == 0, "%llu instruction loads after failures",
      (unsigned long long) k.instruction_loads);

  /* buffers and runs */
  npu_program *p = NULL, *q = NULL;
  CHECK (load_status (dev, d, &err, &p) == NPU_OK, "%s", err.message);
  CHECK (load_status (dev, d, &err, &q) == NPU_OK, "%s", err.message);
  if (!p || !q)
    return;
  CHECK (!ops->alloc (p, NPU_ARG_A, 64 * 64 + 1, &err)
      && err.status == NPU_ERROR_BAD_ARGUMENT, "A of 4097 bytes: %s",
      err.message);
  CHECK (!ops->alloc (p, NPU_ARG_C, 64 * 64, &err)
      && err.status == NPU_ERROR_BAD_ARGUMENT, "C of 4096 bytes: %s",
      err.message);
  npu_buffer *a = ops->alloc (p, NPU_ARG_A, 64 * 64, &err);
  npu_buffer *b = ops->alloc (p, NPU_ARG_B, 64 * 64, &err);
  npu_buffer *c = ops->alloc (p, NPU_ARG_C, 64 * 64 * 4, &err);
  npu_buffer *qa = ops->alloc (q, NPU_ARG_A, 64 * 64, &err);
  CHECK (a && b && c && qa, "alloc: %s", err.message);
  if (!a || !b || !c || !qa)
    return;
  CHECK (ops->sync (a, NPU_SYNC_TO_DEVICE, 1, 4096, &err)
      == NPU_ERROR_BAD_ARGUMENT, "sync past the end: %s", err.message);
  CHECK (ops->sync (a, NPU_SYNC_TO_DEVICE, 4097, 0, &err)
      == NPU_ERROR_BAD_ARGUMENT, "sync of 4097 bytes: %s", err.message);
  CHECK (ops->run (p, b, a, c, 100, &err) == NPU_ERROR_BAD_ARGUMENT,
      "A and B swapped: %s", err.message);
  CHECK (ops->run (p, qa, b, c, 100, &err) == NPU_ERROR_BAD_ARGUMENT,
      "A of another program: %s", err.message);
  CHECK (ops->run (p, a, b, NULL, 100, &err) == NPU_ERROR_BAD_ARGUMENT,
      "no C: %s", err.message);

  fill ((int8_t *) ops->map (a), 64 * 64);
  fill ((int8_t *) ops->map (b), 64 * 64);
  ops->sync (a, NPU_SYNC_TO_DEVICE, 0, 0, &err);
  ops->sync (b, NPU_SYNC_TO_DEVICE, 0, 0, &err);
  std::vector<int32_t> want (64 * 64);
  npu_golden_gemm_s8s32 (want.data (), (const int8_t *) ops->map (a),
      (const int8_t *) ops->map (b), 64, 64, 64);

  /* a run that hangs: timeout, aborted, and the same xrt::run runs next */
  xrt_standin_next_run_state (ERT_TIMEOUT);
  CHECK (ops->run (p, a, b, c, 20, &err) == NPU_ERROR_TIMEOUT
      && has (err, "20 ms"), "hung run: %s (%s)",
      npu_status_name (err.status), err.message);
  xrt_standin_counts n;
  xrt_standin_get_counts (&n);
  CHECK (n.aborts == 1, "%u aborts after a timeout", n.aborts);
  CHECK (ops->run (p, a, b, c, 1000, &err) == NPU_OK, "run after a timeout: "
      "%s", err.message);
  ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &err);
  CHECK (std::memcmp (ops->map (c), want.data (), 64 * 64 * 4) == 0,
      "wrong C after a timeout");
  /* a run that ends in the error state */
  xrt_standin_next_run_state (ERT_ERROR);
  CHECK (ops->run (p, a, b, c, 1000, &err) == NPU_ERROR_RUN
      && has (err, "error"), "error state: %s (%s)",
      npu_status_name (err.status), err.message);
  CHECK (ops->run (p, a, b, c, 0, &err) == NPU_OK, "run after an error: %s",
      err.message);
  xrt_standin_get_counts (&n);
  CHECK (n.run_objects == 2, "%u xrt::run for 2 programs after faults",
      n.run_objects);
  ops->get_counters (dev, &k);
  /* failed runs count, refused ones (bad arguments) do not */
  CHECK (k.runs == 4, "runs %llu", (unsigned long long) k.runs);

  /* the firmware refusing the xclbin: a new path to register */
  const files f3 = write_program ("err3", 64, 64, 64, 9);
  const npu_program_desc d3 = desc_of (f3, "err3", 64, 64, 64, 64, 64, 64);
  xrt_standin_fail_register ("firmware protocol 6.1 is not supported");
  CHECK (load_status (dev, d3, &err) == NPU_ERROR_DRIVER
      && has (err, "firmware protocol 6.1") && has (err, f3.xclbin.c_str ()),
      "register refused: %s (%s)", npu_status_name (err.status),
      err.message);
  xrt_standin_fail_register (NULL);
  CHECK (load_status (dev, d3, &err) == NPU_OK, "register after a refusal: "
      "%s", err.message);
  ops->close (dev);

  /* opening */
  xrt_standin_set_driver_loaded (0);
  dev = ops->open (NULL, &err);
  CHECK (!dev && err.status == NPU_ERROR_NO_DEVICE && has (err, "amdxdna")
      && has (err, xrt_standin_accel_dir ()), "no driver: %s (%s)",
      npu_status_name (err.status), err.message);
  if (dev)
    ops->close (dev);
  xrt_standin_set_driver_loaded (1);
  xrt_standin_fail_device_open ("XRT 2.19 needs amdxdna firmware 1.5");
  dev = ops->open (NULL, &err);
  CHECK (!dev && err.status == NPU_ERROR_DRIVER
      && has (err, "XRT 2.19 needs amdxdna firmware 1.5"),
      "device open throws: %s (%s)", npu_status_name (err.status),
      err.message);
  if (dev)
    ops->close (dev);
  xrt_standin_fail_device_open (NULL);
  dev = ops->open ("1", &err);
  CHECK (!dev && err.status == NPU_ERROR_DRIVER, "device 1: %s (%s)",
      npu_status_name (err.status), err.message);
  if (dev)
    ops->close (dev);
  dev = ops->open ("zero", &err);
  CHECK (!dev && err.status == NPU_ERROR_BAD_ARGUMENT && has (err, "zero"),
      "options \"zero\": %s (%s)", npu_status_name (err.status),
      err.message);
  if (dev)
    ops->close (dev);
  xrt_standin_get_counts (&n);
  CHECK (n.bos_live == 0, "%u bos alive", n.bos_live);
}

/* How many of C_h [M][N] differ from the golden GEMM of A_h and B_h,
 * h = 0 .. batch-1, each operand's batch back to back; the first h with a
 * difference in *@bad_h (-1: none). */
size_t
batch_mismatches (const int32_t * c, const int8_t * a, const int8_t * b,
    int batch, int M, int K, int N, int *bad_h)
{
  std::vector<int32_t> want ((size_t) M * N);
  size_t bad = 0;
  *bad_h = -1;
  for (int h = 0; h < batch; h++) {
    npu_golden_gemm_s8s32 (want.data (), a + (size_t) h * M * K,
        b + (size_t) h * K * N, M, K, N);
    const int32_t *ch = c + (size_t) h * M * N;
    for (size_t i = 0; i < want.size (); i++)
      if (ch[i] != want[i]) {
        bad++;
        if (*bad_h < 0)
          *bad_h = h;
      }
  }
  return bad;
}

/* Packed operands, as attention's: a batch of 3 GEMMs 64x64x64 per run,
 * A [3][64][64] and B [3][64][64] in one buffer (B at byte 16384, the page
 * after A's 12288 bytes), bound to argument 3, C [3][64][64] to argument
 * 4, argument 5 unbound; both operands change every run, with one sync of
 * the packed buffer. */
void
test_packed_batch ()
{
  xrt_standin_reset ();
  const int M = 64, K = 64, N = 64, batch = 3;
  const size_t b_offset = 16384;
  const size_t a_bytes = (size_t) batch * M * K;    /* 12288 */
  const size_t ab_bytes = b_offset + (size_t) batch * K * N;   /* 28672 */
  const size_t c_bytes = (size_t) batch * M * N * 4;   /* 49152 */
  const files f = write_program ("packed", M, K, N, 23, "MLIR_AIE", 0, batch,
      b_offset);
  const npu_program_desc d = desc_of (f, "bgemm-3x64x64x64", M, K, N, 64, 64,
      64, batch, b_offset);
  CHECK (npu_arg_bytes (&d, NPU_ARG_A) == ab_bytes
      && npu_arg_bytes (&d, NPU_ARG_B) == 0
      && npu_arg_bytes (&d, NPU_ARG_C) == c_bytes, "npu_arg_bytes");

  npu_error err;
  npu_device *dev = ops->open (NULL, &err);
  CHECK (dev, "open: %s", err.message);
  if (!dev)
    return;

  /* offsets the program cannot take: refused at load, nothing loaded */
  const struct {
    size_t b_offset;
    const char *what;
  } bad_offsets[] = {
    { 8192, "overlaps A" },   /* inside A's 12288 bytes */
    { 4096, "overlaps A" },
    { 12289, "multiple of 4096" },
    { 13000, "multiple of 4096" },
  };
  for (const auto &o : bad_offsets) {
    npu_program_desc m = d;
    m.b_offset = o.b_offset;
    CHECK (load_status (dev, m, &err) == NPU_ERROR_BAD_SHAPE
        && has (err, o.what) && has (err, "bgemm-3x64x64x64"),
        "B at %zu: %s (%s)", o.b_offset, npu_status_name (err.status),
        err.message);
  }
  {
    npu_program_desc m = d;
    m.batch = -1;
    CHECK (load_status (dev, m, &err) == NPU_ERROR_BAD_SHAPE
        && has (err, "-1"), "batch -1: %s (%s)",
        npu_status_name (err.status), err.message);
  }
  npu_counters k;
  ops->get_counters (dev, &k);
  CHECK (k.instruction_loads == 0 && xrt_standin_n_bos () == 0,
      "%llu instruction loads, %zu bos after refused descs",
      (unsigned long long) k.instruction_loads, xrt_standin_n_bos ());

  npu_program *p = ops->load_program (dev, &d, &err);
  CHECK (p, "load: %s", err.message);
  if (!p) {
    ops->close (dev);
    return;
  }
  /* B has no buffer of its own; A's is the packed one */
  CHECK (!ops->alloc (p, NPU_ARG_B, (size_t) batch * K * N, &err)
      && err.status == NPU_ERROR_BAD_ARGUMENT && has (err, "packs"),
      "B of a packed program: %s (%s)", npu_status_name (err.status),
      err.message);
  CHECK (!ops->alloc (p, NPU_ARG_B, 0, &err)
      && err.status == NPU_ERROR_BAD_ARGUMENT, "B of 0 bytes: %s (%s)",
      npu_status_name (err.status), err.message);
  CHECK (!ops->alloc (p, NPU_ARG_A, a_bytes, &err)
      && err.status == NPU_ERROR_BAD_ARGUMENT, "A without B's part: %s",
      err.message);
  npu_buffer *ab = ops->alloc (p, NPU_ARG_A, ab_bytes, &err);
  npu_buffer *c = ops->alloc (p, NPU_ARG_C, c_bytes, &err);
  CHECK (ab && c, "alloc: %s", err.message);
  if (!ab || !c) {
    ops->close (dev);
    return;
  }
  /* the bos: instructions, then A+B in argument 3's group, C in 4's */
  CHECK (xrt_standin_n_bos () == 3, "%zu bos", xrt_standin_n_bos ());
  xrt_standin_bo_record bo_ab = {}, bo_c = {};
  xrt_standin_get_bo (1, &bo_ab);
  xrt_standin_get_bo (2, &bo_c);
  CHECK (bo_ab.flags == FLAG_HOST_ONLY && bo_ab.group == XRT_STANDIN_GROUP (3)
      && bo_ab.size == ab_bytes, "packed bo: flags 0x%x group 0x%x, %zu "
      "bytes", bo_ab.flags, bo_ab.group, bo_ab.size);
  CHECK (bo_c.flags == FLAG_HOST_ONLY && bo_c.group == XRT_STANDIN_GROUP (4)
      && bo_c.size == c_bytes, "C bo: flags 0x%x group 0x%x, %zu bytes",
      bo_c.flags, bo_c.group, bo_c.size);

  int8_t *host = (int8_t *) ops->map (ab);
  int8_t *ha = host, *hb = host + b_offset;
  int32_t *hc = (int32_t *) ops->map (c);
  CHECK (all_zero (host, ab_bytes) && all_zero (hc, c_bytes),
      "host copies not zeroed");
  /* a run given a B buffer, or none of A or C: refused, not counted */
  CHECK (ops->run (p, ab, ab, c, 100, &err) == NPU_ERROR_BAD_ARGUMENT,
      "a B for a packed program: %s", err.message);
  CHECK (ops->run (p, ab, NULL, NULL, 100, &err) == NPU_ERROR_BAD_ARGUMENT,
      "no C: %s", err.message);
  CHECK (ops->run (p, c, NULL, ab, 100, &err) == NPU_ERROR_BAD_ARGUMENT,
      "A and C swapped: %s", err.message);

  const size_t syncs0 = xrt_standin_n_syncs ();
  const int runs = 3;
  for (int round = 0; round < runs; round++) {
    /* both operands new every run; the gap between them is not read */
    fill (ha, a_bytes);
    fill (hb, (size_t) batch * K * N);
    std::memset (ha + a_bytes, round + 1, b_offset - a_bytes);
    CHECK (ops->sync (ab, NPU_SYNC_TO_DEVICE, 0, 0, &err) == NPU_OK, "%s",
        err.message);
    std::memset (hc, 0x77, c_bytes);
    const npu_status st = ops->run (p, ab, NULL, c, 1000, &err);
    CHECK (st == NPU_OK, "round %d: run: %s (%s)", round,
        npu_status_name (st), err.message);
    CHECK (ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &err) == NPU_OK, "%s",
        err.message);
    int bad_h;
    const size_t bad = batch_mismatches (hc, ha, hb, batch, M, K, N, &bad_h);
    CHECK (bad == 0, "round %d: %zu of %zu results differ from the golden "
        "GEMM, the first in h = %d", round, bad, c_bytes / 4, bad_h);
  }

  /* the runs: one xrt::run; A+B at 3, C at 4, nothing at 5; before each,
   * one sync to the device, of the whole packed bo */
  CHECK (xrt_standin_n_runs () == (size_t) runs, "%zu run records",
      xrt_standin_n_runs ());
  size_t from = syncs0;
  for (int i = 0; i < runs; i++) {
    xrt_standin_run_record r;
    if (xrt_standin_get_run (i, &r) != 0)
      continue;
    CHECK (r.opcode == 3 && r.word_count == f.insts_bytes / 4
        && r.word_count_bytes == 4, "run %d: opcode %u, %llu words in %zu "
        "bytes", i, r.opcode, (unsigned long long) r.word_count,
        r.word_count_bytes);
    CHECK (r.bo[3] == bo_ab.id && r.bo[4] == bo_c.id && r.bo[5] == -1,
        "run %d: bos %d %d %d at 3 4 5 (A+B %d, C %d)", i, r.bo[3], r.bo[4],
        r.bo[5], bo_ab.id, bo_c.id);
    CHECK (r.group[3] == XRT_STANDIN_GROUP (3)
        && r.group[4] == XRT_STANDIN_GROUP (4) && r.group[5] == 0,
        "run %d: groups 0x%x 0x%x 0x%x", i, r.group[3], r.group[4],
        r.group[5]);
    CHECK (r.state == 4 && r.batch == batch && r.b_offset == b_offset
        && r.M == M && r.K == K && r.N == N, "run %d: state %d, %d x "
        "%dx%dx%d, B at %zu", i, r.state, r.batch, r.M, r.K, r.N,
        r.b_offset);
    int to_device = 0;
    for (size_t j = from; j < r.syncs_before; j++) {
      xrt_standin_sync_record s;
      if (xrt_standin_get_sync (j, &s) != 0 || s.direction != 0)
        continue;
      to_device++;
      CHECK (s.bo == bo_ab.id && s.size == ab_bytes && s.offset == 0,
          "run %d: a sync to the device of bo %d [%zu +%zu]", i, s.bo,
          s.offset, s.size);
    }
    CHECK (to_device == 1, "run %d: %d syncs to the device before it", i,
        to_device);
    from = r.syncs_before;
  }
  xrt_standin_counts n;
  xrt_standin_get_counts (&n);
  CHECK (n.run_objects == 1 && n.starts == (unsigned) runs, "%u xrt::run, "
      "%u starts", n.run_objects, n.starts);
  ops->get_counters (dev, &k);
  CHECK (k.runs == (uint64_t) runs && k.syncs_to_device == (uint64_t) runs
      && k.bytes_to_device == runs * ab_bytes
      && k.syncs_from_device == (uint64_t) runs
      && k.bytes_from_device == runs * c_bytes && k.buffer_allocs == 2,
      "counters: %llu runs, %llu/%llu syncs, %llu allocs",
      (unsigned long long) k.runs, (unsigned long long) k.syncs_to_device,
      (unsigned long long) k.syncs_from_device,
      (unsigned long long) k.buffer_allocs);
  ops->free_program (p);

  /* a desc that disagrees with its instructions: the stand-in's kernel
   * ends the run in the error state, both ways round */
  for (int packed_desc = 0; packed_desc < 2; packed_desc++) {
    const files g = write_program (packed_desc ? "mismatch1" : "mismatch0",
        M, K, N, 3, "MLIR_AIE", 0, batch, packed_desc ? 0 : b_offset);
    const npu_program_desc md = desc_of (g, "mismatch", M, K, N, 64, 64, 64,
        batch, packed_desc ? b_offset : 0);
    npu_program *q = ops->load_program (dev, &md, &err);
    CHECK (q, "mismatch %d: %s", packed_desc, err.message);
    if (!q)
      continue;
    npu_buffer *qa = ops->alloc (q, NPU_ARG_A, npu_arg_bytes (&md,
            NPU_ARG_A), &err);
    npu_buffer *qb = packed_desc ? NULL : ops->alloc (q, NPU_ARG_B,
        npu_arg_bytes (&md, NPU_ARG_B), &err);
    npu_buffer *qc = ops->alloc (q, NPU_ARG_C, npu_arg_bytes (&md,
            NPU_ARG_C), &err);
    CHECK (qa && qc && (packed_desc || qb), "mismatch %d: alloc: %s",
        packed_desc, err.message);
    if (qa && qc && (packed_desc || qb))
      CHECK (ops->run (q, qa, qb, qc, 1000, &err) == NPU_ERROR_RUN,
          "mismatch %d: run: %s (%s)", packed_desc,
          npu_status_name (err.status), err.message);
    ops->free_program (q);
  }
  ops->close (dev);
  xrt_standin_get_counts (&n);
  CHECK (n.bos_live == 0, "%u bos alive after close", n.bos_live);
}

/* A batch of 2 GEMMs 64x128x64 per run with operands of their own: A
 * [2][64][128] at 3, B [2][128][64] at 4, C [2][64][64] at 5. */
void
test_batch ()
{
  xrt_standin_reset ();
  const int M = 64, K = 128, N = 64, batch = 2;
  const size_t a_bytes = (size_t) batch * M * K, b_bytes =
      (size_t) batch * K * N, c_bytes = (size_t) batch * M * N * 4;
  const files f = write_program ("batch2", M, K, N, 11, "MLIR_AIE", 0, batch);
  const npu_program_desc d = desc_of (f, "bgemm-2x64x128x64", M, K, N, 64,
      64, 64, batch);
  npu_error err;
  npu_device *dev = ops->open (NULL, &err);
  CHECK (dev, "open: %s", err.message);
  if (!dev)
    return;
  npu_program *p = ops->load_program (dev, &d, &err);
  CHECK (p, "load: %s", err.message);
  if (!p) {
    ops->close (dev);
    return;
  }
  /* one GEMM's sizes are not the batch's */
  CHECK (!ops->alloc (p, NPU_ARG_A, (size_t) M * K, &err)
      && err.status == NPU_ERROR_BAD_ARGUMENT, "A of one GEMM: %s",
      err.message);
  CHECK (!ops->alloc (p, NPU_ARG_C, (size_t) M * N * 4, &err)
      && err.status == NPU_ERROR_BAD_ARGUMENT, "C of one GEMM: %s",
      err.message);
  npu_buffer *a = ops->alloc (p, NPU_ARG_A, a_bytes, &err);
  npu_buffer *b = ops->alloc (p, NPU_ARG_B, b_bytes, &err);
  npu_buffer *c = ops->alloc (p, NPU_ARG_C, c_bytes, &err);
  CHECK (a && b && c, "alloc: %s", err.message);
  if (!a || !b || !c) {
    ops->close (dev);
    return;
  }
  int8_t *ha = (int8_t *) ops->map (a), *hb = (int8_t *) ops->map (b);
  int32_t *hc = (int32_t *) ops->map (c);
  CHECK (ops->run (p, a, NULL, c, 100, &err) == NPU_ERROR_BAD_ARGUMENT,
      "no B: %s", err.message);
  for (int round = 0; round < 2; round++) {
    fill (ha, a_bytes);
    if (round == 0)
      fill (hb, b_bytes);
    ops->sync (a, NPU_SYNC_TO_DEVICE, 0, 0, &err);
    if (round == 0)
      ops->sync (b, NPU_SYNC_TO_DEVICE, 0, 0, &err);
    const npu_status st = ops->run (p, a, b, c, 1000, &err);
    CHECK (st == NPU_OK, "round %d: run: %s (%s)", round,
        npu_status_name (st), err.message);
    ops->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &err);
    int bad_h;
    const size_t bad = batch_mismatches (hc, ha, hb, batch, M, K, N, &bad_h);
    CHECK (bad == 0, "round %d: %zu of %zu results differ from the golden "
        "GEMM, the first in h = %d", round, bad, c_bytes / 4, bad_h);
  }
  xrt_standin_bo_record bos[4];
  for (int i = 0; i < 4; i++)
    xrt_standin_get_bo (i, &bos[i]);
  for (int i = 0; i < 3; i++)
    CHECK (bos[1 + i].group == XRT_STANDIN_GROUP (3 + i)
        && bos[1 + i].size == (i == 0 ? a_bytes : i == 1 ? b_bytes :
            c_bytes), "buffer %d: group 0x%x, %zu bytes", i,
        bos[1 + i].group, bos[1 + i].size);
  for (size_t i = 0; i < xrt_standin_n_runs (); i++) {
    xrt_standin_run_record r;
    xrt_standin_get_run (i, &r);
    CHECK (r.bo[3] == bos[1].id && r.bo[4] == bos[2].id
        && r.bo[5] == bos[3].id && r.batch == batch && r.b_offset == 0
        && r.state == 4, "run %zu: bos %d %d %d, batch %d, B at %zu, state "
        "%d", i, r.bo[3], r.bo[4], r.bo[5], r.batch, r.b_offset, r.state);
  }
  ops->close (dev);
}

/* RLIMIT_MEMLOCK lowered for this process (a soft limit may go back up to
 * the hard one), then put back. */
void
test_memlock ()
{
  xrt_standin_reset ();
  struct rlimit old;
  if (getrlimit (RLIMIT_MEMLOCK, &old) != 0) {
    CHECK (false, "getrlimit failed");
    return;
  }
  const long ps = sysconf (_SC_PAGESIZE);
  const size_t page = ps > 0 ? (size_t) ps : 4096;
  /* insts 1 page, A and B 4 pages each, C 16 pages (128x128x128): A, B
   * fit in 20 pages, C on top of them does not, C alone does */
  rlim_t limit = 20 * page;
  if (old.rlim_max != RLIM_INFINITY && old.rlim_max < limit) {
    std::printf ("# memlock: hard limit %llu below the test's, skipped\n",
        (unsigned long long) old.rlim_max);
    return;
  }
  npu_error err;
  npu_device *dev = ops->open (NULL, &err);
  CHECK (dev, "open: %s", err.message);
  if (!dev)
    return;
  const files f = write_program ("memlock", 128, 128, 128, 3);
  const npu_program_desc d = desc_of (f, "memlock-128", 128, 128, 128, 64,
      64, 64);
  struct rlimit low = old;
  /* under a page: not even the instructions */
  low.rlim_cur = page / 2;
  if (setrlimit (RLIMIT_MEMLOCK, &low) == 0) {
    CHECK (load_status (dev, d, &err) == NPU_ERROR_MEMLOCK
        && has (err, "instructions of memlock-128"), "load under half a "
        "page: %s (%s)", npu_status_name (err.status), err.message);
  } else
    CHECK (false, "setrlimit to half a page failed");
  low.rlim_cur = limit;
  if (setrlimit (RLIMIT_MEMLOCK, &low) != 0) {
    CHECK (false, "setrlimit to %llu failed", (unsigned long long) limit);
    ops->close (dev);
    return;
  }
  npu_program *p = ops->load_program (dev, &d, &err);
  CHECK (p, "load under %llu bytes: %s", (unsigned long long) limit,
      err.message);
  npu_buffer *a = NULL, *b = NULL, *c = NULL;
  if (p) {
    a = ops->alloc (p, NPU_ARG_A, 128 * 128, &err);
    b = ops->alloc (p, NPU_ARG_B, 128 * 128, &err);
    CHECK (a && b, "A, B under the limit: %s", err.message);
    c = ops->alloc (p, NPU_ARG_C, 128 * 128 * 4, &err);
    char lim[32];
    std::snprintf (lim, sizeof lim, "%llu", (unsigned long long) limit);
    CHECK (!c && err.status == NPU_ERROR_MEMLOCK && has (err, lim)
        && has (err, "ulimit -l") && has (err, "limits.conf")
        && has (err, "memlock-128"), "C over the limit: %s (%s)",
        npu_status_name (err.status), err.message);
    /* freed buffers give their pages back */
    ops->free_buffer (a);
    ops->free_buffer (b);
    c = ops->alloc (p, NPU_ARG_C, 128 * 128 * 4, &err);
    CHECK (c, "C after freeing A and B: %s", err.message);
    /* a second program's instructions still fit beside C (18 pages) */
    const files f2 = write_program ("memlock2", 64, 64, 64, 3);
    const npu_program_desc d2 = desc_of (f2, "memlock-64", 64, 64, 64, 64,
        64, 64);
    CHECK (load_status (dev, d2, &err) == NPU_OK, "a 1-page program beside "
        "17 pages under 20: %s", err.message);
    ops->free_buffer (c);
  }
  xrt_standin_counts n;
  xrt_standin_get_counts (&n);
  CHECK (setrlimit (RLIMIT_MEMLOCK, &old) == 0, "cannot restore "
      "RLIMIT_MEMLOCK");
  ops->close (dev);
  CHECK (n.bos > 0, "no bos made");
}

/* The module built from the same shim and stand-in, opened as npu-load.c
 * opens a module. */
void
test_module ()
{
  const char *path = std::getenv ("WHISPER_NPU_XRT_MODULE");
  if (!path || !*path) {
    std::printf ("# module: WHISPER_NPU_XRT_MODULE not set, skipped\n");
    return;
  }
  void *h = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  CHECK (h, "dlopen %s: %s", path, dlerror ());
  if (!h)
    return;
  typedef const npu_device_ops *(*get_ops) (void);
  get_ops get = (get_ops) dlsym (h, NPU_DEVICE_OPS_SYMBOL);
  typedef int (*writer) (const char *, const char *, const char *, int, int,
      int, int, size_t, int, int);
  writer write = (writer) dlsym (h, "xrt_standin_write_program");
  CHECK (get && write, "%s lacks %s or the stand-in's knobs", path,
      NPU_DEVICE_OPS_SYMBOL);
  if (!get || !write) {
    dlclose (h);
    return;
  }
  const npu_device_ops *m = get ();
  CHECK (m && m->abi_version == NPU_DEVICE_ABI_VERSION
      && std::strcmp (m->name, "xrt") == 0, "the module's table");
  CHECK (m != ops, "the module's table is the test's own");
  const std::string x = tmpdir + "/mod.xclbin", i = tmpdir + "/mod.insts";
  CHECK (write (x.c_str (), i.c_str (), "MLIR_AIE", 64, 64, 64, 1, 0, 3, 0)
      == 0, "write");
  npu_error err;
  npu_device *dev = m->open (NULL, &err);
  CHECK (dev, "module open: %s", err.message);
  if (dev) {
    npu_program_desc d = { "mod", x.c_str (), i.c_str (), "MLIR_AIE", 64, 64,
      64, 64, 64, 64, 1, 0 };
    npu_program *p = m->load_program (dev, &d, &err);
    CHECK (p, "module load: %s", err.message);
    npu_buffer *a = p ? m->alloc (p, NPU_ARG_A, 4096, &err) : NULL;
    npu_buffer *b = p ? m->alloc (p, NPU_ARG_B, 4096, &err) : NULL;
    npu_buffer *c = p ? m->alloc (p, NPU_ARG_C, 16384, &err) : NULL;
    if (a && b && c) {
      fill ((int8_t *) m->map (a), 4096);
      fill ((int8_t *) m->map (b), 4096);
      m->sync (a, NPU_SYNC_TO_DEVICE, 0, 0, &err);
      m->sync (b, NPU_SYNC_TO_DEVICE, 0, 0, &err);
      CHECK (m->run (p, a, b, c, 1000, &err) == NPU_OK, "module run: %s",
          err.message);
      m->sync (c, NPU_SYNC_FROM_DEVICE, 0, 0, &err);
      std::vector<int32_t> want (4096);
      npu_golden_gemm_s8s32 (want.data (), (const int8_t *) m->map (a),
          (const int8_t *) m->map (b), 64, 64, 64);
      CHECK (std::memcmp (m->map (c), want.data (), 16384) == 0,
          "module GEMM differs from the golden one");
    } else
      CHECK (false, "module alloc: %s", err.message);
    m->close (dev);
  }
  dlclose (h);
}

}  // namespace

int
main ()
{
  ops = whisper_npu_device_ops ();
  if (!ops || ops->abi_version != NPU_DEVICE_ABI_VERSION
      || std::strcmp (ops->name, "xrt") != 0) {
    std::fprintf (stderr, "FAIL: the shim's table\n");
    return 1;
  }
  const char *t = std::getenv ("TMPDIR");
  std::string templ = std::string (t && *t ? t : "/tmp")
      + "/test-npu-xrt-XXXXXX";
  std::vector<char> buf (templ.begin (), templ.end ());
  buf.push_back ('\0');
  if (!mkdtemp (buf.data ())) {
    std::perror ("mkdtemp");
    return 1;
  }
  tmpdir = buf.data ();

  test_gemm ();
  test_call_sequence ();
  test_errors ();
  test_packed_batch ();
  test_batch ();
  test_memlock ();
  test_module ();

  std::string cmd = "rm -rf '" + tmpdir + "'";
  if (std::system (cmd.c_str ()) != 0)
    std::fprintf (stderr, "cannot remove %s\n", tmpdir.c_str ());
  if (failures) {
    std::fprintf (stderr, "%d checks failed\n", failures);
    return 1;
  }
  std::printf ("all checks passed\n");
  return 0;
}
