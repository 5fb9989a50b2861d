#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Long-form transcription through the real pipeline.

The two longform-* recordings of $WHISPER_SHARED_DIR/testdata/speech (111 s
and 120 s: consecutive LJSpeech clips joined with 0.3 s gaps, so several
30 s windows each, with decoder-driven seeking between them) go through

  filesrc ! decodebin ! audioconvert ! audioresample ! whispermel !
  whisperencnpu model=DIR ! whisperdec ... ! srtenc ! filesink

and through faster-whisper with the same model directory and options (by
default beam 5, temperature 0 only, no previous-text conditioning, no VAD;
--defaults runs both with their default options instead: our
pipeline with NO property set on any element but whisperencnpu's model=
(whisperdec only gets name=dec; --beam and --threads then set nothing in
the pipeline), faster-whisper with beam 5, previous-text conditioning and
temperature fallback, vad_filter=False).  Checks, per recording:

1. WER (normalised with Whisper's EnglishTextNormalizer, in percent) against
   the human reference is within 0.5 points (absolute) of faster-whisper's:
   WER_ours - WER_fw <= 0.5.
2. Nothing lost at window boundaries: aligning the normalised hypothesis to
   the normalised reference (jiwer), no run of >= 4 consecutive reference
   words is deleted.
3. Nothing repeated: no word 4-gram occurs at least twice in the hypothesis
   and more often than in the reference.
4. Timestamps: every SRT cue has start < end, starts no earlier than the
   previous cue ends (monotonic, never overlapping), and ends no later than
   the recording (+0.5 s); the whisperdec bus messages, when they carry
   start/end, agree with the cue times to 1 ms and are monotonic as well.
5. The end is there: of the last five normalised reference words at least
   three are aligned as hits, or ours has at least as many as
   faster-whisper and contains faster-whisper's own last words (the
   criterion of tests/accuracy/defaults_check.py, which explains it).

Exit 0 when every check passes, 1 when one fails, 77 when the model or the
shared test data is missing, 2 on a pipeline error.

  python3 tests/accuracy/longform.py [--model tiny.en] [--beam 5] [--build-dir DIR]
"""

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wer  # noqa: E402
import gst_requirements as req  # noqa: E402
import defaults_check  # noqa: E402  (tail_hits, tail_needed)

BOUND = 0.5          # WER points
MISSING_RUN = 4      # reference words
NGRAM = 4


def deletion_runs(ref, hyp, min_run=MISSING_RUN):
    """Runs of >= min_run consecutive reference words the hypothesis lacks."""
    import jiwer
    if not ref:
        return []
    o = jiwer.process_words(ref, hyp if hyp else "")
    rw = ref.split()
    runs = []
    for c in o.alignments[0]:
        if c.type == "delete" and c.ref_end_idx - c.ref_start_idx >= min_run:
            runs.append((c.ref_start_idx, " ".join(rw[c.ref_start_idx:c.ref_end_idx])))
    return runs


def repeated_ngrams(ref, hyp, n=NGRAM):
    def grams(words):
        return collections.Counter(tuple(words[i:i + n])
                                   for i in range(len(words) - n + 1))
    gr, gh = grams(ref.split()), grams(hyp.split())
    return sorted(" ".join(g) for g, c in gh.items() if c >= 2 and c > gr.get(g, 0))


def timestamp_problems(segments, duration, what):
    probs = []
    prev_end = 0.0
    for i, s in enumerate(segments):
        a, b = s["start"], s["end"]
        if not b > a:
            probs.append("%s %d: end %.3f <= start %.3f" % (what, i + 1, b, a))
        if a < prev_end - 1e-6:
            probs.append("%s %d: start %.3f before the previous end %.3f"
                         % (what, i + 1, a, prev_end))
        if b > duration + 0.5:
            probs.append("%s %d: end %.3f after the recording (%.3f s)"
                         % (what, i + 1, b, duration))
        prev_end = max(prev_end, b)
    return probs


def message_times(messages):
    """(start, end) in seconds from whisperdec bus messages, if present.
    Accepts GstClockTime fields named start/end (ns) or start-time/end-time."""
    out = []
    for m in messages:
        a = m.get("start", m.get("start-time", m.get("pts")))
        b = m.get("end", m.get("end-time"))
        if b is None and a is not None and m.get("duration") is not None:
            b = a + m["duration"]
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return None
        # GstClockTime (guint64 ns) serialises as an integer; seconds as float
        scale = 1e-9 if isinstance(a, int) and isinstance(b, int) else 1.0
        out.append({"start": a * scale, "end": b * scale, "text": m.get("text", "")})
    return out


def main(argv=None):
    req.require_elements(req.DECODE_TEST_AUDIO + ["srtenc", "filesink"])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--build-dir", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--defaults", action="store_true",
                    help="both engines with default options (previous-text "
                    "conditioning, temperature fallback); no property set on "
                    "our elements but model=, --beam ignored (faster-whisper "
                    "gets its default 5)")
    ap.add_argument("--cache", metavar="DIR",
                    help="reuse faster-whisper results (not with --defaults)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    mpath = wer.resolve_model(args.model)
    if not wer.model_present(mpath):
        print("SKIP: model %s not found at %s" % (args.model, mpath))
        return 77
    try:
        items = wer.select_items(wer.read_manifest(), ["longform"])
    except OSError as e:
        print("SKIP: no shared test data (%s)" % e)
        return 77
    if len(items) != 2:
        print("expected 2 longform items, found %d" % len(items))
        return 1

    build_dir = args.build_dir or wer.default_build_dir()
    pipe = wer.OurPipeline(build_dir, mpath, args.threads,
                           defaults=args.defaults)
    if args.defaults:
        args.beam = defaults_check.FW_BEAM
    if not pipe.available:
        print("FAIL: whispermel/whisperencnpu/whisperdec not loadable from %s/gst"
              % build_dir)
        return 1
    cond = tfb = args.defaults
    fw = None
    if args.cache and not args.defaults:
        fw_res = wer.run_fw(items, mpath, args.beam, args.cache)
    else:
        fw = wer.FasterWhisper(mpath, "float32", args.threads)
        fw_res = {it["id"]: fw.transcribe(it["audio"], args.beam, cond, tfb)[0]
                  for it in items}

    failures = []
    errors = 0
    print("| recording | s | WER ours % | WER faster-whisper % | delta | "
          "cues ours | segments fw |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    details = []
    tail_info = []
    for it in items:
        res, secs = pipe.transcribe(it["audio"], args.beam, it["duration"],
                                    condition=cond, temperature_fallback=tfb)
        if res.get("error"):
            errors += 1
            failures.append("%s: pipeline error: %s" % (it["id"], res["error"]))
        ref = wer.normalize(it["reference"])
        hyp = wer.normalize(res.get("text", ""))
        fwh = wer.normalize(fw_res[it["id"]]["text"])
        wo = wer.wer_stats([ref], [hyp])["wer"]
        wf = wer.wer_stats([ref], [fwh])["wer"]
        segs = res.get("segments", [])
        print("| %s | %.1f | %.2f | %.2f | %+.2f | %d | %d |" % (
            it["id"], it["duration"], wo, wf, wo - wf, len(segs),
            len(fw_res[it["id"]]["segments"])))
        if wo - wf > BOUND + 1e-9:
            failures.append("%s: WER %.2f vs faster-whisper %.2f (+%.2f > %.1f points)"
                            % (it["id"], wo, wf, wo - wf, BOUND))
        for start, words in deletion_runs(ref, hyp):
            failures.append("%s: reference words %d.. lost: \"%s\"" % (it["id"], start, words))
        for g in repeated_ngrams(ref, hyp):
            failures.append("%s: repeated: \"%s\"" % (it["id"], g))
        if not segs:
            failures.append("%s: no SRT cues" % it["id"])
        failures += ["%s: %s" % (it["id"], p)
                     for p in timestamp_problems(segs, it["duration"], "cue")]
        mt = message_times(res.get("messages", []))
        if mt:
            failures += ["%s: %s" % (it["id"], p)
                         for p in timestamp_problems(mt, it["duration"], "bus message")]
            if len(mt) == len(segs):
                for i, (a, b) in enumerate(zip(mt, segs)):
                    if abs(a["start"] - b["start"]) > 0.0015 or \
                            abs(a["end"] - b["end"]) > 0.0015:
                        failures.append("%s: bus message %d at %.3f-%.3f, cue at "
                                        "%.3f-%.3f" % (it["id"], i + 1, a["start"],
                                                       a["end"], b["start"], b["end"]))
                        break
            else:
                failures.append("%s: %d bus messages but %d cues"
                                % (it["id"], len(mt), len(segs)))
        hits, tail, htail = defaults_check.tail_hits(ref, hyp)
        fhits, _, _ = defaults_check.tail_hits(ref, fwh)
        cross, fw_last, _ = defaults_check.tail_hits(fwh, hyp)
        if hits < defaults_check.tail_needed(len(tail)) and not (
                hits >= fhits and
                cross >= defaults_check.tail_needed(len(fw_last))):
            failures.append("%s: end lost: last reference words \"%s\" hit %d "
                            "times in ours (\"%s\"), %d in faster-whisper"
                            % (it["id"], " ".join(tail), hits, " ".join(htail),
                               fhits))
        tail_info.append("%s: last %d reference words hit %d (faster-whisper "
                         "%d); last cue ends %.2f s, recording %.2f s" % (
                             it["id"], len(tail), hits, fhits,
                             segs[-1]["end"] if segs else 0.0, it["duration"]))
        # faster-whisper's own boundary behaviour, for information
        fw_lost = deletion_runs(ref, fwh)
        fw_rep = repeated_ngrams(ref, fwh)
        details.append((it, res, secs, fw_lost, fw_rep))

    for it, res, secs, fw_lost, fw_rep in details:
        print("\n%s: ours %.1f s wall (RTF %.3f)%s" % (
            it["id"], secs, secs / it["duration"],
            "; faster-whisper itself: %d lost runs, %d repeats" % (len(fw_lost), len(fw_rep))
            if fw_lost or fw_rep else ""))
        if args.verbose:
            for s in res.get("segments", []):
                print("  %8.3f %8.3f  %s" % (s["start"], s["end"], s["text"]))
    print("")
    for line in tail_info:
        print(line)
    if pipe.missing_props:
        print("\nNOTE: whisperdec lacks %s; ran with its defaults there"
              % ", ".join(sorted(pipe.missing_props)))
    if failures:
        print("\nFAIL:")
        for f in failures:
            print("- " + f)
        return 2 if errors and len(failures) == errors else 1
    print("\nPASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
