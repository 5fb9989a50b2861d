/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* print-npu-shapes: the engine's table of NPU GEMM programs
 * (npu_encoder_programs), one line per program,
 *
 *   gen model M K N tile_m tile_k tile_n batch b_offset
 *
 * for both generations and every encoder size, in the order of
 * kernels/aie/shapes.py's default output; tests/npu/test_aie_shapes.py
 * compares the two.  The model table is written out here again on purpose:
 * it is the other half of the comparison.  Exit 1 when the engine refuses
 * a model it should take.
 */
#include "npu-shapes.h"

#include <stdio.h>

static const struct {
  const char *name;
  int n_mels, n_state, n_head;
} models[] = {
  {"tiny", 80, 384, 6},
  {"base", 80, 512, 8},
  {"small", 80, 768, 12},
  {"medium", 80, 1024, 16},
  {"large", 80, 1280, 20},
  {"large-v2", 80, 1280, 20},
  {"large-v3", 128, 1280, 20},
};

int
main (void)
{
  static const char *const generations[] = { "xdna1", "xdna2" };
  for (size_t g = 0; g < sizeof generations / sizeof generations[0]; g++) {
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
      npu_program_desc progs[NPU_ENCODER_MAX_PROGRAMS];
      char names[NPU_ENCODER_MAX_PROGRAMS][32];
      int n = npu_encoder_programs (models[i].n_mels, models[i].n_state,
          models[i].n_head, generations[g], progs, names);
      if (n <= 0) {
        fprintf (stderr, "print-npu-shapes: no programs for %s on %s\n",
            models[i].name, generations[g]);
        return 1;
      }
      for (int p = 0; p < n; p++)
        printf ("%s %s %d %d %d %d %d %d %d %zu\n", generations[g],
            models[i].name, progs[p].M, progs[p].K, progs[p].N,
            progs[p].tile_m, progs[p].tile_k, progs[p].tile_n,
            progs[p].batch, progs[p].b_offset);
    }
  }
  /* an unknown generation is refused, not guessed */
  {
    npu_program_desc progs[NPU_ENCODER_MAX_PROGRAMS];
    char names[NPU_ENCODER_MAX_PROGRAMS][32];
    if (npu_encoder_programs (80, 384, 6, "xdna3", progs, names) != -1) {
      fprintf (stderr, "print-npu-shapes: generation xdna3 accepted\n");
      return 1;
    }
  }
  return fflush (stdout) == 0 ? 0 : 1;
}
