/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The GEMM programs a Whisper encoder needs on the NPU, with the tile
 * sizes of each generation: the same table as kernels/aie/shapes.py, which
 * builds the real kernels (a test compares the two). */
#ifndef NPU_SHAPES_H
#define NPU_SHAPES_H

#include "npu-device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NPU_ENCODER_MAX_PROGRAMS 7

/* Fills @out (NPU_ENCODER_MAX_PROGRAMS entries) with the products of an
 * encoder of @n_mels bands, @n_state channels and @n_head heads: conv1
 * (im2col, 3000 frames), fused qkv, out, fc1, fc2 (1500 positions), one
 * GEMM per run; then attention's two, batched over the @n_head heads of
 * a layer with packed operands (B at the first page after the batch of
 * A): Q K^T (64 channels) and [P_hi; P_lo] V (two int8 rows of P per
 * query: docs/quantization.md, "Attention").  M padded to the array's
 * rows of tiles, K to the tile, attention's N to whole n tiles; names
 * "gemm-MxKxN" and "bgemm-BATCHxMxKxN" in @names
 * (NPU_ENCODER_MAX_PROGRAMS x 32 bytes).  xclbin and instruction paths
 * are left NULL.  @generation: "xdna1" or "xdna2".  Returns the count, or
 * -1 for an unknown generation, no heads or a state no tiling takes. */
int npu_encoder_programs (int n_mels, int n_state, int n_head,
    const char *generation, npu_program_desc * out, char (*names)[32]);

#ifdef __cplusplus
}
#endif
#endif
