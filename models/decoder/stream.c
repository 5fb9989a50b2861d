/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The streaming policy (whisper.h, docs/streaming.md): repeated decodes of
 * a growing window, words made final by a whisper_agreement. */
#include "whisper.h"

#include <string.h>

/* the window start moves once the window holds this much audio */
#define TRIM_FRAMES 1000                /* 10 s */
/* a word ending this close to the end of the audio is never forced */
#define CUT_GUARD_FRAMES 50             /* 0.5 s */
/* a window without any word keeps this much of its end */
#define NO_WORDS_KEEP_FRAMES 200        /* 2 s */

struct whisper_stream {
  whisper_decoder *dec;
  whisper_agreement *agree;
  GArray *unprompted;           /* whisper_word: committed, still inside the
                                   window (not in the prompt yet) */
};

whisper_stream *
whisper_stream_new (whisper_decoder * dec)
{
  whisper_stream *s = g_new0 (whisper_stream, 1);
  s->dec = dec;
  s->agree = whisper_agreement_new ();
  s->unprompted = g_array_new (FALSE, FALSE, sizeof (whisper_word));
  return s;
}

static void
words_free (GArray * words, guint from)
{
  for (guint i = from; i < words->len; i++)
    g_free (g_array_index (words, whisper_word, i).text);
}

void
whisper_stream_reset (whisper_stream * s)
{
  whisper_agreement_reset (s->agree);
  words_free (s->unprompted, 0);
  g_array_set_size (s->unprompted, 0);
  whisper_decoder_reset (s->dec);
}

void
whisper_stream_free (whisper_stream * s)
{
  if (!s)
    return;
  whisper_agreement_free (s->agree);
  words_free (s->unprompted, 0);
  g_array_free (s->unprompted, TRUE);
  g_free (s);
}

void
whisper_stream_step_clear (whisper_stream_step * step)
{
  for (int i = 0; i < step->n_words; i++)
    g_free (step->words[i].text);
  g_free (step->words);
  g_free (step->language);
  memset (step, 0, sizeof (*step));
}

/* The committed words that end by @frame leave the window: they become
 * the prompt of the windows after it. */
static gboolean
prompt_until (whisper_stream * s, int64_t frame, GError ** error)
{
  GString *text = g_string_new (NULL);
  guint n = 0;
  while (n < s->unprompted->len
      && g_array_index (s->unprompted, whisper_word, n).t1_frame <= frame)
    g_string_append (text, g_array_index (s->unprompted, whisper_word,
            n++).text);
  gboolean ok = text->len == 0
      || whisper_decoder_add_prompt_text (s->dec, text->str, error);
  g_string_free (text, TRUE);
  for (guint i = 0; i < n; i++)
    g_free (g_array_index (s->unprompted, whisper_word, i).text);
  g_array_remove_range (s->unprompted, 0, n);
  return ok;
}

/* A segment end where the committed words stop: segment i's words are
 * all committed (they end by @commit) and segment i + 1's are not; the
 * latest such end, or -1.  A window started there holds no committed
 * word again: Whisper, prompted with the committed text, sometimes skips
 * the committed words it hears again, and the words after them with. */
static int64_t
committed_segment_end (const whisper_window_result * r, int64_t commit)
{
  int64_t end = -1;
  const whisper_segment *prev = NULL;
  for (int i = 0; i < r->n_segments; i++) {
    const whisper_segment *g = &r->segments[i];
    if (g->n_words == 0)
      continue;
    if (prev && prev->words[prev->n_words - 1].t1_frame <= commit
        && g->words[0].t1_frame > commit)
      end = prev->t1_frame;
    prev = g;
  }
  return end;
}

gboolean
whisper_stream_decode (whisper_stream * s,
    const whisper_decode_params * params, const float *enc,
    int64_t window_start, int n_real_frames, int64_t force_frame,
    gboolean final, whisper_stream_step * step, GError ** error)
{
  memset (step, 0, sizeof (*step));
  const gboolean full = n_real_frames >= WHISPER_WINDOW_FRAMES;
  whisper_decode_params p = *params;
  p.word_timestamps = 1;
  p.hold_text = 1;
  /* a provisional hypothesis runs once: the next step decodes it again,
   * and a bad one does not agree with it */
  if (!final && !full)
    p.n_temperatures = 1;
  whisper_window_result r;
  if (!whisper_decoder_decode_window (s->dec, &p, enc, window_start,
          n_real_frames, &r, error))
    return FALSE;
  step->n_passes = r.n_passes;
  step->language = g_strdup (r.language);

  GArray *words = g_array_new (FALSE, FALSE, sizeof (whisper_word));
  for (int i = 0; i < r.n_segments; i++)
    g_array_append_vals (words, r.segments[i].words, r.segments[i].n_words);
  GArray *committed = g_array_new (FALSE, FALSE, sizeof (whisper_word));
  whisper_agreement_update (s->agree, (const whisper_word *) words->data,
      words->len, force_frame, final || full, committed);
  for (guint i = 0; i < committed->len; i++) {
    whisper_word w = g_array_index (committed, whisper_word, i);
    w.text = g_strdup (w.text);
    g_array_append_val (s->unprompted, w);
  }
  step->n_words = committed->len;
  step->words = (whisper_word *) g_array_free (committed, FALSE);
  step->tentative = whisper_agreement_tentative (s->agree,
      &step->n_tentative);

  const int64_t now = window_start + n_real_frames;
  int64_t next = window_start;
  if (final || full) {
    /* everything is committed: openai's seek */
    next = MAX (window_start + 1, r.next_frame);
  } else if (n_real_frames > TRIM_FRAMES) {
    const int64_t end = committed_segment_end (&r,
        whisper_agreement_commit_frame (s->agree));
    if (end > window_start)
      next = end;
    else if (words->len == 0)
      next = MAX (window_start, now - NO_WORDS_KEEP_FRAMES);
  }
  step->next_start = next;
  g_array_free (words, TRUE);
  whisper_window_result_clear (&r);
  return prompt_until (s, final || full ? G_MAXINT64 : next, error);
}

int64_t
whisper_stream_force_frame (int64_t now, int64_t step_frames,
    int64_t latency_frames, int64_t last_cost_frames)
{
  const int64_t cost = last_cost_frames + last_cost_frames / 4;
  const int64_t late = now + MAX (step_frames, last_cost_frames) + cost
      - latency_frames;
  /* never a word that ends in the last audio: it may be cut */
  return MIN (late, now - CUT_GUARD_FRAMES);
}
