#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Encoder accuracy: our CPU encoder against CTranslate2's own Whisper encoder.

For jfk and three LibriSpeech clips, with tiny.en and base: decode the audio
with GStreamer to 16 kHz mono float32, compute the log-mel window in numpy
(openai-whisper's log_mel_spectrogram: periodic Hann 400, hop 160, centred
STFT with reflect padding, |.|^2 without the last frame, Slaney mel
filterbank, log10 clamped at 1e-10; the audio padded with 30 s of zeros as
transcribe() does; the first 3000 frames; then the per-window normalisation
(max(x, max - 8) + 4) / 4), and give the SAME normalised window to

  * ctranslate2.models.Whisper(path, device="cpu", compute_type="float32")
    .encode(features), and
  * tests/encode-mel (models/encoder/encoder.c).

Pass, for every window: cosine similarity >= 0.99999 (the project's bound),
and, as a guard against numeric regressions that bound would let through,
1 - cosine <= 1e-9 and max abs difference <= 5e-3.  Measured: 1 - cosine
~1e-12 and max abs diff <= 7.5e-4 (outputs reach |x| = 24); with the tanh
approximation of GELU instead of erf, 1 - cosine is 2e-6 and the max abs
diff 0.02-0.13: that still passes 0.99999, not the guard.  Exit 77 (skipped) when a model, the test audio, or
ctranslate2 is missing.

usage: encoder_accuracy.py ENCODE_MEL_EXE [--models tiny.en,base]
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy not installed")
    sys.exit(77)

from gst_requirements import DECODE_TEST_AUDIO, require_elements
from speech_ref import SAMPLE_RATE, decode_audio, log_mel, models_dir

N_FRAMES = 3000
N_SAMPLES = SAMPLE_RATE * 30
MIN_COSINE = 0.99999
MAX_ONE_MINUS_COSINE = 1e-9
MAX_ABS_DIFF = 5e-3

CLIPS = [
    "jfk.flac",
    "ls-test-clean-1089-134686-0000.flac",
    "ls-test-other-1688-142285-0000.flac",
    "ls-dev-clean-2412-153948-0000.flac",
]


def log_mel_window(audio, n_mels):
    """First 30 s window, normalised, float32 [n_mels][3000]."""
    log_spec = log_mel(audio, n_mels, padding=N_SAMPLES, dtype=np.float32)
    seg = log_spec[:, :N_FRAMES]
    if seg.shape[1] < N_FRAMES:
        seg = np.pad(seg, ((0, 0), (0, N_FRAMES - seg.shape[1])))
    seg = np.maximum(seg, seg.max() - 8.0)
    seg = (seg + 4.0) / 4.0
    return np.ascontiguousarray(seg, dtype=np.float32)


def main():
    require_elements(DECODE_TEST_AUDIO + ["filesink"])  # decode_audio()
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    encode_mel = sys.argv[1]
    names = ["tiny.en", "base"]
    if len(sys.argv) > 3 and sys.argv[2] == "--models":
        names = sys.argv[3].split(",")

    try:
        import ctranslate2
    except ImportError:
        print("SKIP: the ctranslate2 Python package is not installed")
        return 77
    shared = os.environ.get("WHISPER_SHARED_DIR",
                            os.path.join(os.path.dirname(__file__), "..",
                                         "..", "..", "shared"))
    audio_dir = os.path.join(shared, "testdata", "speech", "audio")
    clips = [os.path.join(audio_dir, c) for c in CLIPS]
    missing = [c for c in clips if not os.path.exists(c)]
    if missing:
        print("SKIP: test audio missing: " + ", ".join(missing))
        return 77

    failed = 0
    skipped = []
    n_checked = 0
    with tempfile.TemporaryDirectory(prefix="encoder-accuracy-") as tmp:
        audio = {c: decode_audio(c, tmp) for c in clips}
        for name in names:
            path = os.path.join(models_dir(), name)
            if not os.path.exists(os.path.join(path, "model.bin")):
                print(f"{name}: not installed in {models_dir()}, skipped")
                skipped.append(name)
                continue
            ref_model = ctranslate2.models.Whisper(
                path, device="cpu", compute_type="float32", intra_threads=2)
            n_mels = getattr(ref_model, "n_mels", 80)
            args = [encode_mel, path]
            refs = []
            for i, c in enumerate(clips):
                mel = log_mel_window(audio[c], n_mels)
                mel_path = os.path.join(tmp, f"{name}-{i}.mel")
                out_path = os.path.join(tmp, f"{name}-{i}.out")
                mel.tofile(mel_path)
                args += [mel_path, out_path]
                features = ctranslate2.StorageView.from_array(mel[None])
                ref = np.array(ref_model.encode(features, to_cpu=True))[0]
                refs.append((c, out_path, ref))
            del ref_model
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
            for c, out_path, ref in refs:
                got = np.fromfile(out_path, dtype="<f4")
                if got.size != ref.size:
                    print(f"{name} {os.path.basename(c)}: FAILED: output has "
                          f"{got.size} values, reference {ref.shape}")
                    failed += 1
                    continue
                got = got.reshape(ref.shape).astype(np.float64)
                ref = ref.astype(np.float64)
                cos = float(np.dot(got.ravel(), ref.ravel()) /
                            (np.linalg.norm(got) * np.linalg.norm(ref)))
                max_abs = float(np.max(np.abs(got - ref)))
                ok = (cos >= MIN_COSINE and 1 - cos <= MAX_ONE_MINUS_COSINE
                      and max_abs <= MAX_ABS_DIFF and np.isfinite(got).all())
                n_checked += 1
                print(f"{name:8s} {os.path.basename(c):40s} [{ref.shape[0]}]"
                      f"[{ref.shape[1]}] cosine {cos:.9f} (1 - cos "
                      f"{1 - cos:.1e})  max abs diff "
                      f"{max_abs:.3e}  (ref max |x| {np.max(np.abs(ref)):.2f})"
                      f"{'' if ok else '  FAILED'}")
                if not ok:
                    failed += 1
    print(f"{n_checked - failed} passed, {failed} failed")
    if failed:
        return 1
    if skipped:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
