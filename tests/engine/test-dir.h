/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Temporary directories of the engine's NPU tests. */
#ifndef WHISPER_TEST_DIR_H
#define WHISPER_TEST_DIR_H

/* Remove @dir, a flat directory (files only), and g_free() the string. */
void test_dir_remove (char *dir);

#endif
