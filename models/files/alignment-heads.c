/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cross-attention heads that follow the audio (word timestamps,
 * models/decoder/timing.c) for a model file that does not list them: a
 * whisper.cpp ggml file, or a Hugging Face directory without
 * generation_config.json.  CTranslate2's config.json lists them.
 *
 * The sets are the ones openai-whisper publishes per model
 * (whisper/__init__.py _ALIGNMENT_HEADS, decoded), told apart here by the
 * dimensions a file carries.  large-v1 and large-v2 have the same
 * dimensions; large-v2's set is taken (the more used of the two).  A model
 * matching none gets openai's own fallback: every head of the second half
 * of the text layers. */
#include "model-internal.h"

#include <stdio.h>

typedef struct {
  int n_audio_layer, n_text_layer, n_text_state, multilingual, n_mels;
  const char *name;
  const char *heads;            /* "layer,head layer,head ..." */
} alignment_set;

static const alignment_set sets[] = {
  {4, 4, 384, 0, 80, "tiny.en", "1,0 2,0 2,5 3,0 3,1 3,2 3,3 3,4"},
  {4, 4, 384, 1, 80, "tiny", "2,2 3,0 3,2 3,3 3,4 3,5"},
  {6, 6, 512, 0, 80, "base.en", "3,3 4,7 5,1 5,5 5,7"},
  {6, 6, 512, 1, 80, "base", "3,1 4,2 4,3 4,7 5,1 5,2 5,4 5,6"},
  {12, 12, 768, 0, 80, "small.en", "6,6 7,0 7,3 7,8 8,2 8,5 8,7 9,0 9,4 "
        "9,8 9,10 10,0 10,1 10,2 10,3 10,6 10,11 11,2 11,4"},
  {12, 12, 768, 1, 80, "small", "5,3 5,9 8,0 8,4 8,7 8,8 9,0 9,7 9,9 10,5"},
  {24, 24, 1024, 0, 80, "medium.en", "11,4 14,1 14,12 14,14 15,4 16,0 "
        "16,4 16,9 17,12 17,14 18,7 18,10 18,15 20,0 20,3 20,9 20,14 21,12"},
  {24, 24, 1024, 1, 80, "medium", "13,15 15,4 15,15 16,1 20,0 23,4"},
  {32, 32, 1280, 1, 80, "large-v2", "10,12 13,17 16,11 16,12 16,13 17,15 "
        "17,16 18,4 18,11 18,19 19,11 21,2 21,3 22,3 22,9 22,12 23,5 23,7 "
        "23,13 25,5 26,1 26,12 27,15"},
  {32, 32, 1280, 1, 128, "large-v3", "7,0 10,17 12,18 13,12 16,1 17,14 "
        "19,11 21,4 24,1 25,6"},
  {32, 4, 1280, 1, 128, "large-v3-turbo", "2,4 2,11 3,3 3,6 3,11 3,14"},
};

void
whisper_model_default_alignment_heads (whisper_model * model)
{
  const whisper_hparams *hp = &model->hp;
  if (model->n_alignment_heads > 0 || hp->n_text_layer < 1
      || hp->n_text_head < 1)
    return;
  for (size_t i = 0; i < G_N_ELEMENTS (sets); i++) {
    const alignment_set *s = &sets[i];
    if (s->n_audio_layer != hp->n_audio_layer
        || s->n_text_layer != hp->n_text_layer
        || s->n_text_state != hp->n_text_state
        || s->multilingual != (model->is_multilingual != 0)
        || s->n_mels != hp->n_mels)
      continue;
    gchar **pairs = g_strsplit (s->heads, " ", -1);
    const int n = g_strv_length (pairs);
    int (*h)[2] = g_malloc0_n (n, sizeof *h);
    int k = 0;
    for (int j = 0; j < n; j++)
      if (sscanf (pairs[j], "%d,%d", &h[k][0], &h[k][1]) == 2
          && h[k][0] < hp->n_text_layer && h[k][1] < hp->n_text_head)
        k++;
    g_strfreev (pairs);
    g_free (model->alignment_heads);
    model->alignment_heads = h;
    model->n_alignment_heads = k;
    return;
  }
  /* openai's fallback for a model without a published set */
  const int first = hp->n_text_layer / 2;
  const int n = (hp->n_text_layer - first) * hp->n_text_head;
  int (*h)[2] = g_malloc0_n (n, sizeof *h);
  for (int l = first, k = 0; l < hp->n_text_layer; l++)
    for (int hd = 0; hd < hp->n_text_head; hd++, k++) {
      h[k][0] = l;
      h[k][1] = hd;
    }
  g_free (model->alignment_heads);
  model->alignment_heads = h;
  model->n_alignment_heads = n;
}
