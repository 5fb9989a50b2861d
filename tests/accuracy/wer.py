#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Word error rate of our pipeline beside faster-whisper, per subset.

For every item of $WHISPER_SHARED_DIR/testdata/speech/MANIFEST.tsv (default
shared dir: ../shared beside the repository) this script transcribes the
audio twice, with the SAME CTranslate2 model directory and the same
decoding options (temperature 0 only, no previous-text conditioning, no VAD,
beam 1 and/or beam 5):

  (a) our pipeline, one gst-launch-1.0 process per item:
        filesrc ! decodebin ! audioconvert ! audioresample ! whispermel !
        whisperencnpu model=DIR ! whisperdec beam-size=N ... ! srtenc !
        filesink
      with GST_PLUGIN_PATH=<build>/gst.  The text is the SRT cues' text
      joined with spaces; the whisperdec bus messages (gst-launch -m) are
      parsed too, for token ids when the element puts them there.
  (b) faster-whisper: WhisperModel(DIR, device='cpu', compute_type='float32')
      .transcribe(audio, beam_size=N, temperature=0,
                  condition_on_previous_text=False, vad_filter=False,
                  language='en' for multilingual models only).

Hypotheses and references are normalised with Whisper's
EnglishTextNormalizer (package whisper-normalizer), as in Whisper's published
evaluations, and WER is computed with jiwer over each
subset (total errors / total reference words).  Subsets are the id prefixes
of testdata/speech/README.md; the longform-* items overlap ljspeech-* and get
their own table.

Pass criterion: our WER is within 0.3 absolute of faster-whisper's on
every subset.  WER is reported in percent, as Whisper's
papers and faster-whisper's benchmarks do, so "0.3 absolute" is read as 0.3
percentage points (an absolute, not relative, difference): a subset fails
when WER_ours - WER_fw > 0.3 points.  (Read as a fraction, 0.3 would allow
30 points of extra error, which bounds nothing.)  Being better than
faster-whisper never fails, but is flagged, since with the same model and
options the two should agree.  For the longform-* subset the bound is
0.5 points.  Second criterion: the token sequences are identical on at least
90 % of the LibriSpeech (ls-*) utterances.  Token ids are compared when our
bus messages carry them ("tokens" field); otherwise the exact, un-normalised
text is compared (identical tokens give identical text; the column header
says which was used).

Which faster-whisper: faster-whisper 1.2.1 pads a window shorter than 30 s
with 0.0 after normalisation, openai-whisper pads the audio with 30 s of
silence (frames at the clamp floor).  The pipeline follows openai-whisper,
the project's reference for accuracy, so the criteria compare with
faster-whisper given openai-whisper's padding on the same GStreamer-decoded
audio (--criteria openai-pad-gst-audio, the default); the tables always show
stock faster-whisper beside it, and --criteria stock applies the criteria to
it instead.

The script exits 1 when a criterion fails, 2 on a pipeline error (an item
that could not be transcribed), 0 otherwise.

Examples:
  python3 tests/accuracy/wer.py --model tiny.en --beam 1 --beam 5 --build-dir build-eval
  python3 tests/accuracy/wer.py --fw-only --model tiny.en --beam 1 --cache /tmp
  python3 tests/accuracy/wer.py --subset jfk --subset ls-test-clean --limit 3
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speech_ref  # noqa: E402  (models dir, GStreamer decoding)
import gst_requirements as req  # noqa: E402

# Order matters: the first matching prefix names the subset.
SUBSETS = [
    ("longform", "longform-"),
    ("ls-test-other", "ls-test-other-"),
    ("ls-test-clean", "ls-test-clean-"),
    ("ls-dev-clean", "ls-dev-clean-"),
    ("jfk", "jfk"),
    ("ljspeech", "ljspeech-"),
    ("kathleen", "kathleen-"),
    ("sphinx4", "sphinx4"),
    ("ami", "ami-"),
]
SUBSET_ORDER = [s for s, _ in SUBSETS]

WER_BOUND = 0.3            # percentage points, short-utterance subsets
WER_BOUND_LONGFORM = 0.5   # percentage points, longform-*
TOKEN_IDENTITY_MIN = 0.90  # fraction of ls-* utterances
# --compute-type int8: against our own float32 pipeline, on every subset
# of at least INT8_MIN_WORDS reference words (below that one word is more
# than the bound: sphinx4 has 1 word, as the reference spells the digits)
# and on all short items together
WER_BOUND_INT8 = 0.5       # percentage points
# bfloat16 (and auto, which is bfloat16 or float32 on the CPU): 0.2 points;
# long-form WER_BOUND_LONGFORM for every reduced type
WER_BOUND_REDUCED = {"int8": WER_BOUND_INT8, "bfloat16": 0.2, "auto": 0.2}
INT8_MIN_WORDS = 100


# ---------------------------------------------------------------- data ---

def repo_dir():
    return os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))


def shared_dir():
    d = os.environ.get("WHISPER_SHARED_DIR")
    if d:
        return d
    return os.path.join(os.path.dirname(repo_dir()), "shared")


def speech_dir():
    return os.path.join(shared_dir(), "testdata", "speech")


def subset_of(item_id):
    for name, prefix in SUBSETS:
        if item_id.startswith(prefix):
            return name
    return "other"


def read_manifest(path=None):
    path = path or os.path.join(speech_dir(), "MANIFEST.tsv")
    base = os.path.dirname(path)
    items = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            cells = line.split("\t")
            item_id = cells[col["id"]]
            items.append({
                "id": item_id,
                "audio": os.path.join(base, cells[col["audio_path"]]),
                "duration": float(cells[col["duration_seconds"]]),
                "reference": cells[col["reference_transcript"]],
                "subset": subset_of(item_id),
            })
    return items


def select_items(items, subsets=None, limit=None, ids=None):
    """subsets: names from SUBSET_ORDER (None = all); limit: per subset."""
    out = []
    count = {}
    for it in items:
        if subsets and it["subset"] not in subsets:
            continue
        if ids and it["id"] not in ids:
            continue
        n = count.get(it["subset"], 0)
        if limit is not None and n >= limit:
            continue
        count[it["subset"]] = n + 1
        out.append(it)
    return out


def models_dir():
    return speech_ref.models_dir()


def resolve_model(name):
    """A path to a CTranslate2 model directory, or a name in the models dir."""
    if os.path.isdir(name):
        return os.path.abspath(name)
    return os.path.join(models_dir(), name)


def model_present(path):
    return os.path.isfile(os.path.join(path, "model.bin")) and \
        os.path.isfile(os.path.join(path, "config.json"))


def model_is_multilingual(path):
    """Vocabulary size as openai-whisper decides it (>= 51865: multilingual)."""
    tok = os.path.join(path, "tokenizer.json")
    if os.path.isfile(tok):
        with open(tok, encoding="utf-8") as f:
            data = json.load(f)
        # added_tokens repeat some vocab entries in some exports: count ids
        ids = set(data["model"]["vocab"].values())
        ids.update(t["id"] for t in data.get("added_tokens", []))
        n = max(ids) + 1
        return n >= 51865
    return not os.path.basename(path.rstrip("/")).endswith(".en")


def model_fingerprint(path):
    st = os.stat(os.path.join(path, "model.bin"))
    return "%s:%d:%d" % (os.path.abspath(path), st.st_size, int(st.st_mtime))


# ----------------------------------------------------------- normalise ---

_normalizer = None


def normalize(text):
    global _normalizer
    if _normalizer is None:
        from whisper_normalizer.english import EnglishTextNormalizer
        _normalizer = EnglishTextNormalizer()
    return " ".join(_normalizer(text).split())


def wer_stats(refs, hyps):
    """Corpus WER over normalised (ref, hyp) pairs: dict with errors/words."""
    import jiwer
    pairs = [(r, h) for r, h in zip(refs, hyps)]
    words = sum(len(r.split()) for r, _ in pairs)
    if words == 0:
        return {"words": 0, "errors": 0, "wer": 0.0, "sub": 0, "del": 0,
                "ins": 0}
    # jiwer rejects empty references; there are none in the manifest, but
    # an empty hypothesis is normal (counted as deletions).
    o = jiwer.process_words([r for r, _ in pairs], [h for _, h in pairs])
    errors = o.substitutions + o.deletions + o.insertions
    return {"words": words, "errors": errors, "wer": 100.0 * errors / words,
            "sub": o.substitutions, "del": o.deletions, "ins": o.insertions}


# ------------------------------------------------------ faster-whisper ---

class _OpenaiPadding:
    """Make faster-whisper pad short windows the way openai-whisper does.

    openai-whisper computes the log-mel of the audio followed by 30 s of
    zeros, so the frames after the audio are log10(1e-10) = -10, which the
    max-8 clamp lifts to the floor: normalised (max - 8 + 4) / 4, i.e. the
    normalised maximum - 2.  faster-whisper 1.x pads the already normalised
    features with 0.0 (faster_whisper.audio.pad_or_trim), which is
    log-mel -4 instead.  Our pipeline does what openai-whisper does.  Within
    this context manager faster-whisper pads with the floor as well; the
    maximum is the whole file's, as faster-whisper normalises over the file.
    """

    def __init__(self, fw):
        self.fw = fw

    def __enter__(self):
        import numpy as np
        import faster_whisper.transcribe as T
        self.T = T
        self.orig_pad = T.pad_or_trim
        fe = self.fw.model.feature_extractor
        self.fe = fe
        state = {"max": None}

        def call(*a, **k):
            out = fe(*a, **k)
            state["max"] = float(out.max()) if out.size else 0.0
            return out

        def pad(array, length=3000, *, axis=-1):
            if array.shape[axis] >= length:
                return self.orig_pad(array, length, axis=axis)
            floor = (state["max"] if state["max"] is not None
                     else float(array.max())) - 2.0
            widths = [(0, 0)] * array.ndim
            widths[axis] = (0, length - array.shape[axis])
            return np.pad(array, widths, constant_values=floor)

        self.fw.model.feature_extractor = _CallableProxy(fe, call)
        T.pad_or_trim = pad
        return self

    def __exit__(self, *exc):
        self.T.pad_or_trim = self.orig_pad
        self.fw.model.feature_extractor = self.fe
        return False


class _CallableProxy:
    """Forwards attributes to @obj, calls to @fn."""

    def __init__(self, obj, fn):
        self._obj = obj
        self._fn = fn

    def __call__(self, *a, **k):
        return self._fn(*a, **k)

    def __getattr__(self, name):
        return getattr(self._obj, name)


FW_VARIANTS = ("stock", "openai-pad", "openai-pad-gst-audio")


def gst_decode_audio(path):
    """The audio as our pipeline's front end gets it: decodebin !
    audioconvert ! audioresample to 16 kHz mono float32."""
    tmp = tempfile.mkdtemp(prefix="eval-audio-")
    try:
        return speech_ref.decode_audio(path, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class FasterWhisper:
    def __init__(self, model_path, compute_type="float32", cpu_threads=2):
        from faster_whisper import WhisperModel
        import faster_whisper
        t0 = time.monotonic()
        self.model = WhisperModel(model_path, device="cpu",
                                  compute_type=compute_type,
                                  cpu_threads=cpu_threads, num_workers=1)
        self.load_seconds = time.monotonic() - t0
        self.multilingual = self.model.model.is_multilingual
        self.version = faster_whisper.__version__
        self.compute_type = compute_type
        self.eot = self.model.hf_tokenizer.token_to_id("<|endoftext|>")

    def transcribe(self, audio, beam, condition=False, temperature_fallback=False,
                   decode_audio=True, variant="stock"):
        """Returns (result dict, seconds spent in transcription).
        variant "openai-pad": pad short windows as openai-whisper does;
        "openai-pad-gst-audio": that, on the audio decoded and resampled by
        GStreamer as in our pipeline instead of faster-whisper's PyAV."""
        if variant == "openai-pad-gst-audio":
            t0 = time.monotonic()
            data = gst_decode_audio(audio)
            with _OpenaiPadding(self):
                res, secs = self._transcribe(data, beam, condition,
                                             temperature_fallback, False)
            secs = time.monotonic() - t0
            res["seconds"] = secs
            return res, secs
        if variant == "openai-pad":
            with _OpenaiPadding(self):
                return self._transcribe(audio, beam, condition,
                                        temperature_fallback, decode_audio)
        return self._transcribe(audio, beam, condition, temperature_fallback,
                                decode_audio)

    def _transcribe(self, audio, beam, condition, temperature_fallback,
                    decode_audio):
        from faster_whisper import decode_audio as fw_decode
        t0 = time.monotonic()
        c0 = time.process_time()
        data = fw_decode(audio, sampling_rate=16000) if decode_audio else audio
        temps = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] if temperature_fallback else 0
        segs, _info = self.model.transcribe(
            data, beam_size=beam, temperature=temps,
            condition_on_previous_text=condition, vad_filter=False,
            language="en" if self.multilingual else None)
        segments = []
        for s in segs:
            segments.append({"start": round(s.start, 3), "end": round(s.end, 3),
                             "text": s.text, "tokens": list(s.tokens),
                             "avg_logprob": s.avg_logprob,
                             "no_speech_prob": s.no_speech_prob})
        secs = time.monotonic() - t0
        cpu = time.process_time() - c0
        text_tokens = [t for s in segments for t in s["tokens"] if t < self.eot]
        return {"text": " ".join(s["text"].strip() for s in segments).strip(),
                "raw": "".join(s["text"] for s in segments),
                "segments": segments, "tokens": text_tokens,
                "seconds": secs, "cpu_seconds": cpu}, secs


# ------------------------------------------------------- our pipeline ---

def gst_env(build_dir, threads=None):
    env = dict(os.environ)
    plugin_dir = os.path.join(os.path.abspath(build_dir), "gst")
    env["GST_PLUGIN_PATH"] = plugin_dir
    # the suite empties the system path; GStreamer's own plugins then come
    # from this directory (tests/meson.build)
    if os.environ.get("WHISPER_GST_SYSTEM_PLUGINS"):
        env["GST_PLUGIN_PATH"] += os.pathsep + os.environ[
            "WHISPER_GST_SYSTEM_PLUGINS"]
    if "GST_REGISTRY_1_0" not in env:
        h = hashlib.sha1(plugin_dir.encode()).hexdigest()[:10]
        env["GST_REGISTRY_1_0"] = os.path.join(
            tempfile.gettempdir(), "eval-registry-%s.bin" % h)
    # no OMP_WAIT_POLICY: the engine's idle threads sleep by themselves
    # (its own thread pool, docs/kernels.md, Threads)
    if threads:
        env["OPENBLAS_NUM_THREADS"] = str(threads)
    return env


def default_build_dir():
    d = os.environ.get("WHISPER_BUILD_DIR")
    if d:
        return d
    for name in ("build-eval", "build", "builddir"):
        p = os.path.join(repo_dir(), name)
        if os.path.isdir(os.path.join(p, "gst")):
            return p
    return os.path.join(repo_dir(), "build")


def element_properties(element, env):
    """Names of an element's properties (gst-inspect), or None if missing."""
    r = subprocess.run(["gst-inspect-1.0", element], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None
    props = set()
    in_props = False
    for line in r.stdout.splitlines():
        if line.startswith("Element Properties:"):
            in_props = True
            continue
        if in_props:
            if line and not line.startswith(" "):
                break
            m = re.match(r"^  ([a-z][a-z0-9-]*)\s*:", line)
            if m:
                props.add(m.group(1))
    return props


def _unescape_gst_string(s):
    """Inverse of GStreamer's string wrapping: \\ooo octal bytes, \\c."""
    out = bytearray()
    i = 0
    b = s.encode("utf-8", "surrogateescape")
    while i < len(b):
        c = b[i]
        if c == 0x5C and i + 1 < len(b):           # backslash
            octal = b[i + 1:i + 4]
            if len(octal) == 3 and all(0x30 <= x <= 0x37 for x in octal):
                out.append(int(octal.decode(), 8) & 0xFF)
                i += 4
            else:
                out.append(b[i + 1])
                i += 2
        else:
            out.append(c)
            i += 1
    return out.decode("utf-8", "replace")


def parse_structure(s):
    """Parse a serialised GstStructure ("name, f=(type)v, ...;") into
    (name, dict).  Strings, numbers, booleans and arrays/lists of them."""
    pos = 0
    n = len(s)

    def skip_ws():
        nonlocal pos
        while pos < n and s[pos] in " \t":
            pos += 1

    def read_value():
        nonlocal pos
        skip_ws()
        typ = None
        if pos < n and s[pos] == "(":
            end = s.index(")", pos)
            typ = s[pos + 1:end]
            pos = end + 1
            skip_ws()
        if pos < n and s[pos] == '"':
            pos += 1
            start = pos
            while pos < n and s[pos] != '"':
                pos += 2 if s[pos] == "\\" else 1
            raw = s[start:pos]
            pos += 1
            return _unescape_gst_string(raw)
        if pos < n and s[pos] in "<{[":
            close = {"<": ">", "{": "}", "[": "]"}[s[pos]]
            pos += 1
            vals = []
            while True:
                skip_ws()
                if pos < n and s[pos] == close:
                    pos += 1
                    break
                vals.append(read_value())
                skip_ws()
                if pos < n and s[pos] == ",":
                    pos += 1
            return vals
        start = pos
        while pos < n and s[pos] not in ",;>}]":
            pos += 1
        tok = s[start:pos].strip()
        if typ in ("string", "gchararray") or typ is None and not tok:
            return _unescape_gst_string(tok)
        if tok in ("true", "TRUE", "yes", "t"):
            return True
        if tok in ("false", "FALSE", "no", "f"):
            return False
        try:
            return int(tok)
        except ValueError:
            pass
        try:
            return float(tok)
        except ValueError:
            return tok

    m = re.match(r"\s*([^,;\s]+)", s)
    if not m:
        return None, {}
    name = m.group(1)
    pos = m.end()
    fields = {}
    while pos < n:
        skip_ws()
        if pos < n and s[pos] in ",":
            pos += 1
            continue
        if pos >= n or s[pos] == ";":
            break
        eq = s.find("=", pos)
        if eq < 0:
            break
        key = s[pos:eq].strip()
        pos = eq + 1
        try:
            fields[key] = read_value()
        except (ValueError, IndexError):
            break
    return name, fields


def parse_srt(text):
    """[(start_s, end_s, text)] from SRT."""
    cues = []
    blocks = re.split(r"\r?\n\r?\n", text.strip("\r\n"))
    tre = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d\d\d)\s*-->\s*"
                     r"(\d+):(\d\d):(\d\d)[,.](\d\d\d)")
    for b in blocks:
        lines = b.splitlines()
        for i, line in enumerate(lines):
            m = tre.search(line)
            if m:
                g = [int(x) for x in m.groups()]
                t0 = round(g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000.0, 3)
                t1 = round(g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000.0, 3)
                cues.append((t0, t1, "\n".join(lines[i + 1:])))
                break
    return cues


SEGMENT_MESSAGE_RE = re.compile(
    r'^Got message #\d+ from element "dec" \(element\): (.*)$')


def pipeline_description(audio, model_path, beam, srt_path, props,
                         multilingual, condition=False,
                         temperature_fallback=False, enc_extra="",
                         defaults=False):
    """defaults=True: no decoder property at all (beam, condition and
    temperature_fallback are ignored), only name=dec for the bus messages;
    the caller passes enc_extra="" to leave the encoder at its defaults."""
    if defaults:
        desc = ("filesrc location=%s ! decodebin ! audioconvert ! "
                "audioresample ! whispermel ! whisperencnpu model=%s%s ! "
                "whisperdec name=dec ! srtenc ! filesink location=%s" % (
                    _q(audio), _q(model_path), enc_extra, _q(srt_path)))
        return desc, []
    dec = ["whisperdec", "name=dec", "beam-size=%d" % beam]
    missing = []
    opt = {"condition-on-previous-text": "true" if condition else "false",
           "temperature-fallback": "true" if temperature_fallback else "false"}
    if multilingual:
        opt["language"] = "en"
    for k, v in opt.items():
        if props is not None and k in props:
            dec.append("%s=%s" % (k, v))
        else:
            missing.append(k)
    desc = ("filesrc location=%s ! decodebin ! audioconvert ! audioresample ! "
            "whispermel ! whisperencnpu model=%s%s ! %s ! srtenc ! "
            "filesink location=%s" % (_q(audio), _q(model_path), enc_extra,
                                      " ".join(dec), _q(srt_path)))
    return desc, missing


def _q(path):
    if re.match(r"^[A-Za-z0-9_./+-]+$", path):
        return path
    return '"%s"' % path.replace('"', '\\"')


class OurPipeline:
    def __init__(self, build_dir, model_path, threads=2, defaults=False,
                 compute_type=None):
        """@threads: whisperencnpu's threads=; whisperdec has no thread
        property (its decoder runs on all cores).  defaults=True: every
        element at its default properties: whisperencnpu gets only model=
        (the bare name when @model_path is in the models directory), no
        threads=; whisperdec gets nothing but its name, whatever
        transcribe() is asked for.  @compute_type: whisperencnpu's
        compute-type= (whisperdec follows it)."""
        self.build_dir = os.path.abspath(build_dir)
        self.model_path = model_path
        self.defaults = defaults
        self.env = gst_env(build_dir, threads)
        self.props = element_properties("whisperdec", self.env)
        enc_props = element_properties("whisperencnpu", self.env)
        self.available = self.props is not None and enc_props is not None and \
            element_properties("whispermel", self.env) is not None
        # the encoder's own thread count, when it has one
        self.enc_extra = " threads=%d" % threads \
            if threads and enc_props and "threads" in enc_props else ""
        # whisperdec decodes with the encoder's compute type (its caps)
        if compute_type and enc_props and "compute-type" in enc_props:
            self.enc_extra += " compute-type=%s" % compute_type
        self.multilingual = model_is_multilingual(model_path)
        self.missing_props = set()
        self.model_arg = model_path
        if defaults:
            self.enc_extra = ""
            if os.path.abspath(os.path.dirname(model_path.rstrip("/"))) == \
                    os.path.abspath(models_dir()):
                self.model_arg = os.path.basename(model_path.rstrip("/"))

    def transcribe(self, audio, beam, duration=30.0, condition=False,
                   temperature_fallback=False, timeout=None):
        tmp = tempfile.mkdtemp(prefix="eval-gst-")
        try:
            srt = os.path.join(tmp, "out.srt")
            desc, missing = pipeline_description(
                audio, self.model_arg, beam, srt, self.props,
                self.multilingual, condition, temperature_fallback,
                self.enc_extra, self.defaults)
            self.missing_props.update(missing)
            cmd = ["gst-launch-1.0", "-m", "-e"] + _split_desc(desc)
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.monotonic()
            try:
                r = subprocess.run(cmd, env=self.env, capture_output=True,
                                   text=True, errors="replace",
                                   timeout=timeout or max(120, 20 * duration))
            except subprocess.TimeoutExpired as e:
                return {"error": "timeout after %ds" % e.timeout,
                        "cmd": " ".join(cmd)}, time.monotonic() - t0
            secs = time.monotonic() - t0
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            srt_text = ""
            if os.path.exists(srt):
                with open(srt, encoding="utf-8", errors="replace") as f:
                    srt_text = f.read()
            res = parse_gst_output(r.stdout, srt_text)
            res["seconds"] = secs
            # CPU seconds of the child: exact only when one item runs at a
            # time (RUSAGE_CHILDREN sums every child reaped meanwhile)
            res["cpu_seconds"] = (ru1.ru_utime - ru0.ru_utime +
                                  ru1.ru_stime - ru0.ru_stime)
            res["cmd"] = "gst-launch-1.0 " + desc
            if r.returncode != 0 or "ERROR: from element" in r.stderr + r.stdout:
                err = [l for l in (r.stderr + r.stdout).splitlines()
                       if "ERROR" in l or "error" in l.lower()][:6]
                res["error"] = "exit %d: %s" % (r.returncode, " | ".join(err))
            return res, secs
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _split_desc(desc):
    import shlex
    return shlex.split(desc)


def parse_gst_output(stdout, srt_text):
    messages = []
    for line in stdout.splitlines():
        m = SEGMENT_MESSAGE_RE.match(line)
        if m:
            name, fields = parse_structure(m.group(1))
            if "text" in fields:
                fields["_name"] = name
                messages.append(fields)
    cues = parse_srt(srt_text)
    segments = [{"start": a, "end": b, "text": t} for a, b, t in cues]
    tokens = None
    if messages and all(isinstance(mm.get("tokens"), list) for mm in messages):
        tokens = [int(t) for mm in messages for t in mm["tokens"]]
    exec_s = None
    m = re.search(r"Execution ended after (\d+):(\d\d):(\d\d)\.(\d+)", stdout)
    if m:
        exec_s = (int(m.group(1)) * 3600 + int(m.group(2)) * 60 +
                  int(m.group(3)) + float("0." + m.group(4)))
    if segments:
        text = " ".join(s["text"].strip() for s in segments)
    else:
        text = " ".join(str(mm["text"]).strip() for mm in messages)
    raw = "".join(str(mm["text"]) for mm in messages) if messages else text
    return {"text": text.strip(), "raw": raw, "segments": segments,
            "messages": messages, "tokens": tokens, "exec_seconds": exec_s}


# ------------------------------------------------------------ running ---

def cache_path(cache_dir, engine, model_path, beam, extra=""):
    name = "eval-%s-%s-b%d%s.json" % (
        engine, os.path.basename(model_path.rstrip("/")), beam, extra)
    return os.path.join(cache_dir, name)


def load_cache(path, key):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if data.get("key") != key:
        return {}
    return data.get("items", {})


def save_cache(path, key, items):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"key": key, "items": items}, f, ensure_ascii=False)
    os.replace(tmp, path)


def fw_cache_key(model_path, beam, variant):
    import faster_whisper
    return "%s|fw%s|beam%d|t0|nocond%s" % (
        model_fingerprint(model_path), faster_whisper.__version__, beam,
        "" if variant == "stock" else "|" + variant)


def fw_cache_file(cache_dir, model_path, beam, variant):
    return cache_path(cache_dir, "fw", model_path, beam,
                      "" if variant == "stock" else "-" + variant)


def fw_all_cached(items, model_path, beam, variant, cache_dir):
    if not cache_dir:
        return False
    c = load_cache(fw_cache_file(cache_dir, model_path, beam, variant),
                   fw_cache_key(model_path, beam, variant))
    return all(it["id"] in c for it in items)


def run_fw(items, model_path, beam, cache_dir=None, log=None, fw=None,
           variant="stock"):
    """faster-whisper float32 results {id: result}, reusing the cache."""
    key = fw_cache_key(model_path, beam, variant)
    cpath = fw_cache_file(cache_dir, model_path, beam, variant) if cache_dir else None
    cached = load_cache(cpath, key) if cpath else {}
    out = {}
    todo = [it for it in items if it["id"] not in cached]
    for it in items:
        if it["id"] in cached:
            out[it["id"]] = cached[it["id"]]
    if todo:
        if fw is None:
            fw = FasterWhisper(model_path, "float32", 2)
        for i, it in enumerate(todo):
            res, secs = fw.transcribe(it["audio"], beam, variant=variant)
            out[it["id"]] = res
            cached[it["id"]] = res
            if log:
                log("fw-%s b%d %3d/%d %-40s %6.2fs  %s" % (
                    variant, beam, i + 1, len(todo), it["id"], secs,
                    res["text"][:60]))
            if cpath and (i % 10 == 9 or i == len(todo) - 1):
                save_cache(cpath, key, cached)
    return out


def run_ours(items, pipe, beam, jobs=1, log=None):
    out = {}

    def one(it):
        return it, pipe.transcribe(it["audio"], beam, it["duration"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        for i, (it, (res, secs)) in enumerate(ex.map(one, items)):
            out[it["id"]] = res
            if log:
                log("ours b%d %3d/%d %-40s %6.2fs  %s" % (
                    beam, i + 1, len(items), it["id"], secs,
                    res.get("error") or res["text"][:60]))
    return out


def reuse_ours(path, model, beam, items):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    for run in data["runs"]:
        if run["model"] == model and run["beam"] == beam:
            missing = [it["id"] for it in items if it["id"] not in run["items"]
                       or "ours" not in run["items"][it["id"]]]
            if missing:
                raise SystemExit("%s lacks our results for %s" % (path, missing[:5]))
            return {it["id"]: run["items"][it["id"]]["ours"] for it in items}
    raise SystemExit("%s has no run of %s beam %d" % (path, model, beam))


def summarise(items, engines):
    """Per-subset rows for one (model, beam).  engines: {name: results}."""
    rows = []
    subsets = [s for s in SUBSET_ORDER + ["other"]
               if any(it["subset"] == s for it in items)]
    ours = engines.get("ours")
    for s in subsets:
        its = [it for it in items if it["subset"] == s]
        refs = [normalize(it["reference"]) for it in its]
        row = {"subset": s, "n": len(its),
               "words": sum(len(r.split()) for r in refs),
               "seconds": sum(it["duration"] for it in its)}
        for name, res in engines.items():
            hyp = [normalize(res[it["id"]].get("text", "")) for it in its]
            row[name] = wer_stats(refs, hyp)
        if ours is not None:
            row["errors_pipeline"] = sum(1 for it in its if ours[it["id"]].get("error"))
            for name, res in engines.items():
                if name == "ours":
                    continue
                row["delta_" + name] = row["ours"]["wer"] - row[name]["wer"]
                row["same_norm_" + name] = sum(
                    normalize(ours[it["id"]].get("text", "")) ==
                    normalize(res[it["id"]]["text"]) for it in its) / len(its)
                row["same_text_" + name] = sum(
                    ours[it["id"]].get("text", "").strip() ==
                    res[it["id"]]["text"].strip() for it in its) / len(its)
        rows.append(row)
    return rows


def identity_ls(items, ours, ref):
    """(fraction, n, basis) of ls-* utterances with identical token ids
    (or exact text when our pipeline does not report tokens)."""
    its = [it for it in items if it["id"].startswith("ls-")]
    if not its or ours is None or ref is None:
        return None, 0, None
    if all(ours[it["id"]].get("tokens") is not None for it in its):
        same = sum(ours[it["id"]]["tokens"] == ref[it["id"]]["tokens"] for it in its)
        basis = "token ids"
    else:
        same = sum(ours[it["id"]].get("text", "").strip() ==
                   ref[it["id"]]["text"].strip() for it in its)
        basis = "exact text"
    return same / len(its), len(its), basis


LABELS = {"ours": "ours", "ours-float32": "ours float32",
          "fw": "faster-whisper",
          "fw-openai-pad": "fw openai-pad",
          "fw-openai-pad-gst-audio": "fw openai-pad gst-audio"}


def table(rows, title, names):
    """Markdown table; names: engines in column order ("ours" first)."""
    refs = [n for n in names if n != "ours"]
    have_ours = "ours" in names
    head = ["subset", "n", "words"]
    align = ["---", "---:", "---:"]
    for n in names:
        head.append("WER %s %%" % LABELS.get(n, n))
        align.append("---:")
    if have_ours:
        for n in refs:
            head.append("delta vs %s" % LABELS.get(n, n))
            align.append("---:")
        for n in refs:
            head.append("same text as %s" % LABELS.get(n, n))
            align.append("---:")
    lines = ["", "### " + title, "", "| " + " | ".join(head) + " |",
             "| " + " | ".join(align) + " |"]
    for r in rows:
        cells = [r["subset"], str(r["n"]), str(r["words"])]
        cells += ["%.2f" % r[n]["wer"] for n in names]
        if have_ours:
            cells += ["%+.2f" % r["delta_" + n] for n in refs]
            cells += ["%.0f %%" % (100 * r["same_text_" + n]) for n in refs]
        lines.append("| " + " | ".join(cells) + " |")
    short = [r for r in rows if r["subset"] != "longform"]
    if len(short) > 1:
        words = sum(r["words"] for r in short)
        cells = ["all except longform", str(sum(r["n"] for r in short)), str(words)]
        tot = {}
        for n in names:
            tot[n] = 100.0 * sum(r[n]["errors"] for r in short) / max(1, words)
            cells.append("%.2f" % tot[n])
        if have_ours:
            cells += ["%+.2f" % (tot["ours"] - tot[n]) for n in refs]
            cells += ["%.0f %%" % (100 * sum(r["same_text_" + n] * r["n"] for r in short)
                                   / sum(r["n"] for r in short)) for n in refs]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    req.require_elements(req.DECODE_TEST_AUDIO + ["srtenc", "filesink"])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append",
                    help="model name in the models dir or a CTranslate2 "
                    "directory (repeatable; default tiny.en)")
    ap.add_argument("--beam", type=int, action="append",
                    help="beam size (repeatable; default 1 and 5)")
    ap.add_argument("--subset", action="append", choices=SUBSET_ORDER,
                    help="only these subsets (repeatable; default all)")
    ap.add_argument("--id", action="append", help="only these item ids")
    ap.add_argument("--limit", type=int, help="at most N items per subset")
    ap.add_argument("--build-dir", default=None,
                    help="meson build dir holding gst/ (default: "
                    "$WHISPER_BUILD_DIR, else build-eval or build in the repo)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="our pipeline: items transcribed in parallel")
    ap.add_argument("--threads", type=int, default=2,
                    help="whisperencnpu threads of our pipeline")
    ap.add_argument("--json", help="write every result to this file")
    ap.add_argument("--cache", metavar="DIR",
                    help="reuse/store faster-whisper results in "
                    "DIR/eval-fw-MODEL-bN[-VARIANT].json (never our pipeline's)")
    ap.add_argument("--fw-variant", action="append", choices=FW_VARIANTS,
                    help="faster-whisper as published (stock), with "
                    "openai-whisper's padding of short windows (openai-pad), "
                    "and that on GStreamer-decoded audio "
                    "(openai-pad-gst-audio); repeatable, default all three")
    ap.add_argument("--criteria", choices=FW_VARIANTS,
                    default="openai-pad-gst-audio",
                    help="which faster-whisper the pass criteria compare "
                    "with (default openai-pad-gst-audio: faster-whisper given "
                    "openai-whisper's padding and the same decoded audio; "
                    "stock faster-whisper pads short windows differently "
                    "from openai-whisper, which the pipeline follows)")
    ap.add_argument("--reuse-ours", metavar="JSON",
                    help="take our pipeline's results from an earlier --json "
                    "file (same model and beam) instead of running it")
    ap.add_argument("--fw-only", action="store_true",
                    help="faster-whisper only (no pipeline needed)")
    ap.add_argument("--ours-only", action="store_true",
                    help="our pipeline only, against the references")
    ap.add_argument("--quiet", action="store_true", help="no per-item log")
    ap.add_argument("--compute-type",
                    choices=["float32", "int8", "bfloat16", "auto"],
                    default="float32",
                    help="whisperencnpu compute-type (whisperdec follows "
                    "it); the others also run our float32 and compare "
                    "with it: WER within 0.5 points (int8) or 0.2 points "
                    "(bfloat16, auto) on every subset of >= %d words, "
                    "0.5 on long-form" % INT8_MIN_WORDS)
    args = ap.parse_args(argv)

    models = args.model or ["tiny.en"]
    beams = args.beam or [1, 5]
    variants = [] if args.ours_only else (args.fw_variant or list(FW_VARIANTS))
    if not args.ours_only and args.criteria not in variants:
        variants.append(args.criteria)
    variants = [v for v in FW_VARIANTS if v in variants]
    crit_name = "fw" if args.criteria == "stock" else "fw-" + args.criteria
    # a reduced compute type is judged against our own float32
    reduced = args.compute_type in WER_BOUND_REDUCED
    if reduced:
        crit_name = "ours-float32"
        bound_reduced = WER_BOUND_REDUCED[args.compute_type]
    items = select_items(read_manifest(), args.subset, args.limit,
                         set(args.id) if args.id else None)
    if not items:
        print("no items selected", file=sys.stderr)
        return 2
    log = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    build_dir = args.build_dir or default_build_dir()

    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
              "runs": []}
    failures = []
    pipeline_errors = 0
    out_lines = ["# WER: our pipeline vs faster-whisper (%s)" % report["date"],
                 "", "command: `python3 tests/%s`" % report["command"]]
    for model in models:
        mpath = resolve_model(model)
        if not model_present(mpath):
            print("model %s not found at %s" % (model, mpath), file=sys.stderr)
            return 77
        pipe = pipe_f32 = None
        if not args.fw_only:
            pipe = OurPipeline(build_dir, mpath, args.threads,
                               compute_type=args.compute_type)
            pipe_f32 = OurPipeline(build_dir, mpath, args.threads,
                                   compute_type="float32") if reduced else None
            if not pipe.available:
                print("our elements are not available from %s/gst "
                      "(whispermel, whisperencnpu, whisperdec)" % build_dir,
                      file=sys.stderr)
                return 2
        fw_model = None
        for beam in beams:
            engines = {}
            if pipe and args.reuse_ours:
                engines["ours"] = reuse_ours(args.reuse_ours, model, beam, items)
            elif pipe:
                engines["ours"] = run_ours(items, pipe, beam, args.jobs, log)
                if pipe_f32:
                    engines["ours-float32"] = run_ours(items, pipe_f32, beam,
                                                       args.jobs, log)
            for v in variants:
                if fw_model is None and not fw_all_cached(items, mpath, beam, v,
                                                          args.cache):
                    fw_model = FasterWhisper(mpath, "float32", 2)
                name = "fw" if v == "stock" else "fw-" + v
                engines[name] = run_fw(items, mpath, beam, args.cache, log,
                                       fw_model, v)
            names = list(engines)
            rows = summarise(items, engines)
            short = [r for r in rows if r["subset"] != "longform"]
            longr = [r for r in rows if r["subset"] == "longform"]
            title = "%s, beam %d (temperature 0, no previous-text conditioning)" % (
                model, beam)
            if short:
                out_lines.append(table(short, title, names))
            if longr:
                out_lines.append(table(longr, title + ", long-form", names))
            ours = engines.get("ours")
            id_stats = {}
            for name in names:
                if name == "ours" or ours is None:
                    continue
                frac, n_ls, basis = identity_ls(items, ours, engines[name])
                if frac is None:
                    continue
                id_stats[name] = (frac, n_ls, basis)
                out_lines.append("")
                out_lines.append("LibriSpeech utterances with %s identical to %s: "
                                 "%d/%d = %.1f %%%s" % (
                                     basis, LABELS[name], round(frac * n_ls), n_ls,
                                     100 * frac,
                                     " (criterion: >= %.0f %%)" % (100 * TOKEN_IDENTITY_MIN)
                                     if name == crit_name and not reduced else ""))
                if name == crit_name and not reduced and frac < TOKEN_IDENTITY_MIN:
                    failures.append("%s beam %d: %s identical to %s on %.1f %% of "
                                    "LibriSpeech utterances (< %.0f %%)" % (
                                        model, beam, basis, LABELS[name], 100 * frac,
                                        100 * TOKEN_IDENTITY_MIN))
            if pipe and pipe.missing_props:
                out_lines.append("")
                out_lines.append("NOTE: whisperdec has no propert%s %s; ran with "
                                 "its defaults there." % (
                                     "y" if len(pipe.missing_props) == 1 else "ies",
                                     ", ".join(sorted(pipe.missing_props))))
            for r in rows:
                key = "delta_" + crit_name
                if key not in r:
                    continue
                bound = WER_BOUND_LONGFORM if r["subset"] == "longform" else WER_BOUND
                if reduced:
                    # long-form: +0.5 points for every reduced type (and no
                    # lost or repeated passage: the WER would show it)
                    bound = WER_BOUND_LONGFORM if r["subset"] == "longform" \
                        else bound_reduced
                    if r["words"] < INT8_MIN_WORDS:
                        out_lines.append("NOTE: %s beam %d %s: %d reference "
                                         "words, too few for a %.1f-point bound"
                                         % (model, beam, r["subset"],
                                            r["words"], bound))
                        continue
                if r[key] > bound + 1e-9:
                    failures.append("%s beam %d %s: WER %.2f vs %s %.2f "
                                    "(+%.2f points > %.1f)" % (
                                        model, beam, r["subset"], r["ours"]["wer"],
                                        LABELS[crit_name], r[crit_name]["wer"],
                                        r[key], bound))
                elif r[key] < -bound - 1e-9:
                    out_lines.append("NOTE: %s beam %d %s: ours is better than "
                                     "%s by %.2f points" % (
                                         model, beam, r["subset"], LABELS[crit_name],
                                         -r[key]))
            if reduced and ours and short:
                words = sum(r["words"] for r in short)
                tot = {n: 100.0 * sum(r[n]["errors"] for r in short) / max(1, words)
                       for n in ("ours", crit_name)}
                if tot["ours"] - tot[crit_name] > bound_reduced + 1e-9:
                    failures.append("%s beam %d all except longform: WER %.2f vs "
                                    "%s %.2f (> %.1f points)" % (
                                        model, beam, tot["ours"], LABELS[crit_name],
                                        tot[crit_name], bound_reduced))
            if ours:
                errs = [(i, ours[i]["error"]) for i in ours if ours[i].get("error")]
                pipeline_errors += len(errs)
                for i, e in errs[:10]:
                    out_lines.append("PIPELINE ERROR %s: %s" % (i, e))
            run = {"model": model, "model_path": mpath, "beam": beam, "rows": rows,
                   "ls_identity": {k: v[0] for k, v in id_stats.items()},
                   "items": {}}
            for it in items:
                rec = {"subset": it["subset"], "reference": it["reference"],
                       "duration": it["duration"]}
                for name in names:
                    rec[name] = engines[name][it["id"]]
                run["items"][it["id"]] = rec
            report["runs"].append(run)
    out_lines.append("")
    if failures:
        out_lines.append("FAIL (criteria against %s):" % LABELS[crit_name])
        out_lines.extend("- " + f for f in failures)
    elif reduced and not args.fw_only:
        out_lines.append("PASS: %s within %.1f points of our float32 on "
                         "every subset of >= %d words and on all short items "
                         "(long-form %.1f)" % (args.compute_type, bound_reduced,
                                               INT8_MIN_WORDS,
                                               WER_BOUND_LONGFORM))
    elif not args.fw_only and not args.ours_only:
        out_lines.append("PASS: every subset within %.1f points (long-form %.1f) "
                         "of %s, LibriSpeech identity >= %.0f %%" % (
                             WER_BOUND, WER_BOUND_LONGFORM, LABELS[crit_name],
                             100 * TOKEN_IDENTITY_MIN))
    print("\n".join(out_lines))
    report["failures"] = failures
    report["markdown"] = "\n".join(out_lines)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=1)
    if failures:
        return 1
    if pipeline_errors:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
