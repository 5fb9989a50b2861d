/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Word timestamps: the alignment of a window's text tokens with its audio
 * through the cross-attention of the model's alignment heads and dynamic
 * time warping, then words from tokens, as openai-whisper's
 * whisper/timing.py does (find_alignment, merge_punctuations,
 * add_word_timestamps) and faster-whisper runs it.  docs/decoder.md,
 * "Word timestamps".
 */
#ifndef WHISPER_TIMING_H
#define WHISPER_TIMING_H

#include <glib.h>
#include "decoder.h"
#include "tokenizer.h"
#include "whisper.h"

G_BEGIN_DECLS

/* Word timestamps of the segments of one window (segs, their t0/t1 frames
 * absolute, as the segment split made them, including the segments that
 * are dropped afterwards for being empty): fills each segment's words and
 * moves its t0/t1 to its first word's start and last word's end where
 * openai does.  sot_seq: the window's start sequence (<|startoftranscript|>
 * [language, task], without <|notimestamps|>).  n_frames: the real mel
 * frames of the window.  language: the window's code, for the languages
 * written without spaces.  *last_speech: where the last word of the
 * previous window ended (seconds; 0 after a reset), updated.  FALSE +
 * error when the alignment pass fails (out of memory, tokens beyond the
 * context). */
gboolean whisper_add_word_timestamps (whisper_text_decoder * text,
    const whisper_model * model, const whisper_tokenizer * tok,
    const int *sot_seq, int n_sot, const char *language,
    const char *prepend_punctuations, const char *append_punctuations,
    int64_t window_start, int n_frames, whisper_segment * segs, int n_segs,
    double *last_speech, GError ** error);

/* The end of the last word of the segments (seconds), else the end of the
 * last segment, else -1 (openai's get_end). */
double whisper_segments_end (const whisper_segment * segs, int n_segs);

/* openai's default punctuation sets */
#define WHISPER_PREPEND_PUNCTUATIONS "\"'\xe2\x80\x9c\xc2\xbf([{-"
#define WHISPER_APPEND_PUNCTUATIONS \
  "\"'.\xe3\x80\x82,\xef\xbc\x8c!\xef\xbc\x81?\xef\xbc\x9f:\xef\xbc\x9a" \
  "\xe2\x80\x9d)]}\xe3\x80\x81"

/* The pieces, for tests. */

/* Dynamic time warping of the cost -x, x [n][m]: the path from (0, 0) to
 * (n - 1, m - 1) as pairs (path_i[k], path_j[k]) in order, each at most
 * n + m long; returns its length, or -1 out of memory.  Ties go as in
 * openai's dtw_cpu (diagonal only when strictly cheaper, then up, then
 * left). */
int whisper_dtw (const float *x, int n, int m, int *path_i, int *path_j);

/* Median of each run of @width values (odd) along each of the n_rows rows
 * of x [n_rows][n], the row extended by reflection at both ends; rows not
 * longer than width / 2 are left as they are (openai's median_filter). */
void whisper_median_filter (float *x, int n_rows, int n, int width);

G_END_DECLS
#endif /* WHISPER_TIMING_H */
