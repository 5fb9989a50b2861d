/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whisperdec: Whisper encoder output to timed UTF-8 text.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */
#ifndef __GST_WHISPER_DEC_H__
#define __GST_WHISPER_DEC_H__

#include <gst/gst.h>

#include "whisper.h"

G_BEGIN_DECLS

#define GST_TYPE_WHISPER_DEC (gst_whisper_dec_get_type ())
G_DECLARE_FINAL_TYPE (GstWhisperDec, gst_whisper_dec, GST, WHISPER_DEC,
    GstElement);

/**
 * GstWhisperDecTask:
 * @GST_WHISPER_DEC_TASK_TRANSCRIBE: write the text in the spoken language
 * @GST_WHISPER_DEC_TASK_TRANSLATE: translate the speech into English
 *   (multilingual models only)
 */
typedef enum
{
  GST_WHISPER_DEC_TASK_TRANSCRIBE = 0,
  GST_WHISPER_DEC_TASK_TRANSLATE = 1,
} GstWhisperDecTask;

#define GST_TYPE_WHISPER_DEC_TASK (gst_whisper_dec_task_get_type ())
GType gst_whisper_dec_task_get_type (void);

/**
 * GstWhisperDecOutput:
 * @GST_WHISPER_DEC_OUTPUT_SEGMENTS: one text buffer per Whisper segment
 * @GST_WHISPER_DEC_OUTPUT_WORDS: one text buffer per word, timed by the
 *   word timestamps
 */
typedef enum
{
  GST_WHISPER_DEC_OUTPUT_SEGMENTS = 0,
  GST_WHISPER_DEC_OUTPUT_WORDS = 1,
} GstWhisperDecOutput;

#define GST_TYPE_WHISPER_DEC_OUTPUT (gst_whisper_dec_output_get_type ())
GType gst_whisper_dec_output_get_type (void);

struct _GstWhisperDec
{
  GstElement parent;

  /* < private > */
  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties, protected by the object lock: the engine's parameters,
   * whose strings and token list point to the copies below */
  whisper_decode_params params;
  gchar *language;
  gchar *initial_prompt;
  gchar *suppress_tokens;       /* the property's text */
  GArray *suppress_ids;         /* parsed suppress_tokens (gint) */
  GstWhisperDecOutput output;
  gboolean word_timestamps;     /* the property; output=words implies them */
  guint latency_ms;             /* streaming bound; 0: stream only when live */
  guint step_ms;                /* streaming: new audio per re-decode */
  guint max_delay_ms;           /* max-observed-delay */

  /* streaming state (streaming thread only) */
  whisper_model *model;         /* shared, from the model registry */
  gchar *model_key;
  whisper_compute_type caps_compute_type;  /* the encoder's, from the caps */
  whisper_decoder *decoder;
  whisper_stream *stream;       /* the streaming policy over decoder */
  GstClockTime last_step_cost;  /* streaming: the last window's decode */
  gboolean partial_shown;       /* a non-empty partial result is out */
  gboolean degraded;            /* streaming fell behind: greedy */
  GstSegment segment;
  GstClockTime last_end;        /* end of the last text buffer or GAP pushed */
  GstClockTime input_end;       /* end of the real audio of the last window */
  gboolean discont;
  gchar *last_language;         /* language code of the last tag pushed */
  GstTagList *upstream_tags;    /* last stream tags from upstream */

  /* a flush or a stop asks a running decode to return (atomic) */
  gint cancel;

  /* live latency, protected by the object lock */
  gboolean upstream_live;
};

GST_ELEMENT_REGISTER_DECLARE (whisperdec);

G_END_DECLS
#endif /* __GST_WHISPER_DEC_H__ */
