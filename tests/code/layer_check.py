#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The include rule of docs/architecture.md, checked from the #include lines.

Every C file of the engine belongs to one layer; a file may include headers
of its own layer and of layers below it, and models/whisper.h (which itself
includes no project header).  gst/ and examples/ include only whisper.h of
the engine.  Also fails on an include cycle between project headers and on
an include that names no file of the project or the system.

usage: layer_check.py [SOURCE_ROOT]
"""
import os
import re
import sys

# (layer, rank, path prefixes); a file's layer is the first match
LAYERS = [
    ("kernels", 0, ["kernels/"]),
    ("npu-tools", 6, ["npu-backend/whisper-npu-check."]),
    ("npu-device", 1, ["npu-backend/"]),
    ("frontend", 1, ["models/frontend/"]),
    ("files", 1, ["models/files/"]),
    ("encoder", 2, ["models/encoder/"]),
    ("tokenizer", 2, ["models/decoder/tokenizer."]),
    ("text-decoder", 3, ["models/decoder/decoder."]),
    ("search", 4, ["models/decoder/search."]),
    ("timing", 4, ["models/decoder/timing."]),
    ("transcribe", 5, ["models/decoder/transcribe."]),
    ("agreement", 5, ["models/decoder/agreement."]),
    ("stream", 5, ["models/decoder/stream."]),
    ("tools", 6, ["models/tools/"]),
]
API = "models/whisper.h"
# glue that sees the engine through the public header only
GLUE = ["gst/", "examples/"]
SOURCE_DIRS = ["kernels", "models", "npu-backend", "gst", "examples"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path):
    for name, rank, prefixes in LAYERS:
        if any(path.startswith(p) for p in prefixes):
            return name, rank
    return None, None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", ".."))
    files = []
    for d in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, d)):
            for n in names:
                if n.endswith((".c", ".h")):
                    files.append(os.path.relpath(os.path.join(dirpath, n), root))
    by_name = {}
    for f in files:
        by_name.setdefault(os.path.basename(f), []).append(f)

    errors = []
    graph = {}
    for f in sorted(files):
        text = open(os.path.join(root, f), encoding="utf-8").read()
        deps = []
        for inc in INCLUDE.findall(text):
            if inc == "config.h":
                continue
            # quoted includes are looked up beside the file first, then by
            # name over the include path
            beside = os.path.normpath(os.path.join(os.path.dirname(f), inc))
            targets = [beside] if beside in files else by_name.get(
                os.path.basename(inc), [])
            if len(targets) != 1:
                errors.append("%s: #include \"%s\" names %s" % (
                    f, inc, "no project file" if not targets else
                    "several files: " + ", ".join(targets)))
                continue
            deps.append(targets[0])
        graph[f] = deps

        for t in deps:
            if t == API:
                continue
            if f == API:
                errors.append("%s must include no project header (%s)" % (f, t))
            elif any(f.startswith(g) for g in GLUE):
                if not t.startswith(f.split("/")[0] + "/"):
                    errors.append("%s includes %s: gst/ and examples/ see the "
                                  "engine only through %s" % (f, t, API))
            else:
                fl, fr = layer_of(f)
                tl, tr = layer_of(t)
                if fl is None or tl is None:
                    errors.append("%s includes %s: file outside every layer "
                                  "(add it to LAYERS)" % (f, t))
                elif fl != tl and not tr < fr:
                    errors.append("%s (%s) includes %s (%s): only its own "
                                  "layer and lower ones" % (f, fl, t, tl))

    # cycles between headers
    state = {}

    def visit(node, stack):
        state[node] = 1
        for t in graph.get(node, []):
            if state.get(t) == 1:
                errors.append("include cycle: " + " -> ".join(
                    stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t, stack + [t])
        state[node] = 2

    for f in sorted(graph):
        if f not in state:
            visit(f, [f])

    for e in errors:
        print("FAIL:", e)
    n_inc = sum(len(v) for v in graph.values())
    print("%d files, %d project includes checked, %d violations" % (
        len(files), n_inc, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
