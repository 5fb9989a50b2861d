/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* whispermel: Whisper's log-mel front end as a GStreamer element. */
#ifndef __GST_WHISPER_MEL_H__
#define __GST_WHISPER_MEL_H__

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include "whisper.h"

G_BEGIN_DECLS

#define GST_TYPE_WHISPER_MEL (gst_whisper_mel_get_type ())
G_DECLARE_FINAL_TYPE (GstWhisperMel, gst_whisper_mel, GST, WHISPER_MEL,
    GstElement);

struct _GstWhisperMel
{
  GstElement parent;

  /*< private > */
  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties, under the object lock */
  gint n_mels;
  whisper_mel_end_pad end_padding;
  GstClockTime tolerance;       /* jitter absorbed within a run (ns) */

  /* streaming state, under the sink pad's stream lock */
  whisper_mel *mel;              /* engine, made in READY->PAUSED */
  gint mel_n_mels;              /* n_mels of mel and of the src caps */
  gboolean is_s16;              /* input format (else F32LE) */
  gboolean caps_ok;             /* valid input caps received */
  gboolean caps_error_posted;   /* refused-caps error said once */
  GstSegment segment;           /* input segment (TIME) */

  /* current analysis run: frame k is at run_pts + k x 10 ms */
  gboolean run_active;          /* run_pts known, samples pushed */
  GstClockTime run_pts;
  guint64 run_offset;           /* OFFSET of the run's frame 0 */
  GstClockTime next_pts;        /* start of a new run without PTS */
  guint64 next_offset;
  gboolean pending_discont;     /* mark next output DISCONT */
  gboolean nonfinite_warned;    /* NaN/Inf warning posted */
  GstClockTime out_end;         /* end time of the last pushed frame */
};

GST_ELEMENT_REGISTER_DECLARE (whispermel);

G_END_DECLS

#endif /* __GST_WHISPER_MEL_H__ */
