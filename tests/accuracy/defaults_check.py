#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Default properties lose no speech: every recording of
$WHISPER_SHARED_DIR/testdata/speech/MANIFEST.tsv (all 143, the two
longform-* included) through the real pipeline with DEFAULT properties on
every element:

  filesrc ! decodebin ! audioconvert ! audioresample ! whispermel !
  whisperencnpu model=tiny.en ! whisperdec ! srtenc ! filesink

No other property is set (whisperdec only gets name=dec, which the script
needs to find its bus messages): beam 5, previous-text conditioning,
temperature fallback, openai-whisper's no-speech rule, the encoder's speech
gate at its default.  Two recordings run at a time.

Why: whisperdec once had its own max-no-speech-prob=0.8 rule dropped
confident text with these defaults (longform-ljspeech-LJ001-0017-0032
ended with "France." at 1:44.68 while the recording speaks until 1:59.8),
and every other test ran with condition-on-previous-text=false and
temperature-fallback=false, so none of them saw it.  What goes missing when
a window is wrongly skipped (by the decoder's no-speech rule or the
encoder's speech gate) is a whole window's text, and at the end of a clip
that is its last sentence.  So the check is that the last reference
sentence of every clip is there.

Criterion, per clip: take the last five words of the normalised reference
(wer.normalize, Whisper's EnglishTextNormalizer; all of them when it has
fewer), align the normalised hypothesis to the whole normalised reference
(jiwer.process_words) and count the tail words that are aligned as hits
("equal").  A clip is a clean pass with all five hit, passes with at least
three (ceil(3/5 of the tail) for shorter tails).  Why not "all five":
tiny.en mishears about one word in ten (WER ~10 %, ~19 % on LibriSpeech
test-other), so roughly a third of the clips have a wrong word in their last
five and a strict check would fail on model errors, not on lost speech.  A
dropped ending leaves the tail words as deletions: 0 hits, at most one by
chance, far below three, while two misheard words out of five still pass.
Where a clip falls short of three, the same file goes through
faster-whisper with its defaults (tiny.en, the same CTranslate2 directory,
float32, beam 5, condition_on_previous_text=True, temperature fallback
0.0-1.0, vad_filter=False), i.e. the same model with openai-whisper's
decoding rules and no gate, and the clip is accepted when ours has at least
as many tail hits: then the shortfall is the model's hearing, not our
elements dropping speech.  Because "at least as many" is empty when
faster-whisper has 0 hits as well (the digit string sphinx4-*, which the
normaliser makes one "word"; misheard archaic LibriSpeech lines), an
accepted clip must also contain faster-whisper's own ending: its last five
normalised words, aligned the same way, hit at least three times in ours.
It fails otherwise, and on any pipeline error.

Printed: one line for each clip that is not a clean pass (hits, the
reference tail and the end of our hypothesis, the last cue time against the
recording's length, faster-whisper's hits when it was asked), then a
summary: clips, how many had all 5, >= 3, needed faster-whisper, and the
WER with defaults over all non-longform clips.

Exit 0 pass, 1 a clip failed, 2 a pipeline error, 77 when tiny.en or the
shared data is missing.

  python3 tests/accuracy/defaults_check.py [--build-dir DIR] [--jobs 2] [--id ID ...]
"""

import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wer  # noqa: E402
import gst_requirements as req  # noqa: E402

MODEL = "tiny.en"
TAIL = 5            # last reference words checked
TAIL_MIN = 3        # hits needed out of TAIL
FW_BEAM = 5         # faster-whisper's default beam_size


def tail_hits(ref, hyp, n=TAIL):
    """(hits, tail words, aligned hypothesis words) for the last @n words of
    the normalised reference @ref against the normalised hypothesis @hyp.
    A hit is a tail word that the jiwer alignment marks "equal"."""
    import jiwer
    rw = ref.split()
    if not rw:
        return 0, [], []
    start = max(0, len(rw) - n)
    tail = rw[start:]
    if not hyp.split():
        return 0, tail, []
    o = jiwer.process_words(ref, hyp)
    hw = hyp.split()
    hits = 0
    first_h = None
    for c in o.alignments[0]:
        lo = max(c.ref_start_idx, start)
        hi = min(c.ref_end_idx, len(rw))
        if c.type == "equal" and hi > lo:
            hits += hi - lo
        # hypothesis words aligned with the tail (for the report)
        if c.type != "insert" and c.ref_end_idx > start and first_h is None:
            off = max(0, start - c.ref_start_idx) if c.type != "delete" else 0
            first_h = c.hyp_start_idx + min(off, c.hyp_end_idx - c.hyp_start_idx)
        if c.type == "insert" and c.ref_start_idx >= start and first_h is None:
            first_h = c.hyp_start_idx
    return hits, tail, hw[first_h:] if first_h is not None else []


def tail_needed(n_tail):
    """Hits needed for a tail of @n_tail words (3 of 5)."""
    return min(n_tail, math.ceil(TAIL_MIN * n_tail / TAIL))


def fw_defaults(fw, audio):
    """faster-whisper with its defaults (beam 5, previous-text conditioning,
    temperature fallback), stock audio decoding, no VAD."""
    res, _ = fw.transcribe(audio, FW_BEAM, condition=True,
                           temperature_fallback=True)
    return res


def main(argv=None):
    req.require_elements(req.DECODE_TEST_AUDIO + ["srtenc", "filesink"])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=None)
    ap.add_argument("--jobs", type=int, default=2,
                    help="recordings through the pipeline at a time")
    ap.add_argument("--threads", type=int, default=2,
                    help="faster-whisper's threads (no element property "
                    "is set: our pipeline runs on all cores)")
    ap.add_argument("--id", action="append", help="only these item ids")
    ap.add_argument("--json", help="write every result to this file")
    ap.add_argument("--reuse-ours", metavar="JSON",
                    help="our results from an earlier --json instead of "
                    "running the pipeline")
    ap.add_argument("--verbose", action="store_true",
                    help="a line per clip as it finishes")
    args = ap.parse_args(argv)

    mpath = wer.resolve_model(MODEL)
    if not wer.model_present(mpath):
        print("SKIP: model %s not found at %s" % (MODEL, mpath))
        return 77
    try:
        items = wer.read_manifest()
    except OSError as e:
        print("SKIP: no shared speech data: %s" % e)
        return 77
    if args.id:
        items = [it for it in items if it["id"] in set(args.id)]
    missing = [it["id"] for it in items if not os.path.exists(it["audio"])]
    if missing:
        print("SKIP: audio missing from the shared data: %s" % ", ".join(missing[:5]))
        return 77
    if not items:
        print("no items selected")
        return 2

    build_dir = args.build_dir or wer.default_build_dir()
    pipe = wer.OurPipeline(build_dir, mpath, args.threads, defaults=True)
    if not pipe.available:
        print("FAIL: whispermel/whisperencnpu/whisperdec not loadable from %s/gst"
              % build_dir)
        return 1
    t0 = time.monotonic()
    if args.reuse_ours:
        with open(args.reuse_ours, encoding="utf-8") as f:
            ours = json.load(f)["ours"]
    else:
        log = (lambda s: print(s, file=sys.stderr, flush=True)) \
            if args.verbose else None
        ours = wer.run_ours(items, pipe, FW_BEAM, args.jobs, log)
    pipe_secs = time.monotonic() - t0
    print("pipeline: %s" % (next(iter(ours.values())).get("cmd", "(reused)")))

    fw = None
    fw_res = {}
    failures = []
    errors = 0
    n_all = n_ok = n_fw = 0
    refs, hyps = [], []
    for it in items:
        res = ours[it["id"]]
        ref = wer.normalize(it["reference"])
        hyp = wer.normalize(res.get("text", ""))
        if it["subset"] != "longform":
            refs.append(ref)
            hyps.append(hyp)
        segs = res.get("segments") or []
        last = segs[-1]["end"] if segs else 0.0
        if res.get("error"):
            errors += 1
            failures.append("%s: pipeline error: %s" % (it["id"], res["error"]))
            print("%s: PIPELINE ERROR %s" % (it["id"], res["error"]))
            continue
        hits, tail, htail = tail_hits(ref, hyp)
        need = tail_needed(len(tail))
        if hits == len(tail):
            n_all += 1
        if hits >= need:
            n_ok += 1
            if hits == len(tail):
                continue
            verdict = "ok"
        else:
            n_fw += 1
            if fw is None:
                fw = wer.FasterWhisper(mpath, "float32", args.threads)
            fw_res[it["id"]] = fw_defaults(fw, it["audio"])
            fwh = wer.normalize(fw_res[it["id"]]["text"])
            fhits, _, ftail = tail_hits(ref, fwh)
            # ours must also end the way faster-whisper ends (its last
            # words found in ours, 3 of 5): where neither hears the
            # reference's ending (0 = 0 hits), this still notices ours
            # stopping early
            cross, fw_last, _ = tail_hits(fwh, hyp)
            cross_ok = cross >= tail_needed(len(fw_last))
            what = "faster-whisper %d/%d (\"%s\"), its last %d words in ours %d" % (
                fhits, len(tail), " ".join(ftail), len(fw_last), cross)
            if hits >= fhits and cross_ok:
                verdict = "accepted: " + what
            else:
                verdict = "FAIL: " + what
                failures.append("%s: last %d reference words \"%s\": ours %d "
                                "hits (\"%s\"), %s"
                                % (it["id"], len(tail), " ".join(tail), hits,
                                   " ".join(htail), what))
        print("%-36s %d/%d  ref \"%s\"  ours \"%s\"  last cue %.2f of %.2f s  %s"
              % (it["id"], hits, len(tail), " ".join(tail), " ".join(htail),
                 last, it["duration"], verdict))

    for it in items:
        if it["subset"] == "longform" and not ours[it["id"]].get("error"):
            segs = ours[it["id"]].get("segments") or []
            print("%s: %d cues, last cue %.2f-%.2f s, recording %.2f s" % (
                it["id"], len(segs), segs[-1]["start"] if segs else 0,
                segs[-1]["end"] if segs else 0, it["duration"]))
    stats = wer.wer_stats(refs, hyps) if refs else None
    print("\n%d clips: %d with all %d tail words, %d with >= %d (all %d "
          "included), %d needed "
          "faster-whisper (%d accepted), %d failed" % (
              len(items), n_all, TAIL, n_ok, TAIL_MIN, TAIL, n_fw,
              n_fw - (len(failures) - errors), len(failures)))
    if stats:
        print("WER with defaults, %d non-longform clips: %.2f %% (%d errors in "
              "%d words: %d sub, %d del, %d ins)" % (
                  len(refs), stats["wer"], stats["errors"], stats["words"],
                  stats["sub"], stats["del"], stats["ins"]))
    print("pipeline wall time %.0f s (%d at a time)" % (pipe_secs, args.jobs))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"ours": ours, "fw_defaults": fw_res}, f,
                      ensure_ascii=False, indent=1)
    if failures:
        print("\nFAIL:")
        for f in failures:
            print("- " + f)
        return 2 if errors and len(failures) == errors else 1
    print("\nPASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
