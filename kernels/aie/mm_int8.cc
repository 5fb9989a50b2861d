/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The compute-tile kernel of the int8 GEMM program (gemm_int8.py):
 *
 *   zero_i32 (c)            c[DIM_M x DIM_N] int32 = 0
 *   matmul_i8_i32 (a, b, c) c += a[DIM_M x DIM_K] int8 x b[DIM_K x DIM_N]
 *
 * The design calls zero_i32 once per output tile and matmul_i8_i32 once
 * per k step, so c holds the running int32 sum over the whole K: each call
 * loads it into the accumulators, adds its k step and stores it back as
 * int32 with no shift, rounding or saturation (the exact integer sum; a
 * Whisper K of at most 5120 keeps |sum| below 5120 * 128 * 128 < 2^31).
 *
 * Layouts (written by the memory tile's DMA, gemm_int8.py's dims):
 *   a  [DIM_M/r][DIM_K/s][r][s]   r x s blocks, row-major, blocks row-major
 *   b  [DIM_K/s][DIM_N/t][s][t]
 *   c  [DIM_M/r][DIM_N/t][r][t]
 * with the aie::mmul shape r x s x t of int8 x int8 -> acc32 for the
 * target: 4 x 8 x 8 on AIE2 (XDNA 1, npu1), 8 x 8 x 8 on AIE2P (XDNA 2,
 * npu2; built with -DWHISPER_AIE2P).
 *
 * Build (Peano / llvm-aie, see README.md):
 *   clang++ -O2 -std=c++20 --target=aie2-none-unknown-elf \
 *     -I <mlir-aie>/include -DDIM_M=64 -DDIM_K=64 -DDIM_N=48 \
 *     -c mm_int8.cc -o mm_i8_64x64x48.o
 */
#include <stdint.h>

#include <aie_api/aie.hpp>

#ifndef DIM_M
#define DIM_M 64
#endif
#ifndef DIM_K
#define DIM_K 64
#endif
#ifndef DIM_N
#define DIM_N 64
#endif

#ifdef WHISPER_AIE2P
constexpr unsigned MMUL_R = 8, MMUL_S = 8, MMUL_T = 8;
#else
constexpr unsigned MMUL_R = 4, MMUL_S = 8, MMUL_T = 8;
#endif

/* The kernel works on 2 x 2 mmul tiles of C at a time: four accumulators
 * fed by two loads of A and two of B per k block. */
static_assert (DIM_M % (2 * MMUL_R) == 0, "DIM_M: whole pairs of r rows");
static_assert (DIM_K % MMUL_S == 0, "DIM_K: whole s blocks");
static_assert (DIM_N % (2 * MMUL_T) == 0, "DIM_N: whole pairs of t columns");

template <unsigned M, unsigned K, unsigned N, unsigned R, unsigned S,
    unsigned T>
static inline void
matmul_blocked (const int8_t *__restrict pa, const int8_t *__restrict pb,
    int32_t *__restrict pc)
{
  using MMUL = aie::mmul<R, S, T, int8, int8, acc32>;
  constexpr unsigned rb = M / R;        /* row blocks of A and C */
  constexpr unsigned kb = K / S;        /* k blocks */
  constexpr unsigned nb = N / T;        /* column blocks of B and C */

  for (unsigned i = 0; i < rb; i += 2) {
    for (unsigned j = 0; j < nb; j += 2) {
      int32_t *__restrict c00 = pc + (i * nb + j) * MMUL::size_C;
      int32_t *__restrict c01 = c00 + MMUL::size_C;
      int32_t *__restrict c10 = c00 + nb * MMUL::size_C;
      int32_t *__restrict c11 = c10 + MMUL::size_C;
      const int8_t *__restrict a0 = pa + i * kb * MMUL::size_A;
      const int8_t *__restrict a1 = a0 + kb * MMUL::size_A;
      const int8_t *__restrict b0 = pb + j * MMUL::size_B;
      const int8_t *__restrict b1 = b0 + MMUL::size_B;

      /* the running sums of the earlier k steps, exact int32 */
      MMUL acc00 (aie::load_v<MMUL::size_C> (c00));
      MMUL acc01 (aie::load_v<MMUL::size_C> (c01));
      MMUL acc10 (aie::load_v<MMUL::size_C> (c10));
      MMUL acc11 (aie::load_v<MMUL::size_C> (c11));

      for (unsigned kk = 0; kk < kb; kk++) {
        aie::vector<int8, MMUL::size_A> va0 =
            aie::load_v<MMUL::size_A> (a0);
        aie::vector<int8, MMUL::size_A> va1 =
            aie::load_v<MMUL::size_A> (a1);
        aie::vector<int8, MMUL::size_B> vb0 =
            aie::load_v<MMUL::size_B> (b0);
        aie::vector<int8, MMUL::size_B> vb1 =
            aie::load_v<MMUL::size_B> (b1);
        a0 += MMUL::size_A;
        a1 += MMUL::size_A;
        /* the next k block of the same B columns is a row of blocks on */
        b0 += nb * MMUL::size_B;
        b1 += nb * MMUL::size_B;
        acc00.mac (va0, vb0);
        acc01.mac (va0, vb1);
        acc10.mac (va1, vb0);
        acc11.mac (va1, vb1);
      }

      /* shift 0: acc32 to int32 is the identity, no requantisation */
      aie::store_v (c00, acc00.template to_vector<int32> (0));
      aie::store_v (c01, acc01.template to_vector<int32> (0));
      aie::store_v (c10, acc10.template to_vector<int32> (0));
      aie::store_v (c11, acc11.template to_vector<int32> (0));
    }
  }
}

extern "C" {

void
zero_i32 (int32_t *__restrict c)
{
  constexpr unsigned lanes = 16;        /* 512-bit stores */
  static_assert ((DIM_M * DIM_N) % lanes == 0, "C tile: whole vectors");
  const aie::vector<int32, lanes> z = aie::zeros<int32, lanes> ();
  for (unsigned i = 0; i < DIM_M * DIM_N; i += lanes)
    aie::store_v (c + i, z);
}

void
matmul_i8_i32 (const int8_t *__restrict a, const int8_t *__restrict b,
    int32_t *__restrict c)
{
  matmul_blocked<DIM_M, DIM_K, DIM_N, MMUL_R, MMUL_S, MMUL_T> (a, b, c);
}

}  /* extern "C" */
