/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GstHarness tests for whisperdec.
 *
 * The model is a small synthetic one (random weights, whisper-synth's
 * generator) written into a temporary CTranslate2 directory at start, or
 * the model named by the environment variable WHISPER_SYNTH_MODEL.  Its text
 * is garbage, which is fine: these tests check caps, timestamps, GAP
 * coverage, events, messages and the seek protocol, whatever the text.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "whisper-caps.h"
#include "whisper.h"
#include "model-write.h"

static const gchar *model_path;
static whisper_model *model;    /* held for the whole run: dims + sharing */
static gchar *multi_path;       /* multilingual synthetic model (3 languages) */

/* ------------------------------------------------------------------------ */
/* helpers */

static GstCaps *
encoded_caps (const gchar * key, gint n_state, gint n_ctx, gint n_mels)
{
  GstCaps *caps = gst_caps_new_simple (WHISPER_ENCODED_MEDIA_TYPE,
      "n-state", G_TYPE_INT, n_state,
      "n-ctx", G_TYPE_INT, n_ctx,
      "n-mels", G_TYPE_INT, n_mels, NULL);

  if (key)
    gst_caps_set_simple (caps, "model", G_TYPE_STRING, key, NULL);
  return caps;
}

static GstCaps *
model_caps (void)
{
  return encoded_caps (model_path, model->hp.n_audio_state,
      model->hp.n_audio_ctx, model->hp.n_mels);
}

/* Deterministic pseudo-random encoder output for one window. */
static GstBuffer *
window_buffer (guint64 offset, gint n_real, GstClockTime pts, guint seed)
{
  gsize n = (gsize) model->hp.n_audio_ctx * model->hp.n_audio_state;
  gfloat *data = g_new (gfloat, n);
  GRand *rand = g_rand_new_with_seed (seed);
  GstBuffer *buf;
  gsize i;

  for (i = 0; i < n; i++)
    data[i] = (gfloat) g_rand_double_range (rand, -1.0, 1.0);
  g_rand_free (rand);

  buf = gst_buffer_new_wrapped (data, n * sizeof (gfloat));
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = n_real * WHISPER_FRAME_DURATION;
  GST_BUFFER_OFFSET (buf) = offset;
  GST_BUFFER_OFFSET_END (buf) = offset + n_real;
  return buf;
}

/* What whisperdec pushed, in order: text buffers, GAPs, segment events. */
typedef struct
{
  GMutex lock;
  GList *items;                 /* GstMiniObject, in push order */
} Recorder;

static GstPadProbeReturn
record_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *r = user_data;
  GstMiniObject *obj = GST_PAD_PROBE_INFO_DATA (info);

  if (GST_IS_EVENT (obj)) {
    GstEvent *ev = GST_EVENT (obj);
    if (GST_EVENT_TYPE (ev) != GST_EVENT_GAP
        && GST_EVENT_TYPE (ev) != GST_EVENT_CUSTOM_DOWNSTREAM
        && GST_EVENT_TYPE (ev) != GST_EVENT_EOS)
      return GST_PAD_PROBE_OK;
  }
  g_mutex_lock (&r->lock);
  r->items = g_list_append (r->items, gst_mini_object_ref (obj));
  g_mutex_unlock (&r->lock);
  return GST_PAD_PROBE_OK;
}

/* The synthetic model's text is random bytes, mostly without letters:
 * skip-non-words=false keeps those segments for the timing tests. */
static GstHarness *
harness_new (Recorder * r)
{
  GstHarness *h = gst_harness_new ("whisperdec");

  g_object_set (h->element, "skip-non-words", FALSE, NULL);

  if (r) {
    GstPad *src = gst_element_get_static_pad (h->element, "src");
    g_mutex_init (&r->lock);
    r->items = NULL;
    gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, record_probe, r, NULL);
    gst_object_unref (src);
  }
  return h;
}

static void
recorder_clear (Recorder * r)
{
  g_list_free_full (r->items, (GDestroyNotify) gst_mini_object_unref);
  r->items = NULL;
  g_mutex_clear (&r->lock);
}

/* Pull the next upstream WHISPER_SEEK_EVENT and return its frame. */
static guint64
pull_seek_frame (GstHarness * h)
{
  GstEvent *ev;
  guint64 frame = G_MAXUINT64;

  while ((ev = gst_harness_try_pull_upstream_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_UPSTREAM
        && gst_event_has_name (ev, WHISPER_SEEK_EVENT)) {
      fail_unless (gst_structure_get_uint64 (gst_event_get_structure (ev),
              "frame", &frame));
      gst_event_unref (ev);
      break;
    }
    gst_event_unref (ev);
  }
  fail_if (frame == G_MAXUINT64, "no " WHISPER_SEEK_EVENT " event upstream");
  return frame;
}

/* Walks the recorded output from @t (the expected start of coverage) and
 * checks: each text buffer is preceded by its segment event with the same
 * start, end and text; buffers and GAPs are contiguous or move forward,
 * never overlap; returns the end of coverage.  Counts texts into @n_text. */
static GstClockTime
check_coverage (Recorder * r, GstClockTime t, gint * n_text,
    GstClockTime * first_gap_or_text)
{
  GList *l;
  const GstStructure *pending = NULL;

  *n_text = 0;
  if (first_gap_or_text)
    *first_gap_or_text = GST_CLOCK_TIME_NONE;
  for (l = r->items; l; l = l->next) {
    GstMiniObject *obj = l->data;

    if (GST_IS_EVENT (obj)) {
      GstEvent *ev = GST_EVENT (obj);

      if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
        GstClockTime ts, dur;

        fail_unless (pending == NULL, "GAP between segment event and text");
        gst_event_parse_gap (ev, &ts, &dur);
        fail_unless (GST_CLOCK_TIME_IS_VALID (ts));
        fail_unless (GST_CLOCK_TIME_IS_VALID (dur));
        fail_unless (dur > 0);
        fail_unless_equals_uint64 (ts, t);      /* GAPs are contiguous */
        if (first_gap_or_text && !GST_CLOCK_TIME_IS_VALID (*first_gap_or_text))
          *first_gap_or_text = ts;
        t = ts + dur;
      } else if (GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM
          && gst_event_has_name (ev, WHISPER_SEGMENT_EVENT)) {
        fail_unless (pending == NULL, "two segment events without text");
        pending = gst_event_get_structure (ev);
      }
    } else {
      GstBuffer *buf = GST_BUFFER (obj);
      GstMapInfo map;
      guint64 start, end;

      fail_unless (pending != NULL, "text buffer without segment event");
      fail_unless (GST_BUFFER_PTS_IS_VALID (buf));
      fail_unless (GST_BUFFER_DURATION_IS_VALID (buf));
      fail_unless (GST_BUFFER_PTS (buf) >= t, "text goes back in time");
      fail_unless (gst_structure_get_uint64 (pending, "start", &start));
      fail_unless (gst_structure_get_uint64 (pending, "end", &end));
      fail_unless_equals_uint64 (start, GST_BUFFER_PTS (buf));
      fail_unless_equals_uint64 (end - start, GST_BUFFER_DURATION (buf));
      fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
      fail_unless (map.size > 0);
      fail_unless (map.data[0] != ' ' && map.data[map.size - 1] != ' ',
          "text not trimmed");
      fail_unless (g_utf8_validate ((const gchar *) map.data, map.size, NULL));
      fail_unless (strlen (gst_structure_get_string (pending, "text"))
          == map.size);
      fail_unless (memcmp (gst_structure_get_string (pending, "text"),
              map.data, map.size) == 0);
      gst_buffer_unmap (buf, &map);
      if (first_gap_or_text && !GST_CLOCK_TIME_IS_VALID (*first_gap_or_text))
        *first_gap_or_text = GST_BUFFER_PTS (buf);
      /* a text may only start later than t if a GAP covered the hole:
       * the element always fills holes, so it starts exactly at t */
      fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), t);
      t = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
      pending = NULL;
      (*n_text)++;
    }
  }
  fail_unless (pending == NULL, "segment event without text");
  return t;
}

/* Collect whisper-segment element messages from @bus. */
static gint
count_segment_messages (GstBus * bus, GstClockTime window_start)
{
  GstMessage *msg;
  gint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    guint64 start, end, ws;
    gdouble d;

    if (gst_structure_has_name (s, WHISPER_SEGMENT_EVENT)) {
      fail_unless (gst_structure_get_uint64 (s, "start", &start));
      fail_unless (gst_structure_get_uint64 (s, "end", &end));
      fail_unless (end >= start);
      fail_unless (gst_structure_get_string (s, "text") != NULL);
      fail_unless (gst_structure_get_double (s, "avg-logprob", &d));
      fail_unless (d <= 0.0);
      fail_unless (gst_structure_get_double (s, "no-speech-prob", &d));
      fail_unless (d >= 0.0 && d <= 1.0);
      fail_unless (gst_structure_get_uint64 (s, "window-start", &ws));
      if (GST_CLOCK_TIME_IS_VALID (window_start))
        fail_unless_equals_uint64 (ws, window_start);
      n++;
    }
    gst_message_unref (msg);
  }
  return n;
}

static GstBus *
harness_bus (GstHarness * h)
{
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  return bus;
}

/* Expect one ERROR message of @domain/@code on @bus. */
static void
expect_error (GstBus * bus, GQuark domain, gint code)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  GError *err = NULL;
  gchar *dbg = NULL;

  fail_unless (msg != NULL, "no error message posted");
  gst_message_parse_error (msg, &err, &dbg);
  GST_INFO ("error: %s (%s)", err->message, dbg);
  fail_unless (err->domain == domain, "error domain %s",
      g_quark_to_string (err->domain));
  fail_unless_equals_int (err->code, code);
  fail_unless (dbg != NULL && *dbg != '\0', "no debug string");
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
}

/* Tear down @h and the bus harness_bus() gave it. */
static void
harness_teardown_bus (GstHarness * h, GstBus * bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

/* Greedy decoding (beam 1, no temperature fallback) of the test model. */
static void
harness_set_greedy_model (GstHarness * h)
{
  g_object_set (h->element, "beam-size", 1, "temperature-fallback", FALSE,
      NULL);
  gst_harness_set_src_caps (h, model_caps ());
}

/* @caps (taken) are refused with a NEGOTIATION error, and a window pushed
 * after them is not accepted. */
static void
check_caps_refused (GstCaps * caps)
{
  GstHarness *h = harness_new (NULL);
  GstBus *bus = harness_bus (h);

  gst_harness_set_src_caps (h, caps);
  expect_error (bus, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION);
  fail_unless (gst_harness_push (h, window_buffer (0, 100, 0, 1))
      != GST_FLOW_OK);
  harness_teardown_bus (h, bus);
}

/* ------------------------------------------------------------------------ */
/* caps */

GST_START_TEST (test_caps_src_is_utf8_text)
{
  GstHarness *h = harness_new (NULL);
  GstEvent *ev;
  GstCaps *caps;
  gboolean got_caps = FALSE;

  gst_harness_set_src_caps (h, model_caps ());
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
      gst_event_parse_caps (ev, &caps);
      fail_unless (gst_caps_is_equal (caps,
              gst_caps_from_string ("text/x-raw, format=(string)utf8")));
      got_caps = TRUE;
    }
    gst_event_unref (ev);
  }
  fail_unless (got_caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_caps_not_encoder_output)
{
  GstHarness *h = harness_new (NULL);
  GstBus *bus = harness_bus (h);

  gst_harness_set_src_caps_str (h,
      "audio/x-raw, format=F32LE, rate=16000, channels=1, layout=interleaved");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new_allocate (NULL,
              64, NULL)), GST_FLOW_NOT_NEGOTIATED);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  harness_teardown_bus (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_caps_without_model)
{
  GstHarness *h = harness_new (NULL);
  GstBus *bus = harness_bus (h);

  gst_harness_set_src_caps (h, encoded_caps (NULL, model->hp.n_audio_state,
          model->hp.n_audio_ctx, model->hp.n_mels));
  expect_error (bus, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION);
  fail_unless (gst_harness_push (h, window_buffer (0, 100, 0, 1))
      != GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  harness_teardown_bus (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_caps_unknown_model)
{
  check_caps_refused (encoded_caps ("/nonexistent/whisper-model",
          model->hp.n_audio_state, model->hp.n_audio_ctx, model->hp.n_mels));
}

GST_END_TEST;

GST_START_TEST (test_caps_n_state_mismatch)
{
  check_caps_refused (encoded_caps (model_path,
          model->hp.n_audio_state + 1, model->hp.n_audio_ctx,
          model->hp.n_mels));
}

GST_END_TEST;

GST_START_TEST (test_caps_n_mels_mismatch)
{
  GstHarness *h = harness_new (NULL);
  GstBus *bus = harness_bus (h);

  gst_harness_set_src_caps (h, encoded_caps (model_path,
          model->hp.n_audio_state, model->hp.n_audio_ctx,
          model->hp.n_mels == 80 ? 128 : 80));
  expect_error (bus, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION);
  harness_teardown_bus (h, bus);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* queries */

GST_START_TEST (test_seek_query_answered)
{
  GstHarness *h = harness_new (NULL);
  GstQuery *q = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty (WHISPER_SEEK_QUERY));
  GstQuery *other = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty ("something-else"));

  fail_unless (gst_pad_peer_query (h->srcpad, q));
  /* other custom queries go downstream (the harness does not answer) */
  fail_if (gst_pad_peer_query (h->srcpad, other));
  gst_query_unref (q);
  gst_query_unref (other);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* GstHarness answers LATENCY as live: replace that with a non-live
 * upstream of 2 s minimum latency. */
static gboolean
non_live_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gst_query_set_latency (query, FALSE, 2 * GST_SECOND, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return FALSE;
}

GST_START_TEST (test_latency_non_live)
{
  GstHarness *h = harness_new (NULL);
  GstQuery *q = gst_query_new_latency ();
  gboolean live;
  GstClockTime min, max;

  harness_set_greedy_model (h);
  gst_pad_set_query_function (h->srcpad, non_live_src_query);
  fail_unless_equals_int (gst_harness_push (h, window_buffer (0, 3000, 0, 7)),
      GST_FLOW_OK);
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  /* non-live: nothing added, even after a window was decoded */
  fail_if (live);
  fail_unless_equals_uint64 (min, 2 * GST_SECOND);
  fail_unless_equals_uint64 (max, GST_CLOCK_TIME_NONE);
  gst_query_unref (q);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A window flagged STREAMING (the encoder's streaming policy) */
static GstBuffer *
streaming_window (guint64 offset, gint n_real, GstClockTime pts, guint seed,
    gboolean final)
{
  GstBuffer *buf = window_buffer (offset, n_real, pts, seed);

  GST_BUFFER_FLAG_SET (buf, WHISPER_BUFFER_FLAG_STREAMING);
  if (final)
    GST_BUFFER_FLAG_SET (buf, WHISPER_BUFFER_FLAG_FINAL);
  return buf;
}

/* Live: the configured latency (5000 ms for 0) from the start, the same
 * after a window was decoded, and no LATENCY message ever; latency= set
 * makes a non-live pipeline stream with that bound. */
GST_START_TEST (test_latency_streaming)
{
  GstHarness *h = harness_new (NULL);
  GstClockTime upstream = 20 * GST_MSECOND;
  GstBus *bus = harness_bus (h);
  GstQuery *q;
  gboolean live;
  GstClockTime min, max;

  gst_harness_set_upstream_latency (h, upstream);
  harness_set_greedy_model (h);
  fail_unless_equals_uint64 (gst_harness_query_latency (h),
      upstream + 5 * GST_SECOND);
  fail_unless_equals_int (gst_harness_push (h, streaming_window (0, 200, 0, 7,
              FALSE)), GST_FLOW_OK);
  fail_unless_equals_uint64 (gst_harness_query_latency (h),
      upstream + 5 * GST_SECOND);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_LATENCY) == NULL);
  harness_teardown_bus (h, bus);

  h = harness_new (NULL);
  g_object_set (h->element, "latency", 5000, NULL);
  harness_set_greedy_model (h);
  gst_pad_set_query_function (h->srcpad, non_live_src_query);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_if (live);
  fail_unless_equals_uint64 (min, 7 * GST_SECOND);
  gst_query_unref (q);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A streaming window: the seek event keeps the start inside the window
 * and asks for a step more audio ("until"); whatever is pushed or posted
 * is final (whisper-segment, stable) or partial (whisper-partial, not
 * stable, never a buffer); the final window of the drain commits the rest
 * and moves past its start. */
GST_START_TEST (test_streaming_window)
{
  Recorder r;
  GstHarness *h = harness_new (&r);
  GstEvent *ev;
  guint64 frame = G_MAXUINT64, until = 0;
  GList *l;
  gint n_text = 0;

  g_object_set (h->element, "latency", 3000, "step", 1000, NULL);
  harness_set_greedy_model (h);
  fail_unless_equals_int (gst_harness_push (h, streaming_window (100, 300,
              GST_SECOND, 7, FALSE)), GST_FLOW_OK);
  while ((ev = gst_harness_try_pull_upstream_event (h))) {
    if (gst_event_has_name (ev, WHISPER_SEEK_EVENT)) {
      const GstStructure *s = gst_event_get_structure (ev);
      fail_unless (gst_structure_get_uint64 (s, "frame", &frame));
      fail_unless (gst_structure_get_uint64 (s, "until", &until));
    }
    gst_event_unref (ev);
  }
  fail_unless (frame >= 100 && frame <= 400);
  fail_unless_equals_uint64 (until, 400 + 100);

  fail_unless_equals_int (gst_harness_push (h, streaming_window (frame,
              (gint) (500 - frame), GST_SECOND + (frame - 100) * 10 *
              GST_MSECOND, 8, TRUE)), GST_FLOW_OK);
  frame = pull_seek_frame (h);
  fail_unless (frame > 100 && frame <= 500);

  g_mutex_lock (&r.lock);
  for (l = r.items; l; l = l->next) {
    if (GST_IS_BUFFER (l->data)) {
      n_text++;
    } else if (GST_EVENT_TYPE (l->data) == GST_EVENT_CUSTOM_DOWNSTREAM) {
      const GstStructure *s = gst_event_get_structure (l->data);
      gboolean stable = FALSE;
      fail_unless (gst_structure_get_boolean (s, "stable", &stable));
      if (gst_structure_has_name (s, WHISPER_SEGMENT_EVENT))
        fail_unless (stable);
      else
        fail_unless (gst_structure_has_name (s, WHISPER_PARTIAL_EVENT)
            && !stable);
    }
  }
  g_mutex_unlock (&r.lock);
  GST_INFO ("%d text buffers", n_text);
  recorder_clear (&r);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* windows */

/* One full window: segment event + message + text per segment, GAPs over
 * the rest, coverage from the window start up to the seek frame, and the
 * seek event upstream inside the window. */
GST_START_TEST (test_window_output_and_seek)
{
  Recorder r;
  GstHarness *h = harness_new (&r);
  GstBus *bus = harness_bus (h);
  GstClockTime pts = 5 * GST_SECOND, end, t_first;
  guint64 offset = 500, frame;
  gint n_text, n_msg;

  harness_set_greedy_model (h);
  fail_unless_equals_int (gst_harness_push (h, window_buffer (offset, 3000,
              pts, 1)), GST_FLOW_OK);

  frame = pull_seek_frame (h);
  fail_unless (frame > offset && frame <= offset + 3000);

  end = check_coverage (&r, pts, &n_text, &t_first);
  fail_unless_equals_uint64 (t_first, pts);
  fail_unless_equals_uint64 (end, pts + (frame - offset) *
      WHISPER_FRAME_DURATION);
  n_msg = count_segment_messages (bus, pts);
  fail_unless_equals_int (n_msg, n_text);
  GST_INFO ("%d segments, next window at frame %" G_GUINT64_FORMAT, n_text,
      frame);

  recorder_clear (&r);
  harness_teardown_bus (h, bus);
}

GST_END_TEST;

/* Windows following the seek frames, a partial last window, then EOS: the
 * output covers the whole input without overlap, EOS comes last. */
GST_START_TEST (test_windows_follow_seek_until_eos)
{
  Recorder r;
  GstHarness *h = harness_new (&r);
  guint64 total = 7000, start = 0, frame;
  GstClockTime end;
  gint n_text, i;
  GList *last;

  harness_set_greedy_model (h);
  for (i = 0; start < total; i++) {
    gint n_real = MIN (3000, total - start);

    fail_unless (i < 40, "windows do not advance");
    fail_unless_equals_int (gst_harness_push (h, window_buffer (start, n_real,
                start * WHISPER_FRAME_DURATION, 10 + i)), GST_FLOW_OK);
    frame = pull_seek_frame (h);
    fail_unless (frame > start && frame <= start + n_real);
    start = frame;
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  /* the last item is EOS, everything before it covers [0, total) */
  last = g_list_last (r.items);
  fail_unless (GST_IS_EVENT (last->data)
      && GST_EVENT_TYPE (last->data) == GST_EVENT_EOS);
  r.items = g_list_remove_link (r.items, last);
  gst_mini_object_unref (last->data);
  g_list_free (last);
  end = check_coverage (&r, 0, &n_text, NULL);
  fail_unless_equals_uint64 (end, total * WHISPER_FRAME_DURATION);

  recorder_clear (&r);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* skip-non-words (default TRUE): every text pushed has a letter or a
 * digit, and coverage stays contiguous. */
GST_START_TEST (test_skip_non_words)
{
  Recorder r;
  GstHarness *h = harness_new (&r);
  GstClockTime end;
  guint64 frame;
  gint n_text, n_words = 0, seed;
  GList *l;

  g_object_set (h->element, "beam-size", 1, "temperature-fallback", FALSE,
      "skip-non-words", TRUE, NULL);
  gst_harness_set_src_caps (h, model_caps ());
  frame = 0;
  for (seed = 0; seed < 3; seed++) {
    fail_unless_equals_int (gst_harness_push (h, window_buffer (frame, 3000,
                frame * WHISPER_FRAME_DURATION, 100 + seed)), GST_FLOW_OK);
    frame = pull_seek_frame (h);
  }
  end = check_coverage (&r, 0, &n_text, NULL);
  fail_unless_equals_uint64 (end, frame * WHISPER_FRAME_DURATION);
  for (l = r.items; l; l = l->next) {
    if (GST_IS_BUFFER (l->data)) {
      GstMapInfo map;
      gchar *t;
      const gchar *p;
      gboolean word = FALSE;

      gst_buffer_map (l->data, &map, GST_MAP_READ);
      t = g_strndup ((const gchar *) map.data, map.size);
      for (p = t; *p; p = g_utf8_next_char (p))
        word |= g_unichar_isalnum (g_utf8_get_char (p));
      fail_unless (word, "segment without words: \"%s\"", t);
      g_free (t);
      gst_buffer_unmap (l->data, &map);
      n_words++;
    }
  }
  fail_unless_equals_int (n_words, n_text);
  GST_INFO ("%d segments with words", n_words);
  recorder_clear (&r);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Pushes @buf (a window starting at @pts) and expects no text: the seek to
 * @seek_frame and one GAP from @pts to @end.  Tears down @h. */
static void
check_window_one_gap (GstHarness * h, Recorder * r, GstBuffer * buf,
    GstClockTime pts, guint64 seek_frame, GstClockTime end)
{
  GstClockTime covered;
  gint n_text;

  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  fail_unless_equals_uint64 (pull_seek_frame (h), seek_frame);
  covered = check_coverage (r, pts, &n_text, NULL);
  fail_unless_equals_int (n_text, 0);
  fail_unless_equals_int (g_list_length (r->items), 1);
  fail_unless_equals_uint64 (covered, end);
  recorder_clear (r);
  gst_harness_teardown (h);
}

/* A GAP window (silent audio) is not decoded: one GAP over its real audio,
 * the seek event at its end, no text. */
GST_START_TEST (test_gap_window)
{
  Recorder r;
  GstHarness *h = harness_new (&r);
  GstBuffer *buf;

  gst_harness_set_src_caps (h, model_caps ());
  buf = window_buffer (200, 2500, 2 * GST_SECOND, 5);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  check_window_one_gap (h, &r, buf, 2 * GST_SECOND, 2700, 27 * GST_SECOND);
}

GST_END_TEST;

/* The window's language goes downstream as a stream tag, merged with the
 * stream tags from upstream (a stream TAG event replaces the previous one);
 * later upstream tags keep the language. */
GST_START_TEST (test_language_tag)
{
  GstHarness *h = harness_new (NULL);
  GstEvent *ev;
  GstTagList *tags;
  gchar *lang = NULL, *title = NULL;

  harness_set_greedy_model (h);
  tags = gst_tag_list_new (GST_TAG_TITLE, "talk", NULL);
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  fail_unless (gst_harness_push_event (h, gst_event_new_tag (tags)));
  fail_unless_equals_int (gst_harness_push (h, window_buffer (0, 3000, 0, 9)),
      GST_FLOW_OK);

  ev = gst_pad_get_sticky_event (h->sinkpad, GST_EVENT_TAG, 0);
  fail_unless (ev != NULL);
  gst_event_parse_tag (ev, &tags);
  fail_unless (gst_tag_list_get_string (tags, GST_TAG_LANGUAGE_CODE, &lang));
  fail_unless_equals_string (lang, "en");       /* English-only model */
  fail_unless (gst_tag_list_get_string (tags, GST_TAG_TITLE, &title));
  fail_unless_equals_string (title, "talk");
  g_free (lang);
  g_free (title);
  gst_event_unref (ev);

  tags = gst_tag_list_new (GST_TAG_TITLE, "part 2", NULL);
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  fail_unless (gst_harness_push_event (h, gst_event_new_tag (tags)));
  ev = gst_pad_get_sticky_event (h->sinkpad, GST_EVENT_TAG, 0);
  gst_event_parse_tag (ev, &tags);
  fail_unless (gst_tag_list_get_string (tags, GST_TAG_LANGUAGE_CODE, &lang));
  fail_unless (gst_tag_list_get_string (tags, GST_TAG_TITLE, &title));
  fail_unless_equals_string (lang, "en");
  fail_unless_equals_string (title, "part 2");
  g_free (lang);
  g_free (title);
  gst_event_unref (ev);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The TIME segment is forwarded; non-TIME segments are errors. */
GST_START_TEST (test_segment_forwarded)
{
  GstHarness *h = harness_new (NULL);
  GstEvent *ev;
  GstSegment seg;
  gboolean got = FALSE;

  gst_harness_set_src_caps (h, model_caps ());
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = 3 * GST_SECOND;
  seg.position = seg.start;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT) {
      const GstSegment *s;
      gst_event_parse_segment (ev, &s);
      fail_unless_equals_int (s->format, GST_FORMAT_TIME);
      if (s->start == 3 * GST_SECOND)
        got = TRUE;
    }
    gst_event_unref (ev);
  }
  fail_unless (got);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_segment_not_time)
{
  GstHarness *h = harness_new (NULL);
  GstBus *bus = harness_bus (h);
  GstSegment seg;

  gst_harness_set_src_caps (h, model_caps ());
  gst_segment_init (&seg, GST_FORMAT_BYTES);
  gst_harness_push_event (h, gst_event_new_segment (&seg));
  expect_error (bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
  harness_teardown_bus (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_bad_window_size)
{
  GstHarness *h = harness_new (NULL);
  GstBus *bus = harness_bus (h);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 1000, NULL);

  gst_harness_set_src_caps (h, model_caps ());
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_OFFSET (buf) = 0;
  GST_BUFFER_OFFSET_END (buf) = 3000;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_ERROR);
  expect_error (bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
  harness_teardown_bus (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_bad_window_offsets)
{
  GstHarness *h = harness_new (NULL);
  GstBus *bus = harness_bus (h);
  GstBuffer *buf;

  gst_harness_set_src_caps (h, model_caps ());
  /* more real frames than a window holds */
  buf = window_buffer (0, 3000, 0, 1);
  GST_BUFFER_OFFSET_END (buf) = 3001;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_ERROR);
  expect_error (bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
  /* no offsets at all */
  buf = window_buffer (0, 3000, 0, 1);
  GST_BUFFER_OFFSET (buf) = GST_BUFFER_OFFSET_NONE;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_ERROR);
  expect_error (bus, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);
  harness_teardown_bus (h, bus);
}

GST_END_TEST;

/* After a flush the output may start earlier again (e.g. a seek back):
 * coverage restarts at the new window. */
GST_START_TEST (test_flush_resets)
{
  Recorder r;
  GstHarness *h = harness_new (&r);
  GstClockTime end, t_first;
  guint64 frame;
  gint n_text;
  GList *l;
  gboolean discont = FALSE;

  harness_set_greedy_model (h);
  fail_unless_equals_int (gst_harness_push (h, window_buffer (1000, 3000,
              10 * GST_SECOND, 3)), GST_FLOW_OK);
  pull_seek_frame (h);

  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  {
    GstSegment seg;
    gst_segment_init (&seg, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  }
  g_list_free_full (r.items, (GDestroyNotify) gst_mini_object_unref);
  r.items = NULL;

  fail_unless_equals_int (gst_harness_push (h, window_buffer (0, 2000, 0, 3)),
      GST_FLOW_OK);
  frame = pull_seek_frame (h);
  fail_unless (frame > 0 && frame <= 2000);
  end = check_coverage (&r, 0, &n_text, &t_first);
  fail_unless_equals_uint64 (t_first, 0);
  fail_unless_equals_uint64 (end, frame * WHISPER_FRAME_DURATION);
  /* the first text after the flush is DISCONT */
  for (l = r.items; l; l = l->next)
    if (GST_IS_BUFFER (l->data)) {
      discont = GST_BUFFER_FLAG_IS_SET (l->data, GST_BUFFER_FLAG_DISCONT);
      break;
    }
  fail_unless (n_text == 0 || discont);

  recorder_clear (&r);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Pushes window W1 (unless skip_first), then W2 (DISCONT when @discont),
 * greedy with previous-text conditioning; returns the text of W2's
 * buffers. */
static gchar *
text_of_second_window (gboolean skip_first, gboolean discont)
{
  GstHarness *h = harness_new (NULL);
  GString *all = g_string_new (NULL);
  GstBuffer *buf;

  harness_set_greedy_model (h);
  if (!skip_first) {
    fail_unless_equals_int (gst_harness_push (h, window_buffer (0, 3000, 0,
                21)), GST_FLOW_OK);
    pull_seek_frame (h);
    while ((buf = gst_harness_try_pull (h)))
      gst_buffer_unref (buf);
  }
  buf = window_buffer (3000, 3000, 30 * GST_SECOND, 22);
  if (discont)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  pull_seek_frame (h);
  while ((buf = gst_harness_try_pull (h))) {
    GstMapInfo map;
    gst_buffer_map (buf, &map, GST_MAP_READ);
    g_string_append_len (all, (const gchar *) map.data, map.size);
    g_string_append_c (all, '\n');
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
  return g_string_free (all, FALSE);
}

/* A DISCONT window (audio after a real gap) is decoded as the first window
 * of a stream: the text before the gap is not its prompt. */
GST_START_TEST (test_discont_window_restarts)
{
  gchar *fresh = text_of_second_window (TRUE, TRUE);
  gchar *after_gap = text_of_second_window (FALSE, TRUE);
  gchar *prompted = text_of_second_window (FALSE, FALSE);

  fail_unless_equals_string (after_gap, fresh);
  /* the test means something only if the prompt changes this window */
  fail_if (g_strcmp0 (prompted, fresh) == 0,
      "the previous text does not change the window: no test");
  g_free (fresh);
  g_free (after_gap);
  g_free (prompted);
}

GST_END_TEST;

/* The same model, the same window, the same settings: the same output
 * (decoding is deterministic), and the element shares the registry load. */
GST_START_TEST (test_deterministic)
{
  gchar *texts[2] = { NULL, NULL };
  guint64 frames[2];
  gint k;

  for (k = 0; k < 2; k++) {
    GstHarness *h = harness_new (NULL);
    GString *all = g_string_new (NULL);
    GstBuffer *buf;

    g_object_set (h->element, "beam-size", 2, NULL);
    gst_harness_set_src_caps (h, model_caps ());
    fail_unless_equals_int (gst_harness_push (h, window_buffer (0, 3000, 0,
                42)), GST_FLOW_OK);
    frames[k] = pull_seek_frame (h);
    while ((buf = gst_harness_try_pull (h))) {
      GstMapInfo map;
      gst_buffer_map (buf, &map, GST_MAP_READ);
      g_string_append_printf (all, "%" GST_TIME_FORMAT " ",
          GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
      g_string_append_len (all, (const gchar *) map.data, map.size);
      g_string_append_c (all, '\n');
      gst_buffer_unmap (buf, &map);
      gst_buffer_unref (buf);
    }
    texts[k] = g_string_free (all, FALSE);
    gst_harness_teardown (h);
  }
  fail_unless_equals_uint64 (frames[0], frames[1]);
  fail_unless_equals_string (texts[0], texts[1]);
  g_free (texts[0]);
  g_free (texts[1]);
}

GST_END_TEST;

/* Properties change between windows while streaming (MUTABLE_PLAYING):
 * greedy, then beam 8 with best-of 8 sampling, then without timestamps. */
GST_START_TEST (test_properties_change_while_streaming)
{
  Recorder r;
  GstHarness *h = harness_new (&r);
  guint64 frame = 0;
  gint i, n_text;
  GstClockTime end;

  harness_set_greedy_model (h);
  for (i = 0; i < 3; i++) {
    if (i == 1)
      g_object_set (h->element, "beam-size", 8, "best-of", 8,
          "temperature-fallback", TRUE, NULL);
    if (i == 2)
      g_object_set (h->element, "beam-size", 2, "without-timestamps", TRUE,
          "temperature-fallback", FALSE, NULL);
    fail_unless_equals_int (gst_harness_push (h, window_buffer (frame, 3000,
                frame * WHISPER_FRAME_DURATION, 20 + i)), GST_FLOW_OK);
    frame = pull_seek_frame (h);
  }
  end = check_coverage (&r, 0, &n_text, NULL);
  fail_unless_equals_uint64 (end, frame * WHISPER_FRAME_DURATION);
  recorder_clear (&r);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* multilingual model: language detection, forced language, translate */

static GstCaps *
multi_caps (void)
{
  return encoded_caps (multi_path, model->hp.n_audio_state,
      model->hp.n_audio_ctx, model->hp.n_mels);
}

GST_START_TEST (test_multilingual_detect)
{
  GstHarness *h = harness_new (NULL);
  GstEvent *ev;
  GstTagList *tags;
  gchar *lang = NULL;

  g_object_set (h->element, "beam-size", 1, "temperature-fallback", FALSE,
      NULL);
  gst_harness_set_src_caps (h, multi_caps ());
  fail_unless_equals_int (gst_harness_push (h, window_buffer (0, 3000, 0, 4)),
      GST_FLOW_OK);
  pull_seek_frame (h);
  ev = gst_pad_get_sticky_event (h->sinkpad, GST_EVENT_TAG, 0);
  fail_unless (ev != NULL);
  gst_event_parse_tag (ev, &tags);
  fail_unless (gst_tag_list_get_string (tags, GST_TAG_LANGUAGE_CODE, &lang));
  /* the first three of Whisper's languages */
  fail_unless (g_strv_contains ((const gchar *[]) {"en", "zh", "de", NULL},
          lang), "detected %s", lang);
  g_free (lang);
  gst_event_unref (ev);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_multilingual_forced_and_translate)
{
  GstHarness *h = gst_harness_new_parse ("whisperdec beam-size=1 "
      "temperature-fallback=false language=de task=translate");
  GstEvent *ev;
  GstTagList *tags;
  gchar *lang = NULL;

  gst_harness_set_src_caps (h, multi_caps ());
  fail_unless_equals_int (gst_harness_push (h, window_buffer (0, 3000, 0, 4)),
      GST_FLOW_OK);
  pull_seek_frame (h);
  ev = gst_pad_get_sticky_event (h->sinkpad, GST_EVENT_TAG, 0);
  fail_unless (ev != NULL);
  gst_event_parse_tag (ev, &tags);
  fail_unless (gst_tag_list_get_string (tags, GST_TAG_LANGUAGE_CODE, &lang));
  fail_unless_equals_string (lang, "de");
  g_free (lang);
  gst_event_unref (ev);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_multilingual_unknown_language)
{
  GstHarness *h = gst_harness_new_parse ("whisperdec beam-size=1 "
      "language=tlh");
  GstBus *bus = harness_bus (h);

  gst_harness_set_src_caps (h, multi_caps ());
  fail_unless_equals_int (gst_harness_push (h, window_buffer (0, 3000, 0, 4)),
      GST_FLOW_ERROR);
  expect_error (bus, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS);
  harness_teardown_bus (h, bus);
}

GST_END_TEST;

static void remove_dir (const gchar * path);

/* A multilingual model with a text context of @n_text_ctx positions,
 * written under a new temporary directory (*tmp_dir, for remove_dir). */
static gchar *
small_context_model (gint n_text_ctx, gchar ** tmp_dir)
{
  whisper_synth_params p = whisper_synth_params_default ();
  GError *err = NULL;
  whisper_model *m;
  gchar *path;

  *tmp_dir = g_dir_make_tmp ("whisperdec-ctx-XXXXXX", &err);
  fail_unless (*tmp_dir != NULL);
  p.n_langs = 3;
  p.n_text_ctx = n_text_ctx;
  m = whisper_model_synthetic (&p, &err);
  fail_unless (m != NULL, "%s", err ? err->message : "");
  path = g_build_filename (*tmp_dir, "ct2", NULL);
  fail_unless (whisper_model_save_ct2 (m, path, WHISPER_SAVE_F32, &err),
      "%s", err ? err->message : "");
  whisper_model_free (m);
  return path;
}

/* Push @n windows of that model through whisperdec with @props; TRUE when
 * every one decoded, else the model was refused at the caps: one
 * STREAM/FORMAT error naming the text context, no buffer decoded. */
static gboolean
small_context_run (const gchar * path, const gchar * props, gint n)
{
  gchar *launch = g_strdup_printf ("whisperdec beam-size=1 "
      "temperature-fallback=false skip-non-words=false %s", props);
  GstHarness *h = gst_harness_new_parse (launch);
  GstBus *bus = harness_bus (h);
  GstMessage *msg;
  GError *err = NULL;
  gboolean decoded = TRUE;
  gint i;

  gst_harness_set_src_caps (h, encoded_caps (path, model->hp.n_audio_state,
          model->hp.n_audio_ctx, model->hp.n_mels));
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg) {
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    GST_INFO ("refused: %s (%s)", err->message, dbg);
    fail_unless (err->domain == GST_STREAM_ERROR, "%s",
        g_quark_to_string (err->domain));
    fail_unless_equals_int (err->code, GST_STREAM_ERROR_FORMAT);
    fail_unless (strstr (err->message, "text context") != NULL);
    fail_unless (dbg != NULL && strstr (dbg, "text context") != NULL);
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
    /* the sticky caps go again with the buffer: refused again, the same
     * error; nothing decoded */
    fail_unless (gst_harness_push (h, window_buffer (0, 3000, 0, 5))
        != GST_FLOW_OK);
    fail_unless_equals_int (gst_harness_buffers_received (h), 0);
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
      gst_message_parse_error (msg, &err, NULL);
      fail_unless (g_error_matches (err, GST_STREAM_ERROR,
              GST_STREAM_ERROR_FORMAT), "%s", err->message);
      g_clear_error (&err);
      gst_message_unref (msg);
    }
    decoded = FALSE;
  } else {
    for (i = 0; i < n; i++)
      fail_unless_equals_int (gst_harness_push (h, window_buffer (3000 * i,
                  3000, i * 30 * GST_SECOND, 5 + i)), GST_FLOW_OK);
    fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  }
  harness_teardown_bus (h, bus);
  g_free (launch);
  return decoded;
}

/* A text context too small for the settings is a bad model, refused at
 * the caps (STREAM/FORMAT), not a LIBRARY/SETTINGS error at every window.
 * 3 positions hold no multilingual start sequence (sot, language, task)
 * and a token; 6 hold it, but not with previous text (sot_prev + T/2 - 1
 * tokens): refused by default, usable without it; 16 always. */
GST_START_TEST (test_text_context_too_small)
{
  gchar *dir3, *dir6, *dir16;
  gchar *m3 = small_context_model (3, &dir3);
  gchar *m6 = small_context_model (6, &dir6);
  gchar *m16 = small_context_model (16, &dir16);

  fail_if (small_context_run (m3, "", 2));
  fail_if (small_context_run (m3, "condition-on-previous-text=false", 2));
  fail_if (small_context_run (m6, "", 2));
  fail_if (small_context_run (m6, "initial-prompt=\"Some words.\"", 2));
  fail_unless (small_context_run (m6, "condition-on-previous-text=false",
          3));
  fail_unless (small_context_run (m16, "", 3));

  remove_dir (m3);
  remove_dir (m6);
  remove_dir (m16);
  remove_dir (dir3);
  remove_dir (dir6);
  remove_dir (dir16);
  g_free (m3);
  g_free (m6);
  g_free (m16);
  g_free (dir3);
  g_free (dir6);
  g_free (dir16);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* properties */

GST_START_TEST (test_properties)
{
  GstElement *dec = gst_element_factory_make ("whisperdec", NULL);
  gint beam, best_of;
  gchar *language, *suppress, *prompt;
  gint task;
  gboolean sb, wt, tf, cp;
  gdouble mit, nst, lpt, crt;
  GParamSpec *pspec;
  GEnumClass *eclass;

  fail_unless (dec != NULL);
  g_object_get (dec, "beam-size", &beam, "best-of", &best_of,
      "language", &language, "task", &task, "suppress-blank", &sb,
      "suppress-tokens", &suppress, "max-initial-timestamp", &mit,
      "without-timestamps", &wt, "temperature-fallback", &tf,
      "condition-on-previous-text", &cp, "initial-prompt", &prompt,
      "no-speech-threshold", &nst, "logprob-threshold", &lpt,
      "compression-ratio-threshold", &crt, NULL);
  fail_unless_equals_int (beam, 5);
  fail_unless_equals_int (best_of, 5);
  fail_unless (language == NULL);
  fail_unless_equals_int (task, 0);
  fail_unless (sb);
  fail_unless_equals_string (suppress, "-1");
  fail_unless_equals_float (mit, 1.0);
  fail_if (wt);
  fail_unless (tf);
  fail_unless (cp);
  fail_unless (prompt == NULL);
  fail_unless_equals_float (nst, 0.6);
  fail_unless_equals_float (lpt, -1.0);
  fail_unless_equals_float (crt, 2.4);
  {
    gboolean snw;
    g_object_get (dec, "skip-non-words", &snw, NULL);
    fail_unless (snw);
    /* no rule that drops confident text on no-speech alone */
    fail_if (g_object_class_find_property (G_OBJECT_GET_CLASS (dec),
            "max-no-speech-prob"));
  }
  g_free (suppress);

  /* ranges */
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (dec), "beam-size");
  fail_unless_equals_int (G_PARAM_SPEC_INT (pspec)->minimum, 1);
  fail_unless_equals_int (G_PARAM_SPEC_INT (pspec)->maximum, 16);
  fail_unless (pspec->flags & GST_PARAM_MUTABLE_PLAYING);

  /* task enum nicks */
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (dec), "task");
  eclass = g_type_class_ref (pspec->value_type);
  fail_unless (g_enum_get_value_by_nick (eclass, "transcribe") != NULL);
  fail_unless (g_enum_get_value_by_nick (eclass, "translate") != NULL);
  g_type_class_unref (eclass);
  gst_util_set_object_arg (G_OBJECT (dec), "task", "translate");
  g_object_get (dec, "task", &task, NULL);
  fail_unless_equals_int (task, 1);

  /* suppress-tokens: valid lists are kept, invalid ones ignored */
  g_object_set (dec, "suppress-tokens", "-1, 220,50256", NULL);
  g_object_get (dec, "suppress-tokens", &suppress, NULL);
  fail_unless_equals_string (suppress, "-1, 220,50256");
  g_free (suppress);
  g_object_set (dec, "suppress-tokens", "", NULL);
  g_object_get (dec, "suppress-tokens", &suppress, NULL);
  fail_unless_equals_string (suppress, "");
  g_free (suppress);
  g_object_set (dec, "suppress-tokens", "12,abc", NULL);
  g_object_get (dec, "suppress-tokens", &suppress, NULL);
  fail_unless_equals_string (suppress, "");
  g_free (suppress);
  g_object_set (dec, "suppress-tokens", "1,,2", NULL);
  g_object_set (dec, "suppress-tokens", "-2", NULL);
  g_object_get (dec, "suppress-tokens", &suppress, NULL);
  fail_unless_equals_string (suppress, "");
  g_free (suppress);

  g_object_set (dec, "language", "en", "initial-prompt", "Hello.", NULL);
  g_object_get (dec, "language", &language, "initial-prompt", &prompt, NULL);
  fail_unless_equals_string (language, "en");
  fail_unless_equals_string (prompt, "Hello.");
  g_free (language);
  g_free (prompt);

  gst_object_unref (dec);
}

GST_END_TEST;

/* Properties with non-default values decode without error (each maps onto
 * whisper_decode_params); suppress-tokens "" and an explicit list too. */
GST_START_TEST (test_properties_applied)
{
  const gchar *settings[] = {
    "beam-size=1 temperature-fallback=false",
    "beam-size=3 suppress-blank=false suppress-tokens=\"\"",
    "beam-size=1 without-timestamps=true",
    "beam-size=1 suppress-tokens=\"-1,0,1,2\" max-initial-timestamp=0.0",
    "beam-size=1 condition-on-previous-text=false initial-prompt=\"Hello.\"",
    "beam-size=1 no-speech-threshold=1.0 logprob-threshold=-100 "
        "compression-ratio-threshold=100",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (settings); i++) {
    gchar *launch = g_strdup_printf ("whisperdec %s", settings[i]);
    GstHarness *h = gst_harness_new_parse (launch);
    GstBus *bus = harness_bus (h);
    GstMessage *msg;
    guint64 frame;

    GST_INFO ("settings: %s", settings[i]);
    gst_harness_set_src_caps (h, model_caps ());
    fail_unless (gst_harness_push (h, window_buffer (0, 1500, 0, i))
        == GST_FLOW_OK, "push failed with settings %s", settings[i]);
    frame = pull_seek_frame (h);
    fail_unless (frame > 0 && frame <= 1500);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg == NULL);
    harness_teardown_bus (h, bus);
    g_free (launch);
  }
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */

static Suite *
whisperdec_suite (void)
{
  Suite *s = suite_create ("whisperdec");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_caps_src_is_utf8_text);
  tcase_add_test (tc, test_caps_not_encoder_output);
  tcase_add_test (tc, test_caps_without_model);
  tcase_add_test (tc, test_caps_unknown_model);
  tcase_add_test (tc, test_caps_n_state_mismatch);
  tcase_add_test (tc, test_caps_n_mels_mismatch);
  tcase_add_test (tc, test_seek_query_answered);
  tcase_add_test (tc, test_latency_non_live);
  tcase_add_test (tc, test_latency_streaming);
  tcase_add_test (tc, test_streaming_window);
  tcase_add_test (tc, test_window_output_and_seek);
  tcase_add_test (tc, test_windows_follow_seek_until_eos);
  tcase_add_test (tc, test_skip_non_words);
  tcase_add_test (tc, test_gap_window);
  tcase_add_test (tc, test_discont_window_restarts);
  tcase_add_test (tc, test_language_tag);
  tcase_add_test (tc, test_segment_forwarded);
  tcase_add_test (tc, test_segment_not_time);
  tcase_add_test (tc, test_bad_window_size);
  tcase_add_test (tc, test_bad_window_offsets);
  tcase_add_test (tc, test_flush_resets);
  tcase_add_test (tc, test_deterministic);
  tcase_add_test (tc, test_properties_applied);
  tcase_add_test (tc, test_properties_change_while_streaming);
  tcase_add_test (tc, test_multilingual_detect);
  tcase_add_test (tc, test_multilingual_forced_and_translate);
  tcase_add_test (tc, test_multilingual_unknown_language);
  tcase_add_test (tc, test_text_context_too_small);
  return s;
}

/* Remove the temporary model directory (files only, one level). */
static void
remove_dir (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      gchar *f = g_build_filename (path, name, NULL);
      g_remove (f);
      g_free (f);
    }
    g_dir_close (dir);
  }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  Suite *s;
  GError *err = NULL;
  gchar *tmp_dir = NULL;
  gchar *synth_path = NULL;
  int ret;

  gst_check_init (&argc, &argv);

  model_path = g_getenv ("WHISPER_SYNTH_MODEL");
  if (model_path == NULL) {
    whisper_synth_params p = whisper_synth_params_default ();
    whisper_model *m = whisper_model_synthetic (&p, &err);

    if (m == NULL) {
      g_printerr ("cannot make a synthetic model: %s\n", err->message);
      return 1;
    }
    tmp_dir = g_dir_make_tmp ("whisperdec-check-XXXXXX", &err);
    if (tmp_dir == NULL) {
      g_printerr ("%s\n", err->message);
      return 1;
    }
    synth_path = g_build_filename (tmp_dir, "ct2-f32", NULL);
    if (!whisper_model_save_ct2 (m, synth_path, WHISPER_SAVE_F32, &err)) {
      g_printerr ("cannot write the synthetic model: %s\n", err->message);
      return 1;
    }
    whisper_model_free (m);
    model_path = synth_path;
  }
  {
    whisper_synth_params p = whisper_synth_params_default ();
    whisper_model *m;

    if (tmp_dir == NULL
        && !(tmp_dir = g_dir_make_tmp ("whisperdec-check-XXXXXX", &err))) {
      g_printerr ("%s\n", err->message);
      return 1;
    }
    p.n_langs = 3;
    m = whisper_model_synthetic (&p, &err);
    multi_path = g_build_filename (tmp_dir, "ct2-f32-multi", NULL);
    if (m == NULL || !whisper_model_save_ct2 (m, multi_path, WHISPER_SAVE_F32,
            &err)) {
      g_printerr ("cannot make the multilingual model: %s\n", err->message);
      return 1;
    }
    whisper_model_free (m);
  }
  model = whisper_model_registry_acquire (model_path, &err);
  if (model == NULL) {
    g_printerr ("cannot load %s: %s\n", model_path, err->message);
    return 1;
  }

  s = whisperdec_suite ();
  ret = gst_check_run_suite (s, "whisperdec", __FILE__);
  whisper_model_registry_release (model);
  remove_dir (multi_path);
  g_free (multi_path);
  if (synth_path)
    remove_dir (synth_path);
  remove_dir (tmp_dir);
  g_free (synth_path);
  g_free (tmp_dir);
  return ret;
}
