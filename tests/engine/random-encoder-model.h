/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A whisper_model with random encoder weights, for tests and benchmarks. */
#ifndef RANDOM_ENCODER_MODEL_H
#define RANDOM_ENCODER_MODEL_H

#include "whisper-model.h"

/* Fills @m (hp.n_audio_ctx = 1500) with uniform random encoder weights
 * scaled +-1/sqrt(fan_in); the decoder part is left empty.  Deterministic. */
void random_encoder_model_init (whisper_model * m, int n_mels, int n_state,
    int n_head, int n_layer);
void random_encoder_model_clear (whisper_model * m);

/* The generator's next uniform value in [-1, 1). */
float random_encoder_frand (void);

#endif
