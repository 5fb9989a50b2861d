/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Streaming log-mel front end: see mel.h for the exact definition.
 *
 * Reference: openai-whisper whisper/audio.py log_mel_spectrogram():
 *   window = torch.hann_window(N_FFT)                  (periodic)
 *   stft = torch.stft(audio, N_FFT, HOP_LENGTH, window=window,
 *                     return_complex=True)             (center, reflect)
 *   magnitudes = stft[..., :-1].abs() ** 2
 *   mel_spec = filters @ magnitudes
 *   log_spec = torch.clamp(mel_spec, min=1e-10).log10()
 * followed there by the max - 8 clamp and (x + 4) / 4, which are NOT done here.
 */
#include "mel.h"

#include <math.h>
#include <string.h>
#include <fftw3.h>


#define WHISPER_MEL_FLOOR_D 1e-10
#define MEL_LOG10E 0.43429448190325182765    /* 1 / ln 10 */

/* FFTW's planner (plan creation and destruction) is not thread-safe; only
 * fftw_execute is.  Every plan made in this process goes through here. */
static GMutex planner_lock;

struct whisper_mel
{
  int n_mels;                   /* M */

  /* constants, made once */
  double window[WHISPER_N_FFT]; /* periodic Hann */
  float *filters;               /* [M][201] dense Slaney weights */
  int *band_lo;                 /* [M] first non-zero bin of filter m */
  int *band_n;                  /* [M] number of bins from band_lo */
  double *band_w;               /* packed non-zero weights, filter by filter */
  int *band_off;                /* [M] start of filter m in band_w */
  fftw_plan plan;               /* double precision: see frame_forward */
  double *fft_in;               /* [400], FFTW-aligned */
  fftw_complex *fft_out;        /* [201] */
  double *power;                /* [201] */

  /* stream state.  buf holds the padded signal p from p index
   * (160 * n_frames) on: buf[head] is the first sample of the next frame.
   * Before the start reflection is known (fewer than 201 samples), x[k] is
   * kept at buf[200 + k] and buf[0..200) is not yet written. */
  float *buf;
  size_t buf_cap;
  size_t buf_len;               /* valid samples in buf */
  size_t head;
  uint64_t n_samples;           /* N so far */
  uint64_t n_frames;            /* frames produced */
  gboolean started;             /* start reflection written */
  whisper_mel_end_pad end_pad;
};

/* ------------------------------------------------------------------------ */
/* Slaney mel scale (librosa hz_to_mel / mel_to_hz with htk=False):
 * linear below 1 kHz (200/3 Hz per mel), logarithmic above. */

#define MEL_F_SP (200.0 / 3.0)
#define MEL_MIN_LOG_HZ 1000.0
#define MEL_MIN_LOG_MEL (MEL_MIN_LOG_HZ / MEL_F_SP)   /* 15 */
#define MEL_LOGSTEP (log (6.4) / 27.0)

static double
hz_to_mel (double hz)
{
  if (hz >= MEL_MIN_LOG_HZ)
    return MEL_MIN_LOG_MEL + log (hz / MEL_MIN_LOG_HZ) / MEL_LOGSTEP;
  return hz / MEL_F_SP;
}

static double
mel_to_hz (double mel)
{
  if (mel >= MEL_MIN_LOG_MEL)
    return MEL_MIN_LOG_HZ * exp (MEL_LOGSTEP * (mel - MEL_MIN_LOG_MEL));
  return MEL_F_SP * mel;
}

int
whisper_mel_filters_compute (float *out, int n_mels)
{
  const double fmax = WHISPER_SAMPLE_RATE / 2.0;
  double *mel_f;                /* [M + 2] band edges in Hz */
  double mel_lo, mel_hi;
  int m, k;

  if (n_mels < 1)
    return -1;

  mel_f = g_new (double, n_mels + 2);
  mel_lo = hz_to_mel (0.0);
  mel_hi = hz_to_mel (fmax);
  /* np.linspace(mel_lo, mel_hi, M + 2) */
  for (m = 0; m < n_mels + 2; m++) {
    double mel = (m == n_mels + 1) ? mel_hi :
        mel_lo + (mel_hi - mel_lo) * m / (double) (n_mels + 1);
    mel_f[m] = mel_to_hz (mel);
  }

  for (m = 0; m < n_mels; m++) {
    double fdiff_lo = mel_f[m + 1] - mel_f[m];
    double fdiff_hi = mel_f[m + 2] - mel_f[m + 1];
    double enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);     /* slaney area norm */
    for (k = 0; k < WHISPER_N_FREQ; k++) {
      /* np.fft.rfftfreq(400, 1/16000): bin k is at 40 k Hz */
      double f = k * (double) WHISPER_SAMPLE_RATE / WHISPER_N_FFT;
      double lower = (f - mel_f[m]) / fdiff_lo;
      double upper = (mel_f[m + 2] - f) / fdiff_hi;
      double w = MIN (lower, upper);
      out[m * WHISPER_N_FREQ + k] = (float) (MAX (0.0, w) * enorm);
    }
  }
  g_free (mel_f);
  return 0;
}

/* ------------------------------------------------------------------------ */

whisper_mel *
whisper_mel_new (int n_mels, GError ** error)
{
  whisper_mel *mel;
  int m, k, n_w;

  if (n_mels != 80 && n_mels != 128) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_ARGUMENT,
        "n_mels must be 80 or 128, not %d", n_mels);
    return NULL;
  }

  mel = g_new0 (whisper_mel, 1);
  mel->n_mels = n_mels;

  /* torch.hann_window(400), periodic: 0.5 - 0.5 cos(2 pi n / 400) */
  for (k = 0; k < WHISPER_N_FFT; k++)
    mel->window[k] = 0.5 - 0.5 * cos (2.0 * G_PI * k / WHISPER_N_FFT);

  mel->filters = g_new (float, (size_t) n_mels * WHISPER_N_FREQ);
  whisper_mel_filters_compute (mel->filters, n_mels);

  /* Each triangle covers a few bins: keep only [lo, hi] per filter (the
   * three index arrays in one allocation, band_lo's). */
  mel->band_lo = g_new (int, 3 * (size_t) n_mels);
  mel->band_n = mel->band_lo + n_mels;
  mel->band_off = mel->band_lo + 2 * n_mels;
  n_w = 0;
  for (m = 0; m < n_mels; m++) {
    const float *f = mel->filters + (size_t) m * WHISPER_N_FREQ;
    int lo = 0, hi = -1;
    for (k = 0; k < WHISPER_N_FREQ; k++)
      if (f[k] != 0.0f) {
        if (hi < 0)
          lo = k;
        hi = k;
      }
    mel->band_lo[m] = lo;
    mel->band_n[m] = hi >= lo ? hi - lo + 1 : 0;
    mel->band_off[m] = n_w;
    n_w += mel->band_n[m];
  }
  /* the float32 weights (what Whisper's mel_filters.npz holds), widened */
  mel->band_w = g_new (double, MAX (n_w, 1));
  for (m = 0; m < n_mels; m++)
    for (k = 0; k < mel->band_n[m]; k++)
      mel->band_w[mel->band_off[m] + k] =
          mel->filters[(size_t) m * WHISPER_N_FREQ + mel->band_lo[m] + k];

  mel->fft_in = fftw_alloc_real (WHISPER_N_FFT);
  mel->fft_out = fftw_alloc_complex (WHISPER_N_FREQ);
  mel->power = fftw_alloc_real (WHISPER_N_FREQ);
  if (!mel->fft_in || !mel->fft_out || !mel->power)
    goto fftw_failed;

  /* FFTW_ESTIMATE: the plan depends only on the size, never on timing, so
   * every instance (and every run) computes bit-identical frames. */
  g_mutex_lock (&planner_lock);
  mel->plan = fftw_plan_dft_r2c_1d (WHISPER_N_FFT, mel->fft_in, mel->fft_out,
      FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
  g_mutex_unlock (&planner_lock);
  if (!mel->plan)
    goto fftw_failed;

  mel->buf_cap = 4096;
  mel->buf = g_new (float, mel->buf_cap);
  whisper_mel_reset (mel);
  return mel;

fftw_failed:
  g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FAILED,
      "FFTW could not allocate or plan a %d-point real FFT", WHISPER_N_FFT);
  whisper_mel_free (mel);
  return NULL;
}

void
whisper_mel_free (whisper_mel * mel)
{
  if (!mel)
    return;
  if (mel->plan) {
    g_mutex_lock (&planner_lock);
    fftw_destroy_plan (mel->plan);
    g_mutex_unlock (&planner_lock);
  }
  fftw_free (mel->fft_in);
  fftw_free (mel->fft_out);
  fftw_free (mel->power);
  g_free (mel->filters);
  g_free (mel->band_lo);        /* with band_n and band_off */
  g_free (mel->band_w);
  g_free (mel->buf);
  g_free (mel);
}

int
whisper_mel_get_n_mels (const whisper_mel * mel)
{
  return mel->n_mels;
}

uint64_t
whisper_mel_get_n_samples (const whisper_mel * mel)
{
  return mel->n_samples;
}

uint64_t
whisper_mel_get_n_frames (const whisper_mel * mel)
{
  return mel->n_frames;
}

void
whisper_mel_set_end_pad (whisper_mel * mel, whisper_mel_end_pad end_pad)
{
  mel->end_pad = end_pad;
}

void
whisper_mel_reset (whisper_mel * mel)
{
  mel->buf_len = WHISPER_MEL_PAD;       /* x[0] goes to buf[200] */
  mel->head = 0;
  mel->n_samples = 0;
  mel->n_frames = 0;
  mel->started = FALSE;
}

/* Frames computable once n samples have arrived (stream not finished):
 * frame i needs x[160 i + 199]; the start reflection needs x[200]. */
static uint64_t
frames_ready (uint64_t n)
{
  if (n < WHISPER_MEL_PAD + 1)
    return 0;
  return (n - WHISPER_MEL_PAD) / WHISPER_HOP_LENGTH + 1;
}

size_t
whisper_mel_frames_for_push (const whisper_mel * mel, size_t n_samples)
{
  return (size_t) (frames_ready (mel->n_samples + n_samples) - mel->n_frames);
}

size_t
whisper_mel_frames_for_finish (const whisper_mel * mel)
{
  return (size_t) (mel->n_samples / WHISPER_HOP_LENGTH - mel->n_frames);
}

/* ------------------------------------------------------------------------ */
/* One frame: p [400] padded samples -> out [M] log10 mel energies.
 *
 * Numerics: the samples are float32 (as in Whisper), but window, FFT, power
 * and mel sums are in double.  A float32 FFT has an absolute error of about
 * 1e-7 of the frame's energy in every bin, so in a loud frame the quiet
 * (high-frequency, or above the 4 kHz band edge of resampled 8 kHz audio)
 * mel bands, 8-10 decades below the loudest one, come out up to 3e-3 off in
 * log10 (measured on jfk against a float64 reference).  In double the error
 * is below 1e-6 everywhere, at about 1.3x the cost of a float FFT here. */
static void
frame_forward (whisper_mel * mel, float *out, const float *p)
{
  double *in = mel->fft_in;
  const fftw_complex *X = mel->fft_out;
  double *P = mel->power;
  int k, m;

  for (k = 0; k < WHISPER_N_FFT; k++)
    in[k] = p[k] * mel->window[k];
  fftw_execute (mel->plan);
  for (k = 0; k < WHISPER_N_FREQ; k++)
    P[k] = X[k][0] * X[k][0] + X[k][1] * X[k][1];

  for (m = 0; m < mel->n_mels; m++) {
    const double *w = mel->band_w + mel->band_off[m];
    const double *Pm = P + mel->band_lo[m];
    int n = mel->band_n[m];
    double s = 0.0;
    for (k = 0; k < n; k++)
      s += w[k] * Pm[k];
    /* log10 via log: glibc's log is several times faster than its log10
     * and the double result is the same after rounding to float (but for
     * rare last-bit ties) */
    out[m] = (float) (log (s > WHISPER_MEL_FLOOR_D ? s : WHISPER_MEL_FLOOR_D)
        * MEL_LOG10E);
  }
}

/* Makes room for n more samples at buf[buf_len]: drops the samples before
 * head first (they belong to frames already produced). */
static float *
buf_reserve (whisper_mel * mel, size_t n)
{
  if (mel->started && mel->head > 0) {
    memmove (mel->buf, mel->buf + mel->head,
        sizeof (float) * (mel->buf_len - mel->head));
    mel->buf_len -= mel->head;
    mel->head = 0;
  }
  if (mel->buf_len + n > mel->buf_cap) {
    size_t cap = mel->buf_cap;
    while (cap < mel->buf_len + n)
      cap *= 2;
    mel->buf = g_renew (float, mel->buf, cap);
    mel->buf_cap = cap;
  }
  return mel->buf + mel->buf_len;
}

/* Writes the start reflection p[j] = x[200 - j], j in [0, 200), once x[200]
 * (or, at the end of a short stream, everything) is known.  x[k] is at
 * buf[200 + k]; mirrored indices outside the stream give 0. */
static void
write_start_pad (whisper_mel * mel)
{
  int j;
  for (j = 0; j < WHISPER_MEL_PAD; j++) {
    uint64_t k = WHISPER_MEL_PAD - j;
    mel->buf[j] = k < mel->n_samples ? mel->buf[WHISPER_MEL_PAD + k] : 0.0f;
  }
  mel->started = TRUE;
}

static size_t
produce_frames (whisper_mel * mel, float *out, uint64_t n_target)
{
  size_t n_out = 0;
  while (mel->n_frames < n_target) {
    g_assert (mel->head + WHISPER_N_FFT <= mel->buf_len);
    frame_forward (mel, out + n_out * (size_t) mel->n_mels,
        mel->buf + mel->head);
    mel->head += WHISPER_HOP_LENGTH;
    mel->n_frames++;
    n_out++;
  }
  return n_out;
}

static size_t
after_append (whisper_mel * mel, size_t n_samples, float *out)
{
  mel->buf_len += n_samples;
  mel->n_samples += n_samples;
  if (!mel->started && mel->n_samples >= WHISPER_MEL_PAD + 1)
    write_start_pad (mel);
  if (!mel->started)
    return 0;
  return produce_frames (mel, out, frames_ready (mel->n_samples));
}

size_t
whisper_mel_push_f32 (whisper_mel * mel, const float *samples,
    size_t n_samples, float *out, uint64_t * n_nonfinite)
{
  float *dst = buf_reserve (mel, n_samples);
  uint64_t n_bad = 0;
  size_t i;

  for (i = 0; i < n_samples; i++) {
    float s = samples[i];
    if (G_UNLIKELY (!isfinite (s))) {
      s = 0.0f;
      n_bad++;
    }
    dst[i] = s;
  }
  if (n_nonfinite)
    *n_nonfinite += n_bad;
  return after_append (mel, n_samples, out);
}

size_t
whisper_mel_push_s16 (whisper_mel * mel, const int16_t * samples,
    size_t n_samples, float *out)
{
  float *dst = buf_reserve (mel, n_samples);
  size_t i;

  for (i = 0; i < n_samples; i++)
    dst[i] = samples[i] * (1.0f / 32768.0f);
  return after_append (mel, n_samples, out);
}

size_t
whisper_mel_finish (whisper_mel * mel, float *out)
{
  uint64_t n_total = mel->n_samples / WHISPER_HOP_LENGTH;
  size_t n_out = 0;

  if (mel->n_frames < n_total) {
    /* End reflection: p[N + 200 + j] = x[N - 2 - j], j in [0, 200)
     * (or zeros, WHISPER_MEL_END_ZERO).
     * buf index of x[k] is k + 200 - (160 n_frames - head): the samples
     * before head were dropped 160 at a time as frames were produced. */
    int64_t N = (int64_t) mel->n_samples;
    int64_t x0;
    float *dst;
    int j;

    if (!mel->started)
      write_start_pad (mel);
    dst = buf_reserve (mel, WHISPER_MEL_PAD);
    x0 = (int64_t) WHISPER_MEL_PAD - (int64_t) (WHISPER_HOP_LENGTH
        * mel->n_frames) + (int64_t) mel->head;
    for (j = 0; j < WHISPER_MEL_PAD; j++) {
      int64_t k = N - 2 - j;
      /* for N >= 201, x[N - 201 .. N - 2] is still buffered: the next frame
       * starts at x[160 n_frames - 200] <= x[N - 201] */
      if (mel->end_pad == WHISPER_MEL_END_ZERO)
        dst[j] = 0.0f;
      else
        dst[j] = (k >= 0 && x0 + k >= 0) ? mel->buf[x0 + k] : 0.0f;
    }
    mel->buf_len += WHISPER_MEL_PAD;
    n_out = produce_frames (mel, out, n_total);
  }
  whisper_mel_reset (mel);
  return n_out;
}

size_t
whisper_mel_compute (whisper_mel * mel, const float *samples,
    size_t n_samples, float *out)
{
  size_t n;

  whisper_mel_reset (mel);
  n = whisper_mel_push_f32 (mel, samples, n_samples, out, NULL);
  n += whisper_mel_finish (mel, out + n * (size_t) mel->n_mels);
  return n;
}
