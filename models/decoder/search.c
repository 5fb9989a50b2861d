/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Greedy, beam search and sampling with openai-whisper's logit filters.
 * See search.h.  References are to openai-whisper whisper/decoding.py. */
#include "search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whisper.h"

/* ---------------------------------------------------------------------- */
/* logit filters */

void
whisper_log_softmax (const float *logits, float *out, int n)
{
  float mx = -INFINITY;
  for (int i = 0; i < n; i++)
    if (logits[i] > mx)
      mx = logits[i];
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += expf (logits[i] - mx);
  float lse = mx + (float) log (sum);
  for (int i = 0; i < n; i++)
    out[i] = logits[i] - lse;
}

static void
fill_neg_inf (float *x, int from, int to)
{
  for (int i = MAX (from, 0); i < to; i++)
    x[i] = -INFINITY;
}

/* SuppressBlank, SuppressTokens, ApplyTimestampRules (decoding.py). */
void
whisper_apply_logit_filters (const whisper_model * model,
    const whisper_search_opts * o, const int *sampled, int n_sampled,
    float *logits)
{
  const int V = model->hp.n_vocab;
  const int eot = model->tok.eot;
  const int ts_begin = model->tok.timestamp_begin;

  /* SuppressBlank: at the first sampled position, no " " and no EOT */
  if (o->suppress_blank && n_sampled == 0) {
    for (int i = 0; i < o->n_blank_tokens; i++)
      if (o->blank_tokens[i] >= 0 && o->blank_tokens[i] < V)
        logits[o->blank_tokens[i]] = -INFINITY;
    logits[eot] = -INFINITY;
  }

  /* SuppressTokens */
  for (int i = 0; i < o->n_suppress_tokens; i++) {
    int t = o->suppress_tokens[i];
    if (t >= 0 && t < V)
      logits[t] = -INFINITY;
  }

  if (!o->timestamps || ts_begin < 0 || ts_begin >= V)
    return;

  /* ApplyTimestampRules */
  if (model->tok.no_timestamps >= 0)
    logits[model->tok.no_timestamps] = -INFINITY;

  /* timestamps have to appear in pairs, except directly before EOT */
  gboolean last_ts = n_sampled >= 1 && sampled[n_sampled - 1] >= ts_begin;
  gboolean penult_ts = n_sampled < 2 || sampled[n_sampled - 2] >= ts_begin;
  if (last_ts) {
    if (penult_ts)              /* has to be non-timestamp */
      fill_neg_inf (logits, ts_begin, V);
    else                        /* cannot be normal text tokens */
      fill_neg_inf (logits, 0, eot);
  }

  /* timestamps shouldn't decrease; forbid timestamp tokens smaller than the
   * last, and force each segment to have a nonzero length */
  int last_timestamp = -1;
  for (int i = n_sampled - 1; i >= 0; i--)
    if (sampled[i] >= ts_begin) {
      last_timestamp = sampled[i];
      break;
    }
  if (last_timestamp >= 0) {
    int ts_last = (last_ts && !penult_ts) ? last_timestamp : last_timestamp + 1;
    fill_neg_inf (logits, ts_begin, MIN (ts_last, V));
  }

  if (n_sampled == 0) {
    /* suppress generating non-timestamp tokens at the beginning */
    fill_neg_inf (logits, 0, ts_begin);
    /* max_initial_timestamp */
    if (o->max_initial_timestamp_index >= 0)
      fill_neg_inf (logits, ts_begin + o->max_initial_timestamp_index + 1, V);
  }

  /* if the total probability of the timestamps is above any other token,
   * sample a timestamp */
  float mx = -INFINITY;
  for (int i = 0; i < V; i++)
    if (logits[i] > mx)
      mx = logits[i];
  if (mx == -INFINITY)
    return;
  double sum_all = 0.0, sum_ts = 0.0;
  float max_text = -INFINITY;
  for (int i = 0; i < V; i++) {
    double e = exp ((double) logits[i] - mx);
    sum_all += e;
    if (i >= ts_begin)
      sum_ts += e;
    else if (logits[i] > max_text)
      max_text = logits[i];
  }
  /* compare log(sum_ts / sum_all) with (max_text - mx) - log(sum_all) */
  double ts_logprob = sum_ts > 0 ? log (sum_ts) : -INFINITY;
  double text_logprob = (double) max_text - mx;
  if (ts_logprob > text_logprob)
    fill_neg_inf (logits, 0, ts_begin);
}

/* ---------------------------------------------------------------------- */

typedef struct {
  float logprob;
  int source;                   /* beam index */
  int token;
  int order;                    /* insertion order, for a stable sort */
} candidate;

static int
candidate_cmp (const void *a, const void *b)
{
  const candidate *x = a, *y = b;
  if (x->logprob > y->logprob)
    return -1;
  if (x->logprob < y->logprob)
    return 1;
  return x->order - y->order;
}

/* indices of the k largest values of x[n], largest first (ties: lower
 * index first) */
static void
topk (const float *x, int n, int k, int *idx)
{
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (m == k && !(x[i] > x[idx[k - 1]]))
      continue;
    int j = m < k ? m++ : k - 1;
    while (j > 0 && x[i] > x[idx[j - 1]]) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = i;
  }
}

typedef struct {
  int *tokens;
  int n;
  float logprob;
} finished_seq;

void
whisper_search_result_clear (whisper_search_result * r)
{
  g_free (r->tokens);
  memset (r, 0, sizeof (*r));
}

/* ---------------------------------------------------------------------- */
/* loops: the decoder repeating itself (noise, DC, music) */

#define REPEAT_WINDOW 96        /* text tokens looked at, from the end */
#define REPEAT_MAX_PERIOD 32    /* longest repeated phrase, in tokens */
#define REPEAT_MIN_SPAN 32      /* tokens the repetition must cover */

gboolean
whisper_search_tail_repeats (const int *seq, int len, int ts_begin)
{
  int t[REPEAT_WINDOW], n = 0;
  /* the text tokens, last first (periodicity does not care) */
  for (int i = len - 1; i >= 0 && n < REPEAT_WINDOW; i--)
    if (ts_begin < 0 || seq[i] < ts_begin)
      t[n++] = seq[i];
  if (n < REPEAT_MIN_SPAN)
    return FALSE;
  for (int p = 1; p <= REPEAT_MAX_PERIOD && 3 * p <= n; p++) {
    int run = 0;
    while (run + p < n && t[run] == t[run + p])
      run++;
    int span = run + p;         /* tokens covered by the repeated phrase */
    if (span >= REPEAT_MIN_SPAN && span >= 3 * p)
      return TRUE;
  }
  return FALSE;
}

static gboolean
search_aborted (const whisper_search_opts * o, GError ** error)
{
  if (!o->abort_callback || !o->abort_callback (o->abort_callback_user_data))
    return FALSE;
  g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_CANCELLED,
      "decoder: cancelled");
  return TRUE;
}

/* score of MaximumLikelihoodRanker, length_penalty None */
static float
rank_score (float logprob, int n)
{
  return logprob / (float) MAX (n, 1);
}

gboolean
whisper_search_run (whisper_text_decoder * dec, const whisper_model * model,
    const whisper_search_opts * o, const int *prompt, int n_prompt,
    int sot_index, whisper_rng * rng, whisper_search_result * res,
    GError ** error)
{
  const int V = model->hp.n_vocab;
  const int T = model->hp.n_text_ctx;
  const int eot = model->tok.eot;
  const gboolean sampling = o->temperature > 0.0f;
  const gboolean beam = !sampling && o->beam_size > 1;
  const int n = sampling ? MAX (o->best_of, 1) : beam ? o->beam_size : 1;
  const int max_candidates = beam ?
      MAX (1, (int) lrintf (o->beam_size * o->patience)) : n;
  const int sample_len = MIN (o->sample_len, T);
  gboolean ok = TRUE;

  memset (res, 0, sizeof (*res));
  if (n > whisper_text_decoder_max_batch (dec) || n_prompt < 1
      || n_prompt >= T || sot_index < 0 || sot_index >= n_prompt) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_ARGUMENT,
        "search: %d sequences (max %d), prompt of %d tokens (context %d)",
        n, whisper_text_decoder_max_batch (dec), n_prompt, T);
    return FALSE;
  }

  float *logits = g_new (float, (size_t) n * V);       /* [n][V] */
  float *logprobs = g_new (float, V);
  int *seq = g_new0 (int, (size_t) n * (sample_len + 1));      /* [n][sample_len+1] */
  int *seq_tmp = g_new0 (int, (size_t) n * (sample_len + 1));
  float *sum_lp = g_new0 (float, n);
  gboolean *done = g_new0 (gboolean, n);
  int *next = g_new (int, n);
  int *source = g_new (int, n);
  int *rows = g_new (int, n);
  /* candidates per beam: openai beam_size + 1; CTranslate2 takes the top
   * 2 x beam_size over all beams, which the per-beam top 2 x beam_size
   * contain */
  int kc = !beam ? 1 : o->beam_style == WHISPER_BEAM_CTRANSLATE2 ?
      2 * o->beam_size : o->beam_size + 1;
  candidate *cand = g_new (candidate, (size_t) n * kc);
  int *top = g_new (int, kc);
  finished_seq *fin = g_new0 (finished_seq, max_candidates + n + 1);
  int n_fin = 0;
  int len = 0;                  /* tokens sampled per sequence so far */

  /* ---- the prompt, once (B = 1) ---- */
  if (search_aborted (o, error)) {
    ok = FALSE;
    goto out;
  }
  whisper_text_decoder_clear_cache (dec);
  if (whisper_text_decoder_forward (dec, prompt, 1, n_prompt) != 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_ARGUMENT,
        "search: decoder forward failed on a prompt of %d tokens", n_prompt);
    ok = FALSE;
    goto out;
  }
  /* no-speech probability: softmax at the SOT position, unfiltered */
  res->no_speech_prob = 0.0f;
  if (model->tok.no_speech >= 0 && model->tok.no_speech < V) {
    whisper_text_decoder_logits (dec, &sot_index, 1, logits);
    whisper_log_softmax (logits, logprobs, V);
    res->no_speech_prob = expf (logprobs[model->tok.no_speech]);
  }
  {
    int last = n_prompt - 1;
    whisper_text_decoder_logits (dec, &last, 1, logits);
    for (int b = 1; b < n; b++)
      memcpy (logits + (size_t) b * V, logits, sizeof (float) * V);
    for (int b = 0; b < n; b++)
      source[b] = 0;
    whisper_text_decoder_reorder (dec, source, n);
  }

  /* ---- the sampling loop ---- */
  for (int step = 0; step < sample_len; step++) {
    gboolean completed;
    if (!beam) {
      /* GreedyDecoder.update */
      completed = TRUE;
      for (int b = 0; b < n; b++) {
        if (done[b]) {
          next[b] = eot;
          continue;
        }
        float *lg = logits + (size_t) b * V;
        whisper_apply_logit_filters (model, o, seq + (size_t) b * (sample_len + 1),
            len, lg);
        whisper_log_softmax (lg, logprobs, V);
        int tok = 0;
        if (!sampling) {
          for (int i = 1; i < V; i++)
            if (lg[i] > lg[tok])
              tok = i;
        } else {
          /* Categorical(logits / T): inverse CDF with one uniform coin */
          double total = 0.0;
          float mx = -INFINITY;
          for (int i = 0; i < V; i++)
            if (lg[i] > mx)
              mx = lg[i];
          for (int i = 0; i < V; i++)
            total += exp ((lg[i] - mx) / o->temperature);
          double coin = whisper_rng_uniform (rng) * total, acc = 0.0;
          tok = -1;
          for (int i = 0; i < V; i++) {
            if (lg[i] == -INFINITY)
              continue;
            acc += exp ((lg[i] - mx) / o->temperature);
            tok = i;
            if (acc > coin)
              break;
          }
          if (tok < 0)
            tok = eot;
        }
        sum_lp[b] += logprobs[tok];
        next[b] = tok;
        seq[(size_t) b * (sample_len + 1) + len] = tok;
        if (tok == eot)
          done[b] = TRUE;
        else
          completed = FALSE;
      }
      len++;
    } else {
      /* BeamSearchDecoder.update: beam_size + 1 candidates per beam; at the
       * first step every beam holds the same prefix, so only beam 0 counts
       * (openai's dict of sequences de-duplicates them) */
      int nc = 0;
      int n_src = step == 0 ? 1 : n;
      for (int b = 0; b < n_src; b++) {
        float *lg = logits + (size_t) b * V;
        whisper_apply_logit_filters (model, o, seq + (size_t) b * (sample_len + 1),
            len, lg);
        whisper_log_softmax (lg, logprobs, V);
        topk (logprobs, V, kc, top);
        for (int k = 0; k < kc; k++) {
          cand[nc].logprob = sum_lp[b] + logprobs[top[k]];
          cand[nc].source = b;
          cand[nc].token = top[k];
          cand[nc].order = nc;
          nc++;
        }
      }
      qsort (cand, nc, sizeof (candidate), candidate_cmp);
      int saved = 0;
      if (o->beam_style == WHISPER_BEAM_CTRANSLATE2) {
        /* CTranslate2's BeamSearch (faster-whisper): the best 2 x beam
         * candidates over all beams; an EOT among the first beam_size is a
         * finished hypothesis (no cap) and its slot goes to the next
         * non-EOT candidate of the second half */
        int nsel = MIN (nc, 2 * n), secondary = n;
        for (int k = 0; k < n && k < nsel; k++) {
          int pick = k;
          if (cand[k].token == eot) {
            const int *pre = seq + (size_t) cand[k].source * (sample_len + 1);
            fin[n_fin].tokens = g_memdup2 (pre, sizeof (int) * MAX (len, 1));
            fin[n_fin].n = len;
            fin[n_fin].logprob = cand[k].logprob;
            n_fin++;
            for (int j = secondary; j < nsel; j++)
              if (cand[j].token != eot) {
                pick = j;
                secondary = j + 1;
                break;
              }
          }
          const int *pre = seq + (size_t) cand[pick].source * (sample_len + 1);
          int *dst = seq_tmp + (size_t) saved * (sample_len + 1);
          memcpy (dst, pre, sizeof (int) * len);
          dst[len] = cand[pick].token;
          /* a slot left on an EOT (no replacement) is dead */
          sum_lp[saved] = cand[pick].token == eot ? -INFINITY
              : cand[pick].logprob;
          source[saved] = cand[pick].source;
          next[saved] = cand[pick].token;
          saved++;
        }
      }
      for (int c = 0; c < nc && saved < n; c++) {
        const int *pre = seq + (size_t) cand[c].source * (sample_len + 1);
        if (cand[c].token == eot) {
          /* newly finished, in score order; keep up to max_candidates */
          if (n_fin < max_candidates) {
            fin[n_fin].tokens = g_memdup2 (pre, sizeof (int) * MAX (len, 1));
            fin[n_fin].n = len;
            fin[n_fin].logprob = cand[c].logprob;
            n_fin++;
          }
        } else {
          int *dst = seq_tmp + (size_t) saved * (sample_len + 1);
          memcpy (dst, pre, sizeof (int) * len);
          dst[len] = cand[c].token;
          sum_lp[saved] = cand[c].logprob;   /* safe: sources read from cand */
          source[saved] = cand[c].source;
          next[saved] = cand[c].token;
          saved++;
        }
      }
      /* fewer than n live candidates (only possible with -inf everywhere):
       * repeat the last one so that the batch stays full */
      for (; saved < n; saved++) {
        memcpy (seq_tmp + (size_t) saved * (sample_len + 1),
            seq_tmp + (size_t) (saved - 1) * (sample_len + 1),
            sizeof (int) * (len + 1));
        sum_lp[saved] = -INFINITY;
        source[saved] = source[saved - 1];
        next[saved] = next[saved - 1];
      }
      int *sw = seq;
      seq = seq_tmp;
      seq_tmp = sw;
      len++;
      completed = n_fin >= max_candidates;
      if (!completed)
        whisper_text_decoder_reorder (dec, source, n);
    }

    res->n_steps = step + 1;
    if (completed || step + 1 >= sample_len
        || whisper_text_decoder_n_past (dec) + 1 > T)
      break;

    /* ---- bounded work: a loop, the time cap, a cancel ---- */
    if (o->stop_repetition && len >= REPEAT_MIN_SPAN) {
      /* beam search: the best live beam (the others are variants of it
       * that differ in their last tokens); sampling: every live sample */
      gboolean all_loop = TRUE;
      for (int b = 0; b < (beam ? 1 : n) && all_loop; b++) {
        if (!beam && done[b])
          continue;             /* finished: not decoding on */
        all_loop = whisper_search_tail_repeats (seq + (size_t) b *
            (sample_len + 1), len, model->tok.timestamp_begin);
      }
      if (all_loop) {
        res->looped = 1;
        break;
      }
    }
    if (o->deadline > 0 && g_get_monotonic_time () > o->deadline) {
      res->timed_out = 1;
      break;
    }
    if (search_aborted (o, error)) {
      ok = FALSE;
      goto out;
    }

    /* ---- one forward step for every sequence ---- */
    if (whisper_text_decoder_forward (dec, next, n, 1) != 0) {
      g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FAILED,
          "search: decoder forward failed at step %d", step);
      ok = FALSE;
      goto out;
    }
    for (int b = 0; b < n; b++)
      rows[b] = b;
    whisper_text_decoder_logits (dec, rows, n, logits);
  }

  /* ---- pick the result ---- */
  int best_len = 0;
  const int *best_tokens = NULL;
  float best_lp = 0.0f;
  if (!beam) {
    /* each sequence ends at its first EOT (or at sample_len) */
    float best_score = -INFINITY;
    for (int b = 0; b < n; b++) {
      const int *s = seq + (size_t) b * (sample_len + 1);
      int l = 0;
      while (l < len && s[l] != eot)
        l++;
      float sc = rank_score (sum_lp[b], l);
      if (best_tokens == NULL || sc > best_score) {
        best_score = sc;
        best_tokens = s;
        best_len = l;
        best_lp = sum_lp[b];
      }
    }
  } else {
    /* BeamSearchDecoder.finalize: not enough finished -> add the live beams
     * by sum logprob */
    if (n_fin < o->beam_size) {
      int *order = g_new (int, n);
      for (int b = 0; b < n; b++)
        order[b] = b;
      for (int i = 1; i < n; i++)       /* insertion sort, descending */
        for (int j = i; j > 0 && sum_lp[order[j]] > sum_lp[order[j - 1]]; j--) {
          int t = order[j];
          order[j] = order[j - 1];
          order[j - 1] = t;
        }
      for (int i = 0; i < n && n_fin < o->beam_size; i++) {
        int b = order[i];
        fin[n_fin].tokens = g_memdup2 (seq + (size_t) b * (sample_len + 1),
            sizeof (int) * MAX (len, 1));
        fin[n_fin].n = len;
        fin[n_fin].logprob = sum_lp[b];
        n_fin++;
      }
      g_free (order);
    }
    float best_score = -INFINITY;
    for (int i = 0; i < n_fin; i++) {
      float sc = rank_score (fin[i].logprob, fin[i].n);
      if (best_tokens == NULL || sc > best_score) {
        best_score = sc;
        best_tokens = fin[i].tokens;
        best_len = fin[i].n;
        best_lp = fin[i].logprob;
      }
    }
  }
  res->tokens = g_new (int, MAX (best_len, 1));
  if (best_len > 0)
    memcpy (res->tokens, best_tokens, sizeof (int) * best_len);
  res->n_tokens = best_len;
  res->sum_logprob = best_lp;
  res->avg_logprob = best_lp / (float) (best_len + 1);

out:
  for (int i = 0; i < n_fin; i++)
    g_free (fin[i].tokens);
  g_free (fin);
  g_free (top);
  g_free (cand);
  g_free (rows);
  g_free (source);
  g_free (next);
  g_free (done);
  g_free (sum_lp);
  g_free (seq_tmp);
  g_free (seq);
  g_free (logprobs);
  g_free (logits);
  return ok;
}
