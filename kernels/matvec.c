/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Products with a few rows (one token of each beam, R <= MATVEC_MAX_ROWS)
 * and the f32 <-> f16 conversions; compiled once per instruction set
 * (kernel-isa.h).
 *
 * sgemm would pack (copy) all of W on every call, which costs as much as
 * the product itself at these shapes; here W is streamed once and each of
 * its rows meets every input row while it is in L1.  Memory bound, so the
 * weights may also come as exact half floats (half the traffic, the same
 * products). */
#include "kernel-isa.h"
#include "kernel-f16.h"
#include <string.h>

#ifdef KERNEL_ISA_AVX2
#include <immintrin.h>
#endif

/* one half at any alignment */
static inline float
half_to_f32 (const kernel_half * h)
{
  uint16_t v;
  memcpy (&v, h->bytes, 2);
  return kf16_to_f32 (v);
}

#ifdef KERNEL_ISA_AVX2
/* ------------------------------------------------------------------------
 * AVX2 + FMA + F16C
 */

static inline float
hsum256 (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v),
      _mm256_extractf128_ps (v, 1));
  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_movehdup_ps (s));
  return _mm_cvtss_f32 (s);
}

/* 8 weights at w, as floats */
static inline __m256
load_w (const float *w)
{
  return _mm256_loadu_ps (w);
}

static inline __m256
load_w16 (const kernel_half * w)
{
  return _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) w));
}

/* out[r] = dot (w, x_r) for r < R (1 <= R <= MATVEC_MAX_ROWS), n % 8 == 0;
 * LOAD reads 8 weights as floats */
#define DOT_ROWS(name, wtype, LOAD) \
static inline void \
name (float *out, const wtype *w, const float *x, int ldx, int R, int n) \
{ \
  __m256 acc[MATVEC_MAX_ROWS]; \
  if (R == 1) { \
    /* one row: four independent accumulators hide the FMA latency */ \
    __m256 a0 = _mm256_setzero_ps (), a1 = a0, a2 = a0, a3 = a0; \
    int i = 0; \
    for (; i + 32 <= n; i += 32) { \
      a0 = _mm256_fmadd_ps (LOAD (w + i), _mm256_loadu_ps (x + i), a0); \
      a1 = _mm256_fmadd_ps (LOAD (w + i + 8), _mm256_loadu_ps (x + i + 8), a1); \
      a2 = _mm256_fmadd_ps (LOAD (w + i + 16), _mm256_loadu_ps (x + i + 16), a2); \
      a3 = _mm256_fmadd_ps (LOAD (w + i + 24), _mm256_loadu_ps (x + i + 24), a3); \
    } \
    for (; i < n; i += 8) \
      a0 = _mm256_fmadd_ps (LOAD (w + i), _mm256_loadu_ps (x + i), a0); \
    out[0] = hsum256 (_mm256_add_ps (_mm256_add_ps (a0, a1), \
            _mm256_add_ps (a2, a3))); \
    return; \
  } \
  /* several rows: one accumulator per row, each w vector loaded once */ \
  for (int r = 0; r < R; r++) \
    acc[r] = _mm256_setzero_ps (); \
  for (int i = 0; i < n; i += 8) { \
    __m256 wv = LOAD (w + i); \
    for (int r = 0; r < R; r++) \
      acc[r] = _mm256_fmadd_ps (wv, \
          _mm256_loadu_ps (x + (size_t) r * ldx + i), acc[r]); \
  } \
  for (int r = 0; r < R; r++) \
    out[r] = hsum256 (acc[r]); \
}

DOT_ROWS (dot_rows, float, load_w)
DOT_ROWS (dot_rows_f16, kernel_half, load_w16)
#else
/* ------------------------------------------------------------------------
 * Portable: eight partial sums per row in plain C (vectorised by the
 * compiler where it can), the same order on every host.
 */

/* acc[r][k] += w[i + k] x_r[i + k], i over [0, n) in steps of 8, n % 8 == 0 */
static inline void
dot_rows_acc (float acc[][8], const float *w, const float *x, int ldx, int R,
    int n)
{
  for (int r = 0; r < R; r++) {
    const float *xr = x + (size_t) r * ldx;
    float a[8];
    for (int k = 0; k < 8; k++)
      a[k] = acc[r][k];
    for (int i = 0; i < n; i += 8)
      for (int k = 0; k < 8; k++)
        a[k] += w[i + k] * xr[i + k];
    for (int k = 0; k < 8; k++)
      acc[r][k] = a[k];
  }
}

static inline float
dot_acc_sum (const float a[8])
{
  return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}
#endif

/* ------------------------------------------------------------------------ */

/* Products of at least this many weights (the logits) are split over the
 * pool: a hand-off per small product costs more than it saves, badly so
 * on busy cores. */
#define SPLIT_MIN_WEIGHTS (1u << 22)

/* the arguments of a matvec, for its tasks: output columns [OC] cut into
 * n_tasks contiguous ranges */
typedef struct {
  float *out;
  const float *inp, *w, *bias;
  const kernel_half *w16;
  float alpha;
  int ld_out, ld_inp, ld_w, R, IC, OC, n_tasks;
} matvec_job;

/* output columns [o0, o1) of task */
static inline void
task_range (const matvec_job * j, int task, int *o0, int *o1)
{
  *o0 = (int) ((long) j->OC * task / j->n_tasks);
  *o1 = (int) ((long) j->OC * (task + 1) / j->n_tasks);
}

static int
matvec_n_tasks (kernel_pool * pool, int IC, int OC)
{
  if ((size_t) OC * IC < SPLIT_MIN_WEIGHTS)
    return 1;
  const int n = kernel_pool_n_threads (pool);
  return n < OC ? n : OC;
}

static void
matvec_task (void *ctx, int task, int worker)
{
  const matvec_job *j = ctx;
  const float *inp = j->inp;
  const int R = j->R, IC = j->IC, ld_inp = j->ld_inp;
  int o0, o1;
  task_range (j, task, &o0, &o1);
  for (int o = o0; o < o1; o++) {
    const float *wo = j->w + (size_t) o * j->ld_w;
    float dots[MATVEC_MAX_ROWS];
#ifdef KERNEL_ISA_AVX2
    if (IC % 8 == 0) {
      dot_rows (dots, wo, inp, ld_inp, R, IC);
    } else {
      for (int r = 0; r < R; r++) {
        const float *xr = inp + (size_t) r * ld_inp;
        float s = 0.0f;
        for (int i = 0; i < IC; i++)
          s += wo[i] * xr[i];
        dots[r] = s;
      }
    }
#else
    float acc[MATVEC_MAX_ROWS][8] = { {0} };
    const int n8 = IC & ~7;
    dot_rows_acc (acc, wo, inp, ld_inp, R, n8);
    for (int r = 0; r < R; r++) {
      const float *xr = inp + (size_t) r * ld_inp;
      float s = dot_acc_sum (acc[r]);
      for (int i = n8; i < IC; i++)
        s += wo[i] * xr[i];
      dots[r] = s;
    }
#endif
    for (int r = 0; r < R; r++)
      j->out[(size_t) r * j->ld_out + o] = j->alpha * dots[r]
          + (j->bias ? j->bias[o] : 0.0f);
  }
}

void
KFN (matvec_forward) (float *out, int ld_out, const float *inp, int ld_inp,
    const float *w, int ld_w, const float *bias, float alpha, int R, int IC,
    int OC, kernel_pool * pool)
{
  /* out [R][ld_out] (first OC columns), inp [R][ld_inp] (first IC columns),
   * w [OC][ld_w] (first IC columns), bias [OC] or NULL */
  matvec_job job = {
    .out = out, .inp = inp, .w = w, .bias = bias, .alpha = alpha,
    .ld_out = ld_out, .ld_inp = ld_inp, .ld_w = ld_w, .R = R, .IC = IC,
    .OC = OC, .n_tasks = matvec_n_tasks (pool, IC, OC),
  };
  kernel_pool_run (pool, job.n_tasks, matvec_task, &job);
}

static void
matvec_f16_task (void *ctx, int task, int worker)
{
  const matvec_job *j = ctx;
  const float *inp = j->inp;
  const int R = j->R, IC = j->IC, ld_inp = j->ld_inp;
  int o0, o1;
  task_range (j, task, &o0, &o1);
  for (int o = o0; o < o1; o++) {
    const kernel_half *wo = j->w16 + (size_t) o * IC;
    float dots[MATVEC_MAX_ROWS];
    const int n8 = IC & ~7;
#ifdef KERNEL_ISA_AVX2
    dot_rows_f16 (dots, wo, inp, ld_inp, R, n8);
#else
    /* weights converted in chunks, summed exactly as matvec_forward */
    float acc[MATVEC_MAX_ROWS][8] = { {0} };
    float wf[512];
    for (int i0 = 0; i0 < n8; i0 += 512) {
      int m = n8 - i0 < 512 ? n8 - i0 : 512;
      for (int i = 0; i < m; i++)
        wf[i] = half_to_f32 (&wo[i0 + i]);
      dot_rows_acc (acc, wf, inp + i0, ld_inp, R, m);
    }
    for (int r = 0; r < R; r++)
      dots[r] = dot_acc_sum (acc[r]);
#endif
    for (int r = 0; r < R; r++) {
      const float *xr = inp + (size_t) r * ld_inp;
      for (int i = n8; i < IC; i++)
        dots[r] += half_to_f32 (&wo[i]) * xr[i];
      j->out[(size_t) r * j->ld_out + o] = dots[r]
          + (j->bias ? j->bias[o] : 0.0f);
    }
  }
}

void
KFN (matvec_f16_forward) (float *out, int ld_out, const float *inp,
    int ld_inp, const kernel_half * w, const float *bias, int R, int IC, int OC,
    kernel_pool * pool)
{
  /* out [R][ld_out], inp [R][ld_inp], w [OC][IC] half floats, bias [OC] */
  matvec_job job = {
    .out = out, .inp = inp, .w16 = w, .bias = bias, .ld_out = ld_out,
    .ld_inp = ld_inp, .R = R, .IC = IC, .OC = OC,
    .n_tasks = matvec_n_tasks (pool, IC, OC),
  };
  kernel_pool_run (pool, job.n_tasks, matvec_f16_task, &job);
}

/* ------------------------------------------------------------------------
 * f16 <-> f32
 */

void
KFN (f16_to_f32_forward) (float *out, const void *inp, size_t N)
{
  /* out [N], inp [N] halves in host byte order, any alignment */
  const unsigned char *src = inp;
  size_t i = 0;
#ifdef KERNEL_ISA_AVX2
  for (; i + 8 <= N; i += 8)
    _mm256_storeu_ps (out + i,
        _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) (src + 2 * i))));
#endif
  for (; i < N; i++) {
    uint16_t h;
    memcpy (&h, src + 2 * i, 2);
    out[i] = kf16_to_f32 (h);
  }
}
