/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decoding strategies over the text decoder: greedy, beam search and
 * best-of sampling, with openai-whisper's logit filters.
 *
 * Mirrors openai-whisper whisper/decoding.py (DecodingTask.run for one
 * audio): SuppressBlank, SuppressTokens and ApplyTimestampRules applied in
 * that order to the logits of every step; GreedyDecoder (argmax at T = 0,
 * categorical sampling of logits / T otherwise); BeamSearchDecoder (beam
 * size + 1 candidates per beam, patience); MaximumLikelihoodRanker with
 * length_penalty None (sum logprob / number of tokens).
 */
#ifndef WHISPER_SEARCH_H
#define WHISPER_SEARCH_H

#include <stdint.h>
#include <glib.h>
#include "whisper-model.h"
#include "decoder.h"
#include "whisper.h"
#include "kernels.h"

G_BEGIN_DECLS

typedef struct {
  float temperature;             /* 0: greedy or beam search; > 0: sampling */
  whisper_beam_style beam_style; /* which beam candidate selection */
  int beam_size;                 /* used at T = 0; 1 = greedy */
  float patience;                /* 1.0: stop at beam_size finished beams */
  int best_of;                   /* sequences sampled at T > 0 */
  int sample_len;                /* max new tokens (openai: n_text_ctx / 2) */
  int suppress_blank;            /* SuppressBlank at the first step */
  const int *blank_tokens;       /* tokenizer.encode(" "), + eot added */
  int n_blank_tokens;
  const int *suppress_tokens;    /* resolved list (non-speech + specials) */
  int n_suppress_tokens;
  int timestamps;                /* ApplyTimestampRules (not without_timestamps) */
  int max_initial_timestamp_index;  /* 50 (1.0 s / 0.02 s); < 0: no cap */
  int stop_repetition;           /* stop once every live sequence ends in a
                                    loop (whisper_search_tail_repeats) */
  gint64 deadline;               /* g_get_monotonic_time() after which the
                                    pass stops where it is; 0: none */
  whisper_abort_callback abort_callback;  /* polled per step, or NULL */
  void *abort_callback_user_data;
} whisper_search_opts;

typedef struct {
  int *tokens;                   /* sampled tokens (timestamps included,
                                    EOT excluded) */
  int n_tokens;
  float sum_logprob;
  float avg_logprob;             /* sum_logprob / (n_tokens + 1) as openai */
  float no_speech_prob;          /* softmax at the SOT position; 0 if the
                                    model has no no-speech token */
  int n_steps;                   /* decoding steps run (tokens per sequence) */
  int looped;                    /* stopped: every sequence was repeating */
  int timed_out;                 /* stopped at opts->deadline */
} whisper_search_result;

/* Decodes one window.  The decoder must already have the window's audio
 * (whisper_text_decoder_set_audio).  prompt: [n_prompt] initial tokens
 * (sot_prev + prompt text, SOT sequence [, no_timestamps]); sot_index: the
 * position of <|startoftranscript|> in it.  Returns FALSE + error on a
 * decoder failure, or WHISPER_ERROR_CANCELLED when the abort callback
 * returned TRUE. */
gboolean whisper_search_run (whisper_text_decoder * dec,
    const whisper_model * model, const whisper_search_opts * opts,
    const int *prompt, int n_prompt, int sot_index, whisper_rng * rng,
    whisper_search_result * result, GError ** error);

void whisper_search_result_clear (whisper_search_result * result);

/* The logit filters on one row of logits [V] given the tokens sampled so
 * far (exposed for tests). */
void whisper_apply_logit_filters (const whisper_model * model,
    const whisper_search_opts * opts, const int *sampled, int n_sampled,
    float *logits);

/* TRUE when the text tokens at the end of seq [len] (timestamps >=
 * ts_begin skipped) repeat one phrase of at most 32 tokens at least three
 * times over at least 32 tokens: a decoder stuck in a loop ("- - - ...",
 * "Thank you. Thank you. ...").  Exposed for tests. */
gboolean whisper_search_tail_repeats (const int *seq, int len, int ts_begin);

/* log_softmax of logits [n] into out [n] (may alias). */
void whisper_log_softmax (const float *logits, float *out, int n);

G_END_DECLS
#endif /* WHISPER_SEARCH_H */
