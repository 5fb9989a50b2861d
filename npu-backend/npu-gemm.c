/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* npu_session and npu_linear (npu-gemm.h). */
#include "npu-gemm.h"
#include "npu-golden.h"
#include "npu-manifest.h"
#include "whisper.h"

#include <string.h>

#define DEFAULT_TIMEOUT_MS 10000
/* rows per pool task when quantising into A / dequantising from C */
#define ROW_BLOCK 32

/* A loaded program with its A and C buffers, shared by every linear of
 * its shape (one product runs at a time); with packed operands, A's
 * buffer holds B too. */
typedef struct {
  const npu_program_desc *desc;   /* the manifest's */
  npu_program *prog;
  npu_buffer *a, *c;
  int8_t *a_host;
  int32_t *c_host;
} session_program;

struct npu_session {
  const npu_device_ops *ops;
  npu_device *dev;
  npu_manifest *manifest;
  kernel_pool *pool;
  unsigned timeout_ms;
  GPtrArray *programs;      /* session_program *, in load order */
  GPtrArray *linears;       /* npu_linear *, freed with the session */
  GPtrArray *gemms;         /* npu_gemm *, freed with the session */
};

struct npu_gemm {
  npu_session *s;
  session_program *sp;
  char *what;
  int rows;                 /* per run */
};

struct npu_linear {
  npu_session *s;
  session_program *sp;
  char *what;
  int IC, OC, n_parts;
  int part_oc[4], part_col[4];  /* each part's width and first column */
  npu_buffer *b;
  float *scale;             /* [OC]: the weights' per-column scales */
  float *row_scale;         /* [max_rows]: the activations' */
  int max_rows;
};

static void
set_device_error (GError ** error, const char *what, const npu_error * e)
{
  g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_DEVICE, "NPU: %s: %s (%s)",
      what, e->message[0] ? e->message : "failed",
      npu_status_name (e->status));
}

static void
program_free (npu_session * s, session_program * sp)
{
  if (sp->a)
    s->ops->free_buffer (sp->a);
  if (sp->c)
    s->ops->free_buffer (sp->c);
  if (sp->prog)
    s->ops->free_program (sp->prog);
  g_free (sp);
}

static void
linear_free (npu_linear * lin)
{
  if (lin->b)
    lin->s->ops->free_buffer (lin->b);
  g_free (lin->scale);
  g_free (lin->row_scale);
  g_free (lin->what);
  g_free (lin);
}

npu_session *
npu_session_open (const npu_device_ops * ops, const char *options,
    const char *kernel_dir, kernel_pool * pool, GError ** error)
{
  npu_error e = { 0 };
  npu_manifest *manifest = npu_manifest_read (kernel_dir, error);
  if (!manifest)
    return NULL;
  npu_device *dev = ops->open (options, &e);
  if (!dev) {
    set_device_error (error, "cannot open the device", &e);
    npu_manifest_free (manifest);
    return NULL;
  }
  npu_session *s = g_new0 (npu_session, 1);
  s->ops = ops;
  s->dev = dev;
  s->manifest = manifest;
  s->pool = pool;
  s->timeout_ms = DEFAULT_TIMEOUT_MS;
  s->programs = g_ptr_array_new ();
  s->linears = g_ptr_array_new ();
  s->gemms = g_ptr_array_new ();
  return s;
}

void
npu_session_close (npu_session * s)
{
  if (!s)
    return;
  for (guint i = 0; i < s->linears->len; i++)
    linear_free (g_ptr_array_index (s->linears, i));
  for (guint i = 0; i < s->gemms->len; i++) {
    npu_gemm *g = g_ptr_array_index (s->gemms, i);
    g_free (g->what);
    g_free (g);
  }
  for (guint i = 0; i < s->programs->len; i++)
    program_free (s, g_ptr_array_index (s->programs, i));
  g_ptr_array_free (s->gemms, TRUE);
  g_ptr_array_free (s->linears, TRUE);
  g_ptr_array_free (s->programs, TRUE);
  s->ops->close (s->dev);
  npu_manifest_free (s->manifest);
  g_free (s);
}

const char *
npu_session_describe (npu_session * s)
{
  return s->ops->describe (s->dev);
}

void
npu_session_get_counters (npu_session * s, npu_counters * counters)
{
  s->ops->get_counters (s->dev, counters);
}

void
npu_session_set_timeout (npu_session * s, unsigned timeout_ms)
{
  s->timeout_ms = timeout_ms;
}

/* The loaded program for @desc, loading it and its A and C buffers the
 * first time. */
static session_program *
session_program_get (npu_session * s, const npu_program_desc * desc,
    GError ** error)
{
  for (guint i = 0; i < s->programs->len; i++) {
    session_program *sp = g_ptr_array_index (s->programs, i);
    if (sp->desc == desc)
      return sp;
  }
  npu_error e = { 0 };
  session_program *sp = g_new0 (session_program, 1);
  sp->desc = desc;
  if (!(sp->prog = s->ops->load_program (s->dev, desc, &e))
      || !(sp->a = s->ops->alloc (sp->prog, NPU_ARG_A,
              npu_arg_bytes (desc, NPU_ARG_A), &e))
      || !(sp->c = s->ops->alloc (sp->prog, NPU_ARG_C,
              npu_arg_bytes (desc, NPU_ARG_C), &e))) {
    char *what = g_strdup_printf ("program %s", desc->name);
    set_device_error (error, what, &e);
    g_free (what);
    program_free (s, sp);
    return NULL;
  }
  sp->a_host = s->ops->map (sp->a);
  sp->c_host = s->ops->map (sp->c);
  g_ptr_array_add (s->programs, sp);
  return sp;
}

npu_linear *
npu_session_add_linear (npu_session * s, const char *what,
    const kernel_s8_matrix * const *parts, int n_parts, int max_rows,
    GError ** error)
{
  g_return_val_if_fail (n_parts >= 1 && n_parts <= 4, NULL);
  int OC = 0;
  const int IC = parts[0]->IC;
  for (int p = 0; p < n_parts; p++) {
    g_return_val_if_fail (parts[p]->IC == IC, NULL);
    OC += parts[p]->OC;
  }
  const npu_program_desc *desc = npu_manifest_find (s->manifest, 1, FALSE,
      max_rows, IC, OC);
  if (!desc) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_DEVICE,
        "NPU: %s/manifest.json has no program for the %s product "
        "(M x K x N = %d x %d x %d)", s->manifest->dir, what, max_rows, IC,
        OC);
    return NULL;
  }
  session_program *sp = session_program_get (s, desc, error);
  if (!sp)
    return NULL;

  npu_error e = { 0 };
  npu_linear *lin = g_new0 (npu_linear, 1);
  lin->s = s;
  lin->sp = sp;
  lin->what = g_strdup (what);
  lin->IC = IC;
  lin->OC = OC;
  lin->n_parts = n_parts;
  lin->max_rows = max_rows;
  lin->scale = g_new (float, OC);
  lin->row_scale = g_new (float, max_rows);
  if (!(lin->b = s->ops->alloc (sp->prog, NPU_ARG_B,
              npu_arg_bytes (desc, NPU_ARG_B), &e))) {
    set_device_error (error, what, &e);
    linear_free (lin);
    return NULL;
  }
  /* B [K][N] = the parts' W^T side by side, zero beyond IC and OC (so
   * that A's columns past IC never count) */
  int8_t *b = s->ops->map (lin->b);
  memset (b, 0, (size_t) desc->K * desc->N);
  for (int p = 0, col = 0; p < n_parts; col += parts[p]->OC, p++) {
    const kernel_s8_matrix *w = parts[p];
    lin->part_oc[p] = w->OC;
    lin->part_col[p] = col;
    for (int oc = 0; oc < w->OC; oc++) {
      lin->scale[col + oc] = w->scale[oc];
      for (int ic = 0; ic < IC; ic++)
        b[(size_t) ic * desc->N + col + oc] = kernel_s8_matrix_at (w, oc, ic);
    }
  }
  if (s->ops->sync (lin->b, NPU_SYNC_TO_DEVICE, 0, 0, &e) != NPU_OK) {
    set_device_error (error, what, &e);
    linear_free (lin);
    return NULL;
  }
  g_ptr_array_add (s->linears, lin);
  return lin;
}

/* ------------------------------------------------------------------------ */

typedef struct {
  npu_linear *lin;
  const npu_linear_output *outs;
  const float *inp;
  int ld_inp, T;
} linear_job;

static void
quantize_task (void *ctx, int task, int worker)
{
  const linear_job *j = ctx;
  npu_linear *lin = j->lin;
  const int K = lin->sp->desc->K;
  const int r1 = MIN ((task + 1) * ROW_BLOCK, j->T);
  for (int r = task * ROW_BLOCK; r < r1; r++)
    lin->row_scale[r] = quantize_row_s8 (lin->sp->a_host + (size_t) r * K,
        j->inp + (size_t) r * j->ld_inp, lin->IC);
}

static void
dequantize_task (void *ctx, int task, int worker)
{
  const linear_job *j = ctx;
  const npu_linear *lin = j->lin;
  const int N = lin->sp->desc->N;
  const int r1 = MIN ((task + 1) * ROW_BLOCK, j->T);
  for (int p = 0; p < lin->n_parts; p++) {
    const npu_linear_output *o = &j->outs[p];
    const int col0 = lin->part_col[p], oc_n = lin->part_oc[p];
    for (int r = task * ROW_BLOCK; r < r1; r++) {
      const int32_t *acc = lin->sp->c_host + (size_t) r * N + col0;
      const float *sw = lin->scale + col0;
      const float sa = lin->row_scale[r];
      float *out = o->out + (size_t) r * o->ld_out;
      for (int c = 0; c < oc_n; c++) {
        const float y = dequantize_s32 (acc[c], sa, sw[c],
            o->bias ? o->bias[c] : 0.0f);
        out[c] = o->accumulate ? out[c] + y : y;
      }
    }
  }
}

gboolean
npu_linear_forward (npu_linear * lin, const npu_linear_output * outs,
    const float *inp, int ld_inp, int T, GError ** error)
{
  g_return_val_if_fail (T >= 1 && T <= lin->max_rows, FALSE);
  npu_session *s = lin->s;
  session_program *sp = lin->sp;
  const npu_program_desc *d = sp->desc;
  linear_job j = { lin, outs, inp, ld_inp, T };
  const int n_tasks = (T + ROW_BLOCK - 1) / ROW_BLOCK;
  npu_error e = { 0 };

  /* only the T rows in use travel, one sync each way */
  kernel_pool_run (s->pool, n_tasks, quantize_task, &j);
  if (s->ops->sync (sp->a, NPU_SYNC_TO_DEVICE, (size_t) T * d->K, 0, &e)
      != NPU_OK
      || s->ops->run (sp->prog, sp->a, lin->b, sp->c, s->timeout_ms, &e)
      != NPU_OK
      || s->ops->sync (sp->c, NPU_SYNC_FROM_DEVICE,
          (size_t) T * d->N * sizeof (int32_t), 0, &e) != NPU_OK) {
    char *what = g_strdup_printf ("%s product (program %s)", lin->what,
        d->name);
    set_device_error (error, what, &e);
    g_free (what);
    return FALSE;
  }
  kernel_pool_run (s->pool, n_tasks, dequantize_task, &j);
  return TRUE;
}

/* ------------------------------------------------------------------------ */

npu_gemm *
npu_session_add_gemm (npu_session * s, const char *what, int batch, int M,
    int K, int N, GError ** error)
{
  const npu_program_desc *desc = npu_manifest_find_rows (s->manifest, batch,
      TRUE, M, K, N);
  if (!desc) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_DEVICE,
        "NPU: %s/manifest.json has no program of %d packed products for the "
        "%s product (M x K x N = %d x %d x %d)", s->manifest->dir, batch,
        what, M, K, N);
    return NULL;
  }
  session_program *sp = session_program_get (s, desc, error);
  if (!sp)
    return NULL;
  /* the padding of B (zero on the host) reaches the device once; runs
   * then sync only what they wrote */
  npu_error e = { 0 };
  if (s->ops->sync (sp->a, NPU_SYNC_TO_DEVICE, 0, 0, &e) != NPU_OK) {
    set_device_error (error, what, &e);
    return NULL;
  }
  npu_gemm *g = g_new0 (npu_gemm, 1);
  g->s = s;
  g->sp = sp;
  g->what = g_strdup (what);
  g->rows = MIN (M, desc->M);
  g_ptr_array_add (s->gemms, g);
  return g;
}

int
npu_gemm_rows (const npu_gemm * g)
{
  return g->rows;
}

int8_t *
npu_gemm_a (npu_gemm * g, int h)
{
  const npu_program_desc *d = g->sp->desc;
  return g->sp->a_host + (size_t) h * d->M * d->K;
}

int8_t *
npu_gemm_b (npu_gemm * g, int h)
{
  const npu_program_desc *d = g->sp->desc;
  return g->sp->a_host + d->b_offset + (size_t) h * d->K * d->N;
}

const int32_t *
npu_gemm_c (npu_gemm * g, int h)
{
  const npu_program_desc *d = g->sp->desc;
  return g->sp->c_host + (size_t) h * d->M * d->N;
}

int
npu_gemm_lda (const npu_gemm * g)
{
  return g->sp->desc->K;
}

int
npu_gemm_ldb (const npu_gemm * g)
{
  return g->sp->desc->N;
}

gboolean
npu_gemm_run (npu_gemm * g, int a_rows, gboolean with_b, GError ** error)
{
  npu_session *s = g->s;
  session_program *sp = g->sp;
  const npu_program_desc *d = sp->desc;
  g_return_val_if_fail (a_rows >= 1 && a_rows <= g->rows, FALSE);
  /* one sync in: every GEMM's first a_rows rows of A (and the gaps
   * between them), and B when it changed; one out: C the same way */
  const size_t last = (size_t) (d->batch - 1) * d->M;
  const size_t a_bytes = with_b ? 0 : (last + a_rows) * d->K;
  const size_t c_bytes = (last + a_rows) * d->N * sizeof (int32_t);
  npu_error e = { 0 };
  if (s->ops->sync (sp->a, NPU_SYNC_TO_DEVICE, a_bytes, 0, &e) != NPU_OK
      || s->ops->run (sp->prog, sp->a, NULL, sp->c, s->timeout_ms, &e)
      != NPU_OK
      || s->ops->sync (sp->c, NPU_SYNC_FROM_DEVICE, c_bytes, 0, &e)
      != NPU_OK) {
    char *what = g_strdup_printf ("%s product (program %s)", g->what,
        d->name);
    set_device_error (error, what, &e);
    g_free (what);
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Self-test */

static guint32
xorshift (guint32 * state)
{
  guint32 x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

static int8_t
random_s8 (guint32 * state)
{
  return (int8_t) ((int) (xorshift (state) % 255) - 127);
}

/* Runs @sp on A (its host copy, already written) and @b (NULL with packed
 * operands); compares C with @expect [batch][M][N].  FALSE + error on a
 * device failure or a mismatch. */
static gboolean
self_test_run (npu_session * s, session_program * sp, npu_buffer * b,
    const int32_t * expect, const char *what, GError ** error)
{
  const npu_program_desc *d = sp->desc;
  npu_error e = { 0 };
  if (s->ops->sync (sp->a, NPU_SYNC_TO_DEVICE, 0, 0, &e) != NPU_OK
      || (b && s->ops->sync (b, NPU_SYNC_TO_DEVICE, 0, 0, &e) != NPU_OK)
      || s->ops->run (sp->prog, sp->a, b, sp->c, s->timeout_ms, &e) != NPU_OK
      || s->ops->sync (sp->c, NPU_SYNC_FROM_DEVICE, 0, 0, &e) != NPU_OK) {
    char *msg = g_strdup_printf ("self-test of program %s (%s case)",
        d->name, what);
    set_device_error (error, msg, &e);
    g_free (msg);
    return FALSE;
  }
  const size_t per = (size_t) d->M * d->N, n = d->batch * per;
  size_t wrong = 0, first = 0;
  for (size_t i = 0; i < n; i++)
    if (sp->c_host[i] != expect[i] && wrong++ == 0)
      first = i;
  if (wrong) {
    char *gemm = d->batch > 1 ? g_strdup_printf (" of GEMM %zu", first / per)
        : g_strdup ("");
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_DEVICE,
        "NPU: self-test of program %s failed (%s case): %zu of %zu outputs "
        "wrong, the first C[%zu][%zu]%s = %d where the golden model gives "
        "%d", d->name, what, wrong, n, first % per / d->N, first % d->N,
        gemm, sp->c_host[first], expect[first]);
    g_free (gemm);
    return FALSE;
  }
  return TRUE;
}

/* The identity case: every B_h = I (K x N), every A_h random: C_h = A_h's
 * first N columns.  The random case: each A_h random on a few rows (zero
 * elsewhere), each B_h random: those rows from the golden model, zeros
 * elsewhere.  Each GEMM of a batch gets its own numbers, so a device
 * that mixes them up fails. */
static gboolean
self_test_program (npu_session * s, session_program * sp, GError ** error)
{
  const npu_program_desc *d = sp->desc;
  const int M = d->M, K = d->K, N = d->N, batch = d->batch;
  const size_t a_per = (size_t) M * K, b_per = (size_t) K * N,
      c_per = (size_t) M * N;
  npu_error e = { 0 };
  npu_buffer *b = NULL;
  int8_t *b_host;
  if (d->b_offset)
    b_host = sp->a_host + d->b_offset;
  else if ((b = s->ops->alloc (sp->prog, NPU_ARG_B,
              npu_arg_bytes (d, NPU_ARG_B), &e)))
    b_host = s->ops->map (b);
  else {
    char *msg = g_strdup_printf ("self-test of program %s", d->name);
    set_device_error (error, msg, &e);
    g_free (msg);
    return FALSE;
  }
  int32_t *expect = g_new0 (int32_t, batch * c_per);
  guint32 rng = 0x9e3779b9u ^ (guint32) (M * 131 + K * 7 + N + batch);
  gboolean ok;

  memset (b_host, 0, batch * b_per);
  for (int h = 0; h < batch; h++) {
    int8_t *a = sp->a_host + h * a_per, *bh = b_host + h * b_per;
    int32_t *want = expect + h * c_per;
    for (int k = 0; k < MIN (K, N); k++)
      bh[(size_t) k * N + k] = 1;
    for (int i = 0; i < M; i++)
      for (int k = 0; k < K; k++) {
        const int8_t v = random_s8 (&rng);
        a[(size_t) i * K + k] = v;
        if (k < N)
          want[(size_t) i * N + k] = v;
      }
  }
  ok = self_test_run (s, sp, b, expect, "identity", error);

  if (ok) {
    enum { ROWS = 8 };
    int rows[ROWS];
    int8_t *a_rows = g_new (int8_t, (size_t) ROWS * K);
    int32_t *c_rows = g_new (int32_t, (size_t) ROWS * N);
    memset (sp->a_host, 0, batch * a_per);
    memset (expect, 0, sizeof (int32_t) * batch * c_per);
    for (size_t i = 0; i < batch * b_per; i++)
      b_host[i] = random_s8 (&rng);
    for (int h = 0; h < batch; h++) {
      int8_t *a = sp->a_host + h * a_per;
      for (int r = 0; r < ROWS; r++) {
        /* the first and last rows, and some between */
        rows[r] = r == 0 ? 0 : r == ROWS - 1 ? M - 1 :
            (int) (xorshift (&rng) % (guint32) M);
        for (int k = 0; k < K; k++)
          a_rows[(size_t) r * K + k] = a[(size_t) rows[r] * K + k] =
              random_s8 (&rng);
      }
      npu_golden_gemm_s8s32 (c_rows, a_rows, b_host + h * b_per, ROWS, K,
          N);
      for (int r = 0; r < ROWS; r++)
        memcpy (expect + h * c_per + (size_t) rows[r] * N,
            c_rows + (size_t) r * N, sizeof (int32_t) * N);
    }
    ok = self_test_run (s, sp, b, expect, "random", error);
    g_free (a_rows);
    g_free (c_rows);
  }
  /* packed: the engine's B padding must be zero again */
  memset (sp->a_host, 0, npu_arg_bytes (d, NPU_ARG_A));
  if (ok && d->b_offset && s->ops->sync (sp->a, NPU_SYNC_TO_DEVICE, 0, 0,
          &e) != NPU_OK) {
    set_device_error (error, d->name, &e);
    ok = FALSE;
  }
  if (b)
    s->ops->free_buffer (b);
  g_free (expect);
  return ok;
}

gboolean
npu_session_self_test (npu_session * s, GError ** error)
{
  for (guint i = 0; i < s->programs->len; i++)
    if (!self_test_program (s, g_ptr_array_index (s->programs, i), error))
      return FALSE;
  return TRUE;
}
