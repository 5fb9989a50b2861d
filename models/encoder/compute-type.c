/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The compute types (whisper.h): names, and what AUTO stands for. */
#include "whisper.h"

#include <string.h>

static const char *const names[] = {
  [WHISPER_COMPUTE_AUTO] = "auto",
  [WHISPER_COMPUTE_FLOAT32] = "float32",
  [WHISPER_COMPUTE_INT8] = "int8",
  [WHISPER_COMPUTE_BFLOAT16] = "bfloat16",
};

const char *
whisper_compute_type_name (whisper_compute_type type)
{
  if ((unsigned) type < G_N_ELEMENTS (names))
    return names[type];
  return "unknown";
}

gboolean
whisper_compute_type_from_name (const char *name, whisper_compute_type * type)
{
  for (unsigned i = 0; name && i < G_N_ELEMENTS (names); i++)
    if (strcmp (name, names[i]) == 0) {
      *type = (whisper_compute_type) i;
      return TRUE;
    }
  return FALSE;
}
