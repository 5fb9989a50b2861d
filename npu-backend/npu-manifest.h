/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel directory's manifest.json (kernels/aie/README.md): which
 * GEMM programs exist, their shapes and files. */
#ifndef NPU_MANIFEST_H
#define NPU_MANIFEST_H

#include <glib.h>

#include "npu-device.h"

G_BEGIN_DECLS

typedef struct {
  char *dir;              /* the directory the manifest is in */
  char *device;           /* "npu1", "npu2", "emulated" */
  char *generation;       /* "xdna1", "xdna2" */
  npu_program_desc *programs;   /* paths absolute, strings owned here */
  int n_programs;
} npu_manifest;

/* Reads @dir/manifest.json.  NULL + error (WHISPER_ERROR_DEVICE) naming
 * the file and the field when it is absent or malformed. */
npu_manifest *npu_manifest_read (const char *dir, GError ** error);
void npu_manifest_free (npu_manifest * m);

/* The program of @batch GEMMs per run, with packed operands or not as
 * @packed says, that computes an M x K x N product with the least padding
 * (its M, K, N each at least the product's), or NULL. */
const npu_program_desc *npu_manifest_find (const npu_manifest * m,
    int batch, gboolean packed, int M, int K, int N);
/* The same, or when no such program has M rows, the one with the most
 * rows (then run once per block of rows) among those that take K and N. */
const npu_program_desc *npu_manifest_find_rows (const npu_manifest * m,
    int batch, gboolean packed, int M, int K, int N);

G_END_DECLS
#endif
