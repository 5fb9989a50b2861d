# SPDX-License-Identifier: LGPL-2.1-or-later
"""GStreamer elements the test scripts need, and the Debian package of each.

    from gst_requirements import require_elements
    require_elements(["decodebin", "flacdec", "srtenc"])

Each name is looked up with `gst-inspect-1.0 --exists NAME` (element
factories and typefinders such as audio/x-flac; the venv has no GStreamer
introspection).  A missing one is a FAILURE (exit 1), never a skip: the
test suite assumes ./install-deps.sh --tests, and a skipped test would hide
a package that install-deps.sh forgot.  Names of this project's
own elements are not listed here: the scripts check those against the
build tree themselves.
"""

import shutil
import subprocess
import sys

# element or typefinder -> Debian 12 package providing it (gst-inspect-1.0
# NAME | grep Filename; dpkg -S /usr/lib/x86_64-linux-gnu/gstreamer-1.0/...)
PACKAGES = {
    # libgstcoreelements.so
    "capsfilter": "libgstreamer1.0-0",
    "fakesink": "libgstreamer1.0-0",
    "filesink": "libgstreamer1.0-0",
    "filesrc": "libgstreamer1.0-0",
    "queue": "libgstreamer1.0-0",
    "tee": "libgstreamer1.0-0",
    "typefind": "libgstreamer1.0-0",
    # gstreamer1.0-plugins-base
    "appsink": "gstreamer1.0-plugins-base",        # libgstapp.so
    "appsrc": "gstreamer1.0-plugins-base",         # libgstapp.so
    "audioconvert": "gstreamer1.0-plugins-base",   # libgstaudioconvert.so
    "audiorate": "gstreamer1.0-plugins-base",      # libgstaudiorate.so
    "audioresample": "gstreamer1.0-plugins-base",  # libgstaudioresample.so
    "audiotestsrc": "gstreamer1.0-plugins-base",   # libgstaudiotestsrc.so
    "decodebin": "gstreamer1.0-plugins-base",      # libgstplayback.so
    "rawaudioparse": "gstreamer1.0-plugins-base",  # libgstrawparse.so
    "subparse": "gstreamer1.0-plugins-base",       # libgstsubparse.so
    "videoconvert": "gstreamer1.0-plugins-base",   # libgstvideoconvertscale.so
    "videotestsrc": "gstreamer1.0-plugins-base",   # libgstvideotestsrc.so
    # typefinders decodebin uses on the test audio (libgsttypefindfunctions.so)
    "audio/x-flac": "gstreamer1.0-plugins-base",
    "audio/x-wav": "gstreamer1.0-plugins-base",
    # gstreamer1.0-plugins-good
    "flacdec": "gstreamer1.0-plugins-good",        # libgstflac.so
    "flacparse": "gstreamer1.0-plugins-good",      # libgstaudioparsers.so
    "wavparse": "gstreamer1.0-plugins-good",       # libgstwavparse.so
    # gstreamer1.0-plugins-bad
    "srtenc": "gstreamer1.0-plugins-bad",          # libgstsubenc.so
    "webvttenc": "gstreamer1.0-plugins-bad",       # libgstsubenc.so
    # gstreamer1.0-x
    "textoverlay": "gstreamer1.0-x",               # libgstpango.so
}

# What `filesrc ! decodebin ! audioconvert ! audioresample` needs for every
# clip of ../shared/testdata/speech/audio (.flac and .wav).
DECODE_TEST_AUDIO = ["filesrc", "typefind", "decodebin", "audio/x-flac",
                     "flacparse", "flacdec", "audio/x-wav", "wavparse",
                     "audioconvert", "audioresample", "capsfilter"]


def missing_elements(names, env=None):
    """The names in @names that gst-inspect-1.0 --exists does not find."""
    return [n for n in names
            if subprocess.run(["gst-inspect-1.0", "--exists", n], env=env,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode != 0]


def require_elements(names, env=None):
    """Exit 1 with a FAIL line per missing element unless all of @names
    exist (with the environment @env, default this process's)."""
    if shutil.which("gst-inspect-1.0", path=(env or {}).get("PATH")) is None:
        print("FAIL: gst-inspect-1.0 is missing: install the Debian package "
              "gstreamer1.0-tools (./install-deps.sh installs it)", flush=True)
        sys.exit(1)
    missing = missing_elements(names, env)
    for n in missing:
        pkg = PACKAGES.get(n)
        if pkg:
            print("FAIL: element %s is missing: install the Debian package %s "
                  "(./install-deps.sh --tests installs it)" % (n, pkg),
                  flush=True)
        else:
            print("FAIL: element %s is missing (no Debian package known for "
                  "it in tests/accuracy/gst_requirements.py)" % n, flush=True)
    if missing:
        sys.exit(1)
