/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* manifest.json of a kernel directory, through json-glib. */
#include "npu-manifest.h"
#include "whisper.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define MANIFEST_FORMAT "gst-whisper-npu-aie-manifest"
/* version 2 added batch and b_offset; version 1 (without them) is still
 * read, as batch 1 programs */
#define MANIFEST_VERSION 2

void
npu_manifest_free (npu_manifest * m)
{
  if (!m)
    return;
  for (int i = 0; i < m->n_programs; i++) {
    g_free ((char *) m->programs[i].name);
    g_free ((char *) m->programs[i].xclbin_path);
    g_free ((char *) m->programs[i].insts_path);
    g_free ((char *) m->programs[i].kernel_name);
  }
  g_free (m->programs);
  g_free (m->dir);
  g_free (m->device);
  g_free (m->generation);
  g_free (m);
}

static const char *
member_string (JsonObject * o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* a positive integer member, or 0 */
static int
member_int (JsonObject * o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64)
    return 0;
  gint64 v = json_node_get_int (n);
  return v > 0 && v <= G_MAXINT ? (int) v : 0;
}

/* an optional non-negative integer member: @fallback when absent, FALSE
 * when present but not one */
static gboolean
member_optional (JsonObject * o, const char *name, gint64 fallback,
    gint64 max, gint64 * out)
{
  JsonNode *n = json_object_get_member (o, name);
  *out = fallback;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return *out >= 0 && *out <= max;
}

/* program @i of the list, or FALSE with the field that is wrong */
static gboolean
read_program (npu_manifest * m, JsonNode * node, int i, const char *path,
    GError ** error)
{
  npu_program_desc *d = &m->programs[i];
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ?
      json_node_get_object (node) : NULL;
  const char *name = o ? member_string (o, "name") : NULL;
  const char *kernel = o ? member_string (o, "kernel") : NULL;
  const char *xclbin = o ? member_string (o, "xclbin") : NULL;
  const char *insts = o ? member_string (o, "insts") : NULL;
  const char *missing = !o ? "the entry is not an object" : !name ? "name" :
      !kernel ? "kernel" : !xclbin ? "xclbin" : !insts ? "insts" : NULL;
  if (!missing) {
    static const char *const dims[6] = { "M", "K", "N", "tile_m", "tile_k",
      "tile_n"
    };
    int *dst[6] = { &d->M, &d->K, &d->N, &d->tile_m, &d->tile_k, &d->tile_n };
    for (int k = 0; k < 6 && !missing; k++)
      if (!(*dst[k] = member_int (o, dims[k])))
        missing = dims[k];
  }
  gint64 batch = 1, b_offset = 0;
  if (!missing && (!member_optional (o, "batch", 1, G_MAXINT, &batch)
          || batch < 1))
    missing = "batch";
  if (!missing && !member_optional (o, "b_offset", 0, G_MAXUINT32,
          &b_offset))
    missing = "b_offset";
  d->batch = (int) batch;
  d->b_offset = (size_t) b_offset;
  if (missing) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_DEVICE,
        "%s: programs[%d]: %s%s", path, i, missing, strchr (missing, ' ') ?
        "" : " is missing or not a positive integer / string");
    return FALSE;
  }
  d->name = g_strdup (name);
  d->kernel_name = g_strdup (kernel);
  d->xclbin_path = g_path_is_absolute (xclbin) ? g_strdup (xclbin) :
      g_build_filename (m->dir, xclbin, NULL);
  d->insts_path = g_path_is_absolute (insts) ? g_strdup (insts) :
      g_build_filename (m->dir, insts, NULL);
  return TRUE;
}

npu_manifest *
npu_manifest_read (const char *dir, GError ** error)
{
  char *path = g_build_filename (dir, "manifest.json", NULL);
  JsonParser *parser = json_parser_new ();
  GError *local = NULL;
  npu_manifest *m = NULL;

  if (!json_parser_load_from_file (parser, path, &local)) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_DEVICE,
        "no NPU kernel manifest: %s: %s", path, local->message);
    g_clear_error (&local);
    goto out;
  }
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *top = root && JSON_NODE_HOLDS_OBJECT (root) ?
      json_node_get_object (root) : NULL;
  const char *format = top ? member_string (top, "format") : NULL;
  if (!format || strcmp (format, MANIFEST_FORMAT) != 0
      || member_int (top, "version") < 1
      || member_int (top, "version") > MANIFEST_VERSION) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_DEVICE,
        "%s: not a version 1 to %d \"%s\"", path, MANIFEST_VERSION,
        MANIFEST_FORMAT);
    goto out;
  }
  JsonNode *list = json_object_get_member (top, "programs");
  JsonArray *programs = list && JSON_NODE_HOLDS_ARRAY (list) ?
      json_node_get_array (list) : NULL;
  if (!programs || json_array_get_length (programs) == 0) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_DEVICE,
        "%s: \"programs\" is missing or empty", path);
    goto out;
  }
  m = g_new0 (npu_manifest, 1);
  m->dir = g_strdup (dir);
  m->device = g_strdup (member_string (top, "device"));
  m->generation = g_strdup (member_string (top, "generation"));
  const int n = (int) json_array_get_length (programs);
  m->programs = g_new0 (npu_program_desc, n);
  for (int i = 0; i < n; i++, m->n_programs++)
    if (!read_program (m, json_array_get_element (programs, i), i, path,
            error)) {
      npu_manifest_free (m);
      m = NULL;
      goto out;
    }
out:
  g_object_unref (parser);
  g_free (path);
  return m;
}

/* @d computes @batch GEMMs of at least K and N, its operands packed or
 * not as asked */
static gboolean
takes (const npu_program_desc * d, int batch, gboolean packed, int K, int N)
{
  return d->batch == batch && (d->b_offset != 0) == (packed != 0)
      && d->K >= K && d->N >= N;
}

const npu_program_desc *
npu_manifest_find (const npu_manifest * m, int batch, gboolean packed, int M,
    int K, int N)
{
  const npu_program_desc *best = NULL;
  double best_size = 0;
  for (int i = 0; i < m->n_programs; i++) {
    const npu_program_desc *d = &m->programs[i];
    if (d->M < M || !takes (d, batch, packed, K, N))
      continue;
    const double size = (double) d->M * d->K * d->N;
    if (!best || size < best_size) {
      best = d;
      best_size = size;
    }
  }
  return best;
}

const npu_program_desc *
npu_manifest_find_rows (const npu_manifest * m, int batch, gboolean packed,
    int M, int K, int N)
{
  const npu_program_desc *best = npu_manifest_find (m, batch, packed, M, K,
      N);
  for (int i = 0; !best && i < m->n_programs; i++) {
    const npu_program_desc *d = &m->programs[i];
    if (takes (d, batch, packed, K, N))
      best = d;
  }
  for (int i = 0; best && best->M < M && i < m->n_programs; i++) {
    const npu_program_desc *d = &m->programs[i];
    if (takes (d, batch, packed, K, N) && (d->M > best->M
            || (d->M == best->M
                && (double) d->K * d->N < (double) best->K * best->N)))
      best = d;
  }
  return best;
}
