/* Speech gate: does a stretch of log-mel frames hold anything but silence
 * or stationary noise?
 *
 * Whisper decodes silence and steady noise into confident text ("You"),
 * which its own no-speech rule lets through.  The gate looks at the audio
 * instead of at the decoder's guess: speech comes and goes (syllables,
 * pauses), so the energy of some band rises well above that band's floor;
 * digital silence, hiss and mains hum stay flat.
 *
 * Per group of neighbouring mel bands (8 groups), the energy of each frame
 * is smoothed over 50 ms; the window's "contrast" is the largest rise, over
 * the groups, of the smoothed energy's peak (the level held for 100 ms)
 * above the band floor (the 10th percentile of the window's levels).  The
 * levels are clamped 80 dB below the window's maximum, as Whisper's
 * normalisation clamps them.  Speech is never flat
 * in every group at once (vowels are low-band, fricatives high-band,
 * closures silent), so its contrast is high even without pauses.  A window
 * is speech when its contrast reaches the threshold (docs/speech-gate.md
 * gives the measured margins).
 *
 * The gate holds only scratch memory: one per thread; no GStreamer.
 */
#ifndef WHISPER_SPEECH_GATE_H
#define WHISPER_SPEECH_GATE_H

#include <glib.h>

G_BEGIN_DECLS

/* Least contrast (dB) of a window that is decoded by default. */
#define WHISPER_SPEECH_GATE_DEFAULT_DB 12.0f

typedef struct whisper_speech_gate whisper_speech_gate;

/* n_mels: bands per frame (80 or 128).  Never fails. */
whisper_speech_gate *whisper_speech_gate_new (int n_mels);

/* frames: [n_frames][n_mels] log10 mel power as whispermel gives it (before
 * Whisper's per-window normalisation).  Returns the contrast in dB (0 for
 * no frames). */
float whisper_speech_gate_contrast (whisper_speech_gate * gate,
    const float *frames, int n_frames);

void whisper_speech_gate_free (whisper_speech_gate * gate);

G_END_DECLS
#endif
