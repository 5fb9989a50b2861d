#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Test of examples/transcribe-app (the C program that embeds the pipeline).

    examples_check.py PATH/TO/transcribe-app

- jfk.flac with tiny.en: at least one `[HH:MM:SS.mmm --> HH:MM:SS.mmm] text`
  line, times monotonic (start <= end, each start >= the previous end),
  exit 0, and the words "ask not what your country can do for you"
  (case and punctuation ignored);
- a model name that does not exist: exit 1 and an error on stderr naming it.

Exits 77 (skip) without the tiny.en model in the models directory
($GST_WHISPER_MODELS_DIR, else ${XDG_CACHE_HOME:-~/.cache}/gst-whisper-npu/
models) or without $WHISPER_SHARED_DIR/testdata/speech.
"""

import os
import re
import subprocess
import sys

from gst_requirements import DECODE_TEST_AUDIO, require_elements
from speech_ref import models_dir

SKIP = 77
LINE = re.compile(r"^\[(\d\d):(\d\d):(\d\d)\.(\d{3}) --> "
                  r"(\d\d):(\d\d):(\d\d)\.(\d{3})\] (.*)$")
WORDS = "ask not what your country can do for you"


def shared_dir():
    d = os.environ.get("WHISPER_SHARED_DIR")
    if d:
        return d
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "..", "shared")


def seconds(h, m, s, ms):
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000.0


def normalise(text):
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower())
                    .replace("'", "").split())


def run(app, *args):
    p = subprocess.run([app, *args], capture_output=True, text=True,
                       timeout=600)
    print("$", app, *args, "->", p.returncode)
    print(p.stdout, end="")
    print(p.stderr, end="", file=sys.stderr)
    return p


def main():
    require_elements(DECODE_TEST_AUDIO + ["fakesink"])  # the app's pipeline
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    app = sys.argv[1]
    jfk = os.path.join(shared_dir(), "testdata", "speech", "audio",
                       "jfk.flac")
    if not os.path.isfile(jfk):
        print("SKIP: no", jfk)
        return SKIP
    if not os.path.isdir(os.path.join(models_dir(), "tiny.en")):
        print("SKIP: no tiny.en in", models_dir())
        return SKIP

    failures = []

    # 1. jfk: timed lines, monotonic, the famous words.
    p = run(app, "--model", "tiny.en", "--beam", "1", jfk)
    if p.returncode != 0:
        failures.append("jfk: exit code %d, expected 0" % p.returncode)
    segments = []
    for line in p.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            failures.append("jfk: not a segment line: %r" % line)
            continue
        g = m.groups()
        segments.append((seconds(*g[0:4]), seconds(*g[4:8]), g[8]))
    if not segments:
        failures.append("jfk: no segment line")
    prev_end = 0.0
    for start, end, text in segments:
        if start > end or start < prev_end:
            failures.append("jfk: times not monotonic at %.3f-%.3f %r "
                            "(previous end %.3f)" % (start, end, text,
                                                     prev_end))
        prev_end = end
    words = normalise(" ".join(t for _, _, t in segments))
    if WORDS not in words:
        failures.append("jfk: %r not in %r" % (WORDS, words))

    # 2. A model that does not exist: exit 1, the error names it.
    bogus = "no-such-model-xyz"
    p = run(app, "--model", bogus, jfk)
    if p.returncode != 1:
        failures.append("bad model: exit code %d, expected 1" % p.returncode)
    if bogus not in p.stderr or "ERROR" not in p.stderr:
        failures.append("bad model: stderr does not report an error naming "
                        "%r" % bogus)

    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("OK: %d segments" % len(segments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
