/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reference GEMM of the NPU's programs, written as plainly as it can
 * be: C [M][N] int32 = A [M][K] int8 x B [K][N] int8, each sum over the
 * whole K in int32.  The self-test (npu-gemm.c) and the tests check devices
 * against it; the emulated device's fast arithmetic is checked against it
 * too. */
#ifndef NPU_GOLDEN_H
#define NPU_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void npu_golden_gemm_s8s32 (int32_t * C, const int8_t * A, const int8_t * B,
    int M, int K, int N);

#ifdef __cplusplus
}
#endif
#endif
