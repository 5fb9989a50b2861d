/* Whisper's audio encoder forward pass (CPU, float32).
 *
 * A whisper_encoder holds the activation buffers for one stream: one
 * model may serve several encoders at once (each element instance has its
 * own).  whisper_encoder_run() is not reentrant for one encoder.
 */
#ifndef WHISPER_ENCODER_H
#define WHISPER_ENCODER_H

#include <glib.h>
#include "whisper-model.h"

G_BEGIN_DECLS

#define WHISPER_N_SAMPLES_PER_FRAME 160
#define WHISPER_WINDOW_N_FRAMES 3000    /* 30 s of mel frames */

typedef struct whisper_encoder whisper_encoder;

/* n_threads <= 0: all cores. */
whisper_encoder *whisper_encoder_new (const whisper_model * model,
    int n_threads, GError ** error);

/* mel: [M][3000], already normalised ((max(x, max-8) + 4) / 4).
 * out: [A][C] (1500 x n_audio_state), after the final LayerNorm.
 * Returns 0 on success. */
int whisper_encoder_run (whisper_encoder * enc, const float *mel, float *out);

void whisper_encoder_free (whisper_encoder * enc);

/* Whisper's per-window normalisation, in place on [n] log10 values:
 * x = (max(x, max_all - 8) + 4) / 4. */
void whisper_mel_normalize (float *mel, size_t n);

G_END_DECLS
#endif
