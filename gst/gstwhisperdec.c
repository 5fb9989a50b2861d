/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whisperdec: Whisper encoder output to timed UTF-8 text.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-whisperdec
 * @title: whisperdec
 *
 * Decodes the encoder output of `whisperencnpu` (one buffer per 30 s
 * window) into text: one `text/x-raw, format=utf8` buffer per Whisper
 * segment, with PTS and duration in the timeline of the input audio, so
 * that srtenc, webvttenc, textoverlay and caption converters can use it
 * directly.
 *
 * The model is the one the encoder loaded: its registry key travels in the
 * `model` field of the input caps and the decoder shares the same load.
 *
 * After each window the element tells the encoder, with an upstream custom
 * event, at which frame the next window must start (the last complete
 * timestamp, as openai-whisper's transcribe() does), so words are not cut
 * at window edges.
 *
 * Stretches without text are covered by GAP events, so that
 * `textoverlay wait-text=true` and live muxers do not stall.  A window
 * buffer flagged GAP (the encoder's speech gate found no speech in its
 * audio) is not decoded: it becomes one GAP event.  A decoded window is
 * skipped as silence only by openai-whisper's rule: no-speech probability
 * above #GstWhisperDec:no-speech-threshold AND average log-probability
 * below #GstWhisperDec:logprob-threshold, so confident speech is never
 * dropped.  Segments without any letter or digit (such as "." decoded from
 * noise) are dropped unless #GstWhisperDec:skip-non-words is FALSE.
 *
 * A DISCONT window (the audio restarted after a real timestamp gap, see
 * whispermel's tolerance) is decoded as the first window of a stream: the
 * text before the gap, cut off by it, is not used as its prompt.
 *
 * The window's language goes downstream as a stream tag
 * (`language-code`), merged with upstream's stream tags.
 *
 * For every segment the element also posts an element message and sends a
 * serialized custom downstream event (pushed just before the text buffer),
 * both carrying a structure named `whisper-segment`:
 *
 * * `start`, `end` (#GstClockTime): the times of the text buffer
 * * `text` (string): the segment text, trimmed
 * * `avg-logprob` (double): average log-probability of its tokens
 * * `no-speech-prob` (double): probability of no speech in its window
 * * `temperature` (double): the sampling temperature that produced it
 * * `compression-ratio` (double): zlib compression ratio of the window text
 * * `window-start` (#GstClockTime): start time of the window it came from
 * * with word timestamps (#GstWhisperDec:word-timestamps, or
 *   #GstWhisperDec:output `words`), one entry per word in each of:
 *   `words` (list of strings, trimmed), `word-starts` and `word-ends`
 *   (lists of #GstClockTime), `word-probabilities` (list of doubles)
 *
 * With #GstWhisperDec:output `words` each word is its own text buffer
 * (PTS and duration from its timestamps), as roll-up captions and word
 * highlighting want; the `whisper-segment` message and event still come
 * once per segment, before its first word.
 *
 * Latency: in a non-live pipeline without #GstWhisperDec:latency the
 * element holds no data back and adds nothing to the latency the encoder
 * reports (its 30 s window).  With a live upstream, or with
 * #GstWhisperDec:latency set, it streams (docs/streaming.md): the audio
 * is decoded again every #GstWhisperDec:step, words are pushed once they
 * are final, the rest goes out as `whisper-partial` messages and events
 * (`text`, `start`, `end`, `stable` = FALSE; never a text buffer), and the
 * LATENCY query answers the configured latency (5000 ms for 0) from the
 * start, never more.  In streaming the `whisper-segment` message and
 * event come once per push of final words, with `start`, `end`, `text`,
 * `stable` = TRUE, `window-start` and the word lists.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=talk.flac ! decodebin ! audioconvert ! audioresample ! whispermel ! whisperencnpu model=tiny.en ! whisperdec ! srtenc ! filesink location=talk.srt
 * ]| Writes subtitles for a recording.
 * |[
 * gst-launch-1.0 -m filesrc location=talk.flac ! decodebin ! audioconvert ! audioresample ! whispermel ! whisperencnpu model=tiny.en ! whisperdec beam-size=1 ! fakesink
 * ]| Prints each segment as a `whisper-segment` bus message (greedy search).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gi18n-lib.h>
#include <gst/gst.h>

#include "gstwhisperdec.h"
#include "gstwhisperencnpu.h"
#include "whisper-caps.h"
#include "whisper-element-common.h"
#include "whisper.h"

GST_DEBUG_CATEGORY_STATIC (gst_whisper_dec_debug);
#define GST_CAT_DEFAULT gst_whisper_dec_debug

/* Defaults mirror openai-whisper's transcribe() / DecodingOptions and
 * whisper_decode_params_default(). */
#define DEFAULT_LANGUAGE NULL
#define DEFAULT_SUPPRESS_TOKENS "-1"
#define DEFAULT_INITIAL_PROMPT NULL


enum
{
  PROP_0,
  PROP_BEAM_SIZE,
  PROP_BEST_OF,
  PROP_LANGUAGE,
  PROP_TASK,
  PROP_SUPPRESS_BLANK,
  PROP_SUPPRESS_TOKENS,
  PROP_MAX_INITIAL_TIMESTAMP,
  PROP_WITHOUT_TIMESTAMPS,
  PROP_TEMPERATURE_FALLBACK,
  PROP_CONDITION_ON_PREVIOUS_TEXT,
  PROP_INITIAL_PROMPT,
  PROP_NO_SPEECH_THRESHOLD,
  PROP_LOGPROB_THRESHOLD,
  PROP_COMPRESSION_RATIO_THRESHOLD,
  PROP_SKIP_NON_WORDS,
  PROP_COMPUTE_TYPE,
  PROP_MAX_WINDOW_TIME,
  PROP_WORD_TIMESTAMPS,
  PROP_OUTPUT,
  PROP_LATENCY,
  PROP_STEP,
  PROP_MAX_OBSERVED_DELAY,
};

/* Properties are copied into the decoding parameters at every window, so
 * they may be changed in any state; a change applies from the next window. */
#define PROP_FLAGS \
  (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (WHISPER_ENCODED_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format = (string) utf8"));

#define gst_whisper_dec_parent_class parent_class
G_DEFINE_TYPE (GstWhisperDec, gst_whisper_dec, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (whisperdec, "whisperdec", GST_RANK_NONE,
    GST_TYPE_WHISPER_DEC);

static void gst_whisper_dec_finalize (GObject * object);
static void gst_whisper_dec_point_params (GstWhisperDec * self);
static void gst_whisper_dec_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_whisper_dec_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_whisper_dec_change_state (GstElement *
    element, GstStateChange transition);
static GstFlowReturn gst_whisper_dec_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buf);
static gboolean gst_whisper_dec_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_whisper_dec_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static gboolean gst_whisper_dec_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query);

GType
gst_whisper_dec_task_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_WHISPER_DEC_TASK_TRANSCRIBE,
        "Write the text in the spoken language", "transcribe"},
    {GST_WHISPER_DEC_TASK_TRANSLATE,
        "Translate the speech into English (multilingual models)", "translate"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWhisperDecTask", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_whisper_dec_output_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_WHISPER_DEC_OUTPUT_SEGMENTS, "One text buffer per segment",
        "segments"},
    {GST_WHISPER_DEC_OUTPUT_WORDS, "One text buffer per word (word "
          "timestamps)", "words"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWhisperDecOutput", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------------ */
/* suppress-tokens: "-1" (the model's non-speech list), "" (nothing), or a
 * comma-separated list of token ids that may include -1, as openai-whisper's
 * --suppress_tokens. Returns NULL if @str is not such a list. */

static GArray *
parse_suppress_tokens (const gchar * str)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint));
  gchar **parts;
  guint i;

  if (str == NULL)
    return ids;

  parts = g_strsplit (str, ",", -1);
  for (i = 0; parts[i] != NULL; i++) {
    gchar *s = g_strstrip (parts[i]);
    gchar *end = NULL;
    gint64 v;

    if (*s == '\0') {
      /* "" is the empty list; empty items inside a list are errors */
      if (parts[1] == NULL)
        break;
      goto invalid;
    }
    v = g_ascii_strtoll (s, &end, 10);
    if (end == s || *end != '\0' || v < -1 || v > G_MAXINT)
      goto invalid;
    {
      gint id = (gint) v;
      g_array_append_val (ids, id);
    }
  }
  g_strfreev (parts);
  return ids;

invalid:
  g_strfreev (parts);
  g_array_unref (ids);
  return NULL;
}

static void
gst_whisper_dec_class_init (GstWhisperDecClass * klass)
{
  GObjectClass *gobject_class = (GObjectClass *) klass;
  GstElementClass *element_class = (GstElementClass *) klass;
  /* the properties' defaults are the engine's */
  const whisper_decode_params d = whisper_decode_params_default ();

  GST_DEBUG_CATEGORY_INIT (gst_whisper_dec_debug, "whisperdec", 0,
      "Whisper decoder");

  gobject_class->finalize = gst_whisper_dec_finalize;
  gobject_class->set_property = gst_whisper_dec_set_property;
  gobject_class->get_property = gst_whisper_dec_get_property;

  /**
   * GstWhisperDec:beam-size:
   *
   * Number of beams of the beam search at temperature 0; 1 is greedy
   * decoding.  openai-whisper's command line uses 5.
   */
  g_object_class_install_property (gobject_class, PROP_BEAM_SIZE,
      g_param_spec_int ("beam-size", "Beam size",
          "Beams of the beam search at temperature 0 (1 = greedy)",
          1, 16, d.beam_size, PROP_FLAGS));

  /**
   * GstWhisperDec:best-of:
   *
   * Number of candidates sampled at a temperature above 0 (used by the
   * temperature fallback); the one with the best log-probability wins.
   */
  g_object_class_install_property (gobject_class, PROP_BEST_OF,
      g_param_spec_int ("best-of", "Best of",
          "Candidates sampled when decoding at a temperature above 0",
          1, 16, d.best_of, PROP_FLAGS));

  /**
   * GstWhisperDec:language:
   *
   * Spoken language as a Whisper language code ("en", "de", ...).  NULL or
   * "auto" detects it with multilingual models on the first window (again
   * after a flush or a window dropped as silence) and keeps it, as
   * openai-whisper does; English-only (.en) models always use English.  A
   * code the model does not know is a LIBRARY/SETTINGS error.
   */
  g_object_class_install_property (gobject_class, PROP_LANGUAGE,
      g_param_spec_string ("language", "Language",
          "Spoken language code (e.g. \"en\"); NULL or \"auto\" to detect it "
          "(English-only models always use English)",
          DEFAULT_LANGUAGE, PROP_FLAGS));

  /**
   * GstWhisperDec:task:
   *
   * Transcribe in the spoken language, or translate into English
   * (multilingual models only).
   */
  g_object_class_install_property (gobject_class, PROP_TASK,
      g_param_spec_enum ("task", "Task",
          "Transcribe, or translate into English (multilingual models)",
          GST_TYPE_WHISPER_DEC_TASK, d.task, PROP_FLAGS));

  g_object_class_install_property (gobject_class, PROP_SUPPRESS_BLANK,
      g_param_spec_boolean ("suppress-blank", "Suppress blank",
          "Forbid a blank or end-of-text as the first sampled token",
          d.suppress_blank, PROP_FLAGS));

  /**
   * GstWhisperDec:suppress-tokens:
   *
   * Comma-separated token ids never to sample.  -1 stands for the model's
   * list of non-speech tokens (symbols, music notes, speaker tags), as in
   * openai-whisper; "" suppresses nothing.  Invalid lists are ignored with
   * a warning.
   */
  g_object_class_install_property (gobject_class, PROP_SUPPRESS_TOKENS,
      g_param_spec_string ("suppress-tokens", "Suppress tokens",
          "Comma-separated token ids never to sample; -1 = the model's "
          "non-speech tokens, \"\" = none", DEFAULT_SUPPRESS_TOKENS,
          PROP_FLAGS));

  /**
   * GstWhisperDec:max-initial-timestamp:
   *
   * Latest time, in seconds from the window start, that the first
   * timestamp of a window may have.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_INITIAL_TIMESTAMP,
      g_param_spec_double ("max-initial-timestamp", "Max initial timestamp",
          "Latest first timestamp of a window, in seconds", 0.0, 30.0,
          d.max_initial_timestamp, PROP_FLAGS));

  /**
   * GstWhisperDec:without-timestamps:
   *
   * Decode without timestamp tokens: each window then gives one segment
   * spanning its real audio, and the next window starts at its end.
   */
  g_object_class_install_property (gobject_class, PROP_WITHOUT_TIMESTAMPS,
      g_param_spec_boolean ("without-timestamps", "Without timestamps",
          "Decode without timestamp tokens (one segment per window)",
          d.without_timestamps, PROP_FLAGS));

  /**
   * GstWhisperDec:temperature-fallback:
   *
   * Re-decode a window at temperatures 0.2, 0.4 ... 1.0 when the result
   * looks wrong (compression ratio or average log-probability beyond
   * their thresholds).  FALSE decodes at temperature 0 only.
   */
  g_object_class_install_property (gobject_class, PROP_TEMPERATURE_FALLBACK,
      g_param_spec_boolean ("temperature-fallback", "Temperature fallback",
          "Re-decode at rising temperatures (0.2 ... 1.0) when a window's "
          "result fails the thresholds", d.n_temperatures > 1,
          PROP_FLAGS));

  g_object_class_install_property (gobject_class,
      PROP_CONDITION_ON_PREVIOUS_TEXT,
      g_param_spec_boolean ("condition-on-previous-text",
          "Condition on previous text",
          "Give the previous window's text to the decoder as a prompt",
          d.condition_on_previous_text, PROP_FLAGS));

  g_object_class_install_property (gobject_class, PROP_INITIAL_PROMPT,
      g_param_spec_string ("initial-prompt", "Initial prompt",
          "Text given to the decoder as the prompt of the first window "
          "(vocabulary, spelling, style)", DEFAULT_INITIAL_PROMPT, PROP_FLAGS));

  /**
   * GstWhisperDec:no-speech-threshold:
   *
   * A window is skipped as silence when the probability of the no-speech
   * token exceeds this and the average log-probability is below
   * #GstWhisperDec:logprob-threshold.
   */
  g_object_class_install_property (gobject_class, PROP_NO_SPEECH_THRESHOLD,
      g_param_spec_double ("no-speech-threshold", "No-speech threshold",
          "No-speech probability above which a window with a low "
          "log-probability is skipped as silence (0 = never)", 0.0, 1.0,
          d.no_speech_threshold, PROP_FLAGS));

  g_object_class_install_property (gobject_class, PROP_LOGPROB_THRESHOLD,
      g_param_spec_double ("logprob-threshold", "Log-probability threshold",
          "Average log-probability below which a window is re-decoded at a "
          "higher temperature", -100.0, 0.0, d.logprob_threshold,
          PROP_FLAGS));

  g_object_class_install_property (gobject_class,
      PROP_COMPRESSION_RATIO_THRESHOLD,
      g_param_spec_double ("compression-ratio-threshold",
          "Compression ratio threshold",
          "zlib compression ratio of the text above which a window is "
          "re-decoded at a higher temperature (repetition; 0 = never)", 0.0,
          100.0,
          d.compression_ratio_threshold, PROP_FLAGS));

  /**
   * GstWhisperDec:skip-non-words:
   *
   * Drop segments whose text has no letter and no digit, such as "." or
   * "..." decoded from noise: they carry nothing for a subtitle reader and
   * the words are what WER scoring counts.  The time they span is covered
   * by GAP events like any other stretch without text.
   */
  g_object_class_install_property (gobject_class, PROP_SKIP_NON_WORDS,
      g_param_spec_boolean ("skip-non-words", "Skip non-words",
          "Drop segments whose text has no letter or digit (e.g. \".\" "
          "decoded from noise)", d.skip_non_words, PROP_FLAGS));

  /**
   * GstWhisperDec:compute-type:
   *
   * The arithmetic of the decoder's matrix products (see
   * #GstWhisperEncNpu:compute-type).  `auto` decodes with the type the
   * encoder was asked for (the "compute-type" field of its caps; its
   * `auto` is resolved by the decoder for its own products; `bfloat16`
   * decodes in float32: docs/quantization.md); `float32` or `int8`
   * override it.
   */
  g_object_class_install_property (gobject_class, PROP_COMPUTE_TYPE,
      g_param_spec_enum ("compute-type", "Compute type",
          "Arithmetic of the decoder's matrix products (auto: the one "
          "asked of the encoder)", GST_TYPE_WHISPER_COMPUTE_TYPE, d.compute_type,
          PROP_FLAGS));

  /**
   * GstWhisperDec:max-window-time:
   *
   * Wall time (seconds) one window may take before the temperature
   * fallback stops: no further fallback pass starts, a running one ends
   * where it is, and the best attempt so far is kept.  The first pass
   * (temperature 0) always runs to its end, so the cap never costs the
   * text of a window that pass got right; it bounds what noise or music
   * can cost on top (docs/decoder.md, "Bounded work").  0 = no cap.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_WINDOW_TIME,
      g_param_spec_double ("max-window-time", "Maximum window time",
          "Seconds of decoding per window after which no further "
          "temperature fallback runs (the first pass always completes; "
          "0 = no cap)", 0.0, 3600.0, d.max_window_time, PROP_FLAGS));

  /**
   * GstWhisperDec:word-timestamps:
   *
   * Time every word from the cross-attention of the model's alignment
   * heads (openai-whisper's `word_timestamps=True`): the words go into
   * the `whisper-segment` message and event, segment times follow their
   * first and last word, and the next window starts after the last word.
   * Off by default, as in openai-whisper and faster-whisper: it costs one
   * more decoder pass per window (docs/decoder.md, "Word timestamps").
   * #GstWhisperDec:output `words` turns it on.
   */
  g_object_class_install_property (gobject_class, PROP_WORD_TIMESTAMPS,
      g_param_spec_boolean ("word-timestamps", "Word timestamps",
          "Time each word (cross-attention alignment, as openai-whisper's "
          "word_timestamps)", FALSE, PROP_FLAGS));

  /**
   * GstWhisperDec:output:
   *
   * What a text buffer holds: a whole segment, or one word (timed by the
   * word timestamps, which this turns on).
   */
  g_object_class_install_property (gobject_class, PROP_OUTPUT,
      g_param_spec_enum ("output", "Output",
          "What one text buffer holds: a segment or a word",
          GST_TYPE_WHISPER_DEC_OUTPUT, GST_WHISPER_DEC_OUTPUT_SEGMENTS,
          PROP_FLAGS));

  /**
   * GstWhisperDec:latency:
   *
   * Streaming (docs/streaming.md): the bound, in ms, from the end of a
   * spoken word to its final text.  The audio is decoded again every
   * #GstWhisperDec:step; a word is final when two consecutive decodes
   * agree on it, or when waiting longer would break this bound.  The
   * LATENCY query answers this value from the start.  0: stream only
   * with a live upstream, with 5000 ms; otherwise 30 s windows.
   */
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Streaming: ms from a spoken word to its final text (0 = stream "
          "only when live, with 5000 ms)", 0, 30000, 0, PROP_FLAGS));

  /**
   * GstWhisperDec:step:
   *
   * Streaming: how much new audio (ms) triggers the next decode.
   */
  g_object_class_install_property (gobject_class, PROP_STEP,
      g_param_spec_uint ("step", "Step",
          "Streaming: ms of new audio between two decodes", 100, 30000,
          WHISPER_DEFAULT_STEP_MS, PROP_FLAGS));

  /**
   * GstWhisperDec:max-observed-delay:
   *
   * Streaming with a live upstream: the largest delay seen (ms) from the
   * end of a word (running time) to the moment its text went out.  Above
   * #GstWhisperDec:latency the element posts a warning.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_OBSERVED_DELAY,
      g_param_spec_uint ("max-observed-delay", "Maximum observed delay",
          "Streaming, live: the largest delay from a word's end to its text "
          "(ms)", 0, G_MAXUINT, 0, G_PARAM_READABLE |
          G_PARAM_STATIC_STRINGS));

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_whisper_dec_change_state);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Whisper decoder", "Codec/Decoder/Audio/Text",
      "Decodes Whisper encoder output into timed text segments",
      WHISPER_ELEMENT_AUTHOR);

  gst_type_mark_as_plugin_api (GST_TYPE_WHISPER_DEC_TASK, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WHISPER_DEC_OUTPUT, 0);
}

/* ------------------------------------------------------------------------ */
/* Streaming state */

static void
gst_whisper_dec_reset (GstWhisperDec * self)
{
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  self->last_end = GST_CLOCK_TIME_NONE;
  self->input_end = GST_CLOCK_TIME_NONE;
  self->discont = TRUE;
  self->last_step_cost = 0;
  self->partial_shown = FALSE;
  self->degraded = FALSE;
  if (self->stream)
    whisper_stream_reset (self->stream);
  else if (self->decoder)
    whisper_decoder_reset (self->decoder);
}

static void
gst_whisper_dec_release_model (GstWhisperDec * self)
{
  g_clear_pointer (&self->stream, whisper_stream_free);
  g_clear_pointer (&self->decoder, whisper_decoder_free);
  if (self->model) {
    whisper_model_registry_release (self->model);
    self->model = NULL;
  }
  g_clear_pointer (&self->model_key, g_free);
}

static void
gst_whisper_dec_init (GstWhisperDec * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_dec_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_dec_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_dec_sink_query));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_whisper_dec_src_query));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->params = whisper_decode_params_default ();
  self->language = g_strdup (DEFAULT_LANGUAGE);
  self->initial_prompt = g_strdup (DEFAULT_INITIAL_PROMPT);
  self->suppress_tokens = g_strdup (DEFAULT_SUPPRESS_TOKENS);
  self->suppress_ids = parse_suppress_tokens (DEFAULT_SUPPRESS_TOKENS);
  gst_whisper_dec_point_params (self);

  self->step_ms = WHISPER_DEFAULT_STEP_MS;
  gst_whisper_dec_reset (self);
}

static void
gst_whisper_dec_finalize (GObject * object)
{
  GstWhisperDec *self = GST_WHISPER_DEC (object);

  gst_whisper_dec_release_model (self);
  g_free (self->language);
  g_free (self->suppress_tokens);
  g_array_unref (self->suppress_ids);
  g_free (self->initial_prompt);
  g_free (self->last_language);
  gst_clear_tag_list (&self->upstream_tags);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_whisper_dec_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWhisperDec *self = GST_WHISPER_DEC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_BEAM_SIZE:
      self->params.beam_size = g_value_get_int (value);
      break;
    case PROP_BEST_OF:
      self->params.best_of = g_value_get_int (value);
      break;
    case PROP_LANGUAGE:
      g_free (self->language);
      self->language = g_value_dup_string (value);
      break;
    case PROP_TASK:
      self->params.task = g_value_get_enum (value);
      break;
    case PROP_SUPPRESS_BLANK:
      self->params.suppress_blank = g_value_get_boolean (value);
      break;
    case PROP_SUPPRESS_TOKENS:{
      const gchar *str = g_value_get_string (value);
      GArray *ids = parse_suppress_tokens (str);

      if (ids == NULL) {
        GST_WARNING_OBJECT (self, "ignoring invalid suppress-tokens \"%s\": "
            "expected comma-separated token ids (-1 = model's list)", str);
        break;
      }
      g_array_unref (self->suppress_ids);
      self->suppress_ids = ids;
      g_free (self->suppress_tokens);
      self->suppress_tokens = g_strdup (str ? str : "");
      break;
    }
    case PROP_MAX_INITIAL_TIMESTAMP:
      self->params.max_initial_timestamp = g_value_get_double (value);
      break;
    case PROP_WITHOUT_TIMESTAMPS:
      self->params.without_timestamps = g_value_get_boolean (value);
      break;
    case PROP_TEMPERATURE_FALLBACK:{
      const whisper_decode_params d = whisper_decode_params_default ();
      /* TRUE: openai's ladder 0, 0.2 .. 1.0; FALSE: temperature 0 only */
      self->params.n_temperatures =
          g_value_get_boolean (value) ? d.n_temperatures : 1;
      break;
    }
    case PROP_CONDITION_ON_PREVIOUS_TEXT:
      self->params.condition_on_previous_text = g_value_get_boolean (value);
      break;
    case PROP_INITIAL_PROMPT:
      g_free (self->initial_prompt);
      self->initial_prompt = g_value_dup_string (value);
      break;
    case PROP_NO_SPEECH_THRESHOLD:
      self->params.no_speech_threshold = g_value_get_double (value);
      break;
    case PROP_LOGPROB_THRESHOLD:
      self->params.logprob_threshold = g_value_get_double (value);
      break;
    case PROP_COMPRESSION_RATIO_THRESHOLD:
      self->params.compression_ratio_threshold = g_value_get_double (value);
      break;
    case PROP_SKIP_NON_WORDS:
      self->params.skip_non_words = g_value_get_boolean (value);
      break;
    case PROP_COMPUTE_TYPE:
      self->params.compute_type = g_value_get_enum (value);
      break;
    case PROP_MAX_WINDOW_TIME:
      self->params.max_window_time = g_value_get_double (value);
      break;
    case PROP_WORD_TIMESTAMPS:
      self->word_timestamps = g_value_get_boolean (value);
      break;
    case PROP_OUTPUT:
      self->output = g_value_get_enum (value);
      break;
    case PROP_LATENCY:
      self->latency_ms = g_value_get_uint (value);
      break;
    case PROP_STEP:
      self->step_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  gst_whisper_dec_point_params (self);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_whisper_dec_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWhisperDec *self = GST_WHISPER_DEC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_BEAM_SIZE:
      g_value_set_int (value, self->params.beam_size);
      break;
    case PROP_BEST_OF:
      g_value_set_int (value, self->params.best_of);
      break;
    case PROP_LANGUAGE:
      g_value_set_string (value, self->language);
      break;
    case PROP_TASK:
      g_value_set_enum (value, self->params.task);
      break;
    case PROP_SUPPRESS_BLANK:
      g_value_set_boolean (value, self->params.suppress_blank);
      break;
    case PROP_SUPPRESS_TOKENS:
      g_value_set_string (value, self->suppress_tokens);
      break;
    case PROP_MAX_INITIAL_TIMESTAMP:
      g_value_set_double (value, self->params.max_initial_timestamp);
      break;
    case PROP_WITHOUT_TIMESTAMPS:
      g_value_set_boolean (value, self->params.without_timestamps);
      break;
    case PROP_TEMPERATURE_FALLBACK:
      g_value_set_boolean (value, self->params.n_temperatures > 1);
      break;
    case PROP_CONDITION_ON_PREVIOUS_TEXT:
      g_value_set_boolean (value, self->params.condition_on_previous_text);
      break;
    case PROP_INITIAL_PROMPT:
      g_value_set_string (value, self->initial_prompt);
      break;
    case PROP_NO_SPEECH_THRESHOLD:
      g_value_set_double (value, self->params.no_speech_threshold);
      break;
    case PROP_LOGPROB_THRESHOLD:
      g_value_set_double (value, self->params.logprob_threshold);
      break;
    case PROP_COMPRESSION_RATIO_THRESHOLD:
      g_value_set_double (value, self->params.compression_ratio_threshold);
      break;
    case PROP_SKIP_NON_WORDS:
      g_value_set_boolean (value, self->params.skip_non_words);
      break;
    case PROP_COMPUTE_TYPE:
      g_value_set_enum (value, self->params.compute_type);
      break;
    case PROP_MAX_WINDOW_TIME:
      g_value_set_double (value, self->params.max_window_time);
      break;
    case PROP_WORD_TIMESTAMPS:
      g_value_set_boolean (value, self->word_timestamps);
      break;
    case PROP_OUTPUT:
      g_value_set_enum (value, self->output);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency_ms);
      break;
    case PROP_STEP:
      g_value_set_uint (value, self->step_ms);
      break;
    case PROP_MAX_OBSERVED_DELAY:
      g_value_set_uint (value, self->max_delay_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------------ */
/* Decoding parameters: a snapshot of the properties for one window.  The
 * strings and the token list are copies owned by the snapshot. */

typedef struct
{
  whisper_decode_params p;
  gchar *language;
  gchar *initial_prompt;
  GArray *suppress;
} DecodeParams;

/* Points the borrowed members of self->params at the property copies.
 * Object lock held. */
static void
gst_whisper_dec_point_params (GstWhisperDec * self)
{
  whisper_decode_params *p = &self->params;
  static const gint none = 0;

  p->language = self->language;
  p->initial_prompt = self->initial_prompt;
  p->word_timestamps = self->word_timestamps
      || self->output == GST_WHISPER_DEC_OUTPUT_WORDS;
  /* "-1" (the default list) is the engine's; "" is non-NULL and empty:
   * suppress nothing */
  p->suppress_tokens = self->suppress_ids->len ?
      (const int *) self->suppress_ids->data : &none;
  p->n_suppress_tokens = self->suppress_ids->len;
}

/* The engine's abort callback: a flush or a stop is under way. */
static gboolean
gst_whisper_dec_cancelled (void *user_data)
{
  GstWhisperDec *self = user_data;

  return g_atomic_int_get (&self->cancel) != 0;
}

/* Make a running decode return promptly (FLUSH_START, PAUSED->READY), or
 * let decoding run again (FLUSH_STOP, READY->PAUSED). */
static void
gst_whisper_dec_set_cancel (GstWhisperDec * self, gboolean cancel)
{
  g_atomic_int_set (&self->cancel, cancel ? 1 : 0);
}

static void
decode_params_snapshot (GstWhisperDec * self, DecodeParams * dp)
{
  GST_OBJECT_LOCK (self);
  dp->p = self->params;
  dp->language = g_strdup (self->language);
  dp->initial_prompt = g_strdup (self->initial_prompt);
  dp->suppress = g_array_copy (self->suppress_ids);
  GST_OBJECT_UNLOCK (self);

  dp->p.language = dp->language;
  dp->p.initial_prompt = dp->initial_prompt;
  dp->p.abort_callback = gst_whisper_dec_cancelled;
  dp->p.abort_callback_user_data = self;
  if (dp->p.compute_type == WHISPER_COMPUTE_AUTO)
    dp->p.compute_type = self->caps_compute_type;
  if (dp->suppress->len)
    dp->p.suppress_tokens = (const int *) dp->suppress->data;
}

static void
decode_params_clear (DecodeParams * dp)
{
  g_free (dp->language);
  g_free (dp->initial_prompt);
  g_array_unref (dp->suppress);
}

/* ------------------------------------------------------------------------ */
/* Output */

static GstFlowReturn
gst_whisper_dec_push_gap (GstWhisperDec * self, GstClockTime end)
{
  GstClockTime start = self->last_end;

  if (!GST_CLOCK_TIME_IS_VALID (start) || end <= start)
    return GST_FLOW_OK;

  GST_LOG_OBJECT (self, "GAP %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT,
      GST_TIME_ARGS (start), GST_TIME_ARGS (end));
  self->last_end = end;
  if (!gst_pad_push_event (self->srcpad, gst_event_new_gap (start,
              end - start)))
    GST_DEBUG_OBJECT (self, "GAP event not handled downstream");
  return GST_FLOW_OK;
}

static void
gst_whisper_dec_push_language (GstWhisperDec * self, const gchar * language)
{
  GstTagList *tags;

  if (language == NULL || *language == '\0'
      || g_strcmp0 (language, self->last_language) == 0)
    return;

  g_free (self->last_language);
  self->last_language = g_strdup (language);
  /* a stream TAG event replaces the previous one: keep upstream's tags */
  if (self->upstream_tags)
    tags = gst_tag_list_copy (self->upstream_tags);
  else
    tags = gst_tag_list_new_empty ();
  gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_LANGUAGE_CODE,
      language, NULL);
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  gst_pad_push_event (self->srcpad, gst_event_new_tag (tags));
}

/* The timeline span of frames [t0, t1] of the window at @pts (frames
 * offset .. offset_end), clamped to the window's real audio and to never
 * start before what was pushed last. */
static void
gst_whisper_dec_span (GstWhisperDec * self, gint64 t0, gint64 t1,
    GstClockTime pts, guint64 offset, guint64 offset_end,
    GstClockTime * start, GstClockTime * end)
{
  t0 = CLAMP (t0, (gint64) offset, (gint64) offset_end);
  t1 = CLAMP (t1, t0, (gint64) offset_end);
  *start = pts + (t0 - offset) * WHISPER_FRAME_DURATION;
  *end = pts + (t1 - offset) * WHISPER_FRAME_DURATION;
  if (GST_CLOCK_TIME_IS_VALID (self->last_end) && *start < self->last_end) {
    GST_DEBUG_OBJECT (self, "text starts %" GST_TIME_FORMAT
        " before the previous end %" GST_TIME_FORMAT ": clamped",
        GST_TIME_ARGS (*start), GST_TIME_ARGS (self->last_end));
    *start = self->last_end;
  }
  if (*end < *start)
    *end = *start;
}

static GstFlowReturn
gst_whisper_dec_push_text (GstWhisperDec * self, const gchar * text,
    GstClockTime start, GstClockTime end)
{
  GstBuffer *buf;
  GstFlowReturn ret = gst_whisper_dec_push_gap (self, start);

  if (ret != GST_FLOW_OK)
    return ret;
  buf = gst_buffer_new_memdup (text, strlen (text));
  GST_BUFFER_PTS (buf) = start;
  GST_BUFFER_DURATION (buf) = end - start;
  if (self->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
  self->last_end = end;
  return gst_pad_push (self->srcpad, buf);
}

/* The words of @seg with text, trimmed and valid UTF-8, and their spans */
typedef struct
{
  gchar *text;
  GstClockTime start, end;
  gdouble probability;
} TimedWord;

static GArray *
gst_whisper_dec_words (GstWhisperDec * self, const whisper_segment * seg,
    GstClockTime pts, guint64 offset, guint64 offset_end)
{
  GArray *words = g_array_new (FALSE, FALSE, sizeof (TimedWord));
  GstClockTime last = self->last_end;
  gint i;

  for (i = 0; i < seg->n_words; i++) {
    TimedWord w;
    w.text = g_strstrip (g_utf8_make_valid (seg->words[i].text, -1));
    if (*w.text == '\0') {
      g_free (w.text);
      continue;
    }
    gst_whisper_dec_span (self, seg->words[i].t0_frame,
        seg->words[i].t1_frame, pts, offset, offset_end, &w.start, &w.end);
    /* words do not overlap either */
    self->last_end = w.end;
    w.probability = seg->words[i].probability;
    g_array_append_val (words, w);
  }
  self->last_end = last;
  return words;
}

static void
timed_words_free (GArray * words)
{
  guint i;
  for (i = 0; i < words->len; i++)
    g_free (g_array_index (words, TimedWord, i).text);
  g_array_free (words, TRUE);
}

static void
add_word_lists (GstStructure * s, GArray * words)
{
  GValue texts = G_VALUE_INIT, starts = G_VALUE_INIT, ends = G_VALUE_INIT;
  GValue probs = G_VALUE_INIT, v = G_VALUE_INIT;
  guint i;

  g_value_init (&texts, GST_TYPE_LIST);
  g_value_init (&starts, GST_TYPE_LIST);
  g_value_init (&ends, GST_TYPE_LIST);
  g_value_init (&probs, GST_TYPE_LIST);
  for (i = 0; i < words->len; i++) {
    const TimedWord *w = &g_array_index (words, TimedWord, i);
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_string (&v, w->text);
    gst_value_list_append_and_take_value (&texts, &v);
    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, w->start);
    gst_value_list_append_and_take_value (&starts, &v);
    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, w->end);
    gst_value_list_append_and_take_value (&ends, &v);
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, w->probability);
    gst_value_list_append_and_take_value (&probs, &v);
  }
  gst_structure_take_value (s, "words", &texts);
  gst_structure_take_value (s, "word-starts", &starts);
  gst_structure_take_value (s, "word-ends", &ends);
  gst_structure_take_value (s, "word-probabilities", &probs);
}

/* Post @s (taken) as an element message and send it downstream as a
 * serialized custom event. */
static void
gst_whisper_dec_announce (GstWhisperDec * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), gst_structure_copy (s)));
  if (!gst_pad_push_event (self->srcpad,
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s)))
    GST_LOG_OBJECT (self, "%s event not handled downstream",
        gst_structure_get_name (s));
}

/* The whisper-segment message and event, then the segment's text buffer,
 * or one buffer per word with output=words */
static GstFlowReturn
gst_whisper_dec_push_segment (GstWhisperDec * self,
    const whisper_segment * seg, const gchar * text, GstClockTime start,
    GstClockTime end, GstClockTime window_start, GArray * words,
    gboolean per_word)
{
  GstStructure *s;
  GstFlowReturn ret;
  guint i;

  /* the GAP up to the text comes before the segment's event */
  per_word = per_word && words && words->len > 0;
  ret = gst_whisper_dec_push_gap (self, per_word ?
      g_array_index (words, TimedWord, 0).start : start);
  if (ret != GST_FLOW_OK)
    return ret;

  s = gst_structure_new (WHISPER_SEGMENT_EVENT,
      "start", G_TYPE_UINT64, start,
      "end", G_TYPE_UINT64, end,
      "text", G_TYPE_STRING, text,
      "avg-logprob", G_TYPE_DOUBLE, (gdouble) seg->avg_logprob,
      "no-speech-prob", G_TYPE_DOUBLE, (gdouble) seg->no_speech_prob,
      "temperature", G_TYPE_DOUBLE, (gdouble) seg->temperature,
      "compression-ratio", G_TYPE_DOUBLE, (gdouble) seg->compression_ratio,
      "window-start", G_TYPE_UINT64, window_start, NULL);
  if (words)
    add_word_lists (s, words);

  GST_DEBUG_OBJECT (self, "segment %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT
      ": \"%s\"", GST_TIME_ARGS (start), GST_TIME_ARGS (end), text);

  gst_whisper_dec_announce (self, s);

  /* a segment without timed words (too little audio to align) keeps its
   * text as one buffer */
  if (!per_word)
    return gst_whisper_dec_push_text (self, text, start, end);
  for (i = 0; i < words->len && ret == GST_FLOW_OK; i++) {
    const TimedWord *w = &g_array_index (words, TimedWord, i);
    ret = gst_whisper_dec_push_text (self, w->text, w->start, w->end);
  }
  return ret;
}

/* Push the window's segments, in order, and GAPs over what they leave
 * uncovered up to @commit_end (the time where the next window starts). */
static GstFlowReturn
gst_whisper_dec_push_window (GstWhisperDec * self,
    const whisper_window_result * res, GstClockTime pts, guint64 offset,
    guint64 offset_end, GstClockTime commit_end)
{
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean per_word;
  gint i;

  GST_OBJECT_LOCK (self);
  per_word = self->output == GST_WHISPER_DEC_OUTPUT_WORDS;
  GST_OBJECT_UNLOCK (self);

  gst_whisper_dec_push_language (self, res->language);

  for (i = 0; i < res->n_segments && ret == GST_FLOW_OK; i++) {
    const whisper_segment *seg = &res->segments[i];
    GstClockTime start, end;
    GArray *words = NULL;
    gchar *text;

    /* the caps promise UTF-8: replace any invalid byte sequence */
    text = g_strstrip (g_utf8_make_valid (seg->text ? seg->text : "", -1));
    if (*text == '\0') {
      GST_DEBUG_OBJECT (self, "no text in the segment");
      g_free (text);
      continue;
    }

    /* frames -> input timeline, inside the window's real audio; never
     * overlapping, never going back in time */
    gst_whisper_dec_span (self, seg->t0_frame, seg->t1_frame, pts, offset,
        offset_end, &start, &end);
    if (seg->words)
      words = gst_whisper_dec_words (self, seg, pts, offset, offset_end);
    ret = gst_whisper_dec_push_segment (self, seg, text, start, end, pts,
        words, per_word);
    if (words)
      timed_words_free (words);
    g_free (text);
  }

  if (ret == GST_FLOW_OK)
    ret = gst_whisper_dec_push_gap (self, commit_end);

  return ret;
}

/* ------------------------------------------------------------------------ */
/* Input */

/* Tell the encoder where the next window starts (stream frame @frame)
 * and, streaming, up to which frame it must wait for audio (@until;
 * G_MAXUINT64: a full window). */
static void
gst_whisper_dec_send_seek_until (GstWhisperDec * self, guint64 frame,
    guint64 until)
{
  GstStructure *s = gst_structure_new (WHISPER_SEEK_EVENT,
      "frame", G_TYPE_UINT64, frame, NULL);

  if (until != G_MAXUINT64)
    gst_structure_set (s, "until", G_TYPE_UINT64, until, NULL);
  gst_pad_push_event (self->sinkpad,
      gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, s));
}

static void
gst_whisper_dec_send_seek (GstWhisperDec * self, guint64 frame)
{
  gst_whisper_dec_send_seek_until (self, frame, G_MAXUINT64);
}

/* ------------------------------------------------------------------------ */
/* Streaming (docs/streaming.md) */

/* The largest delay from a committed word's end to now, for
 * max-observed-delay (live upstreams with a clock only); a warning when it
 * first passes the bound. */
static void
gst_whisper_dec_observe_delay (GstWhisperDec * self, GstClockTime word_end,
    guint latency_ms)
{
  GstClockTime now = gst_element_get_current_running_time (GST_ELEMENT (self));
  GstClockTime end_rt = gst_segment_to_running_time (&self->segment,
      GST_FORMAT_TIME, word_end);
  guint delay_ms;
  gboolean first_late = FALSE;

  if (!GST_CLOCK_TIME_IS_VALID (now) || !GST_CLOCK_TIME_IS_VALID (end_rt)
      || now <= end_rt)
    return;
  delay_ms = (guint) ((now - end_rt) / GST_MSECOND);
  GST_OBJECT_LOCK (self);
  if (self->upstream_live && delay_ms > self->max_delay_ms) {
    first_late = delay_ms > latency_ms && self->max_delay_ms <= latency_ms;
    self->max_delay_ms = delay_ms;
  }
  GST_OBJECT_UNLOCK (self);
  if (first_late)
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        (_("Transcription is falling behind the configured latency.")),
        ("a word's text went out %u ms after its end, latency is %u ms; a "
            "smaller model, more threads or a larger latency would keep up",
            delay_ms, latency_ms));
}

/* Live: how far the running time is past @t (a buffer time), else 0. */
static GstClockTime
gst_whisper_dec_live_lag (GstWhisperDec * self, GstClockTime t)
{
  GstClockTime now = gst_element_get_current_running_time (GST_ELEMENT (self));
  GstClockTime t_rt = gst_segment_to_running_time (&self->segment,
      GST_FORMAT_TIME, t);
  gboolean live;

  GST_OBJECT_LOCK (self);
  live = self->upstream_live;
  GST_OBJECT_UNLOCK (self);
  if (!live || !GST_CLOCK_TIME_IS_VALID (now)
      || !GST_CLOCK_TIME_IS_VALID (t_rt) || now <= t_rt)
    return 0;
  return now - t_rt;
}

/* The words a step committed: one buffer per word (output=words) or one
 * for all of them, announced by a whisper-segment message and event. */
static GstFlowReturn
gst_whisper_dec_push_committed (GstWhisperDec * self,
    const whisper_stream_step * st, GstClockTime pts, guint64 offset,
    guint64 offset_end, gboolean per_word, guint latency_ms)
{
  whisper_segment seg = {.words = st->words,.n_words = st->n_words };
  GArray *words;
  GString *text;
  GstStructure *s;
  GstFlowReturn ret = GST_FLOW_OK;
  GstClockTime start, end;
  guint i;

  words = gst_whisper_dec_words (self, &seg, pts, offset, offset_end);
  if (words->len == 0) {
    timed_words_free (words);
    return GST_FLOW_OK;
  }
  text = g_string_new (NULL);
  for (i = 0; i < words->len; i++)
    g_string_append_printf (text, "%s%s", i ? " " : "",
        g_array_index (words, TimedWord, i).text);
  start = g_array_index (words, TimedWord, 0).start;
  end = g_array_index (words, TimedWord, words->len - 1).end;

  ret = gst_whisper_dec_push_gap (self, start);
  if (ret == GST_FLOW_OK) {
    s = gst_structure_new (WHISPER_SEGMENT_EVENT,
        "start", G_TYPE_UINT64, start, "end", G_TYPE_UINT64, end,
        "text", G_TYPE_STRING, text->str, "stable", G_TYPE_BOOLEAN, TRUE,
        "window-start", G_TYPE_UINT64, pts, NULL);
    add_word_lists (s, words);
    gst_whisper_dec_announce (self, s);
  }
  for (i = 0; ret == GST_FLOW_OK && i < (per_word ? words->len : 1); i++) {
    const TimedWord *w = &g_array_index (words, TimedWord, i);
    ret = per_word ? gst_whisper_dec_push_text (self, w->text, w->start,
        w->end) : gst_whisper_dec_push_text (self, text->str, start, end);
  }
  gst_whisper_dec_observe_delay (self, end, latency_ms);
  g_string_free (text, TRUE);
  timed_words_free (words);
  return ret;
}

/* The tentative words as a whisper-partial message and event (stable
 * FALSE): never a text buffer, which a later step could contradict; an
 * empty one once after a non-empty one clears it. */
static void
gst_whisper_dec_post_partial (GstWhisperDec * self,
    const whisper_stream_step * st, GstClockTime pts, guint64 offset,
    guint64 offset_end)
{
  GString *text = g_string_new (NULL);
  GstClockTime start = GST_CLOCK_TIME_NONE, end = GST_CLOCK_TIME_NONE;
  GstStructure *s;
  int i;

  for (i = 0; i < st->n_tentative; i++) {
    gchar *w = g_strstrip (g_utf8_make_valid (st->tentative[i].text, -1));
    if (*w)
      g_string_append_printf (text, "%s%s", text->len ? " " : "", w);
    g_free (w);
  }
  if (text->len == 0 && !self->partial_shown) {
    g_string_free (text, TRUE);
    return;
  }
  if (st->n_tentative > 0) {
    gint64 t0 = CLAMP (st->tentative[0].t0_frame, (gint64) offset,
        (gint64) offset_end);
    gint64 t1 = CLAMP (st->tentative[st->n_tentative - 1].t1_frame, t0,
        (gint64) offset_end);
    start = pts + (t0 - offset) * WHISPER_FRAME_DURATION;
    end = pts + (t1 - offset) * WHISPER_FRAME_DURATION;
  }
  self->partial_shown = text->len > 0;
  s = gst_structure_new (WHISPER_PARTIAL_EVENT, "text", G_TYPE_STRING,
      text->str, "stable", G_TYPE_BOOLEAN, FALSE, "start", G_TYPE_UINT64,
      start, "end", G_TYPE_UINT64, end, NULL);
  g_string_free (text, TRUE);
  gst_whisper_dec_announce (self, s);
}

/* One window of the streaming policy: decode, tell the encoder where the
 * next window starts and how much audio it waits for, push what became
 * final, post the rest as partial, cover what is settled with a GAP. */
static gboolean
gst_whisper_dec_stream_window (GstWhisperDec * self, GstBuffer * buf,
    const gfloat * enc, GstClockTime pts, guint64 offset, guint64 offset_end,
    GstFlowReturn * flow, GError ** err)
{
  const gboolean final = GST_BUFFER_FLAG_IS_SET (buf,
      WHISPER_BUFFER_FLAG_FINAL);
  const gint n_real = (gint) (offset_end - offset);
  DecodeParams dp;
  whisper_stream_step st;
  guint latency_ms, step_ms;
  gboolean per_word, degrade = FALSE, ok;
  gint64 step_f, force, settled;
  guint64 next;
  GstClockTime t_begin;

  decode_params_snapshot (self, &dp);
  GST_OBJECT_LOCK (self);
  latency_ms = self->latency_ms > 0 ? self->latency_ms :
      WHISPER_LIVE_LATENCY_MS;
  step_ms = self->step_ms;
  per_word = self->output == GST_WHISPER_DEC_OUTPUT_WORDS;
  GST_OBJECT_UNLOCK (self);
  step_f = step_ms / 10;
  /* words that would be late at the next step are final now */
  force = whisper_stream_force_frame ((gint64) offset_end, step_f,
      latency_ms / 10, (gint64) (self->last_step_cost /
          WHISPER_FRAME_DURATION));
  /* falling behind (a decode takes longer than a step): greedy search */
  if (self->last_step_cost > step_ms * GST_MSECOND && dp.p.beam_size > 1) {
    dp.p.beam_size = 1;
    degrade = !self->degraded;
    self->degraded = TRUE;
  }
  if (degrade)
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        (_("Transcription cannot keep up: decoding with greedy search.")),
        ("a decode took %" GST_TIME_FORMAT ", longer than the %u ms step",
            GST_TIME_ARGS (self->last_step_cost), step_ms));

  t_begin = g_get_monotonic_time ();
  ok = whisper_stream_decode (self->stream, &dp.p, enc, (int64_t) offset,
      n_real, force, final, &st, err);
  /* what a step costs: its decode, or live, the time from the end of its
   * audio to now (the encoder's part and any wait included) */
  self->last_step_cost = MAX ((g_get_monotonic_time () - t_begin) *
      GST_USECOND, gst_whisper_dec_live_lag (self, pts + n_real *
          WHISPER_FRAME_DURATION));
  decode_params_clear (&dp);
  if (!ok)
    return FALSE;
  GST_DEBUG_OBJECT (self, "streaming window at frame %" G_GUINT64_FORMAT
      ", %d frames%s: %d words final, %d tentative, next at %" G_GINT64_FORMAT
      " (%" GST_TIME_FORMAT ")", offset, n_real, final ? " (final)" : "",
      st.n_words, st.n_tentative, st.next_start,
      GST_TIME_ARGS (self->last_step_cost));

  next = (guint64) CLAMP (st.next_start, (gint64) offset, (gint64) offset_end);
  if (final && next <= offset)
    next = offset_end;
  gst_whisper_dec_send_seek_until (self, next, final ? G_MAXUINT64 :
      offset_end + (guint64) step_f);

  gst_whisper_dec_push_language (self, st.language);
  *flow = gst_whisper_dec_push_committed (self, &st, pts, offset, offset_end,
      per_word, latency_ms);
  gst_whisper_dec_post_partial (self, &st, pts, offset, offset_end);
  /* settled: before the first tentative word, else before the next
   * window, or (a window without words) older than the bound */
  settled = st.n_tentative > 0 ? st.tentative[0].t0_frame : MAX ((gint64) next,
      (gint64) offset_end - latency_ms / 10);
  if (final)
    settled = next;
  settled = CLAMP (settled, (gint64) offset, (gint64) offset_end);
  if (*flow == GST_FLOW_OK)
    *flow = gst_whisper_dec_push_gap (self, pts + (settled - offset) *
        WHISPER_FRAME_DURATION);
  whisper_stream_step_clear (&st);
  return TRUE;
}

static GstFlowReturn
gst_whisper_dec_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstWhisperDec *self = GST_WHISPER_DEC (parent);
  GstFlowReturn ret = GST_FLOW_OK;
  GError *err = NULL;
  GstMapInfo map;
  DecodeParams dp;
  whisper_window_result res;
  guint64 offset, offset_end, next;
  gint n_real;
  gsize expected;
  whisper_model_info info;
  GstClockTime pts, commit_end, window_end, t_begin, took;
  gboolean ok;

  if (self->decoder == NULL)
    goto not_negotiated;

  offset = GST_BUFFER_OFFSET (buf);
  offset_end = GST_BUFFER_OFFSET_END (buf);
  if (!GST_BUFFER_OFFSET_IS_VALID (buf) || !GST_BUFFER_OFFSET_END_IS_VALID (buf)
      || offset_end < offset || offset_end - offset > WHISPER_WINDOW_FRAMES)
    goto bad_offsets;
  n_real = (gint) (offset_end - offset);

  /* frame i of the stream is at segment start + i x 10 ms */
  pts = GST_BUFFER_PTS (buf);
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    pts = self->segment.start + offset * WHISPER_FRAME_DURATION;
  window_end = pts + n_real * WHISPER_FRAME_DURATION;

  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT)) {
    /* the audio restarted: decode as at the start of a stream, without the
     * cut-off text before the discontinuity as prompt */
    GST_DEBUG_OBJECT (self, "DISCONT window at frame %" G_GUINT64_FORMAT
        ": decoder state reset", offset);
    whisper_stream_reset (self->stream);
    if (GST_CLOCK_TIME_IS_VALID (self->last_end) && pts > self->last_end)
      self->discont = TRUE;
  }
  if (!GST_CLOCK_TIME_IS_VALID (self->last_end))
    self->last_end = pts;

  if (n_real == 0) {
    /* nothing to decode: let the encoder move on */
    next = offset;
    goto seek;
  }

  /* A GAP window holds no speech (the encoder found its audio silent):
   * skip the math, cover it with a GAP, move on to its end. */
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    GST_DEBUG_OBJECT (self, "GAP window at frame %" G_GUINT64_FORMAT
        ", %d frames: not decoded", offset, n_real);
    next = offset_end;
    if (GST_BUFFER_FLAG_IS_SET (buf, WHISPER_BUFFER_FLAG_STREAMING)
        && !GST_BUFFER_FLAG_IS_SET (buf, WHISPER_BUFFER_FLAG_FINAL)) {
      /* streaming: keep the end, where a word may be starting */
      guint step_ms;

      GST_OBJECT_LOCK (self);
      step_ms = self->step_ms;
      GST_OBJECT_UNLOCK (self);
      next = MAX (offset, offset_end > WHISPER_STREAM_KEEP_FRAMES ?
          offset_end - WHISPER_STREAM_KEEP_FRAMES : 0);
      gst_whisper_dec_send_seek_until (self, next, offset_end + step_ms / 10);
      window_end = pts + (next - offset) * WHISPER_FRAME_DURATION;
    } else {
      gst_whisper_dec_send_seek (self, next);
    }
    ret = gst_whisper_dec_push_gap (self, window_end);
    if (!GST_CLOCK_TIME_IS_VALID (self->input_end)
        || window_end > self->input_end)
      self->input_end = window_end;
    gst_buffer_unref (buf);
    return ret;
  }

  info = whisper_model_get_info (self->model);
  expected = (gsize) info.n_audio_ctx * info.n_audio_state * sizeof (gfloat);
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    goto map_failed;
  if (map.size != expected) {
    gst_buffer_unmap (buf, &map);
    goto bad_size;
  }

  memset (&res, 0, sizeof (res));
  if (GST_BUFFER_FLAG_IS_SET (buf, WHISPER_BUFFER_FLAG_STREAMING)) {
    t_begin = g_get_monotonic_time ();
    ok = gst_whisper_dec_stream_window (self, buf, (const gfloat *) map.data,
        pts, offset, offset_end, &ret, &err);
    took = (g_get_monotonic_time () - t_begin) * GST_USECOND;
    gst_buffer_unmap (buf, &map);
    if (!ok)
      goto decode_failed;
    if (!GST_CLOCK_TIME_IS_VALID (self->input_end)
        || window_end > self->input_end)
      self->input_end = window_end;
    gst_buffer_unref (buf);
    return ret;
  }

  decode_params_snapshot (self, &dp);
  GST_DEBUG_OBJECT (self, "decoding window at frame %" G_GUINT64_FORMAT
      " (%" GST_TIME_FORMAT "), %d real frames", offset, GST_TIME_ARGS (pts),
      n_real);
  t_begin = g_get_monotonic_time ();
  ok = whisper_decoder_decode_window (self->decoder, &dp.p,
      (const float *) map.data, (int64_t) offset, n_real, &res, &err);
  took = (g_get_monotonic_time () - t_begin) * GST_USECOND;
  decode_params_clear (&dp);
  gst_buffer_unmap (buf, &map);
  if (!ok)
    goto decode_failed;

  GST_DEBUG_OBJECT (self, "window decoded in %" GST_TIME_FORMAT
      ": %d segments, next frame %" G_GINT64_FORMAT "%s", GST_TIME_ARGS (took),
      res.n_segments, res.next_frame, res.no_speech ? " (no speech)" : "");

  /* the next window must start inside this one and move forward */
  if (res.next_frame <= (gint64) offset || res.next_frame > (gint64) offset_end) {
    GST_WARNING_OBJECT (self, "decoder asked for the next window at frame %"
        G_GINT64_FORMAT ", outside (%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
        "]: using the window end", res.next_frame, offset, offset_end);
    next = offset_end;
  } else {
    next = (guint64) res.next_frame;
  }
  commit_end = pts + (next - offset) * WHISPER_FRAME_DURATION;

  /* Tell the encoder before pushing text: with a queue between the two it
   * can start encoding the next window while text goes downstream. */
  gst_whisper_dec_send_seek (self, next);

  ret = gst_whisper_dec_push_window (self, &res, pts, offset, offset_end,
      commit_end);
  whisper_window_result_clear (&res);

  if (!GST_CLOCK_TIME_IS_VALID (self->input_end)
      || window_end > self->input_end)
    self->input_end = window_end;

  gst_buffer_unref (buf);
  return ret;

seek:
  gst_whisper_dec_send_seek (self, next);
  gst_buffer_unref (buf);
  return GST_FLOW_OK;

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("No Whisper encoder output format was negotiated.")),
        ("received a buffer before valid caps"));
    gst_buffer_unref (buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
bad_offsets:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        (_("Invalid Whisper encoder output.")),
        ("window buffer offsets %" G_GUINT64_FORMAT " - %" G_GUINT64_FORMAT
            " are not a window of at most %d frames", offset, offset_end,
            WHISPER_WINDOW_FRAMES));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
map_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, DECODE,
        (_("Invalid Whisper encoder output.")), ("could not map buffer"));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
bad_size:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        (_("Invalid Whisper encoder output.")),
        ("window buffer has %" G_GSIZE_FORMAT " bytes, expected %"
            G_GSIZE_FORMAT " (%d x %d float32)", map.size, expected,
            info.n_audio_ctx, info.n_audio_state));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
decode_failed:
  {
    /* a flush or a stop cut the window short: nothing to push, no error
     * (the window is decoded again after a seek, or never) */
    if (g_error_matches (err, WHISPER_ERROR, WHISPER_ERROR_CANCELLED)) {
      GST_DEBUG_OBJECT (self, "window at frame %" G_GUINT64_FORMAT
          " cancelled after %" GST_TIME_FORMAT, offset, GST_TIME_ARGS (took));
      g_clear_error (&err);
      whisper_window_result_clear (&res);
      gst_buffer_unref (buf);
      return GST_FLOW_FLUSHING;
    }
    /* a bad setting (unknown language, ...) is the user's to fix */
    if (err && err->domain == WHISPER_ERROR
        && err->code == WHISPER_ERROR_ARGUMENT)
      GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS,
          (_("Invalid Whisper decoding settings.")),
          ("window at frame %" G_GUINT64_FORMAT ": %s", offset, err->message));
    else
      GST_ELEMENT_ERROR (self, STREAM, DECODE, (_("Could not decode speech.")),
          ("window at frame %" G_GUINT64_FORMAT ": %s", offset,
              err ? err->message : "unknown error"));
    g_clear_error (&err);
    whisper_window_result_clear (&res);
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
}

/* Check the encoder's caps against the model they name, and share that
 * model (acquire it from the registry: the encoder's load). */
static gboolean
gst_whisper_dec_set_caps (GstWhisperDec * self, GstCaps * caps)
{
  GstStructure *s;
  const gchar *key;
  gint n_state = 0, n_ctx = 0, n_mels = 0;
  whisper_model_info info;
  whisper_model *model;
  whisper_decoder *decoder;
  GError *err = NULL;

  GST_DEBUG_OBJECT (self, "sink caps %" GST_PTR_FORMAT, caps);

  if (!gst_caps_is_fixed (caps) || gst_caps_get_size (caps) != 1)
    goto not_encoded;
  s = gst_caps_get_structure (caps, 0);
  if (!gst_structure_has_name (s, WHISPER_ENCODED_MEDIA_TYPE)
      || !gst_structure_get_int (s, "n-state", &n_state)
      || !gst_structure_get_int (s, "n-ctx", &n_ctx))
    goto not_encoded;
  gst_structure_get_int (s, "n-mels", &n_mels);

  key = gst_structure_get_string (s, "model");
  if (key == NULL || *key == '\0')
    goto no_model;
  /* an encoder that names no compute type leaves the choice to the
   * engine */
  if (!whisper_compute_type_from_name (gst_structure_get_string (s,
              "compute-type"), &self->caps_compute_type))
    self->caps_compute_type = WHISPER_COMPUTE_AUTO;

  if (self->model_key && strcmp (self->model_key, key) == 0) {
    model = self->model;
  } else {
    model = whisper_model_registry_acquire (key, &err);
    if (model == NULL)
      goto model_failed;
  }

  info = whisper_model_get_info (model);
  if (info.n_audio_state != n_state || info.n_audio_ctx != n_ctx
      || (n_mels != 0 && info.n_mels != n_mels))
    goto mismatch;

  if (model != self->model) {
    DecodeParams dp;
    gboolean usable;

    decoder = whisper_decoder_new (model, &err);
    if (decoder == NULL)
      goto decoder_failed;
    /* a text context too small for the settings would fail every window:
     * refuse the model now */
    decode_params_snapshot (self, &dp);
    usable = whisper_decoder_check_params (decoder, &dp.p, &err);
    decode_params_clear (&dp);
    if (!usable) {
      whisper_decoder_free (decoder);
      goto model_unusable;
    }
    gst_whisper_dec_release_model (self);
    self->model = model;
    self->model_key = g_strdup (key);
    self->decoder = decoder;
    self->stream = whisper_stream_new (decoder);
    GST_INFO_OBJECT (self, "using model %s (%s, %s)", key, info.path,
        info.format);
  }

  if (!gst_pad_has_current_caps (self->srcpad)) {
    GstCaps *out = gst_pad_get_pad_template_caps (self->srcpad);
    gboolean ret = gst_pad_push_event (self->srcpad,
        gst_event_new_caps (out));

    gst_caps_unref (out);
    return ret;
  }
  return TRUE;

  /* ERRORS */
not_encoded:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("The input is not Whisper encoder output.")),
        ("caps %" GST_PTR_FORMAT " are not fixed " WHISPER_ENCODED_MEDIA_TYPE
            " with n-state and n-ctx", caps));
    return FALSE;
  }
no_model:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("The input does not name the Whisper model it was encoded with.")),
        ("caps %" GST_PTR_FORMAT " have no \"model\" field", caps));
    return FALSE;
  }
model_failed:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("Could not load the Whisper model the input was encoded with.")),
        ("model \"%s\": %s", key, err ? err->message : "unknown error"));
    g_clear_error (&err);
    return FALSE;
  }
mismatch:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("The input does not match the dimensions of its Whisper model.")),
        ("caps n-state %d, n-ctx %d, n-mels %d; model \"%s\" has n-state %d, "
            "n-ctx %d, n-mels %d", n_state, n_ctx, n_mels, key,
            info.n_audio_state, info.n_audio_ctx, info.n_mels));
    if (model != self->model)
      whisper_model_registry_release (model);
    return FALSE;
  }
model_unusable:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        (_("The Whisper model \"%s\" cannot decode with these settings: "
                "its text context is too small."), key),
        ("model \"%s\" (%s): %s", key, info.path, err->message));
    g_clear_error (&err);
    whisper_model_registry_release (model);
    return FALSE;
  }
decoder_failed:
  {
    GST_ELEMENT_ERROR (self, LIBRARY, INIT,
        (_("Could not set up the Whisper decoder.")),
        ("model \"%s\": %s", key, err ? err->message : "unknown error"));
    g_clear_error (&err);
    whisper_model_registry_release (model);
    return FALSE;
  }
}

static gboolean
gst_whisper_dec_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstWhisperDec *self = GST_WHISPER_DEC (parent);

  GST_LOG_OBJECT (self, "event %" GST_PTR_FORMAT, event);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gboolean ret;

      gst_event_parse_caps (event, &caps);
      ret = gst_whisper_dec_set_caps (self, caps);
      gst_event_unref (event);
      return ret;
    }
    case GST_EVENT_SEGMENT:{
      const GstSegment *segment;

      gst_event_parse_segment (event, &segment);
      if (segment->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
            (_("Invalid Whisper encoder output.")),
            ("segment format %s, expected TIME",
                gst_format_get_name (segment->format)));
        gst_event_unref (event);
        return FALSE;
      }
      gst_segment_copy_into (segment, &self->segment);
      break;
    }
    case GST_EVENT_GAP:
      /* the encoder covers all audio with windows; a GAP from upstream
       * passes through if it does not go back in time */
      {
        GstClockTime ts, dur;

        gst_event_parse_gap (event, &ts, &dur);
        gst_event_unref (event);
        if (GST_CLOCK_TIME_IS_VALID (ts) && GST_CLOCK_TIME_IS_VALID (dur)) {
          if (!GST_CLOCK_TIME_IS_VALID (self->last_end))
            self->last_end = ts;
          gst_whisper_dec_push_gap (self, ts + dur);
        }
        return TRUE;
      }
    case GST_EVENT_EOS:
      /* every window has been decoded (serialized before EOS); cover the
       * rest of the last window if its end was not committed */
      if (GST_CLOCK_TIME_IS_VALID (self->input_end))
        gst_whisper_dec_push_gap (self, self->input_end);
      break;
    case GST_EVENT_FLUSH_START:
      /* not serialized: the streaming thread may be decoding; make it
       * return now (FLUSHING, nothing pushed) */
      gst_whisper_dec_set_cancel (self, TRUE);
      break;
    case GST_EVENT_FLUSH_STOP:
      /* serialized: the decode has returned */
      gst_whisper_dec_reset (self);
      gst_whisper_dec_set_cancel (self, FALSE);
      break;
    case GST_EVENT_TAG:{
      GstTagList *tags;

      gst_event_parse_tag (event, &tags);
      if (gst_tag_list_get_scope (tags) != GST_TAG_SCOPE_STREAM)
        break;
      gst_clear_tag_list (&self->upstream_tags);
      self->upstream_tags = gst_tag_list_copy (tags);
      if (self->last_language) {
        tags = gst_tag_list_copy (tags);
        gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_LANGUAGE_CODE,
            self->last_language, NULL);
        gst_event_unref (event);
        event = gst_event_new_tag (tags);
      }
      break;
    }
    default:
      break;
  }

  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_whisper_dec_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWhisperDec *self = GST_WHISPER_DEC (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM) {
    const GstStructure *s = gst_query_get_structure (query);

    /* we send WHISPER_SEEK_EVENT after every window */
    if (s && gst_structure_has_name (s, WHISPER_SEEK_QUERY)) {
      GstStructure *w = gst_query_writable_structure (query);
      guint latency_ms, step_ms;

      GST_OBJECT_LOCK (self);
      latency_ms = self->latency_ms;
      step_ms = self->step_ms;
      GST_OBJECT_UNLOCK (self);
      gst_structure_set (w, "latency", G_TYPE_UINT, latency_ms, "step",
          G_TYPE_UINT, step_ms, NULL);
      GST_DEBUG_OBJECT (self, "answering %s: TRUE (latency %u ms, step %u "
          "ms)", WHISPER_SEEK_QUERY, latency_ms, step_ms);
      return TRUE;
    }
  }
  return gst_pad_query_default (pad, parent, query);
}

static gboolean
gst_whisper_dec_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWhisperDec *self = GST_WHISPER_DEC (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      gboolean live;
      GstClockTime min, max, own;

      if (!gst_pad_peer_query (self->sinkpad, query))
        return FALSE;
      gst_query_parse_latency (query, &live, &min, &max);

      /* Streaming: the configured bound, from the start, never more.
       * Otherwise, non-live: no data is held back, nothing added; live:
       * the text of a window is late by the time it takes to decode it. */
      GST_OBJECT_LOCK (self);
      self->upstream_live = live;
      if (self->latency_ms > 0 || live)
        own = (self->latency_ms > 0 ? self->latency_ms :
            WHISPER_LIVE_LATENCY_MS) * GST_MSECOND;
      else
        own = 0;
      GST_OBJECT_UNLOCK (self);

      min += own;
      if (GST_CLOCK_TIME_IS_VALID (max))
        max += own;
      GST_DEBUG_OBJECT (self, "latency: live %d, upstream min %"
          GST_TIME_FORMAT ", own %" GST_TIME_FORMAT, live,
          GST_TIME_ARGS (min - own), GST_TIME_ARGS (own));
      gst_query_set_latency (query, live, min, max);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static GstStateChangeReturn
gst_whisper_dec_change_state (GstElement * element, GstStateChange transition)
{
  GstWhisperDec *self = GST_WHISPER_DEC (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* before the pads are deactivated, which waits for the streaming
       * thread: stop the decode it may be in */
      gst_whisper_dec_set_cancel (self, TRUE);
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      gst_whisper_dec_set_cancel (self, FALSE);
      gst_whisper_dec_reset (self);
      /* tags are sticky across flushes, not across streams */
      g_clear_pointer (&self->last_language, g_free);
      gst_clear_tag_list (&self->upstream_tags);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* streaming has stopped: the pads are deactivated */
      gst_whisper_dec_reset (self);
      gst_whisper_dec_release_model (self);
      whisper_element_release_memory (element);
      break;
    default:
      break;
  }

  return ret;
}
