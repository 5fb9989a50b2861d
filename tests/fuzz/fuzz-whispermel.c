/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness of the audio path: whispermel (gst/gstwhispermel.c and
 * the front end models/frontend/mel.c) in a GstHarness, driven by the input
 * as a little program of operations:
 *
 *   buffer   N bytes of audio (any N, so also cut samples), with a PTS that
 *            follows on, jitters, jumps ahead (gap) or back (out of order),
 *            or none; DISCONT, GAP and DURATION from flag bits; the samples
 *            are the input's bytes (float32: also NaN, Inf, huge values)
 *   caps     F32LE, S16LE, or a rate/channels the element must refuse
 *   segment  a new TIME segment at some start
 *   flush    FLUSH_START + FLUSH_STOP
 *   gap      a GAP event
 *   eos      EOS, then a flush so that the stream can go on
 *   tolerance  the tolerance property
 *
 * Checked on every output buffer: whole frames of n-mels floats, DURATION
 * = frames x 10 ms, OFFSET_END - OFFSET = frames, OFFSET never going back.
 * The plugin is the build's (WHISPER_FUZZ_PLUGIN, set by meson).
 */
#include "fuzz-common.h"
#include <gst/gst.h>
#include <gst/check/gstharness.h>

#ifndef WHISPER_FUZZ_PLUGIN
#error "WHISPER_FUZZ_PLUGIN: path of the built plugin"
#endif

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

typedef struct {
  const uint8_t *p, *end;
} reader;

static guint
take (reader * r, int n)
{
  guint v = 0;
  for (int i = 0; i < n; i++)
    v = v << 8 | (r->p < r->end ? *r->p++ : 0);
  return v;
}

static const char *
caps_for (guint k)
{
  switch (k % 5) {
    case 0:
      return "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved";
    case 1:
      return "audio/x-raw,format=S16LE,rate=16000,channels=1,layout=interleaved";
    case 2:
      return "audio/x-raw,format=S16LE,rate=8000,channels=1,layout=interleaved";
    case 3:
      return "audio/x-raw,format=F32LE,rate=16000,channels=2,layout=interleaved";
    default:
      return "audio/x-raw,format=S32LE,rate=16000,channels=1,layout=interleaved";
  }
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *out = fuzz_corpus_out ();
  if (out) {
    /* op codes as below: 0 buffer (flags, pts step, length), 1 caps, ... */
    const uint8_t seeds[][24] = {
      { 0, 0, 0, 0x00, 0x00, 0x64, 0x0f, 0xa0 },
      { 1, 0, 0, 0x00, 0x00, 0x64, 0x01, 0x00, 0, 0x00, 0x00, 0x64, 0x01,
          0x00, 6 },
      { 0, 0, 1, 0x00, 0x00, 0x0a, 0x00, 0x41, 0, 0x04, 0x10, 0x00, 0x02,
          0x00, 4, 0x30 },
      { 0, 0, 2, 0x00, 0x00, 0x0a, 0x01, 0x00, 0, 0x08, 0x00, 0x00, 0x00,
          0x80, 7, 0, 0x10, 0x00, 0x00, 0x01, 0x00 },
      { 1, 0, 3, 0x00, 0x00, 0x0a, 0x00, 0x07, 5, 0, 0x02, 0x00, 0x00,
          0x20, 0x03, 1, 2 },
      { 0, 0, 0, 0x01, 0x7f, 0xff, 0x00, 0x20, 8, 0x00, 0x00, 0x00, 0x00,
          0x01, 0, 0, 0x00, 0x00, 0x00, 0x40 },
    };
    for (guint i = 0; i < G_N_ELEMENTS (seeds); i++)
      fuzz_corpus_add (out, i, -1, seeds[i], sizeof seeds[i]);
    exit (0);
  }
  /* only this plugin, and a registry that stays in memory */
  g_setenv ("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
  g_setenv ("GST_PLUGIN_PATH_1_0", "", TRUE);
  g_setenv ("GST_REGISTRY_FORK", "no", TRUE);
  char *reg = g_build_filename (fuzz_tmp_dir (), "registry.bin", NULL);
  g_setenv ("GST_REGISTRY_1_0", reg, TRUE);
  g_free (reg);
  gst_init (NULL, NULL);
  GError *error = NULL;
  GstPlugin *plugin = gst_plugin_load_file (WHISPER_FUZZ_PLUGIN, &error);
  if (!plugin) {
    fprintf (stderr, "fuzz-whispermel: %s\n", error->message);
    exit (2);
  }
  gst_object_unref (plugin);
  /* warnings (NaN input, refused caps) are expected: quiet */
  gst_debug_set_default_threshold (GST_LEVEL_NONE);
  return 0;
}

static void
check_output (GstHarness * h, guint64 * next_offset)
{
  GstBuffer *b;
  while ((b = gst_harness_try_pull (h))) {
    gsize size = gst_buffer_get_size (b);
    const gsize frame = 80 * sizeof (float);
    guint64 frames = size / frame;
    if (size % frame != 0 || size == 0
        || GST_BUFFER_OFFSET_END (b) - GST_BUFFER_OFFSET (b) != frames
        || GST_BUFFER_DURATION (b) != frames * 10 * GST_MSECOND
        || GST_BUFFER_OFFSET (b) < *next_offset) {
      fprintf (stderr, "fuzz-whispermel: bad output buffer %" GST_PTR_FORMAT
          " (%" G_GSIZE_FORMAT " bytes, previous end %" G_GUINT64_FORMAT
          ")\n", b, size, *next_offset);
      abort ();
    }
    *next_offset = GST_BUFFER_OFFSET_END (b);
    gst_buffer_unref (b);
  }
  GstEvent *e;
  while ((e = gst_harness_try_pull_event (h))) {
    /* a new segment may restart the frame count */
    if (GST_EVENT_TYPE (e) == GST_EVENT_SEGMENT
        || GST_EVENT_TYPE (e) == GST_EVENT_FLUSH_STOP)
      *next_offset = 0;
    gst_event_unref (e);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  reader r = { data, data + size };
  GstHarness *h = gst_harness_new ("whispermel");
  guint fmt = take (&r, 1) % 2;
  gst_harness_set_src_caps_str (h, caps_for (fmt));
  GstClockTime pts = 0;
  guint64 next_offset = 0;
  int bytes_per_sample = fmt == 0 ? 4 : 2;
  GstSegment seg;

  for (int n_ops = 0; r.p < r.end && n_ops < 64; n_ops++) {
    guint op = take (&r, 1) % 9;
    switch (op) {
      case 0:{
        guint flags = take (&r, 1);
        gint step_ms = (gint16) take (&r, 2);   /* from the expected PTS */
        gsize len = take (&r, 2) % 16384;
        gsize avail = r.end - r.p;
        GstBuffer *b = gst_buffer_new_allocate (NULL, len, NULL);
        GstMapInfo map;
        gst_buffer_map (b, &map, GST_MAP_WRITE);
        /* the input's bytes, repeated: long buffers from short inputs */
        for (gsize i = 0; i < len; i++)
          map.data[i] = avail ? r.p[i % avail] : (guint8) i;
        gst_buffer_unmap (b, &map);
        r.p += MIN (len, avail);
        switch (flags & 3) {
          case 0:              /* follows on */
            GST_BUFFER_PTS (b) = pts;
            break;
          case 1:              /* jitter, a gap or out of order */
            if (step_ms < 0 && (GstClockTime) (-step_ms) * GST_MSECOND > pts)
              GST_BUFFER_PTS (b) = 0;
            else
              GST_BUFFER_PTS (b) = pts + (gint64) step_ms * GST_MSECOND;
            break;
          case 2:              /* far ahead */
            GST_BUFFER_PTS (b) = pts + (guint64) (guint16) step_ms * GST_SECOND;
            break;
          default:             /* none */
            break;
        }
        if (flags & 4)
          GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DISCONT);
        if (flags & 8)
          GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_GAP);
        if (flags & 16)
          GST_BUFFER_DURATION (b) = gst_util_uint64_scale (len
              / bytes_per_sample, GST_SECOND, 16000);
        if (GST_BUFFER_PTS_IS_VALID (b))
          pts = GST_BUFFER_PTS (b);
        pts += gst_util_uint64_scale (len / bytes_per_sample, GST_SECOND,
            16000);
        gst_harness_push (h, b);
        break;
      }
      case 1:{
        guint k = take (&r, 1);
        gst_harness_set_src_caps_str (h, caps_for (k));
        if (k % 5 < 2)
          bytes_per_sample = k % 5 == 0 ? 4 : 2;
        break;
      }
      case 2:
        gst_segment_init (&seg, GST_FORMAT_TIME);
        seg.start = (guint64) take (&r, 2) * 10 * GST_MSECOND;
        seg.time = seg.start;
        gst_harness_push_event (h, gst_event_new_segment (&seg));
        pts = seg.start;
        break;
      case 3:
        gst_harness_push_event (h, gst_event_new_flush_start ());
        gst_harness_push_event (h, gst_event_new_flush_stop (TRUE));
        gst_segment_init (&seg, GST_FORMAT_TIME);
        gst_harness_push_event (h, gst_event_new_segment (&seg));
        pts = 0;
        break;
      case 4:{
        GstClockTime d = (GstClockTime) take (&r, 2) * GST_MSECOND;
        gst_harness_push_event (h, gst_event_new_gap (pts, d));
        pts += d;
        break;
      }
      case 5:
        gst_harness_push_event (h, gst_event_new_eos ());
        check_output (h, &next_offset);
        gst_harness_push_event (h, gst_event_new_flush_start ());
        gst_harness_push_event (h, gst_event_new_flush_stop (TRUE));
        gst_segment_init (&seg, GST_FORMAT_TIME);
        gst_harness_push_event (h, gst_event_new_segment (&seg));
        pts = 0;
        break;
      case 6:
        g_object_set (h->element, "tolerance",
            (guint64) take (&r, 2) * GST_MSECOND, NULL);
        break;
      case 7:
        g_object_set (h->element, "end-padding", (gint) take (&r, 1) % 2,
            NULL);
        break;
      default:
        /* a time-format segment in bytes: must be refused */
        gst_segment_init (&seg, GST_FORMAT_BYTES);
        gst_harness_push_event (h, gst_event_new_segment (&seg));
        gst_segment_init (&seg, GST_FORMAT_TIME);
        gst_harness_push_event (h, gst_event_new_segment (&seg));
        pts = 0;
        break;
    }
    check_output (h, &next_offset);
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  check_output (h, &next_offset);
  gst_harness_teardown (h);
  return 0;
}
