/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* appsrc-feed: push raw audio through the Whisper pipeline with chosen
 * timestamps (tests/accuracy/jitter_check.py).
 *
 *   appsrc-feed [OPTIONS] MODEL SAMPLES.f32
 *
 * SAMPLES.f32 holds raw F32LE 16 kHz mono samples.  They are pushed, in
 * buffers of 320 samples (20 ms) with PTS and DURATION, through
 *
 *   appsrc ! whispermel ! whisperencnpu model=MODEL ! whisperdec ! appsink
 *
 * with every whisper element at its default properties (that is the point:
 * the defaults must absorb jitter).  The options change only the PTS, never
 * the samples:
 *
 *   --shift-from SEC --shift-ms MS   every buffer starting at SEC or later
 *                                    gets PTS + MS (one PTS gap of MS ms)
 *   --shift-one SEC --shift-ms MS    only the buffer starting at SEC gets
 *                                    PTS + MS
 *   --jitter-ms MS [--seed N]        every buffer's PTS + a uniform random
 *                                    offset in [-MS, +MS], clamped at 0
 *
 * Output: one line per text buffer on stdout, `START END TEXT` (seconds,
 * from the buffer's PTS and PTS + DURATION).  Bus WARNING messages are
 * printed to stderr as `WARNING from ELEMENT: ...`; any warning not matched
 * by an --expect-warning substring makes the exit status 3.
 *
 * Exit status: 0 at EOS, 1 on a bus ERROR (printed to stderr), 2 on a usage
 * or input error, 3 on an unexpected warning.
 *
 * appsrc runs in push mode, format=time, is-live=false, block=true: every
 * buffer gets into the pipeline, nothing is dropped; appsink sync=false
 * takes the text as fast as it comes.
 */

#include <stdio.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>

#define RATE 16000
#define BUFFER_SAMPLES 320

typedef struct
{
  GstElement *pipeline;
  GstAppSrc *src;
  GMainLoop *loop;
  const gfloat *samples;
  gsize n_samples;
  /* options */
  gdouble shift_from, shift_one, shift_ms, jitter_ms;
  gint seed;
  gchar **expect_warnings;
  /* results */
  int exit_code;
  guint n_warnings_unexpected;
  guint n_text;
  guint64 n_buffers, n_shifted;
  GstFlowReturn feed_ret;
} Feed;

/* ---------------------------------------------------------------------- */
/* the feeder thread: buffers, then EOS */

static gpointer
feed_thread (gpointer user_data)
{
  Feed *f = user_data;
  GRand *rand = g_rand_new_with_seed ((guint32) f->seed);
  /* sample index where the shifts apply (rounded: 4.1 s = sample 65600) */
  gint64 from = f->shift_from >= 0 ? (gint64) (f->shift_from * RATE + 0.5) :
      -1;
  gint64 one = f->shift_one >= 0 ? (gint64) (f->shift_one * RATE + 0.5) : -1;
  gint64 shift_ns = (gint64) (f->shift_ms * GST_MSECOND + 0.5);
  gsize pos;

  for (pos = 0; pos < f->n_samples; pos += BUFFER_SAMPLES) {
    gsize n = MIN (BUFFER_SAMPLES, f->n_samples - pos);
    gint64 start = (gint64) pos, end = (gint64) (pos + n);
    GstClockTime t0 = gst_util_uint64_scale (pos, GST_SECOND, RATE);
    GstClockTime t1 = gst_util_uint64_scale (pos + n, GST_SECOND, RATE);
    gint64 pts = (gint64) t0;
    GstBuffer *buf;
    GstFlowReturn ret;

    /* "the buffer at SEC": the one whose samples cover SEC */
    if ((from >= 0 && start >= from) || (one >= 0 && start <= one
            && one < end)) {
      pts += shift_ns;
      f->n_shifted++;
    }
    if (f->jitter_ms > 0)
      pts += (gint64) (g_rand_double_range (rand, -f->jitter_ms,
              f->jitter_ms) * GST_MSECOND);
    if (pts < 0)
      pts = 0;

    buf = gst_buffer_new_memdup (f->samples + pos, n * sizeof (gfloat));
    GST_BUFFER_PTS (buf) = (GstClockTime) pts;
    GST_BUFFER_DURATION (buf) = t1 - t0;
    ret = gst_app_src_push_buffer (f->src, buf);        /* takes buf */
    if (ret != GST_FLOW_OK) {
      /* flushing after an error, or the pipeline stopped */
      f->feed_ret = ret;
      g_rand_free (rand);
      return NULL;
    }
    f->n_buffers++;
  }
  f->feed_ret = gst_app_src_end_of_stream (f->src);
  g_rand_free (rand);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* appsink: one line per text buffer */

static GstFlowReturn
on_new_sample (GstAppSink * sink, gpointer user_data)
{
  Feed *f = user_data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf;
  GstMapInfo map;
  GstClockTime pts, dur;
  gchar *text, *p;

  if (sample == NULL)
    return GST_FLOW_EOS;
  buf = gst_sample_get_buffer (sample);
  pts = GST_BUFFER_PTS (buf);
  dur = GST_BUFFER_DURATION (buf);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  text = g_strndup ((const gchar *) map.data, map.size);
  gst_buffer_unmap (buf, &map);
  for (p = text; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  if (!GST_CLOCK_TIME_IS_VALID (pts) || !GST_CLOCK_TIME_IS_VALID (dur))
    g_printerr ("text buffer without PTS or DURATION: %s\n", text);
  g_print ("%.3f %.3f %s\n", GST_CLOCK_TIME_IS_VALID (pts) ?
      (gdouble) pts / GST_SECOND : -1.0,
      GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (dur) ?
      (gdouble) (pts + dur) / GST_SECOND : -1.0, text);
  fflush (stdout);
  f->n_text++;
  g_free (text);
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

/* ---------------------------------------------------------------------- */
/* bus */

static gboolean
warning_expected (Feed * f, const gchar * message, const gchar * debug)
{
  gchar **e;

  for (e = f->expect_warnings; e && *e; e++)
    if (strstr (message, *e) || (debug && strstr (debug, *e)))
      return TRUE;
  return FALSE;
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Feed *f = user_data;
  GError *err = NULL;
  gchar *debug = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &debug);
      g_printerr ("ERROR from %s: %s\nDebug: %s\n", GST_OBJECT_NAME
          (GST_MESSAGE_SRC (msg)), err->message, debug ? debug : "(none)");
      f->exit_code = 1;
      g_main_loop_quit (f->loop);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &debug);
      if (warning_expected (f, err->message, debug)) {
        g_printerr ("warning (expected) from %s: %s\nDebug: %s\n",
            GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
            debug ? debug : "(none)");
      } else {
        g_printerr ("WARNING from %s: %s\nDebug: %s\n",
            GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
            debug ? debug : "(none)");
        f->n_warnings_unexpected++;
      }
      break;
    case GST_MESSAGE_EOS:
      g_main_loop_quit (f->loop);
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (debug);
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  Feed f = { 0 };
  GOptionEntry entries[] = {
    {"shift-from", 0, 0, G_OPTION_ARG_DOUBLE, &f.shift_from,
        "Every buffer from SEC on gets PTS + --shift-ms", "SEC"},
    {"shift-one", 0, 0, G_OPTION_ARG_DOUBLE, &f.shift_one,
        "Only the buffer at SEC gets PTS + --shift-ms", "SEC"},
    {"shift-ms", 0, 0, G_OPTION_ARG_DOUBLE, &f.shift_ms,
        "The shift of --shift-from / --shift-one (ms)", "MS"},
    {"jitter-ms", 0, 0, G_OPTION_ARG_DOUBLE, &f.jitter_ms,
        "Every buffer's PTS + uniform random in [-MS, +MS]", "MS"},
    {"seed", 0, 0, G_OPTION_ARG_INT, &f.seed,
        "Seed of the jitter (default 1)", "N"},
    {"expect-warning", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f.expect_warnings,
        "A bus warning containing this text is expected (repeatable)", "TEXT"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  gchar *contents = NULL;
  gsize length = 0;
  GstElement *enc, *sink;
  GstCaps *caps;
  GstBus *bus;
  GThread *thread = NULL;
  guint watch;

  f.shift_from = -1;
  f.shift_one = -1;
  f.seed = 1;
  ctx = g_option_context_new ("MODEL SAMPLES.f32 - feed raw 16 kHz mono "
      "F32LE audio through whispermel ! whisperencnpu ! whisperdec");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  if (argc != 3) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    g_printerr ("%s", help);
    g_free (help);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if ((f.shift_from >= 0 || f.shift_one >= 0) && f.shift_ms == 0) {
    g_printerr ("--shift-from / --shift-one need --shift-ms\n");
    return 2;
  }
  if (f.jitter_ms < 0) {
    g_printerr ("--jitter-ms must be >= 0\n");
    return 2;
  }

  if (!g_file_get_contents (argv[2], &contents, &length, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  if (length % sizeof (gfloat) != 0 || length == 0) {
    g_printerr ("%s: %" G_GSIZE_FORMAT " bytes, not a whole number of "
        "float32 samples\n", argv[2], length);
    return 2;
  }
  f.samples = (const gfloat *) contents;
  f.n_samples = length / sizeof (gfloat);

  f.pipeline = gst_parse_launch ("appsrc name=src ! whispermel ! "
      "whisperencnpu name=enc ! whisperdec ! appsink name=sink", &err);
  if (f.pipeline == NULL) {
    g_printerr ("Could not build the pipeline: %s\n"
        "(is the plugin on GST_PLUGIN_PATH?)\n", err->message);
    return 1;
  }
  f.src = GST_APP_SRC (gst_bin_get_by_name (GST_BIN (f.pipeline), "src"));
  enc = gst_bin_get_by_name (GST_BIN (f.pipeline), "enc");
  sink = gst_bin_get_by_name (GST_BIN (f.pipeline), "sink");

  caps = gst_caps_from_string ("audio/x-raw,format=F32LE,rate=16000,"
      "channels=1,layout=interleaved");
  g_object_set (f.src, "caps", caps, "format", GST_FORMAT_TIME,
      "is-live", FALSE, "block", TRUE, NULL);
  gst_caps_unref (caps);
  g_object_set (enc, "model", argv[1], NULL);
  g_object_set (sink, "sync", FALSE, "emit-signals", TRUE, NULL);
  g_signal_connect (sink, "new-sample", G_CALLBACK (on_new_sample), &f);
  gst_object_unref (enc);
  gst_object_unref (sink);

  f.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (f.pipeline);
  watch = gst_bus_add_watch (bus, on_bus_message, &f);

  if (gst_element_set_state (f.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

    if (msg != NULL) {
      on_bus_message (bus, msg, &f);
      gst_message_unref (msg);
    } else {
      g_printerr ("Could not start the pipeline\n");
    }
    f.exit_code = 1;
  } else {
    thread = g_thread_new ("appsrc-feed", feed_thread, &f);
    g_main_loop_run (f.loop);
  }

  /* NULL flushes appsrc, so a feeder blocked on a full queue returns */
  gst_element_set_state (f.pipeline, GST_STATE_NULL);
  if (thread)
    g_thread_join (thread);
  if (f.exit_code == 0 && f.feed_ret != GST_FLOW_OK) {
    g_printerr ("pushing to appsrc failed: %s\n",
        gst_flow_get_name (f.feed_ret));
    f.exit_code = 1;
  }
  g_printerr ("appsrc-feed: %" G_GUINT64_FORMAT " buffers (%" G_GSIZE_FORMAT
      " samples, %.3f s), %" G_GUINT64_FORMAT " shifted, jitter +-%g ms "
      "(seed %d), %u text buffers, %u unexpected warnings\n", f.n_buffers,
      f.n_samples, (gdouble) f.n_samples / RATE, f.n_shifted, f.jitter_ms,
      f.seed, f.n_text, f.n_warnings_unexpected);
  if (f.exit_code == 0 && f.n_warnings_unexpected > 0)
    f.exit_code = 3;

  g_source_remove (watch);
  gst_object_unref (bus);
  gst_object_unref (f.src);
  gst_object_unref (f.pipeline);
  g_main_loop_unref (f.loop);
  g_strfreev (f.expect_warnings);
  g_free (contents);
  return f.exit_code;
}
