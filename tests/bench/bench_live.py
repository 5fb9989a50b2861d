#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Live captions: how late the final words come, and what streaming costs in
words, for the streaming policy of docs/streaming.md.

The audio: the two long-form recordings and 20 dev-set clips of
$WHISPER_SHARED_DIR/testdata/speech, joined with 0.5 s of silence between
them (decoded to 16 kHz mono float32 with GStreamer).  For each model and
each latency setting:

  offline: <build>/tests/decoder-tool transcribe MODEL joined.f32
               --word-timestamps   (30 s windows, word times: the reference
               of when each word ends in the audio)
  live:    <build>/tests/stream-sim MODEL joined.f32 --latency MS --step MS
               (the engine's streaming policy on a simulated clock: audio
               arrives in real time, each step costs its measured compute
               time on this machine)

Per final word of the live run, paired with the offline word it matches
(difflib over normalised words): delay = the simulated time it became final
- the offline end of the word.  Printed: p50 / p95 / max delay, WER of the
live and of the offline text against the human transcripts, and the words
the live run has beyond the offline one (inserted, e.g. committed twice) and
lacks (lost).  The clock is simulated; the live pipeline test
(tests/accuracy/live_check.py) measures the same through the elements on
the wall clock.

  WHISPER_SHARED_DIR=../shared nice -n -10 \\
      ~/.cache/gst-whisper-npu/venv/bin/python3 tests/bench/bench_live.py \\
      --model tiny.en --model base --latency 3000 --latency 5000
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "accuracy"))
import live_check  # noqa: E402  (joined audio, offline words, pairing)
import speech_ref  # noqa: E402
import wer  # noqa: E402

SKIP = 77
N_CLIPS = 20
COMMIT_RE = re.compile(r"^commit (\S+) (\d+) (\d+)\|(.*)\|$")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(cmd), r.stderr[-2000:]))
    return r.stdout


def live_words(sim, model, audio, beam, latency, step):
    out = run([sim, model, audio, "--latency", str(latency), "--step",
               str(step), "--beam", str(beam), "--threads", "2"])
    return [(m.group(4), float(m.group(1)))
            for m in map(COMMIT_RE.match, out.splitlines()) if m]


def compare(live, offline):
    """delays of the paired words, inserted and lost counts"""
    pairs, inserted, lost = live_check.pair(live, offline)
    return (np.array([live[i][1] - offline[j][1] for i, j in pairs]),
            inserted, lost)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append")
    ap.add_argument("--latency", action="append", type=int)
    ap.add_argument("--step", type=int, default=1000)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--build", default=os.environ.get("WHISPER_BUILD_DIR",
                                                      "build"))
    args = ap.parse_args()
    models = args.model or ["tiny.en", "base"]
    latencies = args.latency or [3000, 5000]
    tool = os.path.join(args.build, "tests", "decoder-tool")
    sim = os.path.join(args.build, "tests", "stream-sim")
    for exe in (tool, sim):
        if not os.access(exe, os.X_OK):
            print("SKIP: %s not built" % exe)
            return SKIP
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        audio, ref, seconds = live_check.joined_audio(tmp, N_CLIPS)
        print("audio: %d long-form recordings + %d clips, %.1f s; step %d ms,"
              " beam %d (greedy after a step slower than a step)" %
              (2, N_CLIPS, seconds, args.step, args.beam))
        rows = []
        for name in models:
            model = os.path.join(speech_ref.models_dir(), name)
            if not os.path.isdir(model):
                print("SKIP %s: %s missing" % (name, model))
                continue
            off = live_check.offline_words(model, audio, tool, args.beam)
            off_wer = wer.wer_stats([wer.normalize(ref)], [wer.normalize(
                "".join(w for w, _ in off))])["wer"]
            for lat in latencies:
                live = live_words(sim, model, audio, args.beam, lat, args.step)
                d, ins, lost = compare(live, off)
                live_wer = wer.wer_stats([wer.normalize(ref)], [wer.normalize(
                    "".join(w for w, _ in live))])["wer"]
                rows.append((name, lat, np.percentile(d, 50),
                             np.percentile(d, 95), d.max(), len(live),
                             ins, lost, live_wer, off_wer))
        print("\n| model | latency ms | p50 s | p95 s | max s | final words |"
              " inserted | lost | WER live | WER offline |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
              " ---: |")
        for r in rows:
            print("| %s | %d | %.2f | %.2f | %.2f | %d | %d | %d | %.2f |"
                  " %.2f |" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
