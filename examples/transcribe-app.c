/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* transcribe-app: embed the Whisper pipeline in an application.
 *
 *   transcribe-app [--model NAME_OR_PATH] [--beam N] [--language CODE] FILE
 *
 * Builds
 *
 *   filesrc ! decodebin ! audioconvert ! audioresample !
 *     whispermel ! whisperencnpu ! whisperdec ! fakesink
 *
 * and prints every segment that whisperdec announces on the bus (the
 * `whisper-segment` element message, see docs/whisperdec.md) as
 *
 *   [HH:MM:SS.mmm --> HH:MM:SS.mmm] text
 *
 * The text buffers themselves go to fakesink: an application that only
 * wants the words and their times does not need to read buffers at all.
 *
 * Exit status: 0 at the end of the stream (EOS, also after Ctrl-C), 1 on a
 * pipeline error (the message and its debug string go to stderr), 2 on a
 * usage error, 130 after a second Ctrl-C.  Ctrl-C sends EOS, so the audio
 * already read is still transcribed (with a file, filesrc reads far ahead,
 * so that is often the whole file); a second Ctrl-C quits at once.
 *
 * Run it from the build tree with the plugin on GST_PLUGIN_PATH:
 *
 *   GST_PLUGIN_PATH=build/gst build/examples/transcribe-app talk.flac
 *
 * Licence: LGPL-2.1-or-later.
 */

#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>
#include <gst/gst.h>

typedef struct
{
  GstElement *pipeline;
  GMainLoop *loop;
  int exit_code;
  gboolean eos_sent;            /* Ctrl-C pressed once */
} App;

/* Print a GstClockTime as HH:MM:SS.mmm. */
static void
format_time (GstClockTime t, char out[16])
{
  guint64 ms;

  if (!GST_CLOCK_TIME_IS_VALID (t)) {
    g_strlcpy (out, "--:--:--.---", 16);
    return;
  }
  ms = t / GST_MSECOND;
  g_snprintf (out, 16, "%02u:%02u:%02u.%03u",
      (guint) (ms / 3600000), (guint) (ms / 60000 % 60),
      (guint) (ms / 1000 % 60), (guint) (ms % 1000));
}

/* One whisper-segment message: print its times and text. */
static void
print_segment (const GstStructure * s)
{
  guint64 start = GST_CLOCK_TIME_NONE, end = GST_CLOCK_TIME_NONE;
  const gchar *text;
  char a[16], b[16];

  gst_structure_get_uint64 (s, "start", &start);
  gst_structure_get_uint64 (s, "end", &end);
  text = gst_structure_get_string (s, "text");

  format_time (start, a);
  format_time (end, b);
  g_print ("[%s --> %s] %s\n", a, b, text ? text : "");
  fflush (stdout);              /* show each segment as soon as it arrives */
}

static void
print_error (GstMessage * msg)
{
  GError *err = NULL;
  gchar *debug = NULL;

  gst_message_parse_error (msg, &err, &debug);
  g_printerr ("ERROR from %s: %s\n", GST_OBJECT_NAME (msg->src),
      err->message);
  g_printerr ("Debug: %s\n", debug ? debug : "(none)");
  g_clear_error (&err);
  g_free (debug);
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  App *app = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (s != NULL && gst_structure_has_name (s, "whisper-segment"))
        print_segment (s);
      break;
    }
    case GST_MESSAGE_ERROR:
      print_error (msg);
      app->exit_code = 1;
      g_main_loop_quit (app->loop);
      break;
    case GST_MESSAGE_EOS:
      app->exit_code = 0;
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* Ctrl-C: the first one asks the pipeline to finish (EOS travels down and
 * the decoder flushes what it has), the second one gives up. */
static gboolean
on_sigint (gpointer user_data)
{
  App *app = user_data;

  if (!app->eos_sent) {
    g_printerr ("Interrupt: finishing (Ctrl-C again to quit now)\n");
    app->eos_sent = TRUE;
    gst_element_send_event (app->pipeline, gst_event_new_eos ());
  } else {
    app->exit_code = 130;       /* the shell's code for "killed by SIGINT" */
    g_main_loop_quit (app->loop);
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  gchar *model = NULL, *language = NULL;
  gint beam = 0;                /* 0: keep whisperdec's default */
  GOptionEntry entries[] = {
    {"model", 'm', 0, G_OPTION_ARG_STRING, &model,
        "Whisper model: a known name (tiny.en, base) or a path", "NAME_OR_PATH"},
    {"beam", 'b', 0, G_OPTION_ARG_INT, &beam,
        "Beam size, 1 = greedy (default 5)", "N"},
    {"language", 'l', 0, G_OPTION_ARG_STRING, &language,
        "Language code, e.g. en (default: detect)", "CODE"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  App app = { 0 };
  GstElement *src, *enc, *dec;
  GstBus *bus;
  guint bus_watch, sigint_watch;

  ctx = g_option_context_new ("FILE - print timed Whisper transcription");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  if (argc != 2) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    g_printerr ("%s", help);
    g_free (help);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (beam < 0 || beam > 16) {
    g_printerr ("--beam must be between 1 and 16\n");
    return 2;
  }

  /* The pipeline, named elements for the properties.  Setting the file name
   * with g_object_set (not in the description) needs no quoting. */
  app.pipeline = gst_parse_launch ("filesrc name=src ! decodebin ! "
      "audioconvert ! audioresample ! whispermel ! "
      "whisperencnpu name=enc ! whisperdec name=dec ! fakesink", &err);
  if (app.pipeline == NULL) {
    g_printerr ("Could not build the pipeline: %s\n"
        "(is the plugin on GST_PLUGIN_PATH?)\n", err->message);
    return 1;
  }

  src = gst_bin_get_by_name (GST_BIN (app.pipeline), "src");
  enc = gst_bin_get_by_name (GST_BIN (app.pipeline), "enc");
  dec = gst_bin_get_by_name (GST_BIN (app.pipeline), "dec");
  g_object_set (src, "location", argv[1], NULL);
  if (model != NULL)
    g_object_set (enc, "model", model, NULL);
  if (beam > 0)
    g_object_set (dec, "beam-size", beam, NULL);
  if (language != NULL)
    g_object_set (dec, "language", language, NULL);
  gst_object_unref (src);
  gst_object_unref (enc);
  gst_object_unref (dec);

  app.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (app.pipeline);
  bus_watch = gst_bus_add_watch (bus, on_bus_message, &app);
  sigint_watch = g_unix_signal_add (SIGINT, on_sigint, &app);

  /* A state change that fails at once (a missing model, an unreadable
   * file) has posted its ERROR on the bus: the loop reports it. */
  if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

    if (msg != NULL) {
      print_error (msg);
      gst_message_unref (msg);
    } else {
      g_printerr ("Could not start the pipeline\n");
    }
    app.exit_code = 1;
  } else {
    g_main_loop_run (app.loop);
  }

  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  g_source_remove (sigint_watch);
  g_source_remove (bus_watch);
  gst_object_unref (bus);
  gst_object_unref (app.pipeline);
  g_main_loop_unref (app.loop);
  g_free (model);
  g_free (language);
  return app.exit_code;
}
