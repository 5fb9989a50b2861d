# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared by the accuracy tests: where the models and ../shared are,
decoding a clip to 16 kHz mono float32 with GStreamer, and an independent
numpy version of openai-whisper's log_mel_spectrogram() (whisper/audio.py,
with librosa's Slaney filterbank formula)."""
import os
import subprocess

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160


def shared_dir():
    """$WHISPER_SHARED_DIR, else the shared directory beside the project."""
    return os.environ.get("WHISPER_SHARED_DIR",
                          os.path.join(os.path.dirname(__file__), "..", "..",
                                       "..", "shared"))


def models_dir():
    """The models directory, as whisperencnpu looks it up."""
    d = os.environ.get("GST_WHISPER_MODELS_DIR")
    if d:
        return d
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(cache, "gst-whisper-npu", "models")


def decode_cmd(path, out, launch="gst-launch-1.0"):
    """gst-launch command line decoding @path to raw 16 kHz mono F32LE @out."""
    return [launch, "-q", "filesrc", "location=" + path, "!", "decodebin", "!",
            "audioconvert", "!", "audioresample", "!",
            "audio/x-raw,format=F32LE,rate=16000,channels=1", "!",
            "filesink", "location=" + out]


def decode_audio(path, tmpdir):
    """16 kHz mono float32 samples of any file GStreamer can decode."""
    out = os.path.join(tmpdir, os.path.basename(path) + ".f32")
    env = dict(os.environ)
    # system plugins only: decoding does not need (or want to depend on)
    # the project's own plugin being loadable
    env.pop("GST_PLUGIN_PATH", None)
    env.pop("GST_PLUGIN_SYSTEM_PATH_1_0", None)
    env["GST_REGISTRY_1_0"] = os.path.join(tmpdir, "registry.bin")
    subprocess.run(decode_cmd(path, out), check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return np.fromfile(out, dtype="<f4")


# --- Slaney mel filterbank (librosa.filters.mel, htk=False, norm="slaney") --

def hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz,
                    min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz) / logstep,
                    mels)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
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
    fftfreqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2),
                                  n_mels + 2))
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


def log_mel(audio, n_mels, padding=0, dtype=np.float64):
    """log_mel_spectrogram(audio, n_mels, padding) WITHOUT the max - 8 clamp
    and (x + 4) / 4: log10(max(mel, 1e-10)), [n_mels][(len(audio) + padding)
    // 160], computed in @dtype (float64: a reference; float32: as whisper
    computes it)."""
    x = np.asarray(audio).astype(dtype)
    if padding:
        x = np.concatenate([x, np.zeros(padding, dtype=dtype)])
    n = np.arange(N_FFT)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(dtype)  # periodic
    padded = np.pad(x, N_FFT // 2, mode="reflect")  # torch.stft center=True
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    spec = np.fft.rfft(padded[idx] * window, axis=1)
    power = (np.abs(spec[:-1]) ** 2).T.astype(dtype)  # stft[..., :-1]: [201][frames]
    mel = mel_filters(n_mels).astype(dtype) @ power
    return np.log10(np.maximum(mel, 1e-10)).astype(dtype)
