/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-dir.h"

#include <glib.h>
#include <glib/gstdio.h>

void
test_dir_remove (char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d))) {
    char *p = g_build_filename (dir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}
