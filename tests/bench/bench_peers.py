#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Front end and encoder speed beside faster-whisper's, in one invocation.

    python3 tests/bench/bench_peers.py [--build-dir build] [--threads 2] [--runs 5]

Prints, for the same machine and moment:
  - log-mel: our engine (tests/bench-mel, 1 thread, one hour of audio) and
    faster-whisper's FeatureExtractor (numpy, 1 thread, 10 minutes of audio),
    as multiples of real time;
  - encoder: ms per 30 s window for tiny.en and base, ours (tests/bench-encoder,
    float32, bfloat16 and int8, with the sgemm ceiling it measures) and
    CTranslate2's Whisper encoder (what faster-whisper runs) in float32 and
    int8, same threads.
Models missing from the models directory are skipped.  Registered as
`meson test --benchmark --suite peers`.
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np


def models_dir():
    d = os.environ.get("GST_WHISPER_MODELS_DIR")
    if d:
        return d
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(cache, "gst-whisper-npu", "models")


def run(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return out.stdout


def bench_fw_mel(seconds):
    from faster_whisper.feature_extractor import FeatureExtractor

    fe = FeatureExtractor(feature_size=80)
    audio = (np.random.default_rng(1).standard_normal(16000 * seconds) * 0.1).astype(np.float32)
    fe(audio[:16000 * 30])  # warm up
    t = time.perf_counter()
    fe(audio)
    return seconds / (time.perf_counter() - t)


def bench_ct2_encoder(path, compute_type, threads, runs):
    import ctranslate2

    model = ctranslate2.models.Whisper(path, device="cpu", compute_type=compute_type,
                                       intra_threads=threads)
    mel = np.random.default_rng(2).standard_normal((1, model.n_mels, 3000)).astype(np.float32)
    x = ctranslate2.StorageView.from_array(mel)
    model.encode(x)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        model.encode(x)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[0] * 1e3, times[len(times) // 2] * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.environ.get("WHISPER_BUILD_DIR", "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    # Peers run single-threaded for the front end, like ours.
    one_thread = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                      MKL_NUM_THREADS="1")

    print("## log-mel front end (1 thread)\n")
    print("| implementation | x real time |\n| --- | ---: |")
    out = run([os.path.join(args.build_dir, "tests", "bench-mel"), "3600"], env=one_thread)
    ours = float(re.search(r"([0-9.]+)x real time", out).group(1))
    print(f"| gst-whisper-npu whispermel engine (1 h of audio) | {ours:.0f} |")
    fw = float(run([sys.executable, __file__, "--fw-mel-only"], env=one_thread))
    print(f"| faster-whisper FeatureExtractor (numpy, 10 min of audio) | {fw:.0f} |")

    print(f"\n## encoder, ms per 30 s window ({args.threads} threads; best / median of {args.runs})\n")
    types = ("float32", "bfloat16", "int8")
    cmd = [os.path.join(args.build_dir, "tests", "bench-encoder"),
           "--threads", str(args.threads), "--runs", str(args.runs)]
    for ct in types:
        cmd += ["--compute-type", ct]
    out = run(cmd)
    ceiling = re.search(r"sgemm ceiling .*?: ([0-9.]+) GFLOP/s", out)
    path_line = re.search(r"^kernels: (\S+)", out, re.M)
    # bench-encoder prints "MODEL TYPE", then the result line of that run
    ours, current = {}, None
    for line in out.splitlines():
        head = re.match(r"^(\S+)\s+(%s)$" % "|".join(types), line)
        if head:
            current = head.group(2)
            continue
        m = re.match(r"^(\S+)\s+C=.*?best ([0-9.]+) ms\s+median ([0-9.]+) ms\s+"
                     r"([0-9.]+) GFLOP/s", line)
        if m and current:
            ours[(m.group(1), current)] = (float(m.group(2)), float(m.group(3)),
                                           float(m.group(4)))
    if ceiling:
        print(f"OpenBLAS sgemm ceiling measured in this run: {ceiling.group(1)} GFLOP/s")
    if path_line:
        print(f"our CPU kernels: {path_line.group(1)} copy")
    print()
    print("| model | ours float32 | ours bfloat16 | ours int8 | CTranslate2 float32 "
          "| CTranslate2 int8 | ours bfloat16 vs CT2 int8 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ("tiny.en", "base"):
        path = os.path.join(models_dir(), name)
        if (name, "float32") not in ours or not os.path.isdir(path):
            print(f"| {name} | (not installed) | | | | | |")
            continue
        f32 = bench_ct2_encoder(path, "float32", args.threads, args.runs)
        i8 = bench_ct2_encoder(path, "int8", args.threads, args.runs)
        cells = []
        for ct in types:
            b, m, gf = ours.get((name, ct), (float("nan"),) * 3)
            cells.append(f"{b:.0f} / {m:.0f} ({gf:.0f} GFLOP/s)")
        speedup = i8[0] / ours[(name, "bfloat16")][0] \
            if (name, "bfloat16") in ours else float("nan")
        print(f"| {name} | " + " | ".join(cells) +
              f" | {f32[0]:.0f} / {f32[1]:.0f} | {i8[0]:.0f} / {i8[1]:.0f} | "
              f"{speedup:.2f}x |")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--fw-mel-only"]:
        print(bench_fw_mel(600))
        sys.exit(0)
    sys.exit(main())
