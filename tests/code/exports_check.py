#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The plugin exports only its GStreamer entry points.

The engine is linked into the plugin statically and built with
-fvisibility=hidden, so `nm -D --defined-only` on the plugin must list
gst_plugin_<name>_get_desc and gst_plugin_<name>_register and nothing else.

usage: exports_check.py PLUGIN.so
"""
import re
import subprocess
import sys

ALLOWED = re.compile(r"^gst_plugin_[a-z0-9_]+_(get_desc|register)$")


def main():
    out = subprocess.run(["nm", "-D", "--defined-only", sys.argv[1]],
                         check=True, capture_output=True, text=True).stdout
    symbols = [line.split()[-1] for line in out.splitlines() if line.strip()]
    extra = [s for s in symbols if not ALLOWED.match(s)]
    print("%d exported symbols: %s" % (len(symbols), ", ".join(symbols[:10])))
    if not symbols:
        print("FAIL: no plugin entry point exported")
        return 1
    if extra:
        print("FAIL: %d symbols beyond the plugin entry points, e.g. %s" % (
            len(extra), ", ".join(extra[:10])))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
