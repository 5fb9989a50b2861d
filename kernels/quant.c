/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's one int8 quantisation (docs/quantization.md): the pair of
 * functions that define it, and the packed int8 weight matrix.
 *
 * The kernels (gemm-s8.c, every instruction-set copy) and the NPU golden
 * model compute exactly these values: the integer sums are exact, and the
 * float steps below are the same operations in the same order. */
#include "kernel-isa.h"
#include "kernel-math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float
quantize_row_s8 (int8_t * q, const float *x, int K)
{
  /* q [K], x [K] */
  float amax = 0.0f;
  for (int k = 0; k < K; k++) {
    float a = fabsf (x[k]);
    amax = a > amax ? a : amax;         /* NaN never wins */
  }
  if (!(amax > 0.0f) || !isfinite (amax)) {
    memset (q, 0, (size_t) K);
    return 0.0f;
  }
  const float inv = 127.0f / amax;
  for (int k = 0; k < K; k++) {
    float v = kmath_round_even (x[k] * inv);
    v = v > 127.0f ? 127.0f : v;
    v = v < -127.0f ? -127.0f : v;
    q[k] = (int8_t) (v == v ? v : 0.0f);
  }
  return amax / 127.0f;
}

float
dequantize_s32 (int32_t acc, float s_a, float s_w, float bias)
{
  return fmaf ((float) acc, s_a * s_w, bias);
}

/* ------------------------------------------------------------------------ */

kernel_s8_matrix *
kernel_s8_matrix_new (int OC, int IC)
{
  if (OC <= 0 || IC <= 0)
    return NULL;
  kernel_s8_matrix *m = calloc (1, sizeof *m);
  if (!m)
    return NULL;
  m->OC = OC;
  m->IC = IC;
  m->OCp = (OC + KERNEL_S8_PANEL - 1) / KERNEL_S8_PANEL * KERNEL_S8_PANEL;
  m->ICp = (IC + 3) / 4 * 4;
  m->w = kernel_alloc_zero ((size_t) m->OCp * m->ICp);
  m->scale = kernel_alloc_zero ((size_t) m->OCp * sizeof (float));
  if (!m->w || !m->scale) {
    kernel_s8_matrix_free (m);
    return NULL;
  }
  return m;
}

void
kernel_s8_matrix_free (kernel_s8_matrix * m)
{
  if (!m)
    return;
  kernel_free (m->w);
  kernel_free (m->scale);
  free (m);
}

void
kernel_s8_matrix_set_row (kernel_s8_matrix * m, int oc, const int8_t * q,
    float scale)
{
  /* row oc of W, q [IC]: into panel oc / 16, at [k / 4][oc % 16][k % 4] */
  int8_t *panel = m->w + (size_t) (oc / KERNEL_S8_PANEL) * KERNEL_S8_PANEL
      * m->ICp;
  const int c = oc % KERNEL_S8_PANEL;
  for (int k = 0; k < m->IC; k++)
    panel[(size_t) (k / 4) * 4 * KERNEL_S8_PANEL + c * 4 + k % 4] = q[k];
  m->scale[oc] = scale;
}

int
kernel_s8_matrix_quantize_row (kernel_s8_matrix * m, int oc, const float *row)
{
  int8_t *q = malloc ((size_t) m->IC);
  if (!q)
    return -1;
  float s = quantize_row_s8 (q, row, m->IC);
  kernel_s8_matrix_set_row (m, oc, q, s);
  free (q);
  return 0;
}
