/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stand-in XRT's log and knobs, for tests (C callable, exported by
 * the whisper-npu-xrt-standin module too, for dlsym).
 *
 * The stand-in (include/xrt/..., xrt-standin.cpp) implements the subset of
 * XRT's C++ API that npu-backend/xrt/xrt-shim.cpp calls, with one device
 * (index 0) and these formats:
 *
 *   xclbin: a text file, first line XRT_STANDIN_XCLBIN_MAGIC, then lines
 *           "kernel NAME" (the kernels a hw_context of it offers); its
 *           uuid is a hash of its bytes.
 *   instructions: 32-bit little-endian words, XRT_STANDIN_INSTS_MAGIC,
 *           M, K, N, batch, b_offset, then any number of padding words (a
 *           real sequence is hundreds of words; the run reads the first
 *           six).
 *
 * Every buffer has a host copy (map()) and a device copy (poison-filled,
 * 0x5a); only sync() copies between them.  A run with opcode 3 reads the
 * instruction buffer's device copy (argument 1, the word count argument 2
 * must not pass its end) and computes the batch of npu-device.h,
 * C_h [M][N] int32 = A_h [M][K] x B_h [K][N] (npu_golden_gemm_s8s32), for
 * h = 0 .. batch-1, each operand's batch back to back, on the device
 * copies of the bos bound to the kernel arguments:
 *   b_offset 0: A from argument 3, B from argument 4, C into argument 5;
 *   b_offset > 0 (packed operands): A from argument 3 and B from the same
 *           bo at byte b_offset (at least batch * M * K, a multiple of
 *           4096), C into argument 4; argument 5 must be unbound.
 * Each bo must be in the memory group of its argument
 * (XRT_STANDIN_GROUP (argno)).  Anything else (a wrong opcode, word
 * count, magic, batch or offset, memory group, a buffer too small) ends
 * the run in ERT_CMD_STATE_ERROR.
 */
#ifndef XRT_STANDIN_H
#define XRT_STANDIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XRT_STANDIN_XCLBIN_MAGIC "xrt-standin-xclbin 1"
#define XRT_STANDIN_INSTS_MAGIC 0x58545253u   /* "SRTX" */
/* kernel.group_id (argno) of the stand-in: not the argument index, so a
 * buffer made with the index for its group is told apart */
#define XRT_STANDIN_GROUP(argno) (0x100u + (unsigned) (argno))

typedef struct {
  unsigned devices_opened;
  unsigned device_name_queries;
  unsigned xclbins_read;
  unsigned registers;           /* register_xclbin() calls */
  unsigned hw_contexts;
  unsigned kernels;
  unsigned run_objects;         /* xrt::run (kernel) constructions */
  unsigned starts;
  unsigned waits;
  unsigned aborts;
  unsigned bos;                 /* buffers made */
  unsigned bos_live;            /* buffers not yet destroyed */
  unsigned syncs_to_device;
  unsigned syncs_from_device;
  uint64_t bytes_to_device;
  uint64_t bytes_from_device;
} xrt_standin_counts;

typedef struct {
  int id;                       /* in order of creation, from 0 */
  uint32_t flags;               /* xrt::bo::flags */
  uint32_t group;
  size_t size;
} xrt_standin_bo_record;

typedef struct {
  int bo;
  int direction;                /* XCL_BO_SYNC_BO_TO_DEVICE, ... */
  size_t size, offset;
} xrt_standin_sync_record;

typedef struct {
  int run_object;               /* which xrt::run, in order of creation */
  uint32_t opcode;
  uint64_t word_count;          /* argument 2 */
  size_t word_count_bytes;      /* the size the shim passed it with */
  int bo[6];                    /* bo ids bound to arguments 0..5, -1 none */
  uint32_t group[6];            /* those bos' memory groups, 0 none */
  size_t syncs_before;          /* sync records logged before the start */
  unsigned timeout_ms;          /* of the wait after the start, 0 none */
  int state;                    /* ert_cmd_state the run ended in */
  int M, K, N, batch;           /* read from the instructions, 0 if not */
  size_t b_offset;              /* read from the instructions */
} xrt_standin_run_record;

/* forgets the log and clears every knob (not the buffers alive) */
void xrt_standin_reset (void);
void xrt_standin_get_counts (xrt_standin_counts * counts);
size_t xrt_standin_n_bos (void);
int xrt_standin_get_bo (size_t i, xrt_standin_bo_record * rec);
size_t xrt_standin_n_syncs (void);
int xrt_standin_get_sync (size_t i, xrt_standin_sync_record * rec);
size_t xrt_standin_n_runs (void);
int xrt_standin_get_run (size_t i, xrt_standin_run_record * rec);

/* The next run ends in @state instead of running: ERT_CMD_STATE_TIMEOUT
 * makes it hang (wait() returns ERT_CMD_STATE_TIMEOUT, abort() ends it),
 * ERT_CMD_STATE_ERROR (or any other) makes it end so.  0 clears. */
void xrt_standin_next_run_state (int state);
/* xrt::device () throws std::runtime_error (@what); NULL clears */
void xrt_standin_fail_device_open (const char *what);
/* register_xclbin () throws (@what), as a firmware mismatch does */
void xrt_standin_fail_register (const char *what);
/* the stand-in's /dev/accel (also declared in its xrt/xrt_device.h, for
 * the shim's NPU_XRT_ACCEL_DIR) */
const char *xrt_standin_accel_dir (void);
/* makes or removes accel0 in xrt_standin_accel_dir () (a directory of
 * its own per process, removed at exit); loaded at start */
void xrt_standin_set_driver_loaded (int loaded);

/* Writes a stand-in program: an xclbin offering @kernel_name and an
 * instruction file for @batch (0: 1) GEMMs M K N per run, packed with B at
 * @b_offset or not (0), with @pad_words padding words; a
 * @insts_extra_bytes of 1..3 leaves the file short of a whole word.
 * Returns 0, or -1 when a file cannot be written or a value does not fit
 * in its word. */
int xrt_standin_write_program (const char *xclbin_path,
    const char *insts_path, const char *kernel_name, int M, int K, int N,
    int batch, size_t b_offset, int pad_words, int insts_extra_bytes);

#ifdef __cplusplus
}
#endif
#endif
