/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* npu_golden_gemm_s8s32 (npu-golden.h) */
#include "npu-golden.h"

void
npu_golden_gemm_s8s32 (int32_t * C, const int8_t * A, const int8_t * B,
    int M, int K, int N)
{
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      int32_t acc = 0;
      for (int k = 0; k < K; k++)
        acc += (int32_t) A[(size_t) m * K + k] * B[(size_t) k * N + n];
      C[(size_t) m * N + n] = acc;
    }
}
