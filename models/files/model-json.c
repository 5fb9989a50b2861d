/* A small JSON reader for model side files (config.json, vocabulary.json,
 * tokenizer.json, safetensors headers).  Builds a tree; every read is
 * bounded by the input length; nesting is limited. */
#include <string.h>
#include <stdlib.h>

#include "model-internal.h"

#define JSON_MAX_DEPTH 64

typedef struct {
  const char *p, *end, *start;
  const char *file;
  GError **error;
  gboolean failed;
} json_parser;

static void
json_fail (json_parser * ps, const char *what)
{
  if (ps->failed)
    return;
  ps->failed = TRUE;
  g_set_error (ps->error, WHISPER_MODEL_ERROR, WHISPER_MODEL_ERROR_FORMAT,
      "%s: invalid JSON at byte %ld: %s", ps->file, (long) (ps->p - ps->start),
      what);
}

static void
skip_ws (json_parser * ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'
          || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int
hex4 (json_parser * ps)
{
  if (ps->end - ps->p < 4) {
    json_fail (ps, "short \\u escape");
    return -1;
  }
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int c = g_ascii_xdigit_value (ps->p[i]);
    if (c < 0) {
      json_fail (ps, "bad \\u escape");
      return -1;
    }
    v = v * 16 + c;
  }
  ps->p += 4;
  return v;
}

/* ps->p at the opening quote. */
static char *
parse_string (json_parser * ps, size_t *out_len)
{
  ps->p++;
  /* unescaped output is never longer than the input */
  const char *q = ps->p;
  while (q < ps->end && *q != '"') {
    if (*q == '\\')
      q++;
    q++;
  }
  if (q >= ps->end) {
    json_fail (ps, "unterminated string");
    return NULL;
  }
  char *out = g_malloc ((q - ps->p) + 1);
  size_t o = 0;
  while (ps->p < ps->end && *ps->p != '"') {
    char c = *ps->p++;
    if ((unsigned char) c < 0x20) {
      json_fail (ps, "control character in string");
      g_free (out);
      return NULL;
    }
    if (c != '\\') {
      out[o++] = c;
      continue;
    }
    if (ps->p >= ps->end)
      break;
    c = *ps->p++;
    switch (c) {
      case '"': out[o++] = '"'; break;
      case '\\': out[o++] = '\\'; break;
      case '/': out[o++] = '/'; break;
      case 'b': out[o++] = '\b'; break;
      case 'f': out[o++] = '\f'; break;
      case 'n': out[o++] = '\n'; break;
      case 'r': out[o++] = '\r'; break;
      case 't': out[o++] = '\t'; break;
      case 'u':{
        int u = hex4 (ps);
        if (u < 0) {
          g_free (out);
          return NULL;
        }
        gunichar cp = u;
        if (u >= 0xD800 && u < 0xDC00) {
          int lo = -1;
          if (ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
            ps->p += 2;
            lo = hex4 (ps);
          }
          if (lo < 0xDC00 || lo > 0xDFFF) {
            json_fail (ps, "unpaired surrogate");
            g_free (out);
            return NULL;
          }
          cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else if (u >= 0xDC00 && u < 0xE000) {
          json_fail (ps, "unpaired surrogate");
          g_free (out);
          return NULL;
        }
        /* \uXXXX is at least 6 input bytes; UTF-8 output at most 4 */
        o += g_unichar_to_utf8 (cp, out + o);
        break;
      }
      default:
        json_fail (ps, "bad escape");
        g_free (out);
        return NULL;
    }
  }
  if (ps->p >= ps->end) {
    json_fail (ps, "unterminated string");
    g_free (out);
    return NULL;
  }
  ps->p++;                      /* closing quote */
  out[o] = 0;
  *out_len = o;
  return out;
}

static whisper_json *parse_value (json_parser * ps, int depth);

static whisper_json *
parse_container (json_parser * ps, int depth, gboolean is_obj)
{
  whisper_json *j = g_new0 (whisper_json, 1);
  j->type = is_obj ? WJ_OBJECT : WJ_ARRAY;
  GPtrArray *items = g_ptr_array_new ();
  GPtrArray *keys = is_obj ? g_ptr_array_new () : NULL;
  char close = is_obj ? '}' : ']';
  ps->p++;
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    goto done;
  }
  for (;;) {
    skip_ws (ps);
    if (is_obj) {
      size_t kl;
      if (ps->p >= ps->end || *ps->p != '"') {
        json_fail (ps, "expected a key");
        goto done;
      }
      char *k = parse_string (ps, &kl);
      if (!k)
        goto done;
      skip_ws (ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        g_free (k);
        json_fail (ps, "expected ':'");
        goto done;
      }
      ps->p++;
      whisper_json *v = parse_value (ps, depth + 1);
      if (!v) {
        g_free (k);
        goto done;
      }
      g_ptr_array_add (keys, k);
      g_ptr_array_add (items, v);
    } else {
      whisper_json *v = parse_value (ps, depth + 1);
      if (!v)
        goto done;
      g_ptr_array_add (items, v);
    }
    skip_ws (ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++;
      break;
    }
    json_fail (ps, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    break;
  }
done:
  j->n = items->len;
  j->items = (whisper_json **) g_ptr_array_free (items, FALSE);
  if (keys)
    j->keys = (char **) g_ptr_array_free (keys, FALSE);
  if (ps->failed) {
    whisper_json_free (j);
    return NULL;
  }
  return j;
}

static whisper_json *
parse_value (json_parser * ps, int depth)
{
  if (depth > JSON_MAX_DEPTH) {
    json_fail (ps, "nested too deeply");
    return NULL;
  }
  skip_ws (ps);
  if (ps->p >= ps->end) {
    json_fail (ps, "unexpected end");
    return NULL;
  }
  char c = *ps->p;
  if (c == '{' || c == '[')
    return parse_container (ps, depth, c == '{');
  if (c == '"') {
    size_t len;
    char *s = parse_string (ps, &len);
    if (!s)
      return NULL;
    whisper_json *j = g_new0 (whisper_json, 1);
    j->type = WJ_STRING;
    j->str = s;
    j->str_len = len;
    return j;
  }
  static const struct { const char *word; whisper_json_type t; double v; } lit[] = {
    { "true", WJ_BOOL, 1 }, { "false", WJ_BOOL, 0 }, { "null", WJ_NULL, 0 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (lit); i++) {
    size_t n = strlen (lit[i].word);
    if ((size_t) (ps->end - ps->p) >= n && memcmp (ps->p, lit[i].word, n) == 0) {
      ps->p += n;
      whisper_json *j = g_new0 (whisper_json, 1);
      j->type = lit[i].t;
      j->number = lit[i].v;
      return j;
    }
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    char buf[64];
    size_t n = 0;
    while (ps->p < ps->end && n < sizeof buf - 1 && strchr ("+-.eE0123456789",
            *ps->p) && *ps->p)
      buf[n++] = *ps->p++;
    buf[n] = 0;
    char *endp;
    double v = g_ascii_strtod (buf, &endp);
    if (endp != buf + n) {
      json_fail (ps, "bad number");
      return NULL;
    }
    whisper_json *j = g_new0 (whisper_json, 1);
    j->type = WJ_NUMBER;
    j->number = v;
    return j;
  }
  json_fail (ps, "unexpected character");
  return NULL;
}

whisper_json *
whisper_json_parse (const char *text, size_t len, const char *file,
    GError ** error)
{
  json_parser ps = { text, text + len, text, file, error, FALSE };
  /* skip a UTF-8 byte order mark */
  if (len >= 3 && memcmp (text, "\xEF\xBB\xBF", 3) == 0)
    ps.p += 3;
  whisper_json *j = parse_value (&ps, 0);
  if (!j)
    return NULL;
  skip_ws (&ps);
  if (ps.p != ps.end) {
    json_fail (&ps, "trailing data");
    whisper_json_free (j);
    return NULL;
  }
  return j;
}

void
whisper_json_free (whisper_json * j)
{
  if (!j)
    return;
  for (int i = 0; i < j->n; i++) {
    whisper_json_free (j->items[i]);
    if (j->keys)
      g_free (j->keys[i]);
  }
  g_free (j->items);
  g_free (j->keys);
  g_free (j->str);
  g_free (j);
}

const whisper_json *
whisper_json_get (const whisper_json * obj, const char *key)
{
  if (!obj || obj->type != WJ_OBJECT)
    return NULL;
  for (int i = 0; i < obj->n; i++)
    if (strcmp (obj->keys[i], key) == 0)
      return obj->items[i];
  return NULL;
}

gboolean
whisper_json_int (const whisper_json * j, int *out)
{
  if (!j || j->type != WJ_NUMBER || !(j->number >= G_MININT
          && j->number <= G_MAXINT) || j->number != (double) (int) j->number)
    return FALSE;
  *out = (int) j->number;
  return TRUE;
}
