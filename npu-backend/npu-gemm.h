/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* int8 products on an NPU device (npu-device.h): the host half of the
 * int8 quantisation (docs/quantization.md) around the device's int32 GEMM.
 *
 * An npu_session is one open device with the programs of one kernel
 * directory.  An npu_linear is one weight matrix (or several side by side,
 * such as q, k, v) transposed, quantised and synced to the device once;
 * npu_linear_forward() then quantises activations straight into the
 * program's mapped A buffer, runs the program once over the whole product
 * and dequantises straight from its C buffer: the same arithmetic as
 * matmul_s8_forward, bit for bit.  Buffers are allocated when a linear
 * is added, never in forward().
 */
#ifndef NPU_GEMM_H
#define NPU_GEMM_H

#include <glib.h>

#include "kernels.h"
#include "npu-device.h"

G_BEGIN_DECLS

typedef struct npu_session npu_session;
typedef struct npu_linear npu_linear;

/* Opens the device of @ops with @options and reads @kernel_dir's
 * manifest.  @pool runs the host's quantise and dequantise steps.
 * NULL + WHISPER_ERROR_DEVICE naming the reason on failure. */
npu_session *npu_session_open (const npu_device_ops * ops,
    const char *options, const char *kernel_dir, kernel_pool * pool,
    GError ** error);
void npu_session_close (npu_session * s);

/* The device's line for logs (npu_device_ops.describe) */
const char *npu_session_describe (npu_session * s);
void npu_session_get_counters (npu_session * s, npu_counters * counters);
/* Milliseconds a run may take before it counts as a device failure. */
void npu_session_set_timeout (npu_session * s, unsigned timeout_ms);

/* A product of up to @max_rows rows by the @n_parts weights, side by side
 * (all with the same IC): loads the program that takes it (once per
 * shape), allocates its buffers, writes the weights.  @what names the
 * product in messages. */
npu_linear *npu_session_add_linear (npu_session * s, const char *what,
    const kernel_s8_matrix * const *parts, int n_parts, int max_rows,
    GError ** error);

/* Where part i of a product goes: out [T][ld_out] (+)= its columns + bias
 * (bias [OC] or NULL; accumulate: add to out, a residual) */
typedef struct {
  float *out;
  int ld_out;
  const float *bias;
  int accumulate;
} npu_linear_output;

/* outs [n_parts] (+)= dequantize (quantize_rows (inp [T][ld_inp]) W^T),
 * T <= max_rows.  FALSE + WHISPER_ERROR_DEVICE when the device fails; the
 * outputs are then not written. */
gboolean npu_linear_forward (npu_linear * lin, const npu_linear_output * outs,
    const float *inp, int ld_inp, int T, GError ** error);

/* A batch of @batch products whose operands both change with every run
 * (a layer's attention heads): the program of @batch GEMMs with packed
 * operands that computes at least @M x @K x @N, or when the kernel
 * directory has none that tall, the tallest that takes K and N, run once
 * per block of npu_gemm_rows() rows; its A (holding B too) and C
 * buffers.  The host writes A_h [rows][npu_gemm_lda] and B_h [K rows]
 * [npu_gemm_ldb] of GEMM h through the pointers below; columns and rows
 * past the product's must stay zero in B (they are at allocation, and
 * synced once then), so that A's padding never counts. */
typedef struct npu_gemm npu_gemm;
npu_gemm *npu_session_add_gemm (npu_session * s, const char *what,
    int batch, int M, int K, int N, GError ** error);
int npu_gemm_rows (const npu_gemm * g);   /* rows of A per run, <= M */
int8_t *npu_gemm_a (npu_gemm * g, int h);
int8_t *npu_gemm_b (npu_gemm * g, int h);
const int32_t *npu_gemm_c (npu_gemm * g, int h);
int npu_gemm_lda (const npu_gemm * g);    /* the program's K */
int npu_gemm_ldb (const npu_gemm * g);    /* the program's N; C's too */
/* Syncs the first @a_rows (<= npu_gemm_rows) rows of every A_h, and with
 * @with_b every B_h, to the device in one sync, runs the program once
 * and syncs the first @a_rows rows of every C_h back in one.  FALSE +
 * WHISPER_ERROR_DEVICE when the device fails. */
gboolean npu_gemm_run (npu_gemm * g, int a_rows, gboolean with_b,
    GError ** error);

/* Known-answer test of every program loaded so far (an identity case and
 * a random one against the golden model, each over the whole product):
 * FALSE + an error naming the program, the case and the first wrong
 * element. */
gboolean npu_session_self_test (npu_session * s, GError ** error);

G_END_DECLS
#endif
