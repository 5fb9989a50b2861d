/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A host stand-in for the few aie_api pieces kernels/aie/mm_int8.cc uses,
 * so its indexing can be run and checked on the build machine
 * (tests/npu/test_aie_shapes.py).  It models aie::mmul's documented
 * semantics, not the hardware: A is r x s, B s x t, C r x t, each
 * row-major in its vector; the accumulator is kept in 64 bits and
 * to_vector<int32> aborts when a sum does not fit (the real acc32 would
 * wrap), so an overflow is a failure rather than a silent wrap. */
#ifndef WHISPER_AIE_HOST_AIE_HPP
#define WHISPER_AIE_HOST_AIE_HPP

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef int8_t int8;
typedef int32_t int32;
struct acc32 {};

namespace aie {

template <typename T, unsigned N> struct vector {
  T v[N];
};

template <unsigned N, typename T>
static inline vector<T, N>
load_v (const T *p)
{
  vector<T, N> r;
  for (unsigned i = 0; i < N; i++)
    r.v[i] = p[i];
  return r;
}

template <typename T, unsigned N>
static inline void
store_v (T *p, const vector<T, N> &x)
{
  for (unsigned i = 0; i < N; i++)
    p[i] = x.v[i];
}

template <typename T, unsigned N>
static inline vector<T, N>
zeros ()
{
  vector<T, N> r;
  for (unsigned i = 0; i < N; i++)
    r.v[i] = 0;
  return r;
}

template <unsigned R, unsigned S, unsigned T, typename TA, typename TB,
    typename ACC>
struct mmul {
  static constexpr unsigned size_A = R * S;
  static constexpr unsigned size_B = S * T;
  static constexpr unsigned size_C = R * T;
  int64_t acc[size_C];

  explicit mmul (const vector<int32, size_C> &c)
  {
    for (unsigned i = 0; i < size_C; i++)
      acc[i] = c.v[i];
  }

  void
  mac (const vector<TA, size_A> &a, const vector<TB, size_B> &b)
  {
    for (unsigned i = 0; i < R; i++)
      for (unsigned j = 0; j < T; j++)
        for (unsigned x = 0; x < S; x++)
          acc[i * T + j] += (int64_t) a.v[i * S + x] * b.v[x * T + j];
  }

  template <typename O>
  vector<O, size_C>
  to_vector (int shift = 0) const
  {
    vector<O, size_C> r;
    for (unsigned i = 0; i < size_C; i++) {
      int64_t x = acc[i] >> shift;
      if (x < INT32_MIN || x > INT32_MAX) {
        fprintf (stderr, "aie host stand-in: accumulator %lld overflows\n",
            (long long) x);
        abort ();
      }
      r.v[i] = (O) x;
    }
    return r;
  }
};

}  /* namespace aie */
#endif
