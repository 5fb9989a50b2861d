#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what gst-whisper-npu needs on Debian 12 (bookworm).
#
#   ./install-deps.sh           build + run dependencies (Debian packages)
#   ./install-deps.sh --tests   also the test tools: a Python venv with the
#                               reference implementations, and the tiny.en and
#                               base models in the models cache
#
# The venv and the models live in ${XDG_CACHE_HOME:-~/.cache}/gst-whisper-npu,
# never in the repository.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gst-whisper-npu"
with_tests=0
[ "${1:-}" = "--tests" ] && with_tests=1

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi

# Build and run.  The GStreamer elements the examples and tests use, and
# their packages, are listed in tests/accuracy/gst_requirements.py.
#   gstreamer1.0-tools         gst-launch-1.0, gst-inspect-1.0
#   gstreamer1.0-plugins-base  decodebin, typefinders, audioconvert,
#                              audioresample, audiotestsrc, appsrc/appsink,
#                              videotestsrc, subparse, rawaudioparse
#   gstreamer1.0-plugins-good  flacparse + flacdec, wavparse: decodebin's
#                              FLAC and WAV input (demo, transcribe.sh, tests)
#   gstreamer1.0-plugins-bad   srtenc, webvttenc
#   espeak-ng                  examples/demo.sh synthesises its recording
#   libjson-glib-dev           model side files (config.json, tokenizer.json)
packages="build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libjson-glib-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad libfftw3-dev libopenblas-dev zlib1g-dev
  python3 python3-venv python3-pip espeak-ng"
# Test only.
#   gstreamer1.0-x             textoverlay (libgstpango.so): e2e-overlay
#   stress-ng                  tests/bench/bench_load.py (busy cores)
#   clang libclang-rt-14-dev   the libFuzzer harnesses (tests/fuzz); gcc's
#                              ASan/UBSan/TSan come with build-essential
#   llvm                       llvm-symbolizer: sanitizer reports with lines
test_packages="gstreamer1.0-x stress-ng clang libclang-rt-14-dev llvm"
[ "$with_tests" -eq 1 ] && packages="$packages $test_packages"

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
# shellcheck disable=SC2086
$sudo apt-get install -y --no-install-recommends $packages

if [ "$with_tests" -eq 1 ]; then
  # Reference implementations used only by tests and benchmarks.
  if [ ! -x "$cache/venv/bin/python3" ]; then
    python3 -m venv "$cache/venv"
  fi
  "$cache/venv/bin/python3" -m pip install --quiet --upgrade pip
  "$cache/venv/bin/python3" -m pip install --quiet \
    "numpy>=1.26" "ctranslate2==4.8.5" "faster-whisper==1.2.1" \
    "jiwer==4.0.0" "whisper-normalizer==0.1.15"
  python3 "$here/models/tools/whisper-models" fetch tiny.en
  python3 "$here/models/tools/whisper-models" fetch base
fi
