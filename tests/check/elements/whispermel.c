/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GstHarness tests for whispermel.
 *
 * Numerics against an independent reference are in tests/accuracy/mel_accuracy.py;
 * these tests check the streaming behaviour: caps, buffer-split invariance,
 * timestamps and offsets, EOS, flush/segment/discont/gap handling, bad input.
 */
#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#define RATE 16000
#define HOP 160
#define FRAME (GST_SECOND / 100)

static const gchar *F32_CAPS =
    "audio/x-raw, format=F32LE, rate=16000, channels=1, layout=interleaved";
static const gchar *S16_CAPS =
    "audio/x-raw, format=S16LE, rate=16000, channels=1, layout=interleaved";

/* ------------------------------------------------------------------------ */
/* helpers */

/* Deterministic speech-like test signal: two gliding tones with a syllable
 * envelope plus white noise (LCG), amplitude < 0.5. */
static float *
make_signal (gsize n, guint32 seed)
{
  float *x = g_new (float, n);
  guint32 s = seed;
  gsize i;

  for (i = 0; i < n; i++) {
    double t = (double) i / RATE;
    double env = 0.5 + 0.5 * sin (2 * G_PI * 3.0 * t);
    double f1 = 220.0 + 80.0 * sin (2 * G_PI * 0.7 * t);
    double v = 0.25 * env * sin (2 * G_PI * f1 * t)
        + 0.1 * env * sin (2 * G_PI * 2.7 * f1 * t);
    s = s * 1664525u + 1013904223u;
    v += 0.02 * ((double) (s >> 8) / (1 << 24) - 0.5);
    x[i] = (float) v;
  }
  return x;
}

static GstBuffer *
f32_buffer (const float *x, gsize n, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_memdup (x, n * sizeof (float));
  GST_BUFFER_PTS (buf) = pts;
  if (GST_CLOCK_TIME_IS_VALID (pts))
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (n, GST_SECOND,
        RATE);
  return buf;
}

static GstClockTime
samples_to_time (guint64 n)
{
  return gst_util_uint64_scale_int (n, GST_SECOND, RATE);
}

static GstHarness *
new_harness (const gchar * launch, const gchar * caps)
{
  GstHarness *h = gst_harness_new_parse (launch);
  gst_harness_set_src_caps_str (h, caps);
  return h;
}

/* Appends the data of buf to out and unrefs buf. */
static void
append_buffer (GByteArray * out, GstBuffer * buf)
{
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_byte_array_append (out, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
}

/* Appends every queued output buffer to out (if not NULL) and checks that
 * each holds whole frames with consistent timestamps and offsets.  Returns
 * the number of frames pulled. */
static guint64
pull_all (GstHarness * h, GByteArray * out, gint n_mels)
{
  GstBuffer *buf;
  guint64 n_frames = 0;

  while ((buf = gst_harness_try_pull (h))) {
    GstMapInfo map;
    gsize n;

    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless (map.size > 0);
    fail_unless_equals_int (map.size % (n_mels * sizeof (float)), 0);
    n = map.size / (n_mels * sizeof (float));
    fail_unless (GST_BUFFER_PTS_IS_VALID (buf));
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), n * FRAME);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf),
        GST_BUFFER_OFFSET (buf) + n);
    if (out)
      g_byte_array_append (out, map.data, map.size);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    n_frames += n;
  }
  return n_frames;
}

/* Whole stream through a fresh element, chunk samples per buffer (PTS set),
 * then EOS.  Returns all output bytes. */
static GByteArray *
run_split_launch (const gchar * launch, const float *x, gsize n, gsize chunk,
    gboolean s16)
{
  GstHarness *h = new_harness (launch, s16 ? S16_CAPS : F32_CAPS);
  GByteArray *out = g_byte_array_new ();
  guint64 expected_pts = 0, expected_offset = 0;
  gsize i;

  for (i = 0; i < n; i += chunk) {
    gsize m = MIN (chunk, n - i);
    GstBuffer *buf, *o;

    if (s16) {
      gint16 *v = g_new (gint16, m);
      gsize j;
      for (j = 0; j < m; j++)
        v[j] = (gint16) CLAMP (lrint (x[i + j] * 32768.0), -32768, 32767);
      buf = gst_buffer_new_wrapped (v, m * sizeof (gint16));
      GST_BUFFER_PTS (buf) = samples_to_time (i);
    } else {
      buf = f32_buffer (x + i, m, samples_to_time (i));
    }
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    while ((o = gst_harness_try_pull (h))) {
      gsize nf = gst_buffer_get_size (o) / (80 * sizeof (float));
      /* contiguous frames, first one DISCONT */
      fail_unless_equals_uint64 (GST_BUFFER_PTS (o), expected_pts);
      fail_unless_equals_uint64 (GST_BUFFER_OFFSET (o), expected_offset);
      fail_unless_equals_int (GST_BUFFER_IS_DISCONT (o), expected_offset == 0);
      fail_unless_equals_uint64 (GST_BUFFER_DURATION (o), nf * FRAME);
      expected_pts += nf * FRAME;
      expected_offset += nf;
      /* frames leave as soon as the hop allows: frame k needs 160k + 200 */
      fail_unless (expected_offset == ((i + m) - 200) / HOP + 1);
      append_buffer (out, o);
    }
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  pull_all (h, out, 80);
  fail_unless_equals_uint64 (out->len / (80 * sizeof (float)), n / HOP);
  gst_harness_teardown (h);
  return out;
}

static GByteArray *
run_split (const float *x, gsize n, gsize chunk, gboolean s16)
{
  return run_split_launch ("whispermel", x, n, chunk, s16);
}

static void
assert_bytes_equal (GByteArray * a, GByteArray * b)
{
  fail_unless_equals_int (a->len, b->len);
  fail_unless (memcmp (a->data, b->data, a->len) == 0,
      "outputs differ (not bit-identical)");
}

/* Pops the first message of the given type from the bus (or NULL). */
static GstMessage *
pop_message (GstBus * bus, GstMessageType type)
{
  return gst_bus_pop_filtered (bus, type);
}

/* ------------------------------------------------------------------------ */
/* caps */

/* What gst-inspect-1.0 shows: one author for the three elements, and no
 * made-up origin. */
GST_START_TEST (test_plugin_metadata)
{
  const gchar *names[] = { "whispermel", "whisperencnpu", "whisperdec" };
  const gchar *author = NULL;
  GstPlugin *plugin = gst_registry_find_plugin (gst_registry_get (),
      "whispernpu");

  fail_unless (plugin != NULL);
  fail_if (strstr (gst_plugin_get_origin (plugin), "example") != NULL,
      "origin %s", gst_plugin_get_origin (plugin));
  gst_object_unref (plugin);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    GstElementFactory *f = gst_element_factory_find (names[i]);
    const gchar *a;

    fail_unless (f != NULL, "%s", names[i]);
    a = gst_element_factory_get_metadata (f, GST_ELEMENT_METADATA_AUTHOR);
    fail_unless (a != NULL && *a, "%s has no author", names[i]);
    if (author == NULL)
      author = a;
    fail_unless_equals_string (a, author);
    gst_object_unref (f);
  }
}

GST_END_TEST;

GST_START_TEST (test_caps_accepted)
{
  const gchar *caps_list[] = { F32_CAPS, S16_CAPS };
  guint c;

  for (c = 0; c < G_N_ELEMENTS (caps_list); c++) {
    GstHarness *h = new_harness ("whispermel", caps_list[c]);
    GstCaps *caps;
    GstStructure *s;
    gint v;
    GstEvent *ev;

    /* sticky events downstream in order: stream-start, caps, segment */
    ev = gst_harness_pull_event (h);
    fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_START);
    gst_event_unref (ev);
    ev = gst_harness_pull_event (h);
    fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_CAPS);
    gst_event_unref (ev);
    ev = gst_harness_pull_event (h);
    fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_SEGMENT);
    gst_event_unref (ev);

    caps = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (caps != NULL);
    s = gst_caps_get_structure (caps, 0);
    fail_unless (gst_structure_has_name (s, "audio/x-whisper-mel"));
    fail_unless (gst_structure_get_int (s, "n-mels", &v));
    fail_unless_equals_int (v, 80);
    fail_unless (gst_structure_get_int (s, "rate", &v));
    fail_unless_equals_int (v, 100);
    gst_caps_unref (caps);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_caps_n_mels_128)
{
  GstHarness *h = new_harness ("whispermel n-mels=128", F32_CAPS);
  float *x = make_signal (1600, 1);
  GstCaps *caps;
  gint v;
  GByteArray *out = g_byte_array_new ();

  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "n-mels", &v));
  fail_unless_equals_int (v, 128);
  gst_caps_unref (caps);

  fail_unless_equals_int (gst_harness_push (h, f32_buffer (x, 1600, 0)),
      GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_uint64 (pull_all (h, out, 128), 10);
  fail_unless_equals_int (out->len, 10 * 128 * sizeof (float));
  g_byte_array_unref (out);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_n_mels_invalid_ignored)
{
  GstElement *e = gst_element_factory_make ("whispermel", NULL);
  gint v;

  g_object_set (e, "n-mels", 100, NULL);
  g_object_get (e, "n-mels", &v, NULL);
  fail_unless_equals_int (v, 80);
  g_object_set (e, "n-mels", 128, NULL);
  g_object_get (e, "n-mels", &v, NULL);
  fail_unless_equals_int (v, 128);
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_caps_refused)
{
  const gchar *bad[] = {
    "audio/x-raw, format=F32LE, rate=44100, channels=1, layout=interleaved",
    "audio/x-raw, format=F32LE, rate=16000, channels=2, layout=interleaved",
    "audio/x-raw, format=S32LE, rate=16000, channels=1, layout=interleaved",
    "audio/x-raw, format=F32LE, rate=16000, channels=1, "
        "layout=non-interleaved",
  };
  guint c;

  for (c = 0; c < G_N_ELEMENTS (bad); c++) {
    GstHarness *h = gst_harness_new ("whispermel");
    GstBus *bus = gst_bus_new ();
    GstMessage *msg;
    GError *err = NULL;
    gchar *debug = NULL;
    GstSegment seg;
    float x[320] = { 0 };

    gst_element_set_bus (h->element, bus);
    /* a refused sticky CAPS event may still be stored on the harness pad:
     * what matters is that no data gets through and the error is posted */
    gst_harness_push_event (h, gst_event_new_caps (gst_caps_from_string
            (bad[c])));
    gst_segment_init (&seg, GST_FORMAT_TIME);
    gst_harness_push_event (h, gst_event_new_segment (&seg));
    fail_unless_equals_int (gst_harness_push (h, f32_buffer (x, 320, 0)),
        GST_FLOW_NOT_NEGOTIATED);

    msg = pop_message (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no error message for %s", bad[c]);
    gst_message_parse_error (msg, &err, &debug);
    fail_unless (g_error_matches (err, GST_CORE_ERROR,
            GST_CORE_ERROR_NEGOTIATION));
    fail_unless (strstr (err->message, "audioconvert ! audioresample") != NULL,
        "error message does not suggest audioconvert ! audioresample: %s",
        err->message);
    /* said once, not once per buffer */
    gst_message_unref (msg);
    fail_unless (pop_message (bus, GST_MESSAGE_ERROR) == NULL);
    g_clear_error (&err);
    g_free (debug);

    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* numerics that can be computed by hand */

/* All-zero input: every mel energy is 0, clamped to 1e-10: exactly -10. */
GST_START_TEST (test_silence_is_minus_ten)
{
  float *x = g_new0 (float, 4000);
  GByteArray *out = run_split (x, 4000, 4000, FALSE);
  const float *v = (const float *) out->data;
  guint i;

  fail_unless_equals_int (out->len, (4000 / HOP) * 80 * sizeof (float));
  for (i = 0; i < out->len / sizeof (float); i++)
    fail_unless_equals_float (v[i], -10.0f);
  g_byte_array_unref (out);
  g_free (x);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* streaming */

GST_START_TEST (test_split_invariance)
{
  /* 3 s + 77 samples: N mod 160 = 77, the end reflection matters */
  const gsize n = 3 * RATE + 77;
  const gsize splits[] = { 1, 159, 160, 4096 };
  float *x = make_signal (n, 42);
  GByteArray *whole = run_split (x, n, n, FALSE);
  guint i;

  fail_unless_equals_int (whole->len / (80 * sizeof (float)), n / HOP);
  for (i = 0; i < G_N_ELEMENTS (splits); i++) {
    GByteArray *out = run_split (x, n, splits[i], FALSE);
    GST_INFO ("split %" G_GSIZE_FORMAT, splits[i]);
    assert_bytes_equal (whole, out);
    g_byte_array_unref (out);
  }
  g_byte_array_unref (whole);
  g_free (x);
}

GST_END_TEST;

/* Every length around the frame boundaries gives N / 160 frames, however
 * split. */
GST_START_TEST (test_frame_count)
{
  const gsize lengths[] = { 160, 199, 200, 201, 319, 320, 359, 360, 361,
    1119, 1120, 1121, 1159, 1160, 1161
  };
  float *x = make_signal (2000, 7);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (lengths); i++) {
    GByteArray *a = run_split (x, lengths[i], lengths[i], FALSE);
    GByteArray *b = run_split (x, lengths[i], 37, FALSE);
    fail_unless_equals_int (a->len / (80 * sizeof (float)), lengths[i] / HOP);
    assert_bytes_equal (a, b);
    g_byte_array_unref (a);
    g_byte_array_unref (b);
  }
  g_free (x);
}

GST_END_TEST;

/* S16LE input is s / 32768, exactly the F32LE path on those values. */
GST_START_TEST (test_s16_matches_f32)
{
  const gsize n = RATE + 500;
  float *x = make_signal (n, 3);
  GByteArray *a, *b;
  gsize i;

  for (i = 0; i < n; i++)       /* make x exactly representable in S16 */
    x[i] = (float) (lrint (x[i] * 32768.0) / 32768.0);
  a = run_split (x, n, 1000, TRUE);
  b = run_split (x, n, 1000, FALSE);
  assert_bytes_equal (a, b);
  g_byte_array_unref (a);
  g_byte_array_unref (b);
  g_free (x);
}

GST_END_TEST;

GST_START_TEST (test_frames_leave_early)
{
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  float *x = make_signal (1000, 5);

  /* frame 0 needs samples 0..199, and x[200] for the start reflection */
  gst_harness_push (h, f32_buffer (x, 200, 0));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  gst_harness_push (h, f32_buffer (x + 200, 1, samples_to_time (200)));
  fail_unless_equals_uint64 (pull_all (h, NULL, 80), 1);
  /* frame 1 is centred on sample 160 and needs samples up to 359 */
  gst_harness_push (h, f32_buffer (x + 201, 158, samples_to_time (201)));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  gst_harness_push (h, f32_buffer (x + 359, 1, samples_to_time (359)));
  fail_unless_equals_uint64 (pull_all (h, NULL, 80), 1);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_timestamps)
{
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  const GstClockTime start = 3 * GST_SECOND;
  float *x = make_signal (16000, 9);
  guint64 offset = 300, n_total = 0;
  GstBuffer *o;
  gsize i;

  for (i = 0; i < 16000; i += 1600)
    gst_harness_push (h, f32_buffer (x + i, 1600, start + samples_to_time
            (i)));
  gst_harness_push_event (h, gst_event_new_eos ());
  while ((o = gst_harness_try_pull (h))) {
    gsize nf = gst_buffer_get_size (o) / (80 * sizeof (float));
    /* frame i at segment start (0) + i x 10 ms */
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (o), offset);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (o), offset * FRAME);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (o), nf * FRAME);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (o), offset + nf);
    fail_unless_equals_int (GST_BUFFER_IS_DISCONT (o), offset == 300);
    offset += nf;
    n_total += nf;
    gst_buffer_unref (o);
  }
  fail_unless_equals_uint64 (n_total, 100);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_no_pts)
{
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  float *x = make_signal (4800, 11);
  GstBuffer *o;
  guint64 expect = 0;
  gsize i;

  /* first buffer without PTS: timed from the segment start (0) */
  for (i = 0; i < 4800; i += 480)
    gst_harness_push (h, f32_buffer (x + i, 480, GST_CLOCK_TIME_NONE));
  gst_harness_push_event (h, gst_event_new_eos ());
  while ((o = gst_harness_try_pull (h))) {
    fail_unless_equals_uint64 (GST_BUFFER_PTS (o), expect * FRAME);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (o), expect);
    expect = GST_BUFFER_OFFSET_END (o);
    gst_buffer_unref (o);
  }
  fail_unless_equals_uint64 (expect, 30);
  gst_harness_teardown (h);

  /* PTS on the first buffer only: the rest follow the sample count */
  h = new_harness ("whispermel", F32_CAPS);
  gst_harness_push (h, f32_buffer (x, 480, 5 * GST_SECOND));
  for (i = 480; i < 4800; i += 480)
    gst_harness_push (h, f32_buffer (x + i, 480, GST_CLOCK_TIME_NONE));
  gst_harness_push_event (h, gst_event_new_eos ());
  expect = 500;
  while ((o = gst_harness_try_pull (h))) {
    fail_unless_equals_uint64 (GST_BUFFER_PTS (o), expect * FRAME);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (o), expect);
    fail_unless_equals_int (GST_BUFFER_IS_DISCONT (o), expect == 500);
    expect = GST_BUFFER_OFFSET_END (o);
    gst_buffer_unref (o);
  }
  fail_unless_equals_uint64 (expect, 530);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_eos_flush)
{
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  float *x = make_signal (1120, 13);
  GstEvent *ev;

  /* 1120 = 7 x 160: 6 frames while streaming, the 7th needs the end
   * reflection and comes with EOS, before EOS */
  gst_harness_push (h, f32_buffer (x, 1120, 0));
  fail_unless_equals_uint64 (pull_all (h, NULL, 80), 6);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_uint64 (pull_all (h, NULL, 80), 1);
  while ((ev = gst_harness_try_pull_event (h))) {
    GstEventType t = GST_EVENT_TYPE (ev);
    gst_event_unref (ev);
    if (t == GST_EVENT_EOS)
      break;
  }
  fail_unless (ev != NULL, "EOS not forwarded");
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_empty_stream)
{
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  GstBus *bus = gst_bus_new ();
  GstEvent *ev;
  gboolean got_eos = FALSE;

  gst_element_set_bus (h->element, bus);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  while ((ev = gst_harness_try_pull_event (h))) {
    got_eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (got_eos);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  fail_unless (pop_message (bus, GST_MESSAGE_ERROR | GST_MESSAGE_WARNING)
      == NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Streams shorter than the reflect padding: no crash, N / 160 frames. */
GST_START_TEST (test_short_streams)
{
  const gsize lengths[] = { 1, 2, 100, 159, 160, 170, 199, 200 };
  float *x = make_signal (200, 17);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (lengths); i++) {
    GByteArray *out = run_split (x, lengths[i], 1, FALSE);
    const float *v = (const float *) out->data;
    guint j;
    fail_unless_equals_int (out->len / (80 * sizeof (float)),
        lengths[i] / HOP);
    for (j = 0; j < out->len / sizeof (float); j++)
      fail_unless (isfinite (v[j]) && v[j] >= -10.0f);
    g_byte_array_unref (out);
  }
  g_free (x);
}

GST_END_TEST;

GST_START_TEST (test_empty_buffers)
{
  const gsize n = RATE;
  float *x = make_signal (n, 19);
  GByteArray *ref = run_split (x, n, 1000, FALSE);
  GByteArray *out = g_byte_array_new ();
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  GstBuffer *o;
  gsize i;

  for (i = 0; i < n; i += 1000) {
    gst_harness_push (h, gst_buffer_new ());
    gst_harness_push (h, f32_buffer (x + i, MIN (1000, n - i),
            samples_to_time (i)));
    o = gst_buffer_new ();
    GST_BUFFER_PTS (o) = samples_to_time (i + 1000);
    gst_harness_push (h, o);
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  pull_all (h, out, 80);
  assert_bytes_equal (ref, out);
  g_byte_array_unref (ref);
  g_byte_array_unref (out);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_nonfinite)
{
  const gsize n = 2 * RATE;
  float *x = make_signal (n, 23);
  float *clean;
  GByteArray *ref, *out = g_byte_array_new ();
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  const float *v;
  gsize i;

  x[10] = NAN;
  x[5000] = INFINITY;
  x[20000] = -INFINITY;
  x[30000] = NAN;
  clean = g_memdup2 (x, n * sizeof (float));
  clean[10] = clean[5000] = clean[20000] = clean[30000] = 0.0f;
  ref = run_split (clean, n, n, FALSE);

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < n; i += 4000)
    gst_harness_push (h, f32_buffer (x + i, 4000, samples_to_time (i)));
  gst_harness_push_event (h, gst_event_new_eos ());
  pull_all (h, out, 80);
  assert_bytes_equal (ref, out);
  v = (const float *) out->data;
  for (i = 0; i < out->len / sizeof (float); i++)
    fail_unless (isfinite (v[i]));

  /* one warning, although 4 buffers had bad samples */
  msg = pop_message (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  fail_unless (pop_message (bus, GST_MESSAGE_WARNING) == NULL);
  fail_unless (pop_message (bus, GST_MESSAGE_ERROR) == NULL);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  g_byte_array_unref (ref);
  g_byte_array_unref (out);
  g_free (clean);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* NaN in a buffer without PTS: the warning names the stream position the
 * buffer was placed at (after 4000 samples: 0.25 s), not
 * GST_CLOCK_TIME_NONE printed as a time (99:99:99.999999999) */
GST_START_TEST (test_nonfinite_no_pts)
{
  const gsize n = 8000;
  float *x = make_signal (n, 24);
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  x[4100] = NAN;
  gst_element_set_bus (h->element, bus);
  gst_harness_push (h, f32_buffer (x, 4000, GST_CLOCK_TIME_NONE));
  gst_harness_push (h, f32_buffer (x + 4000, 4000, GST_CLOCK_TIME_NONE));
  gst_harness_push_event (h, gst_event_new_eos ());
  pull_all (h, NULL, 80);

  msg = pop_message (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, &debug);
  fail_unless (debug != NULL);
  GST_INFO ("warning debug: %s", debug);
  fail_if (strstr (debug, "99:99:99") != NULL, "%s", debug);
  fail_unless (strstr (debug, "without timestamp") != NULL, "%s", debug);
  fail_unless (strstr (debug, "0:00:00.250000000") != NULL, "%s", debug);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* events: flush, segment, discont, gap */

GST_START_TEST (test_flush_reset)
{
  const gsize n = RATE;
  float *x = make_signal (n, 29);
  GByteArray *ref = run_split (x, n, 1000, FALSE);
  GByteArray *out = g_byte_array_new ();
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  GstSegment seg;
  GstBuffer *o;
  gsize i;

  /* some other audio, then flush: it must leave no trace */
  gst_harness_push (h, f32_buffer (x + 3000, 1234, 7 * GST_SECOND));
  pull_all (h, NULL, 80);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  /* nothing of the flushed run came out at the flush */
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);

  for (i = 0; i < n; i += 1000)
    gst_harness_push (h, f32_buffer (x + i, MIN (1000, n - i),
            samples_to_time (i)));
  o = gst_harness_pull (h);
  fail_unless (GST_BUFFER_IS_DISCONT (o));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (o), 0);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (o), 0);
  append_buffer (out, o);
  gst_harness_push_event (h, gst_event_new_eos ());
  pull_all (h, out, 80);
  assert_bytes_equal (ref, out);

  g_byte_array_unref (out);
  g_byte_array_unref (ref);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A new SEGMENT (no flush) drains the run (end reflection), then restarts. */
GST_START_TEST (test_segment_reset)
{
  float *x = make_signal (4000, 31);
  GByteArray *ref_a = run_split (x, 1120, 1120, FALSE);
  GByteArray *ref_b = run_split (x + 1120, 2880, 2880, FALSE);
  GByteArray *out = g_byte_array_new ();
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  GstSegment seg;
  GstBuffer *o;

  gst_harness_push (h, f32_buffer (x, 1120, 0));
  fail_unless_equals_uint64 (pull_all (h, NULL, 80), 6);
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = seg.time = 10 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  /* the 7th frame of the first run came out with the new segment */
  fail_unless_equals_uint64 (pull_all (h, NULL, 80), 1);

  gst_harness_push (h, f32_buffer (x + 1120, 2880, 10 * GST_SECOND));
  o = gst_harness_pull (h);
  fail_unless (GST_BUFFER_IS_DISCONT (o));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (o), 10 * GST_SECOND);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (o), 0);
  gst_harness_push_event (h, gst_event_new_eos ());
  append_buffer (out, o);
  pull_all (h, out, 80);
  /* the second run is analysed as a stream of its own */
  assert_bytes_equal (ref_b, out);

  g_byte_array_unref (ref_a);
  g_byte_array_unref (ref_b);
  g_byte_array_unref (out);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Pulls everything and splits it into the run before the first DISCONT
 * after the start, and the rest. */
static void
pull_two_runs (GstHarness * h, GByteArray * a, GByteArray * b,
    GstClockTime * b_pts, guint64 * b_offset)
{
  GstBuffer *o;
  gboolean second = FALSE, first = TRUE;

  while ((o = gst_harness_try_pull (h))) {
    if (GST_BUFFER_IS_DISCONT (o) && !first && !second) {
      second = TRUE;
      *b_pts = GST_BUFFER_PTS (o);
      *b_offset = GST_BUFFER_OFFSET (o);
    } else if (!first) {
      fail_if (GST_BUFFER_IS_DISCONT (o));
    }
    first = FALSE;
    append_buffer (second ? b : a, o);
  }
  fail_unless (second, "no DISCONT output after the restart");
}

/* Pulls everything: it must be x[0, n_a) and x[n_a, n_a + n_b), each
 * analysed as a stream of its own, the second starting at b_pts, b_offset
 * (returned). */
static void
check_two_runs (GstHarness * h, const float *x, gsize n_a, gsize n_b,
    GstClockTime * b_pts, guint64 * b_offset)
{
  GByteArray *ref_a = run_split (x, n_a, n_a, FALSE);
  GByteArray *ref_b = run_split (x + n_a, n_b, n_b, FALSE);
  GByteArray *a = g_byte_array_new (), *b = g_byte_array_new ();

  pull_two_runs (h, a, b, b_pts, b_offset);
  assert_bytes_equal (ref_a, a);
  assert_bytes_equal (ref_b, b);
  g_byte_array_unref (ref_a);
  g_byte_array_unref (ref_b);
  g_byte_array_unref (a);
  g_byte_array_unref (b);
}

GST_START_TEST (test_timestamp_gap_restarts)
{
  float *x = make_signal (6000, 37);
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  GstClockTime b_pts = 0;
  guint64 b_offset = 0;

  /* 3000 samples at 0, then 3000 samples at 2 s (expected: 187.5 ms) */
  gst_harness_push (h, f32_buffer (x, 1500, 0));
  gst_harness_push (h, f32_buffer (x + 1500, 1500, samples_to_time (1500)));
  gst_harness_push (h, f32_buffer (x + 3000, 3000, 2 * GST_SECOND));
  gst_harness_push_event (h, gst_event_new_eos ());
  check_two_runs (h, x, 3000, 3000, &b_pts, &b_offset);
  fail_unless_equals_uint64 (b_pts, 2 * GST_SECOND);
  fail_unless_equals_uint64 (b_offset, 200);

  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A DISCONT buffer without PTS cannot be placed in time: new run, timed
 * where the last one ended. */
GST_START_TEST (test_discont_flag_restarts)
{
  float *x = make_signal (6000, 41);
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  GstBuffer *buf;
  GstClockTime b_pts = 0;
  guint64 b_offset = 0;

  gst_harness_push (h, f32_buffer (x, 3000, 0));
  buf = f32_buffer (x + 3000, 3000, GST_CLOCK_TIME_NONE);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  gst_harness_push (h, buf);
  gst_harness_push_event (h, gst_event_new_eos ());
  check_two_runs (h, x, 3000, 3000, &b_pts, &b_offset);
  fail_unless_equals_uint64 (b_pts, samples_to_time (3000));
  /* 187.5 ms rounds to frame 19 (offsets never go back: >= 18 sent) */
  fail_unless_equals_uint64 (b_offset, 19);

  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Pushes n samples of x in buffers of 1000 samples, buffer i at its true
 * time + 100 ms + jitter (i) (ns), each flagged DISCONT when discont_all,
 * then EOS; returns the concatenated output. */
static GByteArray *
run_jittered (GstHarness * h, const float *x, gsize n,
    GstClockTimeDiff (*jitter) (gsize i), gboolean discont_all)
{
  GByteArray *out = g_byte_array_new ();
  gsize i;

  for (i = 0; i < n; i += 1000) {
    GstBuffer *buf = f32_buffer (x + i, MIN (1000, n - i),
        samples_to_time (i) + 100 * GST_MSECOND + jitter (i / 1000));
    if (discont_all)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    gst_harness_push (h, buf);
  }
  gst_harness_push_event (h, gst_event_new_eos ());
  pull_all (h, out, 80);
  return out;
}

static GstClockTimeDiff
jitter_20ms (gsize i)
{
  /* +-20 ms, so that consecutive buffers even go back in time */
  return (i % 2 ? 20 : -20) * GST_MSECOND;
}

static GstClockTimeDiff
jitter_40ms_gap (gsize i)
{
  /* one 40 ms gap at the 5th buffer, then everything 40 ms late */
  return i >= 5 ? 40 * GST_MSECOND : 0;
}

static GstClockTimeDiff
jitter_41ms_gap (gsize i)
{
  return i >= 5 ? 41 * GST_MSECOND : 0;
}

/* Timestamp jitter within the tolerance (40 ms) does not restart: the
 * output is the single-run output, bit for bit, with DISCONT flags too. */
GST_START_TEST (test_small_jitter_continues)
{
  const gsize n = RATE;
  float *x = make_signal (n, 43);
  GByteArray *ref = run_split (x, n, 1000, FALSE);
  GstClockTimeDiff (*jitters[]) (gsize) = { jitter_20ms, jitter_40ms_gap };
  guint j, d;

  for (j = 0; j < G_N_ELEMENTS (jitters); j++) {
    for (d = 0; d < 2; d++) {
      GstHarness *h = new_harness ("whispermel", F32_CAPS);
      GByteArray *out = run_jittered (h, x, n, jitters[j], d);
      assert_bytes_equal (ref, out);
      g_byte_array_unref (out);
      gst_harness_teardown (h);
    }
  }
  g_byte_array_unref (ref);
  g_free (x);
}

GST_END_TEST;

/* Beyond the tolerance a gap restarts the run: a different output; with
 * tolerance=0 any jitter does, and with a larger tolerance the 41 ms gap
 * is absorbed again. */
GST_START_TEST (test_tolerance_property)
{
  const gsize n = RATE;
  float *x = make_signal (n, 47);
  GByteArray *ref = run_split (x, n, 1000, FALSE);
  GstHarness *h;
  GByteArray *out;
  GstElement *mel;
  guint64 tol = 0;

  h = new_harness ("whispermel", F32_CAPS);
  mel = gst_harness_find_element (h, "whispermel");
  g_object_get (mel, "tolerance", &tol, NULL);
  gst_object_unref (mel);
  fail_unless_equals_uint64 (tol, 40 * GST_MSECOND);
  out = run_jittered (h, x, n, jitter_41ms_gap, FALSE);
  fail_if (out->len == ref->len && memcmp (out->data, ref->data,
          ref->len) == 0, "a 41 ms gap did not restart the analysis");
  g_byte_array_unref (out);
  gst_harness_teardown (h);

  h = new_harness ("whispermel tolerance=0", F32_CAPS);
  out = run_jittered (h, x, n, jitter_20ms, FALSE);
  fail_if (out->len == ref->len && memcmp (out->data, ref->data,
          ref->len) == 0, "tolerance=0 absorbed 20 ms of jitter");
  g_byte_array_unref (out);
  gst_harness_teardown (h);

  h = new_harness ("whispermel tolerance=50000000", F32_CAPS);
  out = run_jittered (h, x, n, jitter_41ms_gap, FALSE);
  assert_bytes_equal (ref, out);
  g_byte_array_unref (out);
  gst_harness_teardown (h);

  g_byte_array_unref (ref);
  g_free (x);
}

GST_END_TEST;

GST_START_TEST (test_gap_forwarded)
{
  float *x = make_signal (3000, 47);
  GstHarness *h = new_harness ("whispermel", F32_CAPS);
  GstEvent *ev;
  GstClockTime ts = 0, dur = 0;
  gboolean got_gap = FALSE;
  GstBuffer *o;

  /* 1120 samples: 6 frames streaming; the GAP drains the 7th before it */
  gst_harness_push (h, f32_buffer (x, 1120, 0));
  fail_unless_equals_uint64 (pull_all (h, NULL, 80), 6);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_gap (samples_to_time (1120), GST_SECOND)));
  fail_unless_equals_uint64 (pull_all (h, NULL, 80), 1);
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      gst_event_parse_gap (ev, &ts, &dur);
      got_gap = TRUE;
    }
    gst_event_unref (ev);
  }
  fail_unless (got_gap);
  /* the drained frames end at 70 ms, before the gap's 70 ms start */
  fail_unless_equals_uint64 (ts, samples_to_time (1120));
  fail_unless_equals_uint64 (dur, GST_SECOND);

  /* audio after the gap, without PTS: timed from the gap's end */
  gst_harness_push (h, f32_buffer (x, 1600, GST_CLOCK_TIME_NONE));
  o = gst_harness_pull (h);
  fail_unless (GST_BUFFER_IS_DISCONT (o));
  fail_unless_equals_uint64 (GST_BUFFER_PTS (o), samples_to_time (1120) +
      GST_SECOND);
  gst_buffer_unref (o);
  g_free (x);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* end-padding=zeros: the last frames see silence after the last sample,
 * exactly like the same stream followed by silence (openai transcribe()). */
GST_START_TEST (test_end_padding_zeros)
{
  float *x = g_new0 (float, 1120 + 1000);
  float *sig = make_signal (1120, 53);
  GByteArray *zeros, *longer, *reflect;
  gsize frame = 80 * sizeof (float);

  memcpy (x, sig, 1120 * sizeof (float));
  zeros = run_split_launch ("whispermel end-padding=zeros", x, 1120, 100,
      FALSE);
  reflect = run_split (x, 1120, 100, FALSE);
  longer = run_split (x, 1120 + 1000, 100, FALSE);
  fail_unless_equals_int (zeros->len, 7 * frame);
  fail_unless (memcmp (zeros->data, longer->data, 7 * frame) == 0);
  /* frames 0-5 do not reach past the end; frame 6 does */
  fail_unless (memcmp (zeros->data, reflect->data, 6 * frame) == 0);
  fail_unless (memcmp (zeros->data + 6 * frame, reflect->data + 6 * frame,
          frame) != 0);
  g_byte_array_unref (zeros);
  g_byte_array_unref (reflect);
  g_byte_array_unref (longer);
  g_free (sig);
  g_free (x);
}

GST_END_TEST;

GST_START_TEST (test_latency)
{
  GstHarness *h = new_harness ("whispermel", F32_CAPS);

  gst_harness_set_upstream_latency (h, 20 * GST_MSECOND);
  /* 200 samples of look-ahead (12.5 ms) + one hop (10 ms) */
  fail_unless_equals_uint64 (gst_harness_query_latency (h),
      20 * GST_MSECOND + 22500 * GST_USECOND);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
whispermel_suite (void)
{
  Suite *s = suite_create ("whispermel");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_plugin_metadata);
  tcase_add_test (tc, test_caps_accepted);
  tcase_add_test (tc, test_caps_n_mels_128);
  tcase_add_test (tc, test_n_mels_invalid_ignored);
  tcase_add_test (tc, test_caps_refused);
  tcase_add_test (tc, test_silence_is_minus_ten);
  tcase_add_test (tc, test_split_invariance);
  tcase_add_test (tc, test_frame_count);
  tcase_add_test (tc, test_s16_matches_f32);
  tcase_add_test (tc, test_frames_leave_early);
  tcase_add_test (tc, test_timestamps);
  tcase_add_test (tc, test_no_pts);
  tcase_add_test (tc, test_eos_flush);
  tcase_add_test (tc, test_empty_stream);
  tcase_add_test (tc, test_short_streams);
  tcase_add_test (tc, test_empty_buffers);
  tcase_add_test (tc, test_nonfinite);
  tcase_add_test (tc, test_nonfinite_no_pts);
  tcase_add_test (tc, test_flush_reset);
  tcase_add_test (tc, test_segment_reset);
  tcase_add_test (tc, test_timestamp_gap_restarts);
  tcase_add_test (tc, test_discont_flag_restarts);
  tcase_add_test (tc, test_small_jitter_continues);
  tcase_add_test (tc, test_tolerance_property);
  tcase_add_test (tc, test_gap_forwarded);
  tcase_add_test (tc, test_end_padding_zeros);
  tcase_add_test (tc, test_latency);
  return s;
}

GST_CHECK_MAIN (whispermel);
