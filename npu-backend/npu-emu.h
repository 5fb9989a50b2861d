/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The emulated NPU device (emu-device.c): what the tests and
 * whisper-npu-check need beyond npu-device.h.
 *
 * Options (the string after "emulated:" in $WHISPER_NPU_DEVICE), comma
 * separated:
 *   gen=xdna1|xdna2        the array modelled (default xdna1: 4 columns)
 *   fault=none|timeout|error|corrupt|zeros
 *                          what runs do once fault-after runs went well:
 *                          time out, end in an error state, return
 *                          corrupted C, or return zeros while reporting
 *                          success (a kernel that does nothing)
 *   fault-after=N          good runs before the fault (default 0)
 *   fail-open=no-device|driver|memlock
 *                          open() fails as the XRT device would
 *   threads=N              host threads doing the arithmetic (default: all)
 */
#ifndef NPU_EMU_H
#define NPU_EMU_H

#include "npu-device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The first line of an emulated program's xclbin file */
#define NPU_EMU_PROGRAM_MAGIC "gst-whisper-npu emulated program 2"

/* Writes @dir/manifest.json (device "emulated") and, per program, an
 * emulated xclbin and instruction file that the emulated device loads.
 * @descs: their shapes and names; paths are ignored.  0, or -1 + error. */
int npu_emu_write_kernel_dir (const char *dir, const npu_program_desc * descs,
    int n, const char *generation, npu_error * error);

/* The timing model (docs/npu.md, "Timing model"): seconds that one run
 * of a program of @batch M x K x N GEMMs, and one sync of @bytes, would
 * take on @generation ("xdna1", "xdna2") under the stated assumptions. */
double npu_emu_model_run_seconds (const char *generation, int batch, int M,
    int K, int N);
double npu_emu_model_sync_seconds (const char *generation, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif
