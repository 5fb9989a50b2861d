#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Word timestamps of our decoder beside faster-whisper's, on real speech.

For each selected clip of $WHISPER_SHARED_DIR/testdata/speech (default: the
shared directory beside the repository) the audio is decoded once with
GStreamer to 16 kHz mono float32 and transcribed twice with the SAME
CTranslate2 model directory and the same decoding defaults (beam 5,
condition_on_previous_text, temperature fallback, no VAD):

  (a) ours:  <build>/tests/decoder-tool transcribe MODEL_DIR CLIP.f32
                 --word-timestamps --beam N --threads N
             (build dir: $WHISPER_BUILD_DIR, default "build")
  (b) faster-whisper: WhisperModel(MODEL_DIR, device="cpu",
             compute_type="float32").transcribe(audio, beam_size=N,
             word_timestamps=True, vad_filter=False,
             language="en" for multilingual models)

Words are normalised (lower case, no punctuation or spaces) and paired with
difflib.SequenceMatcher, taking only its equal blocks, so a differing
transcript does not shift the pairing.  Over all pairs the script reports
median, p95 and max of |start_ours - start_fw| and |end_ours - end_fw| in ms,
the mean signed differences (systematic offsets) and the fraction of
faster-whisper's words that were paired.

Pass: both medians <= --bound-median-ms (50), both p95 <= --bound-p95-ms
(200) and >= 90 % of faster-whisper's words paired.  Exit 1 on failure,
2 when our tool fails, 77 (skip) when the model, the tool, faster-whisper
or the speech directory is missing.

Example:
  WHISPER_SHARED_DIR=/work/shared ~/.cache/gst-whisper-npu/venv/bin/python3 \\
      tests/accuracy/word_timestamps.py --model tiny.en
  ... --clips jfk,ls-test-clean-1089-134686-0000   ... --subset ls-dev --limit 4
  ... --all   (the whole manifest, long-form recordings included)
"""

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speech_ref  # noqa: E402
import wer  # noqa: E402  (manifest, model lookup)

SKIP = 77
PAIRED_MIN = 0.90
SEG_RE = re.compile(r"^(\d+) (\d+)\|")
WORD_RE = re.compile(r"^  word (\d+) (\d+) (\S+)\|(.*)\|$")


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def norm(word):
    return re.sub(r"[\W_]", "", word.lower())


def parse_ours(stdout):
    """[(word, start s, end s)] from decoder-tool's '  word T0 T1 P|W|' lines."""
    words = []
    for line in stdout.splitlines():
        m = WORD_RE.match(line)
        if m:
            words.append((m.group(4), int(m.group(1)) / 100.0,
                          int(m.group(2)) / 100.0))
    return words


def run_fw(model, audio, beam, multilingual):
    segs, _info = model.transcribe(audio, beam_size=beam, word_timestamps=True,
                                   vad_filter=False,
                                   language="en" if multilingual else None)
    return [(w.word, w.start, w.end) for s in segs for w in (s.words or [])]


def pair(ours, fw):
    """Index pairs (i_ours, i_fw) of SequenceMatcher's equal blocks."""
    a = [norm(w[0]) for w in ours]
    b = [norm(w[0]) for w in fw]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out = []
    for tag, i1, i2, j1, _j2 in sm.get_opcodes():
        if tag == "equal":
            out.extend((i1 + k, j1 + k) for k in range(i2 - i1))
    return out


def select(items, args):
    if args.clips:
        ids = [c.strip() for c in args.clips.split(",") if c.strip()]
        by_id = {it["id"]: it for it in items}
        missing = [i for i in ids if i not in by_id]
        if missing:
            sys.exit("unknown clip id(s): " + ", ".join(missing))
        return [by_id[i] for i in ids]
    if args.all:
        return items
    if args.subset:
        sel = [it for it in items if it["id"].startswith(args.subset)]
        return sel[:args.limit] if args.limit else sel
    ls = [it for it in items if it["id"].startswith("ls")]
    return [it for it in items if it["id"] == "jfk"] + ls[:args.limit or 10]


def med(x):
    return np.median(np.abs(x)) * 1e3 if x else float("nan")


def stats(x):
    x = np.abs(np.asarray(x))
    return (np.median(x) * 1e3, np.percentile(x, 95) * 1e3, x.max() * 1e3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--clips", help="comma-separated manifest ids")
    ap.add_argument("--subset", help="id prefix, e.g. ls-test-clean")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--all", action="store_true",
                    help="every clip of the manifest, long-form included")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bound-median-ms", type=float, default=50.0)
    ap.add_argument("--bound-p95-ms", type=float, default=200.0)
    args = ap.parse_args()
    t_start = time.monotonic()

    model_path = wer.resolve_model(args.model)
    if not wer.model_present(model_path):
        skip("model %s not found at %s" % (args.model, model_path))
    tool = os.path.join(os.environ.get("WHISPER_BUILD_DIR", "build"),
                        "tests", "decoder-tool")
    if not os.access(tool, os.X_OK):
        skip("decoder tool %s not built" % tool)
    manifest = os.path.join(wer.speech_dir(), "MANIFEST.tsv")
    if not os.path.isfile(manifest):
        skip("speech data not found: %s (set WHISPER_SHARED_DIR)" % manifest)
    try:
        from faster_whisper import WhisperModel
        import faster_whisper
    except ImportError as e:
        skip("faster-whisper not importable: %s" % e)

    items = select(wer.read_manifest(manifest), args)
    multilingual = wer.model_is_multilingual(model_path)
    fw = WhisperModel(model_path, device="cpu", compute_type="float32",
                      cpu_threads=args.threads)
    print("faster-whisper %s: WhisperModel(%r, device='cpu', "
          "compute_type='float32', cpu_threads=%d).transcribe(audio, "
          "beam_size=%d, word_timestamps=True, vad_filter=False, "
          "language=%r)" % (faster_whisper.__version__, model_path,
                            args.threads, args.beam,
                            "en" if multilingual else None))

    rows, d_start, d_end, n_fw_total, n_pair_total = [], [], [], 0, 0
    t_ours = t_fw = 0.0
    with tempfile.TemporaryDirectory(prefix="wordts-") as tmp:
        for it in items:
            audio = speech_ref.decode_audio(it["audio"], tmp)
            pcm = os.path.join(tmp, os.path.basename(it["audio"]) + ".f32")
            cmd = [tool, "transcribe", model_path, pcm, "--word-timestamps",
                   "--beam", str(args.beam), "--threads", str(args.threads)]
            print("ours: " + shlex.join(cmd))
            t0 = time.monotonic()
            r = subprocess.run(cmd, capture_output=True, text=True)
            t_ours += time.monotonic() - t0
            if r.returncode != 0:
                print(r.stderr, file=sys.stderr)
                print("FAIL: decoder-tool exited %d on %s"
                      % (r.returncode, it["id"]))
                sys.exit(2)
            ours = parse_ours(r.stdout)
            t0 = time.monotonic()
            ref = run_fw(fw, audio, args.beam, multilingual)
            t_fw += time.monotonic() - t0
            pairs = pair(ours, ref)
            ds = [ours[i][1] - ref[j][1] for i, j in pairs]
            de = [ours[i][2] - ref[j][2] for i, j in pairs]
            d_start += ds
            d_end += de
            n_fw_total += len(ref)
            n_pair_total += len(pairs)
            rows.append((it["id"], len(ours), len(ref), len(pairs),
                         med(ds), med(de)))
            for i, j in pairs:  # large disagreements, to look at
                if max(abs(ours[i][1] - ref[j][1]),
                       abs(ours[i][2] - ref[j][2])) > args.bound_p95_ms / 1e3:
                    print("  %s: %r ours %.2f-%.2f fw %.2f-%.2f"
                          % (it["id"], ref[j][0], ours[i][1], ours[i][2],
                             ref[j][1], ref[j][2]))

    print()
    print("%-32s %5s %5s %6s %10s %10s" % ("clip", "ours", "fw", "paired",
                                           "med|ds|ms", "med|de|ms"))
    for r in rows:
        print("%-32s %5d %5d %6d %10.1f %10.1f" % r)
    if not n_pair_total:
        print("FAIL: no words paired")
        sys.exit(1)
    frac = n_pair_total / max(n_fw_total, 1)
    s_med, s_p95, s_max = stats(d_start)
    e_med, e_p95, e_max = stats(d_end)
    print()
    print("pairs %d of %d faster-whisper words (%.1f %%)"
          % (n_pair_total, n_fw_total, 100 * frac))
    print("start |diff| ms: median %.1f  p95 %.1f  max %.1f  (mean signed "
          "ours-fw %+.1f)" % (s_med, s_p95, s_max, np.mean(d_start) * 1e3))
    print("end   |diff| ms: median %.1f  p95 %.1f  max %.1f  (mean signed "
          "ours-fw %+.1f)" % (e_med, e_p95, e_max, np.mean(d_end) * 1e3))
    print("time: ours %.1f s, faster-whisper %.1f s, total %.1f s"
          % (t_ours, t_fw, time.monotonic() - t_start))

    fails = []
    for name, med_v, p95_v in (("start", s_med, s_p95), ("end", e_med, e_p95)):
        if med_v > args.bound_median_ms:
            fails.append("median |%s diff| %.1f ms > %.0f ms"
                         % (name, med_v, args.bound_median_ms))
        if p95_v > args.bound_p95_ms:
            fails.append("p95 |%s diff| %.1f ms > %.0f ms"
                         % (name, p95_v, args.bound_p95_ms))
    if frac < PAIRED_MIN:
        fails.append("only %.1f %% of faster-whisper's words paired (< %.0f %%)"
                     % (100 * frac, 100 * PAIRED_MIN))
    if fails:
        print("FAIL: " + "; ".join(fails))
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
