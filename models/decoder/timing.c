/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Word timestamps (timing.h): openai-whisper's whisper/timing.py as
 * faster-whisper runs it through CTranslate2's Whisper::align.
 *
 *   tokens = sot_seq, <|notimestamps|>, text tokens, <|endoftext|>
 *   one forward pass keeps the alignment heads' cross-attention scores
 *   [heads][tokens][frames / 2], softmax over the frames, standardised
 *   over the tokens, median filter (7) over the frames, mean over heads;
 *   DTW of minus that matrix (the rows from <|notimestamps|> on): the
 *   first audio position of each token is its start, the next word's the
 *   end; words are tokens split at spaces (or at characters, for languages
 *   written without them) with punctuation merged into its neighbour.
 */
#include "timing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_PER_SECOND 50.0          /* audio positions per second */
#define MEDFILT_WIDTH 7
#define LOGIT_ROWS 32                   /* rows of logits computed at once */
#define MAX_WORD_DURATION 0.7           /* cap of the median word (s) */

/* Python's string.punctuation */
static const char ascii_punctuation[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

typedef struct {
  char *text;                   /* "" once merged into a neighbour */
  int n_tokens;
  double start, end;            /* seconds from the window start */
  float probability;
} word_timing;

static void
word_timings_free (GArray * a)
{
  for (guint i = 0; i < a->len; i++)
    g_free (g_array_index (a, word_timing, i).text);
  g_array_free (a, TRUE);
}

/* ---------------------------------------------------------------------- */
/* DTW and the median filter */

int
whisper_dtw (const float *x, int n, int m, int *path_i, int *path_j)
{
  const size_t W = (size_t) m + 1, cells = ((size_t) n + 1) * W;
  float *cost = g_try_new (float, cells);
  guint8 *trace = g_try_new (guint8, cells);
  if (!cost || !trace) {
    g_free (cost);
    g_free (trace);
    return -1;
  }
  for (size_t c = 0; c < cells; c++)
    cost[c] = INFINITY;
  cost[0] = 0.0f;
  for (int j = 1; j <= m; j++)
    for (int i = 1; i <= n; i++) {
      const float c0 = cost[(i - 1) * W + j - 1];
      const float c1 = cost[(i - 1) * W + j];
      const float c2 = cost[i * W + j - 1];
      float c;
      guint8 t;
      if (c0 < c1 && c0 < c2) {
        c = c0;
        t = 0;
      } else if (c1 < c0 && c1 < c2) {
        c = c1;
        t = 1;
      } else {
        c = c2;
        t = 2;
      }
      cost[i * W + j] = c - x[(size_t) (i - 1) * m + j - 1];
      trace[i * W + j] = t;
    }
  for (int j = 0; j <= m; j++)
    trace[j] = 2;
  for (int i = 0; i <= n; i++)
    trace[i * W] = 1;
  int i = n, j = m, k = 0;
  while (i > 0 || j > 0) {
    path_i[k] = i - 1;
    path_j[k] = j - 1;
    k++;
    const guint8 t = trace[i * W + j];
    if (t == 0) {
      i--;
      j--;
    } else if (t == 1) {
      i--;
    } else {
      j--;
    }
  }
  for (int a = 0, b = k - 1; a < b; a++, b--) {
    int ti = path_i[a], tj = path_j[a];
    path_i[a] = path_i[b];
    path_j[a] = path_j[b];
    path_i[b] = ti;
    path_j[b] = tj;
  }
  g_free (cost);
  g_free (trace);
  return k;
}

void
whisper_median_filter (float *x, int n_rows, int n, int width)
{
  const int r = width / 2;
  if (n <= r || width < 2)
    return;
  float *row = g_new (float, n);
  float *win = g_new (float, width);
  for (int k = 0; k < n_rows; k++) {
    float *xr = x + (size_t) k * n;
    memcpy (row, xr, sizeof (float) * n);
    for (int j = 0; j < n; j++) {
      for (int o = -r; o <= r; o++) {
        int at = abs (j + o);
        if (at >= n)
          at = 2 * n - 2 - at;
        win[o + r] = row[at];
      }
      /* insertion sort: width is 7 (qsort's calls cost more) */
      for (int a = 1; a < width; a++) {
        const float v = win[a];
        int b = a - 1;
        for (; b >= 0 && win[b] > v; b--)
          win[b + 1] = win[b];
        win[b + 1] = v;
      }
      xr[j] = win[r];
    }
  }
  g_free (row);
  g_free (win);
}

/* ---------------------------------------------------------------------- */
/* tokens -> words */

/* FALSE while the bytes end in the first bytes of a character that more
 * tokens may complete; TRUE when they are whole (or broken for good) */
static gboolean
utf8_whole (const char *s, gsize len)
{
  const char *end;
  if (g_utf8_validate (s, len, &end))
    return TRUE;
  const guint8 *p = (const guint8 *) end;
  const gsize rest = len - (gsize) (end - s);
  const int need = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0
      && p[0] <= 0xef ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
  if (need == 0 || rest >= (gsize) need)
    return TRUE;
  for (gsize i = 1; i < rest; i++)
    if ((p[i] & 0xc0) != 0x80)
      return TRUE;
  return FALSE;
}

static void
push_word (GArray * words, char *text, int n_tokens)
{
  word_timing w = {.text = text,.n_tokens = n_tokens };
  g_array_append_val (words, w);
}

/* openai's Tokenizer.split_tokens_on_unicode: a word per run of tokens
 * that decodes to whole characters */
static GArray *
split_on_unicode (const whisper_tokenizer * tok, const int *tokens, int n)
{
  GArray *words = g_array_new (FALSE, TRUE, sizeof (word_timing));
  GString *bytes = g_string_new (NULL);
  int first = 0;
  for (int t = 0; t < n; t++) {
    int len;
    const char *b = whisper_tokenizer_token_bytes (tok, tokens[t], &len);
    g_string_append_len (bytes, b, len);
    if (utf8_whole (bytes->str, bytes->len) || t == n - 1) {
      push_word (words, whisper_tokenizer_decode (tok, tokens + first,
              t + 1 - first), t + 1 - first);
      g_string_truncate (bytes, 0);
      first = t + 1;
    }
  }
  g_string_free (bytes, TRUE);
  return words;
}

/* openai's split_tokens_on_spaces: subwords joined until one starts with
 * a space or is punctuation (`in string.punctuation`, a substring test) */
static GArray *
split_on_spaces (const whisper_tokenizer * tok, const int *tokens, int n)
{
  GArray *sub = split_on_unicode (tok, tokens, n);
  GArray *words = g_array_new (FALSE, TRUE, sizeof (word_timing));
  for (guint i = 0; i < sub->len; i++) {
    word_timing *s = &g_array_index (sub, word_timing, i);
    char *stripped = g_strstrip (g_strdup (s->text));
    const gboolean punct = strstr (ascii_punctuation, stripped) != NULL;
    g_free (stripped);
    if (s->text[0] == ' ' || punct || words->len == 0) {
      push_word (words, s->text, s->n_tokens);
    } else {
      word_timing *last = &g_array_index (words, word_timing,
          words->len - 1);
      char *joined = g_strconcat (last->text, s->text, NULL);
      g_free (last->text);
      g_free (s->text);
      last->text = joined;
      last->n_tokens += s->n_tokens;
    }
    s->text = NULL;
  }
  g_array_free (sub, TRUE);
  return words;
}

/* languages written without spaces between words (openai's list) */
static gboolean
splits_on_unicode (const char *language)
{
  static const char *const codes[] = { "zh", "ja", "th", "lo", "my", "yue" };
  for (size_t i = 0; language && i < G_N_ELEMENTS (codes); i++)
    if (strcmp (language, codes[i]) == 0)
      return TRUE;
  return FALSE;
}

/* openai's merge_punctuations; `x in set` is Python's substring test */
static void
merge_punctuations (GArray * a, const char *prepended, const char *appended)
{
  if (a->len < 2)
    return;
  for (int i = (int) a->len - 2, j = (int) a->len - 1; i >= 0; i--) {
    word_timing *prev = &g_array_index (a, word_timing, i);
    word_timing *next = &g_array_index (a, word_timing, j);
    char *stripped = g_strstrip (g_strdup (prev->text));
    const gboolean merge = prev->text[0] == ' '
        && strstr (prepended, stripped) != NULL;
    g_free (stripped);
    if (merge) {
      char *joined = g_strconcat (prev->text, next->text, NULL);
      g_free (next->text);
      next->text = joined;
      next->n_tokens += prev->n_tokens;
      prev->text[0] = '\0';
      prev->n_tokens = 0;
    } else {
      j = i;
    }
  }
  for (guint i = 0, j = 1; j < a->len; j++) {
    word_timing *prev = &g_array_index (a, word_timing, i);
    word_timing *next = &g_array_index (a, word_timing, j);
    const size_t lp = strlen (prev->text);
    if ((lp == 0 || prev->text[lp - 1] != ' ')
        && strstr (appended, next->text) != NULL) {
      char *joined = g_strconcat (prev->text, next->text, NULL);
      g_free (prev->text);
      prev->text = joined;
      prev->n_tokens += next->n_tokens;
      next->text[0] = '\0';
      next->n_tokens = 0;
    } else {
      i = j;
    }
  }
}

/* ---------------------------------------------------------------------- */
/* the alignment */

/* probs[t]: the probability of text_tokens[t] at its row, the softmax
 * over the text tokens (ids below <|endoftext|>) as CTranslate2 gives it */
static gboolean
text_token_probs (whisper_text_decoder * text, int eot, int first_row,
    const int *text_tokens, int n_text, int V, float *probs)
{
  float *logits = g_try_new (float, (size_t) LOGIT_ROWS * V);
  if (!logits)
    return FALSE;
  int rows[LOGIT_ROWS];
  for (int t0 = 0; t0 < n_text; t0 += LOGIT_ROWS) {
    const int nr = MIN (LOGIT_ROWS, n_text - t0);
    for (int r = 0; r < nr; r++)
      rows[r] = first_row + t0 + r;
    whisper_text_decoder_logits (text, rows, nr, logits);
    for (int r = 0; r < nr; r++) {
      const float *l = logits + (size_t) r * V;
      float mx = -INFINITY;
      for (int v = 0; v < eot; v++)
        mx = MAX (mx, l[v]);
      double sum = 0.0;
      for (int v = 0; v < eot; v++)
        sum += expf (l[v] - mx);
      const int id = text_tokens[t0 + r];
      probs[t0 + r] = id < eot ? (float) (expf (l[id] - mx) / sum) : 0.0f;
    }
  }
  g_free (logits);
  return TRUE;
}

/* matrix [N][F]: the mean over the heads of qk [heads][N][F] after the
 * softmax over F, the standardisation over N and the median filter */
static void
alignment_matrix (float *qk, int n_heads, int N, int F, float *matrix)
{
  memset (matrix, 0, sizeof (float) * N * F);
  for (int h = 0; h < n_heads; h++) {
    float *w = qk + (size_t) h * N * F;
    for (int r = 0; r < N; r++) {
      float *row = w + (size_t) r * F, mx = -INFINITY, sum = 0.0f;
      for (int f = 0; f < F; f++)
        mx = MAX (mx, row[f]);
      for (int f = 0; f < F; f++)
        sum += row[f] = expf (row[f] - mx);
      for (int f = 0; f < F; f++)
        row[f] /= sum;
    }
    for (int f = 0; f < F; f++) {
      double mean = 0.0, var = 0.0;
      for (int r = 0; r < N; r++)
        mean += w[(size_t) r * F + f];
      mean /= N;
      for (int r = 0; r < N; r++) {
        const double dv = w[(size_t) r * F + f] - mean;
        var += dv * dv;
      }
      const double sd = sqrt (var / N);
      for (int r = 0; r < N; r++) {
        float *x = &w[(size_t) r * F + f];
        *x = sd > 0.0 ? (float) ((*x - mean) / sd) : 0.0f;
      }
    }
    whisper_median_filter (w, N, F, MEDFILT_WIDTH);
    for (size_t i = 0; i < (size_t) N * F; i++)
      matrix[i] += w[i];
  }
  for (size_t i = 0; i < (size_t) N * F; i++)
    matrix[i] /= n_heads;
}

/* openai's find_alignment: the words of text_tokens with their start, end
 * (seconds from the window start) and probability; empty without text or
 * audio */
static GArray *
find_alignment (whisper_text_decoder * text, const whisper_model * m,
    const whisper_tokenizer * tok, const int *sot_seq, int n_sot,
    const int *text_tokens, int n_text, int n_frames, gboolean spaces,
    GError ** error)
{
  const whisper_special_tokens *st = &m->tok;
  const int F = MIN (n_frames / 2, m->hp.n_audio_ctx);
  const int N = n_sot + n_text + 2, H = m->n_alignment_heads;
  if (n_text == 0 || F < 1 || H < 1)
    return g_array_new (FALSE, TRUE, sizeof (word_timing));
  if (N > m->hp.n_text_ctx || st->no_timestamps < 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FAILED,
        "decoder: cannot align %d tokens in a text context of %d", N,
        m->hp.n_text_ctx);
    return NULL;
  }
  int *tokens = g_new (int, N);
  memcpy (tokens, sot_seq, sizeof (int) * n_sot);
  tokens[n_sot] = st->no_timestamps;
  memcpy (tokens + n_sot + 1, text_tokens, sizeof (int) * n_text);
  tokens[N - 1] = st->eot;

  GArray *words = NULL;
  const int n_rows = n_text + 1;        /* <|notimestamps|> .. last text */
  float *qk = g_try_new (float, (size_t) H * N * F);
  float *matrix = g_try_new (float, (size_t) N * F);
  float *probs = g_new (float, n_text);
  int *path_i = g_new (int, n_rows + F);
  int *path_j = g_new (int, n_rows + F);
  double *jump = g_new (double, n_rows);
  int n_path = -1;
  if (!qk || !matrix)
    goto oom;
  if (whisper_text_decoder_cross_qk (text, tokens, N,
          (const int (*)[2]) m->alignment_heads, H, F, qk) != 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FAILED,
        "decoder: the alignment pass failed (%d tokens, %d frames)", N, F);
    goto out;
  }
  if (!text_token_probs (text, st->eot, n_sot, text_tokens, n_text,
          m->hp.n_vocab, probs))
    goto oom;
  alignment_matrix (qk, H, N, F, matrix);
  n_path = whisper_dtw (matrix + (size_t) n_sot * F, n_rows, F, path_i,
      path_j);
  if (n_path < 0)
    goto oom;
  /* the first audio position of each row on the path */
  for (int k = 0, row = -1; k < n_path; k++)
    if (path_i[k] != row) {
      row = path_i[k];
      jump[row] = path_j[k] / TOKENS_PER_SECOND;
    }

  words = spaces ? split_on_spaces (tok, text_tokens, n_text) :
      split_on_unicode (tok, text_tokens, n_text);
  for (guint w = 0, b = 0; w < words->len; w++) {
    word_timing *wt = &g_array_index (words, word_timing, w);
    const int e = b + wt->n_tokens;
    wt->start = jump[b];
    wt->end = jump[e];
    double p = 0.0;
    for (int t = b; t < e; t++)
      p += probs[t];
    wt->probability = (float) (p / MAX (wt->n_tokens, 1));
    b = e;
  }
  goto out;
oom:
  g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_NO_MEMORY,
      "decoder: out of memory for the word alignment (%d tokens, %d frames)",
      N, F);
out:
  g_free (tokens);
  g_free (qk);
  g_free (matrix);
  g_free (probs);
  g_free (path_i);
  g_free (path_j);
  g_free (jump);
  return words;
}

/* ---------------------------------------------------------------------- */
/* add_word_timestamps */

static int
cmp_double (const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* numpy.median of the non-zero durations, 0 without any */
static double
median_duration (GArray * a)
{
  double *d = g_new (double, MAX (a->len, 1));
  int n = 0;
  for (guint i = 0; i < a->len; i++) {
    const word_timing *w = &g_array_index (a, word_timing, i);
    if (w->end - w->start != 0.0)
      d[n++] = w->end - w->start;
  }
  double med = 0.0;
  if (n > 0) {
    qsort (d, n, sizeof (double), cmp_double);
    med = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2.0;
  }
  g_free (d);
  return med;
}

static double
round2 (double x)
{
  return nearbyint (x * 100.0) / 100.0;
}

static int64_t
to_frame (double seconds)
{
  return (int64_t) llround (seconds * WHISPER_FRAMES_PER_SECOND);
}

double
whisper_segments_end (const whisper_segment * segs, int n_segs)
{
  for (int i = n_segs - 1; i >= 0; i--)
    if (segs[i].n_words > 0)
      return segs[i].words[segs[i].n_words - 1].t1_frame /
          (double) WHISPER_FRAMES_PER_SECOND;
  return n_segs > 0 ? segs[n_segs - 1].t1_frame /
      (double) WHISPER_FRAMES_PER_SECOND : -1.0;
}

typedef struct {
  double start, end;
  const word_timing *w;
} timed_word;

gboolean
whisper_add_word_timestamps (whisper_text_decoder * text,
    const whisper_model * model, const whisper_tokenizer * tok,
    const int *sot_seq, int n_sot, const char *language,
    const char *prepend_punctuations, const char *append_punctuations,
    int64_t window_start, int n_frames, whisper_segment * segs, int n_segs,
    double *last_speech, GError ** error)
{
  const int eot = model->tok.eot;
  if (n_segs == 0)
    return TRUE;
  GArray *all = g_array_new (FALSE, FALSE, sizeof (int));
  int *seg_text = g_new0 (int, n_segs);         /* text tokens per segment */
  for (int s = 0; s < n_segs; s++)
    for (int t = 0; t < segs[s].n_tokens; t++)
      if (segs[s].tokens[t] < eot) {
        g_array_append_val (all, segs[s].tokens[t]);
        seg_text[s]++;
      }
  GArray *al = find_alignment (text, model, tok, sot_seq, n_sot,
      (const int *) all->data, all->len, n_frames,
      !splits_on_unicode (language), error);
  g_array_free (all, TRUE);
  if (!al) {
    g_free (seg_text);
    return FALSE;
  }

  /* long words at sentence boundaries are cut to twice the median word */
  const double median = MIN (MAX_WORD_DURATION, median_duration (al));
  const double max_duration = median * 2.0;
  static const char sentence_end[] = ".\xe3\x80\x82!\xef\xbc\x81?\xef\xbc\x9f";
  if (median > 0.0)             /* some word has a duration */
    for (guint i = 1; i < al->len; i++) {
      word_timing *w = &g_array_index (al, word_timing, i);
      const word_timing *pw = &g_array_index (al, word_timing, i - 1);
      if (w->end - w->start <= max_duration)
        continue;
      if (strstr (sentence_end, w->text))
        w->end = w->start + max_duration;
      else if (strstr (sentence_end, pw->text))
        w->start = w->end - max_duration;
    }
  merge_punctuations (al, prepend_punctuations ? prepend_punctuations :
      WHISPER_PREPEND_PUNCTUATIONS, append_punctuations ? append_punctuations
      : WHISPER_APPEND_PUNCTUATIONS);

  const double offset = window_start / (double) WHISPER_FRAMES_PER_SECOND;
  timed_word *tw = g_new (timed_word, MAX (al->len, 1));
  guint wi = 0;
  for (int s = 0; s < n_segs; s++) {
    int n = 0, saved = 0;
    while (wi < al->len && saved < seg_text[s]) {
      const word_timing *w = &g_array_index (al, word_timing, wi);
      if (w->text[0]) {
        tw[n].start = round2 (offset + w->start);
        tw[n].end = round2 (offset + w->end);
        tw[n].w = w;
        n++;
      }
      saved += w->n_tokens;
      wi++;
    }
    if (n == 0)
      continue;
    double seg_start = segs[s].t0_frame / (double) WHISPER_FRAMES_PER_SECOND;
    double seg_end = segs[s].t1_frame / (double) WHISPER_FRAMES_PER_SECOND;
    /* the first and second word after a pause are at most twice the
     * median word long */
    if (tw[0].end - *last_speech > median * 4
        && (tw[0].end - tw[0].start > max_duration
            || (n > 1 && tw[1].end - tw[0].start > max_duration * 2))) {
      if (n > 1 && tw[1].end - tw[1].start > max_duration) {
        const double boundary = MAX (tw[1].end / 2, tw[1].end - max_duration);
        tw[0].end = tw[1].start = boundary;
      }
      tw[0].start = MAX (0.0, tw[0].end - max_duration);
    }
    /* the segment's own start and end win over a first or last word that
     * is too long */
    if (seg_start < tw[0].end && seg_start - 0.5 > tw[0].start)
      tw[0].start = MAX (0.0, MIN (tw[0].end - median, seg_start));
    else
      seg_start = tw[0].start;
    if (seg_end > tw[n - 1].start && seg_end + 0.5 < tw[n - 1].end)
      tw[n - 1].end = MAX (tw[n - 1].start + median, seg_end);
    else
      seg_end = tw[n - 1].end;
    *last_speech = seg_end;

    segs[s].t0_frame = to_frame (seg_start);
    segs[s].t1_frame = to_frame (seg_end);
    segs[s].words = g_new0 (whisper_word, n);
    segs[s].n_words = n;
    for (int k = 0; k < n; k++) {
      segs[s].words[k].t0_frame = to_frame (tw[k].start);
      segs[s].words[k].t1_frame = to_frame (tw[k].end);
      segs[s].words[k].text = g_strdup (tw[k].w->text);
      segs[s].words[k].probability = tw[k].w->probability;
    }
  }
  g_free (tw);
  g_free (seg_text);
  word_timings_free (al);
  return TRUE;
}
