/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the libFuzzer harnesses of tests/fuzz (docs/testing.md).
 *
 * A harness's seed corpus is written by the harness itself: with
 * WHISPER_FUZZ_MAKE_CORPUS=DIR in the environment, LLVMFuzzerInitialize
 * writes its seeds (from the whisper-synth model in WHISPER_FUZZ_SEED) into
 * DIR and exits (tests/fuzz/run-fuzz.sh does this before fuzzing).
 */
#ifndef WHISPER_FUZZ_COMMON_H
#define WHISPER_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

/* A directory of this process's own, removed at exit. */
static char *fuzz_tmp_dir_path;

static inline void
fuzz_tmp_dir_remove (void)
{
  if (!fuzz_tmp_dir_path)
    return;
  GDir *d = g_dir_open (fuzz_tmp_dir_path, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name (d))) {
    char *p = g_build_filename (fuzz_tmp_dir_path, n, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (fuzz_tmp_dir_path);
}

static inline const char *
fuzz_tmp_dir (void)
{
  if (!fuzz_tmp_dir_path) {
    /* /dev/shm when there is one: every input is written to a file */
    const char *base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR)
        ? "/dev/shm" : g_get_tmp_dir ();
    char *tmpl = g_build_filename (base, "whisper-fuzz-XXXXXX", NULL);
    fuzz_tmp_dir_path = g_mkdtemp (tmpl);
    if (!fuzz_tmp_dir_path) {
      fprintf (stderr, "fuzz: cannot create a directory in %s\n", base);
      abort ();
    }
    atexit (fuzz_tmp_dir_remove);
  }
  return fuzz_tmp_dir_path;
}

static inline void
fuzz_write_file (const char *path, const void *data, size_t size)
{
  FILE *f = fopen (path, "wb");
  if (!f || (size && fwrite (data, 1, size, f) != size) || fclose (f) != 0) {
    fprintf (stderr, "fuzz: cannot write %s\n", path);
    abort ();
  }
}

/* The whisper-synth directory (WHISPER_FUZZ_SEED). */
static inline const char *
fuzz_seed_dir (void)
{
  const char *s = g_getenv ("WHISPER_FUZZ_SEED");
  if (!s || !g_file_test (s, G_FILE_TEST_IS_DIR)) {
    fprintf (stderr, "fuzz: set WHISPER_FUZZ_SEED to a whisper-synth output "
        "directory (tests/fuzz/run-fuzz.sh does)\n");
    exit (2);
  }
  return s;
}

/* WHISPER_FUZZ_MAKE_CORPUS, or NULL when fuzzing. */
static inline const char *
fuzz_corpus_out (void)
{
  const char *s = g_getenv ("WHISPER_FUZZ_MAKE_CORPUS");
  if (s && g_mkdir_with_parents (s, 0755) != 0) {
    fprintf (stderr, "fuzz: cannot create %s\n", s);
    exit (2);
  }
  return s && *s ? s : NULL;
}

/* Seed @i of the corpus: an optional selector byte, then @data. */
static inline void
fuzz_corpus_add (const char *dir, int i, int selector, const void *data,
    size_t size)
{
  char name[32];
  g_snprintf (name, sizeof name, "seed-%03d", i);
  char *path = g_build_filename (dir, name, NULL);
  FILE *f = fopen (path, "wb");
  if (!f || (selector >= 0 && fputc (selector, f) == EOF)
      || (size && fwrite (data, 1, size, f) != size) || fclose (f) != 0) {
    fprintf (stderr, "fuzz: cannot write %s\n", path);
    exit (2);
  }
  g_free (path);
}

#endif
