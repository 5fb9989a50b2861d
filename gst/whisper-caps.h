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
 *  whisperdec -> whisperencnpu (upstream): WHISPER_SEEK_EVENT
 *    Custom upstream event, structure WHISPER_SEEK_EVENT with field
 *    "frame" (guint64): the stream frame index where the next window starts.
 *
 *  whisperencnpu -> downstream: WHISPER_SEEK_QUERY
 *    Custom query, answered TRUE by an element that will send
 *    WHISPER_SEEK_EVENT after every window (whisperdec).  Without such an
 *    element the encoder advances by whole windows.
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

/* 10 ms per mel frame */
#define WHISPER_FRAME_DURATION (GST_SECOND / WHISPER_FRAMES_PER_SECOND)

#endif /* __WHISPER_CAPS_H__ */
