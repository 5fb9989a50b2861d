/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Caps, events and queries shared by the whisper elements.
 *
 * Data between the elements:
 *
 *  whispermel -> whisperencnpu: WHISPER_MEL_CAPS
 *    Each buffer holds whole frames, frame-major: float32 [n_frames][n_mels],
 *    raw log10 mel energies (clamped at 1e-10; NOT yet normalised: the
 *    max-8 clamp and (x+4)/4 happen per 30 s window in whisperencnpu).
 *    PTS = time of the first frame, DURATION = n_frames x 10 ms,
 *    OFFSET = stream index of the first frame (frame i of the stream is at
 *    segment start + i x 10 ms), OFFSET_END = OFFSET + n_frames.
 *
 *  whisperencnpu -> whisperdec: WHISPER_ENCODED_CAPS
 *    One buffer per 30 s window: float32 [n_ctx = 1500][n_state].
 *    PTS = time of the window's first frame; DURATION = real frames x 10 ms;
 *    OFFSET = stream frame index of the window start;
 *    OFFSET_END = OFFSET + number of real (non-padding) frames (<= 3000).
 *    Caps field "model" is the registry key of the loaded model (the
 *    resolved path): whisperdec acquires the same shared model with it.
 *    Caps field "compute-type" (string: "auto", "float32", "int8",
 *    "bfloat16") is the
 *    compute type the encoder was asked for: whisperdec decodes with it
 *    (resolving "auto" for the decoder) unless its own compute-type
 *    property is set.
 *
 *    Streaming (docs/streaming.md): every window is flagged
 *    WHISPER_BUFFER_FLAG_STREAMING; a window is emitted as soon as the
 *    audio reaches the frame the last seek event asked for ("until"), so
 *    it may hold fewer than 3000 real frames without being the last; the
 *    windows of the end of the stream (EOS) are flagged
 *    WHISPER_BUFFER_FLAG_FINAL.
 *
 *  whisperdec -> whisperencnpu (upstream): WHISPER_SEEK_EVENT
 *    Custom upstream event, structure WHISPER_SEEK_EVENT with field
 *    "frame" (guint64): the stream frame index where the next window starts;
 *    streaming: also "until" (guint64), the frame the audio must reach
 *    before that window is emitted (a window is never longer than 3000
 *    frames); "frame" may then equal the window's own start.
 *
 *  whisperencnpu -> downstream: WHISPER_SEEK_QUERY
 *    Custom query, answered TRUE by an element that will send
 *    WHISPER_SEEK_EVENT after every window (whisperdec), which also sets
 *    the fields "latency" (guint, ms: 0 = stream only when the upstream is
 *    live, with WHISPER_LIVE_LATENCY_MS) and "step" (guint, ms).  Without
 *    such an element the encoder advances by whole windows.
 */
#ifndef __WHISPER_CAPS_H__
#define __WHISPER_CAPS_H__

#include "whisper.h"

#define WHISPER_MEL_MEDIA_TYPE "audio/x-whisper-mel"
#define WHISPER_MEL_CAPS \
  WHISPER_MEL_MEDIA_TYPE ", n-mels = (int) { 80, 128 }, rate = (int) 100"

#define WHISPER_ENCODED_MEDIA_TYPE "application/x-whisper-encoded"
#define WHISPER_ENCODED_CAPS \
  WHISPER_ENCODED_MEDIA_TYPE ", " \
  "n-state = (int) [ 1, MAX ], n-ctx = (int) [ 1, MAX ], n-mels = (int) { 80, 128 }"
/* negotiated caps also carry: model = (string) <registry key>,
 * compute-type = (string) auto | float32 | int8 | bfloat16 */

#define WHISPER_SEEK_EVENT "whisper-seek"
#define WHISPER_SEEK_QUERY "whisper-seek-driver"
#define WHISPER_SEGMENT_EVENT "whisper-segment"
#define WHISPER_PARTIAL_EVENT "whisper-partial"

/* window buffer flags, whisperencnpu -> whisperdec */
#define WHISPER_BUFFER_FLAG_STREAMING GST_BUFFER_FLAG_LAST
#define WHISPER_BUFFER_FLAG_FINAL (GST_BUFFER_FLAG_LAST << 1)

/* streaming: the latency of latency=0 with a live upstream */
#define WHISPER_LIVE_LATENCY_MS 5000
#define WHISPER_DEFAULT_STEP_MS 1000
/* a streaming window without speech keeps this much of its end */
#define WHISPER_STREAM_KEEP_FRAMES 200

/* 10 ms per mel frame */
#define WHISPER_FRAME_DURATION (GST_SECOND / WHISPER_FRAMES_PER_SECOND)

#endif /* __WHISPER_CAPS_H__ */
