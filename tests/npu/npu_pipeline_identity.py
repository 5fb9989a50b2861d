#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Whole pipelines on the emulated NPU transcribe as the CPU's int8 path.

jfk and the two long-form recordings of $WHISPER_SHARED_DIR/testdata/speech
through `... ! whispermel ! whisperencnpu compute-type=int8 BACKEND !
whisperdec ! srtenc`, once with backend=cpu int8-attention=true (the NPU's
arithmetic) and once with backend=npu
(WHISPER_NPU_DEVICE=emulated, a kernel directory that whisper-npu-check
--write-emulated-kernels writes), default properties otherwise, tiny.en.
Pass: the same subtitles, byte for byte, and the NPU run says it used the
NPU.  Exit 77 without tiny.en or the test audio.

usage: npu_pipeline_identity.py NPU_CHECK
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "accuracy"))
from speech_ref import models_dir, shared_dir  # noqa: E402



def clip_paths(shared):
    audio = os.path.join(shared, "testdata", "speech", "audio")
    names = sorted(os.listdir(audio)) if os.path.isdir(audio) else []
    picked = [n for n in names if n == "jfk.flac" or n.startswith("longform-")]
    return [os.path.join(audio, n) for n in picked]


def transcribe(path, backend, out, env):
    desc = (f'filesrc location="{path}" ! decodebin ! audioconvert ! '
            f'audioresample ! whispermel ! whisperencnpu model=tiny.en '
            f'compute-type=int8 {backend} ! whisperdec ! srtenc ! '
            f'filesink location="{out}"')
    run = subprocess.run(["gst-launch-1.0", "-q"] + desc.split(" "),
                         env=env, capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        print(f"FAILED: {backend}: {run.stdout}{run.stderr}")
        return None
    if "npu" in backend and "NPU: emulated NPU" not in run.stderr:
        print(f"FAILED: {backend} did not log that it runs on the NPU")
        return None
    with open(out, encoding="utf-8") as f:
        return f.read()


def main():
    npu_check = sys.argv[1]
    shared = shared_dir()
    clips = clip_paths(shared)
    if not os.path.exists(os.path.join(models_dir(), "tiny.en", "model.bin")):
        print("SKIP: tiny.en not installed")
        return 77
    if len(clips) < 3:
        print("SKIP: jfk and the long-form recordings not found")
        return 77
    failed = 0
    with tempfile.TemporaryDirectory(prefix="npu-pipeline-") as tmp:
        kernels = os.path.join(tmp, "aie")
        subprocess.run([npu_check, "--write-emulated-kernels", kernels],
                       check=True)
        env = dict(os.environ, WHISPER_NPU_DEVICE="emulated",
                   GST_DEBUG="whisperencnpu:4", GST_DEBUG_NO_COLOR="1")
        for c in clips:
            name = os.path.basename(c)
            cpu = transcribe(c, "backend=cpu int8-attention=true",
                             os.path.join(tmp, "cpu.srt"), env)
            npu = transcribe(c, f"backend=npu kernel-dir={kernels}",
                             os.path.join(tmp, "npu.srt"), env)
            same = cpu is not None and cpu == npu and cpu.strip() != ""
            failed += not same
            words = len(cpu.split()) if cpu else 0
            print(f"{name:36s} {'same subtitles' if same else 'DIFFERENT'} "
                  f"({words} words of SRT)")
            if not same and cpu is not None and npu is not None:
                print("--- cpu\n" + cpu + "--- npu\n" + npu)
    print(f"{len(clips)} recordings, {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
