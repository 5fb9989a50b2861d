/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gst-whisper-npu: Whisper speech-to-text elements for GStreamer.
 *
 * whispermel ! whisperencnpu ! whisperdec
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <glib/gi18n-lib.h>

#include "gstwhispermel.h"
#include "gstwhisperdec.h"
#include "gstwhisperencnpu.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

#ifdef ENABLE_NLS
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
#endif

  ret |= GST_ELEMENT_REGISTER (whispermel, plugin);
  ret |= GST_ELEMENT_REGISTER (whisperdec, plugin);
  ret |= GST_ELEMENT_REGISTER (whisperencnpu, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR,
    whispernpu,
    "Whisper speech-to-text: log-mel front end, encoder (CPU or AMD NPU), decoder",
    plugin_init, VERSION, "LGPL", PACKAGE_NAME, GST_PACKAGE_ORIGIN)
