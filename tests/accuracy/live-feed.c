/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* live-feed: play raw audio into the Whisper pipeline as a live source, in
 * real time, and log when each text arrives (tests/accuracy/live_check.py).
 *
 *   live-feed [--jitter-ms MS] [--seed N] MODEL SAMPLES.f32 [DEC-PROP=VALUE...]
 *
 * SAMPLES.f32: raw F32LE 16 kHz mono.  They are pushed in 20 ms buffers at
 * the pace of the wall clock, each push moved by a uniform random offset
 * in [-MS, +MS] (default 20), through
 *
 *   appsrc is-live=true do-timestamp=true format=time ! whispermel !
 *   whisperencnpu model=MODEL ! whisperdec DEC-PROPS ! appsink sync=false
 *
 * so the buffers carry the running time of their push, jitter included.
 * Output lines (times in seconds of running time):
 *   first PTS                      the first buffer's PTS (the running
 *                                  time of its push)
 *   latency START END              the pipeline's LATENCY (min) before the
 *                                  first buffer and at EOS
 *   final ARRIVAL PTS END|text|    a text buffer, when appsink got it
 *   partial ARRIVAL START END|text|  a whisper-partial message
 *   rss SECONDS KB                 the process's resident memory, every 10 s
 * Bus warnings go to stderr.  Exit status 0 at EOS, 1 on an error, 2 on a
 * usage or input error.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>

#define RATE 16000
#define BUFFER_SAMPLES 320

typedef struct
{
  GstElement *pipeline;
  GstElement *sink;
  GstAppSrc *src;
  GMainLoop *loop;
  const gfloat *samples;
  gsize n_samples;
  gdouble jitter_ms;
  GRand *rand;
  int exit_code;
} Feed;

static gdouble
running_time (Feed * f)
{
  GstClockTime t = gst_element_get_current_running_time (f->pipeline);
  return GST_CLOCK_TIME_IS_VALID (t) ? t / 1e9 : -1.0;
}

static long
rss_kb (void)
{
  long pages = 0, resident = 0;
  FILE *fp = fopen ("/proc/self/statm", "r");
  if (fp) {
    if (fscanf (fp, "%ld %ld", &pages, &resident) != 2)
      resident = 0;
    fclose (fp);
  }
  return resident * 4;
}

/* whisperdec's LATENCY answer (what a syncing sink would get; appsink
 * sync=false does not ask upstream) */
static gdouble
pipeline_latency (Feed * f)
{
  GstQuery *q = gst_query_new_latency ();
  GstPad *pad = gst_element_get_static_pad (f->sink, "sink");
  GstClockTime min = GST_CLOCK_TIME_NONE;
  if (gst_pad_peer_query (pad, q))
    gst_query_parse_latency (q, NULL, &min, NULL);
  gst_object_unref (pad);
  gst_query_unref (q);
  return GST_CLOCK_TIME_IS_VALID (min) ? min / 1e9 : -1.0;
}

/* the pushing thread: 20 ms at a time, on the wall clock */
static gpointer
push_thread (gpointer data)
{
  Feed *f = data;
  const gint64 t0 = g_get_monotonic_time ();
  gint64 next_rss = t0;
  gboolean first = TRUE;

  for (gsize i = 0; i * BUFFER_SAMPLES < f->n_samples; i++) {
    gsize n = MIN (BUFFER_SAMPLES, f->n_samples - i * BUFFER_SAMPLES);
    gint64 due = t0 + (gint64) i * BUFFER_SAMPLES * G_USEC_PER_SEC / RATE
        + (gint64) (g_rand_double_range (f->rand, -f->jitter_ms,
            f->jitter_ms) * 1000);
    gint64 now = g_get_monotonic_time ();
    if (due > now)
      g_usleep (due - now);
    GstBuffer *buf = gst_buffer_new_memdup (f->samples + i * BUFFER_SAMPLES,
        n * sizeof (gfloat));
    /* do-timestamp gives it the running time of this moment */
    if (first)
      printf ("first %.3f\n", running_time (f));
    first = FALSE;
    if (gst_app_src_push_buffer (f->src, buf) != GST_FLOW_OK)
      break;
    if (g_get_monotonic_time () >= next_rss) {
      printf ("rss %.1f %ld\n", (g_get_monotonic_time () - t0) / 1e6,
          rss_kb ());
      next_rss += 10 * G_USEC_PER_SEC;
    }
  }
  gst_app_src_end_of_stream (f->src);
  return NULL;
}

static GstFlowReturn
on_sample (GstAppSink * sink, gpointer data)
{
  Feed *f = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstMapInfo map;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    printf ("final %.3f %.3f %.3f|%.*s|\n", running_time (f),
        GST_BUFFER_PTS (buf) / 1e9, (GST_BUFFER_PTS (buf) +
            GST_BUFFER_DURATION (buf)) / 1e9, (int) map.size,
        (const char *) map.data);
    fflush (stdout);
    gst_buffer_unmap (buf, &map);
  }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  Feed *f = data;
  GError *err = NULL;
  gchar *dbg = NULL;
  const GstStructure *s;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "whisper-partial")) {
        guint64 start = GST_CLOCK_TIME_NONE, end = GST_CLOCK_TIME_NONE;
        gst_structure_get_uint64 (s, "start", &start);
        gst_structure_get_uint64 (s, "end", &end);
        printf ("partial %.3f %.3f %.3f|%s|\n", running_time (f),
            GST_CLOCK_TIME_IS_VALID (start) ? start / 1e9 : -1.0,
            GST_CLOCK_TIME_IS_VALID (end) ? end / 1e9 : -1.0,
            gst_structure_get_string (s, "text"));
      }
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &dbg);
      fprintf (stderr, "WARNING from %s: %s (%s)\n",
          GST_OBJECT_NAME (msg->src), err->message, dbg ? dbg : "");
      g_clear_error (&err);
      g_free (dbg);
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &dbg);
      fprintf (stderr, "ERROR from %s: %s (%s)\n",
          GST_OBJECT_NAME (msg->src), err->message, dbg ? dbg : "");
      g_clear_error (&err);
      g_free (dbg);
      f->exit_code = 1;
      g_main_loop_quit (f->loop);
      break;
    case GST_MESSAGE_EOS:
      g_main_loop_quit (f->loop);
      break;
    default:
      break;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  Feed f = {.jitter_ms = 20.0 };
  guint seed = 1;
  int a = 1;

  gst_init (&argc, &argv);
  for (; a + 1 < argc && g_str_has_prefix (argv[a], "--"); a += 2) {
    if (!strcmp (argv[a], "--jitter-ms"))
      f.jitter_ms = g_ascii_strtod (argv[a + 1], NULL);
    else if (!strcmp (argv[a], "--seed"))
      seed = (guint) atoi (argv[a + 1]);
    else
      break;
  }
  if (argc - a < 2) {
    fprintf (stderr, "usage: %s [--jitter-ms MS] [--seed N] MODEL "
        "SAMPLES.f32 [DEC-PROP=VALUE...]\n", argv[0]);
    return 2;
  }
  gchar *data = NULL;
  gsize len = 0;
  GError *err = NULL;
  if (!g_file_get_contents (argv[a + 1], &data, &len, &err)) {
    fprintf (stderr, "%s\n", err->message);
    return 2;
  }
  f.samples = (const gfloat *) data;
  f.n_samples = len / sizeof (gfloat);
  f.rand = g_rand_new_with_seed (seed);

  GString *desc = g_string_new (NULL);
  g_string_append_printf (desc, "appsrc name=src is-live=true "
      "do-timestamp=true format=time caps=audio/x-raw,format=F32LE,"
      "rate=16000,channels=1,layout=interleaved ! whispermel ! "
      "whisperencnpu model=\"%s\" ! whisperdec", argv[a]);
  for (int i = a + 2; i < argc; i++)
    g_string_append_printf (desc, " %s", argv[i]);
  g_string_append (desc, " ! appsink name=sink sync=false");
  f.pipeline = gst_parse_launch (desc->str, &err);
  g_string_free (desc, TRUE);
  if (!f.pipeline) {
    fprintf (stderr, "%s\n", err->message);
    return 2;
  }
  f.src = GST_APP_SRC (gst_bin_get_by_name (GST_BIN (f.pipeline), "src"));
  f.sink = gst_bin_get_by_name (GST_BIN (f.pipeline), "sink");
  GstAppSinkCallbacks cb = {.new_sample = on_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (f.sink), &cb, &f, NULL);
  g_object_set (f.src, "block", TRUE, "max-bytes", (guint64) 64000, NULL);

  f.loop = g_main_loop_new (NULL, FALSE);
  GstBus *bus = gst_element_get_bus (f.pipeline);
  gst_bus_add_watch (bus, on_bus, &f);
  if (gst_element_set_state (f.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    fprintf (stderr, "cannot start the pipeline\n");
    return 1;
  }
  /* (no get_state: the sink only commits PLAYING with the first text) */
  gdouble lat_start = pipeline_latency (&f);
  GThread *pusher = g_thread_new ("push", push_thread, &f);
  g_main_loop_run (f.loop);
  printf ("latency %.3f %.3f\n", lat_start, pipeline_latency (&f));
  gst_element_set_state (f.pipeline, GST_STATE_NULL);
  g_thread_join (pusher);

  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (f.sink);
  gst_object_unref (f.src);
  gst_object_unref (f.pipeline);
  g_main_loop_unref (f.loop);
  g_rand_free (f.rand);
  g_free (data);
  return f.exit_code;
}
