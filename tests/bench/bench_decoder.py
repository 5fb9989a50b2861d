#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Decoder speed: our decoder (tests/decoder-tool window) vs CTranslate2
(faster-whisper's engine), each in float32 and int8, on the same encoder
output (jfk, first window), greedy and beam 5, tiny.en and base.

Both sides run with the same number of threads (argv[1] or
$DECODER_BENCH_THREADS, default 1) and decode the window REPEAT times
(default 6).  Prints wall and process CPU time per window and per generated
token (the EOT included); CPU time is the fairer number on a busy machine.

  WHISPER_BUILD_DIR=build WHISPER_SHARED_DIR=../shared \\
      python3 tests/bench/bench_decoder.py [threads]
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "accuracy"))
import decoder_check as dc  # noqa: E402

REPEAT = int(os.environ.get("DECODER_BENCH_REPEAT", "6"))


def bench_ours(model, enc, frames, beam, threads, multilingual, ct):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
    args = [dc.tool(), "window", model, enc, "--beam", str(beam), "--frames",
            str(frames), "--temperature", "0", "--no-condition",
            "--repeat", str(REPEAT), "--threads", str(threads),
            "--compute-type", ct]
    if multilingual:
        args += ["--language", "en"]
    r = subprocess.run(args, capture_output=True, env=env, check=True)
    m = re.search(r"window decode ([0-9.]+) ms wall, ([0-9.]+) ms CPU",
                  r.stderr.decode())
    segs, _ = dc.parse_window(r.stdout.decode())
    # the segments are contiguous slices of the generated tokens
    return float(m.group(1)), float(m.group(2)), sum(len(s[3]) for s in segs)


def bench_ct2(model, enc_path, beam, threads, multilingual, ct):
    import ctranslate2
    enc = np.fromfile(enc_path, dtype=np.float32).reshape(1, 1500, -1)
    m = ctranslate2.models.Whisper(model, compute_type=ct,
                                   intra_threads=threads)
    sv = ctranslate2.StorageView.from_array(enc)
    prompt = [50258, 50259, 50359] if multilingual else [50257]
    kw = dict(beam_size=beam, max_length=448, return_scores=True)
    r = m.generate(sv, [prompt], **kw)
    t, c = time.time(), time.process_time()
    for _ in range(REPEAT):
        r = m.generate(sv, [prompt], **kw)
    wall = (time.time() - t) / REPEAT * 1000
    cpu = (time.process_time() - c) / REPEAT * 1000
    return wall, cpu, len(r[0].sequences_ids[0])


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else int(
        os.environ.get("DECODER_BENCH_THREADS", "1"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("tiny.en", "base"):
            model = os.path.join(dc.models_dir(), name)
            if not os.path.isdir(model):
                print("no model %s, skipped" % model)
                continue
            multilingual = not name.endswith(".en")
            _, enc, frames = dc.jfk_encoder_output(model, tmp)
            for beam in (1, 5):
                for ct in ("float32", "int8"):
                    ow, oc, on = bench_ours(model, enc, frames, beam, threads,
                                            multilingual, ct)
                    cw, cc, cn = bench_ct2(model, enc, beam, threads,
                                           multilingual, ct)
                    rows.append((name, beam, ct, on, ow, oc, cn, cw, cc))
    print("decoder, jfk window, %d thread(s), %d runs each" %
          (threads, REPEAT))
    print("| model | beam | type | ours tokens | ours ms/window wall | ours CPU ms | "
          "ours CPU ms/token | CT2 tokens | CT2 ms/window wall | CT2 CPU ms | "
          "CT2 CPU ms/token |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, beam, ct, on, ow, oc, cn, cw, cc in rows:
        print("| %s | %d | %s | %d | %.0f | %.0f | %.2f | %d | %.0f | %.0f | %.2f |"
              % (name, beam, ct, on, ow, oc, oc / (on + 1), cn, cw, cc,
                 cc / (cn + 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
