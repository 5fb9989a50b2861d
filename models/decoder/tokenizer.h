/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whisper's tokenizer: GPT-2 style byte-level BPE (tiktoken "gpt2" for .en
 * models, "multilingual" for the others) plus the special tokens.
 *
 * The vocabulary and the BPE merges come from the model (whisper_vocab):
 * token ids map to raw byte strings (the GPT-2 byte-to-unicode mapping is
 * already undone by the loaders).
 *
 * Decoding (ids -> text) is exact.  Encoding (text -> ids, used for prompts)
 * follows GPT-2: the pre-tokenizer regex (a GRegex, compiled once)
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * then BPE merges by rank inside each piece.  Model files without merges (whisper.cpp ggml)
 * get a greedy longest-match over the vocabulary inside each piece instead
 * (what whisper.cpp does); that can differ from the real BPE on rare words.
 *
 * Thread safety: a whisper_tokenizer is read-only after creation.
 */
#ifndef WHISPER_TOKENIZER_H
#define WHISPER_TOKENIZER_H

#include <glib.h>
#include "whisper-model.h"

G_BEGIN_DECLS

typedef struct whisper_tokenizer whisper_tokenizer;

whisper_tokenizer *whisper_tokenizer_new (const whisper_model * model,
    GError ** error);
void whisper_tokenizer_free (whisper_tokenizer * tok);

/* TRUE when the model carries BPE merges (exact encoding). */
gboolean whisper_tokenizer_has_merges (const whisper_tokenizer * tok);

/* Text tokens of a UTF-8 string (no special tokens are produced: "<|en|>"
 * in the text is encoded as plain text).  Returns a newly allocated array
 * and its length in *n_ids, or NULL + error for invalid UTF-8. */
int *whisper_tokenizer_encode (const whisper_tokenizer * tok,
    const char *text, int *n_ids, GError ** error);

/* Text of the text tokens among ids (ids >= eot, i.e. special and timestamp
 * tokens, are skipped, as faster-whisper's Tokenizer.decode does).  Always
 * valid UTF-8: each invalid byte or character cut short becomes one U+FFFD
 * (Python's errors="replace").  g_free() the result. */
char *whisper_tokenizer_decode (const whisper_tokenizer * tok,
    const int *ids, int n_ids);

/* Raw bytes of one token (not NUL-terminated in general; *len set). */
const char *whisper_tokenizer_token_bytes (const whisper_tokenizer * tok,
    int id, int *len);

/* Token id of an exact byte string ("<|en|>", " hello"); -1 if absent. */
int whisper_tokenizer_token_id (const whisper_tokenizer * tok,
    const char *bytes, int len);

/* <|code|> for a language code ("en", "de"); -1 if the model has none. */
int whisper_tokenizer_language_token (const whisper_tokenizer * tok,
    const char *code);
/* "en" for the token <|en|>; NULL if id is not a language token. g_free(). */
char *whisper_tokenizer_language_code (const whisper_tokenizer * tok, int id);

/* openai-whisper's Tokenizer.non_speech_tokens (symbols, brackets and
 * music signs, with and without a leading space), computed with
 * whisper_tokenizer_encode().  Newly allocated, sorted, *n set. */
int *whisper_tokenizer_non_speech_tokens (const whisper_tokenizer * tok,
    int *n);

G_END_DECLS
#endif /* WHISPER_TOKENIZER_H */
