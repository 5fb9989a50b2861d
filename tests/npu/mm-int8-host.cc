/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs kernels/aie/mm_int8.cc on the host (with tests/npu/aie-host's
 * aie_api stand-in) the way the design drives it: zero_i32, then one
 * matmul_i8_i32 per k step on tiles in the blocked layouts the memory
 * tile writes, and compares C with the int8 GEMM computed directly.
 * Built and run by tests/npu/test_aie_shapes.py for each mmul shape;
 * DIM_M/K/N and MMUL_R/S/T come from mm_int8.cc.  Exit 0 when equal. */
#include "mm_int8.cc"

#include <stdio.h>
#include <stdlib.h>

#define K_STEPS 3

int
main (void)
{
  constexpr unsigned m = DIM_M, k = DIM_K, n = DIM_N;
  constexpr unsigned r = MMUL_R, s = MMUL_S, t = MMUL_T;
  constexpr unsigned K = k * K_STEPS;
  static int8_t A[m][K], B[K][n];
  static int8_t a_blk[m * k], b_blk[k * n];
  static int32_t c_blk[m * n];
  uint32_t seed = 12345;
  for (unsigned i = 0; i < m; i++)
    for (unsigned x = 0; x < K; x++) {
      seed = seed * 1664525u + 1013904223u;
      A[i][x] = (int8_t) (seed >> 24);
    }
  for (unsigned x = 0; x < K; x++)
    for (unsigned j = 0; j < n; j++) {
      seed = seed * 1664525u + 1013904223u;
      B[x][j] = (int8_t) (seed >> 24);
    }
  /* the extremes: a row and a column of -128 */
  for (unsigned x = 0; x < K; x++)
    A[1][x] = B[x][2] = -128;

  zero_i32 (c_blk);
  for (unsigned step = 0; step < K_STEPS; step++) {
    /* A [m/r][k/s][r][s], B [k/s][n/t][s][t] */
    for (unsigned i = 0; i < m; i++)
      for (unsigned x = 0; x < k; x++)
        a_blk[((i / r) * (k / s) + x / s) * r * s + (i % r) * s + x % s] =
            A[i][step * k + x];
    for (unsigned x = 0; x < k; x++)
      for (unsigned j = 0; j < n; j++)
        b_blk[((x / s) * (n / t) + j / t) * s * t + (x % s) * t + j % t] =
            B[step * k + x][j];
    matmul_i8_i32 (a_blk, b_blk, c_blk);
  }
  unsigned bad = 0;
  for (unsigned i = 0; i < m; i++)
    for (unsigned j = 0; j < n; j++) {
      int64_t want = 0;
      for (unsigned x = 0; x < K; x++)
        want += (int64_t) A[i][x] * B[x][j];
      int32_t got =
          c_blk[((i / r) * (n / t) + j / t) * r * t + (i % r) * t + j % t];
      if (got != want && bad++ < 5)
        fprintf (stderr, "C[%u][%u] = %d, want %lld\n", i, j, got,
            (long long) want);
    }
  printf ("mm_int8.cc %ux%ux%u, mmul %ux%ux%u, %u k steps: %u wrong\n", m,
      k, n, r, s, t, K_STEPS, bad);
  return bad ? 1 : 0;
}
