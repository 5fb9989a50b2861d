/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CPU kernels: array math with no model knowledge (float32).
 *
 * Style follows llm.c: plain functions named <op>_forward, arguments in the
 * order outputs, scratch, inputs, weights, dimensions.  All arrays are
 * row-major and densely packed unless a leading dimension says otherwise.
 * Letters used in shape comments:
 *   T = rows / time steps (1500 or 3000)    C = channels (384, 512)
 *   OC = output channels / features          IC = input channels
 *   K = convolution kernel width (3)         H = heads, hs = C / H
 *   R = a few rows (one per beam)            B = sequences, N = new rows each
 *   P = rows already in a KV cache           A = keys of cross-attention
 *
 * Threads: every kernel that forks takes the caller's kernel_pool (pool.h;
 * NULL = the calling thread only) and splits its work into tasks on it.
 * OpenBLAS is set to one thread once, at the first kernel call, and the
 * GEMMs are split by rows over the pool instead.  See docs/kernels.md,
 * Threads.
 *
 * CPU dispatch: the kernels with fast paths exist in a portable and an
 * AVX2 + FMA + F16C copy, chosen once per process from cpuid;
 * WHISPER_CPU_BASELINE=1 forces the portable copy.  See docs/kernels.md.
 */
#ifndef WHISPER_KERNELS_H
#define WHISPER_KERNELS_H

#include <stddef.h>
#include "kernel-f16.h"
#include "pool.h"
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which copy of the kernels runs: "avx2" or "portable". */
const char *kernels_cpu_path (void);

/* ---------------------------------------------------------------------------
 * Memory for weights and working buffers: 64-byte aligned, NULL when out of
 * memory; blocks from 128 KiB on are mapped and unmapped directly, so that
 * a freed encoder or model gives its pages back to the system whichever
 * thread allocated it (memory.c says why).  kernel_alloc_zero zero-fills.
 * Free with kernel_free only (NULL is ignored). */
void *kernel_alloc (size_t bytes);
void *kernel_alloc_zero (size_t bytes);
void kernel_free (void *p);

/* ---------------------------------------------------------------------------
 * matmul: out = inp W^T + bias (a PyTorch nn.Linear), through cblas_sgemm,
 * rows split over the pool's threads (from 64 rows on).
 *   out  [T][OC]     inp [T][IC]
 *   w    [OC][IC]    bias [OC] or NULL
 */
void matmul_forward (float *out, const float *inp, const float *w,
    const float *bias, int T, int IC, int OC, kernel_pool * pool);

/* The same with explicit leading dimensions (row strides, in floats) of
 * out and inp, for writing into / reading from column slices of wider
 * arrays. */
void matmul_forward_ld (float *out, int ld_out, const float *inp, int ld_inp,
    const float *w, const float *bias, int T, int IC, int OC,
    kernel_pool * pool);

/* Accumulating form for residual connections:
 *   out += inp W^T + bias      out [T][OC], inp [T][IC], w [OC][IC] */
void matmul_add_forward (float *out, const float *inp, const float *w,
    const float *bias, int T, int IC, int OC, kernel_pool * pool);

/* ---------------------------------------------------------------------------
 * matvec: the same product for a few rows, R <= MATVEC_MAX_ROWS (one token
 * of each beam), W streamed once for all rows instead of packed by sgemm:
 *   out [R][ld_out] = alpha inp [R][ld_inp] W^T + bias
 *   w [OC][ld_w] (first IC columns)   bias [OC] or NULL
 * Forks only for big products (OC x IC >= 2^22: the logits). */
#define MATVEC_MAX_ROWS 8
void matvec_forward (float *out, int ld_out, const float *inp, int ld_inp,
    const float *w, int ld_w, const float *bias, float alpha, int R, int IC,
    int OC, kernel_pool * pool);

/* An IEEE half float in host byte order, stored at any alignment (model
 * files place tensors at arbitrary offsets; the kernels read them there). */
typedef struct {
  unsigned char bytes[2];
} kernel_half;

/* The same with the weights as half floats, w16 [OC][IC] (alpha 1). */
void matvec_f16_forward (float *out, int ld_out, const float *inp,
    int ld_inp, const kernel_half * w16, const float *bias, int R, int IC,
    int OC, kernel_pool * pool);

/* out [R][OC] = inp [R][IC] W^T + bias for any R: matvec up to
 * MATVEC_MAX_ROWS rows (w16, the same weights as exact half floats, when
 * not NULL), else matmul_forward. */
void linear_forward (float *out, const float *inp, const float *w,
    const kernel_half * w16, const float *bias, int R, int IC, int OC,
    kernel_pool * pool);

/* The product of matmul_forward with W given only as half floats, w16
 * [OC][IC]: converted MATMUL_F16_BLOCK rows at a time into scratch
 * [MATMUL_F16_BLOCK][IC], so that no float32 copy of W is kept. */
#define MATMUL_F16_BLOCK 256
void matmul_f16_forward (float *out, float *scratch, const float *inp,
    const kernel_half * w16, const float *bias, int R, int IC, int OC,
    kernel_pool * pool);

/* ---------------------------------------------------------------------------
 * int8 (docs/quantization.md): weights symmetric per output channel,
 * activations symmetric per row, quantised when used; the whole sum over
 * IC in int32; one dequantise step per output.
 *
 * quantize_row_s8: q [K] = x [K] / s rounded to nearest (ties to even),
 *   s = max |x| / 127 (q in -127 .. 127); returns s.  A row of zeros (or
 *   without a finite maximum) gives q = 0, s = 0; a NaN element gives 0.
 * dequantize_s32: y = fmaf (acc, s_a * s_w, bias), one rounding for the
 *   scale product and one for the multiply-add. */
float quantize_row_s8 (int8_t * q, const float *x, int K);
float dequantize_s32 (int32_t acc, float s_a, float s_w, float bias);

/* An int8 weight W [OC][IC] with one scale per output channel (row),
 * packed for the kernels: panels of 16 rows, in each panel groups of 4
 * input channels, [OCp / 16][ICp / 4][16][4] (one 64-byte group is the 4
 * inputs of 16 outputs: an AVX-512 VNNI operand, two AVX2 ones); rows and
 * columns padded with zeros to OCp, ICp. */
#define KERNEL_S8_PANEL 16
typedef struct {
  int OC, IC;
  int OCp, ICp;       /* multiples of 16 and 4 */
  int8_t *w;          /* [OCp / 16][ICp / 4][16][4] */
  float *scale;       /* [OCp], 0 in the padding */
} kernel_s8_matrix;

kernel_s8_matrix *kernel_s8_matrix_new (int OC, int IC);   /* zeros */
/* element (oc, ic) of the packed values */
static inline int8_t
kernel_s8_matrix_at (const kernel_s8_matrix * m, int oc, int ic)
{
  return m->w[(size_t) (oc / KERNEL_S8_PANEL) * KERNEL_S8_PANEL * m->ICp
      + (size_t) (ic / 4) * 4 * KERNEL_S8_PANEL + (oc % KERNEL_S8_PANEL) * 4
      + ic % 4];
}
void kernel_s8_matrix_free (kernel_s8_matrix * m);
/* row oc from its int8 values q [IC] and its scale (value = q * scale) */
void kernel_s8_matrix_set_row (kernel_s8_matrix * m, int oc,
    const int8_t * q, float scale);
/* row oc quantised from row [IC]; -1 when out of memory */
int kernel_s8_matrix_quantize_row (kernel_s8_matrix * m, int oc,
    const float *row);

/* out [T][ld_out] (+)= dequantize (quantize_rows (inp [T][ld_inp]) W^T) +
 * bias, W [OC][IC] int8, bias [OC] or NULL; accumulate: out += ... (a
 * residual connection), else out = ...; any T (one row per beam up to a
 * 1500-row window).
 *   scratch: matmul_s8_scratch_size (T, IC) bytes, 64-byte aligned */
size_t matmul_s8_scratch_size (int T, int IC);
void matmul_s8_forward (float *out, int ld_out, void *scratch,
    const float *inp, int ld_inp, const kernel_s8_matrix * w,
    const float *bias, int T, int accumulate, kernel_pool * pool);

/* ---------------------------------------------------------------------------
 * bfloat16 (docs/quantization.md, bfloat16): weights and activations
 * rounded to bfloat16 (the top 16 bits of a float32, rounded to nearest
 * with ties to even; NaN stays NaN), products summed in float32.
 *
 * kernel_bf16_from_f32 (kernel-math.h) is the rounding; bf16_from_f32_forward
 * rounds an array with it. */
void bf16_from_f32_forward (uint16_t * out, const float *inp, size_t N);

/* A weight W [OC][IC] in bfloat16, packed for the kernels: panels of 16
 * rows, in each panel pairs of input channels, [OCp / 16][ICp / 2][16][2]
 * (one 64-byte group: an AVX-512 BF16 operand); padded with zeros. */
#define KERNEL_BF16_PANEL 16
typedef struct {
  int OC, IC;
  int OCp, ICp;       /* multiples of 16 and 2 */
  uint16_t *w;        /* [OCp / 16][ICp / 2][16][2] */
} kernel_bf16_matrix;

kernel_bf16_matrix *kernel_bf16_matrix_new (int OC, int IC);      /* zeros */
void kernel_bf16_matrix_free (kernel_bf16_matrix * m);
/* row oc, rounded from row [IC] */
void kernel_bf16_matrix_set_row (kernel_bf16_matrix * m, int oc,
    const float *row);

/* out [T][ld_out] (+)= bf16 (inp [T][ld_inp]) W^T + bias, summed in
 * float32; bias [OC] or NULL; accumulate: out += ...
 *   scratch: matmul_bf16_scratch_size (T, IC) bytes
 * kernels_bf16_native: 1 when the dispatched copy has the AVX-512 BF16
 * product (vdpbf16ps), 0 when it computes the same in float32 FMAs
 * (several times slower than float32's sgemm). */
size_t matmul_bf16_scratch_size (int T, int IC);
void matmul_bf16_forward (float *out, int ld_out, void *scratch,
    const float *inp, int ld_inp, const kernel_bf16_matrix * w,
    const float *bias, int T, int accumulate, kernel_pool * pool);
int kernels_bf16_native (void);

/* The encoder's self-attention with a bfloat16 PV product
 * (attention-bf16.c):
 *   S = Q_h K_h^T / sqrt (hs) in float32, E = exp (S - rowmax S),
 *   out_h = (bf16 (E) bf16 (V_h)) / sum E, the sum in float32.
 * q, k, v [T][ld_qkv] (heads side by side in the first C columns), out
 * [T][C].  kernel_attention_bf16 holds the packed V_h and the threads'
 * scratch for T positions, C channels, H heads and up to n_threads
 * threads. */
typedef struct kernel_attention_bf16 kernel_attention_bf16;
kernel_attention_bf16 *kernel_attention_bf16_new (int T, int C, int H,
    int n_threads);
void kernel_attention_bf16_free (kernel_attention_bf16 * a);
void attention_bf16_forward (float *out, kernel_attention_bf16 * a,
    const float *q, const float *k, const float *v, int ld_qkv,
    kernel_pool * pool);

/* ---------------------------------------------------------------------------
 * f32 <-> f16 (IEEE half).
 *   f16_to_f32_forward: out [N] = inp [N] halves in host byte order, any
 *     alignment; exact
 *   one value: kf16_to_f32 (exact), kf32_to_f16 (round to nearest even),
 *     inline in kernel-f16.h */
void f16_to_f32_forward (float *out, const void *inp, size_t N);

/* ---------------------------------------------------------------------------
 * Token + position embedding (a decoder's input):
 *   out [B][N][C] = wte [tokens[b][i]] + wpe [P + i]
 *   tokens [B][N] (in range: the caller checks), wte [V][C] or, when NULL,
 *   wte16 [V][C] as half floats (exact), wpe [P+N][C] */
void embedding_forward (float *out, const int *tokens, const float *wte,
    const kernel_half * wte16, const float *wpe, int B, int N, int P, int C);

/* Residual connection: out = inp1 + inp2      out, inp1, inp2 [N] */
void residual_forward (float *out, const float *inp1, const float *inp2,
    size_t N);

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
void gelu_forward (float *out, const float *inp, size_t N,
    kernel_pool * pool);

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
void softmax_forward (float *out, const float *inp, int T, int N,
    kernel_pool * pool);

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
 *   scratch: attention_scratch_size(T, C, H, kernel_pool_n_threads (pool))
 *            floats
 * Runs on the pool (blocks of query rows x heads), with OpenBLAS
 * single-threaded inside (see attention.c).
 */
void attention_forward (float *out, float *scratch, const float *q,
    const float *k, const float *v, int ld_qkv, int T, int C, int H,
    kernel_pool * pool);

/* n_threads: of the pool the attention will run on (1 for NULL) */
size_t attention_scratch_size (int T, int C, int H, int n_threads);

/* The same attention with int8 products (docs/quantization.md,
 * "Attention"), per head h (hs = C / H):
 *   S = dequantize (q8 rows of Q_h  x  q8 rows of (K_h - mean key) ^T),
 *       the key scales times attention_s8_key_scale (hs) = 1 / sqrt (hs)
 *   E = exp (S - rowmax S) (float32) = P_hi s_hi + P_lo s_lo, two int8
 *       rows per row of E (the second: the first's rounding error)
 *   out_h = (dequantize (P_hi x q8 columns of V_h) + the same of P_lo)
 *           / sum E
 * kernel_attention_s8 holds the packed K_h, V_h and the threads' scratch
 * for T positions and a pool of n_threads; NULL when out of memory or
 * hs is not a multiple of 4.  out, q, k, v as attention_forward's. */
typedef struct kernel_attention_s8 kernel_attention_s8;
kernel_attention_s8 *kernel_attention_s8_new (int T, int C, int H,
    int n_threads);
void kernel_attention_s8_free (kernel_attention_s8 * a);
void attention_s8_forward (float *out, kernel_attention_s8 * a,
    const float *q, const float *k, const float *v, int ld_qkv,
    kernel_pool * pool);

/* Its steps, for the NPU host code (which must give the same bits):
 * attention_s8_key_scale: the factor folded into the key scales;
 * attention_s8_pack_head: head h's keys less their mean, k8 [T][hs] with
 *   scales s_k [T] (times the key scale), and its V columns, v8 [hs][T]
 *   with s_v [hs]; col [T + 2 hs] is scratch;
 * attention_s8_probs_forward: s [m][T] scores (dequantised) to the
 *   exponentials in place, then p_hi and p_lo [m][ld_p] (first T
 *   columns), their scales s_hi, s_lo [m] and norm [m] = 1 / sum E;
 * attention_s8_combine: an output from its two dequantised halves. */
float attention_s8_key_scale (int hs);
void attention_s8_pack_head (int8_t * k8, float *s_k, int8_t * v8,
    float *s_v, float *col, const float *k, const float *v, int ld_qkv,
    int T, int hs, int h);
void attention_s8_probs_forward (int8_t * p_hi, int8_t * p_lo, int ld_p,
    float *s_hi, float *s_lo, float *norm, float *s, int m, int T);
float attention_s8_combine (float o_hi, float o_lo, float norm);

/* Causal multi-head attention of N new rows per sequence over a KV cache
 * (a decoder's self-attention); the new keys / values are written into the
 * cache first:
 *   k_cache[b][P + i] = k[b][i], v_cache[b][P + i] = v[b][i]   (i < N)
 *   out[b][i]_h = softmax(q[b][i]_h k_cache[b][0 .. P+i]_h^T / sqrt(hs))
 *                 v_cache[b][0 .. P+i]_h
 *   out, q, k, v [B][N][C]    k_cache, v_cache [B][T][C] (T rows per sequence)
 *   scores scratch [N][P + N] */
void attention_causal_forward (float *out, float *scores, float *k_cache,
    float *v_cache, const float *q, const float *k, const float *v, int B,
    int N, int P, int T, int C, int H);

/* Cross-attention of R rows over A keys / values, no mask:
 *   out[r]_h = softmax(q[r]_h k_h^T / sqrt(hs)) v_h
 *   out, q [R][C]   k, v [A][C]   scores scratch [R][A] */
void attention_cross_forward (float *out, float *scores, const float *q,
    const float *k, const float *v, int R, int A, int C, int H);

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
    int stride, int pad, kernel_pool * pool);

int conv1d_out_len (int T_in, int K, int stride, int pad);

/* conv1d_forward's first step alone: cols [T_out][IC*K] from inp
 * [T_in][IC], for a convolution whose GEMM runs elsewhere (int8). */
void conv1d_im2col_forward (float *cols, const float *inp, int T_in, int IC,
    int K, int stride, int pad, kernel_pool * pool);

/* Transpose:  out [cols][rows] = inp [rows][cols]^T */
void transpose_forward (float *out, const float *inp, int rows, int cols);

/* ---------------------------------------------------------------------------
 * The engine's one random number generator (splitmix64): explicit state
 * that its owner seeds, so sampling and synthetic weights are reproducible.
 */
typedef struct {
  uint64_t s;
} whisper_rng;

void whisper_rng_seed (whisper_rng * rng, uint64_t seed);
/* uniform in [0, 1), 53 random bits */
double whisper_rng_uniform (whisper_rng * rng);

#ifdef __cplusplus
}
#endif
#endif /* WHISPER_KERNELS_H */
