/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encoder benchmark: milliseconds per 30 s window for each model, the
 * GFLOP/s reached, and beside it the machine's float32 GEMM ceiling
 * measured in the same run (OpenBLAS sgemm 1500 x 1536 x 384, the shape of
 * tiny's fc1, on the same threads).
 *
 *   bench-encoder [--threads N] [--runs N] [--random]
 *                 [--compute-type T]... [--int8-attention] [MODEL...]
 *
 * MODEL is a path or a known name (default: tiny.en base).  Each model
 * runs in each compute type given (default auto), int8 also with int8
 * attention when --int8-attention is given (kernels.h, attention_s8).  With --random,
 * models with tiny's and base's dimensions and random weights are used
 * instead of files (timing does not depend on the weight values).  A model
 * that is not installed is reported and skipped; exit 77 if none ran.
 */
#include "encoder.h"
#include "whisper.h"
#include "random-encoder-model.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_s (void)
{
  return g_get_monotonic_time () * 1e-6;
}

/* CPU time of the whole process (all threads), seconds: under load from
 * other processes it is less noisy than wall time. */
static double
cpu_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Best-of-n GFLOP/s of out[M][N] = a[M][K] b[N][K]^T on n_threads. */
static double
sgemm_ceiling (int n_threads, int M, int N, int K)
{
  float *a = malloc ((size_t) M * K * 4), *b = malloc ((size_t) N * K * 4);
  float *c = malloc ((size_t) M * N * 4);
  for (size_t i = 0; i < (size_t) M * K; i++)
    a[i] = random_encoder_frand ();
  for (size_t i = 0; i < (size_t) N * K; i++)
    b[i] = random_encoder_frand ();
  openblas_set_num_threads (n_threads);
  double best = INFINITY;
  for (int r = 0; r < 20; r++) {
    double t = now_s ();
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a,
        K, b, K, 0.0f, c, N);
    t = now_s () - t;
    if (r > 0 && t < best)
      best = t;
  }
  /* back to the kernels' setting (one OpenBLAS thread, kernels_init) */
  openblas_set_num_threads (1);
  free (a), free (b), free (c);
  return 2.0 * M * N * K / best * 1e-9;
}

static int
bench_model (const char *label, const whisper_model * model, int n_threads,
    int n_runs, double ceiling, whisper_compute_type compute_type,
    gboolean int8_attention)
{
  GError *err = NULL;
  whisper_encoder *enc = whisper_encoder_new (model,
      &(whisper_encoder_params) { .n_threads = n_threads,
        .compute_type = compute_type, .int8_attention = int8_attention },
      &err);
  if (!enc) {
    fprintf (stderr, "%s: %s\n", label, err->message);
    g_error_free (err);
    return -1;
  }
  const whisper_hparams *hp = &model->hp;
  size_t n_mel = (size_t) hp->n_mels * WHISPER_WINDOW_FRAMES;
  float *mel = malloc (n_mel * 4);
  float *out = malloc ((size_t) hp->n_audio_ctx * hp->n_audio_state * 4);
  for (size_t i = 0; i < n_mel; i++)
    mel[i] = 0.5f + 0.5f * random_encoder_frand ();

  whisper_encoder_run (enc, mel, out);        /* warm-up: page faults, pools */
  double *t = malloc (n_runs * sizeof (double));
  whisper_encoder_set_profiling (enc, TRUE);
  double cpu0 = cpu_s ();
  for (int r = 0; r < n_runs; r++) {
    double t0 = now_s ();
    whisper_encoder_run (enc, mel, out);
    t[r] = now_s () - t0;
  }
  double cpu = (cpu_s () - cpu0) / n_runs;
  whisper_encoder_profile p;
  whisper_encoder_take_profile (enc, &p);
  qsort (t, n_runs, sizeof (double), cmp_double);
  double flops = whisper_encoder_flops (hp);
  double best = t[0], median = t[n_runs / 2];
  printf ("%-10s %s%s\n", label, whisper_compute_type_name
      (whisper_encoder_get_compute_type (enc)), int8_attention ?
      ", int8 attention" : "");
  printf ("%-10s C=%d L=%d H=%d  %.1f GFLOP/window  best %.1f ms  median "
      "%.1f ms  %.1f GFLOP/s (best) = %.0f%% of ceiling\n", label,
      hp->n_audio_state, hp->n_audio_layer, hp->n_audio_head, flops * 1e-9,
      best * 1e3, median * 1e3, flops / best * 1e-9,
      100.0 * flops / best * 1e-9 / ceiling);
  printf ("%-10s CPU time per window %.1f ms on %d threads (%.1f ms per "
      "thread)\n", "", cpu * 1e3, n_threads, cpu * 1e3 / n_threads);
  double total = p.conv + p.layernorm + p.qkv + p.attention + p.attn_out +
      p.fc1 + p.gelu + p.fc2;
  printf ("%-10s per window (mean of %d): conv %.1f  layernorm %.1f  qkv "
      "%.1f  attention %.1f  attn-out %.1f  fc1 %.1f  gelu %.1f  fc2 %.1f  "
      "= %.1f ms\n", "", p.n_runs, p.conv * 1e3 / p.n_runs,
      p.layernorm * 1e3 / p.n_runs, p.qkv * 1e3 / p.n_runs,
      p.attention * 1e3 / p.n_runs, p.attn_out * 1e3 / p.n_runs,
      p.fc1 * 1e3 / p.n_runs, p.gelu * 1e3 / p.n_runs,
      p.fc2 * 1e3 / p.n_runs, total * 1e3 / p.n_runs);
  free (t), free (mel), free (out);
  whisper_encoder_free (enc);
  return 0;
}

int
main (int argc, char **argv)
{
  int n_threads = 0, n_runs = 5, random = 0;
  whisper_compute_type compute_types[4];
  int n_types = 0;
  gboolean int8_attention = FALSE;
  const char *names[16];
  int n_names = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--threads") && i + 1 < argc)
      n_threads = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--runs") && i + 1 < argc)
      n_runs = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--random"))
      random = 1;
    else if (!strcmp (argv[i], "--int8-attention"))
      int8_attention = TRUE;
    else if (!strcmp (argv[i], "--compute-type") && i + 1 < argc
        && n_types < 4
        && whisper_compute_type_from_name (argv[i + 1], &compute_types[n_types]))
      n_types++, i++;
    else if (argv[i][0] != '-' && n_names < 16)
      names[n_names++] = argv[i];
    else {
      fprintf (stderr, "usage: %s [--threads N] [--runs N] [--random] "
          "[--compute-type T]... [--int8-attention] [MODEL...]\n", argv[0]);
      return 2;
    }
  }
  if (n_runs < 1)
    n_runs = 1;
  if (n_types == 0)
    compute_types[n_types++] = WHISPER_COMPUTE_AUTO;
  if (n_threads <= 0)
    n_threads = (int) g_get_num_processors ();
  if (n_names == 0) {
    names[n_names++] = "tiny.en";
    names[n_names++] = "base";
  }

  double ceiling = sgemm_ceiling (n_threads, 1500, 1536, 384);
  printf ("threads %d, OpenBLAS %s core %s\n", n_threads,
      openblas_get_config (), openblas_get_corename ());
  printf ("sgemm ceiling 1500x1536x384: %.1f GFLOP/s  (60%% = %.1f)\n",
      ceiling, 0.6 * ceiling);
  printf ("kernels: %s copy\n", kernels_cpu_path ());

  int n_ran = 0;
  if (random) {
    /* tiny (384, 6 heads, 4 layers) and base (512, 8, 6) */
    const int dims[2][3] = { {384, 6, 4}, {512, 8, 6} };
    const char *labels[2] = { "tiny-rand", "base-rand" };
    for (int i = 0; i < 2; i++) {
      whisper_model m;
      random_encoder_model_init (&m, 80, dims[i][0], dims[i][1], dims[i][2]);
      for (int c = 0; c < n_types; c++)
        for (int att = 0; att <= (int8_attention
                && compute_types[c] == WHISPER_COMPUTE_INT8); att++)
          if (bench_model (labels[i], &m, n_threads, n_runs, ceiling,
                  compute_types[c], att) == 0)
            n_ran++;
      random_encoder_model_clear (&m);
    }
  } else {
    for (int i = 0; i < n_names; i++) {
      GError *err = NULL;
      whisper_model *m = whisper_model_load (names[i], &err);
      if (!m) {
        char *path = whisper_model_resolve (names[i], NULL);
        if (path)
          m = whisper_model_load (path, NULL);
        g_free (path);
      }
      if (!m) {
        printf ("%-10s skipped: %s\n", names[i], err ? err->message : "?");
        g_clear_error (&err);
        continue;
      }
      g_clear_error (&err);
      for (int c = 0; c < n_types; c++)
        for (int att = 0; att <= (int8_attention
                && compute_types[c] == WHISPER_COMPUTE_INT8); att++)
          if (bench_model (names[i], m, n_threads, n_runs, ceiling,
                  compute_types[c], att) == 0)
            n_ran++;
      whisper_model_free (m);
    }
  }
  return n_ran ? 0 : 77;
}
