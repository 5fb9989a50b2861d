/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON side files (config.json, vocabulary.json, tokenizer.json,
 * safetensors headers) through json-glib, with errors naming the file. */
#include <string.h>

#include "model-internal.h"

#define JSON_MAX_DEPTH 64

/* json-glib 1.6 recurses once per nesting level without a bound (100000
 * '[' overflow the stack), so deep nesting is refused before parsing. */
static gboolean
json_depth_ok (const char *p, size_t len)
{
  int depth = 0;
  gboolean in_string = FALSE;
  for (size_t i = 0; i < len; i++) {
    char c = p[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '[' || c == '{') {
      if (++depth > JSON_MAX_DEPTH)
        return FALSE;
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return TRUE;
}

JsonNode *
whisper_json_parse (const char *text, size_t len, const char *file,
    GError ** error)
{
  if (!json_depth_ok (text, len)) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: invalid JSON: nested too deeply (more than %d levels)", file,
        JSON_MAX_DEPTH);
    return NULL;
  }
  JsonParser *parser = json_parser_new ();
  GError *e = NULL;
  JsonNode *root = NULL;
  if (!json_parser_load_from_data (parser, text, len, &e)) {
    /* "<data>:1:3: Parse error: unexpected character ..." */
    const char *msg = e->message;
    if (g_str_has_prefix (msg, "<data>:"))
      msg += 7;
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: invalid JSON at %s", file, msg);
    g_error_free (e);
  } else if (!(root = json_parser_steal_root (parser))) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_FORMAT,
        "%s: invalid JSON: no value", file);
  }
  g_object_unref (parser);
  return root;
}

JsonNode *
whisper_json_read_file (const char *file, gboolean * present, GError ** error)
{
  GMappedFile *map;
  GError *e = NULL;
  *present = g_file_test (file, G_FILE_TEST_EXISTS);
  if (!*present)
    return NULL;
  if (!(map = g_mapped_file_new (file, FALSE, &e))) {
    g_set_error (error, WHISPER_ERROR, WHISPER_ERROR_IO,
        "%s: cannot read: %s", file, e->message);
    g_error_free (e);
    return NULL;
  }
  /* an empty file maps to NULL contents */
  const char *text = g_mapped_file_get_contents (map);
  JsonNode *j = whisper_json_parse (text ? text : "",
      g_mapped_file_get_length (map), file, error);
  g_mapped_file_unref (map);
  return j;
}

JsonNode *
whisper_json_get (JsonNode * obj, const char *key)
{
  if (!obj || !JSON_NODE_HOLDS_OBJECT (obj))
    return NULL;
  return json_object_get_member (json_node_get_object (obj), key);
}

const char *
whisper_json_string (JsonNode * j)
{
  if (!j || json_node_get_value_type (j) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (j);
}

gboolean
whisper_json_number (JsonNode * j, double *out)
{
  if (!j || !JSON_NODE_HOLDS_VALUE (j))
    return FALSE;
  GType t = json_node_get_value_type (j);
  if (t == G_TYPE_INT64)
    *out = (double) json_node_get_int (j);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double (j);
  else
    return FALSE;
  return TRUE;
}

gboolean
whisper_json_int (JsonNode * j, int *out)
{
  double v;
  if (!whisper_json_number (j, &v) || !(v >= G_MININT && v <= G_MAXINT)
      || v != (double) (int) v)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

int
whisper_json_length (JsonNode * j)
{
  if (j && JSON_NODE_HOLDS_ARRAY (j))
    return json_array_get_length (json_node_get_array (j));
  if (j && JSON_NODE_HOLDS_OBJECT (j))
    return json_object_get_size (json_node_get_object (j));
  return -1;
}

JsonNode *
whisper_json_item (JsonNode * array, int i)
{
  return json_array_get_element (json_node_get_array (array), i);
}
