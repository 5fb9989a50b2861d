/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One kernel_table per instruction-set copy (kernel-isa.h). */
#include "kernel-isa.h"

const kernel_table KFN (kernel_table) = {
  .layernorm_forward = KFN (layernorm_forward),
  .gelu_forward = KFN (gelu_forward),
  .softmax_forward = KFN (softmax_forward),
  .softmax_exp_rows_forward = KFN (softmax_exp_rows_forward),
  .residual_forward = KFN (residual_forward),
  .matvec_forward = KFN (matvec_forward),
  .matvec_f16_forward = KFN (matvec_f16_forward),
  .f16_to_f32_forward = KFN (f16_to_f32_forward),
  .attention_causal_forward = KFN (attention_causal_forward),
  .attention_cross_forward = KFN (attention_cross_forward),
  .gemm_s8_forward = KFN (gemm_s8_forward),
  .bf16_from_f32_forward = KFN (bf16_from_f32_forward),
  .gemm_bf16_forward = KFN (gemm_bf16_forward),
};
