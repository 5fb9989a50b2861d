#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The encoder on the emulated NPU gives the CPU's int8 bits, on real
speech and real weights.

For every Nth dev-set clip of $WHISPER_SHARED_DIR/testdata/speech (default
every 8th), decoded with GStreamer to 16 kHz mono, the first 30 s window
(as tests/accuracy/encoder_precision_accuracy.py makes it) is encoded by
tests/encode-mel twice: --backend cpu --compute-type int8, and --backend npu
with WHISPER_NPU_DEVICE=emulated and a kernel directory that
whisper-npu-check --write-emulated-kernels writes.  Pass: every output is
byte for byte the same, and encode-mel says it ran on the emulated NPU.
Models: tiny.en and base by default.  Exit 77 when no model or the test
audio is there.

usage: npu_encoder_identity.py ENCODE_MEL NPU_CHECK [--models tiny.en,base]
                               [--every N]
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "accuracy"))

try:
    import numpy  # noqa: F401  (log_mel_window needs it)
except ImportError:
    print("SKIP: numpy not installed")
    sys.exit(77)

from encoder_accuracy import log_mel_window  # noqa: E402
from gst_requirements import DECODE_TEST_AUDIO, require_elements  # noqa: E402
from encoder_precision_accuracy import manifest_clips, model_n_mels  # noqa: E402
from speech_ref import decode_audio, models_dir, shared_dir  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("encode_mel")
    ap.add_argument("npu_check")
    ap.add_argument("--models", default="tiny.en,base")
    ap.add_argument("--every", type=int, default=8)
    args = ap.parse_args()
    require_elements(DECODE_TEST_AUDIO + ["filesink"])
    shared = shared_dir()
    try:
        clips = manifest_clips(shared)[::max(1, args.every)]
    except OSError as e:
        print(f"SKIP: {e}")
        return 77
    failed, checked = 0, 0
    with tempfile.TemporaryDirectory(prefix="npu-identity-") as tmp:
        kernels = os.path.join(tmp, "aie")
        subprocess.run([args.npu_check, "--write-emulated-kernels", kernels],
                       check=True)
        audio = {c: decode_audio(c, tmp) for c in clips}
        for name in args.models.split(","):
            path = os.path.join(models_dir(), name)
            if not os.path.exists(os.path.join(path, "model.bin")):
                print(f"{name}: not installed in {models_dir()}, skipped")
                continue
            n_mels = model_n_mels(path)
            runs = {"cpu": ["--backend", "cpu", "--compute-type", "int8",
                            "--int8-attention"],
                    "npu": ["--backend", "npu", "--compute-type", "int8",
                            "--kernel-dir", kernels]}
            for label, flags in runs.items():
                cmd = [args.encode_mel, "--threads", "2"] + flags + [path]
                for i, c in enumerate(clips):
                    mel = os.path.join(tmp, f"{name}-{i}.mel")
                    if not os.path.exists(mel):
                        log_mel_window(audio[c], n_mels).tofile(mel)
                    cmd += [mel, os.path.join(tmp, f"{name}-{label}-{i}")]
                env = dict(os.environ, WHISPER_NPU_DEVICE="emulated")
                run = subprocess.run(cmd, env=env, capture_output=True,
                                     text=True)
                if run.returncode != 0:
                    print(f"FAILED: {label}: {run.stderr.strip()}")
                    return 1
                out = run.stdout
                backend = out.splitlines()[1]
                print(f"{name} {label}: {backend}")
                want = "backend npu" if label == "npu" else "backend cpu"
                if not backend.startswith(want) or (
                        label == "npu" and "emulated" not in backend):
                    print(f"FAILED: {label} ran on {backend}")
                    failed += 1
            for i, c in enumerate(clips):
                with open(os.path.join(tmp, f"{name}-cpu-{i}"), "rb") as f:
                    a = f.read()
                with open(os.path.join(tmp, f"{name}-npu-{i}"), "rb") as f:
                    b = f.read()
                same = a == b and len(a) > 0
                checked += 1
                failed += not same
                print(f"{name:8s} {os.path.basename(c):44s} "
                      f"{'identical' if same else 'DIFFERENT'}")
    if checked == 0:
        print("SKIP: no model installed")
        return 77
    print(f"{checked} windows compared, {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
