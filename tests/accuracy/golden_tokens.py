#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Token sequences of the whole engine, for before/after comparisons.

  golden_tokens.py run DECODER_TOOL OUTDIR [--every N]
      every Nth recording of the dev set (default 5) and jfk, tiny.en and
      base, beam 1 and 5, through `decoder-tool transcribe` (mel, encoder,
      decoder, seek): one file per case in OUTDIR
  golden_tokens.py compare DIR_A DIR_B
      cases whose segment times and token ids are identical, and those whose
      printed avg_logprob is identical too; exit 1 if any token differs

A change that should keep the numbers (a refactor, a new dispatch) is run
with the old and the new decoder-tool and compared.  WHISPER_SHARED_DIR as
for the other scripts; models from the models directory.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speech_ref  # noqa: E402

MODELS = ("tiny.en", "base")
BEAMS = ("1", "5")
SEGMENT = re.compile(r"^(\d+ \d+)\|.*\|([\d ]*)\|(.*)$")


def shared_dir():
    return os.environ.get("WHISPER_SHARED_DIR", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
        "shared"))


def clips(every):
    audio = os.path.join(shared_dir(), "testdata", "speech", "audio")
    names = sorted(os.listdir(audio))
    chosen = names[::every]
    if "jfk.flac" in names and "jfk.flac" not in chosen:
        chosen.append("jfk.flac")
    return [os.path.join(audio, n) for n in chosen]


def run(tool, outdir, every):
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pcms = []
        for c in clips(every):
            speech_ref.decode_audio(c, tmp)   # writes <tmp>/<name>.f32
            path = os.path.join(tmp, os.path.basename(c) + ".f32")
            pcms.append((os.path.splitext(os.path.basename(c))[0], path))
        for m in MODELS:
            model = os.path.join(speech_ref.models_dir(), m)
            for b in BEAMS:
                for name, path in pcms:
                    out = subprocess.run(
                        [tool, "transcribe", model, path, "--beam", b],
                        capture_output=True, text=True)
                    with open(os.path.join(outdir, "%s.b%s.%s.txt"
                                           % (m, b, name)), "w") as f:
                        f.write(out.stdout)
    return 0


# decoder-tool's timing line (stderr); files written with stderr merged
# can hold it in the middle of a segment line
TIMING = re.compile(r"\d+\.\d+ s audio: encoder [\d.]+ s, decoder [\d.]+ s "
                    r"\(\d+ segment tokens\)\n?")


def parse(path):
    toks, logprobs = [], []
    with open(path, errors="replace") as f:
        text = TIMING.sub("", f.read())
    for line in text.splitlines():
        m = SEGMENT.match(line)
        if m:
            toks.append((m.group(1), m.group(2)))
            logprobs.append(m.group(3))
    return toks, logprobs


def compare(a, b):
    names = sorted(set(os.listdir(a)) & set(os.listdir(b)))
    same = same_lp = 0
    differ = []
    for n in names:
        ta, la = parse(os.path.join(a, n))
        tb, lb = parse(os.path.join(b, n))
        if ta and ta == tb:
            same += 1
            same_lp += la == lb
        else:
            differ.append(n)
    print("%d cases: tokens and times identical in %d, avg_logprob too in %d"
          % (len(names), same, same_lp))
    for n in differ:
        print("DIFFER:", n)
    return 1 if differ or not names else 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "run":
        every = 5
        if "--every" in sys.argv:
            every = int(sys.argv[sys.argv.index("--every") + 1])
        return run(sys.argv[2], sys.argv[3], every)
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
