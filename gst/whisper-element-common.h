/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the whisper elements: metadata, queries, memory.
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __WHISPER_ELEMENT_COMMON_H__
#define __WHISPER_ELEMENT_COMMON_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* The author of every element, as gst-inspect-1.0 shows it. */
#define WHISPER_ELEMENT_AUTHOR "gst-whisper-npu developers"

G_GNUC_INTERNAL
gboolean whisper_element_answer_caps_query (GstQuery * query, GstCaps * caps);

G_GNUC_INTERNAL
gboolean whisper_element_answer_latency_query (GstElement * element,
    GstPad * sinkpad, GstQuery * query, GstClockTime latency);

G_GNUC_INTERNAL
void whisper_element_release_memory (GstElement * element);

G_END_DECLS

#endif /* __WHISPER_ELEMENT_COMMON_H__ */
