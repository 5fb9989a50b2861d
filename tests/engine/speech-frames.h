/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Real speech for the engine's NPU tests: the AMI excerpt of
 * $WHISPER_SHARED_DIR/testdata/speech (../shared by default). */
#ifndef WHISPER_TEST_SPEECH_FRAMES_H
#define WHISPER_TEST_SPEECH_FRAMES_H

/* Its first window (mono 16 kHz PCM16) as @n_mels-band mel frames, at
 * most 3000 of them in *@n_frames; NULL when the file is absent.  Free
 * with g_free(). */
float *speech_frames (int n_mels, int *n_frames);

#endif
