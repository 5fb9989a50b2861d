/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GStreamer unit tests for whisperencnpu: model errors, caps, 30 s windows,
 * the decoder-driven seek protocol (with a stand-in decoder) and the EOS
 * tail.
 *
 * The model comes from $WHISPER_TEST_MODEL (a small synthetic model made
 * at build time).  Window contents are checked against the same encoder
 * run on a window built here independently (padding with log10 (1e-10),
 * Whisper's max - 8 clamp and (x + 4) / 4, [n_mels][3000] layout).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "whisper-caps.h"
#include "whisper.h"
#include "encoder.h"
#include "npu-emu.h"
#include "npu-shapes.h"
#include "whisper.h"

#define FRAME WHISPER_FRAME_DURATION
#define WIN WHISPER_WINDOW_FRAMES

/* ------------------------------------------------------------------------ */
/* the test model and its reference encoder */

static whisper_model *ref_model;
static whisper_encoder *ref_encoder;
static gint n_mels, n_state, n_head;

static const gchar *
test_model (void)
{
  const gchar *path = g_getenv ("WHISPER_TEST_MODEL");

  fail_unless (path != NULL && path[0] != '\0',
      "WHISPER_TEST_MODEL is not set (meson sets it)");
  return path;
}

static void
model_setup (void)
{
  GError *err = NULL;

  ref_model = whisper_model_registry_acquire (test_model (), &err);
  fail_unless (ref_model != NULL, "cannot load %s: %s", test_model (),
      err ? err->message : "?");
  ref_encoder = whisper_encoder_new (ref_model, NULL, &err);
  fail_unless (ref_encoder != NULL, "encoder: %s", err ? err->message : "?");
  n_mels = ref_model->hp.n_mels;
  n_state = ref_model->hp.n_audio_state;
  n_head = ref_model->hp.n_audio_head;
}

static void
model_teardown (void)
{
  g_clear_pointer (&ref_encoder, whisper_encoder_free);
  g_clear_pointer (&ref_model, whisper_model_registry_release);
}

/* When set, frames are quiet: in [-9.5, -5.5], so that max - 8 is below
 * the padding value log10 (1e-10) = -10 and the padding shows. */
static gboolean quiet;

/* When set, frames are stationary (no rise and fall in time): the speech
 * gate finds no speech in them. */
static gboolean stationary;

/* Log10 mel energy of band @m in stream frame @f: in [-9, 1], so that the
 * max - 8 clamp changes some values of every window; every other 250 ms
 * 50 dB lower, like the pauses between syllables, so that the speech gate
 * passes every window of 50 frames or more. */
static gfloat
frame_value (guint64 f, gint m)
{
  gfloat dip = (!stationary && (f / 25) % 2) ? -5.0f : 0.0f;
  guint32 x = (guint32) (f * 2654435761u) ^ (guint32) (m * 40503u + 7u);
  gfloat u;

  x ^= x >> 13;
  x *= 0x5bd1e995u;
  x ^= x >> 15;
  u = (gfloat) (x & 0xffff) / 65535.0f;
  return dip + (quiet ? -9.5f + 4.0f * u : -9.0f + 10.0f * u);
}

/* The encoder output expected for the window of @n_real frames at @start,
 * computed without the element. */
static gfloat *
reference_output (guint64 start, guint64 n_real)
{
  gfloat *win = g_new (gfloat, (gsize) n_mels * WIN);
  gfloat *out = g_new (gfloat, (gsize) 1500 * n_state);
  gfloat mx = -INFINITY;
  gint m, t;

  for (m = 0; m < n_mels; m++)
    for (t = 0; t < WIN; t++) {
      /* openai-whisper pads the audio with zeros: log10 (1e-10) */
      gfloat v = (guint64) t < n_real ? frame_value (start + t, m) : -10.0f;
      win[m * WIN + t] = v;
      mx = MAX (mx, v);
    }
  for (t = 0; t < n_mels * WIN; t++)
    win[t] = (MAX (win[t], mx - 8.0f) + 4.0f) / 4.0f;
  fail_unless_equals_int (whisper_encoder_run (ref_encoder, win, out), 0);
  g_free (win);
  return out;
}

/* ------------------------------------------------------------------------ */
/* input */

typedef struct
{
  GstClockTime base_pts;        /* PTS of frame base_offset */
  guint64 base_offset;
} Timeline;

static GstBuffer *
make_frames (const Timeline * tl, guint64 first, guint n)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL,
      (gsize) n * n_mels * sizeof (gfloat), NULL);
  GstMapInfo map;
  gfloat *d;
  guint i;
  gint m;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  d = (gfloat *) map.data;
  for (i = 0; i < n; i++)
    for (m = 0; m < n_mels; m++)
      d[i * n_mels + m] = frame_value (first + i, m);
  gst_buffer_unmap (buf, &map);

  GST_BUFFER_PTS (buf) = tl->base_pts + (first - tl->base_offset) * FRAME;
  GST_BUFFER_DURATION (buf) = n * FRAME;
  GST_BUFFER_OFFSET (buf) = first;
  GST_BUFFER_OFFSET_END (buf) = first + n;
  return buf;
}

static GstCaps *
mel_caps (gint mels)
{
  return gst_caps_new_simple (WHISPER_MEL_MEDIA_TYPE,
      "n-mels", G_TYPE_INT, mels, "rate", G_TYPE_INT, 100, NULL);
}

static void
push_start (GstHarness * h)
{
  GstSegment seg;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_stream_start ("whisperencnpu-test")));
  fail_unless (gst_harness_push_event (h, gst_event_new_caps (mel_caps
              (n_mels))));
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
}

/* Push frames [first, first + n) in buffers of @chunk frames. */
static void
push_frames (GstHarness * h, const Timeline * tl, guint64 i_frame, guint n,
    guint chunk)
{
  /* (the check macros declare locals named first and second) */
  while (n > 0) {
    guint k = MIN (n, chunk);
    GstFlowReturn ret = gst_harness_push (h, make_frames (tl, i_frame, k));

    fail_unless_equals_int (ret, GST_FLOW_OK);
    i_frame += k;
    n -= k;
  }
}

/* ------------------------------------------------------------------------ */
/* the stand-in decoder: answers the seek-driver query and sends the next
 * window start after each window, from a list */

/* in Driver.seeks: send a seek event whose frame is not a guint64 */
#define SEEK_MALFORMED G_MAXUINT64

typedef struct
{
  gboolean answer_query;
  gboolean live;                /* the upstream's LATENCY answer */
  guint latency_ms;             /* the driver's streaming settings */
  guint step_ms;
  gboolean send_seeks;
  guint64 seeks[16];
  gint n_seeks;
  gint i_seek;                  /* atomic */
  gint n_queries;               /* atomic */
} Driver;

static GstPadProbeReturn
driver_query_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Driver *d = user_data;
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
  const GstStructure *s;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CUSTOM)
    return GST_PAD_PROBE_OK;
  s = gst_query_get_structure (query);
  if (s == NULL || !gst_structure_has_name (s, WHISPER_SEEK_QUERY))
    return GST_PAD_PROBE_OK;

  g_atomic_int_inc (&d->n_queries);
  if (d->answer_query)
    gst_structure_set (gst_query_writable_structure (query), "latency",
        G_TYPE_UINT, d->latency_ms, "step", G_TYPE_UINT,
        d->step_ms ? d->step_ms : 1000, NULL);
  /* HANDLED: the query returns TRUE; DROP: FALSE */
  return d->answer_query ? GST_PAD_PROBE_HANDLED : GST_PAD_PROBE_DROP;
}

/* the upstream (the harness) answers LATENCY live or not, as d->live */
static GstPadProbeReturn
upstream_latency_probe (GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  Driver *d = user_data;
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);

  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_PAD_PROBE_OK;
  gst_query_set_latency (query, d->live, 20 * GST_MSECOND,
      GST_CLOCK_TIME_NONE);
  return GST_PAD_PROBE_HANDLED;
}

static GstPadProbeReturn
driver_buffer_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Driver *d = user_data;
  GstStructure *s;
  gint i;

  if (!d->send_seeks)
    return GST_PAD_PROBE_OK;
  i = g_atomic_int_add (&d->i_seek, 1);
  fail_unless (i < d->n_seeks, "more windows than seek positions");
  if (d->seeks[i] == SEEK_MALFORMED)
    s = gst_structure_new (WHISPER_SEEK_EVENT, "frame", G_TYPE_INT, 123,
        NULL);
  else
    s = gst_structure_new (WHISPER_SEEK_EVENT, "frame", G_TYPE_UINT64,
        d->seeks[i], NULL);
  fail_unless (gst_pad_push_event (pad,
          gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, s)));
  return GST_PAD_PROBE_OK;
}

static void
driver_attach (GstHarness * h, Driver * d)
{
  gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      driver_query_probe, d, NULL);
  gst_pad_add_probe (h->sinkpad, GST_PAD_PROBE_TYPE_BUFFER,
      driver_buffer_probe, d, NULL);
  gst_pad_add_probe (h->srcpad, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM,
      upstream_latency_probe, d, NULL);
}

/* ------------------------------------------------------------------------ */
/* harnesses and checks */

static GstHarness *
harness_new (void)
{
  GstElement *enc = gst_element_factory_make ("whisperencnpu", NULL);
  GstHarness *h;

  fail_unless (enc != NULL);
  g_object_set (enc, "model", test_model (), NULL);
  h = gst_harness_new_with_element (enc, "sink", "src");
  gst_object_unref (enc);
  return h;
}

/* whisperencnpu ! queue: the seek events come from the queue's thread */
static GstHarness *
harness_new_with_queue (void)
{
  gchar *desc = g_strdup_printf ("whisperencnpu name=enc model=\"%s\" ! "
      "queue", test_model ());
  GstHarness *h = gst_harness_new_parse (desc);

  g_free (desc);
  return h;
}

/* Check one window buffer, and its contents when @content. */
static void
check_window (GstBuffer * buf, const Timeline * tl, guint64 start,
    guint64 n_real, gboolean content)
{
  fail_unless (buf != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), start);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf), start + n_real);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
      tl->base_pts + (start - tl->base_offset) * FRAME);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), n_real * FRAME);
  fail_unless_equals_uint64 (gst_buffer_get_size (buf),
      (gsize) 1500 * n_state * sizeof (gfloat));

  if (content) {
    gfloat *ref = reference_output (start, n_real);
    GstMapInfo map;
    const gfloat *out;
    gdouble max_diff = 0;
    gsize i;

    gst_buffer_map (buf, &map, GST_MAP_READ);
    out = (const gfloat *) map.data;
    for (i = 0; i < (gsize) 1500 * n_state; i++)
      max_diff = MAX (max_diff, fabs ((gdouble) out[i] - ref[i]));
    gst_buffer_unmap (buf, &map);
    g_free (ref);
    GST_INFO ("window %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT
        ": max |diff| %g", start, n_real, max_diff);
    fail_unless (max_diff <= 1e-4, "window %" G_GUINT64_FORMAT
        " differs from the reference by %g", start, max_diff);
  }
}

/* A window the speech gate found silent: the window's timing, GAP, empty. */
static void
pull_gap_window (GstHarness * h, const Timeline * tl, guint64 start,
    guint64 n_real)
{
  GstBuffer *buf = gst_harness_pull (h);

  fail_unless (buf != NULL);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
  fail_unless_equals_uint64 (gst_buffer_get_size (buf), 0);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), start);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf), start + n_real);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
      tl->base_pts + (start - tl->base_offset) * FRAME);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), n_real * FRAME);
  gst_buffer_unref (buf);
}

static void
pull_window (GstHarness * h, const Timeline * tl, guint64 start,
    guint64 n_real, gboolean content)
{
  GstBuffer *buf = gst_harness_pull (h);

  check_window (buf, tl, start, n_real, content);
  gst_buffer_unref (buf);
}

/* After the sticky events, the next event out is EOS. */
static void
check_eos (GstHarness * h)
{
  GstEvent *ev;

  while ((ev = gst_harness_pull_event (h)) != NULL) {
    GstEventType type = GST_EVENT_TYPE (ev);
    gst_event_unref (ev);
    if (type == GST_EVENT_EOS)
      return;
    fail_unless (type == GST_EVENT_STREAM_START || type == GST_EVENT_CAPS
        || type == GST_EVENT_SEGMENT, "unexpected %s event",
        gst_event_type_get_name (type));
  }
  fail ("no EOS");
}

static GstMessage *
pop_error (GstBus * bus)
{
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  fail_unless (msg != NULL, "no error message posted");
  return msg;
}

/* ------------------------------------------------------------------------ */
/* properties, caps, errors */

GST_START_TEST (test_properties)
{
  GstElement *enc = gst_element_factory_make ("whisperencnpu", NULL);
  GParamSpec *pspec;
  GEnumClass *eclass;
  gchar *model, *in_use;
  gint backend, threads;

  fail_unless (enc != NULL, "no whisperencnpu element");
  g_object_get (enc, "model", &model, "backend", &backend, "threads",
      &threads, "backend-in-use", &in_use, NULL);
  fail_unless_equals_string (model, "tiny.en");
  fail_unless_equals_int (threads, 0);
  fail_unless (in_use == NULL);
  g_free (model);

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (enc), "backend");
  eclass = g_type_class_ref (pspec->value_type);
  fail_unless_equals_string (g_enum_get_value (eclass, backend)->value_nick,
      "auto");
  fail_unless (g_enum_get_value_by_nick (eclass, "cpu") != NULL);
  g_type_class_unref (eclass);
  fail_unless (pspec->flags & GST_PARAM_MUTABLE_READY);
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (enc),
      "backend-in-use");
  fail_if (pspec->flags & G_PARAM_WRITABLE);

  gst_util_set_object_arg (G_OBJECT (enc), "backend", "cpu");
  g_object_set (enc, "model", test_model (), "threads", 1, NULL);
  fail_unless_equals_int (gst_element_set_state (enc, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (enc, "backend-in-use", &in_use, NULL);
  fail_unless_equals_string (in_use, "cpu");
  g_free (in_use);

  fail_unless_equals_int (gst_element_set_state (enc, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (enc, "backend-in-use", &in_use, NULL);
  fail_unless (in_use == NULL);
  gst_object_unref (enc);
}

GST_END_TEST;

/* compute-type: auto by default, resolved when the element starts and
 * named in compute-type-in-use; the src caps carry the type asked for */
GST_START_TEST (test_compute_type)
{
  static const gchar *const asked[] = { "auto", "float32", "int8",
    "bfloat16"
  };

  for (guint i = 0; i < G_N_ELEMENTS (asked); i++) {
    GstElement *enc = gst_element_factory_make ("whisperencnpu", NULL);
    GstHarness *h;
    GstCaps *caps;
    GstEvent *ev;
    gchar *ct, *in_use, *mel_caps;

    g_object_get (enc, "compute-type-in-use", &in_use, NULL);
    fail_unless (in_use == NULL);
    if (i == 0) {
      GParamSpec *pspec = g_object_class_find_property
          (G_OBJECT_GET_CLASS (enc), "compute-type");
      GEnumClass *eclass = g_type_class_ref (pspec->value_type);
      gint v;
      g_object_get (enc, "compute-type", &v, NULL);
      fail_unless_equals_string (g_enum_get_value (eclass, v)->value_nick,
          "auto");
      g_type_class_unref (eclass);
      fail_unless (pspec->flags & GST_PARAM_MUTABLE_READY);
    }
    gst_util_set_object_arg (G_OBJECT (enc), "compute-type", asked[i]);
    g_object_set (enc, "model", test_model (), "threads", 1, NULL);
    h = gst_harness_new_with_element (enc, "sink", "src");
    gst_object_unref (enc);
    mel_caps = g_strdup_printf ("audio/x-whisper-mel, n-mels = (int) %d, "
        "rate = (int) 100", n_mels);
    gst_harness_set_src_caps_str (h, mel_caps);
    g_free (mel_caps);
    g_object_get (h->element, "compute-type-in-use", &in_use, NULL);
    fail_unless (in_use != NULL);
    if (i > 0) {
      fail_unless_equals_string (in_use, asked[i]);
    } else {
      fail_unless (g_str_equal (in_use, "float32")
          || g_str_equal (in_use, "bfloat16")
          || g_str_equal (in_use, "int8"), "auto resolved to %s", in_use);
    }
    while ((ev = gst_harness_pull_event (h)) != NULL
        && GST_EVENT_TYPE (ev) != GST_EVENT_CAPS)
      gst_event_unref (ev);
    fail_unless (ev != NULL, "no caps event");
    gst_event_parse_caps (ev, &caps);
    ct = g_strdup (gst_structure_get_string (gst_caps_get_structure (caps, 0),
            "compute-type"));
    gst_event_unref (ev);
    fail_unless_equals_string (ct, asked[i]);
    g_free (ct);
    g_free (in_use);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_caps)
{
  GstHarness *h = harness_new ();
  GstEvent *ev;
  GstCaps *caps;
  const GstStructure *s;
  gchar *key;
  gint v;

  push_start (h);

  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_START);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_CAPS);
  gst_event_parse_caps (ev, &caps);
  fail_unless (gst_caps_is_fixed (caps));
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_has_name (s, WHISPER_ENCODED_MEDIA_TYPE));
  key = whisper_model_resolve (test_model (), NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "model"), key);
  g_free (key);
  fail_unless (gst_structure_get_int (s, "n-state", &v));
  fail_unless_equals_int (v, n_state);
  fail_unless (gst_structure_get_int (s, "n-ctx", &v));
  fail_unless_equals_int (v, 1500);
  fail_unless (gst_structure_get_int (s, "n-mels", &v));
  fail_unless_equals_int (v, n_mels);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_SEGMENT);
  gst_event_unref (ev);

  /* upstream is offered the model's n-mels only */
  caps = gst_pad_peer_query_caps (h->srcpad, NULL);
  fail_unless (gst_caps_is_fixed (caps));
  fail_unless (gst_structure_get_int (gst_caps_get_structure (caps, 0),
          "n-mels", &v));
  fail_unless_equals_int (v, n_mels);
  gst_caps_unref (caps);

  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_n_mels_mismatch)
{
  GstHarness *h = harness_new ();
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  gst_element_set_bus (h->element, bus);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_stream_start ("whisperencnpu-test")));
  /* (a refused sticky event may still be reported as pushed) */
  gst_harness_push_event (h,
      gst_event_new_caps (mel_caps (n_mels == 80 ? 128 : 80)));

  msg = pop_error (bus);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (g_error_matches (err, GST_CORE_ERROR,
          GST_CORE_ERROR_NEGOTIATION), "%s", err->message);
  fail_unless (strstr (err->message, "mel bands") != NULL, "%s",
      err->message);
  fail_unless (debug != NULL && strstr (debug, "n-mels") != NULL);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Setting @model must fail the state change with the given error. */
static void
check_model_error (const gchar * model, GQuark domain, gint code)
{
  GstElement *enc = gst_element_factory_make ("whisperencnpu", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  fail_unless (enc != NULL, "no whisperencnpu element");
  gst_element_set_bus (enc, bus);
  g_object_set (enc, "model", model, NULL);
  fail_unless_equals_int (gst_element_set_state (enc, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);

  msg = pop_error (bus);
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("%s: %s (%s)", model, err->message, debug);
  fail_unless (g_error_matches (err, domain, code), "%s: got %s %d: %s",
      model, g_quark_to_string (err->domain), err->code, err->message);
  fail_unless (err->message != NULL && err->message[0] != '\0');
  fail_unless (debug != NULL && debug[0] != '\0');
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);

  gst_element_set_state (enc, GST_STATE_NULL);
  gst_element_set_bus (enc, NULL);
  gst_object_unref (bus);
  gst_object_unref (enc);
}

GST_START_TEST (test_model_errors)
{
  gchar *dir = g_dir_make_tmp ("whisperencnpu-XXXXXX", NULL);
  gchar *bad = g_build_filename (dir, "garbage.bin", NULL);
  const gchar junk[] = "this is not a Whisper model, just some text\n";

  fail_unless (dir != NULL);
  g_setenv ("GST_WHISPER_MODELS_DIR", dir, TRUE);

  check_model_error ("/nonexistent/whisper/model.bin", GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND);
  check_model_error ("no-such-model", GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND);

  fail_unless (g_file_set_contents (bad, junk, -1, NULL));
  check_model_error (bad, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT);

  g_unsetenv ("GST_WHISPER_MODELS_DIR");
  g_unlink (bad);
  g_rmdir (dir);
  g_free (bad);
  g_free (dir);
}

GST_END_TEST;


/* A temporary directory of the emulated programs the test model needs,
 * their names in @names and their count in *@n */
static gchar *
emulated_kernel_dir (char (*names)[32], int *n)
{
  gchar *dir = g_dir_make_tmp ("whisperencnpu-npu-XXXXXX", NULL);
  npu_program_desc descs[NPU_ENCODER_MAX_PROGRAMS];
  npu_error e = { 0 };
  *n = npu_encoder_programs (n_mels, n_state, n_head, "xdna1", descs,
      names);
  fail_unless_equals_int (*n, NPU_ENCODER_MAX_PROGRAMS);
  fail_unless (npu_emu_write_kernel_dir (dir, descs, *n, "xdna1", &e) == 0,
      "%s", e.message);
  return dir;
}

static void
remove_kernel_dir (gchar * dir, char (*names)[32], int n)
{
  for (int i = 0; i < n; i++) {
    gchar *f = g_strdup_printf ("%s/%s.xclbin", dir, names[i]);
    g_unlink (f);
    g_free (f);
    f = g_strdup_printf ("%s/%s.insts.bin", dir, names[i]);
    g_unlink (f);
    g_free (f);
  }
  gchar *m = g_build_filename (dir, "manifest.json", NULL);
  g_unlink (m);
  g_free (m);
  g_rmdir (dir);
  g_free (dir);
}

/* backend=npu on the emulated device (WHISPER_NPU_DEVICE=emulated, a
 * kernel directory of emulated programs): starts on the NPU in int8 and
 * encodes as the CPU's int8 path does; an NPU that cannot be used is a
 * RESOURCE error at start naming why; auto without an NPU takes the CPU */
GST_START_TEST (test_npu_backend)
{
  char names[NPU_ENCODER_MAX_PROGRAMS][32];
  int n;
  gchar *dir = emulated_kernel_dir (names, &n);
  GstElement *enc;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL, *in_use = NULL, *ct = NULL;

  g_setenv ("WHISPER_NPU_DEVICE", "emulated", TRUE);

  enc = gst_element_factory_make ("whisperencnpu", NULL);
  gst_util_set_object_arg (G_OBJECT (enc), "backend", "npu");
  g_object_set (enc, "model", test_model (), "kernel-dir", dir, "threads", 1,
      NULL);
  fail_unless_equals_int (gst_element_set_state (enc, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (enc, "backend-in-use", &in_use, "compute-type-in-use", &ct,
      NULL);
  fail_unless_equals_string (in_use, "npu");
  fail_unless_equals_string (ct, "int8");
  g_free (in_use);
  g_free (ct);
  gst_element_set_state (enc, GST_STATE_NULL);
  gst_object_unref (enc);

  /* no programs there: an error at start that says where it looked */
  enc = gst_element_factory_make ("whisperencnpu", NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (enc, bus);
  gst_util_set_object_arg (G_OBJECT (enc), "backend", "npu");
  g_object_set (enc, "model", test_model (), "kernel-dir",
      "/nonexistent/aie", NULL);
  fail_unless_equals_int (gst_element_set_state (enc, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = pop_error (bus);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE), "got %s", err->message);
  fail_unless (strstr (debug, "/nonexistent/aie") != NULL, "debug: %s",
      debug);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (enc, GST_STATE_NULL);
  gst_element_set_bus (enc, NULL);
  gst_object_unref (bus);
  gst_object_unref (enc);

  /* auto, and no XRT module: the CPU */
  g_unsetenv ("WHISPER_NPU_DEVICE");
  g_setenv ("WHISPER_NPU_XRT_MODULE", "/nonexistent/module.so", TRUE);
  enc = gst_element_factory_make ("whisperencnpu", NULL);
  g_object_set (enc, "model", test_model (), "threads", 1, NULL);
  fail_unless_equals_int (gst_element_set_state (enc, GST_STATE_PAUSED),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (enc, "backend-in-use", &in_use, NULL);
  fail_unless_equals_string (in_use, "cpu");
  g_free (in_use);
  gst_element_set_state (enc, GST_STATE_NULL);
  gst_object_unref (enc);
  g_unsetenv ("WHISPER_NPU_XRT_MODULE");

  remove_kernel_dir (dir, names, n);
}

GST_END_TEST;


/* npu-fallback on the emulated device: a run failing mid-stream (after the
 * self-test's 2 runs per program) is a warning, the window still comes out
 * and backend-in-use turns to cpu; without npu-fallback it is an error */
GST_START_TEST (test_npu_fallback)
{
  char names[NPU_ENCODER_MAX_PROGRAMS][32];
  int n;
  gchar *dir = emulated_kernel_dir (names, &n);

  /* the self-test makes 2 runs per program */
  gchar *device = g_strdup_printf ("emulated:fault=error,fault-after=%d",
      2 * n);
  g_setenv ("WHISPER_NPU_DEVICE", device, TRUE);
  g_free (device);
  for (int fallback = 1; fallback >= 0; fallback--) {
    GstElement *enc = gst_element_factory_make ("whisperencnpu", NULL);
    GstBus *bus = gst_bus_new ();
    Driver d = { .answer_query = TRUE, .send_seeks = TRUE,
      .seeks = {400, 700}, .n_seeks = 2 };
    Timeline tl = { 0, 0 };
    GstHarness *h;
    GstMessage *msg;
    gchar *in_use;

    gst_element_set_bus (enc, bus);
    gst_util_set_object_arg (G_OBJECT (enc), "backend", "npu");
    g_object_set (enc, "model", test_model (), "kernel-dir", dir,
        "npu-fallback", fallback, "threads", 1, "speech-gate", 0.0, NULL);
    h = gst_harness_new_with_element (enc, "sink", "src");
    quiet = TRUE;
    driver_attach (h, &d);
    push_start (h);
    push_frames (h, &tl, 0, 700, 100);
    gst_harness_push_event (h, gst_event_new_eos ());
    msg = gst_bus_pop_filtered (bus, fallback ? GST_MESSAGE_WARNING :
        GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no %s message", fallback ? "warning" : "error");
    gst_message_unref (msg);
    g_object_get (enc, "backend-in-use", &in_use, NULL);
    if (fallback) {
      fail_unless_equals_string (in_use, "cpu");
      fail_unless_equals_int (gst_harness_buffers_received (h), 2);
    } else {
      fail_unless_equals_string (in_use, "npu");
    }
    g_free (in_use);
    quiet = FALSE;
    gst_harness_teardown (h);
    gst_element_set_bus (enc, NULL);
    gst_object_unref (bus);
    gst_object_unref (enc);
  }
  g_unsetenv ("WHISPER_NPU_DEVICE");
  remove_kernel_dir (dir, names, n);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* windows */

/* The stand-in decoder linked directly: each seek arrives during the push.
 * 100 s of frames starting at 5 s: windows at 0, 2500, 5100, then at EOS
 * 8100 (1900 real frames), covering every frame. */
GST_START_TEST (test_seek_driven)
{
  GstHarness *h = harness_new ();
  Driver d = { .answer_query = TRUE, .send_seeks = TRUE,
    .seeks = {2500, 5100, 8100, 10000}, .n_seeks = 4 };
  Timeline tl = { 5 * GST_SECOND, 0 };

  driver_attach (h, &d);
  push_start (h);

  push_frames (h, &tl, 0, 2999, 250);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  push_frames (h, &tl, 2999, 1, 1);
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);
  fail_unless_equals_int (d.n_queries, 1);
  pull_window (h, &tl, 0, WIN, TRUE);

  /* the window at 2500 needs frames up to 5500 */
  push_frames (h, &tl, 3000, 2499, 100);
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);
  push_frames (h, &tl, 5499, 4501, 100);
  fail_unless_equals_int (gst_harness_buffers_received (h), 3);
  pull_window (h, &tl, 2500, WIN, TRUE);
  pull_window (h, &tl, 5100, WIN, FALSE);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  pull_window (h, &tl, 8100, 1900, TRUE);
  check_eos (h);
  fail_unless_equals_int (d.i_seek, 4);
  fail_unless_equals_int (d.n_queries, 1);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* Streaming (a live upstream, the driver's latency 0 = auto): a window
 * per step of new audio, from where the seek event said (it may stay
 * put), flagged STREAMING; the windows of the drain flagged FINAL; the
 * encoder adds no latency. */
GST_START_TEST (test_streaming_windows)
{
  GstHarness *h = harness_new ();
  Driver d = { .answer_query = TRUE, .live = TRUE, .step_ms = 1000,
    .send_seeks = TRUE, .seeks = {0, 50, 250}, .n_seeks = 3 };
  Timeline tl = { 5 * GST_SECOND, 0 };
  GstBuffer *buf;

  driver_attach (h, &d);
  push_start (h);
  push_frames (h, &tl, 0, 90, 10);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  /* a step (100 frames) of audio: the first window */
  push_frames (h, &tl, 90, 10, 10);
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);
  buf = gst_harness_pull (h);
  check_window (buf, &tl, 0, 100, FALSE);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, WHISPER_BUFFER_FLAG_STREAMING));
  fail_if (GST_BUFFER_FLAG_IS_SET (buf, WHISPER_BUFFER_FLAG_FINAL));
  gst_buffer_unref (buf);
  /* the seek kept the start at 0: the next window at 200 frames */
  push_frames (h, &tl, 100, 99, 1);
  fail_unless_equals_int (gst_harness_buffers_received (h), 1);
  push_frames (h, &tl, 199, 1, 1);
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  buf = gst_harness_pull (h);
  check_window (buf, &tl, 0, 200, FALSE);
  gst_buffer_unref (buf);
  /* start 50 now; EOS drains the rest as a final window */
  push_frames (h, &tl, 200, 50, 10);
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 3);
  buf = gst_harness_pull (h);
  check_window (buf, &tl, 50, 200, FALSE);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, WHISPER_BUFFER_FLAG_STREAMING));
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, WHISPER_BUFFER_FLAG_FINAL));
  gst_buffer_unref (buf);
  check_eos (h);
  /* streaming: the upstream's 20 ms, nothing of a 30 s window */
  fail_unless_equals_uint64 (gst_harness_query_latency (h), 20 * GST_MSECOND);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Seeks back or beyond the window, or malformed, go to the window end. */
GST_START_TEST (test_seek_clamped)
{
  GstHarness *h = harness_new ();
  Driver d = { .answer_query = TRUE, .send_seeks = TRUE,
    .seeks = {0, 999999, SEEK_MALFORMED, 9999, 10000}, .n_seeks = 5 };
  Timeline tl = { 0, 0 };

  driver_attach (h, &d);
  push_start (h);
  push_frames (h, &tl, 0, 10000, 500);
  fail_unless_equals_int (gst_harness_buffers_received (h), 3);
  pull_window (h, &tl, 0, WIN, FALSE);
  pull_window (h, &tl, 3000, WIN, FALSE);
  pull_window (h, &tl, 6000, WIN, FALSE);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 5);
  pull_window (h, &tl, 9000, 1000, FALSE);
  /* 10 ms hold no word: the gate sees no rise and fall in one frame */
  pull_gap_window (h, &tl, 9999, 1);
  check_eos (h);
  fail_unless_equals_int (d.i_seek, 5);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* The speech gate: stationary frames (silence, steady noise) become GAP
 * windows, not encoded, with the seek protocol unchanged; speech-gate=0
 * encodes them. */
GST_START_TEST (test_speech_gate)
{
  Timeline tl = { 2 * GST_SECOND, 200 };
  gdouble db = 0;
  guint pass;

  stationary = TRUE;
  for (pass = 0; pass < 2; pass++) {
    GstHarness *h = harness_new ();
    Driver d = { .answer_query = TRUE, .send_seeks = TRUE,
      .seeks = {3200, 6000, 6200}, .n_seeks = 3 };

    if (pass == 0) {
      g_object_get (h->element, "speech-gate", &db, NULL);
      fail_unless_equals_float (db, WHISPER_SPEECH_GATE_DEFAULT_DB);
    } else {
      g_object_set (h->element, "speech-gate", 0.0, NULL);
    }
    driver_attach (h, &d);
    push_start (h);
    push_frames (h, &tl, 200, 6000, 500);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    fail_unless_equals_int (gst_harness_buffers_received (h), 3);
    if (pass == 0) {
      pull_gap_window (h, &tl, 200, WIN);
      pull_gap_window (h, &tl, 3200, WIN);
      pull_gap_window (h, &tl, 6000, 200);
    } else {
      pull_window (h, &tl, 200, WIN, TRUE);
      pull_window (h, &tl, 3200, WIN, TRUE);
      pull_window (h, &tl, 6000, 200, TRUE);
    }
    check_eos (h);
    gst_harness_teardown (h);
  }
  stationary = FALSE;
}

GST_END_TEST;

/* No seek driver downstream: windows advance by 3000 frames, the tail at
 * EOS is padded.  The stream starts at frame 100, 1 s. */
GST_START_TEST (test_no_driver)
{
  GstHarness *h = harness_new ();
  Driver d = { .answer_query = FALSE, .send_seeks = FALSE };
  Timeline tl = { GST_SECOND, 100 };

  driver_attach (h, &d);
  push_start (h);
  push_frames (h, &tl, 100, 7000, 320);
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  fail_unless_equals_int (d.n_queries, 1);
  pull_window (h, &tl, 100, WIN, TRUE);
  pull_window (h, &tl, 3100, WIN, FALSE);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 3);
  pull_window (h, &tl, 6100, 1000, TRUE);
  check_eos (h);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* 7 s of quiet frames: nothing before EOS; then windows until all is
 * covered, padded with log10 (1e-10). */
GST_START_TEST (test_eos_tail)
{
  GstHarness *h = harness_new ();
  Driver d = { .answer_query = TRUE, .send_seeks = TRUE,
    .seeks = {400, 700}, .n_seeks = 2 };
  Timeline tl = { 0, 0 };

  quiet = TRUE;

  driver_attach (h, &d);
  push_start (h);
  push_frames (h, &tl, 0, 700, 100);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  /* asked once, with the first frames (streaming needs the answer) */
  fail_unless_equals_int (d.n_queries, 1);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  pull_window (h, &tl, 0, 700, TRUE);
  pull_window (h, &tl, 400, 300, TRUE);
  check_eos (h);

  quiet = FALSE;
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_empty_stream)
{
  GstHarness *h = harness_new ();
  Driver d = { .answer_query = TRUE, .send_seeks = TRUE };

  driver_attach (h, &d);
  push_start (h);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  check_eos (h);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  fail_unless_equals_int (d.n_queries, 0);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* A jump in the frame offsets ends the run (padded window) and starts a
 * new time base. */
GST_START_TEST (test_discontinuity)
{
  GstHarness *h = harness_new ();
  Driver d = { .answer_query = FALSE, .send_seeks = FALSE };
  Timeline tl = { 0, 0 }, tl2 = { 100 * GST_SECOND, 5000 };
  GstBuffer *buf;

  driver_attach (h, &d);
  push_start (h);
  push_frames (h, &tl, 0, 2000, 500);
  push_frames (h, &tl2, 5000, 3500, 500);
  fail_unless_equals_int (gst_harness_buffers_received (h), 2);
  buf = gst_harness_pull (h);
  check_window (buf, &tl, 0, 2000, TRUE);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (buf);
  buf = gst_harness_pull (h);
  check_window (buf, &tl2, 5000, WIN, FALSE);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (buf);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  buf = gst_harness_pull (h);
  check_window (buf, &tl2, 8000, 500, FALSE);
  fail_if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (buf);
  check_eos (h);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* GAP events pass only while no frames wait for a window. */
GST_START_TEST (test_gap)
{
  GstHarness *h = harness_new ();
  Timeline tl = { 0, 0 };
  GstEvent *ev;
  GstClockTime ts, dur;

  push_start (h);
  while ((ev = gst_harness_try_pull_event (h)))
    gst_event_unref (ev);

  fail_unless (gst_harness_push_event (h, gst_event_new_gap (0,
              GST_SECOND)));
  ev = gst_harness_try_pull_event (h);
  fail_unless (ev != NULL && GST_EVENT_TYPE (ev) == GST_EVENT_GAP);
  gst_event_parse_gap (ev, &ts, &dur);
  fail_unless_equals_uint64 (ts, 0);
  fail_unless_equals_uint64 (dur, GST_SECOND);
  gst_event_unref (ev);

  push_frames (h, &tl, 100, 100, 100);
  fail_unless (gst_harness_push_event (h, gst_event_new_gap (2 * GST_SECOND,
              GST_SECOND)));
  fail_unless (gst_harness_try_pull_event (h) == NULL);

  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_latency)
{
  GstHarness *h = harness_new ();

  gst_harness_set_upstream_latency (h, 20 * GST_MSECOND);
  push_start (h);
  fail_unless_equals_uint64 (gst_harness_query_latency (h),
      30 * GST_SECOND + 20 * GST_MSECOND);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* waiting for the seek event */

typedef struct
{
  GstHarness *h;
  const Timeline *tl;
  guint64 first;
  guint n;
} PushJob;

static gpointer
push_thread (gpointer data)
{
  PushJob *job = data;

  return GINT_TO_POINTER (gst_harness_push (job->h,
          make_frames (job->tl, job->first, job->n)));
}

/* Starts the stream with driver @d, pushes @job from a new thread and
 * returns that thread once the window is out and the streaming thread
 * waits for a seek event (which @d does not send). */
static GThread *
start_waiting_push (GstHarness * h, Driver * d, PushJob * job)
{
  GThread *thread;

  driver_attach (h, d);
  push_start (h);

  thread = g_thread_new ("push", push_thread, job);
  pull_window (h, job->tl, job->first, job->n, FALSE);
  g_usleep (200 * 1000);        /* let it wait */
  return thread;
}

/* A driver that never answers: the streaming thread waits after the
 * window; FLUSH_START must end the wait.  After FLUSH_STOP the element
 * starts afresh. */
GST_START_TEST (test_flush_during_wait)
{
  GstHarness *h = harness_new ();
  Driver d = { .answer_query = TRUE, .send_seeks = FALSE,
    .seeks = {3000}, .n_seeks = 1 };
  Timeline tl = { 0, 0 };
  PushJob job = { h, &tl, 0, WIN };
  GstSegment seg;
  GThread *thread;
  GstBuffer *buf;

  thread = start_waiting_push (h, &d, &job);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (thread)),
      GST_FLOW_FLUSHING);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));

  /* afresh, now with seeks */
  d.send_seeks = TRUE;
  push_frames (h, &tl, 0, WIN, WIN);
  buf = gst_harness_pull (h);
  check_window (buf, &tl, 0, WIN, TRUE);
  fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (buf);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* The same wait ended by PAUSED -> READY. */
GST_START_TEST (test_state_change_during_wait)
{
  GstHarness *h = harness_new ();
  Driver d = { .answer_query = TRUE, .send_seeks = FALSE };
  Timeline tl = { 0, 0 };
  PushJob job = { h, &tl, 0, WIN };
  GThread *thread;

  thread = start_waiting_push (h, &d, &job);
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (thread)),
      GST_FLOW_FLUSHING);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* whisperencnpu ! queue ! stand-in decoder: the decoder runs in the queue's
 * thread, the encoder waits for each seek event. */
GST_START_TEST (test_queue_driver)
{
  GstHarness *h = harness_new_with_queue ();
  Driver d = { .answer_query = TRUE, .send_seeks = TRUE,
    .seeks = {2500, 5100, 8100, 10000}, .n_seeks = 4 };
  Timeline tl = { 5 * GST_SECOND, 0 };

  driver_attach (h, &d);
  push_start (h);
  push_frames (h, &tl, 0, 10000, 400);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  pull_window (h, &tl, 0, WIN, FALSE);
  pull_window (h, &tl, 2500, WIN, TRUE);
  pull_window (h, &tl, 5100, WIN, FALSE);
  pull_window (h, &tl, 8100, 1900, TRUE);
  check_eos (h);
  fail_unless_equals_int (g_atomic_int_get (&d.i_seek), 4);
  fail_unless_equals_int (g_atomic_int_get (&d.n_queries), 1);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* The queue variant, flushed while the encoder waits. */
GST_START_TEST (test_queue_flush_during_wait)
{
  GstHarness *h = harness_new_with_queue ();
  Driver d = { .answer_query = TRUE, .send_seeks = FALSE };
  Timeline tl = { 0, 0 };
  PushJob job = { h, &tl, 0, WIN };
  GThread *thread;

  thread = start_waiting_push (h, &d, &job);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (thread)),
      GST_FLOW_FLUSHING);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));

  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
whisperencnpu_suite (void)
{
  Suite *s = suite_create ("whisperencnpu");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_unchecked_fixture (tc, model_setup, model_teardown);
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_caps);
  tcase_add_test (tc, test_compute_type);
  tcase_add_test (tc, test_n_mels_mismatch);
  tcase_add_test (tc, test_model_errors);
  tcase_add_test (tc, test_npu_backend);
  tcase_add_test (tc, test_npu_fallback);
  tcase_add_test (tc, test_seek_driven);
  tcase_add_test (tc, test_streaming_windows);
  tcase_add_test (tc, test_seek_clamped);
  tcase_add_test (tc, test_no_driver);
  tcase_add_test (tc, test_eos_tail);
  tcase_add_test (tc, test_empty_stream);
  tcase_add_test (tc, test_discontinuity);
  tcase_add_test (tc, test_gap);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_flush_during_wait);
  tcase_add_test (tc, test_state_change_during_wait);
  tcase_add_test (tc, test_queue_driver);
  tcase_add_test (tc, test_speech_gate);
  tcase_add_test (tc, test_queue_flush_during_wait);
  return s;
}

GST_CHECK_MAIN (whisperencnpu);
