#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Timestamp jitter and gaps through the real pipeline.

    jitter_check.py [PATH/TO/appsrc-feed]

The test recording is five LibriSpeech clean utterances of
$WHISPER_SHARED_DIR/testdata/speech (CLIPS, 26.1 s together), each decoded
to raw F32LE 16 kHz mono with

    gst-launch-1.0 filesrc ! decodebin ! audioconvert ! audioresample !
        audio/x-raw,format=F32LE,rate=16000,channels=1 ! filesink

and concatenated.  tests/appsrc-feed pushes it in 20 ms buffers through
`appsrc ! whispermel ! whisperencnpu model=tiny.en ! whisperdec ! appsink`
with every whisper element at its DEFAULT properties (whispermel's
tolerance of 40 ms among them) and prints one `START END TEXT` line per
text buffer.  The runs change only the buffers' PTS, never the samples:

  clean  PTS = sample time
  (a)    --shift-from 4.1 --shift-ms 6     every buffer from 4.1 s: +6 ms
                                           (one 6 ms PTS gap)
  (b)    --shift-one 4.1 --shift-ms 6      only the buffer at 4.1 s: +6 ms
  (c)    --jitter-ms 20 --seed 1           every PTS + uniform [-20, +20] ms
  (d)    --shift-from 4.1 --shift-ms 2000  a real 2 s gap at 4.1 s

4.1 s lies inside the first clip ("... waiting but he could wait | no
longer"), so (d) cuts a sentence in the middle, the hard case.

Checks:
  - every run: exit 0 (appsrc-feed exits 1 on a bus ERROR, 3 on a bus
    WARNING), no WARNING or CRITICAL on stderr, at least one cue, cue times
    monotonic (start <= end, each start >= the previous end), inside the
    audio's timeline;
  - (a), (b), (c): exactly the clean run's text: the same cue texts in the
    same order, each cue's start and end within 0.05 s of the clean run's
    (plus the 6 ms shift in (a) for cues after 4.1 s: the jitter is absorbed
    into the run, so the output may stay on the clean timeline or follow the
    shifted PTS);
  - (d): the cues lie in the shifted timeline: every cue that starts before
    4.1 s ends by 4.1 s (the end of the audio before the gap), the first
    cue after it starts at >= 6.1 s (4.1 s + the gap), none starts inside
    the gap, and all end by the recording's end + 2 s;
  - (d): no clip loses its words.  The normalised (wer.normalize)
    reference of the whole recording is aligned with jiwer to the
    normalised text of all cues; a reference word is a hit when the
    alignment calls it "equal".  Criterion: for every clip, its hits in (d)
    are at least its hits in the clean run minus 1.
    Why this criterion: a lost sentence or a dropped cue takes several
    words out of at least one clip (the shortest clip has 6 words, and a
    cue is a second or more of speech, several words), so it fails, while
    one word may honestly differ: the word the gap cuts in two, or a word
    that tiny.en hears differently once the window restarts after the gap
    (a DISCONT window is decoded as the start of a stream, without the
    earlier text as prompt, and its segments fall elsewhere).  Comparing
    with the clean run rather than the reference keeps words tiny.en gets
    wrong anyway out of the count.  "First and last five words of each clip
    are hits" was rejected: it fails on a single misheard word near a clip
    edge, the cut falls near the end of clip 1, and it misses a lost middle
    of a long clip.
  - WER against the reference of the clean run and of (d) are printed
    (no bound: the word criterion above is the check).

Exit 0 pass, 1 fail, 77 skip when tiny.en or ../shared is missing.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wer  # noqa: E402
import speech_ref  # noqa: E402
import gst_requirements as req  # noqa: E402

SKIP = 77
MODEL = "tiny.en"
# ~26 s together; the first (5.4 s) is cut by the 4.1 s gap of run (d)
CLIPS = [
    "ls-test-clean-1089-134691-0001",   # 5.415 s, 17 words
    "ls-test-clean-1089-134686-0002",   # 6.625 s, 18 words
    "ls-test-clean-1995-1837-0001",     # 8.730 s, 30 words
    "ls-test-clean-4507-16021-0012",    # 2.735 s, 7 words
    "ls-test-clean-8455-210777-0068",   # 2.590 s, 6 words
]
RATE = 16000
GAP_AT = 4.1            # s, where (a), (b), (d) shift the PTS
SMALL_SHIFT = 0.006     # s, (a) and (b)
BIG_GAP = 2.0           # s, (d)
JITTER_MS = 20
SEED = 1
TIME_TOLERANCE = 0.05   # s, cue times of (a)-(c) vs the clean run
HIT_SLACK = 1           # words per clip (d) may miss beyond the clean run
RUN_TIMEOUT = 600       # s per appsrc-feed run

RUNS = [
    ("clean", "no change", []),
    ("a", "6 ms PTS gap at 4.1 s",
     ["--shift-from", str(GAP_AT), "--shift-ms", "6"]),
    ("b", "one buffer +6 ms at 4.1 s",
     ["--shift-one", str(GAP_AT), "--shift-ms", "6"]),
    ("c", "every PTS +-%d ms (seed %d)" % (JITTER_MS, SEED),
     ["--jitter-ms", str(JITTER_MS), "--seed", str(SEED)]),
    ("d", "2 s gap at 4.1 s",
     ["--shift-from", str(GAP_AT), "--shift-ms", "%d" % (BIG_GAP * 1000)]),
]

LINE = re.compile(r"^(-?\d+\.\d+) (-?\d+\.\d+) ?(.*)$")


class Failures(list):
    def check(self, cond, msg):
        if not cond:
            self.append(msg)
            print("FAIL: " + msg, flush=True)
        return cond


def find_feed():
    if len(sys.argv) > 1:
        return sys.argv[1]
    return os.path.join(wer.default_build_dir(), "tests", "appsrc-feed")


def build_recording(items, tmp):
    """Decode each clip with gst-launch (system plugins only, as
    speech_ref.decode_audio does) and concatenate the raw bytes.  Returns
    (path, [(clip id, start s, end s)])."""
    env = dict(os.environ)
    env.pop("GST_PLUGIN_PATH", None)
    env.pop("GST_PLUGIN_SYSTEM_PATH_1_0", None)
    env["GST_REGISTRY_1_0"] = os.path.join(tmp, "decode-registry.bin")
    spans = []
    pos = 0
    out_path = os.path.join(tmp, "recording.f32")
    with open(out_path, "wb") as out:
        for it in items:
            raw = os.path.join(tmp, it["id"] + ".f32")
            subprocess.run(speech_ref.decode_cmd(it["audio"], raw), env=env,
                           check=True, stdout=subprocess.DEVNULL)
            with open(raw, "rb") as f:
                data = f.read()
            n = len(data) // 4
            spans.append((it["id"], pos / RATE, (pos + n) / RATE))
            pos += n
            out.write(data)
    return out_path, spans


def run_feed(feed, recording, opts, env):
    cmd = [feed] + opts + [MODEL, recording]
    print("$ " + " ".join(cmd), flush=True)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           errors="replace", timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "did not finish within %d s (stall?)" % RUN_TIMEOUT, \
            time.monotonic() - t0
    secs = time.monotonic() - t0
    cues = []
    bad = []
    for line in p.stdout.splitlines():
        m = LINE.match(line)
        if m:
            cues.append((float(m.group(1)), float(m.group(2)), m.group(3)))
        elif line.strip():
            bad.append(line)
    for c in cues:
        print("  %7.3f %7.3f %s" % c)
    sys.stdout.write("".join("  stderr: %s\n" % l
                             for l in p.stderr.splitlines()))
    problems = []
    if p.returncode != 0:
        problems.append("exit %d" % p.returncode)
    if re.search(r"\b(WARNING|CRITICAL)\b", p.stderr):
        problems.append("WARNING/CRITICAL on stderr")
    if bad:
        problems.append("unparsable output lines: %r" % bad[:3])
    return cues, "; ".join(problems), secs


def check_timing(fail, name, cues, end_limit):
    prev_end = 0.0
    for s, e, text in cues:
        fail.check(text.strip() != "", "%s: empty cue at %.3f" % (name, s))
        fail.check(e >= s, "%s: cue %.3f-%.3f ends before it starts" %
                   (name, s, e))
        fail.check(s >= prev_end - 1e-3, "%s: cue at %.3f starts before the "
                   "previous one ends (%.3f)" % (name, s, prev_end))
        fail.check(s >= 0 and e <= end_limit + TIME_TOLERANCE,
                   "%s: cue %.3f-%.3f outside the timeline [0, %.3f]" %
                   (name, s, e, end_limit))
        prev_end = max(prev_end, e)


def compare_with_clean(fail, name, cues, clean, shift_after):
    texts, clean_texts = [c[2] for c in cues], [c[2] for c in clean]
    if not fail.check(texts == clean_texts,
                      "%s: text differs from the clean run:\n    clean: %r\n"
                      "    %s: %r" % (name, clean_texts, name, texts)):
        return
    for (s, e, _), (cs, ce, _) in zip(cues, clean):
        tol = TIME_TOLERANCE + (shift_after if cs >= GAP_AT - 1e-6 else 0.0)
        fail.check(abs(s - cs) <= tol + 1e-6 and abs(e - ce) <= tol + 1e-6,
                   "%s: cue %.3f-%.3f vs clean %.3f-%.3f (tolerance %.3f s)"
                   % (name, s, e, cs, ce, tol))


def clip_hits(clip_refs, hyp_text):
    """Per clip: (words, hits) of the jiwer alignment of the whole
    recording's normalised reference with the normalised hypothesis."""
    import jiwer
    ref_words = []
    owner = []
    for i, r in enumerate(clip_refs):
        w = r.split()
        ref_words += w
        owner += [i] * len(w)
    hyp = wer.normalize(hyp_text)
    hit = [False] * len(ref_words)
    if hyp:
        o = jiwer.process_words(" ".join(ref_words), hyp)
        for chunk in o.alignments[0]:
            if chunk.type == "equal":
                for k in range(chunk.ref_start_idx, chunk.ref_end_idx):
                    hit[k] = True
    out = []
    for i, r in enumerate(clip_refs):
        idx = [k for k in range(len(ref_words)) if owner[k] == i]
        out.append((len(idx), sum(hit[k] for k in idx),
                    all(hit[k] for k in idx[:5]) and
                    all(hit[k] for k in idx[-5:])))
    return out


def main():
    req.require_elements(req.DECODE_TEST_AUDIO + ["filesink", "appsrc",
                                                  "appsink"])
    mpath = wer.resolve_model(MODEL)
    if not wer.model_present(mpath):
        print("SKIP: model %s not found at %s" % (MODEL, mpath))
        return SKIP
    try:
        manifest = {it["id"]: it for it in wer.read_manifest()}
    except OSError as e:
        print("SKIP: no shared speech data: %s" % e)
        return SKIP
    missing = [c for c in CLIPS if c not in manifest or
               not os.path.exists(manifest[c]["audio"])]
    if missing:
        print("SKIP: clips missing from the shared data: %s" %
              ", ".join(missing))
        return SKIP
    feed = find_feed()
    if not os.access(feed, os.X_OK):
        print("FAIL: %s is not an executable (build tests/appsrc-feed)" % feed)
        return 1
    env = wer.gst_env(wer.default_build_dir())

    t_start = time.monotonic()
    fail = Failures()
    items = [manifest[c] for c in CLIPS]
    tmp = tempfile.mkdtemp(prefix="jitter-check-")
    try:
        recording, spans = build_recording(items, tmp)
        total = spans[-1][2]
        print("recording: %.3f s" % total)
        for (cid, s, e), it in zip(spans, items):
            print("  %7.3f-%7.3f %-32s (manifest %.3f s)" %
                  (s, e, cid, it["duration"]))
        results = {}
        for name, what, opts in RUNS:
            print("\n== %s: %s" % (name, what), flush=True)
            cues, problem, secs = run_feed(feed, recording, opts, env)
            results[name] = (cues, secs)
            fail.check(cues is not None and not problem,
                       "%s: appsrc-feed: %s" % (name, problem))
            if cues is None:
                continue
            fail.check(len(cues) > 0, "%s: no text" % name)
            check_timing(fail, name, cues,
                         total + (BIG_GAP if name == "d" else
                                  SMALL_SHIFT + JITTER_MS / 1000.0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    clean = results["clean"][0] or []
    if clean:
        for name, shift in (("a", SMALL_SHIFT), ("b", 0.0), ("c", 0.0)):
            if results[name][0] is not None:
                compare_with_clean(fail, name, results[name][0], clean, shift)

    # (d): the shifted timeline and every clip's words
    d = results["d"][0]
    clip_refs = [wer.normalize(it["reference"]) for it in items]
    ref_all = " ".join(clip_refs)
    per_clip = {}
    for name in ("clean", "d"):
        if results[name][0] is not None:
            per_clip[name] = clip_hits(clip_refs,
                                       " ".join(c[2] for c in results[name][0]))
    if d:
        before = [c for c in d if c[0] < GAP_AT - 1e-6]
        after = [c for c in d if c[0] >= GAP_AT - 1e-6]
        for s, e, _ in before:
            fail.check(e <= GAP_AT + 1e-3, "d: cue %.3f-%.3f crosses the gap "
                       "at %.1f s" % (s, e, GAP_AT))
        if fail.check(after, "d: no cue after the gap"):
            fail.check(after[0][0] >= GAP_AT + BIG_GAP - 1e-3,
                       "d: first cue after the gap starts at %.3f s, before "
                       "%.1f s (not in the shifted timeline)" %
                       (after[0][0], GAP_AT + BIG_GAP))
    if "clean" in per_clip and "d" in per_clip:
        print("\nwords per clip (jiwer hits, normalised):")
        print("  %-32s %5s %5s %5s  %s" % ("clip", "words", "clean", "(d)",
                                           "first/last 5 hit in (d)"))
        for i, cid in enumerate(CLIPS):
            n, hc, _ = per_clip["clean"][i]
            _, hd, edges = per_clip["d"][i]
            print("  %-32s %5d %5d %5d  %s" % (cid, n, hc, hd,
                                               "yes" if edges else "no"))
            fail.check(hd >= hc - HIT_SLACK,
                       "d: clip %s: %d of %d words, the clean run has %d "
                       "(at most %d fewer allowed): words lost" %
                       (cid, hd, n, hc, HIT_SLACK))

    print("\nWER against the reference (%d words):" % len(ref_all.split()))
    for name, what, _ in RUNS:
        cues = results[name][0]
        if cues is None:
            continue
        st = wer.wer_stats([ref_all],
                           [wer.normalize(" ".join(c[2] for c in cues))])
        print("  %-6s %6.2f %%  (%d sub, %d del, %d ins)" % (
            name, st["wer"], st["sub"], st["del"], st["ins"]))

    print("\n| run | PTS change | cues | seconds |")
    print("| --- | --- | ---: | ---: |")
    for name, what, _ in RUNS:
        cues, secs = results.get(name, (None, 0.0))
        print("| %s | %s | %s | %.1f |" % (
            name, what, len(cues) if cues is not None else "-", secs))
    print("\ntotal %.1f s" % (time.monotonic() - t_start))
    if fail:
        print("\nFAIL: %d check(s) failed" % len(fail))
        return 1
    print("\nPASS: jitter and 6 ms gaps give the clean text, the 2 s gap "
          "keeps every clip's words in the shifted timeline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
