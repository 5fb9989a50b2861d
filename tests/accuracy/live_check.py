#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Live captions through the real pipeline, on the wall clock.

    live_check.py [PATH/TO/live-feed] [--model tiny.en] [--clips 20]
                  [DEC-PROP=VALUE ...]

The audio: the long-form recordings and the first --clips dev-set clips of
$WHISPER_SHARED_DIR/testdata/speech, joined with 0.5 s of silence.
tests/live-feed plays it in real time through appsrc is-live=true
do-timestamp=true (20 ms buffers, +-20 ms jitter) ! whispermel !
whisperencnpu model=MODEL ! whisperdec ! appsink, every element at its
defaults (a live upstream: streaming, latency 5000 ms, step 1000 ms)
unless DEC-PROPs are given.  The reference for when each word ends is our
own offline run with word timestamps (tests/decoder-tool transcribe
--word-timestamps on the same audio).

Per final word, paired with the offline word it matches (difflib over
normalised words): delay = arrival of its text buffer (running time) -
(PTS of the first buffer + the offline end of the word).  Per word, the
partial delay: the first whisper-partial message or text buffer that
showed it.  Printed: p50 / p95 / max of both, the words inserted and lost
against the offline run, WER of both against the human transcripts, the
LATENCY answer before the first buffer and at EOS, and RSS.

Checks (the machine is shared, so the delay and WER checks leave room
above the targets, which are printed as met or missed): final words p95
<= the latency + 1 s (target: <= the latency); partial words (target: p95
<= 1.5 s) printed only; the LATENCY answer the same at EOS as before the
first buffer, and equal to the latency; live WER within +5 points of the
offline WER (target: +2); RSS at the end within 10 % (+20 MB) of its value
a third of the way in.  Exit 1 on a failed check, 77 (skip) without the
model or the speech.
"""

import difflib
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speech_ref  # noqa: E402
import wer  # noqa: E402

SKIP = 77
GAP_SECONDS = 0.5
WER_MARGIN = 5.0                # the check; the target is 2
WER_TARGET = 2.0
DELAY_MARGIN = 1.0              # s above the latency, the check
PARTIAL_TARGET = 1.5            # s, p95 of partial words
FINAL_RE = re.compile(r"^final (\S+) (\S+) (\S+)\|(.*)\|$", re.S)
PARTIAL_RE = re.compile(r"^partial (\S+) (\S+) (\S+)\|(.*)\|$")
WORD_RE = re.compile(r"^  word (\d+) (\d+) (\S+)\|(.*)\|$")


def norm(word):
    return re.sub(r"[^\w']", "", word.lower())


def joined_audio(tmp, n_clips):
    """The long-form recordings and n_clips dev-set clips joined with
    silence: (path of the .f32, reference text, seconds)."""
    items = wer.read_manifest()
    longform = [it for it in items if it["id"].startswith("longform")]
    clips = [it for it in items if not it["id"].startswith("longform")
             and it["id"] != "jfk"][:n_clips]
    gap = np.zeros(int(GAP_SECONDS * speech_ref.SAMPLE_RATE), np.float32)
    parts, refs = [], []
    for it in longform + clips:
        parts += [speech_ref.decode_audio(it["audio"], tmp), gap]
        refs.append(it["reference"])
    path = os.path.join(tmp, "joined.f32")
    samples = np.concatenate(parts).astype("<f4")
    samples.tofile(path)
    return path, " ".join(refs), len(samples) / speech_ref.SAMPLE_RATE


def offline_words(model, audio, tool=None, beam=5):
    """(word, end in seconds) of our offline run with word timestamps"""
    tool = tool or os.path.join(wer.default_build_dir(), "tests",
                                "decoder-tool")
    r = subprocess.run([tool, "transcribe", model, audio, "--word-timestamps",
                        "--beam", str(beam), "--threads", "2"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("offline run failed: " + r.stderr[-2000:])
    return [(m.group(4), int(m.group(2)) / 100.0)
            for m in map(WORD_RE.match, r.stdout.splitlines()) if m]


def parse_feed(out):
    first, lat, finals, partials, rss = None, None, [], [], []
    for line in out.split("\n"):
        if line.startswith("first "):
            first = float(line.split()[1])
        elif line.startswith("latency "):
            lat = tuple(float(x) for x in line.split()[1:3])
        elif line.startswith("rss "):
            rss.append(tuple(float(x) for x in line.split()[1:3]))
        elif (m := FINAL_RE.match(line)):
            # one buffer per push of final words: each word arrives then
            for w in m.group(4).split():
                finals.append((w, float(m.group(1))))
        elif (m := PARTIAL_RE.match(line)):
            partials.append((float(m.group(1)),
                             [norm(w) for w in m.group(4).split()]))
    return first, lat, finals, partials, rss


def pair(live, offline):
    """(live index, offline index) of the matching words, and the counts
    of words only the live run has (inserted) and only offline has (lost)"""
    a = [norm(w) for w, _ in live]
    b = [norm(w) for w, _ in offline]
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    pairs, inserted, lost = [], 0, 0
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            pairs += list(zip(range(i1, i2), range(j1, j2)))
        if tag in ("insert", "replace"):
            lost += j2 - j1
        if tag in ("delete", "replace"):
            inserted += i2 - i1
    return pairs, inserted, lost


def first_shown(word, end, final_arrival, partials):
    """when a word was first on show: a partial holding it that arrived
    after the word ended, or its final text"""
    for t, words in partials:
        if t >= final_arrival:
            break
        if t >= end - 0.5 and word in words:
            return t
    return final_arrival


def stats(x):
    x = np.asarray(x)
    return np.percentile(x, 50), np.percentile(x, 95), x.max()


def main():
    args = sys.argv[1:]
    feed = os.path.join(wer.default_build_dir(), "tests", "live-feed")
    if args and not args[0].startswith("-") and "=" not in args[0]:
        feed = args.pop(0)
    model_name, n_clips, props = "tiny.en", 20, []
    while args:
        a = args.pop(0)
        if a == "--model":
            model_name = args.pop(0)
        elif a == "--clips":
            n_clips = int(args.pop(0))
        else:
            props.append(a)
    model = os.path.join(speech_ref.models_dir(), model_name)
    manifest = os.path.join(wer.speech_dir(), "MANIFEST.tsv")
    if not os.path.isdir(model) or not os.path.exists(manifest):
        print("SKIP: %s or %s missing" % (model, manifest))
        return SKIP
    latency = 5.0
    for p in props:
        if p.startswith("latency=") and int(p.split("=")[1]) > 0:
            latency = int(p.split("=")[1]) / 1000.0

    with tempfile.TemporaryDirectory(prefix="live-check-") as tmp:
        audio, ref, seconds = joined_audio(tmp, n_clips)
        offline = offline_words(model, audio)
        cmd = [feed, model, audio] + props
        print("$ " + " ".join(cmd) + "   (%.1f s of audio)" % seconds,
              flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True,
                           errors="replace", timeout=seconds * 2 + 300)
    sys.stdout.write(r.stderr[-3000:])
    if r.returncode != 0:
        print("FAIL: live-feed exit %d" % r.returncode)
        return 1
    first, lat, finals, partials, rss = parse_feed(r.stdout)
    pairs, inserted, lost = pair(finals, offline)
    delays, shown = [], []
    for i, j in pairs:
        end = first + offline[j][1]
        delays.append(finals[i][1] - end)
        shown.append(first_shown(norm(finals[i][0]), end, finals[i][1],
                                 partials) - end)
    live_wer = wer.wer_stats([wer.normalize(ref)], [wer.normalize(
        " ".join(w for w, _ in finals))])["wer"]
    off_wer = wer.wer_stats([wer.normalize(ref)], [wer.normalize(
        "".join(w for w, _ in offline))])["wer"]
    fp50, fp95, fmax = stats(delays)
    pp50, pp95, pmax = stats(shown)
    print("final words: %d (offline %d), paired %d, inserted %d, lost %d" %
          (len(finals), len(offline), len(pairs), inserted, lost))
    print("final delay   s: p50 %.2f  p95 %.2f  max %.2f" % (fp50, fp95, fmax))
    print("partial delay s: p50 %.2f  p95 %.2f  max %.2f" % (pp50, pp95, pmax))
    print("WER: live %.2f, offline %.2f" % (live_wer, off_wer))
    print("LATENCY answer: %.3f s before the first buffer, %.3f s at EOS" % lat)
    third = [kb for t, kb in rss if t >= seconds / 3]
    print("RSS: %d KB a third of the way in, %d KB at the end, max %d KB" %
          (third[0], rss[-1][1], max(kb for _, kb in rss)))

    for what, ok in (("final p95 <= latency", fp95 <= latency),
                     ("partial p95 <= %.1f s" % PARTIAL_TARGET,
                      pp95 <= PARTIAL_TARGET),
                     ("live WER <= offline + %.0f" % WER_TARGET,
                      live_wer <= off_wer + WER_TARGET)):
        print("target %s: %s" % (what, "met" if ok else "MISSED"))
    failed = []
    if fp95 > latency + DELAY_MARGIN:
        failed.append("final p95 %.2f s > latency %.2f s + %.1f s" %
                      (fp95, latency, DELAY_MARGIN))
    if lat[0] != lat[1] or abs(lat[0] - latency) > 0.05:
        failed.append("LATENCY %.3f then %.3f, expected %.3f throughout" %
                      (lat[0], lat[1], latency))
    if live_wer > off_wer + WER_MARGIN:
        failed.append("live WER %.2f > offline %.2f + %.1f" %
                      (live_wer, off_wer, WER_MARGIN))
    if rss[-1][1] > third[0] * 1.1 + 20000:
        failed.append("RSS grew from %d to %d KB" % (third[0], rss[-1][1]))
    for f in failed:
        print("FAIL: " + f)
    if not failed:
        print("PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
