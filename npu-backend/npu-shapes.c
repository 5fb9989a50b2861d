/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* npu_encoder_programs (npu-shapes.h) */
#include "npu-shapes.h"

#include <stdio.h>
#include <string.h>

#define TILE_M 64
#define TILE_K 64
#define ARRAY_ROWS 4            /* compute tiles per column, both generations */
#define WINDOW_FRAMES 3000
#define POSITIONS 1500
#define CONV_K 3
#define HEAD_SIZE 64            /* n_state / n_head of every Whisper model */
#define PACK_ALIGN 4096         /* B's offset in packed operands: a page */

static int
round_up (int x, int to)
{
  return (x + to - 1) / to * to;
}

/* The widest n tile (a multiple of 16 up to 64) that divides N into the
 * array's columns */
static int
tile_n_for (int N, int cols)
{
  for (int n = 64; n >= 16; n -= 16)
    if (N % (n * cols) == 0)
      return n;
  return 0;
}

int
npu_encoder_programs (int n_mels, int n_state, int n_head,
    const char *generation, npu_program_desc * out, char (*names)[32])
{
  int cols;
  if (strcmp (generation, "xdna1") == 0)
    cols = 4;
  else if (strcmp (generation, "xdna2") == 0)
    cols = 8;
  else
    return -1;
  if (n_head < 1)
    return -1;
  const int C = n_state;
  const int Mp = round_up (POSITIONS, TILE_M * ARRAY_ROWS);
  /* attention: N is padded (keys, a head's channels) to whole n tiles */
  const int shapes[NPU_ENCODER_MAX_PROGRAMS][3] = {
    {round_up (WINDOW_FRAMES, TILE_M * ARRAY_ROWS),
        round_up (n_mels * CONV_K, TILE_K), C},        /* conv1 */
    {Mp, C, 3 * C},             /* q k v */
    {Mp, C, C},                 /* out */
    {Mp, C, 4 * C},             /* fc1 */
    {Mp, 4 * C, C},             /* fc2 */
    {Mp, HEAD_SIZE, Mp},        /* a head's Q K^T */
    {round_up (2 * POSITIONS, TILE_M * ARRAY_ROWS), POSITIONS,
        round_up (HEAD_SIZE, 16 * cols)},   /* [P_hi; P_lo] V */
  };
  for (int i = 0; i < NPU_ENCODER_MAX_PROGRAMS; i++) {
    npu_program_desc *d = &out[i];
    memset (d, 0, sizeof *d);
    d->M = shapes[i][0];
    d->K = round_up (shapes[i][1], TILE_K);
    d->N = shapes[i][2];
    d->tile_m = TILE_M;
    d->tile_k = TILE_K;
    d->tile_n = tile_n_for (d->N, cols);
    if (!d->tile_n)
      return -1;
    d->kernel_name = "MLIR_AIE";
    d->batch = 1;
    if (i < NPU_ENCODER_MAX_PROGRAMS - 2) {
      snprintf (names[i], 32, "gemm-%dx%dx%d", d->M, d->K, d->N);
    } else {
      /* attention: every head of a layer in one run, both operands in
       * one buffer (they change together) */
      d->batch = n_head;
      d->b_offset = (size_t) round_up (n_head * d->M * d->K, PACK_ALIGN);
      /* the shapes here are at most 22 characters */
      char name[64];
      snprintf (name, sizeof name, "bgemm-%dx%dx%dx%d", d->batch, d->M,
          d->K, d->N);
      memcpy (names[i], name, 31);
      names[i][31] = '\0';
    }
    d->name = names[i];
  }
  return NPU_ENCODER_MAX_PROGRAMS;
}
