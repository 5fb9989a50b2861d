/* CPU kernels: array math with no model knowledge (float32).
 *
 * Style follows llm.c: plain functions named <op>_forward, arguments in the
 * order outputs, scratch, inputs, weights, dimensions.  All arrays are
 * row-major and densely packed unless a leading dimension says otherwise.
 * Letters used in shape comments:
 *   T = rows / time steps (1500 or 3000)    C = channels (384, 512)
 *   OC = output channels / features          IC = input channels
 *   K = convolution kernel width (3)         H = heads, hs = C / H
 *
 * Threads: OpenMP, with the calling thread's omp_set_num_threads()
 * setting.  The GEMMs of matmul_* / conv1d_forward are split by rows over
 * the OpenMP threads, each calling OpenBLAS single-threaded, when the
 * caller has set openblas_set_num_threads(1); otherwise they are one sgemm
 * call on OpenBLAS's own threads.  attention_forward always runs OpenBLAS
 * single-threaded inside its OpenMP tasks.  See docs/kernels.md, Threads.
 */
#ifndef WHISPER_KERNELS_H
#define WHISPER_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * matmul: out = inp W^T + bias (a PyTorch nn.Linear), through cblas_sgemm.
 *   out  [T][OC]     inp [T][IC]
 *   w    [OC][IC]    bias [OC] or NULL
 */
void matmul_forward (float *out, const float *inp, const float *w,
    const float *bias, int T, int IC, int OC);

/* The same with explicit leading dimensions (row strides, in floats) of
 * out and inp, for writing into / reading from column slices of wider
 * arrays. */
void matmul_forward_ld (float *out, int ld_out, const float *inp, int ld_inp,
    const float *w, const float *bias, int T, int IC, int OC);

/* Accumulating form for residual connections:
 *   out += inp W^T + bias      out [T][OC], inp [T][IC], w [OC][IC] */
void matmul_add_forward (float *out, const float *inp, const float *w,
    const float *bias, int T, int IC, int OC);

/* ---------------------------------------------------------------------------
 * layernorm over the last dimension, biased variance (PyTorch nn.LayerNorm):
 *   out[t][c] = (inp[t][c] - mean_t) / sqrt(var_t + eps) * w[c] + b[c]
 *   out, inp [T][C] (may alias)   w, b [C]
 */
void layernorm_forward (float *out, const float *inp, const float *w,
    const float *b, int T, int C, float eps);

/* ---------------------------------------------------------------------------
 * GELU, exact (erf) form as PyTorch's default nn.GELU(approximate='none'):
 *   out = 0.5 x (1 + erf(x / sqrt(2)))      out, inp [N] (may alias)
 */
void gelu_forward (float *out, const float *inp, size_t N);

/* exp(x) for float, vectorisable, relative error < 2 ulp on [-87, 88];
 * returns +0.0 below about -87.7 (where the true value is subnormal). */
float exp_approx (float x);

/* erf(x) for float, vectorisable, absolute error < 2.5e-7. */
float erf_approx (float x);

/* ---------------------------------------------------------------------------
 * softmax over each row, with the row maximum subtracted before exp so that
 * no term overflows:  out[t][j] = exp(inp[t][j] - max_t) / sum_j(...)
 *   out, inp [T][N] (may alias)
 */
void softmax_forward (float *out, const float *inp, int T, int N);

/* The unnormalised part, on the calling thread: x = exp(x - rowmax) in
 * place and inv_sum[t] = 1 / sum_j x[t][j], for callers that apply the
 * 1/sum later to a smaller array (attention scales P v instead of P).
 *   x [T][N], inv_sum [T] */
void softmax_exp_rows_forward (float *x, float *inv_sum, int T, int N);

/* ---------------------------------------------------------------------------
 * Multi-head scaled dot-product attention, no mask (encoder self-attention):
 *   for each head h: out_h = softmax(q_h k_h^T / sqrt(hs)) v_h
 *   out [T][C]: heads side by side (head h in columns h*hs .. h*hs+hs-1)
 *   q, k, v: [T][C] views with row stride ld_qkv (floats), so that they may
 *            be column slices of one [T][3C] array
 *   scratch: attention_scratch_size(T, C, H, n_threads) floats
 * Runs on n_threads OpenMP threads (blocks of query rows x heads), with
 * OpenBLAS single-threaded inside (see attention.c).
 */
void attention_forward (float *out, float *scratch, const float *q,
    const float *k, const float *v, int ld_qkv, int T, int C, int H,
    int n_threads);

size_t attention_scratch_size (int T, int C, int H, int n_threads);

/* ---------------------------------------------------------------------------
 * 1-D convolution (PyTorch nn.Conv1d, zero padding, dilation 1), as im2col
 * followed by one GEMM.  Time-major ("channels last") layout:
 *   out  [T_out][OC], T_out = (T_in + 2 pad - K) / stride + 1
 *   cols scratch [T_out][IC*K]
 *   inp  [T_in][IC]
 *   w    [OC][IC][K]   bias [OC] or NULL
 */
void conv1d_forward (float *out, float *cols, const float *inp,
    const float *w, const float *bias, int T_in, int IC, int OC, int K,
    int stride, int pad);

int conv1d_out_len (int T_in, int K, int stride, int pad);

/* Transpose:  out [cols][rows] = inp [rows][cols]^T */
void transpose_forward (float *out, const float *inp, int rows, int cols);

#ifdef __cplusplus
}
#endif
#endif /* WHISPER_KERNELS_H */
