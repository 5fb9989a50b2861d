/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pad query helpers shared by the whisper elements.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "whisper-element-common.h"

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

#ifndef GST_DISABLE_GST_DEBUG
#define GST_CAT_DEFAULT ensure_debug_category ()
static GstDebugCategory *
ensure_debug_category (void)
{
  static gsize cat_gonce = 0;

  if (g_once_init_enter (&cat_gonce)) {
    gsize cat = (gsize) _gst_debug_category_new ("whisperelement", 0,
        "whisper element helpers");
    g_once_init_leave (&cat_gonce, cat);
  }
  return (GstDebugCategory *) cat_gonce;
}
#endif /* GST_DISABLE_GST_DEBUG */

/* Answers a CAPS query with @caps (taken) intersected with the query's
 * filter, if any. */
gboolean
whisper_element_answer_caps_query (GstQuery * query, GstCaps * caps)
{
  GstCaps *filter;

  gst_query_parse_caps (query, &filter);
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  gst_query_set_caps_result (query, caps);
  gst_caps_unref (caps);
  return TRUE;
}

/* Answers a LATENCY query on the src pad: asks upstream through @sinkpad
 * and adds @latency, what @element itself holds back, to min and max. */
gboolean
whisper_element_answer_latency_query (GstElement * element, GstPad * sinkpad,
    GstQuery * query, GstClockTime latency)
{
  gboolean live;
  GstClockTime min, max;

  if (!gst_pad_peer_query (sinkpad, query))
    return FALSE;
  gst_query_parse_latency (query, &live, &min, &max);
  min += latency;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += latency;
  GST_DEBUG_OBJECT (element, "latency: live %d, min %" GST_TIME_FORMAT
      ", max %" GST_TIME_FORMAT, live, GST_TIME_ARGS (min),
      GST_TIME_ARGS (max));
  gst_query_set_latency (query, live, min, max);
  return TRUE;
}

/* Give the heap memory an element freed at stop back to the system.
 *
 * The engine maps its large buffers itself (kernel_alloc), so they are
 * gone at free; what is left in glibc's arenas after a stop is GStreamer's
 * and GLib's (buffers, adapters, events) on the streaming threads that
 * ended, and a restarted pipeline's new threads sit on other arenas.
 * Trimming returns those free pages: with it RSS grew by 4 % from cycle 10
 * to 100 of tests/check/pipelines/lifecycle.c, by 7 % without
 * (docs/architecture.md, "Threads and memory").
 *
 * malloc_trim() only returns pages that are already free and changes no
 * allocator setting of the application that loaded us (mallopt would).
 * It costs a walk over the heap, once per stop.  Without glibc, nothing. */
void
whisper_element_release_memory (GstElement * element)
{
#ifdef HAVE_MALLOC_TRIM
  gint64 t0 = g_get_monotonic_time ();
  int released = malloc_trim (0);

  GST_DEBUG_OBJECT (element, "malloc_trim: %s memory released in %"
      G_GINT64_FORMAT " us", released ? "some" : "no",
      g_get_monotonic_time () - t0);
#endif
}
