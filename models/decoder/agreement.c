/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Streaming: the words of consecutive hypotheses that are final
 * (LocalAgreement-2).  See whisper.h and docs/streaming.md.
 *
 * Rules, in the spirit of the whisper_streaming reference implementation
 * (HypothesisBuffer): a new hypothesis (whose window may repeat committed
 * audio) drops everything up to the last committed word, found by its text
 * among the words that end within 1 s of the commit point, or by time (the
 * words that end by the commit point) when it is not there, and then a repeat of the last
 * (up to 5) committed words at its start; the longest common prefix with
 * the previous hypothesis is committed.  Time alone is not enough: the
 * timestamps of the same word move between hypotheses, and the last word
 * of a window often ends at the window's end, past the next word's start. */
#include "whisper.h"

#include <string.h>

#define MAX_NGRAM 5
/* the last committed word is looked for among the words that end at
 * most this far from the commit point */
#define ANCHOR_FRAMES 100               /* 1 s */

struct whisper_agreement {
  GArray *prev;                 /* whisper_word: last hypothesis, tentative */
  char *tail[MAX_NGRAM];        /* normalised last committed words, oldest
                                   first */
  int n_tail;
  int64_t commit_frame;
};

/* letters and digits, case folded; the stripped text when there are none
 * (a word that is only punctuation) */
static char *
normalise (const char *text)
{
  GString *out = g_string_new (NULL);
  gchar *valid = g_utf8_make_valid (text ? text : "", -1);
  for (const gchar * c = valid; *c; c = g_utf8_next_char (c)) {
    const gunichar u = g_utf8_get_char (c);
    if (g_unichar_isalnum (u))
      g_string_append_unichar (out, g_unichar_tolower (u));
  }
  if (out->len == 0)
    g_string_append (out, g_strstrip (valid));
  g_free (valid);
  return g_string_free (out, FALSE);
}

static gboolean
same_word (const whisper_word * a, const whisper_word * b)
{
  char *x = normalise (a->text), *y = normalise (b->text);
  const gboolean same = strcmp (x, y) == 0;
  g_free (x);
  g_free (y);
  return same;
}

static void
words_clear (GArray * words)
{
  for (guint i = 0; i < words->len; i++)
    g_free (g_array_index (words, whisper_word, i).text);
  g_array_set_size (words, 0);
}

static whisper_word
word_copy (const whisper_word * w)
{
  whisper_word c = *w;
  c.text = g_strdup (w->text ? w->text : "");
  return c;
}

whisper_agreement *
whisper_agreement_new (void)
{
  whisper_agreement *a = g_new0 (whisper_agreement, 1);
  a->prev = g_array_new (FALSE, FALSE, sizeof (whisper_word));
  a->commit_frame = -1;
  return a;
}

void
whisper_agreement_reset (whisper_agreement * a)
{
  words_clear (a->prev);
  for (int i = 0; i < a->n_tail; i++)
    g_clear_pointer (&a->tail[i], g_free);
  a->n_tail = 0;
  a->commit_frame = -1;
}

void
whisper_agreement_free (whisper_agreement * a)
{
  if (!a)
    return;
  whisper_agreement_reset (a);
  g_array_free (a->prev, TRUE);
  g_free (a);
}

static void
remember_committed (whisper_agreement * a, const whisper_word * w)
{
  if (a->n_tail == MAX_NGRAM) {
    g_free (a->tail[0]);
    memmove (a->tail, a->tail + 1, sizeof (char *) * (MAX_NGRAM - 1));
    a->n_tail--;
  }
  a->tail[a->n_tail++] = normalise (w->text);
  a->commit_frame = MAX (a->commit_frame, w->t1_frame);
}

/* how many words at the start of @w repeat the last committed ones */
static int
repeated_prefix (const whisper_agreement * a, const whisper_word * w, int n)
{
  for (int k = MIN (a->n_tail, MIN (n, MAX_NGRAM)); k >= 1; k--) {
    gboolean same = TRUE;
    for (int i = 0; i < k && same; i++) {
      char *x = normalise (w[i].text);
      same = strcmp (x, a->tail[a->n_tail - k + i]) == 0;
      g_free (x);
    }
    if (same)
      return k;
  }
  return 0;
}

/* The word of @w that is the last committed one: among the words that
 * match its text and end near the commit point, the one whose preceding
 * words match most of the committed ones before it, then the one ending
 * nearest the commit point; -1 for none. */
static int
find_anchor (const whisper_agreement * a, const whisper_word * w, int n)
{
  int best = -1, best_ctx = 0;
  int64_t best_gap = 0;
  for (int j = 0; j < n; j++) {
    if (ABS (w[j].t1_frame - a->commit_frame) > ANCHOR_FRAMES)
      continue;
    int ctx = 0;
    while (ctx < a->n_tail && ctx <= j) {
      char *x = normalise (w[j - ctx].text);
      const gboolean same = strcmp (x, a->tail[a->n_tail - 1 - ctx]) == 0;
      g_free (x);
      if (!same)
        break;
      ctx++;
    }
    const int64_t gap = ABS (w[j].t1_frame - a->commit_frame);
    if (ctx > 0 && (ctx > best_ctx || (ctx == best_ctx && gap < best_gap))) {
      best = j;
      best_ctx = ctx;
      best_gap = gap;
    }
  }
  return best;
}

int
whisper_agreement_update (whisper_agreement * a, const whisper_word * words,
    int n_words, int64_t force_frame, gboolean final, GArray * committed)
{
  /* what is new: after the last committed word, found by its text near
   * the commit point (timestamps move between hypotheses), else by time;
   * then not a repeat of the committed words */
  int first = 0;
  if (a->commit_frame >= 0) {
    const int anchor = find_anchor (a, words, n_words);
    if (anchor >= 0)
      first = anchor + 1;
    else
      while (first < n_words && words[first].t1_frame <= a->commit_frame)
        first++;
  }
  first += repeated_prefix (a, words + first, n_words - first);
  const whisper_word *w = words + first;
  const int n = n_words - first;

  int agreed = 0;
  while (agreed < n && agreed < (int) a->prev->len
      && same_word (&w[agreed], &g_array_index (a->prev, whisper_word,
              agreed)))
    agreed++;
  int c = final ? n : agreed;
  while (c < n && w[c].t1_frame <= force_frame)
    c++;

  for (int i = 0; i < c; i++) {
    whisper_word copy = word_copy (&w[i]);
    g_array_append_val (committed, copy);
    remember_committed (a, &w[i]);
  }
  words_clear (a->prev);
  for (int i = c; i < n; i++) {
    whisper_word copy = word_copy (&w[i]);
    g_array_append_val (a->prev, copy);
  }
  return c;
}

const whisper_word *
whisper_agreement_tentative (const whisper_agreement * a, int *n_words)
{
  *n_words = a->prev->len;
  return (const whisper_word *) a->prev->data;
}

int64_t
whisper_agreement_commit_frame (const whisper_agreement * a)
{
  return a->commit_frame;
}
