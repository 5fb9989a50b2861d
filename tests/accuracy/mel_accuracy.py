#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""whispermel accuracy against an independent numpy reference.

For each clip (jfk and LibriSpeech clips, one of them 8 kHz) from
$WHISPER_SHARED_DIR/testdata/speech:
  1. a real GStreamer pipeline decodes it to 16 kHz mono F32LE
     (filesrc ! decodebin ! audioconvert ! audioresample ! filesink);
  2. a second pipeline runs whispermel on exactly that PCM
     (filesrc ! rawaudioparse ! whispermel ! filesink);
  3. numpy computes openai-whisper's log_mel_spectrogram() on the same PCM
     (float64 STFT, librosa's Slaney filterbank formula) WITHOUT the max - 8
     clamp and (x + 4) / 4, which whispermel leaves to the encoder;
and the maximum absolute difference over every frame must be <= 1e-4
(log10 units).  When faster-whisper is installed, its own numpy front end
(float32 STFT, with Whisper's normalisation over the whole clip) is a second
reference: its filterbank and the normalised features must agree too.  Also checked: frame count N // 160 (Whisper drops the last
STFT frame), n-mels=128, and end-padding=zeros against transcribe()'s
log_mel_spectrogram(audio, padding=480000).

Run: WHISPER_SHARED_DIR=../shared GST_PLUGIN_PATH=build/gst python3 tests/accuracy/mel_accuracy.py
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

import gst_requirements as req
import speech_ref
from speech_ref import HOP, N_FFT, SAMPLE_RATE as SR

TOL = 1e-4

CLIPS = [
    "jfk",  # 44.1 kHz stereo 24-bit FLAC
    "ls-dev-clean-0004-8k",  # 8 kHz: upsampling path (id prefix, see below)
    "ls-test-clean-",
    "ls-test-other-1688-142285-0000",
    "ls-test-other-1998-15444-0002",
    "ls-test-other-2033-164914-0006",
    "ls-dev-clean-",
]


# ---------------------------------------------------------------------------

def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write("command failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p


def find_clips(speech):
    names = sorted(os.listdir(os.path.join(speech, "audio")))
    picked = []
    for want in CLIPS:
        hits = [n for n in names if n.startswith(want) and n not in picked]
        if want == "ls-dev-clean-0004-8k":
            hits = [n for n in names if n.startswith("ls-dev-clean") and "8k" in n]
        elif want.endswith("-"):
            hits = [n for n in hits if "8k" not in n]
        if not hits:
            sys.exit("clip %s not found in %s" % (want, speech))
        picked.append(hits[0])
    return [os.path.join(speech, "audio", n) for n in picked]


def faster_whisper_check(audio, got, n_mels):
    """Second, independent reference: faster-whisper's own numpy front end
    (float32 STFT; applies Whisper's normalisation over the whole clip).
    Returns (filterbank max diff, normalised feature max diff) or None."""
    try:
        from faster_whisper.feature_extractor import FeatureExtractor
    except ImportError:
        return None
    fw_filters = FeatureExtractor.get_mel_filters(SR, N_FFT, n_mels).astype(np.float32)
    filt_err = float(np.abs(fw_filters - speech_ref.mel_filters(n_mels)).max())
    fw = FeatureExtractor(feature_size=n_mels)(audio, padding=0).T  # [frames][n_mels]
    ours = np.maximum(got.astype(np.float64), got.max() - 8.0)
    ours = (ours + 4.0) / 4.0
    return filt_err, float(np.abs(fw - ours).max())


def main():
    req.require_elements(req.DECODE_TEST_AUDIO + ["filesink", "rawaudioparse"])
    shared = os.environ.get("WHISPER_SHARED_DIR")
    if not shared:
        sys.exit("WHISPER_SHARED_DIR is not set")
    speech = os.path.join(shared, "testdata", "speech")
    launch = os.environ.get("GST_LAUNCH", "gst-launch-1.0")
    clips = find_clips(speech)
    n_checked = 0
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        pcm = os.path.join(tmp, "pcm.f32")
        out = os.path.join(tmp, "mel.f32")
        for i, path in enumerate(clips):
            run(speech_ref.decode_cmd(path, pcm, launch))
            audio = np.fromfile(pcm, dtype="<f4")
            # jfk also runs with 128 bins, and with end-padding=zeros against
            # transcribe()'s log_mel_spectrogram(audio, padding=N_SAMPLES)
            variants = [(80, "reflect")]
            if i == 0:
                variants += [(128, "reflect"), (80, "zeros")]
            for n_mels, end_padding in variants:
                run([launch, "-q", "filesrc", "location=" + pcm, "blocksize=4000", "!",
                     "rawaudioparse", "use-sink-caps=false", "format=pcm",
                     "pcm-format=f32le", "sample-rate=16000", "num-channels=1", "!",
                     "whispermel", "n-mels=%d" % n_mels, "end-padding=" + end_padding,
                     "!", "filesink", "location=" + out])
                got = np.fromfile(out, dtype="<f4")
                if end_padding == "zeros":
                    ref = speech_ref.log_mel(audio, n_mels, padding=480000).T
                    ref = ref[:len(audio) // HOP]
                else:
                    ref = speech_ref.log_mel(audio, n_mels).T
                if got.size % n_mels:
                    sys.exit("%s: output is not whole frames" % path)
                got = got.reshape(-1, n_mels)
                if got.shape != ref.shape:
                    sys.exit("%s: %d frames, reference %d (N = %d samples)"
                             % (path, got.shape[0], ref.shape[0], len(audio)))
                if got.shape[0] != len(audio) // HOP:
                    sys.exit("%s: frame count %d != N // 160" % (path, got.shape[0]))
                err = np.abs(got.astype(np.float64) - ref)
                fmax = int(np.argmax(err.max(axis=1)))
                print("%-40s n_mels %3d %-7s %5d frames  max abs err %.3g (frame %d)"
                      % (os.path.basename(path), n_mels, end_padding, got.shape[0],
                         err.max(), fmax))
                worst = max(worst, float(err.max()))
                fw = faster_whisper_check(audio, got, n_mels) if end_padding == "reflect" else None
                if fw is not None:
                    print("%40s faster-whisper: filterbank max diff %.3g, normalised "
                          "features max diff %.3g" % ("", fw[0], fw[1]))
                    if fw[0] > 1e-6 or fw[1] > TOL:
                        sys.exit("FAIL: %s disagrees with faster-whisper's front end" % path)
                if not np.all(np.isfinite(got)) or err.max() > TOL:
                    sys.exit("FAIL: %s max abs err %.3g > %g" % (path, err.max(), TOL))
                n_checked += 1
    print("OK: %d runs, worst max abs err %.3g <= %g" % (n_checked, worst, TOL))


if __name__ == "__main__":
    main()
