/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One 30 s window of encoder output -> timed segments.
 *
 * Mirrors openai-whisper: whisper/transcribe.py transcribe() (prompt from
 * the previous text, temperature fallback, no-speech skip, segment split at
 * timestamp pairs, seek) and whisper/decoding.py DecodingTask (prompt and
 * SOT sequence, language detection, suppress list).  See whisper.h.
 */
#include "whisper.h"

#include <math.h>
#include <string.h>
#include <zlib.h>

#include "decoder.h"
#include "search.h"
#include "timing.h"
#include "tokenizer.h"

/* openai-whisper constants */
#define INPUT_STRIDE 2                  /* mel frames per timestamp step (20 ms) */
#define PROMPT_RESET_ON_TEMPERATURE 0.5f /* transcribe() default */

/* Bounded work (docs/decoder.md, "Bounded work"): the new tokens of one
 * pass, BUDGET_BASE + BUDGET_PER_SECOND per second of the window's audio
 * (fast speech is about 3 words, 4-5 tokens a second, timestamps
 * included), at most openai's n_text_ctx / 2; all the passes of a window
 * together BUDGET_PASSES_X2 / 2 times that. */
#define BUDGET_BASE 32
#define BUDGET_PER_SECOND 8
#define BUDGET_PASSES_X2 3
#define BUDGET_MIN_PASS 16              /* fewer tokens left: no further pass */

struct whisper_decoder {
  const whisper_model *model;
  whisper_tokenizer *tok;
  whisper_text_decoder *text;
  int text_threads;             /* the n_threads param text was made for */
  whisper_rng rng;
  uint64_t seed;
  GArray *prev_tokens;          /* int: text of previous windows (prompt) */
  gboolean started;             /* the initial prompt was taken */
  int detected_lang;            /* language token detected on the first
                                   window since reset, -1 before */
  int *non_speech;              /* openai Tokenizer.non_speech_tokens */
  int n_non_speech;
  int *blank;                   /* tokenizer.encode(" ") */
  int n_blank;
  double last_speech;           /* word timestamps: end of the last word
                                   (s), 0 after a reset */
};


whisper_decode_params
whisper_decode_params_default (void)
{
  whisper_decode_params p = {
    .bounded_work = 1,
    .max_window_time = 30.0,
    .abort_callback = NULL,
    .abort_callback_user_data = NULL,
    .beam_size = 5,
    .best_of = 5,
    .temperatures = { 0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f },
    .n_temperatures = 6,
    .compression_ratio_threshold = 2.4,
    .logprob_threshold = -1.0,
    .no_speech_threshold = 0.6,
    .condition_on_previous_text = 1,
    .initial_prompt = NULL,
    .language = NULL,
    .task = WHISPER_TASK_TRANSCRIBE,
    .suppress_blank = 1,
    .suppress_tokens = NULL,
    .n_suppress_tokens = 0,
    .max_initial_timestamp = 1.0,
    .without_timestamps = 0,
    .skip_non_words = 1,
    .seed = 0,
    .beam_style = WHISPER_BEAM_CTRANSLATE2,
    .n_threads = 0,
    .compute_type = WHISPER_COMPUTE_AUTO,
    .word_timestamps = 0,
    .prepend_punctuations = NULL,
    .append_punctuations = NULL,
    .hold_text = 0,
  };
  return p;
}

whisper_decoder *
whisper_decoder_new (const whisper_model * model, GError ** error)
{
  const whisper_special_tokens *st = &model->tok;
  if (st->eot < 0 || st->sot < 0 || st->timestamp_begin < 0
      || st->timestamp_begin >= model->hp.n_vocab) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "decoder: the model's vocabulary lacks special tokens "
        "(eot %d, sot %d, timestamp_begin %d)", st->eot, st->sot,
        st->timestamp_begin);
    return NULL;
  }
  whisper_decoder *d = g_new0 (whisper_decoder, 1);
  d->model = model;
  d->tok = whisper_tokenizer_new (model, error);
  if (!d->tok)
    goto fail;
  /* the default batch, threads and compute type; a window's params may
   * ask for more sequences, other threads or another compute type
   * (whisper_decoder_decode_window) */
  d->text = whisper_text_decoder_new (model, 5, 0, WHISPER_COMPUTE_AUTO,
      error);
  if (!d->text)
    goto fail;
  d->prev_tokens = g_array_new (FALSE, FALSE, sizeof (int));
  if (whisper_tokenizer_has_merges (d->tok))
    d->non_speech = whisper_tokenizer_non_speech_tokens (d->tok,
        &d->n_non_speech);
  d->blank = whisper_tokenizer_encode (d->tok, " ", &d->n_blank, NULL);
  whisper_rng_seed (&d->rng, 0);
  d->detected_lang = -1;
  return d;

fail:
  whisper_decoder_free (d);
  return NULL;
}

void
whisper_decoder_free (whisper_decoder * d)
{
  if (!d)
    return;
  whisper_text_decoder_free (d->text);
  whisper_tokenizer_free (d->tok);
  if (d->prev_tokens)
    g_array_unref (d->prev_tokens);
  g_free (d->non_speech);
  g_free (d->blank);
  g_free (d);
}

gboolean
whisper_decoder_add_prompt_text (whisper_decoder * d, const char *text,
    GError ** error)
{
  int n;
  int *ids = whisper_tokenizer_encode (d->tok, text ? text : "", &n, error);
  if (!ids)
    return FALSE;
  g_array_append_vals (d->prev_tokens, ids, n);
  g_free (ids);
  /* only the last n_text_ctx / 2 - 1 prompt a window: keep no more */
  const guint keep = MAX (d->model->hp.n_text_ctx / 2, 1);
  if (d->prev_tokens->len > keep)
    g_array_remove_range (d->prev_tokens, 0, d->prev_tokens->len - keep);
  return TRUE;
}

void
whisper_decoder_reset (whisper_decoder * d)
{
  g_array_set_size (d->prev_tokens, 0);
  d->started = FALSE;
  d->detected_lang = -1;
  d->last_speech = 0.0;
}

/* The longest prompt whisper_decoder_decode_window() can build with @p:
 * [sot_prev] + at most T/2 - 1 tokens of previous text (there is previous
 * text with condition_on_previous_text or an initial prompt) + the SOT
 * sequence (sot [language task] [no_timestamps]), counted as it is built
 * there. */
static int
max_prompt_length (const whisper_decoder * d, const whisper_decode_params * p,
    int *n_prev, int *n_sot)
{
  const whisper_model *m = d->model;
  const whisper_special_tokens *st = &m->tok;
  const int T = m->hp.n_text_ctx;
  const gboolean has_prev = p->condition_on_previous_text
      || (p->initial_prompt && p->initial_prompt[0]);

  *n_sot = 1;
  if (m->is_multilingual && st->lang_first >= 0 && st->n_langs > 0) {
    int task = p->task == WHISPER_TASK_TRANSLATE ? st->translate :
        st->transcribe;
    *n_sot += 1 + (task >= 0);
  }
  if (p->without_timestamps && st->no_timestamps >= 0)
    *n_sot += 1;
  *n_prev = has_prev && st->sot_prev >= 0 && T / 2 - 1 > 0 ? T / 2 : 0;
  return *n_prev + *n_sot;
}

gboolean
whisper_decoder_check_params (const whisper_decoder * d,
    const whisper_decode_params * p, GError ** error)
{
  const int T = d->model->hp.n_text_ctx;
  int n_prev, n_sot;
  const int n_prompt = max_prompt_length (d, p, &n_prev, &n_sot);

  /* whisper_search_run() needs the prompt and one token to decode in the
   * context */
  if (n_prompt + 1 > T) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "decoder: the model's text context of %d positions cannot hold the "
        "longest prompt of these settings (%d tokens: %d of previous text, "
        "%d of the start sequence) and one token to decode; it needs at "
        "least %d", T, n_prompt, n_prev, n_sot, n_prompt + 1);
    return FALSE;
  }
  return TRUE;
}

static void
segment_clear (whisper_segment * s)
{
  g_free (s->text);
  g_free (s->tokens);
  for (int w = 0; w < s->n_words; w++)
    g_free (s->words[w].text);
  g_free (s->words);
}

void
whisper_window_result_clear (whisper_window_result * r)
{
  for (int i = 0; i < r->n_segments; i++)
    segment_clear (&r->segments[i]);
  g_free (r->segments);
  g_free (r->language);
  memset (r, 0, sizeof (*r));
}

/* transcribe.py / utils.py compression_ratio: len(bytes) / len(zlib(bytes)),
 * zlib at its default level as Python's zlib.compress. */
static float
compression_ratio (const char *text)
{
  uLong n = strlen (text);
  if (n == 0)
    return 0.0f;
  uLongf cap = compressBound (n);
  Bytef *buf = g_malloc (cap);
  float r = 0.0f;
  if (compress2 (buf, &cap, (const Bytef *) text, n, Z_DEFAULT_COMPRESSION)
      == Z_OK && cap > 0)
    r = (float) n / (float) cap;
  g_free (buf);
  return r;
}

/* DecodingTask._get_suppress_tokens: -1 (or NULL) = the non-speech tokens;
 * always add transcribe, translate, sot, sot_prev, sot_lm, no_speech. */
static int *
resolve_suppress (whisper_decoder * d, const whisper_decode_params * p,
    int *n_out)
{
  const whisper_special_tokens *st = &d->model->tok;
  GArray *a = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean use_default = p->suppress_tokens == NULL;
  for (int i = 0; p->suppress_tokens && i < p->n_suppress_tokens; i++) {
    if (p->suppress_tokens[i] == -1)
      use_default = TRUE;
    else if (p->suppress_tokens[i] >= 0
        && p->suppress_tokens[i] < d->model->hp.n_vocab)
      g_array_append_val (a, p->suppress_tokens[i]);
  }
  if (use_default) {
    if (d->non_speech)
      g_array_append_vals (a, d->non_speech, d->n_non_speech);
    else if (d->model->suppress_tokens)      /* no merges: the file's list */
      g_array_append_vals (a, d->model->suppress_tokens,
          d->model->n_suppress_tokens);
  }
  int specials[] = { st->transcribe, st->translate, st->sot, st->sot_prev,
    st->sot_lm, st->no_speech
  };
  for (unsigned i = 0; i < G_N_ELEMENTS (specials); i++)
    if (specials[i] >= 0)
      g_array_append_val (a, specials[i]);
  *n_out = a->len;
  return (int *) g_array_free (a, FALSE);
}

/* TRUE if @text has a letter or a digit (invalid UTF-8 is skipped). */
static gboolean
has_word (const char *text)
{
  gchar *valid = g_utf8_make_valid (text ? text : "", -1);
  gboolean found = FALSE;
  for (const gchar *c = valid; *c && !found; c = g_utf8_next_char (c))
    found = g_unichar_isalnum (g_utf8_get_char (c));
  g_free (valid);
  return found;
}

static char *strip_dup (const char *s);

/* skip_non_words: segments of only punctuation, symbols or music signs
 * ("- - -", "...") are no text to show.  Their tokens have already gone
 * into the next prompt. */
static void
drop_non_word_segments (GArray * segs)
{
  guint kept = 0;
  for (guint i = 0; i < segs->len; i++) {
    whisper_segment *s = &g_array_index (segs, whisper_segment, i);
    if (has_word (s->text))
      g_array_index (segs, whisper_segment, kept++) = *s;
    else
      segment_clear (s);
  }
  g_array_set_size (segs, kept);
}

/* transcribe.py: a segment that is instantaneous or has no text is
 * dropped (and its tokens do not go into the prompt); with word
 * timestamps only after they are computed, as openai does */
static void
drop_empty_segments (GArray * segs)
{
  guint kept = 0;
  for (guint i = 0; i < segs->len; i++) {
    whisper_segment *s = &g_array_index (segs, whisper_segment, i);
    char *stripped = strip_dup (s->text);
    const gboolean empty = stripped[0] == '\0';
    g_free (stripped);
    if (s->t0_frame != s->t1_frame && !empty)
      g_array_index (segs, whisper_segment, kept++) = *s;
    else
      segment_clear (s);
  }
  g_array_set_size (segs, kept);
}

/* DecodingTask._detect_language: logits after [sot], only language tokens. */
static int
detect_language (whisper_decoder * d)
{
  const whisper_special_tokens *st = &d->model->tok;
  const int V = d->model->hp.n_vocab;
  int sot = st->sot, row = 0;
  whisper_text_decoder_clear_cache (d->text);
  if (whisper_text_decoder_forward (d->text, &sot, 1, 1) != 0)
    return -1;
  float *logits = g_new (float, V);
  whisper_text_decoder_logits (d->text, &row, 1, logits);
  int best = -1;
  for (int i = st->lang_first; i < st->lang_first + st->n_langs && i < V; i++)
    if (best < 0 || logits[i] > logits[best])
      best = i;
  g_free (logits);
  whisper_text_decoder_clear_cache (d->text);
  return best;
}

static char *
strip_dup (const char *s)
{
  return g_strstrip (g_strdup (s));
}

static void
add_segment (whisper_decoder * d, GArray * segs, const int *tokens, int n,
    int64_t t0, int64_t t1, const whisper_search_result * r, float temperature,
    float cr)
{
  char *text = whisper_tokenizer_decode (d->tok, tokens, n);
  whisper_segment s = {
    .t0_frame = t0,
    .t1_frame = t1,
    .text = text,
    .tokens = g_memdup2 (tokens, sizeof (int) * MAX (n, 1)),
    .n_tokens = n,
    .avg_logprob = r->avg_logprob,
    .no_speech_prob = r->no_speech_prob,
    .temperature = temperature,
    .compression_ratio = cr,
  };
  g_array_append_val (segs, s);
}

gboolean
whisper_decoder_decode_window (whisper_decoder * d,
    const whisper_decode_params * p, const float *enc, int64_t window_start,
    int n_real_frames, whisper_window_result * result, GError ** error)
{
  const whisper_model *m = d->model;
  const whisper_special_tokens *st = &m->tok;
  const int T = m->hp.n_text_ctx;
  const int ts_begin = st->timestamp_begin;
  gboolean ok = FALSE;
  int *suppress = NULL, n_suppress = 0;
  int *prompt = NULL;
  whisper_search_result best = { 0 };
  GArray *segs = NULL;

  memset (result, 0, sizeof (*result));
  if (n_real_frames < 1 || !enc) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_ARGUMENT,
        "decoder: a window needs encoder output and at least one real frame "
        "(got %d)", n_real_frames);
    return FALSE;
  }
  const int segment_size = MIN (n_real_frames, 3000);

  /* decoder sized for the largest batch any temperature needs, on the
   * threads and in the compute type asked for */
  int need = MAX (1, MAX (p->beam_size, p->best_of));
  int max_batch = whisper_text_decoder_max_batch (d->text);
  const whisper_compute_type ct =
      whisper_text_decoder_resolve_compute_type (p->compute_type);
  if (need > max_batch || p->n_threads != d->text_threads
      || ct != whisper_text_decoder_get_compute_type (d->text)) {
    whisper_text_decoder *nt = whisper_text_decoder_new (m,
        MAX (need, max_batch), p->n_threads, p->compute_type, error);
    if (!nt)
      return FALSE;
    whisper_text_decoder_free (d->text);
    d->text = nt;
    d->text_threads = p->n_threads;
  }
  whisper_text_decoder_set_abort (d->text, p->abort_callback,
      p->abort_callback_user_data);
  if (whisper_text_decoder_set_audio (d->text, enc) != 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_CANCELLED,
        "decoder: cancelled");
    return FALSE;
  }

  /* ---- language and task: the SOT sequence ---- */
  int sot_seq[4], n_sot = 0;
  sot_seq[n_sot++] = st->sot;
  if (m->is_multilingual && st->lang_first >= 0 && st->n_langs > 0) {
    int lang;
    if (!p->language || !p->language[0]
        || g_ascii_strcasecmp (p->language, "auto") == 0) {
      /* transcribe(): detected once, on the first window, then kept for
       * the whole stream (until whisper_decoder_reset()) */
      if (d->detected_lang < 0)
        d->detected_lang = detect_language (d);
      lang = d->detected_lang;
    } else {
      lang = whisper_tokenizer_language_token (d->tok, p->language);
      if (lang < 0) {
        g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_ARGUMENT,
            "decoder: unknown language '%s' for this model", p->language);
        return FALSE;
      }
    }
    if (lang < 0) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FAILED,
          "decoder: language detection failed");
      return FALSE;
    }
    sot_seq[n_sot++] = lang;
    result->language = whisper_tokenizer_language_code (d->tok, lang);
    int task = p->task == WHISPER_TASK_TRANSLATE ? st->translate : st->transcribe;
    if (task >= 0)
      sot_seq[n_sot++] = task;
  } else {
    result->language = g_strdup ("en");
  }
  if (p->without_timestamps && st->no_timestamps >= 0)
    sot_seq[n_sot++] = st->no_timestamps;

  /* ---- prompt: [sot_prev] + last (T/2 - 1) previous tokens, SOT seq ---- */
  if (!d->started) {
    d->started = TRUE;
    whisper_rng_seed (&d->rng, p->seed);
    if (p->initial_prompt && p->initial_prompt[0]) {
      /* transcribe(): tokenizer.encode(" " + initial_prompt.strip()) */
      char *s = strip_dup (p->initial_prompt);
      char *s2 = g_strconcat (" ", s, NULL);
      int n_ip;
      int *ip = whisper_tokenizer_encode (d->tok, s2, &n_ip, error);
      g_free (s);
      g_free (s2);
      if (!ip) {
        g_free (result->language);
        result->language = NULL;
        return FALSE;
      }
      g_array_append_vals (d->prev_tokens, ip, n_ip);
      g_free (ip);
    }
  }
  int n_prev = MIN ((int) d->prev_tokens->len, T / 2 - 1);
  prompt = g_new (int, 1 + n_prev + n_sot);
  int n_prompt = 0;
  if (n_prev > 0 && st->sot_prev >= 0) {
    prompt[n_prompt++] = st->sot_prev;
    memcpy (prompt + n_prompt,
        (int *) d->prev_tokens->data + d->prev_tokens->len - n_prev,
        sizeof (int) * n_prev);
    n_prompt += n_prev;
  }
  int sot_index = n_prompt;
  memcpy (prompt + n_prompt, sot_seq, sizeof (int) * n_sot);
  n_prompt += n_sot;

  /* ---- search with temperature fallback (transcribe.py
   * decode_with_fallback) ---- */
  suppress = resolve_suppress (d, p, &n_suppress);
  /* the thresholds are compared in float, as the decoder's numbers are */
  const float cr_threshold = (float) p->compression_ratio_threshold;
  const float lp_threshold = (float) p->logprob_threshold;
  const float ns_threshold = (float) p->no_speech_threshold;
  const float max_initial = (float) p->max_initial_timestamp;
  whisper_search_opts so = {
    .beam_style = p->beam_style,
    .beam_size = MAX (1, p->beam_size),
    .patience = 1.0f,
    .best_of = MAX (1, p->best_of),
    .sample_len = T / 2,
    .suppress_blank = p->suppress_blank,
    .blank_tokens = d->blank,
    .n_blank_tokens = d->n_blank,
    .suppress_tokens = suppress,
    .n_suppress_tokens = n_suppress,
    .timestamps = !p->without_timestamps,
    .max_initial_timestamp_index = max_initial >= 0 ?
        (int) lrintf (max_initial / 0.02f) : -1,
    .stop_repetition = p->bounded_work,
    .abort_callback = p->abort_callback,
    .abort_callback_user_data = p->abort_callback_user_data,
  };
  /* bounded work: tokens of a pass relative to the audio, a budget for
   * all passes, a wall-time cap on the fallback passes */
  const int pass_len = p->bounded_work ? MIN (T / 2, BUDGET_BASE
      + BUDGET_PER_SECOND * segment_size / WHISPER_FRAMES_PER_SECOND) : T / 2;
  int budget = p->bounded_work ? BUDGET_PASSES_X2 * pass_len / 2 : G_MAXINT;
  const gint64 deadline = p->max_window_time > 0 ? g_get_monotonic_time ()
      + (gint64) (p->max_window_time * G_USEC_PER_SEC) : 0;
  gboolean prev_hopeless = FALSE;
  float best_temp = 0.0f, best_cr = 0.0f;
  gboolean have_best = FALSE, best_below_cr = FALSE;
  int n_temps = CLAMP (p->n_temperatures, 1, 8);
  float temp = 0.0f, cr = 0.0f;
  gboolean all_failed = TRUE;
  gboolean ladder_cut = FALSE;  /* bounded work ended the ladder early */
  whisper_search_result r = { 0 };
  for (int ti = 0; ti < n_temps; ti++) {
    so.sample_len = MIN (pass_len, budget);
    if (ti > 0) {
      /* a fallback pass: only within the budget and the time cap */
      if (so.sample_len < BUDGET_MIN_PASS
          || (deadline > 0 && g_get_monotonic_time () > deadline)) {
        ladder_cut = TRUE;
        break;
      }
      so.deadline = deadline;
    }
    temp = p->n_temperatures > 0 ? p->temperatures[ti] : 0.0f;
    so.temperature = temp;
    if (!whisper_search_run (d->text, m, &so, prompt, n_prompt, sot_index,
            &d->rng, &r, error))
      goto out;
    budget -= r.n_steps;
    result->n_passes++;
    result->n_steps += r.n_steps;
    char *text = whisper_tokenizer_decode (d->tok, r.tokens, r.n_tokens);
    char *stripped = strip_dup (text);
    cr = compression_ratio (stripped);
    gboolean word = has_word (stripped);
    g_free (stripped);
    g_free (text);

    gboolean needs_fallback = FALSE;
    gboolean below_cr = TRUE;
    if ((cr_threshold > 0 && cr > cr_threshold) || r.looped) {
      needs_fallback = TRUE;    /* too repetitive (or stopped in a loop,
                                   which its full length would be) */
      below_cr = FALSE;
    }
    if (r.avg_logprob < lp_threshold)
      needs_fallback = TRUE;    /* average log probability is too low */
    if (ns_threshold > 0 && r.no_speech_prob > ns_threshold
        && r.avg_logprob < lp_threshold)
      needs_fallback = FALSE;   /* silence */

    /* if every temperature fails, keep the attempt with the best average
     * logprob among those below the compression threshold (or among all):
     * faster-whisper's choice; openai keeps the last attempt */
    const gboolean r_looped = r.looped;
    gboolean better = !have_best || (below_cr && !best_below_cr)
        || (below_cr == best_below_cr && r.avg_logprob > best.avg_logprob);
    if (!needs_fallback || better) {
      whisper_search_result_clear (&best);
      best = r;
      memset (&r, 0, sizeof (r));
      best_temp = temp;
      best_cr = cr;
      best_below_cr = below_cr;
      have_best = TRUE;
    } else {
      whisper_search_result_clear (&r);
    }
    if (!needs_fallback) {
      all_failed = FALSE;
      break;
    }
    /* bounded work: two failed attempts in a row that are hopeless (a
     * loop, or no letter or digit: nothing skip_non_words would keep)
     * end the ladder; one alone does not, since speech the first pass
     * looped on is usually right at the next temperature */
    gboolean hopeless = r_looped || !word;
    if (p->bounded_work && hopeless && prev_hopeless) {
      ladder_cut = TRUE;
      break;
    }
    prev_hopeless = hopeless;
  }
  /* all failed: the kept attempt reports the last temperature tried, so
   * that the prompt is reset after it (faster-whisper) */
  if (!all_failed)
    temp = best_temp;
  /* the prompt is reset as if the whole ladder had failed: a ladder cut
   * short must not leave a loop's text as the next window's prompt */
  const float prompt_temp = all_failed && ladder_cut && p->n_temperatures > 0 ?
      MAX (temp, p->temperatures[n_temps - 1]) : temp;
  cr = best_cr;

  /* ---- no-speech skip (transcribe.py) ---- */
  result->next_frame = window_start + segment_size;
  if (ns_threshold > 0 && best.no_speech_prob > ns_threshold
      && !(best.avg_logprob > lp_threshold)) {
    result->no_speech = 1;
    ok = TRUE;
    goto out;
  }

  /* ---- segments from timestamp pairs ---- */
  segs = g_array_new (FALSE, FALSE, sizeof (whisper_segment));
  const int *tk = best.tokens;
  const int n = best.n_tokens;
  gboolean single_ts_ending = n >= 2 && tk[n - 2] < ts_begin
      && tk[n - 1] >= ts_begin;
  int n_consec = 0;
  for (int i = 1; i < n; i++)
    if (tk[i] >= ts_begin && tk[i - 1] >= ts_begin)
      n_consec++;
  if (n_consec > 0) {
    int last_slice = 0;
    for (int i = 1; i <= n; i++) {
      gboolean cut = (i < n && tk[i] >= ts_begin && tk[i - 1] >= ts_begin)
          || (i == n && single_ts_ending);
      if (!cut)
        continue;
      const int *sl = tk + last_slice;
      int nsl = i - last_slice;
      int64_t t0 = window_start + (int64_t) (sl[0] - ts_begin) * INPUT_STRIDE;
      int64_t t1 = window_start
          + (int64_t) (sl[nsl - 1] - ts_begin) * INPUT_STRIDE;
      add_segment (d, segs, sl, nsl, t0, t1, &best, temp, cr);
      last_slice = i;
    }
    if (single_ts_ending) {
      /* single timestamp at the end: no speech after it */
      result->next_frame = window_start + segment_size;
    } else {
      /* ignore the unfinished segment, seek to the last timestamp */
      int last_pos = tk[last_slice - 1] - ts_begin;
      result->next_frame = window_start + (int64_t) last_pos * INPUT_STRIDE;
    }
  } else {
    /* no consecutive timestamps: the whole window is one segment, ending at
     * the last timestamp if there is one */
    int64_t dur = segment_size;
    for (int i = n - 1; i >= 0; i--)
      if (tk[i] >= ts_begin) {
        if (tk[i] != ts_begin)
          dur = (int64_t) (tk[i] - ts_begin) * INPUT_STRIDE;
        break;
      }
    add_segment (d, segs, tk, n, window_start, window_start + dur, &best, temp,
        cr);
  }
  /* ---- word timestamps (transcribe.py): the next window starts after
   * the last word unless the text ended on a single timestamp ---- */
  if (p->word_timestamps && segs->len > 0) {
    const int n_sot_align = p->without_timestamps
        && st->no_timestamps >= 0 ? n_sot - 1 : n_sot;
    if (!whisper_add_word_timestamps (d->text, m, d->tok, sot_seq,
            n_sot_align, result->language, p->prepend_punctuations,
            p->append_punctuations, window_start, segment_size,
            (whisper_segment *) segs->data, segs->len, &d->last_speech,
            error))
      goto out;
    const double end = whisper_segments_end ((whisper_segment *) segs->data,
        segs->len);
    if (!single_ts_ending
        && end > window_start / (double) WHISPER_FRAMES_PER_SECOND)
      result->next_frame = llround (end * WHISPER_FRAMES_PER_SECOND);
    if (end >= 0.0)
      d->last_speech = end;
  }
  drop_empty_segments (segs);

  /* never stall: a window always moves on */
  if (result->next_frame <= window_start)
    result->next_frame = window_start + segment_size;

  /* ---- previous text for the next prompt (streaming: the caller's) ---- */
  for (guint i = 0; !p->hold_text && i < segs->len; i++) {
    whisper_segment *s = &g_array_index (segs, whisper_segment, i);
    g_array_append_vals (d->prev_tokens, s->tokens, s->n_tokens);
  }
  if (!p->condition_on_previous_text
      || (!p->hold_text && prompt_temp > PROMPT_RESET_ON_TEMPERATURE))
    g_array_set_size (d->prev_tokens, 0);

  if (p->skip_non_words)
    drop_non_word_segments (segs);

  result->n_segments = segs->len;
  result->segments = (whisper_segment *) g_array_free (segs, FALSE);
  segs = NULL;
  ok = TRUE;

out:
  if (segs) {
    for (guint i = 0; i < segs->len; i++)
      segment_clear (&g_array_index (segs, whisper_segment, i));
    g_array_free (segs, TRUE);
  }
  whisper_search_result_clear (&r);
  whisper_search_result_clear (&best);
  g_free (suppress);
  g_free (prompt);
  if (!ok) {
    g_free (result->language);
    result->language = NULL;
  }
  return ok;
}
