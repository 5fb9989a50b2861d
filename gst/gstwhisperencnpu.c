/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GStreamer
 * Copyright (C) 2026 gst-whisper-npu authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-whisperencnpu
 * @title: whisperencnpu
 * @see_also: whispermel, whisperdec
 *
 * Runs Whisper's audio encoder over 30 s windows (3000 frames) of log-mel
 * frames from #whispermel and pushes one buffer of encoder output,
 * float32 [n-ctx = 1500][n-state], per window.
 *
 * The model is named here (#GstWhisperEncNpu:model, a path or a known name
 * such as `tiny.en`), loaded once per process through the shared model
 * registry, and named in the src caps so that the decoder uses the same
 * shared model.
 *
 * Windows follow openai-whisper's long-form transcription: when the element
 * downstream answers the `whisper-seek-driver` query (whisperdec does), the
 * next window starts at the frame that element sends back in a
 * `whisper-seek` upstream event after each window; otherwise windows advance
 * by 3000 frames.  On EOS, windows are emitted (the last one padded) until
 * every received frame has been covered, then EOS is forwarded.
 *
 * Streaming (docs/streaming.md): when whisperdec's #GstWhisperDec:latency
 * is set, or is 0 with a live upstream, a window goes out every
 * #GstWhisperDec:step of new audio, holding the audio from where the
 * decoder's last seek event said up to now, and the element adds no
 * latency of its own (whisperdec reports the configured one).
 *
 * A window whose audio holds no speech (digital silence, steady hiss or
 * hum: no band rises #GstWhisperEncNpu:speech-gate dB above its floor, see
 * docs/speech-gate.md) is not encoded: it goes downstream as an empty
 * buffer flagged GAP with the window's timing, which whisperdec turns into
 * a GAP event.  Whisper would decode such audio into confident text
 * ("You").
 *
 * Each window is normalised on its own, padding included:
 * x = (max (x, max - 8) + 4) / 4.  openai-whisper takes the maximum over the
 * whole file, which a stream cannot know.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=jfk.wav ! wavparse ! audioconvert ! \
 *     audioresample ! whispermel ! whisperencnpu model=tiny.en ! fakesink
 * ]| Encodes jfk.wav with tiny.en from the models directory.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gi18n-lib.h>

#include "gstwhisperencnpu.h"
#include "whisper-caps.h"
#include "whisper-element-common.h"
#include "whisper.h"

GST_DEBUG_CATEGORY_STATIC (whisper_enc_npu_debug);
#define GST_CAT_DEFAULT whisper_enc_npu_debug

/* What the window adds to the upstream latency (see the LATENCY query). */
#define WHISPER_WINDOW_LATENCY (WHISPER_WINDOW_FRAMES * WHISPER_FRAME_DURATION)

#define DEFAULT_MODEL "tiny.en"
#define DEFAULT_BACKEND WHISPER_BACKEND_AUTO
#define DEFAULT_THREADS 0
#define DEFAULT_COMPUTE_TYPE WHISPER_COMPUTE_AUTO
#define DEFAULT_SPEECH_GATE WHISPER_SPEECH_GATE_DEFAULT_DB
#define DEFAULT_KERNEL_DIR NULL
#define DEFAULT_NPU_FALLBACK FALSE
#define DEFAULT_INT8_ATTENTION FALSE
#define MAX_THREADS 1024

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_BACKEND,
  PROP_THREADS,
  PROP_BACKEND_IN_USE,
  PROP_SPEECH_GATE,
  PROP_COMPUTE_TYPE,
  PROP_COMPUTE_TYPE_IN_USE,
  PROP_KERNEL_DIR,
  PROP_NPU_FALLBACK,
  PROP_INT8_ATTENTION,
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (WHISPER_MEL_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (WHISPER_ENCODED_CAPS));

#define gst_whisper_enc_npu_parent_class parent_class
G_DEFINE_TYPE (GstWhisperEncNpu, gst_whisper_enc_npu, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (whisperencnpu, "whisperencnpu", GST_RANK_NONE,
    GST_TYPE_WHISPER_ENC_NPU);

static void gst_whisper_enc_npu_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_whisper_enc_npu_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_whisper_enc_npu_finalize (GObject * object);
static GstStateChangeReturn gst_whisper_enc_npu_change_state (GstElement *
    element, GstStateChange transition);
static GstFlowReturn gst_whisper_enc_npu_chain (GstPad * pad,
    GstObject * parent, GstBuffer * buf);
static gboolean gst_whisper_enc_npu_sink_event (GstPad * pad,
    GstObject * parent, GstEvent * event);
static gboolean gst_whisper_enc_npu_sink_query (GstPad * pad,
    GstObject * parent, GstQuery * query);
static gboolean gst_whisper_enc_npu_sink_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static gboolean gst_whisper_enc_npu_src_event (GstPad * pad,
    GstObject * parent, GstEvent * event);
static gboolean gst_whisper_enc_npu_src_query (GstPad * pad,
    GstObject * parent, GstQuery * query);

/* ------------------------------------------------------------------------ */
/* backends */

GType
gst_whisper_backend_get_type (void)
{
  static GType backend_type = 0;
  static const GEnumValue backends[] = {
    {WHISPER_BACKEND_AUTO, "The NPU when usable, else the CPU", "auto"},
    {WHISPER_BACKEND_CPU, "CPU (arithmetic: compute-type)", "cpu"},
    {WHISPER_BACKEND_NPU, "AMD Ryzen AI NPU through XRT (int8)", "npu"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&backend_type)) {
    GType tmp = g_enum_register_static ("GstWhisperBackend", backends);
    g_once_init_leave (&backend_type, tmp);
  }
  return backend_type;
}

GType
gst_whisper_compute_type_get_type (void)
{
  static GType compute_type = 0;
  static const GEnumValue types[] = {
    {WHISPER_COMPUTE_AUTO, "The fastest type whose accuracy holds", "auto"},
    {WHISPER_COMPUTE_FLOAT32, "float32 throughout", "float32"},
    {WHISPER_COMPUTE_INT8, "int8 projections, float32 elsewhere", "int8"},
    {WHISPER_COMPUTE_BFLOAT16, "bfloat16 projections, float32 elsewhere",
        "bfloat16"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&compute_type)) {
    GType tmp = g_enum_register_static ("GstWhisperComputeType", types);
    g_once_init_leave (&compute_type, tmp);
  }
  return compute_type;
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_whisper_enc_npu_class_init (GstWhisperEncNpuClass * klass)
{
  GObjectClass *gobject_class = (GObjectClass *) klass;
  GstElementClass *element_class = (GstElementClass *) klass;

  GST_DEBUG_CATEGORY_INIT (whisper_enc_npu_debug, "whisperencnpu", 0,
      "Whisper encoder");

  gobject_class->set_property = gst_whisper_enc_npu_set_property;
  gobject_class->get_property = gst_whisper_enc_npu_get_property;
  gobject_class->finalize = gst_whisper_enc_npu_finalize;

  /**
   * GstWhisperEncNpu:model:
   *
   * The Whisper model: a path (CTranslate2 directory, whisper.cpp ggml
   * `.bin` file or Hugging Face safetensors directory), or a known name
   * such as `tiny.en` or `base`, looked up in the models directory
   * (`$GST_WHISPER_MODELS_DIR`, else `$XDG_CACHE_HOME/gst-whisper-npu/models`).
   * Loaded when the element goes to PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Whisper model: a path or a known name such as tiny.en",
          DEFAULT_MODEL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstWhisperEncNpu:backend:
   *
   * Where the encoder runs.  `auto` takes the NPU when the device opens,
   * every kernel it needs is in #GstWhisperEncNpu:kernel-dir and its
   * self-test passes, otherwise the CPU (the debug log says why), and
   * says which it took in #GstWhisperEncNpu:backend-in-use.  `npu` with
   * no usable NPU is an element error naming what is missing.  The NPU
   * computes in int8 (#GstWhisperEncNpu:compute-type `auto` or `int8`).
   */
  g_object_class_install_property (gobject_class, PROP_BACKEND,
      g_param_spec_enum ("backend", "Backend",
          "Where the encoder runs", GST_TYPE_WHISPER_BACKEND, DEFAULT_BACKEND,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "CPU threads for the encoder (0 = all cores)", 0, MAX_THREADS,
          DEFAULT_THREADS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstWhisperEncNpu:backend-in-use:
   *
   * The backend chosen when the element went to PAUSED (`cpu` or `npu`;
   * `cpu` after #GstWhisperEncNpu:npu-fallback moved the stream there),
   * or NULL while the element is in NULL or READY.
   */
  g_object_class_install_property (gobject_class, PROP_BACKEND_IN_USE,
      g_param_spec_string ("backend-in-use", "Backend in use",
          "The backend the encoder runs on (NULL when not started)", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstWhisperEncNpu:kernel-dir:
   *
   * The directory of the NPU kernels (the manifest.json that
   * kernels/aie/ builds).  NULL: $WHISPER_NPU_KERNEL_DIR, else the
   * installed kernels (docs/npu.md).
   */
  g_object_class_install_property (gobject_class, PROP_KERNEL_DIR,
      g_param_spec_string ("kernel-dir", "Kernel directory",
          "Directory of the NPU kernels and their manifest.json (NULL: "
          "$WHISPER_NPU_KERNEL_DIR, else the installed ones)",
          DEFAULT_KERNEL_DIR, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstWhisperEncNpu:npu-fallback:
   *
   * What a device failure while encoding does.  FALSE: an element error
   * (RESOURCE FAILED) that stops the stream.  TRUE: a warning,
   * and the CPU encodes that window and the rest of the stream in the
   * same int8 arithmetic.
   */
  g_object_class_install_property (gobject_class, PROP_NPU_FALLBACK,
      g_param_spec_boolean ("npu-fallback", "NPU fallback",
          "On an NPU failure while encoding, continue on the CPU (with a "
          "warning) instead of failing", DEFAULT_NPU_FALLBACK,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstWhisperEncNpu:int8-attention:
   *
   * With compute-type int8 on the CPU, compute the self-attention's
   * products (QK^T, PV) in int8 too, as the NPU always does: the CPU then
   * gives the NPU's output bit for bit.  FALSE: float32 attention on the
   * CPU, which is faster on every CPU measured, with AVX2 or AVX-512 VNNI
   * int8 kernels (docs/quantization.md).
   */
  g_object_class_install_property (gobject_class, PROP_INT8_ATTENTION,
      g_param_spec_boolean ("int8-attention", "int8 attention",
          "With compute-type int8 on the CPU, the attention's products in "
          "int8 too, as on the NPU (same output bits)",
          DEFAULT_INT8_ATTENTION, G_PARAM_READWRITE |
          GST_PARAM_MUTABLE_READY | G_PARAM_STATIC_STRINGS));

  /**
   * GstWhisperEncNpu:speech-gate:
   *
   * Least rise (dB) of some band's energy above its floor for a window to
   * be encoded and decoded.  Speech rises 20-60 dB above the pauses and
   * closures between sounds; digital silence, white noise and mains hum
   * stay within a few dB (docs/speech-gate.md has the measured figures).
   * Windows below it become GAP windows.  0 encodes every window.
   */
  g_object_class_install_property (gobject_class, PROP_SPEECH_GATE,
      g_param_spec_double ("speech-gate", "Speech gate",
          "Windows whose band energies rise less than this (dB) above their "
          "floor are silence or steady noise and are not transcribed "
          "(0 = transcribe every window)", 0.0, 100.0, DEFAULT_SPEECH_GATE,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstWhisperEncNpu:compute-type:
   *
   * The arithmetic of the matrix products, named as faster-whisper and
   * CTranslate2 name them: `float32`, `int8` (the projection weights in
   * int8, activations quantised per row, float32 elsewhere) or `bfloat16`
   * (the projections' weights and inputs in bfloat16, float32 sums; the
   * decoder stays float32); see docs/quantization.md.  `auto` takes, for
   * the encoder, the fastest type whose accuracy was measured to hold:
   * bfloat16 on CPUs with AVX-512 BF16, float32 on others, int8 on the
   * NPU; #GstWhisperEncNpu:compute-type-in-use says which.  The src caps carry the type
   * asked for: whisperdec decodes with it (resolving `auto` for its own
   * products) unless its own compute-type says otherwise.
   */
  g_object_class_install_property (gobject_class, PROP_COMPUTE_TYPE,
      g_param_spec_enum ("compute-type", "Compute type",
          "Arithmetic of the matrix products", GST_TYPE_WHISPER_COMPUTE_TYPE,
          DEFAULT_COMPUTE_TYPE, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  /**
   * GstWhisperEncNpu:compute-type-in-use:
   *
   * The compute type chosen when the element went to PAUSED (`float32`,
   * `bfloat16` or `int8`), or NULL while the element is in NULL or READY.
   */
  g_object_class_install_property (gobject_class, PROP_COMPUTE_TYPE_IN_USE,
      g_param_spec_string ("compute-type-in-use", "Compute type in use",
          "The compute type the encoder runs with (NULL when not started)",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_whisper_enc_npu_change_state);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Whisper encoder", "Filter/Converter/Audio",
      "Runs the Whisper audio encoder on 30 s windows of log-mel frames",
      WHISPER_ELEMENT_AUTHOR);

  gst_type_mark_as_plugin_api (GST_TYPE_WHISPER_BACKEND, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WHISPER_COMPUTE_TYPE, 0);
}

static void
gst_whisper_enc_npu_init (GstWhisperEncNpu * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_enc_npu_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_enc_npu_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_enc_npu_sink_query));
  gst_pad_set_activatemode_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_whisper_enc_npu_sink_activate_mode));
  /* accept any n-mels of the template, so that a mismatch with the model
   * reaches the CAPS event handler and is reported as such */
  GST_PAD_SET_ACCEPT_TEMPLATE (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_whisper_enc_npu_src_event));
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_whisper_enc_npu_src_query));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->model_name = g_strdup (DEFAULT_MODEL);
  self->backend = DEFAULT_BACKEND;
  self->kernel_dir = g_strdup (DEFAULT_KERNEL_DIR);
  self->npu_fallback = DEFAULT_NPU_FALLBACK;
  self->int8_attention = DEFAULT_INT8_ATTENTION;
  self->threads = DEFAULT_THREADS;
  self->compute_type = DEFAULT_COMPUTE_TYPE;
  self->speech_gate_db = DEFAULT_SPEECH_GATE;
  self->backend_in_use = NULL;

  self->frames = gst_adapter_new ();
  g_mutex_init (&self->seek_lock);
  g_cond_init (&self->seek_cond);
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
}

static void
gst_whisper_enc_npu_finalize (GObject * object)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (object);

  g_free (self->model_name);
  g_free (self->kernel_dir);
  g_object_unref (self->frames);
  g_mutex_clear (&self->seek_lock);
  g_cond_clear (&self->seek_cond);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_whisper_enc_npu_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_free (self->model_name);
      self->model_name = g_value_dup_string (value);
      break;
    case PROP_KERNEL_DIR:
      g_free (self->kernel_dir);
      self->kernel_dir = g_value_dup_string (value);
      break;
    case PROP_NPU_FALLBACK:
      self->npu_fallback = g_value_get_boolean (value);
      break;
    case PROP_INT8_ATTENTION:
      self->int8_attention = g_value_get_boolean (value);
      break;
    case PROP_BACKEND:
      self->backend = g_value_get_enum (value);
      break;
    case PROP_THREADS:
      self->threads = g_value_get_int (value);
      break;
    case PROP_SPEECH_GATE:
      self->speech_gate_db = g_value_get_double (value);
      break;
    case PROP_COMPUTE_TYPE:
      self->compute_type = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_whisper_enc_npu_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_name);
      break;
    case PROP_KERNEL_DIR:
      g_value_set_string (value, self->kernel_dir);
      break;
    case PROP_NPU_FALLBACK:
      g_value_set_boolean (value, self->npu_fallback);
      break;
    case PROP_INT8_ATTENTION:
      g_value_set_boolean (value, self->int8_attention);
      break;
    case PROP_BACKEND:
      g_value_set_enum (value, self->backend);
      break;
    case PROP_THREADS:
      g_value_set_int (value, self->threads);
      break;
    case PROP_BACKEND_IN_USE:
      g_value_set_string (value, self->backend_in_use);
      break;
    case PROP_SPEECH_GATE:
      g_value_set_double (value, self->speech_gate_db);
      break;
    case PROP_COMPUTE_TYPE:
      g_value_set_enum (value, self->compute_type);
      break;
    case PROP_COMPUTE_TYPE_IN_USE:
      g_value_set_string (value, self->compute_type_in_use);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------------ */
/* start / stop / reset */

/* Drop every held frame. */
static void
gst_whisper_enc_npu_clear_frames (GstWhisperEncNpu * self)
{
  gst_adapter_clear (self->frames);
  self->n_frames = 0;
}

/* Forget the frames and the pending seek: called from start and FLUSH_STOP,
 * with the stream lock held (or the pads inactive). */
static void
gst_whisper_enc_npu_reset (GstWhisperEncNpu * self)
{
  gst_whisper_enc_npu_clear_frames (self);
  self->window_start = 0;
  self->have_base = FALSE;
  self->base_pts = GST_CLOCK_TIME_NONE;
  self->base_offset = 0;
  self->discont = TRUE;
  self->until = G_MAXUINT64;

  g_mutex_lock (&self->seek_lock);
  self->seek_expected = FALSE;
  self->seek_received = FALSE;
  g_mutex_unlock (&self->seek_lock);
}

/* The engine's abort callback: a flush or a stop is under way (the
 * flag is written under seek_lock, read here without it). */
static gboolean
gst_whisper_enc_npu_cancelled (void *user_data)
{
  GstWhisperEncNpu *self = user_data;

  return g_atomic_int_get (&self->flushing) != 0;
}

/* Acquire the model from the registry and make the encoder. */
static gboolean
gst_whisper_enc_npu_start (GstWhisperEncNpu * self)
{
  gchar *name, *kernel_dir;
  whisper_encoder_params params = whisper_encoder_default_params ();
  const gchar *in_use, *ct_in_use;
  GError *err = NULL;
  whisper_model_info info;

  GST_OBJECT_LOCK (self);
  name = g_strdup (self->model_name);
  params.backend = self->backend;
  params.n_threads = self->threads;
  params.compute_type = self->compute_type;
  params.npu_fallback = self->npu_fallback;
  params.int8_attention = self->int8_attention;
  GST_OBJECT_UNLOCK (self);
  /* a flush or a stop ends a window's encoding within one product */
  params.abort_callback = gst_whisper_enc_npu_cancelled;
  params.abort_callback_user_data = self;

  if (name == NULL || name[0] == '\0')
    goto no_model;

  self->model_key = whisper_model_resolve (name, &err);
  if (self->model_key == NULL)
    goto model_error;
  self->model = whisper_model_registry_acquire (self->model_key, &err);
  if (self->model == NULL)
    goto model_error;

  info = whisper_model_get_info (self->model);
  if (info.n_mels != 80 && info.n_mels != 128)
    goto bad_model;
  if (info.n_audio_ctx != WHISPER_AUDIO_POSITIONS || info.n_audio_state <= 0)
    goto bad_model;

  GST_OBJECT_LOCK (self);
  kernel_dir = g_strdup (self->kernel_dir);
  GST_OBJECT_UNLOCK (self);
  params.npu_kernel_dir = kernel_dir;
  self->encoder = whisper_encoder_new (self->model, &params, &err);
  g_clear_pointer (&kernel_dir, g_free);
  if (self->encoder == NULL)
    goto encoder_error;
  in_use = whisper_backend_name (whisper_encoder_get_backend (self->encoder));
  if (whisper_encoder_get_device (self->encoder))
    GST_INFO_OBJECT (self, "NPU: %s",
        whisper_encoder_get_device (self->encoder));
  if (whisper_encoder_get_backend_reason (self->encoder))
    GST_INFO_OBJECT (self, "backend %s, not the NPU: %s",
        whisper_backend_name (params.backend),
        whisper_encoder_get_backend_reason (self->encoder));
  ct_in_use = whisper_compute_type_name (whisper_encoder_get_compute_type
      (self->encoder));

  self->n_state = info.n_audio_state;
  self->n_ctx = info.n_audio_ctx;
  self->gate = whisper_speech_gate_new (info.n_mels);

  GST_OBJECT_LOCK (self);
  self->n_mels = info.n_mels;
  self->backend_in_use = in_use;
  self->compute_type_in_use = ct_in_use;
  GST_OBJECT_UNLOCK (self);
  self->compute_type_asked = params.compute_type;

  GST_INFO_OBJECT (self, "model %s (%s, %s): n_mels %d, n_state %d, "
      "n_ctx %d; backend %s, compute type %s (asked: %s), %d threads", name,
      self->model_key, info.format ? info.format : "?", info.n_mels,
      self->n_state, self->n_ctx, in_use, ct_in_use,
      whisper_compute_type_name (params.compute_type),
      whisper_encoder_get_n_threads (self->encoder));

  self->caps_ok = FALSE;
  self->seek_queried = FALSE;
  self->seek_driven = FALSE;
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  gst_whisper_enc_npu_reset (self);
  g_mutex_lock (&self->seek_lock);
  g_atomic_int_set (&self->flushing, FALSE);
  g_mutex_unlock (&self->seek_lock);

  g_free (name);
  return TRUE;

  /* ERRORS */
no_model:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        (_("No Whisper model was set.")),
        ("the model property is empty"));
    g_free (name);
    return FALSE;
  }
model_error:
  {
    if (g_error_matches (err, WHISPER_ERROR,
            WHISPER_ERROR_NOT_FOUND)) {
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          (_("Could not find the Whisper model \"%s\"."), name),
          ("%s", err->message));
    } else if (g_error_matches (err, WHISPER_ERROR,
            WHISPER_ERROR_FORMAT)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          (_("\"%s\" is not a valid Whisper model."), name),
          ("%s", err->message));
    } else {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          (_("Could not read the Whisper model \"%s\"."), name),
          ("%s", err ? err->message : "unknown error"));
    }
    g_clear_error (&err);
    g_free (name);
    g_clear_pointer (&self->model_key, g_free);
    return FALSE;
  }
bad_model:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        (_("\"%s\" is not a valid Whisper model."), name),
        ("%s: n_mels %d (want 80 or 128), n_audio_ctx %d (want %d), "
            "n_audio_state %d", self->model_key, info.n_mels,
            info.n_audio_ctx, WHISPER_AUDIO_POSITIONS, info.n_audio_state));
    whisper_model_registry_release (self->model);
    self->model = NULL;
    g_clear_pointer (&self->model_key, g_free);
    g_free (name);
    return FALSE;
  }
encoder_error:
  if (g_error_matches (err, WHISPER_ERROR, WHISPER_ERROR_DEVICE)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        (_("Could not use the NPU.")),
        ("model %s, backend %s: %s", self->model_key,
            whisper_backend_name (params.backend), err->message));
  } else {
    GST_ELEMENT_ERROR (self, LIBRARY, INIT,
        (_("Could not set up the Whisper encoder.")),
        ("model %s, backend %s, compute type %s, %d threads: %s",
            self->model_key, whisper_backend_name (params.backend),
            whisper_compute_type_name (params.compute_type),
            params.n_threads, err ? err->message : "unknown error"));
  }
  g_clear_error (&err);
  whisper_model_registry_release (self->model);
  self->model = NULL;
  g_clear_pointer (&self->model_key, g_free);
  g_free (name);
  return FALSE;
}

static void
gst_whisper_enc_npu_stop (GstWhisperEncNpu * self)
{
  g_clear_pointer (&self->encoder, whisper_encoder_free);
  g_clear_pointer (&self->model, whisper_model_registry_release);
  g_clear_pointer (&self->model_key, g_free);
  g_clear_pointer (&self->gate, whisper_speech_gate_free);
  gst_whisper_enc_npu_clear_frames (self);
  self->caps_ok = FALSE;

  GST_OBJECT_LOCK (self);
  self->n_mels = 0;
  self->backend_in_use = NULL;
  self->compute_type_in_use = NULL;
  GST_OBJECT_UNLOCK (self);
}

/* Wake up a thread waiting for a seek event, or stop the window it
 * encodes (the abort callback); it returns FLUSHING. */
static void
gst_whisper_enc_npu_set_flushing (GstWhisperEncNpu * self, gboolean flushing)
{
  g_mutex_lock (&self->seek_lock);
  g_atomic_int_set (&self->flushing, flushing);
  if (flushing)
    g_cond_broadcast (&self->seek_cond);
  g_mutex_unlock (&self->seek_lock);
}

static GstStateChangeReturn
gst_whisper_enc_npu_change_state (GstElement * element,
    GstStateChange transition)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_whisper_enc_npu_start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* before the pads are deactivated, which waits for the stream lock */
      gst_whisper_enc_npu_set_flushing (self, TRUE);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (ret == GST_STATE_CHANGE_FAILURE)
        gst_whisper_enc_npu_stop (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_whisper_enc_npu_stop (self);
      whisper_element_release_memory (element);
      break;
    default:
      break;
  }

  return ret;
}

static gboolean
gst_whisper_enc_npu_sink_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;

  /* called before deactivation takes the stream lock: end any wait */
  gst_whisper_enc_npu_set_flushing (self, !active);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* windows */

/* Time of stream frame @frame: frames are 10 ms apart from the first
 * buffer's PTS. */
static GstClockTime
gst_whisper_enc_npu_frame_time (GstWhisperEncNpu * self, guint64 frame)
{
  GstClockTime d;

  if (!GST_CLOCK_TIME_IS_VALID (self->base_pts))
    return GST_CLOCK_TIME_NONE;
  if (frame >= self->base_offset)
    return self->base_pts + (frame - self->base_offset) *
        WHISPER_FRAME_DURATION;
  d = (self->base_offset - frame) * WHISPER_FRAME_DURATION;
  return self->base_pts > d ? self->base_pts - d : 0;
}

/* Whether downstream drives the windows with seek events, and its
 * streaming settings (ms; 0 latency: stream only with a live upstream). */
static gboolean
gst_whisper_enc_npu_ask_driver (GstWhisperEncNpu * self, guint * latency_ms,
    guint * step_ms)
{
  GstQuery *query = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty (WHISPER_SEEK_QUERY));
  gboolean driven = gst_pad_peer_query (self->srcpad, query);
  const GstStructure *s = gst_query_get_structure (query);

  *latency_ms = 0;
  *step_ms = WHISPER_DEFAULT_STEP_MS;
  if (driven && s) {
    gst_structure_get_uint (s, "latency", latency_ms);
    gst_structure_get_uint (s, "step", step_ms);
  }
  gst_query_unref (query);
  return driven;
}

/* Is the upstream live (its LATENCY answer)? */
static gboolean
gst_whisper_enc_npu_upstream_live (GstWhisperEncNpu * self)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;

  if (gst_pad_peer_query (self->sinkpad, query))
    gst_query_parse_latency (query, &live, NULL, NULL);
  gst_query_unref (query);
  return live;
}

/* Ask downstream whether it will drive the windows, and how. */
static void
gst_whisper_enc_npu_query_seek_driver (GstWhisperEncNpu * self)
{
  guint latency_ms, step_ms;

  self->seek_driven = gst_whisper_enc_npu_ask_driver (self, &latency_ms,
      &step_ms);
  self->seek_queried = TRUE;
  self->streaming = self->seek_driven && (latency_ms > 0
      || gst_whisper_enc_npu_upstream_live (self));
  self->step_frames = MAX (1, step_ms / 10);
  self->until = G_MAXUINT64;

  GST_INFO_OBJECT (self, "%s", !self->seek_driven ?
      "no seek driver downstream: windows advance by 3000 frames" :
      self->streaming ? "streaming: a window per step of new audio" :
      "downstream drives the windows with seek events");
}

/* Can a window go out: a full one, the held frames on drain, or
 * (streaming) the audio up to the frame the decoder asked for. */
static gboolean
gst_whisper_enc_npu_window_ready (GstWhisperEncNpu * self, gboolean drain)
{
  guint64 until;

  if (self->n_frames == 0)
    return FALSE;
  if (drain || self->n_frames >= WHISPER_WINDOW_FRAMES)
    return TRUE;
  if (!self->streaming)
    return FALSE;
  until = self->until == G_MAXUINT64 ?
      self->window_start + self->step_frames : self->until;
  return self->window_start + self->n_frames >= until;
}

/* Window timing: PTS of its first frame, OFFSET..OFFSET_END its real
 * frames, DISCONT on the first window of a run. */
static void
gst_whisper_enc_npu_stamp_window (GstWhisperEncNpu * self, GstBuffer * buf,
    guint64 n_real)
{
  GST_BUFFER_PTS (buf) =
      gst_whisper_enc_npu_frame_time (self, self->window_start);
  GST_BUFFER_DURATION (buf) = n_real * WHISPER_FRAME_DURATION;
  GST_BUFFER_OFFSET (buf) = self->window_start;
  GST_BUFFER_OFFSET_END (buf) = self->window_start + n_real;
  if (self->streaming)
    GST_BUFFER_FLAG_SET (buf, WHISPER_BUFFER_FLAG_STREAMING);
  if (self->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
}

/* Does the window of @n_real @frames at window_start hold speech?  Logs the
 * gate's contrast either way. */
static gboolean
gst_whisper_enc_npu_has_speech (GstWhisperEncNpu * self,
    const gfloat * frames, guint64 n_real)
{
  gdouble threshold;
  gfloat contrast;

  GST_OBJECT_LOCK (self);
  threshold = self->speech_gate_db;
  GST_OBJECT_UNLOCK (self);
  if (threshold <= 0.0)
    return TRUE;

  contrast = whisper_speech_gate_contrast (self->gate, frames, (int) n_real);
  GST_DEBUG_OBJECT (self, "window at frame %" G_GUINT64_FORMAT ", %"
      G_GUINT64_FORMAT " frames: speech gate contrast %.1f dB (threshold "
      "%.1f): %s", self->window_start, n_real, contrast, threshold,
      contrast >= threshold ? "speech" : "no speech, not encoded");
  return contrast >= threshold;
}

/* After npu-fallback moved the encoder to the CPU: the property, and a
 * warning saying why (once). */
static void
gst_whisper_enc_npu_check_fallback (GstWhisperEncNpu * self)
{
  const gchar *in_use =
      whisper_backend_name (whisper_encoder_get_backend (self->encoder));
  gboolean moved;

  GST_OBJECT_LOCK (self);
  moved = g_strcmp0 (in_use, self->backend_in_use) != 0;
  self->backend_in_use = in_use;
  GST_OBJECT_UNLOCK (self);
  if (moved) {
    GST_ELEMENT_WARNING (self, RESOURCE, FAILED,
        (_("The NPU failed; the CPU encodes the rest of the stream.")),
        ("window at frame %" G_GUINT64_FORMAT ": %s", self->window_start,
            whisper_encoder_get_backend_reason (self->encoder)));
    g_object_notify (G_OBJECT (self), "backend-in-use");
  }
}

/* Encode the window of @n_real @frames at window_start (the engine pads it
 * to 30 s) into a new buffer. */
static GstFlowReturn
gst_whisper_enc_npu_encode (GstWhisperEncNpu * self, const gfloat * frames,
    guint64 n_real, GstBuffer ** outbuf)
{
  GstBuffer *buf;
  GstMapInfo map;
  GError *err = NULL;
  gboolean ok;

  buf = gst_buffer_new_allocate (NULL,
      (gsize) self->n_ctx * self->n_state * sizeof (gfloat), NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  ok = whisper_encoder_encode_window (self->encoder, frames, (int) n_real,
      (gfloat *) map.data, &err);
  gst_buffer_unmap (buf, &map);
  if (!ok)
    goto encode_failed;
  gst_whisper_enc_npu_check_fallback (self);

  gst_whisper_enc_npu_stamp_window (self, buf, n_real);
  *outbuf = buf;
  return GST_FLOW_OK;

  /* ERRORS */
encode_failed:
  {
    /* a flush or a stop: no window, no error */
    if (g_error_matches (err, WHISPER_ERROR, WHISPER_ERROR_CANCELLED)) {
      GST_DEBUG_OBJECT (self, "window at frame %" G_GUINT64_FORMAT
          " cancelled", self->window_start);
      g_clear_error (&err);
      gst_buffer_unref (buf);
      return GST_FLOW_FLUSHING;
    }
    if (g_error_matches (err, WHISPER_ERROR, WHISPER_ERROR_DEVICE))
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
          (_("The NPU failed while encoding.")),
          ("window at frame %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
              " real frames): %s", self->window_start, n_real,
              err->message));
    else
      GST_ELEMENT_ERROR (self, STREAM, DECODE,
          (_("The Whisper encoder failed.")),
          ("window at frame %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
              " real frames): %s", self->window_start, n_real,
              err->message));
    g_clear_error (&err);
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
}

/* Move the window start to @next, dropping the frames before it. */
static void
gst_whisper_enc_npu_advance (GstWhisperEncNpu * self, guint64 next)
{
  guint64 drop = MIN (next - self->window_start, self->n_frames);

  gst_adapter_flush (self->frames, drop * self->n_mels * sizeof (gfloat));
  self->n_frames -= drop;
  self->window_start = next;
}

/* Emit the windows that can be formed: full ones, and with @drain also the
 * padded ones until every held frame is covered. */
static GstFlowReturn
gst_whisper_enc_npu_process (GstWhisperEncNpu * self, gboolean drain)
{
  GstFlowReturn ret = GST_FLOW_OK;

  if (!self->seek_queried && self->n_frames > 0)
    gst_whisper_enc_npu_query_seek_driver (self);

  while (gst_whisper_enc_npu_window_ready (self, drain)) {
    guint64 n_real = MIN (self->n_frames, WHISPER_WINDOW_FRAMES);
    guint64 start = self->window_start;
    /* streaming: more audio will come for this window's start */
    gboolean provisional = self->streaming && !drain
        && n_real < WHISPER_WINDOW_FRAMES;
    guint64 next, until = G_MAXUINT64;
    GstBuffer *outbuf = NULL;

    const gfloat *frames = gst_adapter_map (self->frames,
        n_real * self->n_mels * sizeof (gfloat));

    if (gst_whisper_enc_npu_has_speech (self, frames, n_real)) {
      ret = gst_whisper_enc_npu_encode (self, frames, n_real, &outbuf);
      gst_adapter_unmap (self->frames);
      if (ret != GST_FLOW_OK)
        break;
    } else {
      gst_adapter_unmap (self->frames);
      outbuf = gst_buffer_new ();
      GST_BUFFER_FLAG_SET (outbuf, GST_BUFFER_FLAG_GAP);
      gst_whisper_enc_npu_stamp_window (self, outbuf, n_real);
    }
    if (self->streaming && drain)
      GST_BUFFER_FLAG_SET (outbuf, WHISPER_BUFFER_FLAG_FINAL);

    GST_DEBUG_OBJECT (self, "window at frame %" G_GUINT64_FORMAT ", %"
        G_GUINT64_FORMAT " real frames, pts %" GST_TIME_FORMAT, start, n_real,
        GST_TIME_ARGS (GST_BUFFER_PTS (outbuf)));

    if (self->seek_driven) {
      g_mutex_lock (&self->seek_lock);
      self->seek_expected = TRUE;
      self->seek_received = FALSE;
      g_mutex_unlock (&self->seek_lock);
    }

    /* with the driver linked directly, the seek event arrives in here */
    ret = gst_pad_push (self->srcpad, outbuf);

    if (!self->seek_driven) {
      if (ret != GST_FLOW_OK)
        break;
      next = start + WHISPER_WINDOW_FRAMES;
    } else {
      g_mutex_lock (&self->seek_lock);
      if (ret == GST_FLOW_OK) {
        while (!self->seek_received && !self->flushing) {
          GST_DEBUG_OBJECT (self, "waiting for the seek event");
          g_cond_wait (&self->seek_cond, &self->seek_lock);
        }
        if (self->flushing)
          ret = GST_FLOW_FLUSHING;
      }
      next = self->seek_frame;
      until = self->seek_until;
      self->seek_expected = FALSE;
      self->seek_received = FALSE;
      g_mutex_unlock (&self->seek_lock);
      if (ret != GST_FLOW_OK)
        break;

      /* never go back (no endless loop), never past the window's frames;
       * a provisional window may stay where it is */
      if (next < start || next > start + n_real
          || (next == start && !provisional)) {
        GST_WARNING_OBJECT (self, "seek to frame %" G_GUINT64_FORMAT
            " outside (%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "], "
            "using the window end", next, start, start + n_real);
        next = start + n_real;
      }
    }
    GST_DEBUG_OBJECT (self, "next window at frame %" G_GUINT64_FORMAT, next);
    gst_whisper_enc_npu_advance (self, next);
    /* streaming: the next window waits for new audio beyond this one (a
     * step of it when the decoder did not say how much) */
    if (self->streaming)
      self->until = MAX (until == G_MAXUINT64 ? start + n_real +
          self->step_frames : until, start + n_real + 1);
  }

  return ret;
}

/* Cover every held frame with windows, then forget the time base (the
 * next buffer starts a new run). */
static GstFlowReturn
gst_whisper_enc_npu_drain (GstWhisperEncNpu * self)
{
  GstFlowReturn ret = GST_FLOW_OK;

  if (self->n_frames > 0)
    ret = gst_whisper_enc_npu_process (self, TRUE);
  gst_whisper_enc_npu_clear_frames (self);
  self->have_base = FALSE;
  return ret;
}

/* Start a run of contiguous frames at @offset, time @pts. */
static void
gst_whisper_enc_npu_rebase (GstWhisperEncNpu * self, guint64 offset,
    GstClockTime pts)
{
  if (!GST_CLOCK_TIME_IS_VALID (pts) && self->segment.format == GST_FORMAT_TIME
      && GST_CLOCK_TIME_IS_VALID (self->segment.start))
    pts = self->segment.start + offset * WHISPER_FRAME_DURATION;
  self->base_pts = pts;
  self->base_offset = offset;
  self->window_start = offset;
  gst_whisper_enc_npu_clear_frames (self);
  self->have_base = TRUE;
  self->discont = TRUE;
  GST_DEBUG_OBJECT (self, "run starts at frame %" G_GUINT64_FORMAT ", %"
      GST_TIME_FORMAT, offset, GST_TIME_ARGS (pts));
}

static GstFlowReturn
gst_whisper_enc_npu_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (parent);
  GstFlowReturn ret = GST_FLOW_OK;
  GstMapInfo map;
  gsize frame_bytes;
  guint64 n, offset, end;

  if (!self->caps_ok)
    goto not_negotiated;

  frame_bytes = (gsize) self->n_mels * sizeof (gfloat);
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    goto map_failed;
  if (map.size % frame_bytes != 0)
    goto bad_size;
  n = map.size / frame_bytes;

  end = self->window_start + self->n_frames;
  offset = GST_BUFFER_OFFSET (buf);
  if (!self->have_base) {
    gst_whisper_enc_npu_rebase (self,
        offset != GST_BUFFER_OFFSET_NONE ? offset : end, GST_BUFFER_PTS (buf));
  } else if (offset != GST_BUFFER_OFFSET_NONE && offset != end) {
    /* frames missing or repeated: finish the run, start a new one */
    GST_INFO_OBJECT (self, "discontinuity: frame %" G_GUINT64_FORMAT
        " expected, got %" G_GUINT64_FORMAT, end, offset);
    ret = gst_whisper_enc_npu_drain (self);
    if (ret != GST_FLOW_OK)
      goto done;
    gst_whisper_enc_npu_rebase (self, offset, GST_BUFFER_PTS (buf));
  }

  gst_buffer_unmap (buf, &map);
  if (n > 0) {
    gst_adapter_push (self->frames, buf);
    self->n_frames += n;
    return gst_whisper_enc_npu_process (self, FALSE);
  }
  gst_buffer_unref (buf);
  return GST_FLOW_OK;

done:
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  return ret;

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("mel frames before the caps"));
    gst_buffer_unref (buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
map_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL),
        ("could not map the input buffer"));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
bad_size:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        (_("The mel frames are malformed.")),
        ("buffer of %" G_GSIZE_FORMAT " bytes is not a whole number of "
            "%d-band float frames", map.size, self->n_mels));
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
}

/* ------------------------------------------------------------------------ */
/* events and queries */

static gboolean
gst_whisper_enc_npu_set_caps (GstWhisperEncNpu * self, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  GstCaps *srccaps;
  gint n_mels = 0, rate = 0;
  gboolean res;

  if (!gst_structure_get_int (s, "n-mels", &n_mels)
      || !gst_structure_get_int (s, "rate", &rate) || rate != 100)
    goto bad_caps;
  if (n_mels != self->n_mels)
    goto wrong_n_mels;

  srccaps = gst_caps_new_simple (WHISPER_ENCODED_MEDIA_TYPE,
      "model", G_TYPE_STRING, self->model_key,
      "compute-type", G_TYPE_STRING,
      whisper_compute_type_name (self->compute_type_asked),
      "n-state", G_TYPE_INT, self->n_state,
      "n-ctx", G_TYPE_INT, self->n_ctx,
      "n-mels", G_TYPE_INT, self->n_mels, NULL);
  GST_DEBUG_OBJECT (self, "src caps %" GST_PTR_FORMAT, srccaps);
  res = gst_pad_set_caps (self->srcpad, srccaps);
  gst_caps_unref (srccaps);
  self->caps_ok = res;
  return res;

  /* ERRORS */
bad_caps:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("invalid mel caps %" GST_PTR_FORMAT, caps));
    self->caps_ok = FALSE;
    return FALSE;
  }
wrong_n_mels:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        (_("The input has %d mel bands but the Whisper model needs %d."),
            n_mels, self->n_mels),
        ("upstream caps %" GST_PTR_FORMAT " have n-mels=%d, model %s has "
            "n_mels=%d", caps, n_mels, self->model_key, self->n_mels));
    self->caps_ok = FALSE;
    return FALSE;
  }
}

static gboolean
gst_whisper_enc_npu_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (parent);
  GstFlowReturn ret;

  GST_LOG_OBJECT (self, "event %" GST_PTR_FORMAT, event);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      /* downstream may be a different one: ask again */
      self->seek_queried = FALSE;
      break;
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gboolean res;

      gst_event_parse_caps (event, &caps);
      res = gst_whisper_enc_npu_set_caps (self, caps);
      gst_event_unref (event);
      return res;
    }
    case GST_EVENT_SEGMENT:{
      GstSegment segment;

      gst_event_copy_segment (event, &segment);
      if (segment.format != GST_FORMAT_TIME) {
        GST_WARNING_OBJECT (self, "%s segment, using a TIME segment",
            gst_format_get_name (segment.format));
        gst_event_unref (event);
        gst_segment_init (&segment, GST_FORMAT_TIME);
        event = gst_event_new_segment (&segment);
      }
      ret = gst_whisper_enc_npu_drain (self);
      if (ret == GST_FLOW_FLUSHING) {
        gst_event_unref (event);
        return FALSE;
      }
      self->segment = segment;
      break;
    }
    case GST_EVENT_EOS:
      ret = gst_whisper_enc_npu_drain (self);
      GST_DEBUG_OBJECT (self, "drained at EOS: %s", gst_flow_get_name (ret));
      if (ret == GST_FLOW_FLUSHING) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    case GST_EVENT_FLUSH_START:
      gst_whisper_enc_npu_set_flushing (self, TRUE);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_whisper_enc_npu_reset (self);
      gst_whisper_enc_npu_set_flushing (self, FALSE);
      break;
    case GST_EVENT_GAP:
      /* only when no frames wait for a window: the gap would otherwise
       * overtake them */
      if (self->n_frames > 0) {
        GST_LOG_OBJECT (self, "dropping gap, %" G_GUINT64_FORMAT
            " frames pending", self->n_frames);
        gst_event_unref (event);
        return TRUE;
      }
      break;
    default:
      break;
  }

  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_whisper_enc_npu_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *caps;
      gint n_mels;

      /* once the model is known, offer only its n-mels */
      caps = gst_pad_get_pad_template_caps (pad);
      GST_OBJECT_LOCK (self);
      n_mels = self->n_mels;
      GST_OBJECT_UNLOCK (self);
      if (n_mels > 0) {
        caps = gst_caps_make_writable (caps);
        gst_caps_set_simple (caps, "n-mels", G_TYPE_INT, n_mels, NULL);
      }
      return whisper_element_answer_caps_query (query, caps);
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
gst_whisper_enc_npu_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_UPSTREAM
      && gst_event_has_name (event, WHISPER_SEEK_EVENT)) {
    const GstStructure *s = gst_event_get_structure (event);
    guint64 frame, until;
    gboolean res = FALSE;

    if (!gst_structure_get_uint64 (s, "frame", &frame)) {
      /* still ends the wait (never hang): clamped to the window end */
      GST_WARNING_OBJECT (self, "seek event without a guint64 frame: %"
          GST_PTR_FORMAT ", taking the window end", s);
      frame = G_MAXUINT64;
    }

    if (!gst_structure_get_uint64 (s, "until", &until))
      until = G_MAXUINT64;
    g_mutex_lock (&self->seek_lock);
    if (self->seek_expected && !self->seek_received) {
      GST_DEBUG_OBJECT (self, "seek to frame %" G_GUINT64_FORMAT, frame);
      self->seek_frame = frame;
      self->seek_until = until;
      self->seek_received = TRUE;
      g_cond_broadcast (&self->seek_cond);
      res = TRUE;
    } else {
      GST_WARNING_OBJECT (self, "unexpected seek to frame %" G_GUINT64_FORMAT
          " (no window waiting for one), ignored", frame);
    }
    g_mutex_unlock (&self->seek_lock);
    gst_event_unref (event);
    return res;
  }

  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_whisper_enc_npu_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  GstWhisperEncNpu *self = GST_WHISPER_ENC_NPU (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      /* a window is pushed once its 30 s of frames are in (the
       * decoder-driven seek only moves the start earlier, so a window never
       * waits for more); streaming, every step: then whisperdec reports
       * the configured latency, which covers this element's part */
      guint latency_ms, step_ms;
      gboolean live, streaming;
      GstClockTime min, max, own;

      if (!gst_pad_peer_query (self->sinkpad, query))
        return FALSE;
      gst_query_parse_latency (query, &live, &min, &max);
      streaming = gst_whisper_enc_npu_ask_driver (self, &latency_ms, &step_ms)
          && (latency_ms > 0 || live);
      own = streaming ? 0 : WHISPER_WINDOW_LATENCY;
      min += own;
      if (GST_CLOCK_TIME_IS_VALID (max))
        max += own;
      GST_DEBUG_OBJECT (self, "latency: live %d, streaming %d, min %"
          GST_TIME_FORMAT, live, streaming, GST_TIME_ARGS (min));
      gst_query_set_latency (query, live, min, max);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}
