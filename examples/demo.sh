#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's main job: synthesise a short English recording with espeak-ng
# (so nothing outside the machine is needed) and transcribe it to subtitles
# with the default model.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

espeak-ng -v en-us -s 130 -w "$work/speech.wav" \
  "Hello, and welcome. This recording was made by a speech synthesizer, \
and now it is turned into subtitles."
"$top/examples/transcribe.sh" "$work/speech.wav" "$work/speech.srt" tiny.en
