#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the CTranslate2 loader against an independent numpy reading.

1. whisper-convert --format safetensors --type f32 tiny.en OUT: our loader's
   float32 weights under Hugging Face names.  Every tensor must equal the
   numpy reading of CTranslate2's model.bin, with the fused QKV / KV split
   done here (CTranslate2 and transformers naming, written independently of
   the C code).
2. whisper-convert --format ct2 --type int8 tiny.en OUT: the ctranslate2
   package itself loads our int8 directory; its encoder output (float32
   compute) must stay close to the float16 original's (checks the
   q / scale convention and the file layout against CTranslate2's own
   reader).

Usage: models_ct2_check.py WHISPER_CONVERT.  Exit 77 without tiny.en.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

from speech_ref import models_dir

CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(path):
    data = open(path, "rb").read()
    off = 0

    def take(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, data, off)
        off += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal off
        n = take("H")
        s = data[off:off + n - 1].decode()
        off += n
        return s

    assert take("I") == 6
    assert string() == "WhisperSpec"
    take("I")
    out = {}
    for _ in range(take("I")):
        name = string()
        dims = [take("I") for _ in range(take("B"))]
        dt = take("B")
        nb = take("I")
        if dt == 5:  # bfloat16
            raw = np.frombuffer(data, np.uint16, nb // 2, off).astype(np.uint32)
            arr = (raw << 16).view(np.float32)
        else:
            arr = np.frombuffer(data, CT2_DTYPES[dt], nb // np.dtype(CT2_DTYPES[dt]).itemsize, off)
        out[name] = arr.reshape(dims)
        off += nb
    return out


def read_safetensors(path):
    data = open(path, "rb").read()
    hlen = struct.unpack_from("<Q", data, 0)[0]
    header = json.loads(data[8:8 + hlen])
    base = 8 + hlen
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", e
        b, en = e["data_offsets"]
        out[name] = np.frombuffer(data[base + b:base + en], np.float32).reshape(e["shape"])
    return out


def expected_hf(ct2):
    """CTranslate2 variables -> transformers names, float32."""
    f = lambda n: ct2[n].astype(np.float32)
    out = {
        "model.encoder.conv1.weight": f("encoder/conv1/weight"),
        "model.encoder.conv1.bias": f("encoder/conv1/bias"),
        "model.encoder.conv2.weight": f("encoder/conv2/weight"),
        "model.encoder.conv2.bias": f("encoder/conv2/bias"),
        "model.encoder.embed_positions.weight": f("encoder/position_encodings/encodings"),
        "model.encoder.layer_norm.weight": f("encoder/layer_norm/gamma"),
        "model.encoder.layer_norm.bias": f("encoder/layer_norm/beta"),
        "model.decoder.embed_tokens.weight": f("decoder/embeddings/weight"),
        "model.decoder.embed_positions.weight": f("decoder/position_encodings/encodings"),
        "model.decoder.layer_norm.weight": f("decoder/layer_norm/gamma"),
        "model.decoder.layer_norm.bias": f("decoder/layer_norm/beta"),
    }

    def put_attn(hf, ct2, q_w, q_b, k_w, k_b, v_w, v_b, out_linear):
        """transformers attention hf (with its layer norm) from the split
        projections and the CTranslate2 attention ct2."""
        assert not k_b.any(), "key bias expected zero"
        out[hf + ".q_proj.weight"] = q_w
        out[hf + ".q_proj.bias"] = q_b
        out[hf + ".k_proj.weight"] = k_w
        out[hf + ".v_proj.weight"] = v_w
        out[hf + ".v_proj.bias"] = v_b
        out[hf + ".out_proj.weight"] = f(ct2 + out_linear + "/weight")
        out[hf + ".out_proj.bias"] = f(ct2 + out_linear + "/bias")
        out[hf + "_layer_norm.weight"] = f(ct2 + "/layer_norm/gamma")
        out[hf + "_layer_norm.bias"] = f(ct2 + "/layer_norm/beta")

    for side in ("encoder", "decoder"):
        i = 0
        while f"{side}/layer_{i}/self_attention/linear_0/weight" in ct2:
            c = f"{side}/layer_{i}/"
            h = f"model.{side}.layers.{i}."
            q_w, k_w, v_w = np.split(f(c + "self_attention/linear_0/weight"), 3)
            q_b, k_b, v_b = np.split(f(c + "self_attention/linear_0/bias"), 3)
            put_attn(h + "self_attn", c + "self_attention",
                     q_w, q_b, k_w, k_b, v_w, v_b, "/linear_1")
            out[h + "fc1.weight"] = f(c + "ffn/linear_0/weight")
            out[h + "fc1.bias"] = f(c + "ffn/linear_0/bias")
            out[h + "fc2.weight"] = f(c + "ffn/linear_1/weight")
            out[h + "fc2.bias"] = f(c + "ffn/linear_1/bias")
            out[h + "final_layer_norm.weight"] = f(c + "ffn/layer_norm/gamma")
            out[h + "final_layer_norm.bias"] = f(c + "ffn/layer_norm/beta")
            if side == "decoder":
                k_w, v_w = np.split(f(c + "attention/linear_1/weight"), 2)
                k_b, v_b = np.split(f(c + "attention/linear_1/bias"), 2)
                put_attn(h + "encoder_attn", c + "attention",
                         f(c + "attention/linear_0/weight"),
                         f(c + "attention/linear_0/bias"),
                         k_w, k_b, v_w, v_b, "/linear_2")
            i += 1
    return out


def main():
    convert = sys.argv[1]
    src = os.path.join(models_dir(), "tiny.en")
    if not os.path.isdir(src):
        print(f"SKIP: {src} not found")
        return 77
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        hf = os.path.join(tmp, "hf")
        subprocess.run([convert, "--format", "safetensors", "--type", "f32", src, hf],
                       check=True, stdout=subprocess.DEVNULL)
        ours = read_safetensors(os.path.join(hf, "model.safetensors"))
        want = expected_hf(read_ct2(os.path.join(src, "model.bin")))
        if set(ours) != set(want):
            print("FAIL: tensor names differ:", sorted(set(ours) ^ set(want))[:10])
            failures += 1
        for name in sorted(set(ours) & set(want)):
            if ours[name].shape != want[name].shape or not np.array_equal(ours[name], want[name]):
                print(f"FAIL: {name} differs")
                failures += 1
        print(f"{len(want)} tensors: C loader == numpy reading of model.bin"
              + ("" if not failures else " -- NOT"))

        try:
            import ctranslate2
        except ImportError:
            print("ctranslate2 not installed: int8 check skipped")
            return 1 if failures else 0
        q = os.path.join(tmp, "int8")
        subprocess.run([convert, "--format", "ct2", "--type", "int8", src, q],
                       check=True, stdout=subprocess.DEVNULL)
        rng = np.random.RandomState(0)
        mel = (rng.rand(1, 80, 3000).astype(np.float32) * 2 - 1)
        outs = []
        for d in (src, q):
            m = ctranslate2.models.Whisper(d, device="cpu", compute_type="float32")
            outs.append(np.array(m.encode(ctranslate2.StorageView.from_array(mel))).ravel())
        a, b = outs
        cos = float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))
        print(f"ctranslate2 encoder, our int8 directory vs the float16 original: cosine {cos:.6f}")
        if cos < 0.99:
            print("FAIL: int8 directory written by whisper-convert is not read as intended by ctranslate2")
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
