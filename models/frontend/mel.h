/* Streaming log-mel front end, exactly Whisper's (openai-whisper audio.py).
 *
 *   x: mono float samples at 16 kHz
 *   p = reflect_pad(x, 200, 200)              (torch.stft center=True)
 *   frame i = p[160 i .. 160 i + 400) * hann_periodic(400)
 *   P[i][k] = |rfft(frame i)|^2               k in [0, 201)
 *   mel[i][m] = sum_k F[m][k] P[i][k]         Slaney filterbank, fmax 8 kHz
 *   out[i][m] = log10(max(mel[i][m], 1e-10))
 *
 * For N samples the stream has N / 160 frames (integer division): torch.stft
 * gives 1 + N / 160 frames and Whisper drops the last one (stft[..., :-1]).
 * Frame i is centred on sample 160 i and needs samples up to 160 i + 200, so
 * it is produced as soon as sample 160 i + 199 has been pushed (and at least
 * 201 samples, the start reflection needs x[1..200]).  The remaining frames
 * come out of whisper_mel_finish(), which applies the end reflection.
 *
 * NOT done here: Whisper's normalisation (clamp at max - 8, then (x + 4) / 4).
 * It needs the maximum over a window and happens where 30 s windows are
 * formed (whisperencnpu).  See docs/mel.md.
 *
 * Streams shorter than 201 samples cannot be reflect-padded by 200 (torch
 * raises an error); here the padding samples whose mirrored index falls
 * outside the stream are 0.  N < 160 gives no frame at all.
 *
 * Output is bit-identical however the input is split into pushes: every frame
 * is computed by the same code from the same 400 padded samples, through the
 * same FFTW plan (FFTW_ESTIMATE, so the plan does not depend on timing).
 *
 * Letters: M = n_mels (80 or 128), F = number of frames.
 *
 * Thread safety: one WhisperMel per stream; different instances may be used
 * from different threads.  Plan creation/destruction is serialised inside.
 */
#ifndef WHISPER_MEL_H
#define WHISPER_MEL_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WHISPER_SAMPLE_RATE 16000
#define WHISPER_N_FFT 400
#define WHISPER_HOP_LENGTH 160
#define WHISPER_N_FREQ (WHISPER_N_FFT / 2 + 1)        /* 201 */
#define WHISPER_MEL_PAD (WHISPER_N_FFT / 2)           /* 200 */
#define WHISPER_MEL_FLOOR 1e-10f                      /* log10 clamp */

#define WHISPER_MEL_ERROR (whisper_mel_error_quark ())
GQuark whisper_mel_error_quark (void);

typedef enum {
  WHISPER_MEL_ERROR_INVALID_ARG,  /* unsupported n_mels */
  WHISPER_MEL_ERROR_FFTW,         /* FFTW could not make a plan */
} WhisperMelError;

typedef struct WhisperMel WhisperMel;

/* Computes the Slaney mel filterbank as librosa.filters.mel(sr=16000,
 * n_fft=400, n_mels=M, fmin=0, fmax=8000, htk=False, norm='slaney'):
 * out [M][201], row-major.  Computed in double, rounded to float once.
 * Returns 0, or -1 if n_mels < 1. */
int whisper_mel_filters_compute (float *out, int n_mels);

/* New analyser for n_mels 80 or 128.  NULL + error on failure. */
WhisperMel *whisper_mel_new (int n_mels, GError ** error);
void whisper_mel_free (WhisperMel * mel);

int whisper_mel_get_n_mels (const WhisperMel * mel);

/* How the end of a stream is padded (start is always reflected).
 *  REFLECT: log_mel_spectrogram(audio) (torch.stft center=True): the
 *           default, and what the accuracy test checks.
 *  ZERO:    zeros after the last sample: what openai-whisper's transcribe()
 *           sees, since it calls log_mel_spectrogram(audio, padding=480000)
 *           (30 s of silence appended).
 * Only the last one or two frames (those whose window reaches past sample
 * N) depend on it. */
typedef enum {
  WHISPER_MEL_END_REFLECT = 0,
  WHISPER_MEL_END_ZERO = 1,
} WhisperMelEndPad;

void whisper_mel_set_end_pad (WhisperMel * mel, WhisperMelEndPad end_pad);

/* Forget the current stream; the next push starts a new one (with a new
 * start reflection). */
void whisper_mel_reset (WhisperMel * mel);

/* Exact number of frames the next push of n_samples samples will return. */
size_t whisper_mel_frames_for_push (const WhisperMel * mel, size_t n_samples);

/* Exact number of frames whisper_mel_finish() will return now. */
size_t whisper_mel_frames_for_finish (const WhisperMel * mel);

/* Appends samples to the stream and writes every frame that became
 * computable to out [F][M] (F = whisper_mel_frames_for_push (mel, n)).
 * NaN and +-Inf samples are replaced by 0; their count is added to
 * *n_nonfinite when it is not NULL.  Returns F. */
size_t whisper_mel_push_f32 (WhisperMel * mel, const float *samples,
    size_t n_samples, float *out, uint64_t * n_nonfinite);

/* Same for signed 16-bit samples, converted as s / 32768 (what Whisper's
 * load_audio does). */
size_t whisper_mel_push_s16 (WhisperMel * mel, const int16_t * samples,
    size_t n_samples, float *out);

/* Ends the stream: writes the remaining frames (end padding) to out
 * [F][M], F = whisper_mel_frames_for_finish (mel), then resets.
 * Returns F. */
size_t whisper_mel_finish (WhisperMel * mel, float *out);

/* Samples pushed and frames produced so far in the current stream. */
uint64_t whisper_mel_get_n_samples (const WhisperMel * mel);
uint64_t whisper_mel_get_n_frames (const WhisperMel * mel);

/* Whole-signal convenience: out [n_samples / 160][M].  Resets mel before
 * and after.  Returns the number of frames. */
size_t whisper_mel_compute (WhisperMel * mel, const float *samples,
    size_t n_samples, float *out);

#ifdef __cplusplus
}
#endif

#endif /* WHISPER_MEL_H */
