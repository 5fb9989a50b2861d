/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whisperencnpu: Whisper's audio encoder over 30 s windows of log-mel
 * frames, with the decoder-driven window seek of openai-whisper. */
#ifndef __GST_WHISPER_ENC_NPU_H__
#define __GST_WHISPER_ENC_NPU_H__

#include <gst/gst.h>
#include <gst/base/gstadapter.h>

#include "whisper.h"

G_BEGIN_DECLS

/* The engine's whisper_backend as a GEnum ("GstWhisperBackend") */
#define GST_TYPE_WHISPER_BACKEND (gst_whisper_backend_get_type ())
GType gst_whisper_backend_get_type (void);
/* The engine's whisper_compute_type as a GEnum ("GstWhisperComputeType") */
#define GST_TYPE_WHISPER_COMPUTE_TYPE (gst_whisper_compute_type_get_type ())
GType gst_whisper_compute_type_get_type (void);

#define GST_TYPE_WHISPER_ENC_NPU (gst_whisper_enc_npu_get_type ())
G_DECLARE_FINAL_TYPE (GstWhisperEncNpu, gst_whisper_enc_npu, GST,
    WHISPER_ENC_NPU, GstElement);

struct _GstWhisperEncNpu
{
  GstElement parent;

  /*< private > */
  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties, under the object lock */
  gchar *model_name;
  whisper_backend backend;
  gint threads;
  whisper_compute_type compute_type;
  gchar *kernel_dir;            /* NPU kernels, NULL: the default */
  gboolean npu_fallback;        /* on an NPU failure, go on on the CPU */
  gboolean int8_attention;      /* int8 attention on the CPU too */
  gdouble speech_gate_db;       /* least contrast of a decoded window */
  const gchar *backend_in_use;  /* static string, NULL when stopped */
  const gchar *compute_type_in_use;  /* static string, NULL when stopped */
  whisper_compute_type compute_type_asked;  /* at start: for the caps */

  /* engine, made in READY->PAUSED, freed in PAUSED->READY */
  whisper_model *model;
  whisper_encoder *encoder;
  gchar *model_key;             /* registry key (resolved path) */
  gint n_mels;                  /* M of the model */
  gint n_state;                 /* C of the model */
  gint n_ctx;                   /* A of the model (1500) */
  whisper_speech_gate *gate;    /* scratch of the speech gate */

  /* streaming state, under the sink pad's stream lock */
  gboolean caps_ok;             /* input caps accepted, src caps set */
  GstSegment segment;           /* input segment (TIME) */
  GstAdapter *frames;           /* float [n_frames][M] from window_start on */
  guint64 n_frames;             /* frames held */
  guint64 window_start;         /* stream index of the next window */
  gboolean have_base;           /* base_pts/base_offset known */
  GstClockTime base_pts;        /* time of stream frame base_offset */
  guint64 base_offset;
  gboolean discont;             /* mark next output DISCONT */
  gboolean seek_queried;        /* WHISPER_SEEK_QUERY sent */
  gboolean seek_driven;         /* ... and answered TRUE */
  gboolean streaming;           /* the streaming policy (docs/streaming.md) */
  guint64 step_frames;          /* streaming: new audio per window */
  guint64 until;                /* streaming: emit the next window once the
                                   audio reaches this frame; G_MAXUINT64:
                                   window_start + step_frames */

  /* pending seek, under seek_lock */
  GMutex seek_lock;
  GCond seek_cond;
  gint flushing;                /* wake up and return FLUSHING; also
                                   read atomically by the encoder's
                                   abort callback */
  gboolean seek_expected;       /* a window was pushed, no seek yet */
  gboolean seek_received;       /* seek_frame is valid */
  guint64 seek_frame;
  guint64 seek_until;           /* the event's "until", G_MAXUINT64 without */
};

GST_ELEMENT_REGISTER_DECLARE (whisperencnpu);

G_END_DECLS

#endif /* __GST_WHISPER_ENC_NPU_H__ */
