/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The encoder's products on an NPU (backend NPU): one device session per
 * encoder, the int8 weights written to the device once, one run per whole
 * product (conv1, then per block the fused q k v, out, fc1, fc2, and the
 * attention's Q K^T and P V, each for every head in one run).  The rest of the encoder (conv2,
 * softmax, LayerNorm, GELU, residuals) stays on the host, as in the CPU
 * int8 path with int8 attention, whose arithmetic this is bit for bit
 * (docs/npu.md). */
#ifndef WHISPER_ENCODER_NPU_H
#define WHISPER_ENCODER_NPU_H

#include "whisper-model.h"
#include "kernels.h"
#include "npu-device.h"

G_BEGIN_DECLS

/* A block's projections in int8, from the model's cache */
typedef struct {
  const kernel_s8_matrix *q, *k, *v, *o, *fc1, *fc2;
} encoder_layer_s8;

/* The same in bfloat16 (compute type BFLOAT16, CPU only) */
typedef struct {
  const kernel_bf16_matrix *q, *k, *v, *o, *fc1, *fc2;
} encoder_layer_bf16;

typedef struct encoder_npu encoder_npu;

typedef enum {
  ENCODER_NPU_OUT = 0,
  ENCODER_NPU_FC1,
  ENCODER_NPU_FC2,
} encoder_npu_product;

/* Opens the device that $WHISPER_NPU_DEVICE names (the XRT module when
 * unset) and reads the manifest of @kernel_dir (NULL:
 * $WHISPER_NPU_KERNEL_DIR, else the installed kernels).  NULL +
 * WHISPER_ERROR_DEVICE saying why. */
encoder_npu *encoder_npu_open (const char *kernel_dir, int F, int A,
    kernel_pool * pool, GError ** error);
/* Loads the programs (the L blocks' projections, attention's for @H
 * heads), writes the weights to the device and runs the self-test; FALSE
 * + WHISPER_ERROR_DEVICE saying why. */
gboolean encoder_npu_load (encoder_npu * npu, const kernel_s8_matrix * conv1,
    const encoder_layer_s8 * layers, int L, int H, GError ** error);
void encoder_npu_free (encoder_npu * npu);

/* "emulated NPU (...)" / the XRT device's name, and its kernel directory */
const char *encoder_npu_describe (encoder_npu * npu);
const char *encoder_npu_kernel_dir (encoder_npu * npu);
void encoder_npu_get_counters (encoder_npu * npu, npu_counters * counters);

/* x1 [F][C] = conv1 as a product of its im2col rows cols [F][M*3] */
gboolean encoder_npu_conv1 (encoder_npu * npu, float *x1, const float *cols,
    const float *bias, GError ** error);
/* q, k, v [A][C] from ln [A][C] in one run (k has no bias) */
gboolean encoder_npu_qkv (encoder_npu * npu, int layer, float *q, float *k,
    float *v, const float *ln, const float *q_bias, const float *v_bias,
    GError ** error);
/* out [A][OC] (+)= inp [A][IC] W^T + bias for block @layer's @product */
gboolean encoder_npu_project (encoder_npu * npu, int layer,
    encoder_npu_product product, float *out, const float *inp,
    const float *bias, int accumulate, GError ** error);

/* out [A][C] = self-attention of q, k, v ([A][ld_qkv] views, the first C
 * columns) with its products on the device: attention_s8_forward's
 * arithmetic, bit for bit (kernels.h), two runs for all the heads */
gboolean encoder_npu_attention (encoder_npu * npu, float *out,
    const float *q, const float *k, const float *v, int ld_qkv,
    GError ** error);

G_END_DECLS
#endif
