#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: one transcription with the machine to itself and beside
`stress-ng --cpu N` (busy loops on every core, as video decoding or any
other work would be), for one or more builds in the same invocation.

For each build directory (default: build) and each round (--rounds,
alternating builds so that outside load hits all alike), the pipeline

  gst-launch-1.0 filesrc ! decodebin ! audioconvert ! audioresample !
      whispermel ! whisperencnpu model=M ! whisperdec ! fakesink

runs once unloaded and once with stress-ng running; wall and CPU time
(user + system of gst-launch-1.0) are printed per build as medians, with
the loaded / unloaded wall ratio (the issue's bound: at most 2.5).

  python3 tests/bench/bench_load.py --build-dir build --build-dir OLD \\
      --audio ../shared/testdata/speech/audio/jfk.flac --rounds 3
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time


def run_once(build, model, audio):
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(build, "gst"),
               GST_REGISTRY_1_0=os.path.join(build, "bench-load-registry.bin"))
    cmd = ["gst-launch-1.0", "-q", "filesrc", "location=" + audio, "!",
           "decodebin", "!", "audioconvert", "!", "audioresample", "!",
           "whispermel", "!", "whisperencnpu", "model=" + model, "!",
           "whisperdec", "!", "fakesink"]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=600)
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (build, r.stderr.strip()[-300:]))
    return wall, (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", action="append")
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--audio", required=True)
    ap.add_argument("--stress-cpus", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not shutil.which("stress-ng"):
        print("stress-ng is not installed (install-deps.sh --tests)")
        return 77
    builds = [os.path.abspath(b) for b in args.build_dir or ["build"]]
    res = {b: {"idle": [], "loaded": []} for b in builds}
    for b in builds:
        run_once(b, args.model, args.audio)      # registry, page cache
    for _ in range(args.rounds):
        for b in builds:
            res[b]["idle"].append(run_once(b, args.model, args.audio))
        stress = subprocess.Popen(["stress-ng", "--cpu",
                                   str(args.stress_cpus), "--quiet"])
        try:
            time.sleep(1.0)
            for b in builds:
                res[b]["loaded"].append(run_once(b, args.model, args.audio))
        finally:
            stress.terminate()
            stress.wait()
    print("# %s, %s, stress-ng --cpu %d, median of %d (%s)\n" % (
        args.model, os.path.basename(args.audio), args.stress_cpus,
        args.rounds, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    print("| build | wall s | CPU s | loaded wall s | loaded CPU s | "
          "wall ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for b in builds:
        w0 = statistics.median(w for w, _ in res[b]["idle"])
        c0 = statistics.median(c for _, c in res[b]["idle"])
        w1 = statistics.median(w for w, _ in res[b]["loaded"])
        c1 = statistics.median(c for _, c in res[b]["loaded"])
        print("| %s | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
            b, w0, c0, w1, c1, w1 / w0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
