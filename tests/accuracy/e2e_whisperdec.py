#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end tests of whisperdec in the real pipeline, with gst-launch-1.0.

    e2e_whisperdec.py CASE [CASE ...]

Cases:
  jfk-srt-greedy   jfk.flac -> srtenc with beam-size=1: text and cue times as
                   faster-whisper gives them with the same model (greedy)
  jfk-srt-beam5    the same with the default beam search (beam 5)
  subtitles        one transcription teed into srtenc and webvttenc; both
                   files parse back with subparse with the same cue count,
                   equal to the number of whisper-segment messages
  words            jfk with output=words (beam 5): one SRT cue per word,
                   the words and their times those of faster-whisper's
                   word_timestamps=True with the same model (within 0.1 s),
                   and the whisper-segment messages list the same words
  queue            jfk with a queue between whisperencnpu and whisperdec (the
                   encoder waits for the seek event across the queue): no
                   stall, the same cues as linked directly
  overlay          videotestsrc ! textoverlay wait-text=true fed by the
                   transcriber finishes (EOS) without stalling
  silence          60 s of digital silence: no text buffers, GAP events
                   covering the whole minute
  noise            60 s of low-level white noise (volume 0.003): the same
  noise-40dbfs     60 s of white noise at -40 dBFS RMS: the same
  noise-20dbfs     60 s of white noise at -20 dBFS RMS: the same
  hum              60 s of 50 Hz hum at -20 dBFS RMS: the same

Needs the tiny.en model in the models directory ($GST_WHISPER_MODELS_DIR or
$XDG_CACHE_HOME/gst-whisper-npu/models); exits 77 (skip) without it.  Audio
comes from $WHISPER_SHARED_DIR/testdata/speech (tests only).  The plugin is
found through GST_PLUGIN_PATH (tests/meson.build sets it).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

from gst_requirements import DECODE_TEST_AUDIO, require_elements
from speech_ref import models_dir

SKIP = 77

# faster-whisper 1.x, the same tiny.en CTranslate2 files, compute_type
# float32, language en, temperature 0, on jfk decoded and resampled to 16 kHz
# mono by GStreamer (decodebin ! audioconvert ! audioresample) and padded with
# zeros to 30 s.  The padding gives faster-whisper the window openai-whisper
# decodes (openai pads the audio with 30 s of zeros before the mel, as our
# encoder does; faster-whisper on the bare 11 s pads the normalised features
# with 0 instead, which changes the greedy result to 0-7.74 / 7.74-10.74
# without the final period).  See docs/whisperdec.md.
REFERENCE = {
    1: [(0.00, 8.00, "And so my fellow Americans ask not what your country "
         "can do for you"),
        (8.00, 11.00, "ask what you can do for your country.")],
    5: [(0.00, 8.00, "And so, my fellow Americans ask not what your country "
         "can do for you"),
        (8.00, 11.00, "ask what you can do for your country.")],
}
# faster-whisper 1.x word_timestamps=True, beam 5, tiny.en float32, on jfk
# decoded to 16 kHz by GStreamer (the bare 11 s)
REFERENCE_WORDS = [
    ("And", 0.00, 0.76), ("so,", 0.76, 1.06), ("my", 1.38, 1.44),
    ("fellow", 1.44, 1.76), ("Americans", 1.76, 2.26), ("ask", 2.26, 3.88),
    ("not", 3.88, 4.54), ("what", 4.54, 5.70), ("your", 5.70, 6.02),
    ("country", 6.02, 6.36), ("can", 6.36, 6.76), ("do", 6.76, 7.02),
    ("for", 7.02, 7.26), ("you", 7.26, 8.02), ("ask", 8.02, 8.66),
    ("what", 8.66, 8.94), ("you", 8.94, 9.28), ("can", 9.28, 9.50),
    ("do", 9.50, 9.72), ("for", 9.72, 9.92), ("your", 9.92, 10.24),
    ("country.", 10.24, 10.50)]
WORD_TOLERANCE = 0.1          # seconds, word times vs faster-whisper
JFK_WORDS = ("and so my fellow americans ask not what your country can do "
             "for you ask what you can do for your country")
JFK_DURATION = 11.0
TIME_TOLERANCE = 0.3          # seconds, cue boundaries vs faster-whisper


def shared_dir():
    d = os.environ.get("WHISPER_SHARED_DIR")
    if d:
        return d
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "..", "shared")


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def launch(desc, timeout, messages=False, verbose=False):
    """Run gst-launch-1.0 with a pipeline description (a list of tokens).
    Returns its stdout; fails on a non-zero exit, an ERROR or a timeout."""
    cmd = ["gst-launch-1.0", "-e"]
    if messages:
        cmd.append("-m")
    if verbose:
        cmd.append("-v")
    cmd += desc
    print("$ " + " ".join(cmd), flush=True)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, text=True, errors="replace")
    except subprocess.TimeoutExpired:
        raise Failure("pipeline did not finish within %d s (stall?)" % timeout)
    if p.returncode != 0 or "ERROR:" in p.stdout:
        sys.stdout.write(p.stdout[-4000:])
        sys.stdout.write(p.stderr[-4000:])
        raise Failure("gst-launch-1.0 failed (exit %d)" % p.returncode)
    check("Got EOS from element" in p.stdout, "pipeline did not reach EOS")
    return p.stdout


def transcriber(audio, dec_props=(), queue=False):
    return ["filesrc", "location=" + audio, "!", "decodebin", "!",
            "audioconvert", "!", "audioresample", "!", "whispermel", "!",
            "whisperencnpu", "model=tiny.en", "!"] + \
        (["queue", "!"] if queue else []) + ["whisperdec"] + list(dec_props)


def parse_time(s):
    h, m, rest = s.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(rest)


def parse_cues(path):
    """(start, end, text) of every cue of an SRT or WebVTT file."""
    with open(path, encoding="utf-8") as f:
        data = f.read()
    cues = []
    for block in re.split(r"\n\s*\n", data.strip()):
        lines = block.strip().splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"\s*([\d:.,]+)\s+-->\s+([\d:.,]+)", line)
            if m:
                text = " ".join(l.strip() for l in lines[i + 1:]).strip()
                cues.append((parse_time(m.group(1)), parse_time(m.group(2)),
                             text))
                break
    return cues


def words(text):
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


def segment_messages(out):
    """whisper-segment element messages printed by gst-launch -m."""
    segs = []
    for line in out.splitlines():
        if "whisper-segment" not in line or "(element)" not in line:
            continue
        start = re.search(r"start=\(guint64\)(\d+)", line)
        end = re.search(r"end=\(guint64\)(\d+)", line)
        check(start and end, "segment message without start/end: " + line)
        segs.append((int(start.group(1)) / 1e9, int(end.group(1)) / 1e9))
    return segs


def check_cues_timing(cues, duration):
    check(len(cues) >= 1, "no cues")
    prev_end = 0.0
    for start, end, text in cues:
        check(text != "", "empty cue")
        check(start >= prev_end - 1e-3,
              "cue at %.3f overlaps the previous one (ends %.3f)" %
              (start, prev_end))
        check(end >= start, "cue ends before it starts")
        check(end <= duration + 0.05, "cue ends after the audio")
        prev_end = end


# --------------------------------------------------------------------------

def case_jfk_srt(tmp, beam, queue=False):
    require_elements(DECODE_TEST_AUDIO + ["srtenc", "filesink"] +
                     (["queue"] if queue else []))
    jfk = os.path.join(shared_dir(), "testdata/speech/audio/jfk.flac")
    srt = os.path.join(tmp, "jfk-beam%d.srt" % beam)
    launch(transcriber(jfk, ["beam-size=%d" % beam], queue) +
           ["!", "srtenc", "!", "filesink", "location=" + srt], timeout=600)
    cues = parse_cues(srt)
    for c in cues:
        print("  %7.3f %7.3f %s" % c)
    check_cues_timing(cues, JFK_DURATION)
    text = " ".join(c[2] for c in cues)
    check(words(text) == JFK_WORDS, "wrong words: %r" % text)
    ref = REFERENCE[beam]
    ref_text = " ".join(r[2] for r in ref)
    check(text == ref_text, "text %r differs from faster-whisper's %r" %
          (text, ref_text))
    check(len(cues) == len(ref), "%d cues, faster-whisper has %d segments" %
          (len(cues), len(ref)))
    for (s, e, _), (rs, re_, _) in zip(cues, ref):
        check(abs(s - rs) <= TIME_TOLERANCE and abs(e - re_) <= TIME_TOLERANCE,
              "cue %.2f-%.2f vs faster-whisper %.2f-%.2f" % (s, e, rs, re_))


def case_words(tmp):
    require_elements(DECODE_TEST_AUDIO + ["srtenc", "filesink"])
    jfk = os.path.join(shared_dir(), "testdata/speech/audio/jfk.flac")
    srt = os.path.join(tmp, "jfk-words.srt")
    out = launch(transcriber(jfk, ["output=words"]) +
                 ["!", "srtenc", "!", "filesink", "location=" + srt],
                 timeout=600, messages=True)
    cues = parse_cues(srt)
    for c in cues:
        print("  %7.3f %7.3f %s" % c)
    check_cues_timing(cues, JFK_DURATION)
    check([c[2] for c in cues] == [w[0] for w in REFERENCE_WORDS],
          "words %r differ from faster-whisper's" % [c[2] for c in cues])
    for (s, e, t), (_, rs, re_) in zip(cues, REFERENCE_WORDS):
        check(abs(s - rs) <= WORD_TOLERANCE and abs(e - re_) <= WORD_TOLERANCE,
              "%r at %.2f-%.2f, faster-whisper %.2f-%.2f" % (t, s, e, rs, re_))
    listed = []
    for line in out.splitlines():
        if "whisper-segment" in line and "(element)" in line:
            m = re.search(r"words=\(string\)\{([^}]*)\}", line)
            check(m, "segment message without words: " + line)
            listed += [w.strip().strip('"').replace("\\", "")
                       for w in m.group(1).split(", ")]
    check(listed == [c[2] for c in cues],
          "message words %r != text buffers" % listed)


def case_subtitles(tmp):
    require_elements(DECODE_TEST_AUDIO + ["tee", "queue", "srtenc",
                                          "webvttenc", "filesink", "subparse",
                                          "fakesink"])
    jfk = os.path.join(shared_dir(), "testdata/speech/audio/jfk.flac")
    srt = os.path.join(tmp, "jfk.srt")
    vtt = os.path.join(tmp, "jfk.vtt")
    out = launch(transcriber(jfk, ["beam-size=1"]) +
                 ["!", "tee", "name=t",
                  "t.", "!", "queue", "!", "srtenc", "!", "filesink",
                  "location=" + srt,
                  "t.", "!", "queue", "!", "webvttenc", "!", "filesink",
                  "location=" + vtt], timeout=600, messages=True)
    n_msg = len(segment_messages(out))
    srt_cues = parse_cues(srt)
    vtt_cues = parse_cues(vtt)
    print("  %d segment messages, %d SRT cues, %d WebVTT cues" %
          (n_msg, len(srt_cues), len(vtt_cues)))
    check(n_msg >= 1, "no whisper-segment messages")
    check(len(srt_cues) == n_msg, "SRT cues != segment messages")
    check(len(vtt_cues) == n_msg, "WebVTT cues != segment messages")
    for a, b in zip(srt_cues, vtt_cues):
        check(abs(a[0] - b[0]) < 0.002 and abs(a[1] - b[1]) < 0.002
              and a[2] == b[2], "SRT cue %r != WebVTT cue %r" % (a, b))
    for path, n in ((srt, len(srt_cues)), (vtt, len(vtt_cues))):
        out = launch(["filesrc", "location=" + path, "!", "subparse", "!",
                      "fakesink", "silent=false"], timeout=60, verbose=True)
        n_parsed = len(re.findall(r"last-message = chain", out))
        print("  subparse %s: %d buffers" % (os.path.basename(path), n_parsed))
        check(n_parsed == n, "subparse read %d cues from %s, expected %d" %
              (n_parsed, path, n))


def case_overlay(tmp):
    require_elements(DECODE_TEST_AUDIO + ["videotestsrc", "capsfilter",
                                          "textoverlay", "fakesink"])
    jfk = os.path.join(shared_dir(), "testdata/speech/audio/jfk.flac")
    # 15 s of video for 11 s of speech: the text EOS must release the video
    out = launch(["videotestsrc", "num-buffers=150", "!",
                  "video/x-raw,width=160,height=120,framerate=10/1", "!",
                  "textoverlay", "name=o", "wait-text=true", "!",
                  "fakesink", "sync=false"] +
                 transcriber(jfk, ["beam-size=1"]) + ["!", "o.text_sink"],
                 timeout=600, messages=True)
    check(len(segment_messages(out)) >= 1, "no text reached the overlay")


def case_no_text(tmp, wave, extra):
    require_elements(["audiotestsrc", "capsfilter", "fakesink"])
    seconds = 60
    out = launch(["audiotestsrc", "wave=" + wave] + extra +
                 ["samplesperbuffer=1600", "num-buffers=%d" % (seconds * 10),
                  "!", "audio/x-raw,format=F32LE,rate=16000,channels=1", "!",
                  "whispermel", "!", "whisperencnpu", "model=tiny.en", "!",
                  "whisperdec", "!", "fakesink", "silent=false"],
                 timeout=900, messages=True, verbose=True)
    chains = re.findall(r"last-message = chain.*", out)
    check(not chains, "%d text buffers: %s" % (len(chains), chains[:3]))
    check(not segment_messages(out), "whisper-segment messages posted")
    t = None
    for m in re.finditer(r"type: gap .*?timestamp=\(guint64\)(\d+), "
                         r"duration=\(guint64\)(\d+)", out):
        ts, dur = int(m.group(1)), int(m.group(2))
        check(t is None or ts == t, "GAPs not contiguous at %d ns" % ts)
        t = ts + dur
    check(t is not None, "no GAP events")
    print("  GAPs cover 0 - %.2f s" % (t / 1e9))
    check(abs(t - seconds * 10**9) <= 50 * 10**6,
          "GAPs end at %d ns, expected %d s" %
          (t, seconds))


CASES = {
    "words": case_words,
    "jfk-srt-greedy": lambda tmp: case_jfk_srt(tmp, 1),
    "jfk-srt-beam5": lambda tmp: case_jfk_srt(tmp, 5),
    "queue": lambda tmp: case_jfk_srt(tmp, 1, queue=True),
    "subtitles": case_subtitles,
    "overlay": case_overlay,
    "silence": lambda tmp: case_no_text(tmp, "silence", []),
    "noise": lambda tmp: case_no_text(tmp, "white-noise",
                                      ["volume=0.003"]),
    # uniform white noise in [-v, v] has RMS v / sqrt(3): -40 and -20 dBFS
    "noise-40dbfs": lambda tmp: case_no_text(tmp, "white-noise",
                                             ["volume=0.01732"]),
    "noise-20dbfs": lambda tmp: case_no_text(tmp, "white-noise",
                                             ["volume=0.1732"]),
    # mains hum: a 50 Hz sine at -20 dBFS RMS
    "hum": lambda tmp: case_no_text(tmp, "sine", ["freq=50",
                                                  "volume=0.1414"]),
}


def main():
    names = sys.argv[1:] or list(CASES)
    for n in names:
        if n not in CASES:
            print("unknown case %s; cases: %s" % (n, " ".join(CASES)))
            return 2
    if not os.path.isdir(os.path.join(models_dir(), "tiny.en")):
        print("SKIP: no tiny.en in %s" % models_dir())
        return SKIP
    if not os.path.isfile(os.path.join(shared_dir(),
                                       "testdata/speech/audio/jfk.flac")):
        print("SKIP: no test speech in %s" % shared_dir())
        return SKIP
    if shutil.which("gst-launch-1.0") is None:
        print("SKIP: no gst-launch-1.0")
        return SKIP

    failed = []
    tmp = tempfile.mkdtemp(prefix="whisperdec-e2e-")
    try:
        for n in names:
            print("== %s" % n, flush=True)
            try:
                CASES[n](tmp)
                print("PASS %s" % n)
            except Failure as e:
                print("FAIL %s: %s" % (n, e))
                failed.append(n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
