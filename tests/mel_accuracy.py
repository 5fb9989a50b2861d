#!/usr/bin/env python3
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

Run: WHISPER_SHARED_DIR=../shared GST_PLUGIN_PATH=build/gst python3 tests/mel_accuracy.py
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

N_FFT = 400
HOP = 160
SR = 16000
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
# reference (openai-whisper audio.py, librosa filters.mel), in float64

def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz,
                    min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz) / logstep,
                    mels)


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel,
                    min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filters(n_mels):
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels, fmin=0, fmax=8000,
    htk=False, norm='slaney') -> [n_mels][201] (float32 like librosa)."""
    fftfreqs = np.fft.rfftfreq(N_FFT, 1.0 / SR)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SR / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    weights = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, None]
    return weights.astype(np.float32)


def log_mel_reference(audio, n_mels):
    """log10(max(mel, 1e-10)) [frames][n_mels], frames = len(audio) // 160."""
    x = audio.astype(np.float64)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic
    padded = np.pad(x, N_FFT // 2, mode="reflect")  # torch.stft center=True
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    spec = np.fft.rfft(padded[idx] * window[None, :], axis=1)
    power = np.abs(spec[:-1]) ** 2  # stft[..., :-1]
    mel = power @ mel_filters(n_mels).astype(np.float64).T
    return np.log10(np.maximum(mel, 1e-10))


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
    filt_err = float(np.abs(fw_filters - mel_filters(n_mels)).max())
    fw = FeatureExtractor(feature_size=n_mels)(audio, padding=0).T  # [frames][n_mels]
    ours = np.maximum(got.astype(np.float64), got.max() - 8.0)
    ours = (ours + 4.0) / 4.0
    return filt_err, float(np.abs(fw - ours).max())


def main():
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
            run([launch, "-q", "filesrc", "location=" + path, "!", "decodebin", "!",
                 "audioconvert", "!", "audioresample", "!",
                 "audio/x-raw,format=F32LE,rate=16000,channels=1", "!",
                 "filesink", "location=" + pcm])
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
                    padded = np.concatenate([audio, np.zeros(480000, np.float32)])
                    ref = log_mel_reference(padded, n_mels)[:len(audio) // HOP]
                else:
                    ref = log_mel_reference(audio, n_mels)
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
