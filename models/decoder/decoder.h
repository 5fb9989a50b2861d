/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whisper's text decoder forward pass (CPU, float32 or int8 projections)
 * with a KV cache.
 *
 * Mirrors openai-whisper's TextDecoder (whisper/model.py):
 *   x = tok_emb[tokens] + dec_pos[offset : offset + n]
 *   per layer:  x += self_attn(ln(x))   causal, keys/values cached per token
 *               x += cross_attn(ln(x), xa)  keys/values of the encoder
 *                                           output computed once per window
 *               x += mlp(ln(x))
 *   logits = ln(x) . tok_emb^T           (tied output projection)
 *
 * B sequences (beams or best-of samples) are decoded together as one batch:
 * every projection is one GEMM over the B rows.  All sequences of a batch
 * share the same length (n_past), which is true for Whisper's searches.
 *
 * Letters: B = sequences in the batch, N = new tokens per call,
 * A = n_audio_ctx (1500), D = n_text_state, T = n_text_ctx (448),
 * V = n_vocab, L = n_text_layer.
 *
 * Thread safety: one whisper_text_decoder per stream; the model is shared
 * read-only.
 */
#ifndef WHISPER_DECODER_H
#define WHISPER_DECODER_H

#include <glib.h>
#include "whisper-model.h"

G_BEGIN_DECLS

typedef struct whisper_text_decoder whisper_text_decoder;

/* max_batch: the largest B that will be used (max(beam_size, best_of)).
 * n_threads: of the decoder's thread pool, for the big products (0: all
 * cores).  compute_type: of the projections and the logits (whisper.h). */
whisper_text_decoder *whisper_text_decoder_new (const whisper_model * model,
    int max_batch, int n_threads, whisper_compute_type compute_type,
    GError ** error);
/* What @type stands for in a text decoder (never AUTO). */
whisper_compute_type whisper_text_decoder_resolve_compute_type
    (whisper_compute_type type);
/* what the compute type resolved to (never AUTO) */
whisper_compute_type whisper_text_decoder_get_compute_type (const
    whisper_text_decoder * dec);
void whisper_text_decoder_free (whisper_text_decoder * dec);

int whisper_text_decoder_max_batch (const whisper_text_decoder * dec);
int whisper_text_decoder_n_threads (const whisper_text_decoder * dec);

/* TRUE when the per-token weights are read as the model file's own half
 * floats (a float16 file; any CPU, kernels/matvec.c): same results, less
 * memory traffic. */
gboolean whisper_text_decoder_has_f16_weights (const whisper_text_decoder *
    dec);

/* Compute the cross-attention keys and values of every layer from the
 * encoder output xa [A][D] (once per window) and empty the self-attention
 * cache.  Returns 0, or -1 when the abort callback (set_abort) stopped it
 * between two layers: the decoder then has no audio. */
int whisper_text_decoder_set_audio (whisper_text_decoder * dec,
    const float *xa);

/* A callback polled between the layers of set_audio (NULL: none). */
void whisper_text_decoder_set_abort (whisper_text_decoder * dec,
    whisper_abort_callback callback, void *user_data);

/* Empty the self-attention cache (n_past = 0), keep the audio. */
void whisper_text_decoder_clear_cache (whisper_text_decoder * dec);

/* Number of tokens already in the self-attention cache. */
int whisper_text_decoder_n_past (const whisper_text_decoder * dec);

/* Run N new tokens of each of B sequences (tokens: [B][N]) at positions
 * n_past .. n_past+N-1, append their keys/values to the cache, and keep the
 * final-LayerNorm hidden states [B][N][D] for whisper_text_decoder_logits().
 * Returns 0, or -1 when B, N or a token id is out of range or the context
 * (T) would overflow. */
int whisper_text_decoder_forward (whisper_text_decoder * dec,
    const int *tokens, int B, int N);

/* The forward pass of one sequence of N tokens from position 0 (the cache
 * is emptied first) that also keeps, for each of the n_heads (layer, head)
 * pairs, its cross-attention scores q_h K_h^T / sqrt(hs) before the
 * softmax over the first n_frames audio positions: qk [n_heads][N][n_frames]
 * (openai's find_alignment hooks).  The hidden states are kept as by
 * whisper_text_decoder_forward.  Returns 0, or -1 for arguments out of
 * range. */
int whisper_text_decoder_cross_qk (whisper_text_decoder * dec,
    const int *tokens, int N, const int (*heads)[2], int n_heads,
    int n_frames, float *qk);

/* logits [n_rows][V] for rows (indices into the [B*N] hidden states of the
 * last forward call, row = b*N + i). */
void whisper_text_decoder_logits (whisper_text_decoder * dec,
    const int *rows, int n_rows, float *logits);

/* Beam reordering: sequence b of the cache becomes a copy of sequence
 * source[b] (b < B), for the n_past cached positions. */
void whisper_text_decoder_reorder (whisper_text_decoder * dec,
    const int *source, int B);

G_END_DECLS
#endif /* WHISPER_DECODER_H */
