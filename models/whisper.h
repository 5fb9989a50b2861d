/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whisper.h: the public API of the gst-whisper-npu engine.
 *
 * The only engine header the GStreamer elements (gst/), the examples and
 * the command-line tools include.  Plain C with GLib; no GStreamer.
 *
 * Data flow (one stream):
 *
 *   16 kHz mono samples
 *     -> whisper_mel_push_*()             log10 mel frames [F][M], 10 ms each
 *     -> whisper_speech_gate_contrast()   skip windows with nothing to hear
 *     -> whisper_encoder_encode_window()  up to 3000 frames -> [1500][C]
 *     -> whisper_decoder_decode_window()  timed text segments + where the
 *                                         next window starts (the seek)
 *
 * Usage (error handling shortened):
 *
 *   GError *err = NULL;
 *   whisper_model *model = whisper_model_registry_acquire ("tiny.en", &err);
 *   whisper_model_info info = whisper_model_get_info (model);
 *   whisper_mel *mel = whisper_mel_new (info.n_mels, &err);
 *   whisper_encoder_params ep = whisper_encoder_default_params ();
 *   whisper_encoder *enc = whisper_encoder_new (model, &ep, &err);
 *   whisper_decoder *dec = whisper_decoder_new (model, &err);
 *   whisper_decode_params dp = whisper_decode_params_default ();
 *   // frames: [n][M] from whisper_mel_push_f32 (); window_start = 0
 *   float *xa = g_new (float, (gsize) info.n_audio_ctx * info.n_audio_state);
 *   whisper_encoder_encode_window (enc, frames, n, xa, &err);
 *   whisper_window_result res = { 0 };
 *   whisper_decoder_decode_window (dec, &dp, xa, 0, n, &res, &err);
 *   // res.segments[i].text, .t0_frame, .t1_frame; res.next_frame
 *   whisper_window_result_clear (&res);
 *   ...free in reverse order; whisper_model_registry_release (model);
 *
 * Errors: every function that can fail takes a GError ** last and returns
 * NULL / FALSE with the error set, in the WHISPER_ERROR domain below.  The
 * message names the file, the value or the limit at fault.
 *
 * Thread safety: a loaded model is read-only and may be shared by any
 * number of threads (the registry is thread-safe).  Every other object
 * (mel analyser, speech gate, encoder, decoder) belongs to one stream and
 * must not be used from two threads at once; different objects may be used
 * from different threads at the same time.
 *
 * Letters in shape comments: M = mel bands (80 or 128), F = frames,
 * A = audio positions (1500), C = audio state width (384 tiny, 512 base).
 */
#ifndef WHISPER_H
#define WHISPER_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Framing: what every Whisper model expects */

#define WHISPER_SAMPLE_RATE 16000       /* Hz, mono */
#define WHISPER_N_FFT 400               /* 25 ms analysis window */
#define WHISPER_HOP_LENGTH 160          /* samples per mel frame (10 ms) */
#define WHISPER_FRAMES_PER_SECOND (WHISPER_SAMPLE_RATE / WHISPER_HOP_LENGTH)
#define WHISPER_WINDOW_FRAMES 3000      /* one encoder window: 30 s */
#define WHISPER_AUDIO_POSITIONS (WHISPER_WINDOW_FRAMES / 2)    /* 1500 */

/* ------------------------------------------------------------------------ */
/* Errors */

/* One domain for the whole engine; the message says what and where. */
#define WHISPER_ERROR (whisper_error_quark ())
GQuark whisper_error_quark (void);

typedef enum {
  WHISPER_ERROR_NOT_FOUND,          /* no such file/directory or known model name */
  WHISPER_ERROR_IO,                 /* cannot open / read / map / allocate a model */
  WHISPER_ERROR_FORMAT,             /* not a valid model file: bad magic, truncated,
                                       bad dims, missing tensor, unknown dtype */
  WHISPER_ERROR_UNSUPPORTED_MODEL,  /* a valid model the encoder or decoder
                                       cannot run (dims, missing tokens) */
  WHISPER_ERROR_ARGUMENT,           /* bad parameter (language, prompt, sizes) */
  WHISPER_ERROR_NO_MEMORY,          /* buffers could not be allocated */
  WHISPER_ERROR_FAILED,             /* an internal step failed (FFTW plan,
                                       decoder forward) */
  WHISPER_ERROR_DEVICE,             /* the NPU is absent, unusable, or failed
                                       (the message names what and why) */
  WHISPER_ERROR_CANCELLED,          /* the abort callback asked to stop: the
                                       call returned early and its result is
                                       void (a flush or a stop, not a fault;
                                       the object stays usable) */
} WhisperError;

/* Abort callback (whisper.cpp's ggml_abort_callback): polled by a running
 * encode (before each of its big products: conv2, and per layer the
 * attention, its output projection, fc1, fc2) or decode (once per token
 * of every pass, and per layer of the cross-attention keys); TRUE makes
 * the call return FALSE with WHISPER_ERROR_CANCELLED within one product
 * or one token.  Called from the thread that runs the call, so it
 * must be cheap and thread-safe (e.g. g_atomic_int_get of a flag). */
typedef gboolean (*whisper_abort_callback) (void *user_data);

/* ------------------------------------------------------------------------ */
/* Models: loading, the shared registry */

typedef struct whisper_model whisper_model;

/* What a caller may need to know of a loaded model. */
typedef struct {
  int n_mels;               /* mel bands of the input (80, 128) */
  int n_audio_ctx;          /* A: encoder output positions (1500) */
  int n_audio_state;        /* C: encoder output width */
  int n_vocab;
  int n_text_ctx;           /* decoder context (448) */
  gboolean is_multilingual; /* has language tokens */
  const char *path;         /* the file or directory it came from */
  const char *format;       /* "ctranslate2", "ggml", "safetensors" */
  const char *weight_dtype; /* element type of the weights in the file */
} whisper_model_info;

/* Load a model from a CTranslate2 directory, a whisper.cpp ggml .bin file or
 * a Hugging Face safetensors directory (detected from the contents).
 * Reentrant.  NULL + error (the message names the file and the problem). */
whisper_model *whisper_model_load (const char *path, GError ** error);
void whisper_model_free (whisper_model * model);

/* Valid as long as the model is; strings point into it. */
whisper_model_info whisper_model_get_info (const whisper_model * model);

/* The models directory: $GST_WHISPER_MODELS_DIR, else
 * $XDG_CACHE_HOME/gst-whisper-npu/models (~/.cache/...).  Newly allocated. */
char *whisper_models_dir (void);

/* A path is returned as is (canonicalised); a known name such as "tiny.en"
 * or "base" is looked up as <models dir>/<name>.  NULL + error if absent. */
char *whisper_model_resolve (const char *name_or_path, GError ** error);

/* Registry: one load per resolved path per process, reference-counted.
 * acquire() loads on first use; release() frees on the last release. */
whisper_model *whisper_model_registry_acquire (const char *name_or_path,
    GError ** error);
void whisper_model_registry_release (whisper_model * model);

/* ------------------------------------------------------------------------ */
/* Front end: streaming log-mel, exactly Whisper's (docs/mel.md)
 *
 * Frame i is centred on sample 160 i; it comes out as soon as the samples
 * it needs have been pushed.  Output is bit-identical however the input is
 * split.  Values are log10 power, before Whisper's per-window
 * normalisation (whisper_encoder_encode_window does that). */

typedef struct whisper_mel whisper_mel;

/* How the end of a stream is padded (the start is always reflected):
 *  REFLECT: log_mel_spectrogram(audio) (torch.stft center=True);
 *  ZERO: zeros after the last sample, what openai-whisper's transcribe()
 *        sees (it appends 30 s of silence).  Only the last one or two
 *        frames differ. */
typedef enum {
  WHISPER_MEL_END_REFLECT = 0,
  WHISPER_MEL_END_ZERO = 1,
} whisper_mel_end_pad;

/* n_mels 80 or 128.  NULL + error on failure. */
whisper_mel *whisper_mel_new (int n_mels, GError ** error);
void whisper_mel_free (whisper_mel * mel);

int whisper_mel_get_n_mels (const whisper_mel * mel);
void whisper_mel_set_end_pad (whisper_mel * mel, whisper_mel_end_pad end_pad);

/* Forget the current stream; the next push starts a new one. */
void whisper_mel_reset (whisper_mel * mel);

/* Exact number of frames the next push of n_samples samples will return,
 * and that whisper_mel_finish() will return now. */
size_t whisper_mel_frames_for_push (const whisper_mel * mel, size_t n_samples);
size_t whisper_mel_frames_for_finish (const whisper_mel * mel);

/* Appends samples and writes every frame that became computable to out
 * [F][M] (F = whisper_mel_frames_for_push (mel, n)).  NaN and +-Inf samples
 * are replaced by 0; their count is added to *n_nonfinite when not NULL.
 * Returns F. */
size_t whisper_mel_push_f32 (whisper_mel * mel, const float *samples,
    size_t n_samples, float *out, uint64_t * n_nonfinite);

/* The same for signed 16-bit samples, converted as s / 32768. */
size_t whisper_mel_push_s16 (whisper_mel * mel, const int16_t * samples,
    size_t n_samples, float *out);

/* Ends the stream: writes the remaining frames (end padding) to out [F][M],
 * F = whisper_mel_frames_for_finish (mel), then resets.  Returns F. */
size_t whisper_mel_finish (whisper_mel * mel, float *out);

/* Samples pushed and frames produced so far in the current stream. */
uint64_t whisper_mel_get_n_samples (const whisper_mel * mel);
uint64_t whisper_mel_get_n_frames (const whisper_mel * mel);

/* Whole signal: out [n_samples / 160][M].  Resets before and after.
 * Returns the number of frames. */
size_t whisper_mel_compute (whisper_mel * mel, const float *samples,
    size_t n_samples, float *out);

/* ------------------------------------------------------------------------ */
/* Speech gate: does a stretch of mel frames hold anything but silence or
 * stationary noise?  Returns the window's contrast in dB (docs/speech-gate.md);
 * a window below the threshold is not worth decoding. */

#define WHISPER_SPEECH_GATE_DEFAULT_DB 12.0f

typedef struct whisper_speech_gate whisper_speech_gate;

/* n_mels: bands per frame.  Never fails. */
whisper_speech_gate *whisper_speech_gate_new (int n_mels);

/* frames: [n_frames][n_mels] as whisper_mel gives them.  0 for no frames. */
float whisper_speech_gate_contrast (whisper_speech_gate * gate,
    const float *frames, int n_frames);

void whisper_speech_gate_free (whisper_speech_gate * gate);

/* ------------------------------------------------------------------------ */
/* Encoder */

/* Where the encoder runs.  AUTO is resolved by whisper_encoder_new(). */
typedef enum {
  WHISPER_BACKEND_AUTO = 0,   /* the NPU when usable, else the CPU */
  WHISPER_BACKEND_CPU = 1,    /* CPU (float32, bfloat16 or int8:
                                 compute_type) */
  WHISPER_BACKEND_NPU = 2,    /* AMD Ryzen AI NPU through XRT (int8;
                                 docs/npu.md) */
} whisper_backend;

/* The arithmetic of the matrix products (names as CTranslate2 users know
 * them).  INT8: the projection weights in int8 (per output channel),
 * activations quantised per row when used, int32 sums, float32 elsewhere
 * (docs/quantization.md).  BFLOAT16: the encoder's projection weights and
 * their inputs rounded to bfloat16, float32 sums, float32 elsewhere; the
 * text decoder computes it in float32.  AUTO is resolved by whisper_encoder_new() and
 * by the decoder, each for its own products: the fastest type whose
 * accuracy was measured to hold (docs/quantization.md, AUTO). */
typedef enum {
  WHISPER_COMPUTE_AUTO = 0,
  WHISPER_COMPUTE_FLOAT32 = 1,
  WHISPER_COMPUTE_INT8 = 2,
  WHISPER_COMPUTE_BFLOAT16 = 3,
} whisper_compute_type;

/* "auto", "float32", "int8", "bfloat16" */
const char *whisper_compute_type_name (whisper_compute_type type);
/* The type named @name (as whisper_compute_type_name() spells it); FALSE
 * for an unknown name. */
gboolean whisper_compute_type_from_name (const char *name,
    whisper_compute_type * type);

typedef struct {
  whisper_backend backend;    /* AUTO */
  int n_threads;              /* 0: all cores */
  whisper_compute_type compute_type;  /* AUTO; the NPU computes INT8 */
  const char *npu_kernel_dir; /* NULL: $WHISPER_NPU_KERNEL_DIR, else the
                                 installed kernels (docs/npu.md); borrowed
                                 for whisper_encoder_new() */
  gboolean npu_fallback;      /* FALSE: an NPU failure while encoding is an
                                 error; TRUE: the CPU takes over (same int8
                                 arithmetic) for this window and the rest */
  gboolean int8_attention;    /* with INT8 on the CPU, the self-attention's
                                 products (QK^T, PV) in int8 too, as on the
                                 NPU, which always does (the same bits);
                                 FALSE: float32 attention on the CPU */
  whisper_abort_callback abort_callback;  /* NULL; polled before each big
                                 product of whisper_encoder_encode_window(),
                                 kept by whisper_encoder_new() */
  void *abort_callback_user_data;
} whisper_encoder_params;

whisper_encoder_params whisper_encoder_default_params (void);

/* "auto", "cpu", "npu" */
const char *whisper_backend_name (whisper_backend backend);

typedef struct whisper_encoder whisper_encoder;

whisper_encoder *whisper_encoder_new (const whisper_model * model,
    const whisper_encoder_params * params, GError ** error);
void whisper_encoder_free (whisper_encoder * enc);

/* The backend and compute type AUTO resolved to, and the threads in use. */
whisper_backend whisper_encoder_get_backend (const whisper_encoder * enc);
whisper_compute_type whisper_encoder_get_compute_type (const whisper_encoder *
    enc);
int whisper_encoder_get_n_threads (const whisper_encoder * enc);
/* Why the encoder is not on the NPU: why AUTO took the CPU, or why a
 * failure moved it there (npu_fallback); NULL on the NPU, or when the CPU
 * was asked for. */
const char *whisper_encoder_get_backend_reason (const whisper_encoder * enc);
/* The NPU device's description (emulated or the XRT device), or NULL
 * off the NPU. */
const char *whisper_encoder_get_device (const whisper_encoder * enc);

/* Encodes one window: frames [n_frames][M] as whisper_mel gives them,
 * 1 <= n_frames <= 3000; the rest of the 30 s is padded as Whisper pads
 * (silence), then the window is normalised as Whisper does (clamp 8 below
 * its maximum, (x + 4) / 4).  out: [A][C].  FALSE + error on failure;
 * WHISPER_ERROR_CANCELLED when the abort callback returned TRUE (out is
 * then undefined). */
gboolean whisper_encoder_encode_window (whisper_encoder * enc,
    const float *frames, int n_frames, float *out, GError ** error);

/* ------------------------------------------------------------------------ */
/* Decoder: one window of encoder output -> timed segments
 * (openai-whisper's DecodingTask + the per-window part of transcribe()) */

typedef enum {
  WHISPER_TASK_TRANSCRIBE = 0,
  WHISPER_TASK_TRANSLATE = 1,
} whisper_task;

/* Beam search candidate selection (ranking, sum logprob / length, and
 * patience 1 are the same in both):
 *   OPENAI: openai-whisper BeamSearchDecoder: beam_size + 1 candidates per
 *     beam; every EOT met before beam_size live candidates finishes a
 *     sequence, up to beam_size finished ones.
 *   CTRANSLATE2: CTranslate2's BeamSearch (what faster-whisper runs): the
 *     best 2 x beam_size candidates over all beams; only an EOT among the
 *     first beam_size finishes a sequence. */
typedef enum {
  WHISPER_BEAM_OPENAI = 0,
  WHISPER_BEAM_CTRANSLATE2 = 1,
} whisper_beam_style;

/* Strings and the token list are borrowed: they must outlive the calls
 * they are passed to. */
typedef struct {
  int beam_size;                    /* 5; 1 = greedy (at temperature 0) */
  int best_of;                      /* 5: candidates when sampling at T > 0 */
  float temperatures[8];            /* 0, 0.2, ... 1.0 */
  int n_temperatures;               /* 6 */
  double compression_ratio_threshold;  /* 2.4; <= 0 disables */
  double logprob_threshold;         /* -1.0; -INFINITY disables */
  double no_speech_threshold;       /* 0.6; <= 0 disables the skip */
  int condition_on_previous_text;   /* 1 */
  const char *initial_prompt;       /* NULL; prompt of the first window
                                       after new/reset */
  const char *language;             /* NULL or "auto": detect (multilingual
                                       models) on the first window after
                                       new/reset, then keep it (openai) */
  whisper_task task;                /* transcribe */
  int suppress_blank;               /* 1 */
  const int *suppress_tokens;       /* NULL: the non-speech tokens; -1 in
                                       a list stands for them; a non-NULL
                                       list with n = 0: none; ids outside
                                       the vocabulary are ignored.  The
                                       special tokens (sot, sot_prev,
                                       sot_lm, transcribe, translate,
                                       no_speech) are always suppressed */
  int n_suppress_tokens;
  double max_initial_timestamp;     /* 1.0 s; < 0: no cap */
  int without_timestamps;           /* 0 */
  int skip_non_words;               /* 1: segments without a letter or a
                                       digit are left out of the result
                                       (they still prompt the next window) */
  uint64_t seed;                    /* sampling RNG seed */
  whisper_beam_style beam_style;    /* CTRANSLATE2 */
  int n_threads;                    /* 0: all cores; the decoder's threads
                                       are started anew when it changes */
  whisper_compute_type compute_type;   /* AUTO: the text decoder's products */
  int bounded_work;                 /* 1: the work of a window is bounded
                                       (docs/decoder.md, "Bounded work"):
                                       a pass stuck repeating stops, the
                                       fallback ladder stops on a text
                                       without a word or a repetition, and
                                       the tokens of all passes have a
                                       budget relative to the window's
                                       audio; 0: openai's unbounded ladder */
  double max_window_time;           /* 30 s: wall time of a window after
                                       which no further fallback pass runs
                                       (a running one stops, the best
                                       attempt is kept); the first pass
                                       always runs to its end; <= 0: none */
  int word_timestamps;              /* 0; 1: each segment gets its words,
                                       timed by the cross-attention of the
                                       alignment heads (openai's
                                       word_timestamps=True, including how
                                       it moves segment ends and the next
                                       window's start) */
  const char *prepend_punctuations; /* NULL: openai's "'“¿([{- merged into
                                       the next word */
  const char *append_punctuations;  /* NULL: openai's "'.。,，!！?？:：”)]}、
                                       merged into the previous word */
  int hold_text;                    /* 0; 1: the window's text does not
                                       prompt the next window (streaming:
                                       the caller adds what it keeps with
                                       whisper_decoder_add_prompt_text) */
  whisper_abort_callback abort_callback;  /* NULL; polled per token */
  void *abort_callback_user_data;
} whisper_decode_params;

whisper_decode_params whisper_decode_params_default (void);

typedef struct {
  int64_t t0_frame, t1_frame;       /* absolute stream frames (10 ms each) */
  char *text;                       /* UTF-8 with its leading space and
                                       the punctuation merged into it */
  float probability;                /* mean probability of its tokens */
} whisper_word;

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
  whisper_word *words;              /* with params.word_timestamps, else NULL */
  int n_words;
} whisper_segment;

typedef struct {
  whisper_segment *segments;
  int n_segments;
  int64_t next_frame;               /* absolute frame where the next window starts */
  int no_speech;                    /* window skipped as no speech */
  char *language;                   /* detected or forced language code */
  int n_passes;                     /* searches run (1 + fallbacks) */
  int n_steps;                      /* their decoding steps together (new
                                       tokens per sequence) */
} whisper_window_result;

typedef struct whisper_decoder whisper_decoder;

whisper_decoder *whisper_decoder_new (const whisper_model * model,
    GError ** error);
void whisper_decoder_free (whisper_decoder * dec);

/* enc: [A][C] encoder output of the window starting at absolute frame
 * window_start whose first n_real_frames (1 .. 3000) are real audio.
 * result->next_frame is always > window_start.  When params->abort_callback
 * returns TRUE: FALSE with WHISPER_ERROR_CANCELLED (no result; the decoder
 * stays usable, a flush would whisper_decoder_reset() it).
 * Fills @result (free with whisper_window_result_clear()). */
gboolean whisper_decoder_decode_window (whisper_decoder * dec,
    const whisper_decode_params * params, const float *enc,
    int64_t window_start, int n_real_frames,
    whisper_window_result * result, GError ** error);

void whisper_window_result_clear (whisper_window_result * result);

/* Forget previous text (new stream, flush, a gap in the audio): the next
 * window is decoded as a stream's first. */
void whisper_decoder_reset (whisper_decoder * dec);

/* Whether the model can decode with @params at all: its text context
 * (n_text_ctx) must hold the longest prompt these settings can give a
 * window (start sequence, previous text) and a token to decode.  FALSE +
 * WHISPER_ERROR_UNSUPPORTED_MODEL (the message gives the numbers) when it
 * cannot: every window would fail.  Call it before the first window (and
 * after changing the params); a caller treats a FALSE as a bad model. */
gboolean whisper_decoder_check_params (const whisper_decoder * dec,
    const whisper_decode_params * params, GError ** error);

/* Streaming (params.hold_text): add @text, the part of a window's text
 * the caller kept (its words with their leading spaces), to the previous
 * text that prompts the next window.  FALSE + error for text that is not
 * UTF-8. */
gboolean whisper_decoder_add_prompt_text (whisper_decoder * dec,
    const char *text, GError ** error);

/* ------------------------------------------------------------------------ */
/* Streaming: which words of repeated hypotheses are final
 *
 * Each step decodes the audio from the commit point to now again (with
 * word timestamps); a word becomes final when two consecutive hypotheses
 * agree on it and on every word before it (LocalAgreement-2, Machacek et
 * al., "Turning Whisper into Real-Time Transcription System", 2023), or
 * when it ends before a given frame (the latency bound), or at the end of
 * the stream.  docs/streaming.md. */

typedef struct whisper_agreement whisper_agreement;

whisper_agreement *whisper_agreement_new (void);
void whisper_agreement_free (whisper_agreement * a);
/* Forget everything (a new stream, a flush, a gap). */
void whisper_agreement_reset (whisper_agreement * a);

/* One hypothesis, its words in order (absolute frames).  Words that
 * repeat what is already committed are dropped first: those up to the
 * last committed word (found by its text near the commit point, else the
 * words that end by it) and a repeat of the last committed words.  Then the
 * words are committed that agree (same letters and digits, case folded)
 * with the previous hypothesis up to the first difference, and after them
 * every word that ends at or before @force_frame, and with @final all of
 * them.  Copies of the committed words are appended to @committed (a
 * GArray of whisper_word; the caller frees their text); returns their
 * number.  The words not committed become the previous hypothesis. */
int whisper_agreement_update (whisper_agreement * a, const whisper_word * words,
    int n_words, int64_t force_frame, gboolean final, GArray * committed);

/* The words of the last hypothesis not committed yet (the partial
 * result), valid until the next call. */
const whisper_word *whisper_agreement_tentative (const whisper_agreement * a,
    int *n_words);

/* Where the last committed word ends (absolute frame), -1 before any. */
int64_t whisper_agreement_commit_frame (const whisper_agreement * a);

/* The streaming policy over a decoder (docs/streaming.md): each call
 * decodes one window that starts where the previous call said, with word
 * timestamps and the text committed before the window as prompt, and
 * commits words with a whisper_agreement.  The window start stays put
 * while its audio is short (Whisper is more accurate on whole sentences
 * than on audio cut after each committed word); once it is longer it
 * moves to a segment end where the committed words stop, and those words
 * become the prompt. */
typedef struct whisper_stream whisper_stream;

typedef struct {
  whisper_word *words;              /* committed by this call, in order */
  int n_words;
  const whisper_word *tentative;    /* the rest of the hypothesis (valid
                                       until the next call) */
  int n_tentative;
  int64_t next_start;               /* absolute frame of the next window */
  int n_passes;                     /* decoder passes of this call */
  char *language;                   /* the window's language code */
} whisper_stream_step;

/* @dec is borrowed: one stream per decoder. */
whisper_stream *whisper_stream_new (whisper_decoder * dec);
void whisper_stream_free (whisper_stream * s);
/* A new stream, a flush, a gap: forgets the hypotheses and resets the
 * decoder. */
void whisper_stream_reset (whisper_stream * s);

/* Decode the window of encoder output @enc starting at @window_start
 * (the previous step's next_start) whose first n_real_frames are real:
 * the audio up to now.  Words ending at or before @force_frame are
 * committed even without agreement (the latency bound); with @final (the
 * stream ends after this audio) or a full window (3000 frames) every word
 * is.  @params as for whisper_decoder_decode_window (word_timestamps and
 * hold_text are set here; a provisional window runs at temperature 0
 * only).  FALSE + error as whisper_decoder_decode_window. */
gboolean whisper_stream_decode (whisper_stream * s,
    const whisper_decode_params * params, const float *enc,
    int64_t window_start, int n_real_frames, int64_t force_frame,
    gboolean final, whisper_stream_step * step, GError ** error);
void whisper_stream_step_clear (whisper_stream_step * step);

/* The force frame of a step for a latency bound: the words that end by it
 * would be late if they waited for the next step, which starts after
 * another @step_frames of audio or when this step's work is done if that
 * is later, and takes about as long as @last_cost_frames (the last step's
 * time, in frames), with a quarter more for its variation; never later
 * than 0.5 s before @now, the end of the window's audio (a word there may
 * be cut). */
int64_t whisper_stream_force_frame (int64_t now, int64_t step_frames,
    int64_t latency_frames, int64_t last_cost_frames);

G_END_DECLS
#endif /* WHISPER_H */
