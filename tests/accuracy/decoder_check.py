#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Decoder engine checks against CTranslate2 / faster-whisper on real models.

Cases (argv[1]):
  tokenizer MODEL   ids of a set of strings == Hugging Face tokenizers on the
                    model's tokenizer.json; decode round trip; special tokens
                    and the non-speech suppress list == faster-whisper's.
  jfk MODEL BEAM [PROMPT]  jfk.flac: encoder output from CTranslate2 (float32), our
                    decoder (tests/decoder-tool window) -> segments; tokens
                    and times must equal faster-whisper's on the same model
                    (temperature 0, condition_on_previous_text False), and
                    the words must be the reference sentence.
  jfk-no-timestamps MODEL BEAM  the same with without_timestamps.
  longform MODEL BEAM FILE  a long recording window after window with
                    our seek: every segment == faster-whisper's.
  devset MODEL BEAM PREFIX [N]  dev-set clips (< 30 s) whose id starts with
                    PREFIX: >= 90% identical token sequences.
Environment: WHISPER_BUILD_DIR (decoder-tool), WHISPER_SHARED_DIR (speech),
WHISPER_MODELS_DIR or ~/.cache/gst-whisper-npu/models.  Exit 77 (skip) when
the model or the speech file is missing.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
JFK_WORDS = ("and so my fellow americans ask not what your country can do for "
             "you ask what you can do for your country")


def models_dir():
    d = os.environ.get("GST_WHISPER_MODELS_DIR")
    if d:
        return d
    cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
    return os.path.join(cache, "gst-whisper-npu", "models")


def tool():
    return os.path.join(os.environ.get("WHISPER_BUILD_DIR", "build"), "tests",
                        "decoder-tool")


def run_tool(*args):
    r = subprocess.run([tool(), *args], capture_output=True)
    if r.returncode != 0:
        sys.exit("decoder-tool %s failed: %s" % (" ".join(args[:2]),
                                                 r.stderr.decode(errors="replace")))
    return r.stdout.decode("utf-8")


def tokenize(model, requests):
    """Many encodes ("e", text) and decodes ("d", ids) with one model load
    (decoder-tool tokenize): the ids or the text of each, in order."""
    lines = []
    for kind, arg in requests:
        if kind == "e":
            lines.append("e " + arg.encode("utf-8").hex())
        else:
            lines.append(" ".join(["d"] + [str(i) for i in arg]))
    r = subprocess.run([tool(), "tokenize", model], capture_output=True,
                       input=("\n".join(lines) + "\n").encode())
    if r.returncode != 0:
        sys.exit("decoder-tool tokenize failed: %s"
                 % r.stderr.decode(errors="replace"))
    out = r.stdout.decode("ascii").split("\n")[:len(requests)]
    if len(out) != len(requests):
        sys.exit("decoder-tool tokenize: %d answers to %d requests"
                 % (len(out), len(requests)))
    return [[int(x) for x in o.split()] if kind == "e"
            else bytes.fromhex(o).decode("utf-8")
            for (kind, _), o in zip(requests, out)]


def words(text):
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def tok_eot(hf):
    return hf.token_to_id("<|endoftext|>")


def check_tokenizer(model):
    import tokenizers
    from faster_whisper.tokenizer import Tokenizer
    hf = tokenizers.Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    cfg = json.load(open(os.path.join(model, "config.json")))
    multilingual = len(cfg.get("lang_ids", [])) > 0 and not os.path.basename(
        model.rstrip("/")).endswith(".en")
    fails = 0
    texts = [
        " And so my fellow Americans, ask not what your country can do for you",
        "Hello world", " hello  world\n\nnew   paragraph ",
        "It's a dog's life, isn't it? We'll see; they've gone, I'd say.",
        " 1234567 3.14159 -42 x²", "Ünïcödé naïve café — “quotes” …",
        " 日本語のテキスト、中文文本。", " Привет, мир!", " ♪♪ music ♪",
        "tabs\tand\r\nCRLF", "  leading spaces", "emoji 🙂🎉 mixed",
        " don't CAN'T 'quoted'", "a" * 40,
        # the pre-tokenizer's edges: space runs (\s+(?!\S) leaves the last
        # space to the word), trailing and lone whitespace, Unicode spaces,
        # contractions, digits of other scripts, CJK, emoji sequences
        "a     b", "word   ", "   ", " ", "x \t", "\t x", "line\n\n\n  next",
        " \n x\n", "a\u00a0b \u00a0\u00a0word\u3000end\u2028x\u0085y\x0b",
        "'s 'S 'll'LL o'clock rock'n'roll '' ' '", "'", "I'm'd",
        "2024-01-01 10,000.5 ٣٤٥ Ⅷ ½ ²³", "漢字かなカナ한국어 中文,English",
        "👨\u200d👩\u200d👧 👍🏽 🇫🇷!!", "e\u0301 cafe\u0301", "...?!  --",
    ]
    wants = [hf.encode(t, add_special_tokens=False).ids for t in texts]
    special_text = " <|en|> is plain text here"
    split_char = hf.encode(" 日本語", add_special_tokens=False).ids
    requests = [("e", t) for t in texts] + [("d", w) for w in wants] + [
        ("e", special_text), ("d", split_char)]
    answers = tokenize(model, requests)
    got_ids, backs = answers[:len(texts)], answers[len(texts):2 * len(texts)]
    special_ids, split_back = answers[-2:]
    for t, want, got, back in zip(texts, wants, got_ids, backs):
        if got != want:
            fails += 1
            print("FAIL encode %r:\n  ours %s\n  hf   %s" % (t, got, want))
        if back != t:
            fails += 1
            print("FAIL decode %r -> %r" % (t, back))
    # special-token text in a prompt stays plain text (tiktoken would refuse
    # it, Hugging Face would make it the special token)
    if (any(i >= tok_eot(hf) for i in special_ids)
            or tokenize(model, [("d", special_ids)])[0] != special_text):
        fails += 1
        print("FAIL special-token text in a prompt")
    # a character split across tokens decodes to the same text
    if split_back != " 日本語":
        fails += 1
        print("FAIL multi-token character")

    tok = Tokenizer(hf, multilingual, task="transcribe",
                    language="en" if multilingual else None)
    spec = {}
    for line in run_tool("specials", model).splitlines():
        k, *v = line.split()
        spec[k] = [int(x) for x in v]
    want = {
        "eot": tok.eot, "sot": tok.sot, "translate": tok.translate,
        "transcribe": tok.transcribe, "sot_lm": tok.sot_lm,
        "sot_prev": tok.sot_prev, "no_speech": tok.no_speech,
        "no_timestamps": tok.no_timestamps,
        "timestamp_begin": tok.timestamp_begin,
    }
    for k, v in want.items():
        if spec[k] != [v]:
            fails += 1
            print("FAIL special %s: ours %s, faster-whisper %d" % (k, spec[k], v))
    if multilingual:
        for code in ("en", "de"):
            if spec[code] != [hf.token_to_id("<|%s|>" % code)]:
                fails += 1
                print("FAIL language token %s" % code)
    elif spec["en"] != [-1]:
        fails += 1
        print("FAIL .en model has a language token")
    ns = sorted(set(tok.non_speech_tokens))
    if spec["non_speech"] != ns:
        fails += 1
        print("FAIL non-speech tokens:\n  ours %s\n  fw   %s" % (spec["non_speech"], ns))
    specials = {tok.transcribe, tok.translate, tok.sot, tok.sot_prev,
                tok.sot_lm, tok.no_speech}
    # the loader's list (config.json suppress_ids, specials possibly removed)
    if spec["model_suppress"] and set(spec["model_suppress"]) - specials != set(ns):
        fails += 1
        print("FAIL the model's suppress list != the non-speech tokens")
    print("tokenizer %s: %d strings, %d failures" % (model, len(texts), fails))
    return fails


def speech_file(name):
    path = os.path.join(os.environ.get("WHISPER_SHARED_DIR", "../shared"),
                        "testdata", "speech", "audio", name)
    if not os.path.exists(path):
        print("no %s: skip" % path)
        sys.exit(SKIP)
    return path


def parse_window(out):
    segs, next_frame = [], None
    for line in out.splitlines():
        if line.startswith("next_frame"):
            next_frame = int(line.split()[1])
            continue
        t, text, toks, _ = line.split("|")
        t0, t1 = (int(x) for x in t.split())
        segs.append((t0, t1, text, [int(x) for x in toks.split()]))
    return segs, next_frame


def check_longform(model, beam, name):
    """Whole file, window after window, seeking where our decoder says;
    temperature 0 only, no previous-text conditioning: every segment
    (tokens and times) must equal faster-whisper's."""
    import numpy as np
    import ctranslate2
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio
    from faster_whisper.feature_extractor import FeatureExtractor
    audio = decode_audio(speech_file(name), sampling_rate=16000)
    feat = FeatureExtractor(feature_size=80)(audio)
    content_frames = feat.shape[-1] - 1
    ct2 = ctranslate2.models.Whisper(model, compute_type="float32")
    ours, seek, n_windows = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        enc_path = os.path.join(tmp, "enc.f32")
        while seek < content_frames:
            size = min(3000, content_frames - seek)
            seg = feat[:, seek:seek + size]
            seg = np.pad(seg, ((0, 0), (0, 3000 - size)))
            enc = np.array(ct2.encode(ctranslate2.StorageView.from_array(
                np.ascontiguousarray(seg[None], dtype=np.float32))))[0]
            enc.astype(np.float32).tofile(enc_path)
            segs, next_frame = parse_window(run_tool(
                "window", model, enc_path, "--beam", str(beam), "--frames",
                str(size), "--start", str(seek), "--temperature", "0",
                "--no-condition", "--language", "en"))
            ours += segs
            if next_frame <= seek:
                print("FAIL window at %d does not move on" % seek)
                return 1
            seek = next_frame
            n_windows += 1
    wm = WhisperModel(model, device="cpu", compute_type="float32")
    fw, _ = wm.transcribe(audio, beam_size=beam, temperature=0,
                          condition_on_previous_text=False, language="en")
    ref = [(round(s.start * 100), round(s.end * 100), s.text, s.tokens)
           for s in fw]
    fails = 0
    for i in range(max(len(ours), len(ref))):
        a = ours[i] if i < len(ours) else None
        b = ref[i] if i < len(ref) else None
        if a != b:
            fails += 1
            print("DIFF %d\n  ours %s\n  fw   %s" % (i, a and a[:3], b and b[:3]))
    t = [s[0] for s in ours] + [ours[-1][1]] if ours else []
    if any(x > y for x, y in zip(t, t[1:])):
        fails += 1
        print("FAIL timestamps not monotonic")
    print("%s beam %d: %d windows, %d segments (faster-whisper %d), %d differ"
          % (name, beam, n_windows, len(ours), len(ref), fails))
    return fails


def check_devset(model, beam, prefix, limit):
    """Every clip of the dev set whose id starts with prefix (first `limit`
    ones, 0 = all), each one window (< 30 s): CTranslate2 encoder output, our
    decoder, faster-whisper on the same model (temperature 0, no
    conditioning).  Passes when at least 90% of the clips have identical
    token sequences."""
    import numpy as np
    import ctranslate2
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio
    from faster_whisper.feature_extractor import FeatureExtractor
    root = os.path.join(os.environ.get("WHISPER_SHARED_DIR", "../shared"),
                        "testdata", "speech")
    manifest = os.path.join(root, "MANIFEST.tsv")
    if not os.path.exists(manifest):
        print("no %s: skip" % manifest)
        sys.exit(SKIP)
    clips = []
    for line in open(manifest).read().splitlines()[1:]:
        f = line.split("\t")
        if f[0].startswith(prefix) and float(f[2]) < 29.5:
            clips.append((f[0], os.path.join(root, f[1])))
    if limit:
        clips = clips[:limit]
    multilingual = not os.path.basename(model.rstrip("/")).endswith(".en")
    ct2 = ctranslate2.models.Whisper(model, compute_type="float32")
    wm = WhisperModel(model, device="cpu", compute_type="float32")
    fe = FeatureExtractor(feature_size=80)
    refs, ours = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        state = {}                      # clip -> (features, content, seek)
        for cid, path in clips:
            audio = decode_audio(path, sampling_rate=16000)
            feat = fe(audio)
            state[cid] = [feat, feat.shape[-1] - 1, 0]
            ours[cid] = []
            segs, _ = wm.transcribe(audio, beam_size=beam, temperature=0,
                                    condition_on_previous_text=False,
                                    language=None if multilingual else "en")
            refs[cid] = [t for s in segs for t in s.tokens]
        # rounds of windows: every clip that is not finished gets its next
        # window (our seek), all decoded by one decoder-tool call
        for rnd in range(10):
            lst = []
            for cid, (feat, content, seek) in state.items():
                if seek >= content:
                    continue
                n = min(content - seek, 3000)
                seg = np.pad(feat[:, seek:seek + n], ((0, 0), (0, 3000 - n)))
                enc = np.array(ct2.encode(ctranslate2.StorageView.from_array(
                    np.ascontiguousarray(seg[None], dtype=np.float32))))[0]
                p = os.path.join(tmp, "%s.%d.f32" % (cid, rnd))
                enc.astype(np.float32).tofile(p)
                lst.append("%s %d" % (p, n))
            if not lst:
                break
            lst_path = os.path.join(tmp, "list.txt")
            open(lst_path, "w").write("\n".join(lst) + "\n")
            out = run_tool("windows", model, lst_path, "--beam", str(beam),
                           "--temperature", "0", "--no-condition", "--language",
                           "auto" if multilingual else "en")
            cur = None
            for line in out.splitlines():
                if line.startswith("== "):
                    cur = os.path.basename(line[3:]).rsplit(".", 2)[0]
                elif line.startswith("next_frame"):
                    # window frames are relative (start 0): advance the seek
                    state[cur][2] += int(line.split()[1])
                else:
                    ours[cur] += [int(x) for x in line.split("|")[2].split()]
    same = sum(1 for p in refs if ours.get(p) == refs[p])
    for p in refs:
        if ours.get(p) != refs[p]:
            print("DIFF %s" % os.path.basename(p))
    print("%s beam %d: %d/%d clips with identical tokens (%.1f%%)"
          % (prefix, beam, same, len(refs), 100.0 * same / max(len(refs), 1)))
    return 0 if same >= 0.9 * len(refs) else 1


def jfk_encoder_output(model, tmp):
    import numpy as np
    import ctranslate2
    from faster_whisper.audio import decode_audio
    from faster_whisper.feature_extractor import FeatureExtractor
    speech = os.path.join(os.environ.get("WHISPER_SHARED_DIR", "../shared"),
                          "testdata", "speech", "audio", "jfk.flac")
    if not os.path.exists(speech):
        print("no %s: skip" % speech)
        sys.exit(SKIP)
    audio = decode_audio(speech, sampling_rate=16000)
    cfg = json.load(open(os.path.join(model, "preprocessor_config.json"))) \
        if os.path.exists(os.path.join(model, "preprocessor_config.json")) else {}
    fe = FeatureExtractor(feature_size=cfg.get("feature_size", 80))
    feat = fe(audio)
    content_frames = feat.shape[-1] - 1      # as faster-whisper
    seg = feat[:, :min(content_frames, 3000)]
    if seg.shape[1] < 3000:
        seg = np.pad(seg, ((0, 0), (0, 3000 - seg.shape[1])))
    m = ctranslate2.models.Whisper(model, compute_type="float32")
    enc = np.array(m.encode(ctranslate2.StorageView.from_array(
        np.ascontiguousarray(seg[None], dtype=np.float32))))[0]
    path = os.path.join(tmp, "enc.f32")
    enc.astype(np.float32).tofile(path)
    return audio, path, min(content_frames, 3000)


def check_jfk(model, beam, prompt=None, without_timestamps=False):
    from faster_whisper import WhisperModel
    with tempfile.TemporaryDirectory() as tmp:
        audio, enc, frames = jfk_encoder_output(model, tmp)
        # multilingual: the language is detected (must be en), as
        # faster-whisper does with language=None
        out = run_tool("window", model, enc, "--beam", str(beam), "--frames",
                       str(frames), "--language", "auto",
                       *(["--prompt", prompt] if prompt else []),
                       *(["--no-timestamps"] if without_timestamps else []))
    if not out.splitlines()[-1].endswith("language en"):
        print("FAIL language: %s" % out.splitlines()[-1])
        return 1
    ours = []
    for line in out.splitlines():
        if line.startswith("next_frame"):
            continue
        t, text, toks, _ = line.split("|")
        t0, t1 = (int(x) for x in t.split())
        ours.append((t0, t1, text, [int(x) for x in toks.split()]))
    wm = WhisperModel(model, device="cpu", compute_type="float32")
    segs, _ = wm.transcribe(audio, beam_size=beam, temperature=0,
                            condition_on_previous_text=False,
                            without_timestamps=without_timestamps,
                            language=None,
                            initial_prompt=prompt)
    ref = [(round(s.start * 100), round(s.end * 100), s.text, s.tokens)
           for s in segs]
    fails = 0
    for s in ours:
        print("ours %5d %5d %r" % s[:3])
    for s in ref:
        print("fw   %5d %5d %r" % s[:3])
    if ours != ref:
        fails += 1
        print("FAIL segments differ from faster-whisper")
    text = "".join(s[2] for s in ours)
    if words(text) != JFK_WORDS.split():
        fails += 1
        print("FAIL words: %r" % text)
    print("jfk beam %d: %s" % (beam, text.strip()))
    return fails


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    case, name = sys.argv[1], sys.argv[2]
    model = name if os.path.isdir(name) else os.path.join(models_dir(), name)
    if not os.path.isdir(model):
        print("no model %s: skip" % model)
        return SKIP
    if case == "tokenizer":
        fails = check_tokenizer(model)
    elif case == "jfk":
        fails = check_jfk(model, int(sys.argv[3]),
                          sys.argv[4] if len(sys.argv) > 4 else None)
    elif case == "jfk-no-timestamps":
        fails = check_jfk(model, int(sys.argv[3]), without_timestamps=True)
    elif case == "devset":
        fails = check_devset(model, int(sys.argv[3]), sys.argv[4],
                             int(sys.argv[5]) if len(sys.argv) > 5 else 0)
    elif case == "longform":
        fails = check_longform(model, int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("unknown case " + case)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
