#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every source file of the project carries its licence as an SPDX line
within its first lines (C, headers, Python, shell, meson).

usage: spdx_check.py SOURCE_ROOT
"""
import os
import subprocess
import sys

TAG = "SPDX-License-Identifier: LGPL-2.1-or-later"
NAMES = ("meson.build", "meson_options.txt", "whisper-models", "run")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    try:
        files = subprocess.run(["git", "-C", root, "ls-files"], check=True,
                               capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        files = [os.path.relpath(os.path.join(d, n), root)
                 for d, _, ns in os.walk(root) if "/." not in d
                 for n in ns]
    missing, checked = [], 0
    for f in files:
        if not (f.endswith((".c", ".h", ".py", ".sh"))
                or os.path.basename(f) in NAMES):
            continue
        path = os.path.join(root, f)
        if not os.path.isfile(path):
            continue
        checked += 1
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = "".join(fh.readline() for _ in range(3))
        if TAG not in head:
            missing.append(f)
    for f in missing:
        print("FAIL: no SPDX line in", f)
    print("%d source files checked, %d without the SPDX line" % (
        checked, len(missing)))
    return 1 if missing or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
