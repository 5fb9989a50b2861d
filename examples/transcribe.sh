#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Transcribe any audio/video file into SRT subtitles with the build tree's
# plugin.
#
#   examples/transcribe.sh INPUT [OUTPUT.srt] [MODEL]
#
# MODEL is a path or a known name (default tiny.en, see
# `models/tools/whisper-models list`).  Prints the subtitles when done.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
in=${1:?usage: transcribe.sh INPUT [OUTPUT.srt] [MODEL]}
out=${2:-${in%.*}.srt}
model=${3:-tiny.en}
export GST_PLUGIN_PATH="${GST_PLUGIN_PATH:-$top/build/gst}"

gst-launch-1.0 -q filesrc location="$in" ! decodebin ! audioconvert ! audioresample ! \
  whispermel ! whisperencnpu model="$model" ! whisperdec ! \
  srtenc ! filesink location="$out"
cat "$out"
