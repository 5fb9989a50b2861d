/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's RNG: splitmix64 (Steele, Lea, Flood 2014). */
#include "kernels.h"

void
whisper_rng_seed (whisper_rng * rng, uint64_t seed)
{
  rng->s = seed;
}

static uint64_t
rng_next (whisper_rng * rng)
{
  uint64_t z = (rng->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double
whisper_rng_uniform (whisper_rng * rng)
{
  return (rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);   /* 2^-53 */
}
