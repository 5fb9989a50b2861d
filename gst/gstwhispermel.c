/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whispermel: Whisper's log-mel front end.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
/**
 * SECTION:element-whispermel
 * @title: whispermel
 *
 * Turns 16 kHz mono audio into Whisper's log-mel spectrogram, exactly as
 * openai-whisper's log_mel_spectrogram() computes it: periodic Hann window
 * of 400 samples, hop 160 (100 frames per second), reflect padding of 200
 * samples at the start and end of the stream, |STFT|^2 over 201 bins (FFTW),
 * a Slaney mel filterbank (computed at start-up) and log10 clamped at 1e-10.
 *
 * Output buffers hold whole frames, float32 [n_frames][n-mels], raw log10
 * mel energies: Whisper's normalisation (clamp at max - 8, (x + 4) / 4)
 * needs a maximum over a window and is done by whisperencnpu per 30 s
 * window.  PTS is the time of the first frame, DURATION n_frames x 10 ms,
 * OFFSET the stream index of the first frame.
 *
 * The output does not depend on how the input is split into buffers.  A
 * frame leaves as soon as its 400-sample window is complete, so the element
 * adds 22.5 ms of latency (200 samples of look-ahead plus one hop).  At EOS
 * the remaining frames are computed with the end reflection (N samples give
 * N / 160 frames, as in Whisper) before EOS is forwarded.
 *
 * Timestamps: within an analysis run the samples are contiguous and frame
 * k is at the run's start + k x 10 ms.  A buffer whose PTS is at most
 * #GstWhisperMel:tolerance (40 ms) away from the time where the previous
 * buffer ended continues the run as if it were exactly there: the
 * jitter of live sources and capture devices is absorbed, no sample is
 * dropped or invented (as audiorate and the audio sinks treat jitter
 * within their tolerance).  A buffer further away (a real gap or an
 * overlap), or a DISCONT buffer without PTS, ends the current analysis
 * run the way EOS does and starts a new one (new start reflection) at the
 * buffer's time; the first output buffer of the new run has the DISCONT
 * flag.  A DISCONT flag on a buffer whose PTS lies within the tolerance does
 * not restart: the audio is contiguous in time.  A new SEGMENT and a GAP
 * event end the run as well; GAP events are
 * forwarded (moved to after the last frame already sent if they overlap
 * it).  FLUSH_STOP drops the current run.  NaN and infinite samples are
 * replaced by 0 with one warning.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=jfk.flac ! decodebin ! audioconvert ! \
 *     audioresample ! whispermel ! fakesink dump=true
 * ]| Computes the 80-bin log-mel spectrogram of a FLAC file.
 * |[
 * gst-launch-1.0 filesrc location=talk.wav ! decodebin ! audioconvert ! \
 *     audioresample ! whispermel n-mels=128 ! whisperencnpu model=large-v3 ! \
 *     whisperdec ! fakesink
 * ]| 128 mel bins, for large-v3 models.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gi18n-lib.h>

#include "gstwhispermel.h"
#include "whisper-caps.h"
#include "whisper-element-common.h"

GST_DEBUG_CATEGORY_STATIC (whisper_mel_debug);
#define GST_CAT_DEFAULT whisper_mel_debug

#define DEFAULT_N_MELS 80
#define DEFAULT_END_PADDING WHISPER_MEL_END_REFLECT
/* timestamp jitter absorbed without a restart, as audiorate's tolerance */
#define DEFAULT_TOLERANCE (40 * GST_MSECOND)
/* half an analysis window (200 samples) of look-ahead plus one hop */
#define WHISPER_MEL_LATENCY (GST_SECOND * (WHISPER_N_FFT / 2 + \
      WHISPER_HOP_LENGTH) / WHISPER_SAMPLE_RATE)

enum
{
  PROP_0,
  PROP_N_MELS,
  PROP_END_PADDING,
  PROP_TOLERANCE,
};

#define GST_TYPE_WHISPER_MEL_END_PADDING (gst_whisper_mel_end_padding_get_type ())
static GType
gst_whisper_mel_end_padding_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {WHISPER_MEL_END_REFLECT,
        "Reflect the last samples (openai-whisper log_mel_spectrogram)",
        "reflect"},
    {WHISPER_MEL_END_ZERO,
        "Zeros after the last sample (openai-whisper transcribe)", "zeros"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstWhisperMelEndPadding", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw, format = (string) { F32LE, S16LE }, "
        "rate = (int) 16000, channels = (int) 1, "
        "layout = (string) interleaved"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (WHISPER_MEL_CAPS));

#define gst_whisper_mel_parent_class parent_class
G_DEFINE_TYPE (GstWhisperMel, gst_whisper_mel, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (whispermel, "whispermel",
    GST_RANK_NONE, GST_TYPE_WHISPER_MEL,
    GST_DEBUG_CATEGORY_INIT (whisper_mel_debug, "whispermel", 0,
        "Whisper log-mel front end"));

static void gst_whisper_mel_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_whisper_mel_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_whisper_mel_finalize (GObject * object);
static GstStateChangeReturn gst_whisper_mel_change_state (GstElement *
    element, GstStateChange transition);
static GstFlowReturn gst_whisper_mel_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static gboolean gst_whisper_mel_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_whisper_mel_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static gboolean gst_whisper_mel_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query);

static void
gst_whisper_mel_class_init (GstWhisperMelClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_whisper_mel_set_property;
  gobject_class->get_property = gst_whisper_mel_get_property;
  gobject_class->finalize = gst_whisper_mel_finalize;

  /**
   * GstWhisperMel:n-mels:
   *
   * Number of mel bins: 80 for every Whisper model except large-v3, which
   * needs 128.  Other values are refused.
   */
  g_object_class_install_property (gobject_class, PROP_N_MELS,
      g_param_spec_int ("n-mels", "Mel bins",
          "Number of mel bins (80, or 128 for large-v3 models)",
          80, 128, DEFAULT_N_MELS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstWhisperMel:end-padding:
   *
   * How the analysis window is filled past the last sample of a stream (at
   * EOS, and when a discontinuity, GAP or new segment ends an analysis
   * run).  `reflect` is torch.stft's center padding, what
   * whisper.log_mel_spectrogram(audio) gives; `zeros` is what
   * whisper.transcribe() sees, since it appends 30 s of silence before the
   * STFT.  Only the last one or two frames of a run differ.
   */
  g_object_class_install_property (gobject_class, PROP_END_PADDING,
      g_param_spec_enum ("end-padding", "End padding",
          "How the analysis window is filled past the last sample of a stream",
          GST_TYPE_WHISPER_MEL_END_PADDING, DEFAULT_END_PADDING,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstWhisperMel:tolerance:
   *
   * How far (ns) a buffer's PTS may be from the end of the previous buffer
   * before it counts as a discontinuity.  Within it the samples are taken
   * as contiguous (timestamp jitter of live sources); beyond it the
   * analysis run restarts at the buffer's time.  40 ms, as audiorate and
   * the audio sinks' alignment threshold; 0 restarts on any difference of
   * a nanosecond or more.
   */
  g_object_class_install_property (gobject_class, PROP_TOLERANCE,
      g_param_spec_uint64 ("tolerance", "Tolerance",
          "Timestamp jitter (ns) absorbed without restarting the analysis",
          0, G_MAXUINT64, DEFAULT_TOLERANCE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Whisper log-mel spectrogram", "Filter/Converter/Audio",
      "Computes Whisper's log-mel spectrogram (16 kHz mono audio to "
      "100 frames/s of log10 mel energies)",
      WHISPER_ELEMENT_AUTHOR);

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_whisper_mel_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_WHISPER_MEL_END_PADDING, 0);
}

static void
gst_whisper_mel_init (GstWhisperMel * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_mel_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_mel_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_mel_sink_query));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_whisper_mel_src_query));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->n_mels = DEFAULT_N_MELS;
  self->end_padding = DEFAULT_END_PADDING;
  self->tolerance = DEFAULT_TOLERANCE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
}

static void
gst_whisper_mel_finalize (GObject * object)
{
  GstWhisperMel *self = GST_WHISPER_MEL (object);

  whisper_mel_free (self->mel);
  self->mel = NULL;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_whisper_mel_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWhisperMel *self = GST_WHISPER_MEL (object);

  if (prop_id == PROP_N_MELS && g_value_get_int (value) != 80
      && g_value_get_int (value) != 128) {
    GST_WARNING_OBJECT (self, "n-mels must be 80 or 128, ignoring %d",
        g_value_get_int (value));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_N_MELS:
      self->n_mels = g_value_get_int (value);
      break;
    case PROP_END_PADDING:
      self->end_padding = g_value_get_enum (value);
      break;
    case PROP_TOLERANCE:
      self->tolerance = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_whisper_mel_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWhisperMel *self = GST_WHISPER_MEL (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_N_MELS:
      g_value_set_int (value, self->n_mels);
      break;
    case PROP_END_PADDING:
      g_value_set_enum (value, self->end_padding);
      break;
    case PROP_TOLERANCE:
      g_value_set_uint64 (value, self->tolerance);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------------ */
/* stream state */

/* Forgets the current analysis run (no output). */
static void
gst_whisper_mel_reset (GstWhisperMel * self)
{
  if (self->mel)
    whisper_mel_reset (self->mel);
  self->run_active = FALSE;
  self->run_pts = GST_CLOCK_TIME_NONE;
  self->run_offset = 0;
  self->next_pts = GST_CLOCK_TIME_NONE;
  self->next_offset = 0;
  self->pending_discont = TRUE;
  self->out_end = GST_CLOCK_TIME_NONE;
}

/* Time of the run's next input sample. */
static GstClockTime
gst_whisper_mel_run_expected (GstWhisperMel * self)
{
  return self->run_pts + gst_util_uint64_scale_int (whisper_mel_get_n_samples
      (self->mel), GST_SECOND, WHISPER_SAMPLE_RATE);
}

static GstCaps *
gst_whisper_mel_src_caps (gint n_mels)
{
  return gst_caps_new_simple (WHISPER_MEL_MEDIA_TYPE,
      "n-mels", G_TYPE_INT, n_mels, "rate", G_TYPE_INT, 100, NULL);
}

/* Allocates the output buffer for n_frames frames of the run starting at
 * run frame k0, with its timestamps. */
static GstBuffer *
gst_whisper_mel_new_output (GstWhisperMel * self, guint64 k0, gsize n_frames)
{
  GstBuffer *out = gst_buffer_new_allocate (NULL,
      n_frames * self->mel_n_mels * sizeof (float), NULL);

  GST_BUFFER_PTS (out) = self->run_pts + k0 * WHISPER_FRAME_DURATION;
  GST_BUFFER_DURATION (out) = n_frames * WHISPER_FRAME_DURATION;
  GST_BUFFER_OFFSET (out) = self->run_offset + k0;
  GST_BUFFER_OFFSET_END (out) = self->run_offset + k0 + n_frames;
  return out;
}

static GstFlowReturn
gst_whisper_mel_push_output (GstWhisperMel * self, GstBuffer * out)
{
  if (self->pending_discont) {
    GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
    self->pending_discont = FALSE;
  }
  self->out_end = GST_BUFFER_PTS (out) + GST_BUFFER_DURATION (out);
  self->next_offset = GST_BUFFER_OFFSET_END (out);
  GST_LOG_OBJECT (self, "pushing %" G_GUINT64_FORMAT " frames at %"
      GST_TIME_FORMAT, GST_BUFFER_OFFSET_END (out) - GST_BUFFER_OFFSET (out),
      GST_TIME_ARGS (GST_BUFFER_PTS (out)));
  return gst_pad_push (self->srcpad, out);
}

/* Ends the current run like EOS does: the remaining frames (with the end
 * reflection) go downstream.  The next buffer starts a new run. */
static GstFlowReturn
gst_whisper_mel_drain (GstWhisperMel * self)
{
  GstFlowReturn ret = GST_FLOW_OK;
  gsize n;

  if (!self->run_active)
    return GST_FLOW_OK;

  /* time where the next run starts when its first buffer has no PTS */
  self->next_pts = gst_whisper_mel_run_expected (self);

  n = whisper_mel_frames_for_finish (self->mel);
  if (n > 0) {
    guint64 k0 = whisper_mel_get_n_frames (self->mel);
    GstBuffer *out = gst_whisper_mel_new_output (self, k0, n);
    GstMapInfo map;

    gst_buffer_map (out, &map, GST_MAP_WRITE);
    whisper_mel_finish (self->mel, (float *) map.data);
    gst_buffer_unmap (out, &map);
    ret = gst_whisper_mel_push_output (self, out);
  } else {
    whisper_mel_reset (self->mel);
  }
  GST_DEBUG_OBJECT (self, "drained %" G_GSIZE_FORMAT " frames", n);
  self->run_active = FALSE;
  return ret;
}

/* Starts a run at the time of buffer pts (or where the last one ended). */
static void
gst_whisper_mel_start_run (GstWhisperMel * self, GstClockTime pts)
{
  guint64 offset = 0;

  if (!GST_CLOCK_TIME_IS_VALID (pts)) {
    if (GST_CLOCK_TIME_IS_VALID (self->next_pts))
      pts = self->next_pts;
    else if (self->segment.format == GST_FORMAT_TIME
        && GST_CLOCK_TIME_IS_VALID (self->segment.start))
      pts = self->segment.start;
    else
      pts = 0;
  }
  /* OFFSET: frame index counted from the segment start, never going back */
  if (self->segment.format == GST_FORMAT_TIME && pts >= self->segment.start)
    offset = gst_util_uint64_scale_round (pts - self->segment.start, 1,
        WHISPER_FRAME_DURATION);
  offset = MAX (offset, self->next_offset);

  whisper_mel_reset (self->mel);
  self->run_active = TRUE;
  self->run_pts = pts;
  self->run_offset = offset;
  self->pending_discont = TRUE;
  GST_DEBUG_OBJECT (self, "new analysis run at %" GST_TIME_FORMAT
      ", offset %" G_GUINT64_FORMAT, GST_TIME_ARGS (pts), offset);
}

/* ------------------------------------------------------------------------ */
/* data */

static GstFlowReturn
gst_whisper_mel_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstWhisperMel *self = GST_WHISPER_MEL (parent);
  GstFlowReturn ret = GST_FLOW_OK;
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  gboolean discont = GST_BUFFER_IS_DISCONT (buffer);
  GstMapInfo in_map, out_map;
  gsize bps, n_samples, n_frames;
  guint64 n_bad = 0, k0;
  GstClockTime at;
  GstBuffer *out = NULL;

  if (!self->caps_ok || !self->mel)
    goto not_negotiated;

  bps = self->is_s16 ? 2 : 4;
  gst_buffer_map (buffer, &in_map, GST_MAP_READ);
  n_samples = in_map.size / bps;
  if (in_map.size % bps)
    GST_WARNING_OBJECT (self, "dropping %" G_GSIZE_FORMAT " trailing bytes "
        "(not a whole sample)", in_map.size % bps);

  if (n_samples == 0) {
    /* nothing to analyse; a DISCONT still ends the run */
    gst_buffer_unmap (buffer, &in_map);
    gst_buffer_unref (buffer);
    if (discont)
      return gst_whisper_mel_drain (self);
    return GST_FLOW_OK;
  }

  /* a gap or overlap beyond the tolerance (or a DISCONT we cannot place in
   * time) ends the run; jitter within it is absorbed */
  if (self->run_active) {
    gboolean restart = discont;
    if (GST_CLOCK_TIME_IS_VALID (pts)) {
      GstClockTime expected = gst_whisper_mel_run_expected (self);
      GstClockTimeDiff diff = GST_CLOCK_DIFF (expected, pts);
      GstClockTime tolerance;

      GST_OBJECT_LOCK (self);
      tolerance = self->tolerance;
      GST_OBJECT_UNLOCK (self);
      restart = (GstClockTime) ABS (diff) > tolerance;
      if (restart)
        GST_DEBUG_OBJECT (self, "timestamp gap: expected %" GST_TIME_FORMAT
            ", got %" GST_TIME_FORMAT " (tolerance %" GST_TIME_FORMAT ")",
            GST_TIME_ARGS (expected), GST_TIME_ARGS (pts),
            GST_TIME_ARGS (tolerance));
      else if (diff != 0)
        GST_LOG_OBJECT (self, "jitter of %" G_GINT64_FORMAT " ns absorbed",
            (gint64) diff);
    }
    if (restart) {
      ret = gst_whisper_mel_drain (self);
      if (ret != GST_FLOW_OK)
        goto drain_failed;
    }
  }
  if (!self->run_active)
    gst_whisper_mel_start_run (self, pts);

  /* where this buffer sits in the stream: its PTS, or for a buffer
   * without one the end of what the run has so far (for messages) */
  at = GST_CLOCK_TIME_IS_VALID (pts) ? pts :
      gst_whisper_mel_run_expected (self);
  n_frames = whisper_mel_frames_for_push (self->mel, n_samples);
  k0 = whisper_mel_get_n_frames (self->mel);
  if (n_frames > 0) {
    out = gst_whisper_mel_new_output (self, k0, n_frames);
    gst_buffer_map (out, &out_map, GST_MAP_WRITE);
  }
  if (self->is_s16)
    whisper_mel_push_s16 (self->mel, (const int16_t *) in_map.data, n_samples,
        out ? (float *) out_map.data : NULL);
  else
    whisper_mel_push_f32 (self->mel, (const float *) in_map.data, n_samples,
        out ? (float *) out_map.data : NULL, &n_bad);
  if (out)
    gst_buffer_unmap (out, &out_map);
  gst_buffer_unmap (buffer, &in_map);

  if (n_bad > 0) {
    /* a buffer without PTS is named by its stream position, never by
     * GST_CLOCK_TIME_NONE's 99:99:99.999999999 */
    const gchar *stamp = GST_CLOCK_TIME_IS_VALID (pts) ? "at" :
        "without timestamp, at stream position";

    GST_DEBUG_OBJECT (self, "%" G_GUINT64_FORMAT " NaN/Inf samples in buffer "
        "%s %" GST_TIME_FORMAT " replaced by 0", n_bad, stamp,
        GST_TIME_ARGS (at));
    if (!self->nonfinite_warned) {
      self->nonfinite_warned = TRUE;
      GST_ELEMENT_WARNING (self, STREAM, DECODE,
          (_("The audio contains NaN or infinite samples; they are replaced "
                  "by silence.")),
          ("%" G_GUINT64_FORMAT " non-finite samples in the buffer %s %"
              GST_TIME_FORMAT " (warning given once)", n_bad, stamp,
              GST_TIME_ARGS (at)));
    }
  }
  gst_buffer_unref (buffer);

  if (out)
    ret = gst_whisper_mel_push_output (self, out);
  return ret;

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("whispermel received audio before its format was set. Put "
                "\"audioconvert ! audioresample\" in front of it.")),
        ("no caps event before the first buffer"));
    gst_buffer_unref (buffer);
    return GST_FLOW_NOT_NEGOTIATED;
  }
drain_failed:
  {
    gst_buffer_unmap (buffer, &in_map);
    gst_buffer_unref (buffer);
    return ret;
  }
}

/* ------------------------------------------------------------------------ */
/* events */

/* The input format is wrong: say what to put in front, once. */
static void
gst_whisper_mel_post_format_error (GstWhisperMel * self, GstCaps * caps)
{
  if (self->caps_error_posted)
    return;
  self->caps_error_posted = TRUE;
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
      (_("whispermel needs 16 kHz mono audio (F32LE or S16LE). Put "
              "\"audioconvert ! audioresample\" in front of it.")),
      ("refused caps %" GST_PTR_FORMAT, caps));
}

static gboolean
gst_whisper_mel_set_caps (GstWhisperMel * self, GstCaps * caps)
{
  GstAudioInfo info;
  GstCaps *src_caps;
  gboolean ok;

  if (!gst_audio_info_from_caps (&info, caps))
    goto bad_caps;
  if (GST_AUDIO_INFO_RATE (&info) != WHISPER_SAMPLE_RATE
      || GST_AUDIO_INFO_CHANNELS (&info) != 1)
    goto bad_caps;
  switch (GST_AUDIO_INFO_FORMAT (&info)) {
    case GST_AUDIO_FORMAT_F32LE:
      self->is_s16 = FALSE;
      break;
    case GST_AUDIO_FORMAT_S16LE:
      self->is_s16 = TRUE;
      break;
    default:
      goto bad_caps;
  }
  self->caps_ok = TRUE;

  src_caps = gst_whisper_mel_src_caps (self->mel_n_mels);
  ok = gst_pad_set_caps (self->srcpad, src_caps);
  gst_caps_unref (src_caps);
  if (!ok)
    goto src_refused;
  return TRUE;

  /* ERRORS */
bad_caps:
  {
    gst_whisper_mel_post_format_error (self, caps);
    return FALSE;
  }
src_refused:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("The element after whispermel does not accept %d mel bins. Set "
                "whispermel's n-mels property to what the model needs (80, "
                "or 128 for large-v3)."), self->mel_n_mels),
        ("downstream refused %d mel bins", self->mel_n_mels));
    return FALSE;
  }
}

static gboolean
gst_whisper_mel_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstWhisperMel *self = GST_WHISPER_MEL (parent);

  GST_LOG_OBJECT (self, "event %" GST_PTR_FORMAT, event);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gboolean ok;

      gst_event_parse_caps (event, &caps);
      ok = gst_whisper_mel_set_caps (self, caps);
      gst_event_unref (event);
      return ok;
    }
    case GST_EVENT_SEGMENT:{
      const GstSegment *segment;

      /* frames of the old segment leave in the old segment */
      gst_whisper_mel_drain (self);
      gst_event_parse_segment (event, &segment);
      gst_segment_copy_into (segment, &self->segment);
      if (segment->format != GST_FORMAT_TIME)
        GST_WARNING_OBJECT (self, "%s segment: frames are timed from 0",
            gst_format_get_name (segment->format));
      self->next_pts = GST_CLOCK_TIME_NONE;
      self->next_offset = 0;
      self->pending_discont = TRUE;
      return gst_pad_push_event (self->srcpad, event);
    }
    case GST_EVENT_EOS:
      gst_whisper_mel_drain (self);
      return gst_pad_push_event (self->srcpad, event);
    case GST_EVENT_FLUSH_STOP:
      gst_whisper_mel_reset (self);
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      return gst_pad_push_event (self->srcpad, event);
    case GST_EVENT_GAP:{
      GstClockTime ts, dur;

      gst_whisper_mel_drain (self);
      gst_event_parse_gap (event, &ts, &dur);
      /* keep the output monotonic: a GAP never overlaps a sent frame */
      if (GST_CLOCK_TIME_IS_VALID (ts) && GST_CLOCK_TIME_IS_VALID
          (self->out_end) && ts < self->out_end) {
        GstClockTime shift = self->out_end - ts;
        if (GST_CLOCK_TIME_IS_VALID (dur))
          dur = dur > shift ? dur - shift : 0;
        ts = self->out_end;
      }
      if (GST_CLOCK_TIME_IS_VALID (ts)) {
        self->next_pts = GST_CLOCK_TIME_IS_VALID (dur) ? ts + dur : ts;
        gst_event_unref (event);
        event = gst_event_new_gap (ts, dur);
      }
      return gst_pad_push_event (self->srcpad, event);
    }
    default:
      return gst_pad_event_default (pad, parent, event);
  }
}

/* ------------------------------------------------------------------------ */
/* queries */

static gboolean
gst_whisper_mel_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWhisperMel *self = GST_WHISPER_MEL (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_ACCEPT_CAPS:{
      GstCaps *caps, *tmpl;
      gboolean ok;

      gst_query_parse_accept_caps (query, &caps);
      tmpl = gst_pad_get_pad_template_caps (pad);
      ok = gst_caps_is_subset (caps, tmpl);
      gst_caps_unref (tmpl);
      if (!ok && gst_caps_is_fixed (caps)) {
        /* The CAPS event of a stream we cannot take: say what is missing,
         * since upstream will only report "not-negotiated". */
        gst_whisper_mel_post_format_error (self, caps);
      }
      gst_query_set_accept_caps_result (query, ok);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
gst_whisper_mel_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWhisperMel *self = GST_WHISPER_MEL (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      gint n_mels;

      GST_OBJECT_LOCK (self);
      n_mels = self->n_mels;
      GST_OBJECT_UNLOCK (self);
      return whisper_element_answer_caps_query (query,
          gst_whisper_mel_src_caps (n_mels));
    }
    case GST_QUERY_LATENCY:
      return whisper_element_answer_latency_query (GST_ELEMENT (self),
          self->sinkpad, query, WHISPER_MEL_LATENCY);
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* ------------------------------------------------------------------------ */

/* Makes the engine (and its FFTW plan) once per instance, again only when
 * n-mels changed. */
static gboolean
gst_whisper_mel_start (GstWhisperMel * self)
{
  GError *err = NULL;
  whisper_mel_end_pad end_padding;
  gint n_mels;

  GST_OBJECT_LOCK (self);
  n_mels = self->n_mels;
  end_padding = self->end_padding;
  GST_OBJECT_UNLOCK (self);
  if (self->mel && self->mel_n_mels != n_mels) {
    whisper_mel_free (self->mel);
    self->mel = NULL;
  }
  if (!self->mel) {
    self->mel = whisper_mel_new (n_mels, &err);
    if (!self->mel)
      goto init_failed;
    self->mel_n_mels = n_mels;
  }
  whisper_mel_set_end_pad (self->mel, end_padding);
  self->caps_ok = FALSE;
  self->caps_error_posted = FALSE;
  self->nonfinite_warned = FALSE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  gst_whisper_mel_reset (self);
  return TRUE;

  /* ERRORS */
init_failed:
  {
    GST_ELEMENT_ERROR (self, LIBRARY, INIT,
        (_("Could not set up the log-mel analysis.")), ("%s", err->message));
    g_clear_error (&err);
    return FALSE;
  }
}

static GstStateChangeReturn
gst_whisper_mel_change_state (GstElement * element, GstStateChange transition)
{
  GstWhisperMel *self = GST_WHISPER_MEL (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_whisper_mel_start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_whisper_mel_reset (self);
      self->caps_ok = FALSE;
      break;
    default:
      break;
  }
  return ret;
}
