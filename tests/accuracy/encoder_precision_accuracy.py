#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reduced-precision encoder accuracy: our int8 (or bfloat16) encoder
against our float32 encoder on real speech and real weights.

For the dev-set clips of $WHISPER_SHARED_DIR/testdata/speech/MANIFEST.tsv
(every clip, or every Nth with --every N), decoded with GStreamer to 16 kHz
mono: the first 30 s window as openai-whisper computes it (the same
normalised window as tests/accuracy/encoder_accuracy.py), encoded by
tests/encode-mel with --compute-type float32 and with --compute-type int8
(or bfloat16, with --compute-type bfloat16) in one process each.  Prints the cosine similarity of the two [1500][C]
outputs per clip, then the minimum and the mean per model.

Pass: every cosine >= 0.999 for int8, >= 0.9999 for bfloat16 (the
bounds of docs/quantization.md).  Exit 77 when a
model or the test audio is missing.

With --int8-attention the int8 encoder computes the self-attention's
products in int8 too, as the NPU does.

usage: encoder_precision_accuracy.py ENCODE_MEL_EXE [--models tiny.en,base]
                                    [--every N] [--int8-attention]
                                    [--compute-type int8|bfloat16]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy not installed")
    sys.exit(77)

from encoder_accuracy import log_mel_window
from gst_requirements import DECODE_TEST_AUDIO, require_elements
from speech_ref import decode_audio, models_dir, shared_dir

MIN_COSINE = {"int8": 0.999, "bfloat16": 0.9999}


def model_n_mels(path):
    """The model's mel bands: a CTranslate2 directory names them in
    preprocessor_config.json (large-v3: 128); without one, 80."""
    cfg = os.path.join(path, "preprocessor_config.json")
    if os.path.exists(cfg):
        with open(cfg, encoding="utf-8") as f:
            return json.load(f).get("feature_size", 80)
    return 80


def manifest_clips(shared):
    path = os.path.join(shared, "testdata", "speech", "MANIFEST.tsv")
    with open(path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [os.path.join(shared, "testdata", "speech", r[1]) for r in rows
            if r and not r[0].startswith("longform-")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("encode_mel")
    ap.add_argument("--models", default="tiny.en,base")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--int8-attention", action="store_true")
    ap.add_argument("--compute-type", choices=sorted(MIN_COSINE),
                    default="int8")
    args = ap.parse_args()
    reduced = args.compute_type
    require_elements(DECODE_TEST_AUDIO + ["filesink"])
    shared = shared_dir()
    try:
        clips = manifest_clips(shared)[::max(1, args.every)]
    except OSError as e:
        print(f"SKIP: {e}")
        return 77
    failed, n_checked = 0, 0
    with tempfile.TemporaryDirectory(prefix="int8-accuracy-") as tmp:
        audio = {c: decode_audio(c, tmp) for c in clips}
        for name in args.models.split(","):
            path = os.path.join(models_dir(), name)
            if not os.path.exists(os.path.join(path, "model.bin")):
                print(f"{name}: not installed in {models_dir()}, skipped")
                continue
            n_mels = model_n_mels(path)
            outs = {}
            for ct in ("float32", reduced):
                cmd = [args.encode_mel, "--compute-type", ct]
                if ct == "int8" and args.int8_attention:
                    cmd.append("--int8-attention")
                cmd.append(path)
                for i, c in enumerate(clips):
                    mel_path = os.path.join(tmp, f"{i}.mel")
                    if not os.path.exists(mel_path):
                        log_mel_window(audio[c], n_mels).tofile(mel_path)
                    cmd += [mel_path, os.path.join(tmp, f"{name}-{ct}-{i}")]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            cosines = []
            for i, c in enumerate(clips):
                a = np.fromfile(os.path.join(tmp, f"{name}-float32-{i}"),
                                dtype="<f4").astype(np.float64)
                b = np.fromfile(os.path.join(tmp, f"{name}-{reduced}-{i}"),
                                dtype="<f4").astype(np.float64)
                cos = float(np.dot(a, b) / (np.linalg.norm(a) *
                                            np.linalg.norm(b)))
                ok = cos >= MIN_COSINE[reduced] and np.isfinite(b).all()
                cosines.append(cos)
                n_checked += 1
                failed += not ok
                print(f"{name:8s} {os.path.basename(c):44s} cosine "
                      f"{cos:.6f}{'' if ok else '  FAILED'}")
            if cosines:
                print(f"{name}: {reduced} vs float32 encoder over {len(cosines)} "
                      f"clips: min cosine {min(cosines):.6f}, mean "
                      f"{sum(cosines) / len(cosines):.6f}")
    if n_checked == 0:
        print("SKIP: no model installed")
        return 77
    print(f"{n_checked - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
