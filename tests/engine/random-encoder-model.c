/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A whisper_model with random encoder weights (no file, no loader), for
 * the encoder's unit test and for benchmarking without model files. */
#include "random-encoder-model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng_state = 0x243F6A8885A308D3ull;
float
random_encoder_frand (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float) ((rng_state >> 40) / (double) (1ull << 24)) * 2.0f - 1.0f;
}

static float *
rnd (size_t n, float scale)
{
  float *a = malloc (n * sizeof (float));
  for (size_t i = 0; i < n; i++)
    a[i] = random_encoder_frand () * scale;
  return a;
}

static float *
rnd_around (size_t n, float centre, float scale)
{
  float *a = rnd (n, scale);
  for (size_t i = 0; i < n; i++)
    a[i] += centre;
  return a;
}

/* A model with random encoder weights, scaled like an initialised network
 * (uniform, +-1/sqrt(fan_in)) so that activations stay O(1). */
void
random_encoder_model_init (whisper_model * m, int M, int C, int H, int L)
{
  memset (m, 0, sizeof *m);
  m->hp.n_mels = M;
  m->hp.n_audio_ctx = 1500;
  m->hp.n_audio_state = C;
  m->hp.n_audio_head = H;
  m->hp.n_audio_layer = L;
  m->path = (char *) "random-test-model";
  whisper_weights *w = &m->w;
  float sc = 1.0f / sqrtf ((float) C);
  w->conv1_w = rnd ((size_t) C * M * 3, 1.0f / sqrtf (3.0f * M));
  w->conv1_b = rnd (C, 0.1f);
  w->conv2_w = rnd ((size_t) C * C * 3, 1.0f / sqrtf (3.0f * C));
  w->conv2_b = rnd (C, 0.1f);
  w->enc_pos = rnd ((size_t) 1500 * C, 1.0f);
  w->enc = calloc (L, sizeof (whisper_encoder_layer));
  for (int l = 0; l < L; l++) {
    whisper_encoder_layer *b = &w->enc[l];
    b->attn_ln_w = rnd_around (C, 1.0f, 0.2f);
    b->attn_ln_b = rnd (C, 0.1f);
    /* larger q/k so that the attention is not uniform */
    b->attn.q_w = rnd ((size_t) C * C, 3 * sc);
    b->attn.q_b = rnd (C, 0.1f);
    b->attn.k_w = rnd ((size_t) C * C, 3 * sc);
    b->attn.v_w = rnd ((size_t) C * C, sc);
    b->attn.v_b = rnd (C, 0.1f);
    b->attn.o_w = rnd ((size_t) C * C, sc);
    b->attn.o_b = rnd (C, 0.1f);
    b->mlp_ln_w = rnd_around (C, 1.0f, 0.2f);
    b->mlp_ln_b = rnd (C, 0.1f);
    b->fc1_w = rnd ((size_t) 4 * C * C, sc);
    b->fc1_b = rnd (4 * C, 0.1f);
    b->fc2_w = rnd ((size_t) 4 * C * C, 0.5f * sc);
    b->fc2_b = rnd (C, 0.1f);
  }
  w->enc_ln_w = rnd_around (C, 1.0f, 0.2f);
  w->enc_ln_b = rnd (C, 0.1f);
}

void
random_encoder_model_clear (whisper_model * m)
{
  whisper_weights *w = &m->w;
  free (w->conv1_w), free (w->conv1_b), free (w->conv2_w), free (w->conv2_b);
  free (w->enc_pos);
  for (int l = 0; l < m->hp.n_audio_layer; l++) {
    whisper_encoder_layer *b = &w->enc[l];
    float *p[] = { b->attn_ln_w, b->attn_ln_b, b->attn.q_w, b->attn.q_b,
      b->attn.k_w, b->attn.v_w, b->attn.v_b, b->attn.o_w, b->attn.o_b,
      b->mlp_ln_w, b->mlp_ln_b, b->fc1_w, b->fc1_b, b->fc2_w, b->fc2_b
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
      free (p[i]);
  }
  free (w->enc), free (w->enc_ln_w), free (w->enc_ln_b);
}

