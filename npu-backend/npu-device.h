/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NPU device ABI: what the engine asks of a device that runs fixed-shape
 * int8 GEMM programs, batch of them per run (1 for the projections, a
 * layer's heads for attention),
 *
 *   C_h [M][N] int32 = A_h [M][K] int8  x  B_h [K][N] int8   (row-major),
 *   h = 0 .. batch-1, each operand's batch back to back in its buffer,
 *
 * with the whole K sum in int32 (the int8 quantisation of
 * docs/quantization.md: the host quantises A, dequantises C).
 *
 * Kernel arguments: a program reads A from argument 3, B from argument 4
 * and writes C to argument 5, except a program with packed operands
 * (b_offset > 0): it reads A and B both from argument 3, B starting at
 * byte b_offset, and writes C to argument 4.  Packed operands change
 * together with one sync (attention's, where both change every run).
 *
 * Two implementations fill an npu_device_ops table:
 *   - the emulated device (npu-backend/emu-device.c, always built), which
 *     models what host code can get wrong: separate host and device copies
 *     of every buffer, poisoned outputs, fixed shapes, faults, counters and
 *     a labelled timing model;
 *   - the XRT shim (npu-backend/xrt/, C++ over XRT's API), built only where
 *     XRT has xrt::hw_context, installed as a module and loaded with
 *     dlopen() (npu-load.c), never at plugin registration.
 *
 * Plain C, no GLib: the shim is C++ and includes this header as it is.
 * Nothing here is thread-safe across calls on one device; the engine calls
 * a device from one thread at a time.
 */
#ifndef NPU_DEVICE_H
#define NPU_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever npu_device_ops or the structs below change; a module
 * built for another version is refused. */
#define NPU_DEVICE_ABI_VERSION 2

/* The name of the module's one exported symbol: a function returning its
 * table, `const npu_device_ops *whisper_npu_device_ops (void)`. */
#define NPU_DEVICE_OPS_SYMBOL "whisper_npu_device_ops"

typedef enum {
  NPU_OK = 0,
  NPU_ERROR_NO_DEVICE,      /* no NPU, or its kernel driver is not loaded */
  NPU_ERROR_DRIVER,         /* driver, firmware or XRT version mismatch */
  NPU_ERROR_MEMLOCK,        /* RLIMIT_MEMLOCK too low for the buffers */
  NPU_ERROR_MISSING_FILE,   /* an xclbin or instruction file is absent or
                               unreadable */
  NPU_ERROR_BAD_PROGRAM,    /* a file is not a usable program (format, no
                               such kernel, wrong word count) */
  NPU_ERROR_BAD_SHAPE,      /* a shape the program's tiling cannot take */
  NPU_ERROR_BAD_ARGUMENT,   /* a buffer of another program or argument, a
                               size or offset out of range, ... */
  NPU_ERROR_NO_MEMORY,
  NPU_ERROR_TIMEOUT,        /* a run did not finish within its timeout */
  NPU_ERROR_RUN,            /* a run finished in an error state */
} npu_status;

/* Every call that can fail fills one of these (when not NULL): a status
 * and a message for a user, naming the file, shape or limit involved. */
typedef struct {
  npu_status status;
  char message[512];
} npu_error;

/* "ok", "no device", ... (static strings, for logs) */
const char *npu_status_name (npu_status status);

/* The operands a program's buffers hold. */
typedef enum {
  NPU_ARG_A = 0,    /* int8  [batch][M][K], host to device; with packed
                       operands also B, at b_offset */
  NPU_ARG_B = 1,    /* int8  [batch][K][N], host to device (weights: once);
                       no buffer of its own with packed operands */
  NPU_ARG_C = 2,    /* int32 [batch][M][N], device to host */
} npu_arg;

typedef enum {
  NPU_SYNC_TO_DEVICE = 0,
  NPU_SYNC_FROM_DEVICE = 1,
} npu_sync_direction;

/* One program: an xclbin and the instruction sequence that drives it,
 * computing one GEMM shape.  Strings are borrowed for the call. */
typedef struct {
  const char *name;         /* for messages, e.g. "gemm-1536x384x1152" */
  const char *xclbin_path;
  const char *insts_path;   /* instruction sequence: little-endian 32-bit
                               words, the file's size / 4 of them */
  const char *kernel_name;  /* the xclbin's kernel, "MLIR_AIE" */
  int M, K, N;              /* the GEMM the program computes */
  int tile_m, tile_k, tile_n;  /* one core's tile */
  int batch;                /* GEMMs per run, >= 1 */
  size_t b_offset;          /* 0: B is argument 4's; > 0: packed operands,
                               B in A's buffer from this byte (at least
                               batch * M * K, a multiple of 4096) */
} npu_program_desc;

/* The bytes of @arg's buffer for program @d (0: B, packed) */
static inline size_t
npu_arg_bytes (const npu_program_desc * d, npu_arg arg)
{
  const size_t batch = d->batch > 1 ? (size_t) d->batch : 1;
  const size_t b_bytes = batch * d->K * d->N;
  switch (arg) {
    case NPU_ARG_A:
      return d->b_offset ? d->b_offset + b_bytes : batch * d->M * d->K;
    case NPU_ARG_B:
      return d->b_offset ? 0 : b_bytes;
    case NPU_ARG_C:
      return batch * d->M * d->N * sizeof (int32_t);
  }
  return 0;
}

/* The kernel argument index of @arg's buffer for program @d (3, 4, 5 or
 * with packed operands 3, -, 4) */
static inline unsigned
npu_arg_index (const npu_program_desc * d, npu_arg arg)
{
  if (arg == NPU_ARG_C)
    return d->b_offset ? 4u : 5u;
  return arg == NPU_ARG_A ? 3u : 4u;
}

/* Counted since the device was opened; the engine's tests assert them. */
typedef struct {
  uint64_t runs;                /* completed or failed run() calls */
  uint64_t syncs_to_device;
  uint64_t syncs_from_device;
  uint64_t bytes_to_device;
  uint64_t bytes_from_device;
  uint64_t buffer_allocs;       /* alloc() calls that made a buffer */
  uint64_t instruction_loads;   /* instruction sequences copied to the
                                   device (once per program load) */
  uint64_t contexts;            /* hardware contexts made (xclbins
                                   registered) */
  double modelled_seconds;      /* the emulated device's timing model, sum
                                   over runs and syncs; 0 on hardware */
} npu_counters;

typedef struct npu_device npu_device;
typedef struct npu_program npu_program;
typedef struct npu_buffer npu_buffer;

typedef struct {
  uint32_t abi_version;     /* NPU_DEVICE_ABI_VERSION */
  const char *name;         /* "emulated", "xrt" */

  /* Opens the device.  options: implementation-specific, may be NULL
   * (XRT: the device index as a decimal string; the emulated device:
   * docs/npu.md, "The emulated device"). */
  npu_device *(*open) (const char *options, npu_error * error);
  /* Frees every program and buffer still open on it, then the device. */
  void (*close) (npu_device * dev);
  /* A line for logs: device name, generation, firmware or "emulated ...". */
  const char *(*describe) (npu_device * dev);

  /* Loads a program: its xclbin (registered once per device), a hardware
   * context and kernel for it, and its instruction sequence into a
   * device buffer (counted in instruction_loads).  Refuses shapes the
   * tiling cannot take (NPU_ERROR_BAD_SHAPE). */
  npu_program *(*load_program) (npu_device * dev,
      const npu_program_desc * desc, npu_error * error);
  void (*free_program) (npu_program * prog);

  /* A buffer of @bytes for operand @arg of @prog; it may be used only
   * with @prog.  The host copy is zero-filled.  NPU_ERROR_BAD_ARGUMENT
   * for B of a program with packed operands. */
  npu_buffer *(*alloc) (npu_program * prog, npu_arg arg, size_t bytes,
      npu_error * error);
  void (*free_buffer) (npu_buffer * buf);
  /* The host copy: write A and B here, read C here after a sync from the
   * device.  Valid until free_buffer(). */
  void *(*map) (npu_buffer * buf);
  /* Copies [offset, offset + bytes) between the host and device copies;
   * bytes 0 means the whole buffer. */
  npu_status (*sync) (npu_buffer * buf, npu_sync_direction direction,
      size_t bytes, size_t offset, npu_error * error);

  /* Runs @prog on the device copies of @a, @b, @c and waits for it, at
   * most @timeout_ms milliseconds (0: no limit); @b is NULL for packed
   * operands.  C's host copy is not touched: sync it from the device to
   * read the result. */
  npu_status (*run) (npu_program * prog, npu_buffer * a, npu_buffer * b,
      npu_buffer * c, unsigned timeout_ms, npu_error * error);

  void (*get_counters) (npu_device * dev, npu_counters * counters);
} npu_device_ops;

/* The emulated device's table (always built, emu-device.c). */
const npu_device_ops *npu_emulated_device_ops (void);

#ifdef __cplusplus
}
#endif
#endif
