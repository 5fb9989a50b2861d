/* Decoding one 30 s window of encoder output into timed segments
 * (openai-whisper's DecodingTask + the per-window part of transcribe()).
 *
 * A whisper_decoder holds one stream's state: KV caches, the previous text
 * used as prompt, the RNG.  One model may serve several decoders.
 */
#ifndef WHISPER_TRANSCRIBE_H
#define WHISPER_TRANSCRIBE_H

#include <stdint.h>
#include <glib.h>
#include "whisper-model.h"

G_BEGIN_DECLS

/* Errors of the decoder engine (tokenizer, decoder, search, transcribe). */
#define WHISPER_DECODER_ERROR (whisper_decoder_error_quark ())
GQuark whisper_decoder_error_quark (void);

typedef enum {
  WHISPER_DECODER_ERROR_MODEL,      /* the model lacks what decoding needs */
  WHISPER_DECODER_ERROR_ARGUMENT,   /* bad parameter (language, prompt, sizes) */
  WHISPER_DECODER_ERROR_NO_MEMORY,
  WHISPER_DECODER_ERROR_FAILED,     /* decoder forward failed */
} WhisperDecoderError;

typedef enum {
  WHISPER_TASK_TRANSCRIBE = 0,
  WHISPER_TASK_TRANSLATE = 1,
} whisper_task;

/* Beam search candidate selection (the ranking, sum logprob / length, and
 * patience 1 are the same in both):
 *   OPENAI: openai-whisper BeamSearchDecoder: beam_size + 1 candidates per
 *     beam; every EOT met before beam_size live candidates finishes a
 *     sequence, up to beam_size finished ones.
 *   CTRANSLATE2: CTranslate2's BeamSearch (what faster-whisper runs): the
 *     best 2 x beam_size candidates over all beams; only an EOT among the
 *     first beam_size finishes a sequence.  The two differ only when EOTs
 *     compete with live candidates near the end of a window. */
typedef enum {
  WHISPER_BEAM_OPENAI = 0,
  WHISPER_BEAM_CTRANSLATE2 = 1,
} whisper_beam_style;

/* Keep in sync with whisper_decode_params_default(). */
typedef struct {
  int beam_size;                    /* 5; 1 = greedy (at temperature 0) */
  int best_of;                      /* 5: candidates when sampling at T > 0 */
  float temperatures[8];            /* 0, 0.2, ... 1.0 */
  int n_temperatures;               /* 6 */
  float compression_ratio_threshold;/* 2.4; <= 0 disables */
  float logprob_threshold;          /* -1.0; -INFINITY disables */
  float no_speech_threshold;        /* 0.6; <= 0 disables the skip */
  int condition_on_previous_text;   /* 1 */
  const char *initial_prompt;       /* NULL; prompt of the first window
                                       after new/reset */
  const char *language;             /* NULL or "auto": detect (multilingual
                                       models) on the first window after
                                       new/reset, then keep it (openai) */
  whisper_task task;                /* transcribe */
  int suppress_blank;               /* 1 */
  const int *suppress_tokens;       /* NULL (or a -1 in the list): the
                                       non-speech tokens; a non-NULL list
                                       with n = 0: none.  The special tokens
                                       (sot, sot_prev, sot_lm, transcribe,
                                       translate, no_speech) are always
                                       suppressed (openai) */
  int n_suppress_tokens;
  float max_initial_timestamp;      /* 1.0 s; < 0: no cap */
  int without_timestamps;           /* 0 */
  uint64_t seed;                    /* sampling RNG seed */
  whisper_beam_style beam_style;    /* WHISPER_BEAM_CTRANSLATE2: the
                                       references the tests compare with
                                       are faster-whisper's */
} whisper_decode_params;

whisper_decode_params whisper_decode_params_default (void);

typedef struct {
  int64_t t0_frame, t1_frame;       /* absolute stream frames (10 ms each) */
  char *text;                       /* UTF-8, as decoded (leading space kept) */
  int *tokens;                      /* the segment's tokens, timestamps
                                       included (openai segment["tokens"]) */
  int n_tokens;
  float avg_logprob;
  float no_speech_prob;
  float temperature;
  float compression_ratio;
} whisper_segment;

typedef struct {
  whisper_segment *segments;
  int n_segments;
  int64_t next_frame;               /* absolute frame where the next window starts */
  int no_speech;                    /* window skipped as no speech */
  char *language;                   /* detected or forced language code */
} whisper_window_result;

typedef struct whisper_decoder whisper_decoder;

whisper_decoder *whisper_decoder_new (const whisper_model * model,
    GError ** error);

/* enc: [A][C] encoder output of the window starting at absolute frame
 * window_start whose first n_real_frames (1 .. 3000) are real audio.
 * result->next_frame is always > window_start.
 * Fills @result (free with whisper_window_result_clear()). */
gboolean whisper_decoder_decode_window (whisper_decoder * dec,
    const whisper_decode_params * params, const float *enc,
    int64_t window_start, int n_real_frames,
    whisper_window_result * result, GError ** error);

void whisper_window_result_clear (whisper_window_result * result);

/* Forget previous text (new stream, flush). */
void whisper_decoder_reset (whisper_decoder * dec);

void whisper_decoder_free (whisper_decoder * dec);

G_END_DECLS
#endif
