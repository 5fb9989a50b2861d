/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
 * formed (whisper_encoder_encode_window).  See docs/mel.md.
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
 * Thread safety: one whisper_mel per stream; different instances may be used
 * from different threads.  Plan creation/destruction is serialised inside.
 */
#ifndef WHISPER_MEL_H
#define WHISPER_MEL_H

#include "whisper.h"

G_BEGIN_DECLS

#define WHISPER_N_FREQ (WHISPER_N_FFT / 2 + 1)        /* 201 */
#define WHISPER_MEL_PAD (WHISPER_N_FFT / 2)           /* 200 */
#define WHISPER_MEL_FLOOR 1e-10f                      /* log10 clamp */

/* Computes the Slaney mel filterbank as librosa.filters.mel(sr=16000,
 * n_fft=400, n_mels=M, fmin=0, fmax=8000, htk=False, norm='slaney'):
 * out [M][201], row-major.  Computed in double, rounded to float once.
 * Returns 0, or -1 if n_mels < 1. */
int whisper_mel_filters_compute (float *out, int n_mels);

G_END_DECLS

#endif /* WHISPER_MEL_H */
