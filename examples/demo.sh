#!/bin/sh
# The README's main job: synthesise a short English recording with espeak-ng
# (so nothing outside the machine is needed) and transcribe it to subtitles
# with the default model.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

espeak-ng -s 150 -w "$work/speech.wav" \
  "The quick brown fox jumps over the lazy dog. \
Whisper turns speech into text inside a GStreamer pipeline."
"$top/examples/transcribe.sh" "$work/speech.wav" "$work/speech.srt" tiny.en
