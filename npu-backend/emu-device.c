/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The emulated NPU device (npu-device.h, npu-emu.h).
 *
 * It is strict where hardware is unforgiving, so that host code that works
 * here has a chance on the device:
 *   - every buffer has a host copy and a device copy; run() reads and
 *     writes only device copies, so a missing or short sync gives stale
 *     data; C's device copy is poison-filled before each run;
 *   - a program computes one shape, batch times per run; shapes whose
 *     tiling does not divide, tiles that do not fit a core's memory,
 *     packed operands that overlap, and buffers of the wrong size or
 *     program are refused;
 *   - every sum runs over the whole K in int32 (exact, whatever the order,
 *     so the AVX2 arithmetic below gives the golden model's bits);
 *   - counters and a timing model (npu_emu_model_*) say what a run would
 *     have cost; faults make runs time out, fail or lie.
 */
#include "npu-emu.h"
#include "npu-golden.h"
#include "pool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EMU_HAVE_AVX2 1
#endif

/* A core's data memory on AIE-ML (XDNA1) and XDNA2: 64 KiB */
#define CORE_MEMORY_BYTES (64 * 1024)
#define ARRAY_ROWS 4
#define C_POISON 0x5a5a5a5a
#define ROWS_PER_TASK 16

typedef enum {
  FAULT_NONE, FAULT_TIMEOUT, FAULT_ERROR, FAULT_CORRUPT, FAULT_ZEROS,
} emu_fault;

struct npu_device {
  char generation[8];
  int columns;
  emu_fault fault;
  unsigned long fault_after;
  kernel_pool *pool;
  npu_counters counters;
  unsigned long good_runs;
  char description[160];
  npu_program **programs;
  int n_programs, cap_programs;
};

struct npu_program {
  npu_device *dev;
  char name[64];
  npu_program_desc shape;   /* name and paths not kept */
  int M, K, N, batch;
  int tile_m, tile_k, tile_n;
  int16_t *a16;             /* [batch][M][K]: A widened for the arithmetic */
  npu_buffer **buffers;
  int n_buffers, cap_buffers;
};

struct npu_buffer {
  npu_program *prog;
  npu_arg arg;
  size_t bytes;
  void *host, *device;
  size_t b_start;           /* where B starts in it: 0, or b_offset in
                               packed operands */
  int16_t *b16;             /* the buffer holding B only: [batch][N][K]
                               widened and transposed */
  int b16_valid;
};

static void
set_error (npu_error * error, npu_status status, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

static void
set_error (npu_error * error, npu_status status, const char *fmt, ...)
{
  if (!error)
    return;
  error->status = status;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (error->message, sizeof error->message, fmt, ap);
  va_end (ap);
}

static void *
aligned_alloc_zero (size_t bytes)
{
  void *p = NULL;
  if (posix_memalign (&p, 64, bytes ? bytes : 64) != 0)
    return NULL;
  memset (p, 0, bytes);
  return p;
}

/* ------------------------------------------------------------------------ */
/* Timing model.  Assumptions (docs/npu.md, "Timing model"), not
 * measurements:
 *   xdna1 (Phoenix / Hawk Point, "npu1"): 4 columns x 4 rows of AIE-ML
 *     cores used, 256 int8 MACs per core per cycle, 1.0 GHz: 4.1 TMAC/s
 *     (AMD quotes 10 to 16 TOPS for the whole NPU);
 *   xdna2 (Strix / Krackan, "npu2"): 8 x 4 cores, 512 MACs per cycle,
 *     1.5 GHz: 24.6 TMAC/s (AMD quotes 50 TOPS);
 *   half of peak reached by a GEMM of these sizes; host <-> device copies
 *   at 20 (xdna1) / 40 (xdna2) GB/s effective, 10 us per sync (cache
 *   maintenance); 40 us to dispatch a run and wait for it. */
typedef struct {
  const char *name;
  int columns;
  double macs_per_second;
  double bytes_per_second;
} emu_generation;

static const emu_generation generations[] = {
  {"xdna1", 4, 16 * 256 * 1.0e9, 20e9},
  {"xdna2", 8, 32 * 512 * 1.5e9, 40e9},
};

#define MODEL_EFFICIENCY 0.5
#define MODEL_SYNC_SECONDS 10e-6
#define MODEL_DISPATCH_SECONDS 40e-6

static const emu_generation *
generation_find (const char *name)
{
  for (size_t i = 0; i < sizeof generations / sizeof generations[0]; i++)
    if (name && strcmp (generations[i].name, name) == 0)
      return &generations[i];
  return NULL;
}

double
npu_emu_model_run_seconds (const char *generation, int batch, int M, int K,
    int N)
{
  const emu_generation *g = generation_find (generation);
  if (!g)
    return 0.0;
  return MODEL_DISPATCH_SECONDS + (double) batch * M * K * N
      / (g->macs_per_second * MODEL_EFFICIENCY);
}

double
npu_emu_model_sync_seconds (const char *generation, size_t bytes)
{
  const emu_generation *g = generation_find (generation);
  if (!g)
    return 0.0;
  return MODEL_SYNC_SECONDS + (double) bytes / g->bytes_per_second;
}

/* ------------------------------------------------------------------------ */
/* Options */

static int
parse_options (npu_device * dev, const char *options, npu_error * error)
{
  char *copy = strdup (options ? options : "");
  if (!copy) {
    set_error (error, NPU_ERROR_NO_MEMORY, "emulated NPU: out of memory");
    return -1;
  }
  int ok = 1;
  int threads = 0;
  char *save = NULL;
  for (char *tok = strtok_r (copy, ",", &save); ok && tok;
      tok = strtok_r (NULL, ",", &save)) {
    char *eq = strchr (tok, '=');
    const char *value = eq ? eq + 1 : "";
    if (eq)
      *eq = '\0';
    if (strcmp (tok, "gen") == 0) {
      const emu_generation *g = generation_find (value);
      if (!(ok = g != NULL))
        set_error (error, NPU_ERROR_BAD_ARGUMENT, "emulated NPU: unknown "
            "generation \"%s\" (xdna1 or xdna2)", value);
      else {
        snprintf (dev->generation, sizeof dev->generation, "%s", g->name);
        dev->columns = g->columns;
      }
    } else if (strcmp (tok, "fault") == 0) {
      static const char *const names[] = { "none", "timeout", "error",
        "corrupt", "zeros"
      };
      ok = 0;
      for (int f = 0; f < 5; f++)
        if (strcmp (value, names[f]) == 0) {
          dev->fault = (emu_fault) f;
          ok = 1;
        }
      if (!ok)
        set_error (error, NPU_ERROR_BAD_ARGUMENT, "emulated NPU: unknown "
            "fault \"%s\" (none, timeout, error, corrupt, zeros)", value);
    } else if (strcmp (tok, "fault-after") == 0) {
      char *end;
      errno = 0;
      dev->fault_after = strtoul (value, &end, 10);
      if (!(ok = *value && !*end && errno == 0))
        set_error (error, NPU_ERROR_BAD_ARGUMENT, "emulated NPU: "
            "fault-after=\"%s\" is not a run count", value);
    } else if (strcmp (tok, "threads") == 0) {
      threads = atoi (value);
      if (!(ok = threads >= 1))
        set_error (error, NPU_ERROR_BAD_ARGUMENT, "emulated NPU: "
            "threads=\"%s\" is not a thread count", value);
    } else if (strcmp (tok, "fail-open") == 0) {
      ok = 0;
      if (strcmp (value, "no-device") == 0)
        set_error (error, NPU_ERROR_NO_DEVICE, "emulated NPU: no device "
            "(fail-open=no-device)");
      else if (strcmp (value, "driver") == 0)
        set_error (error, NPU_ERROR_DRIVER, "emulated NPU: the driver's "
            "firmware does not match (fail-open=driver)");
      else if (strcmp (value, "memlock") == 0)
        set_error (error, NPU_ERROR_MEMLOCK, "emulated NPU: the memlock "
            "limit is too low for the buffers (fail-open=memlock)");
      else
        set_error (error, NPU_ERROR_BAD_ARGUMENT, "emulated NPU: unknown "
            "fail-open=\"%s\" (no-device, driver, memlock)", value);
    } else {
      ok = 0;
      set_error (error, NPU_ERROR_BAD_ARGUMENT, "emulated NPU: unknown "
          "option \"%s\" (gen, fault, fault-after, fail-open, threads)", tok);
    }
  }
  free (copy);
  if (!ok)
    return -1;
  if (threads < 1) {
    const long n = sysconf (_SC_NPROCESSORS_ONLN);
    threads = n >= 1 ? (int) n : 1;
  }
  if (threads > 1 && !(dev->pool = kernel_pool_new (threads))) {
    set_error (error, NPU_ERROR_NO_MEMORY, "emulated NPU: cannot start %d "
        "threads", threads);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Device */

static npu_device *
emu_open (const char *options, npu_error * error)
{
  npu_device *dev = calloc (1, sizeof *dev);
  if (!dev) {
    set_error (error, NPU_ERROR_NO_MEMORY, "emulated NPU: out of memory");
    return NULL;
  }
  snprintf (dev->generation, sizeof dev->generation, "xdna1");
  dev->columns = 4;
  if (parse_options (dev, options, error) != 0) {
    kernel_pool_free (dev->pool);
    free (dev);
    return NULL;
  }
  snprintf (dev->description, sizeof dev->description,
      "emulated NPU (%s, %d columns x %d rows; arithmetic on the host CPU, "
      "times modelled, not measured)", dev->generation, dev->columns,
      ARRAY_ROWS);
  return dev;
}

static void emu_free_program (npu_program * prog);

static void
emu_close (npu_device * dev)
{
  if (!dev)
    return;
  while (dev->n_programs > 0)
    emu_free_program (dev->programs[dev->n_programs - 1]);
  free (dev->programs);
  kernel_pool_free (dev->pool);
  free (dev);
}

static const char *
emu_describe (npu_device * dev)
{
  return dev->description;
}

static void
emu_get_counters (npu_device * dev, npu_counters * counters)
{
  *counters = dev->counters;
}

/* ------------------------------------------------------------------------ */
/* Programs */

static int
desc_batch (const npu_program_desc * d)
{
  return d->batch > 1 ? d->batch : 1;
}

/* Reads the emulated xclbin: its magic line, then
 * "gemm M K N tile_m tile_k tile_n batch b_offset" and "kernel NAME" */
static int
check_xclbin (const npu_program_desc * d, npu_error * error)
{
  FILE *f = fopen (d->xclbin_path, "r");
  if (!f) {
    set_error (error, NPU_ERROR_MISSING_FILE, "cannot open the xclbin %s: "
        "%s", d->xclbin_path, strerror (errno));
    return -1;
  }
  char magic[128] = "", kernel[64] = "";
  int s[7] = { 0 };
  size_t b_offset = 0;
  const int ok = fgets (magic, sizeof magic, f) != NULL
      && strncmp (magic, NPU_EMU_PROGRAM_MAGIC,
      strlen (NPU_EMU_PROGRAM_MAGIC)) == 0
      && fscanf (f, " gemm %d %d %d %d %d %d %d %zu", &s[0], &s[1], &s[2],
      &s[3], &s[4], &s[5], &s[6], &b_offset) == 8
      && fscanf (f, " kernel %63s", kernel) == 1;
  fclose (f);
  if (!ok) {
    set_error (error, NPU_ERROR_BAD_PROGRAM, "%s is not an emulated NPU "
        "program (a real xclbin cannot run on the emulated device)",
        d->xclbin_path);
    return -1;
  }
  if (s[0] != d->M || s[1] != d->K || s[2] != d->N || s[3] != d->tile_m
      || s[4] != d->tile_k || s[5] != d->tile_n || s[6] != desc_batch (d)
      || b_offset != d->b_offset) {
    set_error (error, NPU_ERROR_BAD_PROGRAM, "%s computes %d x %dx%dx%d in "
        "tiles of %dx%dx%d (B at %zu), not the %d x %dx%dx%d in tiles of "
        "%dx%dx%d (B at %zu) that the manifest says", d->xclbin_path, s[6],
        s[0], s[1], s[2], s[3], s[4], s[5], b_offset, desc_batch (d), d->M,
        d->K, d->N, d->tile_m, d->tile_k, d->tile_n, d->b_offset);
    return -1;
  }
  if (!d->kernel_name || strcmp (kernel, d->kernel_name) != 0) {
    set_error (error, NPU_ERROR_BAD_PROGRAM, "%s has no kernel \"%s\" (it "
        "has \"%s\")", d->xclbin_path, d->kernel_name ? d->kernel_name : "",
        kernel);
    return -1;
  }
  return 0;
}

/* The instruction file: 32-bit words, the first EMU_INSTS_WORDS of
 * which the emulated device reads: a magic word, then M K N batch
 * b_offset. */
#define EMU_INSTS_MAGIC 0x4e505545u   /* "EUPN" */
#define EMU_INSTS_WORDS 6

static int
check_insts (const npu_program_desc * d, npu_error * error)
{
  FILE *f = fopen (d->insts_path, "rb");
  if (!f) {
    set_error (error, NPU_ERROR_MISSING_FILE, "cannot open the instruction "
        "file %s: %s", d->insts_path, strerror (errno));
    return -1;
  }
  uint32_t w[EMU_INSTS_WORDS] = { 0 };
  const size_t n = fread (w, 1, sizeof w, f);
  fseek (f, 0, SEEK_END);
  const long size = ftell (f);
  fclose (f);
  if (size <= 0 || size % 4 != 0) {
    set_error (error, NPU_ERROR_BAD_PROGRAM, "the instruction file %s has "
        "%ld bytes, not a whole number of 32-bit words", d->insts_path,
        size);
    return -1;
  }
  if (n != sizeof w || w[0] != EMU_INSTS_MAGIC || (int) w[1] != d->M
      || (int) w[2] != d->K || (int) w[3] != d->N
      || (int) w[4] != desc_batch (d) || w[5] != d->b_offset) {
    set_error (error, NPU_ERROR_BAD_PROGRAM, "the instruction file %s is "
        "not the emulated sequence of %s", d->insts_path, d->name);
    return -1;
  }
  return 0;
}

static int
check_shape (const npu_device * dev, const npu_program_desc * d,
    npu_error * error)
{
  if (d->M <= 0 || d->K <= 0 || d->N <= 0 || d->tile_m <= 0
      || d->tile_k <= 0 || d->tile_n <= 0) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "%s: no such shape %dx%dx%d "
        "(tiles %dx%dx%d)", d->name, d->M, d->K, d->N, d->tile_m, d->tile_k,
        d->tile_n);
    return -1;
  }
  /* the whole-array design: each column of 4 cores takes tile_m rows per
   * core, each column its own tile_n columns of B and C */
  if (d->M % (d->tile_m * ARRAY_ROWS) || d->K % d->tile_k
      || d->N % (d->tile_n * dev->columns) || d->tile_k % 8
      || d->tile_n % 8) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "%s: %dx%dx%d does not divide "
        "into %dx%dx%d tiles on %d rows x %d columns", d->name, d->M, d->K,
        d->N, d->tile_m, d->tile_k, d->tile_n, ARRAY_ROWS, dev->columns);
    return -1;
  }
  /* packed operands: B on a page of its own after the whole batch of A */
  const size_t a_bytes = (size_t) desc_batch (d) * d->M * d->K;
  if (d->batch < 0 || (d->b_offset && (d->b_offset < a_bytes
              || d->b_offset % 4096 || d->b_offset > UINT32_MAX))) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "%s: batch %d with B at byte "
        "%zu of the operands: B must start on a 4096-byte boundary at or "
        "after A's %zu bytes", d->name, d->batch, d->b_offset, a_bytes);
    return -1;
  }
  /* double-buffered A and B tiles and the int32 C tile */
  const size_t core = 2 * (size_t) d->tile_m * d->tile_k
      + 2 * (size_t) d->tile_k * d->tile_n
      + 4 * (size_t) d->tile_m * d->tile_n;
  if (core > CORE_MEMORY_BYTES) {
    set_error (error, NPU_ERROR_BAD_SHAPE, "%s: tiles of %dx%dx%d need "
        "%zu bytes of a core's %d", d->name, d->tile_m, d->tile_k,
        d->tile_n, core, CORE_MEMORY_BYTES);
    return -1;
  }
  return 0;
}

static npu_program *
emu_load_program (npu_device * dev, const npu_program_desc * d,
    npu_error * error)
{
  if (check_shape (dev, d, error) || check_xclbin (d, error)
      || check_insts (d, error))
    return NULL;
  npu_program *prog = calloc (1, sizeof *prog);
  if (prog && dev->n_programs == dev->cap_programs) {
    const int cap = dev->cap_programs ? 2 * dev->cap_programs : 8;
    npu_program **p = realloc (dev->programs, cap * sizeof *p);
    if (p) {
      dev->programs = p;
      dev->cap_programs = cap;
    } else {
      free (prog);
      prog = NULL;
    }
  }
  if (prog)
    prog->a16 = aligned_alloc_zero ((size_t) desc_batch (d) * d->M * d->K
        * sizeof (int16_t));
  if (!prog || !prog->a16) {
    if (prog)
      free (prog);
    set_error (error, NPU_ERROR_NO_MEMORY, "emulated NPU: out of memory "
        "loading %s", d->name);
    return NULL;
  }
  prog->dev = dev;
  snprintf (prog->name, sizeof prog->name, "%s", d->name ? d->name : "");
  prog->shape = *d;
  prog->shape.name = prog->shape.xclbin_path = prog->shape.insts_path = NULL;
  prog->shape.kernel_name = NULL;
  prog->M = d->M;
  prog->K = d->K;
  prog->N = d->N;
  prog->batch = desc_batch (d);
  prog->tile_m = d->tile_m;
  prog->tile_k = d->tile_k;
  prog->tile_n = d->tile_n;
  dev->programs[dev->n_programs++] = prog;
  /* one context per program: the emulated device registers every
   * program's xclbin on its own */
  dev->counters.contexts++;
  dev->counters.instruction_loads++;
  return prog;
}

static void emu_free_buffer (npu_buffer * buf);

static void
emu_free_program (npu_program * prog)
{
  if (!prog)
    return;
  while (prog->n_buffers > 0)
    emu_free_buffer (prog->buffers[prog->n_buffers - 1]);
  npu_device *dev = prog->dev;
  for (int i = 0; i < dev->n_programs; i++)
    if (dev->programs[i] == prog) {
      dev->programs[i] = dev->programs[--dev->n_programs];
      break;
    }
  free (prog->buffers);
  free (prog->a16);
  free (prog);
}

/* ------------------------------------------------------------------------ */
/* Buffers */

static npu_buffer *
emu_alloc (npu_program * prog, npu_arg arg, size_t bytes, npu_error * error)
{
  const size_t need = npu_arg_bytes (&prog->shape, arg);
  if (need == 0) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "%s: B has no buffer of its "
        "own (packed operands: it is in A's, from byte %zu)", prog->name,
        prog->shape.b_offset);
    return NULL;
  }
  if (bytes != need) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "%s: argument %d takes %zu "
        "bytes, not %zu", prog->name, (int) arg, need, bytes);
    return NULL;
  }
  /* the buffer that holds B keeps it widened for the arithmetic */
  const int holds_b = arg == NPU_ARG_B
      || (arg == NPU_ARG_A && prog->shape.b_offset);
  const size_t b_elems = (size_t) prog->batch * prog->K * prog->N;
  npu_buffer *buf = calloc (1, sizeof *buf);
  if (buf && prog->n_buffers == prog->cap_buffers) {
    const int cap = prog->cap_buffers ? 2 * prog->cap_buffers : 8;
    npu_buffer **b = realloc (prog->buffers, cap * sizeof *b);
    if (b) {
      prog->buffers = b;
      prog->cap_buffers = cap;
    } else {
      free (buf);
      buf = NULL;
    }
  }
  if (buf) {
    buf->host = aligned_alloc_zero (bytes);
    buf->device = aligned_alloc_zero (bytes);
    if (holds_b)
      buf->b16 = aligned_alloc_zero (b_elems * sizeof (int16_t));
  }
  if (!buf || !buf->host || !buf->device || (holds_b && !buf->b16)) {
    if (buf) {
      free (buf->host);
      free (buf->device);
      free (buf->b16);
      free (buf);
    }
    set_error (error, NPU_ERROR_NO_MEMORY, "emulated NPU: cannot allocate "
        "%zu bytes for %s", bytes, prog->name);
    return NULL;
  }
  /* what a device buffer holds before anything is synced into it */
  memset (buf->device, 0xa5, bytes);
  buf->prog = prog;
  buf->arg = arg;
  buf->bytes = bytes;
  buf->b_start = arg == NPU_ARG_A ? prog->shape.b_offset : 0;
  prog->buffers[prog->n_buffers++] = buf;
  prog->dev->counters.buffer_allocs++;
  return buf;
}

static void
emu_free_buffer (npu_buffer * buf)
{
  if (!buf)
    return;
  npu_program *prog = buf->prog;
  for (int i = 0; i < prog->n_buffers; i++)
    if (prog->buffers[i] == buf) {
      prog->buffers[i] = prog->buffers[--prog->n_buffers];
      break;
    }
  free (buf->host);
  free (buf->device);
  free (buf->b16);
  free (buf);
}

static void *
emu_map (npu_buffer * buf)
{
  return buf->host;
}

static npu_status
emu_sync (npu_buffer * buf, npu_sync_direction direction, size_t bytes,
    size_t offset, npu_error * error)
{
  if (bytes == 0 && offset == 0)
    bytes = buf->bytes;
  if (offset > buf->bytes || bytes > buf->bytes - offset || bytes == 0) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "%s: sync of [%zu, %zu) out "
        "of a %zu-byte buffer", buf->prog->name, offset, offset + bytes,
        buf->bytes);
    return NPU_ERROR_BAD_ARGUMENT;
  }
  npu_device *dev = buf->prog->dev;
  if (direction == NPU_SYNC_TO_DEVICE) {
    memcpy ((char *) buf->device + offset, (char *) buf->host + offset,
        bytes);
    if (offset + bytes > buf->b_start)    /* B's bytes changed */
      buf->b16_valid = 0;
    dev->counters.syncs_to_device++;
    dev->counters.bytes_to_device += bytes;
  } else {
    memcpy ((char *) buf->host + offset, (char *) buf->device + offset,
        bytes);
    dev->counters.syncs_from_device++;
    dev->counters.bytes_from_device += bytes;
  }
  dev->counters.modelled_seconds +=
      npu_emu_model_sync_seconds (dev->generation, bytes);
  return NPU_OK;
}

/* ------------------------------------------------------------------------ */
/* Arithmetic: per GEMM h of the batch,
 * C_h [M][N] = A16_h [M][K] . B16_h [N][K]^T, exact int32 */

typedef struct {
  const int16_t *a16;       /* A_h */
  const int16_t *b16;       /* B16_h */
  int32_t *c;               /* C_h */
  int K, N;
} gemm_one;

static void
gemm_rows_portable (const gemm_one * j, int m0, int m1)
{
  const int K = j->K, N = j->N;
  for (int m = m0; m < m1; m++) {
    const int16_t *a = j->a16 + (size_t) m * K;
    for (int n = 0; n < N; n++) {
      const int16_t *b = j->b16 + (size_t) n * K;
      int32_t acc = 0;
      for (int k = 0; k < K; k++)
        acc += (int32_t) a[k] * b[k];
      j->c[(size_t) m * N + n] = acc;
    }
  }
}

#ifdef EMU_HAVE_AVX2
/* vpmaddwd: int16 x int16 pairs summed into int32, exact for values of
 * int8 range; 2 rows x 4 columns per step, K a multiple of 16 */
__attribute__((target ("avx2"))) static int32_t
hsum_avx2 (__m256i v)
{
  __m128i s = _mm_add_epi32 (_mm256_castsi256_si128 (v),
      _mm256_extracti128_si256 (v, 1));
  s = _mm_add_epi32 (s, _mm_shuffle_epi32 (s, 0x4e));
  s = _mm_add_epi32 (s, _mm_shuffle_epi32 (s, 0xb1));
  return _mm_cvtsi128_si32 (s);
}

__attribute__((target ("avx2"))) static void
gemm_rows_avx2 (const gemm_one * j, int m0, int m1)
{
  const int K = j->K, N = j->N;
  int m = m0;
  for (; m + 2 <= m1; m += 2) {
    const int16_t *a0 = j->a16 + (size_t) m * K, *a1 = a0 + K;
    for (int n = 0; n < N; n += 4) {
      const int16_t *b = j->b16 + (size_t) n * K;
      __m256i c[2][4];
      for (int r = 0; r < 2; r++)
        for (int q = 0; q < 4; q++)
          c[r][q] = _mm256_setzero_si256 ();
      for (int k = 0; k < K; k += 16) {
        const __m256i x0 = _mm256_load_si256 ((const __m256i *) (a0 + k));
        const __m256i x1 = _mm256_load_si256 ((const __m256i *) (a1 + k));
        for (int q = 0; q < 4; q++) {
          const __m256i w = _mm256_load_si256 ((const __m256i *) (b
                  + (size_t) q * K + k));
          c[0][q] = _mm256_add_epi32 (c[0][q], _mm256_madd_epi16 (x0, w));
          c[1][q] = _mm256_add_epi32 (c[1][q], _mm256_madd_epi16 (x1, w));
        }
      }
      for (int r = 0; r < 2; r++)
        for (int q = 0; q < 4; q++)
          j->c[(size_t) (m + r) * N + n + q] = hsum_avx2 (c[r][q]);
    }
  }
  if (m < m1)
    gemm_rows_portable (j, m, m1);
}

static int
have_avx2 (void)
{
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init ();
    cached = __builtin_cpu_supports ("avx2") ? 1 : 0;
  }
  return cached;
}
#endif

typedef struct {
  const npu_program *p;
  const int16_t *b16;       /* [batch][N][K] */
  int32_t *c;               /* [batch][M][N] */
  int row_tasks;            /* per GEMM of the batch */
} gemm_job;

static void
gemm_task (void *ctx, int task, int worker)
{
  const gemm_job *j = ctx;
  const npu_program *p = j->p;
  const int h = task / j->row_tasks;
  const int m0 = task % j->row_tasks * ROWS_PER_TASK;
  const int m1 = m0 + ROWS_PER_TASK < p->M ? m0 + ROWS_PER_TASK : p->M;
  const gemm_one one = { p->a16 + (size_t) h * p->M * p->K,
    j->b16 + (size_t) h * p->N * p->K, j->c + (size_t) h * p->M * p->N,
    p->K, p->N
  };
#ifdef EMU_HAVE_AVX2
  /* the AVX2 rows need K % 16 and N % 4 (the shape check gives both) and
   * the 32-byte rows that 16 | K gives */
  if (have_avx2 () && p->K % 16 == 0 && p->N % 4 == 0) {
    gemm_rows_avx2 (&one, m0, m1);
    return;
  }
#endif
  gemm_rows_portable (&one, m0, m1);
}

static void
widen_a (npu_program * p, const int8_t * a)
{
  const size_t n = (size_t) p->batch * p->M * p->K;
  for (size_t i = 0; i < n; i++)
    p->a16[i] = a[i];
}

/* B16 [batch][N][K] from the device copy of B [batch][K][N] (from
 * b_start of the buffer holding it), once per sync that changes B */
static void
widen_b (npu_buffer * b)
{
  const npu_program *p = b->prog;
  const size_t per = (size_t) p->K * p->N;
  for (int h = 0; h < p->batch; h++) {
    const int8_t *src = (const int8_t *) b->device + b->b_start + h * per;
    int16_t *dst = b->b16 + h * per;
    for (int k = 0; k < p->K; k++)
      for (int n = 0; n < p->N; n++)
        dst[(size_t) n * p->K + k] = src[(size_t) k * p->N + n];
  }
  b->b16_valid = 1;
}

static npu_status
emu_run (npu_program * prog, npu_buffer * a, npu_buffer * b, npu_buffer * c,
    unsigned timeout_ms, npu_error * error)
{
  npu_device *dev = prog->dev;
  npu_buffer *const args[3] = { a, b, c };
  const int packed = prog->shape.b_offset != 0;
  for (int i = 0; i < 3; i++) {
    if (i == NPU_ARG_B && packed) {
      if (b) {
        set_error (error, NPU_ERROR_BAD_ARGUMENT, "%s: B is packed with A; "
            "a B buffer was given", prog->name);
        return NPU_ERROR_BAD_ARGUMENT;
      }
      continue;
    }
    if (!args[i] || args[i]->prog != prog || args[i]->arg != (npu_arg) i) {
      set_error (error, NPU_ERROR_BAD_ARGUMENT, "%s: argument %d is %s",
          prog->name, i, !args[i] ? "missing" : args[i]->prog != prog ?
          "a buffer of another program" : "a buffer of another argument");
      return NPU_ERROR_BAD_ARGUMENT;
    }
  }
  npu_buffer *holds_b = packed ? a : b;
  dev->counters.runs++;
  int32_t *out = c->device;
  const size_t n_out = (size_t) prog->batch * prog->M * prog->N;
  for (size_t i = 0; i < n_out; i++)
    out[i] = (int32_t) C_POISON;

  const emu_fault fault = dev->good_runs >= dev->fault_after ? dev->fault
      : FAULT_NONE;
  if (fault == FAULT_TIMEOUT) {
    set_error (error, NPU_ERROR_TIMEOUT, "%s: the run did not finish within "
        "%u ms (emulated fault)", prog->name, timeout_ms);
    return NPU_ERROR_TIMEOUT;
  }
  if (fault == FAULT_ERROR) {
    set_error (error, NPU_ERROR_RUN, "%s: the run ended in an error state "
        "(emulated fault)", prog->name);
    return NPU_ERROR_RUN;
  }
  dev->counters.modelled_seconds += npu_emu_model_run_seconds
      (dev->generation, prog->batch, prog->M, prog->K, prog->N);
  if (fault == FAULT_ZEROS) {
    memset (out, 0, n_out * sizeof *out);
    return NPU_OK;
  }
  if (!holds_b->b16_valid)
    widen_b (holds_b);
  widen_a (prog, a->device);
  const int row_tasks = (prog->M + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
  gemm_job j = { prog, holds_b->b16, out, row_tasks };
  kernel_pool_run (dev->pool, prog->batch * row_tasks, gemm_task, &j);
  if (fault == FAULT_CORRUPT) {
    /* a few bits wrong in every row: what a bad DMA descriptor or a race
     * in a core's buffers gives */
    for (size_t i = 0; i < n_out; i += 61)
      out[i] ^= 0x10;
  } else
    dev->good_runs++;
  return NPU_OK;
}

/* ------------------------------------------------------------------------ */

static const npu_device_ops emulated_ops = {
  .abi_version = NPU_DEVICE_ABI_VERSION,
  .name = "emulated",
  .open = emu_open,
  .close = emu_close,
  .describe = emu_describe,
  .load_program = emu_load_program,
  .free_program = emu_free_program,
  .alloc = emu_alloc,
  .free_buffer = emu_free_buffer,
  .map = emu_map,
  .sync = emu_sync,
  .run = emu_run,
  .get_counters = emu_get_counters,
};

const npu_device_ops *
npu_emulated_device_ops (void)
{
  return &emulated_ops;
}

/* ------------------------------------------------------------------------ */
/* Kernel directories for the emulated device */

int
npu_emu_write_kernel_dir (const char *dir, const npu_program_desc * descs,
    int n, const char *generation, npu_error * error)
{
  if (!generation_find (generation)) {
    set_error (error, NPU_ERROR_BAD_ARGUMENT, "emulated NPU: unknown "
        "generation \"%s\"", generation ? generation : "");
    return -1;
  }
  char path[4096];
  snprintf (path, sizeof path, "%s/manifest.json", dir);
  FILE *m = fopen (path, "w");
  if (!m) {
    set_error (error, NPU_ERROR_MISSING_FILE, "cannot write %s: %s", path,
        strerror (errno));
    return -1;
  }
  fprintf (m, "{\n  \"format\": \"gst-whisper-npu-aie-manifest\",\n"
      "  \"version\": 2,\n  \"device\": \"emulated\",\n"
      "  \"generation\": \"%s\",\n  \"programs\": [", generation);
  int ok = 1;
  for (int i = 0; ok && i < n; i++) {
    const npu_program_desc *d = &descs[i];
    snprintf (path, sizeof path, "%s/%s.xclbin", dir, d->name);
    FILE *x = fopen (path, "w");
    if (x) {
      fprintf (x, "%s\ngemm %d %d %d %d %d %d %d %zu\nkernel %s\n",
          NPU_EMU_PROGRAM_MAGIC, d->M, d->K, d->N, d->tile_m, d->tile_k,
          d->tile_n, desc_batch (d), d->b_offset,
          d->kernel_name ? d->kernel_name : "MLIR_AIE");
      ok = fclose (x) == 0;
    } else
      ok = 0;
    if (ok) {
      snprintf (path, sizeof path, "%s/%s.insts.bin", dir, d->name);
      FILE *s = fopen (path, "wb");
      /* the magic and shape, then words a real sequence would hold (DMA
       * descriptors), here only padding to a plausible length */
      uint32_t words[64] = { EMU_INSTS_MAGIC, (uint32_t) d->M,
        (uint32_t) d->K, (uint32_t) d->N, (uint32_t) desc_batch (d),
        (uint32_t) d->b_offset
      };
      ok = s && fwrite (words, sizeof words, 1, s) == 1;
      if (s)
        ok = fclose (s) == 0 && ok;
    }
    if (!ok) {
      set_error (error, NPU_ERROR_MISSING_FILE, "cannot write %s: %s", path,
          strerror (errno));
      break;
    }
    fprintf (m, "%s\n    {\"name\": \"%s\", \"kernel\": \"%s\", "
        "\"xclbin\": \"%s.xclbin\", \"insts\": \"%s.insts.bin\",\n"
        "     \"M\": %d, \"K\": %d, \"N\": %d, \"tile_m\": %d, "
        "\"tile_k\": %d, \"tile_n\": %d, \"batch\": %d, "
        "\"b_offset\": %zu}", i ? "," : "", d->name,
        d->kernel_name ? d->kernel_name : "MLIR_AIE", d->name, d->name,
        d->M, d->K, d->N, d->tile_m, d->tile_k, d->tile_n, desc_batch (d),
        d->b_offset);
  }
  fprintf (m, "\n  ]\n}\n");
  if (fclose (m) != 0 && ok) {
    set_error (error, NPU_ERROR_MISSING_FILE, "cannot write %s/manifest.json",
        dir);
    ok = 0;
  }
  return ok ? 0 : -1;
}
