/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whisper tokenizer: byte-level BPE.  See tokenizer.h. */
#include "tokenizer.h"

#include <string.h>

#include "whisper.h"

struct whisper_tokenizer {
  const whisper_model *model;
  const whisper_vocab *vocab;
  int eot;
  GHashTable *text_ids;        /* tok_key (token bytes) -> id + 1, ids < eot */
  GHashTable *special_ids;     /* tok_key -> id + 1, ids >= eot */
  GHashTable *merge_rank;      /* tok_key (pair key) -> rank + 1 */
  /* every key of the three tables and the bytes of the pair keys, in two
   * allocations: freeing the tokenizer frees no key one by one (it
   * took 50-140 ms for 100k keys, on the way of set_state(NULL)) */
  struct tok_key *keys;
  guint8 *pair_bytes;
  int max_token_len;           /* longest text token in bytes */
  GRegex *pretok;              /* GPT-2 pre-tokenizer split */
};

/* GPT-2's pre-tokenizer (openai/gpt-2 encoder.py; tiktoken "gpt2").  GLib
 * compiles it in UTF-8 mode with Unicode properties, so \s, \p{L} and
 * \p{N} are the Unicode classes, as in the reference implementations. */
#define GPT2_PATTERN \
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

/* ---------------------------------------------------------------------- */
/* Merges are stored in GPT-2's byte-mapped form (whisper_vocab_byte). */

/* Mapped UTF-8 string -> raw bytes in out; returns length or -1. */
static int
gpt2_unmap (const char *s, const char *end, char *out)
{
  int n = 0;
  while (s < end) {
    gunichar u = g_utf8_get_char_validated (s, end - s);
    if (u == (gunichar) - 1 || u == (gunichar) - 2)
      return -1;
    int b = whisper_vocab_byte (u);
    if (b < 0)
      return -1;
    out[n++] = (char) b;
    s = g_utf8_next_char (s);
  }
  return n;
}

/* A hash key: bytes that belong to someone else (the vocabulary, the
 * tokenizer's pair_bytes, or the caller for a lookup). */
typedef struct tok_key {
  const guint8 *p;
  guint len;
} tok_key;

static guint
tok_key_hash (gconstpointer key)
{
  const tok_key *k = key;
  guint h = 5381;               /* djb, as g_bytes_hash */
  for (guint i = 0; i < k->len; i++)
    h = (h << 5) + h + k->p[i];
  return h;
}

static gboolean
tok_key_equal (gconstpointer a, gconstpointer b)
{
  const tok_key *x = a, *y = b;
  return x->len == y->len && memcmp (x->p, y->p, x->len) == 0;
}

/* Pair key a+b into out [2 + na + nb]: length-prefixed so that any bytes
 * (even NUL or space) are unambiguous.  Returns its length. */
static guint
pair_key (guint8 * out, const char *a, int na, const char *b, int nb)
{
  out[0] = (guint8) (na & 0xff);
  out[1] = (guint8) (na >> 8);
  memcpy (out + 2, a, na);
  memcpy (out + 2 + na, b, nb);
  return 2 + na + nb;
}

static int
lookup (GHashTable * t, const char *bytes, int len)
{
  tok_key k = { (const guint8 *) bytes, (guint) len };
  return GPOINTER_TO_INT (g_hash_table_lookup (t, &k)) - 1;
}

/* The merge rank of the pair (a, b), -1 if they do not merge. */
static int
merge_rank_of (GHashTable * ranks, const char *a, int na, const char *b,
    int nb)
{
  guint8 stack[512];
  guint8 *buf = 2 + na + nb <= (int) sizeof stack ? stack :
      g_malloc (2 + na + nb);
  tok_key k = { buf, pair_key (buf, a, na, b, nb) };
  int r = GPOINTER_TO_INT (g_hash_table_lookup (ranks, &k)) - 1;
  if (buf != stack)
    g_free (buf);
  return r;
}

whisper_tokenizer *
whisper_tokenizer_new (const whisper_model * model, GError ** error)
{
  const whisper_vocab *voc = &model->vocab;
  if (voc->n_tokens <= 0 || !voc->token || !voc->token_len
      || model->tok.eot < 0 || model->tok.eot > voc->n_tokens) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "tokenizer: the model has no usable vocabulary (%d tokens, eot %d)",
        voc->n_tokens, model->tok.eot);
    return NULL;
  }
  GError *e = NULL;
  GRegex *re = g_regex_new (GPT2_PATTERN, G_REGEX_OPTIMIZE, 0, &e);
  if (!re) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "tokenizer: cannot compile the pre-tokenizer pattern: %s", e->message);
    g_error_free (e);
    return NULL;
  }
  /* One match now: any lazy JIT compilation of the shared pattern happens
   * here, before other threads use it (matching is then read-only). */
  g_regex_match (re, "a", 0, NULL);
  whisper_tokenizer *t = g_new0 (whisper_tokenizer, 1);
  t->pretok = re;
  t->model = model;
  t->vocab = voc;
  t->eot = model->tok.eot;
  t->text_ids = g_hash_table_new (tok_key_hash, tok_key_equal);
  t->special_ids = g_hash_table_new (tok_key_hash, tok_key_equal);
  t->merge_rank = g_hash_table_new (tok_key_hash, tok_key_equal);
  /* the keys, and room for the pair keys: unmapping never makes a merge
   * string longer, the pair adds 2 bytes and drops the space */
  gsize pair_room = 0;
  for (int r = 0; r < voc->n_merges; r++)
    if (voc->merges[r])
      pair_room += strlen (voc->merges[r]) + 2;
  t->keys = g_new (tok_key, (gsize) voc->n_tokens + voc->n_merges + 1);
  t->pair_bytes = g_malloc (pair_room + 1);
  tok_key *key = t->keys;
  guint8 *pb = t->pair_bytes;
  for (int id = 0; id < voc->n_tokens; id++) {
    if (!voc->token[id])
      continue;
    key->p = (const guint8 *) voc->token[id];
    key->len = voc->token_len[id];
    GHashTable *h = id < t->eot ? t->text_ids : t->special_ids;
    /* first id wins for duplicates */
    if (!g_hash_table_contains (h, key))
      g_hash_table_insert (h, key++, GINT_TO_POINTER (id + 1));
    if (id < t->eot && voc->token_len[id] > t->max_token_len)
      t->max_token_len = voc->token_len[id];
  }
  char a[1024], b[1024];
  for (int r = 0; r < voc->n_merges; r++) {
    const char *m = voc->merges[r];
    const char *sp = m ? strchr (m, ' ') : NULL;
    if (!sp || strlen (m) > sizeof (a))
      continue;
    int na = gpt2_unmap (m, sp, a);
    int nb = gpt2_unmap (sp + 1, sp + 1 + strlen (sp + 1), b);
    if (na <= 0 || nb <= 0)
      continue;
    key->p = pb;
    key->len = pair_key (pb, a, na, b, nb);
    if (!g_hash_table_contains (t->merge_rank, key)) {
      g_hash_table_insert (t->merge_rank, key++, GINT_TO_POINTER (r + 1));
      pb += key[-1].len;
    }
  }
  return t;
}

void
whisper_tokenizer_free (whisper_tokenizer * t)
{
  if (!t)
    return;
  g_hash_table_destroy (t->text_ids);
  g_hash_table_destroy (t->special_ids);
  g_hash_table_destroy (t->merge_rank);
  g_free (t->keys);
  g_free (t->pair_bytes);
  g_regex_unref (t->pretok);
  g_free (t);
}

gboolean
whisper_tokenizer_has_merges (const whisper_tokenizer * t)
{
  return g_hash_table_size (t->merge_rank) > 0;
}

const char *
whisper_tokenizer_token_bytes (const whisper_tokenizer * t, int id, int *len)
{
  if (id < 0 || id >= t->vocab->n_tokens || !t->vocab->token[id]) {
    *len = 0;
    return "";
  }
  *len = t->vocab->token_len[id];
  return t->vocab->token[id];
}

int
whisper_tokenizer_token_id (const whisper_tokenizer * t, const char *bytes,
    int len)
{
  int id = lookup (t->text_ids, bytes, len);
  if (id < 0)
    id = lookup (t->special_ids, bytes, len);
  return id;
}

int
whisper_tokenizer_language_token (const whisper_tokenizer * t,
    const char *code)
{
  const whisper_special_tokens *st = &t->model->tok;
  if (!code || st->lang_first < 0 || st->n_langs <= 0)
    return -1;
  char *s = g_strdup_printf ("<|%s|>", code);
  int id = lookup (t->special_ids, s, strlen (s));
  g_free (s);
  if (id < st->lang_first || id >= st->lang_first + st->n_langs)
    return -1;
  return id;
}

char *
whisper_tokenizer_language_code (const whisper_tokenizer * t, int id)
{
  const whisper_special_tokens *st = &t->model->tok;
  if (st->lang_first < 0 || id < st->lang_first
      || id >= st->lang_first + st->n_langs)
    return NULL;
  int len;
  const char *b = whisper_tokenizer_token_bytes (t, id, &len);
  if (len < 5 || strncmp (b, "<|", 2) != 0 || strncmp (b + len - 2, "|>", 2))
    return NULL;
  return g_strndup (b + 2, len - 4);
}

/* ---------------------------------------------------------------------- */
/* decoding */

#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD */

/* Invalid UTF-8 -> U+FFFD, one for each character cut short (as Python's
 * bytes.decode (errors="replace") and Rust's from_utf8_lossy, which the
 * reference tokenizers use); g_utf8_make_valid would give one per byte. */
static void
utf8_append_valid (GString * out, const char *s, gsize n)
{
  const char *end = s + n, *bad;
  while (!g_utf8_validate_len (s, end - s, &bad)) {
    g_string_append_len (out, s, bad - s);
    /* the longest prefix of a character at bad */
    int k = 1;
    while (k < 4 && bad + k < end
        && g_utf8_get_char_validated (bad, k + 1) == (gunichar) - 2)
      k++;
    g_string_append (out, REPLACEMENT);
    s = bad + k;
  }
  g_string_append_len (out, s, end - s);
}

char *
whisper_tokenizer_decode (const whisper_tokenizer * t, const int *ids,
    int n_ids)
{
  GString *bytes = g_string_new (NULL);
  for (int i = 0; i < n_ids; i++) {
    if (ids[i] < 0 || ids[i] >= t->eot)
      continue;
    int len;
    const char *b = whisper_tokenizer_token_bytes (t, ids[i], &len);
    g_string_append_len (bytes, b, len);
  }
  GString *out = g_string_sized_new (bytes->len);
  utf8_append_valid (out, bytes->str, bytes->len);
  g_string_free (bytes, TRUE);
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------- */
/* encoding */

typedef struct {
  int start, len;               /* byte range inside the piece */
} bpe_sym;

/* BPE inside one piece (GPT-2 encoder.py bpe()): repeatedly merge the
 * adjacent pair with the lowest rank, all its occurrences left to right. */
static void
bpe_piece (const whisper_tokenizer * t, const char *piece, int n, GArray * ids)
{
  bpe_sym *sym = g_new (bpe_sym, n);
  int ns = n;
  for (int i = 0; i < n; i++) {
    sym[i].start = i;
    sym[i].len = 1;
  }
  for (;;) {
    int best_rank = G_MAXINT;
    for (int i = 0; i + 1 < ns; i++) {
      int r = merge_rank_of (t->merge_rank, piece + sym[i].start, sym[i].len,
          piece + sym[i + 1].start, sym[i + 1].len);
      if (r >= 0 && r < best_rank)
        best_rank = r;
    }
    if (best_rank == G_MAXINT)
      break;
    int o = 0;
    for (int i = 0; i < ns; i++) {
      if (i + 1 < ns) {
        int r = merge_rank_of (t->merge_rank, piece + sym[i].start,
            sym[i].len, piece + sym[i + 1].start, sym[i + 1].len);
        if (r == best_rank) {
          sym[o].start = sym[i].start;
          sym[o].len = sym[i].len + sym[i + 1].len;
          o++;
          i++;
          continue;
        }
      }
      sym[o++] = sym[i];
    }
    ns = o;
  }
  for (int i = 0; i < ns; i++) {
    int id = lookup (t->text_ids, piece + sym[i].start, sym[i].len);
    if (id >= 0) {
      g_array_append_val (ids, id);
    } else {
      /* not in the vocabulary (cannot happen with a consistent model):
       * fall back to single bytes */
      for (int j = 0; j < sym[i].len; j++) {
        int bid = lookup (t->text_ids, piece + sym[i].start + j, 1);
        if (bid >= 0)
          g_array_append_val (ids, bid);
      }
    }
  }
  g_free (sym);
}

/* No merges (ggml files): greedy longest match, as whisper.cpp does. */
static void
longest_match_piece (const whisper_tokenizer * t, const char *piece, int n,
    GArray * ids)
{
  int i = 0;
  while (i < n) {
    int j = MIN (n, i + t->max_token_len);
    int id = -1;
    for (; j > i; j--) {
      id = lookup (t->text_ids, piece + i, j - i);
      if (id >= 0)
        break;
    }
    if (id < 0) {               /* unknown byte: skip it */
      i++;
      continue;
    }
    g_array_append_val (ids, id);
    i = j;
  }
}

int *
whisper_tokenizer_encode (const whisper_tokenizer * t, const char *text,
    int *n_ids, GError ** error)
{
  size_t n = strlen (text);
  if (!g_utf8_validate (text, n, NULL)) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_UNSUPPORTED_MODEL,
        "tokenizer: text is not valid UTF-8");
    *n_ids = 0;
    return NULL;
  }
  gboolean bpe = whisper_tokenizer_has_merges (t);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (int));
  GMatchInfo *mi;
  /* the alternatives cover every character: the matches tile the text */
  g_regex_match_full (t->pretok, text, n, 0, 0, &mi, NULL);
  for (; g_match_info_matches (mi); g_match_info_next (mi, NULL)) {
    int start, stop;
    g_match_info_fetch_pos (mi, 0, &start, &stop);
    if (bpe)
      bpe_piece (t, text + start, stop - start, ids);
    else
      longest_match_piece (t, text + start, stop - start, ids);
  }
  g_match_info_free (mi);
  *n_ids = ids->len;
  return (int *) g_array_free (ids, FALSE);
}

/* ---------------------------------------------------------------------- */
/* openai-whisper tokenizer.py Tokenizer.non_speech_tokens */

static int
int_cmp (const void *a, const void *b)
{
  return *(const int *) a - *(const int *) b;
}

int *
whisper_tokenizer_non_speech_tokens (const whisper_tokenizer * t, int *n_out)
{
  static const char *symbols[] = {
    "\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[",
    "\\", "]", "^", "_", "`", "{", "|", "}", "~", "「", "」", "『", "』",
    "<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[", "('", "(\"", "((",
    "))", "(((", ")))", "[[", "]]", "{{", "}}", "♪♪", "♪♪♪",
  };
  /* U+2640..U+267F: always take the first token, even when split */
  static const char *misc[] = { "♩", "♪", "♫", "♬", "♭", "♮", "♯" };
  GArray *res = g_array_new (FALSE, FALSE, sizeof (int));
  int n, *ids;

  const char *first[] = { " -", " '" };
  for (unsigned i = 0; i < G_N_ELEMENTS (first); i++) {
    ids = whisper_tokenizer_encode (t, first[i], &n, NULL);
    if (ids && n > 0)
      g_array_append_val (res, ids[0]);
    g_free (ids);
  }
  for (unsigned k = 0; k < G_N_ELEMENTS (symbols) + G_N_ELEMENTS (misc); k++) {
    gboolean is_misc = k >= G_N_ELEMENTS (symbols);
    const char *sym = is_misc ? misc[k - G_N_ELEMENTS (symbols)] : symbols[k];
    for (int sp = 0; sp < 2; sp++) {
      char *s = g_strconcat (sp ? " " : "", sym, NULL);
      ids = whisper_tokenizer_encode (t, s, &n, NULL);
      if (ids && (n == 1 || (is_misc && n > 0)))
        g_array_append_val (res, ids[0]);
      g_free (ids);
      g_free (s);
    }
  }
  /* sort, unique */
  qsort (res->data, res->len, sizeof (int), int_cmp);
  int *a = (int *) res->data;
  int m = 0;
  for (guint i = 0; i < res->len; i++)
    if (m == 0 || a[m - 1] != a[i])
      a[m++] = a[i];
  *n_out = m;
  return (int *) g_array_free (res, FALSE);
}
